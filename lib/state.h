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

/* Replace dirfd/name atomically: write name.tmp.PID, fsync, rename over name, fsync dir. */
int state_write_atomic(int dirfd, const char *name, const void *p, size_t n, struct err *e);
/* Take an exclusive flock on ROOT/locks/NAME (created as needed); returns the fd (close to release). */
int state_lock(const char *name, struct err *e);

/* [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most NAME_MAX_LEN bytes. */
int name_valid(const char *s);
/* 64 lowercase hex characters from getrandom(); out needs ID_LEN + 1 bytes. */
int id_new(char *out, struct err *e);
int is_hex(const char *s, size_t n);

#endif
