/* secure: docker's default hardening of a container process (not applied with --privileged):
 * capabilities (docker's 14 defaults, --cap-add/--cap-drop; inheritable and ambient empty),
 * no_new_privs, masked and read-only /proc and /sys paths, a working directory inside the root,
 * and no /proc/PID/exe access to the host's binary while mydocker code runs in the container. */
#ifndef MYDOCKER_SECURE_H
#define MYDOCKER_SECURE_H

#include <stdint.h>
#include <sys/types.h>
#include "util.h"

/* CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT
 * MKNOD AUDIT_WRITE SETFCAP: CapEff 00000000a80425fb as in a docker container. */
#define SEC_CAPS_DEFAULT 0xa80425fbull

/* "NET_ADMIN", "cap_net_admin": the number; "ALL": 64. -EINVAL if unknown. */
int sec_cap_parse(const char *name);
/* Docker's rules: defaults + add - drop; "ALL" in add: every cap minus drop; "ALL" in drop: only
 * add. Unknown names: -EINVAL with `invalid capability "X"`. Lists may be NULL. */
int sec_caps(char *const *add, char *const *drop, uint64_t *keep, struct err *e);

/* Before the user switch (still all caps): drop everything outside keep from the bounding set. */
int sec_caps_bound(uint64_t keep, struct err *e);
/* After the user switch: effective = permitted = keep (nothing for a non-root user), inheritable
 * and ambient empty; no_new_privs if nnp. The last step before execve. */
int sec_caps_apply(uint64_t keep, int nnp, struct err *e);

/* After pivot_root: mask /proc/{acpi,asound,interrupts,kcore,keys,latency_stats,sched_debug,scsi,
 * timer_list,timer_stats}, /sys/firmware, /sys/devices/virtual/powercap (files: /dev/null bound on
 * them once it is checked to be char 1:3; dirs: an empty read-only tmpfs); /proc/{bus,fs,irq,sys,
 * sysrq-trigger} read-only; /sys and a mounted /sys/fs/cgroup read-only. */
int sec_mask_paths(struct err *e);
/* One path of an OCI spec's maskedPaths / readonlyPaths, the same way (absent: nothing to do). */
int sec_mask(const char *path, struct err *e);
int sec_ro(const char *path, struct err *e);
/* The cwd must be inside the current root (CVE-2024-21626: a leaked host fd as workdir). */
int sec_cwd_check(struct err *e);
/* Not dumpable: container processes cannot open /proc/PID/exe (the host's mydocker, CVE-2019-5736)
 * or ptrace us while mydocker code runs in the container's PID namespace. Reset by execve. */
void sec_nodump(void);

/* Docker-like default seccomp denylist (classic BPF, SECCOMP_MODE_FILTER): a foreign arch (i386,
 * x32 on x86_64; AArch32 on arm64) kills the process; keyctl, add_key, request_key, bpf,
 * perf_event_open, userfaultfd, kexec, modules, reboot, swap, clock/time setting, iopl/ioperm,
 * open_by_handle_at, acct, quotactl, ... fail with EPERM. Without CAP_SYS_ADMIN in the kept caps
 * (sysadmin 0) also mount, umount2, pivot_root, the new mount API, unshare and clone with
 * CLONE_NEWUSER (EPERM), clone3 (ENOSYS: libc falls back to clone). Needs no_new_privs or
 * CAP_SYS_ADMIN: install it before the user switch. sec_seccomp_prog fills f (max entries) and
 * returns the instruction count (-ENOSPC if it does not fit). */
struct sock_filter;
int sec_seccomp_prog(struct sock_filter *f, int max, int sysadmin);
int sec_seccomp(int sysadmin, struct err *e);
/* The Seccomp: mode of pid (0 none, 2 filter; -1 unknown): exec follows the container's PID 1. */
int sec_seccomp_mode(pid_t pid);

#endif
