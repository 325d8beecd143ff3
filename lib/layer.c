/* layer: layer tars <-> overlay-ready layer directories.
 *
 * A layer tar says what changed: files, and whiteouts (.wh.NAME: NAME is deleted; .wh..wh..opq:
 * the directory hides everything below it). Stored, a layer is that tar applied to an empty
 * directory with overlayfs's encoding of the same facts: a 0:0 character device for a deleted
 * name and the trusted.overlay.opaque=y xattr on an opaque directory. Stacked as lowerdirs, the
 * kernel then gives exactly the image's file system. layer_tar goes the other way (commit, save). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include "imgstore.h"
#include "inflate.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"
#define WH ".wh."
#define WH_OPQ ".wh..wh..opq"

/* The blob as read: a few magic bytes looked at first, then handed on. */
struct peek {
	struct tar_src *in;
	unsigned char b[8];
	size_t n, pos;
};

static ssize_t peek_read(void *ctx, void *p, size_t n)
{
	struct peek *k = ctx;
	if (k->pos < k->n) {
		size_t m = k->n - k->pos < n ? k->n - k->pos : n;
		memcpy(p, k->b + k->pos, m);
		k->pos += m;
		return (ssize_t)m;
	}
	return k->in->read(k->in->ctx, p, n);
}

/* The uncompressed stream: hashed (diff_id), counted and bounded. */
struct hsrc {
	struct tar_src *in;
	struct sha256 h;
	uint64_t n, max;
};

static ssize_t hsrc_read(void *ctx, void *p, size_t n)
{
	struct hsrc *s = ctx;
	ssize_t r = s->in->read(s->in->ctx, p, n);
	if (r > 0) {
		sha256_update(&s->h, p, r);
		s->n += r;
		if (s->n > s->max)
			return -EFBIG;
	}
	return r;
}

static const char *compression(const unsigned char *b, size_t n)
{
	if (n >= 4 && !memcmp(b, "\x28\xb5\x2f\xfd", 4))
		return "zstd";
	if (n >= 3 && !memcmp(b, "BZh", 3))
		return "bzip2";
	if (n >= 6 && !memcmp(b, "\xfd" "7zXZ", 5))
		return "xz";
	return NULL;
}

/* Turn the extracted .wh. marker files under dfd into overlay whiteouts. */
static int whiteouts(int dfd, const char *path, struct err *e)
{
	int dup_fd = dup(dfd);
	DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
	struct buf names = { 0 };
	struct dirent *de;
	struct stat self;
	int r = 0, changed = 0;

	if (!d || fstat(dfd, &self)) {
		if (d)
			closedir(d);
		else if (dup_fd >= 0)
			close(dup_fd);
		return err_set(e, errno, "layer %s", path);
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			buf_add(&names, de->d_name, strlen(de->d_name) + 1);
	closedir(d);
	for (size_t off = 0; !r && off < names.len; off += strlen(names.p + off) + 1) {
		const char *name = names.p + off, *t = name + 4;
		struct stat st;
		if (strncmp(name, WH, 4)) {
			if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode))
				continue;
			int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char *p = xasprintf("%s%s/", path, name);
			r = sub < 0 ? err_set(e, errno, "layer %s", p) : whiteouts(sub, p, e);
			if (sub >= 0)
				close(sub);
			free(p);
			continue;
		}
		if (!*t) {
			r = err_set(e, EINVAL, "layer: bare whiteout \"%s%s\"", path, name);
			break;
		}
		changed = 1;
		struct stat wh;	/* the marker's mode, owner and times go to the whiteout (for save) */
		if (fstatat(dfd, name, &wh, AT_SYMLINK_NOFOLLOW))
			memset(&wh, 0, sizeof(wh));
		rm_rf_at(dfd, name);
		if (!strncmp(t, WH, 4)) {	/* .wh..wh.*: metadata, only .opq means something */
			if (!strcmp(name, WH_OPQ) && fsetxattr(dfd, OPAQUE_XATTR, "y", 1, 0))
				r = err_set(e, errno, "layer %s: set opaque", path);
			continue;
		}
		/* a name the same layer also has stays (whiteouts only hide lower layers) */
		if (!fstatat(dfd, t, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (mknodat(dfd, t, S_IFCHR | (wh.st_mode & 0777), makedev(0, 0)) ||
		    fchownat(dfd, t, wh.st_uid, wh.st_gid, AT_SYMLINK_NOFOLLOW) ||
		    utimensat(dfd, t, (struct timespec[2]){ wh.st_atim, wh.st_mtim }, AT_SYMLINK_NOFOLLOW))
			r = err_set(e, errno, "layer %s%s: whiteout", path, t);
	}
	buf_free(&names);
	if (changed)	/* the directory's times as the tar set them */
		futimens(dfd, (struct timespec[2]){ self.st_atim, self.st_mtim });
	return r;
}

int layer_unpack(struct tar_src *src, int dirfd, const char *name, uint64_t max, struct layer_info *li,
		 struct err *e)
{
	struct peek pk = { .in = src };
	struct tar_src psrc = { peek_read, &pk }, gsrc;
	struct hsrc hs = { .max = max };
	struct tar_src hsrc = { hsrc_read, &hs };
	struct gunzip *gz = NULL;
	char drain[32768];
	ssize_t n = 1;
	int r = 0, dfd = -1;

	while (pk.n < sizeof(pk.b) && (n = src->read(src->ctx, pk.b + pk.n, sizeof(pk.b) - pk.n)) > 0)
		pk.n += n;
	if (n < 0)
		return err_set(e, (int)-n, "read layer");
	const char *c = compression(pk.b, pk.n);
	if (c)
		return err_set(e, ENOTSUP, "%s-compressed layers are not supported (use gzip or none)", c);
	hs.in = &psrc;
	if (pk.n >= 2 && pk.b[0] == 0x1f && pk.b[1] == 0x8b) {
		if (!(gz = gunzip_new(&psrc, max)))
			return err_set(e, ENOMEM, "gunzip");
		gsrc = (struct tar_src){ gunzip_read, gz };
		hs.in = &gsrc;
	}
	sha256_init(&hs.h);
	if (name) {
		char sub[300];
		snprintf(sub, sizeof(sub), "%s/diff", name);
		if (mkdirat(dirfd, name, 0700) || mkdirat(dirfd, sub, 0755) ||
		    (dfd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			r = err_set(e, errno, "create layer directory");
		else
			r = tar_extract(&hsrc, dfd, getuid() == 0 ? TAR_X_OWNER : 0, e);
	}
	int rd = 0;
	while (!r && (n = hsrc_read(&hs, drain, sizeof(drain))) > 0)
		;
	if (!r && n < 0)
		r = (int)n, rd = 1;
	if (r && gz && gunzip_error(gz)[0])
		r = err_set(e, -r, "%s", gunzip_error(gz));
	else if (r == -EFBIG || (r && hs.n > max))
		r = err_set(e, EFBIG, "layer larger than the limit of %llu bytes (MYDOCKER_LAYER_MAX)",
			    (unsigned long long)max);
	else if (rd)
		r = err_set(e, -r, "read layer");
	if (!r && dfd >= 0)
		r = whiteouts(dfd, "/", e);
	if (dfd >= 0)
		close(dfd);
	gunzip_free(gz);
	sha256_hex(&hs.h, li->diff_id);
	li->size = hs.n;
	return r;
}

/* --- layer tars from directories ------------------------------------------------ */

struct walk {
	struct tar_writer *w;
	struct err *e;
	struct hl {
		dev_t dev;
		ino_t ino;
		char *path;
	} *hl;
	size_t nhl;
	char io[65536];
};

static int w_dir(struct walk *t, int fd, const char *prefix);

static int w_data(struct walk *t, int dfd, const char *name, const char *path, uint64_t size)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r = 0;
	uint64_t left = size;
	if (fd < 0)
		return err_set(t->e, errno, "archive %s", path);
	while (left && !r) {
		size_t want = left < sizeof(t->io) ? left : sizeof(t->io);
		ssize_t n = read_full(fd, t->io, want);
		if (n < 0) {
			r = err_set(t->e, (int)-n, "archive %s", path);
			break;
		}
		memset(t->io + n, 0, want - n);	/* shrank meanwhile: zeros, as GNU tar does */
		r = tar_write_data(t->w, t->io, want, t->e);
		left -= want;
	}
	close(fd);
	return r ? r : tar_write_pad(t->w, size, t->e);
}

/* The first path of a hard-linked inode, or NULL (then remembered). */
static const char *w_link(struct walk *t, const struct stat *st, const char *path)
{
	for (size_t i = 0; i < t->nhl; i++)
		if (t->hl[i].dev == st->st_dev && t->hl[i].ino == st->st_ino)
			return t->hl[i].path;
	t->hl = xrealloc(t->hl, (t->nhl + 1) * sizeof(*t->hl));
	t->hl[t->nhl++] = (struct hl){ st->st_dev, st->st_ino, xstrdup(path) };
	return NULL;
}

static int w_entry(struct walk *t, int dfd, const char *name, const char *prefix)
{
	struct stat st;
	struct tar_entry ent = { 0 };
	char lbuf[4096], opq[2];
	int r = 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : err_set(t->e, errno, "archive %s%s", prefix, name);
	cleanup_free char *path = xasprintf("%s%s%s", prefix, name, S_ISDIR(st.st_mode) ? "/" : "");
	ent.path = path;
	ent.mode = st.st_mode & 07777;
	ent.uid = st.st_uid;
	ent.gid = st.st_gid;
	ent.mtime = st.st_mtim.tv_sec;
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {	/* overlay whiteout */
		cleanup_free char *wh = xasprintf("%s" WH "%s", prefix, name);
		ent.path = wh;
		ent.type = '0';
		return tar_write_header(t->w, &ent, t->e);
	}
	const char *first = !S_ISDIR(st.st_mode) && st.st_nlink > 1 ? w_link(t, &st, path) : NULL;
	if (first) {
		ent.type = '1';
		ent.linkpath = (char *)first;
		return tar_write_header(t->w, &ent, t->e);
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		ent.type = '0';
		ent.size = st.st_size;
		return tar_write_header(t->w, &ent, t->e) ?: w_data(t, dfd, name, path, ent.size);
	case S_IFLNK: {
		ssize_t n = readlinkat(dfd, name, lbuf, sizeof(lbuf) - 1);
		if (n < 0)
			return err_set(t->e, errno, "archive %s", path);
		lbuf[n] = 0;
		ent.type = '2';
		ent.linkpath = lbuf;
		return tar_write_header(t->w, &ent, t->e);
	}
	case S_IFDIR: {
		ent.type = '5';
		if ((r = tar_write_header(t->w, &ent, t->e)))
			return r;
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_set(t->e, errno, "archive %s", path);
		if (fgetxattr(fd, OPAQUE_XATTR, opq, sizeof(opq)) == 1 && opq[0] == 'y') {
			cleanup_free char *o = xasprintf("%s" WH_OPQ, path);
			struct tar_entry oe = { .type = '0', .path = o, .mode = 0644, .mtime = ent.mtime };
			r = tar_write_header(t->w, &oe, t->e);
		}
		r = r ?: w_dir(t, fd, path);
		close(fd);
		return r;
	}
	case S_IFSOCK:
		return 0;
	default:
		ent.type = S_ISFIFO(st.st_mode) ? '6' : S_ISCHR(st.st_mode) ? '3' : '4';
		ent.devmajor = major(st.st_rdev);
		ent.devminor = minor(st.st_rdev);
		return tar_write_header(t->w, &ent, t->e);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int w_dir(struct walk *t, int fd, const char *prefix)
{
	int d2 = dup(fd);
	DIR *d = d2 < 0 ? NULL : fdopendir(d2);
	char **v = NULL;
	size_t n = 0;
	struct dirent *de;
	int r = 0;
	if (!d) {
		if (d2 >= 0)
			close(d2);
		return err_set(t->e, errno, "archive %s", prefix);
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n++] = xstrdup(de->d_name);
		}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (!r)
			r = w_entry(t, fd, v[i], prefix);
		free(v[i]);
	}
	free(v);
	return r;
}

int layer_tar(struct tar_writer *w, int dirfd, struct err *e)
{
	struct walk *t = xcalloc(1, sizeof(*t));
	t->w = w;
	t->e = e;
	int r = w_dir(t, dirfd, "");
	for (size_t i = 0; i < t->nhl; i++)
		free(t->hl[i].path);
	free(t->hl);
	free(t);
	return r ?: tar_write_end(w, e);
}

struct fsink {
	int fd;
	struct sha256 h;
	uint64_t n;
};

static int fsink_write(void *ctx, const void *p, size_t n)
{
	struct fsink *s = ctx;
	sha256_update(&s->h, p, n);
	s->n += n;
	return write_all(s->fd, p, n);
}

int layer_tar_file(int dirfd, struct stage *s, const char *file, struct layer_info *li, struct err *e)
{
	struct fsink fs = { .fd = openat(s->fd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) };
	struct tar_sink sink = { fsink_write, &fs };
	struct tar_writer w;
	if (fs.fd < 0)
		return err_set(e, errno, "create %s/%s", s->path, file);
	sha256_init(&fs.h);
	tar_writer_init(&w, &sink);
	int r = layer_tar(&w, dirfd, e);
	close(fs.fd);
	sha256_hex(&fs.h, li->diff_id);
	li->size = fs.n;
	return r;
}
