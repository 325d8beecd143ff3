/* rmi: untag images; an image with no tag left and no container using it is deleted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "applets.h"
#include "container.h"
#include "image.h"
#include "json.h"
#include "state.h"

const char rmi_usage[] =
	"Usage: mydocker rmi [-f] IMAGE...\n\n"
	"Remove images by NAME[:TAG] or ID. An image used by a container is refused; with -f it\n"
	"is untagged but kept until no container uses it. Layers no other image uses are deleted.\n\n"
	"  -f, --force    untag even when containers use the image\n";

static int image_in_use(const char *id)
{
	char **ids = NULL;
	struct err e;
	int used = 0;
	if (ctr_list(&ids, &e))
		return 0;
	for (char **p = ids; *p; p++) {
		struct container c;
		if (!used && !ctr_load(*p, &c, &e)) {
			used = c.image_id && !strcmp(c.image_id, id);
			ctr_free(&c);
		}
		free(*p);
	}
	free(ids);
	return used;
}

/* How many tags of repos point at id. */
static int tag_count(const struct json *repos, const char *id)
{
	int n = 0;
	for (const struct json *m = repos->child; m; m = m->next)
		n += m->type == JSON_STRING && !strcmp(m->s + 7, id);
	return n;
}

/* Delete the config and every layer that no remaining image uses (layers are shared by ChainID). */
static void delete_image(const char *id)
{
	struct err e;
	if (image_delete(id, &e))
		warnx("%s", e.msg);
}

static int rmi_one(const char *ref, int force)
{
	struct err e = { 0 };
	struct image img;
	struct json *repos = NULL;
	char norm[400], p[4096];
	struct buf b = { 0 };

	if (image_resolve(ref, &img, &e)) {
		warnx("%s", e.msg);
		return 1;
	}
	int lock = state_lock("images", &e);
	if (lock < 0) {
		warnx("%s", e.msg);
		image_free(&img);
		return 1;
	}
	snprintf(p, sizeof(p), "%s/images/repositories.json", state_root());
	int r = read_file_at(AT_FDCWD, p, 16u << 20, &b);
	if (r == -ENOENT)
		r = json_parse("{}", 2, &repos, &e);
	else if (!r)
		r = json_parse(b.p, b.len, &repos, &e);
	buf_free(&b);
	if (r) {
		warnx("%s: %s", p, e.msg);
		goto out;
	}
	int used = image_in_use(img.id);
	if (used && !force) {
		warnx("image %s is in use by a container (use -f to untag)", ref);
		r = 1;
		goto out;
	}
	/* by tag: drop that tag; by ID: drop every tag */
	int bytag = !image_ref_norm(ref, norm, sizeof(norm)) && json_get_str(repos, norm);
	struct buf nb = { 0 };
	struct jw w;
	jw_init(&w, &nb, 1);
	jw_obj(&w);
	for (const struct json *m = repos->child; m; m = m->next) {
		int mine = m->type == JSON_STRING && !strcmp(m->s + 7, img.id);
		if (mine && (!bytag || !strcmp(m->key, norm))) {
			printf("Untagged: %s\n", m->key);
			continue;
		}
		if (m->type == JSON_STRING)
			jw_kstr(&w, m->key, m->s);
	}
	jw_end_obj(&w);
	buf_puts(&nb, "\n");
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/images", state_root());
	int dfd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = jw_done(&w) || dfd < 0 || state_write_atomic(dfd, "repositories.json", nb.p, nb.len, &e);
	if (dfd >= 0)
		close(dfd);
	buf_free(&nb);
	if (r) {
		warnx("update tags: %s", e.msg);
		goto out;
	}
	json_free(repos);
	repos = NULL;
	/* re-read to count what is left for this image */
	if (!read_file_at(AT_FDCWD, p, 16u << 20, &b) && !json_parse(b.p, b.len, &repos, &e) &&
	    tag_count(repos, img.id) == 0 && !used) {
		delete_image(img.id);
		printf("Deleted: sha256:%s\n", img.id);
	}
	buf_free(&b);
out:
	json_free(repos);
	close(lock);
	image_free(&img);
	return r ? 1 : 0;
}

int rmi_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, force = 0, rc = 0;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = 1; break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (optind == argc)
		usage(2);
	for (int i = optind; i < argc; i++)
		rc |= rmi_one(argv[i], force);
	return rc;
}
