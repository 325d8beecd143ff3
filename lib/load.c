/* load: docker save archives (legacy: manifest.json + <id>/layer.tar; Docker >= 25: the same
 * manifest.json over an OCI layout) and OCI image layouts as tar (oci-layout, index.json,
 * blobs/sha256/..., nested indexes).
 *
 * Pass 1 reads the archive once (a file or a pipe alike): every regular file is spooled into the
 * staging dir as s<N> while its SHA-256 and size are taken, and the whole stream is hashed for
 * the signature. Pass 2 plans from the JSON (manifest.json, else index.json), checks every blob's
 * digest and size, unpacks each missing layer (by ChainID) into the staging dir and checks its
 * uncompressed digest against the config's diff_ids. Only then, under the images lock, do layers,
 * configs and tags appear. Any failure removes the staging dir: nothing is left. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "imgstore.h"
#include "state.h"

#define MAX_ENTRIES 100000
#define MAX_IMAGES 64

struct ent {
	char *name;
	char *link;		/* hard or symbolic link: the archive path it names */
	int spool;		/* s<N>, -1 for links */
	uint64_t size;
	char hex[65];
};

struct layer_ref {
	char *path;		/* entry name */
	char digest[72];	/* "" when the format has none (legacy layer.tar) */
	int64_t size;		/* -1: unknown */
};

struct plan {
	char *cfg_path;
	char cfg_digest[72];
	int64_t cfg_size;
	char **tags;		/* normalised refs */
	int ntags;
	struct layer_ref *l;
	int nl;
	/* filled by prepare */
	struct buf cfg;
	char (*chain)[65];
};

struct load {
	struct ent *v;
	size_t n;
	struct stage st;
	struct plan p[MAX_IMAGES];
	int np;
	char os[32], arch[32], variant[32];
	struct buf seen;	/* platforms skipped, for the message */
	struct err *e;
};

/* Normalise an archive path: no "", "." or ".." components. NULL if it climbs out. */
static char *norm_path(const char *dir, size_t dlen, const char *p)
{
	struct buf b = { 0 };
	char *in = xasprintf("%.*s/%s", (int)dlen, dir, p), *save = NULL;
	for (char *c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			char *s = b.len ? memrchr(b.p, '/', b.len) : NULL;
			if (!b.len) {
				free(in);
				buf_free(&b);
				return NULL;
			}
			b.len = s ? (size_t)(s - b.p) : 0;
			continue;
		}
		if (b.len)
			buf_add(&b, "/", 1);
		buf_puts(&b, c);
	}
	free(in);
	buf_add(&b, "", 1);
	return b.p;
}

static struct ent *find(struct load *L, const char *name)
{
	for (int hops = 0; hops < 8; hops++) {
		struct ent *f = NULL;
		for (size_t i = L->n; i-- > 0 && !f;)	/* the last entry of a name wins */
			if (!strcmp(L->v[i].name, name))
				f = &L->v[i];
		if (!f || !f->link)
			return f;
		name = f->link;
	}
	return NULL;
}

/* Pass 1. */
static int spool(struct load *L, int fd, const struct image_opts *o, unsigned char sum[32])
{
	/* the whole stream's hash (for the signature) in a second thread, each blob's here */
	struct fdsrc fs = { .fd = fd, .what = o->progress ? "reading archive" : NULL };
	struct hashq q = { .fs = &fs };
	struct tar_src src = { hashq_read, &q };
	struct tar_reader *tr = tar_reader_new(&src);
	struct tar_entry te;
	char io[65536];
	int r;
	if (!tr)
		return err_set(L->e, ENOMEM, "archive");
	hashq_start(&q);
	while ((r = tar_next(tr, &te, L->e)) == 1) {
		int reg = te.type == '0' || te.type == '7', lnk = te.type == '1' || te.type == '2';
		char *name = norm_path("", 0, te.path);
		if (!name || !*name || (!reg && !lnk) || L->n >= MAX_ENTRIES) {
			free(name);
			if (L->n >= MAX_ENTRIES)
				r = err_set(L->e, E2BIG, "archive: more than %d entries", MAX_ENTRIES);
			if (r < 0)
				break;
			continue;
		}
		L->v = xrealloc(L->v, (L->n + 1) * sizeof(*L->v));
		struct ent *en = &L->v[L->n++];
		*en = (struct ent){ .name = name, .spool = -1 };
		if (lnk) {
			const char *slash = strrchr(name, '/');
			en->link = te.type == '1' ? norm_path("", 0, te.linkpath) :
				   norm_path(name, slash ? (size_t)(slash - name) : 0, te.linkpath);
			if (!en->link)
				en->link = xstrdup("");
			continue;
		}
		char sp[32];
		struct sha256 bh;
		en->spool = (int)(L->n - 1);
		snprintf(sp, sizeof(sp), "s%d", en->spool);
		int out = openat(L->st.fd, sp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out < 0) {
			r = err_set(L->e, errno, "spool %s", sp);
			break;
		}
		sha256_init(&bh);
		ssize_t n;
		r = 0;
		while ((n = tar_read(tr, io, sizeof(io))) > 0 && !(r = write_all(out, io, n))) {
			sha256_update(&bh, io, n);
			en->size += n;
		}
		close(out);
		sha256_hex(&bh, en->hex);
		if (n < 0 || r) {
			r = err_set(L->e, n < 0 ? (int)-n : -r, "%s", name);
			break;
		}
	}
	tar_reader_free(tr);
	ssize_t n = 0;
	while (r >= 0 && (n = hashq_read(&q, io, sizeof(io))) > 0)	/* the signature covers every byte */
		;
	hashq_end(&q, sum);
	if (r < 0)
		return err_wrap(L->e, "archive");
	if (n < 0)
		return err_set(L->e, (int)-n, "read archive");
	fdsrc_done(&fs);
	return 0;
}

static int read_ent(struct load *L, const struct ent *en, struct buf *b)
{
	char sp[32];
	snprintf(sp, sizeof(sp), "s%d", en->spool);
	buf_free(b);
	int r = read_file_at(L->st.fd, sp, CONFIG_MAX, b);
	return r ? err_set(L->e, -r, "archive: %s", en->name) : 0;
}

static int parse_ent(struct load *L, const struct ent *en, struct json **j)
{
	struct buf b = { 0 };
	int r = read_ent(L, en, &b);
	if (!r && (r = json_parse(b.p, b.len, j, L->e)))
		err_wrap(L->e, "archive: %s", en->name);
	buf_free(&b);
	return r;
}

/* The entry at path, present, and (when d is not "") hashing to d with size bytes (-1: any). */
static struct ent *checked(struct load *L, const char *path, const char *d, int64_t size)
{
	struct ent *en = find(L, path);
	if (!en || en->spool < 0)
		err_set(L->e, ENOENT, "%s is missing from the archive", path);
	else if (d[0] && !digest_eq(en->hex, d))
		err_set(L->e, EBADMSG, "%s: content does not match its digest (got sha256:%.12s)", path, en->hex);
	else if (size >= 0 && en->size != (uint64_t)size)
		err_set(L->e, EBADMSG, "%s: %llu bytes, the manifest says %lld", path,
			(unsigned long long)en->size, (long long)size);
	else
		return en;
	return NULL;
}

/* The blob of digest d. */
static struct ent *blob(struct load *L, const char *d, int64_t size)
{
	char p[96];
	if (!digest_valid(d)) {
		err_set(L->e, EINVAL, "invalid digest \"%.80s\"", d ? d : "(none)");
		return NULL;
	}
	snprintf(p, sizeof(p), "blobs/sha256/%s", d + 7);
	return checked(L, p, d, size);
}

/* A path from manifest.json: relative, inside the archive. */
static int path_ok(struct load *L, const char *p)
{
	if (!p || !*p)
		return err_set(L->e, EINVAL, "manifest.json: a Config or layer path is missing");
	char *n = *p != '/' ? norm_path("", 0, p) : NULL;
	int ok = n && *n;
	free(n);
	return ok ? 0 : err_set(L->e, EINVAL, "manifest.json: path \"%.100s\" escapes the archive", p ? p : "");
}

/* "blobs/sha256/<hex>" or "<hex>.json" name their digest. */
static void digest_of_path(const char *p, char out[72])
{
	const char *b = strrchr(p, '/');
	b = b ? b + 1 : p;
	out[0] = 0;
	if (strlen(b) >= 64 && is_hex(b, 64) && (!b[64] || !strcmp(b + 64, ".json")))
		snprintf(out, 72, "sha256:%.64s", b);
}

static int add_tag(struct load *L, struct plan *p, const char *ref)
{
	char norm[400];
	/* docker's default registry is implied, as docker images shows it */
	if (!strncmp(ref, "docker.io/", 10))
		ref += !strncmp(ref, "docker.io/library/", 18) ? 18 : 10;
	if (image_ref_norm(ref, norm, sizeof(norm)))
		return err_set(L->e, EINVAL, "archive: invalid image name \"%.100s\"", ref);
	p->tags = xrealloc(p->tags, (p->ntags + 2) * sizeof(char *));
	p->tags[p->ntags++] = xstrdup(norm);
	p->tags[p->ntags] = NULL;
	return 0;
}

static struct plan *new_plan(struct load *L)
{
	if (L->np >= MAX_IMAGES) {
		err_set(L->e, E2BIG, "archive: more than %d images", MAX_IMAGES);
		return NULL;
	}
	struct plan *p = &L->p[L->np++];
	memset(p, 0, sizeof(*p));
	p->cfg_size = -1;
	return p;
}

static int plan_docker(struct load *L, const struct json *m)
{
	if (m->type != JSON_ARRAY || !m->n)
		return err_set(L->e, EINVAL, "manifest.json: not a list of images");
	for (const struct json *im = m->child; im; im = im->next) {
		const char *cfg = json_get_str(im, "Config");
		const struct json *layers = json_get(im, "Layers"), *tags = json_get(im, "RepoTags");
		struct plan *p = new_plan(L);
		if (!p || path_ok(L, cfg))
			return -L->e->no;
		if (!layers || layers->type != JSON_ARRAY)
			return err_set(L->e, EINVAL, "manifest.json: no Layers");
		p->cfg_path = xstrdup(cfg);
		digest_of_path(cfg, p->cfg_digest);
		p->l = xcalloc(layers->n + 1, sizeof(*p->l));
		for (const struct json *l = layers->child; l; l = l->next) {
			if (l->type != JSON_STRING || path_ok(L, l->s))
				return l->type == JSON_STRING ? -L->e->no :
				       err_set(L->e, EINVAL, "manifest.json: bad layer");
			struct layer_ref *lr = &p->l[p->nl++];
			lr->path = xstrdup(l->s);
			lr->size = -1;
			if (!strncmp(l->s, "blobs/", 6)) {
				digest_of_path(l->s, lr->digest);
				if (!lr->digest[0])
					return err_set(L->e, EINVAL, "manifest.json: invalid digest in \"%.100s\"", l->s);
			}
		}
		for (const struct json *t = tags && tags->type == JSON_ARRAY ? tags->child : NULL; t; t = t->next)
			if (t->type == JSON_STRING && add_tag(L, p, t->s))
				return -L->e->no;
	}
	return 0;
}

static int platform_ok(struct load *L, const char *os, const char *arch, const char *variant)
{
	return (!os || !strcmp(os, L->os)) && arch && !strcmp(arch, L->arch) &&
	       (!L->variant[0] || !variant || !strcmp(variant, L->variant));
}

static int plan_manifest(struct load *L, const struct json *d, const char *name)
{
	struct json *m;
	struct ent *en = blob(L, json_get_str(d, "digest"), json_get_int(d, "size", -1));
	if (!en || parse_ent(L, en, &m))
		return -L->e->no;
	const struct json *c = json_get(m, "config"), *layers = json_get(m, "layers");
	struct plan *p = new_plan(L);
	int r = 0;
	if (!p)
		r = -L->e->no;
	else if (!c || !layers || layers->type != JSON_ARRAY || !digest_valid(json_get_str(c, "digest")))
		r = err_set(L->e, EINVAL, "manifest %.19s: no config or layers", en->name + 13);
	if (!r) {
		p->cfg_path = xasprintf("blobs/sha256/%s", json_get_str(c, "digest") + 7);
		snprintf(p->cfg_digest, sizeof(p->cfg_digest), "%s", json_get_str(c, "digest"));
		p->cfg_size = json_get_int(c, "size", -1);
		p->l = xcalloc(layers->n + 1, sizeof(*p->l));
	}
	for (const struct json *l = r ? NULL : layers->child; l && !r; l = l->next) {
		const char *d2 = json_get_str(l, "digest"), *mt = json_get_str(l, "mediaType");
		struct layer_ref *lr = &p->l[p->nl++];
		if (mt && strstr(mt, "zstd"))
			r = err_set(L->e, ENOTSUP, "layer %.19s: zstd-compressed layers are not supported",
				    d2 ? d2 : "");
		else if (!digest_valid(d2))
			r = err_set(L->e, EINVAL, "invalid digest \"%.80s\"", d2 ? d2 : "(none)");
		else {
			lr->path = xasprintf("blobs/sha256/%s", d2 + 7);
			snprintf(lr->digest, sizeof(lr->digest), "%s", d2);
			lr->size = json_get_int(l, "size", -1);
		}
	}
	if (!r && name)
		r = add_tag(L, p, name);
	json_free(m);
	return r;
}

/* The image name a descriptor carries: a full reference, or only a tag (then nothing). */
static const char *desc_name(const struct json *d, const char *inherited)
{
	const struct json *a = json_get(d, "annotations");
	const char *n = json_get_str(a, "io.containerd.image.name");
	const char *ref = json_get_str(a, "org.opencontainers.image.ref.name");
	if (n)
		return n;
	if (ref && (strchr(ref, ':') || strchr(ref, '/')))
		return ref;
	return inherited;
}

static int plan_index(struct load *L, const struct json *idx, const char *name, int depth)
{
	const struct json *ms = json_get(idx, "manifests");
	int picked = 0;
	if (depth > 4)
		return err_set(L->e, ELOOP, "index.json: indexes nested too deep");
	if (!ms || ms->type != JSON_ARRAY)
		return err_set(L->e, EINVAL, "index: no manifests");
	for (const struct json *d = ms->child; d; d = d->next) {
		const char *mt = json_get_str(d, "mediaType"), *dn = desc_name(d, name);
		const struct json *pf = json_get(d, "platform");
		if (!digest_valid(json_get_str(d, "digest")))
			return err_set(L->e, EINVAL, "invalid digest \"%.80s\"",
				       json_get_str(d, "digest") ? json_get_str(d, "digest") : "(none)");
		if (mt && (strstr(mt, "image.index") || strstr(mt, "manifest.list"))) {
			struct json *sub;
			struct ent *en = blob(L, json_get_str(d, "digest"), json_get_int(d, "size", -1));
			if (!en || parse_ent(L, en, &sub))
				return -L->e->no;
			int r = plan_index(L, sub, dn, depth + 1);
			json_free(sub);
			if (r)
				return r;
			continue;
		}
		if (pf && !platform_ok(L, json_get_str(pf, "os"), json_get_str(pf, "architecture"),
				       json_get_str(pf, "variant"))) {
			buf_printf(&L->seen, " %s/%s", json_get_str(pf, "os") ?: "?",
				   json_get_str(pf, "architecture") ?: "?");
			continue;
		}
		if (picked && pf)	/* one image per platform list */
			continue;
		int r = plan_manifest(L, d, dn);
		if (r)
			return r;
		picked = 1;
	}
	return 0;
}

static int plan(struct load *L)
{
	struct json *j;
	struct ent *m = find(L, "manifest.json"), *idx = find(L, "index.json");
	int r;
	if (m && m->spool >= 0) {
		if (parse_ent(L, m, &j))
			return -L->e->no;
		r = plan_docker(L, j);
	} else if (idx && idx->spool >= 0) {
		if (parse_ent(L, idx, &j))
			return -L->e->no;
		r = plan_index(L, j, NULL, 0);
	} else {
		return err_set(L->e, EINVAL, "not an image archive: no manifest.json or index.json "
				"(a root file system tarball? use import)");
	}
	json_free(j);
	if (!r && !L->np)
		r = err_set(L->e, ENOENT, "no image for %s/%s in the archive (it has:%s)", L->os, L->arch,
			    L->seen.len ? L->seen.p : " nothing");
	return r;
}

/* Check the config, unpack the layers this store lacks. */
static int prepare(struct load *L, struct plan *p, uint64_t max)
{
	struct json *cfg = NULL;
	struct ent *en = checked(L, p->cfg_path, p->cfg_digest, p->cfg_size);
	int r = 0;
	if (!en || read_ent(L, en, &p->cfg) || json_parse(p->cfg.p, p->cfg.len, &cfg, L->e))
		return -L->e->no;
	const char *os = json_get_str(cfg, "os"), *arch = json_get_str(cfg, "architecture");
	const struct json *rootfs = json_get(cfg, "rootfs");
	const struct json *ids = rootfs ? json_get(rootfs, "diff_ids") : NULL;
	if (!platform_ok(L, os, arch, json_get_str(cfg, "variant")))
		r = err_set(L->e, EINVAL, "image is for %s/%s, not %s/%s (use --platform to load it anyway)",
			    os ? os : "?", arch ? arch : "?", L->os, L->arch);
	else if (!ids || ids->type != JSON_ARRAY || (int)ids->n != p->nl || !p->nl)
		r = err_set(L->e, EINVAL, "image config lists %d layers, the manifest %d",
			    ids && ids->type == JSON_ARRAY ? (int)ids->n : 0, p->nl);
	p->chain = xcalloc(p->nl + 1, sizeof(*p->chain));
	const struct json *id = r ? NULL : ids->child;
	for (int i = 0; !r && i < p->nl; i++, id = id->next) {
		struct layer_info li;
		if (id->type != JSON_STRING || !digest_valid(id->s)) {
			r = err_set(L->e, EINVAL, "image config: invalid diff_id");
			break;
		}
		chain_next(i ? p->chain[i - 1] : NULL, id->s + 7, p->chain[i]);
		struct ent *le = checked(L, p->l[i].path, p->l[i].digest, p->l[i].size);
		if (!le) {
			r = -L->e->no;
			break;
		}
		char dir[80];
		snprintf(dir, sizeof(dir), "c%s", p->chain[i]);
		/* a layer the store (or this load) has already: blobs without a digest of their own
		 * (legacy layer.tar) are still checked against the diff_id, without unpacking */
		int have = layer_present(p->chain[i]) || faccessat(L->st.fd, dir, F_OK, 0) == 0;
		if (have && p->l[i].digest[0])
			continue;
		char sp[32];
		snprintf(sp, sizeof(sp), "s%d", le->spool);
		struct fdsrc fs = { .fd = openat(L->st.fd, sp, O_RDONLY | O_CLOEXEC) };
		struct tar_src src = { fdsrc_read, &fs };
		if (fs.fd < 0) {
			r = err_set(L->e, errno, "spool %s", sp);
			break;
		}
		r = layer_unpack(&src, L->st.fd, have ? NULL : dir, max, &li, L->e);
		close(fs.fd);
		if (r)
			r = err_wrap(L->e, "layer %d (%s)", i + 1, p->l[i].path);
		else if (!digest_eq(li.diff_id, id->s))
			r = err_set(L->e, EBADMSG, "layer %d (%s): content sha256:%.12s does not match the config's "
				    "diff_id %.19s", i + 1, p->l[i].path, li.diff_id, id->s);
		else if (!have)
			r = write_size(L->st.fd, dir, li.size, L->e);
	}
	json_free(cfg);
	return r;
}

/* Under the images lock: layers, configs, tags. */
static int publish(struct load *L, const struct image_opts *o, struct buf *out)
{
	struct err *e = L->e;
	int lock = state_lock("images", e), r = 0;
	if (lock < 0)
		return lock;
	sweep_tmp();
	for (int k = 0; k < L->np && !r; k++) {
		struct plan *p = &L->p[k];
		char id[65], dir[80];
		for (int i = 0; i < p->nl && !r; i++) {
			snprintf(dir, sizeof(dir), "c%s", p->chain[i]);
			if (faccessat(L->st.fd, dir, F_OK, 0) == 0 || !layer_present(p->chain[i]))
				r = store_layer(&L->st, dir, p->chain[i], e);
			r = r > 0 ? 0 : r;
		}
		if (r || (r = store_config(p->cfg.p, p->cfg.len, id, e)))
			break;
		for (int t = 0; t < p->ntags && !r; t++)
			if (!(r = store_tag(p->tags[t], id, e)))
				buf_printf(out, "Loaded image: %s\n", p->tags[t]);
		if (!r && o->tag) {
			char norm[400];
			image_ref_norm(o->tag, norm, sizeof(norm));
			if (!(r = store_tag(norm, id, e)))
				buf_printf(out, "Loaded image: %s\n", norm);
		}
		if (!r && !p->ntags && !o->tag)
			buf_printf(out, "Loaded image ID: sha256:%s\n", id);
	}
	close(lock);
	return r;
}

static int set_platform(struct load *L, const char *pf)
{
	snprintf(L->os, sizeof(L->os), "linux");
	snprintf(L->arch, sizeof(L->arch), "%s", go_arch());
	if (!strncmp(L->arch, "armv", 4)) {	/* armv7l: arm/v7 */
		snprintf(L->variant, sizeof(L->variant), "v%c", L->arch[4]);
		snprintf(L->arch, sizeof(L->arch), "arm");
	}
	if (!pf)
		return 0;
	L->variant[0] = 0;
	char tmp[32], *f[4] = { 0 }, *save = NULL;
	int n = 0;
	snprintf(tmp, sizeof(tmp), "%s", pf);
	for (char *c = strtok_r(tmp, "/", &save); c && n < 4; c = strtok_r(NULL, "/", &save))
		f[n++] = c;
	if (!n || n > 3 || strlen(pf) >= sizeof(tmp))
		return err_set(L->e, EINVAL, "invalid --platform \"%s\": want [os/]arch[/variant]", pf);
	int has_os = n >= 2 && (!strcmp(f[0], "linux") || !strcmp(f[0], "windows") || !strcmp(f[0], "darwin"));
	if (has_os)
		snprintf(L->os, sizeof(L->os), "%s", f[0]);
	snprintf(L->arch, sizeof(L->arch), "%s", f[has_os]);
	if (n > 1 + has_os)
		snprintf(L->variant, sizeof(L->variant), "%s", f[1 + has_os]);
	return 0;
}

int image_load(int fd, const struct image_opts *o, struct buf *out, struct err *e)
{
	struct load *L = xcalloc(1, sizeof(*L));
	unsigned char sum[32];
	char norm[400];
	int r;
	L->e = e;
	L->st.fd = -1;
	if (o->tag && image_ref_norm(o->tag, norm, sizeof(norm)))
		r = err_set(e, EINVAL, "invalid reference format \"%s\"", o->tag);
	else if (!(r = set_platform(L, o->platform)) && !(r = stage_new(&L->st, e)) &&
		 !(r = spool(L, fd, o, sum)) && !(r = sig_check(o, sum, e)) && !(r = plan(L))) {
		uint64_t max = layer_limit();
		for (int k = 0; k < L->np && !r; k++)
			r = prepare(L, &L->p[k], max);
		if (!r)
			r = publish(L, o, out);
	}
	stage_drop(&L->st);
	for (size_t i = 0; i < L->n; i++) {
		free(L->v[i].name);
		free(L->v[i].link);
	}
	free(L->v);
	for (int k = 0; k < L->np; k++) {
		struct plan *p = &L->p[k];
		for (int i = 0; i < p->nl; i++)
			free(p->l[i].path);
		free(p->l);
		strv_free(p->tags);
		free(p->cfg_path);
		buf_free(&p->cfg);
		free(p->chain);
	}
	buf_free(&L->seen);
	free(L);
	return r;
}
