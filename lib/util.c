/* util: errors, allocation, buffers, I/O, time and size formatting, directory helpers. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "util.h"

const char *applet_name = "mydocker";

static int err_vset(struct err *e, int no, const char *fmt, va_list ap)
{
	if (e) {
		int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		if (no && n >= 0 && (size_t)n < sizeof(e->msg))
			snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(no));
		e->no = no ? no : 1;
	}
	return no ? -no : -1;
}

int err_set(struct err *e, int no, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(e, no < 0 ? -no : no, fmt, ap);
	va_end(ap);
	return r;
}

int err_msg(struct err *e, int no, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		e->no = no;
	}
	return -no;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	char old[sizeof(e->msg)], pre[sizeof(e->msg)];
	va_list ap;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	snprintf(e->msg, sizeof(e->msg), "%s: %s", pre, old);
	return -(e->no ? e->no : 1);
}

static void vwarn(const char *fmt, va_list ap)
{
	char line[1024];
	int top = !strcmp(applet_name, "mydocker");
	int n = snprintf(line, sizeof(line), top ? "mydocker: " : "mydocker: %s: ", applet_name);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	size_t len = strlen(line);
	line[len++] = '\n';
	(void)!write(2, line, len);
}

void warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(code);
}

void die_err(int code, const struct err *e)
{
	die(code, "%s", e->msg[0] ? e->msg : "failed");
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die(125, "out of memory");
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		die(125, "out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die(125, "out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		die(125, "out of memory");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char *p;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		die(125, "out of memory");
	return p;
}

int buf_grow(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n))
		return -ENOMEM;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_grow(b, n))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
	return 0;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= w;
	}
	return 0;
}

ssize_t read_full(int fd, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += r;
	}
	return got;
}

/* Sized from fstat (st_size + 2: the data, the read that sees EOF, the NUL), growing only if the
 * file grows meanwhile. Files that report no size (/proc, cgroupfs) are read into the stack first
 * and copied into an exact-size buffer. A big first buffer (it was 128 KiB) costs an mmap/munmap
 * pair in musl's malloc, slow in a VM, ~30 per run; so do heap buffers of 4 KiB and more. */
int read_file_at(int dirfd, const char *path, size_t max, struct buf *out)
{
	struct stat st;
	char tmp[4096];
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int sized = !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0;
	size_t cap = sized ? (size_t)st.st_size + 2 : 0;
	ssize_t n = 0;
	if (cap > max + 2)
		cap = max + 2;
	out->len = 0;
	if (!sized) {
		while ((n = read(fd, tmp, sizeof(tmp))) < 0 && errno == EINTR)
			;
		if (n < 0) {
			int no = errno;
			close(fd);
			return -no;
		}
		cap = n + (n == sizeof(tmp) ? n : 2);
	}
	for (;;) {
		if (out->cap < cap || out->len + 1 >= out->cap) {
			size_t need = out->cap < cap ? cap : out->cap * 2;
			char *p = realloc(out->p, need);
			if (!p) {
				close(fd);
				return -ENOMEM;
			}
			out->p = p;
			out->cap = need;
		}
		if (n > 0 && !out->len)
			memcpy(out->p, tmp, n);
		else
			n = read(fd, out->p + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int no = errno;
			close(fd);
			return -no;
		}
		if (n == 0)
			break;
		out->len += n;
		if (out->len > max) {
			close(fd);
			return -EFBIG;
		}
	}
	out->p[out->len] = 0;
	close(fd);
	return 0;
}

void cleanup_freep(void *p)
{
	free(*(void **)p);
}

void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

int parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return -EINVAL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void fmt_time(int64_t ns, char out[40])
{
	time_t s = ns / 1000000000;
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ns % 1000000000));
}

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n decimal digits at *p (advanced), then the separator sep (0: none). -1 if malformed. */
static int digits(const char **p, int n, char sep)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	if (sep && *(*p)++ != sep)
		return -1;
	return v;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
int parse_time(const char *s, int64_t *ns)
{
	const char *p = s;
	int y = digits(&p, 4, '-'), mo = digits(&p, 2, '-'), d = digits(&p, 2, 'T');
	int h = digits(&p, 2, ':'), mi = digits(&p, 2, ':'), sec = digits(&p, 2, 0);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    sec < 0 || sec > 60)
		return -EINVAL;
	int64_t frac = 0;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (n < 9) {
				frac = frac * 10 + (*p - '0');
				n++;
			}
		while (n++ < 9)
			frac *= 10;
	}
	int64_t off = 0;
	if (*p == '+' || *p == '-') {
		const char *q = p + 1;
		int oh = digits(&q, 2, ':'), om = digits(&q, 2, 0);
		if (oh < 0 || om < 0 || *q)
			return -EINVAL;
		off = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
	} else if ((*p != 'Z' || p[1]) && *p != 0) {
		return -EINVAL;
	}
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	*ns = t * 1000000000 + frac;
	return 0;
}

void fmt_duration(int64_t s, char out[32])
{
	if (s < 1)
		snprintf(out, 32, "Less than a second");
	else if (s == 1)
		snprintf(out, 32, "1 second");
	else if (s < 60)
		snprintf(out, 32, "%lld seconds", (long long)s);
	else if (s / 60 == 1)
		snprintf(out, 32, "About a minute");
	else if (s < 3600)
		snprintf(out, 32, "%lld minutes", (long long)(s / 60));
	else if (s / 3600 == 1)
		snprintf(out, 32, "About an hour");
	else if (s < 48 * 3600)
		snprintf(out, 32, "%lld hours", (long long)(s / 3600));
	else if (s < 14 * 86400)
		snprintf(out, 32, "%lld days", (long long)(s / 86400));
	else if (s < 60 * 86400)
		snprintf(out, 32, "%lld weeks", (long long)(s / (7 * 86400)));
	else if (s < 730 * 86400)
		snprintf(out, 32, "%lld months", (long long)(s / (30 * 86400)));
	else
		snprintf(out, 32, "%lld years", (long long)(s / (365 * 86400)));
}

void fmt_size(uint64_t n, char out[16])
{
	static const char *unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = n;
	int u = 0;
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(out, 16, "%lluB", (unsigned long long)n);
	else
		snprintf(out, 16, "%.3g%s", v, unit[u]);
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; ; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			*p = 0;
			if (mkdir(tmp, mode) && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

struct dirent *dir_it_next(struct dir_it *it)
{
	for (;;) {
		if (it->pos >= it->len) {
			/* the raw syscall: glibc (ASan unit tests, fuzzers) has no getdents(); both libcs'
			 * struct dirent is linux_dirent64 on 64-bit */
			int n = syscall(SYS_getdents64, it->fd, it->buf, it->size);
			if (n <= 0)
				return NULL;
			it->pos = 0;
			it->len = n;
		}
		struct dirent *de = (struct dirent *)(it->buf + it->pos);
		it->pos += de->d_reclen;
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			return de;
	}
}

static int rm_tree(int dirfd, const char *name, int type, dev_t dev, int depth);

/* Every entry of the open directory fd (on device dev) but those named in keep. */
static int rm_entries(int fd, dev_t dev, const char *const *keep, int depth)
{
	char b[512] __attribute__((aligned(8)));	/* with rm_tree, < 4 MiB of stack at the depth limit */
	struct dir_it it;
	struct dirent *de;
	int r = 0;
	dir_it_init(&it, fd, b, sizeof(b));
	errno = 0;
	while ((de = dir_it_next(&it))) {
		int kept = 0;
		for (const char *const *k = keep; k && *k && !kept; k++)
			kept = !strcmp(de->d_name, *k);
		int q = kept ? 0 : rm_tree(fd, de->d_name, de->d_type, dev, depth + 1);
		if (q && !r)
			r = q;
		errno = 0;
	}
	return errno && !r ? -errno : r;
}

/* type: the entry's d_type (DT_UNKNOWN if not known) */
static int rm_tree(int dirfd, const char *name, int type, dev_t dev, int depth)
{
	struct stat st;
	/* the common cases in one call: a file, an empty directory (a mount point: EBUSY) */
	if (type != DT_DIR && type != DT_UNKNOWN) {
		if (!unlinkat(dirfd, name, 0) || errno == ENOENT)
			return 0;
		if (errno != EISDIR)
			return -errno;
	} else if (!unlinkat(dirfd, name, AT_REMOVEDIR) || errno == ENOENT) {
		return 0;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev && dev != (dev_t)-1)
		return -EBUSY;	/* a mount point: never cross it */
	if (depth > 4096)
		return -ELOOP;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = rm_entries(fd, st.st_dev, NULL, depth);
	close(fd);
	if (!r && unlinkat(dirfd, name, AT_REMOVEDIR) && errno != ENOENT)
		r = -errno;
	return r;
}

int rm_rf_contents(int fd, const char *const *keep)
{
	struct stat st;
	return fstat(fd, &st) ? -errno : rm_entries(fd, st.st_dev, keep, 0);
}

int rm_rf_at(int dirfd, const char *name)
{
	return rm_tree(dirfd, name, DT_UNKNOWN, (dev_t)-1, 0);
}

int rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path);
}
