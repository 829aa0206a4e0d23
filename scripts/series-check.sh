#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# "make series", then check the series as a reviewer would, one TAP line
# each: it applies with git am to the pristine base; every patch is
# checkpatch --strict clean; the last patch leaves the tree the other
# layers tested; the VM kernel (build/vm) builds after every patch,
# incrementally, in the prepared tree; get_maintainer.pl names the
# MAINTAINERS entry of the feature.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

need_pkgs python3-ply
out=$BUILD/series
am=$out/am
fail=0

ok() { echo "ok - series: $*"; }
not_ok() { echo "not ok - series: $*"; fail=1; }

if ! python3 "$TOP/scripts/series.py" "$TOP" "$TREE" "$out" >/dev/null; then
	not_ok "make series"
	exit 1
fi
patches=$(ls "$out"/patches/00*.patch | grep -v 0000-cover-letter)
ok "make series: $(echo "$patches" | wc -l) patches and a cover letter"

rm -rf "$am"
git clone -q --shared --no-checkout "$TREE" "$am"
git -C "$am" checkout -q --detach "$(git -C "$TREE" rev-parse base)"
for p in $patches; do
	name=$(basename "$p" .patch)
	if ! git -C "$am" -c user.name=series -c user.email=series@localhost am -q "$p" 2>"$out/am.log"; then
		sed 's/^/# /' "$out/am.log" | head -n 10
		not_ok "$name: git am"
		break
	fi
	if msg=$("$am/scripts/checkpatch.pl" --strict --quiet --no-summary \
		--ignore FILE_PATH_CHANGES - < "$p" 2>&1); then
		ok "$name: checkpatch --strict"
	else
		echo "$msg" | head -n 20 | sed 's/^/# /'
		not_ok "$name: checkpatch --strict"
	fi
done
[ "$(git -C "$am" rev-list --count HEAD ^"$(git -C "$TREE" rev-parse base)")" = \
	"$(echo "$patches" | wc -l)" ] && ok "git am: every patch applied" || not_ok "git am: every patch applied"

# The series must end in the tree the other layers built and tested: its
# commits and our overlay files beside them (the paths prepare.sh lists in
# .git/info/exclude), but not what a build generates in the source tree
# and the kernel's .gitignore files name (the docs layer's netlink specs).
index=$out/prepared.index
cp "$TREE/.git/index" "$index"
prepared=$(cd "$TREE" && export GIT_INDEX_FILE=$index &&
	git add -A . && sed 's|^/||' .git/info/exclude | xargs git add -f -- &&
	git write-tree)
same=0
if [ "$prepared" = "$(git -C "$am" rev-parse 'HEAD^{tree}')" ]; then
	same=1
	ok "the last patch leaves the prepared tree"
else
	git -C "$am" diff --stat HEAD "$prepared" | tail -n 5 | sed 's/^/# /'
	not_ok "the last patch leaves the prepared tree"
fi

# The VM kernel (build/vm, scripts/vm.config: every option the series'
# code needs) builds after every patch, incrementally: each patch's tree is
# checked out in the prepared tree itself, where git rewrites only the
# files that differ, so kbuild recompiles only what the patch reaches.
# Nothing else may build from the tree meanwhile (make test runs this
# last).  The last patch leaves the files as they were; HEAD and the
# index go back to the prepared commits without touching a file.
obj=$BUILD/vm
branch=$(git -C "$TREE" symbolic-ref HEAD)
cp "$obj/.config" "$out/vm.config"
restore() {	# the prepared tree again; cheaply if the series ends in it
	if [ "$same" = 1 ]; then
		git -C "$TREE" checkout -q -f --detach "$(git -C "$am" rev-parse HEAD)"
		git -C "$TREE" clean -q -fdx
		git -C "$TREE" symbolic-ref HEAD "$branch" && git -C "$TREE" reset -q
	else
		git -C "$TREE" checkout -q -f "${branch#refs/heads/}" && git -C "$TREE" clean -q -fdx &&
			"$TOP/scripts/prepare.sh" >/dev/null 2>&1
	fi
	cp "$out/vm.config" "$obj/.config"
}
trap restore EXIT
git -C "$TREE" fetch -q "$am" HEAD
commits=($(git -C "$am" rev-list --reverse HEAD ^"$(git -C "$TREE" rev-parse base)"))
i=0
for p in $patches; do
	name=$(basename "$p" .patch)
	commit=${commits[i++]:-}
	[ -n "$commit" ] || break
	# A patch of documentation, tools or MAINTAINERS only leaves the
	# kernel as the previous patch built it.
	if ! grep '^+++ b/' "$p" | grep -qvE '^\+\+\+ b/(Documentation/|tools/|MAINTAINERS$)'; then
		echo "# $name touches no kernel source: it builds as the patch before"
		ok "$name: builds"
		continue
	fi
	git -C "$TREE" checkout -q -f --detach "$commit" && git -C "$TREE" clean -q -fdx
	# The options a patch's Kconfig adds are set again from the VM's.
	cp "$out/vm.config" "$obj/.config"
	if "${KMAKE[@]}" O="$obj" -s olddefconfig bzImage modules >"$out/build.log" 2>&1 &&
		! grep -E 'warning:|error:' "$out/build.log"; then
		ok "$name: builds"
	else
		tail -n 20 "$out/build.log" | sed 's/^/# /'
		not_ok "$name: builds"
	fi
done
restore
trap - EXIT
# Every patch but the MAINTAINERS one touches files of our entry, whose
# maintainer get_maintainer.pl must name; the scheduler's export goes to
# the scheduler's maintainers.
entry=$(sed -n '/^MEMORY MANAGEMENT - MIGRATION COPY OFFLOAD$/,/^$/p' "$am/MAINTAINERS" |
	sed -n 's/^M:\t//p')
missing=
for p in $patches; do
	want=${entry:-no entry}
	case "$(grep '^+++ b/' "$p")" in
	"+++ b/MAINTAINERS") continue ;;
	"+++ b/kernel/sched/"*) want="Peter Zijlstra" ;;
	esac
	(cd "$am" && perl scripts/get_maintainer.pl --no-git --no-rolestats "$p" 2>/dev/null) |
		grep -qF "$want" || missing="$missing $(basename "$p")"
done
if [ -n "$entry" ] && [ -z "$missing" ]; then
	ok "get_maintainer.pl: $entry for every patch"
else
	not_ok "get_maintainer.pl: no maintainer of ours for${missing:- any patch}"
fi
exit $fail
