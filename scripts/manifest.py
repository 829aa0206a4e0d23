#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hold the TAP results of make test against the tests each layer expects.

usage: manifest.py check RESULTS.tap   print TAP lines for what is wrong
       manifest.py update RESULTS.tap  rewrite tests/expected from a run

tests/expected lists every test by its TAP name ("LAYER: NAME"), one per
line.  A test that did not report is a failure, and so is a test that is
not listed (the list is kept honest both ways).  A skip is a failure
unless tests/skips names the test, with its reason after " # ".  The last
line says how many ran of how many expected, per layer on comment lines.
"""
import collections
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = os.path.join(TOP, "tests", "expected")
SKIPS = os.path.join(TOP, "tests", "skips")
LINE = re.compile(r"^(ok|not ok) - (.*?)(?: # SKIP.*)?$")


def results(path):
    """{name: "ok" | "not ok" | "skip"}; a failure keeps its detail."""
    got = {}
    with open(path) as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m or m.group(2).startswith("manifest:"):
                continue
            status = "skip" if "# SKIP" in line else m.group(1)
            got[m.group(2)] = status
    return got


def listed(path):
    if not os.path.exists(path):
        return {}
    out = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                name, _, why = line.partition(" # ")
                out[name] = why
    return out


def reported(name, got):
    """A failing test may carry its detail: "NAME (exit 1)"."""
    return name in got or any(g.startswith(name + " (") for g in got)


def check(path):
    got, want, skips = results(path), listed(EXPECTED), listed(SKIPS)
    bad = 0
    ran, total = collections.Counter(), collections.Counter()
    for name in want:
        layer = name.split(":", 1)[0]
        total[layer] += 1
        if reported(name, got):
            ran[layer] += 1
        else:
            print(f"not ok - manifest: {name}: did not run")
            bad += 1
    for name, status in got.items():
        if status != "not ok" and name not in want:
            print(f"not ok - manifest: {name}: ran, but not in tests/expected")
            bad += 1
        if status == "skip" and name not in skips:
            print(f"not ok - manifest: {name}: skipped, not in tests/skips")
            bad += 1
    for layer in total:
        print(f"# {layer}: {ran[layer]} of {total[layer]} expected tests ran")
    line = f"{sum(ran.values())} of {len(want)} expected tests ran"
    print(f"{'not ok' if bad else 'ok'} - manifest: {line}")


def update(path):
    got = results(path)
    with open(EXPECTED, "w") as f:
        f.write("# Every test of make test, by TAP name: scripts/manifest.py.\n")
        for name in got:
            f.write(re.sub(r" \((exit|FAIL|CRASHED|qemu).*$", "", name) + "\n")


if __name__ == "__main__":
    {"check": check, "update": update}[sys.argv[1]](sys.argv[2])
