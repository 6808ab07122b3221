"""Notice and takedown as an analyst and a supervisor meet it, with a real SMTP server (aiosmtpd) as the provider's
mailbox and a local web server as the reported site: the notice waits while the relay is down, is delivered once
when it is back, the page starts returning 404, the recheck marks it removed and the time appears in the figures.
Everything listens on loopback only."""
import email
import http.server
import json
import os
import sqlite3
import subprocess
import threading
import time
import urllib.request

from selenium.webdriver.common.by import By

from conftest import VIGIL, Server, free_port
from test_hotline import add_user
from test_platform_core import enrol, fill, sign_in, submit, totp


class Site(http.server.BaseHTTPRequestHandler):
    gone = False

    def do_GET(self):
        if Site.gone:
            self.send_response(404)
            self.end_headers()
            return
        body = b"<html><body>a harmless test page</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Sink:
    """An SMTP server that keeps every message it receives (with its envelope sender, and whether the session was
    encrypted and authenticated). With `tls`, it insists on STARTTLS and on authentication before accepting mail."""
    def __init__(self, port, tls=None, login=None, implicit_tls=None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult
        self.messages = []
        self.sessions = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append((envelope.rcpt_tos, envelope.content))
                sink.sessions.append({"from": envelope.mail_from, "tls": session.ssl is not None, "auth": session.authenticated})
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = login is not None and (auth_data.login.decode(), auth_data.password.decode()) == login
            return AuthResult(success=ok)
        extra = {}
        if tls is not None:
            extra = dict(tls_context=tls, require_starttls=True, authenticator=authenticate, auth_require_tls=True, auth_required=True)
        if implicit_tls is not None:
            extra = dict(ssl_context=implicit_tls)
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port, **extra)
        self.controller.start()

    def stop(self):
        self.controller.stop()


def jobs(server, *args, env=None):
    """`vigil jobs` with the server's own settings (an operator would keep them in vigil.toml)."""
    r = subprocess.run([VIGIL, "jobs", *args, "--data-dir", server.dir + "/data", *server.extra_args], capture_output=True, text=True, timeout=120,
                       env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr
    return r.stdout


def wait_until(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def assess_newest_case(browser, base, secret):
    """The analyst `ana` signs in, claims the newest case and assesses it illegal; returns the case page."""
    browser.delete_all_cookies()
    sign_in(browser, base, "ana", "ana password long", totp(secret, step_offset=1))
    browser.get(base + "/cases")
    browser.find_element(By.CSS_SELECTOR, "#queue tbody tr a").click()
    case_url = browser.current_url
    submit(browser, "button[value=claim]")
    browser.find_element(By.CSS_SELECTOR, "#outcome option[value=baseline]").click()
    submit(browser, "#assess-form button[type=submit]")
    return case_url


def request_notice(browser, base, users, contact):
    """The analyst assesses the newest case as illegal, records its hosting and requests a notice; returns the case page."""
    case_url = assess_newest_case(browser, base, users["ana"])
    fill(browser, country="FR", network="AS64500 Example Hosting", abuse_contact=contact)
    submit(browser, "#hosting-form button[type=submit]")
    assert contact in browser.find_element(By.ID, "abuse-contact").text
    submit(browser, "button[value=request-notice]")
    return case_url


def report(base, url):
    req = urllib.request.Request(base + "/api/v1/reports", data=json.dumps({"kind": "url", "url": url}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()


def test_notice_waits_for_the_relay_is_delivered_once_and_removal_is_measured(browser):
    Site.gone = False
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    site = httpd.server_address[1]
    smtp_port = free_port()
    # The lab's site is on loopback: the operator allows that range for rechecks (the default refuses it).
    settings = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), "--smtp-from", "hotline@vigil.test",
                "--fetch-allow-cidrs", "127.0.0.0/8"]
    server = Server(extra_args=settings)
    server.extra_args = settings
    sink = None
    try:
        base = server.base
        url = f"http://127.0.0.1:{site}/gallery/photo.html"
        report(base, url)
        users = {n: enrol(browser, add_user(server, n, r), f"{n} password long") for n, r in [("ana", "analyst"), ("sue", "supervisor")]}

        # The analyst assesses the case, records where it is hosted and asks for a notice.
        case_url = request_notice(browser, base, users, "abuse@host.test")

        # The relay is down: the notice waits and says why; nothing is lost.
        db = os.path.join(server.dir, "data", "vigil.sqlite")
        def last_error():
            with sqlite3.connect(db) as c:
                row = c.execute("SELECT last_error FROM notices").fetchone()
                return row[0] if row else None
        jobs(server, "run", "notice-prepare")
        jobs(server, "run", "notice-send")
        assert "connect" in (last_error() or ""), last_error()
        browser.get(case_url)
        assert "abuse@host.test" in browser.find_element(By.ID, "notices").text

        # The relay comes back: one notice, with the URL attached as CSV; running the job again sends nothing more.
        sink = Sink(smtp_port)
        jobs(server, "run", "notice-send")
        wait_until(lambda: len(sink.messages) == 1, "the notice")
        rcpt, content = sink.messages[0]
        assert rcpt == ["abuse@host.test"]
        msg = email.message_from_bytes(content)
        assert "Notice of child sexual abuse material" in msg["Subject"]
        attachments = [p for p in msg.walk() if p.get_filename() == "urls.csv"]
        assert len(attachments) == 1 and url in attachments[0].get_payload(decode=True).decode()
        jobs(server, "run", "notice-send")
        assert len(sink.messages) == 1, "nothing is sent twice"

        # The page is taken down; the recheck finds it gone and the notice is removed.
        Site.gone = True
        out = jobs(server, "run", "notice-recheck")
        assert "notice-recheck: 1 done" in out
        with sqlite3.connect(db) as c:
            assert c.execute("SELECT state FROM notices").fetchone()[0] == "removed"

        # The supervisor sees the report-to-removal time and the chart.
        browser.delete_all_cookies()
        sign_in(browser, base, "sue", "sue password long", totp(users["sue"], step_offset=1))
        browser.get(base + "/takedown")
        assert "1 noticed cases, 1 removed" in browser.find_element(By.ID, "overall").text
        assert browser.find_element(By.CSS_SELECTOR, "figure.chart svg")
        assert browser.find_element(By.ID, "median-days").text not in ("", "—")
    finally:
        if sink:
            sink.stop()
        server.stop()
        httpd.shutdown()


def test_notice_goes_over_starttls_with_authentication_and_its_bounce_comes_back(browser, tmp_path):
    _, tls = make_certificate(tmp_path)
    smtp_port = free_port()
    sink = Sink(smtp_port, tls=tls, login=("vigil", "relay secret"))
    settings = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), "--smtp-from", "hotline@hotline.test",
                "--smtp-tls", "starttls", "--smtp-ca-file", str(tmp_path / "cert.pem"), "--smtp-username", "vigil",
                "--notice-bounce-address", "bounces@hotline.test"]
    server = Server(extra_args=settings, env={"VIGIL_SMTP_PASSWORD": "relay secret"})
    server.extra_args = settings
    try:
        base = server.base
        report(base, "http://127.0.0.1:9/gone-mailbox/photo.html")
        users = {"ana": enrol(browser, add_user(server, "ana", "analyst"), "ana password long")}
        case_url = request_notice(browser, base, users, "abuse@gone-mailbox.test")

        # The relay insists on STARTTLS and a login before it takes mail: the notice arrives encrypted and authenticated,
        # sent from its own bounce address.
        env = {"VIGIL_SMTP_PASSWORD": "relay secret"}
        for name in ["notice-prepare", "notice-send"]:
            r = subprocess.run([VIGIL, "jobs", "run", name, "--data-dir", server.dir + "/data", *settings], capture_output=True, text=True,
                               timeout=120, env={**os.environ, **env})
            assert r.returncode == 0, r.stderr
        wait_until(lambda: len(sink.messages) == 1, "the notice")
        session = sink.sessions[0]
        assert session["tls"] and session["auth"], session
        assert session["from"].startswith("bounces+") and session["from"].endswith("@hotline.test"), session
        token = session["from"][len("bounces+"):-len("@hotline.test")]
        assert email.message_from_bytes(sink.messages[0][1])["X-Vigil-Notice"] == token

        # The provider's mail system bounces it; the operator's mailbox hands the bounce to Vigil with a bounces:write key.
        key = subprocess.run([VIGIL, "apikey", "create", "--partner", "bounce mailbox", "--scopes", "bounces:write",
                              "--data-dir", server.dir + "/data"], capture_output=True, text=True, timeout=60).stdout.split()[-1]
        dsn = (f"To: {session['from']}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
               "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n--B\r\n"
               "Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; abuse@gone-mailbox.test\r\n"
               "Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <abuse@gone-mailbox.test>: no such mailbox\r\n--B--\r\n")
        req = urllib.request.Request(base + "/api/v1/bounces", data=dsn.encode(), method="POST",
                                     headers={"Content-Type": "message/rfc822", "Authorization": f"Bearer {key}"})
        answer = json.load(urllib.request.urlopen(req, timeout=30))
        assert answer["matched"] and answer["permanent"] and answer["status"] == "5.1.1", answer

        # The analyst sees the bounce on the case.
        browser.get(case_url)
        notices = browser.find_element(By.ID, "notices").text
        assert "bounced" in notices and "no such mailbox" in notices, notices
    finally:
        sink.stop()
        server.stop()


def make_certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 and a server context that uses it."""
    import ssl
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True, timeout=60)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    return str(tmp_path / "cert.pem"), context


def test_mail_test_checks_the_relay_settings(tmp_path):
    cert, context = make_certificate(tmp_path)
    def mail_test(port, *flags, env=None):
        return subprocess.run([VIGIL, "mail", "test", "--to", "analyst@hotline.test", "--data-dir", str(tmp_path / "data"),
                               "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-from", "hotline@hotline.test", *flags],
                              capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})
    # Implicit TLS (port 465 style): the relay's certificate is checked against the CA file.
    port = free_port()
    sink = Sink(port, implicit_tls=context)
    try:
        ok = mail_test(port, "--smtp-tls", "tls", "--smtp-ca-file", cert)
        assert ok.returncode == 0, ok.stderr
        wait_until(lambda: len(sink.messages) == 1, "the test message")
        # (the server speaks nothing but TLS, so the message arriving is the proof)
        assert "test of the mail settings" in sink.messages[0][1].decode()
        # Without that CA the self-signed certificate is refused, and nothing is sent.
        refused = mail_test(port, "--smtp-tls", "tls")
        assert refused.returncode == 1 and "TLS" in refused.stderr, refused.stderr
        assert len(sink.messages) == 1
    finally:
        sink.stop()
    # STARTTLS with a login: a relay that wants one and gets none says so, and the reason is printed.
    port = free_port()
    sink = Sink(port, tls=context, login=("vigil", "right"))
    try:
        anonymous = mail_test(port, "--smtp-ca-file", cert)
        assert anonymous.returncode == 1 and "refused the sender" in anonymous.stderr, anonymous.stderr
        right = mail_test(port, "--smtp-ca-file", cert, "--smtp-username", "vigil", env={"VIGIL_SMTP_PASSWORD": "right"})
        assert right.returncode == 0, right.stderr
        wait_until(lambda: len(sink.messages) == 1, "the test message")
        assert sink.sessions[0]["tls"] and sink.sessions[0]["auth"]
    finally:
        sink.stop()


RDAP_ANSWER = {
    "objectClassName": "ip network", "handle": "TEST-NET", "startAddress": "127.0.0.0", "endAddress": "127.255.255.255",
    "entities": [{"objectClassName": "entity", "roles": ["registrant"], "entities": [{
        "objectClassName": "entity", "roles": ["abuse"],
        "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Abuse desk"],
                                 ["email", {}, "text", "abuse@example-hosting.test"]]]}]}],
}


RDAP_DOMAIN = {
    "objectClassName": "domain", "ldhName": "hosting.test",
    "entities": [{"objectClassName": "entity", "roles": ["registrar"],
                  "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Example Registrar"]]],
                  "entities": [{"objectClassName": "entity", "roles": ["abuse"],
                                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["email", {}, "text", "abuse@registrar.test"]]]}]}],
}


class RDAP(http.server.BaseHTTPRequestHandler):
    """A local RDAP server answering in the shape registries use (an abuse entity nested in the registrant; the
    registrar's abuse entity nested in the registrar); only the registered name has a domain object."""
    def do_GET(self):
        answer = RDAP_ANSWER if self.path.startswith("/ip/") else RDAP_DOMAIN if self.path == "/domain/hosting.test" else None
        body = json.dumps(answer).encode() if answer else b"{}"
        self.send_response(200 if answer else 404)
        self.send_header("Content-Type", "application/rdap+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_attribution_finds_country_network_and_abuse_contact(browser, tmp_path):
    from dnslib import A, CNAME, QTYPE, RCODE, RR
    from dnslib.server import BaseResolver, DNSServer
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    class Zone(BaseResolver):
        def resolve(self, request, handler):
            reply = request.reply()
            if str(request.q.qname).rstrip(".") == "www.hosting.test":
                reply.add_answer(RR("www.hosting.test.", QTYPE.CNAME, rdata=CNAME("edge.hosting.test."), ttl=60))
                if request.q.qtype == QTYPE.A:
                    reply.add_answer(RR("edge.hosting.test.", QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
            else:
                reply.header.rcode = RCODE.NXDOMAIN
            return reply

    dns_port = free_port()
    dns = DNSServer(Zone(), port=dns_port, address="127.0.0.1")
    dns.start_thread()
    rdap = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RDAP)
    threading.Thread(target=rdap.serve_forever, daemon=True).start()
    for name, kind, data in [("country.mmdb", "GeoLite2-Country", {"country": {"iso_code": "FR"}}),
                             ("asn.mmdb", "GeoLite2-ASN", {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Hosting"})]:
        w = MMDBWriter(ip_version=4, database_type=kind, int_type="u32")
        w.insert_network(IPSet(["127.0.0.0/8"]), data)
        w.to_db_file(str(tmp_path / name))
    smtp_port = free_port()
    sink = Sink(smtp_port)
    settings = ["--geoip-country-db", str(tmp_path / "country.mmdb"), "--geoip-asn-db", str(tmp_path / "asn.mmdb"),
                "--rdap-url", f"http://127.0.0.1:{rdap.server_address[1]}", "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port),
                "--notice-registrar", "true", "--fetch-allow-cidrs", "127.0.0.0/8"]
    dns_env = {"VIGIL_DNS_RESOLVER": f"127.0.0.1:{dns_port}"}
    server = Server(extra_args=settings, env=dns_env)
    server.extra_args = settings
    try:
        base = server.base
        report(base, "http://www.hosting.test/gallery/p.html")
        secret = enrol(browser, add_user(server, "ana", "analyst"), "ana password long")
        case_url = assess_newest_case(browser, base, secret)
        # The attribution job runs inside the server within seconds of the assessment.
        def attributed():
            browser.get(case_url)
            return bool(browser.find_elements(By.ID, "attribution"))
        wait_until(attributed, "attribution on the case page", timeout=60)
        hosting = browser.find_element(By.ID, "hosting").text
        assert "FR" in hosting and "AS64500 Example Hosting" in hosting and "abuse@example-hosting.test" in hosting
        assert browser.find_element(By.ID, "registrar-contact").text == "abuse@registrar.test"
        details = json.loads(browser.find_element(By.ID, "attribution").text)
        assert details["cnames"] == ["edge.hosting.test"] and details["addresses"] == ["127.0.0.1"]
        assert details["registrar"] == "Example Registrar"
        assert "case.attributed" in browser.find_element(By.ID, "timeline").text

        # The notice goes where attribution pointed, with nobody typing an address: the host's abuse desk, and the
        # registrar in its own notice.
        submit(browser, "button[value=request-notice]")
        jobs(server, "run", "notice-prepare", env=dns_env)
        jobs(server, "run", "notice-send", env=dns_env)
        wait_until(lambda: len(sink.messages) == 2, "the host's and the registrar's notices")
        assert sorted(rcpt for rcpts, _ in sink.messages for rcpt in rcpts) == ["abuse@example-hosting.test", "abuse@registrar.test"]
        for _, content in sink.messages:
            csv = [p for p in email.message_from_bytes(content).walk() if p.get_filename() == "urls.csv"][0]
            assert "http://www.hosting.test/gallery/p.html" in csv.get_payload(decode=True).decode()
    finally:
        sink.stop()
        server.stop()
        dns.stop()
        rdap.shutdown()
