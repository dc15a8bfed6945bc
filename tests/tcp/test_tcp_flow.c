/*
 * test_tcp_flow.c — scripted data transfer, flow control and timers:
 * segmentation and the MSS, the initial window, the peer's window and
 * window scaling, Nagle, delayed ACKs, the receive window (silly window
 * avoidance, window updates after reads), zero windows and the persist
 * timer, retransmission timeouts (RFC 6298), keepalive, the send and
 * receive queues, tcp_info after a transfer, and TCP segmentation offload
 * (frames of several segments for a device that cuts them).
 *
 * Stream offsets: byte k of either direction's stream is at relative
 * sequence number k + 1; payloads are a fixed pattern of the offset, so
 * every segment's bytes are checked.
 */
#include <string.h>

#include "base/ftcp_cksum.h"
#include "tcp_fixture.h"

#define MSS_TS 1448u   /* 1460 minus the timestamp option */
#define DELACK 40000u  /* tcp_delack_us default */
#define SEC 1000000ull

/* Timestamps and window scaling without SACK: no tail loss probes, so
 * retransmission timings are the plain RFC 6298 ones once an RTT exists. */
static const struct tf_opts OPTS_TS = {1460, true, 7, false, true, 65535};

/* ---- helpers ---- */

static uint8_t pat_byte(uint32_t off)
{
	return (uint8_t)(off * 131u + (off >> 9) + 7u);
}

/* The pattern for stream offsets [off, off + len) (a static buffer). */
static const uint8_t *pattern(uint32_t off, uint32_t len)
{
	static uint8_t buf[1u << 17];
	uint32_t i;

	CU_ASSERT_FATAL(len <= sizeof(buf));
	for (i = 0; i < len; i++)
		buf[i] = pat_byte(off + i);
	return buf;
}

static bool is_pattern(const uint8_t *p, uint32_t off, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat_byte(off + i)) {
			fprintf(stderr, "\n  byte at stream offset %u differs\n", off + i);
			return false;
		}
	return true;
}

/* The application queues [off, off + len) of the pattern; all must fit. */
static void app_send(struct tf *f, uint32_t off, uint32_t len)
{
	ASSERT_EQ_I64(ftcp_send(f->s, f->sock, pattern(off, len), len), len);
}

/* The stack sends a data segment of len bytes at relative rseq, carrying
 * the pattern bytes of that part of the stream. */
static const struct tf_seg *expect_data(struct tf *f, uint8_t flags, uint32_t rseq, uint32_t rack,
                                        uint32_t len, uint64_t max_us)
{
	const struct tf_seg *s = tf_expect(f, flags, rseq, rack, max_us);

	ASSERT_EQ_U64(s->len, len);
	if (s->len == len && len)
		CU_ASSERT(is_pattern(s->data, rseq - 1, len));
	return s;
}

/* The peer sends [rseq - 1, rseq - 1 + len) of its pattern stream. */
static void peer_data(struct tf *f, uint8_t flags, uint32_t rseq, uint32_t rack, uint32_t len)
{
	tf_send(f, flags, rseq, rack, pattern(rseq - 1, len), len);
}

/* A pure ACK from the peer (which has sent no data). */
static void peer_ack(struct tf *f, uint32_t rack)
{
	tf_send(f, TCP_A, 1, rack, NULL, 0);
}

static void expect_at(const struct tf_seg *s, uint64_t at)
{
	ASSERT_EQ_U64(s->at_us, at);
}

/* A zero-window probe: one byte at rseq, no new data beyond it. */
static const struct tf_seg *expect_probe(struct tf *f, uint32_t rseq, uint64_t at)
{
	const struct tf_seg *s = expect_data(f, TCP_A, rseq, 1, 1, at - tf_now(f) + 1);

	expect_at(s, at);
	return s;
}

/* Every test: the peer's ARP entry stays fresh for a day (the scripted
 * peer does not answer ARP), so hours of virtual time see only TCP. */
static void cfg(struct ftcp_config *c)
{
	c->arp_reachable_us = 24 * 3600 * SEC;
}

static void rx8k(struct ftcp_config *c)
{
	cfg(c);
	c->rx_buffer_size = 8192;
}

static void rx1m(struct ftcp_config *c)
{
	cfg(c);
	c->rx_buffer_size = 1u << 20;
	c->rx_buffers = 4;
}

static void tx4k(struct ftcp_config *c)
{
	cfg(c);
	c->tx_buffer_size = 4096;
}

static void delack100(struct ftcp_config *c)
{
	cfg(c);
	c->tcp_delack_us = 100000;
}

static void rto_max5(struct ftcp_config *c)
{
	cfg(c);
	c->tcp_rto_max_us = 5000000;
}

static void retries3(struct ftcp_config *c)
{
	cfg(c);
	c->tcp_retries = 3;
}

/* The peer fills an 8 KiB receive buffer with eight 1 KiB segments in
 * one burst: one ACK, window 0. */
static void fill_8k(struct tf *f)
{
	uint32_t i;
	const struct tf_seg *s;

	for (i = 0; i < 8; i++)
		peer_data(f, TCP_A, 1 + i * 1024, 1, 1024);
	s = tf_expect(f, TCP_A, 1, 8193, 1000);
	ASSERT_EQ_U64(s->win, 0);
	ASSERT_EQ_U64(tf_info(f).recv_queue, 8192);
}

/* ---- segmentation ---- */

static void test_large_send_is_cut_into_mss_segments(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	ASSERT_EQ_U64(tf_info(&f).snd_mss, MSS_TS);
	t0 = tf_now(&f);
	app_send(&f, 0, 3 * MSS_TS + 656);
	s = expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_at(s, t0);
	CU_ASSERT(s->opt.has_ts);
	s = expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 0);
	expect_at(s, t0);
	s = expect_data(&f, TCP_A, 1 + 2 * MSS_TS, 1, MSS_TS, 0);
	expect_at(s, t0);
	/* RFC 1122 4.2.3.4 (Nagle): the short tail waits while data is
	 * unacknowledged. */
	tf_expect_none(&f, 500000);
	peer_ack(&f, 1 + 3 * MSS_TS);
	t0 = tf_now(&f);
	s = expect_data(&f, TCP_A | TCP_P, 1 + 3 * MSS_TS, 1, 656, 1000);
	expect_at(s, t0);
	tf_free(&f);
}

static void test_without_timestamps_segments_carry_the_full_peer_mss(void)
{
	struct tf f;
	const struct tf_seg *s;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_NONE);
	ASSERT_EQ_U64(tf_info(&f).snd_mss, 1460);
	app_send(&f, 0, 2 * 1460);
	s = expect_data(&f, TCP_A, 1, 1, 1460, 1000);
	CU_ASSERT(!s->opt.has_ts && s->opt.n_sack == 0);
	expect_data(&f, TCP_A | TCP_P, 1461, 1, 1460, 0);
	tf_free(&f);
}

static void test_peer_mss_536_is_honoured(void)
{
	static const struct tf_opts o = {536, true, 7, true, true, 65535};
	struct tf f;

	tf_init(&f, cfg);
	tf_passive_open(&f, &o);
	ASSERT_EQ_U64(tf_info(&f).snd_mss, 524); /* 536 - 12 for timestamps */
	app_send(&f, 0, 3 * 524);
	expect_data(&f, TCP_A, 1, 1, 524, 1000);
	expect_data(&f, TCP_A, 525, 1, 524, 0);
	expect_data(&f, TCP_A | TCP_P, 1049, 1, 524, 0);
	tf_free(&f);
}

static void test_peer_mss_536_without_timestamps_gives_536_byte_segments(void)
{
	static const struct tf_opts o = {536, false, 0, false, false, 65535};
	struct tf f;

	tf_init(&f, cfg);
	tf_passive_open(&f, &o);
	app_send(&f, 0, 2 * 536);
	expect_data(&f, TCP_A, 1, 1, 536, 1000);
	expect_data(&f, TCP_A | TCP_P, 537, 1, 536, 0);
	tf_free(&f);
}

/* An MSS option smaller than the timestamp option must not wrap the send
 * MSS around to 64 KiB: it is floored at 64 bytes. */
static void test_tiny_peer_mss_with_timestamps_is_floored(void)
{
	static const struct tf_opts o = {3, true, 7, true, true, 65535};
	struct tf f;

	tf_init(&f, cfg);
	tf_passive_open(&f, &o);
	ASSERT_EQ_U64(tf_info(&f).snd_mss, 64);
	app_send(&f, 0, 100);
	expect_data(&f, TCP_A, 1, 1, 64, 1000);
	tf_free(&f);
}

static void test_missing_mss_option_means_536(void)
{
	static const struct tf_opts o = {0, false, 0, false, false, 65535};
	struct tf f;

	tf_init(&f, cfg);
	tf_passive_open(&f, &o);
	ASSERT_EQ_U64(tf_info(&f).snd_mss, 536); /* RFC 9293 3.7.1 */
	app_send(&f, 0, 1000);
	expect_data(&f, TCP_A, 1, 1, 536, 1000);
	tf_free(&f);
}

static void test_maxseg_caps_the_segment_size(void)
{
	struct tf f;
	int v = 0;

	tf_init(&f, cfg);
	tf_listen(&f);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.lsock, FTCP_SO_MAXSEG, 1000), 0);
	tf_passive_open(&f, &TF_OPTS_ALL);
	ASSERT_EQ_U64(tf_info(&f).snd_mss, 1000);
	CU_ASSERT(ftcp_getsockopt(f.s, f.sock, FTCP_SO_MAXSEG, &v) == 0 && v == 1000);
	/* Not once the connection exists. */
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_MAXSEG, 500), -FTCP_EINVAL);
	app_send(&f, 0, 2500);
	expect_data(&f, TCP_A, 1, 1, 1000, 1000);
	expect_data(&f, TCP_A, 1001, 1, 1000, 0);
	tf_free(&f);
}

static void test_maxseg_above_the_peer_mss_changes_nothing(void)
{
	struct tf f;

	tf_init(&f, cfg);
	tf_listen(&f);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.lsock, FTCP_SO_MAXSEG, 4000), 0);
	tf_passive_open(&f, &TF_OPTS_ALL);
	ASSERT_EQ_U64(tf_info(&f).snd_mss, MSS_TS);
	app_send(&f, 0, 2 * MSS_TS);
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A | TCP_P, 1 + MSS_TS, 1, MSS_TS, 0);
	tf_free(&f);
}

static void test_small_sends_before_output_coalesce_into_one_segment(void)
{
	struct tf f;
	const struct tf_seg *s;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "abc", 3), 3);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "def", 3), 3);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "gh", 2), 2);
	s = tf_expect(&f, TCP_A | TCP_P, 1, 1, 1000);
	CU_ASSERT(s->len == 8 && memcmp(s->data, "abcdefgh", 8) == 0);
	tf_expect_none(&f, 500000);
	tf_free(&f);
}

static void test_initial_window_is_ten_segments_then_acks_clock_out_more(void)
{
	struct tf f;
	uint32_t i;

	tf_init(&f, cfg);
	tf_passive_open(&f, &OPTS_TS);
	ASSERT_EQ_U64(tf_info(&f).snd_cwnd, 10 * MSS_TS); /* RFC 6928 */
	app_send(&f, 0, 20 * MSS_TS);
	for (i = 0; i < 10; i++)
		expect_data(&f, TCP_A, 1 + i * MSS_TS, 1, MSS_TS, 1000);
	tf_expect_none(&f, 500000);
	/* Two segments acknowledged: slow start adds two to cwnd, so four
	 * leave (two for the ACKed ones, two for the growth). */
	peer_ack(&f, 1 + 2 * MSS_TS);
	for (i = 10; i < 14; i++)
		expect_data(&f, TCP_A, 1 + i * MSS_TS, 1, MSS_TS, 1000);
	tf_expect_none(&f, 100000);
	ASSERT_EQ_U64(tf_info(&f).snd_cwnd, 12 * MSS_TS);
	tf_free(&f);
}

/* ---- TCP segmentation offload ----
 * The stack's port segments TSO frames like a NIC; the fixture logs each
 * frame as handed to the device, and the peer sees the segments. */

#define TSO_PORT (FTCP_MEMLINK_TSO | FTCP_DEV_TX_IPV4_CKSUM)

static void tso_0(struct ftcp_config *c)
{
	cfg(c);
	c->tso_max_bytes = 0;
}

/* The next frame handed over must be a TSO frame of len bytes at rseq. */
static const struct tf_txframe *expect_tso_frame(struct tf *f, uint32_t n, uint32_t rseq,
                                                 uint32_t len, uint16_t segsz, uint8_t tcp_flags)
{
	const struct tf_txframe *x = tf_txframe(f, n);

	ASSERT_EQ_U64(x->flags, FTCP_TX_TSO | FTCP_TX_TCP_CKSUM | FTCP_TX_IP_CKSUM);
	ASSERT_EQ_U64(x->seq - f->siss, rseq);
	ASSERT_EQ_U64(x->len, len);
	ASSERT_EQ_U64(x->tso_segsz, segsz);
	ASSERT_EQ_U64(x->tcp_flags, tcp_flags);
	/* DPDK's contract: the pseudo-header sum without the length (the
	 * device adds each segment's); the IP length may be anything. */
	ASSERT_EQ_U64(x->tcp_cksum,
	              ftcp_cksum_fold(ftcp_cksum_pseudo(TF_LOCAL_IP, TF_PEER_IP, FTCP_IP_PROTO_TCP, 0)));
	CU_ASSERT(x->pieces >= 1 && x->pieces <= 2);
	return x;
}

static void expect_plain_frame(struct tf *f, uint32_t n, uint32_t rseq, uint32_t len)
{
	const struct tf_txframe *x = tf_txframe(f, n);

	ASSERT_EQ_U64(x->flags & FTCP_TX_TSO, 0);
	ASSERT_EQ_U64(x->tso_segsz, 0);
	ASSERT_EQ_U64(x->seq - f->siss, rseq);
	ASSERT_EQ_U64(x->len, len);
}

static void test_tso_new_data_leaves_as_one_frame_and_a_timeout_resends_one_segment(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint32_t n0, i;
	uint64_t t0, segs0;

	tf_init_caps(&f, cfg, TSO_PORT);
	tf_passive_open(&f, &TF_OPTS_ALL);
	n0 = f.ntx;
	segs0 = tf_counter(&f, "tcp_tx_segs");
	t0 = tf_now(&f);
	app_send(&f, 0, 10 * MSS_TS);
	/* The initial window in one frame; the peer sees ten MSS segments,
	 * PSH on the last only. */
	for (i = 0; i < 10; i++)
		expect_data(&f, i == 9 ? TCP_A | TCP_P : TCP_A, 1 + i * MSS_TS, 1, MSS_TS, i ? 0 : 1000);
	ASSERT_EQ_U64(f.ntx, n0 + 1);
	expect_tso_frame(&f, n0, 1, 10 * MSS_TS, MSS_TS, TCP_A | TCP_P);
	ASSERT_EQ_U64(tf_txframe(&f, n0)->l4_len, FTCP_TCP_HLEN + 12);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_tso_frames"), 1);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_tx_segs") - segs0, 10); /* segments on the wire */
	ASSERT_EQ_U64(harness_node_of(&f.h, f.s)->port.stats.tx_tso_frames, 1);
	/* No ACK: the timeout resends the first segment alone, in a plain
	 * frame (retransmissions are never TSO frames). */
	s = expect_data(&f, TCP_A, 1, 1, MSS_TS, SEC + 1);
	expect_at(s, t0 + SEC);
	tf_expect_none(&f, 100000);
	ASSERT_EQ_U64(f.ntx, n0 + 2);
	expect_plain_frame(&f, n0 + 1, 1, MSS_TS);
	/* The go-back resends stay one segment per frame too. */
	peer_ack(&f, 1 + MSS_TS);
	expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + 2 * MSS_TS, 1, MSS_TS, 0);
	tf_expect_none(&f, 100000);
	ASSERT_EQ_U64(f.ntx, n0 + 4);
	expect_plain_frame(&f, n0 + 2, 1 + MSS_TS, MSS_TS);
	expect_plain_frame(&f, n0 + 3, 1 + 2 * MSS_TS, MSS_TS);
	/* Everything acknowledged: new data goes out in a TSO frame again,
	 * as much as cwnd allows. */
	peer_ack(&f, 1 + 10 * MSS_TS);
	app_send(&f, 10 * MSS_TS, 20 * MSS_TS);
	expect_data(&f, TCP_A, 1 + 10 * MSS_TS, 1, MSS_TS, 1000);
	{
		uint32_t cwnd = tf_info(&f).snd_cwnd, len = cwnd / MSS_TS * MSS_TS;
		CU_ASSERT(len >= 2 * MSS_TS && len < 20 * MSS_TS);
		for (i = 1; i < len / MSS_TS; i++)
			expect_data(&f, TCP_A, 1 + (10 + i) * MSS_TS, 1, MSS_TS, 0);
		tf_expect_none(&f, 100000);
		ASSERT_EQ_U64(f.ntx, n0 + 5);
		expect_tso_frame(&f, n0 + 4, 1 + 10 * MSS_TS, len, MSS_TS, TCP_A);
	}
	ASSERT_EQ_U64(tf_counter(&f, "tcp_tso_frames"), 2);
	ASSERT_EQ_U64(harness_node_of(&f.h, f.s)->port.stats.tx_tso_bad, 0);
	tf_free(&f);
}

/* The last, short segment of a frame obeys Nagle as if sent alone behind
 * the full ones; with no-delay it rides along. The FIN goes on the last
 * segment only. */
static void test_tso_short_tail_follows_nagle_and_the_fin_ends_the_frame(void)
{
	struct tf f;
	uint32_t n0, i;
	int one = 1;

	tf_init_caps(&f, cfg, TSO_PORT);
	tf_passive_open(&f, &TF_OPTS_ALL);
	n0 = f.ntx;
	app_send(&f, 0, 3 * MSS_TS + 100);
	for (i = 0; i < 3; i++)
		expect_data(&f, TCP_A, 1 + i * MSS_TS, 1, MSS_TS, i ? 0 : 1000);
	tf_expect_none(&f, 100000); /* Nagle: 100 bytes wait for the ACK */
	expect_tso_frame(&f, n0, 1, 3 * MSS_TS, MSS_TS, TCP_A);
	peer_ack(&f, 1 + 3 * MSS_TS);
	expect_data(&f, TCP_A | TCP_P, 1 + 3 * MSS_TS, 1, 100, 1000);
	expect_plain_frame(&f, n0 + 1, 1 + 3 * MSS_TS, 100);
	peer_ack(&f, 1 + 3 * MSS_TS + 100);

	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_NODELAY, one), 0);
	n0 = f.ntx;
	app_send(&f, 3 * MSS_TS + 100, 2 * MSS_TS + 10);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	expect_data(&f, TCP_A, 1 + 3 * MSS_TS + 100, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + 4 * MSS_TS + 100, 1, MSS_TS, 0);
	expect_data(&f, TCP_A | TCP_P | TCP_F, 1 + 5 * MSS_TS + 100, 1, 10, 0);
	tf_expect_none(&f, 100000);
	ASSERT_EQ_U64(f.ntx, n0 + 1);
	expect_tso_frame(&f, n0, 1 + 3 * MSS_TS + 100, 2 * MSS_TS + 10, MSS_TS,
	                 TCP_A | TCP_P | TCP_F);
	tf_free(&f);
}

/* The peer's window bounds a frame as it bounds segments: whole segments
 * within it, the short rest held back (sender SWS avoidance). */
static void test_tso_frame_stays_within_the_peer_window(void)
{
	static const struct tf_opts o = {1460, false, 0, true, true, 4 * MSS_TS + 500};
	struct tf f;
	uint32_t n0, i;

	tf_init_caps(&f, cfg, TSO_PORT);
	tf_passive_open(&f, &o);
	n0 = f.ntx;
	app_send(&f, 0, 10 * MSS_TS);
	for (i = 0; i < 4; i++)
		expect_data(&f, TCP_A, 1 + i * MSS_TS, 1, MSS_TS, i ? 0 : 1000);
	tf_expect_none(&f, 100000);
	ASSERT_EQ_U64(f.ntx, n0 + 1);
	expect_tso_frame(&f, n0, 1, 4 * MSS_TS, MSS_TS, TCP_A);
	tf_free(&f);
}

/* SACK blocks make our header longer: each segment the device cuts
 * carries them too, so it carries that much less payload. */
static void test_tso_segment_size_leaves_room_for_sack_blocks(void)
{
	struct tf f;
	uint32_t n0, i, segsz = MSS_TS - 12; /* one SACK block, NOP-padded */

	tf_init_caps(&f, cfg, TSO_PORT);
	tf_passive_open(&f, &TF_OPTS_ALL);
	/* The peer's bytes 100.. arrive before 0..99: the stack holds a
	 * range out of order and reports it in every segment. */
	peer_data(&f, TCP_A, 101, 1, 100);
	tf_expect(&f, TCP_A, 1, 1, 1000);
	ASSERT_EQ_U64(f.last.opt.n_sack, 1);
	n0 = f.ntx;
	app_send(&f, 0, 4 * segsz);
	for (i = 0; i < 4; i++) {
		const struct tf_seg *s = expect_data(&f, i == 3 ? TCP_A | TCP_P : TCP_A, 1 + i * segsz, 1,
		                                     segsz, i ? 0 : 1000);
		ASSERT_EQ_U64(s->opt.n_sack, 1);
	}
	expect_tso_frame(&f, n0, 1, 4 * segsz, (uint16_t)segsz, TCP_A | TCP_P);
	ASSERT_EQ_U64(tf_txframe(&f, n0)->l4_len, FTCP_TCP_HLEN + 24);
	ASSERT_EQ_U64(harness_node_of(&f.h, f.s)->port.stats.tx_too_big, 0);
	tf_free(&f);
}

/* With SACK blocks in our header a full MSS of data is two segments; a
 * device that does not segment (or tso_max_bytes 0) must get them as two
 * frames, as before TSO existed. */
static void test_no_tso_frame_without_device_segmentation_even_with_sack_blocks(void)
{
	static const uint32_t caps[2] = {0, TSO_PORT};
	struct tf f;
	uint32_t n0, k;

	for (k = 0; k < 2; k++) {
		tf_init_caps(&f, k ? tso_0 : cfg, caps[k]);
		tf_passive_open(&f, &TF_OPTS_ALL);
		CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_NODELAY, 1), 0);
		peer_data(&f, TCP_A, 101, 1, 100);
		tf_expect(&f, TCP_A, 1, 1, 1000);
		n0 = f.ntx;
		app_send(&f, 0, MSS_TS);
		/* (PSH was decided for the whole MSS, before the cut.) */
		expect_data(&f, TCP_A | TCP_P, 1, 1, MSS_TS - 12, 1000);
		expect_data(&f, TCP_A | TCP_P, 1 + MSS_TS - 12, 1, 12, 0);
		ASSERT_EQ_U64(f.ntx, n0 + 2);
		expect_plain_frame(&f, n0, 1, MSS_TS - 12);
		expect_plain_frame(&f, n0 + 1, 1 + MSS_TS - 12, 12);
		ASSERT_EQ_U64(harness_node_of(&f.h, f.s)->port.stats.tx_tso_bad, 0);
		tf_free(&f);
	}
}

/* In SACK recovery (RFC 6675) every segment is clocked by the pipe: new
 * data leaves one segment per frame there, like the retransmissions. */
static void test_tso_not_used_in_sack_recovery(void)
{
	struct tf f;
	struct tf_seg seg;
	uint32_t n0, k, i, new_frames = 0;

	tf_init_caps(&f, cfg, TSO_PORT);
	tf_passive_open(&f, &TF_OPTS_ALL);
	app_send(&f, 0, 40 * MSS_TS);
	for (i = 0; i < 10; i++)
		expect_data(&f, TCP_A, 1 + i * MSS_TS, 1, MSS_TS, i ? 0 : 1000);
	tf_expect_none(&f, 1000);
	n0 = f.ntx;
	ASSERT_EQ_U64(tf_txframe(&f, n0 - 1)->flags & FTCP_TX_TSO, FTCP_TX_TSO);
	/* The first segment is lost; the peer reports the others one by one. */
	for (k = 2; k <= 10; k++) {
		struct ftcp_tcp_opts o = tf_ts_opts(&f);
		o.n_sack = 1;
		o.sack[0].start = f.siss + 1 + MSS_TS;
		o.sack[0].end = f.siss + 1 + k * MSS_TS;
		tf_send_opts(&f, TCP_A, 1, 1, &o, NULL, 0);
		while (tf_recv(&f, &seg, 1000))
			;
	}
	ASSERT_EQ_U64(tf_counter(&f, "tcp_fast_retransmits"), 1);
	CU_ASSERT(tf_info(&f).in_recovery);
	CU_ASSERT(f.ntx - n0 >= 4);
	for (i = n0; i < f.ntx; i++) {
		const struct tf_txframe *x = tf_txframe(&f, i);
		ASSERT_EQ_U64(x->flags & FTCP_TX_TSO, 0);
		CU_ASSERT(x->len <= MSS_TS);
		if (x->seq - f.siss >= 1 + 12 * MSS_TS) /* past Limited Transmit's two */
			new_frames++;
	}
	CU_ASSERT(new_frames >= 2);
	tf_free(&f);
}

/* Only a device that says it segments gets TSO frames; tso_max_bytes caps
 * them and 0 turns them off; the setting is checked. */
static void tso_3(struct ftcp_config *c)
{
	cfg(c);
	c->tso_max_bytes = 3 * MSS_TS + 1000;
}

static void test_tso_needs_the_device_cap_and_honours_tso_max_bytes(void)
{
	struct tf f;
	struct ftcp_config c;
	const char *why = NULL;
	uint32_t n0, i;

	tf_init(&f, cfg); /* no TSO on the port */
	tf_passive_open(&f, &TF_OPTS_ALL);
	n0 = f.ntx;
	app_send(&f, 0, 4 * MSS_TS);
	for (i = 0; i < 4; i++)
		expect_data(&f, i == 3 ? TCP_A | TCP_P : TCP_A, 1 + i * MSS_TS, 1, MSS_TS, i ? 0 : 1000);
	ASSERT_EQ_U64(f.ntx, n0 + 4);
	for (i = 0; i < 4; i++)
		expect_plain_frame(&f, n0 + i, 1 + i * MSS_TS, MSS_TS);
	tf_free(&f);

	tf_init_caps(&f, tso_3, TSO_PORT);
	tf_passive_open(&f, &TF_OPTS_ALL);
	n0 = f.ntx;
	app_send(&f, 0, 7 * MSS_TS);
	for (i = 0; i < 7; i++)
		expect_data(&f, i == 6 ? TCP_A | TCP_P : TCP_A, 1 + i * MSS_TS, 1, MSS_TS, i ? 0 : 1000);
	ASSERT_EQ_U64(f.ntx, n0 + 3);
	expect_tso_frame(&f, n0, 1, 3 * MSS_TS, MSS_TS, TCP_A);
	expect_tso_frame(&f, n0 + 1, 1 + 3 * MSS_TS, 3 * MSS_TS, MSS_TS, TCP_A);
	expect_plain_frame(&f, n0 + 2, 1 + 6 * MSS_TS, MSS_TS);
	tf_free(&f);

	tf_init_caps(&f, tso_0, TSO_PORT);
	tf_passive_open(&f, &TF_OPTS_ALL);
	n0 = f.ntx;
	app_send(&f, 0, 4 * MSS_TS);
	for (i = 0; i < 4; i++)
		expect_data(&f, i == 3 ? TCP_A | TCP_P : TCP_A, 1 + i * MSS_TS, 1, MSS_TS, i ? 0 : 1000);
	ASSERT_EQ_U64(f.ntx, n0 + 4);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_tso_frames"), 0);
	tf_free(&f);

	ftcp_config_defaults(&c);
	c.ip_addr = TF_LOCAL_IP;
	ASSERT_EQ_U64(c.tso_max_bytes, FTCP_DEFAULT_TSO_MAX_BYTES);
	CU_ASSERT_EQUAL(ftcp_config_validate(&c, &why), 0);
	c.tso_max_bytes = 64000;
	CU_ASSERT_EQUAL(ftcp_config_validate(&c, &why), 0);
	c.tso_max_bytes = 64001;
	CU_ASSERT_EQUAL(ftcp_config_validate(&c, &why), -FTCP_EINVAL);
	CU_ASSERT(why && strncmp(why, "tso_max_bytes:", 14) == 0);
}

/* ---- the peer's window ---- */

static void test_segments_never_exceed_a_small_peer_window(void)
{
	static const struct tf_opts o = {1460, false, 0, false, true, 3000};
	struct tf f;

	tf_init(&f, cfg);
	tf_passive_open(&f, &o);
	ASSERT_EQ_U64(tf_info(&f).snd_wnd, 3000);
	app_send(&f, 0, 6000);
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 0);
	/* 104 bytes of window left: too little to be worth a segment (sender
	 * SWS avoidance, RFC 9293 3.8.6.2.1) while data is outstanding. */
	tf_expect_none(&f, 500000);
	peer_ack(&f, 1 + 2 * MSS_TS);
	expect_data(&f, TCP_A, 1 + 2 * MSS_TS, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + 3 * MSS_TS, 1, MSS_TS, 0);
	tf_expect_none(&f, 100000);
	peer_ack(&f, 1 + 4 * MSS_TS);
	expect_data(&f, TCP_A | TCP_P, 1 + 4 * MSS_TS, 1, 6000 - 4 * MSS_TS, 1000);
	tf_free(&f);
}

static void test_tiny_peer_window_gets_window_sized_segments(void)
{
	/* A window below one MSS: half the largest window seen is enough
	 * to send (RFC 9293 3.8.6.2.1 (3)), so segments fill it. */
	static const struct tf_opts o = {1460, false, 0, false, true, 500};
	struct tf f;

	tf_init(&f, cfg);
	tf_passive_open(&f, &o);
	app_send(&f, 0, 1200);
	expect_data(&f, TCP_A, 1, 1, 500, 1000);
	tf_expect_none(&f, 300000);
	peer_ack(&f, 501);
	expect_data(&f, TCP_A, 501, 1, 500, 1000);
	tf_expect_none(&f, 100000);
	peer_ack(&f, 1001);
	expect_data(&f, TCP_A | TCP_P, 1001, 1, 200, 1000);
	tf_free(&f);
}

static void test_peer_window_scale_is_applied(void)
{
	/* The SYN's window is never scaled; later ones are << 7. */
	static const struct tf_opts o = {1460, true, 7, false, true, 24};
	struct tf f;
	struct ftcp_tcp_info i;

	tf_init(&f, cfg);
	tf_passive_open(&f, &o);
	i = tf_info(&f);
	ASSERT_EQ_U64(i.snd_wscale, 7);
	ASSERT_EQ_U64(i.snd_wnd, 24u << 7);
	app_send(&f, 0, 5000);
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 0);
	tf_expect_none(&f, 300000);
	f.peer_window = 512; /* 64 KiB */
	peer_ack(&f, 1 + 2 * MSS_TS);
	expect_data(&f, TCP_A, 1 + 2 * MSS_TS, 1, MSS_TS, 1000);
	ASSERT_EQ_U64(tf_info(&f).snd_wnd, 65536);
	tf_expect_none(&f, 100000); /* Nagle holds the tail */
	peer_ack(&f, 1 + 3 * MSS_TS);
	expect_data(&f, TCP_A | TCP_P, 1 + 3 * MSS_TS, 1, 5000 - 3 * MSS_TS, 1000);
	tf_free(&f);
}

static void test_our_window_field_is_the_free_space_shifted(void)
{
	struct tf f;
	const struct tf_seg *s;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	ASSERT_EQ_U64(tf_info(&f).rcv_wscale, 1); /* 64 KiB needs 17 bits */
	peer_data(&f, TCP_A, 1, 1, 1000);
	s = tf_expect(&f, TCP_A, 1, 1001, DELACK + 1);
	ASSERT_EQ_U64(s->win, (65536 - 1000) >> 1);
	ASSERT_EQ_U64(tf_win_bytes(&f, s), 65536 - 1000);
	tf_free(&f);
}

static void test_large_receive_buffer_announces_a_larger_shift(void)
{
	struct tf f;
	const struct tf_seg *s;

	tf_init(&f, rx1m);
	tf_passive_open(&f, &TF_OPTS_ALL);
	/* f.last is still the SYN-ACK. */
	CU_ASSERT(f.last.opt.has_wscale && f.last.opt.wscale == 5);
	ASSERT_EQ_U64(f.last.win, 65535);
	peer_data(&f, TCP_A, 1, 1, 96);
	s = tf_expect(&f, TCP_A, 1, 97, DELACK + 1);
	ASSERT_EQ_U64(s->win, ((1u << 20) - 96) >> 5);
	tf_free(&f);
}

static void test_without_window_scaling_the_window_is_capped_at_65535(void)
{
	struct tf f;
	const struct tf_seg *s;

	tf_init(&f, rx1m);
	tf_passive_open(&f, &TF_OPTS_NONE);
	CU_ASSERT(!f.last.opt.has_wscale);
	peer_data(&f, TCP_A, 1, 1, 96);
	s = tf_expect(&f, TCP_A, 1, 97, DELACK + 1);
	ASSERT_EQ_U64(s->win, 65535);
	tf_free(&f);
}

/* ---- Nagle ---- */

static void test_nagle_holds_a_small_send_while_data_is_unacknowledged(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	app_send(&f, 0, 10);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 10, 1000);
	app_send(&f, 10, 10);
	tf_expect_none(&f, 900000);
	peer_ack(&f, 11);
	t0 = tf_now(&f);
	s = expect_data(&f, TCP_A | TCP_P, 11, 1, 10, 1000);
	expect_at(s, t0);
	tf_free(&f);
}

static void test_nagle_releases_held_bytes_as_one_segment(void)
{
	struct tf f;
	uint32_t i;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	app_send(&f, 0, 10);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 10, 1000);
	for (i = 0; i < 5; i++) {
		app_send(&f, 10 + i * 10, 10);
		tf_expect_none(&f, 10000);
	}
	peer_ack(&f, 11);
	expect_data(&f, TCP_A | TCP_P, 11, 1, 50, 1000);
	tf_expect_none(&f, 100000);
	tf_free(&f);
}

static void test_nodelay_sends_small_segments_at_once(void)
{
	struct tf f;
	const struct tf_seg *s;
	int v = 0;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_NODELAY, 1), 0);
	CU_ASSERT(ftcp_getsockopt(f.s, f.sock, FTCP_SO_NODELAY, &v) == 0 && v == 1);
	app_send(&f, 0, 10);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 10, 1000);
	t0 = tf_now(&f);
	app_send(&f, 10, 10);
	s = expect_data(&f, TCP_A | TCP_P, 11, 1, 10, 1000);
	expect_at(s, t0);
	tf_free(&f);
}

static void test_setting_nodelay_pushes_held_data(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	app_send(&f, 0, 10);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 10, 1000);
	app_send(&f, 10, 10);
	tf_expect_none(&f, 100000);
	t0 = tf_now(&f);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_NODELAY, 1), 0);
	s = expect_data(&f, TCP_A | TCP_P, 11, 1, 10, 1000);
	expect_at(s, t0);
	tf_free(&f);
}

static void test_nagle_never_holds_a_full_segment(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	app_send(&f, 0, 10);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 10, 1000);
	t0 = tf_now(&f);
	app_send(&f, 10, 2 * MSS_TS + 10);
	s = expect_data(&f, TCP_A, 11, 1, MSS_TS, 1000);
	expect_at(s, t0);
	s = expect_data(&f, TCP_A, 11 + MSS_TS, 1, MSS_TS, 0);
	expect_at(s, t0);
	tf_expect_none(&f, 500000);
	peer_ack(&f, 11 + 2 * MSS_TS);
	expect_data(&f, TCP_A | TCP_P, 11 + 2 * MSS_TS, 1, 10, 1000);
	tf_free(&f);
}

static void test_nagle_does_not_hold_the_last_data_with_the_fin(void)
{
	struct tf f;
	const struct tf_seg *s;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	app_send(&f, 0, 10);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 10, 1000);
	app_send(&f, 10, 10);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	/* Closing: nothing more will come, so no reason to wait. */
	s = expect_data(&f, TCP_F | TCP_A | TCP_P, 11, 1, 10, 1000);
	(void)s;
	tf_free(&f);
}

/* ---- delayed ACKs ---- */

static void test_one_segment_is_acked_after_exactly_the_delack_time(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = tf_now(&f);
	peer_data(&f, TCP_A, 1, 1, 100);
	s = tf_expect(&f, TCP_A, 1, 101, DELACK + 1000);
	expect_at(s, t0 + DELACK);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_delayed_acks"), 1);
	tf_expect_none(&f, 1000000);
	tf_free(&f);
}

static void test_delack_time_is_configurable(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, delack100);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = tf_now(&f);
	peer_data(&f, TCP_A, 1, 1, 100);
	s = tf_expect(&f, TCP_A, 1, 101, 200000);
	expect_at(s, t0 + 100000);
	tf_free(&f);
}

static void test_later_small_segments_do_not_restart_the_delack_timer(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = tf_now(&f);
	peer_data(&f, TCP_A, 1, 1, 100);
	tf_expect_none(&f, 30000);
	peer_data(&f, TCP_A, 101, 1, 100);
	s = tf_expect(&f, TCP_A, 1, 201, DELACK);
	expect_at(s, t0 + DELACK); /* one ACK for both, when the first's delay ends */
	tf_expect_none(&f, 200000);
	tf_free(&f);
}

static void test_second_full_segment_is_acked_at_once(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t1;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	peer_data(&f, TCP_A, 1, 1, MSS_TS);
	tf_expect_none(&f, 10000);
	t1 = tf_now(&f);
	peer_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS);
	s = tf_expect(&f, TCP_A, 1, 1 + 2 * MSS_TS, 1000);
	expect_at(s, t1); /* RFC 5681 4.2: at least every second full segment */
	ASSERT_EQ_U64(tf_counter(&f, "tcp_delayed_acks"), 0);
	tf_expect_none(&f, 200000);
	tf_free(&f);
}

static void test_psh_does_not_force_an_immediate_ack(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = tf_now(&f);
	peer_data(&f, TCP_A | TCP_P, 1, 1, 10);
	tf_expect_none(&f, DELACK - 1);
	s = tf_expect(&f, TCP_A, 1, 11, 10);
	expect_at(s, t0 + DELACK);
	tf_free(&f);
}

static void test_out_of_order_segment_gets_an_immediate_dupack_with_sack(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = tf_now(&f);
	peer_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS);
	s = tf_expect(&f, TCP_A, 1, 1, 1000);
	expect_at(s, t0);
	ASSERT_EQ_U64(s->opt.n_sack, 1);
	ASSERT_EQ_U64(s->opt.sack[0].start, f.piss + 1 + MSS_TS);
	ASSERT_EQ_U64(s->opt.sack[0].end, f.piss + 1 + 2 * MSS_TS);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_ooo_segs"), 1);
	ASSERT_EQ_U64(ftcp_sock_rx_pending(f.s, f.sock), 0);
	tf_free(&f);
}

static void test_sack_blocks_report_the_newest_range_first(void)
{
	struct tf f;
	const struct tf_seg *s;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	peer_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS);
	tf_expect(&f, TCP_A, 1, 1, 1000);
	peer_data(&f, TCP_A, 1 + 3 * MSS_TS, 1, MSS_TS);
	s = tf_expect(&f, TCP_A, 1, 1, 1000);
	ASSERT_EQ_U64(s->opt.n_sack, 2);
	ASSERT_EQ_U64(s->opt.sack[0].start, f.piss + 1 + 3 * MSS_TS);
	ASSERT_EQ_U64(s->opt.sack[0].end, f.piss + 1 + 4 * MSS_TS);
	ASSERT_EQ_U64(s->opt.sack[1].start, f.piss + 1 + MSS_TS);
	ASSERT_EQ_U64(s->opt.sack[1].end, f.piss + 1 + 2 * MSS_TS);
	tf_free(&f);
}

static void test_filling_the_hole_acks_everything_at_once(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;
	uint8_t buf[2 * 1448];

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	peer_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS);
	tf_expect(&f, TCP_A, 1, 1, 1000);
	tf_expect_none(&f, 20000);
	t0 = tf_now(&f);
	peer_data(&f, TCP_A, 1, 1, 100); /* part of the hole: still out of order above */
	s = tf_expect(&f, TCP_A, 1, 101, 1000);
	expect_at(s, t0);
	ASSERT_EQ_U64(s->opt.n_sack, 1);
	t0 = tf_now(&f);
	peer_data(&f, TCP_A, 101, 1, MSS_TS - 100);
	s = tf_expect(&f, TCP_A, 1, 1 + 2 * MSS_TS, 1000);
	expect_at(s, t0);
	ASSERT_EQ_U64(s->opt.n_sack, 0);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 2 * MSS_TS);
	CU_ASSERT(is_pattern(buf, 0, 2 * MSS_TS));
	tf_free(&f);
}

static void test_out_of_order_without_sack_gets_a_plain_dupack(void)
{
	struct tf f;
	const struct tf_seg *s;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_NONE);
	peer_data(&f, TCP_A, 1001, 1, 500);
	s = tf_expect(&f, TCP_A, 1, 1, 1000);
	ASSERT_EQ_U64(s->opt.n_sack, 0);
	peer_data(&f, TCP_A, 1501, 1, 500);
	s = tf_expect(&f, TCP_A, 1, 1, 1000); /* one per segment */
	peer_data(&f, TCP_A, 1, 1, 1000);
	tf_expect(&f, TCP_A, 1, 2001, 1000);
	tf_free(&f);
}

static void test_data_we_send_carries_the_delayed_ack(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint8_t buf[100];

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	peer_data(&f, TCP_A | TCP_P, 1, 1, 100);
	tf_expect_none(&f, 5000);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 100);
	app_send(&f, 0, 10);
	s = expect_data(&f, TCP_A | TCP_P, 1, 101, 10, 1000);
	(void)s;
	/* The ACK went with the data: no pure ACK when the timer would
	 * have fired. */
	tf_expect_none(&f, 100000);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_delayed_acks"), 0);
	tf_free(&f);
}

/* ---- the receive window ---- */

static void test_advertised_window_is_the_free_receive_buffer(void)
{
	struct tf f;
	const struct tf_seg *s;

	tf_init(&f, rx8k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT(f.last.opt.has_wscale && f.last.opt.wscale == 0);
	ASSERT_EQ_U64(f.last.win, 8192);
	peer_data(&f, TCP_A, 1, 1, 1000);
	s = tf_expect(&f, TCP_A, 1, 1001, DELACK + 1);
	ASSERT_EQ_U64(s->win, 7192);
	peer_data(&f, TCP_A, 1001, 1, 1000);
	s = tf_expect(&f, TCP_A, 1, 2001, DELACK + 1);
	ASSERT_EQ_U64(s->win, 6192);
	ASSERT_EQ_U64(tf_info(&f).rcv_wnd, 6192);
	tf_free(&f);
}

static void test_rcvbuf_of_the_listener_limits_the_window(void)
{
	struct tf f;
	const struct tf_seg *s;
	int v = 0;

	tf_init(&f, cfg);
	tf_listen(&f);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.lsock, FTCP_SO_RCVBUF, 4096), 0);
	tf_passive_open(&f, &TF_OPTS_ALL);
	ASSERT_EQ_U64(f.last.win, 4096); /* the SYN-ACK */
	CU_ASSERT(ftcp_getsockopt(f.s, f.sock, FTCP_SO_RCVBUF, &v) == 0 && v == 4096);
	peer_data(&f, TCP_A, 1, 1, 1000);
	s = tf_expect(&f, TCP_A, 1, 1001, DELACK + 1);
	ASSERT_EQ_U64(tf_win_bytes(&f, s), 4096 - 1000);
	tf_free(&f);
}

static void test_smaller_rcvbuf_on_a_connection_never_shrinks_the_window(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint8_t buf[8192];
	uint32_t i;

	tf_init(&f, rx8k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_RCVBUF, 2048), 0);
	peer_data(&f, TCP_A, 1, 1, 1000);
	s = tf_expect(&f, TCP_A, 1, 1001, DELACK + 1);
	/* 8192 was offered: the right edge stays (RFC 9293 3.8.6.2.2). */
	ASSERT_EQ_U64(s->win, 7192);
	for (i = 0; i < 7; i++)
		peer_data(&f, TCP_A, 1001 + i * 1024, 1, 1024);
	peer_data(&f, TCP_A, 8169, 1, 24);
	s = tf_expect(&f, TCP_A, 1, 8193, 1000);
	ASSERT_EQ_U64(s->win, 0);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 8192);
	CU_ASSERT(is_pattern(buf, 0, 8192));
	/* From now on the smaller buffer counts. */
	s = tf_expect(&f, TCP_A, 1, 8193, 1000);
	ASSERT_EQ_U64(s->win, 2048);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_window_updates"), 1);
	tf_free(&f);
}

static void test_zero_window_is_advertised_when_the_buffer_is_full(void)
{
	struct tf f;

	tf_init(&f, rx8k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	fill_8k(&f);
	ASSERT_EQ_U64(tf_info(&f).rcv_wnd, 0);
	tf_expect_none(&f, 500000);
	tf_free(&f);
}

static void test_zero_window_probe_from_the_peer_is_answered(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, rx8k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	fill_8k(&f);
	t0 = tf_now(&f);
	/* A probe carrying one byte past the window (RFC 9293 3.8.6.1):
	 * not acceptable, so it must draw an ACK with the window. */
	peer_data(&f, TCP_A, 8193, 1, 1);
	s = tf_expect(&f, TCP_A, 1, 8193, 1000);
	expect_at(s, t0);
	ASSERT_EQ_U64(s->win, 0);
	ASSERT_EQ_U64(tf_info(&f).recv_queue, 8192);
	/* And the usual kind, an old sequence number without data. */
	t0 = tf_now(&f);
	tf_send(&f, TCP_A, 8192, 1, NULL, 0);
	s = tf_expect(&f, TCP_A, 1, 8193, 1000);
	expect_at(s, t0);
	ASSERT_EQ_U64(s->win, 0);
	tf_free(&f);
}

static void test_data_beyond_the_window_is_trimmed(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint8_t buf[8192];
	uint32_t i;

	tf_init(&f, rx8k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	for (i = 0; i < 7; i++)
		peer_data(&f, TCP_A, 1 + i * 1024, 1, 1024);
	s = tf_expect(&f, TCP_A, 1, 7169, 1000);
	ASSERT_EQ_U64(s->win, 1024);
	peer_data(&f, TCP_A, 7169, 1, MSS_TS);
	s = tf_expect(&f, TCP_A, 1, 8193, DELACK + 1);
	ASSERT_EQ_U64(s->win, 0);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_rx_trimmed"), 1);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 8192);
	CU_ASSERT(is_pattern(buf, 0, 8192));
	tf_free(&f);
}

static void test_segment_wholly_beyond_the_window_is_dropped_and_acked(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint32_t i;
	uint64_t t0;

	tf_init(&f, rx8k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	for (i = 0; i < 7; i++)
		peer_data(&f, TCP_A, 1 + i * 1024, 1, 1024);
	tf_expect(&f, TCP_A, 1, 7169, 1000);
	t0 = tf_now(&f);
	peer_data(&f, TCP_A, 8193, 1, 100);
	s = tf_expect(&f, TCP_A, 1, 7169, 1000);
	expect_at(s, t0);
	ASSERT_EQ_U64(s->win, 1024);
	ASSERT_EQ_U64(tf_counter(&f, "drop_tcp_out_of_window"), 1);
	ASSERT_EQ_U64(tf_info(&f).recv_queue, 7168);
	tf_free(&f);
}

static void test_receiver_sws_keeps_the_window_shut_until_an_mss_is_free(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint8_t buf[1000];

	tf_init(&f, rx8k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	fill_8k(&f);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, 1000, 0), 1000);
	tf_expect_none(&f, 200000);
	peer_data(&f, TCP_A, 8193, 1, 1);
	s = tf_expect(&f, TCP_A, 1, 8193, 1000);
	ASSERT_EQ_U64(s->win, 0); /* 1000 free < min(8192 / 2, MSS) */
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, 500, 0), 500);
	tf_expect_none(&f, 200000);
	peer_data(&f, TCP_A, 8193, 1, 1);
	s = tf_expect(&f, TCP_A, 1, 8193, 1000);
	ASSERT_EQ_U64(s->win, 1500);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_window_updates"), 0);
	tf_free(&f);
}

static void test_reading_a_full_buffer_sends_a_window_update_at_once(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint8_t buf[8192];
	uint64_t t0;

	tf_init(&f, rx8k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	fill_8k(&f);
	tf_expect_none(&f, 300000);
	t0 = tf_now(&f);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 8192);
	CU_ASSERT(is_pattern(buf, 0, 8192));
	s = tf_expect(&f, TCP_A, 1, 8193, 1000);
	expect_at(s, t0); /* no waiting for the peer's probe */
	ASSERT_EQ_U64(s->win, 8192);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_window_updates"), 1);
	/* The peer goes on. */
	peer_data(&f, TCP_A, 8193, 1, 1024);
	s = tf_expect(&f, TCP_A, 1, 9217, DELACK + 1);
	ASSERT_EQ_U64(s->win, 8192 - 1024);
	tf_free(&f);
}

static void test_window_update_after_two_segments_are_read(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint8_t buf[4096];

	tf_init(&f, rx8k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	fill_8k(&f);
	/* The update threshold: min(buffer / 2, 2 * MSS) = 2896. */
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, 2 * MSS_TS - 1, 0), 2 * MSS_TS - 1);
	tf_expect_none(&f, 100000);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, 1, 0), 1);
	s = tf_expect(&f, TCP_A, 1, 8193, 1000);
	ASSERT_EQ_U64(s->win, 2 * MSS_TS);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_window_updates"), 1);
	tf_free(&f);
}

static void test_duplicate_segment_is_acked_at_once(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	peer_data(&f, TCP_A, 1, 1, 100);
	tf_expect(&f, TCP_A, 1, 101, DELACK + 1);
	t0 = tf_now(&f);
	peer_data(&f, TCP_A, 1, 1, 100); /* our ACK was lost, say */
	s = tf_expect(&f, TCP_A, 1, 101, 1000);
	expect_at(s, t0);
	ASSERT_EQ_U64(tf_info(&f).recv_queue, 100);
	ASSERT_EQ_U64(tf_info(&f).bytes_received, 100);
	tf_free(&f);
}

static void test_overlapping_segment_adds_only_the_new_bytes(void)
{
	struct tf f;
	uint8_t buf[400];

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	peer_data(&f, TCP_A, 1, 1, 100);
	tf_advance(&f, 1000);
	peer_data(&f, TCP_A, 51, 1, 250); /* bytes 50..299, half of them old */
	tf_expect(&f, TCP_A, 1, 301, DELACK + 1);
	ASSERT_EQ_U64(tf_info(&f).bytes_received, 300);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 300);
	CU_ASSERT(is_pattern(buf, 0, 300));
	tf_free(&f);
}

/* ---- the peer's zero window: persist ---- */

/* Established with the peer advertising a zero window, then 100 bytes
 * queued at t0. */
static uint64_t zero_window_setup(struct tf *f, void (*tweak)(struct ftcp_config *))
{
	uint64_t t0;

	tf_init(f, tweak);
	tf_passive_open(f, &TF_OPTS_ALL);
	f->peer_window = 0;
	peer_ack(f, 1);
	tf_advance(f, 1);
	ASSERT_EQ_U64(tf_info(f).snd_wnd, 0);
	t0 = tf_now(f);
	app_send(f, 0, 100);
	return t0;
}

static void test_zero_window_stops_sending_and_probes_back_off(void)
{
	struct tf f;
	uint64_t t0 = zero_window_setup(&f, cfg), at = t0, gap = SEC;
	uint32_t i;

	for (i = 0; i < 9; i++) {
		at += gap;
		expect_probe(&f, 1, at);
		peer_ack(&f, 1); /* still shut */
		gap = gap * 2 > 60 * SEC ? 60 * SEC : gap * 2;
	}
	ASSERT_EQ_U64(tf_counter(&f, "tcp_window_probes"), 9);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_retrans_segs"), 0);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_fast_retransmits"), 0);
	ASSERT_EQ_U64(tf_info(&f).snd_cwnd, 10 * MSS_TS);
	tf_free(&f);
}

static void test_zero_window_probes_go_on_while_answered(void)
{
	struct tf f;
	uint32_t i;

	(void)zero_window_setup(&f, retries3);
	for (i = 0; i < 30; i++) {
		tf_expect(&f, TCP_A, 1, 1, 61 * SEC);
		ASSERT_EQ_U64(f.last.len, 1);
		peer_ack(&f, 1);
	}
	ASSERT_EQ_U64(tf_counter(&f, "tcp_window_probes"), 30);
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_ESTABLISHED);
	CU_ASSERT(!(f.events & (FTCP_EV_ERROR | FTCP_EV_CLOSED)));
	ASSERT_EQ_U64(tf_counter(&f, "tcp_timeouts"), 0);
	tf_free(&f);
}

static void test_opened_window_resumes_sending_at_once(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0 = zero_window_setup(&f, cfg);

	expect_probe(&f, 1, t0 + SEC);
	peer_ack(&f, 1);
	expect_probe(&f, 1, t0 + 3 * SEC);
	tf_expect_none(&f, 500000);
	f.peer_window = 65535;
	peer_ack(&f, 1);
	t0 = tf_now(&f);
	s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 1000);
	expect_at(s, t0);
	peer_ack(&f, 101);
	tf_expect_none(&f, 120 * SEC); /* no more probes */
	ASSERT_EQ_U64(tf_counter(&f, "tcp_window_probes"), 2);
	tf_free(&f);
}

static void test_window_update_without_a_probe_resumes_sending(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0 = zero_window_setup(&f, cfg);

	tf_expect_none(&f, 500000);
	f.peer_window = 65535;
	peer_ack(&f, 1);
	t0 = tf_now(&f);
	s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 1000);
	expect_at(s, t0);
	tf_free(&f);
}

static void test_accepted_probe_byte_moves_the_probe_on(void)
{
	struct tf f;
	uint64_t t0 = zero_window_setup(&f, cfg);

	expect_probe(&f, 1, t0 + SEC);
	peer_ack(&f, 2); /* the byte fit; the window is shut again */
	t0 = tf_now(&f);
	expect_probe(&f, 2, t0 + SEC); /* new data acknowledged: no backoff */
	peer_ack(&f, 2);
	expect_probe(&f, 2, t0 + 3 * SEC);
	f.peer_window = 65535;
	peer_ack(&f, 2);
	expect_data(&f, TCP_A | TCP_P, 2, 1, 99, 1000);
	tf_free(&f);
}

static void test_unanswered_zero_window_probes_time_out(void)
{
	struct tf f;
	uint64_t t0 = zero_window_setup(&f, retries3);

	/* Like retransmissions (RFC 1122 4.2.3.5, Linux): a peer that never
	 * answers is given up after tcp_retries probes. */
	expect_probe(&f, 1, t0 + SEC);
	expect_probe(&f, 1, t0 + 3 * SEC);
	expect_probe(&f, 1, t0 + 7 * SEC);
	tf_advance(&f, t0 + 15 * SEC - 1 - tf_now(&f));
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_advance(&f, 1);
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT(f.events & FTCP_EV_ERROR);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, f.sock), -FTCP_ETIMEDOUT);
	tf_free(&f);
}

static void test_fin_waits_behind_data_held_by_a_zero_window(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0 = zero_window_setup(&f, cfg);

	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_FIN_WAIT_1);
	s = expect_probe(&f, 1, t0 + SEC);
	CU_ASSERT(!(s->flags & TCP_F));
	f.peer_window = 65535;
	peer_ack(&f, 1);
	expect_data(&f, TCP_F | TCP_A | TCP_P, 1, 1, 100, 1000);
	peer_ack(&f, 102);
	tf_advance(&f, 1);
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_FIN_WAIT_2);
	tf_free(&f);
}

static void test_small_usable_window_is_used_after_the_persist_timeout(void)
{
	static const struct tf_opts o = {1460, false, 0, false, true, 3000};
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &o);
	app_send(&f, 0, 2 * MSS_TS);
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A | TCP_P, 1 + MSS_TS, 1, MSS_TS, 0);
	tf_advance(&f, 100000);
	f.peer_window = 100; /* everything arrived, the reader is slow */
	peer_ack(&f, 1 + 2 * MSS_TS);
	tf_advance(&f, 1);
	ASSERT_EQ_U64(tf_info(&f).rto_us, 300000); /* srtt 100 ms */
	t0 = tf_now(&f);
	app_send(&f, 2 * MSS_TS, 500);
	/* 100 bytes is less than half the largest window seen: silly window
	 * avoidance holds them, but only until the override timeout (RFC
	 * 9293 3.8.6.2.1 (4)); nothing is in flight to bring an ACK. */
	s = expect_data(&f, TCP_A | TCP_P, 1 + 2 * MSS_TS, 1, 100, 400000);
	expect_at(s, t0 + 300000);
	tf_free(&f);
}

/* ---- retransmission timeout ---- */

static void test_first_rto_is_one_second_before_any_rtt_sample(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	ASSERT_EQ_U64(tf_info(&f).rtt_us, 0);
	ASSERT_EQ_U64(tf_info(&f).rto_us, SEC);
	t0 = tf_now(&f);
	app_send(&f, 0, 100);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 1000);
	s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, SEC + 1000);
	expect_at(s, t0 + SEC);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_rto"), 1);
	ASSERT_EQ_U64(tf_info(&f).retransmits, 1);
	tf_free(&f);
}

static void test_rto_doubles_up_to_the_configured_maximum(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t at, gaps[] = {1, 2, 4, 5, 5, 5};
	uint32_t i;

	tf_init(&f, rto_max5);
	tf_passive_open(&f, &TF_OPTS_ALL);
	at = tf_now(&f);
	app_send(&f, 0, 100);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 1000);
	for (i = 0; i < FTCP_ARRAY_SIZE(gaps); i++) {
		at += gaps[i] * SEC;
		s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 6 * SEC);
		expect_at(s, at);
	}
	tf_free(&f);
}

static void test_rto_doubles_up_to_60_seconds_by_default(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t at, gap = SEC;
	uint32_t i;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	at = tf_now(&f);
	app_send(&f, 0, 100);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 1000);
	for (i = 0; i < 9; i++) {
		at += gap;
		s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 61 * SEC);
		expect_at(s, at);
		gap = gap * 2 > 60 * SEC ? 60 * SEC : gap * 2;
	}
	tf_free(&f);
}

/* One exchange with the peer's ACK rtt_us after the data. */
static void timed_exchange(struct tf *f, uint32_t off, uint32_t len, uint64_t rtt_us)
{
	app_send(f, off, len);
	expect_data(f, TCP_A | TCP_P, 1 + off, 1, len, 1000);
	tf_expect_none(f, rtt_us);
	peer_ack(f, 1 + off + len);
	tf_advance(f, 1);
}

static void test_rto_from_an_rtt_sample_is_srtt_plus_four_rttvar(void)
{
	struct tf f;
	const struct tf_seg *s;
	struct ftcp_tcp_info i;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &OPTS_TS);
	timed_exchange(&f, 0, 100, 100000);
	i = tf_info(&f);
	ASSERT_EQ_U64(i.rtt_us, 100000); /* RFC 6298 2.2 */
	ASSERT_EQ_U64(i.rttvar_us, 50000);
	ASSERT_EQ_U64(i.rto_us, 300000);
	t0 = tf_now(&f);
	app_send(&f, 100, 100);
	expect_data(&f, TCP_A | TCP_P, 101, 1, 100, 1000);
	s = expect_data(&f, TCP_A | TCP_P, 101, 1, 100, 400000);
	expect_at(s, t0 + 300000);
	tf_free(&f);
}

static void test_rtt_smoothing_follows_rfc6298(void)
{
	struct tf f;
	const struct tf_seg *s;
	struct ftcp_tcp_info i;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &OPTS_TS);
	timed_exchange(&f, 0, 100, 100000);
	timed_exchange(&f, 100, 100, 200000);
	/* RFC 6298 2.3: RTTVAR = 3/4 50 + 1/4 |100 - 200| = 62.5 ms,
	 * SRTT = 7/8 100 + 1/8 200 = 112.5 ms, RTO = SRTT + 4 RTTVAR. */
	i = tf_info(&f);
	ASSERT_EQ_U64(i.rttvar_us, 62500);
	ASSERT_EQ_U64(i.rtt_us, 112500);
	ASSERT_EQ_U64(i.rto_us, 362500);
	t0 = tf_now(&f);
	app_send(&f, 200, 100);
	expect_data(&f, TCP_A | TCP_P, 201, 1, 100, 1000);
	s = expect_data(&f, TCP_A | TCP_P, 201, 1, 100, 400000);
	expect_at(s, t0 + 362500);
	tf_free(&f);
}

static void test_rto_has_a_200ms_floor(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &OPTS_TS);
	timed_exchange(&f, 0, 100, 10000);
	ASSERT_EQ_U64(tf_info(&f).rtt_us, 10000);
	ASSERT_EQ_U64(tf_info(&f).rto_us, 200000);
	t0 = tf_now(&f);
	app_send(&f, 100, 100);
	expect_data(&f, TCP_A | TCP_P, 101, 1, 100, 1000);
	s = expect_data(&f, TCP_A | TCP_P, 101, 1, 100, 300000);
	expect_at(s, t0 + 200000);
	/* Backoff from the floor: 400 ms. */
	s = expect_data(&f, TCP_A | TCP_P, 101, 1, 100, 500000);
	expect_at(s, t0 + 600000);
	tf_free(&f);
}

static void test_no_rtt_sample_from_a_retransmitted_segment(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = tf_now(&f);
	app_send(&f, 0, 100);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 1000);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 100, SEC + 1000);
	tf_expect_none(&f, 50000);
	peer_ack(&f, 101); /* original or retransmission? (Karn: no sample) */
	tf_advance(&f, 1);
	ASSERT_EQ_U64(tf_info(&f).rtt_us, 0);
	ASSERT_EQ_U64(tf_info(&f).rto_us, SEC);
	ASSERT_EQ_U64(tf_info(&f).backoff, 0);
	t0 = tf_now(&f);
	app_send(&f, 100, 100);
	expect_data(&f, TCP_A | TCP_P, 101, 1, 100, 1000);
	s = expect_data(&f, TCP_A | TCP_P, 101, 1, 100, SEC + 1000);
	expect_at(s, t0 + SEC);
	tf_free(&f);
}

static void test_rto_returns_to_base_after_new_data_is_acked(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = tf_now(&f);
	app_send(&f, 0, 100);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 1000);
	s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, SEC + 1000);
	expect_at(s, t0 + SEC);
	s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 2 * SEC + 1000);
	expect_at(s, t0 + 3 * SEC);
	ASSERT_EQ_U64(tf_info(&f).backoff, 2);
	peer_ack(&f, 101);
	tf_advance(&f, 1);
	ASSERT_EQ_U64(tf_info(&f).backoff, 0);
	ASSERT_EQ_U64(tf_info(&f).retransmits, 0);
	t0 = tf_now(&f);
	app_send(&f, 100, 100);
	expect_data(&f, TCP_A | TCP_P, 101, 1, 100, 1000);
	s = expect_data(&f, TCP_A | TCP_P, 101, 1, 100, SEC + 1000);
	expect_at(s, t0 + SEC);
	tf_free(&f);
}

static void test_rto_restarts_when_new_data_is_acked(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &OPTS_TS);
	t0 = tf_now(&f);
	app_send(&f, 0, 2 * MSS_TS);
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A | TCP_P, 1 + MSS_TS, 1, MSS_TS, 0);
	tf_expect_none(&f, 500000);
	peer_ack(&f, 1 + MSS_TS); /* RTT 500 ms: RTO 500 + 4 * 250 = 1.5 s */
	tf_advance(&f, 1);
	ASSERT_EQ_U64(tf_info(&f).rto_us, 1500000);
	/* RFC 6298 5.3: the timer restarts at the ACK, for the rest. */
	s = expect_data(&f, TCP_A | TCP_P, 1 + MSS_TS, 1, MSS_TS, 2 * SEC);
	expect_at(s, t0 + 500000 + 1500000);
	tf_free(&f);
}

static void test_sending_more_data_does_not_restart_the_rto(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_NODELAY, 1), 0);
	t0 = tf_now(&f);
	app_send(&f, 0, 10);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 10, 1000);
	tf_expect_none(&f, 300000);
	app_send(&f, 10, 10);
	expect_data(&f, TCP_A | TCP_P, 11, 1, 10, 1000);
	/* RFC 6298 5.1: the running timer is left alone; at its expiry
	 * everything unacknowledged goes again from the oldest byte. */
	s = expect_data(&f, TCP_A | TCP_P, 1, 1, 20, SEC);
	expect_at(s, t0 + SEC);
	tf_free(&f);
}

static void test_after_a_timeout_one_segment_then_slow_start(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = tf_now(&f);
	app_send(&f, 0, 3 * MSS_TS);
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 0);
	expect_data(&f, TCP_A | TCP_P, 1 + 2 * MSS_TS, 1, MSS_TS, 0);
	/* RFC 5681 3.1: the loss window is one segment. */
	s = expect_data(&f, TCP_A, 1, 1, MSS_TS, SEC + 1);
	expect_at(s, t0 + SEC);
	tf_expect_none(&f, 100000);
	ASSERT_EQ_U64(tf_info(&f).snd_cwnd, MSS_TS);
	ASSERT_EQ_U64(tf_info(&f).snd_ssthresh, 10 * MSS_TS * 7 / 10); /* CUBIC: beta * cwnd */
	peer_ack(&f, 1 + MSS_TS);
	expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A | TCP_P, 1 + 2 * MSS_TS, 1, MSS_TS, 0);
	ASSERT_EQ_U64(tf_info(&f).snd_cwnd, 2 * MSS_TS);
	tf_free(&f);
}

static void test_connection_times_out_after_tcp_retries(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0;
	uint8_t buf[8];

	tf_init(&f, retries3);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = tf_now(&f);
	app_send(&f, 0, 100);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 1000);
	s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 2 * SEC);
	expect_at(s, t0 + SEC);
	s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 3 * SEC);
	expect_at(s, t0 + 3 * SEC);
	s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 5 * SEC);
	expect_at(s, t0 + 7 * SEC);
	tf_advance(&f, t0 + 15 * SEC - 1 - tf_now(&f));
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_ESTABLISHED);
	CU_ASSERT(!(f.events & FTCP_EV_ERROR));
	tf_advance(&f, 1);
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT((f.events & (FTCP_EV_ERROR | FTCP_EV_CLOSED)) == (FTCP_EV_ERROR | FTCP_EV_CLOSED));
	ASSERT_EQ_U64(tf_counter(&f, "tcp_timeouts"), 1);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), -FTCP_ETIMEDOUT);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, f.sock), 0);
	tf_expect_none(&f, 10 * SEC); /* no reset: the peer is unreachable */
	tf_free(&f);
}

static void test_default_retries_give_up_after_15_retransmissions(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t0, at, gap = SEC;
	uint32_t n;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = at = tf_now(&f);
	app_send(&f, 0, 100);
	expect_data(&f, TCP_A | TCP_P, 1, 1, 100, 1000);
	for (n = 0; n < 15; n++) {
		at += gap;
		s = expect_data(&f, TCP_A | TCP_P, 1, 1, 100, gap + 1);
		expect_at(s, at);
		gap = gap * 2 > 60 * SEC ? 60 * SEC : gap * 2;
	}
	/* Dropped at the 16th timeout: 1 + 2 + ... + 32 + 10 * 60 = 663 s. */
	ASSERT_EQ_U64(at + gap - t0, 663 * SEC);
	tf_expect_none(&f, at + gap - 1 - tf_now(&f));
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_advance(&f, 1);
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_CLOSED);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_timeouts"), 1);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, f.sock), -FTCP_ETIMEDOUT);
	tf_free(&f);
}

/* ---- keepalive ---- */

/* A pure ACK from the peer at a known time: the idle clock starts. */
static uint64_t keepalive_setup(struct tf *f, bool set)
{
	uint64_t t;

	tf_init(f, cfg);
	tf_passive_open(f, &TF_OPTS_ALL);
	tf_advance(f, 1000);
	t = tf_now(f);
	peer_ack(f, 1);
	tf_advance(f, 1);
	if (set) {
		CU_ASSERT_EQUAL(ftcp_setsockopt(f->s, f->sock, FTCP_SO_KEEPIDLE, 10), 0);
		CU_ASSERT_EQUAL(ftcp_setsockopt(f->s, f->sock, FTCP_SO_KEEPINTVL, 2), 0);
		CU_ASSERT_EQUAL(ftcp_setsockopt(f->s, f->sock, FTCP_SO_KEEPCNT, 3), 0);
		CU_ASSERT_EQUAL(ftcp_setsockopt(f->s, f->sock, FTCP_SO_KEEPALIVE, 1), 0);
	}
	return t;
}

static const struct tf_seg *expect_keepalive(struct tf *f, uint32_t rack, uint64_t at)
{
	const struct tf_seg *s = tf_expect(f, TCP_A, 0, rack, at - tf_now(f) + 1);

	/* RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT - 1, no data. */
	ASSERT_EQ_U64(s->len, 0);
	expect_at(s, at);
	return s;
}

static void test_keepalive_is_off_by_default(void)
{
	struct tf f;
	int v = 1;

	(void)keepalive_setup(&f, false);
	CU_ASSERT(ftcp_getsockopt(f.s, f.sock, FTCP_SO_KEEPALIVE, &v) == 0 && v == 0);
	CU_ASSERT(ftcp_getsockopt(f.s, f.sock, FTCP_SO_KEEPIDLE, &v) == 0 && v == 7200);
	CU_ASSERT(ftcp_getsockopt(f.s, f.sock, FTCP_SO_KEEPINTVL, &v) == 0 && v == 75);
	CU_ASSERT(ftcp_getsockopt(f.s, f.sock, FTCP_SO_KEEPCNT, &v) == 0 && v == 9);
	tf_expect_none(&f, 3 * 3600 * SEC);
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_free(&f);
}

static void test_keepalive_default_idle_is_two_hours(void)
{
	struct tf f;
	uint64_t t = keepalive_setup(&f, false);

	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_KEEPALIVE, 1), 0);
	expect_keepalive(&f, 1, t + 7200 * SEC);
	expect_keepalive(&f, 1, t + (7200 + 75) * SEC);
	tf_free(&f);
}

static void test_keepalive_probes_then_drops_with_etimedout(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t = keepalive_setup(&f, true);

	expect_keepalive(&f, 1, t + 10 * SEC);
	expect_keepalive(&f, 1, t + 12 * SEC);
	expect_keepalive(&f, 1, t + 14 * SEC);
	/* KEEPCNT probes unanswered: reset and drop at the next interval. */
	s = tf_expect(&f, TCP_R | TCP_A, 1, 1, 2 * SEC + 1);
	expect_at(s, t + 16 * SEC);
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT(f.events & FTCP_EV_ERROR);
	CU_ASSERT(f.events & FTCP_EV_CLOSED);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, f.sock), -FTCP_ETIMEDOUT);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_keepalive_probes"), 3);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_keepalive_drops"), 1);
	tf_expect_none(&f, 100 * SEC);
	tf_free(&f);
}

static void test_keepalive_answer_resets_the_probe_count(void)
{
	struct tf f;
	const struct tf_seg *s;
	uint64_t t = keepalive_setup(&f, true);

	expect_keepalive(&f, 1, t + 10 * SEC);
	expect_keepalive(&f, 1, t + 12 * SEC);
	peer_ack(&f, 1); /* alive */
	/* Idle again from t + 12 s. */
	expect_keepalive(&f, 1, t + 22 * SEC);
	expect_keepalive(&f, 1, t + 24 * SEC);
	expect_keepalive(&f, 1, t + 26 * SEC);
	s = tf_expect(&f, TCP_R | TCP_A, 1, 1, 2 * SEC + 1);
	expect_at(s, t + 28 * SEC);
	ASSERT_EQ_U64(tf_counter(&f, "tcp_keepalive_probes"), 5);
	tf_free(&f);
}

static void test_traffic_postpones_the_first_keepalive_probe(void)
{
	struct tf f;
	uint64_t t = keepalive_setup(&f, true);

	tf_expect_none(&f, 6 * SEC - (tf_now(&f) - t));
	peer_data(&f, TCP_A | TCP_P, 1, 1, 1);
	tf_expect(&f, TCP_A, 1, 2, DELACK + 1);
	expect_keepalive(&f, 2, t + 16 * SEC);
	tf_free(&f);
}

static void test_keepalive_settings_are_inherited_from_the_listener(void)
{
	struct tf f;
	uint64_t t;

	tf_init(&f, cfg);
	tf_listen(&f);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.lsock, FTCP_SO_KEEPIDLE, 30), 0);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.lsock, FTCP_SO_KEEPINTVL, 5), 0);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.lsock, FTCP_SO_KEEPCNT, 2), 0);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.lsock, FTCP_SO_KEEPALIVE, 1), 0);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t = tf_now(&f) - 1; /* the handshake's ACK (tf_passive_open advanced 1 us) */
	expect_keepalive(&f, 1, t + 30 * SEC);
	expect_keepalive(&f, 1, t + 35 * SEC);
	tf_expect(&f, TCP_R | TCP_A, 1, 1, 5 * SEC + 1);
	expect_at(&f.last, t + 40 * SEC);
	tf_free(&f);
}

static void test_changing_keepidle_rearms_the_timer(void)
{
	struct tf f;
	uint64_t t = keepalive_setup(&f, false);

	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_KEEPALIVE, 1), 0);
	tf_expect_none(&f, 5 * SEC);
	/* Idle time counts from the last segment received, not from now. */
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_KEEPIDLE, 10), 0);
	expect_keepalive(&f, 1, t + 10 * SEC);
	expect_keepalive(&f, 1, t + 85 * SEC); /* the default interval, 75 s */
	tf_free(&f);
}

static void test_turning_keepalive_off_stops_the_probes(void)
{
	struct tf f;
	uint64_t t = keepalive_setup(&f, true);

	expect_keepalive(&f, 1, t + 10 * SEC);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_KEEPALIVE, 0), 0);
	tf_expect_none(&f, 3600 * SEC);
	ASSERT_EQ_U64(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_free(&f);
}

static void test_keepalive_option_ranges_are_checked(void)
{
	struct tf f;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_KEEPIDLE, 0), -FTCP_EINVAL);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_KEEPINTVL, -1), -FTCP_EINVAL);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_KEEPCNT, 0), -FTCP_EINVAL);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_KEEPCNT, 128), -FTCP_EINVAL);
	tf_free(&f);
}

/* ---- the send queue ---- */

static void test_send_takes_what_fits_then_eagain_then_writable(void)
{
	struct tf f;

	tf_init(&f, tx4k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	ASSERT_EQ_I64(ftcp_send(f.s, f.sock, pattern(0, 10000), 10000), 4096);
	ASSERT_EQ_I64(ftcp_send(f.s, f.sock, pattern(4096, 100), 100), -FTCP_EAGAIN);
	CU_ASSERT(!(ftcp_sock_readiness(f.s, f.sock) & FTCP_EV_WRITABLE));
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 0);
	f.events = 0;
	peer_ack(&f, 1 + 2 * MSS_TS);
	expect_data(&f, TCP_A | TCP_P, 1 + 2 * MSS_TS, 1, 4096 - 2 * MSS_TS, 1000);
	CU_ASSERT(f.events & FTCP_EV_WRITABLE);
	CU_ASSERT(ftcp_sock_readiness(f.s, f.sock) & FTCP_EV_WRITABLE);
	/* The freed room is reused across the end of the ring. */
	ASSERT_EQ_I64(ftcp_send(f.s, f.sock, pattern(4096, 10000), 10000), 2 * MSS_TS);
	peer_ack(&f, 4097);
	expect_data(&f, TCP_A, 4097, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A | TCP_P, 4097 + MSS_TS, 1, MSS_TS, 0);
	tf_free(&f);
}

/* A send that takes everything but leaves less than a quarter free turns
 * the readiness view unwritable without any EAGAIN: the ACK that frees
 * room must still report WRITABLE, or a poller sleeps for ever. */
static void test_send_that_fills_past_the_writable_level_reports_writable(void)
{
	struct tf f;

	tf_init(&f, tx4k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	ASSERT_EQ_I64(ftcp_send(f.s, f.sock, pattern(0, 3500), 3500), 3500);
	CU_ASSERT(!(ftcp_sock_readiness(f.s, f.sock) & FTCP_EV_WRITABLE));
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 0);
	f.events = 0;
	peer_ack(&f, 1 + 2 * MSS_TS);
	expect_data(&f, TCP_A | TCP_P, 1 + 2 * MSS_TS, 1, 3500 - 2 * MSS_TS, 1000);
	CU_ASSERT(f.events & FTCP_EV_WRITABLE);
	CU_ASSERT(ftcp_sock_readiness(f.s, f.sock) & FTCP_EV_WRITABLE);
	tf_free(&f);
}

static void test_sndbuf_limits_what_send_queues(void)
{
	struct tf f;
	int v = 0;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_SNDBUF, 3000), 0);
	CU_ASSERT(ftcp_getsockopt(f.s, f.sock, FTCP_SO_SNDBUF, &v) == 0 && v == 3000);
	ASSERT_EQ_I64(ftcp_send(f.s, f.sock, pattern(0, 5000), 5000), 3000);
	ASSERT_EQ_I64(ftcp_send(f.s, f.sock, pattern(3000, 10), 10), -FTCP_EAGAIN);
	CU_ASSERT(!(ftcp_sock_readiness(f.s, f.sock) & FTCP_EV_WRITABLE));
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 0);
	f.events = 0;
	peer_ack(&f, 1 + 2 * MSS_TS);
	expect_data(&f, TCP_A | TCP_P, 1 + 2 * MSS_TS, 1, 3000 - 2 * MSS_TS, 1000);
	CU_ASSERT(f.events & FTCP_EV_WRITABLE);
	ASSERT_EQ_I64(ftcp_send(f.s, f.sock, pattern(3000, 5000), 5000), 2 * MSS_TS);
	tf_free(&f);
}

static void test_writable_waits_for_a_quarter_of_sndbuf_free(void)
{
	struct tf f;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_SNDBUF, 4000), 0);
	app_send(&f, 0, 4000);
	ASSERT_EQ_I64(ftcp_send(f.s, f.sock, pattern(4000, 10), 10), -FTCP_EAGAIN);
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 0);
	f.events = 0;
	peer_ack(&f, 501); /* 500 bytes free: less than a quarter */
	tf_advance(&f, 1);
	CU_ASSERT(!(f.events & FTCP_EV_WRITABLE));
	CU_ASSERT(!(ftcp_sock_readiness(f.s, f.sock) & FTCP_EV_WRITABLE));
	peer_ack(&f, 1001);
	tf_advance(&f, 1);
	CU_ASSERT(f.events & FTCP_EV_WRITABLE);
	CU_ASSERT(ftcp_sock_readiness(f.s, f.sock) & FTCP_EV_WRITABLE);
	ASSERT_EQ_I64(ftcp_send(f.s, f.sock, pattern(4000, 5000), 5000), 1000);
	tf_free(&f);
}

static void test_send_queue_shrinks_as_data_is_acked(void)
{
	struct tf f;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	app_send(&f, 0, 5000);
	ASSERT_EQ_U64(tf_info(&f).send_queue, 5000);
	expect_data(&f, TCP_A, 1, 1, MSS_TS, 1000);
	expect_data(&f, TCP_A, 1 + MSS_TS, 1, MSS_TS, 0);
	expect_data(&f, TCP_A, 1 + 2 * MSS_TS, 1, MSS_TS, 0);
	ASSERT_EQ_U64(tf_info(&f).unacked, 3 * MSS_TS);
	peer_ack(&f, 1 + MSS_TS);
	tf_advance(&f, 1);
	ASSERT_EQ_U64(tf_info(&f).send_queue, 5000 - MSS_TS);
	peer_ack(&f, 1 + 3 * MSS_TS);
	expect_data(&f, TCP_A | TCP_P, 1 + 3 * MSS_TS, 1, 5000 - 3 * MSS_TS, 1000);
	ASSERT_EQ_U64(tf_info(&f).send_queue, 5000 - 3 * MSS_TS);
	peer_ack(&f, 5001);
	tf_advance(&f, 1);
	ASSERT_EQ_U64(tf_info(&f).send_queue, 0);
	ASSERT_EQ_U64(tf_info(&f).unacked, 0);
	ASSERT_EQ_U64(tf_info(&f).bytes_acked, 5000);
	tf_free(&f);
}

/* ---- reading ---- */

static void test_msg_peek_leaves_data_queued(void)
{
	struct tf f;
	char buf[32];

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_A | TCP_P, 1, 1, "hello world", 11);
	tf_advance(&f, 1);
	ASSERT_EQ_I64(ftcp_sock_rx_pending(f.s, f.sock), 11);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, 5, FTCP_MSG_PEEK), 5);
	CU_ASSERT(memcmp(buf, "hello", 5) == 0);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), FTCP_MSG_PEEK), 11);
	ASSERT_EQ_I64(ftcp_sock_rx_pending(f.s, f.sock), 11);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, 6, 0), 6);
	CU_ASSERT(memcmp(buf, "hello ", 6) == 0);
	ASSERT_EQ_I64(ftcp_sock_rx_pending(f.s, f.sock), 5);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 5);
	CU_ASSERT(memcmp(buf, "world", 5) == 0);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), -FTCP_EAGAIN);
	ASSERT_EQ_I64(ftcp_sock_rx_pending(f.s, f.sock), 0);
	tf_free(&f);
}

static void test_reads_stay_in_order_across_the_ring_wrap(void)
{
	struct tf f;
	uint8_t buf[700];
	uint32_t sent = 0, got = 0, total = 40000, guard;

	tf_init(&f, rx8k);
	tf_passive_open(&f, &TF_OPTS_ALL);
	for (guard = 0; got < total && guard < 2000; guard++) {
		uint32_t n = FTCP_MIN(1000u, total - sent);
		int r;
		if (sent < total && tf_info(&f).rcv_wnd >= n) {
			peer_data(&f, TCP_A, 1 + sent, 1, n);
			sent += n;
			tf_advance(&f, 1000);
		} else {
			tf_advance(&f, DELACK);
		}
		tf_drain(&f);
		r = ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0);
		if (r > 0) {
			CU_ASSERT_FATAL(is_pattern(buf, got, (uint32_t)r));
			got += (uint32_t)r;
		}
	}
	ASSERT_EQ_U64(got, total);
	ASSERT_EQ_U64(tf_info(&f).bytes_received, total);
	tf_free(&f);
}

static void test_end_of_stream_only_after_all_data_is_read(void)
{
	struct tf f;
	uint8_t buf[100];
	uint64_t t0;
	const struct tf_seg *s;

	tf_init(&f, cfg);
	tf_passive_open(&f, &TF_OPTS_ALL);
	t0 = tf_now(&f);
	peer_data(&f, TCP_F | TCP_A | TCP_P, 1, 1, 100);
	s = tf_expect(&f, TCP_A, 1, 102, 1000); /* a FIN is acknowledged at once */
	expect_at(s, t0);
	CU_ASSERT(f.events & FTCP_EV_RDHUP);
	ASSERT_EQ_I64(ftcp_sock_rx_pending(f.s, f.sock), 100);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, 60, 0), 60);
	CU_ASSERT(is_pattern(buf, 0, 60));
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 40);
	CU_ASSERT(is_pattern(buf, 60, 40));
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 0);
	ASSERT_EQ_I64(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 0);
	tf_free(&f);
}

static void test_tcp_info_after_a_transfer(void)
{
	struct tf f;
	struct ftcp_tcp_info i;
	uint32_t k;

	tf_init(&f, cfg);
	tf_passive_open(&f, &OPTS_TS);
	app_send(&f, 0, 10 * MSS_TS);
	for (k = 0; k < 10; k++)
		expect_data(&f, k == 9 ? TCP_A | TCP_P : TCP_A, 1 + k * MSS_TS, 1, MSS_TS, 1000);
	tf_expect_none(&f, 10000);
	peer_ack(&f, 1 + 10 * MSS_TS);
	tf_advance(&f, 1);
	i = tf_info(&f);
	ASSERT_EQ_U64(i.state, FTCP_TCP_ESTABLISHED);
	ASSERT_EQ_U64(i.options, FTCP_TCPI_OPT_TIMESTAMPS | FTCP_TCPI_OPT_WSCALE);
	ASSERT_EQ_U64(i.bytes_acked, 10 * MSS_TS);
	ASSERT_EQ_U64(i.segs_out, 11); /* the SYN-ACK and ten segments */
	ASSERT_EQ_U64(i.segs_in, 2);   /* the handshake's ACK and this one */
	ASSERT_EQ_U64(i.rtt_us, 10000);
	ASSERT_EQ_U64(i.rttvar_us, 5000);
	ASSERT_EQ_U64(i.rto_us, 200000);
	CU_ASSERT(i.snd_cwnd >= 10 * MSS_TS);
	ASSERT_EQ_U64(i.snd_cwnd, 12 * MSS_TS); /* RFC 3465: at most 2 SMSS per ACK */
	ASSERT_EQ_U64(i.unacked, 0);
	ASSERT_EQ_U64(i.send_queue, 0);
	ASSERT_EQ_U64(i.total_retrans, 0);
	ASSERT_EQ_U64(i.snd_mss, MSS_TS);
	ASSERT_EQ_U64(i.snd_wnd, 65535u << 7);
	tf_free(&f);
}

void register_tcp_flow_tests(void);
void register_tcp_flow_tests(void)
{
	FTCP_SUITE("tcp_flow",
	           /* segmentation */
	           FTCP_CASE(test_large_send_is_cut_into_mss_segments),
	           FTCP_CASE(test_without_timestamps_segments_carry_the_full_peer_mss),
	           FTCP_CASE(test_peer_mss_536_is_honoured),
	           FTCP_CASE(test_peer_mss_536_without_timestamps_gives_536_byte_segments),
	           FTCP_CASE(test_tiny_peer_mss_with_timestamps_is_floored),
	           FTCP_CASE(test_missing_mss_option_means_536),
	           FTCP_CASE(test_maxseg_caps_the_segment_size),
	           FTCP_CASE(test_maxseg_above_the_peer_mss_changes_nothing),
	           FTCP_CASE(test_small_sends_before_output_coalesce_into_one_segment),
	           FTCP_CASE(test_initial_window_is_ten_segments_then_acks_clock_out_more),
	           /* TCP segmentation offload */
	           FTCP_CASE(test_tso_new_data_leaves_as_one_frame_and_a_timeout_resends_one_segment),
	           FTCP_CASE(test_tso_short_tail_follows_nagle_and_the_fin_ends_the_frame),
	           FTCP_CASE(test_tso_frame_stays_within_the_peer_window),
	           FTCP_CASE(test_tso_segment_size_leaves_room_for_sack_blocks),
	           FTCP_CASE(test_no_tso_frame_without_device_segmentation_even_with_sack_blocks),
	           FTCP_CASE(test_tso_not_used_in_sack_recovery),
	           FTCP_CASE(test_tso_needs_the_device_cap_and_honours_tso_max_bytes),
	           /* the peer's window */
	           FTCP_CASE(test_segments_never_exceed_a_small_peer_window),
	           FTCP_CASE(test_tiny_peer_window_gets_window_sized_segments),
	           FTCP_CASE(test_peer_window_scale_is_applied),
	           FTCP_CASE(test_our_window_field_is_the_free_space_shifted),
	           FTCP_CASE(test_large_receive_buffer_announces_a_larger_shift),
	           FTCP_CASE(test_without_window_scaling_the_window_is_capped_at_65535),
	           /* Nagle */
	           FTCP_CASE(test_nagle_holds_a_small_send_while_data_is_unacknowledged),
	           FTCP_CASE(test_nagle_releases_held_bytes_as_one_segment),
	           FTCP_CASE(test_nodelay_sends_small_segments_at_once),
	           FTCP_CASE(test_setting_nodelay_pushes_held_data),
	           FTCP_CASE(test_nagle_never_holds_a_full_segment),
	           FTCP_CASE(test_nagle_does_not_hold_the_last_data_with_the_fin),
	           /* delayed ACKs */
	           FTCP_CASE(test_one_segment_is_acked_after_exactly_the_delack_time),
	           FTCP_CASE(test_delack_time_is_configurable),
	           FTCP_CASE(test_later_small_segments_do_not_restart_the_delack_timer),
	           FTCP_CASE(test_second_full_segment_is_acked_at_once),
	           FTCP_CASE(test_psh_does_not_force_an_immediate_ack),
	           FTCP_CASE(test_out_of_order_segment_gets_an_immediate_dupack_with_sack),
	           FTCP_CASE(test_sack_blocks_report_the_newest_range_first),
	           FTCP_CASE(test_filling_the_hole_acks_everything_at_once),
	           FTCP_CASE(test_out_of_order_without_sack_gets_a_plain_dupack),
	           FTCP_CASE(test_data_we_send_carries_the_delayed_ack),
	           /* the receive window */
	           FTCP_CASE(test_advertised_window_is_the_free_receive_buffer),
	           FTCP_CASE(test_rcvbuf_of_the_listener_limits_the_window),
	           FTCP_CASE(test_smaller_rcvbuf_on_a_connection_never_shrinks_the_window),
	           FTCP_CASE(test_zero_window_is_advertised_when_the_buffer_is_full),
	           FTCP_CASE(test_zero_window_probe_from_the_peer_is_answered),
	           FTCP_CASE(test_data_beyond_the_window_is_trimmed),
	           FTCP_CASE(test_segment_wholly_beyond_the_window_is_dropped_and_acked),
	           FTCP_CASE(test_receiver_sws_keeps_the_window_shut_until_an_mss_is_free),
	           FTCP_CASE(test_reading_a_full_buffer_sends_a_window_update_at_once),
	           FTCP_CASE(test_window_update_after_two_segments_are_read),
	           FTCP_CASE(test_duplicate_segment_is_acked_at_once),
	           FTCP_CASE(test_overlapping_segment_adds_only_the_new_bytes),
	           /* persist */
	           FTCP_CASE(test_zero_window_stops_sending_and_probes_back_off),
	           FTCP_CASE(test_zero_window_probes_go_on_while_answered),
	           FTCP_CASE(test_opened_window_resumes_sending_at_once),
	           FTCP_CASE(test_window_update_without_a_probe_resumes_sending),
	           FTCP_CASE(test_accepted_probe_byte_moves_the_probe_on),
	           FTCP_CASE(test_unanswered_zero_window_probes_time_out),
	           FTCP_CASE(test_fin_waits_behind_data_held_by_a_zero_window),
	           FTCP_CASE(test_small_usable_window_is_used_after_the_persist_timeout),
	           /* retransmission timeout */
	           FTCP_CASE(test_first_rto_is_one_second_before_any_rtt_sample),
	           FTCP_CASE(test_rto_doubles_up_to_the_configured_maximum),
	           FTCP_CASE(test_rto_doubles_up_to_60_seconds_by_default),
	           FTCP_CASE(test_rto_from_an_rtt_sample_is_srtt_plus_four_rttvar),
	           FTCP_CASE(test_rtt_smoothing_follows_rfc6298),
	           FTCP_CASE(test_rto_has_a_200ms_floor),
	           FTCP_CASE(test_no_rtt_sample_from_a_retransmitted_segment),
	           FTCP_CASE(test_rto_returns_to_base_after_new_data_is_acked),
	           FTCP_CASE(test_rto_restarts_when_new_data_is_acked),
	           FTCP_CASE(test_sending_more_data_does_not_restart_the_rto),
	           FTCP_CASE(test_after_a_timeout_one_segment_then_slow_start),
	           FTCP_CASE(test_connection_times_out_after_tcp_retries),
	           FTCP_CASE(test_default_retries_give_up_after_15_retransmissions),
	           /* keepalive */
	           FTCP_CASE(test_keepalive_is_off_by_default),
	           FTCP_CASE(test_keepalive_default_idle_is_two_hours),
	           FTCP_CASE(test_keepalive_probes_then_drops_with_etimedout),
	           FTCP_CASE(test_keepalive_answer_resets_the_probe_count),
	           FTCP_CASE(test_traffic_postpones_the_first_keepalive_probe),
	           FTCP_CASE(test_keepalive_settings_are_inherited_from_the_listener),
	           FTCP_CASE(test_changing_keepidle_rearms_the_timer),
	           FTCP_CASE(test_turning_keepalive_off_stops_the_probes),
	           FTCP_CASE(test_keepalive_option_ranges_are_checked),
	           /* queues */
	           FTCP_CASE(test_send_takes_what_fits_then_eagain_then_writable),
	           FTCP_CASE(test_send_that_fills_past_the_writable_level_reports_writable),
	           FTCP_CASE(test_sndbuf_limits_what_send_queues),
	           FTCP_CASE(test_writable_waits_for_a_quarter_of_sndbuf_free),
	           FTCP_CASE(test_send_queue_shrinks_as_data_is_acked),
	           FTCP_CASE(test_msg_peek_leaves_data_queued),
	           FTCP_CASE(test_reads_stay_in_order_across_the_ring_wrap),
	           FTCP_CASE(test_end_of_stream_only_after_all_data_is_read),
	           FTCP_CASE(test_tcp_info_after_a_transfer));
}
