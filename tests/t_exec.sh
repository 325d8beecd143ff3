#!/bin/sh
# t_exec: `exec` into running containers: namespaces, root, environment, exit codes, -it.
. "$(dirname "$0")/lib.sh"
need_root
import_busybox || { _fail "import busybox" "$("$MD" import "$TOP/rootfs/busybox.tar" busybox 2>&1)"; exit 1; }
C=$MYDOCKER_ROOT/containers
SL=9$$	# a sleep only this run of the test starts

"$MD" run -d --name ex --hostname exhost -e FOO=bar -w /srv busybox \
	sh -c "echo data > /marker; exec sleep $SL" >/dev/null || _fail "run -d ex"
sleep 0.3
testing "exec runs in the container's UTS namespace" "$MD exec ex hostname" "exhost\n"
testing "exec sees the container's files" "$MD exec ex cat /marker" "data\n"
testing "exec is in the PID namespace, not PID 1" "$MD exec ex sh -c '[ \$\$ -gt 1 ] && echo child; read c < /proc/1/comm; echo \$c'" \
	"child\nsleep\n"
testing "exec sees only the container's processes" "$MD exec ex sh -c 'set -- /proc/[0-9]*; echo \$# \$1'" "2 /proc/1\n"
testing "exec writes into the container's upper layer" "$MD exec ex sh -c 'echo more > /m2' && $MD exec ex cat /m2" "more\n"
expect_rc "exec exit status passes through" 5 "$MD" exec ex sh -c 'exit 5'
expect_rc "exec: missing command is 127" 127 "$MD" exec ex nosuchcmd
expect_err "exec: missing command, one line" 'exec: exec "nosuchcmd": executable file not found' "$MD" exec ex nosuchcmd
testing "exec inherits the container's environment" "$MD exec ex sh -c 'echo \$FOO \$HOSTNAME'" "bar exhost\n"
testing "exec -e overrides and adds" "$MD exec -e FOO=x -e NEW=1 ex sh -c 'echo \$FOO \$NEW'" "x 1\n"
testing "exec cwd: the container's workdir, or -w" "$MD exec ex pwd; $MD exec -w /tmp ex pwd" "/srv\n/tmp\n"
testing "exec: no host fd leaks in" "$MD exec ex ls /proc/self/fd 7</ 8>$T/leak" "0\n1\n2\n3\n"
expect_rc "exec -w through a leaked host directory fd is refused" 126 sh -c "$MD exec -w /proc/self/fd/7 ex ls 7</"
testing "exec -u 1000:1000" "$MD exec -u 1000:1000 ex id -u" "1000\n"
testing "exec -i passes stdin" "echo piped | $MD exec -i ex cat" "piped\n"
testing "exec without -i gets no stdin" "echo piped | $MD exec ex cat" ""
testing "exec network: the container's (lo only)" "$MD exec ex ls /sys/class/net" "lo\n"
if command -v script >/dev/null; then
	testing "exec -it: a terminal of the container's devpts" \
		"script -qec \"stty rows 12 cols 34; $MD exec -it ex sh -c 'tty; stty size; test -t 0 && echo tty'\" /dev/null </dev/null | tr -d '\r' | sed 's/\^@//g'" \
		"/dev/pts/0\n12 34\ntty\n"
	testing "exec -it shell reads input" \
		"(sleep 0.5; echo 'echo in-\$HOSTNAME'; sleep 0.3; echo exit) | script -qec \"$MD exec -it ex sh\" /dev/null | tr -d '\\\\r' | grep -c '^in-exhost'" \
		"1\n"
else
	skip "exec -it" "script (util-linux) not installed"
fi
expect_err "exec into an unknown container" 'No such container' "$MD" exec nosuch true
"$MD" stop -t 1 ex >/dev/null 2>&1 || "$MD" rm -f ex >/dev/null
expect_err "exec into a stopped container is refused" 'container ex is not running' "$MD" exec ex true
expect_rc "exec usage error" 2 "$MD" exec ex

"$MD" rm -f ex >/dev/null 2>&1
testing "no mounts of the test root remain" "grep '$T' /proc/self/mountinfo | wc -l" "0\n"
testing "no container processes remain" "pgrep -f 'slee[p] $SL' | wc -l" "0\n"
