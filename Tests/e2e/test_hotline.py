"""The public hotline as a reporter, analysts and a law-enforcement liaison meet it, in a real browser."""
import json
import os
import signal
import subprocess
import threading
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By

from conftest import VIGIL, Server
from test_platform_core import enrol, fill, sign_in, submit, totp


def add_user(server, name, role):
    r = subprocess.run([VIGIL, "user", "add", "--username", name, "--role", role, "--data-dir", server.dir + "/data",
                        "--port", str(server.port)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return next(l.strip() for l in r.stdout.splitlines() if "/setup/" in l)


def report_url(browser, base, url, lang):
    browser.get(f"{base}/report?lang={lang}")
    browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=url]").click()
    fill(browser, url=url)
    submit(browser, "form.report-form button[type=submit]")
    return browser.find_element(By.ID, "reference").text


def test_report_in_arabic_join_assess_confirm_hold_refer(server, browser):
    base = server.base
    # A member of the public opens the site in Arabic: right to left.
    browser.get(base + "/?lang=ar")
    html = browser.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("dir") == "rtl" and html.get_attribute("lang") == "ar"
    ref1 = report_url(browser, base, "http://Example.TEST/gallery/%7Eimg/../photo.html", "ar")
    assert ref1.startswith("R-")
    # A second person reports the same page written differently.
    browser.delete_all_cookies()
    ref2 = report_url(browser, base, "http://example.test/gallery/~img/../photo.html#top", "en")
    assert ref2 != ref1
    # The reporter checks the status.
    browser.get(f"{base}/status?reference={ref1.lower()}&lang=en")
    assert "Received" in browser.find_element(By.ID, "status").text

    # Analysts and a liaison officer enrol (through the CLI's setup links, as an admin would hand them out).
    users = {}
    for name, role in [("ana", "analyst"), ("bob", "analyst"), ("leo", "le-liaison")]:
        users[name] = enrol(browser, add_user(server, name, role), f"{name} password long")

    def as_user(name):
        browser.delete_all_cookies()
        sign_in(browser, base, name, f"{name} password long", totp(users[name], step_offset=1))
        assert browser.find_element(By.ID, "whoami").text == name

    as_user("ana")
    browser.get(base + "/cases")
    rows = browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    assert len(rows) == 1, "the two reports joined one case"
    assert "2" in rows[0].text
    rows[0].find_element(By.CSS_SELECTOR, "a").click()
    case_url = browser.current_url
    submit(browser, "button[value=claim]")
    browser.find_element(By.CSS_SELECTOR, "#outcome option[value=national]").click()
    fill(browser, legal_provision="Penal Code s. 1")
    submit(browser, "#assess-form button[type=submit]")
    submit(browser, "button[value=propose-list-entry]")
    assert "Awaiting a second analyst" in browser.page_source

    as_user("bob")
    browser.get(case_url)
    submit(browser, "button[value=confirm]")
    assert "Decided" in browser.page_source
    # Need-to-know: the liaison sees the case once it is referred to law enforcement.
    submit(browser, "button[value=refer-law-enforcement]")

    as_user("leo")
    browser.get(case_url)
    fill(browser, reason="Operation Tern")
    submit(browser, "#hold-form button[type=submit]")
    assert "Operation Tern" in browser.find_element(By.ID, "hold").text
    browser.get(case_url + "/referral")
    assert "Referral package" in browser.page_source
    browser.get(case_url)
    timeline = browser.find_element(By.ID, "timeline").text
    for action in ["report.received", "report.joined", "case.claim", "case.assess", "case.confirm", "case.place-hold", "case.referral-downloaded"]:
        assert action in timeline, action

    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    out = subprocess.run([VIGIL, "audit", "verify", "--data-dir", server.dir + "/data"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_kill_9_loses_no_acknowledged_report():
    """Reports are posted continuously; the server is killed; every reference handed out is in the database."""
    s = Server(extra_args=["--public-reports-per-hour", "1000000"])
    acknowledged = []
    stop = threading.Event()

    def post_forever(worker):
        i = 0
        while not stop.is_set():
            body = json.dumps({"kind": "url", "url": f"http://site{worker}.test/page{i}"}).encode()
            req = urllib.request.Request(s.base + "/api/v1/reports", data=body, method="POST", headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    acknowledged.append(json.load(r)["results"][0]["reference"])
            except (urllib.error.URLError, ConnectionError, OSError):
                return
            i += 1

    threads = [threading.Thread(target=post_forever, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    # Kill once a good number of reports have been acknowledged (bounded: at most 30 s of posting).
    deadline = 30
    import time
    start = time.monotonic()
    while len(acknowledged) < 300 and time.monotonic() - start < deadline:
        time.sleep(0.05)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acknowledged) > 50
    import sqlite3
    db = sqlite3.connect(os.path.join(s.dir, "data", "vigil.sqlite"))
    stored = {r[0] for r in db.execute("SELECT reference FROM reports")}
    db.close()
    missing = [r for r in acknowledged if r not in stored]
    s.dir_keep = True
    s.stop()
    assert not missing, f"{len(missing)} acknowledged reports were lost"


def test_report_link_opens_the_form_filled_in_and_sends_nothing(server, browser):
    """A platform's report link opens the form in the browser filled in and not sent; the copy-paste snippet on
    /report/button is well-formed HTML, a plain link with no script and no event handler."""
    import html
    import sqlite3
    import xml.etree.ElementTree as ET
    from urllib.parse import quote
    page = "http://videos.example.test/watch/1"
    browser.get(f"{server.base}/report?kind=url&url={quote(page, safe='')}&service={quote('Example Videos')}&lang=es")
    assert browser.find_element(By.NAME, "url").get_attribute("value") == page
    assert browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=url]").is_selected()
    assert "Example Videos" in browser.find_element(By.ID, "prefilled").text
    assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "es"
    with sqlite3.connect(os.path.join(server.dir, "data", "vigil.sqlite")) as c:
        assert c.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 0, "nothing is sent without the reporter"

    browser.get(f"{server.base}/report/button")
    for lang in ("en", "fr", "es", "ar"):
        snippet = browser.find_element(By.ID, f"snippet-{lang}").text   # the text a web developer copies
        element = ET.fromstring(html.unescape(snippet).replace("&", "&amp;"))   # well-formed: one element, closed
        assert element.tag == "a" and element.get("href").startswith(server.base + "/report?kind=url&url=")
        assert f"lang={lang}" in element.get("href") and element.get("lang") == lang
        assert not any(k.lower().startswith("on") for k in element.attrib), element.attrib
        assert "<script" not in snippet.lower() and list(element) == []
