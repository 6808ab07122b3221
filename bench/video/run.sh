#!/usr/bin/env bash
# vPDQ (#16): `vigil hash --format vpdq` beside Meta's reference (PyPI vpdq, its C++ over the same FFmpeg) on the
# same synthetic videos, in one run, with the agreement of their output. Run by `make bench`.
#
#   VIGIL=.build/release/vigil bench/video/run.sh
#
# Vigil skips decoding frames no sampled frame depends on (non-reference frames, H.264/HEVC B-frames); the same run
# with VIGIL_VIDEO_DECODE=all decodes every frame, as the reference does, to show the effect.
#
# Then the frame index at scale: `BenchMatch frames` (synthetic clustered videos of 30-3,600 frames; 60-frame
# re-encoded clips answered on one core; memory per sampled frame; a brute-force scan of every stored frame for the
# same clips).
#
# Environment: VIGIL (required), SECONDS_LONG (length of the long video, 120), FAISS (1; 0 skips faiss
# IndexBinaryFlat over the same frames), FAISS_CLIPS (20), FRAMES (sampled frames in the frame
# index, 10000000; the issue's figure is 50000000, about 4 GB and 4 minutes), BENCH_BIN (BenchMatch; default beside
# VIGIL), WORK (temporary folder), KEEP.
# Videos are made by the `ffmpeg` program from its own sources (test pattern, fractal), never anything else.
set -euo pipefail
: "${VIGIL:?set VIGIL to the vigil binary (swift build -c release)}"
PYTHON="${PYTHON:-python3}"
LONG="${SECONDS_LONG:-120}"
WORK="${WORK:-$(mktemp -d /tmp/vigil-video-bench.XXXXXX)}"
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
"$PYTHON" -c 'import vpdq' 2>/dev/null || { echo "bench/video: pip install -r requirements-dev.txt (vpdq)"; exit 2; }
mk() { ffmpeg -v error -nostdin -f lavfi -i "$1" "${@:3}" -y "$WORK/$2"; }
mk "testsrc2=size=1280x720:rate=30:duration=$LONG" hd.mp4 -c:v libx264 -preset veryfast -pix_fmt yuv420p
mk "mandelbrot=size=640x360:rate=25" sd.mkv -t "$LONG" -c:v mpeg4 -q:v 3
for f in hd.mp4 sd.mkv; do
  "$PYTHON" - "$VIGIL" "$WORK/$f" <<'PY'
import os, resource, subprocess, sys, time, vpdq
vigil, path = sys.argv[1], sys.argv[2]
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime + s.ru_utime + s.ru_stime
c0, t0 = cpu(), time.monotonic()
out = subprocess.run([vigil, "hash", "--jobs", "1", "--format", "vpdq", path], capture_output=True, text=True,
                     check=True).stdout
ours_wall, ours_cpu = time.monotonic() - t0, cpu() - c0
# On all cores: one video alone decodes on every core (FFmpeg's frame threads), as `vigil hash` does by default.
t0 = time.monotonic()
out_all = subprocess.run([vigil, "hash", "--format", "vpdq", path], capture_output=True, text=True, check=True).stdout
ours_all = time.monotonic() - t0
# The effect of skipping frames no sampled frame depends on: the same run decoding every frame.
t0 = time.monotonic()
whole = subprocess.run([vigil, "hash", "--jobs", "1", "--format", "vpdq", path], capture_output=True, text=True, check=True,
                       env={**os.environ, "VIGIL_VIDEO_DECODE": "all"}).stdout
whole_wall = time.monotonic() - t0
rows = {}
for threads in (1, 0):
    c0, t0 = cpu(), time.monotonic()
    ref = vpdq.computeHash(path, seconds_per_hash=1, thread_count=threads)
    rows[threads] = (time.monotonic() - t0, cpu() - c0)
ours = [l.split(",") for l in out.splitlines()]
same = sum(1 for o, r in zip(ours, ref) if o[2] == r.hex and int(o[0]) == r.frame_number)
print(f"{os.path.basename(path)}: {len(ref)} frames hashed; vigil 1 thread {ours_wall:.2f} s wall, {ours_cpu:.2f} s "
      f"CPU; reference 1 thread {rows[1][0]:.2f} s wall, {rows[1][1]:.2f} s CPU; vigil/reference (1 thread) wall ratio "
      f"{ours_wall / rows[1][0]:.2f}; all cores: vigil {ours_all:.2f} s, reference {rows[0][0]:.2f} s (ratio "
      f"{ours_all / rows[0][0]:.2f}, output {'identical' if out_all == out else 'DIFFERENT'}); "
      f"identical frames {same}/{len(ref)}; "
      f"decoding every frame {whole_wall:.2f} s (skipping is {whole_wall / ours_wall:.2f}x faster, output "
      f"{'identical' if whole == out else 'DIFFERENT'})")
PY
done
BENCH_BIN="${BENCH_BIN:-$(dirname "$VIGIL")/BenchMatch}"
[ -x "$BENCH_BIN" ] || { echo "BenchMatch not found at $BENCH_BIN (swift build -c release --product BenchMatch)"; exit 1; }
echo "frame index, ${FRAMES:-10000000} sampled frames:"
mkdir -p "$WORK/frames"
line=$("$BENCH_BIN" frames --frames "${FRAMES:-10000000}" --queries 200 --out "$WORK/frames" | tail -1)
echo "$line"
# faiss IndexBinaryFlat over the same stored frames and clips, one thread (FAISS=0 skips it).
if [ "${FAISS:-1}" = 1 ] && "$PYTHON" -c 'import faiss, numpy' 2>/dev/null; then
  "$PYTHON" "$(dirname "$0")/faiss_frames.py" "$WORK/frames" "$line" --clips "${FAISS_CLIPS:-20}"
else
  echo "faiss rows skipped (FAISS=0, or pip install faiss-cpu numpy)"
fi
