/* main: busybox-style dispatch. The applet is basename(argv[0]) without "mydocker-",
 * else argv[1]. This table is the only place an applet is registered; keep it sorted. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "applets.h"
#include "state.h"
#include "util.h"

static const struct applet applets[] = {
	{ "commit", commit_main, commit_usage, "Create a new image from a container's changes" },
	{ "exec", exec_main, exec_usage, "Run a command in a running container" },
	{ "export", export_main, export_usage, "Export a container's file system as a tar archive" },
	{ "images", images_main, images_usage, "List images" },
	{ "import", import_main, import_usage, "Import a tarball as an image, checking its SHA-256" },
	{ "info", info_main, info_usage, "Show what this host offers: cgroups, overlay, nf_tables, pivot mode" },
	{ "init", init_main, init_usage, "The container's first process (internal)" },
	{ "inspect", inspect_main, inspect_usage, "Show the stored JSON of a container or image" },
	{ "load", load_main, load_usage, "Load images from a docker save or OCI archive" },
	{ "logs", logs_main, logs_usage, "Show the output of a detached container" },
	{ "net", net_main, net_usage, "Manage bridge networks" },
	{ "ps", ps_main, ps_usage, "List containers" },
	{ "rm", rm_main, rm_usage, "Remove containers" },
	{ "rmi", rmi_main, rmi_usage, "Remove images" },
	{ "run", run_main, run_usage, "Run a command in a new container" },
	{ "runc", runc_main, runc_usage, "OCI runtime with runc's command line (for containerd, k3s)" },
	{ "save", save_main, save_usage, "Save images to a docker save / OCI archive" },
	{ "start", start_main, start_usage, "Start stopped containers" },
	{ "stats", stats_main, stats_usage, "Show memory and process usage of containers" },
	{ "stop", stop_main, stop_usage, "Stop running containers" },
	{ "version", version_main, version_usage, "Show the version" },
};

const struct applet *cur_applet;

static int cmp_applet(const void *key, const void *a)
{
	return strcmp(key, ((const struct applet *)a)->name);
}

static const struct applet *find(const char *name)
{
	if (!strcmp(name, "network"))
		name = "net";
	return bsearch(name, applets, ARRAY_SIZE(applets), sizeof(applets[0]), cmp_applet);
}

void usage(int code)
{
	FILE *f = code ? stderr : stdout;
	fputs(cur_applet->usage, f);
	exit(code);
}

const char *self_exe(void)
{
	static char path[PATH_MAX];
	if (!path[0]) {
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		if (n <= 0)
			return NULL;
		path[n] = 0;
	}
	return path;
}

static void top_usage(FILE *f)
{
	fprintf(f, "Usage: mydocker [--root DIR] APPLET [ARGS...]\n"
		   "       mydocker --list | --install [DIR] | --help\n\n"
		   "A container tool in one static binary. Applets:\n");
	for (size_t i = 0; i < ARRAY_SIZE(applets); i++)
		fprintf(f, "  %-10s %s\n", applets[i].name, applets[i].help);
	fprintf(f, "\nState root: --root DIR, $MYDOCKER_ROOT, or /var/lib/mydocker.\n");
}

/* Make mydocker-NAME symlinks in dir pointing at this binary. */
static NOINLINE int install_links(const char *dir)
{
	char def[PATH_MAX];
	const char *exe = self_exe();
	if (!exe)
		die(1, "cannot find own binary: %s", strerror(errno));
	if (!dir) {
		snprintf(def, sizeof(def), "%s", exe);
		char *slash = strrchr(def, '/');
		*slash = 0;
		dir = def[0] ? def : "/";
	}
	/* beside the binary: relative links, so the directory can be moved or packaged */
	size_t dl = strlen(dir);
	const char *target = !strncmp(exe, dir, dl) && exe[dl] == '/' && !strchr(exe + dl + 1, '/') ?
			     exe + dl + 1 : exe;
	for (size_t i = 0; i < ARRAY_SIZE(applets); i++) {
		char link[PATH_MAX], tmp[PATH_MAX];
		snprintf(link, sizeof(link), "%s/mydocker-%s", dir, applets[i].name);
		snprintf(tmp, sizeof(tmp), "%s/.mydocker-%s.tmp", dir, applets[i].name);
		unlink(tmp);
		if (symlink(target, tmp) || rename(tmp, link)) {
			int no = errno;
			unlink(tmp);
			die(1, "install %s: %s", link, strerror(no));
		}
	}
	return 0;
}

/* "--root DIR" / "--root=DIR" at argv[*i]: consume it. */
static int take_root(int argc, char **argv, int *i)
{
	if (*i < argc && !strncmp(argv[*i], "--root=", 7)) {
		state_set_root(argv[(*i)++] + 7);
		return 1;
	}
	if (*i < argc && !strcmp(argv[*i], "--root")) {
		if (*i + 1 >= argc)
			die(2, "--root needs a directory");
		state_set_root(argv[*i + 1]);
		*i += 2;
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	int i = 1;

	applet_name = "mydocker";
	size_t bl = strlen(base);
	/* containerd and k3s call their runtime by a name ending in "runc" */
	if (bl >= 4 && !strcmp(base + bl - 4, "runc")) {
		cur_applet = find("runc");
	} else if (!strncmp(base, "mydocker-", 9)) {
		cur_applet = find(base + 9);
		if (!cur_applet) {
			top_usage(stderr);
			die(2, "unknown applet \"%s\"", base + 9);
		}
	} else {
		while (take_root(argc, argv, &i))
			;
		if (i >= argc) {
			top_usage(stderr);
			return 2;
		}
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			top_usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--list")) {
			for (size_t k = 0; k < ARRAY_SIZE(applets); k++)
				puts(applets[k].name);
			return 0;
		}
		if (!strcmp(a, "--install"))
			return install_links(i + 1 < argc ? argv[i + 1] : NULL);
		if (!strcmp(a, "--version") || !strcmp(a, "-v"))
			a = "version";
		cur_applet = find(a);
		if (!cur_applet) {
			top_usage(stderr);
			die(2, "unknown applet \"%s\"", a);
		}
		i++;
	}
	applet_name = cur_applet->name;
	/* argv for the applet: argv[0] = applet name, then its arguments (after an optional --root). */
	while (cur_applet->main != runc_main && take_root(argc, argv, &i))	/* runc: its own --root */
		;
	argv[i - 1] = (char *)cur_applet->name;
	if (i < argc && !strcmp(argv[i], "--help") && strcmp(cur_applet->name, "init"))
		usage(0);
	return cur_applet->main(argc - i + 1, argv + i - 1);
}
