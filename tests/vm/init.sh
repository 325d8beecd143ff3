#!/bin/sh
# /init of the VM test (tests/vm/run.sh boots it): runs mydocker's real lifecycle on a stock
# Debian kernel, straight from the initramfs root (so pivot_root cannot work: the no-pivot path),
# on a pure cgroup v2 hierarchy. Prints one "PASS: ", "FAIL: " or "SKIP: " line per check, which
# the host counts, then "=== VM DONE" and powers off.
#   phase noovl: overlay module not loaded -> containers get a copy of the image
#   phase main:  overlay loaded: info, import, run, -d, exec, ps, logs, stop, rm, limits, network
#   phase upper: state root on an overlayfs (cannot be an upper dir) -> copy again
export PATH=/bin:/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /sys/fs/cgroup /run /var/lib
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# an unconfigured board: no modprobe helper, so nothing is loaded behind the test's back
echo > /proc/sys/kernel/modprobe 2>/dev/null
echo "=== VM START $(uname -m) $(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)s"
PH=boot

pass() { echo "PASS: $PH: $1"; }
fail() { echo "FAIL: $PH: $1${2:+ -- $(printf '%s' "$2" | tr '\n' ' ' | cut -c1-300)}"; }
skip() { echo "SKIP: $PH: $1 ($2)"; }
# x CMD...: run with a time limit; stdout in OUT, exit status in RC, stderr in ERR
x() {
	case $(type "$1") in
	*function*) OUT=$("$@" 2>/tmp/err) ;;
	*) OUT=$(timeout 90 "$@" 2>/tmp/err) ;;
	esac
	RC=$? ERR=$(cat /tmp/err)
}
ok() { n=$1; shift; x "$@"; if [ "$RC" = 0 ]; then pass "$n"; else fail "$n" "rc=$RC $OUT $ERR"; fi; }
no() { n=$1; shift; x "$@"; if [ "$RC" != 0 ]; then pass "$n"; else fail "$n" "succeeded: $OUT"; fi; }
eq() { n=$1 w=$2; shift 2; x "$@"
	if [ "$RC" = 0 ] && [ "$OUT" = "$w" ]; then pass "$n"; else fail "$n" "rc=$RC got '$OUT' wanted '$w' $ERR"; fi; }
rc() { n=$1 w=$2; shift 2; x "$@"; if [ "$RC" = "$w" ]; then pass "$n"; else fail "$n" "rc=$RC wanted $w $ERR"; fi; }
# info KEY: the first word of mydocker info's "KEY:" line
info() { mydocker info 2>/dev/null | awk -v k="$1:" '$1 == k { print $2; exit }'; }
# wait_for SECS CMD...: until CMD succeeds
wait_for() { t=$1; shift; while ! "$@" >/dev/null 2>&1; do t=$((t - 1)); [ $t -gt 0 ] || return 1; sleep 1; done; }
loaded() { grep -qw "$1" /proc/filesystems || [ -d "/sys/module/$1" ]; }
mounts_under() { grep -c " $1" /proc/self/mountinfo; }

# what exists decides what is tested; what is missing is said loudly
features() {
	HAS_INFO=; HAS_NET=; RUN=; CG=
	mydocker --list | grep -qx info && HAS_INFO=1
	mydocker --list | grep -qx net && mydocker run --help 2>&1 | grep -q -- --net && HAS_NET=1
	mydocker run --help 2>&1 | grep -q -- --memory && CG=1
	# every one of these is part of the product: a missing one is a failure, not a skip
	mydocker --list | grep -qx run && RUN=1
	[ -n "$RUN" ] || fail "the run applet exists"
	[ -n "$CG" ] || fail "run has --memory"
	[ -n "$HAS_NET" ] || fail "the net applet and run --net exist"
	[ -n "$HAS_INFO" ] || fail "the info applet exists"
}

load_modules() {	# load_modules [all|-overlay]: insmod in dependency order
	while read -r m; do
		n=$(basename "$m" .ko)
		[ "$1" = -overlay ] && [ "$n" = overlay ] && continue
		[ -d "/sys/module/$n" ] && continue
		insmod "$m" || fail "insmod $n"
	done < /lib/modules/order
}

show_info() {	# the whole info output in the log, indented
	[ -n "$HAS_INFO" ] && mydocker info 2>&1 | sed 's/^/    | /'
}

# copy fallback checks, shared by the noovl and upper phases
copy_checks() {
	if [ -n "$HAS_INFO" ]; then eq "info: storage is a copy" vfs info Storage; fi
	[ -n "$RUN" ] || { skip "container checks" "mydocker run does not work yet"; return; }
	x mydocker run --rm busybox echo hello
	if [ "$RC" = 0 ] && [ "$OUT" = hello ]; then pass "run without overlay"
	else fail "run without overlay" "rc=$RC out=$OUT $ERR"; fi
	lines=$(printf '%s' "$ERR" | grep -c .)
	case $ERR in *copy*) said=1 ;; *) said=0 ;; esac
	if [ "$RC" = 0 ] && [ "$lines" = 1 ] && [ "$said" = 1 ]; then pass "the copy fallback is said once ($ERR)"
	else fail "the copy fallback is said once" "$ERR"; fi
	ok "writes go to the container's copy" mydocker run --name w1 busybox sh -c 'echo x > /bin/new && test -e /bin/new'
	no "not to the image" mydocker run --rm busybox test -e /bin/new
	ok "export of a copy" sh -c 'mydocker export -o /tmp/w1.tar w1 && tar -tf /tmp/w1.tar | grep -q "bin/new$"'
	no "not to the layer" sh -c "ls -d $(mydocker_root)/images/layers/*/diff/bin/new"
	eq "hard links kept in the copy" yes mydocker run --rm busybox sh -c '[ $(stat -c %h /bin/busybox) -gt 100 ] && echo yes'
	eq "modes kept in the copy" 1777 mydocker run --rm busybox stat -c %a /tmp
	ok "run -d on a copy" mydocker run -d --name d1 busybox sleep 600
	eq "exec on a copy" hi mydocker exec d1 echo hi
	ok "stop" mydocker stop -t 1 d1
	ok "start again keeps the copy" sh -c 'mydocker start d1 && mydocker exec d1 true && mydocker stop -t 1 d1'
	ok "rm" mydocker rm -f w1 d1
	eq "rm removes the copies" "" ls "$(mydocker_root)/containers"
}
mydocker_root() { echo "${MYDOCKER_ROOT:-/var/lib/mydocker}"; }

lifecycle() {
	[ -n "$RUN" ] || { skip "run, -d, exec, ps, logs, stop, rm, limits, network" "mydocker run does not work yet"; return; }
	eq "run echo" hello mydocker run --rm busybox echo hello
	rc "exit code passed through" 7 mydocker run --rm busybox sh -c 'exit 7'
	rc "command not found is 127" 127 mydocker run --rm busybox /no/such/cmd
	eq "pid 1 in the container" 1 mydocker run --rm busybox sh -c 'echo $$'
	eq "hostname set" box1 mydocker run --rm --hostname box1 busybox hostname
	# the container's root is its image, not the initramfs it was started from
	ok "root is the image, not the initramfs" mydocker run --rm busybox sh -c 'test ! -e /init && test ! -e /images && test -x /bin/busybox'
	# no-pivot: the initramfs stays underneath the moved root; without CAP_SYS_ADMIN it is out of reach
	ok "umount / does not uncover the initramfs" mydocker run --rm busybox sh -c 'umount -l / 2>/dev/null; umount / 2>/dev/null; test ! -e /init'
	eq "/proc is the container's" cat mydocker run --rm busybox cat /proc/1/comm
	eq "stdin reaches the container" abc sh -c 'echo abc | mydocker run --rm -i busybox cat'
	mkdir -p /tmp/vol
	ok "volume" sh -c 'mydocker run --rm -v /tmp/vol:/data busybox sh -c "echo v > /data/f" && [ "$(cat /tmp/vol/f)" = v ]'
	no "--read-only root" mydocker run --rm --read-only busybox touch /x
	ok "no mount left behind by --rm" test "$(mounts_under /var/lib/mydocker)" = 0

	x mydocker run -d --name d1 busybox sh -c 'echo started; while :; do sleep 1; done'
	ID=$OUT
	if [ "$RC" = 0 ] && [ ${#ID} = 64 ]; then pass "run -d prints the id"; else fail "run -d" "rc=$RC $OUT $ERR"; fi
	ok "ps shows it running" sh -c "mydocker ps | grep -q ' d1\$'"
	ok "ps -q shows its short id" sh -c "mydocker ps -q | grep -qx $(echo "$ID" | cut -c1-12)"
	eq "exec" hi mydocker exec d1 echo hi
	eq "exec joins its pid namespace" yes mydocker exec d1 sh -c 'kill -0 1 && ps | grep -q "while" && echo yes'
	rc "exec exit code" 3 mydocker exec d1 sh -c 'exit 3'
	ok "logs" wait_for 10 sh -c 'mydocker logs d1 | grep -qx started'
	ok "stop" mydocker stop -t 2 d1
	ok "ps -a shows it exited" sh -c 'mydocker ps -a | grep " d1$" | grep -q Exited'
	no "ps no longer lists it" sh -c 'mydocker ps | grep -q " d1$"'
	ok "rm" mydocker rm d1
	no "rm removed it" sh -c 'mydocker ps -a | grep -q " d1$"'
	ok "rm removed its directory" test ! -e "/var/lib/mydocker/containers/$ID"
	ok "no mount left behind" test "$(mounts_under /var/lib/mydocker)" = 0
	limits
	network
}

limits() {
	[ -n "$CG" ] || { skip "cgroup v2 limits" "run has no --memory"; return; }
	x mydocker run -d --name lim -m 32m --pids-limit 20 busybox sleep 600
	ID=$OUT
	[ "$RC" = 0 ] || { fail "run -d with -m 32m --pids-limit 20" "rc=$RC $ERR"; return; }
	CGD=/sys/fs/cgroup/mydocker/$ID
	eq "memory.max from -m 32m" 33554432 cat "$CGD/memory.max"
	eq "pids.max from --pids-limit" 20 cat "$CGD/pids.max"
	ok "the container is in its cgroup" grep -q . "$CGD/cgroup.procs"
	ok "exec joins the cgroup" sh -c "mydocker exec lim sleep 3 & sleep 2; n=\$(wc -l < '$CGD/cgroup.procs'); wait; [ \$n -ge 2 ]"
	ok "rm" mydocker rm -f lim
	ok "rm removes the cgroup" wait_for 5 test ! -e "$CGD"
	rc "memory limit enforced (OOM kill is 137)" 137 mydocker run --rm -m 16m busybox sh -c 'tail /dev/zero'
	ok "pids limit enforced" sh -c "mydocker run --rm --pids-limit 5 busybox sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 2 & done 2>&1; wait' 2>&1 | grep -q \"can't fork\""
}

network() {
	[ -n "$HAS_NET" ] || { skip "bridge network" "no net applet or run --net"; return; }
	ok "net create" mydocker net create --subnet 10.88.0.0/24 tnet
	ok "run two containers on it" sh -c 'mydocker run -d --name n1 --net tnet busybox sleep 600 && mydocker run -d --name n2 --net tnet busybox sleep 600'
	ip1=$(mydocker exec n1 ip -4 -o addr show dev eth0 2>/dev/null | sed -n 's/.* inet \([0-9.]*\).*/\1/p')
	ip2=$(mydocker exec n2 ip -4 -o addr show dev eth0 2>/dev/null | sed -n 's/.* inet \([0-9.]*\).*/\1/p')
	if [ -n "$ip1" ] && [ -n "$ip2" ] && [ "$ip1" != "$ip2" ]; then pass "addresses $ip1 $ip2"; else fail "addresses" "'$ip1' '$ip2'"; fi
	ok "n2 pings n1" mydocker exec n2 ping -c 1 -W 5 "$ip1"
	ok "n1 pings n2" mydocker exec n1 ping -c 1 -W 5 "$ip2"
	ok "the host reaches n1 over the bridge" ping -c 1 -W 5 "$ip1"
	ok "n1 reaches the gateway" mydocker exec n1 sh -c 'ping -c 1 -W 5 $(ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p")'
	ok "rm the containers" mydocker rm -f n1 n2
	ok "veths removed (with the namespaces)" sh -c 'for i in $(seq 100); do ip -o link | grep -q veth || exit 0; sleep 0.1; done; exit 1'
	ok "net rm" mydocker net rm tnet
}

# --- phase noovl: no overlay module loaded -------------------------------------------------------
PH=noovl
load_modules -overlay
export MYDOCKER_ROOT=/var/lib/mydocker-noovl
features
if loaded overlay; then skip "copy fallback without overlay" "overlay is built into this kernel"
else
	echo "--- mydocker info without overlay"; show_info
	if [ -n "$HAS_INFO" ]; then eq "info: overlay unavailable" no info Overlay; fi
	ok "import" mydocker import /images/busybox.tar busybox
	copy_checks
fi
unset MYDOCKER_ROOT

# --- phase main: overlay loaded -----------------------------------------------------------------
PH=main
load_modules all
echo "--- modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
ok "overlay module loaded" loaded overlay
echo "--- mydocker info"; show_info
if [ -n "$HAS_INFO" ]; then
	eq "info: cgroup v2" v2 info Cgroups
	eq "info: overlay available" yes info Overlay
	eq "info: storage overlay" overlay info Storage
	eq "info: nf_tables available" yes info nf_tables
	eq "info: no-pivot on an initramfs" no-pivot info Root
	ok "info: memory and pids controllers" sh -c 'mydocker info | grep "^Cgroups:" | grep -w memory | grep -qw pids'
fi
eq "version" "mydocker version" sh -c 'mydocker version | head -n 1 | cut -d" " -f1,2'
ok "import" mydocker import /images/busybox.tar busybox
eq "images" "busybox latest" sh -c "mydocker images | awk 'NR > 1 { print \$1, \$2 }'"
features
lifecycle
rm -rf /var/lib/mydocker-noovl

# --- phase upper: the state root on a filesystem that cannot be an upper dir ---------------------
PH=upper
mkdir -p /tmp/o/l /tmp/o/u /tmp/o/w /mnt/ovl
if mount -t overlay overlay -o lowerdir=/tmp/o/l,upperdir=/tmp/o/u,workdir=/tmp/o/w /mnt/ovl; then
	export MYDOCKER_ROOT=/mnt/ovl/state
	echo "--- mydocker info with the state root on overlayfs"; show_info
	if [ -n "$HAS_INFO" ]; then eq "info: overlay unusable here" no info Overlay; fi
	ok "import" mydocker import /images/busybox.tar busybox
	copy_checks
	unset MYDOCKER_ROOT
else
	fail "mount an overlay for the state root"
fi

echo "=== VM DONE uptime=$(cut -d' ' -f1 /proc/uptime)s"
sync
poweroff -f
