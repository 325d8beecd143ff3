/* export: a container's file system, flattened, as a plain tar. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "applets.h"
#include "container.h"
#include "digest.h"
#include "image.h"
#include "tar.h"

const char export_usage[] =
	"Usage: mydocker export [-o FILE.tar] CONTAINER\n\n"
	"Write the container's root file system (its image with its changes, flattened; volumes and\n"
	"/proc, /sys, /dev not included) as a plain tar that GNU tar reads and import takes back.\n"
	"Prints the archive's SHA-256 (on stderr when the archive goes to stdout).\n\n"
	"  -o, --output FILE  write to FILE (atomically) instead of stdout\n";

struct hsink {
	int fd;
	struct sha256 h;
	uint64_t n;
	int progress;
	int64_t last;
};

static int hsink_write(void *ctx, const void *p, size_t n)
{
	struct hsink *s = ctx;
	sha256_update(&s->h, p, n);
	s->n += n;
	if (s->progress && now_ns() - s->last > 200000000) {
		s->last = now_ns();
		fprintf(stderr, "\rexporting: %.1f MB", s->n / 1e6);
	}
	return write_all(s->fd, p, n);
}

/* In a private mount namespace: the image layers under the container's upper dir, read-only. */
static int mount_view(const struct image *img, const char *upper, const char *at, struct err *e)
{
	struct buf o = { 0 };
	size_t ld = strlen(img->layer_dir);
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return err_set(e, errno, "private mount namespace");
	/* relative lowerdirs from inside layer_dir: the options must fit one page */
	int cwd = openat(AT_FDCWD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || (chdir(img->layer_dir) && errno != ENOENT)) {
		if (cwd >= 0)
			close(cwd);
		return err_set(e, errno, "chdir %s", img->layer_dir);
	}
	buf_printf(&o, "lowerdir=%s", upper);
	for (int i = img->nlayers - 1; i >= 0; i--) {
		const char *l = img->layers[i];
		int rel = !strncmp(l, img->layer_dir, ld) && l[ld] == '/';
		buf_printf(&o, ":%s", rel ? l + ld + 1 : l);
	}
	int r = mount("overlay", at, "overlay", MS_RDONLY, o.p) ? err_set(e, errno, "mount overlay") : 0;
	if (fchdir(cwd) && !r)
		r = err_set(e, errno, "fchdir");
	close(cwd);
	buf_free(&o);
	return r;
}

int export_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (argc - optind != 1)
		usage(2);
	if (!out && isatty(1))
		die(1, "cowardly refusing to write an archive to a terminal (use -o FILE)");
	struct err e = { 0 };
	struct container ct;
	struct image img;
	char id[ID_LEN + 1], dir[4096], upper[4200], view[4200], hex[65];
	if (ctr_lookup(argv[optind], id, &e) || ctr_load(id, &ct, &e) || image_resolve(ct.image_id, &img, &e))
		die_err(1, &e);
	ctr_dir(id, dir, sizeof(dir));
	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(view, sizeof(view), "%s/images/tmp/%d-export", state_root(), (int)getpid());
	char *tmp = out ? xasprintf("%s.tmp.%d", out, (int)getpid()) : NULL;
	struct hsink hs = { .fd = 1, .progress = isatty(2) };
	if (tmp && (hs.fd = openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		die(1, "create %s: %m", tmp);
	/* vfs storage (no overlay on this host): the container's own full copy is the view */
	snprintf(upper, sizeof(upper), "%s/rootfs", dir);
	int vfs = access(upper, F_OK) == 0, r = 0;
	if (vfs)
		snprintf(view, sizeof(view), "%s", upper);
	else
		snprintf(upper, sizeof(upper), "%s/upper", dir);
	if (!vfs)
		r = mkdir(view, 0700) ? err_set(&e, errno, "create %s", view) : mount_view(&img, upper, view, &e);
	if (!r) {
		struct tar_sink sink = { hsink_write, &hs };
		struct tar_writer w;
		int vfd = openat(AT_FDCWD, view, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		sha256_init(&hs.h);
		tar_writer_init(&w, &sink);
		r = vfd < 0 ? err_set(&e, errno, "open %s", view) : tar_write_tree(&w, vfd, &e) ?: tar_write_end(&w, &e);
		if (vfd >= 0)
			close(vfd);
		if (!vfs)
			umount2(view, MNT_DETACH);
	}
	if (!vfs)
		rmdir(view);
	if (!r && tmp && (fsync(hs.fd) || rename(tmp, out)))
		r = err_set(&e, errno, "write %s", out);
	if (r) {
		if (tmp)
			unlink(tmp);
		die_err(1, &e);
	}
	if (hs.progress)
		fprintf(stderr, "\rexporting: %.1f MB\n", hs.n / 1e6);
	sha256_hex(&hs.h, hex);
	fprintf(out ? stdout : stderr, "sha256:%s\n", hex);
	ctr_free(&ct);
	image_free(&img);
	return 0;
}
