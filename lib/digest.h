/* digest: streaming SHA-256 (BearSSL) and hex helpers. */
#ifndef MYDOCKER_DIGEST_H
#define MYDOCKER_DIGEST_H

#include <stddef.h>
#include <bearssl_hash.h>

struct sha256 {
	br_sha256_context ctx;
};
void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *p, size_t n);
/* out: 32 bytes */
void sha256_final(struct sha256 *h, unsigned char out[32]);
/* hex: 65 bytes, lowercase, NUL-terminated */
void sha256_hex(struct sha256 *h, char hex[65]);
void sha256_buf_hex(const void *p, size_t n, char hex[65]);
void hex_encode(const unsigned char *p, size_t n, char *out);	/* out: 2n+1 */
/* Constant-time compare of two lowercase hex strings of equal length; accepts "sha256:" prefix on either. */
int digest_eq(const char *a, const char *b);

#endif
