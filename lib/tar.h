/* tar: ustar/GNU/pax reader and writer, and an extractor that keeps every entry inside its destination. */
#ifndef MYDOCKER_TAR_H
#define MYDOCKER_TAR_H

#include <stdint.h>
#include <sys/types.h>
#include "util.h"

/* A byte source: read up to n bytes, return count (0 = EOF) or -errno. Import plugs hashing in here. */
struct tar_src {
	ssize_t (*read)(void *ctx, void *p, size_t n);
	void *ctx;
};
/* A byte sink: write all n bytes, return 0 or -errno. */
struct tar_sink {
	int (*write)(void *ctx, const void *p, size_t n);
	void *ctx;
};

struct tar_entry {
	char type;		/* '0' file, '1' hard link, '2' symlink, '3' chr, '4' blk, '5' dir, '6' fifo */
	char *path;		/* full name after pax/GNU long names, as in the archive */
	char *linkpath;
	mode_t mode;		/* permission bits incl. suid/sgid/sticky */
	uid_t uid;
	gid_t gid;
	int64_t mtime;
	uint64_t size;
	unsigned devmajor, devminor;
};

struct tar_reader;
struct tar_reader *tar_reader_new(struct tar_src *src);
void tar_reader_free(struct tar_reader *r);
/* 1: *ent filled (valid until the next call); 0: end of archive; <0: error (-EINVAL corrupt, -EIO truncated). */
int tar_next(struct tar_reader *r, struct tar_entry *ent, struct err *e);
/* Read the current entry's data; returns bytes (0 at its end) or -errno. Unread data is skipped by tar_next. */
ssize_t tar_read(struct tar_reader *r, void *p, size_t n);

/* Flags for tar_extract */
#define TAR_X_OWNER    1	/* chown entries to the archive's uid/gid (root only) */
#define TAR_X_NODEV    2	/* refuse device nodes instead of creating them */

/* Extract everything into the directory destfd. No entry ever lands outside it, whatever the archive
 * says (.., absolute paths, planted symlinks, hard links to outside, loops, long names).
 * Unsupported types are reported as errors. The source is read up to the end-of-archive marker. */
int tar_extract(struct tar_src *src, int destfd, unsigned flags, struct err *e);

/* Writer */
struct tar_writer {
	struct tar_sink *sink;
	uint64_t written;
};
void tar_writer_init(struct tar_writer *w, struct tar_sink *sink);
/* Header for ent (pax records added for long names, big sizes/ids); then ent->size bytes via tar_write_data. */
int tar_write_header(struct tar_writer *w, const struct tar_entry *ent, struct err *e);
int tar_write_data(struct tar_writer *w, const void *p, size_t n, struct err *e);
/* Pad the current entry's data to 512 bytes; call after the last tar_write_data. */
int tar_write_pad(struct tar_writer *w, uint64_t size, struct err *e);
/* Two zero blocks. */
int tar_write_end(struct tar_writer *w, struct err *e);
/* Archive the tree under dirfd (names relative, "./" not prefixed), not following symlinks,
 * hard links within the tree preserved, sorted by name for reproducible output. */
int tar_write_tree(struct tar_writer *w, int dirfd, struct err *e);

#endif
