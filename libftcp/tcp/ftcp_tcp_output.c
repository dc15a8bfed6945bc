/*
 * ftcp_tcp_output.c — what a connection sends, and how a segment reaches
 * the device.
 *
 * Zero-copy: a segment's headers are written into a per-frame header slot
 * of the stack; its payload is a reference into the connection's send
 * queue (ftcp_queue_peek_ref), pinned until the device lets go. A segment
 * never spans the end of the ring: it is cut there, as the seed design
 * does. Retransmissions reference the same bytes again.
 *
 * Frames collect in a batch handed to the device when full and at the end
 * of step 3; frames the device cannot take yet stay in the batch, in
 * order, for the next poll.
 *
 * TSO: on a device that segments TCP itself (FTCP_DEV_TX_TSO), new data
 * leaves in frames of up to tso_max_bytes (whole MSS segments, plus a
 * short last one where the send rules allow it); the device copies our
 * headers, options included, onto each segment's payload. Retransmissions
 * and everything sent in loss recovery stay one segment per frame.
 *
 * Segments for connections that do not exist (resets) and stateless
 * SYN-ACKs (SYN cookies) go through the TX fifo instead, like UDP.
 */
#include "stack/ftcp_stack_internal.h"
#include "base/ftcp_cksum.h"
#include "base/ftcp_siphash.h"

static inline struct ftcp_tcb *tcb_of(struct ftcp_stack *s, int32_t idx)
{
	return &ftcp_sock_at(s, idx)->tcb;
}

uint32_t ftcp_tcp_isn(const struct ftcp_stack *s, uint32_t laddr, uint16_t lport,
                      uint32_t raddr, uint16_t rport)
{
	uint8_t in[12];

	/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 us clock. */
	ftcp_put_be32(in, laddr);
	ftcp_put_be32(in + 4, raddr);
	ftcp_put_be16(in + 8, lport);
	ftcp_put_be16(in + 10, rport);
	return (uint32_t)(s->now / 4) + (uint32_t)ftcp_siphash(&s->isn_key, in, sizeof(in));
}

uint32_t ftcp_tcp_ts_offset(const struct ftcp_stack *s, uint32_t laddr, uint32_t raddr)
{
	uint8_t in[9];

	/* One offset per host pair, as Linux: timestamps then grow across
	 * connections between the same two hosts, so a SYN that reuses a
	 * 4-tuple the peer holds in TIME_WAIT passes its timestamp check
	 * (RFC 6191), while the clock is not exposed to other hosts. */
	ftcp_put_be32(in, laddr);
	ftcp_put_be32(in + 4, raddr);
	in[8] = 0x75; /* keeps these apart from the ISN hash inputs */
	return (uint32_t)ftcp_siphash(&s->isn_key, in, sizeof(in));
}

uint32_t ftcp_tcp_ts_now(const struct ftcp_stack *s, const struct ftcp_tcb *t)
{
	/* A 1 ms clock (RFC 7323 5.4 asks for 1 ms to 1 s per tick). */
	return (uint32_t)(s->now / 1000) + t->ts_offset;
}

/* ---- the frame batch ---- */

static void batch_flush(struct ftcp_stack *s)
{
	uint64_t bytes = 0;
	struct ftcp_device *dev = s->dev;
	uint16_t n = s->tcp_nframes, sent, i;

	if (!n)
		return;
	sent = dev->ops->tx_burst(dev, s->tcp_frames, n, s->now);
	/* Summed in a local: stores to the counters would make every
	 * iteration reload the frame array (they may alias, for all the
	 * compiler knows). */
	for (i = 0; i < sent; i++)
		bytes += ftcp_tx_frame_len(&s->tcp_frames[i]);
	s->ctr.eth_tx_frames += sent;
	s->ctr.eth_tx_bytes += bytes;
	if (sent < n) {
		/* Keep the rest, in order, with their headers. */
		s->ctr.tx_device_busy++;
		for (i = sent; i < n; i++) {
			struct ftcp_tx_frame *to = &s->tcp_frames[i - sent];
			uint8_t *hdr = s->tcp_hdrs + (size_t)(i - sent) * FTCP_TCP_HDR_ROOM;
			*to = s->tcp_frames[i];
			ftcp_memmove(hdr, to->hdr, to->hdr_len);
			to->hdr = hdr;
		}
	}
	s->tcp_nframes = (uint16_t)(n - sent);
}

/* A free frame and its header slot, or NULL when the device is full. */
static struct ftcp_tx_frame *batch_frame(struct ftcp_stack *s, uint8_t **hdr)
{
	if (s->tcp_nframes == s->cfg.tx_burst) {
		batch_flush(s);
		if (s->tcp_nframes == s->cfg.tx_burst)
			return NULL;
	}
	*hdr = s->tcp_hdrs + (size_t)s->tcp_nframes * FTCP_TCP_HDR_ROOM;
	return &s->tcp_frames[s->tcp_nframes];
}

/* ---- segments ---- */

/* The next hop's MAC for this connection, starting resolution if needed.
 * false: output must wait (ftcp_tcp_arp_resolved wakes it). */
static bool nexthop_ready(struct ftcp_stack *s, struct ftcp_tcb *t)
{
	struct ftcp_arp_entry *neigh = NULL;
	int rc = ftcp_arp_hint_hit(s, t->nexthop, t->arp_hint, &t->nexthop_mac)
	             ? 0
	             : ftcp_arp_resolve_hint(s, t->nexthop, &t->nexthop_mac, &neigh, &t->arp_hint);

	if (rc == 0) {
		t->tf &= ~FTCP_TF_ARP_WAIT;
		return true;
	}
	t->tf |= FTCP_TF_ARP_WAIT;
	return false;
}

/* Options for a segment of this connection. */
static void segment_options(struct ftcp_stack *s, const struct ftcp_tcb *t, uint8_t flags,
                            struct ftcp_tcp_opts *o)
{
	ftcp_memset(o, 0, sizeof(*o));
	if (flags & FTCP_TCP_SYN) {
		bool synack = flags & FTCP_TCP_ACK;
		o->has_mss = true;
		o->mss = (uint16_t)(s->mtu - FTCP_IPV4_HLEN - FTCP_TCP_HLEN);
		/* A SYN-ACK only echoes what the SYN offered (RFC 7323 1.3,
		 * 2.2; RFC 2018 2). */
		if (s->cfg.tcp_window_scaling && (!synack || (t->tf & FTCP_TF_WS_OK))) {
			o->has_wscale = true;
			o->wscale = t->rcv_wscale;
		}
		if (s->cfg.tcp_sack && (!synack || (t->tf & FTCP_TF_SACK_OK)))
			o->sack_ok = true;
		if (s->cfg.tcp_timestamps && (!synack || (t->tf & FTCP_TF_TS_OK))) {
			o->has_ts = true;
			o->ts_val = ftcp_tcp_ts_now(s, t);
			o->ts_ecr = synack ? t->ts_recent : 0;
		}
		return;
	}
	if (t->tf & FTCP_TF_TS_OK) {
		o->has_ts = true;
		o->ts_val = ftcp_tcp_ts_now(s, t);
		o->ts_ecr = t->ts_recent;
	}
	if ((t->tf & FTCP_TF_SACK_OK) && t->n_ooo && (flags & FTCP_TCP_ACK))
		o->n_sack = (uint8_t)ftcp_tcp_sack_blocks(t, o->sack, FTCP_TCP_MAX_SACK);
}

/* Whether a segment's options are only the timestamp (if agreed): true
 * for every segment of a connection that is up, except while it has SACK
 * blocks to report. segment_options gives exactly that then, and
 * emit_segment writes it without the generic encoder. */
static bool ts_only_options(const struct ftcp_tcb *t, uint8_t flags)
{
	return !(flags & FTCP_TCP_SYN) &&
	       !((t->tf & FTCP_TF_SACK_OK) && t->n_ooo && (flags & FTCP_TCP_ACK));
}

/* The connection's header template (see struct ftcp_tcb), for a TCP
 * header of tcp_hlen bytes: the writers' own bytes, with zero in every
 * field a segment fills in. */
static void build_template(struct ftcp_stack *s, struct ftcp_socket *so, uint32_t tcp_hlen)
{
	struct ftcp_tcb *t = &so->tcb;
	uint32_t laddr = so->laddr ? so->laddr : s->ip;
	uint8_t *p = t->tpl;

	ftcp_memset(p, 0, FTCP_TCP_TPL_LEN);
	ftcp_memcpy(p + 6, s->mac.b, FTCP_ETH_ALEN);
	ftcp_put_be16(p + 12, FTCP_ETHERTYPE_IPV4);
	ftcp_ipv4_write(p + FTCP_ETH_HLEN, 0, 0, 0, FTCP_IPV4_DF, s->cfg.ip_ttl, FTCP_IP_PROTO_TCP,
	                laddr, so->raddr);
	ftcp_tcp_write(p + FTCP_ETH_HLEN + FTCP_IPV4_HLEN, so->lport, so->rport, 0, 0, 0, 0,
	               tcp_hlen > FTCP_TCP_HLEN, 0, 0);
	t->tpl_hlen = (uint8_t)tcp_hlen;
	t->tpl_psum = (uint16_t)ftcp_cksum_pseudo(laddr, so->raddr, FTCP_IP_PROTO_TCP, 0);
}

/* The headers of a timestamp-only segment from the template: its bytes,
 * then every field that differs between segments. */
static inline void write_from_template(uint8_t *hdr, const struct ftcp_tcb *t, uint32_t tcp_hlen,
                                       uint32_t len, uint16_t ip_id, uint32_t seq, uint32_t ack,
                                       uint8_t flags, uint16_t window, uint32_t ts_val)
{
	uint8_t *th = hdr + FTCP_ETH_HLEN + FTCP_IPV4_HLEN;

	/* A fixed-size copy (whatever follows a shorter header is beyond
	 * hdr_len, in the slot's spare room). */
	ftcp_memcpy(hdr, t->tpl, FTCP_TCP_TPL_LEN);
	ftcp_memcpy(hdr, t->nexthop_mac.b, FTCP_ETH_ALEN);
	ftcp_put_be16(hdr + FTCP_ETH_HLEN + 2, (uint16_t)(FTCP_IPV4_HLEN + tcp_hlen + len));
	ftcp_put_be16(hdr + FTCP_ETH_HLEN + 4, ip_id);
	ftcp_put_be32(th + 4, seq);
	ftcp_put_be32(th + 8, ack);
	th[13] = flags;
	ftcp_put_be16(th + 14, window);
	if (tcp_hlen > FTCP_TCP_HLEN) {
		ftcp_put_be32(th + 24, ts_val);
		ftcp_put_be32(th + 28, t->ts_recent);
	}
}

/* The receive window a segment offers. Within one output pass nothing
 * changes it: with tcp_wnd_hold the first segment computes it, the rest
 * reuse it. */
static uint32_t out_window(struct ftcp_stack *s, int32_t idx, const struct ftcp_tcb *t)
{
	uint32_t wnd;

	if (s->tcp_wnd_idx == idx)
		return s->tcp_wnd;
	wnd = ftcp_tcp_rcv_window(t);
	if (s->tcp_wnd_hold) {
		s->tcp_wnd_idx = idx;
		s->tcp_wnd = wnd;
	}
	return wnd;
}

/* Build and queue one segment of the connection; returns payload bytes
 * sent (may be cut at the ring's end) or -1 if nothing could be sent.
 * tso: len may exceed a segment; the device cuts the frame into segments
 * (only when the caller checked the device can). */
static int32_t emit_segment(struct ftcp_stack *s, int32_t idx, uint32_t seq, uint32_t len,
                            uint8_t flags, bool tso)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);
	struct ftcp_tcb *t = &so->tcb;
	struct ftcp_tx_frame *f;
	struct ftcp_tcp_repr r;
	const uint8_t *payload = NULL, *payload2 = NULL;
	uint32_t len1 = 0, len2 = 0, opt_len;
	uint8_t *hdr, *th;
	uint32_t tcp_hlen, wnd, laddr = so->laddr ? so->laddr : s->ip;
	uint32_t segsz = 0, nsegs = 1, psum;
	uint32_t caps = s->dev->caps;
	bool offload = caps & FTCP_DEV_TX_TCP_CKSUM;
	bool ip_offload = caps & FTCP_DEV_TX_IPV4_CKSUM;
	bool simple = ts_only_options(t, flags), ts = t->tf & FTCP_TF_TS_OK;
	uint16_t window;

	if (!nexthop_ready(s, t))
		return -1;
	f = batch_frame(s, &hdr);
	if (!f)
		return -1;
	if (simple) {
		opt_len = ts ? FTCP_TCP_TS_OPT_LEN : 0;
	} else {
		ftcp_memset(&r, 0, sizeof(r));
		segment_options(s, t, flags, &r.opt);
		opt_len = ftcp_tcp_opts_len(&r.opt);
	}
	if (len) {
		/* SACK blocks take room the MSS did not count: the packet
		 * must still fit the MTU. */
		uint32_t room = s->mtu - FTCP_IPV4_HLEN - FTCP_TCP_HLEN - opt_len;
		uint32_t off = seq - t->tx_seq;
		/* Each segment the device cuts carries our options too, so it
		 * gets the payload a segment of ours would. */
		segsz = FTCP_MIN(room, (uint32_t)t->mss);
		if (tso && len > segsz)
			len = FTCP_MIN(len, (uint32_t)FTCP_TSO_MAX_BYTES);
		else
			len = FTCP_MIN(len, room);
		/* Up to two pieces: to the end of the ring, then from its start. */
		len1 = FTCP_MIN(len, ftcp_queue_peek_ref(&t->txq, off, &payload));
		if (len1 < len)
			len2 = FTCP_MIN(len - len1, ftcp_queue_peek_ref(&t->txq, off + len1, &payload2));
		len = len1 + len2;
		if (!len)
			return -1;
		if (seq + len != t->fin_seq)
			flags &= (uint8_t)~FTCP_TCP_FIN; /* cut short: the FIN waits */
	}
	tso = tso && len > segsz;
	if (tso)
		nsegs = (len + segsz - 1) / segsz;

	wnd = out_window(s, idx, t);
	/* The window in a SYN is never scaled (RFC 7323 2.2). */
	window = (flags & FTCP_TCP_SYN) ? (uint16_t)FTCP_MIN(wnd, 0xffffu)
	                                : (uint16_t)(wnd >> t->rcv_wscale);
	th = hdr + FTCP_ETH_HLEN + FTCP_IPV4_HLEN;
	if (simple) {
		tcp_hlen = FTCP_TCP_HLEN + opt_len;
		if (t->tpl_hlen != tcp_hlen)
			build_template(s, so, tcp_hlen);
		write_from_template(hdr, t, tcp_hlen, len, s->ip_id, seq,
		                    (flags & FTCP_TCP_ACK) ? t->rcv_nxt : 0, flags, window,
		                    ts ? ftcp_tcp_ts_now(s, t) : 0);
		psum = t->tpl_psum;
	} else {
		r.src_port = so->lport;
		r.dst_port = so->rport;
		r.seq = seq;
		r.flags = flags;
		if (flags & FTCP_TCP_ACK)
			r.ack = t->rcv_nxt;
		r.window = window;
		tcp_hlen = ftcp_tcp_emit(&r, th);
		ftcp_memcpy(hdr, t->nexthop_mac.b, FTCP_ETH_ALEN);
		ftcp_memcpy(hdr + 6, s->mac.b, FTCP_ETH_ALEN);
		ftcp_put_be16(hdr + 12, FTCP_ETHERTYPE_IPV4);
		ftcp_ipv4_write(hdr + FTCP_ETH_HLEN, 0, (uint16_t)(FTCP_IPV4_HLEN + tcp_hlen + len),
		                s->ip_id, FTCP_IPV4_DF, s->cfg.ip_ttl, FTCP_IP_PROTO_TCP, laddr,
		                so->raddr);
		psum = ftcp_cksum_pseudo(laddr, so->raddr, FTCP_IP_PROTO_TCP, 0);
	}
	if (!ip_offload)
		ftcp_put_be16(hdr + FTCP_ETH_HLEN + 10,
		              ftcp_cksum_finish(ftcp_cksum_add(0, hdr + FTCP_ETH_HLEN, FTCP_IPV4_HLEN)));
	s->ip_id = (uint16_t)(s->ip_id + nsegs); /* the device numbers the segments on */
	/* psum is folded and non-zero (the addresses are), so adding the
	 * length and folding gives the same value as summing it all at once. */
	if (tso)
		/* The device adds each segment's own length: the seed leaves
		 * it out (DPDK's RTE_MBUF_F_TX_TCP_SEG contract). */
		ftcp_put_be16(th + 16, (uint16_t)psum);
	else if (offload)
		/* The device sums from the pseudo-header sum (length included). */
		ftcp_put_be16(th + 16, ftcp_cksum_fold(psum + tcp_hlen + len));
	else
		ftcp_tcp_set_cksum2(th, tcp_hlen, payload, len1, payload2, len2, laddr, so->raddr, true);

	f->hdr = hdr;
	f->hdr_len = FTCP_ETH_HLEN + FTCP_IPV4_HLEN + tcp_hlen;
	f->payload = payload;
	f->payload_len = len1;
	f->payload2 = payload2;
	f->payload2_len = len2;
	f->flags = (ip_offload ? FTCP_TX_IP_CKSUM : 0) | (offload ? FTCP_TX_TCP_CKSUM : 0) |
	           (tso ? FTCP_TX_TSO : 0);
	f->l2_len = FTCP_ETH_HLEN;
	f->l3_len = FTCP_IPV4_HLEN;
	f->l4_len = (uint8_t)tcp_hlen;
	f->tso_segsz = tso ? (uint16_t)segsz : 0;
	f->pin = NULL;
	if (len) {
		f->pin = &t->pins.pin[t->pins.epoch];
		f->pin->refs++;
	}
	s->tcp_nframes++;

	/* Counted as the segments on the wire. */
	s->ctr.ipv4_tx += nsegs;
	s->ctr.tcp_tx_segs += nsegs;
	t->segs_out += nsegs;
	if (tso)
		s->ctr.tcp_tso_frames++;
	if (flags & FTCP_TCP_RST)
		s->ctr.tcp_tx_rst++;
	if (flags & FTCP_TCP_ACK) {
		t->last_ack_sent = t->rcv_nxt;
		t->tf &= ~(FTCP_TF_ACK_NOW | FTCP_TF_DELACK);
		if (ftcp_timer_armed(&t->delack_timer))
			ftcp_timer_cancel(s, &t->delack_timer);
	}
	wnd = (flags & FTCP_TCP_SYN) ? window : (uint32_t)window << t->rcv_wscale;
	if (ftcp_seq_gt(t->rcv_nxt + wnd, t->rcv_adv))
		t->rcv_adv = t->rcv_nxt + wnd;
	return (int32_t)len;
}

int32_t ftcp_tcp_send_segment(struct ftcp_stack *s, int32_t idx, uint32_t seq, uint32_t len,
                              uint8_t flags)
{
	return emit_segment(s, idx, seq, len, flags, false);
}

void ftcp_tcp_send_ack(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	/* After a timeout snd_nxt goes back to resend old data; an ACK must
	 * still carry the next new sequence number, or it falls below what
	 * the peer has received and is dropped as out of window (BSD's
	 * tcp_output does the same). */
	(void)emit_segment(s, idx, t->snd_max, 0, FTCP_TCP_ACK, false);
}

void ftcp_tcp_send_rst(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	(void)emit_segment(s, idx, t->snd_nxt, 0, FTCP_TCP_RST | FTCP_TCP_ACK, false);
}

/* Send a segment with no connection behind it through the TX fifo. */
static void send_stateless(struct ftcp_stack *s, uint32_t dst, const struct ftcp_tcp_repr *r)
{
	struct ftcp_ip_tx tx;
	uint32_t hlen = FTCP_TCP_HLEN + ftcp_tcp_opts_len(&r->opt);
	bool offload = ftcp_ip_l4_cksum_offload(s, FTCP_IP_PROTO_TCP);

	if (ftcp_ip_begin(s, dst, FTCP_IP_PROTO_TCP, hlen, &tx) < 0)
		return;
	ftcp_tcp_emit(r, tx.l4);
	ftcp_tcp_set_cksum(tx.l4, hlen, NULL, 0, s->ip, dst, !offload);
	ftcp_ip_finish(s, &tx, offload ? FTCP_TX_TCP_CKSUM : 0);
	s->ctr.tcp_tx_segs++;
	if (r->flags & FTCP_TCP_RST)
		s->ctr.tcp_tx_rst++;
}

void ftcp_tcp_send_rst_reply(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                             const struct ftcp_tcp_repr *seg)
{
	struct ftcp_tcp_repr r;

	/* Never answer a reset, nor anything not sent to us alone. */
	if (seg->flags & FTCP_TCP_RST || ip->dst != s->ip)
		return;
	ftcp_memset(&r, 0, sizeof(r));
	r.src_port = seg->dst_port;
	r.dst_port = seg->src_port;
	/* RFC 9293 3.10.7.1: <SEQ=SEG.ACK><CTL=RST> if the segment had an ACK,
	 * else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	if (seg->flags & FTCP_TCP_ACK) {
		r.seq = seg->ack;
		r.flags = FTCP_TCP_RST;
	} else {
		r.ack = seg->seq + seg->payload_len + !!(seg->flags & FTCP_TCP_SYN) +
		        !!(seg->flags & FTCP_TCP_FIN);
		r.flags = FTCP_TCP_RST | FTCP_TCP_ACK;
	}
	send_stateless(s, ip->src, &r);
}

void ftcp_tcp_send_synack_cookie(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                                 const struct ftcp_tcp_repr *seg, uint32_t isn,
                                 uint16_t mss, uint32_t tsval)
{
	struct ftcp_tcp_repr r;

	ftcp_memset(&r, 0, sizeof(r));
	r.src_port = seg->dst_port;
	r.dst_port = seg->src_port;
	r.seq = isn;
	r.ack = seg->seq + 1;
	r.flags = FTCP_TCP_SYN | FTCP_TCP_ACK;
	/* No more than a connection's receive buffer holds (cookie_ack). */
	r.window = (uint16_t)FTCP_MIN(s->cfg.rx_buffer_size, 0xffffu);
	r.opt.has_mss = true;
	r.opt.mss = mss;
	if (seg->opt.has_ts && s->cfg.tcp_timestamps) {
		/* Without state, window scaling and SACK survive only in the
		 * timestamp the peer echoes (see ftcp_tcp_input.c). */
		r.opt.has_ts = true;
		r.opt.ts_val = tsval;
		r.opt.ts_ecr = seg->opt.ts_val;
		if (seg->opt.has_wscale && s->cfg.tcp_window_scaling) {
			r.opt.has_wscale = true;
			r.opt.wscale = s->tcp_cookie_wscale;
		}
		r.opt.sack_ok = seg->opt.sack_ok && s->cfg.tcp_sack;
	}
	send_stateless(s, ip->src, &r);
}

/* ---- what to send ---- */

static uint32_t data_end(const struct ftcp_tcb *t)
{
	return t->tx_seq + ftcp_queue_used(&t->txq);
}

/* The RFC 9293 3.7.4 / 3.8.6.2.1 send decision for a segment of len
 * bytes (len <= mss) out of avail queued, with in_flight bytes
 * unacknowledged before it. */
static bool worth_sending(const struct ftcp_tcb *t, uint32_t len, uint32_t avail, bool fin,
                          uint32_t in_flight)
{
	if (len == t->mss)
		return true;
	if (fin && len == avail)
		return true; /* closing: nothing more will come */
	if (len == avail && ((t->tf & FTCP_TF_NODELAY) || !in_flight))
		return true; /* Nagle: a small segment only with nothing unacknowledged */
	if (t->max_snd_wnd && len >= t->max_snd_wnd / 2)
		return true;
	return false;
}

/* Payload of a data segment sent now: the MSS, less what SACK blocks add
 * to the options (the MSS already leaves out the timestamps); what
 * emit_segment cuts a segment to, and the device a TSO frame. */
static uint32_t seg_payload(struct ftcp_stack *s, const struct ftcp_tcb *t)
{
	struct ftcp_tcp_opts o;

	segment_options(s, t, FTCP_TCP_ACK, &o);
	return FTCP_MIN((uint32_t)t->mss,
	                s->mtu - FTCP_IPV4_HLEN - FTCP_TCP_HLEN - ftcp_tcp_opts_len(&o));
}

/* The most new data one frame may carry: whole segments of unit bytes up
 * to tso_max_bytes on a device that segments, else 0. */
static uint32_t tso_limit(const struct ftcp_stack *s, uint32_t unit)
{
	const uint32_t need = FTCP_DEV_TX_TSO | FTCP_DEV_TX_TCP_CKSUM;
	uint32_t max = FTCP_MIN(s->cfg.tso_max_bytes, (uint32_t)FTCP_TSO_MAX_BYTES);

	if ((s->dev->caps & need) != need || !unit)
		return 0;
	return max / unit * unit;
}

/* Send one segment of new data or a FIN at snd_nxt if the windows and
 * the send rules allow; returns true if something was sent. With tso, new
 * data (never a retransmission) may leave as one frame of several
 * segments, decided as if they were sent one by one. */
static bool send_new(struct ftcp_stack *s, int32_t idx, uint32_t limit, bool tso)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	uint32_t end = data_end(t), avail, len, unit = t->mss, max = t->mss;
	uint32_t flight = t->snd_nxt - t->snd_una;
	bool fin;
	uint8_t flags = FTCP_TCP_ACK;
	int32_t n;

	avail = ftcp_seq_gt(end, t->snd_nxt) ? end - t->snd_nxt : 0;
	/* Only a device that segments makes a frame of several worth
	 * working out (seg_payload builds the options to size them). */
	tso = tso && (s->dev->caps & FTCP_DEV_TX_TSO) && s->cfg.tso_max_bytes &&
	      !ftcp_seq_lt(t->snd_nxt, t->snd_max) && avail > t->mss && limit > t->mss;
	if (tso) {
		unit = seg_payload(s, t);
		max = tso_limit(s, unit);
		tso = max > unit;
		if (!tso)
			unit = max = t->mss; /* no device segmentation: as before */
	}
	len = FTCP_MIN(FTCP_MIN(avail, limit), max);
	fin = (t->tf & FTCP_TF_FIN_QUEUED) && t->snd_nxt + len == t->fin_seq;
	if (tso && len >= unit) {
		/* As if sent a segment at a time: whole segments go; the
		 * short last one only where it would alone, behind the
		 * others in flight (Nagle, SWS). */
		uint32_t tail = len % unit;
		if (tail && !worth_sending(t, tail, avail - (len - tail), fin, flight + len - tail)) {
			len -= tail;
			fin = false; /* it needed the tail */
		}
	} else if (len && !worth_sending(t, len, avail, fin, flight)) {
		return false;
	}
	if (!len && !fin)
		return false;
	if (fin)
		flags |= FTCP_TCP_FIN;
	if (len && len == avail)
		flags |= FTCP_TCP_PSH;
	n = emit_segment(s, idx, t->snd_nxt, len, flags, tso && len > unit);
	if (n < 0) {
		/* The next hop does not answer ARP: the timer keeps trying and
		 * ends the connection if it never does (ftcp_tcp_timer.c). */
		if ((t->tf & FTCP_TF_ARP_WAIT) && !ftcp_timer_armed(&t->rtx_timer))
			ftcp_tcp_rtx_arm(s, t);
		return false;
	}
	if (ftcp_seq_lt(t->snd_nxt, t->snd_max)) {
		t->total_retrans++;
		s->ctr.tcp_retrans_segs++;
	} else if (!(t->tf & FTCP_TF_RTT_TIMING)) {
		t->tf |= FTCP_TF_RTT_TIMING; /* Karn: time only new data */
		t->rtt_seq = t->snd_nxt;
		t->rtt_start_us = s->now;
	}
	fin = fin && (uint32_t)n == len;
	t->snd_nxt += (uint32_t)n + fin;
	t->snd_max = ftcp_seq_max(t->snd_max, t->snd_nxt);
	if (!ftcp_timer_armed(&t->rtx_timer) || (t->tf & FTCP_TF_PERSIST)) {
		t->tf &= ~FTCP_TF_PERSIST;
		ftcp_tcp_rtx_arm(s, t);
	}
	return true;
}

/* send_new's common case, a run at a time: full segments of new data on
 * an established connection whose headers are the template's (timestamps
 * on, no SACK blocks, no FIN queued), checksums offloaded, no TSO. Each
 * segment gets what send_new and emit_segment would give it, in the same
 * order; what is the same for the whole run (next hop, window, timestamp,
 * ACK bookkeeping, counters) is done once. Whatever it leaves (a short
 * segment, the FIN, anything unusual) is send_new's. wnd: the send window
 * of ftcp_tcp_output's loop (peer window, congestion window). */
static void send_bulk(struct ftcp_stack *s, int32_t idx, uint32_t wnd)
{
	const uint32_t need = FTCP_DEV_TX_TCP_CKSUM | FTCP_DEV_TX_IPV4_CKSUM;
	const uint32_t tcp_hlen = FTCP_TCP_HLEN + FTCP_TCP_TS_OPT_LEN;
	struct ftcp_socket *so = ftcp_sock_at(s, idx);
	struct ftcp_tcb *t = &so->tcb;
	uint32_t mss = t->mss, end = data_end(t), n = 0, ack;
	uint32_t caps = s->dev->caps;
	struct ftcp_tx_frame proto;
	uint8_t run_hdr[FTCP_TCP_TPL_LEN], *th;
	uint16_t window;

	if (t->state != FTCP_TCP_ESTABLISHED || t->snd_nxt != t->snd_max ||
	    (t->tf & (FTCP_TF_FIN_QUEUED | FTCP_TF_PERSIST)) || !(t->tf & FTCP_TF_TS_OK) ||
	    ((t->tf & FTCP_TF_SACK_OK) && t->n_ooo) || t->tpl_hlen != tcp_hlen ||
	    (caps & need) != need || ((caps & FTCP_DEV_TX_TSO) && s->cfg.tso_max_bytes) || !mss ||
	    mss > s->mtu - FTCP_IPV4_HLEN - tcp_hlen ||
	    !ftcp_seq_gt(end, t->snd_nxt) || end - t->snd_nxt < mss ||
	    wnd < t->snd_nxt - t->snd_una + mss ||
	    /* The next hop as remembered; resolving is send_new's. */
	    !ftcp_arp_hint_hit(s, t->nexthop, t->arp_hint, &t->nexthop_mac))
		return;
	t->tf &= ~FTCP_TF_ARP_WAIT;
	window = (uint16_t)(out_window(s, idx, t) >> t->rcv_wscale);
	ack = t->rcv_nxt;
	/* The run's headers: everything but the IP id, the sequence number
	 * and PSH is the same for all its segments (same length, so the same
	 * checksum seed too). */
	write_from_template(run_hdr, t, tcp_hlen, mss, 0, 0, ack, FTCP_TCP_ACK, window,
	                    ftcp_tcp_ts_now(s, t));
	th = run_hdr + FTCP_ETH_HLEN + FTCP_IPV4_HLEN;
	ftcp_put_be16(th + 16, ftcp_cksum_fold(t->tpl_psum + tcp_hlen + mss));
	proto.hdr_len = FTCP_ETH_HLEN + FTCP_IPV4_HLEN + tcp_hlen;
	proto.flags = FTCP_TX_IP_CKSUM | FTCP_TX_TCP_CKSUM;
	proto.l2_len = FTCP_ETH_HLEN;
	proto.l3_len = FTCP_IPV4_HLEN;
	proto.l4_len = (uint8_t)tcp_hlen;
	proto.tso_segsz = 0;
	proto.pin = &t->pins.pin[t->pins.epoch];
	for (;;) {
		uint32_t seq = t->snd_nxt, flight = seq - t->snd_una, avail = end - seq;
		uint32_t len1, len2 = 0, off = seq - t->tx_seq;
		const uint8_t *payload, *payload2 = NULL;
		struct ftcp_tx_frame *f;
		uint8_t *hdr;

		if (avail < mss || wnd < flight + mss)
			break;
		f = batch_frame(s, &hdr);
		if (!f)
			break;
		len1 = FTCP_MIN(mss, ftcp_queue_peek_ref(&t->txq, off, &payload));
		if (len1 < mss)
			len2 = FTCP_MIN(mss - len1, ftcp_queue_peek_ref(&t->txq, off + len1, &payload2));
		if (len1 + len2 != mss)
			break; /* cannot happen (avail >= mss); send_new would cut it */
		ftcp_memcpy(hdr, run_hdr, FTCP_TCP_TPL_LEN);
		ftcp_put_be16(hdr + FTCP_ETH_HLEN + 4, s->ip_id);
		s->ip_id++;
		th = hdr + FTCP_ETH_HLEN + FTCP_IPV4_HLEN;
		ftcp_put_be32(th + 4, seq);
		if (avail == mss)
			th[13] = FTCP_TCP_ACK | FTCP_TCP_PSH;
		*f = proto;
		f->hdr = hdr;
		f->payload = payload;
		f->payload_len = len1;
		f->payload2 = payload2;
		f->payload2_len = len2;
		f->pin->refs++;
		s->tcp_nframes++;
		if (!n++) {
			t->last_ack_sent = ack;
			t->tf &= ~(FTCP_TF_ACK_NOW | FTCP_TF_DELACK);
			if (ftcp_timer_armed(&t->delack_timer))
				ftcp_timer_cancel(s, &t->delack_timer);
			if (ftcp_seq_gt(ack + ((uint32_t)window << t->rcv_wscale), t->rcv_adv))
				t->rcv_adv = ack + ((uint32_t)window << t->rcv_wscale);
		}
		/* send_new's bookkeeping after each segment. */
		if (!(t->tf & FTCP_TF_RTT_TIMING)) {
			t->tf |= FTCP_TF_RTT_TIMING;
			t->rtt_seq = seq;
			t->rtt_start_us = s->now;
		}
		t->snd_nxt = t->snd_max = seq + mss;
		if (!ftcp_timer_armed(&t->rtx_timer))
			ftcp_tcp_rtx_arm(s, t);
	}
	s->ctr.ipv4_tx += n;
	s->ctr.tcp_tx_segs += n;
	t->segs_out += n;
}

/* RFC 6675 5, step (C): while the pipe leaves room, send NextSeg(). */
static void sack_recovery_output(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	unsigned guard;

	for (guard = 0; guard < 1024; guard++) {
		uint32_t pipe = ftcp_sack_sb_pipe(&t->sb, t->snd_una, t->snd_max, t->high_rxt, t->mss);
		uint32_t seq, len;
		int32_t n;

		if (pipe + t->mss > t->cc.cwnd)
			break;
		if (ftcp_sack_sb_next_seg(&t->sb, t->snd_una, t->snd_max, t->high_rxt, t->mss, false,
		                          &seq, &len)) {
			/* Rule 1: a lost segment not yet retransmitted. */
		} else if (ftcp_seq_lt(t->snd_nxt, data_end(t)) &&
		           ftcp_seq_lt(t->snd_nxt - t->snd_una, t->snd_wnd)) {
			/* Rule 2: new data, if the receiver's window allows. */
			if (!send_new(s, idx, t->snd_wnd - (t->snd_nxt - t->snd_una), false))
				break;
			continue;
		} else if (!ftcp_sack_sb_next_seg(&t->sb, t->snd_una, t->snd_max, t->high_rxt, t->mss,
		                                  true, &seq, &len)) {
			break; /* rule 4: nothing to send */
		}
		n = emit_segment(s, idx, seq, len,
		                 FTCP_TCP_ACK | ((t->tf & FTCP_TF_FIN_QUEUED) && seq + len == t->fin_seq
		                                     ? FTCP_TCP_FIN
		                                     : 0),
		                 false);
		if (n <= 0)
			break;
		t->high_rxt = seq + (uint32_t)n;
		if (seq == t->snd_una) { /* the first hole: watch it (see ftcp_tcp_input.c) */
			t->rtx_hole = seq;
			t->rtx_mark = t->snd_max;
			t->rtx_watch = true;
		}
		t->total_retrans++;
		s->ctr.tcp_retrans_segs++;
	}
}

void ftcp_tcp_output(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	unsigned guard;

	switch (t->state) {
	case FTCP_TCP_SYN_SENT:
	case FTCP_TCP_SYN_RECEIVED:
		if (t->snd_nxt == t->iss) {
			uint8_t flags = t->state == FTCP_TCP_SYN_SENT ? FTCP_TCP_SYN
			                                              : FTCP_TCP_SYN | FTCP_TCP_ACK;
			if (emit_segment(s, idx, t->iss, 0, flags, false) < 0) {
				/* Not sent (the next hop does not answer ARP, or
				 * the device is full): the retransmission timer
				 * still runs, so the handshake is retried and
				 * times out instead of hanging for ever. */
				if (!ftcp_timer_armed(&t->rtx_timer))
					ftcp_tcp_rtx_arm(s, t);
				return;
			}
			t->snd_nxt = t->iss + 1;
			t->snd_max = ftcp_seq_max(t->snd_max, t->snd_nxt);
			ftcp_tcp_rtx_arm(s, t);
		} else if (t->tf & FTCP_TF_ACK_NOW) {
			ftcp_tcp_send_ack(s, idx);
		}
		return;
	case FTCP_TCP_ESTABLISHED:
	case FTCP_TCP_CLOSE_WAIT:
	case FTCP_TCP_FIN_WAIT_1:
	case FTCP_TCP_CLOSING:
	case FTCP_TCP_LAST_ACK:
		break;
	case FTCP_TCP_FIN_WAIT_2:
	case FTCP_TCP_TIME_WAIT:
		if (t->tf & FTCP_TF_ACK_NOW)
			ftcp_tcp_send_ack(s, idx);
		return;
	default:
		return;
	}

	if ((t->tf & FTCP_TF_RECOVERY) && (t->tf & FTCP_TF_SACK_OK)) {
		sack_recovery_output(s, idx);
	} else {
		/* Limited Transmit (RFC 3042): up to two segments past cwnd
		 * while the first duplicate ACKs come in. */
		uint32_t lt = t->dupacks <= 2 ? (uint32_t)t->dupacks * t->mss : 0;
		s->tcp_wnd_hold = true; /* see out_window */
		send_bulk(s, idx, FTCP_MIN(t->snd_wnd, t->cc.cwnd + lt));
		for (guard = 0; guard < 4096; guard++) {
			uint32_t wnd = FTCP_MIN(t->snd_wnd, t->cc.cwnd + lt);
			uint32_t flight = t->snd_nxt - t->snd_una;
			if (!send_new(s, idx, wnd > flight ? wnd - flight : 0, true))
				break;
		}
		s->tcp_wnd_hold = false;
		s->tcp_wnd_idx = FTCP_NONE;
	}

	/* Data waiting and nothing in flight to bring an ACK: the window is
	 * shut, or too small for silly window avoidance to use. The persist
	 * timer probes until the window opens (RFC 9293 3.8.6.1) or, past
	 * the override timeout, sends what fits (3.8.6.2.1). */
	if (t->snd_nxt == t->snd_una && ftcp_seq_lt(t->snd_nxt, data_end(t)) &&
	    !ftcp_timer_armed(&t->rtx_timer)) {
		t->tf |= FTCP_TF_PERSIST;
		ftcp_tcp_rtx_arm(s, t);
	}
	if (t->tf & FTCP_TF_ACK_NOW)
		ftcp_tcp_send_ack(s, idx);
}

void ftcp_tcp_schedule(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = tcb_of(s, idx);

	if (t->tf & FTCP_TF_ON_OUTPUT)
		return;
	t->tf |= FTCP_TF_ON_OUTPUT;
	t->out_next = FTCP_NONE;
	if (s->tcp_out_tail == FTCP_NONE)
		s->tcp_out_head = idx;
	else
		tcb_of(s, s->tcp_out_tail)->out_next = idx;
	s->tcp_out_tail = idx;
}

/* ---- pin watch ----
 * A device that references send-ring bytes (DPDK external buffers) lets go
 * of them at TX completion, possibly long after the ACK. Connections whose
 * acknowledged bytes are still pinned wait on this list; every step 3
 * retries their reclaim, and a writer that met a full queue hears WRITABLE
 * when the space is back, even if no further ACK comes. */

static void pin_watch(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = tcb_of(s, idx);

	if ((t->tf & FTCP_TF_PIN_WAIT) || !ftcp_tcp_reclaim_pending(t))
		return;
	t->tf |= FTCP_TF_PIN_WAIT;
	t->pin_next = s->tcp_pin_head;
	s->tcp_pin_head = idx;
}

void ftcp_tcp_pin_unwatch(struct ftcp_stack *s, int32_t idx)
{
	int32_t *link = &s->tcp_pin_head;
	struct ftcp_tcb *t = tcb_of(s, idx);

	if (!(t->tf & FTCP_TF_PIN_WAIT))
		return;
	while (*link != FTCP_NONE && *link != idx)
		link = &tcb_of(s, *link)->pin_next;
	if (*link == idx)
		*link = t->pin_next;
	t->pin_next = FTCP_NONE;
	t->tf &= ~FTCP_TF_PIN_WAIT;
}

static void pin_watch_run(struct ftcp_stack *s)
{
	int32_t *link = &s->tcp_pin_head;

	while (*link != FTCP_NONE) {
		int32_t idx = *link;
		struct ftcp_tcb *t = tcb_of(s, idx);

		ftcp_tcp_reclaim(t);
		if (ftcp_tcp_reclaim_pending(t) && t->state != FTCP_TCP_CLOSED) {
			link = &t->pin_next;
			continue;
		}
		*link = t->pin_next;
		t->pin_next = FTCP_NONE;
		t->tf &= ~FTCP_TF_PIN_WAIT;
		ftcp_tcp_shed_buffers(s, idx); /* an orphan in TIME_WAIT: now it can */
		if ((t->tf & FTCP_TF_WANT_WRITE) && ftcp_tcp_writable(t)) {
			t->tf &= ~FTCP_TF_WANT_WRITE;
			ftcp_sock_event(s, idx, FTCP_EV_WRITABLE);
		}
	}
}

int ftcp_tcp_output_all(struct ftcp_stack *s)
{
	int n = 0;

	if (s->tcp_pin_head != FTCP_NONE)
		pin_watch_run(s);
	batch_flush(s); /* frames the device could not take last time go first */
	while (s->tcp_out_head != FTCP_NONE) {
		int32_t idx = s->tcp_out_head;
		struct ftcp_tcb *t = tcb_of(s, idx);

		s->tcp_out_head = t->out_next;
		if (s->tcp_out_head == FTCP_NONE)
			s->tcp_out_tail = FTCP_NONE;
		t->tf &= ~FTCP_TF_ON_OUTPUT;
		if (t->state == FTCP_TCP_CLOSED && (t->tf & FTCP_TF_ORPHAN)) {
			ftcp_tcp_destroy(s, idx); /* freed while it was queued here */
			continue;
		}
		ftcp_tcp_reclaim(t);
		ftcp_tcp_output(s, idx);
		pin_watch(s, idx);
		n++;
	}
	batch_flush(s);
	return n;
}
