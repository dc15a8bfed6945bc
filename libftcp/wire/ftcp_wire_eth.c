/* ftcp_wire_eth.c — Ethernet II header. */
#include "ftcp_wire.h"

const struct ftcp_mac ftcp_mac_broadcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
const struct ftcp_mac ftcp_mac_zero = {{0, 0, 0, 0, 0, 0}};

int ftcp_eth_parse(const uint8_t *buf, uint32_t len, struct ftcp_eth_repr *r)
{
	if (len < FTCP_ETH_HLEN)
		return -FTCP_WIRE_SHORT;
	ftcp_memcpy(r->dst.b, buf, FTCP_ETH_ALEN);
	ftcp_memcpy(r->src.b, buf + 6, FTCP_ETH_ALEN);
	r->type = ftcp_get_be16(buf + 12);
	return FTCP_ETH_HLEN;
}

void ftcp_eth_emit(const struct ftcp_eth_repr *r, uint8_t *buf)
{
	ftcp_memcpy(buf, r->dst.b, FTCP_ETH_ALEN);
	ftcp_memcpy(buf + 6, r->src.b, FTCP_ETH_ALEN);
	ftcp_put_be16(buf + 12, r->type);
}
