"""The policy pages as a policy maker, an administrator and a parent meet them, in a real browser, on a server
started with demonstration data: the national checklist with live evidence and its printed report, the global
legislation review, the awareness pages edited in French, the transparency page and its CSV, in four languages
and on a phone."""
import base64
import csv
import io
import re
import urllib.request

import pytest
from selenium.webdriver.common.by import By

from conftest import Server, totp
from test_hotline import add_user
from test_platform_core import enrol, fill, sign_in, submit


@pytest.fixture
def demo_server():
    s = Server(extra_args=["--demo-data", "--country", "FR", "--country-name", "France",
                           "--helpline-name", "Demo Helpline", "--helpline-number", "0800 000 000"])
    yield s
    s.stop()


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read().decode("utf-8")


def test_policy_maker_admin_and_parent(demo_server, browser):
    server = demo_server
    base = server.base

    # The administrator enrols and adds a supervisor (the policy lead).
    admin_secret = enrol(browser, server.setup_link, "admin password one")
    sup_secret = enrol(browser, add_user(server, "sam", "supervisor"), "sam password long")

    # --- The supervisor keeps the national checklist up to date.
    browser.delete_all_cookies()
    sign_in(browser, base, "sam", "sam password long", totp(sup_secret, step_offset=1))
    browser.get(base + "/checklist")
    items = browser.find_elements(By.CSS_SELECTOR, "article.checklist-item")
    assert len(items) == 14, "every key area and national checklist item"
    hotline = browser.find_element(By.CSS_SELECTOR, "#item-ka-3 .live").text
    m = re.search(r"Hotline reports received this quarter \(since [0-9-]+\): (\d+)", hotline)
    assert m and int(m.group(1)) > 0, hotline
    # The demo data has notices answered and a block list, so the live evidence shows them rather than "not in use".
    # (The demo's notices are three weeks old: early in a quarter they belong to the previous one.)
    assert "report to removal" in hotline, hotline
    assert re.search(r"Block-list entries \(verified, expiring\): \d+", hotline), hotline
    assert re.search(r"Items in the national hash set: 200", browser.find_element(By.CSS_SELECTOR, "#item-nc-6 .live").text)
    assert "France met 5 of 5 criteria in 2009" in browser.find_element(By.CSS_SELECTOR, "#item-nc-1 .live").text

    browser.find_element(By.CSS_SELECTOR, "#item-ka-3 details summary").click()
    browser.find_element(By.CSS_SELECTOR, "#st-ka-3 option[value=in-place]").click()
    browser.find_element(By.ID, "ev-ka-3").send_keys("National hotline open since 2026; see the transparency page.")
    browser.find_element(By.ID, "ln-ka-3").send_keys("https://example.test/hotline-decree")
    browser.find_element(By.ID, "ow-ka-3").send_keys("Ministry of Justice")
    submit(browser, "#item-ka-3 form button[type=submit]")
    assert "In place" in browser.find_element(By.CSS_SELECTOR, "#item-ka-3 .status").text
    browser.find_element(By.CSS_SELECTOR, "#item-ka-6 details summary").click()
    browser.find_element(By.CSS_SELECTOR, "#st-ka-6 option[value=in-progress]").click()
    submit(browser, "#item-ka-6 form button[type=submit]")
    assert "In progress" in browser.find_element(By.CSS_SELECTOR, "#item-ka-6 .status").text

    # The printable report, printed to PDF by the browser.
    browser.get(base + "/checklist/report")
    assert "National hotline open since 2026" in browser.find_element(By.ID, "report-ka-3").text
    pdf = base64.b64decode(browser.print_page())
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    browser.get(base + "/checklist/history")
    history = browser.find_element(By.ID, "checklist-history").text
    assert "Ministry of Justice" in history and "sam" in history

    # --- The global legislation review (public).
    browser.delete_all_cookies()
    browser.get(base + "/global-review?lang=en")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#review-table tbody tr")) == 187
    assert "ICMEC" in browser.find_element(By.ID, "review-source").text
    assert browser.find_element(By.CSS_SELECTOR, "#review-table tr.own th").text == "France"
    browser.find_element(By.CSS_SELECTOR, "#r-filter option[value=all-five]").click()
    submit(browser, "form.filters button[type=submit]")
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#review-table tbody th")]
    assert names == ["Australia", "Belgium", "France", "South Africa", "United States"]
    browser.find_element(By.CSS_SELECTOR, "#r-filter option[value=none]").click()
    submit(browser, "form.filters button[type=submit]")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#review-table tbody tr")) == 93
    assert browser.find_element(By.CSS_SELECTOR, ".chart-box svg")

    # --- The administrator edits the French parents' page; the public sees it.
    sign_in(browser, base, "admin", "admin password one", totp(admin_secret, step_offset=1))
    browser.get(base + "/admin/learn/parents/fr")
    area = browser.find_element(By.ID, "body")
    area.clear()
    area.send_keys("# Pour les parents\n\nParlez-en avec vos enfants : **vous comptez**. Appelez {helpline_name}.\n\n- [Faire un signalement](/report)\n")
    submit(browser, "button[value=preview]")
    assert "vous comptez" in browser.find_element(By.ID, "preview").text
    submit(browser, "button[value=save]")
    assert "Saved" in browser.page_source
    browser.delete_all_cookies()
    browser.get(base + "/learn/parents?lang=fr")
    text = browser.find_element(By.ID, "learn-text")
    assert "Parlez-en avec vos enfants" in text.text and "Demo Helpline" in text.text
    assert text.find_element(By.TAG_NAME, "strong").text == "vous comptez"
    assert text.find_element(By.CSS_SELECTOR, "a[href='/report']")
    browser.get(base + "/learn/parents?lang=en")
    assert "Parlez-en" not in browser.page_source

    # --- The transparency page: the demo data's figures, and the CSV matches the chart.
    browser.get(base + "/transparency?lang=en")
    fig = browser.find_element(By.ID, "fig-reports-per-month")
    chart = [r.get_attribute("data-value") for r in fig.find_elements(By.CSS_SELECTOR, "svg rect[data-value]")]
    table = [td.text for td in fig.find_elements(By.CSS_SELECTOR, "table.numbers tbody td")]
    assert chart == table and sum(int(v) for v in chart) > 0
    href = fig.find_element(By.CSS_SELECTOR, "a.csv").get_attribute("href")
    status, body = fetch(href)
    rows = list(csv.reader(io.StringIO(body)))
    assert status == 200 and rows[0] == ["Month", "Received", "Actionable"]
    assert [v for r in rows[1:] for v in r[1:]] == chart
    # The demo data includes notices answered within hours to two days, a block list and appeals.
    assert "Not in use yet" not in browser.find_element(By.ID, "fig-removal-time").text
    appeals = browser.find_element(By.ID, "fig-appeals")
    assert "Not in use yet" not in appeals.text and "rejected" in appeals.text
    assert "example.test" not in browser.page_source
    # The reader chooses the period (a form, no script).
    period = browser.find_element(By.ID, "period-shown").text
    browser.get(base + "/transparency?from=2020-01&to=2020-03&lang=en")
    assert "2020-01" in browser.find_element(By.ID, "period-shown").text and period != browser.find_element(By.ID, "period-shown").text

    # --- Every public page in four languages, right to left in Arabic.
    for lang in ["en", "fr", "es", "ar"]:
        for path in ["/learn", "/learn/young-people", "/learn/parents", "/learn/teachers", "/global-review", "/transparency"]:
            browser.get(f"{base}{path}?lang={lang}")
            html = browser.find_element(By.TAG_NAME, "html")
            assert html.get_attribute("lang") == lang, path
            assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr"), path
            assert browser.find_element(By.TAG_NAME, "h1").text.strip(), path

    # --- On a phone-sized screen nothing scrolls sideways.
    browser.set_window_size(390, 844)
    for path in ["/learn/parents?lang=ar", "/global-review?lang=fr", "/transparency?lang=es", "/learn?lang=en"]:
        browser.get(base + path)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
