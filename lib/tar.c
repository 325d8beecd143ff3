/* tar: ustar/GNU/pax reader and writer, and an extractor that keeps every entry inside its destination.
 *
 * Reader: the archive is read through a 128 KiB buffer and file data is handed out of it (the extractor
 * writes straight from it). GNU long names and pax values are bounded to 64 KiB, pax headers to 1 MiB,
 * so no archive makes us allocate without limit.
 * Extractor: every path is opened one component at a time from the destination with O_NOFOLLOW, so a
 * symlink (planted by the archive or not) is never followed, and ".." is refused.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tar.h"

#define BLK 512
#define RBUF (128 * 1024)	/* one read() per 128 KiB of archive */
#define NAME_LIM (64 * 1024)	/* longest path or link target accepted */
#define PAX_LIM (1024 * 1024)	/* largest pax header accepted */
#define DEPTH 64		/* directory levels the extractor keeps open */

/* ustar header layout */
enum { H_NAME = 0, H_MODE = 100, H_UID = 108, H_GID = 116, H_SIZE = 124, H_MTIME = 136, H_SUM = 148,
       H_TYPE = 156, H_LINK = 157, H_MAGIC = 257, H_MAJOR = 329, H_MINOR = 337, H_PREFIX = 345 };

static const unsigned char zero[2 * BLK];


static int bad(struct err *e, const char *field, unsigned long long at)
{
	return err_msg(e, EINVAL, "corrupt archive: bad %s field in header at byte %llu", field, at);
}

static uint64_t pad_of(uint64_t size)
{
	return (BLK - size % BLK) % BLK;
}

/* ---- reader ---- */

/* pax keywords we use; bit 1 << K_* in struct pax.has says a value is set */
static const char *const keys[] = { "path", "linkpath", "size", "uid", "gid", "mtime" };
enum { K_PATH, K_LINK, K_SIZE, K_UID, K_GID, K_MTIME, K_SPARSE };

struct pax {
	unsigned has;
	char *s[2];		/* path, linkpath */
	int64_t n[4];		/* size, uid, gid, mtime */
};

struct tar_reader {
	struct tar_src *src;
	size_t pos, end;
	uint64_t off, hoff;	/* bytes consumed; offset of the current header (for messages) */
	uint64_t left, pad;	/* current entry: unread data, then padding */
	int state;		/* 0 reading, 1 at the end, <0 failed */
	struct pax x, g;	/* pax 'x' (next entry only) and 'g' (all later entries) */
	char *gnu[2];		/* GNU 'L' and 'K' (next entry only) */
	struct buf name[2];	/* the current entry's path and link target */
	unsigned char hdr[BLK], buf[RBUF];
};

static void pax_clear(struct pax *p)
{
	free(p->s[0]);
	free(p->s[1]);
	memset(p, 0, sizeof(*p));
}

static void meta_clear(struct tar_reader *r)
{
	pax_clear(&r->x);
	free(r->gnu[0]);
	free(r->gnu[1]);
	r->gnu[0] = r->gnu[1] = NULL;
}

struct tar_reader *tar_reader_new(struct tar_src *src)
{
	struct tar_reader *r = calloc(1, sizeof(*r));

	if (r)
		r->src = src;
	return r;
}

void tar_reader_free(struct tar_reader *r)
{
	if (!r)
		return;
	meta_clear(r);
	pax_clear(&r->g);
	buf_free(&r->name[0]);
	buf_free(&r->name[1]);
	free(r);
}

/* Make buffered bytes available: count, 0 at EOF, or -errno. */
static ssize_t fill(struct tar_reader *r)
{
	ssize_t n;

	if (r->pos < r->end)
		return r->end - r->pos;
	r->pos = r->end = 0;
	do
		n = r->src->read(r->src->ctx, r->buf, RBUF);
	while (n == -EINTR);
	if (n > 0)
		r->end = n;
	return n;
}

/* Copy n bytes to p, or skip them (p NULL): bytes done (< n only at EOF) or -errno. */
static int64_t get(struct tar_reader *r, void *p, uint64_t n)
{
	uint64_t done = 0;
	ssize_t a;

	while (done < n) {
		if ((a = fill(r)) <= 0)
			return a < 0 ? a : (int64_t)done;
		if ((uint64_t)a > n - done)
			a = n - done;
		if (p)
			memcpy((char *)p + done, r->buf + r->pos, a);
		r->pos += a;
		r->off += a;
		done += a;
	}
	return done;
}

/* A numeric field: octal (leading spaces, ended by NUL or space) or GNU base-256. 0 or -1. */
static int num(const unsigned char *f, size_t n, int64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {	/* big-endian two's complement; 0x40 of the first byte is the sign */
		unsigned char inv = f[0] & 0x40 ? 0xff : 0;

		for (; i < n; i++) {
			if (v >> 55)
				return -1;
			v = v << 8 | ((f[i] ^ inv) & (i ? 0xff : 0x3f));
		}
		*out = inv ? -(int64_t)v - 1 : (int64_t)v;
		return 0;
	}
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v << 3 | (f[i] - '0');
	}
	if (i < n && f[i] && f[i] != ' ')
		return -1;
	*out = v;
	return 0;
}

static int field(const unsigned char *f, size_t n, int64_t max, int64_t *v)
{
	return num(f, n, v) || *v < 0 || *v > max ? -1 : 0;
}

/* GNU tar accepts both the unsigned and the (historic) signed byte sum. */
static int sum_ok(const unsigned char *h)
{
	int64_t want, u = 0, s = 0;
	int i;

	for (i = 0; i < BLK; i++) {
		unsigned char c = i >= H_SUM && i < H_SUM + 8 ? ' ' : h[i];

		u += c;
		s += (signed char)c;
	}
	return !num(h + H_SUM, 8, &want) && (want == u || want == s);
}

/* Next header into r->hdr: 1, 0 at the end (two zero blocks, or one and EOF), <0 error. */
static int read_block(struct tar_reader *r, struct err *e)
{
	unsigned long long at = r->hoff = r->off;
	int64_t n;

	if ((n = get(r, r->hdr, BLK)) < 0)
		return err_set(e, -n, "read archive");
	if (n < BLK)
		return err_msg(e, EIO, "truncated archive: %s at byte %llu", n ? "partial header" : "no end marker", at);
	if (memcmp(r->hdr, zero, BLK))
		return sum_ok(r->hdr) ? 1 : err_msg(e, EINVAL, "corrupt archive: bad header checksum at byte %llu", at);
	if ((n = get(r, r->hdr, BLK)) < 0)
		return err_set(e, -n, "read archive");
	if (n == 0 || (n == BLK && !memcmp(r->hdr, zero, BLK)))
		return 0;
	return err_msg(e, n < BLK ? EIO : EINVAL, "corrupt archive: lone zero block at byte %llu", at);
}

/* One pax record; unknown keywords are ignored, an empty value unsets. 0, -EINVAL or -ENOMEM. */
static int pax_set(struct pax *p, const char *k, char *v, size_t vlen)
{
	static const long long max[] = { INT64_MAX / 2, UINT32_MAX - 1, UINT32_MAX - 1, INT64_MAX };
	long long n;
	char *dot;
	unsigned i;

	if (!strncmp(k, "GNU.sparse.", 11))
		p->has |= 1 << K_SPARSE;	/* a sparse file would come out wrong: refuse it */
	for (i = 0; i < ARRAY_SIZE(keys) && strcmp(k, keys[i]); i++)
		;
	if (i == ARRAY_SIZE(keys))
		return 0;
	p->has &= ~(1u << i);
	if (i <= K_LINK) {
		free(p->s[i]);
		p->s[i] = NULL;
		if (vlen > NAME_LIM || memchr(v, 0, vlen))
			return -EINVAL;
		if (vlen && !(p->s[i] = strdup(v)))
			return -ENOMEM;
	} else if (vlen) {
		if (i == K_MTIME && (dot = strchr(v, '.')) && !dot[1 + strspn(dot + 1, "0123456789")])
			*dot = 0;	/* whole seconds are enough */
		if (parse_ll(v, i == K_MTIME ? INT64_MIN : 0, max[i - K_SIZE], &n))
			return -EINVAL;
		p->n[i - K_SIZE] = n;
	}
	if (vlen)
		p->has |= 1u << i;
	return 0;
}

/* Records "LEN KEY=VALUE\n", LEN counting the whole record. */
static int pax_parse(struct tar_reader *r, struct pax *p, char *d, size_t n, struct err *e)
{
	unsigned long long at = r->hoff;
	size_t len, i;
	char *eq;
	int rc;

	for (; n; d += len, n -= len) {
		for (len = i = 0; i < n && i < 8 && d[i] >= '0' && d[i] <= '9'; i++)
			len = len * 10 + (d[i] - '0');
		if (!i || i >= n || d[i] != ' ' || len <= i + 2 || len > n || d[len - 1] != '\n' ||
		    !(eq = memchr(d + i + 1, '=', len - i - 2)))
			return err_msg(e, EINVAL, "corrupt archive: bad pax record in header at byte %llu", at);
		d[len - 1] = *eq = 0;
		if ((rc = pax_set(p, d + i + 1, eq + 1, d + len - 1 - (eq + 1))) == -ENOMEM)
			return err_set(e, ENOMEM, "read archive");
		if (rc)
			return err_msg(e, EINVAL, "corrupt archive: bad pax %s in header at byte %llu", d + i + 1, at);
	}
	return 0;
}

/* A 'L', 'K', 'x' or 'g' header: read its data (bounded) and keep what it says for what follows. */
static int meta(struct tar_reader *r, char t, int64_t size, struct err *e)
{
	unsigned long long at = r->hoff;
	int64_t n, pad = pad_of(size);
	int rc = 0;
	char *d;

	if (size > (t == 'x' || t == 'g' ? PAX_LIM : NAME_LIM))
		return err_msg(e, EINVAL, "corrupt archive: %lld-byte extended header at byte %llu", (long long)size, at);
	if (!(d = malloc(size + 1)))
		return err_set(e, ENOMEM, "read archive");
	if ((n = get(r, d, size)) == size && (n = get(r, NULL, pad)) == pad)
		n = 0;
	else if (n >= 0)
		n = -EIO;
	if (n) {
		rc = n == -EIO ? err_msg(e, EIO, "truncated archive: extended header at byte %llu", at)
			       : err_set(e, -n, "read archive");
	} else if (t == 'L' || t == 'K') {
		d[size] = 0;
		free(r->gnu[t == 'K']);
		r->gnu[t == 'K'] = d;
		return 0;
	} else {
		rc = pax_parse(r, t == 'x' ? &r->x : &r->g, d, size, e);
	}
	free(d);
	return rc;
}

/* path or link target: pax 'x', else GNU long name, else pax 'g', else the header ([prefix/]name). */
static int name(struct tar_reader *r, int i)
{
	const unsigned char *h = r->hdr, *f = h + (i ? H_LINK : H_NAME);
	unsigned bit = 1u << i;
	struct buf *b = &r->name[i];

	b->len = 0;
	if ((r->x.has & bit) || r->gnu[i] || (r->g.has & bit))
		return buf_puts(b, r->x.has & bit ? r->x.s[i] : r->gnu[i] ? r->gnu[i] : r->g.s[i]);
	/* only POSIX ustar has a prefix; GNU keeps other data there */
	if (!i && h[H_PREFIX] && !memcmp(h + H_MAGIC, "ustar", 6) &&
	    (buf_add(b, h + H_PREFIX, strnlen((const char *)h + H_PREFIX, 155)) || buf_add(b, "/", 1)))
		return -ENOMEM;
	return buf_add(b, f, strnlen((const char *)f, 100));
}

/* Fill ent from r->hdr and the metadata before it. */
static int entry(struct tar_reader *r, struct tar_entry *ent, struct err *e)
{
	static const unsigned short off[] = { H_SIZE, H_UID, H_GID, H_MTIME };
	const unsigned char *h = r->hdr;
	unsigned long long at = r->hoff;
	int64_t v[4], mode, major = 0, minor = 0;
	char t = h[H_TYPE], *path;
	unsigned i, bit;

	if (name(r, 0) || name(r, 1))
		return err_set(e, ENOMEM, "read archive");
	path = r->name[0].p;
	if (!*path)
		return err_msg(e, EINVAL, "corrupt archive: entry without a name at byte %llu", at);
	if (!t && path[r->name[0].len - 1] == '/')
		t = '5';	/* pre-POSIX directory */
	else if (!t || t == '7')
		t = '0';
	if (t < '0' || t > '6')
		return err_msg(e, EINVAL, "unsupported entry type '%c' for %s", t > ' ' && t < 127 ? t : '?', path);
	if ((r->x.has | r->g.has) & 1 << K_SPARSE)
		return err_msg(e, EINVAL, "unsupported sparse file %s", path);
	for (i = 0; i < 4; i++) {	/* size, uid, gid, mtime: pax 'x', pax 'g' (not size), header */
		bit = 1u << (K_SIZE + i);
		if (r->x.has & bit)
			v[i] = r->x.n[i];
		else if (i && (r->g.has & bit))
			v[i] = r->g.n[i];
		else if (i == 3 ? num(h + H_MTIME, 12, &v[i])
				: field(h + off[i], i ? 8 : 12, i ? UINT32_MAX - 1 : INT64_MAX / 2, &v[i]))
			return bad(e, keys[K_SIZE + i], at);
	}
	if (field(h + H_MODE, 8, INT64_MAX, &mode))
		return bad(e, "mode", at);
	if ((t == '3' || t == '4') &&
	    (field(h + H_MAJOR, 8, UINT32_MAX, &major) || field(h + H_MINOR, 8, UINT32_MAX, &minor)))
		return bad(e, "device", at);
	*ent = (struct tar_entry){ .type = t, .path = path, .linkpath = r->name[1].p, .mode = mode & 07777,
				   .uid = v[1], .gid = v[2], .mtime = v[3], .devmajor = major, .devminor = minor };
	/* As GNU tar: data follows every type but directories, whose size means nothing. */
	ent->size = r->left = t == '5' ? 0 : v[0];
	r->pad = pad_of(r->left);
	return 1;
}

static int next(struct tar_reader *r, struct tar_entry *ent, struct err *e)
{
	int64_t n = r->left + r->pad, size;
	int rc;

	if ((size = get(r, NULL, n)) != n)
		return size < 0 ? err_set(e, -size, "read archive")
				: err_msg(e, EIO, "truncated archive: data of %s", r->name[0].p);
	r->left = r->pad = 0;
	meta_clear(r);
	while ((rc = read_block(r, e)) > 0) {
		char t = r->hdr[H_TYPE];

		if (!t || !strchr("LKxg", t))
			return entry(r, ent, e);
		if (field(r->hdr + H_SIZE, 12, INT64_MAX / 2, &size))
			return bad(e, "size", r->hoff);
		if ((rc = meta(r, t, size, e)))
			return rc;
	}
	if (!rc && (r->x.has || r->gnu[0] || r->gnu[1]))
		return err_msg(e, EINVAL, "corrupt archive: extended header without an entry");
	return rc;
}

int tar_next(struct tar_reader *r, struct tar_entry *ent, struct err *e)
{
	int rc;

	if (r->state)
		return r->state < 0 ? err_msg(e, -r->state, "read archive: failed before") : 0;
	if ((rc = next(r, ent, e)) <= 0)
		r->state = rc ? rc : 1;
	return rc;
}

/* Point *p at buffered data of the current entry: bytes available, 0 at its end, -EIO if truncated. */
static ssize_t peek(struct tar_reader *r, const void **p)
{
	ssize_t n;

	if (!r->left)
		return 0;
	if ((n = fill(r)) <= 0)
		return n ? n : -EIO;
	if ((uint64_t)n > r->left)
		n = r->left;
	*p = r->buf + r->pos;
	return n;
}

static void used(struct tar_reader *r, size_t n)
{
	r->pos += n;
	r->off += n;
	r->left -= n;
}

ssize_t tar_read(struct tar_reader *r, void *p, size_t n)
{
	const void *b;
	ssize_t a;

	if ((a = peek(r, &b)) <= 0)
		return a;
	if ((size_t)a > n)
		a = n;
	memcpy(p, b, a);
	used(r, a);
	return a;
}

/* ---- extractor ---- */

struct dtime {
	char *path;
	int64_t mtime;
	size_t depth, seq;
};

struct xctx {
	int dest;
	unsigned flags;
	struct err *e;
	/* Directories open along the last parent path: fds[0] is dest, fds[i] its i-th component,
	 * which ends at cpath.p[cend[i]]. Levels past DEPTH are walked each time, through 'deep'. */
	int fds[DEPTH], nfd, deep;
	size_t cend[DEPTH];
	struct buf cpath, npath, lpath;
	struct dtime *dt;	/* directory mtimes, set at the end */
	size_t ndt;
};

/* "/a//./b/" -> "a/b" into o; -EINVAL on a ".." component. */
static int normalize(const char *s, struct buf *o)
{
	size_t len;

	o->len = 0;
	if (buf_grow(o, strlen(s)))
		return -ENOMEM;
	for (; *s; s += len) {
		s += strspn(s, "/");
		len = strcspn(s, "/");
		if (len == 2 && !strncmp(s, "..", 2))
			return -EINVAL;
		if (len && !(len == 1 && *s == '.')) {
			if (o->len)
				o->p[o->len++] = '/';
			memcpy(o->p + o->len, s, len);
			o->len += len;
		}
	}
	o->p[o->len] = 0;
	return 0;
}

/* Cut a normalised path into parent and leaf ("" -> "" and "."); returns the '/' to put back, or NULL. */
static char *split(char *path, const char **dir, const char **leaf)
{
	char *sl = strrchr(path, '/');

	*dir = sl ? path : "";
	*leaf = sl ? sl + 1 : *path ? path : ".";
	if (sl)
		*sl = 0;
	return sl;
}

/* Close the open levels from k on, and 'deep'. */
static void drop(struct xctx *x, int k)
{
	while (x->nfd > k)
		close(x->fds[--x->nfd]);
	if (x->deep >= 0)
		close(x->deep);
	x->deep = -1;
}

/* The directory dir (normalised, "" = dest), valid until the next call: opened one component at a
 * time without following symlinks, missing components created (0755) when mk. fd or -errno; name
 * is the entry, for messages. The levels shared with the previous call are reused: only prefixes of
 * dir stay open, and an entry only ever replaces its own leaf, below them, so a directory held open
 * is never one the archive has since replaced (by a symlink, say). */
static int parent(struct xctx *x, char *dir, int mk, const char *name)
{
	size_t len = strlen(dir);
	int k = 1, fd, nfd;
	char *c, *sl;

	drop(x, x->nfd);
	if (!x->nfd) {
		if ((x->fds[0] = openat(x->dest, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return err_set(x->e, errno, "extract %s: open destination", name);
		x->nfd = 1;
	}
	while (k < x->nfd && !strncmp(dir, x->cpath.p, x->cend[k]) && (!dir[x->cend[k]] || dir[x->cend[k]] == '/'))
		k++;
	drop(x, k);
	x->cpath.len = 0;
	if (buf_add(&x->cpath, dir, len))
		return err_set(x->e, ENOMEM, "extract %s", name);
	fd = x->fds[k - 1];
	for (c = dir + (k > 1 ? x->cend[k - 1] + (x->cend[k - 1] < len) : 0); *c; c = sl ? sl + 1 : dir + len) {
		if ((sl = strchr(c, '/')))
			*sl = 0;
		nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && mk && (!mkdirat(fd, c, 0755) || errno == EEXIST))
			nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)	/* ELOOP: a symlink, which we never follow */
			nfd = err_set(x->e, errno == ELOOP ? ENOTDIR : errno, "extract %s: %s", name, dir);
		if (sl)
			*sl = '/';
		if (nfd < 0)
			return nfd;
		if (x->nfd < DEPTH) {
			x->cend[x->nfd] = sl ? (size_t)(sl - dir) : len;
			x->fds[x->nfd++] = nfd;
		} else {
			if (x->deep >= 0)
				close(x->deep);
			x->deep = nfd;
		}
		fd = nfd;
	}
	return fd;
}

/* Remove whatever is at name, a directory recursively. */
static int clear(int pfd, const char *name)
{
	if (!unlinkat(pfd, name, 0) || errno == ENOENT)
		return 0;
	return errno == EISDIR ? rm_rf_at(pfd, name) : -errno;
}

static mode_t mode_of(struct xctx *x, const struct tar_entry *ent)
{
	mode_t m = ent->mode & 07777;

	/* not restoring the owner: do not hand set-id bits to ourselves */
	if (!(x->flags & TAR_X_OWNER) && ent->type != '5') {
		if (ent->uid != geteuid())
			m &= ~S_ISUID;
		if (ent->gid != getegid())
			m &= ~S_ISGID;
	}
	return m;
}

static int x_file(struct xctx *x, struct tar_reader *r, int pfd, const char *leaf, const struct tar_entry *ent)
{
	int fl = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, fd, rc = 0;
	struct timespec ts[2] = { { ent->mtime, 0 }, { ent->mtime, 0 } };
	const void *p;
	ssize_t n;

	fd = openat(pfd, leaf, fl, 0600);
	if (fd < 0 && errno == EEXIST && !(rc = clear(pfd, leaf)))
		fd = openat(pfd, leaf, fl, 0600);
	if (fd < 0)
		return err_set(x->e, rc ? -rc : errno, "extract %s", ent->path);
	while ((n = peek(r, &p)) > 0 && !(rc = write_all(fd, p, n)))
		used(r, n);
	if (n < 0)
		rc = n == -EIO ? err_msg(x->e, EIO, "extract %s: truncated archive", ent->path)
			       : err_set(x->e, -n, "extract %s: read archive", ent->path);
	else if (rc || ((x->flags & TAR_X_OWNER) && fchown(fd, ent->uid, ent->gid) && (rc = -errno)) ||
		 (fchmod(fd, mode_of(x, ent)) && (rc = -errno)) || (futimens(fd, ts) && (rc = -errno)))
		rc = err_set(x->e, -rc, "extract %s", ent->path);
	close(fd);
	return rc;
}

/* Owner, then mode (chown clears set-id bits), then mtime unless a directory (done at the end). */
static int x_meta(struct xctx *x, int pfd, const char *leaf, const struct tar_entry *ent)
{
	struct timespec ts[2] = { { ent->mtime, 0 }, { ent->mtime, 0 } };

	if ((x->flags & TAR_X_OWNER) && fchownat(pfd, leaf, ent->uid, ent->gid, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (ent->type != '2' && fchmodat(pfd, leaf, mode_of(x, ent), 0))
		return -errno;
	if (ent->type != '5' && utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

static int x_dir(struct xctx *x, int pfd, const char *leaf, const char *path, const struct tar_entry *ent)
{
	struct dtime *d;
	struct stat st;
	const char *c;
	int rc = 0;

	if (strcmp(leaf, ".") && mkdirat(pfd, leaf, 0700)) {	/* "." is dest itself */
		if (errno != EEXIST || fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW))
			return -errno;
		if (!S_ISDIR(st.st_mode) && ((rc = clear(pfd, leaf)) || (mkdirat(pfd, leaf, 0700) && (rc = -errno))))
			return rc;
	}
	if ((rc = x_meta(x, pfd, leaf, ent)))
		return rc;
	if (!(x->ndt & (x->ndt - 1))) {	/* grown at 0, 1, 2, 4, ...: room for the next power of two */
		if (!(d = realloc(x->dt, (x->ndt ? 2 * x->ndt : 1) * sizeof(*d))))
			return -ENOMEM;
		x->dt = d;
	}
	d = &x->dt[x->ndt];
	if (!(d->path = strdup(path)))
		return -ENOMEM;
	d->mtime = ent->mtime;
	d->seq = x->ndt++;
	for (d->depth = *path != 0, c = path; (c = strchr(c, '/')); c++)
		d->depth++;
	return 0;
}

/* A hard link's target is resolved inside dest like any entry, never through a symlink: a new fd of
 * its directory, the leaf in *tleaf. */
static int link_target(struct xctx *x, const struct tar_entry *ent, const char **tleaf)
{
	const char *tdir;
	char *sl;
	int fd;

	if (normalize(ent->linkpath, &x->lpath) || !*x->lpath.p)
		return err_msg(x->e, EINVAL, "extract %s: refusing hard link to %s", ent->path, ent->linkpath);
	sl = split(x->lpath.p, &tdir, tleaf);
	fd = parent(x, (char *)tdir, 0, ent->path);
	if (sl)
		*sl = '/';
	if (fd >= 0 && (fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		fd = err_set(x->e, errno, "extract %s", ent->path);
	return fd;
}

/* linkat without AT_SYMLINK_FOLLOW: a symlink as the target is linked itself, not followed. */
static int x_link(struct xctx *x, int pfd, const char *leaf, int tfd, const char *tleaf, const struct tar_entry *ent)
{
	struct stat ts, cur;
	int rc = 0;

	if (fstatat(tfd, tleaf, &ts, AT_SYMLINK_NOFOLLOW))
		rc = err_set(x->e, errno, "extract %s: link target %s", ent->path, ent->linkpath);
	else if (S_ISDIR(ts.st_mode))
		rc = err_msg(x->e, EPERM, "extract %s: hard link to directory %s", ent->path, ent->linkpath);
	else if (!fstatat(pfd, leaf, &cur, AT_SYMLINK_NOFOLLOW) && cur.st_dev == ts.st_dev && cur.st_ino == ts.st_ino)
		rc = 0;	/* already that file */
	else if ((rc = clear(pfd, leaf)) || linkat(tfd, tleaf, pfd, leaf, 0))
		rc = err_set(x->e, rc ? -rc : errno, "extract %s: link to %s", ent->path, ent->linkpath);
	close(tfd);
	return rc;
}

/* Symlink, fifo or device node; an existing entry is cleared and the creation retried once. */
static int x_node(struct xctx *x, int pfd, const char *leaf, const struct tar_entry *ent)
{
	mode_t m = ent->type == '6' ? S_IFIFO : ent->type == '3' ? S_IFCHR : S_IFBLK;
	int i, rc;

	for (i = 0; i < 2; i++) {
		if (ent->type == '2')
			rc = symlinkat(ent->linkpath, pfd, leaf);
		else
			rc = mknodat(pfd, leaf, m | 0600, makedev(ent->devmajor, ent->devminor));
		if (!rc)
			return x_meta(x, pfd, leaf, ent);
		if (errno != EEXIST || i || (rc = clear(pfd, leaf)))
			return rc ? rc : -errno;
	}
	return -EEXIST;
}

static int x_entry(struct xctx *x, struct tar_reader *r, const struct tar_entry *ent)
{
	const char *dir, *leaf, *tleaf = NULL;
	int pfd, rc, tfd = -1;
	char *path, *sl;

	if ((rc = normalize(ent->path, &x->npath)))
		return rc == -ENOMEM ? err_set(x->e, ENOMEM, "extract %s", ent->path)
				     : err_msg(x->e, EINVAL, "extract %s: refusing a path with '..'", ent->path);
	path = x->npath.p;
	if (!*path && ent->type != '5')
		return err_msg(x->e, EINVAL, "extract %s: refusing to replace the destination", ent->path);
	if ((ent->type == '3' || ent->type == '4') && (x->flags & TAR_X_NODEV))
		return err_msg(x->e, EPERM, "extract %s: device nodes are not allowed", ent->path);
	if (ent->type == '1' && (tfd = link_target(x, ent, &tleaf)) < 0)
		return tfd;
	sl = split(path, &dir, &leaf);
	pfd = parent(x, (char *)dir, 1, ent->path);
	if (sl)
		*sl = '/';
	if (pfd < 0) {
		if (tfd >= 0)
			close(tfd);
		return pfd;
	}
	if (ent->type == '1')
		return x_link(x, pfd, leaf, tfd, tleaf, ent);
	if (ent->type == '0')
		return x_file(x, r, pfd, leaf, ent);
	rc = ent->type == '5' ? x_dir(x, pfd, leaf, path, ent) : x_node(x, pfd, leaf, ent);
	return rc ? err_set(x->e, -rc, "extract %s", ent->path) : 0;
}

static int dt_cmp(const void *a, const void *b)
{
	const struct dtime *p = a, *q = b;

	if (p->depth != q->depth)
		return p->depth < q->depth ? 1 : -1;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* Directory mtimes last, deepest first, so creating their contents does not disturb them. */
static void dir_times(struct xctx *x)
{
	const char *dir, *leaf;
	struct stat st;
	size_t i;
	int pfd;

	if (x->ndt)
		qsort(x->dt, x->ndt, sizeof(*x->dt), dt_cmp);
	x->e = NULL;
	for (i = 0; i < x->ndt; i++) {
		struct timespec ts[2] = { { x->dt[i].mtime, 0 }, { x->dt[i].mtime, 0 } };

		split(x->dt[i].path, &dir, &leaf);
		pfd = parent(x, (char *)dir, 0, "");
		if (pfd >= 0 && !fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode))
			utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW);
	}
}

int tar_extract(struct tar_src *src, int destfd, unsigned flags, struct err *e)
{
	struct tar_reader *r = tar_reader_new(src);
	struct xctx x = { .dest = destfd, .flags = flags, .e = e, .deep = -1 };
	struct tar_entry ent;
	size_t i;
	int rc;

	if (!r)
		return err_set(e, ENOMEM, "extract");
	while ((rc = tar_next(r, &ent, e)) > 0 && !(rc = x_entry(&x, r, &ent)))
		;
	if (!rc)
		dir_times(&x);
	drop(&x, 0);
	for (i = 0; i < x.ndt; i++)
		free(x.dt[i].path);
	free(x.dt);
	buf_free(&x.cpath);
	buf_free(&x.npath);
	buf_free(&x.lpath);
	tar_reader_free(r);
	return rc;
}

/* ---- writer ---- */

void tar_writer_init(struct tar_writer *w, struct tar_sink *sink)
{
	w->sink = sink;
	w->written = 0;
}

int tar_write_data(struct tar_writer *w, const void *p, size_t n, struct err *e)
{
	int rc = n ? w->sink->write(w->sink->ctx, p, n) : 0;

	if (rc)
		return err_set(e, -rc, "write archive");
	w->written += n;
	return 0;
}

int tar_write_pad(struct tar_writer *w, uint64_t size, struct err *e)
{
	return tar_write_data(w, zero, pad_of(size), e);
}

int tar_write_end(struct tar_writer *w, struct err *e)
{
	return tar_write_data(w, zero, 2 * BLK, e);
}

/* Octal when it fits in n-1 digits, else GNU base-256 (two's complement, so negative too). */
static void put_num(unsigned char *f, size_t n, int64_t v)
{
	size_t i;

	if (v >= 0 && (uint64_t)v < 1ull << (3 * (n - 1))) {
		snprintf((char *)f, n, "%0*llo", (int)n - 1, (unsigned long long)v);
		return;
	}
	for (i = n - 1; i > 0; i--, v >>= 8)
		f[i] = v & 0xff;
	f[0] = v < 0 ? 0xff : 0x80;
}

/* "LEN key=val\n"; LEN counts its own digits. */
static int pax_add(struct buf *b, const char *key, const char *val)
{
	size_t n = strlen(key) + strlen(val) + 3, d = 1;
	char head[32];

	while (snprintf(head, sizeof(head), "%zu", n + d) != (int)d)
		d++;
	return buf_printf(b, "%zu %s=", n + d, key) || buf_puts(b, val) || buf_add(b, "\n", 1) ? -ENOMEM : 0;
}

static int pax_addn(struct buf *b, const char *key, int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)v);
	return pax_add(b, key, s);
}

/* Index of the '/' splitting path into a ustar prefix (<= 155) and name (1..100), or 0. */
static size_t name_split(const char *path, size_t len)
{
	size_t i = len > 101 ? len - 101 : 1;

	for (; i < len - 1 && i <= 155; i++)
		if (path[i] == '/')
			return i;
	return 0;
}

static void header(unsigned char *h, const struct tar_entry *ent, size_t sp)
{
	size_t o = sp ? sp + 1 : 0, n = strlen(ent->path) - o, i;
	unsigned sum = 0;

	memset(h, 0, BLK);
	memcpy(h + H_PREFIX, ent->path, sp);
	memcpy(h + H_NAME, ent->path + o, n < 100 ? n : 100);	/* longer: the pax path holds it */
	if (ent->linkpath)
		memcpy(h + H_LINK, ent->linkpath, strnlen(ent->linkpath, 100));
	put_num(h + H_MODE, 8, ent->mode & 07777);
	put_num(h + H_UID, 8, ent->uid);
	put_num(h + H_GID, 8, ent->gid);
	put_num(h + H_SIZE, 12, ent->size);
	put_num(h + H_MTIME, 12, ent->mtime);
	h[H_TYPE] = ent->type ? ent->type : '0';
	memcpy(h + H_MAGIC, "ustar\0" "00", 8);
	if (ent->type == '3' || ent->type == '4') {
		put_num(h + H_MAJOR, 8, ent->devmajor);
		put_num(h + H_MINOR, 8, ent->devminor);
	}
	memset(h + H_SUM, ' ', 8);
	for (i = 0; i < BLK; i++)
		sum += h[i];
	snprintf((char *)h + H_SUM, 8, "%06o", sum);
}

int tar_write_header(struct tar_writer *w, const struct tar_entry *ent, struct err *e)
{
	size_t len = strlen(ent->path), sp = len > 100 ? name_split(ent->path, len) : 0;
	struct tar_entry px = { .type = 'x', .path = "././@PaxHeader", .mode = 0644 };
	struct buf pax = { 0 };
	unsigned char h[BLK];
	int rc = 0;

	if (len > 100 && !sp)
		rc |= pax_add(&pax, "path", ent->path);
	if (ent->linkpath && strlen(ent->linkpath) > 100)
		rc |= pax_add(&pax, "linkpath", ent->linkpath);
	if (ent->size > 077777777777ull)
		rc |= pax_addn(&pax, "size", ent->size);
	if (ent->uid > 07777777)
		rc |= pax_addn(&pax, "uid", ent->uid);
	if (ent->gid > 07777777)
		rc |= pax_addn(&pax, "gid", ent->gid);
	if (ent->mtime < 0 || ent->mtime > 077777777777ll)
		rc |= pax_addn(&pax, "mtime", ent->mtime);
	if (rc) {
		rc = err_set(e, ENOMEM, "archive %s", ent->path);
	} else if (pax.len) {
		px.size = pax.len;
		header(h, &px, 0);
		if (!(rc = tar_write_data(w, h, BLK, e)) && !(rc = tar_write_data(w, pax.p, pax.len, e)))
			rc = tar_write_pad(w, pax.len, e);
	}
	buf_free(&pax);
	if (rc)
		return rc;
	header(h, ent, sp);
	return tar_write_data(w, h, BLK, e);
}

/* tar_write_tree */

struct hlink {
	dev_t dev;
	ino_t ino;
	nlink_t left;	/* links not seen yet */
	char *path;
};

struct walker {
	struct tar_writer *w;
	struct err *e;
	dev_t dev;
	struct buf path;
	char *io;
	char lbuf[4096];
	struct hlink *hl;
	size_t nhl;
};

static int tree_dir(struct walker *t, int fd);

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first path of an inode is archived as it is, later ones link to it: 1 (*target set), 0, -ENOMEM.
 * At the last link the inode is forgotten and *owned is to be freed. The array is grown when its
 * length reaches a power of two, to twice that. */
static int hardlink(struct walker *t, const struct stat *st, char **target, char **owned)
{
	struct hlink *h = t->hl;
	size_t i;

	for (i = 0; i < t->nhl && (h[i].dev != st->st_dev || h[i].ino != st->st_ino); i++)
		;
	if (i < t->nhl) {
		*target = h[i].path;
		if (!--h[i].left) {
			*owned = h[i].path;
			h[i] = h[--t->nhl];
		}
		return 1;
	}
	if (!(t->nhl & (t->nhl - 1)) && !(h = realloc(h, (t->nhl ? 2 * t->nhl : 1) * sizeof(*h))))
		return -ENOMEM;
	t->hl = h;
	h[t->nhl] = (struct hlink){ st->st_dev, st->st_ino, st->st_nlink - 1, strdup(t->path.p) };
	return h[t->nhl++].path ? 0 : -ENOMEM;
}

/* size bytes of a file; one that shrank meanwhile is padded with zeros, as GNU tar does. */
static int tree_file(struct walker *t, int dfd, const char *name, uint64_t size)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC), rc = 0, eof = 0;
	uint64_t left = size;
	ssize_t n;

	if (fd < 0)
		return err_set(t->e, errno, "archive %s", t->path.p);
	while (left && !rc) {
		size_t want = left < RBUF ? left : RBUF;

		if ((n = eof ? 0 : read_full(fd, t->io, want)) < 0) {
			rc = err_set(t->e, -n, "archive %s", t->path.p);
			break;
		}
		if ((size_t)n < want) {
			memset(t->io + n, 0, want - n);
			eof = 1;
		}
		rc = tar_write_data(t->w, t->io, want, t->e);
		left -= want;
	}
	close(fd);
	return rc ? rc : tar_write_pad(t->w, size, t->e);
}

static int tree_entry(struct walker *t, int dfd, const char *name)
{
	size_t old = t->path.len;
	struct tar_entry ent;
	char *owned = NULL;
	struct stat st;
	ssize_t n;
	int rc, fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : err_set(t->e, errno, "archive %s%s", t->path.p, name);
	if (S_ISSOCK(st.st_mode))
		return 0;
	if (buf_puts(&t->path, name) || (S_ISDIR(st.st_mode) && buf_add(&t->path, "/", 1)))
		return err_set(t->e, ENOMEM, "archive %s", name);
	ent = (struct tar_entry){ .path = t->path.p, .mode = st.st_mode & 07777, .uid = st.st_uid,
				  .gid = st.st_gid, .mtime = st.st_mtim.tv_sec };
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 &&
	    (rc = hardlink(t, &st, &ent.linkpath, &owned))) {
		ent.type = '1';
		rc = rc < 0 ? err_set(t->e, ENOMEM, "archive %s", ent.path) : tar_write_header(t->w, &ent, t->e);
	} else if (S_ISREG(st.st_mode)) {
		ent.type = '0';
		ent.size = st.st_size;
		if (!(rc = tar_write_header(t->w, &ent, t->e)))
			rc = tree_file(t, dfd, name, ent.size);
	} else if (S_ISLNK(st.st_mode)) {
		ent.type = '2';
		ent.linkpath = t->lbuf;
		if ((n = readlinkat(dfd, name, t->lbuf, sizeof(t->lbuf))) < 0 || (size_t)n == sizeof(t->lbuf)) {
			rc = err_set(t->e, n < 0 ? errno : ENAMETOOLONG, "archive %s", ent.path);
		} else {
			t->lbuf[n] = 0;
			rc = tar_write_header(t->w, &ent, t->e);
		}
	} else if (S_ISDIR(st.st_mode)) {
		ent.type = '5';
		/* another mount: its mount point is archived, not what is mounted there */
		if (!(rc = tar_write_header(t->w, &ent, t->e)) && st.st_dev == t->dev) {
			if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				rc = err_set(t->e, errno, "archive %s", ent.path);
			else
				rc = tree_dir(t, fd);
		}
	} else {
		ent.type = S_ISFIFO(st.st_mode) ? '6' : S_ISCHR(st.st_mode) ? '3' : '4';
		ent.devmajor = major(st.st_rdev);
		ent.devminor = minor(st.st_rdev);
		rc = tar_write_header(t->w, &ent, t->e);
	}
	free(owned);
	t->path.p[t->path.len = old] = 0;
	return rc;
}

/* The entries of directory fd (taken over), sorted by name. */
static int tree_dir(struct walker *t, int fd)
{
	DIR *d = fdopendir(fd);
	size_t n = 0, i;
	char **names = NULL, **nn;
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(fd);
		return err_set(t->e, errno, "archive %s", t->path.p);
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!(n & (n - 1))) {	/* at 0, 1, 2, 4, ...: room for the next power of two */
			if (!(nn = realloc(names, (n ? 2 * n : 1) * sizeof(*names))))
				break;
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	if (de || errno)	/* out of memory, or readdir failed */
		rc = err_set(t->e, de ? ENOMEM : errno, "archive %s", t->path.p);
	if (!rc && n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; !rc && i < n; i++)
		rc = tree_entry(t, dirfd(d), names[i]);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int tar_write_tree(struct tar_writer *w, int dirfd, struct err *e)
{
	struct walker t = { .w = w, .e = e };
	struct stat st;
	int rc, fd;

	if (!(t.io = malloc(RBUF)) || buf_add(&t.path, "", 0)) {
		rc = err_set(e, ENOMEM, "archive");
	} else if (fstat(dirfd, &st) || (fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = err_set(e, errno, "archive");
	} else {
		t.dev = st.st_dev;
		rc = tree_dir(&t, fd);
	}
	while (t.nhl)
		free(t.hl[--t.nhl].path);
	free(t.hl);
	buf_free(&t.path);
	free(t.io);
	return rc;
}
