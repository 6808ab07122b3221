"""Jobs scale out: two `vigil serve` processes on one PostgreSQL share the notice queue. 1,000 queued notices reach
a real SMTP server (aiosmtpd) each exactly once; one process is killed (SIGKILL) mid-run and nothing is lost: its
claimed jobs return to the queue when their lease runs out. Prints the outbox throughput."""
import email
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import Server, free_port
from test_takedown import Sink, wait_until


def as_postgres(args, **kw):
    return subprocess.run(["runuser", "-u", "postgres", "--", *args] if os.getuid() == 0 else args, check=True, capture_output=True, text=True, **kw)


@pytest.fixture
def postgres():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.skip("PostgreSQL is not installed (scripts/install-deps.sh)")
    bindir = bins[-1]
    d = tempfile.mkdtemp(prefix="vigil-pg-e2e-")
    os.chmod(d, 0o755)
    if os.getuid() == 0:
        shutil.chown(d, "postgres")
    port = free_port()
    as_postgres([f"{bindir}/initdb", "-D", f"{d}/data", "-U", "vigil", "--auth=trust", "-E", "UTF8"])
    as_postgres([f"{bindir}/pg_ctl", "-D", f"{d}/data", "-o", f"-k {d} -h 127.0.0.1 -p {port} -c fsync=off -c max_connections=200",
                 "-l", f"{d}/log", "-w", "start"])
    yield f"postgres://vigil@127.0.0.1:{port}/postgres", port
    subprocess.run(["runuser", "-u", "postgres", "--", f"{bindir}/pg_ctl", "-D", f"{d}/data", "-m", "immediate", "stop"] if os.getuid() == 0
                   else [f"{bindir}/pg_ctl", "-D", f"{d}/data", "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


def test_two_servers_deliver_1000_notices_exactly_once_and_survive_a_kill(postgres):
    url, pg_port = postgres
    smtp_port = free_port()
    sink = Sink(smtp_port)
    settings = ["--database-url", url, "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), "--job-lease-seconds", "3"]
    first = Server(extra_args=settings)
    second = None
    try:
        # 1,000 notices, one URL each, queued for sending (as 1,000 assessed cases would leave them).
        sql = """
        INSERT INTO notices (contact, state, created_ms, sends) SELECT 'abuse' || g || '@host.test', 'queued', 0, 0 FROM generate_series(1, 1000) g;
        INSERT INTO notice_items (notice_id, case_id, url, added_ms) SELECT id, id, 'http://host.test/item/' || id, 0 FROM notices;
        INSERT INTO jobs (name, payload, state, run_at_ms, attempts, max_attempts, created_ms, updated_ms)
          SELECT 'notice-send', '{"notice":' || id || '}', 'queued', 0, 0, 12, 0, 0 FROM notices;
        """
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "vigil", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       check=True, capture_output=True, text=True)
        started = time.monotonic()
        second = Server(extra_args=settings)
        wait_until(lambda: len(sink.messages) >= 300, "the first 300 notices", timeout=120)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
        wait_until(lambda: len({m for m in ids(sink)}) >= 1000, "all 1,000 notices", timeout=240)
        elapsed = time.monotonic() - started
        got = ids(sink)
        assert set(got) == {str(i) for i in range(1, 1001)}, "none lost"
        duplicates = len(got) - len(set(got))
        # A message the killed process had handed to the relay but not yet recorded may go out again, with the same
        # Message-ID so that the provider's mail system drops it; at most the one in flight per process.
        assert duplicates <= 1, duplicates
        print(f"\noutbox: 1000 notices in {elapsed:.1f} s ({1000 / elapsed:.0f} notices/s), two processes, one killed; duplicates {duplicates}")
    finally:
        sink.stop()
        for s in (first, second):
            if s:
                s.stop()


def ids(sink):
    out = []
    for _, content in list(sink.messages):
        subject = email.message_from_bytes(content)["Subject"]
        out.append(subject.rsplit("[notice ", 1)[1].rstrip("]"))
    return out
