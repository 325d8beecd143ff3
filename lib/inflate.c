/* inflate: streaming gunzip, written from RFC 1951 and RFC 1952.
 *
 * Input is pulled from a tar_src into a 64-bit bit buffer; output goes through a 32 KiB window (the
 * largest deflate distance) into the caller's buffer. The only state kept between calls is where
 * the decoder stands (header, block header, stored bytes, Huffman symbols, trailer) and a pending
 * match, so a read may stop anywhere. Huffman codes are decoded with a 9-bit table for the common
 * short codes and a canonical bit-by-bit walk for the rest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inflate.h"

#define FAST 9

struct huff {
	uint16_t count[16];	/* codes per length */
	uint16_t sym[288];	/* symbols ordered by code */
	uint16_t fast[1 << FAST];	/* (sym << 4) | len for codes up to FAST bits, 0: walk */
};

enum { S_HEADER, S_BLOCK, S_STORED, S_HUFF, S_TRAILER, S_DONE, S_FAILED };

struct gunzip {
	struct tar_src *in;
	uint64_t bits;		/* LSB first */
	int nbits;
	int ieof;
	size_t ipos, ilen;
	int state, last, members;
	unsigned stored, mlen, mdist;
	uint32_t crc, msize;	/* this member's CRC-32 and size mod 2^32 */
	uint64_t total, max, mtotal;
	uint32_t wpos;
	struct huff lit, dist;
	char err[96];
	unsigned char win[32768];
	unsigned char ib[16384];
};

static uint32_t crc_table[256];

uint32_t crc32_update(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *s = p;
	if (!crc_table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			crc_table[i] = c;
		}
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *s++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static int bad(struct gunzip *g, int no, const char *what)
{
	if (!g->err[0])
		snprintf(g->err, sizeof(g->err), "gzip: %s", what);
	g->state = S_FAILED;
	return -no;
}

/* Top up the bit buffer to at least n bits (n <= 57). 0, or <0 at a hard error; at the end of
 * the input fewer bits may be there: callers check nbits. */
static int fill(struct gunzip *g, int n)
{
	while (g->nbits < n) {
		if (g->ipos == g->ilen) {
			if (g->ieof)
				return 0;
			ssize_t r = g->in->read(g->in->ctx, g->ib, sizeof(g->ib));
			if (r < 0)
				return bad(g, (int)-r, "read error");
			if (r == 0) {
				g->ieof = 1;
				return 0;
			}
			g->ipos = 0;
			g->ilen = r;
		}
		g->bits |= (uint64_t)g->ib[g->ipos++] << g->nbits;
		g->nbits += 8;
	}
	return 0;
}

/* n bits (n <= 32) or <0. */
static int64_t getbits(struct gunzip *g, int n)
{
	int r = fill(g, n);
	if (r)
		return r;
	if (g->nbits < n)
		return bad(g, EIO, "unexpected end of data");
	uint64_t v = g->bits & ((1ull << n) - 1);
	g->bits >>= n;
	g->nbits -= n;
	return (int64_t)v;
}

static void align(struct gunzip *g)
{
	g->bits >>= g->nbits & 7;
	g->nbits &= ~7;
}

/* Canonical code from lengths; incomplete codes are allowed (their unused codes fail at decode). */
static int build(struct huff *h, const unsigned char *len, int n)
{
	uint16_t offs[16];
	int left = 1;
	memset(h->count, 0, sizeof(h->count));
	memset(h->fast, 0, sizeof(h->fast));
	for (int i = 0; i < n; i++)
		h->count[len[i]]++;
	h->count[0] = 0;
	for (int l = 1; l < 16; l++) {
		left = (left << 1) - h->count[l];
		if (left < 0)
			return -1;
	}
	offs[1] = 0;
	for (int l = 1; l < 15; l++)
		offs[l + 1] = offs[l] + h->count[l];
	for (int i = 0; i < n; i++)
		if (len[i])
			h->sym[offs[len[i]]++] = i;
	/* fast table: walk codes in canonical order, bit-reverse each */
	unsigned code = 0, k = 0;
	for (int l = 1; l <= FAST; l++, code <<= 1)
		for (int c = 0; c < h->count[l]; c++, code++, k++) {
			unsigned rev = 0;
			for (int b = 0; b < l; b++)
				rev |= ((code >> b) & 1) << (l - 1 - b);
			for (unsigned f = rev; f < (1u << FAST); f += 1u << l)
				h->fast[f] = (uint16_t)(h->sym[k] << 4 | l);
		}
	return 0;
}

static int decode(struct gunzip *g, const struct huff *h)
{
	int r = fill(g, 15);
	if (r)
		return r;
	unsigned e = h->fast[g->bits & ((1u << FAST) - 1)];
	if (e && (int)(e & 15) <= g->nbits) {
		g->bits >>= e & 15;
		g->nbits -= e & 15;
		return e >> 4;
	}
	int code = 0, first = 0, index = 0;
	for (int l = 1; l < 16; l++) {
		if (!g->nbits)
			return bad(g, EIO, "unexpected end of data");
		code |= g->bits & 1;
		g->bits >>= 1;
		g->nbits--;
		int count = h->count[l];
		if (code - count < first)
			return h->sym[index + (code - first)];
		index += count;
		first = (first + count) << 1;
		code <<= 1;
	}
	return bad(g, EINVAL, "invalid Huffman code");
}

static int fixed_tables(struct gunzip *g)
{
	unsigned char l[288];
	memset(l, 8, 144);
	memset(l + 144, 9, 112);
	memset(l + 256, 7, 24);
	memset(l + 280, 8, 8);
	build(&g->lit, l, 288);
	memset(l, 5, 30);
	build(&g->dist, l, 30);
	return 0;
}

static int dynamic_tables(struct gunzip *g)
{
	static const unsigned char order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
	unsigned char l[320] = { 0 };
	int64_t hlit = getbits(g, 5), hdist = getbits(g, 5), hclen = getbits(g, 4);
	if (hlit < 0 || hdist < 0 || hclen < 0)
		return -EIO;
	hlit += 257, hdist += 1, hclen += 4;
	if (hlit > 286 || hdist > 30)
		return bad(g, EINVAL, "bad code counts");
	for (int i = 0; i < hclen; i++) {
		int64_t v = getbits(g, 3);
		if (v < 0)
			return (int)v;
		l[order[i]] = (unsigned char)v;
	}
	if (build(&g->lit, l, 19))
		return bad(g, EINVAL, "bad code lengths code");
	memset(l, 0, 19);
	for (int i = 0; i < hlit + hdist;) {
		int s = decode(g, &g->lit);
		int64_t rep;
		unsigned char v = 0;
		if (s < 0)
			return s;
		if (s < 16) {
			l[i++] = (unsigned char)s;
			continue;
		}
		if (s == 16) {
			if (!i)
				return bad(g, EINVAL, "repeat with no length");
			v = l[i - 1];
			rep = getbits(g, 2) + 3;
		} else {
			rep = s == 17 ? getbits(g, 3) + 3 : getbits(g, 7) + 11;
		}
		if (rep < 3 || i + rep > hlit + hdist)
			return bad(g, EINVAL, "bad code length repeat");
		while (rep--)
			l[i++] = v;
	}
	if (!l[256])
		return bad(g, EINVAL, "no end-of-block code");
	if (build(&g->lit, l, (int)hlit) || build(&g->dist, l + hlit, (int)hdist))
		return bad(g, EINVAL, "over-subscribed code");
	return 0;
}

static int get_byte(struct gunzip *g)
{
	return (int)getbits(g, 8);
}

/* Member header (RFC 1952 2.3). 1: parsed, 0: clean end of input after a member, <0 error. */
static int header(struct gunzip *g)
{
	align(g);
	if (fill(g, 8))
		return -EIO;
	if (g->nbits == 0 && g->members)
		return 0;
	int id1 = get_byte(g), id2 = get_byte(g), cm = get_byte(g), flg = get_byte(g);
	if (id1 != 0x1f || id2 != 0x8b)
		return bad(g, EINVAL, g->members ? "trailing garbage after the data" : "not in gzip format");
	if (cm != 8 || (flg & 0xe0))
		return bad(g, EINVAL, "unknown compression method or flags");
	for (int i = 0; i < 6; i++)	/* MTIME, XFL, OS */
		if (get_byte(g) < 0)
			return -EIO;
	if (flg & 4) {			/* FEXTRA */
		int64_t n = getbits(g, 16);
		while (n-- > 0)
			if (get_byte(g) < 0)
				return -EIO;
	}
	for (int f = 8; f <= 16; f <<= 1) {	/* FNAME, FCOMMENT: zero-terminated */
		int c = 1;
		while ((flg & f) && c > 0)
			c = get_byte(g);
		if (c < 0)
			return -EIO;
	}
	if ((flg & 2) && getbits(g, 16) < 0)	/* FHCRC */
		return -EIO;
	g->members++;
	g->crc = 0;
	g->msize = 0;
	g->mtotal = 0;
	g->last = 0;
	return 1;
}

static int trailer(struct gunzip *g)
{
	align(g);
	int64_t crc = getbits(g, 32), size = getbits(g, 32);
	if (crc < 0 || size < 0)
		return -EIO;
	if ((uint32_t)crc != g->crc)
		return bad(g, EINVAL, "CRC-32 mismatch (corrupt data)");
	if ((uint32_t)size != g->msize)
		return bad(g, EINVAL, "length mismatch (corrupt data)");
	return 0;
}

static int block_header(struct gunzip *g)
{
	int64_t h = getbits(g, 3);
	if (h < 0)
		return (int)h;
	g->last = h & 1;
	switch (h >> 1) {
	case 0: {
		align(g);
		int64_t len = getbits(g, 16), nlen = getbits(g, 16);
		if (len < 0 || nlen < 0)
			return -EIO;
		if ((len ^ 0xffff) != nlen)
			return bad(g, EINVAL, "stored block length check failed");
		g->stored = (unsigned)len;
		g->state = S_STORED;
		return 0;
	}
	case 1:
		fixed_tables(g);
		break;
	case 2:
		if (dynamic_tables(g))
			return -EINVAL;
		break;
	default:
		return bad(g, EINVAL, "invalid block type");
	}
	g->state = S_HUFF;
	return 0;
}

/* Length (sym 257..285) or distance (0..29) code -> value, reading the extra bits. */
static int64_t base(struct gunzip *g, int sym, int dist)
{
	int n = dist ? 30 : 29, v = dist ? 1 : 3;
	if (sym >= n)
		return bad(g, EINVAL, "invalid length or distance code");
	if (!dist && sym == 28)
		return 258;
	for (int i = 0; i < sym; i++) {
		int x = dist ? (i < 4 ? 0 : (i - 2) / 2) : (i < 8 ? 0 : (i - 4) / 4);
		v += 1 << x;
	}
	int x = dist ? (sym < 4 ? 0 : (sym - 2) / 2) : (sym < 8 ? 0 : (sym - 4) / 4);
	int64_t e = getbits(g, x);
	return e < 0 ? e : v + e;
}

static inline void put(struct gunzip *g, unsigned char *out, size_t *k, unsigned char c)
{
	g->win[g->wpos++ & 32767] = c;
	out[(*k)++] = c;
}

/* Decode symbols of the current Huffman block into out until it is full or the block ends. */
static int huff(struct gunzip *g, unsigned char *out, size_t *k, size_t n)
{
	while (*k < n) {
		if (g->mlen) {
			size_t m = g->mlen < n - *k ? g->mlen : n - *k;
			g->mlen -= m;
			while (m--)
				put(g, out, k, g->win[(g->wpos - g->mdist) & 32767]);
			continue;
		}
		int s = decode(g, &g->lit);
		if (s < 0)
			return s;
		if (s < 256) {
			put(g, out, k, (unsigned char)s);
			continue;
		}
		if (s == 256) {
			g->state = g->last ? S_TRAILER : S_BLOCK;
			return 0;
		}
		int64_t len = base(g, s - 257, 0);
		int d = len < 0 ? -1 : decode(g, &g->dist);
		int64_t dist = d < 0 ? d : base(g, d, 1);
		if (len < 0 || dist < 0)
			return -EINVAL;
		if ((uint64_t)dist > g->mtotal + *k)
			return bad(g, EINVAL, "distance too far back");
		g->mlen = (unsigned)len;
		g->mdist = (unsigned)dist;
	}
	return 0;
}

/* Account bytes out[from..k) to the member: CRC, size, total, bound. */
static int account(struct gunzip *g, const unsigned char *out, size_t from, size_t k)
{
	g->crc = crc32_update(g->crc, out + from, k - from);
	g->msize += (uint32_t)(k - from);
	g->mtotal += k - from;
	g->total += k - from;
	if (g->total > g->max) {
		snprintf(g->err, sizeof(g->err), "gzip: data larger than the limit of %llu bytes",
			 (unsigned long long)g->max);
		return bad(g, EFBIG, "");
	}
	return 0;
}

ssize_t gunzip_read(void *ctx, void *p, size_t n)
{
	struct gunzip *g = ctx;
	unsigned char *out = p;
	size_t k = 0, from = 0;
	int r = 0;

	while (k < n && !r && g->state != S_DONE && g->state != S_FAILED) {
		switch (g->state) {
		case S_HEADER:
			r = header(g);
			if (r >= 0)
				g->state = r ? S_BLOCK : S_DONE;
			r = r < 0 ? r : 0;
			break;
		case S_BLOCK:
			r = block_header(g);
			break;
		case S_STORED:
			while (g->stored && k < n && !r) {
				int c = get_byte(g);
				if (c < 0)
					r = c;
				else
					put(g, out, &k, (unsigned char)c), g->stored--;
			}
			if (!g->stored && !r)
				g->state = g->last ? S_TRAILER : S_BLOCK;
			break;
		case S_HUFF:
			r = huff(g, out, &k, n);
			break;
		case S_TRAILER:
			if ((r = account(g, out, from, k)))
				break;
			from = k;
			if (!(r = trailer(g)))
				g->state = S_HEADER;
			break;
		}
	}
	if (g->state == S_FAILED)
		return r ? r : -EINVAL;
	if ((r = account(g, out, from, k)))
		return r;
	return (ssize_t)k;
}

struct gunzip *gunzip_new(struct tar_src *in, uint64_t max)
{
	struct gunzip *g = calloc(1, sizeof(*g));
	if (g) {
		g->in = in;
		g->max = max;
	}
	return g;
}

void gunzip_free(struct gunzip *g)
{
	free(g);
}

const char *gunzip_error(const struct gunzip *g)
{
	return g->err;
}

uint64_t gunzip_total(const struct gunzip *g)
{
	return g->total;
}
