#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: build the VM kernel, boot it with 2 NUMA nodes, migrate
# memory between the nodes without and with a migrator, and show what was
# batch-copied, by whom, and how fast.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# "arm64" (make demo-arm64): the same guest script on the arm64 VM,
# QEMU's xlnx-zcu102 with its ZynqMP DMA.
variant=${1:-on}
vm=$BUILD/vm
[ "$variant" = on ] || vm=$BUILD/vm-$variant
"$TOP/scripts/prepare.sh"
"$TOP/scripts/vm-build.sh" "$variant"
rc=0
VM_DIR=$vm VM_QUIET=1 VM_APPEND="${DEMO_LIE:+demo_lie=1}" "$TOP/scripts/vm-run.sh" demo > "$BUILD/demo.tap" || rc=$?
sed -n 's/^# demo: \{0,1\}//p' "$vm/serial-demo.log"
# The demo passes only on its own "ok" line: a guest that stopped early
# printed none.
if [ $rc != 0 ] || ! grep -q '^ok - vm: demo$' "$BUILD/demo.tap"; then
	grep -v '^ok ' "$BUILD/demo.tap" >&2
	why=$(sed -n 's/^not ok - vm: demo: //p' "$BUILD/demo.tap" | tail -n 1)
	die "demo failed: ${why:-the guest did not finish} (serial log: $vm/serial-demo.log)"
fi
