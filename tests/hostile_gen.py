#!/usr/bin/env python3
"""Hostile archives for tests/t_hostile.sh: python3 hostile_gen.py OUTDIR TARGET

TARGET is an absolute directory (the test's sentinel) that no archive may write into; every
escaping name ends in "mdpwn_*" so a search can find any that got out. Writes:
  i-NAME.tar   flat tarballs for `mydocker import` (R_ prefix: must be refused)
  l-NAME.tar   docker-save archives for `mydocker load` (one hostile layer; R_: must be refused)
"""
import gzip, hashlib, io, json, os, random, sys, tarfile

out, target = sys.argv[1], sys.argv[2].rstrip("/")
rel = target.lstrip("/")
up = "../" * 40
os.makedirs(out, exist_ok=True)


def ent(name, typ=tarfile.REGTYPE, data=b"", link="", mode=0o644, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = typ
    ti.linkname = link
    ti.mode = mode
    ti.size = len(data) if typ in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti, data


def f(name, data=b"mdpwn\n", **kw): return ent(name, data=data, **kw)
def d(name): return ent(name, tarfile.DIRTYPE, mode=0o755)
def sym(name, link): return ent(name, tarfile.SYMTYPE, link=link, mode=0o777)
def hard(name, link): return ent(name, tarfile.LNKTYPE, link=link)


def tarbytes(entries, fmt=tarfile.GNU_FORMAT):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=fmt) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if ti.size else None)
    return bio.getvalue()


def put(name, b):
    with open(os.path.join(out, name), "wb") as fh:
        fh.write(b)


def imp(name, entries, fmt=tarfile.GNU_FORMAT):
    put("i-%s.tar" % name, tarbytes(entries, fmt))


# --- flat tarballs for import ---------------------------------------------------------------
imp("dotdot", [f(up + rel + "/mdpwn_dotdot")])
imp("dotdot-mid", [d("a"), f("a/../../../../../../../../../../../../../../../" + rel + "/mdpwn_mid")])
imp("absolute", [f(target + "/mdpwn_abs")])
imp("dotdot-entry", [f(".."), f("."), f("./../mdpwn_dd")])
imp("symlink-then-file", [sym("s", target), f("s/mdpwn_symfile")])
imp("symlink-rel-then-file", [sym("s", up + rel), f("s/mdpwn_symrel")])
imp("symlink-then-dir", [sym("s", target), d("s/mdpwn_symdir"), f("s/mdpwn_symdir/x")])
imp("dir-then-symlink", [d("d"), sym("d", target), f("d/mdpwn_dirsym")])
imp("dir-with-file-then-symlink", [d("d"), f("d/keep", b"k"), sym("d", target), f("d/mdpwn_dirsym2")])
imp("symlink-chain", [sym("a", "b"), sym("b", "c/d"), d("c"), sym("c/d", "../e"), sym("e", target),
                      f("a/mdpwn_chain")])
imp("symlink-loop", [sym("a", "b"), sym("b", "a"), f("a/mdpwn_loop"), sym("l", "l"), f("l/mdpwn_self")])
imp("symlink-dotdot-dir", [sym("up", ".."), f("up/mdpwn_up"), sym("up2", "up/.."), f("up2/up2/mdpwn_up2")])
imp("hardlink-absolute", [hard("h", target + "/victim"), f("h", b"mdpwn overwritten\n")])
imp("hardlink-dotdot", [hard("h", up + rel + "/victim"), f("h", b"mdpwn overwritten\n")])
imp("hardlink-via-symlink", [sym("s", target), hard("h", "s/victim"), f("h", b"mdpwn overwritten\n")])
imp("hardlink-missing", [hard("h", "does/not/exist")])
imp("hardlink-to-dir", [d("dd"), hard("h", "dd")])
imp("hardlink-self", [hard("h", "h")])
imp("file-over-symlink", [sym("s", target + "/victim"), f("s", b"mdpwn overwritten\n")])
imp("devices", [ent("mem", tarfile.CHRTYPE, devmajor=1, devminor=1),
                ent("sda", tarfile.BLKTYPE, devmajor=8, devminor=0),
                ent(up + rel + "/mdpwn_dev", tarfile.CHRTYPE, devmajor=1, devminor=3)])
# devices an image ships: contained in the layer, and unusable from a container (device cgroup)
dmaj, dmin = (int(x) for x in os.environ.get("HOSTILE_DISK", "8:0").split(":"))
imp("devices-only", [d("bin"), ent("mem", tarfile.CHRTYPE, devmajor=1, devminor=1),
                     ent("kmsg", tarfile.CHRTYPE, devmajor=1, devminor=11),
                     ent("disk", tarfile.BLKTYPE, devmajor=dmaj, devminor=dmin)])
imp("fifo", [ent("p", tarfile.FIFOTYPE), ent(target + "/mdpwn_fifo", tarfile.FIFOTYPE)])
imp("pax-long-dotdot", [f("x/" * 60 + up + rel + "/mdpwn_pax")], tarfile.PAX_FORMAT)
imp("pax-long-link", [sym("l" * 150, target), f("l" * 150 + "/mdpwn_paxlink")], tarfile.PAX_FORMAT)
imp("gnu-long-dotdot", [f("y/" * 60 + up + rel + "/mdpwn_gnu")], tarfile.GNU_FORMAT)
imp("gnu-long-hardlink", [hard("h", "z/" * 60 + up + rel + "/victim")], tarfile.GNU_FORMAT)
imp("setuid-and-modes", [f("suid", b"#!/bin/sh\n", mode=0o6755), d("world"), f("world/x", mode=0o7777)])

good = tarbytes([d("etc"), f("etc/hostname", b"x" * 3000)])
put("i-R_truncated-data.tar", good[:512 * 3 + 100])
put("i-R_truncated-header.tar", good[:700])
bad = bytearray(good)
bad[148:156] = b"0000000\0"
put("i-R_bad-checksum.tar", bytes(bad))
# a header saying 8 GiB, followed by only a little data
big = bytearray(tarbytes([f("big", b"x" * 10)]))
big[124:136] = b"77777777777\0"
s = sum(big[:148]) + 8 * 32 + sum(big[156:512])
big[148:156] = b"%06o\0 " % s
put("i-R_huge-size.tar", bytes(big))
# base-256 size: 2^62 bytes
b256 = bytearray(tarbytes([f("b256", b"x" * 10)]))
b256[124:136] = bytes([0x80, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0])
s = sum(b256[:148]) + 8 * 32 + sum(b256[156:512])
b256[148:156] = b"%06o\0 " % s
put("i-R_huge-base256.tar", bytes(b256))
put("i-empty.tar", b"")
random.seed(10)
put("i-R_random.tar", bytes(random.getrandbits(8) for _ in range(8192)))
put("i-zeros.tar", bytes(1024))
# a pax header whose record length lies
px = bytearray(tarbytes([f("p" * 120, b"x")], tarfile.PAX_FORMAT))
i = px.find(b" path=")
if i > 0:
    px[i - 3:i] = b"999"
    s = sum(px[:148]) + 8 * 32 + sum(px[156:512])
    px[148:156] = b"%06o\0 " % s
put("i-R_pax-bad-length.tar", bytes(px))


# --- docker-save archives for load: one hostile layer each -------------------------------------
def load(name, layer, gz=False):
    diff_id = hashlib.sha256(layer).hexdigest()
    blob = gzip.compress(layer, 1) if gz else layer
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]}}).encode()
    man = json.dumps([{"Config": "cfg.json", "RepoTags": ["hostile:" + name.lower()[:60].strip("_-")],
                       "Layers": ["l/layer.tar"]}]).encode()
    put("l-%s.tar" % name, tarbytes([f("cfg.json", cfg), f("l/layer.tar", blob), f("manifest.json", man)]))


load("bare-wh", tarbytes([d("d"), f("d/.wh.", b"")]))
load("wh-dots", tarbytes([d("d"), f("d/.wh..", b""), f("d/.wh...", b""), f(".wh...", b"")]))
load("wh-through-symlink", tarbytes([sym("s", target), f("s/.wh.victim", b"")]))
load("wh-dotdot-name", tarbytes([f(".wh.." + "/" + up + rel + "/victim", b"")]))
x = tarfile.TarInfo("xd")
x.type = tarfile.DIRTYPE
x.mode = 0o755
x.pax_headers = {"SCHILY.xattr.trusted.overlay.opaque": "y", "SCHILY.xattr.trusted.overlay.redirect": "/etc",
                 "SCHILY.xattr.security.capability": "\x01"}
load("xattrs", tarbytes([(x, b""), f("xd/file", b"ok")], tarfile.PAX_FORMAT))
load("dotdot", tarbytes([f(up + rel + "/mdpwn_ldotdot")]))
load("symlink-then-file", tarbytes([sym("s", target), f("s/mdpwn_lsym")]))
load("R_gzip-bomb", tarbytes([f("zeros", bytes(32 << 20))]), gz=True)
