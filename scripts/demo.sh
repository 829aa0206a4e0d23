#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: build the VM kernel, boot it with 2 NUMA nodes, migrate
# memory between the nodes without and with a migrator, and show what was
# batch-copied, by whom, and how fast.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/prepare.sh"
"$TOP/scripts/vm-build.sh"
VM_QUIET=1 "$TOP/scripts/vm-run.sh" demo > "$BUILD/demo.tap" || {
	cat "$BUILD/demo.tap"
	die "demo failed (serial log: $BUILD/vm/serial-demo.log)"
}
sed -n 's/^# demo: \{0,1\}//p' "$BUILD/vm/serial-demo.log"
