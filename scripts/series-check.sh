#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# "make series", then check the series as a reviewer would, one TAP line
# each: it applies with git am to the pristine base; every patch is
# checkpatch --strict clean; the kernel (scripts/series.config: every
# option the series' code needs, feature on) builds after every patch,
# incrementally in build/series/obj with ccache; get_maintainer.pl names the MAINTAINERS entry of the feature.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

need_pkgs python3-ply
out=$BUILD/series
am=$out/am
obj=$out/obj
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
mkdir -p "$obj"
frag=$obj/fragment.config
cp "$TOP/scripts/series.config" "$frag"
kmake=("${KMAKE[@]}")
kmake[2]=$am

# The fragment again after each patch: the options a patch adds get set.
configure() {
	[ -f "$obj/.config" ] || "${kmake[@]}" O="$obj" -s tinyconfig >/dev/null
	(cd "$am" && scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" "$frag" >/dev/null 2>&1)
	"${kmake[@]}" O="$obj" -s olddefconfig >/dev/null
}

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
	# A patch of documentation, tools or MAINTAINERS only leaves the
	# kernel as the previous patch built it.
	if ! grep '^+++ b/' "$p" | grep -qvE '^\+\+\+ b/(Documentation/|tools/|MAINTAINERS$)'; then
		echo "# $name touches no kernel source: it builds as the patch before"
		ok "$name: builds"
		continue
	fi
	configure
	if "${kmake[@]}" O="$obj" -s vmlinux modules >"$out/build.log" 2>&1 &&
		! grep -E 'warning:|error:' "$out/build.log"; then
		ok "$name: builds"
	else
		tail -n 20 "$out/build.log" | sed 's/^/# /'
		not_ok "$name: builds"
	fi
done
[ "$(git -C "$am" rev-list --count HEAD ^"$(git -C "$TREE" rev-parse base)")" = \
	"$(echo "$patches" | wc -l)" ] && ok "git am: every patch applied" || not_ok "git am: every patch applied"

# The builds compiled all of the series' code: no option was dropped.
dropped=$(grep '^CONFIG_' "$frag" | while read -r l; do grep -qx "$l" "$obj/.config" || echo "$l"; done)
[ -z "$dropped" ] && ok "every option of series.config set" || not_ok "options dropped:" $dropped

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
