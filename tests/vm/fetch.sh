#!/bin/sh
# Fetch what a VM test boots, once, into build/vm/ARCH (never committed):
# Debian's current kernel (linux-image-*-ARCH) and busybox-static:ARCH, downloaded with
# apt-get download and unpacked with dpkg-deb; modules.dep regenerated (the .deb has none).
# Installs the host packages the VM test needs when they are missing.
# usage: tests/vm/fetch.sh amd64|arm64
# result: build/vm/ARCH/kern/boot/vmlinuz-*, .../kern/lib/modules/KVER, build/vm/ARCH/bb/bin/busybox
set -eu
A=${1:?usage: fetch.sh amd64|arm64}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
V=$TOP/build/vm/$A
export DEBIAN_FRONTEND=noninteractive

have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# host tools: qemu-system for the arch, cpio/gzip for the initramfs, depmod, qemu-user for
# running the arm64 busybox at build time (its applet list)
deps() {
	need=""
	case $A in
	amd64) pkgs="qemu-system-x86" ;;
	arm64) pkgs="qemu-system-arm qemu-user-static"
	       dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; upd=1; } ;;
	esac
	for p in $pkgs cpio gzip kmod busybox-static; do have "$p" || need="$need $p"; done
	[ -z "$need" ] && [ -z "${upd:-}" ] && return 0
	[ "$(id -u)" = 0 ] || { echo "vm: need root to install:$need" >&2; exit 1; }
	apt-get update -qq
	[ -z "$need" ] || apt-get install -y -qq --no-install-recommends $need >/dev/null
}

# linux-image-ARCH is the metapackage; its Depends names the real image package
kernel_pkg() {
	case $A in amd64) meta=linux-image-amd64 ;; *) meta=linux-image-$A:$A ;; esac
	k=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
	if [ -z "$k" ]; then
		apt-get update -qq
		k=$(apt-cache depends "$meta" | awk '/Depends: linux-image-/{print $2; exit}')
	fi
	[ -n "$k" ] || { echo "vm: cannot resolve $meta" >&2; exit 1; }
	case $k in *:*) ;; *) [ "$A" = amd64 ] || k=$k:$A ;; esac
	echo "$k"
}

deps
[ -f "$V/.ok" ] && exit 0
mkdir -p "$V/debs"
cd "$V/debs"
ls linux-image-*.deb >/dev/null 2>&1 || apt-get download -q -o APT::Sandbox::User=root "$(kernel_pkg)" >/dev/null
ls busybox-static_*.deb >/dev/null 2>&1 || apt-get download -q -o APT::Sandbox::User=root "busybox-static:$A" >/dev/null
rm -rf "$V/kern" "$V/bb"
mkdir -p "$V/kern" "$V/bb"
dpkg-deb -x linux-image-*.deb "$V/kern"
dpkg-deb -x busybox-static_*.deb "$V/bb"
KVER=$(ls "$V/kern/lib/modules" | head -n 1)
depmod -b "$V/kern" "$KVER"
touch "$V/.ok"
echo "vm: $A kernel $KVER, busybox $(dpkg-deb -f "$V"/debs/busybox-static_*.deb Version)"
