/*
 * test_ipv4.c — Ethernet and IPv4 input validation (RFC 791, RFC 1122
 * 3.2.1), delivery of good packets, and the headers and routes of what the
 * stack sends.
 */
#include <stdlib.h>

#include "proto_fixture.h"

#define PORT 5000

static const uint8_t payload4[4] = {0xde, 0xad, 0xbe, 0xef};

/* A frame from the peer carrying UDP to our port PORT, built in fr. */
static uint32_t build_udp(struct fx *f, uint8_t *fr)
{
	return harness_build_udp(fr, &f->smac, &f->pmac, FX_PEER_IP, 4000, FX_IP, PORT, payload4,
	                         sizeof(payload4));
}

/* Read one datagram from h and check it is payload4. */
static void expect_delivered(struct fx *f, ftcp_sock_t h)
{
	uint8_t buf[64];
	struct ftcp_sockaddr from;
	int n = ftcp_recvfrom(f->s, h, buf, sizeof(buf), 0, &from, NULL, NULL);

	ASSERT_EQ_I64(n, 4);
	CU_ASSERT(n == 4 && memcmp(buf, payload4, 4) == 0);
	ASSERT_EQ_U64(from.addr, FX_PEER_IP);
	ASSERT_EQ_U64(from.port, 4000);
}

static void expect_nothing(struct fx *f, ftcp_sock_t h)
{
	uint8_t buf[64];
	ASSERT_EQ_I64(ftcp_recvfrom(f->s, h, buf, sizeof(buf), 0, NULL, NULL, NULL), -FTCP_EAGAIN);
}

/* Insert IPv4 options after the 20-byte header of a frame; returns the new
 * frame length. optlen must be a multiple of 4. */
static uint32_t add_ip_options(uint8_t *fr, uint32_t len, const uint8_t *opt, uint32_t optlen)
{
	uint8_t *ip = fr + FTCP_ETH_HLEN;

	memmove(ip + FTCP_IPV4_HLEN + optlen, ip + FTCP_IPV4_HLEN,
	        len - FTCP_ETH_HLEN - FTCP_IPV4_HLEN);
	memcpy(ip + FTCP_IPV4_HLEN, opt, optlen);
	ip[0] = (uint8_t)(0x40 | ((FTCP_IPV4_HLEN + optlen) / 4));
	ftcp_put_be16(ip + 2, (uint16_t)(ftcp_get_be16(ip + 2) + optlen));
	fx_ip_fix_cksum(fr);
	return len + optlen;
}

static void test_ipv4_delivers_valid_udp_to_our_address(void)
{
	struct fx f;
	uint8_t fr[FX_BUF];
	ftcp_sock_t h;

	fx_start(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	harness_inject(&f.h, fr, build_udp(&f, fr));
	fx_step(&f);
	expect_delivered(&f, h);
	ASSERT_EQ_U64(harness_counter(f.s, "ipv4_rx"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_rx"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "eth_rx_frames"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "eth_rx_bytes"), 14 + 20 + 8 + 4);
	ftcp_close(f.s, h);
	fx_free(&f);
}

/* Inject fr (len bytes) and check it was dropped with counter `ctr`. */
static void expect_dropped(struct fx *f, ftcp_sock_t h, const uint8_t *fr, uint32_t len,
                           const char *ctr)
{
	uint64_t before = harness_counter(f->s, ctr), rx = harness_counter(f->s, "ipv4_rx");

	harness_inject(&f->h, fr, len);
	fx_step(f);
	if (harness_counter(f->s, ctr) != before + 1)
		fprintf(stderr, "\n  expected %s to count the drop\n", ctr);
	ASSERT_EQ_U64(harness_counter(f->s, ctr), before + 1);
	ASSERT_EQ_U64(harness_counter(f->s, "ipv4_rx"), rx);
	expect_nothing(f, h);
}

static void test_ipv4_drops_malformed_headers_with_their_counters(void)
{
	struct fx f;
	uint8_t fr[FX_BUF], buf[FX_BUF];
	uint32_t n;
	ftcp_sock_t h;

	fx_start(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);

	/* Truncated: fewer than 20 bytes of IP. */
	n = build_udp(&f, fr);
	expect_dropped(&f, h, fr, FTCP_ETH_HLEN + 19, "drop_ip_short");
	/* Version 6 in an IPv4 EtherType. */
	n = build_udp(&f, fr);
	fr[14] = 0x65;
	fx_ip_fix_cksum(fr);
	expect_dropped(&f, h, fr, n, "drop_ip_version");
	/* IHL 4 (16 bytes). */
	n = build_udp(&f, fr);
	fr[14] = 0x44;
	expect_dropped(&f, h, fr, n, "drop_ip_hdr_len");
	/* IHL beyond the frame (15 words = 60 bytes > 46). */
	n = build_udp(&f, fr);
	fr[14] = 0x4f;
	expect_dropped(&f, h, fr, FTCP_ETH_HLEN + 40, "drop_ip_short");
	/* Total length smaller than the header. */
	n = build_udp(&f, fr);
	ftcp_put_be16(fr + 16, 19);
	fx_ip_fix_cksum(fr);
	expect_dropped(&f, h, fr, n, "drop_ip_total_len");
	/* Total length beyond the frame. */
	n = build_udp(&f, fr);
	ftcp_put_be16(fr + 16, (uint16_t)(n - FTCP_ETH_HLEN + 1));
	fx_ip_fix_cksum(fr);
	expect_dropped(&f, h, fr, n, "drop_ip_short");
	/* Bad header checksum. */
	n = build_udp(&f, fr);
	fr[24] ^= 0x01;
	expect_dropped(&f, h, fr, n, "drop_ip_cksum");
	/* A checksum error in a header otherwise fine: flip a TTL bit. */
	n = build_udp(&f, fr);
	fr[22] ^= 0x80;
	expect_dropped(&f, h, fr, n, "drop_ip_cksum");

	/* Nothing was answered (no ICMP about broken packets). */
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 0);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);

	/* And the socket still works afterwards. */
	harness_inject(&f.h, fr, build_udp(&f, fr));
	fx_step(&f);
	expect_delivered(&f, h);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_ipv4_drops_fragments(void)
{
	struct fx f;
	uint8_t fr[FX_BUF], buf[FX_BUF];
	uint32_t n;
	ftcp_sock_t h;

	fx_start(&f);
	fx_learn_peer(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	/* First fragment: MF set, offset 0. */
	n = build_udp(&f, fr);
	ftcp_put_be16(fr + 20, FTCP_IPV4_MF);
	fx_ip_fix_cksum(fr);
	expect_dropped(&f, h, fr, n, "drop_ip_fragment");
	/* Last fragment: MF clear, offset 185 (1480 bytes). */
	n = build_udp(&f, fr);
	ftcp_put_be16(fr + 20, 185);
	fx_ip_fix_cksum(fr);
	expect_dropped(&f, h, fr, n, "drop_ip_fragment");
	/* Middle fragment with DF noise. */
	n = build_udp(&f, fr);
	ftcp_put_be16(fr + 20, FTCP_IPV4_MF | 1);
	fx_ip_fix_cksum(fr);
	expect_dropped(&f, h, fr, n, "drop_ip_fragment");
	/* A fragment of a datagram for a closed port: no ICMP either. */
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, 4000, FX_IP, 6000, payload4, 4);
	ftcp_put_be16(fr + 20, FTCP_IPV4_MF);
	fx_ip_fix_cksum(fr);
	expect_dropped(&f, h, fr, n, "drop_ip_fragment");
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	/* DF alone is not a fragment. */
	n = build_udp(&f, fr);
	ftcp_put_be16(fr + 20, 0);
	fx_ip_fix_cksum(fr);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	expect_delivered(&f, h);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_ipv4_handles_options(void)
{
	struct fx f;
	uint8_t fr[FX_BUF];
	uint32_t n;
	ftcp_sock_t h;
	/* NOP, then a timestamp option (type 68, len 8, pointer 5, flags 0,
	 * one empty slot), then end of list and padding. */
	static const uint8_t ts_opt[12] = {1, 68, 8, 5, 0, 0, 0, 0, 0, 0, 0, 0};
	/* Record route claiming length 1. */
	static const uint8_t bad_len1[4] = {7, 1, 0, 0};
	/* Option running past the header. */
	static const uint8_t bad_long[4] = {68, 12, 5, 0};
	/* Option type without its length byte at the end of the header. */
	static const uint8_t bad_trunc[4] = {1, 1, 1, 68};
	/* Loose source route (type 131): refused (RFC 7126). */
	static const uint8_t lsrr[8] = {131, 7, 4, 10, 0, 0, 9, 0};
	/* Strict source route (type 137) after a NOP. */
	static const uint8_t ssrr[8] = {1, 137, 7, 4, 10, 0, 0, 9};

	fx_start(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);

	n = add_ip_options(fr, build_udp(&f, fr), ts_opt, sizeof(ts_opt));
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	expect_delivered(&f, h);
	ASSERT_EQ_U64(harness_counter(f.s, "ipv4_options_ignored"), 1);

	n = add_ip_options(fr, build_udp(&f, fr), bad_len1, sizeof(bad_len1));
	expect_dropped(&f, h, fr, n, "drop_ip_bad_options");
	n = add_ip_options(fr, build_udp(&f, fr), bad_long, sizeof(bad_long));
	expect_dropped(&f, h, fr, n, "drop_ip_bad_options");
	n = add_ip_options(fr, build_udp(&f, fr), bad_trunc, sizeof(bad_trunc));
	expect_dropped(&f, h, fr, n, "drop_ip_bad_options");
	n = add_ip_options(fr, build_udp(&f, fr), lsrr, sizeof(lsrr));
	expect_dropped(&f, h, fr, n, "drop_ip_source_route");
	n = add_ip_options(fr, build_udp(&f, fr), ssrr, sizeof(ssrr));
	expect_dropped(&f, h, fr, n, "drop_ip_source_route");
	ASSERT_EQ_U64(harness_counter(f.s, "ipv4_options_ignored"), 1);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_ipv4_drops_packets_not_for_us_and_bogus_sources(void)
{
	struct fx f;
	uint8_t fr[FX_BUF], buf[FX_BUF];
	uint32_t n;
	ftcp_sock_t h;
	/* Broadcast, multicast, ours, and loopback (RFC 1122 3.2.1.3: 127/8
	 * never appears outside a host; Linux drops it as martian). */
	static const uint32_t bad_src[] = {0xffffffffu, IP4(10, 0, 0, 255), IP4(224, 0, 0, 1),
	                                   IP4(239, 1, 2, 3), FX_IP, IP4(127, 0, 0, 1),
	                                   IP4(127, 9, 8, 7)};
	unsigned i;

	fx_start(&f);
	fx_learn_peer(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	/* Another host's address (same subnet, and elsewhere), to our MAC. */
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, 4000, IP4(10, 0, 0, 3), PORT,
	                      payload4, 4);
	expect_dropped(&f, h, fr, n, "drop_ip_not_for_us");
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, 4000, IP4(192, 168, 1, 1), PORT,
	                      payload4, 4);
	expect_dropped(&f, h, fr, n, "drop_ip_not_for_us");
	/* Another subnet's broadcast, and multicast (not joined). */
	n = harness_build_udp(fr, &ftcp_mac_broadcast, &f.pmac, FX_PEER_IP, 4000,
	                      IP4(10, 0, 1, 255), PORT, payload4, 4);
	expect_dropped(&f, h, fr, n, "drop_ip_not_for_us");
	harness_peer_drain(f.peer);
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, 4000, IP4(224, 0, 0, 1), PORT,
	                      payload4, 4);
	expect_dropped(&f, h, fr, n, "drop_ip_not_for_us");

	for (i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		n = harness_build_udp(fr, &f.smac, &f.pmac, bad_src[i], 4000, FX_IP, PORT, payload4,
		                      4);
		expect_dropped(&f, h, fr, n, "drop_ip_bad_src");
	}
	ASSERT_EQ_U64(harness_counter(f.s, "drop_ip_bad_src"), 7);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 0);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_ipv4_ignores_ethernet_padding(void)
{
	struct fx f;
	uint8_t fr[FX_BUF], buf[16];
	struct ftcp_sockaddr from;
	uint32_t n;
	ftcp_sock_t h;

	fx_start(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	n = harness_build_udp(fr, &f.smac, &f.pmac, FX_PEER_IP, 4000, FX_IP, PORT, "hi", 2);
	ASSERT_EQ_U64(n, 44);
	memset(fr + n, 0xa5, 60 - n); /* non-zero padding: would break the UDP sum */
	harness_inject(&f.h, fr, 60);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &from, NULL, NULL), 2);
	CU_ASSERT(memcmp(buf, "hi", 2) == 0);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_cksum"), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "udp_rx"), 1);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_ipv4_unknown_protocol_gets_protocol_unreachable(void)
{
	struct fx f;
	uint8_t fr[FX_BUF], buf[FX_BUF];
	struct ftcp_eth_repr e;
	struct ftcp_ipv4_repr ip;
	struct ftcp_icmp_repr m;
	uint32_t n, l4;

	fx_start(&f);
	fx_learn_peer(&f);
	memcpy(fr + 34, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10);
	n = harness_build_ipv4(fr, &f.smac, &f.pmac, FX_PEER_IP, FX_IP, 99, 10);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_ip_proto"), 1);

	l4 = fx_recv(&f, buf);
	CU_ASSERT_FATAL(l4 > 0);
	CU_ASSERT_FATAL(fx_parse_icmp(buf, l4, &e, &ip, &m));
	CU_ASSERT(ftcp_mac_eq(&e.dst, &f.pmac));
	ASSERT_EQ_U64(ip.src, FX_IP);
	ASSERT_EQ_U64(ip.dst, FX_PEER_IP);
	ASSERT_EQ_U64(m.type, FTCP_ICMP_DEST_UNREACH);
	ASSERT_EQ_U64(m.code, FTCP_ICMP_UNREACH_PROTO);
	ASSERT_EQ_U64(m.rest, 0);
	/* The whole original datagram (header + 10 bytes) is quoted. */
	ASSERT_EQ_U64(m.data_len, 30);
	CU_ASSERT(m.data_len == 30 && memcmp(m.data, fr + FTCP_ETH_HLEN, 30) == 0);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);

	/* Not for a broadcast destination. */
	n = harness_build_ipv4(fr, &ftcp_mac_broadcast, &f.pmac, FX_PEER_IP, IP4(10, 0, 0, 255), 99,
	                       10);
	harness_inject(&f.h, fr, n);
	harness_peer_drain(f.peer);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_ip_proto"), 2);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 1);
	fx_free(&f);
}

static void test_ipv4_drops_unknown_ethertype_and_foreign_multicast_mac(void)
{
	struct fx f;
	uint8_t fr[FX_BUF];
	struct ftcp_mac mcast = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
	uint32_t n;
	ftcp_sock_t h;

	fx_start(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	n = build_udp(&f, fr);
	ftcp_put_be16(fr + 12, 0x86dd);
	harness_inject(&f.h, fr, n);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_eth_type"), 1);
	expect_nothing(&f, h);

	/* A multicast MAC we have not joined reaches the port but not IP. */
	n = build_udp(&f, fr);
	memcpy(fr, mcast.b, 6);
	harness_inject(&f.h, fr, n);
	harness_peer_drain(f.peer);
	fx_step(&f);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_eth_not_for_us"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "ipv4_rx"), 0);
	expect_nothing(&f, h);
	ftcp_close(f.s, h);
	fx_free(&f);
}

/* A device in front of a memlink port that can also hand the stack raw
 * frames the link would refuse or filter (shorter than an Ethernet header,
 * unicast to another MAC), as a promiscuous or buggy NIC might. */
struct rawdev {
	struct ftcp_device dev;
	struct ftcp_device *inner;
	uint8_t frame[128];
	uint32_t len;
	uint32_t flags; /* rx flags (device checksum verdicts) to report */
	bool pending, from_raw;
};

static uint16_t raw_rx_burst(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n,
                             uint64_t now)
{
	struct rawdev *r = (struct rawdev *)dev;

	r->from_raw = r->pending;
	if (r->pending && n) {
		f[0].data = r->frame;
		f[0].len = r->len;
		f[0].flags = r->flags;
		f[0].cookie = NULL;
		return 1;
	}
	return r->inner->ops->rx_burst(r->inner, f, n, now);
}

static void raw_rx_release(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n)
{
	struct rawdev *r = (struct rawdev *)dev;

	if (r->from_raw)
		r->pending = false;
	else
		r->inner->ops->rx_release(r->inner, f, n);
}

static uint16_t raw_tx_burst(struct ftcp_device *dev, const struct ftcp_tx_frame *f, uint16_t n,
                             uint64_t now)
{
	struct rawdev *r = (struct rawdev *)dev;
	return r->inner->ops->tx_burst(r->inner, f, n, now);
}

static const struct ftcp_device_ops rawdev_ops = {raw_rx_burst, raw_rx_release, raw_tx_burst};

/* A stack on a rawdev over a fresh port of h (MAC ..:f0); *mem to free. */
static struct ftcp_stack *raw_stack(struct harness *h, struct rawdev *rd, void **mem)
{
	struct ftcp_memlink_port *port = harness_add_peer(h);
	struct ftcp_config c;
	struct ftcp_stack *s = NULL;
	size_t need;

	memset(rd, 0, sizeof(*rd));
	rd->dev.ops = &rawdev_ops;
	rd->dev.mac = port->dev.mac;
	rd->dev.mtu = port->dev.mtu;
	rd->inner = &port->dev;
	harness_config(&c, FX_IP);
	need = ftcp_stack_memory_size(&c);
	*mem = aligned_alloc(64, (need + 63) & ~(size_t)63);
	CU_ASSERT_FATAL(*mem != NULL);
	CU_ASSERT_FATAL(ftcp_stack_init(&s, &c, &rd->dev, *mem, need, h->now, NULL) == 0);
	return s;
}

static void test_ipv4_drops_short_frames_and_other_unicast_macs(void)
{
	struct harness h;
	struct rawdev rd;
	struct ftcp_stack *s;
	struct ftcp_mac other = harness_mac(0x77), ours = harness_mac(0xf0);
	void *mem;
	uint8_t fr[FX_BUF];
	uint32_t n;

	harness_init(&h);
	s = raw_stack(&h, &rd, &mem);

	/* 13 bytes: not even an Ethernet header. */
	memset(rd.frame, 0xff, 13);
	rd.len = 13;
	rd.pending = true;
	ftcp_stack_poll(s, h.now + 1000);
	CU_ASSERT(!rd.pending);
	ASSERT_EQ_U64(harness_counter(s, "drop_eth_short"), 1);
	ASSERT_EQ_U64(harness_counter(s, "eth_rx_frames"), 1);
	/* Zero bytes. */
	rd.len = 0;
	rd.pending = true;
	ftcp_stack_poll(s, h.now + 2000);
	ASSERT_EQ_U64(harness_counter(s, "drop_eth_short"), 2);

	/* A valid IPv4 frame, unicast to another MAC. */
	n = harness_build_udp(fr, &other, &other, FX_PEER_IP, 4000, FX_IP, PORT, payload4, 4);
	memcpy(rd.frame, fr, n);
	rd.len = n;
	rd.pending = true;
	ftcp_stack_poll(s, h.now + 3000);
	ASSERT_EQ_U64(harness_counter(s, "drop_eth_not_for_us"), 1);
	ASSERT_EQ_U64(harness_counter(s, "ipv4_rx"), 0);
	/* The same frame to our MAC is accepted (no port bound: counted). */
	memcpy(rd.frame, ours.b, 6);
	rd.pending = true;
	ftcp_stack_poll(s, h.now + 4000);
	ASSERT_EQ_U64(harness_counter(s, "ipv4_rx"), 1);
	ASSERT_EQ_U64(harness_counter(s, "drop_udp_no_port"), 1);
	/* Exactly 14 bytes of unknown EtherType is a valid (empty) frame. */
	memset(rd.frame + 12, 0x88, 2);
	rd.len = 14;
	rd.pending = true;
	ftcp_stack_poll(s, h.now + 5000);
	ASSERT_EQ_U64(harness_counter(s, "drop_eth_short"), 2);
	ASSERT_EQ_U64(harness_counter(s, "drop_eth_type"), 1);
	free(mem);
	harness_free(&h);
}

/* Hand the raw stack frame fr with device flags, poll once. */
static void raw_feed(struct harness *h, struct rawdev *rd, struct ftcp_stack *s, const uint8_t *fr,
                     uint32_t n, uint32_t flags)
{
	memcpy(rd->frame, fr, n);
	rd->len = n;
	rd->flags = flags;
	rd->pending = true;
	h->now += FX_STEP;
	ftcp_stack_poll(s, h->now);
	CU_ASSERT(!rd->pending);
}

static void test_ipv4_trusts_device_checksum_verdicts(void)
{
	struct harness h;
	struct rawdev rd;
	struct ftcp_stack *s;
	struct ftcp_mac ours = harness_mac(0xf0), peer = harness_mac(0xf1);
	struct ftcp_sockaddr any = {0, PORT};
	uint8_t fr[128], buf[16];
	void *mem;
	uint32_t n;
	ftcp_sock_t so;

	harness_init(&h);
	s = raw_stack(&h, &rd, &mem);
	so = ftcp_udp_open(s, NULL, NULL);
	CU_ASSERT_FATAL(ftcp_bind(s, so, &any) == 0);
	n = harness_build_udp(fr, &ours, &peer, FX_PEER_IP, 4000, FX_IP, PORT, payload4, 4);

	/* Correct sums, but the device says bad: dropped at its layer. */
	raw_feed(&h, &rd, s, fr, n, FTCP_RX_IP_CKSUM_BAD);
	ASSERT_EQ_U64(harness_counter(s, "drop_ip_cksum"), 1);
	raw_feed(&h, &rd, s, fr, n, FTCP_RX_IP_CKSUM_GOOD | FTCP_RX_L4_CKSUM_BAD);
	ASSERT_EQ_U64(harness_counter(s, "drop_udp_cksum"), 1);
	ASSERT_EQ_I64(ftcp_recvfrom(s, so, buf, sizeof(buf), 0, NULL, NULL, NULL), -FTCP_EAGAIN);

	/* Wrong sums the device vouched for are not checked again. */
	fr[14 + 10] ^= 0x55;              /* IP header checksum */
	fr[14 + 20 + 6] ^= 0x55;          /* UDP checksum */
	raw_feed(&h, &rd, s, fr, n, FTCP_RX_IP_CKSUM_GOOD | FTCP_RX_L4_CKSUM_GOOD);
	ASSERT_EQ_I64(ftcp_recvfrom(s, so, buf, sizeof(buf), 0, NULL, NULL, NULL), 4);
	/* Without a verdict they are. */
	raw_feed(&h, &rd, s, fr, n, 0);
	ASSERT_EQ_U64(harness_counter(s, "drop_ip_cksum"), 2);
	raw_feed(&h, &rd, s, fr, n, FTCP_RX_IP_CKSUM_GOOD);
	ASSERT_EQ_U64(harness_counter(s, "drop_udp_cksum"), 2);
	ASSERT_EQ_I64(ftcp_recvfrom(s, so, buf, sizeof(buf), 0, NULL, NULL, NULL), -FTCP_EAGAIN);
	ftcp_close(s, so);
	free(mem);
	harness_free(&h);
}

static void test_ipv4_accepts_broadcasts_for_udp(void)
{
	struct fx f;
	uint8_t buf[16];
	struct ftcp_sockaddr from;
	ftcp_sock_t h, hs;
	struct ftcp_sockaddr specific = {FX_IP, PORT + 1};

	fx_start(&f);
	h = fx_udp_bound(&f, PORT, NULL, NULL);
	hs = ftcp_udp_open(f.s, NULL, NULL);
	CU_ASSERT_FATAL(ftcp_bind(f.s, hs, &specific) == 0);

	fx_inject_udp(&f, FX_PEER_IP, 4000, IP4(10, 0, 0, 255), PORT, "sub", 3);
	fx_inject_udp(&f, FX_PEER_IP, 4000, 0xffffffffu, PORT, "all", 3);
	harness_peer_drain(f.peer);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &from, NULL, NULL), 3);
	CU_ASSERT(memcmp(buf, "sub", 3) == 0);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, h, buf, sizeof(buf), 0, &from, NULL, NULL), 3);
	CU_ASSERT(memcmp(buf, "all", 3) == 0);
	ASSERT_EQ_U64(from.addr, FX_PEER_IP);

	/* A socket bound to our unicast address does not take broadcasts,
	 * and no port unreachable answers a broadcast. */
	fx_inject_udp(&f, FX_PEER_IP, 4000, 0xffffffffu, PORT + 1, "x", 1);
	harness_peer_drain(f.peer);
	fx_step(&f);
	ASSERT_EQ_I64(ftcp_recvfrom(f.s, hs, buf, sizeof(buf), 0, NULL, NULL, NULL), -FTCP_EAGAIN);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_udp_no_port"), 1);
	ASSERT_EQ_U64(harness_counter(f.s, "icmp_tx"), 0);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ftcp_close(f.s, h);
	ftcp_close(f.s, hs);
	fx_free(&f);
}

static void test_ipv4_routes_off_subnet_via_gateway(void)
{
	struct fx f;
	struct ftcp_config c;
	struct ftcp_mac gw_mac = harness_mac(0xf0), m;
	uint8_t buf[FX_BUF];
	struct ftcp_eth_repr e;
	struct ftcp_ipv4_repr ip;
	struct ftcp_udp_repr u;
	struct ftcp_arp_repr a;
	struct ftcp_sockaddr to = {IP4(8, 8, 8, 8), 53};
	uint32_t n, plen;
	ftcp_sock_t h;

	fx_config(&c);
	c.gateway = IP4(10, 0, 0, 254);
	fx_start_cfg(&f, &c, 0);
	h = ftcp_udp_open(f.s, NULL, NULL);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "q", 1, &to), 1);
	fx_step(&f);
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_arp(buf, n, &e, &a));
	ASSERT_EQ_U64(a.op, FTCP_ARP_REQUEST);
	ASSERT_EQ_U64(a.tpa, IP4(10, 0, 0, 254)); /* the gateway, not 8.8.8.8 */
	CU_ASSERT(ftcp_arp_lookup(f.s, IP4(8, 8, 8, 8), &m) == -FTCP_EHOSTUNREACH);
	CU_ASSERT(ftcp_arp_lookup(f.s, IP4(10, 0, 0, 254), &m) == -FTCP_EINPROGRESS);

	n = harness_build_arp(buf, FTCP_ARP_REPLY, &f.smac, &gw_mac, IP4(10, 0, 0, 254), &f.smac,
	                      FX_IP);
	harness_inject(&f.h, buf, n);
	fx_step(&f);
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_udp(buf, n, &e, &ip, &u, &plen) != NULL);
	CU_ASSERT(ftcp_mac_eq(&e.dst, &gw_mac));
	ASSERT_EQ_U64(ip.dst, IP4(8, 8, 8, 8));
	ASSERT_EQ_U64(u.dst_port, 53);

	/* On-link destinations are still resolved directly. */
	to.addr = IP4(10, 0, 0, 7);
	to.port = 9;
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "q", 1, &to), 1);
	fx_step(&f);
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_arp(buf, n, &e, &a));
	ASSERT_EQ_U64(a.tpa, IP4(10, 0, 0, 7));
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_ipv4_off_subnet_without_gateway_is_unreachable(void)
{
	struct fx f;
	uint8_t buf[FX_BUF];
	struct ftcp_sockaddr to = {IP4(8, 8, 8, 8), 53};
	ftcp_sock_t h;

	fx_start(&f);
	h = ftcp_udp_open(f.s, NULL, NULL);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "q", 1, &to), -FTCP_ENETUNREACH);
	ASSERT_EQ_U64(harness_counter(f.s, "drop_ip_no_route"), 1);
	ASSERT_EQ_I64(ftcp_ping(f.s, IP4(192, 168, 0, 1), 1, 1, NULL, 0), -FTCP_ENETUNREACH);
	/* Nor can we send to ourselves, loopback, multicast or 0. */
	to.addr = FX_IP;
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "q", 1, &to), -FTCP_ENETUNREACH);
	to.addr = IP4(127, 0, 0, 1);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "q", 1, &to), -FTCP_ENETUNREACH);
	to.addr = IP4(224, 0, 0, 1);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "q", 1, &to), -FTCP_ENETUNREACH);
	to.addr = 0;
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "q", 1, &to), -FTCP_ENETUNREACH);
	fx_step(&f);
	ASSERT_EQ_U64(fx_recv(&f, buf), 0);
	ASSERT_EQ_U64(harness_counter(f.s, "ipv4_tx"), 0);
	ftcp_close(f.s, h);
	fx_free(&f);
}

static void test_ipv4_emitted_headers_carry_ttl_df_and_checksum(void)
{
	struct fx f;
	struct ftcp_config c;
	uint8_t buf[FX_BUF];
	struct ftcp_eth_repr e;
	struct ftcp_ipv4_repr ip;
	struct ftcp_sockaddr to = {FX_PEER_IP, 7};
	uint32_t n, l4;
	uint16_t id0;
	ftcp_sock_t h;
	const uint8_t *p;

	fx_config(&c);
	c.ip_ttl = 33;
	fx_start_cfg(&f, &c, 0);
	fx_learn_peer(&f);
	h = ftcp_udp_open(f.s, NULL, NULL);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "abc", 3, &to), 3);
	ASSERT_EQ_I64(ftcp_sendto(f.s, h, "abcd", 4, &to), 4);
	CU_ASSERT(ftcp_ping(f.s, FX_PEER_IP, 1, 2, "xy", 2) == 0);
	fx_step(&f);

	n = fx_recv(&f, buf);
	p = fx_parse_ipv4(buf, n, &e, &ip, &l4, 33);
	CU_ASSERT_FATAL(p != NULL);
	ASSERT_EQ_U64(buf[14], 0x45);
	ASSERT_EQ_U64(ip.tos, 0);
	ASSERT_EQ_U64(ip.proto, FTCP_IP_PROTO_UDP);
	ASSERT_EQ_U64(ip.src, FX_IP);
	ASSERT_EQ_U64(ip.dst, FX_PEER_IP);
	ASSERT_EQ_U64(ip.total_len, 20 + 8 + 3);
	CU_ASSERT(ftcp_mac_eq(&e.dst, &f.pmac));
	id0 = ip.id;
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_ipv4(buf, n, &e, &ip, &l4, 33) != NULL);
	ASSERT_EQ_U64(ip.total_len, 20 + 8 + 4);
	CU_ASSERT(ip.id != id0); /* distinct IDs */
	n = fx_recv(&f, buf);
	CU_ASSERT_FATAL(fx_parse_ipv4(buf, n, &e, &ip, &l4, 33) != NULL);
	ASSERT_EQ_U64(ip.proto, FTCP_IP_PROTO_ICMP);
	ASSERT_EQ_U64(harness_counter(f.s, "ipv4_tx"), 3);
	ftcp_close(f.s, h);
	fx_free(&f);
}

void register_ipv4_tests(void);
void register_ipv4_tests(void)
{
	FTCP_SUITE("ipv4",
	           FTCP_CASE(test_ipv4_delivers_valid_udp_to_our_address),
	           FTCP_CASE(test_ipv4_drops_malformed_headers_with_their_counters),
	           FTCP_CASE(test_ipv4_drops_fragments),
	           FTCP_CASE(test_ipv4_handles_options),
	           FTCP_CASE(test_ipv4_drops_packets_not_for_us_and_bogus_sources),
	           FTCP_CASE(test_ipv4_ignores_ethernet_padding),
	           FTCP_CASE(test_ipv4_unknown_protocol_gets_protocol_unreachable),
	           FTCP_CASE(test_ipv4_drops_unknown_ethertype_and_foreign_multicast_mac),
	           FTCP_CASE(test_ipv4_drops_short_frames_and_other_unicast_macs),
	           FTCP_CASE(test_ipv4_trusts_device_checksum_verdicts),
	           FTCP_CASE(test_ipv4_accepts_broadcasts_for_udp),
	           FTCP_CASE(test_ipv4_routes_off_subnet_via_gateway),
	           FTCP_CASE(test_ipv4_off_subnet_without_gateway_is_unreachable),
	           FTCP_CASE(test_ipv4_emitted_headers_carry_ttl_df_and_checksum));
}
