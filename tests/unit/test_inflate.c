/* inflate against gzip's own output: random and compressible data, every level, several members,
 * small reads, corruption, truncation and the output bound. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "inflate.h"
#include "unit.h"

static char dir[] = "/tmp/inflate.XXXXXX";

struct mem {
	const unsigned char *p;
	size_t n, pos, chunk;
};

static ssize_t mem_read(void *ctx, void *p, size_t n)
{
	struct mem *m = ctx;
	if (n > m->chunk)
		n = m->chunk;
	if (n > m->n - m->pos)
		n = m->n - m->pos;
	memcpy(p, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static unsigned char *slurp(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t sz = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	unsigned char *p = sz < 0 ? NULL : malloc(sz + 1);
	if (p && pread(fd, p, sz, 0) != sz) {
		free(p);
		p = NULL;
	}
	if (fd >= 0)
		close(fd);
	*n = p ? (size_t)sz : 0;
	return p;
}

static void spit(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, p, n) == (ssize_t)n);
	close(fd);
}

/* gunzip gz (read chunk bytes at a time, output into reads of outchunk); 0 and the output, or error */
static ssize_t run(const unsigned char *gz, size_t gzn, size_t chunk, size_t outchunk, uint64_t max,
		   unsigned char **out, char *why)
{
	struct mem m = { gz, gzn, 0, chunk };
	struct tar_src src = { mem_read, &m };
	struct gunzip *g = gunzip_new(&src, max);
	size_t cap = 1 << 16, len = 0;
	unsigned char *o = malloc(cap);
	ssize_t r;
	for (;;) {
		if (cap - len < outchunk)
			o = realloc(o, cap *= 2);
		r = gunzip_read(g, o + len, outchunk);
		if (r <= 0)
			break;
		len += r;
	}
	snprintf(why, 96, "%s", gunzip_error(g));
	gunzip_free(g);
	*out = o;
	return r < 0 ? r : (ssize_t)len;
}

static void roundtrip(const unsigned char *data, size_t n, const char *opts)
{
	char cmd[256], in[64], gzf[64], why[96];
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(gzf, sizeof(gzf), "%s/in.gz", dir);
	spit(in, data, n);
	snprintf(cmd, sizeof(cmd), "gzip -c %s %s > %s", opts, in, gzf);
	CHECK(system(cmd) == 0);
	size_t gzn;
	unsigned char *gz = slurp(gzf, &gzn), *out;
	size_t chunks[][2] = { { 1 << 20, 1 << 16 }, { 1, 7 }, { 13, 1 } };
	for (size_t c = 0; c < ARRAY_SIZE(chunks) && gz; c++) {
		if (n > 300000 && chunks[c][1] < 100)
			continue;
		ssize_t r = run(gz, gzn, chunks[c][0], chunks[c][1], UINT64_MAX, &out, why);
		if (r != (ssize_t)n || memcmp(out, data, n))
			printf("  %s size %zu chunk %zu/%zu: got %zd (%s)\n", opts, n, chunks[c][0], chunks[c][1], r, why);
		CHECK(r == (ssize_t)n && !memcmp(out, data, n));
		free(out);
	}
	free(gz);
}

static unsigned char *sample(size_t n, int kind)
{
	unsigned char *p = malloc(n + 1);
	unsigned s = 12345;
	for (size_t i = 0; i < n; i++) {
		s = s * 1103515245 + 12345;
		switch (kind) {
		case 0: p[i] = s >> 16; break;				/* random */
		case 1: p[i] = "abcabcabd\n"[(s >> 16) % 10]; break;	/* compressible */
		case 2: p[i] = i % 251 < 200 ? 0 : s >> 20; break;	/* long runs */
		default: p[i] = (i / 4096) & 1 ? p[i - 4096] : s >> 16;	/* far repeats */
		}
	}
	return p;
}

TEST(levels)
{
	for (int kind = 0; kind < 4; kind++) {
		unsigned char *d = sample(200000, kind);
		for (int l = 1; l <= 9; l++) {
			char o[8];
			snprintf(o, sizeof(o), "-%d", l);
			roundtrip(d, kind == 0 && l > 2 ? 70000 : 200000, o);
		}
		free(d);
	}
}

TEST(sizes)
{
	unsigned char *d = sample(3 << 20, 1);
	size_t sizes[] = { 0, 1, 2, 100, 32767, 32768, 32769, 65536 + 3, 3 << 20 };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		roundtrip(d, sizes[i], "-6 -n");
	free(d);
	d = sample(1 << 20, 3);
	roundtrip(d, 1 << 20, "-9 -N");
	free(d);
}

static unsigned char *gzip_of(const char *text, size_t *n)
{
	char cmd[256], f[64];
	snprintf(f, sizeof(f), "%s/t.gz", dir);
	snprintf(cmd, sizeof(cmd), "printf '%s' | gzip -c > %s", text, f);
	CHECK(system(cmd) == 0);
	return slurp(f, n);
}

TEST(members)
{
	size_t a, b;
	unsigned char *ga = gzip_of("hello ", &a), *gb = gzip_of("world", &b), *out;
	unsigned char *both = malloc(a + b);
	char why[96];
	memcpy(both, ga, a);
	memcpy(both + a, gb, b);
	ssize_t r = run(both, a + b, 3, 4, UINT64_MAX, &out, why);
	CHECK(r == 11 && !memcmp(out, "hello world", 11));
	free(out);
	free(both);
	free(ga);
	free(gb);
}

TEST(corrupt)
{
	size_t n;
	unsigned char *out, *g = gzip_of("some text that is long enough, some text that is long enough", &n);
	char why[96];
	g[n - 6] ^= 1;	/* CRC */
	CHECK(run(g, n, 1 << 20, 1 << 16, UINT64_MAX, &out, why) == -EINVAL && strstr(why, "CRC"));
	free(out);
	g[n - 6] ^= 1;
	g[n - 2] ^= 1;	/* ISIZE */
	CHECK(run(g, n, 1 << 20, 1 << 16, UINT64_MAX, &out, why) == -EINVAL && strstr(why, "length"));
	free(out);
	g[n - 2] ^= 1;
	CHECK(run(g, n - 3, 1 << 20, 1 << 16, UINT64_MAX, &out, why) == -EIO);	/* truncated */
	free(out);
	CHECK(run(g, n, 1 << 20, 1 << 16, UINT64_MAX, &out, why) > 0);
	free(out);
	CHECK(run((const unsigned char *)"PK\3\4 not gzip", 14, 64, 64, UINT64_MAX, &out, why) == -EINVAL &&
	      strstr(why, "not in gzip format"));
	free(out);
	unsigned char junk[600];
	for (int seed = 0; seed < 200; seed++) {	/* garbage deflate data never crashes */
		unsigned s = seed;
		memcpy(junk, g, 10);
		for (size_t i = 10; i < sizeof(junk); i++)
			junk[i] = (s = s * 1103515245 + 12345) >> 16;
		CHECK(run(junk, sizeof(junk), 1 << 20, 1 << 16, 1 << 20, &out, why) < 0);
		free(out);
	}
	free(g);
}

TEST(bomb)
{
	unsigned char *d = calloc(1, 4 << 20), *out;
	char why[96], f[64], cmd[128];
	snprintf(f, sizeof(f), "%s/zero", dir);
	spit(f, d, 4 << 20);
	snprintf(cmd, sizeof(cmd), "gzip -9 %s", f);
	CHECK(system(cmd) == 0);
	strcat(f, ".gz");
	size_t n;
	unsigned char *g = slurp(f, &n);
	CHECK(n < 10000);
	CHECK(run(g, n, 1 << 20, 1 << 16, 1 << 20, &out, why) == -EFBIG && strstr(why, "limit"));
	free(out);
	CHECK(run(g, n, 1 << 20, 1 << 16, 4 << 20, &out, why) == 4 << 20);
	free(out);
	free(g);
	free(d);
}

TEST(crc)
{
	CHECK(crc32_update(0, "123456789", 9) == 0xcbf43926u);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(crc);
	RUN(levels);
	RUN(sizes);
	RUN(members);
	RUN(corrupt);
	RUN(bomb);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return UNIT_END();
}
