/* digest: SHA-256 through BearSSL, hex helpers. */
#include <string.h>
#include "digest.h"

void sha256_init(struct sha256 *h)
{
	br_sha256_init(&h->ctx);
}

void sha256_update(struct sha256 *h, const void *p, size_t n)
{
	br_sha256_update(&h->ctx, p, n);
}

void sha256_final(struct sha256 *h, unsigned char out[32])
{
	br_sha256_out(&h->ctx, out);
}

void hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = 0;
}

void sha256_hex(struct sha256 *h, char hex[65])
{
	unsigned char d[32];
	sha256_final(h, d);
	hex_encode(d, 32, hex);
}

void sha256_buf_hex(const void *p, size_t n, char hex[65])
{
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, p, n);
	sha256_hex(&h, hex);
}

int digest_eq(const char *a, const char *b)
{
	if (!strncmp(a, "sha256:", 7))
		a += 7;
	if (!strncmp(b, "sha256:", 7))
		b += 7;
	size_t n = strlen(a);
	if (n != strlen(b))
		return 0;
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'F')
			x += 32;
		if (y >= 'A' && y <= 'F')
			y += 32;
		d |= x ^ y;
	}
	return d == 0;
}
