/* logs: print the output of a detached container (ROOT/containers/<id>/container.log), or follow it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "applets.h"
#include "container.h"

const char logs_usage[] =
	"Usage: mydocker logs [-f] [--tail N] [-t] CONTAINER\n\n"
	"Print what a detached container wrote: its stdout to stdout, its stderr to stderr.\n\n"
	"  -f, --follow      keep printing new output until the container exits\n"
	"  -n, --tail N      only the last N lines (\"all\": everything, the default)\n"
	"  -t, --timestamps  start each line with the time it was written (RFC 3339)\n";

/* container.log holds one record per line: "<RFC 3339 time> <tag> <data>\n", tag O/E for a line of
 * stdout/stderr, o/e for a piece without its newline (more of the same line follows). A line of
 * another shape is shown as it is. */
struct rec {
	const char *ts, *data;
	size_t tslen, len;
	int fd, eol;
};

static int parse_rec(const char *p, size_t n, struct rec *r)
{
	const char *sp = memchr(p, ' ', n);
	if (!sp || (size_t)(sp - p) + 3 > n || sp[2] != ' ' || !strchr("OEoe", sp[1]) || !sp[1])
		return -1;
	*r = (struct rec){ p, sp + 3, sp - p, n - (sp + 3 - p), sp[1] == 'E' || sp[1] == 'e' ? 2 : 1,
			   sp[1] == 'O' || sp[1] == 'E' };
	return 0;
}

/* Backward scan for '\n' with one cached chunk. */
struct rscan {
	int fd;
	off_t cpos;
	size_t clen;
	char b[8192];
};

/* Position of the last '\n' before offset `before`, -1 if none (or on a read error). */
static off_t prev_nl(struct rscan *s, off_t before)
{
	while (before > 0) {
		if (before <= s->cpos || before > s->cpos + (off_t)s->clen) {
			size_t len = before < (off_t)sizeof(s->b) ? (size_t)before : sizeof(s->b);
			s->cpos = before - len;
			if (pread(s->fd, s->b, len, s->cpos) != (ssize_t)len)
				return -1;
			s->clen = len;
		}
		for (off_t i = before - 1; i >= s->cpos; i--)
			if (s->b[i - s->cpos] == '\n')
				return i;
		before = s->cpos;
	}
	return -1;
}

/* Where the last n output lines begin. Walking back over the complete records: a line starts
 * after each O/E record (one that ends a line) except the very last record. */
static off_t tail_start(int fd, off_t size, long long n)
{
	static struct rscan s;
	char t[64];
	long long seen = 0;
	if (n <= 0)
		return size;
	s.fd = fd, s.cpos = 0, s.clen = 0;
	/* the last record ends at the last byte, '\n' or not (one without is still being written) */
	off_t last = size - 1, later = last;
	if (last < 0)
		return 0;
	for (;;) {
		off_t q = prev_nl(&s, later);	/* the record is (q, later] */
		struct rec r;
		ssize_t m = later != last ? pread(fd, t, sizeof(t), q + 1) : 0;
		if (m > 0 && (parse_rec(t, m, &r) || r.eol) && ++seen == n)
			return later + 1;
		if (q < 0)
			return 0;
		later = q;
	}
}

struct out {
	int stamps;
	int mid[3];		/* inside a line on fd 1 / 2 (no timestamp before the rest) */
};

static int emit(struct out *o, const char *p, size_t n)
{
	struct rec r;
	int e = 0;
	if (parse_rec(p, n, &r)) {	/* not ours: as it is */
		e = write_all(1, p, n);
		return e ? e : write_all(1, "\n", 1);
	}
	if (o->stamps && !o->mid[r.fd] && !(e = write_all(r.fd, r.ts, r.tslen)))
		e = write_all(r.fd, " ", 1);
	if (!e)
		e = write_all(r.fd, r.data, r.len);
	if (!e && r.eol)
		e = write_all(r.fd, "\n", 1);
	o->mid[r.fd] = !r.eol;
	return e;
}

/* Print the complete records of fd from *off on (at the end, a last incomplete one too). */
static int drain(int fd, off_t *off, struct out *o, int final)
{
	static char b[65536];
	size_t have = 0;
	for (;;) {
		ssize_t n = pread(fd, b + have, sizeof(b) - have, *off + have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		have += n;
		size_t used = 0;
		for (char *nl; (nl = memchr(b + used, '\n', have - used)); used = nl + 1 - b) {
			int e = emit(o, b + used, nl - (b + used));
			if (e)
				return e;
		}
		if (used == 0 && have == sizeof(b)) {	/* a record longer than the buffer */
			int e = write_all(1, b, have);
			if (e)
				return e;
			used = have;
		}
		*off += used;
		memmove(b, b + used, have - used);
		have -= used;
		if (n == 0)
			break;
	}
	if (final && have) {
		*off += have;
		return emit(o, b, have);
	}
	return 0;
}

/* Still producing output: running, per a refreshed record (a vanished record: no). */
static int running(const char *id)
{
	struct container c;
	if (ctr_load(id, &c, NULL))
		return 0;
	ctr_refresh(&c);
	int r = c.status == CTR_RUNNING;
	ctr_free(&c);
	return r;
}

static int open_log(const char *id)
{
	int d = ctr_open_dir(id, NULL);
	if (d < 0)
		return d;
	int fd = openat(d, "container.log", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	fd = fd < 0 ? -errno : fd;
	close(d);
	return fd;
}

int logs_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "follow", no_argument, 0, 'f' }, { "tail", required_argument, 0, 'n' },
		{ "timestamps", no_argument, 0, 't' }, { 0 } };
	int follow = 0, stamps = 0, o;
	long long tail = -1;
	while ((o = getopt_long(argc, argv, "fn:t", lo, NULL)) != -1) {
		if (o == 'f')
			follow = 1;
		else if (o == 't')
			stamps = 1;
		else if (o == 'n' && strcmp(optarg, "all") && parse_ll(optarg, -1, 1LL << 62, &tail))
			die(2, "--tail: expected a number of lines or \"all\", got \"%s\"", optarg);
		else if (o != 'n')
			usage(2);
	}
	if (optind != argc - 1)
		usage(2);

	const char *ref = argv[optind];
	char id[ID_LEN + 1];
	struct err e = { 0 };
	int r = ctr_lookup(ref, id, &e);
	if (r)
		die(r == -ENOENT || r == -EINVAL || r == -EEXIST ? 1 : 125, "%s", e.msg);
	int fd = open_log(id);
	if (fd < 0 && fd != -ENOENT)
		die(125, "open %s/container.log: %s", id, strerror(-fd));

	struct out out = { .stamps = stamps };
	off_t off = 0;
	struct stat st;
	if (fd >= 0 && tail >= 0 && !fstat(fd, &st))
		off = tail_start(fd, st.st_size, tail);
	for (;;) {
		int live = follow && running(id);
		if (fd < 0)	/* no output yet (or a container run in the foreground) */
			fd = open_log(id);
		if (fd >= 0 && (r = drain(fd, &off, &out, !live)))
			return r == -EPIPE ? 0 : (warnx("read log: %s", strerror(-r)), 125);
		if (!live)
			break;
		nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
	return 0;
}
