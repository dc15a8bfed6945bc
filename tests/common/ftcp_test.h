/*
 * ftcp_test.h — what every test file shares: CUnit, suite registration and
 * a few assertion helpers.
 *
 * Each test file defines `void register_<name>_tests(void)` that adds its
 * suite with CU_add_suite/CU_add_test, and lists it in the runner's table
 * (FTCP_TEST_SUITES in meson: see tests/meson.build). Tests are named like
 * specifications: test_arp_reply_to_request_for_us.
 */
#ifndef FTCP_TEST_H
#define FTCP_TEST_H

#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>

/* Add a suite with the given tests; aborts the run on CUnit errors. */
struct ftcp_test_case {
	const char *name;
	void (*fn)(void);
};
void ftcp_test_add_suite(const char *name, const struct ftcp_test_case *cases, size_t n);
#define FTCP_SUITE(name, ...)                                                         \
	do {                                                                          \
		static const struct ftcp_test_case cases_[] = {__VA_ARGS__};          \
		ftcp_test_add_suite(name, cases_, sizeof(cases_) / sizeof(cases_[0])); \
	} while (0)
#define FTCP_CASE(fn) {#fn, fn}

/* Assert with the values printed on failure. */
#define ASSERT_EQ_U64(a, b)                                                             \
	do {                                                                            \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                        \
		if (a_ != b_)                                                           \
			fprintf(stderr, "\n  %s:%d: %s == %llu, expected %s == %llu\n", __FILE__, \
			        __LINE__, #a, (unsigned long long)a_, #b, (unsigned long long)b_); \
		CU_ASSERT_EQUAL(a_, b_);                                                \
	} while (0)
#define ASSERT_EQ_I64(a, b)                                                             \
	do {                                                                            \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                           \
		if (a_ != b_)                                                           \
			fprintf(stderr, "\n  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
			        __LINE__, #a, (long long)a_, #b, (long long)b_);         \
		CU_ASSERT_EQUAL(a_, b_);                                                \
	} while (0)

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

#endif
