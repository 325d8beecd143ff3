# Escape attempts from inside a container started with default options: host pids, kill -1,
# mount/unshare/keyctl, masked /proc files, read-only /proc/sys and sysrq-trigger, mknod of the host
# disk, leaked fds and cwd, overwriting the mydocker binary through /proc/PID/exe during run and
# exec (CVE-2019-5736), cgroup release_agent, and with limits: fork bomb, memory hog.
# Tests that need dropped capabilities skip LOUDLY while the container still has them all.
. "$(dirname "$0")/lib.sh"
need_root
import_busybox
R() { "$MD" run --rm busybox sh -c "$1" 2>&1; }
SUM0=$(sha256sum "$(readlink -f "$MD")" | cut -c1-64)

sleep 300 & HOSTPID=$!
at_exit "kill $HOSTPID"
testing "no host pids visible" "'$MD' run --rm busybox sh -c 'ls /proc | grep -cE \"^[0-9]+\$\" | awk \"{print (\\\$1 < 5)}\"; kill -0 $HOSTPID 2>/dev/null && echo visible || echo hidden'" "1\nhidden\n"
testing "the container's PID 1 is its command" "'$MD' run --rm busybox sh -c 'cat /proc/1/comm; true'" "sh\n"
"$MD" run --rm busybox sh -c 'kill -9 -1; sleep 0.2; echo survived' > "$T/k1" 2>&1
check "kill -9 -1 inside harms no host process" kill -0 $HOSTPID
check "kill -9 -1: the container's own PID 1 survives it" grep -qx survived "$T/k1"

FULL=$(grep CapEff /proc/self/status | awk '{print $2}')
IN=$(R 'grep CapEff /proc/1/status' | awk '{print $2}')
if [ -z "$IN" ] || [ "$IN" = "$FULL" ]; then
	_fail "capabilities reduced (CapEff $IN in the container, host $FULL)"
	CAPS=0
else
	CAPS=1
	testing "capabilities reduced (CapEff $IN, host $FULL)" "echo ok" "ok\n"
fi
if [ $CAPS = 1 ]; then
	testing "mount denied" "'$MD' run --rm busybox sh -c 'mkdir -p /m; mount -t tmpfs none /m 2>/dev/null && echo mounted || echo denied'" "denied\n"
	testing "remount of / denied" "'$MD' run --rm busybox sh -c 'mount -o remount,rw /proc/sys 2>/dev/null && echo remounted || echo denied'" "denied\n"
	testing "unshare of a mount namespace denied" "'$MD' run --rm busybox sh -c 'unshare -m true 2>/dev/null && echo unshared || echo denied'" "denied\n"
	# a new user namespace gives back every capability inside it (the seccomp filter refuses it)
	testing "seccomp filter on PID 1" "'$MD' run --rm busybox grep ^Seccomp: /proc/1/status | tr -d '\t '" "Seccomp:2\n"
	testing "unshare of a user namespace denied" "'$MD' run --rm busybox sh -c 'unshare -U -r -m true 2>/dev/null && echo unshared || echo denied'" "denied\n"
	testing "unshare -U alone denied" "'$MD' run --rm busybox sh -c 'unshare -U true 2>/dev/null && echo unshared || echo denied'" "denied\n"
	testing "mounting a cgroup hierarchy denied" "'$MD' run --rm busybox sh -c 'mkdir -p /c; mount -t cgroup -o memory cg /c 2>/dev/null && echo mounted || echo denied; mount -t cgroup2 cg /c 2>/dev/null && echo mounted || echo denied'" "denied\ndenied\n"
fi
# syscalls busybox has no client for: a static probe, bind-mounted in
mkdir -p "$T/probe"
CC=$(command -v musl-gcc || command -v cc)
if [ -n "$CC" ] && "$CC" -static -O1 -o "$T/probe/probe" "$TOP/tests/escape_probe.c" 2>/dev/null; then
	"$MD" run --rm -v "$T/probe:/p:ro" busybox /p/probe > "$T/probe.out" 2>&1
	if [ $CAPS = 1 ]; then
		check "open_by_handle_at denied (CVE-2014-9357 shocker: no CAP_DAC_READ_SEARCH)" grep -q '^open_by_handle_at denied' "$T/probe.out"
	fi
	for sc in keyctl add_key unshare_user; do
		check "$sc denied ($(grep "^$sc " "$T/probe.out"))" grep -q "^$sc denied" "$T/probe.out"
	done
	# with the filter off, only the capabilities are left: keyctl goes through
	"$MD" run --rm --security-opt seccomp=unconfined -v "$T/probe:/p:ro" busybox /p/probe > "$T/probe0.out" 2>&1
	check "seccomp=unconfined: keyctl allowed" grep -q "^keyctl allowed" "$T/probe0.out"
else
	skip "keyctl, add_key, open_by_handle_at, unshare(CLONE_NEWUSER) denied" "no C compiler for tests/escape_probe.c"
fi

# masked and read-only /proc
for f in /proc/kcore /proc/keys /proc/timer_list /proc/timer_stats /proc/sched_debug /proc/latency_stats \
	 /proc/acpi /proc/scsi /sys/firmware; do
	if [ -e "$f" ]; then
		testing "$f masked (empty)" "'$MD' run --rm busybox sh -c '{ if [ -d $f ]; then ls -A $f; else cat $f; fi; } 2>/dev/null | wc -c'" "0\n"
	fi
done
[ -e /proc/kcore ] || skip "/proc/kcore masked" "this kernel has no /proc/kcore"
testing "/proc/sys read-only" "'$MD' run --rm busybox sh -c 'v=\$(cat /proc/sys/kernel/printk_ratelimit); echo \$v > /proc/sys/kernel/printk_ratelimit 2>/dev/null && echo writable || echo ro'" "ro\n"
# opening with O_TRUNC and writing nothing triggers nothing even if it were writable
if [ -e /proc/sysrq-trigger ]; then
	testing "/proc/sysrq-trigger read-only" "'$MD' run --rm busybox sh -c '( : > /proc/sysrq-trigger ) 2>/dev/null && echo writable || echo ro'" "ro\n"
else
	skip "/proc/sysrq-trigger read-only" "this kernel has no /proc/sysrq-trigger"
fi
testing "/sys read-only" "'$MD' run --rm busybox sh -c '( : > /sys/kernel/uevent_helper ) 2>/dev/null && echo writable || echo ro'" "ro\n"

# the host's disk through mknod
DEV=$(stat -c '%D' / 2>/dev/null); MAJ=$((0x${DEV%??})) MIN=$((0x${DEV#${DEV%??}}))
for b in /sys/block/*; do	# the first real block device, if / is on something else
	case $(basename "$b") in loop*|ram*|zram*) continue ;; esac
	MAJ=$(cut -d: -f1 "$b/dev"); MIN=$(cut -d: -f2 "$b/dev"); break
done
testing "host block device $MAJ:$MIN unreadable after mknod" \
	"'$MD' run --rm busybox sh -c 'mknod /tmp/disk b $MAJ $MIN 2>/dev/null; head -c 512 /tmp/disk 2>/dev/null | wc -c'" "0\n"
testing "/dev has no host block devices" "'$MD' run --rm busybox sh -c 'find /dev -type b | wc -l'" "0\n"

# fd and cwd leaks (CVE-2024-21626): only 0, 1, 2 (and ls's own dir fd), cwd inside the root
testing "run: no leaked fds" "'$MD' run --rm busybox sh -c 'ls /proc/self/fd | sort -n | tr \"\\n\" \" \"'" "0 1 2 3 "
testing "run: cwd is / of the container" "'$MD' run --rm busybox sh -c 'readlink /proc/self/cwd; readlink /proc/1/cwd'" "/\n/\n"
testing "run -w: cwd inside" "'$MD' run --rm -w /tmp busybox sh -c 'cd ..; pwd; ls -d /proc/self/cwd/../../.. >/dev/null; readlink /proc/self/cwd'" "/\n/\n"
CID=$("$MD" run -d busybox sleep 300)
at_exit "'$MD' rm -f $CID"
testing "exec: no leaked fds" "'$MD' exec $CID sh -c 'ls /proc/self/fd | sort -n | tr \"\\n\" \" \"'" "0 1 2 3 "
testing "exec: cwd inside the container" "'$MD' exec $CID sh -c 'readlink /proc/self/cwd'" "/\n"
testing "exec: fds of every process point inside" "'$MD' exec $CID sh -c 'for p in /proc/[0-9]*; do ls -l \$p/fd 2>/dev/null; done | grep -c \" -> /work\" || :'" "0\n"

# CVE-2019-5736: a container process tries to open every mydocker process's /proc/PID/exe for
# writing while the host runs run and exec against it; the binary must stay the same.
cat > "$T/attack.sh" <<'A'
end=$(( $(date +%s) + 4 ))
while [ $(date +%s) -lt $end ]; do
	for p in /proc/[0-9]*; do
		[ "$p" = /proc/$$ ] && continue
		case $(readlink $p/exe 2>/dev/null)/$(cat $p/comm 2>/dev/null) in
		*/mydocker*|*memfd*|*"(deleted)"*|*/md|*/mydocker) echo "$p" >> /tmp/seen ;; esac
		{ echo '#!/bin/sh' >> $p/exe; } 2>/dev/null && echo "WROTE $p" >> /tmp/wrote
		{ echo '#!/bin/sh' > /proc/self/fd/9; } 9>>$p/exe 2>/dev/null && echo "WROTE9 $p" >> /tmp/wrote
	done
done
cat /tmp/wrote 2>/dev/null
echo "seen $(sort -u /tmp/seen 2>/dev/null | wc -l)"
A
A=$("$MD" run -d -v "$T:/t:ro" busybox sh /t/attack.sh)
at_exit "'$MD' rm -f $A"
# with --init, PID 1 of the container is mydocker itself for the container's whole life
AI=$("$MD" run -d --init -v "$T:/t:ro" busybox sh /t/attack.sh)
at_exit "'$MD' rm -f $AI"
i=0; while [ $i -lt 15 ]; do "$MD" exec "$A" true >/dev/null 2>&1; "$MD" exec "$A" sh -c 'sleep 0.05' >/dev/null 2>&1; i=$((i + 1)); done
"$MD" run --rm busybox true >/dev/null 2>&1
sleep 4.5
SEEN=$("$MD" logs "$A" 2>/dev/null | sed -n 's/^seen //p')
testing "/proc/PID/exe of mydocker processes ($SEEN seen from inside) never opened for writing" "'$MD' logs $A | grep -c WROTE || :" "0\n"
SEEN=$("$MD" logs "$AI" 2>/dev/null | sed -n 's/^seen //p')
testing "--init: /proc/1/exe (mydocker, $SEEN seen) never opened for writing" "'$MD' logs $AI | grep -c WROTE || :" "0\n"
testing "the host binary's sha256 is unchanged" "sha256sum '$(readlink -f "$MD")' | cut -c1-64" "$SUM0\n"

# cgroup release_agent
testing "cgroup release_agent not writable" "'$MD' run --rm busybox sh -c 'n=0; for f in /sys/fs/cgroup/*/release_agent /sys/fs/cgroup/release_agent; do [ -e \$f ] || continue; echo /x > \$f 2>/dev/null && n=\$((n+1)); done; echo \$n'" "0\n"
testing "cgroup notify_on_release not writable" "'$MD' run --rm busybox sh -c 'n=0; for f in /sys/fs/cgroup/*/notify_on_release /sys/fs/cgroup/*/*/notify_on_release; do [ -e \$f ] || continue; echo 1 > \$f 2>/dev/null && n=\$((n+1)); done; echo \$n'" "0\n"

# limits, when run has them
if "$MD" run --help 2>&1 | grep -q -- --pids-limit; then
	# 60 sleepers at most even if nothing contained them; counted with shell builtins only
	testing "fork bomb contained by --pids-limit 20" "'$MD' run --rm --pids-limit 20 busybox sh -c '( i=0; while [ \$i -lt 60 ]; do sleep 30 & i=\$((i+1)); done ) 2>/dev/null; set -- /proc/[0-9]*; [ \$# -le 21 ] && echo contained || echo \$# processes; kill -9 -1' 2>/dev/null | tail -n 1" "contained\n"
else
	_fail "run has --pids-limit"
fi
if "$MD" run --help 2>&1 | grep -q -- --memory; then
	"$MD" run --name hog -m 16m busybox dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null 2>&1; rc=$?
	at_exit "'$MD' rm -f hog"
	check "memory hog (64M buffer under -m 16m) killed: exit 137 (got $rc)" test "$rc" = 137
	testing "memory hog: OOMKilled recorded" "'$MD' inspect hog | grep -o '\"OOMKilled\": *true' | tr -d ' '" "\"OOMKilled\":true\n"
	check "the host test shell lives on" kill -0 $$
else
	_fail "run has -m"
fi
