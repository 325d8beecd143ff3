/* network: bridge networks (ROOT/networks/NAME.json) and attaching containers to them.
 *
 * ROOT/networks/NAME.json  the record: Name, Id, Driver, Subnet, Gateway, Bridge, Created, and
 *                          Containers { ID: { IPv4Address, Veth, Ports } } -- the IPAM state.
 * ROOT/networks/NAME.def   the same without Containers, synced: what an empty record (a power cut
 *                          during an unsynced endpoint update, rule 4 in state.h) is read from.
 * Every read-modify-write of any record happens under state_lock("networks"): creation checks
 * overlaps against all networks, and port mappings are unique across all of them.
 *
 * The host side: bridge (named after the network, at most 15 characters) with the gateway address,
 * up, route_localnet=1 (for -p on 127.0.0.1), net.ipv4.ip_forward=1, and nf_tables rules (nft.h).
 * Each container: a veth pair whose host end ("veth" + 7 hex digits of the id, or a variant if
 * that is taken) is on the bridge and whose other end is created directly in the container's
 * network namespace as eth0, with the address, lo up and the default route via the gateway. */
#ifndef MYDOCKER_NETWORK_H
#define MYDOCKER_NETWORK_H

#include <stdint.h>
#include <sys/types.h>
#include "ipam.h"
#include "nft.h"
#include "state.h"

struct endpoint {
	char ctr[ID_LEN + 1];
	uint32_t ip;
	char veth[16];
	struct portmap *ports;
	int nports;
};

struct network {
	char name[NAME_MAX_LEN + 1];
	char id[ID_LEN + 1];
	char bridge[16];
	char created[40];
	struct cidr subnet;
	uint32_t gw;
	struct endpoint *ep;
	int nep;
};

/* Create a bridge network. driver NULL or "bridge"; gateway NULL: first host address. Everything
 * is validated (name, subnet /8../30, gateway, duplicates, overlap with networks and host routes)
 * before anything is created; on failure nothing is left behind. */
int network_create(const char *name, const char *driver, const char *subnet, const char *gateway,
		   struct err *e);
/* Remove it: -EBUSY while containers are attached. The nf_tables table goes with the last one. */
int network_remove(const char *name, struct err *e);
/* Load a record (-ENOENT: "network NAME not found"). */
int network_load(const char *name, struct network *n, struct err *e);
void network_free(struct network *n);
/* The stored JSON of a record, for inspect. */
int network_read(const char *name, struct buf *out, struct err *e);
/* Names of all networks, sorted (NULL-terminated, free with strv_free). */
int network_list(char ***names, struct err *e);

/* "[HOSTIP:]HOSTPORT:PORT[/tcp|/udp]" -> p. */
int portmap_parse(const char *s, struct portmap *p, struct err *e);
/* "8080:80/tcp", "127.0.0.1:8080:80/udp" (what portmap_parse reads) */
void portmap_fmt(const struct portmap *p, char out[48]);
/* "0.0.0.0:8080->80/tcp" (docker ps) */
void portmap_fmt_ps(const struct portmap *p, char out[48]);

/* Connect container id (its PID 1 is pid, not released yet) to network name: address from IPAM,
 * veth pair, eth0 in its netns, default route, port mappings. ip_out gets the address.
 * -EADDRINUSE when a host port is already mapped. On failure nothing is left behind.
 * The container's directory must exist already (a record without one counts as stale). */
int network_attach(const char *name, const char *id, pid_t pid, const struct portmap *ports,
		   int nports, char ip_out[16], struct err *e);
/* Undo attach: port rules, veth, address. Idempotent; a missing network is not an error. */
int network_detach(const char *name, const char *id, struct err *e);
/* --net none: bring lo up in pid's network namespace. */
int network_lo_up(pid_t pid, struct err *e);

/* The runtime's side. --net is "none" (or NULL), "host", or a network name. */
struct container;
int network_is_bridge(const char *net);
/* run, before anything is created: the network exists, every -p parses and needs a bridge network. */
int network_validate(const char *net, char *const *ports, struct err *e);
/* After clone, before the container runs: attach c (its PID 1 is pid) and set c->ip. No-op for
 * none/host. */
int network_up(struct container *c, pid_t pid, struct err *e);
/* Teardown (exit, rm): detach, clear c->ip. Idempotent, never fails loudly. */
void network_down(struct container *c);

#endif
