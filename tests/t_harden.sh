#!/bin/sh
# t_harden: docker's default hardening: capabilities (run and exec, --cap-add/--cap-drop,
# no-new-privileges), masked and read-only paths, devices, no leaked fds, no cwd outside the
# root, and --privileged turning it off.
. "$(dirname "$0")/lib.sh"
need_root
import_busybox || { _fail "import busybox"; exit 1; }
at_exit 'for d in $(ls "$MYDOCKER_ROOT/containers" 2>/dev/null); do "$MD" rm -f $d; for h in /sys/fs/cgroup/*/mydocker; do rmdir "$h/$d"; done; done'
R="$MD run --rm busybox"
CAPS="grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' | tr -s '\t' ' '"
DEF=00000000a80425fb

# ---- capabilities ----
testing "PID 1: docker's 14 default caps, inheritable and ambient empty" "$R cat /proc/1/status | $CAPS" \
	"CapInh: 0000000000000000\nCapPrm: $DEF\nCapEff: $DEF\nCapBnd: $DEF\nCapAmb: 0000000000000000\nNoNewPrivs: 0\n"
testing "--cap-add NET_ADMIN --cap-drop CHOWN --cap-drop cap_mknod" \
	"$MD run --rm --cap-add NET_ADMIN --cap-drop CHOWN --cap-drop cap_mknod busybox grep -E '^Cap(Eff|Bnd)' /proc/1/status | tr -s '\t' ' '" \
	"CapEff: 00000000a00435fa\nCapBnd: 00000000a00435fa\n"
testing "--cap-drop ALL --cap-add NET_BIND_SERVICE" \
	"$MD run --rm --cap-drop ALL --cap-add NET_BIND_SERVICE busybox grep CapEff /proc/1/status | tr -s '\t' ' '" \
	"CapEff: 0000000000000400\n"
testing "a non-root user has no effective caps, the bounding set stays" \
	"$MD run --rm -u 1000 busybox grep -E '^Cap(Eff|Bnd)' /proc/1/status | tr -s '\t' ' '" \
	"CapEff: 0000000000000000\nCapBnd: $DEF\n"
testing "--security-opt no-new-privileges" "$MD run --rm --security-opt no-new-privileges busybox grep NoNewPrivs /proc/1/status | tr -s '\t' ' '" \
	"NoNewPrivs: 1\n"
expect_err "unknown capability refused" 'invalid capability "NET_FOO"' "$MD" run --rm --cap-add NET_FOO busybox true
expect_err "unknown security option refused" 'security-opt' "$MD" run --rm --security-opt bogus busybox true
"$MD" run -d --name box busybox sleep 1000 >/dev/null
testing "exec gets the same caps" "'$MD' exec box cat /proc/self/status | $CAPS" \
	"CapInh: 0000000000000000\nCapPrm: $DEF\nCapEff: $DEF\nCapBnd: $DEF\nCapAmb: 0000000000000000\nNoNewPrivs: 0\n"
testing "exec cannot read the host's mydocker through /proc/PID/exe" \
	"'$MD' exec box sh -c 'for p in /proc/[0-9]*; do cat \$p/exe >/dev/null 2>&1 && readlink \$p/exe; done' | grep mydocker | wc -l" "0\n"
# a container process watching for exec's helper while it still runs the host's binary
"$MD" run -d --name spy busybox sh -c 'while :; do for p in /proc/[0-9]*; do l=$(readlink $p/exe 2>/dev/null)
	case "$l" in *mydocker*|*memfd*) head -c 1 $p/exe >/dev/null 2>&1 && echo "$l" >> /tmp/hits;; esac; done; done' >/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do "$MD" exec spy true; done
testing "no /proc/PID/exe of mydocker readable during exec (CVE-2019-5736)" "'$MD' exec spy cat /tmp/hits 2>/dev/null | wc -l" "0\n"
"$MD" rm -f spy >/dev/null 2>&1
HOSTEFF=$(grep CapEff /proc/self/status | tr -s '\t' ' ')
testing "--privileged keeps the caller's capabilities" "$MD run --rm --privileged busybox grep CapEff /proc/1/status | tr -s '\t' ' '" "$HOSTEFF\n"

# ---- seccomp: docker-like default denylist ----
SC="grep ^Seccomp: /proc/1/status | tr -d '\t '"
testing "default: seccomp filter on PID 1" "$R $SC" "Seccomp:2\n"
testing "--privileged: no seccomp filter" "$MD run --rm --privileged busybox $SC" "Seccomp:0\n"
testing "--security-opt seccomp=unconfined: no filter" "$MD run --rm --security-opt seccomp=unconfined busybox $SC" "Seccomp:0\n"
testing "seccomp=unconfined is kept across start" \
	"$MD run --name unconf --security-opt seccomp=unconfined busybox $SC; $MD start -a unconf | tr -d '\t '; $MD rm -f unconf >/dev/null" "Seccomp:0\nSeccomp:0\n"
testing "seccomp=unconfined: only the caps are left (unshare -U allowed)" \
	"$MD run --rm --security-opt seccomp=unconfined busybox sh -c 'unshare -U true 2>/dev/null && echo ok || echo denied'" "ok\n"
testing "busybox works under the filter" \
	"$R sh -c 'ps >/dev/null && cat /etc/passwd >/dev/null && sleep 0 && mkdir /d && chown 1:1 /d && stat -c %u /d && date >/dev/null && id -u'" "1\n0\n"
testing "unshare -U refused" "$R sh -c 'unshare -U true 2>/dev/null && echo unshared || echo denied'" "denied\n"
testing "-u 1000: the filter is on too" "$MD run --rm -u 1000 busybox $SC" "Seccomp:2\n"
testing "--cap-add SYS_ADMIN: filter on, mount allowed (as docker)" \
	"$MD run --rm --cap-add SYS_ADMIN busybox sh -c 'grep ^Seccomp: /proc/1/status | tr -d \"\\t \"; mkdir /m && mount -t tmpfs x /m && echo mounted'" "Seccomp:2\nmounted\n"
"$MD" run -d --name sc0 --security-opt seccomp=unconfined busybox sleep 1000 >/dev/null
"$MD" run -d --name scp --privileged busybox sleep 1000 >/dev/null
testing "exec: filtered like PID 1" "'$MD' exec box sh -c 'grep ^Seccomp: /proc/self/status | tr -d \"\\t \"; unshare -U true 2>/dev/null || echo denied'" "Seccomp:2\ndenied\n"
testing "exec into a seccomp=unconfined container: no filter" "'$MD' exec sc0 $SC; '$MD' exec sc0 grep ^Seccomp: /proc/self/status | tr -d '\t '" "Seccomp:0\nSeccomp:0\n"
testing "exec into a --privileged container: no filter" "'$MD' exec scp grep ^Seccomp: /proc/self/status | tr -d '\t '" "Seccomp:0\n"
"$MD" rm -f sc0 scp >/dev/null 2>&1

# ---- masked and read-only paths ----
testing "masked files read empty" "$R sh -c 'cat /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug 2>/dev/null | wc -c'" "0\n"
testing "masked files are the null device" "$R stat -c '%t:%T' /proc/keys /proc/timer_list" "1:3\n1:3\n"
testing "masked dirs are empty" "$R ls -A /sys/firmware | wc -l" "0\n"
testing "masked dirs are read-only tmpfs" \
	"$R awk '\$5 == \"/sys/firmware\" { split(\$6, o, \",\"); print o[1], \$(NF-2) }' /proc/self/mountinfo" "ro tmpfs\n"
for p in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger /sys; do
	[ -e "$p" ] || { skip "$p is read-only" "not on this kernel"; continue; }
	testing "$p is read-only" "$R awk '\$5 == \"$p\" { split(\$6, o, \",\"); x = o[1] } END { print x }' /proc/self/mountinfo" "ro\n"
done
testing "writing below /proc/sys fails" "$R sh -c 'echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo wrote || echo refused'" "refused\n"

# ---- devices ----
testing "allowed devices work" "$R sh -c 'head -c 3 /dev/zero | wc -c; echo x > /dev/null && echo ok; head -c 4 /dev/urandom | wc -c'" "3\nok\n4\n"
check_fail "mknod of a host block device, then read: denied" $R sh -c 'mknod /tmp/sda b 8 0 && head -c 1 /tmp/sda'
check_fail "mknod of /dev/mem (1:1), then read: denied" $R sh -c 'mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem'
check "--privileged: all devices" $MD run --rm --privileged busybox sh -c 'mknod /tmp/n c 1 3 && echo x > /tmp/n'
testing "--privileged: no masks" "$MD run --rm --privileged busybox awk '\$5 == \"/proc/keys\"' /proc/self/mountinfo | wc -l" "0\n"

# ---- fds and cwd ----
exec 7</ 8>"$T/leak"
testing "PID 1 has only fds 0 1 2 (plus the one ls opens)" "$R ls /proc/self/fd | tr '\n' ' '" "0 1 2 3 "
testing "exec: only 0 1 2 too" "'$MD' exec box ls /proc/self/fd | tr '\n' ' '" "0 1 2 3 "
check_fail "-w through a leaked host fd (CVE-2024-21626) refused" $R -w /proc/self/fd/7 busybox ls
check_fail "exec -w through a leaked fd refused" "$MD" exec -w /proc/self/fd/7 box ls
exec 7<&- 8>&-
"$MD" rm -f box >/dev/null 2>&1

# ---- symlinks in the image cannot lead out of the root ----
mkdir -p "$T/img" "$T/outside"
tar -C "$T/img" -xf "$TOP/rootfs/busybox.tar"
ln -s "$T/outside" "$T/img/evil"
ln -s ../../../../../../.. "$T/img/up"
tar -C "$T/img" -cf "$T/evil.tar" .
"$MD" import "$T/evil.tar" evil >/dev/null
"$MD" run --rm -v "$T/img/bin:/evil/x:ro" evil true >/dev/null 2>&1
check "volume destination through an absolute symlink stays inside the root" sh -c "[ -z \"\$(ls -A '$T/outside')\" ]"
"$MD" run --rm -w /up/tmp/mdt-escape evil true >/dev/null 2>&1
check "workdir through a .. symlink stays inside the root" test ! -e /tmp/mdt-escape
