#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise the BENCH lines of the bench VM: table, CSV and PNG."""
import csv
import statistics
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CONFIGS = ["cpu", "mtcopy1", "mtcopy2", "dcbm", "both"]
KINDS = ["thp", "pages"]


def main():
    raw, out = sys.argv[1], sys.argv[2]
    runs, copy = {}, {}
    for line in open(raw):
        f = line.split()
        if f[0] == "BENCH":
            runs.setdefault((f[2], f[3]), []).append(int(f[4]))
        elif f[0] == "BENCH_COPY" and int(f[3]):
            copy[f[1]] = int(f[2]) / int(f[3]) * 1000  # bytes/ns -> MB/s
    rows = []
    for kind in KINDS:
        base = statistics.median(runs.get(("cpu", kind), [0])) or 1
        for c in CONFIGS:
            v = runs.get((c, kind))
            if not v:
                continue
            med = statistics.median(v)
            rows.append([kind, c, len(v), min(v), med, max(v), med / base])
    with open(f"{out}/bench.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "config", "runs", "min_mbps", "median_mbps",
                    "max_mbps", "ratio_to_cpu"])
        w.writerows(rows)
    print(f"{'memory':7} {'config':8} {'runs':>4} {'min':>6} {'median':>7} "
          f"{'max':>6} {'ratio':>6}   (move_pages node 0 -> 1, MB/s)")
    for r in rows:
        print(f"{r[0]:7} {r[1]:8} {r[2]:4} {r[3]:6} {r[4]:7.0f} {r[5]:6} {r[6]:6.2f}")
    for m, mbps in copy.items():
        print(f"copy throughput of {m} while busy: {mbps:.0f} MB/s")

    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.35
    for i, kind in enumerate(KINDS):
        meds = [next((r[4] for r in rows if r[0] == kind and r[1] == c), 0)
                for c in CONFIGS]
        lo = [m - next((r[3] for r in rows if r[0] == kind and r[1] == c), 0)
              for m, c in zip(meds, CONFIGS)]
        hi = [next((r[5] for r in rows if r[0] == kind and r[1] == c), 0) - m
              for m, c in zip(meds, CONFIGS)]
        ax.bar([x + i * width for x in range(len(CONFIGS))], meds, width,
               yerr=[lo, hi], capsize=3,
               label="2 MiB THP" if kind == "thp" else "4 KiB pages")
    ax.set_xticks([x + width / 2 for x in range(len(CONFIGS))], CONFIGS)
    ax.set_ylabel("MB/s (median, min-max)")
    ax.set_title("move_pages(2) node 0 -> 1 under QEMU TCG")
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{out}/bench.png", dpi=100)
    print(f"wrote {out}/bench.csv and {out}/bench.png")


if __name__ == "__main__":
    main()
