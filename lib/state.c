/* state: the state root, atomic replacement of state files, locks, names and ids. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "state.h"
#include "defaults.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static const char *root_dir;

const char *state_root(void)
{
	if (!root_dir) {
		const char *env = getenv("MYDOCKER_ROOT");
		root_dir = env && *env ? env : DEFAULT_ROOT;
	}
	return root_dir;
}

void state_set_root(const char *dir)
{
	root_dir = dir;
}

int state_init(struct err *e)
{
	static const char *sub[] = { "", "/containers", "/images", "/images/layers", "/images/configs",
				     "/images/tmp", "/networks", "/locks" };
	char p[4096];
	const char *root = state_root();
	if (root[0] != '/')
		return err_set(e, EINVAL, "state root %s: not an absolute path", root);
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		snprintf(p, sizeof(p), "%s%s", root, sub[i]);
		int r = i == 0 ? mkdir_p(p, 0711) : (mkdir(p, 0700) && errno != EEXIST ? -errno : 0);
		if (r)
			return err_set(e, -r, "create %s", p);
	}
	return 0;
}

int state_replace(int dirfd, const char *name, const void *p, size_t n, int how, struct err *e)
{
	char tmp[300];
	snprintf(tmp, sizeof(tmp), ".%s.tmp.%d", name, (int)getpid());
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(e, errno, "create %s", tmp);
	int r = write_all(fd, p, n);
	if (!r && (how & STATE_SYNC) && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	/* Unsynced: exchange the two names and drop the old record. A rename over an existing name
	 * makes ext4 (auto_da_alloc) start writing the new data out at once -- the fsync we chose not
	 * to pay; the exchange is as atomic for readers. A kill between the two calls leaves the old
	 * record under the temp name, which nothing reads. */
	if (!r && !(how & STATE_SYNC) && !syscall(SYS_renameat2, dirfd, tmp, dirfd, name, RENAME_EXCHANGE)) {
		unlinkat(dirfd, tmp, 0);
		return 0;
	}
	if (!r && renameat(dirfd, tmp, dirfd, name))
		r = -errno;
	if (r) {
		unlinkat(dirfd, tmp, 0);
		return err_set(e, -r, "write %s", name);
	}
	if (how & STATE_SYNC_DIR)
		fsync(dirfd);
	return 0;
}

int state_write_atomic(int dirfd, const char *name, const void *p, size_t n, struct err *e)
{
	return state_replace(dirfd, name, p, n, STATE_SYNC | STATE_SYNC_DIR, e);
}

int state_write_new(int dirfd, const char *name, const void *p, size_t n, int how, struct err *e)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(e, errno, "create %s", name);
	int r = write_all(fd, p, n);
	if (!r && (how & STATE_SYNC) && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (r) {
		unlinkat(dirfd, name, 0);
		return err_set(e, -r, "write %s", name);
	}
	if (how & STATE_SYNC_DIR)
		fsync(dirfd);
	return 0;
}

int state_lock(const char *name, struct err *e)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/locks/%s", state_root(), name);
	int fd = openat(AT_FDCWD, p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ENOENT) {
		if (state_init(e))
			return -e->no;
		fd = openat(AT_FDCWD, p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd < 0)
		return err_set(e, errno, "lock %s", p);
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			int no = errno;
			close(fd);
			return err_set(e, no, "lock %s", p);
		}
	}
	return fd;
}

int name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return 0;
	}
	return 1;
}

int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int id_new(char *out, struct err *e)
{
	unsigned char r[ID_LEN / 2];
	static const char hx[] = "0123456789abcdef";
	size_t got = 0;
	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, errno, "getrandom");
		got += n;
	}
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = hx[r[i] >> 4];
		out[2 * i + 1] = hx[r[i] & 15];
	}
	out[ID_LEN] = 0;
	return 0;
}
