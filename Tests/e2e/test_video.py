"""vPDQ against Meta's reference (PyPI `vpdq`, its own C++ over FFmpeg) on benign videos the `ffmpeg` program makes
from its synthetic sources: test patterns, a fractal zoom, the game of life and colour bars, cropped, scaled,
re-encoded at several bitrates and frame rates. `vigil hash --format vpdq` must give the same frames and
timestamps, and per-frame PDQ equal or within a few bits; the agreement is printed."""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import VIGIL

try:
    import vpdq
except ImportError:   # the comparison is the point: never skipped quietly
    vpdq = None

SOURCES = {
    "testsrc2.mp4": ("testsrc2=size=640x360:rate=30:duration=8", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
    "mandelbrot.mkv": ("mandelbrot=size=320x240:rate=25", ["-t", "6", "-c:v", "mpeg4", "-q:v", "3"]),
    "life.webm": ("life=size=320x240:rate=15:ratio=0.3:seed=7", ["-t", "8", "-c:v", "libvpx", "-b:v", "400k"]),
    "smptebars-cropped.mp4": ("smptehdbars=size=1280x720:rate=24:duration=5",
                              ["-vf", "crop=960:540:100:60,drawbox=x=40:y=40:w=200:h=120:color=white@0.8:t=fill",
                               "-c:v", "libx264", "-pix_fmt", "yuv420p"]),
    "testsrc2-low-bitrate.mp4": ("testsrc2=size=640x360:rate=30:duration=8",
                                 ["-vf", "scale=320:180", "-c:v", "libx264", "-b:v", "60k", "-pix_fmt", "yuv420p"]),
    "testsrc2-12fps.avi": ("testsrc2=size=480x270:rate=30:duration=6", ["-vf", "fps=12", "-c:v", "mpeg4"]),
}


def make(work, name, source, args):
    path = os.path.join(work, name)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", source, *args, "-y", path], check=True,
                   timeout=300)
    return path


def test_vpdq_agrees_with_the_reference():
    if shutil.which("ffmpeg") is None or vpdq is None:
        pytest.fail("the ffmpeg program or PyPI vpdq is missing (scripts/install-deps.sh, requirements-dev.txt)")
    work = tempfile.mkdtemp(prefix="vigil-vpdq-e2e-")
    try:
        frames = equal = 0
        worst = 0
        for name, (source, args) in SOURCES.items():
            path = make(work, name, source, args)
            ref = vpdq.computeHash(path, seconds_per_hash=1)
            out = subprocess.run([VIGIL, "hash", "--format", "vpdq", path], capture_output=True, text=True, timeout=300)
            assert out.returncode == 0, out.stderr
            ours = [line.split(",") for line in out.stdout.splitlines()]
            assert [int(f[0]) for f in ours] == [r.frame_number for r in ref], name
            assert [f[3] for f in ours] == ["%.3f" % r.timestamp for r in ref], name
            for f, r in zip(ours, ref):
                d = bin(int(f[2], 16) ^ int(r.hex, 16)).count("1")
                frames += 1
                equal += d == 0
                worst = max(worst, d)
                assert abs(int(f[1]) - r.quality) <= 5, (name, f, r.quality)
        print(f"\nvPDQ agreement with the reference: {equal}/{frames} frames bit-identical, worst {worst} bits")
        assert frames >= 40
        assert worst == 0, "the same FFmpeg, the same pipeline: bit-identical frames"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_vigil_hash_handles_video_in_every_format():
    work = tempfile.mkdtemp(prefix="vigil-video-formats-")
    try:
        clip = make(work, "clip.mp4", "testsrc2=size=320x240:rate=25:duration=3", ["-c:v", "mpeg4"])
        with open(os.path.join(work, "notes.txt"), "w") as f:
            f.write("not a video\n")
        import json
        out = subprocess.run([VIGIL, "hash", "--format", "json", clip], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        record = json.loads(out.stdout)
        assert len(record["sha256"]) == 64 and record["video"]["codec"] == "mpeg4"
        assert record["video"]["width"] == 320 and abs(record["video"]["duration"] - 3) < 0.1
        assert [line.split(",")[0] for line in record["video"]["vpdq"]] == ["0", "25", "50"]
        csv = subprocess.run([VIGIL, "hash", "--format", "csv", work], capture_output=True, text=True, timeout=120)
        assert csv.returncode == 0, csv.stderr
        import csv as csvmodule
        rows = list(csvmodule.DictReader(csv.stdout.splitlines()))
        video = next(r for r in rows if r["path"].endswith("clip.mp4"))
        assert video["video_codec"] == "mpeg4" and video["vpdq_frames"] == "3" and "mp4" in video["video_container"]
        assert [line.split(",")[0] for line in video["vpdq"].split(" ")] == ["0", "25", "50"]
        assert next(r for r in rows if r["path"].endswith("notes.txt"))["vpdq"] == ""
        text = subprocess.run([VIGIL, "hash", work], capture_output=True, text=True, timeout=120)
        assert "mpeg4 320x240" in text.stdout and "vpdq:3" in text.stdout
        make(work, "tone.m4a", "sine=frequency=440:duration=1", ["-c:a", "aac"])   # sound only, in an MP4 box
        every = subprocess.run([VIGIL, "hash", "--format", "json", work], capture_output=True, text=True, timeout=120)
        assert every.returncode == 0 and len(every.stdout.splitlines()) == 3, every.stderr
        only = subprocess.run([VIGIL, "hash", "--video-only", "--format", "json", work], capture_output=True, text=True,
                              timeout=120)
        assert [json.loads(l)["path"].endswith("clip.mp4") for l in only.stdout.splitlines()] == [True], "only the video"
        skip = subprocess.run([VIGIL, "hash", "--no-video", "--format", "json", clip], capture_output=True, text=True,
                              timeout=120)
        assert "video" not in json.loads(skip.stdout)
        bad = os.path.join(work, "broken.mp4")
        with open(bad, "wb") as f:
            f.write(open(clip, "rb").read()[:400])
        broken = subprocess.run([VIGIL, "hash", "--format", "json", bad], capture_output=True, text=True, timeout=120)
        assert broken.returncode == 1 and "broken.mp4" in broken.stderr, broken.stderr
        assert json.loads(broken.stdout)["sha256"], "the digests stay when the video cannot be decoded"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_vigil_match_finds_a_reencoded_clip_and_where_it_comes_from():
    """An analyst's question: which known video does this clip show, and where? The clip is 0:12–0:27 of a known
    40-second video, slightly cropped, scaled and re-encoded at another frame rate and with another codec."""
    import json
    work = tempfile.mkdtemp(prefix="vigil-video-match-")
    try:
        known = os.path.join(work, "known")
        os.makedirs(known)
        long = make(known, "long.mp4", "testsrc2=size=640x360:rate=30:duration=40",
                    ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        make(known, "fractal.mkv", "mandelbrot=size=320x240:rate=25", ["-t", "10", "-c:v", "mpeg4", "-q:v", "3"])
        with open(os.path.join(known, "broken.mp4"), "wb") as f:
            f.write(open(long, "rb").read()[:500])
        clip = os.path.join(work, "clip.avi")
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-ss", "12", "-i", long, "-t", "15",
                        "-vf", "crop=632:356:4:2,scale=480:270,fps=25", "-c:v", "mpeg4", "-q:v", "4", "-y", clip],
                       check=True, timeout=300)
        other = make(work, "life.webm", "life=size=320x240:rate=15:ratio=0.3:seed=7",
                     ["-t", "8", "-c:v", "libvpx", "-b:v", "400k"])

        out = subprocess.run([VIGIL, "match-video", "--known", known, clip, "--stats"], capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "known video left out" in out.stderr and "broken.mp4" in out.stderr, "reported, not fatal"
        assert "2 known videos" in out.stderr
        assert "shows " + long in out.stdout and "fractal" not in out.stdout, out.stdout
        print("\n" + out.stdout)

        res = subprocess.run([VIGIL, "match-video", "--known", known, "--format", "json", clip], capture_output=True,
                             text=True, timeout=300)
        answer = json.loads(res.stdout)
        assert answer["matched"] and [m["video"] for m in answer["matches"]] == [long]
        m = answer["matches"][0]
        # testsrc2 repeats its pattern, so many of the known video's frames look like the clip's: the share of the
        # video is high; where the clip comes from is told by the range, not by the share.
        assert m["queryShare"] >= 80 and m["videoShare"] > 0, m
        main = max(m["ranges"], key=lambda r: r["frames"])
        assert main["queryStart"] <= 1 and main["queryEnd"] >= 13, main
        assert abs(main["videoStart"] - (12 + main["queryStart"])) <= 1.1, main
        assert abs(main["videoEnd"] - (12 + main["queryEnd"])) <= 1.1, main

        # The clip's vPDQ lines, as a partner would send them, give the same answer as the clip itself.
        lines = subprocess.run([VIGIL, "hash", "--format", "vpdq", clip], capture_output=True, text=True, timeout=300)
        vpdq_file = os.path.join(work, "clip.vpdq")
        with open(vpdq_file, "w") as f:
            f.write(lines.stdout)
        again = subprocess.run([VIGIL, "match-video", "--known", known, "--format", "json", vpdq_file],
                               capture_output=True, text=True, timeout=300)
        assert json.loads(again.stdout)["matches"] == answer["matches"]

        none = subprocess.run([VIGIL, "match-video", "--known", known, other], capture_output=True, text=True, timeout=300)
        assert none.returncode == 1 and "no known video" in none.stdout, none.stdout + none.stderr
        bad = subprocess.run([VIGIL, "match-video", "--known", known, os.path.join(known, "broken.mp4")],
                             capture_output=True, text=True, timeout=300)
        assert bad.returncode == 2 and "broken.mp4" in bad.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_a_partner_posts_a_clips_vpdq_and_gets_the_known_video_with_ranges(server):
    """The police unit fingerprints a known video into the national set; a platform posts the vPDQ of an upload
    that is a re-encoded clip of it and is told which known video it shows and where."""
    import json
    import time
    import urllib.request
    work = tempfile.mkdtemp(prefix="vigil-video-api-")
    try:
        def cli(*args, ok=True):
            r = subprocess.run([VIGIL, *args, "--data-dir", server.dir + "/data"], capture_output=True, text=True,
                               timeout=300)
            assert (r.returncode == 0) == ok, r.stdout + r.stderr
            return r
        known = make(work, "known.mp4", "testsrc2=size=640x360:rate=30:duration=30",
                     ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        with open(os.path.join(work, "notes.txt"), "w") as f:
            f.write("not a video\n")
        cli("bank", "add", "police", "--reviewed", "--label", "Police unit")
        # An unknown bank is refused before any video is decoded.
        refused = cli("hashset", "import-videos", work, "--bank", "polcie", ok=False)
        assert "polcie" in refused.stderr and "skipped" not in refused.stderr, refused.stderr
        imported = cli("hashset", "import-videos", work, "--bank", "police", "--confirm",
                       "--category", "projectvic-us:1", "--contributor", "Police unit")
        assert "videos: added 1" in imported.stdout and "notes.txt: skipped" in imported.stderr, imported
        assert "videos: added 0" in cli("hashset", "import-videos", known, "--bank", "police", "--confirm").stdout
        assert "no video" in cli("hashset", "import-videos", os.path.join(work, "notes.txt"), ok=False).stderr
        key = cli("apikey", "create", "--partner", "Platform", "--scopes", "match:read").stdout.strip().splitlines()[-1]

        clip = os.path.join(work, "upload.avi")
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-ss", "12", "-i", known, "-t", "10",
                        "-vf", "crop=632:356:4:2,scale=480:270,fps=25", "-c:v", "mpeg4", "-q:v", "4", "-y", clip],
                       check=True, timeout=300)
        lines = subprocess.run([VIGIL, "hash", "--format", "vpdq", clip], capture_output=True, text=True,
                               timeout=300).stdout.splitlines()
        body = json.dumps({"videos": [{"label": "upload-77", "vpdq": lines}]}).encode()

        def ask():
            req = urllib.request.Request(server.base + "/api/v1/match", data=body, method="POST", headers={
                "Authorization": f"Bearer {key.strip()}", "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())
        # The running server takes the new record as a delta (every 2 s): asked until it answers, within 15 s.
        deadline = time.monotonic() + 15
        answer = ask()
        while not answer["videos"][0]["matched"] and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = ask()
        video = answer["videos"][0]
        assert video["matched"] and video["label"] == "upload-77" and video["frames"] == len(lines), answer
        m = video["matches"][0]
        assert m["bank"] == "police" and m["review"] == "confirmed" and m["queryShare"] >= 80, m
        assert m["categories"][0]["code"] == "1" and m["provenance"]["contributor"] == "Police unit"
        main = max(m["ranges"], key=lambda r: r["frames"])
        assert main["queryStart"] <= 1 and main["queryEnd"] >= 8, main
        assert abs(main["videoStart"] - (12 + main["queryStart"])) <= 1.1, main
        print(f"\nupload-77: {m['queryShare']:.0f}% of its frames in {m['item']}; "
              f"{main['queryStart']:.0f}-{main['queryEnd']:.0f} s of the upload is "
              f"{main['videoStart']:.0f}-{main['videoEnd']:.0f} s of the known video")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_scan_finds_a_reencoded_clip_of_a_known_video_and_survives_hostile_videos():
    """Seized media: a cropped, re-encoded clip of a video in the national set is a near match with its ranges; a
    video the set does not know is new media; truncated, empty and fake videos are problems, never a stop."""
    import json
    work = tempfile.mkdtemp(prefix="vigil-video-scan-")
    try:
        data = os.path.join(work, "data")

        def run(*args):
            return subprocess.run([VIGIL, *args], capture_output=True, text=True, timeout=600)
        known = make(work, "known.mp4", "testsrc2=size=640x360:rate=30:duration=30",
                     ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        assert run("bank", "add", "police", "--reviewed", "--data-dir", data).returncode == 0
        imported = run("hashset", "import-videos", known, "--bank", "police", "--confirm", "--category",
                       "projectvic-us:1", "--contributor", "Police unit", "--data-dir", data)
        assert imported.returncode == 0, imported.stderr
        ev = os.path.join(work, "evidence")
        os.makedirs(os.path.join(ev, "phone"))
        clip = os.path.join(ev, "phone", "VID_0042.avi")
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-ss", "5", "-i", known, "-t", "12",
                        "-vf", "crop=632:356:4:2,scale=480:270,fps=25", "-c:v", "mpeg4", "-q:v", "4", "-y", clip],
                       check=True, timeout=300)
        make(ev, "life.webm", "life=size=320x240:rate=15:ratio=0.3:seed=7", ["-t", "6", "-c:v", "libvpx", "-b:v", "300k"])
        # A compilation: 15 s of something else, then the whole known video; most of the file is not the known video
        # (under 80% of its frames), but it holds nearly all of the known video's.
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i",
                        "mandelbrot=size=480x270:rate=25", "-i", known, "-filter_complex",
                        "[0:v]trim=duration=15,setpts=PTS-STARTPTS[a];[1:v]scale=480:270,fps=25,setpts=PTS-STARTPTS[b];"
                        "[a][b]concat=n=2:v=1[v]", "-map", "[v]", "-c:v", "mpeg4", "-q:v", "4", "-y",
                        os.path.join(ev, "compilation.mp4")], check=True, timeout=300)
        with open(os.path.join(ev, "cut.mp4"), "wb") as f:
            f.write(open(known, "rb").read()[:3000])
        open(os.path.join(ev, "empty.mp4"), "wb").close()
        with open(os.path.join(ev, "fake.mkv"), "w") as f:
            f.write("not a video at all\n")
        out = os.path.join(work, "out")
        scan = run("scan", ev, "--case", "CASE-16", "--examiner", "E2E", "--out", out, "--data-dir", data,
                   "--thumbnails")
        assert scan.returncode in (0, 1), scan.stdout + scan.stderr
        results = json.load(open(os.path.join(out, "results.json")))
        files = {os.path.basename(f["path"]): f for f in results["files"]}
        c = files["VID_0042.avi"]
        assert c["class"] == "near-match", c
        v = c["video_matches"][0]
        assert v["query_share"] >= 80 and v["categories"].startswith("projectvic-us:1"), v
        main = max(v["ranges"], key=lambda r: r["frames"])
        assert main["file_start"] <= 1 and main["file_end"] >= 10, main
        assert abs(main["video_start"] - (5 + main["file_start"])) <= 1.1, main
        assert files["life.webm"]["class"] == "new-media"
        comp = files["compilation.mp4"]
        assert comp["class"] == "near-match", comp
        cv = comp["video_matches"][0]
        assert cv["query_share"] < 80 <= cv["video_share"], cv
        cmain = max(cv["ranges"], key=lambda r: r["frames"])
        assert abs(cmain["file_start"] - 15 - cmain["video_start"]) <= 1.1, cmain
        assert {"cut.mp4", "empty.mp4", "fake.mkv"} <= set(files), "every file is listed"
        html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
        assert "(vPDQ)" in html and "of the known video" in html
        # A contact sheet for the near-match clip, the compilation and the new video (four frames each, blurred until
        # ticked); none for the hostile files.
        assert html.count("Reveal the video's frames") == 3 and html.count("greyscale video frame") == 12
        assert "<script" not in html
        # What is new goes back to the set: the scan's VICS carries each new or near-match video's frames, and an
        # import makes them video records beside the known one.
        vics = json.load(open(os.path.join(out, "new-media.vics.json")))["value"]
        life = next(m for m in vics if m["MediaFiles"][0]["FileName"] == "life.webm")
        assert len(life["vPDQ"]) == 6 and abs(life["VideoDuration"] - 6) < 0.5, life.get("VideoDuration")
        back = run("hashset", "import", "--format", "vics", os.path.join(out, "new-media.vics.json"), "--data-dir",
                   data)
        assert back.returncode == 0 and f"added {len(vics)}," in back.stdout, back.stdout + back.stderr
        with_frames = [m["MediaFiles"][0]["FileName"] for m in vics if "vPDQ" in m]
        assert {"VID_0042.avi", "compilation.mp4", "life.webm"} <= set(with_frames), with_frames
        assert f"videos: {1 + len(with_frames)} " in run("hashset", "stats", "--data-dir", data).stdout
        for name in ("VID_0042.avi", "compilation.mp4"):
            m = files[name]["video_matches"][0]
            r = max(m["ranges"], key=lambda r: r["frames"])
            print(f"\nscan: {name}: {m['query_share']:.0f}% of its frames, {m['video_share']:.0f}% of the known "
                  f"video's; {r['file_start']:.0f}-{r['file_end']:.0f} s of the file = "
                  f"{r['video_start']:.0f}-{r['video_end']:.0f} s of the known video")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_video_records_travel_as_vics_and_a_scan_against_the_file_finds_a_clip():
    """A police unit exports its video records as VICS for a partner; the partner imports them into its own set
    (frames and all), and an examiner with only the file scans seized media against it, offline."""
    import json
    work = tempfile.mkdtemp(prefix="vigil-video-vics-")
    try:
        def run(*args, ok=True):
            r = subprocess.run([VIGIL, *args], capture_output=True, text=True, timeout=600)
            assert (r.returncode == 0) == ok, r.stdout + r.stderr
            return r
        a, b = os.path.join(work, "a"), os.path.join(work, "b")
        known = make(work, "known.mp4", "testsrc2=size=320x180:rate=25:duration=20",
                     ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        run("bank", "add", "police", "--reviewed", "--data-dir", a)
        run("hashset", "import-videos", known, "--bank", "police", "--confirm", "--category", "projectvic-us:1",
            "--data-dir", a)
        exported = os.path.join(work, "police.json")
        assert "exported 1 records" in run("hashset", "export", "--format", "vics", exported, "--data-dir", a).stdout
        media = json.load(open(exported))["value"]
        assert len(media) == 1 and media[0]["Category"] == 1 and media[0]["MimeType"] == "video/mp4", media
        frames = media[0]["vPDQ"]
        assert 19 <= len(frames) <= 21 and abs(media[0]["VideoDuration"] - 20) < 0.5, media[0]["VideoDuration"]
        assert all(len(line.split(",")) == 4 for line in frames), frames[:2]

        # The partner: imported into its own set, the frames come with the record, and go out again unchanged.
        run("bank", "add", "partner", "--reviewed", "--data-dir", b)
        imported = run("hashset", "import", "--format", "vics", exported, "--bank", "partner", "--confirm",
                       "--data-dir", b)
        assert "added 1" in imported.stdout, imported.stdout
        assert f"videos: 1 ({len(frames)} vPDQ frames)" in run("hashset", "stats", "--data-dir", b).stdout
        again = os.path.join(work, "partner.json")
        run("hashset", "export", "--format", "vics", again, "--data-dir", b)
        assert json.load(open(again))["value"][0]["vPDQ"] == frames

        # The examiner: a re-encoded, cropped clip (0:06-0:16) against the file alone.
        ev = os.path.join(work, "evidence")
        os.makedirs(ev)
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-ss", "6", "-i", known, "-t", "10",
                        "-vf", "crop=312:176:4:2,fps=20", "-c:v", "mpeg4", "-q:v", "4", "-y",
                        os.path.join(ev, "clip.avi")], check=True, timeout=300)
        out = os.path.join(work, "out")
        run("scan", ev, "--case", "CASE-VICS", "--examiner", "E2E", "--out", out, "--against", exported,
            "--data-dir", os.path.join(work, "none"))
        clip = json.load(open(os.path.join(out, "results.json")))["files"][0]
        assert clip["class"] == "near-match", clip
        m = clip["video_matches"][0]
        assert m["query_share"] >= 80 and m["item"].startswith("police.json#"), m
        main = max(m["ranges"], key=lambda r: r["frames"])
        assert abs(main["video_start"] - (6 + main["file_start"])) <= 1.1, main
        # The reference's own form: one .vpdq file per video, which match-video reads as known videos.
        folder = os.path.join(work, "vpdq")
        assert "exported 1 videos" in run("hashset", "export-videos", folder, "--data-dir", a).stdout
        listed = open(os.path.join(folder, "videos.csv")).read().splitlines()
        assert listed[0].startswith("file,item,md5") and len(listed) == 2, listed
        name = listed[1].split(",")[0]
        assert open(os.path.join(folder, name)).read().splitlines() == frames
        shown = run("match-video", "--known", folder, os.path.join(ev, "clip.avi"))
        assert "shows " + os.path.join(folder, name) in shown.stdout, shown.stdout
        assert "left out" not in shown.stderr, "videos.csv is not a video"
        # A partner imports that folder into its own set: digests, category and duration from videos.csv, the
        # frames unchanged; a file named neither by a digest nor in videos.csv is skipped and named.
        c = os.path.join(work, "c")
        run("bank", "add", "partner", "--reviewed", "--data-dir", c)
        stray = os.path.join(work, "stray.vpdq")
        shutil.copy(os.path.join(folder, name), stray)
        got = run("hashset", "import-vpdq", folder, stray, "--bank", "partner", "--confirm", "--data-dir", c)
        assert "videos: added 1," in got.stdout and "stray.vpdq: skipped: a video record needs" in got.stderr, got
        assert f"videos: 1 ({len(frames)} vPDQ frames)" in run("hashset", "stats", "--data-dir", c).stdout
        again_c = os.path.join(work, "partner-c.json")
        run("hashset", "export", "--format", "vics", again_c, "--data-dir", c)
        media_c = json.load(open(again_c))["value"][0]
        assert media_c["vPDQ"] == frames and media_c["Category"] == 1, media_c
        assert abs(media_c["VideoDuration"] - media[0]["VideoDuration"]) < 0.01
        assert "videos: added 0" in run("hashset", "import-vpdq", folder, "--bank", "partner", "--confirm",
                                        "--data-dir", c).stdout
        # A spreadsheet's copy: videos.csv with a byte-order mark still gives the category; the same video twice in
        # one import is stored once, the second file named; a digest cell that is not one skips its file.
        sheet = os.path.join(work, "sheet")
        os.makedirs(os.path.join(sheet, "again"))
        shutil.copy(os.path.join(folder, name), sheet)
        shutil.copy(os.path.join(folder, name), os.path.join(sheet, "again"))
        with open(os.path.join(sheet, "videos.csv"), "w", encoding="utf-8-sig") as f:
            f.write(open(os.path.join(folder, "videos.csv")).read())
        d = os.path.join(work, "d")
        run("bank", "add", "partner", "--reviewed", "--data-dir", d)
        got = run("hashset", "import-vpdq", sheet, "--bank", "partner", "--confirm", "--data-dir", d)
        assert "videos: added 1," in got.stdout and "another file of this import is the video" in got.stderr, got
        run("hashset", "export", "--format", "vics", again_c, "--data-dir", d)
        assert json.load(open(again_c))["value"][0]["Category"] == 1
        with open(os.path.join(sheet, "videos.csv"), "w") as f:
            f.write(open(os.path.join(folder, "videos.csv")).read().replace("," + name[:-5], ",zz" + name[2:-5], 1))
        bad = run("hashset", "import-vpdq", os.path.join(sheet, name), "--data-dir", d, ok=False)
        assert "is not one" in bad.stderr, bad.stderr
        # Exporting again replaces the export; a folder holding anything else is refused, nothing written.
        assert "exported 1 videos" in run("hashset", "export-videos", folder, "--data-dir", a).stdout
        assert sorted(os.listdir(folder)) == sorted([name, "videos.csv"])
        with open(os.path.join(work, "vpdq", "notes.txt"), "w") as f:
            f.write("mine\n")
        refused = run("hashset", "export-videos", folder, "--data-dir", a, ok=False)
        assert "holds other files" in refused.stderr and os.path.exists(os.path.join(folder, name))
        print(f"\nVICS: {len(frames)} frames exported and re-imported; the clip is "
              f"{main['file_start']:.0f}-{main['file_end']:.0f} s = {main['video_start']:.0f}-"
              f"{main['video_end']:.0f} s of {m['item']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
