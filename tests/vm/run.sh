#!/bin/sh
# make vm-test: boot real Debian kernels (amd64 and arm64) under qemu-system (TCG, no KVM needed)
# with an initramfs holding busybox, mydocker of that arch, the test image and the kernel modules,
# let tests/vm/init.sh run the container lifecycle inside, and count its PASS/FAIL/SKIP lines.
# Kernels and busybox are downloaded once into build/vm (tests/vm/fetch.sh).
# usage: tests/vm/run.sh [amd64] [arm64]      (both by default)
# env: TIMEOUT per boot in seconds (default 300), MEM in MiB (default 512), KEEP=1 also prints the
#      whole console log. Logs: build/vm/ARCH/console.log
# Prints "N passed, N failed, N skipped"; exit 0 iff every arch booted to the end and nothing failed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
[ $# -gt 0 ] || set -- amd64 arm64
TOTAL_P=0 TOTAL_F=0 TOTAL_S=0 BAD=0

now() { date +%s; }

# binary and image for ARCH: sets MDBIN (a private copy, checked to run) and IMG
build() {
	case $1 in
	amd64)	make -C "$TOP" -s all image >/dev/null || return 1
		src=$TOP/mydocker IMG=$TOP/rootfs/busybox.tar QU= ;;
	arm64)	make -C "$TOP" -s ARCH=arm64 all >/dev/null || return 1
		make -C "$TOP" -s image >/dev/null || return 1
		src=$TOP/build/arm64/mydocker IMG=$TOP/build/vm/arm64/busybox.tar QU=qemu-aarch64-static
		if [ ! -f "$IMG" ] || [ "$IMG" -ot "$TOP/rootfs/busybox.tar" ]; then
			"$HERE/image.sh" "$TOP/build/vm/arm64/bb/bin/busybox" "$IMG" $QU || return 1
		fi ;;
	esac
	# a copy, so that a concurrent build cannot change it under the initramfs
	MDBIN=$TOP/build/vm/$1/mydocker
	cp "$src" "$MDBIN.tmp" && mv "$MDBIN.tmp" "$MDBIN" && $QU "$MDBIN" --list | grep -qx run
}


run_arch() {
	A=$1 V=$TOP/build/vm/$1
	t0=$(now)
	"$HERE/fetch.sh" "$A" || { echo "vm $A: cannot fetch the kernel"; return 1; }
	# others may be saving files while this builds: retry a failed build a little later
	build "$A" 2>/dev/null || { sleep 20; build "$A"; } || { echo "vm $A: build failed"; return 1; }
	"$HERE/initramfs.sh" "$A" "$V/initrd.gz" "$MDBIN" "$IMG" || { echo "vm $A: initramfs failed"; return 1; }
	K=$(ls "$V"/kern/boot/vmlinuz-* | head -n 1)
	APPEND="panic=-1 quiet loglevel=3"
	case $A in
	amd64)	QEMU="qemu-system-x86_64 -cpu max" CON=ttyS0 ;;
	arm64)	QEMU="qemu-system-aarch64 -M virt -cpu max" CON=ttyAMA0 ;;
	esac
	ACCEL="-accel tcg,thread=multi"
	[ "$A" = amd64 ] && [ -w /dev/kvm ] && ACCEL="-accel kvm" && QEMU="qemu-system-x86_64 -cpu host"
	t1=$(now)
	echo "vm $A: booting $(basename "$K") ($(($(stat -c %s "$V/initrd.gz") / 1024)) KiB initramfs)"
	# -no-reboot: the guest's poweroff (or a panic) ends qemu
	timeout "${TIMEOUT:-300}" $QEMU $ACCEL -smp 1 -m "${MEM:-512}" -kernel "$K" -initrd "$V/initrd.gz" \
		-append "console=$CON $APPEND" -nographic -no-reboot -nic none -monitor none \
		-serial stdio < /dev/null 2>&1 | tr -d '\r' > "$V/console.log"
	t2=$(now)
	grep -E '^(PASS|FAIL|SKIP): |^!!!' "$V/console.log" | sed "s/^/$A /"
	[ "${KEEP:-}" = 1 ] && cat "$V/console.log"
	p=$(grep -c '^PASS: ' "$V/console.log"); f=$(grep -c '^FAIL: ' "$V/console.log")
	s=$(grep -c '^SKIP: ' "$V/console.log")
	if ! grep -q '^=== VM DONE' "$V/console.log"; then
		echo "$A FAIL: the guest did not finish (timeout or crash); last lines of $V/console.log:"
		tail -n 15 "$V/console.log" | sed 's/^/    /'
		f=$((f + 1))
	fi
	echo "vm $A: $p passed, $f failed, $s skipped; prepare $((t1 - t0)) s, boot+tests $((t2 - t1)) s"
	TOTAL_P=$((TOTAL_P + p)) TOTAL_F=$((TOTAL_F + f)) TOTAL_S=$((TOTAL_S + s))
	return 0
}

for a; do
	case $a in
	amd64|x86_64) a=amd64 ;;
	arm64|aarch64) a=arm64 ;;
	*) echo "usage: tests/vm/run.sh [amd64] [arm64]" >&2; exit 2 ;;
	esac
	run_arch "$a" || BAD=1
done
echo
echo "$TOTAL_P passed, $TOTAL_F failed, $TOTAL_S skipped"
[ "$BAD" = 0 ] && [ "$TOTAL_F" = 0 ]
