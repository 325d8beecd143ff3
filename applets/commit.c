/* commit: a container's changes as a new image. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "applets.h"
#include "container.h"
#include "image.h"

const char commit_usage[] =
	"Usage: mydocker commit [-m MESSAGE] [-o FILE.tar] CONTAINER [NAME[:TAG]]\n\n"
	"Create a new image from a container (running or stopped): its image plus one layer made of\n"
	"what the container changed (files added, changed and deleted; volumes are not included).\n"
	"The layer is content-addressed (SHA-256). Prints the new image ID.\n\n"
	"  -m, --message TEXT  comment recorded in the image history\n"
	"  -o, --output FILE   also write the new image as a docker save / OCI archive\n";

int commit_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *msg = NULL, *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "m:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': msg = optarg; break;
		case 'o': out = optarg; break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		usage(2);
	const char *ref = argc - optind == 2 ? argv[optind + 1] : NULL;
	struct err e = { 0 };
	struct container ct;
	char id[ID_LEN + 1], dir[4096], img[65];
	if (ctr_lookup(argv[optind], id, &e) || ctr_load(id, &ct, &e))
		die_err(1, &e);
	ctr_dir(id, dir, sizeof(dir));
	strcat(dir, "/rootfs");
	if (access(dir, F_OK) == 0)
		die(1, "%s uses the vfs storage (a full copy, no overlay): commit needs its overlay upper dir",
		    argv[optind]);
	strcpy(strrchr(dir, '/'), "/upper");
	int r = image_commit(ct.image_id, dir, ref, msg, img, &e);
	ctr_free(&ct);
	if (r)
		die_err(1, &e);
	if (out) {
		char *tmp = xasprintf("%s.tmp.%d", out, (int)getpid()), ref2[72];
		char *refs[] = { ref2, NULL };
		struct image_opts o = { .progress = isatty(2) };
		snprintf(ref2, sizeof(ref2), "%s", ref ? ref : img);
		int fd = openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			die(1, "create %s: %m", tmp);
		if (strlen(ref2) != strlen(ref ? ref : img))
			refs[0] = img;
		r = image_save(refs, fd, &o, &e);
		if (!r && (fsync(fd) || rename(tmp, out)))
			r = err_set(&e, errno, "write %s", out);
		if (r) {
			unlink(tmp);
			die_err(1, &e);
		}
	}
	printf("sha256:%s\n", img);
	return 0;
}
