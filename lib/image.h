/* image: the content-addressed image store.
 *
 * ROOT/images/layers/<chain>/diff    read-only layer, overlay-ready (whiteouts are 0:0 char devices,
 *                                    opaque dirs carry trusted.overlay.opaque=y), applied on an empty dir
 * ROOT/images/layers/<chain>/size    bytes of the layer tar (decimal)
 *        <chain> = the layer's ChainID: chain(L1) = diff_id(L1), chain(Ln) = sha256(chain(Ln-1) + " " +
 *        diff_id(Ln)) (hex) -- layers are shared by every image with the same stack below them; a
 *        single-layer import has chain = diff_id = SHA-256 of the tarball
 * ROOT/images/l/<16 hex>             short symlink -> ../layers/<chain>/diff (overlay2's trick: the
 *                                    lowerdir option is limited to one page)
 * ROOT/images/configs/<hex>.json     OCI image config; <hex> = SHA-256 of this file = the image ID
 * ROOT/images/repositories.json      {"name:tag": "sha256:<image id>", ...}
 * ROOT/images/tmp/                   unpacking in progress (removed on failure, swept on start)
 */
#ifndef MYDOCKER_IMAGE_H
#define MYDOCKER_IMAGE_H

#include <stdint.h>
#include "util.h"

struct image {
	char id[65];		/* hex image ID */
	/* lowerdir entries, lowest first, NULL-terminated: absolute short links layer_dir/<16 hex>
	 * (older layers without a link: ROOT/images/layers/<chain>/diff). A runtime that chdir()s into
	 * layer_dir can pass the part after "layer_dir/" as relative lowerdirs: ~230 layers fit a page. */
	char **layers;
	int nlayers;
	char *layer_dir;	/* ROOT/images/l */
	char **chain;		/* ChainID hex per layer, lowest first */
	char **exposed_ports;	/* keys of ExposedPorts ("80/tcp"), NULL when absent */
	/* from the config's "config" object; NULL when absent */
	char **env;
	char **cmd;
	char **entrypoint;
	char *workdir;
	char *user;
	char *stop_signal;
	char *arch;
	int64_t created;	/* ns */
	uint64_t size;		/* bytes over all layers */
};

/* Options of load/import/save. */
struct image_opts {
	const char *platform;	/* "[os/]arch[/variant]"; NULL: this machine's */
	const char *tag;	/* load: tag the loaded image(s) with this reference */
	const char *verify_key;	/* PEM public key: require FILE.sig (NULL: $MYDOCKER_VERIFY_KEY or
				 * ROOT/verify-key.pem when present, else no signature needed) */
	const char *sig_file;	/* the detached signature (default: archive path + ".sig") */
	const char *path;	/* the archive's path, NULL for stdin */
	int progress;		/* progress on stderr */
	int quiet;
};

/* Resolve NAME[:TAG] (":latest" implied), a full or unique-prefix image ID, or sha256:ID. -ENOENT if unknown. */
int image_resolve(const char *ref, struct image *img, struct err *e);
void image_free(struct image *img);
/* Split and normalise a reference "name[:tag]" into "name:tag"; -EINVAL if malformed. */
int image_ref_norm(const char *ref, char *out, size_t outsz);

/* Import a flat tarball read from fd: hashed while unpacked once into a new layer; a config is
 * made for it and tagged ref. sha256 (hex, may be NULL) pins the tarball's digest.
 * id_out receives the image ID (65 bytes). */
int image_import(int fd, const char *ref, const char *sha256, int progress, char *id_out, struct err *e);
int image_import2(int fd, const char *ref, const char *sha256, const struct image_opts *o, char *id_out,
		  struct err *e);

/* Delete the config of image id and every layer and short link no remaining image uses.
 * The caller holds the images lock (state_lock("images")). */
int image_delete(const char *id, struct err *e);

/* load -i: docker save archives (legacy and Docker >= 25 OCI layout) and OCI image layouts as tar.
 * Everything (blob digests and sizes, diff_ids, signature) is verified before anything becomes
 * visible. One line per image ("Loaded image: ref" / "Loaded image ID: sha256:...") goes to out. */
int image_load(int fd, const struct image_opts *o, struct buf *out, struct err *e);
/* save: a docker-save archive with an OCI layout (index.json, blobs/sha256) of the images in refs. */
int image_save(char *const *refs, int fd, const struct image_opts *o, struct err *e);
/* commit: a new image = base image + a layer made of the overlay upper dir (whiteouts converted
 * back to .wh. entries); tagged ref (may be NULL); id_out: 65 bytes. */
int image_commit(const char *base_id, const char *upper, const char *ref, const char *comment,
		 char *id_out, struct err *e);

#endif
