/* rm: remove containers (their record, log and workspace); -f kills a running one first. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include "applets.h"
#include "container.h"

const char rm_usage[] =
	"Usage: mydocker rm [-f] CONTAINER...\n\n"
	"Remove containers: their record, log and overlay workspace. A running container is refused\n"
	"unless -f, which kills it (SIGKILL) first. A container whose record is corrupt can be removed\n"
	"with -f by its full ID or a unique ID prefix.\n\n"
	"  -f, --force  kill a running container, remove a corrupt one\n";

static int busy(struct err *e, const char *ref, const char *why)
{
	snprintf(e->msg, sizeof(e->msg), "cannot remove running container %s: %s", ref, why);
	e->no = EBUSY;
	return -EBUSY;
}

static int rm_one(const char *ref, int force, struct err *e)
{
	char id[ID_LEN + 1];
	struct container c;
	int r = ctr_lookup(ref, id, e), killed = 0;
	if (r)
		return r;
	int bad = ctr_load(id, &c, e);
	if (bad == -ENOENT)
		return bad;
	if (bad && !force)
		return err_wrap(e, "cannot remove %s: corrupt state (use -f)", ref);
	if (!bad) {
		ctr_refresh(&c);
		if (c.status == CTR_RUNNING && !force) {
			ctr_free(&c);
			return busy(e, ref, "stop it first or use -f");
		}
		if (c.status == CTR_RUNNING) {
			r = ctr_kill(&c, SIGKILL);
			if (r && r != -ESRCH)
				r = err_set(e, -r, "kill container %s", ref);
			else if ((r = ctr_wait_down(&c, 30000)))
				r = err_set(e, ETIMEDOUT, "container %s survived SIGKILL", ref);
			else	/* let its monitor finish (log, exit code, teardown) before the dir goes */
				r = ctr_settle(&c, 1, e);
			killed = c.autoremove;	/* --rm: its monitor may remove it first */
		}
		ctr_free(&c);
		if (r)
			return r;
	}
	int fd = ctr_lock(id, e);
	if (fd < 0)
		return fd;
	if (!(r = ctr_load(id, &c, e))) {
		if (c.status == CTR_RUNNING && ctr_alive(&c))	/* started again meanwhile */
			r = busy(e, ref, "it was started again");
		else
			ctr_teardown(&c);
		ctr_free(&c);
	} else if (r != -ENOENT && force) {
		r = 0;	/* corrupt: nothing to tear down that we could know of */
	}
	if (!r && (r = ctr_remove(id, e)))
		err_wrap(e, "cannot remove %s", ref);
	else if (!r || r == -ENOENT)	/* removed meanwhile: our ctr_lock made the file anew */
		ctr_unlink_lock(id);
	if (r == -ENOENT && killed)	/* what -f asked for: its monitor was quicker */
		r = 0;
	close(fd);
	return r;
}

int rm_main(int argc, char **argv)
{
	static const struct option lo[] = { { "force", no_argument, 0, 'f' }, { 0 } };
	int force = 0, o, rc = 0;
	while ((o = getopt_long(argc, argv, "f", lo, NULL)) != -1) {
		if (o != 'f')
			usage(2);
		force = 1;
	}
	if (optind >= argc)
		usage(2);
	for (int i = optind; i < argc; i++) {
		struct err e = { 0 };
		int r = rm_one(argv[i], force, &e);
		if (r == -ENOENT)
			snprintf(e.msg, sizeof(e.msg), "No such container: %s", argv[i]);
		if (r) {
			warnx("%s", e.msg);
			int user = r == -ENOENT || r == -EINVAL || r == -EEXIST || r == -EBUSY;
			rc = !user ? 125 : rc ? rc : 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	return rc;
}
