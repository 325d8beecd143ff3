/* Unit tests for lib/tar.c: reader formats, writer round trips, and every hostile archive we can think
 * of. Runs as root in a temp dir under /tmp; after each hostile case nothing may exist outside dest. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "unit.h"
#include "tar.h"

static char root[64];	/* temp dir: dest/, outside/, victim/ */
static int rootfd = -1;
static struct stat passwd0;

struct memsrc {
	const char *p;
	size_t len, pos, chunk;
};

static ssize_t mem_read(void *ctx, void *p, size_t n)
{
	struct memsrc *m = ctx;
	size_t a = m->len - m->pos;

	if (a > n)
		a = n;
	if (m->chunk && a > m->chunk)
		a = m->chunk;
	if (a)
		memcpy(p, m->p + m->pos, a);
	m->pos += a;
	return a;
}

static int mem_write(void *ctx, const void *p, size_t n)
{
	return buf_add(ctx, p, n);
}

/* ---- archive building ---- */

static void fixsum(unsigned char *h, int sgn)
{
	int i, s = 0;

	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		s += sgn ? (signed char)h[i] : h[i];
	snprintf((char *)h + 148, 8, "%06o", s & 0777777);
}

static void mkhdr(unsigned char *h, const char *name, char type, uint64_t size, const char *link)
{
	memset(h, 0, 512);
	memcpy(h, name, strnlen(name, 100));
	strcpy((char *)h + 100, "0000644");
	strcpy((char *)h + 108, "0000000");
	strcpy((char *)h + 116, "0000000");
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	strcpy((char *)h + 136, "14000000000");
	h[156] = type;
	if (link)
		memcpy(h + 157, link, strnlen(link, 100));
	memcpy(h + 257, "ustar\0" "00", 8);
	fixsum(h, 0);
}

static void add_data(struct buf *b, const void *p, size_t n)
{
	static const char z[512];

	buf_add(b, p, n);
	buf_add(b, z, (512 - n % 512) % 512);
}

static void add_hdr(struct buf *b, const char *name, char type, uint64_t size, const char *link)
{
	unsigned char h[512];

	mkhdr(h, name, type, size, link);
	buf_add(b, h, 512);
}

static void add_file(struct buf *b, const char *name, const char *data)
{
	add_hdr(b, name, '0', strlen(data), NULL);
	add_data(b, data, strlen(data));
}

/* A metadata header ('x', 'g', 'L', 'K') with its data. */
static void add_meta(struct buf *b, char type, const char *data, size_t n)
{
	add_hdr(b, type == 'L' || type == 'K' ? "././@LongLink" : "PaxHeader", type, n, NULL);
	add_data(b, data, n);
}

static void add_end(struct buf *b)
{
	static const char z[1024];

	buf_add(b, z, sizeof(z));
}

/* With the writer. */
static void w_ent(struct buf *b, char type, const char *path, const char *link, const char *data)
{
	struct tar_sink s = { mem_write, b };
	struct tar_writer w;
	struct tar_entry e = { .type = type, .path = (char *)path, .linkpath = (char *)link, .mode = 0644,
			       .mtime = 1600000000, .size = data ? strlen(data) : 0 };

	tar_writer_init(&w, &s);
	tar_write_header(&w, &e, NULL);
	if (data) {
		tar_write_data(&w, data, e.size, NULL);
		tar_write_pad(&w, e.size, NULL);
	}
}

/* ---- running ---- */

static int fresh_dest(void)
{
	rm_rf_at(rootfd, "dest");
	mkdirat(rootfd, "dest", 0755);
	return openat(rootfd, "dest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int extract_c(struct buf *a, unsigned flags, size_t chunk, struct err *e)
{
	struct memsrc m = { a->p, a->len, 0, chunk };
	struct tar_src s = { mem_read, &m };
	int fd = fresh_dest(), rc;

	e->msg[0] = 0;
	rc = tar_extract(&s, fd, flags, e);
	close(fd);
	return rc;
}

static int extract(struct buf *a, struct err *e)
{
	return extract_c(a, TAR_X_OWNER, 0, e);
}

static int count_dir(const char *rel)
{
	int fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* Nothing escaped: outside/ empty, victim/ holds only its file, root holds only our three dirs,
 * /etc/passwd untouched. */
static int contained(void)
{
	struct stat st, v;

	if (stat("/etc/passwd", &st) || st.st_ino != passwd0.st_ino || st.st_nlink != passwd0.st_nlink ||
	    st.st_size != passwd0.st_size || st.st_mtime != passwd0.st_mtime)
		return 0;
	if (fstatat(rootfd, "victim/file", &v, AT_SYMLINK_NOFOLLOW) || v.st_nlink != 1 || v.st_size != 6)
		return 0;
	return count_dir("outside") == 0 && count_dir("victim") == 1 && count_dir(".") == 3;
}

static int has(const char *rel, mode_t type)
{
	struct stat st;

	return !fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) && (st.st_mode & S_IFMT) == type;
}

static char *slurp(const char *rel)
{
	static char s[4096];
	int fd = openat(rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, s, sizeof(s) - 1);

	if (fd >= 0)
		close(fd);
	s[n > 0 ? n : 0] = 0;
	return n < 0 ? NULL : s;
}

/* ---- tests: reader ---- */

TEST(roundtrip_types)
{
	struct buf a = { 0 };
	struct tar_sink s = { mem_write, &a };
	struct tar_writer w;
	struct err e = { 0 };
	struct stat st, st2;
	char big[300 * 1024], name[256], lname[512];
	int src, fd;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 511);
	rm_rf_at(rootfd, "src");
	mkdirat(rootfd, "src", 0755);
	src = openat(rootfd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = openat(src, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(write(fd, "hello\n", 6) == 6);
	close(fd);
	fd = openat(src, "big", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	close(fd);
	fd = openat(src, "suid", O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	close(fd);
	CHECK(!fchownat(src, "suid", 1234, 5678, 0));
	CHECK(!fchmodat(src, "suid", 06755, 0));
	CHECK(!symlinkat("file", src, "sym"));
	CHECK(!linkat(src, "file", src, "hard", 0));
	CHECK(!mkfifoat(src, "fifo", 0640));
	CHECK(!mknodat(src, "null", S_IFCHR | 0666, makedev(1, 3)));
	CHECK(!mkdirat(src, "d", 01777));
	CHECK(!fchmodat(src, "d", 01777, 0));
	CHECK(!mkdirat(src, "d/sub", 0700));
	fd = openat(src, "d/sub/empty", O_WRONLY | O_CREAT | O_CLOEXEC, 0400);
	close(fd);
	memset(name, 'n', 200);	/* one 200-byte component: needs pax */
	strcpy(name + 200, "");
	fd = openat(src, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	close(fd);
	memset(lname, 't', 150);	/* long symlink target */
	lname[150] = 0;
	CHECK(!symlinkat(lname, src, "longlink"));
	CHECK(!mknodat(src, "sock", S_IFSOCK | 0600, 0));
	struct timespec ts[2] = { { 1500000000, 0 }, { 1500000000, 0 } };
	CHECK(!utimensat(src, "file", ts, AT_SYMLINK_NOFOLLOW));
	CHECK(!utimensat(src, "sym", ts, AT_SYMLINK_NOFOLLOW));
	ts[0].tv_sec = ts[1].tv_sec = 1400000000;
	CHECK(!utimensat(src, "d/sub", ts, 0));
	CHECK(!utimensat(src, "d", ts, 0));

	tar_writer_init(&w, &s);
	CHECK(tar_write_tree(&w, src, &e) == 0);
	CHECK(tar_write_end(&w, &e) == 0);
	CHECK(w.written == a.len && a.len % 512 == 0);
	close(src);

	/* listing: sorted, directories with '/', the second hard link a link, no socket */
	struct memsrc m = { a.p, a.len, 0, 0 };
	struct tar_src ts_ = { mem_read, &m };
	struct tar_reader *r = tar_reader_new(&ts_);
	struct tar_entry ent;
	char got[2048] = "";
	while (tar_next(r, &ent, &e) > 0) {
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%c:%s ", ent.type,
			 strlen(ent.path) > 100 ? "N" : ent.path);
		if (ent.type == '1')
			CHECK_STR(ent.linkpath, "file");
	}
	tar_reader_free(r);
	CHECK_STR(got, "0:big 5:d/ 5:d/sub/ 0:d/sub/empty 6:fifo 0:file 1:hard 2:longlink 0:N 3:null "
		       "0:suid 2:sym ");

	CHECK(extract_c(&a, TAR_X_OWNER, 0, &e) == 0);
	CHECK_STR(slurp("dest/file"), "hello\n");
	CHECK(!fstatat(rootfd, "dest/file", &st, 0) && st.st_mtime == 1500000000 && (st.st_mode & 07777) == 0644);
	CHECK(!fstatat(rootfd, "dest/hard", &st2, 0) && st2.st_ino == st.st_ino && st.st_nlink == 2);
	CHECK(!fstatat(rootfd, "dest/suid", &st, 0) && (st.st_mode & 07777) == 06755 && st.st_uid == 1234 &&
	      st.st_gid == 5678);
	CHECK(!fstatat(rootfd, "dest/sym", &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode) &&
	      st.st_mtime == 1500000000);
	char t[300] = "";
	CHECK(readlinkat(rootfd, "dest/sym", t, sizeof(t)) == 4 && !memcmp(t, "file", 4));
	memset(t, 0, sizeof(t));
	CHECK(readlinkat(rootfd, "dest/longlink", t, sizeof(t)) == 150 && !strcmp(t, lname));
	CHECK(!fstatat(rootfd, "dest/fifo", &st, AT_SYMLINK_NOFOLLOW) && S_ISFIFO(st.st_mode) &&
	      (st.st_mode & 07777) == 0640);
	CHECK(!fstatat(rootfd, "dest/null", &st, AT_SYMLINK_NOFOLLOW) && S_ISCHR(st.st_mode) &&
	      st.st_rdev == makedev(1, 3));
	CHECK(!fstatat(rootfd, "dest/d", &st, 0) && (st.st_mode & 07777) == 01777 && st.st_mtime == 1400000000);
	CHECK(!fstatat(rootfd, "dest/d/sub", &st, 0) && (st.st_mode & 07777) == 0700 && st.st_mtime == 1400000000);
	CHECK(!fstatat(rootfd, "dest/d/sub/empty", &st, 0) && st.st_size == 0 && (st.st_mode & 07777) == 0400);
	snprintf(t, sizeof(t), "dest/%s", name);
	CHECK(has(t, S_IFREG));
	CHECK(!has("dest/sock", S_IFSOCK));
	fd = openat(rootfd, "dest/big", O_RDONLY | O_CLOEXEC);
	char *back = malloc(sizeof(big) + 1);
	CHECK(fd >= 0 && read_full(fd, back, sizeof(big) + 1) == sizeof(big) && !memcmp(back, big, sizeof(big)));
	close(fd);

	/* the same archive fed one odd-sized chunk at a time */
	CHECK(extract_c(&a, TAR_X_OWNER, 7, &e) == 0);
	fd = openat(rootfd, "dest/big", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read_full(fd, back, sizeof(big) + 1) == sizeof(big) && !memcmp(back, big, sizeof(big)));
	close(fd);
	free(back);
	/* without TAR_X_OWNER set-id bits of foreign owners are dropped */
	CHECK(extract_c(&a, 0, 0, &e) == 0);
	CHECK(!fstatat(rootfd, "dest/suid", &st, 0) && (st.st_mode & 07777) == 0755 && st.st_uid == 0);
	CHECK(extract_c(&a, TAR_X_NODEV, 0, &e) == -EPERM && strstr(e.msg, "null"));
	rm_rf_at(rootfd, "src");
	CHECK(contained());
	buf_free(&a);
}

TEST(read_stream)
{
	struct buf a = { 0 };
	struct err e = { 0 };
	char data[3000], out[4000];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = 'a' + i % 26;
	add_hdr(&a, "one", '0', sizeof(data), NULL);
	add_data(&a, data, sizeof(data));
	add_file(&a, "two", "second");
	add_end(&a);
	for (size_t chunk = 0; chunk < 600; chunk += 199) {
		struct memsrc m = { a.p, a.len, 0, chunk };
		struct tar_src s = { mem_read, &m };
		struct tar_reader *r = tar_reader_new(&s);
		struct tar_entry ent;
		size_t got = 0;
		ssize_t n;

		CHECK(tar_next(r, &ent, &e) == 1 && ent.size == sizeof(data) && ent.type == '0');
		while ((n = tar_read(r, out + got, 100)) > 0)
			got += n;
		CHECK(n == 0 && got == sizeof(data) && !memcmp(out, data, got));
		CHECK(tar_next(r, &ent, &e) == 1 && !strcmp(ent.path, "two"));
		CHECK(tar_read(r, out, 3) == 3 && !memcmp(out, "sec", 3));	/* rest skipped by tar_next */
		CHECK(tar_next(r, &ent, &e) == 0);
		CHECK(tar_next(r, &ent, &e) == 0);
		tar_reader_free(r);
	}
	buf_free(&a);
}

/* Extract a, then the single entry's path/link/ids as read back by the reader. */
static int read_one(struct buf *a, struct tar_entry *ent, struct err *e, struct tar_reader **rp)
{
	static struct memsrc m;
	static struct tar_src s = { mem_read, &m };

	m = (struct memsrc){ a->p, a->len, 0, 0 };
	*rp = tar_reader_new(&s);
	return tar_next(*rp, ent, e);
}

TEST(gnu_longnames)
{
	struct buf a = { 0 };
	struct err e = { 0 };
	struct tar_entry ent;
	struct tar_reader *r;
	char name[1200], link[900];

	memset(name, 'x', sizeof(name));
	for (int i = 100; i < 1190; i += 100)
		name[i] = '/';
	name[1190] = 0;
	memset(link, 'y', sizeof(link));
	link[899] = 0;
	add_meta(&a, 'L', name, strlen(name) + 1);
	add_meta(&a, 'K', link, strlen(link) + 1);
	add_hdr(&a, "truncated-name", '2', 0, "truncated-link");
	add_hdr(&a, "plain", '0', 0, NULL);
	add_end(&a);
	CHECK(read_one(&a, &ent, &e, &r) == 1 || (printf("%s\n", e.msg), 0));
	CHECK_STR(ent.path, name);
	CHECK_STR(ent.linkpath, link);
	CHECK(ent.type == '2');
	CHECK(tar_next(r, &ent, &e) == 1);
	CHECK_STR(ent.path, "plain");	/* long names apply to one entry only */
	CHECK(tar_next(r, &ent, &e) == 0);
	tar_reader_free(r);
	CHECK(extract(&a, &e) == 0);
	char rel[1300];
	snprintf(rel, sizeof(rel), "dest/%s", name);
	CHECK(has(rel, S_IFLNK));
	buf_free(&a);
}

TEST(base256)
{
	struct buf a = { 0 };
	struct err e = { 0 };
	struct tar_entry ent;
	struct tar_reader *r;
	unsigned char h[512];
	char data[600];

	memset(data, 'q', sizeof(data));
	mkhdr(h, "b256", '0', 0, NULL);
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[134] = 600 >> 8;
	h[135] = 600 & 0xff;
	memset(h + 108, 0, 8);	/* uid 3000000000 */
	h[108] = 0x80;
	h[112] = 0xb2, h[113] = 0xd0, h[114] = 0x5e, h[115] = 0x00;
	memset(h + 136, 0xff, 12);	/* mtime -1 */
	fixsum(h, 0);
	buf_add(&a, h, 512);
	add_data(&a, data, sizeof(data));
	add_end(&a);
	CHECK(read_one(&a, &ent, &e, &r) == 1);
	CHECK(ent.size == 600 && ent.uid == 3000000000u && ent.mtime == -1);
	tar_reader_free(r);
	CHECK(extract(&a, &e) == 0);
	struct stat st;
	CHECK(!fstatat(rootfd, "dest/b256", &st, 0) && st.st_size == 600 && st.st_uid == 3000000000u);
	buf_free(&a);
}

TEST(pax)
{
	struct buf a = { 0 };
	struct err e = { 0 };
	struct tar_entry ent;
	struct tar_reader *r;
	const char *x = "30 mtime=1234567890.123456789\n"
			"16 uid=70000000\n"
			"12 gid=4242\n"
			"23 path=pax/overridden\n"
			"16 linkpath=tgt\n"
			"21 uname=whoever.xyz\n"
			"31 SCHILY.xattr.user.x=ignored\n"
			"20 foo.bar=whatever\n"
			"12 size=600\n";
	char data[600];

	memset(data, 'p', sizeof(data));
	add_meta(&a, 'g', "14 mtime=1000\n16 uid=99999999\n", 30);
	add_meta(&a, 'x', x, strlen(x));
	add_hdr(&a, "short", '0', 5, NULL);	/* header size 5: pax says 600 */
	add_data(&a, data, sizeof(data));
	add_file(&a, "second", "2");	/* global records still apply */
	add_end(&a);
	CHECK(read_one(&a, &ent, &e, &r) == 1);
	CHECK_STR(ent.path, "pax/overridden");
	CHECK_STR(ent.linkpath, "tgt");
	CHECK(ent.mtime == 1234567890 && ent.uid == 70000000 && ent.gid == 4242 && ent.size == 600);
	CHECK(tar_next(r, &ent, &e) == 1);
	CHECK(!strcmp(ent.path, "second") && ent.mtime == 1000 && ent.uid == 99999999 && ent.gid == 0);
	CHECK(tar_next(r, &ent, &e) == 0);
	tar_reader_free(r);
	CHECK(extract(&a, &e) == 0);
	struct stat st;
	CHECK(!fstatat(rootfd, "dest/pax/overridden", &st, 0) && st.st_size == 600 && st.st_uid == 70000000);
	buf_free(&a);
}

TEST(old_formats)
{
	struct buf a = { 0 };
	struct err e = { 0 };
	struct tar_entry ent;
	struct tar_reader *r;
	unsigned char h[512];

	mkhdr(h, "v7dir/", 0, 0, NULL);	/* v7: no magic, '\0' type, trailing slash = dir */
	memset(h + 257, 0, 8);
	fixsum(h, 0);
	buf_add(&a, h, 512);
	mkhdr(h, "gnu\xe9\xe9", '0', 3, NULL);	/* GNU magic, high bytes, signed checksum */
	memcpy(h + 257, "ustar  \0", 8);
	memcpy(h + 345, "ignored-prefix", 14);	/* GNU keeps atime here, not a prefix */
	fixsum(h, 1);
	buf_add(&a, h, 512);
	add_data(&a, "abc", 3);
	mkhdr(h, "name", '7', 0, NULL);	/* contiguous file = file; POSIX prefix used */
	memcpy(h + 345, "pre/fix", 7);
	fixsum(h, 0);
	buf_add(&a, h, 512);
	buf_add(&a, (char[512]){ 0 }, 512);	/* one zero block, then EOF: accepted */
	CHECK(read_one(&a, &ent, &e, &r) == 1);
	CHECK(ent.type == '5' && !strcmp(ent.path, "v7dir/"));
	CHECK(tar_next(r, &ent, &e) == 1);
	CHECK(ent.type == '0' && !strcmp(ent.path, "gnu\xe9\xe9") && ent.size == 3);
	CHECK(tar_next(r, &ent, &e) == 1);
	CHECK(ent.type == '0' && !strcmp(ent.path, "pre/fix/name"));
	CHECK(tar_next(r, &ent, &e) == 0);
	tar_reader_free(r);
	CHECK(extract(&a, &e) == 0 && has("dest/v7dir", S_IFDIR) && has("dest/pre/fix/name", S_IFREG));
	buf_free(&a);
}

/* ---- tests: writer ---- */

TEST(writer_names)
{
	struct err e = { 0 };
	char path[400], link[300];
	size_t n;
	int ok = 1;

	/* every length around the pax record digit boundaries and the ustar limits */
	for (n = 1; n < 300 && ok; n++) {
		struct buf a = { 0 };
		struct tar_entry ent;
		struct tar_reader *r;

		memset(path, 'p', n);
		path[n] = 0;
		if (n > 120)
			path[n - 90] = '/';	/* splits into prefix/name */
		if (n > 200)
			path[n - 90] = 'p', path[40] = '/';	/* does not: pax */
		memset(link, 'l', n);
		link[n > 120 && n <= 200 ? n - 100 : n] = 0;
		w_ent(&a, '2', path, link, NULL);
		add_end(&a);
		ok = read_one(&a, &ent, &e, &r) == 1 && !strcmp(ent.path, path) && !strcmp(ent.linkpath, link) &&
		     ent.mtime == 1600000000;
		if (ok && n > 120 && n <= 200)
			ok = ((unsigned char *)a.p)[156] == '2';	/* no pax header needed */
		tar_reader_free(r);
		buf_free(&a);
	}
	CHECK(ok);

	/* big numbers go through pax, with base-256 in the ustar fields */
	struct buf a = { 0 };
	struct tar_sink s = { mem_write, &a };
	struct tar_writer w;
	struct tar_entry in = { .type = '3', .path = "dev", .mode = 0600, .uid = 4000000000u, .gid = 3000000,
				.mtime = -12345, .devmajor = 4000000, .devminor = 5 }, ent;
	struct tar_reader *r;
	tar_writer_init(&w, &s);
	CHECK(tar_write_header(&w, &in, &e) == 0);
	add_end(&a);
	CHECK(read_one(&a, &ent, &e, &r) == 1);
	CHECK(ent.uid == 4000000000u && ent.gid == 3000000 && ent.mtime == -12345 && ent.devmajor == 4000000 &&
	      ent.devminor == 5 && ent.type == '3');
	tar_reader_free(r);
	buf_free(&a);

	/* size >= 8 GiB: pax size; the data is not there, so reading it fails as truncated */
	struct tar_entry huge = { .type = '0', .path = "huge", .mode = 0644, .size = 9ull << 30 };
	tar_writer_init(&w, &s);
	CHECK(tar_write_header(&w, &huge, &e) == 0);
	CHECK(tar_write_data(&w, "xyz", 3, &e) == 0);
	CHECK(read_one(&a, &ent, &e, &r) == 1 && ent.size == 9ull << 30);
	CHECK(tar_next(r, &ent, &e) == -EIO);
	CHECK(tar_next(r, &ent, &e) == -EIO);	/* sticky */
	tar_reader_free(r);
	CHECK(extract(&a, &e) == -EIO && strstr(e.msg, "huge"));
	buf_free(&a);
}

TEST(tree_mounts)
{
	struct buf a = { 0 };
	struct tar_sink s = { mem_write, &a };
	struct tar_writer w;
	struct err e = { 0 };
	char mnt[128];
	int src, fd;

	rm_rf_at(rootfd, "src");
	mkdirat(rootfd, "src", 0755);
	mkdirat(rootfd, "src/mnt", 0755);
	snprintf(mnt, sizeof(mnt), "%s/src/mnt", root);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m")) {
		SKIP("cannot mount tmpfs");
		rm_rf_at(rootfd, "src");
		return;
	}
	fd = openat(rootfd, "src/mnt/inside", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	close(fd);
	fd = openat(rootfd, "src/z", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	close(fd);
	src = openat(rootfd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tar_writer_init(&w, &s);
	CHECK(tar_write_tree(&w, src, &e) == 0 && tar_write_end(&w, &e) == 0);
	close(src);
	umount2(mnt, MNT_DETACH);
	rm_rf_at(rootfd, "src");

	struct memsrc m = { a.p, a.len, 0, 0 };
	struct tar_src ts = { mem_read, &m };
	struct tar_reader *r = tar_reader_new(&ts);
	struct tar_entry ent;
	char got[256] = "";
	while (tar_next(r, &ent, &e) > 0)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s ", ent.path);
	tar_reader_free(r);
	CHECK_STR(got, "mnt/ z ");	/* the mount point, not what is mounted there */
	buf_free(&a);
}

/* ---- tests: the extractor's semantics ---- */

TEST(replace)
{
	struct buf a = { 0 };
	struct err e = { 0 };
	struct stat st;
	char tgt[128];

	snprintf(tgt, sizeof(tgt), "%s/outside/target", root);
	add_file(&a, "f", "file");
	w_ent(&a, '5', "f/", NULL, NULL);	/* file replaced by dir */
	add_file(&a, "f/in", "in");
	add_file(&a, "f", "file again");	/* dir (with contents) replaced by file */
	w_ent(&a, '2', "t", tgt, NULL);
	add_file(&a, "t", "not through the symlink");	/* symlink replaced, not followed */
	add_file(&a, "same", "same");
	w_ent(&a, '1', "same", "same", NULL);	/* hard link to itself: no-op */
	w_ent(&a, '5', "./", NULL, NULL);	/* the destination itself: metadata only */
	add_file(&a, "./dot/./x", "x");
	add_file(&a, "slashes//y", "y");
	w_ent(&a, '2', "ln", "f", NULL);
	w_ent(&a, '2', "ln", "f2", NULL);	/* symlink over symlink */
	w_ent(&a, '6', "ln", NULL, NULL);	/* fifo over symlink */
	add_file(&a, ".wh.foo", "whiteouts are plain files here");
	add_end(&a);
	CHECK(extract(&a, &e) == 0);
	CHECK_STR(slurp("dest/f"), "file again");
	CHECK_STR(slurp("dest/t"), "not through the symlink");
	CHECK_STR(slurp("dest/same"), "same");
	CHECK_STR(slurp("dest/dot/x"), "x");
	CHECK_STR(slurp("dest/slashes/y"), "y");
	CHECK(has("dest/ln", S_IFIFO) && has("dest/.wh.foo", S_IFREG));
	CHECK(!fstatat(rootfd, "dest", &st, 0) && (st.st_mode & 07777) == 0644 && st.st_mtime == 1600000000);
	CHECK(contained());
	buf_free(&a);
}

TEST(dir_mtime_after_contents)
{
	struct buf a = { 0 };
	struct err e = { 0 };
	struct stat st;

	w_ent(&a, '5', "a/", NULL, NULL);
	w_ent(&a, '5', "a/b/", NULL, NULL);
	add_file(&a, "a/b/c", "c");
	add_file(&a, "a/d", "d");
	add_end(&a);
	CHECK(extract(&a, &e) == 0);
	CHECK(!fstatat(rootfd, "dest/a", &st, 0) && st.st_mtime == 1600000000);
	CHECK(!fstatat(rootfd, "dest/a/b", &st, 0) && st.st_mtime == 1600000000);
	buf_free(&a);
}

TEST(deep_path)
{
	struct buf a = { 0 };
	struct err e = { 0 };
	char p[6000];
	size_t n = 0;

	while (n < 5500) {	/* beyond PATH_MAX, each component under NAME_MAX */
		memset(p + n, 'd', 99);
		n += 99;
		p[n++] = '/';
	}
	strcpy(p + n, "leaf");
	w_ent(&a, '0', p, NULL, "deep");
	add_end(&a);
	CHECK(extract(&a, &e) == 0);
	CHECK(contained());
	buf_free(&a);
}

/* ---- tests: hostile archives ---- */

/* Expect an error (code want, message containing sub) and nothing outside dest. */
static void hostile(struct buf *a, int want, const char *sub, int line)
{
	struct err e = { 0 };
	int rc;

	for (size_t chunk = 0; chunk < 2; chunk++) {
		rc = extract_c(a, TAR_X_OWNER, chunk ? 511 : 0, &e);
		if (rc != want || (sub && !strstr(e.msg, sub)) || (rc && !e.msg[0])) {
			printf("FAIL %s: line %d: rc %d (want %d): %s\n", unit_cur, line, rc, want, e.msg);
			unit_cur_failed = 1;
		}
		if (!contained()) {
			printf("FAIL %s: line %d: something escaped the destination\n", unit_cur, line);
			unit_cur_failed = 1;
		}
	}
	buf_free(a);
}
#define HOSTILE(a, want, sub) hostile(a, want, sub, __LINE__)

TEST(dotdot)
{
	struct buf a = { 0 };
	const char *bad[] = { "../x", "a/../../x", "a/b/../../../outside/x", "..", "./../x", "a/..", "/../x" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		add_file(&a, bad[i], "evil");
		add_end(&a);
		HOSTILE(&a, -EINVAL, "..");
		w_ent(&a, '5', bad[i], NULL, NULL);
		add_end(&a);
		HOSTILE(&a, -EINVAL, "..");
	}
}

TEST(absolute)
{
	struct buf a = { 0 };
	struct err e = { 0 };
	char abs[128];

	snprintf(abs, sizeof(abs), "%s/outside/abs", root);
	add_file(&a, abs, "inside");
	add_file(&a, "/x", "x");
	add_file(&a, "///y", "y");
	add_end(&a);
	CHECK(extract(&a, &e) == 0);
	CHECK_STR(slurp("dest/x"), "x");
	CHECK_STR(slurp("dest/y"), "y");
	snprintf(abs, sizeof(abs), "dest%s/outside/abs", root);
	CHECK_STR(slurp(abs), "inside");
	CHECK(contained());
	buf_free(&a);
}

TEST(symlink_escape)
{
	struct buf a = { 0 };
	char out[128];

	snprintf(out, sizeof(out), "%s/outside", root);
	w_ent(&a, '2', "a", out, NULL);
	add_file(&a, "a/f", "evil");
	add_end(&a);
	HOSTILE(&a, -ENOTDIR, "a/f");

	w_ent(&a, '2', "up", "..", NULL);
	add_file(&a, "up/f", "evil");
	add_end(&a);
	HOSTILE(&a, -ENOTDIR, "up/f");

	w_ent(&a, '2', "up", "../outside", NULL);
	w_ent(&a, '5', "up/sub/", NULL, NULL);
	add_end(&a);
	HOSTILE(&a, -ENOTDIR, NULL);

	/* dir, then a symlink replacing it, then a file through it (the parent cache must not help) */
	w_ent(&a, '5', "d/", NULL, NULL);
	add_file(&a, "d/g", "fine");
	w_ent(&a, '2', "d", out, NULL);
	add_file(&a, "d/f", "evil");
	add_end(&a);
	HOSTILE(&a, -ENOTDIR, "d/f");
	CHECK(has("dest/d", S_IFLNK));

	w_ent(&a, '5', "d/", NULL, NULL);
	w_ent(&a, '5', "d/e/", NULL, NULL);
	add_file(&a, "d/e/g", "fine");
	w_ent(&a, '2', "d", out, NULL);
	add_file(&a, "d/e/f", "evil");
	add_end(&a);
	HOSTILE(&a, -ENOTDIR, NULL);

	/* the same past the directory levels the extractor keeps open */
	for (int lvl = 30; lvl <= 90; lvl += 60) {
		char deep[256] = "", *q = deep;

		for (int i = 0; i < 100; i++)
			q += sprintf(q, "a/");
		strcpy(q, "f");
		w_ent(&a, '0', deep, NULL, "fine");
		deep[2 * lvl - 1] = 0;
		w_ent(&a, '2', deep, out, NULL);
		deep[2 * lvl - 1] = '/';
		deep[2 * 95] = 0;
		w_ent(&a, '0', strcat(deep, "g"), NULL, "evil");
		add_end(&a);
		HOSTILE(&a, -ENOTDIR, NULL);
	}

	/* loops */
	w_ent(&a, '2', "a", "b", NULL);
	w_ent(&a, '2', "b", "a", NULL);
	add_file(&a, "a/f", "evil");
	add_end(&a);
	HOSTILE(&a, -ENOTDIR, NULL);

	w_ent(&a, '2', "self", "self", NULL);
	w_ent(&a, '5', "self/x/", NULL, NULL);
	add_end(&a);
	HOSTILE(&a, -ENOTDIR, NULL);

	/* a file in the way of a directory component */
	add_file(&a, "plain", "x");
	add_file(&a, "plain/f", "evil");
	add_end(&a);
	HOSTILE(&a, -ENOTDIR, NULL);

	/* a symlink to a file outside, then a file of the same name: replaced, not written through */
	char v[128];
	snprintf(v, sizeof(v), "%s/victim/file", root);
	w_ent(&a, '2', "v", v, NULL);
	add_file(&a, "v", "new");
	add_end(&a);
	HOSTILE(&a, 0, NULL);
	CHECK_STR(slurp("victim/file"), "victim");
}

TEST(hardlink_escape)
{
	struct buf a = { 0 };
	char v[128];

	w_ent(&a, '1', "pw", "/etc/passwd", NULL);	/* = dest/etc/passwd: missing */
	add_end(&a);
	HOSTILE(&a, -ENOENT, "pw");

	w_ent(&a, '1', "pw", "../../../../etc/passwd", NULL);
	add_end(&a);
	HOSTILE(&a, -EINVAL, "pw");

	w_ent(&a, '1', "h", "../x", NULL);
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	snprintf(v, sizeof(v), "%s/victim", root);
	w_ent(&a, '2', "s", v, NULL);
	w_ent(&a, '1', "h", "s/file", NULL);	/* through a symlink */
	add_end(&a);
	HOSTILE(&a, -ENOTDIR, NULL);

	w_ent(&a, '2', "s", "/etc/passwd", NULL);
	w_ent(&a, '1', "h", "s", NULL);	/* to a symlink: links the symlink itself */
	add_end(&a);
	HOSTILE(&a, 0, NULL);
	CHECK(has("dest/h", S_IFLNK));

	w_ent(&a, '1', "h", "missing", NULL);
	add_end(&a);
	HOSTILE(&a, -ENOENT, "missing");

	w_ent(&a, '5', "dir/", NULL, NULL);
	w_ent(&a, '1', "h", "dir", NULL);
	add_end(&a);
	HOSTILE(&a, -EPERM, NULL);

	w_ent(&a, '1', "h", "", NULL);
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	/* a legitimate link in another directory */
	add_file(&a, "x/f", "data");
	w_ent(&a, '1', "y/g", "x/f", NULL);
	w_ent(&a, '1', "x/h", "/x/f", NULL);
	add_end(&a);
	HOSTILE(&a, 0, NULL);
	struct stat s1, s2;
	CHECK(!fstatat(rootfd, "dest/x/f", &s1, 0) && !fstatat(rootfd, "dest/y/g", &s2, 0) &&
	      s1.st_ino == s2.st_ino && s1.st_nlink == 3);
}

TEST(names)
{
	struct buf a = { 0 };
	char *huge = malloc(70001);
	char rec[70100];

	memset(huge, 'a', 70000);
	huge[70000] = 0;
	w_ent(&a, '0', huge, NULL, "x");	/* pax path over 64 KiB */
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	add_meta(&a, 'L', huge, 70001);
	add_file(&a, "x", "x");
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	snprintf(rec, sizeof(rec), "%d linkpath=%s\n", 6 + 9 + 70000 + 1, huge);
	add_meta(&a, 'x', rec, strlen(rec));
	w_ent(&a, '2', "l", "t", NULL);
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	huge[300] = 0;	/* one component over NAME_MAX */
	w_ent(&a, '0', huge, NULL, "x");
	add_end(&a);
	HOSTILE(&a, -ENAMETOOLONG, NULL);
	free(huge);

	add_hdr(&a, "", '0', 0, NULL);	/* no name */
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	add_file(&a, "/", "x");	/* the destination as a file */
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	add_meta(&a, 'x', "13 path=a\0bc\n", 13);	/* NUL inside a path */
	add_file(&a, "x", "x");
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);
}

TEST(corrupt)
{
	struct buf a = { 0 };
	unsigned char h[512];

	HOSTILE(&a, -EIO, NULL);	/* empty */

	add_file(&a, "f", "data");	/* no end marker */
	HOSTILE(&a, -EIO, NULL);

	mkhdr(h, "f", '0', 0, NULL);
	h[0] = 'g';	/* bad checksum */
	buf_add(&a, h, 512);
	add_end(&a);
	HOSTILE(&a, -EINVAL, "checksum");

	mkhdr(h, "f", '0', 0, NULL);
	buf_add(&a, h, 300);	/* truncated header */
	HOSTILE(&a, -EIO, "truncated");

	add_hdr(&a, "f", '0', 5000, NULL);	/* truncated data */
	add_data(&a, "short", 5);
	HOSTILE(&a, -EIO, "truncated");

	mkhdr(h, "f", '0', 0, NULL);
	memcpy(h + 124, "0000000x012", 11);	/* corrupt octal */
	fixsum(h, 0);
	buf_add(&a, h, 512);
	add_end(&a);
	HOSTILE(&a, -EINVAL, "size");

	mkhdr(h, "f", '0', 0, NULL);
	memcpy(h + 100, "07a7", 4);
	fixsum(h, 0);
	buf_add(&a, h, 512);
	add_end(&a);
	HOSTILE(&a, -EINVAL, "mode");

	mkhdr(h, "f", '0', 0, NULL);	/* base-256 size beyond 2^63 */
	memset(h + 124, 0xff, 12);
	h[124] = 0x80;
	fixsum(h, 0);
	buf_add(&a, h, 512);
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	mkhdr(h, "f", '0', 0, NULL);	/* negative size */
	memset(h + 124, 0xff, 12);
	fixsum(h, 0);
	buf_add(&a, h, 512);
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	add_hdr(&a, "f", '0', 077777777777ull, NULL);	/* huge size, short data */
	add_data(&a, "abc", 3);
	add_end(&a);
	HOSTILE(&a, -EIO, NULL);

	const char *badpax[] = { "99 path=x\n", "5 path=x\n", "0 path=x\n", "10 path=x\n\n", "x path=x\n",
				 "9 pathx\n", "11 path=x\n", "10 path=x!", "12 size=-12\n", "11 uid=abc\n",
				 "22 uid=99999999999999\n", "13 mtime=1.x\n", "2 \n",
				 "29 size=99999999999999999999\n", "100000000 path=x\n" };
	for (size_t i = 0; i < ARRAY_SIZE(badpax); i++) {
		add_meta(&a, 'x', badpax[i], strlen(badpax[i]));
		add_file(&a, "f", "data");
		add_end(&a);
		HOSTILE(&a, -EINVAL, NULL);
	}

	add_hdr(&a, "PaxHeader", 'x', 2 << 20, NULL);	/* pax header over 1 MiB */
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	add_meta(&a, 'x', "12 path=abc\n", 12);	/* pax header, then the end */
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	add_hdr(&a, "PaxHeader", 'x', 100, NULL);	/* truncated pax data */
	buf_add(&a, "12 path", 7);
	HOSTILE(&a, -EIO, NULL);

	add_end(&a);	/* a lone zero block then a header */
	a.len = 512;
	add_file(&a, "f", "x");
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);

	add_hdr(&a, "sparse", 'S', 0, NULL);
	add_end(&a);
	HOSTILE(&a, -EINVAL, "unsupported entry type 'S' for sparse");

	add_hdr(&a, "vol", 'M', 0, NULL);
	add_end(&a);
	HOSTILE(&a, -EINVAL, "'M'");

	add_hdr(&a, "dump", 'D', 0, NULL);
	add_end(&a);
	HOSTILE(&a, -EINVAL, NULL);
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245 + 12345;
	return *s >> 8;
}

TEST(garbage)
{
	struct buf good = { 0 }, a = { 0 };
	struct err e;
	unsigned seed = 42;
	char out[128];
	int i, j;

	for (i = 0; i < 20; i++) {	/* random bytes */
		for (j = 0; j < 4096; j++)
			buf_add(&a, (char[]){ (char)rnd(&seed) }, 1);
		CHECK(extract(&a, &e) < 0);
		buf_free(&a);
	}
	/* random mutations of a valid archive: any result, but no crash and no escape */
	snprintf(out, sizeof(out), "%s/outside", root);
	w_ent(&good, '5', "d/", NULL, NULL);
	add_file(&good, "d/f", "some data here");
	w_ent(&good, '2', "d/s", out, NULL);
	w_ent(&good, '1', "d/h", "d/f", NULL);
	w_ent(&good, '2', "up", "..", NULL);
	add_meta(&good, 'x', "16 path=d/s/zzz\n", 16);
	add_file(&good, "y", "through the symlink?");
	add_meta(&good, 'L', "up/evil", 8);
	add_file(&good, "z", "long name");
	add_end(&good);
	CHECK(extract(&good, &e) == -ENOTDIR);
	for (i = 0; i < 800; i++) {
		buf_add(&a, good.p, good.len);
		for (j = 1 + rnd(&seed) % 4; j > 0; j--)
			a.p[rnd(&seed) % a.len] = (char)rnd(&seed);
		if (i & 1)	/* keep checksums valid so the mutations reach the parsers */
			for (size_t o = 0; o + 512 <= a.len; o += 512)
				if (a.p[o + 257] == 'u')
					fixsum((unsigned char *)a.p + o, 0);
		if (rnd(&seed) % 4 == 0)
			a.len = rnd(&seed) % a.len;
		extract_c(&a, TAR_X_OWNER, i % 3 ? 0 : 1 + i % 700, &e);
		if (!contained()) {
			printf("FAIL garbage: escape at iteration %d\n", i);
			unit_cur_failed = 1;
			break;
		}
		buf_free(&a);
	}
	buf_free(&a);
	buf_free(&good);
}

/* Random archives from a vocabulary of hostile names, types and link targets: whatever happens,
 * nothing may land outside dest. */
TEST(random_hostile)
{
	static const char *names[] = { "a", "b", "a/b", "a/b/c", "d", "d/f", "s", "s/f", "s/x/y", "up", "up/f",
				       "/abs", "./a/./b", "a//b/", "l", "l/f", "h", "loop/f", "x/../y" };
	static const char types[] = "0001255516";
	char out[128], victim[128], up[16] = "..";
	const char *targets[] = { out, victim, up, "a", "a/b", "/etc/passwd", "../x", "d", "s", "loop", "h",
				  "l", "/a/b", "b/../..", "." };
	unsigned seed = 7;
	struct err e;
	int i, j, n;

	snprintf(out, sizeof(out), "%s/outside", root);
	snprintf(victim, sizeof(victim), "%s/victim/file", root);
	for (i = 0; i < 1500 && !unit_cur_failed; i++) {
		struct buf a = { 0 };

		for (j = 0, n = 1 + rnd(&seed) % 8; j < n; j++) {
			char t = types[rnd(&seed) % (sizeof(types) - 1)];
			const char *name = names[rnd(&seed) % ARRAY_SIZE(names)];
			const char *tgt = targets[rnd(&seed) % ARRAY_SIZE(targets)];

			w_ent(&a, t, name, t == '1' || t == '2' ? tgt : NULL, t == '0' ? "data" : NULL);
		}
		add_end(&a);
		extract_c(&a, TAR_X_OWNER, 0, &e);
		if (!contained()) {
			printf("FAIL random_hostile: escape at iteration %d\n", i);
			unit_cur_failed = 1;
		}
		buf_free(&a);
	}
}

static void setup(void)
{
	int fd;

	strcpy(root, "/tmp/test_tar.XXXXXX");
	if (!mkdtemp(root) || (rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror("mkdtemp");
		exit(1);
	}
	mkdirat(rootfd, "dest", 0755);
	mkdirat(rootfd, "outside", 0755);
	mkdirat(rootfd, "victim", 0755);
	fd = openat(rootfd, "victim/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "victim", 6) != 6)
		exit(1);
	close(fd);
	stat("/etc/passwd", &passwd0);
}

int main(void)
{
	if (geteuid()) {
		printf("%s: 0 passed, 0 failed, 1 skipped (needs root)\n", __FILE__);
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	setup();
	RUN(roundtrip_types);
	RUN(read_stream);
	RUN(gnu_longnames);
	RUN(base256);
	RUN(pax);
	RUN(old_formats);
	RUN(writer_names);
	RUN(tree_mounts);
	RUN(replace);
	RUN(dir_mtime_after_contents);
	RUN(deep_path);
	RUN(dotdot);
	RUN(absolute);
	RUN(symlink_escape);
	RUN(hardlink_escape);
	RUN(names);
	RUN(corrupt);
	RUN(garbage);
	RUN(random_hostile);
	close(rootfd);
	rm_rf(root);
	return UNIT_END();
}
