#!/usr/bin/env bash
# The trusted hash set (#14): time-to-effect, and match throughput of the product paths beside the engine's.
#
#   VIGIL=.build/release/vigil bench/trusted-set/run.sh        (make bench runs it)
#
# For each set in $SETS (BenchMatch's generator: random_1m, random_10m), in one run:
#   1. the same hashes imported confirmed into a reviewed bank, a negative bank holding a near neighbour of 1% of
#      them, and `vigil serve` started on the database;
#   2. time to effect: a hash imported by another process until the server answers it (the server applies deltas
#      every 2 s), and a bank switched off until it stops answering;
#   3. match throughput on the same queries, banks and negative bank on. The engine's rate moves by a fifth from
#      minute to minute on a shared 2-core machine, so every pass of a product path follows a pass of the engine
#      (`BenchMatch pace`: the index built once, all cores, one pass over the queries per request), $PASSES times
#      over: `POST /api/v1/match` in batches of 1,000 from 4 and from 2 client connections (a platform keeps several
#      requests in flight; with 2 connections the server idles while each request travels), `vigil match` on the
#      database and `vigil match --against` the set as a file (both with --stats: the query phase, the start-up
#      reported beside it). Each path's share of the engine is the median of its pairs' ratios. The server and the
#      engine stay up, idle, while `vigil match` runs (three indexes in memory: about 3 GB at 10M).
# Environment: VIGIL (required), BENCH_BIN (BenchMatch; default: beside VIGIL), SETS ("random_1m random_10m"),
# QUERIES (20000 for 1M, a tenth of that for 10M: the generator's brute-force truth grows with both),
# PASSES (7), WORK (temporary folder), KEEP (keep it), PYTHON (python3).
set -euo pipefail
: "${VIGIL:?set VIGIL to the vigil binary (swift build -c release)}"
BENCH_BIN="${BENCH_BIN:-$(dirname "$VIGIL")/BenchMatch}"
[ -x "$BENCH_BIN" ] || { echo "BenchMatch not found at $BENCH_BIN (swift build -c release --product BenchMatch)"; exit 1; }
SETS="${SETS:-random_1m random_10m}"
PYTHON="${PYTHON:-python3}"
PASSES="${PASSES:-7}"
WORK="${WORK:-$(mktemp -d /tmp/vigil-trusted-bench.XXXXXX)}"
mkdir -p "$WORK"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

for SET in $SETS; do
case "$SET" in *_10m) Q="${QUERIES:-2000}" ;; *) Q="${QUERIES:-20000}" ;; esac
echo "== $SET, $Q queries"
DIR="$WORK/$SET"
DATA="$DIR/data"
mkdir -p "$DIR"
"$BENCH_BIN" generate --out "$DIR" --sets "$SET" --queries "$Q" >/dev/null
"$PYTHON" - "$DIR" "$SET" <<'PY'
import os, random, sys
work, name = sys.argv[1], sys.argv[2]
def hexes(path):
    data = open(path, "rb").read()
    return [data[i:i + 32].hex() for i in range(0, len(data), 32)]
hashes = hexes(os.path.join(work, name + ".bin"))
with open(os.path.join(work, "set.te"), "w") as f:
    f.writelines("pdq %s\n" % h for h in hashes)
with open(os.path.join(work, "fp.te"), "w") as f:   # a near neighbour of 1% of the set, as false positives
    f.writelines("pdq %064x\n" % (int(h, 16) ^ 0b111) for h in hashes[: max(1, len(hashes) // 100)])
with open(os.path.join(work, "queries.txt"), "w") as f:
    f.writelines("pdq:%s\n" % h for h in hexes(os.path.join(work, name + ".queries.bin")))
with open(os.path.join(work, "new.te"), "w") as f:
    f.write("pdq %064x\n" % random.Random(14).getrandbits(256))
PY

v() { "$VIGIL" "$@" --data-dir "$DATA"; }
v bank add bench --label "Benchmark set" --reviewed >/dev/null
v bank add fp-bench --kind negative --radius 4 --label "Benchmark false positives" >/dev/null
start=$(date +%s.%N)
v hashset import --format te "$DIR/set.te" --bank bench --confirm
echo "import: $(echo "$(date +%s.%N) - $start" | bc) s"
# Negative banks hold their hashes as records too: imported into the negative bank (their review does not matter).
v hashset import --format te "$DIR/fp.te" --bank fp-bench >/dev/null
KEY=$(v apikey create --partner Bench --scopes match:read | tail -1 | tr -d ' ')
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$VIGIL" serve --data-dir "$DATA" --port "$PORT" --log-level notice --api-requests-per-minute 100000000 >"$DIR/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 3000); do grep -q "match index ready" "$DIR/serve.log" && break; sleep 0.1; done
grep "match index ready" "$DIR/serve.log" || { cat "$DIR/serve.log"; exit 1; }

"$PYTHON" - "$DIR" "$PORT" "$KEY" "$VIGIL" "$DATA" <<'PY'
import json, os, subprocess, sys, time, urllib.request
work, port, key, vigil, data = sys.argv[1:6]
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
while not post([new])[0]["matched"]:   # the bank back on before throughput is measured
    time.sleep(0.05)
print(f"time to effect: addition {t_match - t_import:.2f} s after its import committed "
      f"({t_match - t0:.2f} s including the import command); bank off {t_silent - t_off:.2f} s")
PY

# Throughput: each product path's pass right after an engine pass, $PASSES times over; the share is the median of
# the pairs' ratios. The client does as little as it can: bodies made beforehand, one kept-alive connection per
# thread, matches counted in the raw answer (the 2 cores are shared with the server).
"$PYTHON" - "$DIR" "$SET" "$PORT" "$KEY" "$VIGIL" "$DATA" "$BENCH_BIN" "$PASSES" <<'PY'
import http.client, json, os, re, statistics, subprocess, sys, threading, time
work, name, port, key, vigil, data, bench, passes = sys.argv[1:9]
port, passes = int(port), int(passes)
queries = [l.strip()[4:] for l in open(os.path.join(work, "queries.txt"))]
engine = subprocess.Popen([bench, "pace", "--out", work, "--set", name], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
def engine_line():
    line = engine.stdout.readline()
    if not line:
        sys.exit(f"BenchMatch pace stopped (exit {engine.wait()})")
    return line
if not engine_line().startswith("ready"):
    sys.exit("BenchMatch pace did not start")
def engine_pass():
    engine.stdin.write("go\n"); engine.stdin.flush()
    return int(engine_line())
bodies = [json.dumps({"hashes": [{"algorithm": "pdq", "value": h} for h in queries[i:i + 1000]]}).encode()
          for i in range(0, len(queries), 1000)]
headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
matched = [0]
lock = threading.Lock()
def worker(part):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    for body in part:
        conn.request("POST", "/api/v1/match", body=body, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        assert r.status == 200, raw[:200]
        with lock:
            matched[0] += raw.count(b'"matched":true')
    conn.close()
def api(connections):
    matched[0] = 0
    t = time.monotonic()
    threads = [threading.Thread(target=worker, args=(bodies[i::connections],)) for i in range(connections)]
    for th in threads: th.start()
    for th in threads: th.join()
    assert matched[0] > 0, "no query matched"
    return len(queries) / (time.monotonic() - t)
def cli(*args):   # vigil match's query phase (--stats), without its start-up
    done = subprocess.run([vigil, "match", "--stats", *args, os.path.join(work, "queries.txt")],
                          capture_output=True, text=True)
    rates = re.findall(r"\(([0-9]+) queries/s\)", done.stderr)
    if done.returncode not in (0, 1) or not rates:   # 1: nothing matched
        sys.exit(f"vigil match {' '.join(args)} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return int(rates[-1])
paths = [
    ("POST /api/v1/match, batches of 1,000 from 4 connections", lambda: api(4)),
    ("POST /api/v1/match, batches of 1,000 from 2 connections", lambda: api(2)),
    ("vigil match (database), query phase", lambda: cli("--data-dir", data)),
    ("vigil match --against (file), query phase", lambda: cli("--against", os.path.join(work, "set.te"))),
]
worker(bodies[:1])   # warm
pairs = {label: [] for label, _ in paths}
for _ in range(passes):
    for label, measure in paths:
        e = engine_pass()
        pairs[label].append((measure(), e))
engine.stdin.close(); engine.wait()
engines = [e for v in pairs.values() for _, e in v]
print(f"engine (BenchMatch, all cores, {len(engines)} passes): median {statistics.median(engines):.0f} queries/s "
      f"(from {min(engines)} to {max(engines)})")
for label, v in pairs.items():
    ratios = sorted(a / e for a, e in v)
    print(f"{label}: {statistics.median(ratios):.2f} of the engine ({statistics.median(a for a, _ in v):.0f} "
          f"queries/s; pairs from {ratios[0]:.2f} to {ratios[-1]:.2f})")
PY
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
SERVER=
rm -f "$DIR/$SET.bin" "$DIR/$SET.queries.bin"
[ -n "${KEEP:-}" ] || rm -rf "$DIR"
done
