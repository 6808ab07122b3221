"""The platform core as a new hotline would meet it: first start, admin setup with TOTP, a second user, lockout."""
import re
import signal
import subprocess
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import VIGIL, totp


def fill(browser, **fields):
    for name, value in fields.items():
        el = browser.find_element(By.NAME, name)
        el.clear()
        el.send_keys(value)


def submit(browser, selector="main form button[type=submit]"):
    """Clicks a submit button and waits for the next page to replace this one."""
    button = browser.find_element(By.CSS_SELECTOR, selector)
    button.click()

    def replaced(_):
        try:
            button.is_enabled()
            return False
        except Exception:  # stale, or no longer in the document: the next page is there
            return True

    WebDriverWait(browser, 15).until(replaced)


def enrol(browser, link, password):
    """Opens a setup link, sets the password, scans (reads) the secret, confirms with a code. Returns the secret."""
    browser.get(link)
    assert "Set up your account" in browser.page_source
    fill(browser, password=password, confirm=password)
    submit(browser)
    assert browser.find_element(By.CSS_SELECTOR, ".qr-box svg")
    secret = browser.find_element(By.ID, "totp-secret").text
    fill(browser, code=totp(secret))
    submit(browser)
    codes = browser.find_elements(By.CSS_SELECTOR, "#recovery-codes code")
    assert len(codes) == 10
    return secret


def sign_in(browser, base, username, password, code):
    browser.get(base + "/login")
    fill(browser, username=username, password=password)
    submit(browser)
    if "/login/code" not in browser.current_url:
        return
    fill(browser, code=code)
    submit(browser)


def test_first_start_admin_analyst_lockout(server, browser):
    base = server.base
    assert server.setup_link, "the first start must print a setup link:\n" + server.output()

    # The admin opens the setup link, sets a password and enrols TOTP.
    admin_secret = enrol(browser, server.setup_link, "admin password one")
    # Signs in (the enrolment used this time step; the next one is accepted and not a replay).
    sign_in(browser, base, "admin", "admin password one", totp(admin_secret, step_offset=1))
    assert browser.current_url.endswith("/dashboard"), browser.page_source
    assert browser.find_element(By.ID, "whoami").text == "admin"

    # Creates an analyst.
    browser.get(base + "/admin/users")
    fill(browser, username="ana")
    browser.find_element(By.CSS_SELECTOR, "#new-role option[value=analyst]").click()
    submit(browser, "form.inline button[type=submit]")
    link = browser.find_element(By.ID, "setup-link").text
    assert "/setup/" in link
    submit(browser, "form.signout button")

    # The analyst enrols; a wrong code is refused; the right one works.
    ana_secret = enrol(browser, link, "analyst password one")
    wrong = f"{(int(totp(ana_secret, step_offset=1)) + 1) % 1000000:06d}"
    sign_in(browser, base, "ana", "analyst password one", wrong)
    assert "That code is not right" in browser.page_source, browser.find_element(By.TAG_NAME, "main").text
    sign_in(browser, base, "ana", "analyst password one", totp(ana_secret, step_offset=1))
    assert browser.find_element(By.ID, "whoami").text == "ana"

    # The analyst cannot open admin pages, nor see them in the navigation.
    nav = browser.find_element(By.CSS_SELECTOR, "header nav").text
    assert "Users" not in nav and "Audit log" not in nav
    browser.get(base + "/admin/users")
    assert "You do not have access to this page." in browser.page_source
    browser.get(base + "/dashboard")
    submit(browser, "form.signout button")

    # Repeated bad passwords lock the account for a while, even with the right password; the page gives the same
    # answer as for a wrong password or an unknown name, so it does not confirm that the account exists.
    for _ in range(5):
        sign_in(browser, base, "ana", "not the password", "000000")
    refusal = "repeated failures lock it for a while"
    assert refusal in browser.find_element(By.CSS_SELECTOR, ".error").text
    sign_in(browser, base, "ana", "analyst password one", totp(ana_secret, step_offset=1))
    assert refusal in browser.find_element(By.CSS_SELECTOR, ".error").text
    assert "/login/code" not in browser.current_url
    sign_in(browser, base, "nobody-at-all", "not the password", "000000")
    assert refusal in browser.find_element(By.CSS_SELECTOR, ".error").text

    # The audit trail verifies from the command line.
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0, "SIGTERM must drain and exit 0"
    out = subprocess.run([VIGIL, "audit", "verify", "--data-dir", server.dir + "/data"], capture_output=True, text=True, cwd=server.dir)
    assert out.returncode == 0, out.stderr
    assert re.search(r"verified: \d+ events", out.stdout)


def test_pages_work_on_a_phone(server, browser):
    browser.set_window_size(390, 844)
    browser.get(server.base + "/login")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, "the sign-in page must not scroll sideways on a phone"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=username]").is_displayed()


def test_health_and_unknown_route(server):
    with urllib.request.urlopen(server.base + "/healthz") as r:
        assert r.status == 200
    try:
        urllib.request.urlopen(server.base + "/no/such/page")
        raise AssertionError("expected 404")
    except urllib.error.HTTPError as e:
        assert e.code == 404
        assert e.headers["X-Frame-Options"] == "DENY"


def test_oversized_body_gets_413(server):
    body = b"username=" + b"a" * (2 * 1024 * 1024) + b"&password=x"
    req = urllib.request.Request(server.base + "/login", data=body, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.urlopen(req)
        raise AssertionError("expected 413")
    except urllib.error.HTTPError as e:
        assert e.code == 413
