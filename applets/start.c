/* start: run stopped containers again (docker start). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "applets.h"
#include "image.h"
#include "runtime.h"

const char start_usage[] =
	"Usage: mydocker start [OPTIONS] CONTAINER...\n\n"
	"Run stopped containers again with the same configuration and their upper layer intact.\n"
	"Detached by default: prints each container's name as given once it runs.\n\n"
	"  -a, --attach           stay attached (one container): its output, exit status, signals\n"
	"  -i, --interactive      with -a: the caller's stdin reaches the container\n\n"
	"Exit status: with -a the container's, else 0 if every container started (125/126/127 if not).\n";

/* 0 on success; the exit code to report otherwise (with -a: the container's status) */
static int start_one(const char *ref, int flags)
{
	struct container c;
	struct image img;
	struct err e = { 0 };
	char id[ID_LEN + 1];
	int code = 125, lk;
	if (ctr_lookup(ref, id, &e) || (lk = ctr_lock(id, &e)) < 0) {
		warnx("%s", e.msg);
		return 125;
	}
	/* loaded under the lock: a concurrent start or rm is seen */
	if (ctr_load(id, &c, &e)) {
		close(lk);
		warnx("%s", e.no == ENOENT ? "No such container" : e.msg);
		return 125;
	}
	if (ctr_alive(&c)) {
		close(lk);
		ctr_free(&c);
		if (!(flags & LAUNCH_DETACH)) {
			warnx("container %s is already running", ref);
			return 125;
		}
		puts(ref);
		return 0;
	}
	if (image_resolve(c.image_id, &img, &e)) {
		close(lk);
		warnx("container %s: image %s: %s", ref, c.image, e.msg);
		ctr_free(&c);
		return 125;
	}
	if (ctr_launch(&c, img.layers, img.nlayers, lk, flags, &code, &e))
		warnx("%s", e.msg);
	else if (flags & LAUNCH_DETACH)
		puts(ref), code = 0;
	fflush(stdout);
	image_free(&img);
	ctr_free(&c);
	return code;
}

int start_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "attach", no_argument, 0, 'a' }, { "interactive", no_argument, 0, 'i' }, { 0, 0, 0, 0 },
	};
	int attach = 0, stdin_ = 0, ch, rc = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+ai", lo, NULL)) != -1) {
		if (ch == 'a')
			attach = 1;
		else if (ch == 'i')
			stdin_ = 1;
		else {
			warnx("unknown flag \"%s\"", argv[optind - 1]);
			usage(2);
		}
	}
	if (optind >= argc)
		usage(2);
	if (attach && argc - optind > 1)
		die(125, "you cannot start and attach multiple containers at once");
	for (int i = optind; i < argc; i++) {
		int r = start_one(argv[i], attach ? (stdin_ ? LAUNCH_STDIN : 0) : LAUNCH_DETACH);
		if (r && (!rc || attach))
			rc = r;
	}
	return rc;
}
