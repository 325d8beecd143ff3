/* secure: capabilities, no_new_privs, masked/read-only paths, cwd check (see secure.h). */
#define _GNU_SOURCE
#include <errno.h>
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
#include <linux/capability.h>
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
		if (!(keep >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL)
			return err_set(e, errno, "drop capability %d from the bounding set", c);
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

static const char *const masked[] = {
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
	"/proc/timer_stats", "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static int mask(const char *p, struct err *e)
{
	struct stat st;
	if (lstat(p, &st))
		return errno == ENOENT ? 0 : err_set(e, errno, "mask %s", p);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=755"))
			return err_set(e, errno, "mask %s", p);
		return 0;
	}
	if (stat("/dev/null", &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		return err_set(e, 0, "mask %s: /dev/null is not the null device", p);
	if (mount("/dev/null", p, NULL, MS_BIND, NULL))
		return err_set(e, errno, "mask %s", p);
	return 0;
}

/* Bind p on itself and remount it read-only (skipped if absent). */
static int make_ro(const char *p, int bind, struct err *e)
{
	if (access(p, F_OK))
		return errno == ENOENT ? 0 : err_set(e, errno, "read-only %s", p);
	if (bind && mount(p, p, NULL, MS_BIND | MS_REC, NULL))
		return err_set(e, errno, "bind %s", p);
	if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return err_set(e, errno, "remount %s read-only", p);
	return 0;
}

int sec_mask_paths(struct err *e)
{
	struct statvfs v;
	struct stat a, b;
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
		if (mask(masked[i], e))
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
	return mask(path, e);
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
