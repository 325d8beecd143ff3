/* ipam: subnet arithmetic and the address allocator. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/netlink.h>
#include "ipam.h"
#include "netlink.h"


int ipam_parse_ip(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned n = 0, digits = 0;
		for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
			n = n * 10 + (*s - '0');
		if (!digits || digits > 3 || n > 255 || (digits > 1 && s[-(int)digits] == '0'))
			return -EINVAL;
		v = v << 8 | n;
		if (i < 3 && *s++ != '.')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	*ip = v;
	return 0;
}

uint32_t ipam_mask(int len)
{
	return len <= 0 ? 0 : len >= 32 ? 0xffffffffu : 0xffffffffu << (32 - len);
}

uint32_t ipam_bcast(const struct cidr *c)
{
	return c->net | ~ipam_mask(c->len);
}

int ipam_parse_cidr(const char *s, struct cidr *c, struct err *e)
{
	char a[32];
	const char *slash = strchr(s, '/');
	long long len;
	if (!slash || (size_t)(slash - s) >= sizeof(a))
		return err_msg(e, EINVAL, "invalid subnet \"%.64s\": want A.B.C.D/N", s);
	memcpy(a, s, slash - s);
	a[slash - s] = 0;
	if (ipam_parse_ip(a, &c->net) || parse_ll(slash + 1, 0, 32, &len))
		return err_msg(e, EINVAL, "invalid subnet \"%.64s\": want A.B.C.D/N", s);
	if (len < 8 || len > 30)
		return err_msg(e, EINVAL, "invalid subnet %.64s: prefix length must be 8 to 30", s);
	c->len = len;
	if (c->net & ~ipam_mask(c->len)) {
		char n[16];
		ipam_fmt(c->net & ipam_mask(c->len), n);
		return err_msg(e, EINVAL, "invalid subnet %.64s: host bits set (did you mean %s/%d?)", s, n, c->len);
	}
	return 0;
}

void ipam_fmt(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

void ipam_fmt_cidr(const struct cidr *c, char out[20])
{
	char a[16];
	ipam_fmt(c->net, a);
	snprintf(out, 20, "%s/%d", a, c->len);
}

int ipam_contains(const struct cidr *c, uint32_t ip)
{
	return (ip & ipam_mask(c->len)) == c->net;
}

int ipam_overlap(const struct cidr *a, const struct cidr *b)
{
	int len = a->len < b->len ? a->len : b->len;
	return ((a->net ^ b->net) & ipam_mask(len)) == 0;
}

int ipam_host(const struct cidr *c, uint32_t ip)
{
	return ipam_contains(c, ip) && ip != c->net && ip != ipam_bcast(c);
}

int ipam_init(struct ipam *p, const struct cidr *net, uint32_t gw)
{
	memset(p, 0, sizeof(*p));
	p->net = *net;
	p->gw = gw ? gw : net->net + 1;
	return ipam_host(net, p->gw) ? 0 : -EINVAL;
}

void ipam_free(struct ipam *p)
{
	free(p->used);
	p->used = NULL;
	p->n = p->cap = 0;
}

/* Index of the first used address >= ip. */
static size_t lower_bound(const struct ipam *p, uint32_t ip)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->used[mid] < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ipam_used(const struct ipam *p, uint32_t ip)
{
	size_t i = lower_bound(p, ip);
	return i < p->n && p->used[i] == ip;
}

static int insert_at(struct ipam *p, size_t i, uint32_t ip)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		uint32_t *u = realloc(p->used, cap * sizeof(*u));
		if (!u)
			return -ENOMEM;
		p->used = u;
		p->cap = cap;
	}
	memmove(p->used + i + 1, p->used + i, (p->n - i) * sizeof(*p->used));
	p->used[i] = ip;
	p->n++;
	return 0;
}

int ipam_reserve(struct ipam *p, uint32_t ip)
{
	if (!ipam_host(&p->net, ip) || ip == p->gw)
		return -EINVAL;
	/* loading a saved (sorted) list appends: no search */
	size_t i = p->n && p->used[p->n - 1] < ip ? p->n : lower_bound(p, ip);
	if (i < p->n && p->used[i] == ip)
		return -EEXIST;
	return insert_at(p, i, ip);
}

/* The k-th address that can be handed out (0-based): hosts from net+1 upwards, minus the gateway. */
static uint32_t nth_host(const struct ipam *p, size_t k)
{
	uint32_t a = p->net.net + 1 + (uint32_t)k;
	return a < p->gw ? a : a + 1;
}

int ipam_alloc(struct ipam *p, uint32_t *ip)
{
	/* used[i] >= nth_host(i) always; the first i where it is greater is the first gap */
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->used[mid] > nth_host(p, mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	uint32_t c = nth_host(p, lo);
	if (lo >= (size_t)ipam_bcast(&p->net) - p->net.net - 2 || c >= ipam_bcast(&p->net))
		return -ENOSPC;
	int r = insert_at(p, lo, c);
	if (!r)
		*ip = c;
	return r;
}

int ipam_release(struct ipam *p, uint32_t ip)
{
	size_t i = lower_bound(p, ip);
	if (i >= p->n || p->used[i] != ip)
		return -ENOENT;
	memmove(p->used + i, p->used + i + 1, (p->n - i - 1) * sizeof(*p->used));
	p->n--;
	return 0;
}

struct route_check {
	const struct cidr *c;
	struct cidr hit;
	int oif;
};

static int route_hit(uint32_t dst, int dstlen, int oif, void *arg)
{
	struct route_check *rc = arg;
	struct cidr r = { ntohl(dst), dstlen };
	if (dstlen == 0 || !ipam_overlap(rc->c, &r))
		return 0;
	rc->hit = r;
	rc->oif = oif;
	return 1;
}

int ipam_check_routes(const struct cidr *c, struct err *e)
{
	struct route_check rc = { .c = c };
	char a[20], b[20], dev[IF_NAMESIZE] = "?";
	int fd = nl_open(NETLINK_ROUTE);
	if (fd < 0)
		return err_set(e, -fd, "netlink");
	int r = nl_route_list(fd, route_hit, &rc);
	close(fd);
	if (r < 0)
		return err_set(e, -r, "list routes");
	if (!r)
		return 0;
	ipam_fmt_cidr(c, a);
	ipam_fmt_cidr(&rc.hit, b);
	if (rc.oif)
		if_indextoname(rc.oif, dev);
	return err_msg(e, EEXIST, "subnet %s overlaps host route %s dev %s", a, b, dev);
}
