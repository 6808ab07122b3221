"""The block list as analysts, an ISP's resolver and proxy, a blocked visitor and a site owner meet it: two analysts
propose and verify entries in a real browser; the signed feeds go into a real Unbound (RPZ) and a real Squid with
`vigil squid-helper`; the STOP page is shown in English and Arabic; an appeal with "suspend now" takes the entry out
of the next version. Everything listens on loopback only."""
import http.server
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import VIGIL, Server, free_port
from test_takedown import Sink
from test_hotline import add_user
from test_platform_core import enrol, fill, sign_in, submit, totp


def wait_for_port(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            assert proc.poll() is None, f"process exited with {proc.returncode}"
            time.sleep(0.05)
    raise AssertionError(f"nothing listening on {port}")


def dns_a(name, port):
    """A minimal DNS A query over UDP to 127.0.0.1:port. Returns (rcode, [addresses])."""
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) \
        + b"\0" + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(q, ("127.0.0.1", port))
        data, _ = s.recvfrom(4096)
    _, flags, qd, an, _, _ = struct.unpack(">HHHHHH", data[:12])

    def skip(i):
        while True:
            n = data[i]
            if n == 0:
                return i + 1
            if n & 0xC0 == 0xC0:
                return i + 2
            i += n + 1
    i = 12
    for _ in range(qd):
        i = skip(i) + 4
    out = []
    for _ in range(an):
        i = skip(i)
        t, _, _, rdl = struct.unpack(">HHIH", data[i:i + 10])
        i += 10
        if t == 1:
            out.append(socket.inet_ntoa(data[i:i + 4]))
        i += rdl
    return flags & 0xF, out


class Site(http.server.BaseHTTPRequestHandler):
    """Stands in for listed and unlisted web sites: every path answers 200 with a benign page."""
    def do_GET(self):
        body = b"<html><body>a harmless test page</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def get(url, key=None, headers=None):
    req = urllib.request.Request(url, headers={**({"Authorization": f"Bearer {key}"} if key else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture
def site():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield httpd.server_address[1]
    httpd.shutdown()


def post_report(base, url):
    req = urllib.request.Request(base + "/api/v1/reports", data=json.dumps({"kind": "url", "url": url}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status in (200, 201)


@pytest.mark.skipif(not shutil.which("unbound") and not os.path.exists("/usr/sbin/unbound"), reason="unbound not installed")
def test_two_analysts_feeds_unbound_squid_stop_and_appeal(browser, site):
    work = tempfile.mkdtemp(prefix="vigil-list-e2e-")
    os.chmod(work, 0o777)
    smtp_port = free_port()
    sink = Sink(smtp_port)
    mail = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port)]
    server = Server(extra_args=["--stop-ipv4", "127.0.0.1", "--canary-domain", "canary.vigil.test", *mail])
    procs = []
    try:
        base = server.base
        for url in ["http://bad.test/", "http://listed.test/gallery/a.html", "http://dentist.test/"]:
            post_report(base, url)
        users = {n: enrol(browser, add_user(server, n, r), f"{n} password long")
                 for n, r in [("ana", "analyst"), ("bob", "analyst"), ("sue", "supervisor")]}

        def as_user(name):
            browser.delete_all_cookies()
            sign_in(browser, base, name, f"{name} password long", totp(users[name], step_offset=1))

        # Analyst 1 proposes three entries from the cases the reports made.
        as_user("ana")
        browser.get(base + "/cases")
        cases = {}
        for row in browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr"):
            link = row.find_element(By.CSS_SELECTOR, "a").get_attribute("href")
            cases[row.text] = link.rsplit("/", 1)[-1]
        def case_for(host):
            return next(cid for text, cid in cases.items() if host.replace(".", "[.]") in text or host in text)
        proposals = [("domain", "bad.test", case_for("bad.test"), "A gallery site: every page is such material"),
                     ("url", "http://LISTED.test/gallery/a.html", case_for("listed.test"), ""),
                     ("domain", "dentist.test", case_for("dentist.test"), "Listed in error, as the appeal shows")]
        entry_urls = []
        for kind, target, case_id, reason in proposals:
            browser.get(base + "/list/new")
            Select(browser.find_element(By.ID, "kind")).select_by_value(kind)
            fill(browser, target=target, case_id=case_id)
            if reason:
                fill(browser, dedicated_reason=reason)
            submit(browser, "main form button[type=submit]")
            assert "Proposed" in browser.find_element(By.ID, "entry-state").text
            assert not browser.find_elements(By.ID, "verify"), "the proposer cannot verify their own entry"
            entry_urls.append(browser.current_url)

        # Analyst 2 verifies them: each is published.
        as_user("bob")
        for url in entry_urls:
            browser.get(url)
            submit(browser, "#verify")
            assert "in the current version" in browser.find_element(By.ID, "entry-state").text

        # An ISP gets a key and downloads the signed feeds.
        out = subprocess.run([VIGIL, "apikey", "create", "--partner", "ISP One", "--scopes", "feeds:read",
                              "--data-dir", server.dir + "/data", "--port", str(server.port)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        key = out.stdout.strip().splitlines()[-1].strip()
        status, _, public_key = get(base + "/api/v1/feeds/public-key")
        public_key = public_key.decode().strip()
        status, headers, rpz = get(base + "/api/v1/feeds/rpz", key)
        assert status == 200 and b"bad.test A 127.0.0.1" in rpz and b"dentist.test" in rpz and b"canary.vigil.test" in rpz
        version = int(headers["X-Vigil-List-Version"])
        assert get(base + "/api/v1/feeds/rpz", key, {"If-None-Match": headers["etag"]})[0] == 304

        # A real Unbound loads the zone: the listed domain answers the STOP address, an unlisted one answers normally.
        with open(os.path.join(work, "vigil.rpz"), "wb") as f:
            f.write(rpz)
        with open(os.path.join(work, "test.zone"), "w") as f:
            f.write("$ORIGIN test.\n$TTL 300\n@ IN SOA ns.test. hostmaster.test. ( 1 3600 600 604800 300 )\n@ IN NS ns.test.\n"
                    "ns A 127.0.0.1\ngood A 127.0.0.5\nbad A 127.0.0.6\nwww.bad A 127.0.0.6\n")
        dns_port = free_port()
        with open(os.path.join(work, "unbound.conf"), "w") as f:
            f.write(f"""server:
  interface: 127.0.0.1
  port: {dns_port}
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "{work}"
  pidfile: "{work}/unbound.pid"
  use-syslog: no
  logfile: ""
  module-config: "respip iterator"
  access-control: 127.0.0.0/8 allow
  local-zone: "test." nodefault
remote-control:
  control-enable: no
auth-zone:
  name: "test."
  zonefile: "{work}/test.zone"
  for-downstream: no
  for-upstream: yes
  fallback-enabled: no
rpz:
  name: "rpz.vigil."
  zonefile: "{work}/vigil.rpz"
  rpz-log: no
""")
        unbound = subprocess.Popen(["unbound", "-d", "-c", os.path.join(work, "unbound.conf")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(unbound)
        deadline = time.monotonic() + 20
        while True:
            try:
                if dns_a("good.test", dns_port)[1]:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and unbound.poll() is None, "unbound did not start"
        assert dns_a("good.test", dns_port) == (0, ["127.0.0.5"])
        assert dns_a("bad.test", dns_port) == (0, ["127.0.0.1"])
        assert dns_a("www.bad.test", dns_port) == (0, ["127.0.0.1"]), "subdomains of a listed domain too"

        # The visitor the resolver sent to the STOP address sees the STOP page for that host, and nothing is logged.
        status, _, body = get(base + "/any/page.html", headers={"Host": "bad.test", "Accept-Language": "en"})
        assert status == 451 and b"This page has been blocked" in body
        assert "bad.test" not in server.output() and "any/page" not in server.output()

        # A real Squid with vigil squid-helper (fetching the hashed list from the server with the key).
        squid_port = free_port()
        # Squid runs its helpers as its own user (proxy): give it a copy of the binary that user can surely execute.
        helper_bin = os.path.join(work, "vigil")
        shutil.copy(VIGIL, helper_bin)
        os.chmod(helper_bin, 0o755)
        with open(os.path.join(work, "hosts"), "w") as f:
            f.write("127.0.0.1 listed.test other.test\n")
        with open(os.path.join(work, "squid.conf"), "w") as f:
            f.write(f"""http_port 127.0.0.1:{squid_port}
pid_filename {work}/squid.pid
cache_log {work}/cache.log
access_log none
cache deny all
coredump_dir {work}
hosts_file {work}/hosts
dns_nameservers 127.0.0.1
url_rewrite_program {helper_bin} squid-helper --server {base} --api-key {key} --public-key {public_key}
url_rewrite_children 2 startup=1 idle=1 concurrency=10
http_access allow localhost
http_access deny all
shutdown_lifetime 1 seconds
""")
        squid = subprocess.Popen(["squid", "-N", "-f", os.path.join(work, "squid.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(squid)
        wait_for_port(squid_port, squid)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{squid_port}"}),
                                             NoRedirect())
        def via_proxy(url):
            try:
                with opener.open(url, timeout=30) as r:
                    return r.status, r.headers.get("Location")
            except urllib.error.HTTPError as e:
                return e.code, e.headers.get("Location")
        for listed in [f"http://listed.test:{site}/gallery/a.html", f"http://LISTED.test:{site}/gallery/%61.html",
                       f"http://listed.test:{site}/gallery/./a.html"]:
            assert via_proxy(listed) == (302, f"{base}/stop"), listed
        assert via_proxy(f"http://other.test:{site}/gallery/a.html")[0] == 200
        assert via_proxy(f"http://listed.test:{site}/gallery/b.html")[0] == 200, "an exact URL entry blocks only that URL"

        # The STOP page in English and Arabic, and an appeal from it.
        browser.delete_all_cookies()
        browser.get(base + "/stop?lang=ar")
        html = browser.find_element(By.TAG_NAME, "html")
        assert html.get_attribute("dir") == "rtl" and "تم حجب هذه الصفحة" in browser.page_source
        browser.get(base + "/stop?lang=en")
        assert "This page has been blocked" in browser.find_element(By.TAG_NAME, "h1").text
        browser.find_element(By.CSS_SELECTOR, "a[href='/appeal']").click()
        fill(browser, target="https://www.dentist.test/contact", grounds="This is my dental practice; nothing illegal is here.",
             contact="owner@dentist.test")
        submit(browser, "main form button[type=submit]")
        reference = browser.find_element(By.ID, "reference").text
        assert reference.startswith("A-")

        # A supervisor who listed nothing suspends the entry at once: the next version lacks it.
        as_user("sue")
        browser.get(base + "/list/appeals")
        assert reference in browser.page_source
        browser.find_element(By.ID, f"outcome-{reference}").send_keys("Suspended while we check.")
        submit(browser, "button[value=suspend]")
        status, headers, body = get(base + "/api/v1/feeds/json", key)
        after = json.loads(body)
        assert after["version"] > version
        assert "dentist.test" not in [e["value"] for e in after["entries"]]
        assert "bad.test" in [e["value"] for e in after["entries"]]
        status, _, diff = get(base + f"/api/v1/feeds/json?since={version}", key)
        assert json.loads(diff)["removed"] == [{"kind": "domain", "value": "dentist.test"}]
        browser.get(base + f"/appeal/status?reference={reference}")
        assert "Under review" in browser.find_element(By.ID, "status").text

        # The supervisor upholds it: the appellant is e-mailed the outcome, then their address is deleted.
        browser.get(base + "/list/appeals")
        browser.find_element(By.ID, f"outcome-{reference}").send_keys("A dental practice; listed in error.")
        submit(browser, "button[value=uphold]")
        # (the server's own worker may get there first; running the job by hand changes nothing then)
        out = subprocess.run([VIGIL, "jobs", "run", "appeal-outcome", "--data-dir", server.dir + "/data", *mail], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        deadline = time.monotonic() + 30
        while not sink.messages:
            assert time.monotonic() < deadline, "no outcome e-mail"
            time.sleep(0.1)
        assert len(sink.messages) == 1 and sink.messages[0][0] == ["owner@dentist.test"]
        assert b"upheld" in sink.messages[0][1] and b"listed in error" in sink.messages[0][1]

        # The partner compliance page shows the ISP's downloads.
        browser.get(base + "/list/partners")
        assert "ISP One" in browser.find_element(By.ID, "partners").text
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        server.stop()
        sink.stop()
        shutil.rmtree(work, ignore_errors=True)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_squid_helper_refuses_a_tampered_list_and_keeps_the_last_good_one(server):
    """The helper reads a file that is replaced by a tampered copy: the signature fails, the old list stays."""
    work = tempfile.mkdtemp(prefix="vigil-helper-")
    try:
        data = server.dir + "/data"
        good = os.path.join(work, "good.txt")
        r = subprocess.run([VIGIL, "feed", "export", "--format", "hashed", "--out", good, "--data-dir", data,
                            "--canary-domain", "canary.vigil.test"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        _, _, public_key = get(server.base + "/api/v1/feeds/public-key")
        live = os.path.join(work, "live.txt")
        shutil.copy(good, live)
        helper = subprocess.Popen([VIGIL, "squid-helper", "--file", live, "--public-key", public_key.decode().strip(),
                                   "--reload-seconds", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1)
        try:
            helper.stdin.write("7 http://canary.vigil.test/page GET\n")
            helper.stdin.flush()
            assert helper.stdout.readline().startswith("7 OK status=302")
            # The same file with its one prefix line removed: the signature no longer covers the bytes.
            lines = open(good, "rb").read().split(b"\n")
            with open(live, "wb") as f:
                f.write(b"\n".join(l for l in lines if not l.startswith(b"prefix ")))
            # wait for the refusal on stderr (the helper reloads every second)
            deadline = time.monotonic() + 30
            err = ""
            while "refused" not in err:
                assert time.monotonic() < deadline, "no refusal logged"
                ready, _, _ = select.select([helper.stderr], [], [], 1)
                if ready:
                    err += helper.stderr.readline()
            assert "signature" in err
            helper.stdin.write("8 http://www.canary.vigil.test/ GET\n")
            helper.stdin.flush()
            assert helper.stdout.readline().startswith("8 OK status=302"), "the last good list is still in use"
            helper.stdin.write("9 http://example.test/ GET\n")
            helper.stdin.flush()
            assert helper.stdout.readline().strip() == "9 ERR"
        finally:
            helper.stdin.close()
            helper.wait(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)
