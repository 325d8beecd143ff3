#!/bin/sh
# Install the Debian packages the build needs, when they are missing.
# usage: config/deps.sh [ARCH|test]   (x86_64 by default; arm64 adds the cross tool chain;
#        test: what `make test` uses besides the build: peers, image tools, qemu for the VM tests)
# Only Debian's own mirror is used; a deb-src entry is added when absent so
# that `apt-get source bearssl` works.
set -eu
ARCH=${1:-x86_64}
export DEBIAN_FRONTEND=noninteractive

need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for p in make musl-tools busybox-static dpkg-dev xz-utils file; do
	have "$p" || need="$need $p"
done
if [ "$ARCH" = arm64 ] || [ "$ARCH" = aarch64 ]; then
	dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
	for p in gcc-aarch64-linux-gnu musl-dev:arm64 linux-libc-dev-arm64-cross qemu-user-static; do
		have "$p" || need="$need $p"
	done
fi

if [ "$ARCH" = test ]; then
	for p in nftables iproute2 skopeo umoci containerd crun openssl gzip python3 util-linux \
		 qemu-system-x86 qemu-system-arm cpio kmod; do
		have "$p" || need="$need $p"
	done
fi

# deb-src for Debian's mirror, so the bearssl source package can be fetched.
if ! grep -rqs '^deb-src\|^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	cat > /etc/apt/sources.list.d/mydocker-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	updated=no
else
	updated=yes
fi

if [ -n "$need" ] || [ "$updated" = no ]; then
	[ "$(id -u)" = 0 ] || { echo "deps: need root to install:$need" >&2; exit 1; }
	apt-get update -qq
fi
if [ -n "$need" ]; then
	apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
