/*
 * test_tcp_sack.c — the sender's SACK scoreboard (tcp/ftcp_tcp_sack.h):
 * merging, the bound, untrusted blocks, RFC 6675 IsLost / SetPipe /
 * NextSeg on hand-computed examples, all of it again across sequence
 * wrap-around, and a randomized comparison with a per-byte model.
 *
 * Hand examples are written as offsets from a base; every case runs at
 * each base of BASES, which put snd_una just below 2^32 (so the window
 * crosses 0) and just below 2^31 (where signed and unsigned order differ).
 */
#include <string.h>

#include "ftcp_test.h"
#include "tcp/ftcp_tcp.h"
#include "tcp/ftcp_tcp_sack.h"

void register_tcp_sack_tests(void);

static const uint32_t BASES[] = {0, 0xffffff00u - 1000, 0xfffffa00u, 0x7ffffc00u};
#define FOR_EACH_BASE(b) \
	for (size_t bi_ = 0; bi_ < FTCP_ARRAY_SIZE(BASES) && ((b) = BASES[bi_], 1); bi_++)

/* Sorted, disjoint, non-adjacent, non-empty ranges and an exact byte count. */
static int sb_valid(const struct ftcp_sack_sb *sb)
{
	uint32_t i, total = 0;

	if (sb->n > FTCP_SACK_SB_MAX)
		return 0;
	for (i = 0; i < sb->n; i++) {
		if (!ftcp_seq_lt(sb->r[i].start, sb->r[i].end))
			return 0;
		if (i + 1 < sb->n && !ftcp_seq_lt(sb->r[i].end, sb->r[i + 1].start))
			return 0;
		total += sb->r[i].end - sb->r[i].start;
	}
	return total == sb->sacked_bytes;
}

/* One ACK carrying one block, offsets from base. */
static uint32_t add1(struct ftcp_sack_sb *sb, uint32_t base, uint32_t una, uint32_t max,
                     uint32_t s, uint32_t e)
{
	struct ftcp_tcp_sack_block blk = {base + s, base + e};
	uint32_t r = ftcp_sack_sb_update(sb, base + una, base + max, &blk, 1);
	CU_ASSERT(sb_valid(sb));
	return r;
}

/* The ranges equal pairs[] (offsets from base). */
static void expect_ranges(const struct ftcp_sack_sb *sb, uint32_t base, const uint32_t *pairs,
                          uint32_t n)
{
	uint32_t i;

	ASSERT_EQ_U64(sb->n, n);
	if (sb->n != n)
		return;
	for (i = 0; i < n; i++) {
		ASSERT_EQ_U64(sb->r[i].start - base, pairs[2 * i]);
		ASSERT_EQ_U64(sb->r[i].end - base, pairs[2 * i + 1]);
	}
	CU_ASSERT(sb_valid(sb));
}

/* The RFC 6675-style layout most cases use: window [1000, 2000), mss 100,
 * holes at 1000-1199, 1300-1499, 1600-1799, 1900-1999. */
static void three_ranges(struct ftcp_sack_sb *sb, uint32_t base)
{
	struct ftcp_tcp_sack_block b[3] = {
	        {base + 1800, base + 1900}, {base + 1500, base + 1600}, {base + 1200, base + 1300}};

	ftcp_sack_sb_reset(sb);
	ASSERT_EQ_U64(ftcp_sack_sb_update(sb, base + 1000, base + 2000, b, 3), 300);
}

/* ---- merging ---- */

static void test_sack_empty_scoreboard(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base, seq = 7, len = 7;

	FOR_EACH_BASE(base) {
		memset(&sb, 0xa5, sizeof(sb));
		ftcp_sack_sb_reset(&sb);
		ASSERT_EQ_U64(sb.n, 0);
		ASSERT_EQ_U64(sb.sacked_bytes, 0);
		ASSERT_EQ_U64(ftcp_sack_sb_high(&sb, base + 1000), base + 1000);
		CU_ASSERT(!ftcp_sack_sb_is_sacked(&sb, base + 1000));
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1000, 100));
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 1000, 100), 1000);
		CU_ASSERT(!ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1000, 100, true,
		                                 &seq, &len));
		ASSERT_EQ_U64(ftcp_sack_sb_update(&sb, base + 1000, base + 2000, NULL, 0), 0);
		ftcp_sack_sb_ack(&sb, base + 1500);
		ASSERT_EQ_U64(sb.n, 0);
	}
}

static void test_sack_overlapping_blocks_merge(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		static const uint32_t one[] = {1100, 1250};
		static const uint32_t wide[] = {1050, 1300};

		ftcp_sack_sb_reset(&sb);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1100, 1200), 100);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1150, 1250), 50); /* overlaps above */
		expect_ranges(&sb, base, one, 1);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1050, 1150), 50); /* overlaps below */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1200, 1300), 50);
		expect_ranges(&sb, base, wide, 1);
		ASSERT_EQ_U64(sb.sacked_bytes, 250);
	}
}

static void test_sack_adjacent_blocks_merge(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		static const uint32_t two[] = {1100, 1300, 1400, 1500};
		static const uint32_t one[] = {1000, 1500};

		ftcp_sack_sb_reset(&sb);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1100, 1200), 100);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1200, 1300), 100); /* touches the end */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1400, 1500), 100);
		expect_ranges(&sb, base, two, 2);
		/* exactly fills the gap: both neighbours and the block become one */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1300, 1400), 100);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1000, 1100), 100); /* touches the start */
		expect_ranges(&sb, base, one, 1);
		ASSERT_EQ_U64(sb.sacked_bytes, 500);
	}
}

static void test_sack_contained_and_containing_blocks(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		static const uint32_t three[] = {1100, 1200, 1300, 1400, 1500, 1600};
		static const uint32_t swallowed[] = {1050, 1450, 1500, 1600};

		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 2000, 1100, 1200);
		add1(&sb, base, 1000, 2000, 1300, 1400);
		add1(&sb, base, 1000, 2000, 1500, 1600);
		/* inside a range, or equal to one: nothing new */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1120, 1180), 0);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1300, 1400), 0);
		expect_ranges(&sb, base, three, 3);
		/* one block covering two ranges and the gap between them */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1050, 1450), 200);
		expect_ranges(&sb, base, swallowed, 2);
		ASSERT_EQ_U64(sb.sacked_bytes, 500);
	}
}

static void test_sack_out_of_order_blocks_sort(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		static const uint32_t sorted[] = {1010, 1020, 1100, 1200, 1300, 1310,
		                                  1500, 1600, 1900, 2000};
		/* RFC 2018 sec. 4: the most recent block first, then older ones */
		struct ftcp_tcp_sack_block b[4] = {{base + 1300, base + 1310},
		                                   {base + 1900, base + 2000},
		                                   {base + 1100, base + 1200},
		                                   {base + 1010, base + 1020}};

		ftcp_sack_sb_reset(&sb);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1500, 1600), 100);
		ASSERT_EQ_U64(ftcp_sack_sb_update(&sb, base + 1000, base + 2000, b, 4), 220);
		expect_ranges(&sb, base, sorted, 5);
		/* the same ACK again (receivers repeat blocks) brings nothing */
		ASSERT_EQ_U64(ftcp_sack_sb_update(&sb, base + 1000, base + 2000, b, 4), 0);
		expect_ranges(&sb, base, sorted, 5);
	}
}

/* 16 ranges of 10 bytes at 1000 + 100*i + 50. */
static void fill_sixteen(struct ftcp_sack_sb *sb, uint32_t base)
{
	uint32_t i;

	ftcp_sack_sb_reset(sb);
	for (i = 0; i < FTCP_SACK_SB_MAX; i++)
		ASSERT_EQ_U64(add1(sb, base, 1000, 4000, 1050 + 100 * i, 1060 + 100 * i), 10);
	ASSERT_EQ_U64(sb->n, FTCP_SACK_SB_MAX);
	ASSERT_EQ_U64(sb->sacked_bytes, 160);
}

static void test_sack_bound_forgets_highest_range(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		/* a 17th range above all others is itself the highest: forgotten */
		fill_sixteen(&sb, base);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 4000, 3000, 3100), 0);
		ASSERT_EQ_U64(sb.n, FTCP_SACK_SB_MAX);
		ASSERT_EQ_U64(sb.sacked_bytes, 160);
		CU_ASSERT(!ftcp_sack_sb_is_sacked(&sb, base + 3000));
		ASSERT_EQ_U64(ftcp_sack_sb_high(&sb, base + 1000), base + 2560);

		/* a 17th range lower down: the old highest (2550-2560) goes */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 4000, 1000, 1030), 30);
		ASSERT_EQ_U64(sb.n, FTCP_SACK_SB_MAX);
		ASSERT_EQ_U64(sb.sacked_bytes, 160 - 10 + 30);
		ASSERT_EQ_U64(sb.r[0].start, base + 1000);
		ASSERT_EQ_U64(sb.r[15].start, base + 2450);
		CU_ASSERT(!ftcp_sack_sb_is_sacked(&sb, base + 2555));
		ASSERT_EQ_U64(ftcp_sack_sb_high(&sb, base + 1000), base + 2460);

		/* a block that merges needs no new slot: nothing is dropped */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 4000, 1055, 1080), 20);
		ASSERT_EQ_U64(sb.n, FTCP_SACK_SB_MAX);
		ASSERT_EQ_U64(ftcp_sack_sb_high(&sb, base + 1000), base + 2460);
		/* merging two ranges frees a slot for the next new one */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 4000, 1150, 1250), 90);
		ASSERT_EQ_U64(sb.n, FTCP_SACK_SB_MAX - 1);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 4000, 3000, 3100), 100);
		ASSERT_EQ_U64(sb.n, FTCP_SACK_SB_MAX);
		ASSERT_EQ_U64(ftcp_sack_sb_high(&sb, base + 1000), base + 3100);
	}
}

static void test_sack_invalid_and_dsack_blocks_are_ignored(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		static const uint32_t one[] = {1500, 1600};
		static const uint32_t edges[] = {1000, 1010, 1500, 1600, 1990, 2000};

		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 2000, 1500, 1600);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1700, 1700), 0);  /* empty */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1800, 1700), 0);  /* reversed */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 800, 900), 0);    /* D-SACK below una */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 900, 1100), 0);   /* straddles una */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1900, 2001), 0);  /* past snd_max */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 2000, 2100), 0);  /* all beyond */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1000, 1u << 31), 0); /* absurd */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 0x90000000u, 0x90000100u), 0);
		/* D-SACK inside the window for data already SACKed (RFC 2883 sec.
		 * 4.1.2): harmless, nothing new */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1520, 1530), 0);
		expect_ranges(&sb, base, one, 1);
		/* blocks at the very edges of [snd_una, snd_max] are fine */
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1000, 1010), 10);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 2000, 1990, 2000), 10);
		expect_ranges(&sb, base, edges, 3);
		/* nothing is valid in an empty window */
		ftcp_sack_sb_reset(&sb);
		ASSERT_EQ_U64(add1(&sb, base, 1000, 1000, 1000, 1001), 0);
		ASSERT_EQ_U64(sb.n, 0);
	}
}

static void test_sack_dsack_first_block_does_not_hide_the_rest(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		static const uint32_t two[] = {1200, 1300, 1400, 1500};
		/* RFC 2883: the first block reports a duplicate below the ACK */
		struct ftcp_tcp_sack_block b[3] = {{base + 900, base + 1000},
		                                   {base + 1400, base + 1500},
		                                   {base + 1200, base + 1300}};

		ftcp_sack_sb_reset(&sb);
		ASSERT_EQ_U64(ftcp_sack_sb_update(&sb, base + 1000, base + 2000, b, 3), 200);
		expect_ranges(&sb, base, two, 2);
	}
}

/* ---- cumulative ACK ---- */

static void test_sack_ack_trims_and_drops_ranges(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		static const uint32_t mid[] = {1350, 1400, 1500, 1600};
		static const uint32_t last[] = {1500, 1600};
		static const uint32_t cut[] = {1550, 1600};

		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 2000, 1100, 1200);
		add1(&sb, base, 1000, 2000, 1300, 1400);
		add1(&sb, base, 1000, 2000, 1500, 1600);
		/* snd_una in the middle of the second range */
		ftcp_sack_sb_ack(&sb, base + 1350);
		expect_ranges(&sb, base, mid, 2);
		ASSERT_EQ_U64(sb.sacked_bytes, 150);
		CU_ASSERT(!ftcp_sack_sb_is_sacked(&sb, base + 1349));
		/* an old snd_una changes nothing */
		ftcp_sack_sb_ack(&sb, base + 1000);
		expect_ranges(&sb, base, mid, 2);
		/* exactly at a range's end: the range goes */
		ftcp_sack_sb_ack(&sb, base + 1400);
		expect_ranges(&sb, base, last, 1);
		ASSERT_EQ_U64(sb.sacked_bytes, 100);
		/* exactly at a range's start: nothing to trim */
		ftcp_sack_sb_ack(&sb, base + 1500);
		expect_ranges(&sb, base, last, 1);
		/* update with an advanced snd_una trims too */
		ASSERT_EQ_U64(ftcp_sack_sb_update(&sb, base + 1550, base + 2000, NULL, 0), 0);
		expect_ranges(&sb, base, cut, 1);
		ASSERT_EQ_U64(sb.sacked_bytes, 50);
		/* past everything */
		ftcp_sack_sb_ack(&sb, base + 1700);
		ASSERT_EQ_U64(sb.n, 0);
		ASSERT_EQ_U64(sb.sacked_bytes, 0);
		ASSERT_EQ_U64(ftcp_sack_sb_high(&sb, base + 1700), base + 1700);
	}
}

static void test_sack_is_sacked_and_high_at_range_edges(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		three_ranges(&sb, base);
		CU_ASSERT(!ftcp_sack_sb_is_sacked(&sb, base + 1199));
		CU_ASSERT(ftcp_sack_sb_is_sacked(&sb, base + 1200));
		CU_ASSERT(ftcp_sack_sb_is_sacked(&sb, base + 1299));
		CU_ASSERT(!ftcp_sack_sb_is_sacked(&sb, base + 1300));
		CU_ASSERT(ftcp_sack_sb_is_sacked(&sb, base + 1899));
		CU_ASSERT(!ftcp_sack_sb_is_sacked(&sb, base + 1900));
		CU_ASSERT(!ftcp_sack_sb_is_sacked(&sb, base + 999));
		ASSERT_EQ_U64(ftcp_sack_sb_high(&sb, base + 1000), base + 1900);
	}
}

/* ---- IsLost ---- */

static void test_sack_is_lost_counts_dupthresh_segments(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		/* two 1-byte SACKed segments above 1000: not yet */
		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 2000, 1100, 1101);
		add1(&sb, base, 1000, 2000, 1200, 1201);
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1000, 100));
		/* the third (DupThresh) makes it lost */
		add1(&sb, base, 1000, 2000, 1300, 1301);
		CU_ASSERT(ftcp_sack_sb_is_lost(&sb, base + 1000, 100));
		CU_ASSERT(ftcp_sack_sb_is_lost(&sb, base + 1099, 100));
		/* only what lies strictly above seq counts */
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1100, 100));
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1300, 100));
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1500, 100));

		/* one range holding mss+1 bytes counts as 2 segments: with one
		 * more 1-byte range that is 3, though only mss+2 bytes */
		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 2000, 1100, 1201);
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1000, 100));
		add1(&sb, base, 1000, 2000, 1500, 1501);
		CU_ASSERT(ftcp_sack_sb_is_lost(&sb, base + 1000, 100));
		/* seq inside a range: only the part above seq counts. Above
		 * 1100 lie 1101-1200 (1 segment) and 1500: 2, not lost. */
		CU_ASSERT(ftcp_sack_sb_is_lost(&sb, base + 1099, 100));
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1100, 100));
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1199, 100));
	}
}

static void test_sack_is_lost_counts_bytes(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		/* exactly (DupThresh - 1) * mss bytes in one range: not lost */
		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 2000, 1100, 1300);
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1000, 100));
		/* one more byte is "more than": lost */
		add1(&sb, base, 1000, 2000, 1300, 1301);
		ASSERT_EQ_U64(sb.n, 1);
		CU_ASSERT(ftcp_sack_sb_is_lost(&sb, base + 1000, 100));
		CU_ASSERT(ftcp_sack_sb_is_lost(&sb, base + 1099, 100));
		/* bytes above seq 1100 are 1101..1300: exactly 2 * mss again */
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1100, 100));
		/* a bigger mss raises the bar */
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1000, 1000));
		/* mss 0 is taken as 1 (no division by zero) */
		CU_ASSERT(ftcp_sack_sb_is_lost(&sb, base + 1000, 0));

		/* two ranges of exactly mss: 2 segments, 2 * mss bytes: not */
		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 2000, 1100, 1200);
		add1(&sb, base, 1000, 2000, 1300, 1400);
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1000, 100));
		add1(&sb, base, 1000, 2000, 1400, 1401);
		CU_ASSERT(ftcp_sack_sb_is_lost(&sb, base + 1000, 100));
	}
}

/* ---- SetPipe ---- */

static void test_sack_pipe_without_sack_counts_retransmissions_twice(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		ftcp_sack_sb_reset(&sb);
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 1000, 100), 1000);
		/* high_rxt left behind snd_una counts nothing */
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 500, 100), 1000);
		/* retransmitted, not lost (e.g. after an RTO): both copies fly */
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 1100, 100), 1100);
		/* high_rxt past snd_max is clamped */
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 2500, 100), 2000);
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 1000, base + 1000, 100), 0);
	}
}

static void test_sack_pipe_skips_sacked_and_lost(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		/* SACKed 1200-1299, 1500-1599, 1800-1899, mss 100. IsLost(1000)
		 * and IsLost(1100): 3 SACKed segments above. IsLost(1200): 99
		 * bytes of its own range + 2 segments = 3. IsLost(1300): 2
		 * segments, 200 bytes: no. So [1000, 1300) is lost, and pipe is
		 * the unSACKed rest: 1300-1499, 1600-1799, 1900-1999 = 500. */
		three_ranges(&sb, base);
		CU_ASSERT(ftcp_sack_sb_is_lost(&sb, base + 1200, 100));
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1300, 100));
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 1000, 100), 500);
		/* the first lost segment retransmitted: +100 */
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 1100, 100), 600);
		/* both lost holes' bytes (1000-1199) retransmitted: +200 */
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 1300, 100), 700);
		/* rule-3 retransmission of 1300-1399 (not lost): counted twice */
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 1400, 100), 800);
		/* everything retransmitted: 500 + all 700 unSACKed bytes */
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 2000, 100), 1200);
	}
}

static void test_sack_pipe_one_loss_three_sacked_segments(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		/* the classic case: 1000-1099 lost, the next three segments
		 * SACKed in one block, 1400-1999 still in flight */
		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 2000, 1100, 1400);
		CU_ASSERT(ftcp_sack_sb_is_lost(&sb, base + 1000, 100));
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 1000, 100), 600);
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 1100, 100), 700);
		/* only two segments SACKed: not lost, all unSACKed bytes count */
		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 2000, 1100, 1300);
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 2000, base + 1000, 100), 800);
	}
}

static void test_sack_pipe_judges_whole_segments(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base;

	FOR_EACH_BASE(base) {
		/* window [1000, 1250), mss 100: segments 1000, 1100, 1200 (50
		 * bytes). SACKed single bytes 1150, 1170, 1190. IsLost(1100) is
		 * true (3 above), so the whole segment 1100-1199 is lost even
		 * though IsLost(1151) alone would be false; IsLost(1200) is
		 * false. Pipe: 1200-1249 = 50. */
		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 1250, 1150, 1151);
		add1(&sb, base, 1000, 1250, 1170, 1171);
		add1(&sb, base, 1000, 1250, 1190, 1191);
		CU_ASSERT(!ftcp_sack_sb_is_lost(&sb, base + 1151, 100));
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 1250, base + 1000, 100), 50);
		/* 1000-1199 retransmitted: its 197 unSACKed bytes count once */
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 1250, base + 1200, 100), 247);
		/* mss 0 is taken as 1: every byte is its own segment */
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(&sb, base + 1000, base + 1250, base + 1000, 0),
		              100 - 3); /* lost below 1150: IsLost(1150) sees 2 */
	}
}

/* ---- NextSeg ---- */

static void test_sack_next_seg_rule1_takes_lost_holes(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base, seq, len;

	FOR_EACH_BASE(base) {
		three_ranges(&sb, base);
		/* nothing retransmitted yet: the first hole, one mss */
		seq = len = 0;
		CU_ASSERT(ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1000, 100, false,
		                                &seq, &len));
		ASSERT_EQ_U64(seq, base + 1000);
		ASSERT_EQ_U64(len, 100);
		/* a bigger mss: the length stops at the SACKed byte 1200 */
		CU_ASSERT(ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1000, 300, false,
		                                &seq, &len));
		ASSERT_EQ_U64(seq, base + 1000);
		ASSERT_EQ_U64(len, 200);
		/* continues after high_rxt, stopping at 1200 */
		CU_ASSERT(ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1150, 100, false,
		                                &seq, &len));
		ASSERT_EQ_U64(seq, base + 1150);
		ASSERT_EQ_U64(len, 50);
		/* a stale high_rxt below snd_una starts at snd_una */
		CU_ASSERT(ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 900, 100, false,
		                                &seq, &len));
		ASSERT_EQ_U64(seq, base + 1000);
		/* the next hole, 1300, is not lost: rule 1 has nothing */
		CU_ASSERT(!ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1200, 100, false,
		                                 &seq, &len));

		/* four ranges: past high_rxt the hole at 1200 is lost (3 above) */
		ftcp_sack_sb_reset(&sb);
		add1(&sb, base, 1000, 2000, 1100, 1200);
		add1(&sb, base, 1000, 2000, 1300, 1400);
		add1(&sb, base, 1000, 2000, 1500, 1600);
		add1(&sb, base, 1000, 2000, 1700, 1800);
		CU_ASSERT(ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1100, 100, false,
		                                &seq, &len));
		ASSERT_EQ_U64(seq, base + 1200);
		ASSERT_EQ_U64(len, 100);
	}
}

static void test_sack_next_seg_rule3_takes_holes_below_high_sack(void)
{
	struct ftcp_sack_sb sb;
	uint32_t base, seq, len;

	FOR_EACH_BASE(base) {
		three_ranges(&sb, base);
		/* high_rxt inside a SACKed range: the first unSACKed byte is 1300 */
		CU_ASSERT(ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1250, 100, true,
		                                &seq, &len));
		ASSERT_EQ_U64(seq, base + 1300);
		ASSERT_EQ_U64(len, 100);
		CU_ASSERT(ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1300, 300, true,
		                                &seq, &len));
		ASSERT_EQ_U64(seq, base + 1300);
		ASSERT_EQ_U64(len, 200); /* stops at 1500 */
		CU_ASSERT(ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1700, 300, true,
		                                &seq, &len));
		ASSERT_EQ_U64(seq, base + 1700);
		ASSERT_EQ_U64(len, 100); /* stops at 1800 */
		/* nothing SACKed above the last hole: neither rule applies */
		CU_ASSERT(!ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1850, 100, true,
		                                 &seq, &len));
		CU_ASSERT(!ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1900, 100, true,
		                                 &seq, &len));
		CU_ASSERT(!ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 2000, 100, true,
		                                 &seq, &len));
		/* a lost hole is returned with or without rule 3 */
		CU_ASSERT(ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1000, 100, true,
		                                &seq, &len));
		ASSERT_EQ_U64(seq, base + 1000);
		/* SACKed up to snd_max: the hole below is still a candidate */
		add1(&sb, base, 1000, 2000, 1900, 2000);
		CU_ASSERT(!ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1850, 100, true,
		                                 &seq, &len));
		CU_ASSERT(ftcp_sack_sb_next_seg(&sb, base + 1000, base + 2000, base + 1750, 100, true,
		                                &seq, &len));
		ASSERT_EQ_U64(seq, base + 1750);
		ASSERT_EQ_U64(len, 50);
	}
}

/* ---- randomized comparison with a per-byte model ---- */

#define MODEL_SPACE 6000u
#define MODEL_WIN 2500u

struct model {
	uint32_t base;            /* sequence number of offset 0 */
	uint32_t una, max;        /* offsets */
	uint8_t bit[MODEL_SPACE]; /* SACKed bytes, by offset */
	/* maximal runs of SACKed bytes, rebuilt by model_runs() */
	uint32_t n_runs, rs[MODEL_SPACE / 2 + 1], re[MODEL_SPACE / 2 + 1];
};

static uint32_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift32: deterministic on every platform */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static void model_runs(struct model *m)
{
	uint32_t o;

	m->n_runs = 0;
	for (o = 0; o < MODEL_SPACE; o++) {
		if (!m->bit[o])
			continue;
		if (o == 0 || !m->bit[o - 1])
			m->rs[m->n_runs] = o;
		if (o + 1 == MODEL_SPACE || !m->bit[o + 1])
			m->re[m->n_runs++] = o + 1;
	}
}

/* Forget SACKed bytes below una. */
static void model_ack(struct model *m, uint32_t una)
{
	uint32_t o;

	m->una = una;
	for (o = 0; o < una; o++)
		m->bit[o] = 0;
	model_runs(m);
}

/* One block, as seq numbers; returns the bytes newly SACKed. */
static uint32_t model_add(struct model *m, uint32_t s, uint32_t e)
{
	uint32_t so = s - m->base, eo = e - m->base, o, added = 0;

	if (!(m->una <= so && so < eo && eo <= m->max))
		return 0;
	for (o = so; o < eo; o++) {
		added += !m->bit[o];
		m->bit[o] = 1;
	}
	model_runs(m);
	if (m->n_runs > FTCP_SACK_SB_MAX) {
		/* forget the highest run; when that is the new block itself
		 * (it then touches nothing), it added nothing */
		uint32_t top = m->n_runs - 1;
		if (m->rs[top] == so)
			added = 0;
		for (o = m->rs[top]; o < m->re[top]; o++)
			m->bit[o] = 0;
		model_runs(m);
	}
	return added;
}

/* RFC 6675 IsLost, literally, over the model's runs (offset x). */
static bool model_is_lost(const struct model *m, uint32_t x, uint32_t mss)
{
	uint32_t i, segs = 0, bytes = 0;

	if (!mss)
		mss = 1;
	for (i = 0; i < m->n_runs; i++) {
		uint32_t from = m->rs[i] > x + 1 ? m->rs[i] : x + 1, n;
		if (m->re[i] <= from)
			continue;
		n = m->re[i] - from;
		segs += (n + mss - 1) / mss;
		bytes += n;
	}
	return segs >= FTCP_DUPTHRESH || bytes > (FTCP_DUPTHRESH - 1) * mss;
}

static uint32_t model_pipe(const struct model *m, uint32_t hr, uint32_t mss)
{
	uint32_t o, pipe = 0, seg_start = m->una;
	bool lost = false;

	if (!mss)
		mss = 1;
	for (o = m->una; o < m->max; o++) {
		if ((o - m->una) % mss == 0) {
			seg_start = o;
			lost = model_is_lost(m, seg_start, mss);
		}
		if (m->bit[o])
			continue;
		pipe += !lost;
		pipe += o < hr;
	}
	return pipe;
}

static uint32_t model_high(const struct model *m)
{
	return m->n_runs ? m->re[m->n_runs - 1] : m->una;
}

static bool model_next_seg(const struct model *m, uint32_t hr, uint32_t mss, bool rule3,
                           uint32_t *seq, uint32_t *len)
{
	uint32_t o = hr > m->una ? hr : m->una, end, high = model_high(m);

	if (!mss)
		mss = 1;
	while (o < high && m->bit[o])
		o++;
	if (o >= high)
		return false;
	if (!rule3 && !model_is_lost(m, o, mss))
		return false;
	for (end = o; end < high && !m->bit[end] && end - o < mss; end++)
		;
	*seq = o;
	*len = end - o;
	return true;
}

static void compare_with_model(const struct ftcp_sack_sb *sb, struct model *m)
{
	uint32_t una = m->base + m->una, max = m->base + m->max;
	uint32_t o, count = 0, i, mss, hr;
	static const uint32_t msses[] = {1, 3, 10, 64, 100, 536, 1460};

	CU_ASSERT_FATAL(sb_valid(sb));
	for (o = m->una; o < m->max; o++)
		count += m->bit[o];
	ASSERT_EQ_U64(sb->sacked_bytes, count);
	ASSERT_EQ_U64(sb->n, m->n_runs);
	for (o = m->una >= 3 ? m->una - 3 : 0; o < m->max + 3 && o < MODEL_SPACE; o++) {
		if (ftcp_sack_sb_is_sacked(sb, m->base + o) != (m->bit[o] != 0)) {
			fprintf(stderr, "\n  is_sacked mismatch at offset %u\n", o);
			CU_FAIL("is_sacked");
			break;
		}
	}
	ASSERT_EQ_U64(ftcp_sack_sb_high(sb, una) - m->base, model_high(m));

	mss = msses[rnd_below(FTCP_ARRAY_SIZE(msses))];
	for (i = 0; i < 8; i++) {
		o = m->una + rnd_below(m->max - m->una + 1);
		CU_ASSERT(ftcp_sack_sb_is_lost(sb, m->base + o, mss) == model_is_lost(m, o, mss));
	}
	for (i = 0; i < 3; i++) {
		uint32_t seq = 0, len = 0, mseq = 1, mlen = 1;
		bool rule3 = rnd() & 1, got, want;

		/* high_rxt: usually inside the window, sometimes behind or past */
		hr = m->una + rnd_below(m->max - m->una + 1);
		if (rnd_below(8) == 0)
			hr = m->una - rnd_below(m->una + 1);
		else if (rnd_below(8) == 0)
			hr = m->max + rnd_below(100);
		ASSERT_EQ_U64(ftcp_sack_sb_pipe(sb, una, max, m->base + hr, mss),
		              model_pipe(m, hr, mss));
		got = ftcp_sack_sb_next_seg(sb, una, max, m->base + hr, mss, rule3, &seq, &len);
		want = model_next_seg(m, hr, mss, rule3, &mseq, &mlen);
		CU_ASSERT(got == want);
		if (got && want) {
			ASSERT_EQ_U64(seq - m->base, mseq);
			ASSERT_EQ_U64(len, mlen);
		}
	}
}

/* A random block around the window: mostly valid, many short (to fill the
 * scoreboard), some reversed, straddling or far away. */
static struct ftcp_tcp_sack_block random_block(const struct model *m)
{
	struct ftcp_tcp_sack_block b;
	uint32_t win = m->max - m->una, so, len;

	switch (rnd_below(10)) {
	case 0: /* anything at all */
		b.start = rnd();
		b.end = rnd_below(2) ? rnd() : b.start + rnd_below(500);
		return b;
	case 1: /* around the window's edges, often invalid */
		so = (rnd_below(2) ? m->una : m->max) + rnd_below(100);
		so = so >= 50 ? so - 50 : 0;
		len = rnd_below(300);
		b.start = m->base + so;
		b.end = rnd_below(4) ? b.start + len : b.start - len;
		return b;
	default:
		so = m->una + rnd_below(win + 1);
		len = rnd_below(4) ? 1 + rnd_below(40) : 1 + rnd_below(400);
		b.start = m->base + so;
		b.end = b.start + FTCP_MIN(len, m->max - so);
		return b;
	}
}

static void random_run(uint32_t base, uint32_t seed)
{
	static struct model m; /* large: off the stack */
	struct ftcp_sack_sb sb;
	uint32_t round, step;

	rng_state = seed;
	for (round = 0; round < 60; round++) {
		memset(&m, 0, sizeof(m));
		m.base = base;
		m.una = 100 + rnd_below(500);
		m.max = m.una + 1 + rnd_below(MODEL_WIN);
		ftcp_sack_sb_reset(&sb);
		for (step = 0; step < 60 && m.una < MODEL_SPACE - 20; step++) {
			uint32_t r = rnd_below(10);

			if (r < 6) {
				/* one ACK with 1..4 blocks, maybe advancing snd_una */
				struct ftcp_tcp_sack_block b[FTCP_TCP_MAX_SACK];
				unsigned n = 1 + rnd_below(FTCP_TCP_MAX_SACK), k;
				uint32_t want = 0;

				if (rnd_below(4) == 0)
					model_ack(&m, m.una + rnd_below((m.max - m.una) / 4 + 1));
				for (k = 0; k < n; k++) {
					b[k] = random_block(&m);
					want += model_add(&m, b[k].start, b[k].end);
				}
				ASSERT_EQ_U64(ftcp_sack_sb_update(&sb, m.base + m.una, m.base + m.max, b,
				                                  n),
				              want);
			} else if (r < 8) {
				/* the cumulative ACK moves, anywhere up to snd_max */
				uint32_t una = m.una + rnd_below(m.max - m.una + 1);
				if (rnd_below(3) == 0 && m.n_runs) /* onto a range edge */
					una = rnd_below(2) ? m.rs[0] : m.re[0];
				model_ack(&m, una);
				ftcp_sack_sb_ack(&sb, m.base + una);
			} else {
				/* new data sent */
				uint32_t room = MODEL_SPACE - 10 - m.max;
				m.max += rnd_below(FTCP_MIN(room, MODEL_WIN) + 1);
				if (m.max - m.una > MODEL_WIN)
					m.max = m.una + MODEL_WIN;
			}
			if (m.max <= m.una)
				m.max = m.una + 1;
			compare_with_model(&sb, &m);
			if (CU_get_number_of_failures() > 20)
				return; /* enough to debug with */
		}
	}
}

static void test_sack_random_against_byte_model(void)
{
	random_run(0x00001000u, 0x12345678u);
	random_run(0xfffff000u, 0x9e3779b9u); /* offset 4096 is sequence 0 */
	random_run(0x7ffff400u, 0xdeadbeefu);
	random_run(0xffffff00u - 100, 0x2545f491u);
}

void register_tcp_sack_tests(void)
{
	FTCP_SUITE("tcp_sack",
	           FTCP_CASE(test_sack_empty_scoreboard),
	           FTCP_CASE(test_sack_overlapping_blocks_merge),
	           FTCP_CASE(test_sack_adjacent_blocks_merge),
	           FTCP_CASE(test_sack_contained_and_containing_blocks),
	           FTCP_CASE(test_sack_out_of_order_blocks_sort),
	           FTCP_CASE(test_sack_bound_forgets_highest_range),
	           FTCP_CASE(test_sack_invalid_and_dsack_blocks_are_ignored),
	           FTCP_CASE(test_sack_dsack_first_block_does_not_hide_the_rest),
	           FTCP_CASE(test_sack_ack_trims_and_drops_ranges),
	           FTCP_CASE(test_sack_is_sacked_and_high_at_range_edges),
	           FTCP_CASE(test_sack_is_lost_counts_dupthresh_segments),
	           FTCP_CASE(test_sack_is_lost_counts_bytes),
	           FTCP_CASE(test_sack_pipe_without_sack_counts_retransmissions_twice),
	           FTCP_CASE(test_sack_pipe_skips_sacked_and_lost),
	           FTCP_CASE(test_sack_pipe_one_loss_three_sacked_segments),
	           FTCP_CASE(test_sack_pipe_judges_whole_segments),
	           FTCP_CASE(test_sack_next_seg_rule1_takes_lost_holes),
	           FTCP_CASE(test_sack_next_seg_rule3_takes_holes_below_high_sack),
	           FTCP_CASE(test_sack_random_against_byte_model));
}
