#!/usr/bin/env bash
# Benchmark for `vigil scan` (issue 8), run by `make bench`: one generated seized-drive-like tree, three tools.
#
#   VIGIL=.build/release/vigil bench/scan/run.sh                              # 20,000 files, about 2 GB
#   BENCH_SCAN_FILES=2000 BENCH_SCAN_MB=200 VIGIL=… bench/scan/run.sh         # quicker
#
# The tree (35% JPEG and 10% PNG photo-like pictures of various sizes, 30% text documents, 10% zip archives,
# 15% binaries; 50 planted known items and 50 re-encoded near-duplicates of set items) is generated in a temporary
# folder under /tmp, removed at the end (BENCH_SCAN_KEEP=1 keeps it). The page cache is warmed first, so the
# three runs compare CPU work, not the disk:
#   1. vigil scan (MD5, SHA-1, SHA-256 of every file, PDQ of every image, EXIF, matching, all reports), by default
#      and with --exact (full-size JPEG decode)
#   2. hashdeep -c md5,sha1,sha256 -r (digests only)
#   3. Pillow + pdqhash on the images only (the reference PDQ pipeline), one process per core
#   4. with BENCH_SCAN_VIDEO_MB (default 2000) of generated videos in the tree: vigil scan of the videos alone
#      against PyPI vpdq (one video per process, all cores); the whole-tree rows include the videos
# Goal: (1) takes no more time than (2). Needs: python3 with Pillow, numpy, pdqhash; hashdeep.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
VIGIL=${VIGIL:-.build/release/vigil}
FILES=${BENCH_SCAN_FILES:-20000}
MB=${BENCH_SCAN_MB:-2000}
PY=${PYTHON:-python3}
CORES=$(nproc)

[ -x "$VIGIL" ] || { echo "bench/scan: no executable at VIGIL=$VIGIL (build with: swift build -c release)" >&2; exit 2; }
"$PY" -c 'import pdqhash, PIL, numpy' || { echo "bench/scan: pip install -r requirements-dev.txt" >&2; exit 2; }
command -v hashdeep >/dev/null || { echo "bench/scan: apt-get install hashdeep" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench-scan.XXXXXX")
if [ "${BENCH_SCAN_KEEP:-0}" != 1 ]; then trap 'rm -rf "$WORK"' EXIT; fi
TREE="$WORK/drive"
echo "# bench/scan: $FILES files, about $MB MB; $CORES cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
gen_start=$(date +%s)
"$PY" "$HERE/scan_bench.py" gen "$TREE" "$FILES" "$MB" "$WORK/set.csv" "$WORK/near.txt"
# Videos (#16): BENCH_SCAN_VIDEO_MB of generated 60-second videos beside the drive (0 leaves them out): 720p H.264
# test patterns and 640x360 MPEG-4 fractals, from the ffmpeg program's own synthetic sources.
VMB=${BENCH_SCAN_VIDEO_MB:-2000}
if [ "$VMB" -gt 0 ]; then
    mkdir -p "$TREE/videos"
    i=0
    while [ "$(du -sb "$TREE/videos" | cut -f1)" -lt $((VMB * 1000000)) ]; do
        if [ $((i % 2)) = 0 ]; then
            ffmpeg -v error -nostdin -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=60" -c:v libx264 \
                -preset veryfast -pix_fmt yuv420p -y "$TREE/videos/clip_$i.mp4"
        else
            ffmpeg -v error -nostdin -f lavfi -i "mandelbrot=size=640x360:rate=25:start_scale=$((i % 7 + 1))" \
                -t 60 -c:v mpeg4 -q:v 3 -y "$TREE/videos/fractal_$i.mkv"
        fi
        i=$((i + 1))
    done
fi
find "$TREE" -type f -exec cat {} + >/dev/null   # page cache
n=$(find "$TREE" -type f | wc -l)
bytes=$(du -sb "$TREE" | cut -f1)
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "tree: $n files, $mb MB (generated in $(( $(date +%s) - gen_start )) s)"

secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>"$WORK/last.err" || [ $? = 1 ]; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'; }

# the reference pipeline first: it also gives the set the PDQ hashes of the near-duplicates' sources
read -r ref_s ref_images < <("$PY" "$HERE/scan_bench.py" reference "$TREE" "$WORK/ref.csv")
"$PY" "$HERE/scan_bench.py" add-pdq "$WORK/set.csv" "$WORK/ref.csv" "$WORK/near.txt"

hd_s=$(secs hashdeep -c md5,sha1,sha256 -r "$TREE")
vs_s=$(secs "$VIGIL" scan "$TREE" --case BENCH --examiner bench --out "$WORK/out" --against "$WORK/set.csv" --exact)
grep -v '^vigil scan: /' "$WORK/last.err" | head -5 >&2 || true
vf_s=$(secs "$VIGIL" scan "$TREE" --case BENCH --examiner bench --out "$WORK/out-fast" --against "$WORK/set.csv")

"$PY" - "$WORK/out/results.json" "$WORK/out-fast/results.json" <<'PY'
import json, sys
for label, path in zip(["--exact", "(default)"], sys.argv[1:]):
    r = json.load(open(path))
    print(f"vigil scan {label} classes:", r["summary"]["classes"], "problems:", r["summary"]["problems"])
PY

if [ "$VMB" -gt 0 ]; then
    nv=$(find "$TREE/videos" -type f | wc -l)
    vmb=$(du -sb "$TREE/videos" | awk '{ printf "%.1f", $1 / 1e6 }')
    vv_s=$(secs "$VIGIL" scan "$TREE/videos" --case BENCH --examiner bench --out "$WORK/out-videos" \
        --against "$WORK/set.csv")
    # The reference: PyPI vpdq (Meta's C++ over FFmpeg), one video per process, a pool of all cores.
    vr_s=$("$PY" - "$TREE/videos" "$CORES" <<'PY'
import multiprocessing, os, sys, time
def one(path):
    import vpdq
    return len(vpdq.computeHash(path, seconds_per_hash=1, thread_count=1))
root, cores = sys.argv[1], int(sys.argv[2])
paths = sorted(os.path.join(root, n) for n in os.listdir(root))
t = time.monotonic()
with multiprocessing.Pool(cores) as pool:
    frames = sum(pool.map(one, paths, chunksize=1))
print(f"{time.monotonic() - t:.2f}")
PY
)
fi

row() { awk -v l="$1" -v s="$2" -v n="$3" -v mb="$4" 'BEGIN { printf "%-48s %8.2f s %9.1f files/s %8.1f MB/s\n", l, s, n / s, mb / s }'; }
echo
row "vigil scan (digests+PDQ+EXIF+match+reports)" "$vf_s" "$n" "$mb"
row "vigil scan --exact (full-size JPEG decode)" "$vs_s" "$n" "$mb"
row "hashdeep -c md5,sha1,sha256 -r" "$hd_s" "$n" "$mb"
awk -v s="$ref_s" -v n="$ref_images" 'BEGIN { printf "%-48s %8.2f s %9.1f images/s (images only: %d)\n", "Pillow + pdqhash (pool of '"$CORES"')", s, n / s, n }'
if [ "$VMB" -gt 0 ]; then
    row "vigil scan videos/ (digests+vPDQ+match+reports)" "$vv_s" "$nv" "$vmb"
    row "vpdq (Meta's reference; pool of $CORES)" "$vr_s" "$nv" "$vmb"
    awk -v v="$vv_s" -v r="$vr_s" 'BEGIN { printf "videos: vigil scan takes %.2f of the reference'"'"'s time (%.2fx its throughput)\n", v / r, r / v }'
fi
awk -v v="$vs_s" -v f="$vf_s" -v h="$hd_s" -v r="$ref_s" 'BEGIN { printf "ratio to hashdeep: vigil scan %.2f, --exact %.2f;  to Pillow+pdqhash (images only): %.2f, --exact %.2f\n", f / h, v / h, f / r, v / r }'
