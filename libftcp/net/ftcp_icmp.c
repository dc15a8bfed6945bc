/*
 * ftcp_icmp.c — ICMP (RFC 792, host rules of RFC 1122 3.2.2): answers echo
 * requests, reports echo replies to the application, sends
 * destination-unreachable errors under a rate limit, and passes received
 * unreachables on to the transport that sent the quoted datagram.
 */
#include "stack/ftcp_stack_internal.h"
#include "base/ftcp_cksum.h"

/* RFC 1812 4.3.2.3 (and Linux): an error quotes as much of the original as
 * fits in a 576-byte datagram. */
#define ICMP_ERROR_MAX_IP 576u

static void echo_reply(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                       const struct ftcp_icmp_repr *req)
{
	struct ftcp_ip_tx tx;
	struct ftcp_icmp_repr rep;

	if (ftcp_ip_begin(s, ip->src, FTCP_IP_PROTO_ICMP, FTCP_ICMP_HLEN + req->data_len, &tx) < 0)
		return;
	rep.type = FTCP_ICMP_ECHO_REPLY;
	rep.code = 0;
	rep.ident = req->ident;
	rep.seq = req->seq;
	rep.data = req->data;
	rep.data_len = req->data_len;
	ftcp_icmp_emit(&rep, tx.l4);
	ftcp_ip_finish(s, &tx, 0);
	s->ctr.icmp_tx++;
	s->ctr.icmp_echo_requests++;
}

/* An unreachable quoting one of our UDP datagrams: tell its socket. */
static void unreach_input(struct ftcp_stack *s, const struct ftcp_icmp_repr *m)
{
	struct ftcp_ipv4_repr inner;
	int hlen, err;

	s->ctr.icmp_unreach_rx++;
	hlen = ftcp_ipv4_parse(m->data, m->data_len, false, &inner);
	if (hlen < 0) {
		/* The quote may be cut short: accept a header plus 8 bytes
		 * even when its total length says more (RFC 792). */
		if (m->data_len < FTCP_IPV4_HLEN + 8u || (m->data[0] >> 4) != 4)
			return;
		hlen = (m->data[0] & 0x0f) * 4;
		if (hlen < FTCP_IPV4_HLEN || (uint32_t)hlen + 8 > m->data_len)
			return;
		inner.src = ftcp_get_be32(m->data + 12);
		inner.dst = ftcp_get_be32(m->data + 16);
		inner.proto = m->data[9];
	}
	if (inner.src != s->ip || m->data_len < (uint32_t)hlen + 8)
		return;
	switch (m->code) {
	case FTCP_ICMP_UNREACH_PORT:
	case FTCP_ICMP_UNREACH_PROTO:
		err = -FTCP_ECONNREFUSED;
		break;
	case FTCP_ICMP_UNREACH_NET:
		err = -FTCP_ENETUNREACH;
		break;
	case FTCP_ICMP_UNREACH_FRAG_NEEDED:
		err = -FTCP_EMSGSIZE;
		break;
	default:
		err = -FTCP_EHOSTUNREACH;
		break;
	}
	if (inner.proto == FTCP_IP_PROTO_UDP)
		ftcp_udp_icmp_error(s, inner.src, ftcp_get_be16(m->data + hlen), inner.dst,
		                    ftcp_get_be16(m->data + hlen + 2), err);
}

void ftcp_icmp_input(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                     const uint8_t *pkt, uint32_t len, uint32_t rx_flags)
{
	struct ftcp_icmp_repr m;
	int rc;

	FTCP_UNUSED(rx_flags); /* devices do not verify ICMP checksums */
	s->ctr.icmp_rx++;
	rc = ftcp_icmp_parse(pkt, len, true, &m);
	if (rc < 0) {
		if (rc == -FTCP_WIRE_CKSUM)
			s->ctr.drop_icmp_cksum++;
		else
			s->ctr.drop_icmp_short++;
		return;
	}
	switch (m.type) {
	case FTCP_ICMP_ECHO_REQUEST:
		/* RFC 1122 3.2.2.6 lets a host ignore broadcast echoes: we do,
		 * so we never help a smurf attack. */
		if (ip->dst == s->ip && m.code == 0)
			echo_reply(s, ip, &m);
		else
			s->ctr.drop_icmp_type++;
		break;
	case FTCP_ICMP_ECHO_REPLY:
		s->ctr.icmp_echo_replies++;
		if (s->echo_cb)
			s->echo_cb(s, ip->src, m.ident, m.seq, m.data, m.data_len, s->echo_user);
		break;
	case FTCP_ICMP_DEST_UNREACH:
		unreach_input(s, &m);
		break;
	default:
		s->ctr.drop_icmp_type++;
		break;
	}
}

/* Token bucket in thousandths of a message, refilled at icmp_rate/s. */
static bool ratelimit_ok(struct ftcp_stack *s)
{
	uint64_t cap = (uint64_t)s->cfg.icmp_burst * 1000;
	uint64_t elapsed = s->now - s->icmp_last_us;
	uint64_t add = elapsed * s->cfg.icmp_rate / 1000;

	/* Advance the clock only by the time turned into whole millitokens:
	 * the remainder carries over, or frequent calls (a flood) would round
	 * every refill down to nothing. */
	s->icmp_tokens += add;
	if (s->icmp_tokens >= cap || !s->cfg.icmp_rate) {
		s->icmp_tokens = FTCP_MIN(s->icmp_tokens, cap);
		s->icmp_last_us = s->now;
	} else {
		s->icmp_last_us += add * 1000 / s->cfg.icmp_rate;
	}
	if (s->icmp_tokens < 1000) {
		s->ctr.icmp_errors_ratelimited++;
		return false;
	}
	s->icmp_tokens -= 1000;
	return true;
}

void ftcp_icmp_send_unreach(struct ftcp_stack *s, uint8_t code, const uint8_t *orig,
                            uint32_t orig_len)
{
	struct ftcp_ip_tx tx;
	struct ftcp_icmp_repr m;
	uint32_t src = ftcp_get_be32(orig + 12), dst = ftcp_get_be32(orig + 16);
	uint32_t quote = FTCP_MIN(orig_len, ICMP_ERROR_MAX_IP - FTCP_IPV4_HLEN - FTCP_ICMP_HLEN);

	/* Never about a broadcast/multicast, a packet from "nobody", or an
	 * ICMP error (RFC 1122 3.2.2). The callers only pass unicast packets
	 * for us that are not ICMP; check anyway, it is cheap. */
	if (dst != s->ip || src == 0 || orig[9] == FTCP_IP_PROTO_ICMP)
		return;
	if (!ratelimit_ok(s))
		return;
	if (ftcp_ip_begin(s, src, FTCP_IP_PROTO_ICMP, FTCP_ICMP_HLEN + quote, &tx) < 0)
		return;
	m.type = FTCP_ICMP_DEST_UNREACH;
	m.code = code;
	m.rest = 0;
	m.data = orig;
	m.data_len = quote;
	ftcp_icmp_emit(&m, tx.l4);
	ftcp_ip_finish(s, &tx, 0);
	s->ctr.icmp_tx++;
}

void ftcp_set_echo_reply_cb(struct ftcp_stack *s, ftcp_echo_cb cb, void *user)
{
	s->echo_cb = cb;
	s->echo_user = user;
}

int ftcp_ping(struct ftcp_stack *s, uint32_t dst, uint16_t ident, uint16_t seq,
              const void *data, uint32_t len)
{
	struct ftcp_ip_tx tx;
	struct ftcp_icmp_repr m;
	int rc;

	if (len && !data)
		return -FTCP_EINVAL;
	rc = ftcp_ip_begin(s, dst, FTCP_IP_PROTO_ICMP, FTCP_ICMP_HLEN + len, &tx);
	if (rc < 0)
		return rc;
	m.type = FTCP_ICMP_ECHO_REQUEST;
	m.code = 0;
	m.ident = ident;
	m.seq = seq;
	m.data = data;
	m.data_len = len;
	ftcp_icmp_emit(&m, tx.l4);
	ftcp_ip_finish(s, &tx, 0);
	s->ctr.icmp_tx++;
	return 0;
}
