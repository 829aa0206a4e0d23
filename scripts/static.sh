#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks on our kernel code, one TAP line each: checkpatch --strict
# on every file and patch of ours, kernel-doc, a W=1 and a sparse build of
# our objects (in build/vm), and a kernel build with the feature off.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

cd "$TOP"
c_files=$(git ls-files -co --exclude-standard -- include mm drivers tools tests/kunit tests/bench tests/vm/modules |
	grep -E '\.[ch]$')
# Our objects: those of our C files in mm/ and drivers/, the benchmark's
# (in mm/tests/), and migrate.o.
objs="mm/migrate.o mm/tests/migrate_offload_bench.o
$(echo "$c_files" | grep -E '^(mm|drivers)/.*\.c$' | sed 's/\.c$/.o/')"
fail=0

tap() {	# tap NAME CMD...: run CMD, print its output as comments on failure
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "ok - static: $name"
	else
		echo "$out" | head -n 20 | sed 's/^/# /'
		echo "not ok - static: $name"
		fail=1
	fi
}

checkpatch() {
	"$TREE/scripts/checkpatch.pl" --strict --no-tree --quiet --no-summary \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG "$@"
}

for f in $c_files; do
	tap "checkpatch $f" checkpatch -f "$f"
done
# A patch is read from stdin: given by name, checkpatch takes it for a file.
for p in $(grep -v '^#' patches/series); do
	tap "checkpatch patches/$p" checkpatch - < "patches/$p"
done

kdoc() {
	local out
	out=$("$TREE/scripts/kernel-doc" -none -Wall "$@" 2>&1)
	[ -z "$out" ] || { echo "$out"; return 1; }
}
tap "kernel-doc" kdoc $(echo "$c_files" | grep -v '^tests/')

# W=1: rebuild only our objects with extra warnings; any warning fails.
w1() {
	local out
	out=$("${KMAKE[@]}" -s O="$BUILD/vm" W=1 $objs 2>&1) || { echo "$out"; return 1; }
	! echo "$out" | grep -E 'migrate_copy_offload|migrate_offload|mtcopy|dcbm|testdma' | grep -q warning ||
		{ echo "$out"; return 1; }
}
tap "W=1 build of our objects" w1

sparse_check() {
	local out
	out=$("${KMAKE[@]}" -s O="$BUILD/vm" C=2 CHECK=sparse $objs 2>&1) || { echo "$out"; return 1; }
	! echo "$out" | grep -E 'migrate_copy_offload|migrate_offload|mtcopy|dcbm|testdma' | grep -qE 'warning|error' ||
		{ echo "$out"; return 1; }
}
tap "sparse on our objects" sparse_check

tap "kernel builds with MIGRATION_COPY_OFFLOAD=n" "$TOP/scripts/vm-build.sh" off
exit $fail
