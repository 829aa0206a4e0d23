#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print one TAP line per KUnit test case from kunit.py's JSON results.

usage: tap.py kunit RESULTS.json
Parameterised cases are reported as one line each, failing if any
parameter failed.
"""
import json
import sys


def walk(group, prefix):
    name = prefix + group["name"] if group.get("name") else prefix
    for case in group.get("test_cases", []):
        yield name + "." + case["name"], case["status"]
    for sub in group.get("sub_groups", []):
        yield from walk(sub, name + "." if name else "")


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        data = json.load(f)
    for name, status in walk(data, ""):
        name = name.split(".", 1)[-1] if name.count(".") > 1 else name
        if status == "PASS":
            print(f"ok - {kind}: {name}")
        elif status == "SKIP":
            print(f"ok - {kind}: {name} # SKIP")
        else:
            print(f"not ok - {kind}: {name} ({status})")


if __name__ == "__main__":
    main()
