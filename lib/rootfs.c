/* rootfs: the container's mount namespace: overlay root, /proc, /sys, /dev, /etc files, volumes, pivot_root.
 * Every path inside the new root is opened relative to its directory fd with openat2(RESOLVE_IN_ROOT),
 * so a symlink planted in an image or upper layer never leads a mount out of the container. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/openat2.h>
#include "rootfs.h"
#include "storage.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* path resolved inside rootfd as if it were "/"; O_PATH fd or -1 (errno) */
static int in_root(int rootfd, const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	return syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Open path in the root, creating missing directories and (want_file) the last component as a file.
 * A dangling symlink on the way is followed by creating its target, resolved inside the root too. */
static NOINLINE int open_in_root_n(int rootfd, const char *path, int want_file, int depth, struct err *e)
{
	char p[4096], link[4096], next[8192];
	int fd = in_root(rootfd, path);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : err_set(e, errno, "open %s in the container", path);
	if (strlen(path) >= sizeof(p) || depth > 40)
		return err_set(e, depth > 40 ? ELOOP : ENAMETOOLONG, "%s", path);
	strcpy(p, path);
	int dirfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	char *comp = p + strspn(p, "/");
	while (*comp && dirfd >= 0) {
		char *end = strchrnul(comp, '/'), save = *end;
		int last = !end[strspn(end, "/")];
		*end = 0;
		fd = in_root(rootfd, p);
		if (fd < 0 && errno == ENOENT) {
			int r = last && want_file ?
				openat(dirfd, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644) :
				mkdirat(dirfd, comp, 0755);
			if (r > 0)
				close(r);
			ssize_t n = r < 0 && errno == EEXIST ? readlinkat(dirfd, comp, link, sizeof(link) - 1) : -1;
			if (n > 0) {
				/* dangling symlink: continue at its target (relative to its directory) */
				link[n] = 0;
				comp[-1] = 0;
				*end = save;
				snprintf(next, sizeof(next), "%s/%s%s", link[0] == '/' ? "" : p, link, end);
				close(dirfd);
				return open_in_root_n(rootfd, next, want_file, depth + 1, e);
			}
			fd = r < 0 && errno != EEXIST ? -1 : in_root(rootfd, p);
		}
		int no = errno;
		close(dirfd);
		if (fd < 0)
			return err_set(e, no, "create %s in the container", p);
		dirfd = fd;
		*end = save;
		comp = end + strspn(end, "/");
	}
	return dirfd;
}

static int open_in_root(int rootfd, const char *path, int want_file, struct err *e)
{
	int fd = in_root(rootfd, path);	/* the common case: it is there */
	return fd >= 0 ? fd : open_in_root_n(rootfd, path, want_file, 0, e);
}

static int mount_fd(const char *src, int fd, const char *type, unsigned long fl, const char *data)
{
	char p[32];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	return mount(src, p, type, fl, data) ? -errno : 0;
}

/* mount src on path inside the root (created if missing) */
static int mnt_in(int rootfd, const char *path, const char *src, const char *type, unsigned long fl,
		  const char *data, int want_file, struct err *e)
{
	int fd = open_in_root(rootfd, path, want_file, e);
	if (fd < 0)
		return fd;
	int r = mount_fd(src, fd, type, fl, data);
	close(fd);
	return r ? err_set(e, -r, "mount %s on %s", type ? type : src, path) : 0;
}

/* All layers in one directory (the store's short links): its path, so lowerdirs can be relative. */
static size_t common_dir(const struct mnt_spec *m)
{
	const char *slash = m->nlayers ? strrchr(m->layers[0], '/') : NULL;
	size_t n = slash ? (size_t)(slash - m->layers[0]) : 0;
	for (int i = 1; i < m->nlayers && n; i++)
		if (strncmp(m->layers[i], m->layers[0], n) || m->layers[i][n] != '/' ||
		    strchr(m->layers[i] + n + 1, '/'))
			n = 0;
	return n;
}

/* vfs: ROOT/containers/<id>/rootfs bound on merged, a mount of its own to pivot into (or move) */
static NOINLINE int mnt_copy(const char *dir, const char *merged, struct err *e)
{
	char src[4200];
	snprintf(src, sizeof(src), "%s/rootfs", dir);
	return mount(src, merged, NULL, MS_BIND, NULL) ? err_set(e, errno, "bind %s on %s", src, merged) : 0;
}

/* Mount the overlay with options o. A --rm container's upper layer is thrown away at its exit, so
 * it is mounted "volatile" (Linux >= 5.10): no sync of the whole upper filesystem when the
 * container's mount namespace goes, which otherwise is most of the time a short container takes
 * to stop. Such a mount leaves work/work/incompat/volatile, which refuses any later mount of the
 * same dirs (a --rm container started again): overlay's scratch dir work/work goes, and the mount
 * is tried again; kernels without the option get a plain mount. */
static int overlay(const struct mnt_spec *m, const char *merged, struct buf *o)
{
	char p[4096];
	size_t plain = o->len;
	if (m->scratch && buf_puts(o, ",volatile"))
		return errno = ENOMEM, -1;
	if (!mount("overlay", merged, "overlay", 0, o->p))
		return 0;
	if (!m->scratch || errno != EINVAL)
		return -1;
	snprintf(p, sizeof(p), "%s/work/work", m->dir);	/* overlay's scratch dir: emptied at every mount */
	if (!rm_rf(p) && !mount("overlay", merged, "overlay", 0, o->p))
		return 0;
	o->p[plain] = 0;
	return mount("overlay", merged, "overlay", 0, o->p);
}

/* lowerdir = the image layers, top-most first; upper/work = this container's own. The options
 * must fit one page: with the layers as short names relative to their directory, ~230 fit. */
static NOINLINE int mnt_overlay(const struct mnt_spec *m, const char *merged, struct err *e)
{
	struct buf o = { 0 };
	size_t cd = common_dir(m);
	int r = buf_puts(&o, "lowerdir=");
	for (int i = m->nlayers - 1; i >= 0 && !r; i--)
		r = buf_printf(&o, "%s%s", i == m->nlayers - 1 ? "" : ":", m->layers[i] + (cd ? cd + 1 : 0));
	if (!r)
		r = buf_printf(&o, ",upperdir=%s/upper,workdir=%s/work", m->dir, m->dir);
	if (r)
		return err_set(e, ENOMEM, "overlay options");
	char dir[4096];
	snprintf(dir, sizeof(dir), "%.*s", (int)cd, m->layers[0]);
	if (strchr(m->dir, ',') || strchr(m->dir, ':') || strchr(o.p + 9, '\\'))
		r = err_set(e, EINVAL, "overlay: state root path must not contain ',' ':' or '\\'");
	else if (o.len >= 4096)
		r = err_set(e, E2BIG, "overlay: too many layers for one mount");
	else if (cd && chdir(dir))
		r = err_set(e, errno, "chdir %s", dir);
	else if (overlay(m, merged, &o))
		r = err_set(e, errno, "mount overlay on %s", merged);
	if (cd && chdir("/") && !r)
		r = err_set(e, errno, "chdir /");
	buf_free(&o);
	return r;
}

/* a small tmpfs with the safe device nodes, devpts, shm and the usual links (nodes_only: an OCI
 * spec mounted /dev itself; just the nodes and links) */
static NOINLINE int mnt_dev(int rootfd, int console, int nodes_only, struct err *e)
{
	static const struct { const char *name; unsigned ma, mi; } nodes[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	static const char *links[][2] = {
		{ "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
	};
	char host[32];
	if (!nodes_only && mnt_in(rootfd, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=256k", 0, e))
		return -e->no;
	int dev = open_in_root(rootfd, "/dev", 0, e), r = 0;
	if (dev < 0)
		return dev;
	for (size_t i = 0; i < ARRAY_SIZE(nodes) && !r; i++) {
		if (!mknodat(dev, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].ma, nodes[i].mi)))
			continue;
		/* no mknod (a user namespace, a nodev host): bind the host's node instead */
		int f = openat(dev, nodes[i].name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
		snprintf(host, sizeof(host), "/dev/%s", nodes[i].name);
		r = f < 0 ? -errno : mount_fd(host, f, NULL, MS_BIND, NULL);
		if (f >= 0)
			close(f);
		if (r)
			err_set(e, -r, "create /dev/%s", nodes[i].name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(links) && !r; i++)
		if (symlinkat(links[i][0], dev, links[i][1]))
			r = err_set(e, errno, "symlink /dev/%s", links[i][1]);
	if (!r && console) {
		int f = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		r = f < 0 ? err_set(e, errno, "create /dev/console") : close(f);
	}
	/* the mount points below, in our own fresh tmpfs */
	for (const char *d = "pts\0shm\0"; !r && !nodes_only && *d; d += strlen(d) + 1)
		if (mkdirat(dev, d, 0755))
			r = err_set(e, errno, "mkdir /dev/%s", d);
	close(dev);
	if (r || nodes_only)
		return r;
	/* our own devpts instance: ptys of this container only, usable by any user in it */
	if (mnt_in(rootfd, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
		   "newinstance,ptmxmode=0666,mode=0620,gid=5", 0, e) ||
	    mnt_in(rootfd, "/dev/shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", 0, e))
		return -e->no;
	return 0;
}

/* /etc/hostname, /etc/hosts and /etc/resolv.conf (a copy of the host's, as docker does; empty if
 * the host has none): made afresh at every start in the container's own /dev tmpfs, bound over the
 * image's files and unlinked there, so they cost the state root nothing and never reach a commit. */
static NOINLINE int mnt_etc(int rootfd, const char *hostname, struct err *e)
{
	static const char *names[] = { "hostname", "hosts", "resolv.conf" };
	struct buf t[3] = { { 0 } };
	char src[64], dst[32], tmp[32];
	int r = buf_printf(&t[0], "%s\n", hostname) || buf_printf(&t[1], "127.0.0.1\tlocalhost\n"
		"::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t%s\n", hostname) ? -ENOMEM : 0;
	if (!r)
		read_file_at(AT_FDCWD, "/etc/resolv.conf", 65536, &t[2]);	/* missing: empty */
	int dev = r ? -1 : open_in_root(rootfd, "/dev", 0, e);
	if (r || dev < 0) {
		for (int i = 0; i < 3; i++)
			buf_free(&t[i]);
		return r ? err_set(e, -r, "/etc files") : dev;
	}
	for (int i = 0; i < 3 && !r; i++) {
		snprintf(tmp, sizeof(tmp), ".etc-%s", names[i]);
		int f = openat(dev, tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		r = f < 0 ? -errno : write_all(f, t[i].p, t[i].len);
		if (f >= 0)
			close(f);
		if (r) {
			r = err_set(e, -r, "create /etc/%s", names[i]);
			break;
		}
		snprintf(src, sizeof(src), "/proc/self/fd/%d/%s", dev, tmp);
		snprintf(dst, sizeof(dst), "/etc/%s", names[i]);
		r = mnt_in(rootfd, dst, src, NULL, MS_BIND, NULL, 1, e);
		unlinkat(dev, tmp, 0);
	}
	close(dev);
	for (int i = 0; i < 3; i++)
		buf_free(&t[i]);
	return r;
}

/* -v SRC:DST[:ro]: bind, then remount the new mount read-only (bind flags cannot be set at once) */
static NOINLINE int mnt_volume(int rootfd, const struct vol *v, struct err *e)
{
	struct stat st;
	if (stat(v->src, &st))
		return err_set(e, errno, "volume %s", v->src);
	if (mnt_in(rootfd, v->dst, v->src, NULL, MS_BIND | MS_REC, NULL, !S_ISDIR(st.st_mode), e))
		return err_wrap(e, "volume");
	if (v->ro && mnt_in(rootfd, v->dst, NULL, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
			    NULL, 0, e))
		return err_wrap(e, "volume read-only");
	return 0;
}

/* Swap the root: pivot_root(".", ".") stacks the old root on the new one, then detach it. */
static NOINLINE int mnt_pivot(const char *merged, struct err *e)
{
	if (chdir(merged))
		return err_set(e, errno, "chdir %s", merged);
	if (!syscall(SYS_pivot_root, ".", ".")) {
		if (umount2(".", MNT_DETACH))
			return err_set(e, errno, "detach the old root");
	} else if (errno == EINVAL) {
		/* / is an initramfs (rootfs cannot be unmounted): move the new root over it and chroot */
		if (mount(".", "/", NULL, MS_MOVE, NULL) || chroot("."))
			return err_set(e, errno, "move the root");
	} else {
		return err_set(e, errno, "pivot_root %s", merged);
	}
	return chdir("/") ? err_set(e, errno, "chdir /") : 0;
}

/* OCI: the bundle's root directory bound on itself, a mount of its own to pivot into */
static NOINLINE int mnt_bundle_root(const char *root, struct err *e)
{
	return mount(root, root, NULL, MS_BIND | MS_REC, NULL) ? err_set(e, errno, "bind the root %s", root) : 0;
}

/* OCI: the spec's mounts in order; a bind takes its flags by a remount of the new mount */
static NOINLINE int mnt_list(int rootfd, const struct mnt_spec *m, struct err *e)
{
	int dev = 0;
	for (int i = 0; i < m->nmounts; i++) {
		const struct mnt_entry *t = &m->mounts[i];
		struct stat st;
		int bind = !t->type, file = bind && !stat(t->src, &st) && !S_ISDIR(st.st_mode);
		unsigned long fl = t->flags & ~MS_REC;
		if (mnt_in(rootfd, t->dst, t->src, t->type, bind ? MS_BIND | (t->flags & MS_REC) : t->flags, t->data,
			   file, e) ||
		    (bind && fl && mnt_in(rootfd, t->dst, NULL, NULL, MS_BIND | MS_REMOUNT | fl, NULL, 0, e)) ||
		    (t->prop && mnt_in(rootfd, t->dst, NULL, NULL, t->prop, NULL, 0, e)))
			return -e->no;
		dev |= !strcmp(t->dst, "/dev");
	}
	/* a /dev of its own: the safe nodes and links, as runc and crun make them */
	if (dev && mnt_dev(rootfd, m->console, 1, e))
		return -e->no;
	int fd = m->cwd ? open_in_root(rootfd, m->cwd, 0, e) : 0;
	return fd > 0 ? close(fd) : fd;
}

int mnt_rootfs(const struct mnt_spec *m, struct err *e)
{
	char merged[4096];
	int r = 0;
	snprintf(merged, sizeof(merged), m->root ? "%s" : "%s/merged", m->root ? m->root : m->dir);
	/* nothing mounted from here on may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | (m->root ? MS_SLAVE : MS_PRIVATE), NULL))	/* OCI: rslave, as runc */
		return err_set(e, errno, "make / private");
	/* the root: the image's shared read-only layers under this container's upper layer, or where
	 * overlay cannot work, the container's own copy of the image (storage.h) */
	if (m->root ? mnt_bundle_root(merged, e) : stg_is_copy(m->dir) ? mnt_copy(m->dir, merged, e) :
	    mnt_overlay(m, merged, e))
		return -e->no;
	int rootfd = openat(AT_FDCWD, merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_set(e, errno, "open %s", merged);
	/* an OCI bundle: its spec's mounts in order, instead of the defaults below */
	if (m->mounts)
		r = mnt_list(rootfd, m, e);
	/* a procfs of the new PID namespace; sysfs read-only (allowed: we own a network namespace) */
	else if (mnt_in(rootfd, "/proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0, e) ||
	    mnt_in(rootfd, "/sys", "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0, e) ||
	    mnt_dev(rootfd, m->console, 0, e))
		r = -e->no;
	/* per-container /etc files; the image layer stays untouched */
	if (!r && !m->root)
		r = mnt_etc(rootfd, m->hostname, e);
	/* volumes last: they may cover anything above */
	for (int i = 0; i < m->nvols && !r; i++)
		r = mnt_volume(rootfd, &m->vols[i], e);
	close(rootfd);
	if (r)
		return r;
	/* --read-only: only the root itself; volumes, /dev, /proc and /etc files keep their own flags */
	if (m->read_only && mount(NULL, merged, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
		return err_set(e, errno, "remount the root read-only");
	return mnt_pivot(merged, e);
}

int mnt_console(int slave, struct err *e)
{
	char p[32];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", slave);
	return mount(p, "/dev/console", NULL, MS_BIND, NULL) ? err_set(e, errno, "bind /dev/console") : 0;
}
