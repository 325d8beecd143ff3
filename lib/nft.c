/* nft: nf_tables batches for mydocker's own table (layout in nft.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <net/if.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/rtnetlink.h>
#include "netlink.h"
#include "nft.h"
#include "state.h"
#include "defaults.h"

const char *nft_table(void)
{
	static char name[32];
	const char *root = state_root();
	if (!strcmp(root, DEFAULT_ROOT))
		return NFT_TABLE;
	uint32_t h = 2166136261u;
	for (; *root; root++)
		h = (h ^ (unsigned char)*root) * 16777619u;
	snprintf(name, sizeof(name), NFT_TABLE "-%08x", h);
	return name;
}

struct chain {
	const char *name, *type;
	int hook, prio;
};
enum { CH_POST, CH_PRE, CH_OUT, CH_IN };
static const struct chain chains[] = {
	[CH_POST] = { "postrouting", "nat", NF_INET_POST_ROUTING, 100 },
	[CH_PRE] = { "prerouting", "nat", NF_INET_PRE_ROUTING, -100 },
	[CH_OUT] = { "output", "nat", NF_INET_LOCAL_OUT, -100 },
	[CH_IN] = { "input", "filter", NF_INET_LOCAL_IN, 0 },
};

/* Say clearly why nothing works when the kernel has no nf_tables. */
static int nft_err(struct err *e, int r, const char *what)
{
	if (r == -EPROTONOSUPPORT || r == -EOPNOTSUPP || r == -EAFNOSUPPORT) {
		int legacy = !access("/proc/net/ip_tables_names", F_OK);
		return err_set(e, -r, "%s: this kernel has no nf_tables%s", what,
			       legacy ? " (only legacy iptables, which mydocker does not drive)" : "");
	}
	return err_set(e, -r, "%s", what);
}

static struct nfgenmsg *nft_msg(struct nlb *b, int type, uint16_t flags)
{
	struct nfgenmsg *g = nl_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | type, flags, sizeof(*g));
	g->nfgen_family = NFPROTO_IPV4;
	g->version = NFNETLINK_V0;
	return g;
}

static void batch_mark(struct nlb *b, int type)
{
	struct nfgenmsg *g = nl_msg(b, type, 0, sizeof(*g));
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
}

/* Send a batch (begin/end added here), then a GETGEN request that is answered only after the
 * batch was processed: the first error of any message in the batch is the result. */
static int batch_run(struct nlb *b)
{
	struct nlb s;
	batch_mark(b, NFNL_MSG_BATCH_END);
	int fd = nl_open(NETLINK_NETFILTER);
	if (fd < 0)
		return fd;
	uint32_t first = ((struct nlmsghdr *)b->p)->nlmsg_seq;
	int r = nl_send(fd, b);
	if (!r) {
		nl_init(&s);
		nft_msg(&s, NFT_MSG_GETGEN, NLM_F_ACK);
		r = nl_send(fd, &s);
		if (!r)
			r = nl_recv(fd, first, s.seq, NULL, NULL);
	}
	close(fd);
	return r;
}

static void batch_begin(struct nlb *b)
{
	nl_init(b);
	batch_mark(b, NFNL_MSG_BATCH_BEGIN);
}

/* Expressions ------------------------------------------------------------ */

static size_t ex_start(struct nlb *b, const char *name, size_t *data)
{
	size_t elem = nl_nest(b, NFTA_LIST_ELEM);
	nl_put_str(b, NFTA_EXPR_NAME, name);
	*data = nl_nest(b, NFTA_EXPR_DATA);
	return elem;
}

static void ex_end(struct nlb *b, size_t elem, size_t data)
{
	nl_nest_end(b, data);
	nl_nest_end(b, elem);
}

static void put_value(struct nlb *b, int type, const void *v, size_t n)
{
	size_t d = nl_nest(b, type);
	nl_put(b, NFTA_DATA_VALUE, v, n);
	nl_nest_end(b, d);
}

/* [payload load LEN bytes at BASE+OFF => reg 1] */
static void e_payload(struct nlb *b, int base, int off, int len)
{
	size_t d, x = ex_start(b, "payload", &d);
	nl_put_be32(b, NFTA_PAYLOAD_DREG, NFT_REG_1);
	nl_put_be32(b, NFTA_PAYLOAD_BASE, base);
	nl_put_be32(b, NFTA_PAYLOAD_OFFSET, off);
	nl_put_be32(b, NFTA_PAYLOAD_LEN, len);
	ex_end(b, x, d);
}

static void e_meta(struct nlb *b, int key)
{
	size_t d, x = ex_start(b, "meta", &d);
	nl_put_be32(b, NFTA_META_KEY, key);
	nl_put_be32(b, NFTA_META_DREG, NFT_REG_1);
	ex_end(b, x, d);
}

static void e_cmp(struct nlb *b, int op, const void *v, size_t n)
{
	size_t d, x = ex_start(b, "cmp", &d);
	nl_put_be32(b, NFTA_CMP_SREG, NFT_REG_1);
	nl_put_be32(b, NFTA_CMP_OP, op);
	put_value(b, NFTA_CMP_DATA, v, n);
	ex_end(b, x, d);
}

/* reg 1 &= mask (4 bytes) */
static void e_mask(struct nlb *b, uint32_t mask)
{
	uint32_t zero = 0;
	size_t d, x = ex_start(b, "bitwise", &d);
	nl_put_be32(b, NFTA_BITWISE_SREG, NFT_REG_1);
	nl_put_be32(b, NFTA_BITWISE_DREG, NFT_REG_1);
	nl_put_be32(b, NFTA_BITWISE_LEN, 4);
	put_value(b, NFTA_BITWISE_MASK, &mask, 4);
	put_value(b, NFTA_BITWISE_XOR, &zero, 4);
	ex_end(b, x, d);
}

static void e_immediate(struct nlb *b, int reg, const void *v, size_t n)
{
	size_t d, x = ex_start(b, "immediate", &d);
	nl_put_be32(b, NFTA_IMMEDIATE_DREG, reg);
	put_value(b, NFTA_IMMEDIATE_DATA, v, n);
	ex_end(b, x, d);
}

/* ip saddr/daddr (offset 12/16) in net/prefixlen */
static void m_ip(struct nlb *b, int off, uint32_t net, int prefixlen)
{
	uint32_t mask = htonl(prefixlen ? 0xffffffffu << (32 - prefixlen) : 0);
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, off, 4);
	if (prefixlen < 32)
		e_mask(b, mask);
	e_cmp(b, NFT_CMP_EQ, &net, 4);
}

static void m_ifname(struct nlb *b, int key, int op, const char *name)
{
	char v[IFNAMSIZ] = { 0 };
	strncpy(v, name, IFNAMSIZ - 1);
	e_meta(b, key);
	e_cmp(b, op, v, IFNAMSIZ);
}

static void m_fib_local(struct nlb *b)
{
	uint32_t local = RTN_LOCAL;
	size_t d, x = ex_start(b, "fib", &d);
	nl_put_be32(b, NFTA_FIB_DREG, NFT_REG_1);
	nl_put_be32(b, NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nl_put_be32(b, NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR);
	ex_end(b, x, d);
	e_cmp(b, NFT_CMP_EQ, &local, 4);
}

/* ct KEY & mask, compared (op) with 0 */
static void m_ct_bits(struct nlb *b, int key, uint32_t mask, int op)
{
	uint32_t zero = 0;
	size_t d, x = ex_start(b, "ct", &d);
	nl_put_be32(b, NFTA_CT_KEY, key);
	nl_put_be32(b, NFTA_CT_DREG, NFT_REG_1);
	ex_end(b, x, d);
	e_mask(b, mask);
	e_cmp(b, op, &zero, 4);
}

static void v_simple(struct nlb *b, const char *name)
{
	size_t d, x = ex_start(b, name, &d);
	ex_end(b, x, d);
}

static void v_drop(struct nlb *b)
{
	size_t d, x = ex_start(b, "immediate", &d);
	nl_put_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	size_t data = nl_nest(b, NFTA_IMMEDIATE_DATA);
	size_t v = nl_nest(b, NFTA_DATA_VERDICT);
	nl_put_be32(b, NFTA_VERDICT_CODE, NF_DROP);
	nl_nest_end(b, v);
	nl_nest_end(b, data);
	ex_end(b, x, d);
}

/* Table, chains, rules --------------------------------------------------- */

static void add_table(struct nlb *b)
{
	nft_msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK);
	nl_put_str(b, NFTA_TABLE_NAME, nft_table());
	for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		nft_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK);
		nl_put_str(b, NFTA_CHAIN_TABLE, nft_table());
		nl_put_str(b, NFTA_CHAIN_NAME, chains[i].name);
		size_t h = nl_nest(b, NFTA_CHAIN_HOOK);
		nl_put_be32(b, NFTA_HOOK_HOOKNUM, chains[i].hook);
		nl_put_be32(b, NFTA_HOOK_PRIORITY, (uint32_t)chains[i].prio);
		nl_nest_end(b, h);
		nl_put_str(b, NFTA_CHAIN_TYPE, chains[i].type);
	}
}

/* Start a rule appended to chain c, commented with tag; returns the expression list to close. */
static size_t rule_start(struct nlb *b, int c, const char *tag)
{
	unsigned char ud[2 + 256];
	size_t n = strnlen(tag, 250) + 1;
	nft_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK);
	nl_put_str(b, NFTA_RULE_TABLE, nft_table());
	nl_put_str(b, NFTA_RULE_CHAIN, chains[c].name);
	ud[0] = 0;		/* nft's comment TLV: type 0 (comment), length, NUL-terminated text */
	ud[1] = n;
	memcpy(ud + 2, tag, n - 1);
	ud[n + 1] = 0;
	nl_put(b, NFTA_RULE_USERDATA, ud, n + 2);
	return nl_nest(b, NFTA_RULE_EXPRESSIONS);
}

int nft_net_add(const char *bridge, uint32_t net, int prefixlen, const char *tag, struct err *e)
{
	static struct nlb b;
	uint32_t lo = htonl(0x7f000000), est = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	batch_begin(&b);
	add_table(&b);
	/* outbound NAT: the subnet leaving through any other interface */
	size_t l = rule_start(&b, CH_POST, tag);
	m_ip(&b, 12, net, prefixlen);
	m_ifname(&b, NFT_META_OIFNAME, NFT_CMP_NEQ, bridge);
	v_simple(&b, "masq");
	nl_nest_end(&b, l);
	/* a container reaching a published port of its own network (via the gateway or a host
	 * address): the answer must come back through the host, so the source becomes the gateway */
	l = rule_start(&b, CH_POST, tag);
	m_ip(&b, 12, net, prefixlen);
	m_ifname(&b, NFT_META_OIFNAME, NFT_CMP_EQ, bridge);
	m_ct_bits(&b, NFT_CT_STATUS, IPS_DST_NAT, NFT_CMP_NEQ);
	v_simple(&b, "masq");
	nl_nest_end(&b, l);
	/* -p on 127.0.0.1: DNAT'ed loopback traffic gets the gateway as source */
	l = rule_start(&b, CH_POST, tag);
	m_ip(&b, 12, lo, 8);
	m_ifname(&b, NFT_META_OIFNAME, NFT_CMP_EQ, bridge);
	v_simple(&b, "masq");
	nl_nest_end(&b, l);
	/* route_localnet is on for the bridge: containers must still not open connections to 127/8 */
	l = rule_start(&b, CH_IN, tag);
	m_ifname(&b, NFT_META_IIFNAME, NFT_CMP_EQ, bridge);
	m_ip(&b, 16, lo, 8);
	m_ct_bits(&b, NFT_CT_STATE, est, NFT_CMP_EQ);
	v_drop(&b);
	nl_nest_end(&b, l);
	int r = batch_run(&b);
	return r ? nft_err(e, r, "add nf_tables rules") : 0;
}

static void dnat_rule(struct nlb *b, int c, const struct portmap *p, uint32_t ip, const char *tag)
{
	uint8_t proto = p->proto;
	uint16_t hp = htons(p->host_port), cp = htons(p->port);
	size_t l = rule_start(b, c, tag);
	if (p->host_ip)
		m_ip(b, 16, p->host_ip, 32);
	else
		m_fib_local(b);
	e_meta(b, NFT_META_L4PROTO);
	e_cmp(b, NFT_CMP_EQ, &proto, 1);
	e_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e_cmp(b, NFT_CMP_EQ, &hp, 2);
	e_immediate(b, NFT_REG_1, &ip, 4);
	e_immediate(b, NFT_REG_2, &cp, 2);
	size_t d, x = ex_start(b, "nat", &d);
	nl_put_be32(b, NFTA_NAT_TYPE, NFT_NAT_DNAT);
	nl_put_be32(b, NFTA_NAT_FAMILY, NFPROTO_IPV4);
	nl_put_be32(b, NFTA_NAT_REG_ADDR_MIN, NFT_REG_1);
	nl_put_be32(b, NFTA_NAT_REG_PROTO_MIN, NFT_REG_2);
	ex_end(b, x, d);
	nl_nest_end(b, l);
}

int nft_port_add(const struct portmap *p, uint32_t ip, const char *tag, struct err *e)
{
	static struct nlb b;
	batch_begin(&b);
	add_table(&b);
	dnat_rule(&b, CH_PRE, p, ip, tag);
	dnat_rule(&b, CH_OUT, p, ip, tag);
	int r = batch_run(&b);
	return r ? nft_err(e, r, "add port mapping rules") : 0;
}

/* Deleting by tag: dump the table's rules, collect (chain, handle) of those with our comment. */
struct found {
	const char *tag;
	struct { int chain; uint64_t handle; } r[64];
	int n;
	int more;		/* more than fit: run again */
};

static int rule_seen(const struct nlmsghdr *h, void *arg)
{
	struct found *f = arg;
	const struct nlattr *tb[NFTA_RULE_MAX + 1];
	if ((h->nlmsg_type & 0xff) != NFT_MSG_NEWRULE)
		return 0;
	nl_parse((char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct nfgenmsg)),
		 h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct nfgenmsg))), tb, NFTA_RULE_MAX);
	const struct nlattr *ud = tb[NFTA_RULE_USERDATA], *ch = tb[NFTA_RULE_CHAIN];
	size_t tl = strlen(f->tag);
	if (!ud || !ch || !tb[NFTA_RULE_HANDLE] || NL_LEN(ud) < tl + 2)
		return 0;
	const unsigned char *u = NL_DATA(ud);
	if (u[0] != 0 || u[1] < tl || memcmp(u + 2, f->tag, tl) || (u[1] > tl && u[2 + tl]))
		return 0;
	for (int c = 0; c < (int)(sizeof(chains) / sizeof(chains[0])); c++) {
		if (strcmp(NL_DATA(ch), chains[c].name))
			continue;
		if (f->n == (int)(sizeof(f->r) / sizeof(f->r[0]))) {
			f->more = 1;
			return 0;
		}
		f->r[f->n].chain = c;
		memcpy(&f->r[f->n++].handle, NL_DATA(tb[NFTA_RULE_HANDLE]), 8);
	}
	return 0;
}

static int del_round(const char *tag, int *more)
{
	static struct nlb b;
	struct found f = { .tag = tag };
	int fd = nl_open(NETLINK_NETFILTER);
	if (fd < 0)
		return fd;
	nl_init(&b);
	nft_msg(&b, NFT_MSG_GETRULE, NLM_F_DUMP);
	nl_put_str(&b, NFTA_RULE_TABLE, nft_table());
	int r = nl_talk(fd, &b, rule_seen, &f);
	close(fd);
	if (r)
		return r;
	*more = f.more;
	if (!f.n)
		return 0;
	batch_begin(&b);
	for (int i = 0; i < f.n; i++) {
		nft_msg(&b, NFT_MSG_DELRULE, NLM_F_ACK);
		nl_put_str(&b, NFTA_RULE_TABLE, nft_table());
		nl_put_str(&b, NFTA_RULE_CHAIN, chains[f.r[i].chain].name);
		nl_put(&b, NFTA_RULE_HANDLE, &f.r[i].handle, 8);
	}
	return batch_run(&b);
}

int nft_del_tag(const char *tag, struct err *e)
{
	int more = 1, r = 0;
	for (int i = 0; more && !r && i < 100; i++)
		r = del_round(tag, &more);
	if (r == -ENOENT)
		return 0;
	return r ? nft_err(e, r, "delete nf_tables rules") : 0;
}

int nft_table_del(struct err *e)
{
	static struct nlb b;
	batch_begin(&b);
	nft_msg(&b, NFT_MSG_DELTABLE, NLM_F_ACK);
	nl_put_str(&b, NFTA_TABLE_NAME, nft_table());
	int r = batch_run(&b);
	if (r == -ENOENT)
		return 0;
	return r ? nft_err(e, r, "delete nf_tables table") : 0;
}
