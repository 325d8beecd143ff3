/* tarcat: a tiny driver for lib/tar.c, used by tests/tar_interop.sh.
 *   tarcat x DESTDIR < archive    extract (owners restored when root)
 *   tarcat c DIR > archive        archive the tree under DIR
 *   tarcat t < archive            list: type mode uid gid size mtime path [-> link]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tar.h"

static ssize_t fd_read(void *ctx, void *p, size_t n)
{
	ssize_t r = read(*(int *)ctx, p, n);

	return r < 0 ? -errno : r;
}

static int fd_write(void *ctx, const void *p, size_t n)
{
	return write_all(*(int *)ctx, p, n);
}

static int list(struct tar_src *src, struct err *e)
{
	struct tar_reader *r = tar_reader_new(src);
	struct tar_entry ent;
	int rc;

	if (!r)
		return err_set(e, ENOMEM, "list");
	while ((rc = tar_next(r, &ent, e)) > 0)
		printf("%c %04o %u %u %llu %lld %s%s%s\n", ent.type, (unsigned)ent.mode, (unsigned)ent.uid,
		       (unsigned)ent.gid, (unsigned long long)ent.size, (long long)ent.mtime, ent.path,
		       *ent.linkpath ? " -> " : "", ent.linkpath);
	tar_reader_free(r);
	return rc;
}

int main(int argc, char **argv)
{
	int in = 0, out = 1, fd, rc;
	struct tar_src src = { fd_read, &in };
	struct tar_sink sink = { fd_write, &out };
	struct tar_writer w;
	struct err e = { 0 };

	if (argc == 2 && !strcmp(argv[1], "t")) {
		rc = list(&src, &e);
	} else if (argc == 3 && (!strcmp(argv[1], "x") || !strcmp(argv[1], "c"))) {
		if ((fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			perror(argv[2]);
			return 1;
		}
		if (argv[1][0] == 'x') {
			rc = tar_extract(&src, fd, geteuid() ? 0 : TAR_X_OWNER, &e);
		} else {
			tar_writer_init(&w, &sink);
			rc = tar_write_tree(&w, fd, &e);
			if (!rc)
				rc = tar_write_end(&w, &e);
		}
		close(fd);
	} else {
		fprintf(stderr, "usage: tarcat x DESTDIR < archive | tarcat c DIR > archive | tarcat t < archive\n");
		return 2;
	}
	if (rc < 0)
		fprintf(stderr, "tarcat: %s\n", e.msg);
	return rc < 0;
}
