/* netlink: message builder, request/reply loop and the rtnetlink calls the bridge driver needs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include "netlink.h"
#include "util.h"

int nl_open(int proto)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int no = errno;
		close(fd);
		return -no;
	}
	return fd;
}

int nl_open_netns(int proto, pid_t pid, int nsfd)
{
	char p[64];
	cleanup_close int self = openat(AT_FDCWD, "/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	cleanup_close int ns = -1;
	if (self < 0)
		return -errno;
	if (pid) {
		snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
		if ((ns = openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC)) < 0)
			return -errno;
		nsfd = ns;
	}
	if (setns(nsfd, CLONE_NEWNET))
		return -errno;
	int fd = nl_open(proto);
	if (setns(self, CLONE_NEWNET)) {	/* cannot happen for root; never stay in the container */
		warnx("cannot return to the host network namespace: %s", strerror(errno));
		_exit(125);
	}
	return fd;
}

/* Builder ---------------------------------------------------------------- */

static uint32_t seq_next(void)
{
	static uint32_t seq;
	if (!seq)
		seq = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	return ++seq;
}

void nl_init(struct nlb *b)
{
	b->len = b->msg = 0;
	b->seq = 0;
	b->err = 0;
}

static void *room(struct nlb *b, size_t n)
{
	size_t a = NLMSG_ALIGN(n);
	if (b->err || b->len + a > sizeof(b->p)) {
		b->err = -EMSGSIZE;
		return NULL;
	}
	void *r = b->p + b->len;
	memset(r, 0, a);
	b->len += a;
	((struct nlmsghdr *)(b->p + b->msg))->nlmsg_len = b->len - b->msg;
	return r;
}

void *nl_reserve(struct nlb *b, size_t n)
{
	static unsigned char sink[64] __attribute__((aligned(8)));
	void *r = n <= sizeof(sink) ? room(b, n) : NULL;
	if (!r)
		b->err = -EMSGSIZE;
	return r ? r : memset(sink, 0, sizeof(sink));
}

void *nl_msg(struct nlb *b, uint16_t type, uint16_t flags, size_t hdrlen)
{
	if (b->err || b->len + NLMSG_HDRLEN > sizeof(b->p))
		return nl_reserve(b, sizeof(b->p));	/* overflow: sticky error, sink */
	b->msg = b->len;
	struct nlmsghdr *h = room(b, NLMSG_HDRLEN);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = b->seq = seq_next();
	return nl_reserve(b, hdrlen);
}

void nl_put(struct nlb *b, uint16_t type, const void *data, size_t n)
{
	struct nlattr *a = room(b, NLA_HDRLEN + n);
	if (!a)
		return;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + n;
	if (n)
		memcpy(NL_DATA(a), data, n);
}

void nl_put_u32(struct nlb *b, uint16_t type, uint32_t v)
{
	nl_put(b, type, &v, 4);
}

void nl_put_be32(struct nlb *b, uint16_t type, uint32_t v)
{
	v = htonl(v);
	nl_put(b, type, &v, 4);
}

void nl_put_str(struct nlb *b, uint16_t type, const char *s)
{
	nl_put(b, type, s, strlen(s) + 1);
}

size_t nl_nest(struct nlb *b, uint16_t type)
{
	size_t start = b->len;
	nl_put(b, type | NLA_F_NESTED, NULL, 0);
	return start;
}

void nl_nest_end(struct nlb *b, size_t start)
{
	if (!b->err)
		((struct nlattr *)(b->p + start))->nla_len = b->len - start;
}

void nl_parse(const void *p, size_t n, const struct nlattr **tb, int max)
{
	memset(tb, 0, (max + 1) * sizeof(*tb));
	for (const struct nlattr *a = p; n >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= n;) {
		int t = a->nla_type & NLA_TYPE_MASK;
		if (t <= max)
			tb[t] = a;
		size_t step = NLA_ALIGN(a->nla_len);
		if (step >= n)
			break;
		n -= step;
		a = (const struct nlattr *)((const char *)a + step);
	}
}

/* Talking ---------------------------------------------------------------- */

int nl_send(int fd, const struct nlb *b)
{
	if (b->err)
		return b->err;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t n;
	do
		n = sendto(fd, b->p, b->len, 0, (struct sockaddr *)&sa, sizeof(sa));
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int nl_recv(int fd, uint32_t first, uint32_t last, nl_cb cb, void *arg)
{
	static unsigned char buf[32768] __attribute__((aligned(8)));
	int res = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq - first > last - first)
				continue;	/* not ours */
			int end = h->nlmsg_seq == last;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *me = NLMSG_DATA(h);
				if (me->error && !res)
					res = me->error < 0 ? me->error : -EIO;
				if (end)
					return res;
			} else if (h->nlmsg_type == NLMSG_DONE) {
				if (end)
					return res;
			} else if (cb && !res) {
				res = cb(h, arg);
			}
		}
	}
}

int nl_talk(int fd, struct nlb *b, nl_cb cb, void *arg)
{
	uint32_t first = ((struct nlmsghdr *)b->p)->nlmsg_seq;
	int r = nl_send(fd, b);
	return r ? r : nl_recv(fd, first, b->seq, cb, arg);
}

/* rtnetlink -------------------------------------------------------------- */

static struct ifinfomsg *link_msg(struct nlb *b, uint16_t type, uint16_t flags, int ifindex)
{
	nl_init(b);
	struct ifinfomsg *ifi = nl_msg(b, type, NLM_F_ACK | flags, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return ifi;
}

static int get_index(const struct nlmsghdr *h, void *arg)
{
	if (h->nlmsg_type == RTM_NEWLINK)
		*(int *)arg = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
	return 0;
}

int nl_ifindex(int fd, const char *name)
{
	struct nlb b;
	int idx = 0;
	if (strlen(name) >= IFNAMSIZ)
		return -ENODEV;
	link_msg(&b, RTM_GETLINK, 0, 0);
	nl_put_str(&b, IFLA_IFNAME, name);
	nl_put_u32(&b, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	int r = nl_talk(fd, &b, get_index, &idx);
	return r ? r : idx > 0 ? idx : -ENODEV;
}

int nl_bridge_add(int fd, const char *name)
{
	struct nlb b;
	link_msg(&b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	nl_put_str(&b, IFLA_IFNAME, name);
	size_t li = nl_nest(&b, IFLA_LINKINFO);
	nl_put_str(&b, IFLA_INFO_KIND, "bridge");
	nl_nest_end(&b, li);
	return nl_talk(fd, &b, NULL, NULL);
}

int nl_veth_add(int fd, const char *name, const char *peer, int peer_nsfd, int master)
{
	struct nlb b;
	link_msg(&b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	nl_put_str(&b, IFLA_IFNAME, name);
	if (master > 0)
		nl_put_u32(&b, IFLA_MASTER, master);
	size_t li = nl_nest(&b, IFLA_LINKINFO);
	nl_put_str(&b, IFLA_INFO_KIND, "veth");
	size_t data = nl_nest(&b, IFLA_INFO_DATA);
	size_t pe = nl_nest(&b, VETH_INFO_PEER);
	((struct ifinfomsg *)nl_reserve(&b, sizeof(struct ifinfomsg)))->ifi_family = AF_UNSPEC;
	nl_put_str(&b, IFLA_IFNAME, peer);
	if (peer_nsfd >= 0)
		nl_put_u32(&b, IFLA_NET_NS_FD, peer_nsfd);
	nl_nest_end(&b, pe);
	nl_nest_end(&b, data);
	nl_nest_end(&b, li);
	return nl_talk(fd, &b, NULL, NULL);
}

int nl_link_del(int fd, const char *name)
{
	struct nlb b;
	link_msg(&b, RTM_DELLINK, 0, 0);
	nl_put_str(&b, IFLA_IFNAME, name);
	return nl_talk(fd, &b, NULL, NULL);
}

int nl_link_up(int fd, int ifindex, int up)
{
	struct nlb b;
	struct ifinfomsg *ifi = link_msg(&b, RTM_NEWLINK, 0, ifindex);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return nl_talk(fd, &b, NULL, NULL);
}

int nl_link_rename(int fd, int ifindex, const char *name)
{
	struct nlb b;
	link_msg(&b, RTM_NEWLINK, 0, ifindex);
	nl_put_str(&b, IFLA_IFNAME, name);
	return nl_talk(fd, &b, NULL, NULL);
}

int nl_link_netns(int fd, int ifindex, pid_t pid, int nsfd)
{
	struct nlb b;
	link_msg(&b, RTM_NEWLINK, 0, ifindex);
	if (pid)
		nl_put_u32(&b, IFLA_NET_NS_PID, pid);
	else
		nl_put_u32(&b, IFLA_NET_NS_FD, nsfd);
	return nl_talk(fd, &b, NULL, NULL);
}

int nl_addr_add(int fd, int ifindex, uint32_t ip, int prefixlen)
{
	struct nlb b;
	nl_init(&b);
	struct ifaddrmsg *ifa = nl_msg(&b, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_index = ifindex;
	nl_put(&b, IFA_LOCAL, &ip, 4);
	nl_put(&b, IFA_ADDRESS, &ip, 4);
	if (prefixlen < 31) {
		uint32_t bc = ip | htonl(0xffffffffu >> prefixlen);
		nl_put(&b, IFA_BROADCAST, &bc, 4);
	}
	return nl_talk(fd, &b, NULL, NULL);
}

static struct rtmsg *route_msg(struct nlb *b, uint16_t type, uint16_t flags)
{
	nl_init(b);
	struct rtmsg *rt = nl_msg(b, type, flags, sizeof(*rt));
	rt->rtm_family = AF_INET;
	rt->rtm_table = RT_TABLE_MAIN;
	return rt;
}

int nl_route_add(int fd, uint32_t dst, int dstlen, uint32_t gw)
{
	struct nlb b;
	struct rtmsg *rt = route_msg(&b, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	rt->rtm_dst_len = dstlen;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	if (dstlen)
		nl_put(&b, RTA_DST, &dst, 4);
	nl_put(&b, RTA_GATEWAY, &gw, 4);
	return nl_talk(fd, &b, NULL, NULL);
}

struct route_walk {
	int (*cb)(uint32_t, int, int, void *);
	void *arg;
};

static int route_one(const struct nlmsghdr *h, void *arg)
{
	struct route_walk *w = arg;
	const struct rtmsg *rt = NLMSG_DATA(h);
	const struct nlattr *tb[RTA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWROUTE || rt->rtm_family != AF_INET)
		return 0;
	nl_parse(rt + 1, h->nlmsg_len - NLMSG_LENGTH(sizeof(*rt)), tb, RTA_MAX);
	uint32_t table = tb[RTA_TABLE] ? *(uint32_t *)NL_DATA(tb[RTA_TABLE]) : rt->rtm_table;
	if (table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST)
		return 0;
	uint32_t dst = tb[RTA_DST] ? *(uint32_t *)NL_DATA(tb[RTA_DST]) : 0;
	int oif = tb[RTA_OIF] ? *(int *)NL_DATA(tb[RTA_OIF]) : 0;
	return w->cb(dst, rt->rtm_dst_len, oif, w->arg);
}

int nl_route_list(int fd, int (*cb)(uint32_t dst, int dstlen, int oif, void *arg), void *arg)
{
	struct nlb b;
	struct route_walk w = { cb, arg };
	route_msg(&b, RTM_GETROUTE, NLM_F_DUMP);
	return nl_talk(fd, &b, route_one, &w);
}

int nl_sysctl(const char *path, const char *val)
{
	char p[256];
	snprintf(p, sizeof(p), "/proc/sys/%s", path);
	cleanup_close int fd = openat(AT_FDCWD, p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return write_all(fd, val, strlen(val));
}
