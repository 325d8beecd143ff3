/* secure: capabilities, no_new_privs, masked/read-only paths, cwd check, seccomp (see secure.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include "secure.h"

static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};
#define CAP_ALL 64

int sec_cap_parse(const char *name)
{
	if (!strncasecmp(name, "CAP_", 4))
		name += 4;
	if (!strcasecmp(name, "ALL"))
		return CAP_ALL;
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (!strcasecmp(name, cap_names[i]))
			return (int)i;
	return -EINVAL;
}

/* OR of the caps in list into *m; *all set if "ALL" is there. */
static int cap_list(char *const *list, uint64_t *m, int *all, struct err *e)
{
	*m = 0;
	*all = 0;
	for (; list && *list; list++) {
		int c = sec_cap_parse(*list);
		if (c < 0) {
			err_set(e, 0, "invalid capability \"%s\"", *list);
			return -EINVAL;
		}
		if (c == CAP_ALL)
			*all = 1;
		else
			*m |= 1ull << c;
	}
	return 0;
}

int sec_caps(char *const *add, char *const *drop, uint64_t *keep, struct err *e)
{
	uint64_t a, d;
	int add_all, drop_all;
	if (cap_list(add, &a, &add_all, e) || cap_list(drop, &d, &drop_all, e))
		return -EINVAL;
	if (add_all)
		*keep = ~0ull & ~d;
	else
		*keep = ((drop_all ? 0 : SEC_CAPS_DEFAULT) | a) & ~(drop_all ? 0 : d);
	return 0;
}

int sec_caps_bound(uint64_t keep, struct err *e)
{
	for (int c = 0; c < 64; c++)
		if (!(keep >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0)) {
			if (errno == EINVAL)	/* past the last capability this kernel knows */
				break;
			return err_set(e, errno, "drop capability %d from the bounding set", c);
		}
	return 0;
}

int sec_caps_apply(uint64_t keep, int nnp, struct err *e)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (geteuid())
		keep = 0;	/* docker: a non-root user gets no effective/permitted caps */
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	/* caps the kernel does not know cannot be kept: capset refuses them */
	struct __user_cap_data_struct cur[2];
	if (!syscall(SYS_capget, &h, cur))
		for (int i = 0; i < 2; i++)
			d[i].effective = d[i].permitted &= cur[i].permitted;
	if (syscall(SYS_capset, &h, d))
		return err_set(e, errno, "set capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return err_set(e, errno, "clear ambient capabilities");
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_set(e, errno, "set no_new_privs");
	return 0;
}

/* docker's masked paths; is_dir: what each usually is (the other way is tried when it is not) */
static const struct { const char *path; int is_dir; } masked[] = {
	{ "/proc/acpi", 1 }, { "/proc/asound", 1 }, { "/proc/interrupts", 0 }, { "/proc/kcore", 0 },
	{ "/proc/keys", 0 }, { "/proc/latency_stats", 0 }, { "/proc/sched_debug", 0 }, { "/proc/scsi", 1 },
	{ "/proc/timer_list", 0 }, { "/proc/timer_stats", 0 }, { "/sys/firmware", 1 },
	{ "/sys/devices/virtual/powercap", 1 },
};
static const char *const readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* Over p: an empty read-only tmpfs (a directory) or /dev/null (anything else); nothing if p is
 * absent. Mounting the wrong kind fails with ENOTDIR, and the other is tried. */
static int mask_as(const char *p, int is_dir, struct err *e)
{
	struct stat st;
	for (int i = 0; i < 2; i++, is_dir = !is_dir) {
		if (is_dir && !mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				     "size=0,mode=755"))
			return 0;
		if (!is_dir) {
			if (stat("/dev/null", &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
				return err_set(e, 0, "mask %s: /dev/null is not the null device", p);
			if (!mount("/dev/null", p, NULL, MS_BIND, NULL))
				return 0;
		}
		if (errno == ENOENT)
			return 0;
		if (errno != ENOTDIR)
			break;
	}
	return err_set(e, errno, "mask %s", p);
}

/* Bind p on itself and remount it read-only (skipped if absent). */
static int make_ro(const char *p, int bind, struct err *e)
{
	if (bind && mount(p, p, NULL, MS_BIND | MS_REC, NULL))
		return errno == ENOENT ? 0 : err_set(e, errno, "bind %s", p);
	if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return err_set(e, errno, "remount %s read-only", p);
	return 0;
}

int sec_mask_paths(struct err *e)
{
	struct statvfs v;
	struct stat a, b;
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
		if (mask_as(masked[i].path, masked[i].is_dir, e))
			return -e->no;
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++)
		if (make_ro(readonly[i], 1, e))
			return -e->no;
	if (!statvfs("/sys", &v) && !(v.f_flag & ST_RDONLY) && make_ro("/sys", 0, e))
		return -e->no;
	/* a cgroup filesystem mounted in the container: read-only too */
	if (!stat("/sys", &a) && !stat("/sys/fs/cgroup", &b) && a.st_dev != b.st_dev &&
	    !statvfs("/sys/fs/cgroup", &v) && !(v.f_flag & ST_RDONLY) && make_ro("/sys/fs/cgroup", 1, e))
		return -e->no;
	return 0;
}

int sec_mask(const char *path, struct err *e)
{
	return mask_as(path, 1, e);
}

int sec_ro(const char *path, struct err *e)
{
	return make_ro(path, 1, e);
}

int sec_cwd_check(struct err *e)
{
	char buf[4096];
	long n = syscall(SYS_getcwd, buf, sizeof(buf));
	if (n < 0)
		return err_set(e, errno, "current working directory");
	if (n == 0 || buf[0] != '/')
		return err_set(e, EPERM, "current working directory is outside of the container's root");
	return 0;
}

void sec_nodump(void)
{
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

#if defined(__x86_64__)
#define SEC_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SEC_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp: unknown architecture"
#endif
#define NR(x) SYS_##x,
static const int deny_always[] = {
	NR(keyctl) NR(add_key) NR(request_key) NR(kexec_load) NR(kexec_file_load) NR(open_by_handle_at)
	NR(name_to_handle_at) NR(bpf) NR(perf_event_open) NR(userfaultfd) NR(acct) NR(swapon)
	NR(swapoff) NR(reboot) NR(init_module) NR(finit_module) NR(delete_module) NR(settimeofday)
	NR(clock_settime) NR(clock_adjtime) NR(adjtimex) NR(lookup_dcookie) NR(quotactl) NR(nfsservctl)
#ifdef SYS_iopl
	NR(iopl) NR(ioperm)
#endif
#ifdef SYS_uselib
	NR(uselib) NR(sysfs) NR(ustat) NR(create_module) NR(get_kernel_syms) NR(query_module)
	NR(_sysctl)
#endif
#ifdef SYS_vm86
	NR(vm86) NR(vm86old)
#endif
};
/* docker allows these with CAP_SYS_ADMIN only */
static const int deny_sysadmin[] = {
	NR(mount) NR(umount2) NR(pivot_root) NR(unshare)
#ifdef SYS_fsopen
	NR(fsopen) NR(fsconfig) NR(fsmount) NR(fspick) NR(open_tree) NR(move_mount)
#endif
#ifdef SYS_mount_setattr
	NR(mount_setattr)
#endif
};
#undef NR

#define SC_ERR(no) (SECCOMP_RET_ERRNO | (no))
#define OP(c, k, t, f) do { if (n >= max) return -ENOSPC; f_[n++] = (struct sock_filter)BPF_JUMP(c, k, t, f); } while (0)
#define RET(v) OP(BPF_RET | BPF_K, v, 0, 0)
#define DENY(nr, no) do { OP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(nr), 0, 1); RET(SC_ERR(no)); } while (0)

int sec_seccomp_prog(struct sock_filter *f_, int max, int sysadmin)
{
	int n = 0;
	OP(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
	OP(BPF_JMP | BPF_JEQ | BPF_K, SEC_ARCH, 1, 0);
	RET(SECCOMP_RET_KILL_PROCESS);
	OP(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
#ifdef __x86_64__
	OP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, 0, 1);
	RET(SECCOMP_RET_KILL_PROCESS);
#endif
	for (size_t i = 0; i < ARRAY_SIZE(deny_always); i++)
		DENY(deny_always[i], EPERM);
	if (!sysadmin) {
		for (size_t i = 0; i < ARRAY_SIZE(deny_sysadmin); i++)
			DENY(deny_sysadmin[i], EPERM);
		DENY(SYS_clone3, ENOSYS);
		/* clone's flags are args[0] on both arches; CLONE_NEWUSER is in the low word */
		OP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
		OP(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]), 0, 0);
		OP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER, 0, 1);
		RET(SC_ERR(EPERM));
	}
	RET(SECCOMP_RET_ALLOW);
	return n;
}

int sec_seccomp(int sysadmin, struct err *e)
{
	struct sock_filter f[128];
	int n = sec_seccomp_prog(f, (int)ARRAY_SIZE(f), sysadmin);
	struct sock_fprog prog = { (unsigned short)n, f };
	if (n < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		return err_set(e, n < 0 ? -n : errno, "install the seccomp filter");
	return 0;
}

int sec_seccomp_mode(pid_t pid)
{
	char p[64], buf[4096];
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	int fd = openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC), mode = -1;
	ssize_t r = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (r > 0) {
		buf[r] = 0;
		char *s = strstr(buf, "\nSeccomp:");
		if (s)
			mode = atoi(s + 9);
	}
	return mode;
}
