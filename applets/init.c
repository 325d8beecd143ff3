/* init: the tiny PID 1 of a container started with --init (forwards signals, reaps zombies). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "applets.h"
#include "runtime.h"

const char init_usage[] =
	"Usage: mydocker-init -- COMMAND [ARG...]   (internal)\n\n"
	"The first process of a container started with `mydocker run --init`: it runs COMMAND as its\n"
	"child, forwards every signal it gets to it, reaps orphaned zombies, and exits with COMMAND's\n"
	"status. The runtime starts it from a sealed in-memory copy of mydocker, as PID 1 of the\n"
	"container's PID namespace with its control socket on fd 3; it refuses to run any other way.\n";

/* Only the runtime can have made us: PID 1 of a namespace, a SOCK_SEQPACKET socket on fd 3. */
static int started_by_runtime(int argc, char **argv)
{
	int type = 0;
	socklen_t len = sizeof(type);
	return getpid() == 1 && argc >= 3 && !strcmp(argv[1], "--") &&
	       !getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) && type == SOCK_SEQPACKET;
}

int init_main(int argc, char **argv)
{
	extern char **environ;
	sigset_t all, none;
	int st;
	if (!started_by_runtime(argc, argv))
		die(2, "init is the container's first process, started by \"mydocker run --init\"; "
		       "it cannot be run by hand");
	fcntl(3, F_SETFD, FD_CLOEXEC);
	/* every signal is taken synchronously, so none is lost between fork and the loop */
	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &all, NULL);
	pid_t child = fork();
	if (child < 0)
		die(125, "fork: %s", strerror(errno));
	if (child == 0) {
		/* its own process group, in the terminal's foreground: ^C reaches it, not us */
		setpgid(0, 0);
		if (isatty(0))
			tcsetpgrp(0, getpid());
		sigprocmask(SIG_SETMASK, &none, NULL);
		proc_exec(argv + 2, environ, 3);
	}
	/* EOF on the socket (once the command runs) is the runtime's "started" */
	close(3);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig == SIGCHLD) {
			pid_t p;
			while ((p = waitpid(-1, &st, WNOHANG)) > 0)
				if (p == child)
					return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		} else if (sig > 0 && sig != SIGTTOU && sig != SIGTTIN && sig != SIGTSTP) {
			kill(child, sig);
		}
	}
}
