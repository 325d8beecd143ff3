/* test_container: the container record (JSON round trip, defaults, rejection), lookup, liveness. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "container.h"
#include "json.h"
#include "unit.h"

#define ID1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde0"
#define ID3 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static char *argv_odd[] = { "sh", "-c", "echo \"hi\"\n'there' \\ back\ttab", "h\xc3\xa9llo \xe2\x98\x83", "", NULL };
static char *env1[] = { "PATH=/bin", "A=b=c", NULL };

static void fill(struct container *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->id, ID1);
	strcpy(c->name, "web_1.x-y");
	c->image = strdup("busybox:latest");
	c->image_id = strdup("ab12");
	c->argv = calloc(6, sizeof(char *));
	for (int i = 0; argv_odd[i]; i++)
		c->argv[i] = strdup(argv_odd[i]);
	c->env = calloc(3, sizeof(char *));
	for (int i = 0; env1[i]; i++)
		c->env[i] = strdup(env1[i]);
	c->vols = calloc(2, sizeof(*c->vols));
	c->nvols = 2;
	c->vols[0] = (struct vol){ strdup("/srv/a"), strdup("/data"), 0 };
	c->vols[1] = (struct vol){ strdup("/srv/b c"), strdup("/ro"), 1 };
	c->workdir = strdup("/tmp");
	c->user = strdup("1000:1000");
	c->hostname = strdup("box");
	c->tty = 1, c->interactive = 1, c->detach = 0, c->autoremove = 1;
	c->read_only = 1, c->init = 1, c->privileged = 0;
	c->net = strdup("none");
	c->stop_signal = strdup("SIGQUIT");
	c->status = CTR_EXITED;
	c->pid = 4242, c->pid_start = 123456789012ULL, c->monitor_pid = 4241;
	c->exit_code = 137, c->oom_killed = 1;
	c->created = 1700000000123456789LL, c->started = 1700000001000000000LL;
	c->finished = 1700000002987654321LL;
}

TEST(round_trip)
{
	struct container a, b;
	struct buf j = { 0 };
	struct err e = { 0 };
	fill(&a);
	CHECK(ctr_to_json(&a, &j) == 0);
	CHECK(strstr(j.p, "\n  \"Id\": \"" ID1 "\"") != NULL);	/* pretty, like docker inspect */
	CHECK(ctr_from_json(j.p, j.len, &b, &e) == 0);
	CHECK_STR(b.id, a.id);
	CHECK_STR(b.name, a.name);
	CHECK_STR(b.image, a.image);
	CHECK_STR(b.image_id, a.image_id);
	CHECK(strv_len(b.argv) == 5);
	for (int i = 0; i < 5 && b.argv; i++)
		CHECK_STR(b.argv[i], argv_odd[i]);
	CHECK(strv_len(b.env) == 2);
	CHECK(b.nvols == 2);
	if (b.nvols == 2) {
		CHECK_STR(b.vols[1].src, "/srv/b c");
		CHECK_STR(b.vols[1].dst, "/ro");
		CHECK(b.vols[1].ro == 1 && b.vols[0].ro == 0);
	}
	CHECK_STR(b.workdir, "/tmp");
	CHECK_STR(b.user, "1000:1000");
	CHECK_STR(b.hostname, "box");
	CHECK(b.tty == 1 && b.interactive == 1 && b.detach == 0 && b.autoremove == 1);
	CHECK(b.read_only == 1 && b.init == 1 && b.privileged == 0);
	CHECK_STR(b.net, "none");
	CHECK(b.ip == NULL);
	CHECK_STR(b.stop_signal, "SIGQUIT");
	CHECK(b.status == CTR_EXITED && b.pid == 4242 && b.pid_start == 123456789012ULL);
	CHECK(b.monitor_pid == 4241 && b.exit_code == 137 && b.oom_killed == 1);
	CHECK(b.created == a.created && b.started == a.started && b.finished == a.finished);
	/* and the second serialisation is identical */
	struct buf j2 = { 0 };
	CHECK(ctr_to_json(&b, &j2) == 0);
	CHECK(j.len == j2.len && !memcmp(j.p, j2.p, j.len));
	buf_free(&j), buf_free(&j2);
	ctr_free(&a), ctr_free(&b);
}

TEST(never_times)
{
	struct container a, b;
	struct buf j = { 0 };
	memset(&a, 0, sizeof(a));
	strcpy(a.id, ID1);
	CHECK(ctr_to_json(&a, &j) == 0);
	CHECK(strstr(j.p, "\"FinishedAt\": \"0001-01-01T00:00:00Z\"") != NULL);
	CHECK(strstr(j.p, "\"Status\": \"created\"") != NULL);
	CHECK(ctr_from_json(j.p, j.len, &b, NULL) == 0);
	CHECK(b.started == 0 && b.finished == 0 && b.created == 0 && b.status == CTR_CREATED);
	buf_free(&j);
	ctr_free(&b);
}

TEST(defaults)
{
	struct container c;
	const char *t = "{\"Id\": \"" ID1 "\", \"Unknown\": {\"x\": [1, 2]}, \"Name\": \"n\"}";
	CHECK(ctr_from_json(t, strlen(t), &c, NULL) == 0);
	CHECK_STR(c.id, ID1);
	CHECK_STR(c.name, "n");
	CHECK(c.argv == NULL && c.env == NULL && c.nvols == 0 && c.image == NULL);
	CHECK(c.status == CTR_CREATED && c.pid == 0 && c.exit_code == 0 && c.tty == 0);
	ctr_free(&c);
}

static void reject(const char *t, const char *key)
{
	struct container c;
	struct err e = { 0 };
	int r = ctr_from_json(t, strlen(t), &c, &e);
	CHECK(r < 0);
	if (key && !strstr(e.msg, key)) {
		printf("FAIL %s: message \"%s\" does not name %s\n", unit_cur, e.msg, key);
		unit_cur_failed = 1;
	}
	if (!r)
		ctr_free(&c);
}

TEST(wrong_types)
{
	reject("{\"Id\": \"" ID1 "\", \"Tty\": \"yes\"}", "Tty");
	reject("{\"Id\": \"" ID1 "\", \"Args\": [\"a\", 1]}", "Args");
	reject("{\"Id\": \"" ID1 "\", \"Args\": \"sh\"}", "Args");
	reject("{\"Id\": \"" ID1 "\", \"Env\": {}}", "Env");
	reject("{\"Id\": \"" ID1 "\", \"Image\": 5}", "Image");
	reject("{\"Id\": \"" ID1 "\", \"State\": {\"Pid\": \"12\"}}", "State.Pid");
	reject("{\"Id\": \"" ID1 "\", \"State\": {\"Pid\": 1.5}}", "State.Pid");
	reject("{\"Id\": \"" ID1 "\", \"State\": {\"Pid\": -3}}", "State.Pid");
	reject("{\"Id\": \"" ID1 "\", \"State\": {\"Status\": \"paused\"}}", "State.Status");
	reject("{\"Id\": \"" ID1 "\", \"State\": [1]}", "State");
	reject("{\"Id\": \"" ID1 "\", \"State\": {\"StartedAt\": \"yesterday\"}}", "State.StartedAt");
	reject("{\"Id\": \"" ID1 "\", \"Mounts\": [{\"Source\": \"/a\", \"Destination\": \"/b\", \"RW\": 1}]}", "RW");
	reject("{\"Id\": \"" ID1 "\", \"Mounts\": [{\"Source\": \"/a\"}]}", "Destination");
	reject("{\"Id\": \"" ID1 "\", \"Name\": \"../x\"}", "Name");
	reject("{\"Id\": \"../../etc\"}", "Id");
	reject("{\"Name\": \"x\"}", "Id");
	reject("{\"Id\": \"" ID1 "\", \"Args\": [\"a\\u0000b\"]}", "Args");
}

TEST(garbage)
{
	struct buf j = { 0 };
	struct container a, c;
	reject("", NULL);
	reject("null", NULL);
	reject("[]", NULL);
	reject("\"" ID1 "\"", NULL);
	reject("{", NULL);
	reject("not json at all", NULL);
	reject("{\"Id\": \"" ID1 "\"} trailing", NULL);
	fill(&a);
	ctr_to_json(&a, &j);
	/* every truncation of a valid record is rejected (the trailing newline and "}" aside) */
	int accepted = 0;
	for (size_t n = 0; n + 2 < j.len; n++) {
		if (!ctr_from_json(j.p, n, &c, NULL)) {
			accepted++;
			ctr_free(&c);
		}
	}
	CHECK(accepted == 0);
	buf_free(&j);
	ctr_free(&a);
}

TEST(proc_start)
{
	CHECK(proc_start_time(getpid()) != 0);
	CHECK(proc_start_time(0) == 0 && proc_start_time(-1) == 0);
	pid_t p = fork();
	if (!p)
		_exit(0);
	waitpid(p, NULL, 0);
	CHECK(proc_start_time(p) == 0);
	struct container c = { .pid = getpid(), .pid_start = proc_start_time(getpid()) };
	CHECK(ctr_alive(&c));
	c.pid_start++;
	CHECK(!ctr_alive(&c));
	c.pid_start = 0;
	CHECK(!ctr_alive(&c));
	/* a comm with spaces and ')' must not shift the fields */
	uint64_t before = proc_start_time(getpid());
	char old[32] = "";
	prctl(PR_GET_NAME, old);
	prctl(PR_SET_NAME, "a) b ) 1 2 3");
	CHECK(proc_start_time(getpid()) == before);
	prctl(PR_SET_NAME, old);
}

static char root[] = "/tmp/ctrtest.XXXXXX";

static void mk(const char *id, const char *name)
{
	struct container c;
	char d[4096];
	struct err e;
	memset(&c, 0, sizeof(c));
	strcpy(c.id, id);
	strcpy(c.name, name);
	ctr_dir(id, d, sizeof(d));
	mkdir(d, 0700);
	CHECK(ctr_save(&c, &e) == 0);
}

TEST(lookup)
{
	char id[ID_LEN + 1], d[4096];
	struct err e;
	struct container c;
	CHECK(mkdtemp(root) != NULL);
	state_set_root(root);
	CHECK(ctr_lookup("web", id, &e) == -ENOENT);	/* no containers dir yet */
	CHECK(state_init(&e) == 0);
	mk(ID1, "web");
	mk(ID2, "db");
	mk(ID3, "0123");
	CHECK(ctr_lookup(ID1, id, &e) == 0 && !strcmp(id, ID1));
	CHECK(ctr_lookup("web", id, &e) == 0 && !strcmp(id, ID1));
	CHECK(ctr_lookup("db", id, &e) == 0 && !strcmp(id, ID2));
	CHECK(ctr_lookup("0123", id, &e) == 0 && !strcmp(id, ID3));	/* a name beats a prefix */
	CHECK(ctr_lookup("fed", id, &e) == 0 && !strcmp(id, ID3));
	CHECK(ctr_lookup("01234", id, &e) == -EEXIST);
	CHECK(strstr(e.msg, "multiple containers match") != NULL);
	CHECK(ctr_lookup("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", id, &e) == 0);
	CHECK(ctr_lookup("nope", id, &e) == -ENOENT);
	CHECK(strstr(e.msg, "No such container: nope") != NULL);
	CHECK(ctr_lookup("../containers", id, &e) == -EINVAL);
	CHECK(ctr_lookup("a/b", id, &e) == -EINVAL);
	CHECK(ctr_lookup("", id, &e) == -EINVAL);
	CHECK(ctr_lookup(".", id, &e) == -EINVAL);
	CHECK(ctr_load("../../etc", &c, &e) == -EINVAL);
	CHECK(ctr_load(ID1, &c, &e) == 0 && !strcmp(c.name, "web"));
	ctr_free(&c);
	char **ids = NULL;
	CHECK(ctr_list(&ids, &e) == 0 && strv_len(ids) == 3);
	strv_free(ids);
	/* a symlinked config.json is refused */
	ctr_dir(ID2, d, sizeof(d));
	char f[4200];
	snprintf(f, sizeof(f), "%s/config.json", d);
	unlink(f);
	CHECK(symlink("/etc/passwd", f) == 0);
	CHECK(ctr_load(ID2, &c, &e) == -ELOOP);
	/* a record whose Id disagrees with its directory is refused */
	ctr_dir(ID3, d, sizeof(d));
	snprintf(f, sizeof(f), "%s/config.json", d);
	int fd = open(f, O_WRONLY | O_TRUNC);
	dprintf(fd, "{\"Id\": \"%s\"}", ID1);
	close(fd);
	CHECK(ctr_load(ID3, &c, &e) == -EINVAL);
	/* ctr_save does not create a removed container's dir */
	memset(&c, 0, sizeof(c));
	strcpy(c.id, "abababababababababababababababababababababababababababababababab");
	CHECK(ctr_save(&c, &e) == -ENOENT);
	int l = ctr_lock(ID1, &e);
	CHECK(l >= 0);
	close(l);
	CHECK(ctr_lock("x/../y", &e) == -EINVAL);
	/* refresh: a running record whose process is gone becomes exited (255), and is persisted */
	pid_t p = fork();
	if (!p) {
		pause();
		_exit(0);
	}
	memset(&c, 0, sizeof(c));
	strcpy(c.id, ID1);
	c.status = CTR_RUNNING;
	c.pid = p;
	c.pid_start = proc_start_time(p);
	CHECK(ctr_save(&c, &e) == 0);
	ctr_refresh(&c);
	CHECK(c.status == CTR_RUNNING);
	struct container q = c;
	q.pid_start++;	/* the same pid, another process: never signalled */
	CHECK(ctr_kill(&q, SIGKILL) == -ESRCH);
	CHECK(ctr_wait_down(&c, 50) == -ETIMEDOUT);
	CHECK(ctr_kill(&c, SIGKILL) == 0);
	CHECK(ctr_wait_down(&c, 5000) == 0);	/* a zombie is down */
	waitpid(p, NULL, 0);
	ctr_refresh(&c);
	CHECK(c.status == CTR_EXITED && c.exit_code == CTR_EXIT_UNKNOWN && c.finished > 0);
	ctr_free(&c);
	CHECK(ctr_load(ID1, &c, &e) == 0 && c.status == CTR_EXITED && c.pid == 0);
	ctr_free(&c);
	/* remove */
	CHECK(ctr_remove(ID1, &e) == 0);
	CHECK(ctr_lookup("web", id, &e) == -ENOENT);
	CHECK(ctr_remove("../x", &e) == -EINVAL);
	rm_rf(root);
}

/* Probing callers (the name check of run) pass no struct err: a record of the wrong shape must
 * still be refused, not crash (found by tests/t_corrupt.sh). */
TEST(wrong_types_no_err)
{
	static const char *bad[] = {
		"{\"Id\": \"" ID1 "\", \"Args\": 5}",
		"{\"Id\": \"" ID1 "\", \"State\": []}",
		"{\"Id\": \"" ID1 "\", \"Name\": 7}",
		"{\"Id\": 1}",
		"[1]",
		"{",
		/* duplicate keys: the last would win and could pose as another container */
		"{\"Id\": \"" ID1 "\", \"Name\": \"a\", \"Name\": \"b\"}",
		"{\"Id\": \"" ID1 "\", \"State\": {\"Pid\": 1, \"Pid\": 2}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct container c;
		CHECK(ctr_from_json(bad[i], strlen(bad[i]), &c, NULL) < 0);
	}
}

int main(void)
{
	RUN(round_trip);
	RUN(wrong_types_no_err);
	RUN(never_times);
	RUN(defaults);
	RUN(wrong_types);
	RUN(garbage);
	RUN(proc_start);
	RUN(lookup);
	return UNIT_END();
}
