/* mdbench: the measuring half of `make bench` (tests/bench/run.sh is the other half).
 * Small and static so its own cost is tiny and identical for every row.
 *
 * usage:
 *   mdbench time [-n N] [-w W] -- GROUP [-- GROUP]...
 *       GROUP = [+pre=SH] [+post=SH] LABEL CMD [ARG...]
 *       Runs the groups interleaved (A B C A B C ...), W untimed warm-up rounds then N timed
 *       ones. Each run is timed with CLOCK_MONOTONIC around fork+exec+wait; +pre/+post are
 *       /bin/sh -c snippets run untimed right before/after each run of that group. "{i}" in
 *       any argument or snippet becomes the round number (warm-ups included), so every run can
 *       use fresh names. The command's stdout goes to /dev/null, stderr to a temp file that is
 *       shown when it fails. Prints one line per group:
 *           LABEL median_us min_us max_us runs failures
 *   mdbench rss [-t] [-s MS] CMD [ARG...]
 *       Runs CMD and prints "cmd PID" (CMD's pid), then "tree KB" (ru_maxrss of CMD and every descendant it or they waited
 *       for, from wait4/getrusage RUSAGE_CHILDREN) and "rc N". With -t every process of the tree
 *       is followed (ptrace, plus a seccomp filter that stops only at execve) and each program
 *       image gets a line "img PID PPID KB EXE" with its VmHWM when it ends (execve or exit);
 *       processes still alive MS ms (default 300) after CMD itself exited are reported as
 *       "alive PID PPID RSS_KB HWM_KB EXE" and let go.
 *   mdbench procs EXE
 *       Lists live processes running EXE: "PID PPID RSS_KB HWM_KB".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <dirent.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *m)
{
	fprintf(stderr, "mdbench: %s: %s\n", m, strerror(errno));
	exit(2);
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* ---- time ---------------------------------------------------------------------------- */

struct group {
	const char *label, *pre, *post;
	char **argv;
	int argc;
	long long *us;
	int n, fails, first_rc;
	char errfile[64];
};

/* s with every "{i}" replaced by round number i (malloc'ed) */
static char *subst(const char *s, int i)
{
	char num[16];
	int nl = snprintf(num, sizeof num, "%d", i);
	size_t cap = strlen(s) * (nl > 3 ? nl : 3) + 1;
	char *o = malloc(cap), *p = o;
	if (!o)
		die("malloc");
	while (*s) {
		if (!strncmp(s, "{i}", 3)) {
			memcpy(p, num, nl);
			p += nl;
			s += 3;
		} else
			*p++ = *s++;
	}
	*p = 0;
	return o;
}

static int sh(const char *snippet, int i)
{
	char *c = subst(snippet, i);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", c, (char *)NULL);
		_exit(127);
	}
	free(c);
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		die("sh");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run one group once; returns the wall time in us, sets *rc. */
static long long run_once(struct group *g, int i, int *rc)
{
	char *argv[g->argc + 1];
	for (int k = 0; k < g->argc; k++)
		argv[k] = subst(g->argv[k], i);
	argv[g->argc] = NULL;
	int efd = open(g->errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int nfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (efd < 0 || nfd < 0)
		die("open");
	int st;
	long long t0 = now_us();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(nfd, 0);
		dup2(nfd, 1);
		dup2(efd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		die("fork");
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	long long t = now_us() - t0;
	close(efd);
	close(nfd);
	for (int k = 0; k < g->argc; k++)
		free(argv[k]);
	*rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return t;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static void show_err(struct group *g)
{
	char buf[512];
	int fd = open(g->errfile, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	fprintf(stderr, "mdbench: %s: exit %d: %s%s", g->label, g->first_rc, buf,
		n > 0 && buf[n - 1] == '\n' ? "" : "\n");
}

static int cmd_time(int argc, char **argv)
{
	int n = 20, warm = 1, a = 1;
	for (; a + 1 < argc && argv[a][0] == '-' && argv[a][1] != '-'; a += 2) {
		if (!strcmp(argv[a], "-n"))
			n = atoi(argv[a + 1]);
		else if (!strcmp(argv[a], "-w"))
			warm = atoi(argv[a + 1]);
		else
			return 2;
	}
	if (n < 1)
		n = 1;
	struct group gs[16];
	int ng = 0;
	while (a < argc) {
		if (strcmp(argv[a], "--")) {
			fprintf(stderr, "mdbench: time: expected -- before a group\n");
			return 2;
		}
		a++;
		if (ng == 16)
			return 2;
		struct group *g = &gs[ng++];
		memset(g, 0, sizeof *g);
		for (; a < argc && !strncmp(argv[a], "+", 1); a++) {
			if (!strncmp(argv[a], "+pre=", 5))
				g->pre = argv[a] + 5;
			else if (!strncmp(argv[a], "+post=", 6))
				g->post = argv[a] + 6;
		}
		if (a + 1 >= argc) {
			fprintf(stderr, "mdbench: time: a group needs LABEL CMD\n");
			return 2;
		}
		g->label = argv[a++];
		g->argv = argv + a;
		while (a < argc && strcmp(argv[a], "--"))
			a++, g->argc++;
		g->us = calloc(n, sizeof(long long));
		snprintf(g->errfile, sizeof g->errfile, "/tmp/mdbench-err.%d.%d", (int)getpid(), ng);
	}
	for (int i = 0; i < warm + n; i++) {
		for (int k = 0; k < ng; k++) {
			struct group *g = &gs[k];
			int rc;
			if (g->pre)
				sh(g->pre, i);
			long long t = run_once(g, i, &rc);
			if (g->post)
				sh(g->post, i);
			if (rc) {
				if (!g->fails++) {
					g->first_rc = rc;
					show_err(g);
				}
			} else if (i >= warm)
				g->us[g->n++] = t;
		}
	}
	for (int k = 0; k < ng; k++) {
		struct group *g = &gs[k];
		unlink(g->errfile);
		if (!g->n) {
			printf("%s - - - 0 %d\n", g->label, g->fails);
			continue;
		}
		qsort(g->us, g->n, sizeof(long long), cmp_ll);
		long long med = g->n % 2 ? g->us[g->n / 2] : (g->us[g->n / 2 - 1] + g->us[g->n / 2]) / 2;
		printf("%s %lld %lld %lld %d %d\n", g->label, med, g->us[0], g->us[g->n - 1], g->n, g->fails);
	}
	return 0;
}

/* ---- rss ----------------------------------------------------------------------------- */

/* "Key:" line of /proc/PID/status in kB, -1 if absent */
static long status_kb(pid_t pid, const char *key, int *ppid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (ppid) {
		char *p = strstr(buf, "\nPPid:");
		*ppid = p ? atoi(p + 6) : 0;
	}
	size_t kl = strlen(key);
	for (char *l = buf; l; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		if (!strncmp(l, key, kl) && l[kl] == ':')
			return atol(l + kl + 1);
	}
	return -1;
}

static void exe_of(pid_t pid, char *out, size_t n)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	ssize_t l = readlink(path, out, n - 1);
	if (l < 0)
		l = 0;
	out[l] = 0;
	if (!l)
		snprintf(out, n, "?");
}

static int is_thread(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	char *p = strstr(buf, "\nTgid:");
	return p && atoi(p + 6) != pid;
}

static char self[512];

static void report_img(const char *tag, pid_t pid)
{
	char exe[512];
	int ppid = 0;
	if (is_thread(pid))
		return;
	long hwm = status_kb(pid, "VmHWM", &ppid);
	exe_of(pid, exe, sizeof exe);
	if (!strcmp(exe, self))
		return; /* our own child before it execs the command */
	if (!strcmp(tag, "alive"))
		printf("alive %d %d %ld %ld %s\n", (int)pid, ppid, status_kb(pid, "VmRSS", NULL), hwm, exe);
	else
		printf("img %d %d %ld %s\n", (int)pid, ppid, hwm, exe);
}

static void install_exec_trap(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		die("seccomp");
}

#define MAXT 4096
static pid_t tracees[MAXT];
static int ntracees;
static void t_add(pid_t p)
{
	for (int i = 0; i < ntracees; i++)
		if (tracees[i] == p)
			return;
	if (ntracees < MAXT)
		tracees[ntracees++] = p;
}
static void t_del(pid_t p)
{
	for (int i = 0; i < ntracees; i++)
		if (tracees[i] == p) {
			tracees[i] = tracees[--ntracees];
			return;
		}
}

static int cmd_rss(int argc, char **argv)
{
	int trace = 0, settle = 300, opt;
	while ((opt = getopt(argc, argv, "+ts:")) != -1) {
		if (opt == 't')
			trace = 1;
		else if (opt == 's')
			settle = atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc)
		return 2;
	fflush(stdout);
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		int nfd = open("/dev/null", O_RDWR);
		dup2(nfd, 0);
		dup2(nfd, 1);
		if (trace) {
			raise(SIGSTOP);
			install_exec_trap();
		}
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	int st, rc = -1;
	printf("cmd %d\n", (int)child);
	exe_of(getpid(), self, sizeof self);
	if (!trace) {
		while (waitpid(child, &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	} else {
		if (waitpid(child, &st, WUNTRACED) < 0)
			die("waitpid");
		long o = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
			 PTRACE_O_TRACEEXIT | PTRACE_O_TRACESECCOMP;
		if (ptrace(PTRACE_SEIZE, child, 0, (void *)o))
			die("ptrace seize");
		t_add(child);
		kill(child, SIGCONT);
		long long deadline = 0;
		for (;;) {
			if (child == 0 && !deadline)
				deadline = now_us() + settle * 1000LL;
			if (deadline && now_us() >= deadline)
				break;
			pid_t p = waitpid(-1, &st, __WALL | (deadline ? WNOHANG : 0));
			if (p < 0) {
				if (errno == EINTR)
					continue;
				break; /* no more children or tracees */
			}
			if (p == 0) {
				if (!ntracees)
					break;
				usleep(2000);
				continue;
			}
			if (WIFEXITED(st) || WIFSIGNALED(st)) {
				t_del(p);
				if (p == child) {
					rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
					child = 0;
				}
				continue;
			}
			if (!WIFSTOPPED(st))
				continue;
			t_add(p);
			int ev = (unsigned)st >> 16, sig = WSTOPSIG(st);
			if (ev == PTRACE_EVENT_EXIT || ev == PTRACE_EVENT_SECCOMP) {
				report_img("img", p);
				sig = 0;
			} else if (ev) {
				sig = 0; /* fork/clone/stop events */
			} else if (sig == SIGTRAP || sig == SIGSTOP) {
				/* SIGSTOP: a new auto-attached child's first stop, or the initial one */
				if (sig == SIGSTOP)
					sig = 0;
			}
			ptrace(PTRACE_CONT, p, 0, (void *)(long)sig);
		}
		/* still alive after the command ended (a detached monitor, say): report, let go */
		for (int i = 0; i < ntracees; i++) {
			pid_t p = tracees[i];
			if (ptrace(PTRACE_INTERRUPT, p, 0, 0))
				continue;
			if (waitpid(p, &st, __WALL) == p && WIFSTOPPED(st)) {
				report_img("alive", p);
				ptrace(PTRACE_DETACH, p, 0, 0);
			}
		}
		if (child) { /* the command itself outlived us: wait for it normally */
			while (waitpid(child, &st, 0) < 0 && errno == EINTR)
				;
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("tree %ld\nrc %d\n", ru.ru_maxrss, rc);
	return 0;
}

/* ---- procs --------------------------------------------------------------------------- */

static int cmd_procs(const char *exe)
{
	char want[512], got[512];
	if (!realpath(exe, want))
		die(exe);
	DIR *d = opendir("/proc");
	if (!d)
		die("/proc");
	struct dirent *e;
	while ((e = readdir(d))) {
		pid_t pid = atoi(e->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		exe_of(pid, got, sizeof got);
		if (strcmp(got, want))
			continue;
		int ppid = 0;
		long hwm = status_kb(pid, "VmHWM", &ppid);
		printf("%d %d %ld %ld\n", (int)pid, ppid, status_kb(pid, "VmRSS", NULL), hwm);
	}
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "time"))
		return cmd_time(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "rss"))
		return cmd_rss(argc - 1, argv + 1);
	if (argc == 3 && !strcmp(argv[1], "procs"))
		return cmd_procs(argv[2]);
	fprintf(stderr, "usage: mdbench time|rss|procs ... (see tests/bench/mdbench.c)\n");
	return 2;
}
