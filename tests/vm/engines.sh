# SPDX-License-Identifier: GPL-2.0
# dcbm over testdma: what a migrator copied, injected faults, and each real
# engine's contract as its driver keeps it (testdma model=..., the table of
# Documentation/mm/migrate_copy_offload.rst).  Sourced by tests.sh and
# kasan.sh after lib.sh.

MO=/sys/kernel/mm/migrate_offload
DMA=/sys/module/testdma/parameters

stat() { cat $MO/migrators/$1/stats/$2; }

within() {
	case "$3" in
	about:*) want=${3#about:}; d=$(($2 - want)); [ $d -lt 0 ] && d=$((-d))
	    [ $((d * 20)) -le $want ] || { echo "$1: got $2, want about $want"; return 1; } ;;
	+) [ $2 -gt 0 ] || { echo "$1: got 0, want some"; return 1; } ;;
	*) expect_eq "$1" $2 $3 ;;
	esac
}

# all_copied WHO BYTES FOLIOS FOLIO_KIB: all of the MB MiB went through WHO
# (a move retried after -EAGAIN is copied again: a few more are fine).
all_copied() {
	[ $2 -ge $((MB << 20)) ] || { echo "bytes copied by $1: got $2, want $((MB << 20))"; return 1; }
	within "bytes copied by $1" $2 about:$((MB << 20)) &&
		within "folios copied by $1" $3 about:$((MB * 1024 / $4))
}

migrator_migrate() {	# MIGRATOR KIND HOW FOLIO_KIB: every byte through it
	f0=$(stat $1 folios) b0=$(stat $1 bytes)
	migrate_check $2 $3 $MB || return 1
	f=$(($(stat $1 folios) - f0)) b=$(($(stat $1 bytes) - b0))
	echo "$1 copied $f folios, $((b >> 20)) MiB"
	all_copied $1 $b $f $4
}

# Injected failures (or, with "timeout", descriptors too slow and aborted):
# every byte arrives, errors and fallbacks are counted.
dcbm_faults() {	# HOW [timeout]
	e0=$(stat dcbm errors) f0=$(cat $DMA/failed) c0=$(cat $MO/stats/fallback_folios)
	h0=$(stat dcbm held_folios)
	migrate_check thp $1 $MB || return 1
	e=$(($(stat dcbm errors) - e0)) f=$(($(cat $DMA/failed) - f0))
	c=$(($(cat $MO/stats/fallback_folios) - c0))
	echo "testdma failed $f descriptors, dcbm failed $e sub-batches, CPU copied $c folios," \
		"$(($(stat dcbm held_folios) - h0)) folios held"
	[ $f -gt 0 ] || [ "$2" = timeout ] || { echo "no descriptor failed"; return 1; }
	[ $e -gt 0 ] && expect_eq "CPU copied folios of failed sub-batches" $c $e
}

# Each engine's contract as its driver keeps it (testdma model=..., the
# table of Documentation/mm/migrate_copy_offload.rst), dcbm over it alone.
engine() {	# MODEL [DCBM_ARGS...]: reload both over that model
	m=$1; shift
	rmmod dcbm 2>/dev/null; rmmod testdma 2>/dev/null
	insmod /modules/testdma.ko model=$m channels=4 && insmod /modules/dcbm.ko channels=4 "$@"
}

# Every THP through dcbm, judged by the callbacks alone (idxd's tx_status
# is DMA_OUT_OF_ORDER for every cookie).
engine_copies() {
	migrator_migrate dcbm thp move_pages 2048 && migrator_migrate dcbm thp mbind 2048
}

# One descriptor in five fails, reported as the driver reports it (ptdma
# and zynqmp_dma: as a success): no failed copy counts, every byte arrives.
engine_faults() {
	echo 5 > $DMA/fail_every
	dcbm_faults move_pages; rc=$?
	echo 0 > $DMA/fail_every
	return $rc
}

# Batches of 32 mTHPs of 64 KiB over 4 channels: one interrupt per channel
# per sub-batch where completion is in order, one per descriptor where not.
engine_interrupts() {	# IN_ORDER
	mthp_64k on || return 1
	b0=$(stat dcbm batches) d0=$(cat $DMA/completed) i0=$(cat $DMA/interrupts)
	migrate_check mthp mbind 4; rc=$?
	mthp_64k off
	b=$(($(stat dcbm batches) - b0)) d=$(($(cat $DMA/completed) - d0))
	i=$(($(cat $DMA/interrupts) - i0))
	echo "$b sub-batches, $d descriptors, $i interrupts"
	[ $rc = 0 ] && [ $b -gt 0 ] || return 1
	if [ $1 = 1 ]; then expect_eq interrupts $i $((b * 4)); else expect_eq interrupts $i $d; fi
}

# The engine never completes.  While dcbm's caller waits for it (timeout_ms
# 5000), other migrators load and unload: their unregistration waits for
# no call of dcbm's.  The caller then returns, the destinations held (the
# folios stay where they were or are copied afresh), and when the engine
# finally completes, its writes land in held pages only: canaries on both
# nodes and the process's new contents unchanged.
engine_hung() {
	rm -f /tmp/held /tmp/released
	h0=$(stat dcbm held_folios) i0=$(cat $DMA/issued)
	echo 1 > $DMA/hang
	HELD_FILE=/tmp/held RELEASE_FILE=/tmp/released CANARY_MIB=8 LATE_MS=300 \
		migrate_check thp move_pages 16 > /tmp/hung.out 2>&1 & p=$!
	s=0
	while [ "$(cat $DMA/issued)" = $i0 ] && [ $s -lt 300 ]; do sleep 0.1; s=$((s + 1)); done
	timeout 60 sh -c "insmod /modules/mtcopy.ko && rmmod mtcopy &&
		insmod /modules/mo_test.ko set=seed && rmmod mo_test"; r=$?
	waiting=$(param dcbm held)
	[ -e /tmp/held ] && waiting=returned
	s=0
	while [ ! -e /tmp/held ] && [ $s -lt 600 ]; do sleep 0.1; s=$((s + 1)); done
	returned=0
	[ -e /tmp/held ] && returned=1
	held=$(param dcbm held) h=$(($(stat dcbm held_folios) - h0))
	echo 0 > $DMA/hang
	touch /tmp/released
	wait $p; rc=$?
	cat /tmp/hung.out
	s=0
	while [ "$(param dcbm held)" != 0 ] && [ $s -lt 100 ]; do sleep 0.1; s=$((s + 1)); done
	echo "other migrators loaded and unloaded ($r) while dcbm held $waiting sub-batches;" \
		"then $held sub-batches held, $h folios; $(param dcbm held) held" \
		"$((s * 100)) ms at most after the late completion"
	expect_eq "other migrators loaded and unloaded" $r 0 &&
		expect_eq "sub-batches held while dcbm's caller waited" $waiting 0 &&
		expect_eq "returned while the engine hung" $returned 1 &&
		[ $rc = 0 ] && [ $held -gt 0 ] && [ $h -gt 0 ] &&
		expect_eq "held after the late completion" $(param dcbm held) 0
}

# zynqmp_dma holds 32 descriptors per channel: a sub-batch of 4 KiB folios
# needs more on each of its 4 channels (256 or 512 folios).  A refused prep
# sets the channel's window; dcbm waits for what it has in flight and goes
# on: every folio through dcbm, none declined.
engine_windows() {
	x0=$(cat $DMA/exhausted) d0=$(stat dcbm declined)
	migrator_migrate dcbm pages move_pages 4 || return 1
	x=$(($(cat $DMA/exhausted) - x0)) d=$(($(stat dcbm declined) - d0))
	echo "preps refused (every descriptor in use): $x; sub-batches declined: $d"
	[ $x -gt 0 ] || { echo "no prep was refused: the window never filled"; return 1; }
	expect_eq "sub-batches declined" $d 0
}

# engine_contracts PREFIX MODELS TESTS: for each model, dcbm over it alone;
# TESTS of copies, faults, interrupts, hung_engine.
engine_contracts() {
	echo 0 > $MO/max_failures
	for m in $2; do
		engine $m timeout_ms=2000
		case " $3 " in *" copies "*) t $1.$m.copies engine_copies ;; esac
		case " $3 " in *" faults "*) t $1.$m.faults engine_faults ;; esac
		in_order=1
		[ $m = idxd ] && in_order=0
		case " $3 " in *" interrupts "*)
			engine $m orders=0x10 min_batch_pages=0
			t $1.$m.interrupts engine_interrupts $in_order ;;
		esac
		case " $3 " in *" hung_engine "*)
			engine $m timeout_ms=5000
			t $1.$m.hung_engine engine_hung ;;
		esac
	done
	echo 3 > $MO/max_failures
}
