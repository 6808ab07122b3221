#!/usr/bin/env python3
"""Prints the bench/match results (one JSON object a line) as a table, with the ratios the goals name."""
import json
import sys


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    print("| set | engine | build s | index MiB | B/hash | peak RSS MiB | q/s 1 thread (per CPU s) "
          "| q/s all cores | recall | beyond r |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    by = {}
    for r in rows:
        if r.get("skipped"):
            print(f"| {r['set']} | {r['engine']} | skipped: {r['skipped']} | | | | | | | |")
            continue
        by[(r["set"], r["engine"])] = r
        index_bytes = r.get("index_bytes") or r.get("index_rss_bytes") or 0
        print(f"| {r['set']} | {r['engine']} | {r['build_s']:.2f} | {index_bytes / 2**20:.0f} "
              f"| {index_bytes / r['n']:.1f} | {r['peak_rss'] / 2**20:.0f} "
              f"| {r['qps_1']:.1f} ({r.get('qps_1_cpu', 0):.1f}) | {r['qps_all']:.1f} "
              f"| {r['recall']:.4f} | {r['beyond_r']} |")
    print()
    for s in sorted({k[0] for k in by}):
        v = by.get((s, "VigilMatch"))
        if not v:
            continue
        for other in sorted(e for (t, e) in by if t == s and e.startswith("faiss")):
            f = by[(s, other)]
            if f:
                print(f"{s}: VigilMatch / {other} single-thread q/s = {v['qps_1'] / f['qps_1']:.1f}x wall, "
                      f"{v.get('qps_1_cpu', 0) / max(f.get('qps_1_cpu', 0), 1e-9):.1f}x per CPU second")
    r, c = by.get(("random_10m", "VigilMatch")), by.get(("clustered_10m", "VigilMatch"))
    if r and c:
        print(f"clustered_10m vs random_10m (VigilMatch, single thread): {c['qps_1'] / r['qps_1']:.2f}x wall, "
              f"{c.get('qps_1_cpu', 0) / max(r.get('qps_1_cpu', 0), 1e-9):.2f}x per CPU second")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/out/match/results.jsonl")
