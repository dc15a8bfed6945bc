/*
 * test_udp.c — UDP sockets (RFC 768, RFC 1122 4.1): the socket calls and
 * their errors, demultiplexing, receive queues, events, pools and the
 * checksum offload path, against a raw peer.
 */
#include "proto_fixture.h"

#define PORT 5000
#define PEER_PORT 7000

struct ev_log {
	unsigned calls;
	uint32_t events;
	ftcp_sock_t sock;
	bool close_self;
	ftcp_sock_t also_close;
	int close_rc;
	unsigned readable_at_call; /* ftcp_sock_rx_pending seen in the callback */
};

static void ev_log_init(struct ev_log *l)
{
	memset(l, 0, sizeof(*l));
	l->sock = -1;
	l->also_close = -1;
}

static void log_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t events, void *user)
{
	struct ev_log *l = user;

	l->calls++;
	l->events |= events;
	l->sock = sock;
	l->readable_at_call = (unsigned)ftcp_sock_rx_pending(s, sock);
	if (l->close_self)
		l->close_rc = ftcp_close(s, sock);
	if (l->also_close >= 0)
		ftcp_close(s, l->also_close);
}

static void inject_from_peer(struct fx *f, uint16_t dport, const void *data, uint32_t len)
{
	fx_inject_udp(f, FX_PEER_IP, PEER_PORT, FX_IP, dport, data, len);
}

static int send_to_peer(struct fx *f, ftcp_sock_t h, const void *data, uint32_t len)
{
	struct ftcp_sockaddr to = {FX_PEER_IP, PEER_PORT};
	return ftcp_sendto(f->s, h, data, len, &to);
}

/* Receive the datagram the stack sent to the peer; returns its payload. */
static const uint8_t *peer_expect_udp(struct fx *f, uint8_t *buf, struct ftcp_udp_repr *u,
                                      uint32_t *plen)
{
	struct ftcp_eth_repr e;
	struct ftcp_ipv4_repr ip;
	uint32_t n = fx_recv(f, buf);
	const uint8_t *p;

	CU_ASSERT_FATAL(n > 0);
	p = fx_parse_udp(buf, n, &e, &ip, u, plen);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(ftcp_mac_eq(&e.dst, &f->pmac));
	ASSERT_EQ_U64(ip.src, FX_IP);
	ASSERT_EQ_U64(ip.dst, FX_PEER_IP);
	return p;
}

static void test_udp_sends_and_receives_with_peer(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	struct ftcp_udp_repr u;
	struct ftcp_sockaddr me, from;
	const uint8_t *p;
	uint32_t plen, oflags = 99, full = 0;
	ftcp_sock_t h;

	fx_start(&f);
	fx_learn_peer(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	CU_ASSERT(ftcp_getsockname(f.s, h, &me) == 0);
	ASSERT_EQ_U64(me.addr, 0);
	ASSERT_EQ_U64(me.port, PORT);
	ASSERT_EQ_I64(ftcp_getpeername(f.s, h, &from), -FTCP_ENOTCONN);

	ASSERT_EQ_I64(send_to_peer(&f, h, "request", 7), 7);
	fx_step(&f);
	p = peer_expect_udp(&f, buf, &u, &plen);
	ASSERT_EQ_U64(u.src_port, PORT);
	ASSERT_EQ_U64(u.dst_port, PEER_PORT);
	CU_ASSERT(plen == 7 && memcmp(p, "request", 7) == 0);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_tx"), 1);

	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &from, NULL, NULL), -FTCP_EAGAIN);
	inject_from_peer(&f, PORT, "response", 8);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_sock_rx_pending(f.s, h), 8);
	CU_ASSERT(ftcp_sock_readiness(f.s, h) & FTCP_EV_READABLE);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &from, &oflags, &full), 8);
	CU_ASSERT(memcmp(buf, "response", 8) == 0);
	ASSERT_EQ_U64(from.addr, FX_PEER_IP);
	ASSERT_EQ_U64(from.port, PEER_PORT);
	ASSERT_EQ_U64(oflags, 0);
	ASSERT_EQ_U64(full, 8);
	ASSERT_EQ_I64(ftcp_sock_rx_pending(f.s, h), 0);
	CU_ASSERT(!(ftcp_sock_readiness(f.s, h) & FTCP_EV_READABLE));
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &from, NULL, NULL), -FTCP_EAGAIN);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_rx"), 1);

	/* Datagrams queue in order. */
	inject_from_peer(&f, PORT, "one", 3);
	inject_from_peer(&f, PORT, "two!", 4);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 3);
	CU_ASSERT(memcmp(buf, "one", 3) == 0);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 4);
	CU_ASSERT(memcmp(buf, "two!", 4) == 0);
	CU_ASSERT(ftcp_close(f.s, h) == 0);
	fx_free(&f);
}

static void test_udp_bind_conflicts(void)
{
	struct fx f;
	struct ftcp_sockaddr any = {0, PORT}, mine = {FX_IP, PORT}, other = {FX_IP, PORT + 1};
	struct ftcp_sockaddr foreign = {IP4(10, 0, 0, 2), PORT + 2};
	ftcp_sock_t a, b, c;

	fx_start(&f);
	a = ftcp_udp_open(f.s, NULL, NULL);
	b = ftcp_udp_open(f.s, NULL, NULL);
	c = ftcp_udp_open(f.s, NULL, NULL);
	CU_ASSERT_FATAL(a >= 0 && b >= 0 && c >= 0);
	CU_ASSERT(a != b && b != c);

	ASSERT_EQ_I64(ftcp_bind(f.s, a, &any), 0);
	ASSERT_EQ_I64(ftcp_bind(f.s, b, &any), -FTCP_EADDRINUSE);
	ASSERT_EQ_I64(ftcp_bind(f.s, b, &mine), -FTCP_EADDRINUSE); /* specific vs wildcard */
	ASSERT_EQ_I64(ftcp_bind(f.s, a, &other), -FTCP_EINVAL);    /* binds once */
	ASSERT_EQ_I64(ftcp_bind(f.s, b, &foreign), -FTCP_EADDRNOTAVAIL);
	ASSERT_EQ_I64(ftcp_bind(f.s, b, NULL), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_bind(f.s, b, &other), 0);

	/* Wildcard vs specific the other way round. */
	other.addr = 0;
	ASSERT_EQ_I64(ftcp_bind(f.s, c, &other), -FTCP_EADDRINUSE);
	/* The port is free again after close. */
	CU_ASSERT(ftcp_close(f.s, a) == 0);
	ASSERT_EQ_I64(ftcp_bind(f.s, c, &mine), 0);
	{
		struct ftcp_sockaddr n;
		CU_ASSERT(ftcp_getsockname(f.s, c, &n) == 0);
		ASSERT_EQ_U64(n.addr, FX_IP);
		ASSERT_EQ_U64(n.port, PORT);
	}
	ftcp_close(f.s, b);
	ftcp_close(f.s, c);
	fx_free(&f);
}

static void test_udp_ephemeral_ports(void)
{
	struct fx f;
	struct ftcp_config c;
	struct ftcp_sockaddr zero = {0, 0}, n1, n2;
	ftcp_sock_t a, b;

	fx_config(&c);
	c.ephemeral_lo = 40000;
	c.ephemeral_hi = 40100;
	fx_start_cfg(&f, &c, 0);
	a = ftcp_udp_open(f.s, NULL, NULL);
	b = ftcp_udp_open(f.s, NULL, NULL);
	ASSERT_EQ_I64(ftcp_bind(f.s, a, &zero), 0);
	CU_ASSERT(ftcp_getsockname(f.s, a, &n1) == 0);
	CU_ASSERT(n1.port >= 40000 && n1.port <= 40100);
	/* sendto binds an unbound socket implicitly. */
	fx_learn_peer(&f);
	ASSERT_EQ_I64(send_to_peer(&f, b, "x", 1), 1);
	CU_ASSERT(ftcp_getsockname(f.s, b, &n2) == 0);
	CU_ASSERT(n2.port >= 40000 && n2.port <= 40100);
	CU_ASSERT(n1.port != n2.port);
	ASSERT_EQ_I64(ftcp_bind(f.s, b, &zero), -FTCP_EINVAL); /* already bound */
	fx_step(&f);
	{
		uint8_t buf[FX_BUF];
		struct ftcp_udp_repr u;
		uint32_t plen;
		peer_expect_udp(&f, buf, &u, &plen);
		ASSERT_EQ_U64(u.src_port, n2.port);
	}
	ftcp_close(f.s, a);
	ftcp_close(f.s, b);
	fx_free(&f);
}

static void test_udp_ephemeral_range_is_used_whole_and_only(void)
{
	struct fx f;
	struct ftcp_config c;
	struct ftcp_sockaddr zero = {0, 0}, n;
	ftcp_sock_t h[5];
	unsigned seen = 0, i;

	fx_config(&c);
	c.ephemeral_lo = 40000;
	c.ephemeral_hi = 40003;
	fx_start_cfg(&f, &c, 0);
	for (i = 0; i < 5; i++)
		h[i] = ftcp_udp_open(f.s, NULL, NULL);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ_I64(ftcp_bind(f.s, h[i], &zero), 0);
		CU_ASSERT(ftcp_getsockname(f.s, h[i], &n) == 0);
		CU_ASSERT(n.port >= 40000 && n.port <= 40003);
		if (n.port >= 40000 && n.port <= 40003)
			seen |= 1u << (n.port - 40000);
	}
	ASSERT_EQ_U64(seen, 0xf);
	ASSERT_EQ_I64(ftcp_bind(f.s, h[4], &zero), -FTCP_EADDRNOTAVAIL);
	for (i = 0; i < 5; i++)
		ftcp_close(f.s, h[i]);
	fx_free(&f);
}

static void test_udp_exhausted_ephemeral_range(void)
{
	struct fx f;
	struct ftcp_config c;
	struct ftcp_sockaddr zero = {0, 0}, n, peer = {FX_PEER_IP, PEER_PORT};
	ftcp_sock_t a, b;

	fx_config(&c);
	c.ephemeral_lo = 50000;
	c.ephemeral_hi = 50000;
	fx_start_cfg(&f, &c, 0);
	a = ftcp_udp_open(f.s, NULL, NULL);
	b = ftcp_udp_open(f.s, NULL, NULL);
	ASSERT_EQ_I64(ftcp_bind(f.s, a, &zero), 0);
	CU_ASSERT(ftcp_getsockname(f.s, a, &n) == 0);
	ASSERT_EQ_U64(n.port, 50000);
	ASSERT_EQ_I64(ftcp_bind(f.s, b, &zero), -FTCP_EADDRNOTAVAIL);
	ASSERT_EQ_I64(ftcp_connect(f.s, b, &peer), -FTCP_EADDRNOTAVAIL);
	ASSERT_EQ_I64(send_to_peer(&f, b, "x", 1), -FTCP_EADDRNOTAVAIL);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_tx"), 0);
	/* The failed attempts left b unbound: once the port frees, it works. */
	ftcp_close(f.s, a);
	ASSERT_EQ_I64(ftcp_bind(f.s, b, &zero), 0);
	CU_ASSERT(ftcp_getsockname(f.s, b, &n) == 0);
	ASSERT_EQ_U64(n.port, 50000);
	ftcp_close(f.s, b);
	fx_free(&f);
}

static void test_udp_connected_socket_receives_only_from_its_peer(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	struct ftcp_sockaddr peer = {FX_PEER_IP, PEER_PORT}, got, bad = {0, 9};
	ftcp_sock_t h;

	fx_start(&f);
	fx_learn_peer(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	ASSERT_EQ_I64(ftcp_connect(f.s, h, &bad), -FTCP_EINVAL);
	bad.addr = FX_PEER_IP;
	bad.port = 0;
	ASSERT_EQ_I64(ftcp_connect(f.s, h, &bad), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_connect(f.s, h, &peer), 0);
	CU_ASSERT(ftcp_getpeername(f.s, h, &got) == 0);
	ASSERT_EQ_U64(got.addr, FX_PEER_IP);
	ASSERT_EQ_U64(got.port, PEER_PORT);
	CU_ASSERT(ftcp_getsockname(f.s, h, &got) == 0);
	ASSERT_EQ_U64(got.addr, FX_IP); /* connected: the address it sends from */
	ASSERT_EQ_U64(got.port, PORT);

	/* Wrong source port, wrong source address: nobody takes them. */
	fx_inject_udp(&f, FX_PEER_IP, PEER_PORT + 1, FX_IP, PORT, "bad1", 4);
	fx_inject_udp(&f, IP4(10, 0, 0, 3), PEER_PORT, FX_IP, PORT, "bad2", 4);
	fx_inject_udp(&f, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "good", 4);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_no_port"), 2);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_rx"), 1);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &got, NULL, NULL), 4);
	CU_ASSERT(memcmp(buf, "good", 4) == 0);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &got, NULL, NULL), -FTCP_EAGAIN);
	harness_peer_drain(f.peer);

	/* Sending without an address goes to the peer. */
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "hey", 3, NULL), 3);
	fx_step(&f);
	{
		struct ftcp_udp_repr u;
		uint32_t plen;
		const uint8_t *p = peer_expect_udp(&f, buf, &u, &plen);
		ASSERT_EQ_U64(u.dst_port, PEER_PORT);
		CU_ASSERT(plen == 3 && memcmp(p, "hey", 3) == 0);
	}

	/* Re-connecting to another peer moves the filter. */
	peer.port = PEER_PORT + 1;
	ASSERT_EQ_I64(ftcp_connect(f.s, h, &peer), 0);
	fx_inject_udp(&f, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "old", 3);
	fx_inject_udp(&f, FX_PEER_IP, PEER_PORT + 1, FX_IP, PORT, "new", 3);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &got, NULL, NULL), 3);
	CU_ASSERT(memcmp(buf, "new", 3) == 0);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &got, NULL, NULL), -FTCP_EAGAIN);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_no_port"), 3);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_demux_survives_hash_collisions(void)
{
	/* One bucket: every socket shares each chain. Connect, re-connect,
	 * disconnect and close in the middle of chains, then check each
	 * datagram still finds its socket. */
	struct fx f;
	struct ftcp_config c;
	struct ftcp_sockaddr peer = {FX_PEER_IP, PEER_PORT};
	uint8_t buf[16];
	ftcp_sock_t h[6];
	int i;

	fx_config(&c);
	c.demux_buckets = 1;
	fx_start_cfg(&f, &c, 0);
	fx_learn_peer(&f);
	for (i = 0; i < 6; i++)
		h[i] = fx_udp_bound(&f, (uint16_t)(PORT + i), NULL, NULL);
	for (i = 0; i < 6; i += 2)
		CU_ASSERT(ftcp_connect(f.s, h[i], &peer) == 0);
	peer.port = PEER_PORT + 1;
	CU_ASSERT(ftcp_connect(f.s, h[2], &peer) == 0); /* re-connect */
	peer.addr = 0;
	peer.port = 0;
	CU_ASSERT(ftcp_connect(f.s, h[4], &peer) == 0); /* disconnect */
	CU_ASSERT(ftcp_close(f.s, h[3]) == 0);
	CU_ASSERT(ftcp_close(f.s, h[0]) == 0);
	h[0] = fx_udp_bound(&f, PORT, NULL, NULL); /* reuses a freed slot */

	for (i = 0; i < 6; i++)
		fx_inject_udp(&f, FX_PEER_IP, (uint16_t)(i == 2 ? PEER_PORT + 1 : PEER_PORT), FX_IP,
		              (uint16_t)(PORT + i), &i, 1);
	fx_inject_udp(&f, FX_PEER_IP, PEER_PORT, FX_IP, PORT + 2, "x", 1); /* old peer */
	fx_step(&f);
	for (i = 0; i < 6; i++) {
		if (i == 3)
			continue;
		ASSERT_EQ_I64(ftcp_recvfrom(f.s, h[i], buf, sizeof(buf), 0, NULL, NULL, NULL), 1);
		ASSERT_EQ_U64(buf[0], (uint8_t)i);
		ASSERT_EQ_I64(ftcp_recvfrom(f.s, h[i], buf, sizeof(buf), 0, NULL, NULL, NULL),
		              -FTCP_EAGAIN);
	}
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_no_port"), 2);
	for (i = 0; i < 6; i++)
		if (i != 3)
			CU_ASSERT(ftcp_close(f.s, h[i]) == 0);
	fx_assert_pools_empty(f.s);
	fx_free(&f);
}

static void test_udp_disconnect_accepts_everyone_again(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	struct ftcp_sockaddr peer = {FX_PEER_IP, PEER_PORT}, none = {0, 0}, got;
	ftcp_sock_t h;

	fx_start(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	ASSERT_EQ_I64(ftcp_connect(f.s, h, &peer), 0);
	ASSERT_EQ_I64(ftcp_connect(f.s, h, &none), 0);
	ASSERT_EQ_I64(ftcp_getpeername(f.s, h, &got), -FTCP_ENOTCONN);
	CU_ASSERT(ftcp_getsockname(f.s, h, &got) == 0);
	ASSERT_EQ_U64(got.port, PORT); /* still bound */
	ASSERT_EQ_U64(got.addr, 0);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "x", 1, NULL), -FTCP_EDESTADDRREQ);

	fx_inject_udp(&f, IP4(10, 0, 0, 3), 1234, FX_IP, PORT, "any", 3);
	fx_inject_udp(&f, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "peer", 4);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &got, NULL, NULL), 3);
	ASSERT_EQ_U64(got.addr, IP4(10, 0, 0, 3));
	ASSERT_EQ_U64(got.port, 1234);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &got, NULL, NULL), 4);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_no_port"), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_sendto_argument_errors(void)
{
	struct fx f;
	struct ftcp_sockaddr zero_port = {FX_PEER_IP, 0};
	ftcp_sock_t h;

	fx_start(&f);
	h = ftcp_udp_open(f.s, NULL, NULL);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "x", 1, NULL), -FTCP_EDESTADDRREQ);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "x", 1, &zero_port), -FTCP_EINVAL);
	ASSERT_EQ_I64(send_to_peer(&f, h, NULL, 1), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, NULL, 1, 0, NULL, NULL, NULL), -FTCP_EINVAL);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_tx"), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_peek_leaves_datagram_queued(void)
{
	struct fx f;
	uint8_t buf[32];
	struct ftcp_sockaddr from;
	ftcp_sock_t h;

	fx_start(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	inject_from_peer(&f, PORT, "first", 5);
	inject_from_peer(&f, PORT, "second", 6);
	fx_step(&f);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), FTCP_MSG_PEEK, &from, NULL, NULL), 5);
	CU_ASSERT(memcmp(buf, "first", 5) == 0);
	ASSERT_EQ_U64(from.port, PEER_PORT);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, 2, FTCP_MSG_PEEK, NULL, NULL, NULL), 2);
	ASSERT_EQ_I64(ftcp_sock_rx_pending(f.s, h), 5);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 5);
	CU_ASSERT(memcmp(buf, "first", 5) == 0);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 6);
	CU_ASSERT(memcmp(buf, "second", 6) == 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_truncates_long_datagram(void)
{
	struct fx f;
	uint8_t buf[32];
	uint32_t oflags = 0, full = 0;
	ftcp_sock_t h;

	fx_start(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	inject_from_peer(&f, PORT, "0123456789", 10);
	inject_from_peer(&f, PORT, "next", 4);
	fx_step(&f);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, 4, 0, NULL, &oflags, &full), 4);
	CU_ASSERT(memcmp(buf, "0123", 4) == 0);
	ASSERT_EQ_U64(buf[4], 0);
	CU_ASSERT(oflags & FTCP_MSG_TRUNC);
	ASSERT_EQ_U64(full, 10);
	/* The rest of it is gone: the next read is the next datagram. */
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, &oflags, &full), 4);
	CU_ASSERT(memcmp(buf, "next", 4) == 0);
	ASSERT_EQ_U64(oflags, 0);
	ASSERT_EQ_U64(full, 4);
	/* Peek with truncation reports it too and keeps the datagram. */
	inject_from_peer(&f, PORT, "abcdef", 6);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, 3, FTCP_MSG_PEEK, NULL, &oflags, &full), 3);
	CU_ASSERT(oflags & FTCP_MSG_TRUNC);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, 0, 0, NULL, &oflags, &full), 0);
	CU_ASSERT(oflags & FTCP_MSG_TRUNC);
	ASSERT_EQ_U64(full, 6);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), -FTCP_EAGAIN);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_zero_length_datagrams(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	struct ftcp_udp_repr u;
	struct ftcp_sockaddr from;
	uint32_t plen, oflags = 7, full = 7;
	ftcp_sock_t h;

	fx_start(&f);
	fx_learn_peer(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	ASSERT_EQ_I64(send_to_peer(&f, h, NULL, 0), 0);
	fx_step(&f);
	peer_expect_udp(&f, buf, &u, &plen);
	ASSERT_EQ_U64(u.len, 8);
	ASSERT_EQ_U64(plen, 0);

	inject_from_peer(&f, PORT, NULL, 0);
	fx_step(&f);
	CU_ASSERT(ftcp_sock_readiness(f.s, h) & FTCP_EV_READABLE);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &from, &oflags, &full), 0);
	ASSERT_EQ_U64(from.addr, FX_PEER_IP);
	ASSERT_EQ_U64(oflags, 0);
	ASSERT_EQ_U64(full, 0);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &from, NULL, NULL), -FTCP_EAGAIN);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_rejects_datagram_larger_than_mtu(void)
{
	struct fx f;
	struct ftcp_config c;
	static uint8_t big[1500];
	uint8_t buf[FX_BUF];
	struct ftcp_udp_repr u;
	uint32_t plen;
	ftcp_sock_t h;

	fx_start(&f);
	fx_learn_peer(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	ASSERT_EQ_I64(send_to_peer(&f, h, big, 1500 - 28 + 1), -FTCP_EMSGSIZE);
	ASSERT_EQ_I64(send_to_peer(&f, h, big, 70000), -FTCP_EMSGSIZE);
	ASSERT_EQ_I64(send_to_peer(&f, h, big, 1500 - 28), 1472);
	fx_step(&f);
	peer_expect_udp(&f, buf, &u, &plen);
	ASSERT_EQ_U64(plen, 1472);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ftcp_close(f.s, h);
	fx_free(&f);

	/* The limit follows the configured MTU. */
	fx_config(&c);
	c.mtu = 576;
	fx_start_cfg(&f, &c, 0);
	fx_learn_peer(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	ASSERT_EQ_I64(send_to_peer(&f, h, big, 576 - 28 + 1), -FTCP_EMSGSIZE);
	ASSERT_EQ_I64(send_to_peer(&f, h, big, 576 - 28), 548);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_checksum_and_length_validation(void)
{
	struct fx f;
	uint8_t fr[FX_BUF], buf[64];
	uint8_t *udp = fr + FTCP_ETH_HLEN + FTCP_IPV4_HLEN;
	uint32_t n;
	ftcp_sock_t h;

	fx_start(&f);
	fx_learn_peer(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);

	/* Bad checksum: a payload bit flipped in transit. */
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "data", 4);
	udp[9] ^= 0x10;
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_cksum"), 1);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), -FTCP_EAGAIN);

	/* Checksum 0: the sender computed none (RFC 768). */
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "nosum", 5);
	ftcp_put_be16(udp + 6, 0);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 5);
	CU_ASSERT(memcmp(buf, "nosum", 5) == 0);

	/* UDP length beyond the IP payload. */
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "long", 4);
	ftcp_put_be16(udp + 4, 8 + 5);
	harness_inject(&f.h, fr, n);
	/* UDP length beyond the IP payload but inside Ethernet padding:
	 * the padding is not datagram. */
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "pad", 3);
	ftcp_put_be16(udp + 4, 8 + 3 + 2);
	memset(fr + n, 0, 60 - n);
	harness_inject(&f.h, fr, 60);
	/* UDP length below its own header. */
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "tiny", 4);
	ftcp_put_be16(udp + 4, 7);
	harness_inject(&f.h, fr, n);
	/* IP payload shorter than a UDP header. */
	memcpy(udp, "\x1b\x58\x13\x88\x00\x08", 6);
	n = harness_build_ipv4(fr, &f.smac, &f.pmac, FX_PEER_IP, FX_IP, FTCP_IP_PROTO_UDP, 6);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_short"), 3);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_len"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_cksum"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_rx"), 1);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), -FTCP_EAGAIN);

	/* UDP length shorter than the IP payload: the UDP length rules and
	 * the checksum covers only it. */
	{
		struct ftcp_udp_repr u = {PEER_PORT, PORT, 8 + 2, 0};
		n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "abXY",
		                      4);
		ftcp_udp_emit(&u, udp, FX_PEER_IP, FX_IP, true);
		harness_inject(&f.h, fr, n);
		fx_step(&f);
		ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 2);
		CU_ASSERT(memcmp(buf, "ab", 2) == 0);
	}
	/* No ICMP about any of it. */
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_drops_when_receive_buffer_full(void)
{
	struct fx f;
	struct ftcp_config c;
	static uint8_t data[1400], buf[1400];
	int i;
	ftcp_sock_t h;

	fx_config(&c);
	c.rx_buffer_size = 4096; /* two 1400-byte datagrams */
	fx_start_cfg(&f, &c, 0);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	for (i = 0; i < 4; i++) {
		data[0] = (uint8_t)i;
		inject_from_peer(&f, PORT, data, sizeof(data));
	}
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_rx"), 2);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_rcvbuf"), 2);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 1400);
	ASSERT_EQ_U64(buf[0], 0);
	/* Reading made room for one more. */
	data[0] = 9;
	inject_from_peer(&f, PORT, data, sizeof(data));
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_rx"), 3);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 1400);
	ASSERT_EQ_U64(buf[0], 1);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 1400);
	ASSERT_EQ_U64(buf[0], 9);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_readable_event_fires_from_poll(void)
{
	struct fx f;
	struct ev_log log;
	uint8_t buf[16];
	ftcp_sock_t h;

	ev_log_init(&log);
	fx_start(&f);
	h = fx_udp_bound(&f, PORT, log_cb, &log);
	inject_from_peer(&f, PORT, "a", 1);
	inject_from_peer(&f, PORT, "bb", 2);
	ASSERT_EQ_U64(log.calls, 0);
	fx_step(&f);
	/* Both datagrams in one poll: one callback, data already queued. */
	ASSERT_EQ_U64(log.calls, 1);
	ASSERT_EQ_U64(log.events, FTCP_EV_READABLE);
	ASSERT_EQ_I64(log.sock, h);
	ASSERT_EQ_U64(log.readable_at_call, 1);
	fx_step(&f);
	ASSERT_EQ_U64(log.calls, 1); /* edge: nothing new, no event */
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 1);
	inject_from_peer(&f, PORT, "c", 1);
	fx_step(&f);
	ASSERT_EQ_U64(log.calls, 2);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_callback_may_close_its_socket(void)
{
	struct fx f;
	struct ev_log la, lb, lc;
	struct ftcp_pool_stats ps;
	uint8_t buf[16];
	ftcp_sock_t a, b, c;

	ev_log_init(&la);
	ev_log_init(&lb);
	fx_start(&f);
	a = fx_udp_bound(&f, PORT, log_cb, &la);
	b = fx_udp_bound(&f, PORT + 1, log_cb, &lb);
	la.close_self = true;
	la.also_close = b; /* and the other socket, whose event is queued */
	inject_from_peer(&f, PORT, "a", 1);
	inject_from_peer(&f, PORT + 1, "b", 1);
	fx_step(&f);
	ASSERT_EQ_U64(la.calls, 1);
	ASSERT_EQ_I64(la.close_rc, 0);
	ASSERT_EQ_U64(lb.calls, 0);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.sockets_in_use, 0);
	ASSERT_EQ_U64(ps.rx_buffers_in_use, 0);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, a, buf, sizeof(buf), 0, NULL, NULL, NULL), -FTCP_EBADF);

	/* Datagrams for the closed ports are now unclaimed; a new socket
	 * on a freed slot sees none of the old events, but its own. */
	ev_log_init(&lc);
	c = fx_udp_bound(&f, PORT + 2, log_cb, &lc);
	inject_from_peer(&f, PORT, "a", 1);
	fx_step(&f);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_no_port"), 1);
	ASSERT_EQ_U64(la.calls, 1);
	ASSERT_EQ_U64(lb.calls, 0);
	ASSERT_EQ_U64(lc.calls, 0);
	inject_from_peer(&f, PORT + 2, "c", 1);
	fx_step(&f);
	ASSERT_EQ_U64(lc.calls, 1);
	ASSERT_EQ_I64(lc.sock, c);
	ftcp_close(f.s, c);
	fx_free(&f);
}

static void test_udp_stale_handle_is_refused_after_slot_reuse(void)
{
	struct fx f;
	struct ftcp_sockaddr a = {0, PORT}, n;
	uint8_t buf[8];
	ftcp_sock_t old, cur;

	fx_start(&f);
	old = fx_udp_bound(&f, PORT, NULL, NULL);
	CU_ASSERT(ftcp_close(f.s, old) == 0);
	cur = ftcp_udp_open(f.s, NULL, NULL);
	CU_ASSERT_FATAL(cur >= 0);
	CU_ASSERT(cur != old);
	CU_ASSERT((cur & 0xfffff) == (old & 0xfffff)); /* same slot, reused */

	ASSERT_EQ_I64(ftcp_close(f.s, old), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_bind(f.s, old, &a), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_connect(f.s, old, &a), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_sendto(f.s, old, "x", 1, &a), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, old, buf, sizeof(buf), 0, NULL, NULL, NULL), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_getsockname(f.s, old, &n), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_getpeername(f.s, old, &n), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_sock_error(f.s, old), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_sock_readiness(f.s, old), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_sock_rx_pending(f.s, old), -FTCP_EBADF);
	/* Never-valid handles. */
	ASSERT_EQ_I64(ftcp_close(f.s, -1), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_close(f.s, 12345), -FTCP_EBADF);
	ASSERT_EQ_I64(ftcp_close(f.s, 0x7fffffff), -FTCP_EBADF);

	/* The new owner is untouched. */
	ASSERT_EQ_I64(ftcp_bind(f.s, cur, &a), 0);
	CU_ASSERT(ftcp_getsockname(f.s, cur, &n) == 0);
	ASSERT_EQ_U64(n.port, PORT);
	CU_ASSERT(ftcp_close(f.s, cur) == 0);
	ASSERT_EQ_I64(ftcp_close(f.s, cur), -FTCP_EBADF);
	fx_free(&f);
}

static void test_udp_socket_table_exhaustion(void)
{
	struct fx f;
	struct ftcp_config c;
	struct ftcp_pool_stats ps;
	ftcp_sock_t h[4];
	int i;

	fx_config(&c);
	c.max_sockets = 4;
	c.rx_buffers = 8;
	fx_start_cfg(&f, &c, 0);
	for (i = 0; i < 4; i++) {
		h[i] = ftcp_udp_open(f.s, NULL, NULL);
		CU_ASSERT(h[i] >= 0);
	}
	ASSERT_EQ_I64(ftcp_udp_open(f.s, NULL, NULL), -FTCP_EMFILE);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.sockets_in_use, 4);
	ASSERT_EQ_U64(ps.sockets_max, 4);
	ASSERT_EQ_U64(ps.socket_alloc_failures, 1);
	ASSERT_EQ_U64(ps.rx_buffers_in_use, 4);
	ftcp_close(f.s, h[2]);
	h[2] = ftcp_udp_open(f.s, NULL, NULL);
	CU_ASSERT(h[2] >= 0);
	for (i = 0; i < 4; i++)
		ftcp_close(f.s, h[i]);
	fx_assert_pools_empty(f.s);
	fx_free(&f);
}

static void test_udp_rx_buffer_pool_exhaustion(void)
{
	struct fx f;
	struct ftcp_config c;
	struct ftcp_pool_stats ps;
	ftcp_sock_t a, b, d;

	fx_config(&c);
	c.max_sockets = 8;
	c.rx_buffers = 2;
	fx_start_cfg(&f, &c, 0);
	a = ftcp_udp_open(f.s, NULL, NULL);
	b = ftcp_udp_open(f.s, NULL, NULL);
	CU_ASSERT(a >= 0 && b >= 0);
	ASSERT_EQ_I64(ftcp_udp_open(f.s, NULL, NULL), -FTCP_ENOBUFS);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.sockets_in_use, 2); /* the half-made socket was given back */
	ASSERT_EQ_U64(ps.rx_buffers_in_use, 2);
	ASSERT_EQ_U64(ps.rx_buffer_alloc_failures, 1);
	ftcp_close(f.s, a);
	d = ftcp_udp_open(f.s, NULL, NULL);
	CU_ASSERT(d >= 0);
	ftcp_close(f.s, b);
	ftcp_close(f.s, d);
	fx_assert_pools_empty(f.s);
	fx_free(&f);
}

static void test_udp_full_tx_fifo_gives_eagain_then_writable(void)
{
	struct fx f;
	struct ftcp_config c;
	struct ev_log log, log2, log3;
	static uint8_t big[1472];
	uint8_t buf[FX_BUF];
	int ok = 0, rc = 0, i;
	ftcp_sock_t h, h2, h3;

	ev_log_init(&log);
	ev_log_init(&log2);
	ev_log_init(&log3);
	fx_config(&c);
	c.tx_fifo_size = 4096; /* two full-size frames */
	fx_start_cfg(&f, &c, 0);
	fx_learn_peer(&f);
	h = fx_udp_bound(&f, PORT, log_cb, &log);
	for (i = 0; i < 10; i++) {
		rc = send_to_peer(&f, h, big, sizeof(big));
		if (rc < 0)
			break;
		ok++;
	}
	ASSERT_EQ_I64(rc, -FTCP_EAGAIN);
	ASSERT_EQ_I64(ok, 2);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_tx_fifo_full"), 1);
	CU_ASSERT(!(ftcp_sock_readiness(f.s, h) & FTCP_EV_WRITABLE));
	ASSERT_EQ_I64(send_to_peer(&f, h, big, sizeof(big)), -FTCP_EAGAIN);
	ASSERT_EQ_U64(log.calls, 0);
	/* Another socket blocked too; a third never tried. */
	h2 = fx_udp_bound(&f, PORT + 1, log_cb, &log2);
	h3 = fx_udp_bound(&f, PORT + 2, log_cb, &log3);
	ASSERT_EQ_I64(send_to_peer(&f, h2, big, sizeof(big)), -FTCP_EAGAIN);

	fx_step(&f); /* drains the fifo and reports WRITABLE */
	ASSERT_EQ_U64(log.calls, 1);
	ASSERT_EQ_U64(log.events, FTCP_EV_WRITABLE);
	ASSERT_EQ_U64(log2.calls, 1);
	ASSERT_EQ_U64(log2.events, FTCP_EV_WRITABLE);
	ASSERT_EQ_U64(log3.calls, 0);
	CU_ASSERT(ftcp_sock_readiness(f.s, h) & FTCP_EV_WRITABLE);
	ASSERT_EQ_U64(harness_peer_drain(f.peer), 2);
	/* A send that succeeds but leaves less than the WRITABLE level owes
	 * the sender an event too: a poller saw it unwritable. */
	ASSERT_EQ_I64(send_to_peer(&f, h, big, sizeof(big)), 1472);
	CU_ASSERT(!(ftcp_sock_readiness(f.s, h) & FTCP_EV_WRITABLE));
	fx_step(&f);
	ASSERT_EQ_U64(fx_recv(&f, buf), 14 + 1500);
	ASSERT_EQ_U64(log.calls, 2);
	CU_ASSERT(ftcp_sock_readiness(f.s, h) & FTCP_EV_WRITABLE);
	ASSERT_EQ_U64(log2.calls, 1); /* it did not send again: no event */
	ASSERT_EQ_U64(log3.calls, 0);
	ftcp_close(f.s, h);
	ftcp_close(f.s, h2);
	ftcp_close(f.s, h3);
	fx_free(&f);
}

static void test_udp_fifos_wrap_without_corruption(void)
{
	/* Small TX and RX fifos, datagrams of changing sizes: records wrap
	 * around both rings many times; every byte must survive. */
	struct fx f;
	struct ftcp_config c;
	static uint8_t data[1472], got[1472], buf[FX_BUF];
	struct ftcp_udp_repr u;
	const uint8_t *p;
	uint32_t plen, len, i, j;
	ftcp_sock_t h;

	fx_config(&c);
	c.tx_fifo_size = 4096;
	c.rx_buffer_size = 4096;
	fx_start_cfg(&f, &c, 0);
	fx_learn_peer(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	for (i = 0; i < 150; i++) {
		len = (i * 389u) % 1473u;
		for (j = 0; j < len; j++)
			data[j] = (uint8_t)(i + j * 7);
		ASSERT_EQ_I64(send_to_peer(&f, h, data, len), (int64_t)len);
		if (i % 3 == 0) /* sometimes two in the fifo at once */
			ASSERT_EQ_I64(send_to_peer(&f, h, data, len / 2), (int64_t)(len / 2));
		inject_from_peer(&f, PORT, data, len);
		fx_step(&f);
		p = peer_expect_udp(&f, buf, &u, &plen);
		CU_ASSERT_FATAL(plen == len);
		CU_ASSERT_FATAL(memcmp(p, data, len) == 0);
		if (i % 3 == 0) {
			p = peer_expect_udp(&f, buf, &u, &plen);
			CU_ASSERT_FATAL(plen == len / 2 && memcmp(p, data, len / 2) == 0);
		}
		ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, got, sizeof(got), 0, NULL, NULL, NULL),
		              (int64_t)len);
		CU_ASSERT_FATAL(memcmp(got, data, len) == 0);
	}
	ASSERT_EQ_U64(harness_counter(f.s, "drop_tx_fifo_full"), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_rcvbuf"), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_pools_return_to_zero_after_close(void)
{
	struct fx f;
	struct ftcp_sockaddr peer = {FX_PEER_IP, PEER_PORT};
	struct ftcp_pool_stats ps;
	ftcp_sock_t h[5];
	int i;

	fx_start(&f);
	fx_learn_peer(&f);
	for (i = 0; i < 5; i++) {
		h[i] = fx_udp_bound(&f, (uint16_t)(PORT + i), NULL, NULL);
		if (i & 1)
			CU_ASSERT(ftcp_connect(f.s, h[i], &peer) == 0);
		ASSERT_EQ_I64(send_to_peer(&f, h[i], "x", 1), 1);
		inject_from_peer(&f, (uint16_t)(PORT + i), "y", 1);
	}
	fx_step(&f);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.sockets_in_use, 5);
	ASSERT_EQ_U64(ps.rx_buffers_in_use, 5);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_rx"), 5);
	for (i = 0; i < 5; i++)
		CU_ASSERT(ftcp_close(f.s, h[i]) == 0);
	fx_step(&f);
	fx_assert_pools_empty(f.s);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.arp_held_frames, 0);
	/* The ports are all free again. */
	for (i = 0; i < 5; i++) {
		h[i] = fx_udp_bound(&f, (uint16_t)(PORT + i), NULL, NULL);
		ftcp_close(f.s, h[i]);
	}
	fx_free(&f);
}

static void test_udp_checksum_offload_path(void)
{
	struct fx f;
	struct ftcp_config c;
	uint8_t fr[FX_BUF], buf[FX_BUF];
	struct ftcp_udp_repr u;
	struct ftcp_eth_repr e;
	struct ftcp_ipv4_repr ip;
	struct ftcp_icmp_repr m;
	const uint8_t *p;
	uint32_t plen, n;
	ftcp_sock_t h;

	fx_config(&c);
	fx_start_cfg(&f, &c,
	             FTCP_DEV_TX_IPV4_CKSUM | FTCP_DEV_TX_UDP_CKSUM | FTCP_DEV_RX_CKSUM);
	h = fx_udp_bound(&f, PORT, NULL, NULL);

	/* Held for ARP first, then sent: checksums still right. */
	ASSERT_EQ_I64(send_to_peer(&f, h, "held!", 5), 5);
	fx_step(&f);
	harness_peer_drain(f.peer);
	n = harness_build_arp(fr, FTCP_ARP_REPLY, &f.smac, &f.pmac, FX_PEER_IP, &f.smac, FX_IP);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	p = peer_expect_udp(&f, buf, &u, &plen); /* verifies IP and UDP sums */
	CU_ASSERT(plen == 5 && memcmp(p, "held!", 5) == 0);
	/* Straight to the fifo, odd and even lengths. */
	ASSERT_EQ_I64(send_to_peer(&f, h, "odd", 3), 3);
	ASSERT_EQ_I64(send_to_peer(&f, h, "even", 4), 4);
	fx_step(&f);
	p = peer_expect_udp(&f, buf, &u, &plen);
	CU_ASSERT(plen == 3 && memcmp(p, "odd", 3) == 0);
	p = peer_expect_udp(&f, buf, &u, &plen);
	CU_ASSERT(plen == 4 && memcmp(p, "even", 4) == 0);
	/* ICMP (IP checksum offloaded, ICMP in software). */
	n = harness_build_icmp_echo(fr, &f.smac, &f.pmac, FX_PEER_IP, FX_IP, FTCP_ICMP_ECHO_REQUEST,
	                            3, 4, "ping", 4);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_icmp(buf, n, &e, &ip, &m));
	ASSERT_EQ_U64(m.type, FTCP_ICMP_ECHO_REPLY);

	/* Receive: the port flags checksums; bad ones are dropped. */
	inject_from_peer(&f, PORT, "good", 4);
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "bad!", 4);
	fr[n - 1] ^= 1;
	harness_inject(&f.h, fr, n);
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "badip", 5);
	fr[14 + 8] ^= 1; /* TTL, header checksum now wrong */
	harness_inject(&f.h, fr, n);
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, PEER_PORT, FX_IP, PORT, "zero", 4);
	ftcp_put_be16(fr + 34 + 6, 0);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_cksum"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_ip_cksum"), 1);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 4);
	CU_ASSERT(memcmp(buf, "good", 4) == 0);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), 4);
	CU_ASSERT(memcmp(buf, "zero", 4) == 0);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), -FTCP_EAGAIN);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_udp_stacks_talk_to_each_other(void)
{
	/* Two stacks on the link: ARP, send and receive end to end, with
	 * offload on one side only. */
	struct harness h;
	struct ftcp_config c;
	struct ftcp_stack *a, *b;
	struct ftcp_sockaddr to = {IP4(10, 0, 0, 2), 9000}, from;
	uint8_t buf[64];
	ftcp_sock_t sa, sb;
	int i, rc = -1;

	harness_init(&h);
	harness_config(&c, IP4(10, 0, 0, 1));
	a = harness_add(&h, &c, FTCP_DEV_TX_IPV4_CKSUM | FTCP_DEV_TX_UDP_CKSUM | FTCP_DEV_RX_CKSUM,
	                NULL);
	harness_config(&c, IP4(10, 0, 0, 2));
	b = harness_add(&h, &c, 0, NULL);
	sa = ftcp_udp_open(a, NULL, NULL);
	sb = ftcp_udp_open(b, NULL, NULL);
	{
		struct ftcp_sockaddr any = {0, 9000};
		CU_ASSERT_FATAL(ftcp_bind(b, sb, &any) == 0);
	}
	ASSERT_EQ_I64(ftcp_sendto(a, sa, "over the link", 13, &to), 13);
	for (i = 0; i < 10 && rc < 0; i++) {
		harness_step(&h, FX_STEP);
		rc = ftcp_recvfrom(b, sb, buf, sizeof(buf), 0, &from, NULL, NULL);
	}
	ASSERT_EQ_I64(rc, 13);
	CU_ASSERT(memcmp(buf, "over the link", 13) == 0);
	ASSERT_EQ_U64(from.addr, IP4(10, 0, 0, 1));
	/* And back. */
	ASSERT_EQ_I64(ftcp_sendto(b, sb, "back", 4, &from), 4);
	rc = -1;
	for (i = 0; i < 10 && rc < 0; i++) {
		harness_step(&h, FX_STEP);
		rc = ftcp_recvfrom(a, sa, buf, sizeof(buf), 0, NULL, NULL, NULL);
	}
	ASSERT_EQ_I64(rc, 4);
	ASSERT_EQ_U64(harness_counter(a, "drop_udp_cksum") + harness_counter(b, "drop_udp_cksum"),
	              0);
	ftcp_close(a, sa);
	ftcp_close(b, sb);
	harness_free(&h);
}

void register_udp_tests(void);
void register_udp_tests(void)
{
	FTCP_SUITE("udp",
	           FTCP_CASE(test_udp_sends_and_receives_with_peer),
	           FTCP_CASE(test_udp_bind_conflicts),
	           FTCP_CASE(test_udp_ephemeral_ports),
	           FTCP_CASE(test_udp_ephemeral_range_is_used_whole_and_only),
	           FTCP_CASE(test_udp_exhausted_ephemeral_range),
	           FTCP_CASE(test_udp_connected_socket_receives_only_from_its_peer),
	           FTCP_CASE(test_udp_demux_survives_hash_collisions),
	           FTCP_CASE(test_udp_disconnect_accepts_everyone_again),
	           FTCP_CASE(test_udp_sendto_argument_errors),
	           FTCP_CASE(test_udp_peek_leaves_datagram_queued),
	           FTCP_CASE(test_udp_truncates_long_datagram),
	           FTCP_CASE(test_udp_zero_length_datagrams),
	           FTCP_CASE(test_udp_rejects_datagram_larger_than_mtu),
	           FTCP_CASE(test_udp_checksum_and_length_validation),
	           FTCP_CASE(test_udp_drops_when_receive_buffer_full),
	           FTCP_CASE(test_udp_readable_event_fires_from_poll),
	           FTCP_CASE(test_udp_callback_may_close_its_socket),
	           FTCP_CASE(test_udp_stale_handle_is_refused_after_slot_reuse),
	           FTCP_CASE(test_udp_socket_table_exhaustion),
	           FTCP_CASE(test_udp_rx_buffer_pool_exhaustion),
	           FTCP_CASE(test_udp_full_tx_fifo_gives_eagain_then_writable),
	           FTCP_CASE(test_udp_fifos_wrap_without_corruption),
	           FTCP_CASE(test_udp_pools_return_to_zero_after_close),
	           FTCP_CASE(test_udp_checksum_offload_path),
	           FTCP_CASE(test_udp_stacks_talk_to_each_other));
}
