# SPDX-License-Identifier: GPL-2.0
# Prove the suite can fail: a migrator that reports every copy done but
# gets one folio of lie_every wrong (mo_test set=liar: untouched, one byte
# flipped, the neighbour's content, half copied), alone at priority 100,
# lying only to the cell's own process.  Over every folio kind and the
# reasons a process can confine to its own memory, without verify each lie
# must fail the cell (caught by its byte check: "bad_bytes", the fork
# child's "child", the writers' words); with verify=1 the core must catch
# every lie (verify_failures = lies) and the cell must pass, every byte
# intact.  Sourced after lib.sh and matrix.sh.

LIAR=/sys/module/mo_test/parameters
LM=/sys/kernel/mm/migrate_offload/migrators/liar

# NAME:KIND:HOW:KIB:FOLIO_KIB:FILE.  The liar serves only the reason of
# HOW: the cell's process also compacts directly (allocating THPs) and
# that would corrupt its other memory, or another task's.
LIAR_CELLS="anon:anon:move_pages:4096:4:
thp:thp:move_pages:4096:2048:
mthp64k:mthp:mbind:4096:64:
shared:shared:move_pages:4096:4:
fork:fork:move_pages:4096:4:
tmpfs:file:move_pages:4096:4:/tmp/liar
tmpfs_huge:file:move_pages:4096:2048:/mnt/shmthp/f
ksm:ksm:move_pages:4096:4:
mlock:mlock:mbind:4096:4:
writers:writers:move_pages:4096:4:
soft_offline:anon:soft_offline:256:4:
demotion:anon:demote:4096:4:"

# liar_run KIND HOW KIB FOLIO_KIB FILE: one cell, lied to; prints its output,
# then "lies=N verify_failures=N rc=N".
liar_run() {
	l0=$(cat $LIAR/lies) v0=$(cat $LM/stats/verify_failures)
	[ $1 = mthp ] && mthp_64k on
	[ "$5" = /mnt/shmthp/f ] && mount -t tmpfs -o huge=always,size=64M none /mnt/shmthp
	cg=
	[ $2 = demote ] && cg=tiered
	case $2 in
	move_pages) echo syscall_or_cpuset ;; mbind) echo mempolicy_mbind ;;
	soft_offline) echo memory_failure ;; demote) echo demotion ;;
	esac > $LM/reasons
	export EXPECT_FOLIO_KIB=$4
	out=$($cg sh -c "echo \$\$ > $LIAR/pid && exec migrate_kinds $1 $2 $3 $5" 2>&1)
	rc=$?
	unset EXPECT_FOLIO_KIB
	echo 0 > $LIAR/pid
	[ "$5" = /mnt/shmthp/f ] && umount /mnt/shmthp
	[ -n "$5" ] && rm -f $5
	[ $1 = mthp ] && mthp_64k off
	echo "$out"
	echo "lies=$(($(cat $LIAR/lies) - l0)) verify_failures=$(($(cat $LM/stats/verify_failures) - v0)) rc=$rc"
}

# liar_caught CELL: the lies were told and the cell failed on its data.
liar_caught() {
	out=$(liar_run $(echo $1 | cut -d: -f2-5 | tr : ' ') "$(echo $1 | cut -d: -f6)")
	echo "$out"
	res=$(echo "$out" | tail -n 1)
	lies=$(echo "$res" | sed 's/lies=\([0-9]*\).*/\1/')
	[ "$lies" -gt 0 ] || { echo "no lie told: the liar copied nothing"; return 1; }
	echo "$res" | grep -q 'rc=0$' && { echo "NOT CAUGHT: $lies lies, cell passed"; return 1; }
	by=$(echo "$out" | grep -oE 'bad_bytes=[1-9][0-9]*|child=[1-9]' | head -n 1)
	[ -n "$by" ] || { echo "failed, but not on its data"; return 1; }
	echo "caught by $by"
}

# liar_verified CELL: with verify=1 every lie was caught by the core, and
# the cell passed.  The liar is taken out at its first lie: back for the
# next cell.
liar_verified() {
	out=$(liar_run $(echo $1 | cut -d: -f2-5 | tr : ' ') "$(echo $1 | cut -d: -f6)")
	echo "$out"
	echo ok > $LM/healthy
	res=$(echo "$out" | tail -n 1)
	lies=$(echo "$res" | sed 's/lies=\([0-9]*\).*/\1/')
	vf=$(echo "$res" | sed 's/.*verify_failures=\([0-9]*\).*/\1/')
	[ "$lies" -gt 0 ] || { echo "no lie told: the liar copied nothing"; return 1; }
	expect_eq "folios verify found wrong" $vf $lies &&
		echo "$res" | grep -q 'rc=0$'
}

liar_layer() {
	mkdir -p /mnt/shmthp
	t liar.loaded insmod /modules/mo_test.ko set=liar lie_every=2
	for lie in untouched flip neighbour half; do
		echo $lie > $LIAR/lie
		for cell in $LIAR_CELLS; do
			echo $RANDOM > $LIAR/seed
			t liar.$lie.${cell%%:*}.caught liar_caught $cell
		done
	done
	echo 1 > $LM/verify
	for lie in untouched flip neighbour half; do
		echo $lie > $LIAR/lie
		for cell in $LIAR_CELLS; do
			echo $RANDOM > $LIAR/seed
			t liar.verify.$lie.${cell%%:*}.intact liar_verified $cell
		done
	done
	t liar.unloaded rmmod mo_test
}
