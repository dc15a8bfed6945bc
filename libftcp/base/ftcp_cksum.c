/*
 * ftcp_cksum.c — RFC 1071 one's-complement sum.
 *
 * Words are read as big-endian 32-bit values and added into a 64-bit
 * accumulator; since 2^16 == 1 (mod 0xffff), folding that sum gives the same
 * result as adding 16-bit words, with a quarter of the additions.
 */
#include "ftcp_cksum.h"

uint32_t ftcp_cksum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	while (len >= 4) {
		acc += ftcp_get_be32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		acc += ftcp_get_be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8; /* pad the odd byte with zero (RFC 1071 4.1) */

	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return ftcp_cksum_fold((uint32_t)acc);
}
