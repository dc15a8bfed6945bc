/*
 * test_tcp_basic.c — scripted basics: both opens, data each way, the
 * orderly close from each side, negotiated options as seen on the wire.
 */
#include <string.h>

#include "tcp_fixture.h"

static void test_passive_open_answers_syn_with_synack_carrying_our_options(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn;
	const struct tf_seg *s;

	tf_init(&f, NULL);
	tf_listen(&f);
	syn = tf_syn_opts(&f, &TF_OPTS_ALL);
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &syn, NULL, 0);
	CU_ASSERT_FATAL(tf_recv(&f, &f.last, 1000));
	s = &f.last;
	CU_ASSERT_EQUAL(s->flags, TCP_S | TCP_A);
	CU_ASSERT_EQUAL(s->ack, f.piss + 1);
	CU_ASSERT(s->opt.has_mss && s->opt.mss == 1460);
	CU_ASSERT(s->opt.has_wscale && s->opt.wscale == 1); /* 65536 needs one bit more than 16 */
	CU_ASSERT(s->opt.sack_ok);
	CU_ASSERT(s->opt.has_ts && s->opt.ts_ecr == syn.ts_val);
	CU_ASSERT(s->ip_df && s->ip_ttl == 64);
	CU_ASSERT_EQUAL(s->win, 65535);
	tf_free(&f);
}

static void test_synack_echoes_only_what_the_syn_offered(void)
{
	struct tf f;
	struct ftcp_tcp_opts syn;

	tf_init(&f, NULL);
	tf_listen(&f);
	syn = tf_syn_opts(&f, &TF_OPTS_NONE);
	tf_inject(&f, TCP_S, f.piss, 0, 65535, &syn, NULL, 0);
	CU_ASSERT_FATAL(tf_recv(&f, &f.last, 1000));
	CU_ASSERT(f.last.opt.has_mss);
	CU_ASSERT(!f.last.opt.has_wscale);
	CU_ASSERT(!f.last.opt.sack_ok);
	CU_ASSERT(!f.last.opt.has_ts);
	tf_free(&f);
}

static void test_active_open_and_data_both_ways(void)
{
	struct tf f;
	char buf[64];
	const struct tf_seg *s;

	tf_init(&f, NULL);
	tf_active_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_send(f.s, f.sock, "hello", 5), 5);
	s = tf_expect(&f, TCP_A | TCP_P, 1, 1, 1000);
	CU_ASSERT(s->len == 5 && memcmp(s->data, "hello", 5) == 0);
	tf_send(&f, TCP_A | TCP_P, 1, 6, "world!", 6);
	tf_advance(&f, 1);
	CU_ASSERT(f.events & FTCP_EV_READABLE);
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 6);
	CU_ASSERT(memcmp(buf, "world!", 6) == 0);
	/* One small segment: the ACK is delayed, by at most tcp_delack_us. */
	tf_expect(&f, TCP_A, 6, 7, 41000);
	CU_ASSERT(f.last.at_us - tf_now(&f) <= 41000);
	tf_free(&f);
}

static void test_orderly_close_initiated_by_us_reaches_time_wait(void)
{
	struct tf f;

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	CU_ASSERT_EQUAL(ftcp_shutdown(f.s, f.sock, FTCP_SHUT_WR), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 1, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_FIN_WAIT_1);
	tf_send(&f, TCP_A, 1, 2, NULL, 0);
	tf_advance(&f, 1);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_FIN_WAIT_2);
	tf_send(&f, TCP_F | TCP_A, 1, 2, NULL, 0);
	tf_expect(&f, TCP_A, 2, 2, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_TIME_WAIT);
	/* 2 * MSL later the connection is gone. */
	tf_advance(&f, 2 * 30000000ull + 1000);
	CU_ASSERT(f.events & FTCP_EV_CLOSED);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSED);
	tf_free(&f);
}

static void test_orderly_close_initiated_by_peer_goes_through_last_ack(void)
{
	struct tf f;
	char buf[8];

	tf_init(&f, NULL);
	tf_passive_open(&f, &TF_OPTS_ALL);
	tf_send(&f, TCP_F | TCP_A, 1, 1, NULL, 0);
	tf_expect(&f, TCP_A, 1, 2, 1000);
	CU_ASSERT_EQUAL(tf_state(&f), FTCP_TCP_CLOSE_WAIT);
	CU_ASSERT(f.events & FTCP_EV_RDHUP);
	CU_ASSERT_EQUAL(ftcp_recv(f.s, f.sock, buf, sizeof(buf), 0), 0);
	CU_ASSERT_EQUAL(ftcp_close(f.s, f.sock), 0);
	tf_expect(&f, TCP_F | TCP_A, 1, 2, 1000);
	tf_send(&f, TCP_A, 2, 2, NULL, 0);
	tf_advance(&f, 10);
	CU_ASSERT_EQUAL(tf_counter(&f, "tcp_established"), 1);
	{
		struct ftcp_pool_stats ps;
		ftcp_stack_pool_stats(f.s, &ps);
		CU_ASSERT_EQUAL(ps.sockets_in_use, 1); /* the listener only */
	}
	tf_free(&f);
}

void register_tcp_basic_tests(void);
void register_tcp_basic_tests(void)
{
	FTCP_SUITE("tcp_basic",
	           FTCP_CASE(test_passive_open_answers_syn_with_synack_carrying_our_options),
	           FTCP_CASE(test_synack_echoes_only_what_the_syn_offered),
	           FTCP_CASE(test_active_open_and_data_both_ways),
	           FTCP_CASE(test_orderly_close_initiated_by_us_reaches_time_wait),
	           FTCP_CASE(test_orderly_close_initiated_by_peer_goes_through_last_ack));
}
