# Hostile archives through import and load (tests/hostile_gen.py makes them): each one is refused
# (exit 1, one line on stderr, no image, layer or staging dir left) or contained (nothing written
# outside the layer; the sentinel dir and its victim file untouched). Never a signal or a hang.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || { skip "hostile archives" "python3 missing"; exit 0; }
S=$T/sentinel
H=$T/hostile
mkdir -p "$S"
echo victim > "$S/victim"
DISK=""
for b in /sys/block/*; do	# the host's first real disk, for an image that ships its device node
	case $(basename "$b") in loop*|ram*|zram*) continue ;; esac
	DISK=$(cat "$b/dev"); break
done
HOSTILE_DISK=${DISK:-8:0} python3 "$TOP/tests/hostile_gen.py" "$H" "$S" || { _fail "generate hostile archives"; exit 1; }
IMG=$MYDOCKER_ROOT/images

sentinel_ok() {	# the target holds only the untouched victim, with one link
	[ "$(ls -A "$S")" = victim ] && [ "$(cat "$S/victim")" = victim ] && [ "$(stat -c %h "$S/victim")" = 1 ]
}
count() { find "$IMG/$1" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
tags() { "$MD" images 2>/dev/null | awk 'NR>1' | wc -l; }

# try APPLET FILE REF [ENV...]: refused cleanly or accepted and contained
try() {
	_ap=$1 _f=$2 _ref=$3
	shift 3
	_case=$(basename "$_f" .tar)
	_l0=$(count layers) _c0=$(count configs) _t0=$(tags)
	if [ "$_ap" = import ]; then
		env "$@" timeout 30 "$MD" import -q "$_f" "$_ref" >/dev/null 2>"$T/err"
	else
		env "$@" timeout 30 "$MD" load -q -i "$_f" >/dev/null 2>"$T/err"
	fi
	_rc=$?
	_why="exit $_rc, stderr: $(head -c 300 "$T/err")"
	if [ $_rc -ge 124 ]; then
		_fail "$_ap $_case: no crash or hang" "$_why"
	elif [ $_rc != 0 ]; then
		if [ $_rc = 1 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q "^mydocker: $_ap: " "$T/err" &&
		   [ "$(count layers)" = "$_l0" ] && [ "$(count configs)" = "$_c0" ] && [ "$(tags)" = "$_t0" ] &&
		   [ "$(count tmp)" = 0 ]; then
			_pass "$_ap $_case: refused cleanly ($(cut -c1-90 "$T/err"))"
		else
			_fail "$_ap $_case: refused cleanly (exit 1, one line, nothing left)" \
				"$_why; layers $_l0->$(count layers) configs $_c0->$(count configs) tags $_t0->$(tags) tmp $(count tmp)"
		fi
	else
		case $_case in *R_*) _fail "$_ap $_case: must be refused" "accepted";; esac
		[ "$(count tmp)" = 0 ] || _fail "$_ap $_case: no staging dir left" "$(ls "$IMG/tmp")"
		_pass "$_ap $_case: accepted"
	fi
	if sentinel_ok; then _pass "$_ap $_case: contained"
	else _fail "$_ap $_case: contained" "$(ls -la "$S"; cat "$S/victim")"
		rm -rf "$S"; mkdir -p "$S"; echo victim > "$S/victim"
	fi
}

for f in "$H"/i-*.tar; do
	try import "$f" "hostile:$(basename "$f" .tar | tr 'A-Z_' 'a-z-' | cut -c1-60)"
done
for f in "$H"/l-*.tar; do
	case $f in
	*gzip-bomb*) try load "$f" - MYDOCKER_LAYER_MAX=1000000
		check "gzip bomb refused at the layer bound" grep -q "limit of 1000000 bytes" "$T/err" ;;
	*) try load "$f" - ;;
	esac
done

# what the accepted ones became
LAYERS=$IMG/layers
check "no device node outside a layer" sh -c "[ -z \"\$(find '$T' -path '$LAYERS' -prune -o \( -type b -o -type c -o -type p \) -print)\" ]"
check "no escaped file anywhere (mdpwn_*)" sh -c \
	"[ -z \"\$(find / /tmp /root /etc '$T' -maxdepth 3 -name 'mdpwn_*' -not -path '$LAYERS/*' 2>/dev/null)\" ]"
check "hard links inside layers never reach the victim" sh -c \
	"! find '$LAYERS' -samefile '$S/victim' 2>/dev/null | grep -q ."
check "trusted.overlay.* and security.* xattrs from the archive are not applied" python3 -c "
import glob, os, sys
bad = [(p, a) for p in glob.glob('$LAYERS/*/diff/xd') for a in os.listxattr(p, follow_symlinks=False)
       if a.startswith(('trusted.overlay.', 'security.'))]
sys.exit(1 if bad else print(bad) or 0)"
check "setuid bits within the layer only" sh -c "! find '$S' -perm -4000 | grep -q ."
# device nodes shipped in an image are there, but a container cannot use them
import_busybox
mkdir -p "$T/bb" && tar -C "$T/bb" -xf "$TOP/rootfs/busybox.tar" 2>/dev/null && cp "$H/i-devices-only.tar" "$T/dev.tar" &&
	python3 - "$T/dev.tar" "$T/bb" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "a") as t:
    t.add(sys.argv[2], arcname=".")
PY
if "$MD" import -q "$T/dev.tar" devimg:1 >/dev/null 2>&1; then
	testing "device nodes from an image unusable in a container (${DISK:-8:0}, 1:1, 1:11)" \
		"'$MD' run --rm devimg:1 sh -c 'for d in /disk /mem /kmsg; do head -c 16 \$d 2>/dev/null | wc -c; done'" "0\n0\n0\n"
else
	skip "device nodes from an image unusable" "could not build the image"
fi
# the store still works after all that
testing "a normal import and run still work" "'$MD' run --rm busybox echo ok" "ok\n"
check "no staging leftovers at the end" sh -c "[ \"\$(ls -A '$IMG/tmp')\" = '' ]"
