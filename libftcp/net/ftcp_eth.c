/*
 * ftcp_eth.c — Ethernet input: the first step of every received frame.
 * Accepts frames for our MAC or broadcast and hands ARP and IPv4 on.
 * Multicast is not joined, so it is dropped with the other strangers.
 */
#include "stack/ftcp_stack_internal.h"

void ftcp_eth_input(struct ftcp_stack *s, const uint8_t *frame, uint32_t len, uint32_t rx_flags)
{
	/* Read in place: the source address is never needed here. */
	const struct ftcp_mac *dst = (const struct ftcp_mac *)(const void *)frame;
	bool bcast = false;

	if (len < FTCP_ETH_HLEN) {
		s->ctr.drop_eth_short++;
		return;
	}
	if (!ftcp_mac_eq(dst, &s->mac)) {
		bcast = ftcp_mac_is_broadcast(dst);
		if (!bcast) {
			s->ctr.drop_eth_not_for_us++;
			return;
		}
	}
	switch (ftcp_get_be16(frame + 12)) {
	case FTCP_ETHERTYPE_ARP:
		ftcp_arp_input(s, frame + FTCP_ETH_HLEN, len - FTCP_ETH_HLEN);
		break;
	case FTCP_ETHERTYPE_IPV4:
		if (bcast)
			rx_flags |= FTCP_RX_L2_BCAST;
		ftcp_ipv4_input(s, frame + FTCP_ETH_HLEN, len - FTCP_ETH_HLEN, rx_flags);
		break;
	default:
		s->ctr.drop_eth_type++;
		break;
	}
}
