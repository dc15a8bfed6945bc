/*
 * test_fifo.c — the variable-size record ring (base/ftcp_fifo.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_test.h"
#include "base/ftcp_fifo.h"
#include "ftcp/ftcp_errno.h"

void register_fifo_tests(void);

/* 8-byte aligned backing memory. */
static uint64_t mem_store[4096 / 8];
#define MEM ((uint8_t *)mem_store)

static void fill_pattern(uint8_t *p, uint32_t len, uint32_t tag)
{
	uint32_t i;
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(tag * 31u + i * 7u + 1u);
}

static int check_pattern(const uint8_t *p, uint32_t len, uint32_t tag)
{
	uint32_t i;
	if (!p)
		return 0;
	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)(tag * 31u + i * 7u + 1u))
			return 0;
	return 1;
}

static int push_pattern(struct ftcp_fifo *f, uint32_t len, uint32_t tag)
{
	uint8_t tmp[4096];
	fill_pattern(tmp, len, tag);
	return ftcp_fifo_push(f, tmp, len);
}

static void test_fifo_init_rejects_non_power_of_two_size(void)
{
	struct ftcp_fifo f;

	ASSERT_EQ_I64(ftcp_fifo_init(&f, MEM, 100), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_fifo_init(&f, MEM, 0), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_fifo_init(&f, MEM, 48), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_fifo_init(&f, MEM, 8), -FTCP_EINVAL); /* < 16 */
	ASSERT_EQ_I64(ftcp_fifo_init(&f, MEM, 16), 0);
	ASSERT_EQ_I64(ftcp_fifo_init(&f, MEM, 1024), 0);
	ASSERT_EQ_U64(f.size, 1024);
	CU_ASSERT(ftcp_fifo_empty(&f));
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 0);
}

static void test_fifo_init_rejects_misaligned_or_null_memory(void)
{
	struct ftcp_fifo f;

	ASSERT_EQ_I64(ftcp_fifo_init(&f, MEM + 1, 64), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_fifo_init(&f, MEM + 4, 64), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_fifo_init(&f, NULL, 64), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_fifo_init(&f, MEM + 8, 64), 0);
}

static void test_fifo_record_size_is_header_plus_aligned_length(void)
{
	ASSERT_EQ_U64(ftcp_fifo_record_size(0), 8);
	ASSERT_EQ_U64(ftcp_fifo_record_size(1), 16);
	ASSERT_EQ_U64(ftcp_fifo_record_size(8), 16);
	ASSERT_EQ_U64(ftcp_fifo_record_size(9), 24);
	ASSERT_EQ_U64(ftcp_fifo_record_size(1514), 8 + 1520);
}

static void test_fifo_push_peek_pop_preserves_order(void)
{
	struct ftcp_fifo f;
	const char *words[] = {"a", "bb", "ccc", "dddddddddddd"};
	uint32_t i, len = 0;
	const char *p;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 256) == 0);
	CU_ASSERT(ftcp_fifo_peek(&f, &len) == NULL);
	for (i = 0; i < 4; i++)
		ASSERT_EQ_I64(ftcp_fifo_push(&f, words[i], (uint32_t)strlen(words[i])), 0);
	ASSERT_EQ_U64(f.count, 4);
	CU_ASSERT(!ftcp_fifo_empty(&f));
	for (i = 0; i < 4; i++) {
		len = 999;
		p = ftcp_fifo_peek(&f, &len);
		CU_ASSERT_FATAL(p != NULL);
		ASSERT_EQ_U64(len, strlen(words[i]));
		CU_ASSERT(memcmp(p, words[i], len) == 0);
		/* peeking twice gives the same record */
		CU_ASSERT(ftcp_fifo_peek(&f, NULL) == p);
		ftcp_fifo_pop(&f);
	}
	CU_ASSERT(ftcp_fifo_empty(&f));
	CU_ASSERT(ftcp_fifo_peek(&f, &len) == NULL);
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 0);
	ftcp_fifo_pop(&f); /* popping an empty fifo is harmless */
	ASSERT_EQ_U64(f.count, 0);
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 0);
}

static void test_fifo_keeps_records_of_varying_sizes(void)
{
	struct ftcp_fifo f;
	uint32_t i, len = 0, used = 0;
	const uint8_t *p;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 2048) == 0);
	for (i = 0; i < 40; i++) {
		ASSERT_EQ_I64(push_pattern(&f, i, i), 0);
		used += ftcp_fifo_record_size(i);
		ASSERT_EQ_U64(ftcp_fifo_used(&f), used);
	}
	for (i = 0; i < 40; i++) {
		p = ftcp_fifo_peek(&f, &len);
		CU_ASSERT_FATAL(p != NULL);
		ASSERT_EQ_U64(len, i);
		CU_ASSERT(((uintptr_t)p & 7) == 0); /* records are 8-byte aligned */
		CU_ASSERT(check_pattern(p, len, i));
		ftcp_fifo_pop(&f);
	}
	CU_ASSERT(ftcp_fifo_empty(&f));
}

static void test_fifo_wraps_record_that_does_not_fit_at_end(void)
{
	struct ftcp_fifo f;
	uint32_t len = 0;
	const uint8_t *p;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 128) == 0);
	/* Two 48-byte records: head at 96, 32 bytes left before the end. */
	ASSERT_EQ_I64(push_pattern(&f, 40, 1), 0);
	ASSERT_EQ_I64(push_pattern(&f, 40, 2), 0);
	ftcp_fifo_pop(&f); /* tail at 48: 80 bytes free, 32 at the end */
	/* A 48-byte record does not fit in the 32 at the end: it starts over. */
	ASSERT_EQ_I64(push_pattern(&f, 40, 3), 0);
	ASSERT_EQ_U64(f.count, 2);
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 128); /* 48 + 32 waste + 48 */
	/* Now full: not even an empty record fits. */
	ASSERT_EQ_I64(push_pattern(&f, 0, 9), -FTCP_EAGAIN);

	p = ftcp_fifo_peek(&f, &len);
	CU_ASSERT_FATAL(p != NULL);
	ASSERT_EQ_U64(len, 40);
	CU_ASSERT(check_pattern(p, len, 2));
	ftcp_fifo_pop(&f);

	p = ftcp_fifo_peek(&f, &len);
	CU_ASSERT_FATAL(p != NULL);
	ASSERT_EQ_U64(len, 40);
	/* contiguous, at the start of the buffer, intact */
	CU_ASSERT(p == MEM + FTCP_FIFO_HDR);
	CU_ASSERT(p + len <= MEM + 128);
	CU_ASSERT(check_pattern(p, len, 3));
	ftcp_fifo_pop(&f);
	CU_ASSERT(ftcp_fifo_empty(&f));
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 0);
}

static void test_fifo_record_filling_exactly_to_end_does_not_wrap(void)
{
	struct ftcp_fifo f;
	uint32_t len = 0;
	const uint8_t *p;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 128) == 0);
	ASSERT_EQ_I64(push_pattern(&f, 56, 1), 0); /* 64 bytes */
	ASSERT_EQ_I64(push_pattern(&f, 56, 2), 0); /* 64 bytes: exactly to the end */
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 128);
	ftcp_fifo_pop(&f);
	p = ftcp_fifo_peek(&f, &len);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(p == MEM + 64 + FTCP_FIFO_HDR);
	CU_ASSERT(check_pattern(p, len, 2));
	/* the next record goes to offset 0 with no waste */
	ASSERT_EQ_I64(push_pattern(&f, 56, 3), 0);
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 128);
	ftcp_fifo_pop(&f);
	p = ftcp_fifo_peek(&f, &len);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(p == MEM + FTCP_FIFO_HDR);
	CU_ASSERT(check_pattern(p, len, 3));
}

static void test_fifo_full_refuses_reserve(void)
{
	struct ftcp_fifo f;
	uint32_t n = 0, len = 0;
	const uint8_t *p;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 256) == 0);
	while (push_pattern(&f, 24, n) == 0)
		n++;
	ASSERT_EQ_U64(n, 256 / 32);
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 256);
	CU_ASSERT(ftcp_fifo_reserve(&f, 0) == NULL);
	CU_ASSERT(ftcp_fifo_reserve(&f, 1) == NULL);
	ASSERT_EQ_I64(push_pattern(&f, 1, 99), -FTCP_EAGAIN);
	ASSERT_EQ_U64(f.count, n);
	/* the refused pushes changed nothing */
	p = ftcp_fifo_peek(&f, &len);
	CU_ASSERT_FATAL(p != NULL);
	ASSERT_EQ_U64(len, 24);
	CU_ASSERT(check_pattern(p, len, 0));
	ftcp_fifo_pop(&f);
	CU_ASSERT(ftcp_fifo_reserve(&f, 24) != NULL);
	ftcp_fifo_cancel(&f);
	CU_ASSERT(ftcp_fifo_reserve(&f, 25) == NULL); /* 40 > 32 bytes free */
}

static void test_fifo_reserve_then_cancel_leaves_it_usable(void)
{
	struct ftcp_fifo f;
	uint32_t len = 0;
	uint8_t *r;
	const uint8_t *p;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 256) == 0);
	ASSERT_EQ_I64(push_pattern(&f, 10, 1), 0);
	r = ftcp_fifo_reserve(&f, 100);
	CU_ASSERT_FATAL(r != NULL);
	memset(r, 0xee, 100);
	/* only one reservation at a time */
	CU_ASSERT(ftcp_fifo_reserve(&f, 8) == NULL);
	ASSERT_EQ_I64(push_pattern(&f, 8, 5), -FTCP_EAGAIN);
	/* an uncommitted reservation is invisible */
	ASSERT_EQ_U64(f.count, 1);
	ftcp_fifo_cancel(&f);
	ASSERT_EQ_U64(f.count, 1);
	ASSERT_EQ_U64(ftcp_fifo_used(&f), ftcp_fifo_record_size(10));
	ASSERT_EQ_I64(push_pattern(&f, 20, 2), 0);
	p = ftcp_fifo_peek(&f, &len);
	ASSERT_EQ_U64(len, 10);
	CU_ASSERT(check_pattern(p, len, 1));
	ftcp_fifo_pop(&f);
	p = ftcp_fifo_peek(&f, &len);
	ASSERT_EQ_U64(len, 20);
	CU_ASSERT(check_pattern(p, len, 2));
	ftcp_fifo_pop(&f);
	CU_ASSERT(ftcp_fifo_empty(&f));
}

static void test_fifo_cancel_of_wrapping_reservation_keeps_records(void)
{
	struct ftcp_fifo f;
	uint32_t len = 0;
	const uint8_t *p;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 128) == 0);
	ASSERT_EQ_I64(push_pattern(&f, 40, 1), 0); /* 0..48 */
	ASSERT_EQ_I64(push_pattern(&f, 40, 2), 0); /* 48..96 */
	ftcp_fifo_pop(&f);                          /* tail 48 */
	/* wraps: a marker at 96, the record at 0 */
	CU_ASSERT_FATAL(ftcp_fifo_reserve(&f, 40) != NULL);
	ftcp_fifo_cancel(&f);
	ASSERT_EQ_U64(f.count, 1);
	p = ftcp_fifo_peek(&f, &len);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(check_pattern(p, len, 2));
	/* a small record now also goes after the marker */
	ASSERT_EQ_I64(push_pattern(&f, 16, 3), 0);
	ASSERT_EQ_U64(f.count, 2);
	ftcp_fifo_pop(&f);
	p = ftcp_fifo_peek(&f, &len);
	CU_ASSERT_FATAL(p != NULL);
	ASSERT_EQ_U64(len, 16);
	CU_ASSERT(check_pattern(p, len, 3));
	ftcp_fifo_pop(&f);
	CU_ASSERT(ftcp_fifo_empty(&f));
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 0);
}

static void test_fifo_commit_shorter_than_reserved_uses_only_committed_length(void)
{
	struct ftcp_fifo f;
	uint8_t *r;
	uint32_t len = 0;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 256) == 0);
	r = ftcp_fifo_reserve(&f, 200);
	CU_ASSERT_FATAL(r != NULL);
	fill_pattern(r, 12, 4);
	ftcp_fifo_commit(&f, 12);
	ASSERT_EQ_U64(ftcp_fifo_used(&f), ftcp_fifo_record_size(12));
	CU_ASSERT(ftcp_fifo_peek(&f, &len) == r);
	ASSERT_EQ_U64(len, 12);
	CU_ASSERT(check_pattern(r, 12, 4));
	/* commit without a reservation does nothing */
	ftcp_fifo_commit(&f, 50);
	ASSERT_EQ_U64(f.count, 1);
	ASSERT_EQ_U64(ftcp_fifo_used(&f), ftcp_fifo_record_size(12));
}

static void test_fifo_peek_at_iterates_without_popping(void)
{
	struct ftcp_fifo f;
	uint32_t cursor, len = 0, i, round;
	const uint8_t *p;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 256) == 0);
	/* several rounds so that the records straddle the wrap */
	for (round = 0; round < 6; round++) {
		for (i = 0; i < 5; i++)
			ASSERT_EQ_I64(push_pattern(&f, 5 + i * 3 + round, round * 10 + i), 0);
		cursor = f.tail;
		for (i = 0; i < 5; i++) {
			p = ftcp_fifo_peek_at(&f, &cursor, &len);
			CU_ASSERT_FATAL(p != NULL);
			ASSERT_EQ_U64(len, 5 + i * 3 + round);
			CU_ASSERT(check_pattern(p, len, round * 10 + i));
		}
		CU_ASSERT(ftcp_fifo_peek_at(&f, &cursor, &len) == NULL);
		CU_ASSERT(ftcp_fifo_peek_at(&f, &cursor, &len) == NULL);
		ASSERT_EQ_U64(f.count, 5);
		/* the first record is still the oldest */
		p = ftcp_fifo_peek(&f, &len);
		CU_ASSERT(check_pattern(p, len, round * 10));
		for (i = 0; i < 5; i++)
			ftcp_fifo_pop(&f);
		CU_ASSERT(ftcp_fifo_empty(&f));
		/* shift the start so the next round wraps somewhere else */
		ASSERT_EQ_I64(push_pattern(&f, 40 + round * 8, 0), 0);
		ftcp_fifo_pop(&f);
	}
}

static void test_fifo_peek_at_stops_before_pending_reservation(void)
{
	struct ftcp_fifo f;
	uint32_t cursor, len = 0;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 128) == 0);
	ASSERT_EQ_I64(push_pattern(&f, 8, 1), 0);
	ASSERT_EQ_I64(push_pattern(&f, 8, 2), 0);
	CU_ASSERT_FATAL(ftcp_fifo_reserve(&f, 8) != NULL);
	cursor = f.tail;
	CU_ASSERT(ftcp_fifo_peek_at(&f, &cursor, &len) != NULL);
	CU_ASSERT(ftcp_fifo_peek_at(&f, &cursor, &len) != NULL);
	CU_ASSERT(ftcp_fifo_peek_at(&f, &cursor, &len) == NULL);
	ftcp_fifo_cancel(&f);

	/* and a reservation that wrapped: records end at its wrap marker */
	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 128) == 0);
	ASSERT_EQ_I64(push_pattern(&f, 40, 1), 0);  /* 0..48 */
	ASSERT_EQ_I64(push_pattern(&f, 40, 2), 0);  /* 48..96 */
	ftcp_fifo_pop(&f);                          /* tail 48 */
	CU_ASSERT_FATAL(ftcp_fifo_reserve(&f, 40) == MEM + FTCP_FIFO_HDR); /* marker at 96 */
	cursor = f.tail;
	CU_ASSERT(ftcp_fifo_peek_at(&f, &cursor, &len) == MEM + 48 + FTCP_FIFO_HDR);
	ASSERT_EQ_U64(len, 40);
	CU_ASSERT(ftcp_fifo_peek_at(&f, &cursor, &len) == NULL);
	fill_pattern(MEM + FTCP_FIFO_HDR, 40, 3);
	ftcp_fifo_commit(&f, 40);
	cursor = f.tail;
	CU_ASSERT(ftcp_fifo_peek_at(&f, &cursor, &len) == MEM + 48 + FTCP_FIFO_HDR);
	CU_ASSERT(ftcp_fifo_peek_at(&f, &cursor, &len) == MEM + FTCP_FIFO_HDR);
	ASSERT_EQ_U64(len, 40);
	CU_ASSERT(check_pattern(MEM + FTCP_FIFO_HDR, len, 3));
	CU_ASSERT(ftcp_fifo_peek_at(&f, &cursor, &len) == NULL);
}

static void test_fifo_accepts_max_record_and_refuses_larger(void)
{
	struct ftcp_fifo f;
	uint8_t *r;
	uint32_t len = 0;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 256) == 0);
	ASSERT_EQ_U64(ftcp_fifo_max_record(&f), 248);
	CU_ASSERT(ftcp_fifo_reserve(&f, 249) == NULL);
	CU_ASSERT(ftcp_fifo_reserve(&f, 0xffffffffu) == NULL);
	CU_ASSERT(ftcp_fifo_reserve(&f, 0xfffffff9u) == NULL); /* no overflow in sizing */
	r = ftcp_fifo_reserve(&f, 248);
	CU_ASSERT_FATAL(r != NULL);
	fill_pattern(r, 248, 7);
	ftcp_fifo_commit(&f, 248);
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 256);
	CU_ASSERT(ftcp_fifo_peek(&f, &len) == r);
	ASSERT_EQ_U64(len, 248);
	CU_ASSERT(check_pattern(r, len, 7));
}

static void test_fifo_accepts_max_record_whenever_empty(void)
{
	struct ftcp_fifo f;
	uint32_t shift, len = 0;
	const uint8_t *p;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 256) == 0);
	for (shift = 0; shift < 240; shift += 8) {
		/* leave the empty fifo at some offset other than 0 */
		ASSERT_EQ_I64(push_pattern(&f, shift, 1), 0);
		ftcp_fifo_pop(&f);
		CU_ASSERT_FATAL(ftcp_fifo_empty(&f));
		ASSERT_EQ_I64(push_pattern(&f, ftcp_fifo_max_record(&f), shift), 0);
		p = ftcp_fifo_peek(&f, &len);
		CU_ASSERT_FATAL(p != NULL);
		ASSERT_EQ_U64(len, ftcp_fifo_max_record(&f));
		CU_ASSERT(check_pattern(p, len, shift));
		ftcp_fifo_pop(&f);
	}
	/* also after a cancelled reservation left a wrap marker */
	ASSERT_EQ_I64(push_pattern(&f, 100, 1), 0); /* 0..112 */
	ASSERT_EQ_I64(push_pattern(&f, 100, 2), 0); /* 112..224 */
	ftcp_fifo_pop(&f);
	CU_ASSERT_FATAL(ftcp_fifo_reserve(&f, 100) == MEM + FTCP_FIFO_HDR); /* wrapped */
	ftcp_fifo_cancel(&f);
	ftcp_fifo_pop(&f);
	CU_ASSERT(ftcp_fifo_empty(&f));
	ASSERT_EQ_I64(push_pattern(&f, ftcp_fifo_max_record(&f), 3), 0);
	p = ftcp_fifo_peek(&f, &len);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(check_pattern(p, len, 3));
}

static void test_fifo_reset_empties(void)
{
	struct ftcp_fifo f;

	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, 256) == 0);
	ASSERT_EQ_I64(push_pattern(&f, 30, 1), 0);
	CU_ASSERT(ftcp_fifo_reserve(&f, 10) != NULL);
	ftcp_fifo_reset(&f);
	CU_ASSERT(ftcp_fifo_empty(&f));
	ASSERT_EQ_U64(ftcp_fifo_used(&f), 0);
	CU_ASSERT(ftcp_fifo_peek(&f, NULL) == NULL);
	/* the reservation is gone too */
	CU_ASSERT(ftcp_fifo_reserve(&f, 248) != NULL);
}

/* ---- randomized model test ---- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

struct model_rec {
	uint32_t len, tag;
};

static void test_fifo_randomized_against_reference_model(void)
{
	enum { SIZE = 1024, OPS = 40000, MAXM = 1024 };
	struct ftcp_fifo f;
	struct model_rec *m = calloc(MAXM, sizeof(*m));
	uint32_t mhead = 0, mtail = 0, tag = 0, op, bad = 0, refused = 0, accepted = 0;
	uint32_t live_bytes = 0;

	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_FATAL(ftcp_fifo_init(&f, MEM, SIZE) == 0);
	rng_state = 12345;
	for (op = 0; op < OPS; op++) {
		uint32_t r = rnd() % 100, len;
		if (r < 50) {
			/* push, sizes mostly small, sometimes large */
			uint32_t sel = rnd() % 10;
			len = sel < 6 ? rnd() % 64 : sel < 9 ? rnd() % 400 : rnd() % (SIZE - 7);
			if (push_pattern(&f, len, tag) == 0) {
				m[mhead++ % MAXM] = (struct model_rec){len, tag};
				live_bytes += ftcp_fifo_record_size(len);
				accepted++;
			} else {
				/* Refusal is only allowed when the record plus the
				 * worst wrap waste (< need) does not fit the free
				 * space, and never when the fifo is empty. */
				uint32_t need = ftcp_fifo_record_size(len);
				uint32_t free_bytes = SIZE - ftcp_fifo_used(&f);
				refused++;
				if (len <= ftcp_fifo_max_record(&f) &&
				    (free_bytes >= 2 * need || mhead == mtail))
					bad++;
			}
			tag++;
		} else if (r < 55) {
			/* reserve and cancel */
			len = rnd() % 300;
			if (ftcp_fifo_reserve(&f, len))
				ftcp_fifo_cancel(&f);
		} else if (r < 92) {
			const uint8_t *p = ftcp_fifo_peek(&f, &len);
			if (mhead == mtail) {
				if (p)
					bad++;
			} else {
				struct model_rec e = m[mtail++ % MAXM];
				if (!p || len != e.len || !check_pattern(p, len, e.tag) ||
				    ((uintptr_t)p & 7) || p + len > MEM + SIZE)
					bad++;
				ftcp_fifo_pop(&f);
				live_bytes -= ftcp_fifo_record_size(e.len);
				/* an emptied fifo keeps no waste */
				if (mhead == mtail && ftcp_fifo_used(&f) != 0)
					bad++;
			}
		} else {
			/* walk everything with peek_at */
			uint32_t cursor = f.tail, i = mtail;
			const uint8_t *p;
			while ((p = ftcp_fifo_peek_at(&f, &cursor, &len))) {
				if (i == mhead) {
					bad++;
					break;
				}
				if (len != m[i % MAXM].len || !check_pattern(p, len, m[i % MAXM].tag))
					bad++;
				i++;
			}
			if (i != mhead)
				bad++;
		}
		if (f.count != mhead - mtail)
			bad++;
		if (ftcp_fifo_used(&f) < live_bytes || ftcp_fifo_used(&f) > SIZE)
			bad++;
		if (bad) {
			fprintf(stderr, "\n  fifo model diverged at op %u\n", op);
			break;
		}
	}
	ASSERT_EQ_U64(bad, 0);
	CU_ASSERT(accepted > 1000); /* the test exercised both outcomes */
	CU_ASSERT(refused > 100);
	free(m);
}

void register_fifo_tests(void)
{
	FTCP_SUITE("fifo",
	           FTCP_CASE(test_fifo_init_rejects_non_power_of_two_size),
	           FTCP_CASE(test_fifo_init_rejects_misaligned_or_null_memory),
	           FTCP_CASE(test_fifo_record_size_is_header_plus_aligned_length),
	           FTCP_CASE(test_fifo_push_peek_pop_preserves_order),
	           FTCP_CASE(test_fifo_keeps_records_of_varying_sizes),
	           FTCP_CASE(test_fifo_wraps_record_that_does_not_fit_at_end),
	           FTCP_CASE(test_fifo_record_filling_exactly_to_end_does_not_wrap),
	           FTCP_CASE(test_fifo_full_refuses_reserve),
	           FTCP_CASE(test_fifo_reserve_then_cancel_leaves_it_usable),
	           FTCP_CASE(test_fifo_cancel_of_wrapping_reservation_keeps_records),
	           FTCP_CASE(test_fifo_commit_shorter_than_reserved_uses_only_committed_length),
	           FTCP_CASE(test_fifo_peek_at_iterates_without_popping),
	           FTCP_CASE(test_fifo_peek_at_stops_before_pending_reservation),
	           FTCP_CASE(test_fifo_accepts_max_record_and_refuses_larger),
	           FTCP_CASE(test_fifo_accepts_max_record_whenever_empty),
	           FTCP_CASE(test_fifo_reset_empties),
	           FTCP_CASE(test_fifo_randomized_against_reference_model));
}
