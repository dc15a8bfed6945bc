/*
 * ftcp_cksum.c — RFC 1071 one's-complement sum.
 *
 * The data is summed as native 64-bit words, carries counted apart (2^64
 * and 2^16 are both 1 modulo 0xffff, so folding the total gives the sum of
 * the 16-bit words). Summing in native order and swapping the bytes of the
 * folded result once is RFC 1071 2(B), byte order independence: on a
 * little-endian machine that is a quarter of the work of reading every word
 * big-endian. Two accumulators keep the add-with-carry chains independent.
 */
#include "ftcp_cksum.h"

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	ftcp_memcpy(&v, p, sizeof(v)); /* any alignment */
	return v;
}

uint32_t ftcp_cksum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t a0 = 0, a1 = 0, c0 = 0, c1 = 0, t;
	uint16_t f;

	for (; len >= 32; len -= 32, p += 32) {
		c0 += __builtin_add_overflow(a0, load64(p), &a0);
		c1 += __builtin_add_overflow(a1, load64(p + 8), &a1);
		c0 += __builtin_add_overflow(a0, load64(p + 16), &a0);
		c1 += __builtin_add_overflow(a1, load64(p + 24), &a1);
	}
	for (; len >= 8; len -= 8, p += 8)
		c0 += __builtin_add_overflow(a0, load64(p), &a0);
	c0 += __builtin_add_overflow(a0, a1, &a0) + c1;
	if (len >= 4) {
		uint32_t v;
		ftcp_memcpy(&v, p, sizeof(v));
		c0 += __builtin_add_overflow(a0, (uint64_t)v, &a0);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t v;
		ftcp_memcpy(&v, p, sizeof(v));
		c0 += __builtin_add_overflow(a0, (uint64_t)v, &a0);
		p += 2;
		len -= 2;
	}
	/* The odd last byte is padded with zero (RFC 1071 4.1): the high byte
	 * of a big-endian word, the low byte of a little-endian one. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (len)
		c0 += __builtin_add_overflow(a0, (uint64_t)p[0], &a0);
#else
	if (len)
		c0 += __builtin_add_overflow(a0, (uint64_t)p[0] << 8, &a0);
#endif
	t = (a0 & 0xffffffffu) + (a0 >> 32) + c0;
	t = (t & 0xffffffffu) + (t >> 32);
	t = (t & 0xffffffffu) + (t >> 32);
	f = ftcp_cksum_fold((uint32_t)t);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	f = (uint16_t)(f << 8 | f >> 8);
#endif
	/* sum + f is 0 only when both are: the result is the fold of the
	 * whole sum, 0 and 0xffff kept apart, exactly as word by word. */
	t = (uint64_t)sum + f;
	return ftcp_cksum_fold((uint32_t)((t & 0xffffffffu) + (t >> 32)));
}
