/* image: the content-addressed image store (layout in image.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include "digest.h"
#include "image.h"
#include "json.h"
#include "state.h"
#include "tar.h"

#define REPOS "repositories.json"

static void images_path(char *out, size_t n, const char *sub)
{
	snprintf(out, n, "%s/images%s%s", state_root(), sub ? "/" : "", sub ? sub : "");
}

/* "name[:tag]" -> "name:tag". Name: lowercase path components [a-z0-9._-] separated by '/',
 * optionally a registry host[:port] first; tag [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
int image_ref_norm(const char *ref, char *out, size_t outsz)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');
	size_t nlen = colon ? (size_t)(colon - ref) : strlen(ref);
	const char *tag = colon ? colon + 1 : "latest";
	size_t tlen = strlen(tag);

	if (nlen == 0 || nlen > 255 || tlen == 0 || tlen > 128)
		return -EINVAL;
	for (size_t i = 0; i < nlen; i++) {
		char c = ref[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			 (i > 0 && (c == '.' || c == '_' || c == '-' || c == '/' || c == ':'));
		if (!ok || (c == '/' && (ref[i - 1] == '/' || i + 1 == nlen)))
			return -EINVAL;
		if (c == '.' && ref[i - 1] == '.')
			return -EINVAL;
	}
	for (size_t i = 0; i < tlen; i++) {
		char c = tag[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '_' || (i > 0 && (c == '.' || c == '-'));
		if (!ok)
			return -EINVAL;
	}
	if (nlen + 1 + tlen + 1 > outsz)
		return -ENAMETOOLONG;
	snprintf(out, outsz, "%.*s:%s", (int)nlen, ref, tag);
	return 0;
}

/* Load repositories.json (missing = empty object). */
static int repos_load(struct json **out, struct err *e)
{
	char p[4096];
	struct buf b = { 0 };
	images_path(p, sizeof(p), REPOS);
	int r = read_file_at(AT_FDCWD, p, 16u << 20, &b);
	if (r == -ENOENT) {
		buf_free(&b);
		return json_parse("{}", 2, out, e);
	}
	if (r) {
		buf_free(&b);
		return err_set(e, -r, "read %s", p);
	}
	r = json_parse(b.p, b.len, out, e);
	buf_free(&b);
	if (r)
		return err_wrap(e, "%s", p);
	if ((*out)->type != JSON_OBJECT) {
		json_free(*out);
		return err_set(e, EINVAL, "%s: not an object", p);
	}
	return 0;
}

/* Write repositories.json: root's members, with key `set` set to `id` (NULL: removed), minus `drop`. */
static int repos_save(const struct json *root, const char *set, const char *id, struct err *e)
{
	struct buf b = { 0 };
	struct jw w;
	char dir[4096];
	jw_init(&w, &b, 1);
	jw_obj(&w);
	for (const struct json *m = root->child; m; m = m->next) {
		if (m->type != JSON_STRING || (set && !strcmp(m->key, set)))
			continue;
		jw_kstr(&w, m->key, m->s);
	}
	if (set && id) {
		char v[80];
		snprintf(v, sizeof(v), "sha256:%s", id);
		jw_kstr(&w, set, v);
	}
	jw_end_obj(&w);
	buf_puts(&b, "\n");
	if (jw_done(&w)) {
		buf_free(&b);
		return err_set(e, ENOMEM, "repositories");
	}
	images_path(dir, sizeof(dir), NULL);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		buf_free(&b);
		return err_set(e, errno, "open %s", dir);
	}
	int r = state_write_atomic(fd, REPOS, b.p, b.len, e);
	close(fd);
	buf_free(&b);
	return r;
}

static int load_config(const char *id, struct json **out, struct err *e)
{
	char p[4096], sub[128];
	struct buf b = { 0 };
	snprintf(sub, sizeof(sub), "configs/%s.json", id);
	images_path(p, sizeof(p), sub);
	int r = read_file_at(AT_FDCWD, p, 16u << 20, &b);
	if (r) {
		buf_free(&b);
		return err_set(e, -r, "image %.12s: read config", id);
	}
	r = json_parse(b.p, b.len, out, e);
	buf_free(&b);
	return r ? err_wrap(e, "image %.12s: config", id) : 0;
}

/* Find the image ID for ref: name[:tag], sha256:HEX, HEX, or a unique HEX prefix. */
static int resolve_id(const char *ref, char *id, struct err *e)
{
	const char *hex = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;
	size_t n = strlen(hex);
	char norm[400];

	if (n >= 1 && n <= 64 && is_hex(hex, n)) {
		char dir[4096];
		int found = 0;
		images_path(dir, sizeof(dir), "configs");
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (strlen(de->d_name) != 69 || strcmp(de->d_name + 64, ".json") ||
			    strncmp(de->d_name, hex, n) || !is_hex(de->d_name, 64))
				continue;
			if (found++) {
				closedir(d);
				return err_set(e, EEXIST, "image ID prefix %s is ambiguous", hex);
			}
			memcpy(id, de->d_name, 64);
			id[64] = 0;
		}
		if (d)
			closedir(d);
		if (found)
			return 0;
		if (hex != ref || n == 64)
			return err_set(e, ENOENT, "No such image: %s", ref);
	}
	if (image_ref_norm(ref, norm, sizeof(norm)))
		return err_set(e, EINVAL, "invalid reference format \"%s\"", ref);
	struct json *repos;
	if (repos_load(&repos, e))
		return -e->no;
	const char *v = json_get_str(repos, norm);
	int r = 0;
	if (!v || strncmp(v, "sha256:", 7) || strlen(v) != 71 || !is_hex(v + 7, 64))
		r = err_set(e, ENOENT, "No such image: %s", ref);
	else
		memcpy(id, v + 7, 65);
	json_free(repos);
	return r;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static uint64_t layer_size(const char *hex)
{
	char p[4096], sub[128];
	struct buf b = { 0 };
	snprintf(sub, sizeof(sub), "layers/%s/size", hex);
	images_path(p, sizeof(p), sub);
	uint64_t n = read_file_at(AT_FDCWD, p, 64, &b) ? 0 : strtoull(b.p, NULL, 10);
	buf_free(&b);
	return n;
}

int image_resolve(const char *ref, struct image *img, struct err *e)
{
	struct json *cfg;
	memset(img, 0, sizeof(*img));
	if (resolve_id(ref, img->id, e) || load_config(img->id, &cfg, e))
		return -e->no;
	const struct json *rootfs = json_get(cfg, "rootfs");
	const struct json *ids = rootfs ? json_get(rootfs, "diff_ids") : NULL;
	const struct json *c = json_get(cfg, "config");
	int r = 0;

	if (!ids || ids->type != JSON_ARRAY || ids->n == 0) {
		r = err_set(e, EINVAL, "image %.12s: config has no layers", img->id);
		goto out;
	}
	img->layers = calloc(ids->n + 1, sizeof(char *));
	for (const struct json *l = ids->child; l && img->layers; l = l->next) {
		if (l->type != JSON_STRING || strncmp(l->s, "sha256:", 7) || strlen(l->s) != 71 ||
		    !is_hex(l->s + 7, 64)) {
			r = err_set(e, EINVAL, "image %.12s: bad layer digest", img->id);
			goto out;
		}
		img->layers[img->nlayers++] = xasprintf("%s/images/layers/%s/diff", state_root(), l->s + 7);
		img->size += layer_size(l->s + 7);
	}
	if (c && c->type == JSON_OBJECT) {
		img->env = json_strv(json_get(c, "Env"));
		img->cmd = json_strv(json_get(c, "Cmd"));
		img->entrypoint = json_strv(json_get(c, "Entrypoint"));
		img->workdir = dup_or_null(json_get_str(c, "WorkingDir"));
		img->user = dup_or_null(json_get_str(c, "User"));
		img->stop_signal = dup_or_null(json_get_str(c, "StopSignal"));
	}
	img->arch = dup_or_null(json_get_str(cfg, "architecture"));
	const char *created = json_get_str(cfg, "created");
	if (created)
		parse_time(created, &img->created);
out:
	json_free(cfg);
	if (r)
		image_free(img);
	return r;
}

void image_free(struct image *img)
{
	for (int i = 0; img->layers && i < img->nlayers; i++)
		free(img->layers[i]);
	free(img->layers);
	strv_free(img->env);
	strv_free(img->cmd);
	strv_free(img->entrypoint);
	free(img->workdir);
	free(img->user);
	free(img->stop_signal);
	free(img->arch);
	memset(img, 0, sizeof(*img));
}

/* --- import --------------------------------------------------------------- */

struct hashsrc {
	int fd;
	struct sha256 h;
	uint64_t n;
	int progress;
	int64_t t0, last;
};

static void show_progress(struct hashsrc *s, int final)
{
	int64_t t = now_ns();
	if (!final && t - s->last < 200000000)
		return;
	s->last = t;
	double secs = (t - s->t0) / 1e9;
	fprintf(stderr, "\rimporting: %.1f MB (%.1f MB/s)%s", s->n / 1e6,
		secs > 0 ? s->n / 1e6 / secs : 0.0, final ? "\n" : "");
}

static ssize_t hash_read(void *ctx, void *p, size_t n)
{
	struct hashsrc *s = ctx;
	ssize_t r;
	do
		r = read(s->fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	sha256_update(&s->h, p, r);
	s->n += r;
	if (s->progress)
		show_progress(s, 0);
	return r;
}

/* Remove leftovers of imports whose process is gone (killed half-way). Caller holds the images lock. */
static void sweep_tmp(void)
{
	char dir[4096];
	images_path(dir, sizeof(dir), "tmp");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		long pid = strtol(de->d_name, NULL, 10);
		if (de->d_name[0] == '.' || (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)))
			continue;
		rm_rf_at(dfd, de->d_name);
	}
	if (d)
		closedir(d);
	else
		close(dfd);
}

/* An existing image whose only layer is diff_id (re-import of the same content). */
static int find_import(const char *diff_id, char *id)
{
	char dir[4096];
	images_path(dir, sizeof(dir), "configs");
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;
	while (d && !found && (de = readdir(d))) {
		struct json *cfg;
		struct err e;
		if (strlen(de->d_name) != 69 || !is_hex(de->d_name, 64))
			continue;
		memcpy(id, de->d_name, 64);
		id[64] = 0;
		if (load_config(id, &cfg, &e))
			continue;
		const struct json *rootfs = json_get(cfg, "rootfs");
		const struct json *ids = rootfs ? json_get(rootfs, "diff_ids") : NULL;
		found = ids && ids->type == JSON_ARRAY && ids->n == 1 && ids->child->type == JSON_STRING &&
			!strcmp(ids->child->s + 7, diff_id) && json_get_str(cfg, "comment") &&
			!strcmp(json_get_str(cfg, "comment"), "imported");
		json_free(cfg);
	}
	if (d)
		closedir(d);
	return found;
}

static const char *go_arch(void)
{
	static struct utsname u;
	uname(&u);
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return u.machine;
}

/* Write configs/<id>.json for a single-layer imported image; id_out = its digest. */
static int write_import_config(const char *diff_id, char *id_out, struct err *e)
{
	struct buf b = { 0 };
	struct jw w;
	char t[40], dir[4096];
	fmt_time(now_ns(), t);
	jw_init(&w, &b, 0);
	jw_obj(&w);
	jw_kstr(&w, "architecture", go_arch());
	jw_kstr(&w, "os", "linux");
	jw_kstr(&w, "created", t);
	jw_kstr(&w, "comment", "imported");
	jw_key(&w, "config");
	jw_obj(&w);
	jw_end_obj(&w);
	jw_key(&w, "rootfs");
	jw_obj(&w);
	jw_kstr(&w, "type", "layers");
	jw_key(&w, "diff_ids");
	jw_arr(&w);
	char v[80];
	snprintf(v, sizeof(v), "sha256:%s", diff_id);
	jw_str(&w, v);
	jw_end_arr(&w);
	jw_end_obj(&w);
	jw_key(&w, "history");
	jw_arr(&w);
	jw_obj(&w);
	jw_kstr(&w, "created", t);
	jw_kstr(&w, "created_by", "mydocker import");
	jw_end_obj(&w);
	jw_end_arr(&w);
	jw_end_obj(&w);
	if (jw_done(&w)) {
		buf_free(&b);
		return err_set(e, ENOMEM, "image config");
	}
	sha256_buf_hex(b.p, b.len, id_out);
	char name[80];
	snprintf(name, sizeof(name), "%s.json", id_out);
	images_path(dir, sizeof(dir), "configs");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd < 0 ? err_set(e, errno, "open %s", dir) : state_write_atomic(fd, name, b.p, b.len, e);
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return r;
}

/* Unpack the tarball into tmpdir/diff while hashing every byte of it; digest into hex. */
static int unpack_hashed(int fd, int tmpfd, int progress, char *hex, uint64_t *size, struct err *e)
{
	struct hashsrc hs = { .fd = fd, .progress = progress, .t0 = now_ns() };
	struct tar_src src = { hash_read, &hs };
	char drain[65536];
	ssize_t n;

	sha256_init(&hs.h);
	if (mkdirat(tmpfd, "diff", 0755))
		return err_set(e, errno, "create layer directory");
	int dfd = openat(tmpfd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return err_set(e, errno, "open layer directory");
	int r = tar_extract(&src, dfd, getuid() == 0 ? TAR_X_OWNER : 0, e);
	close(dfd);
	if (r)
		return r;
	/* The digest covers the whole file, including any padding after the end-of-archive marker. */
	while ((n = hash_read(&hs, drain, sizeof(drain))) > 0)
		;
	if (n < 0)
		return err_set(e, -n, "read");
	if (progress)
		show_progress(&hs, 1);
	sha256_hex(&hs.h, hex);
	*size = hs.n;
	return 0;
}

int image_import(int fd, const char *ref, const char *want, int progress, char *id_out, struct err *e)
{
	char norm[400], tmpname[64], hex[65], tmpdir[4096], layer[4096], sub[128];
	uint64_t size = 0;
	int r, lock = -1, tmpfd = -1;

	if (image_ref_norm(ref, norm, sizeof(norm)))
		return err_set(e, EINVAL, "invalid reference format \"%s\"", ref);
	if (want && (!strncmp(want, "sha256:", 7) ? (want += 7, 0) : 0, strlen(want) != 64 || !is_hex(want, 64)))
		return err_set(e, EINVAL, "invalid --sha256 \"%s\": want 64 lowercase hex digits", want);
	if (state_init(e))
		return -e->no;

	/* Unpack into tmp/<pid>-<rand>: a killed import leaves only that, swept by the next one. */
	snprintf(tmpname, sizeof(tmpname), "%d-%lx", (int)getpid(), (unsigned long)now_ns());
	images_path(tmpdir, sizeof(tmpdir), "tmp");
	size_t tl = strlen(tmpdir);
	snprintf(tmpdir + tl, sizeof(tmpdir) - tl, "/%s", tmpname);
	if (mkdir(tmpdir, 0700))
		return err_set(e, errno, "create %s", tmpdir);
	tmpfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmpfd < 0) {
		r = err_set(e, errno, "open %s", tmpdir);
		goto fail;
	}
	if ((r = unpack_hashed(fd, tmpfd, progress, hex, &size, e)))
		goto fail;
	if (want && !digest_eq(want, hex)) {
		r = err_set(e, EINVAL, "digest mismatch: expected sha256:%s, got sha256:%s", want, hex);
		goto fail;
	}
	char sz[32];
	int n = snprintf(sz, sizeof(sz), "%llu\n", (unsigned long long)size);
	if ((r = state_write_atomic(tmpfd, "size", sz, n, e)))
		goto fail;

	/* Publish: layer by rename (atomic), config, then the tag — all under the images lock. */
	if ((lock = state_lock("images", e)) < 0) {
		r = lock;
		goto fail;
	}
	sweep_tmp();
	snprintf(sub, sizeof(sub), "layers/%s", hex);
	images_path(layer, sizeof(layer), sub);
	if (rename(tmpdir, layer) && errno != EEXIST && errno != ENOTEMPTY) {
		r = err_set(e, errno, "store layer %s", hex);
		goto fail;
	}
	fsync(tmpfd);
	if (!find_import(hex, id_out) && (r = write_import_config(hex, id_out, e)))
		goto fail;
	struct json *repos;
	if ((r = repos_load(&repos, e)))
		goto fail;
	r = repos_save(repos, norm, id_out, e);
	json_free(repos);
fail:
	if (tmpfd >= 0)
		close(tmpfd);
	if (access(tmpdir, F_OK) == 0)
		rm_rf(tmpdir);
	if (lock >= 0)
		close(lock);
	return r;
}
