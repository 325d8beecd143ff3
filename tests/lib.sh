# tests/lib.sh: sourced by every tests/t_*.sh behaviour test.
# Gives: $MD (the binary), $T (a private temp dir), MYDOCKER_ROOT=$T/root (own state root),
# testing/check/check_fail/skip that record results, at_exit for cleanup that runs even on failure,
# and import_busybox to import the default image into the private root.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
MD=${MD:-$TOP/mydocker}
RESULTS=${RESULTS:-/dev/null}
T=$(mktemp -d /tmp/mdt.XXXXXX)
export MYDOCKER_ROOT=$T/root
TNAME=$(basename "$0" .sh)
_cleanups=""

at_exit() { _cleanups="$1
$_cleanups"; }
_run_cleanups() {
	printf '%s\n' "$_cleanups" | while IFS= read -r c; do [ -n "$c" ] && eval "$c" >/dev/null 2>&1; done
	# containers left by a failed test: remove them with the tool itself
	if [ -x "$MD" ] && [ -d "$MYDOCKER_ROOT/containers" ]; then
		for id in $(ls "$MYDOCKER_ROOT/containers" 2>/dev/null); do "$MD" rm -f "$id" >/dev/null 2>&1; done
	fi
	umount -R "$T"/* 2>/dev/null
	rm -rf "$T"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

_pass() { echo "PASS: $TNAME: $1"; echo "PASS $TNAME: $1" >> "$RESULTS"; }
_fail() { echo "FAIL: $TNAME: $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    /'; echo "FAIL $TNAME: $1" >> "$RESULTS"; }
skip() { echo "SKIP: $TNAME: $1 ($2)"; echo "SKIP $TNAME: $1 ($2)" >> "$RESULTS"; }

# testing NAME COMMAND EXPECTED [INFILE [STDIN]]: run COMMAND with sh; its stdout must equal EXPECTED
# (both read with printf %b, so \n works). INFILE is written to ./input in the test dir.
testing() {
	_n=$1 _c=$2 _x=$3
	[ $# -ge 4 ] && printf '%b' "$4" > "$T/input"
	_got=$(cd "$T" && printf '%b' "${5:-}" | sh -c "$_c" 2>"$T/stderr"; echo "rc=$?")
	_want=$(printf '%b' "$_x"; echo "rc=0")
	if [ "$_got" = "$_want" ]; then _pass "$_n"
	else _fail "$_n" "expected: $(printf '%s' "$_want" | head -c 600)
got:      $(printf '%s' "$_got" | head -c 600)
stderr:   $(head -c 600 "$T/stderr")"; fi
}
# check NAME COMMAND...: passes when the command exits 0
check() { _n=$1; shift; if _o=$("$@" 2>&1); then _pass "$_n"; else _fail "$_n" "$(printf '%s' "$_o" | head -c 800)"; fi; }
# check_fail NAME COMMAND...: passes when the command exits non-zero
check_fail() { _n=$1; shift; if _o=$("$@" 2>&1); then _fail "$_n" "unexpectedly succeeded: $(printf '%s' "$_o" | head -c 400)"; else _pass "$_n"; fi; }
# expect_rc NAME RC COMMAND...: passes when the command exits with RC
expect_rc() {
	_n=$1 _rc=$2; shift 2
	_o=$("$@" 2>&1); _r=$?
	if [ "$_r" = "$_rc" ]; then _pass "$_n"; else _fail "$_n" "exit $_r, wanted $_rc: $(printf '%s' "$_o" | head -c 400)"; fi
}
# expect_err NAME PATTERN COMMAND...: fails (non-zero) with one stderr line matching PATTERN (grep -E)
expect_err() {
	_n=$1 _p=$2; shift 2
	_o=$("$@" 2>&1 >/dev/null); _r=$?
	if [ "$_r" != 0 ] && printf '%s' "$_o" | grep -Eq -- "$_p" && [ "$(printf '%s\n' "$_o" | wc -l)" -le 1 ]; then _pass "$_n"
	else _fail "$_n" "exit $_r, stderr: $(printf '%s' "$_o" | head -c 400)"; fi
}

need_root() { [ "$(id -u)" = 0 ] || { skip "$TNAME" "needs root"; exit 0; }; }
# entries of ROOT/containers but the spare workspaces rm keeps (.spare0, .spare1: not containers)
ctr_entries() { ls -A "$MYDOCKER_ROOT/containers" 2>/dev/null | grep -vx '\.spare[0-9]' || :; }
import_busybox() { "$MD" import "$TOP/rootfs/busybox.tar" busybox >/dev/null; }

rnd() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }
# pick VAR: a free 10.X.0.0/16 for a test network (no host route under it, not picked before by
# this test) into VAR; not run in a subshell, so PICKED remembers every pick
PICKED=""
pick() {
	while :; do
		_x=$((100 + $(rnd) % 150))
		case " $PICKED " in *" $_x "*) continue ;; esac
		ip -o route | grep -q "^10\.$_x\." && continue
		PICKED="$PICKED $_x"; eval "$1=$_x"; return
	done
}
