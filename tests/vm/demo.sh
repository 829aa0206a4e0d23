# SPDX-License-Identifier: GPL-2.0
# Guest side of "make demo": every line for the user starts with "# demo:".
. /tests/lib.sh
MB=128
MO=/sys/kernel/mm/migrate_offload

say() { echo "# demo: $*"; }

migrate() {	# migrate LABEL KIND HOW
	out=$(migrate_check $2 $3 $MB) || { say "$1: FAILED: $out"; return 1; }
	mbps=$(echo "$out" | sed 's/.*mbps=\([0-9]*\).*/\1/')
	say "$(printf '  %-24s %-5s %-10s %6s MB/s   every byte checked' "$1" $2 $3 $mbps)"
}

all_four() {
	for kind in pages thp; do
		for how in move_pages mbind; do
			migrate "$1" $kind $how || return 1
		done
	done
}

stats_table() {
	say "$(printf '  %-10s %8s %8s %8s %9s %8s %8s' migrator batches folios MiB busy_ms MB/s errors)"
	for d in $MO/migrators/*; do
		s=$d/stats
		say "$(printf '  %-10s %8s %8s %8s %9s %8s %8s' ${d##*/} $(cat $s/batches) \
			$(cat $s/folios) $(($(cat $s/bytes) >> 20)) $(($(cat $s/busy_ns) / 1000000)) \
			$(cat $s/throughput) $(cat $s/errors))"
	done
	say "  global: $(cat $MO/stats/folios) folios batch-copied, $(cat $MO/stats/cpu_folios) left to the per-folio copy, $(cat $MO/stats/fallback_folios) CPU fallback"
}

say "guest: $(nproc) CPUs, NUMA $(ls -d /sys/devices/system/node/node* | sed 's|.*/||' | tr '\n' ' ')- migrating $MB MiB from node 0 to node 1"
say ""
say "1. No migrator: the CPU copies each folio."
all_four "CPU"
say ""
insmod /modules/mo_test.ko set=pair
say "2. Two test migrators registered: fake_a (priority 20, any folio), fake_b"
say "   (priority 10, 4 KiB folios of move_pages/mbind).  The administrator"
say "   routes THPs to fake_a:  echo 2M > $MO/migrators/fake_a/orders"
echo 2M > $MO/migrators/fake_a/orders
all_four "fake_a THP, fake_b 4K"
stats_table
say ""
say "3. Equal priority, weights 3:1, for move_pages (reason syscall_or_cpuset):"
echo "0 9" > $MO/migrators/fake_a/orders
echo 10 > $MO/migrators/fake_a/priority
echo 3 > $MO/migrators/fake_a/weight
a0=$(cat $MO/migrators/fake_a/stats/bytes) b0=$(cat $MO/migrators/fake_b/stats/bytes)
migrate "split 3:1" pages move_pages
a=$((($(cat $MO/migrators/fake_a/stats/bytes) - a0) >> 20))
b=$((($(cat $MO/migrators/fake_b/stats/bytes) - b0) >> 20))
say "   fake_a copied $a MiB, fake_b $b MiB"
say ""
say "4. fake_a fails every batch: fake_b, then the CPU take over, nothing is lost."
echo 2 > /sys/module/mo_test/parameters/fail
migrate "fake_a failing" pages move_pages
echo 0 > /sys/module/mo_test/parameters/fail
say "   fake_a healthy=$(cat $MO/migrators/fake_a/healthy) after $(cat $MO/migrators/fake_a/stats/errors) errors (max_failures=$(cat $MO/max_failures)); fake_b took its folios"
echo 1 > $MO/migrators/fake_a/healthy
stats_table
echo "VMTEST ok demo"
