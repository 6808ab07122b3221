#!/usr/bin/env bash
# PDQ micro-benchmark (issue 4): the Swift PDQ hash of 1024x768 buffers, single core, against Meta's C++ core
# through its Python bindings (`pdqhash.compute`) on the same buffers, in the same run; prints the ratio.
#
#   bench/pdq/run.sh                       # 50 photo-like 1024x768 RGB buffers, best of 5 (Swift) / 3 (pdqhash)
#   BENCH_PDQ_N=20 bench/pdq/run.sh        # quicker
#
# Environment: BENCH_PDQ_N (50), BENCH_PDQ_BIN (a BenchPDQ binary already built: skips the build), SCRATCH (the
# SwiftPM scratch path, .build), PYTHON (python3 with numpy and pdqhash: pip install -r requirements-dev.txt).
# Both sides run in one process each, one thread (pinned to one core with taskset when available).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
N="${BENCH_PDQ_N:-50}"
SCRATCH="${SCRATCH:-$ROOT/.build}"
PY="${PYTHON:-python3}"
"$PY" -c 'import pdqhash, numpy' || { echo "bench/pdq: pip install -r requirements-dev.txt" >&2; exit 2; }

if [ -n "${BENCH_PDQ_BIN:-}" ]; then
    BIN="$BENCH_PDQ_BIN"
else
    swift build -c release --product BenchPDQ --scratch-path "$SCRATCH" >&2
    BIN="$SCRATCH/release/BenchPDQ"
fi
PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c 0); fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench-pdq.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "# bench/pdq: $N photo-like 1024x768 RGB buffers; single core; $(uname -m); $(nproc) cores"
"$PY" "$ROOT/bench/pdq/reference.py" make "$WORK/img" --count "$N"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "${PIN[@]}" "$BIN" "$WORK/img" --hashes "$WORK/swift.hashes" | tee "$WORK/swift.out"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "${PIN[@]}" "$PY" "$ROOT/bench/pdq/reference.py" time "$WORK/img" \
    --hashes "$WORK/swift.hashes" | tee "$WORK/ref.out"

# field NAME KEY FILE: the value of KEY=... on the line that starts with NAME.
field() { awk -v k="$1" -v f="$2" '$1 == k { for (i = 2; i <= NF; i++) if (index($i, f "=") == 1) { sub(/.*=/, "", $i); print $i } }' "$3"; }
for clock in wall cpu; do
    key=images_per_s
    [ "$clock" = cpu ] && key=cpu_images_per_s
    s=$(field swift.hash_luma $key "$WORK/swift.out")
    r=$(field swift.luma_and_hash_rgb $key "$WORK/swift.out")
    p=$(field pdqhash.compute_rgb $key "$WORK/ref.out")
    awk -v c="$clock" -v s="$s" -v r="$r" -v p="$p" 'BEGIN {
        printf "%s: ratio swift.hash_luma / pdqhash.compute = %.1fx; swift.luma_and_hash_rgb / pdqhash.compute (both from RGB) = %.1fx; swift hash of one 1024x768 luma buffer %.3f ms (goal < 2.5 ms)\n", c, s / p, r / p, 1000 / s
    }'
done
