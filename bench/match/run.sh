#!/usr/bin/env bash
# Benchmarks VigilMatch against faiss-cpu (IndexBinaryFlat and IndexBinaryMultiHash) on the same data files.
#
#   bench/match/run.sh
#
# Sets: 1M and 10M random 256-bit hashes and 10M clustered ones (families of 1-99 near-duplicates, 1-20 bits
# from their centre); 1,000 queries each (even positions planted near-duplicates at distances 0-31, odd
# positions random); radius 31; recall against brute force. Data, truth and results go to $OUT (git-ignored).
#
# Environment: OUT (bench/out/match), SETS ("random_1m random_10m clustered_10m"), JOBS (all cores),
# SCRATCH (the SwiftPM scratch path, .build), BENCH_BIN (a BenchMatch binary already built: skips the build),
# PYTHON (python3; needs `pip install faiss-cpu numpy`), MIH_MIN_FREE_GB (10: faiss MultiHash on 10M is
# skipped, with a note, when less memory is available), FAISS (0: VigilMatch rows only).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/bench/out/match}"
SETS="${SETS:-random_1m random_10m clustered_10m}"
JOBS="${JOBS:-$(nproc)}"
SCRATCH="${SCRATCH:-$ROOT/.build}"
PYTHON="${PYTHON:-python3}"
MIH_MIN_FREE_GB="${MIH_MIN_FREE_GB:-10}"
mkdir -p "$OUT"

if [ -n "${BENCH_BIN:-}" ]; then
    BIN="$BENCH_BIN"
else
    swift build -c release --product BenchMatch --scratch-path "$SCRATCH"
    BIN="$SCRATCH/release/BenchMatch"
fi

FAISS="${FAISS:-1}"
if [ "$FAISS" = 1 ] && ! "$PYTHON" -c "import faiss, numpy" 2>/dev/null; then
    echo "note: faiss-cpu/numpy missing (pip install faiss-cpu numpy); faiss rows skipped"
    FAISS=0
fi

rm -f "$OUT/results.jsonl"
for set in $SETS; do
    if [ ! -f "$OUT/$set.bin" ] || [ ! -f "$OUT/$set.truth.r31.txt" ]; then
        "$BIN" generate --out "$OUT" --sets "$set" --jobs "$JOBS"
    fi
    echo "== $set: VigilMatch"
    "$BIN" run --out "$OUT" --set "$set" --jobs "$JOBS"
    if [ "$FAISS" = 1 ]; then
        single=1000
        mih_free=2
        case "$set" in *_10m) single=200; mih_free="$MIH_MIN_FREE_GB" ;; esac
        echo "== $set: faiss IndexBinaryFlat"
        "$PYTHON" bench/match/faiss_bench.py --out "$OUT" --set "$set" --index flat --single-queries "$single" \
            --min-free-gb 2
        echo "== $set: faiss IndexBinaryMultiHash"
        "$PYTHON" bench/match/faiss_bench.py --out "$OUT" --set "$set" --index mih --nhash 16 --b 16 --nflip 1 \
            --single-queries "$single" --min-free-gb "$mih_free"
    fi
done
"$PYTHON" bench/match/summary.py "$OUT/results.jsonl"
