/* libFuzzer target: the manifest/index loader of `load` (lib/load.c) on fuzzed JSON.
 *
 * The input's first byte picks the file the rest becomes: even -> manifest.json (docker save),
 * odd -> index.json (OCI layout). It is packed into an archive that also holds a fixed image:
 * an empty layer (1024 zero bytes) and a config, both under blobs/sha256/<hex> and under the
 * legacy names cfg.json and l/layer.tar, plus an OCI image manifest blob pointing at them.
 * The seeds (tests/fuzz/corpus/load, made by tests/fuzz/mkseeds.py) use the real digests.
 * The load runs against a scratch state root; afterwards nothing may be left in images/tmp and a
 * failed load must not have published a config, a layer or a tag. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "digest.h"
#include "image.h"
#include "state.h"
#include "tar.h"

static const char config[] =
	"{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}";
static const char manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu},"
	"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%s\",\"size\":1024}]}";

static char root[64];
static char cfg[512], man[1024], lhex[65], chex[65], mhex[65];
static unsigned char layer[1024];

static void cleanup(void)
{
	rm_rf_at(AT_FDCWD, root);
}

static int mem_write(void *ctx, const void *p, size_t n)
{
	return write(*(int *)ctx, p, n) == (ssize_t)n ? 0 : -5;
}

static void add(struct tar_writer *w, const char *name, const void *p, size_t n)
{
	struct tar_entry te = { .type = '0', .path = (char *)name, .linkpath = "", .mode = 0644, .size = n };
	struct err e;
	if (tar_write_header(w, &te, &e) || tar_write_data(w, p, n, &e) || tar_write_pad(w, n, &e))
		abort();
}

static void blob(struct tar_writer *w, const char *hex, const void *p, size_t n)
{
	char name[96];
	snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
	add(w, name, p, n);
}

/* Is ROOT/images/SUB empty (or missing)? */
static int empty(const char *sub)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/images/%s", root, sub);
	DIR *d = opendir(p);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n == 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1 || size > (1 << 20))
		return 0;
	if (!root[0]) {
		strcpy(root, "/tmp/fuzz-load.XXXXXX");
		if (!mkdtemp(root))
			abort();
		state_set_root(root);
		atexit(cleanup);
		sha256_buf_hex(layer, sizeof(layer), lhex);
		snprintf(cfg, sizeof(cfg), config, lhex);
		sha256_buf_hex(cfg, strlen(cfg), chex);
		snprintf(man, sizeof(man), manifest, chex, strlen(cfg), lhex);
		sha256_buf_hex(man, strlen(man), mhex);
		if (getenv("FUZZ_LOAD_PRINT"))	/* for checking the seed generator */
			printf("layer %s\nconfig %s\nmanifest %s\n", lhex, chex, mhex);
	}
	int fd = memfd_create("archive", MFD_CLOEXEC);
	struct tar_sink sink = { mem_write, &fd };
	struct tar_writer w;
	struct err e = { 0 };
	tar_writer_init(&w, &sink);
	add(&w, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	blob(&w, lhex, layer, sizeof(layer));
	blob(&w, chex, cfg, strlen(cfg));
	blob(&w, mhex, man, strlen(man));
	add(&w, "cfg.json", cfg, strlen(cfg));
	add(&w, "l/layer.tar", layer, sizeof(layer));
	add(&w, data[0] & 1 ? "index.json" : "manifest.json", data + 1, size - 1);
	if (tar_write_end(&w, &e))
		abort();
	lseek(fd, 0, SEEK_SET);

	struct image_opts o = { .platform = "linux/amd64", .quiet = 1 };
	struct buf out = { 0 };
	int r = image_load(fd, &o, &out, &e);
	close(fd);
	if (getenv("FUZZ_LOAD_PRINT"))
		printf("load: %d %s%s", r, r ? e.msg : "", r ? "\n" : out.p);
	buf_free(&out);
	char p[128];
	if (!empty("tmp"))
		abort();	/* the staging dir is always removed */
	snprintf(p, sizeof(p), "%s/images/repositories.json", root);
	if (r && (!empty("configs") || !empty("layers") || access(p, F_OK) == 0))
		abort();	/* a refused archive publishes nothing */
	snprintf(p, sizeof(p), "%s/images", root);
	rm_rf_at(AT_FDCWD, p);
	return 0;
}
