#!/usr/bin/env python3
"""Helpers for bench/hash/run.sh: generate the benchmark files, run the reference PDQ pipeline, compare hashes.

Every image is generated here (smooth colour fields, shapes and noise); nothing is downloaded.
"""
import argparse
import csv
import math
import os
import statistics
import sys
import time

import numpy as np
from PIL import Image, ImageDraw


def photo_like(rng, width, height, noise_sigma):
    """A smooth random colour field with a few soft shapes and sensor-like noise."""
    small = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    field = Image.fromarray(small, "RGB").resize((width, height), Image.BICUBIC)
    draw = ImageDraw.Draw(field)
    for _ in range(int(rng.integers(3, 8))):
        x0, y0 = int(rng.integers(0, width - 50)), int(rng.integers(0, height - 50))
        x1, y1 = x0 + int(rng.integers(40, width // 2)), y0 + int(rng.integers(40, height // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
    pixels = np.asarray(field, dtype=np.float32)
    pixels += rng.normal(0, noise_sigma, size=pixels.shape).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def generate(out, count, digest_extra_mb):
    os.makedirs(f"{out}/jpeg", exist_ok=True)
    os.makedirs(f"{out}/png", exist_ok=True)
    os.makedirs(f"{out}/mixed/small", exist_ok=True)
    for i in range(count):
        rng = np.random.default_rng(i)
        photo_like(rng, 1024, 768, 6.0).save(f"{out}/jpeg/photo{i:04d}.jpg", quality=90)
        photo_like(rng, 1024, 768, 2.0).save(f"{out}/png/photo{i:04d}.png", compress_level=1)
    # Digest corpus: the images above (many files of 0.1-2 MB) plus many small files and a few large ones.
    rng = np.random.default_rng(12345)
    small_total = 0
    for i in range(2000):
        size = int(rng.integers(1, 64 * 1024))
        with open(f"{out}/mixed/small/f{i:05d}.bin", "wb") as f:
            f.write(rng.bytes(size))
        small_total += size
    large = max(0, digest_extra_mb)
    for i in range(3):
        with open(f"{out}/mixed/large{i}.bin", "wb") as f:
            for _ in range(large // 3):
                f.write(rng.bytes(1 << 20))


def reference(folder, mode, out_csv):
    """The reference pipeline: Pillow decode (+ draft() in fast mode) and pdqhash.compute, one process."""
    import pdqhash

    files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
    start = time.perf_counter()
    cpu_start = time.process_time()
    rows = []
    for path in files:
        image = Image.open(path)
        if mode == "fast" and image.format == "JPEG":
            w, h = image.size
            longer = max(w, h)
            if longer > 512:
                image.draft("RGB", (math.ceil(w * 512 / longer), math.ceil(h * 512 / longer)))
        pixels = np.asarray(image.convert("RGB"))
        bits, quality = pdqhash.compute(pixels)
        rows.append((path, np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex(), int(quality)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    with open(out_csv, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "pdq", "pdq_quality"])
        writer.writerows(rows)
    print(f"{elapsed:.3f} {cpu:.3f}")


def timed(out_path, command):
    """Runs a command with stdout to a file; prints wall seconds and the CPU seconds (user + system) it used."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(out_path, "wb") as out:
        code = subprocess.call(command, stdout=out)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if code not in (0, 1):
        print(f"command failed with {code}: {' '.join(command)}", file=sys.stderr)
        sys.exit(code)
    print(f"{elapsed:.3f} {cpu:.3f}")


def read_hashes(path):
    with open(path, newline="") as f:
        return {os.path.basename(r["path"]): r["pdq"] for r in csv.DictReader(f) if r.get("pdq")}


def compare(a_csv, b_csv):
    """Median and max Hamming distance between two hash lists (matched by file name), and exact matches."""
    a, b = read_hashes(a_csv), read_hashes(b_csv)
    common = sorted(set(a) & set(b))
    if not common:
        print("no common files")
        return
    dists = [bin(int(a[k], 16) ^ int(b[k], 16)).count("1") for k in common]
    exact = sum(1 for d in dists if d == 0)
    print(f"n={len(common)} median={statistics.median(dists)} max={max(dists)} "
          f"mean={statistics.mean(dists):.2f} identical={exact}")


def openssl_limit(text):
    """Parses `openssl speed -bytes 1048576 md5 sha1 sha256` output; prints each speed and the 1-core limit."""
    speeds = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("md5", "sha1", "sha256") and parts[1].endswith("k"):
            speeds[parts[0]] = float(parts[1][:-1]) * 1000 / 1e6  # MB/s
    if len(speeds) != 3:
        print("openssl speed output not understood", file=sys.stderr)
        sys.exit(1)
    limit = 1 / sum(1 / v for v in speeds.values())
    print(" ".join(f"{k}={v:.0f}MB/s" for k, v in speeds.items()) + f" limit={limit:.0f}MB/s")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("out")
    g.add_argument("--count", type=int, default=500)
    g.add_argument("--large-mb", type=int, default=384)
    r = sub.add_parser("reference")
    r.add_argument("folder")
    r.add_argument("mode", choices=["exact", "fast"])
    r.add_argument("out_csv")
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    sub.add_parser("openssl-limit")
    t = sub.add_parser("time")
    t.add_argument("out")
    t.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.cmd == "gen":
        generate(args.out, args.count, args.large_mb)
    elif args.cmd == "reference":
        reference(args.folder, args.mode, args.out_csv)
    elif args.cmd == "compare":
        compare(args.a, args.b)
    elif args.cmd == "time":
        timed(args.out, [a for a in args.command if a != "--"] if args.command[:1] == ["--"] else args.command)
    else:
        openssl_limit(sys.stdin.read())


if __name__ == "__main__":
    main()
