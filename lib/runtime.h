/* runtime: creating and launching containers (run, start), the container-side setup stage, and the
 * final "become the command" stage shared with exec. */
#ifndef MYDOCKER_RUNTIME_H
#define MYDOCKER_RUNTIME_H

#include <signal.h>
#include <sys/types.h>
#include <sys/ioctl.h>
#include "container.h"

#define LAUNCH_DETACH 1		/* a monitor process stays the parent; output goes to container.log */
#define LAUNCH_FRESH 2		/* just created by run: remove it completely if it cannot start */
#define LAUNCH_STDIN 4		/* -i: the caller's stdin reaches the container */

/* Make ROOT/containers/<c->id> with its workspace and record, atomically (built under a temporary
 * name, renamed into place) and under the "containers" lock: the name (c->name; a generated one if
 * empty) is checked for uniqueness in the same critical section. */
int ctr_create(struct container *c, struct err *e);

/* Start c (status created or exited) on the image layers. lockfd: ctr_lock(c->id) held by the caller,
 * closed here once the running state is recorded. Foreground: returns 0 with *code = the container's
 * exit status (128+signal when killed); detached: returns 0 as soon as the command runs (a monitor
 * now owns it). On failure: -errno, e set, *code = 125/126/127, and the container is removed
 * (LAUNCH_FRESH) or recorded as exited with *code. */
int ctr_launch(struct container *c, char *const *layers, int nlayers, int lockfd, int flags,
	       int *code, struct err *e);

/* The last stage of every container process (run's PID 1, exec's command), after the root is set:
 * stdio or a pty from the current root's /dev/ptmx (master sent over sock), user, cwd, environment,
 * then execve of argv[0] found on the environment's PATH. Errors go over sock; never returns. */
struct proc {
	char **argv, **env;
	const char *cwd;	/* NULL: "/" */
	const char *user;	/* "UID[:GID]" or names from the container's /etc/passwd; NULL: root */
	const char *hostname;	/* HOSTNAME when the environment has none */
	int tty, console, mkcwd;
	struct winsize ws;
	int stdio[3];		/* fds for 0, 1, 2 when !tty */
	int sock;		/* control socket to the parent (O_CLOEXEC: EOF there = exec succeeded) */
	int rootfd;		/* >= 0: chroot here first (exec: the container's /proc/PID/root) */
	int initfd;		/* >= 0: --init, a sealed copy of this binary to exec as PID 1 */
	int pdeathsig;
	const struct container *sec;	/* hardening from this record: caps, privileged, no-new-privileges */
	int *cgfds, ncg;		/* exec: cgroup.procs fds of the container to join first (cg_open_procs) */
	const gid_t *groups;		/* OCI: additional groups (default: none) */
	int ngroups;
	int waitfd;			/* > 0: OCI create, an O_PATH fd of the exec fifo to wait on before the user switch */
};
void proc_start(struct proc *p) __attribute__((noreturn));
/* PATH lookup in env and execve; on failure report to sock and _exit(126/127). */
void proc_exec(char **argv, char **env, int sock) __attribute__((noreturn));
/* Parent side: read the control socket until EOF (the command runs: 0) or an error (-errno, *code). */
int proc_await(int sock, int *master, int *code, struct err *e);

/* Block the signals an attached caller forwards (and SIGCHLD); returns a signalfd. old: previous mask. */
int sig_forward_fd(sigset_t *old);
/* Attached: forward signals to pid, relay the pty (if master >= 0; stdin too if in >= 0), reap pid.
 * Returns its status as an exit code (128+signal when killed). */
int attach_wait(pid_t pid, int master, int in, int sigfd);
/* Close every fd above 2 except a and b (-1: none). */
void fds_close_except(int a, int b);
/* "K" -> value in a K=V vector, or NULL. */
const char *env_get(char *const *env, const char *k);
/* Set or replace "K=V" (kv, taken over) in a malloc'd vector. */
void env_set(char ***env, char *kv);

#endif
