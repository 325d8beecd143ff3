/* escape_probe: tries syscalls a default container must not be able to use and prints one
 * "NAME denied|allowed (errno)" line each. Built static by tests/t_escape.sh and bind-mounted
 * into a container (the busybox image has no keyctl or open_by_handle_at client). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void report(const char *what, long r)
{
	int no = errno;
	printf("%s %s", what, r < 0 ? "denied" : "allowed");
	if (r < 0)
		printf(" (%s)", strerror(no));
	printf("\n");
}

int main(void)
{
	/* keyrings are not namespaced: KEYCTL_JOIN_SESSION_KEYRING (1) of a new anonymous keyring */
	report("keyctl", syscall(SYS_keyctl, 1, 0, 0, 0, 0));
	report("add_key", syscall(SYS_add_key, "user", "mdprobe", "x", 1, -3 /* session */));
	/* shocker: open_by_handle_at needs CAP_DAC_READ_SEARCH; a bogus handle still tells EPERM apart */
	struct { unsigned int bytes; int type; unsigned char h[8]; } fh = { 8, 1, { 2, 0, 0, 0, 0, 0, 0, 0 } };
	long r = syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
	if (r < 0 && errno != EPERM)	/* anything but EPERM means the capability check passed */
		r = 0;
	report("open_by_handle_at", r);
	pid_t pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) ? 1 : 0);
	int st = 0;
	waitpid(pid, &st, 0);
	errno = EPERM;
	report("unshare_user", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1);
	return 0;
}
