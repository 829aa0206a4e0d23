#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: boot the VM once and measure migration throughput of THP and
# 4 KiB memory for: no migrator, mtcopy with 1 and 2 threads, dcbm on the
# test DMA engine, and both sharing.  Prints a table (min/median/max MB/s,
# ratio of medians to the CPU), the copy throughput of each migrator from
# its statistics, and writes build/bench/bench.csv and bench.png.  Not a
# test: nothing here passes or fails on a number.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_pkgs python3-matplotlib
"$TOP/scripts/prepare.sh"
"$TOP/scripts/vm-build.sh"
out=$BUILD/bench
mkdir -p "$out"
VM_QUIET=1 VM_TIMEOUT=${VM_TIMEOUT:-1800} \
	VM_APPEND="${BENCH_APPEND:-}" "$TOP/scripts/vm-run.sh" bench >/dev/null ||
	die "bench VM failed (log: $BUILD/vm/serial-bench.log)"
grep -E '^BENCH' "$BUILD/vm/serial-bench.log" > "$out/raw.txt"
/usr/bin/python3 "$TOP/scripts/bench_report.py" "$out/raw.txt" "$out"
