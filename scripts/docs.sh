#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Documentation checks, one TAP line each: "make htmldocs" of the
# directories we touch (SPHINXDIRS, in build/docs) with no warning from our
# files, and scripts/get_abi.pl validate on our ABI file.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

need_pkgs python3-sphinx
out=$BUILD/docs
mkdir -p "$out"
ours='migrate_offload|migrate_copy_offload'
fail=0

dirs="mm admin-guide/mm"
if make -C "$TREE" O="$out" SPHINXDIRS="$dirs" htmldocs >"$out/htmldocs.log" 2>&1 &&
	[ -s "$out/Documentation/output/admin-guide/mm/migrate_offload.html" ] &&
	[ -s "$out/Documentation/output/mm/migrate_copy_offload.html" ]; then
	if grep -E "$ours" "$out/htmldocs.log" | grep -iE 'warning|error'; then
		echo "not ok - docs: htmldocs $dirs: warnings from our files"
		fail=1
	else
		echo "ok - docs: htmldocs $dirs, no warning from our files"
	fi
else
	tail -n 20 "$out/htmldocs.log" | sed 's/^/# /'
	echo "not ok - docs: htmldocs $dirs (log: $out/htmldocs.log)"
	fail=1
fi

# get_abi.pl reads a directory tree: ours alone, so that only our file counts.
abi=$out/abi
rm -rf "$abi" && mkdir -p "$abi/testing"
cp "$TOP/Documentation/ABI/testing/sysfs-kernel-mm-migrate_offload" "$abi/testing/"
if msg=$(cd "$TREE" && perl scripts/get_abi.pl validate --dir "$abi" 2>&1) && [ -z "$msg" ]; then
	echo "ok - docs: get_abi.pl validate sysfs-kernel-mm-migrate_offload"
else
	echo "$msg" | head -n 20 | sed 's/^/# /'
	echo "not ok - docs: get_abi.pl validate sysfs-kernel-mm-migrate_offload"
	fail=1
fi
exit $fail
