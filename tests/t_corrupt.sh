# Corrupt state: container records (truncated, empty, garbage, huge, deeply nested, duplicate keys,
# wrong types, symlinks, lying pids) and image store files (repositories.json, image configs).
# ps -a still lists everything and marks the bad ones, inspect fails cleanly, rm -f removes them,
# nothing outside the state root is touched, nothing crashes.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || { skip "corrupt state" "python3 missing"; exit 0; }
import_busybox
C=$MYDOCKER_ROOT/containers

# fails_cleanly NAME COMMAND...: exit 1..125 (never a signal), exactly one stderr line "mydocker: ..."
fails_cleanly() {
	_n=$1; shift
	_o=$("$@" 2>&1 >/dev/null); _r=$?
	if [ $_r -ge 1 ] && [ $_r -le 125 ] && [ "$(printf '%s\n' "$_o" | wc -l)" = 1 ] &&
	   printf '%s' "$_o" | grep -q '^mydocker: '; then _pass "$_n"
	else _fail "$_n" "exit $_r: $(printf '%s' "$_o" | head -c 400)"; fi
}

G=$("$MD" run -d --name good busybox sleep 1000)
"$MD" run --name tmpl busybox true
TMPL=$("$MD" inspect tmpl >/dev/null 2>&1; ls "$C" | while read -r i; do [ "$i" != "$G" ] && echo "$i"; done)
sleep 1000 & VICTIM_PID=$!
at_exit "kill $VICTIM_PID"
mkdir -p "$T/victimdir" && echo precious > "$T/victimdir/file"
PASSWD_SUM=$(sha256sum /etc/passwd)

# mk KIND: a fresh exited container whose config.json is then replaced by KIND; prints its id
mk() {
	"$MD" run --name "bad-$1" busybox true
	_id=$("$MD" ps -aq --no-trunc 2>/dev/null | while read -r i; do
		grep -q "\"bad-$1\"" "$C/$i/config.json" 2>/dev/null && echo "$i"; done)
	[ -n "$_id" ] || _id=$(grep -l "\"bad-$1\"" "$C"/*/config.json | head -n 1 | xargs dirname | xargs basename)
	python3 - "$C/$_id/config.json" "$1" "$G" "$VICTIM_PID" <<'PY'
import json, os, random, sys
path, kind, good, vpid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
text = open(path).read()
doc = json.loads(text)
def raw(s):
    os.unlink(path)
    with open(path, "w") as f: f.write(s)
if kind == "truncated": raw(text[:len(text) // 2])
elif kind == "empty": raw("")
elif kind == "garbage":
    random.seed(7); os.unlink(path); open(path, "wb").write(bytes(random.getrandbits(8) for _ in range(4096)))
elif kind == "huge": raw("{" + " " * (5 << 20) + "}")
elif kind == "nested-arrays": raw("[" * 200000)
elif kind == "nested-objects": raw('{"a":' * 50000 + "1" + "}" * 50000)
elif kind == "dup-id": raw(text.rstrip()[:-1] + ', "Id": "%s"}' % good)
elif kind == "dup-name": raw(text.rstrip()[:-1] + ', "Name": "good"}')
elif kind == "wrong-types":
    doc["State"] = []; doc["Args"] = 5; raw(json.dumps(doc))
elif kind == "wrong-types2":
    doc["State"]["Pid"] = "12"; doc["Name"] = 7; raw(json.dumps(doc))
elif kind == "nul-name": raw(text.replace('"bad-nul-name"', '"bad\\u0000x"'))
elif kind == "not-object": raw('["Id"]')
elif kind == "symlink-passwd": os.unlink(path); os.symlink("/etc/passwd", path)
elif kind == "symlink-other": os.unlink(path); os.symlink("../%s/config.json" % good, path)
elif kind == "lying-pid":
    # "running" as an unrelated host process, with a start time that is not that process's
    s = doc["State"]; s.update(Status="running", Running=True, Pid=vpid, PidStart=12345, MonitorPid=vpid)
    raw(json.dumps(doc))
elif kind == "huge-strings":
    doc["Env"] = ["X=" + "y" * 100000] * 30; raw(json.dumps(doc))
PY
	echo "$_id"
}
KINDS="truncated empty garbage huge nested-arrays nested-objects dup-id dup-name wrong-types wrong-types2
	nul-name not-object symlink-passwd symlink-other lying-pid huge-strings"
IDS=""
for k in $KINDS; do
	id=$(mk "$k" 2>/dev/null | tail -n 1)
	IDS="$IDS $k=$id"
done
# a container dir that is a symlink to a directory outside the root, and a stray file
LINKID=$(printf 'ab%.0s' $(seq 1 32))
ln -s "$T/victimdir" "$C/$LINKID"
FILEID=$(printf 'cd%.0s' $(seq 1 32))
echo junk > "$C/$FILEID"
mkdir "$C/not-an-id" && cp "$C/$G/config.json" "$C/not-an-id/"

"$MD" ps -a > "$T/ps.out" 2> "$T/ps.err"; rc=$?
check "ps -a exits 0 among corrupt records" test $rc = 0
check "ps -a: stderr quiet" test ! -s "$T/ps.err"
check "ps -a still shows the good container running" grep -Eq "^$(echo "$G" | cut -c1-12) .* Up " "$T/ps.out"
check "ps (running only) works" sh -c "'$MD' ps | grep -q ' good\$'"
check "ps --format json is valid JSON" sh -c "'$MD' ps -a --format json | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin if l.strip()]' ||
	'$MD' ps -a --format json | python3 -c 'import json,sys; json.load(sys.stdin)'"
for kv in $IDS; do
	k=${kv%%=*} id=${kv#*=}
	[ -n "$id" ] || { _fail "$k: set up"; continue; }
	short=$(echo "$id" | cut -c1-12)
	case $k in
	huge-strings|wrong-types2|nul-name)	# may parse or not
		check "$k: listed by ps -a" grep -q "^$short " "$T/ps.out" ;;
	lying-pid)
		check "$k: listed, not Up" sh -c "grep '^$short ' '$T/ps.out' | grep -vq ' Up '" ;;
	wrong-types)	# inspect may show the stored JSON as it is
		check "$k: listed and marked corrupt by ps -a" sh -c "grep '^$short ' '$T/ps.out' | grep -Eiq 'corrupt|dead'"
		"$MD" inspect "$id" > "$T/insp" 2>"$T/insp.err"; rc=$?
		check "$k: inspect fails cleanly or shows the stored JSON" sh -c \
			"[ $rc = 0 ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '$T/insp' ||
			 { [ $rc -ge 1 ] && [ $rc -le 125 ] && [ \$(wc -l < '$T/insp.err') = 1 ]; }" ;;
	*)
		check "$k: listed and marked corrupt by ps -a" sh -c "grep '^$short ' '$T/ps.out' | grep -Eiq 'corrupt|dead'"
		fails_cleanly "$k: inspect fails cleanly" "$MD" inspect "$id" ;;
	esac
done
check "dup-id: inspect of the good id still shows the good one" sh -c "'$MD' inspect '$G' | grep -q '\"good\"'"
check "name lookup of the good one works" sh -c "'$MD' inspect good | grep -q '$G'"
check "a new container can be created among corrupt ones" "$MD" run --rm --name fresh busybox true
fails_cleanly "the name of a running container cannot be taken" "$MD" run --name good busybox true
check "symlinked container dir: not followed by ps" test -f "$T/victimdir/file"

for kv in $IDS; do
	k=${kv%%=*} id=${kv#*=}
	[ -n "$id" ] || continue
	expect_rc "$k: rm -f removes it" 0 "$MD" rm -f "$id"
	check "$k: its dir is gone" test ! -e "$C/$id"
done
"$MD" rm -f "$LINKID" >/dev/null 2>&1
check "rm -f of a symlinked container dir removes nothing outside" sh -c "[ \"\$(cat '$T/victimdir/file')\" = precious ]"
"$MD" rm -f "$FILEID" >/dev/null 2>&1; rc=$?
check "rm -f of a stray file does not crash" test $rc -lt 128
check "the lying pid was never signalled" kill -0 "$VICTIM_PID"
check "/etc/passwd untouched" sh -c "[ \"\$(sha256sum /etc/passwd)\" = '$PASSWD_SUM' ]"
check "the good container is still running" sh -c "'$MD' ps | grep -q '$(echo "$G" | cut -c1-12)'"
check "the good container's record survived" sh -c "'$MD' inspect '$G' | python3 -c 'import json,sys; json.load(sys.stdin)'"
"$MD" rm -f "$G" >/dev/null
rm -rf "$C/not-an-id" "$C/$LINKID" "$C/$FILEID"

# --- image store ---------------------------------------------------------------------------
R=$MYDOCKER_ROOT/images/repositories.json
cp "$R" "$T/repos.good"
IID=$("$MD" images -q --no-trunc | head -n 1)
CFG=$MYDOCKER_ROOT/images/configs/$IID.json
cp "$CFG" "$T/cfg.good"
corrupt_repos() {	# KIND CONTENT
	rm -f "$R"; printf '%b' "$2" > "$R"
	fails_cleanly "repositories.json $1: run fails cleanly" "$MD" run --rm busybox true
	"$MD" images >/dev/null 2>"$T/err"; rc=$?
	check "repositories.json $1: images does not crash" sh -c "[ $rc -le 125 ] && [ \$(wc -l < '$T/err') -le 1 ]"
	rm -f "$R"; cp "$T/repos.good" "$R"
}
corrupt_repos truncated '{"busybox:latest": "sha256:'
corrupt_repos empty ''
corrupt_repos garbage '\x01\x02\xff\xfe{{{'
corrupt_repos wrong-type '{"busybox:latest": 5}'
corrupt_repos bad-id '{"busybox:latest": "sha256:../../../../etc/passwd"}'
corrupt_repos not-object '["busybox:latest"]'
corrupt_repos nested "$(python3 -c 'print("[" * 100000, end="")')"
rm -f "$R"; ln -s /etc/passwd "$R"
fails_cleanly "repositories.json symlink to /etc/passwd: run fails cleanly" "$MD" run --rm busybox true
"$MD" import -q "$TOP/rootfs/busybox.tar" other:1 >/dev/null 2>&1
check "repositories.json symlink: /etc/passwd untouched by a later import" sh -c "[ \"\$(sha256sum /etc/passwd)\" = '$PASSWD_SUM' ]"
rm -f "$R"; cp "$T/repos.good" "$R"

corrupt_cfg() {	# KIND CONTENT
	rm -f "$CFG"; printf '%b' "$2" > "$CFG"
	fails_cleanly "image config $1: run fails cleanly" "$MD" run --rm busybox true
	"$MD" inspect busybox >/dev/null 2>"$T/err"; rc=$?
	check "image config $1: inspect does not crash" test $rc -lt 125
	"$MD" images >/dev/null 2>&1; rc=$?
	check "image config $1: images does not crash" test $rc -lt 125
}
corrupt_cfg truncated "$(head -c 40 "$T/cfg.good")"
corrupt_cfg empty ''
corrupt_cfg wrong-types '{"rootfs": {"diff_ids": 5}, "config": []}'
corrupt_cfg unknown-layer '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}'
corrupt_cfg escaping-layer '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:../../../../../etc"]}}'
rm -f "$CFG"
fails_cleanly "image config missing: run fails cleanly" "$MD" run --rm busybox true
cp "$T/cfg.good" "$CFG"
testing "restored store works again" "'$MD' run --rm busybox echo ok" "ok\n"
