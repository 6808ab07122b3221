#!/usr/bin/env python3
"""Helpers for bench/scan/run.sh: generate a seized-drive-like tree, and the reference PDQ pipeline over its images.

Everything is generated here (smooth colour fields, shapes and noise; random bytes); nothing is downloaded.
"""
import csv
import hashlib
import multiprocessing
import os
import sys
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hash"))
from bench import photo_like  # noqa: E402  (bench/hash/bench.py: the same picture recipe)

import numpy as np  # noqa: E402

SIZES = [(320, 240), (640, 480), (800, 600), (1024, 768), (1280, 960), (1600, 1200)]


_BASES = {}


def _base(size, k):
    """One of 16 noisy photo-like base pictures per size, made once per worker (the noise is the slow part)."""
    key = (size, k)
    if key not in _BASES:
        _BASES[key] = photo_like(np.random.default_rng(10_000 + 97 * k + size[0]), size[0], size[1], 4.0)
    return _BASES[key]


def _image(args):
    """A distinct picture: a base picture with its own shapes drawn on it, encoded at its own quality."""
    from PIL import ImageDraw
    path, seed, kind = args
    rng = np.random.default_rng(seed)
    size = SIZES[seed % len(SIZES)] if kind == "jpeg" else SIZES[seed % 3]
    img = _base(size, seed % 16).copy()
    draw = ImageDraw.Draw(img)
    w, h = size
    for _ in range(5):
        x0, y0 = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        x1, y1 = x0 + int(rng.integers(30, w // 2)), y0 + int(rng.integers(30, h // 2))
        draw.ellipse([x0, y0, x1, y1], fill=tuple(int(c) for c in rng.integers(0, 256, size=3)))
    if kind == "jpeg":
        img.save(path, quality=int(70 + seed % 25))
    else:
        img.save(path, compress_level=1)
    return os.path.getsize(path)


def generate(root, files, target_mb, out_set):
    """About `files` files and `target_mb` MB: 35% JPEG, 10% PNG, 30% documents, 10% archives, 15% binaries;
    up to 50 known items planted (their digests in the set) and as many near-duplicates of set items (PDQ in the set)."""
    rng = np.random.default_rng(2024)
    n_jpeg, n_png = int(files * 0.35), int(files * 0.10)
    n_doc, n_zip = int(files * 0.30), int(files * 0.10)
    n_bin = files - n_jpeg - n_png - n_doc - n_zip
    jobs = []
    for i in range(n_jpeg):
        d = f"{root}/user{i % 7}/Pictures/{i % 40:02d}"
        os.makedirs(d, exist_ok=True)
        jobs.append((f"{d}/IMG_{i:05d}.jpg", i, "jpeg"))
    for i in range(n_png):
        d = f"{root}/user{i % 7}/Downloads/{i % 20:02d}"
        os.makedirs(d, exist_ok=True)
        jobs.append((f"{d}/screen_{i:05d}.png", 100_000 + i, "png"))
    with multiprocessing.Pool() as pool:
        image_bytes = sum(pool.map(_image, jobs, chunksize=32))
    doc_bytes = 0
    words = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ".split()
    for i in range(n_doc):
        d = f"{root}/user{i % 7}/Documents/{i % 50:02d}"
        os.makedirs(d, exist_ok=True)
        n = int(rng.integers(200, 4000))
        text = b" ".join(words[j] for j in rng.integers(0, len(words), n))
        with open(f"{d}/note_{i:05d}.txt", "wb") as f:
            f.write(text)
        doc_bytes += len(text)
    # the rest of the byte budget goes to archives and binaries
    left = max(target_mb * 1_000_000 - image_bytes - doc_bytes, (n_zip + n_bin) * 4096)
    per = left / (n_zip + n_bin)
    for i in range(n_zip):
        d = f"{root}/user{i % 7}/Archives"
        os.makedirs(d, exist_ok=True)
        with zipfile.ZipFile(f"{d}/backup_{i:05d}.zip", "w", zipfile.ZIP_STORED) as z:
            z.writestr("data.bin", os.urandom(max(1024, int(rng.exponential(per)))))
    for i in range(n_bin):
        d = f"{root}/Program Files/app{i % 30:02d}"
        os.makedirs(d, exist_ok=True)
        with open(f"{d}/lib_{i:05d}.dll", "wb") as f:
            f.write(os.urandom(max(512, int(rng.exponential(per)))))
    # planted: 50 known items (exact copies, digests in the set) and 50 near-duplicates (re-encoded, PDQ in the set)
    from PIL import Image
    rows = [["md5", "sha1", "sha256", "categories", "series_name"]]
    planted = f"{root}/user3/Pictures/saved"
    os.makedirs(planted, exist_ok=True)
    planted_count = min(50, n_jpeg // 4)
    for i in range(planted_count):
        src = jobs[i * 2][0]
        data = open(src, "rb").read()
        with open(f"{planted}/copy_{i:03d}.jpg", "wb") as f:
            f.write(data)
        rows.append([hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest(),
                     "projectvic-us:1", "Bench series"])
    near_sources = []
    for i in range(planted_count):
        src = jobs[i * 2 + 1][0]
        near_sources.append(src)
        Image.open(src).convert("RGB").save(f"{planted}/resaved_{i:03d}.jpg", quality=55)
    with open(out_set, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return near_sources


def reference(root, out_csv):
    """Pillow + pdqhash over every image in the tree (found by content), on all cores; prints wall seconds."""
    images = []
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                head = f.read(8)
            if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG"):
                images.append(p)
    start = time.perf_counter()
    with multiprocessing.Pool() as pool:
        rows = pool.map(_pdq, images, chunksize=16)
    elapsed = time.perf_counter() - start
    with open(out_csv, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    print(f"{elapsed:.3f} {len(images)}")


def _pdq(path):
    import pdqhash
    from PIL import Image
    img = np.asarray(Image.open(path).convert("RGB"))
    bits, quality = pdqhash.compute(img)
    return [path, np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex(), int(quality)]


def append_pdq_rows(set_csv, reference_csv, near_sources):
    """Adds the PDQ hashes of the near-duplicates' sources (from the reference run) to the set."""
    pdq = {row[0]: row[1] for row in csv.reader(open(reference_csv))}
    rows = list(csv.reader(open(set_csv)))
    header = rows[0] + ["pdq"]
    out = [header] + [r + [""] for r in rows[1:]]
    out += [["", "", "", "projectvic-us:1", "Bench near series", pdq[s]] for s in near_sources if s in pdq]
    with open(set_csv, "w", newline="") as f:
        csv.writer(f).writerows(out)


def main():
    cmd = sys.argv[1]
    if cmd == "gen":
        root, files, mb, set_csv, near_list = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
        near = generate(root, files, mb, set_csv)
        with open(near_list, "w") as f:
            f.write("\n".join(near) + "\n")
    elif cmd == "reference":
        reference(sys.argv[2], sys.argv[3])
    elif cmd == "add-pdq":
        near = open(sys.argv[4]).read().split()
        append_pdq_rows(sys.argv[2], sys.argv[3], near)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
