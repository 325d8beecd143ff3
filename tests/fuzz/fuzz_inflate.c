/* libFuzzer target: gunzip any input, read in odd-sized pieces, with a small output bound.
 * The output never exceeds the bound, the reported total matches what was read, and an error
 * always comes with a reason. The first input byte picks the read size (1..256 bytes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "inflate.h"

#define MAX_OUT (256u << 10)

struct mem {
	const unsigned char *p;
	size_t n, off, chunk;
};

static ssize_t mem_read(void *ctx, void *p, size_t n)
{
	struct mem *m = ctx;
	if (n > m->chunk)
		n = m->chunk;
	if (n > m->n - m->off)
		n = m->n - m->off;
	memcpy(p, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	struct mem m = { data + 1, size - 1, 0, (size_t)data[0] + 1 };
	struct tar_src src = { mem_read, &m };
	struct gunzip *g = gunzip_new(&src, MAX_OUT);
	static unsigned char out[4099];
	uint64_t total = 0;
	ssize_t n;
	if (!g)
		abort();
	/* vary the output read size too */
	size_t want = 1 + (size % sizeof(out));
	while ((n = gunzip_read(g, out, want)) > 0) {
		if ((size_t)n > want)
			abort();
		total += (uint64_t)n;
		if (total > MAX_OUT)
			abort();	/* the bound must hold */
	}
	/* at a clean end the total is exactly what was delivered (after an error it may also count
	 * the piece of output that the failing call discarded) */
	if (gunzip_total(g) < total || (n == 0 && gunzip_total(g) != total))
		abort();
	if (n == -EINVAL && !*gunzip_error(g))
		abort();	/* a corrupt stream always says why */
	gunzip_free(g);
	return 0;
}
