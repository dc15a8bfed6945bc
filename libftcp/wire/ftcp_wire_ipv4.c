/* ftcp_wire_ipv4.c — IPv4 header (RFC 791). */
#include "ftcp_wire.h"
#include "base/ftcp_cksum.h"

#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IPOPT_LSRR 131
#define IPOPT_SSRR 137

/* Walk the options: every multi-byte option needs a length of at least 2
 * that stays inside the header (RFC 791 "Options"). We act on none, but
 * note source routes, which hosts should refuse (RFC 7126 4.3, 4.4). */
static int parse_options(const uint8_t *p, uint32_t len, uint32_t *flags)
{
	uint32_t i = 0;

	*flags |= FTCP_IPV4_HAS_OPTIONS;
	while (i < len) {
		uint8_t type = p[i];
		if (type == IPOPT_EOL)
			break;
		if (type == IPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || p[i + 1] < 2 || p[i + 1] > len - i)
			return -FTCP_WIRE_OPTIONS;
		if (type == IPOPT_LSRR || type == IPOPT_SSRR)
			*flags |= FTCP_IPV4_SOURCE_ROUTE;
		i += p[i + 1];
	}
	return 0;
}

int ftcp_ipv4_parse(const uint8_t *buf, uint32_t len, bool verify_cksum,
                    struct ftcp_ipv4_repr *r)
{
	uint32_t hlen;

	if (len < FTCP_IPV4_HLEN)
		return -FTCP_WIRE_SHORT;
	if ((buf[0] >> 4) != 4)
		return -FTCP_WIRE_VERSION;
	hlen = (uint32_t)(buf[0] & 0x0f) * 4;
	if (hlen < FTCP_IPV4_HLEN)
		return -FTCP_WIRE_HDR_LEN;
	if (hlen > len)
		return -FTCP_WIRE_SHORT;
	r->total_len = ftcp_get_be16(buf + 2);
	if (r->total_len < hlen)
		return -FTCP_WIRE_TOTAL_LEN;
	if (r->total_len > len)
		return -FTCP_WIRE_SHORT;
	if (verify_cksum && ftcp_cksum_fold(ftcp_cksum_add(0, buf, hlen)) != 0xffff)
		return -FTCP_WIRE_CKSUM;
	r->hdr_len = (uint8_t)hlen;
	r->tos = buf[1];
	r->id = ftcp_get_be16(buf + 4);
	r->frag = ftcp_get_be16(buf + 6);
	r->ttl = buf[8];
	r->proto = buf[9];
	r->src = ftcp_get_be32(buf + 12);
	r->dst = ftcp_get_be32(buf + 16);
	r->opt_flags = 0;
	if (hlen > FTCP_IPV4_HLEN &&
	    parse_options(buf + FTCP_IPV4_HLEN, hlen - FTCP_IPV4_HLEN, &r->opt_flags) < 0)
		return -FTCP_WIRE_OPTIONS;
	return (int)hlen;
}

void ftcp_ipv4_emit(const struct ftcp_ipv4_repr *r, uint8_t *buf, bool fill_cksum)
{
	ftcp_ipv4_write(buf, r->tos, r->total_len, r->id, r->frag, r->ttl, r->proto, r->src, r->dst);
	if (fill_cksum)
		ftcp_put_be16(buf + 10, ftcp_cksum_finish(ftcp_cksum_add(0, buf, FTCP_IPV4_HLEN)));
}
