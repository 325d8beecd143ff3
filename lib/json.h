/* json: a small DOM parser and a streaming writer for state files and image manifests. */
#ifndef MYDOCKER_JSON_H
#define MYDOCKER_JSON_H

#include <stdint.h>
#include <stddef.h>
#include "util.h"

enum json_type { JSON_NULL, JSON_BOOL, JSON_INT, JSON_DOUBLE, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

/* One node. Arrays and objects keep their children as a singly linked list (child, next);
 * members of an object carry their name in key. Strings are NUL-terminated; len counts bytes
 * (a \u0000 escape makes len > strlen). */
struct json {
	enum json_type type;
	char *key;		/* member name inside an object, else NULL */
	size_t keylen;
	struct json *next;	/* next sibling */
	struct json *child;	/* first element or member */
	size_t n;		/* number of children */
	char *s;		/* JSON_STRING */
	size_t len;
	int64_t i;		/* JSON_INT (also set, truncated, for JSON_DOUBLE) */
	double d;		/* JSON_DOUBLE (also set for JSON_INT) */
	int b;			/* JSON_BOOL */
};

#define JSON_MAX_DEPTH 64
#define JSON_MAX_SIZE (16u << 20)

/* Parse text[0..len). Errors: -EINVAL with "offset N: what" in e, -E2BIG past limits, -ENOMEM. */
int json_parse(const char *text, size_t len, struct json **out, struct err *e);
void json_free(struct json *j);

/* Lookups; NULL/def when missing or of another type. json_get takes the last duplicate key. */
const struct json *json_get(const struct json *obj, const char *key);
const char *json_get_str(const struct json *obj, const char *key);
int64_t json_get_int(const struct json *obj, const char *key, int64_t def);
int json_get_bool(const struct json *obj, const char *key, int def);
/* Array of strings -> NULL-terminated malloc'd vector (strings copied); NULL if not such an array. */
char **json_strv(const struct json *arr);
void strv_free(char **v);
size_t strv_len(char *const *v);

/* Writer: appends to a struct buf, handles commas; pretty = indent with tabs-free 2 spaces. */
struct jw {
	struct buf *b;
	int depth;
	int pretty;
	int err;		/* sticky -ENOMEM */
	uint64_t first;		/* bit per depth: nothing written yet at that level */
	int after_key;
};
void jw_init(struct jw *w, struct buf *b, int pretty);
void jw_obj(struct jw *w);		/* { */
void jw_arr(struct jw *w);		/* [ */
void jw_end_obj(struct jw *w);		/* } */
void jw_end_arr(struct jw *w);		/* ] */
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);	/* NULL writes null */
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_double(struct jw *w, double v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
void jw_strv(struct jw *w, char *const *v);	/* array of strings; NULL writes null */
/* Re-emit a parsed node (for keeping unknown fields of a manifest). */
void jw_node(struct jw *w, const struct json *j);
/* Convenience: key + value */
#define jw_kstr(w, k, v) (jw_key(w, k), jw_str(w, v))
#define jw_kint(w, k, v) (jw_key(w, k), jw_int(w, v))
#define jw_kbool(w, k, v) (jw_key(w, k), jw_bool(w, v))
/* 0 or the sticky error. */
int jw_done(struct jw *w);

#endif
