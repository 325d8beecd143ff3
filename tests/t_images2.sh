# Images II: load of docker-save / OCI archives made by skopeo and umoci (gzip layers, whiteouts,
# opaque dirs, env), digest checks leaving nothing behind, platforms, save, export, commit, signatures.
. "$(dirname "$0")/lib.sh"
need_root
for t in skopeo umoci gzip openssl; do
	command -v $t >/dev/null || { skip "$TNAME" "needs $t (apt-get install skopeo umoci gzip openssl)"; exit 0; }
done
BB=$TOP/rootfs/busybox.tar
[ -f "$BB" ] || { skip "$TNAME" "no rootfs/busybox.tar (make image)"; exit 0; }
I=$MYDOCKER_ROOT/images
W=$T/w
mkdir -p "$W"

# --- archives: umoci makes an OCI layout of 3 gzip layers ----------------------------------------
# 1: busybox; 2: /bin/ls deleted (whiteout), /newdir/f added; 3 (a hand-made tar): /newdir opaque
# with only g in it, /bin/cat deleted. Config: Env FOO=bar, WorkingDir /tmp.
(
	cd "$W" && umoci init --layout oci && umoci new --image oci:t &&
	umoci unpack --image oci:t b1 && tar -C b1/rootfs -xf "$BB" && umoci repack --image oci:t b1 &&
	umoci config --image oci:t --config.env FOO=bar --config.workingdir /tmp --config.cmd sh &&
	umoci unpack --image oci:t b2 && rm b2/rootfs/bin/ls && mkdir b2/rootfs/newdir &&
	echo f > b2/rootfs/newdir/f && umoci repack --image oci:t b2 &&
	mkdir -p l3/newdir l3/bin && echo g > l3/newdir/g && : > l3/newdir/.wh..wh..opq && : > l3/bin/.wh.cat &&
	tar -C l3 -cf l3.tar . && umoci raw add-layer --image oci:t l3.tar && umoci gc --layout oci &&
	rm -rf b1 b2 l3 l3.tar && tar -C oci -cf oci.tar . &&
	skopeo copy -q oci:oci:t docker-archive:"$W/da.tar":bb2:v1
) > "$T/setup.log" 2>&1 || { _fail "build test archives" "$(tail -5 "$T/setup.log")"; exit 1; }

# what the store holds: layers, links, configs, tags, staging dirs
store() { echo "$(ls "$I/layers" 2>/dev/null | wc -l) $(ls "$I/l" 2>/dev/null | wc -l) $(ls "$I/configs" | wc -l) $(grep -c sha256 "$I/repositories.json" 2>/dev/null || echo 0) $(ls "$I/tmp" | wc -l)"; }
# repack an OCI dir as a tar
otar() { tar -C "$1" -cf "$2" .; }

# --- load ----------------------------------------------------------------------------------------
testing "load skopeo docker-archive" "'$MD' load -q -i '$W/da.tar'" "Loaded image: bb2:v1\n"
testing "images lists it" "'$MD' images | awk '\$1==\"bb2\"{print \$1, \$2}'" "bb2 v1\n"
testing "three layers stored by ChainID, with short links" \
	"ls '$I/layers' | wc -l; ls '$I/l' | awk '{print length(\$0)}' | sort -u" "3\n16\n"
testing "whiteout stored as a 0:0 char device above the file" \
	"stat -c '%F %t:%T' '$I'/l/*/bin/ls | sort" "character special file 0:0\nregular file 0:0\n"
check "opaque dir carries trusted.overlay.opaque=y" sh -c \
	"for d in '$I'/l/*/newdir; do getfattr --only-values -n trusted.overlay.opaque \"\$d\" 2>/dev/null; done | grep -qx y || \
	 python3 -c 'import glob,os,sys; sys.exit(0 if any(os.getxattr(d,\"trusted.overlay.opaque\")==b\"y\" for d in glob.glob(\"$I/l/*/newdir\") if \"trusted.overlay.opaque\" in os.listxattr(d)) else 1)'"
testing "run sees whiteouts, opaque dir, env and workdir" \
	"'$MD' run --rm bb2:v1 sh -c 'ls /newdir; ls /bin/ls /bin/cat 2>&1 | wc -l; echo \$FOO; pwd; ls /bin/sh'" \
	"g\n2\nbar\n/tmp\n/bin/sh\n"
testing "load OCI layout tar (gzip layers) shares the layers" \
	"'$MD' load -q -i '$W/oci.tar' -t oci:1; ls '$I/layers' | wc -l" "Loaded image: oci:1\n3\n"
testing "same image ID from both formats" "'$MD' images -q --no-trunc | sort -u | wc -l" "1\n"
check "layers were gzip" grep -q 'tar+gzip' "$W"/oci/blobs/sha256/*
testing "load from stdin" "'$MD' load -q < '$W/oci.tar' | sed 's/sha256:[0-9a-f]*/ID/'" "Loaded image ID: ID\n"

# --- refused archives leave nothing --------------------------------------------------------------
before=$(store)
refuse() {	# refuse NAME PATTERN ARCHIVE [load options]
	_rn=$1 _rp=$2 _ra=$3; shift 3
	expect_err "$_rn refused" "$_rp" "$MD" load -q -i "$_ra" "$@"
	_now=$(store)
	if [ "$_now" = "$before" ]; then _pass "$_rn leaves nothing"; else _fail "$_rn leaves nothing" "store was: $before, now: $_now"; fi
}
# a fresh copy of the OCI layout to damage
ocicopy() { rm -rf "$W/x"; cp -a "$W/oci" "$W/x"; }
# the blob of the biggest layer
biglayer() { ls -S "$W"/x/blobs/sha256/* | head -n 1; }

ocicopy; f=$(biglayer); chmod u+w "$f"
printf 'X' | dd of="$f" bs=1 seek=1000 conv=notrunc 2>/dev/null; otar "$W/x" "$W/bad.tar"
refuse "tampered blob" "does not match its digest" "$W/bad.tar"
ocicopy; f=$(biglayer); rm "$f"; otar "$W/x" "$W/bad.tar"
refuse "missing blob" "missing from the archive" "$W/bad.tar"
ocicopy; sed -i 's/"size":\([0-9]*\)/"size":1\1/' "$W/x/index.json"; otar "$W/x" "$W/bad.tar"
refuse "wrong size" "bytes, the manifest says" "$W/bad.tar"
ocicopy; sed -i 's/"digest":"sha256:[0-9a-f]*"/"digest":"sha256:..\/..\/..\/etc\/passwd"/' "$W/x/index.json"; otar "$W/x" "$W/bad.tar"
refuse "sha256:../ digest" "invalid digest" "$W/bad.tar"

# docker-archive variants: edit manifest.json / the config inside a copy
dacopy() { rm -rf "$W/d"; mkdir "$W/d"; tar -C "$W/d" -xf "$W/da.tar"; chmod -R u+w "$W/d"; }
datar() { tar -C "$W/d" -cf "$W/bad.tar" .; }
dacopy; sed -i 's/"Layers":\["[^"]*"/"Layers":["..\/..\/..\/etc\/passwd"/' "$W/d/manifest.json"; datar
refuse "../ path in manifest.json" "escapes the archive" "$W/bad.tar"
dacopy; sed -i 's/"Layers":\["[^"]*"/"Layers":["\/etc\/passwd"/' "$W/d/manifest.json"; datar
refuse "absolute path in manifest.json" "escapes the archive" "$W/bad.tar"
dacopy; l=$(ls -S "$W"/d/*.tar | head -n 1); gzip -nc "$l" 2>/dev/null | head -c 300000 > "$l.x"; dd if=/dev/urandom bs=1k count=300 >> "$l.x" 2>/dev/null; mv "$l.x" "$l"; datar
refuse "corrupt gzip layer" "gzip|diff_id|corrupt" "$W/bad.tar"
dacopy; l=$(ls -S "$W"/d/*.tar | head -n 1); printf '\050\265\057\375zstd data' > "$l"; datar
refuse "zstd layer" "zstd-compressed layers are not supported" "$W/bad.tar"
dacopy; l=$(ls -S "$W"/d/*.tar | head -n 1); gzip -n9 "$l" 2>/dev/null; mv "$l.gz" "$l"; datar
testing "gzip layer in a docker archive" "'$MD' load -q -i '$W/bad.tar' -t gz:1" "Loaded image: bb2:v1\nLoaded image: gz:1\n"
before=$(store)
MYDOCKER_LAYER_MAX=100000 refuse "layer over MYDOCKER_LAYER_MAX (gzip bomb)" "limit" "$W/bad.tar" -t bomb:1 2>/dev/null
dacopy; cfg=$(ls "$W"/d/*.json | grep -v manifest); echo ' ' >> "$cfg"; datar
before=$(store)
refuse "config not matching its name" "does not match its digest" "$W/bad.tar"
expect_err "rootfs tarball is not an image archive" "not an image archive" "$MD" load -i "$BB"

# a fresh root: diff_id check when the layers must be unpacked
(
	export MYDOCKER_ROOT=$T/root2
	dacopy; l=$(ls -S "$W"/d/*.tar | head -n 1); tar -C "$W" -cf "$l" setup.log 2>/dev/null || tar -C "$T" -cf "$l" setup.log; datar
	expect_err "layer not matching its diff_id refused" "does not match the config's diff_id" "$MD" load -q -i "$W/bad.tar"
	testing "refused load in a fresh root leaves nothing" "find '$T/root2/images' -mindepth 2 | grep -v /images/l\$ | wc -l" "0\n"
	# MYDOCKER_LAYER_MAX bounds what a layer may unpack to
	dacopy; datar
	MYDOCKER_LAYER_MAX=100000 expect_err "layer over MYDOCKER_LAYER_MAX refused" "limit of 100000 bytes" "$MD" load -q -i "$W/bad.tar"
	# an arm64 image (config edited, renamed to its new digest)
	dacopy; l=$(ls -S "$W"/d/*.tar | head -n 1); cfg=$(ls "$W"/d/*.json | grep -v manifest)
	sed -i 's/"architecture":"amd64"/"architecture":"arm64"/' "$cfg"
	new=$(sha256sum "$cfg" | cut -c1-64); mv "$cfg" "$W/d/$new.json"
	sed -i "s/\"Config\":\"[0-9a-f]*.json\"/\"Config\":\"$new.json\"/" "$W/d/manifest.json"; datar
	I=$T/root2/images; before=$(store)
	[ "$(uname -m)" = x86_64 ] && refuse "wrong architecture" "image is for linux/arm64" "$W/bad.tar"
	testing "--platform accepts it" "'$MD' load -q -i '$W/bad.tar' --platform linux/arm64 | cut -c1-13" "Loaded image:\n"
)

# --- OCI index with two platforms: this machine's is picked ---------------------------------------
ocicopy
m=$(sed 's/.*"digest":"sha256:\([0-9a-f]*\)".*/\1/' "$W/x/index.json"); ms=$(stat -c %s "$W/x/blobs/sha256/$m")
cat > "$W/x/index2.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$m","size":$ms,"platform":{"os":"linux","architecture":"s390x"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$m","size":$ms,"platform":{"os":"linux","architecture":"$("$MD" version >/dev/null; case $(uname -m) in x86_64) echo amd64;; aarch64) echo arm64;; *) uname -m;; esac)"}}]}
EOF
n=$(sha256sum "$W/x/index2.json" | cut -c1-64); ns=$(stat -c %s "$W/x/index2.json"); mv "$W/x/index2.json" "$W/x/blobs/sha256/$n"
echo "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"sha256:$n\",\"size\":$ns,\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/multi:1\"}}]}" > "$W/x/index.json"
otar "$W/x" "$W/multi.tar"
testing "nested index: this platform picked" "'$MD' load -q -i '$W/multi.tar'" "Loaded image: multi:1\n"
expect_err "nested index: other platform refused" "no image for linux/riscv64 .*s390x" "$MD" load -q -i "$W/multi.tar" --platform linux/riscv64

# --- save ----------------------------------------------------------------------------------------
check "save" "$MD" save -q -o "$W/s.tar" bb2:v1
check "skopeo inspect docker-archive: of our save" sh -c "skopeo inspect docker-archive:'$W/s.tar' | grep -q FOO=bar"
check "skopeo inspect oci-archive: of our save" sh -c "skopeo inspect oci-archive:'$W/s.tar':v1 | grep -q FOO=bar"
testing "save -> load round trip in a fresh root" \
	"MYDOCKER_ROOT='$T/root3' '$MD' load -q -i '$W/s.tar' && MYDOCKER_ROOT='$T/root3' '$MD' run --rm bb2:v1 sh -c 'ls /newdir; ls /bin/ls 2>&1 | wc -l; echo \$FOO'" \
	"Loaded image: bb2:v1\ng\n1\nbar\n"
check "save of the loaded save is byte-identical (same image ID)" sh -c \
	"MYDOCKER_ROOT='$T/root3' '$MD' save -q bb2:v1 | cmp -s - '$W/s.tar'"
rm -rf "$T/root3"
expect_err "save of an unknown image" "No such image" "$MD" save -o "$W/none.tar" nope:1
check "failed save leaves no file" test ! -e "$W/none.tar"

# --- commit and export ---------------------------------------------------------------------------
"$MD" run --name c1 bb2:v1 sh -c 'echo added > /added; rm /bin/echo; rm -rf /newdir; mkdir /newdir; echo z > /newdir/z' >/dev/null 2>&1
testing "commit prints the new image id" "'$MD' commit c1 bb3:v1 | cut -c1-7" "sha256:\n"
testing "committed image: file added, file deleted, dir replaced" \
	"'$MD' run --rm bb3:v1 sh -c 'cat /added; ls /bin/echo 2>&1 | wc -l; ls /newdir'" "added\n1\nz\n"
testing "commit adds one layer" "'$MD' inspect bb3:v1 | grep -o 'sha256:[0-9a-f]\{64\}' | sort -u | wc -l" "4\n"
check "commit -o writes an archive skopeo reads" sh -c "'$MD' commit -o '$W/c.tar' c1 bb4:v1 >/dev/null && skopeo inspect docker-archive:'$W/c.tar' >/dev/null"
check "export -o prints the archive's sha256" sh -c "[ \"\$('$MD' export -o '$W/ex.tar' c1)\" = \"sha256:\$(sha256sum '$W/ex.tar' | cut -c1-64)\" ]"
check "export: GNU tar lists it with the changes" sh -c "tar -tf '$W/ex.tar' | grep -qx added && tar -tf '$W/ex.tar' | grep -qx newdir/z && ! tar -tf '$W/ex.tar' | grep -qx 'bin/echo' && ! tar -tf '$W/ex.tar' | grep -q '\.wh\.'"
testing "export -> import -> run" "'$MD' import -q '$W/ex.tar' exp:1 >/dev/null && '$MD' run --rm exp:1 sh -c 'cat /added; ls /newdir'" "added\nz\n"
testing "export to stdout equals -o" "'$MD' export c1 2>/dev/null | sha256sum | cut -c1-64" "$(sha256sum "$W/ex.tar" | cut -c1-64)\n"
"$MD" rm -f c1 >/dev/null 2>&1
if "$MD" run -d --name c2 bb2:v1 sh -c 'echo live > /y; sleep 60' >/dev/null 2>&1; then
	sleep 0.5
	testing "commit of a running container" "'$MD' commit c2 live:1 >/dev/null && '$MD' run --rm live:1 sh -c 'read l < /y; echo \$l'" "live\n"
	"$MD" rm -f c2 >/dev/null 2>&1
else
	_fail "commit of a running container: run -d"
fi

# --- signatures ----------------------------------------------------------------------------------
openssl ecparam -name prime256v1 -genkey -noout -out "$W/ec.pem" 2>/dev/null
openssl pkey -in "$W/ec.pem" -pubout -out "$W/ec.pub"
openssl genrsa -out "$W/rsa.pem" 2048 2>/dev/null
openssl pkey -in "$W/rsa.pem" -pubout -out "$W/rsa.pub"
cp "$W/da.tar" "$W/sig.tar"
openssl dgst -sha256 -sign "$W/ec.pem" -out "$W/sig.tar.sig" "$W/sig.tar"
testing "load --verify-key: good ECDSA signature" "'$MD' load -q -i '$W/sig.tar' --verify-key '$W/ec.pub'" "Loaded image: bb2:v1\n"
expect_err "load --verify-key: wrong key refused" "does not match" "$MD" load -q -i "$W/sig.tar" --verify-key "$W/rsa.pub"
openssl dgst -sha256 -sign "$W/rsa.pem" -out "$W/sig.tar.sig" "$W/sig.tar"
testing "load --verify-key: good RSA signature" "'$MD' load -q -i '$W/sig.tar' --verify-key '$W/rsa.pub'" "Loaded image: bb2:v1\n"
testing "stdin with --signature" "'$MD' load -q --verify-key '$W/rsa.pub' --signature '$W/sig.tar.sig' < '$W/sig.tar'" "Loaded image: bb2:v1\n"
before=$(store)
printf 'x' >> "$W/sig.tar"
refuse "tampered signed archive" "does not match" "$W/sig.tar" --verify-key "$W/rsa.pub"
rm "$W/sig.tar.sig"
refuse "unsigned archive" "signature required" "$W/sig.tar" --verify-key "$W/rsa.pub"
cp "$W/rsa.pub" "$MYDOCKER_ROOT/verify-key.pem"
refuse "ROOT/verify-key.pem requires signatures" "signature required" "$W/sig.tar"
expect_err "... on import too" "signature required" "$MD" import "$BB" unsigned:1
cp "$BB" "$W/bb.tar"; openssl dgst -sha256 -sign "$W/rsa.pem" -out "$W/bb.tar.sig" "$W/bb.tar"
testing "signed import accepted" "'$MD' import -q '$W/bb.tar' signed:1 | cut -c1-7" "sha256:\n"
rm "$MYDOCKER_ROOT/verify-key.pem"
MYDOCKER_VERIFY_KEY=$W/ec.pub expect_err "MYDOCKER_VERIFY_KEY requires signatures" "signature required" "$MD" load -q -i "$W/da.tar"

# --- rmi keeps shared layers ---------------------------------------------------------------------
for r in $("$MD" images | awk 'NR>1{print $1":"$2}') $(ls "$I/configs" | cut -c1-64); do "$MD" rmi -f "$r" >/dev/null 2>&1; done
testing "rmi of everything removes every layer and link" "find '$I/layers' '$I/l' '$I/configs' -mindepth 1 | wc -l" "0\n"

# --- many layers: 100 stacked layers (each adds /layers/N) -----------------------------------------
mkdir -p "$W/many/d"
(
	cd "$W/many" && cp "$BB" d/base.tar && ids="\"sha256:$(sha256sum d/base.tar | cut -c1-64)\"" && ls='"base.tar"'
	i=1; while [ $i -le 99 ]; do
		mkdir -p "r$i/layers" && echo $i > "r$i/layers/$i" && tar -C "r$i" -cf "d/$i.tar" layers/$i &&
		ids="$ids,\"sha256:$(sha256sum "d/$i.tar" | cut -c1-64)\"" && ls="$ls,\"$i.tar\"" && i=$((i+1))
	done
	printf '{"architecture":"%s","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$(case $(uname -m) in x86_64) echo amd64;; aarch64) echo arm64;; *) uname -m;; esac)" "$ids" > cfg
	c=$(sha256sum cfg | cut -c1-64); mv cfg "d/$c.json"
	printf '[{"Config":"%s.json","RepoTags":["many:1"],"Layers":[%s]}]' "$c" "$ls" > d/manifest.json
	tar -C d -cf many.tar .
)
testing "load a 100-layer image" "'$MD' load -q -i '$W/many/many.tar'" "Loaded image: many:1\n"
testing "run a 100-layer image" "'$MD' run --rm many:1 sh -c 'ls /layers | wc -l; cat /layers/99'" "99\n99\n"
"$MD" rmi many:1 >/dev/null
