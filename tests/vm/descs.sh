# SPDX-License-Identifier: GPL-2.0
# Guest side of make bench's descriptor count: dcbm alone over testdma's
# 4 channels (the CPU copies only what dcbm fails; no minimum batch) moves
# MB MiB of THPs, then of 4 KiB folios; per kind, the MiB dcbm copied and
# the descriptors and interrupts testdma counted meanwhile.
. /tests/lib.sh
MB=${MB:-64}
MO=/sys/kernel/mm/migrate_offload
DMA=/sys/module/testdma/parameters
dmesg -n 1
insmod /modules/testdma.ko channels=4 &&
	insmod /modules/dcbm.ko channels=4 min_batch_pages=0 orders=0x201 ||
	{ echo "VMTEST not ok descs: load"; exit 1; }
cpu_copy_all fallback
for kind in thp pages; do
	echo 1 > /proc/sys/vm/compact_memory
	b0=$(cat $MO/migrators/dcbm/stats/bytes)
	d0=$(cat $DMA/completed) i0=$(cat $DMA/interrupts)
	migrate_check $kind move_pages $MB >/dev/null ||
		{ echo "VMTEST not ok descs: $kind"; exit 1; }
	echo "BENCH_DESC $kind $((($(cat $MO/migrators/dcbm/stats/bytes) - b0) >> 20))" \
		"$(($(cat $DMA/completed) - d0)) $(($(cat $DMA/interrupts) - i0))"
done
