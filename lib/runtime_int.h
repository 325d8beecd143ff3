/* runtime internals shared by runtime.c and monitor.c. */
#ifndef MYDOCKER_RUNTIME_INT_H
#define MYDOCKER_RUNTIME_INT_H

#include "runtime.h"

/* Messages on the control socket, container side -> parent. code 0 with an fd: the pty master;
 * code > 0: setup or exec failed, the exit code to report. EOF: the command runs. */
#define CTL_READY -1	/* OCI create: set up and waiting for start (proc_await returns 0) */
struct ctl_msg {
	int code;
	struct err e;
};

/* What the container side needs; it reads this in its copy of our memory after clone. */
struct spawn {
	struct container *c;
	const char *dir;
	char *const *layers;
	int nlayers;
	int stdio[3];
	struct winsize ws;
	int sock;
	int pdeathsig;
};

pid_t launch(struct spawn *s, int lockfd, int *master, int *code, struct err *e);
void ctr_finish(const struct container *c, int code, int remove);
int launch_detached(struct spawn *s, int lockfd, int flags, int *code, struct err *e);
int self_memfd(struct err *e);
/* Report a setup failure (code, e) over the control socket and _exit(code). */
void ctl_fail(int sock, int code, const struct err *e) __attribute__((noreturn));
/* A new network namespace: bring up lo. */
int lo_up(struct err *e);

#endif
