# SPDX-License-Identifier: GPL-2.0
# The migration matrix: every folio kind through every migration reason
# that QEMU can trigger, every byte checked (migrate_kinds), each cell with
# no migrator and with offload forced (mtcopy and dcbm at equal priority,
# every order, no minimum batch).  Each cell proves its route from
# reasons/<reason>/stats/: what was batch-copied, by whom, what was left to
# the per-folio copy.  Sourced by tests.sh and feature_off.sh (after
# lib.sh); defines matrix_forced, matrix_offloaded and matrix_hugetlb.

MO=/sys/kernel/mm/migrate_offload
KIB=${MATRIX_KIB:-4096}
NODE=/sys/devices/system/node
HP=hugepages/hugepages-2048kB/nr_hugepages

# sum VAR FILE...: VAR is the sum of the numbers in the files, a missing
# file 0.  Builtins only: under KASAN a fork and exec of cat cost about a
# tenth of a second, and a cell read 28 counters (4 of its 12 seconds).
sum() {
	_v=$1 _n=0
	shift
	for _p; do
		_x=0
		{ read -r _x < "$_p"; } 2>/dev/null
		_n=$((_n + _x))
	done
	eval "$_v=$_n"
}

# rstat REASON[+REASON...] STAT: the sum over the reasons; without the
# feature (feature_off.sh) every counter reads 0.
rstat() {
	_l= _s=$2
	IFS=+
	set -- $1
	unset IFS
	for _r; do _l="$_l $MO/reasons/$_r/stats/$_s"; done
	sum _n $_l
	echo $_n
}
mfolios() {	# [MIGRATOR]: folios copied by it, or by all
	sum _n $MO/migrators/${1:-*}/stats/folios
	echo $_n
}

# counters REASON[+REASON...]: what a cell compares before and after its
# run, in _b _f _c _fb (the reasons') and _m _d _t (all migrators', dcbm's
# and mtcopy's folios); no fork.
counters() {
	for _s in batches:_b folios:_f cpu_folios:_c fallback_folios:_fb; do
		_l=
		IFS=+
		for _r in $1; do _l="$_l $MO/reasons/$_r/stats/${_s%:*}"; done
		unset IFS
		sum ${_s#*:} $_l
	done
	sum _m $MO/migrators/*/stats/folios
	sum _d $MO/migrators/dcbm/stats/folios
	sum _t $MO/migrators/mtcopy/stats/folios
	read -r _now _ < /proc/uptime
	_now=${_now%.*}
}

# cell MODE KIND HOW KIB REASON ROUTE [FILE]: REASON may be several, joined
# with "+" (promotion demotes first).
# ROUTE, with offload forced: "offload" (folios were batch-copied, all by
# migrators), "all" (that, and none left to the per-folio copy), "cpu"
# (none batch-copied, some left to the per-folio copy: buffer heads),
# "nobatch" (no batch at all: hugetlb).  With no migrator nothing is
# counted at all.
cell() {
	mode=$1 kind=$2 how=$3 kib=$4 reason=$5 route=$6 file=${7:-}
	counters $reason
	b0=$_b f0=$_f c0=$_c fb0=$_fb m0=$_m d0=$_d t0=$_t s0=$_now
	out=$(migrate_kinds $kind $how $kib $file 2>&1)
	rc=$?
	# The data may land where the way cannot reach it: memory hotplug,
	# only in blocks that cannot go offline (Normal pages or firmware
	# pages in them, as the history of the VM has it); compaction, above
	# the point where its two scanners meet (it moves what lies below).
	# Fault it in afresh, up to 8 times.  Every try checked its bytes: a
	# failed try must have lost none.
	tries=1
	while [ $rc != 0 ] && [ $tries -lt 8 ] &&
		{ { [ $how = offline ] && echo "$out" | grep -q blocks_offlined=0; } ||
		{ [ $how = compact ] && echo "$out" | grep -q 'moved none of the data'; }; }; do
		echo "$out"
		echo "$out" | grep -q 'bad_bytes=0 ' ||
			{ echo "try $tries: bytes lost or not checked"; return 1; }
		echo "the way reached none of the data: try $((tries += 1))"
		out=$(migrate_kinds $kind $how $kib $file 2>&1)
		rc=$?
	done
	echo "$out"
	[ $rc = 0 ] || return 1
	counters $reason
	b=$((_b - b0)) f=$((_f - f0)) c=$((_c - c0)) fb=$((_fb - fb0)) m=$((_m - m0))
	echo "CELL $mode $kind $how bytes=$(($kib * 1024)) batches=$b batch_copied=$f by_migrators=$m" \
		"dcbm=$((_d - d0)) mtcopy=$((_t - t0))" \
		"cpu_fallback=$fb per_folio=$c seconds=$((_now - s0))"
	if [ $mode != forced ]; then
		expect_eq "batches counted with no migrator" $b 0
		return
	fi
	case $route in
	offload|all)
		[ $f -gt 0 ] || { echo "nothing batch-copied"; return 1; }
		# No CPU fallback: the reason's batch-copied folios were all
		# copied by migrators.  Their counters are not per reason and
		# background migrations (kcompactd, kswapd, NUMA balancing of
		# other tasks) straddle the reads: a bound, with 5 % slack.
		[ $((m * 20)) -ge $((f * 19)) ] ||
			{ echo "migrators copied $m folios, far fewer than $f"; return 1; }
		expect_eq "CPU fallback folios" $fb 0 || return 1
		[ $route = offload ] && return
		# The ways that name the memory move every folio of it, each
		# batch-copied (a retried move copies again: at least).
		n=$((kib / ${EXPECT_FOLIO_KIB:-4}))
		case $how in move_pages|mbind|migrate_pages|soft_offline)
			[ $f -ge $n ] || { echo "batch-copied $f folios of the cell's $n"; return 1; } ;;
		esac
		# NUMA balancing also migrates other tasks' pages meanwhile (the
		# shell's, a mapped text page with its extra references): 1 %.
		if [ $reason = numa_misplaced ]; then
			[ $((c * 100)) -le $f ] ||
				{ echo "folios left to the per-folio copy: $c of $f"; return 1; }
		else
			expect_eq "folios left to the per-folio copy" $c 0
		fi ;;
	cpu)
		expect_eq "folios batch-copied" $f 0 || return 1
		[ $c -gt 0 ] || { echo "no folio counted for the per-folio copy"; return 1; } ;;
	nobatch)
		# The reason's own counters: other migrations (kcompactd)
		# may go through the migrators meanwhile.
		expect_eq "batches" $b 0 && expect_eq "folios batch-copied" $f 0 ;;
	esac
}

# large KIB [AFTER] CMD...: the data's folios must be of KIB before the move
# and of AFTER (default KIB; 0: not checked) after it (/proc/kpageflags).
large() {
	EXPECT_FOLIO_KIB=$1 EXPECT_FOLIO_KIB_AFTER=$1
	shift
	case $1 in [0-9]*) EXPECT_FOLIO_KIB_AFTER=$1; shift ;; esac
	export EXPECT_FOLIO_KIB EXPECT_FOLIO_KIB_AFTER
	"$@"; rc=$?
	unset EXPECT_FOLIO_KIB EXPECT_FOLIO_KIB_AFTER
	return $rc
}

hugetlb_pools() {	# NODE0 NODE1
	echo $1 > $NODE/node0/$HP && echo $2 > $NODE/node1/$HP &&
		expect_eq "node0 pool" $(cat $NODE/node0/$HP) $1 &&
		expect_eq "node1 pool" $(cat $NODE/node1/$HP) $2
}

# hugetlb_cell MODE KIND HOW NODE1_POOL AFTER0 AFTER1 [FILE]: 4 MiB of
# hugetlb memory from a pool of 2 pages on node 0 to node 1 whose pool has
# NODE1_POOL pages; then the pools must read AFTER0 and AFTER1, as on the
# kernel without the feature.  Into an empty pool the pages move as
# temporary surplus pages that become persistent while the sources
# dissolve: (0, 2).  A leaked page would read (2, 2) or more.
hugetlb_cell() {
	hugetlb_pools 2 $4 || return 1
	export FOLIO_KIB=2048 EXPECT_FOLIO_KIB=2048 EXPECT_FOLIO_KIB_AFTER=2048
	r=syscall_or_cpuset
	[ $3 = mbind ] && r=mempolicy_mbind
	[ $3 = soft_offline ] && r=memory_failure
	cell $1 $2 $3 4096 $r nobatch $7; rc=$?
	unset FOLIO_KIB EXPECT_FOLIO_KIB EXPECT_FOLIO_KIB_AFTER
	[ $rc = 0 ] || return 1
	[ -z "$7" ] || rm -f $7
	expect_eq "node0 pool after" $(cat $NODE/node0/$HP) $5 &&
		expect_eq "node1 pool after" $(cat $NODE/node1/$HP) $6
}

matrix() {
	mode=$1
	mkdir -p /mnt/shmthp /mnt/ext2 /mnt/hugetlbfs
	t matrix.$mode.anon.move_pages cell $mode anon move_pages $KIB syscall_or_cpuset all
	t matrix.$mode.anon.migrate_pages cell $mode anon migrate_pages $KIB syscall_or_cpuset offload
	t matrix.$mode.anon.mbind cell $mode anon mbind $KIB mempolicy_mbind all
	t matrix.$mode.thp.move_pages large 2048 cell $mode thp move_pages $KIB syscall_or_cpuset all
	t matrix.$mode.thp.mbind large 2048 cell $mode thp mbind $KIB mempolicy_mbind all
	t matrix.$mode.thp.migrate_pages large 2048 cell $mode thp migrate_pages $KIB syscall_or_cpuset offload
	mthp_64k on
	t matrix.$mode.mthp64k.mbind large 64 cell $mode mthp mbind $KIB mempolicy_mbind all
	t matrix.$mode.mthp64k.move_pages large 64 cell $mode mthp move_pages $KIB syscall_or_cpuset all
	mthp_64k off
	t matrix.$mode.shared.move_pages cell $mode shared move_pages $KIB syscall_or_cpuset all
	t matrix.$mode.shared.mbind cell $mode shared mbind $KIB mempolicy_mbind all
	t matrix.$mode.fork.move_pages cell $mode fork move_pages $KIB syscall_or_cpuset all
	t matrix.$mode.fork.migrate_pages cell $mode fork migrate_pages $KIB syscall_or_cpuset offload
	t matrix.$mode.tmpfs.move_pages cell $mode file move_pages $KIB syscall_or_cpuset all /tmp/matrix
	t matrix.$mode.tmpfs.mbind cell $mode file mbind $KIB mempolicy_mbind all /tmp/matrix
	t matrix.$mode.tmpfs.migrate_pages cell $mode file migrate_pages $KIB syscall_or_cpuset offload /tmp/matrix
	rm -f /tmp/matrix
	mount -t tmpfs -o huge=always,size=64M none /mnt/shmthp
	t matrix.$mode.tmpfs_huge.move_pages large 2048 cell $mode file move_pages $KIB syscall_or_cpuset all /mnt/shmthp/f
	t matrix.$mode.tmpfs_huge.mbind large 2048 cell $mode file mbind $KIB mempolicy_mbind all /mnt/shmthp/f
	umount /mnt/shmthp
	# ext2 page cache carries buffer heads: buffer_migrate_folio() copies
	# itself, so these folios stay on the per-folio path.
	t matrix.$mode.ext2.mounted sh -c 'mke2fs /dev/ram0 >/dev/null && mount -t ext2 /dev/ram0 /mnt/ext2'
	t matrix.$mode.ext2.move_pages cell $mode file move_pages $KIB syscall_or_cpuset cpu /mnt/ext2/f
	t matrix.$mode.ext2.mbind cell $mode file mbind $KIB mempolicy_mbind cpu /mnt/ext2/f
	umount /mnt/ext2
	t matrix.$mode.ksm.move_pages cell $mode ksm move_pages $KIB syscall_or_cpuset offload
	t matrix.$mode.mlock.move_pages cell $mode mlock move_pages $KIB syscall_or_cpuset all
	t matrix.$mode.mlock.mbind cell $mode mlock mbind $KIB mempolicy_mbind all
	t matrix.$mode.writers.move_pages cell $mode writers move_pages $KIB syscall_or_cpuset offload
	t matrix.$mode.anon.compaction cell $mode anon compact $KIB compaction offload
	# 128 MiB: the first movable block also holds Normal pages and the
	# last ACPI tables; the data must reach a block that can go offline.
	t matrix.$mode.anon.memory_hotplug cell $mode anon offline 131072 memory_hotplug offload
	t matrix.$mode.anon.longterm_pin cell $mode anon pin $KIB longterm_pin offload
	t matrix.$mode.anon.contig_range cell $mode anon contig $KIB contig_range offload
	t matrix.$mode.anon.damon cell $mode anon damon $KIB damon offload
	t matrix.$mode.anon.demotion tiered cell $mode anon demote $KIB demotion offload
	t matrix.$mode.thp.demotion large 2048 0 tiered cell $mode thp demote $KIB demotion offload
	t matrix.$mode.anon.demotion_kswapd tiered cell $mode anon kswapd $KIB demotion offload
	t matrix.$mode.anon.promotion tiered cell $mode anon promote $KIB demotion+numa_misplaced offload
	# NUMA balancing only here: elsewhere it would move other pages too.
	echo 1 > /proc/sys/kernel/numa_balancing
	t matrix.$mode.anon.numa_misplaced cell $mode anon numa $KIB numa_misplaced all
	echo 0 > /proc/sys/kernel/numa_balancing
	matrix_hugetlb $mode
}

# Soft offline takes the pages it offlines out of use for good: if one lay
# in the CMA area, contig_range could never allocate the area whole again
# (it did, once).  These cells run after every contig_range cell.
matrix_soft_offline() {
	mode=$1
	t matrix.$mode.anon.soft_offline cell $mode anon soft_offline 256 memory_failure all
	# Soft offline splits a THP before it migrates the page.
	t matrix.$mode.thp.soft_offline large 2048 4 cell $mode thp soft_offline 2048 memory_failure offload
	# ... and takes hugetlb pages out of the pool for good.
	t matrix.$mode.hugetlb.soft_offline hugetlb_cell $mode hugetlb soft_offline 2 0 2
	hugetlb_pools 0 0 >/dev/null
}

# hugetlb: the target pool empty (a temporary surplus page) and not.
matrix_hugetlb() {
	mode=$1
	mkdir -p /mnt/hugetlbfs
	mount -t hugetlbfs none /mnt/hugetlbfs
	for pool in 0 2; do
		after0=$pool
		t matrix.$mode.hugetlb.pool$pool.move_pages hugetlb_cell $mode hugetlb move_pages $pool $after0 2
		t matrix.$mode.hugetlb.pool$pool.mbind hugetlb_cell $mode hugetlb mbind $pool $after0 2
		t matrix.$mode.hugetlbfs.pool$pool.move_pages hugetlb_cell $mode file move_pages $pool $after0 2 /mnt/hugetlbfs/f
	done
	umount /mnt/hugetlbfs
	hugetlb_pools 0 0 >/dev/null
}

# tiered CMD...: CMD in a cgroup of its own (memory.reclaim) with demotion
# to node 2, the lower tier, enabled.
tiered() {
	cg=/sys/fs/cgroup/matrix
	[ -d $cg ] || { mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null;
		echo +memory > /sys/fs/cgroup/cgroup.subtree_control; mkdir $cg; }
	echo true > /sys/kernel/mm/numa/demotion_enabled
	CGROUP=$cg; export CGROUP
	"$@"; rc=$?
	unset CGROUP
	echo false > /sys/kernel/mm/numa/demotion_enabled
	return $rc
}

# The demotion cell again (HOW demote: memory.reclaim; kswapd: kswapd),
# with dcbm failing every copy and taken out by health tracking while
# reclaim demotes: mtcopy takes over, lockdep quiet.
demotion_health() {	# HOW
	echo 1 > /sys/module/testdma/parameters/fail_every
	echo 1 > $MO/max_failures
	tiered cell forced anon $1 $KIB demotion offload; rc=$?
	h=$(cat $MO/migrators/dcbm/healthy)
	echo 0 > /sys/module/testdma/parameters/fail_every
	echo 3 > $MO/max_failures
	echo 1 > $MO/migrators/dcbm/healthy
	# Re-admitted on probation after 1 s, it relapses at once: out again.
	[ $rc = 0 ] && case $h in out|probation) ;; *) echo "dcbm $h after failing"; false ;; esac
}

# KSM merging fast, NUMA balancing scanning fast once on.
matrix_setup() {
	echo 0 > /sys/kernel/mm/ksm/sleep_millisecs
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	for f in scan_delay_ms:0 scan_period_min_ms:100 scan_period_max_ms:200; do
		echo ${f#*:} > /sys/kernel/debug/sched/numa_balancing/${f%:*}
	done
}

# The matrix with offload forced: both real migrators at equal priority,
# every order, no minimum batch.
matrix_offloaded() {
	t matrix.forced.loaded sh -c "insmod /modules/testdma.ko channels=4 &&
		insmod /modules/dcbm.ko channels=4 priority=10 orders=0xffffffff min_batch_pages=0 &&
		insmod /modules/mtcopy.ko threads=2 decline=0 priority=10 orders=0xffffffff min_batch_pages=0 &&
		test -d $MO/migrators/dcbm && test -d $MO/migrators/mtcopy"
	matrix forced
	t matrix.forced.demotion.dcbm_taken_out demotion_health demote
	t matrix.forced.demotion_kswapd.dcbm_taken_out demotion_health kswapd
	matrix_soft_offline forced
	t matrix.forced.unloaded sh -c 'rmmod mtcopy && rmmod dcbm && rmmod testdma' 
}

# The whole matrix with no migrator, then with offload forced.
matrix_forced() {
	matrix_setup
	matrix none
	matrix_offloaded
	matrix_soft_offline none
}
