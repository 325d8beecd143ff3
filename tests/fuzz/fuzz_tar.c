/* libFuzzer target: extract any input into a scratch directory; nothing may appear outside it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "tar.h"

struct mem {
	const unsigned char *p;
	size_t n, off;
};

static ssize_t mem_read(void *ctx, void *p, size_t n)
{
	struct mem *m = ctx;
	if (n > m->n - m->off)
		n = m->n - m->off;
	memcpy(p, m->p + m->off, n);
	m->off += n;
	return n;
}

static char scratch[64];

/* The scratch dir must hold exactly "dest" after an extraction. */
static void check_contained(void)
{
	DIR *d = opendir(scratch);
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "dest"))
			abort();
	closedir(d);
}

static void cleanup(void)
{
	rm_rf_at(AT_FDCWD, scratch);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct mem m = { data, size, 0 };
	struct tar_src src = { mem_read, &m };
	struct err e;
	if (!scratch[0]) {
		strcpy(scratch, "/tmp/fuzz-tar.XXXXXX");
		if (!mkdtemp(scratch))
			abort();
		atexit(cleanup);	/* libFuzzer exits through exit() at the end of a run */
	}
	int sfd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mkdirat(sfd, "dest", 0755);
	int dfd = openat(sfd, "dest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tar_extract(&src, dfd, 0, &e);
	close(dfd);
	check_contained();
	rm_rf_at(sfd, "dest");
	close(sfd);
	return 0;
}
