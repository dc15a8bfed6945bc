/*
 * test_link.c — stacks talking to each other over the in-memory link:
 * ARP resolution, ping and UDP exchange, without and with faults from the
 * fault injector (drop, duplicate, reorder, corrupt, delay, rate limit).
 *
 * Every datagram carries a sequence number and a checksum of its own (FNV-1a
 * over the payload), so the test sees any loss, duplication, reordering or
 * damage the stacks let through.
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_harness.h"
#include "ftcp_test.h"

#define A_IP IP4(10, 0, 0, 1)
#define B_IP IP4(10, 0, 0, 2)
#define C_IP IP4(10, 0, 0, 3)
#define ECHO_PORT 7
#define MAX_DGRAM 1472 /* a 1500-byte MTU minus IPv4 and UDP headers */
#define MAX_SEQ 4096

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Payload: seq (4) | length (4) | fnv of the rest (4) | pseudo-random fill. */
static uint32_t make_dgram(uint8_t *buf, uint32_t seq, uint32_t len, uint32_t salt)
{
	uint32_t i, x = seq * 2654435761u ^ salt;

	if (len < 12)
		len = 12;
	for (i = 12; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	memcpy(buf, &seq, 4);
	memcpy(buf + 4, &len, 4);
	x = fnv1a(buf + 12, len - 12);
	memcpy(buf + 8, &x, 4);
	return len;
}

static bool check_dgram(const uint8_t *buf, uint32_t n, uint32_t *seq)
{
	uint32_t len, sum;

	if (n < 12)
		return false;
	memcpy(seq, buf, 4);
	memcpy(&len, buf + 4, 4);
	memcpy(&sum, buf + 8, 4);
	return len == n && sum == fnv1a(buf + 12, n - 12);
}

/* ---- an echo server and a counting client, driven by socket events ---- */

struct echo_server {
	ftcp_sock_t sock;
	uint64_t echoed, send_fail;
};

static void echo_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct echo_server *e = user;
	uint8_t buf[2048];
	struct ftcp_sockaddr from;
	int n;

	if (!(ev & FTCP_EV_READABLE))
		return;
	while ((n = ftcp_recvfrom(s, sock, buf, sizeof(buf), 0, &from, NULL, NULL)) >= 0) {
		if (ftcp_sendto(s, sock, buf, (uint32_t)n, &from) == n)
			e->echoed++;
		else
			e->send_fail++;
	}
}

struct client {
	ftcp_sock_t sock;
	uint64_t received, bad, dups, out_of_order, events;
	uint32_t last_seq;
	bool seen_any;
	uint8_t seen[MAX_SEQ];
};

static void client_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct client *c = user;
	uint8_t buf[2048];
	uint32_t seq;
	int n;

	c->events++;
	if (!(ev & FTCP_EV_READABLE))
		return;
	while ((n = ftcp_recvfrom(s, sock, buf, sizeof(buf), 0, NULL, NULL, NULL)) >= 0) {
		if (!check_dgram(buf, (uint32_t)n, &seq) || seq >= MAX_SEQ) {
			c->bad++;
			continue;
		}
		if (c->seen[seq])
			c->dups++;
		c->seen[seq] = 1;
		if (c->seen_any && seq < c->last_seq)
			c->out_of_order++;
		c->last_seq = seq;
		c->seen_any = true;
		c->received++;
	}
}

struct exchange {
	struct harness h;
	struct ftcp_stack *a, *b;
	struct echo_server srv;
	struct client cli;
};

static void exchange_setup(struct exchange *x, uint32_t caps, const struct ftcp_fault_config *fa,
                           const struct ftcp_fault_config *fb)
{
	struct ftcp_config ca, cb;
	struct ftcp_sockaddr any = {0, ECHO_PORT};

	memset(x, 0, sizeof(*x));
	harness_init(&x->h);
	harness_config(&ca, A_IP);
	harness_config(&cb, B_IP);
	x->a = harness_add(&x->h, &ca, caps, fa);
	x->b = harness_add(&x->h, &cb, caps, fb);
	x->srv.sock = ftcp_udp_open(x->b, echo_cb, &x->srv);
	CU_ASSERT_FATAL(x->srv.sock >= 0);
	CU_ASSERT_FATAL(ftcp_bind(x->b, x->srv.sock, &any) == 0);
	x->cli.sock = ftcp_udp_open(x->a, client_cb, &x->cli);
	CU_ASSERT_FATAL(x->cli.sock >= 0);
}

/* Send n datagrams of varying size from A to B's echo port, paced one per
 * step_us, then let the link settle. Returns how many sends succeeded. */
static uint32_t exchange_run(struct exchange *x, uint32_t n, uint64_t step_us, uint64_t settle_us)
{
	struct ftcp_sockaddr to = {B_IP, ECHO_PORT};
	uint8_t buf[MAX_DGRAM];
	uint32_t i, ok = 0;

	for (i = 0; i < n; i++) {
		uint32_t len = make_dgram(buf, i, 12 + (i * 97) % (MAX_DGRAM - 12), 0xabc);
		if (ftcp_sendto(x->a, x->cli.sock, buf, len, &to) == (int)len)
			ok++;
		harness_step(&x->h, step_us);
	}
	harness_run(&x->h, settle_us, 100);
	return ok;
}

static void exchange_teardown(struct exchange *x)
{
	struct ftcp_pool_stats ps;

	CU_ASSERT(ftcp_close(x->a, x->cli.sock) == 0);
	CU_ASSERT(ftcp_close(x->b, x->srv.sock) == 0);
	ftcp_stack_pool_stats(x->a, &ps);
	CU_ASSERT_EQUAL(ps.sockets_in_use, 0);
	CU_ASSERT_EQUAL(ps.rx_buffers_in_use, 0);
	harness_free(&x->h);
}

/* ---- ARP and ping ---- */

struct ping_state {
	uint32_t replies, bad;
	uint16_t last_seq;
};

static void on_echo(struct ftcp_stack *s, uint32_t from, uint16_t ident, uint16_t seq,
                    const uint8_t *data, uint32_t len, void *user)
{
	struct ping_state *p = user;
	uint32_t i;

	(void)s;
	if (from != B_IP || ident != 0x4242 || len != 56) {
		p->bad++;
		return;
	}
	for (i = 0; i < len; i++)
		if (data[i] != (uint8_t)(seq + i)) {
			p->bad++;
			return;
		}
	p->replies++;
	p->last_seq = seq;
}

static bool arp_resolved(void *arg)
{
	struct exchange *x = arg;
	return ftcp_arp_lookup(x->a, B_IP, NULL) == 0;
}

static void test_link_arp_resolution_between_two_stacks(void)
{
	struct exchange x;
	struct ftcp_mac mac_b, mac_a;
	struct ftcp_sockaddr to = {B_IP, ECHO_PORT};

	exchange_setup(&x, 0, NULL, NULL);
	CU_ASSERT_EQUAL(ftcp_arp_lookup(x.a, B_IP, NULL), -FTCP_EHOSTUNREACH);
	/* The first datagram starts resolution and waits for it. */
	CU_ASSERT_EQUAL(ftcp_sendto(x.a, x.cli.sock, "hello world!", 12, &to), 12);
	CU_ASSERT_EQUAL(ftcp_arp_lookup(x.a, B_IP, NULL), -FTCP_EINPROGRESS);
	CU_ASSERT(harness_run_until(&x.h, arp_resolved, &x, 100000, 100));
	CU_ASSERT_EQUAL(ftcp_arp_lookup(x.a, B_IP, &mac_b), 0);
	CU_ASSERT(memcmp(mac_b.b, x.h.nodes[1].port.dev.mac.b, 6) == 0);
	/* B learned A from the request that targeted it (RFC 826). */
	CU_ASSERT_EQUAL(ftcp_arp_lookup(x.b, A_IP, &mac_a), 0);
	CU_ASSERT(memcmp(mac_a.b, x.h.nodes[0].port.dev.mac.b, 6) == 0);
	harness_run(&x.h, 10000, 100);
	CU_ASSERT_EQUAL(x.srv.echoed, 1);
	CU_ASSERT_EQUAL(x.cli.received, 0); /* 12 bytes fail our length check */
	CU_ASSERT_EQUAL(harness_counter(x.a, "arp_tx_requests"), 1 + 1); /* announce + request */
	CU_ASSERT_EQUAL(harness_counter(x.a, "drop_arp_unresolved"), 0);
	exchange_teardown(&x);
}

static void test_link_ping_many_echoes_verified(void)
{
	struct exchange x;
	struct ping_state p = {0, 0, 0};
	uint8_t data[56];
	uint16_t seq, i;

	exchange_setup(&x, 0, NULL, NULL);
	ftcp_set_echo_reply_cb(x.a, on_echo, &p);
	for (seq = 0; seq < 200; seq++) {
		for (i = 0; i < sizeof(data); i++)
			data[i] = (uint8_t)(seq + i);
		CU_ASSERT_EQUAL(ftcp_ping(x.a, B_IP, 0x4242, seq, data, sizeof(data)), 0);
		harness_run(&x.h, 1000, 100);
	}
	CU_ASSERT_EQUAL(p.replies, 200);
	CU_ASSERT_EQUAL(p.bad, 0);
	CU_ASSERT_EQUAL(p.last_seq, 199);
	CU_ASSERT_EQUAL(harness_counter(x.b, "icmp_echo_requests"), 200);
	CU_ASSERT_EQUAL(harness_counter(x.a, "icmp_echo_replies"), 200);
	exchange_teardown(&x);
}

/* ARP requests and replies get lost too; retries must still resolve. */
static void test_link_arp_resolves_through_heavy_loss(void)
{
	struct ftcp_fault_config f;
	struct exchange x;
	struct ping_state p = {0, 0, 0};
	uint8_t data[56];
	uint16_t seq, i;
	unsigned seed;

	for (seed = 1; seed <= 5; seed++) {
		memset(&f, 0, sizeof(f));
		f.seed = seed;
		f.slots = 256;
		f.max_frame = 1514;
		f.tx.drop_ppm = 400000; /* 40 % of what A sends */
		exchange_setup(&x, 0, &f, NULL);
		ftcp_set_echo_reply_cb(x.a, on_echo, &p);
		for (seq = 0; seq < 30; seq++) {
			for (i = 0; i < sizeof(data); i++)
				data[i] = (uint8_t)(seq + i);
			ftcp_ping(x.a, B_IP, 0x4242, seq, data, sizeof(data));
			harness_run(&x.h, 1100000, 1000); /* > arp_retry_us */
		}
		CU_ASSERT_EQUAL(ftcp_arp_lookup(x.a, B_IP, NULL), 0);
		CU_ASSERT(p.replies > 5);
		CU_ASSERT_EQUAL(p.bad, 0);
		p.replies = 0;
		exchange_teardown(&x);
	}
}

/* ---- UDP exchange ---- */

static void test_link_udp_echo_clean_link_delivers_everything_in_order(void)
{
	struct exchange x;
	uint32_t sent;

	exchange_setup(&x, 0, NULL, NULL);
	sent = exchange_run(&x, 2000, 200, 10000);
	CU_ASSERT_EQUAL(sent, 2000);
	ASSERT_EQ_U64(x.srv.echoed, 2000);
	ASSERT_EQ_U64(x.cli.received, 2000);
	ASSERT_EQ_U64(x.cli.bad, 0);
	ASSERT_EQ_U64(x.cli.dups, 0);
	ASSERT_EQ_U64(x.cli.out_of_order, 0);
	ASSERT_EQ_U64(harness_counter(x.a, "udp_tx"), 2000);
	ASSERT_EQ_U64(harness_counter(x.b, "udp_rx"), 2000);
	exchange_teardown(&x);
}

static void test_link_udp_echo_with_checksum_offload(void)
{
	struct exchange x;
	uint32_t caps = FTCP_DEV_TX_IPV4_CKSUM | FTCP_DEV_TX_UDP_CKSUM | FTCP_DEV_RX_CKSUM;

	exchange_setup(&x, caps, NULL, NULL);
	CU_ASSERT_EQUAL(exchange_run(&x, 500, 200, 10000), 500);
	ASSERT_EQ_U64(x.cli.received, 500);
	ASSERT_EQ_U64(x.cli.bad, 0);
	ASSERT_EQ_U64(harness_counter(x.b, "drop_udp_cksum"), 0);
	ASSERT_EQ_U64(harness_counter(x.b, "drop_ip_cksum"), 0);
	exchange_teardown(&x);
}

static void fault_defaults(struct ftcp_fault_config *f, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->seed = seed;
	f->slots = 1024;
	f->max_frame = 1514;
}

static void test_link_udp_echo_with_ten_percent_loss_each_way(void)
{
	struct ftcp_fault_config fa, fb;
	struct exchange x;
	double expect = 2000 * 0.9 * 0.9 * 0.9 * 0.9; /* four lossy hops */

	fault_defaults(&fa, 11);
	fault_defaults(&fb, 12);
	fa.tx.drop_ppm = fa.rx.drop_ppm = 100000;
	fb.tx.drop_ppm = fb.rx.drop_ppm = 100000;
	exchange_setup(&x, 0, &fa, &fb);
	/* Prime ARP so the loss statistics are about datagrams. */
	harness_run(&x.h, 10000, 100);
	exchange_run(&x, 2000, 200, 4000000);
	CU_ASSERT(x.cli.received > expect * 0.85 && x.cli.received < expect * 1.15);
	CU_ASSERT(x.cli.received < 2000);
	ASSERT_EQ_U64(x.cli.bad, 0);
	ASSERT_EQ_U64(x.cli.dups, 0);
	CU_ASSERT(x.h.nodes[0].fault.tx_stats.dropped > 100);
	CU_ASSERT(x.h.nodes[1].fault.rx_stats.dropped > 100);
	exchange_teardown(&x);
}

static void test_link_udp_duplication_reaches_the_application(void)
{
	struct ftcp_fault_config fa;
	struct exchange x;

	fault_defaults(&fa, 21);
	fa.tx.dup_ppm = 200000;
	exchange_setup(&x, 0, &fa, NULL);
	harness_run(&x.h, 10000, 100);
	exchange_run(&x, 1000, 200, 10000);
	/* UDP does not deduplicate: every duplicate is echoed back. */
	ASSERT_EQ_U64(x.cli.received - x.cli.dups, 1000);
	CU_ASSERT(x.cli.dups > 120 && x.cli.dups < 280);
	ASSERT_EQ_U64(x.cli.dups, x.h.nodes[0].fault.tx_stats.duplicated);
	ASSERT_EQ_U64(x.cli.bad, 0);
	exchange_teardown(&x);
}

static void test_link_udp_reordering_is_visible_but_lossless(void)
{
	struct ftcp_fault_config fb;
	struct exchange x;

	fault_defaults(&fb, 31);
	fb.tx.reorder_ppm = 100000;
	fb.tx.reorder_delay_us = 1500; /* overtaken by the next several datagrams */
	exchange_setup(&x, 0, NULL, &fb);
	harness_run(&x.h, 10000, 100);
	exchange_run(&x, 1000, 200, 50000);
	ASSERT_EQ_U64(x.cli.received, 1000);
	ASSERT_EQ_U64(x.cli.dups, 0);
	ASSERT_EQ_U64(x.cli.bad, 0);
	CU_ASSERT(x.cli.out_of_order > 50);
	CU_ASSERT(x.h.nodes[1].fault.tx_stats.reordered > 50);
	exchange_teardown(&x);
}

/* One corruption point per direction, so each damaged frame has exactly one
 * flipped bit, which the Internet checksum always detects (two flips can
 * cancel out: RFC 1071's sum is that weak). ARP carries no checksum, so
 * neighbours are resolved before the faults start. */
static void test_link_udp_corruption_never_reaches_the_application(void)
{
	struct ftcp_fault_config fa, fb;
	struct exchange x;
	uint64_t bad_requests, bad_replies;
	uint32_t caps;

	for (caps = 0; caps <= 1; caps++) {
		uint32_t dev_caps = caps ? FTCP_DEV_TX_IPV4_CKSUM | FTCP_DEV_TX_UDP_CKSUM |
		                               FTCP_DEV_RX_CKSUM
		                         : 0;
		fault_defaults(&fa, 41 + caps);
		fault_defaults(&fb, 43 + caps);
		fa.tx.delay_us = fb.tx.delay_us = 1; /* active: frames are copied */
		exchange_setup(&x, dev_caps, &fa, &fb);
		exchange_run(&x, 1, 200, 10000);
		ASSERT_EQ_U64(x.cli.received, 1);
		x.h.nodes[0].fault.cfg.tx.corrupt_ppm = 200000; /* requests A -> B */
		x.h.nodes[1].fault.cfg.tx.corrupt_ppm = 200000; /* replies B -> A */
		exchange_run(&x, 1500, 200, 20000);
		bad_requests = x.h.nodes[0].fault.tx_stats.corrupted;
		bad_replies = x.h.nodes[1].fault.tx_stats.corrupted;
		CU_ASSERT(bad_requests > 200 && bad_replies > 200);
		ASSERT_EQ_U64(x.cli.bad, 0);
		/* Every damaged frame was dropped by a check, none delivered. */
		ASSERT_EQ_U64(x.srv.echoed, 1 + 1500 - bad_requests);
		ASSERT_EQ_U64(x.cli.received, x.srv.echoed - bad_replies);
		CU_ASSERT(harness_counter(x.b, "drop_udp_cksum") + harness_counter(x.b, "drop_ip_cksum") > 0);
		exchange_teardown(&x);
	}
}

struct rtt_probe {
	uint64_t *now;
	uint64_t sent_at, rtt;
	bool got;
};

static void rtt_echo(struct ftcp_stack *s, uint32_t from, uint16_t ident, uint16_t seq,
                     const uint8_t *data, uint32_t len, void *user)
{
	struct rtt_probe *r = user;
	(void)s, (void)from, (void)ident, (void)seq, (void)data, (void)len;
	r->rtt = *r->now - r->sent_at;
	r->got = true;
}

static bool rtt_done(void *arg)
{
	return ((struct rtt_probe *)arg)->got;
}

static void test_link_delay_adds_to_round_trip_time(void)
{
	struct ftcp_fault_config fa, fb;
	struct exchange x;
	struct rtt_probe r;

	fault_defaults(&fa, 51);
	fault_defaults(&fb, 52);
	fa.tx.delay_us = 5000;
	fb.tx.delay_us = 3000;
	exchange_setup(&x, 0, &fa, &fb);
	harness_run(&x.h, 100000, 100); /* let gratuitous ARP pass */
	memset(&r, 0, sizeof(r));
	r.now = &x.h.now;
	ftcp_set_echo_reply_cb(x.a, rtt_echo, &r);
	/* First ping also pays for ARP: request and reply are delayed too. */
	ftcp_ping(x.a, B_IP, 1, 1, "x", 1);
	r.sent_at = x.h.now;
	CU_ASSERT(harness_run_until(&x.h, rtt_done, &r, 1000000, 100));
	CU_ASSERT(r.rtt >= 2 * 8000 && r.rtt <= 2 * 8000 + 1000);
	r.got = false;
	ftcp_ping(x.a, B_IP, 1, 2, "x", 1);
	r.sent_at = x.h.now;
	CU_ASSERT(harness_run_until(&x.h, rtt_done, &r, 1000000, 100));
	CU_ASSERT(r.rtt >= 8000 && r.rtt <= 8000 + 500);
	exchange_teardown(&x);
}

static void test_link_rate_limit_bounds_throughput(void)
{
	struct ftcp_fault_config fa;
	struct exchange x;
	struct ftcp_sockaddr to = {B_IP, ECHO_PORT};
	uint8_t buf[MAX_DGRAM];
	uint64_t start, bytes = 0, elapsed;
	uint32_t i, len;

	fault_defaults(&fa, 61);
	fa.tx.rate_bps = 10000000; /* 10 Mbit/s out of A */
	exchange_setup(&x, 0, &fa, NULL);
	harness_run(&x.h, 10000, 100);
	start = x.h.now;
	for (i = 0; i < 400; i++) {
		len = make_dgram(buf, i, 1000, 7);
		if (ftcp_sendto(x.a, x.cli.sock, buf, len, &to) == (int)len)
			bytes += len + 42; /* + Ethernet, IPv4, UDP headers */
		harness_step(&x.h, 50); /* offered: ~160 Mbit/s */
	}
	while (x.srv.echoed < 400 && x.h.now - start < 2000000)
		harness_step(&x.h, 100);
	elapsed = x.h.now - start;
	ASSERT_EQ_U64(x.srv.echoed, 400);
	/* 400 frames of 1042 bytes at 10 Mbit/s take ~333 ms. */
	CU_ASSERT(elapsed >= bytes * 8 * 1000000 / 10000000);
	CU_ASSERT(elapsed <= bytes * 8 * 1000000 / 10000000 + 20000);
	exchange_teardown(&x);
}

/* All faults at once, both directions: still no damage gets through and
 * the same seed gives the same outcome. */
static void run_mixed(struct exchange *x, uint64_t seed)
{
	struct ftcp_fault_config fa, fb;

	fault_defaults(&fa, seed);
	fault_defaults(&fb, seed + 1000);
	fa.tx.drop_ppm = fb.tx.drop_ppm = 50000;
	fa.tx.dup_ppm = fb.rx.dup_ppm = 30000;
	fa.rx.corrupt_ppm = fb.tx.corrupt_ppm = 30000;
	fa.tx.reorder_ppm = fb.tx.reorder_ppm = 50000;
	fa.tx.reorder_delay_us = fb.tx.reorder_delay_us = 700;
	fa.tx.delay_us = fb.tx.delay_us = 300;
	fa.tx.jitter_us = fb.tx.jitter_us = 200;
	exchange_setup(x, 0, &fa, &fb);
	exchange_run(x, 1500, 150, 2000000);
}

static void test_link_udp_mixed_faults_are_deterministic_for_a_seed(void)
{
	struct exchange x1, x2;
	uint64_t r1, d1, o1;

	run_mixed(&x1, 77);
	ASSERT_EQ_U64(x1.cli.bad, 0);
	CU_ASSERT(x1.cli.received > 1000);
	CU_ASSERT(x1.cli.dups > 0);
	CU_ASSERT(x1.cli.out_of_order > 0);
	r1 = x1.cli.received;
	d1 = x1.cli.dups;
	o1 = x1.cli.out_of_order;
	exchange_teardown(&x1);

	run_mixed(&x2, 77);
	ASSERT_EQ_U64(x2.cli.received, r1);
	ASSERT_EQ_U64(x2.cli.dups, d1);
	ASSERT_EQ_U64(x2.cli.out_of_order, o1);
	exchange_teardown(&x2);
}

/* ---- three stacks: broadcast and the default gateway ---- */

struct bcast_rx {
	uint32_t got;
};

static void bcast_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct bcast_rx *r = user;
	uint8_t buf[64];
	(void)ev;
	while (ftcp_recvfrom(s, sock, buf, sizeof(buf), 0, NULL, NULL, NULL) >= 0)
		r->got++;
}

static void test_link_broadcast_reaches_every_other_stack(void)
{
	struct harness h;
	struct ftcp_stack *a, *b, *c;
	struct bcast_rx rb = {0}, rc = {0};
	struct ftcp_sockaddr port = {0, 9999}, all = {IP4(255, 255, 255, 255), 9999},
	                     subnet = {IP4(10, 0, 0, 255), 9999};
	ftcp_sock_t sa, sb, sc;

	harness_init(&h);
	a = harness_add_simple(&h, A_IP);
	b = harness_add_simple(&h, B_IP);
	c = harness_add_simple(&h, C_IP);
	sa = ftcp_udp_open(a, NULL, NULL);
	sb = ftcp_udp_open(b, bcast_cb, &rb);
	sc = ftcp_udp_open(c, bcast_cb, &rc);
	CU_ASSERT(ftcp_bind(b, sb, &port) == 0);
	CU_ASSERT(ftcp_bind(c, sc, &port) == 0);
	CU_ASSERT_EQUAL(ftcp_sendto(a, sa, "ping", 4, &all), 4);
	CU_ASSERT_EQUAL(ftcp_sendto(a, sa, "ping", 4, &subnet), 4);
	harness_run(&h, 5000, 100);
	CU_ASSERT_EQUAL(rb.got, 2);
	CU_ASSERT_EQUAL(rc.got, 2);
	/* Broadcasts need no ARP. */
	CU_ASSERT_EQUAL(ftcp_arp_lookup(a, B_IP, NULL), -FTCP_EHOSTUNREACH);
	harness_free(&h);
}

static void test_link_off_subnet_traffic_goes_to_the_gateway(void)
{
	struct harness h;
	struct ftcp_config ca;
	struct ftcp_stack *a, *gw;
	struct ftcp_sockaddr far = {IP4(192, 0, 2, 10), 53};
	ftcp_sock_t sa;

	harness_init(&h);
	harness_config(&ca, A_IP);
	ca.gateway = C_IP;
	a = harness_add(&h, &ca, 0, NULL);
	gw = harness_add_simple(&h, C_IP);
	sa = ftcp_udp_open(a, NULL, NULL);
	CU_ASSERT_EQUAL(ftcp_sendto(a, sa, "query", 5, &far), 5);
	harness_run(&h, 5000, 100);
	/* A resolved the gateway, not the far address, and the datagram
	 * reached the gateway's MAC (which, being a host, drops it). */
	CU_ASSERT_EQUAL(ftcp_arp_lookup(a, C_IP, NULL), 0);
	CU_ASSERT_EQUAL(ftcp_arp_lookup(a, far.addr, NULL), -FTCP_EHOSTUNREACH);
	ASSERT_EQ_U64(harness_counter(gw, "drop_ip_not_for_us"), 1);
	harness_free(&h);
}

/* Several independent stacks in one process share nothing. */
static void test_link_many_stacks_pairwise_exchange(void)
{
	struct harness h;
	struct ftcp_stack *st[6];
	struct bcast_rx rx[6];
	ftcp_sock_t so[6];
	unsigned i, j;

	harness_init(&h);
	memset(rx, 0, sizeof(rx));
	for (i = 0; i < 6; i++) {
		struct ftcp_sockaddr port = {0, 5000};
		st[i] = harness_add_simple(&h, IP4(10, 0, 0, 10 + i));
		so[i] = ftcp_udp_open(st[i], bcast_cb, &rx[i]);
		CU_ASSERT(ftcp_bind(st[i], so[i], &port) == 0);
	}
	for (i = 0; i < 6; i++)
		for (j = 0; j < 6; j++)
			if (i != j) {
				struct ftcp_sockaddr to = {IP4(10, 0, 0, 10 + j), 5000};
				CU_ASSERT_EQUAL(ftcp_sendto(st[i], so[i], "hi", 2, &to), 2);
			}
	harness_run(&h, 20000, 100);
	for (i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(rx[i].got, 5);
		ASSERT_EQ_U64(harness_counter(st[i], "udp_rx"), 5);
	}
	harness_free(&h);
}

void register_link_tests(void);
void register_link_tests(void)
{
	FTCP_SUITE("link",
	           FTCP_CASE(test_link_arp_resolution_between_two_stacks),
	           FTCP_CASE(test_link_ping_many_echoes_verified),
	           FTCP_CASE(test_link_arp_resolves_through_heavy_loss),
	           FTCP_CASE(test_link_udp_echo_clean_link_delivers_everything_in_order),
	           FTCP_CASE(test_link_udp_echo_with_checksum_offload),
	           FTCP_CASE(test_link_udp_echo_with_ten_percent_loss_each_way),
	           FTCP_CASE(test_link_udp_duplication_reaches_the_application),
	           FTCP_CASE(test_link_udp_reordering_is_visible_but_lossless),
	           FTCP_CASE(test_link_udp_corruption_never_reaches_the_application),
	           FTCP_CASE(test_link_delay_adds_to_round_trip_time),
	           FTCP_CASE(test_link_rate_limit_bounds_throughput),
	           FTCP_CASE(test_link_udp_mixed_faults_are_deterministic_for_a_seed),
	           FTCP_CASE(test_link_broadcast_reaches_every_other_stack),
	           FTCP_CASE(test_link_off_subnet_traffic_goes_to_the_gateway),
	           FTCP_CASE(test_link_many_stacks_pairwise_exchange));
}
