/* ps: list containers, checking each "running" record against the live process first. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "applets.h"
#include "container.h"
#include "json.h"
#include "network.h"

const char ps_usage[] =
	"Usage: mydocker ps [-a] [-q] [--no-trunc] [--format json|table]\n\n"
	"List containers, newest first. Only running ones unless -a.\n\n"
	"  -a, --all          show all containers (also created, exited and corrupt ones)\n"
	"  -q, --quiet        only print container IDs\n"
	"      --no-trunc     do not truncate IDs and commands\n"
	"      --format json  one JSON object per line instead of the table\n";

enum { C_ID, C_IMAGE, C_CMD, C_CREATED, C_STATUS, C_PORTS, C_NAMES, NCOL };
static const char *const heads[NCOL] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES" };

struct row {
	struct container c;
	int bad;		/* record unreadable: c.id only */
	char *why;
	char *col[NCOL];
};

static size_t width(const char *s)	/* display width: UTF-8 characters */
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* As docker shows it: arguments joined by spaces, one holding a space in single quotes, cut to max
 * characters (the last one "…"), then double-quoted with \" \\ \n \t \xNN escapes. */
static char *command(char **argv, size_t max)
{
	struct buf b = { 0 }, q = { 0 };
	for (char **a = argv; a && *a; a++)
		buf_printf(&b, strchr(*a, ' ') ? "%s'%s'" : "%s%s", a == argv ? "" : " ", *a);
	buf_puts(&b, "");
	if (max && width(b.p) > max) {
		size_t i = 0, n = 0;
		while (n < max - 1)
			n += ((unsigned char)b.p[++i] & 0xc0) != 0x80;
		while (((unsigned char)b.p[i] & 0xc0) == 0x80)
			i++;
		b.len = i;
		buf_puts(&b, "\xe2\x80\xa6");
	}
	buf_puts(&q, "\"");
	for (const unsigned char *p = (const unsigned char *)b.p; p && *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(&q, "\\%c", *p);
		else if (*p == '\n' || *p == '\t')
			buf_puts(&q, *p == '\n' ? "\\n" : "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(&q, "\\x%02x", *p);
		else
			buf_add(&q, p, 1);
	}
	buf_puts(&q, "\"");
	buf_free(&b);
	if (!q.p)
		die(125, "out of memory");
	return q.p;
}

static char *ago(int64_t now, int64_t t, const char *pfx, const char *sfx)
{
	char d[32];
	fmt_duration(t ? (now - t) / 1000000000 : 0, d);
	return xasprintf("%s%s%s", pfx, d, sfx);
}

/* PORTS: a running container's address on its network, then its -p mappings (docker's form) */
static char *ports_col(const struct container *c)
{
	struct buf b = { 0 };
	struct portmap p;
	char s[48];
	if (c->status == CTR_RUNNING && c->ip)
		buf_puts(&b, c->ip);
	for (char **v = c->ports; c->status == CTR_RUNNING && v && *v; v++)
		if (!portmap_parse(*v, &p, NULL))
			portmap_fmt_ps(&p, s), buf_printf(&b, "%s%s", b.len ? ", " : "", s);
	buf_puts(&b, "");
	return b.p ? b.p : xstrdup("");
}

static void fill(struct row *r, int notrunc, int64_t now)
{
	struct container *c = &r->c;
	r->col[C_ID] = xasprintf("%.*s", notrunc ? ID_LEN : 12, c->id);
	r->col[C_PORTS] = r->bad ? xstrdup("") : ports_col(c);
	if (r->bad) {
		for (char *p = r->why; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		r->col[C_IMAGE] = xstrdup(""), r->col[C_CMD] = xstrdup(""), r->col[C_CREATED] = xstrdup("");
		r->col[C_STATUS] = xasprintf("Dead (corrupt state: %s)", r->why);
		r->col[C_NAMES] = xstrdup("");
		return;
	}
	r->col[C_IMAGE] = xstrdup(c->image ? c->image : c->image_id ? c->image_id : "");
	r->col[C_CMD] = command(c->argv, notrunc ? 0 : 20);
	r->col[C_CREATED] = ago(now, c->created, "", " ago");
	if (c->status == CTR_RUNNING)
		r->col[C_STATUS] = ago(now, c->started, "Up ", "");
	else if (c->status == CTR_EXITED) {
		char pfx[32];
		snprintf(pfx, sizeof(pfx), "Exited (%d) ", c->exit_code);
		r->col[C_STATUS] = ago(now, c->finished, pfx, " ago");
	} else
		r->col[C_STATUS] = xstrdup("Created");
	r->col[C_NAMES] = xstrdup(c->name);
}

static int newest_first(const void *a, const void *b)
{
	const struct row *x = *(struct row *const *)a, *y = *(struct row *const *)b;
	if (x->bad != y->bad)
		return x->bad - y->bad;
	if (x->c.created != y->c.created)
		return x->c.created < y->c.created ? 1 : -1;
	return strcmp(x->c.id, y->c.id);
}

/* Columns as docker's tabwriter lays them out: width max(cell)+3, at least 10; last unpadded. */
static void table(struct row **rows, size_t n)
{
	size_t w[NCOL];
	for (int k = 0; k < NCOL; k++) {
		w[k] = width(heads[k]);
		for (size_t i = 0; i < n; i++)
			if (width(rows[i]->col[k]) > w[k])
				w[k] = width(rows[i]->col[k]);
		w[k] = w[k] + 3 < 10 ? 10 : w[k] + 3;
	}
	for (size_t i = 0; i <= n; i++) {
		for (int k = 0; k < NCOL; k++) {
			const char *s = i ? rows[i - 1]->col[k] : heads[k];
			if (k == NCOL - 1)
				printf("%s\n", s);
			else
				printf("%s%*s", s, (int)(w[k] - width(s)), "");
		}
	}
}

static void json_line(const struct row *r, int64_t now)
{
	struct buf b = { 0 };
	struct jw w;
	char t[40] = "";
	jw_init(&w, &b, 0);
	jw_obj(&w);
	jw_kstr(&w, "Command", r->col[C_CMD]);
	if (r->c.created)
		fmt_time(r->c.created, t);
	jw_kstr(&w, "CreatedAt", t);
	jw_kstr(&w, "ID", r->col[C_ID]);
	jw_kstr(&w, "Image", r->col[C_IMAGE]);
	jw_kstr(&w, "Names", r->col[C_NAMES]);
	jw_kstr(&w, "Ports", r->col[C_PORTS]);
	jw_kstr(&w, "RunningFor", r->col[C_CREATED]);
	jw_kstr(&w, "State", r->bad ? "dead" : ctr_status_str(r->c.status));
	jw_kstr(&w, "Status", r->col[C_STATUS]);
	jw_end_obj(&w);
	if (jw_done(&w))
		die(125, "out of memory");
	printf("%.*s\n", (int)b.len, b.p);
	buf_free(&b);
}

int ps_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all", no_argument, 0, 'a' }, { "quiet", no_argument, 0, 'q' },
		{ "no-trunc", no_argument, 0, 'T' }, { "format", required_argument, 0, 'F' }, { 0 } };
	int all = 0, quiet = 0, notrunc = 0, json = 0, o;
	while ((o = getopt_long(argc, argv, "aq", lo, NULL)) != -1) {
		if (o == 'a')
			all = 1;
		else if (o == 'q')
			quiet = 1;
		else if (o == 'T')
			notrunc = 1;
		else if (o == 'F' && (!strcmp(optarg, "json") || !strcmp(optarg, "table")))
			json = !strcmp(optarg, "json");
		else if (o == 'F')
			die(2, "--format: only \"json\" and \"table\" are supported");
		else
			usage(2);
	}
	if (optind != argc)
		usage(2);

	struct err e = { 0 };
	char **ids;
	if (ctr_list(&ids, &e))
		die_err(125, &e);
	size_t n = 0, cnt = strv_len(ids);
	struct row *rows = xcalloc(cnt + 1, sizeof(*rows));
	int64_t now = now_ns();
	for (size_t i = 0; i < cnt; i++) {
		struct row *r = &rows[n];
		if (ctr_load(ids[i], &r->c, &e)) {
			if (e.no == ENOENT)	/* removed meanwhile */
				continue;
			snprintf(r->c.id, sizeof(r->c.id), "%s", ids[i]);
			r->bad = 1;
			r->why = xstrdup(e.msg);
		} else {
			ctr_refresh(&r->c);
		}
		if (all || (!r->bad && r->c.status == CTR_RUNNING))
			n++;
		else	/* the slot is reused: a corrupt row skipped here must not mark the next one */
			ctr_free(&r->c), free(r->why), memset(r, 0, sizeof(*r));
	}
	/* sort pointers: a row is half a kilobyte */
	struct row **sorted = xcalloc(n + 1, sizeof(*sorted));
	for (size_t i = 0; i < n; i++)
		sorted[i] = &rows[i];
	qsort(sorted, n, sizeof(*sorted), newest_first);
	for (size_t i = 0; i < n; i++) {
		if (quiet)
			printf("%.*s\n", notrunc ? ID_LEN : 12, sorted[i]->c.id);
		else
			fill(sorted[i], notrunc, now);
		if (!quiet && json)
			json_line(sorted[i], now);
	}
	if (!quiet && !json)
		table(sorted, n);
	return fflush(stdout) ? 125 : 0;
}
