/* Unit tests: capability names and docker's --cap-add/--cap-drop rules; applying them in a child
 * (as root) gives the CapEff/CapPrm/CapInh/CapBnd/CapAmb docker shows; the seccomp program's shape
 * and, installed in a child, what it denies. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <unistd.h>
#include "unit.h"
#include "secure.h"
#include "util.h"

TEST(cap_names)
{
	CHECK(sec_cap_parse("CHOWN") == 0);
	CHECK(sec_cap_parse("cap_net_admin") == 12);
	CHECK(sec_cap_parse("CAP_SYS_ADMIN") == 21);
	CHECK(sec_cap_parse("checkpoint_restore") == 40);
	CHECK(sec_cap_parse("all") == 64);
	CHECK(sec_cap_parse("NET_FOO") == -EINVAL);
	CHECK(sec_cap_parse("") == -EINVAL);
}

TEST(cap_rules)
{
	uint64_t k;
	struct err e;
	char *add[] = { "NET_ADMIN", NULL }, *drop[] = { "MKNOD", "cap_net_raw", NULL };
	char *all[] = { "ALL", NULL }, *bad[] = { "NET_FOO", NULL }, *nbs[] = { "NET_BIND_SERVICE", NULL };
	CHECK(sec_caps(NULL, NULL, &k, &e) == 0 && k == SEC_CAPS_DEFAULT);
	CHECK(sec_caps(add, drop, &k, &e) == 0 && k == ((SEC_CAPS_DEFAULT | 1ull << 12) & ~(1ull << 27 | 1ull << 13)));
	CHECK(sec_caps(NULL, all, &k, &e) == 0 && k == 0);
	CHECK(sec_caps(nbs, all, &k, &e) == 0 && k == 1ull << 10);
	CHECK(sec_caps(all, drop, &k, &e) == 0 && k == ~(1ull << 27 | 1ull << 13));
	CHECK(sec_caps(bad, NULL, &k, &e) == -EINVAL);
	CHECK_STR(e.msg, "invalid capability \"NET_FOO\"");
}

/* The "Cap*:" line of /proc/self/status. */
static unsigned long long status_cap(const char *key)
{
	struct buf b = { 0 };
	unsigned long long v = ~0ull;
	if (read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &b))
		return v;
	char *p = strstr(b.p, key);
	if (p)
		v = strtoull(p + strlen(key) + 1, NULL, 16);
	buf_free(&b);
	return v;
}

TEST(cap_apply)
{
	if (geteuid()) {
		SKIP("needs root");
		return;
	}
	pid_t p = fork();
	if (p == 0) {
		struct err e;
		int bad = sec_caps_bound(SEC_CAPS_DEFAULT, &e) || sec_caps_apply(SEC_CAPS_DEFAULT, 1, &e);
		bad |= status_cap("CapEff:") != SEC_CAPS_DEFAULT;
		bad |= status_cap("CapPrm:") != SEC_CAPS_DEFAULT;
		bad |= (status_cap("CapBnd:") != SEC_CAPS_DEFAULT) << 1;
		bad |= (status_cap("CapInh:") != 0) << 2;
		bad |= (status_cap("CapAmb:") != 0) << 3;
		bad |= (status_cap("NoNewPrivs:") != 1) << 4;
		_exit(bad);
	}
	int st;
	waitpid(p, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(seccomp_shape)
{
	struct sock_filter f[128], g[128];
	int n = sec_seccomp_prog(f, 128, 0), m = sec_seccomp_prog(g, 128, 1);
	CHECK(n > 40 && n < 128 && m > 20 && m < n);
	/* arch first, a foreign one killed; the syscall number next; allow at the end */
	CHECK(f[0].code == (BPF_LD | BPF_W | BPF_ABS) && f[0].k == offsetof(struct seccomp_data, arch));
	CHECK(f[1].code == (BPF_JMP | BPF_JEQ | BPF_K) && f[1].jt == 1 && f[1].jf == 0);
	CHECK(f[2].code == (BPF_RET | BPF_K) && f[2].k == SECCOMP_RET_KILL_PROCESS);
	CHECK(f[3].code == (BPF_LD | BPF_W | BPF_ABS) && f[3].k == offsetof(struct seccomp_data, nr));
	CHECK(f[n - 1].code == (BPF_RET | BPF_K) && f[n - 1].k == SECCOMP_RET_ALLOW);
	/* every jump lands inside the program */
	for (int i = 0; i < n; i++)
		if (BPF_CLASS(f[i].code) == BPF_JMP)
			CHECK(i + 1 + f[i].jt < n && i + 1 + f[i].jf < n);
	CHECK(sec_seccomp_prog(f, 10, 0) == -ENOSPC);
}

TEST(seccomp_apply)
{
	pid_t p = fork();
	if (p == 0) {
		struct err e;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || sec_seccomp(0, &e))
			_exit(99);	/* e.g. qemu-user has no seccomp */
		int bad = sec_seccomp_mode(getpid()) != 2;
		bad |= (syscall(SYS_keyctl, 1, 0, 0, 0, 0) != -1 || errno != EPERM) << 1;
		bad |= (unshare(CLONE_NEWUSER) != -1 || errno != EPERM) << 2;
		bad |= (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS) << 3;
		bad |= (syscall(SYS_umount2, "/nonexistent", 0) != -1 || errno != EPERM) << 4;
		bad |= (getppid() <= 0) << 5;
		_exit(bad);
	}
	int st;
	waitpid(p, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 99) {
		SKIP("no seccomp here");
		return;
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(sec_seccomp_mode(getpid()) == 0);
}

int main(void)
{
	RUN(cap_names);
	RUN(cap_rules);
	RUN(cap_apply);
	RUN(seccomp_shape);
	RUN(seccomp_apply);
	return UNIT_END();
}
