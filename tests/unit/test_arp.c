/*
 * test_arp.c — ARP (RFC 826, RFC 1122 2.3.2, RFC 5227 announcements): the
 * stack's answers, its cache, resolution with held frames, retries,
 * expiry/probing and eviction, checked byte by byte at a raw peer.
 */
#include "proto_fixture.h"

#define PEER2_IP IP4(10, 0, 0, 3)
#define PEER3_IP IP4(10, 0, 0, 4)

static void inject_arp(struct fx *f, uint16_t op, const struct ftcp_mac *eth_dst,
                       const struct ftcp_mac *sha, uint32_t spa, const struct ftcp_mac *tha,
                       uint32_t tpa)
{
	uint8_t fr[64];
	uint32_t n = harness_build_arp(fr, op, eth_dst, sha, spa, tha, tpa);
	harness_inject(&f->h, fr, n);
}

/* Expect an ARP request from the stack for tpa, sent to eth_dst. */
static void expect_request(struct fx *f, uint32_t tpa, const struct ftcp_mac *eth_dst)
{
	uint8_t buf[FX_BUF];
	struct ftcp_eth_repr e;
	struct ftcp_arp_repr a;
	uint32_t n = fx_recv(f, buf);

	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(fx_parse_arp(buf, n, &e, &a));
	CU_ASSERT(ftcp_mac_eq(&e.dst, eth_dst));
	CU_ASSERT(ftcp_mac_eq(&e.src, &f->smac));
	ASSERT_EQ_U64(a.op, FTCP_ARP_REQUEST);
	CU_ASSERT(ftcp_mac_eq(&a.sha, &f->smac));
	ASSERT_EQ_U64(a.spa, FX_IP);
	CU_ASSERT(ftcp_mac_eq(&a.tha, &ftcp_mac_zero));
	ASSERT_EQ_U64(a.tpa, tpa);
}

static const uint8_t *expect_udp(struct fx *f, uint8_t *buf, uint32_t dst_ip,
                                 const struct ftcp_mac *dst_mac, uint32_t *plen)
{
	struct ftcp_eth_repr e;
	struct ftcp_ipv4_repr ip;
	struct ftcp_udp_repr u;
	uint32_t n = fx_recv(f, buf);
	const uint8_t *p;

	CU_ASSERT_FATAL(n > 0);
	p = fx_parse_udp(buf, n, &e, &ip, &u, plen);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(ftcp_mac_eq(&e.dst, dst_mac));
	ASSERT_EQ_U64(ip.dst, dst_ip);
	return p;
}

static int send_byte(struct fx *f, ftcp_sock_t h, uint32_t ip, uint8_t b)
{
	struct ftcp_sockaddr to = {ip, 7000};
	return ftcp_sendto(f->s, h, &b, 1, &to);
}

static void test_arp_announces_gratuitously_at_start(void)
{
	struct harness h;
	struct ftcp_memlink_port *peer;
	uint8_t buf[FX_BUF];
	struct ftcp_eth_repr e;
	struct ftcp_arp_repr a;
	uint64_t t0;
	uint32_t n;
	int i;

	harness_init(&h);
	t0 = h.now;
	harness_add_simple(&h, FX_IP);
	peer = harness_add_peer(&h);
	harness_step(&h, FX_STEP);

	n = harness_peer_recv(peer, buf, sizeof(buf));
	CU_ASSERT_FATAL(fx_parse_arp(buf, n, &e, &a));
	CU_ASSERT(ftcp_mac_is_broadcast(&e.dst));
	CU_ASSERT(ftcp_mac_eq(&e.src, &(struct ftcp_mac){{2, 0, 0, 0, 0, 1}}));
	ASSERT_EQ_U64(a.op, FTCP_ARP_REQUEST);
	CU_ASSERT(ftcp_mac_eq(&a.sha, &e.src));
	ASSERT_EQ_U64(a.spa, FX_IP);
	ASSERT_EQ_U64(a.tpa, FX_IP);
	CU_ASSERT(ftcp_mac_eq(&a.tha, &ftcp_mac_zero));
	ASSERT_EQ_U64(harness_peer_drain(peer), 0);
	/* The next thing to do is the second announcement. */
	ASSERT_EQ_U64(ftcp_stack_next_deadline(h.nodes[0].stack), t0 + 2000000);

	/* The second (arp_announce = 2) comes ANNOUNCE_INTERVAL (2 s) later. */
	n = 0;
	while (h.now < t0 + 2000000 - FX_STEP) {
		harness_step(&h, FX_STEP);
		n += harness_peer_drain(peer);
	}
	ASSERT_EQ_U64(n, 0);
	harness_step(&h, FX_STEP);
	ASSERT_EQ_U64(h.now, t0 + 2000000);
	n = harness_peer_recv(peer, buf, sizeof(buf));
	CU_ASSERT_FATAL(fx_parse_arp(buf, n, &e, &a));
	CU_ASSERT(ftcp_mac_is_broadcast(&e.dst));
	ASSERT_EQ_U64(a.spa, FX_IP);
	ASSERT_EQ_U64(a.tpa, FX_IP);
	ASSERT_EQ_U64(harness_counter(h.nodes[0].stack, "arp_tx_requests"), 2);

	/* And no third. */
	for (i = 0; i < 10; i++)
		harness_step(&h, 1000000);
	ASSERT_EQ_U64(harness_peer_drain(peer), 0);
	harness_free(&h);
}

static void test_arp_announce_count_follows_config(void)
{
	struct harness h;
	struct ftcp_config c;
	struct ftcp_memlink_port *peer;
	struct ftcp_stack *s;
	int i;

	harness_init(&h);
	harness_config(&c, FX_IP);
	c.arp_announce = 0;
	harness_add(&h, &c, 0, NULL);
	c.ip_addr = IP4(10, 0, 0, 9);
	c.arp_announce = 3;
	s = harness_add(&h, &c, 0, NULL);
	peer = harness_add_peer(&h);
	for (i = 0; i < 10000; i++)
		harness_step(&h, FX_STEP);
	/* Only the second stack announces, three times. */
	ASSERT_EQ_U64(harness_peer_drain(peer), 3);
	ASSERT_EQ_U64(harness_counter(h.nodes[0].stack, "arp_tx_requests"), 0);
	ASSERT_EQ_U64(harness_counter(s, "arp_tx_requests"), 3);
	harness_free(&h);
}

static void test_arp_replies_to_request_for_our_address(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	struct ftcp_eth_repr e;
	struct ftcp_arp_repr a;
	struct ftcp_mac m;
	uint32_t n;

	fx_start(&f);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, &m) == -FTCP_EHOSTUNREACH);
	inject_arp(&f, FTCP_ARP_REQUEST, &ftcp_mac_broadcast, &f.pmac, FX_PEER_IP, &ftcp_mac_zero,
	           FX_IP);
	harness_peer_drain(f.peer); /* our own broadcast looped back */
	fx_step(&f);

	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_arp(buf, n, &e, &a));
	CU_ASSERT(ftcp_mac_eq(&e.dst, &f.pmac)); /* unicast to the requester */
	CU_ASSERT(ftcp_mac_eq(&e.src, &f.smac));
	ASSERT_EQ_U64(a.op, FTCP_ARP_REPLY);
	CU_ASSERT(ftcp_mac_eq(&a.sha, &f.smac));
	ASSERT_EQ_U64(a.spa, FX_IP);
	CU_ASSERT(ftcp_mac_eq(&a.tha, &f.pmac));
	ASSERT_EQ_U64(a.tpa, FX_PEER_IP);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_tx_replies"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_rx"), 1);

	/* The requester was learned. */
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, &m) == 0);
	CU_ASSERT(ftcp_mac_eq(&m, &f.pmac));
	fx_free(&f);
}

static void test_arp_ignores_request_for_another_host(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];

	fx_start(&f);
	inject_arp(&f, FTCP_ARP_REQUEST, &ftcp_mac_broadcast, &f.pmac, FX_PEER_IP, &ftcp_mac_zero,
	           IP4(10, 0, 0, 77));
	harness_peer_drain(f.peer);
	fx_step(&f);
	fx_step(&f);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_not_for_us"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_tx_replies"), 0);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EHOSTUNREACH);
	fx_free(&f);
}

static void test_arp_counts_malformed_packets(void)
{
	struct fx f;
	uint8_t fr[64], buf[FX_BUF];
	uint32_t n;

	fx_start(&f);
	/* Short: 27 bytes of ARP. */
	n = harness_build_arp(fr, FTCP_ARP_REQUEST, &f.smac, &f.pmac, FX_PEER_IP, &ftcp_mac_zero,
	                      FX_IP);
	harness_inject(&f.h, fr, n - 1);
	/* Wrong hardware type. */
	ftcp_put_be16(fr + FTCP_ETH_HLEN, 6);
	harness_inject(&f.h, fr, n);
	/* Wrong protocol address length. */
	harness_build_arp(fr, FTCP_ARP_REQUEST, &f.smac, &f.pmac, FX_PEER_IP, &ftcp_mac_zero, FX_IP);
	fr[FTCP_ETH_HLEN + 5] = 16;
	harness_inject(&f.h, fr, n);
	/* Wrong protocol type. */
	harness_build_arp(fr, FTCP_ARP_REQUEST, &f.smac, &f.pmac, FX_PEER_IP, &ftcp_mac_zero, FX_IP);
	ftcp_put_be16(fr + FTCP_ETH_HLEN + 2, 0x86dd);
	harness_inject(&f.h, fr, n);
	/* Unknown operation (RARP request). */
	harness_build_arp(fr, 3, &f.smac, &f.pmac, FX_PEER_IP, &ftcp_mac_zero, FX_IP);
	harness_inject(&f.h, fr, n);
	fx_step(&f);

	ASSERT_EQ_U64(harness_counter(f.s, "arp_rx"), 5);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_malformed"), 5);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_tx_replies"), 0);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EHOSTUNREACH);

	/* A padded (60-byte) request is still fine. */
	n = harness_build_arp(fr, FTCP_ARP_REQUEST, &f.smac, &f.pmac, FX_PEER_IP, &ftcp_mac_zero,
	                      FX_IP);
	memset(fr + n, 0xa5, 60 - n);
	harness_inject(&f.h, fr, 60);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_tx_replies"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_malformed"), 5);
	fx_free(&f);
}

static void test_arp_ignores_sender_claiming_our_address_or_multicast_mac(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	struct ftcp_mac mcast = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};

	fx_start(&f);
	/* Someone else claims 10.0.0.1. */
	inject_arp(&f, FTCP_ARP_REQUEST, &f.smac, &f.pmac, FX_IP, &ftcp_mac_zero, FX_IP);
	/* A multicast / broadcast sender hardware address. */
	inject_arp(&f, FTCP_ARP_REQUEST, &f.smac, &mcast, FX_PEER_IP, &ftcp_mac_zero, FX_IP);
	inject_arp(&f, FTCP_ARP_REPLY, &f.smac, &ftcp_mac_broadcast, PEER2_IP, &f.smac, FX_IP);
	fx_step(&f);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_tx_replies"), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_not_for_us"), 3);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_IP, NULL) == -FTCP_EHOSTUNREACH);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EHOSTUNREACH);
	CU_ASSERT(ftcp_arp_lookup(f.s, PEER2_IP, NULL) == -FTCP_EHOSTUNREACH);

	/* A multicast sender must not overwrite a known entry either. */
	fx_learn_peer(&f);
	inject_arp(&f, FTCP_ARP_REPLY, &f.smac, &mcast, FX_PEER_IP, &f.smac, FX_IP);
	fx_step(&f);
	{
		struct ftcp_mac m;
		CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, &m) == 0);
		CU_ASSERT(ftcp_mac_eq(&m, &f.pmac));
	}
	fx_free(&f);
}

static void test_arp_resolves_and_releases_held_datagrams_in_order(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	const uint8_t *p;
	uint32_t plen;
	struct ftcp_pool_stats ps;
	ftcp_sock_t h;
	int i;

	fx_start(&f);
	h = fx_udp_bound(&f, 5000, NULL, NULL);
	for (i = 0; i < 3; i++)
		ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, (uint8_t)(0x10 + i)), 1);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EINPROGRESS);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.arp_held_frames, 3);
	ASSERT_EQ_U64(ps.arp_entries_in_use, 1);
	fx_step(&f);

	/* One broadcast request, the datagrams wait. */
	expect_request(&f, FX_PEER_IP, &ftcp_mac_broadcast);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_tx_requests"), 2); /* + announcement */

	inject_arp(&f, FTCP_ARP_REPLY, &f.smac, &f.pmac, FX_PEER_IP, &f.smac, FX_IP);
	fx_step(&f);
	for (i = 0; i < 3; i++) {
		p = expect_udp(&f, buf, FX_PEER_IP, &f.pmac, &plen);
		ASSERT_EQ_U64(plen, 1);
		ASSERT_EQ_U64(p[0], 0x10 + i);
	}
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.arp_held_frames, 0);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == 0);

	/* Now resolved: the next datagram leaves at once, no more requests. */
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 0x20), 1);
	fx_step(&f);
	p = expect_udp(&f, buf, FX_PEER_IP, &f.pmac, &plen);
	ASSERT_EQ_U64(p[0], 0x20);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_tx_requests"), 2);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_unresolved"), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_arp_retries_then_drops_held_frames(void)
{
	struct fx f;
	struct ftcp_config c;
	struct ftcp_pool_stats ps;
	uint8_t buf[FX_BUF];
	uint64_t t0, seen[8];
	unsigned nseen = 0;
	uint32_t n;
	ftcp_sock_t h;

	fx_config(&c);
	c.arp_announce = 1;
	c.arp_retries = 3;
	c.arp_retry_us = 500000;
	fx_start_cfg(&f, &c, 0);
	h = fx_udp_bound(&f, 5000, NULL, NULL);
	t0 = f.h.now;
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 1), 1);
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 2), 1);

	while (f.h.now < t0 + 3000000) {
		fx_step(&f);
		while ((n = fx_recv(&f, buf))) {
			struct ftcp_eth_repr e;
			struct ftcp_arp_repr a;
			CU_ASSERT_FATAL(nseen < 8);
			CU_ASSERT(fx_parse_arp(buf, n, &e, &a));
			CU_ASSERT(ftcp_mac_is_broadcast(&e.dst));
			ASSERT_EQ_U64(a.tpa, FX_PEER_IP);
			seen[nseen++] = f.h.now;
		}
		if (f.h.now == t0 + 1500000 - FX_STEP) {
			/* Just before giving up: still resolving, frames held. */
			CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EINPROGRESS);
			ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_unresolved"), 0);
		}
	}
	/* Exactly arp_retries requests, arp_retry_us apart (the first leaves
	 * on the first poll after the send). */
	ASSERT_EQ_U64(nseen, 3);
	if (nseen == 3) {
		ASSERT_EQ_U64(seen[0], t0 + FX_STEP);
		ASSERT_EQ_U64(seen[1], t0 + 500000);
		ASSERT_EQ_U64(seen[2], t0 + 1000000);
	}
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_unresolved"), 2);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.arp_held_frames, 0);
	ASSERT_EQ_U64(ps.arp_entries_in_use, 0);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EHOSTUNREACH);

	/* A late reply does not resurrect anything (reply not for an entry). */
	inject_arp(&f, FTCP_ARP_REPLY, &f.smac, &f.pmac, FX_PEER_IP, &f.smac, FX_IP);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_tx"), 2);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_arp_hold_keeps_latest_frames_per_neighbour(void)
{
	/* RFC 1122 2.3.2.2 asks to keep "at least one (the latest)" packet
	 * for an unresolved address; like Linux, the oldest held frame
	 * makes room for the newest. */
	struct fx f;
	struct ftcp_config c;
	struct ftcp_pool_stats ps;
	uint8_t buf[FX_BUF];
	const uint8_t *p;
	uint32_t plen;
	ftcp_sock_t h;

	fx_config(&c);
	c.arp_hold_frames = 3;
	c.arp_hold_per_neighbour = 2;
	fx_start_cfg(&f, &c, 0);
	h = fx_udp_bound(&f, 5000, NULL, NULL);
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 1), 1);
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 2), 1);
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 3), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_hold_full"), 1);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.arp_held_frames, 2);
	/* Another neighbour gets the last slot; then the pool is dry and
	 * it has nothing of its own to give up beyond its limit. */
	ASSERT_EQ_I64(send_byte(&f, h, PEER2_IP, 4), 1);
	ASSERT_EQ_I64(send_byte(&f, h, PEER2_IP, 5), -FTCP_ENOBUFS);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_hold_full"), 2);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.arp_held_frames, 3);

	fx_step(&f);
	harness_peer_drain(f.peer);
	inject_arp(&f, FTCP_ARP_REPLY, &f.smac, &f.pmac, FX_PEER_IP, &f.smac, FX_IP);
	fx_step(&f);
	p = expect_udp(&f, buf, FX_PEER_IP, &f.pmac, &plen);
	ASSERT_EQ_U64(p[0], 2);
	p = expect_udp(&f, buf, FX_PEER_IP, &f.pmac, &plen);
	ASSERT_EQ_U64(p[0], 3);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.arp_held_frames, 1);
	/* A neighbour limited to one frame keeps the last. */
	ASSERT_EQ_I64(send_byte(&f, h, PEER2_IP, 6), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_hold_full"), 2);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_arp_hold_of_one_keeps_the_newest(void)
{
	struct fx f;
	struct ftcp_config c;
	uint8_t buf[FX_BUF];
	const uint8_t *p;
	uint32_t plen;
	ftcp_sock_t h;
	int i;

	fx_config(&c);
	c.arp_hold_per_neighbour = 1;
	fx_start_cfg(&f, &c, 0);
	h = fx_udp_bound(&f, 5000, NULL, NULL);
	for (i = 1; i <= 5; i++)
		ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, (uint8_t)i), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_hold_full"), 4);
	fx_step(&f);
	harness_peer_drain(f.peer);
	inject_arp(&f, FTCP_ARP_REPLY, &f.smac, &f.pmac, FX_PEER_IP, &f.smac, FX_IP);
	fx_step(&f);
	p = expect_udp(&f, buf, FX_PEER_IP, &f.pmac, &plen);
	ASSERT_EQ_U64(p[0], 5);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_arp_frees_unused_entry_after_reachable_time(void)
{
	struct fx f;
	struct ftcp_config c;
	struct ftcp_pool_stats ps;
	uint8_t buf[FX_BUF];
	uint64_t t0;

	fx_config(&c);
	c.arp_announce = 1;
	c.arp_reachable_us = 5000000;
	fx_start_cfg(&f, &c, 0);
	t0 = f.h.now;
	fx_learn_peer(&f); /* learned at t0 + 1 ms */
	harness_run(&f.h, 5000000 - FX_STEP, FX_STEP);
	ASSERT_EQ_U64(f.h.now, t0 + 5000000);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == 0);
	fx_step(&f);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EHOSTUNREACH);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.arp_entries_in_use, 0);
	/* Freed silently: no probe for an entry nobody used. */
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_tx_requests"), 1);
	fx_free(&f);
}

static void test_arp_probes_used_entry_unicast_and_keeps_it_usable(void)
{
	struct fx f;
	struct ftcp_config c;
	uint8_t buf[FX_BUF];
	const uint8_t *p;
	uint32_t plen;
	uint64_t t_learn;
	ftcp_sock_t h;

	fx_config(&c);
	c.arp_announce = 1;
	c.arp_reachable_us = 5000000;
	c.arp_retry_us = 1000000;
	c.arp_retries = 3;
	fx_start_cfg(&f, &c, 0);
	h = fx_udp_bound(&f, 5000, NULL, NULL);
	fx_learn_peer(&f);
	t_learn = f.h.now;
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 1), 1); /* marks the entry used */
	fx_step(&f);
	expect_udp(&f, buf, FX_PEER_IP, &f.pmac, &plen);

	while (f.h.now < t_learn + 5000000 - FX_STEP)
		fx_step(&f);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	fx_step(&f); /* expiry: a unicast probe to the known MAC */
	expect_request(&f, FX_PEER_IP, &f.pmac);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);

	/* Still usable while probing: datagrams go straight out. */
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == 0);
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 2), 1);
	fx_step(&f);
	p = expect_udp(&f, buf, FX_PEER_IP, &f.pmac, &plen);
	ASSERT_EQ_U64(p[0], 2);

	/* Unanswered: a second unicast probe a retry later, then a last
	 * broadcast one, then the entry goes. */
	harness_run(&f.h, 1000000 - FX_STEP, FX_STEP);
	expect_request(&f, FX_PEER_IP, &f.pmac);
	harness_run(&f.h, 1000000, FX_STEP);
	expect_request(&f, FX_PEER_IP, &ftcp_mac_broadcast);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == 0);
	harness_run(&f.h, 1000000, FX_STEP);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EHOSTUNREACH);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_arp_reply_to_probe_refreshes_entry(void)
{
	struct fx f;
	struct ftcp_config c;
	uint8_t buf[FX_BUF];
	uint32_t plen;
	uint64_t t_reply;
	ftcp_sock_t h;

	fx_config(&c);
	c.arp_announce = 1;
	c.arp_reachable_us = 5000000;
	fx_start_cfg(&f, &c, 0);
	h = fx_udp_bound(&f, 5000, NULL, NULL);
	fx_learn_peer(&f);
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 1), 1);
	fx_step(&f);
	expect_udp(&f, buf, FX_PEER_IP, &f.pmac, &plen);
	harness_run(&f.h, 5000000, FX_STEP);
	expect_request(&f, FX_PEER_IP, &f.pmac);

	inject_arp(&f, FTCP_ARP_REPLY, &f.smac, &f.pmac, FX_PEER_IP, &f.smac, FX_IP);
	fx_step(&f);
	t_reply = f.h.now;
	/* Refreshed: no further probes for a whole reachable time, and, as
	 * nobody used it since, it is then freed without a probe. */
	while (f.h.now < t_reply + 5000000 - FX_STEP) {
		fx_step(&f);
		if (fx_recv(&f, buf)) {
			CU_FAIL("probe after a refreshing reply");
			break;
		}
	}
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == 0);
	fx_step(&f);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EHOSTUNREACH);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_arp_evicts_resolved_entry_when_cache_full(void)
{
	struct fx f;
	struct ftcp_config c;
	struct ftcp_mac m3 = harness_mac(0xe3), m2 = harness_mac(0xe2);
	struct ftcp_pool_stats ps;
	ftcp_sock_t h;

	fx_config(&c);
	c.arp_cache_size = 2;
	fx_start_cfg(&f, &c, 0);
	h = fx_udp_bound(&f, 5000, NULL, NULL);
	fx_learn_peer(&f);                /* oldest: expires first */
	fx_learn(&f, PEER2_IP, &m2);
	ASSERT_EQ_I64(send_byte(&f, h, PEER3_IP, 1), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_evictions"), 1);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EHOSTUNREACH);
	CU_ASSERT(ftcp_arp_lookup(f.s, PEER2_IP, NULL) == 0);
	CU_ASSERT(ftcp_arp_lookup(f.s, PEER3_IP, NULL) == -FTCP_EINPROGRESS);
	ftcp_stack_pool_stats(f.s, &ps);
	ASSERT_EQ_U64(ps.arp_entries_in_use, 2);
	fx_step(&f);
	expect_request(&f, PEER3_IP, &ftcp_mac_broadcast);
	inject_arp(&f, FTCP_ARP_REPLY, &f.smac, &m3, PEER3_IP, &f.smac, FX_IP);
	fx_step(&f);
	/* m3 is not a port on the link: the datagram left but nobody got it. */
	ASSERT_EQ_U64(harness_counter(f.s, "udp_tx"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "eth_tx_frames"), 1 + 2 + 1 + 1);
	CU_ASSERT(ftcp_arp_lookup(f.s, PEER3_IP, NULL) == 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_arp_cache_full_of_incomplete_entries_fails_lookup(void)
{
	struct fx f;
	struct ftcp_config c;
	ftcp_sock_t h;

	fx_config(&c);
	c.arp_cache_size = 2;
	fx_start_cfg(&f, &c, 0);
	h = fx_udp_bound(&f, 5000, NULL, NULL);
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 1), 1);
	ASSERT_EQ_I64(send_byte(&f, h, PEER2_IP, 2), 1);
	ASSERT_EQ_I64(send_byte(&f, h, PEER3_IP, 3), -FTCP_ENOBUFS);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_cache_full"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_evictions"), 0);
	CU_ASSERT(ftcp_arp_lookup(f.s, PEER3_IP, NULL) == -FTCP_EHOSTUNREACH);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, NULL) == -FTCP_EINPROGRESS);
	CU_ASSERT(ftcp_arp_lookup(f.s, PEER2_IP, NULL) == -FTCP_EINPROGRESS);
	/* An ARP request from a new host is still answered, unlearned. */
	{
		struct ftcp_mac m = harness_mac(0xe4);
		uint8_t buf[FX_BUF];
		fx_step(&f);
		harness_peer_drain(f.peer);
		inject_arp(&f, FTCP_ARP_REQUEST, &f.smac, &m, IP4(10, 0, 0, 5), &ftcp_mac_zero, FX_IP);
		fx_step(&f);
		ASSERT_EQ_U64(harness_counter(f.s, "arp_tx_replies"), 1);
		CU_ASSERT(ftcp_arp_lookup(f.s, IP4(10, 0, 0, 5), NULL) == -FTCP_EHOSTUNREACH);
		ASSERT_EQ_U64(fx_recv(&f, buf), 0); /* the reply went to m */
	}
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_arp_merges_sender_of_packet_for_another_host(void)
{
	struct fx f;
	struct ftcp_mac m_new = harness_mac(0xe7), m;
	uint8_t buf[FX_BUF];

	fx_start(&f);
	fx_learn_peer(&f);
	/* RFC 826: the sender is known, so its entry is updated even though
	 * the request is for someone else. */
	inject_arp(&f, FTCP_ARP_REQUEST, &f.smac, &m_new, FX_PEER_IP, &ftcp_mac_zero,
	           IP4(10, 0, 0, 99));
	fx_step(&f);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, &m) == 0);
	CU_ASSERT(ftcp_mac_eq(&m, &m_new));
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_not_for_us"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "arp_tx_replies"), 1); /* fx_learn's only */
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);

	/* A gratuitous announcement (spa == tpa) updates it as well. */
	inject_arp(&f, FTCP_ARP_REQUEST, &f.smac, &f.pmac, FX_PEER_IP, &ftcp_mac_zero, FX_PEER_IP);
	fx_step(&f);
	CU_ASSERT(ftcp_arp_lookup(f.s, FX_PEER_IP, &m) == 0);
	CU_ASSERT(ftcp_mac_eq(&m, &f.pmac));
	fx_free(&f);
}

static void test_arp_reply_while_resolving_completes_from_other_target(void)
{
	/* A reply for us resolves the entry whichever request it answers;
	 * a held frame leaves with the MAC from that reply. */
	struct fx f;
	uint8_t buf[FX_BUF];
	uint32_t plen;
	ftcp_sock_t h;

	fx_start(&f);
	h = fx_udp_bound(&f, 5000, NULL, NULL);
	ASSERT_EQ_I64(send_byte(&f, h, FX_PEER_IP, 9), 1);
	fx_step(&f);
	harness_peer_drain(f.peer);
	/* The peer's own request for us also answers our question. */
	inject_arp(&f, FTCP_ARP_REQUEST, &f.smac, &f.pmac, FX_PEER_IP, &ftcp_mac_zero, FX_IP);
	fx_step(&f);
	{
		unsigned arp_replies = 0, udp = 0;
		uint32_t n;
		while ((n = fx_recv(&f, buf))) {
			struct ftcp_eth_repr e;
			CU_ASSERT(ftcp_eth_parse(buf, n, &e) == FTCP_ETH_HLEN);
			CU_ASSERT(ftcp_mac_eq(&e.dst, &f.pmac));
			if (e.type == FTCP_ETHERTYPE_ARP) {
				struct ftcp_arp_repr a;
				CU_ASSERT(fx_parse_arp(buf, n, &e, &a));
				ASSERT_EQ_U64(a.op, FTCP_ARP_REPLY);
				arp_replies++;
			} else {
				struct ftcp_ipv4_repr ip;
				struct ftcp_udp_repr u;
				const uint8_t *p = fx_parse_udp(buf, n, &e, &ip, &u, &plen);
				CU_ASSERT(p != NULL && plen == 1 && p[0] == 9);
				udp++;
			}
		}
		ASSERT_EQ_U64(arp_replies, 1);
		ASSERT_EQ_U64(udp, 1);
	}
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_tx"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_arp_unresolved"), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_arp_small_cache_churns_consistently(void)
{
	/* Three entries (four hash buckets) and ten neighbours learned in
	 * turn: each new one evicts the oldest; the cache never loses track
	 * of the entries it keeps. */
	struct fx f;
	struct ftcp_config c;
	struct ftcp_pool_stats ps;
	struct ftcp_mac m, got;
	unsigned i, j;

	fx_config(&c);
	c.arp_cache_size = 3;
	fx_start_cfg(&f, &c, 0);
	for (i = 0; i < 10; i++) {
		m = harness_mac((uint8_t)(0x80 + i));
		fx_learn(&f, IP4(10, 0, 0, 20 + i), &m);
		for (j = 0; j <= i; j++) {
			int rc = ftcp_arp_lookup(f.s, IP4(10, 0, 0, 20 + j), &got);
			if (j + 3 > i) {
				ASSERT_EQ_I64(rc, 0);
				CU_ASSERT(got.b[5] == 0x80 + j);
			} else {
				ASSERT_EQ_I64(rc, -FTCP_EHOSTUNREACH);
			}
		}
		ftcp_stack_pool_stats(f.s, &ps);
		ASSERT_EQ_U64(ps.arp_entries_in_use, i < 3 ? i + 1 : 3);
	}
	ASSERT_EQ_U64(harness_counter(f.s, "arp_evictions"), 7);
	fx_free(&f);
}

void register_arp_tests(void);
void register_arp_tests(void)
{
	FTCP_SUITE("arp",
	           FTCP_CASE(test_arp_announces_gratuitously_at_start),
	           FTCP_CASE(test_arp_announce_count_follows_config),
	           FTCP_CASE(test_arp_replies_to_request_for_our_address),
	           FTCP_CASE(test_arp_ignores_request_for_another_host),
	           FTCP_CASE(test_arp_counts_malformed_packets),
	           FTCP_CASE(test_arp_ignores_sender_claiming_our_address_or_multicast_mac),
	           FTCP_CASE(test_arp_resolves_and_releases_held_datagrams_in_order),
	           FTCP_CASE(test_arp_retries_then_drops_held_frames),
	           FTCP_CASE(test_arp_hold_keeps_latest_frames_per_neighbour),
	           FTCP_CASE(test_arp_hold_of_one_keeps_the_newest),
	           FTCP_CASE(test_arp_frees_unused_entry_after_reachable_time),
	           FTCP_CASE(test_arp_probes_used_entry_unicast_and_keeps_it_usable),
	           FTCP_CASE(test_arp_reply_to_probe_refreshes_entry),
	           FTCP_CASE(test_arp_evicts_resolved_entry_when_cache_full),
	           FTCP_CASE(test_arp_cache_full_of_incomplete_entries_fails_lookup),
	           FTCP_CASE(test_arp_merges_sender_of_packet_for_another_host),
	           FTCP_CASE(test_arp_small_cache_churns_consistently),
	           FTCP_CASE(test_arp_reply_while_resolving_completes_from_other_target));
}
