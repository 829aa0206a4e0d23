# SPDX-License-Identifier: GPL-2.0
# Guest side of make bench's no-migrator cost: move_pages(2) throughput of
# THP and 4 KiB memory, node 0 to node 1, kinds alternating, every run from
# compacted memory.  Booted alternately on the benchmark kernel with the
# feature (and no migrator: none is loaded) and on the same kernel built
# without it; the host pairs the boots.
if [ -d /sys/kernel/mm/migrate_offload ]; then
	n=$(ls /sys/kernel/mm/migrate_offload/migrators | wc -l)
	[ "$n" = 0 ] || { echo "VMTEST not ok nocost: $n migrators registered"; exit 1; }
fi
i=1
while [ $i -le 9 ]; do
	for kind in thp pages; do
		echo 1 > /proc/sys/vm/compact_memory
		out=$(migrate_check $kind move_pages 32) || { echo "VMTEST not ok nocost: $kind"; exit 1; }
		echo "NOCOST $kind $(echo "$out" | sed 's/.*mbps=\([0-9]*\).*/\1/')"
	done
	i=$((i + 1))
done
