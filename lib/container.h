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
#include "cgroup.h"

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
	char **ports;		/* -p mappings as "[HOSTIP:]HOSTPORT:PORT/PROTO" (NULL-terminated or NULL) */
	char *stop_signal;	/* NULL: SIGTERM */
	struct cg_limits limits;	/* -m, --cpus, ... (Memory, NanoCpus, ... in the JSON) */
	char **cap_add, **cap_drop;	/* --cap-add/--cap-drop as given (NULL-terminated or NULL) */
	int no_new_privs;		/* --security-opt no-new-privileges */
	int seccomp_unconfined;		/* --security-opt seccomp=unconfined (stored for start; exec
					 * follows the Seccomp: mode of PID 1; OCI mode sets it, no filter) */

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
/* Exclusive lock for one container's record; returns an fd to close. It is the flock of
 * ROOT/locks/ctr-<id> (outside the container dir, so it outlives rm). rm unlinks that file while
 * holding the lock, so every holder must re-load the record after locking and treat -ENOENT as
 * "removed meanwhile". ctr_save never creates the container dir: whoever creates the container
 * mkdirs ROOT/containers/<id> (0700) first; a save after rm then fails instead of resurrecting it. */
int ctr_lock(const char *id, struct err *e);

/* Resolve a full ID, unique ID prefix or name to the full ID. -ENOENT unknown, -EEXIST ambiguous prefix. */
int ctr_lookup(const char *ref, char *id_out, struct err *e);
/* Does the record of id carry this name? (a text filter first: no parse for most records) */
int ctr_has_name(const char *id, const char *name);
/* All container IDs (malloc'd vector, NULL-terminated). */
int ctr_list(char ***ids, struct err *e);

/* True if c->pid is alive and is still the same process (start time matches; pid_start == 0
 * is never alive). A zombie PID 1 counts as down. */
int ctr_alive(const struct container *c);
/* Start time of pid from /proc/PID/stat (field 22), 0 if gone. */
uint64_t proc_start_time(pid_t pid);
/* If the record says running but the process is gone: re-read the record (giving a live monitor up
 * to 200 ms to record the real exit code); if nobody is left to collect the status, mark it exited
 * with ExitCode CTR_EXIT_UNKNOWN (255, what docker shows for a container it lost track of) and
 * FinishedAt = now, and persist that (only if the lock is free right now). ps calls it per record. */
void ctr_refresh(struct container *c);

/* ROOT/containers/<id> path into out. */
void ctr_dir(const char *id, char *out, size_t outsz);

/* ---- added by the lifecycle applets (ps/stop/rm/logs/inspect) ---- */
#define CTR_EXIT_UNKNOWN 255	/* exited, but nobody collected its status */
/* "created", "running", "exited" */
const char *ctr_status_str(enum ctr_status s);
/* O_DIRECTORY|O_NOFOLLOW fd of ROOT/containers/<id>; -EINVAL unless id is 64 hex digits. */
int ctr_open_dir(const char *id, struct err *e);
/* The process that collects the exit status (monitor of run -d, or the foreground run) is still
 * there: c->monitor_pid exists and started no later than the container's PID 1. The runtime must
 * record MonitorPid, Pid and PidStart (proc_start_time) when it marks the container running. */
int ctr_monitor_alive(const struct container *c);
/* Hook: release host resources of a stopped container (later: network, cgroup). Called by rm
 * (under the lock, before removing the dir) and meant to be called by the monitor after exit.
 * Idempotent; today it does nothing. */
void ctr_teardown(struct container *c);
/* Signal c's PID 1 only if it is still that process (pidfd opened, then start time re-checked):
 * 0, -ESRCH if it is down, or -errno. */
int ctr_kill(const struct container *c, int sig);
/* Wait until c's PID 1 is down (pidfd poll, else 10 ms sleeps); timeout_ms < 0: forever.
 * 0 when down, -ETIMEDOUT. */
int ctr_wait_down(const struct container *c, int timeout_ms);
/* c's PID 1 is down (c: the record as it was while running). Wait up to 5 s for its collector to
 * record the exit; if no collector is left, record it here under the lock (ExitCode 137 if the
 * caller SIGKILLed it, else CTR_EXIT_UNKNOWN) and call ctr_teardown. 0 also if it was removed. */
int ctr_settle(const struct container *c, int killed, struct err *e);
/* Remove ROOT/containers/<id> (caller holds ctr_lock, container down, ctr_teardown done):
 * if anything is mounted at or under it (per /proc/self/mountinfo) it fails with -EBUSY naming
 * the mount and removes nothing, rather than delete through it. For rm and the monitor (--rm). */
int ctr_remove(const char *id, struct err *e);
/* Make dir, a new container's directory with its workspace (upper, work, merged): a spare that
 * rm kept, renamed to dir, or made afresh. Returns an open fd of dir, or -errno (nothing left). */
int ctr_workspace(const char *dir, struct err *e);
/* Remove what a spare workspace kept of its last container's overlay (its private work dir, set
 * aside by rm), if dir's workspace was one. For the container's first moments: while its command
 * starts, the waits for the disk cost nothing. Best effort: what is left goes at its rm. */
void ctr_workspace_reap(const char *dir);
/* Remove ROOT/locks/ctr-<id> (rm does it while holding the lock, as its last step). */
void ctr_unlink_lock(const char *id);
/* Remove ROOT/locks/ctr-<id> files whose container is gone (left by an rm killed before its last
 * step, or made by a lock attempt racing rm), and the .<id>.rm dir of an rm killed midway; only
 * those whose lock nobody holds. Under the creation lock. */
void ctr_sweep_locks(void);

/* ---- added by the runtime (run/start/exec, lib/runtime.c, lib/monitor.c) ----
 * container.log (run -d / start): one record per line, "<RFC 3339 UTC time, ns> <tag> <data>\n";
 * tag O/E: a line of stdout/stderr (its own newline ends the record), o/e: a piece without a newline
 * (output cut at a read boundary; more of the same line may follow). With -t there is one stream, O.
 * Who records what: run writes the record (status created) under the "containers" state lock, built
 * as ROOT/containers/.<id>.new and renamed into place (ctr_list skips it); the process that starts
 * the container (the foreground CLI, or the monitor of a detached one) records Pid/PidStart/
 * MonitorPid/StartedAt/status running under ctr_lock before releasing it, and on exit records
 * ExitCode (128+signal when killed)/FinishedAt/status exited, calls ctr_teardown, and for --rm
 * ctr_remove + ctr_unlink_lock. A foreground container gets SIGKILL (PR_SET_PDEATHSIG) if its CLI
 * dies. Nothing is mounted on the host: every mount lives in the container's mount namespace. */

#endif
