/* run: create a container from an image and run a command in it (docker run). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "applets.h"
#include "image.h"
#include "json.h"
#include "runtime.h"
#include "secure.h"
#include "storage.h"
#include "network.h"

const char run_usage[] =
	"Usage: mydocker run [OPTIONS] IMAGE [COMMAND [ARG...]]\n\n"
	"Create a container from IMAGE and run COMMAND in it (default: the image's Entrypoint/Cmd).\n"
	"New UTS, PID, mount, network (loopback only) and IPC namespaces; the root is an overlay of\n"
	"the image's layers and the container's own upper layer.\n\n"
	"  -d, --detach           run in the background and print the container ID\n"
	"  -i, --interactive      keep stdin open\n"
	"  -t, --tty              allocate a pseudo-terminal\n"
	"      --rm               remove the container when it exits\n"
	"      --name NAME        container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, unique)\n"
	"  -e, --env K=V          set an environment variable (K alone: take it from this environment)\n"
	"      --env-file FILE    read K=V lines (# comments and blank lines ignored)\n"
	"  -v, --volume SRC:DST[:ro|rw]  bind-mount an absolute host path SRC at DST\n"
	"  -w, --workdir DIR      working directory in the container (created if missing)\n"
	"  -u, --user UID[:GID]   run as this user (numbers, or names from the container's /etc/passwd)\n"
	"  -h, --hostname NAME    hostname (default: the first 12 characters of the ID)\n"
	"      --init             run a tiny init as PID 1 that forwards signals and reaps zombies\n"
	"      --read-only        mount the container's root read-only\n"
	"      --net, --network NET  none (default: own namespace, loopback only), host, or a bridge\n"
	"                         network made with `mydocker net create` (veth, address, NAT)\n"
	"  -p, --publish [HOSTIP:]HOSTPORT:PORT[/tcp|udp]  map a host port to the container (bridge\n"
	"                         networks; reachable from other hosts and on 127.0.0.1)\n"
	"  -m, --memory SIZE      memory limit (b, k, m, g; at least 6m); --memory-swap SIZE|-1 (memory+swap)\n"
	"      --cpus N           CPU quota (1.5 = one and a half CPUs); -c, --cpu-shares N relative weight\n"
	"      --cpuset-cpus LIST CPUs allowed (0-1,3); --cpuset-mems LIST memory nodes allowed\n"
	"      --pids-limit N     maximum number of processes (-1: unlimited)\n"
	"      --privileged       all capabilities and devices, no masked paths\n"
	"      --cap-add CAP, --cap-drop CAP   change docker's default capabilities (ALL for all)\n"
	"      --security-opt no-new-privileges   the command cannot gain privileges (setuid, file caps)\n"
	"      --security-opt seccomp=unconfined  no default seccomp filter\n\n"
	"Exit status: the command's, 125 if mydocker failed, 126 if the command cannot be invoked,\n"
	"127 if it is not found.\n";

struct opts {
	struct container c;
	char **env;		/* -e / --env-file in order */
	const char *env_file;
};

static void strv_push(char ***v, char *s)
{
	size_t n = strv_len(*v);
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

/* K=V, or K alone taken from our environment (dropped when unset, as docker does) */
static void add_env(char ***v, const char *kv)
{
	size_t k = strcspn(kv, "=");
	if (k == 0)
		die(125, "invalid environment variable \"%s\": empty name", kv);
	if (kv[k]) {
		strv_push(v, xstrdup(kv));
	} else if (getenv(kv)) {
		strv_push(v, xasprintf("%s=%s", kv, getenv(kv)));
	}
}

static NOINLINE void read_env_file(char ***v, const char *file)
{
	struct buf b = { 0 };
	char real[PATH_MAX];
	int r = realpath(file, real) ? read_file_at(AT_FDCWD, real, 1 << 20, &b) : -errno;
	if (r)
		die(125, "env file %s: %s", file, strerror(-r));
	for (char *line = b.p, *nl; line && *line; line = nl) {
		if ((nl = strchr(line, '\n')))
			*nl++ = 0;
		line += strspn(line, " \t");
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = 0;
		if (n && line[0] != '#')
			add_env(v, line);
	}
	buf_free(&b);
}

/* SRC:DST[:ro|rw]: SRC absolute and existing, DST absolute */
static NOINLINE void add_volume(struct container *c, const char *spec)
{
	char *s = xstrdup(spec), *dst = strchr(s, ':'), *mode = NULL;
	struct stat st;
	if (dst && (mode = strchr(++dst, ':')))
		*mode++ = 0;
	if (dst)
		dst[-1] = 0;
	if (!dst || !*s || !*dst)
		die(125, "invalid volume \"%s\": expected SRC:DST[:ro]", spec);
	if (s[0] != '/')
		die(125, "invalid volume \"%s\": source must be an absolute path", spec);
	if (stat(s, &st))
		die(125, "invalid volume \"%s\": source %s: %s", spec, s, strerror(errno));
	if (dst[0] != '/' || !dst[strspn(dst, "/")])
		die(125, "invalid volume \"%s\": destination must be an absolute path other than /", spec);
	if (mode && strcmp(mode, "ro") && strcmp(mode, "rw"))
		die(125, "invalid volume \"%s\": mode must be ro or rw", spec);
	c->vols = xrealloc(c->vols, (c->nvols + 1) * sizeof(*c->vols));
	c->vols[c->nvols++] = (struct vol){ xstrdup(s), xstrdup(dst), mode && !strcmp(mode, "ro") };
	free(s);
}

static int hostname_valid(const char *h)
{
	size_t n = strlen(h);
	return n && n <= 63 && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n &&
	       h[0] != '-' && h[0] != '.';
}

static NOINLINE void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "detach", no_argument, 0, 'd' }, { "interactive", no_argument, 0, 'i' },
		{ "tty", no_argument, 0, 't' }, { "rm", no_argument, 0, 'R' },
		{ "name", required_argument, 0, 'N' }, { "env", required_argument, 0, 'e' },
		{ "env-file", required_argument, 0, 'E' }, { "volume", required_argument, 0, 'v' },
		{ "workdir", required_argument, 0, 'w' }, { "user", required_argument, 0, 'u' },
		{ "hostname", required_argument, 0, 'h' }, { "init", no_argument, 0, 'I' },
		{ "read-only", no_argument, 0, 'r' }, { "memory", required_argument, 0, 'L' },
		{ "memory-swap", required_argument, 0, 'L' }, { "cpus", required_argument, 0, 'L' },
		{ "cpu-shares", required_argument, 0, 'L' }, { "cpuset-cpus", required_argument, 0, 'L' },
		{ "cpuset-mems", required_argument, 0, 'L' }, { "pids-limit", required_argument, 0, 'L' },
		{ "privileged", no_argument, 0, 'P' }, { "cap-add", required_argument, 0, 'A' },
		{ "cap-drop", required_argument, 0, 'D' }, { "security-opt", required_argument, 0, 'S' },
		{ "net", required_argument, 0, 'n' }, { "network", required_argument, 0, 'n' },
		{ "publish", required_argument, 0, 'p' },
		{ 0, 0, 0, 0 },
	};
	struct container *c = &o->c;
	struct err e;
	char flag[32];
	int ch, li = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+ditN:e:v:w:u:h:m:c:p:", lo, &li)) != -1) {
		switch (ch) {
		case 'm': case 'c': case 'L':	/* resource limits: lib/cgparse.c */
			if (ch == 'L')
				snprintf(flag, sizeof(flag), "--%s", lo[li].name);
			else
				snprintf(flag, sizeof(flag), "-%c", ch);
			if (cg_parse_flag(&c->limits, flag, optarg, &e))
				die_err(125, &e);
			break;
		case 'P': c->privileged = c->limits.all_devices = 1; break;
		case 'n': free(c->net), c->net = xstrdup(optarg); break;
		case 'p': strv_push(&c->ports, xstrdup(optarg)); break;
		case 'A': strv_push(&c->cap_add, xstrdup(optarg)); break;
		case 'D': strv_push(&c->cap_drop, xstrdup(optarg)); break;
		case 'S':
			if (!strcmp(optarg, "seccomp=unconfined") || !strcmp(optarg, "seccomp:unconfined"))
				c->seccomp_unconfined = 1;
			else if (strcmp(optarg, "no-new-privileges") && strcmp(optarg, "no-new-privileges:true") &&
				 strcmp(optarg, "no-new-privileges=true"))
				die(125, "invalid --security-opt \"%s\": only no-new-privileges and "
				    "seccomp=unconfined are supported", optarg);
			else
				c->no_new_privs = 1;
			break;
		case 'd': c->detach = 1; break;
		case 'i': c->interactive = 1; break;
		case 't': c->tty = 1; break;
		case 'R': c->autoremove = 1; break;
		case 'I': c->init = 1; break;
		case 'r': c->read_only = 1; break;
		case 'e': add_env(&o->env, optarg); break;
		case 'E': read_env_file(&o->env, optarg); break;
		case 'v': add_volume(c, optarg); break;
		case 'N':
			if (!name_valid(optarg))
				die(125, "invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				    optarg);
			snprintf(c->name, sizeof(c->name), "%s", optarg);
			break;
		case 'w':
			if (optarg[0] != '/')
				die(125, "the working directory \"%s\" is invalid: it must be an absolute path", optarg);
			free(c->workdir), c->workdir = xstrdup(optarg);
			break;
		case 'u':
			if (!*optarg || strlen(optarg) > 200 || strchr(optarg, ':') != strrchr(optarg, ':'))
				die(125, "invalid user \"%s\": expected UID[:GID]", optarg);
			free(c->user), c->user = xstrdup(optarg);
			break;
		case 'h':
			if (!hostname_valid(optarg))
				die(125, "invalid hostname \"%s\"", optarg);
			free(c->hostname), c->hostname = xstrdup(optarg);
			break;
		default:
			warnx("unknown or incomplete flag \"%s\"", argv[optind - 1]);
			usage(2);
		}
	}
	if (optind >= argc) {
		warnx("an image is required");
		usage(2);
	}
	uint64_t caps;
	if (cg_limits_check(&c->limits, &e) || sec_caps(c->cap_add, c->cap_drop, &caps, &e))
		die_err(125, &e);
}

/* Image config + flags -> the record: command, environment, workdir, user. */
static void apply_image(struct opts *o, const struct image *img, char **args)
{
	struct container *c = &o->c;
	for (char **p = img->entrypoint; p && *p; p++)
		strv_push(&c->argv, xstrdup(*p));
	for (char **p = *args ? args : img->cmd; p && *p; p++)
		strv_push(&c->argv, xstrdup(*p));
	if (!c->argv)
		die(125, "no command specified (the image has no Cmd or Entrypoint)");
	c->env = xcalloc(1, sizeof(char *));
	for (char **p = img->env; p && *p; p++)
		env_set(&c->env, xstrdup(*p));
	for (char **p = o->env; p && *p; p++)
		env_set(&c->env, xstrdup(*p));
	if (!c->workdir && img->workdir && img->workdir[0] == '/')
		c->workdir = xstrdup(img->workdir);
	if (!c->user && img->user && *img->user)
		c->user = xstrdup(img->user);
	if (img->stop_signal)
		c->stop_signal = xstrdup(img->stop_signal);
	c->image_id = xstrdup(img->id);
}

/* where overlay cannot work, the container gets its own copy of the image, made once here */
static NOINLINE void prepare(struct container *c, const struct image *img)
{
	char dir[4096];
	struct err e = { 0 };
	int copied;
	ctr_dir(c->id, dir, sizeof(dir));
	if (stg_prepare(dir, img->layers, img->nlayers, &copied, &e)) {
		ctr_remove(c->id, &(struct err){ 0 });
		ctr_unlink_lock(c->id);
		die_err(125, &e);
	}
	if (copied)
		warnx("no overlay: %s; the container gets its own copy of the image", stg_why(copied));
}

int run_main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct container *c = &o.c;
	struct image img;
	struct err e = { 0 };
	int code;
	/* everything is validated before anything is created */
	parse(argc, argv, &o);
	if (image_resolve(argv[optind], &img, &e))
		die(125, "%s", e.no == ENOENT ? xasprintf("unable to find image \"%s\"", argv[optind]) : e.msg);
	apply_image(&o, &img, argv + optind + 1);
	c->image = xstrdup(argv[optind]);
	if (!c->net)
		c->net = xstrdup("none");
	if (network_validate(c->net, c->ports, &e))	/* the network exists, -p parses */
		die_err(125, &e);
	if (id_new(c->id, &e))
		die_err(125, &e);
	if (!c->hostname)
		c->hostname = xasprintf("%.12s", c->id);
	c->status = CTR_CREATED;
	c->created = now_ns();
	if (ctr_create(c, &e))
		die_err(125, &e);
	int lk = ctr_lock(c->id, &e);
	if (lk < 0)
		die_err(125, &e);
	prepare(c, &img);
	int flags = LAUNCH_FRESH | (c->detach ? LAUNCH_DETACH : 0) | (c->interactive ? LAUNCH_STDIN : 0);
	if (ctr_launch(c, img.layers, img.nlayers, lk, flags, &code, &e))
		die_err(code, &e);
	if (c->detach)
		printf("%s\n", c->id);
	return code;
}
