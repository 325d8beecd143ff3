/* cgbpf: the cgroup v2 device filter. v2 has no devices.allow; the kernel asks a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup instead. This one allows the same
 * character devices as the v1 list in cgroup.c (null zero full random urandom tty ptmx pts) and
 * denies everything else, block devices included. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include "cgroup.h"

#define ANY_MINOR (-1)
static const struct { int major, minor; } allowed[] = {
	{ 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 }, { 5, 0 }, { 5, 2 }, { 136, ANY_MINOR },
};

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(d, off)       INSN(BPF_LDX | BPF_MEM | BPF_W, d, 1, off, 0)	/* d = *(u32 *)(ctx + off) */
#define JNE(d, imm, off)    INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, off, imm)
#define MOV(d, imm)         INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, imm)
#define AND(d, imm)         INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, imm)
#define EXIT()              INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* r2 = device type, r3 = major, r4 = minor; one "match -> return 1" block per rule; return 0. */
static int build(struct bpf_insn *p)
{
	int n = 0;
	p[n++] = LDX_W(2, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[n++] = AND(2, 0xffff);
	p[n++] = LDX_W(3, offsetof(struct bpf_cgroup_dev_ctx, major));
	p[n++] = LDX_W(4, offsetof(struct bpf_cgroup_dev_ctx, minor));
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		int any = allowed[i].minor == ANY_MINOR, skip = any ? 3 : 4;
		p[n++] = JNE(2, BPF_DEVCG_DEV_CHAR, skip--);
		p[n++] = JNE(3, allowed[i].major, skip--);
		if (!any)
			p[n++] = JNE(4, allowed[i].minor, skip--);
		p[n++] = MOV(0, 1);
		p[n++] = EXIT();
	}
	p[n++] = MOV(0, 0);
	p[n++] = EXIT();
	return n;
}

int cg_devices_bpf(const char *dir, struct err *e)
{
	struct bpf_insn prog[8 + 5 * ARRAY_SIZE(allowed)];
	union bpf_attr a;
	if (cg_base_path()[0])
		return 0;	/* a fake tree in unit tests: nothing to attach to */
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uintptr_t)prog;
	a.insn_cnt = build(prog);
	a.license = (uintptr_t)"GPL";
	int pfd = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (pfd < 0)
		return err_set(e, errno, "load the cgroup device program");
	int cfd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0) {
		close(pfd);
		return err_set(e, errno, "open %s", dir);
	}
	memset(&a, 0, sizeof(a));
	a.target_fd = cfd;
	a.attach_bpf_fd = pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	int r = syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) ? -errno : 0;
	close(cfd);
	close(pfd);
	return r ? err_set(e, -r, "attach the device program to %s", dir) : 0;
}
