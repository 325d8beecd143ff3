# Crash consistency: kill -9 the CLI, the monitor or the container at a random moment (0-200 ms)
# during run -d, run (foreground), start, stop, rm, import (and commit, load, net create/rm when
# those applets exist), for CRASH_SECS seconds (default 60; `make soak` runs it longer).
# After every round each record parses and ps -a tells the truth (no "Up" with a dead PID 1);
# at the end the survivors still start, and rm -f of everything returns the host to where it was:
# no mounts, cgroups, links, nf_tables tables, processes, state dirs, locks or staging dirs.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || { skip "crash consistency" "python3 missing"; exit 0; }
NETP=mdk$(printf '%04x' $(($$ % 65536)))
. "$TOP/tests/host_state.sh"
CRASH_SECS=${CRASH_SECS:-60}
import_busybox
has() { "$MD" --list | grep -qx "$1"; }
NET=""
if has net && command -v ip >/dev/null 2>&1; then
	for x in $(seq 150 199); do ip -o route | grep -q "^10\.$x\." || { SUB=10.$x.0.0/24; break; }; done
	for x in $(seq $((x + 1)) 199); do ip -o route | grep -q "^10\.$x\." || { SUBC=10.$x.0.0/24; break; }; done
	at_exit "'$MD' net rm ${NETP}n; '$MD' net rm ${NETP}c"
	"$MD" net create --subnet "$SUB" "${NETP}n" >/dev/null 2>&1 && NET=${NETP}n
fi
[ -n "$NET" ] || _fail "crash: net create of a bridge network for the containers"
has load && has save && "$MD" save -o "$T/saved.tar" busybox >/dev/null 2>&1 || rm -f "$T/saved.tar"
at_exit "pkill -9 -f '^sleep $MARK'"
BASE=$(host_state)

# deterministic leftovers of killed commands, swept by the next create: a half-made record
# (.<id>.new), a half-removed one (.<id>.rm) and a lock file without a container
C=$MYDOCKER_ROOT/containers
X=$("$MD" run -d busybox sleep $MARK)
"$MD" stop -t 0 "$X" >/dev/null 2>&1
mv "$C/$X" "$C/.$X.rm"
Y=$(printf 'ef%.0s' $(seq 1 32))
mkdir -p "$C/.$Y.new/upper" && touch "$MYDOCKER_ROOT/locks/ctr-$Y"
check "leftovers of killed commands are invisible to ps -a" sh -c "[ -z \"\$('$MD' ps -aq)\" ]"
"$MD" run --rm busybox true
testing "the next create sweeps them" "ctr_entries | wc -l; ls '$MYDOCKER_ROOT/locks' | grep -c '^ctr-' || :" "0\n0\n"
ids_seen

pick_id() {	# a random container id of ours, in state $1 (running|any)
	if [ "$1" = running ]; then "$MD" ps -q --no-trunc 2>/dev/null; else "$MD" ps -aq --no-trunc 2>/dev/null; fi |
		awk -v r="$(rnd)" '{a[NR]=$0} END{if (NR) print a[r % NR + 1]}'
}
# kill -9 one of: the CLI ($1), one of our monitors, or one of our containers' processes
victim() {
	case $(($(rnd) % 3)) in
	0) echo "$1" ;;
	1) our_md_pids | grep -vx "$1" | awk -v r="$(rnd)" '{a[NR]=$0} END{if (NR) print a[r % NR + 1]}' ;;
	2) pgrep -f "^sleep $MARK" | awk -v r="$(rnd)" '{a[NR]=$0} END{if (NR) print a[r % NR + 1]}' ;;
	esac
}
OPS="run run runfg start stop rm import"
has commit && OPS="$OPS commit"
[ -f "$T/saved.tar" ] && OPS="$OPS load"
has net && [ -n "$NET" ] && OPS="$OPS netcreate netrm"
nops=$(echo $OPS | wc -w)
rounds=0 kills=0 bad=0
for i in 1 2 3; do "$MD" run -d ${NET:+--net "$NET"} busybox sleep $MARK >/dev/null; done	# something to hit
end=$(($(date +%s) + CRASH_SECS))
while [ "$(date +%s)" -lt $end ]; do
	rounds=$((rounds + 1))
	op=$(echo $OPS | cut -d' ' -f$(($(rnd) % nops + 1)))
	netopt=""
	[ -n "$NET" ] && [ $(($(rnd) % 2)) = 0 ] && netopt="--net $NET"
	case $op in
	run)	"$MD" run -d $netopt busybox sleep $MARK ;;
	runfg)	"$MD" run --rm $netopt busybox sleep $MARK ;;
	start)	id=$(pick_id any); [ -n "$id" ] && "$MD" start "$id" ;;
	stop)	id=$(pick_id running); [ -n "$id" ] && "$MD" stop -t 1 "$id" ;;
	rm)	id=$(pick_id any); [ -n "$id" ] && "$MD" rm -f "$id" ;;
	import)	"$MD" import -q "$TOP/rootfs/busybox.tar" "crash:$rounds" ;;
	commit)	id=$(pick_id any); [ -n "$id" ] && "$MD" commit "$id" "crashc:$rounds" ;;
	load)	"$MD" load -q -i "$T/saved.tar" ;;
	netcreate) "$MD" net create --subnet "${SUBC:-10.199.0.0/24}" "${NETP}c" ;;
	netrm)	"$MD" net rm "${NETP}c" ;;
	esac > /dev/null 2>&1 &
	cli=$!
	sleep "0.$(printf '%03d' $(($(rnd) % 200)))"
	v=$(victim $cli)
	kill -9 "${v:-$cli}" 2>/dev/null && kills=$((kills + 1)) && k=killed || k=missed
	[ -n "${CRASH_V:-}" ] && echo "round $rounds: $op, victim ${v:-cli $cli}: $k"
	# a foreground run whose CLI survived would wait forever: end its container
	[ $op = runfg ] && { sleep 0.2; kill -9 $cli 2>/dev/null; }
	wait $cli 2>/dev/null
	ids_seen
	# keep the population small
	if [ "$(ls "$MYDOCKER_ROOT/containers" | wc -l)" -gt 8 ]; then
		for id in $("$MD" ps -aq --no-trunc | tail -n 4); do "$MD" rm -f "$id" >/dev/null 2>&1; done
	fi
	if [ $((rounds % 5)) = 0 ]; then
		out=$(state_truth)
		[ -n "$out" ] && { bad=$((bad + 1)); _fail "round $rounds ($op): state tells the truth" "$out"; }
	fi
done
echo "crash: $rounds rounds, $kills kill -9s, ops: $OPS"
out=$(state_truth)
[ -z "$out" ] && [ $bad = 0 ] && _pass "$rounds rounds with $kills kill -9s: every record parses, ps -a tells the truth"
[ -n "$out" ] && _fail "after all rounds: state tells the truth" "$out"
check "ps -a works" "$MD" ps -a
# the survivors can still be started
n=0 okc=0
for id in $("$MD" ps -aq --no-trunc | head -n 3); do
	n=$((n + 1))
	"$MD" start "$id" >/dev/null 2>&1 || "$MD" ps -a --no-trunc | grep "^$id" | grep -q " Up " && okc=$((okc + 1))
done
check "survivors start again ($okc of $n)" test $okc = $n
for id in $("$MD" ps -aq --no-trunc); do "$MD" rm -f "$id" >/dev/null 2>&1; done
"$MD" net rm "${NETP}c" >/dev/null 2>&1
"$MD" import -q "$TOP/rootfs/busybox.tar" sweep:1 >/dev/null 2>&1	# sweeps dead imports' staging
sleep 0.5
NOW=$(host_state)
if [ "$NOW" = "$BASE" ]; then _pass "rm -f of everything returns the host to its starting state"
else _fail "rm -f of everything returns the host to its starting state" "$(printf '%s\n' "$NOW" | grep -vxF "$BASE" | head -20)"; fi
