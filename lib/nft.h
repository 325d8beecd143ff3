/* nft: mydocker's NAT rules, in its own nf_tables table "ip mydocker", over NETLINK_NETFILTER.
 * (A state root other than the default gets a table of its own, "mydocker-HASH": removing the
 * last network of one root never touches the rules of another.)
 *
 *   chain postrouting (nat, srcnat)  per network: ip saddr SUBNET oifname != BR masquerade
 *                                                 ip saddr SUBNET oifname BR ct status dnat masquerade
 *                                                 ip saddr 127.0.0.0/8 oifname BR masquerade
 *   chain prerouting  (nat, dstnat)  per port:    [ip daddr HOSTIP | fib daddr type local]
 *   chain output      (nat, dstnat)                 tcp dport HOSTPORT dnat to IP:PORT
 *   chain input       (filter)       per network: iifname BR ip daddr 127.0.0.0/8 ct state new drop
 *
 * Each rule carries a comment (NFTA_RULE_USERDATA, nft's own TLV, shown by `nft list ruleset`)
 * naming its owner ("net:NAME", "ctr:ID") so an owner's rules can be deleted together. The
 * table, created with the first network, goes in one step with the last. Every change is one
 * nf_tables batch: it applies completely or not at all. Addresses in network byte order. */
#ifndef MYDOCKER_NFT_H
#define MYDOCKER_NFT_H

#include <stdint.h>
#include "util.h"

#define NFT_TABLE "mydocker"

/* "mydocker", or "mydocker-%08x" (FNV-1a of the state root) for a non-default root. */
const char *nft_table(void);

struct portmap {
	uint32_t host_ip;	/* 0: every local address */
	uint16_t host_port, port;
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
};

/* Create the table and chains if missing and add the network's masquerade and guard rules. */
int nft_net_add(const char *bridge, uint32_t net, int prefixlen, const char *tag, struct err *e);
/* DNAT p->host_port to ip:p->port, in prerouting and output. */
int nft_port_add(const struct portmap *p, uint32_t ip, const char *tag, struct err *e);
/* Delete every rule whose comment is tag; a missing table is not an error. */
int nft_del_tag(const char *tag, struct err *e);
/* Delete the whole table; a missing one is not an error. */
int nft_table_del(struct err *e);

#endif
