#!/bin/sh
# tests/bench/run.sh: `make bench`. Measures mydocker side by side with the physical floor
# (../shared/bench/floor.c), crun and runc in the same run, interleaved A B A B, and prints ONE
# table: median [min-max] of N runs, the ratio, and the target it is steered by (a compass, not a
# pass/fail gate).
#
# usage: tests/bench/run.sh [--smoke] [--clean]
#   BENCH_N=20         timed runs per figure (BENCH_QUICK=1: 3; --smoke: 1, no big-tarball or containerd rows)
#   BENCH_N_IMPORT=N   runs of the import row (default BENCH_N; each run writes ~165 MB)
#   BENCH_ROWS="1 3"   only these rows (1 run, 2 --net, 3 exec, 4 RSS, 5 size, 6 import, 7 big image,
#                      8 ps, 9 ctr run via containerd); default all
#   BENCH_OUT=FILE     also write the machine description and the table to FILE
#   --clean            remove the cache in /var/tmp/mydocker-bench (big tarball, a state root with
#                      the big image, one with 500 stopped containers)
# Needs root. Installs crun and runc from Debian when missing (their rows are skipped otherwise).
# Exit status: 0 unless mydocker failed (import or run of busybox, or any measured mydocker command);
# the targets never change it. --smoke (N=1, ~5 s) is meant for tests/run.sh.
set -u
# nothing measured reads the terminal (timeout(1) puts commands in a background group: a read or
# a mode change there would stop them)
exec </dev/null
TOP=$(cd "$(dirname "$0")/../.." && pwd)
MD=${MD:-$TOP/mydocker}
FLOOR_SRC=${FLOOR_SRC:-$(cd "$TOP/.." && pwd)/shared/bench/floor.c}
[ -f "$FLOOR_SRC" ] || FLOOR_SRC=/work/shared/bench/floor.c
W=/var/tmp/mydocker-bench		# cache: helpers, rootfs, big tarball, 500-container root
SMOKE=0
for a; do
	case $a in
	--smoke) SMOKE=1 ;;
	--clean) rm -rf "$W"; echo "removed $W"; exit 0 ;;
	*) echo "usage: $0 [--smoke] [--clean]" >&2; exit 2 ;;
	esac
done
CMDLINE="tests/bench/run.sh${*:+ $*}"
[ -n "${BENCH_ROWS:-}" ] && CMDLINE="BENCH_ROWS='$BENCH_ROWS' $CMDLINE"
[ -n "${BENCH_N:-}" ] && CMDLINE="BENCH_N=$BENCH_N $CMDLINE"
[ -n "${BENCH_QUICK:-}" ] && CMDLINE="BENCH_QUICK=$BENCH_QUICK $CMDLINE"
N=${BENCH_N:-20}; WARM=2
[ "${BENCH_QUICK:-0}" = 1 ] && N=3 WARM=1
[ $SMOKE = 1 ] && N=1 WARM=0
NI=${BENCH_N_IMPORT:-$N}
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }

mkdir -p "$W" || exit 1
R=$W/run.$$				# this run's private everything; removed at exit
mkdir -p "$R"
export MYDOCKER_ROOT=$R/root
TAG=mdb$$				# private names: containers, cgroups (crun/runc ids), network
NOTES=$R/notes; : > "$NOTES"
RES=$R/res; : > "$RES"		# mdbench time output: LABEL med min max n fails
TABLE=$R/table; : > "$TABLE"	# id|what|A|B|ratio|target|note
MDFAIL=0
sz() { [ -f "$1" ] && stat -L -c %s "$1"; }
note() { echo "$*" >> "$NOTES"; }
say() { echo "bench: $*" >&2; }
want() { for w; do case " ${BENCH_ROWS:-1 2 3 4 5 6 7 8 9} " in *" $w "*) return 0;; esac; done; return 1; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
fs=$(findmnt -n -o FSTYPE -T /var/tmp 2>/dev/null || stat -f -c %T /var/tmp)
[ "$fs" = tmpfs ] && note "/var/tmp is tmpfs here: the image store is measured on tmpfs, not on disk"

# ---- cleanup ------------------------------------------------------------------------------
cg_snapshot() { find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d 2>/dev/null | sort; }
cg_snapshot > "$R/cg.before"
cleanup() {
	set +e
	if [ -x "$MD" ] && [ -d "$MYDOCKER_ROOT" ]; then
		for c in $("$MD" ps -a -q 2>/dev/null); do "$MD" rm -f "$c" >/dev/null 2>&1; done
		[ -n "${NETNAME:-}" ] && "$MD" net rm "$NETNAME" >/dev/null 2>&1
		[ -n "${NETNAME:-}" ] && ip -o link 2>/dev/null | grep -q "$NETNAME" &&
			echo "bench: net rm $NETNAME left a link behind: $(ip -o link | grep "$NETNAME" | cut -d: -f2)" >&2
	fi
	if command -v crun >/dev/null 2>&1; then
		crun kill "$TAG-crun-exec" KILL >/dev/null 2>&1; sleep 0.1
		crun delete -f "$TAG-crun-exec" >/dev/null 2>&1
	fi
	if [ -n "${CDPID:-}" ]; then	# containerd of row 9: its tasks, containers, shims, then itself
		for t in $($CTR task ls -q 2>/dev/null); do $CTR task rm -f "$t" >/dev/null 2>&1; done
		for c in $($CTR container ls -q 2>/dev/null); do $CTR container rm "$c" >/dev/null 2>&1; done
		kill "$CDPID" 2>/dev/null; wait "$CDPID" 2>/dev/null
		for p in /proc/[0-9]*; do	# shims of our namespace that outlived their task
			{ tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -q "containerd-shim.* -namespace $TAG " && kill -9 "${p#/proc/}"
		done
	fi
	grep -q " $R/imp " /proc/mounts && umount "$R/imp"
	grep -o " ${R}[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	# cgroups that appeared during the run: crun's/runc's (named $TAG-*) and floor's are removed;
	# others named *mydocker* are only reported (someone else may be using this machine)
	cg_snapshot > "$R/cg.after"
	comm -13 "$R/cg.before" "$R/cg.after" | sort -r | grep -E "/($TAG|floor-)" | while read -r d; do rmdir "$d"; done
	left=$(comm -13 "$R/cg.before" "$R/cg.after" | grep -i '/mydocker.*/' | while read -r d; do
		[ -f "$d/cgroup.procs" ] && [ ! -s "$d/cgroup.procs" ] && echo "$d"; done)
	[ -n "$left" ] && echo "bench: empty cgroups appeared under mydocker/ during the run (leaked by mydocker, ours or someone else's): $(echo $left | cut -c1-400)" >&2
	if grep -q " $R" /proc/mounts; then
		echo "bench: mounts left under $R, not deleting it" >&2
	else
		rm -rf "$R"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers (built once per source change) -------------------------------------------------
H=$W/bin; mkdir -p "$H"
build() {	# build OUT SRC CMD...: rebuild OUT when SRC is newer
	out=$1 src=$2; shift 2
	[ -x "$out" ] && [ "$out" -nt "$src" ] && return 0
	"$@" -o "$out.tmp" "$src" && mv "$out.tmp" "$out"
}
CC=gcc; command -v gcc >/dev/null 2>&1 || CC=musl-gcc
build "$H/mdbench" "$TOP/tests/bench/mdbench.c" $CC -O2 -Wall || { say "cannot build mdbench"; exit 1; }
if command -v musl-gcc >/dev/null 2>&1; then
	build "$H/floor" "$FLOOR_SRC" musl-gcc -static -O2 -s
else
	build "$H/floor" "$FLOOR_SRC" gcc -static -O2 -s
fi || { say "cannot build floor from $FLOOR_SRC"; exit 1; }
B=$H/mdbench

# ---- images and rootfs ----------------------------------------------------------------------
BBTAR=$TOP/rootfs/busybox.tar
if [ ! -f "$BBTAR" ]; then
	BBTAR=$W/busybox.tar
	[ -f "$BBTAR" ] || "$TOP/rootfs/mkrootfs.sh" "$BBTAR" >/dev/null || { say "no busybox rootfs"; exit 1; }
fi
mkdir -p "$R/rootfs" "$R/ovl" && tar -C "$R/rootfs" -xf "$BBTAR" || exit 1
BIG=$W/big.tar		# busybox rootfs + parts of /usr: >= 150 MB, made once
if [ $SMOKE = 0 ] && [ ! -f "$BIG" ]; then
	say "making $BIG once (busybox rootfs + /usr/include, sbin, lib32, src)"
	tar -C / --format=gnu -cf "$BIG.tmp" usr/include usr/sbin usr/lib32 usr/src -C "$R/rootfs" . 2>/dev/null
	mv "$BIG.tmp" "$BIG"
fi

# ---- peers: crun, runc ----------------------------------------------------------------------
if ! command -v crun >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
	say "installing crun and runc from Debian"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq crun runc >/dev/null 2>&1 || {
		apt-get update -qq >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq crun runc >/dev/null 2>&1; }
fi
bundle() {	# bundle DIR ARGS_JSON RUNTIME: OCI bundle on the busybox rootfs, no terminal
	mkdir -p "$1" && (cd "$1" && $3 spec) &&
	sed -i -e 's/"terminal": true/"terminal": false/' -e 's|"path": "rootfs"|"path": "'"$R/rootfs"'"|' \
		-e '/"args": \[/,/\]/c\		"args": '"$2"',' "$1/config.json"
}
HAVE_CRUN=0 HAVE_RUNC=0
if command -v crun >/dev/null 2>&1; then
	bundle "$R/crun" '["true"]' crun && bundle "$R/crun-sleep" '["sleep", "1000000"]' crun
	if ! crun run -b "$R/crun" "$TAG-probe" >"$R/err" 2>&1 </dev/null; then
		if grep -q 'hybrid mode' "$R/err" && ! grep -q ' /sys/fs/cgroup/hugetlb ' /proc/mounts &&
		   grep -q '^hugetlb' /proc/cgroups; then
			mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb &&
				note "mounted the hugetlb v1 hierarchy on /sys/fs/cgroup/hugetlb so crun accepts cgroup hybrid mode (left mounted)"
		fi
		crun run -b "$R/crun" "$TAG-probe" >"$R/err" 2>&1 </dev/null && HAVE_CRUN=1 ||
			note "crun rows skipped: $(head -n 1 "$R/err")"
	else HAVE_CRUN=1; fi
else note "crun rows skipped: crun not installable"; fi
if command -v runc >/dev/null 2>&1; then
	bundle "$R/runc" '["true"]' runc
	runc run -b "$R/runc" "$TAG-probe" >"$R/err" 2>&1 </dev/null && HAVE_RUNC=1 ||
		note "runc rows skipped: $(head -n 1 "$R/err")"
else note "runc rows skipped: runc not installable"; fi

# ---- mydocker -------------------------------------------------------------------------------
# measure a private copy: the tree's ./mydocker may be rebuilt while the bench runs
mkdir -p "$R/bin"
i=0; while [ $i -lt 15 ]; do	# not a half-written one: it runs and equals the source
	[ -x "$MD" ] && cp "$MD" "$R/bin/mydocker" 2>/dev/null && cmp -s "$MD" "$R/bin/mydocker" &&
		"$R/bin/mydocker" --list >/dev/null 2>&1 && break
	[ $i = 0 ] && say "waiting for a complete $MD"
	i=$((i + 1)); sleep 2
done
[ $i -lt 15 ] && MD=$R/bin/mydocker
MDOK=0 MDIMP=0 MDWHY="no ./mydocker" MDREAL=
if [ -x "$MD" ]; then
	MDREAL=$(readlink -f "$MD")
	if ! "$MD" import "$BBTAR" busybox >"$R/err" 2>&1; then
		MDFAIL=1 MDWHY="import fails"; note "mydocker import fails: $(head -n 1 "$R/err")"
	elif ! "$MD" run --rm busybox true >"$R/err" 2>&1 </dev/null; then
		MDFAIL=1 MDIMP=1 MDWHY="run fails"; note "mydocker run --rm busybox true fails: $(head -n 1 "$R/err")"
	else MDOK=1 MDIMP=1; fi
fi
HAVE_NET=0 NETNAME=
# the --net row turns itself on once `net` is an applet and `run --help` knows --net
if [ $MDOK = 1 ] && "$MD" --list 2>/dev/null | grep -qx net && "$MD" run --help 2>&1 | grep -q -- '--net'; then
	NETNAME=$TAG
	x=$(( $$ % 200 + 20 ))	# a /24 no route uses yet
	while ip route 2>/dev/null | grep -q "^10\.231\.$x\." && [ $x -lt 250 ]; do x=$((x + 1)); done
	if ! "$MD" net create --driver bridge --subnet "10.231.$x.0/24" "$NETNAME" >"$R/err" 2>&1; then
		MDFAIL=1 NETWHY="net create fails"; note "mydocker net create fails: $(head -n 1 "$R/err")"
	elif ! "$MD" run --rm --net "$NETNAME" busybox true >"$R/err" 2>&1 </dev/null; then
		MDFAIL=1 NETWHY="--net fails"; note "mydocker run --net on a bridge fails: $(head -n 1 "$R/err")"
	else HAVE_NET=1; fi
else NETWHY="no --net yet"; fi
[ $MDOK = 0 ] && NETWHY=$MDWHY

if [ $SMOKE = 0 ] && want 4 6; then
	# Big-tarball rows (import, big image): fresh directories for every run, both sides on one
	# ext4: a private one in a sparse file under /var/tmp (no discard), so the ~40 unpacked
	# copies go away with one umount + rm instead of minutes of rm -rf on a discard-mounted
	# root. BENCH_IMPORT_DIR=DIR puts them in DIR instead (and leaves them there).
	if [ -n "${BENCH_IMPORT_DIR:-}" ]; then
		mkdir -p "$BENCH_IMPORT_DIR/mdb.$$" && ln -s "$BENCH_IMPORT_DIR/mdb.$$" "$R/imp"
		note "import row in $BENCH_IMPORT_DIR/mdb.$$ (delete it yourself)"
	else
		mkdir -p "$R/imp" &&
		truncate -s $(( ( (NI + WARM) * 2 * $(sz "$BIG") * 12 / 10 ) / 1048576 + 512 ))M "$R/import.ext4" &&
		mkfs.ext4 -q -F -E nodiscard "$R/import.ext4" && mount -o loop "$R/import.ext4" "$R/imp" ||
			say "cannot make the ext4 for the import row"
		note "import row: both sides write to a private ext4 (loop file in /var/tmp, mkfs.ext4 defaults, no discard)"
	fi
fi

# ---- measuring and formatting -------------------------------------------------------------
tm() {	# tm [-n N] GROUPS...: interleaved timing; results appended to $RES
	n=$N; [ "$1" = -n ] && { n=$2; shift 2; }
	"$B" time -n "$n" -w "$WARM" "$@" >> "$RES"
}
get() { awk -v l="$1" -v f="$2" '$1 == l { print $f; exit }' "$RES"; }
ms() { awk -v u="$1" 'BEGIN { v = u / 1000; printf(v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v) }'; }
cell() {	# cell LABEL: "5.47 ms [4.54-11.5]" or why not
	med=$(get "$1" 2); fails=$(get "$1" 6)
	if [ -z "$med" ]; then echo "not measured"
	elif [ "$med" = - ]; then echo "FAILED"
	else
		c="$(ms "$med") ms [$(ms "$(get "$1" 3)")-$(ms "$(get "$1" 4)")]"
		[ "${fails:-0}" != 0 ] && c="$c, $fails failed"
		echo "$c"
	fi
}
ratio() {	# ratio A B: median A / median B
	a=$(get "$1" 2); b=$(get "$2" 2)
	case "$a$b" in *-*|"") echo "-"; return;; esac
	[ -z "$a" ] || [ -z "$b" ] && { echo "-"; return; }
	awk -v a="$a" -v b="$b" 'BEGIN { printf("%.2fx", a / b) }'
}
verdict() {	# verdict VALUE OP LIMIT: ok / MISS (VALUE may end in x)
	v=${1%x}
	case $v in ""|-|*[!0-9.]*) echo ""; return;; esac
	awk -v v="$v" -v op="$2" -v l="$3" 'BEGIN { ok = op == "<=" ? v <= l : v >= l; print ok ? "ok" : "MISS" }'
}
row() { echo "$1|$2|$3|$4|$5|$6|$7" >> "$TABLE"; }
failed_md() { for l; do f=$(get "$l" 6); [ -n "$f" ] && [ "$f" != 0 ] && MDFAIL=1; done; return 0; }

FLOOR="$H/floor -O -C -r $R/rootfs -o $R/ovl"
if ! $FLOOR >"$R/err" 2>&1; then	# -C is cgroup v1 only
	note "floor runs without -C (cgroup v1 hierarchies missing?): $(head -n 1 "$R/err")"
	FLOOR="$H/floor -O -r $R/rootfs -o $R/ovl"
fi
CRUN_G="" RUNC_G=""
[ $HAVE_CRUN = 1 ] && CRUN_G="-- crun crun run -b $R/crun $TAG-crun-{i}"
[ $HAVE_RUNC = 1 ] && RUNC_G="-- runc runc run -b $R/runc $TAG-runc-{i}"

# 1. run --rm true vs floor, crun, runc; 2. with a bridge network
if want 1 2; then
say "1/9 run --rm true vs floor, crun, runc (N=$N)"
MD_G="" NET_G="" TMPFS_G=""
[ $MDOK = 1 ] && MD_G="-- md $MD run --rm busybox true"
# diagnostic: the same with the state root on tmpfs (what the disk costs: fsync, ext4 dirs)
if [ $MDOK = 1 ] && mkdir -p "$R/tmpfsroot" && mount -t tmpfs -o mode=0700 tmpfs "$R/tmpfsroot" &&
   "$MD" --root "$R/tmpfsroot" import "$BBTAR" busybox >/dev/null 2>&1; then
	TMPFS_G="-- mdtmpfs $MD --root $R/tmpfsroot run --rm busybox true"
fi
[ $HAVE_NET = 1 ] && NET_G="-- mdnet $MD run --rm --net $NETNAME busybox true"
# shellcheck disable=SC2086
tm $MD_G $TMPFS_G $NET_G -- floor $FLOOR $CRUN_G $RUNC_G
failed_md md mdnet mdtmpfs
A1=$(cell md); [ $MDOK = 1 ] || A1="n/a ($MDWHY)"
row 1 "run --rm IMAGE true vs floor -O -C" "$A1" "$(cell floor)" "$(ratio md floor)" "<= 1.5x" "$(verdict "$(ratio md floor)" "<=" 1.5)"
if [ $HAVE_CRUN = 1 ]; then
	row 1 "  ... vs crun run" "$A1" "$(cell crun)" "$(ratio md crun)" "<= 0.30x" "$(verdict "$(ratio md crun)" "<=" 0.30)"
else row 1 "  ... vs crun run" "$A1" "skipped (see notes)" "-" "<= 0.30x" ""; fi
if [ $HAVE_RUNC = 1 ]; then
	row 1 "  ... vs runc run" "$A1" "$(cell runc)" "$(ratio md runc)" "(reference)" ""
else row 1 "  ... vs runc run" "$A1" "skipped (see notes)" "-" "(reference)" ""; fi
[ -n "$TMPFS_G" ] && row 1 "  same, state root on tmpfs (diagnostic)" "$(cell mdtmpfs)" "$(cell floor)" "$(ratio mdtmpfs floor)" "(floor)" ""
A2=$(cell mdnet); [ $HAVE_NET = 1 ] || A2="n/a ($NETWHY)"
row 2 "run --rm --net BRIDGE true vs floor" "$A2" "$(cell floor)" "$(ratio mdnet floor)" "<= 2x" "$(verdict "$(ratio mdnet floor)" "<=" 2)"
fi

# 3. exec into a running container vs crun exec
EX_G="" CX_G=""
if ! want 3 4; then :
elif [ $MDOK = 1 ] && "$MD" run -d --name "$TAG-exec" busybox sleep 1000000 >"$R/err" 2>&1 </dev/null; then
	sleep 0.2; EX_G="-- mdexec $MD exec $TAG-exec true"
elif [ $MDOK = 1 ]; then EXWHY="run -d fails"; note "mydocker run -d fails: $(head -n 1 "$R/err")"; fi
[ $MDOK = 1 ] || EXWHY=$MDWHY
if want 3; then
say "3/9 exec true vs crun exec"
if [ $HAVE_CRUN = 1 ] && crun run -d -b "$R/crun-sleep" "$TAG-crun-exec" </dev/null >"$R/err" 2>&1; then
	CX_G="-- crunexec crun exec $TAG-crun-exec true"
fi
# shellcheck disable=SC2086
[ -n "$EX_G$CX_G" ] && tm $EX_G $CX_G
failed_md mdexec
A3=$(cell mdexec); [ -n "$EX_G" ] || A3="n/a (${EXWHY:-?})"
B3=$(cell crunexec); [ -n "$CX_G" ] || B3="skipped (crun)"
row 3 "exec CONTAINER true vs crun exec" "$A3" "$B3" "$(ratio mdexec crunexec)" "<= 0.5x" "$(verdict "$(ratio mdexec crunexec)" "<=" 0.5)"
fi

# 4. peak RSS (VmHWM) of every process, followed with ptrace; max over a few runs
if want 4; then
say "4/9 peak RSS"
RN=3; [ $SMOKE = 1 ] && RN=1
rss() {	# rss NAME CMD...: traced runs; $R/rss.NAME gets the union of their reports
	: > "$R/rss.$1"; nm=$1; shift
	i=0; while [ $i -lt $RN ]; do "$B" rss -t "$@" >> "$R/rss.$nm" 2>/dev/null </dev/null; i=$((i + 1)); done
}
# mdroles FILE: "cli KB", "child KB COUNT" (other mydocker images), "alive RSS HWM" (mydocker still
# running after the command returned: the monitor), "other KB" (non-mydocker images)
mdroles() {
	awk -v md="$MDREAL" '
	/^cmd / { root[$2] = 1 }
	/^img / { ismd = index($5, md) == 1 || index($5, "/memfd:mydocker") == 1
		if (ismd && root[$2]) { if ($4 > cli) cli = $4 }
		else if (ismd) { if ($4 > kid) kid = $4; kids[$2] = 1 }
		else if ($4 > oth) oth = $4 }
	/^alive / { if (index($6, md) == 1 || index($6, "/memfd:mydocker") == 1) { if ($4 > ar) ar = $4; if ($5 > ah) ah = $5 } }
	/^rc / { if ($2 != 0) bad = $2 }
	END { nk = 0; for (k in kids) nk++
		if (bad) { printf("cli rc=%d\nchild rc=%d\nalive rc=%d rc=%d\n", bad, bad, bad, bad); exit }
		printf("cli %d\nchild %d %d\nalive %d %d\nother %d\n", cli, kid, nk, ar, ah, oth) }' "$1"
}
allmax() { awk '/^(img|alive) / { v = $1 == "img" ? $4 : $5; if (v > m) m = v } END { print m + 0 }' "$1"; }
kib() { [ "${1:-0}" -gt 0 ] 2>/dev/null && echo "$1 KiB" || echo "-"; }
rrow() {	# rrow WHAT KB REF LIMIT
	if [ "${2:-0}" -gt 0 ] 2>/dev/null; then
		row 4 "$1" "$2 KiB" "$3" "$(awk -v a="$2" -v l="$4" 'BEGIN { printf("%.2fx", a / l) }')" "<= $4 KiB" "$(verdict "$2" "<=" "$4")"
	elif [ "${2#rc=}" != "${2:-}" ]; then
		MDFAIL=1; row 4 "$1" "FAILED (exit ${2#rc=})" "$3" "-" "<= $4 KiB" ""
	else row 4 "$1" "n/a (${5:-$MDWHY})" "$3" "-" "<= $4 KiB" ""; fi
}
rss bbtrue "$R/rootfs/bin/busybox" true
REF_BB="busybox true $(kib "$(allmax "$R/rss.bbtrue")")"
REF_CRUN="-" REF_RUNC="-"
[ $HAVE_CRUN = 1 ] && rss crun crun run -b "$R/crun" "$TAG-crss" && REF_CRUN="crun run $(kib "$(allmax "$R/rss.crun")")"
[ $HAVE_RUNC = 1 ] && rss runc runc run -b "$R/runc" "$TAG-rrss" && REF_RUNC="runc run $(kib "$(allmax "$R/rss.runc")")"
if [ $MDOK = 1 ]; then
	rss run "$MD" run --rm busybox true
	mdroles "$R/rss.run" > "$R/roles.run"
	# run -d: the monitor is what is still alive (and ours) a second after the CLI returned
	"$B" rss -t -s 1000 "$MD" run -d --name "$TAG-rss" busybox sleep 1000000 > "$R/rss.rund" 2>/dev/null </dev/null
	mdroles "$R/rss.rund" > "$R/roles.rund"
	[ -n "$EX_G" ] && rss exec "$MD" exec "$TAG-exec" true && mdroles "$R/rss.exec" > "$R/roles.exec"
fi
if [ $MDIMP = 1 ]; then
	rss imp "$MD" --root "$R/rssroot" import "$BBTAR" busybox; mdroles "$R/rss.imp" > "$R/roles.imp"
	[ $SMOKE = 0 ] && rss impbig "$MD" --root "$R/imp/rssroot" import "$BIG" big && mdroles "$R/rss.impbig" > "$R/roles.impbig"
	rss ps "$MD" ps -a; mdroles "$R/rss.ps" > "$R/roles.ps"
fi
role() { [ -f "$R/roles.$1" ] && awk -v k="$2" -v f="${3:-2}" '$1 == k { print $f }' "$R/roles.$1"; }
rrow "run --rm: CLI (foreground parent)" "$(role run cli)" "" 1536
rrow "run --rm: container stage before exec" "$(role run child)" "" 1536
rrow "run -d: CLI" "$(role rund cli)" "" 1536
rrow "run -d: monitor, peak (VmHWM)" "$(role rund alive 3)" "" 1536
rrow "run -d: monitor at rest (VmRSS, 1 s)" "$(role rund alive 2)" "" 300
rrow "run -d: other mydocker stages, peak" "$(role rund child)" "" 1536
rrow "exec: CLI" "$(role exec cli)" "" 1536 "${EXWHY:-$MDWHY}"
rrow "exec: stage in the container before exec" "$(role exec child)" "" 1536 "${EXWHY:-$MDWHY}"
rrow "import busybox.tar: CLI" "$(role imp cli)" "" 1536
[ $SMOKE = 0 ] && rrow "import $(($(sz "$BIG") / 1000000)) MB tar: CLI" "$(role impbig cli)" "" 1536
rrow "ps -a: CLI" "$(role ps cli)" "" 1536
row 4 "peers, largest process (VmHWM)" "" "$REF_BB; $REF_CRUN; $REF_RUNC" "-" "(reference)" ""

fi

# 5. binary size
if want 5; then
say "5/9 binary size"
if [ -x "$MD" ]; then
	s=$(sz "$MD"); k=$(( (s + 1023) / 1024 ))
	ref="crun $(( $(sz "$(command -v crun 2>/dev/null)" 2>/dev/null || echo 0) / 1024 )) KiB + libs, busybox $(( $(sz "$R/rootfs/bin/busybox") / 1024 )) KiB"
	row 5 "binary size, x86_64 static" "$k KiB ($s B)" "$ref" "$(awk -v a="$k" 'BEGIN { printf("%.2fx", a / 300) }')" "<= 300 KiB" "$(verdict "$k" "<=" 300)"
else row 5 "binary size, x86_64 static" "n/a (no ./mydocker)" "" "-" "<= 300 KiB" ""; fi
if [ -f "$TOP/build/arm64/mydocker" ]; then
	s=$(sz "$TOP/build/arm64/mydocker"); k=$(( (s + 1023) / 1024 ))
	row 5 "binary size, arm64 static" "$k KiB ($s B)" "" "-" "(reference)" ""
fi

fi

# 6. import throughput vs tar -xf then sha256sum, fresh directories, same filesystem
if [ $SMOKE = 0 ] && want 6; then
	say "6/9 import of $(($(sz "$BIG") / 1000000)) MB vs tar -xf + sha256sum (N=$NI)"
	MI_G=""
	[ $MDIMP = 1 ] && MI_G="-- +post=sync mdimport $MD --root $R/imp/md{i} import $BIG big"
	# shellcheck disable=SC2086
	tm -n "$NI" $MI_G -- +post=sync tarsha sh -c "mkdir $R/imp/tar{i} && tar -C $R/imp/tar{i} -xf $BIG && sha256sum $BIG"
	failed_md mdimport
	mbs() { m=$(get "$1" 2); case $m in ""|-) echo "-";; *) awk -v s="$(sz "$BIG")" -v u="$m" 'BEGIN { printf("%.0f MB/s", s / u) }';; esac; }
	A6="$(mbs mdimport) ($(cell mdimport))"; [ -n "$MI_G" ] || A6="n/a ($MDWHY)"
	r6=$(ratio tarsha mdimport)
	row 6 "import $(($(sz "$BIG") / 1000000)) MB tar vs tar -xf; sha256sum" "$A6" "$(mbs tarsha) ($(cell tarsha))" "$r6" ">= 1.0x" "$(verdict "$r6" ">=" 1.0)"
fi

# 7. run latency: 2 MB busybox image vs the ~165 MB image
if [ $SMOKE = 0 ] && want 7; then
	say "7/9 run with a 2 MB vs a $(($(sz "$BIG") / 1000000)) MB image"
	# a state root with both images on the real disk, made once and cached (removing a 165 MB
	# layer costs ~10 s of rm on this ext4); re-imported when this mydocker cannot use it
	R7=$W/img7 OK7=0
	if [ $MDOK = 1 ] && { "$MD" --root "$R7" run --rm big true && "$MD" --root "$R7" run --rm busybox true; } >/dev/null 2>&1 </dev/null; then
		OK7=1
	elif [ $MDOK = 1 ]; then
		say "importing busybox and the big image into $R7 once"
		grep -q " $R7" /proc/mounts || rm -rf "$R7"
		"$MD" --root "$R7" import "$BBTAR" busybox >"$R/err" 2>&1 &&
			"$MD" --root "$R7" import "$BIG" big >"$R/err" 2>&1 && OK7=1
	fi
	if [ $OK7 = 1 ]; then
		tm -- mdbig "$MD" --root "$R7" run --rm big true -- mdsmall "$MD" --root "$R7" run --rm busybox true
		failed_md mdbig mdsmall
		r7=$(ratio mdbig mdsmall)
		row 7 "run --rm: $(($(sz "$BIG") / 1000000)) MB image vs 2 MB busybox" "$(cell mdbig)" "$(cell mdsmall)" "$r7" "<= 1.1x" "$(verdict "$r7" "<=" 1.1)"
	else
		[ $MDOK = 1 ] && MDWHY7="import big: $(head -n 1 "$R/err" | cut -c1-50)"
		row 7 "run --rm: big image vs 2 MB busybox" "n/a (${MDWHY7:-$MDWHY})" "" "-" "<= 1.1x" ""
	fi
fi

# 8. ps -a with 500 stopped containers (state root made once and cached)
if [ $SMOKE = 0 ] && want 8; then
	say "8/9 ps -a with 500 stopped containers"
	P=$W/ps500
	if [ $MDOK = 1 ]; then
		cnt=$("$MD" --root "$P" ps -a -q 2>/dev/null | wc -l)
		if [ "$cnt" != 500 ]; then
			say "making 500 stopped containers in $P once (found $cnt)"
			if grep -q " $P" /proc/mounts; then say "mounts under $P; not touching it"
			else
				rm -rf "$P"
				"$MD" --root "$P" import "$BBTAR" busybox >/dev/null
				i=0; while [ $i -lt 500 ]; do
					"$MD" --root "$P" run --name "c$i" busybox true </dev/null >/dev/null 2>&1 || break
					i=$((i + 1))
				done
			fi
			cnt=$("$MD" --root "$P" ps -a -q 2>/dev/null | wc -l)
		fi
		mkdir -p "$R/empty"
		tm -- ps500 "$MD" --root "$P" ps -a -- ps0 "$MD" --root "$R/empty" ps -a
		failed_md ps500
		m=$(get ps500 2)
		row 8 "ps -a, $cnt stopped containers vs none" "$(cell ps500)" "$(cell ps0)" "$(ratio ps500 ps0)" "<= 50 ms" "$(verdict "$(awk -v m="${m:-0}" 'BEGIN { print m / 1000 }')" "<=" 50)"
	else row 8 "ps -a, 500 stopped containers" "n/a ($MDWHY)" "" "-" "<= 50 ms" ""; fi
fi

# 9. ctr run --rm through containerd: mydocker's runc applet vs crun as --runc-binary
if [ $SMOKE = 0 ] && want 9; then
	say "9/9 ctr run --rm through containerd, mydocker-runc vs crun (N=$N)"
	if ! command -v containerd >/dev/null 2>&1 || ! command -v ctr >/dev/null 2>&1 ||
	   ! command -v containerd-shim-runc-v2 >/dev/null 2>&1 || ! command -v crun >/dev/null 2>&1; then
		say "installing containerd and crun from Debian"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containerd crun >/dev/null 2>&1 || {
			apt-get update -qq >/dev/null 2>&1
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containerd crun >/dev/null 2>&1; }
	fi
	WHY9=
	if ! command -v containerd >/dev/null 2>&1 || ! command -v ctr >/dev/null 2>&1 ||
	   ! command -v containerd-shim-runc-v2 >/dev/null 2>&1; then WHY9="containerd not installable"
	elif ! command -v crun >/dev/null 2>&1; then WHY9="crun not installable"
	elif [ $MDOK = 0 ]; then WHY9=$MDWHY; fi
	if [ -z "$WHY9" ]; then
		# the private copy of ./mydocker, called as mydocker-runc (its OCI runtime mode)
		ln -sf mydocker "$R/bin/mydocker-runc"
		CD=$R/cd; mkdir -p "$CD"
		cat > "$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$CD/sock"
[ttrpc]
  address = "$CD/sock.ttrpc"
[debug]
  address = ""
EOF
		containerd --config "$CD/config.toml" >"$CD/log" 2>&1 &
		CDPID=$!
		CTR="timeout 60 ctr -a $CD/sock -n $TAG"
		i=0; while [ $i -lt 100 ] && ! $CTR version >/dev/null 2>&1; do i=$((i + 1)); sleep 0.1; done
		$CTR version >/dev/null 2>&1 || WHY9="containerd does not start: $(tail -n 1 "$CD/log" | cut -c1-80)"
	fi
	if [ -z "$WHY9" ]; then
		# the busybox image as a docker-save archive: manifest.json + config + layer.tar
		A=$R/archive; mkdir -p "$A" && cp "$BBTAR" "$A/layer.tar"
		DIFF=$(sha256sum "$A/layer.tar" | cut -d' ' -f1)
		printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$DIFF" > "$A/config.json"
		printf '[{"Config":"config.json","RepoTags":["docker.io/library/busybox:latest"],"Layers":["layer.tar"]}]' > "$A/manifest.json"
		(cd "$A" && tar -cf "$R/busybox-save.tar" manifest.json config.json layer.tar)
		IMG9=docker.io/library/busybox:latest
		$CTR images import "$R/busybox-save.tar" >"$R/err" 2>&1 ||
			WHY9="ctr images import fails: $(head -n 1 "$R/err" | cut -c1-80)"
	fi
	if [ -z "$WHY9" ]; then
		MDRUNC=$R/bin/mydocker-runc CRUNB=$(command -v crun)
		HAVE_CRUN9=0
		$CTR run --runc-binary "$CRUNB" --rm $IMG9 "$TAG-cprobe" true >"$R/err" 2>&1 </dev/null && HAVE_CRUN9=1 ||
			note "ctr row: crun side fails: $(head -n 1 "$R/err")"
		CC_G=""; [ $HAVE_CRUN9 = 1 ] && CC_G="-- ctrcrun $CTR run --runc-binary $CRUNB --rm $IMG9 $TAG-c{i} true"
		# shellcheck disable=SC2086
		tm -- ctrmd $CTR run --runc-binary $MDRUNC --rm $IMG9 $TAG-m{i} true $CC_G
		failed_md ctrmd
		B9=$(cell ctrcrun); [ $HAVE_CRUN9 = 1 ] || B9="skipped (see notes)"
		r9=$(ratio ctrmd ctrcrun)
		row 9 "ctr run --rm true: mydocker-runc vs crun" "$(cell ctrmd)" "$B9" "$r9" "<= 1.0x" "$(verdict "$r9" "<=" 1.0)"
		note "ctr row: containerd $(containerd --version 2>/dev/null | awk '{print $3}') on a private socket, overlayfs snapshotter under /var/tmp ($fs), private root/state; ctr run --runc-binary, container ids new each run"
	else
		say "skipping the ctr row: $WHY9"
		note "ctr row skipped: $WHY9"
		row 9 "ctr run --rm true: mydocker-runc vs crun" "n/a ($WHY9)" "" "-" "<= 1.0x" ""
	fi
fi

# ---- the table ------------------------------------------------------------------------------
machine() {
	echo "machine: $(uname -srm), $(nproc) cpus, $(awk '/MemTotal/ { printf("%.0f GiB", $2 / 1048576) }' /proc/meminfo), $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n 1)"
	echo "         load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
	echo "         /var/tmp on $fs, cgroup $( [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && echo v2 || echo 'v1 (hybrid)'), $(crun --version 2>/dev/null | head -n 1), $(runc --version 2>/dev/null | head -n 1)"
	echo "mydocker: $( [ -x "$MD" ] && "$MD" version 2>/dev/null | head -n 1) $(cd "$TOP" && git describe --always --dirty 2>/dev/null)"
	echo "command: $CMDLINE, N=$N (import N=$NI), warm-up $WARM, median [min-max]; ratio = A / B (import: B time / A time)"
}
print_table() {
	awk -F'|' '
	{ for (i = 1; i <= 7; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
	END {
		split("#|figure|A (mydocker)|B (reference)|ratio|target|vs target", h, "|")
		for (i = 1; i <= 7; i++) if (length(h[i]) > w[i]) w[i] = length(h[i])
		line = ""; for (i = 1; i <= 7; i++) line = line sprintf("%-" w[i] "s  ", h[i]); sub(/ +$/, "", line); print line
		line = ""; for (i = 1; i <= 7; i++) { s = ""; for (k = 0; k < w[i]; k++) s = s "-"; line = line s "  " } sub(/ +$/, "", line); print line
		for (r = 1; r <= NR; r++) { line = ""; for (i = 1; i <= 7; i++) line = line sprintf("%-" w[i] "s  ", c[r, i]); sub(/ +$/, "", line); print line }
	}' "$TABLE"
}
{
	echo
	machine
	echo
	print_table
	if [ -s "$NOTES" ]; then echo; sed 's/^/note: /' "$NOTES"; fi
	echo "note: floor = ../shared/bench/floor.c -O -C (overlay on tmpfs + 7 v1 cgroups); crun/runc run an OCI bundle on the plain busybox rootfs (no overlay, their default cgroups)"
	echo "note: RSS = VmHWM of each process image (read at its execve or exit under ptrace); ratio = A / target"
} > "$R/out"
cat "$R/out"
[ -n "${BENCH_OUT:-}" ] && cp "$R/out" "$BENCH_OUT"
exit $MDFAIL
