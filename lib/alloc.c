/* alloc: the binary's malloc (musl builds; glibc builds -- sanitizers, fuzzers -- keep their own).
 *
 * A run lives for milliseconds and its cost is page faults (~15 us each on the VMs we measure on):
 * musl's allocator maps and unmaps small groups as they fill and empty, so the same few pages fault
 * again and again. This one carves blocks of 24 size classes from one region that only grows,
 * keeps freed blocks on a list per class for reuse, and maps big blocks (over 64 KiB) on their
 * own, returned at free. A 16-byte header before each block holds its class (or its mapping's
 * size). One lock: the image store hashes on a second thread.
 *
 * The container stage (lib/runtime.c launch) is cloned with CLONE_VM and runs on this memory until
 * it execs. It allocates from an arena of its own, told apart by its stack, and frees nothing: it
 * takes no lock its parent needs (it may be killed holding it), and it frees nothing that is its
 * parent's. Its blocks go when the parent unmaps the arena. */
#define _GNU_SOURCE
#include <errno.h>	/* first: with glibc it defines __GLIBC__ */
#ifndef __GLIBC__
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#define HDR 16
#define NCLASS 24
#define BIG (64u << 10)
#define CHUNK (256u << 10)

static const uint32_t class_size[NCLASS] = {
	16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096,
	6144, 8192, 12288, 16384, 24576, 32768, 49152, 65536,
};

struct hdr {
	size_t cls;	/* class index, or NCLASS + the size of a big block's mapping */
	size_t pad;
};

static void *free_list[NCLASS];
static char first[64u << 10] __attribute__((aligned(HDR)));	/* the region's start: no mmap at all for most runs */
static char *cur = first, *lim = first + sizeof(first);
static volatile char lock;
/* the cloned stage's stack (to tell it apart) and arena; all NULL when there is none */
static uintptr_t kid_lo, kid_hi;
static char *kid_cur, *kid_lim;
#define KID ((size_t)1 << (sizeof(size_t) * 8 - 1))	/* a header's flag: an arena block */

void alloc_clone_arena(void *stack_lo, void *stack_hi, void *arena, size_t len)
{
	kid_lo = (uintptr_t)stack_lo;
	kid_hi = (uintptr_t)stack_hi;
	kid_cur = arena;
	kid_lim = arena ? (char *)arena + len : NULL;
}

static int in_kid(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	return sp >= kid_lo && sp < kid_hi;
}

/* the arena is a fresh mapping: zero, as calloc wants it */
static void *kid_alloc(size_t n)
{
	size_t sz = (n + HDR - 1) & ~(size_t)(HDR - 1);
	if (sz < n || sz > (size_t)(kid_lim - kid_cur) - HDR) {
		errno = ENOMEM;
		return NULL;
	}
	struct hdr *h = (struct hdr *)kid_cur;
	kid_cur += HDR + sz;
	h->cls = KID | sz;
	return (char *)h + HDR;
}

static void take(void)
{
	while (__atomic_test_and_set(&lock, __ATOMIC_ACQUIRE))
		;
}

static void give(void)
{
	__atomic_clear(&lock, __ATOMIC_RELEASE);
}

static int class_of(size_t n)
{
	int lo = 0, hi = NCLASS - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (class_size[mid] >= n)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void *big_alloc(size_t n)
{
	if (n > SIZE_MAX - HDR - 4096) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = (n + HDR + 4095) & ~(size_t)4095;
	struct hdr *h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	h->cls = NCLASS + len;
	return (char *)h + HDR;
}

void *malloc(size_t n)
{
	if (in_kid())
		return kid_alloc(n);
	if (n > BIG)
		return big_alloc(n);
	int c = class_of(n ? n : 1);
	size_t sz = class_size[c] + HDR;
	take();
	void *p = free_list[c];
	if (p) {
		free_list[c] = *(void **)p;
		give();
		return p;
	}
	if ((size_t)(lim - cur) < sz) {
		/* the rest of the old region stays unused: less than one block of this class */
		char *m = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			give();
			errno = ENOMEM;
			return NULL;
		}
		cur = m;
		lim = m + CHUNK;
	}
	struct hdr *h = (struct hdr *)cur;
	cur += sz;
	give();
	h->cls = (size_t)c;
	return (char *)h + HDR;
}

void free(void *p)
{
	if (!p)
		return;
	struct hdr *h = (struct hdr *)((char *)p - HDR);
	if (in_kid() || (h->cls & KID))
		return;
	if (h->cls >= NCLASS) {
		munmap(h, h->cls - NCLASS);
		return;
	}
	take();
	*(void **)p = free_list[h->cls];
	free_list[h->cls] = p;
	give();
}

size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	struct hdr *h = (struct hdr *)((char *)p - HDR);
	return h->cls & KID ? h->cls & ~KID : h->cls >= NCLASS ? h->cls - NCLASS - HDR : class_size[h->cls];
}

void *calloc(size_t a, size_t b)
{
	size_t n;
	if (__builtin_mul_overflow(a, b, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = malloc(n);
	/* a big block is a fresh mapping, zero already */
	if (p && n <= BIG && !in_kid())
		memset(p, 0, n);
	return p;
}

void *realloc(void *p, size_t n)
{
	if (!p)
		return malloc(n);
	size_t have = malloc_usable_size(p);
	if (n <= have && (n > BIG || have <= BIG) && !in_kid())
		return p;
	void *q = malloc(n);
	if (q) {
		memcpy(q, p, have < n ? have : n);
		free(p);
	}
	return q;
}

/* Blocks are 16-byte aligned; nothing here asks for more. */
void *aligned_alloc(size_t align, size_t n)
{
	if (align > HDR || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return malloc(n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (align > HDR || (align & (align - 1)) || align < sizeof(void *))
		return EINVAL;
	void *p = malloc(n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *memalign(size_t align, size_t n)
{
	return aligned_alloc(align, n);
}
#else
#include <stddef.h>
/* glibc builds (sanitizers, fuzzers) keep glibc's allocator */
void alloc_clone_arena(void *stack_lo, void *stack_hi, void *arena, size_t len)
{
	(void)stack_lo, (void)stack_hi, (void)arena, (void)len;
}
#endif
