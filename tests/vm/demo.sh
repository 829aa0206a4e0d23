# SPDX-License-Identifier: GPL-2.0
# Guest side of "make demo": the real migrators, mtcopy (CPU threads) and
# dcbm (dmaengine, here on testdma: QEMU emulates no memcpy DMA engine).
# Every line for the user starts with "# demo:".
. /tests/lib.sh
MB=64
MO=/sys/kernel/mm/migrate_offload
DMA=/sys/module/testdma/parameters

say() { echo "# demo: $*"; }
# A failed migration (a lost byte, a page left behind) ends the demo: the
# reason is its last line, and make demo fails.
fail() {
	say "FAILED: $*"
	echo "VMTEST not ok demo: $*"
	echo "VMTEST end"
	poweroff -f
	exit 1
}
show() { sed 's/^/# demo:   /'; }

migrate() {	# LABEL KIND HOW [REVERSE]
	out=$(REVERSE=${4:-0} migrate_check $2 $3 $MB 2>&1) ||
		fail "$1 ($2 $3): $(echo "$out" | tail -n 1)"
	mbps=$(echo "$out" | sed 's/.*mbps=\([0-9]*\).*/\1/')
	say "$(printf '  %-28s %-5s %-10s %6s MB/s   every byte checked' "$1" $2 $3 $mbps)"
}

folios() { cat $MO/migrators/$1/stats/folios; }

# DEMO_LIE=1 make demo (demo_lie=1 on the kernel command line): a test
# migrator that flips a byte of every folio serves move_pages(2), to show
# that the demo fails on a lost byte.
# make demo-arm64: dcbm on the ZynqMP DMA of QEMU's xlnx-zcu102, driven by
# the kernel's own zynqmp_dma: a DMA engine driver we did not write.
zdma_irqs() {	# interrupts of each GDMA channel (SPI 124 + N), all CPUs
	awk '/zynqmp-dma/ { n = 0; for (i = 2; i <= 5; i++) n += $i;
		printf "%d:%d ", $7 - 156, n }' /proc/interrupts
}
if [ "$(uname -m)" = aarch64 ]; then
	say "arm64, QEMU xlnx-zcu102: $(nproc) Cortex-A53s, NUMA nodes" \
		"$(ls -d /sys/devices/system/node/node* | sed 's|.*node||' | tr '\n' ' ')(our device tree)"
	say "The MB/s come from a lockdep, DMA-API debug kernel under QEMU TCG."
	say ""
	say "1. No migrator: the CPU copies each folio."
	migrate "CPU" pages move_pages
	migrate "CPU" thp move_pages
	say ""
	say "2. dcbm over the 8 GDMA channels of the ZynqMP DMA, 4 per node, every"
	say "   folio size, every batch (orders=all min_batch_pages=0)."
	insmod /modules/dcbm.ko channels=4 orders=0xffffffff min_batch_pages=0 ||
		fail "could not load dcbm"
	dmesg | grep 'dcbm' | tail -n 3 | show
	a0=$(folios dcbm-node0) b0=$(folios dcbm-node1)
	migrate "4 KiB: dcbm" pages move_pages
	migrate "THP: dcbm" thp move_pages
	say "   dcbm-node0 copied $(($(folios dcbm-node0) - a0)) folios," \
		"dcbm-node1 $(($(folios dcbm-node1) - b0))"
	say "   interrupts per GDMA channel (channel:count): $(zdma_irqs)"
	rmmod dcbm || fail "rmmod dcbm"
	say ""
	say "make test runs the arm64 layer (vm-arm64): every byte checked."
	echo "VMTEST ok demo"
	exit 0
fi

if grep -q demo_lie=1 /proc/cmdline; then
	insmod /modules/mo_test.ko set=liar lie=flip lie_every=1 pid=-1 &&
		echo syscall_or_cpuset > $MO/migrators/liar/reasons ||
		fail "could not load the lying migrator"
	say "DEMO_LIE: a migrator that flips a byte of every folio copies for move_pages(2)."
fi
say "The MB/s below come from the test kernel under QEMU TCG (lockdep,"
say "DMA-API debug, no KVM): they show the route, not the speed.  make bench"
say "measures speed on a production-like kernel."
say ""
say "guest: $(nproc) CPUs, NUMA $(ls -d /sys/devices/system/node/node* | sed 's|.*/||' | tr '\n' ' ')- migrating $MB MiB between node 0 and node 1"
say ""
say "1. No migrator: the CPU copies each folio."
migrate "CPU" pages move_pages
migrate "CPU" thp move_pages
say ""

say "2. The real migrators: mtcopy (2 threads, priority 10) and dcbm on a"
say "   DMA engine per NUMA node (dcbm-node0, -node1, -node2; priority 20)."
insmod /modules/mtcopy.ko threads=2
insmod /modules/testdma.ko channels=2 per_node=1
insmod /modules/dcbm.ko channels=2
for m in $MO/migrators/*; do
	say "$(printf '   %-11s priority %-3s orders %-12s nodes %s' ${m##*/} $(cat $m/priority) \
		"$(cat $m/orders)" "$(cat $m/nodes)")"
done
say "   Both leave 4 KiB folios to the CPU (a DMA descriptor or a thread per"
say "   4 KiB page costs more than it saves); THPs go to dcbm first."
migrate "4 KiB: CPU" pages move_pages
migrate "THP: dcbm" thp move_pages
say ""

say "3. Routing by reason: dcbm only for mbind (reason mempolicy_mbind);"
say "   move_pages THPs then go to mtcopy."
for m in $MO/migrators/dcbm-node*; do echo mempolicy_mbind > $m/reasons; done
m0=$(folios mtcopy)
migrate "THP move_pages: mtcopy" thp move_pages
say "   mtcopy copied $(($(folios mtcopy) - m0)) THPs"
say ""

say "4. NUMA locality: with locality dst, each THP goes to the engine on its"
say "   destination node:  echo dst > $MO/reasons/mempolicy_mbind/locality"
echo dst > $MO/reasons/mempolicy_mbind/locality
for rev in 0 1; do
	a0=$(folios dcbm-node0) b0=$(folios dcbm-node1)
	migrate "THP mbind $rev -> $((1 - rev))" thp mbind $rev
	say "   dcbm-node0 copied $(($(folios dcbm-node0) - a0)) THPs, dcbm-node1 $(($(folios dcbm-node1) - b0))"
done
say ""

say "5. The DMA engines fail every copy: mtcopy and the CPU take over, nothing"
say "   is lost; dcbm is taken out, and back by itself once the engines work"
say "   again (after a back-off that doubles on each relapse, on probation for"
say "   one folio)."
echo 0 > $DMA/fail_every
echo 1 > $MO/max_failures
echo 1 > $DMA/fail_every
migrate "THP mbind, engine failing" thp mbind
say "   dcbm-node1: $(cat $MO/migrators/dcbm-node1/stats/errors) failed sub-batch(es)," \
	"healthy=$(cat $MO/migrators/dcbm-node1/healthy), back in $(cat $MO/migrators/dcbm-node1/readmit_ms) ms"
echo 0 > $DMA/fail_every
s=0
while [ "$(cat $MO/migrators/dcbm-node1/healthy)" = out ] && [ $s -lt 20 ]; do
	sleep 1; s=$((s + 1))
done
say "   engines repaired; $s s later healthy=$(cat $MO/migrators/dcbm-node1/healthy)" \
	"(relapses: $(cat $MO/migrators/dcbm-node1/relapses))"
a0=$(folios dcbm-node0) b0=$(folios dcbm-node1) c0=$(folios dcbm-node2)
migrate "THP mbind, engine repaired" thp mbind
say "   dcbm-node1 copied $(($(folios dcbm-node1) - b0)) THPs, healthy=$(cat $MO/migrators/dcbm-node1/healthy);" \
	"dcbm-node0 and -node2, on probation too, $(($(folios dcbm-node0) - a0)) and" \
	"$(($(folios dcbm-node2) - c0)) (one probation folio each)"
echo 3 > $MO/max_failures
say ""

say "6. dcbm unloaded while memory moves: its batches in flight finish, the"
say "   next ones go to mtcopy."
echo 50 > $DMA/delay_ms
(migrate "THP mbind, rmmod dcbm" thp mbind) & pid=$!
sleep 1
# rmmod does not wait (O_NONBLOCK) while a copy holds the module: retry.
tries=1
until rmmod dcbm 2>/dev/null || [ $tries = 100 ]; do tries=$((tries + 1)); sleep 0.1; done
say "   rmmod dcbm after $tries tries: $(ls $MO/migrators | tr '\n' ' ')left"
wait $pid || fail "THP mbind while dcbm was unloaded"
echo 0 > $DMA/delay_ms
say ""

say "7. migrate_offload_stat (tools/mm): totals since boot, then the rates of"
say "   one second of migration:"
migrate_offload_stat | show
(sleep 0.2; migrate_check thp mbind $MB >/dev/null) &
migrate_offload_stat 1 1 | show
wait
say "   JSON: migrate_offload_stat -j:"
migrate_offload_stat -j | cut -c1-160 | show
say ""
say "make bench measures the copy with and without migrators: build/bench/"
say "has the tables, copy_phase.csv and bench.png."
echo "VMTEST ok demo"
