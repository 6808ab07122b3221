"""Attribution time per URL against local services (a dnslib DNS server, an RDAP server, generated MaxMind
databases), and the outbox's throughput into a real SMTP server (aiosmtpd), with `vigil jobs run` on SQLite.

    VIGIL=.build/release/vigil python3 bench/takedown/bench_takedown.py [N]

With SMTP_TLS=1 the sink insists on STARTTLS and a login (a certificate made for the run), as a real relay would.
"""
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "e2e"))
os.environ.setdefault("VIGIL_BIN", os.environ.get("VIGIL", ".build/release/vigil"))
from conftest import VIGIL, Server, free_port  # noqa: E402
from test_takedown import RDAP, Sink  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def main():
    from dnslib import A, QTYPE, RR
    from dnslib.server import BaseResolver, DNSLogger, DNSServer
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    class Zone(BaseResolver):
        def resolve(self, request, handler):
            reply = request.reply()
            if request.q.qtype == QTYPE.A:
                reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
            return reply

    work = tempfile.mkdtemp(prefix="vigil-bench-takedown-")
    dns_port = free_port()
    dns = DNSServer(Zone(), port=dns_port, address="127.0.0.1", logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False))
    dns.start_thread()
    rdap = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RDAP)
    threading.Thread(target=rdap.serve_forever, daemon=True).start()
    for name, kind, data in [("country.mmdb", "GeoLite2-Country", {"country": {"iso_code": "FR"}}),
                             ("asn.mmdb", "GeoLite2-ASN", {"autonomous_system_number": 64500, "autonomous_system_organization": "Example"})]:
        w = MMDBWriter(ip_version=4, database_type=kind, int_type="u32")
        w.insert_network(IPSet(["127.0.0.0/8"]), data)
        w.to_db_file(os.path.join(work, name))
    smtp_port = free_port()
    tls_flags = []
    if os.environ.get("SMTP_TLS"):
        import ssl
        cert, key_file = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key_file, "-out", cert], check=True, capture_output=True)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key_file)
        sink = Sink(smtp_port, tls=context, login=("bench", "bench secret"))
        tls_flags = ["--smtp-tls", "starttls", "--smtp-ca-file", cert, "--smtp-username", "bench", "--smtp-password", "bench secret"]
    else:
        sink = Sink(smtp_port)
    data = os.path.join(work, "data")
    settings = ["--data-dir", data, "--geoip-country-db", os.path.join(work, "country.mmdb"), "--geoip-asn-db", os.path.join(work, "asn.mmdb"),
                "--rdap-url", f"http://127.0.0.1:{rdap.server_address[1]}", "--dns-resolver", f"127.0.0.1:{dns_port}",
                "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), *tls_flags]
    # N real cases through the reports API (a server started for that, then stopped: the jobs run from the CLI).
    import urllib.request
    server = Server(extra_args=["--public-reports-per-hour", "100000"])
    data = os.path.join(server.dir, "data")
    settings[1] = data
    key = subprocess.run([VIGIL, "apikey", "create", "--partner", "bench", "--scopes", "reports:write", "--data-dir", data],
                         capture_output=True, text=True, check=True).stdout.split()[-1]
    body = json.dumps({"reports": [{"kind": "url", "url": f"http://site{i}.bench.test/p"} for i in range(1, N + 1)]}).encode()
    urllib.request.urlopen(urllib.request.Request(server.base + "/api/v1/reports", data=body, method="POST",
                                                  headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"}), timeout=120).read()
    server.proc.terminate()
    server.proc.wait(timeout=30)
    db = sqlite3.connect(os.path.join(data, "vigil.sqlite"))
    now = int(time.time() * 1000)
    for i in range(1, N + 1):
        db.execute("INSERT INTO jobs (name, payload, state, run_at_ms, attempts, max_attempts, created_ms, updated_ms)"
                   " VALUES ('case-attribute', ?, 'queued', 0, 0, 12, ?, ?)", (json.dumps({"case": i}), now, now))
    db.commit()

    def run(job):
        t = time.monotonic()
        out = subprocess.run([VIGIL, "jobs", "run", job, "--limit", str(N * 2), *settings], capture_output=True, text=True, timeout=3600)
        assert out.returncode == 0, out.stderr
        return time.monotonic() - t, out.stdout.strip()

    took, out = run("case-attribute")
    print(f"attribution: {out} in {took:.2f} s: {1000 * took / N:.1f} ms per URL (DNS A+AAAA, 2 MaxMind lookups, RDAP IP cached per"
          " address, RDAP domain lookups for the registrar)")
    for i in range(1, N + 1):
        db.execute("INSERT INTO jobs (name, payload, state, run_at_ms, attempts, max_attempts, created_ms, updated_ms)"
                   " VALUES ('notice-prepare', ?, 'queued', 0, 0, 12, ?, ?)", (json.dumps({"case": i}), now, now))
        db.execute("UPDATE hosting SET abuse_contact = ? WHERE case_id = ?", (f"abuse{i}@bench.test", i))
    db.commit()
    db.execute("UPDATE hosting SET source = 'analyst'")  # keep the per-case contacts when prepare re-attributes
    db.commit()
    took, out = run("notice-prepare")
    print(f"prepare: {out} in {took:.2f} s")
    took, out = run("notice-send")
    deadline = time.monotonic() + 120
    while len(sink.messages) < N and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sink.messages) == N, f"{len(sink.messages)} of {N} notices arrived: {out}"
    mode = "STARTTLS + AUTH" if tls_flags else "plain SMTP on loopback"
    print(f"outbox: {N} notices in {took:.2f} s: {N / took:.0f} notices/s into the SMTP sink ({mode}, one process, SQLite)")
    sink.stop()
    dns.stop()
    rdap.shutdown()


if __name__ == "__main__":
    main()
