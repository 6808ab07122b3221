#!/usr/bin/env bash
# Side-by-side benchmark for `vigil hash` (issue 4), run by `make bench`.
#
#   VIGIL=.build/release/vigil bench/hash/run.sh                 # 500 JPEGs + 500 PNGs, ~1.2 GB digest corpus
#   BENCH_HASH_N=100 BENCH_HASH_LARGE_MB=96 bench/hash/run.sh   # quicker
#
# Needs: a release `vigil` binary, python3 with Pillow, numpy and pdqhash (requirements-dev.txt), hashdeep, openssl.
# Files are generated in a temporary folder removed at the end (BENCH_HASH_KEEP=1 keeps it).
# Each line gives wall seconds and CPU seconds (user + system). On a machine shared with other work, the
# per-core rate (files / CPU seconds) of single-job runs is the figure to compare; wall time is reported too.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
VIGIL=${VIGIL:-.build/release/vigil}
N=${BENCH_HASH_N:-500}
LARGE_MB=${BENCH_HASH_LARGE_MB:-384}
CORES=$(nproc)
PY=${PYTHON:-python3}

[ -x "$VIGIL" ] || { echo "bench/hash: no executable at VIGIL=$VIGIL (build with: swift build -c release)" >&2; exit 2; }
"$PY" -c 'import pdqhash, PIL, numpy' || { echo "bench/hash: pip install -r requirements-dev.txt" >&2; exit 2; }
command -v hashdeep >/dev/null || { echo "bench/hash: apt-get install hashdeep" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench-hash.XXXXXX")
if [ "${BENCH_HASH_KEEP:-0}" != 1 ]; then trap 'rm -rf "$WORK"' EXIT; fi
echo "# bench/hash: $N JPEG + $N PNG photo-like 1024x768 images; $CORES cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" "$HERE/bench.py" gen "$WORK/files" --count "$N" --large-mb "$LARGE_MB"

timed() { "$PY" "$HERE/bench.py" time "$WORK/last.out" -- "$@"; }  # prints "wall cpu"
row() {  # row LABEL COUNT "wall cpu" UNIT
    awk -v l="$1" -v n="$2" -v w="${3% *}" -v c="${3#* }" -v u="$4" \
        'BEGIN { printf "%-52s %8.2f %8.2f %9.1f %9.1f  %s\n", l, w, c, n / w, n / c, u }'
}
header() { printf '%-52s %8s %8s %9s %9s\n' "$1" wall_s cpu_s per_wall_s per_cpu_s; }

echo
echo "## PDQ throughput (images per second)"
for set in jpeg png; do
    dir="$WORK/files/$set"
    find "$dir" -type f -exec cat {} + >/dev/null  # page cache
    header "[$set] pipeline"
    for mode in exact fast; do
        flag=""; [ "$mode" = fast ] && flag="--fast"
        for jobs in 1 "$CORES"; do
            r=$(timed "$VIGIL" hash --pdq-only $flag --jobs "$jobs" --format csv "$dir")
            cp "$WORK/last.out" "$WORK/vigil-$set-$mode-j$jobs.csv"
            row "vigil hash --pdq-only${flag:+ $flag} --jobs $jobs" "$N" "$r" images/s
        done
        r=$("$PY" "$HERE/bench.py" reference "$dir" "$mode" "$WORK/ref-$set-$mode.csv")
        label="Pillow + pdqhash.compute (1 process)"
        [ "$mode" = fast ] && label="Pillow draft(~512 px) + pdqhash.compute (1 process)"
        row "$label" "$N" "$r" images/s
    done
done

echo
echo "## PDQ bits moved (Hamming distance, same files)"
for set in jpeg png; do
    echo "[$set] vigil exact vs reference exact: $("$PY" "$HERE/bench.py" compare "$WORK/vigil-$set-exact-j1.csv" "$WORK/ref-$set-exact.csv")"
    echo "[$set] vigil fast  vs vigil exact:     $("$PY" "$HERE/bench.py" compare "$WORK/vigil-$set-fast-j1.csv" "$WORK/vigil-$set-exact-j1.csv")"
    echo "[$set] ref fast    vs ref exact:       $("$PY" "$HERE/bench.py" compare "$WORK/ref-$set-fast.csv" "$WORK/ref-$set-exact.csv")"
    if ! cmp -s "$WORK/vigil-$set-exact-j1.csv" "$WORK/vigil-$set-exact-j$CORES.csv"; then
        echo "[$set] WARNING: output differs between --jobs 1 and --jobs $CORES" >&2
    fi
done

echo
echo "## Digest throughput (MB/s, page-cached)"
corpus="$WORK/files"
find "$corpus" -type f -exec cat {} + >/dev/null
mb=$(du -sb "$corpus" | awk '{ printf "%.1f", $1 / 1e6 }')
echo "corpus: $(find "$corpus" -type f | wc -l) files, $mb MB (2000 small files, the images, 3 large files)"
header "command"
for jobs in 1 "$CORES"; do
    row "vigil hash --digests-only --jobs $jobs" "$mb" "$(timed "$VIGIL" hash --digests-only --jobs "$jobs" --format csv "$corpus")" MB/s
done
for jobs in 1 "$CORES"; do
    row "hashdeep -c md5,sha1,sha256 -r -j $jobs" "$mb" "$(timed hashdeep -c md5,sha1,sha256 -r -j "$jobs" "$corpus")" MB/s
done
echo "1-core physical limit, 1/(1/md5 + 1/sha1 + 1/sha256) from openssl speed -bytes 1048576:"
openssl speed -bytes 1048576 -seconds 2 md5 sha1 sha256 2>/dev/null | "$PY" "$HERE/bench.py" openssl-limit
