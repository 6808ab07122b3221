"""Operators' commands: users, API keys, audit verification and database errors, as run from a shell."""
import json
import random
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


def serve_until_index_ready(data, timeout=60):
    """Starts `vigil serve` on DATA, waits for its 'match index ready' log line, stops it, and returns the line."""
    import time
    from conftest import free_port
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen([VIGIL, "serve", "--data-dir", data, "--port", str(free_port())],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                log.seek(0)
                for line in log.read().splitlines():
                    if "match index ready" in line:
                        return line
                assert proc.poll() is None, "vigil serve exited early"
                time.sleep(0.05)
            raise AssertionError("no 'match index ready' line in time")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def make_tree(root):
    """Benign generated images, a text file, and broken files, as an examiner's folder might hold."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(7)
    os.makedirs(os.path.join(root, "sub", "deeper"))
    for i in range(4):
        Image.fromarray((rng.random((120, 160, 3)) * 255).astype("uint8")).save(os.path.join(root, f"noise{i}.png"))
    Image.fromarray(np.tile(np.arange(256, dtype="uint8"), (200, 1))).save(os.path.join(root, "sub", "gradient.jpg"), quality=95)
    with open(os.path.join(root, "sub", "notes.txt"), "w") as f:
        f.write("not an image\n")
    with open(os.path.join(root, "sub", "deeper", "truncated.jpg"), "wb") as f:
        f.write(open(os.path.join(root, "sub", "gradient.jpg"), "rb").read()[:300])
    open(os.path.join(root, "empty.png"), "wb").close()
    os.symlink("loop_b", os.path.join(root, "loop_a"))
    os.symlink("loop_a", os.path.join(root, "loop_b"))


def test_hash_then_import_then_match():
    with tempfile.TemporaryDirectory() as d:
        tree = os.path.join(d, "tree")
        os.makedirs(tree)
        make_tree(tree)
        data = os.path.join(d, "data")
        h = subprocess.run([VIGIL, "hash", tree, "--format", "csv"], capture_output=True, text=True, timeout=120)
        assert h.returncode == 1, "some files are broken: exit 1"
        rows = h.stdout.strip().splitlines()
        assert rows[0].startswith("path,size,md5,sha1,sha256,pdq,pdq_quality")
        assert any("noise0.png" in r for r in rows) and any("notes.txt" in r for r in rows)
        assert "truncated.jpg" in h.stderr and "loop_a" in h.stderr
        paths = [r.split(",")[0] for r in rows[1:]]
        assert paths == sorted(paths)
        # every good image has a PDQ, even one hashed right after a broken JPEG by the same worker
        pdq = {r.split(",")[0].rsplit("/", 1)[-1]: r.split(",")[5] for r in rows[1:]}
        assert all(len(pdq[name]) == 64 for name in ["noise0.png", "noise3.png", "gradient.jpg"]), pdq
        # the same output whatever the number of jobs
        h1 = subprocess.run([VIGIL, "hash", tree, "--format", "csv", "--jobs", "1"], capture_output=True, text=True, timeout=120)
        assert h1.stdout == h.stdout
        with open(os.path.join(d, "known.csv"), "w") as f:
            f.write(h.stdout)
        # an import into a bank that is not marked reviewed cannot confirm; an unknown bank is refused; nothing written
        refused = vigil("hashset", "import", "--format", "csv", os.path.join(d, "known.csv"), "--confirm", data=data)
        assert refused.returncode == 1 and "not marked reviewed" in refused.stderr, refused.stderr
        unknown = vigil("hashset", "import", "--format", "csv", os.path.join(d, "known.csv"), "--bank", "nope", data=data)
        assert unknown.returncode == 1 and "no bank 'nope'" in unknown.stderr, unknown.stderr
        imp = vigil("hashset", "import", "--format", "csv", os.path.join(d, "known.csv"), data=data)
        assert imp.returncode == 0, imp.stderr
        assert imp.stdout.startswith("added ")
        again = vigil("hashset", "import", "--format", "csv", os.path.join(d, "known.csv"), data=data)
        assert "added 0, updated 0" in again.stdout
        text = subprocess.run([VIGIL, "hash", tree], capture_output=True, text=True, timeout=120).stdout
        # new records wait for review: not known yet, but found on request
        m = subprocess.run([VIGIL, "match", "--data-dir", data, "--format", "json"], input=text, capture_output=True, text=True, timeout=120)
        assert m.returncode == 1, m.stdout
        m = subprocess.run([VIGIL, "match", "--data-dir", data, "--format", "json", "--include-pending"], input=text,
                           capture_output=True, text=True, timeout=120)
        assert m.returncode == 0, m.stderr
        assert '"distance":0' in m.stdout and '"review":"pending"' in m.stdout and '"bank":"national"' in m.stdout
        banks = vigil("bank", "list", data=data)
        assert banks.returncode == 0 and "false-positive" in banks.stdout and "negative" in banks.stdout
        # the bank switched off: nothing even on request
        assert vigil("bank", "disable", "national", data=data).returncode == 0
        m = subprocess.run([VIGIL, "match", "--data-dir", data, "--include-pending"], input=text, capture_output=True, text=True, timeout=120)
        assert m.returncode == 1, m.stdout
        assert vigil("bank", "enable", "national", data=data).returncode == 0
        bad = vigil("bank", "set", "national", "--radius", "99", data=data)
        assert bad.returncode == 1 and "between 0 and 63" in bad.stderr
        # `vigil match` wrote the index snapshot; the server starts from it while the set is unchanged
        assert os.path.exists(os.path.join(data, "match-index.snapshot"))
        assert "from the snapshot" in serve_until_index_ready(data)
        with open(os.path.join(d, "new.te"), "w") as f:
            f.write("pdq " + "5a" * 32 + "\n")
        assert vigil("hashset", "import", "--format", "te", os.path.join(d, "new.te"), data=data).returncode == 0
        assert "from the database" in serve_until_index_ready(data)
        # no database: match against the exported list
        # only confirmed records leave: every record here is still in review
        exp = vigil("hashset", "export", "--format", "te", os.path.join(d, "list.te"), data=data)
        assert exp.returncode == 0 and "exported 0 records" in exp.stdout, exp.stdout
        exp = vigil("hashset", "export", "--format", "te", os.path.join(d, "list.te"), "--include-pending", data=data)
        assert exp.returncode == 0 and "exported 0 records" not in exp.stdout, exp.stdout
        none = subprocess.run([VIGIL, "match", "--against", os.path.join(d, "list.te")], input="ffffffffffffffffffffffffffffffff\n",
                              capture_output=True, text=True, timeout=60)
        assert none.returncode == 1
        # A ThreatExchange file of `pdq,<hex>` lines, no header: every line is a hash (none read as a CSV header).
        te = os.path.join(d, "comma.te")
        hashes = [c * 64 for c in "1234"]
        with open(te, "w") as f:
            f.write("".join(f"pdq,{h}\n" for h in hashes))
        for h in hashes:
            hit = subprocess.run([VIGIL, "match", "--against", te, "--radius", "0"], input=f"pdq:{h}\n",
                                 capture_output=True, text=True, timeout=60)
            assert hit.returncode == 0, (h, hit.stdout, hit.stderr)
            assert "skipped" not in hit.stderr, hit.stderr
        bad = subprocess.run([VIGIL, "match", "--radius", "70"], capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2


def test_jobs_list_and_run():
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "data")
        listed = subprocess.run([VIGIL, "jobs", "list", "--data-dir", data], capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0, listed.stderr
        for name in ["list-publish", "list-check", "hold-expiry", "contact-retention"]:
            assert name in listed.stdout
        # A new installation publishes an empty version 1 (ISPs can configure before the first entry); then nothing.
        ran = subprocess.run([VIGIL, "jobs", "run", "list-publish", "--data-dir", data], capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0 and "list-publish: 1 done" in ran.stdout, ran.stdout
        ran = subprocess.run([VIGIL, "jobs", "run", "list-publish", "--data-dir", data], capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0 and "list-publish: 0 done" in ran.stdout, ran.stdout
        rpz = subprocess.run([VIGIL, "feed", "export", "--format", "rpz", "--out", "-", "--data-dir", data],
                             capture_output=True, text=True, timeout=120)
        assert rpz.returncode == 0 and "SOA" in rpz.stdout, rpz.stderr
        # BIND's own checker accepts the empty zone (a resolver can load it on day one).
        zone = os.path.join(d, "national.rpz")
        with open(zone, "w") as f:
            f.write(rpz.stdout)
        checked = subprocess.run(["named-checkzone", "rpz.vigil.test", zone], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0 and "OK" in checked.stdout, checked.stdout + checked.stderr
        bad = subprocess.run([VIGIL, "jobs", "run", "nope", "--data-dir", data], capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and "no job named 'nope'" in bad.stderr


def test_database_commands_show_only_their_options():
    """`vigil match --help` lists matching and database options, not the server's SMTP or session flags."""
    for args in (["match"], ["hash"], ["hashset", "import"], ["audit", "verify"], ["user", "add"]):
        r = subprocess.run([VIGIL, *args, "--help"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert len(r.stdout.splitlines()) < 40, (args, len(r.stdout.splitlines()))
        assert "--smtp" not in r.stdout and "--session" not in r.stdout, args
    # the server's settings still reach them through the environment and vigil.toml
    r = subprocess.run([VIGIL, "match", "--smtp-host", "x"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "smtp-host" in r.stderr


def test_every_setting_is_a_flag_a_variable_and_a_toml_key():
    """`vigil serve --help` lists the settings table (flag and variable; the TOML key is derived) and the flags
    ArgumentParser parses: the two agree, so a setting declared in the table is settable all three ways, and a flag
    is never undocumented."""
    import re
    out = subprocess.run([VIGIL, "serve", "--help"], capture_output=True, text=True, timeout=60).stdout
    table = {}
    for line in out.splitlines():
        m = re.match(r"\s+(--[a-z0-9-]+)\s+(VIGIL_[A-Z0-9_]+)\s*$", line)
        if m:
            table[m.group(1)] = m.group(2)
    assert len(table) >= 57, out
    for flag, env in table.items():
        assert env == "VIGIL_" + flag[2:].replace("-", "_").upper()
    options = set(re.findall(r"^\s+(--[a-z0-9-]+)", out.split("OPTIONS:")[1], re.M))
    assert options - {"--config", "--help", "--version"} == set(table), options ^ set(table)
    with tempfile.TemporaryDirectory() as d:
        # the same setting from each source, and a bad value named
        toml = os.path.join(d, "vigil.toml")
        with open(toml, "w") as f:
            f.write('contact_retention_days = 4000\n')
        r = subprocess.run([VIGIL, "serve", "--config", toml, "--data-dir", d], capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and "contact retention days must be between 0 and 3650" in r.stderr, r.stderr
        r = subprocess.run([VIGIL, "serve", "--data-dir", d, "--port", "eighty"], capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and "port must be a whole number, got 'eighty'" in r.stderr, r.stderr
        r = subprocess.run([VIGIL, "serve", "--data-dir", d], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "VIGIL_SMTP_TLS": "ssl"})
        assert r.returncode != 0 and "smtp_tls must be starttls, tls or none" in r.stderr, r.stderr


def test_match_against_file_streams_batches_in_order():
    """Queries are searched in batches while the next is read: answers keep input order, none lost or doubled."""
    rng = random.Random(7)
    known = ["%064x" % rng.getrandbits(256) for _ in range(5000)]
    queries = []
    for i in range(10_001):  # three batches of 4,096 and a partial one
        if i % 3 == 0:
            h = int(known[rng.randrange(len(known))], 16) ^ (1 << rng.randrange(256))  # one bit from a known hash
            queries.append("%064x" % h)
        else:
            queries.append("%064x" % rng.getrandbits(256))
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "list.te"), "w") as f:
            f.writelines("pdq %s\n" % h for h in known)
        m = subprocess.run([VIGIL, "match", "--against", os.path.join(d, "list.te"), "--format", "json", "--stats"],
                           input="".join("pdq:%s\n" % q for q in queries), capture_output=True, text=True, timeout=120)
        assert m.returncode == 0, m.stderr
        answers = [json.loads(line) for line in m.stdout.splitlines()]
        assert [a["value"] for a in answers] == queries
        near = [i for i, a in enumerate(answers) if a["matches"]]
        assert near == list(range(0, len(queries), 3))
        assert all(a["matches"][0]["distance"] == 1 for a in answers if a["matches"])
        assert "5000 PDQ hashes ready" in m.stderr and "10001 queries matched" in m.stderr, m.stderr
        assert "%d with a match" % len(near) in m.stderr
        # CSV keeps its header, then one row per match, in input order
        c = subprocess.run([VIGIL, "match", "--against", os.path.join(d, "list.te"), "--format", "csv"],
                           input="".join("pdq:%s\n" % q for q in queries), capture_output=True, text=True, timeout=120)
        lines = c.stdout.splitlines()
        assert lines[0].startswith("query_algorithm,query,path,distance"), lines[:2]
        assert [l.split(",")[1] for l in lines[1:]] == [queries[i] for i in near]
        # an unreadable second file: what the first matched is printed before the error (exit 2)
        with open(os.path.join(d, "q.txt"), "w") as f:
            f.writelines("pdq:%s\n" % q for q in queries[:9])
        e = subprocess.run([VIGIL, "match", "--against", os.path.join(d, "list.te"), os.path.join(d, "q.txt"),
                            os.path.join(d, "missing.txt")], capture_output=True, text=True, timeout=120)
        assert e.returncode == 2 and "missing.txt" in e.stderr
        assert len(e.stdout.splitlines()) == len([i for i in near if i < 9])
