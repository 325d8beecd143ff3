/* runc: an OCI runtime with runc's command line, for containerd (containerd-shim-runc-v2), k3s
 * and humans. The containers are made by the same code as `run` (lib/rootfs.c, lib/runtime.c);
 * lib/oci.c reads the bundle, lib/ocirt.c runs the lifecycle. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "applets.h"
#include "oci.h"
#include "pty.h"
#include "runtime.h"

const char runc_usage[] =
	"Usage: mydocker-runc [--root DIR] [--log FILE] [--log-format json] COMMAND [OPTIONS] ID\n\n"
	"An OCI runtime with runc's command line (any program name ending in \"runc\").\n"
	"Commands: create [--bundle DIR] [--pid-file F] [--console-socket S], start, run [--detach],\n"
	"state, kill [--all] ID [SIGNAL], delete [--force], exec [--process F.json] [--detach]\n"
	"[--pid-file F] [--console-socket S] [-t] ID [CMD...], ps [--format json], list [--format json]\n"
	"[-q], pause, resume, update --resources F.json, spec [--bundle DIR], features.\n"
	"State: --root DIR (default /run/mydocker-runc). Errors go to stderr and --log as JSON lines.\n";

static const char *root = "/run/mydocker-runc";
static int logfd = -1, log_json;

/* The one error exit: stderr, and the log as the shim reads it. */
static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	char msg[512], ts[40];
	struct buf b = { 0 };
	struct jw w;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (logfd >= 0) {
		fmt_time(now_ns(), ts);
		jw_init(&w, &b, 0);
		jw_obj(&w);
		jw_kstr(&w, "level", "error");
		jw_kstr(&w, "msg", msg);
		jw_kstr(&w, "time", ts);
		jw_end_obj(&w);
		if (!log_json)
			b.len = 0, buf_printf(&b, "time=\"%s\" level=error msg=\"%s\"", ts, msg);
		buf_puts(&b, "\n");
		write_all(logfd, b.p, b.len);
	}
	die(1, "%s", msg);
}

static void fail_err(const struct err *e)
{
	fail("%s", e->msg);
}

/* ---- the state dir ---- */

static int id_dir(const char *id, int must)
{
	char p[4096];
	if (!name_valid(id))
		fail("invalid container id \"%s\"", id);
	snprintf(p, sizeof(p), "%s/%s", root, id);
	int fd = openat(AT_FDCWD, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && must)
		fail("container \"%s\" does not exist", id);
	return fd;
}

static const char *load(const char *id, int *dfd, struct oci_state *st)
{
	struct err e = { 0 };
	*dfd = id_dir(id, 1);
	if (oci_state_load(*dfd, st, &e))
		fail("container \"%s\" does not exist: %s", id, e.msg);
	return oci_status(*dfd, st);
}

/* the bundle's hooks (start and delete read them again from config.json) */
static struct json *bundle_doc(const char *bundle)
{
	struct buf b = { 0 };
	struct json *j = NULL;
	char p[4096];
	snprintf(p, sizeof(p), "%s/config.json", bundle ? bundle : ".");
	if (!read_file_at(AT_FDCWD, p, JSON_MAX_SIZE, &b))
		json_parse(b.p, b.len, &j, NULL);
	buf_free(&b);
	return j;
}

static void run_hooks(const struct oci_state *st, const char *status, const char *kind, int fatal)
{
	struct json *doc = bundle_doc(st->bundle);
	struct buf b = { 0 };
	struct err e = { 0 };
	oci_state_json(st, status, &b);
	if (oci_hooks(json_get(doc, "hooks"), kind, b.p, &e) && fatal)
		fail_err(&e);
	buf_free(&b);
	json_free(doc);
}

/* pid files are read by the shim as soon as we exit: written whole (temp file, rename). The
 * directory is opened first: exec writes it after joining the container's mount namespace. */
static int pid_dir(const char *path, const char **base)
{
	char d[4096];
	const char *sl = path ? strrchr(path, '/') : NULL;
	*base = sl ? sl + 1 : path;
	snprintf(d, sizeof(d), "%.*s", sl ? (int)(sl - path) + 1 : 1, sl ? path : ".");
	int fd = path ? openat(AT_FDCWD, d, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (path && fd < 0)
		fail("pid file %s: %s", path, strerror(errno));
	return fd;
}

static void pid_file(int dfd, const char *base, pid_t pid)
{
	char tmp[300], v[16];
	if (dfd < 0)
		return;
	snprintf(tmp, sizeof(tmp), ".%.200s.%d", base, (int)getpid());
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, v, snprintf(v, sizeof(v), "%d", (int)pid)) || close(fd) ||
	    renameat(dfd, tmp, dfd, base))
		fail("pid file %s: %s", base, strerror(errno));
	close(dfd);
}

static int console_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (!path)
		return -1;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (strlen(path) >= sizeof(a.sun_path))
		fail("console socket %s: path too long", path);
	strcpy(a.sun_path, path);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		fail("console socket %s: %s", path, strerror(errno));
	return s;
}

/* the pty master to whoever listens on the console socket (SCM_RIGHTS) */
static void console_send(int sock, int master)
{
	if (sock < 0 || master < 0)
		return;
	int r = fd_send(sock, "/dev/ptmx", 9, master);
	if (r)
		fail("send the pty master: %s", strerror(-r));
	close(master);
	close(sock);
}

/* ---- commands ---- */

struct opts {
	const char *bundle, *pid_file, *console, *process, *format, *resources;
	int detach, force, all, tty, quiet;
};

/* Long options (any prefix "-" or "--", "--k=v" too) before the positional arguments. */
static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "bundle", required_argument, 0, 'b' }, { "pid-file", required_argument, 0, 'P' },
		{ "console-socket", required_argument, 0, 'C' }, { "process", required_argument, 0, 'p' },
		{ "format", required_argument, 0, 'f' }, { "resources", required_argument, 0, 'r' },
		{ "detach", no_argument, 0, 'd' }, { "force", no_argument, 0, 'F' }, { "all", no_argument, 0, 'a' },
		{ "tty", no_argument, 0, 't' }, { "quiet", no_argument, 0, 'q' },
		{ "no-pivot", no_argument, 0, 'N' }, { "no-new-keyring", no_argument, 0, 'N' },
		{ "preserve-fds", required_argument, 0, 'S' }, { 0, 0, 0, 0 },
	};
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long_only(argc, argv, "+b:f:p:dFatq", lo, NULL)) != -1) {
		switch (ch) {
		case 'b': o->bundle = optarg; break;
		case 'P': o->pid_file = optarg; break;
		case 'C': o->console = optarg; break;
		case 'p': o->process = optarg; break;
		case 'f': o->format = optarg; break;
		case 'r': o->resources = optarg; break;
		case 'd': o->detach = 1; break;
		case 'F': o->force = 1; break;
		case 'a': o->all = 1; break;
		case 't': o->tty = 1; break;
		case 'q': o->quiet = 1; break;
		case 'N': break;
		case 'S':
			if (strcmp(optarg, "0"))
				fail("--preserve-fds is not supported");
			break;
		default: fail("%s: unknown or incomplete flag \"%s\"", argv[0], argv[optind - 1]);
		}
	}
	return optind;
}

static const char *need_id(int argc, char **argv, int i)
{
	if (i >= argc)
		fail("%s: a container id is required", argv[0]);
	return argv[i];
}

static void tty_check(int terminal, const struct opts *o)
{
	if (terminal ? !o->console && o->detach : !!o->console)
		fail(terminal ? "a detached terminal needs --console-socket" : "--console-socket without a terminal");
}

/* create (and run's first half): returns the init's pid; *master kept when no console socket */
static pid_t do_create(const char *id, struct opts *o, int *master)
{
	struct oci_spec s;
	struct err e = { 0 };
	char dir[4096];
	if (!name_valid(id))
		fail("invalid container id \"%s\"", id);
	if (oci_load(o->bundle ? o->bundle : ".", id, &s, &e))
		fail_err(&e);
	tty_check(s.p.terminal, o);
	const char *pbase;
	int cs = console_connect(o->console), pdir = pid_dir(o->pid_file, &pbase);
	snprintf(dir, sizeof(dir), "%s/%s", root, id);
	if (mkdir_p(root, 0711) || mkdir(dir, 0711))
		fail("create container %s: %s", id, errno == EEXIST ? "a container with this id exists" : strerror(errno));
	int dfd = id_dir(id, 1);
	pid_t pid = oci_create(dfd, id, &s, master, &e);
	if (pid < 0) {
		rm_rf(dir);
		fail_err(&e);
	}
	console_send(cs, *master);
	if (cs >= 0)
		*master = -1;
	pid_file(pdir, pbase, pid);
	close(dfd);
	oci_free(&s);
	return pid;
}

/* start: open the fifo's read end (the init's blocked open completes) and take its byte */
static void do_start(const char *id)
{
	struct oci_state st;
	int dfd;
	const char *status = load(id, &dfd, &st);
	if (strcmp(status, "created"))
		fail("cannot start a container that is %s", status);
	int fd = openat(dfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char c = 0;
	for (int i = 0; fd >= 0 && read(fd, &c, 1) != 1; i++) {
		if (strcmp(oci_status(dfd, &st), "created"))
			fail("the init exited before start");
		poll(&(struct pollfd){ fd, POLLIN, 0 }, 1, 20);
	}
	if (fd < 0)
		fail("open the exec fifo: %s", strerror(errno));
	close(fd);
	unlinkat(dfd, "exec.fifo", 0);
	run_hooks(&st, "running", "poststart", 0);
}

static int sig_num(const char *s)
{
	static const char names[] = "HUP\0INT\0QUIT\0ILL\0TRAP\0ABRT\0BUS\0FPE\0KILL\0USR1\0SEGV\0USR2\0PIPE\0"
				    "ALRM\0TERM\0STKFLT\0CHLD\0CONT\0STOP\0TSTP\0TTIN\0TTOU\0URG\0XCPU\0XFSZ\0"
				    "VTALRM\0PROF\0WINCH\0IO\0PWR\0SYS\0";
	long long n;
	int i = 1;
	if (!s)
		return SIGTERM;
	if (!parse_ll(s, 1, 64, &n))
		return n;
	const char *a = s + (strncasecmp(s, "SIG", 3) ? 0 : 3);
	for (const char *p = names; *p; p += strlen(p) + 1, i++)
		if (!strcasecmp(a, p))
			return i;
	fail("unknown signal \"%s\"", s);
}

/* the pids of the container's cgroup (its memory or pids hierarchy) */
static int cg_pids(const char *id, pid_t **out)
{
	const struct cg_layout *L;
	struct buf b = { 0 };
	char p[CG_PATH + 300];
	int n = 0;
	*out = NULL;
	if (cg_layout(&L, NULL) || L->mode == CG_NONE)
		return 0;
	snprintf(p, sizeof(p), "%s/%s/cgroup.procs",
		 L->mode == CG_V2 ? L->v2 : L->v1[CG_PIDS][0] ? L->v1[CG_PIDS] : L->v1[CG_MEMORY], id);
	read_file_at(AT_FDCWD, p, 1 << 20, &b);
	for (char *s = b.p; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : "") {
		*out = xrealloc(*out, (n + 1) * sizeof(pid_t));
		(*out)[n++] = atoi(s);
	}
	buf_free(&b);
	return n;
}

static void do_kill(const char *id, const char *sig, int all)
{
	struct oci_state st;
	int dfd, s = sig_num(sig);
	const char *status = load(id, &dfd, &st);
	pid_t *pids;
	struct container c = { .pid = st.pid, .pid_start = st.start };
	if ((!strcmp(status, "stopped") || ctr_kill(&c, s)) && !all)
		fail("container not running");
	for (int i = 0, n = all ? cg_pids(st.cg, &pids) : 0; i < n; i++)
		kill(pids[i], s);
}

static void do_freeze(const char *id, int on);

static void do_delete(const char *id, int force)
{
	struct oci_state st;
	struct err e;
	char dir[4096];
	int dfd = id_dir(id, 1);
	snprintf(dir, sizeof(dir), "%s/%s", root, id);
	/* no record: a create killed half-way; nothing runs, the directory goes */
	if (oci_state_load(dfd, &st, &e)) {
		rm_rf(dir);
		return;
	}
	const char *status = oci_status(dfd, &st);
	if (strcmp(status, "stopped") && strcmp(status, "created") && !force)
		fail("cannot delete container %s that is not stopped: %s", id, status);
	if (strcmp(status, "stopped")) {
		struct container c = { .pid = st.pid, .pid_start = st.start };
		do_kill(id, "KILL", 1);
		if (!strcmp(status, "paused"))	/* frozen tasks die once thawed */
			do_freeze(id, 0);
		ctr_wait_down(&c, 10000);
	}
	run_hooks(&st, "stopped", "poststop", 0);
	cg_remove(oci_cg(st.cg), &e);
	rm_rf(dir);
}

static int do_state(const char *id)
{
	struct oci_state st;
	struct buf b = { 0 };
	int dfd;
	const char *status = load(id, &dfd, &st);
	oci_state_json(&st, status, &b);
	puts(b.p);
	return 0;
}

/* exec: the process from --process, or the container's own with the arguments given */
static int do_exec(int argc, char **argv, int i, struct opts *o)
{
	struct oci_state st;
	struct oci_proc p;
	struct err e = { 0 };
	struct buf b = { 0 };
	struct json *doc = NULL, *bdoc = NULL;
	int dfd, master = -1, r;
	const char *id = need_id(argc, argv, i);
	const char *status = load(id, &dfd, &st);
	if (strcmp(status, "running"))
		fail("cannot exec in a container that is %s", status);
	if (o->process) {
		if ((r = read_file_at(AT_FDCWD, o->process, JSON_MAX_SIZE, &b)) ||
		    json_parse(b.p, b.len, &doc, &e))
			fail("process %s: %s", o->process, r ? strerror(-r) : e.msg);
		r = oci_proc(doc, &p, &e);
	} else {
		bdoc = bundle_doc(st.bundle);
		r = oci_proc(json_get(bdoc, "process"), &p, &e);
		if (!r && i + 1 >= argc)
			fail("exec: a command is required");
		if (!r)
			p.args = argv + i + 1, p.terminal = o->tty;
	}
	if (r)
		fail_err(&e);
	tty_check(p.terminal, o);
	const char *pbase;
	int cs = console_connect(o->console), sigfd = -1, pdir = pid_dir(o->pid_file, &pbase);
	sigset_t old;
	if (!o->detach)
		sigfd = sig_forward_fd(&old);
	pid_t pid = oci_exec(st.pid, oci_cg(st.cg), &p, &master, &e);
	if (pid < 0)
		fail_err(&e);
	console_send(cs, master);
	pid_file(pdir, pbase, pid);
	if (o->detach)
		return 0;
	if (cs < 0 && master >= 0)
		pty_raw(0);
	r = attach_wait(pid, cs < 0 ? master : -1, cs < 0 && master >= 0 ? 0 : -1, sigfd);
	pty_restore();
	return r;
}

static int do_run(const char *id, struct opts *o)
{
	int master = -1;
	sigset_t old;
	int sigfd = o->detach ? -1 : sig_forward_fd(&old);
	pid_t pid = do_create(id, o, &master);
	do_start(id);
	if (o->detach)
		return 0;
	if (master >= 0)
		pty_raw(0);
	int code = attach_wait(pid, master, master >= 0 ? 0 : -1, sigfd);
	pty_restore();
	do_delete(id, 1);
	return code;
}

static int do_ps(const char *id, const char *fmt)
{
	struct oci_state st;
	pid_t *pids;
	int dfd, n;
	load(id, &dfd, &st);
	n = cg_pids(st.cg, &pids);
	if (fmt && !strcmp(fmt, "json")) {
		printf("[");
		for (int i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
		return 0;
	}
	for (int i = 0; i < n; i++)
		printf("%d\n", (int)pids[i]);
	return 0;
}

static int do_list(const struct opts *o)
{
	DIR *d = opendir(root);
	struct dirent *de;
	int json = o->format && !strcmp(o->format, "json"), n = 0;
	if (json)
		printf("[");
	while (d && (de = readdir(d))) {
		struct oci_state st;
		struct buf b = { 0 };
		int dfd = de->d_name[0] == '.' ? -1 : id_dir(de->d_name, 0);
		if (dfd < 0 || oci_state_load(dfd, &st, NULL))
			continue;
		const char *status = oci_status(dfd, &st);
		oci_state_json(&st, status, &b);
		if (json)
			printf("%s%s", n++ ? "," : "", b.p);
		else
			printf(o->quiet ? "%s\n" : "%s\t%s\t%s\n", st.id, status, st.bundle);
		buf_free(&b);
		json_free(st.doc);
		close(dfd);
	}
	if (json)
		printf("]\n");
	return 0;
}

static void do_freeze(const char *id, int on)
{
	const struct cg_layout *L;
	struct oci_state st;
	char p[CG_PATH + 300];
	int dfd;
	const char *status = load(id, &dfd, &st);
	if (strcmp(status, on ? "running" : "paused"))
		fail("container %s is %s", id, status);
	if (cg_layout(&L, NULL) || (L->mode == CG_V1 && !L->v1[CG_FREEZER][0]) || L->mode == CG_NONE)
		fail("the freezer cgroup is not available on this host");
	snprintf(p, sizeof(p), "%s/%s/%s", L->mode == CG_V2 ? L->v2 : L->v1[CG_FREEZER], st.cg,
		 L->mode == CG_V2 ? "cgroup.freeze" : "freezer.state");
	int fd = openat(AT_FDCWD, p, O_WRONLY | O_CLOEXEC);
	const char *v = L->mode == CG_V2 ? (on ? "1" : "0") : on ? "FROZEN" : "THAWED";
	if (fd < 0 || write_all(fd, v, strlen(v)))
		fail("%s: %s", p, strerror(errno));
	close(fd);
}

static void do_update(const char *id, const char *file)
{
	struct oci_state st;
	struct cg_limits l = { 0 };
	struct json *j = NULL;
	struct buf b = { 0 };
	struct err e = { 0 };
	int dfd, r;
	load(id, &dfd, &st);
	if (!file)
		fail("update: --resources FILE is required");
	if ((r = read_file_at(AT_FDCWD, file, JSON_MAX_SIZE, &b)) || json_parse(b.p, b.len, &j, &e))
		fail("resources %s: %s", file, r ? strerror(-r) : e.msg);
	if (oci_resources(j, &l, &e) || cg_create(oci_cg(st.cg), &l, &e))
		fail_err(&e);
}

static const char default_spec[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"sh\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
	"\"TERM=xterm\"],\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\","
	"\"CAP_NET_BIND_SERVICE\"],\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
	"\"noNewPrivileges\":true},\"root\":{\"path\":"
	"\"rootfs\",\"readonly\":true},\"hostname\":\"mydocker\",\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","
	"\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\","
	"\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\","
	"\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\","
	"\"noexec\",\"nodev\",\"ro\"]}],"
	"\"linux\":{\"namespaces\":["
	"{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}],"
	"\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\","
	"\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
	"\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

static int do_spec(const struct opts *o)
{
	struct json *j;
	struct buf b = { 0 };
	struct jw w;
	char p[4096];
	snprintf(p, sizeof(p), "%s/config.json", o->bundle ? o->bundle : ".");
	if (!access(p, F_OK))
		fail("%s exists already", p);
	json_parse(default_spec, sizeof(default_spec) - 1, &j, NULL);
	jw_init(&w, &b, 1);
	jw_node(&w, j);
	buf_puts(&b, "\n");
	int fd = openat(AT_FDCWD, p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, b.p, b.len) || close(fd))
		fail("write %s: %s", p, strerror(errno));
	return 0;
}

static int do_features(void)
{
	printf("{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\",\"hooks\":[\"prestart\","
	       "\"createRuntime\",\"poststart\",\"poststop\"],\"mountOptions\":[");
	for (const char *n = oci_mopt_names; *n; n += strlen(n) + 1)
		printf("%s\"%s\"", n == oci_mopt_names ? "" : ",", n);
	puts("],\"linux\":{\"namespaces\":[\"cgroup\",\"ipc\",\"mount\",\"network\",\"pid\",\"user\",\"uts\"],"
	     "\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false},\"seccomp\":{\"enabled\":false}}}");
	return 0;
}

/* global options, up to the command ("--k v", "--k=v", one dash too) */
static int globals(int argc, char **argv)
{
	static const char *const takes[] = { "root", "log", "log-format", "criu", "rootless" };
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		char *a = argv[i] + (argv[i][1] == '-' ? 2 : 1), *v = strchr(a, '=');
		size_t t = 0;
		if (v)
			*v++ = 0;
		while (t < ARRAY_SIZE(takes) && strcmp(a, takes[t]))
			t++;
		if (!strcmp(a, "help") || !strcmp(a, "h"))
			usage(0);
		if (!strcmp(a, "systemd-cgroup"))
			fail("--systemd-cgroup is not supported: use the cgroupfs driver");
		if (!strcmp(a, "version") || !strcmp(a, "v"))
			return puts("mydocker-runc version " MYDOCKER_VERSION "\nspec: 1.0.2"), exit(0), 0;
		if (t < ARRAY_SIZE(takes) && !v && i + 1 >= argc)
			fail("--%s needs a value", a);
		if (t < ARRAY_SIZE(takes) && !v)
			v = argv[++i];
		if (t == 0)
			root = v;
		else if (t == 1 && (logfd = openat(AT_FDCWD, v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
			fail("log %s: %s", v, strerror(errno));
		else if (t == 2)
			log_json = !strcmp(v, "json");
	}
	return i;
}

int runc_main(int argc, char **argv)
{
	struct opts o = { 0 };
	int g = globals(argc, argv);
	if (g >= argc)
		usage(2);
	const char *cmd = argv[g];
	argc -= g;
	argv += g;
	int i = parse(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "create")) {
		int master = -1;
		o.detach = 1;
		do_create(need_id(argc, argv, i), &o, &master);
	} else if (!strcmp(cmd, "start")) {
		do_start(need_id(argc, argv, i));
	} else if (!strcmp(cmd, "run")) {
		return do_run(need_id(argc, argv, i), &o);
	} else if (!strcmp(cmd, "state")) {
		return do_state(need_id(argc, argv, i));
	} else if (!strcmp(cmd, "kill")) {
		do_kill(need_id(argc, argv, i), i + 1 < argc ? argv[i + 1] : NULL, o.all);
	} else if (!strcmp(cmd, "delete")) {
		do_delete(need_id(argc, argv, i), o.force);
	} else if (!strcmp(cmd, "exec")) {
		return do_exec(argc, argv, i, &o);
	} else if (!strcmp(cmd, "ps")) {
		return do_ps(need_id(argc, argv, i), o.format);
	} else if (!strcmp(cmd, "list")) {
		return do_list(&o);
	} else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
		do_freeze(need_id(argc, argv, i), cmd[0] == 'p');
	} else if (!strcmp(cmd, "update")) {
		do_update(need_id(argc, argv, i), o.resources);
	} else if (!strcmp(cmd, "spec")) {
		return do_spec(&o);
	} else if (!strcmp(cmd, "features")) {
		return do_features();
	} else {
		fail("unknown command \"%s\"", cmd);
	}
	return 0;
}
