/*
 * proto_fixture.h — shared by the protocol suites (arp, ipv4, icmp, udp):
 * one stack (10.0.0.1, MAC 02:..:01) and one raw peer port (MAC 02:..:f0,
 * playing 10.0.0.2) on the in-memory link, plus frame parsers that check
 * what the stack sent. Header-only (static inline) so each suite stays one
 * file for the build.
 */
#ifndef PROTO_FIXTURE_H
#define PROTO_FIXTURE_H

#include <string.h>

#include "ftcp_harness.h"
#include "ftcp_test.h"
#include "base/ftcp_cksum.h"
#include "wire/ftcp_wire.h"

#define FX_IP IP4(10, 0, 0, 1)
#define FX_PEER_IP IP4(10, 0, 0, 2)
#define FX_STEP 1000u /* 1 ms of virtual time per poll */
#define FX_BUF 2048u

struct fx {
	struct harness h;
	struct ftcp_stack *s;
	struct ftcp_memlink_port *peer;
	struct ftcp_mac smac, pmac;
};

/* Start a stack with cfg (and offload caps) plus one peer; the start-up
 * announcement is flushed and drained so tests begin on a quiet link. */
static inline void fx_start_cfg(struct fx *f, const struct ftcp_config *c, uint32_t caps)
{
	harness_init(&f->h);
	f->s = harness_add(&f->h, c, caps, NULL);
	f->peer = harness_add_peer(&f->h);
	f->smac = harness_mac(1);
	f->pmac = harness_mac(0xf0);
	harness_step(&f->h, FX_STEP);
	harness_peer_drain(f->peer);
}

static inline void fx_config(struct ftcp_config *c)
{
	harness_config(c, FX_IP);
}

static inline void fx_start(struct fx *f)
{
	struct ftcp_config c;
	fx_config(&c);
	fx_start_cfg(f, &c, 0);
}

static inline void fx_step(struct fx *f)
{
	harness_step(&f->h, FX_STEP);
}

static inline void fx_free(struct fx *f)
{
	harness_free(&f->h);
}

/* The stack learns ip -> mac: an ARP request sent unicast to the stack
 * (so it does not loop back to the peer); the reply is drained. */
static inline void fx_learn(struct fx *f, uint32_t ip, const struct ftcp_mac *mac)
{
	uint8_t fr[64];
	struct ftcp_mac got;
	uint32_t n = harness_build_arp(fr, FTCP_ARP_REQUEST, &f->smac, mac, ip, &ftcp_mac_zero, FX_IP);

	harness_inject(&f->h, fr, n);
	fx_step(f);
	harness_peer_drain(f->peer);
	CU_ASSERT_FATAL(ftcp_arp_lookup(f->s, ip, &got) == 0);
	CU_ASSERT(ftcp_mac_eq(&got, mac));
}

static inline void fx_learn_peer(struct fx *f)
{
	fx_learn(f, FX_PEER_IP, &f->pmac);
}

static inline uint32_t fx_recv(struct fx *f, uint8_t *buf)
{
	return harness_peer_recv(f->peer, buf, FX_BUF);
}

/* A UDP datagram from the peer (its MAC and FX_PEER_IP unless src given). */
static inline void fx_inject_udp(struct fx *f, uint32_t src, uint16_t sport, uint32_t dst,
                                 uint16_t dport, const void *data, uint32_t len)
{
	uint8_t fr[FX_BUF];
	const struct ftcp_mac *emac = (dst == 0xffffffffu || (dst & 0xff) == 0xff)
	                                  ? &ftcp_mac_broadcast
	                                  : &f->smac;
	uint32_t n = harness_build_udp(fr, emac, &f->pmac, src, sport, dst, dport, data, len);
	harness_inject(&f->h, fr, n);
}

/* Recompute the IPv4 header checksum of a frame (after editing it). */
static inline void fx_ip_fix_cksum(uint8_t *frame)
{
	uint8_t *ip = frame + FTCP_ETH_HLEN;
	uint32_t hl = (uint32_t)(ip[0] & 0xf) * 4;

	ftcp_put_be16(ip + 10, 0);
	ftcp_put_be16(ip + 10, ftcp_cksum_finish(ftcp_cksum_add(0, ip, hl)));
}

/* Parse a frame the stack sent as Ethernet + IPv4 and check what every
 * emitted header must satisfy (version 4, 20-byte header, valid checksum,
 * DF, TTL). Returns the L4 bytes and their length in *l4_len, or NULL. */
static inline const uint8_t *fx_parse_ipv4(const uint8_t *buf, uint32_t len,
                                           struct ftcp_eth_repr *eth,
                                           struct ftcp_ipv4_repr *ip, uint32_t *l4_len,
                                           uint8_t ttl)
{
	int hl;

	if (ftcp_eth_parse(buf, len, eth) < 0 || eth->type != FTCP_ETHERTYPE_IPV4) {
		CU_FAIL("not an IPv4 frame");
		return NULL;
	}
	hl = ftcp_ipv4_parse(buf + FTCP_ETH_HLEN, len - FTCP_ETH_HLEN, true, ip);
	ASSERT_EQ_I64(hl, FTCP_IPV4_HLEN);
	if (hl != FTCP_IPV4_HLEN)
		return NULL;
	ASSERT_EQ_U64(ip->ttl, ttl);
	ASSERT_EQ_U64(ip->frag, FTCP_IPV4_DF);
	ASSERT_EQ_U64(FTCP_ETH_HLEN + ip->total_len, len);
	CU_ASSERT(ftcp_mac_eq(&eth->src, &(struct ftcp_mac){{0x02, 0, 0, 0, 0, 1}}));
	*l4_len = ip->total_len - FTCP_IPV4_HLEN;
	return buf + FTCP_ETH_HLEN + FTCP_IPV4_HLEN;
}

/* Parse a UDP frame the stack sent (checksum verified). Returns the
 * payload and its length, or NULL. */
static inline const uint8_t *fx_parse_udp(const uint8_t *buf, uint32_t len,
                                          struct ftcp_eth_repr *eth, struct ftcp_ipv4_repr *ip,
                                          struct ftcp_udp_repr *u, uint32_t *plen)
{
	uint32_t l4_len;
	const uint8_t *l4 = fx_parse_ipv4(buf, len, eth, ip, &l4_len, FTCP_DEFAULT_IP_TTL);

	if (!l4)
		return NULL;
	ASSERT_EQ_U64(ip->proto, FTCP_IP_PROTO_UDP);
	if (ftcp_udp_parse(l4, l4_len, ip->src, ip->dst, true, u) < 0) {
		CU_FAIL("bad UDP datagram");
		return NULL;
	}
	CU_ASSERT(u->cksum != 0);
	ASSERT_EQ_U64(u->len, l4_len);
	*plen = u->len - FTCP_UDP_HLEN;
	return l4 + FTCP_UDP_HLEN;
}

/* Parse an ICMP frame the stack sent (checksum verified). */
static inline bool fx_parse_icmp(const uint8_t *buf, uint32_t len, struct ftcp_eth_repr *eth,
                                 struct ftcp_ipv4_repr *ip, struct ftcp_icmp_repr *m)
{
	uint32_t l4_len;
	const uint8_t *l4 = fx_parse_ipv4(buf, len, eth, ip, &l4_len, FTCP_DEFAULT_IP_TTL);

	if (!l4)
		return false;
	ASSERT_EQ_U64(ip->proto, FTCP_IP_PROTO_ICMP);
	if (ip->proto != FTCP_IP_PROTO_ICMP || ftcp_icmp_parse(l4, l4_len, true, m) < 0) {
		CU_FAIL("bad ICMP message");
		return false;
	}
	return true;
}

/* Parse an ARP frame. */
static inline bool fx_parse_arp(const uint8_t *buf, uint32_t len, struct ftcp_eth_repr *eth,
                                struct ftcp_arp_repr *a)
{
	if (ftcp_eth_parse(buf, len, eth) < 0 || eth->type != FTCP_ETHERTYPE_ARP ||
	    ftcp_arp_parse(buf + FTCP_ETH_HLEN, len - FTCP_ETH_HLEN, a) < 0) {
		CU_FAIL("not an ARP frame");
		return false;
	}
	ASSERT_EQ_U64(len, FTCP_ETH_HLEN + FTCP_ARP_LEN);
	return true;
}

/* Open a UDP socket bound to port on the wildcard address. */
static inline ftcp_sock_t fx_udp_bound(struct fx *f, uint16_t port, ftcp_event_cb cb, void *user)
{
	struct ftcp_sockaddr a = {0, port};
	ftcp_sock_t h = ftcp_udp_open(f->s, cb, user);

	CU_ASSERT_FATAL(h >= 0);
	CU_ASSERT_FATAL(ftcp_bind(f->s, h, &a) == 0);
	return h;
}

static inline void fx_assert_pools_empty(struct ftcp_stack *s)
{
	struct ftcp_pool_stats ps;

	ftcp_stack_pool_stats(s, &ps);
	ASSERT_EQ_U64(ps.sockets_in_use, 0);
	ASSERT_EQ_U64(ps.rx_buffers_in_use, 0);
	ASSERT_EQ_U64(ps.tx_fifo_used, 0);
}

#endif
