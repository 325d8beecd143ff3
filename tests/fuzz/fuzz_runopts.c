/* libFuzzer target: the side-effect-free parsers behind run's flags (applets/run.c's own getopt
 * loop is static and exits on errors, so it is exercised through these and the shell tests):
 * -m/--memory, --memory-swap, --cpus, -c/--cpu-shares, --cpuset-cpus/--cpuset-mems, --pids-limit
 * (cg_parse_flag + cg_limits_check), -p (portmap_parse: its own output must parse back to the
 * same mapping) and the addresses of net create (ipam_parse_cidr, ipam_parse_ip).
 * Input: records "F value\n"; F (one byte, mod 12) picks the flag. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup.h"
#include "ipam.h"
#include "network.h"

static const char *flags[] = { "-m", "--memory-swap", "--cpus", "-c", "--cpuset-cpus", "--cpuset-mems",
			       "--pids-limit", "--memory", "--cpu-shares" };
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

static void one(struct cg_limits *l, unsigned sel, const char *v)
{
	struct err e = { 0 };
	if (sel < NFLAGS) {
		struct cg_limits before = *l;
		int r = cg_parse_flag(l, flags[sel], v, &e);
		if (r == -ENOENT)
			abort();	/* every flag of the table is a cgroup flag */
		if (r && !e.msg[0])
			abort();	/* refusals say why */
		if (r) {	/* run stops at the first refusal; what a refused value left is not used */
			*l = before;
			return;
		}
		if (l->memory < 0 || l->nano_cpus < 0 || l->pids_limit < 0 || l->cpu_shares < 0 ||
		    (l->cpu_shares && (l->cpu_shares < 2 || l->cpu_shares > 262144)) ||
		    !memchr(l->cpuset_cpus, 0, sizeof(l->cpuset_cpus)) ||
		    !memchr(l->cpuset_mems, 0, sizeof(l->cpuset_mems)))
			abort();
		return;
	}
	if (sel == NFLAGS) {
		struct portmap p, q;
		char out[48];
		if (portmap_parse(v, &p, &e))
			return;
		if (!p.host_port || !p.port)
			abort();
		portmap_fmt(&p, out);
		if (portmap_parse(out, &q, &e) || memcmp(&p, &q, sizeof(p)))
			abort();	/* what we print must read back the same */
		return;
	}
	struct cidr c;
	uint32_t ip;
	if (sel == NFLAGS + 1 && !ipam_parse_cidr(v, &c, &e) && (c.len < 0 || c.len > 32))
		abort();
	if (sel == NFLAGS + 2)
		ipam_parse_ip(v, &ip);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *s = malloc(size + 1);
	struct cg_limits l;
	struct err e;
	memcpy(s, data, size);
	s[size] = 0;
	memset(&l, 0, sizeof(l));
	for (char *p = s, *nl; p < s + size && *p; p = nl) {
		if ((nl = strchr(p, '\n')))
			*nl++ = 0;
		else
			nl = p + strlen(p);
		if (p[0] && p[1])
			one(&l, (unsigned char)p[0] % (NFLAGS + 3), p + 2);
	}
	cg_limits_check(&l, &e);
	free(s);
	return 0;
}
