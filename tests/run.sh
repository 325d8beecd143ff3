#!/bin/sh
# Run every test: unit tests (static and sanitized builds), then the behaviour tests tests/t_*.sh.
# Prints each result and ends with "N passed, N failed, N skipped". Exit 0 iff nothing failed.
# usage: tests/run.sh [t_NAME ...]      (no arguments: everything, including the VM tests)
TOP=$(cd "$(dirname "$0")/.." && pwd)
ARCH=${ARCH:-x86_64}
MD=${MD:-$TOP/mydocker}
export TOP MD
RESULTS=$(mktemp /tmp/mdresults.XXXXXX)
export RESULTS
trap 'rm -f "$RESULTS"' EXIT
# Nothing under test reads the terminal: a command put in a background process group by timeout(1)
# that touches a controlling terminal would be stopped (SIGTTIN/SIGTTOU) and hang the run.
exec </dev/null
# one test file that hangs fails alone instead of eating the whole run
FILE_TIMEOUT=${MYDOCKER_TEST_TIMEOUT:-900}

unit() {	# unit BINARY: its own "N passed, N failed" line counts as N results
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -v '^PASS' 
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	p=$(printf '%s' "$line" | sed -E 's/.*[^0-9]?([0-9]+) passed.*/\1/'); p=${p:-0}
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/'); f=${f:-0}
	k=$(printf '%s' "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p'); k=${k:-0}
	[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
	i=0; while [ $i -lt "$k" ]; do echo "SKIP unit $*" >> "$RESULTS"; i=$((i+1)); done
	i=0; while [ $i -lt "$p" ]; do echo "PASS unit" >> "$RESULTS"; i=$((i+1)); done
	i=0; while [ $i -lt "$f" ]; do echo "FAIL unit $*" >> "$RESULTS"; i=$((i+1)); done
}

if [ $# -eq 0 ]; then
	for b in "$TOP"/build/$ARCH/unit/test_* "$TOP"/build/$ARCH/asan/test_*; do
		[ -x "$b" ] && unit "$b"
	done
	unit sh "$TOP/tests/tar_interop.sh"
	# the arm64 build's unit tests under qemu-user (make test builds them)
	for b in "$TOP"/build/arm64/unit/test_*; do
		[ -x "$b" ] && command -v qemu-aarch64-static >/dev/null && unit qemu-aarch64-static "$b"
	done
	# real kernels (amd64 and arm64) under qemu-system; MYDOCKER_VM=0 leaves them out
	if [ "${MYDOCKER_VM:-1}" != 0 ]; then
		unit sh "$TOP/tests/vm/run.sh"
	else
		echo "SKIP vm: MYDOCKER_VM=0" >> "$RESULTS"
	fi
	set -- "$TOP"/tests/t_*.sh
else
	set -- $(for a; do echo "$TOP/tests/$a.sh"; done)
fi
for t in "$@"; do
	[ -f "$t" ] || continue
	timeout -k 10 "$FILE_TIMEOUT" sh "$t"
	rc=$?
	case $rc in
	0) ;;
	124|137) echo "FAIL $(basename "$t"): did not finish within $FILE_TIMEOUT s" >> "$RESULTS" ;;
	*) echo "FAIL $(basename "$t"): exited $rc" >> "$RESULTS" ;;
	esac
done

pass=$(grep -c '^PASS' "$RESULTS"); fail=$(grep -c '^FAIL' "$RESULTS"); sk=$(grep -c '^SKIP' "$RESULTS")
if [ "$fail" -gt 0 ]; then echo; echo "Failures:"; grep '^FAIL' "$RESULTS" | sed 's/^/  /'; fi
if [ "$sk" -gt 0 ]; then echo; echo "Skipped:"; grep '^SKIP' "$RESULTS" | sed 's/^/  /'; fi
echo
echo "$pass passed, $fail failed, $sk skipped"
[ "$fail" = 0 ]
