#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on a loopback port in a temporary folder, runs the given command
# with VIGIL_TEST_DATABASE_URL pointing at it, then stops and deletes the cluster.
# Usage: scripts/with-postgres.sh COMMAND [ARGS…]
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bindir" ] || { echo "with-postgres: PostgreSQL is not installed (scripts/install-deps.sh)" >&2; exit 1; }
dir=$(mktemp -d /tmp/vigil-pg.XXXXXX)
chmod 755 "$dir"
port=${VIGIL_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() { as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
as_pg "$bindir/initdb" -D "$dir/data" -U vigil --auth=trust -E UTF8 >/dev/null
as_pg "$bindir/pg_ctl" -D "$dir/data" -o "-k $dir -h 127.0.0.1 -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" -l "$dir/log" -w start >/dev/null
export VIGIL_TEST_DATABASE_URL="postgres://vigil@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port"
"$@"
