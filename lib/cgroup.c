/* cgroup: layout detection and the v1/v2 back ends (create, enter, remove, stats). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cgroup.h"
#include "state.h"

#define BIT(c) (1u << (c))
#define PARENT "mydocker"

static const char *const ctrl_names[CG_NCTRL] = {
	"memory", "cpu", "cpuacct", "cpuset", "pids", "devices", "freezer",
};

/* Devices a container may use (docker's default list without mknod of arbitrary nodes). */
static const char *const dev_allow[] = {
	"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",	/* null zero full random urandom */
	"c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm",				/* tty ptmx pts */
};

static char base[CG_PATH];	/* test hook: "" is the real host */
static struct cg_layout host;
static int host_done;

const char *cg_ctrl_name(enum cg_ctrl c)
{
	return (unsigned)c < CG_NCTRL ? ctrl_names[c] : "?";
}

const char *cg_base_path(void)
{
	return base;
}

void cg_set_base(const char *b)
{
	snprintf(base, sizeof(base), "%s", b ? b : "");
	host_done = 0;
}

const char *cg_mode_str(const struct cg_layout *l)
{
	if (l->mode == CG_V2)
		return "v2";
	if (l->mode == CG_V1)
		return l->hybrid ? "hybrid (v1 controllers)" : "v1";
	return "none";
}

static int ctrl_index(const char *name)
{
	for (int c = 0; c < CG_NCTRL; c++)
		if (!strcmp(name, ctrl_names[c]))
			return c;
	return -1;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else
			*d++ = *s;
	}
	*d = 0;
}

/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS" */
static void parse_mountinfo(char *text, const char *b, struct cg_layout *l)
{
	char *next;
	for (char *line = text; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = 0;
		char *sep = strstr(line, " - "), *sv, *mp = NULL, *tok;
		if (!sep)
			continue;
		*sep = 0;
		int i = 0;
		for (tok = strtok_r(line, " ", &sv); tok && !mp; tok = strtok_r(NULL, " ", &sv))
			if (i++ == 4)
				mp = tok;
		char *fstype = strtok_r(sep + 3, " ", &sv), *src = strtok_r(NULL, " ", &sv);
		char *opts = src ? strtok_r(NULL, " ", &sv) : NULL;
		if (!mp || !opts)
			continue;
		unescape(mp);
		char path[CG_PATH];
		if (snprintf(path, sizeof(path), "%s%s", b, mp) >= (int)sizeof(path))
			continue;
		if (!strcmp(fstype, "cgroup2") && !l->v2[0])
			strcpy(l->v2, path);
		if (strcmp(fstype, "cgroup"))
			continue;
		for (tok = strtok_r(opts, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv)) {
			int c = ctrl_index(tok);
			if (c >= 0 && !l->v1[c][0])
				strcpy(l->v1[c], path);
		}
	}
}

/* "HID:CONTROLLERS:PATH" lines: which v1 controllers we are really in, and our v2 cgroup. */
static unsigned parse_self_cgroup(char *text, struct cg_layout *l, int *in_v2)
{
	unsigned listed = 0;
	char *next, *sv;
	for (char *line = text; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		if (c1[1] == 0) {
			*in_v2 = 1;
			snprintf(l->self2, sizeof(l->self2), "%s", c2 + 1);
			continue;
		}
		for (char *tok = strtok_r(c1 + 1, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv))
			if (ctrl_index(tok) >= 0)
				listed |= BIT(ctrl_index(tok));
	}
	return listed;
}

static unsigned v2_controllers(const char *dir)
{
	char p[CG_PATH + 32], *sv;
	struct buf b = { 0 };
	unsigned have = 0;
	snprintf(p, sizeof(p), "%s/cgroup.controllers", dir);
	if (!read_file_at(AT_FDCWD, p, 65536, &b))
		for (char *tok = strtok_r(b.p, " \n", &sv); tok; tok = strtok_r(NULL, " \n", &sv))
			if (ctrl_index(tok) >= 0)
				have |= BIT(ctrl_index(tok));
	buf_free(&b);
	return have;
}

int cg_detect(const char *b, struct cg_layout *l, struct err *e)
{
	char p[CG_PATH + 32];
	struct buf mi = { 0 }, pc = { 0 };
	int r, in_v2 = 0;
	memset(l, 0, sizeof(*l));
	snprintf(p, sizeof(p), "%s/proc/self/mountinfo", b);
	if ((r = read_file_at(AT_FDCWD, p, 4 << 20, &mi)))
		return err_set(e, -r, "read %s", p);
	snprintf(p, sizeof(p), "%s/proc/self/cgroup", b);
	if ((r = read_file_at(AT_FDCWD, p, 1 << 20, &pc))) {
		buf_free(&mi);
		return err_set(e, -r, "read %s", p);
	}
	parse_mountinfo(mi.p, b, l);
	unsigned listed = parse_self_cgroup(pc.p, l, &in_v2);
	buf_free(&mi);
	buf_free(&pc);
	for (int c = 0; c < CG_NCTRL; c++) {
		if (l->v1[c][0] && (listed & BIT(c)))
			l->have |= BIT(c);
		else
			l->v1[c][0] = 0;
	}
	if (!in_v2)
		l->v2[0] = 0;
	if (l->have & (BIT(CG_MEMORY) | BIT(CG_CPU) | BIT(CG_CPUSET) | BIT(CG_PIDS) | BIT(CG_DEVICES))) {
		l->mode = CG_V1;
		l->hybrid = l->v2[0] != 0;
	} else if (l->v2[0]) {
		l->mode = CG_V2;
		l->have = v2_controllers(l->v2);
	} else
		l->have = 0;
	return 0;
}

int cg_layout(const struct cg_layout **l, struct err *e)
{
	if (!host_done) {
		int r = cg_detect(base, &host, e);
		if (r)
			return r;
		host_done = 1;
	}
	*l = &host;
	return 0;
}

/* ---- files ---- */

/* Write each of vals to dir/file, one write each (the kernel takes one value per write). */
static int cg_write_each(const char *dir, const char *file, const char *const *vals, size_t n,
			 struct err *e)
{
	char p[CG_PATH + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = openat(AT_FDCWD, p, O_WRONLY | O_CLOEXEC | (base[0] ? O_CREAT | O_APPEND : 0), 0644);
	if (fd < 0)
		return err_set(e, errno, "open %s", p);
	for (size_t i = 0; i < n; i++) {
		char v[160];
		int r = write_all(fd, v, snprintf(v, sizeof(v), "%s\n", vals[i]));
		if (r) {
			close(fd);
			return err_set(e, -r, "write \"%s\" to %s", vals[i], p);
		}
	}
	close(fd);
	return 0;
}

static int cg_write(const char *dir, const char *file, const char *val, struct err *e)
{
	return cg_write_each(dir, file, &val, 1, e);
}

static int cg_writef(const char *dir, const char *file, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int cg_writef(const char *dir, const char *file, struct err *e, const char *fmt, ...)
{
	char v[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	return cg_write(dir, file, v, e);
}

/* First line of dir/file, trimmed, into out ("" when missing). */
static void cg_read(const char *dir, const char *file, char *out, size_t n)
{
	char p[CG_PATH + 64];
	struct buf b = { 0 };
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	snprintf(out, n, "%s", read_file_at(AT_FDCWD, p, 1 << 20, &b) ? "" : b.p);
	out[strcspn(out, "\n")] = 0;
	buf_free(&b);
}

/* A number, "max" as 0; -1 when missing. */
static int64_t cg_num(const char *dir, const char *file)
{
	char v[64];
	cg_read(dir, file, v, sizeof(v));
	if (!strcmp(v, "max"))
		return 0;
	return v[0] >= '0' && v[0] <= '9' ? strtoll(v, NULL, 10) : -1;
}

/* The value of "key N" in a flat-keyed file (memory.stat, memory.events, memory.oom_control). */
static int64_t cg_key(const char *dir, const char *file, const char *key)
{
	char p[CG_PATH + 64];
	struct buf b = { 0 };
	int64_t v = -1;
	size_t k = strlen(key);
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	if (!read_file_at(AT_FDCWD, p, 1 << 20, &b))
		for (char *l = b.p; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (!strncmp(l, key, k) && l[k] == ' ') {
				v = strtoll(l + k + 1, NULL, 10);
				break;
			}
	buf_free(&b);
	return v;
}

/* ---- hierarchies ---- */

/* The distinct hierarchies a container lives in: controller indexes (v2: one entry). */
static int hierarchies(const struct cg_layout *L, int out[CG_NCTRL])
{
	int n = 0;
	if (L->mode == CG_V2) {
		out[n++] = CG_MEMORY;
		return n;
	}
	for (int c = 0; c < CG_NCTRL; c++) {
		int dup = !(L->have & BIT(c));
		for (int i = 0; i < n && !dup; i++)
			dup = !strcmp(L->v1[out[i]], L->v1[c]);
		if (!dup)
			out[n++] = c;
	}
	return n;
}

/* The directory of the containers' cgroups: mydocker, or another one (OCI cgroupsPath). */
static const char *parent = PARENT;

void cg_set_parent(const char *dir)
{
	parent = dir ? dir : PARENT;
}

/* ROOT/mydocker[/id] of controller c's hierarchy. */
static void cg_dir(const struct cg_layout *L, int c, const char *id, char out[CG_PATH + 80])
{
	snprintf(out, CG_PATH + 80, "%s/%s%s%s", L->mode == CG_V2 ? L->v2 : L->v1[c], parent, id ? "/" : "",
		 id ? id : "");
}

static int cg_rmdir(const char *dir)
{
	if (base[0])
		return rm_rf(dir);
	for (int i = 0; rmdir(dir); i++) {
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || i >= 100)
			return -errno;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return 0;
}

/* Controllers the limits need (a missing one is an error naming it). */
static unsigned needs(const struct cg_limits *l, enum cg_mode mode)
{
	unsigned m = 0;
	if (l->memory)
		m |= BIT(CG_MEMORY);
	if (l->nano_cpus || l->cpu_shares)
		m |= BIT(CG_CPU);
	if (l->cpuset_cpus[0] || l->cpuset_mems[0])
		m |= BIT(CG_CPUSET);
	if (l->pids_limit > 0)
		m |= BIT(CG_PIDS);
	if (mode == CG_V1 && !l->all_devices)
		m |= BIT(CG_DEVICES);
	return m;
}

static int missing(unsigned miss, struct err *e)
{
	static const char *const why[CG_NCTRL] = {
		"-m/--memory", "--cpus/--cpu-shares", "", "--cpuset-cpus/--cpuset-mems", "--pids-limit",
		"the default device restrictions", "",
	};
	int c = __builtin_ctz(miss);
	err_set(e, 0, "cgroup controller \"%s\" is not available on this host (needed for %s)", ctrl_names[c],
		why[c]);
	e->no = EOPNOTSUPP;
	return -EOPNOTSUPP;
}

/* v1 cpuset cgroups start empty: copy cpus/mems from the parent before anything joins. With
 * cgroup.clone_children set on the parent (we set it on ours) the kernel has copied both. */
static int seed_cpuset(const char *from, const char *dir, struct err *e)
{
	static const char *const f[] = { "cpuset.cpus", "cpuset.mems" };
	char v[1024];
	for (int i = 0; i < 2; i++) {
		cg_read(dir, f[i], v, sizeof(v));
		if (v[0])
			continue;
		cg_read(from, f[i], v, sizeof(v));
		if (cg_write(dir, f[i], v, e))
			return -e->no;
	}
	return 0;
}

/* mkdir ROOT/mydocker/id (and ROOT/mydocker first if needed) of hierarchy c; *made says whether
 * id was new. */
static int make_dirs(const struct cg_layout *L, int c, const char *id, int *made, struct err *e)
{
	char root[CG_PATH + 80], par[CG_PATH + 80], dir[CG_PATH + 80], v[8];
	int cpuset = L->mode == CG_V1 && c == CG_CPUSET;
	cg_dir(L, c, NULL, par);
	cg_dir(L, c, id, dir);
	snprintf(root, sizeof(root), "%s", L->mode == CG_V2 ? L->v2 : L->v1[c]);
	int r = mkdir(dir, 0755) ? -errno : 0;
	if (r == -ENOENT) {
		if (mkdir(par, 0755) && errno != EEXIST)
			return err_set(e, errno, "mkdir %s", par);
		if (cpuset && (seed_cpuset(root, par, e) || cg_write(par, "cgroup.clone_children", "1", e)))
			return -e->no;
		r = mkdir(dir, 0755) ? -errno : 0;
	}
	if (r && r != -EEXIST)
		return err_set(e, -r, "mkdir %s", dir);
	*made = !r;
	if (!cpuset)
		return 0;
	/* a new one: the kernel copied cpus and mems if the parent clones (it has cpus then) */
	if (!r && (cg_read(dir, "cpuset.cpus", v, sizeof(v)), v[0]))
		return 0;
	if (seed_cpuset(par, dir, e))
		return -e->no;
	/* a parent made before it cloned: from now on it does */
	return !r ? cg_write(par, "cgroup.clone_children", "1", e) : 0;
}

static int write_devices(const char *dir, struct err *e)
{
	if (cg_write(dir, "devices.deny", "a", e) ||
	    cg_write_each(dir, "devices.allow", dev_allow, ARRAY_SIZE(dev_allow), e))
		return -e->no;
	return 0;
}

#define W(c, file, ...) (cg_dir(L, c, id, d), cg_writef(d, file, e, __VA_ARGS__))

static int v1_limits(const struct cg_layout *L, const char *id, const struct cg_limits *l, struct err *e)
{
	char d[CG_PATH + 80];
	int64_t swap = cg_swap_total(l);
	if (l->memory && W(CG_MEMORY, "memory.limit_in_bytes", "%lld", (long long)l->memory))
		return -e->no;
	/* memsw exists only with swap accounting; without it swap cannot be limited (docker warns) */
	if (l->memory && swap && W(CG_MEMORY, "memory.memsw.limit_in_bytes", "%lld", (long long)swap) &&
	    e->no != ENOENT)
		return -e->no;
	if (l->nano_cpus && (W(CG_CPU, "cpu.cfs_period_us", "%d", CG_CPU_PERIOD) ||
			     W(CG_CPU, "cpu.cfs_quota_us", "%lld", (long long)(l->nano_cpus * CG_CPU_PERIOD / 1000000000))))
		return -e->no;
	if (l->cpu_shares && W(CG_CPU, "cpu.shares", "%lld", (long long)l->cpu_shares))
		return -e->no;
	if (l->cpuset_cpus[0] && W(CG_CPUSET, "cpuset.cpus", "%s", l->cpuset_cpus))
		return -e->no;
	if (l->cpuset_mems[0] && W(CG_CPUSET, "cpuset.mems", "%s", l->cpuset_mems))
		return -e->no;
	if (l->pids_limit > 0 && W(CG_PIDS, "pids.max", "%lld", (long long)l->pids_limit))
		return -e->no;
	if (!l->all_devices && (cg_dir(L, CG_DEVICES, id, d), write_devices(d, e)))
		return -e->no;
	return 0;
}

static int v2_limits(const struct cg_layout *L, const char *id, const struct cg_limits *l, struct err *e)
{
	char d[CG_PATH + 80];
	int64_t swap = cg_swap_total(l);
	if (l->memory && W(CG_MEMORY, "memory.max", "%lld", (long long)l->memory))
		return -e->no;
	if (l->memory && swap && (swap < 0 ? W(CG_MEMORY, "memory.swap.max", "max") :
			W(CG_MEMORY, "memory.swap.max", "%lld", (long long)(swap - l->memory))) && e->no != ENOENT)
		return -e->no;
	if (l->nano_cpus && W(CG_CPU, "cpu.max", "%lld %d",
			      (long long)(l->nano_cpus * CG_CPU_PERIOD / 1000000000), CG_CPU_PERIOD))
		return -e->no;
	if (l->cpu_shares && W(CG_CPU, "cpu.weight", "%llu",
			       (unsigned long long)cg_shares_to_weight(l->cpu_shares)))
		return -e->no;
	if (l->cpuset_cpus[0] && W(CG_CPUSET, "cpuset.cpus", "%s", l->cpuset_cpus))
		return -e->no;
	if (l->cpuset_mems[0] && W(CG_CPUSET, "cpuset.mems", "%s", l->cpuset_mems))
		return -e->no;
	if (l->pids_limit > 0 && W(CG_PIDS, "pids.max", "%lld", (long long)l->pids_limit))
		return -e->no;
	return 0;
}

/* Enable ctrls in dir/cgroup.subtree_control ("+memory +pids"). */
static int v2_enable(const char *dir, unsigned ctrls, struct err *e)
{
	char v[128] = "";
	for (int c = 0; c < CG_NCTRL; c++)
		if (ctrls & BIT(c))
			snprintf(v + strlen(v), sizeof(v) - strlen(v), "%s+%s", v[0] ? " " : "", ctrl_names[c]);
	if (!v[0] || !cg_write(dir, "cgroup.subtree_control", v, e))
		return 0;
	if (e->no == EBUSY)
		err_wrap(e, "no-internal-processes rule: %s holds processes", dir);
	return -e->no;
}

static int v2_create(const struct cg_layout *L, const char *id, const struct cg_limits *l, int *made,
		     struct err *e)
{
	char par[CG_PATH + 80];
	unsigned ctrls = needs(l, CG_V2) | (L->have & (BIT(CG_MEMORY) | BIT(CG_PIDS)));
	cg_dir(L, 0, NULL, par);
	if (v2_enable(L->v2, ctrls, e) || make_dirs(L, 0, id, made, e) || v2_enable(par, ctrls, e))
		return -e->no;
	return 0;
}

int cg_create(const char *id, const struct cg_limits *l, struct err *e)
{
	const struct cg_layout *L;
	int hs[CG_NCTRL], nh, made[CG_NCTRL] = { 0 }, r = 0;
	if (!name_valid(id))
		return err_set(e, EINVAL, "cgroup name \"%s\"", id);
	if (cg_layout(&L, e))
		return -e->no;
	unsigned miss = needs(l, L->mode) & ~L->have;
	if (miss)
		return missing(miss, e);
	if (L->mode == CG_NONE)
		return 0;
	nh = hierarchies(L, hs);
	if (L->mode == CG_V2)
		r = v2_create(L, id, l, &made[0], e);
	for (int i = 0; L->mode == CG_V1 && i < nh && !r; i++)
		r = make_dirs(L, hs[i], id, &made[i], e);
	if (!r)
		r = L->mode == CG_V2 ? v2_limits(L, id, l, e) : v1_limits(L, id, l, e);
	if (!r && L->mode == CG_V2 && !l->all_devices) {
		char d[CG_PATH + 80];
		cg_dir(L, 0, id, d);
		r = cg_devices_bpf(d, e);
	}
	for (int i = 0; r && i < nh; i++) {
		char d[CG_PATH + 80];
		cg_dir(L, hs[i], id, d);
		if (made[i])
			cg_rmdir(d);
	}
	return r;
}

int cg_enter(const char *id, pid_t pid, struct err *e)
{
	const struct cg_layout *L;
	int hs[CG_NCTRL], nh;
	char d[CG_PATH + 80];
	if (!name_valid(id))
		return err_set(e, EINVAL, "cgroup name \"%s\"", id);
	if (cg_layout(&L, e))
		return -e->no;
	nh = L->mode == CG_NONE ? 0 : hierarchies(L, hs);
	for (int i = 0; i < nh; i++) {
		cg_dir(L, hs[i], id, d);
		if (cg_writef(d, "cgroup.procs", e, "%d", (int)pid))
			return -e->no;
	}
	return 0;
}

int cg_open_procs(const char *id, int fds[CG_NCTRL], struct err *e)
{
	const struct cg_layout *L;
	int hs[CG_NCTRL], nh;
	char d[CG_PATH + 96];
	if (!name_valid(id))
		return err_set(e, EINVAL, "cgroup name \"%s\"", id);
	if (cg_layout(&L, e))
		return -e->no;
	nh = L->mode == CG_NONE ? 0 : hierarchies(L, hs);
	for (int i = 0; i < nh; i++) {
		cg_dir(L, hs[i], id, d);
		strcat(d, "/cgroup.procs");
		if ((fds[i] = openat(AT_FDCWD, d, O_WRONLY | O_CLOEXEC | (base[0] ? O_APPEND : 0))) < 0) {
			int r = err_set(e, errno, "open %s", d);
			while (i--)
				close(fds[i]);
			return r;
		}
	}
	return nh;
}

int cg_join(int *fds, int n, struct err *e)
{
	int r = 0;
	for (int i = 0; i < n; i++) {
		/* "0": the writing process itself, whatever PID namespace it is in now */
		if (!r && write(fds[i], "0\n", 2) != 2)
			r = err_set(e, errno, "join the container's cgroup");
		close(fds[i]);
	}
	return r;
}

int cg_remove(const char *id, struct err *e)
{
	const struct cg_layout *L;
	int hs[CG_NCTRL], nh, r = 0;
	char d[CG_PATH + 80];
	if (!name_valid(id))
		return err_set(e, EINVAL, "cgroup name \"%s\"", id);
	if (cg_layout(&L, e))
		return -e->no;
	nh = L->mode == CG_NONE ? 0 : hierarchies(L, hs);
	for (int i = 0; i < nh; i++) {
		cg_dir(L, hs[i], id, d);
		int q = cg_rmdir(d);
		if (q && !r)
			r = err_set(e, -q, "remove cgroup %s", d);
	}
	return r;
}

int cg_stats(const char *id, struct cg_stats *s, struct err *e)
{
	const struct cg_layout *L;
	char d[CG_PATH + 80];
	memset(s, 0, sizeof(*s));
	s->pids = -1;
	if (!name_valid(id))
		return err_set(e, EINVAL, "cgroup name \"%s\"", id);
	if (cg_layout(&L, e))
		return -e->no;
	int v2 = L->mode == CG_V2;
	if (L->have & BIT(CG_MEMORY)) {
		cg_dir(L, CG_MEMORY, id, d);
		int64_t u = cg_num(d, v2 ? "memory.current" : "memory.usage_in_bytes");
		int64_t inact = cg_key(d, "memory.stat", v2 ? "inactive_file" : "total_inactive_file");
		if (u < 0)
			return err_set(e, ENOENT, "cgroup %s", d);
		s->mem_usage = inact > 0 && inact < u ? u - inact : u;
		s->mem_limit = cg_num(d, v2 ? "memory.max" : "memory.limit_in_bytes");
		if (s->mem_limit < 0 || s->mem_limit >= (1ll << 62))
			s->mem_limit = 0;
		s->oom_kills = cg_key(d, v2 ? "memory.events" : "memory.oom_control", "oom_kill");
		if (s->oom_kills < 0 && !v2)	/* kernels before 4.13: the limit was hit at least */
			s->oom_kills = cg_num(d, "memory.failcnt") > 0;
		if (s->oom_kills < 0)
			s->oom_kills = 0;
	}
	if (L->have & BIT(CG_PIDS)) {
		cg_dir(L, CG_PIDS, id, d);
		s->pids = cg_num(d, "pids.current");
		s->pids_limit = cg_num(d, "pids.max");
		if (s->pids_limit < 0)
			s->pids_limit = 0;
	}
	return 0;
}
