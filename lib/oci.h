/* oci: an OCI runtime spec (bundle/config.json, 1.0-1.1) read into what the runtime needs, and the
 * runc-style lifecycle on top of the runtime's own creation code (rootfs.c mounts, runtime.c's
 * proc_start): create leaves the init waiting right before execve on ROOT/<id>/exec.fifo, start
 * opens it. Only what is honoured is parsed; a field that would weaken isolation if ignored
 * (seccomp, an unknown namespace, a sysctl outside runc's allowlist, ...) is an error. */
#ifndef MYDOCKER_OCI_H
#define MYDOCKER_OCI_H

#include <stdint.h>
#include <sys/types.h>
#include "cgroup.h"
#include "json.h"
#include "rootfs.h"

#define OCI_NNS 8

struct oci_proc {
	char **args, **env;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *gids;
	int ngids;
	int terminal, nnp, has_oom, oom;
	unsigned short rows, cols;	/* consoleSize */
	char **caps;		/* the permitted set: what the process keeps (names) */
	int nrlim;
	struct { int res; uint64_t soft, hard; } rlim[16];
};

struct oci_spec {
	struct json *doc;	/* every string below points into it */
	char *bundle;		/* absolute */
	const char *root, *hostname, *domainname;	/* root: absolute */
	int root_ro;
	struct oci_proc p;
	struct mnt_entry *mounts;
	int nmounts;
	int clone;		/* CLONE_NEW* to create */
	int njoin;
	struct { int type; const char *path; } join[OCI_NNS];
	struct cg_limits cg;
	char cgpath[256];	/* in each hierarchy: cgroupsPath ("/DIR/ID"), else mydocker/<id> */
	const struct json *masked, *ropaths, *sysctl, *devices, *uidmap, *gidmap, *hooks;
	const struct json *devrules;	/* linux.resources.devices */
};

/* The mount options honoured as flags, each NUL-terminated, an empty one last. */
extern const char oci_mopt_names[];

/* For the cg_* calls on the cgroup at path ("DIR/ID"): sets the parent, returns the ID. */
const char *oci_cg(const char *path);

/* Parse BUNDLE/config.json (id: the cgroup name when there is no cgroupsPath). */
int oci_load(const char *bundle, const char *id, struct oci_spec *s, struct err *e);
void oci_free(struct oci_spec *s);
/* A "process" object (config.json's, or exec --process FILE). */
int oci_proc(const struct json *j, struct oci_proc *p, struct err *e);
/* linux.resources (also update --resources) into cgroup limits. */
int oci_resources(const struct json *r, struct cg_limits *l, struct err *e);

/* The container record: ROOT/<id>/state.json. */
struct oci_state {
	char id[256];
	const char *cg;		/* the cgroup name (cg_*) */
	pid_t pid;
	uint64_t start;		/* pid start time */
	int64_t created;
	char *bundle;
	struct json *doc;	/* annotations point into it */
};
/* "created", "running", "paused", "stopped" for the state dir fd. */
const char *oci_status(int dfd, const struct oci_state *st);
int oci_state_load(int dfd, struct oci_state *st, struct err *e);
/* The OCI state JSON (one line). */
void oci_state_json(const struct oci_state *st, const char *status, struct buf *out);

/* create: fork the init (a child of the caller: it stays reapable by a subreaper), set it up and
 * leave it waiting on the exec fifo. The record is written in the state dir dfd. Returns the pid
 * (*master: the pty master if the process has a terminal) or -errno. */
pid_t oci_create(int dfd, const char *id, struct oci_spec *s, int *master, struct err *e);
/* Run the hooks of one kind ("prestart", ...) with the state on stdin. */
int oci_hooks(const struct json *hooks, const char *kind, const char *state, struct err *e);
/* exec: a new process in the container of pid (namespaces, cgroup id, root); stdio 0-2 or a pty. */
pid_t oci_exec(pid_t pid, const char *id, struct oci_proc *p, int *master, struct err *e);

#endif
