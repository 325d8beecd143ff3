/* Unit tests: the allocator (lib/alloc.c in musl builds; the libc's own under sanitizers, where the
 * same properties must hold). */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "util.h"

static int aligned(const void *p)
{
	return ((uintptr_t)p & 15) == 0;
}

/* every size from 0 to past the largest class: aligned, usable, distinct, keeps its bytes */
TEST(sizes)
{
	enum { N = 300 };
	static char *p[N];
	static size_t n[N];
	for (int i = 0; i < N; i++) {
		n[i] = i < 200 ? (size_t)i * 7 : (size_t)(i - 199) * 1531;	/* 0 .. 152 KiB */
		p[i] = malloc(n[i]);
		CHECK(p[i] && aligned(p[i]));
		if (!p[i])
			return;
		CHECK(malloc_usable_size(p[i]) >= n[i]);
		memset(p[i], i & 0xff, n[i]);
	}
	for (int i = 0; i < N; i++) {
		int ok = 1;
		for (size_t k = 0; k < n[i]; k++)
			ok &= (unsigned char)p[i][k] == (i & 0xff);
		CHECK(ok);
	}
	for (int i = 0; i < N; i += 2)
		free(p[i]);
	/* reuse of freed blocks must not disturb the live ones */
	for (int i = 0; i < N; i += 2) {
		p[i] = malloc(n[i]);
		CHECK(p[i] != NULL);
		if (p[i])
			memset(p[i], 0xee, n[i]);
	}
	for (int i = 1; i < N; i += 2) {
		int ok = 1;
		for (size_t k = 0; k < n[i]; k++)
			ok &= (unsigned char)p[i][k] == (i & 0xff);
		CHECK(ok);
	}
	for (int i = 0; i < N; i++)
		free(p[i]);
	free(NULL);
}

TEST(calloc_zeroes_reused_blocks)
{
	char *a = malloc(100);
	CHECK(a != NULL);
	memset(a, 0x5a, 100);
	free(a);
	char *b = calloc(10, 10);
	int zero = b != NULL;
	for (int i = 0; b && i < 100; i++)
		zero &= !b[i];
	CHECK(zero);
	free(b);
#ifndef __SANITIZE_ADDRESS__	/* ASan reports these instead of returning NULL */
	volatile size_t huge = SIZE_MAX - 8;
	errno = 0;
	CHECK(calloc(huge / 2, 3) == NULL && errno == ENOMEM);
	CHECK(malloc(huge) == NULL);
#endif
}

TEST(realloc_keeps_contents)
{
	char *p = realloc(NULL, 10);
	CHECK(p != NULL);
	if (!p)
		return;
	memcpy(p, "0123456789", 10);
	/* grow through every class and into a mapping of its own, then shrink back */
	size_t sizes[] = { 20, 100, 1000, 5000, 70000, 300000, 50, 10 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = realloc(p, sizes[i]);
		CHECK(p && aligned(p) && !memcmp(p, "0123456789", 10));
		if (!p)
			return;
		if (sizes[i] > 10)
			memset(p + 10, 'x', sizes[i] - 10);
	}
	free(p);
}

TEST(aligned)
{
	void *p = NULL;
	CHECK(!posix_memalign(&p, 16, 40) && aligned(p));
	free(p);
	p = aligned_alloc(8, 64);
	CHECK(p && ((uintptr_t)p & 7) == 0);
	free(p);
}

#ifndef __GLIBC__
/* A CLONE_VM child's arena (lib/runtime.c launch): told apart by its stack (here: ours, declared as
 * the child's), it allocates from the arena only, never frees, and never writes a block of the
 * parent's; once the arena is gone the usual allocator is back. */
TEST(clone_arena)
{
	static char arena[64 << 10] __attribute__((aligned(16)));
	char here, *top = &here + (1 << 20), *lo = &here - (1 << 20);
	char *volatile parent = malloc(64);	/* volatile: read after realloc, on purpose */
	char *kept = malloc(64);
	CHECK(parent && kept);
	if (!parent || !kept)
		return;
	memset(parent, 'p', 64);
	alloc_clone_arena(lo, top, arena, sizeof(arena));
	char *a = malloc(100), *z = calloc(10, 10);
	CHECK(a >= arena && a + 100 <= arena + sizeof(arena) && aligned(a));
	CHECK(z >= arena && z + 100 <= arena + sizeof(arena) && !z[0] && !z[99]);
	char *grown = realloc(parent, 32);	/* even a shrink copies: the parent's block stays as it was */
	CHECK(grown != parent && grown >= arena && !memcmp(grown, "pppp", 4));
	free(parent);	/* not the child's to free: untouched (a freed block would hold a list link) */
	free(a);
	char *b = malloc(16);
	CHECK(b != a);	/* nothing is reused */
	errno = 0;
	CHECK(malloc(sizeof(arena)) == NULL && errno == ENOMEM);
	alloc_clone_arena(NULL, NULL, NULL, 0);
	int untouched = 1;
	for (int i = 0; i < 64; i++)
		untouched &= parent[i] == 'p';
	CHECK(untouched);
	char *c = malloc(100);
	CHECK(c && (c < arena || c >= arena + sizeof(arena)));
	free(c);
	free(parent);
	free(kept);
}
#endif

int main(void)
{
#ifndef __GLIBC__
	RUN(clone_arena);
#endif
	RUN(sizes);
	RUN(calloc_zeroes_reused_blocks);
	RUN(realloc_keeps_contents);
	RUN(aligned);
	return UNIT_END();
}
