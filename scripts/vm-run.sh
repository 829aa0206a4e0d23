#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the VM kernel of build/vm (or VM_DIR) with a busybox initramfs
# holding the guest programs, scripts and test modules, under QEMU TCG with
# 2 vCPUs (VM_SMP) and 3 NUMA nodes (node 2: CPU-less, slower memory, a
# lower tier); run tests/vm/SCRIPT.sh (default "tests") and print one TAP
# line per guest test from the serial log.  A guest that hangs is killed
# after VM_TIMEOUT seconds and reported as a failure with the log tail.
# An arm64 kernel (build/vm-arm64) boots on QEMU's xlnx-zcu102 instead,
# with our device tree (tests/vm/zcu102-numa.dts), 4 CPUs and 2 nodes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

script=${1:-tests}
vm=${VM_DIR:-$BUILD/vm}
root=$BUILD/initramfs
log=$vm/serial-$script.log
timeout=${VM_TIMEOUT:-900}
arch=x86_64 cc=gcc
[ -f "$vm/arch/arm64/boot/Image" ] && arch=arm64 cc=aarch64-linux-gnu-gcc
[ $arch = arm64 ] || [ -f "$vm/arch/x86/boot/bzImage" ] ||
	die "no VM kernel: run scripts/vm-build.sh"

# Test modules, built against the VM kernel (none without the feature), in
# a directory of that kernel's own: objects built for another configuration
# (lockdep, KASAN) would link against symbols this one lacks.
mods=$vm/test-modules
mkdir -p "$mods"
rsync -rc --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
	--exclude='.*' "$TOP/tests/vm/modules/" "$mods/"
rm -f "$mods"/*.ko
if [ $arch = x86_64 ] && grep -q '^CONFIG_MIGRATION_COPY_OFFLOAD=y' "$vm/.config"; then
	"${KMAKE[@]}" -s O="$vm" M="$mods" modules >/dev/null ||
		die "test modules failed to build"
fi

rm -rf "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,tests,modules}
if [ $arch = arm64 ]; then
	cp "$(arm64_busybox)" "$root/bin/busybox"
else
	cp /bin/busybox "$root/bin/busybox"
fi
for app in $(/bin/busybox --list); do
	[ "$app" = busybox ] || ln -s busybox "$root/bin/$app"
done
# The guest programs, and the administrator's stat tool (tools/mm/).
for prog in "$TOP"/tests/vm/guest/*.c "$TOP/tools/mm/migrate_offload_stat.c"; do
	$cc -static -O2 -Wall -Wextra -Werror -o "$root/tests/$(basename "$prog" .c)" "$prog" ||
		die "guest program $prog failed to build"
done
# The kernel's own migration selftest, unchanged, from the prepared tree.
st=$TREE/tools/testing/selftests
[ $arch = arm64 ] || gcc -static -O2 -I"$st" -o "$root/tests/mm_migration" "$st/mm/migration.c" \
	"$st/mm/thp_settings.c" -lnuma -lpthread 2>/dev/null ||
	die "tools/testing/selftests/mm/migration.c failed to build"
# Debian's trace-cmd with its libraries: a real tool decodes our events.
if [ $arch = x86_64 ]; then
	for f in /usr/bin/trace-cmd $(ldd /usr/bin/trace-cmd | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$f")" && cp -L "$f" "$root$f"
	done
fi
cp "$TOP"/tests/vm/*.sh "$root/tests/"
cp "$TOP/tests/vm/init" "$root/init"
chmod +x "$root/init"
cp "$mods"/*.ko "$root/modules/" 2>/dev/null || true
find "$vm/drivers/migrate_offload" -name '*.ko' -exec cp {} "$root/modules/" \; 2>/dev/null || true
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$vm/initramfs.cpio.gz"

# HMAT: nodes 0 and 1 are DRAM with a CPU socket each; node 2 is CPU-less
# memory three times slower (a lower memory tier: demotion target).
hmat() {
	local i t lat bw
	for i in 0 1; do
		for t in 0 1 2; do
			lat=10 bw=4G
			[ $i != $t ] && lat=20 bw=2G
			[ $t = 2 ] && lat=60 bw=1G
			echo "-numa hmat-lb,initiator=$i,target=$t,hierarchy=memory,data-type=access-latency,latency=$lat"
			echo "-numa hmat-lb,initiator=$i,target=$t,hierarchy=memory,data-type=access-bandwidth,bandwidth=$bw"
		done
	done
}

# Two sockets, each a NUMA node; VM_SMP=4 gives each 2 CPUs.
smp=${VM_SMP:-2}
[ $arch = arm64 ] && smp=4
cores=$((smp / 2))
cpus0=0 cpus1=$cores
[ "$cores" = 1 ] || cpus0=0-$((cores - 1)) cpus1=$cores-$((smp - 1))
# idle=halt: the CPU model offers MONITOR/MWAIT, and the guest idles in
# MWAIT polling TIF_NEED_RESCHED, so a wake-up sends no IPI; under TCG a
# store to the monitored line does not end MWAIT, and work queued on an
# idle CPU (mtcopy's helper, a DMA channel's worker) waited for that
# CPU's next interrupt: 8 THPs copied by dcbm from CPU 0 took 240 ms
# instead of 19.  HLT always gets an IPI, as MWAIT gets the store on
# hardware.
# VM_PREALLOC=1: the host backs all guest memory before boot, so that a
# first touch of a guest page does not fault in the host (make bench).
ram=memory-backend-ram${VM_PREALLOC:+,prealloc=on}
log "booting VM ($arch, $script, $smp CPUs, timeout ${timeout}s)"
rc=0
if [ $arch = arm64 ]; then
	# QEMU 7.2 answers PSCI itself and rewrites /memory (see the .dts).
	"$vm/scripts/dtc/dtc" -q -I dts -O dtb -o "$vm/zcu102-numa.dtb" "$TOP/tests/vm/zcu102-numa.dts"
	timeout --foreground -k 10 "$timeout" qemu-system-aarch64 \
		-M xlnx-zcu102 -m 2G -smp $smp -dtb "$vm/zcu102-numa.dtb" \
		-kernel "$vm/arch/arm64/boot/Image" -initrd "$vm/initramfs.cpio.gz" \
		-append "console=ttyPS0,115200 panic=-1 oops=panic vmtest=$script ${VM_APPEND:-}" \
		-nographic -no-reboot -monitor none -serial stdio </dev/null \
		>"$log" 2>&1 || rc=$?
else
	timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
		-accel tcg -cpu max -machine pc,hmat=on -m 2560M \
		-smp $smp,sockets=2,cores=$cores,threads=1 \
		-object $ram,id=m0,size=1G \
		-object $ram,id=m1,size=1G \
		-object $ram,id=m2,size=512M \
		-numa node,nodeid=0,cpus=$cpus0,memdev=m0 \
		-numa node,nodeid=1,cpus=$cpus1,memdev=m1 \
		-numa node,nodeid=2,memdev=m2,initiator=0 \
		$(hmat) \
		-kernel "$vm/arch/x86/boot/bzImage" -initrd "$vm/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 oops=panic idle=halt movablecore=50% cma=32M@448M brd.rd_size=16384 vmtest=$script ${VM_APPEND:-}" \
		-nographic -no-reboot -monitor none -serial stdio </dev/null \
		>"$log" 2>&1 || rc=$?
fi
tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"
[ "${VM_QUIET:-0}" = 1 ] || grep -E '^# ' "$log" >&2 || true

# TAP names carry the layer (VM_LAYER): the same guest test runs on
# several kernels, and scripts/manifest.py counts each.
layer=${VM_LAYER:-vm}
fail=0
sed -n "s/^VMTEST \\(ok\\|not ok\\) \\(.*\\)$/\\1 - $layer: \\2/p" "$log"
grep -q '^VMTEST not ok' "$log" && fail=1
if ! grep -q '^VMTEST end' "$log"; then
	tail -n 30 "$log" | sed 's/^/# /'
	echo "not ok - $layer: $script completed (qemu rc=$rc, log: $log)"
	fail=1
else
	klog_check "$layer" "$script" "$log" || fail=1
fi
exit $fail
