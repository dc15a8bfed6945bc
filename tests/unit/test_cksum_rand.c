/*
 * test_cksum_rand.c — the Internet checksum (base/ftcp_cksum.h) and the
 * PRNG and mixing hash (base/ftcp_rand.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_test.h"
#include "base/ftcp_cksum.h"
#include "base/ftcp_rand.h"

void register_cksum_rand_tests(void);

/* The textbook RFC 1071 loop: 16-bit words, odd byte padded, end carries. */
static uint16_t ref_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static void test_cksum_rfc1071_example(void)
{
	/* RFC 1071 section 3: the sum of these bytes is ddf2 (folded). */
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0, b, sizeof(b))), 0xddf2);
	ASSERT_EQ_U64(ftcp_cksum_finish(ftcp_cksum_add(0, b, sizeof(b))), 0x220d);
	/* in pieces of 2, 4 and 2 bytes */
	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(ftcp_cksum_add(ftcp_cksum_add(0, b, 2), b + 2, 4),
	                                             b + 6, 2)),
	              0xddf2);
}

static void test_cksum_of_nothing_is_zero_and_initial_sum_carries(void)
{
	static const uint8_t ff[2] = {0xff, 0xff};
	static const uint8_t one[2] = {0x00, 0x01};

	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0, ff, 0)), 0);
	ASSERT_EQ_U64(ftcp_cksum_finish(0), 0xffff);
	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0x1234, ff, 0)), 0x1234);
	/* 0xffff + 0x0001 wraps around to 0x0001 */
	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0xffff, one, 2)), 0x0001);
	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0xffff, ff, 2)), 0xffff);
	ASSERT_EQ_U64(ftcp_cksum_fold(0x0001ffffu), 0x0001);
	ASSERT_EQ_U64(ftcp_cksum_fold(0xffffffffu), 0xffff);
	ASSERT_EQ_U64(ftcp_cksum_fold(0xfffe0001u), 0xffff);
}

static void test_cksum_odd_lengths_pad_the_last_byte_with_zero(void)
{
	static const uint8_t b[] = {0x12, 0x34, 0x56};
	uint8_t buf[300];
	size_t len, off;

	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0, b, 3)), 0x6834);
	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0, b, 1)), 0x1200);
	rng_state = 1;
	for (len = 0; len < sizeof(buf); len++)
		buf[len] = (uint8_t)rnd();
	/* every length at every alignment agrees with the textbook loop */
	for (off = 0; off < 4; off++) {
		for (len = 0; len + off <= sizeof(buf); len++) {
			uint16_t got = ftcp_cksum_fold(ftcp_cksum_add(0, buf + off, len));
			if (got != ref_sum(buf + off, len)) {
				ASSERT_EQ_U64(got, ref_sum(buf + off, len));
				return;
			}
		}
	}
	CU_PASS("all lengths agree");
}

static void test_cksum_carries_over_a_long_buffer(void)
{
	size_t len = 200000;
	uint8_t *buf = malloc(len);

	CU_ASSERT_FATAL(buf != NULL);
	memset(buf, 0xff, len);
	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0, buf, len)), 0xffff);
	memset(buf, 0xfe, len);
	buf[len - 1] = 0x01;
	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0, buf, len)), ref_sum(buf, len));
	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0, buf, len - 1)), ref_sum(buf, len - 1));
	free(buf);
}

static void test_cksum_even_pieces_give_the_same_sum_as_whole(void)
{
	uint8_t buf[1001];
	size_t i;
	int trial;

	rng_state = 2;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd();
	for (trial = 0; trial < 200; trial++) {
		size_t len = 1 + rnd() % sizeof(buf), pos = 0;
		uint32_t sum = 0;
		while (pos < len) {
			size_t piece = 2 * (rnd() % 40);
			if (pos + piece >= len || piece == 0)
				piece = len - pos; /* the last piece may be odd */
			sum = ftcp_cksum_add(sum, buf + pos, piece);
			pos += piece;
		}
		if (ftcp_cksum_fold(sum) != ftcp_cksum_fold(ftcp_cksum_add(0, buf, len))) {
			ASSERT_EQ_U64(ftcp_cksum_fold(sum), ftcp_cksum_fold(ftcp_cksum_add(0, buf, len)));
			return;
		}
	}
	CU_PASS("pieces agree");
}

static void test_cksum_pseudo_header_matches_hand_computation(void)
{
	/* 192.168.0.1 -> 192.168.0.199, UDP, 95 bytes:
	 * c0a8 + 0001 + c0a8 + 00c7 + 0011 + 005f = 0x18288 -> 0x8289 */
	ASSERT_EQ_U64(ftcp_cksum_pseudo(IP4(192, 168, 0, 1), IP4(192, 168, 0, 199), 17, 95), 0x8289);
	/* the same as summing the 12-byte pseudo-header itself */
	{
		static const uint8_t ph[12] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0x05, 0xdc};
		ASSERT_EQ_U64(ftcp_cksum_pseudo(IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 6, 1500),
		              ref_sum(ph, sizeof(ph)));
	}
	/* all-ones fields carry correctly */
	{
		static const uint8_t ph[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		                               0, 0xff, 0xff, 0xff};
		ASSERT_EQ_U64(ftcp_cksum_pseudo(0xffffffffu, 0xffffffffu, 255, 0xffff),
		              ref_sum(ph, sizeof(ph)));
	}
}

static void test_cksum_real_ipv4_header_verifies(void)
{
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	/* a correct header sums to all ones */
	ASSERT_EQ_U64(ftcp_cksum_fold(ftcp_cksum_add(0, h, 20)), 0xffff);
	/* with the field zeroed, the computed checksum is the one it carried */
	h[10] = h[11] = 0;
	ASSERT_EQ_U64(ftcp_cksum_finish(ftcp_cksum_add(0, h, 20)), 0xb861);
	/* a single flipped bit is detected */
	h[10] = 0xb8;
	h[11] = 0x61;
	h[8] ^= 0x01;
	CU_ASSERT(ftcp_cksum_fold(ftcp_cksum_add(0, h, 20)) != 0xffff);
}

/* ---- PRNG ---- */

static void test_rand_matches_xoshiro128starstar_reference(void)
{
	/* The reference implementation's output for state {1, 2, 3, 4}. */
	static const uint32_t expect[6] = {11520, 0, 5927040, 70819200, 2031721883, 1637235492};
	struct ftcp_rand r = {{1, 2, 3, 4}};
	int i;

	for (i = 0; i < 6; i++)
		ASSERT_EQ_U64(ftcp_rand_u32(&r), expect[i]);
}

static void test_rand_seed_zero_works(void)
{
	struct ftcp_rand r;
	uint32_t first, v;
	int i, same = 0;

	ftcp_rand_seed(&r, 0);
	/* seeded through splitmix64: 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4 */
	ASSERT_EQ_U64(r.s[0], 0x7b1dcdafu);
	ASSERT_EQ_U64(r.s[1], 0xe220a839u);
	ASSERT_EQ_U64(r.s[2], 0xa1b965f4u);
	ASSERT_EQ_U64(r.s[3], 0x6e789e6au);
	first = ftcp_rand_u32(&r);
	for (i = 0; i < 1000; i++) {
		v = ftcp_rand_u32(&r);
		same += v == first;
	}
	CU_ASSERT(same < 2);
}

static void test_rand_same_seed_gives_same_sequence(void)
{
	struct ftcp_rand a, b;
	int i, diff = 0;

	ftcp_rand_seed(&a, 0x1234567890abcdefull);
	ftcp_rand_seed(&b, 0x1234567890abcdefull);
	for (i = 0; i < 10000; i++)
		diff += ftcp_rand_u32(&a) != ftcp_rand_u32(&b);
	ASSERT_EQ_I64(diff, 0);
}

static void test_rand_different_seeds_give_different_sequences(void)
{
	static const uint64_t seeds[] = {0, 1, 2, 0x100000000ull, 0xffffffffffffffffull};
	size_t i, j;

	for (i = 0; i < FTCP_ARRAY_SIZE(seeds); i++) {
		for (j = i + 1; j < FTCP_ARRAY_SIZE(seeds); j++) {
			struct ftcp_rand a, b;
			int k, same = 0;
			ftcp_rand_seed(&a, seeds[i]);
			ftcp_rand_seed(&b, seeds[j]);
			for (k = 0; k < 1000; k++)
				same += ftcp_rand_u32(&a) == ftcp_rand_u32(&b);
			CU_ASSERT(same < 3);
		}
	}
}

static void test_rand_below_stays_in_bound(void)
{
	static const uint32_t bounds[] = {1, 2, 3, 7, 10, 1000, 16385, 0x80000001u, 0xffffffffu};
	struct ftcp_rand r;
	size_t i;
	int k;

	ftcp_rand_seed(&r, 99);
	for (i = 0; i < FTCP_ARRAY_SIZE(bounds); i++) {
		uint32_t max = 0, bad = 0;
		for (k = 0; k < 20000; k++) {
			uint32_t v = ftcp_rand_below(&r, bounds[i]);
			bad += v >= bounds[i];
			max = v > max ? v : max;
		}
		ASSERT_EQ_U64(bad, 0);
		if (bounds[i] == 1)
			ASSERT_EQ_U64(max, 0);
		else if (bounds[i] <= 1000)
			ASSERT_EQ_U64(max, bounds[i] - 1); /* the top is reached */
		else
			CU_ASSERT(max > bounds[i] / 2);
	}
}

static void test_rand_below_is_roughly_uniform(void)
{
	enum { K = 16, N = 160000 };
	static const uint32_t bounds[] = {K, 10, 3};
	struct ftcp_rand r;
	size_t b;

	ftcp_rand_seed(&r, 2024);
	for (b = 0; b < FTCP_ARRAY_SIZE(bounds); b++) {
		uint32_t hist[K] = {0}, k = bounds[b], i;
		double expect = (double)N / k, chi2 = 0;
		for (i = 0; i < N; i++)
			hist[ftcp_rand_below(&r, k)]++;
		for (i = 0; i < k; i++)
			chi2 += (hist[i] - expect) * (hist[i] - expect) / expect;
		/* k-1 <= 15 degrees of freedom: 50 is far beyond p = 1e-5 */
		if (chi2 >= 50)
			fprintf(stderr, "\n  chi2 = %f for bound %u\n", chi2, k);
		CU_ASSERT(chi2 < 50);
	}
}

static void test_rand_bits_are_balanced(void)
{
	struct ftcp_rand r;
	uint32_t ones[32] = {0};
	int i, b;

	ftcp_rand_seed(&r, 7);
	for (i = 0; i < 20000; i++) {
		uint32_t v = ftcp_rand_u32(&r);
		for (b = 0; b < 32; b++)
			ones[b] += (v >> b) & 1;
	}
	for (b = 0; b < 32; b++)
		CU_ASSERT(ones[b] > 9000 && ones[b] < 11000);
}

static void test_mix64_avalanches(void)
{
	uint64_t x = 0x0123456789abcdefull;
	int bit, total = 0, min = 64, max = 0;

	ASSERT_EQ_U64(ftcp_mix64(0), 0);
	for (bit = 0; bit < 64; bit++) {
		int d = __builtin_popcountll(ftcp_mix64(x) ^ ftcp_mix64(x ^ (1ull << bit)));
		total += d;
		min = d < min ? d : min;
		max = d > max ? d : max;
	}
	/* a flipped input bit flips about half the output bits */
	CU_ASSERT(total / 64 >= 26 && total / 64 <= 38);
	CU_ASSERT(min >= 12);
	CU_ASSERT(max <= 52);
}

static void test_hash3_depends_on_key_and_inputs(void)
{
	uint32_t h = ftcp_hash3(1, 2, 3);

	ASSERT_EQ_U64(ftcp_hash3(1, 2, 3), h); /* deterministic */
	CU_ASSERT(ftcp_hash3(2, 2, 3) != h);
	CU_ASSERT(ftcp_hash3(1, 3, 3) != h);
	CU_ASSERT(ftcp_hash3(1, 2, 4) != h);
	CU_ASSERT(ftcp_hash3(1, 3, 2) != ftcp_hash3(1, 2, 3));
}

void register_cksum_rand_tests(void)
{
	FTCP_SUITE("cksum_rand",
	           FTCP_CASE(test_cksum_rfc1071_example),
	           FTCP_CASE(test_cksum_of_nothing_is_zero_and_initial_sum_carries),
	           FTCP_CASE(test_cksum_odd_lengths_pad_the_last_byte_with_zero),
	           FTCP_CASE(test_cksum_carries_over_a_long_buffer),
	           FTCP_CASE(test_cksum_even_pieces_give_the_same_sum_as_whole),
	           FTCP_CASE(test_cksum_pseudo_header_matches_hand_computation),
	           FTCP_CASE(test_cksum_real_ipv4_header_verifies),
	           FTCP_CASE(test_rand_matches_xoshiro128starstar_reference),
	           FTCP_CASE(test_rand_seed_zero_works),
	           FTCP_CASE(test_rand_same_seed_gives_same_sequence),
	           FTCP_CASE(test_rand_different_seeds_give_different_sequences),
	           FTCP_CASE(test_rand_below_stays_in_bound),
	           FTCP_CASE(test_rand_below_is_roughly_uniform),
	           FTCP_CASE(test_rand_bits_are_balanced),
	           FTCP_CASE(test_mix64_avalanches),
	           FTCP_CASE(test_hash3_depends_on_key_and_inputs));
}
