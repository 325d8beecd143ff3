/* runtime: creating and launching containers (run, start), the container-side setup stage, and the
 * final "become the command" stage shared with exec. The detached monitor lives in monitor.c. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "defaults.h"
#include "json.h"
#include "pty.h"
#include "rootfs.h"
#include "runtime.h"
#include "runtime_int.h"
#include "network.h"
#include "secure.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC 4
#endif

/* ---- environment ---- */

const char *env_get(char *const *env, const char *k)
{
	size_t n = strlen(k);
	for (; env && *env; env++)
		if (!strncmp(*env, k, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

void env_set(char ***env, char *kv)
{
	size_t n = strcspn(kv, "="), i = 0;
	for (; *env && (*env)[i]; i++)
		if (!strncmp((*env)[i], kv, n) && (*env)[i][n] == '=') {
			free((*env)[i]);
			(*env)[i] = kv;
			return;
		}
	*env = xrealloc(*env, (i + 2) * sizeof(char *));
	(*env)[i] = kv;
	(*env)[i + 1] = NULL;
}

/* ---- creating a container ---- */

static int name_taken(const char *name)
{
	char **ids = NULL;
	int hit = 0;
	if (ctr_list(&ids, NULL))
		return 0;
	for (char **p = ids; *p && !hit; p++)
		hit = ctr_has_name(*p, name);
	strv_free(ids);
	return hit;
}

/* docker-style adjective_noun, chosen by the id's random bytes; "c" + 12 hex if all are taken */
static void name_pick(struct container *c)
{
	static const char *adj[16] = { "brave", "calm", "eager", "fond", "happy", "jolly", "keen", "lucid",
				       "merry", "nimble", "proud", "quiet", "sharp", "tender", "vivid", "witty" };
	static const char *noun[16] = { "babbage", "curie", "darwin", "euler", "fermi", "gauss", "hopper",
					"kepler", "lovelace", "newton", "noether", "pascal", "ritchie",
					"shannon", "turing", "wozniak" };
	for (int i = 0; i + 1 < ID_LEN; i += 2) {
		int a = c->id[i] <= '9' ? c->id[i] - '0' : c->id[i] - 'a' + 10;
		int b = c->id[i + 1] <= '9' ? c->id[i + 1] - '0' : c->id[i + 1] - 'a' + 10;
		snprintf(c->name, sizeof(c->name), "%s_%s", adj[a], noun[b]);
		if (i < 16 && !name_taken(c->name))
			return;
	}
	snprintf(c->name, sizeof(c->name), "c%.12s", c->id);
}

/* A ".<id>.new" seen under the creation lock is what a killed creator left: remove it; likewise
 * the lock files of containers that are gone. */
static NOINLINE void sweep_partial(void)
{
	char d[4096], b[1024] __attribute__((aligned(8)));
	struct dirent *de;
	struct dir_it it;
	snprintf(d, sizeof(d), "%s/containers", state_root());
	int dir = openat(AT_FDCWD, d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir_it_init(&it, dir, b, sizeof(b));
	while (dir >= 0 && (de = dir_it_next(&it)))
		if (de->d_name[0] == '.' && strlen(de->d_name) == ID_LEN + 5 && !strcmp(de->d_name + ID_LEN + 1, ".new"))
			rm_rf_at(dir, de->d_name);
	if (dir >= 0)
		close(dir);
	ctr_sweep_locks();
}

NOINLINE int ctr_create(struct container *c, struct err *e)
{
	char dir[4096], tmp[4096];
	struct buf j = { 0 };
	/* one creator at a time: the name check and the rename below are one critical section */
	int lk = state_lock("containers", e), dfd = -1, r = 0;
	if (lk < 0)
		return lk;
	sweep_partial();
	if (!c->name[0])
		name_pick(c);
	else if (name_taken(c->name))
		r = err_set(e, 0, "the container name \"%s\" is already in use", c->name), e->no = EEXIST;
	ctr_dir(c->id, dir, sizeof(dir));
	snprintf(tmp, sizeof(tmp), "%s/containers/.%s.new", state_root(), c->id);
	/* built under a name ctr_list skips, so ps never sees a half-made container */
	if (!r && (dfd = ctr_workspace(tmp, e)) < 0)
		r = dfd;
	if (!r && ctr_to_json(c, &j))
		r = err_set(e, ENOMEM, "serialise the container");
	if (!r)
		r = state_write_new(dfd, "config.json", j.p, j.len, c->autoremove ? 0 : STATE_SYNC, e);
	if (!r && rename(tmp, dir))
		r = err_set(e, errno, "rename %s", tmp);
	if (r && dfd >= 0)
		rm_rf(tmp);
	if (dfd >= 0)
		close(dfd);
	buf_free(&j);
	close(lk);
	return r;
}

/* ---- the final stage: become the command ---- */

void ctl_fail(int sock, int code, const struct err *e)
{
	struct ctl_msg m = { .code = code };
	m.e = *e;
	fd_send(sock, &m, sizeof(m), -1);
	_exit(code);
}

void proc_exec(char **argv, char **env, int sock)
{
	struct err e = { 0 };
	const char *path = env_get(env, "PATH");
	int no = ENOENT, eacces = 0;
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, env);
		no = errno;
		err_set(&e, no, "exec \"%s\"", argv[0]);
		ctl_fail(sock, no == ENOENT ? 127 : 126, &e);
	}
	for (const char *p = path ? path : DEFAULT_PATH; argv[0][0] && no == ENOENT;) {
		char f[4096];
		size_t n = strcspn(p, ":");
		errno = ENAMETOOLONG;
		if ((size_t)snprintf(f, sizeof(f), "%.*s/%s", (int)n, n ? p : ".", argv[0]) < sizeof(f))
			execve(f, argv, env);
		if (errno == EACCES)
			eacces = 1;
		else if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG)
			no = errno;
		if (!p[n])
			break;
		p += n + 1;
	}
	if (no == ENOENT && !eacces)
		err_set(&e, 0, "exec \"%s\": executable file not found in $PATH", argv[0]);
	else
		err_set(&e, no == ENOENT ? EACCES : no, "exec \"%s\"", argv[0]);
	ctl_fail(sock, no == ENOENT && !eacces ? 127 : 126, &e);
}

/* passwd/group lines "name:x:id:...": the entry whose name or id (field 2) is key, with >= need fields */
static int db_find(const char *file, const char *key, int need, char *f[7], struct buf *b)
{
	if (read_file_at(AT_FDCWD, file, 1 << 20, b))
		return 0;
	for (char *line = b->p, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		int n = 0;
		for (char *s = line; s && n < 7;) {
			f[n++] = s;
			if ((s = strchr(s, ':')))
				*s++ = 0;
		}
		if (n >= need && (!strcmp(f[0], key) || !strcmp(f[2], key)))
			return 1;
	}
	return 0;
}

/* -u UID[:GID] or names, from the container's own /etc/passwd and /etc/group */
static NOINLINE int user_resolve(const char *spec, uid_t *uid, gid_t *gid, char home[256], struct err *e)
{
	char u[256], *g, *f[7];
	long long v;
	struct buf b = { 0 };
	snprintf(u, sizeof(u), "%s", spec ? spec : "0");
	if ((g = strchr(u, ':')))
		*g++ = 0;
	int found = db_find("/etc/passwd", u, 6, f, &b);
	if (found) {
		*uid = strtoul(f[2], NULL, 10);
		*gid = strtoul(f[3], NULL, 10);
		snprintf(home, 256, "%s", f[5]);
	} else if (!parse_ll(u, 0, 0x7fffffff, &v)) {
		*uid = v;
		*gid = 0;
		snprintf(home, 256, "%s", v ? "/" : "/root");
	} else {
		buf_free(&b);
		return err_set(e, 0, "unable to find user %s: no matching entries in passwd file", u);
	}
	buf_free(&b);
	if (!g || !*g)
		return 0;
	if (!parse_ll(g, 0, 0x7fffffff, &v)) {
		*gid = v;
	} else if (db_find("/etc/group", g, 3, f, &b)) {
		*gid = strtoul(f[2], NULL, 10);
	} else {
		buf_free(&b);
		return err_set(e, 0, "unable to find group %s: no matching entries in group file", g);
	}
	buf_free(&b);
	return 0;
}

void fds_close_except(int a, int b)
{
	int keep[2] = { a < b ? a : b, a < b ? b : a }, lo = 3;
	for (int i = 0; i <= 2; i++) {
		int hi = i < 2 ? keep[i] - 1 : -1;	/* -1: to the end */
		if (i < 2 && keep[i] < lo)
			continue;
		if ((hi < 0 || hi >= lo) && syscall(SYS_close_range, lo, hi < 0 ? ~0U : (unsigned)hi, 0))
			for (int fd = lo; fd <= (hi < 0 ? 1023 : hi); fd++)	/* no close_range (< 5.9) */
				close(fd);
		if (i < 2)
			lo = keep[i] + 1;
	}
}

/* Every ignored signal back to its default (execve resets only caught ones): those the kernel
 * lists in SigIgn, or all of them if /proc cannot tell. SIGKILL and SIGSTOP fail, harmlessly. */
static NOINLINE void signals_default(void)
{
	char b[4096], *ign;
	unsigned long long m = ~0ull;
	int fd = openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b) - 1);
	if (fd >= 0)
		close(fd);
	if (n > 0 && (b[n] = 0, ign = strstr(b, "\nSigIgn:")))
		m = strtoull(ign + 8, NULL, 16);
	/* the raw call: libc refuses the signals it reserves for itself (32-34), which a caller may
	 * have ignored as well; SIG_DFL with no flags, no restorer and no mask is all zeros */
	unsigned long act[4] = { 0 };
	for (int s = 1; s < _NSIG && s <= 64; s++)
		if (m >> (s - 1) & 1)
			syscall(SYS_rt_sigaction, s, act, NULL, 8);
}

/* stdio: a pty of the current root's devpts, or the fds the parent chose */
static int proc_stdio(struct proc *p, struct err *e)
{
	int m = -1, s = -1;
	if (!p->tty) {
		for (int fd = 0; fd < 3; fd++)
			if (p->stdio[fd] == fd ? fcntl(fd, F_SETFD, 0) < 0 : dup2(p->stdio[fd], fd) < 0)
				return err_set(e, errno, "set up stdio");
		/* a session of its own: the caller's ^C is forwarded by the parent, not sent twice */
		setsid();
		return 0;
	}
	if (pty_open(&m, &s, e))
		return -e->no;
	struct ctl_msg msg = { 0 };
	int r = fd_send(p->sock, &msg, sizeof(msg), m);
	close(m);
	if (r)
		return err_set(e, -r, "send the pty");
	if (p->console && mnt_console(s, e))
		return -e->no;
	return pty_attach_slave(s, &p->ws, e);
}

/* a sealed in-memory copy of this binary: --init runs it as PID 1 without exposing the host's file */
int self_memfd(struct err *e)
{
	struct stat st;
	int in = openat(AT_FDCWD, "/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int fd = memfd_create("mydocker-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	off_t off = 0;
	int r = in < 0 || fd < 0 || fstat(in, &st) ? -errno : 0;
	while (!r && off < st.st_size)
		if (sendfile(fd, in, &off, st.st_size - off) <= 0)
			r = -errno;
	if (!r && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE))
		r = -errno;
	if (in >= 0)
		close(in);
	if (r && fd >= 0)
		close(fd);
	return r ? err_set(e, -r, "copy the init binary") : fd;
}

/* The environment docker gives: the record's (image Env, then -e), plus PATH, HOSTNAME and HOME
 * unless set. No x* wrappers here: we are the container's process, an error must reach the parent. */
static char **proc_env(const struct proc *p, const char *home)
{
	size_t n = strv_len(p->env), k = n;
	char **env = calloc(n + 4, sizeof(char *));
	if (!env)
		return NULL;
	memcpy(env, p->env, n * sizeof(char *));
	if (!env_get(env, "PATH") && asprintf(&env[k++], "PATH=%s", DEFAULT_PATH) < 0)
		return NULL;
	if (p->hostname && !env_get(env, "HOSTNAME") && asprintf(&env[k++], "HOSTNAME=%s", p->hostname) < 0)
		return NULL;
	if (!env_get(env, "HOME") && asprintf(&env[k++], "HOME=%s", home) < 0)
		return NULL;
	return env;
}

/* OCI create: the command must be there before create succeeds (as runc and crun check) */
static int cmd_check(const char *cmd, char **env, struct err *e)
{
	const char *p = env_get(env, "PATH");
	char f[4096];
	if (strchr(cmd, '/'))
		return access(cmd, X_OK) ? err_set(e, errno, "exec \"%s\"", cmd) : 0;
	for (p = p ? p : DEFAULT_PATH; *cmd; p += strcspn(p, ":") + 1) {
		size_t n = strcspn(p, ":");
		snprintf(f, sizeof(f), "%.*s/%s", (int)n, n ? p : ".", cmd);
		if (!access(f, X_OK))
			return 0;
		if (!p[n])
			break;
	}
	return err_set(e, 0, "exec \"%s\": executable file not found in $PATH", cmd);
}

/* Tell the parent we are ready (CTL_READY), then block opening the fifo for writing (it opens
 * only once `start` opens it for reading, from another process) and write one byte. */
static int proc_wait_start(const struct proc *p, struct err *e)
{
	struct ctl_msg m = { .code = CTL_READY };
	char path[32];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p->waitfd);
	int r = fd_send(p->sock, &m, sizeof(m), -1), fd = r ? -1 : openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC);
	if (r || fd < 0 || write(fd, "0", 1) != 1)
		return err_set(e, r ? -r : errno, "exec fifo");
	close(fd);
	close(p->waitfd);
	return 0;
}

void proc_start(struct proc *p)
{
	struct err e = { 0 };
	sigset_t none;
	uid_t uid = 0;
	gid_t gid = 0;
	char home[256], **env;
	/* default dispositions and an empty mask: ignored or blocked signals would survive execve */
	signals_default();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* exec: into the container's cgroup before anything is charged (fds opened on the host) */
	if (p->ncg && cg_join(p->cgfds, p->ncg, &e))
		ctl_fail(p->sock, 125, &e);
	/* exec: the container's root as /proc/PID/root shows it (its mount namespace is joined) */
	if (p->rootfd >= 0 && (fchdir(p->rootfd) || chroot(".")))
		err_set(&e, errno, "enter the container's root"), ctl_fail(p->sock, 125, &e);
	/* stdio before anything can fail, so the pty exists for the caller either way */
	if (proc_stdio(p, &e))
		ctl_fail(p->sock, 125, &e);
	/* nothing of the caller's from here on, not even until execve: a leaked directory fd is a
	 * way out of the root (-w /proc/self/fd/N, CVE-2024-21626) */
	fds_close_except(p->sock, p->initfd >= 0 ? p->initfd : p->waitfd);
	/* the user is looked up in the container's own files, so after the root is set */
	if (user_resolve(p->user, &uid, &gid, home, &e))
		ctl_fail(p->sock, 126, &e);
	if (!(env = proc_env(p, home)))
		err_set(&e, ENOMEM, "environment"), ctl_fail(p->sock, 125, &e);
	/* the working directory, created as root like docker's WORKDIR */
	const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";
	if (chdir(cwd) && (!p->mkcwd || errno != ENOENT || mkdir_p(cwd, 0755) || chdir(cwd)))
		err_set(&e, errno, "chdir to %s", cwd), ctl_fail(p->sock, 126, &e);
	/* and it must lie inside the root, whatever -w pointed at (getcwd fails for one outside) */
	char wd[4096];
	if (!getcwd(wd, sizeof(wd)))
		err_set(&e, 0, "chdir to %s: outside the container's root", cwd), ctl_fail(p->sock, 126, &e);
	/* OCI create: set up, the caller may go; wait here until `start` opens the exec fifo */
	if (p->waitfd > 0 && (cmd_check(p->argv[0], env, &e) || proc_wait_start(p, &e)))
		ctl_fail(p->sock, e.no ? 125 : 127, &e);
	/* the one place privileges are dropped: docker's capabilities (--privileged: the caller's),
	 * the bounding set first while CAP_SETPCAP is still there, then the user */
	uint64_t caps = ~0ull;
	if (p->sec && !p->sec->privileged && sec_caps(p->sec->cap_add, p->sec->cap_drop, &caps, &e))
		ctl_fail(p->sock, 125, &e);
	if (sec_caps_bound(caps, &e))
		ctl_fail(p->sock, 125, &e);
	/* docker's default seccomp denylist, the last thing that needs CAP_SYS_ADMIN (no mount etc.
	 * after it); mount, unshare, ... stay allowed if CAP_SYS_ADMIN is kept, as in docker */
	if (p->sec && !p->sec->privileged && !p->sec->seccomp_unconfined &&
	    sec_seccomp(caps >> 21 /* CAP_SYS_ADMIN */ & 1, &e))
		ctl_fail(p->sock, 125, &e);
	if (setgroups(p->ngroups, p->groups) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
		err_set(&e, errno, "set user %u:%u", (unsigned)uid, (unsigned)gid), ctl_fail(p->sock, 126, &e);
	umask(022);
	/* foreground: the container must not outlive the process that records its exit */
	if (p->pdeathsig)
		prctl(PR_SET_PDEATHSIG, p->pdeathsig);
	/* effective = permitted = caps (none for a non-root user), inheritable and ambient empty */
	if (sec_caps_apply(caps, p->sec && p->sec->no_new_privs, &e))
		ctl_fail(p->sock, 125, &e);
	if (p->initfd >= 0) {
		/* --init: the init applet as PID 1, the control socket on fd 3 as its handshake */
		size_t n = strv_len(p->argv);
		char **av = calloc(n + 3, sizeof(char *));
		if (p->initfd == 3)
			p->initfd = fcntl(3, F_DUPFD_CLOEXEC, 4);
		if (!av || p->initfd < 0 || dup2(p->sock, 3) < 0 || fcntl(3, F_SETFD, 0))
			err_set(&e, av ? errno : ENOMEM, "init handshake"), ctl_fail(p->sock, 125, &e);
		av[0] = "mydocker-init";
		av[1] = "--";
		memcpy(av + 2, p->argv, n * sizeof(char *));
		fexecve(p->initfd, av, env);
		err_set(&e, errno, "exec init");
		ctl_fail(p->sock, 126, &e);
	}
	proc_exec(p->argv, env, p->sock);
}

int proc_await(int sock, int *master, int *code, struct err *e)
{
	for (;;) {
		struct ctl_msg m;
		int fd;
		ssize_t n = fd_recv(sock, &m, sizeof(m), &fd);
		if (n == 0)
			return 0;
		*code = 125;
		if (n < 0)
			return err_set(e, -n, "read from the container");
		if (n == sizeof(m) && m.code == CTL_READY)
			return 0;
		if (n == sizeof(m) && m.code == 0 && fd >= 0 && *master < 0) {
			*master = fd;
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (n != sizeof(m) || m.code <= 0)
			return err_set(e, EPROTO, "container setup");
		*e = m.e;
		e->msg[sizeof(e->msg) - 1] = 0;
		*code = m.code;
		return -(e->no ? e->no : 1);
	}
}

/* ---- the attached caller ---- */

int sig_forward_fd(sigset_t *old)
{
	static const int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, old);
	/* a closed reader (| head) must not kill us before the exit code is recorded */
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int wait_status(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 125;
}

/* copy what is readable on from to to: > 0 copied, 0 at EOF/EIO (the other side is gone), -1 later */
static NOINLINE int relay(int from, int to)
{
	char b[4096];
	ssize_t n = read(from, b, sizeof(b));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -1;
	if (n <= 0)
		return 0;
	write_all(to, b, n);
	return 1;
}

int attach_wait(pid_t pid, int master, int in, int sigfd)
{
	struct pollfd pf[3] = { { sigfd, POLLIN, 0 }, { master, POLLIN, 0 }, { master >= 0 ? in : -1, POLLIN, 0 } };
	int status = -1, st;
	while (status < 0 || pf[1].fd >= 0) {
		if (status >= 0) {
			/* it is gone: drain what its pty still holds, without waiting for stray holders */
			fcntl(master, F_SETFL, O_NONBLOCK);
			while (relay(master, 1) > 0)
				;
			break;
		}
		if (poll(pf, 3, -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD) {
				if (waitpid(pid, &st, WNOHANG) == pid)
					status = wait_status(st);
			} else if (si.ssi_signo == SIGWINCH) {
				if (master >= 0)
					pty_copy_winsize(isatty(0) ? 0 : 1, master);
			} else {
				kill(pid, si.ssi_signo);
			}
		}
		if (pf[1].revents && relay(master, 1) == 0)
			pf[1].fd = -1;
		if (pf[2].revents && relay(in, master) == 0) {
			/* end of input: the pty's EOF character, then stop reading */
			write(master, "\4", 1);
			pf[2].fd = -1;
		}
	}
	while (status < 0) {
		if (waitpid(pid, &st, 0) == pid)
			status = wait_status(st);
		else if (errno != EINTR)
			status = 125;
	}
	return status;
}

/* ---- launching ---- */

/* net none: a fresh network namespace with only the loopback interface, up */
int lo_up(struct err *e)
{
	struct ifreq r = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ok = s >= 0 && !ioctl(s, SIOCGIFFLAGS, &r) && ((r.ifr_flags |= IFF_UP), !ioctl(s, SIOCSIFFLAGS, &r));
	int no = errno;
	if (s >= 0)
		close(s);
	return ok ? 0 : err_set(e, no, "bring up lo");
}

/* The container side, PID 1 of its namespaces, from clone() to execve: one step per line. */
static void ctr_child(struct spawn *s)
{
	const struct container *c = s->c;
	struct err e = { 0 };
	char go;
	/* first of all, wait until the parent has put us in the cgroup, set up the network and
	 * recorded us (we share its memory: until "g" nothing but this wait runs here) */
	if (read(s->sock, &go, 1) != 1)
		_exit(125);
	/* until execve we are the host's binary: not to be opened through /proc/1/exe (CVE-2019-5736) */
	prctl(PR_SET_DUMPABLE, 0);
	/* device nodes and mount points get exactly the modes asked for */
	umask(0);
	/* --init: copy the binary while the host's /proc/self/exe is still reachable */
	int initfd = c->init ? self_memfd(&e) : -1;
	if (c->init && initfd < 0)
		ctl_fail(s->sock, 125, &e);
	/* the root: overlay, /proc, /sys, /dev, /etc files, volumes; then pivot_root into it */
	struct mnt_spec m = { .dir = s->dir, .hostname = c->hostname, .layers = s->layers,
			      .nlayers = s->nlayers, .vols = c->vols, .nvols = c->nvols,
			      .read_only = c->read_only, .console = c->tty, .scratch = c->autoremove };
	if (mnt_rootfs(&m, &e))
		ctl_fail(s->sock, 125, &e);
	/* docker's masked and read-only /proc and /sys paths (not for --privileged) */
	if (!c->privileged && sec_mask_paths(&e))
		ctl_fail(s->sock, 125, &e);
	/* our own UTS namespace */
	if (sethostname(c->hostname, strlen(c->hostname)))
		err_set(&e, errno, "sethostname"), ctl_fail(s->sock, 125, &e);
	/* our own network namespace: lo up (a bridge network's eth0 was set up by the parent) */
	if (!(c->net && !strcmp(c->net, "host")) && lo_up(&e))
		ctl_fail(s->sock, 125, &e);
	struct proc p = { .argv = c->argv, .env = c->env, .cwd = c->workdir, .user = c->user,
			  .hostname = c->hostname, .tty = c->tty, .console = c->tty, .mkcwd = 1, .ws = s->ws,
			  .stdio = { s->stdio[0], s->stdio[1], s->stdio[2] }, .sock = s->sock,
			  .rootfd = -1, .initfd = initfd, .pdeathsig = s->pdeathsig, .sec = c };
	proc_start(&p);
}

/* The container stage is cloned with CLONE_VM: it runs on our memory until it execs, so there are
 * no page tables to copy and no pages to fault in again (on the VMs we measure on that is ~1 ms of
 * a 10 ms run). It gets a stack of its own (below it a guard page) and a heap arena of its own
 * (lib/alloc.c). The two of us never run side by side: it waits for "g" (its first step) while we
 * make its cgroup, network and record, then we wait until it has built its root and exec'd (or is
 * gone), and unmap its stack. */
#define STAGE_GUARD 4096
#define STAGE_STACK (256u << 10)
#define STAGE_ARENA (8u << 20)	/* address space: only what it touches is ever memory */

struct stage {
	struct spawn s;	/* its own copy: the stage writes nothing of ours */
	int close[2];	/* our end of the socket, the lock */
};

static int stage_main(void *arg)
{
	struct stage *st = arg;
	close(st->close[0]);
	close(st->close[1]);
	ctr_child(&st->s);
	return 125;
}

/* clone with all namespaces, record the container running, release it, wait until its command
 * runs. Returns the pid (and the pty master), or -errno with *code. */
pid_t launch(struct spawn *s, int lockfd, int *master, int *code, struct err *e)
{
	struct container *c = s->c;
	int sv[2];
	*code = 125;
	c->limits.all_devices = c->privileged;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		close(lockfd);
		return err_set(e, errno, "socketpair");
	}
	size_t len = STAGE_GUARD + STAGE_STACK + STAGE_ARENA;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED || mprotect(mem, STAGE_GUARD, PROT_NONE)) {
		err_set(e, errno, "map the container stage's stack");
		if (mem != MAP_FAILED)
			munmap(mem, len);
		close(sv[0]), close(sv[1]), close(lockfd);
		return -e->no;
	}
	char *stack = mem + STAGE_GUARD, *top = stack + STAGE_STACK;
	alloc_clone_arena(stack, top, top, STAGE_ARENA);
	struct stage st = { .s = *s, .close = { sv[0], lockfd } };
	st.s.sock = sv[1];
	/* the stage makes itself undumpable (lib/runtime.c ctr_child): with one mm, that is ours too */
	int dumpable = prctl(PR_GET_DUMPABLE);
	int netns = c->net && !strcmp(c->net, "host") ? 0 : CLONE_NEWNET;	/* --net host: the host's */
	pid_t pid = clone(stage_main, top, CLONE_VM | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | netns |
			  CLONE_NEWIPC | SIGCHLD, &st);
	int no = errno, r;
	close(sv[1]);
	if (pid < 0) {
		r = err_set(e, no, "clone");
		close(lockfd);
		goto out;
	}
	/* recorded before it runs: pid + start time let ps tell a dead container from a reused pid */
	c->status = CTR_RUNNING;
	c->pid = pid;
	c->pid_start = proc_start_time(pid);
	c->monitor_pid = getpid();
	c->started = now_ns();
	c->finished = 0;
	c->exit_code = 0;
	/* its cgroup (limits hold before it runs anything; removed by teardown), its network (veth,
	 * address, port rules), its record */
	r = cg_create(c->id, &c->limits, e) || cg_enter(c->id, pid, e) ? -e->no :
		network_up(c, pid, e) ? -e->no : ctr_save(c, e);
	close(lockfd);
	if (!r) {
		/* a stage that failed on its side has sent why and gone: that error, not a broken pipe */
		int sent = send(sv[0], "g", 1, MSG_NOSIGNAL) == 1, sno = errno;
		r = proc_await(sv[0], master, code, e);
		if (!r && !sent)
			r = err_set(e, sno, "release the container");
	}
	if (r) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (*master >= 0)
			close(*master);
		*master = -1;
	}
out:
	/* the stage has exec'd (its end of the socket closed with its old mm) or is gone */
	close(sv[0]);
	alloc_clone_arena(NULL, NULL, NULL, 0);
	munmap(mem, len);
	if (dumpable > 0)
		prctl(PR_SET_DUMPABLE, dumpable);
	if (r)
		return r;
	*code = 0;
	return pid;
}

/* After the container's PID 1 is gone: record how it ended (if the record is still ours), release
 * host resources, and remove it for --rm (or when run could not start it). */
void ctr_finish(const struct container *c, int code, int remove)
{
	struct container t;
	struct err e;
	int lk = ctr_lock(c->id, &e);
	if (lk < 0)
		return;
	if (!ctr_load(c->id, &t, &e)) {
		if (t.status == CTR_RUNNING && t.pid == c->pid) {
			t.status = CTR_EXITED;
			t.exit_code = code;
			/* OOMKilled as docker reports it: the kernel's OOM killer struck inside its cgroup (not
			 * read for a record about to be removed) */
			struct cg_stats cs;
			t.oom_killed = !remove && !cg_stats(c->id, &cs, &e) && cs.oom_kills > 0;
			t.finished = now_ns();
			t.pid = 0;
			t.pid_start = 0;
			t.monitor_pid = 0;
			/* released before the exit is recorded: whoever sees "exited" (stop, ps) finds the
			 * cgroup, veth, address and port rules already gone */
			ctr_teardown(&t);
			if (!remove)
				ctr_save(&t, &e);
		} else {
			ctr_teardown(&t);
		}
		if (remove && !ctr_remove(c->id, &e))
			ctr_unlink_lock(c->id);
		ctr_free(&t);
	} else if (e.no == ENOENT) {	/* removed meanwhile: our ctr_lock made the file anew */
		ctr_unlink_lock(c->id);
	}
	close(lk);
}

static int launch_fg(struct spawn *s, int lockfd, int flags, int *code, struct err *e)
{
	const struct container *c = s->c;
	int master = -1, null = -1;
	sigset_t old;
	/* blocked before clone: a ^C between now and the wait is forwarded, not lost or fatal */
	int sigfd = sig_forward_fd(&old);
	if (sigfd < 0) {
		close(lockfd);
		return err_set(e, errno, "signalfd");
	}
	if (!(flags & LAUNCH_STDIN) && !c->tty &&
	    (null = openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		close(lockfd);
		return err_set(e, errno, "open /dev/null");
	}
	s->stdio[0] = null >= 0 ? null : 0;
	s->stdio[1] = 1;
	s->stdio[2] = 2;
	if (c->tty && ioctl(0, TIOCGWINSZ, &s->ws))
		ioctl(1, TIOCGWINSZ, &s->ws);
	s->pdeathsig = SIGKILL;
	pid_t pid = launch(s, lockfd, &master, code, e);
	if (null >= 0)
		close(null);
	if (pid < 0) {
		ctr_finish(c, *code, flags & LAUNCH_FRESH);
	} else {
		ctr_workspace_reap(s->dir);
		/* raw only while attached to a terminal we feed: keys like ^C go to the container */
		if (master >= 0 && (flags & LAUNCH_STDIN))
			pty_raw(0);
		*code = attach_wait(pid, master, (flags & LAUNCH_STDIN) ? 0 : -1, sigfd);
		pty_restore();
		if (master >= 0)
			close(master);
		ctr_finish(c, *code, c->autoremove);
	}
	close(sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid < 0 ? pid : 0;
}

int ctr_launch(struct container *c, char *const *layers, int nlayers, int lockfd, int flags,
	       int *code, struct err *e)
{
	char dir[4096];
	ctr_dir(c->id, dir, sizeof(dir));
	struct spawn s = { .c = c, .dir = dir, .layers = layers, .nlayers = nlayers, .sock = -1 };
	*code = 125;
	if (flags & LAUNCH_DETACH)
		return launch_detached(&s, lockfd, flags, code, e);
	return launch_fg(&s, lockfd, flags, code, e);
}
