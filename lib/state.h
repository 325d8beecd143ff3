/* state: the state root, atomic file replacement, locks, names and ids. */
#ifndef MYDOCKER_STATE_H
#define MYDOCKER_STATE_H

#include "util.h"

#define NAME_MAX_LEN 128
#define ID_LEN 64

/* The state root: --root DIR, else $MYDOCKER_ROOT, else /var/lib/mydocker. */
const char *state_root(void);
void state_set_root(const char *dir);
/* Create the root and its subdirectories (containers, images, networks) if missing. */
int state_init(struct err *e);

/* Crash consistency of state records (config.json, NETWORK.json, repositories.json, ...).
 * 1. A record is never written in place: a new one goes to a temp name and is renamed over the old
 *    (unsynced ones: the names are exchanged and the old one unlinked), so a reader, or a kill -9
 *    at any moment, sees the old or the new record, never a mix or a truncated one (kill -9 loses
 *    nothing that was written: it is in the page cache).
 * 2. Power loss is what fsync is for. STATE_SYNC: fsync the file before the rename, so the name can
 *    never point at an inode whose data did not reach the disk (zero-length after a power cut on
 *    filesystems without ext4's auto_da_alloc, e.g. XFS). STATE_SYNC_DIR: also fsync the directory
 *    after the rename, for names whose loss is not recoverable (the image store). Replacing a name
 *    that exists needs no directory fsync: losing the rename leaves the previous complete record,
 *    a state that really existed (and after a power cut every container is dead anyway).
 * 3. Container records: STATE_SYNC, one write per state transition (created, running, exited).
 *    --rm containers: no fsync at all: the record is removed at exit; after a power cut it can be
 *    old, missing or empty (ps lists an empty one as corrupt, rm -f removes it). A new record is
 *    written straight into the container's private ".ID.new" directory, which becomes visible
 *    only by its rename: no temp file needed there (state_write_new).
 * 4. Network records: the definition durably (STATE_SYNC | STATE_SYNC_DIR) at creation and, before
 *    the first endpoint update, once more as NAME.def beside it. Endpoint updates -- one write per
 *    attach (address, veth, ports: after the veth is built, under the network lock) and one per
 *    detach -- are not synced: after a power cut no container runs, so the endpoints may be old
 *    (pruned, or released when the dead containers are seen) and a record the cut left empty is
 *    read from NAME.def. A kill -9 before the write leaves no endpoint: the veth dies with the
 *    container's netns, detach removes port rules by tag. */
#define STATE_SYNC 1
#define STATE_SYNC_DIR 2
/* Replace dirfd/name atomically (rule 1) with the fsyncs asked for in how (rule 2). */
int state_replace(int dirfd, const char *name, const void *p, size_t n, int how, struct err *e);
/* state_replace(..., STATE_SYNC | STATE_SYNC_DIR): the image store, OCI runtime state. */
int state_write_atomic(int dirfd, const char *name, const void *p, size_t n, struct err *e);
/* Create dirfd/name, which must not exist, in a directory nobody else sees yet (rule 3). */
int state_write_new(int dirfd, const char *name, const void *p, size_t n, int how, struct err *e);
/* Take an exclusive flock on ROOT/locks/NAME (created as needed); returns the fd (close to release). */
int state_lock(const char *name, struct err *e);

/* [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most NAME_MAX_LEN bytes. */
int name_valid(const char *s);
/* 64 lowercase hex characters from getrandom(); out needs ID_LEN + 1 bytes. */
int id_new(char *out, struct err *e);
int is_hex(const char *s, size_t n);

#endif
