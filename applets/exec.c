/* exec: run a command in a running container (docker exec). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "applets.h"
#include "json.h"
#include "pty.h"
#include "runtime.h"
#include "secure.h"

const char exec_usage[] =
	"Usage: mydocker exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\n"
	"Run COMMAND in a running container: in all of its namespaces (as a child of its PID 1's\n"
	"PID namespace), its root and its environment.\n\n"
	"  -i, --interactive      keep stdin open\n"
	"  -t, --tty              allocate a pseudo-terminal\n"
	"  -e, --env K=V          set an environment variable (K alone: take it from this environment)\n"
	"  -w, --workdir DIR      working directory (default: the container's)\n"
	"  -u, --user UID[:GID]   run as this user (default: the container's)\n\n"
	"Exit status: the command's, 125 if mydocker failed, 126 if the command cannot be invoked,\n"
	"127 if it is not found.\n";

/* user first (it decides what the others allow), mount last (it changes our root) */
static const char *const ns_names[] = { "user", "cgroup", "ipc", "uts", "net", "pid", "mnt" };

/* The container's namespaces that differ from ours (joining our own user ns would fail). */
static void open_ns(pid_t pid, int fds[])
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++) {
		char p[64], q[64];
		struct stat a, b;
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns_names[i]);
		snprintf(q, sizeof(q), "/proc/self/ns/%s", ns_names[i]);
		fds[i] = openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0 && errno == ENOENT)	/* a kernel without this namespace type */
			continue;
		if (fds[i] < 0)
			die(125, "open %s: %s", p, strerror(errno));
		if (!fstat(fds[i], &a) && !stat(q, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
}

/* The container's environment as its PID 1 has it, then -e on top. */
static char **container_env(pid_t pid, char **extra)
{
	struct buf b = { 0 };
	char p[64], **env = xcalloc(1, sizeof(char *));
	snprintf(p, sizeof(p), "/proc/%d/environ", (int)pid);
	int r = read_file_at(AT_FDCWD, p, 4 << 20, &b);
	if (r)
		die(125, "read %s: %s", p, strerror(-r));
	for (size_t i = 0; i < b.len; i += strlen(b.p + i) + 1)
		if (strchr(b.p + i, '='))
			env_set(&env, xstrdup(b.p + i));
	for (char **e = extra; e && *e; e++)
		env_set(&env, xstrdup(*e));
	buf_free(&b);
	return env;
}

struct xopts {
	const char *cwd, *user;
	char **env;		/* -e, in order */
	int nenv, interactive, tty;
};

static void parse(int argc, char **argv, struct xopts *o)
{
	static const struct option lo[] = {
		{ "interactive", no_argument, 0, 'i' }, { "tty", no_argument, 0, 't' },
		{ "env", required_argument, 0, 'e' }, { "workdir", required_argument, 0, 'w' },
		{ "user", required_argument, 0, 'u' }, { 0, 0, 0, 0 },
	};
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+ite:w:u:", lo, NULL)) != -1) {
		switch (ch) {
		case 'i': o->interactive = 1; break;
		case 't': o->tty = 1; break;
		case 'w': o->cwd = optarg; break;
		case 'u': o->user = optarg; break;
		case 'e':
			if (!optarg[0] || optarg[0] == '=')
				die(125, "invalid environment variable \"%s\": empty name", optarg);
			if (!strchr(optarg, '=') && !getenv(optarg))
				break;	/* K alone and unset here: not set, as docker does */
			o->env = xrealloc(o->env, (o->nenv + 2) * sizeof(char *));
			o->env[o->nenv++] = strchr(optarg, '=') ? optarg : xasprintf("%s=%s", optarg, getenv(optarg));
			o->env[o->nenv] = NULL;
			break;
		default:
			warnx("unknown or incomplete flag \"%s\"", argv[optind - 1]);
			usage(2);
		}
	}
	if (argc - optind < 2)
		usage(2);
	if (o->cwd && o->cwd[0] != '/')
		die(125, "the working directory \"%s\" is invalid: it must be an absolute path", o->cwd);
}

/* Join the running container c: its namespaces (and, later, its cgroup). Returns an O_PATH fd of its
 * root and fills its environment; dies if it is not running. */
static int enter(const struct container *c, const char *ref, char **extra, char ***env)
{
	char rootp[64];
	int nsfd[ARRAY_SIZE(ns_names)];
	if (!ctr_alive(c))
		die(125, "container %s is not running", ref);
	/* everything of the container is opened first, then checked to still be the same PID 1 */
	open_ns(c->pid, nsfd);
	snprintf(rootp, sizeof(rootp), "/proc/%d/root", (int)c->pid);
	int rootfd = openat(AT_FDCWD, rootp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*env = container_env(c->pid, extra);
	if (rootfd < 0 || !ctr_alive(c))
		die(125, "container %s is not running", ref);
	/* our child runs this binary inside the container until execve: keep /proc/PID/exe closed to it */
	prctl(PR_SET_DUMPABLE, 0);
	/* later: join the container's cgroup here (cgroup.procs), before entering it */
	for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++) {
		if (nsfd[i] >= 0 && setns(nsfd[i], 0))
			die(125, "join the %s namespace: %s", ns_names[i], strerror(errno));
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	}
	return rootfd;
}

int exec_main(int argc, char **argv)
{
	struct xopts o = { 0 };
	struct container c;
	struct err e = { 0 };
	char id[ID_LEN + 1], **env;
	int code = 125, master = -1, sv[2];
	sigset_t old;
	parse(argc, argv, &o);
	if (ctr_lookup(argv[optind], id, &e) || ctr_load(id, &c, &e))
		die_err(125, &e);
	struct proc p = { .argv = argv + optind + 1, .cwd = o.cwd ? o.cwd : c.workdir,
			  .user = o.user ? o.user : c.user, .tty = o.tty, .stdio = { 0, 1, 2 },
			  .initfd = -1, .pdeathsig = SIGKILL };
	if (o.tty && ioctl(0, TIOCGWINSZ, &p.ws))
		ioctl(1, TIOCGWINSZ, &p.ws);
	if (!o.interactive && !o.tty && (p.stdio[0] = openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		die(125, "open /dev/null: %s", strerror(errno));
	/* its cgroup: cgroup.procs opened here on the host, joined by the child first thing */
	static int cgfds[CG_NCTRL];
	if (ctr_alive(&c) && (p.ncg = cg_open_procs(c.id, cgfds, &e)) < 0)
		die_err(125, &e);
	p.cgfds = cgfds;
	p.sec = &c;	/* the container's capabilities, no-new-privileges */
	/* seccomp as the container's PID 1 has it (--security-opt seccomp=unconfined is not stored) */
	c.seccomp_unconfined = ctr_alive(&c) && sec_seccomp_mode(c.pid) == 0;
	p.rootfd = enter(&c, argv[optind], o.env, &env);
	p.env = env;
	int sigfd = sig_forward_fd(&old);
	if (sigfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		die(125, "socketpair: %s", strerror(errno));
	p.sock = sv[1];
	/* a child, so it is inside the PID namespace we joined */
	pid_t pid = fork();
	if (pid < 0)
		die(125, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		proc_start(&p);
	}
	close(sv[1]);
	if (proc_await(sv[0], &master, &code, &e)) {
		waitpid(pid, NULL, 0);
		die_err(code, &e);
	}
	close(sv[0]);
	if (master >= 0 && o.interactive)
		pty_raw(0);
	code = attach_wait(pid, master, o.interactive ? 0 : -1, sigfd);
	pty_restore();
	return code;
}
