#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: boot the benchmark kernel (the VM config without lock
# debugging and DEBUG_VM, build/vm-bench) once and measure migration
# throughput of THP and 4 KiB memory for: no migrator, mtcopy with 1 and 2
# threads, dcbm on the test DMA engine, and both sharing; then the copy
# phase alone in the kernel per folio order and batch size, the cost of
# arbitration alone per number of migrators and batch size, and the
# latency from a folio's unmap to its remap.  Prints the tables (medians,
# ratios to the CPU), and writes build/bench/*.csv and bench.png.
# "bench.sh nocost" (make bench-nocost) instead boots the benchmark kernel
# with the feature and no migrator and the same kernel without the feature
# alternately, NOCOST_ROUNDS (10) times each, and compares move_pages(2)
# throughput paired by round.  Not a test: nothing here passes or fails on
# a number.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_pkgs python3-matplotlib
"$TOP/scripts/prepare.sh"
"$TOP/scripts/vm-build.sh" bench
out=$BUILD/bench
mkdir -p "$out"
if [ "${1:-}" = nocost ]; then
	"$TOP/scripts/vm-build.sh" bench-off
	: > "$out/nocost.txt"
	for r in $(seq "${NOCOST_ROUNDS:-10}"); do
		# Swapped every round: drift of the host favours neither kernel.
		order="bench bench-off"
		[ $((r % 2)) = 0 ] && order="bench-off bench"
		for v in $order; do
			VM_PREALLOC=1 VM_QUIET=1 VM_DIR=$BUILD/vm-$v "$TOP/scripts/vm-run.sh" nocost >/dev/null ||
				die "nocost VM failed (log: $BUILD/vm-$v/serial-nocost.log)"
			sed -n "s/^NOCOST /BENCH_NOCOST $r $v /p" "$BUILD/vm-$v/serial-nocost.log" >> "$out/nocost.txt"
		done
	done
	exec /usr/bin/python3 "$TOP/scripts/bench_report.py" "$out/nocost.txt" "$out"
fi
# Guest memory preallocated in the host: without, a first touch of a guest
# page faults in the host, and the copy of one 64 MiB migration was seen
# to take from 158 to 2,050 ms in consecutive runs (149 to 289 with).
# The guest trusts the TSC (the host's, under TCG): it would otherwise mark
# it unstable and time with the HPET, whose every read is an exit to QEMU
# (a 4 KiB copy timed 14.4 us with it, 13.1 with the TSC, medians of 8).
VM_PREALLOC=1 VM_QUIET=1 VM_TIMEOUT=${VM_TIMEOUT:-2400} VM_DIR=$BUILD/vm-bench \
	VM_APPEND="${BENCH_APPEND-tsc=reliable}" "$TOP/scripts/vm-run.sh" bench >/dev/null ||
	die "bench VM failed (log: $BUILD/vm-bench/serial-bench.log)"
grep -E '^BENCH' "$BUILD/vm-bench/serial-bench.log" > "$out/raw.txt"
# dcbm's descriptors and interrupts per MiB: a boot of its own (dcbm alone,
# no minimum batch), seconds long.
VM_PREALLOC=1 VM_QUIET=1 VM_DIR=$BUILD/vm-bench "$TOP/scripts/vm-run.sh" descs >/dev/null ||
	die "descs VM failed (log: $BUILD/vm-bench/serial-descs.log)"
grep -E '^BENCH_DESC' "$BUILD/vm-bench/serial-descs.log" >> "$out/raw.txt"
/usr/bin/python3 "$TOP/scripts/bench_report.py" "$out/raw.txt" "$out"
