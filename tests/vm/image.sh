#!/bin/sh
# The test image for a foreign arch: rootfs/busybox.tar (made by rootfs/mkrootfs.sh) with its
# busybox replaced by Debian's busybox-static of that arch. Every applet is a hard link to
# bin/busybox, so overwriting that one inode in place switches them all. Same tar flags as
# mkrootfs.sh, so the result is reproducible too.
# (mkrootfs.sh itself cannot take a foreign busybox here: it has to run it for the applet list,
# and this host has no binfmt_misc.)
# usage: tests/vm/image.sh BUSYBOX OUT.tar [QEMU-USER]
set -eu
BB=$1 OUT=$2 QEMU=${3:-}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$TOP/rootfs/busybox.tar" ] || make -C "$TOP" -s image
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
tar -C "$D" --numeric-owner -xpf "$TOP/rootfs/busybox.tar"
# the applet set must match, or links would be missing or dangling
$QEMU "$BB" --list-full | while read -r p; do
	[ -e "$D/$p" ] || { echo "vm image: $p missing from rootfs/busybox.tar" >&2; exit 1; }
done
cat "$BB" > "$D/bin/busybox"
find "$D" -exec touch -h -d @0 {} +
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C "$D" -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
