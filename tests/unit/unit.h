/* unit: a minimal test harness. Each test file defines tests with TEST(name) and lists them in
 * main via RUN(name); it prints one line per failure and ends with "N passed, N failed". */
#ifndef MYDOCKER_UNIT_H
#define MYDOCKER_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed, unit_skipped, unit_cur_failed, unit_cur_skipped;
static const char *unit_cur;

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                        \
	do {                                                             \
		unit_cur = #name;                                        \
		unit_cur_failed = unit_cur_skipped = 0;                  \
		test_##name();                                           \
		if (unit_cur_failed)                                     \
			unit_failed++;                                   \
		else if (unit_cur_skipped)                               \
			unit_skipped++;                                  \
		else                                                     \
			unit_passed++;                                   \
	} while (0)
#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			printf("FAIL %s: %s:%d: %s\n", unit_cur, __FILE__, __LINE__, #cond); \
			unit_cur_failed = 1;                                         \
		}                                                                    \
	} while (0)
#define CHECK_STR(a, b)                                                                      \
	do {                                                                                 \
		const char *a_ = (a), *b_ = (b);                                             \
		if (!a_ || !b_ || strcmp(a_, b_)) {                                          \
			printf("FAIL %s: %s:%d: \"%s\" != \"%s\"\n", unit_cur, __FILE__, __LINE__, \
			       a_ ? a_ : "(null)", b_ ? b_ : "(null)");                       \
			unit_cur_failed = 1;                                                 \
		}                                                                            \
	} while (0)
/* Inside a test: it cannot run here; say why (counted as skipped, never as passed). */
#define SKIP(...)                                                   \
	do {                                                        \
		printf("SKIP %s: ", unit_cur);                      \
		printf(__VA_ARGS__);                                \
		printf("\n");                                       \
		unit_cur_skipped = 1;                               \
	} while (0)
#define UNIT_END()                                                                  \
	(printf("%s: %d passed, %d failed, %d skipped\n", __FILE__, unit_passed, unit_failed, \
		unit_skipped),                                                      \
	 unit_failed ? 1 : 0)

#endif
