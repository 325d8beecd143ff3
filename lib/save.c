/* save: images as one archive that is both a docker save archive (manifest.json, read by docker
 * load, podman load and skopeo's docker-archive:) and an OCI image layout (oci-layout, index.json,
 * blobs/sha256), the format Docker >= 25 writes.
 *
 * Layers are stored unpacked, so their tars are made anew (layer_tar: whiteouts back to .wh.
 * entries) into the staging dir first: their digests go into the manifests and, where they differ
 * from the original diff_ids, into a rewritten config (the saved image then has another ID). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "imgstore.h"
#include "state.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"

struct simg {
	char *tag;		/* normalised name:tag, NULL when saved by ID */
	struct buf cfg;		/* the config to write */
	char cfg_id[65];
	struct buf man;		/* OCI manifest */
	char man_id[65];
	int nl;
	struct layer_info *li;
	char (*file)[32];	/* stage file of each layer tar */
};

struct out {
	struct tar_writer w;
	struct tar_sink sink;
	struct fdsrc prog;	/* only for the progress display */
	int fd;
	char io[65536];
};

static int out_write(void *ctx, const void *p, size_t n)
{
	struct out *o = ctx;
	o->prog.n += n;
	if (o->prog.what) {
		if (!o->prog.t0)
			o->prog.t0 = o->prog.last = now_ns();
		fdsrc_progress(&o->prog);
	}
	return write_all(o->fd, p, n);
}

static int put_mem(struct out *o, const char *name, const void *p, size_t n, struct err *e)
{
	struct tar_entry te = { .type = '0', .path = (char *)name, .mode = 0444, .size = n };
	return tar_write_header(&o->w, &te, e) ?: tar_write_data(&o->w, p, n, e) ?: tar_write_pad(&o->w, n, e);
}

static int put_file(struct out *o, int dfd, const char *file, const char *name, uint64_t size, struct err *e)
{
	struct tar_entry te = { .type = '0', .path = (char *)name, .mode = 0444, .size = size };
	int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC), r;
	if (fd < 0)
		return err_set(e, errno, "open %s", file);
	r = tar_write_header(&o->w, &te, e);
	for (uint64_t left = size; !r && left;) {
		ssize_t n = read_full(fd, o->io, left < sizeof(o->io) ? left : sizeof(o->io));
		if (n <= 0)
			r = err_set(e, n < 0 ? (int)-n : EIO, "read %s", file);
		else
			r = tar_write_data(&o->w, o->io, n, e), left -= n;
	}
	close(fd);
	return r ?: tar_write_pad(&o->w, size, e);
}

/* The config with rootfs.diff_ids set to the layers as saved. */
static int new_config(struct simg *s, const struct buf *orig, struct err *e)
{
	struct json *cfg;
	struct jw w;
	if (json_parse(orig->p, orig->len, &cfg, e))
		return -e->no;
	jw_init(&w, &s->cfg, 0);
	jw_obj(&w);
	for (const struct json *m = cfg->child; m; m = m->next) {
		jw_key(&w, m->key);
		if (strcmp(m->key, "rootfs")) {
			jw_node(&w, m);
			continue;
		}
		jw_obj(&w);
		jw_kstr(&w, "type", "layers");
		jw_key(&w, "diff_ids");
		jw_arr(&w);
		for (int i = 0; i < s->nl; i++) {
			char d[72];
			snprintf(d, sizeof(d), "sha256:%s", s->li[i].diff_id);
			jw_str(&w, d);
		}
		jw_end_arr(&w);
		jw_end_obj(&w);
	}
	jw_end_obj(&w);
	json_free(cfg);
	return jw_done(&w) ? err_set(e, ENOMEM, "config") : 0;
}

static void descriptor(struct jw *w, const char *mt, const char *hex, uint64_t size)
{
	char d[72];
	snprintf(d, sizeof(d), "sha256:%s", hex);
	jw_obj(w);
	jw_kstr(w, "mediaType", mt);
	jw_kstr(w, "digest", d);
	jw_kint(w, "size", (int64_t)size);
}

static int prepare(struct simg *s, const char *ref, struct stage *st, int k, struct err *e)
{
	struct image img;
	struct buf orig = { 0 };
	char norm[400];
	int r = image_resolve(ref, &img, e);
	if (r)
		return r;
	const char *hex = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;
	if (!is_hex(hex, strlen(hex)) && !image_ref_norm(ref, norm, sizeof(norm)))
		s->tag = xstrdup(norm);
	s->nl = img.nlayers;
	s->li = xcalloc(s->nl, sizeof(*s->li));
	s->file = xcalloc(s->nl, sizeof(*s->file));
	int same = !config_read(img.id, &orig, e);
	r = same ? 0 : -e->no;
	for (int i = 0; i < s->nl && !r; i++) {
		int dfd = openat(AT_FDCWD, img.layers[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(s->file[i], sizeof(s->file[i]), "t%d.%d", k, i);
		if (dfd < 0) {
			r = err_set(e, errno, "layer %s", img.layers[i]);
			break;
		}
		r = layer_tar_file(dfd, st, s->file[i], &s->li[i], e);
		close(dfd);
		char want[72];
		snprintf(want, sizeof(want), "sha256:%s", s->li[i].diff_id);
		same = same && strstr(orig.p, want);
	}
	if (!r && same)
		r = buf_add(&s->cfg, orig.p, orig.len) ? err_set(e, ENOMEM, "config") : 0;
	else if (!r)
		r = new_config(s, &orig, e);
	if (!r) {
		struct jw w;
		sha256_buf_hex(s->cfg.p, s->cfg.len, s->cfg_id);
		jw_init(&w, &s->man, 0);
		jw_obj(&w);
		jw_kint(&w, "schemaVersion", 2);
		jw_kstr(&w, "mediaType", MT_MANIFEST);
		jw_key(&w, "config");
		descriptor(&w, "application/vnd.oci.image.config.v1+json", s->cfg_id, s->cfg.len);
		jw_end_obj(&w);
		jw_key(&w, "layers");
		jw_arr(&w);
		for (int i = 0; i < s->nl; i++) {
			descriptor(&w, "application/vnd.oci.image.layer.v1.tar", s->li[i].diff_id, s->li[i].size);
			jw_end_obj(&w);
		}
		jw_end_arr(&w);
		jw_end_obj(&w);
		r = jw_done(&w) ? err_set(e, ENOMEM, "manifest") : 0;
		sha256_buf_hex(s->man.p, s->man.len, s->man_id);
	}
	buf_free(&orig);
	image_free(&img);
	return r;
}

/* index.json and manifest.json */
static int indexes(struct simg *v, int n, struct buf *idx, struct buf *man, struct err *e)
{
	struct jw a, b;
	jw_init(&a, idx, 0);
	jw_init(&b, man, 0);
	jw_obj(&a);
	jw_kint(&a, "schemaVersion", 2);
	jw_kstr(&a, "mediaType", "application/vnd.oci.image.index.v1+json");
	jw_key(&a, "manifests");
	jw_arr(&a);
	jw_arr(&b);
	for (int k = 0; k < n; k++) {
		struct simg *s = &v[k];
		char p[100];
		descriptor(&a, MT_MANIFEST, s->man_id, s->man.len);
		if (s->tag) {
			jw_key(&a, "annotations");
			jw_obj(&a);
			jw_kstr(&a, "io.containerd.image.name", s->tag);
			jw_kstr(&a, "org.opencontainers.image.ref.name", strrchr(s->tag, ':') + 1);
			jw_end_obj(&a);
		}
		jw_end_obj(&a);
		int dup = 0;
		for (int j = 0; j < k; j++)
			dup |= !strcmp(v[j].cfg_id, s->cfg_id);
		if (dup)	/* one manifest.json entry per image, with all its tags */
			continue;
		jw_obj(&b);
		snprintf(p, sizeof(p), "blobs/sha256/%s", s->cfg_id);
		jw_kstr(&b, "Config", p);
		jw_key(&b, "RepoTags");
		jw_arr(&b);
		for (int j = k; j < n; j++)
			if (v[j].tag && !strcmp(v[j].cfg_id, s->cfg_id))
				jw_str(&b, v[j].tag);
		jw_end_arr(&b);
		jw_key(&b, "Layers");
		jw_arr(&b);
		for (int i = 0; i < s->nl; i++) {
			snprintf(p, sizeof(p), "blobs/sha256/%s", s->li[i].diff_id);
			jw_str(&b, p);
		}
		jw_end_arr(&b);
		jw_end_obj(&b);
	}
	jw_end_arr(&a);
	jw_end_obj(&a);
	jw_end_arr(&b);
	return jw_done(&a) || jw_done(&b) ? err_set(e, ENOMEM, "index") : 0;
}

/* Is blob hex already in the archive (written for an earlier image or layer)? */
static int seen(struct buf *done, const char *hex)
{
	if (done->len && memmem(done->p, done->len, hex, 64))
		return 1;
	buf_add(done, hex, 64);
	return 0;
}

static int write_all_blobs(struct out *o, struct simg *v, int n, struct stage *st, struct err *e)
{
	struct buf done = { 0 };
	char p[100];
	int r = 0;
	struct tar_entry d = { .type = '5', .path = "blobs/", .mode = 0755 };
	r = tar_write_header(&o->w, &d, e);
	d.path = "blobs/sha256/";
	r = r ?: tar_write_header(&o->w, &d, e);
	for (int k = 0; k < n && !r; k++) {
		struct simg *s = &v[k];
		for (int i = 0; i < s->nl && !r; i++) {
			snprintf(p, sizeof(p), "blobs/sha256/%s", s->li[i].diff_id);
			if (!seen(&done, s->li[i].diff_id))
				r = put_file(o, st->fd, s->file[i], p, s->li[i].size, e);
			unlinkat(st->fd, s->file[i], 0);
		}
		snprintf(p, sizeof(p), "blobs/sha256/%s", s->cfg_id);
		if (!r && !seen(&done, s->cfg_id))
			r = put_mem(o, p, s->cfg.p, s->cfg.len, e);
		snprintf(p, sizeof(p), "blobs/sha256/%s", s->man_id);
		if (!r && !seen(&done, s->man_id))
			r = put_mem(o, p, s->man.p, s->man.len, e);
	}
	buf_free(&done);
	return r;
}

int image_save(char *const *refs, int fd, const struct image_opts *opt, struct err *e)
{
	int n = (int)strv_len(refs), r;
	struct simg *v = xcalloc(n + 1, sizeof(*v));
	struct out *o = xcalloc(1, sizeof(*o));
	struct stage st = { .fd = -1 };
	struct buf idx = { 0 }, man = { 0 };
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

	o->fd = fd;
	o->sink = (struct tar_sink){ out_write, o };
	o->prog.what = opt->progress ? "writing archive" : NULL;
	tar_writer_init(&o->w, &o->sink);
	r = stage_new(&st, e);
	for (int k = 0; k < n && !r; k++)
		r = prepare(&v[k], refs[k], &st, k, e);
	r = r ?: indexes(v, n, &idx, &man, e);
	r = r ?: write_all_blobs(o, v, n, &st, e);
	r = r ?: put_mem(o, "oci-layout", layout, sizeof(layout) - 1, e);
	r = r ?: put_mem(o, "index.json", idx.p, idx.len, e);
	r = r ?: put_mem(o, "manifest.json", man.p, man.len, e);
	r = r ?: tar_write_end(&o->w, e);
	if (!r)
		fdsrc_done(&o->prog);
	stage_drop(&st);
	for (int k = 0; k < n; k++) {
		free(v[k].tag);
		buf_free(&v[k].cfg);
		buf_free(&v[k].man);
		free(v[k].li);
		free(v[k].file);
	}
	free(v);
	free(o);
	buf_free(&idx);
	buf_free(&man);
	return r;
}
