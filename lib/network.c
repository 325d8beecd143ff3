/* network: bridge network records, their creation and removal, and attaching containers. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include "container.h"
#include "json.h"
#include "netlink.h"
#include "network.h"

#define LOCK "networks"


/* Records --------------------------------------------------------------- */

void network_free(struct network *n)
{
	for (int i = 0; i < n->nep; i++)
		free(n->ep[i].ports);
	free(n->ep);
	memset(n, 0, sizeof(*n));
}

static void rec_path(const char *name, char *p, size_t sz)
{
	snprintf(p, sz, "%s/networks/%s.json", state_root(), name);
}

/* Only a power cut can leave a record empty (or zero-filled): its endpoint updates are written
 * without fsync (rule 4 in state.h). Then the definition, written durably beside it as NAME.def at
 * the first such update, stands in: without endpoints, as after a power cut no container runs. */
static int power_cut(const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->p[i])
			return 0;
	return 1;
}

int network_read(const char *name, struct buf *out, struct err *e)
{
	char p[4096];
	if (!name_valid(name))
		return err_msg(e, EINVAL, "invalid network name \"%.80s\"", name);
	rec_path(name, p, sizeof(p));
	int r = read_file_at(AT_FDCWD, p, JSON_MAX_SIZE, out);
	if (r == -ENOENT)
		return err_msg(e, ENOENT, "network %s not found", name);
	if (!r && power_cut(out)) {
		buf_free(out);
		snprintf(p, sizeof(p), "%s/networks/%s.def", state_root(), name);
		r = read_file_at(AT_FDCWD, p, JSON_MAX_SIZE, out);
	}
	return r ? err_set(e, -r, "read %s", p) : 0;
}

static int ep_parse(const struct json *m, struct endpoint *ep, struct err *e)
{
	const char *a = json_get_str(m, "IPv4Address"), *v = json_get_str(m, "Veth");
	const struct json *ports = json_get(m, "Ports");
	char ip[20];
	if (strlen(m->key) != ID_LEN || !is_hex(m->key, ID_LEN) || !a || strlen(a) >= sizeof(ip))
		return err_msg(e, EINVAL, "bad endpoint \"%.80s\"", m->key);
	memcpy(ep->ctr, m->key, ID_LEN + 1);
	snprintf(ip, sizeof(ip), "%s", a);
	if (strchr(ip, '/'))
		*strchr(ip, '/') = 0;
	if (ipam_parse_ip(ip, &ep->ip))
		return err_msg(e, EINVAL, "endpoint %.12s: bad address \"%s\"", m->key, a);
	snprintf(ep->veth, sizeof(ep->veth), "%s", v ? v : "");
	if (ports && ports->type == JSON_ARRAY && ports->n) {
		if (!(ep->ports = calloc(ports->n, sizeof(*ep->ports))))
			return err_set(e, ENOMEM, "load");
		for (const struct json *p = ports->child; p; p = p->next)
			if (p->type != JSON_STRING || portmap_parse(p->s, &ep->ports[ep->nports++], e))
				return err_wrap(e, "endpoint %.12s", m->key);
	}
	return 0;
}

static int from_json(const struct json *o, struct network *n, struct err *e)
{
	const char *name = json_get_str(o, "Name"), *id = json_get_str(o, "Id"),
		   *sub = json_get_str(o, "Subnet"), *gw = json_get_str(o, "Gateway"),
		   *br = json_get_str(o, "Bridge"), *cr = json_get_str(o, "Created");
	const struct json *ctrs = json_get(o, "Containers");
	if (!name || !name_valid(name) || !sub || !gw || !br || strlen(br) > 15)
		return err_msg(e, EINVAL, "missing or bad fields");
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->id, sizeof(n->id), "%s", id ? id : "");
	snprintf(n->bridge, sizeof(n->bridge), "%s", br);
	snprintf(n->created, sizeof(n->created), "%s", cr ? cr : "");
	if (ipam_parse_cidr(sub, &n->subnet, e) || ipam_parse_ip(gw, &n->gw))
		return err_msg(e, EINVAL, "bad Subnet or Gateway");
	if (!ctrs || !ctrs->n)
		return 0;
	if (!(n->ep = calloc(ctrs->n, sizeof(*n->ep))))
		return err_set(e, ENOMEM, "load");
	for (const struct json *m = ctrs->child; m; m = m->next)
		if (ep_parse(m, &n->ep[n->nep++], e))
			return -e->no;
	return 0;
}

int network_load(const char *name, struct network *n, struct err *e)
{
	struct buf b = { 0 };
	struct json *j = NULL;
	memset(n, 0, sizeof(*n));
	int r = network_read(name, &b, e);
	if (!r && (r = json_parse(b.p, b.len, &j, e)) == 0 && (r = from_json(j, n, e)))
		network_free(n);
	if (r && r != -ENOENT)
		err_wrap(e, "network %s", name);
	json_free(j);
	buf_free(&b);
	return r;
}

static int cmp_ep(const void *a, const void *b)
{
	uint32_t x = ((const struct endpoint *)a)->ip, y = ((const struct endpoint *)b)->ip;
	return x < y ? -1 : x > y;
}

static int net_json(struct network *n, int eps, struct buf *out)
{
	char p[64], s[20], pm[48];
	struct buf b = { 0 };
	struct jw w;
	qsort(n->ep, n->nep, sizeof(*n->ep), cmp_ep);	/* sorted: loading appends to the IPAM list */
	jw_init(&w, &b, 1);
	jw_obj(&w);
	jw_kstr(&w, "Name", n->name);
	jw_kstr(&w, "Id", n->id);
	jw_kstr(&w, "Driver", "bridge");
	ipam_fmt_cidr(&n->subnet, s);
	jw_kstr(&w, "Subnet", s);
	ipam_fmt(n->gw, s);
	jw_kstr(&w, "Gateway", s);
	jw_kstr(&w, "Bridge", n->bridge);
	jw_kstr(&w, "NftTable", nft_table());	/* informational: where its NAT rules live */
	jw_kstr(&w, "Created", n->created);
	jw_key(&w, "Containers");
	jw_obj(&w);
	for (int i = 0; i < n->nep && eps; i++) {
		jw_key(&w, n->ep[i].ctr);
		jw_obj(&w);
		ipam_fmt(n->ep[i].ip, s);
		snprintf(p, sizeof(p), "%s/%d", s, n->subnet.len);
		jw_kstr(&w, "IPv4Address", p);
		jw_kstr(&w, "Veth", n->ep[i].veth);
		jw_key(&w, "Ports");
		jw_arr(&w);
		for (int k = 0; k < n->ep[i].nports; k++)
			portmap_fmt(&n->ep[i].ports[k], pm), jw_str(&w, pm);
		jw_end_arr(&w);
		jw_end_obj(&w);
	}
	jw_end_obj(&w);
	jw_end_obj(&w);
	buf_puts(&b, "\n");
	*out = b;
	return jw_done(&w);
}

/* how: STATE_SYNC.. for the definition (create, net rm's prune); 0 for endpoint updates (rule 4
 * in state.h), which first make sure the durable definition NAME.def exists. */
static int network_save(struct network *n, int how, struct err *e)
{
	char p[4096];
	struct buf b = { 0 };
	snprintf(p, sizeof(p), "%s/networks", state_root());
	cleanup_close int dfd = openat(AT_FDCWD, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = dfd < 0 ? err_set(e, errno, "open %s", p) : 0;
	snprintf(p, sizeof(p), "%s.def", n->name);
	if (!r && !how && faccessat(dfd, p, F_OK, 0)) {
		if (net_json(n, 0, &b))
			r = err_set(e, ENOMEM, "save network %s", n->name);
		else
			r = state_replace(dfd, p, b.p, b.len, STATE_SYNC | STATE_SYNC_DIR, e);
		buf_free(&b);
	}
	snprintf(p, sizeof(p), "%s.json", n->name);
	if (!r && net_json(n, 1, &b))
		r = err_set(e, ENOMEM, "save network %s", n->name);
	else if (!r)
		r = state_replace(dfd, p, b.p, b.len, how, e);
	buf_free(&b);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int network_list(char ***names, struct err *e)
{
	char p[4096];
	size_t n = 0;
	char **v = calloc(1, sizeof(*v));
	snprintf(p, sizeof(p), "%s/networks", state_root());
	DIR *d = opendir(p);
	if (!v || (!d && errno != ENOENT)) {
		int no = v ? errno : ENOMEM;
		free(v);
		return err_set(e, no, "open %s", p);
	}
	for (struct dirent *de; d && (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		char *s = strndup(de->d_name, l - 5), **nv = s ? realloc(v, (n + 2) * sizeof(*v)) : NULL;
		if (!nv) {
			free(s);
			continue;
		}
		v = nv;
		if (name_valid(s))
			v[n++] = s, v[n] = NULL;
		else
			free(s);
	}
	if (d)
		closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	*names = v;
	return 0;
}

/* All other networks, loaded (for overlap, bridge name and port checks). */
static int load_all(const char *except, struct network **out, int *nout, struct err *e)
{
	char **names;
	int r = network_list(&names, e), n = 0;
	if (r)
		return r;
	struct network *v = calloc(strv_len(names) + 1, sizeof(*v));
	if (!v)
		r = err_set(e, ENOMEM, "load networks");
	for (size_t i = 0; !r && names[i]; i++)
		if (!except || strcmp(names[i], except))
			if (!(r = network_load(names[i], &v[n], e)))
				n++;
	strv_free(names);
	if (r && v) {
		for (int i = 0; i < n; i++)
			network_free(&v[i]);
		free(v);
		return r;
	}
	*out = v;
	*nout = n;
	return 0;
}

static void free_all(struct network *v, int n)
{
	for (int i = 0; i < n; i++)
		network_free(&v[i]);
	free(v);
}

/* Create / remove --------------------------------------------------------- */

static void bridge_name(const char *name, unsigned attempt, char out[16])
{
	uint32_t h = 2166136261u ^ attempt;
	if (!attempt && strlen(name) <= 12) {
		snprintf(out, 16, "md-%s", name);
		return;
	}
	for (const char *c = name; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	snprintf(out, 16, "md-%.6s-%05x", name, h & 0xfffff);
}

static int bridge_taken(const char *br, int rt, const struct network *all, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(all[i].bridge, br))
			return 1;
	return nl_ifindex(rt, br) > 0;
}

static int validate(struct network *nw, const char *driver, const char *subnet, const char *gateway,
		    const struct network *all, int nall, struct err *e)
{
	char a[20], b[20];
	if (!name_valid(nw->name))
		return err_msg(e, EINVAL, "invalid network name \"%.80s\": use [a-zA-Z0-9][a-zA-Z0-9_.-]*",
			       nw->name);
	if (!strcmp(nw->name, "none") || !strcmp(nw->name, "host"))
		return err_msg(e, EINVAL, "network name %s is reserved", nw->name);
	if (driver && strcmp(driver, "bridge"))
		return err_msg(e, EINVAL, "unsupported driver \"%.40s\": only bridge", driver);
	if (!subnet)
		return err_msg(e, EINVAL, "--subnet is required");
	if (ipam_parse_cidr(subnet, &nw->subnet, e))
		return -e->no;
	nw->gw = nw->subnet.net + 1;
	if (gateway && (ipam_parse_ip(gateway, &nw->gw) || !ipam_host(&nw->subnet, nw->gw)))
		return err_msg(e, EINVAL, "invalid gateway \"%.40s\": not a host address of %s", gateway, subnet);
	for (int i = 0; i < nall; i++) {
		if (!strcmp(all[i].name, nw->name))
			return err_msg(e, EEXIST, "network with name %s already exists", nw->name);
		if (ipam_overlap(&all[i].subnet, &nw->subnet)) {
			ipam_fmt_cidr(&nw->subnet, a);
			ipam_fmt_cidr(&all[i].subnet, b);
			return err_msg(e, EEXIST, "subnet %s overlaps network %s (%s)", a, all[i].name, b);
		}
	}
	return ipam_check_routes(&nw->subnet, e);
}

static int bridge_up(const struct network *nw, int rt, struct err *e)
{
	char p[64];
	int r = nl_bridge_add(rt, nw->bridge), idx = 0;
	if (r)
		return err_set(e, -r, "add bridge %s", nw->bridge);
	if ((idx = nl_ifindex(rt, nw->bridge)) < 0)
		return err_set(e, -idx, "bridge %s", nw->bridge);
	if ((r = nl_addr_add(rt, idx, htonl(nw->gw), nw->subnet.len)))
		return err_set(e, -r, "add address to %s", nw->bridge);
	/* -p on 127.0.0.1: DNAT'ed loopback traffic is routed out of the bridge (then masqueraded) */
	snprintf(p, sizeof(p), "net/ipv4/conf/%s/route_localnet", nw->bridge);
	if ((r = nl_sysctl(p, "1")))
		return err_set(e, -r, "set %s", p);
	if ((r = nl_link_up(rt, idx, 1)))
		return err_set(e, -r, "set %s up", nw->bridge);
	if ((r = nl_sysctl("net/ipv4/ip_forward", "1")))
		return err_set(e, -r, "enable net.ipv4.ip_forward");
	return 0;
}

static int make_network(struct network *nw, int rt, const struct network *all, int nall, struct err *e)
{
	char tag[8 + NAME_MAX_LEN];
	unsigned k = 0;
	while (bridge_taken(nw->bridge, rt, all, nall) && k < 64)
		bridge_name(nw->name, ++k, nw->bridge);
	int r = id_new(nw->id, e);
	if (r)
		return r;
	fmt_time(now_ns(), nw->created);
	snprintf(tag, sizeof(tag), "net:%s", nw->name);
	if ((r = bridge_up(nw, rt, e)) || (r = nft_net_add(nw->bridge, htonl(nw->subnet.net),
							     nw->subnet.len, tag, e)) ||
	    (r = network_save(nw, STATE_SYNC | STATE_SYNC_DIR, e))) {
		if (nall)
			nft_del_tag(tag, NULL);
		else
			nft_table_del(NULL);
		nl_link_del(rt, nw->bridge);
	}
	return r;
}

int network_create(const char *name, const char *driver, const char *subnet, const char *gateway,
		   struct err *e)
{
	struct network nw = { 0 }, *all = NULL;
	int nall = 0, r;
	snprintf(nw.name, sizeof(nw.name), "%s", name);
	if (strlen(name) > NAME_MAX_LEN)
		nw.name[0] = 0;
	cleanup_close int lk = state_lock(LOCK, e);
	if (lk < 0)
		return lk;
	if ((r = load_all(NULL, &all, &nall, e)))
		return r;
	cleanup_close int rt = nl_open(NETLINK_ROUTE);
	if (rt < 0)
		r = err_set(e, -rt, "netlink");
	if (!r && !(r = validate(&nw, driver, subnet, gateway, all, nall, e))) {
		bridge_name(nw.name, 0, nw.bridge);
		r = make_network(&nw, rt, all, nall, e);
	}
	free_all(all, nall);
	return r;
}

static int ctr_gone(const char *id)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof(p), "%s/containers/%s", state_root(), id);
	return stat(p, &st) && errno == ENOENT;
}

/* Release what endpoint i holds on the host and drop it from the record (not saved). dead: its
 * container has no process left, so its veth goes with its network namespace: the kernel takes both
 * ends when it dismantles the namespace, moments after the last process is gone. Deleting the host
 * end ourselves meanwhile would wait tens of milliseconds (the unregistration waits for RCU grace
 * periods behind that very dismantling) for nothing; a name that is still taken is skipped by
 * veth_make. Not dead (an attach that failed, its container about to be killed): deleted at once. */
static void ep_drop(struct network *n, int i, int rt, int dead)
{
	char tag[8 + ID_LEN];
	struct endpoint *ep = &n->ep[i];
	snprintf(tag, sizeof(tag), "ctr:%s", ep->ctr);
	if (ep->nports)
		nft_del_tag(tag, NULL);
	if (ep->veth[0] && rt >= 0 && !dead)
		nl_link_del(rt, ep->veth);
	free(ep->ports);
	*ep = n->ep[--n->nep];
}

/* Endpoints whose container directory is gone (rm raced, or a killed run): released. */
static int prune(struct network *n, int rt)
{
	int dropped = 0;
	for (int i = n->nep - 1; i >= 0; i--)
		if (ctr_gone(n->ep[i].ctr))
			ep_drop(n, i, rt, 1), dropped++;
	return dropped;
}

int network_remove(const char *name, struct err *e)
{
	struct network nw, *all = NULL;
	int nall = 0;
	char tag[8 + NAME_MAX_LEN];
	cleanup_close int lk = state_lock(LOCK, e);
	if (lk < 0)
		return lk;
	int r = network_load(name, &nw, e);
	if (r)
		return r;
	cleanup_close int rt = nl_open(NETLINK_ROUTE);
	if (rt < 0) {
		network_free(&nw);
		return err_set(e, -rt, "netlink");
	}
	if (prune(&nw, rt) && nw.nep)
		network_save(&nw, 0, NULL);
	if (nw.nep) {
		err_msg(e, EBUSY, "network %s is in use by container %.12s%s", name, nw.ep[0].ctr,
			nw.nep > 1 ? " and others" : "");
		network_free(&nw);
		return -EBUSY;
	}
	if (!(r = load_all(name, &all, &nall, e))) {
		snprintf(tag, sizeof(tag), "net:%s", name);
		r = nall ? nft_del_tag(tag, e) : nft_table_del(e);
		free_all(all, nall);
	}
	int d = r ? 0 : nl_link_del(rt, nw.bridge);
	if (!r && d && d != -ENODEV)
		r = err_set(e, -d, "delete bridge %s", nw.bridge);
	char p[4096];
	rec_path(name, p, sizeof(p));
	if (!r && unlink(p))
		r = err_set(e, errno, "remove %s", p);
	snprintf(p, sizeof(p), "%s/networks/%s.def", state_root(), name);
	if (!r)
		unlink(p);
	network_free(&nw);
	return r;
}

/* Ports --------------------------------------------------------------------- */

int portmap_parse(const char *s, struct portmap *p, struct err *e)
{
	char t[64], *f[3], *proto;
	int n = 0;
	long long hp, cp;
	memset(p, 0, sizeof(*p));
	p->proto = IPPROTO_TCP;
	if (strlen(s) >= sizeof(t))
		return err_msg(e, EINVAL, "invalid port mapping \"%.64s\"", s);
	strcpy(t, s);
	if ((proto = strchr(t, '/'))) {
		*proto++ = 0;
		if (!strcmp(proto, "udp"))
			p->proto = IPPROTO_UDP;
		else if (strcmp(proto, "tcp"))
			return err_msg(e, EINVAL, "invalid port mapping \"%s\": protocol must be tcp or udp", s);
	}
	for (char *c = t; n < 3; n++) {
		f[n] = c;
		if (!(c = strchr(c, ':')))
			break;
		*c++ = 0;
	}
	if (n == 0 || n == 3 || (n == 2 && ipam_parse_ip(f[0], &p->host_ip)) ||
	    parse_ll(f[n - 1], 1, 65535, &hp) || parse_ll(f[n], 1, 65535, &cp))
		return err_msg(e, EINVAL, "invalid port mapping \"%s\": want [HOSTIP:]HOSTPORT:PORT[/tcp|udp]", s);
	p->host_ip = htonl(p->host_ip);
	p->host_port = hp;
	p->port = cp;
	return 0;
}

static void fmt_pm(const struct portmap *p, char out[48], int ps)
{
	char ip[16] = "0.0.0.0";
	const char *proto = p->proto == IPPROTO_UDP ? "udp" : "tcp";
	if (p->host_ip)
		ipam_fmt(ntohl(p->host_ip), ip);
	if (ps)
		snprintf(out, 48, "%s:%u->%u/%s", ip, p->host_port, p->port, proto);
	else if (p->host_ip)
		snprintf(out, 48, "%s:%u:%u/%s", ip, p->host_port, p->port, proto);
	else
		snprintf(out, 48, "%u:%u/%s", p->host_port, p->port, proto);
}

void portmap_fmt(const struct portmap *p, char out[48])
{
	fmt_pm(p, out, 0);
}

void portmap_fmt_ps(const struct portmap *p, char out[48])
{
	fmt_pm(p, out, 1);
}

static int pm_clash(const struct portmap *a, const struct portmap *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       (!a->host_ip || !b->host_ip || a->host_ip == b->host_ip);
}

/* A host port is free when no endpoint of any network maps it and no host socket holds it. */
static int port_check(const struct portmap *p, const struct network *all, int nall, const char *self,
		      struct err *e)
{
	char s[48];
	portmap_fmt(p, s);
	for (int i = 0; i < nall; i++)
		for (int k = 0; k < all[i].nep; k++)
			for (int j = 0; j < all[i].ep[k].nports; j++)
				if (strcmp(all[i].ep[k].ctr, self) && pm_clash(p, &all[i].ep[k].ports[j]))
					return err_msg(e, EADDRINUSE, "host port %u/%s is already mapped by container %.12s",
						       p->host_port, p->proto == IPPROTO_UDP ? "udp" : "tcp",
						       all[i].ep[k].ctr);
	int one = 1, st = p->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(p->host_port),
				  .sin_addr.s_addr = p->host_ip };
	cleanup_close int fd = socket(AF_INET, st | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno == EADDRINUSE)
		return err_msg(e, EADDRINUSE, "host port %s: in use on the host", s);
	return 0;
}

/* Attach / detach ----------------------------------------------------------- */

/* Inside the container: eth0 gets the address, goes up, and the default route; lo is brought up
 * by the container stage itself. */
static int ns_config(pid_t pid, const struct network *n, uint32_t ip, struct err *e)
{
	cleanup_close int fd = nl_open_netns(NETLINK_ROUTE, pid, -1);
	int eth, r;
	if (fd < 0)
		return err_set(e, -fd, "join network namespace of %d", (int)pid);
	if ((eth = nl_ifindex(fd, "eth0")) < 0)
		return err_set(e, -eth, "container eth0");
	if ((r = nl_addr_add(fd, eth, htonl(ip), n->subnet.len)))
		return err_set(e, -r, "add address to eth0");
	if ((r = nl_link_up(fd, eth, 1)))
		return err_set(e, -r, "set eth0 up");
	if ((r = nl_route_add(fd, 0, 0, htonl(n->gw))))
		return err_set(e, -r, "add default route");
	return 0;
}

/* The networks an attach looks at: its own (n) and all others. */
struct nets {
	struct network *n, *all;
	int nall;
};

/* A veth name recorded by another endpoint of any network: never created nor deleted by us. */
static int veth_recorded(const struct nets *s, const struct endpoint *self, const char *name)
{
	for (int i = -1; i < s->nall; i++) {
		const struct network *n = i < 0 ? s->n : &s->all[i];
		for (int k = 0; k < n->nep; k++)
			if (&n->ep[k] != self && !strcmp(n->ep[k].veth, name))
				return 1;
	}
	return 0;
}

/* veth pair: host end "veth" + 7 hex digits of the id (the next 7 if that name is taken, and so
 * on), peer created as eth0 right inside the container's netns. */
static int veth_make(int rt, struct endpoint *ep, pid_t pid, const struct nets *s, struct err *e)
{
	char p[64];
	const char *bridge = s->n->bridge;
	int r = -EEXIST, idx, br;
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	cleanup_close int ns = openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return err_set(e, errno, "open %s", p);
	if ((br = nl_ifindex(rt, bridge)) < 0)
		return err_set(e, ENODEV, "bridge %s is gone", bridge);
	/* created on the bridge already; up once it exists (a veth cannot go up before its peer) */
	for (int k = 0; r == -EEXIST && k + 7 <= ID_LEN; k += 7) {
		snprintf(ep->veth, sizeof(ep->veth), "veth%.7s", ep->ctr + k);
		if (!veth_recorded(s, ep, ep->veth))
			r = nl_veth_add(rt, ep->veth, "eth0", ns, br);
	}
	if (r) {
		ep->veth[0] = 0;
		return err_set(e, -r, "add veth on bridge %s", bridge);
	}
	if ((idx = nl_ifindex(rt, ep->veth)) < 0 || (r = nl_link_up(rt, idx, 1)))
		return err_set(e, idx < 0 ? -idx : -r, "set %s up", ep->veth);
	return 0;
}

static int find_ep(const struct network *n, const char *id)
{
	for (int i = 0; i < n->nep; i++)
		if (!strcmp(n->ep[i].ctr, id))
			return i;
	return -1;
}

/* Under the lock: the endpoint reserved (address, ports) in memory; network_attach saves it once
 * it is built (the lock is held throughout, so no one else can hand out the same address). */
static int reserve(struct nets *s, const char *id, const struct portmap *ports, int nports,
		   int rt, struct err *e)
{
	struct network *n = s->n;
	struct ipam pool;
	int r = 0, i;
	if ((i = find_ep(n, id)) >= 0)		/* a restart after a crash: start over */
		ep_drop(n, i, rt, 1);
	prune(n, rt);
	for (i = 0; i < nports && !r; i++) {
		r = port_check(&ports[i], s->all, s->nall, id, e);
		r = r ? r : port_check(&ports[i], n, 1, id, e);
		for (int k = 0; k < i && !r; k++)
			if (pm_clash(&ports[i], &ports[k]))
				r = err_msg(e, EINVAL, "host port %u given twice", ports[i].host_port);
	}
	if (r)
		return r;
	struct endpoint ep = { 0 }, *v = realloc(n->ep, (n->nep + 1) * sizeof(*v));
	if (!v || ipam_init(&pool, &n->subnet, n->gw))
		return err_set(e, v ? EINVAL : ENOMEM, "network %s", n->name);
	n->ep = v;
	for (i = 0; i < n->nep && !r; i++)
		r = ipam_reserve(&pool, n->ep[i].ip);
	if (!r)
		r = ipam_alloc(&pool, &ep.ip);
	ipam_free(&pool);
	if (r)
		return err_set(e, -r, "network %s: no free address", n->name);
	snprintf(ep.ctr, sizeof(ep.ctr), "%s", id);
	if (nports && !(ep.ports = malloc(nports * sizeof(*ports))))
		return err_set(e, ENOMEM, "network %s", n->name);
	if (nports)
		memcpy(ep.ports, ports, nports * sizeof(*ports));
	ep.nports = nports;
	n->ep[n->nep++] = ep;
	return 0;	/* saved once by network_attach, with the veth name */
}

static int build(const struct nets *s, struct endpoint *ep, pid_t pid, int rt, struct err *e)
{
	char tag[8 + ID_LEN];
	int r = veth_make(rt, ep, pid, s, e);
	if (!r)
		r = ns_config(pid, s->n, ep->ip, e);
	snprintf(tag, sizeof(tag), "ctr:%s", ep->ctr);
	for (int i = 0; !r && i < ep->nports; i++)
		r = nft_port_add(&ep->ports[i], htonl(ep->ip), tag, e);
	return r;
}

int network_attach(const char *name, const char *id, pid_t pid, const struct portmap *ports,
		   int nports, char ip_out[16], struct err *e)
{
	struct network n;
	struct nets s = { &n, NULL, 0 };
	cleanup_close int lk = state_lock(LOCK, e);
	if (lk < 0)
		return lk;
	int r = network_load(name, &n, e);
	if (r)
		return r;
	cleanup_close int rt = nl_open(NETLINK_ROUTE);
	if (rt < 0)
		r = err_set(e, -rt, "netlink");
	if (!r)
		r = load_all(name, &s.all, &s.nall, e);
	if (!r)
		r = reserve(&s, id, ports, nports, rt, e);
	if (!r) {
		int i = find_ep(&n, id);
		if ((r = build(&s, &n.ep[i], pid, rt, e)) == 0) {
			ipam_fmt(n.ep[i].ip, ip_out);
			r = network_save(&n, 0, e);	/* one write: address, veth, ports */
		}
		if (r && (i = find_ep(&n, id)) >= 0) {
			ep_drop(&n, i, rt, 0);
			network_save(&n, 0, NULL);	/* keeps what reserve() pruned */
		}
	}
	free_all(s.all, s.nall);
	network_free(&n);
	return r;
}

int network_detach(const char *name, const char *id, struct err *e)
{
	struct network n;
	char tag[8 + ID_LEN];
	cleanup_close int lk = state_lock(LOCK, e);
	if (lk < 0)
		return lk;
	int r = network_load(name, &n, e), i;
	if (r == -ENOENT) {	/* network gone: just make sure no port rule of ours is left */
		snprintf(tag, sizeof(tag), "ctr:%s", id);
		return nft_del_tag(tag, e);
	}
	if (r)
		return r;
	cleanup_close int rt = nl_open(NETLINK_ROUTE);
	if ((i = find_ep(&n, id)) >= 0) {
		ep_drop(&n, i, rt, 1);
		r = network_save(&n, 0, e);
	} else {	/* killed between building and saving the endpoint: its port rules, if any */
		snprintf(tag, sizeof(tag), "ctr:%s", id);
		nft_del_tag(tag, NULL);
	}
	network_free(&n);
	return r;
}

int network_lo_up(pid_t pid, struct err *e)
{
	cleanup_close int fd = nl_open_netns(NETLINK_ROUTE, pid, -1);
	int lo, r;
	if (fd < 0)
		return err_set(e, -fd, "join network namespace of %d", (int)pid);
	if ((lo = nl_ifindex(fd, "lo")) < 0 || (r = nl_link_up(fd, lo, 1)))
		return err_set(e, lo < 0 ? -lo : -r, "set lo up");
	return 0;
}

/* The runtime's side --------------------------------------------------------- */

int network_is_bridge(const char *net)
{
	return net && strcmp(net, "none") && strcmp(net, "host");
}

int network_validate(const char *net, char *const *ports, struct err *e)
{
	struct portmap p;
	struct network n;
	for (char *const *s = ports; s && *s; s++)
		if (portmap_parse(*s, &p, e))
			return -e->no;
	if (!network_is_bridge(net))
		return ports && *ports ? err_msg(e, EINVAL, "-p needs a bridge network (--net NAME)") : 0;
	int r = network_load(net, &n, e);
	if (!r)
		network_free(&n);
	return r;
}

int network_up(struct container *c, pid_t pid, struct err *e)
{
	struct portmap p[64];
	char ip[16];
	int n = 0;
	if (!network_is_bridge(c->net))
		return 0;
	for (char **s = c->ports; s && *s; s++)
		if (n == (int)ARRAY_SIZE(p) || portmap_parse(*s, &p[n++], e))
			return n == (int)ARRAY_SIZE(p) ? err_msg(e, E2BIG, "too many port mappings") : -e->no;
	int r = network_attach(c->net, c->id, pid, p, n, ip, e);
	if (r)
		return r;
	free(c->ip);
	if (!(c->ip = strdup(ip)))
		return err_set(e, ENOMEM, "network");
	return 0;
}

void network_down(struct container *c)
{
	if (!network_is_bridge(c->net))
		return;
	network_detach(c->net, c->id, NULL);
	free(c->ip);
	c->ip = NULL;
}
