/* stop: send the stop signal to each container's PID 1, SIGKILL after a grace period, wait until down. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "applets.h"
#include "container.h"
#include "defaults.h"

const char stop_usage[] =
	"Usage: mydocker stop [-t SECONDS] CONTAINER...\n\n"
	"Stop running containers: send the container's stop signal (SIGTERM unless it was created with\n"
	"another) to its first process, wait, then SIGKILL. Returns when each container is down and\n"
	"recorded as exited. Stopping a container that is not running succeeds and changes nothing.\n\n"
	"  -t, --time SECONDS  grace period before SIGKILL (default 10; -1 waits forever)\n";

static const struct { const char *name; int no; } sigs[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "PWR", SIGPWR },
	{ "WINCH", SIGWINCH }, { "STOP", SIGSTOP }, { "CONT", SIGCONT }, { "ALRM", SIGALRM },
};

/* "SIGTERM", "TERM", "15", NULL (SIGTERM); -1 if unknown. */
static int parse_signal(const char *s)
{
	long long n;
	if (!s || !*s)
		return SIGTERM;
	if (!parse_ll(s, 1, 64, &n))
		return n;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (!strcasecmp(s, sigs[i].name))
			return sigs[i].no;
	return -1;
}

/* One argument. Containers are stopped together: all signalled, one shared grace period, then
 * SIGKILL for those still up, so `stop a b c` takes at most one timeout, as with docker. */
struct tgt {
	const char *ref;
	struct container c;
	int live, killed, r;
	struct err e;
};

static void signal_one(struct tgt *t)
{
	char id[ID_LEN + 1];
	if ((t->r = ctr_lookup(t->ref, id, &t->e)) || (t->r = ctr_load(id, &t->c, &t->e)))
		return;
	int sig = parse_signal(t->c.stop_signal);
	if (sig < 0) {
		warnx("%s: unknown stop signal \"%s\", using SIGTERM", t->ref, t->c.stop_signal);
		sig = SIGTERM;
	}
	if (t->c.status != CTR_RUNNING || !ctr_alive(&t->c))
		return;
	int r = ctr_kill(&t->c, sig);
	if (r && r != -ESRCH)
		t->r = err_set(&t->e, -r, "signal container %s", t->ref);
	t->live = !r;
}

static void kill_one(struct tgt *t, int64_t deadline)
{
	int64_t left = deadline < 0 ? -1 : (deadline - now_ns()) / 1000000;
	if (!t->live || !ctr_wait_down(&t->c, deadline < 0 ? -1 : left > 0 ? (int)left : 0))
		return;
	t->killed = 1;
	int r = ctr_kill(&t->c, SIGKILL);
	if (r && r != -ESRCH)
		t->r = err_set(&t->e, -r, "kill container %s", t->ref);
}

int stop_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "time", required_argument, 0, 't' }, { "timeout", required_argument, 0, 't' }, { 0 } };
	long long t = DEFAULT_STOP_TIMEOUT;
	int o, rc = 0;
	while ((o = getopt_long(argc, argv, "t:", lo, NULL)) != -1) {
		if (o != 't')
			usage(2);
		if (parse_ll(optarg, -1, 1000000, &t))
			die(2, "-t: invalid number of seconds \"%s\"", optarg);
	}
	if (optind >= argc)
		usage(2);
	int n = argc - optind;
	struct tgt *v = xcalloc(n, sizeof(*v));
	for (int i = 0; i < n; i++) {
		v[i].ref = argv[optind + i];
		signal_one(&v[i]);
	}
	int64_t deadline = t < 0 ? -1 : now_ns() + t * 1000000000LL;
	for (int i = 0; i < n; i++)
		if (!v[i].r)
			kill_one(&v[i], deadline);
	for (int i = 0; i < n; i++) {
		struct tgt *x = &v[i];
		if (!x->r && x->killed && ctr_wait_down(&x->c, 30000))
			x->r = err_set(&x->e, ETIMEDOUT, "container %s survived SIGKILL", x->ref);
		if (!x->r && x->c.status == CTR_RUNNING)
			x->r = ctr_settle(&x->c, x->killed, &x->e);
		if (x->r == -ENOENT)
			snprintf(x->e.msg, sizeof(x->e.msg), "No such container: %s", x->ref);
		if (x->r) {
			warnx("%s", x->e.msg);
			int user = x->r == -ENOENT || x->r == -EINVAL || x->r == -EEXIST;
			rc = !user ? 125 : rc ? rc : 1;
		} else {
			printf("%s\n", x->ref);
			fflush(stdout);
		}
		ctr_free(&x->c);
	}
	return rc;
}
