/* ftcp_wire_cksum.c — software completion of offloaded checksums. */
#include "ftcp_wire.h"
#include "base/ftcp_cksum.h"

void ftcp_wire_complete_cksums(uint8_t *f, uint32_t len, uint32_t flags, uint8_t l2, uint8_t l3)
{
	uint8_t *ip = f + l2, *l4 = ip + l3;
	uint32_t ip_total, l4_len, sum;
	uint32_t field = flags & FTCP_TX_UDP_CKSUM ? 6 : 16;

	if (len < (uint32_t)l2 + l3 || l3 < FTCP_IPV4_HLEN)
		return;
	if (flags & FTCP_TX_IP_CKSUM) {
		ftcp_put_be16(ip + 10, 0);
		ftcp_put_be16(ip + 10, ftcp_cksum_finish(ftcp_cksum_add(0, ip, l3)));
	}
	if (!(flags & (FTCP_TX_UDP_CKSUM | FTCP_TX_TCP_CKSUM)))
		return;
	ip_total = ftcp_get_be16(ip + 2);
	if (ip_total < l3 || (uint32_t)l2 + ip_total > len)
		return;
	l4_len = ip_total - l3;
	if (l4_len < field + 2)
		return;
	/* The field holds the pseudo-header sum: summing over it completes it. */
	sum = ftcp_cksum_add(0, l4, l4_len);
	sum = ftcp_cksum_finish(sum);
	if (flags & FTCP_TX_UDP_CKSUM && sum == 0)
		sum = 0xffff;
	ftcp_put_be16(l4 + field, (uint16_t)sum);
}

