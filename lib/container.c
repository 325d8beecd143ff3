/* container: the per-container record, its lock, lookups by id/prefix/name, and liveness. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/file.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include "container.h"
#include "defaults.h"
#include "json.h"
#include "network.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static const char *const status_names[] = { "created", "running", "exited" };
#define ZERO_TIME "0001-01-01T00:00:00Z"

const char *ctr_status_str(enum ctr_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : "unknown";
}

void ctr_free(struct container *c)
{
	free(c->image);
	free(c->image_id);
	strv_free(c->argv);
	strv_free(c->env);
	for (int i = 0; i < c->nvols; i++) {
		free(c->vols[i].src);
		free(c->vols[i].dst);
	}
	free(c->vols);
	free(c->workdir);
	free(c->user);
	free(c->hostname);
	free(c->net);
	free(c->ip);
	strv_free(c->ports);
	free(c->stop_signal);
	strv_free(c->cap_add);
	strv_free(c->cap_drop);
	memset(c, 0, sizeof(*c));
}

/* ---- serialise ---- */

static void jw_time(struct jw *w, const char *k, int64_t ns)
{
	char t[40];
	if (ns > 0)
		fmt_time(ns, t);
	jw_kstr(w, k, ns > 0 ? t : ZERO_TIME);
}

/* docker's HostConfig resource and security keys, flat in the record */
static void jw_limits(struct jw *w, const struct container *c)
{
	const struct cg_limits *l = &c->limits;
	jw_kint(w, "Memory", l->memory);
	jw_kint(w, "MemorySwap", l->memory_swap);
	jw_kint(w, "NanoCpus", l->nano_cpus);
	jw_kint(w, "CpuShares", l->cpu_shares);
	jw_kstr(w, "CpusetCpus", l->cpuset_cpus);
	jw_kstr(w, "CpusetMems", l->cpuset_mems);
	jw_kint(w, "PidsLimit", l->pids_limit);
	jw_key(w, "CapAdd"), jw_strv(w, c->cap_add);
	jw_key(w, "CapDrop"), jw_strv(w, c->cap_drop);
	jw_kbool(w, "NoNewPrivileges", c->no_new_privs);
	jw_kbool(w, "SeccompUnconfined", c->seccomp_unconfined);
}

int ctr_to_json(const struct container *c, struct buf *out)
{
	struct jw w;
	jw_init(&w, out, 1);
	jw_obj(&w);
	jw_kstr(&w, "Id", c->id);
	jw_kstr(&w, "Name", c->name);
	jw_kstr(&w, "Image", c->image);
	jw_kstr(&w, "ImageId", c->image_id);
	jw_key(&w, "Args"), jw_strv(&w, c->argv);
	jw_key(&w, "Env"), jw_strv(&w, c->env);
	jw_key(&w, "Mounts"), jw_arr(&w);
	for (int i = 0; i < c->nvols; i++) {
		jw_obj(&w);
		jw_kstr(&w, "Source", c->vols[i].src);
		jw_kstr(&w, "Destination", c->vols[i].dst);
		jw_kbool(&w, "RW", !c->vols[i].ro);
		jw_end_obj(&w);
	}
	jw_end_arr(&w);
	jw_kstr(&w, "WorkingDir", c->workdir);
	jw_kstr(&w, "User", c->user);
	jw_kstr(&w, "Hostname", c->hostname);
	jw_kbool(&w, "Tty", c->tty);
	jw_kbool(&w, "OpenStdin", c->interactive);
	jw_kbool(&w, "Detach", c->detach);
	jw_kbool(&w, "AutoRemove", c->autoremove);
	jw_kbool(&w, "ReadonlyRootfs", c->read_only);
	jw_kbool(&w, "Init", c->init);
	jw_kbool(&w, "Privileged", c->privileged);
	jw_kstr(&w, "Network", c->net);
	jw_kstr(&w, "IPAddress", c->ip);
	jw_key(&w, "Ports"), jw_strv(&w, c->ports);
	jw_kstr(&w, "StopSignal", c->stop_signal);
	jw_limits(&w, c);
	jw_key(&w, "State"), jw_obj(&w);
	jw_kstr(&w, "Status", ctr_status_str(c->status));
	jw_kbool(&w, "Running", c->status == CTR_RUNNING);
	jw_kint(&w, "Pid", c->pid);
	jw_kint(&w, "PidStart", (int64_t)c->pid_start);
	jw_kint(&w, "MonitorPid", c->monitor_pid);
	jw_kint(&w, "ExitCode", c->exit_code);
	jw_kbool(&w, "OOMKilled", c->oom_killed);
	jw_time(&w, "StartedAt", c->started);
	jw_time(&w, "FinishedAt", c->finished);
	jw_end_obj(&w);
	jw_time(&w, "Created", c->created);
	jw_end_obj(&w);
	buf_puts(out, "\n");
	return jw_done(&w) ? jw_done(&w) : (out->p ? 0 : -ENOMEM);
}

/* ---- parse: missing or null -> default; present with the wrong type -> error naming the key ---- */


static int bad(struct err *e, const char *pfx, const char *k, const char *what)
{
	return err_msg(e, EINVAL, "config.json: %s%s: %s", pfx, k, what);
}

static int get_str(const struct json *o, const char *pfx, const char *k, char **out, struct err *e)
{
	const struct json *j = json_get(o, k);
	if (!j || j->type == JSON_NULL)
		return 0;
	if (j->type != JSON_STRING)
		return bad(e, pfx, k, "expected a string");
	if (strlen(j->s) != j->len)
		return bad(e, pfx, k, "contains a NUL byte");
	if (!(*out = strdup(j->s)))
		return err_set(e, ENOMEM, "config.json");
	return 0;
}

static int get_strv(const struct json *o, const char *k, char ***out, struct err *e)
{
	const struct json *j = json_get(o, k);
	if (!j || j->type == JSON_NULL)
		return 0;
	if (j->type != JSON_ARRAY)
		return bad(e, "", k, "expected an array of strings");
	for (const struct json *s = j->child; s; s = s->next)
		if (s->type != JSON_STRING || strlen(s->s) != s->len)
			return bad(e, "", k, "expected an array of strings");
	if (!(*out = json_strv(j)))
		return err_set(e, ENOMEM, "config.json");
	return 0;
}

static int get_int(const struct json *o, const char *pfx, const char *k, int64_t min, int64_t max,
		   int64_t *out, struct err *e)
{
	const struct json *j = json_get(o, k);
	if (!j || j->type == JSON_NULL)
		return 0;
	if (j->type != JSON_INT)
		return bad(e, pfx, k, "expected an integer");
	if (j->i < min || j->i > max)
		return bad(e, pfx, k, "out of range");
	*out = j->i;
	return 0;
}

static int get_bool(const struct json *o, const char *pfx, const char *k, int *out, struct err *e)
{
	const struct json *j = json_get(o, k);
	if (!j || j->type == JSON_NULL)
		return 0;
	if (j->type != JSON_BOOL)
		return bad(e, pfx, k, "expected true or false");
	*out = j->b;
	return 0;
}

static int get_time(const struct json *o, const char *pfx, const char *k, int64_t *out, struct err *e)
{
	char *s = NULL;
	int r = get_str(o, pfx, k, &s, e);
	if (r || !s)
		return r;
	if (strcmp(s, ZERO_TIME) && (parse_time(s, out) || *out < 0))
		r = bad(e, pfx, k, "expected an RFC 3339 time");
	free(s);
	return r;
}

static int get_mounts(const struct json *o, struct container *c, struct err *e)
{
	const struct json *j = json_get(o, "Mounts");
	if (!j || j->type == JSON_NULL)
		return 0;
	if (j->type != JSON_ARRAY)
		return bad(e, "", "Mounts", "expected an array");
	if (j->n && !(c->vols = calloc(j->n, sizeof(*c->vols))))
		return err_set(e, ENOMEM, "config.json");
	for (const struct json *m = j->child; m; m = m->next) {
		struct vol *v = &c->vols[c->nvols++];
		int rw = 1;
		if (m->type != JSON_OBJECT)
			return bad(e, "", "Mounts", "expected an array of objects");
		if (get_str(m, "Mounts.", "Source", &v->src, e) || get_str(m, "Mounts.", "Destination", &v->dst, e) ||
		    get_bool(m, "Mounts.", "RW", &rw, e))
			return -e->no;
		if (!v->src || !v->dst)
			return bad(e, "Mounts.", v->src ? "Destination" : "Source", "missing");
		v->ro = !rw;
	}
	return 0;
}

static int get_state(const struct json *o, struct container *c, struct err *e)
{
	const struct json *s = json_get(o, "State");
	char *st = NULL;
	int64_t pid = 0, mon = 0, code = 0, start = 0;
	if (!s || s->type == JSON_NULL)
		return 0;
	if (s->type != JSON_OBJECT)
		return bad(e, "", "State", "expected an object");
	if (get_str(s, "State.", "Status", &st, e))
		return -e->no;
	if (st) {
		size_t i = 0;
		while (i < ARRAY_SIZE(status_names) && strcmp(st, status_names[i]))
			i++;
		free(st);
		if (i == ARRAY_SIZE(status_names))
			return bad(e, "State.", "Status", "unknown status");
		c->status = i;
	}
	if (get_int(s, "State.", "Pid", 0, 0x7fffffff, &pid, e) ||
	    get_int(s, "State.", "PidStart", 0, INT64_MAX, &start, e) ||
	    get_int(s, "State.", "MonitorPid", 0, 0x7fffffff, &mon, e) ||
	    get_int(s, "State.", "ExitCode", -0x7fffffff, 0x7fffffff, &code, e) ||
	    get_bool(s, "State.", "OOMKilled", &c->oom_killed, e) ||
	    get_time(s, "State.", "StartedAt", &c->started, e) ||
	    get_time(s, "State.", "FinishedAt", &c->finished, e))
		return -e->no;
	c->pid = pid, c->pid_start = start, c->monitor_pid = mon, c->exit_code = code;
	return 0;
}

static int get_cpuset(const struct json *o, const char *k, char *out, size_t n, struct err *e)
{
	char *v = NULL;
	if (get_str(o, "", k, &v, e))
		return -e->no;
	int ok = !v || strlen(v) < n;
	if (v && ok)
		strcpy(out, v);
	free(v);
	return ok ? 0 : bad(e, "", k, "too long");
}

static int get_limits(const struct json *o, struct container *c, struct err *e)
{
	struct cg_limits *l = &c->limits;
	l->all_devices = c->privileged;
	if (get_int(o, "", "Memory", 0, INT64_MAX, &l->memory, e) ||
	    get_int(o, "", "MemorySwap", -1, INT64_MAX, &l->memory_swap, e) ||
	    get_int(o, "", "NanoCpus", 0, INT64_MAX, &l->nano_cpus, e) ||
	    get_int(o, "", "CpuShares", 0, 262144, &l->cpu_shares, e) ||
	    get_int(o, "", "PidsLimit", 0, INT64_MAX, &l->pids_limit, e) ||
	    get_cpuset(o, "CpusetCpus", l->cpuset_cpus, sizeof(l->cpuset_cpus), e) ||
	    get_cpuset(o, "CpusetMems", l->cpuset_mems, sizeof(l->cpuset_mems), e) ||
	    get_strv(o, "CapAdd", &c->cap_add, e) || get_strv(o, "CapDrop", &c->cap_drop, e) ||
	    get_bool(o, "", "NoNewPrivileges", &c->no_new_privs, e) ||
	    get_bool(o, "", "SeccompUnconfined", &c->seccomp_unconfined, e))
		return -e->no;
	return 0;
}

/* The first member name of object o that appears twice, or NULL. We never write one; a record
 * with two "Name"s or "Id"s would be read as the last one and could pose as another container. */
static const char *dup_key(const struct json *o)
{
	for (const struct json *a = o->child; a; a = a->next)
		for (const struct json *b = a->next; b; b = b->next)
			if (a->keylen == b->keylen && !memcmp(a->key, b->key, a->keylen))
				return a->key;
	return NULL;
}

static int from_tree(const struct json *o, struct container *c, struct err *e)
{
	char *id = NULL, *name = NULL;
	const struct json *st;
	if (o->type != JSON_OBJECT)
		return err_msg(e, EINVAL, "config.json: not a JSON object");
	if (dup_key(o))
		return bad(e, "", dup_key(o), "duplicate key");
	if ((st = json_get(o, "State")) && st->type == JSON_OBJECT && dup_key(st))
		return bad(e, "State.", dup_key(st), "duplicate key");
	if (get_str(o, "", "Id", &id, e))
		return -e->no;
	int ok = id && strlen(id) == ID_LEN && is_hex(id, ID_LEN);
	if (ok)
		memcpy(c->id, id, ID_LEN + 1);
	free(id);
	if (!ok)
		return bad(e, "", "Id", "missing or not 64 hex digits");
	if (get_str(o, "", "Name", &name, e))
		return -e->no;
	ok = !name || !*name || name_valid(name);
	if (ok && name)
		snprintf(c->name, sizeof(c->name), "%s", name);
	free(name);
	if (!ok)
		return bad(e, "", "Name", "not a valid name");
	if (get_str(o, "", "Image", &c->image, e) || get_str(o, "", "ImageId", &c->image_id, e) ||
	    get_strv(o, "Args", &c->argv, e) || get_strv(o, "Env", &c->env, e) || get_mounts(o, c, e) ||
	    get_str(o, "", "WorkingDir", &c->workdir, e) || get_str(o, "", "User", &c->user, e) ||
	    get_str(o, "", "Hostname", &c->hostname, e) || get_bool(o, "", "Tty", &c->tty, e) ||
	    get_bool(o, "", "OpenStdin", &c->interactive, e) || get_bool(o, "", "Detach", &c->detach, e) ||
	    get_bool(o, "", "AutoRemove", &c->autoremove, e) ||
	    get_bool(o, "", "ReadonlyRootfs", &c->read_only, e) || get_bool(o, "", "Init", &c->init, e) ||
	    get_bool(o, "", "Privileged", &c->privileged, e) || get_str(o, "", "Network", &c->net, e) ||
	    get_str(o, "", "IPAddress", &c->ip, e) || get_strv(o, "Ports", &c->ports, e) ||
	    get_str(o, "", "StopSignal", &c->stop_signal, e) ||
	    get_limits(o, c, e) ||
	    get_state(o, c, e) || get_time(o, "", "Created", &c->created, e))
		return -e->no;
	return 0;
}

int ctr_from_json(const char *text, size_t len, struct container *c, struct err *e)
{
	struct json *j = NULL;
	struct err ignored;
	if (!e)		/* callers that only probe pass NULL; from_tree reads e->no */
		e = &ignored;
	memset(c, 0, sizeof(*c));
	if (!len)
		return err_msg(e, EINVAL, "config.json: empty");
	if (json_parse(text, len, &j, e)) {
		const char *tail = ": Invalid argument";
		size_t n = e ? strlen(e->msg) : 0, t = strlen(tail);
		if (n > t && !strcmp(e->msg + n - t, tail))
			e->msg[n - t] = 0;
		return err_wrap(e, "config.json");
	}
	int r = from_tree(j, c, e);
	json_free(j);
	if (r)
		ctr_free(c);
	return r;
}

/* ---- files ---- */

void ctr_dir(const char *id, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/containers/%s", state_root(), id);
}

static int valid_id(const char *id)
{
	return strlen(id) == ID_LEN && is_hex(id, ID_LEN);
}

int ctr_open_dir(const char *id, struct err *e)
{
	char d[4096];
	if (!valid_id(id))
		return err_msg(e, EINVAL, "invalid container id \"%.80s\"", id);
	ctr_dir(id, d, sizeof(d));
	/* openat, not open: musl's open() adds an fcntl for O_CLOEXEC */
	int fd = openat(AT_FDCWD, d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", d);
	return fd;
}

/* Open <id>/config.json under the containers dir cfd without following any symlink: one openat2
 * (RESOLVE_NO_SYMLINKS) where the kernel has it, else the dir and then the file. */
static int open_record(int cfd, const char *id)
{
	char p[ID_LEN + 16];
	struct open_how how = { .flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
	static int no_openat2;
	if (!no_openat2) {
		snprintf(p, sizeof(p), "%s/config.json", id);
		int fd = syscall(SYS_openat2, cfd, p, &how, sizeof(how));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))	/* EPERM: a seccomp filter */
			return fd < 0 ? -errno : fd;
		no_openat2 = 1;
	}
	int d = openat(cfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0)
		return -errno;
	int fd = openat(d, "config.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	fd = fd < 0 ? -errno : fd;
	close(d);
	return fd;
}

/* Read a record (at most MAX_STATE_FILE) into an exact-size buffer with one read: records are
 * replaced by rename, never written in place, so the inode we opened is complete. ps reads
 * hundreds of these; a 64 KiB buffer each would cost an mmap/munmap pair. */
static int read_record(int cfd, const char *id, struct buf *b)
{
	struct stat st;
	int fd = open_record(cfd, id);
	if (fd < 0)
		return fd == -ELOOP || fd == -EXDEV ? -ELOOP : fd;
	int r = fstat(fd, &st) ? -errno : !S_ISREG(st.st_mode) ? -EINVAL : st.st_size > MAX_STATE_FILE ? -EFBIG : 0;
	if (!r)
		r = buf_grow(b, st.st_size + 1);
	ssize_t n = r ? 0 : read_full(fd, b->p, st.st_size);
	close(fd);
	if (!r && n < 0)
		r = n;
	else if (!r)
		b->p[b->len = n] = 0;
	return r;
}

/* The buffer records are read into, kept for the process's life (single-threaded callers; ps
 * reads hundreds of records and a freed 1-2 KiB buffer each is an mmap/munmap pair in musl). */
static struct buf *record_buf(void)
{
	static struct buf b;
	b.len = 0;
	return &b;
}

/* ROOT/containers for reading records, reused for a second (ps reads hundreds; a long-lived
 * monitor must not keep a directory that was replaced meanwhile). */
static int containers_fd(void)
{
	static int fd = -1;
	static const char *root;
	static int64_t opened;
	struct timespec ts;
	char d[4096];
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (fd >= 0 && root == state_root() && now - opened < 1000000000)
		return fd;
	if (fd >= 0)
		close(fd);
	root = state_root();
	opened = now;
	snprintf(d, sizeof(d), "%s/containers", root);
	fd = openat(AT_FDCWD, d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int ctr_load(const char *id, struct container *c, struct err *e)
{
	struct buf *b = record_buf();
	memset(c, 0, sizeof(*c));
	if (!valid_id(id))
		return err_msg(e, EINVAL, "invalid container id \"%.80s\"", id);
	int cfd = containers_fd();
	int r = cfd < 0 ? cfd : read_record(cfd, id, b);
	if (r == -EFBIG)
		r = err_msg(e, EFBIG, "%s/config.json: larger than %u bytes", id, MAX_STATE_FILE);
	else if (r)
		r = err_set(e, -r, "read %s/config.json", id);
	else if (!(r = ctr_from_json(b->p, b->len, c, e)) && strcmp(c->id, id)) {
		ctr_free(c);
		r = err_msg(e, EINVAL, "config.json: Id does not match its directory %s", id);
	}
	return r;
}

int ctr_save(const struct container *c, struct err *e)
{
	struct buf b = { 0 };
	int fd = ctr_open_dir(c->id, e);
	if (fd < 0)
		return fd;
	int r = ctr_to_json(c, &b);
	if (r)
		r = err_set(e, -r, "serialise container %s", c->id);
	else
		r = state_replace(fd, "config.json", b.p, b.len, c->autoremove ? 0 : STATE_SYNC, e);
	close(fd);
	buf_free(&b);
	return r;
}

static int lock_path(const char *id, char *p, size_t n, struct err *e)
{
	if (!valid_id(id))
		return err_msg(e, EINVAL, "invalid container id \"%.80s\"", id);
	snprintf(p, n, "ctr-%s", id);
	return 0;
}

int ctr_lock(const char *id, struct err *e)
{
	char n[80];
	int r = lock_path(id, n, sizeof(n), e);
	return r ? r : state_lock(n, e);
}

/* Non-blocking variant: -EWOULDBLOCK when someone else holds it. */
static NOINLINE int ctr_trylock(const char *id)
{
	char n[80], p[4096];
	if (lock_path(id, n, sizeof(n), NULL))
		return -EINVAL;
	snprintf(p, sizeof(p), "%s/locks/%s", state_root(), n);
	int fd = openat(AT_FDCWD, p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ENOENT && !state_init(NULL))
		fd = openat(AT_FDCWD, p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int no = errno;
		close(fd);
		return -no;
	}
	return fd;
}

void ctr_unlink_lock(const char *id)
{
	char n[80], p[4096];
	if (lock_path(id, n, sizeof(n), NULL))
		return;
	snprintf(p, sizeof(p), "%s/locks/%s", state_root(), n);
	unlink(p);
}

NOINLINE void ctr_sweep_locks(void)
{
	char p[4096];
	struct dirent *de;
	char b[1024] __attribute__((aligned(8)));
	struct dir_it it;
	snprintf(p, sizeof(p), "%s/locks", state_root());
	int d = openat(AT_FDCWD, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int cfd = containers_fd();
	dir_it_init(&it, d, b, sizeof(b));
	while (d >= 0 && cfd >= 0 && (de = dir_it_next(&it))) {
		const char *id = de->d_name + 4;
		char trash[ID_LEN + 8];
		struct stat st;
		if (strncmp(de->d_name, "ctr-", 4) || !valid_id(id) || !fstatat(cfd, id, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		int fd = ctr_trylock(id);	/* a holder now finds the record gone, as after rm */
		snprintf(trash, sizeof(trash), ".%s.rm", id);
		if (fd >= 0 && fstatat(cfd, id, &st, AT_SYMLINK_NOFOLLOW) && errno == ENOENT &&
		    rm_rf_at(cfd, trash) != -EBUSY)	/* a killed rm's leftovers (its lock is free now) */
			unlinkat(d, de->d_name, 0);
		if (fd >= 0)
			close(fd);
	}
	if (d >= 0)
		close(d);
}

/* ---- listing and lookup ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ctr_list(char ***ids, struct err *e)
{
	char d[4096];
	size_t n = 0, cap = 16;
	char **v = malloc(cap * sizeof(*v));
	char b[4096] __attribute__((aligned(8)));
	struct dir_it it;
	snprintf(d, sizeof(d), "%s/containers", state_root());
	int dir = openat(AT_FDCWD, d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!v || dir < 0) {
		int no = v ? errno : ENOMEM;
		free(v);
		if (dir >= 0)
			close(dir);
		if (no == ENOENT) {	/* no state yet: no containers */
			*ids = calloc(1, sizeof(char *));
			return *ids ? 0 : err_set(e, ENOMEM, "list containers");
		}
		return err_set(e, no, "open %s", d);
	}
	struct dirent *de;
	int r = 0;
	dir_it_init(&it, dir, b, sizeof(b));
	while ((de = dir_it_next(&it))) {
		if (!valid_id(de->d_name) || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (n + 1 >= cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name))) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	close(dir);
	v[n] = NULL;
	if (r) {
		strv_free(v);
		return err_set(e, -r, "list containers");
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*ids = v;
	return 0;
}

/* Does the record of id carry this name? Cheap text filter first, then a real parse. */
int ctr_has_name(const char *id, const char *name)
{
	struct container c;
	char pat[NAME_MAX_LEN + 8];
	struct buf *b = record_buf();
	int hit = 0, cfd = containers_fd();
	if (cfd < 0)
		return 0;
	snprintf(pat, sizeof(pat), "\"%s\"", name);
	if (!read_record(cfd, id, b) && strstr(b->p, pat) &&
	    !ctr_from_json(b->p, b->len, &c, NULL)) {
		hit = !strcmp(c.name, name);
		ctr_free(&c);
	}
	return hit;
}

int ctr_lookup(const char *ref, char *id_out, struct err *e)
{
	size_t n = strlen(ref);
	char **ids = NULL;
	int hex = n > 0 && n <= ID_LEN && is_hex(ref, n);
	if (!hex && !name_valid(ref))
		return err_msg(e, EINVAL, "invalid container name or id \"%.80s\"", ref);
	int r = ctr_list(&ids, e);
	if (r)
		return r;
	const char *found = NULL;
	for (char **p = ids; *p && !found; p++)	/* 1. full id */
		if (!strcmp(*p, ref))
			found = *p;
	for (char **p = ids; *p && !found; p++)	/* 2. exact name (docker's order) */
		if (ctr_has_name(*p, ref))
			found = *p;
	int many = 0;
	for (char **p = ids; *p && !found && hex; p++) {	/* 3. unique id prefix */
		if (strncmp(*p, ref, n))
			continue;
		for (char **q = p + 1; *q; q++)
			many |= !strncmp(*q, ref, n);
		found = *p;
	}
	if (many)
		r = err_msg(e, EEXIST, "multiple containers match \"%s\"", ref);
	else if (!found)
		r = err_msg(e, ENOENT, "No such container: %s", ref);
	else
		memcpy(id_out, found, ID_LEN + 1);
	strv_free(ids);
	return r;
}

/* ---- liveness ---- */

/* Parse /proc/PID/stat: comm (field 2) may hold spaces and ')', so fields start after the last ')'. */
static uint64_t proc_stat(pid_t pid, char *state)
{
	char p[64], b[1024];
	if (pid <= 0)
		return 0;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	int fd = openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read_full(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	b[n] = 0;
	char *s = strrchr(b, ')');
	if (!s || s[1] != ' ')
		return 0;
	s += 2;
	if (state)
		*state = *s;
	for (int f = 3; f < 22; f++) {	/* s points at field f */
		s = strchr(s, ' ');
		if (!s)
			return 0;
		s++;
	}
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	return end != s && (*end == ' ' || *end == '\n' || !*end) ? v : 0;
}

uint64_t proc_start_time(pid_t pid)
{
	return proc_stat(pid, NULL);
}

int ctr_alive(const struct container *c)
{
	char st = 0;
	if (c->pid <= 0 || !c->pid_start)
		return 0;
	/* a zombie PID 1 is down: its namespace is dead, the parent just has not reaped it yet */
	return proc_stat(c->pid, &st) == c->pid_start && st != 'Z' && st != 'X';
}

int ctr_monitor_alive(const struct container *c)
{
	/* The monitor started the container, so a process under that pid that started later is not it. */
	uint64_t t = proc_stat(c->monitor_pid, NULL);
	return t && (!c->pid_start || t <= c->pid_start);
}

static void mark_exited(struct container *c)
{
	c->status = CTR_EXITED;
	c->exit_code = CTR_EXIT_UNKNOWN;
	c->pid = 0;
	c->pid_start = 0;
	c->monitor_pid = 0;
	c->finished = now_ns();	/* when we noticed: the best we know */
}

/* Re-read the record: the monitor may have just recorded the exit. 0 if it now says not running. */
static int reread(struct container *c)
{
	struct container t;
	if (ctr_load(c->id, &t, NULL))
		return -1;
	if (t.status == CTR_RUNNING && t.pid == c->pid) {
		ctr_free(&t);
		return -1;
	}
	ctr_free(c);
	*c = t;
	return 0;
}

void ctr_refresh(struct container *c)
{
	if (c->status != CTR_RUNNING || ctr_alive(c))
		return;
	for (int i = 0; i < 20 && ctr_monitor_alive(c); i++) {	/* give the collector 200 ms */
		if (!reread(c))
			return;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	if (!reread(c))
		return;
	/* Nobody is left to collect the status: record that it exited, exit code unknown. */
	int fd = ctr_trylock(c->id);
	if (fd >= 0) {
		struct container t;
		struct err e = { 0 };
		if (!ctr_load(c->id, &t, &e)) {
			if (t.status == CTR_RUNNING && !ctr_alive(&t) && !ctr_monitor_alive(&t)) {
				mark_exited(&t);
				ctr_save(&t, NULL);
			}
			ctr_free(c);
			*c = t;
		} else if (e.no == ENOENT) {	/* removed meanwhile: our trylock made the file anew */
			ctr_unlink_lock(c->id);
		}
		close(fd);
	}
	if (c->status == CTR_RUNNING && !ctr_alive(c))
		mark_exited(c);
}

int ctr_settle(const struct container *c, int killed, struct err *e)
{
	for (int i = 0; i < 500; i++) {	/* at most 5 s for a live monitor */
		struct container t;
		int r = ctr_load(c->id, &t, e);
		if (r == -ENOENT)
			return 0;	/* removed meanwhile (--rm) */
		if (r)
			return r;
		int done = t.status != CTR_RUNNING || t.pid != c->pid, mon = ctr_monitor_alive(&t);
		ctr_free(&t);
		if (done)
			return 0;
		if (!mon)
			break;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	int fd = ctr_lock(c->id, e);
	if (fd < 0)
		return fd;
	struct container t;
	int r = ctr_load(c->id, &t, e);
	if (!r && t.status == CTR_RUNNING && t.pid == c->pid && !ctr_alive(&t)) {
		ctr_teardown(&t);
		mark_exited(&t);
		/* after our SIGKILL the status is known; otherwise nobody collected it */
		if (killed)
			t.exit_code = 128 + SIGKILL;
		r = ctr_save(&t, e);
	}
	ctr_free(&t);
	if (r == -ENOENT) {	/* removed meanwhile: our ctr_lock made the file anew */
		ctr_unlink_lock(c->id);
		r = 0;
	}
	close(fd);
	return r;
}

void ctr_teardown(struct container *c)
{
	/* Hook: release what a stopped container holds on the host. Called under the container's lock
	 * by whoever records the exit (the monitor or foreground run via ctr_finish, or ctr_settle when
	 * no collector is left) and by rm before the directory goes: so it runs more than once and
	 * must be idempotent, and tolerate a half-built container. Later: network (veth, IPAM
	 * address, NAT rules) and cgroup removal. */
	struct err e;
	/* the cgroup (every hierarchy): its processes are gone with the PID namespace's init */
	cg_remove(c->id, &e);
	/* the network: port rules, veth (gone with the netns anyway), the IPAM address */
	network_down(c);
}

/* Mount points at or under dir in our namespace, from /proc/self/mountinfo (field 5, octal-escaped). */
static int mounts_under(const char *dir, char ***out)
{
	struct buf b = { 0 };
	size_t dl = strlen(dir), n = 0;
	char **v = NULL;
	int r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 64u << 20, &b);
	if (r)
		return r;
	for (char *line = b.p, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		char *mp = line;
		for (int f = 0; f < 4 && mp; f++)
			mp = strchr(mp, ' '), mp = mp ? mp + 1 : NULL;
		if (!mp)
			continue;
		char *d = mp, *s = mp;
		for (; *s && *s != ' '; s++) {
			if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
				*d++ = (s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0');
				s += 3;
			} else {
				*d++ = *s;
			}
		}
		*d = 0;
		if (strncmp(mp, dir, dl) || (mp[dl] && mp[dl] != '/'))
			continue;
		char **nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(mp))) {
			free(nv ? nv : v);
			buf_free(&b);
			return -ENOMEM;
		}
		v = nv;
		v[++n] = NULL;
	}
	buf_free(&b);
	*out = v;
	return n;
}

/* ---- spare workspaces ----
 * Every directory made on ext4 takes a block and every one removed frees it; with online discard
 * and no journal each free is a synchronous discard (~0.1-0.5 ms on the VMs we measure on). So rm
 * keeps up to SPARES emptied workspaces as ROOT/containers/.spareN and the next create takes one
 * instead of making four directories. A spare holds nothing of its last container: empty upper,
 * work and merged with their first modes, owned by root, without xattrs (overlayfs's own
 * trusted.overlay.* on upper are removed) -- but for work/old: the overlay's private work dir
 * (work/work, made by the kernel at every mount: with a volatile mount work/work/incompat/volatile),
 * renamed out of the kernel's way. It is never visible in a container; the next container on the
 * spare removes it while its own command runs (ctr_workspace_reap), where the wait for those
 * discards costs nothing, instead of rm paying for three of them. */
#define SPARES 2
#define WS_OLD "old"

/* the workspace: the overlay's upper and work dirs and merged, where the root is mounted */
static const char *const ws_names[] = { "upper", "work", "merged", NULL };
static const mode_t ws_modes[] = { 0755, 0700, 0755 };

/* Empty dfd/name but keep (NULL: all) and check it is as new: 0, or why not. */
static int ws_clean(int dfd, const char *name, mode_t mode, const char *const *keep)
{
	struct stat st;
	char x[1024];
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fstat(fd, &st) ? -errno : (st.st_mode & 07777) != mode || st.st_uid || st.st_gid ? -EPERM : 0;
	/* the overlay's work dir set aside whole (one left by a reap that did not run goes now) */
	if (!r && keep && syscall(SYS_renameat2, fd, "work", fd, WS_OLD, RENAME_NOREPLACE) && errno != ENOENT)
		keep = NULL;
	if (!r)
		r = rm_rf_contents(fd, keep);
	ssize_t n = r ? 0 : flistxattr(fd, x, sizeof(x));
	if (n < 0)
		r = -errno;
	for (ssize_t i = 0; !r && i < n; i += (ssize_t)strlen(x + i) + 1)
		if (strncmp(x + i, "trusted.overlay.", 16) || fremovexattr(fd, x + i))
			r = -EPERM;
	close(fd);
	return r;
}

/* trash (a removed container's dir, renamed out of sight) becomes a spare, or is removed. */
static NOINLINE int spare_keep(const char *trash)
{
	static const char *const old[] = { WS_OLD, NULL };
	char spare[4096];
	int fd = openat(AT_FDCWD, trash, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r = fd < 0;
	if (!r)
		r = rm_rf_contents(fd, ws_names);
	for (size_t i = 0; !r && ws_names[i]; i++)
		r = ws_clean(fd, ws_names[i], ws_modes[i], strcmp(ws_names[i], "work") ? NULL : old);
	if (fd >= 0)
		close(fd);
	for (int i = 0; !r && i < SPARES; i++) {
		snprintf(spare, sizeof(spare), "%s/containers/.spare%d", state_root(), i);
		if (!syscall(SYS_renameat2, AT_FDCWD, trash, AT_FDCWD, spare, RENAME_NOREPLACE))
			return 0;
	}
	return rm_rf(trash);
}

void ctr_workspace_reap(const char *dir)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/work/" WS_OLD, dir);
	rm_rf(p);
}

int ctr_workspace(const char *dir, struct err *e)
{
	char p[4096];
	int spare = 0;
	for (int i = 0; i < SPARES && !spare; i++) {
		snprintf(p, sizeof(p), "%s/containers/.spare%d", state_root(), i);
		spare = !rename(p, dir);
	}
	if (!spare && mkdir(dir, 0700))
		return err_set(e, errno, "create %s", dir);
	int fd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r = 0;
	if (fd < 0)
		r = err_set(e, errno, "open %s", dir);
	for (size_t i = 0; !r && !spare && ws_names[i]; i++)
		if (mkdirat(fd, ws_names[i], ws_modes[i]))
			r = err_set(e, errno, "create the overlay workspace");
	if (!r)
		return fd;
	if (fd >= 0)
		close(fd);
	rm_rf(dir);
	return r;
}

int ctr_remove(const char *id, struct err *e)
{
	char d[4096], real[4096];
	char **m = NULL;
	if (!valid_id(id))
		return err_msg(e, EINVAL, "invalid container id \"%.80s\"", id);
	ctr_dir(id, d, sizeof(d));
	/* its path as mountinfo spells it (the root's own symlinks resolved): the kernel's name for
	 * an fd of it (the directory itself is never a symlink) */
	int fd = openat(AT_FDCWD, d, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "%s", d);
	char self[32];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	ssize_t rl = readlink(self, real, sizeof(real) - 1);
	int no = errno;
	close(fd);
	if (rl <= 0 || real[0] != '/')
		return err_set(e, rl < 0 ? no : ENOENT, "%s", d);
	real[rl] = 0;
	/* Nothing is mounted on the host for a container (its mounts live in its own namespace), so a
	 * mount here is someone else's: refuse, rather than delete through it. */
	int n = mounts_under(real, &m);
	if (n < 0)
		return err_set(e, -n, "read /proc/self/mountinfo");
	if (n > 0) {
		err_msg(e, EBUSY, "%s is a mount point: unmount it first (nothing removed)", m[0]);
		strv_free(m);
		return -EBUSY;
	}
	/* Out of sight first: an rm killed halfway through leaves .<id>.rm (swept by the next create
	 * via ctr_sweep_locks), never a record-less dir that ps cannot show and rm cannot name. */
	char *trash = d;
	snprintf(trash, sizeof(d), "%s/containers/.%s.rm", state_root(), id);
	if (rename(real, trash))
		return err_set(e, errno, "rename %s", real);
	int r = spare_keep(trash);
	if (r)
		return err_set(e, -r, "remove %s", trash);
	return 0;
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* A pidfd for c's PID 1 that is known to be that very process (start time checked after opening),
 * -ESRCH if it is down, -ENOSYS without pidfds. */
static int ctr_pidfd(const struct container *c)
{
	if (!ctr_alive(c))
		return -ESRCH;
	int fd = syscall(SYS_pidfd_open, c->pid, 0);
	if (fd < 0)
		return errno == ESRCH ? -ESRCH : -ENOSYS;
	if (!ctr_alive(c)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

int ctr_kill(const struct container *c, int sig)
{
	int fd = ctr_pidfd(c);
	if (fd == -ESRCH)
		return fd;
	int r = fd >= 0 ? syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) : kill(c->pid, sig);
	r = r ? -errno : 0;
	if (fd >= 0)
		close(fd);
	return r;
}

int ctr_wait_down(const struct container *c, int timeout_ms)
{
	int fd = ctr_pidfd(c);
	int64_t end = now_ns() + (int64_t)timeout_ms * 1000000;
	if (fd == -ESRCH)
		return 0;
	for (;;) {
		int64_t left = (end - now_ns()) / 1000000;
		if (timeout_ms >= 0 && left <= 0)
			break;
		int step = timeout_ms < 0 || left > 100 ? 100 : (int)left;
		if (fd >= 0)
			poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, step);
		else
			nanosleep(&(struct timespec){ 0, (step < 10 ? step : 10) * 1000000L }, NULL);
		if (!ctr_alive(c)) {
			if (fd >= 0)
				close(fd);
			return 0;
		}
	}
	if (fd >= 0)
		close(fd);
	return ctr_alive(c) ? -ETIMEDOUT : 0;
}
