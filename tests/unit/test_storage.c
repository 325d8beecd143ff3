/* Unit tests: the vfs copy of image layers (hard links, modes, owners, symlinks, whiteouts, opaque
 * directories, xattrs) and the container's storage choice. Needs root for owners and trusted xattrs;
 * those checks are skipped otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include "unit.h"
#include "storage.h"
#include "util.h"

static char tmp[64];
static int root;

static void put(const char *rel, const char *text, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd >= 0) {
		write_all(fd, text, strlen(text));
		fchmod(fd, mode);
		close(fd);
	}
}

static void dir(const char *rel, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	mkdir(p, mode);
	chmod(p, mode);
}

static const char *in(const char *rel)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmp, rel);
	return p[k];
}

static char *slurp(const char *rel)
{
	static char b[256];
	int fd = open(in(rel), O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b) - 1);
	if (fd >= 0)
		close(fd);
	b[n < 0 ? 0 : n] = 0;
	return n < 0 ? NULL : b;
}

/* lower: files, a hard link pair, a symlink, a fifo, modes, an owner, an xattr;
 * upper: changes one file, deletes one (whiteout), replaces a dir by an opaque one */
static void make_layers(void)
{
	dir("l1", 0755);
	dir("l1/bin", 0755);
	put("l1/bin/busybox", "BB", 04755);
	link(in("l1/bin/busybox"), in("l1/bin/sh"));
	symlink("busybox", in("l1/bin/ls"));
	dir("l1/tmp", 01777);
	dir("l1/etc", 0755);
	put("l1/etc/passwd", "root", 0644);
	put("l1/etc/gone", "x", 0644);
	dir("l1/opq", 0755);
	put("l1/opq/old", "old", 0644);
	mkfifo(in("l1/fifo"), 0640);
	if (root) {
		chown(in("l1/etc/passwd"), 1000, 1001);
		setxattr(in("l1/etc/passwd"), "user.note", "hi", 2, 0);
	}
	dir("l2", 0755);
	dir("l2/etc", 0750);
	put("l2/etc/passwd", "root2", 0600);
	dir("l2/opq", 0700);
	put("l2/opq/new", "new", 0644);
	if (root) {
		mknod(in("l2/etc/gone"), S_IFCHR, makedev(0, 0));
		setxattr(in("l2/opq"), "trusted.overlay.opaque", "y", 1, 0);
	}
}

TEST(copy_one_layer)
{
	struct err e = { 0 };
	struct stat a, b;
	char *layers[] = { (char *)in("l1") };
	CHECK(stg_copy_layers(layers, 1, in("c1"), &e) == 0);
	CHECK_STR(slurp("c1/bin/busybox"), "BB");
	CHECK(!lstat(in("c1/bin/busybox"), &a) && !lstat(in("c1/bin/sh"), &b));
	CHECK(a.st_ino == b.st_ino && a.st_nlink == 2);
	CHECK((a.st_mode & 07777) == 04755);
	CHECK(!lstat(in("c1/tmp"), &a) && (a.st_mode & 07777) == 01777);
	char t[64] = "";
	CHECK(readlink(in("c1/bin/ls"), t, sizeof(t)) == 7 && !memcmp(t, "busybox", 7));
	CHECK(!lstat(in("c1/fifo"), &a) && S_ISFIFO(a.st_mode) && (a.st_mode & 0777) == 0640);
	CHECK(!lstat(in("l1/etc/passwd"), &b) && !lstat(in("c1/etc/passwd"), &a));
	CHECK(a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec);
	CHECK(a.st_ino != b.st_ino);	/* a copy, not the layer's own file */
	if (root) {
		CHECK(a.st_uid == 1000 && a.st_gid == 1001);
		CHECK(getxattr(in("c1/etc/passwd"), "user.note", t, sizeof(t)) == 2 || errno == ENOTSUP);
	}
	/* the destination must be new */
	CHECK(stg_copy_layers(layers, 1, in("c1"), &e) == -EEXIST);
}

TEST(copy_two_layers)
{
	struct err e = { 0 };
	struct stat a;
	char *layers[] = { (char *)in("l1"), (char *)in("l2") };
	CHECK(stg_copy_layers(layers, 2, in("c2"), &e) == 0);
	CHECK_STR(slurp("c2/etc/passwd"), "root2");
	CHECK(!lstat(in("c2/etc/passwd"), &a) && (a.st_mode & 0777) == 0600);
	CHECK(!lstat(in("c2/etc"), &a) && (a.st_mode & 0777) == 0750);
	CHECK_STR(slurp("c2/bin/busybox"), "BB");
	CHECK_STR(slurp("c2/opq/new"), "new");
	if (root) {
		CHECK(lstat(in("c2/etc/gone"), &a) && errno == ENOENT);
		CHECK(lstat(in("c2/opq/old"), &a) && errno == ENOENT);
		char v[4];
		CHECK(getxattr(in("c2/opq"), "trusted.overlay.opaque", v, sizeof(v)) < 0);
	}
}

TEST(bad_layer)
{
	struct err e = { 0 };
	char *layers[] = { (char *)in("nope") };
	CHECK(stg_copy_layers(layers, 1, in("c3"), &e) == -ENOENT);
	CHECK(strstr(e.msg, "nope") != NULL);
}

TEST(prepare)
{
	struct err e = { 0 };
	int copied = -1;
	char *layers[] = { (char *)in("l1") };
	dir("ctr", 0700);
	CHECK(!stg_is_copy(in("ctr")));
	CHECK(stg_prepare(in("ctr"), layers, 1, &copied, &e) == 0);
	/* either overlay works here (nothing copied) or a copy was made; never both */
	CHECK(copied ? stg_is_copy(in("ctr")) : !stg_is_copy(in("ctr")));
	if (copied)
		CHECK_STR(slurp("ctr/rootfs/bin/busybox"), "BB");
	int again = -1;
	CHECK(stg_prepare(in("ctr"), layers, 1, &again, &e) == 0 && again == 0);
	struct stat st;
	CHECK(lstat(in("ctr/rootfs.tmp"), &st) && errno == ENOENT);
}

int main(void)
{
	root = geteuid() == 0;
	snprintf(tmp, sizeof(tmp), "/tmp/mdstg.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	make_layers();
	RUN(copy_one_layer);
	RUN(copy_two_layers);
	RUN(bad_layer);
	RUN(prepare);
	rm_rf(tmp);
	return UNIT_END();
}
