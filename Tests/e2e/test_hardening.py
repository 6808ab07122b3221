"""The hardening pass (issue 17) as an attacker and an operator meet it on a real `vigil serve`: the list check never
contacts a loopback server unless the operator allowed its range, the data folder is private, and behind a trusted
reverse proxy each client has its own throttle."""
import http.server
import os
import stat
import subprocess
import threading
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import VIGIL, Server
from test_blocklist import Site
from test_hotline import add_user
from test_platform_core import enrol, fill, sign_in, submit, totp


class Counting(Site):
    """A listed site on loopback that counts every request it receives."""
    hits = []

    def do_GET(self):
        Counting.hits.append(self.path)
        super().do_GET()


def run_job(server, name, env=None):
    r = subprocess.run([VIGIL, "jobs", "run", name, "--data-dir", server.dir + "/data"], capture_output=True,
                       text=True, timeout=120, env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr
    return r.stdout


def list_entry(browser, base, url, case_id):
    browser.get(base + "/list/new")
    Select(browser.find_element(By.ID, "kind")).select_by_value("url")
    fill(browser, target=url, case_id=case_id)
    submit(browser, "main form button[type=submit]")
    assert "Proposed" in browser.find_element(By.ID, "entry-state").text, browser.page_source[:2000]
    return browser.current_url


def test_list_check_never_contacts_a_private_address_unless_allowed(browser):
    Counting.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    server = Server()
    try:
        base = server.base
        first, second = f"http://127.0.0.1:{port}/first", f"http://127.0.0.1:{port}/second"
        for url in (first, second):
            req = urllib.request.Request(base + "/api/v1/reports", method="POST",
                                         data=f'{{"kind":"url","url":"{url}"}}'.encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                assert r.status == 201, "reports of private addresses are accepted"
        users = {n: enrol(browser, add_user(server, n, "analyst"), f"{n} password long") for n in ("ana", "bob")}

        def as_user(name):
            browser.delete_all_cookies()
            sign_in(browser, base, name, f"{name} password long", totp(users[name], step_offset=1))

        as_user("ana")
        browser.get(base + "/cases/1")
        assert "Vigil never fetches it" in browser.find_element(By.ID, "not-fetched").text
        entry = list_entry(browser, base, first, "1")
        entry2 = list_entry(browser, base, second, "2")
        as_user("bob")
        browser.get(entry)
        submit(browser, "#verify")

        # The check job, with the default policy: the listed loopback server is never contacted.
        assert "list-check: 1" in run_job(server, "list-check")
        assert Counting.hits == []
        browser.get(entry)
        assert "outbound-fetch policy" in browser.page_source

        # A lab allows its range: the second entry is fetched, on the port it was listed with.
        browser.get(entry2)
        submit(browser, "#verify")
        assert "list-check: 1" in run_job(server, "list-check", env={"VIGIL_FETCH_ALLOW_CIDRS": "127.0.0.0/8"})
        assert Counting.hits == ["/second"]
    finally:
        server.stop()
        httpd.shutdown()


def test_data_folder_is_private_and_an_old_one_is_tightened():
    server = Server()
    data = os.path.join(server.dir, "data")
    try:
        assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
        for name in os.listdir(data):
            mode = stat.S_IMODE(os.stat(os.path.join(data, name)).st_mode)
            assert mode & 0o077 == 0, f"{name} is {oct(mode)}"
        assert os.path.exists(os.path.join(data, "vigil.sqlite"))
    finally:
        server.proc.terminate()
        server.proc.wait(timeout=20)
    # An installation made before: world-readable files in a 0755 folder are tightened at the next start.
    os.chmod(data, 0o755)
    os.chmod(os.path.join(data, "vigil.sqlite"), 0o644)
    r = subprocess.run([VIGIL, "user", "list", "--data-dir", data], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(data, "vigil.sqlite")).st_mode) == 0o600
    server.log.close()


def test_trusted_proxy_gives_each_client_its_own_throttle():
    server = Server(extra_args=["--trusted-proxies", "127.0.0.1/32"])
    try:
        def lookup(forwarded):
            req = urllib.request.Request(server.base + "/api/v1/reports/R-7KQ4-M2XD",
                                         headers={"X-Forwarded-For": forwarded, "Accept": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        statuses = [lookup("203.0.113.5") for _ in range(31)]
        assert statuses[-1] == 429 and 429 not in statuses[:-1]
        assert lookup("203.0.113.6") == 404, "another client behind the proxy is not throttled"
        assert lookup("198.51.100.1, 203.0.113.5") == 429, "an entry the client wrote on the left is ignored"
    finally:
        server.stop()
