#!/bin/sh
# Soak (make soak): SOAK_N (default 1000) `run --rm` cycles with a volume, and limits and a bridge
# network when run has them, next to one long-lived detached container. Nothing may grow: mounts,
# links, cgroup dirs, nf_tables tables, open fds of the lingering monitor and container, processes,
# state dirs, lock files, disk use of the state root. Prints the figures. Then the long variants:
# t_crash for SOAK_CRASH_SECS (default 600) and t_parallel with 50 containers.
. "$(dirname "$0")/lib.sh"
need_root
NETP=mds$(printf '%04x' $(($$ % 65536)))
. "$TOP/tests/host_state.sh"
N=${SOAK_N:-1000}
import_busybox
has_flag() { "$MD" run --help 2>&1 | grep -q -- "$1"; }
OPTS=""
has_flag --pids-limit && OPTS="$OPTS --pids-limit 50"
has_flag --memory && OPTS="$OPTS -m 32m"
has_flag --cpus && OPTS="$OPTS --cpus 0.5"
NET=""
if "$MD" --list | grep -qx net && command -v ip >/dev/null 2>&1; then
	for x in $(seq 150 249); do ip -o route | grep -q "^10\.$x\." || { SUB=10.$x.0.0/24; break; }; done
	at_exit "'$MD' net rm ${NETP}n"
	"$MD" net create --subnet "$SUB" "${NETP}n" >/dev/null 2>&1 && NET=${NETP}n && OPTS="$OPTS --net $NET"
fi
mkdir -p "$T/vol"
at_exit "pkill -9 -f '^sleep $MARK'"
L=$("$MD" run -d $OPTS busybox sleep $MARK)
at_exit "'$MD' rm -f $L"
sleep 0.5
LPID=$("$MD" inspect "$L" | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["State"]; print(s["Pid"], s["MonitorPid"])')
fds() { for p in $LPID; do ls /proc/$p/fd 2>/dev/null | wc -l; done | tr '\n' '/'; }
figures() {
	printf 'mounts(host total)=%s mounts(ours)=%s links(total)=%s cgroups(mydocker, all roots)=%s nft tables=%s ' \
		"$(wc -l < /proc/self/mountinfo)" "$(grep -cF " $T/" /proc/self/mountinfo)" \
		"$(ip -o link 2>/dev/null | wc -l)" "$(ls -d /sys/fs/cgroup/*/mydocker/*/ /sys/fs/cgroup/mydocker/*/ 2>/dev/null | wc -l)" \
		"$(nft list tables 2>/dev/null | wc -l)"
	printf 'lingering fds(container/monitor)=%s our processes=%s state dirs=%s locks=%s disk(KiB)=%s\n' \
		"$(fds)" "$(our_md_pids | wc -l)" "$(ls -A "$MYDOCKER_ROOT/containers" | wc -l)" \
		"$(ls -A "$MYDOCKER_ROOT/locks" | wc -l)" "$(du -sk "$MYDOCKER_ROOT" | cut -f1)"
}
# warm up once (first-use dirs, the network's first container), then measure
"$MD" run --rm $OPTS -v "$T/vol:/v" busybox sh -c 'echo warm > /v/warm' >/dev/null
B=$(host_state) F0=$(figures) FD0=$(fds)
echo "soak: $N cycles of run --rm$OPTS -v VOL:/v"
echo "before: $F0"
t0=$(date +%s) fails=0 i=0
while [ $i -lt $N ]; do
	out=$("$MD" run --rm $OPTS -v "$T/vol:/v" busybox sh -c "echo $i > /v/last; cat /v/last" 2>&1)
	[ "$out" = "$i" ] || { fails=$((fails + 1)); [ $fails -le 5 ] && echo "cycle $i: $out"; }
	i=$((i + 1))
	[ $((i % 100)) = 0 ] && echo "  $i cycles, $(($(date +%s) - t0)) s: $(figures)"
done
t1=$(date +%s)
F1=$(figures) FD1=$(fds)
echo "after:  $F1"
echo "soak: $N cycles in $((t1 - t0)) s, $fails failed"
check "$N run --rm cycles all succeed ($fails failed)" test $fails = 0
check "open fds of the lingering container/monitor unchanged ($FD0 -> $FD1)" test "$FD0" = "$FD1"
S=$(host_state)
if [ "$S" = "$B" ]; then _pass "no growth in mounts, cgroups, links, nft tables, processes, state dirs, locks"
else _fail "no growth in mounts, cgroups, links, nft tables, processes, state dirs, locks" "$(printf '%s\n' "$S" | grep -vxF "$B" | head)"; fi
d0=$(printf '%s' "$F0" | sed 's/.*disk(KiB)=//') d1=$(printf '%s' "$F1" | sed 's/.*disk(KiB)=//')
check "disk use of the state root did not grow ($d0 -> $d1 KiB, 64 KiB slack for logs)" test $((d1 - d0)) -le 64
m0=$(printf '%s' "$F0" | sed 's/.*mounts(ours)=\([0-9]*\).*/\1/') m1=$(printf '%s' "$F1" | sed 's/.*mounts(ours)=\([0-9]*\).*/\1/')
check "host mounts under the test dir unchanged ($m0 -> $m1)" test "$m0" = "$m1"
"$MD" rm -f "$L" >/dev/null
[ "${SOAK_LONG:-1}" = 1 ] || exit 0
echo "soak: t_crash for ${SOAK_CRASH_SECS:-600} s"
CRASH_SECS=${SOAK_CRASH_SECS:-600} sh "$TOP/tests/t_crash.sh"
echo "soak: t_parallel with 50 containers"
PAR_N=50 sh "$TOP/tests/t_parallel.sh"
