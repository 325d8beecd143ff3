/* util: the error convention, cleanup helpers and small wrappers shared by every module. */
#ifndef MYDOCKER_UTIL_H
#define MYDOCKER_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/types.h>

/* lib functions return 0 or -errno and describe the failure here; only the applet prints. */
struct err {
	int no;
	char msg[256];
};

/* Fill e (if non-NULL) with "fmt: strerror(no)" (no == 0: just fmt) and return -no (or -1 if no == 0). */
int err_set(struct err *e, int no, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_set, without the ": strerror" tail, for messages that say it all. Returns -no. */
int err_msg(struct err *e, int no, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix the existing message: "ctx: old". Returns -e->no. */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The applet name used in messages ("run", "ps", ...); set by dispatch. */
extern const char *applet_name;
/* "mydocker: APPLET: msg" on stderr. */
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* Print the error once and exit with code. */
void die_err(int code, const struct err *e) __attribute__((noreturn));

/* Short-lived applet code only: die (exit 125) on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The stack and heap arena of a child cloned with CLONE_VM until it execs (lib/alloc.c; NULLs:
 * none). Its mallocs come from the arena, its frees do nothing. */
void alloc_clone_arena(void *stack_lo, void *stack_hi, void *arena, size_t len);

/* Growable byte buffer. */
struct buf {
	char *p;
	size_t len, cap;
};
int buf_grow(struct buf *b, size_t extra);	/* 0 or -ENOMEM */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

/* I/O that retries on EINTR and short counts. Return 0 or -errno (read_full: bytes read, or -errno). */
int write_all(int fd, const void *p, size_t n);
ssize_t read_full(int fd, void *p, size_t n);
/* Read a whole file (at most max bytes; -EFBIG past it) relative to dirfd, NUL-terminated. */
int read_file_at(int dirfd, const char *path, size_t max, struct buf *out);

/* Directory entries without opendir's heap DIR (a 2 KiB+ malloc is an mmap/munmap pair in musl):
 * getdents64 into a buffer of the caller's (>= 512 bytes); "." and ".." skipped. NULL at the end or on error
 * (errno set then). The fd stays the caller's. */
struct dir_it {
	int fd, pos, len, size;
	char *buf;	/* the caller's, 8-aligned: char b[N] __attribute__((aligned(8))) */
};
struct dirent;
static inline void dir_it_init(struct dir_it *it, int fd, char *buf, int size)
{
	*it = (struct dir_it){ .fd = fd, .size = size, .buf = buf };
}
struct dirent *dir_it_next(struct dir_it *it);

/* cleanup attributes */
void cleanup_freep(void *p);
void cleanup_closep(int *fd);
#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
static inline void *steal_ptr(void *pp)
{
	void **p = pp, *v = *p;
	*p = NULL;
	return v;
}
static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* Parse a decimal integer in [min,max]; 0 or -EINVAL/-ERANGE. */
int parse_ll(const char *s, long long min, long long max, long long *out);

/* Current time in nanoseconds (CLOCK_REALTIME) and an RFC 3339 UTC rendering of it. */
int64_t now_ns(void);
void fmt_time(int64_t ns, char out[40]);
int parse_time(const char *s, int64_t *ns);
/* "3 minutes", "2 seconds", "About an hour" as docker prints durations. */
void fmt_duration(int64_t secs, char out[32]);
/* "1.2MB" / "553kB" docker-style (SI units). */
void fmt_size(uint64_t n, char out[16]);

/* mkdir -p relative to AT_FDCWD, mode for created dirs. 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);
/* rm -rf of dirfd/name without following symlinks or crossing mount points. 0 or -errno. */
int rm_rf_at(int dirfd, const char *name);
/* Empty the open directory fd, except the entries named in keep (NULL-terminated, or NULL);
 * never crosses a mount. */
int rm_rf_contents(int fd, const char *const *keep);
int rm_rf(const char *path);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* For a function with path-sized buffers off the common path (or below it): its frame is on the
 * stack only while it runs, not inlined into a caller under which everything else then runs. Every
 * stack page a run touches first costs a page fault (and a forked child one more to copy it). */
#define NOINLINE __attribute__((noinline))

#endif
