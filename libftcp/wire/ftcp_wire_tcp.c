/* ftcp_wire_tcp.c — TCP header and options (see ftcp_wire_tcp.h). */
#include "ftcp_wire_tcp.h"
#include "base/ftcp_cksum.h"

enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WSCALE = 3,
	OPT_SACK_PERM = 4,
	OPT_SACK = 5,
	OPT_TS = 8,
};

static int parse_options(const uint8_t *p, uint32_t len, struct ftcp_tcp_opts *o)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t kind = p[i], olen;

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -FTCP_WIRE_OPTIONS;
		olen = p[i + 1];
		if (olen < 2 || olen > len - i)
			return -FTCP_WIRE_OPTIONS;
		switch (kind) {
		case OPT_MSS:
			if (olen == 4) {
				o->has_mss = true;
				o->mss = ftcp_get_be16(p + i + 2);
			}
			break;
		case OPT_WSCALE:
			if (olen == 3) {
				o->has_wscale = true;
				o->wscale = FTCP_MIN(p[i + 2], FTCP_TCP_MAX_WSCALE);
			}
			break;
		case OPT_SACK_PERM:
			if (olen == 2)
				o->sack_ok = true;
			break;
		case OPT_TS:
			if (olen == 10) {
				o->has_ts = true;
				o->ts_val = ftcp_get_be32(p + i + 2);
				o->ts_ecr = ftcp_get_be32(p + i + 6);
			}
			break;
		case OPT_SACK:
			if (olen >= 10 && (olen - 2) % 8 == 0) {
				uint32_t n = (olen - 2u) / 8, k;
				for (k = 0; k < n && o->n_sack < FTCP_TCP_MAX_SACK; k++) {
					o->sack[o->n_sack].start = ftcp_get_be32(p + i + 2 + 8 * k);
					o->sack[o->n_sack].end = ftcp_get_be32(p + i + 6 + 8 * k);
					o->n_sack++;
				}
			}
			break;
		default:
			break; /* unknown options are skipped by their length */
		}
		i += olen;
	}
	return 0;
}

int ftcp_tcp_parse(const uint8_t *buf, uint32_t len, uint32_t src, uint32_t dst,
                   bool verify_cksum, struct ftcp_tcp_repr *r)
{
	uint32_t hlen;

	if (len < FTCP_TCP_HLEN)
		return -FTCP_WIRE_SHORT;
	hlen = (uint32_t)(buf[12] >> 4) * 4;
	if (hlen < FTCP_TCP_HLEN)
		return -FTCP_WIRE_HDR_LEN;
	if (hlen > len)
		return -FTCP_WIRE_HDR_LEN;
	if (verify_cksum) {
		uint32_t sum = ftcp_cksum_pseudo(src, dst, FTCP_IP_PROTO_TCP, len);
		if (ftcp_cksum_fold(ftcp_cksum_add(sum, buf, len)) != 0xffff)
			return -FTCP_WIRE_CKSUM;
	}
	r->src_port = ftcp_get_be16(buf);
	r->dst_port = ftcp_get_be16(buf + 2);
	r->seq = ftcp_get_be32(buf + 4);
	r->ack = ftcp_get_be32(buf + 8);
	r->hdr_len = (uint8_t)hlen;
	r->flags = buf[13];
	r->window = ftcp_get_be16(buf + 14);
	r->urg_ptr = ftcp_get_be16(buf + 18);
	ftcp_memset(&r->opt, 0, sizeof(r->opt));
	if (hlen == FTCP_TCP_HLEN + FTCP_TCP_TS_OPT_LEN &&
	    ftcp_get_be32(buf + FTCP_TCP_HLEN) ==
	        ((uint32_t)OPT_NOP << 24 | (uint32_t)OPT_NOP << 16 | OPT_TS << 8 | 10)) {
		/* The layout of nearly every segment once a connection is up
		 * (RFC 7323 Appendix A): what the walk below would find. */
		r->opt.has_ts = true;
		r->opt.ts_val = ftcp_get_be32(buf + FTCP_TCP_HLEN + 4);
		r->opt.ts_ecr = ftcp_get_be32(buf + FTCP_TCP_HLEN + 8);
	} else if (hlen > FTCP_TCP_HLEN &&
	           parse_options(buf + FTCP_TCP_HLEN, hlen - FTCP_TCP_HLEN, &r->opt) < 0) {
		return -FTCP_WIRE_OPTIONS;
	}
	r->payload = buf + hlen;
	r->payload_len = len - hlen;
	return (int)hlen;
}

/* How many SACK blocks fit beside the other options. */
static uint32_t sack_fit(const struct ftcp_tcp_opts *o, uint32_t used)
{
	uint32_t room = FTCP_TCP_MAX_OPT_LEN - used, n = o->n_sack;

	if (!n || room < 4 + 8)
		return 0;
	return FTCP_MIN(n, (room - 4) / 8);
}

static uint32_t base_len(const struct ftcp_tcp_opts *o)
{
	uint32_t n = 0;

	if (o->has_mss)
		n += 4;
	if (o->has_ts)
		n += 12; /* SACK_PERM or NOP NOP, then TS */
	else if (o->sack_ok)
		n += 4; /* NOP NOP SACK_PERM */
	if (o->has_wscale)
		n += 4; /* NOP WS */
	return n;
}

uint32_t ftcp_tcp_opts_len(const struct ftcp_tcp_opts *o)
{
	uint32_t n = base_len(o), k = sack_fit(o, n);
	return k ? n + 4 + 8 * k : n;
}

static uint32_t emit_options(const struct ftcp_tcp_opts *o, uint8_t *p)
{
	uint32_t i = 0, k, n = sack_fit(o, base_len(o));

	if (o->has_mss) {
		p[i++] = OPT_MSS;
		p[i++] = 4;
		ftcp_put_be16(p + i, o->mss);
		i += 2;
	}
	if (o->has_ts) {
		if (o->sack_ok) {
			p[i++] = OPT_SACK_PERM;
			p[i++] = 2;
		} else {
			p[i++] = OPT_NOP;
			p[i++] = OPT_NOP;
		}
		p[i++] = OPT_TS;
		p[i++] = 10;
		ftcp_put_be32(p + i, o->ts_val);
		ftcp_put_be32(p + i + 4, o->ts_ecr);
		i += 8;
	} else if (o->sack_ok) {
		p[i++] = OPT_NOP;
		p[i++] = OPT_NOP;
		p[i++] = OPT_SACK_PERM;
		p[i++] = 2;
	}
	if (o->has_wscale) {
		p[i++] = OPT_NOP;
		p[i++] = OPT_WSCALE;
		p[i++] = 3;
		p[i++] = o->wscale;
	}
	if (n) {
		p[i++] = OPT_NOP;
		p[i++] = OPT_NOP;
		p[i++] = OPT_SACK;
		p[i++] = (uint8_t)(2 + 8 * n);
		for (k = 0; k < n; k++) {
			ftcp_put_be32(p + i, o->sack[k].start);
			ftcp_put_be32(p + i + 4, o->sack[k].end);
			i += 8;
		}
	}
	return i;
}

uint32_t ftcp_tcp_emit(const struct ftcp_tcp_repr *r, uint8_t *buf)
{
	uint32_t hlen = FTCP_TCP_HLEN + emit_options(&r->opt, buf + FTCP_TCP_HLEN);

	ftcp_put_be16(buf, r->src_port);
	ftcp_put_be16(buf + 2, r->dst_port);
	ftcp_put_be32(buf + 4, r->seq);
	ftcp_put_be32(buf + 8, r->ack);
	buf[12] = (uint8_t)((hlen / 4) << 4);
	buf[13] = r->flags;
	ftcp_put_be16(buf + 14, r->window);
	ftcp_put_be16(buf + 16, 0);
	ftcp_put_be16(buf + 18, r->urg_ptr);
	return hlen;
}

void ftcp_tcp_set_cksum2(uint8_t *hdr, uint32_t hdr_len, const uint8_t *p1, uint32_t l1,
                         const uint8_t *p2, uint32_t l2, uint32_t src, uint32_t dst, bool full)
{
	uint32_t sum = ftcp_cksum_pseudo(src, dst, FTCP_IP_PROTO_TCP, hdr_len + l1 + l2), s2;

	ftcp_put_be16(hdr + 16, 0);
	if (!full) {
		ftcp_put_be16(hdr + 16, ftcp_cksum_fold(sum));
		return;
	}
	/* Header lengths are multiples of 4, so the first piece starts on an
	 * even byte; the second starts odd when the first has odd length. */
	sum = ftcp_cksum_add(sum, hdr, hdr_len);
	if (l1)
		sum = ftcp_cksum_add(sum, p1, l1);
	if (l2) {
		s2 = ftcp_cksum_add(0, p2, l2);
		sum += (l1 & 1) ? ftcp_cksum_odd(s2) : s2;
	}
	ftcp_put_be16(hdr + 16, ftcp_cksum_finish(sum));
}

void ftcp_tcp_set_cksum(uint8_t *hdr, uint32_t hdr_len, const uint8_t *payload,
                        uint32_t payload_len, uint32_t src, uint32_t dst, bool full)
{
	ftcp_tcp_set_cksum2(hdr, hdr_len, payload, payload_len, NULL, 0, src, dst, full);
}
