/*
 * ftcp_ipv4.c — IPv4 input (validation and dispatch to ICMP/UDP) and the
 * output path every locally built packet takes: route, next-hop
 * resolution, header emission.
 *
 * A host, not a router: packets not addressed to us are dropped, never
 * forwarded. Fragments are counted and dropped (no reassembly); options
 * are skipped as RFC 1122 3.2.1.8 asks, except source routes (RFC 7126).
 */
#include "stack/ftcp_stack_internal.h"
#include "base/ftcp_cksum.h"

static bool is_local_dst(const struct ftcp_stack *s, uint32_t dst)
{
	return dst == s->ip || dst == 0xffffffffu || dst == s->subnet_bcast;
}

void ftcp_ipv4_input(struct ftcp_stack *s, const uint8_t *pkt, uint32_t len, uint32_t rx_flags)
{
	struct ftcp_ipv4_repr ip;
	bool verify = !(rx_flags & FTCP_RX_IP_CKSUM_GOOD);
	int hlen;

	if (rx_flags & FTCP_RX_IP_CKSUM_BAD) {
		s->ctr.drop_ip_cksum++;
		return;
	}
	hlen = ftcp_ipv4_parse(pkt, len, verify, &ip);
	if (hlen < 0) {
		switch (-hlen) {
		case FTCP_WIRE_VERSION: s->ctr.drop_ip_version++; break;
		case FTCP_WIRE_HDR_LEN: s->ctr.drop_ip_hdr_len++; break;
		case FTCP_WIRE_TOTAL_LEN: s->ctr.drop_ip_total_len++; break;
		case FTCP_WIRE_CKSUM: s->ctr.drop_ip_cksum++; break;
		case FTCP_WIRE_OPTIONS: s->ctr.drop_ip_bad_options++; break;
		default: s->ctr.drop_ip_short++; break;
		}
		return;
	}
	if (!is_local_dst(s, ip.dst)) {
		s->ctr.drop_ip_not_for_us++;
		return;
	}
	/* RFC 1122 3.2.1.3: a source that is broadcast, multicast or loopback
	 * (127/8 never leaves a host) is bogus; one that is ours came from a
	 * spoofer or a loop. */
	if (ip.src == 0xffffffffu || ip.src == s->subnet_bcast || ftcp_ipv4_is_multicast(ip.src) ||
	    (ip.src >> 24) == 127 || ip.src == s->ip) {
		s->ctr.drop_ip_bad_src++;
		return;
	}
	if (ftcp_ipv4_is_fragment(&ip)) {
		s->ctr.drop_ip_fragment++;
		return;
	}
	if (ip.opt_flags & FTCP_IPV4_SOURCE_ROUTE) {
		s->ctr.drop_ip_source_route++;
		return;
	}
	if (ip.opt_flags & FTCP_IPV4_HAS_OPTIONS)
		s->ctr.ipv4_options_ignored++;
	s->ctr.ipv4_rx++;

	/* Ethernet pads short frames: the IP total length is authoritative. */
	switch (ip.proto) {
	case FTCP_IP_PROTO_ICMP:
		ftcp_icmp_input(s, &ip, pkt + hlen, ip.total_len - (uint32_t)hlen, rx_flags);
		break;
	case FTCP_IP_PROTO_UDP:
		ftcp_udp_input(s, &ip, pkt + hlen, ip.total_len - (uint32_t)hlen, rx_flags);
		break;
	case FTCP_IP_PROTO_TCP:
		ftcp_tcp_input(s, &ip, pkt + hlen, ip.total_len - (uint32_t)hlen, rx_flags);
		break;
	default:
		s->ctr.drop_ip_proto++;
		if (ip.dst == s->ip && !(rx_flags & FTCP_RX_L2_BCAST))
			ftcp_icmp_send_unreach(s, FTCP_ICMP_UNREACH_PROTO, pkt, ip.total_len);
		break;
	}
}

uint32_t ftcp_ip_nexthop(const struct ftcp_stack *s, uint32_t dst)
{
	if ((dst & s->netmask) == (s->ip & s->netmask))
		return dst;
	return s->cfg.gateway; /* 0: no route */
}

bool ftcp_ip_l4_cksum_offload(const struct ftcp_stack *s, uint8_t proto)
{
	uint32_t caps = s->dev->caps;

	if (proto == FTCP_IP_PROTO_UDP)
		return caps & FTCP_DEV_TX_UDP_CKSUM;
	if (proto == FTCP_IP_PROTO_TCP)
		return caps & FTCP_DEV_TX_TCP_CKSUM;
	return false;
}

int ftcp_ip_begin(struct ftcp_stack *s, uint32_t dst, uint8_t proto, uint32_t l4_len,
                  struct ftcp_ip_tx *tx)
{
	uint32_t frame_len = FTCP_ETH_HLEN + FTCP_IPV4_HLEN + l4_len, nexthop;
	struct ftcp_frame_desc *d;
	struct ftcp_mac mac;
	int rc;

	if (FTCP_IPV4_HLEN + l4_len > s->mtu)
		return -FTCP_EMSGSIZE;
	if (dst == 0 || ftcp_ipv4_is_multicast(dst) || (dst >> 24) == 127 || dst == s->ip) {
		s->ctr.drop_ip_no_route++;
		return -FTCP_ENETUNREACH;
	}
	tx->dst = dst;
	tx->proto = proto;
	tx->l4_len = l4_len;
	tx->held = false;
	tx->neigh = NULL;
	tx->slot = NULL;

	if (dst == 0xffffffffu || dst == s->subnet_bcast) {
		mac = ftcp_mac_broadcast;
	} else {
		nexthop = ftcp_ip_nexthop(s, dst);
		if (!nexthop) {
			s->ctr.drop_ip_no_route++;
			return -FTCP_ENETUNREACH;
		}
		rc = ftcp_arp_resolve(s, nexthop, &mac, &tx->neigh);
		if (rc < 0)
			return rc;
		if (rc == 1) { /* resolving: build the frame in a hold slot */
			rc = ftcp_arp_hold(s, tx->neigh, &tx->slot);
			if (rc < 0)
				return rc;
			tx->held = true;
			tx->frame = tx->slot->frame;
			tx->slot->len = frame_len;
			mac = ftcp_mac_zero; /* filled in when the answer comes */
		}
	}
	if (!tx->held) {
		tx->frame = ftcp_tx_reserve(s, frame_len, &d);
		if (!tx->frame)
			return -FTCP_EAGAIN;
	}
	ftcp_memcpy(tx->frame, mac.b, FTCP_ETH_ALEN);
	tx->l4 = tx->frame + FTCP_ETH_HLEN + FTCP_IPV4_HLEN;
	return 0;
}

void ftcp_ip_finish(struct ftcp_stack *s, struct ftcp_ip_tx *tx, uint32_t tx_flags)
{
	struct ftcp_ipv4_repr ip;
	bool ip_offload = s->dev->caps & FTCP_DEV_TX_IPV4_CKSUM;
	uint32_t frame_len = FTCP_ETH_HLEN + FTCP_IPV4_HLEN + tx->l4_len;

	ftcp_memcpy(tx->frame + 6, s->mac.b, FTCP_ETH_ALEN);
	ftcp_put_be16(tx->frame + 12, FTCP_ETHERTYPE_IPV4);
	ip.src = s->ip;
	ip.dst = tx->dst;
	ip.proto = tx->proto;
	ip.ttl = s->cfg.ip_ttl;
	ip.tos = 0;
	ip.total_len = (uint16_t)(FTCP_IPV4_HLEN + tx->l4_len);
	ip.id = s->ip_id++;
	ip.frag = FTCP_IPV4_DF; /* we never fragment; PMTU discovery (RFC 1191) */
	ftcp_ipv4_emit(&ip, tx->frame + FTCP_ETH_HLEN, !ip_offload);
	if (ip_offload)
		tx_flags |= FTCP_TX_IP_CKSUM;
	s->ctr.ipv4_tx++;

	if (tx->held) {
		tx->slot->tx_flags = tx_flags;
		tx->slot->l3_len = FTCP_IPV4_HLEN;
		tx->slot->l4_len = tx->proto == FTCP_IP_PROTO_UDP ? FTCP_UDP_HLEN : 0;
		ftcp_arp_hold_commit(s, tx->neigh, tx->slot);
	} else {
		struct ftcp_frame_desc *d =
		    (struct ftcp_frame_desc *)(void *)(tx->frame - sizeof(struct ftcp_frame_desc));
		d->tx_flags = tx_flags;
		d->l3_len = FTCP_IPV4_HLEN;
		d->l4_len = tx->proto == FTCP_IP_PROTO_UDP ? FTCP_UDP_HLEN : 0;
		ftcp_tx_commit(s, d, frame_len);
	}
}
