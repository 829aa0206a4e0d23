# SPDX-License-Identifier: GPL-2.0
# Shared settings for the harness scripts; sourced, never run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
TREE=$BUILD/linux
JOBS=${JOBS:-$(nproc)}

export CCACHE_DIR=${CCACHE_DIR:-$BUILD/ccache}
export CCACHE_DEPEND=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-3G}
export CCACHE_NOHASHDIR=1
export CCACHE_BASEDIR=$TOP

KMAKE=(make -C "$TREE" -j"$JOBS" CC="ccache gcc" HOSTCC="ccache gcc")

# What a kernel log must not hold (vm-run.sh, kunit.sh): bugs, warnings,
# lockdep and KASAN reports, a task blocked (hung task detector), a CPU
# stuck (soft lockup), an RCU stall, the OOM killer.
KLOG_BAD='BUG:|WARNING:|Oops|possible circular locking|possible recursive locking|inconsistent lock state|KASAN:|INFO: task .* blocked|soft lockup|rcu: INFO|self-detected stall|Out of memory|oom-kill'

# klog_check LAYER NAME LOG: one TAP line for the log.
klog_check() {
	if grep -qE "$KLOG_BAD" "$3"; then
		grep -E -A5 "$KLOG_BAD" "$3" | head -n 30 | sed 's/^/# /'
		echo "not ok - $1: $2 kernel log clean"
		return 1
	fi
	echo "ok - $1: $2 kernel log clean"
}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# need_pkgs PKG...: apt-get install the packages that are missing.
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing: ${missing[*]}"
	[ "$(id -u)" = 0 ] || die "need root to install ${missing[*]}"
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null || die "apt-get install failed"
}

BUILD_PKGS=(linux-source-6.12 build-essential flex bison bc libelf-dev libssl-dev
	    cpio ccache qemu-system-x86 busybox-static python3 rsync kmod xz-utils
	    libnuma-dev sparse git gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	    qemu-system-arm trace-cmd)

# arm64_busybox: the path of Debian's static arm64 busybox for the arm64
# VM's initramfs, fetched once (apt-get download, arm64 added as a foreign
# architecture) into the build directory: never installed, never committed.
arm64_busybox() {
	local dir=$BUILD/arm64-busybox
	if [ ! -x "$dir/bin/busybox" ]; then
		dpkg --print-foreign-architectures | grep -qx arm64 || {
			dpkg --add-architecture arm64 && apt-get update -q >/dev/null; } ||
			die "cannot add arm64 to apt's architectures"
		rm -rf "$dir" && mkdir -p "$dir/deb"
		(cd "$dir/deb" && apt-get download -q busybox-static:arm64 >/dev/null 2>&1) ||
			die "apt-get download busybox-static:arm64 failed"
		dpkg-deb -x "$dir"/deb/*.deb "$dir/root" && mv "$dir/root/bin" "$dir/bin" ||
			die "cannot unpack busybox-static:arm64"
	fi
	echo "$dir/bin/busybox"
}
