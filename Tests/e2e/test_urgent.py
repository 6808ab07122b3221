"""The urgent path as a hotline meets it at night: a member of the public reports a URL saying a child is in immediate
danger; the on-call analyst's mailbox (a real SMTP server, aiosmtpd) and a paging service's webhook (a loopback
receiver) get the alert within seconds; nobody acknowledges; after the (test-shortened) wait the next person and then
the law-enforcement liaison's 24/7 contact are alerted; the liaison acknowledges through the link; every step is in
the audit log, the chain verifies, and the time to acknowledge appears in the figures. Everything listens on loopback
only."""
import hashlib
import hmac
import http.server
import json
import os
import re
import sqlite3
import subprocess
import threading

from selenium.webdriver.common.by import By

from conftest import VIGIL, Server, free_port, totp
from test_federation import keep_session, resume_session
from test_hotline import add_user
from test_platform_core import enrol, fill, sign_in, submit
from test_takedown import Sink, wait_until

SECRET = "paging-secret"


class Pager(http.server.BaseHTTPRequestHandler):
    """A paging service's webhook: keeps each alert it is sent, with whether its signature was right."""
    calls = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        Pager.calls.append((json.loads(body), self.headers.get("X-Vigil-Signature") == expected))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_urgent_report_alerts_on_call_escalates_and_law_enforcement_acknowledges(browser):
    Pager.calls = []
    pager = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pager)
    threading.Thread(target=pager.serve_forever, daemon=True).start()
    smtp_port = free_port()
    sink = Sink(smtp_port)
    settings = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), "--smtp-from", "hotline@vigil.test",
                "--fetch-allow-cidrs", "127.0.0.0/8",
                "--urgent-alert-webhook", f"http://127.0.0.1:{pager.server_address[1]}/page",
                "--urgent-webhook-secret", SECRET, "--urgent-ack-minutes", "0.05",
                "--urgent-le-contact", "247@police.test", "--time-zone", "Europe/Paris"]
    server = Server(extra_args=settings)
    try:
        base = server.base
        sue = enrol(browser, add_user(server, "sue", "supervisor"), "sue password long")
        sign_in(browser, base, "sue", "sue password long", totp(sue, step_offset=1))
        # The supervisor puts two analysts on call around the clock, in order.
        for who in ("ana", "bob"):
            browser.get(base + "/rota")
            fill(browser, username=who, email=f"{who}@hotline.test")
            for box in browser.find_elements(By.CSS_SELECTOR, "input[name='days[]']"):
                box.click()
            browser.execute_script("document.getElementById('start').value = '00:00';"
                                   "document.getElementById('end').value = '00:00';")
            submit(browser, "#add-shift button[type=submit]")
            assert f"Shift added for {who}" in browser.page_source
        assert browser.find_element(By.ID, "on-duty").text == "ana, bob"
        keep_session(browser, "sue")   # TOTP codes are single-use: her session is resumed later, not signed in again

        # A member of the public reports, saying a child is in immediate danger.
        browser.delete_all_cookies()
        browser.get(base + "/report?lang=en")
        browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=url]").click()
        fill(browser, url="http://harmful-content.test/page")
        browser.find_element(By.CSS_SELECTOR, "input[name=danger]").click()
        submit(browser, "form.report-form button[type=submit]")
        assert "112" in browser.find_element(By.CSS_SELECTOR, "p.danger").text

        # Within seconds: the on-call analyst's mailbox and the paging webhook (signed), no content in either.
        wait_until(lambda: len(sink.messages) == 1 and len(Pager.calls) == 1, "the first alert", timeout=30)
        rcpt, content = sink.messages[0]
        assert rcpt == ["ana@hotline.test"]
        text = content.decode()
        assert "URGENT" in text and f"{base}/cases/1" in text and "harmful-content" not in text
        page, signed = Pager.calls[0]
        assert signed and page["case"] == 1 and page["step"] == 0 and page["to"] == "ana"
        assert "harmful-content" not in json.dumps(page)

        # Nobody acknowledges: after the wait, bob; after the next, law enforcement's 24/7 contact.
        def escalate():
            # The operator's `vigil jobs run` with the server's settings (its port makes the links the server's).
            r = subprocess.run([VIGIL, "jobs", "run", "urgent-escalate", "--data-dir", server.dir + "/data", *settings,
                                "--port", str(server.port)],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            return r.stdout
        for expected in (["bob@hotline.test"], ["247@police.test"]):
            count = len(sink.messages)
            wait_until(lambda: escalate() and len(sink.messages) > count, f"the alert to {expected}", timeout=30)
            assert sink.messages[-1][0] == expected
        assert [c[0]["step"] for c in Pager.calls] == [0, 1, 2] and all(ok for _, ok in Pager.calls)
        assert Pager.calls[2][0]["kind"] == "law-enforcement"

        # The liaison acknowledges through the link in the alert (not signed in; one click).
        link = re.search(r"(http://127\.0\.0\.1:\d+/urgent/[A-Za-z0-9_-]+)", sink.messages[-1][1].decode()).group(1)
        browser.delete_all_cookies()
        browser.get(link)
        submit(browser, "#acknowledge button[type=submit]")
        assert "Acknowledged by 247@police.test" in browser.find_element(By.ID, "acknowledged").text
        # Acknowledged: the escalation has nothing left to do, however long it waits.
        with sqlite3.connect(os.path.join(server.dir, "data", "vigil.sqlite")) as c:
            assert c.execute("SELECT state, ack_by FROM urgent_alerts").fetchall() == [("acknowledged", "247@police.test")]
        assert "urgent-escalate: 0 done" in escalate()
        assert len(sink.messages) == 3 and len(Pager.calls) == 3, "nobody else is alerted once acknowledged"

        # Every step is in the audit log, the chain verifies, and the figure appears.
        with sqlite3.connect(os.path.join(server.dir, "data", "vigil.sqlite")) as c:
            steps = [r[0] for r in c.execute("SELECT action FROM audit_events WHERE action LIKE 'urgent.%' ORDER BY seq")]
        # (the server's own minute tick may have marked it unanswered just before the liaison's click)
        assert [a for a in steps if a != "urgent.unanswered"] == [
            "urgent.raised", "urgent.alerted", "urgent.escalated", "urgent.escalated", "urgent.acknowledged"]
        r = subprocess.run([VIGIL, "audit", "verify", "--data-dir", server.dir + "/data"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        resume_session(browser, base, "sue")
        browser.get(base + "/takedown")
        row = browser.find_element(By.CSS_SELECTOR, "#urgent-ack tbody tr").text
        assert row.split()[1:3] == ["1", "1"], row
    finally:
        sink.stop()
        server.stop()
        pager.shutdown()
