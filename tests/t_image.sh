# Image store: import (hashed once, pinned digest, atomic), images, rmi, inspect, and the dispatch.
. "$(dirname "$0")/lib.sh"
need_root
BB=$TOP/rootfs/busybox.tar
SUM=$(sha256sum "$BB" | cut -c1-64)

# dispatch
testing "applet from argv[1]" "'$MD' version | head -n 1 | cut -d' ' -f1,2" "mydocker version\n"
ln -s "$MD" "$T/mydocker-version"
testing "applet from argv[0]" "'$T/mydocker-version' | head -n 1 | cut -d' ' -f1,2" "mydocker version\n"
expect_rc "unknown applet exits 2" 2 "$MD" frobnicate
testing "unknown applet: usage and message on stderr" "'$MD' frobnicate 2>&1 >/dev/null | sed -n '1p;\$p'" 'Usage: mydocker [--root DIR] APPLET [ARGS...]\nmydocker: unknown applet "frobnicate"\n'
check "--list lists import" sh -c "'$MD' --list | grep -qx import"
mkdir "$T/bin"
check "--install makes symlinks" sh -c "'$MD' --install '$T/bin' && [ \"\$(readlink '$T/bin/mydocker-run')\" = '$(readlink -f "$MD")' ] && [ \$(ls '$T/bin' | wc -l) = \$('$MD' --list | wc -l) ]"
check "--help of an applet" sh -c "'$MD' import --help | grep -q '^Usage: mydocker import'"
check "--help via symlink" sh -c "'$T/bin/mydocker-images' --help | grep -q '^Usage: mydocker images'"
expect_err "init refuses to run by hand" 'init: .*(internal|not.*by hand)' "$MD" init

# import
testing "import prints the image id" "'$MD' import -q '$BB' busybox | cut -c1-7" "sha256:\n"
check "layer named by the tarball's sha256" test -d "$MYDOCKER_ROOT/images/layers/$SUM/diff/bin"
check "layer keeps hard links" sh -c "[ \$(stat -c %h '$MYDOCKER_ROOT/images/layers/$SUM/diff/bin/busybox') -gt 100 ]"
testing "images lists it" "'$MD' images | awk 'NR>1{print \$1, \$2}'" "busybox latest\n"
ID=$("$MD" images -q --no-trunc)
check "image id is the sha256 of its config" sh -c "[ \"\$(sha256sum '$MYDOCKER_ROOT/images/configs/$ID.json' | cut -c1-64)\" = '$ID' ]"
testing "re-import of the same content is a no-op retag" \
	"'$MD' import -q '$BB' bb:v2 >/dev/null; '$MD' images -q --no-trunc | sort -u; ls '$MYDOCKER_ROOT/images/layers' | wc -l" "$ID\n1\n"
testing "import --sha256 correct" "'$MD' import -q --sha256 $SUM '$BB' pinned:1 | cut -c8-" "$ID\n"
BAD=0000000000000000000000000000000000000000000000000000000000000000
expect_err "import --sha256 mismatch refused" "digest mismatch" "$MD" import --sha256 $BAD "$BB" bad:1
expect_err "import --sha256 malformed" 'invalid --sha256' "$MD" import --sha256 xyz "$BB" bad:1
testing "nothing left by refused imports" "'$MD' images | grep -c bad; ls '$MYDOCKER_ROOT/images/tmp' | wc -l" "0\n0\n"
testing "import from stdin" "'$MD' import -q - stdin:1 < '$BB' | cut -c8-" "$ID\n"
expect_err "bad reference refused" 'invalid reference format' "$MD" import "$BB" 'UPPER/../x'
head -c 100000 "$BB" > "$T/trunc.tar"
before=$(ls "$MYDOCKER_ROOT/images/layers" | wc -l)
expect_err "truncated tarball refused" 'import: ' "$MD" import "$T/trunc.tar" trunc
testing "truncated import leaves no layer and no tmp" \
	"ls '$MYDOCKER_ROOT/images/layers' | wc -l; ls '$MYDOCKER_ROOT/images/tmp' | wc -l" "$before\n0\n"
head -c 4096 /dev/urandom > "$T/random.tar"
expect_err "random bytes refused" 'import: ' "$MD" import "$T/random.tar" random
expect_err "missing file" 'open .*No such file' "$MD" import "$T/nope.tar" nope

# a killed import leaves nothing that a later import does not sweep
mkfifo "$T/fifo"
( "$MD" import "$T/fifo" killed >/dev/null 2>&1 & echo $! > "$T/pid"; wait ) &
exec 7>"$T/fifo"; head -c 600000 "$BB" >&7
sleep 0.3; kill -9 "$(cat "$T/pid")" 2>/dev/null; exec 7>&-; wait
"$MD" import -q "$BB" after:1 >/dev/null
testing "killed import swept by the next import" "'$MD' images | grep -c killed; ls '$MYDOCKER_ROOT/images/tmp' | wc -l" "0\n0\n"

# inspect, rmi
check "inspect image shows diff_ids" sh -c "'$MD' inspect busybox | grep -q 'sha256:$SUM'"
testing "rmi of one tag keeps the image" "'$MD' rmi bb:v2; '$MD' images -q | sort -u | wc -l" "Untagged: bb:v2\n1\n"
expect_err "rmi unknown" 'No such image: nope' "$MD" rmi nope
"$MD" rmi pinned:1 stdin:1 after:1 >/dev/null
testing "rmi of the last tag deletes image and layer" \
	"'$MD' rmi busybox | tail -n 1 | cut -c1-15; find '$MYDOCKER_ROOT/images/layers' '$MYDOCKER_ROOT/images/configs' -mindepth 1 -maxdepth 1 | wc -l" \
	"Deleted: sha256\n0\n"
