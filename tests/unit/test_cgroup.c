/* Unit tests: cgroup flag parsers, layout detection (v1, v2, hybrid) against fake
 * /proc/self/{mountinfo,cgroup}, and the exact file writes of both back ends against a temporary
 * tree that mimics /sys/fs/cgroup (cg_set_base). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"
#include "cgroup.h"
#include "util.h"

static char tmp[64];
#define ID "c0ffee"

/* Write tmp/rel (parents created). */
static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	*strrchr(p, '/') = 0;
	mkdir_p(p, 0755);
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		write_all(fd, text, strlen(text));
		close(fd);
	}
}

/* Contents of tmp/rel, "<missing>" if absent. */
static const char *get(const char *rel)
{
	static struct buf b;
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	if (read_file_at(AT_FDCWD, p, 1 << 20, &b))
		return "<missing>";
	return b.p;
}

static int exists(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	return access(p, F_OK) == 0;
}

static void fresh(void)
{
	if (tmp[0])
		rm_rf(tmp);
	strcpy(tmp, "/tmp/cgunit.XXXXXX");
	if (!mkdtemp(tmp))
		abort();
	put("sys/devices/system/cpu/online", "0-3\n");
	cg_set_base(tmp);
}

#define MI(id, mp, fs, opts) id " 30 0:" id " / " mp " rw,relatime shared:9 - " fs " " fs " rw" opts "\n"

static void fake_v1(int hybrid)
{
	fresh();
	put("proc/self/mountinfo",
	    "22 1 0:21 / /sys rw - sysfs sysfs rw\n"
	    MI("31", "/sys/fs/cgroup/cpu,cpuacct", "cgroup", ",cpu,cpuacct")
	    MI("33", "/sys/fs/cgroup/cpuset", "cgroup", ",cpuset")
	    MI("34", "/sys/fs/cgroup/memory", "cgroup", ",memory")
	    MI("35", "/sys/fs/cgroup/devices", "cgroup", ",devices")
	    MI("36", "/sys/fs/cgroup/freezer", "cgroup", ",freezer")
	    MI("38", "/sys/fs/cgroup/pids", "cgroup", ",pids")
	    MI("39", "/sys/fs/cgroup/systemd", "cgroup", ",xattr,name=systemd")
	    MI("41", "/sys/fs/cgroup/blkio", "cgroup", ",blkio"));
	put("proc/self/cgroup", "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
				"4:memory:/user/1\n3:cpuset:/\n2:cpu,cpuacct:/\n");
	if (hybrid) {
		char mi[4096];
		snprintf(mi, sizeof(mi), "%s" MI("40", "/sys/fs/cgroup/unified", "cgroup2", ""),
			 get("proc/self/mountinfo"));
		put("proc/self/mountinfo", mi);
		snprintf(mi, sizeof(mi), "%s0::/user.slice\n", get("proc/self/cgroup"));
		put("proc/self/cgroup", mi);
		put("sys/fs/cgroup/unified/cgroup.controllers", "");
	}
	const char *roots[] = { "cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "pids", "systemd", "blkio" };
	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		char p[128];
		snprintf(p, sizeof(p), "sys/fs/cgroup/%s/cgroup.procs", roots[i]);
		put(p, "1\n");
	}
	put("sys/fs/cgroup/cpuset/cpuset.cpus", "0-3\n");
	put("sys/fs/cgroup/cpuset/cpuset.mems", "0\n");
	put("sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "9223372036854771712\n");
}

static void fake_v2(const char *controllers)
{
	fresh();
	put("proc/self/mountinfo", "22 1 0:21 / /sys rw - sysfs sysfs rw\n"
				   MI("30", "/sys/fs/cgroup", "cgroup2", ",nsdelegate,memory_recursiveprot"));
	put("proc/self/cgroup", "0::/user.slice/session-1.scope\n");
	put("sys/fs/cgroup/cgroup.controllers", controllers);
	put("sys/fs/cgroup/cgroup.subtree_control", "");
}

TEST(parse_memory)
{
	int64_t v;
	struct err e;
	CHECK(cg_parse_memory("100m", &v, &e) == 0 && v == 100ll << 20);
	CHECK(cg_parse_memory("100M", &v, &e) == 0 && v == 100ll << 20);
	CHECK(cg_parse_memory("1g", &v, &e) == 0 && v == 1ll << 30);
	CHECK(cg_parse_memory("1.5G", &v, &e) == 0 && v == 3ll << 29);
	CHECK(cg_parse_memory("8192k", &v, &e) == 0 && v == 8ll << 20);
	CHECK(cg_parse_memory("8192K", &v, &e) == 0 && v == 8ll << 20);
	CHECK(cg_parse_memory("10mb", &v, &e) == 0 && v == 10ll << 20);
	CHECK(cg_parse_memory("10MiB", &v, &e) == 0 && v == 10ll << 20);
	CHECK(cg_parse_memory("1t", &v, &e) == 0 && v == 1ll << 40);
	CHECK(cg_parse_memory("7340032", &v, &e) == 0 && v == 7340032);
	CHECK(cg_parse_memory("7340032b", &v, &e) == 0 && v == 7340032);
	CHECK(cg_parse_memory("0", &v, &e) == 0 && v == 0);
	CHECK(cg_parse_memory("12x", &v, &e) == -EINVAL);
	CHECK_STR(e.msg, "invalid memory limit \"12x\": Invalid argument");
	CHECK(cg_parse_memory("5m", &v, &e) == -EINVAL);
	CHECK(strstr(e.msg, "minimum is 6MiB") != NULL);
	CHECK(cg_parse_memory("6m", &v, &e) == 0);
	const char *bad[] = { "", "m", "-1", "1..5m", "1.m", "1e9", "10 m", "1mm", "99999999999999999999", "9999999999t" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(cg_parse_memory(bad[i], &v, &e) < 0);
	CHECK(cg_parse_memory_swap("-1", &v, &e) == 0 && v == -1);
	CHECK(cg_parse_memory_swap("1g", &v, &e) == 0 && v == 1ll << 30);
	CHECK(cg_parse_memory_swap("-2", &v, &e) < 0);
}

TEST(parse_cpu)
{
	int64_t v;
	struct err e;
	fresh();	/* 4 online CPUs */
	CHECK(cg_parse_cpus("1.5", &v, &e) == 0 && v == 1500000000);
	CHECK(cg_parse_cpus("0.01", &v, &e) == 0 && v == 10000000);
	CHECK(cg_parse_cpus("4", &v, &e) == 0 && v == 4000000000);
	CHECK(cg_parse_cpus("0", &v, &e) == 0 && v == 0);
	CHECK(cg_parse_cpus("4.5", &v, &e) == -EINVAL);
	CHECK(cg_parse_cpus("0.001", &v, &e) == -EINVAL);
	CHECK(cg_parse_cpus("-1", &v, &e) == -EINVAL);
	CHECK_STR(e.msg, "invalid --cpus value \"-1\": the range is 0.01 to 4");
	CHECK(cg_parse_cpus("abc", &v, &e) == -EINVAL);
	CHECK(cg_parse_shares("1024", &v, &e) == 0 && v == 1024);
	CHECK(cg_parse_shares("1", &v, &e) == -EINVAL);
	CHECK(cg_parse_shares("262145", &v, &e) == -EINVAL);
	CHECK(cg_parse_shares("x", &v, &e) == -EINVAL);
	/* docker's conversion (runc ConvertCPUSharesToCgroupV2Value) */
	CHECK(cg_shares_to_weight(0) == 0);
	CHECK(cg_shares_to_weight(2) == 1);
	CHECK(cg_shares_to_weight(1024) == 39);
	CHECK(cg_shares_to_weight(512) == 20);
	CHECK(cg_shares_to_weight(262144) == 10000);
	CHECK(cg_parse_pids("20", &v, &e) == 0 && v == 20);
	CHECK(cg_parse_pids("-1", &v, &e) == 0 && v == 0);
	CHECK(cg_parse_pids("0", &v, &e) == 0 && v == 0);
	CHECK(cg_parse_pids("-2", &v, &e) == -EINVAL);
	CHECK(cg_parse_pids("2x", &v, &e) == -EINVAL);
}

TEST(parse_cpuset)
{
	char out[64];
	struct err e;
	fresh();	/* CPUs 0-3, no node file: node 0 */
	CHECK(cg_parse_cpuset("0-1,3", 0, out, sizeof(out), &e) == 0);
	CHECK_STR(out, "0-1,3");
	CHECK(cg_parse_cpuset("2", 0, out, sizeof(out), &e) == 0);
	CHECK(cg_parse_cpuset("0-3", 0, out, sizeof(out), &e) == 0);
	CHECK(cg_parse_cpuset("99", 0, out, sizeof(out), &e) == -EINVAL);
	CHECK_STR(e.msg, "invalid --cpuset-cpus \"99\": CPU 99 is not available (online: 0-3)");
	const char *bad[] = { "", "a", "1-", "-1", "3-1", "0,", ",0", "0,,1", "0-1-2", "0 1", "5000" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(cg_parse_cpuset(bad[i], 0, out, sizeof(out), &e) == -EINVAL);
	CHECK(cg_parse_cpuset("0", 1, out, sizeof(out), &e) == 0);
	CHECK(cg_parse_cpuset("1", 1, out, sizeof(out), &e) == -EINVAL);
	put("sys/devices/system/node/online", "0-1\n");
	CHECK(cg_parse_cpuset("1", 1, out, sizeof(out), &e) == 0);
}

TEST(parse_flags)
{
	struct cg_limits l = { 0 };
	struct err e;
	fresh();
	CHECK(cg_parse_flag(&l, "-m", "64m", &e) == 0 && l.memory == 64 << 20);
	CHECK(cg_parse_flag(&l, "--memory-swap", "128m", &e) == 0 && l.memory_swap == 128 << 20);
	CHECK(cg_parse_flag(&l, "--cpus", "0.5", &e) == 0 && l.nano_cpus == 500000000);
	CHECK(cg_parse_flag(&l, "--cpu-shares", "512", &e) == 0 && l.cpu_shares == 512);
	CHECK(cg_parse_flag(&l, "--cpuset-cpus", "1", &e) == 0);
	CHECK(cg_parse_flag(&l, "--pids-limit", "20", &e) == 0 && l.pids_limit == 20);
	CHECK(cg_parse_flag(&l, "--name", "x", &e) == -ENOENT);
	CHECK(cg_limits_check(&l, &e) == 0);
	l.memory_swap = 32 << 20;
	CHECK(cg_limits_check(&l, &e) == -EINVAL);
	l.memory = 0;
	CHECK(cg_limits_check(&l, &e) == -EINVAL);
	l.memory_swap = -1;
	CHECK(cg_limits_check(&l, &e) == 0);
	struct cg_limits m = { .memory = 10 << 20 };
	CHECK(cg_swap_total(&m) == 20 << 20);
	m.memory_swap = -1;
	CHECK(cg_swap_total(&m) == -1);
}

TEST(detect_v1)
{
	struct cg_layout l;
	struct err e;
	char want[256];
	fake_v1(0);
	CHECK(cg_detect(tmp, &l, &e) == 0);
	CHECK(l.mode == CG_V1 && !l.hybrid);
	CHECK_STR(cg_mode_str(&l), "v1");
	snprintf(want, sizeof(want), "%s/sys/fs/cgroup/memory", tmp);
	CHECK_STR(l.v1[CG_MEMORY], want);
	snprintf(want, sizeof(want), "%s/sys/fs/cgroup/cpu,cpuacct", tmp);
	CHECK_STR(l.v1[CG_CPU], want);
	CHECK_STR(l.v1[CG_CPUACCT], want);
	CHECK(l.have == (1u << CG_NCTRL) - 1);
	CHECK(l.v2[0] == 0);
}

TEST(detect_hybrid)
{
	struct cg_layout l;
	struct err e;
	fake_v1(1);
	CHECK(cg_detect(tmp, &l, &e) == 0);
	CHECK(l.mode == CG_V1 && l.hybrid);
	CHECK_STR(cg_mode_str(&l), "hybrid (v1 controllers)");
	CHECK(strstr(l.v2, "/sys/fs/cgroup/unified") != NULL);
	CHECK_STR(l.self2, "/user.slice");
}

TEST(detect_v2)
{
	struct cg_layout l;
	struct err e;
	fake_v2("cpuset cpu io memory hugetlb pids rdma misc\n");
	CHECK(cg_detect(tmp, &l, &e) == 0);
	CHECK(l.mode == CG_V2);
	CHECK_STR(cg_mode_str(&l), "v2");
	CHECK(l.have == (1u << CG_CPUSET | 1u << CG_CPU | 1u << CG_MEMORY | 1u << CG_PIDS));
	CHECK_STR(l.self2, "/user.slice/session-1.scope");
}

TEST(detect_edge)
{
	struct cg_layout l;
	struct err e;
	/* an escaped mount point; a stale v1 mount we are not in; no cgroups at all */
	fresh();
	put("proc/self/mountinfo", MI("34", "/cg\\040mem", "cgroup", ",memory")
				   MI("35", "/sys/fs/cgroup/pids", "cgroup", ",pids"));
	put("proc/self/cgroup", "4:memory:/\n");
	CHECK(cg_detect(tmp, &l, &e) == 0);
	CHECK(l.mode == CG_V1 && l.have == 1u << CG_MEMORY);
	CHECK(strstr(l.v1[CG_MEMORY], "/cg mem") != NULL);
	CHECK(l.v1[CG_PIDS][0] == 0);
	put("proc/self/mountinfo", "22 1 0:21 / /sys rw - sysfs sysfs rw\n");
	put("proc/self/cgroup", "");
	CHECK(cg_detect(tmp, &l, &e) == 0 && l.mode == CG_NONE);
	CHECK_STR(cg_mode_str(&l), "none");
	rm_rf(tmp);
	CHECK(cg_detect(tmp, &l, &e) == -ENOENT);
	CHECK(strstr(e.msg, "mountinfo") != NULL);
}

static struct cg_limits all_limits(void)
{
	struct cg_limits l = {
		.memory = 100 << 20, .nano_cpus = 1500000000, .cpu_shares = 512, .pids_limit = 20,
		.cpuset_cpus = "1", .cpuset_mems = "0",
	};
	return l;
}

TEST(v1_writes)
{
	struct cg_limits l = all_limits();
	struct err e;
	struct cg_stats s;
	fake_v1(1);
	CHECK(cg_create(ID, &l, &e) == 0);
	CHECK_STR(get("sys/fs/cgroup/memory/mydocker/" ID "/memory.limit_in_bytes"), "104857600\n");
	CHECK_STR(get("sys/fs/cgroup/memory/mydocker/" ID "/memory.memsw.limit_in_bytes"), "209715200\n");
	CHECK_STR(get("sys/fs/cgroup/cpu,cpuacct/mydocker/" ID "/cpu.cfs_period_us"), "100000\n");
	CHECK_STR(get("sys/fs/cgroup/cpu,cpuacct/mydocker/" ID "/cpu.cfs_quota_us"), "150000\n");
	CHECK_STR(get("sys/fs/cgroup/cpu,cpuacct/mydocker/" ID "/cpu.shares"), "512\n");
	/* seeded from the parent first, then the limit */
	CHECK_STR(get("sys/fs/cgroup/cpuset/mydocker/cpuset.cpus"), "0-3\n");
	CHECK_STR(get("sys/fs/cgroup/cpuset/mydocker/cpuset.mems"), "0\n");
	CHECK_STR(get("sys/fs/cgroup/cpuset/mydocker/" ID "/cpuset.cpus"), "0-3\n1\n");
	CHECK_STR(get("sys/fs/cgroup/cpuset/mydocker/" ID "/cpuset.mems"), "0\n0\n");
	CHECK_STR(get("sys/fs/cgroup/pids/mydocker/" ID "/pids.max"), "20\n");
	CHECK_STR(get("sys/fs/cgroup/devices/mydocker/" ID "/devices.deny"), "a\n");
	CHECK_STR(get("sys/fs/cgroup/devices/mydocker/" ID "/devices.allow"),
		  "c 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:2 rwm\nc 136:* rwm\n");
	CHECK(exists("sys/fs/cgroup/freezer/mydocker/" ID));
	CHECK(!exists("sys/fs/cgroup/blkio/mydocker"));
	CHECK(!exists("sys/fs/cgroup/systemd/mydocker"));
	CHECK(!exists("sys/fs/cgroup/unified/mydocker"));

	CHECK(cg_enter(ID, 4242, &e) == 0);
	CHECK_STR(get("sys/fs/cgroup/memory/mydocker/" ID "/cgroup.procs"), "4242\n");
	CHECK_STR(get("sys/fs/cgroup/cpu,cpuacct/mydocker/" ID "/cgroup.procs"), "4242\n");
	CHECK_STR(get("sys/fs/cgroup/devices/mydocker/" ID "/cgroup.procs"), "4242\n");
	int fds[CG_NCTRL], n = cg_open_procs(ID, fds, &e);
	CHECK(n == 6);	/* memory, cpu+cpuacct, cpuset, pids, devices, freezer */
	CHECK(cg_join(fds, n, &e) == 0);
	CHECK_STR(get("sys/fs/cgroup/pids/mydocker/" ID "/cgroup.procs"), "4242\n0\n");
	CHECK(cg_open_procs("nothere", fds, &e) == -ENOENT);

	put("sys/fs/cgroup/memory/mydocker/" ID "/memory.usage_in_bytes", "5000000\n");
	put("sys/fs/cgroup/memory/mydocker/" ID "/memory.stat", "cache 1\ntotal_inactive_file 1000000\n");
	put("sys/fs/cgroup/memory/mydocker/" ID "/memory.limit_in_bytes", "104857600\n");
	put("sys/fs/cgroup/memory/mydocker/" ID "/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
	put("sys/fs/cgroup/pids/mydocker/" ID "/pids.current", "3\n");
	CHECK(cg_stats(ID, &s, &e) == 0);
	CHECK(s.mem_usage == 4000000 && s.mem_limit == 104857600 && s.oom_kills == 1);
	CHECK(s.pids == 3 && s.pids_limit == 20);

	CHECK(cg_remove(ID, &e) == 0);
	CHECK(!exists("sys/fs/cgroup/memory/mydocker/" ID));
	CHECK(!exists("sys/fs/cgroup/cpu,cpuacct/mydocker/" ID));
	CHECK(!exists("sys/fs/cgroup/devices/mydocker/" ID));
	CHECK(exists("sys/fs/cgroup/memory/mydocker"));
	CHECK(cg_remove(ID, &e) == 0);	/* idempotent */
}

TEST(v1_privileged_and_minimal)
{
	struct cg_limits l = { .all_devices = 1, .memory = 8 << 20, .memory_swap = -1 };
	struct err e;
	fake_v1(0);
	CHECK(cg_create(ID, &l, &e) == 0);
	CHECK(!exists("sys/fs/cgroup/devices/mydocker/" ID "/devices.deny"));
	CHECK_STR(get("sys/fs/cgroup/memory/mydocker/" ID "/memory.memsw.limit_in_bytes"), "-1\n");
	CHECK(!exists("sys/fs/cgroup/pids/mydocker/" ID "/pids.max"));
	CHECK(!exists("sys/fs/cgroup/cpu,cpuacct/mydocker/" ID "/cpu.shares"));
	CHECK(cg_create("../x", &l, &e) == -EINVAL);
}

TEST(v1_failure_cleans_up)
{
	struct cg_limits l = all_limits();
	struct err e;
	fake_v1(0);
	/* devices comes after memory and cpu: its mydocker/ is a file, so mkdir fails there */
	put("sys/fs/cgroup/devices/mydocker", "");
	CHECK(cg_create(ID, &l, &e) == -ENOTDIR);
	CHECK(strstr(e.msg, "devices/mydocker/" ID) != NULL);
	CHECK(!exists("sys/fs/cgroup/memory/mydocker/" ID));
	CHECK(!exists("sys/fs/cgroup/cpu,cpuacct/mydocker/" ID));
	CHECK(!exists("sys/fs/cgroup/pids/mydocker/" ID));
	/* a dir that existed before (start re-applying limits) is kept on failure */
	put("sys/fs/cgroup/memory/mydocker/" ID "/cgroup.procs", "");
	CHECK(cg_create(ID, &l, &e) == -ENOTDIR);
	CHECK(exists("sys/fs/cgroup/memory/mydocker/" ID));
}

TEST(v1_missing_controller)
{
	struct cg_limits l = { .pids_limit = 10 };
	struct err e;
	fresh();
	put("proc/self/mountinfo", MI("34", "/sys/fs/cgroup/memory", "cgroup", ",memory")
				   MI("35", "/sys/fs/cgroup/devices", "cgroup", ",devices"));
	put("proc/self/cgroup", "4:memory:/\n5:devices:/\n");
	put("sys/fs/cgroup/memory/cgroup.procs", "");
	put("sys/fs/cgroup/devices/cgroup.procs", "");
	CHECK(cg_create(ID, &l, &e) == -EOPNOTSUPP);
	CHECK_STR(e.msg, "cgroup controller \"pids\" is not available on this host (needed for --pids-limit)");
	CHECK(!exists("sys/fs/cgroup/memory/mydocker"));
	l.pids_limit = 0;
	CHECK(cg_create(ID, &l, &e) == 0);
	CHECK(exists("sys/fs/cgroup/memory/mydocker/" ID));
}

TEST(v2_writes)
{
	struct cg_limits l = all_limits();
	struct err e;
	struct cg_stats s;
	fake_v2("cpuset cpu io memory hugetlb pids rdma misc\n");
	CHECK(cg_create(ID, &l, &e) == 0);
	CHECK_STR(get("sys/fs/cgroup/cgroup.subtree_control"), "+memory +cpu +cpuset +pids\n");
	CHECK_STR(get("sys/fs/cgroup/mydocker/cgroup.subtree_control"), "+memory +cpu +cpuset +pids\n");
	CHECK(!exists("sys/fs/cgroup/mydocker/" ID "/cgroup.subtree_control"));	/* leaf: holds the processes */
	CHECK_STR(get("sys/fs/cgroup/mydocker/" ID "/memory.max"), "104857600\n");
	CHECK_STR(get("sys/fs/cgroup/mydocker/" ID "/memory.swap.max"), "104857600\n");
	CHECK_STR(get("sys/fs/cgroup/mydocker/" ID "/cpu.max"), "150000 100000\n");
	CHECK_STR(get("sys/fs/cgroup/mydocker/" ID "/cpu.weight"), "20\n");
	CHECK_STR(get("sys/fs/cgroup/mydocker/" ID "/cpuset.cpus"), "1\n");
	CHECK_STR(get("sys/fs/cgroup/mydocker/" ID "/cpuset.mems"), "0\n");
	CHECK_STR(get("sys/fs/cgroup/mydocker/" ID "/pids.max"), "20\n");
	CHECK(!exists("sys/fs/cgroup/mydocker/" ID "/devices.deny"));
	CHECK(cg_enter(ID, 77, &e) == 0);
	CHECK_STR(get("sys/fs/cgroup/mydocker/" ID "/cgroup.procs"), "77\n");

	put("sys/fs/cgroup/mydocker/" ID "/memory.current", "3000\n");
	put("sys/fs/cgroup/mydocker/" ID "/memory.stat", "anon 1\ninactive_file 1000\n");
	put("sys/fs/cgroup/mydocker/" ID "/memory.max", "max\n");
	put("sys/fs/cgroup/mydocker/" ID "/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 2\n");
	put("sys/fs/cgroup/mydocker/" ID "/pids.current", "5\n");
	put("sys/fs/cgroup/mydocker/" ID "/pids.max", "max\n");
	CHECK(cg_stats(ID, &s, &e) == 0);
	CHECK(s.mem_usage == 2000 && s.mem_limit == 0 && s.oom_kills == 2 && s.pids == 5 && s.pids_limit == 0);
	CHECK(cg_remove(ID, &e) == 0);
	CHECK(!exists("sys/fs/cgroup/mydocker/" ID));
	CHECK(cg_stats(ID, &s, &e) < 0);
}

TEST(v2_minimal_and_missing)
{
	struct cg_limits l = { .memory = 64 << 20, .memory_swap = -1 };
	struct err e;
	fake_v2("memory\n");
	CHECK(cg_create(ID, &l, &e) == 0);
	CHECK_STR(get("sys/fs/cgroup/cgroup.subtree_control"), "+memory\n");
	CHECK_STR(get("sys/fs/cgroup/mydocker/" ID "/memory.swap.max"), "max\n");
	CHECK(!exists("sys/fs/cgroup/mydocker/" ID "/cpu.max"));
	struct cg_limits c = { .nano_cpus = 1000000000 };
	CHECK(cg_create("other", &c, &e) == -EOPNOTSUPP);
	CHECK(strstr(e.msg, "\"cpu\"") != NULL);
	CHECK(!exists("sys/fs/cgroup/mydocker/other"));
	struct cg_limits s = { .cpuset_cpus = "0" };
	CHECK(cg_create("other", &s, &e) == -EOPNOTSUPP);
	CHECK(strstr(e.msg, "\"cpuset\"") != NULL);
}

/* The v2 device program on the real kernel, in this host's cgroup2 mount (on a hybrid host too):
 * a child in the filtered cgroup may open /dev/null but not a block or 1:1 node made for it. */
TEST(bpf_device_filter_real)
{
	struct cg_layout l;
	struct err e;
	char d[600], nodes[64] = "/tmp/cgbpf.XXXXXX", blk[96], mem[96];
	cg_set_base(NULL);
	if (geteuid() || cg_detect("", &l, &e) || !l.v2[0]) {
		SKIP("needs root and a cgroup2 mount");
		return;
	}
	snprintf(d, sizeof(d), "%s/mdunit-%d", l.v2, (int)getpid());
	CHECK(mkdtemp(nodes) != NULL);
	snprintf(blk, sizeof(blk), "%s/sda", nodes);
	snprintf(mem, sizeof(mem), "%s/mem", nodes);
	CHECK(mknod(blk, S_IFBLK | 0600, makedev(8, 0)) == 0 && mknod(mem, S_IFCHR | 0600, makedev(1, 1)) == 0);
	CHECK(mkdir(d, 0755) == 0);
	int r = cg_devices_bpf(d, &e);
	if (r == -ENOSYS) {	/* e.g. under qemu-user, which does not pass bpf(2) through */
		SKIP("no bpf(2) here: %s", e.msg);
		rmdir(d);
		unlink(blk);
		unlink(mem);
		rmdir(nodes);
		return;
	}
	CHECK(r == 0);
	pid_t p = fork();
	if (p == 0) {
		char procs[640];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", d);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(9);
		close(fd);
		int ok = open("/dev/null", O_RDWR) >= 0 && open("/dev/urandom", O_RDONLY) >= 0;
		int blocked = open(blk, O_RDONLY) < 0 && errno == EPERM && open(mem, O_RDONLY) < 0 && errno == EPERM;
		blocked &= mknod("/tmp/cgbpf-never", S_IFCHR | 0600, makedev(1, 1)) < 0;
		_exit(ok && blocked ? 0 : 1);
	}
	int st = 0;
	waitpid(p, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(rmdir(d) == 0);
	unlink(blk);
	unlink(mem);
	rmdir(nodes);
}

int main(void)
{
	RUN(parse_memory);
	RUN(parse_cpu);
	RUN(parse_cpuset);
	RUN(parse_flags);
	RUN(detect_v1);
	RUN(detect_hybrid);
	RUN(detect_v2);
	RUN(detect_edge);
	RUN(v1_writes);
	RUN(v1_privileged_and_minimal);
	RUN(v1_failure_cleans_up);
	RUN(v1_missing_controller);
	RUN(v2_writes);
	RUN(v2_minimal_and_missing);
	RUN(bpf_device_filter_real);
	if (tmp[0])
		rm_rf(tmp);
	return UNIT_END();
}
