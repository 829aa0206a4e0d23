# SPDX-License-Identifier: GPL-2.0
# Guest side of "make demo": every line for the user starts with "# demo:".
. /tests/lib.sh
MB=128

say() { echo "# demo: $*"; }

migrate() {	# migrate LABEL KIND HOW
	out=$(migrate_check $2 $3 $MB) || { say "$1: FAILED: $out"; return 1; }
	mbps=$(echo "$out" | sed 's/.*mbps=\([0-9]*\).*/\1/')
	say "$(printf '%-26s %-5s %-10s %6s MB/s  contents ok' "$1" $2 $3 $mbps)"
}

say "guest: $(nproc) CPUs, nodes: $(ls -d /sys/devices/system/node/node* | sed 's|.*/||' | tr '\n' ' ')"
say "migrating $MB MiB from node 0 to node 1 (every byte checked)"
say ""
for kind in pages thp; do
	for how in move_pages mbind; do
		migrate "CPU (no migrator)" $kind $how
	done
done
say ""
insmod /modules/mo_test.ko set=seed
say "loaded test migrator: $(dmesg | sed -n 's/.*\(migrator .* registered\)/\1/p' | tail -n1)"
for kind in pages thp; do
	for how in move_pages mbind; do
		migrate "mo_count (batch copy)" $kind $how
	done
done
say ""
say "mo_count copied $(param mo_test folios) folios ($(param mo_test pages) pages) in $(param mo_test calls) batches"
echo "VMTEST ok demo"
