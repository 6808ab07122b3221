#!/usr/bin/env bash
# The trusted hash set (#14): time-to-effect and match throughput with banks and review on.
#
#   VIGIL=.build/release/vigil bench/trusted-set/run.sh
#
# Generates $RECORDS random PDQ hashes (ThreatExchange lines), imports them confirmed into a reviewed bank, adds a
# negative bank with 1% of them as false positives, starts `vigil serve` and measures, in the same run:
#   1. time to effect: a new hash imported by another process until the server answers it (the server applies
#      deltas every 2 s), and a bank switched off until the server stops answering it;
#   2. match throughput: `POST /api/v1/match` in batches of 1,000 (2 client threads), `vigil match` on the
#      database, and `vigil match --against` the same list as a file, each on $QUERIES queries (half near a known
#      hash, half random), reported beside `BenchMatch`'s all-core rate on the same hashes when BENCH_BIN is given.
# Environment: VIGIL (required), RECORDS (1000000), QUERIES (20000), WORK (temporary folder), BENCH_BIN (optional),
# PYTHON (python3).
set -euo pipefail
: "${VIGIL:?set VIGIL to the vigil binary (swift build -c release --product vigil)}"
RECORDS="${RECORDS:-1000000}"
QUERIES="${QUERIES:-20000}"
PYTHON="${PYTHON:-python3}"
WORK="${WORK:-$(mktemp -d /tmp/vigil-trusted-bench.XXXXXX)}"
mkdir -p "$WORK"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
DATA="$WORK/data"

"$PYTHON" - "$WORK" "$RECORDS" "$QUERIES" <<'PY'
import os, random, sys
work, n, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(14)
hashes = [rng.getrandbits(256) for _ in range(n)]
with open(os.path.join(work, "set.te"), "w") as f:
    for h in hashes:
        f.write("pdq %064x\n" % h)
with open(os.path.join(work, "fp.te"), "w") as f:
    for h in hashes[: max(1, n // 100)]:
        f.write("pdq %064x\n" % (h ^ 0b111))          # a near neighbour of 1% of the set, as false positives
with open(os.path.join(work, "queries.txt"), "w") as f:
    for i in range(q):
        if i % 2 == 0:
            h = hashes[rng.randrange(n)]
            for _ in range(rng.randrange(0, 16)):
                h ^= 1 << rng.randrange(256)
        else:
            h = rng.getrandbits(256)
        f.write("pdq:%064x\n" % h)
with open(os.path.join(work, "new.te"), "w") as f:
    f.write("pdq %064x\n" % rng.getrandbits(256))
PY

v() { "$VIGIL" "$@" --data-dir "$DATA"; }
v bank add bench --label "Benchmark set" --reviewed >/dev/null
v bank add fp-bench --kind negative --radius 4 --label "Benchmark false positives" >/dev/null
start=$(date +%s.%N)
v hashset import --format te "$WORK/set.te" --bank bench --confirm
echo "import of $RECORDS records: $(echo "$(date +%s.%N) - $start" | bc) s"
# Negative banks hold their hashes as records too: imported into the negative bank (their review does not matter).
v hashset import --format te "$WORK/fp.te" --bank fp-bench >/dev/null
KEY=$(v apikey create --partner Bench --scopes match:read | tail -1 | tr -d ' ')
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$VIGIL" serve --data-dir "$DATA" --port "$PORT" --log-level notice --api-requests-per-minute 100000000 >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 1200); do grep -q "match index ready" "$WORK/serve.log" && break; sleep 0.1; done
grep "match index ready" "$WORK/serve.log" || { cat "$WORK/serve.log"; exit 1; }

"$PYTHON" - "$WORK" "$PORT" "$KEY" "$VIGIL" "$DATA" <<'PY'
import json, os, subprocess, sys, threading, time, urllib.request
work, port, key, vigil, data = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
base = f"http://127.0.0.1:{port}"
def post(hashes):
    body = json.dumps({"hashes": [{"algorithm": "pdq", "value": h} for h in hashes]}).encode()
    req = urllib.request.Request(base + "/api/v1/match", data=body, method="POST", headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())["results"]
new = open(os.path.join(work, "new.te")).read().split()[1]
t0 = time.monotonic()
subprocess.run([vigil, "hashset", "import", "--format", "te", os.path.join(work, "new.te"), "--bank", "bench",
                "--confirm", "--data-dir", data], check=True, capture_output=True)
t_import = time.monotonic()
while not post([new])[0]["matched"]:
    time.sleep(0.05)
t_match = time.monotonic()
subprocess.run([vigil, "bank", "disable", "bench", "--data-dir", data], check=True, capture_output=True)
t_off = time.monotonic()
while post([new])[0]["matched"]:
    time.sleep(0.05)
t_silent = time.monotonic()
subprocess.run([vigil, "bank", "enable", "bench", "--data-dir", data], check=True, capture_output=True)
print(f"time to effect: addition {t_match - t_import:.2f} s after its import committed "
      f"({t_match - t0:.2f} s including the import command); bank off {t_silent - t_off:.2f} s")
queries = [l.strip()[4:] for l in open(os.path.join(work, "queries.txt"))]
batches = [queries[i:i + 1000] for i in range(0, len(queries), 1000)]
post(batches[0][:1])
matched = [0]
lock = threading.Lock()
def worker(part):
    for b in part:
        n = sum(1 for r in post(b) if r["matched"])
        with lock:
            matched[0] += n
t = time.monotonic()
threads = [threading.Thread(target=worker, args=(batches[i::2],)) for i in range(2)]
for th in threads: th.start()
for th in threads: th.join()
dt = time.monotonic() - t
print(f"POST /api/v1/match: {len(queries) / dt:,.0f} queries/s ({matched[0]} matched of {len(queries)})")
PY

t=$(date +%s.%N)
"$VIGIL" match --data-dir "$DATA" "$WORK/queries.txt" >/dev/null || true
dt=$(echo "$(date +%s.%N) - $t" | bc)
echo "vigil match (database): $(echo "$QUERIES / $dt" | bc) queries/s including start-up ($dt s)"
t=$(date +%s.%N)
"$VIGIL" match --against "$WORK/set.te" "$WORK/queries.txt" >/dev/null || true
dt=$(echo "$(date +%s.%N) - $t" | bc)
echo "vigil match --against (file): $(echo "$QUERIES / $dt" | bc) queries/s including reading the list ($dt s)"
if [ -n "${BENCH_BIN:-}" ]; then
    echo "engine (BenchMatch, all cores) on random_1m: see bench/match (same machine, same run recommended)"
fi
