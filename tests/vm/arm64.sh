# SPDX-License-Identifier: GPL-2.0
# The arm64 VM: QEMU's xlnx-zcu102 (tests/vm/zcu102-numa.dts), dcbm over
# the eight GDMA channels of the ZynqMP DMA, driven by the base tree's
# zynqmp_dma: no engine of ours.  Every byte of every cell checked against
# the pattern, each page's node checked (migrate_kinds, via matrix.sh's
# cell); the engine's own interrupts per channel show it copied.
. /tests/lib.sh
. /tests/matrix.sh

M=$MO/migrators
DRV=/sys/bus/platform/drivers/xilinx-zynqmp-dma
mount -t debugfs none /sys/kernel/debug 2>/dev/null

# GDMA channel N is GIC SPI 124 + N (hw/arm/xlnx-zynqmp.c, our .dts).
# zdma_irqs: "N:COUNT" per channel, COUNT summed over the CPUs.
zdma_irqs() {
	awk '/zynqmp-dma/ { n = 0; for (i = 2; i <= 5; i++) n += $i;
		print $7 - 156 ":" n }' /proc/interrupts | sort -n | tr '\n' ' '
}
irqs_of() {	# CHANNELS_FIRST CHANNELS_LAST "N:COUNT ...": their sum
	echo "$3" | tr ' ' '\n' | awk -F: -v a=$1 -v b=$2 \
		'$1 != "" && $1 >= a && $1 <= b { n += $2 } END { print n + 0 }'
}

topology() {
	expect_eq "CPUs online" $(grep -c ^processor /proc/cpuinfo) 4 &&
		expect_eq "node0 CPUs" $(cat $NODE/node0/cpulist) 0-1 &&
		expect_eq "node1 CPUs" $(cat $NODE/node1/cpulist) 2-3 || return 1
	for n in 0 1; do
		kb=$(awk '/MemTotal/ { print $4 }' $NODE/node$n/meminfo)
		echo "node$n: $kb kB"
		[ $kb -gt 524288 ] || { echo "node$n has too little memory"; return 1; }
	done
}

# Eight channels bound to zynqmp_dma, 0-3 on node 0 and 4-7 on node 1.
zdma_channels() {
	expect_eq "devices bound to zynqmp_dma" $(ls -d $DRV/fd5?0000.* | wc -l) 8 || return 1
	for d in $DRV/fd5?0000.*; do
		c=$(basename $d | cut -c4) want=0
		[ $c -ge 4 ] && want=1
		expect_eq "$(basename $d) node" $(cat $d/numa_node) $want || return 1
	done
	expect_eq "interrupt lines" $(grep -c zynqmp-dma /proc/interrupts) 8
}

dcbm_loaded() {
	insmod /modules/dcbm.ko channels=4 priority=10 orders=0xffffffff min_batch_pages=0 ||
		return 1
	test -d $M/dcbm-node0 && test -d $M/dcbm-node1 || { ls $M; return 1; }
	expect_eq "channels in use" $(cat /sys/class/dma/dma*chan*/in_use | grep -c 1) 8 &&
		expect_eq "channels compared on the CPU (zynqmp_dma reports no failure)" \
			$(dmesg | grep -c 'xilinx-zynqmp-dma) does not report failed copies') 8
}

# A cell through dcbm: every folio batch-copied by dcbm's migrators, and
# the channels of each node whose migrator copied took interrupts.
zdma_cell() {	# NAME CELL ARGS...
	i0=$(zdma_irqs) n00=$(mfolios dcbm-node0) n10=$(mfolios dcbm-node1)
	"$@" || return 1
	i1=$(zdma_irqs)
	n0=$(($(mfolios dcbm-node0) - n00)) n1=$(($(mfolios dcbm-node1) - n10))
	q0=$(($(irqs_of 0 3 "$i1") - $(irqs_of 0 3 "$i0")))
	q1=$(($(irqs_of 4 7 "$i1") - $(irqs_of 4 7 "$i0")))
	echo "dcbm-node0 copied $n0 folios (channels 0-3: $q0 interrupts)," \
		"dcbm-node1 $n1 (channels 4-7: $q1); per channel now: $i1"
	[ $((n0 + n1)) -gt 0 ] || { echo "dcbm copied nothing"; return 1; }
	[ $n0 = 0 ] || [ $q0 -gt 0 ] || { echo "node 0's channels took no interrupt"; return 1; }
	[ $n1 = 0 ] || [ $q1 -gt 0 ] || { echo "node 1's channels took no interrupt"; return 1; }
}

# load_start: migrations of 16 MiB of THPs, one after the other, each
# checking every byte, until load_stop; returns once dcbm has copied.
load_start() {
	rm -f /tmp/stop_load
	echo 0 > /tmp/load_n
	f0=$(mfolios 'dcbm-*')
	(n=0; until [ -e /tmp/stop_load ]; do
		migrate_check thp move_pages 16 > /tmp/load.out 2>&1 ||
			{ cat /tmp/load.out; exit 1; }
		n=$((n + 1))
		echo $n > /tmp/load_n
	done) &
	load=$!
	s=0
	while [ "$(mfolios 'dcbm-*')" = $f0 ] && [ $s -lt 100 ]; do sleep 0.1; s=$((s + 1)); done
	[ "$(mfolios 'dcbm-*')" != $f0 ] || { echo "dcbm never copied"; load_stop; return 1; }
}
load_stop() {	# every migration of the load passed
	touch /tmp/stop_load
	wait $load || { echo "a migration of the load failed"; return 1; }
	echo "$(cat /tmp/load_n) migrations of 16 MiB, every byte checked"
}

# The administrator takes both engines out of service (enabled 0) while
# memory moves: the migrations go on, on the CPU, every byte checked; dcbm
# copies nothing while out, and copies again once put back.
failover() {
	load_start || return 1
	echo 0 > $M/dcbm-node0/enabled && echo 0 > $M/dcbm-node1/enabled || return 1
	sleep 0.5	# a sub-batch in flight at the write completes
	d0=$(mfolios 'dcbm-*') c0=$(cat /tmp/load_n)
	sleep 3
	d=$(($(mfolios 'dcbm-*') - d0)) c=$(($(cat /tmp/load_n) - c0))
	echo 1 > $M/dcbm-node0/enabled && echo 1 > $M/dcbm-node1/enabled
	d1=$(mfolios 'dcbm-*')
	sleep 2
	load_stop || return 1
	echo "while out: dcbm copied $d folios; $c migrations completed"
	expect_eq "folios dcbm copied while out" $d 0 || return 1
	[ $c -gt 0 ] || { echo "no migration while dcbm was out"; return 1; }
	[ $(mfolios 'dcbm-*') -gt $d1 ] || { echo "dcbm copied nothing once back"; return 1; }
}

# rmmod dcbm while memory moves through it: the unload waits for the
# sub-batches in flight (a batch holds the module: EAGAIN, retried), the
# migrations go on with every byte checked, and the channels go back to
# zynqmp_dma.
rmmod_under_load() {
	load_start || return 1
	tries=1
	until rmmod dcbm 2>/dev/null; do
		[ $tries -lt 50 ] || { echo "rmmod kept failing"; load_stop; return 1; }
		tries=$((tries + 1)); sleep 0.1
	done
	kill -0 $load 2>/dev/null || { echo "the migrations had stopped before the unload"; return 1; }
	sleep 1
	load_stop || return 1
	echo "rmmod succeeded after $tries tries while migrating"
	test ! -e $M/dcbm-node0 &&
		expect_eq "channels in use" $(cat /sys/class/dma/dma*chan*/in_use | grep -c 1) 0
}

dma_api_clean() {
	d=/sys/kernel/debug/dma-api
	echo "DMA-API debug: $(cat $d/error_count) errors, $(cat $d/nr_total_entries) entries," \
		"$(cat $d/num_free_entries) free"
	expect_eq "DMA-API errors" $(cat $d/error_count) 0
}

t arm64.topology topology
t arm64.zdma.channels zdma_channels
t arm64.dcbm.loaded dcbm_loaded
t arm64.anon.move_pages zdma_cell cell forced anon move_pages $KIB syscall_or_cpuset all
t arm64.anon.mbind zdma_cell cell forced anon mbind $KIB mempolicy_mbind all
t arm64.thp.move_pages zdma_cell large 2048 cell forced thp move_pages $KIB syscall_or_cpuset all
t arm64.thp.mbind zdma_cell large 2048 cell forced thp mbind $KIB mempolicy_mbind all
t arm64.anon.compaction zdma_cell cell forced anon compact $KIB compaction offload
t arm64.dcbm.failover failover
t arm64.dcbm.rmmod_under_load rmmod_under_load
t arm64.dma_api.clean dma_api_clean
