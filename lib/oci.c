/* oci: an OCI runtime spec read into the runtime's own structures (see oci.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "oci.h"

static int bad(struct err *e, const char *what, const char *why)
{
	err_set(e, 0, "config.json: %s: %s", what, why);
	e->no = EINVAL;
	return -EINVAL;
}

/* a member that must be an array of strings (absent: NULL) */
static int strv_of(const struct json *o, const char *k, char ***out, struct err *e)
{
	const struct json *j = json_get(o, k);
	*out = NULL;
	if (!j || j->type == JSON_NULL)
		return 0;
	if (!(*out = json_strv(j)))
		return bad(e, k, "expected an array of strings");
	return 0;
}

/* ---- process ---- */

/* RLIMIT_* names in resource order */
static const char rlim_names[] = "CPU\0FSIZE\0DATA\0STACK\0CORE\0RSS\0NPROC\0NOFILE\0MEMLOCK\0AS\0LOCKS\0"
	"SIGPENDING\0MSGQUEUE\0NICE\0RTPRIO\0RTTIME\0";

static int rlimits(const struct json *a, struct oci_proc *p, struct err *e)
{
	for (const struct json *r = a ? a->child : NULL; r; r = r->next) {
		const char *t = json_get_str(r, "type"), *n = rlim_names;
		int i = 0;
		for (; t && *n && (strncmp(t, "RLIMIT_", 7) || strcmp(t + 7, n)); n += strlen(n) + 1)
			i++;
		if (!t || !*n || p->nrlim == 16)
			return bad(e, "process.rlimits", t ? t : "no type");
		p->rlim[p->nrlim].res = i;
		p->rlim[p->nrlim].soft = json_get_int(r, "soft", 0);
		p->rlim[p->nrlim++].hard = json_get_int(r, "hard", 0);
	}
	return 0;
}

int oci_proc(const struct json *j, struct oci_proc *p, struct err *e)
{
	const struct json *u = json_get(j, "user"), *caps = json_get(j, "capabilities"), *g;
	memset(p, 0, sizeof(*p));
	if (!j || j->type != JSON_OBJECT)
		return bad(e, "process", "missing");
	if (strv_of(j, "args", &p->args, e) || strv_of(j, "env", &p->env, e))
		return -EINVAL;
	if (!p->args || !p->args[0])
		return bad(e, "process.args", "must not be empty");
	p->cwd = json_get_str(j, "cwd");
	if (!p->cwd || p->cwd[0] != '/')
		return bad(e, "process.cwd", "must be an absolute path");
	p->uid = json_get_int(u, "uid", 0);
	p->gid = json_get_int(u, "gid", 0);
	if ((g = json_get(u, "additionalGids")) && g->n) {
		p->gids = xcalloc(g->n, sizeof(gid_t));
		for (const struct json *x = g->child; x; x = x->next)
			p->gids[p->ngids++] = x->i;
	}
	const char *aa = json_get_str(j, "apparmorProfile"), *se = json_get_str(j, "selinuxLabel");
	if (json_get(u, "umask") || (se && *se))
		return bad(e, "process", "umask and selinuxLabel are not supported");
	/* as runc: a profile counts only where the host enforces AppArmor */
	if (aa && *aa && !access("/sys/kernel/security/apparmor", F_OK))
		return bad(e, "process.apparmorProfile", "AppArmor is not supported");
	p->terminal = json_get_bool(j, "terminal", 0);
	p->rows = json_get_int(json_get(j, "consoleSize"), "height", 0);
	p->cols = json_get_int(json_get(j, "consoleSize"), "width", 0);
	p->nnp = json_get_bool(j, "noNewPrivileges", 0);
	p->has_oom = !!json_get(j, "oomScoreAdj");
	p->oom = json_get_int(j, "oomScoreAdj", 0);
	/* what the process keeps: the permitted set (containerd and CRI make the sets equal) */
	if (strv_of(caps, "permitted", &p->caps, e))
		return -EINVAL;
	return rlimits(json_get(j, "rlimits"), p, e);
}

/* ---- mounts ---- */

/* mount options that are flags: the names in one string, the flag each sets (or, in CLR, clears) */
const char oci_mopt_names[] = "ro\0rw\0nosuid\0suid\0nodev\0dev\0noexec\0exec\0sync\0async\0dirsync\0"
	"noatime\0atime\0nodiratime\0diratime\0relatime\0norelatime\0strictatime\0nostrictatime\0bind\0rbind\0"
	"private\0rprivate\0shared\0rshared\0slave\0rslave\0unbindable\0runbindable\0";
static const uint32_t mopt_flag[] = {
	MS_RDONLY, MS_RDONLY, MS_NOSUID, MS_NOSUID, MS_NODEV, MS_NODEV, MS_NOEXEC, MS_NOEXEC,
	MS_SYNCHRONOUS, MS_SYNCHRONOUS, MS_DIRSYNC, MS_NOATIME, MS_NOATIME, MS_NODIRATIME, MS_NODIRATIME,
	MS_RELATIME, MS_RELATIME, MS_STRICTATIME, MS_STRICTATIME, MS_BIND, MS_BIND | MS_REC,
	MS_PRIVATE, MS_PRIVATE | MS_REC, MS_SHARED, MS_SHARED | MS_REC, MS_SLAVE, MS_SLAVE | MS_REC,
	MS_UNBINDABLE, MS_UNBINDABLE | MS_REC,
};
#define CLR 0x552aa	/* rw suid dev exec async atime diratime norelatime nostrictatime */
#define MS_PROP (MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE)

static char *abspath(const char *dir, const char *p)
{
	return p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", dir, p);
}

static int mount_one(const struct json *j, const char *bundle, struct mnt_entry *m, struct err *e)
{
	const char *src = json_get_str(j, "source"), *type = json_get_str(j, "type");
	const struct json *o = json_get(j, "options");
	struct buf data = { 0 };
	m->dst = json_get_str(j, "destination");
	if (!m->dst || m->dst[0] != '/')
		return bad(e, "mounts", "destination must be an absolute path");
	for (const struct json *x = o ? o->child : NULL; x; x = x->next) {
		size_t i = 0;
		const char *n = oci_mopt_names;
		if (x->type != JSON_STRING)
			return bad(e, m->dst, "options must be strings");
		for (; *n && strcmp(x->s, n); n += strlen(n) + 1)
			i++;
		if (*n && (mopt_flag[i] & MS_PROP))
			m->prop |= mopt_flag[i];
		else if (*n && (CLR >> i & 1))
			m->flags &= ~mopt_flag[i];
		else if (*n)
			m->flags |= mopt_flag[i];
		else if (!strcmp(x->s, "idmap") || !strcmp(x->s, "ridmap"))
			return bad(e, m->dst, "idmapped mounts are not supported");
		else if (strncmp(x->s, "x-", 2) && strcmp(x->s, "tmpcopyup"))
			buf_printf(&data, "%s%s", data.len ? "," : "", x->s);
	}
	m->data = data.p;
	if ((type && !strcmp(type, "bind")) || (m->flags & MS_BIND)) {
		if (!src)
			return bad(e, m->dst, "a bind mount needs a source");
		m->src = abspath(bundle, src);
		m->flags &= ~MS_BIND;
		return 0;
	}
	if (!type)
		return bad(e, m->dst, "no type");
	/* cgroup v1: the container gets none of the host's hierarchies (more isolated, as with cgroupns) */
	if (!strcmp(type, "cgroup")) {
		const struct cg_layout *L;
		if (!cg_layout(&L, e) && L->mode == CG_V2)
			type = "cgroup2";
		else
			type = "tmpfs", src = "cgroup", m->flags |= MS_RDONLY, free(data.p), m->data = xstrdup("size=4k,mode=755");
	}
	m->type = type;
	m->src = xstrdup(src ? src : type);
	return 0;
}

static int mounts(const struct json *a, struct oci_spec *s, struct err *e)
{
	s->mounts = xcalloc(a ? a->n + 1 : 1, sizeof(*s->mounts));
	for (const struct json *j = a ? a->child : NULL; j; j = j->next)
		if (mount_one(j, s->bundle, &s->mounts[s->nmounts++], e))
			return -EINVAL;
	return 0;
}

/* ---- linux ---- */

static const struct { char name[8]; int flag; } ns_types[] = {
	{ "user", CLONE_NEWUSER }, { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
	{ "network", CLONE_NEWNET }, { "pid", CLONE_NEWPID }, { "mount", CLONE_NEWNS },
};

static int namespaces(const struct json *a, struct oci_spec *s, struct err *e)
{
	for (const struct json *j = a ? a->child : NULL; j; j = j->next) {
		const char *t = json_get_str(j, "type"), *path = json_get_str(j, "path");
		size_t i = 0;
		while (t && i < ARRAY_SIZE(ns_types) && strcmp(t, ns_types[i].name))
			i++;
		if (!t || i == ARRAY_SIZE(ns_types))
			return bad(e, "linux.namespaces", t ? t : "no type");
		if (path && *path) {
			s->join[s->njoin].type = ns_types[i].flag;
			s->join[s->njoin++].path = path;
		} else {
			s->clone |= ns_types[i].flag;
		}
	}
	if (!(s->clone & CLONE_NEWNS))
		return bad(e, "linux.namespaces", "a new mount namespace is required");
	return 0;
}

static int ns_has(const struct oci_spec *s, int flag)
{
	int r = s->clone & flag;
	for (int i = 0; i < s->njoin; i++)
		r |= s->join[i].type & flag;
	return r;
}

/* runc's allowlist: IPC sysctls with an IPC namespace, net.* with a network namespace */
static int sysctls(const struct oci_spec *s, struct err *e)
{
	for (const struct json *j = s->sysctl ? s->sysctl->child : NULL; j; j = j->next) {
		const char *k = j->key;
		int ipc = !strcmp(k, "kernel.msgmax") || !strcmp(k, "kernel.msgmnb") || !strcmp(k, "kernel.msgmni") ||
			  !strcmp(k, "kernel.sem") || !strncmp(k, "kernel.shm", 10) || !strncmp(k, "fs.mqueue.", 10);
		int ok = ipc ? ns_has(s, CLONE_NEWIPC) : !strncmp(k, "net.", 4) ? ns_has(s, CLONE_NEWNET) :
			 !strcmp(k, "kernel.hostname") || !strcmp(k, "kernel.domainname") ? ns_has(s, CLONE_NEWUTS) : 0;
		if (!ok || j->type != JSON_STRING || strstr(k, ".."))
			return bad(e, k, "sysctl not allowed (needs its own namespace)");
	}
	return 0;
}

int oci_resources(const struct json *r, struct cg_limits *l, struct err *e)
{
	const struct json *m = json_get(r, "memory"), *c = json_get(r, "cpu"), *dv = json_get(r, "devices");
	const char *cpus = json_get_str(c, "cpus"), *mems = json_get_str(c, "mems");
	int64_t quota = json_get_int(c, "quota", 0), period = json_get_int(c, "period", CG_CPU_PERIOD);
	l->memory = json_get_int(m, "limit", 0);
	l->memory_swap = json_get_int(m, "swap", 0);
	l->cpu_shares = json_get_int(c, "shares", 0);
	l->nano_cpus = quota > 0 && period > 0 ? quota * 1000000000 / period : 0;
	l->pids_limit = json_get_int(json_get(r, "pids"), "limit", 0);
	if (l->memory < 0)
		l->memory = 0;
	int rc = cpus && *cpus ? cg_parse_cpuset(cpus, 0, l->cpuset_cpus, sizeof(l->cpuset_cpus), e) : 0;
	if (!rc && mems && *mems)
		rc = cg_parse_cpuset(mems, 1, l->cpuset_mems, sizeof(l->cpuset_mems), e);
	if (rc)
		return rc;
	/* devices: "allow everything" is the only rule that loosens the default allowlist */
	for (const struct json *d = dv ? dv->child : NULL; d; d = d->next) {
		const char *t = json_get_str(d, "type"), *acc = json_get_str(d, "access");
		int any = (!t || !strcmp(t, "a")) && !json_get(d, "major") && !json_get(d, "minor");
		l->all_devices = json_get_bool(d, "allow", 0) && any && (!acc || strlen(acc) == 3) ? 1 :
				 any ? 0 : l->all_devices;
	}
	return cg_limits_check(l, e);
}

static int linux_part(const struct json *lx, struct oci_spec *s, struct err *e)
{
	static const char *const unsup[] = { "seccomp", "intelRdt", "personality", "timeOffsets" };
	for (size_t i = 0; i < ARRAY_SIZE(unsup); i++)
		if (json_get(lx, unsup[i]) && json_get(lx, unsup[i])->type != JSON_NULL)
			return bad(e, unsup[i], "not supported (refused, not ignored)");
	const char *lbl = json_get_str(lx, "mountLabel");
	if (lbl && *lbl)
		return bad(e, "mountLabel", "SELinux is not supported");
	if (namespaces(json_get(lx, "namespaces"), s, e))
		return -EINVAL;
	s->masked = json_get(lx, "maskedPaths");
	s->ropaths = json_get(lx, "readonlyPaths");
	s->sysctl = json_get(lx, "sysctl");
	s->devices = json_get(lx, "devices");
	s->devrules = json_get(json_get(lx, "resources"), "devices");
	s->uidmap = json_get(lx, "uidMappings");
	s->gidmap = json_get(lx, "gidMappings");
	if ((s->clone & CLONE_NEWUSER) && (!s->uidmap || !s->gidmap))
		return bad(e, "linux", "a user namespace needs uid and gid mappings");
	if (((s->hostname && *s->hostname) || (s->domainname && *s->domainname)) && !ns_has(s, CLONE_NEWUTS))
		return bad(e, "hostname", "needs its own UTS namespace");
	return sysctls(s, e) ? -EINVAL : oci_resources(json_get(lx, "resources"), &s->cg, e);
}

/* DIR/ID: names valid for a path (no "..", no ':' of systemd's slice:prefix:name) */
static int cg_path_bad(char *p)
{
	int bad = !*p;
	for (char *c = p, *sl; *c && !bad; c = sl ? sl + 1 : c + strlen(c)) {
		if ((sl = strchr(c, '/')))
			*sl = 0;
		bad = !name_valid(c) || !strcmp(c, "..");
		if (sl)
			*sl = '/';
	}
	return bad || !strchr(p, '/');
}

const char *oci_cg(const char *path)
{
	static char dir[256];
	const char *b = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", (int)(b - path), path);
	cg_set_parent(dir);
	return b + 1;
}

int oci_load(const char *bundle, const char *id, struct oci_spec *s, struct err *e)
{
	char real[PATH_MAX];
	struct buf b = { 0 };
	const struct json *root, *hk;
	memset(s, 0, sizeof(*s));
	if (!realpath(bundle, real))
		return err_set(e, errno, "bundle %s", bundle);
	s->bundle = xstrdup(real);
	int dfd = openat(AT_FDCWD, real, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = dfd < 0 ? -errno : 0;
	if (!r)
		r = read_file_at(dfd, "config.json", JSON_MAX_SIZE, &b);
	if (dfd >= 0)
		close(dfd);
	if (r)
		return err_set(e, -r, "%s/config.json", real);
	r = json_parse(b.p, b.len, &s->doc, e);
	buf_free(&b);
	if (r)
		return err_wrap(e, "config.json");
	root = json_get(s->doc, "root");
	if (!json_get_str(root, "path"))
		return bad(e, "root.path", "missing");
	s->root = abspath(real, json_get_str(root, "path"));
	s->root_ro = json_get_bool(root, "readonly", 0);
	s->hostname = json_get_str(s->doc, "hostname");
	s->domainname = json_get_str(s->doc, "domainname");
	/* cgroupsPath "/DIR/ID" as runc's cgroupfs driver; "/ID" or none: mydocker/ID, as run does */
	const char *cgp = json_get_str(json_get(s->doc, "linux"), "cgroupsPath");
	cgp = cgp && *cgp ? cgp + strspn(cgp, "/") : id;
	snprintf(s->cgpath, sizeof(s->cgpath), strchr(cgp, '/') ? "%s" : "mydocker/%s", cgp);
	if (cg_path_bad(s->cgpath))
		return bad(e, "cgroupsPath", "expected /DIR/NAME (systemd cgroups are not supported)");
	s->hooks = json_get(s->doc, "hooks");
	for (hk = s->hooks ? s->hooks->child : NULL; hk; hk = hk->next)
		if (strcmp(hk->key, "prestart") && strcmp(hk->key, "createRuntime") && strcmp(hk->key, "poststart") &&
		    strcmp(hk->key, "poststop") && hk->n)
			return bad(e, hk->key, "hooks of this kind are not supported");
	if (oci_proc(json_get(s->doc, "process"), &s->p, e) || mounts(json_get(s->doc, "mounts"), s, e))
		return -EINVAL;
	return linux_part(json_get(s->doc, "linux"), s, e);
}

void oci_free(struct oci_spec *s)
{
	json_free(s->doc);
	free(s->bundle);
	strv_free(s->p.args);
	strv_free(s->p.env);
	strv_free(s->p.caps);
	free(s->p.gids);
	for (int i = 0; i < s->nmounts; i++) {
		free((char *)s->mounts[i].src);
		free((char *)s->mounts[i].data);
	}
	free(s->mounts);
	free((char *)s->root);
	memset(s, 0, sizeof(*s));
}
