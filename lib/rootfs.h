/* rootfs: the container's mount namespace: overlay root, /proc, /sys, /dev, /etc files, volumes, pivot_root. */
#ifndef MYDOCKER_ROOTFS_H
#define MYDOCKER_ROOTFS_H

#include "container.h"

struct mnt_spec {
	const char *dir;		/* ROOT/containers/<id>: upper, work, merged (the root's mount point) */
	const char *hostname;		/* for /etc/hostname and /etc/hosts (not for an OCI bundle) */
	char *const *layers;		/* image layer dirs, lowest first */
	int nlayers;
	const struct vol *vols;
	int nvols;
	int read_only;			/* --read-only: the root (not volumes, /dev, /proc) mounted ro */
	int scratch;			/* --rm: the upper layer dies with the container, never synced */
	int console;			/* -t: create /dev/console, bound to the pty later by mnt_console */
	const char *root;		/* OCI bundle: this directory is the root (bound on itself), not dir/merged */
	const struct mnt_entry *mounts;	/* OCI bundle: these mounts in order, instead of /proc, /sys, /dev, ... */
	int nmounts;
	const char *cwd;		/* OCI: the process's working directory, made before the root turns read-only */
};

/* One mount of an OCI spec, its options split into flags and filesystem data. */
struct mnt_entry {
	const char *src, *dst, *type, *data;	/* type NULL: a bind mount of the host path src */
	unsigned long flags;			/* MS_RDONLY, MS_NOSUID, ...; MS_REC with rbind */
	unsigned long prop;			/* MS_PRIVATE/MS_SHARED/MS_SLAVE/MS_UNBINDABLE (|MS_REC), or 0 */
};

/* In a new (unshared) mount namespace: make every mount private, build the root under dir/merged
 * and pivot_root into it (MS_MOVE + chroot where / cannot be pivoted, e.g. an initramfs). Nothing is
 * mounted on the host: everything dies with the namespace. */
int mnt_rootfs(const struct mnt_spec *m, struct err *e);
/* After mnt_rootfs: bind the pty slave over /dev/console. */
int mnt_console(int slave, struct err *e);

#endif
