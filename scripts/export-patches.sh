#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate patches/ from the commits on top of "base" in build/linux.
#
# Workflow (quilt-like, with git): run "make prepare"; in build/linux edit
# existing kernel files and "git commit" (a new patch) or
# "git commit --fixup=<sha>" + "git rebase -i --autosquash base" (change a
# patch); then "make export-patches".  Overlay files (new files at their
# kernel paths) are ignored by git in build/linux: edit those in this repo.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

git -C "$TREE" diff --quiet HEAD || die "uncommitted edits in $TREE: commit them first"
rm -f "$TOP"/patches/*.patch
git -C "$TREE" format-patch -q --no-signature --zero-commit --no-stat \
	-o "$TOP/patches" base..HEAD
{
	echo "# Ordered series of edits to existing kernel files (git format-patch)."
	(cd "$TOP/patches" && ls -1 *.patch 2>/dev/null)
} > "$TOP/patches/series"
# The tree now matches the series: no re-apply on the next prepare.
series_sum=$(cd "$TOP/patches" && cat series $(grep -v '^#' series) | sha1sum | cut -c1-40)
echo "$series_sum" > "$TREE/.git/overlay-series"
log "exported $(git -C "$TREE" rev-list --count base..HEAD) patches"
