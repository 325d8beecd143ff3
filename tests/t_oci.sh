#!/bin/sh
# OCI runtime mode: the runc applet driven directly (create/start/state/kill/delete on a bundle) and
# by Debian's containerd 1.6 through `ctr run --runc-binary`, with Debian's crun as the reference:
# every ctr check runs with both runtimes and must give the same observable result.
. "$(dirname "$0")/lib.sh"
need_root

# a copy of the binary: a rebuild meanwhile must not pull it away under containerd
RUNC=$T/bin/mydocker-runc
mkdir -p "$T/bin" && ln -s mydocker "$RUNC"
for i in 1 2 3 4 5; do	# (a complete one: not caught half-written by a concurrent make)
	cp "$MD" "$T/bin/mydocker" && chmod 755 "$T/bin/mydocker" && "$RUNC" --version | grep -q mydocker && break
	sleep 1
done
R="timeout 30 $RUNC --root $T/runc"
# containers a failed check left behind
at_exit 'for c in $($R list -q); do $R delete --force $c; done'
# create: the waiting init keeps the stdio it was given, so never a pipe the test would wait on
bg_check() { _n=$1; shift; if "$@" </dev/null >"$T/out" 2>&1; then _pass "$_n"; else _fail "$_n" "$(head -c 400 "$T/out")"; fi; }

# A bundle from the default image; config.json from `runc spec`, adjusted with sed.
B=$T/bundle
mkdir -p "$B/rootfs" && tar -xf "$TOP/rootfs/busybox.tar" -C "$B/rootfs"
(cd "$B" && $RUNC spec)
# a cgroup of this run's own (parallel test runs use the same container ids)
sed -i "s|\"linux\": {|\"linux\": {\"cgroupsPath\": \"/t_oci-$$\",|" "$B/config.json"
# args on one line, so that they can be replaced with one s command
sed -i '/"args": \[/,/\]/c\    "args": ["sh"],' "$B/config.json"
bundle_args() {	# bundle_args 'json-array-of-args': non-terminal process running them
	sed -i -e 's/"terminal": true/"terminal": false/' -e "s|\"args\": \\[.*\\],|\"args\": $1,|" "$B/config.json"
}

testing "spec writes a config.json" "grep -c '\"ociVersion\"' $B/config.json" "1\n"
bundle_args '["sh", "-c", "echo out; hostname; exit 3"]'
testing "run: output and exit code" "cd $B && $R run r1; echo rc=\$?" "out\nmydocker\nrc=3\n"
testing "run removed it" "$R list -q" ""

bundle_args '["sleep", "100"]'
bg_check "create" $R create --bundle "$B" --pid-file "$T/c1.pid" c1
testing "state: created, pid of the waiting init" \
	"$R state c1 | grep -o '\"status\":\"[a-z]*\",\"pid\":[0-9]*'" "\"status\":\"created\",\"pid\":$(cat "$T/c1.pid" 2>/dev/null)\n"
testing "the init waits before exec" "cat /proc/$(cat "$T/c1.pid" 2>/dev/null)/comm" "mydocker-runc\n"
check "start" $R start c1
testing "state: running" "$R state c1 | grep -o '\"status\":\"[a-z]*\"'" "\"status\":\"running\"\n"
testing "the init is the command now" "cat /proc/$(cat "$T/c1.pid" 2>/dev/null)/comm" "sleep\n"
testing "ps --format json" "$R ps --format json c1" "[$(cat "$T/c1.pid" 2>/dev/null)]\n"
testing "exec in it" "$R exec c1 sh -c 'echo \$\$; cat /proc/1/comm'" "2\nsleep\n"
testing "pause, resume" "$R pause c1 && $R state c1 | grep -o '\"status\":\"[a-z]*\"' && $R resume c1 && $R state c1 | grep -o '\"status\":\"[a-z]*\"'" "\"status\":\"paused\"\n\"status\":\"running\"\n"
echo '{"memory": {"limit": 50331648}, "pids": {"limit": 50}}' > "$T/res.json"
if [ -f /sys/fs/cgroup/memory/mydocker/t_oci-$$/memory.limit_in_bytes ]; then
	testing "update --resources" "$R update --resources $T/res.json c1 && cat /sys/fs/cgroup/memory/mydocker/t_oci-$$/memory.limit_in_bytes" "50331648\n"
fi
expect_err "delete refuses a running container" "not stopped" $R delete c1
check "kill" $R kill c1 KILL
for i in 1 2 3 4 5 6 7 8 9 10; do $R state c1 2>/dev/null | grep -q stopped && break; sleep 0.1; done
testing "state: stopped" "$R state c1 | grep -o '\"status\":\"[a-z]*\"'" "\"status\":\"stopped\"\n"
expect_err "kill a stopped container" "container not running" $R kill c1 TERM
check "delete" $R delete c1
expect_err "state after delete" "does not exist" $R state c1

bg_check "create again" $R create --bundle "$B" c2
check "delete --force a created one" $R delete --force c2
testing "list is empty" "$R list -q" ""

# device cgroup rules of the spec on top of the default allowlist (cgroup v1)
DL=/sys/fs/cgroup/devices/mydocker/t_oci-$$/devices.list
sed -i 's|"linux": {|"linux": {"resources": {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}]},|' "$B/config.json"
bg_check "create with device rules" $R create --bundle "$B" c5
if [ -f "$DL" ]; then
	testing "device rules: the default allowlist plus the spec's" "grep -c -e '^c 10:229 rw\$' -e '^c 1:3 rwm\$' $DL" "2\n"
fi
check "delete it" $R delete --force c5
sed -i 's|"resources": {"devices": \[[^]]*\]},||' "$B/config.json"

# errors: stderr and a JSON line in --log
sed -i 's/"type": "ipc"/"type": "ipc"}, {"type": "bogus"/' "$B/config.json"
testing "an unknown namespace is an error, logged as JSON" \
	"$R --log $T/log.json --log-format json create --bundle $B c3 2>/dev/null; grep -c '\"level\":\"error\",\"msg\":\".*bogus.*\",\"time\"' $T/log.json" "1\n"
sed -i 's/}, {"type": "bogus"//' "$B/config.json"
expect_err "--systemd-cgroup is refused" "systemd-cgroup is not supported" $R --systemd-cgroup list
sed -i 's/"linux": {/"linux": {"sysctl": {"kernel.panic": "1"},/' "$B/config.json"
expect_err "a sysctl outside the allowlist is refused" "kernel.panic" $R create --bundle "$B" c4
sed -i 's/"sysctl": {"kernel.panic": "1"},//' "$B/config.json"

# ---- one config with most of the spec, run by mydocker-runc and by crun: the same output ----
F=$T/feat
mkdir -p "$F/data" "$F/rootfs" && tar -xf "$TOP/rootfs/busybox.tar" -C "$F/rootfs"
printf '#!/bin/sh\necho "$1 $(grep -c "\\"id\\":")" >> %s/hooks.log\n' "$F" > "$F/hook.sh" && chmod +x "$F/hook.sh"
cat > "$F/config.json" <<EOF
{"ociVersion": "1.0.2", "hostname": "feat", "domainname": "dom",
 "root": {"path": "rootfs", "readonly": true},
 "process": {"args": ["sh", "-c", "hostname; cat /proc/sys/kernel/domainname; echo \$FOO; pwd; id; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj; touch /data/x 2>/dev/null || echo ro-data; touch /x 2>/dev/null || echo ro-root; stat -c %a /tmpx; cat /proc/sys/kernel/shmmax; echo 1 > /proc/sys/kernel/shmmax 2>/dev/null || echo ro-sys; cat /proc/kcore 2>/dev/null | wc -c; stat -c '%t %T' /dev/mynull; ls /sys/firmware | wc -l"],
  "env": ["PATH=/bin:/sbin", "FOO=bar"], "cwd": "/work/dir",
  "user": {"uid": 1000, "gid": 100, "additionalGids": [5, 6]},
  "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL", "CAP_CHOWN"], "permitted": ["CAP_KILL", "CAP_CHOWN"]},
  "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 900, "soft": 800}],
  "noNewPrivileges": true, "oomScoreAdj": 7},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
  {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
  {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
  {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
  {"destination": "/data", "type": "bind", "source": "data", "options": ["rbind", "ro"]},
  {"destination": "/tmpx", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=1m", "mode=1777"]}],
 "hooks": {"prestart": [{"path": "$F/hook.sh", "args": ["hook.sh", "prestart"]}],
  "poststop": [{"path": "$F/hook.sh", "args": ["hook.sh", "poststop"]}]},
 "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
  "cgroupsPath": "/t_oci-$$-feat",
  "sysctl": {"kernel.shmmax": "4096000"},
  "devices": [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0}],
  "maskedPaths": ["/proc/kcore", "/sys/firmware"], "readonlyPaths": ["/proc/sys"]}}
EOF
WANT='feat\ndom\nbar\n/work/dir\nuid=1000 gid=100 groups=5,6\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000021\nNoNewPrivs:\t1\n800\n900\n7\nro-data\nro-root\n1777\n4096000\nro-sys\n0\n1 3\n0\n'
testing "mydocker-runc: the spec's process, mounts, sysctl, devices, masked paths" "cd $F && $R run feat1" "$WANT"
testing "mydocker-runc: prestart and poststop hooks with the state on stdin" "cat $F/hooks.log" "prestart 1\npoststop 1\n"
if command -v crun >/dev/null; then
	rm -f "$F/hooks.log"
	testing "crun: the same config, the same output" "cd $F && timeout 30 crun --root $T/crun run feat2" "$WANT"
	testing "crun: the same hooks" "cat $F/hooks.log" "prestart 1\npoststop 1\n"
fi

# a user namespace with mappings (the rootfs owned by the mapped root, which must reach it)
U=$T/userns
chmod 755 "$T"
mkdir -p "$U/rootfs" && tar -xf "$TOP/rootfs/busybox.tar" -C "$U/rootfs" && chown -R 100000:100000 "$U/rootfs"
sed -e 's|"type": "mount"|"type": "mount"}, {"type": "user"|' \
    -e 's|"maskedPaths"|"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "maskedPaths"|' \
    -e "s|\"cgroupsPath\": \"[^\"]*\"|\"cgroupsPath\": \"/t_oci-$$-user\"|" "$B/config.json" > "$U/config.json"
sed -i 's|"args": \[.*\],|"args": ["sh", "-c", "cat /proc/self/uid_map; id -u; stat -c %u /bin"],|' "$U/config.json"
testing "user namespace: uid/gid mappings" "cd $U && $R run u1 | tr -s ' '" " 0 100000 65536\n0\n0\n"

# ---- through containerd ----
if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containerd crun >/dev/null 2>&1
fi
if ! command -v containerd >/dev/null || ! command -v containerd-shim-runc-v2 >/dev/null; then
	echo "########## t_oci: containerd could not be installed: SKIPPING the containerd tests ##########"
	skip "containerd" "containerd is not installed and apt-get install containerd failed"
	exit 0
fi
CD=$T/containerd
# cgroupsPath /mdt$$/ID: the parent stays; a runtime's own cleanup of ID may still be under way
at_exit "for i in \$(seq 30); do rmdir /sys/fs/cgroup/*/mdt$$ /sys/fs/cgroup/mdt$$ 2>/dev/null; ls -d /sys/fs/cgroup/*/mdt$$ /sys/fs/cgroup/mdt$$ >/dev/null 2>&1 || break; sleep 0.1; done"
mkdir -p "$CD"
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
at_exit "kill $CDPID; wait $CDPID"
CTRT="ctr -a $CD/sock -n mdt$$"	# under script(1): timeout(1) there would leave it in a background group
CTR="timeout -k 5 60 $CTRT"
at_exit 'for t in $($CTR task ls -q); do $CTR task rm -f $t; done'
for i in $(seq 50); do $CTR version >/dev/null 2>&1 && break; sleep 0.1; done

# the busybox image as a docker-save archive: manifest.json + config + layer.tar
A=$T/archive
mkdir -p "$A" && cp "$TOP/rootfs/busybox.tar" "$A/layer.tar"
DIFF=$(sha256sum "$A/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$DIFF" > "$A/config.json"
printf '[{"Config":"config.json","RepoTags":["docker.io/library/busybox:latest"],"Layers":["layer.tar"]}]' > "$A/manifest.json"
(cd "$A" && tar -cf "$T/busybox-save.tar" manifest.json config.json layer.tar)
IMG=docker.io/library/busybox:latest
check "ctr images import" $CTR images import "$T/busybox-save.tar"

CRUN=$(command -v crun || true)
TTY=""	# -t needs a terminal for ctr: script(1) gives one
command -v script >/dev/null || { TTY=:; skip "-t" "no script(1) to give ctr a terminal"; }
for rt in mydocker crun; do
	if [ $rt = crun ]; then
		[ -n "$CRUN" ] || { skip "crun reference" "crun not installed"; break; }
		BIN=$CRUN
	else
		BIN=$RUNC
	fi
	run() { $CTR run --runc-binary "$BIN" "$@"; }
	testing "$rt: ctr run --rm: output and exit code" \
		"$CTR run --runc-binary $BIN --rm $IMG $rt-a sh -c 'echo hi; exit 7'; echo rc=\$?" "hi\nrc=7\n"
	testing "$rt: a missing command fails at create" \
		"$CTR run --runc-binary $BIN --rm $IMG $rt-g nonexist 2>&1 | grep -c 'not found in .PATH'; echo rc=\$?" "1\nrc=0\n"
	testing "$rt: env and cwd" \
		"$CTR run --runc-binary $BIN --rm --env FOO=bar --cwd /tmp $IMG $rt-b sh -c 'echo \$FOO; pwd'" "bar\n/tmp\n"
	testing "$rt: read-only rootfs" \
		"$CTR run --runc-binary $BIN --rm --read-only $IMG $rt-c sh -c 'touch /x 2>/dev/null || echo ro'" "ro\n"
	$TTY testing "$rt: -t: a tty through the console socket" \
		"timeout -k 5 90 script -qec \"$CTRT run --runc-binary $BIN --rm -t $IMG $rt-e tty\" /dev/null </dev/null | grep -ao '/dev/pts/[0-9]*'" "/dev/pts/0\n"
	check "$rt: run -d" $CTR run --runc-binary "$BIN" -d --memory-limit 67108864 $IMG $rt-f sleep 300
	PID=$($CTR task ls | awk -v t=$rt-f '$1 == t {print $2}')
	CG=$(sed -n 's/^[0-9]*:memory://p' /proc/$PID/cgroup)	# v1, else the unified hierarchy
	MEMF=/sys/fs/cgroup/memory$CG/memory.limit_in_bytes
	[ -n "$CG" ] || MEMF=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/$PID/cgroup)/memory.max
	testing "$rt: --memory-limit in the cgroup" "cat $MEMF" "67108864\n"
	testing "$rt: task exec" "$CTR task exec --exec-id x1 $rt-f sh -c 'echo in; cat /proc/1/comm'" "in\nsleep\n"
	$TTY testing "$rt: task exec -t" \
		"timeout -k 5 90 script -qec \"$CTRT task exec -t --exec-id x2 $rt-f tty\" /dev/null </dev/null | grep -ao '/dev/pts/[0-9]*'" "/dev/pts/0\n"
	testing "$rt: task ps" "$CTR task ps $rt-f | tail -n +2 | wc -l" "1\n"
	check "$rt: task kill" $CTR task kill -s SIGKILL $rt-f
	for i in $(seq 50); do $CTR task ls 2>/dev/null | grep "^$rt-f " | grep -q STOPPED && break; sleep 0.1; done
	testing "$rt: stopped after kill" "$CTR task ls | grep '^$rt-f ' | awk '{print \$3}'" "STOPPED\n"
	check "$rt: task rm" $CTR task rm $rt-f
	check "$rt: container rm" $CTR container rm $rt-f
done
