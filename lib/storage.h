/* storage: where a container's root file system comes from.
 *
 *   overlay  the image's layers (read-only, shared by every container) under the container's own
 *            upper dir: ROOT/containers/<id>/{upper,work,merged}. The normal case.
 *   vfs      a private copy of the image in ROOT/containers/<id>/rootfs, made once when the
 *            container is created, where overlay cannot work: the kernel has no overlay file system,
 *            or the state root is on one that cannot hold an upper dir (overlayfs itself, NFS, ...).
 *            Docker's vfs driver, without the per-layer copies. The copy keeps hard links, owners,
 *            modes, times and xattrs (file capabilities included) and applies the layers' whiteouts.
 * The container's directory says which one it uses: rootfs/ exists -> vfs. */
#ifndef MYDOCKER_STORAGE_H
#define MYDOCKER_STORAGE_H

#include "util.h"

/* A real test in a child with a private mount namespace, in a temporary directory under dir (removed
 * again): an overlay with its upper dir there and a write through it; pivot_root into a tmpfs.
 * Needs root. Fields: 0 works, else the errno that failed. */
struct stg_probe {
	int overlay;
	int pivot;
};
int stg_probe(const char *dir, struct stg_probe *p, struct err *e);

/* Is overlay listed in /proc/filesystems (built in or loaded)? */
int stg_have_overlay(void);

/* Can an overlay with its upper dir in dir be mounted? Fast where the answer is known (overlay in
 * /proc/filesystems and dir on ext4, xfs, btrfs, f2fs or tmpfs), else stg_probe. 1 yes; 0 no with
 * *why = the errno (ENODEV: no overlay in the kernel; EINVAL: dir's file system cannot be an upper). */
int stg_overlay_ok(const char *dir, int *why);

/* Copy the layers (lowest first) into dst, a directory to be created (it must not exist):
 * each layer merged over the ones below, its whiteouts deleting, its opaque directories hiding. */
int stg_copy_layers(char *const *layers, int nlayers, const char *dst, struct err *e);

/* At create: where overlay cannot work under the container directory dir, copy the layers into
 * dir/rootfs (built as dir/rootfs.tmp, renamed when complete). *copied = the errno that ruled overlay
 * out (0: overlay is used, nothing copied). Idempotent. */
int stg_prepare(const char *dir, char *const *layers, int nlayers, int *copied, struct err *e);

/* Why overlay was ruled out, for the one notice: from stg_prepare's *copied. */
const char *stg_why(int no);

/* 1 if the container directory dir uses a copy (dir/rootfs exists). */
int stg_is_copy(const char *dir);

#endif
