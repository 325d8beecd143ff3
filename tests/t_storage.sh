# vfs storage: with the state root on a file system that cannot hold an overlay upper dir (an
# overlayfs), run falls back to a per-container copy of the image, says so once, and works.
. "$(dirname "$0")/lib.sh"
need_root
grep -qw overlay /proc/filesystems || { skip "copy fallback" "no overlay here to put the state root on"; exit 0; }
mkdir -p "$T/l" "$T/u" "$T/w" "$T/o"
mount -t overlay overlay -o "lowerdir=$T/l,upperdir=$T/u,workdir=$T/w" "$T/o" 2>/dev/null ||
	{ skip "copy fallback" "cannot mount an overlay"; exit 0; }
at_exit "umount -l '$T/o'"
export MYDOCKER_ROOT=$T/o/state
import_busybox

testing "run works on a copy" "'$MD' run --rm busybox echo hello" "hello\n"
testing "said once on stderr" "'$MD' run --rm busybox true 2>&1 >/dev/null | grep -c 'own copy of the image'" "1\n"
testing "info says vfs" "'$MD' info | awk '\$1 == \"Storage:\" { print \$2 }'" "vfs\n"
check "writes land in the container's copy" "$MD" run --name w busybox sh -c 'echo x > /bin/new'
ID=$("$MD" ps -aq --no-trunc | head -n 1)
check "the copy is ROOT/containers/ID/rootfs" test -f "$MYDOCKER_ROOT/containers/$ID/rootfs/bin/new"
check_fail "the image is untouched" "$MD" run --rm busybox test -e /bin/new
testing "hard links kept" "'$MD' run --rm busybox sh -c '[ \$(stat -c %h /bin/busybox) -gt 100 ] && echo yes'" "yes\n"
testing "modes kept" "'$MD' run --rm busybox stat -c %a /tmp" "1777\n"
check "start again uses the same copy" sh -c "'$MD' start -a w && '$MD' run --rm busybox true"
expect_err "commit is refused" 'vfs|copy' "$MD" commit w img:x
check "rm removes the copy" sh -c "'$MD' rm w && test ! -e '$MYDOCKER_ROOT/containers/$ID'"
testing "no copy or probe left" "ctr_entries | wc -l" "0\n"
