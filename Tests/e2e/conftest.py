"""Shared fixtures for Vigil's end-to-end tests: a real `vigil serve` on loopback and headless Chromium."""
import base64
import hashlib
import hmac
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VIGIL = os.environ.get("VIGIL_BIN", os.path.join(REPO, ".build", "debug", "vigil"))
# Never a real resolver, for the server and every `vigil` command the tests run: attribution asks a closed port on
# loopback unless a test starts its own DNS server.
os.environ.setdefault("VIGIL_DNS_RESOLVER", "127.0.0.1:9")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp(secret_b32, at=None, step_offset=0):
    """RFC 6238 code (SHA-1, 6 digits, 30 s) for the given base32 secret."""
    key = base64.b32decode(secret_b32.replace(" ", "").upper() + "=" * (-len(secret_b32.replace(" ", "")) % 8))
    counter = int((at if at is not None else time.time()) // 30) + step_offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


class Server:
    def __init__(self, extra_args=(), env=None):
        if not os.path.exists(VIGIL):
            pytest.fail(f"vigil binary not found at {VIGIL}; build it with `swift build` first")
        self.dir = tempfile.mkdtemp(prefix="vigil-e2e-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "server.log"), "w+")
        e = dict(os.environ)
        # Never a real resolver: attribution asks a closed port on loopback unless a test starts its own.
        e.setdefault("VIGIL_DNS_RESOLVER", "127.0.0.1:9")
        e.update(env or {})
        self.proc = subprocess.Popen(
            [VIGIL, "serve", "--data-dir", os.path.join(self.dir, "data"), "--port", str(self.port), *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=e, cwd=self.dir)
        self.setup_link = self._wait_for_start()

    def _wait_for_start(self, timeout=60):
        """Waits for the console's 'listening' line (reads the log the server writes; no fixed sleep)."""
        deadline = time.monotonic() + timeout
        link = None
        while time.monotonic() < deadline:
            self.log.seek(0)
            text = self.log.read()
            m = re.search(r"(http://127\.0\.0\.1:\d+/setup/[A-Za-z0-9_-]+)", text)
            if m:
                link = m.group(1)
            if "listening on" in text and self._accepts():
                return link
            if self.proc.poll() is not None:
                raise RuntimeError(f"vigil serve exited with {self.proc.returncode}:\n{text}")
            time.sleep(0.05)
        raise RuntimeError("vigil serve did not start in time")

    def _accepts(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for b in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(b):
            opts.binary_location = b
            break
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,900",
              "--no-proxy-server", "--disable-background-networking", "--disable-component-update"):
        opts.add_argument(a)
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    d = webdriver.Chrome(service=Service(driver_path), options=opts)
    d.implicitly_wait(5)
    yield d
    d.quit()
