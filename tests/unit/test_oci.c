/* Unit tests: an OCI runtime spec (config.json) read into the runtime's structures: process,
 * mounts and their options, namespaces, resources, cgroupsPath, and the refusals (fields that
 * would weaken isolation if ignored). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>
#include "unit.h"
#include "oci.h"

static char dir[] = "/tmp/test_oci.XXXXXX";

/* write dir/config.json = base with "linux" (and extra top-level members) as given, then load it */
static int load(const char *linux_json, const char *extra, struct oci_spec *s, struct err *e)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/config.json", dir);
	FILE *f = fopen(p, "w");
	fprintf(f, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
		   "\"hostname\":\"h1\",%s"
		   "\"process\":{\"args\":[\"sh\",\"-c\",\"x\"],\"env\":[\"A=1\"],\"cwd\":\"/w\","
		   "\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,6]},\"terminal\":true,"
		   "\"noNewPrivileges\":true,\"oomScoreAdj\":-5,"
		   "\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\",\"CAP_CHOWN\"]},"
		   "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":512}]},"
		   "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		   "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		   "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
		   "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"d\",\"options\":[\"rbind\",\"ro\",\"rw\",\"ro\",\"rslave\"]}],"
		   "\"linux\":%s}", extra, linux_json);
	fclose(f);
	memset(e, 0, sizeof(*e));
	return oci_load(dir, "ctr1", s, e);
}

#define NS "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"ipc\"}," \
	   "{\"type\":\"network\",\"path\":\"/var/run/netns/cni-1\"}]"

TEST(process)
{
	struct oci_spec s;
	struct err e;
	CHECK(load("{" NS "}", "", &s, &e) == 0);
	CHECK_STR(s.p.args[2], "x");
	CHECK_STR(s.p.env[0], "A=1");
	CHECK_STR(s.p.cwd, "/w");
	CHECK(s.p.uid == 1000 && s.p.gid == 100 && s.p.ngids == 2 && s.p.gids[1] == 6);
	CHECK(s.p.terminal && s.p.nnp && s.p.has_oom && s.p.oom == -5);
	CHECK(s.p.caps && !strcmp(s.p.caps[1], "CAP_CHOWN") && !s.p.caps[2]);
	CHECK(s.p.nrlim == 1 && s.p.rlim[0].res == RLIMIT_NOFILE && s.p.rlim[0].soft == 512);
	CHECK(s.root_ro && !strncmp(s.root, dir, strlen(dir)) && !strcmp(s.root + strlen(dir), "/rootfs"));
	CHECK_STR(s.hostname, "h1");
	CHECK_STR(s.cgpath, "mydocker/ctr1");
	oci_free(&s);
}

TEST(mounts)
{
	struct oci_spec s;
	struct err e;
	char src[300];
	CHECK(load("{" NS "}", "", &s, &e) == 0);
	CHECK(s.nmounts == 3);
	CHECK_STR(s.mounts[0].type, "proc");
	CHECK(s.mounts[1].flags == (MS_NOSUID | MS_STRICTATIME));
	CHECK_STR(s.mounts[1].data, "mode=755,size=65536k");
	/* a bind: no type, source relative to the bundle, flags applied in order, propagation apart */
	snprintf(src, sizeof(src), "%s/d", dir);
	CHECK(s.mounts[2].type == NULL);
	CHECK_STR(s.mounts[2].src, src);
	CHECK(s.mounts[2].flags == (MS_REC | MS_RDONLY));
	CHECK(s.mounts[2].prop == (MS_SLAVE | MS_REC));
	oci_free(&s);
}

TEST(namespaces)
{
	struct oci_spec s;
	struct err e;
	CHECK(load("{" NS "}", "", &s, &e) == 0);
	CHECK(s.clone == (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC));
	CHECK(s.njoin == 1 && s.join[0].type == CLONE_NEWNET && !strcmp(s.join[0].path, "/var/run/netns/cni-1"));
	oci_free(&s);
	CHECK(load("{\"namespaces\":[{\"type\":\"pid\"}]}", "", &s, &e) == -EINVAL);
	CHECK(strstr(e.msg, "mount namespace") != NULL);
	oci_free(&s);
	CHECK(load("{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"bogus\"}]}", "", &s, &e) == -EINVAL);
	oci_free(&s);
	/* a hostname needs a UTS namespace of its own */
	CHECK(load("{\"namespaces\":[{\"type\":\"mount\"}]}", "", &s, &e) == -EINVAL);
	CHECK(strstr(e.msg, "hostname") != NULL);
	oci_free(&s);
	/* a user namespace needs its mappings */
	CHECK(load("{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"user\"}]}", "", &s, &e) ==
	      -EINVAL);
	oci_free(&s);
}

TEST(resources)
{
	struct oci_spec s;
	struct err e;
	CHECK(load("{" NS ",\"cgroupsPath\":\"/default/ctr1\",\"resources\":{\"memory\":{\"limit\":67108864},"
		   "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000},\"pids\":{\"limit\":64},"
		   "\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}}", "", &s, &e) == 0);
	CHECK(s.cg.memory == 67108864 && s.cg.cpu_shares == 512 && s.cg.nano_cpus == 500000000);
	CHECK(s.cg.pids_limit == 64 && !s.cg.all_devices);
	CHECK_STR(s.cgpath, "default/ctr1");
	oci_free(&s);
	/* "allow everything" (privileged) is the one device rule that loosens the default */
	CHECK(load("{" NS ",\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwm\"}]}}", "", &s, &e) == 0);
	CHECK(s.cg.all_devices);
	oci_free(&s);
	CHECK(load("{" NS ",\"cgroupsPath\":\"system.slice:cri:x\"}", "", &s, &e) == -EINVAL);
	oci_free(&s);
	CHECK(load("{" NS ",\"cgroupsPath\":\"/a/../b\"}", "", &s, &e) == -EINVAL);
	oci_free(&s);
	/* "/ID" alone: under mydocker/, as the containers of run */
	CHECK(load("{" NS ",\"cgroupsPath\":\"/x1\"}", "", &s, &e) == 0);
	CHECK_STR(s.cgpath, "mydocker/x1");
	oci_free(&s);
	CHECK_STR(oci_cg("kubepods/pod1/ctr1"), "ctr1");
	cg_set_parent(NULL);
}

TEST(refusals)
{
	struct oci_spec s;
	struct err e;
	CHECK(load("{" NS ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\"}}", "", &s, &e) == -EINVAL);
	CHECK(strstr(e.msg, "seccomp") != NULL);
	oci_free(&s);
	/* sysctl: runc's allowlist, each with its own namespace */
	CHECK(load("{" NS ",\"sysctl\":{\"kernel.shmmax\":\"1\",\"net.ipv4.ip_forward\":\"1\"}}", "", &s, &e) == 0);
	oci_free(&s);
	CHECK(load("{" NS ",\"sysctl\":{\"kernel.panic\":\"1\"}}", "", &s, &e) == -EINVAL);
	CHECK(strstr(e.msg, "kernel.panic") != NULL);
	oci_free(&s);
	CHECK(load("{" NS ",\"sysctl\":{\"vm.swappiness\":\"1\"}}", "", &s, &e) == -EINVAL);
	oci_free(&s);
	/* hooks that would run inside the container are not silently skipped */
	CHECK(load("{" NS "}", "\"hooks\":{\"startContainer\":[{\"path\":\"/x\"}]},", &s, &e) == -EINVAL);
	oci_free(&s);
	CHECK(load("{" NS "}", "\"hooks\":{\"prestart\":[{\"path\":\"/x\"}]},", &s, &e) == 0);
	oci_free(&s);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(process);
	RUN(mounts);
	RUN(namespaces);
	RUN(resources);
	RUN(refusals);
	char p[300];
	snprintf(p, sizeof(p), "%s/config.json", dir);
	unlink(p);
	rmdir(dir);
	return UNIT_END();
}
