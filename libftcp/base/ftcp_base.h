/*
 * ftcp_base.h — the few primitives every core file uses: byte order for wire
 * fields, memory helpers, sequence-style comparisons, container_of.
 *
 * Only freestanding headers are used. GCC and clang require memcpy, memmove,
 * memset and memcmp to exist even with -ffreestanding, so the builtins below
 * are the portable way to reach them (inline for small constant sizes).
 */
#ifndef FTCP_BASE_H
#define FTCP_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ftcp_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define ftcp_memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define ftcp_memset(d, c, n) __builtin_memset((d), (c), (n))
#define ftcp_memcmp(a, b, n) __builtin_memcmp((a), (b), (n))

#define FTCP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FTCP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FTCP_MAX(a, b) ((a) > (b) ? (a) : (b))
#define FTCP_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((size_t)(a)-1))
#define FTCP_IS_POW2(x) ((x) != 0 && (((x) & ((x)-1)) == 0))
#define FTCP_UNUSED(x) (void)(x)
#define FTCP_LIKELY(x) __builtin_expect(!!(x), 1)
#define FTCP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FTCP_NOINLINE __attribute__((noinline))

#define ftcp_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Wire fields: headers after a 14-byte Ethernet header are not aligned,
 * and a Cortex-M faults on some unaligned accesses, so they go through a
 * memcpy of the field's size, which the compiler makes one load or store
 * where the target allows it and bytes where it does not, plus a byte swap
 * on a little-endian machine. (Spelled as byte shifts, GCC merged the
 * stores of adjacent fields into wide shift-and-or sequences: five times
 * the instructions of a header written field by field.) */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FTCP_BE16(v) __builtin_bswap16(v)
#define FTCP_BE32(v) __builtin_bswap32(v)
#else
#define FTCP_BE16(v) (v)
#define FTCP_BE32(v) (v)
#endif

static inline uint16_t ftcp_get_be16(const uint8_t *p)
{
	uint16_t v;
	ftcp_memcpy(&v, p, sizeof(v));
	return FTCP_BE16(v);
}

static inline uint32_t ftcp_get_be32(const uint8_t *p)
{
	uint32_t v;
	ftcp_memcpy(&v, p, sizeof(v));
	return FTCP_BE32(v);
}

static inline void ftcp_put_be16(uint8_t *p, uint16_t v)
{
	v = FTCP_BE16(v);
	ftcp_memcpy(p, &v, sizeof(v));
}

static inline void ftcp_put_be32(uint8_t *p, uint32_t v)
{
	v = FTCP_BE32(v);
	ftcp_memcpy(p, &v, sizeof(v));
}

/* Index of the lowest set bit of a non-zero word. */
static inline unsigned ftcp_ctz32(uint32_t v)
{
	return (unsigned)__builtin_ctz(v);
}

#endif
