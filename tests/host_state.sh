# tests/host_state.sh: sourced after tests/lib.sh by the crash, parallel and soak tests.
# host_state prints what this test's containers may leave on the host, one "kind: item" per line,
# so that two snapshots can be compared: mounts under $T, cgroup dirs of our container ids,
# links named after our ids or $NETP (network prefix), nf_tables tables of our networks, mydocker
# processes working for our root, container processes running our marker command, state dirs,
# lock files and staging dirs under our root.
# IDS_FILE collects every container id the test has seen (ids_seen adds the current ones).
IDS_FILE=$T/ids.seen
: > "$IDS_FILE"
NETP=${NETP:-}
MARK=${MARK:-$((70000 + $$ % 20000))}	# containers run "sleep $MARK": a findable command line
ids_seen() {
	ls "$MYDOCKER_ROOT/containers" 2>/dev/null | grep -E '^[0-9a-f]{64}$' >> "$IDS_FILE"
	sort -u -o "$IDS_FILE" "$IDS_FILE"
}
# pids of mydocker processes (CLI, monitor) whose environment names our state root
our_md_pids() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$(readlink -f "$MD")" ] || continue
		tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qx "MYDOCKER_ROOT=$MYDOCKER_ROOT" && echo "${p#/proc/}"
	done
}
host_state() {
	ids_seen
	grep -F " $T/" /proc/self/mountinfo | awk '{print "mount: " $5}'
	for d in /sys/fs/cgroup/*/mydocker/* /sys/fs/cgroup/mydocker/*; do
		[ -d "$d" ] && grep -qx "$(basename "$d")" "$IDS_FILE" && echo "cgroup: $d"
	done
	for l in $(ip -o link 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
		case $l in veth*) grep -q "^${l#veth}" "$IDS_FILE" && echo "link: $l" ;; esac
		[ -n "$NETP" ] && case $l in md-$NETP*) echo "link: $l" ;; esac
	done
	if [ -n "$NETP" ] && command -v nft >/dev/null 2>&1; then
		nft list tables 2>/dev/null | grep -F "$NETP" | sed 's/^/nft: /'
	fi
	our_md_pids | sed 's/^/mydocker process: /'
	pgrep -f "^sleep $MARK" | sed 's/^/container process: /'
	ctr_entries | sed 's/^/state dir: /'
	# a spare workspace is three empty directories (but for the last overlay's own work dir, set
	# aside as work/old and holding only empty files), never anything of a removed container
	for s in "$MYDOCKER_ROOT"/containers/.spare*; do
		[ -d "$s" ] && [ "$(ls -A "$s" | tr '\n' ' ')$(find "$s" -mindepth 2 ! -path "$s/work/old" ! -path "$s/work/old/*" | head -n 1)$(find "$s/work/old" -type f -size +0 2>/dev/null | head -n 1)" != "merged upper work " ] &&
			echo "unclean spare: $s"
	done
	ls -A "$MYDOCKER_ROOT/locks" 2>/dev/null | grep '^ctr-' | sed 's/^/lock: /'
	ls -A "$MYDOCKER_ROOT/images/tmp" 2>/dev/null | sed 's/^/staging: /'
}
# every state file parses (records, networks, image configs, repositories), and none that ps calls Up has a dead PID 1; prints the problems
state_truth() {
	python3 - "$MYDOCKER_ROOT" <<'PY'
import glob, json, sys
r = sys.argv[1]
for f in (glob.glob(r + "/containers/*/config.json") + glob.glob(r + "/networks/*.json") +
          glob.glob(r + "/images/configs/*.json") + glob.glob(r + "/images/repositories.json")):
    try:
        json.load(open(f))
    except FileNotFoundError:
        pass	# removed meanwhile
    except Exception as e:
        print("unparsable: %s: %s" % (f, e))
PY
	"$MD" ps -a --no-trunc 2>&1 | awk 'NR>1' | while read -r line; do
		id=${line%% *}
		case $line in
		*corrupt*|*Dead*) echo "corrupt: $line" ;;
		*" Up "*)
			pid=$("$MD" inspect "$id" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])' 2>/dev/null)
			[ -n "$pid" ] && [ "$pid" != 0 ] && kill -0 "$pid" 2>/dev/null ||
				echo "Up but PID 1 ($pid) is dead: $line" ;;
		esac
	done
}
