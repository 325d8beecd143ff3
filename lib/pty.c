/* pty: pseudo-terminals for -t, the caller's raw mode, and passing fds over a unix socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/socket.h>
#include "pty.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int pty_open(int *master, int *slave, struct err *e)
{
	int unlock = 0;
	int m = openat(AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return err_set(e, errno, "open /dev/ptmx");
	if (ioctl(m, TIOCSPTLCK, &unlock)) {
		int no = errno;
		close(m);
		return err_set(e, no, "unlock pty");
	}
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		int no = errno;
		close(m);
		return err_set(e, no, "open pty slave");
	}
	*master = m;
	*slave = s;
	return 0;
}

int pty_attach_slave(int slave, const struct winsize *ws, struct err *e)
{
	if (ws && ws->ws_row && ws->ws_col)
		ioctl(slave, TIOCSWINSZ, ws);
	/* a session of its own, so the pty's ^C and hangup reach the container and nothing else */
	if (setsid() < 0 && errno != EPERM)
		return err_set(e, errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0))
		return err_set(e, errno, "set controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return err_set(e, errno, "dup2 pty");
	if (slave > 2)
		close(slave);
	return 0;
}

static struct termios saved_tio;
static int saved_fd = -1;

void pty_restore(void)
{
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSADRAIN, &saved_tio);
	saved_fd = -1;
}

void pty_raw(int fd)
{
	static int registered;
	struct termios t;
	if (saved_fd >= 0 || tcgetattr(fd, &saved_tio))
		return;
	t = saved_tio;
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSADRAIN, &t))
		return;
	saved_fd = fd;
	/* every exit path (die() included) puts the caller's terminal back */
	if (!registered++)
		atexit(pty_restore);
}

void pty_copy_winsize(int from, int to)
{
	struct winsize ws;
	if (!ioctl(from, TIOCGWINSZ, &ws))
		ioctl(to, TIOCSWINSZ, &ws);
}

int fd_send(int sock, const void *p, size_t n, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)p, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.b;
		m.msg_controllen = sizeof(u.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

ssize_t fd_recv(int sock, void *p, size_t n, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { p, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	ssize_t r;
	*fd = -1;
	while ((r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return r;
}
