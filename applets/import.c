/* import: a flat tarball becomes an image, hashed while it is unpacked once. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "applets.h"
#include "image.h"

const char import_usage[] =
	"Usage: mydocker import [--sha256 HEX] FILE.tar|- NAME[:TAG]\n\n"
	"Import a tarball of a root filesystem as an image. The tarball is read once: it is\n"
	"hashed (SHA-256) while it is unpacked into a read-only layer shared by every container\n"
	"of the image. Importing the same content again only (re)tags it. '-' reads stdin.\n\n"
	"  --sha256 HEX   refuse the tarball unless its SHA-256 is HEX\n"
	"  --verify-key K require a signature (FILE.sig) by the PEM public key K; also set by\n"
	"                 $MYDOCKER_VERIFY_KEY or the file ROOT/verify-key.pem\n"
	"  --signature S  the detached signature (default: FILE.sig)\n"
	"  -q, --quiet    print nothing but the image ID\n";

int import_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sha256", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verify-key", required_argument, NULL, 'k' },
		{ "signature", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *want = NULL;
	struct image_opts o = { 0 };
	int c, quiet = 0;
	while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
		switch (c) {
		case 's': want = optarg; break;
		case 'q': quiet = 1; break;
		case 'k': o.verify_key = optarg; break;
		case 'S': o.sig_file = optarg; break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	/* docker puts the options anywhere: allow "import FILE NAME --sha256 X" too */
	if (argc - optind == 4 && !strcmp(argv[optind + 2], "--sha256")) {
		want = argv[optind + 3];
		argc -= 2;
	}
	if (argc - optind != 2)
		usage(2);
	const char *file = argv[optind], *ref = argv[optind + 1];
	int fd = strcmp(file, "-") ? openat(AT_FDCWD, file, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0)
		die(1, "open %s: %m", file);
	struct err e = { 0 };
	char id[65];
	o.path = strcmp(file, "-") ? file : NULL;
	o.progress = !quiet && isatty(2);
	if (image_import2(fd, ref, want, &o, id, &e))
		die_err(1, &e);
	printf("sha256:%s\n", id);
	return 0;
}
