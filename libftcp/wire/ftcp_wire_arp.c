/* ftcp_wire_arp.c — ARP packets for Ethernet and IPv4 (RFC 826). */
#include "ftcp_wire.h"

#define ARP_HTYPE_ETHERNET 1

int ftcp_arp_parse(const uint8_t *buf, uint32_t len, struct ftcp_arp_repr *r)
{
	if (len < FTCP_ARP_LEN)
		return -FTCP_WIRE_SHORT;
	if (ftcp_get_be16(buf) != ARP_HTYPE_ETHERNET ||
	    ftcp_get_be16(buf + 2) != FTCP_ETHERTYPE_IPV4 || buf[4] != FTCP_ETH_ALEN ||
	    buf[5] != 4)
		return -FTCP_WIRE_UNSUPPORTED;
	r->op = ftcp_get_be16(buf + 6);
	if (r->op != FTCP_ARP_REQUEST && r->op != FTCP_ARP_REPLY)
		return -FTCP_WIRE_UNSUPPORTED;
	ftcp_memcpy(r->sha.b, buf + 8, FTCP_ETH_ALEN);
	r->spa = ftcp_get_be32(buf + 14);
	ftcp_memcpy(r->tha.b, buf + 18, FTCP_ETH_ALEN);
	r->tpa = ftcp_get_be32(buf + 24);
	return FTCP_ARP_LEN;
}

void ftcp_arp_emit(const struct ftcp_arp_repr *r, uint8_t *buf)
{
	ftcp_put_be16(buf, ARP_HTYPE_ETHERNET);
	ftcp_put_be16(buf + 2, FTCP_ETHERTYPE_IPV4);
	buf[4] = FTCP_ETH_ALEN;
	buf[5] = 4;
	ftcp_put_be16(buf + 6, r->op);
	ftcp_memcpy(buf + 8, r->sha.b, FTCP_ETH_ALEN);
	ftcp_put_be32(buf + 14, r->spa);
	ftcp_memcpy(buf + 18, r->tha.b, FTCP_ETH_ALEN);
	ftcp_put_be32(buf + 24, r->tpa);
}
