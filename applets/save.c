/* save: images as a docker save / OCI archive. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "applets.h"
#include "image.h"

const char save_usage[] =
	"Usage: mydocker save [-o FILE] IMAGE...\n\n"
	"Write images to a tar archive that is both a docker save archive (manifest.json: docker load,\n"
	"podman load, skopeo docker-archive:) and an OCI image layout (index.json, blobs/sha256), as\n"
	"Docker >= 25 writes it. Layers are uncompressed tars regenerated from the store; where their\n"
	"digests differ from the image's diff_ids the saved config carries the new ones.\n\n"
	"  -o, --output FILE  write to FILE (atomically) instead of stdout\n"
	"  -q, --quiet        no progress\n";

int save_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct image_opts o = { 0 };
	const char *out = NULL;
	int c, quiet = 0, fd = 1;
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (optind == argc)
		usage(2);
	if (!out && isatty(1))
		die(1, "cowardly refusing to write an archive to a terminal (use -o FILE)");
	char *tmp = out ? xasprintf("%s.tmp.%d", out, (int)getpid()) : NULL;
	if (tmp && (fd = openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		die(1, "create %s: %m", tmp);
	o.progress = !quiet && isatty(2);
	struct err e = { 0 };
	int r = image_save(argv + optind, fd, &o, &e);
	if (!r && tmp && (fsync(fd) || rename(tmp, out)))
		r = err_set(&e, errno, "write %s", out);
	if (tmp && r)
		unlink(tmp);
	if (r)
		die_err(1, &e);
	return 0;
}
