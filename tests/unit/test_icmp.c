/*
 * test_icmp.c — ICMP (RFC 792, RFC 1122 3.2.2): echo, destination
 * unreachable in both directions, the error rate limit, and ping.
 */
#include "proto_fixture.h"

#define CLOSED_PORT 6000

static const uint8_t echo_data[11] = "ping-data!";

static void inject_echo(struct fx *f, const struct ftcp_mac *eth_dst, uint32_t dst, uint8_t type,
                        uint16_t ident, uint16_t seq, const void *data, uint32_t len)
{
	uint8_t fr[FX_BUF];
	uint32_t n = harness_build_icmp_echo(fr, eth_dst, &f->pmac, FX_PEER_IP, dst, type, ident, seq,
	                                     data, len);
	harness_inject(&f->h, fr, n);
}

/* Build and inject an ICMP error of type/code quoting q (qlen bytes). */
static void inject_icmp_error(struct fx *f, uint8_t type, uint8_t code, const uint8_t *q,
                              uint32_t qlen)
{
	uint8_t fr[FX_BUF];
	struct ftcp_icmp_repr m;
	uint32_t n;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.code = code;
	m.data = q;
	m.data_len = qlen;
	ftcp_icmp_emit(&m, fr + FTCP_ETH_HLEN + FTCP_IPV4_HLEN);
	n = harness_build_ipv4(fr, &f->smac, &f->pmac, FX_PEER_IP, FX_IP, FTCP_IP_PROTO_ICMP,
	                       FTCP_ICMP_HLEN + qlen);
	harness_inject(&f->h, fr, n);
}

static void test_icmp_answers_echo_request(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	struct ftcp_eth_repr e;
	struct ftcp_ipv4_repr ip;
	struct ftcp_icmp_repr m;
	uint32_t n;

	fx_start(&f);
	fx_learn_peer(&f);
	inject_echo(&f, &f.smac, FX_IP, FTCP_ICMP_ECHO_REQUEST, 0xbeef, 0x0102, echo_data,
	            sizeof(echo_data));
	fx_step(&f);
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(fx_parse_icmp(buf, n, &e, &ip, &m));
	CU_ASSERT(ftcp_mac_eq(&e.dst, &f.pmac));
	ASSERT_EQ_U64(ip.src, FX_IP);
	ASSERT_EQ_U64(ip.dst, FX_PEER_IP);
	ASSERT_EQ_U64(m.type, FTCP_ICMP_ECHO_REPLY);
	ASSERT_EQ_U64(m.code, 0);
	ASSERT_EQ_U64(m.ident, 0xbeef);
	ASSERT_EQ_U64(m.seq, 0x0102);
	ASSERT_EQ_U64(m.data_len, sizeof(echo_data));
	CU_ASSERT(m.data_len == sizeof(echo_data) && memcmp(m.data, echo_data, m.data_len) == 0);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_echo_requests"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_rx"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 1);

	/* Odd length, and a large one (1472 bytes of data fills the MTU). */
	{
		static uint8_t big[1472];
		unsigned i;
		for (i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 7 + 3);
		inject_echo(&f, &f.smac, FX_IP, FTCP_ICMP_ECHO_REQUEST, 1, 2, big, 1);
		inject_echo(&f, &f.smac, FX_IP, FTCP_ICMP_ECHO_REQUEST, 1, 3, big, sizeof(big));
		fx_step(&f);
		n = fx_recv(&f, buf);
		CU_ASSERT_FATAL(fx_parse_icmp(buf, n, &e, &ip, &m));
		ASSERT_EQ_U64(m.seq, 2);
		ASSERT_EQ_U64(m.data_len, 1);
		n = fx_recv(&f, buf);
		CU_ASSERT_FATAL(fx_parse_icmp(buf, n, &e, &ip, &m));
		ASSERT_EQ_U64(m.seq, 3);
		ASSERT_EQ_U64(n, 14 + 1500);
		CU_ASSERT(m.data_len == sizeof(big) && memcmp(m.data, big, sizeof(big)) == 0);
	}
	fx_free(&f);
}

static void test_icmp_echo_from_unknown_neighbour_is_answered_after_arp(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	struct ftcp_eth_repr e;
	struct ftcp_ipv4_repr ip;
	struct ftcp_icmp_repr m;
	struct ftcp_arp_repr a;
	uint32_t n;

	fx_start(&f);
	inject_echo(&f, &f.smac, FX_IP, FTCP_ICMP_ECHO_REQUEST, 5, 6, "x", 1);
	fx_step(&f);
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_arp(buf, n, &e, &a));
	ASSERT_EQ_U64(a.tpa, FX_PEER_IP);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	n = harness_build_arp(buf, FTCP_ARP_REPLY, &f.smac, &f.pmac, FX_PEER_IP, &f.smac, FX_IP);
	harness_inject(&f.h, buf, n);
	fx_step(&f);
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_icmp(buf, n, &e, &ip, &m));
	ASSERT_EQ_U64(m.type, FTCP_ICMP_ECHO_REPLY);
	ASSERT_EQ_U64(m.ident, 5);
	CU_ASSERT(ftcp_mac_eq(&e.dst, &f.pmac));
	fx_free(&f);
}

static void test_icmp_drops_bad_checksum_and_short_messages(void)
{
	struct fx f;
	uint8_t fr[FX_BUF], buf[FX_BUF];
	uint32_t n;

	fx_start(&f);
	fx_learn_peer(&f);
	n = harness_build_icmp_echo(fr, &f.smac, &f.pmac, FX_PEER_IP, FX_IP, FTCP_ICMP_ECHO_REQUEST,
	                            1, 1, echo_data, sizeof(echo_data));
	fr[n - 1] ^= 0x40; /* payload changed after the checksum */
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_icmp_cksum"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_echo_requests"), 0);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);

	/* 7 bytes of ICMP: shorter than its header. */
	memset(fr + 34, 0, 7);
	fr[34] = FTCP_ICMP_ECHO_REQUEST;
	n = harness_build_ipv4(fr, &f.smac, &f.pmac, FX_PEER_IP, FX_IP, FTCP_IP_PROTO_ICMP, 7);
	harness_inject(&f.h, fr, n);
	/* 0 bytes. */
	n = harness_build_ipv4(fr, &f.smac, &f.pmac, FX_PEER_IP, FX_IP, FTCP_IP_PROTO_ICMP, 0);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_icmp_short"), 2);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_rx"), 3);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 0);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);

	/* Types we do not handle (timestamp request) are counted, unanswered. */
	inject_echo(&f, &f.smac, FX_IP, 13, 1, 1, "0123456789ab", 12);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_icmp_type"), 1);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	fx_free(&f);
}

static void test_icmp_ignores_broadcast_echo(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];

	fx_start(&f);
	fx_learn_peer(&f);
	inject_echo(&f, &ftcp_mac_broadcast, IP4(10, 0, 0, 255), FTCP_ICMP_ECHO_REQUEST, 1, 1, "a",
	            1);
	inject_echo(&f, &ftcp_mac_broadcast, 0xffffffffu, FTCP_ICMP_ECHO_REQUEST, 1, 2, "a", 1);
	harness_peer_drain(f.peer);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_rx"), 2);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_echo_requests"), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_icmp_type"), 2);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	/* A non-zero code on an echo request is not an echo request. */
	{
		uint8_t fr[FX_BUF];
		uint32_t n = harness_build_icmp_echo(fr, &f.smac, &f.pmac, FX_PEER_IP, FX_IP,
		                                     FTCP_ICMP_ECHO_REQUEST, 1, 3, "a", 1);
		uint8_t *icmp = fr + 34;
		icmp[1] = 1;
		ftcp_put_be16(icmp + 2, 0);
		ftcp_put_be16(icmp + 2, ftcp_cksum_finish(ftcp_cksum_add(0, icmp, 9)));
		harness_inject(&f.h, fr, n);
		fx_step(&f);
		ASSERT_EQ_U64(harness_counter(f.s, "icmp_echo_requests"), 0);
		ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	}
	fx_free(&f);
}

/* Expect a port unreachable quoting the datagram in orig (IP onwards). */
static void expect_port_unreach(struct fx *f, const uint8_t *orig, uint32_t quote_len)
{
	uint8_t buf[FX_BUF];
	struct ftcp_eth_repr e;
	struct ftcp_ipv4_repr ip;
	struct ftcp_icmp_repr m;
	uint32_t n = fx_recv(f, buf);

	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(fx_parse_icmp(buf, n, &e, &ip, &m));
	CU_ASSERT(ftcp_mac_eq(&e.dst, &f->pmac));
	ASSERT_EQ_U64(ip.dst, FX_PEER_IP);
	ASSERT_EQ_U64(m.type, FTCP_ICMP_DEST_UNREACH);
	ASSERT_EQ_U64(m.code, FTCP_ICMP_UNREACH_PORT);
	ASSERT_EQ_U64(m.rest, 0);
	ASSERT_EQ_U64(m.data_len, quote_len);
	CU_ASSERT(m.data_len == quote_len && memcmp(m.data, orig, quote_len) == 0);
}

static void test_icmp_port_unreachable_for_closed_udp_port(void)
{
	struct fx f;
	uint8_t fr[FX_BUF], buf[FX_BUF];
	static uint8_t big[1000];
	uint32_t n;

	fx_start(&f);
	fx_learn_peer(&f);
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, 4000, FX_IP, CLOSED_PORT, "hello",
	                      5);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_no_port"), 1);
	/* IP header + UDP header + the 5 data bytes. */
	expect_port_unreach(&f, fr + FTCP_ETH_HLEN, 20 + 8 + 5);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);

	/* A long datagram is quoted up to a 576-byte error (548 bytes). */
	memset(big, 0x3c, sizeof(big));
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, 4000, FX_IP, CLOSED_PORT, big,
	                      sizeof(big));
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	expect_port_unreach(&f, fr + FTCP_ETH_HLEN, 576 - 20 - 8);

	/* No error about a broadcast. */
	n = harness_build_udp(fr, &ftcp_mac_broadcast, &f.pmac, FX_PEER_IP, 4000, IP4(10, 0, 0, 255),
	                      CLOSED_PORT, "b", 1);
	harness_inject(&f.h, fr, n);
	n = harness_build_udp(fr, &ftcp_mac_broadcast, &f.pmac, FX_PEER_IP, 4000, 0xffffffffu,
	                      CLOSED_PORT, "b", 1);
	harness_inject(&f.h, fr, n);
	harness_peer_drain(f.peer);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_no_port"), 4);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 2);
	fx_free(&f);
}

static void test_icmp_no_error_about_link_layer_broadcast(void)
{
	/* RFC 1122 3.2.2: no ICMP error about a datagram that came as a
	 * link-layer broadcast, even when its IP destination is ours (Linux:
	 * pkt_type != PACKET_HOST). The datagram itself is still taken. */
	struct fx f;
	uint8_t fr[FX_BUF], buf[FX_BUF];
	uint32_t n;
	ftcp_sock_t h;

	fx_start(&f);
	fx_learn_peer(&f);
	h = ftcp_udp_open(f.s, NULL, NULL);
	{
		struct ftcp_sockaddr a = {0, 5000};
		CU_ASSERT_FATAL(ftcp_bind(f.s, h, &a) == 0);
	}
	n = harness_build_udp(fr, &ftcp_mac_broadcast, &f.pmac, FX_PEER_IP, 4000, FX_IP, CLOSED_PORT,
	                      "b", 1);
	harness_inject(&f.h, fr, n);
	n = harness_build_ipv4(fr, &ftcp_mac_broadcast, &f.pmac, FX_PEER_IP, FX_IP, 99, 0);
	harness_inject(&f.h, fr, n);
	n = harness_build_udp(fr, &ftcp_mac_broadcast, &f.pmac, FX_PEER_IP, 4000, FX_IP, 5000, "ok",
	                      2);
	harness_inject(&f.h, fr, n);
	harness_peer_drain(f.peer);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_no_port"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_ip_proto"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_errors_ratelimited"), 0);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 2);

	/* The same datagram unicast does draw the error. */
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, 4000, FX_IP, CLOSED_PORT, "b", 1);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 1);
	ASSERT_EQ_U64(harness_peer_drain(f.peer), 1);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_icmp_errors_are_rate_limited(void)
{
	struct fx f;
	struct ftcp_config c;
	uint8_t buf[FX_BUF];
	int i;

	fx_config(&c);
	c.icmp_burst = 2;
	c.icmp_rate = 1;
	fx_start_cfg(&f, &c, 0);
	fx_learn_peer(&f);
	for (i = 0; i < 5; i++)
		fx_inject_udp(&f, FX_PEER_IP, 4000, FX_IP, CLOSED_PORT, "z", 1);
	fx_step(&f);
	ASSERT_EQ_U64(harness_peer_drain(f.peer), 2);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_errors_ratelimited"), 3);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_no_port"), 5);

	/* 1 s of virtual time refills one token. */
	harness_run(&f.h, 1000000 - FX_STEP, FX_STEP);
	fx_inject_udp(&f, FX_PEER_IP, 4000, FX_IP, CLOSED_PORT, "z", 1);
	fx_inject_udp(&f, FX_PEER_IP, 4000, FX_IP, CLOSED_PORT, "z", 1);
	fx_step(&f);
	ASSERT_EQ_U64(harness_peer_drain(f.peer), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_errors_ratelimited"), 4);

	/* Echo replies are not errors: never rate limited. */
	for (i = 0; i < 4; i++)
		inject_echo(&f, &f.smac, FX_IP, FTCP_ICMP_ECHO_REQUEST, 1, (uint16_t)i, "e", 1);
	fx_step(&f);
	ASSERT_EQ_U64(harness_peer_drain(f.peer), 4);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_errors_ratelimited"), 4);
	(void)buf;
	fx_free(&f);
}

static void test_icmp_rate_limit_refills_under_a_steady_flood(void)
{
	/* Closed-port datagrams every 0.5 ms against 1 error/s: each arrival
	 * earns less than a thousandth of a token; those fractions must add
	 * up, not be rounded away, or the flood silences errors for good. */
	struct fx f;
	struct ftcp_config c;
	uint64_t t0;
	uint32_t sent = 0;

	fx_config(&c);
	c.icmp_burst = 1;
	c.icmp_rate = 1;
	c.arp_announce = 1;
	fx_start_cfg(&f, &c, 0);
	fx_learn_peer(&f);
	fx_inject_udp(&f, FX_PEER_IP, 4000, FX_IP, CLOSED_PORT, "z", 1);
	fx_step(&f);
	ASSERT_EQ_U64(harness_peer_drain(f.peer), 1);
	t0 = f.h.now;
	while (f.h.now < t0 + 2500000) {
		fx_inject_udp(&f, FX_PEER_IP, 4000, FX_IP, CLOSED_PORT, "z", 1);
		harness_step(&f.h, 500);
		sent += harness_peer_drain(f.peer);
	}
	/* One more at t0 + 1 s and t0 + 2 s. */
	ASSERT_EQ_U64(sent, 2);
	fx_free(&f);
}

/* Records what the socket callback saw. */
struct ev_log {
	unsigned calls;
	uint32_t events;
	ftcp_sock_t sock;
};

static void log_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t events, void *user)
{
	struct ev_log *l = user;
	(void)s;
	l->calls++;
	l->events |= events;
	l->sock = sock;
}

static void test_icmp_port_unreachable_sets_connected_udp_socket_error(void)
{
	struct fx f;
	uint8_t sent[FX_BUF];
	struct ev_log log = {0, 0, -1};
	struct ftcp_sockaddr peer = {FX_PEER_IP, 7000}, me;
	ftcp_sock_t h;
	uint32_t n;

	fx_start(&f);
	fx_learn_peer(&f);
	h = ftcp_udp_open(f.s, log_cb, &log);
	CU_ASSERT_FATAL(h >= 0);
	CU_ASSERT_FATAL(ftcp_connect(f.s, h, &peer) == 0);
	CU_ASSERT(ftcp_getsockname(f.s, h, &me) == 0);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "knock", 5, NULL), 5);
	fx_step(&f);
	n = fx_recv(&f, sent);
	CU_ASSERT_FATAL(n == 14 + 20 + 8 + 5);
	ASSERT_EQ_U64(ftcp_get_be16(sent + 34), me.port);

	/* The peer answers with a port unreachable quoting all of it. */
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_PORT, sent + 14, n - 14);
	ASSERT_EQ_U64(log.calls, 0);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_unreach_rx"), 1);
	ASSERT_EQ_U64(log.calls, 1);
	ASSERT_EQ_U64(log.events, FTCP_EV_ERROR);
	ASSERT_EQ_I64(log.sock, h);
	CU_ASSERT(ftcp_sock_readiness(f.s, h) & FTCP_EV_ERROR);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, h), -FTCP_ECONNREFUSED);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, h), 0);
	CU_ASSERT(!(ftcp_sock_readiness(f.s, h) & FTCP_EV_ERROR));

	/* Again, quoting only the header and 8 bytes (RFC 792 minimum): the
	 * next send reports the error once, the one after goes out. */
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_PORT, sent + 14, 28);
	fx_step(&f);
	ASSERT_EQ_U64(log.calls, 2);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "again", 5, NULL), -FTCP_ECONNREFUSED);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "again", 5, NULL), 5);
	fx_step(&f);
	ASSERT_EQ_U64(harness_peer_drain(f.peer), 1);

	/* recvfrom on an empty queue reports a pending error too. */
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_PORT, sent + 14, 28);
	fx_step(&f);
	{
		uint8_t b[8];
		ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, b, sizeof(b), 0, NULL, NULL, NULL),
		              -FTCP_ECONNREFUSED);
		ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, b, sizeof(b), 0, NULL, NULL, NULL), -FTCP_EAGAIN);
	}

	/* Other codes map to their errors. */
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_HOST, sent + 14, 28);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, h), -FTCP_EHOSTUNREACH);
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_NET, sent + 14, 28);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, h), -FTCP_ENETUNREACH);
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_FRAG_NEEDED, sent + 14, 28);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, h), -FTCP_EMSGSIZE);

	/* A quote too short to name the ports is ignored. */
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_PORT, sent + 14, 27);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, h), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_icmp_unreachable_ignored_for_other_sockets(void)
{
	struct fx f;
	uint8_t sent[FX_BUF], q[64];
	struct ev_log log = {0, 0, -1};
	struct ftcp_sockaddr peer = {FX_PEER_IP, 7000};
	ftcp_sock_t h;
	uint32_t n;

	fx_start(&f);
	fx_learn_peer(&f);
	/* Unconnected: like Linux without IP_RECVERR, no error. */
	h = fx_udp_bound(&f, 5000, log_cb, &log);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "knock", 5, &peer), 5);
	fx_step(&f);
	n = fx_recv(&f, sent);
	CU_ASSERT_FATAL(n > 0);
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_PORT, sent + 14, n - 14);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_unreach_rx"), 1);
	ASSERT_EQ_U64(log.calls, 0);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, h), 0);

	/* Connected, but the quote names another remote port or another
	 * source address: not ours. */
	CU_ASSERT_FATAL(ftcp_connect(f.s, h, &peer) == 0);
	memcpy(q, sent + 14, 28);
	ftcp_put_be16(q + 22, 7001);
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_PORT, q, 28);
	memcpy(q, sent + 14, 28);
	ftcp_put_be32(q + 12, IP4(10, 0, 0, 9));
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_PORT, q, 28);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_unreach_rx"), 3);
	ASSERT_EQ_U64(log.calls, 0);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, h), 0);
	/* The right one does count. */
	inject_icmp_error(&f, FTCP_ICMP_DEST_UNREACH, FTCP_ICMP_UNREACH_PORT, sent + 14, 28);
	fx_step(&f);
	ASSERT_EQ_U64(log.calls, 1);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, h), -FTCP_ECONNREFUSED);
	/* An ICMP error is never answered with an ICMP error. */
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

struct echo_log {
	unsigned calls;
	uint32_t from;
	uint16_t ident, seq;
	uint8_t data[64];
	uint32_t len;
	void *user_seen;
};

static void echo_cb(struct ftcp_stack *s, uint32_t from, uint16_t ident, uint16_t seq,
                    const uint8_t *data, uint32_t len, void *user)
{
	struct echo_log *l = user;
	(void)s;
	l->calls++;
	l->from = from;
	l->ident = ident;
	l->seq = seq;
	l->len = len;
	l->user_seen = user;
	memcpy(l->data, data, len < sizeof(l->data) ? len : sizeof(l->data));
}

static void test_icmp_ping_sends_request_and_reports_reply(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	struct ftcp_eth_repr e;
	struct ftcp_ipv4_repr ip;
	struct ftcp_icmp_repr m;
	struct echo_log log;
	uint32_t n;

	memset(&log, 0, sizeof(log));
	fx_start(&f);
	fx_learn_peer(&f);
	ftcp_set_echo_reply_cb(f.s, echo_cb, &log);
	ASSERT_EQ_I64(ftcp_ping(f.s, FX_PEER_IP, 0x4242, 17, "hello", 5), 0);
	fx_step(&f);
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_icmp(buf, n, &e, &ip, &m));
	CU_ASSERT(ftcp_mac_eq(&e.dst, &f.pmac));
	ASSERT_EQ_U64(ip.dst, FX_PEER_IP);
	ASSERT_EQ_U64(m.type, FTCP_ICMP_ECHO_REQUEST);
	ASSERT_EQ_U64(m.code, 0);
	ASSERT_EQ_U64(m.ident, 0x4242);
	ASSERT_EQ_U64(m.seq, 17);
	CU_ASSERT(m.data_len == 5 && memcmp(m.data, "hello", 5) == 0);
	ASSERT_EQ_U64(log.calls, 0);

	/* The peer answers. */
	inject_echo(&f, &f.smac, FX_IP, FTCP_ICMP_ECHO_REPLY, m.ident, m.seq, m.data, m.data_len);
	fx_step(&f);
	ASSERT_EQ_U64(log.calls, 1);
	ASSERT_EQ_U64(log.from, FX_PEER_IP);
	ASSERT_EQ_U64(log.ident, 0x4242);
	ASSERT_EQ_U64(log.seq, 17);
	ASSERT_EQ_U64(log.len, 5);
	CU_ASSERT(memcmp(log.data, "hello", 5) == 0);
	CU_ASSERT(log.user_seen == &log);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_echo_replies"), 1);

	/* Argument checks; a ping without data; the callback removed. */
	ASSERT_EQ_I64(ftcp_ping(f.s, FX_PEER_IP, 1, 1, NULL, 3), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_ping(f.s, FX_PEER_IP, 1, 1, buf, 1500 - 20 - 8 + 1), -FTCP_EMSGSIZE);
	ASSERT_EQ_I64(ftcp_ping(f.s, FX_PEER_IP, 1, 2, NULL, 0), 0);
	fx_step(&f);
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_icmp(buf, n, &e, &ip, &m));
	ASSERT_EQ_U64(m.data_len, 0);
	ftcp_set_echo_reply_cb(f.s, NULL, NULL);
	inject_echo(&f, &f.smac, FX_IP, FTCP_ICMP_ECHO_REPLY, 1, 2, NULL, 0);
	fx_step(&f);
	ASSERT_EQ_U64(log.calls, 1);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_echo_replies"), 2);
	fx_free(&f);
}

void register_icmp_tests(void);
void register_icmp_tests(void)
{
	FTCP_SUITE("icmp",
	           FTCP_CASE(test_icmp_answers_echo_request),
	           FTCP_CASE(test_icmp_echo_from_unknown_neighbour_is_answered_after_arp),
	           FTCP_CASE(test_icmp_drops_bad_checksum_and_short_messages),
	           FTCP_CASE(test_icmp_ignores_broadcast_echo),
	           FTCP_CASE(test_icmp_port_unreachable_for_closed_udp_port),
	           FTCP_CASE(test_icmp_no_error_about_link_layer_broadcast),
	           FTCP_CASE(test_icmp_errors_are_rate_limited),
	           FTCP_CASE(test_icmp_rate_limit_refills_under_a_steady_flood),
	           FTCP_CASE(test_icmp_port_unreachable_sets_connected_udp_socket_error),
	           FTCP_CASE(test_icmp_unreachable_ignored_for_other_sockets),
	           FTCP_CASE(test_icmp_ping_sends_request_and_reports_reply));
}
