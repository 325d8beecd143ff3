# info: what the host offers. Checked against what /proc and /sys say on this host.
. "$(dirname "$0")/lib.sh"
OUT=$("$MD" info 2>"$T/err"); RC=$?
val() { printf '%s\n' "$OUT" | awk -v k="$1:" '$1 == k { print $2; exit }'; }

check "info exits 0" test "$RC" = 0
check "info writes nothing on stderr" test ! -s "$T/err"
testing "info --help" "'$MD' info --help | head -n 1" "Usage: mydocker info\n"
expect_rc "info takes no arguments" 2 "$MD" info extra
testing "first line is the version" "'$MD' info | head -n 1 | cut -d' ' -f1,2" "mydocker version\n"
for k in Kernel Cgroups Overlay Storage Root nf_tables Namespaces; do
	check "line $k:" sh -c "printf '%s\n' \"\$1\" | grep -q '^$k: *[^ ]'" sh "$OUT"
done
check "line State root:" sh -c "printf '%s\n' \"\$1\" | grep -q '^State root: *$MYDOCKER_ROOT'" sh "$OUT"
testing "kernel version is uname -r" "echo $(val Kernel)" "$(uname -r)\n"

# cgroups: v2 iff a cgroup2 mount holds the controllers (no v1 controller mounted)
if grep -q ' - cgroup ' /proc/self/mountinfo; then want=v1; [ "$(val Cgroups)" = hybrid ] && want=hybrid
elif grep -q ' - cgroup2 ' /proc/self/mountinfo; then want=v2
else want=none; fi
testing "cgroup version" "echo $(val Cgroups)" "$want\n"

case $(val Overlay) in
yes) check "overlay yes: storage overlay" test "$(val Storage)" = overlay ;;
no)  check "overlay no: storage vfs, and a warning" sh -c "[ '$(val Storage)' = vfs ] && printf '%s\n' \"\$1\" | grep -q '^WARNING: .*copy'" sh "$OUT" ;;
*)   _fail "overlay line" "$(val Overlay)" ;;
esac
if grep -qw overlay /proc/filesystems; then
	[ "$(id -u)" = 0 ] && check "overlay present: probe works on this state root" test "$(val Overlay)" = yes
else
	check "no overlay in the kernel: says no" test "$(val Overlay)" = no
fi
check "the probe leaves nothing behind" sh -c "! ls -a '$MYDOCKER_ROOT/..' '$MYDOCKER_ROOT' 2>/dev/null | grep -q info-probe"
check "the probe leaves no mount behind" sh -c "! grep -q info-probe /proc/self/mountinfo"

# a state root that cannot hold an upper dir: an overlay mount (needs root and overlay)
if [ "$(id -u)" = 0 ] && grep -qw overlay /proc/filesystems; then
	mkdir -p "$T/l" "$T/u" "$T/w" "$T/o"
	if mount -t overlay overlay -o "lowerdir=$T/l,upperdir=$T/u,workdir=$T/w" "$T/o" 2>/dev/null; then
		at_exit "umount '$T/o'"
		O2=$(MYDOCKER_ROOT=$T/o/state "$MD" info)
		check "state root on overlayfs: overlay unusable" sh -c "printf '%s\n' \"\$1\" | grep -q '^Overlay: *no '" sh "$O2"
		check "state root on overlayfs: storage vfs" sh -c "printf '%s\n' \"\$1\" | grep -q '^Storage: *vfs'" sh "$O2"
		check "state root on overlayfs: said why" sh -c "printf '%s\n' \"\$1\" | grep -q '^Overlay: *no (overlay cannot hold'" sh "$O2"
		umount "$T/o"
	else
		skip "state root on overlayfs" "cannot mount an overlay here"
	fi
else
	skip "state root on overlayfs" "needs root and overlay"
fi

case $(awk '$5 == "/" { t = $0 } END { print t }' /proc/self/mountinfo) in
*" - rootfs "*) want=no-pivot ;;
*) want=pivot_root ;;
esac
testing "pivot mode" "echo $(val Root)" "$want\n"
check "namespaces listed" sh -c "printf '%s\n' \"\$1\" | grep '^Namespaces:' | grep -qw mnt" sh "$OUT"
check "nf_tables yes or no" sh -c "case '$(val nf_tables)' in yes|no) ;; *) exit 1;; esac"
