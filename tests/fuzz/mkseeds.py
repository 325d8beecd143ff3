#!/usr/bin/env python3
"""Seed corpus for fuzz_load: manifest.json / index.json documents naming the fixed image that
fuzz_load.c packs next to them (same bytes, so the same digests). Byte 0: even manifest.json,
odd index.json. Usage: tests/fuzz/mkseeds.py [DIR] (default tests/fuzz/corpus/load)."""
import hashlib, json, os, sys

def h(b): return hashlib.sha256(b).hexdigest()
layer = bytes(1024)
lhex = h(layer)
cfg = ('{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},'
       '"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' % lhex).encode()
chex = h(cfg)
man = ('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
       '"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},'
       '"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":1024}]}'
       % (chex, len(cfg), lhex)).encode()
mhex = h(man)
mdesc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + mhex,
         "size": len(man)}
seeds = {
    "legacy": (0, [{"Config": "cfg.json", "RepoTags": ["fz:1"], "Layers": ["l/layer.tar"]}]),
    "legacy-blobs": (0, [{"Config": "blobs/sha256/" + chex, "RepoTags": ["fz:1", "fz:2"],
                          "Layers": ["blobs/sha256/" + lhex]}]),
    "legacy-notag": (0, [{"Config": "cfg.json", "RepoTags": None, "Layers": ["l/layer.tar"]}]),
    "legacy-two": (0, [{"Config": "cfg.json", "RepoTags": ["a:1"], "Layers": ["l/layer.tar"]},
                       {"Config": "blobs/sha256/" + chex, "RepoTags": ["b"], "Layers": ["l/layer.tar"]}]),
    "legacy-escape": (0, [{"Config": "../cfg.json", "RepoTags": ["x"], "Layers": ["/l/layer.tar"]}]),
    "oci": (1, {"schemaVersion": 2, "manifests": [dict(mdesc, annotations={
        "org.opencontainers.image.ref.name": "fz:oci"})]}),
    "oci-platform": (1, {"schemaVersion": 2, "manifests": [dict(mdesc, platform={
        "architecture": "amd64", "os": "linux"})]}),
    "oci-arm": (1, {"schemaVersion": 2, "manifests": [dict(mdesc, platform={
        "architecture": "arm64", "os": "linux", "variant": "v8"})]}),
    "oci-docker-name": (1, {"schemaVersion": 2, "manifests": [dict(mdesc, annotations={
        "io.containerd.image.name": "docker.io/library/fz:latest"})]}),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "load")
os.makedirs(out, exist_ok=True)
for name, (mode, doc) in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([mode]) + json.dumps(doc).encode())
