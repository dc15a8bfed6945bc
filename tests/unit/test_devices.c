/*
 * test_devices.c — the in-memory link (switching, queues, MTU, the
 * two-piece TX frames and their pins, checksum offload emulation) and the
 * fault injector (each fault, timing, determinism, both directions).
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_harness.h"
#include "ftcp_test.h"
#include "base/ftcp_cksum.h"
#include "wire/ftcp_wire.h"

#define BUF 10000u

static void *zalloc8(size_t n)
{
	size_t len = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, len ? len : 64);
	CU_ASSERT_FATAL(p != NULL);
	memset(p, 0, len);
	return p;
}

/* An Ethernet frame of len bytes from src to dst whose payload starts with
 * a 16-bit sequence number and continues with a pattern of it. */
static uint32_t make_frame(uint8_t *f, const struct ftcp_mac *dst, const struct ftcp_mac *src,
                           uint16_t seq, uint32_t len)
{
	uint32_t i;

	memcpy(f, dst->b, 6);
	memcpy(f + 6, src->b, 6);
	ftcp_put_be16(f + 12, 0x88b5); /* local experimental EtherType */
	ftcp_put_be16(f + 14, seq);
	for (i = 16; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i);
	return len;
}

static uint16_t send1(struct ftcp_device *dev, const uint8_t *f, uint32_t len, uint64_t now)
{
	struct ftcp_tx_frame t;

	memset(&t, 0, sizeof(t));
	t.hdr = f;
	t.hdr_len = len;
	return dev->ops->tx_burst(dev, &t, 1, now);
}

static uint32_t recv1(struct ftcp_memlink_port *p, uint8_t *buf)
{
	return harness_peer_recv(p, buf, BUF);
}

/* Sequence number of a frame built by make_frame. */
static uint16_t seq_of(const uint8_t *f)
{
	return ftcp_get_be16(f + 14);
}

/* ---- memlink ---- */

static void test_memlink_switches_unicast_broadcast_and_multicast(void)
{
	struct harness h;
	struct ftcp_memlink_port *p0, *p1, *p2;
	struct ftcp_mac mcast = {{0x01, 0x00, 0x5e, 0, 0, 9}};
	uint8_t f[128], buf[BUF];
	uint32_t n;

	harness_init(&h);
	p0 = harness_add_peer(&h);
	p1 = harness_add_peer(&h);
	p2 = harness_add_peer(&h);

	n = make_frame(f, &p1->dev.mac, &p0->dev.mac, 1, 60);
	ASSERT_EQ_U64(send1(&p0->dev, f, n, 0), 1);
	ASSERT_EQ_U64(ftcp_memlink_pending(p1), 1);
	ASSERT_EQ_U64(ftcp_memlink_pending(p0), 0);
	ASSERT_EQ_U64(ftcp_memlink_pending(p2), 0);
	ASSERT_EQ_U64(recv1(p1, buf), 60);
	CU_ASSERT(memcmp(buf, f, 60) == 0);
	ASSERT_EQ_U64(p0->stats.tx_frames, 1);
	ASSERT_EQ_U64(p0->stats.tx_bytes, 60);
	ASSERT_EQ_U64(p1->stats.rx_frames, 1);
	ASSERT_EQ_U64(p1->stats.rx_bytes, 60);
	ASSERT_EQ_U64(p2->stats.rx_frames, 0);

	/* Broadcast and multicast: every port but the sender. */
	n = make_frame(f, &ftcp_mac_broadcast, &p0->dev.mac, 2, 64);
	send1(&p0->dev, f, n, 0);
	n = make_frame(f, &mcast, &p0->dev.mac, 3, 64);
	send1(&p0->dev, f, n, 0);
	ASSERT_EQ_U64(ftcp_memlink_pending(p0), 0);
	ASSERT_EQ_U64(ftcp_memlink_pending(p1), 2);
	ASSERT_EQ_U64(ftcp_memlink_pending(p2), 2);
	recv1(p2, buf);
	ASSERT_EQ_U64(seq_of(buf), 2);
	recv1(p2, buf);
	ASSERT_EQ_U64(seq_of(buf), 3);
	ASSERT_EQ_U64(p0->stats.tx_unknown_dst, 0);

	/* Unknown unicast goes nowhere and is counted at the sender. */
	{
		struct ftcp_mac nobody = harness_mac(0x55);
		n = make_frame(f, &nobody, &p0->dev.mac, 4, 60);
		ASSERT_EQ_U64(send1(&p0->dev, f, n, 0), 1);
		ASSERT_EQ_U64(p0->stats.tx_unknown_dst, 1);
		ASSERT_EQ_U64(ftcp_memlink_pending(p1), 2);
		ASSERT_EQ_U64(ftcp_memlink_pending(p2), 0);
	}
	/* A broadcast nobody else hears is not an unknown destination. */
	{
		struct harness h1;
		struct ftcp_memlink_port *alone;
		harness_init(&h1);
		alone = harness_add_peer(&h1);
		n = make_frame(f, &ftcp_mac_broadcast, &alone->dev.mac, 6, 60);
		send1(&alone->dev, f, n, 0);
		ASSERT_EQ_U64(alone->stats.tx_unknown_dst, 0);
		ASSERT_EQ_U64(alone->stats.tx_frames, 1);
		ASSERT_EQ_U64(ftcp_memlink_pending(alone), 0);
		harness_free(&h1);
	}
	/* Injected frames are switched the same way. */
	n = make_frame(f, &p2->dev.mac, &p0->dev.mac, 5, 60);
	CU_ASSERT(ftcp_memlink_inject(&h.link, f, n) == 0);
	ASSERT_EQ_U64(ftcp_memlink_pending(p2), 1);
	ASSERT_EQ_U64(ftcp_memlink_pending(p0), 0);
	CU_ASSERT(ftcp_memlink_inject(&h.link, f, 13) == -FTCP_EINVAL);
	CU_ASSERT(ftcp_memlink_inject(&h.link, NULL, 60) == -FTCP_EINVAL);
	harness_free(&h);
}

static void test_memlink_rx_burst_and_release_keep_order(void)
{
	struct harness h;
	struct ftcp_memlink_port *p0, *p1;
	struct ftcp_rx_frame rx[8];
	uint8_t f[128];
	uint16_t got, i;

	harness_init(&h);
	p0 = harness_add_peer(&h);
	p1 = harness_add_peer(&h);
	for (i = 0; i < 5; i++)
		send1(&p0->dev, f, make_frame(f, &p1->dev.mac, &p0->dev.mac, i, 60 + i), 0);
	got = p1->dev.ops->rx_burst(&p1->dev, rx, 3, 0);
	ASSERT_EQ_U64(got, 3);
	for (i = 0; i < got; i++) {
		ASSERT_EQ_U64(seq_of(rx[i].data), i);
		ASSERT_EQ_U64(rx[i].len, 60u + i);
		ASSERT_EQ_U64(rx[i].flags, 0);
	}
	/* Not consumed until released. */
	ASSERT_EQ_U64(ftcp_memlink_pending(p1), 5);
	p1->dev.ops->rx_release(&p1->dev, rx, got);
	ASSERT_EQ_U64(ftcp_memlink_pending(p1), 2);
	got = p1->dev.ops->rx_burst(&p1->dev, rx, 8, 0);
	ASSERT_EQ_U64(got, 2);
	ASSERT_EQ_U64(seq_of(rx[0].data), 3);
	ASSERT_EQ_U64(seq_of(rx[1].data), 4);
	p1->dev.ops->rx_release(&p1->dev, rx, got);
	ASSERT_EQ_U64(ftcp_memlink_pending(p1), 0);
	ASSERT_EQ_U64(p1->dev.ops->rx_burst(&p1->dev, rx, 8, 0), 0);
	harness_free(&h);
}

static void test_memlink_full_rx_fifo_drops(void)
{
	struct harness h;
	struct ftcp_memlink_port *p0, small;
	struct ftcp_mac m = harness_mac(0x60);
	void *mem = zalloc8(256);
	uint8_t f[128], buf[BUF];
	uint16_t i;

	harness_init(&h);
	p0 = harness_add_peer(&h);
	CU_ASSERT_FATAL(ftcp_memlink_attach(&h.link, &small, &m, 1500, 0, mem, 256) == 0);
	/* A 60-byte frame takes 80 bytes of fifo: three fit in 256. */
	for (i = 0; i < 5; i++)
		ASSERT_EQ_U64(send1(&p0->dev, f, make_frame(f, &m, &p0->dev.mac, i, 60), 0), 1);
	ASSERT_EQ_U64(small.stats.rx_frames, 3);
	ASSERT_EQ_U64(small.stats.rx_dropped, 2);
	ASSERT_EQ_U64(ftcp_memlink_pending(&small), 3);
	/* Oldest kept, newest dropped; space comes back once read. */
	recv1(&small, buf);
	ASSERT_EQ_U64(seq_of(buf), 0);
	send1(&p0->dev, f, make_frame(f, &m, &p0->dev.mac, 9, 60), 0);
	ASSERT_EQ_U64(small.stats.rx_dropped, 2);
	recv1(&small, buf);
	ASSERT_EQ_U64(seq_of(buf), 1);
	recv1(&small, buf);
	ASSERT_EQ_U64(seq_of(buf), 2);
	recv1(&small, buf);
	ASSERT_EQ_U64(seq_of(buf), 9);
	ASSERT_EQ_U64(recv1(&small, buf), 0);
	harness_free(&h);
	free(mem);
}

static void test_memlink_counts_frames_above_mtu(void)
{
	struct harness h;
	struct ftcp_memlink_port *p0, small;
	struct ftcp_mac m = harness_mac(0x61);
	void *mem = zalloc8(1u << 16);
	static uint8_t f[2000];
	struct ftcp_txpin pin = {1};
	struct ftcp_tx_frame t;

	harness_init(&h);
	p0 = harness_add_peer(&h);
	CU_ASSERT_FATAL(ftcp_memlink_attach(&h.link, &small, &m, 576, 0, mem, 1u << 16) == 0);
	ASSERT_EQ_U64(send1(&small.dev, f, make_frame(f, &p0->dev.mac, &m, 1, 14 + 576), 0), 1);
	ASSERT_EQ_U64(small.stats.tx_too_big, 0);
	ASSERT_EQ_U64(ftcp_memlink_pending(p0), 1);
	ASSERT_EQ_U64(send1(&small.dev, f, make_frame(f, &p0->dev.mac, &m, 2, 14 + 577), 0), 1);
	ASSERT_EQ_U64(small.stats.tx_too_big, 1);
	ASSERT_EQ_U64(small.stats.tx_frames, 1);
	ASSERT_EQ_U64(ftcp_memlink_pending(p0), 1);
	/* The size is header + payload; the pin is released all the same. */
	memset(&t, 0, sizeof(t));
	t.hdr = f;
	t.hdr_len = 300;
	t.payload = f + 300;
	t.payload_len = 291;
	t.pin = &pin;
	ASSERT_EQ_U64(small.dev.ops->tx_burst(&small.dev, &t, 1, 0), 1);
	ASSERT_EQ_U64(small.stats.tx_too_big, 2);
	ASSERT_EQ_U64(pin.refs, 0);
	harness_free(&h);
	free(mem);
}

static void test_memlink_joins_header_and_payload_and_releases_pin(void)
{
	struct harness h;
	struct ftcp_memlink_port *p0, *p1;
	uint8_t f[128], payload[33], buf[BUF];
	struct ftcp_txpin pin = {2};
	struct ftcp_tx_frame t[2];
	uint32_t i;

	harness_init(&h);
	p0 = harness_add_peer(&h);
	p1 = harness_add_peer(&h);
	make_frame(f, &p1->dev.mac, &p0->dev.mac, 7, 20);
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0xa0 + i);
	memset(t, 0, sizeof(t));
	t[0].hdr = f;
	t[0].hdr_len = 20;
	t[0].payload = payload;
	t[0].payload_len = sizeof(payload);
	t[0].pin = &pin;
	t[1] = t[0];
	ASSERT_EQ_U64(p0->dev.ops->tx_burst(&p0->dev, t, 2, 0), 2);
	ASSERT_EQ_U64(pin.refs, 0); /* copied: released once per frame */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ_U64(recv1(p1, buf), 20 + sizeof(payload));
		CU_ASSERT(memcmp(buf, f, 20) == 0);
		CU_ASSERT(memcmp(buf + 20, payload, sizeof(payload)) == 0);
	}
	ASSERT_EQ_U64(p0->stats.tx_bytes, 2 * (20 + sizeof(payload)));
	/* Unknown destination: still released. */
	pin.refs = 1;
	t[0].hdr = f;
	f[5] = 0x55;
	ASSERT_EQ_U64(p0->dev.ops->tx_burst(&p0->dev, t, 1, 0), 1);
	ASSERT_EQ_U64(pin.refs, 0);
	harness_free(&h);
}

/* A UDP/IPv4 frame with the IP checksum left 0 and the UDP checksum field
 * holding the pseudo-header sum, as the stack hands an offloading device:
 * header piece (eth + ip + udp) in hdr, payload separately. */
static uint32_t make_offload_udp(uint8_t *hdr, uint8_t *payload, uint32_t plen,
                                 const struct ftcp_mac *dst, const struct ftcp_mac *src)
{
	struct ftcp_eth_repr e = {*dst, *src, FTCP_ETHERTYPE_IPV4};
	struct ftcp_ipv4_repr ip;
	uint32_t i;

	memset(&ip, 0, sizeof(ip));
	ip.src = IP4(10, 0, 0, 1);
	ip.dst = IP4(10, 0, 0, 2);
	ip.proto = FTCP_IP_PROTO_UDP;
	ip.ttl = 64;
	ip.total_len = (uint16_t)(20 + 8 + plen);
	ip.frag = FTCP_IPV4_DF;
	ftcp_eth_emit(&e, hdr);
	ftcp_ipv4_emit(&ip, hdr + 14, false);
	for (i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 13 + 5);
	ftcp_put_be16(hdr + 34, 1111);
	ftcp_put_be16(hdr + 36, 2222);
	ftcp_put_be16(hdr + 38, (uint16_t)(8 + plen));
	ftcp_put_be16(hdr + 40, ftcp_cksum_fold(ftcp_cksum_pseudo(ip.src, ip.dst,
	                                                          FTCP_IP_PROTO_UDP, 8 + plen)));
	return 42;
}

static bool frame_cksums_ok(const uint8_t *f, uint32_t len)
{
	struct ftcp_ipv4_repr ip;
	struct ftcp_udp_repr u;
	int hl = ftcp_ipv4_parse(f + 14, len - 14, true, &ip);

	if (hl < 0)
		return false;
	return ftcp_udp_parse(f + 14 + hl, ip.total_len - (uint32_t)hl, ip.src, ip.dst, true, &u) >=
	           0 &&
	       u.cksum != 0;
}

static void test_memlink_emulates_checksum_offload(void)
{
	struct harness h;
	struct ftcp_memlink_port tx, rx_caps, rx_plain;
	struct ftcp_mac mt = harness_mac(0x70), mr = harness_mac(0x71), mp = harness_mac(0x72);
	void *m1 = zalloc8(1u << 16), *m2 = zalloc8(1u << 16), *m3 = zalloc8(1u << 16);
	uint8_t hdr[64], payload[101], buf[BUF];
	struct ftcp_tx_frame t;
	struct ftcp_rx_frame r;
	uint32_t n;

	harness_init(&h);
	CU_ASSERT_FATAL(ftcp_memlink_attach(&h.link, &tx, &mt, 1500,
	                                    FTCP_DEV_TX_IPV4_CKSUM | FTCP_DEV_TX_UDP_CKSUM |
	                                        FTCP_DEV_TX_TSO,
	                                    m1, 1u << 16) == 0);
	/* TSO is not emulated: the cap is not reported. */
	ASSERT_EQ_U64(tx.dev.caps, FTCP_DEV_TX_IPV4_CKSUM | FTCP_DEV_TX_UDP_CKSUM);
	CU_ASSERT_FATAL(ftcp_memlink_attach(&h.link, &rx_caps, &mr, 1500, FTCP_DEV_RX_CKSUM, m2,
	                                    1u << 16) == 0);
	CU_ASSERT_FATAL(ftcp_memlink_attach(&h.link, &rx_plain, &mp, 1500, 0, m3, 1u << 16) == 0);

	/* Broadcast so both receivers get it; odd payload length. */
	memset(&t, 0, sizeof(t));
	t.hdr_len = make_offload_udp(hdr, payload, sizeof(payload), &ftcp_mac_broadcast, &mt);
	t.hdr = hdr;
	t.payload = payload;
	t.payload_len = sizeof(payload);
	t.flags = FTCP_TX_IP_CKSUM | FTCP_TX_UDP_CKSUM;
	t.l2_len = 14;
	t.l3_len = 20;
	t.l4_len = 8;
	ASSERT_EQ_U64(tx.dev.ops->tx_burst(&tx.dev, &t, 1, 0), 1);
	/* The sender's buffers are not modified. */
	ASSERT_EQ_U64(ftcp_get_be16(hdr + 24), 0);

	ASSERT_EQ_U64(rx_caps.dev.ops->rx_burst(&rx_caps.dev, &r, 1, 0), 1);
	CU_ASSERT(frame_cksums_ok(r.data, r.len));
	ASSERT_EQ_U64(r.flags, FTCP_RX_IP_CKSUM_GOOD | FTCP_RX_L4_CKSUM_GOOD);
	rx_caps.dev.ops->rx_release(&rx_caps.dev, &r, 1);
	ASSERT_EQ_U64(rx_plain.dev.ops->rx_burst(&rx_plain.dev, &r, 1, 0), 1);
	CU_ASSERT(frame_cksums_ok(r.data, r.len));
	ASSERT_EQ_U64(r.flags, 0); /* no RX_CKSUM cap: no verdict */
	memcpy(buf, r.data, r.len);
	n = r.len;
	rx_plain.dev.ops->rx_release(&rx_plain.dev, &r, 1);

	/* Verdicts on injected frames: bad L4, bad IP, no UDP checksum,
	 * not IP at all. */
	buf[n - 1] ^= 1;
	memcpy(buf, mr.b, 6);
	ftcp_memlink_inject(&h.link, buf, n);
	ASSERT_EQ_U64(rx_caps.dev.ops->rx_burst(&rx_caps.dev, &r, 1, 0), 1);
	ASSERT_EQ_U64(r.flags, FTCP_RX_IP_CKSUM_GOOD | FTCP_RX_L4_CKSUM_BAD);
	rx_caps.dev.ops->rx_release(&rx_caps.dev, &r, 1);
	buf[n - 1] ^= 1;
	buf[14 + 8] ^= 1;
	ftcp_memlink_inject(&h.link, buf, n);
	ASSERT_EQ_U64(rx_caps.dev.ops->rx_burst(&rx_caps.dev, &r, 1, 0), 1);
	ASSERT_EQ_U64(r.flags, FTCP_RX_IP_CKSUM_BAD | FTCP_RX_L4_CKSUM_GOOD);
	rx_caps.dev.ops->rx_release(&rx_caps.dev, &r, 1);
	buf[14 + 8] ^= 1;
	ftcp_put_be16(buf + 40, 0);
	ftcp_memlink_inject(&h.link, buf, n);
	ASSERT_EQ_U64(rx_caps.dev.ops->rx_burst(&rx_caps.dev, &r, 1, 0), 1);
	ASSERT_EQ_U64(r.flags, FTCP_RX_IP_CKSUM_GOOD);
	rx_caps.dev.ops->rx_release(&rx_caps.dev, &r, 1);
	ftcp_put_be16(buf + 12, FTCP_ETHERTYPE_ARP);
	ftcp_memlink_inject(&h.link, buf, n);
	ASSERT_EQ_U64(rx_caps.dev.ops->rx_burst(&rx_caps.dev, &r, 1, 0), 1);
	ASSERT_EQ_U64(r.flags, 0);
	rx_caps.dev.ops->rx_release(&rx_caps.dev, &r, 1);

	/* IP checksum only (an ICMP-like frame): the L4 bytes are untouched. */
	t.hdr_len = make_offload_udp(hdr, payload, sizeof(payload), &mp, &mt);
	t.flags = FTCP_TX_IP_CKSUM;
	tx.dev.ops->tx_burst(&tx.dev, &t, 1, 0);
	n = recv1(&rx_plain, buf);
	ASSERT_EQ_U64(n, 42 + sizeof(payload));
	{
		struct ftcp_ipv4_repr ip;
		CU_ASSERT(ftcp_ipv4_parse(buf + 14, n - 14, true, &ip) == 20);
		CU_ASSERT(memcmp(buf + 40, hdr + 40, 2) == 0);
	}
	/* No flags: the frame is copied as is. */
	t.flags = 0;
	tx.dev.ops->tx_burst(&tx.dev, &t, 1, 0);
	n = recv1(&rx_plain, buf);
	CU_ASSERT(memcmp(buf, hdr, 42) == 0);
	harness_free(&h);
	free(m1);
	free(m2);
	free(m3);
}

/* ---- faultdev ---- */

struct fdx {
	struct harness h;
	struct ftcp_memlink_port *a, *b; /* a receives what the wrapped b sends */
	struct ftcp_faultdev fd;
	void *mem;
};

static void fdx_start(struct fdx *x, const struct ftcp_fault_config *c)
{
	size_t need = ftcp_faultdev_memory_size(c);

	harness_init(&x->h);
	x->a = harness_add_peer(&x->h);
	x->b = harness_add_peer(&x->h);
	CU_ASSERT_FATAL(need > 0);
	x->mem = zalloc8(need);
	CU_ASSERT_FATAL(ftcp_faultdev_init(&x->fd, &x->b->dev, c, x->mem, need) == 0);
	CU_ASSERT(ftcp_mac_eq(&x->fd.dev.mac, &x->b->dev.mac));
	ASSERT_EQ_U64(x->fd.dev.mtu, x->b->dev.mtu);
}

static void fdx_free(struct fdx *x)
{
	harness_free(&x->h);
	free(x->mem);
}

static void fault_config(struct ftcp_fault_config *c, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->seed = seed;
	c->slots = 64;
	c->max_frame = 1514;
}

/* Send frame seq from b (through the injector) to a at time now. */
static void fdx_send(struct fdx *x, uint16_t seq, uint32_t len, uint64_t now)
{
	uint8_t f[1600];
	ASSERT_EQ_U64(send1(&x->fd.dev, f, make_frame(f, &x->a->dev.mac, &x->b->dev.mac, seq, len),
	                    now),
	              1);
}

/* Let the injector release due frames (any call does). */
static void fdx_tick(struct fdx *x, uint64_t now)
{
	x->fd.dev.ops->tx_burst(&x->fd.dev, NULL, 0, now);
}

static void test_faultdev_zero_config_passes_through_uncopied(void)
{
	struct fdx x;
	struct ftcp_fault_config c;
	struct ftcp_rx_frame r[4];
	struct ftcp_txpin pin = {1};
	struct ftcp_tx_frame t;
	uint8_t f[128], buf[BUF];
	uint16_t i, got;

	fault_config(&c, 1);
	fdx_start(&x, &c);
	for (i = 0; i < 3; i++)
		fdx_send(&x, i, 60, 0);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 0);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 3);
	for (i = 0; i < 3; i++) {
		recv1(x.a, buf);
		ASSERT_EQ_U64(seq_of(buf), i);
	}
	/* Pins go to the inner device, which releases them. */
	memset(&t, 0, sizeof(t));
	t.hdr = f;
	t.hdr_len = make_frame(f, &x.a->dev.mac, &x.b->dev.mac, 9, 60);
	t.pin = &pin;
	x.fd.dev.ops->tx_burst(&x.fd.dev, &t, 1, 0);
	ASSERT_EQ_U64(pin.refs, 0);
	ASSERT_EQ_U64(x.fd.tx_stats.frames, 0); /* the fast path counts nothing */

	/* Receive: the inner device's own buffers, no slot used. */
	for (i = 0; i < 3; i++)
		ftcp_memlink_inject(&x.h.link, f, make_frame(f, &x.b->dev.mac, &x.a->dev.mac, i, 60));
	got = x.fd.dev.ops->rx_burst(&x.fd.dev, r, 4, 0);
	ASSERT_EQ_U64(got, 3);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 0);
	for (i = 0; i < got; i++)
		ASSERT_EQ_U64(seq_of(r[i].data), i);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.b), 3); /* still the inner's */
	x.fd.dev.ops->rx_release(&x.fd.dev, r, got);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.b), 0);
	fdx_free(&x);
}

static void test_faultdev_drop_all(void)
{
	struct fdx x;
	struct ftcp_fault_config c;
	struct ftcp_rx_frame r[4];
	struct ftcp_txpin pin = {1};
	struct ftcp_tx_frame t;
	uint8_t f[128];
	uint16_t i;

	fault_config(&c, 1);
	c.tx.drop_ppm = 1000000;
	c.rx.drop_ppm = 1000000;
	fdx_start(&x, &c);
	for (i = 0; i < 20; i++)
		fdx_send(&x, i, 60, i);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 0);
	ASSERT_EQ_U64(x.fd.tx_stats.frames, 20);
	ASSERT_EQ_U64(x.fd.tx_stats.dropped, 20);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 0);
	/* A dropped frame's pin is released too. */
	memset(&t, 0, sizeof(t));
	t.hdr = f;
	t.hdr_len = make_frame(f, &x.a->dev.mac, &x.b->dev.mac, 99, 60);
	t.pin = &pin;
	ASSERT_EQ_U64(x.fd.dev.ops->tx_burst(&x.fd.dev, &t, 1, 100), 1);
	ASSERT_EQ_U64(pin.refs, 0);

	for (i = 0; i < 10; i++)
		ftcp_memlink_inject(&x.h.link, f, make_frame(f, &x.b->dev.mac, &x.a->dev.mac, i, 60));
	ASSERT_EQ_U64(x.fd.dev.ops->rx_burst(&x.fd.dev, r, 4, 200), 0);
	ASSERT_EQ_U64(x.fd.rx_stats.dropped, 10);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.b), 0); /* pulled and released */
	fdx_free(&x);
}

static void test_faultdev_duplicates(void)
{
	struct fdx x;
	struct ftcp_fault_config c;
	struct ftcp_rx_frame r[8];
	uint8_t f[128], buf[BUF];
	uint16_t i, got;

	fault_config(&c, 2);
	c.tx.dup_ppm = 1000000;
	c.rx.dup_ppm = 1000000;
	fdx_start(&x, &c);
	for (i = 0; i < 3; i++)
		fdx_send(&x, i, 60 + i, 0);
	ASSERT_EQ_U64(x.fd.tx_stats.duplicated, 3);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 6);
	for (i = 0; i < 6; i++) {
		ASSERT_EQ_U64(recv1(x.a, buf), 60u + i / 2);
		ASSERT_EQ_U64(seq_of(buf), i / 2);
	}
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 0);

	ftcp_memlink_inject(&x.h.link, f, make_frame(f, &x.b->dev.mac, &x.a->dev.mac, 5, 70));
	got = x.fd.dev.ops->rx_burst(&x.fd.dev, r, 8, 0);
	ASSERT_EQ_U64(got, 2);
	ASSERT_EQ_U64(x.fd.rx_stats.duplicated, 1);
	for (i = 0; i < got; i++) {
		ASSERT_EQ_U64(r[i].len, 70);
		CU_ASSERT(memcmp(r[i].data, f, 70) == 0);
	}
	CU_ASSERT(got == 2 && r[0].data != r[1].data);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 2);
	x.fd.dev.ops->rx_release(&x.fd.dev, r, got);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 0);
	fdx_free(&x);
}

static unsigned popcount8(uint8_t v)
{
	unsigned n = 0;
	while (v) {
		n += v & 1;
		v >>= 1;
	}
	return n;
}

/* Bits that differ between a and b, and the first differing offset. */
static unsigned bit_diff(const uint8_t *a, const uint8_t *b, uint32_t len, uint32_t *first)
{
	unsigned bits = 0;
	uint32_t i;

	*first = len;
	for (i = 0; i < len; i++) {
		if (a[i] != b[i] && *first == len)
			*first = i;
		bits += popcount8((uint8_t)(a[i] ^ b[i]));
	}
	return bits;
}

static void test_faultdev_corrupts_one_bit_after_ethernet_header(void)
{
	struct fdx x;
	struct ftcp_fault_config c;
	uint8_t f[1600], buf[BUF];
	uint32_t first, n;
	unsigned positions_seen_low = 0, positions_seen_high = 0;
	uint16_t i;

	fault_config(&c, 3);
	c.tx.corrupt_ppm = 1000000;
	fdx_start(&x, &c);
	for (i = 0; i < 200; i++) {
		uint32_t len = 15 + (i * 37u) % 1400;
		make_frame(f, &x.a->dev.mac, &x.b->dev.mac, i, len);
		ASSERT_EQ_U64(send1(&x.fd.dev, f, len, 0), 1);
		n = recv1(x.a, buf);
		ASSERT_EQ_U64(n, len);
		ASSERT_EQ_U64(bit_diff(f, buf, len, &first), 1);
		CU_ASSERT(first >= FTCP_ETH_HLEN && first < len);
		if (first < len / 2)
			positions_seen_low++;
		else
			positions_seen_high++;
	}
	ASSERT_EQ_U64(x.fd.tx_stats.corrupted, 200);
	CU_ASSERT(positions_seen_low > 20 && positions_seen_high > 20);

	/* A 14-byte frame has nothing past the header to corrupt. */
	make_frame(f, &x.a->dev.mac, &x.b->dev.mac, 0, 16);
	send1(&x.fd.dev, f, 14, 0);
	n = recv1(x.a, buf);
	ASSERT_EQ_U64(n, 14);
	CU_ASSERT(memcmp(f, buf, 14) == 0);
	ASSERT_EQ_U64(x.fd.tx_stats.corrupted, 200);
	fdx_free(&x);
}

static void test_faultdev_corrupts_after_completing_offloaded_checksums(void)
{
	struct fdx x;
	struct ftcp_fault_config c;
	uint8_t hdr[64], payload[64], ref[BUF], buf[BUF];
	struct ftcp_tx_frame t;
	uint32_t n, first, len;
	int i;

	fault_config(&c, 4);
	c.tx.corrupt_ppm = 1000000;
	fdx_start(&x, &c);
	for (i = 0; i < 20; i++) {
		memset(&t, 0, sizeof(t));
		t.hdr_len = make_offload_udp(hdr, payload, sizeof(payload), &x.a->dev.mac,
		                             &x.b->dev.mac);
		t.hdr = hdr;
		t.payload = payload;
		t.payload_len = sizeof(payload);
		t.flags = FTCP_TX_IP_CKSUM | FTCP_TX_UDP_CKSUM;
		t.l2_len = 14;
		t.l3_len = 20;
		t.l4_len = 8;
		len = t.hdr_len + t.payload_len;
		memcpy(ref, hdr, t.hdr_len);
		memcpy(ref + t.hdr_len, payload, t.payload_len);
		ftcp_wire_complete_cksums(ref, len, t.flags, 14, 20);
		CU_ASSERT(frame_cksums_ok(ref, len));
		x.fd.dev.ops->tx_burst(&x.fd.dev, &t, 1, 0);
		n = recv1(x.a, buf);
		ASSERT_EQ_U64(n, len);
		/* One bit off the correctly-summed frame: the damage shows. */
		ASSERT_EQ_U64(bit_diff(ref, buf, len, &first), 1);
		CU_ASSERT(first >= 14);
		CU_ASSERT(!frame_cksums_ok(buf, len));
	}
	fdx_free(&x);
}

static void test_faultdev_delays_frames(void)
{
	struct fdx x;
	struct ftcp_fault_config c;
	struct ftcp_rx_frame r[4];
	uint8_t f[128], buf[BUF];

	fault_config(&c, 5);
	c.tx.delay_us = 1000;
	c.rx.delay_us = 500;
	fdx_start(&x, &c);
	fdx_send(&x, 1, 60, 100);
	fdx_send(&x, 2, 60, 300);
	ASSERT_EQ_U64(x.fd.tx_stats.delayed, 2);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 2);
	fdx_tick(&x, 1099);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 0);
	fdx_tick(&x, 1100);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 1);
	fdx_tick(&x, 1299);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 1);
	/* Receiving also lets transmit-side frames out. */
	ASSERT_EQ_U64(x.fd.dev.ops->rx_burst(&x.fd.dev, r, 4, 1300), 0);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 2);
	recv1(x.a, buf);
	ASSERT_EQ_U64(seq_of(buf), 1);
	recv1(x.a, buf);
	ASSERT_EQ_U64(seq_of(buf), 2);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 0);

	/* Receive side. */
	ftcp_memlink_inject(&x.h.link, f, make_frame(f, &x.b->dev.mac, &x.a->dev.mac, 3, 60));
	ASSERT_EQ_U64(x.fd.dev.ops->rx_burst(&x.fd.dev, r, 4, 2000), 0);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 1);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.b), 0);
	ASSERT_EQ_U64(x.fd.dev.ops->rx_burst(&x.fd.dev, r, 4, 2499), 0);
	ASSERT_EQ_U64(x.fd.dev.ops->rx_burst(&x.fd.dev, r, 4, 2500), 1);
	ASSERT_EQ_U64(seq_of(r[0].data), 3);
	x.fd.dev.ops->rx_release(&x.fd.dev, r, 1);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 0);
	fdx_free(&x);
}

static void test_faultdev_reorder_lets_later_frames_overtake(void)
{
	struct fdx x;
	struct ftcp_fault_config c;
	uint8_t buf[BUF];
	uint16_t order[64], i, n = 0;

	/* Deterministic: the first frame picked, the second not. */
	fault_config(&c, 6);
	c.tx.reorder_ppm = 1000000;
	c.tx.reorder_delay_us = 500;
	fdx_start(&x, &c);
	fdx_send(&x, 1, 60, 0);
	x.fd.cfg.tx.reorder_ppm = 0;
	fdx_send(&x, 2, 60, 10);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 1);
	fdx_tick(&x, 499);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 1);
	fdx_tick(&x, 500);
	recv1(x.a, buf);
	ASSERT_EQ_U64(seq_of(buf), 2);
	recv1(x.a, buf);
	ASSERT_EQ_U64(seq_of(buf), 1);
	ASSERT_EQ_U64(x.fd.tx_stats.reordered, 1);
	fdx_free(&x);

	/* Random: frames every 10 us, a third held back 100 us. Frames not
	 * picked keep their order; so do the picked ones among themselves. */
	fault_config(&c, 7);
	c.tx.reorder_ppm = 300000;
	c.tx.reorder_delay_us = 100;
	fdx_start(&x, &c);
	for (i = 1; i <= 60; i++)
		fdx_send(&x, i, 60, i * 10u);
	fdx_tick(&x, 10000);
	while (n < 64 && recv1(x.a, buf))
		order[n++] = seq_of(buf);
	ASSERT_EQ_U64(n, 60);
	CU_ASSERT(x.fd.tx_stats.reordered > 5 && x.fd.tx_stats.reordered < 40);
	{
		unsigned inversions = 0;
		for (i = 1; i < n; i++)
			if (order[i] < order[i - 1])
				inversions++;
		CU_ASSERT(inversions > 0);
	}
	/* Each frame is late by exactly 100 us or not at all: it arrives
	 * after at most 10 frames sent later. */
	for (i = 0; i < n; i++) {
		uint16_t j, overtaken_by = 0;
		for (j = 0; j < i; j++)
			if (order[j] > order[i])
				overtaken_by++;
		CU_ASSERT(overtaken_by <= 10);
	}
	fdx_free(&x);
}

static void test_faultdev_rate_limit_spaces_frames(void)
{
	struct fdx x;
	struct ftcp_fault_config c;

	fault_config(&c, 8);
	c.tx.rate_bps = 8000000; /* a byte per microsecond */
	fdx_start(&x, &c);
	fdx_send(&x, 1, 1000, 0);
	fdx_send(&x, 2, 1000, 0);
	fdx_send(&x, 3, 500, 0);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 0);
	fdx_tick(&x, 999);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 0);
	fdx_tick(&x, 1000); /* 1000 bytes * 8 / 8 Mbit/s */
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 1);
	fdx_tick(&x, 1999);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 1);
	fdx_tick(&x, 2000);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 2);
	fdx_tick(&x, 2499);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 2);
	fdx_tick(&x, 2500);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 3);
	/* An idle link starts again from the send time. */
	fdx_send(&x, 4, 100, 10000);
	fdx_tick(&x, 10099);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 3);
	fdx_tick(&x, 10100);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 4);
	fdx_free(&x);
}

/* Which of 64 frames survive drop_ppm = 50% (and where corruption lands),
 * as a fingerprint of the fault pattern for a seed. */
static uint64_t fault_pattern(uint64_t seed, uint32_t *corrupt_sum)
{
	struct fdx x;
	struct ftcp_fault_config c;
	uint8_t f[128], buf[BUF];
	uint64_t mask = 0;
	uint16_t i;
	uint32_t first;

	fault_config(&c, seed);
	c.tx.drop_ppm = 500000;
	c.tx.corrupt_ppm = 1000000;
	fdx_start(&x, &c);
	*corrupt_sum = 0;
	for (i = 0; i < 64; i++) {
		make_frame(f, &x.a->dev.mac, &x.b->dev.mac, i, 100);
		send1(&x.fd.dev, f, 100, 0);
		if (recv1(x.a, buf)) {
			mask |= 1ull << i;
			bit_diff(f, buf, 100, &first);
			*corrupt_sum = *corrupt_sum * 31 + first;
		}
	}
	fdx_free(&x);
	return mask;
}

static void test_faultdev_same_seed_same_faults(void)
{
	uint32_t c1, c2, c3;
	uint64_t a = fault_pattern(42, &c1), b = fault_pattern(42, &c2), d = fault_pattern(43, &c3);

	CU_ASSERT(a != 0 && a != ~0ull);
	ASSERT_EQ_U64(a, b);
	ASSERT_EQ_U64(c1, c2);
	CU_ASSERT(a != d);
	CU_ASSERT(c1 != c3);
}

static void test_faultdev_full_slots_drop_as_queue_full(void)
{
	struct fdx x;
	struct ftcp_fault_config c;
	uint8_t f[2000];
	uint16_t i;

	fault_config(&c, 9);
	c.slots = 2;
	c.tx.delay_us = 1000;
	fdx_start(&x, &c);
	for (i = 0; i < 5; i++)
		fdx_send(&x, i, 60, 0);
	ASSERT_EQ_U64(x.fd.tx_stats.queue_full, 3);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 2);
	fdx_tick(&x, 1000);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 2);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 0);
	/* Room again. */
	fdx_send(&x, 7, 60, 1000);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 1);
	ASSERT_EQ_U64(x.fd.tx_stats.queue_full, 3);
	/* A frame larger than max_frame never fits. */
	ASSERT_EQ_U64(send1(&x.fd.dev, f, make_frame(f, &x.a->dev.mac, &x.b->dev.mac, 8, 1515), 1000),
	              1);
	ASSERT_EQ_U64(x.fd.tx_stats.queue_full, 4);
	fdx_free(&x);
}

static void test_faultdev_receive_direction(void)
{
	struct fdx x;
	struct ftcp_fault_config c;
	struct ftcp_rx_frame r[64];
	uint8_t f[128];
	uint16_t i, got, total = 0;
	uint32_t first;

	/* Corruption on receive clears the device's checksum verdict. */
	fault_config(&c, 10);
	c.rx.corrupt_ppm = 1000000;
	fdx_start(&x, &c);
	x.b->dev.caps |= FTCP_DEV_RX_CKSUM;
	{
		uint8_t hdr[64], payload[40], whole[128];
		struct ftcp_tx_frame t;
		memset(&t, 0, sizeof(t));
		t.hdr_len = make_offload_udp(hdr, payload, sizeof(payload), &x.b->dev.mac,
		                             &x.a->dev.mac);
		t.hdr = hdr;
		t.payload = payload;
		t.payload_len = sizeof(payload);
		t.flags = FTCP_TX_IP_CKSUM | FTCP_TX_UDP_CKSUM;
		t.l2_len = 14;
		t.l3_len = 20;
		x.a->dev.ops->tx_burst(&x.a->dev, &t, 1, 0);
		memcpy(whole, hdr, 42);
		memcpy(whole + 42, payload, sizeof(payload));
		ftcp_wire_complete_cksums(whole, 82, t.flags, 14, 20);
		got = x.fd.dev.ops->rx_burst(&x.fd.dev, r, 4, 0);
		ASSERT_EQ_U64(got, 1);
		ASSERT_EQ_U64(r[0].flags, 0);
		ASSERT_EQ_U64(bit_diff(whole, r[0].data, 82, &first), 1);
		CU_ASSERT(first >= 14);
		x.fd.dev.ops->rx_release(&x.fd.dev, r, got);
	}
	fdx_free(&x);

	/* Loss on receive only: sending is untouched. */
	fault_config(&c, 11);
	c.rx.drop_ppm = 500000;
	fdx_start(&x, &c);
	fdx_send(&x, 1, 60, 0);
	ASSERT_EQ_U64(ftcp_memlink_pending(x.a), 1);
	for (i = 0; i < 40; i++)
		ftcp_memlink_inject(&x.h.link, f, make_frame(f, &x.b->dev.mac, &x.a->dev.mac, i, 60));
	/* Pulled in bursts of 32 while slots remain. */
	while ((got = x.fd.dev.ops->rx_burst(&x.fd.dev, r, 64, 0)) > 0) {
		uint16_t j;
		for (j = 1; j < got; j++)
			CU_ASSERT(seq_of(r[j].data) > seq_of(r[j - 1].data));
		total = (uint16_t)(total + got);
		x.fd.dev.ops->rx_release(&x.fd.dev, r, got);
	}
	ASSERT_EQ_U64(x.fd.rx_stats.frames, 40);
	ASSERT_EQ_U64(total + x.fd.rx_stats.dropped, 40);
	CU_ASSERT(total > 5 && total < 35);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&x.fd), 0);
	ASSERT_EQ_U64(x.fd.tx_stats.frames, 0);
	fdx_free(&x);
}

static void test_faultdev_under_a_stack(void)
{
	/* A stack whose port delays what it sends by 50 ms: the start-up
	 * announcement reaches the peer only then. */
	struct harness h;
	struct ftcp_config c;
	struct ftcp_fault_config fc;
	struct ftcp_memlink_port *peer;
	struct harness_node *node;
	struct ftcp_stack *s;
	int i;

	harness_init(&h);
	harness_config(&c, IP4(10, 0, 0, 1));
	c.arp_announce = 1;
	fault_config(&fc, 12);
	fc.tx.delay_us = 50000;
	s = harness_add(&h, &c, 0, &fc);
	peer = harness_add_peer(&h);
	node = harness_node_of(&h, s);
	CU_ASSERT_FATAL(node != NULL && node->faulty);
	for (i = 0; i < 50; i++) /* sent at the first poll, t0 + 1 ms */
		harness_step(&h, 1000);
	ASSERT_EQ_U64(harness_peer_drain(peer), 0);
	ASSERT_EQ_U64(ftcp_faultdev_in_flight(&node->fault), 1);
	harness_step(&h, 1000);
	ASSERT_EQ_U64(harness_peer_drain(peer), 1);
	ASSERT_EQ_U64(harness_counter(s, "eth_tx_frames"), 1);
	harness_free(&h);
}

void register_devices_tests(void);
void register_devices_tests(void)
{
	FTCP_SUITE("devices",
	           FTCP_CASE(test_memlink_switches_unicast_broadcast_and_multicast),
	           FTCP_CASE(test_memlink_rx_burst_and_release_keep_order),
	           FTCP_CASE(test_memlink_full_rx_fifo_drops),
	           FTCP_CASE(test_memlink_counts_frames_above_mtu),
	           FTCP_CASE(test_memlink_joins_header_and_payload_and_releases_pin),
	           FTCP_CASE(test_memlink_emulates_checksum_offload),
	           FTCP_CASE(test_faultdev_zero_config_passes_through_uncopied),
	           FTCP_CASE(test_faultdev_drop_all),
	           FTCP_CASE(test_faultdev_duplicates),
	           FTCP_CASE(test_faultdev_corrupts_one_bit_after_ethernet_header),
	           FTCP_CASE(test_faultdev_corrupts_after_completing_offloaded_checksums),
	           FTCP_CASE(test_faultdev_delays_frames),
	           FTCP_CASE(test_faultdev_reorder_lets_later_frames_overtake),
	           FTCP_CASE(test_faultdev_rate_limit_spaces_frames),
	           FTCP_CASE(test_faultdev_same_seed_same_faults),
	           FTCP_CASE(test_faultdev_full_slots_drop_as_queue_full),
	           FTCP_CASE(test_faultdev_receive_direction),
	           FTCP_CASE(test_faultdev_under_a_stack));
}
