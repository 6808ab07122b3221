"""Three hotlines, three `vigil serve` installations on loopback (B on PostgreSQL), work a case together over the
federation protocol (docs/federation): a member of the public reports in A a URL hosted in B's country; A's analyst
assesses it and records where it is hosted, and the case is routed to B's hotline by itself, once a second analyst
confirmed it (A runs four eyes on partner referrals); B is down, so A retries; B comes back and gets the referral
once; B turns it into a case; B's analyst assesses it and sends a notice to the provider (a real SMTP server,
aiosmtpd); the page goes 404; B's recheck marks it removed; the 'received', 'assessed', 'notice sent' and 'removed'
statuses flow back to A without anyone typing them; A's case page shows "removed in XB" with the time and A's public
figures count it. Then C reports the same URL, routed to B by itself, and B answers 'known' with its outcome at once.
Everything listens on loopback only."""
import http.server
import json
import os
import sqlite3
import subprocess
import threading
import urllib.request

from selenium.webdriver.common.by import By

from conftest import VIGIL, Server, free_port
from test_platform_core import enrol, fill, sign_in, submit, totp
from test_scale_out import postgres  # noqa: F401  (the fixture)
from test_takedown import Sink, Site, assess_newest_case, wait_until

SETTINGS = ["--fetch-allow-cidrs", "127.0.0.0/8"]
EXTRA = {}  # a server's directory → the settings its `vigil jobs` runs need beyond SETTINGS (B's SMTP relay)


DB = {}  # a server's directory → its --database-url, for the one on PostgreSQL


def vigil(server_dir, *args):
    extra = ["--database-url", DB[server_dir]] if server_dir in DB else []
    r = subprocess.run([VIGIL, *args, "--data-dir", os.path.join(server_dir, "data"), *extra], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def public_key(server_dir):
    out = vigil(server_dir, "partner", "self")
    return next(line.split(": ", 1)[1].strip() for line in out.splitlines() if line.startswith("public key:"))


def api_key(server_dir, partner):
    return vigil(server_dir, "apikey", "create", "--partner", partner, "--scopes", "federation:send").split()[-1]


def rows(server_dir, sql):
    if server_dir in DB:
        port = DB[server_dir].rsplit(":", 1)[1].split("/")[0]
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", port, "-U", "vigil", "-d", "postgres", "-tA", "-F", "\t",
                              "-c", sql], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return [tuple(line.split("\t")) for line in out.stdout.splitlines() if line]
    with sqlite3.connect(os.path.join(server_dir, "data", "vigil.sqlite")) as c:
        return c.execute(sql).fetchall()


def add_user(server, name, role):
    """`vigil user add` on the server's own database (B's is PostgreSQL): the one-time setup link."""
    out = vigil(server.dir, "user", "add", "--username", name, "--role", role, "--port", str(server.port))
    return next(line.strip() for line in out.splitlines() if "/setup/" in line)


SESSIONS = {}  # (server, user) → the browser's cookies once signed in: one sign-in per user (TOTP codes are single-use)


def keep_session(browser, key):
    SESSIONS[key] = browser.get_cookies()


def resume_session(browser, base, key):
    """Back to a user's session on a server (the servers share the host 127.0.0.1, so cookies are swapped)."""
    browser.delete_all_cookies()
    browser.get(base + "/login")
    for c in SESSIONS[key]:
        browser.add_cookie({k: c[k] for k in ("name", "value", "path") if k in c})


def jobs_run(server, name):
    return vigil(server.dir, "jobs", "run", name, *SETTINGS, *EXTRA.get(server.dir, []))


def test_three_hotlines_refer_a_case_its_progress_flows_back_and_a_known_url_is_answered_at_once(browser, postgres):
    url_pg, _ = postgres
    # The reported page, on loopback; B's provider's mailbox, a real SMTP server.
    Site.gone = False
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    smtp_port = free_port()
    sink = Sink(smtp_port)
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), "--smtp-from", "hotline@xb.test"]
    a = Server(extra_args=[*SETTINGS, "--four-eyes", "list-entry,partner-referral"])
    b = Server(extra_args=[*SETTINGS, *smtp, "--database-url", url_pg])
    DB[b.dir] = url_pg
    EXTRA[b.dir] = smtp
    c = Server(extra_args=SETTINGS)
    try:
        # The two hotlines exchange keys, URLs and API keys out of band.
        vigil(a.dir, "partner", "add", "hotline-xb", "--country", "XB", "--url", b.base,
              "--public-key", public_key(b.dir), "--api-key", api_key(b.dir, "hotline-xa"), "--label", "Hotline XB")
        vigil(b.dir, "partner", "add", "hotline-xa", "--country", "XA", "--url", a.base,
              "--public-key", public_key(a.dir), "--api-key", api_key(a.dir, "hotline-xb"), "--label", "Hotline XA")
        vigil(c.dir, "partner", "add", "hotline-xb", "--country", "XB", "--url", b.base,
              "--public-key", public_key(b.dir), "--api-key", api_key(b.dir, "hotline-xc"), "--label", "Hotline XB")
        vigil(b.dir, "partner", "add", "hotline-xc", "--country", "XC", "--url", c.base,
              "--public-key", public_key(c.dir), "--api-key", api_key(c.dir, "hotline-xb"), "--label", "Hotline XC")
        url = f"http://127.0.0.1:{httpd.server_address[1]}/gallery/photo.jpg"
        req = urllib.request.Request(a.base + "/api/v1/reports", data=json.dumps({"kind": "url", "url": url}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=30).read()

        # A's analyst assesses the case and records that it is hosted in XB: the referral to B's hotline is proposed by
        # itself, and waits for a second analyst (four eyes).
        users_a = {n: enrol(browser, add_user(a, n, "analyst"), f"{n} password long") for n in ["ana", "amy"]}
        case_url = assess_newest_case(browser, a.base, users_a["ana"])
        fill(browser, country="XB", network="AS64500 Example Hosting", abuse_contact="abuse@host.test")
        submit(browser, "#hosting-form button[type=submit]")
        waiting = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "p.notice") if "Awaiting a second analyst" in e.text]
        assert waiting and "partner-referral:XB" in waiting[0], browser.page_source[:3000]
        assert rows(a.dir, "SELECT COUNT(*) FROM federation_outbox") == [(0,)], "nothing leaves before the second analyst"
        # B is down when the referral leaves: A keeps it and says why.
        b.proc.terminate()
        b.proc.wait(timeout=20)
        browser.delete_all_cookies()
        sign_in(browser, a.base, "amy", "amy password long", totp(users_a["amy"], step_offset=1))
        browser.get(case_url)
        submit(browser, "button[value=confirm]")
        keep_session(browser, "a-amy")
        wait_until(lambda: rows(a.dir, "SELECT attempts FROM federation_outbox") and
                   rows(a.dir, "SELECT attempts FROM federation_outbox")[0][0] >= 1, "A's first attempt")
        assert rows(a.dir, "SELECT state FROM federation_outbox") == [("pending",)]
        browser.get(case_url)
        assert "not delivered yet" in browser.find_element(By.ID, "partner-timeline").text

        # B comes back (same data, same port); A's next attempt delivers the referral, once.
        b.log = open(os.path.join(b.dir, "server.log"), "a+")
        b.proc = subprocess.Popen(
            [VIGIL, "serve", "--data-dir", os.path.join(b.dir, "data"), "--port", str(b.port), *SETTINGS, *smtp,
             "--database-url", url_pg],
            stdout=b.log, stderr=subprocess.STDOUT, env={**os.environ, "VIGIL_DNS_RESOLVER": "127.0.0.1:9"}, cwd=b.dir)
        wait_until(b._accepts, "B listening")
        # The back-off is 30 s after the first failure; an operator running the job tries now (the scheduler would
        # within a minute).
        jobs_run(a, "federation-deliver")
        wait_until(lambda: rows(a.dir, "SELECT state FROM federation_outbox") == [("delivered",)], "the referral delivered")
        wait_until(lambda: rows(b.dir, "SELECT state FROM federation_inbox") == [("done",)], "B to act on the referral")
        assert len(rows(b.dir, "SELECT message_id FROM federation_inbox")) == 1, "received exactly once"

        # B's queue has the case, from the partner hotline; B's analyst assesses it.
        users_b = {"bob": enrol(browser, add_user(b, "bob", "analyst"), "bob password long")}
        browser.delete_all_cookies()
        sign_in(browser, b.base, "bob", "bob password long", totp(users_b["bob"], step_offset=1))
        browser.get(b.base + "/cases")
        browser.find_element(By.CSS_SELECTOR, "#queue tbody tr a").click()
        b_case = browser.current_url
        assert "referred this to us" in browser.find_element(By.ID, "partner-timeline").text
        assert "hotline" in browser.find_element(By.ID, "reports").text
        submit(browser, "button[value=claim]")
        browser.find_element(By.CSS_SELECTOR, "#outcome option[value=baseline]").click()
        submit(browser, "#assess-form button[type=submit]")
        # and asks B's provider to take it down.
        fill(browser, country="XB", network="AS64500 Example Hosting", abuse_contact="abuse@host.test")
        submit(browser, "#hosting-form button[type=submit]")
        submit(browser, "button[value=request-notice]")

        # Without anyone typing them, B's statuses reach A: received, then assessed.
        jobs_run(b, "federation-process")
        jobs_run(b, "federation-deliver")
        wait_until(lambda: len(rows(a.dir, "SELECT message_id FROM federation_inbox WHERE type = 'status'")) == 2,
                   "B's statuses at A")
        resume_session(browser, a.base, "a-amy")
        browser.get(case_url)
        assert "partner-timeline" in browser.page_source, browser.page_source[:3000]
        timeline = browser.find_element(By.ID, "partner-timeline").text
        assert "referral sent: delivered" in timeline
        assert "received (their case" in timeline and "assessed there: baseline" in timeline, timeline

        # B's notice reaches the provider; the page goes; B's recheck marks it removed.
        jobs_run(b, "notice-prepare")
        jobs_run(b, "notice-send")
        wait_until(lambda: len(sink.messages) == 1, "B's notice at the provider")
        assert sink.messages[0][0] == ["abuse@host.test"]
        Site.gone = True
        assert "notice-recheck: 1 done" in jobs_run(b, "notice-recheck")
        assert rows(b.dir, "SELECT state FROM notices") == [("removed",)]

        # 'notice sent' and 'removed' reach A by themselves; A's case page and A's public figures show the removal.
        jobs_run(b, "federation-process")
        jobs_run(b, "federation-deliver")
        wait_until(lambda: len(rows(a.dir, "SELECT message_id FROM federation_inbox WHERE type = 'status'")) == 4,
                   "B's notice and removal statuses at A")
        resume_session(browser, a.base, "a-amy")
        browser.get(case_url)
        timeline = browser.find_element(By.ID, "partner-timeline").text
        assert "notice sent to the host at" in timeline and "removed in XB at" in timeline, timeline
        with urllib.request.urlopen(a.base + "/transparency/partner-referrals.csv", timeout=30) as r:
            figures = r.read().decode()
        assert ",1,1,1,1,0" in figures, figures   # referred, received there, removed, within 3 days, none to us

        # C's public reports the same address; C's analyst refers it to B, which already assessed it: 'known', at once.
        req = urllib.request.Request(c.base + "/api/v1/reports", data=json.dumps({"kind": "url", "url": url}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=30).read()
        users_c = {"ana": enrol(browser, add_user(c, "ana", "analyst"), "ana password long")}  # C's own ana
        c_case = assess_newest_case(browser, c.base, users_c["ana"])
        fill(browser, country="XB", network="AS64500 Example Hosting", abuse_contact="abuse@host.test")
        submit(browser, "#hosting-form button[type=submit]")   # routed to B by itself (no four eyes at C)
        wait_until(lambda: rows(c.dir, "SELECT state FROM federation_outbox") == [("delivered",)], "C's referral delivered")
        wait_until(lambda: len(rows(b.dir, "SELECT message_id FROM federation_inbox WHERE state = 'done'")) == 2,
                   "B to act on C's referral")
        jobs_run(b, "federation-deliver")
        wait_until(lambda: len(rows(c.dir, "SELECT message_id FROM federation_inbox WHERE type = 'known'")) == 1,
                   "B's 'known' at C")
        browser.get(c_case)
        assert "already known there: baseline" in browser.find_element(By.ID, "partner-timeline").text
        # B joined C's report to the case A's referral opened: one case for one address.
        assert rows(b.dir, "SELECT COUNT(*) FROM cases") in ([(1,)], [("1",)])

        # Every audit chain holds.
        for s in (a, b, c):
            vigil(s.dir, "audit", "verify")
        assert b_case
    finally:
        a.stop()
        b.stop()
        c.stop()
        sink.stop()
        httpd.shutdown()
