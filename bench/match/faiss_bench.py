#!/usr/bin/env python3
"""faiss side of bench/match/run.sh: the same data files, the same queries, the same truth as BenchMatch.

    faiss_bench.py --out DIR --set SET --index flat|mih [--radius 31] [--nhash 16 --b 16 --nflip 1]
                   [--single-queries N]

Appends one JSON line to DIR/results.jsonl. faiss range_search keeps distances strictly below its radius,
so it is called with radius + 1.
"""
import argparse
import json
import os
import resource
import time

import numpy as np


def mem():
    rss = peak = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    return rss, peak


def available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def read_truth(path, nq):
    truth = [set() for _ in range(nq)]
    with open(path) as f:
        for line in f:
            q, i, d = line.split()
            truth[int(q)].add((int(i), int(d)))
    return truth


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--set", required=True)
    p.add_argument("--index", choices=["flat", "mih"], required=True)
    p.add_argument("--radius", type=int, default=31)
    p.add_argument("--nhash", type=int, default=16)
    p.add_argument("--b", type=int, default=16)
    p.add_argument("--nflip", type=int, default=1)
    p.add_argument("--single-queries", type=int, default=1000,
                   help="queries timed single-threaded (a prefix; even positions planted, odd random)")
    p.add_argument("--min-free-gb", type=float, default=0.0)
    a = p.parse_args()

    data_path = os.path.join(a.out, a.set + ".bin")
    n = os.path.getsize(data_path) // 32
    need = a.min_free_gb * 2**30
    if need and available() < need:
        print(f"SKIP faiss {a.index} {a.set}: {available() / 2**30:.1f} GiB available, {a.min_free_gb} GiB wanted")
        record = {"engine": f"faiss-{a.index}", "set": a.set, "skipped": "memory"}
        with open(os.path.join(a.out, "results.jsonl"), "a") as f:
            f.write(json.dumps(record) + "\n")
        return

    import faiss

    queries = np.fromfile(os.path.join(a.out, a.set + ".queries.bin"), dtype=np.uint8).reshape(-1, 32)
    nq = len(queries)
    truth = read_truth(os.path.join(a.out, f"{a.set}.truth.r{a.radius}.txt"), nq)
    data = np.fromfile(data_path, dtype=np.uint8).reshape(-1, 32)
    rss_before, _ = mem()

    t = time.perf_counter()
    if a.index == "flat":
        index = faiss.IndexBinaryFlat(256)
        name = "faiss-IndexBinaryFlat"
    else:
        index = faiss.IndexBinaryMultiHash(256, a.nhash, a.b)
        index.nflip = a.nflip
        name = f"faiss-IndexBinaryMultiHash(nhash={a.nhash},b={a.b},nflip={a.nflip})"
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    index.add(data)
    build = time.perf_counter() - t
    del data
    rss_after, _ = mem()

    def search(qs):
        lims, D, I = index.range_search(qs, a.radius + 1)
        return [list(zip(I[lims[i]:lims[i + 1]].tolist(), D[lims[i]:lims[i + 1]].tolist())) for i in range(len(qs))]

    ns = min(a.single_queries, nq)
    faiss.omp_set_num_threads(1)
    t = time.perf_counter()
    c = time.process_time()
    single_results = [search(queries[i:i + 1])[0] for i in range(ns)]
    single = time.perf_counter() - t
    single_cpu = time.process_time() - c

    threads = os.cpu_count() or 1
    faiss.omp_set_num_threads(threads)
    t = time.perf_counter()
    results = search(queries)
    multi = time.perf_counter() - t
    assert [sorted(r) for r in results[:ns]] == [sorted(r) for r in single_results]

    truth_pairs = sum(len(s) for s in truth)
    hits = extra = beyond = 0
    for qi, found in enumerate(results):
        for i, d in found:
            if d > a.radius:
                beyond += 1
            if (i, d) in truth[qi]:
                hits += 1
            else:
                extra += 1
    record = {
        "engine": name, "set": a.set, "n": n, "radius": a.radius, "queries": nq, "single_queries": ns,
        "build_s": build, "jobs": threads, "rss_before_build": rss_before, "rss_after_build": rss_after,
        "index_rss_bytes": rss_after - rss_before, "peak_rss": mem()[1],
        # Flat holds exactly the codes; for MultiHash the RSS growth of the build is the measure.
        "index_bytes": n * 32 if a.index == "flat" else rss_after - rss_before,
        "qps_1": ns / single, "qps_1_cpu": ns / single_cpu, "qps_all": nq / multi,
        "recall": 1.0 if truth_pairs == 0 else hits / truth_pairs, "truth_pairs": truth_pairs,
        "found_pairs": hits + extra, "beyond_r": beyond, "not_in_truth": extra,
        "faiss": faiss.__version__,
    }
    line = json.dumps(record, sort_keys=True)
    print(line)
    with open(os.path.join(a.out, "results.jsonl"), "a") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    main()
