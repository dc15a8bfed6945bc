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

/* Wire fields are read and written byte by byte: headers after a 14-byte
 * Ethernet header are not aligned, and a Cortex-M faults on some unaligned
 * accesses. Compilers turn these into single loads plus bswap on x86. */
static inline uint16_t ftcp_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t ftcp_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void ftcp_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void ftcp_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Index of the lowest set bit of a non-zero word. */
static inline unsigned ftcp_ctz32(uint32_t v)
{
	return (unsigned)__builtin_ctz(v);
}

#endif
