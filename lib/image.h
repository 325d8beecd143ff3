/* image: the content-addressed image store.
 *
 * ROOT/images/layers/<hex>/diff      read-only unpacked layer; <hex> = SHA-256 of the layer tar (diff_id)
 * ROOT/images/layers/<hex>/size      bytes used by the layer (decimal)
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
	char **layers;		/* absolute paths of the layer diff dirs, lowest first, NULL-terminated */
	int nlayers;
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

/* Resolve NAME[:TAG] (":latest" implied), a full or unique-prefix image ID, or sha256:ID. -ENOENT if unknown. */
int image_resolve(const char *ref, struct image *img, struct err *e);
void image_free(struct image *img);
/* Split and normalise a reference "name[:tag]" into "name:tag"; -EINVAL if malformed. */
int image_ref_norm(const char *ref, char *out, size_t outsz);

/* Import a flat tarball read from fd: hashed while unpacked once into a new layer; a config is
 * made for it and tagged ref. sha256 (hex, may be NULL) pins the tarball's digest.
 * id_out receives the image ID (65 bytes). */
int image_import(int fd, const char *ref, const char *sha256, int progress, char *id_out, struct err *e);

#endif
