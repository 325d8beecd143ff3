/* image: the content-addressed image store (layout in image.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/statvfs.h>
#include "imgstore.h"
#include "state.h"

#define REPOS "repositories.json"

void images_path(char *out, size_t n, const char *sub)
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
	int fd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

int digest_valid(const char *d)
{
	return d && !strncmp(d, "sha256:", 7) && strlen(d) == 71 && is_hex(d + 7, 64);
}

void chain_next(const char *parent, const char *diff_id, char out[65])
{
	if (!parent) {
		memcpy(out, diff_id, 65);
		return;
	}
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, "sha256:", 7);
	sha256_update(&h, parent, 64);
	sha256_update(&h, " sha256:", 8);
	sha256_update(&h, diff_id, 64);
	sha256_hex(&h, out);
}

/* The lowerdir entry of a layer: its short link if there is one, else the long path. */
static char *layer_path(const char *chain)
{
	char p[4096], t[256];
	snprintf(p, sizeof(p), "%s/images/l/%.*s", state_root(), LINK_LEN, chain);
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	if (n > 0 && (t[n] = 0, strstr(t, chain)))
		return xstrdup(p);
	return xasprintf("%s/images/layers/%s/diff", state_root(), chain);
}

static char **json_keys(const struct json *o)
{
	if (!o || o->type != JSON_OBJECT)
		return NULL;
	char **v = xcalloc(o->n + 1, sizeof(char *));
	size_t i = 0;
	for (const struct json *m = o->child; m; m = m->next)
		v[i++] = xstrdup(m->key);
	return v;
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
	img->layers = xcalloc(ids->n + 1, sizeof(char *));
	img->chain = xcalloc(ids->n + 1, sizeof(char *));
	img->layer_dir = xasprintf("%s/images/l", state_root());
	for (const struct json *l = ids->child; l; l = l->next) {
		if (l->type != JSON_STRING || !digest_valid(l->s)) {
			r = err_set(e, EINVAL, "image %.12s: bad layer digest", img->id);
			goto out;
		}
		char ch[65];
		chain_next(img->nlayers ? img->chain[img->nlayers - 1] : NULL, l->s + 7, ch);
		img->chain[img->nlayers] = xstrdup(ch);
		img->layers[img->nlayers++] = layer_path(ch);
		img->size += layer_size(ch);
	}
	if (c && c->type == JSON_OBJECT) {
		img->env = json_strv(json_get(c, "Env"));
		img->cmd = json_strv(json_get(c, "Cmd"));
		img->entrypoint = json_strv(json_get(c, "Entrypoint"));
		img->workdir = dup_or_null(json_get_str(c, "WorkingDir"));
		img->user = dup_or_null(json_get_str(c, "User"));
		img->stop_signal = dup_or_null(json_get_str(c, "StopSignal"));
		img->exposed_ports = json_keys(json_get(c, "ExposedPorts"));
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
	strv_free(img->chain);
	free(img->layer_dir);
	strv_free(img->exposed_ports);
	strv_free(img->env);
	strv_free(img->cmd);
	strv_free(img->entrypoint);
	free(img->workdir);
	free(img->user);
	free(img->stop_signal);
	free(img->arch);
	memset(img, 0, sizeof(*img));
}

/* --- the store ---------------------------------------------------------------- */

int config_read(const char *id, struct buf *b, struct err *e)
{
	char p[4096], sub[128];
	snprintf(sub, sizeof(sub), "configs/%s.json", id);
	images_path(p, sizeof(p), sub);
	int r = read_file_at(AT_FDCWD, p, CONFIG_MAX, b);
	return r ? err_set(e, -r, "image %.12s: read config", id) : 0;
}

int stage_new(struct stage *s, struct err *e)
{
	char dir[4096];
	s->fd = -1;
	if (state_init(e))
		return -e->no;
	images_path(dir, sizeof(dir), "tmp");
	snprintf(s->path, sizeof(s->path), "%s/%d-%lx", dir, (int)getpid(), (unsigned long)now_ns());
	if (mkdir(s->path, 0700))
		return err_set(e, errno, "create %s", s->path);
	s->fd = openat(AT_FDCWD, s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->fd < 0) {
		int r = err_set(e, errno, "open %s", s->path);
		rmdir(s->path);
		return r;
	}
	return 0;
}

void stage_drop(struct stage *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->path[0] && access(s->path, F_OK) == 0)
		rm_rf(s->path);
	s->path[0] = 0;
}

int write_size(int dirfd, const char *dir, uint64_t n, struct err *e)
{
	char sz[32], f[300];
	snprintf(sz, sizeof(sz), "%llu\n", (unsigned long long)n);
	snprintf(f, sizeof(f), "%s/size", dir);
	int fd = openat(dirfd, f, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	int r = fd < 0 || write_all(fd, sz, strlen(sz)) ? err_set(e, errno, "write %s", f) : 0;
	if (fd >= 0)
		close(fd);
	return r;
}

int layer_present(const char *chain)
{
	char p[4096], sub[128];
	snprintf(sub, sizeof(sub), "layers/%s/diff", chain);
	images_path(p, sizeof(p), sub);
	return access(p, F_OK) == 0;
}

static int make_link(const char *chain, struct err *e)
{
	char dir[4096], name[LINK_LEN + 1], want[128], got[256];
	images_path(dir, sizeof(dir), "l");
	if (mkdir(dir, 0700) && errno != EEXIST)
		return err_set(e, errno, "create %s", dir);
	snprintf(name, sizeof(name), "%.*s", LINK_LEN, chain);
	snprintf(want, sizeof(want), "../layers/%s/diff", chain);
	int dfd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_set(e, errno, "open %s", dir);
	int r = 0;
	ssize_t n = readlinkat(dfd, name, got, sizeof(got) - 1);
	if (n >= 0 && (got[n] = 0, strcmp(got, want)))
		r = err_set(e, EEXIST, "layer link %s: taken by %s", name, got);
	else if (n < 0 && symlinkat(want, dfd, name))
		r = err_set(e, errno, "layer link %s", name);
	close(dfd);
	return r;
}

int store_layer(struct stage *s, const char *name, const char *chain, struct err *e)
{
	char from[4096], to[4096], sub[128];
	snprintf(from, sizeof(from), "%s/%s", s->path, name);
	snprintf(sub, sizeof(sub), "layers/%s", chain);
	images_path(to, sizeof(to), sub);
	int had = 0;
	if (rename(from, to)) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			return err_set(e, errno, "store layer %.12s", chain);
		had = 1;
	}
	int r = make_link(chain, e);
	return r ? r : had;
}

int store_config(const void *p, size_t n, char *id_out, struct err *e)
{
	char dir[4096], name[80];
	sha256_buf_hex(p, n, id_out);
	snprintf(name, sizeof(name), "%s.json", id_out);
	images_path(dir, sizeof(dir), "configs");
	int fd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", dir);
	int r = faccessat(fd, name, F_OK, 0) == 0 ? 0 : state_write_atomic(fd, name, p, n, e);
	close(fd);
	return r;
}

int store_tag(const char *norm, const char *id, struct err *e)
{
	struct json *repos;
	int r = repos_load(&repos, e);
	if (r)
		return r;
	r = repos_save(repos, norm, id, e);
	json_free(repos);
	return r;
}

/* Every chain ID some config lists, as "hex\n" lines. */
static int chains_in_use(struct buf *out)
{
	char dir[4096];
	images_path(dir, sizeof(dir), "configs");
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		struct image img;
		struct err e;
		char id[65];
		if (strlen(de->d_name) != 69 || !is_hex(de->d_name, 64))
			continue;
		memcpy(id, de->d_name, 64);
		id[64] = 0;
		if (image_resolve(id, &img, &e)) {
			closedir(d);
			return -1;	/* unreadable config: delete nothing */
		}
		for (int i = 0; i < img.nlayers; i++)
			buf_printf(out, "%s\n", img.chain[i]);
		image_free(&img);
	}
	if (d)
		closedir(d);
	buf_add(out, "", 1);
	return 0;
}

int image_delete(const char *id, struct err *e)
{
	char p[4096], sub[128];
	struct buf used = { 0 };
	snprintf(sub, sizeof(sub), "configs/%s.json", id);
	images_path(p, sizeof(p), sub);
	if (unlink(p) && errno != ENOENT)
		return err_set(e, errno, "delete %s", p);
	if (chains_in_use(&used)) {
		buf_free(&used);
		return 0;
	}
	const char *dirs[] = { "layers", "l" };
	for (int k = 0; k < 2; k++) {
		images_path(p, sizeof(p), dirs[k]);
		int dfd = openat(AT_FDCWD, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char t[256] = "";
			const char *hex = de->d_name;
			if (de->d_name[0] == '.')
				continue;
			if (k == 1) {	/* link: ../layers/<hex>/diff */
				ssize_t n = readlinkat(dfd, de->d_name, t, sizeof(t) - 1);
				hex = n > 10 ? (t[n] = 0, t + 10) : "";
			}
			if (strlen(hex) < 64 || !is_hex(hex, 64))
				continue;
			char needle[66];
			snprintf(needle, sizeof(needle), "%.64s\n", hex);
			if (!strstr(used.p, needle))
				k ? unlinkat(dfd, de->d_name, 0) : rm_rf_at(dfd, de->d_name);
		}
		if (d)
			closedir(d);
	}
	buf_free(&used);
	return 0;
}

/* --- import --------------------------------------------------------------- */

static void show_progress(struct fdsrc *s, int final)
{
	int64_t t = now_ns();
	if (!final && t - s->last < 200000000)
		return;
	s->last = t;
	double secs = (t - s->t0) / 1e9;
	fprintf(stderr, "\r%s: %.1f MB (%.1f MB/s)%s", s->what, s->n / 1e6,
		secs > 0 ? s->n / 1e6 / secs : 0.0, final ? "\n" : "");
}

ssize_t fdsrc_read(void *ctx, void *p, size_t n)
{
	struct fdsrc *s = ctx;
	ssize_t r;
	do
		r = read(s->fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (s->h)
		sha256_update(s->h, p, r);
	s->n += r;
	if (s->what) {
		if (!s->t0)
			s->t0 = s->last = now_ns();
		show_progress(s, 0);
	}
	return r;
}

void fdsrc_progress(struct fdsrc *s)
{
	show_progress(s, 0);
}

void fdsrc_done(struct fdsrc *s)
{
	if (s->what && s->t0)
		show_progress(s, 1);
}

uint64_t layer_limit(void)
{
	char dir[4096];
	struct statvfs v;
	const char *env = getenv("MYDOCKER_LAYER_MAX");
	long long x;
	uint64_t max = env && !parse_ll(env, 1, INT64_MAX, &x) ? (uint64_t)x : 64ull << 30;
	images_path(dir, sizeof(dir), NULL);
	if (!statvfs(dir, &v) && v.f_bavail * (uint64_t)v.f_frsize / 10 * 9 < max)
		max = v.f_bavail * (uint64_t)v.f_frsize / 10 * 9;
	return max;
}

/* Remove leftovers of imports whose process is gone (killed half-way). Caller holds the images lock. */
void sweep_tmp(void)
{
	char dir[4096];
	images_path(dir, sizeof(dir), "tmp");
	int dfd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

const char *go_arch(void)
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
	int fd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd < 0 ? err_set(e, errno, "open %s", dir) : state_write_atomic(fd, name, b.p, b.len, e);
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return r;
}

/* Hashing beside extraction: SHA-256 costs as much CPU as unpacking, so a second thread hashes
 * while this one writes files. Each read the tar reader makes is copied into a free slot of a
 * small ring and handed over; the hasher takes the slots in order, so the digest is that of every
 * byte of the file in order. Without a thread (pthread_create failed) it hashes inline. */
static void sem_take(sem_t *s)
{
	while (sem_wait(s) && errno == EINTR)
		;
}

static void *hashq_run(void *arg)
{
	struct hashq *q = arg;
	for (;;) {
		sem_take(&q->full);
		size_t n = q->len[q->tail];
		if (!n)
			return NULL;
		sha256_update(&q->h, q->buf + (size_t)q->tail * HQ_SLOT, n);
		q->tail = (q->tail + 1) % HQ_SLOTS;
		sem_post(&q->free);
	}
}

void hashq_start(struct hashq *q)
{
	sha256_init(&q->h);
	q->head = q->tail = 0;
	q->threaded = 0;
	if (!(q->buf = malloc((size_t)HQ_SLOTS * HQ_SLOT)))
		return;
	sem_init(&q->free, 0, HQ_SLOTS);
	sem_init(&q->full, 0, 0);
	q->threaded = !pthread_create(&q->t, NULL, hashq_run, q);
	if (!q->threaded) {
		free(q->buf);
		q->buf = NULL;
	}
}

void hashq_add(struct hashq *q, const void *p, size_t n)
{
	if (!q->threaded) {
		sha256_update(&q->h, p, n);
		return;
	}
	while (n) {
		size_t k = n < HQ_SLOT ? n : HQ_SLOT;
		sem_take(&q->free);
		memcpy(q->buf + (size_t)q->head * HQ_SLOT, p, k);
		q->len[q->head] = k;
		q->head = (q->head + 1) % HQ_SLOTS;
		sem_post(&q->full);
		p = (const char *)p + k;
		n -= k;
	}
}

/* Always called, also on errors: the thread is joined before the ring goes. */
void hashq_end(struct hashq *q, unsigned char sum[32])
{
	if (q->threaded) {
		sem_take(&q->free);
		q->len[q->head] = 0;
		sem_post(&q->full);
		pthread_join(q->t, NULL);
		sem_destroy(&q->free);
		sem_destroy(&q->full);
		free(q->buf);
		q->buf = NULL;
		q->threaded = 0;
	}
	sha256_final(&q->h, sum);
}

/* a tar_src: fdsrc_read (counting, progress) and then the bytes to the hasher */
ssize_t hashq_read(void *ctx, void *p, size_t n)
{
	struct hashq *q = ctx;
	ssize_t r = fdsrc_read(q->fs, p, n);
	if (r > 0)
		hashq_add(q, p, r);
	return r;
}

/* Import: this thread reads the file and hashes it (the bytes are still in its cache after read,
 * and the hash is the longest part), a second thread unpacks them, fed through a ring of slots. */
struct feed {
	sem_t free, full;
	unsigned head, tail;	/* next slot to fill (reader) / to unpack (unpacker) */
	size_t len[HQ_SLOTS], off;	/* len 0: end of the file; off: unpacker's place in its slot */
	int have, eof, dfd, flags, r, failed;
	char *buf;
	struct err e;
};

static ssize_t feed_read(void *ctx, void *p, size_t n)
{
	struct feed *f = ctx;
	if (f->eof)
		return 0;
	if (!f->have) {
		sem_take(&f->full);
		f->have = 1;
		f->off = 0;
	}
	size_t len = f->len[f->tail], k = len - f->off < n ? len - f->off : n;
	if (!len) {	/* the reader is done: its slots are no longer needed */
		f->eof = 1;
		return 0;
	}
	memcpy(p, f->buf + (size_t)f->tail * HQ_SLOT + f->off, k);
	if ((f->off += k) == len) {
		f->have = 0;
		f->tail = (f->tail + 1) % HQ_SLOTS;
		sem_post(&f->free);
	}
	return k;
}

static void *feed_unpack(void *arg)
{
	struct feed *f = arg;
	struct tar_src src = { feed_read, f };
	char b[512];
	if ((f->r = tar_extract(&src, f->dfd, f->flags, &f->e)))
		__atomic_store_n(&f->failed, 1, __ATOMIC_RELEASE);
	while (feed_read(f, b, sizeof(b)) > 0)	/* the reader goes on to the end of the file */
		;
	return NULL;
}

/* Unpack the tarball into stage/L/diff while hashing every byte of it. */
static int unpack_hashed(int fd, struct stage *st, int progress, unsigned char sum[32], uint64_t *size,
			 struct err *e)
{
	struct sha256 h;
	struct fdsrc fs = { .fd = fd, .h = &h, .what = progress ? "importing" : NULL };
	struct tar_src src = { fdsrc_read, &fs };
	struct feed f = { .flags = getuid() == 0 ? TAR_X_OWNER : 0 };
	pthread_t t;
	char drain[65536];
	ssize_t n = 0;
	int r;

	sha256_init(&h);
	if (mkdirat(st->fd, "L", 0700) || mkdirat(st->fd, "L/diff", 0755))
		return err_set(e, errno, "create layer directory");
	f.dfd = openat(st->fd, "L/diff", O_RDONLY | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW);
	if (f.dfd < 0)
		return err_set(e, errno, "open layer directory");
	f.buf = malloc((size_t)HQ_SLOTS * HQ_SLOT);
	sem_init(&f.free, 0, HQ_SLOTS);
	sem_init(&f.full, 0, 0);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 1 << 20);	/* extraction's path buffers; only used pages count */
	if (f.buf && !pthread_create(&t, &at, feed_unpack, &f)) {
		for (;;) {
			sem_take(&f.free);
			int stop = __atomic_load_n(&f.failed, __ATOMIC_ACQUIRE);
			n = stop ? 0 : fdsrc_read(&fs, f.buf + (size_t)f.head * HQ_SLOT, HQ_SLOT);
			f.len[f.head] = n > 0 ? (size_t)n : 0;
			f.head = (f.head + 1) % HQ_SLOTS;
			sem_post(&f.full);
			if (n <= 0)
				break;
		}
		pthread_join(t, NULL);
		if (n < 0)	/* a read error, not the unpacker's unexpected end, is the cause */
			r = err_set(e, (int)-n, "read");
		else if ((r = f.r))
			*e = f.e;
	} else {	/* no thread: unpack and hash here */
		r = tar_extract(&src, f.dfd, f.flags, e);
		/* The digest covers the whole file, including any padding after the end-of-archive marker. */
		while (!r && (n = fdsrc_read(&fs, drain, sizeof(drain))) > 0)
			;
	}
	pthread_attr_destroy(&at);
	sem_destroy(&f.free);
	sem_destroy(&f.full);
	free(f.buf);
	close(f.dfd);
	if (!r && n < 0)
		r = err_set(e, (int)-n, "read");
	if (r)
		return r;
	fdsrc_done(&fs);
	sha256_final(&h, sum);
	*size = fs.n;
	return 0;
}

int image_import(int fd, const char *ref, const char *want, int progress, char *id_out, struct err *e)
{
	struct image_opts o = { .progress = progress };
	return image_import2(fd, ref, want, &o, id_out, e);
}

int image_import2(int fd, const char *ref, const char *want, const struct image_opts *o, char *id_out,
		  struct err *e)
{
	char norm[400], hex[65];
	unsigned char sum[32];
	uint64_t size = 0;
	struct stage st = { .fd = -1 };
	int r, lock = -1;

	if (image_ref_norm(ref, norm, sizeof(norm)))
		return err_set(e, EINVAL, "invalid reference format \"%s\"", ref);
	if (want && (!strncmp(want, "sha256:", 7) ? (want += 7, 0) : 0, strlen(want) != 64 || !is_hex(want, 64)))
		return err_set(e, EINVAL, "invalid --sha256 \"%s\": want 64 lowercase hex digits", want);
	/* Unpack into tmp/<pid>-<time>: a killed import leaves only that, swept by the next one. */
	if ((r = stage_new(&st, e)) || (r = unpack_hashed(fd, &st, o->progress, sum, &size, e)))
		goto fail;
	hex_encode(sum, 32, hex);
	if (want && !digest_eq(want, hex)) {
		r = err_set(e, EINVAL, "digest mismatch: expected sha256:%s, got sha256:%s", want, hex);
		goto fail;
	}
	if ((r = sig_check(o, sum, e)))
		goto fail;
	if ((r = write_size(st.fd, "L", size, e)))
		goto fail;

	/* Publish: layer by rename (atomic), config, then the tag -- all under the images lock. */
	if ((lock = state_lock("images", e)) < 0) {
		r = lock;
		goto fail;
	}
	sweep_tmp();
	if ((r = store_layer(&st, "L", hex, e)) < 0)
		goto fail;
	if (!find_import(hex, id_out) && (r = write_import_config(hex, id_out, e)))
		goto fail;
	r = store_tag(norm, id_out, e);
fail:
	stage_drop(&st);
	if (lock >= 0)
		close(lock);
	return r;
}
