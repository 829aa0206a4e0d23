# SPDX-License-Identifier: GPL-2.0
# Guest tests on 4 CPUs: the kernel's own migration selftest, the lying
# migrator (liar.sh) and the load test.
. /tests/lib.sh
. /tests/matrix.sh
. /tests/liar.sh
MO=/sys/kernel/mm/migrate_offload

# tools/testing/selftests/mm/migration.c, unchanged, with offload forced
# (both real migrators, every order, no minimum batch) and hugetlb pages
# reserved on both nodes.  Needs at least 3 CPUs.
selftest() {
	for n in 0 1; do
		echo 4 > /sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages
	done
	forced_migrators selftest.loaded || return
	f0=$(($(cat $MO/migrators/dcbm/stats/folios) + $(cat $MO/migrators/mtcopy/stats/folios)))
	mm_migration > /tmp/selftest.log 2>&1
	sed 's/^/# selftest: /' /tmp/selftest.log
	sed -n -e 's/^ok [0-9]* migration\.\(.*\)$/VMTEST ok selftest.\1/p' \
		-e 's/^not ok [0-9]* migration\.\(.*\)$/VMTEST not ok selftest.\1/p' /tmp/selftest.log
	f=$(($(cat $MO/migrators/dcbm/stats/folios) + $(cat $MO/migrators/mtcopy/stats/folios) - f0))
	t selftest.offloaded sh -c "echo 'migrators copied $f folios'; [ $f -gt 0 ]"
	t selftest.unloaded sh -c 'rmmod mtcopy && rmmod dcbm && rmmod testdma'
	for n in 0 1; do
		echo 0 > /sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages
	done
}

forced_migrators() {	# TEST
	t $1 sh -c 'insmod /modules/testdma.ko channels=4 &&
		insmod /modules/dcbm.ko channels=4 priority=10 orders=0xffffffff min_batch_pages=0 &&
		insmod /modules/mtcopy.ko threads=2 decline=0 priority=10 orders=0xffffffff min_batch_pages=0'
}

# At least 60 s: 8 processes migrate (move_pages, mbind, migrate_pages,
# compaction; 4 KiB and THP) with every byte checked, while sysfs is
# written at random, mtcopy is reloaded and CPU 3 goes offline and online.
LOAD_S=${LOAD_S:-60}
load_worker() {	# I: migrations until the end, each checked
	case $(($1 % 4)) in
	0) a="anon move_pages" ;; 1) a="thp mbind" ;;
	2) a="anon migrate_pages" ;; 3) a="anon compact" ;;
	esac
	# Under this load a page may stay behind (busy at every retry): not a
	# loss.  A wrong byte, or a run that did not check, is.
	n=0 short=0
	while [ $(date +%s) -lt $end ]; do
		migrate_kinds $a 2048 > /tmp/load.$1 2>&1 || short=$((short + 1))
		grep -q 'bad_bytes=0 ' /tmp/load.$1 ||
			{ echo "worker $1 ($a): bytes lost or not checked"; cat /tmp/load.$1; return 1; }
		n=$((n + 1))
	done
	echo "worker $1 ($a): $n migrations, every byte checked, $short with pages left behind"
}
load_sysfs() {	# random writes of valid values; counts them
	n=0 r=$MO/reasons/syscall_or_cpuset
	while [ $(date +%s) -lt $end ]; do
		for m in $MO/migrators/*; do
			case $((RANDOM % 9)) in
			0) echo $((RANDOM % 30)) > $m/priority ;;
			1) echo "syscall_or_cpuset mempolicy_mbind compaction" > $m/reasons ;;
			2) echo all > $m/reasons ;;
			3) echo "0 9" > $m/orders ;;
			4) echo $((RANDOM % 2)) > $m/enabled ;;
			5) echo ok > $m/healthy ;;
			6) echo $(echo weight adaptive | cut -d' ' -f$((RANDOM % 2 + 1))) > $r/split ;;
			7) echo $(echo none dst src | cut -d' ' -f$((RANDOM % 3 + 1))) > $r/locality ;;
			8) echo $(echo share fallback | cut -d' ' -f$((RANDOM % 2 + 1))) > $r/cpu_copy ;;
			esac 2>/dev/null && n=$((n + 1))
		done
		sleep 0.05
	done
	for m in $MO/migrators/*; do echo 1 > $m/enabled; done 2>/dev/null
	echo "sysfs writes: $n"
}
load_reload() {
	# rmmod fails (EAGAIN) while a copy holds the module: tried again.
	n=0
	while [ $(date +%s) -lt $end ]; do
		sleep 1
		rmmod mtcopy 2>/dev/null && insmod /modules/mtcopy.ko threads=2 decline=0 priority=10 \
			orders=0xffffffff min_batch_pages=0 && n=$((n + 1))
	done
	echo "mtcopy reloads: $n"
}
load_hotplug() {
	n=0 c=/sys/devices/system/cpu/cpu3/online
	while [ $(date +%s) -lt $end ]; do
		sleep 1
		echo 0 > $c && sleep 0.5 && echo 1 > $c && n=$((n + 1))
	done
	echo "CPU 3 offline and online: $n times"
}
load_test() {
	end=$(($(date +%s) + LOAD_S)) pids=
	b0=$(cat $MO/stats/batches)
	for i in 0 1 2 3 4 5 6 7; do
		load_worker $i > /tmp/loadw.$i 2>&1 & pids="$pids $!"
	done
	load_sysfs > /tmp/loads 2>&1 & s=$!
	load_reload > /tmp/loadr 2>&1 & r=$!
	load_hotplug > /tmp/loadh 2>&1 & h=$!
	rc=0
	for p in $pids; do wait $p || rc=1; done
	wait $s; wait $r || rc=1; wait $h || rc=1
	cat /tmp/loadw.* /tmp/loads /tmp/loadr /tmp/loadh
	echo "batches: $(($(cat $MO/stats/batches) - b0)), folios by migrators:" \
		$(cat $MO/migrators/*/stats/folios)
	[ $rc = 0 ] && grep -q 'reloads: [1-9]' /tmp/loadr && grep -q 'times$' /tmp/loadh &&
		! grep -q ': 0 times' /tmp/loadh
}

selftest
matrix_setup
liar_layer
forced_migrators load.loaded
t load.60s_8_processes load_test
t load.unloaded sh -c 'rmmod mtcopy && rmmod dcbm && rmmod testdma'
