/* load: images from a docker save / OCI archive, every byte verified before anything is stored. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "applets.h"
#include "image.h"

const char load_usage[] =
	"Usage: mydocker load [-i ARCHIVE] [-q] [--platform [OS/]ARCH[/VARIANT]] [-t NAME[:TAG]]\n"
	"                     [--verify-key KEY.pem [--signature FILE.sig]]\n\n"
	"Load images from a docker save archive (legacy or Docker >= 25 OCI layout), a podman or\n"
	"skopeo docker-archive, or an OCI image layout as a tar (stdin without -i). Layers may be\n"
	"plain or gzip-compressed. Every blob is checked against its digest and size and every layer\n"
	"against the config's diff_ids before anything is stored; on any mismatch nothing is. Layers\n"
	"are stored by ChainID and shared between images.\n\n"
	"  -i, --input FILE     read the archive from FILE (default: stdin)\n"
	"      --platform P     pick/accept this platform instead of this machine's\n"
	"  -t, --tag NAME[:TAG] also tag the loaded image(s) NAME[:TAG]\n"
	"      --verify-key K   require a signature (FILE.sig) by the PEM public key K; also set by\n"
	"                       $MYDOCKER_VERIFY_KEY or the file ROOT/verify-key.pem\n"
	"      --signature S    the detached signature (default: ARCHIVE.sig)\n"
	"  -q, --quiet          no progress\n";

int load_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "platform", required_argument, NULL, 'p' },
		{ "tag", required_argument, NULL, 't' },
		{ "verify-key", required_argument, NULL, 'k' },
		{ "signature", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct image_opts o = { 0 };
	int c, quiet = 0;
	while ((c = getopt_long(argc, argv, "i:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o.path = optarg; break;
		case 'p': o.platform = optarg; break;
		case 't': o.tag = optarg; break;
		case 'k': o.verify_key = optarg; break;
		case 's': o.sig_file = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	int fd = o.path && strcmp(o.path, "-") ? openat(AT_FDCWD, o.path, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0)
		die(1, "open %s: %m", o.path);
	if (o.path && !strcmp(o.path, "-"))
		o.path = NULL;
	if (!o.path && isatty(0))
		die(1, "requested load from stdin, but stdin is a terminal (use -i ARCHIVE)");
	o.progress = !quiet && isatty(2);
	struct err e = { 0 };
	struct buf out = { 0 };
	if (image_load(fd, &o, &out, &e))
		die_err(1, &e);
	fwrite(out.p, 1, out.len, stdout);
	buf_free(&out);
	return 0;
}
