/* json: an RFC 8259 parser into a linked DOM (one calloc per node) and a streaming writer. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

/* Length of the well-formed UTF-8 sequence at p (n >= 1 bytes available), or 0 when it is
 * invalid: stray continuation, overlong form, surrogate, above U+10FFFF or truncated. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* Encode code point c (a scalar value) at d; returns the byte count. */
static size_t utf8_put(char *d, uint32_t c)
{
	static const unsigned char lead[] = { 0, 0, 0xc0, 0xe0, 0xf0 };
	size_t len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;

	for (size_t k = len - 1; k > 0; k--, c >>= 6)
		d[k] = (char)(0x80 | (c & 0x3f));
	d[0] = (char)(lead[len] | c);
	return len;
}

/* ---- parser ---- */

struct parser {
	const unsigned char *p;
	size_t len, pos;
	int depth;
	struct err *e;
};

/* Syntax error at offset at; running off the end always reads "unexpected end of input". */
static int fail(struct parser *ps, size_t at, const char *what)
{
	err_set(ps->e, EINVAL, "offset %zu: %s", at, at >= ps->len ? "unexpected end of input" : what);
	return -EINVAL;
}

static int nomem(struct parser *ps)
{
	err_set(ps->e, ENOMEM, "parse json");
	return -ENOMEM;
}

static int peek(const struct parser *ps)
{
	return ps->pos < ps->len ? ps->p[ps->pos] : -1;
}

static void skip_ws(struct parser *ps)
{
	int c;

	while ((c = peek(ps)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		ps->pos++;
}

static int is_digit(const struct parser *ps, size_t i)
{
	return i < ps->len && ps->p[i] >= '0' && ps->p[i] <= '9';
}

/* Four hex digits at p[at..at+4) (all before end) into *v. */
static int hex4(const struct parser *ps, size_t at, size_t end, uint32_t *v)
{
	*v = 0;
	if (end - at < 4)
		return -1;
	for (size_t k = at; k < at + 4; k++) {
		unsigned c = ps->p[k], l = c | 0x20;
		if (c >= '0' && c <= '9')
			*v = *v << 4 | (c - '0');
		else if (l >= 'a' && l <= 'f')
			*v = *v << 4 | (l - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

/* Decode the escape at p[*i] == '\\' into d + *n. The string's closing quote is at end, so
 * a backslash before it is always followed by one more byte. */
static int unescape(struct parser *ps, size_t *i, size_t end, char *d, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t at = *i;
	unsigned char c = ps->p[at + 1];
	uint32_t cp, lo;

	if (c != 'u') {
		const char *q = memchr(from, c, sizeof(from) - 1);
		if (!q)
			return fail(ps, at, "invalid escape");
		d[(*n)++] = to[q - from];
		*i += 2;
		return 0;
	}
	if (hex4(ps, at + 2, end, &cp))
		return fail(ps, at, "invalid \\u escape");
	*i += 6;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(ps, at, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (end - *i < 6 || ps->p[*i] != '\\' || ps->p[*i + 1] != 'u' || hex4(ps, *i + 2, end, &lo) ||
		    lo < 0xdc00 || lo > 0xdfff)
			return fail(ps, at, "lone high surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		*i += 6;
	}
	*n += utf8_put(d + *n, cp);
	return 0;
}

/* The string whose opening quote is at pos; *out gets a malloc'd NUL-terminated copy. Decoding
 * never grows the text, so the raw length bounds the copy. */
static int parse_str(struct parser *ps, char **out, size_t *outlen)
{
	size_t start = ps->pos + 1, end = start, n = 0, i;
	char *d;
	int r = 0;

	while (end < ps->len && ps->p[end] != '"')
		end += ps->p[end] == '\\' ? 2 : 1;
	if (end >= ps->len)
		return fail(ps, ps->pos, "unterminated string");
	if (!(d = malloc(end - start + 1)))
		return nomem(ps);
	for (i = start; i < end && !r;) {
		unsigned char c = ps->p[i];
		size_t k;
		if (c == '\\') {
			r = unescape(ps, &i, end, d, &n);
		} else if (c < 0x20) {
			r = fail(ps, i, "control character in string");
		} else if (!(k = utf8_len(ps->p + i, end - i))) {
			r = fail(ps, i, "invalid UTF-8 in string");
		} else {
			memcpy(d + n, ps->p + i, k);
			n += k;
			i += k;
		}
	}
	if (r) {
		free(d);
		return r;
	}
	d[n] = 0;
	*out = d;
	*outlen = n;
	ps->pos = end + 1;
	return 0;
}

/* Digits (optionally '-') in p[0..n) to int64; -1 on overflow. */
static int to_i64(const unsigned char *p, size_t n, int64_t *out)
{
	int neg = *p == '-';
	uint64_t u = 0, lim = (uint64_t)INT64_MAX + (uint64_t)neg;

	for (size_t k = (size_t)neg; k < n; k++) {
		unsigned dg = p[k] - '0';
		if (u > (lim - dg) / 10)
			return -1;
		u = u * 10 + dg;
	}
	*out = neg && u ? -(int64_t)(u - 1) - 1 : (int64_t)u;
	return 0;
}

/* strtod on a NUL-terminated copy of p[s..e); infinite results are refused. */
static int to_double(struct parser *ps, size_t s, size_t e, struct json *j)
{
	char tmp[64], *c = tmp;
	size_t n = e - s;
	double d;

	if (n >= sizeof(tmp) && !(c = malloc(n + 1)))
		return nomem(ps);
	memcpy(c, ps->p + s, n);
	c[n] = 0;
	d = strtod(c, NULL);
	if (c != tmp)
		free(c);
	if (isinf(d))
		return fail(ps, s, "number out of range");
	j->type = JSON_DOUBLE;
	j->d = d;
	if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
		j->i = (int64_t)d;
	return 0;
}

static size_t skip_digits(const struct parser *ps, size_t i)
{
	while (is_digit(ps, i))
		i++;
	return i;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_num(struct parser *ps, struct json *j)
{
	size_t s = ps->pos, i = s;
	int integral = 1;

	if (ps->p[i] == '-')
		i++;
	if (!is_digit(ps, i))
		return fail(ps, i, "expected digit");
	if (ps->p[i] == '0' && is_digit(ps, i + 1))
		return fail(ps, i, "leading zero in number");
	i = skip_digits(ps, i);
	if (i < ps->len && ps->p[i] == '.') {
		integral = 0;
		if (!is_digit(ps, ++i))
			return fail(ps, i, "expected digit after '.'");
		i = skip_digits(ps, i);
	}
	if (i < ps->len && (ps->p[i] | 0x20) == 'e') {
		integral = 0;
		i++;
		if (i < ps->len && (ps->p[i] == '+' || ps->p[i] == '-'))
			i++;
		if (!is_digit(ps, i))
			return fail(ps, i, "expected digit in exponent");
		i = skip_digits(ps, i);
	}
	ps->pos = i;
	if (integral && !to_i64(ps->p + s, i - s, &j->i)) {
		j->type = JSON_INT;
		j->d = (double)j->i;
		return 0;
	}
	return to_double(ps, s, i, j);
}

static int literal(struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	if (ps->len - ps->pos < n || memcmp(ps->p + ps->pos, w, n))
		return fail(ps, ps->pos, "invalid literal");
	ps->pos += n;
	return 0;
}

static int parse_value(struct parser *ps, struct json **out);

/* "name" ws ':' of an object member. */
static int parse_key(struct parser *ps, char **key, size_t *keylen)
{
	int r;

	skip_ws(ps);
	if (peek(ps) != '"')
		return fail(ps, ps->pos, "expected string key");
	if ((r = parse_str(ps, key, keylen)))
		return r;
	skip_ws(ps);
	if (peek(ps) != ':') {
		free(*key);
		return fail(ps, ps->pos, "expected ':'");
	}
	ps->pos++;
	return 0;
}

/* Array or object at its opening bracket; children are linked in document order. On error
 * the caller frees j with whatever children were already linked. */
static int parse_container(struct parser *ps, struct json *j, int obj)
{
	struct json **tail = &j->child, *kid;
	int close = obj ? '}' : ']', r;

	j->type = obj ? JSON_OBJECT : JSON_ARRAY;
	if (++ps->depth > JSON_MAX_DEPTH) {
		err_set(ps->e, E2BIG, "offset %zu: nesting deeper than %d", ps->pos, JSON_MAX_DEPTH);
		return -E2BIG;
	}
	ps->pos++;
	for (skip_ws(ps); j->n || peek(ps) != close; ps->pos++) {
		char *key = NULL;
		size_t keylen = 0;
		if (obj && (r = parse_key(ps, &key, &keylen)))
			return r;
		if ((r = parse_value(ps, &kid))) {
			free(key);
			return r;
		}
		kid->key = key;
		kid->keylen = keylen;
		*tail = kid;
		tail = &kid->next;
		j->n++;
		skip_ws(ps);
		if (peek(ps) == close)
			break;
		if (peek(ps) != ',')
			return fail(ps, ps->pos, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	ps->pos++;
	ps->depth--;
	return 0;
}

static int parse_value(struct parser *ps, struct json **out)
{
	struct json *j;
	int c, r;

	skip_ws(ps);
	if ((c = peek(ps)) < 0)
		return fail(ps, ps->pos, "");
	if (!(j = calloc(1, sizeof(*j))))
		return nomem(ps);
	switch (c) {
	case '{':
	case '[':
		r = parse_container(ps, j, c == '{');
		break;
	case '"':
		j->type = JSON_STRING;
		r = parse_str(ps, &j->s, &j->len);
		break;
	case 't':
	case 'f':
		j->type = JSON_BOOL;
		j->b = c == 't';
		r = literal(ps, j->b ? "true" : "false");
		break;
	case 'n':
		r = literal(ps, "null");
		break;
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			r = parse_num(ps, j);
		else
			r = fail(ps, ps->pos, "unexpected character");
	}
	if (r) {
		json_free(j);
		return r;
	}
	*out = j;
	return 0;
}

int json_parse(const char *text, size_t len, struct json **out, struct err *e)
{
	struct parser ps = { (const unsigned char *)text, len, 0, 0, e };
	struct json *j;
	int r;

	*out = NULL;
	if (len > JSON_MAX_SIZE) {
		err_set(e, E2BIG, "json document of %zu bytes exceeds the %u byte limit", len, JSON_MAX_SIZE);
		return -E2BIG;
	}
	if ((r = parse_value(&ps, &j)))
		return r;
	skip_ws(&ps);
	if (ps.pos < len) {
		json_free(j);
		return fail(&ps, ps.pos, "trailing characters after the value");
	}
	*out = j;
	return 0;
}

/* Frees j and its siblings; recursion only follows nesting, which the parser bounds. */
void json_free(struct json *j)
{
	while (j) {
		struct json *next = j->next;
		json_free(j->child);
		free(j->key);
		free(j->s);
		free(j);
		j = next;
	}
}

/* ---- lookups ---- */

const struct json *json_get(const struct json *obj, const char *key)
{
	const struct json *hit = NULL;
	size_t n;

	if (!obj || obj->type != JSON_OBJECT || !key)
		return NULL;
	n = strlen(key);
	for (const struct json *k = obj->child; k; k = k->next)
		if (k->key && k->keylen == n && !memcmp(k->key, key, n))
			hit = k;
	return hit;
}

const char *json_get_str(const struct json *obj, const char *key)
{
	const struct json *j = json_get(obj, key);
	return j && j->type == JSON_STRING ? j->s : NULL;
}

/* JSON_INT, or a JSON_DOUBLE holding an exact in-range integer (1e3). */
int64_t json_get_int(const struct json *obj, const char *key, int64_t def)
{
	const struct json *j = json_get(obj, key);

	if (j && j->type == JSON_INT)
		return j->i;
	if (j && j->type == JSON_DOUBLE && j->d >= -9223372036854775808.0 && j->d < 9223372036854775808.0 &&
	    (double)j->i == j->d)
		return j->i;
	return def;
}

int json_get_bool(const struct json *obj, const char *key, int def)
{
	const struct json *j = json_get(obj, key);
	return j && j->type == JSON_BOOL ? j->b : def;
}

char **json_strv(const struct json *arr)
{
	char **v;
	size_t i = 0;

	if (!arr || arr->type != JSON_ARRAY)
		return NULL;
	for (const struct json *k = arr->child; k; k = k->next)
		if (k->type != JSON_STRING || !k->s)
			return NULL;
	if (!(v = calloc(arr->n + 1, sizeof(*v))))
		return NULL;
	for (const struct json *k = arr->child; k && i < arr->n; k = k->next, i++) {
		if (!(v[i] = malloc(k->len + 1))) {
			strv_free(v);
			return NULL;
		}
		memcpy(v[i], k->s, k->len + 1);
	}
	return v;
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* ---- writer ---- */

/* The "nothing written yet" bit of nesting level d (1..64); 0 past the limit. */
static uint64_t level_bit(int d)
{
	return d >= 1 && d <= 64 ? (uint64_t)1 << (d - 1) : 0;
}

static void put(struct jw *w, const char *s, size_t n)
{
	int r;

	if (!w->err && (r = buf_add(w->b, s, n)))
		w->err = r;
}

static void newline(struct jw *w)
{
	static const char sp[] = "                                ";
	size_t n = 2 * (size_t)w->depth;

	put(w, "\n", 1);
	for (size_t k; n; n -= k) {
		k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;
		put(w, sp, k);
	}
}

/* Before any value or key: the comma and, when pretty, the line break and indent. */
static void sep(struct jw *w)
{
	uint64_t bit = level_bit(w->depth);

	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->depth)
		return;
	if (!(w->first & bit))
		put(w, ",", 1);
	w->first &= ~bit;
	if (w->pretty)
		newline(w);
}

static void push(struct jw *w, char c)
{
	sep(w);
	put(w, &c, 1);
	if (++w->depth > 64 && !w->err)
		w->err = -E2BIG;
	w->first |= level_bit(w->depth);
}

static void pop(struct jw *w, char c)
{
	int empty;

	if (w->depth <= 0) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	empty = (w->first & level_bit(w->depth)) != 0;
	w->first &= ~level_bit(w->depth);
	w->depth--;
	w->after_key = 0;
	if (w->pretty && !empty)
		newline(w);
	put(w, &c, 1);
}

/* Quoted and escaped. Valid UTF-8 passes through; each byte that is not part of a well-formed
 * sequence becomes \ufffd, so the output is always valid JSON. */
static void put_str(struct jw *w, const char *s, size_t n)
{
	static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, k;
	char t[8];

	put(w, "\"", 1);
	while (i < n) {
		unsigned char c = p[i];
		const char *q;
		if (c >= 0x20 && c != '"' && c != '\\' && (k = utf8_len(p + i, n - i))) {
			i += k;
			continue;
		}
		put(w, s + run, i - run);
		if ((q = memchr(from, c, sizeof(from) - 1))) {
			t[0] = '\\';
			t[1] = to[q - from];
			put(w, t, 2);
		} else if (c >= 0x80) {
			put(w, "\\ufffd", 6);
		} else {
			snprintf(t, sizeof(t), "\\u%04x", c);
			put(w, t, 6);
		}
		run = ++i;
	}
	put(w, s + run, n - run);
	put(w, "\"", 1);
}

static void key_n(struct jw *w, const char *k, size_t n)
{
	sep(w);
	put_str(w, k, n);
	put(w, ": ", w->pretty ? 2 : 1);
	w->after_key = 1;
}

static void scalar(struct jw *w, const char *s)
{
	sep(w);
	put(w, s, strlen(s));
}

void jw_init(struct jw *w, struct buf *b, int pretty)
{
	*w = (struct jw){ .b = b, .pretty = pretty };
}

void jw_obj(struct jw *w) { push(w, '{'); }
void jw_arr(struct jw *w) { push(w, '['); }
void jw_end_obj(struct jw *w) { pop(w, '}'); }
void jw_end_arr(struct jw *w) { pop(w, ']'); }

void jw_key(struct jw *w, const char *k)
{
	key_n(w, k ? k : "", k ? strlen(k) : 0);
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	if (!s) {
		jw_null(w);
		return;
	}
	sep(w);
	put_str(w, s, n);
}

void jw_str(struct jw *w, const char *s)
{
	jw_strn(w, s, s ? strlen(s) : 0);
}

void jw_int(struct jw *w, int64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%" PRId64, v);
	scalar(w, t);
}

/* Shortest of %.15g..%.17g that reads back exactly, with ".0" so it stays a double on reparse;
 * inf and nan have no JSON form and become null. */
void jw_double(struct jw *w, double v)
{
	char t[40];

	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	for (int prec = 15;; prec++) {
		snprintf(t, sizeof(t), "%.*g", prec, v);
		if (prec == 17 || strtod(t, NULL) == v)
			break;
	}
	if (!strpbrk(t, ".e"))
		strcat(t, ".0");
	scalar(w, t);
}

void jw_bool(struct jw *w, int v) { scalar(w, v ? "true" : "false"); }
void jw_null(struct jw *w) { scalar(w, "null"); }

void jw_strv(struct jw *w, char *const *v)
{
	if (!v) {
		jw_null(w);
		return;
	}
	jw_arr(w);
	for (; *v; v++)
		jw_str(w, *v);
	jw_end_arr(w);
}

/* Recursion stops with the writer's depth limit (sticky -E2BIG) for hand-built trees. */
void jw_node(struct jw *w, const struct json *j)
{
	int obj = j && j->type == JSON_OBJECT;

	if (!j) {
		jw_null(w);
		return;
	}
	switch (j->type) {
	case JSON_NULL: jw_null(w); break;
	case JSON_BOOL: jw_bool(w, j->b); break;
	case JSON_INT: jw_int(w, j->i); break;
	case JSON_DOUBLE: jw_double(w, j->d); break;
	case JSON_STRING: jw_strn(w, j->s, j->len); break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		push(w, obj ? '{' : '[');
		for (const struct json *k = j->child; k && !w->err; k = k->next) {
			if (obj)
				key_n(w, k->key ? k->key : "", k->key ? k->keylen : 0);
			jw_node(w, k);
		}
		pop(w, obj ? '}' : ']');
		break;
	}
}

int jw_done(struct jw *w) { return w->err; }
