# SPDX-License-Identifier: GPL-2.0
# The kernel's own tools/testing/selftests/mm/migration.c, unchanged, with
# offload forced (both real migrators, every order, no minimum batch) and
# hugetlb pages reserved on both nodes.  Needs at least 3 CPUs: booted with 4.
. /tests/lib.sh
MO=/sys/kernel/mm/migrate_offload
for n in 0 1; do
	echo 4 > /sys/devices/system/node/node$n/hugepages/hugepages-2048kB/nr_hugepages
done
insmod /modules/testdma.ko channels=4
insmod /modules/dcbm.ko channels=4 priority=10 orders=0xffffffff min_batch_pages=0
insmod /modules/mtcopy.ko threads=2 decline=0 priority=10 orders=0xffffffff min_batch_pages=0
f0=$(($(cat $MO/migrators/dcbm/stats/folios) + $(cat $MO/migrators/mtcopy/stats/folios)))
mm_migration > /tmp/selftest.log 2>&1
sed 's/^/# selftest: /' /tmp/selftest.log
sed -n -e 's/^ok [0-9]* migration\.\(.*\)$/VMTEST ok selftest.\1/p' \
	-e 's/^not ok [0-9]* migration\.\(.*\)$/VMTEST not ok selftest.\1/p' /tmp/selftest.log
f=$(($(cat $MO/migrators/dcbm/stats/folios) + $(cat $MO/migrators/mtcopy/stats/folios) - f0))
t selftest.offloaded sh -c "echo 'migrators copied $f folios'; [ $f -gt 0 ]"
rmmod mtcopy; rmmod dcbm; rmmod testdma
