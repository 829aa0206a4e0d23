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
