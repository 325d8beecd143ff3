/* stats: memory and pids usage of containers, read from their cgroups. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysinfo.h>
#include "applets.h"
#include "cgroup.h"
#include "container.h"
#include "json.h"

const char stats_usage[] =
	"Usage: mydocker stats [-a] [--no-stream] [--no-trunc] [CONTAINER...]\n\n"
	"Show each running container's memory usage (page cache of inactive files excluded, as docker\n"
	"does), its memory limit (the host's memory when unlimited) and its number of processes, from\n"
	"its cgroup. Refreshed every second until interrupted, unless --no-stream.\n\n"
	"  -a, --all        also list containers that are not running\n"
	"      --no-stream  print once and exit\n"
	"      --no-trunc   full container IDs\n";

/* docker's binary sizes: "1.5MiB", "64MiB", "0B" */
static void bsize(int64_t n, char out[16])
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = n;
	int i = 0;
	while (v >= 1024 && i < 4)
		v /= 1024, i++;
	snprintf(out, 16, "%.4g%s", v, u[i]);
}

static int show(char **ids, int all, int notrunc)
{
	struct sysinfo si;
	int64_t host = sysinfo(&si) ? 0 : (int64_t)si.totalram * si.mem_unit;
	int shown = 0;
	printf("%-*s   %-20s   %-22s   %s\n", notrunc ? 64 : 12, "CONTAINER ID", "NAME", "MEM USAGE / LIMIT", "PIDS");
	for (char **id = ids; *id; id++) {
		struct container c;
		struct cg_stats s;
		struct err e;
		char use[16] = "0B", lim[16] = "0B", mem[40], pids[24] = "0";
		if (ctr_load(*id, &c, &e))
			continue;
		ctr_refresh(&c);
		int up = c.status == CTR_RUNNING;
		if (up && !cg_stats(c.id, &s, &e)) {
			bsize(s.mem_usage, use);
			bsize(s.mem_limit ? s.mem_limit : host, lim);
			if (s.pids >= 0)
				snprintf(pids, sizeof(pids), "%lld", (long long)s.pids);
		}
		snprintf(mem, sizeof(mem), "%s / %s", use, lim);
		if (up || all) {
			printf("%-*.*s   %-20s   %-22s   %s\n", notrunc ? 64 : 12, notrunc ? 64 : 12, c.id, c.name, mem,
			       pids);
			shown++;
		}
		ctr_free(&c);
	}
	fflush(stdout);
	return shown;
}

int stats_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all", no_argument, 0, 'a' }, { "no-stream", no_argument, 0, 's' },
		{ "no-trunc", no_argument, 0, 'n' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	int all = 0, once = 0, notrunc = 0, o;
	char **ids = NULL;
	struct err e;
	while ((o = getopt_long(argc, argv, "+a", lo, NULL)) != -1) {
		if (o == 'a')
			all = 1;
		else if (o == 's')
			once = 1;
		else if (o == 'n')
			notrunc = 1;
		else
			usage(o == 'h' ? 0 : 2);
	}
	if (optind < argc) {
		ids = xcalloc(argc - optind + 1, sizeof(char *));
		for (int i = optind; i < argc; i++) {
			char id[ID_LEN + 1];
			if (ctr_lookup(argv[i], id, &e))
				die(1, "%s", e.msg);
			ids[i - optind] = xstrdup(id);
		}
		all = 1;
	} else if (ctr_list(&ids, &e)) {
		die_err(1, &e);
	}
	for (;;) {
		if (!once && isatty(1))
			fputs("\033[2J\033[H", stdout);
		show(ids, all, notrunc);
		if (once)
			break;
		sleep(1);
	}
	strv_free(ids);
	return 0;
}
