#!/usr/bin/env bash
# Notice and takedown: attribution time per URL against local DNS/RDAP/MaxMind, and outbox throughput into aiosmtpd.
#   bench/takedown/run.sh      Environment: N (200), VIGIL (.build/release/vigil)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VIGIL="${VIGIL:-$ROOT/.build/release/vigil}"
[ -x "$VIGIL" ] || swift build -c release --product vigil >/dev/null
VIGIL="$VIGIL" python3 bench/takedown/bench_takedown.py "${N:-200}"
SMTP_TLS=1 VIGIL="$VIGIL" python3 bench/takedown/bench_takedown.py "${N:-200}"
