/*
 * test_siphash.c — SipHash-2-4 (base/ftcp_siphash.h): the reference test
 * vectors, key sensitivity, and every input length up to 64 read exactly
 * within bounds (run under ASan to check the tail handling).
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_test.h"
#include "base/ftcp_siphash.h"

void register_siphash_tests(void);

/* The reference implementation's table (vectors.h of the SipHash authors,
 * also in the paper's appendix for length 15): key 00 01 .. 0f, input
 * 00 01 .. (len - 1), for len 0..63. Checked here against an independent
 * implementation written from the paper before being pinned. */
static const uint64_t VECTORS[64] = {
        0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull,
        0x85676696d7fb7e2dull, 0xcf2794e0277187b7ull, 0x18765564cd99a68dull,
        0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull, 0x93f5f5799a932462ull,
        0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
        0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull,
        0xa129ca6149be45e5ull, 0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull,
        0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull, 0xbed65cf21aa2ee98ull,
        0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
        0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull,
        0x2f2e6163076bcfadull, 0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull,
        0xad87a3535c49ef28ull, 0x32d892fad841c342ull, 0x7127512f72f27cceull,
        0xa7f32346f95978e3ull, 0x12e0b01abb051238ull, 0x15e034d40fa197aeull,
        0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull,
        0x9abfd8766a33735cull, 0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull,
        0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull, 0xf935451de4f21df2ull,
        0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull,
        0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull, 0xee64435a9752fe72ull,
        0xa192d576b245165aull, 0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full,
        0x7fa8220ba3b2eceaull, 0x245731c13ca42499ull, 0xb78dbfaf3a8d83bdull,
        0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
        0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull,
        0x958a324ceb064572ull,
};

/* Key bytes 00..0f read as two little-endian words. */
static const struct ftcp_siphash_key REF_KEY = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

/* Hash len bytes 00 01 .. from a heap block of exactly len bytes, so ASan
 * reports any read past the input. */
static uint64_t hash_exact(const struct ftcp_siphash_key *key, size_t len, size_t offset)
{
	uint8_t *p = malloc(len + offset ? len + offset : 1);
	uint64_t h;
	size_t i;

	CU_ASSERT_FATAL(p != NULL);
	for (i = 0; i < len; i++)
		p[offset + i] = (uint8_t)i;
	h = ftcp_siphash(key, p + offset, len);
	free(p);
	return h;
}

static void test_siphash_paper_examples(void)
{
	ASSERT_EQ_U64(hash_exact(&REF_KEY, 0, 0), 0x726fdb47dd0e0e31ull);
	ASSERT_EQ_U64(hash_exact(&REF_KEY, 15, 0), 0xa129ca6149be45e5ull);
}

static void test_siphash_reference_vectors(void)
{
	size_t len;

	for (len = 0; len < FTCP_ARRAY_SIZE(VECTORS); len++) {
		uint64_t h = hash_exact(&REF_KEY, len, 0);
		if (h != VECTORS[len])
			fprintf(stderr, "\n  len %zu: %016llx, expected %016llx\n", len,
			        (unsigned long long)h, (unsigned long long)VECTORS[len]);
		CU_ASSERT(h == VECTORS[len]);
	}
}

static void test_siphash_every_length_in_bounds_and_unaligned(void)
{
	size_t len, off;

	/* 0..64 bytes, each from an exactly sized block and from odd offsets:
	 * the same value however the input is aligned */
	for (len = 0; len <= 64; len++) {
		uint64_t h = hash_exact(&REF_KEY, len, 0);
		if (len < 64)
			ASSERT_EQ_U64(h, VECTORS[len]);
		for (off = 1; off < 8; off++)
			ASSERT_EQ_U64(hash_exact(&REF_KEY, len, off), h);
	}
	/* a NULL pointer with length 0 is never dereferenced */
	ASSERT_EQ_U64(ftcp_siphash(&REF_KEY, NULL, 0), VECTORS[0]);
}

static void test_siphash_key_changes_output(void)
{
	struct ftcp_siphash_key k;
	uint64_t base = hash_exact(&REF_KEY, 12, 0);
	int bit;

	/* every single-bit change of either key word changes the output */
	for (bit = 0; bit < 128; bit++) {
		k = REF_KEY;
		if (bit < 64)
			k.k0 ^= 1ull << bit;
		else
			k.k1 ^= 1ull << (bit - 64);
		CU_ASSERT(hash_exact(&k, 12, 0) != base);
	}
	k.k0 = REF_KEY.k1;
	k.k1 = REF_KEY.k0;
	CU_ASSERT(hash_exact(&k, 12, 0) != base);
	k.k0 = k.k1 = 0;
	CU_ASSERT(hash_exact(&k, 0, 0) != VECTORS[0]);
}

static void test_siphash_input_and_length_change_output(void)
{
	uint8_t buf[16];
	uint64_t base;
	int bit;

	memset(buf, 0, sizeof(buf));
	base = ftcp_siphash(&REF_KEY, buf, sizeof(buf));
	for (bit = 0; bit < 128; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CU_ASSERT(ftcp_siphash(&REF_KEY, buf, sizeof(buf)) != base);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* trailing zero bytes are not invisible: the length is hashed */
	CU_ASSERT(ftcp_siphash(&REF_KEY, buf, 15) != base);
	CU_ASSERT(ftcp_siphash(&REF_KEY, buf, 8) != ftcp_siphash(&REF_KEY, buf, 7));
	CU_ASSERT(ftcp_siphash(&REF_KEY, buf, 1) != ftcp_siphash(&REF_KEY, buf, 0));
}

void register_siphash_tests(void)
{
	FTCP_SUITE("siphash",
	           FTCP_CASE(test_siphash_paper_examples),
	           FTCP_CASE(test_siphash_reference_vectors),
	           FTCP_CASE(test_siphash_every_length_in_bounds_and_unaligned),
	           FTCP_CASE(test_siphash_key_changes_output),
	           FTCP_CASE(test_siphash_input_and_length_change_output));
}
