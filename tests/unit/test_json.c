/* Unit tests for lib/json.c: parser (valid, malformed, limits), lookups and the writer. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "unit.h"
#include "json.h"

/* Parse a NUL-terminated text; returns the tree or NULL. */
static struct json *parse(const char *s, int *r, struct err *e)
{
	struct json *j = NULL;
	*r = json_parse(s, strlen(s), &j, e);
	return j;
}

/* Parse and expect -EINVAL with "offset N:" at the front of the message. */
static int bad_at(const char *s, size_t len, size_t off)
{
	struct json *j = (struct json *)1;
	struct err e = { 0 };
	char want[32];
	int r = json_parse(s, len, &j, &e);
	snprintf(want, sizeof(want), "offset %zu: ", off);
	if (r != -EINVAL || j || e.no != EINVAL || strncmp(e.msg, want, strlen(want))) {
		printf("  input \"%.*s\": r=%d msg=\"%s\" want \"%s...\"\n", (int)len, s, r, e.msg, want);
		json_free(j == (struct json *)1 ? NULL : j);
		return 0;
	}
	return 1;
}

/* Re-emit a tree; the caller frees the returned string. */
static char *emit(const struct json *j, int pretty)
{
	struct buf b = { 0 };
	struct jw w;
	jw_init(&w, &b, pretty);
	jw_node(&w, j);
	if (jw_done(&w)) {
		buf_free(&b);
		return NULL;
	}
	return b.p ? b.p : strdup("");
}

/* Writer output of a string via jw_strn. */
static char *wstr(const char *s, size_t n)
{
	struct buf b = { 0 };
	struct jw w;
	jw_init(&w, &b, 0);
	jw_strn(&w, s, n);
	return jw_done(&w) ? NULL : b.p;
}

static char *wdouble(double d)
{
	struct buf b = { 0 };
	struct jw w;
	jw_init(&w, &b, 0);
	jw_double(&w, d);
	return b.p;
}

TEST(scalars)
{
	struct err e = { 0 };
	struct json *j;
	int r;

	j = parse(" null ", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_NULL);
	json_free(j);
	j = parse("true", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_BOOL && j->b == 1);
	json_free(j);
	j = parse("\t\r\nfalse\n", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_BOOL && j->b == 0);
	json_free(j);
	j = parse("42", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_INT && j->i == 42 && j->d == 42.0);
	json_free(j);
	j = parse("-0", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_INT && j->i == 0);
	json_free(j);
	j = parse("\"hi\"", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_STRING && j->len == 2);
	if (j)
		CHECK_STR(j->s, "hi");
	json_free(j);
	j = parse("\"\"", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_STRING && j->len == 0 && j->s && !j->s[0]);
	json_free(j);
}

TEST(numbers)
{
	struct err e = { 0 };
	struct json *j;
	int r;

	j = parse("9223372036854775807", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_INT && j->i == INT64_MAX);
	json_free(j);
	j = parse("-9223372036854775808", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_INT && j->i == INT64_MIN);
	json_free(j);
	j = parse("9223372036854775808", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_DOUBLE && j->d == 9223372036854775808.0);
	json_free(j);
	j = parse("-9223372036854775809", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_DOUBLE);
	json_free(j);
	j = parse("1.5", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_DOUBLE && j->d == 1.5 && j->i == 1);
	json_free(j);
	j = parse("-2.75e2", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_DOUBLE && j->d == -275.0 && j->i == -275);
	json_free(j);
	j = parse("1E+2", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_DOUBLE && j->d == 100.0 && j->i == 100);
	json_free(j);
	j = parse("0.1", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_DOUBLE && j->d == 0.1 && j->i == 0);
	json_free(j);
	j = parse("1e-400", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_DOUBLE && j->d == 0.0);
	json_free(j);
	j = parse("1e30", &r, &e);
	CHECK(r == 0 && j && j->type == JSON_DOUBLE && j->d == 1e30 && j->i == 0);
	json_free(j);
	/* a number longer than the stack copy */
	char big[400] = "0.";
	memset(big + 2, '5', sizeof(big) - 3);
	big[sizeof(big) - 1] = 0;
	j = parse(big, &r, &e);
	CHECK(r == 0 && j && j->type == JSON_DOUBLE && fabs(j->d - 5.0 / 9) < 1e-15);
	json_free(j);
	CHECK(bad_at("1e999", 5, 0));
	CHECK(bad_at("[-1e400]", 8, 1));
}

TEST(containers)
{
	struct err e = { 0 };
	int r;
	struct json *j = parse("{\"a\": [1, \"x\", null, {}, []], \"b\": {\"c\": true}, \"n\": 7}", &r, &e);
	const struct json *a, *k;

	CHECK(r == 0 && j && j->type == JSON_OBJECT && j->n == 3);
	if (!j)
		return;
	a = json_get(j, "a");
	CHECK(a && a->type == JSON_ARRAY && a->n == 5 && a->key);
	if (a) {
		CHECK_STR(a->key, "a");
		k = a->child;
		CHECK(k && k->type == JSON_INT && k->i == 1 && !k->key);
		k = k ? k->next : NULL;
		CHECK(k && k->type == JSON_STRING && !strcmp(k->s, "x"));
		k = k ? k->next : NULL;
		CHECK(k && k->type == JSON_NULL);
		k = k ? k->next : NULL;
		CHECK(k && k->type == JSON_OBJECT && k->n == 0 && !k->child);
		k = k ? k->next : NULL;
		CHECK(k && k->type == JSON_ARRAY && k->n == 0 && !k->next);
	}
	CHECK(json_get_bool(json_get(j, "b"), "c", 0) == 1);
	CHECK(json_get_bool(j, "b", -1) == -1);
	CHECK(json_get_int(j, "n", -1) == 7);
	CHECK(json_get_int(j, "a", -1) == -1);
	CHECK(json_get_int(j, "zz", -5) == -5);
	CHECK(json_get_str(j, "n") == NULL);
	CHECK(json_get(j, "") == NULL);
	CHECK(json_get(a, "a") == NULL);
	CHECK(json_get(NULL, "a") == NULL);
	json_free(j);
}

TEST(duplicate_keys)
{
	struct err e = { 0 };
	int r;
	struct json *j = parse("{\"k\":1,\"x\":\"s\",\"k\":2,\"k\":3,\"x\":\"t\"}", &r, &e);

	CHECK(r == 0 && j && j->n == 5);
	CHECK(json_get_int(j, "k", 0) == 3);
	CHECK_STR(json_get_str(j, "x"), "t");
	json_free(j);
	/* a key with an embedded NUL does not match its prefix */
	j = parse("{\"a\\u0000b\":1}", &r, &e);
	CHECK(r == 0 && j && j->child && j->child->keylen == 3);
	CHECK(json_get(j, "a") == NULL);
	json_free(j);
}

TEST(get_int_of_double)
{
	struct err e = { 0 };
	int r;
	struct json *j = parse("{\"a\":1e3,\"b\":1.5,\"c\":1e300}", &r, &e);

	CHECK(r == 0);
	CHECK(json_get_int(j, "a", -1) == 1000);
	CHECK(json_get_int(j, "b", -1) == -1);
	CHECK(json_get_int(j, "c", -1) == -1);
	json_free(j);
}

TEST(escapes)
{
	struct err e = { 0 };
	int r;
	struct json *j;

	j = parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", &r, &e);
	CHECK(r == 0 && j && j->len == 8);
	if (j)
		CHECK_STR(j->s, "\"\\/\b\f\n\r\t");
	json_free(j);
	j = parse("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", &r, &e);
	CHECK(r == 0 && j);
	if (j)
		CHECK_STR(j->s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	json_free(j);
	j = parse("\"\\uDBFF\\uDFFF\\uffff\"", &r, &e);
	CHECK(r == 0 && j);
	if (j)
		CHECK_STR(j->s, "\xf4\x8f\xbf\xbf\xef\xbf\xbf");
	json_free(j);
	j = parse("\"a\\u0000b\"", &r, &e);
	CHECK(r == 0 && j && j->len == 3 && j->s && !memcmp(j->s, "a\0b", 4));
	json_free(j);
	/* raw UTF-8 and DEL pass through */
	j = parse("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f\"", &r, &e);
	CHECK(r == 0 && j);
	if (j)
		CHECK_STR(j->s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f");
	json_free(j);
}

TEST(malformed)
{
	static const struct {
		const char *in;
		size_t off;
	} t[] = {
		{ "", 0 }, { "   ", 3 }, { "01", 0 }, { "-01", 1 }, { "00", 0 }, { "1.", 2 }, { "1.e5", 2 },
		{ ".5", 0 }, { "-", 1 }, { "-a", 1 }, { "+1", 0 }, { "1e", 2 }, { "1e+", 3 }, { "1E-x", 3 },
		{ "0x10", 1 }, { "1 2", 2 }, { "NaN", 0 }, { "Infinity", 0 }, { "-Infinity", 1 },
		{ "tru", 0 }, { "nul", 0 }, { "True", 0 }, { "truex", 4 }, { "nulll", 4 }, { "falsy", 0 },
		{ "\"abc", 0 }, { "\"abc\\\"", 0 }, { "\"\\", 0 }, { "\"\\x\"", 1 }, { "\"\\U0041\"", 1 },
		{ "\"\\u12\"", 1 }, { "\"\\u12G4\"", 1 }, { "\"\\ud800\"", 1 }, { "\"ab\\udc00\"", 3 },
		{ "\"\\ud800\\u0041\"", 1 }, { "\"\\ud800\\ud800\"", 1 }, { "\"\\ud800x\"", 1 },
		{ "\"\\ud800\\\"", 0 }, { "\"a\tb\"", 2 }, { "\"a\nb\"", 2 }, { "\"\x1f\"", 1 },
		{ "[", 1 }, { "[1", 2 }, { "[1,", 3 }, { "[1,]", 3 }, { "[,1]", 1 }, { "[1 2]", 3 },
		{ "[1:2]", 2 }, { "]", 0 }, { "[1]]", 3 }, { "{", 1 }, { "{\"a\"", 4 }, { "{\"a\":", 5 },
		{ "{\"a\":1", 6 }, { "{\"a\":1,}", 7 }, { "{,}", 1 }, { "{a:1}", 1 }, { "{\"a\" 1}", 5 },
		{ "{\"a\":1 \"b\":2}", 7 }, { "{'a':1}", 1 }, { "{1:2}", 1 }, { "{\"a\":1]", 6 },
		{ "[1}", 2 }, { "{}x", 2 }, { "\"a\"\"b\"", 3 }, { "/* c */ 1", 0 }, { "[1,,2]", 3 },
		{ "\xef\xbb\xbf{}", 0 }, { "\x0c" "1", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		CHECK(bad_at(t[i].in, strlen(t[i].in), t[i].off));
	/* NUL bytes inside the input are never skipped */
	CHECK(bad_at("1\0", 2, 1));
	CHECK(bad_at("\"a\0\"", 4, 2));
	CHECK(bad_at("\0", 1, 0));
}

TEST(error_messages)
{
	struct err e = { 0 };
	struct json *j = NULL;
	int r;

	r = json_parse("[1,]", 4, &j, &e);
	CHECK(r == -EINVAL && !j);
	CHECK(!strncmp(e.msg, "offset 3: unexpected character", 30));
	r = json_parse("{\"a\":1", 6, &j, &e);
	CHECK(!strncmp(e.msg, "offset 6: unexpected end of input", 33));
	r = json_parse("\"\\ud800\"", 8, &j, &e);
	CHECK(!strncmp(e.msg, "offset 1: lone high surrogate", 29));
	r = json_parse("01", 2, &j, &e);
	CHECK(!strncmp(e.msg, "offset 0: leading zero", 22));
	r = json_parse("1 x", 3, &j, &e);
	CHECK(!strncmp(e.msg, "offset 2: trailing characters", 29));
	r = json_parse("\"abc", 4, &j, &e);
	CHECK(!strncmp(e.msg, "offset 0: unterminated string", 29));
	/* a NULL err is allowed */
	CHECK(json_parse("[", 1, &j, NULL) == -EINVAL && !j);
}

TEST(bad_utf8)
{
	static const struct {
		const char *in;
		size_t off;
	} t[] = {
		{ "\"\x80\"", 1 },		/* stray continuation */
		{ "\"a\xbf\"", 2 },
		{ "\"\xc0\x80\"", 1 },		/* overlong NUL */
		{ "\"\xc1\xbf\"", 1 },
		{ "\"\xe0\x80\x80\"", 1 },	/* overlong 3-byte */
		{ "\"\xe0\x9f\xbf\"", 1 },
		{ "\"\xed\xa0\x80\"", 1 },	/* encoded surrogate */
		{ "\"\xf0\x8f\xbf\xbf\"", 1 },	/* overlong 4-byte */
		{ "\"\xf4\x90\x80\x80\"", 1 },	/* above U+10FFFF */
		{ "\"\xf5\x80\x80\x80\"", 1 },
		{ "\"\xff\"", 1 },
		{ "\"\xe2\x82\"", 1 },		/* truncated before the quote */
		{ "\"\xe2\x82", 0 },		/* and unterminated */
		{ "\"\xc3\x41\"", 1 },
		{ "\"ok\xf0\x9f\x98\"", 3 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		CHECK(bad_at(t[i].in, strlen(t[i].in), t[i].off));
	/* raw bytes outside strings are just unexpected characters */
	CHECK(bad_at("\xc3\xa9", 2, 0));
}

TEST(depth_limit)
{
	char s[2 * JSON_MAX_DEPTH + 8];
	struct err e = { 0 };
	struct json *j = NULL;
	char *out;
	int r;

	memset(s, '[', JSON_MAX_DEPTH);
	memset(s + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
	r = json_parse(s, 2 * JSON_MAX_DEPTH, &j, &e);
	CHECK(r == 0 && j);
	out = emit(j, 0);
	CHECK(out && strlen(out) == 2 * JSON_MAX_DEPTH && !memcmp(out, s, 2 * JSON_MAX_DEPTH));
	free(out);
	json_free(j);

	memset(s, '[', JSON_MAX_DEPTH + 1);
	memset(s + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	r = json_parse(s, 2 * JSON_MAX_DEPTH + 2, &j, &e);
	CHECK(r == -E2BIG && !j && e.no == E2BIG);
	CHECK(!strncmp(e.msg, "offset 64: nesting deeper than 64", 33));
	/* the limit also holds when the document is cut short */
	r = json_parse(s, JSON_MAX_DEPTH + 1, &j, &e);
	CHECK(r == -E2BIG && !j);

	/* objects count too, and partial trees are freed (ASan checks for leaks) */
	struct buf b = { 0 };
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		buf_puts(&b, "{\"a\":[1,");
	r = json_parse(b.p, b.len, &j, &e);
	CHECK(r == -E2BIG && !j);
	buf_free(&b);
}

TEST(size_limit)
{
	size_t n = JSON_MAX_SIZE + 1;
	char *s = malloc(n);
	struct err e = { 0 };
	struct json *j = NULL;

	if (!s)
		return;
	memset(s, ' ', n);
	s[0] = '1';
	CHECK(json_parse(s, n, &j, &e) == -E2BIG && !j && e.no == E2BIG);
	/* exactly at the limit is fine */
	CHECK(json_parse(s, n - 1, &j, &e) == 0 && j && j->i == 1);
	json_free(j);
	free(s);
}

TEST(truncated)
{
	const char *doc = "{\"a\":[1,-2.5e3,\"x\\u00e9\\n\",true,false,null,{\"b\":{}}],\"c\":\"\xe2\x82\xac\"}";
	size_t n = strlen(doc), failed = 0;
	struct err e = { 0 };
	struct json *j;

	for (size_t i = 0; i < n; i++) {
		/* an exact-size heap copy so ASan catches any read past the end */
		char *c = malloc(i ? i : 1);
		memcpy(c, doc, i);
		j = (struct json *)1;
		if (json_parse(c, i, &j, &e) != -EINVAL || j)
			failed++;
		free(c);
	}
	CHECK(failed == 0);
	CHECK(json_parse(doc, n, &j, &e) == 0 && j);
	json_free(j);
}

TEST(roundtrip)
{
	const char *doc = "{\"s\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\",\"i\":-12,\"big\":9223372036854775807,"
			  "\"d\":0.1,\"e\":1.0e300,\"t\":true,\"f\":false,\"z\":null,\"a\":[[],{},[1,[2]]],"
			  "\"o\":{\"k\":{\"k\":\"v\"}},\"nul\":\"\\u0000\",\"emoji\":\"\\ud83d\\ude00\"}";
	const char *want = "{\"s\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\",\"i\":-12,\"big\":9223372036854775807,"
			   "\"d\":0.1,\"e\":1e+300,\"t\":true,\"f\":false,\"z\":null,\"a\":[[],{},[1,[2]]],"
			   "\"o\":{\"k\":{\"k\":\"v\"}},\"nul\":\"\\u0000\",\"emoji\":\"\xf0\x9f\x98\x80\"}";
	struct err e = { 0 };
	struct json *j, *j2 = NULL;
	char *c1, *p, *c2;
	int r;

	j = parse(doc, &r, &e);
	CHECK(r == 0 && j);
	c1 = emit(j, 0);
	CHECK_STR(c1, want);
	p = emit(j, 1);
	CHECK(p && json_parse(p, strlen(p), &j2, &e) == 0);
	c2 = emit(j2, 0);
	CHECK_STR(c2, want);
	CHECK(json_get(j2, "d") && json_get(j2, "d")->type == JSON_DOUBLE);
	free(c1);
	free(p);
	free(c2);
	json_free(j);
	json_free(j2);
}

TEST(pretty_shape)
{
	struct buf b = { 0 };
	struct jw w;

	jw_init(&w, &b, 1);
	jw_arr(&w);
	jw_obj(&w);
	jw_kstr(&w, "Id", "abc");
	jw_key(&w, "Args");
	jw_strv(&w, (char *[]){ "sh", "-c", NULL });
	jw_key(&w, "Empty");
	jw_obj(&w);
	jw_end_obj(&w);
	jw_key(&w, "None");
	jw_arr(&w);
	jw_end_arr(&w);
	jw_kint(&w, "Pid", 42);
	jw_kbool(&w, "Running", 1);
	jw_key(&w, "Cmd");
	jw_strv(&w, NULL);
	jw_end_obj(&w);
	jw_end_arr(&w);
	CHECK(jw_done(&w) == 0);
	CHECK_STR(b.p, "[\n"
		       "  {\n"
		       "    \"Id\": \"abc\",\n"
		       "    \"Args\": [\n"
		       "      \"sh\",\n"
		       "      \"-c\"\n"
		       "    ],\n"
		       "    \"Empty\": {},\n"
		       "    \"None\": [],\n"
		       "    \"Pid\": 42,\n"
		       "    \"Running\": true,\n"
		       "    \"Cmd\": null\n"
		       "  }\n"
		       "]");
	buf_free(&b);
}

TEST(compact_shape)
{
	struct buf b = { 0 };
	struct jw w;

	jw_init(&w, &b, 0);
	jw_obj(&w);
	jw_kstr(&w, "a", NULL);
	jw_key(&w, "b");
	jw_arr(&w);
	jw_int(&w, INT64_MIN);
	jw_double(&w, 2.5);
	jw_null(&w);
	jw_bool(&w, 0);
	jw_end_arr(&w);
	jw_key(&w, "c");
	jw_strv(&w, (char *[]){ NULL });
	jw_end_obj(&w);
	CHECK(jw_done(&w) == 0);
	CHECK_STR(b.p, "{\"a\":null,\"b\":[-9223372036854775808,2.5,null,false],\"c\":[]}");
	buf_free(&b);
}

TEST(writer_escapes)
{
	char *s;

	s = wstr("a\"b\\c/\n\t\r\b\f\x01\x1f\x7f", 14);
	CHECK_STR(s, "\"a\\\"b\\\\c/\\n\\t\\r\\b\\f\\u0001\\u001f\x7f\"");
	free(s);
	s = wstr("x\0y", 3);
	CHECK_STR(s, "\"x\\u0000y\"");
	free(s);
	/* valid UTF-8 through unchanged */
	s = wstr("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 13);
	CHECK_STR(s, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
	free(s);
	/* each invalid byte becomes \ufffd */
	s = wstr("a\xff" "b\xc3(\xed\xa0\x80\xe2\x82", 10);
	CHECK_STR(s, "\"a\\ufffdb\\ufffd(\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
	free(s);
	s = wstr("", 0);
	CHECK_STR(s, "\"\"");
	free(s);
	s = wstr(NULL, 0);
	CHECK_STR(s, "null");
	free(s);
}

TEST(writer_output_reparses)
{
	/* every byte value through the writer must come back as valid JSON */
	char in[256];
	struct err e = { 0 };
	struct json *j = NULL;
	char *s;

	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	s = wstr(in, sizeof(in));
	CHECK(s && json_parse(s, strlen(s), &j, &e) == 0 && j && j->type == JSON_STRING);
	CHECK(j && j->len > 128 && !memcmp(j->s, in, 128));
	json_free(j);
	free(s);
}

TEST(doubles)
{
	char *s;

	s = wdouble(0.1);
	CHECK_STR(s, "0.1");
	free(s);
	s = wdouble(1.0);
	CHECK_STR(s, "1.0");
	free(s);
	s = wdouble(-0.0);
	CHECK_STR(s, "-0.0");
	free(s);
	s = wdouble(1.0 / 3);
	CHECK_STR(s, "0.3333333333333333");
	free(s);
	s = wdouble(1e300);
	CHECK_STR(s, "1e+300");
	free(s);
	s = wdouble(5e-324);
	CHECK_STR(s, "4.94065645841247e-324");
	free(s);
	s = wdouble(INFINITY);
	CHECK_STR(s, "null");
	free(s);
	s = wdouble(-INFINITY);
	CHECK_STR(s, "null");
	free(s);
	s = wdouble(NAN);
	CHECK_STR(s, "null");
	free(s);
	s = wdouble(123456789012.5);
	CHECK_STR(s, "123456789012.5");
	free(s);
}

TEST(writer_errors)
{
	struct buf b = { 0 };
	struct jw w;

	jw_init(&w, &b, 0);
	jw_end_arr(&w);
	CHECK(jw_done(&w) == -EINVAL);
	buf_free(&b);

	jw_init(&w, &b, 1);
	for (int i = 0; i < 64; i++)
		jw_arr(&w);
	CHECK(jw_done(&w) == 0);
	jw_arr(&w);
	CHECK(jw_done(&w) == -E2BIG);
	for (int i = 0; i < 65; i++)
		jw_end_arr(&w);
	CHECK(jw_done(&w) == -E2BIG);
	buf_free(&b);

	/* a hand-built tree deeper than the writer allows stops with the error */
	struct json nodes[100];
	memset(nodes, 0, sizeof(nodes));
	for (int i = 0; i < 100; i++) {
		nodes[i].type = JSON_ARRAY;
		nodes[i].child = i < 99 ? &nodes[i + 1] : NULL;
		nodes[i].n = i < 99;
	}
	jw_init(&w, &b, 0);
	jw_node(&w, &nodes[0]);
	CHECK(jw_done(&w) == -E2BIG);
	buf_free(&b);
}

TEST(strv)
{
	struct err e = { 0 };
	int r;
	struct json *j = parse("{\"a\":[\"x\",\"\",\"y z\"],\"b\":[\"x\",1],\"c\":\"x\",\"d\":[]}", &r, &e);
	char **v;

	CHECK(r == 0);
	v = json_strv(json_get(j, "a"));
	CHECK(v && strv_len(v) == 3);
	if (v) {
		CHECK_STR(v[0], "x");
		CHECK_STR(v[1], "");
		CHECK_STR(v[2], "y z");
		CHECK(v[3] == NULL);
	}
	strv_free(v);
	CHECK(json_strv(json_get(j, "b")) == NULL);
	CHECK(json_strv(json_get(j, "c")) == NULL);
	CHECK(json_strv(j) == NULL);
	CHECK(json_strv(NULL) == NULL);
	v = json_strv(json_get(j, "d"));
	CHECK(v && v[0] == NULL && strv_len(v) == 0);
	strv_free(v);
	strv_free(NULL);
	CHECK(strv_len(NULL) == 0);
	json_free(j);
}

TEST(whitespace_only_json_ws)
{
	struct err e = { 0 };
	int r;
	struct json *j = parse(" \t\n\r[ \t\n\r1 \t\n\r, \t\n\r{ \"a\" \t: \r\n2 } ] \n", &r, &e);

	CHECK(r == 0 && j && j->n == 2);
	json_free(j);
	CHECK(bad_at("[1,\v2]", 6, 3));
	CHECK(bad_at("\xa0" "1", 2, 0));
}

int main(void)
{
	RUN(scalars);
	RUN(numbers);
	RUN(containers);
	RUN(duplicate_keys);
	RUN(get_int_of_double);
	RUN(escapes);
	RUN(malformed);
	RUN(error_messages);
	RUN(bad_utf8);
	RUN(depth_limit);
	RUN(size_limit);
	RUN(truncated);
	RUN(roundtrip);
	RUN(pretty_shape);
	RUN(compact_shape);
	RUN(writer_escapes);
	RUN(writer_output_reparses);
	RUN(doubles);
	RUN(writer_errors);
	RUN(strv);
	RUN(whitespace_only_json_ws);
	return UNIT_END();
}
