#!/bin/sh
# t_run: `run` on real namespaces and overlayfs with the default busybox image, in a private root.
. "$(dirname "$0")/lib.sh"
need_root
import_busybox || { _fail "import busybox" "$("$MD" import "$TOP/rootfs/busybox.tar" busybox 2>&1)"; exit 1; }
C=$MYDOCKER_ROOT/containers
SL=9$$	# a sleep only this run of the test starts
ncont() { ctr_entries | wc -l; }
mounts() { grep -c "$T" /proc/self/mountinfo; }
# unchanged CMD...: CMD fails and leaves no container dir and no mount behind
unchanged() {
	_b=$(ncont); "$@" >/dev/null 2>&1 && { echo "succeeded"; return 1; }
	[ "$(ncont)" = "$_b" ] || { echo "containers: $_b -> $(ncont)"; ls -A "$C"; return 1; }
	[ "$(mounts)" = 0 ] || { echo "mounts left"; return 1; }
}
idof() { grep -l "\"Name\": \"$1\"" "$C"/*/config.json | head -n 1 | xargs dirname | xargs basename; }
field() { sed -n "s/.*\"$2\": \(.*\),*$/\1/p" "$C/$1/config.json" 2>/dev/null | head -n 1 | tr -d ','; }

# ---- the command ----
testing "signals the caller ignored are at their defaults in the container" \
	"trap '' HUP USR1 PIPE; '$MD' run --rm busybox grep SigIgn /proc/self/status" "SigIgn:\t0000000000000000\n"
# ... also 32 and 33, which libc reserves for itself (sigaction refuses them) but a caller can
# ignore with the raw system call
IGN='import ctypes, os, sys
nr = {"x86_64": 13, "aarch64": 134}[os.uname().machine]
act = (ctypes.c_ulong * 4)(1, 0, 0, 0)
for s in (32, 33):
    ctypes.CDLL(None).syscall(nr, s, act, None, 8)
os.execv(sys.argv[1], sys.argv[1:])'
testing "... and so are the ones libc reserves (32, 33)" \
	"python3 -c '$IGN' '$MD' run --rm busybox grep SigIgn /proc/self/status" "SigIgn:\t0000000000000000\n"
testing "echo hello" "$MD run --rm busybox echo hello" "hello\n"
args_exact() {
	set -- "a b" "" "  lead and trail  " "new
line" "q'uote\"d" '$HOME `x` \n' '*' -n "tab	x" "é ü"
	want=$(printf '[%s]\n' "$@")
	got=$("$MD" run --rm busybox printf '[%s]\n' "$@") || return 1
	[ "$got" = "$want" ] || { printf 'want:\n%s\ngot:\n%s\n' "$want" "$got"; return 1; }
}
check "arguments with spaces, newlines, quotes and empty ones arrive exactly" args_exact
testing "5000 arguments arrive" "$MD run --rm busybox sh -c 'echo \$#; eval echo \\\${\$#}' x \$(seq 1 5000)" "5000\n5000\n"
expect_rc "exit status passes through" 7 "$MD" run --rm busybox sh -c 'exit 7'
expect_rc "missing command: 127" 127 "$MD" run --rm busybox nosuchcmd
expect_err "missing command: one clear line" 'run: exec "nosuchcmd": executable file not found in \$PATH' \
	"$MD" run --rm busybox nosuchcmd
expect_rc "non-executable file: 126" 126 "$MD" run --rm busybox /etc/passwd
check "a failed exec leaves nothing (no --rm)" unchanged "$MD" run busybox nosuchcmd
expect_rc "killed by a signal: 128+9" 137 "$MD" run --rm --init busybox sh -c 'kill -9 $$'

# ---- namespaces ----
testing "the command is PID 1" "$MD run --rm busybox sh -c 'echo \$\$; read c < /proc/1/comm; echo \$c'" "1\nsh\n"
testing "host processes are hidden" "$MD run --rm busybox sh -c 'echo /proc/[0-9]*'" "/proc/1\n"
"$MD" run --name hn busybox hostname > "$T/hn" 2>&1
H=$(idof hn | cut -c1-12)
testing "hostname is the first 12 characters of the ID" "cat $T/hn" "$H\n"
testing "--hostname, also in /etc/hostname and HOSTNAME" \
	"$MD run --rm --hostname box1 busybox sh -c 'hostname; cat /etc/hostname; echo \$HOSTNAME'" "box1\nbox1\nbox1\n"
testing "network: loopback only, up" "$MD run --rm busybox sh -c 'ls /sys/class/net; cat /sys/class/net/lo/operstate'" \
	"lo\nunknown\n"
testing "/etc/resolv.conf is the host's" "$MD run --rm busybox cat /etc/resolv.conf | cmp - /etc/resolv.conf && echo same" "same\n"
testing "/etc/hosts names the container" "$MD run --rm --hostname hh busybox grep -c hh /etc/hosts" "1\n"

# ---- mounts ----
testing "/dev holds exactly the safe set" "$MD run --rm busybox ls /dev" \
	"fd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n"
testing "/dev nodes work" "$MD run --rm busybox sh -c 'echo x > /dev/null; head -c 5 /dev/urandom | wc -c; head -c 3 /dev/zero | od -An -tx1'" \
	"5\n 00 00 00\n"
testing "/proc is the container's, /sys read-only" \
	"$MD run --rm busybox sh -c 'grep -E \"^(proc /proc|sysfs /sys) \" /proc/mounts | cut -d\" \" -f1,4 | cut -d, -f1; touch /sys/x 2>/dev/null || echo rofs'" \
	"proc rw\nsysfs ro\nrofs\n"
testing "the root is an overlay" "$MD run --rm busybox sh -c 'grep \" / \" /proc/mounts | cut -d\" \" -f3'" "overlay\n"

testing "no host fd leaks into the container" "$MD run --rm busybox ls /proc/self/fd 7>$T/leak 8<$T/leak" "0\n1\n2\n3\n"
expect_rc "-w through a leaked host directory fd is refused (CVE-2024-21626)" 126 sh -c "$MD run --rm -w /proc/self/fd/7 busybox ls 7</"
expect_rc "... also with --init" 126 sh -c "$MD run --rm --init -w /proc/self/fd/7 busybox ls 7</"

# ---- environment, cwd, user ----
printf 'A=1\n# comment\n\n  B=two words\nFROMHOST\n' > "$T/envf"
testing "-e, --env-file, -e K from the caller" \
	"FROMHOST=yes $MD run --rm --env-file $T/envf -e C=3 -e A=over busybox sh -c 'echo \$A \$B \$C \$FROMHOST'" \
	"over two words 3 yes\n"
testing "PATH and HOME defaults" "$MD run --rm busybox sh -c 'echo \$PATH; echo \$HOME'" \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/root\n"
expect_err "-e with an empty name is refused" 'invalid environment variable' "$MD" run --rm -e =x busybox true
testing "-w (created when missing)" "$MD run --rm -w /work/dir busybox pwd" "/work/dir\n"
testing "-u 1000:1000" "$MD run --rm -u 1000:1000 busybox sh -c 'id -u; id -g; echo \$HOME'" "1000\n1000\n/\n"
testing "-u by name from the container's /etc/passwd" "$MD run --rm -u nobody busybox id -u" "65534\n"

# the image's config: Env, Entrypoint, Cmd, WorkingDir (a config written next to busybox's)
mkimage() {	# mkimage NAME CONFIG-OBJECT
	_I=$MYDOCKER_ROOT/images
	_id=$(sed -n 's/.*"busybox:latest": "sha256:\([0-9a-f]*\)".*/\1/p' "$_I/repositories.json")
	sed "s|\"config\": *{}|\"config\": $2|" "$_I/configs/$_id.json" > "$T/cfg.json"
	_new=$(sha256sum "$T/cfg.json" | cut -c1-64)
	cp "$T/cfg.json" "$_I/configs/$_new.json"
	sed -i "s|^{|{\n  \"$1:latest\": \"sha256:$_new\",|" "$_I/repositories.json"
}
mkimage cfgimg '{"Env": ["PATH=/bin:/usr/bin", "IMG=1"], "Entrypoint": ["sh", "-c"], "Cmd": ["echo $IMG $PWD"], "WorkingDir": "/tmp"}'
testing "image Env/Entrypoint/Cmd/WorkingDir are honoured" "$MD run --rm cfgimg" "1 /tmp\n"
testing "arguments replace Cmd, -e overrides image Env" "$MD run --rm -e IMG=2 cfgimg 'echo \$IMG \$PATH'" "2 /bin:/usr/bin\n"

# ---- volumes ----
mkdir -p "$T/vol"; echo file > "$T/vol/f"; echo single > "$T/single"
testing "-v dir rw: written through to the host" "$MD run --rm -v $T/vol:/data busybox sh -c 'cat /data/f; echo new > /data/n' && cat $T/vol/n" \
	"file\nnew\n"
testing "-v :ro refuses writes" "$MD run --rm -v $T/vol:/data:ro busybox sh -c 'cat /data/f; echo x > /data/y 2>/dev/null || echo refused'; ls $T/vol" \
	"file\nrefused\nf\nn\n"
testing "-v file onto a missing path" "$MD run --rm -v $T/single:/a/b/c.txt:ro busybox cat /a/b/c.txt" "single\n"
escape() {	# a symlink planted in the image must not lead a volume's mount point out of the root
	for l in "$MYDOCKER_ROOT"/images/layers/*/diff; do ln -s "$T/outside" "$l/escape"; done
	_o=$("$MD" run --rm -v "$T/vol":/escape/in busybox sh -c 'ls /escape/in/f && readlink /escape' 2>&1)
	for l in "$MYDOCKER_ROOT"/images/layers/*/diff; do rm "$l/escape"; done
	[ "$_o" = "/escape/in/f
$T/outside" ] || { echo "$_o"; return 1; }
	[ ! -e "$T/outside" ] || { echo "created on the host: $(ls -R "$T/outside")"; return 1; }
}
check "volume destinations resolve inside the root (symlinks too)" escape
check "relative volume source refused, nothing created" unchanged "$MD" run -v rel/x:/x busybox true
expect_err "relative source: clear message" 'invalid volume "rel:/x": source must be an absolute path' "$MD" run -v rel:/x busybox true
check "missing volume source refused, nothing created" unchanged "$MD" run -v "$T/nope":/x busybox true
check "relative volume destination refused" unchanged "$MD" run -v "$T/vol":x busybox true
check "a mount failure half-way unwinds" unchanged "$MD" run -v "$T/single":/bin busybox true
expect_err "mount failure: clear message" 'volume' "$MD" run -v "$T/single":/bin busybox true

# ---- flags ----
check "--rm leaves no container and no mount" unchanged sh -c "$MD run --rm busybox true && false"
testing "--read-only: the root refuses writes, /dev/shm and volumes do not" \
	"$MD run --rm --read-only -v $T/vol:/v busybox sh -c 'touch /x 2>/dev/null || echo ro; touch /dev/shm/x && touch /v/x && echo rw'" \
	"ro\nrw\n"
"$MD" run --name dup busybox true
check "duplicate name refused" unchanged "$MD" run --name dup busybox true
expect_err "duplicate name: clear message" 'name "dup" is already in use' "$MD" run --name dup busybox true
par_names() {
	for i in 1 2 3 4 5 6; do "$MD" run --name par busybox true >/dev/null 2>&1 & done; wait
	[ "$(grep -l '"Name": "par"' "$C"/*/config.json | wc -l)" = 1 ]
}
check "parallel runs with one name: exactly one gets it" par_names
check "name with / refused" unchanged "$MD" run --name a/b busybox true
check "name .. refused" unchanged "$MD" run --name .. busybox true
check "unknown image refused, nothing left" unchanged "$MD" run nosuchimage true
expect_err "unknown image: clear message" 'unable to find image "nosuchimage"' "$MD" run nosuchimage true
expect_rc "bad flag: usage error" 2 "$MD" run --nosuchflag busybox true
check "--help lists every flag" sh -c "$MD run --help | grep -q -- --read-only && $MD run --help | grep -q -- --env-file"

testing "-i passes stdin" "echo piped | $MD run --rm -i busybox cat" "piped\n"
testing "without -i stdin is /dev/null" "echo piped | $MD run --rm busybox cat" ""
check "volume onto / refused" unchanged "$MD" run -v "$T/vol":/ busybox true

# ---- --init ----
testing "--init: PID 1 is the init, the command its child" \
	"$MD run --rm --init busybox sh -c 'echo \$\$; grep -c mydocker-init /proc/1/cmdline'" "2\n1\n"
testing "--init reaps orphans" "$MD run --rm --init busybox sh -c '(sleep 0.1 &); sleep 0.6; ps -o stat | grep Z | wc -l'" "0\n"
expect_err "init refuses to run by hand" 'cannot be run by hand' "$MD" init -- true
sig_forward() {
	"$MD" run --rm --init busybox sleep $SL & _p=$!
	sleep 0.5; kill -TERM $_p; wait $_p; _r=$?
	[ $_r = 143 ] || { echo "exit $_r"; return 1; }
}
check "SIGTERM to the CLI reaches the container (143)" sig_forward

# ---- -t ----
if command -v script >/dev/null; then
	testing "-t: a real terminal with the caller's size" \
		"script -qec \"stty rows 33 cols 99; $MD run --rm -t busybox sh -c 'tty; stty size; test -t 0 && echo tty; ls /dev/console'\" /dev/null </dev/null | tr -d '\r'" \
		"/dev/pts/0\n33 99\ntty\n/dev/console\n"
	testing "-t: the window size follows (SIGWINCH)" \
		"script -qec \"stty rows 10 cols 20; ($MD run --rm -t busybox sh -c 'sleep 1; stty size' &); sleep 0.5; stty rows 40 cols 100; sleep 1\" /dev/null </dev/null | tr -d '\r'" \
		"40 100\n"
	testing "-it: input reaches the container, the terminal is restored" \
		"(sleep 0.5; echo hello) | script -qec \"stty -a > $T/before; $MD run --rm -it busybox sh -c 'read x; echo got \\\$x'; stty -a > $T/after\" /dev/null | tr -d '\r' | grep got; cmp $T/before $T/after" \
		"got hello\n"
	testing "-it --init: ^C reaches the container's foreground process" \
		"(sleep 0.7; printf '\\003'; sleep 1) | script -qec \"$MD run --rm -it --init busybox sleep 5; echo rc=\\\$?\" /dev/null | grep -o 'rc=[0-9]*'" \
		"rc=130\n"
else
	skip "-t tests" "script (util-linux) not installed"
fi

# ---- -d ----
ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms)
ID=$("$MD" run -d busybox sh -c 'echo out; echo err >&2; sleep 1; exit 3')
t1=$(ms)
testing "-d prints the full ID" "echo $ID | grep -cE '^[0-9a-f]{64}\$'" "1\n"
check "-d returns at once (the monitor holds no caller pipe)" test $((t1 - t0)) -lt 900
MON=$(field "$ID" MonitorPid)
check "-d: the monitor is alive and small (VmRSS < 1 MiB)" sh -c "[ \$(awk '/VmRSS/ {print \$2}' /proc/$MON/status) -lt 1024 ]"
for i in $(seq 50); do [ "$(field "$ID" Status)" = '"exited"' ] && break; sleep 0.1; done
testing "-d: the monitor records the exit code" "grep -c '\"ExitCode\": 3' $C/$ID/config.json" "1\n"
testing "-d: output is in the log" "cut -d' ' -f2- $C/$ID/container.log | sort" "E err\nO out\n"
for i in $(seq 20); do kill -0 "$MON" 2>/dev/null || break; sleep 0.1; done
check "-d: the monitor is gone" sh -c "! kill -0 $MON 2>/dev/null"
ID=$("$MD" run -d --rm busybox true)
for i in $(seq 50); do [ -d "$C/$ID" ] || break; sleep 0.1; done
check "-d --rm: the monitor removes the container" test ! -e "$C/$ID"
check "-d with a missing command fails at once, nothing left" unchanged "$MD" run -d busybox nosuchcmd
expect_rc "-d with a missing command: 127" 127 "$MD" run -d busybox nosuchcmd

# ---- nothing left ----
for id in $(ls "$C"); do "$MD" rm -f "$id" >/dev/null 2>&1; done
testing "no mounts of the test root remain on the host" "grep '$T' /proc/self/mountinfo | wc -l" "0\n"
testing "no container processes remain" "pgrep -f 'slee[p] $SL' | wc -l" "0\n"
