/* inspect: print the stored JSON of containers or images, as one JSON array like docker inspect. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "applets.h"
#include "container.h"
#include "defaults.h"
#include "image.h"
#include "json.h"
#include "network.h"

const char inspect_usage[] =
	"Usage: mydocker inspect [--type container|image|network] NAME|ID...\n\n"
	"Print the stored JSON of each container (its record), image (its config) or network inside\n"
	"one JSON array. Containers are looked up first, then images, then networks. Exits 1 if any\n"
	"name is unknown.\n\n"
	"      --type TYPE  only look for containers, images or networks\n";

/* Parse text as JSON and append it to the array w; -EINVAL etc. with e filled. */
static int emit(struct jw *w, const struct buf *b, const char *what, struct err *e)
{
	struct json *j = NULL;
	if (json_parse(b->p, b->len, &j, e))
		return err_wrap(e, "%s: corrupt", what);
	jw_node(w, j);
	json_free(j);
	return 0;
}

/* 1 found and emitted, 0 not a container, -errno on a broken record. */
static int container(struct jw *w, const char *ref, struct err *e)
{
	char id[ID_LEN + 1];
	struct buf b = { 0 };
	if (ctr_lookup(ref, id, e))
		return e->no == EEXIST ? -EEXIST : 0;
	int fd = ctr_open_dir(id, e), r;
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	r = read_file_at(fd, "config.json", MAX_STATE_FILE, &b);
	close(fd);
	struct container c;
	if (r)
		r = err_set(e, -r, "read %s/config.json", id);
	else if ((r = ctr_load(id, &c, e)) == 0) {	/* valid JSON of the wrong shape is corrupt too */
		ctr_free(&c);
		r = emit(w, &b, id, e);
	}
	buf_free(&b);
	return r ? r : 1;
}

static int image(struct jw *w, const char *ref, struct err *e)
{
	struct image img = { 0 };
	struct buf b = { 0 };
	char p[4096];
	if (image_resolve(ref, &img, e))
		return e->no == ENOENT || e->no == EINVAL ? 0 : -e->no;
	snprintf(p, sizeof(p), "%s/images/configs/%s.json", state_root(), img.id);
	int r = read_file_at(AT_FDCWD, p, MAX_STATE_FILE, &b);
	if (r)
		r = err_set(e, -r, "read %s", p);
	else
		r = emit(w, &b, p, e);
	image_free(&img);
	buf_free(&b);
	return r ? r : 1;
}

/* 1 found and emitted, 0 no such network, -errno on a broken record. */
static int network(struct jw *w, const char *ref, struct err *e)
{
	struct buf b = { 0 };
	int r = name_valid(ref) ? network_read(ref, &b, e) : -ENOENT;
	if (!r)
		r = emit(w, &b, ref, e) ? -EINVAL : 1;
	buf_free(&b);
	return r == -ENOENT ? 0 : r;
}

int inspect_main(int argc, char **argv)
{
	static const struct option lo[] = { { "type", required_argument, 0, 'T' }, { 0 } };
	int o, rc = 0, want_c = 1, want_i = 1, want_n = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (o != 'T')
			usage(2);
		want_c = !strcmp(optarg, "container");
		want_i = !strcmp(optarg, "image");
		want_n = !strcmp(optarg, "network");
		if (!want_c && !want_i && !want_n)
			die(2, "--type: expected container, image or network, got \"%s\"", optarg);
	}
	if (optind >= argc)
		usage(2);
	struct buf b = { 0 };
	struct jw w;
	jw_init(&w, &b, 1);
	jw_arr(&w);
	for (int i = optind; i < argc; i++) {
		struct err e = { 0 };
		int r = want_c ? container(&w, argv[i], &e) : 0;
		if (!r && want_i)
			r = image(&w, argv[i], &e);
		if (!r && want_n)
			r = network(&w, argv[i], &e);
		if (r < 0) {
			warnx("%s", e.msg);
			rc = r == -EEXIST || r == -EINVAL ? (rc ? rc : 1) : 125;
		} else if (!r) {
			warnx("No such object: %s", argv[i]);
			rc = rc ? rc : 1;
		}
	}
	jw_end_arr(&w);
	if (jw_done(&w) || buf_puts(&b, "\n"))
		die(125, "out of memory");
	write_all(1, b.p, b.len);
	return rc;
}
