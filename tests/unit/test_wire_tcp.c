/*
 * test_wire_tcp.c — the TCP header and options (wire/ftcp_wire_tcp.h):
 * round trips of every option combination, exact layouts, checksums (full
 * and device-completed), and every malformed-input rejection.
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_test.h"
#include "base/ftcp_cksum.h"
#include "wire/ftcp_wire.h"
#include "wire/ftcp_wire_tcp.h"

void register_wire_tcp_tests(void);

#define TSRC IP4(10, 0, 0, 1)
#define TDST IP4(10, 0, 0, 2)
#define OPT_NOP_BYTE 1

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

static uint32_t ref_pseudo(uint32_t src, uint32_t dst, uint32_t len)
{
	uint8_t ph[12];
	ftcp_put_be32(ph, src);
	ftcp_put_be32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = FTCP_IP_PROTO_TCP;
	ftcp_put_be16(ph + 10, (uint16_t)len);
	return ref_sum(0, ph, 12);
}

static void fill_header(struct ftcp_tcp_repr *r)
{
	memset(r, 0, sizeof(*r));
	r->src_port = 0xfedc;
	r->dst_port = 80;
	r->seq = 0xfffffffeu;
	r->ack = 0x80000001u;
	r->flags = FTCP_TCP_ACK | FTCP_TCP_PSH;
	r->window = 0xffff;
	r->urg_ptr = 0x1234;
}

/* A 20 + opt_len byte header (no payload) with these option bytes. */
static uint32_t raw_segment(uint8_t *buf, const uint8_t *opt, uint32_t opt_len)
{
	struct ftcp_tcp_repr r;
	uint32_t hlen = FTCP_TCP_HLEN + opt_len;

	fill_header(&r);
	CU_ASSERT_FATAL(opt_len % 4 == 0 && opt_len <= FTCP_TCP_MAX_OPT_LEN);
	ASSERT_EQ_U64(ftcp_tcp_emit(&r, buf), FTCP_TCP_HLEN);
	buf[12] = (uint8_t)((hlen / 4) << 4);
	memcpy(buf + FTCP_TCP_HLEN, opt, opt_len);
	return hlen;
}

/* Parse a header built from raw option bytes; returns parse's result. */
static int parse_opts(const uint8_t *opt, uint32_t opt_len, struct ftcp_tcp_repr *out)
{
	uint8_t buf[FTCP_TCP_MAX_HLEN];
	uint32_t hlen = raw_segment(buf, opt, opt_len);

	memset(out, 0xff, sizeof(*out));
	return ftcp_tcp_parse(buf, hlen, TSRC, TDST, false, out);
}

/* ---- round trips ---- */

/* SACK blocks that fit beside the other options, from the layout: MSS 4,
 * TS 12 (with SACK-permitted or two NOPs in front), else SACK-permitted 4
 * (NOP NOP SACK_PERM), WS 4 (NOP WS), SACK 2 NOPs + 2 + 8 per block. */
static uint32_t expected_blocks(const struct ftcp_tcp_opts *o)
{
	uint32_t used = (o->has_mss ? 4 : 0) + (o->has_ts ? 12 : o->sack_ok ? 4 : 0) +
	                (o->has_wscale ? 4 : 0);
	uint32_t fit = (FTCP_TCP_MAX_OPT_LEN - used - 4) / 8;
	return o->n_sack < fit ? o->n_sack : fit;
}

static void test_wire_tcp_every_option_combination_round_trips(void)
{
	uint32_t mask, n, k, combos = 0;

	for (mask = 0; mask < 16; mask++) {
		for (n = 0; n <= FTCP_TCP_MAX_SACK; n++) {
			struct ftcp_tcp_repr in, out;
			uint8_t buf[FTCP_TCP_MAX_HLEN + 8];
			uint32_t hlen, fit;

			fill_header(&in);
			in.opt.has_mss = mask & 1;
			in.opt.has_wscale = (mask >> 1) & 1;
			in.opt.sack_ok = (mask >> 2) & 1;
			in.opt.has_ts = (mask >> 3) & 1;
			in.opt.mss = (uint16_t)(536 + mask);
			in.opt.wscale = (uint8_t)(mask % 15);
			in.opt.ts_val = 0x01020304u ^ mask;
			in.opt.ts_ecr = 0xa0b0c0d0u + n;
			in.opt.n_sack = (uint8_t)n;
			for (k = 0; k < n; k++) {
				in.opt.sack[k].start = 0xfffffff0u + 1000 * k;
				in.opt.sack[k].end = 0xfffffff0u + 1000 * k + 500 + mask;
			}
			fit = expected_blocks(&in.opt);

			memset(buf, 0xee, sizeof(buf));
			hlen = ftcp_tcp_emit(&in, buf);
			ASSERT_EQ_U64(hlen, FTCP_TCP_HLEN + ftcp_tcp_opts_len(&in.opt));
			CU_ASSERT(hlen % 4 == 0);
			CU_ASSERT(hlen <= FTCP_TCP_MAX_HLEN);
			ASSERT_EQ_U64(buf[hlen], 0xee); /* nothing past the header */
			ASSERT_EQ_U64(buf[12] >> 4, hlen / 4);
			ASSERT_EQ_U64(ftcp_get_be16(buf + 16), 0); /* left for set_cksum */

			memset(&out, 0xff, sizeof(out));
			ASSERT_EQ_I64(ftcp_tcp_parse(buf, hlen, TSRC, TDST, false, &out), (int)hlen);
			ASSERT_EQ_U64(out.hdr_len, hlen);
			CU_ASSERT(out.opt.has_mss == in.opt.has_mss);
			CU_ASSERT(out.opt.has_wscale == in.opt.has_wscale);
			CU_ASSERT(out.opt.sack_ok == in.opt.sack_ok);
			CU_ASSERT(out.opt.has_ts == in.opt.has_ts);
			if (in.opt.has_mss)
				ASSERT_EQ_U64(out.opt.mss, in.opt.mss);
			if (in.opt.has_wscale)
				ASSERT_EQ_U64(out.opt.wscale, in.opt.wscale);
			if (in.opt.has_ts) {
				ASSERT_EQ_U64(out.opt.ts_val, in.opt.ts_val);
				ASSERT_EQ_U64(out.opt.ts_ecr, in.opt.ts_ecr);
			}
			ASSERT_EQ_U64(out.opt.n_sack, fit);
			for (k = 0; k < fit && k < out.opt.n_sack; k++) {
				ASSERT_EQ_U64(out.opt.sack[k].start, in.opt.sack[k].start);
				ASSERT_EQ_U64(out.opt.sack[k].end, in.opt.sack[k].end);
			}
			ASSERT_EQ_U64(out.payload_len, 0);
			combos++;
		}
	}
	ASSERT_EQ_U64(combos, 80);
}

static void test_wire_tcp_sack_blocks_beyond_40_bytes_are_dropped(void)
{
	struct ftcp_tcp_repr in, out;
	uint8_t buf[FTCP_TCP_MAX_HLEN];
	uint32_t k;

	fill_header(&in);
	in.opt.n_sack = 4;
	for (k = 0; k < 4; k++) {
		in.opt.sack[k].start = 100 * k;
		in.opt.sack[k].end = 100 * k + 50;
	}
	/* alone: 4 blocks, 2 NOPs + 34 = 36 bytes */
	ASSERT_EQ_U64(ftcp_tcp_opts_len(&in.opt), 36);
	ASSERT_EQ_U64(ftcp_tcp_emit(&in, buf), 56);
	ASSERT_EQ_I64(ftcp_tcp_parse(buf, 56, TSRC, TDST, false, &out), 56);
	ASSERT_EQ_U64(out.opt.n_sack, 4);
	/* with timestamps only 3 fit: 12 + 2 + 26 = 40 */
	in.opt.has_ts = true;
	ASSERT_EQ_U64(ftcp_tcp_opts_len(&in.opt), 40);
	ASSERT_EQ_U64(ftcp_tcp_emit(&in, buf), 60);
	ASSERT_EQ_I64(ftcp_tcp_parse(buf, 60, TSRC, TDST, false, &out), 60);
	ASSERT_EQ_U64(out.opt.n_sack, 3);
	ASSERT_EQ_U64(out.opt.sack[2].start, 200);
	ASSERT_EQ_U64(buf[FTCP_TCP_HLEN + 12 + 2 + 1], 2 + 3 * 8); /* SACK length byte */
	/* with timestamps and an MSS and a window scale: 2 */
	in.opt.has_mss = in.opt.has_wscale = true;
	ASSERT_EQ_U64(ftcp_tcp_opts_len(&in.opt), 20 + 4 + 16);
	ASSERT_EQ_U64(ftcp_tcp_emit(&in, buf), 60);
	ASSERT_EQ_I64(ftcp_tcp_parse(buf, 60, TSRC, TDST, false, &out), 60);
	ASSERT_EQ_U64(out.opt.n_sack, 2);
}

static void test_wire_tcp_syn_options_exact_layout(void)
{
	/* MSS, SACK-permitted, TS, NOP, WS: the order Linux sends on a SYN */
	static const uint8_t expect[40] = {
	        0xfe, 0xdc, 0x00, 0x50, 0xff, 0xff, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x01, 0xa0,
	        0x02, 0xff, 0xff, 0x00, 0x00, 0x12, 0x34, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02,
	        0x08, 0x0a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x01, 0x03, 0x03,
	        0x07};
	struct ftcp_tcp_repr in;
	uint8_t buf[FTCP_TCP_MAX_HLEN];

	fill_header(&in);
	in.flags = FTCP_TCP_SYN;
	in.opt.has_mss = in.opt.sack_ok = in.opt.has_ts = in.opt.has_wscale = true;
	in.opt.mss = 1460;
	in.opt.wscale = 7;
	in.opt.ts_val = 0x11223344u;
	in.opt.ts_ecr = 0x55667788u;
	ASSERT_EQ_U64(ftcp_tcp_emit(&in, buf), 40);
	CU_ASSERT(memcmp(buf, expect, 40) == 0);
}

static void test_wire_tcp_header_fields_round_trip(void)
{
	static const uint8_t flag_sets[] = {0x00, FTCP_TCP_SYN, FTCP_TCP_SYN | FTCP_TCP_ACK,
	                                    FTCP_TCP_FIN | FTCP_TCP_ACK, FTCP_TCP_RST, 0xff};
	struct ftcp_tcp_repr in, out;
	uint8_t buf[FTCP_TCP_MAX_HLEN + 100];
	uint32_t i;

	for (i = 0; i < FTCP_ARRAY_SIZE(flag_sets); i++) {
		fill_header(&in);
		in.flags = flag_sets[i];
		in.src_port = (uint16_t)(i * 9001);
		in.dst_port = (uint16_t)(0xffff - i);
		in.seq = 0u - (uint32_t)i;
		in.ack = 0x12345678u * (uint32_t)i;
		in.window = (uint16_t)(i * 7777);
		in.urg_ptr = (uint16_t)~i;
		ASSERT_EQ_U64(ftcp_tcp_emit(&in, buf), FTCP_TCP_HLEN);
		ASSERT_EQ_U64(buf[12], 0x50);
		ASSERT_EQ_U64(buf[13], flag_sets[i]);
		/* a payload right after the header */
		memset(buf + FTCP_TCP_HLEN, 0x5a, 33);
		memset(&out, 0xff, sizeof(out));
		ASSERT_EQ_I64(ftcp_tcp_parse(buf, FTCP_TCP_HLEN + 33, TSRC, TDST, false, &out),
		              FTCP_TCP_HLEN);
		ASSERT_EQ_U64(out.src_port, in.src_port);
		ASSERT_EQ_U64(out.dst_port, in.dst_port);
		ASSERT_EQ_U64(out.seq, in.seq);
		ASSERT_EQ_U64(out.ack, in.ack);
		ASSERT_EQ_U64(out.flags, in.flags);
		ASSERT_EQ_U64(out.window, in.window);
		ASSERT_EQ_U64(out.urg_ptr, in.urg_ptr);
		ASSERT_EQ_U64(out.hdr_len, FTCP_TCP_HLEN);
		CU_ASSERT(out.payload == buf + FTCP_TCP_HLEN);
		ASSERT_EQ_U64(out.payload_len, 33);
		/* no options: the option fields are cleared, not left over */
		CU_ASSERT(!out.opt.has_mss && !out.opt.has_wscale && !out.opt.sack_ok &&
		          !out.opt.has_ts);
		ASSERT_EQ_U64(out.opt.n_sack, 0);
	}
	/* reserved bits beside the data offset do not change its meaning */
	buf[12] = 0x5f;
	ASSERT_EQ_I64(ftcp_tcp_parse(buf, FTCP_TCP_HLEN, TSRC, TDST, false, &out), FTCP_TCP_HLEN);
}

/* The per-segment writer (ftcp_tcp_write) must give exactly the bytes of
 * the generic encoder for the repr it stands for: timestamp or nothing. */
static void test_wire_tcp_write_matches_emit(void)
{
	static const uint8_t flag_sets[] = {FTCP_TCP_ACK, FTCP_TCP_ACK | FTCP_TCP_PSH,
	                                    FTCP_TCP_FIN | FTCP_TCP_ACK, FTCP_TCP_RST, 0xff};
	uint8_t a[FTCP_TCP_MAX_HLEN], b[FTCP_TCP_MAX_HLEN];
	struct ftcp_tcp_repr r;
	uint32_t i, ts;

	for (ts = 0; ts < 2; ts++)
		for (i = 0; i < FTCP_ARRAY_SIZE(flag_sets); i++) {
			memset(&r, 0, sizeof(r));
			r.src_port = (uint16_t)(40000 + i);
			r.dst_port = 5001;
			r.seq = 0xfffffff0u + i * 0x01010101u;
			r.ack = 0x80000000u ^ i;
			r.flags = flag_sets[i];
			r.window = (uint16_t)(0xffff - i * 4099);
			r.opt.has_ts = ts != 0;
			r.opt.ts_val = 0xa1b2c3d4u + i;
			r.opt.ts_ecr = 0x0badcafeu - i;
			memset(a, 0x77, sizeof(a));
			memset(b, 0x77, sizeof(b));
			ASSERT_EQ_U64(ftcp_tcp_write(a, r.src_port, r.dst_port, r.seq, r.ack, r.flags,
			                             r.window, ts != 0, r.opt.ts_val, r.opt.ts_ecr),
			              ftcp_tcp_emit(&r, b));
			CU_ASSERT(memcmp(a, b, sizeof(a)) == 0);
		}
}

/* ---- checksums ---- */

static const uint32_t PAYLOAD_LENS[] = {0, 1, 2, 3, 4, 5, 99, 536, 1459, 1460};

static void make_payload(uint8_t *p, uint32_t len, uint32_t seed)
{
	uint32_t i;
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 131 + seed * 7 + 3);
}

/* A header with TS and 2 SACK blocks, emitted into hdr. */
static uint32_t checksum_header(uint8_t *hdr)
{
	struct ftcp_tcp_repr r;

	fill_header(&r);
	r.opt.has_ts = true;
	r.opt.ts_val = 0xdeadbeefu;
	r.opt.ts_ecr = 0x01020304u;
	r.opt.n_sack = 2;
	r.opt.sack[0].start = 1;
	r.opt.sack[0].end = 2;
	r.opt.sack[1].start = 0xfffffffeu;
	r.opt.sack[1].end = 0xffffffffu;
	return ftcp_tcp_emit(&r, hdr);
}

static void test_wire_tcp_full_checksum_with_separate_payload(void)
{
	uint32_t i;

	for (i = 0; i < FTCP_ARRAY_SIZE(PAYLOAD_LENS); i++) {
		uint32_t plen = PAYLOAD_LENS[i], hlen;
		uint8_t hdr[FTCP_TCP_MAX_HLEN], *payload = malloc(plen + 1);
		uint8_t *seg = malloc(FTCP_TCP_MAX_HLEN + plen);
		struct ftcp_tcp_repr out;

		CU_ASSERT_FATAL(payload != NULL && seg != NULL);
		make_payload(payload, plen, i);
		hlen = checksum_header(hdr);
		ASSERT_EQ_U64(hlen, 52); /* 20 + TS 12 + SACK 4 + 2 * 8 */
		ftcp_tcp_set_cksum(hdr, hlen, payload, plen, TSRC, TDST, true);
		/* header + payload + pseudo-header sum to all ones */
		ASSERT_EQ_U64(ref_sum(ref_sum(ref_pseudo(TSRC, TDST, hlen + plen), hdr, hlen),
		                      payload, plen),
		              0xffff);
		/* and the parser, which sees them contiguous, agrees */
		memcpy(seg, hdr, hlen);
		memcpy(seg + hlen, payload, plen);
		ASSERT_EQ_I64(ftcp_tcp_parse(seg, hlen + plen, TSRC, TDST, true, &out), (int)hlen);
		ASSERT_EQ_U64(out.payload_len, plen);
		/* a stale checksum field is overwritten, not summed */
		ftcp_put_be16(hdr + 16, 0xabcd);
		ftcp_tcp_set_cksum(hdr, hlen, payload, plen, TSRC, TDST, true);
		CU_ASSERT(memcmp(hdr, seg, hlen) == 0);
		free(payload);
		free(seg);
	}
}

static void test_wire_tcp_pseudo_checksum_completed_by_device(void)
{
	uint32_t i;

	for (i = 0; i < FTCP_ARRAY_SIZE(PAYLOAD_LENS); i++) {
		uint32_t plen = PAYLOAD_LENS[i], hlen, len;
		uint8_t full[FTCP_TCP_MAX_HLEN], hdr[FTCP_TCP_MAX_HLEN];
		uint8_t payload[1460], frame[14 + 20 + FTCP_TCP_MAX_HLEN + 1460];
		struct ftcp_eth_repr e = {{{2, 0, 0, 0, 0, 2}}, {{2, 0, 0, 0, 0, 1}},
		                          FTCP_ETHERTYPE_IPV4};
		struct ftcp_ipv4_repr ip;
		struct ftcp_tcp_repr out;

		make_payload(payload, plen, i + 100);
		hlen = checksum_header(full);
		memcpy(hdr, full, hlen);
		ftcp_tcp_set_cksum(full, hlen, payload, plen, TSRC, TDST, true);
		ftcp_tcp_set_cksum(hdr, hlen, payload, plen, TSRC, TDST, false);
		/* the field holds the folded pseudo-header sum, uncomplemented */
		ASSERT_EQ_U64(ftcp_get_be16(hdr + 16), ref_pseudo(TSRC, TDST, hlen + plen));

		/* a frame as the device gets it: Ethernet, IPv4, TCP, payload */
		memset(&ip, 0, sizeof(ip));
		ip.src = TSRC;
		ip.dst = TDST;
		ip.proto = FTCP_IP_PROTO_TCP;
		ip.ttl = 64;
		ip.hdr_len = 20;
		ip.total_len = (uint16_t)(20 + hlen + plen);
		ftcp_eth_emit(&e, frame);
		ftcp_ipv4_emit(&ip, frame + 14, false);
		memcpy(frame + 34, hdr, hlen);
		memcpy(frame + 34 + hlen, payload, plen);
		len = 34 + hlen + plen;
		ftcp_wire_complete_cksums(frame, len, FTCP_TX_IP_CKSUM | FTCP_TX_TCP_CKSUM, 14, 20);
		ASSERT_EQ_U64(ftcp_get_be16(frame + 34 + 16), ftcp_get_be16(full + 16));
		ASSERT_EQ_I64(ftcp_tcp_parse(frame + 34, hlen + plen, TSRC, TDST, true, &out),
		              (int)hlen);
	}
}

static void test_wire_tcp_bad_checksum_rejected_only_when_verifying(void)
{
	uint8_t seg[FTCP_TCP_MAX_HLEN + 64];
	uint32_t hlen = checksum_header(seg), len = hlen + 64, i;
	struct ftcp_tcp_repr out;

	make_payload(seg + hlen, 64, 5);
	ftcp_tcp_set_cksum(seg, hlen, seg + hlen, 64, TSRC, TDST, true);
	ASSERT_EQ_I64(ftcp_tcp_parse(seg, len, TSRC, TDST, true, &out), (int)hlen);
	/* the wrong pseudo-header: another source address, another length */
	ASSERT_EQ_I64(ftcp_tcp_parse(seg, len, TSRC + 1, TDST, true, &out), -FTCP_WIRE_CKSUM);
	ASSERT_EQ_I64(ftcp_tcp_parse(seg, len - 2, TSRC, TDST, true, &out), -FTCP_WIRE_CKSUM);
	/* one flipped bit anywhere: in the header, an option, the payload */
	for (i = 0; i < len; i += 7) {
		seg[i] ^= 0x10;
		ASSERT_EQ_I64(ftcp_tcp_parse(seg, len, TSRC, TDST, true, &out), -FTCP_WIRE_CKSUM);
		if (i < 12 || i >= hlen) /* elsewhere it may make another error */
			ASSERT_EQ_I64(ftcp_tcp_parse(seg, len, TSRC, TDST, false, &out), (int)hlen);
		seg[i] ^= 0x10;
	}
	ASSERT_EQ_I64(ftcp_tcp_parse(seg, len, TSRC, TDST, true, &out), (int)hlen);
}

/* ---- malformed headers ---- */

static void test_wire_tcp_every_short_length_is_short(void)
{
	uint8_t buf[FTCP_TCP_HLEN];
	struct ftcp_tcp_repr r, out;
	uint32_t len;

	fill_header(&r);
	ftcp_tcp_emit(&r, buf);
	for (len = 0; len < FTCP_TCP_HLEN; len++)
		ASSERT_EQ_I64(ftcp_tcp_parse(buf, len, TSRC, TDST, false, &out), -FTCP_WIRE_SHORT);
	ASSERT_EQ_I64(ftcp_tcp_parse(buf, FTCP_TCP_HLEN, TSRC, TDST, false, &out), FTCP_TCP_HLEN);
}

static void test_wire_tcp_data_offset_below_5_is_hdr_len(void)
{
	uint8_t buf[FTCP_TCP_MAX_HLEN] = {0};
	struct ftcp_tcp_repr r, out;
	uint32_t doff;

	fill_header(&r);
	ftcp_tcp_emit(&r, buf);
	for (doff = 0; doff < 5; doff++) {
		buf[12] = (uint8_t)(doff << 4);
		ASSERT_EQ_I64(ftcp_tcp_parse(buf, sizeof(buf), TSRC, TDST, false, &out),
		              -FTCP_WIRE_HDR_LEN);
	}
}

static void test_wire_tcp_data_offset_past_buffer_is_hdr_len(void)
{
	uint8_t buf[FTCP_TCP_MAX_HLEN];
	struct ftcp_tcp_repr r, out;
	uint32_t doff, len;

	fill_header(&r);
	ftcp_tcp_emit(&r, buf);
	memset(buf + FTCP_TCP_HLEN, OPT_NOP_BYTE, FTCP_TCP_MAX_HLEN - FTCP_TCP_HLEN);
	for (doff = 6; doff <= 15; doff++) {
		buf[12] = (uint8_t)(doff << 4);
		for (len = FTCP_TCP_HLEN; len < doff * 4; len++)
			ASSERT_EQ_I64(ftcp_tcp_parse(buf, len, TSRC, TDST, false, &out),
			              -FTCP_WIRE_HDR_LEN);
		/* exactly the header: fine (all NOPs) */
		ASSERT_EQ_I64(ftcp_tcp_parse(buf, doff * 4, TSRC, TDST, false, &out), (int)doff * 4);
		ASSERT_EQ_U64(out.payload_len, 0);
	}
}

static void test_wire_tcp_option_length_0_or_1_is_malformed(void)
{
	static const uint8_t kinds[] = {2, 3, 4, 5, 8, 30, 254};
	struct ftcp_tcp_repr out;
	uint32_t i, olen;

	for (i = 0; i < FTCP_ARRAY_SIZE(kinds); i++) {
		for (olen = 0; olen < 2; olen++) {
			uint8_t opt[8] = {1, 1, kinds[i], (uint8_t)olen, 1, 1, 1, 1};
			ASSERT_EQ_I64(parse_opts(opt, 8, &out), -FTCP_WIRE_OPTIONS);
		}
	}
}

static void test_wire_tcp_option_running_past_header_is_malformed(void)
{
	struct ftcp_tcp_repr out;

	{
		/* MSS claiming 6 bytes in a 4-byte option area */
		static const uint8_t opt[4] = {2, 6, 0x05, 0xb4};
		ASSERT_EQ_I64(parse_opts(opt, 4, &out), -FTCP_WIRE_OPTIONS);
	}
	{
		/* a TS option cut by the header's end */
		static const uint8_t opt[8] = {1, 1, 8, 10, 0, 0, 0, 1};
		ASSERT_EQ_I64(parse_opts(opt, 8, &out), -FTCP_WIRE_OPTIONS);
	}
	{
		/* an unknown option one byte too long */
		static const uint8_t opt[8] = {1, 1, 1, 99, 6, 0, 0, 0};
		ASSERT_EQ_I64(parse_opts(opt, 8, &out), -FTCP_WIRE_OPTIONS);
	}
	{
		/* a SACK option of 255 bytes */
		static const uint8_t opt[12] = {1, 1, 5, 255, 0, 0, 0, 1, 0, 0, 0, 2};
		ASSERT_EQ_I64(parse_opts(opt, 12, &out), -FTCP_WIRE_OPTIONS);
	}
	{
		/* but ending exactly at the header's end is fine */
		static const uint8_t opt[4] = {2, 4, 0x05, 0xb4};
		ASSERT_EQ_I64(parse_opts(opt, 4, &out), 24);
		CU_ASSERT(out.opt.has_mss);
		ASSERT_EQ_U64(out.opt.mss, 1460);
	}
}

static void test_wire_tcp_kind_without_length_byte_is_malformed(void)
{
	static const uint8_t kinds[] = {2, 3, 4, 5, 8, 99};
	struct ftcp_tcp_repr out;
	uint32_t i;

	for (i = 0; i < FTCP_ARRAY_SIZE(kinds); i++) {
		uint8_t opt[4] = {1, 1, 1, kinds[i]};
		ASSERT_EQ_I64(parse_opts(opt, 4, &out), -FTCP_WIRE_OPTIONS);
	}
	{
		/* NOP and EOL need no length byte */
		static const uint8_t nop[4] = {1, 1, 1, 1}, eol[4] = {1, 1, 1, 0};
		ASSERT_EQ_I64(parse_opts(nop, 4, &out), 24);
		ASSERT_EQ_I64(parse_opts(eol, 4, &out), 24);
	}
}

static void test_wire_tcp_eol_stops_parsing(void)
{
	/* MSS, EOL, then garbage that would be malformed (length 0) and an
	 * otherwise valid WS that must not be seen */
	static const uint8_t opt[12] = {2, 4, 0x02, 0x18, 0, 2, 0, 0xff, 3, 3, 9, 1};
	struct ftcp_tcp_repr out;

	ASSERT_EQ_I64(parse_opts(opt, 12, &out), 32);
	CU_ASSERT(out.opt.has_mss);
	ASSERT_EQ_U64(out.opt.mss, 536);
	CU_ASSERT(!out.opt.has_wscale);
	{
		static const uint8_t first[8] = {0, 3, 3, 9, 2, 0, 0, 0};
		ASSERT_EQ_I64(parse_opts(first, 8, &out), 28);
		CU_ASSERT(!out.opt.has_wscale && !out.opt.has_mss);
	}
}

static void test_wire_tcp_known_options_with_wrong_length_are_skipped(void)
{
	static const uint8_t opt[40] = {
	        2, 3, 0x05,                /* MSS, length 3 */
	        3, 4, 7, 7,                /* WS, length 4 */
	        4, 3, 0,                   /* SACK-permitted, length 3 */
	        8, 8, 1, 2, 3, 4, 5, 6,    /* TS, length 8 */
	        5, 9, 0, 0, 0, 1, 0, 0, 2, /* SACK, length 9 (not 2 + 8n) */
	        5, 2,                      /* SACK, length 2 (no block) */
	        3, 3, 15,                  /* a good WS after all of them */
	        1, 1, 1, 1, 1, 1};
	struct ftcp_tcp_repr out;

	ASSERT_EQ_I64(parse_opts(opt, 40, &out), 60);
	CU_ASSERT(!out.opt.has_mss);
	CU_ASSERT(!out.opt.sack_ok);
	CU_ASSERT(!out.opt.has_ts);
	ASSERT_EQ_U64(out.opt.n_sack, 0);
	CU_ASSERT(out.opt.has_wscale);
	ASSERT_EQ_U64(out.opt.wscale, FTCP_TCP_MAX_WSCALE); /* 15 clamped */
}

static void test_wire_tcp_wscale_clamped_to_14(void)
{
	static const uint8_t shifts[] = {0, 1, 13, 14, 15, 16, 200, 255};
	struct ftcp_tcp_repr out;
	uint32_t i;

	for (i = 0; i < FTCP_ARRAY_SIZE(shifts); i++) {
		uint8_t opt[4] = {1, 3, 3, shifts[i]};
		ASSERT_EQ_I64(parse_opts(opt, 4, &out), 24);
		CU_ASSERT(out.opt.has_wscale);
		ASSERT_EQ_U64(out.opt.wscale, shifts[i] > 14 ? 14 : shifts[i]);
	}
}

static void test_wire_tcp_sack_option_parsing(void)
{
	/* two SACK options in one header: blocks accumulate up to 4 */
	static const uint8_t opt[40] = {1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
	                                1, 1, 5, 18, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8};
	static const uint8_t big[36] = {1, 1, 5, 34, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10};
	struct ftcp_tcp_repr out;
	uint32_t k;

	ASSERT_EQ_I64(parse_opts(opt, 40, &out), 60);
	ASSERT_EQ_U64(out.opt.n_sack, 4);
	for (k = 0; k < 4; k++) {
		ASSERT_EQ_U64(out.opt.sack[k].start, 2 * k + 1);
		ASSERT_EQ_U64(out.opt.sack[k].end, 2 * k + 2);
	}
	ASSERT_EQ_I64(parse_opts(big, 36, &out), 56);
	ASSERT_EQ_U64(out.opt.n_sack, 4);
	ASSERT_EQ_U64(out.opt.sack[0].start, 0xfffffff0u); /* blocks may wrap */
	ASSERT_EQ_U64(out.opt.sack[0].end, 0x10);
}

void register_wire_tcp_tests(void)
{
	FTCP_SUITE("wire_tcp",
	           FTCP_CASE(test_wire_tcp_every_option_combination_round_trips),
	           FTCP_CASE(test_wire_tcp_sack_blocks_beyond_40_bytes_are_dropped),
	           FTCP_CASE(test_wire_tcp_syn_options_exact_layout),
	           FTCP_CASE(test_wire_tcp_header_fields_round_trip),
	           FTCP_CASE(test_wire_tcp_write_matches_emit),
	           FTCP_CASE(test_wire_tcp_full_checksum_with_separate_payload),
	           FTCP_CASE(test_wire_tcp_pseudo_checksum_completed_by_device),
	           FTCP_CASE(test_wire_tcp_bad_checksum_rejected_only_when_verifying),
	           FTCP_CASE(test_wire_tcp_every_short_length_is_short),
	           FTCP_CASE(test_wire_tcp_data_offset_below_5_is_hdr_len),
	           FTCP_CASE(test_wire_tcp_data_offset_past_buffer_is_hdr_len),
	           FTCP_CASE(test_wire_tcp_option_length_0_or_1_is_malformed),
	           FTCP_CASE(test_wire_tcp_option_running_past_header_is_malformed),
	           FTCP_CASE(test_wire_tcp_kind_without_length_byte_is_malformed),
	           FTCP_CASE(test_wire_tcp_eol_stops_parsing),
	           FTCP_CASE(test_wire_tcp_known_options_with_wrong_length_are_skipped),
	           FTCP_CASE(test_wire_tcp_wscale_clamped_to_14),
	           FTCP_CASE(test_wire_tcp_sack_option_parsing));
}
