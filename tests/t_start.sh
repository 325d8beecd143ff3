#!/bin/sh
# t_start: `start` runs a stopped container again with its record and upper layer.
. "$(dirname "$0")/lib.sh"
need_root
import_busybox || { _fail "import busybox" "$("$MD" import "$TOP/rootfs/busybox.tar" busybox 2>&1)"; exit 1; }
C=$MYDOCKER_ROOT/containers
SL=9$$	# a sleep only this run of the test starts
idof() { grep -l "\"Name\": \"$1\"" "$C"/*/config.json | head -n 1 | xargs dirname | xargs basename; }
waitexit() { for i in $(seq 50); do grep -q '"Status": "exited"' "$C/$1/config.json" && return; sleep 0.1; done; }

testing "first run counts one line" "$MD run --name s1 -e V=kept busybox sh -c 'echo x >> /count; wc -l < /count'" "1\n"
testing "start -a: the upper layer is kept" "$MD start -a s1" "2\n"
testing "start -a again" "$MD start -a s1" "3\n"
S1=$(idof s1)
"$MD" rm s1 >/dev/null
"$MD" run --name s3 -e V=kept busybox sh -c 'echo $V $(hostname)' >/dev/null
testing "start keeps hostname and environment" "$MD start -a s3" "kept $(idof s3 | cut -c1-12)\n"

"$MD" run --name s2 busybox sh -c 'echo run; exit 4' >/dev/null
testing "start (detached) prints the name" "$MD start s2" "s2\n"
S2=$(idof s2); waitexit "$S2"
testing "start: the monitor records the exit code" "grep -c '\"ExitCode\": 4' $C/$S2/config.json" "1\n"
testing "start: the output is in the log" "cut -d' ' -f2- $C/$S2/container.log" "O run\n"
expect_rc "start -a: exit status passes through" 4 "$MD" start -a s2

"$MD" run -d --name s4 busybox sleep $SL >/dev/null
testing "start of a running container changes nothing" "$MD start s4; pgrep -f '^slee[p] $SL' | wc -l" "s4\n1\n"
expect_err "start -a of a running container is refused" 'already running' "$MD" start -a s4
"$MD" rm -f s4 >/dev/null

"$MD" run --name s5 busybox true
rm "$T/root/images/layers"/*/diff/bin/true 2>/dev/null	# shared layer: affects nothing else here
expect_rc "start: exec failure is 127" 127 "$MD" start -a s5
testing "start: exec failure recorded as exited 127" "grep -c '\"ExitCode\": 127' $C/$(idof s5)/config.json" "1\n"
expect_err "start of an unknown container" 'No such container' "$MD" start nosuch
expect_rc "start with no container: usage" 2 "$MD" start

for id in $(ls "$C"); do "$MD" rm -f "$id" >/dev/null 2>&1; done
testing "no mounts of the test root remain" "grep '$T' /proc/self/mountinfo | wc -l" "0\n"
testing "no container processes remain" "pgrep -f 'slee[p] $SL' | wc -l" "0\n"
