# SPDX-License-Identifier: GPL-2.0
# Helpers for the guest test scripts (sourced by tests.sh and demo.sh).

MB=${MB:-64}

# t NAME CMD...: run CMD, report "VMTEST ok NAME" or "VMTEST not ok NAME".
t() {
	name=$1; shift
	if out=$("$@" 2>&1); then
		echo "$out" | sed "s/^/# $name: /"
		echo "VMTEST ok $name"
	else
		echo "$out" | sed "s/^/# $name: /"
		echo "VMTEST not ok $name"
	fi
}

param() { cat /sys/module/$1/parameters/$2; }

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] && return 0
	echo "$1: got $2, want $3"
	return 1
}

# mthp_64k on|off: only 64 KiB mTHPs for MADV_HUGEPAGE, or back to PMD THPs.
mthp_64k() {
	T=/sys/kernel/mm/transparent_hugepage
	if [ $1 = on ]; then
		echo never > $T/hugepages-2048kB/enabled &&
			echo madvise > $T/hugepages-64kB/enabled
	else
		echo never > $T/hugepages-64kB/enabled &&
			echo inherit > $T/hugepages-2048kB/enabled
	fi
}
