/* cgparse: docker's resource flags (-m, --memory-swap, --cpus, --cpu-shares, --cpuset-cpus,
 * --cpuset-mems, --pids-limit) into struct cg_limits, validated before anything touches the host. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup.h"

#define NSET 16	/* CPUs/nodes 0..1023 */

/* s[0..n) as a decimal number ("12", "1.5") times mul, exactly up to 9 decimals. */
static int decimal(const char *s, size_t n, uint64_t mul, int64_t *out)
{
	unsigned __int128 ip = 0, fp = 0, scale = 1;
	size_t i = 0;
	if (!n || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if ((ip = ip * 10 + (s[i] - '0')) > INT64_MAX)
			return -ERANGE;
	if (i < n && s[i] == '.') {
		if (++i == n)
			return -EINVAL;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (scale >= 1000000000)
				return -EINVAL;	/* too precise */
			fp = fp * 10 + (s[i] - '0');
			scale *= 10;
		}
	}
	if (i != n)
		return -EINVAL;
	unsigned __int128 v = ip * mul + fp * mul / scale;
	if (v > INT64_MAX)
		return -ERANGE;
	*out = (int64_t)v;
	return 0;
}

/* "100m", "1.5G", "512kb", "2MiB", "1024", "1024b": binary units like docker's RAMInBytes. */
static int size_bytes(const char *s, int64_t *out)
{
	size_t n = strspn(s, "0123456789.");
	const char *u = s + n;
	uint64_t mul = 1;
	const char *p = strchr("kmgtp", u[0] | 0x20);
	if (u[0] && p) {
		mul = 1ull << (10 * (p - "kmgtp" + 1));
		u++;
		if ((*u | 0x20) == 'i')
			u++;
	}
	if ((*u | 0x20) == 'b')
		u++;
	return *u ? -EINVAL : decimal(s, n, mul, out);
}

int cg_parse_memory(const char *s, int64_t *out, struct err *e)
{
	int r = size_bytes(s, out);
	if (r)
		return err_set(e, -r, "invalid memory limit \"%s\"", s);
	if (*out && *out < CG_MIN_MEMORY) {
		err_set(e, 0, "invalid memory limit \"%s\": the minimum is 6MiB", s);
		return -EINVAL;
	}
	return 0;
}

int cg_parse_memory_swap(const char *s, int64_t *out, struct err *e)
{
	if (!strcmp(s, "-1")) {
		*out = -1;
		return 0;
	}
	int r = size_bytes(s, out);
	return r ? err_set(e, -r, "invalid memory swap limit \"%s\"", s) : 0;
}

/* Parse a list "0-1,3" into a bitset; -EINVAL on bad syntax, -ERANGE past 1023. */
static int cpulist(const char *s, uint64_t set[NSET])
{
	memset(set, 0, NSET * sizeof(set[0]));
	while (*s && *s != '\n') {
		char *end;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned long a = strtoul(s, &end, 10), b = a;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return -EINVAL;
			b = strtoul(end + 1, &end, 10);
		}
		if (a > b)
			return -EINVAL;
		if (b >= NSET * 64)
			return -ERANGE;
		for (unsigned long i = a; i <= b; i++)
			set[i / 64] |= 1ull << (i % 64);
		if (*end == ',' && end[1] && end[1] != '\n')
			end++;
		else if (*end && *end != '\n')
			return -EINVAL;
		s = end;
	}
	return 0;
}

/* The host's online CPUs (mems: NUMA nodes); a machine without the node file has node 0. */
static int online(int mems, uint64_t set[NSET], char *txt, size_t txtsz)
{
	char path[CG_PATH + 64];
	struct buf b = { 0 };
	snprintf(path, sizeof(path), "%s/sys/devices/system/%s/online", cg_base_path(), mems ? "node" : "cpu");
	int r = read_file_at(AT_FDCWD, path, 4096, &b);
	snprintf(txt, txtsz, "%s", r ? "0" : b.p);
	txt[strcspn(txt, "\n")] = 0;
	buf_free(&b);
	if (r && !mems)
		return r;
	return cpulist(txt, set);
}

int cg_parse_cpuset(const char *s, int mems, char *out, size_t outsz, struct err *e)
{
	const char *what = mems ? "cpuset-mems" : "cpuset-cpus";
	uint64_t want[NSET], have[NSET];
	char txt[256];
	if (strlen(s) >= outsz || cpulist(s, want) || !*s)
		return err_set(e, EINVAL, "invalid --%s \"%s\"", what, s);
	if (online(mems, have, txt, sizeof(txt)))
		return err_set(e, EIO, "invalid --%s \"%s\": cannot read the host's online %s", what, s,
			       mems ? "nodes" : "CPUs");
	for (int i = 0; i < NSET * 64; i++)
		if ((want[i / 64] >> (i % 64) & 1) && !(have[i / 64] >> (i % 64) & 1)) {
			err_set(e, 0, "invalid --%s \"%s\": %s %d is not available (online: %s)", what, s,
				mems ? "node" : "CPU", i, txt);
			return -EINVAL;
		}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int ncpus(void)
{
	uint64_t set[NSET];
	char txt[256];
	int n = 0;
	if (online(0, set, txt, sizeof(txt)))
		return 1;
	for (int i = 0; i < NSET; i++)
		n += __builtin_popcountll(set[i]);
	return n ? n : 1;
}

int cg_parse_cpus(const char *s, int64_t *nano, struct err *e)
{
	int n = ncpus();
	int r = decimal(s, strlen(s), 1000000000, nano);
	if (!r && *nano && (*nano < 10000000 || *nano > n * 1000000000ll))
		r = -ERANGE;
	if (r) {
		err_set(e, 0, "invalid --cpus value \"%s\": the range is 0.01 to %d", s, n);
		return -EINVAL;
	}
	return 0;
}

int cg_parse_shares(const char *s, int64_t *out, struct err *e)
{
	if (parse_ll(s, 0, 262144, (long long *)out) || *out == 1) {
		err_set(e, 0, "invalid --cpu-shares value \"%s\": the range is 2 to 262144", s);
		return -EINVAL;
	}
	return 0;
}

int cg_parse_pids(const char *s, int64_t *out, struct err *e)
{
	if (parse_ll(s, -1, INT32_MAX, (long long *)out)) {
		err_set(e, 0, "invalid --pids-limit value \"%s\"", s);
		return -EINVAL;
	}
	if (*out < 0)
		*out = 0;
	return 0;
}

int cg_parse_flag(struct cg_limits *l, const char *f, const char *v, struct err *e)
{
	if (!strcmp(f, "-m") || !strcmp(f, "--memory"))
		return cg_parse_memory(v, &l->memory, e);
	if (!strcmp(f, "--memory-swap"))
		return cg_parse_memory_swap(v, &l->memory_swap, e);
	if (!strcmp(f, "--cpus"))
		return cg_parse_cpus(v, &l->nano_cpus, e);
	if (!strcmp(f, "-c") || !strcmp(f, "--cpu-shares"))
		return cg_parse_shares(v, &l->cpu_shares, e);
	if (!strcmp(f, "--cpuset-cpus"))
		return cg_parse_cpuset(v, 0, l->cpuset_cpus, sizeof(l->cpuset_cpus), e);
	if (!strcmp(f, "--cpuset-mems"))
		return cg_parse_cpuset(v, 1, l->cpuset_mems, sizeof(l->cpuset_mems), e);
	if (!strcmp(f, "--pids-limit"))
		return cg_parse_pids(v, &l->pids_limit, e);
	return -ENOENT;
}

int cg_limits_check(const struct cg_limits *l, struct err *e)
{
	if (l->memory_swap > 0 && !l->memory) {
		err_set(e, 0, "--memory-swap needs --memory as well");
		return -EINVAL;
	}
	if (l->memory_swap > 0 && l->memory_swap < l->memory) {
		err_set(e, 0, "--memory-swap must be at least --memory");
		return -EINVAL;
	}
	return 0;
}

uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (!shares)
		return 0;
	if (shares < 2)
		shares = 2;
	return 1 + ((shares - 2) * 9999) / 262142;
}

int64_t cg_swap_total(const struct cg_limits *l)
{
	if (l->memory_swap || !l->memory)
		return l->memory ? l->memory_swap : 0;
	return l->memory > INT64_MAX / 2 ? -1 : 2 * l->memory;
}
