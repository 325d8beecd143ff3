/* Unit tests: capability names and docker's --cap-add/--cap-drop rules; applying them in a child
 * (as root) gives the CapEff/CapPrm/CapInh/CapBnd/CapAmb docker shows. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"
#include "secure.h"
#include "util.h"

TEST(cap_names)
{
	CHECK(sec_cap_parse("CHOWN") == 0);
	CHECK(sec_cap_parse("cap_net_admin") == 12);
	CHECK(sec_cap_parse("CAP_SYS_ADMIN") == 21);
	CHECK(sec_cap_parse("checkpoint_restore") == 40);
	CHECK(sec_cap_parse("all") == 64);
	CHECK(sec_cap_parse("NET_FOO") == -EINVAL);
	CHECK(sec_cap_parse("") == -EINVAL);
}

TEST(cap_rules)
{
	uint64_t k;
	struct err e;
	char *add[] = { "NET_ADMIN", NULL }, *drop[] = { "MKNOD", "cap_net_raw", NULL };
	char *all[] = { "ALL", NULL }, *bad[] = { "NET_FOO", NULL }, *nbs[] = { "NET_BIND_SERVICE", NULL };
	CHECK(sec_caps(NULL, NULL, &k, &e) == 0 && k == SEC_CAPS_DEFAULT);
	CHECK(sec_caps(add, drop, &k, &e) == 0 && k == ((SEC_CAPS_DEFAULT | 1ull << 12) & ~(1ull << 27 | 1ull << 13)));
	CHECK(sec_caps(NULL, all, &k, &e) == 0 && k == 0);
	CHECK(sec_caps(nbs, all, &k, &e) == 0 && k == 1ull << 10);
	CHECK(sec_caps(all, drop, &k, &e) == 0 && k == ~(1ull << 27 | 1ull << 13));
	CHECK(sec_caps(bad, NULL, &k, &e) == -EINVAL);
	CHECK_STR(e.msg, "invalid capability \"NET_FOO\"");
}

/* The "Cap*:" line of /proc/self/status. */
static unsigned long long status_cap(const char *key)
{
	struct buf b = { 0 };
	unsigned long long v = ~0ull;
	if (read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &b))
		return v;
	char *p = strstr(b.p, key);
	if (p)
		v = strtoull(p + strlen(key) + 1, NULL, 16);
	buf_free(&b);
	return v;
}

TEST(cap_apply)
{
	if (geteuid()) {
		SKIP("needs root");
		return;
	}
	pid_t p = fork();
	if (p == 0) {
		struct err e;
		int bad = sec_caps_bound(SEC_CAPS_DEFAULT, &e) || sec_caps_apply(SEC_CAPS_DEFAULT, 1, &e);
		bad |= status_cap("CapEff:") != SEC_CAPS_DEFAULT;
		bad |= status_cap("CapPrm:") != SEC_CAPS_DEFAULT;
		bad |= (status_cap("CapBnd:") != SEC_CAPS_DEFAULT) << 1;
		bad |= (status_cap("CapInh:") != 0) << 2;
		bad |= (status_cap("CapAmb:") != 0) << 3;
		bad |= (status_cap("NoNewPrivs:") != 1) << 4;
		_exit(bad);
	}
	int st;
	waitpid(p, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	RUN(cap_names);
	RUN(cap_rules);
	RUN(cap_apply);
	return UNIT_END();
}
