#!/bin/sh
# Build the VM test's initramfs (cpio newc, gzip): busybox with a link per applet, mydocker,
# the test image, the kernel modules the runtime needs (with their dependencies, in load order)
# and tests/vm/init.sh as /init.
# usage: tests/vm/initramfs.sh ARCH OUT.cpio.gz MYDOCKER IMAGE.tar
# env MODULES: modules to include; dependencies come from the kernel's modules.dep, which does
#   not carry softdeps: libcrc32c needs crc32c_generic loaded first, hence its place in the list.
set -eu
A=$1 OUTF=$2 MD=$3 IMG=$4
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
V=$TOP/build/vm/$A
MODULES=${MODULES-overlay veth bridge crc32c_generic nf_tables nft_chain_nat nft_nat nft_masq nft_ct}
KVER=$(ls "$V/kern/lib/modules" | head -n 1)
MDIR=$V/kern/lib/modules/$KVER
BB=$V/bb/bin/busybox
[ -x "$BB" ] || { echo "vm: run tests/vm/fetch.sh $A first" >&2; exit 1; }

R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
mkdir -p "$R/bin" "$R/sbin" "$R/dev" "$R/proc" "$R/sys" "$R/tmp" "$R/mnt" "$R/etc" "$R/root" \
	"$R/images" "$R/lib/modules/$KVER"
cp "$BB" "$R/bin/busybox"
# the applet list is the same on both arches (checked by image.sh); ask the host's busybox
for app in $(busybox --list); do
	[ -e "$R/bin/$app" ] || ln -s busybox "$R/bin/$app"
done
cp "$MD" "$R/bin/mydocker"
cp "$IMG" "$R/images/busybox.tar"
cp "$HERE/init.sh" "$R/init"
chmod 755 "$R/init" "$R/bin/mydocker"

# modules: dependencies first (modules.dep lists them after the colon), each once;
# a subshell per call keeps the recursion's variables apart
resolve() (
	line=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$MDIR/modules.dep" || true)
	[ -n "$line" ] || { echo "vm: module $1 not in $KVER (built in?)" >&2; return 0; }
	for d in ${line#*:}; do
		n=$(basename "$d")
		resolve "${n%%.ko*}"
	done
	echo "${line%%:*}"
)
for m in $MODULES; do resolve "$m"; done | awk '!seen[$0]++' > "$R/lib/modules/order"
while read -r p; do
	mkdir -p "$R/lib/modules/$KVER/$(dirname "$p")"
	cp "$MDIR/$p" "$R/lib/modules/$KVER/$p"
	grep -E "^$p:" "$MDIR/modules.dep" >> "$R/lib/modules/$KVER/modules.dep"
done < "$R/lib/modules/order"
sed -i "s|^|/lib/modules/$KVER/|" "$R/lib/modules/order"

( cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet ) | gzip -6n > "$OUTF"
