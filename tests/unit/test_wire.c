/*
 * test_wire.c — wire formats (wire/ftcp_wire.h): round trips, exact byte
 * layouts, and every malformed-input rejection.
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_test.h"
#include "wire/ftcp_wire.h"
#include "base/ftcp_cksum.h"

void register_wire_tests(void);

/* Independent RFC 1071 sum over 16-bit words (odd byte padded). */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t len)
{
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static uint32_t ref_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint8_t ph[12];
	ftcp_put_be32(ph, src);
	ftcp_put_be32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = proto;
	ftcp_put_be16(ph + 10, len);
	return ref_sum(0, ph, 12);
}

/* Does a buffer whose checksum covers it sum to all ones? */
static int sums_to_ones(uint32_t start, const uint8_t *p, size_t len)
{
	return ref_sum(start, p, len) == 0xffff;
}

/* ---- Ethernet ---- */

static void test_wire_eth_round_trips_all_fields(void)
{
	struct ftcp_eth_repr in = {{{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}},
	                           {{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}},
	                           FTCP_ETHERTYPE_ARP};
	static const uint8_t expect[14] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0xaa,
	                                   0xbb, 0xcc, 0xdd, 0xee, 0x08, 0x06};
	struct ftcp_eth_repr out;
	uint8_t buf[64];

	memset(buf, 0x77, sizeof(buf));
	ftcp_eth_emit(&in, buf);
	CU_ASSERT(memcmp(buf, expect, 14) == 0);
	ASSERT_EQ_U64(buf[14], 0x77); /* nothing written past the header */
	memset(&out, 0, sizeof(out));
	ASSERT_EQ_I64(ftcp_eth_parse(buf, 60, &out), FTCP_ETH_HLEN);
	CU_ASSERT(ftcp_mac_eq(&out.dst, &in.dst));
	CU_ASSERT(ftcp_mac_eq(&out.src, &in.src));
	ASSERT_EQ_U64(out.type, FTCP_ETHERTYPE_ARP);
	ASSERT_EQ_I64(ftcp_eth_parse(buf, 14, &out), FTCP_ETH_HLEN);
}

static void test_wire_eth_truncated_is_short(void)
{
	uint8_t buf[14] = {0};
	struct ftcp_eth_repr r;
	uint32_t len;

	for (len = 0; len < FTCP_ETH_HLEN; len++)
		ASSERT_EQ_I64(ftcp_eth_parse(buf, len, &r), -FTCP_WIRE_SHORT);
}

static void test_wire_mac_helpers_classify_addresses(void)
{
	struct ftcp_mac uni = {{0x02, 0, 0, 0, 0, 1}}, mc = {{0x01, 0x00, 0x5e, 0, 0, 1}};
	struct ftcp_mac almost = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}};

	CU_ASSERT(ftcp_mac_is_broadcast(&ftcp_mac_broadcast));
	CU_ASSERT(ftcp_mac_is_multicast(&ftcp_mac_broadcast));
	CU_ASSERT(!ftcp_mac_is_broadcast(&almost));
	CU_ASSERT(!ftcp_mac_is_broadcast(&uni));
	CU_ASSERT(!ftcp_mac_is_multicast(&uni));
	CU_ASSERT(ftcp_mac_is_multicast(&mc));
	CU_ASSERT(!ftcp_mac_is_broadcast(&mc));
	CU_ASSERT(ftcp_mac_eq(&uni, &uni));
	CU_ASSERT(!ftcp_mac_eq(&uni, &mc));
	CU_ASSERT(!ftcp_mac_eq(&ftcp_mac_zero, &uni));
}

/* ---- ARP ---- */

static const uint8_t arp_request_bytes[28] = {
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,       /* eth/ipv4, request */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1,       /* sha, spa */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2,       /* tha, tpa */
};

static void test_wire_arp_emits_rfc826_layout_and_round_trips(void)
{
	struct ftcp_arp_repr in = {FTCP_ARP_REQUEST, {{0x02, 0, 0, 0, 0, 1}}, {{0}},
	                           IP4(10, 0, 0, 1), IP4(10, 0, 0, 2)};
	struct ftcp_arp_repr out;
	uint8_t buf[28];

	ftcp_arp_emit(&in, buf);
	CU_ASSERT(memcmp(buf, arp_request_bytes, 28) == 0);
	ASSERT_EQ_I64(ftcp_arp_parse(buf, 28, &out), FTCP_ARP_LEN);
	ASSERT_EQ_U64(out.op, FTCP_ARP_REQUEST);
	CU_ASSERT(ftcp_mac_eq(&out.sha, &in.sha));
	CU_ASSERT(ftcp_mac_eq(&out.tha, &in.tha));
	ASSERT_EQ_U64(out.spa, IP4(10, 0, 0, 1));
	ASSERT_EQ_U64(out.tpa, IP4(10, 0, 0, 2));

	/* a reply, with every field different */
	in.op = FTCP_ARP_REPLY;
	in.sha = (struct ftcp_mac){{0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f}};
	in.tha = (struct ftcp_mac){{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}};
	in.spa = IP4(192, 168, 1, 200);
	in.tpa = IP4(172, 16, 5, 4);
	ftcp_arp_emit(&in, buf);
	ASSERT_EQ_I64(ftcp_arp_parse(buf, 28, &out), FTCP_ARP_LEN);
	ASSERT_EQ_U64(out.op, FTCP_ARP_REPLY);
	CU_ASSERT(ftcp_mac_eq(&out.sha, &in.sha));
	CU_ASSERT(ftcp_mac_eq(&out.tha, &in.tha));
	ASSERT_EQ_U64(out.spa, in.spa);
	ASSERT_EQ_U64(out.tpa, in.tpa);
}

static void test_wire_arp_truncated_is_short(void)
{
	struct ftcp_arp_repr r;
	uint32_t len;

	for (len = 0; len < FTCP_ARP_LEN; len++)
		ASSERT_EQ_I64(ftcp_arp_parse(arp_request_bytes, len, &r), -FTCP_WIRE_SHORT);
	/* Ethernet padding after the packet is fine */
	{
		uint8_t padded[46] = {0};
		memcpy(padded, arp_request_bytes, 28);
		ASSERT_EQ_I64(ftcp_arp_parse(padded, 46, &r), FTCP_ARP_LEN);
	}
}

static void test_wire_arp_rejects_other_hardware_protocols_and_ops(void)
{
	struct ftcp_arp_repr r;
	uint8_t b[28];
	static const struct {
		int off;
		uint8_t val;
	} bad[] = {
		{1, 6},      /* htype 6 (IEEE 802) */
		{0, 1},      /* htype 0x0101 */
		{2, 0x86},   /* ptype 0x8600 */
		{3, 0x06},   /* ptype 0x0806 */
		{4, 8},      /* hlen 8 */
		{5, 16},     /* plen 16 */
		{7, 0},      /* op 0 */
		{7, 3},      /* op 3 (RARP request) */
		{6, 1},      /* op 0x0101 */
	};
	size_t i;

	for (i = 0; i < FTCP_ARRAY_SIZE(bad); i++) {
		memcpy(b, arp_request_bytes, 28);
		b[bad[i].off] = bad[i].val;
		ASSERT_EQ_I64(ftcp_arp_parse(b, 28, &r), -FTCP_WIRE_UNSUPPORTED);
	}
}

/* ---- IPv4 ---- */

/* The example header from test_cksum_rand, 0x73 bytes total. */
static const uint8_t ip_hdr_bytes[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                                         0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
                                         0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

static void ip_fix_cksum(uint8_t *b)
{
	uint32_t hlen = (uint32_t)(b[0] & 15) * 4;
	b[10] = b[11] = 0;
	ftcp_put_be16(b + 10, (uint16_t)~ref_sum(0, b, hlen));
}

/* A packet with header length hlen (options zeroed = EOL) and total_len. */
static void ip_make(uint8_t *b, uint32_t hlen, uint16_t total)
{
	memset(b, 0, hlen);
	memcpy(b, ip_hdr_bytes, 20);
	b[0] = (uint8_t)(0x40 | hlen / 4);
	ftcp_put_be16(b + 2, total);
	ip_fix_cksum(b);
}

static void test_wire_ipv4_emits_known_header(void)
{
	struct ftcp_ipv4_repr r = {0};
	uint8_t buf[20];

	r.src = IP4(192, 168, 0, 1);
	r.dst = IP4(192, 168, 0, 199);
	r.proto = FTCP_IP_PROTO_UDP;
	r.ttl = 64;
	r.tos = 0;
	r.total_len = 0x73;
	r.id = 0;
	r.frag = FTCP_IPV4_DF;
	ftcp_ipv4_emit(&r, buf, true);
	CU_ASSERT(memcmp(buf, ip_hdr_bytes, 20) == 0);
	ASSERT_EQ_U64(ftcp_get_be16(buf + 10), 0xb861);
	/* without fill_cksum the device fills it: the field stays 0 */
	ftcp_ipv4_emit(&r, buf, false);
	ASSERT_EQ_U64(ftcp_get_be16(buf + 10), 0);
	CU_ASSERT(memcmp(buf + 12, ip_hdr_bytes + 12, 8) == 0);
}

static void test_wire_ipv4_round_trips_all_fields(void)
{
	struct ftcp_ipv4_repr in = {0}, out;
	uint8_t buf[1500];

	in.src = IP4(10, 1, 2, 3);
	in.dst = IP4(172, 31, 254, 1);
	in.proto = FTCP_IP_PROTO_TCP;
	in.ttl = 255;
	in.tos = 0xb8;
	in.total_len = 1400;
	in.id = 0xbeef;
	in.frag = FTCP_IPV4_DF | 0; /* offset 0 */
	memset(buf, 0, sizeof(buf));
	ftcp_ipv4_emit(&in, buf, true);
	CU_ASSERT(sums_to_ones(0, buf, 20));
	memset(&out, 0xcc, sizeof(out));
	ASSERT_EQ_I64(ftcp_ipv4_parse(buf, sizeof(buf), true, &out), 20);
	ASSERT_EQ_U64(out.src, in.src);
	ASSERT_EQ_U64(out.dst, in.dst);
	ASSERT_EQ_U64(out.proto, in.proto);
	ASSERT_EQ_U64(out.ttl, in.ttl);
	ASSERT_EQ_U64(out.tos, in.tos);
	ASSERT_EQ_U64(out.hdr_len, 20);
	ASSERT_EQ_U64(out.total_len, 1400); /* padding after it is the caller's */
	ASSERT_EQ_U64(out.id, 0xbeef);
	ASSERT_EQ_U64(out.frag, FTCP_IPV4_DF);
	ASSERT_EQ_U64(out.opt_flags, 0);
	CU_ASSERT(!ftcp_ipv4_is_fragment(&out));
	/* exactly total_len bytes is enough */
	ASSERT_EQ_I64(ftcp_ipv4_parse(buf, 1400, true, &out), 20);
}

static void test_wire_ipv4_truncated_is_short(void)
{
	struct ftcp_ipv4_repr r;
	uint8_t b[20];
	uint32_t len;

	ip_make(b, 20, 20);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 20, true, &r), 20);
	for (len = 0; len < FTCP_IPV4_HLEN; len++)
		ASSERT_EQ_I64(ftcp_ipv4_parse(b, len, true, &r), -FTCP_WIRE_SHORT);
}

static void test_wire_ipv4_rejects_wrong_version(void)
{
	struct ftcp_ipv4_repr r;
	uint8_t b[20];
	static const uint8_t v[] = {0x65, 0x05, 0x00, 0x35, 0xf5};
	size_t i;

	for (i = 0; i < sizeof(v); i++) {
		ip_make(b, 20, 20);
		b[0] = v[i];
		ip_fix_cksum(b); /* only the version is wrong */
		ASSERT_EQ_I64(ftcp_ipv4_parse(b, 20, false, &r), -FTCP_WIRE_VERSION);
	}
}

static void test_wire_ipv4_rejects_bad_header_length(void)
{
	struct ftcp_ipv4_repr r;
	uint8_t b[64];
	uint8_t ihl;

	for (ihl = 0; ihl < 5; ihl++) {
		ip_make(b, 20, 20);
		b[0] = (uint8_t)(0x40 | ihl);
		ASSERT_EQ_I64(ftcp_ipv4_parse(b, 20, false, &r), -FTCP_WIRE_HDR_LEN);
	}
	/* IHL 15 (60 bytes) in a 40-byte buffer */
	ip_make(b, 60, 40);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 40, false, &r), -FTCP_WIRE_SHORT);
	/* IHL 6 in a 20-byte buffer */
	ip_make(b, 24, 24);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 20, false, &r), -FTCP_WIRE_SHORT);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 23, false, &r), -FTCP_WIRE_SHORT);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 24, true, &r), 24);
	/* IHL 15 that fits */
	ip_make(b, 60, 60);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 60, true, &r), 60);
	ASSERT_EQ_U64(r.hdr_len, 60);
}

static void test_wire_ipv4_rejects_total_length_below_header(void)
{
	struct ftcp_ipv4_repr r;
	uint8_t b[64];

	ip_make(b, 20, 19);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 64, false, &r), -FTCP_WIRE_TOTAL_LEN);
	ip_make(b, 20, 0);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 64, false, &r), -FTCP_WIRE_TOTAL_LEN);
	ip_make(b, 24, 23); /* with options: below the 24-byte header */
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 64, false, &r), -FTCP_WIRE_TOTAL_LEN);
	ip_make(b, 24, 24);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 64, true, &r), 24);
}

static void test_wire_ipv4_rejects_total_length_beyond_buffer(void)
{
	struct ftcp_ipv4_repr r;
	uint8_t b[64];

	ip_make(b, 20, 64);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 64, true, &r), 20);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 63, true, &r), -FTCP_WIRE_SHORT);
	ip_make(b, 20, 0xffff);
	ASSERT_EQ_I64(ftcp_ipv4_parse(b, 64, true, &r), -FTCP_WIRE_SHORT);
}

static void test_wire_ipv4_checksum_verified_only_when_asked(void)
{
	struct ftcp_ipv4_repr r;
	uint8_t b[20];
	int byte;

	for (byte = 0; byte < 20; byte++) {
		ip_make(b, 20, 20);
		if (byte == 0 || byte == 2 || byte == 3)
			continue; /* those change version/lengths */
		b[byte] ^= 0x10;
		ASSERT_EQ_I64(ftcp_ipv4_parse(b, 20, true, &r), -FTCP_WIRE_CKSUM);
		ASSERT_EQ_I64(ftcp_ipv4_parse(b, 20, false, &r), 20);
	}
	/* a wrong checksum in an options header covers the options too */
	{
		uint8_t o[24];
		ip_make(o, 24, 24);
		o[20] = 1; /* NOP: the checksum no longer matches */
		ASSERT_EQ_I64(ftcp_ipv4_parse(o, 24, true, &r), -FTCP_WIRE_CKSUM);
		ASSERT_EQ_I64(ftcp_ipv4_parse(o, 24, false, &r), 24);
	}
}

/* Parse a header with the given option bytes (padded with EOL). */
static int ip_with_options(const uint8_t *opt, uint32_t olen, struct ftcp_ipv4_repr *r)
{
	uint8_t b[60];
	uint32_t hlen = 20 + ((olen + 3) & ~3u);

	ip_make(b, hlen, (uint16_t)hlen);
	memcpy(b + 20, opt, olen);
	ip_fix_cksum(b);
	return ftcp_ipv4_parse(b, hlen, true, r);
}

static void test_wire_ipv4_accepts_nop_and_eol_options(void)
{
	struct ftcp_ipv4_repr r;
	static const uint8_t nops[] = {1, 1, 1, 1};
	static const uint8_t eol_then_garbage[] = {0, 7, 0, 0}; /* nothing after EOL is read */
	static const uint8_t rr[] = {7, 7, 4, 0, 0, 0, 0, 0}; /* record route, 7 bytes */

	ASSERT_EQ_I64(ip_with_options(nops, 4, &r), 24);
	ASSERT_EQ_U64(r.opt_flags, FTCP_IPV4_HAS_OPTIONS);
	ASSERT_EQ_I64(ip_with_options(eol_then_garbage, 4, &r), 24);
	ASSERT_EQ_U64(r.opt_flags, FTCP_IPV4_HAS_OPTIONS);
	ASSERT_EQ_I64(ip_with_options(rr, 8, &r), 28);
	ASSERT_EQ_U64(r.opt_flags, FTCP_IPV4_HAS_OPTIONS);
	{
		uint8_t t[4] = {68, 4, 5, 0};
		ASSERT_EQ_I64(ip_with_options(t, 4, &r), 24);
	}
	{
		uint8_t t[4] = {1, 68, 3, 5}; /* NOP, then a 3-byte option to the end */
		ASSERT_EQ_I64(ip_with_options(t, 4, &r), 24);
	}
}

static void test_wire_ipv4_rejects_malformed_options(void)
{
	struct ftcp_ipv4_repr r;
	static const uint8_t len0[] = {7, 0, 0, 0};
	static const uint8_t len1[] = {7, 1, 0, 0};
	static const uint8_t past[] = {7, 5, 4, 0};          /* 5 bytes in a 4-byte area */
	static const uint8_t past2[] = {1, 1, 68, 3};        /* 3 bytes from offset 2 */
	static const uint8_t no_len[] = {1, 1, 1, 68};       /* type byte, no length */
	static const uint8_t long_len[] = {7, 255, 0, 0, 0, 0, 0, 0};
	static const uint8_t second_bad[] = {7, 3, 4, 68, 0, 0, 0, 0};

	ASSERT_EQ_I64(ip_with_options(len0, 4, &r), -FTCP_WIRE_OPTIONS);
	ASSERT_EQ_I64(ip_with_options(len1, 4, &r), -FTCP_WIRE_OPTIONS);
	ASSERT_EQ_I64(ip_with_options(past, 4, &r), -FTCP_WIRE_OPTIONS);
	ASSERT_EQ_I64(ip_with_options(past2, 4, &r), -FTCP_WIRE_OPTIONS);
	ASSERT_EQ_I64(ip_with_options(no_len, 4, &r), -FTCP_WIRE_OPTIONS);
	ASSERT_EQ_I64(ip_with_options(long_len, 8, &r), -FTCP_WIRE_OPTIONS);
	ASSERT_EQ_I64(ip_with_options(second_bad, 8, &r), -FTCP_WIRE_OPTIONS);
}

static void test_wire_ipv4_flags_source_route_options(void)
{
	struct ftcp_ipv4_repr r;
	static const uint8_t lsrr[] = {131, 7, 4, 10, 0, 0, 1, 0};
	static const uint8_t ssrr[] = {137, 7, 4, 10, 0, 0, 1, 0};
	static const uint8_t after_nop[] = {1, 131, 3, 4};
	static const uint8_t after_eol[] = {0, 131, 3, 4}; /* not an option any more */

	ASSERT_EQ_I64(ip_with_options(lsrr, 8, &r), 28);
	ASSERT_EQ_U64(r.opt_flags, FTCP_IPV4_HAS_OPTIONS | FTCP_IPV4_SOURCE_ROUTE);
	ASSERT_EQ_I64(ip_with_options(ssrr, 8, &r), 28);
	ASSERT_EQ_U64(r.opt_flags, FTCP_IPV4_HAS_OPTIONS | FTCP_IPV4_SOURCE_ROUTE);
	ASSERT_EQ_I64(ip_with_options(after_nop, 4, &r), 24);
	ASSERT_EQ_U64(r.opt_flags, FTCP_IPV4_HAS_OPTIONS | FTCP_IPV4_SOURCE_ROUTE);
	ASSERT_EQ_I64(ip_with_options(after_eol, 4, &r), 24);
	ASSERT_EQ_U64(r.opt_flags, FTCP_IPV4_HAS_OPTIONS);
}

static void test_wire_ipv4_detects_fragments(void)
{
	struct ftcp_ipv4_repr r;
	uint8_t b[20];
	static const struct {
		uint16_t frag;
		bool is_frag;
	} cases[] = {
		{0, false},
		{FTCP_IPV4_DF, false},
		{FTCP_IPV4_MF, true},                 /* first fragment */
		{100, true},                          /* last fragment */
		{FTCP_IPV4_MF | 1, true},             /* middle */
		{FTCP_IPV4_DF | FTCP_IPV4_FRAG_MASK, true},
		{0x8000, false},                      /* reserved bit only */
	};
	size_t i;

	for (i = 0; i < FTCP_ARRAY_SIZE(cases); i++) {
		ip_make(b, 20, 20);
		ftcp_put_be16(b + 6, cases[i].frag);
		ip_fix_cksum(b);
		ASSERT_EQ_I64(ftcp_ipv4_parse(b, 20, true, &r), 20);
		ASSERT_EQ_U64(r.frag, cases[i].frag);
		ASSERT_EQ_U64(ftcp_ipv4_is_fragment(&r), cases[i].is_frag);
	}
}

static void test_wire_ipv4_multicast_helper(void)
{
	CU_ASSERT(ftcp_ipv4_is_multicast(IP4(224, 0, 0, 1)));
	CU_ASSERT(ftcp_ipv4_is_multicast(IP4(239, 255, 255, 255)));
	CU_ASSERT(!ftcp_ipv4_is_multicast(IP4(223, 255, 255, 255)));
	CU_ASSERT(!ftcp_ipv4_is_multicast(IP4(240, 0, 0, 0)));
}

/* ---- ICMP ---- */

static void test_wire_icmp_echo_emits_known_bytes(void)
{
	struct ftcp_icmp_repr in = {0};
	uint8_t buf[8];
	static const uint8_t expect[8] = {8, 0, 0xf7, 0xfd, 0x00, 0x01, 0x00, 0x01};

	in.type = FTCP_ICMP_ECHO_REQUEST;
	in.ident = 1;
	in.seq = 1;
	ftcp_icmp_emit(&in, buf);
	CU_ASSERT(memcmp(buf, expect, 8) == 0);
}

static void test_wire_icmp_echo_round_trips_with_data(void)
{
	struct ftcp_icmp_repr in = {0}, out;
	uint8_t buf[8 + 57];
	uint32_t i;

	for (i = 0; i < 57; i++)
		buf[8 + i] = (uint8_t)(i * 3 + 1);
	in.type = FTCP_ICMP_ECHO_REPLY;
	in.code = 0;
	in.ident = 0x1234;
	in.seq = 0xfedc;
	in.data = buf + 8; /* data already in place, odd length */
	in.data_len = 57;
	ftcp_icmp_emit(&in, buf);
	CU_ASSERT(sums_to_ones(0, buf, sizeof(buf)));
	memset(&out, 0, sizeof(out));
	ASSERT_EQ_I64(ftcp_icmp_parse(buf, sizeof(buf), true, &out), FTCP_ICMP_HLEN);
	ASSERT_EQ_U64(out.type, FTCP_ICMP_ECHO_REPLY);
	ASSERT_EQ_U64(out.code, 0);
	ASSERT_EQ_U64(out.ident, 0x1234);
	ASSERT_EQ_U64(out.seq, 0xfedc);
	ASSERT_EQ_U64(out.rest, 0x1234fedcu);
	CU_ASSERT(out.data == buf + 8);
	ASSERT_EQ_U64(out.data_len, 57);
	for (i = 0; i < 57 && out.data == buf + 8; i++)
		if (out.data[i] != (uint8_t)(i * 3 + 1))
			break;
	ASSERT_EQ_U64(i, 57);
}

static void test_wire_icmp_error_copies_data_and_rest(void)
{
	struct ftcp_icmp_repr in = {0}, out;
	uint8_t quoted[28], buf[8 + 28];
	uint32_t i;

	for (i = 0; i < 28; i++)
		quoted[i] = (uint8_t)(0xa0 + i);
	in.type = FTCP_ICMP_DEST_UNREACH;
	in.code = FTCP_ICMP_UNREACH_FRAG_NEEDED;
	in.rest = 0x000005dcu; /* next-hop MTU 1500 */
	in.data = quoted;      /* elsewhere: emit copies it */
	in.data_len = 28;
	ftcp_icmp_emit(&in, buf);
	CU_ASSERT(memcmp(buf + 8, quoted, 28) == 0);
	ASSERT_EQ_U64(ftcp_get_be32(buf + 4), 0x5dc);
	ASSERT_EQ_I64(ftcp_icmp_parse(buf, sizeof(buf), true, &out), FTCP_ICMP_HLEN);
	ASSERT_EQ_U64(out.type, FTCP_ICMP_DEST_UNREACH);
	ASSERT_EQ_U64(out.code, FTCP_ICMP_UNREACH_FRAG_NEEDED);
	ASSERT_EQ_U64(out.rest, 0x5dc);
	ASSERT_EQ_U64(out.data_len, 28);
}

static void test_wire_icmp_truncated_is_short(void)
{
	uint8_t buf[8] = {8, 0, 0xf7, 0xfd, 0, 1, 0, 1};
	struct ftcp_icmp_repr r;
	uint32_t len;

	for (len = 0; len < FTCP_ICMP_HLEN; len++)
		ASSERT_EQ_I64(ftcp_icmp_parse(buf, len, false, &r), -FTCP_WIRE_SHORT);
	ASSERT_EQ_I64(ftcp_icmp_parse(buf, 8, true, &r), 8);
	ASSERT_EQ_U64(r.data_len, 0);
}

static void test_wire_icmp_bad_checksum_rejected_only_when_verifying(void)
{
	uint8_t buf[20];
	struct ftcp_icmp_repr in = {0}, r;
	int i;

	for (i = 0; i < 12; i++)
		buf[8 + i] = (uint8_t)i;
	in.type = FTCP_ICMP_ECHO_REQUEST;
	in.ident = 7;
	in.data = buf + 8;
	in.data_len = 12;
	ftcp_icmp_emit(&in, buf);
	ASSERT_EQ_I64(ftcp_icmp_parse(buf, 20, true, &r), 8);
	buf[19] ^= 0x40; /* corrupt the data: the checksum covers it */
	ASSERT_EQ_I64(ftcp_icmp_parse(buf, 20, true, &r), -FTCP_WIRE_CKSUM);
	ASSERT_EQ_I64(ftcp_icmp_parse(buf, 20, false, &r), 8);
	buf[19] ^= 0x40;
	buf[2] ^= 1; /* corrupt the checksum itself */
	ASSERT_EQ_I64(ftcp_icmp_parse(buf, 20, true, &r), -FTCP_WIRE_CKSUM);
}

/* ---- UDP ---- */

#define USRC IP4(192, 168, 7, 1)
#define UDST IP4(192, 168, 7, 2)

static void udp_build(uint8_t *buf, uint16_t len, bool full)
{
	struct ftcp_udp_repr r = {5353, 53, 0, 0};
	uint32_t i;

	r.len = len;
	for (i = 8; i < len; i++)
		buf[i] = (uint8_t)(i * 11 + 3);
	ftcp_udp_emit(&r, buf, USRC, UDST, full);
}

static void test_wire_udp_round_trips_with_full_checksum(void)
{
	uint8_t buf[8 + 33];
	struct ftcp_udp_repr out;
	static const uint8_t hdr[6] = {0x14, 0xe9, 0x00, 0x35, 0x00, 41};

	udp_build(buf, sizeof(buf), true);
	CU_ASSERT(memcmp(buf, hdr, 6) == 0);
	/* independently: pseudo-header + datagram sums to all ones */
	CU_ASSERT(sums_to_ones(ref_pseudo(USRC, UDST, 17, sizeof(buf)), buf, sizeof(buf)));
	memset(&out, 0, sizeof(out));
	ASSERT_EQ_I64(ftcp_udp_parse(buf, sizeof(buf), USRC, UDST, true, &out), FTCP_UDP_HLEN);
	ASSERT_EQ_U64(out.src_port, 5353);
	ASSERT_EQ_U64(out.dst_port, 53);
	ASSERT_EQ_U64(out.len, sizeof(buf));
	ASSERT_EQ_U64(out.cksum, ftcp_get_be16(buf + 6));
	CU_ASSERT(out.cksum != 0);
	/* trailing bytes after the UDP length (IP padding) are ignored */
	{
		uint8_t big[64] = {0};
		memcpy(big, buf, sizeof(buf));
		big[60] = 0x99;
		ASSERT_EQ_I64(ftcp_udp_parse(big, 64, USRC, UDST, true, &out), FTCP_UDP_HLEN);
		ASSERT_EQ_U64(out.len, sizeof(buf));
	}
}

static void test_wire_udp_emit_without_full_checksum_leaves_pseudo_sum(void)
{
	uint8_t buf[8 + 10];

	udp_build(buf, sizeof(buf), false);
	ASSERT_EQ_U64(ftcp_get_be16(buf + 6), ref_pseudo(USRC, UDST, 17, sizeof(buf)));
	/* summing the datagram over that field completes the checksum */
	{
		uint16_t c = (uint16_t)~ref_sum(0, buf, sizeof(buf));
		ftcp_put_be16(buf + 6, c);
		CU_ASSERT(sums_to_ones(ref_pseudo(USRC, UDST, 17, sizeof(buf)), buf, sizeof(buf)));
	}
}

static void test_wire_udp_truncated_is_short(void)
{
	uint8_t buf[8];
	struct ftcp_udp_repr r;
	uint32_t len;

	udp_build(buf, 8, true);
	ASSERT_EQ_I64(ftcp_udp_parse(buf, 8, USRC, UDST, true, &r), 8);
	for (len = 0; len < FTCP_UDP_HLEN; len++)
		ASSERT_EQ_I64(ftcp_udp_parse(buf, len, USRC, UDST, true, &r), -FTCP_WIRE_SHORT);
}

static void test_wire_udp_length_field_is_checked(void)
{
	uint8_t buf[20];
	struct ftcp_udp_repr r;
	uint16_t l;

	for (l = 0; l < 8; l++) {
		udp_build(buf, 20, true);
		ftcp_put_be16(buf + 4, l);
		ASSERT_EQ_I64(ftcp_udp_parse(buf, 20, USRC, UDST, false, &r), -FTCP_WIRE_TOTAL_LEN);
	}
	udp_build(buf, 20, true);
	ftcp_put_be16(buf + 4, 21);
	ASSERT_EQ_I64(ftcp_udp_parse(buf, 20, USRC, UDST, false, &r), -FTCP_WIRE_SHORT);
	ftcp_put_be16(buf + 4, 0xffff);
	ASSERT_EQ_I64(ftcp_udp_parse(buf, 20, USRC, UDST, false, &r), -FTCP_WIRE_SHORT);
	udp_build(buf, 20, true);
	ASSERT_EQ_I64(ftcp_udp_parse(buf, 19, USRC, UDST, true, &r), -FTCP_WIRE_SHORT);
}

static void test_wire_udp_zero_checksum_is_accepted(void)
{
	uint8_t buf[30];
	struct ftcp_udp_repr r;

	udp_build(buf, 30, true);
	ftcp_put_be16(buf + 6, 0);
	ASSERT_EQ_I64(ftcp_udp_parse(buf, 30, USRC, UDST, true, &r), 8);
	ASSERT_EQ_U64(r.cksum, 0);
}

static void test_wire_udp_wrong_checksum_is_rejected(void)
{
	uint8_t buf[30];
	struct ftcp_udp_repr r;

	udp_build(buf, 30, true);
	buf[25] ^= 0x01;
	ASSERT_EQ_I64(ftcp_udp_parse(buf, 30, USRC, UDST, true, &r), -FTCP_WIRE_CKSUM);
	ASSERT_EQ_I64(ftcp_udp_parse(buf, 30, USRC, UDST, false, &r), 8);
	buf[25] ^= 0x01;
	ASSERT_EQ_I64(ftcp_udp_parse(buf, 30, USRC, UDST, true, &r), 8);
	/* the pseudo-header counts: another address fails */
	ASSERT_EQ_I64(ftcp_udp_parse(buf, 30, USRC, UDST + 1, true, &r), -FTCP_WIRE_CKSUM);
	ASSERT_EQ_I64(ftcp_udp_parse(buf, 30, USRC + 1, UDST, true, &r), -FTCP_WIRE_CKSUM);
}

static void test_wire_udp_emit_never_produces_zero_checksum(void)
{
	uint8_t buf[8 + 20];
	struct ftcp_udp_repr r = {1000, 2000, sizeof(buf), 0}, out;
	uint16_t c0;

	memset(buf, 0, sizeof(buf));
	buf[8] = 0x42;
	ftcp_udp_emit(&r, buf, USRC, UDST, true);
	c0 = ftcp_get_be16(buf + 6);
	/* Adding c0 as a payload word makes the sum all ones, so the
	 * computed checksum would be 0: it must go out as 0xffff. */
	ftcp_put_be16(buf + 10, c0);
	ftcp_udp_emit(&r, buf, USRC, UDST, true);
	ASSERT_EQ_U64(ftcp_get_be16(buf + 6), 0xffff);
	/* and 0xffff verifies */
	ASSERT_EQ_I64(ftcp_udp_parse(buf, sizeof(buf), USRC, UDST, true, &out), 8);
	ASSERT_EQ_U64(out.cksum, 0xffff);
}

/* ---- software checksum completion ---- */

/* Build Ethernet + IPv4 (hlen) + UDP/TCP with fields as a device gets them:
 * IP checksum 0, L4 checksum field holding the pseudo-header sum. */
static uint32_t offload_frame(uint8_t *f, uint8_t proto, uint32_t ihl_bytes, uint32_t l4_len)
{
	struct ftcp_eth_repr e = {{{2, 0, 0, 0, 0, 2}}, {{2, 0, 0, 0, 0, 1}}, FTCP_ETHERTYPE_IPV4};
	uint8_t *ip = f + 14, *l4 = ip + ihl_bytes;
	uint16_t total = (uint16_t)(ihl_bytes + l4_len);
	uint32_t i;

	ftcp_eth_emit(&e, f);
	ip_make(ip, ihl_bytes, total);
	ip[9] = proto;
	if (ihl_bytes > 20)
		memset(ip + 20, 1, ihl_bytes - 20); /* NOPs */
	ip[10] = ip[11] = 0;
	for (i = 0; i < l4_len; i++)
		l4[i] = (uint8_t)(i * 29 + 7);
	if (proto == FTCP_IP_PROTO_UDP) {
		struct ftcp_udp_repr u = {4000, 5000, (uint16_t)l4_len, 0};
		ftcp_udp_emit(&u, l4, ftcp_get_be32(ip + 12), ftcp_get_be32(ip + 16), false);
	} else {
		/* a 20-byte TCP header: data offset 5, checksum at 16 */
		l4[12] = 0x50;
		ftcp_put_be16(l4 + 16, (uint16_t)ref_pseudo(ftcp_get_be32(ip + 12),
		                                            ftcp_get_be32(ip + 16), proto,
		                                            (uint16_t)l4_len));
	}
	return 14 + total;
}

static void test_wire_complete_cksums_fills_ip_and_udp(void)
{
	uint8_t f[200];
	uint32_t len = offload_frame(f, FTCP_IP_PROTO_UDP, 20, 61);
	uint8_t *ip = f + 14, *udp = ip + 20;
	struct ftcp_ipv4_repr ir;
	struct ftcp_udp_repr ur;

	ftcp_wire_complete_cksums(f, len, FTCP_TX_IP_CKSUM | FTCP_TX_UDP_CKSUM, 14, 20);
	CU_ASSERT(sums_to_ones(0, ip, 20));
	CU_ASSERT(sums_to_ones(ref_pseudo(ftcp_get_be32(ip + 12), ftcp_get_be32(ip + 16), 17, 61),
	                       udp, 61));
	ASSERT_EQ_I64(ftcp_ipv4_parse(ip, len - 14, true, &ir), 20);
	ASSERT_EQ_I64(ftcp_udp_parse(udp, 61, ir.src, ir.dst, true, &ur), 8);
	CU_ASSERT(ur.cksum != 0);
	/* the same as a full software emit */
	{
		uint8_t g[200];
		struct ftcp_udp_repr u = {4000, 5000, 61, 0};
		memcpy(g, f, len);
		ftcp_udp_emit(&u, g + 34, ir.src, ir.dst, true);
		ASSERT_EQ_U64(ftcp_get_be16(g + 34 + 6), ftcp_get_be16(udp + 6));
	}
}

static void test_wire_complete_cksums_fills_tcp_with_ip_options(void)
{
	uint8_t f[300];
	uint32_t len = offload_frame(f, FTCP_IP_PROTO_TCP, 24, 20 + 99);
	uint8_t *ip = f + 14, *tcp = ip + 24;

	ftcp_wire_complete_cksums(f, len, FTCP_TX_IP_CKSUM | FTCP_TX_TCP_CKSUM, 14, 24);
	CU_ASSERT(sums_to_ones(0, ip, 24));
	CU_ASSERT(sums_to_ones(ref_pseudo(ftcp_get_be32(ip + 12), ftcp_get_be32(ip + 16), 6, 119),
	                       tcp, 119));
}

static void test_wire_complete_cksums_udp_zero_becomes_ffff(void)
{
	uint8_t f[100];
	uint32_t len = offload_frame(f, FTCP_IP_PROTO_UDP, 20, 8 + 10);
	uint8_t *udp = f + 34;
	uint16_t c;

	/* complete once, then plant the result as a payload word so the
	 * second completion's sum is all ones */
	memset(udp + 8, 0, 10);
	ftcp_wire_complete_cksums(f, len, FTCP_TX_UDP_CKSUM, 14, 20);
	c = ftcp_get_be16(udp + 6);
	len = offload_frame(f, FTCP_IP_PROTO_UDP, 20, 8 + 10);
	memset(udp + 8, 0, 10);
	ftcp_put_be16(udp + 8, c);
	ftcp_wire_complete_cksums(f, len, FTCP_TX_UDP_CKSUM, 14, 20);
	ASSERT_EQ_U64(ftcp_get_be16(udp + 6), 0xffff);
}

static void test_wire_complete_cksums_does_only_what_flags_ask(void)
{
	uint8_t f[200], before[200];
	uint32_t len = offload_frame(f, FTCP_IP_PROTO_UDP, 20, 40);
	uint8_t *ip = f + 14;

	memcpy(before, f, len);
	ftcp_wire_complete_cksums(f, len, 0, 14, 20);
	CU_ASSERT(memcmp(f, before, len) == 0);
	ftcp_wire_complete_cksums(f, len, FTCP_TX_IP_CKSUM, 14, 20);
	CU_ASSERT(sums_to_ones(0, ip, 20));
	CU_ASSERT(memcmp(f + 34, before + 34, len - 34) == 0); /* UDP untouched */
	memcpy(f, before, len);
	ftcp_wire_complete_cksums(f, len, FTCP_TX_UDP_CKSUM, 14, 20);
	ASSERT_EQ_U64(ftcp_get_be16(ip + 10), 0); /* IP untouched */
	CU_ASSERT(memcmp(f + 34, before + 34, 6) == 0);
	CU_ASSERT(ftcp_get_be16(f + 40) != ftcp_get_be16(before + 40));
}

static void test_wire_complete_cksums_ignores_inconsistent_lengths(void)
{
	uint8_t f[200], before[200];
	uint32_t len = offload_frame(f, FTCP_IP_PROTO_UDP, 20, 40);

	memcpy(before, f, len);
	/* frame shorter than the headers: nothing is touched */
	ftcp_wire_complete_cksums(f, 30, FTCP_TX_IP_CKSUM | FTCP_TX_UDP_CKSUM, 14, 20);
	CU_ASSERT(memcmp(f, before, len) == 0);
	/* l3 below 20 */
	ftcp_wire_complete_cksums(f, len, FTCP_TX_IP_CKSUM | FTCP_TX_UDP_CKSUM, 14, 12);
	CU_ASSERT(memcmp(f, before, len) == 0);
	/* IP total length past the frame: the L4 checksum is left alone */
	ftcp_put_be16(f + 14 + 2, 200);
	memcpy(before, f, len);
	ftcp_wire_complete_cksums(f, len, FTCP_TX_UDP_CKSUM, 14, 20);
	CU_ASSERT(memcmp(f, before, len) == 0);
	/* IP total length too short to hold the checksum field */
	ftcp_put_be16(f + 14 + 2, 20 + 7);
	memcpy(before, f, len);
	ftcp_wire_complete_cksums(f, len, FTCP_TX_UDP_CKSUM, 14, 20);
	CU_ASSERT(memcmp(f, before, len) == 0);
	ftcp_put_be16(f + 14 + 2, 20 + 17); /* 17 < 18: a TCP field does not fit */
	memcpy(before, f, len);
	ftcp_wire_complete_cksums(f, len, FTCP_TX_TCP_CKSUM, 14, 20);
	CU_ASSERT(memcmp(f, before, len) == 0);
}

void register_wire_tests(void)
{
	FTCP_SUITE("wire",
	           FTCP_CASE(test_wire_eth_round_trips_all_fields),
	           FTCP_CASE(test_wire_eth_truncated_is_short),
	           FTCP_CASE(test_wire_mac_helpers_classify_addresses),
	           FTCP_CASE(test_wire_arp_emits_rfc826_layout_and_round_trips),
	           FTCP_CASE(test_wire_arp_truncated_is_short),
	           FTCP_CASE(test_wire_arp_rejects_other_hardware_protocols_and_ops),
	           FTCP_CASE(test_wire_ipv4_emits_known_header),
	           FTCP_CASE(test_wire_ipv4_round_trips_all_fields),
	           FTCP_CASE(test_wire_ipv4_truncated_is_short),
	           FTCP_CASE(test_wire_ipv4_rejects_wrong_version),
	           FTCP_CASE(test_wire_ipv4_rejects_bad_header_length),
	           FTCP_CASE(test_wire_ipv4_rejects_total_length_below_header),
	           FTCP_CASE(test_wire_ipv4_rejects_total_length_beyond_buffer),
	           FTCP_CASE(test_wire_ipv4_checksum_verified_only_when_asked),
	           FTCP_CASE(test_wire_ipv4_accepts_nop_and_eol_options),
	           FTCP_CASE(test_wire_ipv4_rejects_malformed_options),
	           FTCP_CASE(test_wire_ipv4_flags_source_route_options),
	           FTCP_CASE(test_wire_ipv4_detects_fragments),
	           FTCP_CASE(test_wire_ipv4_multicast_helper),
	           FTCP_CASE(test_wire_icmp_echo_emits_known_bytes),
	           FTCP_CASE(test_wire_icmp_echo_round_trips_with_data),
	           FTCP_CASE(test_wire_icmp_error_copies_data_and_rest),
	           FTCP_CASE(test_wire_icmp_truncated_is_short),
	           FTCP_CASE(test_wire_icmp_bad_checksum_rejected_only_when_verifying),
	           FTCP_CASE(test_wire_udp_round_trips_with_full_checksum),
	           FTCP_CASE(test_wire_udp_emit_without_full_checksum_leaves_pseudo_sum),
	           FTCP_CASE(test_wire_udp_truncated_is_short),
	           FTCP_CASE(test_wire_udp_length_field_is_checked),
	           FTCP_CASE(test_wire_udp_zero_checksum_is_accepted),
	           FTCP_CASE(test_wire_udp_wrong_checksum_is_rejected),
	           FTCP_CASE(test_wire_udp_emit_never_produces_zero_checksum),
	           FTCP_CASE(test_wire_complete_cksums_fills_ip_and_udp),
	           FTCP_CASE(test_wire_complete_cksums_fills_tcp_with_ip_options),
	           FTCP_CASE(test_wire_complete_cksums_udp_zero_becomes_ffff),
	           FTCP_CASE(test_wire_complete_cksums_does_only_what_flags_ask),
	           FTCP_CASE(test_wire_complete_cksums_ignores_inconsistent_lengths));
}
