/* storage: overlay where it works, else a per-container copy of the image (vfs). See storage.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include "storage.h"

#define OVL_XATTR "trusted.overlay."
#define OPAQUE_XATTR "trusted.overlay.opaque"

/* ---- probing ---- */

static int mk_sub(const char *base, const char *const *sub, int n)
{
	char p[4200];
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", base, sub[i]);
		if (mkdir(p, 0700))
			return -errno;
	}
	return 0;
}

/* Child: everything it mounts dies with its private namespace (/ made private first). */
static void probe_child(const char *dir, int fd)
{
	static const char *const sub[] = { "l", "u", "w", "m", "p" };
	struct stg_probe pr = { EPERM, EPERM };
	char opt[4400], m[4200];
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mk_sub(dir, sub, ARRAY_SIZE(sub)))
		_exit(write(fd, &pr, sizeof(pr)) != sizeof(pr));
	snprintf(opt, sizeof(opt), "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w", dir, dir, dir);
	snprintf(m, sizeof(m), "%s/m", dir);
	pr.overlay = 0;
	if (mount("overlay", m, "overlay", 0, opt))
		pr.overlay = errno;
	else {
		/* mounted is not enough: a write must reach the upper dir */
		snprintf(m, sizeof(m), "%s/m/probe", dir);
		int f = openat(AT_FDCWD, m, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		pr.overlay = f < 0 ? errno : 0;
		if (f >= 0)
			close(f);
	}
	snprintf(m, sizeof(m), "%s/p", dir);
	pr.pivot = 0;
	if (mount("tmpfs", m, "tmpfs", 0, "size=16k") || chdir(m) || syscall(SYS_pivot_root, ".", "."))
		pr.pivot = errno;
	_exit(write(fd, &pr, sizeof(pr)) != sizeof(pr));
}

int stg_probe(const char *dir, struct stg_probe *pr, struct err *e)
{
	char tmp[4200];
	int p[2];
	snprintf(tmp, sizeof(tmp), "%s/.probe-XXXXXX", dir);
	if (!mkdtemp(tmp))
		return err_set(e, errno, "probe in %s", dir);
	if (pipe2(p, O_CLOEXEC)) {
		int no = errno;
		rmdir(tmp);
		return err_set(e, no, "probe: pipe");
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		probe_child(tmp, p[1]);
	}
	int no = errno;
	close(p[1]);
	ssize_t n = pid < 0 ? -1 : read_full(p[0], pr, sizeof(*pr));
	close(p[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	rm_rf(tmp);
	if (pid < 0)
		return err_set(e, no, "probe: fork");
	return n == sizeof(*pr) ? 0 : err_set(e, EIO, "probe in %s: no answer", dir);
}

int stg_have_overlay(void)
{
	struct buf b = { 0 };
	int found = 0;
	if (read_file_at(AT_FDCWD, "/proc/filesystems", 1 << 16, &b))
		return 0;
	for (char *l = strtok(b.p, "\n"); l && !found; l = strtok(NULL, "\n")) {
		char *t = strrchr(l, '\t');
		found = !strcmp(t ? t + 1 : l, "overlay");
	}
	buf_free(&b);
	return found;
}

/* file systems known to hold an overlay upper dir (xattrs, d_type, tmpfile) */
static int good_upper(const char *dir)
{
	static const unsigned long ok[] = { 0xEF53 /* ext2/3/4 */, 0x58465342 /* xfs */, 0x9123683E /* btrfs */,
					    0xF2F52010 /* f2fs */, 0x01021994 /* tmpfs */ };
	struct statfs sf;
	if (statfs(dir, &sf))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if ((unsigned long)sf.f_type == ok[i])
			return 1;
	return 0;
}

int stg_overlay_ok(const char *dir, int *why)
{
	struct stg_probe pr;
	struct err e;
	*why = 0;
	if (stg_have_overlay() && good_upper(dir))
		return 1;
	/* unknown here: ask the kernel (the mount may also load the module) */
	if (stg_probe(dir, &pr, &e)) {
		*why = e.no;
		return 0;
	}
	*why = pr.overlay;
	return !pr.overlay;
}

/* ---- the copy ---- */

struct hardlink {
	dev_t dev;
	ino_t ino;
	char *path;	/* relative to the destination root */
};

struct copy {
	int root;		/* destination root fd */
	struct hardlink *hl;
	size_t nhl, cap;
	char path[4096];	/* current directory, relative to the destination root ("" at the top) */
	struct err *e;
};

static const char *hl_find(struct copy *c, const struct stat *st)
{
	for (size_t i = 0; i < c->nhl; i++)
		if (c->hl[i].dev == st->st_dev && c->hl[i].ino == st->st_ino)
			return c->hl[i].path;
	return NULL;
}

static void hl_add(struct copy *c, const struct stat *st, const char *path)
{
	if (c->nhl == c->cap) {
		size_t n = c->cap ? 2 * c->cap : 64;
		struct hardlink *p = realloc(c->hl, n * sizeof(*p));
		if (!p)
			return;	/* no memory: the next link becomes a copy, still correct */
		c->hl = p;
		c->cap = n;
	}
	char *s = strdup(path);
	if (s)
		c->hl[c->nhl++] = (struct hardlink){ st->st_dev, st->st_ino, s };
}

/* xattrs of src onto dst (both fds), overlay's own excepted; best effort where dst refuses one */
static void copy_xattrs(int src, int dst)
{
	char names[4096], val[4096];
	ssize_t n = flistxattr(src, names, sizeof(names));
	for (char *k = names; n > 0 && k < names + n; k += strlen(k) + 1) {
		if (!strncmp(k, OVL_XATTR, strlen(OVL_XATTR)))
			continue;
		ssize_t v = fgetxattr(src, k, val, sizeof(val));
		if (v >= 0)
			fsetxattr(dst, k, val, v, 0);
	}
}

/* owner, then mode (chown clears set-id bits), then xattrs (file capabilities after chown too) */
static int copy_meta(int src, int dst, const struct stat *st)
{
	if (fchown(dst, st->st_uid, st->st_gid) || fchmod(dst, st->st_mode & 07777))
		return -errno;
	copy_xattrs(src, dst);
	return 0;
}

static int set_times(int dirfd, const char *name, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	return utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

static int copy_data(int in, int out, off_t size)
{
	char buf[65536];
	while (size > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, size, 0);
		if (n > 0) {
			size -= n;
			continue;
		}
		if (n == 0)
			break;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
			return -errno;
		/* no copy_file_range between these file systems: plain reads and writes */
		while ((n = read(in, buf, sizeof(buf))) > 0) {
			int r = write_all(out, buf, n);
			if (r)
				return r;
		}
		return n < 0 ? -errno : 0;
	}
	return 0;
}

static int copy_file(struct copy *c, int sdir, int ddir, const char *name, const struct stat *st)
{
	int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -errno;
	int out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r = out < 0 ? -errno : copy_data(in, out, st->st_size);
	if (!r)
		r = copy_meta(in, out, st);
	if (out >= 0)
		close(out);
	close(in);
	return r;
}

/* a special file: device, fifo or socket (only root may mknod devices: the runtime is root) */
static int copy_node(int sdir, int ddir, const char *name, const struct stat *st)
{
	if (mknodat(ddir, name, st->st_mode, st->st_rdev))
		return -errno;
	if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) ||
	    fchmodat(ddir, name, st->st_mode & 07777, 0))
		return -errno;
	return 0;
}

static int copy_symlink(int sdir, int ddir, const char *name, const struct stat *st)
{
	char target[4096];
	ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	if (symlinkat(target, ddir, name) || fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

static int copy_dir(struct copy *c, int sdir, int ddir);

static int is_opaque(int fd)
{
	char v[4];
	ssize_t n = fgetxattr(fd, OPAQUE_XATTR, v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

/* name is a directory in both, or only in the source: merge it (a lower layer's content stays
 * unless this one is opaque). */
static int copy_subdir(struct copy *c, int sdir, int ddir, const char *name, const struct stat *st, int exists)
{
	int s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), d = -1, r = 0;
	if (s < 0)
		return -errno;
	if (exists && is_opaque(s)) {
		r = rm_rf_at(ddir, name);
		exists = 0;
	}
	if (!r && !exists && mkdirat(ddir, name, 0700))
		r = -errno;
	if (!r && (d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		r = -errno;
	size_t len = strlen(c->path);
	if (!r && len + strlen(name) + 2 >= sizeof(c->path))
		r = -ENAMETOOLONG;
	if (!r) {
		snprintf(c->path + len, sizeof(c->path) - len, "%s%s", len ? "/" : "", name);
		r = copy_dir(c, s, d);
		c->path[len] = 0;
	}
	if (!r)
		r = copy_meta(s, d, st);
	if (d >= 0)
		close(d);
	close(s);
	return r;
}

static int copy_entry(struct copy *c, int sdir, int ddir, const char *name)
{
	struct stat st, old;
	char rel[4096];
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	int exists = !fstatat(ddir, name, &old, AT_SYMLINK_NOFOLLOW);
	/* a whiteout: the name is deleted from the layers below */
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
		return exists ? rm_rf_at(ddir, name) : 0;
	if (S_ISDIR(st.st_mode)) {
		int r = copy_subdir(c, sdir, ddir, name, &st, exists && S_ISDIR(old.st_mode));
		return r ? r : set_times(ddir, name, &st);
	}
	if (exists) {
		int r = rm_rf_at(ddir, name);
		if (r)
			return r;
	}
	snprintf(rel, sizeof(rel), "%s%s%s", c->path, *c->path ? "/" : "", name);
	int r;
	const char *first = !S_ISDIR(st.st_mode) && st.st_nlink > 1 ? hl_find(c, &st) : NULL;
	if (first)
		return linkat(c->root, first, ddir, name, 0) ? -errno : 0;
	if (S_ISREG(st.st_mode))
		r = copy_file(c, sdir, ddir, name, &st);
	else if (S_ISLNK(st.st_mode))
		r = copy_symlink(sdir, ddir, name, &st);
	else
		r = copy_node(sdir, ddir, name, &st);
	if (!r && st.st_nlink > 1)
		hl_add(c, &st, rel);
	return r ? r : set_times(ddir, name, &st);
}

static int copy_dir(struct copy *c, int sdir, int ddir)
{
	int fd = fcntl(sdir, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	int r = 0;
	if (!d) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	while (!r && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			if ((r = copy_entry(c, sdir, ddir, de->d_name)) && !c->e->no)
				err_set(c->e, -r, "copy %s/%s", *c->path ? c->path : ".", de->d_name);
	}
	closedir(d);
	return r;
}

int stg_copy_layers(char *const *layers, int nlayers, const char *dst, struct err *e)
{
	struct copy c = { .root = -1, .e = e };
	struct stat st;
	int r = 0;
	e->no = 0;
	if (mkdir(dst, 0755))
		return err_set(e, errno, "create %s", dst);
	if ((c.root = openat(AT_FDCWD, dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return err_set(e, errno, "open %s", dst);
	for (int i = 0; i < nlayers && !r; i++) {
		int s = openat(AT_FDCWD, layers[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s < 0) {
			r = err_set(e, errno, "open layer %s", layers[i]);
			break;
		}
		c.path[0] = 0;
		r = copy_dir(&c, s, c.root);
		/* the root directory itself: the top layer's owner, mode and times */
		if (!r && !fstat(s, &st) && !(r = copy_meta(s, c.root, &st)))
			r = set_times(c.root, ".", &st);
		if (r && !e->no)
			err_set(e, -r, "copy layer %s", layers[i]);
		close(s);
	}
	for (size_t i = 0; i < c.nhl; i++)
		free(c.hl[i].path);
	free(c.hl);
	close(c.root);
	return r ? -e->no : 0;
}

/* ---- the container's choice ---- */

NOINLINE int stg_is_copy(const char *dir)
{
	char p[4200];
	struct stat st;
	snprintf(p, sizeof(p), "%s/rootfs", dir);
	return !lstat(p, &st) && S_ISDIR(st.st_mode);
}

const char *stg_why(int no)
{
	if (no == ENODEV)
		return "the kernel has no overlay file system";
	if (no == EINVAL || no == EOPNOTSUPP)
		return "the state root's file system cannot hold an overlay upper dir";
	return strerror(no);
}

int stg_prepare(const char *dir, char *const *layers, int nlayers, int *copied, struct err *e)
{
	char tmp[4200], fin[4200];
	int why;
	*copied = 0;
	if (stg_is_copy(dir) || stg_overlay_ok(dir, &why))
		return 0;
	snprintf(tmp, sizeof(tmp), "%s/rootfs.tmp", dir);
	snprintf(fin, sizeof(fin), "%s/rootfs", dir);
	rm_rf(tmp);	/* a copy interrupted before */
	if (stg_copy_layers(layers, nlayers, tmp, e)) {
		rm_rf(tmp);
		return err_wrap(e, "copy of the image (no overlay here: %s)", strerror(why));
	}
	if (rename(tmp, fin)) {
		int no = errno;
		rm_rf(tmp);
		return err_set(e, no, "rename %s", tmp);
	}
	*copied = why ? why : EINVAL;
	return 0;
}
