/* pty: pseudo-terminals for -t, the caller's raw mode, and passing fds over a unix socket. */
#ifndef MYDOCKER_PTY_H
#define MYDOCKER_PTY_H

#include <sys/types.h>
#include <sys/ioctl.h>
#include "util.h"

/* Open a pty pair from /dev/ptmx of the current root (the container's own devpts instance);
 * both fds O_CLOEXEC, the slave unlocked and opened via TIOCGPTPEER (no path lookup). */
int pty_open(int *master, int *slave, struct err *e);
/* Make slave the controlling terminal of a new session and fds 0, 1, 2 (ws applied if non-zero). */
int pty_attach_slave(int slave, const struct winsize *ws, struct err *e);
/* Put fd's terminal in raw mode; restored by pty_restore() and at exit(). No-op unless a tty. */
void pty_raw(int fd);
void pty_restore(void);
/* Copy the window size of the terminal on from to the pty master to (SIGWINCH follows in the container). */
void pty_copy_winsize(int from, int to);

/* One datagram with an optional fd (SCM_RIGHTS) over a SOCK_SEQPACKET socket. */
int fd_send(int sock, const void *p, size_t n, int fd);
/* Returns bytes (0 at EOF) or -errno; *fd = received fd (O_CLOEXEC) or -1. */
ssize_t fd_recv(int sock, void *p, size_t n, int *fd);

#endif
