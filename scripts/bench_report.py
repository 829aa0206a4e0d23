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
# The copy phase adds dcbm with the CPU copying only what it fails, and on
# testdma at half and a quarter of the CPU's speed.
PHASE_CONFIGS = CONFIGS + ["dcbm-fallback", "dcbm-half", "dcbm-quarter"]
KINDS = ["thp", "pages"]


def kv(fields):
    """key=value fields of one line of the in-kernel benchmark."""
    return dict(x.split("=", 1) for x in fields if "=" in x)


def phase_table(phase, out):
    """Copy phase per order, batch size and configuration: medians, and
    the ratio to the CPU paired by round (median and least)."""
    rows = []
    for (order, nr) in sorted({(k[0], k[1]) for k in phase}):
        cpu = phase.get((order, nr, "cpu"), {}).get("round", {})
        base = statistics.median(cpu.values()) if cpu else 1
        for c in PHASE_CONFIGS:
            r = phase.get((order, nr, c))
            if not r:
                continue
            med = statistics.median(r["mbps"])
            paired = [v / cpu[k] for k, v in r["round"].items() if cpu.get(k)]
            rows.append([order, nr, c, len(r["mbps"]), med, med / base,
                         statistics.median(paired) if paired else 0,
                         min(paired) if paired else 0,
                         statistics.median(r["first_ns"]) / 1000,
                         statistics.median(r["median_ns"]) / 1000,
                         min(r["copied"])])
    with open(f"{out}/copy_phase.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["order", "folios", "config", "rounds", "median_mbps",
                    "ratio_to_cpu", "paired_ratio", "least_paired_ratio",
                    "first_folio_us", "last_folio_us", "least_copied"])
        w.writerows(rows)
    print(f"\n{'order':>5} {'folios':>6} {'config':13} {'rounds':>6} {'MB/s':>7} "
          f"{'paired':>6} {'least':>6} {'first us':>9} {'last us':>9} {'copied':>6}"
          "   (copy phase, in the kernel)")
    for r in rows:
        print(f"{r[0]:>5} {r[1]:>6} {r[2]:13} {r[3]:>6} {r[4]:7.0f} {r[6]:6.2f} "
              f"{r[7]:6.2f} {r[8]:9.0f} {r[9]:9.0f} {r[10]:>6}")
    return rows


def verify_table(verify):
    """Time of a copy-phase round with verify 64 and 1, paired with 0."""
    print(f"\n{'migrator':8} {'order':>5} {'folios':>6} {'verify':>6} {'rounds':>6} "
          f"{'median us':>9} {'paired':>6} {'worst':>6}")
    for (m, order, nr), byv in sorted(verify.items()):
        for v in ("0", "64", "1"):
            if v not in byv:
                continue
            ratios = [byv[v][r] / byv["0"][r] for r in byv[v]
                      if byv["0"].get(r)]
            med = statistics.median(byv[v].values()) / 1000
            print(f"{m:8} {order:>5} {nr:>6} {v:>6} {len(byv[v]):>6} {med:9.0f} "
                  f"{statistics.median(ratios):6.2f} {max(ratios):6.2f}")


def main():
    raw, out = sys.argv[1], sys.argv[2]
    runs, copy, phase, arb, rounds, events = {}, {}, {}, {}, {}, {}
    verify = {}
    for line in open(raw):
        f = line.split()
        if f[0] == "BENCH":
            runs.setdefault((f[2], f[3]), []).append(int(f[4]))
            rounds.setdefault((f[3], f[1]), {})[f[2]] = int(f[4])
        elif f[0] == "BENCH_EVENTS":
            events.setdefault((f[2], f[3]), []).append(" ".join(f[4:]))
        elif f[0] == "BENCH_COPY" and int(f[3]):
            copy[f[1]] = int(f[2]) / int(f[3]) * 1000  # bytes/ns -> MB/s
        elif f[0] == "BENCH_PHASE":
            d = kv(f[3:])
            r = phase.setdefault((int(d["order"]), int(d["folios"]), f[2]), {})
            for k in ("mbps", "first_ns", "median_ns", "copied"):
                r.setdefault(k, []).append(int(d[k]))
            r.setdefault("round", {})[f[1]] = int(d["mbps"])
        elif f[0] == "BENCH_VERIFY":
            d = kv(f[4:])
            key = (f[2], d["order"], d["folios"])
            verify.setdefault(key, {}).setdefault(f[3], {})[f[1]] = int(d["median_ns"])
        elif f[0] == "BENCH_ARB":
            d = kv(f[2:])
            arb.setdefault(d["mode"], []).append(int(d["median_ns"]))
    rows = []
    for kind in KINDS:
        base = statistics.median(runs.get(("cpu", kind), [0])) or 1
        for c in CONFIGS:
            v = runs.get((c, kind))
            if not v:
                continue
            med = statistics.median(v)
            # Paired: each run against the CPU run of the same round.
            paired = [r[c] / r["cpu"] for (k, _), r in rounds.items()
                      if k == kind and c in r and r.get("cpu")]
            rows.append([kind, c, len(v), min(v), med, max(v), med / base,
                         statistics.median(paired) if paired else 0,
                         min(paired) if paired else 0,
                         len(events.get((c, kind), []))])
    with open(f"{out}/bench.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "config", "runs", "min_mbps", "median_mbps",
                    "max_mbps", "ratio_to_cpu", "paired_ratio",
                    "least_paired_ratio", "runs_with_events"])
        w.writerows(rows)
    print(f"{'memory':7} {'config':8} {'runs':>4} {'min':>6} {'median':>7} "
          f"{'max':>6} {'ratio':>6} {'paired':>6} {'least':>6} {'events':>6}"
          "   (move_pages node 0 -> 1, MB/s)")
    for r in rows:
        print(f"{r[0]:7} {r[1]:8} {r[2]:4} {r[3]:6} {r[4]:7.0f} {r[5]:6} "
              f"{r[6]:6.2f} {r[7]:6.2f} {r[8]:6.2f} {r[9]:6}")
    for (c, kind), ev in sorted(events.items()):
        for e in ev:
            print(f"events during {kind} {c}: {e}")
    for m, mbps in copy.items():
        print(f"copy throughput of {m} while busy: {mbps:.0f} MB/s")
    prows = phase_table(phase, out) if phase else []
    if verify:
        verify_table(verify)
    if arb.get("cpu") and arb.get("arbitration"):
        cpu, cost = statistics.median(arb["cpu"]), statistics.median(arb["arbitration"])
        print(f"\narbitration alone, 512 x 4 KiB: {cost / 1000:.1f} us, "
              f"{100 * cost / cpu:.2f} % of the CPU copy ({cpu / 1000:.0f} us)")

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 4))
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
    sizes = sorted({r[1] for r in prows if r[0] == 9})
    width2 = 0.8 / len(PHASE_CONFIGS)
    for i, c in enumerate(PHASE_CONFIGS):
        ax2.bar([x + i * width2 for x in range(len(sizes))],
                [next((r[4] for r in prows if r[:3] == [9, n, c]), 0) for n in sizes],
                width2, label=c)
    ax2.set_xticks([x + 0.4 - width2 / 2 for x in range(len(sizes))],
                   [f"{n} THP" for n in sizes])
    ax2.set_ylabel("MB/s (median)")
    ax2.set_title("copy phase in the kernel, 2 MiB folios per batch")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(f"{out}/bench.png", dpi=100)
    print(f"wrote {out}/bench.csv and {out}/bench.png")


if __name__ == "__main__":
    main()
