/*
 * ftcp_tcp_input.c — segment arrival, RFC 9293 3.10.7.
 *
 * ftcp_ipv4_input -> ftcp_tcp_input: parse and checksum, then
 *   - a connection (exact 4-tuple): by state; SYN_SENT on its own
 *     (3.10.7.3), every other state through the common path (3.10.7.4):
 *     PAWS (RFC 7323 5), acceptability and trimming, RST (RFC 5961 3),
 *     SYN (RFC 5961 4), ACK (RFC 5961 5, RFC 6298, RFC 6582/6675 loss
 *     detection, congestion control), data, FIN;
 *   - else a listener (3.10.7.2): SYN opens a child in SYN_RECEIVED, or
 *     answers with a SYN cookie when the SYN queue is full (RFC 4987); an
 *     ACK may complete a cookie;
 *   - else a reset (3.10.7.1).
 * Input only changes state and raises event bits; output happens in step 3
 * (connections are scheduled), except resets for unknown connections,
 * which go through the TX fifo.
 */
#include "stack/ftcp_stack_internal.h"
#include "base/ftcp_siphash.h"

static inline struct ftcp_tcb *tcb_of(struct ftcp_stack *s, int32_t idx)
{
	return &ftcp_sock_at(s, idx)->tcb;
}

static uint32_t seg_len(const struct ftcp_tcp_repr *seg)
{
	return seg->payload_len + !!(seg->flags & FTCP_TCP_SYN) + !!(seg->flags & FTCP_TCP_FIN);
}

/* RFC 5961 7: challenge ACKs under a per-stack rate limit. */
static void challenge_ack(struct ftcp_stack *s, int32_t idx)
{
	if (s->now - s->chack_window_us >= 1000000) {
		s->chack_window_us = s->now;
		s->chack_count = 0;
	}
	if (s->chack_count >= s->cfg.tcp_challenge_ack_limit) {
		s->ctr.tcp_challenge_acks_limited++;
		return;
	}
	s->chack_count++;
	s->ctr.tcp_challenge_acks++;
	tcb_of(s, idx)->tf |= FTCP_TF_ACK_NOW;
	ftcp_tcp_schedule(s, idx);
}

static void ack_now(struct ftcp_stack *s, int32_t idx)
{
	tcb_of(s, idx)->tf |= FTCP_TF_ACK_NOW;
	ftcp_tcp_schedule(s, idx);
}

/* The ACK answering a segment we cannot use (out of window, failing PAWS,
 * acknowledging what was never sent). Two ends out of step -- one spoofed
 * segment is enough -- would answer each other's ACKs for ever (an ACK
 * storm), so an answer to a bare ACK goes at most once per 500 ms per
 * connection (Linux's tcp_invalid_ratelimit; RFC 5961 7 allows the
 * throttling). Segments with data or FIN (old duplicates: the peer missed
 * our ACK) are answered at once: answers are bare ACKs, so no chain. */
#define OOW_ACK_INTERVAL_US 500000u
static void oow_ack(struct ftcp_stack *s, int32_t idx, const struct ftcp_tcp_repr *seg)
{
	struct ftcp_tcb *t = tcb_of(s, idx);

	if (!seg->payload_len && !(seg->flags & FTCP_TCP_FIN)) {
		if (t->oow_ack_us && s->now - t->oow_ack_us < OOW_ACK_INTERVAL_US)
			return;
		t->oow_ack_us = s->now;
	}
	ack_now(s, idx);
}

/* The send MSS once options are known: the peer's MSS (536 without the
 * option, RFC 9293 3.7.1), our MTU, minus the timestamp option carried on
 * every segment. */
static void set_mss(struct ftcp_stack *s, struct ftcp_tcb *t)
{
	uint32_t mss = FTCP_MIN((uint32_t)t->peer_mss, s->mtu - FTCP_IPV4_HLEN - FTCP_TCP_HLEN);

	/* A peer may announce an MSS below the option's own size: clamp
	 * before subtracting, never wrap. */
	if (t->tf & FTCP_TF_TS_OK)
		mss = mss > 12 ? mss - 12 : 0;
	if (t->mss && t->mss < mss)
		mss = t->mss; /* FTCP_SO_MAXSEG set before the connection */
	t->mss = (uint16_t)FTCP_MAX(mss, 64u);
}

/* Options of a SYN: negotiate what both sides offered. */
static void syn_options(struct ftcp_stack *s, struct ftcp_tcb *t, const struct ftcp_tcp_repr *seg)
{
	const struct ftcp_tcp_opts *o = &seg->opt;

	t->peer_mss = o->has_mss && o->mss ? o->mss : 536;
	if (o->has_wscale && s->cfg.tcp_window_scaling) {
		t->tf |= FTCP_TF_WS_OK;
		t->snd_wscale = o->wscale;
	} else {
		t->tf &= ~FTCP_TF_WS_OK;
		t->snd_wscale = 0;
		t->rcv_wscale = 0; /* RFC 7323 2.2: both or neither */
	}
	if (o->sack_ok && s->cfg.tcp_sack)
		t->tf |= FTCP_TF_SACK_OK;
	else
		t->tf &= ~FTCP_TF_SACK_OK;
	if (o->has_ts && s->cfg.tcp_timestamps) {
		t->tf |= FTCP_TF_TS_OK;
		t->ts_recent = o->ts_val;
		t->ts_recent_us = s->now;
	} else {
		t->tf &= ~FTCP_TF_TS_OK;
	}
	set_mss(s, t);
}

/* The connection is synchronized: start congestion control. */
static void established(struct ftcp_stack *s, int32_t idx, const struct ftcp_tcp_repr *seg)
{
	struct ftcp_tcb *t = tcb_of(s, idx);

	/* A close in SYN_RECEIVED (simultaneous open) queued a FIN: send it. */
	t->state = (t->tf & FTCP_TF_FIN_QUEUED) ? FTCP_TCP_FIN_WAIT_1 : FTCP_TCP_ESTABLISHED;
	if (t->tf & FTCP_TF_FIN_QUEUED)
		ftcp_tcp_schedule(s, idx);
	/* The answer may come while our SYN (SYN-ACK) waits to be resent,
	 * snd_nxt back at iss: what follows starts after the SYN. */
	if (ftcp_seq_lt(t->snd_nxt, t->snd_una))
		t->snd_nxt = t->snd_una;
	t->snd_wnd = (uint32_t)seg->window << t->snd_wscale;
	t->max_snd_wnd = FTCP_MAX(t->max_snd_wnd, t->snd_wnd);
	t->snd_wl1 = seg->seq;
	t->snd_wl2 = seg->ack;
	t->retries = 0;
	t->backoff = 0;
	ftcp_cc_start(&t->cc, t->cc.ops ? t->cc.ops : s->tcp_cc_default, t->mss, s->now);
	ftcp_tcp_keep_arm(s, t);
	s->ctr.tcp_established++;
}

/* ---- listeners ---- */

static const uint16_t cookie_mss[8] = {536, 1200, 1300, 1400, 1440, 1460, 4000, 8960};
#define COOKIE_PERIOD_SHIFT 26 /* ~67 s per counter step */

static uint32_t cookie_hash(const struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                            const struct ftcp_tcp_repr *seg, uint32_t client_isn, uint32_t tick)
{
	uint8_t in[20];

	ftcp_put_be32(in, ip->dst);
	ftcp_put_be32(in + 4, ip->src);
	ftcp_put_be16(in + 8, seg->dst_port);
	ftcp_put_be16(in + 10, seg->src_port);
	ftcp_put_be32(in + 12, client_isn);
	ftcp_put_be32(in + 16, tick);
	return (uint32_t)ftcp_siphash(&s->cookie_key, in, sizeof(in)) & 0xffffff;
}

/* RFC 4987 3.6: ISN = 5-bit time counter | 3-bit MSS index | 24-bit MAC. */
static uint32_t cookie_make(const struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                            const struct ftcp_tcp_repr *seg, uint16_t *mss)
{
	uint32_t tick = (uint32_t)(s->now >> COOKIE_PERIOD_SHIFT), i = 0, k;
	uint16_t want = seg->opt.has_mss && seg->opt.mss ? seg->opt.mss : 536;

	want = (uint16_t)FTCP_MIN((uint32_t)want, s->mtu - FTCP_IPV4_HLEN - FTCP_TCP_HLEN);
	for (k = 0; k < 8; k++)
		if (cookie_mss[k] <= want)
			i = k;
	*mss = cookie_mss[i];
	return (tick & 31) << 27 | i << 24 | cookie_hash(s, ip, seg, seg->seq, tick);
}

/* The MSS index of a valid cookie in ack-1, or -1. */
static int cookie_check(const struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                        const struct ftcp_tcp_repr *seg)
{
	uint32_t cookie = seg->ack - 1, now_tick = (uint32_t)(s->now >> COOKIE_PERIOD_SHIFT);
	uint32_t age = (now_tick - (cookie >> 27)) & 31, tick = now_tick - age;

	if (age > 1) /* at most one period old */
		return -1;
	if (cookie_hash(s, ip, seg, seg->seq - 1, tick) != (cookie & 0xffffff))
		return -1;
	return (int)((cookie >> 24) & 7);
}

/* A connection for a listener: a child socket with both buffers. */
static int32_t new_child(struct ftcp_stack *s, int32_t lidx, const struct ftcp_ipv4_repr *ip,
                         const struct ftcp_tcp_repr *seg)
{
	struct ftcp_socket *l = ftcp_sock_at(s, lidx), *c;
	int32_t idx = ftcp_sock_alloc(s, FTCP_IP_PROTO_TCP, NULL, NULL);
	struct ftcp_tcb *t;

	if (idx < 0) {
		s->ctr.drop_tcp_no_socket++;
		return -1;
	}
	c = ftcp_sock_at(s, idx);
	if (ftcp_tcp_tcb_buffers(s, c) < 0) {
		ftcp_sock_release(s, idx);
		s->ctr.drop_tcp_no_socket++;
		return -1;
	}
	t = &c->tcb;
	c->laddr = ip->dst;
	c->lport = seg->dst_port;
	c->raddr = ip->src;
	c->rport = seg->src_port;
	c->flags |= FTCP_SOCK_BOUND | FTCP_SOCK_CONNECTED;
	ftcp_demux_conn_insert(s, idx);
	t->tf |= l->tcb.tf & (FTCP_TF_NODELAY | FTCP_TF_KEEPALIVE);
	t->keep_idle_s = l->tcb.keep_idle_s;
	t->keep_intvl_s = l->tcb.keep_intvl_s;
	t->keep_cnt = l->tcb.keep_cnt;
	t->linger_s = l->tcb.linger_s;
	t->cc.ops = l->tcb.cc.ops;
	if (l->tcb.mss)
		t->mss = l->tcb.mss;
	/* SO_RCVBUF/SO_SNDBUF set on the listener hold for its connections
	 * (as in Linux), the SYN-ACK's window included. */
	if (l->tcb.rcvbuf)
		t->rcvbuf = FTCP_MIN(l->tcb.rcvbuf, t->rxq.size);
	if (l->tcb.sndbuf)
		t->sndbuf = FTCP_MIN(l->tcb.sndbuf, t->txq.size);
	t->nexthop = ftcp_ip_nexthop(s, ip->src);
	t->ts_offset = ftcp_tcp_ts_offset(s, ip->dst, ip->src);
	t->parent = lidx;
	t->irs = seg->seq;
	t->rcv_nxt = seg->seq + 1;
	t->rcv_adv = t->rcv_nxt;
	t->last_rx_us = s->now;
	return idx;
}

static void accept_enqueue(struct ftcp_stack *s, int32_t lidx, int32_t idx)
{
	struct ftcp_tcb *l = tcb_of(s, lidx), *t = tcb_of(s, idx);

	t->acc_next = FTCP_NONE;
	if (l->acc_tail == FTCP_NONE)
		l->acc_head = idx;
	else
		tcb_of(s, l->acc_tail)->acc_next = idx;
	l->acc_tail = idx;
	l->accept_len++;
	ftcp_sock_event(s, lidx, FTCP_EV_READABLE);
}

/* The final ACK of a SYN cookie handshake. */
static void cookie_ack(struct ftcp_stack *s, int32_t lidx, const struct ftcp_ipv4_repr *ip,
                       const struct ftcp_tcp_repr *seg)
{
	struct ftcp_tcb *l = tcb_of(s, lidx), *t;
	int mi = cookie_check(s, ip, seg);
	int32_t idx;

	if (mi < 0) {
		s->ctr.tcp_syncookies_failed++;
		ftcp_tcp_send_rst_reply(s, ip, seg);
		return;
	}
	if (l->accept_len >= l->backlog) {
		s->ctr.drop_tcp_accept_full++;
		return;
	}
	idx = new_child(s, lidx, ip, seg);
	if (idx < 0)
		return;
	t = tcb_of(s, idx);
	t->irs = seg->seq - 1;
	/* new_child took this ACK for a SYN: the peer's data starts at its
	 * sequence number (the SYN-ACK acknowledged up to there, which the
	 * timestamp rule of RFC 7323 4.3 needs), and the window offered is
	 * the cookie SYN-ACK's. */
	t->rcv_nxt = t->last_ack_sent = seg->seq;
	t->rcv_adv = seg->seq + FTCP_MIN(s->cfg.rx_buffer_size, 0xffffu);
	ftcp_tcp_set_iss(t, seg->ack - 1);
	t->snd_una = t->snd_nxt = t->snd_max = seg->ack; /* the SYN is acknowledged */
	t->peer_mss = cookie_mss[mi];
	t->tf |= FTCP_TF_COOKIE;
	/* Window scale and SACK come back in the timestamp we sent: low bits
	 * 0-3 the peer's scale (15 = none), bit 4 SACK. */
	if (seg->opt.has_ts && s->cfg.tcp_timestamps) {
		uint32_t echo = seg->opt.ts_ecr;
		t->tf |= FTCP_TF_TS_OK;
		t->ts_recent = seg->opt.ts_val;
		t->ts_recent_us = s->now;
		t->ts_offset = (echo & ~0x1fu) - (uint32_t)(s->now / 1000);
		if ((echo & 0xf) != 0xf && s->cfg.tcp_window_scaling) {
			t->tf |= FTCP_TF_WS_OK;
			t->snd_wscale = (uint8_t)FTCP_MIN(echo & 0xf, (uint32_t)FTCP_TCP_MAX_WSCALE);
			t->rcv_wscale = s->tcp_cookie_wscale;
		}
		if ((echo & 0x10) && s->cfg.tcp_sack)
			t->tf |= FTCP_TF_SACK_OK;
	}
	if (!(t->tf & FTCP_TF_WS_OK))
		t->rcv_wscale = 0;
	set_mss(s, t);
	t->parent = FTCP_NONE;
	established(s, idx, seg);
	s->ctr.tcp_syncookies_ok++;
	s->ctr.tcp_passive_opens++;
	accept_enqueue(s, lidx, idx);
}

static void listen_input(struct ftcp_stack *s, int32_t lidx, const struct ftcp_ipv4_repr *ip,
                         const struct ftcp_tcp_repr *seg, const uint32_t *isn_floor)
{
	struct ftcp_tcb *l = tcb_of(s, lidx), *t;
	int32_t idx;

	if (seg->flags & FTCP_TCP_RST)
		return;
	if (seg->flags & FTCP_TCP_ACK) {
		if (s->cfg.tcp_syncookies && !(seg->flags & FTCP_TCP_SYN))
			cookie_ack(s, lidx, ip, seg);
		else
			ftcp_tcp_send_rst_reply(s, ip, seg);
		return;
	}
	if (!(seg->flags & FTCP_TCP_SYN) || ip->dst != s->ip)
		return;
	if (seg->flags & FTCP_TCP_FIN)
		return; /* SYN+FIN: a scan, not a connection (Linux drops it too) */
	if (l->syn_len >= s->cfg.tcp_syn_backlog || l->accept_len >= l->backlog) {
		uint16_t mss;
		uint32_t isn, tsval;
		if (!s->cfg.tcp_syncookies || l->accept_len >= l->backlog) {
			s->ctr.drop_tcp_syn_queue_full++;
			return;
		}
		isn = cookie_make(s, ip, seg, &mss);
		tsval = (((uint32_t)(s->now / 1000) + ftcp_tcp_ts_offset(s, ip->dst, ip->src)) & ~0x1fu) |
		        (seg->opt.has_wscale ? FTCP_MIN(seg->opt.wscale, 14u) : 0xfu) |
		        (seg->opt.sack_ok ? 0x10u : 0);
		ftcp_tcp_send_synack_cookie(s, ip, seg, isn, mss, tsval);
		s->ctr.tcp_syncookies_sent++;
		return;
	}
	idx = new_child(s, lidx, ip, seg);
	if (idx < 0)
		return;
	t = tcb_of(s, idx);
	t->state = FTCP_TCP_SYN_RECEIVED;
	syn_options(s, t, seg);
	ftcp_tcp_set_iss(t, ftcp_tcp_isn(s, ip->dst, seg->dst_port, ip->src, seg->src_port));
	/* Reopened from TIME_WAIT: an ISN above anything the old connection
	 * used (RFC 1122 4.2.2.13 (1); Linux: its SND.NXT + 65535 + 2). */
	if (isn_floor && ftcp_seq_lt(t->iss, *isn_floor))
		ftcp_tcp_set_iss(t, *isn_floor);
	t->snd_wnd = seg->window; /* never scaled in a SYN */
	l->syn_len++;
	s->ctr.tcp_passive_opens++;
	ftcp_tcp_schedule(s, idx); /* sends the SYN-ACK */
}

/* ---- SYN_SENT, RFC 9293 3.10.7.3 ---- */

static void syn_sent_input(struct ftcp_stack *s, int32_t idx, const struct ftcp_ipv4_repr *ip,
                           const struct ftcp_tcp_repr *seg)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	bool ack_ok = false;

	if (seg->flags & FTCP_TCP_ACK) {
		if (ftcp_seq_le(seg->ack, t->iss) || ftcp_seq_gt(seg->ack, t->snd_max)) {
			if (!(seg->flags & FTCP_TCP_RST))
				ftcp_tcp_send_rst_reply(s, ip, seg);
			s->ctr.drop_tcp_bad_ack++;
			return;
		}
		ack_ok = true;
	}
	if (seg->flags & FTCP_TCP_RST) {
		if (ack_ok) { /* RFC 5961 3.2 for SYN_SENT: only with an acceptable ACK */
			s->ctr.tcp_resets_rx++;
			ftcp_tcp_drop(s, idx, -FTCP_ECONNREFUSED);
		}
		return;
	}
	if (!(seg->flags & FTCP_TCP_SYN))
		return;
	t->irs = seg->seq;
	t->rcv_nxt = seg->seq + 1;
	t->rcv_adv = t->rcv_nxt;
	syn_options(s, t, seg);
	if (ack_ok) {
		t->snd_una = seg->ack;
		if (t->tf & FTCP_TF_RTT_TIMING) {
			t->tf &= ~FTCP_TF_RTT_TIMING;
			if (!t->retries)
				ftcp_tcp_rtt_sample(s, t, (uint32_t)(s->now - t->rtt_start_us));
		}
		ftcp_timer_cancel(s, &t->rtx_timer);
		established(s, idx, seg);
		s->ctr.tcp_active_opens++;
		ftcp_sock_event(s, idx, FTCP_EV_WRITABLE);
		ack_now(s, idx);
		/* Data or FIN in the SYN-ACK is not processed: the peer will
		 * send it again once we acknowledge only its SYN. */
		return;
	}
	/* Simultaneous open (3.10.7.3, fifth check): SYN_RECEIVED, and our
	 * SYN is sent again with the ACK. */
	t->state = FTCP_TCP_SYN_RECEIVED;
	t->snd_wnd = seg->window;
	t->snd_nxt = t->iss;
	ftcp_tcp_schedule(s, idx);
}

/* ---- ACK processing ---- */

/* Note a retransmission of the first hole, to see it lost again. */
static void watch_rtx(struct ftcp_tcb *t, uint32_t seq)
{
	t->rtx_hole = seq;
	t->rtx_mark = t->snd_max;
	t->rtx_watch = true;
}

/* RFC 6675 cannot see a retransmission that is lost again: it waits for
 * the timeout. When data first sent after the retransmission of the
 * first hole is SACKed while the hole stays open, the retransmission was
 * lost (barring reordering): send it again (as Linux did before RACK). */
static void lost_rtx_check(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	uint32_t hole_end, len;
	int32_t n;

	if (!t->rtx_watch || !(t->tf & FTCP_TF_RECOVERY) || !(t->tf & FTCP_TF_SACK_OK))
		return;
	if (ftcp_seq_gt(t->snd_una, t->rtx_hole)) {
		t->rtx_watch = false; /* the hole was filled */
		return;
	}
	if (!ftcp_seq_gt(ftcp_sack_sb_high(&t->sb, t->snd_una), t->rtx_mark))
		return;
	hole_end = t->sb.n ? t->sb.r[0].start : t->snd_max;
	len = FTCP_MIN(hole_end - t->snd_una, (uint32_t)t->mss);
	n = ftcp_tcp_send_segment(s, idx, t->snd_una, len, FTCP_TCP_ACK);
	if (n <= 0)
		return;
	watch_rtx(t, t->snd_una);
	t->high_rxt = ftcp_seq_max(t->high_rxt, t->snd_una + (uint32_t)n);
	t->total_retrans++;
	s->ctr.tcp_retrans_segs++;
	s->ctr.tcp_lost_retransmits++;
}

/* Enter fast recovery: RFC 6582 3.2 step 2 / RFC 6675 5 steps (1)-(4). */
static void enter_recovery(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	uint32_t flight = t->snd_max - t->snd_una;

	t->tf |= FTCP_TF_RECOVERY;
	t->recover = t->snd_max;
	t->high_rxt = t->snd_una;
	t->rtx_watch = false;
	t->fast_rtx_events++;
	t->lost_events++;
	s->ctr.tcp_fast_retransmits++;
	t->cc.ops->on_congestion(&t->cc, flight, s->now);
	t->tf &= ~FTCP_TF_RTT_TIMING;
	if (t->tf & FTCP_TF_SACK_OK) {
		s->ctr.tcp_sack_recoveries++;
		/* RFC 6675 (4): retransmit the first unSACKed segment now; the
		 * pipe loop in output does the rest. */
		ftcp_tcp_send_segment(s, idx, t->snd_una,
		                      FTCP_MIN((uint32_t)t->mss, t->snd_max - t->snd_una),
		                      FTCP_TCP_ACK);
		t->high_rxt = t->snd_una + FTCP_MIN((uint32_t)t->mss, t->snd_max - t->snd_una);
		watch_rtx(t, t->snd_una);
	} else {
		ftcp_tcp_send_segment(s, idx, t->snd_una,
		                      FTCP_MIN((uint32_t)t->mss, t->snd_max - t->snd_una),
		                      FTCP_TCP_ACK);
		t->cc.cwnd = t->cc.ssthresh + 3 * (uint32_t)t->mss; /* RFC 6582 3.2 (2) */
	}
	t->total_retrans++;
	s->ctr.tcp_retrans_segs++;
	ftcp_tcp_rtx_arm(s, t);
	ftcp_tcp_schedule(s, idx); /* RFC 6675 5 (C): more if the pipe allows */
}

/* New data acknowledged: RTT, send queue, congestion control, recovery. */
static void ack_advance(struct ftcp_stack *s, int32_t idx, const struct ftcp_tcp_repr *seg)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	uint32_t acked = seg->ack - t->snd_una, flight = t->snd_max - t->snd_una;
	uint32_t data_end = t->tx_seq + ftcp_queue_used(&t->txq);

	/* RTT from the timed segment only (Karn's algorithm, RFC 6298 3):
	 * an echoed timestamp may belong to a segment sent several backoffs
	 * ago, and one such sample inflates the RTO for a long time. */
	if ((t->tf & FTCP_TF_RTT_TIMING) && ftcp_seq_gt(seg->ack, t->rtt_seq)) {
		t->tf &= ~FTCP_TF_RTT_TIMING;
		ftcp_tcp_rtt_sample(s, t, (uint32_t)(s->now - t->rtt_start_us));
	}
	t->retries = 0;
	t->backoff = 0;
	t->tf &= ~FTCP_TF_TLP_OUT; /* progress: a later tail may be probed again */
	t->snd_una = seg->ack;
	if (ftcp_seq_lt(t->snd_nxt, t->snd_una))
		t->snd_nxt = t->snd_una;
	t->bytes_acked += acked;
	ftcp_sack_sb_ack(&t->sb, t->snd_una);

	if (t->tf & FTCP_TF_RECOVERY) {
		if (ftcp_seq_ge(seg->ack, t->recover)) {
			/* Full ACK: recovery ends (RFC 6582 3.2 (3), RFC 6675 5). */
			t->tf &= ~FTCP_TF_RECOVERY;
			if (!(t->tf & FTCP_TF_SACK_OK))
				t->cc.cwnd = FTCP_MIN(t->cc.ssthresh,
				                      FTCP_MAX(t->snd_max - t->snd_una, (uint32_t)t->mss) +
				                          t->mss);
			else
				t->cc.cwnd = t->cc.ssthresh;
			if (t->cc.ops->on_recovery_end)
				t->cc.ops->on_recovery_end(&t->cc, s->now);
		} else if (!(t->tf & FTCP_TF_SACK_OK)) {
			/* Partial ACK (RFC 6582 3.2 (4)): retransmit the next hole,
			 * deflate by what was acknowledged, add one segment back. */
			ftcp_tcp_send_segment(s, idx, t->snd_una,
			                      FTCP_MIN((uint32_t)t->mss, t->snd_max - t->snd_una),
			                      FTCP_TCP_ACK);
			t->total_retrans++;
			s->ctr.tcp_retrans_segs++;
			t->cc.cwnd = (t->cc.cwnd > acked ? t->cc.cwnd - acked : 0) + t->mss;
			t->cc.cwnd = FTCP_MAX(t->cc.cwnd, (uint32_t)t->mss);
		} else {
			lost_rtx_check(s, idx);
		}
	} else if (flight + t->mss >= t->cc.cwnd ||
	           (t->cc.cwnd < t->cc.ssthresh && 2 * flight >= t->cc.cwnd)) {
		/* Grow only a window in use (RFC 7661, RFC 9438 4.6): an
		 * application-limited sender must not inflate cwnd. */
		t->cc.ops->on_ack(&t->cc, acked, flight, t->srtt_us, s->now);
	}
	t->dupacks = 0;

	/* Bytes (not SYN/FIN) acknowledged may be given back to the queue. */
	t->pins.pending_to = ftcp_seq_min(t->snd_una, data_end);
	if (ftcp_seq_lt(t->pins.pending_to, t->tx_seq))
		t->pins.pending_to = t->tx_seq;
	ftcp_tcp_reclaim(t);

	if (t->snd_una == t->snd_max) {
		ftcp_timer_cancel(s, &t->rtx_timer); /* RFC 6298 5.2 */
		t->tf &= ~FTCP_TF_PERSIST;
	} else if (!(t->tf & FTCP_TF_PERSIST)) {
		ftcp_tcp_rtx_arm(s, t); /* RFC 6298 5.3 */
	}
	if ((t->tf & FTCP_TF_WANT_WRITE) && ftcp_tcp_writable(t)) {
		t->tf &= ~FTCP_TF_WANT_WRITE;
		ftcp_sock_event(s, idx, FTCP_EV_WRITABLE);
	}
	ftcp_tcp_schedule(s, idx);
}

/* The duplicate ACKs that mean a loss: 3, or with fewer than four segments
 * outstanding and nothing new to send, one less than outstanding (Early
 * Retransmit, RFC 5827 3.1). */
static uint32_t dupthresh(const struct ftcp_tcb *t)
{
	uint32_t out = t->snd_max - t->snd_una, oseg = (out + t->mss - 1) / t->mss;
	uint32_t end = t->tx_seq + ftcp_queue_used(&t->txq);
	bool can_send_new = ftcp_seq_lt(t->snd_max, end) && out + t->mss <= t->snd_wnd;

	if (oseg < 4 && oseg >= 2 && !can_send_new)
		return oseg - 1;
	return FTCP_DUPTHRESH;
}

/* A duplicate ACK (RFC 5681 2 definition, plus new SACK information). */
static void dupack(struct ftcp_stack *s, int32_t idx, uint32_t newly_sacked)
{
	struct ftcp_tcb *t = tcb_of(s, idx);

	t->dupacks++;
	s->ctr.tcp_dupacks_rx++;
	if (t->tf & FTCP_TF_RECOVERY) {
		if (!(t->tf & FTCP_TF_SACK_OK))
			t->cc.cwnd += t->mss; /* RFC 6582 3.2 (3): inflate */
		lost_rtx_check(s, idx);
		ftcp_tcp_schedule(s, idx);
		return;
	}
	/* RFC 6582 3.2 (1): only when the ACK covers more than "recover",
	 * so duplicate ACKs for data sent before a timeout do not trigger a
	 * second reduction. RFC 6675 5: three dupACKs or IsLost(HighACK+1). */
	if (!ftcp_seq_gt(t->snd_una, t->recover) && t->recover != t->snd_una)
		return;
	if (t->dupacks >= dupthresh(t) ||
	    ((t->tf & FTCP_TF_SACK_OK) && newly_sacked &&
	     ftcp_sack_sb_is_lost(&t->sb, t->snd_una, t->mss))) {
		enter_recovery(s, idx);
		return;
	}
	/* Limited Transmit (RFC 3042): each of the first two duplicate ACKs
	 * lets one new segment out beyond cwnd, so a small window still
	 * produces the duplicate ACKs that detect the loss. */
	if (t->dupacks <= 2)
		ftcp_tcp_schedule(s, idx);
}

/* RFC 9293 3.10.7.4 fifth check, with RFC 5961 5.2. Returns false when the
 * segment must go no further. */
static bool ack_input(struct ftcp_stack *s, int32_t idx, const struct ftcp_tcp_repr *seg)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	uint32_t newly_sacked = 0, old_wnd = t->snd_wnd;

	if (ftcp_seq_gt(seg->ack, t->snd_max)) {
		/* Acknowledges data never sent: ACK and drop (3.10.7.4). */
		s->ctr.drop_tcp_bad_ack++;
		oow_ack(s, idx, seg);
		return false;
	}
	if (ftcp_seq_lt(seg->ack, t->snd_una - t->max_snd_wnd)) {
		/* Far too old (RFC 5961 5.2): a blind injection, most likely. */
		s->ctr.drop_tcp_bad_ack++;
		challenge_ack(s, idx);
		return false;
	}
	if ((t->tf & FTCP_TF_SACK_OK) && seg->opt.n_sack)
		newly_sacked = ftcp_sack_sb_update(&t->sb, t->snd_una, t->snd_max, seg->opt.sack,
		                                   seg->opt.n_sack);

	/* Window update (3.10.7.4): from a newer segment, or the same
	 * segment number with a newer acknowledgment. */
	if (ftcp_seq_lt(t->snd_wl1, seg->seq) ||
	    (t->snd_wl1 == seg->seq && ftcp_seq_le(t->snd_wl2, seg->ack))) {
		t->snd_wnd = (uint32_t)seg->window << t->snd_wscale;
		t->max_snd_wnd = FTCP_MAX(t->max_snd_wnd, t->snd_wnd);
		t->snd_wl1 = seg->seq;
		t->snd_wl2 = seg->ack;
		if (t->snd_wnd > old_wnd)
			ftcp_tcp_schedule(s, idx);
	}

	/* While the persist timer runs, an ACK answers a probe: the peer is
	 * alive; and one that acknowledges nothing is no duplicate ACK (only
	 * a probe byte is out; BSD ignores them while persisting too). */
	if (t->tf & FTCP_TF_PERSIST)
		t->retries = 0;
	if (ftcp_seq_gt(seg->ack, t->snd_una)) {
		ack_advance(s, idx, seg);
	} else if (seg->ack == t->snd_una && t->snd_una != t->snd_max &&
	           !(t->tf & FTCP_TF_PERSIST) &&
	           ((!seg->payload_len && !(seg->flags & (FTCP_TCP_SYN | FTCP_TCP_FIN)) &&
	             t->snd_wnd == old_wnd) ||
	            newly_sacked)) {
		dupack(s, idx, newly_sacked);
	}
	return true;
}

/* ---- data and FIN ---- */

static void data_input(struct ftcp_stack *s, int32_t idx, const struct ftcp_tcp_repr *seg,
                       uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	uint32_t made;
	bool dropped, had_ooo = t->n_ooo != 0;

	if (t->tf & FTCP_TF_RD_SHUT) {
		/* shutdown(SHUT_RD): acknowledge and discard, in order only. */
		if (seq == t->rcv_nxt)
			t->rcv_nxt += len;
		ack_now(s, idx);
		return;
	}
	made = ftcp_tcp_reass(t, seq, data, len, &dropped);
	if (dropped)
		s->ctr.drop_tcp_ooo_full++;
	t->bytes_received += made;
	if (seq != t->rcv_nxt) {
		/* Out of order: one duplicate ACK (with SACK) per segment, sent
		 * at once (RFC 5681 4.2). Not merged with the others of the same
		 * burst: the sender counts them to detect the loss. */
		s->ctr.tcp_ooo_segs++;
		ftcp_tcp_send_ack(s, idx);
		return;
	}
	t->rcv_nxt += made;
	if (made)
		ftcp_sock_event(s, idx, FTCP_EV_READABLE);
	/* Filling a hole, or two full segments unacknowledged: ACK now;
	 * otherwise delay (RFC 9293 3.8.6.3, RFC 5681 4.2). */
	if (had_ooo || t->rcv_nxt - t->last_ack_sent >= 2u * t->mss || (seg->flags & FTCP_TCP_FIN))
		ack_now(s, idx);
	else
		ftcp_tcp_delack(s, t);
}

static void fin_input(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	bool our_fin_acked = (t->tf & FTCP_TF_FIN_QUEUED) && ftcp_seq_gt(t->snd_una, t->fin_seq);

	t->rcv_nxt++;
	t->tf |= FTCP_TF_FIN_RCVD;
	ack_now(s, idx);
	ftcp_sock_event(s, idx, FTCP_EV_READABLE | FTCP_EV_RDHUP);
	switch (t->state) {
	case FTCP_TCP_SYN_RECEIVED:
	case FTCP_TCP_ESTABLISHED:
		t->state = FTCP_TCP_CLOSE_WAIT;
		break;
	case FTCP_TCP_FIN_WAIT_1:
		if (our_fin_acked)
			ftcp_tcp_enter_time_wait(s, idx);
		else
			t->state = FTCP_TCP_CLOSING;
		break;
	case FTCP_TCP_FIN_WAIT_2:
		ftcp_tcp_enter_time_wait(s, idx);
		break;
	default:
		break;
	}
}

/* ---- header prediction ----
 * Most segments of a busy connection are one of two kinds (Van Jacobson's
 * observation, BSD's tcp_input): the next in-order data segment with no new
 * acknowledgment, or a pure ACK of new data (a bulk receiver's ACKs open
 * the window as its reader drains the queue). For those the common path below reduces to a few updates; this does
 * them, in the same order, after checking every condition that would take
 * the common path anywhere else. Anything else goes the long way. */
static inline bool predictable(const struct ftcp_tcb *t, const struct ftcp_tcp_repr *seg)
{
	uint32_t len = seg->payload_len, seq = seg->seq;
	bool ts = t->tf & FTCP_TF_TS_OK;

	if (t->state != FTCP_TCP_ESTABLISHED ||
	    (seg->flags & (uint8_t)~FTCP_TCP_PSH) != FTCP_TCP_ACK || seq != t->rcv_nxt ||
	    seg->opt.n_sack || t->n_ooo || t->snd_nxt != t->snd_max ||
	    (t->tf & (FTCP_TF_RECOVERY | FTCP_TF_PERSIST | FTCP_TF_FIN_QUEUED | FTCP_TF_RD_SHUT |
	              FTCP_TF_ORPHAN | FTCP_TF_FIN_RCVD)))
		return false;
	/* PAWS would pass: the timestamp is there and not older. */
	if (ts && (!seg->opt.has_ts || (int32_t)(seg->opt.ts_val - t->ts_recent) < 0))
		return false;
	if (len) {
		/* Acknowledges nothing new, fits what we offered (nothing to
		 * trim). */
		if (seg->ack != t->snd_una || !ftcp_seq_gt(t->rcv_adv, t->rcv_nxt) ||
		    len > t->rcv_adv - t->rcv_nxt)
			return false;
	} else if (!ftcp_seq_gt(seg->ack, t->snd_una) || ftcp_seq_gt(seg->ack, t->snd_max) ||
	           ftcp_seq_lt(seg->ack, t->snd_una - t->max_snd_wnd)) {
		return false;
	}
	return true;
}

/* After in-order data went into the receive queue (made of len bytes
 * fit): the sequence space, READABLE and the ACK. */
static inline void in_order_taken(struct ftcp_stack *s, int32_t idx, struct ftcp_tcb *t,
                                  uint32_t len, uint32_t made)
{
	if (made < len)
		s->ctr.drop_tcp_ooo_full++;
	t->bytes_received += made;
	t->rcv_nxt += made;
	/* Most segments of a burst find READABLE raised and the ACK already
	 * due: the calls would change nothing. */
	if (made) {
		const struct ftcp_socket *so = ftcp_container_of(t, struct ftcp_socket, tcb);
		if (!(so->ev_pending & FTCP_EV_READABLE) || !(so->flags & FTCP_SOCK_EV_QUEUED))
			ftcp_sock_event(s, idx, FTCP_EV_READABLE);
	}
	if (t->rcv_nxt - t->last_ack_sent >= 2u * t->mss) {
		if ((t->tf & (FTCP_TF_ACK_NOW | FTCP_TF_ON_OUTPUT)) !=
		    (FTCP_TF_ACK_NOW | FTCP_TF_ON_OUTPUT))
			ack_now(s, idx);
	} else {
		ftcp_tcp_delack(s, t);
	}
}

/* data_input for a segment predictable() accepts: in order, nothing held
 * out of order, no FIN, reading not shut down. */
static inline void data_in_order(struct ftcp_stack *s, int32_t idx, struct ftcp_tcb *t,
                                 const uint8_t *data, uint32_t len)
{
	in_order_taken(s, idx, t, len, ftcp_queue_write(&t->rxq, data, len));
}

/* What the common path does with a segment predictable() accepts. */
static void predicted_input(struct ftcp_stack *s, int32_t idx, const struct ftcp_tcp_repr *seg)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	uint32_t len = seg->payload_len, seq = seg->seq;

	if ((t->tf & FTCP_TF_TS_OK) && ftcp_seq_le(seq, t->last_ack_sent) &&
	    ftcp_seq_le(t->last_ack_sent, seq + len)) {
		t->ts_recent = seg->opt.ts_val;
		t->ts_recent_us = s->now;
	}
	t->last_rx_us = s->now;
	t->keep_probes = 0;
	/* ack_input's window update. A new window makes no duplicate ACK
	 * here: a pure ACK is predicted only when it acknowledges new data. */
	if (ftcp_seq_lt(t->snd_wl1, seq) || (t->snd_wl1 == seq && ftcp_seq_le(t->snd_wl2, seg->ack))) {
		uint32_t old_wnd = t->snd_wnd;
		t->snd_wnd = (uint32_t)seg->window << t->snd_wscale;
		t->max_snd_wnd = FTCP_MAX(t->max_snd_wnd, t->snd_wnd);
		t->snd_wl1 = seq;
		t->snd_wl2 = seg->ack;
		if (t->snd_wnd > old_wnd)
			ftcp_tcp_schedule(s, idx);
	}
	if (len)
		data_in_order(s, idx, t, seg->payload, len);
	else
		ack_advance(s, idx, seg);
}

static bool predicted(struct ftcp_stack *s, int32_t idx, const struct ftcp_tcp_repr *seg)
{
	if (!predictable(tcb_of(s, idx), seg))
		return false;
	predicted_input(s, idx, seg);
	return true;
}

/* The hinted connection's key for ftcp_tcp_input_fast, from a segment the
 * layered path accepted (so its source address is no bogus one, its ports
 * not 0, its destination ours): the addresses and ports as on the wire. */
static void fast_key(struct ftcp_stack *s, int32_t idx, const struct ftcp_ipv4_repr *ip,
                     const uint8_t *th)
{
	uint8_t a[8];

	ftcp_put_be32(a, ip->src);
	ftcp_put_be32(a + 4, ip->dst);
	ftcp_memcpy(&s->tcp_fast_addrs, a, sizeof(a));
	ftcp_memcpy(&s->tcp_fast_ports, th, sizeof(s->tcp_fast_ports));
	s->tcp_fast_idx = idx;
}

/* Ethernet, IPv4 and TCP in one step for the segments header prediction
 * takes, on the connection the demux found last: every check the layered
 * path (ftcp_eth_input, ftcp_ipv4_input, ftcp_tcp_input) would make on
 * such a frame is made here first, without side effects, so a frame that
 * fails any of them goes the layered way from the start. Only the plain
 * shapes: our MAC, a 20-byte IPv4 header, both checksums verified by the
 * device, the NOP NOP TS option layout. */
/* The frame checks of the one-step path: a frame for the hinted connection
 * (tcp_fast_idx == conn_hint, the caller's to check) in the plain shape.
 * On success *th is its TCP header and *total the IPv4 total length. The
 * hint is only set by a lookup for our address and a TCP 4-tuple; the
 * key, from a segment that passed every check, stands for them. */
static inline bool fast_frame(const struct ftcp_stack *s, const uint8_t *frame, uint32_t len,
                              uint32_t rx_flags, const uint8_t **thp, uint32_t *totalp)
{
	const uint32_t good = FTCP_RX_IP_CKSUM_GOOD | FTCP_RX_L4_CKSUM_GOOD;
	const uint32_t hlen = FTCP_TCP_HLEN + FTCP_TCP_TS_OPT_LEN;
	const uint8_t *ip = frame + FTCP_ETH_HLEN, *th = ip + FTCP_IPV4_HLEN;
	uint64_t addrs;
	uint32_t total, ports;

	if ((rx_flags & (good | FTCP_RX_IP_CKSUM_BAD | FTCP_RX_L4_CKSUM_BAD)) != good ||
	    len < FTCP_ETH_HLEN + FTCP_IPV4_HLEN + hlen ||
	    !ftcp_mac_eq((const struct ftcp_mac *)(const void *)frame, &s->mac) ||
	    ftcp_get_be16(frame + 12) != FTCP_ETHERTYPE_IPV4 || ip[0] != 0x45 ||
	    ip[9] != FTCP_IP_PROTO_TCP ||
	    (ftcp_get_be16(ip + 6) & (FTCP_IPV4_MF | FTCP_IPV4_FRAG_MASK)) ||
	    th[12] != (hlen / 4) << 4 ||
	    ftcp_get_be32(th + FTCP_TCP_HLEN) != 0x0101080au) /* NOP NOP TS(10) */
		return false;
	ftcp_memcpy(&addrs, ip + 12, sizeof(addrs));
	ftcp_memcpy(&ports, th, sizeof(ports));
	total = ftcp_get_be16(ip + 2);
	if (addrs != s->tcp_fast_addrs || ports != s->tcp_fast_ports ||
	    total < FTCP_IPV4_HLEN + hlen || total > len - FTCP_ETH_HLEN)
		return false;
	*thp = th;
	*totalp = total;
	return true;
}

/* ftcp_tcp_input_fast once fast_frame() has passed the frame. */
static bool fast_segment(struct ftcp_stack *s, int32_t idx, const uint8_t *th, uint32_t total)
{
	const uint32_t hlen = FTCP_TCP_HLEN + FTCP_TCP_TS_OPT_LEN;
	struct ftcp_socket *so;
	struct ftcp_tcp_repr seg;

	so = ftcp_sock_at(s, idx);
	/* What ftcp_tcp_parse would give (the SACK blocks, n_sack 0, unset). */
	seg.src_port = so->rport;
	seg.dst_port = so->lport;
	seg.seq = ftcp_get_be32(th + 4);
	seg.ack = ftcp_get_be32(th + 8);
	seg.hdr_len = (uint8_t)hlen;
	seg.flags = th[13];
	seg.window = ftcp_get_be16(th + 14);
	seg.urg_ptr = ftcp_get_be16(th + 18);
	seg.opt.has_mss = seg.opt.has_wscale = seg.opt.sack_ok = false;
	seg.opt.has_ts = true;
	seg.opt.mss = 0;
	seg.opt.wscale = 0;
	seg.opt.ts_val = ftcp_get_be32(th + FTCP_TCP_HLEN + 4);
	seg.opt.ts_ecr = ftcp_get_be32(th + FTCP_TCP_HLEN + 8);
	seg.opt.n_sack = 0;
	seg.payload = th + hlen;
	seg.payload_len = total - FTCP_IPV4_HLEN - hlen;
	if (!predictable(&so->tcb, &seg))
		return false;
	s->ctr.ipv4_rx++;
	s->ctr.tcp_rx_segs++;
	so->tcb.segs_in++;
	predicted_input(s, idx, &seg);
	return true;
}

bool ftcp_tcp_input_fast(struct ftcp_stack *s, const uint8_t *frame, uint32_t len,
                         uint32_t rx_flags)
{
	int32_t idx = s->conn_hint;
	const uint8_t *th;
	uint32_t total;

	return idx != FTCP_NONE && idx == s->tcp_fast_idx &&
	       fast_frame(s, frame, len, rx_flags, &th, &total) && fast_segment(s, idx, th, total);
}

/* A run of in-order data segments of the hinted connection, the common
 * case of a bulk receiver: what ftcp_tcp_input_fast does for each, with
 * the connection's conditions checked once (nothing in the run changes
 * them) and no segment representation built. Each segment is checked as
 * predictable() would (seq, ack, window unchanged, PAWS, room) and
 * applied as predicted_input() would, in order; the first that is not
 * such a segment ends the run. */
uint16_t ftcp_tcp_input_run(struct ftcp_stack *s, const struct ftcp_rx_frame *f, uint16_t n)
{
	const uint32_t hlen = FTCP_TCP_HLEN + FTCP_TCP_TS_OPT_LEN;
	int32_t idx = s->conn_hint;
	struct ftcp_socket *so;
	struct ftcp_tcb *t;
	uint16_t k;

	if (idx == FTCP_NONE || idx != s->tcp_fast_idx)
		return 0;
	so = ftcp_sock_at(s, idx);
	t = &so->tcb;
	if (t->state != FTCP_TCP_ESTABLISHED || t->n_ooo || t->snd_nxt != t->snd_max ||
	    (t->tf & (FTCP_TF_RECOVERY | FTCP_TF_PERSIST | FTCP_TF_FIN_QUEUED | FTCP_TF_RD_SHUT |
	              FTCP_TF_ORPHAN | FTCP_TF_FIN_RCVD)) ||
	    !(t->tf & FTCP_TF_TS_OK))
		return ftcp_tcp_input_fast(s, f->data, f->len, f->flags);
	for (k = 0; k < n; k++) {
		const uint8_t *th;
		uint32_t total, seq, ack, len, ts_val;
		uint8_t flags;

		if (!fast_frame(s, f[k].data, f[k].len, f[k].flags, &th, &total))
			break;
		seq = ftcp_get_be32(th + 4);
		ack = ftcp_get_be32(th + 8);
		flags = th[13];
		ts_val = ftcp_get_be32(th + FTCP_TCP_HLEN + 4);
		len = total - FTCP_IPV4_HLEN - hlen;
		if (!len || (flags & (uint8_t)~FTCP_TCP_PSH) != FTCP_TCP_ACK || seq != t->rcv_nxt ||
		    ack != t->snd_una ||
		    ((uint32_t)ftcp_get_be16(th + 14) << t->snd_wscale) != t->snd_wnd ||
		    (int32_t)(ts_val - t->ts_recent) < 0 || !ftcp_seq_gt(t->rcv_adv, t->rcv_nxt) ||
		    len > t->rcv_adv - t->rcv_nxt) {
			if (!k) /* one segment, the general way */
				return fast_segment(s, idx, th, total);
			break;
		}
		/* predicted_input, the window unchanged (the counters,
		 * last_rx_us and keep_probes: once for the run, below). */
		if (ftcp_seq_le(seq, t->last_ack_sent) && ftcp_seq_le(t->last_ack_sent, seq + len)) {
			t->ts_recent = ts_val;
			t->ts_recent_us = s->now;
		}
		if (ftcp_seq_lt(t->snd_wl1, seq) || (t->snd_wl1 == seq && ftcp_seq_le(t->snd_wl2, ack))) {
			t->max_snd_wnd = FTCP_MAX(t->max_snd_wnd, t->snd_wnd);
			t->snd_wl1 = seq;
			t->snd_wl2 = ack;
		}
		/* data_in_order. */
		in_order_taken(s, idx, t, len, ftcp_queue_append(&t->rxq, th + hlen, len));
	}
	if (k) {
		s->ctr.ipv4_rx += k;
		s->ctr.tcp_rx_segs += k;
		t->segs_in += k;
		t->last_rx_us = s->now;
		t->keep_probes = 0;
	}
	return k;
}

/* ---- the common path, RFC 9293 3.10.7.4 ---- */

static void conn_input(struct ftcp_stack *s, int32_t idx, const struct ftcp_ipv4_repr *ip,
                       const struct ftcp_tcp_repr *seg)
{
	struct ftcp_tcb *t = tcb_of(s, idx);
	uint32_t seq = seg->seq, len = seg->payload_len, wnd, slen;
	const uint8_t *data = seg->payload;
	uint8_t flags = seg->flags;
	bool fin;

	/* A repeated SYN to a half-open child: send the SYN-ACK again. */
	if (t->state == FTCP_TCP_SYN_RECEIVED && (flags & FTCP_TCP_SYN) && !(flags & FTCP_TCP_ACK) &&
	    seq == t->irs) {
		t->snd_nxt = t->iss;
		ftcp_tcp_schedule(s, idx);
		return;
	}
	/* Simultaneous open (RFC 9293 Figure 8, line 6): the peer's SYN-ACK
	 * repeats the SYN we have and acknowledges ours. The old SYN is
	 * trimmed (as BSD does; Linux lets it pass too) and the ACK completes
	 * the handshake, instead of an ACK and a wait for a retransmission. */
	if (t->state == FTCP_TCP_SYN_RECEIVED && t->parent == FTCP_NONE &&
	    (flags & (FTCP_TCP_SYN | FTCP_TCP_ACK | FTCP_TCP_RST)) == (FTCP_TCP_SYN | FTCP_TCP_ACK) &&
	    seq == t->irs && seg->ack == t->snd_max) {
		flags &= (uint8_t)~FTCP_TCP_SYN;
		seq++;
	}

	/* PAWS (RFC 7323 5.3): a timestamp older than ts_recent means an old
	 * duplicate; resets are exempt, and ts_recent expires after 24 days. */
	if ((t->tf & FTCP_TF_TS_OK) && seg->opt.has_ts && !(flags & FTCP_TCP_RST) &&
	    (int32_t)(seg->opt.ts_val - t->ts_recent) < 0 &&
	    s->now - t->ts_recent_us < 24ull * 86400 * 1000000) {
		s->ctr.drop_tcp_paws++;
		oow_ack(s, idx, seg);
		return;
	}

	/* Acceptability (3.10.7.4 first check): the four cases. */
	wnd = ftcp_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	slen = seg_len(seg) - (seq - seg->seq); /* less a trimmed SYN */
	if (slen == 0) {
		if (wnd == 0 ? seq != t->rcv_nxt : !ftcp_seq_in(seq, t->rcv_nxt, t->rcv_nxt + wnd))
			goto unacceptable;
	} else if (wnd == 0 ||
	           (!ftcp_seq_in(seq, t->rcv_nxt, t->rcv_nxt + wnd) &&
	            !ftcp_seq_in(seq + slen - 1, t->rcv_nxt, t->rcv_nxt + wnd))) {
		/* A zero window still takes ACKs, RSTs and URGs (3.10.7.4). */
		if (!(wnd == 0 && seq == t->rcv_nxt))
			goto unacceptable;
		len = 0;
		flags &= (uint8_t)~(FTCP_TCP_SYN | FTCP_TCP_FIN);
		if (!(flags & FTCP_TCP_RST))
			ack_now(s, idx); /* a zero-window probe gets its ACK (3.8.6.1) */
	}

	/* RST (RFC 5961 3.2): exact match resets, in-window gets a challenge. */
	if (flags & FTCP_TCP_RST) {
		if (seq != t->rcv_nxt) {
			challenge_ack(s, idx);
			return;
		}
		s->ctr.tcp_resets_rx++;
		switch (t->state) {
		case FTCP_TCP_SYN_RECEIVED:
			/* Passive open: the child just goes (back to LISTEN); an
			 * active one was refused. */
			ftcp_tcp_drop(s, idx, t->parent != FTCP_NONE ? 0 : -FTCP_ECONNREFUSED);
			return;
		case FTCP_TCP_TIME_WAIT:
			return; /* RFC 1337: TIME_WAIT ignores resets */
		case FTCP_TCP_CLOSING:
		case FTCP_TCP_LAST_ACK:
			ftcp_tcp_drop(s, idx, 0);
			return;
		default:
			ftcp_tcp_drop(s, idx, -FTCP_ECONNRESET);
			return;
		}
	}

	/* SYN in a synchronized state (RFC 5961 4.2): challenge ACK. */
	if (flags & FTCP_TCP_SYN) {
		challenge_ack(s, idx);
		return;
	}

	if (!(flags & FTCP_TCP_ACK)) {
		s->ctr.drop_tcp_no_ack++;
		return;
	}

	/* Timestamps (RFC 7323 4.3): remember the peer's value from the
	 * segment that covers the edge of what we acknowledged. */
	if ((t->tf & FTCP_TF_TS_OK) && seg->opt.has_ts &&
	    ftcp_seq_le(seq, t->last_ack_sent) &&
	    ftcp_seq_le(t->last_ack_sent, seq + slen)) {
		t->ts_recent = seg->opt.ts_val;
		t->ts_recent_us = s->now;
	}
	t->last_rx_us = s->now;
	t->keep_probes = 0;

	if (t->state == FTCP_TCP_SYN_RECEIVED) {
		int32_t lidx = t->parent;
		if (!ftcp_seq_in(seg->ack, t->snd_una + 1, t->snd_max + 1)) {
			ftcp_tcp_send_rst_reply(s, ip, seg);
			return;
		}
		if (lidx != FTCP_NONE && tcb_of(s, lidx)->accept_len >= tcb_of(s, lidx)->backlog) {
			/* Accept queue full: ignore the ACK; the SYN-ACK will be
			 * sent again and the peer's ACK retried (as Linux does). */
			s->ctr.drop_tcp_accept_full++;
			return;
		}
		t->snd_una = seg->ack;
		if ((t->tf & FTCP_TF_RTT_TIMING) && !t->retries)
			ftcp_tcp_rtt_sample(s, t, (uint32_t)(s->now - t->rtt_start_us));
		t->tf &= ~FTCP_TF_RTT_TIMING;
		ftcp_timer_cancel(s, &t->rtx_timer);
		established(s, idx, seg);
		if (lidx != FTCP_NONE) {
			tcb_of(s, lidx)->syn_len--;
			t->parent = FTCP_NONE;
			accept_enqueue(s, lidx, idx);
		} else {
			s->ctr.tcp_active_opens++; /* simultaneous open */
			ftcp_sock_event(s, idx, FTCP_EV_WRITABLE);
		}
	} else if (!ack_input(s, idx, seg)) {
		return;
	}

	/* States that wait for our FIN to be acknowledged. */
	if ((t->tf & FTCP_TF_FIN_QUEUED) && ftcp_seq_gt(t->snd_una, t->fin_seq)) {
		switch (t->state) {
		case FTCP_TCP_FIN_WAIT_1:
			t->state = FTCP_TCP_FIN_WAIT_2;
			if (t->tf & FTCP_TF_ORPHAN)
				ftcp_timer_arm(s, &t->keep_timer, s->now + s->cfg.tcp_fin_wait2_us);
			break;
		case FTCP_TCP_CLOSING:
			ftcp_tcp_enter_time_wait(s, idx);
			return;
		case FTCP_TCP_LAST_ACK:
			ftcp_tcp_drop(s, idx, 0);
			return;
		default:
			break;
		}
	}
	if (t->state == FTCP_TCP_TIME_WAIT) {
		/* A retransmitted FIN: acknowledge it and restart 2 MSL. */
		if (flags & FTCP_TCP_FIN) {
			ack_now(s, idx);
			ftcp_timer_arm(s, &t->keep_timer, s->now + 2 * (uint64_t)s->cfg.tcp_msl_us);
		}
		return;
	}

	/* Trim to the window: bytes already received, bytes beyond it. */
	fin = flags & FTCP_TCP_FIN;
	if (ftcp_seq_lt(seq, t->rcv_nxt)) {
		uint32_t dup = t->rcv_nxt - seq;
		if (dup >= len) {
			/* Every byte is old; a FIN right after them is still new. */
			if (fin && seq + len != t->rcv_nxt)
				fin = false;
			if (!fin)
				ack_now(s, idx); /* a duplicate: tell the peer where we are */
			len = 0;
		} else {
			data += dup;
			len -= dup;
		}
		seq = t->rcv_nxt;
	}
	if (len && ftcp_seq_gt(seq + len, t->rcv_nxt + wnd)) {
		len = t->rcv_nxt + wnd - seq;
		fin = false;
		s->ctr.tcp_rx_trimmed++;
	}

	if (len) {
		switch (t->state) {
		case FTCP_TCP_ESTABLISHED:
		case FTCP_TCP_FIN_WAIT_1:
		case FTCP_TCP_FIN_WAIT_2:
			if ((t->tf & FTCP_TF_ORPHAN) && !(t->tf & FTCP_TF_RD_SHUT)) {
				/* Data for a closed socket: nobody will read it
				 * (RFC 9293 3.10.7.4 / RFC 2525 2.17 -- reset). */
				ftcp_tcp_send_rst(s, idx);
				ftcp_tcp_drop(s, idx, 0);
				return;
			}
			data_input(s, idx, seg, seq, data, len);
			break;
		default:
			break; /* after the peer's FIN, data is ignored */
		}
	}
	if (fin && seq + len == t->rcv_nxt && !(t->tf & FTCP_TF_FIN_RCVD))
		fin_input(s, idx);
	else if (fin && !(t->tf & FTCP_TF_FIN_RCVD) && ftcp_seq_gt(seq + len, t->rcv_nxt))
		ack_now(s, idx); /* FIN beyond a hole: it comes again */
	return;

unacceptable:
	s->ctr.drop_tcp_out_of_window++;
	if (flags & FTCP_TCP_RST)
		return;
	/* TIME_WAIT (3.10.7.4): a retransmitted FIN lies below RCV.NXT, so it
	 * lands here: acknowledge it (below) and restart the 2 MSL timeout. */
	if (t->state == FTCP_TCP_TIME_WAIT && (flags & FTCP_TCP_FIN))
		ftcp_timer_arm(s, &t->keep_timer, s->now + 2 * (uint64_t)s->cfg.tcp_msl_us);
	if (flags & FTCP_TCP_SYN)
		challenge_ack(s, idx); /* RFC 5961 4.2: whatever the seq, rate-limited */
	else if (t->state == FTCP_TCP_TIME_WAIT)
		ack_now(s, idx);
	else
		oow_ack(s, idx, seg);
}

/* TIME_WAIT and a new SYN for the same 4-tuple (RFC 9293 3.10.7.4 note,
 * RFC 6191): reuse it when the SYN is newer than anything of the old
 * connection (higher sequence number, or newer timestamp). */
static bool time_wait_reuse(struct ftcp_stack *s, int32_t idx, const struct ftcp_tcp_repr *seg,
                            uint32_t *isn_floor)
{
	struct ftcp_tcb *t = tcb_of(s, idx);

	if ((seg->flags & (FTCP_TCP_SYN | FTCP_TCP_ACK | FTCP_TCP_RST)) != FTCP_TCP_SYN)
		return false;
	/* A newer timestamp decides; an equal one (a peer with a millisecond
	 * clock opening connections faster than that, as Linux does with a
	 * per-host-pair offset) falls back to the sequence rule, as Linux's
	 * TIME_WAIT does; an older one is refused. */
	if ((t->tf & FTCP_TF_TS_OK) && seg->opt.has_ts && seg->opt.ts_val != t->ts_recent) {
		if ((int32_t)(seg->opt.ts_val - t->ts_recent) < 0)
			return false;
	} else if (!ftcp_seq_gt(seg->seq, t->rcv_nxt)) {
		return false;
	}
	s->ctr.tcp_time_wait_reused++;
	*isn_floor = t->snd_max + 65535 + 2;
	ftcp_tcp_drop(s, idx, 0); /* out of the way of the new connection */
	return true;
}

void ftcp_tcp_input(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip, const uint8_t *pkt,
                    uint32_t len, uint32_t rx_flags)
{
	struct ftcp_tcp_repr seg;
	int32_t idx;
	int rc;
	uint32_t isn_floor = 0;
	bool reused = false;

	if (rx_flags & FTCP_RX_L4_CKSUM_BAD) {
		s->ctr.drop_tcp_cksum++;
		return;
	}
	rc = ftcp_tcp_parse(pkt, len, ip->src, ip->dst, !(rx_flags & FTCP_RX_L4_CKSUM_GOOD), &seg);
	if (rc < 0) {
		switch (-rc) {
		case FTCP_WIRE_CKSUM: s->ctr.drop_tcp_cksum++; break;
		case FTCP_WIRE_OPTIONS: s->ctr.drop_tcp_bad_options++; break;
		case FTCP_WIRE_HDR_LEN: s->ctr.drop_tcp_hdr_len++; break;
		default: s->ctr.drop_tcp_short++; break;
		}
		return;
	}
	s->ctr.tcp_rx_segs++;
	if (ip->dst != s->ip || seg.src_port == 0 || seg.dst_port == 0) {
		s->ctr.drop_tcp_not_unicast++; /* TCP is unicast only */
		return;
	}
	idx = ftcp_demux_conn_find(s, FTCP_IP_PROTO_TCP, ip->dst, seg.dst_port, ip->src,
	                           seg.src_port);
	if (idx >= 0 && idx != s->tcp_fast_idx)
		fast_key(s, idx, ip, pkt);
	if (idx >= 0 && tcb_of(s, idx)->state == FTCP_TCP_TIME_WAIT &&
	    time_wait_reuse(s, idx, &seg, &isn_floor)) {
		idx = FTCP_NONE;
		reused = true;
	}
	if (idx >= 0) {
		struct ftcp_tcb *t = tcb_of(s, idx);
		t->segs_in++;
		if (predicted(s, idx, &seg))
			return;
		if (t->state == FTCP_TCP_SYN_SENT)
			syn_sent_input(s, idx, ip, &seg);
		else if (t->state != FTCP_TCP_CLOSED)
			conn_input(s, idx, ip, &seg);
		return;
	}
	idx = ftcp_demux_lookup(s, FTCP_IP_PROTO_TCP, ip->dst, seg.dst_port, ip->src, seg.src_port);
	if (idx >= 0 && tcb_of(s, idx)->state == FTCP_TCP_LISTEN) {
		listen_input(s, idx, ip, &seg, reused ? &isn_floor : NULL);
		return;
	}
	s->ctr.tcp_rx_no_socket++;
	ftcp_tcp_send_rst_reply(s, ip, &seg);
}
