#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the VM kernel of build/vm with a busybox initramfs holding the guest
# programs, scripts and test modules, under QEMU TCG with 2 vCPUs and 2 NUMA
# nodes; run tests/vm/SCRIPT.sh (default "tests") and print one TAP line per
# guest test from the serial log.  A guest that hangs is killed after
# VM_TIMEOUT seconds and reported as a failure with the log tail.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

script=${1:-tests}
vm=$BUILD/vm
root=$BUILD/initramfs
log=$vm/serial-$script.log
timeout=${VM_TIMEOUT:-900}
[ -f "$vm/arch/x86/boot/bzImage" ] || die "no VM kernel: run scripts/vm-build.sh"

# Test modules, built against the VM kernel.
mkdir -p "$BUILD/vm-modules/src"
rsync -rc --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
	--exclude='.*' "$TOP/tests/vm/modules/" "$BUILD/vm-modules/src/"
"${KMAKE[@]}" -s O="$vm" M="$BUILD/vm-modules/src" modules >/dev/null ||
	die "test modules failed to build"

rm -rf "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,tests,modules}
cp /bin/busybox "$root/bin/busybox"
for app in $("$root/bin/busybox" --list); do
	[ "$app" = busybox ] || ln -s busybox "$root/bin/$app"
done
for prog in "$TOP"/tests/vm/guest/*.c; do
	gcc -static -O2 -Wall -Wextra -Werror -o "$root/tests/$(basename "$prog" .c)" "$prog" ||
		die "guest program $prog failed to build"
done
cp "$TOP"/tests/vm/*.sh "$root/tests/"
cp "$TOP/tests/vm/init" "$root/init"
chmod +x "$root/init"
cp "$BUILD"/vm-modules/src/*.ko "$root/modules/"
find "$vm/drivers/migrate_offload" -name '*.ko' -exec cp {} "$root/modules/" \; 2>/dev/null || true
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$vm/initramfs.cpio.gz"

log "booting VM ($script, timeout ${timeout}s)"
rc=0
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
	-accel tcg -cpu max -m 2G -smp 2,sockets=2,cores=1,threads=1 \
	-object memory-backend-ram,id=m0,size=1G \
	-object memory-backend-ram,id=m1,size=1G \
	-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1 \
	-kernel "$vm/arch/x86/boot/bzImage" -initrd "$vm/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 oops=panic vmtest=$script ${VM_APPEND:-}" \
	-nographic -no-reboot -monitor none -serial stdio </dev/null \
	>"$log" 2>&1 || rc=$?
tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"
[ "${VM_QUIET:-0}" = 1 ] || grep -E '^# ' "$log" >&2 || true

fail=0
sed -n 's/^VMTEST \(ok\|not ok\) \(.*\)$/\1 - vm: \2/p' "$log"
grep -q '^VMTEST not ok' "$log" && fail=1
if ! grep -q '^VMTEST end' "$log"; then
	tail -n 30 "$log" | sed 's/^/# /'
	echo "not ok - vm: $script completed (qemu rc=$rc, log: $log)"
	fail=1
elif grep -qE 'BUG:|WARNING:|Oops|possible circular locking|INFO: task .* blocked' "$log"; then
	grep -E -A5 'BUG:|WARNING:|Oops|possible circular locking|INFO: task' "$log" | head -n 30 | sed 's/^/# /'
	echo "not ok - vm: $script kernel log clean"
	fail=1
else
	echo "ok - vm: $script kernel log clean"
fi
exit $fail
