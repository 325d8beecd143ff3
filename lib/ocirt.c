/* ocirt: the OCI lifecycle on the runtime's own creation code: create (the init, set up by
 * mnt_rootfs and proc_start, waits on the exec fifo), exec into a running container, hooks and the
 * state record ROOT/<id>/state.json. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include "oci.h"
#include "pty.h"
#include "runtime_int.h"
#include "secure.h"

/* ---- the state record ---- */

int oci_state_load(int dfd, struct oci_state *st, struct err *e)
{
	struct buf b = { 0 };
	memset(st, 0, sizeof(*st));
	int r = read_file_at(dfd, "state.json", 1 << 20, &b);
	if (r)
		return err_set(e, -r, "state.json");
	r = json_parse(b.p, b.len, &st->doc, e);
	buf_free(&b);
	if (r)
		return err_wrap(e, "state.json");
	snprintf(st->id, sizeof(st->id), "%s", json_get_str(st->doc, "id") ? json_get_str(st->doc, "id") : "");
	st->pid = json_get_int(st->doc, "pid", 0);
	st->cg = json_get_str(st->doc, "cgroup") ? json_get_str(st->doc, "cgroup") : "";
	st->start = json_get_int(st->doc, "start", 0);
	st->created = json_get_int(st->doc, "created", 0);
	st->bundle = (char *)json_get_str(st->doc, "bundle");
	return 0;
}

static int alive(pid_t pid, uint64_t start)
{
	struct container c = { .pid = pid, .pid_start = start };
	return ctr_alive(&c);
}

const char *oci_status(int dfd, const struct oci_state *st)
{
	char f[CG_PATH + 300], v[16] = "";
	const struct cg_layout *L;
	if (!alive(st->pid, st->start))
		return "stopped";
	if (!faccessat(dfd, "exec.fifo", F_OK, 0))
		return "created";
	if (!cg_layout(&L, NULL) && L->mode != CG_NONE) {
		snprintf(f, sizeof(f), "%s/%s/%s", L->mode == CG_V2 ? L->v2 : L->v1[CG_FREEZER], st->cg,
			 L->mode == CG_V2 ? "cgroup.freeze" : "freezer.state");
		int fd = openat(AT_FDCWD, f, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && read(fd, v, sizeof(v) - 1) > 0 && (v[0] == '1' || !strncmp(v, "FROZEN", 6)))
			v[0] = 'p';
		if (fd >= 0)
			close(fd);
	}
	return v[0] == 'p' ? "paused" : "running";
}

void oci_state_json(const struct oci_state *st, const char *status, struct buf *out)
{
	struct jw w;
	const struct json *a = json_get(st->doc, "annotations");
	jw_init(&w, out, 0);
	jw_obj(&w);
	jw_kstr(&w, "ociVersion", "1.0.2");
	jw_kstr(&w, "id", st->id);
	jw_kstr(&w, "status", status);
	jw_kint(&w, "pid", strcmp(status, "stopped") ? st->pid : 0);
	jw_kstr(&w, "bundle", st->bundle);
	if (a && a->n) {
		jw_key(&w, "annotations");
		jw_node(&w, a);
	}
	jw_end_obj(&w);
}

/* the record as first written by create (annotations copied from the spec) */
static int state_write(int dfd, const char *id, pid_t pid, const struct oci_spec *s, struct oci_state *st,
		       struct err *e)
{
	struct buf b = { 0 };
	struct jw w;
	const struct json *a = json_get(s->doc, "annotations");
	jw_init(&w, &b, 0);
	jw_obj(&w);
	jw_kstr(&w, "id", id);
	jw_kstr(&w, "cgroup", s->cgpath);
	jw_kint(&w, "pid", pid);
	jw_kint(&w, "start", proc_start_time(pid));
	jw_kint(&w, "created", now_ns());
	jw_kstr(&w, "bundle", s->bundle);
	if (a) {
		jw_key(&w, "annotations");
		jw_node(&w, a);
	}
	jw_end_obj(&w);
	int r = jw_done(&w) ? err_set(e, ENOMEM, "state") : state_write_atomic(dfd, "state.json", b.p, b.len, e);
	if (!r)
		r = oci_state_load(dfd, st, e);
	buf_free(&b);
	return r;
}

/* ---- hooks ---- */

static int hook_run(const struct json *h, const char *state, struct err *e)
{
	const char *path = json_get_str(h, "path");
	char **args = json_strv(json_get(h, "args")), **env = json_strv(json_get(h, "env"));
	char *def[2] = { (char *)path, NULL }, *none = NULL;
	int64_t ms = json_get_int(h, "timeout", 0) * 1000;
	int pfd[2], st = 0;
	if (!path || pipe2(pfd, O_CLOEXEC))
		return err_set(e, path ? errno : EINVAL, "hook %s", path ? path : "without a path");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[0], 0);
		execve(path, args ? args : def, env ? env : &none);
		_exit(127);
	}
	close(pfd[0]);
	if (pid > 0)
		write_all(pfd[1], state, strlen(state));
	close(pfd[1]);
	for (int64_t t = 0; pid > 0 && waitpid(pid, &st, WNOHANG) == 0; t += 10) {
		if (ms && t >= ms)
			kill(pid, SIGKILL);
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	strv_free(args);
	strv_free(env);
	if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return err_set(e, pid < 0 ? errno : 0, "hook %s failed (exit status %d)", path,
			       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

int oci_hooks(const struct json *hooks, const char *kind, const char *state, struct err *e)
{
	const struct json *a = json_get(hooks, kind);
	for (const struct json *h = a ? a->child : NULL; h; h = h->next)
		if (hook_run(h, state, e))
			return err_wrap(e, "%s", kind);
	return 0;
}

/* ---- the container's init ---- */

static const char *ns_file(int flag)
{
	switch (flag) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWNET: return "net";
	case CLONE_NEWPID: return "pid";
	default: return "mnt";
	}
}

/* linux.devices: the nodes asked for, after the root is set (it is "/" now) */
static int devices(const struct json *d, struct err *e)
{
	for (const struct json *j = d ? d->child : NULL; j; j = j->next) {
		const char *p = json_get_str(j, "path"), *t = json_get_str(j, "type");
		mode_t m = (json_get_int(j, "fileMode", 0666) & 07777) |
			   (!t ? 0 : *t == 'b' ? S_IFBLK : *t == 'p' ? S_IFIFO : S_IFCHR);
		char dir[4096];
		if (!p || !t || p[0] != '/' || strstr(p, ".."))
			return err_set(e, EINVAL, "config.json: linux.devices: bad entry");
		snprintf(dir, sizeof(dir), "%s", p);
		*strrchr(dir, '/') = 0;
		unlink(p);
		if ((dir[0] && mkdir_p(dir, 0755)) ||
		    mknod(p, m, makedev(json_get_int(j, "major", 0), json_get_int(j, "minor", 0))) ||
		    chown(p, json_get_int(j, "uid", 0), json_get_int(j, "gid", 0)))
			return err_set(e, errno, "create device %s", p);
	}
	return 0;
}

/* sysctl (validated against runc's allowlist when parsed), masked and read-only paths */
static int proc_paths(const struct oci_spec *s, struct err *e)
{
	for (const struct json *j = s->sysctl ? s->sysctl->child : NULL; j; j = j->next) {
		char p[512];
		snprintf(p, sizeof(p), "/proc/sys/%s", j->key);
		for (char *c = p + 10; *c; c++)
			*c = *c == '.' ? '/' : *c;
		int fd = openat(AT_FDCWD, p, O_WRONLY | O_CLOEXEC), r = fd < 0 ? -errno : write_all(fd, j->s, j->len);
		if (fd >= 0)
			close(fd);
		if (r)
			return err_set(e, -r, "sysctl %s", j->key);
	}
	int r = 0;
	for (const struct json *j = s->masked ? s->masked->child : NULL; j && !r; j = j->next)
		r = j->type == JSON_STRING ? sec_mask(j->s, e) : 0;
	for (const struct json *j = s->ropaths ? s->ropaths->child : NULL; j && !r; j = j->next)
		r = j->type == JSON_STRING ? sec_ro(j->s, e) : 0;
	return r;
}

static int proc_limits(const struct oci_proc *p, struct err *e)
{
	for (int i = 0; i < p->nrlim; i++)
		if (setrlimit(p->rlim[i].res, &(struct rlimit){ p->rlim[i].soft, p->rlim[i].hard }))
			return err_set(e, errno, "setrlimit RLIMIT_%d", p->rlim[i].res);
	if (p->has_oom) {
		char v[16];
		int fd = openat(AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		int r = fd < 0 ? -errno : write_all(fd, v, snprintf(v, sizeof(v), "%d", p->oom));
		if (fd >= 0)
			close(fd);
		if (r)
			return err_set(e, -r, "oomScoreAdj");
	}
	return 0;
}

static char *drop_all[] = { "ALL", NULL };

/* Become the process p (proc_start): user "UID:GID" with its extra groups, the permitted caps. */
static void oci_become(struct oci_proc *op, int sock, int rootfd, int waitfd, int *cgfds, int ncg)
{
	char user[32];
	struct container sec = { .cap_add = op->caps, .cap_drop = drop_all, .no_new_privs = op->nnp,
				 .seccomp_unconfined = 1 /* seccomp in config.json is refused */ };
	snprintf(user, sizeof(user), "%u:%u", (unsigned)op->uid, (unsigned)op->gid);
	struct proc p = { .argv = op->args, .env = op->env ? op->env : drop_all + 1, .cwd = op->cwd,
			  .user = user, .tty = op->terminal, .console = op->terminal && rootfd < 0, .mkcwd = 1,
			  .stdio = { 0, 1, 2 }, .sock = sock, .rootfd = rootfd, .initfd = -1, .sec = &sec,
			  .cgfds = cgfds, .ncg = ncg, .groups = op->gids, .ngroups = op->ngids, .waitfd = waitfd,
			  .ws = { .ws_row = op->rows, .ws_col = op->cols } };
	proc_start(&p);
}

/* The container side, from clone() to the exec fifo: one step per line. */
static void oci_child(struct oci_spec *s, int sock, int fifo)
{
	struct err e = { 0 };
	char go;
	/* until execve we are the host's binary: not to be opened through /proc/PID/exe */
	sec_nodump();
	/* wait until the parent has written the id maps, joined us to the cgroup and run its hooks */
	if (read(sock, &go, 1) != 1)
		_exit(125);
	/* a user namespace of its own: become its root (mapped by now) */
	if ((s->clone & CLONE_NEWUSER) && (setresgid(0, 0, 0) || setresuid(0, 0, 0)))
		err_set(&e, errno, "become root in the user namespace"), ctl_fail(sock, 125, &e);
	/* a cgroup namespace rooted at the container's own cgroup (the parent has moved us there) */
	if ((s->clone & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP))
		err_set(&e, errno, "cgroup namespace"), ctl_fail(sock, 125, &e);
	/* device nodes and mount points get exactly the modes asked for */
	umask(0);
	/* the bundle's root and the spec's mounts, then pivot_root into it (rootfs.c, as run does) */
	struct mnt_spec m = { .root = s->root, .mounts = s->mounts, .nmounts = s->nmounts,
			      .read_only = s->root_ro, .console = s->p.terminal, .cwd = s->p.cwd };
	if (mnt_rootfs(&m, &e))
		ctl_fail(sock, 125, &e);
	if ((s->hostname && *s->hostname && sethostname(s->hostname, strlen(s->hostname))) ||
	    (s->domainname && *s->domainname && setdomainname(s->domainname, strlen(s->domainname))))
		err_set(&e, errno, "set the host or domain name"), ctl_fail(sock, 125, &e);
	/* a network namespace of its own has loopback up, as with runc and crun */
	if ((s->clone & CLONE_NEWNET) && lo_up(&e))
		ctl_fail(sock, 125, &e);
	if (devices(s->devices, &e) || proc_paths(s, &e) || proc_limits(&s->p, &e))
		ctl_fail(sock, 125, &e);
	oci_become(&s->p, sock, -1, fifo, NULL, 0);
}

/* /proc/PID/{uid,gid}_map from the spec's mappings */
static int id_maps(pid_t pid, const struct oci_spec *s, struct err *e)
{
	for (int i = 0; i < 2; i++) {
		struct buf b = { 0 };
		char p[64];
		const struct json *m = i ? s->gidmap : s->uidmap;
		for (const struct json *j = m->child; j; j = j->next)
			buf_printf(&b, "%lld %lld %lld\n", (long long)json_get_int(j, "containerID", 0),
				   (long long)json_get_int(j, "hostID", 0), (long long)json_get_int(j, "size", 0));
		snprintf(p, sizeof(p), "/proc/%d/%s_map", (int)pid, i ? "gid" : "uid");
		int fd = openat(AT_FDCWD, p, O_WRONLY | O_CLOEXEC);
		int r = fd < 0 ? -errno : b.p ? write_all(fd, b.p, b.len) : -EINVAL;
		if (fd >= 0)
			close(fd);
		buf_free(&b);
		if (r)
			return err_set(e, -r, "write %s", p);
	}
	return 0;
}

/* The host id of the container's root in the mappings (the exec fifo must be its to open). */
static unsigned root_host_id(const struct json *m)
{
	for (const struct json *j = m ? m->child : NULL; j; j = j->next)
		if (json_get_int(j, "containerID", 1) == 0)
			return json_get_int(j, "hostID", 0);
	return 0;
}

/* setns into the namespaces given by path for the clone (saving ours in self[] to come back) */
static int ns_enter(const struct oci_spec *s, int self[], int back, struct err *e)
{
	for (int i = 0; i < s->njoin; i++) {
		char p[64];
		const char *path = s->join[i].path;
		int fd;
		snprintf(p, sizeof(p), "/proc/self/ns/%s", ns_file(s->join[i].type));
		if (back) {
			if (self[i] >= 0 && setns(self[i], 0))
				return err_set(e, errno, "return to our %s namespace", ns_file(s->join[i].type));
			continue;
		}
		if (s->join[i].type == CLONE_NEWUSER)
			return err_set(e, EOPNOTSUPP, "joining an existing user namespace (%s)", path);
		if ((self[i] = openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC)) < 0 ||
		    (fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC)) < 0)
			return err_set(e, errno, "open %s", self[i] < 0 ? p : path);
		int r = setns(fd, s->join[i].type);
		close(fd);
		if (r)
			return err_set(e, errno, "join the %s namespace %s", ns_file(s->join[i].type), path);
	}
	return 0;
}

/* cgroup v1: the spec's device rules for single devices (or classes), after the default
 * allowlist that cg_create wrote; v2 keeps the default filter program */
static int dev_rules(const struct oci_spec *s, struct err *e)
{
	const struct cg_layout *L;
	char f[CG_PATH + 300];
	if (cg_layout(&L, e) || L->mode != CG_V1 || !L->v1[CG_DEVICES][0] || s->cg.all_devices)
		return 0;
	for (const struct json *d = s->devrules ? s->devrules->child : NULL; d; d = d->next) {
		const char *t = json_get_str(d, "type"), *acc = json_get_str(d, "access");
		const struct json *ma = json_get(d, "major"), *mi = json_get(d, "minor");
		char rule[64], n1[24] = "*", n2[24] = "*";
		if ((!t || !strcmp(t, "a")) && !ma && !mi)
			continue;	/* the "everything" rules: cg_create's deny-all is in place */
		if (ma && ma->i >= 0)
			snprintf(n1, sizeof(n1), "%lld", (long long)ma->i);
		if (mi && mi->i >= 0)
			snprintf(n2, sizeof(n2), "%lld", (long long)mi->i);
		snprintf(rule, sizeof(rule), "%s %s:%s %s", t ? t : "a", n1, n2, acc ? acc : "rwm");
		snprintf(f, sizeof(f), "%s/%s/devices.%s", L->v1[CG_DEVICES], s->cgpath,
			 json_get_bool(d, "allow", 0) ? "allow" : "deny");
		int fd = openat(AT_FDCWD, f, O_WRONLY | O_CLOEXEC), r = fd < 0 ? -errno : write_all(fd, rule, strlen(rule));
		if (fd >= 0)
			close(fd);
		if (r)
			return err_set(e, -r, "device rule \"%s\"", rule);
	}
	return 0;
}

pid_t oci_create(int dfd, const char *id, struct oci_spec *s, int *master, struct err *e)
{
	int fifo = -1, sv[2] = { -1, -1 }, self[OCI_NNS], code, r;
	unsigned ru = root_host_id(s->uidmap), rg = root_host_id(s->gidmap);
	struct oci_state st = { 0 };
	struct buf sj = { 0 };
	pid_t pid = -1;
	memset(self, -1, sizeof(self));
	*master = -1;
	/* the fifo the init blocks on; created by us, handed over as an O_PATH fd */
	if (mkfifoat(dfd, "exec.fifo", 0600) || fchownat(dfd, "exec.fifo", ru, rg, 0) ||
	    (fifo = openat(dfd, "exec.fifo", O_PATH | O_CLOEXEC)) < 0)
		return err_set(e, errno, "exec fifo");
	/* the cgroup first: its limits hold before the container runs anything */
	r = cg_create(oci_cg(s->cgpath), &s->cg, e);
	if (!r)
		r = dev_rules(s, e);
	if (!r && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		r = err_set(e, errno, "socketpair");
	if (!r)
		r = ns_enter(s, self, 0, e);
	if (!r) {
		/* the cgroup namespace comes later, once the child is in its cgroup */
		pid = syscall(SYS_clone, (s->clone & ~CLONE_NEWCGROUP) | SIGCHLD, NULL, NULL, NULL, NULL);
		if (pid == 0) {
			close(sv[0]);
			oci_child(s, sv[1], fifo);
		}
		r = pid < 0 ? err_set(e, errno, "clone") : 0;
	}
	int back = ns_enter(s, self, 1, e);
	r = r ? r : back;
	for (int i = 0; i < OCI_NNS; i++)
		if (self[i] >= 0)
			close(self[i]);
	close(sv[1]);
	close(fifo);
	/* id maps, cgroup, record and hooks while it waits; then release it and wait until it is set up */
	if (!r && (s->clone & CLONE_NEWUSER))
		r = id_maps(pid, s, e);
	if (!r)
		r = cg_enter(oci_cg(s->cgpath), pid, e);
	if (!r)
		r = state_write(dfd, id, pid, s, &st, e);
	if (!r)
		oci_state_json(&st, "created", &sj);
	if (!r)
		r = oci_hooks(s->hooks, "prestart", sj.p, e);
	if (!r)
		r = oci_hooks(s->hooks, "createRuntime", sj.p, e);
	if (!r && write(sv[0], "g", 1) != 1)
		r = err_set(e, errno, "release the container");
	if (!r)
		r = proc_await(sv[0], master, &code, e);
	buf_free(&sj);
	json_free(st.doc);
	if (sv[0] >= 0)
		close(sv[0]);
	if (!r)
		return pid;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (*master >= 0)
		close(*master);
	cg_remove(oci_cg(s->cgpath), NULL);
	return r;
}

/* ---- exec ---- */

pid_t oci_exec(pid_t pid, const char *id, struct oci_proc *op, int *master, struct err *e)
{
	static const char *const ns[] = { "user", "cgroup", "ipc", "uts", "net", "pid", "mnt" };
	int fds[ARRAY_SIZE(ns)], cg[CG_NCTRL], sv[2], code;
	char p[64], q[64];
	struct stat a, b;
	*master = -1;
	/* everything of the container is opened first, on the host */
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns[i]);
		snprintf(q, sizeof(q), "/proc/self/ns/%s", ns[i]);
		fds[i] = openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
		if (fds[i] >= 0 && !fstat(fds[i], &a) && !stat(q, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			close(fds[i]), fds[i] = -1;
	}
	snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
	int rootfd = openat(AT_FDCWD, p, O_PATH | O_DIRECTORY | O_CLOEXEC), ncg = cg_open_procs(id, cg, e);
	if (rootfd < 0 || ncg < 0)
		return rootfd < 0 ? err_set(e, errno, "container %s is not running", id) : ncg;
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		if (fds[i] >= 0 && (setns(fds[i], 0) || close(fds[i])))
			return err_set(e, errno, "join the %s namespace", ns[i]);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return err_set(e, errno, "socketpair");
	/* a child, so it is inside the PID namespace just joined */
	pid_t c = fork();
	if (c == 0) {
		close(sv[0]);
		sec_nodump();
		struct err ce = { 0 };
		if (proc_limits(op, &ce))
			ctl_fail(sv[1], 125, &ce);
		oci_become(op, sv[1], rootfd, 0, cg, ncg);
	}
	close(sv[1]);
	int r = c < 0 ? err_set(e, errno, "fork") : proc_await(sv[0], master, &code, e);
	close(sv[0]);
	if (r && c > 0)
		waitpid(c, NULL, 0);
	return r ? r : c;
}
