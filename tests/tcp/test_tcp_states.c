/*
 * test_tcp_states.c — connection establishment, state transitions and every
 * close path, segment by segment (RFC 9293 3.10, with RFC 5961, RFC 1337,
 * RFC 6191 and RFC 4987 where they refine it).
 *
 * Timing is exact where the configuration defines it: the initial RTO is
 * 1 s and doubles per timeout up to 60 s (RFC 6298 5.5), TIME_WAIT lasts
 * 2 * tcp_msl_us, an orphaned FIN_WAIT_2 lasts tcp_fin_wait2_us. Segments
 * from peers on ports other than TF_PEER_PORT are built here (inject_from)
 * and checked with absolute numbers (expect_to).
 */
#include <stddef.h>
#include <string.h>

#include "tcp_fixture.h"

#define SEC 1000000ull

/* ---- helpers ---- */

static void ev_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct tf *f = user;
	(void)s;
	if (sock == f->sock)
		f->events |= ev;
	else if (sock == f->lsock)
		f->lsock_events |= ev;
}

static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static uint32_t in_use(const struct tf *f)
{
	struct ftcp_pool_stats ps;
	ftcp_stack_pool_stats(f->s, &ps);
	return ps.sockets_in_use;
}

/* A listener on TF_LOCAL_PORT with the given accept backlog. */
static void listen_on(struct tf *f, int backlog)
{
	struct ftcp_sockaddr a = {0, TF_LOCAL_PORT};

	f->lsock = ftcp_tcp_open(f->s, ev_cb, f);
	CU_ASSERT_FATAL(f->lsock >= 0);
	CU_ASSERT_FATAL(ftcp_bind(f->s, f->lsock, &a) == 0);
	CU_ASSERT_FATAL(ftcp_listen(f->s, f->lsock, backlog) == 0);
}

static struct ftcp_tcp_opts mss_opt(uint16_t mss)
{
	struct ftcp_tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_mss = true;
	o.mss = mss;
	return o;
}

static void flags_txt(uint8_t fl, char *b)
{
	b[0] = fl & TCP_S ? 'S' : '.';
	b[1] = fl & TCP_F ? 'F' : '.';
	b[2] = fl & TCP_R ? 'R' : '.';
	b[3] = fl & TCP_P ? 'P' : '.';
	b[4] = fl & TCP_A ? 'A' : '.';
	b[5] = 0;
}

/* The next segment, to dport, with these flags and ack (if ACK is set);
 * any sequence number. Fails the test otherwise. */
static const struct tf_seg *recv_to(struct tf *f, uint16_t dport, uint8_t flags, uint32_t ack,
                                    uint64_t max_us)
{
	static struct tf_seg seg;
	char want[8], got[8];

	flags_txt(flags, want);
	if (!tf_recv(f, &seg, max_us)) {
		fprintf(stderr, "\n  expected [%s] to port %u within %llu us: nothing sent\n", want,
		        dport, (unsigned long long)max_us);
		CU_FAIL("expected a segment, the stack sent none");
		memset(&seg, 0, offsetof(struct tf_seg, data));
		return &seg;
	}
	flags_txt(seg.flags, got);
	if (seg.flags != flags || seg.dport != dport || ((flags & TCP_A) && seg.ack != ack)) {
		fprintf(stderr, "\n  expected [%s] to %u ack %u, got [%s] to %u seq %u ack %u\n", want,
		        dport, ack, got, seg.dport, seg.seq, seg.ack);
		CU_FAIL("segment differs from the script");
	}
	return &seg;
}

/* The same with an absolute sequence number checked too. */
static const struct tf_seg *expect_to(struct tf *f, uint16_t dport, uint8_t flags, uint32_t seq,
                                      uint32_t ack, uint64_t max_us)
{
	const struct tf_seg *s = recv_to(f, dport, flags, ack, max_us);
	if (s->flags && s->seq != seq) {
		fprintf(stderr, "\n  expected seq %u, got %u\n", seq, s->seq);
		CU_FAIL("sequence number differs from the script");
	}
	return s;
}

/* Record what was negotiated, as the fixture does, so tf_send adds
 * timestamps and windows right. */
static void note_negotiated(struct tf *f, const struct tf_opts *o, const struct tf_seg *s)
{
	f->ts = o->ts && s->opt.has_ts;
	f->sack = o->sack && s->opt.sack_ok;
	f->peer_shift = o->wscale && s->opt.has_wscale ? o->shift : 0;
	f->peer_window = o->window;
}

/* Peer SYN (options o) to the listener (made if needed, backlog 16) and
 * the SYN-ACK: a child in SYN_RECEIVED; f->siss learnt. */
static void half_open(struct tf *f, const struct tf_opts *o)
{
	struct ftcp_tcp_opts syn;
	struct tf_seg s;

	if (f->lsock < 0)
		listen_on(f, 16);
	syn = tf_syn_opts(f, o);
	tf_inject(f, TCP_S, f->piss, 0, o->window, &syn, NULL, 0);
	CU_ASSERT_FATAL(tf_recv(f, &s, 10000));
	CU_ASSERT_FATAL(s.flags == (TCP_S | TCP_A));
	CU_ASSERT_FATAL(s.ack == f->piss + 1);
	CU_ASSERT_FATAL(s.dport == TF_PEER_PORT);
	f->siss = s.seq;
	s.rseq = 0;
	f->last = s;
	note_negotiated(f, o, &s);
}

/* accept the next connection into f->sock. */
static void accept_sock(struct tf *f)
{
	struct ftcp_sockaddr peer;

	f->sock = ftcp_accept(f->s, f->lsock, ev_cb, f, &peer);
	CU_ASSERT_FATAL(f->sock >= 0);
	CU_ASSERT(peer.addr == TF_PEER_IP);
}

/* connect from TF_LOCAL_PORT to the peer: the SYN; f->siss learnt. */
static void start_connect(struct tf *f)
{
	struct ftcp_sockaddr to = {TF_PEER_IP, TF_PEER_PORT}, me = {0, TF_LOCAL_PORT};
	struct tf_seg s;

	f->sock = ftcp_tcp_open(f->s, ev_cb, f);
	CU_ASSERT_FATAL(f->sock >= 0);
	CU_ASSERT_FATAL(ftcp_bind(f->s, f->sock, &me) == 0);
	CU_ASSERT_FATAL(ftcp_connect(f->s, f->sock, &to) == -FTCP_EINPROGRESS);
	CU_ASSERT_FATAL(tf_recv(f, &s, 10000));
	CU_ASSERT_FATAL(s.flags == TCP_S);
	f->siss = s.seq;
	s.rseq = 0;
	f->last = s;
}

/* The options a SYN-ACK (or simultaneous SYN) from the peer carries: o,
 * less what our SYN did not offer. */
static struct ftcp_tcp_opts answer_opts(struct tf *f, const struct tf_opts *o,
                                        const struct tf_seg *our_syn)
{
	struct ftcp_tcp_opts x = tf_syn_opts(f, o);
	if (!our_syn->opt.has_wscale)
		x.has_wscale = false;
	if (!our_syn->opt.sack_ok)
		x.sack_ok = false;
	if (!our_syn->opt.has_ts)
		x.has_ts = false;
	x.ts_ecr = our_syn->opt.ts_val;
	return x;
}

/* Passive open, then close() (orphan): FIN, the peer's FIN+ACK, our ACK:
 * the connection in TIME_WAIT with no handle. */
/* The same, the peer's FIN sent wait_us after ours; returns the timestamp
 * that FIN carried. */
static uint32_t orphan_time_wait_after(struct tf *f, const struct tf_opts *o, uint64_t wait_us)
{
	uint32_t fin_ts;

	tf_passive_open(f, o);
	CU_ASSERT_EQUAL(ftcp_close(f->s, f->sock), 0);
	f->sock = -1;
	tf_expect(f, TCP_F | TCP_A, 1, 1, 1000);
	if (wait_us)
		tf_advance(f, wait_us);
	fin_ts = tf_ts_opts(f).ts_val;
	tf_send(f, TCP_F | TCP_A, 1, 2, NULL, 0);
	tf_expect(f, TCP_A, 2, 2, 1000);
	CU_ASSERT_EQUAL(in_use(f), 2); /* the listener and the TIME_WAIT */
	return fin_ts;
}

static void orphan_time_wait(struct tf *f, const struct tf_opts *o)
{
	(void)orphan_time_wait_after(f, o, 0);
}

/* The scripted peer does not answer ARP: for runs longer than a minute
 * its entry must outlive the test. */
static void arp_forever(struct ftcp_config *c)
{
	c->arp_reachable_us = 3600u * 1000000u;
}

static void msl_1s(struct ftcp_config *c)
{
	c->tcp_msl_us = 1000000;
}

static void syn_backlog_1(struct ftcp_config *c)
{
	c->tcp_syn_backlog = 1;
}

static void syn_backlog_1_no_cookies(struct ftcp_config *c)
{
	c->tcp_syn_backlog = 1;
	c->tcp_syncookies = false;
}

static void no_cookies(struct ftcp_config *c)
{
	c->tcp_syncookies = false;
}

static void syn_retries_2(struct ftcp_config *c)
{
	c->tcp_syn_retries = 2;
}

static void fin_wait2_5s(struct ftcp_config *c)
{
	c->tcp_fin_wait2_us = 5000000;
}

/* ---- passive open: LISTEN and SYN_RECEIVED ---- */

static void test_syn_to_listener_makes_syn_received_child_and_synack(void)
{
	struct tf f;
	struct ftcp_sockaddr peer;

	tf_init(&f, NULL);
	listen_on(&f, 16);
	CU_ASSERT_EQUAL(tf_info(&f).state, 0xff); /* no f.sock yet */
	{
		struct ftcp_tcp_info li;
		CU_ASSERT_EQUAL(ftcp_tcp_info(f.s, f.lsock, &li), 0);
		CU_ASSERT_EQUAL(li.state, FTCP_TCP_LISTEN);
	}
	half_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(f.last.win, 65535);
	CU_ASSERT(f.last.opt.has_mss && f.last.opt.mss == 1460);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_passive_opens"), 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_established"), 0);
	/* Nothing to accept before the handshake completes. */
	CU_ASSERT_EQUAL(ftcp_accept(f.s, f.lsock, ev_cb, &f, &peer), -FTCP_EAGAIN);
	CU_ASSERT(!(f.lsock_events & FTCP_EV_READABLE));
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT(f.lsock_events & FTCP_EV_READABLE);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_established"), 1);
	accept_sock(&f);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_ESTABLISHED);
	/* The SYN-ACK is not retransmitted any more. */
	tf_expect_none(&f, 10 * SEC);
	tf_free(&f);
}

static void test_duplicate_syn_in_syn_received_resends_the_same_synack(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn;

	tf_init(&f, NULL);
	half_open(&f, &TF_OPTS_ALL);
	tf_advance(&f, 200000);
	syn = tf_syn_opts(&f, &TF_OPTS_ALL);
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &syn, NULL, 0);
	tf_expect(&f, TCP_S | TCP_A, 0, 1, 1000);
	CU_ASSERT(f.last.opt.has_mss && f.last.opt.has_wscale && f.last.opt.sack_ok);
	CU_ASSERT(f.last.opt.has_ts);
	CU_ASSERT_EQUAL(in_use(&f), 2); /* still the one child */
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_advance(&f, 1);
	accept_sock(&f);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_free(&f);
}

static void test_synack_retransmitted_at_1_2_4_8_16_32_seconds(void)
{
	struct tf f;
	uint64_t prev;
	unsigned i;

	tf_init(&f, arp_forever);
	half_open(&f, &TF_OPTS_ALL);
	for (i = 0; i < 6; i++) {
		uint64_t gap = SEC << i;
		const struct tf_seg *s;
		prev = f.last.at_us;
		s = tf_expect(&f, TCP_S | TCP_A, 0, 1, gap + 1000);
		ASSERT_EQ_U64(s->at_us - prev, gap);
		CU_ASSERT(s->opt.has_mss && s->opt.mss == 1460 && s->opt.has_wscale &&
		          s->opt.sack_ok && s->opt.has_ts);
	}
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_retrans_segs"), 6);
	/* A late ACK still completes the handshake. */
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_advance(&f, 1);
	accept_sock(&f);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_free(&f);
}

static void test_syn_received_gives_up_after_syn_retries_listener_unaffected(void)
{
	struct tf f;
	uint64_t t0;
	unsigned i;
	struct ftcp_tcp_opts syn = mss_opt(1460);

	tf_init(&f, arp_forever);
	half_open(&f, &TF_OPTS_NONE);
	t0 = f.last.at_us;
	for (i = 0; i < 6; i++)
		tf_expect(&f, TCP_S | TCP_A, 0, 1, (SEC << i) + 1000);
	ASSERT_EQ_U64(f.last.at_us - t0, 63 * SEC);
	/* The next timeout (1 s << 6 = 64 s, capped at the 60 s maximum)
	 * ends it: silently, the child freed. */
	tf_expect_none(&f, 60 * SEC - 1);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_timeouts"), 1);
	tf_expect_none(&f, 10 * SEC);
	/* The peer's late ACK finds no connection: reset (RFC 9293 3.10.7.2). */
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_expect(&f, TCP_R, 1, 0, 1000);
	/* The listener still works. */
	tf_inject_from(&f, 40001, TCP_S, 5000, 0, 65535, &syn, NULL, 0);
	recv_to(&f, 40001, TCP_S | TCP_A, 5001, 1000);
	tf_free(&f);
}

/* A socket whose connection ended cleanly (LAST_ACK answered) is still
 * "connected" in the socket API's sense: connecting it again is refused
 * (EISCONN, as Linux), not run on the old connection's state. */
static void test_reconnect_after_close_is_refused(void)
{
	struct tf f;
	struct ftcp_sockaddr to = {TF_PEER_IP, 40001};

	tf_init(&f, NULL);
	tf_active_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_F | TCP_A, 1, 1, NULL, 0);
	tf_expect(&f, TCP_A, 1, 2, 1000);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 2, 1000);
	tf_send(&f, TCP_A, 2, 2, NULL, 0);
	tf_advance(&f, 1000);
	CU_ASSERT_EQUAL_FATAL(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT_EQUAL(ftcp_connect(f.s, f.sock, &to), -FTCP_EISCONN);
	tf_expect_none(&f, 10000);
	tf_free(&f);
}

static void test_syn_retries_setting_bounds_synack_retransmissions(void)
{
	struct tf f;
	uint64_t t0;

	tf_init(&f, syn_retries_2);
	half_open(&f, &TF_OPTS_NONE);
	t0 = f.last.at_us;
	tf_expect(&f, TCP_S | TCP_A, 0, 1, SEC + 1000);
	ASSERT_EQ_U64(f.last.at_us - t0, SEC);
	tf_expect(&f, TCP_S | TCP_A, 0, 1, 2 * SEC + 1000);
	ASSERT_EQ_U64(f.last.at_us - t0, 3 * SEC);
	tf_expect_none(&f, 4 * SEC - 1);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_free(&f);
}

static void test_syn_received_bad_ack_gets_rst_with_seq_seg_ack(void)
{
	struct tf f;

	tf_init(&f, NULL);
	half_open(&f, &TF_OPTS_NONE);
	/* Acknowledges data never sent (3.10.7.4, SYN-RECEIVED). */
	tf_send(&f, TCP_A, 1, 5, NULL, 0);
	tf_expect(&f, TCP_R, 5, 0, 1000);
	/* Acknowledges nothing (SEG.ACK = ISS is not > SND.UNA). */
	tf_send(&f, TCP_A, 1, 0, NULL, 0);
	tf_expect(&f, TCP_R, 0, 0, 1000);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_established"), 0);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	/* The half-open connection is still there: the right ACK completes it. */
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_advance(&f, 1);
	accept_sock(&f);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_free(&f);
}

static void test_rst_in_syn_received_removes_child_silently(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn;

	tf_init(&f, NULL);
	half_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_R, 1, 0, NULL, 0);
	tf_expect_none(&f, 5 * SEC); /* no answer, no more SYN-ACKs */
	CU_ASSERT_EQUAL(in_use(&f), 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_resets_rx"), 1);
	{
		struct ftcp_sockaddr peer;
		CU_ASSERT_EQUAL(ftcp_accept(f.s, f.lsock, ev_cb, &f, &peer), -FTCP_EAGAIN);
	}
	/* Back to LISTEN: the same peer may try again. */
	f.piss += 5000;
	syn = tf_syn_opts(&f, &TF_OPTS_ALL);
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &syn, NULL, 0);
	recv_to(&f, TF_PEER_PORT, TCP_S | TCP_A, f.piss + 1, 1000);
	tf_free(&f);
}

static void test_rst_in_syn_received_not_at_rcv_nxt_gets_challenge_ack(void)
{
	struct tf f;

	tf_init(&f, NULL);
	half_open(&f, &TF_OPTS_NONE);
	/* In the window but not RCV.NXT (RFC 5961 3.2): challenge ACK. */
	tf_send(&f, TCP_R, 101, 0, NULL, 0);
	tf_expect(&f, TCP_A, 1, 1, 1000);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_challenge_acks"), 1);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_advance(&f, 1);
	accept_sock(&f);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_free(&f);
}

static void test_data_on_final_handshake_ack_is_delivered_after_accept(void)
{
	struct tf f;
	char buf[16];

	tf_init(&f, NULL);
	half_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_A | TCP_P, 1, 1, "hello", 5);
	tf_advance(&f, 1);
	CU_ASSERT(f.lsock_events & FTCP_EV_READABLE);
	accept_sock(&f);
	tf_advance(&f, 1);
	CU_ASSERT(f.events & FTCP_EV_READABLE);
	CU_ASSERT_EQUAL(tf_info(&f).recv_queue, 5);
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 5);
	CU_ASSERT(memcmp(buf, "hello", 5) == 0);
	/* One small segment: a delayed ACK, at most 40 ms after it came. */
	tf_expect(&f, TCP_A, 1, 6, 41000);
	tf_free(&f);
}

static void test_fin_on_final_handshake_ack_gives_close_wait_child(void)
{
	struct tf f;
	char buf[8];

	tf_init(&f, NULL);
	half_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_F | TCP_A, 1, 1, NULL, 0);
	tf_expect(&f, TCP_A, 1, 2, 1000); /* the FIN is acknowledged at once */
	accept_sock(&f);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSE_WAIT);
	tf_advance(&f, 1);
	CU_ASSERT((f.events & (FTCP_EV_READABLE | FTCP_EV_RDHUP)) ==
	          (FTCP_EV_READABLE | FTCP_EV_RDHUP));
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 0);
	/* Our side is still open. */
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "x", 1), 1);
	tf_expect(&f, TCP_A | TCP_P, 1, 2, 1000);
	tf_free(&f);
}

static void test_syn_carrying_data_is_acknowledged_for_the_syn_only(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn;

	tf_init(&f, NULL);
	listen_on(&f, 16);
	syn = tf_syn_opts(&f, &TF_OPTS_NONE);
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &syn, "early", 5);
	recv_to(&f, TF_PEER_PORT, TCP_S | TCP_A, f.piss + 1, 1000);
	tf_free(&f);
}

static void test_listener_ignores_rst_and_segments_without_syn_or_ack(void)
{
	struct tf f;

	tf_init(&f, NULL);
	listen_on(&f, 16);
	tf_inject(&f, TCP_R, f.piss, 0, 0, NULL, NULL, 0);
	tf_inject(&f, TCP_R | TCP_A, f.piss, 777, 0, NULL, NULL, 0);
	tf_inject(&f, TCP_F, f.piss, 0, 65535, NULL, NULL, 0);
	tf_inject(&f, TCP_P, f.piss, 0, 65535, NULL, "data", 4);
	tf_expect_none(&f, SEC);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_tx_rst"), 0);
	tf_free(&f);
}

static void test_listener_answers_ack_and_synack_with_rst_seq_seg_ack(void)
{
	struct tf f;

	tf_init(&f, no_cookies);
	listen_on(&f, 16);
	/* RFC 9293 3.10.7.2: any ACK in LISTEN is bad: <SEQ=SEG.ACK><CTL=RST>. */
	tf_inject(&f, TCP_A, f.piss, 123456, 65535, NULL, NULL, 0);
	tf_expect(&f, TCP_R, 123456, 0, 1000);
	tf_inject(&f, TCP_S | TCP_A, f.piss, 99999, 65535, NULL, NULL, 0);
	tf_expect(&f, TCP_R, 99999, 0, 1000);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_free(&f);
}

/* ---- active open: SYN_SENT ---- */

static void test_connect_sends_syn_with_options_and_enters_syn_sent(void)
{
	struct tf f;
	char buf[4];

	tf_init(&f, NULL);
	start_connect(&f);
	CU_ASSERT_EQUAL(f.last.flags, TCP_S);
	CU_ASSERT_EQUAL(f.last.win, 65535);
	CU_ASSERT(f.last.opt.has_mss && f.last.opt.mss == 1460);
	CU_ASSERT(f.last.opt.has_wscale && f.last.opt.wscale == 1);
	CU_ASSERT(f.last.opt.sack_ok);
	CU_ASSERT(f.last.opt.has_ts && f.last.opt.ts_ecr == 0);
	CU_ASSERT_EQUAL(f.last.len, 0);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_SYN_SENT);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "x", 1), -FTCP_EAGAIN);
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), -FTCP_EAGAIN);
	CU_ASSERT_EQUAL(ftcp_connect(f.s, f.sock, &(struct ftcp_sockaddr){TF_PEER_IP, TF_PEER_PORT}),
	                -FTCP_EALREADY);
	CU_ASSERT(!(f.events & FTCP_EV_WRITABLE));
	tf_free(&f);
}

static void test_syn_retransmitted_with_backoff_then_etimedout(void)
{
	struct tf f;
	unsigned i;
	uint64_t t0;

	tf_init(&f, arp_forever);
	start_connect(&f);
	t0 = f.last.at_us;
	for (i = 0; i < 6; i++) {
		uint64_t prev = f.last.at_us;
		const struct tf_seg *s = tf_expect(&f, TCP_S, 0, 0, (SEC << i) + 1000);
		ASSERT_EQ_U64(s->at_us - prev, SEC << i);
		CU_ASSERT(s->opt.has_mss && s->opt.has_ts && s->opt.ts_ecr == 0);
	}
	ASSERT_EQ_U64(f.last.at_us - t0, 63 * SEC);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_SYN_SENT);
	CU_ASSERT(!(f.events & FTCP_EV_ERROR));
	/* 64 s capped to the 60 s maximum, then ETIMEDOUT, nothing sent. */
	tf_expect_none(&f, 60 * SEC - 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_SYN_SENT);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT((f.events & (FTCP_EV_ERROR | FTCP_EV_CLOSED)) == (FTCP_EV_ERROR | FTCP_EV_CLOSED));
	CU_ASSERT_EQUAL(ftcp_sock_error(f.s, f.sock), -FTCP_ETIMEDOUT);
	CU_ASSERT_EQUAL(ftcp_sock_error(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_timeouts"), 1);
	tf_expect_none(&f, 10 * SEC);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(in_use(&f), 0);
	tf_free(&f);
}

static void test_syn_retries_setting_bounds_syn_retransmissions(void)
{
	struct tf f;
	uint64_t t0;

	tf_init(&f, syn_retries_2);
	start_connect(&f);
	t0 = f.last.at_us;
	tf_expect(&f, TCP_S, 0, 0, SEC + 1000);
	tf_expect(&f, TCP_S, 0, 0, 2 * SEC + 1000);
	ASSERT_EQ_U64(f.last.at_us - t0, 3 * SEC);
	tf_expect_none(&f, 4 * SEC - 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_SYN_SENT);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT_EQUAL(ftcp_sock_error(f.s, f.sock), -FTCP_ETIMEDOUT);
	tf_free(&f);
}

static void test_connect_to_neighbour_that_never_answers_arp_times_out(void)
{
	struct tf f;
	struct ftcp_sockaddr to = {IP4(10, 0, 0, 3), 80};
	uint64_t t0;

	tf_init(&f, NULL);
	f.sock = ftcp_tcp_open(f.s, ev_cb, &f);
	CU_ASSERT_FATAL(f.sock >= 0);
	t0 = tf_now(&f);
	CU_ASSERT_EQUAL(ftcp_connect(f.s, f.sock, &to), -FTCP_EINPROGRESS);
	/* No SYN can leave, yet the SYN timer runs as if it had: ETIMEDOUT
	 * after the same 1+2+4+8+16+32+60 s, not a connection stuck in
	 * SYN_SENT for ever. */
	tf_expect_none(&f, 123 * SEC - 1);
	CU_ASSERT(f.unexpected > 0); /* ARP requests only */
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_SYN_SENT);
	tf_advance(&f, t0 + 123 * SEC - tf_now(&f));
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT_EQUAL(ftcp_sock_error(f.s, f.sock), -FTCP_ETIMEDOUT);
	CU_ASSERT(f.events & FTCP_EV_ERROR);
	tf_free(&f);
}

static void test_synack_with_bad_ack_in_syn_sent_gets_rst_then_good_one_connects(void)
{
	struct tf f;
	struct ftcp_tcp_opts o;

	tf_init(&f, NULL);
	start_connect(&f);
	o = answer_opts(&f, &TF_OPTS_NONE, &f.last);
	/* SEG.ACK > SND.NXT: <SEQ=SEG.ACK><CTL=RST>, state unchanged. */
	tf_inject(&f, TCP_S | TCP_A, f.piss, f.siss + 10, 65535, &o, NULL, 0);
	tf_expect(&f, TCP_R, 10, 0, 1000);
	/* SEG.ACK =< ISS: the same. */
	tf_inject(&f, TCP_S | TCP_A, f.piss, f.siss, 65535, &o, NULL, 0);
	tf_expect(&f, TCP_R, 0, 0, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_SYN_SENT);
	tf_inject(&f, TCP_S | TCP_A, f.piss, f.siss + 1, 65535, &o, NULL, 0);
	tf_expect(&f, TCP_A, 1, 1, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_advance(&f, 1);
	CU_ASSERT(f.events & FTCP_EV_WRITABLE);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_active_opens"), 1);
	tf_free(&f);
}

static void test_rst_with_acceptable_ack_in_syn_sent_is_econnrefused(void)
{
	struct tf f;

	tf_init(&f, NULL);
	start_connect(&f);
	tf_inject(&f, TCP_R | TCP_A, 0, f.siss + 1, 0, NULL, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT((f.events & (FTCP_EV_ERROR | FTCP_EV_CLOSED)) == (FTCP_EV_ERROR | FTCP_EV_CLOSED));
	CU_ASSERT_EQUAL(ftcp_sock_error(f.s, f.sock), -FTCP_ECONNREFUSED);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_resets_rx"), 1);
	/* No answer, no SYN retransmission. */
	tf_expect_none(&f, 10 * SEC);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(in_use(&f), 0);
	tf_free(&f);
}

static void test_rst_without_ack_or_with_bad_ack_in_syn_sent_is_ignored(void)
{
	struct tf f;
	struct ftcp_tcp_opts o;

	tf_init(&f, NULL);
	start_connect(&f);
	o = answer_opts(&f, &TF_OPTS_NONE, &f.last);
	tf_inject(&f, TCP_R, f.piss, 0, 0, NULL, NULL, 0);
	tf_inject(&f, TCP_R | TCP_A, f.piss, f.siss + 5, 0, NULL, NULL, 0);
	tf_expect_none(&f, 500000); /* never answer a reset */
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_SYN_SENT);
	CU_ASSERT(!(f.events & FTCP_EV_ERROR));
	tf_inject(&f, TCP_S | TCP_A, f.piss, f.siss + 1, 65535, &o, NULL, 0);
	tf_expect(&f, TCP_A, 1, 1, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_free(&f);
}

static void test_ack_without_syn_in_syn_sent(void)
{
	struct tf f;

	tf_init(&f, NULL);
	start_connect(&f);
	/* Acceptable ACK, neither SYN nor RST: dropped. */
	tf_inject(&f, TCP_A, f.piss, f.siss + 1, 65535, NULL, NULL, 0);
	tf_expect_none(&f, 500000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_SYN_SENT);
	/* Unacceptable ACK: <SEQ=SEG.ACK><CTL=RST>. */
	tf_inject(&f, TCP_A, f.piss, f.siss + 1000, 65535, NULL, NULL, 0);
	tf_expect(&f, TCP_R, 1000, 0, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_SYN_SENT);
	tf_free(&f);
}

static void test_simultaneous_open_syn_then_ack(void)
{
	struct tf f;
	struct ftcp_tcp_opts o;

	tf_init(&f, NULL);
	start_connect(&f);
	o = answer_opts(&f, &TF_OPTS_ALL, &f.last);
	o.ts_ecr = 0;
	/* The peer's own SYN crosses ours: SYN_RECEIVED, and our SYN again
	 * with the ACK: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &o, NULL, 0);
	tf_expect(&f, TCP_S | TCP_A, 0, 1, 1000);
	CU_ASSERT(f.last.opt.has_mss && f.last.opt.has_wscale && f.last.opt.sack_ok &&
	          f.last.opt.has_ts);
	CU_ASSERT_EQUAL(f.last.opt.ts_ecr, o.ts_val);
	note_negotiated(&f, &TF_OPTS_ALL, &f.last);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_SYN_RECEIVED);
	CU_ASSERT(!(f.events & FTCP_EV_WRITABLE));
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_ESTABLISHED);
	CU_ASSERT(f.events & FTCP_EV_WRITABLE);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_active_opens"), 1);
	CU_ASSERT_EQUAL(tf_info(&f).options,
	                FTCP_TCPI_OPT_TIMESTAMPS | FTCP_TCPI_OPT_SACK | FTCP_TCPI_OPT_WSCALE);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "hi", 2), 2);
	tf_expect(&f, TCP_A | TCP_P, 1, 1, 1000);
	CU_ASSERT_EQUAL(f.last.len, 2);
	tf_free(&f);
}

static void test_simultaneous_open_crossing_synacks_establish_rfc9293_figure8(void)
{
	struct tf f;
	struct ftcp_tcp_opts o;

	tf_init(&f, NULL);
	start_connect(&f);
	o = answer_opts(&f, &TF_OPTS_NONE, &f.last);
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &o, NULL, 0);
	tf_expect(&f, TCP_S | TCP_A, 0, 1, 1000);
	note_negotiated(&f, &TF_OPTS_NONE, &f.last);
	/* Line 6 of Figure 8: the peer's SYN-ACK <SEQ=ISS'><ACK=ISS+1> makes
	 * us ESTABLISHED; its SYN is old news, its ACK is what counts. */
	tf_send(&f, TCP_S | TCP_A, 0, 1, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_ESTABLISHED);
	CU_ASSERT(f.events & FTCP_EV_WRITABLE);
	/* Nothing is owed to the peer: our SYN-ACK already acknowledged its SYN. */
	tf_expect_none(&f, 500000);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_challenge_acks"), 0);
	tf_free(&f);
}

static void test_close_in_syn_sent_sends_nothing_later_synack_gets_rst(void)
{
	struct tf f;
	struct ftcp_tcp_opts o;

	tf_init(&f, NULL);
	start_connect(&f);
	o = answer_opts(&f, &TF_OPTS_NONE, &f.last);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(in_use(&f), 0);
	tf_expect_none(&f, 5 * SEC); /* no RST, no SYN retransmission */
	tf_inject(&f, TCP_S | TCP_A, f.piss, f.siss + 1, 65535, &o, NULL, 0);
	tf_expect(&f, TCP_R, 1, 0, 1000);
	tf_free(&f);
}

static void test_abort_in_syn_sent_sends_no_rst(void)
{
	struct tf f;

	tf_init(&f, NULL);
	start_connect(&f);
	CU_ASSERT_EQUAL(ftcp_abort(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(in_use(&f), 0);
	CU_ASSERT_EQUAL(tf_state(&f), 0xff); /* the handle is dead */
	tf_expect_none(&f, 5 * SEC);
	tf_free(&f);
}

/* ---- no connection, no listener (RFC 9293 3.10.7.1) ---- */

static void test_syn_to_closed_port_gets_rst_ack_seq_0_ack_seq_plus_1(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn = mss_opt(1460);

	tf_init(&f, NULL);
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &syn, NULL, 0);
	tf_expect(&f, TCP_R | TCP_A, 0, 1, 1000);
	CU_ASSERT_EQUAL(f.last.win, 0);
	CU_ASSERT_EQUAL(f.last.len, 0);
	CU_ASSERT(!f.last.opt.has_mss && !f.last.opt.has_ts);
	CU_ASSERT_EQUAL(f.last.sport, TF_LOCAL_PORT);
	CU_ASSERT_EQUAL(f.last.dport, TF_PEER_PORT);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_rx_no_socket"), 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_tx_rst"), 1);
	/* A SYN with data: SEG.LEN counts the SYN and the bytes. */
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &syn, "12345", 5);
	tf_expect(&f, TCP_R | TCP_A, 0, 6, 1000);
	tf_free(&f);
}

static void test_ack_to_closed_port_gets_rst_with_seq_seg_ack(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_inject(&f, TCP_A, f.piss, 0xdeadbeef, 65535, NULL, NULL, 0);
	tf_expect(&f, TCP_R, 0xdeadbeef, 0, 1000);
	/* With data and FIN too: still <SEQ=SEG.ACK><CTL=RST>. */
	tf_inject(&f, TCP_A | TCP_P | TCP_F, f.piss, 4242, 65535, NULL, "abc", 3);
	tf_expect(&f, TCP_R, 4242, 0, 1000);
	tf_free(&f);
}

static void test_rst_to_closed_port_is_not_answered(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_inject(&f, TCP_R, f.piss, 0, 0, NULL, NULL, 0);
	tf_inject(&f, TCP_R | TCP_A, f.piss, 1234, 0, NULL, NULL, 0);
	tf_expect_none(&f, SEC);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_tx_rst"), 0);
	tf_free(&f);
}

static void test_data_without_ack_to_closed_port_rst_acks_seq_plus_seg_len(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_inject(&f, TCP_P, f.piss + 1, 0, 65535, NULL, "0123456789", 10);
	tf_expect(&f, TCP_R | TCP_A, 0, 11, 1000);
	/* The FIN counts in SEG.LEN. */
	tf_inject(&f, TCP_P | TCP_F, f.piss + 1, 0, 65535, NULL, "0123456789", 10);
	tf_expect(&f, TCP_R | TCP_A, 0, 12, 1000);
	tf_inject(&f, TCP_F, f.piss + 1, 0, 65535, NULL, NULL, 0);
	tf_expect(&f, TCP_R | TCP_A, 0, 2, 1000);
	tf_free(&f);
}

static void test_syn_to_bound_socket_that_does_not_listen_gets_rst(void)
{
	struct tf f;
	struct ftcp_sockaddr a = {0, TF_LOCAL_PORT};
	struct ftcp_tcp_opts syn = mss_opt(1460);

	tf_init(&f, NULL);
	f.sock = ftcp_tcp_open(f.s, ev_cb, &f);
	CU_ASSERT_FATAL(ftcp_bind(f.s, f.sock, &a) == 0);
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &syn, NULL, 0);
	tf_expect(&f, TCP_R | TCP_A, 0, 1, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	tf_free(&f);
}

/* ---- close paths ---- */

static void test_active_close_fin_wait_1_fin_wait_2_time_wait(void)
{
	struct tf f;
	char buf[4];

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	f.events = 0;
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_FIN_WAIT_1);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "x", 1), -FTCP_EPIPE);
	tf_send(&f, TCP_A, 1, 2, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_FIN_WAIT_2);
	CU_ASSERT_EQUAL(tf_info(&f).unacked, 0);
	CU_ASSERT(!(f.events & (FTCP_EV_CLOSED | FTCP_EV_RDHUP)));
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), -FTCP_EAGAIN);
	tf_send(&f, TCP_F | TCP_A, 1, 2, NULL, 0);
	tf_expect(&f, TCP_A, 2, 2, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_TIME_WAIT);
	tf_advance(&f, 1);
	CU_ASSERT((f.events & (FTCP_EV_CLOSED | FTCP_EV_RDHUP)) == (FTCP_EV_CLOSED | FTCP_EV_RDHUP));
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 0);
	tf_free(&f);
}

static void test_simultaneous_close_goes_through_closing(void)
{
	struct tf f;
	uint64_t t0;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	t0 = f.last.at_us;
	/* The peer's FIN crosses ours: it does not acknowledge our FIN. */
	tf_send(&f, TCP_F | TCP_A, 1, 1, NULL, 0);
	tf_expect(&f, TCP_A, 2, 2, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSING);
	/* Our FIN is still unacknowledged: resent after the RTO (1 s). */
	tf_expect(&f, TCP_F | TCP_A, 1, 2, SEC + 1000);
	ASSERT_EQ_U64(f.last.at_us - t0, SEC);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSING);
	tf_send(&f, TCP_A, 2, 2, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_TIME_WAIT);
	CU_ASSERT(f.events & FTCP_EV_CLOSED);
	tf_expect_none(&f, 5 * SEC);
	tf_free(&f);
}

static void test_fin_acking_our_fin_goes_straight_to_time_wait(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	tf_send(&f, TCP_F | TCP_A, 1, 2, NULL, 0);
	tf_expect(&f, TCP_A, 2, 2, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_TIME_WAIT);
	tf_expect_none(&f, 5 * SEC); /* no FIN retransmission */
	tf_free(&f);
}

static void test_passive_close_close_wait_last_ack_closed(void)
{
	struct tf f;
	uint64_t t0;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_F | TCP_A, 1, 1, NULL, 0);
	tf_expect(&f, TCP_A, 1, 2, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSE_WAIT);
	CU_ASSERT(!(f.events & FTCP_EV_CLOSED));
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_LAST_ACK);
	tf_expect(&f, TCP_F | TCP_A, 1, 2, 1000);
	t0 = f.last.at_us;
	/* Unacknowledged: the FIN again after the RTO. */
	tf_expect(&f, TCP_F | TCP_A, 1, 2, SEC + 1000);
	ASSERT_EQ_U64(f.last.at_us - t0, SEC);
	tf_send(&f, TCP_A, 2, 2, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT(f.events & FTCP_EV_CLOSED);
	CU_ASSERT(!(f.events & FTCP_EV_ERROR));
	CU_ASSERT_EQUAL(ftcp_sock_error(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_expect_none(&f, 5 * SEC);
	tf_free(&f);
}

static void test_close_in_close_wait_frees_socket_when_fin_acked(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_NONE);
	tf_send(&f, TCP_F | TCP_A, 1, 1, NULL, 0);
	tf_expect(&f, TCP_A, 1, 2, 1000);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(tf_state(&f), 0xff); /* the handle died with close */
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), -FTCP_EBADF);
	tf_expect(&f, TCP_F | TCP_A, 1, 2, 1000);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_send(&f, TCP_A, 2, 2, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	/* Gone: a retransmitted FIN finds no connection. */
	tf_send(&f, TCP_F | TCP_A, 1, 2, NULL, 0);
	tf_expect(&f, TCP_R, 2, 0, 1000);
	tf_free(&f);
}

static void test_half_close_we_still_receive_after_shutdown_wr(void)
{
	struct tf f;
	char buf[16];

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	/* FIN_WAIT_1: data that does not yet acknowledge our FIN. */
	tf_send(&f, TCP_A | TCP_P, 1, 1, "abc", 3);
	tf_expect(&f, TCP_A, 2, 4, 41000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_FIN_WAIT_1);
	/* FIN_WAIT_2. */
	tf_send(&f, TCP_A | TCP_P, 4, 2, "defgh", 5);
	tf_expect(&f, TCP_A, 2, 9, 41000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_FIN_WAIT_2);
	CU_ASSERT(f.events & FTCP_EV_READABLE);
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 8);
	CU_ASSERT(memcmp(buf, "abcdefgh", 8) == 0);
	tf_send(&f, TCP_F | TCP_A, 9, 2, NULL, 0);
	tf_expect(&f, TCP_A, 2, 10, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_TIME_WAIT);
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 0);
	tf_free(&f);
}

static void test_half_close_we_can_still_send_in_close_wait(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_F | TCP_A, 1, 1, NULL, 0);
	tf_expect(&f, TCP_A, 1, 2, 1000);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "abc", 3), 3);
	tf_expect(&f, TCP_A | TCP_P, 1, 2, 1000);
	CU_ASSERT(f.last.len == 3 && memcmp(f.last.data, "abc", 3) == 0);
	tf_send(&f, TCP_A, 2, 4, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSE_WAIT);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	tf_expect(&f, TCP_F | TCP_A, 4, 2, 1000);
	tf_send(&f, TCP_A, 2, 5, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_free(&f);
}

static void test_close_sends_queued_data_then_fin_in_one_segment(void)
{
	struct tf f;
	uint8_t data[100];

	memset(data, 'q', sizeof(data));
	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_NONE);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, data, sizeof(data)), 100);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	tf_expect(&f, TCP_F | TCP_P | TCP_A, 1, 1, 1000);
	CU_ASSERT_EQUAL(f.last.len, 100);
	tf_send(&f, TCP_A, 1, 102, NULL, 0);
	tf_send(&f, TCP_F | TCP_A, 1, 102, NULL, 0);
	tf_expect(&f, TCP_A, 102, 2, 1000);
	CU_ASSERT_EQUAL(in_use(&f), 2); /* the orphan in TIME_WAIT */
	tf_advance(&f, 60 * SEC);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_free(&f);
}

static void test_time_wait_lasts_exactly_two_msl(void)
{
	struct tf f;
	uint64_t t;

	tf_init(&f, msl_1s);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	tf_send(&f, TCP_F | TCP_A, 1, 2, NULL, 0);
	tf_expect(&f, TCP_A, 2, 2, 1000);
	t = f.last.at_us;
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_TIME_WAIT);
	tf_advance(&f, t + 2 * SEC - 1 - tf_now(&f));
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_TIME_WAIT);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_free(&f);
}

static void test_orphan_time_wait_is_freed_after_two_msl(void)
{
	struct tf f;
	uint64_t t;

	tf_init(&f, msl_1s);
	orphan_time_wait(&f, &TF_OPTS_NONE);
	t = f.last.at_us;
	tf_advance(&f, t + 2 * SEC - 1 - tf_now(&f));
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_free(&f);
}

static void test_time_wait_reacks_retransmitted_fin_and_restarts_2msl(void)
{
	struct tf f;
	uint64_t t;

	tf_init(&f, msl_1s);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	tf_send(&f, TCP_F | TCP_A, 1, 2, NULL, 0);
	tf_expect(&f, TCP_A, 2, 2, 1000);
	tf_advance(&f, 1500000);
	/* Our ACK was lost: the peer sends its FIN again (RFC 9293 3.10.7.4,
	 * TIME-WAIT: acknowledge it and restart the 2 MSL timeout). */
	tf_send(&f, TCP_F | TCP_A, 1, 2, NULL, 0);
	tf_expect(&f, TCP_A, 2, 2, 1000);
	t = f.last.at_us;
	tf_advance(&f, t + 2 * SEC - 1 - tf_now(&f));
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_TIME_WAIT);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	tf_free(&f);
}

static void test_rst_in_time_wait_is_ignored_rfc1337(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	tf_send(&f, TCP_F | TCP_A, 1, 2, NULL, 0);
	tf_expect(&f, TCP_A, 2, 2, 1000);
	f.events = 0;
	tf_send(&f, TCP_R, 2, 0, NULL, 0);
	tf_send(&f, TCP_R | TCP_A, 2, 2, NULL, 0);
	tf_expect_none(&f, SEC);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_TIME_WAIT);
	CU_ASSERT(!(f.events & FTCP_EV_ERROR));
	CU_ASSERT_EQUAL(ftcp_sock_error(f.s, f.sock), 0);
	tf_free(&f);
}

static void test_time_wait_reused_by_syn_with_higher_seq(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn = mss_opt(1460);
	uint32_t old_siss, new_piss;
	const struct tf_seg *s;

	tf_init(&f, NULL);
	orphan_time_wait(&f, &TF_OPTS_NONE);
	old_siss = f.siss;
	tf_advance(&f, SEC);
	new_piss = f.piss + 100000;
	tf_inject(&f, TCP_S, new_piss, 0, 65535, &syn, NULL, 0);
	s = recv_to(&f, TF_PEER_PORT, TCP_S | TCP_A, new_piss + 1, 1000);
	CU_ASSERT(seq_after(s->seq, old_siss + 2));
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_time_wait_reused"), 1);
	CU_ASSERT_EQUAL(in_use(&f), 2); /* listener and the new child */
	f.piss = new_piss;
	f.siss = s->seq;
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_advance(&f, 1);
	accept_sock(&f);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_ESTABLISHED);
	tf_free(&f);
}

static void test_time_wait_reuse_picks_isn_above_old_connection(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn = mss_opt(1460);
	static uint8_t data[8760]; /* six segments: no Nagle wait */
	uint32_t got = 0, old_end, new_piss;
	const struct tf_seg *s;
	struct tf_seg seg;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_NONE);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, data, sizeof(data)), (int)sizeof(data));
	while (got < sizeof(data) && tf_recv(&f, &seg, 1000))
		got += seg.len;
	CU_ASSERT_EQUAL_FATAL(got, sizeof(data));
	tf_send(&f, TCP_A, 1, 8761, NULL, 0);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	f.sock = -1;
	tf_expect(&f, TCP_F | TCP_A, 8761, 1, 1000);
	tf_send(&f, TCP_F | TCP_A, 1, 8762, NULL, 0);
	tf_expect(&f, TCP_A, 8762, 2, 1000);
	old_end = f.siss + 8762;
	/* A new SYN at once: RFC 1122 4.2.2.13 lets TIME_WAIT be reopened
	 * only with an ISN above anything the old connection used. */
	new_piss = f.piss + 100000;
	tf_inject(&f, TCP_S, new_piss, 0, 65535, &syn, NULL, 0);
	s = recv_to(&f, TF_PEER_PORT, TCP_S | TCP_A, new_piss + 1, 1000);
	CU_ASSERT(seq_after(s->seq, old_end));
	if (!seq_after(s->seq, old_end))
		fprintf(stderr, "\n  new ISN %u, old connection's SND.NXT %u\n", s->seq, old_end);
	tf_free(&f);
}

static void test_time_wait_rejects_older_syn_with_an_ack(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn = mss_opt(1460);

	tf_init(&f, NULL);
	orphan_time_wait(&f, &TF_OPTS_NONE);
	tf_advance(&f, SEC);
	/* An old duplicate of the first SYN: not above RCV.NXT. */
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &syn, NULL, 0);
	tf_expect(&f, TCP_A, 2, 2, 1000);
	tf_expect_none(&f, SEC);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_time_wait_reused"), 0);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_passive_opens"), 1);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_free(&f);
}

static void test_time_wait_reused_by_syn_with_newer_timestamp_rfc6191(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn;
	uint32_t new_piss;

	tf_init(&f, NULL);
	orphan_time_wait(&f, &TF_OPTS_ALL);
	tf_advance(&f, 10000);
	/* A lower sequence number, but a newer timestamp: a new connection. */
	new_piss = f.piss - 50000;
	syn = tf_syn_opts(&f, &TF_OPTS_ALL);
	syn.ts_ecr = 0;
	tf_inject(&f, TCP_S, new_piss, 0, 65535, &syn, NULL, 0);
	recv_to(&f, TF_PEER_PORT, TCP_S | TCP_A, new_piss + 1, 1000);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_time_wait_reused"), 1);
	tf_free(&f);
}

static void test_time_wait_rejects_syn_with_old_timestamp_rfc6191(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn;
	uint32_t fin_ts;

	tf_init(&f, NULL);
	fin_ts = orphan_time_wait_after(&f, &TF_OPTS_ALL, 5000);
	tf_advance(&f, 10000);
	/* A higher sequence number, but a timestamp older than the last
	 * one seen: an old duplicate (PAWS), acknowledged, not reused. */
	syn = tf_syn_opts(&f, &TF_OPTS_ALL);
	syn.ts_val = fin_ts - 1;
	syn.ts_ecr = 0;
	tf_inject(&f, TCP_S, f.piss + 100000, 0, 65535, &syn, NULL, 0);
	tf_expect(&f, TCP_A, 2, 2, 1000);
	tf_expect_none(&f, SEC);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_time_wait_reused"), 0);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_free(&f);
}

/* A peer whose millisecond clock has not moved since the old connection's
 * last segment (Linux keeps one timestamp offset per host pair): an equal
 * timestamp falls back to the sequence rule, so a higher ISN is accepted
 * and a lower one refused. */
static void syn_with_equal_timestamp(int32_t isn_delta, bool reused)
{
	struct tf f;
	struct ftcp_tcp_opts syn;
	uint32_t fin_ts;

	tf_init(&f, NULL);
	fin_ts = orphan_time_wait_after(&f, &TF_OPTS_ALL, 0);
	syn = tf_syn_opts(&f, &TF_OPTS_ALL);
	syn.ts_val = fin_ts;
	syn.ts_ecr = 0;
	tf_inject(&f, TCP_S, f.piss + (uint32_t)isn_delta, 0, 65535, &syn, NULL, 0);
	if (reused) {
		recv_to(&f, TF_PEER_PORT, TCP_S | TCP_A, f.piss + (uint32_t)isn_delta + 1, 1000);
		CU_ASSERT_EQUAL(tf_counter(&f, "tcp_time_wait_reused"), 1);
	} else {
		tf_expect(&f, TCP_A, 2, 2, 1000);
		CU_ASSERT_EQUAL(tf_counter(&f, "tcp_time_wait_reused"), 0);
	}
	tf_free(&f);
}

static void test_time_wait_reused_by_syn_with_equal_timestamp_and_higher_seq(void)
{
	syn_with_equal_timestamp(100000, true);
}

static void test_time_wait_rejects_syn_with_equal_timestamp_and_lower_seq(void)
{
	syn_with_equal_timestamp(-100000, false);
}

static void test_orphan_fin_wait_2_times_out_after_tcp_fin_wait2_us(void)
{
	struct tf f;
	uint64_t t;

	tf_init(&f, fin_wait2_5s);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	f.sock = -1;
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	tf_advance(&f, 20000);
	tf_send(&f, TCP_A, 1, 2, NULL, 0);
	tf_advance(&f, 1);
	t = tf_now(&f) - 1; /* when the ACK was taken */
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_expect_none(&f, t + 5 * SEC - 1 - tf_now(&f));
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(in_use(&f), 1); /* dropped, silently */
	tf_expect_none(&f, SEC);
	/* The peer's FIN now finds no connection. */
	tf_send(&f, TCP_F | TCP_A, 1, 2, NULL, 0);
	tf_expect(&f, TCP_R, 2, 0, 1000);
	tf_free(&f);
}

static void test_close_in_fin_wait_2_starts_the_fin_wait2_limit(void)
{
	struct tf f;
	uint64_t t;

	tf_init(&f, fin_wait2_5s);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	tf_send(&f, TCP_A, 1, 2, NULL, 0);
	/* With the handle open FIN_WAIT_2 has no limit: the application
	 * may still read (Linux's tcp_fin_timeout only applies to orphans). */
	tf_expect_none(&f, 120 * SEC);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_FIN_WAIT_2);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	f.sock = -1;
	t = tf_now(&f);
	tf_expect_none(&f, 5 * SEC - 1);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_advance(&f, t + 5 * SEC - tf_now(&f));
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_free(&f);
}

static void test_close_with_unread_data_sends_rst(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_A | TCP_P, 1, 1, "hello", 5);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	/* RFC 2525 2.17, Linux: a RST (not a FIN) tells the peer its data
	 * was not read. */
	tf_expect(&f, TCP_R | TCP_A, 1, 6, 1000);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_close_resets"), 1);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_expect_none(&f, SEC); /* no delayed ACK, no FIN after it */
	tf_send(&f, TCP_A | TCP_P, 6, 1, "more", 4);
	tf_expect(&f, TCP_R, 1, 0, 1000);
	tf_free(&f);
}

static void test_close_with_linger_zero_sends_rst(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_setsockopt(f.s, f.sock, FTCP_SO_LINGER, 0), 0);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	tf_expect(&f, TCP_R | TCP_A, 1, 1, 1000);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_close_resets"), 1);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_expect_none(&f, SEC);
	tf_free(&f);
}

static void test_abort_sends_rst_at_snd_nxt_and_frees(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_NONE);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "0123456789", 10), 10);
	tf_expect(&f, TCP_A | TCP_P, 1, 1, 1000);
	CU_ASSERT_EQUAL(ftcp_abort(f.s, f.sock), 0);
	tf_expect(&f, TCP_R | TCP_A, 11, 1, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), 0xff);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_expect_none(&f, 5 * SEC); /* no retransmission of the data */
	tf_free(&f);
}

static void test_rst_in_established_reports_econnreset(void)
{
	struct tf f;
	char buf[4];

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	f.events = 0;
	tf_send(&f, TCP_R, 1, 0, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT((f.events & (FTCP_EV_ERROR | FTCP_EV_CLOSED)) == (FTCP_EV_ERROR | FTCP_EV_CLOSED));
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), -FTCP_ECONNRESET);
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 0);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "x", 1), -FTCP_EPIPE);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_resets_rx"), 1);
	tf_expect_none(&f, SEC);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_free(&f);
}

static void test_rst_in_close_wait_reports_econnreset(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_F | TCP_A, 1, 1, NULL, 0);
	tf_expect(&f, TCP_A, 1, 2, 1000);
	tf_send(&f, TCP_R, 2, 0, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT_EQUAL(ftcp_sock_error(f.s, f.sock), -FTCP_ECONNRESET);
	tf_free(&f);
}

static void test_rst_in_last_ack_frees_the_orphan(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_F | TCP_A, 1, 1, NULL, 0);
	tf_expect(&f, TCP_A, 1, 2, 1000);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	f.sock = -1;
	tf_expect(&f, TCP_F | TCP_A, 1, 2, 1000);
	tf_send(&f, TCP_R, 2, 0, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_expect_none(&f, 5 * SEC); /* no more FIN retransmissions */
	tf_free(&f);
}

static void test_fin_retransmitted_at_rto_with_backoff(void)
{
	struct tf f;
	uint64_t t0;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	t0 = f.last.at_us;
	tf_expect(&f, TCP_F | TCP_A, 1, 1, SEC + 1000);
	ASSERT_EQ_U64(f.last.at_us - t0, SEC);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 2 * SEC + 1000);
	ASSERT_EQ_U64(f.last.at_us - t0, 3 * SEC);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 4 * SEC + 1000);
	ASSERT_EQ_U64(f.last.at_us - t0, 7 * SEC);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_FIN_WAIT_1);
	CU_ASSERT_EQUAL(tf_info(&f).retransmits, 3);
	tf_send(&f, TCP_A, 1, 2, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_FIN_WAIT_2);
	tf_expect_none(&f, 20 * SEC);
	tf_free(&f);
}

static void test_orphan_fin_to_vanished_neighbour_times_out(void)
{
	struct tf f;
	uint64_t t;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_NONE);
	/* The peer's host goes away: its ARP entry expires, unanswered. */
	tf_advance(&f, 100 * SEC);
	tf_drain(&f);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	f.sock = -1;
	t = tf_now(&f);
	/* The FIN cannot leave; the orphan must still end (RFC 1122 4.2.3.5
	 * R2), as it would had the FIN been sent and lost. */
	tf_advance(&f, 60 * SEC);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_advance(&f, t + 30 * 60 * SEC - tf_now(&f));
	CU_ASSERT_EQUAL(in_use(&f), 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_timeouts"), 1);
	tf_free(&f);
}

static void test_shutdown_wr_twice_sends_one_fin(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	tf_send(&f, TCP_A, 1, 2, NULL, 0);
	tf_expect_none(&f, 5 * SEC);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_FIN_WAIT_2);
	tf_free(&f);
}

/* ---- listen, accept, backlog, SYN cookies ---- */

static void test_close_listener_resets_half_open_and_unaccepted_children(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn = mss_opt(1460);
	const struct tf_seg *s;
	uint32_t b_siss = 0, i;
	bool seen_a = false, seen_b = false;

	tf_init(&f, NULL);
	half_open(&f, &TF_OPTS_NONE);
	tf_send(&f, TCP_A, 1, 1, NULL, 0); /* A: established, not accepted */
	tf_advance(&f, 1);
	tf_inject_from(&f, 40001, TCP_S, 7000, 0, 65535, &syn, NULL, 0);
	s = recv_to(&f, 40001, TCP_S | TCP_A, 7001, 1000); /* B: SYN_RECEIVED */
	b_siss = s->seq;
	CU_ASSERT_EQUAL(in_use(&f), 3);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.lsock), 0);
	f.lsock = -1;
	for (i = 0; i < 2; i++) {
		struct tf_seg seg;
		if (!tf_recv(&f, &seg, 1000)) {
			CU_FAIL("a child was not reset");
			break;
		}
		CU_ASSERT_EQUAL(seg.flags, TCP_R | TCP_A);
		if (seg.dport == TF_PEER_PORT) {
			seen_a = true;
			CU_ASSERT(seg.seq == f.siss + 1 && seg.ack == f.piss + 1);
		} else if (seg.dport == 40001) {
			seen_b = true;
			CU_ASSERT(seg.seq == b_siss + 1 && seg.ack == 7001);
		}
	}
	CU_ASSERT(seen_a && seen_b);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(in_use(&f), 0);
	tf_expect_none(&f, 5 * SEC);
	/* Nothing listens any more. */
	tf_inject_from(&f, 40002, TCP_S, 9000, 0, 65535, &syn, NULL, 0);
	expect_to(&f, 40002, TCP_R | TCP_A, 0, 9001, 1000);
	tf_free(&f);
}

static void test_accept_queue_full_ignores_final_ack_until_accept(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn = mss_opt(1460);
	const struct tf_seg *s;
	uint32_t b_siss;
	uint64_t tb;
	struct ftcp_sockaddr peer;
	ftcp_sock_t b;

	tf_init(&f, NULL);
	listen_on(&f, 1);
	half_open(&f, &TF_OPTS_NONE); /* A */
	tf_inject_from(&f, 40001, TCP_S, 7000, 0, 65535, &syn, NULL, 0);
	s = recv_to(&f, 40001, TCP_S | TCP_A, 7001, 1000); /* B */
	b_siss = s->seq;
	tb = s->at_us;
	tf_send(&f, TCP_A, 1, 1, NULL, 0); /* A fills the accept queue */
	tf_advance(&f, 1);
	CU_ASSERT(f.lsock_events & FTCP_EV_READABLE);
	/* B's ACK finds the queue full: ignored, nothing sent (Linux). */
	tf_inject_from(&f, 40001, TCP_A, 7001, b_siss + 1, 65535, NULL, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "drop_tcp_accept_full"), 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_established"), 1);
	/* B is still half-open: its SYN-ACK is resent at its RTO. */
	s = expect_to(&f, 40001, TCP_S | TCP_A, b_siss, 7001, SEC + 1000);
	ASSERT_EQ_U64(s->at_us - tb, SEC);
	accept_sock(&f);
	CU_ASSERT_EQUAL(ftcp_accept(f.s, f.lsock, ev_cb, &f, &peer), -FTCP_EAGAIN);
	/* The peer answers the SYN-ACK again: now there is room. */
	tf_inject_from(&f, 40001, TCP_A, 7001, b_siss + 1, 65535, NULL, NULL, 0);
	tf_advance(&f, 1);
	b = ftcp_accept(f.s, f.lsock, ev_cb, &f, &peer);
	CU_ASSERT_FATAL(b >= 0);
	CU_ASSERT_EQUAL(peer.port, 40001);
	{
		struct ftcp_tcp_info bi;
		CU_ASSERT_EQUAL(ftcp_tcp_info(f.s, b, &bi), 0);
		CU_ASSERT_EQUAL(bi.state, FTCP_TCP_ESTABLISHED);
	}
	tf_expect_none(&f, 5 * SEC); /* no more SYN-ACKs */
	tf_free(&f);
}

static void test_accept_queue_full_drops_new_syns(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn = mss_opt(1460);

	tf_init(&f, NULL);
	listen_on(&f, 1);
	half_open(&f, &TF_OPTS_NONE);
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_advance(&f, 1);
	/* Full accept queue: no SYN-ACK, not even a cookie (Linux). */
	tf_inject_from(&f, 40001, TCP_S, 7000, 0, 65535, &syn, NULL, 0);
	tf_expect_none(&f, SEC);
	CU_ASSERT_EQUAL(tf_counter(&f, "drop_tcp_syn_queue_full"), 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_syncookies_sent"), 0);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	accept_sock(&f);
	/* The peer's retransmitted SYN now gets its answer. */
	tf_inject_from(&f, 40001, TCP_S, 7000, 0, 65535, &syn, NULL, 0);
	recv_to(&f, 40001, TCP_S | TCP_A, 7001, 1000);
	tf_free(&f);
}

static void test_syn_queue_overflow_answers_with_a_syn_cookie(void)
{
	struct tf f;
	struct ftcp_tcp_opts o;
	const struct tf_seg *s;
	uint32_t cookie, cookie_ts, bisn = 777000;
	struct ftcp_sockaddr peer;
	struct ftcp_tcp_info bi;
	ftcp_sock_t b;
	char buf[8];

	tf_init(&f, syn_backlog_1);
	half_open(&f, &TF_OPTS_NONE); /* fills the SYN queue */
	memset(&o, 0, sizeof(o));
	o.has_mss = true;
	o.mss = 1400;
	o.has_wscale = true;
	o.wscale = 7;
	o.sack_ok = true;
	o.has_ts = true;
	o.ts_val = 4000;
	tf_inject_from(&f, 40001, TCP_S, bisn, 0, 65535, &o, NULL, 0);
	s = recv_to(&f, 40001, TCP_S | TCP_A, bisn + 1, 1000);
	cookie = s->seq;
	cookie_ts = s->opt.ts_val;
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_syncookies_sent"), 1);
	CU_ASSERT_EQUAL(in_use(&f), 2); /* no state for the cookie */
	CU_ASSERT(s->opt.has_mss && s->opt.mss == 1400);
	CU_ASSERT(s->opt.has_wscale && s->opt.wscale == 1);
	CU_ASSERT(s->opt.sack_ok);
	CU_ASSERT(s->opt.has_ts && s->opt.ts_ecr == 4000);
	CU_ASSERT_EQUAL(s->win, 65535);
	/* The cookie's ACK, echoing the timestamp: a connection. */
	tf_advance(&f, 5000);
	o = (struct ftcp_tcp_opts){0};
	o.has_ts = true;
	o.ts_val = 4005;
	o.ts_ecr = cookie_ts;
	tf_inject_from(&f, 40001, TCP_A, bisn + 1, cookie + 1, 1000, &o, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_syncookies_ok"), 1);
	CU_ASSERT(f.lsock_events & FTCP_EV_READABLE);
	b = ftcp_accept(f.s, f.lsock, ev_cb, &f, &peer);
	CU_ASSERT_FATAL(b >= 0);
	CU_ASSERT_EQUAL(peer.port, 40001);
	CU_ASSERT_EQUAL(ftcp_tcp_info(f.s, b, &bi), 0);
	CU_ASSERT_EQUAL(bi.state, FTCP_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(bi.snd_mss, 1400 - 12);
	CU_ASSERT_EQUAL(bi.options,
	                FTCP_TCPI_OPT_TIMESTAMPS | FTCP_TCPI_OPT_SACK | FTCP_TCPI_OPT_WSCALE);
	CU_ASSERT_EQUAL(bi.snd_wscale, 7);
	CU_ASSERT_EQUAL(bi.rcv_wscale, 1);
	CU_ASSERT_EQUAL(bi.snd_wnd, 1000u << 7);
	/* Data both ways on it. */
	o.ts_val = 4010;
	tf_inject_from(&f, 40001, TCP_A | TCP_P, bisn + 1, cookie + 1, 1000, &o, "hey", 3);
	s = expect_to(&f, 40001, TCP_A, cookie + 1, bisn + 4, 41000);
	CU_ASSERT(s->opt.has_ts && s->opt.ts_ecr == 4010);
	CU_ASSERT_EQUAL(ftcp_recv(f.s, b, buf, sizeof(buf), 0), 3);
	CU_ASSERT_EQUAL(ftcp_send(f.s, b, "ok", 2), 2);
	s = expect_to(&f, 40001, TCP_A | TCP_P, cookie + 1, bisn + 4, 1000);
	CU_ASSERT_EQUAL(s->len, 2);
	tf_free(&f);
}

static void test_syn_cookie_without_timestamps_carries_mss_only(void)
{
	struct tf f;
	struct ftcp_tcp_opts o = mss_opt(1300);
	const struct tf_seg *s;
	uint32_t cookie, bisn = 5550000;
	struct ftcp_sockaddr peer;
	struct ftcp_tcp_info bi;
	ftcp_sock_t b;

	tf_init(&f, syn_backlog_1);
	half_open(&f, &TF_OPTS_NONE);
	o.has_wscale = true; /* without timestamps it cannot be remembered */
	o.wscale = 7;
	o.sack_ok = true;
	tf_inject_from(&f, 40001, TCP_S, bisn, 0, 65535, &o, NULL, 0);
	s = recv_to(&f, 40001, TCP_S | TCP_A, bisn + 1, 1000);
	cookie = s->seq;
	CU_ASSERT(s->opt.has_mss && s->opt.mss == 1300);
	CU_ASSERT(!s->opt.has_wscale && !s->opt.sack_ok && !s->opt.has_ts);
	tf_inject_from(&f, 40001, TCP_A, bisn + 1, cookie + 1, 20000, NULL, NULL, 0);
	tf_advance(&f, 1);
	b = ftcp_accept(f.s, f.lsock, ev_cb, &f, &peer);
	CU_ASSERT_FATAL(b >= 0);
	CU_ASSERT_EQUAL(ftcp_tcp_info(f.s, b, &bi), 0);
	CU_ASSERT_EQUAL(bi.snd_mss, 1300);
	CU_ASSERT_EQUAL(bi.options, 0);
	CU_ASSERT_EQUAL(bi.snd_wnd, 20000);
	tf_free(&f);
}

static void test_forged_syn_cookie_ack_gets_rst(void)
{
	struct tf f;
	struct ftcp_tcp_opts o = mss_opt(1460);
	const struct tf_seg *s;
	uint32_t cookie, bisn = 31337;

	tf_init(&f, syn_backlog_1);
	half_open(&f, &TF_OPTS_NONE);
	tf_inject_from(&f, 40001, TCP_S, bisn, 0, 65535, &o, NULL, 0);
	s = recv_to(&f, 40001, TCP_S | TCP_A, bisn + 1, 1000);
	cookie = s->seq;
	/* Wrong cookie (off by one), and a blind guess from another port. */
	tf_inject_from(&f, 40001, TCP_A, bisn + 1, cookie + 2, 65535, NULL, NULL, 0);
	expect_to(&f, 40001, TCP_R, cookie + 2, 0, 1000);
	tf_inject_from(&f, 40002, TCP_A, 424242, 0x12345678, 65535, NULL, NULL, 0);
	expect_to(&f, 40002, TCP_R, 0x12345678, 0, 1000);
	/* The right cookie from the wrong sequence number. */
	tf_inject_from(&f, 40001, TCP_A, bisn + 2, cookie + 1, 65535, NULL, NULL, 0);
	expect_to(&f, 40001, TCP_R, cookie + 1, 0, 1000);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_syncookies_failed"), 3);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_syncookies_ok"), 0);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	tf_free(&f);
}

static void test_syncookies_off_drops_syn_when_syn_queue_full(void)
{
	struct tf f;
	struct ftcp_tcp_opts o = mss_opt(1460);

	tf_init(&f, syn_backlog_1_no_cookies);
	half_open(&f, &TF_OPTS_NONE);
	tf_inject_from(&f, 40001, TCP_S, 1234, 0, 65535, &o, NULL, 0);
	/* Only the first child's SYN-ACK retransmission (at 1 s) may come. */
	tf_expect_none(&f, SEC - 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "drop_tcp_syn_queue_full"), 1);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_syncookies_sent"), 0);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	/* Once the first handshake completes the SYN queue has room. */
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_inject_from(&f, 40001, TCP_S, 1234, 0, 65535, &o, NULL, 0);
	recv_to(&f, 40001, TCP_S | TCP_A, 1235, 1000);
	tf_free(&f);
}

static void test_ten_peers_on_one_listening_port(void)
{
	struct tf f;
	struct ftcp_tcp_opts o = mss_opt(1460);
	uint32_t siss[10], piss[10], i, acks = 0;
	ftcp_sock_t h[10];
	char msg[16], buf[16];

	tf_init(&f, NULL);
	listen_on(&f, 16);
	for (i = 0; i < 10; i++) {
		piss[i] = 1000000u * (i + 1);
		tf_inject_from(&f, (uint16_t)(41000 + i), TCP_S, piss[i], 0, 65535, &o, NULL, 0);
	}
	for (i = 0; i < 10; i++) {
		const struct tf_seg *s = recv_to(&f, (uint16_t)(41000 + i), TCP_S | TCP_A, piss[i] + 1,
		                                 1000);
		siss[i] = s->seq;
	}
	CU_ASSERT_EQUAL(in_use(&f), 11);
	for (i = 0; i < 10; i++)
		tf_inject_from(&f, (uint16_t)(41000 + i), TCP_A, piss[i] + 1, siss[i] + 1, 65535, NULL,
		            NULL, 0);
	tf_advance(&f, 1);
	for (i = 0; i < 10; i++) {
		struct ftcp_sockaddr peer;
		h[i] = ftcp_accept(f.s, f.lsock, ev_cb, &f, &peer);
		CU_ASSERT_FATAL(h[i] >= 0);
		CU_ASSERT_EQUAL(peer.port, 41000 + i);
	}
	for (i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "peer %u", i);
		tf_inject_from(&f, (uint16_t)(41000 + i), TCP_A | TCP_P, piss[i] + 1, siss[i] + 1, 65535,
		            NULL, msg, (uint32_t)strlen(msg));
	}
	tf_advance(&f, 1);
	for (i = 0; i < 10; i++) {
		int n = ftcp_recv(f.s, h[i], buf, sizeof(buf), 0);
		snprintf(msg, sizeof(msg), "peer %u", i);
		CU_ASSERT(n == (int)strlen(msg) && memcmp(buf, msg, (size_t)n) == 0);
	}
	/* Each connection acknowledges its own peer. */
	for (i = 0; i < 10; i++) {
		struct tf_seg seg;
		uint32_t k;
		if (!tf_recv(&f, &seg, 41000))
			break;
		k = (uint32_t)(seg.dport - 41000);
		CU_ASSERT_FATAL(k < 10);
		CU_ASSERT_EQUAL(seg.flags, TCP_A);
		CU_ASSERT(seg.seq == siss[k] + 1 && seg.ack == piss[k] + 7);
		acks |= 1u << k;
	}
	CU_ASSERT_EQUAL(acks, 0x3ff);
	tf_free(&f);
}

static void test_rst_before_accept_still_accepted_reports_econnreset(void)
{
	struct tf f;
	char buf[4];

	tf_init(&f, NULL);
	half_open(&f, &TF_OPTS_NONE);
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_send(&f, TCP_R, 1, 0, NULL, 0);
	tf_advance(&f, 1);
	/* As in Linux: accept hands it out, the reset is its error. */
	accept_sock(&f);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	CU_ASSERT(f.events & FTCP_EV_ERROR);
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), -FTCP_ECONNRESET);
	tf_expect_none(&f, SEC);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	CU_ASSERT_EQUAL(in_use(&f), 1);
	tf_free(&f);
}

static void test_close_listener_with_reset_unaccepted_child_frees_it(void)
{
	struct tf f;

	tf_init(&f, NULL);
	half_open(&f, &TF_OPTS_NONE);
	tf_send(&f, TCP_A, 1, 1, NULL, 0);
	tf_send(&f, TCP_R, 1, 0, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(in_use(&f), 2);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.lsock), 0);
	tf_expect_none(&f, SEC); /* already reset: nothing to send */
	CU_ASSERT_EQUAL(in_use(&f), 0);
	tf_free(&f);
}

void register_tcp_states_tests(void);
void register_tcp_states_tests(void)
{
	FTCP_SUITE("tcp_states",
	           /* passive open */
	           FTCP_CASE(test_syn_to_listener_makes_syn_received_child_and_synack),
	           FTCP_CASE(test_duplicate_syn_in_syn_received_resends_the_same_synack),
	           FTCP_CASE(test_synack_retransmitted_at_1_2_4_8_16_32_seconds),
	           FTCP_CASE(test_syn_received_gives_up_after_syn_retries_listener_unaffected),
	           FTCP_CASE(test_syn_retries_setting_bounds_synack_retransmissions),
	           FTCP_CASE(test_reconnect_after_close_is_refused),
	           FTCP_CASE(test_syn_received_bad_ack_gets_rst_with_seq_seg_ack),
	           FTCP_CASE(test_rst_in_syn_received_removes_child_silently),
	           FTCP_CASE(test_rst_in_syn_received_not_at_rcv_nxt_gets_challenge_ack),
	           FTCP_CASE(test_data_on_final_handshake_ack_is_delivered_after_accept),
	           FTCP_CASE(test_fin_on_final_handshake_ack_gives_close_wait_child),
	           FTCP_CASE(test_syn_carrying_data_is_acknowledged_for_the_syn_only),
	           FTCP_CASE(test_listener_ignores_rst_and_segments_without_syn_or_ack),
	           FTCP_CASE(test_listener_answers_ack_and_synack_with_rst_seq_seg_ack),
	           /* active open */
	           FTCP_CASE(test_connect_sends_syn_with_options_and_enters_syn_sent),
	           FTCP_CASE(test_syn_retransmitted_with_backoff_then_etimedout),
	           FTCP_CASE(test_syn_retries_setting_bounds_syn_retransmissions),
	           FTCP_CASE(test_connect_to_neighbour_that_never_answers_arp_times_out),
	           FTCP_CASE(test_synack_with_bad_ack_in_syn_sent_gets_rst_then_good_one_connects),
	           FTCP_CASE(test_rst_with_acceptable_ack_in_syn_sent_is_econnrefused),
	           FTCP_CASE(test_rst_without_ack_or_with_bad_ack_in_syn_sent_is_ignored),
	           FTCP_CASE(test_ack_without_syn_in_syn_sent),
	           FTCP_CASE(test_simultaneous_open_syn_then_ack),
	           FTCP_CASE(test_simultaneous_open_crossing_synacks_establish_rfc9293_figure8),
	           FTCP_CASE(test_close_in_syn_sent_sends_nothing_later_synack_gets_rst),
	           FTCP_CASE(test_abort_in_syn_sent_sends_no_rst),
	           /* no connection */
	           FTCP_CASE(test_syn_to_closed_port_gets_rst_ack_seq_0_ack_seq_plus_1),
	           FTCP_CASE(test_ack_to_closed_port_gets_rst_with_seq_seg_ack),
	           FTCP_CASE(test_rst_to_closed_port_is_not_answered),
	           FTCP_CASE(test_data_without_ack_to_closed_port_rst_acks_seq_plus_seg_len),
	           FTCP_CASE(test_syn_to_bound_socket_that_does_not_listen_gets_rst),
	           /* close paths */
	           FTCP_CASE(test_active_close_fin_wait_1_fin_wait_2_time_wait),
	           FTCP_CASE(test_simultaneous_close_goes_through_closing),
	           FTCP_CASE(test_fin_acking_our_fin_goes_straight_to_time_wait),
	           FTCP_CASE(test_passive_close_close_wait_last_ack_closed),
	           FTCP_CASE(test_close_in_close_wait_frees_socket_when_fin_acked),
	           FTCP_CASE(test_half_close_we_still_receive_after_shutdown_wr),
	           FTCP_CASE(test_half_close_we_can_still_send_in_close_wait),
	           FTCP_CASE(test_close_sends_queued_data_then_fin_in_one_segment),
	           FTCP_CASE(test_time_wait_lasts_exactly_two_msl),
	           FTCP_CASE(test_orphan_time_wait_is_freed_after_two_msl),
	           FTCP_CASE(test_time_wait_reacks_retransmitted_fin_and_restarts_2msl),
	           FTCP_CASE(test_rst_in_time_wait_is_ignored_rfc1337),
	           FTCP_CASE(test_time_wait_reused_by_syn_with_higher_seq),
	           FTCP_CASE(test_time_wait_reused_by_syn_with_equal_timestamp_and_higher_seq),
	           FTCP_CASE(test_time_wait_rejects_syn_with_equal_timestamp_and_lower_seq),
	           FTCP_CASE(test_time_wait_reuse_picks_isn_above_old_connection),
	           FTCP_CASE(test_time_wait_rejects_older_syn_with_an_ack),
	           FTCP_CASE(test_time_wait_reused_by_syn_with_newer_timestamp_rfc6191),
	           FTCP_CASE(test_time_wait_rejects_syn_with_old_timestamp_rfc6191),
	           FTCP_CASE(test_orphan_fin_wait_2_times_out_after_tcp_fin_wait2_us),
	           FTCP_CASE(test_close_in_fin_wait_2_starts_the_fin_wait2_limit),
	           FTCP_CASE(test_close_with_unread_data_sends_rst),
	           FTCP_CASE(test_close_with_linger_zero_sends_rst),
	           FTCP_CASE(test_abort_sends_rst_at_snd_nxt_and_frees),
	           FTCP_CASE(test_rst_in_established_reports_econnreset),
	           FTCP_CASE(test_rst_in_close_wait_reports_econnreset),
	           FTCP_CASE(test_rst_in_last_ack_frees_the_orphan),
	           FTCP_CASE(test_fin_retransmitted_at_rto_with_backoff),
	           FTCP_CASE(test_orphan_fin_to_vanished_neighbour_times_out),
	           FTCP_CASE(test_shutdown_wr_twice_sends_one_fin),
	           /* listen, accept, backlog, SYN cookies */
	           FTCP_CASE(test_close_listener_resets_half_open_and_unaccepted_children),
	           FTCP_CASE(test_accept_queue_full_ignores_final_ack_until_accept),
	           FTCP_CASE(test_accept_queue_full_drops_new_syns),
	           FTCP_CASE(test_syn_queue_overflow_answers_with_a_syn_cookie),
	           FTCP_CASE(test_syn_cookie_without_timestamps_carries_mss_only),
	           FTCP_CASE(test_forged_syn_cookie_ack_gets_rst),
	           FTCP_CASE(test_syncookies_off_drops_syn_when_syn_queue_full),
	           FTCP_CASE(test_ten_peers_on_one_listening_port),
	           FTCP_CASE(test_rst_before_accept_still_accepted_reports_econnreset),
	           FTCP_CASE(test_close_listener_with_reset_unaccepted_child_frees_it));
}
