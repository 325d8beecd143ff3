/* inflate: a small streaming gunzip (RFC 1952 members over RFC 1951 deflate), read as a tar_src.
 * Every member's CRC-32 and ISIZE are checked; several members are concatenated (gzip -c a b);
 * the output is bounded so that a gzip bomb cannot fill the disk. */
#ifndef MYDOCKER_INFLATE_H
#define MYDOCKER_INFLATE_H

#include <stdint.h>
#include <sys/types.h>
#include "tar.h"

struct gunzip;

/* Decompress what `in` delivers; more than max output bytes is an error (-EFBIG). NULL: no memory. */
struct gunzip *gunzip_new(struct tar_src *in, uint64_t max);
void gunzip_free(struct gunzip *g);
/* tar_src read function (ctx = the struct gunzip): bytes, 0 at the end of the last member, or
 * -EINVAL (corrupt: see gunzip_error), -EFBIG (over max), -EIO (truncated), or the source's error. */
ssize_t gunzip_read(void *ctx, void *p, size_t n);
/* What went wrong, "" if nothing did. */
const char *gunzip_error(const struct gunzip *g);
/* Bytes produced so far. */
uint64_t gunzip_total(const struct gunzip *g);

uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

#endif
