#!/bin/sh
# Interoperability of lib/tar.c with GNU tar, both ways: trees archived by us are listed, compared and
# extracted by GNU tar; archives GNU tar makes (ustar, gnu, oldgnu, pax, v7) are extracted by us
# identically (contents, type, mode, owner, mtime, links, device numbers).
# usage: tests/tar_interop.sh        needs root and GNU tar; prints "N passed, N failed"; exit 0 = all passed
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-gcc}
pass=0
fail=0

if [ "$(id -u)" != 0 ]; then
	echo "tar_interop: skipped: needs root (owners, device nodes)"
	exit 0
fi
if ! tar --version 2>/dev/null | grep -q 'GNU tar'; then
	echo "tar_interop: skipped: needs GNU tar"
	exit 0
fi

T=$(mktemp -d /tmp/tar_interop.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

if ! $CC -std=gnu11 -O1 -g -fsanitize=address,undefined -I"$REPO/lib" -o "$T/tarcat" \
	"$REPO/tests/unit/tarcat.c" "$REPO/lib/tar.c" "$REPO/lib/util.c"; then
	echo "FAIL: build tarcat"
	echo "0 passed, 1 failed"
	exit 1
fi
TC=$T/tarcat

ok() { pass=$((pass + 1)); echo "PASS: $1"; }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $1"
	[ -n "${2:-}" ] && [ -s "$2" ] && head -20 "$2" | sed 's/^/    /'
}

# Everything we preserve, one line per entry; hard links named by their first path, dirs without size.
snap() {
	(cd "$1" && find . -mindepth 1 -printf '%P|%y|%m|%U|%G|%s|%T@|%l|%n|%D:%i\n' | LC_ALL=C sort |
		awk -F'|' 'BEGIN { OFS = "|" } { if ($2 == "d") $6 = "-"; if (!($10 in g)) g[$10] = $1; $10 = g[$10]; print }'
	 find . \( -type c -o -type b \) -exec stat -c '%n %t:%T' {} + | LC_ALL=C sort)
}

# same TREE DIR NAME: DIR holds what TREE holds
same() {
	snap "$1" > "$T/snap.a"
	snap "$2" > "$T/snap.b"
	# diff -r reports special files it cannot compare; their type and numbers are in the snapshot
	diff -r --no-dereference "$1" "$2" 2>&1 | grep -v '^File .* while file ' > "$T/content.diff"
	if diff "$T/snap.a" "$T/snap.b" > "$T/snap.diff" && ! [ -s "$T/content.diff" ]; then
		ok "$3"
	else
		cat "$T/content.diff" >> "$T/snap.diff"
		bad "$3" "$T/snap.diff"
	fi
}

# mktree DIR basic|full|v7
mktree() {
	d=$1
	mkdir -p "$d/dir/sub" "$d/sticky" "$d/with space"
	printf 'hello\n' > "$d/file"
	: > "$d/empty"
	head -c 3000000 /dev/urandom > "$d/big"
	printf 'data' > "$d/dir/sub/deep"
	ln "$d/file" "$d/dir/hardlink"
	ln -s file "$d/rel-link"
	ln -s ../file "$d/dir/up-link"
	printf x > "$d/with space/a b"
	if [ "$2" != v7 ]; then
		printf x > "$d/suid"
		chown 1234:5678 "$d/suid"
		chmod 6755 "$d/suid"
		chmod 1777 "$d/sticky"
		chmod 700 "$d/dir/sub"
		chown 1000:1000 "$d/dir"
		ln -s /etc/passwd "$d/abs-link"
		ln -s nowhere "$d/dangling"
		chown -h 42:43 "$d/rel-link"
		mkfifo -m 640 "$d/fifo"
		mknod -m 600 "$d/null" c 1 3
		mknod "$d/blk" b 7 200
		printf '\303\251' > "$d/na$(printf '\303\257')ve caf$(printf '\303\251')"
	fi
	if [ "$2" = full ]; then
		long=$(printf '%0200d' 0 | tr 0 n)
		printf long > "$d/$long"
		p=$d/dir
		for i in 1 2 3 4 5 6; do p=$p/$(printf '%090d' $i); done
		mkdir -p "$p"
		printf deep > "$p/leaf"
		ln -s "$long/$long" "$d/longtarget"
		ln "$d/$long" "$d/dir/hard-to-long"
		printf big-uid > "$d/biguid"
		chown 3000000000:3000000001 "$d/biguid"
	fi
	find "$d" -depth -exec touch -h -d @1500000000 {} +
}

mktree "$T/basic" basic
mktree "$T/full" full
mktree "$T/v7" v7

# 1. ours -> GNU tar
for tree in basic full; do
	"$TC" c "$T/$tree" > "$T/ours.tar" 2> "$T/err" || bad "tarcat c $tree" "$T/err"
	if tar -tvf "$T/ours.tar" > "$T/list" 2> "$T/err" && ! [ -s "$T/err" ]; then
		ok "GNU tar lists our $tree archive"
	else
		bad "GNU tar lists our $tree archive" "$T/err"
	fi
	if (cd "$T/$tree" && tar --numeric-owner -df "$T/ours.tar") > "$T/err" 2>&1; then
		ok "GNU tar --diff finds our $tree archive equal to the tree"
	else
		bad "GNU tar --diff finds our $tree archive equal to the tree" "$T/err"
	fi
	rm -rf "$T/x" && mkdir "$T/x"
	if tar --numeric-owner --same-owner -xpf "$T/ours.tar" -C "$T/x" 2> "$T/err" && ! [ -s "$T/err" ]; then
		same "$T/$tree" "$T/x" "GNU tar extracts our $tree archive identically"
	else
		bad "GNU tar extracts our $tree archive" "$T/err"
	fi
	rm -rf "$T/x" && mkdir "$T/x"
	if "$TC" x "$T/x" < "$T/ours.tar" 2> "$T/err"; then
		same "$T/$tree" "$T/x" "we extract our $tree archive identically"
	else
		bad "we extract our $tree archive" "$T/err"
	fi
done
"$TC" c "$T/full" > "$T/again.tar"
"$TC" c "$T/full" > "$T/ours.tar"
if cmp -s "$T/ours.tar" "$T/again.tar"; then ok "our output is reproducible"; else bad "our output is reproducible"; fi

# 2. GNU tar -> ours, every format it writes
for spec in ustar:basic gnu:full oldgnu:full pax:full posix:full v7:v7; do
	fmt=${spec%%:*}
	tree=${spec#*:}
	if ! tar --format="$fmt" -C "$T/$tree" -cf "$T/gnu.tar" . 2> "$T/err"; then
		bad "GNU tar --format=$fmt" "$T/err"
		continue
	fi
	rm -rf "$T/x" && mkdir "$T/x"
	if "$TC" x "$T/x" < "$T/gnu.tar" 2> "$T/err"; then
		same "$T/$tree" "$T/x" "we extract GNU tar --format=$fmt ($tree) identically"
	else
		bad "we extract GNU tar --format=$fmt ($tree)" "$T/err"
	fi
done

# through a pipe (short reads) and without the "./" prefix
rm -rf "$T/x" && mkdir "$T/x"
if (cd "$T/full" && tar --format=pax -cf - -- *) | cat | "$TC" x "$T/x" 2> "$T/err"; then
	same "$T/full" "$T/x" "we extract a piped GNU pax stream identically"
else
	bad "we extract a piped GNU pax stream" "$T/err"
fi

# a real tree, both extractors must agree
if [ -d /usr/include ]; then
	tar -C /usr -cf "$T/inc.tar" include 2> /dev/null
	rm -rf "$T/x" "$T/y" && mkdir "$T/x" "$T/y"
	tar -C "$T/y" -xpf "$T/inc.tar"
	if "$TC" x "$T/x" < "$T/inc.tar" 2> "$T/err"; then
		same "$T/y" "$T/x" "we extract /usr/include like GNU tar does"
	else
		bad "we extract /usr/include" "$T/err"
	fi
	"$TC" c /usr/include > "$T/inc2.tar"
	if (cd /usr/include && tar -df "$T/inc2.tar") > "$T/err" 2>&1; then
		ok "GNU tar --diff finds our /usr/include archive equal"
	else
		bad "GNU tar --diff finds our /usr/include archive equal" "$T/err"
	fi
fi

# sparse files are refused, not extracted wrong
truncate -s 1M "$T/sparse" && printf x >> "$T/sparse"
for fmt in gnu pax; do
	tar --format=$fmt --sparse -C "$T" -cf "$T/sp.tar" sparse
	rm -rf "$T/x" && mkdir "$T/x"
	if ! "$TC" x "$T/x" < "$T/sp.tar" 2> "$T/err" && grep -q 'unsupported' "$T/err"; then
		ok "GNU $fmt sparse file reported as unsupported"
	else
		bad "GNU $fmt sparse file reported as unsupported" "$T/err"
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
