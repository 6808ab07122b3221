#!/usr/bin/env python3
"""faiss IndexBinaryFlat over the frame index's stored frames (bench/video/run.sh, #16).

    faiss_frames.py DIR VIGIL_JSON [--clips N]

DIR holds `BenchMatch frames --out DIR`'s frames.stored.bin (every distinct stored frame hash, 32-byte big-endian
records) and frames.clips.bin (60-frame clips). Each clip's 60 frames are one range_search within 31 bits on one
thread (faiss keeps distances strictly below its radius, so 32), as FrameIndex.search answers a clip on one core.
Prints one JSON line with the median and worst milliseconds per clip and the ratio to VigilMatch's median from
VIGIL_JSON (the line BenchMatch frames printed).
"""
import json
import sys
import time

import faiss
import numpy as np

out, vigil = sys.argv[1], json.loads(sys.argv[2])
clips = int(sys.argv[sys.argv.index("--clips") + 1]) if "--clips" in sys.argv else 20
faiss.omp_set_num_threads(1)
stored = np.fromfile(f"{out}/frames.stored.bin", dtype=np.uint8).reshape(-1, 32)
queries = np.fromfile(f"{out}/frames.clips.bin", dtype=np.uint8).reshape(-1, 60, 32)
t = time.monotonic()
index = faiss.IndexBinaryFlat(256)
index.add(stored)
build = time.monotonic() - t
times, found = [], 0
for clip in queries[:clips]:
    t = time.monotonic()
    lims, _, _ = index.range_search(np.ascontiguousarray(clip), 32)
    times.append(time.monotonic() - t)
    found += lims[-1] > 0
times.sort()
median = times[len(times) // 2] * 1000
print(json.dumps({
    "engine": "faiss.IndexBinaryFlat", "stored_entries": int(stored.shape[0]), "build_s": round(build, 2),
    "clips": len(times), "clips_with_frames_within_31": int(found), "clip_ms_median": round(median, 1),
    "clip_ms_max": round(times[-1] * 1000, 1),
    "faiss_over_vigil_median": round(median / vigil["clip_ms_median"], 1),
}, sort_keys=True))
