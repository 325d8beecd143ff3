/* info: what this host's kernel offers mydocker, and what it lacks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include "applets.h"
#include "cgroup.h"
#include "state.h"
#include "storage.h"

const char info_usage[] =
	"Usage: mydocker info\n\n"
	"Show what this host offers: kernel, cgroups, overlay (can the state root hold an upper\n"
	"dir?), storage, nf_tables, pivot_root or no-pivot, namespaces, the state root's free space,\n"
	"and a WARNING line for each thing it lacks. As root it probes for real (throw-away mounts\n"
	"in a private mount namespace, a netlink request); else it reads /proc and /sys.\n";

#define KEYW "%-12s"

static char warn[8][200];
static int nwarn;

static void warning(const char *msg)
{
	if (nwarn < (int)ARRAY_SIZE(warn))
		snprintf(warn[nwarn++], sizeof(warn[0]), "%s", msg);
}

/* The mount holding path (longest mount point that prefixes it), from mountinfo: its fs type.
 * root_noparent: set when the mount at "/" has no parent (the namespace's first mount). */
static void mount_of(const char *path, char *fstype, size_t n, int *root_noparent)
{
	struct buf b = { 0 };
	size_t best = 0;
	snprintf(fstype, n, "?");
	if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4 << 20, &b))
		return;
	for (char *l = strtok(b.p, "\n"); l; l = strtok(NULL, "\n")) {
		char *f[5], *sep = strstr(l, " - "), *save = NULL;
		if (!sep)
			continue;
		*sep = 0;
		int k = 0;
		for (char *t = strtok_r(l, " ", &save); t && k < 5; t = strtok_r(NULL, " ", &save))
			f[k++] = t;
		char *type = strtok_r(sep + 3, " ", &save);
		if (k < 5 || !type)
			continue;
		long id = strtol(f[0], NULL, 10), parent = strtol(f[1], NULL, 10);
		const char *mp = f[4];
		size_t len = strlen(mp);
		if (!strcmp(mp, "/") && root_noparent)
			*root_noparent = id == parent || !strcmp(type, "rootfs");
		int under = !strncmp(path, mp, len) && (path[len] == '/' || !path[len] || len == 1);
		if (under && len >= best) {	/* >=: the last of stacked mounts is the visible one */
			best = len;
			snprintf(fstype, n, "%s", type);
		}
	}
	buf_free(&b);
}

/* The state root if it exists, else its nearest existing ancestor (what it would be created on). */
static void existing_dir(const char *root, char *out, size_t n)
{
	struct stat st;
	snprintf(out, n, "%s", root);
	while (stat(out, &st) || !S_ISDIR(st.st_mode)) {
		char *s = strrchr(out, '/');
		if (!s || s == out) {
			snprintf(out, n, "/");
			return;
		}
		*s = 0;
	}
}

/* ---- nf_tables: ask for the ruleset generation over NETLINK_NETFILTER ---- */

static int nft_probe(void)
{
	struct {
		struct nlmsghdr nh;
		struct nfgenmsg g;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1 },
		.g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 },
	};
	char buf[4096];
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int r = send(fd, &req, sizeof(req), 0) < 0 ? -errno : -EIO;
	ssize_t n = r == -EIO ? recv(fd, buf, sizeof(buf), 0) : -1;
	close(fd);
	if (n < (ssize_t)sizeof(struct nlmsghdr))
		return n < 0 && r == -EIO ? -errno : r;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *er = NLMSG_DATA(h);
		return er->error;
	}
	return 0;	/* NFT_MSG_NEWGEN */
}

/* ---- the lines ---- */

static void line_kernel(void)
{
	struct utsname u;
	uname(&u);
	printf(KEYW "%s (%s)\n", "Kernel:", u.release, u.machine);
}

static void line_cgroups(void)
{
	const struct cg_layout *l;
	struct err e = { 0 };
	char ctrl[256] = "";
	if (cg_layout(&l, &e)) {
		printf(KEYW "unknown (%s)\n", "Cgroups:", e.msg);
		return;
	}
	for (int c = 0; c < CG_NCTRL; c++)
		if (l->have & (1u << c))
			snprintf(ctrl + strlen(ctrl), sizeof(ctrl) - strlen(ctrl), " %s", cg_ctrl_name(c));
	if (l->mode == CG_NONE) {
		printf(KEYW "none (no cgroup hierarchy mounted)\n", "Cgroups:");
		warning("no cgroups: -m, --cpus, --pids-limit cannot be enforced (mount cgroup2 on /sys/fs/cgroup)");
		return;
	}
	const char *at = l->mode == CG_V2 ? l->v2 : "";
	printf(KEYW "%s%s%s, controllers:%s\n", "Cgroups:", cg_mode_str(l), *at ? " at " : "", at,
	       *ctrl ? ctrl : " none");
	if (!(l->have & (1u << CG_MEMORY)))
		warning("no memory controller: -m cannot be enforced");
	if (!(l->have & (1u << CG_PIDS)))
		warning("no pids controller: --pids-limit cannot be enforced");
	if (!(l->have & (1u << CG_CPU)))
		warning("no cpu controller: --cpus and --cpu-shares cannot be enforced");
}

/* Overlay, Storage and Root lines: from the probe as root, else from /proc. */
static void line_storage(const char *dir, const char *fstype, int noparent)
{
	struct stg_probe pr;
	struct err e;
	int fs = stg_have_overlay();
	int probed = geteuid() == 0 && !stg_probe(dir, &pr, &e);
	if (probed)
		fs = stg_have_overlay();	/* the mount may have loaded the module */
	int ok = probed ? pr.overlay == 0 : fs && strcmp(fstype, "overlay") && strncmp(fstype, "nfs", 3);
	if (ok)
		printf(KEYW "yes (%s can hold the upper dir%s)\n", "Overlay:", fstype, probed ? "" : "; not probed: needs root");
	else if (!fs) {
		printf(KEYW "no (not in the kernel: modprobe overlay)\n", "Overlay:");
		warning("no overlay filesystem: each container gets its own copy of its image");
	} else {
		printf(KEYW "no (%s cannot hold an overlay upper dir%s%s)\n", "Overlay:", fstype,
		       probed ? ": " : "", probed ? strerror(pr.overlay) : "");
		warning("the state root cannot hold an overlay upper dir: each container gets its own copy "
			"of its image (a --root on tmpfs, ext4 or xfs avoids it)");
	}
	printf(KEYW "%s\n", "Storage:", ok ? "overlay (image layers shared, read-only)" :
					     "vfs (a copy of the image per container, made once at create)");
	int pivot = probed ? pr.pivot == 0 : !noparent;
	if (pivot)
		printf(KEYW "pivot_root\n", "Root:");
	else {
		printf(KEYW "no-pivot (/ is an initramfs%s: MS_MOVE + chroot)\n", "Root:",
		       probed ? "" : " (not probed)");
		warning("/ is an initramfs: containers get their root by MS_MOVE + chroot (see README)");
	}
}

static void line_nft(void)
{
	int r = nft_probe();
	if (r == -EPERM)
		r = access("/sys/module/nf_tables", F_OK) ? -ENOENT : 0;
	if (!r) {
		printf(KEYW "yes\n", "nf_tables:");
		return;
	}
	printf(KEYW "no (%s)\n", "nf_tables:", strerror(-r));
	warning("no nf_tables: bridge networks cannot NAT (no outgoing traffic, no -p)");
}

static void line_ns(void)
{
	static const char *const want[] = { "mnt", "pid", "uts", "ipc", "net", "user", "cgroup", "time" };
	char p[64], have[128] = "", miss[128] = "";
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		snprintf(p, sizeof(p), "/proc/self/ns/%s", want[i]);
		char *s = access(p, F_OK) ? miss : have;
		snprintf(s + strlen(s), 128 - strlen(s), " %s", want[i]);
	}
	printf(KEYW "%s%s%s\n", "Namespaces:", have + 1, *miss ? "; missing:" : "", miss);
	if (strstr(miss, "mnt") || strstr(miss, "pid") || strstr(miss, "net") || strstr(miss, "uts") ||
	    strstr(miss, "ipc"))
		warning("namespaces missing from the kernel: containers cannot run");
}

static void line_root(const char *root, const char *dir, const char *fstype)
{
	struct statvfs sv;
	char fr[16], tot[16];
	if (statvfs(dir, &sv)) {
		printf(KEYW "%s (%s: %s)\n", "State root:", root, dir, strerror(errno));
		return;
	}
	fmt_size((uint64_t)sv.f_bavail * sv.f_frsize, fr);
	fmt_size((uint64_t)sv.f_blocks * sv.f_frsize, tot);
	printf(KEYW "%s%s%s (%s, %s free of %s)\n", "State root:", root, strcmp(root, dir) ? ", not created yet, on " : "",
	       strcmp(root, dir) ? dir : "", fstype, fr, tot);
}

int info_main(int argc, char **argv)
{
	char dir[4096], fstype[64];
	int noparent = 0;
	if (argc > 1)
		usage(2);
	const char *root = state_root();
	existing_dir(root, dir, sizeof(dir));
	mount_of(dir, fstype, sizeof(fstype), &noparent);
	printf("mydocker version %s\n", MYDOCKER_VERSION);
	line_kernel();
	line_cgroups();
	line_storage(dir, fstype, noparent);
	line_nft();
	line_ns();
	line_root(root, dir, fstype);
	for (int i = 0; i < nwarn; i++)
		printf("WARNING: %s\n", warn[i]);
	fflush(stdout);
	return 0;
}
