/*
 * test_pool.c — the bitmap object pool (base/ftcp_pool.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_test.h"
#include "base/ftcp_pool.h"
#include "ftcp/ftcp_errno.h"

/* ftcp_pool_next visits exactly the allocated indices, in order, across
 * word boundaries and a partial last word, and tolerates freeing the
 * current index during the walk. */
static void test_pool_next_iterates_allocated_indices(void)
{
	const uint32_t count = 100; /* not a multiple of 32 */
	void *mem = malloc(ftcp_pool_memory_size(8, count));
	struct ftcp_pool p;
	int32_t i, expect;
	uint32_t k, seen = 0;

	CU_ASSERT_FATAL(mem != NULL);
	CU_ASSERT_FATAL(ftcp_pool_init(&p, mem, 8, count) == 0);
	CU_ASSERT_EQUAL(ftcp_pool_next(&p, -1), -1);
	for (k = 0; k < count; k++)
		CU_ASSERT(ftcp_pool_alloc(&p) == (int32_t)k);
	for (k = 0; k < count; k++)
		if (k % 3 != 0 && k != 31 && k != 32)
			CU_ASSERT(ftcp_pool_free(&p, (int32_t)k) == 0);
	expect = -1;
	for (i = ftcp_pool_next(&p, -1); i >= 0; i = ftcp_pool_next(&p, i)) {
		int32_t j = expect + 1;
		while (!ftcp_pool_is_allocated(&p, j))
			j++;
		CU_ASSERT_EQUAL(i, j);
		expect = i;
		seen++;
		CU_ASSERT(ftcp_pool_free(&p, i) == 0); /* freeing while walking */
	}
	CU_ASSERT_EQUAL(seen, 34 + 2); /* multiples of 3 below 100, plus 31 and 32 */
	CU_ASSERT_EQUAL(ftcp_pool_next(&p, -1), -1);
	CU_ASSERT_EQUAL(ftcp_pool_next(&p, (int32_t)count), -1);
	free(mem);
}

void register_pool_tests(void);

#define GUARD 64

/* A pool in malloc'd memory with a guard pattern after the block. */
struct tpool {
	struct ftcp_pool p;
	uint8_t *mem;
	size_t len;
};

static int tpool_init(struct tpool *t, uint32_t obj_size, uint32_t count)
{
	t->len = ftcp_pool_memory_size(obj_size, count);
	t->mem = malloc(t->len + GUARD);
	if (!t->mem)
		return -1;
	memset(t->mem + t->len, 0xa5, GUARD);
	return ftcp_pool_init(&t->p, t->mem, obj_size, count);
}

static int guard_intact(const struct tpool *t)
{
	size_t i;
	for (i = 0; i < GUARD; i++)
		if (t->mem[t->len + i] != 0xa5)
			return 0;
	return 1;
}

static void tpool_fini(struct tpool *t)
{
	free(t->mem);
}

static void test_pool_init_rejects_bad_arguments(void)
{
	struct ftcp_pool p;
	static uint64_t mem[64];

	ASSERT_EQ_I64(ftcp_pool_init(&p, NULL, 8, 4), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_pool_init(&p, mem, 0, 4), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_pool_init(&p, mem, 8, 0), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_pool_init(&p, (uint8_t *)mem + 4, 8, 4), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_pool_init(&p, mem, 8, 4), 0);
	ASSERT_EQ_U64(p.in_use, 0);
}

static void test_pool_alloc_returns_lowest_free_index(void)
{
	struct tpool t;
	int32_t i;

	CU_ASSERT_FATAL(tpool_init(&t, 24, 100) == 0);
	for (i = 0; i < 70; i++)
		ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), i);
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, 65), 0);
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, 40), 0);
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, 3), 0);
	ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), 3);
	ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), 40);
	ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), 65);
	ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), 70);
	CU_ASSERT(ftcp_pool_is_allocated(&t.p, 70));
	CU_ASSERT(!ftcp_pool_is_allocated(&t.p, 71));
	tpool_fini(&t);
}

static void test_pool_objects_are_distinct_and_aligned(void)
{
	struct tpool t;
	int32_t i;

	CU_ASSERT_FATAL(tpool_init(&t, 13, 10) == 0);
	for (i = 0; i < 10; i++) {
		uint8_t *o = ftcp_pool_obj(&t.p, ftcp_pool_alloc(&t.p));
		CU_ASSERT(((uintptr_t)o & 7) == 0);
		memset(o, i + 1, 13);
	}
	for (i = 0; i < 10; i++) {
		uint8_t *o = ftcp_pool_obj(&t.p, i);
		CU_ASSERT(o[0] == i + 1 && o[12] == i + 1);
		if (i)
			CU_ASSERT(o >= (uint8_t *)ftcp_pool_obj(&t.p, i - 1) + 13);
	}
	tpool_fini(&t);
}

static void test_pool_exhaustion_returns_minus_one_and_counts_failures(void)
{
	struct tpool t;
	int32_t i;

	CU_ASSERT_FATAL(tpool_init(&t, 8, 10) == 0);
	for (i = 0; i < 10; i++)
		CU_ASSERT(ftcp_pool_alloc(&t.p) >= 0);
	ASSERT_EQ_U64(t.p.failures, 0);
	ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), -1);
	ASSERT_EQ_U64(t.p.failures, 1);
	ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), -1);
	ASSERT_EQ_U64(t.p.failures, 2);
	ASSERT_EQ_U64(t.p.in_use, 10);
	/* after a free the pool recovers (even though it gave up scanning) */
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, 7), 0);
	ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), 7);
	ASSERT_EQ_U64(t.p.failures, 2);
	tpool_fini(&t);
}

static void test_pool_free_then_alloc_reuses_the_slot(void)
{
	struct tpool t;
	int32_t a, b;

	CU_ASSERT_FATAL(tpool_init(&t, 16, 4) == 0);
	a = ftcp_pool_alloc(&t.p);
	b = ftcp_pool_alloc(&t.p);
	ASSERT_EQ_I64(a, 0);
	ASSERT_EQ_I64(b, 1);
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, a), 0);
	CU_ASSERT(!ftcp_pool_is_allocated(&t.p, a));
	ASSERT_EQ_U64(t.p.in_use, 1);
	ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), a);
	CU_ASSERT(ftcp_pool_is_allocated(&t.p, a));
	ASSERT_EQ_U64(t.p.in_use, 2);
	tpool_fini(&t);
}

static void test_pool_double_free_and_out_of_range_free_are_refused(void)
{
	struct tpool t;
	int32_t a;

	CU_ASSERT_FATAL(tpool_init(&t, 16, 40) == 0);
	a = ftcp_pool_alloc(&t.p);
	ftcp_pool_alloc(&t.p);
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, a), 0);
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, a), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, 5), -FTCP_EINVAL); /* never allocated */
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, -1), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, 40), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, 63), -FTCP_EINVAL); /* inside the last map word */
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, 1000000), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_pool_free(&t.p, INT32_MIN), -FTCP_EINVAL);
	ASSERT_EQ_U64(t.p.in_use, 1);
	CU_ASSERT(!ftcp_pool_is_allocated(&t.p, -5));
	CU_ASSERT(!ftcp_pool_is_allocated(&t.p, 40));
	/* the refused frees did not make bogus slots allocatable */
	ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), 0);
	ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), 2);
	tpool_fini(&t);
}

static void test_pool_high_water_tracks_the_peak(void)
{
	struct tpool t;
	int32_t i;

	CU_ASSERT_FATAL(tpool_init(&t, 8, 16) == 0);
	for (i = 0; i < 5; i++)
		ftcp_pool_alloc(&t.p);
	ASSERT_EQ_U64(t.p.high_water, 5);
	ftcp_pool_free(&t.p, 0);
	ftcp_pool_free(&t.p, 1);
	ftcp_pool_free(&t.p, 2);
	ASSERT_EQ_U64(t.p.in_use, 2);
	ASSERT_EQ_U64(t.p.high_water, 5);
	ftcp_pool_alloc(&t.p);
	ASSERT_EQ_U64(t.p.high_water, 5);
	for (i = 0; i < 4; i++)
		ftcp_pool_alloc(&t.p);
	ASSERT_EQ_U64(t.p.in_use, 7);
	ASSERT_EQ_U64(t.p.high_water, 7);
	tpool_fini(&t);
}

static void test_pool_count_not_multiple_of_32_never_hands_out_extra_indices(void)
{
	static const uint32_t counts[] = {1, 5, 31, 33, 45, 63, 64, 65, 100};
	size_t k;

	for (k = 0; k < FTCP_ARRAY_SIZE(counts); k++) {
		struct tpool t;
		uint32_t n = counts[k], got = 0;
		uint8_t *seen = calloc(n, 1);
		int32_t idx;

		CU_ASSERT_FATAL(seen && tpool_init(&t, 8, n) == 0);
		while ((idx = ftcp_pool_alloc(&t.p)) >= 0) {
			CU_ASSERT(idx < (int32_t)n);
			if (idx >= (int32_t)n || seen[idx])
				break;
			seen[idx] = 1;
			got++;
		}
		ASSERT_EQ_U64(got, n);
		ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), -1);
		ASSERT_EQ_U64(t.p.in_use, n);
		free(seen);
		tpool_fini(&t);
	}
}

static void test_pool_memory_size_is_sufficient(void)
{
	static const uint32_t sizes[] = {1, 7, 8, 9, 24, 100};
	static const uint32_t counts[] = {1, 2, 31, 32, 33, 64, 65, 200};
	size_t i, j;

	for (i = 0; i < FTCP_ARRAY_SIZE(sizes); i++) {
		for (j = 0; j < FTCP_ARRAY_SIZE(counts); j++) {
			struct tpool t;
			uint32_t k, n = counts[j], sz = sizes[i];
			int ok = 1;

			CU_ASSERT_FATAL(tpool_init(&t, sz, n) == 0);
			/* fill every object completely */
			for (k = 0; k < n; k++) {
				int32_t idx = ftcp_pool_alloc(&t.p);
				if (idx < 0) {
					ok = 0;
					break;
				}
				memset(ftcp_pool_obj(&t.p, idx), 0x5a, sz);
			}
			CU_ASSERT(ok);
			CU_ASSERT(guard_intact(&t));
			/* objects did not overwrite the bitmap */
			ASSERT_EQ_I64(ftcp_pool_alloc(&t.p), -1);
			for (k = 0; k < n; k++)
				if (ftcp_pool_free(&t.p, (int32_t)k) != 0)
					ok = 0;
			CU_ASSERT(ok);
			ASSERT_EQ_U64(t.p.in_use, 0);
			CU_ASSERT(guard_intact(&t));
			tpool_fini(&t);
		}
	}
}

static void test_pool_memory_size_counts_the_bitmap_for_huge_counts(void)
{
	/* (count + 31) / 32 must not wrap for counts near UINT32_MAX: the
	 * bitmap needs count / 32 words, rounded up. */
	static const uint32_t counts[] = {0xffffffe0u, 0xffffffe1u, 0xfffffffeu, 0xffffffffu};
	size_t i;

	for (i = 0; i < FTCP_ARRAY_SIZE(counts); i++) {
		size_t words = counts[i] / 32 + (counts[i] % 32 != 0);
		size_t need = words * 4 + (size_t)8 * counts[i];
		CU_ASSERT(ftcp_pool_memory_size(8, counts[i]) >= need);
	}
	/* and for ordinary counts the bitmap is exactly rounded to 8 bytes */
	ASSERT_EQ_U64(ftcp_pool_memory_size(8, 1), 8 + 8);
	ASSERT_EQ_U64(ftcp_pool_memory_size(8, 64), 8 + 64 * 8);
	ASSERT_EQ_U64(ftcp_pool_memory_size(8, 65), 16 + 65 * 8);
	ASSERT_EQ_U64(ftcp_pool_memory_size(3, 2), 8 + 2 * 8);
}

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static void test_pool_randomized_alloc_free_matches_model(void)
{
	enum { N = 150 };
	struct tpool t;
	uint8_t used[N] = {0};
	uint32_t op, bad = 0, in_use = 0, hw = 0;

	CU_ASSERT_FATAL(tpool_init(&t, 8, N) == 0);
	rng_state = 99;
	for (op = 0; op < 20000 && !bad; op++) {
		if (rnd() % 2) {
			int32_t idx = ftcp_pool_alloc(&t.p), lowest = -1, k;
			for (k = 0; k < N; k++)
				if (!used[k]) {
					lowest = k;
					break;
				}
			if (idx != lowest)
				bad++;
			if (idx >= 0) {
				used[idx] = 1;
				in_use++;
				hw = in_use > hw ? in_use : hw;
			}
		} else {
			int32_t k = (int32_t)(rnd() % (N + 10));
			int rc = ftcp_pool_free(&t.p, k);
			if (k < N && used[k]) {
				if (rc != 0)
					bad++;
				used[k] = 0;
				in_use--;
			} else if (rc != -FTCP_EINVAL) {
				bad++;
			}
		}
		if (t.p.in_use != in_use || t.p.high_water != hw)
			bad++;
	}
	ASSERT_EQ_U64(bad, 0);
	CU_ASSERT(guard_intact(&t));
	tpool_fini(&t);
}

void register_pool_tests(void)
{
	FTCP_SUITE("pool",
	           FTCP_CASE(test_pool_next_iterates_allocated_indices),
	           FTCP_CASE(test_pool_init_rejects_bad_arguments),
	           FTCP_CASE(test_pool_alloc_returns_lowest_free_index),
	           FTCP_CASE(test_pool_objects_are_distinct_and_aligned),
	           FTCP_CASE(test_pool_exhaustion_returns_minus_one_and_counts_failures),
	           FTCP_CASE(test_pool_free_then_alloc_reuses_the_slot),
	           FTCP_CASE(test_pool_double_free_and_out_of_range_free_are_refused),
	           FTCP_CASE(test_pool_high_water_tracks_the_peak),
	           FTCP_CASE(test_pool_count_not_multiple_of_32_never_hands_out_extra_indices),
	           FTCP_CASE(test_pool_memory_size_is_sufficient),
	           FTCP_CASE(test_pool_memory_size_counts_the_bitmap_for_huge_counts),
	           FTCP_CASE(test_pool_randomized_alloc_free_matches_model));
}
