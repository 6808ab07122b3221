"""`vigil scan` as an examiner uses it: a generated evidence tree with planted known items, near-duplicates, new
images with camera EXIF, known-benign files and broken files; every output checked, the VICS export imported back,
the manifest verified and then broken by one byte, and the report opened in a browser from disk."""
import base64
import csv
import hashlib
import io
import json
import os
import subprocess
import tempfile

import pytest

from conftest import VIGIL


def run(*args, timeout=180):
    return subprocess.run([VIGIL, *args], capture_output=True, text=True, timeout=timeout)


def photo(seed, w=480, h=360):
    """A benign photo-like picture: smooth colour field from a coarse random grid, a few discs, mild grain."""
    import numpy as np
    from PIL import Image, ImageDraw
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 256, (4, 5, 3)).astype("uint8")
    img = Image.fromarray(grid).resize((w, h), Image.BICUBIC)
    d = ImageDraw.Draw(img)
    for _ in range(4):
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(20, 80))
        d.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    arr = np.asarray(img).astype("int16") + rng.integers(-6, 7, (h, w, 3))
    return Image.fromarray(arr.clip(0, 255).astype("uint8"))


def camera_exif(serial, lat, lon):
    from PIL import Image
    exif = Image.Exif()
    exif[0x010F] = "E2E Camera Works"     # Make
    exif[0x0110] = "Model Z7"              # Model
    exif[0x0131] = "FirmwareEdit 1.1"      # Software
    ifd = exif.get_ifd(0x8769)             # EXIF IFD
    ifd[0xA431] = serial                   # BodySerialNumber
    ifd[0x9003] = "2025:03:14 15:09:26"    # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1] = "N" if lat >= 0 else "S"
    gps[2] = dms(abs(lat))
    gps[3] = "E" if lon >= 0 else "W"
    gps[4] = dms(abs(lon))
    return exif


def dms(value):
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60, 2)
    return (float(d), float(m), s)


def digests(path):
    data = open(path, "rb").read()
    return hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest()


def make_case(d):
    """The evidence tree, the national set (CSV for `vigil hashset import`) and a known-benign md5sum list."""
    ev = os.path.join(d, "evidence")
    originals = os.path.join(d, "originals")
    for sub in ["known", "near", "new/camera", "system", "docs", "broken", "deep/" + "/".join(["d"] * 40)]:
        os.makedirs(os.path.join(ev, sub), exist_ok=True)
    os.makedirs(originals)
    # known items: exact copies of pictures in the set
    for i in range(3):
        photo(100 + i).save(os.path.join(originals, f"k{i}.jpg"), quality=90)
        open(os.path.join(ev, "known", f"holiday{i}.jpg"), "wb").write(open(os.path.join(originals, f"k{i}.jpg"), "rb").read())
    # the same known picture under another name elsewhere (a duplicate group)
    open(os.path.join(ev, "docs", "renamed.dat"), "wb").write(open(os.path.join(originals, "k0.jpg"), "rb").read())
    # a new picture beside the known ones (priority 2)
    photo(300).save(os.path.join(ev, "known", "unseen.jpg"), quality=90)
    # near-duplicates of a set item that is not in the tree: re-encoded, resized, slightly cropped
    series = photo(200, 640, 480)
    series.save(os.path.join(originals, "s.png"))
    series.save(os.path.join(ev, "near", "reencoded.jpg"), quality=60)
    series.resize((480, 360)).save(os.path.join(ev, "near", "resized.png"))
    series.crop((12, 10, 628, 470)).save(os.path.join(ev, "near", "cropped.jpg"), quality=88)
    # new pictures with camera EXIF (serial, GPS)
    photo(400).save(os.path.join(ev, "new", "camera", "IMG_0001.jpg"), quality=92,
                    exif=camera_exif("SN-E2E-0001", -1.286389, 36.817223))
    photo(401).save(os.path.join(ev, "new", "camera", "IMG_0002.jpg"), quality=92,
                    exif=camera_exif("SN-E2E-0001", 14.716677, -17.467686))
    photo(402).save(os.path.join(ev, "deep/" + "/".join(["d"] * 40), "deep.png"))
    # known-benign: one in the national set flagged benign (NSRL-like), one on the operator's ignore list
    open(os.path.join(ev, "system", "libsystem.so"), "wb").write(bytes(range(256)) * 64)
    open(os.path.join(ev, "system", "license.txt"), "w").write("Standard licence text shipped with every copy.\n")
    # other files
    open(os.path.join(ev, "docs", "letter.txt"), "w").write("Dear examiner,\nnothing to see.\n")
    # broken and hostile entries
    good = open(os.path.join(originals, "k1.jpg"), "rb").read()
    open(os.path.join(ev, "broken", "truncated.jpg"), "wb").write(good[:400])
    import struct
    import zlib
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    open(os.path.join(ev, "broken", "bomb.png"), "wb").write(bomb + b"\0" * 64)
    open(os.path.join(ev, "broken", "empty.png"), "wb").close()
    os.symlink("loop_b", os.path.join(ev, "broken", "loop_a"))
    os.symlink("loop_a", os.path.join(ev, "broken", "loop_b"))
    os.symlink("/etc/hostname", os.path.join(ev, "broken", "outside"))
    os.mkfifo(os.path.join(ev, "broken", "pipe"))
    open(os.path.join(ev.encode(), b"broken", b"name-\xff\xfe.txt"), "wb").write(b"invalid UTF-8 in the name\n")

    # the national set: the known pictures by digest (category 1, a series), the series item by PDQ only
    hashed = run("hash", "--format", "csv", originals)
    assert hashed.returncode == 0, hashed.stderr
    pdq = {os.path.basename(r["path"]): r["pdq"] for r in csv.DictReader(io.StringIO(hashed.stdout))}
    rows = [["md5", "sha1", "sha256", "pdq", "categories", "series_name", "contributor", "known_benign"]]
    for i in range(3):
        m, s1, s2 = digests(os.path.join(originals, f"k{i}.jpg"))
        rows.append([m, s1, s2, pdq[f"k{i}.jpg"], "projectvic-us:1", "Series K", "ICSE", "no"])
    rows.append(["", "", "", pdq["s.png"], "projectvic-us:1", "Series S", "ICSE", "no"])
    m, s1, s2 = digests(os.path.join(ev, "system", "libsystem.so"))
    rows.append([m, s1, s2, "", "", "", "NSRL", "yes"])
    setfile = os.path.join(d, "national.csv")
    with open(setfile, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    ignore = os.path.join(d, "ignore.md5")
    with open(ignore, "w") as f:
        f.write(f"{digests(os.path.join(ev, 'system', 'license.txt'))[0]}  license.txt\n")
    # an access time older than the modification time: a normal read would move it (relatime)
    os.utime(os.path.join(ev, "new", "camera", "IMG_0001.jpg"), (1_000_000_000, 1_700_000_000))
    return ev, setfile, ignore


def test_scan_as_an_examiner(browser):
    with tempfile.TemporaryDirectory() as d:
        ev, setfile, ignore = make_case(d)
        data = os.path.join(d, "data")
        # the unit's reviewed set: a bank whose source reviews every hash, imported as confirmed
        bank = run("bank", "add", "unit-set", "--label", "Unit's reviewed set", "--reviewed", "--data-dir", data)
        assert bank.returncode == 0, bank.stderr
        imp = run("hashset", "import", "--format", "csv", setfile, "--bank", "unit-set", "--confirm", "--data-dir", data)
        assert imp.returncode == 0, imp.stderr
        out = os.path.join(d, "case-out")

        # a scan into a folder inside the evidence is refused, and so are missing options
        inside = run("scan", ev, "--case", "C", "--examiner", "E", "--out", os.path.join(ev, "out"), "--data-dir", data)
        assert inside.returncode == 2 and "inside the examined tree" in inside.stderr
        assert run("scan", ev, "--examiner", "E", "--out", out).returncode == 2
        assert not os.path.exists(os.path.join(ev, "out", "report.html"))

        scan = run("scan", ev, "--case", "CASE-42", "--examiner", "E2E Examiner", "--out", out,
                   "--ignore", ignore, "--data-dir", data, "--jobs", "2")
        assert scan.returncode == 1, scan.stdout + scan.stderr   # completed, with problems
        assert "manifest SHA-256:" in scan.stdout
        assert "\r" not in scan.stderr, "no progress bar when stderr is not a terminal"

        # access times are kept (O_NOATIME)
        assert os.stat(os.path.join(ev, "new", "camera", "IMG_0001.jpg")).st_atime == 1_000_000_000

        results = json.load(open(os.path.join(out, "results.json")))
        by = {os.path.relpath(f["path"], ev): f for f in results["files"]}
        cls = {k: v["class"] for k, v in by.items()}
        for i in range(3):
            assert cls[f"known/holiday{i}.jpg"] == "known"
            assert by[f"known/holiday{i}.jpg"]["matches"][0]["series"] == "Series K"
        assert cls["docs/renamed.dat"] == "known"
        assert by["docs/renamed.dat"]["duplicate_group"] == by["known/holiday0.jpg"]["duplicate_group"] is not None
        for name in ["reencoded.jpg", "resized.png", "cropped.jpg"]:
            f = by["near/" + name]
            assert f["class"] == "near-match", (name, f)
            assert f["matches"][0]["distance"] <= 31 and f["matches"][0]["series"] == "Series S"
            assert f["priority"] == 1
        # the re-encoded and the resized copy are the same picture: one similar-picture group
        assert by["near/reencoded.jpg"]["similar_group"] == by["near/resized.png"]["similar_group"] is not None
        assert cls["known/unseen.jpg"] == "new-media" and by["known/unseen.jpg"]["priority"] == 2
        for name in ["IMG_0001.jpg", "IMG_0002.jpg"]:
            f = by["new/camera/" + name]
            assert f["class"] == "new-media" and f["priority"] == 3
            assert f["clues"]["serial_number"] == "SN-E2E-0001" and f["clues"]["make"] == "E2E Camera Works"
        assert abs(by["new/camera/IMG_0001.jpg"]["clues"]["latitude"] - -1.286389) < 1e-4
        assert abs(by["new/camera/IMG_0002.jpg"]["clues"]["longitude"] - -17.467686) < 1e-4
        assert cls["deep/" + "/".join(["d"] * 40) + "/deep.png"] == "new-media"
        assert cls["system/libsystem.so"] == "known-benign"
        assert cls["system/license.txt"] == "known-benign"
        assert cls["docs/letter.txt"] == "other"
        ranks = sorted((f["review_rank"], f["priority"]) for f in results["files"] if f.get("review_rank"))
        assert [p for _, p in ranks] == sorted(p for _, p in ranks), "near matches, then beside known, then the rest"
        summary = results["summary"]
        assert summary["classes"] == {"known": 4, "near-match": 3, "new-media": 4, "known-benign": 2,
                                      "other": summary["classes"]["other"]}
        problems = {os.path.relpath(p["path"], ev): p["reason"] for p in results["problems"]}
        for broken in ["broken/truncated.jpg", "broken/bomb.png", "broken/loop_a",
                       "broken/outside", "broken/pipe"]:
            assert broken in problems, (broken, problems)
        assert "decompression bomb" in problems["broken/bomb.png"]
        assert "leads outside" in problems["broken/outside"]
        assert "FIFO" in problems["broken/pipe"]
        # A name that is not UTF-8 is examined like any other: shown escaped, kept exactly in base64.
        odd = [f for f in results["files"] if f["path"].endswith("broken/name-\\xff\\xfe.txt")]
        assert len(odd) == 1, [f["path"] for f in results["files"] if "name-" in f["path"]]
        assert base64.b64decode(odd[0]["path_base64"]).endswith(b"broken/name-\xff\xfe.txt")
        assert odd[0]["md5"] == hashlib.md5(b"invalid UTF-8 in the name\n").hexdigest()
        assert not any("name-" in p for p in problems), problems

        rows = list(csv.DictReader(open(os.path.join(out, "results.csv"))))
        assert len(rows) == len(results["files"])
        assert {r["class"] for r in rows} >= {"known", "near-match", "new-media", "known-benign", "other"}

        html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
        assert "SN-E2E-0001" in html and "GPSPosition: -1.28638" in html and "E2E Camera Works" in html
        assert "truncated.jpg" in html and "decompression bomb" in html
        assert "<img" not in html and "<script" not in html and "http://" not in html.replace(
            "http://github.com/VICSDATAMODEL", "")

        # the VICS export imports back into the hash set
        vics = json.load(open(os.path.join(out, "new-media.vics.json")))
        exported = len(vics["value"])
        assert exported == 7    # 4 new media + 3 near matches
        cam = [m for m in vics["value"] if m["MediaFiles"][0]["FileName"] == "IMG_0001.jpg"][0]
        assert {"PropertyName": "BodySerialNumber", "PropertyValue": "SN-E2E-0001"} in cam["Exifs"]
        back = run("hashset", "import", "--format", "vics", os.path.join(out, "new-media.vics.json"),
                   "--data-dir", data)
        assert back.returncode == 0, back.stderr
        assert back.stdout.startswith(f"added {exported}"), back.stdout

        # the manifest verifies, then fails after one byte changes
        ok = run("scan", "verify", out)
        assert ok.returncode == 0, ok.stderr
        manifest = json.load(open(os.path.join(out, "manifest.json")))
        assert manifest["case"] == "CASE-42" and manifest["examiner"] == "E2E Examiner"
        assert manifest["files_examined"] == len(results["files"])
        assert any(e["path"].endswith("holiday0.jpg") and e["sha256"] == digests(os.path.join(ev, "known", "holiday0.jpg"))[2]
                   for e in manifest["examined"])
        assert run("scan", "verify", "--examined", out).returncode == 0

        # the browser opens the report from disk and finds the summary figures
        browser.get("file://" + os.path.join(out, "report.html"))
        assert browser.find_element("id", "figure-files").text == str(summary["files"])
        assert browser.find_element("id", "figure-near-match").text == "3"
        assert browser.find_element("id", "figure-known").text == "4"
        assert browser.find_element("id", "figure-new-media").text == "4"

        path = os.path.join(out, "report.html")
        raw = bytearray(open(path, "rb").read())
        raw[len(raw) // 2] ^= 0x20
        open(path, "wb").write(raw)
        bad = run("scan", "verify", out)
        assert bad.returncode == 1
        assert "report.html" in bad.stderr and "does NOT verify" in bad.stderr


def test_scan_against_lists_with_thumbnails_and_resume():
    with tempfile.TemporaryDirectory() as d:
        ev, setfile, ignore = make_case(d)
        out = os.path.join(d, "out")
        args = ["scan", ev, "--case", "C-7", "--examiner", "E", "--out", out, "--against", setfile, "--ignore", ignore]
        first = run(*args, "--thumbnails")
        assert first.returncode == 1, first.stderr
        html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
        # greyscale thumbnails of new and near-match media only, blurred until ticked (no script needed)
        assert html.count("data:image/jpeg;base64,") == 7
        assert "blur(" in html and "input:checked+img" in html and "<script" not in html
        results = json.load(open(os.path.join(out, "results.json")))
        assert results["summary"]["classes"]["near-match"] == 3
        assert results["scan"]["hash_set"].startswith("hash lists:")

        # a second scan into the same folder needs --resume, which reads no unchanged file again
        assert run(*args).returncode == 2
        again = run(*args, "--resume")
        assert again.returncode == 1
        assert f"({len(results['files'])} taken from the journal)" in again.stdout
        assert run("scan", "verify", out).returncode == 0


def test_hash_takes_a_name_that_is_not_utf8_on_the_command_line(tmp_path):
    name = os.path.join(os.fsencode(str(tmp_path)), b"caf\xe9.bin")
    with open(name, "wb") as f:
        f.write(b"latin-1 named file\n")
    r = subprocess.run([os.fsencode(VIGIL), b"hash", b"--format", b"json", name], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout.decode().splitlines()[0])
    assert record["path"].endswith("caf\\xe9.bin")
    assert base64.b64decode(record["path_base64"]) == name
    assert record["md5"] == hashlib.md5(b"latin-1 named file\n").hexdigest()


def test_scan_match_and_hash_need_no_database_with_lists(tmp_path):
    """With --against lists, nothing opens the database: an unreachable database_url changes nothing."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "known.txt").write_bytes(b"a known item\n")
    (evidence / "other.txt").write_bytes(b"something else\n")
    known_md5 = hashlib.md5(b"a known item\n").hexdigest()
    listfile = tmp_path / "known.md5"
    listfile.write_text(f"{known_md5}  known.txt\n")
    env = {**os.environ, "VIGIL_DATABASE_URL": "postgres://vigil@127.0.0.1:9/unreachable"}
    out = tmp_path / "out"
    r = subprocess.run([VIGIL, "scan", str(evidence), "--case", "C-1", "--examiner", "E", "--out", str(out),
                        "--against", str(listfile)], capture_output=True, text=True, timeout=180, env=env)
    assert r.returncode == 0, r.stderr
    results = json.load(open(out / "results.json"))
    assert {os.path.basename(f["path"]): f["class"] for f in results["files"]}["known.txt"] == "known"
    m = subprocess.run([VIGIL, "match", "--against", str(listfile)], input=known_md5 + "\n", capture_output=True,
                       text=True, timeout=60, env=env)
    assert m.returncode == 0, m.stderr
    h = subprocess.run([VIGIL, "hash", str(evidence)], capture_output=True, text=True, timeout=60, env=env)
    assert h.returncode == 0 and known_md5 in h.stdout, h.stderr
