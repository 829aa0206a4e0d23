# SPDX-License-Identifier: GPL-2.0
# Guest tests: migrate node 0 -> node 1 and check every byte and page.
. /tests/lib.sh

PAGES=$((MB * 256))

migrate_all() {
	for kind in pages thp; do
		for how in move_pages mbind; do
			migrate_check $kind $how $MB || return 1
		done
	done
}

# With mo_count loaded, every page migrated must have gone through it.
counted_migrate() {
	kind=$1 how=$2
	p0=$(param mo_count pages) f0=$(param mo_count folios)
	migrate_check $kind $how $MB || return 1
	p=$(($(param mo_count pages) - p0)) f=$(($(param mo_count folios) - f0))
	echo "mo_count copied $f folios, $p pages"
	expect_eq "pages copied by mo_count" $p $PAGES || return 1
	if [ $kind = thp ]; then
		expect_eq "THP folios copied by mo_count" $f $((MB / 2))
	else
		expect_eq "folios copied by mo_count" $f $PAGES
	fi
}

fallback_migrate() {
	c0=$(param mo_count calls) p0=$(param mo_count pages)
	echo 1 > /sys/module/mo_count/parameters/fail
	migrate_check $1 $2 $MB; rc=$?
	echo 0 > /sys/module/mo_count/parameters/fail
	[ $rc = 0 ] || return 1
	c=$(($(param mo_count calls) - c0))
	echo "mo_count failed $c batches"
	[ $c -gt 0 ] || { echo "mo_count was never called"; return 1; }
	expect_eq "pages copied by mo_count" $(($(param mo_count pages) - p0)) 0
}

t no_migrator.migrate migrate_all

insmod /modules/mo_count.ko
t mo_count.registered sh -c "dmesg | grep -q \"migrator mo_count registered\""
for kind in pages thp; do
	for how in move_pages mbind; do
		t mo_count.$kind.$how counted_migrate $kind $how
		t mo_count.fallback.$kind.$how fallback_migrate $kind $how
	done
done
# The registry holds a reference on a registered migrator's module.
t mo_count.rmmod_refused_while_registered sh -c '! rmmod mo_count 2>/dev/null'
t mo_count.stop sh -c 'echo 0 > /sys/module/mo_count/parameters/registered'
t mo_count.rmmod rmmod mo_count
t after_rmmod.migrate migrate_all
