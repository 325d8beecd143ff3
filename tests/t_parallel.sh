# Parallel load: PAR_N (default 20) concurrent run -d (distinct names: all running, distinct ids,
# distinct addresses on one bridge network when `net` exists), PAR_N concurrent rm -f, concurrent
# runs with the same --name (exactly one wins), concurrent imports of one tarball (one layer),
# concurrent net create of one name (exactly one wins). Afterwards the host is as before.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || { skip "parallel load" "python3 missing"; exit 0; }
NETP=mdp$(printf '%04x' $(($$ % 65536)))
. "$TOP/tests/host_state.sh"
N=${PAR_N:-20}
import_busybox
at_exit "pkill -9 -f '^sleep $MARK'"
NET=""
if "$MD" --list | grep -qx net && command -v ip >/dev/null 2>&1; then
	for x in $(seq 200 249); do ip -o route | grep -q "^10\.$x\." || { SUB=10.$x.0.0/24; break; }; done
	at_exit "'$MD' net rm ${NETP}n; '$MD' net rm ${NETP}same"
	"$MD" net create --subnet "$SUB" "${NETP}n" >/dev/null 2>&1 && NET=${NETP}n
fi
[ -n "$NET" ] || skip "parallel: distinct addresses" "net applet or ip missing, or net create failed"
BASE=$(host_state)

# N concurrent run -d
i=0
while [ $i -lt $N ]; do
	( "$MD" run -d --name "par$i" ${NET:+--net "$NET"} busybox sleep $MARK > "$T/run.$i" 2>&1; echo $? > "$T/rc.$i" ) &
	i=$((i + 1))
done
wait
testing "$N concurrent run -d all succeed" "cat rc.* | sort -u" "0\n"
testing "$N distinct ids" "cat run.* | sort -u | grep -Ec '^[0-9a-f]{64}\$'" "$N\n"
testing "all $N running" "'$MD' ps | grep -c ' par[0-9]*\$'" "$N\n"
if [ -n "$NET" ]; then
	for i in $(seq 0 $((N - 1))); do
		"$MD" inspect "par$i" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get("IPAddress"))'
	done > "$T/ips"
	testing "$N distinct addresses on $NET" "grep -c '^10\.' ips; sort -u ips | wc -l" "$N\n$N\n"
fi

# N concurrent rm -f
for i in $(seq 0 $((N - 1))); do "$MD" rm -f "par$i" > "$T/rm.$i" 2>&1 & done
wait
testing "$N concurrent rm -f: all gone" "'$MD' ps -aq | wc -l" "0\n"
ids_seen

# same name, 10 at once: exactly one wins
for i in $(seq 1 10); do
	( "$MD" run -d --name same busybox sleep $MARK > "$T/same.$i" 2>&1; echo $? > "$T/samerc.$i" ) &
done
wait
testing "10 concurrent runs with one --name: exactly one wins" "cat samerc.* | grep -cx 0" "1\n"
testing "the others are refused: name already in use" "grep -l 'already in use' same.* | wc -l" "9\n"
testing "and one such container exists" "'$MD' ps -a | grep -c ' same\$'" "1\n"
ids_seen
"$MD" rm -f same >/dev/null

# concurrent imports of one tarball: one layer, every tag
for i in $(seq 1 8); do ( "$MD" import -q "$TOP/rootfs/busybox.tar" "conc:$i" > /dev/null 2> "$T/imp.$i"; echo $? > "$T/imprc.$i" ) & done
wait
testing "8 concurrent imports all succeed" "cat imprc.* | sort -u" "0\n"
testing "one layer for them all" "ls '$MYDOCKER_ROOT/images/layers' | wc -l" "1\n"
testing "every tag is there, one image id" "'$MD' images | grep -c '^conc '; '$MD' images -q | sort -u | wc -l" "8\n1\n"
check "no staging dir left" sh -c "[ -z \"\$(ls -A '$MYDOCKER_ROOT/images/tmp')\" ]"

# concurrent net create of one name: exactly one wins
if [ -n "$NET" ]; then
	for x in $(seq 100 149); do ip -o route | grep -q "^10\.$x\." || { SUB2=10.$x.0.0/24; break; }; done
	for i in $(seq 1 8); do ( "$MD" net create --subnet "$SUB2" "${NETP}same" > /dev/null 2>&1; echo $? > "$T/netrc.$i" ) & done
	wait
	testing "8 concurrent net create of one name: exactly one wins" "cat netrc.* | grep -cx 0" "1\n"
	"$MD" net rm "${NETP}same" >/dev/null 2>&1
fi
"$MD" run --rm busybox true >/dev/null 2>&1	# a create sweeps what killed creators left
NOW=$(host_state)
if [ "$NOW" = "$BASE" ]; then _pass "host back to its starting state"
else _fail "host back to its starting state" "$(printf '%s\n' "$NOW" | grep -vxF "$BASE" | head -20)"; fi
