# SPDX-License-Identifier: GPL-2.0
# Guest tests: migrate node 0 -> node 1 and check every byte and page.
. /tests/lib.sh
. /tests/engines.sh

PAGES=$((MB * 256))
THPS=$((MB / 2))
MO=/sys/kernel/mm/migrate_offload

migrate_all() {
	for kind in pages thp; do
		for how in move_pages mbind; do
			migrate_check $kind $how $MB || return 1
		done
	done
}

# With the seed-API migrator loaded, every page must have gone through it.
counted_migrate() {
	kind=$1 how=$2
	p0=$(param mo_test pages) f0=$(param mo_test folios)
	migrate_check $kind $how $MB || return 1
	p=$(($(param mo_test pages) - p0)) f=$(($(param mo_test folios) - f0))
	echo "mo_count copied $f folios, $p pages"
	# At least all; a retried move (-EAGAIN) is copied again.
	[ $p -ge $PAGES ] || { echo "pages copied by mo_count: got $p, want $PAGES"; return 1; }
	within "pages copied by mo_count" $p about:$PAGES || return 1
	if [ $kind = thp ]; then
		# A background migration (kcompactd) may add a few 4 KiB
		# folios: one folio for each page beyond the THPs at most.
		[ $f -ge $THPS ] && [ $((f - THPS)) -le $((p - PAGES)) ] || {
			echo "folios copied by mo_count: got $f for $p pages, want $THPS THPs"
			return 1
		}
	else
		within "folios copied by mo_count" $f about:$PAGES
	fi
}

# Every batch fails: the CPU copies, and after max_failures consecutive
# failures the migrator is taken out until sysfs puts it back.
fallback_migrate() {
	c0=$(param mo_test calls) p0=$(param mo_test pages)
	fb0=$(cat $MO/migrators/mo_count/stats/fallback_folios)
	# A back-off longer than the migration: no re-admission meanwhile.
	echo 3600000 > $MO/backoff_max_ms
	echo 3600000 > $MO/backoff_min_ms
	echo 1 > /sys/module/mo_test/parameters/fail
	migrate_check $1 $2 $MB; rc=$?
	echo 0 > /sys/module/mo_test/parameters/fail
	h=$(cat $MO/migrators/mo_count/healthy)
	echo 1 > $MO/migrators/mo_count/healthy
	echo 1000 > $MO/backoff_min_ms
	echo 300000 > $MO/backoff_max_ms
	[ $rc = 0 ] || return 1
	expect_eq "calls before taken out" $(($(param mo_test calls) - c0)) \
		$(cat $MO/max_failures) || return 1
	expect_eq "healthy" $h out || return 1
	fb=$(($(cat $MO/migrators/mo_count/stats/fallback_folios) - fb0))
	[ $fb -gt 0 ] || { echo "no fallback folios counted"; return 1; }
	expect_eq "pages copied by mo_count" $(($(param mo_test pages) - p0)) 0 || return 1
	expect_eq "healthy after reset" $(cat $MO/migrators/mo_count/healthy) ok
}


# split KIND HOW A_PAGES B_PAGES CPU_FOLIOS: migrate, then check the pages
# each fake copied ("about:N": N within 5 %, "+": some) and the folios of
# the migration's reason left to the per-folio copy (not the global count:
# kcompactd may compact meanwhile, for a reason no fake serves).  A folio
# whose move is retried after -EAGAIN (a transient reference) is
# batch-copied again, hence "about" for full counts.
split() {
	R=$MO/reasons/syscall_or_cpuset/stats
	[ $2 = mbind ] && R=$MO/reasons/mempolicy_mbind/stats
	a0=$(stat fake_a bytes) b0=$(stat fake_b bytes) c0=$(cat $R/cpu_folios)
	migrate_check $1 $2 $MB || return 1
	a=$((($(stat fake_a bytes) - a0) / 4096)) b=$((($(stat fake_b bytes) - b0) / 4096))
	c=$(($(cat $R/cpu_folios) - c0))
	echo "fake_a $a pages, fake_b $b pages, $c folios left to the CPU"
	within "fake_a pages" $a $3 && within "fake_b pages" $b $4 &&
		within "folios left to the CPU" $c $5
}


# A bad write fails with EINVAL and changes nothing.
# bad_write FILE VALUE: refused with EINVAL, the file unchanged.
bad_write() {
	before=$(cat $1)
	if err=$( (echo "$2" > $1) 2>&1); then echo "'$2' > $1 accepted"; return 1; fi
	echo "$err" | grep -q 'Invalid argument' || { echo "'$2' > $1: $err, want EINVAL"; return 1; }
	expect_eq "$1 after bad write" "$(cat $1)" "$before"
}

t no_migrator.migrate migrate_all

must insmod /modules/mo_test.ko set=seed
t seed.registered sh -c "dmesg | grep -q 'migrator mo_count registered'"
t seed.sysfs_dir test -d $MO/migrators/mo_count/stats
for kind in pages thp; do
	for how in move_pages mbind; do
		t seed.$kind.$how counted_migrate $kind $how
		t seed.fallback.$kind.$how fallback_migrate $kind $how
	done
done
t seed.stop sh -c 'echo 0 > /sys/module/mo_test/parameters/registered'
t seed.sysfs_dir_removed test ! -e $MO/migrators/mo_count
t seed.restart sh -c 'echo 1 > /sys/module/mo_test/parameters/registered'
t seed.restarted.migrate counted_migrate pages move_pages
# module_exit() unregisters: rmmod of a registered migrator works.
t seed.rmmod_while_registered rmmod mo_test
t seed.sysfs_dir_removed_by_rmmod test ! -e $MO/migrators/mo_count
t after_rmmod.migrate migrate_all

A=$MO/migrators/fake_a B=$MO/migrators/fake_b
must insmod /modules/mo_test.ko set=pair
t pair.defaults sh -c "[ \"\$(cat $B/orders)\" = 0 ] && [ \"\$(cat $B/reasons)\" = 'syscall_or_cpuset mempolicy_mbind' ]"
# fake_a (priority 20) takes everything, fake_b (10) nothing.
t pair.priority split pages move_pages about:$PAGES 0 0
t pair.orders_by_size sh -c "echo 2M > $A/orders && [ \"\$(cat $A/orders)\" = 9 ]"
t pair.split.pages.move_pages split pages move_pages 0 about:$PAGES 0
t pair.split.thp.move_pages split thp move_pages about:$PAGES 0 0
t pair.split.thp.mbind split thp mbind about:$PAGES 0 0
t pair.reasons sh -c "echo syscall_or_cpuset > $B/reasons"
t pair.split.pages.mbind_to_cpu split pages mbind 0 0 about:$PAGES
t pair.bad.orders_outside_cap bad_write $B/orders 9
t pair.bad.reason_name bad_write $B/reasons bogus
t pair.bad.weight_zero bad_write $A/weight 0
t pair.bad.priority bad_write $A/priority 1x
t pair.bad.verify_out_of_range bad_write $A/verify 4294967296
t pair.bad.min_batch_out_of_range bad_write $MO/reasons/syscall_or_cpuset/min_batch_pages 4294967296
t pair.bad.split bad_write $MO/reasons/syscall_or_cpuset/split fastest
t pair.equal_priority sh -c "echo 0 9 > $A/orders && echo 10 > $A/priority && echo 3 > $A/weight"
t pair.weights_3_to_1 split pages move_pages about:$((PAGES * 3 / 4)) about:$((PAGES / 4)) 0
t pair.adaptive sh -c "echo adaptive > $MO/reasons/syscall_or_cpuset/split"
t pair.adaptive.migrate split pages move_pages + + 0
t pair.disable_b sh -c "echo 0 > $B/enabled"
t pair.disabled_b_gets_nothing split pages move_pages about:$PAGES 0 0
t pair.global_off sh -c "echo 0 > $MO/enabled"
t pair.global_off.migrate split pages move_pages 0 0 0
echo 1 > $MO/enabled
t pair.rmmod rmmod mo_test

# rmmod MODULE while migrations of KIND run: a batch in flight holds the
# module (rmmod says EAGAIN, retried); module_exit() waits for it; no byte
# is lost.  MIGRATOR is the directory that must be gone afterwards.
rmmod_under_load() {	# MODULE INSMOD_ARGS KIND MIGRATOR
	insmod /modules/$1.ko $2 || return 1
	rm -f /tmp/stop_load /tmp/load_n
	f0=$(stat $4 folios)
	(n=0; until [ -e /tmp/stop_load ]; do
		migrate_check $3 move_pages 16 >/dev/null || exit 1
		n=$((n + 1))
	done; echo $n > /tmp/load_n) &
	pid=$!
	# The unload starts once the migrator copies, while migrations go on.
	s=0
	while [ "$(stat $4 folios)" = $f0 ] && [ $s -lt 100 ]; do sleep 0.1; s=$((s + 1)); done
	[ "$(stat $4 folios)" != $f0 ] || { echo "$4 never copied"; touch /tmp/stop_load; return 1; }
	tries=1
	until rmmod $1 2>/dev/null; do
		[ $tries -lt 50 ] || { echo "rmmod kept failing"; touch /tmp/stop_load; return 1; }
		tries=$((tries + 1)); sleep 0.1
	done
	kill -0 $pid 2>/dev/null || { echo "the migrations had stopped before the unload"; return 1; }
	sleep 1
	touch /tmp/stop_load
	wait $pid || { echo "a migration under rmmod failed"; return 1; }
	echo "rmmod succeeded after $tries tries while migrating; $(cat /tmp/load_n) migrations in all"
	test ! -e $MO/migrators/$4
}
t rmmod_under_load rmmod_under_load mo_test set=pair pages fake_a

# mtcopy: the multi-threaded CPU migrator.

mtcopy_migrate() {	# KIND HOW FOLIO_KIB: every byte through mtcopy
	f0=$(stat mtcopy folios) b0=$(stat mtcopy bytes)
	migrate_check $1 $2 $MB || return 1
	f=$(($(stat mtcopy folios) - f0)) b=$(($(stat mtcopy bytes) - b0))
	echo "mtcopy copied $f folios, $((b >> 20)) MiB"
	all_copied mtcopy $b $f $3
}

mtcopy_leaves() {	# KIND: left to the CPU by mtcopy's defaults
	b0=$(stat mtcopy bytes)
	migrate_check $1 move_pages $MB || return 1
	expect_eq "bytes copied by mtcopy" $(($(stat mtcopy bytes) - b0)) 0
}

must insmod /modules/mtcopy.ko threads=2 decline=0
t mtcopy.registered test -d $MO/migrators/mtcopy
t mtcopy.leaves_4k_to_cpu mtcopy_leaves pages
t mtcopy.bad.order0_outside_cap bad_write $MO/migrators/mtcopy/orders 0
for how in move_pages mbind; do
	t mtcopy.thp.$how mtcopy_migrate thp $how 2048
done
mthp_64k on
t mtcopy.mthp64k.mbind mtcopy_migrate mthp mbind 64
# move_pages(2) migrates an mTHP per batch: 16 pages, below the
# default min_batch_pages (512), so the CPU keeps them until the
# administrator lowers it.
t mtcopy.mthp64k.move_pages.small_batches_on_cpu mtcopy_leaves mthp
t mtcopy.min_batch_pages sh -c "echo 16 > $MO/migrators/mtcopy/min_batch_pages"
t mtcopy.mthp64k.move_pages mtcopy_migrate mthp move_pages 64
echo 512 > $MO/migrators/mtcopy/min_batch_pages
mthp_64k off
# Helpers go only to idle CPUs: from CPU 0 with CPU 1 idle a helper
# copies; with CPU 1 kept busy mtcopy declines and the CPU copies, as fast
# as without offload, instead of queueing a helper behind the busy task.
mtcopy_helpers() {	# idle|busy
	s=$MO/migrators/mtcopy/stats/declined
	h0=$(param mtcopy helpers) d0=$(cat $s)
	[ $1 = busy ] && { taskset 2 sh -c 'while :; do :; done' & spin=$!; }
	# The spinner runs on CPU 1 before the migration starts.
	[ $1 = busy ] && ! running_on $spin 1 && { kill $spin; echo "spinner not running on CPU 1"; return 1; }
	taskset 1 migrate_check thp move_pages 16; rc=$?
	[ $1 = busy ] && kill $spin
	h=$(($(param mtcopy helpers) - h0)) d=$(($(cat $s) - d0))
	echo "helpers that copied: $h, sub-batches declined: $d"
	[ $rc = 0 ] || return 1
	if [ $1 = idle ]; then
		[ $h -gt 0 ]
	else
		expect_eq "helpers while CPU 1 is busy" $h 0 && [ $d -gt 0 ]
	fi
}
# Every byte through mtcopy elsewhere: those tests load it with decline=0.
echo 1 > /sys/module/mtcopy/parameters/decline
t mtcopy.helpers.idle_cpu mtcopy_helpers idle
t mtcopy.helpers.busy_cpu_declined mtcopy_helpers busy
echo 0 > /sys/module/mtcopy/parameters/decline
t mtcopy.one_thread sh -c "echo 1 > /sys/module/mtcopy/parameters/threads"
t mtcopy.one_thread.thp mtcopy_migrate thp move_pages 2048
t mtcopy.rmmod rmmod mtcopy
t mtcopy.rmmod_under_load rmmod_under_load mtcopy "threads=2 decline=0" thp mtcopy

# dcbm over the test-only memcpy DMA engine (engines.sh).



must insmod /modules/testdma.ko channels=4
must insmod /modules/dcbm.ko channels=4
t dcbm.registered test -d $MO/migrators/dcbm
t dcbm.leaves_4k_to_cpu sh -c ". /tests/lib.sh; b0=\$(cat $MO/migrators/dcbm/stats/bytes); migrate_check pages move_pages $MB >/dev/null && expect_eq bytes \$((\$(cat $MO/migrators/dcbm/stats/bytes) - b0)) 0"
for how in move_pages mbind; do
	t dcbm.thp.$how migrator_migrate dcbm thp $how 2048
done
# move_pages(2) migrates one THP per batch: cut into segments (256 KiB at
# least), it still keeps all 4 channels busy, 4 descriptors per THP.
dcbm_segments() {	# SEGMENT_KIB DESCRIPTORS_PER_THP
	echo $1 > /sys/module/dcbm/parameters/segment_kib
	d0=$(cat $DMA/completed)
	migrator_migrate dcbm thp move_pages 2048; rc=$?
	d=$(($(cat $DMA/completed) - d0))
	echo 256 > /sys/module/dcbm/parameters/segment_kib
	echo "segment_kib=$1: $d descriptors for $THPS THPs"
	[ $rc = 0 ] && expect_eq descriptors $d $((THPS * $2))
}
t dcbm.segments.thp_on_4_channels dcbm_segments 256 4
t dcbm.segments.thp_whole dcbm_segments 2048 1
# testdma at a known speed: 5 MB/s a channel (rate_mbps) and 20 us a
# descriptor (desc_us).  4 MiB of THPs over its 4 channels cannot take
# dcbm less than 4 MiB / 20 MB/s = 210 ms; the CPU's own copy takes a
# tenth of that here (the bound holds whatever the host's speed).
testdma_rate() {
	b0=$(stat dcbm bytes) t0=$(stat dcbm busy_ns)
	echo 5 > $DMA/rate_mbps && echo 20 > $DMA/desc_us || return 1
	migrate_check thp move_pages 4; rc=$?
	echo 0 > $DMA/rate_mbps; echo 0 > $DMA/desc_us
	b=$(($(stat dcbm bytes) - b0)) t=$(($(stat dcbm busy_ns) - t0))
	want=$((b * 1000 / (4 * 5)))
	echo "dcbm copied $b bytes in $((t / 1000000)) ms busy, at least $((want / 1000000)) ms at 4 x 5 MB/s"
	[ $rc = 0 ] && [ $b -ge 4194304 ] && [ $t -ge $want ]
}
t dcbm.testdma.rate testdma_rate
echo 0 > $MO/max_failures
echo 3 > $DMA/fail_every
for how in move_pages mbind; do
	t dcbm.faults.thp.$how dcbm_faults $how
done
echo 0 > $DMA/fail_every
t dcbm.not_mc_safe sh -c "test -s $MO/migrators/dcbm/capable_reasons && ! grep -q memory_failure $MO/migrators/dcbm/capable_reasons"
t dcbm.bad.timeout_ms bad_write /sys/module/dcbm/parameters/timeout_ms 0
t dcbm.bad.orders sh -c "rmmod dcbm && ! insmod /modules/dcbm.ko orders=0x80000000 && insmod /modules/dcbm.ko channels=4"

# Two processes migrating at once through dcbm while sub-batches time out;
# then each watches a canary in fresh memory on both nodes, and its own
# migrated memory, for 300 ms: no transfer may land after the copy.  A
# sub-batch that times out keeps its destinations out of circulation and
# those folios may stay where they were (UNMIGRATED_OK).  THPs are not cut
# into segments here: each process's THP takes one channel, so both have
# transfers in flight at once.
two_migrating() {	# HOW (PIN: a command to run them under)
	[ -e /sys/module/dcbm ] && echo 2048 > /sys/module/dcbm/parameters/segment_kib
	export CANARY_MIB=8 LATE_MS=300 UNMIGRATED_OK=1
	${PIN:-} migrate_check thp $1 16 > /tmp/two.1 2>&1 & p1=$!
	${PIN:-} migrate_check thp $1 16 > /tmp/two.2 2>&1 & p2=$!
	unset CANARY_MIB LATE_MS UNMIGRATED_OK
	wait $p1; r1=$?; wait $p2; r2=$?
	[ -e /sys/module/dcbm ] && echo 256 > /sys/module/dcbm/parameters/segment_kib
	cat /tmp/two.1 /tmp/two.2
	[ $r1 = 0 ] && [ $r2 = 0 ]
}

engine_contracts dcbm "ioat idxd ptdma hidma zynqmp" "copies faults interrupts hung_engine"
engine zynqmp orders=0x1 min_batch_pages=0
t dcbm.zynqmp.windows engine_windows
engine ptdma
t dcbm.ptdma.verified sh -c "dmesg | grep -q 'ptdma.*every copy is compared'"
engine testdma
echo 3 > $MO/max_failures

# A busy engine gets no queue: with one channel and two processes, a
# sub-batch that finds it claimed is declined at once and copied by the
# CPU, and that is not held against dcbm's health.
must rmmod dcbm
must insmod /modules/dcbm.ko channels=1
echo 100 > $DMA/delay_ms
echo 1 > $MO/max_failures
busy_declines() {
	d0=$(stat dcbm declined) e0=$(stat dcbm errors)
	two_migrating move_pages || return 1
	d=$(($(stat dcbm declined) - d0)) e=$(($(stat dcbm errors) - e0))
	echo "dcbm declined $d sub-batches, failed $e"
	[ $d -gt 0 ] && expect_eq "errors" $e 0 &&
		expect_eq "healthy" $(cat $MO/migrators/dcbm/healthy) ok
}
t dcbm.busy.declined_not_failed busy_declines
echo 0 > $DMA/delay_ms
echo 3 > $MO/max_failures
must rmmod dcbm
must insmod /modules/dcbm.ko channels=4

# Health that heals: testdma fails every descriptor, dcbm is taken out
# (and, re-admitted while the engine still fails, relapses); once the
# engine works again, dcbm comes back by itself after the back-off: on
# probation for one THP, then ok, copying every byte, no sysfs write.
dcbm_heals() {
	e0=$(stat dcbm errors)
	echo 1 > $DMA/fail_every
	migrate_check thp move_pages $MB; rc=$?
	echo 0 > $DMA/fail_every
	h=$(cat $MO/migrators/dcbm/healthy)
	echo "dcbm failed $(($(stat dcbm errors) - e0)) sub-batches: $h," \
		"back-off $(cat $MO/migrators/dcbm/backoff_ms) ms," \
		"relapses $(cat $MO/migrators/dcbm/relapses)"
	[ $rc = 0 ] || return 1
	# Re-admitted after the back-off, it may wait on probation for work.
	case $h in out|probation) ;; *) echo "dcbm $h while failing"; return 1 ;; esac
	s=0
	while [ "$(cat $MO/migrators/dcbm/healthy)" = out ] && [ $s -lt 10 ]; do
		sleep 1; s=$((s + 1))
	done
	# Probation, or ok if a background migration was the probe.
	h=$(cat $MO/migrators/dcbm/healthy)
	echo "after $s s: $h"
	case $h in probation|ok) ;; *) echo "dcbm $h after the back-off"; return 1 ;; esac
	migrator_migrate dcbm thp move_pages 2048 || return 1
	expect_eq "healthy after probation" $(cat $MO/migrators/dcbm/healthy) ok
}
echo 1 > $MO/max_failures
echo 200 > $MO/backoff_min_ms
echo 1000 > $MO/backoff_max_ms
t dcbm.heals.readmitted_by_itself dcbm_heals
echo ok > $MO/migrators/dcbm/healthy
t health.bad.backoff_min_above_max bad_write $MO/backoff_min_ms 300001
t health.bad.state bad_write $MO/migrators/dcbm/healthy sick
echo 1000 > $MO/backoff_min_ms
echo 300000 > $MO/backoff_max_ms
echo 3 > $MO/max_failures

# Tracepoints: the events of a migration add up to the statistics.
TRACEFS=/sys/kernel/tracing
trace_sum() {	# EVENT FIELD [FILTER]: the sum of FIELD over EVENT's lines
	grep " $1: " $TRACEFS/trace | grep -- "$3" |
		sed -n "s/.* $2=\([0-9]*\).*/\1/p" | awk '{ s += $1 } END { print s + 0 }'
}
trace_adds_up() {
	R=$MO/reasons/syscall_or_cpuset/stats
	b0=$(cat $R/batches) f0=$(cat $R/folios) c0=$(cat $R/cpu_folios)
	d0=$(stat dcbm folios) m0=$(stat mtcopy folios)
	echo > $TRACEFS/trace
	echo 1 > $TRACEFS/events/migrate_offload/enable
	migrate_check thp move_pages $MB; rc=$?
	migrate_check pages move_pages $MB || rc=1
	echo 0 > $TRACEFS/events/migrate_offload/enable
	[ $rc = 0 ] || return 1
	n=$(grep -c " migrate_offload_batch: reason=syscall_or_cpuset " $TRACEFS/trace)
	echo "$n batch events, $(grep -c migrate_offload_sub: $TRACEFS/trace) sub-batch events"
	expect_eq "batches" $n $(($(cat $R/batches) - b0)) &&
	expect_eq "folios copied" $(trace_sum migrate_offload_batch copied syscall_or_cpuset) \
		$(($(cat $R/folios) - f0)) &&
	expect_eq "folios left" $(trace_sum migrate_offload_batch left syscall_or_cpuset) \
		$(($(cat $R/cpu_folios) - c0)) &&
	expect_eq "dcbm folios" $(trace_sum migrate_offload_sub folios "migrator=dcbm .* ret=0$") \
		$(($(stat dcbm folios) - d0)) &&
	expect_eq "mtcopy folios" $(trace_sum migrate_offload_sub folios "migrator=mtcopy .* ret=0$") \
		$(($(stat mtcopy folios) - m0)) &&
	[ $(($(stat dcbm folios) - d0)) -gt 0 ] && [ $(($(stat mtcopy folios) - m0)) -gt 0 ]
}

# Tools (perf, trace-cmd) read the reason through the format: a table of
# numbers and names, no kernel symbol they cannot evaluate.
trace_format() {
	f=$(grep '^print fmt' $TRACEFS/events/migrate_offload/migrate_offload_batch/format)
	echo "$f" | cut -c1-200
	echo "$f" | grep -q '__print_symbolic(REC->reason, { *0, "compaction" *}.*{ *3, "syscall_or_cpuset" *}' &&
		! echo "$f" | grep -q migrate_reason_names
}
t trace.format_for_tools trace_format

# dcbm second in a batch: mtcopy (priority 20) takes the 4 KiB folios on
# the caller, dcbm's mTHPs go to the core's reclaim workqueue, and time
# out there.  Giving up there must not wait on a non-reclaim workqueue
# (lockdep and the workqueue code warn; "kernel log clean" fails).
mthp_64k on
must insmod /modules/mtcopy.ko threads=1 priority=20 orders=0x1 min_batch_pages=0
must rmmod dcbm
must insmod /modules/dcbm.ko channels=4 priority=10 orders=0x10 min_batch_pages=0 timeout_ms=10
echo 0 > $MO/max_failures
echo 100 > $DMA/delay_ms
second_timing_out() {
	e0=$(stat dcbm errors) m0=$(stat mtcopy folios)
	UNMIGRATED_OK=1 migrate_check mixed move_pages 4 || return 1
	e=$(($(stat dcbm errors) - e0)) m=$(($(stat mtcopy folios) - m0))
	echo "mtcopy copied $m folios, dcbm timed out on $e sub-batches"
	[ $e -gt 0 ] && [ $m -gt 0 ]
}
t dcbm.second_on_reclaim_wq.timing_out second_timing_out
echo 0 > $DMA/delay_ms
echo 5000 > /sys/module/dcbm/parameters/timeout_ms
echo 3 > $MO/max_failures
must rmmod mtcopy
mthp_64k off
must rmmod dcbm
must insmod /modules/dcbm.ko channels=4

# Both real migrators: dcbm (priority 20) over mtcopy (10), then equal.
must insmod /modules/mtcopy.ko threads=2 decline=0
t both.dcbm_priority migrator_migrate dcbm thp move_pages 2048
t both.equal_priority sh -c "echo 10 > $MO/migrators/dcbm/priority"
both_split() {
	d0=$(stat dcbm folios) m0=$(stat mtcopy folios)
	migrate_check thp mbind $MB || return 1
	d=$(($(stat dcbm folios) - d0)) m=$(($(stat mtcopy folios) - m0))
	echo "dcbm copied $d THPs, mtcopy $m"
	expect_eq "THPs copied" $((d + m)) $((MB / 2)) && [ $d -gt 0 ] && [ $m -gt 0 ]
}
t both.split.thp both_split
t trace.adds_up_to_stats trace_adds_up
# Debian's trace-cmd (in the initramfs) records and decodes our events: the
# reason by name through the format's table, the migrator's name, as many
# batch events as the statistics counted, nothing it failed to parse.
trace_cmd_report() {
	R=$MO/reasons/syscall_or_cpuset/stats
	b0=$(cat $R/batches)
	trace-cmd start -e migrate_offload >/dev/null || return 1
	migrate_check thp move_pages $MB; rc=$?
	trace-cmd stop && trace-cmd extract -o /tmp/trace.dat >/dev/null 2>&1 || rc=1
	trace-cmd reset >/dev/null 2>&1
	trace-cmd report -i /tmp/trace.dat > /tmp/report 2>&1 || rc=1
	[ $rc = 0 ] || return 1
	grep -m2 migrate_offload_ /tmp/report
	n=$(grep -c "migrate_offload_batch: *reason=syscall_or_cpuset " /tmp/report)
	expect_eq "batch events decoded" $n $(($(cat $R/batches) - b0)) &&
		grep -q "migrate_offload_sub: *migrator=\(dcbm\|mtcopy\) " /tmp/report &&
		! grep -qi "failed to parse\|reason=[0-9]" /tmp/report
}
t trace.trace_cmd_report trace_cmd_report
# The in-kernel copy benchmark of make bench: each mode copies every byte
# (arbitration copies none), only paired times a CPU copy beside, and a
# batch too large is refused.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
BENCH=/sys/kernel/debug/migrate_offload/bench
bench_modes() {
	for mode in cpu offload paired arbitration; do
		echo "$mode 9 2 1" > $BENCH || return 1
		out=$(cat $BENCH); echo "$out"
		case "$out" in *" copied=2 bad_pages=0 "*) ;; *) return 1 ;; esac
		case "$out" in
		*" cpu_median_ns=0 "*" paired_permille=0") [ $mode != paired ] ;;
		*" cpu_median_ns=0 "* | *" paired_permille=0") false ;;
		*) [ $mode = paired ] ;;
		esac || return 1
	done
}
t bench.modes bench_modes
t bench.too_large sh -c "! echo 'cpu 9 1000 1' > $BENCH"
# Offload with every migrator out of service: the CPU copies the batch, as
# the move phase would, and the run is correct (it was -EIO).
bench_offload_none() {
	echo 0 > $MO/enabled
	echo "offload 0 64 2" > $BENCH; rc=$?
	echo 1 > $MO/enabled
	out=$(cat $BENCH); echo "$out"
	[ $rc = 0 ] && case "$out" in *" copied=0 bad_pages=0 "*) ;; *) false ;; esac
}
t bench.offload_left_to_cpu bench_offload_none
# The arbitration migrator (top priority, reason syscall) declines other
# tasks' batches: a migration running meanwhile meets it, is declined
# (-EBUSY in the trace: no failure, which would count towards taking it
# out), copied by the others, every byte intact.
bench_null_subs() {	# RET...: its sub-batches in the trace that ended so
	for r in "$@"; do grep "migrator=bench_null0 .* ret=$r$" $TRACEFS/trace; done | wc -l
}
bench_foreign() {
	R=$MO/reasons/syscall_or_cpuset/stats
	echo > $TRACEFS/trace
	echo 1 > $TRACEFS/events/migrate_offload/migrate_offload_sub/enable
	rm -f /tmp/stop /tmp/foreign.out
	b0=$(cat $R/batches)
	( while [ ! -f /tmp/stop ]; do migrate_check pages move_pages 4 >> /tmp/foreign.out 2>&1 ||
		echo FOREIGN_FAIL >> /tmp/foreign.out; done ) &
	pid=$!
	i=0
	while [ $(cat $R/batches) = $b0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	# Until a foreign batch has met it (the bench is short): every run
	# must have been served by the arbitration migrator alone.
	rc=0 met=0 runs=0
	while [ $rc = 0 ] && [ $met = 0 ] && [ $runs -lt 30 ]; do
		echo "arbitration 0 512 1000" > $BENCH || rc=1
		out=$(cat $BENCH); runs=$((runs + 1))
		case "$out" in *" copied=512 bad_pages=0 "*) ;; *) echo "$out"; rc=1 ;; esac
		met=$(($(grep -c "migrator=bench_null0 " $TRACEFS/trace) - $(bench_null_subs 0)))
	done
	touch /tmp/stop; wait $pid
	echo 0 > $TRACEFS/events/migrate_offload/enable
	d=$(bench_null_subs -16)
	echo "$out"
	echo "$runs bench runs, $(grep -c bad_words=0 /tmp/foreign.out) foreign migrations," \
		"foreign sub-batches met by bench_null0: $met, declined: $d"
	[ $rc = 0 ] && [ $met -gt 0 ] && expect_eq "declined" $d $met &&
		! grep -q FOREIGN_FAIL /tmp/foreign.out
}
t bench.arbitration_declines_others bench_foreign
t both.rmmod_dcbm rmmod dcbm
t both.rmmod_dcbm_under_load rmmod_under_load dcbm channels=4 thp dcbm
t both.mtcopy_alone_after migrator_migrate mtcopy thp move_pages 2048
t both.rmmod sh -c "rmmod mtcopy"

# NUMA-local routing: testdma with one device per node, dcbm one migrator
# per node.  With locality dst every THP goes to the engine of its
# destination node, with src to that of its source, in both directions.
must rmmod testdma
must insmod /modules/testdma.ko channels=2 per_node=1
must insmod /modules/dcbm.ko channels=2
locality_nodes() {
	expect_eq "dcbm-node0 nodes" "$(cat $MO/migrators/dcbm-node0/nodes)" 0 &&
		expect_eq "dcbm-node1 nodes" "$(cat $MO/migrators/dcbm-node1/nodes)" 1
}
locality_routes() {	# POLICY
	echo $1 > $MO/reasons/syscall_or_cpuset/locality
	for from in 0 1; do
		to=$((1 - from)) near=$from
		[ $1 = dst ] && near=$to
		n0=$(stat dcbm-node$near folios) f0=$(stat dcbm-node$((1 - near)) folios)
		REVERSE=$from migrate_check thp move_pages $MB || return 1
		n=$(($(stat dcbm-node$near folios) - n0))
		f=$(($(stat dcbm-node$((1 - near)) folios) - f0))
		echo "$1: node $from -> $to: dcbm-node$near copied $n THPs, dcbm-node$((1 - near)) $f"
		within "THPs copied by dcbm-node$near" $n about:$THPS &&
			expect_eq "THPs copied by dcbm-node$((1 - near))" $f 0 || return 1
	done
}
t locality.dcbm_one_per_node locality_nodes
t locality.dst locality_routes dst
t locality.src locality_routes src
t locality.bad.policy bad_write $MO/reasons/syscall_or_cpuset/locality nearest
echo none > $MO/reasons/syscall_or_cpuset/locality
# The adaptive split converges on the engines' speeds, set by testdma
# (rate_mbps): node 0's device at 8 MB/s a channel, node 1's at 4; equal
# priorities.  dcbm-node0 must take about two THPs of three: 55 to 80 % of
# 16 (both start unmeasured, as fast as the fastest, after a reload).
split_adaptive_engines() {
	must rmmod dcbm && must insmod /modules/dcbm.ko channels=2 || return 1
	# Node 2's engine (memory without CPUs) stays out of it.
	echo 0 > $MO/migrators/dcbm-node2/enabled || return 1
	echo 8,4 > $DMA/rate_mbps || return 1
	echo adaptive > $MO/reasons/syscall_or_cpuset/split
	migrate_check thp move_pages 32; rc=$?
	echo weight > $MO/reasons/syscall_or_cpuset/split
	echo 0 > $DMA/rate_mbps
	echo 1 > $MO/migrators/dcbm-node2/enabled
	a=$(stat dcbm-node0 folios) b=$(stat dcbm-node1 folios)
	echo "dcbm-node0 (2 x 8 MB/s) copied $a THPs, dcbm-node1 (2 x 4 MB/s) $b;" \
		"throughput $(stat dcbm-node0 throughput), $(stat dcbm-node1 throughput) bytes/us"
	[ $rc = 0 ] && [ $((a + b)) -ge 16 ] && [ $((a * 100)) -ge $(((a + b) * 55)) ] &&
		[ $((a * 100)) -le $(((a + b) * 80)) ]
}
t split.adaptive.engines_2_to_1 split_adaptive_engines
# The CPU copies beside the engines (cpu_copy share).  Engines at 1 MB/s a
# channel, measured far slower than the CPU, claim a chunk only while the
# CPU has as many of theirs left as they are times slower: never in
# batches of one THP, but a first batch before the CPU is measured and
# node 2's engine, not measured yet (the last test left it out), may claim
# one.  The CPU copies at least 12 of 16 THPs.  With fallback (engines at
# full speed) the CPU copies none.
share_engines() {	# share|fallback RATE
	R=$MO/reasons/syscall_or_cpuset
	s0=$(cat $R/stats/shared_folios)
	echo $2 > $DMA/rate_mbps && echo $1 > $R/cpu_copy || return 1
	migrate_check thp move_pages 32; rc=$?
	echo fallback > $R/cpu_copy
	echo 0 > $DMA/rate_mbps
	s=$(($(cat $R/stats/shared_folios) - s0))
	echo "cpu_copy $1: the CPU copied $s of 16 THPs beside engines at $2 MB/s a channel (0: unpaced)"
	[ $rc = 0 ] || return 1
	if [ $1 = share ]; then [ $s -ge 12 ]; else expect_eq "THPs the CPU copied" $s 0; fi
}
t share.slow_engines_cpu_copies share_engines share 1
t share.fallback_engines_copy share_engines fallback 0
t share.bad.cpu_copy bad_write $MO/reasons/syscall_or_cpuset/cpu_copy both
t dcbm.unbind.engine_goes_away dcbm_unbind
must rmmod dcbm && must rmmod testdma
must insmod /modules/testdma.ko model=hidma channels=4

# dcbm on the shared channels of dma_find_channel(), not private ones.
must insmod /modules/dcbm.ko shared=1
t dcbm.shared.registered sh -c "dmesg | grep -q 'dcbm: 1 shared channel'"
t dcbm.shared.thp migrator_migrate dcbm thp mbind 2048
# A second dmaengine client on the same shared channel (client and
# migrating tasks on CPU 0: dma_find_channel() hands out one per CPU),
# while dcbm's
# transfers outlive its timeout on hidma, whose terminated descriptors
# would complete as successes: dcbm never terminates a channel, so every
# one of the client's transfers completes and is copied.
echo 10 > /sys/module/dcbm/parameters/timeout_ms
echo 100 > $DMA/delay_ms
must insmod /modules/dma_client.ko cpu=0
shared_with_client() {
	PIN="taskset 1" two_migrating move_pages || return 1
	c=$(param dma_client copies) e=$(param dma_client errors)
	echo "second client: $c transfers copied, $e lost or not copied"
	[ $c -gt 0 ] && expect_eq "client errors" $e 0
}
t dcbm.shared.second_client.two_timing_out shared_with_client
must rmmod dma_client
echo 0 > $DMA/delay_ms
echo 5000 > /sys/module/dcbm/parameters/timeout_ms
t dcbm.shared.rmmod sh -c "rmmod dcbm && rmmod testdma"
. /tests/matrix.sh
matrix_forced
