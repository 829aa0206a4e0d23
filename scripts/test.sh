#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Every test layer: static checks, KUnit, VM.  One TAP line per test, then
# "N passed, N failed, N skipped"; non-zero exit on any failure.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

results=$BUILD/test-results.tap
mkdir -p "$BUILD"
: > "$results"
start=$SECONDS

run() {	# run LAYER CMD...: a layer that cannot run at all is one failure
	local layer=$1 rc t=$SECONDS
	shift
	log "$layer"
	"$@" | tee -a "$results"
	rc=${PIPESTATUS[0]}
	if [ "$rc" != 0 ] && ! grep -q "^not ok - $layer" "$results"; then
		echo "not ok - $layer: layer failed (exit $rc)" | tee -a "$results"
	fi
	log "$layer: $((SECONDS - t)) s, at $((SECONDS - start)) s"
}

"$TOP/scripts/prepare.sh" || { echo "not ok - prepare"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
# The KASAN and arm64 kernels build meanwhile, one after the other, in the
# CPUs' idle time only (SCHED_IDLE): the documentation build and the VM
# layers leave them idle while their guests sleep.  Their layers wait.
bg_build() {	# bg_build VARIANT: build it, its exit status in build/VARIANT.rc
	local rc=0
	"$TOP/scripts/vm-build.sh" "$1" >"$BUILD/$1-build.out" 2>&1 || rc=$?
	echo $rc > "$BUILD/$1-build.rc"
}
bg_wait() {	# bg_wait VARIANT NAME: wait for its build, show its log, one TAP line
	while [ ! -f "$BUILD/$1-build.rc" ] && kill -0 $bg_builds 2>/dev/null; do
		sleep 5
	done
	cat "$BUILD/$1-build.out" >&2
	[ "$(cat "$BUILD/$1-build.rc" 2>/dev/null)" = 0 ] && echo "ok - build: $2 VM kernel"
}
rm -f "$BUILD"/kasan-build.rc "$BUILD"/arm64-build.rc
( chrt -i -p 0 $BASHPID >/dev/null; bg_build kasan; bg_build arm64 ) &
bg_builds=$!
run build bash -c "'$TOP/scripts/vm-build.sh' >&2 && echo 'ok - build: VM kernel and modules'"
run static "$TOP/scripts/static.sh"
run docs "$TOP/scripts/docs.sh"
VM_QUIET=1 run vm "$TOP/scripts/vm-run.sh" tests
VM_QUIET=1 VM_SMP=4 VM_LAYER=vm-smp4 run vm-smp4 "$TOP/scripts/vm-run.sh" smp4
# The hugetlb cells on the kernel without the feature (built by static).
VM_QUIET=1 VM_DIR=$BUILD/vm-off VM_LAYER=vm-off run vm-off "$TOP/scripts/vm-run.sh" feature_off
# The matrix with offload forced on a KASAN kernel, and KUnit.
run build-kasan bg_wait kasan KASAN
# The KUnit suites ran in its boot, before init.
VM_QUIET=1 VM_TIMEOUT=1500 VM_DIR=$BUILD/vm-kasan VM_LAYER=vm-kasan run vm-kasan "$TOP/scripts/vm-run.sh" kasan
run kunit "$TOP/scripts/kunit.sh" "$BUILD/vm-kasan/serial-kasan.log"
# dcbm through a driver we did not write: arm64, QEMU's xlnx-zcu102 and
# its ZynqMP DMA (zynqmp_dma), two NUMA nodes from our device tree.
run build-arm64 bg_wait arm64 arm64
VM_QUIET=1 VM_DIR=$BUILD/vm-arm64 VM_LAYER=vm-arm64 run vm-arm64 "$TOP/scripts/vm-run.sh" arm64
# The series last: it builds the VM kernel after every patch in the
# prepared tree itself, which nothing else may build from meanwhile.
run series "$TOP/scripts/series-check.sh"

# Every layer knows its tests: one that did not run fails (tests/expected).
log manifest
python3 "$TOP/scripts/manifest.py" check "$results" | tee -a "$results"

skipped=$(grep -c '^ok .*# SKIP' "$results" || true)
failed=$(grep -c '^not ok ' "$results" || true)
passed=$(( $(grep -c '^ok ' "$results") - skipped ))
log "all layers in $((SECONDS - start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
