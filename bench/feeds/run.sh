#!/usr/bin/env bash
# Block-list feeds: renders every format for 1 million entries (goal: all formats under 5 s) and measures the
# hashed-list lookup `vigil squid-helper` makes per request on one core (goal: 200,000 per second), then the
# helper end to end through its stdin/stdout protocol.
#
#   bench/feeds/run.sh            Environment: ENTRIES (1000000), LOOKUPS (2000000), SCRATCH (.build), OUT (bench/out/feeds)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
ENTRIES="${ENTRIES:-1000000}"
LOOKUPS="${LOOKUPS:-2000000}"
SCRATCH="${SCRATCH:-$ROOT/.build}"
OUT="${OUT:-$ROOT/bench/out/feeds}"
mkdir -p "$OUT"
swift build -c release --product BenchFeeds --scratch-path "$SCRATCH" >/dev/null
"$SCRATCH/release/BenchFeeds" "$ENTRIES" "$LOOKUPS" | tee "$OUT/results.tsv"
