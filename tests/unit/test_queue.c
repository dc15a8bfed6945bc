/*
 * test_queue.c — the byte ring (base/ftcp_queue.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_test.h"
#include "base/ftcp_queue.h"
#include "ftcp/ftcp_errno.h"

void register_queue_tests(void);

static uint8_t qmem[4096];

/* Byte i of a test stream. */
static uint8_t sb(uint32_t i)
{
	return (uint8_t)(i * 13u + (i >> 8) + 5u);
}

static void stream(uint8_t *p, uint32_t from, uint32_t len)
{
	uint32_t i;
	for (i = 0; i < len; i++)
		p[i] = sb(from + i);
}

static int is_stream(const uint8_t *p, uint32_t from, uint32_t len)
{
	uint32_t i;
	for (i = 0; i < len; i++)
		if (p[i] != sb(from + i))
			return 0;
	return 1;
}

static void test_queue_init_rejects_non_power_of_two_size(void)
{
	struct ftcp_queue q;

	ASSERT_EQ_I64(ftcp_queue_init(&q, qmem, 0), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_queue_init(&q, qmem, 100), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_queue_init(&q, NULL, 64), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_queue_init(&q, qmem, 64), 0);
	ASSERT_EQ_U64(ftcp_queue_used(&q), 0);
	ASSERT_EQ_U64(ftcp_queue_free(&q), 64);
}

static void test_queue_write_and_read_across_wrap(void)
{
	struct ftcp_queue q;
	uint8_t in[32], out[32];
	uint32_t round, pos = 0;

	CU_ASSERT_FATAL(ftcp_queue_init(&q, qmem, 16) == 0);
	for (round = 0; round < 20; round++) {
		uint32_t n = 5 + round % 11; /* 5..15, so writes straddle the end */
		stream(in, pos, n);
		ASSERT_EQ_U64(ftcp_queue_write(&q, in, n), n);
		ASSERT_EQ_U64(ftcp_queue_used(&q), n);
		memset(out, 0, sizeof(out));
		ASSERT_EQ_U64(ftcp_queue_read(&q, out, n), n);
		CU_ASSERT(is_stream(out, pos, n));
		ASSERT_EQ_U64(ftcp_queue_used(&q), 0);
		pos += n;
	}
}

static void test_queue_write_clips_to_free_space(void)
{
	struct ftcp_queue q;
	uint8_t in[32], out[32];

	CU_ASSERT_FATAL(ftcp_queue_init(&q, qmem, 16) == 0);
	stream(in, 0, 32);
	ASSERT_EQ_U64(ftcp_queue_write(&q, in, 10), 10);
	ASSERT_EQ_U64(ftcp_queue_write(&q, in + 10, 20), 6);
	ASSERT_EQ_U64(ftcp_queue_free(&q), 0);
	ASSERT_EQ_U64(ftcp_queue_write(&q, in + 16, 1), 0);
	ASSERT_EQ_U64(ftcp_queue_read(&q, out, 32), 16); /* read clips to used */
	CU_ASSERT(is_stream(out, 0, 16));
	ASSERT_EQ_U64(ftcp_queue_read(&q, out, 1), 0);
	ASSERT_EQ_U64(ftcp_queue_write(&q, in, 0), 0);
}

static void test_queue_read_with_null_advances_without_copying(void)
{
	struct ftcp_queue q;
	uint8_t in[16], out[16];

	CU_ASSERT_FATAL(ftcp_queue_init(&q, qmem, 16) == 0);
	stream(in, 0, 12);
	ASSERT_EQ_U64(ftcp_queue_write(&q, in, 12), 12);
	ASSERT_EQ_U64(ftcp_queue_read(&q, NULL, 5), 5);
	ASSERT_EQ_U64(ftcp_queue_used(&q), 7);
	ASSERT_EQ_U64(ftcp_queue_free(&q), 9);
	ASSERT_EQ_U64(ftcp_queue_read(&q, out, 7), 7);
	CU_ASSERT(is_stream(out, 5, 7));
	ASSERT_EQ_U64(ftcp_queue_read(&q, NULL, 100), 0);
}

static void test_queue_peek_at_offsets_does_not_consume(void)
{
	struct ftcp_queue q;
	uint8_t in[16], out[16];

	CU_ASSERT_FATAL(ftcp_queue_init(&q, qmem, 16) == 0);
	/* put the read position at 10, then 12 bytes straddling the end */
	stream(in, 0, 10);
	ftcp_queue_write(&q, in, 10);
	ftcp_queue_read(&q, NULL, 10);
	stream(in, 100, 12);
	ASSERT_EQ_U64(ftcp_queue_write(&q, in, 12), 12);

	memset(out, 0, sizeof(out));
	ASSERT_EQ_U64(ftcp_queue_peek(&q, 0, out, 4), 4);
	CU_ASSERT(is_stream(out, 100, 4));
	ASSERT_EQ_U64(ftcp_queue_peek(&q, 3, out, 8), 8); /* crosses the wrap */
	CU_ASSERT(is_stream(out, 103, 8));
	ASSERT_EQ_U64(ftcp_queue_peek(&q, 9, out, 10), 3); /* clipped to used */
	CU_ASSERT(is_stream(out, 109, 3));
	ASSERT_EQ_U64(ftcp_queue_peek(&q, 12, out, 1), 0);
	ASSERT_EQ_U64(ftcp_queue_peek(&q, 1000, out, 1), 0);
	ASSERT_EQ_U64(ftcp_queue_used(&q), 12);
	ASSERT_EQ_U64(ftcp_queue_read(&q, out, 12), 12);
	CU_ASSERT(is_stream(out, 100, 12));
}

static void test_queue_peek_ref_stops_at_the_wrap(void)
{
	struct ftcp_queue q;
	uint8_t in[16];
	const uint8_t *p = NULL;

	CU_ASSERT_FATAL(ftcp_queue_init(&q, qmem, 16) == 0);
	stream(in, 0, 10);
	ftcp_queue_write(&q, in, 10);
	ftcp_queue_read(&q, NULL, 10); /* tail at 10 */
	stream(in, 50, 12);
	ftcp_queue_write(&q, in, 12); /* 10..16 then 0..6 */

	ASSERT_EQ_U64(ftcp_queue_peek_ref(&q, 0, &p), 6);
	CU_ASSERT(p == qmem + 10);
	CU_ASSERT(is_stream(p, 50, 6));
	ASSERT_EQ_U64(ftcp_queue_peek_ref(&q, 3, &p), 3);
	CU_ASSERT(p == qmem + 13);
	ASSERT_EQ_U64(ftcp_queue_peek_ref(&q, 6, &p), 6);
	CU_ASSERT(p == qmem);
	CU_ASSERT(is_stream(p, 56, 6));
	ASSERT_EQ_U64(ftcp_queue_peek_ref(&q, 8, &p), 4);
	CU_ASSERT(p == qmem + 2);
	p = NULL;
	ASSERT_EQ_U64(ftcp_queue_peek_ref(&q, 12, &p), 0);
	ASSERT_EQ_U64(ftcp_queue_peek_ref(&q, 99, &p), 0);

	/* without a wrap, peek_ref covers all the used bytes */
	ftcp_queue_reset(&q);
	ftcp_queue_write(&q, in, 7);
	ASSERT_EQ_U64(ftcp_queue_peek_ref(&q, 0, &p), 7);
	CU_ASSERT(p == qmem);
}

static void test_queue_write_at_then_produce_fills_gap_in_order(void)
{
	struct ftcp_queue q;
	uint8_t in[64], out[64];

	CU_ASSERT_FATAL(ftcp_queue_init(&q, qmem, 32) == 0);
	/* put the write position near the end so the pieces wrap */
	stream(in, 0, 25);
	ftcp_queue_write(&q, in, 25);
	ftcp_queue_read(&q, NULL, 25);

	/* segment 2 arrives first: bytes 8..20 */
	stream(in, 1008, 12);
	ASSERT_EQ_U64(ftcp_queue_write_at(&q, 8, in, 12), 12);
	ASSERT_EQ_U64(ftcp_queue_used(&q), 0); /* not readable yet */
	ASSERT_EQ_U64(ftcp_queue_read(&q, out, 1), 0);
	/* then segment 1, bytes 0..8, fills the gap */
	stream(in, 1000, 8);
	ASSERT_EQ_U64(ftcp_queue_write_at(&q, 0, in, 8), 8);
	ASSERT_EQ_U64(ftcp_queue_produce(&q, 20), 20);
	ASSERT_EQ_U64(ftcp_queue_used(&q), 20);
	ASSERT_EQ_U64(ftcp_queue_free(&q), 12);
	ASSERT_EQ_U64(ftcp_queue_read(&q, out, 64), 20);
	CU_ASSERT(is_stream(out, 1000, 20));
}

static void test_queue_write_at_past_free_space_is_clipped(void)
{
	struct ftcp_queue q;
	uint8_t in[32];

	CU_ASSERT_FATAL(ftcp_queue_init(&q, qmem, 16) == 0);
	memset(qmem, 0, 16);
	stream(in, 0, 32);
	ftcp_queue_write(&q, in, 10); /* 6 free */
	ASSERT_EQ_U64(ftcp_queue_write_at(&q, 6, in, 1), 0);
	ASSERT_EQ_U64(ftcp_queue_write_at(&q, 100, in, 1), 0);
	ASSERT_EQ_U64(ftcp_queue_write_at(&q, 0xffffffffu, in, 1), 0);
	ASSERT_EQ_U64(ftcp_queue_write_at(&q, 4, in, 5), 2);
	ASSERT_EQ_U64(ftcp_queue_write_at(&q, 0, in, 32), 6);
	/* the readable bytes were not touched */
	CU_ASSERT(is_stream(qmem, 0, 10));
	ASSERT_EQ_U64(ftcp_queue_used(&q), 10);
	/* produce clamps to the free space */
	ASSERT_EQ_U64(ftcp_queue_produce(&q, 100), 6);
	ASSERT_EQ_U64(ftcp_queue_used(&q), 16);
	ASSERT_EQ_U64(ftcp_queue_produce(&q, 1), 0);
}

static void test_queue_free_plus_used_is_size(void)
{
	struct ftcp_queue q;
	uint8_t in[64];
	uint32_t i;

	CU_ASSERT_FATAL(ftcp_queue_init(&q, qmem, 64) == 0);
	stream(in, 0, 64);
	for (i = 0; i < 200; i++) {
		ftcp_queue_write(&q, in, (i * 7) % 40);
		ftcp_queue_read(&q, NULL, (i * 5) % 37);
		ASSERT_EQ_U64(ftcp_queue_used(&q) + ftcp_queue_free(&q), 64);
		CU_ASSERT(ftcp_queue_used(&q) <= 64);
	}
	ftcp_queue_reset(&q);
	ASSERT_EQ_U64(ftcp_queue_used(&q), 0);
	ASSERT_EQ_U64(ftcp_queue_free(&q), 64);
}

static void test_queue_works_across_32_bit_counter_wrap(void)
{
	struct ftcp_queue q;
	uint8_t in[16], out[16];
	const uint8_t *p;

	CU_ASSERT_FATAL(ftcp_queue_init(&q, qmem, 16) == 0);
	q.head = q.tail = 0xfffffff8u; /* free-running counters near wrap */
	stream(in, 0, 14);
	ASSERT_EQ_U64(ftcp_queue_write(&q, in, 14), 14);
	ASSERT_EQ_U64(ftcp_queue_used(&q), 14);
	ASSERT_EQ_U64(ftcp_queue_free(&q), 2);
	ASSERT_EQ_U64(ftcp_queue_peek_ref(&q, 0, &p), 8);
	CU_ASSERT(p == qmem + 8);
	ASSERT_EQ_U64(ftcp_queue_read(&q, out, 14), 14);
	CU_ASSERT(is_stream(out, 0, 14));
}

/* ---- randomized model test ---- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static void test_queue_randomized_against_reference_model(void)
{
	enum { SIZE = 256, OPS = 50000 };
	struct ftcp_queue q;
	uint8_t buf[2 * SIZE];
	uint32_t wpos = 0, rpos = 0; /* stream positions: written, read */
	uint32_t op, bad = 0, n, got;

	CU_ASSERT_FATAL(ftcp_queue_init(&q, qmem, SIZE) == 0);
	rng_state = 777;
	for (op = 0; op < OPS && !bad; op++) {
		uint32_t r = rnd() % 100, used = wpos - rpos;
		n = rnd() % (SIZE + 40);
		if (r < 30) {
			stream(buf, wpos, n);
			got = ftcp_queue_write(&q, buf, n);
			if (got != FTCP_MIN(n, SIZE - used))
				bad++;
			wpos += got;
		} else if (r < 45) {
			/* out of order: the later piece first, then the gap */
			uint32_t off = rnd() % (SIZE + 8), room = SIZE - used, a, b;
			stream(buf, wpos + off, n);
			a = ftcp_queue_write_at(&q, off, buf, n);
			if (a != (off >= room ? 0 : FTCP_MIN(n, room - off)))
				bad++;
			if (a) {
				stream(buf, wpos, off);
				b = ftcp_queue_write_at(&q, 0, buf, off);
				if (b != off)
					bad++;
				if (ftcp_queue_produce(&q, off + a) != off + a)
					bad++;
				wpos += off + a;
			}
		} else if (r < 65) {
			got = ftcp_queue_read(&q, buf, n);
			if (got != FTCP_MIN(n, used) || !is_stream(buf, rpos, got))
				bad++;
			rpos += got;
		} else if (r < 75) {
			got = ftcp_queue_read(&q, NULL, n);
			if (got != FTCP_MIN(n, used))
				bad++;
			rpos += got;
		} else if (r < 88) {
			uint32_t off = used ? rnd() % (used + 4) : 0;
			got = ftcp_queue_peek(&q, off, buf, n);
			if (got != (off >= used ? 0 : FTCP_MIN(n, used - off)) ||
			    !is_stream(buf, rpos + off, got))
				bad++;
		} else {
			/* walk everything with peek_ref */
			uint32_t off = 0;
			const uint8_t *p;
			while ((got = ftcp_queue_peek_ref(&q, off, &p)) != 0) {
				if (p < qmem || p + got > qmem + SIZE || !is_stream(p, rpos + off, got))
					bad++;
				off += got;
				if (off > used) {
					bad++;
					break;
				}
			}
			if (off != used)
				bad++;
		}
		if (ftcp_queue_used(&q) != wpos - rpos || ftcp_queue_free(&q) != SIZE - (wpos - rpos))
			bad++;
		if (bad)
			fprintf(stderr, "\n  queue model diverged at op %u\n", op);
	}
	ASSERT_EQ_U64(bad, 0);
	CU_ASSERT(wpos > 100 * SIZE); /* lots of traffic went through */
}

void register_queue_tests(void)
{
	FTCP_SUITE("queue",
	           FTCP_CASE(test_queue_init_rejects_non_power_of_two_size),
	           FTCP_CASE(test_queue_write_and_read_across_wrap),
	           FTCP_CASE(test_queue_write_clips_to_free_space),
	           FTCP_CASE(test_queue_read_with_null_advances_without_copying),
	           FTCP_CASE(test_queue_peek_at_offsets_does_not_consume),
	           FTCP_CASE(test_queue_peek_ref_stops_at_the_wrap),
	           FTCP_CASE(test_queue_write_at_then_produce_fills_gap_in_order),
	           FTCP_CASE(test_queue_write_at_past_free_space_is_clipped),
	           FTCP_CASE(test_queue_free_plus_used_is_size),
	           FTCP_CASE(test_queue_works_across_32_bit_counter_wrap),
	           FTCP_CASE(test_queue_randomized_against_reference_model));
}
