/* layer: whiteouts into overlay form and back, compression detection, the uncompressed digest. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include "imgstore.h"
#include "inflate.h"
#include "unit.h"

static char dir[] = "/tmp/layer.XXXXXX";
static int dfd = -1, seq;

static int bsink(void *ctx, const void *p, size_t n)
{
	return buf_add(ctx, p, n);
}

/* A tar of the given entries: "path" files (content "x"), "path/" dirs. */
static void mktar(struct buf *b, const char *const *names)
{
	struct tar_sink s = { bsink, b };
	struct tar_writer w;
	struct err e;
	tar_writer_init(&w, &s);
	for (; *names; names++) {
		int d = (*names)[strlen(*names) - 1] == '/';
		struct tar_entry t = { .type = d ? '5' : '0', .path = (char *)*names, .mode = 0755, .size = !d };
		tar_write_header(&w, &t, &e);
		if (!d)
			tar_write_data(&w, "x", 1, &e), tar_write_pad(&w, 1, &e);
	}
	tar_write_end(&w, &e);
}

struct mem {
	const char *p;
	size_t n, pos;
};

static ssize_t mread(void *ctx, void *p, size_t n)
{
	struct mem *m = ctx;
	if (n > m->n - m->pos)
		n = m->n - m->pos;
	memcpy(p, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int unpack(const struct buf *b, char *name, struct layer_info *li, struct err *e)
{
	struct mem m = { b->p, b->len, 0 };
	struct tar_src s = { mread, &m };
	snprintf(name, 32, "L%d", seq++);
	memset(e, 0, sizeof(*e));
	return layer_unpack(&s, dfd, name, 1 << 20, li, e);
}

static int is_whiteout(const char *layer, const char *path)
{
	struct stat st;
	char p[256];
	snprintf(p, sizeof(p), "%s/diff/%s", layer, path);
	return !fstatat(dfd, p, &st, AT_SYMLINK_NOFOLLOW) && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

static int exists(const char *layer, const char *path)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/diff/%s", layer, path);
	return faccessat(dfd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

TEST(whiteouts)
{
	static const char *const n[] = { "a/", "a/.wh.gone", "a/kept", "a/.wh.kept", "o/", "o/.wh..wh..opq",
					  "o/new", ".wh..wh.plnk.123", NULL };
	struct buf b = { 0 };
	struct layer_info li;
	struct err e;
	char name[32], p[256], v[4] = "";
	mktar(&b, n);
	CHECK(unpack(&b, name, &li, &e) == 0);
	CHECK(is_whiteout(name, "a/gone"));
	CHECK(!exists(name, "a/.wh.gone"));
	CHECK(exists(name, "a/kept") && !is_whiteout(name, "a/kept"));	/* same layer: stays */
	CHECK(!exists(name, "o/.wh..wh..opq") && exists(name, "o/new"));
	CHECK(!exists(name, ".wh..wh.plnk.123"));
	snprintf(p, sizeof(p), "%s/%s/diff/o", dir, name);
	CHECK(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
	char hex[65];
	sha256_buf_hex(b.p, b.len, hex);
	CHECK_STR(li.diff_id, hex);
	CHECK(li.size == b.len);

	/* and back: whiteout and opaque dir as .wh. entries, the rest as it was */
	struct stage st = { .fd = dfd };
	struct layer_info back;
	struct buf t = { 0 };
	snprintf(p, sizeof(p), "%s/diff", name);
	int ld = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(st.path, sizeof(st.path), "%s", dir);
	CHECK(layer_tar_file(ld, &st, "back.tar", &back, &e) == 0);
	close(ld);
	CHECK(read_file_at(dfd, "back.tar", 1 << 20, &t) == 0);
	CHECK(memmem(t.p, t.len, "a/.wh.gone", 11) && memmem(t.p, t.len, "o/.wh..wh..opq", 15));
	CHECK(!memmem(t.p, t.len, "a/.wh.kept", 11));
	buf_free(&t);
	buf_free(&b);
}

TEST(bare_whiteout)
{
	static const char *const n[] = { "d/", "d/.wh.", NULL };
	struct buf b = { 0 };
	struct layer_info li;
	struct err e;
	char name[32];
	mktar(&b, n);
	CHECK(unpack(&b, name, &li, &e) < 0 && strstr(e.msg, "bare whiteout"));
	buf_free(&b);
}

TEST(compression)
{
	static const char *const n[] = { "f", NULL };
	struct buf b = { 0 }, z = { 0 };
	struct layer_info li, lz;
	struct err e;
	char name[32], cmd[300];
	mktar(&b, n);
	CHECK(unpack(&b, name, &li, &e) == 0);
	/* gzip of the same tar: same diff_id */
	CHECK(write_all(openat(dfd, "t.tar", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), b.p, b.len) == 0);
	snprintf(cmd, sizeof(cmd), "gzip -c %s/t.tar > %s/t.tgz", dir, dir);
	CHECK(system(cmd) == 0);
	CHECK(read_file_at(dfd, "t.tgz", 1 << 20, &z) == 0);
	CHECK(unpack(&z, name, &lz, &e) == 0);
	CHECK_STR(lz.diff_id, li.diff_id);
	buf_free(&z);
	buf_add(&z, "\x28\xb5\x2f\xfd rest", 9);
	CHECK(unpack(&z, name, &lz, &e) == -ENOTSUP && strstr(e.msg, "zstd"));
	buf_free(&z);
	buf_free(&b);
}

int main(void)
{
	if (getuid() != 0) {
		printf("%s: 0 passed, 0 failed (needs root: mknod, trusted xattrs)\n", __FILE__);
		return 0;
	}
	if (!mkdtemp(dir) || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 1;
	RUN(whiteouts);
	RUN(bare_whiteout);
	RUN(compression);
	rm_rf(dir);
	return UNIT_END();
}
