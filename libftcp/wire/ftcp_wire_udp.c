/* ftcp_wire_udp.c — UDP header (RFC 768). */
#include "ftcp_wire.h"
#include "base/ftcp_cksum.h"

int ftcp_udp_parse(const uint8_t *buf, uint32_t len, uint32_t src, uint32_t dst,
                   bool verify_cksum, struct ftcp_udp_repr *r)
{
	if (len < FTCP_UDP_HLEN)
		return -FTCP_WIRE_SHORT;
	r->src_port = ftcp_get_be16(buf);
	r->dst_port = ftcp_get_be16(buf + 2);
	r->len = ftcp_get_be16(buf + 4);
	r->cksum = ftcp_get_be16(buf + 6);
	if (r->len < FTCP_UDP_HLEN)
		return -FTCP_WIRE_TOTAL_LEN;
	if (r->len > len)
		return -FTCP_WIRE_SHORT;
	/* A zero checksum means the sender computed none (RFC 768). */
	if (verify_cksum && r->cksum != 0) {
		uint32_t sum = ftcp_cksum_pseudo(src, dst, FTCP_IP_PROTO_UDP, r->len);
		if (ftcp_cksum_fold(ftcp_cksum_add(sum, buf, r->len)) != 0xffff)
			return -FTCP_WIRE_CKSUM;
	}
	return FTCP_UDP_HLEN;
}

void ftcp_udp_emit(const struct ftcp_udp_repr *r, uint8_t *buf, uint32_t src,
                   uint32_t dst, bool full_cksum)
{
	uint32_t sum = ftcp_cksum_pseudo(src, dst, FTCP_IP_PROTO_UDP, r->len);

	ftcp_put_be16(buf, r->src_port);
	ftcp_put_be16(buf + 2, r->dst_port);
	ftcp_put_be16(buf + 4, r->len);
	ftcp_put_be16(buf + 6, 0);
	if (full_cksum) {
		uint16_t c = ftcp_cksum_finish(ftcp_cksum_add(sum, buf, r->len));
		ftcp_put_be16(buf + 6, c ? c : 0xffff); /* 0 would mean "none" */
	} else {
		ftcp_put_be16(buf + 6, ftcp_cksum_fold(sum));
	}
}
