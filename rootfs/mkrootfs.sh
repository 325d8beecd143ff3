#!/bin/sh
# Build the default image rootfs/busybox.tar from Debian's busybox-static, reproducibly:
# the same busybox package gives the same bytes (sorted names, fixed mtimes and owners).
# usage: rootfs/mkrootfs.sh OUT.tar [BUSYBOX]
set -eu
OUT=${1:-rootfs/busybox.tar}
BB=${2:-/bin/busybox}
if [ ! -x "$BB" ] || ! "$BB" --list >/dev/null 2>&1 || file -L "$BB" 2>/dev/null | grep -q dynamic; then
	[ "$(id -u)" = 0 ] || { echo "mkrootfs: busybox-static is not installed" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
	BB=/bin/busybox
fi
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
R=$D/rootfs
mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin" "$R/etc" "$R/proc" "$R/sys" "$R/dev" \
	"$R/tmp" "$R/root" "$R/var/tmp" "$R/home"
chmod 1777 "$R/tmp" "$R/var/tmp"
chmod 0700 "$R/root"
cp "$BB" "$R/bin/busybox"
chmod 0755 "$R/bin/busybox"
# one hard link per applet, where busybox installs it (/bin, /sbin, /usr/bin, /usr/sbin)
"$BB" --list-full | while read -r p; do
	[ "$p" = bin/busybox ] || [ -e "$R/$p" ] || ln "$R/bin/busybox" "$R/$p"
done
cat > "$R/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$R/etc/group" <<'G'
root:x:0:
daemon:x:1:
nogroup:x:65534:
G
echo "/bin/sh" > "$R/etc/shells"
touch "$R/etc/hosts" "$R/etc/hostname" "$R/etc/resolv.conf"
find "$R" -exec touch -h -d @0 {} +
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
	-C "$R" -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
echo "$OUT: $(stat -c %s "$OUT") bytes, sha256 $(sha256sum "$OUT" | cut -c1-64)"
