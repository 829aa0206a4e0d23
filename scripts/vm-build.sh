#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the integration VM kernel (tinyconfig + scripts/vm.config) in
# build/vm; with "off" the same kernel without the feature in build/vm-off;
# with "kasan" the same kernel with generic KASAN in build/vm-kasan; with
# "bench" the production-like part, without lock debugging and DEBUG_VM,
# in build/vm-bench (make bench: a lockdep kernel would measure lockdep),
# and with "bench-off" that kernel without the feature in build/vm-bench-off;
# with "arm64" the arm64 kernel for QEMU's xlnx-zcu102 and its ZynqMP DMA
# (scripts/vm-arm64.config), cross-built, with the tree's dtc, in
# build/vm-arm64.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=${1:-on}
out=$BUILD/vm
[ "$variant" = on ] || out=$BUILD/vm-$variant
# A kernel without the feature starts as a copy of its built counterpart
# with it: kbuild then recompiles only what the changed options reach
# instead of the whole kernel.  The feature's modules are not carried over.
case $variant in
off) on=$BUILD/vm ;;
bench-off) on=$BUILD/vm-bench ;;
*) on= ;;
esac
if [ -n "$on" ] && [ ! -f "$out/.config" ] && [ -f "$on/vmlinux" ]; then
	log "starting $out from $on"
	rm -rf "$out" && cp -a "$on" "$out"
	rm -rf "$out/drivers/migrate_offload" "$out/test-modules"
fi
mkdir -p "$out"

frag=$out/fragment.config
targets=(bzImage modules)
if [ "$variant" = arm64 ]; then
	KMAKE+=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- CC="ccache aarch64-linux-gnu-gcc")
	targets=(Image modules scripts_dtc)
	cp "$TOP/scripts/vm-arm64.config" "$frag"
else
	cp "$TOP/scripts/vm.config" "$frag"
fi
# Every VM kernel has the KUnit suites built in; the KASAN kernel runs them
# at boot before init: under lockdep, DEBUG_VM and KASAN, on the VM's three
# nodes, with no kernel of their own to build (scripts/kunit.sh LOG).
[ "$variant" = kasan ] && sed -i 's/^# CONFIG_KUNIT_DEFAULT_ENABLED is not set/CONFIG_KUNIT_DEFAULT_ENABLED=y/' "$frag" &&
	printf '%s\n' '# CONFIG_SLUB_TINY is not set' CONFIG_KASAN=y CONFIG_KASAN_GENERIC=y \
	CONFIG_KASAN_OUTLINE=y >> "$frag"
# The benchmark kernel has high-resolution timers, as production kernels
# do: without, testdma's pacing sleeps a whole tick (4 ms) per descriptor.
case $variant in bench*) sed -i -e '/^CONFIG_DEBUG_VM=y/d' -e '/^CONFIG_PROVE_LOCKING=y/d' \
	-e '/^CONFIG_DEBUG_ATOMIC_SLEEP=y/d' -e '/KUNIT/d' "$frag"
	echo CONFIG_HIGH_RES_TIMERS=y >> "$frag" ;; esac
# Off: the feature and everything that depends on it.
case $variant in *off) sed -i -e 's/^CONFIG_MIGRATION_COPY_OFFLOAD=y/# CONFIG_MIGRATION_COPY_OFFLOAD is not set/' \
	-e '/^CONFIG_MIGRATE_OFFLOAD_/d' -e '/^CONFIG_MIGRATION_COPY_OFFLOAD_/d' "$frag" ;; esac
if ! cmp -s "$frag" "$out/.fragment.used" || [ ! -f "$out/.config" ]; then
	"${KMAKE[@]}" O="$out" -s tinyconfig >/dev/null
	(cd "$TREE" && scripts/kconfig/merge_config.sh -m -O "$out" "$out/.config" "$frag" >/dev/null)
	"${KMAKE[@]}" O="$out" -s olddefconfig >/dev/null
	# Every option we asked for must have survived olddefconfig.
	while IFS= read -r line; do
		case "$line" in CONFIG_*) grep -qx "$line" "$out/.config" ||
			die "config: $line did not stick (missing dependency?)" ;; esac
	done < "$frag"
	cp "$frag" "$out/.fragment.used"
fi
log "building $variant kernel in $out"
if ! "${KMAKE[@]}" O="$out" -s "${targets[@]}" >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	die "$variant kernel build failed (log: $out/build.log)"
fi
grep -E 'warning:|error:' "$out/build.log" >&2 || true
