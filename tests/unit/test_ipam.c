/* Unit tests: subnet parsing, allocator sizes /8../30, reserved addresses, exhaustion, release and
 * reuse, overlap detection, port mapping syntax. */
#include <errno.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "unit.h"
#include "ipam.h"
#include "network.h"

static uint32_t ip(const char *s)
{
	uint32_t v = 0;
	if (ipam_parse_ip(s, &v))
		printf("bad test address %s\n", s);
	return v;
}

static struct cidr cidr(const char *s)
{
	struct cidr c = { 0, 0 };
	struct err e;
	if (ipam_parse_cidr(s, &c, &e))
		printf("bad test subnet %s: %s\n", s, e.msg);
	return c;
}

TEST(parse_ip)
{
	uint32_t v;
	CHECK(ipam_parse_ip("10.1.2.3", &v) == 0 && v == 0x0a010203);
	CHECK(ipam_parse_ip("255.255.255.255", &v) == 0 && v == 0xffffffff);
	CHECK(ipam_parse_ip("0.0.0.0", &v) == 0 && v == 0);
	const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "01.2.3.4", "1..2.3",
			      "a.b.c.d", "1.2.3.-4", "1234.1.1.1", "1.2.3.4/24" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(ipam_parse_ip(bad[i], &v) == -EINVAL);
}

TEST(parse_cidr)
{
	struct cidr c;
	struct err e;
	char s[20];
	CHECK(ipam_parse_cidr("10.0.0.0/8", &c, &e) == 0 && c.net == 0x0a000000 && c.len == 8);
	CHECK(ipam_parse_cidr("192.168.7.4/30", &c, &e) == 0 && c.len == 30);
	ipam_fmt_cidr(&c, s);
	CHECK_STR(s, "192.168.7.4/30");
	CHECK(ipam_parse_cidr("10.0.0.0/7", &c, &e) == -EINVAL);
	CHECK(ipam_parse_cidr("10.0.0.0/31", &c, &e) == -EINVAL);
	CHECK(ipam_parse_cidr("10.0.0.0/32", &c, &e) == -EINVAL);
	CHECK(ipam_parse_cidr("10.0.0.0", &c, &e) == -EINVAL);
	CHECK(ipam_parse_cidr("10.0.0.0/", &c, &e) == -EINVAL);
	CHECK(ipam_parse_cidr("10.0.0.0/24x", &c, &e) == -EINVAL);
	CHECK(ipam_parse_cidr("10.0.0.1/24", &c, &e) == -EINVAL);
	CHECK(strstr(e.msg, "10.0.0.0/24") != NULL);	/* the hint */
	CHECK(ipam_parse_cidr("300.0.0.0/24", &c, &e) == -EINVAL);
}

/* Allocate everything of a /len: count, never network/gateway/broadcast, then ENOSPC. */
static void fill(const char *sub, uint32_t expect)
{
	struct cidr c = cidr(sub);
	struct ipam p;
	uint32_t a, n = 0, prev = 0;
	int ok = 1;
	CHECK(ipam_init(&p, &c, 0) == 0);
	while (ipam_alloc(&p, &a) == 0) {
		if (a == c.net || a == p.gw || a == ipam_bcast(&c) || !ipam_contains(&c, a) || a <= prev)
			ok = 0;
		prev = a;
		n++;
	}
	CHECK(ok);
	CHECK(n == expect);
	CHECK(ipam_alloc(&p, &a) == -ENOSPC);
	ipam_free(&p);
}

TEST(sizes)
{
	fill("10.9.9.4/30", 1);		/* .5 gateway, .6 the only one, .7 broadcast */
	fill("10.9.9.0/29", 5);
	fill("10.9.9.0/24", 253);
	fill("10.9.0.0/16", 65533);
	fill("172.16.0.0/12", (1u << 20) - 3);
}

TEST(eight)
{
	/* a /8 does not need memory sized by the subnet: allocate a few, check the order */
	struct cidr c = cidr("10.0.0.0/8");
	struct ipam p;
	uint32_t a;
	CHECK(ipam_init(&p, &c, 0) == 0);
	CHECK(p.gw == ip("10.0.0.1"));
	CHECK(ipam_alloc(&p, &a) == 0 && a == ip("10.0.0.2"));
	CHECK(ipam_reserve(&p, ip("10.255.255.254")) == 0);
	CHECK(ipam_reserve(&p, ip("10.255.255.255")) == -EINVAL);
	CHECK(ipam_alloc(&p, &a) == 0 && a == ip("10.0.0.3"));
	CHECK(p.n == 3);
	ipam_free(&p);
}

TEST(gateway)
{
	struct cidr c = cidr("10.5.0.0/24");
	struct ipam p;
	uint32_t a;
	CHECK(ipam_init(&p, &c, ip("10.5.0.0")) == -EINVAL);
	CHECK(ipam_init(&p, &c, ip("10.5.0.255")) == -EINVAL);
	CHECK(ipam_init(&p, &c, ip("10.6.0.1")) == -EINVAL);
	CHECK(ipam_init(&p, &c, ip("10.5.0.2")) == 0);
	CHECK(ipam_alloc(&p, &a) == 0 && a == ip("10.5.0.1"));
	CHECK(ipam_alloc(&p, &a) == 0 && a == ip("10.5.0.3"));	/* .2 is the gateway */
	CHECK(ipam_reserve(&p, ip("10.5.0.2")) == -EINVAL);
	CHECK(ipam_reserve(&p, ip("10.5.0.0")) == -EINVAL);
	CHECK(ipam_reserve(&p, ip("10.5.0.3")) == -EEXIST);
	ipam_free(&p);
}

TEST(release_reuse)
{
	struct cidr c = cidr("10.7.0.0/29");
	struct ipam p;
	uint32_t a, got[5];
	CHECK(ipam_init(&p, &c, 0) == 0);
	for (int i = 0; i < 5; i++)
		CHECK(ipam_alloc(&p, &got[i]) == 0);
	CHECK(ipam_alloc(&p, &a) == -ENOSPC);
	CHECK(ipam_release(&p, got[2]) == 0);
	CHECK(ipam_release(&p, got[2]) == -ENOENT);
	CHECK(ipam_release(&p, got[0]) == 0);
	CHECK(!ipam_used(&p, got[0]) && ipam_used(&p, got[1]));
	CHECK(ipam_alloc(&p, &a) == 0 && a == got[0]);	/* lowest free first */
	CHECK(ipam_alloc(&p, &a) == 0 && a == got[2]);
	CHECK(ipam_alloc(&p, &a) == -ENOSPC);
	ipam_free(&p);
}

TEST(reserve_unsorted)
{
	struct cidr c = cidr("10.8.0.0/24");
	struct ipam p;
	uint32_t a;
	CHECK(ipam_init(&p, &c, 0) == 0);
	CHECK(ipam_reserve(&p, ip("10.8.0.9")) == 0);
	CHECK(ipam_reserve(&p, ip("10.8.0.3")) == 0);
	CHECK(ipam_reserve(&p, ip("10.8.0.2")) == 0);
	CHECK(ipam_reserve(&p, ip("10.8.0.1")) == -EINVAL);	/* the gateway */
	CHECK(ipam_alloc(&p, &a) == 0 && a == ip("10.8.0.4"));
	for (size_t i = 1; i < p.n; i++)
		CHECK(p.used[i - 1] < p.used[i]);
	ipam_free(&p);
}

TEST(overlap)
{
	struct cidr a = cidr("10.1.0.0/16"), b = cidr("10.1.5.0/24"), c = cidr("10.2.0.0/16"),
		    d = cidr("10.0.0.0/8"), f = cidr("10.1.255.252/30");
	CHECK(ipam_overlap(&a, &b) && ipam_overlap(&b, &a));
	CHECK(!ipam_overlap(&a, &c));
	CHECK(ipam_overlap(&d, &c) && ipam_overlap(&c, &d));
	CHECK(ipam_overlap(&a, &f));
	CHECK(!ipam_overlap(&b, &f));
	CHECK(ipam_overlap(&a, &a));
}

TEST(portmap)
{
	struct portmap p;
	struct err e;
	char s[48];
	CHECK(portmap_parse("8080:80", &p, &e) == 0 && p.host_port == 8080 && p.port == 80 &&
	      p.proto == IPPROTO_TCP && p.host_ip == 0);
	portmap_fmt(&p, s);
	CHECK_STR(s, "8080:80/tcp");
	portmap_fmt_ps(&p, s);
	CHECK_STR(s, "0.0.0.0:8080->80/tcp");
	CHECK(portmap_parse("127.0.0.1:53:5353/udp", &p, &e) == 0 && p.proto == IPPROTO_UDP &&
	      p.host_ip == htonl(0x7f000001) && p.host_port == 53 && p.port == 5353);
	portmap_fmt(&p, s);
	CHECK_STR(s, "127.0.0.1:53:5353/udp");
	const char *bad[] = { "80", "0:80", "80:0", "65536:1", "a:b", "1.2.3:1:2", "1:2/sctp", "1:2:3:4",
			      ":80", "80:", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(portmap_parse(bad[i], &p, &e) == -EINVAL);
}

int main(void)
{
	RUN(parse_ip);
	RUN(parse_cidr);
	RUN(sizes);
	RUN(eight);
	RUN(gateway);
	RUN(release_reuse);
	RUN(reserve_unsorted);
	RUN(overlap);
	RUN(portmap);
	return UNIT_END();
}
