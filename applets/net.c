/* net: manage bridge networks (alias: network).
 *
 * Usage: mydocker net create [--driver bridge] --subnet CIDR [--gateway IP] NAME
 *        mydocker net ls [-q]
 *        mydocker net rm NAME...
 *        mydocker net inspect NAME...
 *
 * Manage bridge networks (alias: network).
 *
 *   create   a bridge (md-NAME, at most 15 characters) holding the gateway address
 *            (default: the first address of the subnet, /8 to /30), NAT for the subnet
 *   ls       list networks (-q: names only)
 *   rm       remove networks; refused while containers use them
 *   inspect  the stored JSON, with the address of every attached container
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "applets.h"
#include "json.h"
#include "network.h"

const char net_usage[] =
	"Usage: mydocker net create [--driver bridge] --subnet CIDR [--gateway IP] NAME\n"
	"       mydocker net ls [-q]\n"
	"       mydocker net rm NAME...\n"
	"       mydocker net inspect NAME...\n\n"
	"Manage bridge networks (alias: network).\n\n"
	"  create   a bridge (md-NAME, at most 15 characters) holding the gateway address\n"
	"           (default: the first address of the subnet, /8 to /30), NAT for the subnet\n"
	"  ls       list networks (-q: names only)\n"
	"  rm       remove networks; refused while containers use them\n"
	"  inspect  the stored JSON, with the address of every attached container\n";

static int create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "driver", required_argument, NULL, 'd' },
		{ "subnet", required_argument, NULL, 's' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *driver = NULL, *subnet = NULL, *gw = NULL;
	struct err e = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': driver = optarg; break;
		case 's': subnet = optarg; break;
		case 'g': gw = optarg; break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (optind != argc - 1)
		usage(2);
	if (network_create(argv[optind], driver, subnet, gw, &e))
		die_err(1, &e);
	puts(argv[optind]);
	return 0;
}

static int ls(int argc, char **argv)
{
	char **names, s[20], g[16];
	struct err e = { 0 };
	int quiet = argc == 2 && !strcmp(argv[1], "-q");
	if (argc > 1 && !quiet)
		usage(2);
	if (network_list(&names, &e))
		die_err(1, &e);
	if (!quiet)
		printf("%-12s  %-20s  %-6s  %-18s  %-15s  %s\n", "NETWORK ID", "NAME", "DRIVER", "SUBNET",
		       "GATEWAY", "BRIDGE");
	for (char **n = names; *n; n++) {
		struct network nw;
		if (quiet) {
			puts(*n);
			continue;
		}
		if (network_load(*n, &nw, &e)) {
			warnx("%s", e.msg);
			continue;
		}
		ipam_fmt_cidr(&nw.subnet, s);
		ipam_fmt(nw.gw, g);
		printf("%-12.12s  %-20s  %-6s  %-18s  %-15s  %s\n", nw.id, nw.name, "bridge", s, g, nw.bridge);
		network_free(&nw);
	}
	strv_free(names);
	return 0;
}

static int each(int argc, char **argv, int rm)
{
	struct err e = { 0 };
	int rc = 0;
	if (argc < 2)
		usage(2);
	for (int i = 1; i < argc; i++) {
		struct buf b = { 0 };
		if (rm ? network_remove(argv[i], &e) : network_read(argv[i], &b, &e)) {
			warnx("%s", e.msg);
			rc = 1;
		} else {
			fputs(rm ? argv[i] : b.p, stdout);
			if (rm)
				putchar('\n');
		}
		buf_free(&b);
	}
	return rc;
}

int net_main(int argc, char **argv)
{
	if (argc < 2)
		usage(2);
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
		usage(0);
	if (!strcmp(cmd, "create"))
		return create(argc - 1, argv + 1);
	if (!strcmp(cmd, "ls") || !strcmp(cmd, "list"))
		return ls(argc - 1, argv + 1);
	if (!strcmp(cmd, "rm") || !strcmp(cmd, "remove"))
		return each(argc - 1, argv + 1, 1);
	if (!strcmp(cmd, "inspect"))
		return each(argc - 1, argv + 1, 0);
	die(2, "unknown command \"%.40s\" (create, ls, rm, inspect)", cmd);
}
