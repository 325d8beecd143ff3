/* Unit tests: digest, state (atomic writes, locks, names, ids), util formatting, image references. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"
#include "digest.h"
#include "image.h"
#include "state.h"
#include "util.h"

static char tmp[64];

TEST(sha256_vectors)
{
	char hex[65];
	sha256_buf_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_buf_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_buf_hex(m, strlen(m), hex);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* one million 'a', fed in uneven pieces: streaming must equal one shot */
	struct sha256 h;
	char a[1000];
	memset(a, 'a', sizeof(a));
	sha256_init(&h);
	for (int i = 0, n = 0; n < 1000000; i++) {
		int k = (i * 37) % 999 + 1;
		if (n + k > 1000000)
			k = 1000000 - n;
		sha256_update(&h, a, k);
		n += k;
	}
	sha256_hex(&h, hex);
	CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(digest_compare)
{
	const char *x = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	CHECK(digest_eq(x, x));
	CHECK(digest_eq("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", x));
	CHECK(digest_eq("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", x));
	CHECK(!digest_eq("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ae", x));
	CHECK(!digest_eq("ba78", x));
	unsigned char b[3] = { 0, 0xab, 0xff };
	char out[7];
	hex_encode(b, 3, out);
	CHECK_STR(out, "00abff");
}

TEST(names)
{
	CHECK(name_valid("web"));
	CHECK(name_valid("a"));
	CHECK(name_valid("Web_1.x-2"));
	CHECK(!name_valid(""));
	CHECK(!name_valid("-x"));
	CHECK(!name_valid(".x"));
	CHECK(!name_valid("a/b"));
	CHECK(!name_valid(".."));
	CHECK(!name_valid("a b"));
	CHECK(!name_valid("a\nb"));
	char big[NAME_MAX_LEN + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[NAME_MAX_LEN + 1] = 0;
	CHECK(!name_valid(big));
	big[NAME_MAX_LEN] = 0;
	CHECK(name_valid(big));
}

TEST(ids)
{
	char a[ID_LEN + 1], b[ID_LEN + 1];
	struct err e;
	CHECK(id_new(a, &e) == 0);
	CHECK(id_new(b, &e) == 0);
	CHECK(strlen(a) == 64 && is_hex(a, 64));
	CHECK(strcmp(a, b) != 0);
	CHECK(!is_hex("abcg", 4));
	CHECK(!is_hex("ABCD", 4));
}

TEST(atomic_write)
{
	struct err e;
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY);
	CHECK(state_write_atomic(dfd, "f.json", "one", 3, &e) == 0);
	CHECK(state_write_atomic(dfd, "f.json", "second", 6, &e) == 0);
	struct buf b = { 0 };
	CHECK(read_file_at(dfd, "f.json", 100, &b) == 0);
	CHECK_STR(b.p, "second");
	CHECK(read_file_at(dfd, "f.json", 3, &b) == -EFBIG);
	buf_free(&b);
	/* no temp files left behind */
	CHECK(faccessat(dfd, ".f.json.tmp.1", F_OK, 0) != 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) = 1", tmp);
	CHECK(system(cmd) == 0);
	/* a symlink in place of the temp name is not followed */
	char tname[64];
	snprintf(tname, sizeof(tname), ".g.tmp.%d", (int)getpid());
	CHECK(symlinkat("/nonexistent-target", dfd, tname) == 0);
	CHECK(state_write_atomic(dfd, "g", "x", 1, &e) < 0);
	unlinkat(dfd, tname, 0);
	unlinkat(dfd, "f.json", 0);
	close(dfd);
}

TEST(lock_excludes)
{
	struct err e;
	char root[96];
	snprintf(root, sizeof(root), "%s/root", tmp);
	state_set_root(root);
	int fd = state_lock("thing", &e);
	CHECK(fd >= 0);
	pid_t p = fork();
	if (p == 0) {
		char lp[160];
		snprintf(lp, sizeof(lp), "%s/locks/thing", root);
		int f = open(lp, O_RDWR);
		_exit(flock(f, LOCK_EX | LOCK_NB) == 0 ? 1 : 0);
	}
	int st;
	waitpid(p, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
	CHECK(access(root, F_OK) == 0);
}

TEST(numbers_and_time)
{
	long long v;
	CHECK(parse_ll("42", 0, 100, &v) == 0 && v == 42);
	CHECK(parse_ll("-1", 0, 100, &v) == -ERANGE);
	CHECK(parse_ll("12x", 0, 100, &v) == -EINVAL);
	CHECK(parse_ll("", 0, 100, &v) == -EINVAL);
	CHECK(parse_ll("99999999999999999999", 0, 100, &v) == -ERANGE);
	char t[40];
	int64_t ns;
	fmt_time(1700000000123456789LL, t);
	CHECK_STR(t, "2023-11-14T22:13:20.123456789Z");
	CHECK(parse_time(t, &ns) == 0 && ns == 1700000000123456789LL);
	CHECK(parse_time("2023-11-14T23:13:20+01:00", &ns) == 0 && ns == 1700000000000000000LL);
	CHECK(parse_time("yesterday", &ns) < 0);
	char d[32], s[16];
	fmt_duration(3, d);
	CHECK_STR(d, "3 seconds");
	fmt_duration(180, d);
	CHECK_STR(d, "3 minutes");
	fmt_size(2140160, s);
	CHECK_STR(s, "2.14MB");
	fmt_size(999, s);
	CHECK_STR(s, "999B");
}

TEST(image_refs)
{
	char out[400];
	CHECK(image_ref_norm("busybox", out, sizeof(out)) == 0);
	CHECK_STR(out, "busybox:latest");
	CHECK(image_ref_norm("my/app:v1.2", out, sizeof(out)) == 0);
	CHECK_STR(out, "my/app:v1.2");
	CHECK(image_ref_norm("localhost:5000/app", out, sizeof(out)) == 0);
	CHECK_STR(out, "localhost:5000/app:latest");
	CHECK(image_ref_norm("UPPER", out, sizeof(out)) < 0);
	CHECK(image_ref_norm("../x", out, sizeof(out)) < 0);
	CHECK(image_ref_norm("a/../b", out, sizeof(out)) < 0);
	CHECK(image_ref_norm("a:", out, sizeof(out)) < 0);
	CHECK(image_ref_norm("a:-x", out, sizeof(out)) < 0);
	CHECK(image_ref_norm("", out, sizeof(out)) < 0);
	CHECK(image_ref_norm("a//b", out, sizeof(out)) < 0);
}

TEST(rm_rf_tree)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/t/a/b/c", tmp);
	CHECK(mkdir_p(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/t/a/link", tmp);
	CHECK(symlink("/etc", p) == 0);
	snprintf(p, sizeof(p), "%s/t", tmp);
	CHECK(rm_rf(p) == 0);
	CHECK(access(p, F_OK) != 0);
	CHECK(access("/etc/passwd", F_OK) == 0);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/unit-state.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	RUN(sha256_vectors);
	RUN(digest_compare);
	RUN(names);
	RUN(ids);
	RUN(atomic_write);
	RUN(lock_excludes);
	RUN(numbers_and_time);
	RUN(image_refs);
	RUN(rm_rf_tree);
	rm_rf(tmp);
	return UNIT_END();
}
