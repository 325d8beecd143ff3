/* ipam: IPv4 subnets and the address allocator of a bridge network.
 *
 * Addresses here are in host byte order. A network /8 to /30: its network address, gateway and
 * broadcast address are never handed out; the lowest free host address is. The allocator is a
 * sorted array of the addresses in use (sized by what is allocated, not by the subnet).
 * Persistence and locking are the caller's (network.c keeps it in ROOT/networks/NAME.json under
 * the "networks" lock). */
#ifndef MYDOCKER_IPAM_H
#define MYDOCKER_IPAM_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

struct cidr {
	uint32_t net;
	int len;
};

struct ipam {
	struct cidr net;
	uint32_t gw;
	uint32_t *used;		/* sorted ascending */
	size_t n, cap;
};

/* Strict dotted quad: 0 or -EINVAL. */
int ipam_parse_ip(const char *s, uint32_t *ip);
/* "A.B.C.D/N", N in 8..30, no host bits set: 0 or -EINVAL with a message in e. */
int ipam_parse_cidr(const char *s, struct cidr *c, struct err *e);
void ipam_fmt(uint32_t ip, char out[16]);
void ipam_fmt_cidr(const struct cidr *c, char out[20]);
uint32_t ipam_mask(int len);
uint32_t ipam_bcast(const struct cidr *c);
int ipam_contains(const struct cidr *c, uint32_t ip);
int ipam_overlap(const struct cidr *a, const struct cidr *b);
/* A host address of c (not network or broadcast). */
int ipam_host(const struct cidr *c, uint32_t ip);

/* An empty allocator for net with gateway gw (0: the first host address). -EINVAL if gw is no host of net. */
int ipam_init(struct ipam *p, const struct cidr *net, uint32_t gw);
void ipam_free(struct ipam *p);
/* Take the lowest free address: 0, -ENOSPC when the subnet is full, -ENOMEM. */
int ipam_alloc(struct ipam *p, uint32_t *ip);
/* Take this address: 0, -EEXIST if in use, -EINVAL if it is no host address or is the gateway. */
int ipam_reserve(struct ipam *p, uint32_t ip);
/* Give it back: 0, -ENOENT if it was not in use. */
int ipam_release(struct ipam *p, uint32_t ip);
int ipam_used(const struct ipam *p, uint32_t ip);

/* Refuse c when an IPv4 route of the host's main table overlaps it: 0 or -EEXIST with the route
 * in the message (the default route does not count). */
int ipam_check_routes(const struct cidr *c, struct err *e);

#endif
