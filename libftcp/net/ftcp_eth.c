/*
 * ftcp_eth.c — Ethernet input: the first step of every received frame.
 * Accepts frames for our MAC or broadcast and hands ARP and IPv4 on.
 * Multicast is not joined, so it is dropped with the other strangers.
 */
#include "stack/ftcp_stack_internal.h"

void ftcp_eth_input(struct ftcp_stack *s, const uint8_t *frame, uint32_t len, uint32_t rx_flags)
{
	struct ftcp_eth_repr eth;

	if (ftcp_eth_parse(frame, len, &eth) < 0) {
		s->ctr.drop_eth_short++;
		return;
	}
	if (!ftcp_mac_eq(&eth.dst, &s->mac) && !ftcp_mac_is_broadcast(&eth.dst)) {
		s->ctr.drop_eth_not_for_us++;
		return;
	}
	switch (eth.type) {
	case FTCP_ETHERTYPE_ARP:
		ftcp_arp_input(s, frame + FTCP_ETH_HLEN, len - FTCP_ETH_HLEN);
		break;
	case FTCP_ETHERTYPE_IPV4:
		if (ftcp_mac_is_broadcast(&eth.dst))
			rx_flags |= FTCP_RX_L2_BCAST;
		ftcp_ipv4_input(s, frame + FTCP_ETH_HLEN, len - FTCP_ETH_HLEN, rx_flags);
		break;
	default:
		s->ctr.drop_eth_type++;
		break;
	}
}
