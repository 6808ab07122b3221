"""Operators' commands: users, API keys, audit verification and database errors, as run from a shell."""
import os
import sqlite3
import subprocess
import tempfile

from conftest import VIGIL


def vigil(*args, data):
    return subprocess.run([VIGIL, *args, "--data-dir", data], capture_output=True, text=True, timeout=120)


def test_users_keys_and_audit_tampering():
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "data")
        r = vigil("user", "add", "--username", "lea", "--role", "le-liaison", data=data)
        assert r.returncode == 0, r.stderr
        assert "/setup/" in r.stdout
        assert vigil("user", "add", "--username", "lea", "--role", "analyst", data=data).returncode == 1
        bad = vigil("user", "add", "--username", "x", "--role", "wizard", data=data)
        assert bad.returncode != 0 and "unknown role" in bad.stderr
        r = vigil("apikey", "create", "--partner", "ISP One", "--scopes", "feeds:read,match:read", data=data)
        assert r.returncode == 0 and "vgl_" in r.stdout
        listed = vigil("apikey", "list", data=data).stdout
        assert "ISP One" in listed and "vgl_" in listed and r.stdout.split()[-1] not in listed
        assert "lea" in vigil("user", "list", data=data).stdout
        assert vigil("user", "disable", "lea", data=data).returncode == 0
        ok = vigil("audit", "verify", data=data)
        assert ok.returncode == 0, ok.stderr

        db = sqlite3.connect(os.path.join(data, "vigil.sqlite"))
        db.execute("UPDATE audit_events SET details = '{\"role\":\"admin\"}' WHERE seq = 1")
        db.commit()
        db.close()
        broken = vigil("audit", "verify", data=data)
        assert broken.returncode == 1
        assert "event 1 was modified" in broken.stderr


def test_unreachable_database_is_one_line_and_exit_1():
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([VIGIL, "serve", "--data-dir", d, "--database-url", "postgres://nobody@127.0.0.1:1/none"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1
        lines = [l for l in r.stderr.splitlines() if l.startswith("vigil:")]
        assert len(lines) == 1 and "cannot reach the database" in lines[0], r.stderr
        assert "Fatal error" not in r.stderr and "Stack" not in r.stderr
