/* monitor: the small parent of a detached container. It outlives the CLI (double fork, own session),
 * writes the container's output to container.log with timestamps, records the exit code and finish
 * time, releases what the container used and removes it for --rm. No heap buffers: one 4 KiB stack
 * buffer, a few fds. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "runtime_int.h"

/* One log record per line: "<RFC 3339 time> <tag> <data>\n" (format documented in container.h). */
static void log_write(int fd, char tag, const char *p, size_t n)
{
	char ts[40];
	fmt_time(now_ns(), ts);
	size_t tl = strlen(ts);
	ts[tl++] = ' ';
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		char t[3] = { nl ? tag : tag + 32, ' ', 0 };
		struct iovec iov[4] = { { ts, tl }, { t, 2 }, { (void *)p, len }, { "\n", 1 } };
		while (writev(fd, iov, 4) < 0 && errno == EINTR)
			;
		p += len + !!nl;
		n -= len + !!nl;
	}
}

/* copy the container's stdout/stderr (or its pty) into the log until every writer is gone */
static void log_copy(int logfd, int out, int err)
{
	char b[4096];
	struct pollfd pf[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (!pf[i].revents)
				continue;
			ssize_t n = read(pf[i].fd, b, sizeof(b));
			if (n > 0) {
				log_write(logfd, i ? 'E' : 'O', b, n);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(pf[i].fd);	/* EOF, or EIO: the pty's last holder is gone */
				pf[i].fd = -1;
			}
		}
	}
}

/* Close whatever the caller handed us without O_CLOEXEC: a `$(mydocker run -d ...)` pipe kept
 * open here would keep the caller's shell waiting for the container's whole life. */
static void close_inherited(void)
{
	int null = openat(AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		dup2(null, fd);
	if (null > 2)
		close(null);
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int fd = atoi(de->d_name);
		if (fd > 2 && fd != dirfd(d) && !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
			close(fd);
	}
	if (d)
		closedir(d);
}

/* At rest the monitor only copies output: give back the binary's text the CLI faulted in before
 * the fork (~260 KiB of RSS) and the stack below the monitor's frames. Text: only r-x file
 * mappings (never written: MADV_DONTNEED unmaps pages that refault from the page cache). The page
 * cache holds the binary in large folios and a fault maps the whole folio, as much as the VMA
 * allows; MADV_RANDOM on every other 16 KiB splits the VMA so that a refault maps 16 KiB, not
 * 256. The ranges are collected first and dropped last, so that parsing faults nothing back in. */
static void drop_text(void)
{
	char b[1024];
	unsigned long r[8][3], sp = (unsigned long)__builtin_frame_address(0);
	size_t have = 0, nr = 0;
	ssize_t n;
	int fd = openat(AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && (n = read(fd, b + have, sizeof(b) - have)) > 0) {
		have += n;
		char *line = b, *nl;
		while ((nl = memchr(line, '\n', b + have - line))) {
			*nl = 0;
			char *dash, *rest;
			unsigned long lo = strtoul(line, &dash, 16), hi = strtoul(dash + 1, &rest, 16);
			if (*dash == '-' && hi > lo && nr < 8 && !strncmp(rest, " r-xp ", 6) && strchr(rest, '/'))
				r[nr][0] = lo, r[nr][1] = hi - lo, r[nr++][2] = 1;
			/* the stack: everything 16 KiB below our frame is dead */
			if (*dash == '-' && nr < 8 && strstr(rest, "[stack]") && lo < sp && hi > sp &&
			    ((sp - 16384) & ~4095UL) > lo)
				r[nr][0] = lo, r[nr][1] = ((sp - 16384) & ~4095UL) - lo, r[nr++][2] = 0;
			line = nl + 1;
		}
		have -= line - b;
		memmove(b, line, have);
		if (have == sizeof(b))	/* a line longer than the buffer: not one of ours */
			have = 0;
	}
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < nr; i++)
		for (unsigned long a = r[i][0], end = a + r[i][1]; r[i][2] && a < end; a += 32768)
			madvise((void *)a, end - a < 16384 ? end - a : 16384, MADV_RANDOM);
	while (nr--)
		madvise((void *)r[nr][0], r[nr][1], MADV_DONTNEED);
}

static void monitor(struct spawn *s, int lockfd, int flags, int report)
{
	struct ctl_msg m = { 0 };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, master = -1;
	char path[4200];
	close_inherited();
	/* be no obstacle to unmounting anything on the host */
	chdir("/");
	snprintf(path, sizeof(path), "%s/container.log", s->dir);
	int logfd = openat(AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (logfd < 0)
		err_set(&m.e, errno, "open %s", path);
	else if (!s->c->tty && (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)))
		err_set(&m.e, errno, "pipe");
	/* the container's stdin is /dev/null (docker attach would be needed to feed it) */
	s->stdio[0] = 0;
	s->stdio[1] = po[1];
	s->stdio[2] = pe[1];
	pid_t pid = m.e.no ? (close(lockfd), -1) : launch(s, lockfd, &master, &m.code, &m.e);
	if (m.e.no && !m.code)
		m.code = 125;
	if (po[1] >= 0)
		close(po[1]), close(pe[1]);
	/* a failed start is unwound before the CLI hears of it: its exit means "nothing left" */
	if (pid < 0)
		ctr_finish(s->c, m.code, flags & LAUNCH_FRESH);
	/* tell the CLI how it went: it prints the ID or the error, and exits */
	write_all(report, &m, sizeof(m));
	close(report);
	if (pid < 0)
		_exit(m.code);
	ctr_workspace_reap(s->dir);
	drop_text();
	if (master >= 0)
		log_copy(logfd, master, -1);
	else
		log_copy(logfd, po[0], pe[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	ctr_finish(s->c, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), s->c->autoremove);
	_exit(0);
}

NOINLINE int launch_detached(struct spawn *s, int lockfd, int flags, int *code, struct err *e)
{
	int rp[2], st;
	struct ctl_msg m;
	if (pipe2(rp, O_CLOEXEC)) {
		close(lockfd);
		return err_set(e, errno, "pipe");
	}
	pid_t mid = fork();
	if (mid == 0) {
		close(rp[0]);
		/* own session, and a grandchild of the CLI: no terminal, no one waiting for it */
		setsid();
		pid_t g = fork();
		if (g == 0)
			monitor(s, lockfd, flags, rp[1]);
		_exit(g < 0 ? 125 : 0);
	}
	int no = errno;
	/* the monitor holds the lock now (same open file); ours goes */
	close(lockfd);
	close(rp[1]);
	if (mid < 0) {
		close(rp[0]);
		return err_set(e, no, "fork the monitor");
	}
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	ssize_t n = read_full(rp[0], &m, sizeof(m));
	close(rp[0]);
	if (n != sizeof(m)) {
		ctr_finish(s->c, 125, flags & LAUNCH_FRESH);
		return err_set(e, n < 0 ? -n : EPIPE, "the container monitor failed");
	}
	*code = m.code;
	if (!m.code)
		return 0;
	*e = m.e;
	e->msg[sizeof(e->msg) - 1] = 0;
	*code = m.code;
	return -(e->no ? e->no : 1);
}
