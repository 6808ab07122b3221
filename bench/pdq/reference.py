#!/usr/bin/env python3
"""PDQ micro-benchmark helper: writes photo-like RGB buffers and times Meta's pdqhash on them.

  reference.py make DIR --count N [--width 1024 --height 768]   raw RGB files + manifest.json
  reference.py time DIR [--repeat R] [--hashes FILE]            pdqhash.compute, single process, best of R rounds;
                                                                with --hashes, checks the Swift hashes in FILE
"""
import argparse
import json
import os
import sys
import time

import numpy as np


def make(args):
    os.makedirs(args.dir, exist_ok=True)
    rng = np.random.default_rng(4)
    h, w = args.height, args.width
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    y /= h
    x /= w
    files = []
    for i in range(args.count):
        img = np.empty((h, w, 3), np.float32)
        for c in range(3):
            f = np.full((h, w), 128.0, np.float32)
            for _ in range(5):
                fx, fy, ph = rng.uniform(0.5, 8, 3)
                f += rng.uniform(10, 35) * np.sin(np.float32(2 * np.pi) * (fx * x + fy * y) + ph)
            img[..., c] = f
        img += rng.normal(0, 4, (h, w, 1)).astype(np.float32)
        name = 'img%04d.rgb' % i
        np.clip(img, 0, 255).astype(np.uint8).tofile(os.path.join(args.dir, name))
        files.append(name)
    json.dump(dict(width=w, height=h, files=files), open(os.path.join(args.dir, 'manifest.json'), 'w'))


def to_hex(bits):
    return '%064x' % int(''.join(str(int(b)) for b in bits), 2)


def time_reference(args):
    import pdqhash
    m = json.load(open(os.path.join(args.dir, 'manifest.json')))
    h, w = m['height'], m['width']
    images = [np.fromfile(os.path.join(args.dir, f), np.uint8).reshape(h, w, 3) for f in m['files']]
    hashes = [to_hex(pdqhash.compute(im)[0]) for im in images]  # warm-up, and the answers
    best, best_cpu = float('inf'), float('inf')
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), time.thread_time()
        for im in images:
            pdqhash.compute(im)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.thread_time() - cpu)
    n = len(images)
    print('pdqhash.compute_rgb images_per_s=%.1f ms_per_image=%.3f cpu_images_per_s=%.1f cpu_ms_per_image=%.3f '
          'images=%d size=%dx%d' % (n / best, best * 1000 / n, n / best_cpu, best_cpu * 1000 / n, n, w, h))
    if args.hashes:
        swift = open(args.hashes).read().split()
        same = sum(a == b for a, b in zip(swift, hashes))
        print('hashes_equal=%d/%d' % (same, n))
        if same != n or len(swift) != n:
            sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    mk = sub.add_parser('make')
    mk.add_argument('dir')
    mk.add_argument('--count', type=int, default=50)
    mk.add_argument('--width', type=int, default=1024)
    mk.add_argument('--height', type=int, default=768)
    tm = sub.add_parser('time')
    tm.add_argument('dir')
    tm.add_argument('--repeat', type=int, default=3)
    tm.add_argument('--hashes')
    args = p.parse_args()
    make(args) if args.cmd == 'make' else time_reference(args)


if __name__ == '__main__':
    main()
