# SPDX-License-Identifier: GPL-2.0
# Helpers for the guest test scripts (sourced by tests.sh and demo.sh).

MB=${MB:-64}

# t NAME CMD...: run CMD, report "VMTEST ok NAME" or "VMTEST not ok NAME",
# after CMD's output and the seconds it took (where a layer's time goes).
t() {
	name=$1; shift
	read -r t_start _ < /proc/uptime
	if out=$("$@" 2>&1); then
		t_result=ok
	else
		t_result="not ok"
	fi
	read -r t_end _ < /proc/uptime
	echo "$out" | sed "s/^/# $name: /"
	echo "# $name: $((${t_end%.*} - ${t_start%.*})) s"
	echo "VMTEST $t_result $name"
}

# must CMD...: a setup step; its failure is a failed test of its own.
must() {
	"$@" || { echo "VMTEST not ok setup: $*"; return 1; }
}

# running_on PID CPU: PID is running (R) on CPU, within 5 s.
running_on() {
	i=0
	while [ $i -lt 50 ]; do
		set -- $1 $2 $(cat /proc/$1/stat 2>/dev/null)
		[ "$5" = R ] && [ "${41}" = $2 ] && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
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

# Channels can go away: with testdma per_node (one engine per node) and
# dcbm over both, unbind node 0's engine while memory moves: dcbm releases
# its channels before the driver goes (no WARN, no use after free: KASAN),
# the migration completes with every byte checked, the other nodes' engines
# still copy; bound again, a reload of dcbm takes it back.
dcbm_others_folios() {	# folios copied by dcbm-node1, dcbm-node2, ...
	n=0
	for f in /sys/kernel/mm/migrate_offload/migrators/dcbm-node[1-9]*/stats/folios; do
		n=$((n + $(cat $f)))
	done
	echo $n
}
dcbm_unbind() {
	D=/sys/bus/platform/drivers/testdma M=/sys/kernel/mm/migrate_offload/migrators
	migrate_check thp move_pages 32 > /tmp/unbind.out 2>&1 & p=$!
	sleep 0.3
	echo testdma.0 > $D/unbind || return 1
	wait $p; rc=$?
	cat /tmp/unbind.out
	[ $rc = 0 ] && dmesg | grep -q "dcbm-node0: .* leaves its driver: channel released" ||
		{ echo "no channel released, or the migration failed"; return 1; }
	n0=$(cat $M/dcbm-node0/stats/folios) o0=$(dcbm_others_folios)
	migrate_check thp move_pages 16 || return 1
	n0=$(($(cat $M/dcbm-node0/stats/folios) - n0)) o=$(($(dcbm_others_folios) - o0))
	echo "after unbind: dcbm-node0 copied $n0 THPs, the other nodes' engines $o"
	expect_eq "THPs copied by the unbound engine" $n0 0 && [ $o -gt 0 ] || return 1
	echo testdma.0 > $D/bind && rmmod dcbm && insmod /modules/dcbm.ko channels=2 || return 1
	n0=$(cat $M/dcbm-node0/stats/folios)
	migrate_check thp move_pages 16 || return 1
	n0=$(($(cat $M/dcbm-node0/stats/folios) - n0))
	echo "bound again, dcbm reloaded: dcbm-node0 copied $n0 THPs"
	[ $n0 -gt 0 ]
}

# What the migrators copy is what most tests prove: the CPU copies only what
# they fail (cpu_copy fallback), but where a test turns its share on.
cpu_copy_all() {	# share|fallback
	for f in /sys/kernel/mm/migrate_offload/reasons/*/cpu_copy; do
		[ ! -e $f ] || echo $1 > $f || return 1
	done
}
cpu_copy_all fallback
