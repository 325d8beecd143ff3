/* cgroup: per-container resource limits, one interface over two back ends (cgroup v1, v2).
 *
 * The layout is detected from /proc/self/mountinfo and /proc/self/cgroup, never assumed:
 *   v1      per-controller mounts (memory, cpu, cpuacct, cpuset, pids, devices, freezer)
 *   v2      one unified mount whose cgroup.controllers offers the controllers
 *   hybrid  v1 controllers plus a cgroup2 mount without them: the v1 back end is used
 * Each container gets MOUNTPOINT/mydocker/<id> in every hierarchy it uses (v1: every mounted
 * controller of the list above; v2: the unified mount, with the controllers enabled in the
 * parents' cgroup.subtree_control; mydocker/ itself never holds processes, so the
 * no-internal-processes rule holds). The mydocker/ parent is kept (shared by all containers).
 *
 * Limits the host cannot enforce (controller missing) are an error naming the controller.
 * Devices: v1 uses devices.deny/allow; v2 attaches a BPF_PROG_TYPE_CGROUP_DEVICE program.
 * A host with no cgroup hierarchy at all (CG_NONE): create/enter/remove do nothing, so
 * containers without limits still run there, but without the device filter.
 */
#ifndef MYDOCKER_CGROUP_H
#define MYDOCKER_CGROUP_H

#include <stdint.h>
#include <sys/types.h>
#include "util.h"

#define CG_CPU_PERIOD 100000	/* us, docker's --cpus period */
#define CG_MIN_MEMORY (6 << 20)	/* docker refuses less than 6 MiB */

/* Docker's HostConfig subset. 0 means "not set" everywhere. */
struct cg_limits {
	int64_t memory;		/* bytes */
	int64_t memory_swap;	/* memory + swap in bytes, -1 unlimited; unset with memory: 2 * memory */
	int64_t nano_cpus;	/* --cpus * 1e9 -> cpu quota over CG_CPU_PERIOD */
	int64_t cpu_shares;	/* v1 cpu.shares; v2 cpu.weight by docker's conversion */
	int64_t pids_limit;	/* > 0; --pids-limit 0 or -1 (unlimited) store 0 */
	char cpuset_cpus[128];	/* "0-1,3", validated against the online CPUs */
	char cpuset_mems[128];
	int all_devices;	/* --privileged: no device restriction */
};

/* Parsers for docker's flags; bad input: -EINVAL (or -ERANGE) and a message like
 * `invalid memory limit "12x"`. */
int cg_parse_memory(const char *s, int64_t *out, struct err *e);	/* 100m, 1.5g, 512k, 1024 */
int cg_parse_memory_swap(const char *s, int64_t *out, struct err *e);	/* -1 or a size */
int cg_parse_cpus(const char *s, int64_t *nano, struct err *e);	/* 1.5 -> 1500000000 */
int cg_parse_shares(const char *s, int64_t *out, struct err *e);	/* 2..262144 (0 unset) */
int cg_parse_pids(const char *s, int64_t *out, struct err *e);		/* -1/0 -> 0 (unlimited) */
/* cpuset list ("0-1,3"), each CPU (mems: node) online on the host; copied to out. */
int cg_parse_cpuset(const char *s, int mems, char *out, size_t outsz, struct err *e);
/* One run flag: "-m", "--memory", "--memory-swap", "--cpus", "-c", "--cpu-shares", "--cpuset-cpus",
 * "--cpuset-mems", "--pids-limit" (with its value). 0 handled, -ENOENT not a cgroup flag, else error. */
int cg_parse_flag(struct cg_limits *l, const char *flag, const char *val, struct err *e);
/* Cross-field checks after all flags (swap needs memory and >= memory). */
int cg_limits_check(const struct cg_limits *l, struct err *e);
/* Docker's conversion of cpu shares to a v2 weight: 1 + ((shares - 2) * 9999) / 262142. */
uint64_t cg_shares_to_weight(uint64_t shares);
/* memory_swap as written: explicit value, else 2 * memory when memory is set, else 0. */
int64_t cg_swap_total(const struct cg_limits *l);

enum cg_ctrl { CG_MEMORY, CG_CPU, CG_CPUACCT, CG_CPUSET, CG_PIDS, CG_DEVICES, CG_FREEZER, CG_NCTRL };
enum cg_mode { CG_NONE, CG_V1, CG_V2 };
#define CG_PATH 512

struct cg_layout {
	enum cg_mode mode;
	int hybrid;			/* v1 controllers and a cgroup2 mount exist */
	unsigned have;			/* 1 << enum cg_ctrl: controllers usable */
	char v1[CG_NCTRL][CG_PATH];	/* v1: mount point of each controller's hierarchy */
	char v2[CG_PATH];		/* cgroup2 mount point ("" if none) */
	char self2[CG_PATH];		/* our own v2 cgroup ("0::" line of /proc/self/cgroup) */
};

/* Detect from BASE/proc/self/mountinfo and BASE/proc/self/cgroup; mount points get BASE
 * prepended. base "" is the real host. */
int cg_detect(const char *base, struct cg_layout *l, struct err *e);
/* The host's layout (detected once per process). */
int cg_layout(const struct cg_layout **l, struct err *e);
/* "v1", "v2", "hybrid (v1 controllers)", "none" */
const char *cg_mode_str(const struct cg_layout *l);
const char *cg_ctrl_name(enum cg_ctrl c);
/* Test hook: treat BASE as "/" (mountinfo, cgroup files, /sys/devices/system/{cpu,node}/online);
 * file writes then create the files (O_CREAT|O_APPEND) and removal is recursive. NULL resets. */
void cg_set_base(const char *base);
const char *cg_base_path(void);	/* "" or the test base */

/* Use DIR (relative to each hierarchy's root, existing or one level to create) instead of
 * mydocker for the calls below; NULL: mydocker again. For OCI cgroupsPath "/DIR/ID". */
void cg_set_parent(const char *dir);
/* Create mydocker/<id> in every hierarchy and write the limits. Existing dirs are reused (start
 * re-applies the limits); on failure whatever this call created is removed again. */
int cg_create(const char *id, const struct cg_limits *l, struct err *e);
/* v2: attach the device filter program (null zero full random urandom tty ptmx pts only) to
 * the cgroup directory dir. */
int cg_devices_bpf(const char *dir, struct err *e);
/* Move pid into the container's cgroups (cgroup.procs). */
int cg_enter(const char *id, pid_t pid, struct err *e);
/* For joining from another mount namespace (exec): open the container's cgroup.procs files
 * (O_CLOEXEC) into fds; returns how many, or -errno. cg_join moves the calling process into them
 * (writes "0") and closes them. */
int cg_open_procs(const char *id, int fds[CG_NCTRL], struct err *e);
int cg_join(int *fds, int n, struct err *e);
/* Remove the container's cgroups (caller makes sure they are empty; EBUSY is retried ~1 s). */
int cg_remove(const char *id, struct err *e);

struct cg_stats {
	int64_t mem_usage;	/* bytes, page cache of inactive files excluded (as docker stats) */
	int64_t mem_limit;	/* bytes, 0 unlimited */
	int64_t pids;		/* pids.current, -1 unknown */
	int64_t pids_limit;	/* 0 unlimited */
	int64_t oom_kills;	/* OOM kills inside the cgroup (v1 before 4.13: 1 if memory.failcnt > 0) */
};
int cg_stats(const char *id, struct cg_stats *s, struct err *e);

#endif
