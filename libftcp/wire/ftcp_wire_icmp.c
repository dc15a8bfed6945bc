/* ftcp_wire_icmp.c — ICMP header (RFC 792). */
#include "ftcp_wire.h"
#include "base/ftcp_cksum.h"

int ftcp_icmp_parse(const uint8_t *buf, uint32_t len, bool verify_cksum,
                    struct ftcp_icmp_repr *r)
{
	if (len < FTCP_ICMP_HLEN)
		return -FTCP_WIRE_SHORT;
	if (verify_cksum && ftcp_cksum_fold(ftcp_cksum_add(0, buf, len)) != 0xffff)
		return -FTCP_WIRE_CKSUM;
	r->type = buf[0];
	r->code = buf[1];
	r->ident = ftcp_get_be16(buf + 4);
	r->seq = ftcp_get_be16(buf + 6);
	r->rest = ftcp_get_be32(buf + 4);
	r->data = buf + FTCP_ICMP_HLEN;
	r->data_len = len - FTCP_ICMP_HLEN;
	return FTCP_ICMP_HLEN;
}

void ftcp_icmp_emit(const struct ftcp_icmp_repr *r, uint8_t *buf)
{
	uint32_t sum;

	buf[0] = r->type;
	buf[1] = r->code;
	ftcp_put_be16(buf + 2, 0);
	if (r->type == FTCP_ICMP_ECHO_REQUEST || r->type == FTCP_ICMP_ECHO_REPLY) {
		ftcp_put_be16(buf + 4, r->ident);
		ftcp_put_be16(buf + 6, r->seq);
	} else {
		ftcp_put_be32(buf + 4, r->rest);
	}
	if (r->data_len && r->data != buf + FTCP_ICMP_HLEN)
		ftcp_memmove(buf + FTCP_ICMP_HLEN, r->data, r->data_len);
	sum = ftcp_cksum_add(0, buf, FTCP_ICMP_HLEN + r->data_len);
	ftcp_put_be16(buf + 2, ftcp_cksum_finish(sum));
}
