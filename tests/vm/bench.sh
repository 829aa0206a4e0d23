# SPDX-License-Identifier: GPL-2.0
# Guest side of "make bench": migration throughput per configuration, the
# configurations interleaved in every round (TCG throughput drifts), the
# copy throughput of each migrator from its statistics, and the copy phase
# alone timed in the kernel.
. /tests/lib.sh
MB=${MB:-64}
MO=/sys/kernel/mm/migrate_offload
M=$MO/migrators
# Registrations would interleave with the BENCH lines on the console.
dmesg -n 1
# The start of a part of the run: make bench prints the time each took.
part() { echo "BENCH_TIME $1 $(cut -d' ' -f1 /proc/uptime)"; }

# Migration with the drivers at their defaults (no 4 KiB folios, batches
# of 512 base pages at least): what an administrator gets.
insmod /modules/testdma.ko channels=4
insmod /modules/dcbm.ko channels=4
insmod /modules/mtcopy.ko
# The benchmark migrates from CPU 0 and testdma's channels copy on CPU 1:
# a hardware engine takes no cycles of the migrating CPU, and a software
# one that does makes offload look worse than it is (order 4 x 512 and
# THP x 8 beside an engine at half the CPU's speed: 1.27x and 0.91x the
# CPU alone with testdma's workers on either CPU, 1.31x and 1.11x on CPU 1
# only, medians of 5 paired rounds).
taskset -p 1 $$ >/dev/null
echo 2 > /sys/devices/virtual/workqueue/testdma/cpumask

# use CONFIG: which migrators copy (all at priority 10, weight 1), the CPU
# copying beside them (cpu_copy share, the default) but with -fallback.
# dcbm-half and dcbm-quarter: testdma's 4 channels together at half and a
# quarter of the CPU's copy speed (CPU_MBPS, measured first), the quarter
# with 20 us a descriptor.  With DCBM_ARGS set, dcbm is loaded afresh when
# a configuration changes the engine's speed: its measured throughputs are
# those of an engine of that speed, not of the one before (RELOADED=1).
DMA=/sys/module/testdma/parameters
DCBM_SPEED=
use() {
	RELOADED=0
	case $1 in dcbm*|both) speed=${1#dcbm-}
		case $speed in half|quarter) ;; *) speed=full ;; esac
		[ -n "${DCBM_ARGS:-}" ] && [ "$speed" != "$DCBM_SPEED" ] &&
			rmmod dcbm && insmod /modules/dcbm.ko $DCBM_ARGS && RELOADED=1
		DCBM_SPEED=$speed ;;
	esac
	echo 1 > $MO/enabled
	echo 0 > $M/mtcopy/enabled; echo 0 > $M/dcbm/enabled
	echo 10 > $M/dcbm/priority
	echo 0 > $DMA/rate_mbps; echo 0 > $DMA/desc_us
	cpu_copy_all share
	case $1 in
	dcbm-fallback) cpu_copy_all fallback; echo 1 > $M/dcbm/enabled ;;
	dcbm-half) echo $((CPU_MBPS / 8)) > $DMA/rate_mbps; echo 1 > $M/dcbm/enabled ;;
	dcbm-quarter) echo $((CPU_MBPS / 16)) > $DMA/rate_mbps
		echo 20 > $DMA/desc_us; echo 1 > $M/dcbm/enabled ;;
	cpu) echo 0 > $MO/enabled ;;
	mtcopy1) echo 1 > /sys/module/mtcopy/parameters/threads; echo 1 > $M/mtcopy/enabled ;;
	mtcopy2) echo 2 > /sys/module/mtcopy/parameters/threads; echo 1 > $M/mtcopy/enabled ;;
	dcbm) echo 1 > $M/dcbm/enabled ;;
	both) echo 2 > /sys/module/mtcopy/parameters/threads
	      echo 1 > $M/mtcopy/enabled; echo 1 > $M/dcbm/enabled ;;
	esac
}

# Events of a migration that cost more than its copy: a THP split or
# failed, direct compaction for a destination THP.
EVENTS="thp_migration_split thp_migration_fail compact_stall pgmigrate_fail"
events() {
	awk -v e="$EVENTS" 'BEGIN { n = split(e, w); for (i = 1; i <= n; i++) at[w[i]] = i }
		$1 in at { v[at[$1]] = $2 } END { for (i = 1; i <= n; i++) print v[i] }' /proc/vmstat
}

# Each THP run starts from compacted memory, so that the destination THPs
# are there to take (what is measured is the migration, not compaction;
# 0.1 to 0.9 s a run, which 4 KiB folios do not need); the events above
# are printed for every run that had any.
part migration
round=1
while [ $round -le ${MIG_ROUNDS:-15} ]; do
	for kind in thp pages; do
		for config in cpu mtcopy1 mtcopy2 dcbm both; do
			use $config
			[ $kind = thp ] && echo 1 > /proc/sys/vm/compact_memory
			e0=$(events)
			out=$(migrate_check $kind move_pages $MB) || { echo "BENCH_FAIL $config $kind"; continue; }
			echo "BENCH $round $config $kind $(echo "$out" | sed 's/.*mbps=\([0-9]*\).*/\1/')"
			set -- $e0; d=
			for v in $(events); do d="$d $((v - $1))"; shift; done
			case "$d" in *[1-9]*) echo "BENCH_EVENTS $round $config $kind $EVENTS =$d" ;; esac
		done
	done
	round=$((round + 1))
done
for m in mtcopy dcbm; do
	echo "BENCH_COPY $m $(cat $M/$m/stats/bytes) $(cat $M/$m/stats/busy_ns)"
done

# The copy phase alone, in the kernel (CONFIG_MIGRATION_COPY_OFFLOAD_BENCH):
# real folios of node 0 copied to node 1 through the batch copy, per folio
# order and batch size, configurations interleaved in every round; then
# the arbitration alone per number of migrators and batch size.  The
# migrators take every order and batch here: what can they do.
part copy_phase
DCBM_ARGS="channels=4 orders=0x7ff min_batch_pages=0"
rmmod mtcopy; rmmod dcbm
insmod /modules/dcbm.ko $DCBM_ARGS
DCBM_SPEED=full
insmod /modules/mtcopy.ko orders=0x7ff min_batch_pages=0
mount -t debugfs none /sys/kernel/debug 2>/dev/null
B=/sys/kernel/debug/migrate_offload/bench
REPS=${REPS:-5}
use cpu
# The CPU's copy speed, the best of three: the first copy of 64 MiB in a
# boot was seen to run at 28 MB/s and the next ones at 312 (memory the host
# had left cold), which set the "half speed" engine at a 25th.
CPU_MBPS=0
for i in 1 2 3; do
	echo "cpu 9 32 $REPS" > $B
	mbps=$(sed 's/.*mbps=\([0-9]*\).*/\1/' $B)
	[ "$mbps" -gt $CPU_MBPS ] && CPU_MBPS=$mbps
done
echo "BENCH_CPU_MBPS $CPU_MBPS"
# Copies of 16 MiB and more are timed once a round (a copy of 128 MiB
# takes most of a second here, and five of them took most of the time of
# make bench); smaller ones REPS times, their median.
# The benchmark allocates a shape's folios for its first configuration
# and keeps them for the others: the order turns every round, so that no
# configuration is always the one that runs on folios just allocated.
# Every other shape runs it backwards: it starts with the engine speed the
# shape before ended with, one reload of dcbm fewer (376 instead of 496).
# The CPU alone is no configuration here: mode paired runs every round
# right before or after a CPU copy of the same folios (cpu_median_ns,
# paired_permille), which a CPU run seconds away did not pair: 9 x 8 THPs,
# the feature with no migrator against the CPU, read 0.85 to 1.35.
CONFIGS="mtcopy1 mtcopy2 dcbm both dcbm-fallback dcbm-half dcbm-quarter"
turn() {	# ROUND BACKWARDS
	n=$(($1 % 7)) h= b=
	set -- $CONFIGS
	while [ $n -gt 0 ]; do h="$h $1"; shift; n=$((n - 1)); done
	set -- $* $h
	[ $2 = 1 ] || { echo "$*"; return; }
	for c; do b="$c $b"; done
	echo "$b"
}
round=1 shape=0
while [ $round -le ${PHASE_ROUNDS:-15} ]; do
	for order in 0 4 9; do
		for nr in 1 8 64 512; do
			# At most 128 MiB a node: 512 THPs would need 1 GiB.
			[ $(((nr << order) / 256)) -le 128 ] || continue
			reps=$((4096 / (nr << order)))
			[ $reps -gt $REPS ] && reps=$REPS
			[ $reps = 0 ] && reps=1
			shape=$((shape + 1))
			for config in $(turn $round $((shape % 2))); do
				# The old behaviour, for reference: every third
				# round (its runs took about 3 s of every round).
				[ $config = dcbm-fallback ] && [ $((round % 3)) != 1 ] &&
					continue
				use $config
				# A run right after a reload measures the fresh engine
				# and the guest waking from the idle of the reload: 4
				# KiB x 1 and x 8 at a quarter speed ran 9 and 10 times
				# in 10 slower than the run after it.  Not timed.  A
				# copy of 16 MiB or more, timed once, is long beside
				# the wake-up and measures the engine in its first
				# chunks: none (a second a round at 128 MiB).
				[ $RELOADED = 1 ] && [ $reps -gt 1 ] &&
					echo "offload $order $nr 1" > $B
				echo "paired $order $nr $reps" > $B && read -r res < $B &&
					echo "BENCH_PHASE $round $config $res"
			done
		done
	done
	round=$((round + 1))
done

# Arbitration: 1 to 16 migrators of one priority that copy nothing (the
# CPU does not share; dcbm and mtcopy unloaded, 16 is the limit), the split
# alone and the split with the sub-batches run, against the CPU copy of
# the batch, interleaved in every round.
part arbitration
rmmod mtcopy; rmmod dcbm
round=1
while [ $round -le ${ARB_ROUNDS:-15} ]; do
	for nr in 1 8 64 512; do
		echo 0 > $MO/enabled
		echo "cpu 0 $nr $REPS" > $B && read -r res < $B && echo "BENCH_ARB $round $res"
		echo 1 > $MO/enabled; cpu_copy_all fallback
		for n in 1 2 4 8 16; do
			for mode in split arbitration; do
				echo "$mode 0 $nr 50 $n" > $B &&
					read -r res < $B && echo "BENCH_ARB $round $res"
			done
		done
	done
	round=$((round + 1))
done
insmod /modules/dcbm.ko $DCBM_ARGS
DCBM_SPEED=full
insmod /modules/mtcopy.ko orders=0x7ff min_batch_pages=0

# Latency: from a folio's unmap to its remap (trace events
# set/remove_migration_pte, _pmd for a THP, paired by address), 4 MiB
# moved in move_pages(2) calls of 1 to 512 pages of 4 KiB (a batch each)
# or of THPs (a THP is a batch of its own): p50 and p99 per run.
part latency
T=/sys/kernel/tracing
echo 16384 > $T/buffer_size_kb
lat() {
	awk '{ for (i = 1; i <= NF; i++) {
			if ($i ~ /^[0-9]+\.[0-9]+:$/) t = substr($i, 1, length($i) - 1)
			if ($i ~ /^addr=/) a = $i
		}
		if ($0 ~ /set_migration_p/) s[a] = t
		else if ($0 ~ /remove_migration_p/ && (a in s)) {
			print (t - s[a]) * 1000000; delete s[a]
		} }' $T/trace | sort -n |
	awk '{ v[NR] = $1 } END { p = int(NR * 0.99); if (p < NR * 0.99) p++
		printf "p50_us=%.0f p99_us=%.0f folios=%d\n", v[int((NR + 1) / 2)], v[p], NR }'
}
round=1
while [ $round -le ${LAT_ROUNDS:-3} ]; do
	for batch in "pages 1" "pages 8" "pages 64" "pages 512" "thp 1"; do
		set -- $batch
		for config in cpu mtcopy2 dcbm dcbm-half; do
			use $config
			echo 1 > /proc/sys/vm/compact_memory
			echo 0 > $T/tracing_on; echo > $T/trace
			for e in migrate/set_migration_pte migrate/remove_migration_pte \
				 thp/set_migration_pmd thp/remove_migration_pmd; do
				echo 1 > $T/events/$e/enable
			done
			echo 1 > $T/tracing_on
			c=$2; [ $1 = thp ] && c=0
			CHUNK_PAGES=$c migrate_check $1 move_pages 4 >/dev/null ||
				{ echo "BENCH_FAIL latency $config $batch"; continue; }
			echo 0 > $T/tracing_on
			echo "BENCH_LAT $round $config $1 $2 $(lat)"
		done
	done
	round=$((round + 1))
done
echo 0 > $T/events/enable

# The cost of verify (migrators/<name>/verify): off, every 64th folio and
# every folio, interleaved in each round, for mtcopy (1 thread) and dcbm.
part verify
round=1
while [ $round -le ${VERIFY_ROUNDS:-3} ]; do
	for batch in "9 8" "0 512"; do
		for config in mtcopy1 dcbm; do
			use $config
			m=${config%1}
			# Rotated: the first run after a switch pays for it.
			vs="0 64 1"
			[ $((round % 3)) = 1 ] && vs="64 1 0"
			[ $((round % 3)) = 2 ] && vs="1 0 64"
			for v in $vs; do
				echo $v > $M/$m/verify
				echo "offload $batch $REPS" > $B &&
					read -r res < $B && echo "BENCH_VERIFY $round $m $v $res"
			done
			echo 0 > $M/$m/verify
		done
	done
	round=$((round + 1))
done
part end
echo "VMTEST ok bench"
