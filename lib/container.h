/* container: the per-container record (ROOT/containers/<id>/config.json) and queries on it.
 *
 * ROOT/containers/<id>/config.json   this record, replaced atomically under the container's lock
 * ROOT/containers/<id>/container.log output of a detached container
 * ROOT/containers/<id>/{upper,work,merged}  overlay workspace, kept across stop/start, removed by rm
 * ROOT/containers/<id>/hostname, hosts, resolv.conf   bind-mounted into the container
 */
#ifndef MYDOCKER_CONTAINER_H
#define MYDOCKER_CONTAINER_H

#include <stdint.h>
#include <sys/types.h>
#include "util.h"
#include "state.h"

struct vol {
	char *src;		/* absolute host path */
	char *dst;		/* absolute path in the container */
	int ro;
};

enum ctr_status { CTR_CREATED, CTR_RUNNING, CTR_EXITED };

struct container {
	char id[ID_LEN + 1];
	char name[NAME_MAX_LEN + 1];
	char *image;		/* the reference as the user gave it */
	char *image_id;		/* hex */
	char **argv;		/* the command, exactly (after entrypoint/cmd resolution) */
	char **env;		/* K=V, NULL-terminated */
	struct vol *vols;
	int nvols;
	char *workdir;		/* NULL: image's or "/" */
	char *user;		/* "UID[:GID]" or NULL */
	char *hostname;
	int tty, interactive, detach, autoremove, read_only, init, privileged;
	char *net;		/* "none" (default), "host", or a network name */
	char *ip;		/* address on the network, NULL if none */
	char *stop_signal;	/* NULL: SIGTERM */

	/* runtime */
	enum ctr_status status;
	pid_t pid;		/* the container's PID 1 as seen from the host, 0 when not running */
	uint64_t pid_start;	/* its start time (field 22 of /proc/PID/stat) to detect pid reuse */
	pid_t monitor_pid;
	int exit_code;
	int oom_killed;
	int64_t created, started, finished;	/* ns since the epoch, 0 = never */
};

void ctr_free(struct container *c);

/* Serialise / parse the record. */
int ctr_to_json(const struct container *c, struct buf *out);
int ctr_from_json(const char *text, size_t len, struct container *c, struct err *e);

/* Load ROOT/containers/<id>/config.json; save it atomically (take ctr_lock first for read-modify-write). */
int ctr_load(const char *id, struct container *c, struct err *e);
int ctr_save(const struct container *c, struct err *e);
/* Exclusive lock for one container's record; returns an fd to close. */
int ctr_lock(const char *id, struct err *e);

/* Resolve a full ID, unique ID prefix or name to the full ID. -ENOENT unknown, -EEXIST ambiguous prefix. */
int ctr_lookup(const char *ref, char *id_out, struct err *e);
/* All container IDs (malloc'd vector, NULL-terminated). */
int ctr_list(char ***ids, struct err *e);

/* True if c->pid is alive and is still the same process (start time matches). */
int ctr_alive(const struct container *c);
/* Start time of pid from /proc/PID/stat (field 22), 0 if gone. */
uint64_t proc_start_time(pid_t pid);
/* If the record says running but the process is gone, mark it exited (exit code kept or 137?). */
void ctr_refresh(struct container *c);

/* ROOT/containers/<id> path into out. */
void ctr_dir(const char *id, char *out, size_t outsz);

#endif
