/*
 * ftcp_cksum.h — the Internet checksum (RFC 1071) and the IPv4 pseudo-header
 * sum that UDP and TCP include (RFC 768, RFC 9293 3.1).
 *
 * Partial sums are 32-bit accumulators folded only at the end, so a frame
 * built from separate pieces (header + referenced payload) is summed piece
 * by piece. Every piece but the last must have an even length.
 */
#ifndef FTCP_CKSUM_H
#define FTCP_CKSUM_H

#include "ftcp_base.h"

uint32_t ftcp_cksum_add(uint32_t sum, const void *data, size_t len);

static inline uint16_t ftcp_cksum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The value to store in a checksum field: the complement of the folded sum. */
static inline uint16_t ftcp_cksum_finish(uint32_t sum)
{
	return (uint16_t)~ftcp_cksum_fold(sum);
}

/* The sum of a piece that begins at an odd offset of the data being
 * checksummed, given its sum as if it began at an even one: RFC 1071 2(B),
 * byte order independence, makes that a byte swap. */
static inline uint32_t ftcp_cksum_odd(uint32_t sum)
{
	uint16_t f = ftcp_cksum_fold(sum);
	return (uint32_t)(uint16_t)((f << 8) | (f >> 8));
}

/* Sum of the IPv4 pseudo-header (addresses in host order). */
static inline uint32_t ftcp_cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
                                         uint32_t l4_len)
{
	uint64_t s = (uint64_t)(src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	             proto + (l4_len >> 16) + (l4_len & 0xffff);
	return ftcp_cksum_fold((uint32_t)(s & 0xffffffff) + (uint32_t)(s >> 32));
}

#endif
