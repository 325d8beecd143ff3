/* imgstore: internals shared by the image modules (image.c, layer.c, load.c, save.c, sig.c).
 * Nothing outside lib/image*.c, layer.c, load.c, save.c, sig.c should need this. */
#ifndef MYDOCKER_IMGSTORE_H
#define MYDOCKER_IMGSTORE_H

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include "digest.h"
#include "image.h"
#include "json.h"
#include "tar.h"

#define LINK_LEN 16		/* hex digits of a short link name */
#define CONFIG_MAX (16u << 20)	/* largest image config, manifest or index */

/* A staging directory ROOT/images/tmp/<pid>-<time>: the next import/load sweeps it if we die. */
struct stage {
	char path[4096];
	int fd;
};
int stage_new(struct stage *s, struct err *e);
void stage_drop(struct stage *s);

void images_path(char *out, size_t n, const char *sub);
const char *go_arch(void);
/* chain of the layer diff_id above parent (NULL: the bottom layer); hex in and out. */
void chain_next(const char *parent, const char *diff_id, char out[65]);
int layer_present(const char *chain);
/* dirfd/dir/size: the layer tar's length. */
int write_size(int dirfd, const char *dir, uint64_t n, struct err *e);
/* With the images lock held: move stage/<name> (a dir with diff/ and size) to layers/<chain> and
 * make its short link. 0 when stored, 1 when the layer was there already (stage/<name> is left). */
int store_layer(struct stage *s, const char *name, const char *chain, struct err *e);
/* configs/<sha256 of p>.json (kept if present); id_out: 65 bytes. */
int store_config(const void *p, size_t n, char *id_out, struct err *e);
/* Tag norm ("name:tag") -> id. */
int store_tag(const char *norm, const char *id, struct err *e);
int config_read(const char *id, struct buf *b, struct err *e);
/* Remove leftovers of dead imports/loads; images lock held. */
void sweep_tmp(void);
/* Uncompressed size bound for one layer: $MYDOCKER_LAYER_MAX, else 64 GiB, at most 90% of the
 * free space of the store. */
uint64_t layer_limit(void);
/* Is "sha256:" + 64 lowercase hex */
int digest_valid(const char *d);

/* Reading a file descriptor as a tar_src, hashing (h may be NULL) and counting, with progress. */
struct fdsrc {
	int fd;
	struct sha256 *h;
	uint64_t n;
	const char *what;	/* progress label, NULL: none */
	int64_t t0, last;
};
ssize_t fdsrc_read(void *ctx, void *p, size_t n);
void fdsrc_progress(struct fdsrc *s);
void fdsrc_done(struct fdsrc *s);

/* A second thread hashing what a tar_src reads (image.c): hashq_read reads fs (fs->h: NULL) and
 * queues a copy of the bytes; hashq_end (always call it once started) joins and gives the digest. */
#define HQ_SLOTS 4
#define HQ_SLOT (128 << 10)	/* tar reads 128 KiB at a time: one slot per read */
struct hashq {
	struct sha256 h;
	sem_t free, full;	/* slots the reader may fill / the hasher may consume */
	unsigned head, tail;	/* next slot to fill (reader) / to hash (hasher) */
	size_t len[HQ_SLOTS];	/* 0: end of stream */
	char *buf;
	pthread_t t;
	int threaded;
	struct fdsrc *fs;
};
void hashq_start(struct hashq *q);
void hashq_add(struct hashq *q, const void *p, size_t n);
void hashq_end(struct hashq *q, unsigned char sum[32]);
ssize_t hashq_read(void *ctx, void *p, size_t n);

/* layer.c: unpack one layer blob (plain tar or gzip; zstd refused) read from src into dirfd/name
 * (created; NULL: only hash it), as an overlay-ready diff. The uncompressed stream's SHA-256 is
 * diff_id (hex), its length size; max bounds it. */
struct layer_info {
	char diff_id[65];
	uint64_t size;
};
int layer_unpack(struct tar_src *src, int dirfd, const char *name, uint64_t max, struct layer_info *li,
		 struct err *e);
/* Write the tree under dirfd as a layer tar: 0:0 char devices -> .wh.NAME, opaque dirs ->
 * DIR/.wh..wh..opq; sorted, hard links kept, symlinks not followed. */
int layer_tar(struct tar_writer *w, int dirfd, struct err *e);
/* Write dirfd's tree as a layer tar into stage/<file>; diff_id and size of it. */
int layer_tar_file(int dirfd, struct stage *s, const char *file, struct layer_info *li, struct err *e);

/* sig.c: when a key is configured (o->verify_key, $MYDOCKER_VERIFY_KEY, ROOT/verify-key.pem),
 * require the detached signature of the archive whose SHA-256 is hash. */
int sig_check(const struct image_opts *o, const unsigned char hash[32], struct err *e);

#endif
