#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build and run the KUnit suites (tests/kunit/.kunitconfig) for x86_64 under
# QEMU TCG, in build/kunit, with ccache (make kunit).  With LOG, the serial
# log of a kernel that ran them built in at boot (make test: the KASAN VM
# kernel), only parse them.  Writes results.json and prints one TAP line
# per test case (scripts/tap.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/kunit
mkdir -p "$out"
rm -f "$out/results.json"
report() {	# one TAP line per case, then the kernel log's; exits
	if [ ! -s "$out/results.json" ]; then
		tail -n 40 "$out/kunit.log" >&2
		echo "not ok - kunit: no results (build or boot failed, log: $out/kunit.log)"
		exit 1
	fi
	# Measurements the suites print with kunit_info(), as TAP comments.
	grep -E '^ *# [a-z0-9_]+: ' "$out/test.log" 2>/dev/null |
		grep -vE 'EXPECTATION|ASSERTION|Subtest|pass:|# module:' | sed 's/^ */# /' || true
	# Why a case failed: KUnit's report of each failed expectation.
	sed 's/^\[[ 0-9.]*\] //' "$out/test.log" 2>/dev/null | awk '
		/(EXPECTATION|ASSERTION) FAILED at/ { n = 8 }
		!/^ / || /^ *(not )?ok [0-9]/ { n = 0 }
		n-- > 0 { print "# " $0 }'
	# kunit.py writes results even when it found no KTAP output at all.
	tap=$(python3 "$TOP/scripts/tap.py" kunit "$out/results.json")
	if [ -z "$tap" ]; then
		echo "not ok - kunit: no test case ran (log: $out/kunit.log)"
		rc=1
	else
		echo "$tap"
	fi
	klog_check kunit KUnit "$out/test.log" || rc=1
	exit $rc
}

rc=0
if [ $# = 1 ]; then
	# The boot up to init: the suites run before it, nothing after counts.
	sed '/Run \/init as init process/q' "$1" > "$out/test.log"
	(cd "$TREE" && python3 tools/testing/kunit/kunit.py parse --json="$out/results.json" \
		"$out/test.log") >"$out/kunit.log" 2>&1 || true
	report
fi
# 2 NUMA nodes of 512 MiB inside kunit's fixed 1 GiB.
qemu_numa="-smp 2,sockets=2,cores=1,threads=1
 -object memory-backend-ram,id=m0,size=512M
 -object memory-backend-ram,id=m1,size=512M
 -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1"
rc=0
(cd "$TREE" && python3 tools/testing/kunit/kunit.py run --arch=x86_64 \
	--kunitconfig="$TOP/tests/kunit/.kunitconfig" --build_dir="$out" \
	--make_options CC="ccache gcc" --make_options HOSTCC="ccache gcc" \
	--jobs="$JOBS" --timeout=600 --qemu_args "$qemu_numa" \
	--json="$out/results.json") >"$out/kunit.log" 2>&1 || rc=$?
report
