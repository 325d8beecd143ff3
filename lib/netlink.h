/* netlink: a small rtnetlink client (links, addresses, routes, moves between network namespaces)
 * and the message builder it shares with nft.c.
 *
 * Every nl_ call returns 0 (or a positive value where said) or -errno; when the kernel refuses a
 * request, errno is the code of its nlmsgerr reply, so the caller can write "add veth: File exists".
 * Addresses are IPv4 in network byte order. A netlink socket stays bound to the network namespace
 * it was created in: nl_open_netns() gives a socket that acts inside a container. */
#ifndef MYDOCKER_NETLINK_H
#define MYDOCKER_NETLINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/netlink.h>

#define NL_BUFSZ 8192

/* A message, or a batch of messages, being built. Overflow is sticky (err = -EMSGSIZE). */
struct nlb {
	unsigned char p[NL_BUFSZ] __attribute__((aligned(8)));
	size_t len;
	size_t msg;		/* offset of the message being built */
	uint32_t seq;		/* sequence number of the last message */
	int err;
};

/* NETLINK_ROUTE or NETLINK_NETFILTER socket (SOCK_CLOEXEC): fd or -errno. */
int nl_open(int proto);
/* The same socket, created inside the network namespace of pid (or of nsfd when pid == 0). */
int nl_open_netns(int proto, pid_t pid, int nsfd);

/* Builder. nl_msg starts a message and returns its zeroed family header (hdrlen bytes). */
void nl_init(struct nlb *b);
void *nl_msg(struct nlb *b, uint16_t type, uint16_t flags, size_t hdrlen);
/* n zeroed bytes (at most 64) appended to the current message, e.g. a nested header. */
void *nl_reserve(struct nlb *b, size_t n);
void nl_put(struct nlb *b, uint16_t type, const void *data, size_t n);
void nl_put_u32(struct nlb *b, uint16_t type, uint32_t v);
void nl_put_be32(struct nlb *b, uint16_t type, uint32_t v);	/* v in host order */
void nl_put_str(struct nlb *b, uint16_t type, const char *s);
size_t nl_nest(struct nlb *b, uint16_t type);
void nl_nest_end(struct nlb *b, size_t start);

/* Called for every reply message of a dump or get; a non-zero return stops with that value. */
typedef int (*nl_cb)(const struct nlmsghdr *h, void *arg);
/* Send the buffer; then read replies until the one answering its last message (ack, error or
 * end of dump). Returns the first error any of its messages got, else 0. */
int nl_send(int fd, const struct nlb *b);
int nl_recv(int fd, uint32_t first, uint32_t last, nl_cb cb, void *arg);
int nl_talk(int fd, struct nlb *b, nl_cb cb, void *arg);
/* Index attributes of p[0..n) by type into tb[0..max] (later duplicates win). */
void nl_parse(const void *p, size_t n, const struct nlattr **tb, int max);
#define NL_DATA(a) ((void *)((char *)(a) + NLA_HDRLEN))
#define NL_LEN(a) ((size_t)(a)->nla_len - NLA_HDRLEN)

/* rtnetlink, on a NETLINK_ROUTE socket. */
int nl_ifindex(int fd, const char *name);		/* > 0, or -ENODEV */
int nl_bridge_add(int fd, const char *name);
/* veth pair name <-> peer; the peer is created in the netns nsfd (-1: this one), name on the
 * bridge with ifindex master (0: none). Both down: a veth cannot go up before its peer exists. */
int nl_veth_add(int fd, const char *name, const char *peer, int peer_nsfd, int master);
int nl_link_del(int fd, const char *name);
int nl_link_up(int fd, int ifindex, int up);
int nl_link_rename(int fd, int ifindex, const char *name);
int nl_link_netns(int fd, int ifindex, pid_t pid, int nsfd);	/* to pid's netns, or nsfd if pid == 0 */
int nl_addr_add(int fd, int ifindex, uint32_t ip, int prefixlen);
int nl_route_add(int fd, uint32_t dst, int dstlen, uint32_t gw);
/* IPv4 routes of the main table: cb(dst, dstlen, oif, arg) for each; a non-zero return stops. */
int nl_route_list(int fd, int (*cb)(uint32_t dst, int dstlen, int oif, void *arg), void *arg);

/* Write val to /proc/sys/PATH (e.g. "net/ipv4/ip_forward"): 0 or -errno. */
int nl_sysctl(const char *path, const char *val);

#endif
