#!/usr/bin/env bash
# Federation between hotlines (#15): how many referrals a receiving installation takes per second, and how long a
# referral takes to come back answered.
#
#   VIGIL=.build/release/vigil bench/federation/run.sh        (make bench runs it)
#
# Starts `vigil serve` as hotline B on loopback; a Python client plays hotline A with its own Ed25519 key, registered
# at B as a partner whose inbox is a small Python server. Measures, in one run:
#   1. inbox throughput: N signed referrals (distinct URLs) posted to B's POST /api/v1/federation/inbox from
#      CLIENTS connections: referrals/s accepted (each verified, kept once, audited);
#   2. processing: how long B's queue worker takes to turn them all into reports in cases and queue the answers;
#   3. round trip: one referral, until B's 'received' status arrives at A's inbox (B signs it; A checks the signature),
#      the median of ROUNDS.
# Environment: VIGIL (required), N (2000), CLIENTS (4), ROUNDS (5), WORK (temporary folder), KEEP, PYTHON (python3; needs
# `cryptography`).
set -euo pipefail
: "${VIGIL:?set VIGIL to the vigil binary (swift build -c release)}"
N="${N:-2000}"
CLIENTS="${CLIENTS:-4}"
ROUNDS="${ROUNDS:-5}"
PYTHON="${PYTHON:-python3}"
WORK="${WORK:-$(mktemp -d /tmp/vigil-federation-bench.XXXXXX)}"
mkdir -p "$WORK"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
DATA="$WORK/b"
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
A_PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
A_KEY=$("$PYTHON" -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
A_PUB=$("$PYTHON" -c 'import base64,sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
k = Ed25519PrivateKey.from_private_bytes(base64.b64decode(sys.argv[1]))
print(base64.b64encode(k.public_key().public_bytes_raw()).decode())' "$A_KEY")
B_PUB=$("$VIGIL" partner self --data-dir "$DATA" | awk '/^public key:/ {print $3}')
"$VIGIL" partner add hotline-xa --country XA --url "http://127.0.0.1:$A_PORT" --public-key "$A_PUB" \
    --api-key bench-token --data-dir "$DATA" >/dev/null
B_API=$("$VIGIL" apikey create --partner hotline-xa --scopes federation:send --data-dir "$DATA" | tail -1 | tr -d ' ')
"$VIGIL" serve --data-dir "$DATA" --port "$PORT" --log-level notice --fetch-allow-cidrs 127.0.0.0/8 \
    --api-requests-per-minute 100000000 >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do grep -q "listening on" "$WORK/serve.log" && break; sleep 0.1; done

"$PYTHON" - "$PORT" "$A_PORT" "$A_KEY" "$B_PUB" "$B_API" "$N" "$CLIENTS" "$ROUNDS" "$DATA/vigil.sqlite" <<'PY'
import base64, hashlib, http.client, http.server, json, sqlite3, statistics, sys, threading, time, uuid
from datetime import datetime, timezone
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
port, a_port, a_key, b_pub, b_api = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
n, clients, rounds, db = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]
key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(a_key))
raw = key.public_key().public_bytes_raw()
key_id = "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]
b_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(b_pub))

def canonical(v):  # RFC 8785 for ASCII keys, strings and integers
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()

def referral(i):
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    m = {"protocol": "vigil-federation/1", "id": str(uuid.uuid4()), "type": "referral", "from": "Bench A",
         "key_id": key_id, "signed_at": now, "case": f"case-{i}",
         "referral": {"items": [{"kind": "url", "value": f"http://files{i}.host.test/{i}.jpg"}],
                      "assessment": {"content_type": "image", "illegality": "baseline", "age_group": "prepubescent"},
                      "hosting": {"country": "XB"}, "media": [], "reported_at": now, "assessed_at": now}}
    c = canonical(m)
    return m["id"], b'{"message":' + c + b',"signature":"' + base64.b64encode(key.sign(c)) + b'"}'

statuses = {}
class Inbox(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        env = json.loads(body)
        b_key.verify(base64.b64decode(env["signature"]), canonical(env["message"]))  # B's signature holds
        m = env["message"]
        ref = (m.get("status") or m.get("known") or {}).get("referral")
        statuses.setdefault(ref, time.monotonic())
        self.send_response(202); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(json.dumps({"received": m["id"]}).encode())
    def log_message(self, *a): pass
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", a_port), Inbox)
threading.Thread(target=httpd.serve_forever, daemon=True).start()

def post(conn, body):
    conn.request("POST", "/api/v1/federation/inbox", body=body,
                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {b_api}"})
    r = conn.getresponse(); r.read()
    assert r.status == 202, r.status

# 3. round trip first, on a quiet server
trips = []
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for i in range(rounds):
    rid, body = referral(1_000_000 + i)
    t = time.monotonic()
    post(conn, body)
    while rid not in statuses:
        time.sleep(0.005)
    trips.append(statuses[rid] - t)
# 1. inbox throughput
bodies = [referral(i)[1] for i in range(n)]
def worker(part):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for b in part:
        post(c, b)
t = time.monotonic()
threads = [threading.Thread(target=worker, args=(bodies[k::clients],)) for k in range(clients)]
for th in threads: th.start()
for th in threads: th.join()
dt = time.monotonic() - t
# 2. processing: until B acted on every referral
while True:
    with sqlite3.connect(db) as c:
        left = c.execute("SELECT COUNT(*) FROM federation_inbox WHERE state = 'new'").fetchone()[0]
    if left == 0: break
    time.sleep(0.1)
dp = time.monotonic() - t
with sqlite3.connect(db) as c:
    cases = c.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
print(f"inbox: {n / dt:,.0f} referrals/s accepted ({n} from {clients} connections in {dt:.2f} s, each verified and kept once)")
print(f"processing: all {n} turned into reports in {cases} cases {dp:.2f} s after the first was posted ({n / dp:,.0f}/s)")
print(f"round trip: referral to B's signed 'received' at A, median {statistics.median(trips) * 1000:.0f} ms "
      f"(min {min(trips) * 1000:.0f}, max {max(trips) * 1000:.0f}; {rounds} rounds)")
PY
