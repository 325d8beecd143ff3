/* commit: a new image = the base image + one layer made of a container's overlay upper dir.
 * The upper dir's whiteouts (0:0 char devices) and opaque dirs become .wh. entries of the layer
 * tar (layer_tar); the tar's SHA-256 is the new diff_id, and the tar is unpacked again into the
 * store as an overlay-ready layer, as load would, so the result is checked end to end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "imgstore.h"
#include "state.h"

/* The base config with the new layer, creation time and history entry. */
static int commit_config(const char *base_id, const char *diff_id, const char *comment, struct buf *out,
			 struct err *e)
{
	struct buf b = { 0 };
	struct json *cfg = NULL;
	struct jw w;
	char t[40], d[72];
	int r = config_read(base_id, &b, e) || json_parse(b.p, b.len, &cfg, e) ? -e->no : 0;
	buf_free(&b);
	if (r)
		return r;
	fmt_time(now_ns(), t);
	snprintf(d, sizeof(d), "sha256:%s", diff_id);
	jw_init(&w, out, 0);
	jw_obj(&w);
	for (const struct json *m = cfg->child; m; m = m->next) {
		int hist = !strcmp(m->key, "history"), rootfs = !strcmp(m->key, "rootfs");
		if (!strcmp(m->key, "created") || !strcmp(m->key, "comment"))
			continue;
		jw_key(&w, m->key);
		if (!hist && !rootfs) {
			jw_node(&w, m);
			continue;
		}
		if (rootfs)
			jw_obj(&w), jw_kstr(&w, "type", "layers"), jw_key(&w, "diff_ids");
		jw_arr(&w);
		const struct json *l = rootfs ? json_get(m, "diff_ids") : m;
		for (const struct json *x = l && l->type == JSON_ARRAY ? l->child : NULL; x; x = x->next)
			jw_node(&w, x);
		if (rootfs) {
			jw_str(&w, d);
		} else {
			jw_obj(&w);
			jw_kstr(&w, "created", t);
			jw_kstr(&w, "created_by", "mydocker commit");
			if (comment)
				jw_kstr(&w, "comment", comment);
			jw_end_obj(&w);
		}
		jw_end_arr(&w);
		if (rootfs)
			jw_end_obj(&w);
	}
	jw_kstr(&w, "created", t);
	jw_end_obj(&w);
	json_free(cfg);
	return jw_done(&w) ? err_set(e, ENOMEM, "config") : 0;
}

int image_commit(const char *base_id, const char *upper, const char *ref, const char *comment,
		 char *id_out, struct err *e)
{
	struct stage st = { .fd = -1 };
	struct image base;
	struct layer_info li, back;
	struct buf cfg = { 0 };
	char norm[400], chain[65], dir[80];
	int r, ufd = -1, lock = -1;

	if (ref && image_ref_norm(ref, norm, sizeof(norm)))
		return err_set(e, EINVAL, "invalid reference format \"%s\"", ref);
	if ((r = image_resolve(base_id, &base, e)))
		return r;
	if ((ufd = openat(AT_FDCWD, upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = err_set(e, errno, "open %s", upper);
	r = r ?: stage_new(&st, e);
	r = r ?: layer_tar_file(ufd, &st, "layer.tar", &li, e);
	if (!r) {
		struct fdsrc fs = { .fd = openat(st.fd, "layer.tar", O_RDONLY | O_CLOEXEC) };
		struct tar_src src = { fdsrc_read, &fs };
		chain_next(base.chain[base.nlayers - 1], li.diff_id, chain);
		snprintf(dir, sizeof(dir), "c%s", chain);
		r = fs.fd < 0 ? err_set(e, errno, "open layer") : layer_unpack(&src, st.fd, dir, UINT64_MAX, &back, e);
		if (fs.fd >= 0)
			close(fs.fd);
		if (!r && strcmp(back.diff_id, li.diff_id))
			r = err_set(e, EIO, "layer changed while it was read");
	}
	r = r ?: write_size(st.fd, dir, li.size, e);
	r = r ?: commit_config(base.id, li.diff_id, comment, &cfg, e);
	if (!r && (lock = r = state_lock("images", e)) >= 0) {
		sweep_tmp();
		r = store_layer(&st, dir, chain, e);
		r = r < 0 ? r : store_config(cfg.p, cfg.len, id_out, e);
		r = r || !ref ? r : store_tag(norm, id_out, e);
		close(lock);
	}
	if (ufd >= 0)
		close(ufd);
	stage_drop(&st);
	buf_free(&cfg);
	image_free(&base);
	return r;
}
