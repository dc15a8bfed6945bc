/*
 * ftcp_rand.h — a small seeded PRNG and a keyed hash.
 *
 * The PRNG (xoshiro128**) picks ephemeral ports (RFC 6056), ARP jitter and
 * fault-injection decisions; it is deterministic for a given seed so tests
 * replay exactly. The keyed hash spreads demultiplexing keys over buckets
 * with a secret from the configuration, so a remote host cannot aim many
 * flows at one bucket without knowing the key. Neither is cryptographic.
 */
#ifndef FTCP_RAND_H
#define FTCP_RAND_H

#include "ftcp_base.h"

struct ftcp_rand {
	uint32_t s[4];
};

void ftcp_rand_seed(struct ftcp_rand *r, uint64_t seed);
uint32_t ftcp_rand_u32(struct ftcp_rand *r);
/* Uniform in [0, bound) for bound > 0 (Lemire's multiply-shift). */
uint32_t ftcp_rand_below(struct ftcp_rand *r, uint32_t bound);

/* Murmur3's 64-bit finalizer: a fast full-avalanche mix. */
static inline uint64_t ftcp_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline uint32_t ftcp_hash3(uint64_t key, uint64_t a, uint64_t b)
{
	return (uint32_t)ftcp_mix64(ftcp_mix64(a ^ key) ^ b ^ (key >> 1));
}

#endif
