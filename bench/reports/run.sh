#!/usr/bin/env bash
# Sustained POST /api/v1/reports with wrk on loopback, against SQLite and PostgreSQL.
#   VIGIL=.build/release/vigil bench/reports/run.sh
# Environment: VIGIL (binary), DURATION (seconds, default 15), CONNECTIONS (default 32), THREADS (default 2).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VIGIL=${VIGIL:-$ROOT/.build/release/vigil}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
[ -x "$VIGIL" ] || { echo "bench/reports: no executable at VIGIL=$VIGIL" >&2; exit 2; }
command -v wrk >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

run_one() {  # $1 label, $2.. extra serve args
  local label=$1; shift
  local dir port pid
  dir=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$VIGIL" serve --data-dir "$dir/data" --port "$port" --public-reports-per-hour 100000000 --log-level warning "$@" >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$dir/log" && break; sleep 0.1; done
  echo "== $label: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency POST /api/v1/reports"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/bench/reports/post.lua" "http://127.0.0.1:$port" \
    | grep -E "Requests/sec|99%|50%|Non-2xx|Socket errors|requests in"
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$dir"
}

if [ "${1:-}" = "--postgres-inner" ]; then
  psql "$VIGIL_TEST_DATABASE_URL" -qc "CREATE DATABASE vigil_bench" >/dev/null
  run_one "PostgreSQL" --database-url "${VIGIL_TEST_DATABASE_URL%/postgres}/vigil_bench"
  exit 0
fi
run_one "SQLite (WAL)"
[ -n "${SKIP_POSTGRES:-}" ] || "$ROOT/scripts/with-postgres.sh" "$0" --postgres-inner
