/* images: list the tagged images of the store. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "applets.h"
#include "image.h"
#include "json.h"
#include "state.h"

const char images_usage[] =
	"Usage: mydocker images [-q] [--no-trunc]\n\n"
	"List images: REPOSITORY TAG IMAGE ID CREATED SIZE.\n\n"
	"  -q, --quiet    only image IDs\n"
	"      --no-trunc full image IDs\n";

int images_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-trunc", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, quiet = 0, notrunc = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 'n': notrunc = 1; break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);

	char p[4096];
	struct buf b = { 0 };
	struct json *repos = NULL;
	struct err e = { 0 };
	snprintf(p, sizeof(p), "%s/images/repositories.json", state_root());
	int r = read_file_at(AT_FDCWD, p, 16u << 20, &b);
	if (r && r != -ENOENT)
		die(125, "read %s: %s", p, strerror(-r));
	if (!r && json_parse(b.p, b.len, &repos, &e))
		die(125, "%s: %s", p, e.msg);
	if (repos && repos->type != JSON_OBJECT)
		die(125, "%s: not a JSON object", p);
	if (!quiet)
		printf("%-20s %-10s %-*s %-16s %s\n", "REPOSITORY", "TAG", notrunc ? 71 : 12, "IMAGE ID",
		       "CREATED", "SIZE");
	for (const struct json *m = repos ? repos->child : NULL; m; m = m->next) {
		struct image img;
		char *colon = strrchr(m->key, ':');
		if (!colon || m->type != JSON_STRING || image_resolve(m->s, &img, &e)) {
			warnx("%s: %s", m->key, e.msg);
			continue;
		}
		if (quiet) {
			printf("%.*s\n", notrunc ? 64 : 12, img.id);
		} else {
			char ago[48], sz[16];
			fmt_duration((now_ns() - img.created) / 1000000000, ago);
			fmt_size(img.size, sz);
			printf("%-20.*s %-10s %s%-*.*s %-16s %s\n", (int)(colon - m->key), m->key, colon + 1,
			       notrunc ? "sha256:" : "", notrunc ? 64 : 12, notrunc ? 64 : 12, img.id,
			       strcat(ago, " ago"), sz);
		}
		image_free(&img);
	}
	json_free(repos);
	buf_free(&b);
	return 0;
}
