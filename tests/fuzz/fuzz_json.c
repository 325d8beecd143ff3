/* libFuzzer target: the JSON parser, and parse -> write -> parse must give the same text again. */
#include <stdlib.h>
#include <string.h>
#include "json.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct json *j;
	struct err e;
	if (json_parse((const char *)data, size, &j, &e))
		return 0;
	struct buf a = { 0 }, b = { 0 };
	struct jw w;
	jw_init(&w, &a, size & 1);
	jw_node(&w, j);
	if (!jw_done(&w)) {
		struct json *k;
		if (json_parse(a.p, a.len, &k, &e))
			abort();	/* our own output must parse */
		jw_init(&w, &b, size & 1);
		jw_node(&w, k);
		if (jw_done(&w) || a.len != b.len || memcmp(a.p, b.p, a.len))
			abort();	/* and be stable */
		json_free(k);
	}
	buf_free(&a);
	buf_free(&b);
	json_free(j);
	return 0;
}
