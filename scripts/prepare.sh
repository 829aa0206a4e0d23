#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn this repository into a kernel tree under build/linux:
#   1. unpack Debian's linux-source-6.12 as a git repo (tag "base" = pristine),
#   2. apply patches/series as one commit per patch (git am),
#   3. copy the overlay files (new files at their kernel paths) on top.
# Re-running re-syncs: changed overlay files are copied (unchanged ones keep
# their mtime, so builds stay incremental); a changed series is re-applied
# from "base".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_pkgs "${BUILD_PKGS[@]}"
mkdir -p "$BUILD"

src_tar=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1)
[ -n "$src_tar" ] || die "linux-source-6.12 tarball not found in /usr/src"

git_tree() { git -C "$TREE" -c user.name=overlay -c user.email=overlay@localhost "$@"; }

if ! git -C "$TREE" rev-parse -q --verify base >/dev/null 2>&1; then
	log "unpacking $src_tar"
	rm -rf "$TREE" "$BUILD/linux.tmp"
	mkdir -p "$BUILD/linux.tmp"
	tar -xf "$src_tar" -C "$BUILD/linux.tmp" --strip-components=1
	mv "$BUILD/linux.tmp" "$TREE"
	git_tree init -q
	git_tree add -A -f .
	git_tree commit -q -m "base: $(basename "$src_tar")"
	git_tree tag base
fi

# Overlay paths are not part of the base: keep them out of "git status" so
# that export-patches.sh only sees edits of existing files.
overlay_dirs=(include mm drivers Documentation tools)
series_sum=$(cd "$TOP/patches" && cat series $(grep -v '^#' series) | sha1sum | cut -c1-40)
if [ "$(cat "$TREE/.git/overlay-series" 2>/dev/null)" != "$series_sum" ]; then
	log "applying patches/series onto base"
	git_tree am --abort >/dev/null 2>&1 || true
	git_tree reset -q --hard base
	git_tree clean -q -fdx -e /mm/tests
	while read -r p; do
		case "$p" in ''|\#*) continue ;; esac
		git_tree am -q --keep-cr "$TOP/patches/$p" ||
			{ git_tree am --abort; die "patch $p does not apply"; }
	done < "$TOP/patches/series"
	echo "$series_sum" > "$TREE/.git/overlay-series"
fi

# Overlay: new files at their kernel paths (checksums, so mtimes of unchanged
# files are kept); the KUnit suites and the benchmark live in mm/tests/.
for d in "${overlay_dirs[@]}"; do
	[ -d "$TOP/$d" ] && rsync -rc "$TOP/$d/" "$TREE/$d/"
done
mkdir -p "$TREE/mm/tests"
rsync -rc --delete --include='*.c' --include='*.h' --exclude='*' \
	"$TOP/tests/kunit/" "$TOP/tests/bench/" "$TREE/mm/tests/"
(cd "$TOP" && git ls-files -co --exclude-standard "${overlay_dirs[@]}" 2>/dev/null |
	sed 's|^|/|'; echo /mm/tests/) > "$TREE/.git/info/exclude"

log "base $(make -s -C "$TREE" kernelversion) ($(basename "$src_tar")), $(git_tree rev-list --count base..HEAD) patches applied"
