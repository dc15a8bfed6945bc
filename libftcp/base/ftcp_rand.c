/* ftcp_rand.c — xoshiro128** seeded through splitmix64. */
#include "ftcp_rand.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void ftcp_rand_seed(struct ftcp_rand *r, uint64_t seed)
{
	uint64_t a = splitmix64(&seed), b = splitmix64(&seed);
	r->s[0] = (uint32_t)a;
	r->s[1] = (uint32_t)(a >> 32);
	r->s[2] = (uint32_t)b;
	r->s[3] = (uint32_t)(b >> 32);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1; /* the all-zero state is a fixed point */
}

static inline uint32_t rotl(uint32_t x, int k)
{
	return (x << k) | (x >> (32 - k));
}

uint32_t ftcp_rand_u32(struct ftcp_rand *r)
{
	uint32_t *s = r->s;
	uint32_t result = rotl(s[1] * 5, 7) * 9;
	uint32_t t = s[1] << 9;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 11);
	return result;
}

uint32_t ftcp_rand_below(struct ftcp_rand *r, uint32_t bound)
{
	return (uint32_t)(((uint64_t)ftcp_rand_u32(r) * bound) >> 32);
}
