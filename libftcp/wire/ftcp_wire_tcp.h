/*
 * ftcp_wire_tcp.h — the TCP header and its options (RFC 9293 3.1; MSS
 * RFC 9293 3.7.1; window scale and timestamps RFC 7323; SACK RFC 2018).
 *
 * Parsing checks the data offset against the buffer and walks the options
 * with every length checked before use: a length under 2 or running past
 * the header is malformed and rejects the segment; a known option with an
 * unexpected length is skipped, as Linux does. Emission writes the options
 * in the order Linux uses, padded with NOPs to 32-bit alignment.
 */
#ifndef FTCP_WIRE_TCP_H
#define FTCP_WIRE_TCP_H

#include "ftcp_wire.h"

#define FTCP_TCP_HLEN 20
#define FTCP_TCP_MAX_HLEN 60
#define FTCP_TCP_MAX_OPT_LEN 40
#define FTCP_TCP_MAX_SACK 4
#define FTCP_TCP_MAX_WSCALE 14 /* RFC 7323 2.3 */

enum ftcp_tcp_flags {
	FTCP_TCP_FIN = 0x01,
	FTCP_TCP_SYN = 0x02,
	FTCP_TCP_RST = 0x04,
	FTCP_TCP_PSH = 0x08,
	FTCP_TCP_ACK = 0x10,
	FTCP_TCP_URG = 0x20,
	FTCP_TCP_ECE = 0x40,
	FTCP_TCP_CWR = 0x80,
};

struct ftcp_tcp_sack_block {
	uint32_t start, end; /* [start, end) in sequence space */
};

struct ftcp_tcp_opts {
	bool has_mss, has_wscale, sack_ok, has_ts;
	uint16_t mss;
	uint8_t wscale;      /* clamped to FTCP_TCP_MAX_WSCALE on parse */
	uint32_t ts_val, ts_ecr;
	uint8_t n_sack;
	struct ftcp_tcp_sack_block sack[FTCP_TCP_MAX_SACK];
};

struct ftcp_tcp_repr {
	uint16_t src_port, dst_port;
	uint32_t seq, ack;
	uint8_t flags;
	uint8_t hdr_len;       /* bytes, options included */
	uint16_t window;       /* as on the wire (not scaled) */
	uint16_t urg_ptr;
	struct ftcp_tcp_opts opt;
	const uint8_t *payload;
	uint32_t payload_len;
};

/* Parse a segment of len bytes (the IP payload). With verify_cksum the
 * checksum over the pseudo-header of src/dst is checked. Returns hdr_len
 * or -FTCP_WIRE_SHORT / _HDR_LEN / _CKSUM / _OPTIONS. */
int ftcp_tcp_parse(const uint8_t *buf, uint32_t len, uint32_t src, uint32_t dst,
                   bool verify_cksum, struct ftcp_tcp_repr *r);

/* Bytes the options of o take on the wire (a multiple of 4, <= 40). SACK
 * blocks beyond what fits are not counted (and not emitted). */
uint32_t ftcp_tcp_opts_len(const struct ftcp_tcp_opts *o);

/* Write the header and options; returns the header length (r->hdr_len is
 * ignored). The checksum field is left 0: see ftcp_tcp_set_cksum. */
uint32_t ftcp_tcp_emit(const struct ftcp_tcp_repr *r, uint8_t *buf);

/* Bytes of the timestamp option as emitted without SACK_PERM: NOP, NOP,
 * TS (RFC 7323 Appendix A's layout). */
#define FTCP_TCP_TS_OPT_LEN 12

/* The header of a segment whose only option is the timestamp (ts), or
 * which has none: the bytes ftcp_tcp_emit writes for such a repr, without
 * the repr (the per-segment path of a connection). Checksum 0, urgent
 * pointer 0. Returns the header length. */
static inline uint32_t ftcp_tcp_write(uint8_t *buf, uint16_t src_port, uint16_t dst_port,
                                      uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
                                      bool ts, uint32_t ts_val, uint32_t ts_ecr)
{
	uint32_t hlen = FTCP_TCP_HLEN + (ts ? FTCP_TCP_TS_OPT_LEN : 0);

	ftcp_put_be16(buf, src_port);
	ftcp_put_be16(buf + 2, dst_port);
	ftcp_put_be32(buf + 4, seq);
	ftcp_put_be32(buf + 8, ack);
	buf[12] = (uint8_t)((hlen / 4) << 4);
	buf[13] = flags;
	ftcp_put_be16(buf + 14, window);
	ftcp_put_be16(buf + 16, 0);
	ftcp_put_be16(buf + 18, 0);
	if (ts) {
		buf[20] = 1; /* NOP */
		buf[21] = 1;
		buf[22] = 8; /* TS */
		buf[23] = 10;
		ftcp_put_be32(buf + 24, ts_val);
		ftcp_put_be32(buf + 28, ts_ecr);
	}
	return hlen;
}

/* Fill the checksum of the header at hdr (hdr_len bytes) followed by a
 * payload that may live elsewhere. With full == false only the
 * pseudo-header sum is stored, for a device to complete. */
void ftcp_tcp_set_cksum(uint8_t *hdr, uint32_t hdr_len, const uint8_t *payload,
                        uint32_t payload_len, uint32_t src, uint32_t dst, bool full);
/* The same with the payload in two pieces (any lengths). */
void ftcp_tcp_set_cksum2(uint8_t *hdr, uint32_t hdr_len, const uint8_t *p1, uint32_t l1,
                         const uint8_t *p2, uint32_t l2, uint32_t src, uint32_t dst, bool full);

#endif
