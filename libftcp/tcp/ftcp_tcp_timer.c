/*
 * ftcp_tcp_timer.c — a connection's three timers:
 *   rtx_timer     retransmission (RFC 6298), SYN retries, and the persist
 *                 timer for zero windows (RFC 9293 3.8.6.1);
 *   delack_timer  the bound on a delayed ACK (RFC 9293 3.8.6.3);
 *   keep_timer    keepalive (RFC 1122 4.2.3.6), the FIN_WAIT_2 limit of
 *                 closed connections, and TIME_WAIT's 2*MSL (RFC 9293 3.4.2).
 */
#include "stack/ftcp_stack_internal.h"

static struct ftcp_socket *sock_of_tcb(struct ftcp_tcb *t)
{
	return ftcp_container_of(t, struct ftcp_socket, tcb);
}

static int32_t idx_of(struct ftcp_stack *s, struct ftcp_tcb *t)
{
	return (int32_t)(((uint8_t *)sock_of_tcb(t) - s->sock_pool.objs) / s->sock_pool.obj_size);
}

void ftcp_tcp_rtt_sample(struct ftcp_stack *s, struct ftcp_tcb *t, uint32_t rtt_us)
{
	uint32_t rto;

	if (!rtt_us)
		rtt_us = 1;
	/* RFC 6298 2.2 and 2.3, alpha = 1/8, beta = 1/4. */
	if (!t->srtt_us) {
		t->srtt_us = rtt_us;
		t->rttvar_us = rtt_us / 2;
	} else {
		uint32_t diff = t->srtt_us > rtt_us ? t->srtt_us - rtt_us : rtt_us - t->srtt_us;
		t->rttvar_us = t->rttvar_us - t->rttvar_us / 4 + diff / 4;
		t->srtt_us = t->srtt_us - t->srtt_us / 8 + rtt_us / 8;
	}
	rto = t->srtt_us + FTCP_MAX(4 * t->rttvar_us, 1000u); /* G: our 1 ms clock granularity */
	t->rto_us = FTCP_MIN(FTCP_MAX(rto, s->cfg.tcp_rto_min_us), s->cfg.tcp_rto_max_us);
}

static uint64_t backed_off(const struct ftcp_stack *s, const struct ftcp_tcb *t)
{
	uint64_t rto = (uint64_t)t->rto_us << FTCP_MIN(t->backoff, 30);
	return FTCP_MIN(rto, (uint64_t)s->cfg.tcp_rto_max_us);
}

/* Tail Loss Probe timeout (RFC 8985 7.2): two smoothed RTTs, plus the
 * peer's delayed-ACK allowance when one segment is in flight; at least
 * 10 ms so a fast path does not probe on scheduling noise. */
static uint64_t tlp_timeout(const struct ftcp_stack *s, const struct ftcp_tcb *t)
{
	uint64_t pto = FTCP_MAX(2 * (uint64_t)t->srtt_us, 10000u);

	if (t->snd_max - t->snd_una <= t->mss)
		pto += s->cfg.tcp_delack_us;
	return pto;
}

void ftcp_tcp_rtx_arm(struct ftcp_stack *s, struct ftcp_tcb *t)
{
	uint64_t rto = backed_off(s, t);

	/* A probe instead of the timeout when it comes sooner: data in
	 * flight, SACK to report what the probe finds, no recovery or probe
	 * under way, and an RTT to base it on (RFC 8985 7.2). */
	t->tf &= ~FTCP_TF_TLP;
	if ((t->tf & FTCP_TF_SACK_OK) && !(t->tf & (FTCP_TF_RECOVERY | FTCP_TF_TLP_OUT |
	                                              FTCP_TF_PERSIST)) &&
	    t->srtt_us && !t->retries &&
	    (t->state == FTCP_TCP_ESTABLISHED || t->state == FTCP_TCP_CLOSE_WAIT)) {
		uint64_t pto = tlp_timeout(s, t);
		if (pto < rto) {
			t->tf |= FTCP_TF_TLP;
			ftcp_timer_arm(s, &t->rtx_timer, s->now + pto);
			return;
		}
	}
	ftcp_timer_arm(s, &t->rtx_timer, s->now + rto);
}

/* RFC 8985 7.3: send new data if the windows allow, else resend the last
 * segment; either way the ACK it draws reports (with SACK) what was lost
 * at the tail, and recovery starts without waiting for the timeout. */
static void tail_loss_probe(struct ftcp_stack *s, int32_t idx, struct ftcp_tcb *t)
{
	uint32_t end = t->tx_seq + ftcp_queue_used(&t->txq);
	uint32_t flight = t->snd_max - t->snd_una;

	t->tf = (t->tf & ~FTCP_TF_TLP) | FTCP_TF_TLP_OUT;
	s->ctr.tcp_tail_loss_probes++;
	if (ftcp_seq_lt(t->snd_nxt, end) && t->snd_nxt == t->snd_max &&
	    flight + t->mss <= t->snd_wnd) {
		uint32_t len = FTCP_MIN(end - t->snd_nxt, (uint32_t)t->mss);
		int32_t n = ftcp_tcp_send_segment(s, idx, t->snd_nxt, len, FTCP_TCP_ACK);
		if (n > 0) { /* new data: send_segment does not move snd_nxt */
			t->snd_nxt += (uint32_t)n;
			t->snd_max = t->snd_nxt;
		}
	} else {
		uint32_t data_max = ftcp_seq_min(t->snd_max, end);
		uint32_t len = FTCP_MIN(data_max - t->snd_una, (uint32_t)t->mss);
		if (len)
			ftcp_tcp_send_segment(s, idx, data_max - len, len, FTCP_TCP_ACK);
		else /* only a FIN is outstanding */
			ftcp_tcp_send_segment(s, idx, t->fin_seq, 0, FTCP_TCP_ACK | FTCP_TCP_FIN);
		t->total_retrans++;
		s->ctr.tcp_retrans_segs++;
	}
	ftcp_tcp_rtx_arm(s, t); /* the real timeout now */
}

void ftcp_tcp_delack(struct ftcp_stack *s, struct ftcp_tcb *t)
{
	if (t->tf & FTCP_TF_DELACK)
		return;
	t->tf |= FTCP_TF_DELACK;
	ftcp_timer_arm(s, &t->delack_timer, s->now + s->cfg.tcp_delack_us);
}

void ftcp_tcp_keep_arm(struct ftcp_stack *s, struct ftcp_tcb *t)
{
	if (!(t->tf & FTCP_TF_KEEPALIVE) ||
	    (t->state != FTCP_TCP_ESTABLISHED && t->state != FTCP_TCP_CLOSE_WAIT)) {
		if (t->state != FTCP_TCP_TIME_WAIT && t->state != FTCP_TCP_FIN_WAIT_2)
			ftcp_timer_cancel(s, &t->keep_timer);
		return;
	}
	t->keep_probes = 0;
	ftcp_timer_arm(s, &t->keep_timer, t->last_rx_us + (uint64_t)t->keep_idle_s * 1000000);
}

void ftcp_tcp_enter_time_wait(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = &ftcp_sock_at(s, idx)->tcb;

	t->state = FTCP_TCP_TIME_WAIT;
	t->tf &= ~FTCP_TF_PERSIST;
	ftcp_timer_cancel(s, &t->rtx_timer);
	ftcp_timer_arm(s, &t->keep_timer, s->now + 2 * (uint64_t)s->cfg.tcp_msl_us);
	ftcp_sock_event(s, idx, FTCP_EV_CLOSED);
	/* Closed by the application already: 2 MSL of waiting needs no
	 * buffers (or a short-connection load runs out of them). */
	ftcp_tcp_shed_buffers(s, idx);
}

static void rtx_timer_fn(struct ftcp_stack *s, struct ftcp_timer *tm)
{
	struct ftcp_tcb *t = ftcp_container_of(tm, struct ftcp_tcb, rtx_timer);
	int32_t idx = idx_of(s, t);
	uint32_t flight;

	if (t->state == FTCP_TCP_SYN_SENT || t->state == FTCP_TCP_SYN_RECEIVED) {
		if (++t->retries > s->cfg.tcp_syn_retries) {
			s->ctr.tcp_timeouts++;
			ftcp_tcp_drop(s, idx, -FTCP_ETIMEDOUT);
			return;
		}
		/* RFC 6298 5.7: a lost SYN leaves the RTO at 3 s at least
		 * once data flows; we keep backing off from the initial 1 s. */
		t->backoff++;
		t->snd_nxt = t->iss; /* send the SYN (or SYN-ACK) again */
		t->tf &= ~FTCP_TF_RTT_TIMING;
		s->ctr.tcp_retrans_segs++;
		t->total_retrans++;
		ftcp_tcp_schedule(s, idx);
		return;
	}
	if (t->tf & FTCP_TF_PERSIST) {
		/* Zero-window probe: one byte past the window, repeated with
		 * backoff for as long as the peer keeps answering (RFC 1122
		 * 4.2.2.17: never give up while the window stays shut). A peer
		 * that answers none of tcp_retries probes is given up, like
		 * one that acknowledges no retransmission (RFC 1122 4.2.3.5;
		 * Linux does the same); each answer restarts the count. */
		uint32_t end = t->tx_seq + ftcp_queue_used(&t->txq);
		if (!ftcp_seq_lt(t->snd_nxt, end)) {
			t->tf &= ~FTCP_TF_PERSIST;
			ftcp_tcp_schedule(s, idx);
			return;
		}
		if (++t->retries > s->cfg.tcp_retries) {
			s->ctr.tcp_timeouts++;
			ftcp_tcp_drop(s, idx, -FTCP_ETIMEDOUT);
			return;
		}
		if (t->snd_wnd == 0) {
			ftcp_tcp_send_segment(s, idx, t->snd_nxt, 1, FTCP_TCP_ACK);
			t->snd_max = ftcp_seq_max(t->snd_max, t->snd_nxt + 1);
			s->ctr.tcp_window_probes++;
			if (((uint64_t)t->rto_us << t->backoff) < s->cfg.tcp_rto_max_us)
				t->backoff++; /* doubling, capped at the maximum (RFC 6298 5.5) */
		} else {
			/* A window too small for silly window avoidance to use
			 * and nothing in flight to bring an ACK: past the
			 * override timeout send what it takes (RFC 9293
			 * 3.8.6.2.1 (4); Linux's probe timer does the same). */
			uint32_t len;
			int32_t n;
			flight = t->snd_nxt - t->snd_una;
			len = t->snd_wnd > flight ? t->snd_wnd - flight : 0;
			len = FTCP_MIN(FTCP_MIN(len, end - t->snd_nxt), (uint32_t)t->mss);
			n = len ? ftcp_tcp_send_segment(s, idx, t->snd_nxt, len,
			                                 FTCP_TCP_ACK | FTCP_TCP_PSH)
			        : -1;
			if (n > 0) {
				t->tf &= ~FTCP_TF_PERSIST; /* now a retransmission timer */
				t->snd_nxt += (uint32_t)n;
				t->snd_max = ftcp_seq_max(t->snd_max, t->snd_nxt);
			}
		}
		ftcp_tcp_rtx_arm(s, t);
		return;
	}
	if (t->snd_una == t->snd_max) {
		/* Everything acknowledged meanwhile; or nothing could be sent,
		 * the next hop not answering ARP (send_new armed the timer):
		 * retry, and give up as a retransmission would (RFC 1122
		 * 4.2.3.5), so an orphan's FIN cannot wait for ever. */
		if (!(t->tf & FTCP_TF_ARP_WAIT))
			return;
		if (++t->retries > s->cfg.tcp_retries) {
			s->ctr.tcp_timeouts++;
			ftcp_tcp_drop(s, idx, -FTCP_ETIMEDOUT);
			return;
		}
		if ((uint64_t)t->rto_us << (t->backoff + 1) <= s->cfg.tcp_rto_max_us)
			t->backoff++;
		ftcp_tcp_rtx_arm(s, t);
		ftcp_tcp_schedule(s, idx);
		return;
	}
	if (t->tf & FTCP_TF_TLP) {
		tail_loss_probe(s, idx, t);
		return;
	}
	if (++t->retries > s->cfg.tcp_retries) {
		s->ctr.tcp_timeouts++;
		ftcp_tcp_drop(s, idx, -FTCP_ETIMEDOUT);
		return;
	}
	/* RFC 6298 5.4-5.6: retransmit the oldest unacknowledged segment,
	 * back off, restart the timer; RFC 5681 3.1: the loss window. */
	s->ctr.tcp_rto++;
	t->rto_events++;
	flight = t->snd_max - t->snd_una;
	/* RFC 6298 5.5: double, up to the maximum (2.5) -- which is reached:
	 * 32 s then 60 s, not 32 s for ever. */
	if (((uint64_t)t->rto_us << t->backoff) < s->cfg.tcp_rto_max_us)
		t->backoff++;
	if (t->cc.ops->on_rto)
		t->cc.ops->on_rto(&t->cc, flight, s->now);
	t->snd_nxt = t->snd_una; /* go back: resend from the oldest byte */
	t->dupacks = 0;
	t->tf &= ~(FTCP_TF_RECOVERY | FTCP_TF_RTT_TIMING);
	t->recover = t->snd_max; /* RFC 6582 4.1: no fast retransmit for old dupacks */
	t->high_rxt = t->snd_una;
	/* RFC 2018 8: after a timeout, SACK information is advisory only. */
	ftcp_sack_sb_reset(&t->sb);
	ftcp_tcp_rtx_arm(s, t);
	ftcp_tcp_schedule(s, idx);
}

static void delack_timer_fn(struct ftcp_stack *s, struct ftcp_timer *tm)
{
	struct ftcp_tcb *t = ftcp_container_of(tm, struct ftcp_tcb, delack_timer);

	if (!(t->tf & FTCP_TF_DELACK))
		return;
	t->tf = (t->tf & ~FTCP_TF_DELACK) | FTCP_TF_ACK_NOW;
	s->ctr.tcp_delayed_acks++;
	ftcp_tcp_schedule(s, idx_of(s, t));
}

static void keep_timer_fn(struct ftcp_stack *s, struct ftcp_timer *tm)
{
	struct ftcp_tcb *t = ftcp_container_of(tm, struct ftcp_tcb, keep_timer);
	int32_t idx = idx_of(s, t);
	uint64_t idle_until;

	switch (t->state) {
	case FTCP_TCP_TIME_WAIT:
		/* Freed if closed; else CLOSED until the application closes it. */
		ftcp_tcp_drop(s, idx, 0);
		return;
	case FTCP_TCP_FIN_WAIT_2:
		/* Closed by the application and the peer never sends its FIN. */
		ftcp_tcp_drop(s, idx, 0);
		return;
	case FTCP_TCP_ESTABLISHED:
	case FTCP_TCP_CLOSE_WAIT:
		break;
	default:
		return;
	}
	if (!(t->tf & FTCP_TF_KEEPALIVE))
		return;
	idle_until = t->last_rx_us + (uint64_t)t->keep_idle_s * 1000000;
	if (!t->keep_probes && s->now < idle_until) {
		ftcp_timer_arm(s, &t->keep_timer, idle_until);
		return;
	}
	if (t->keep_probes >= t->keep_cnt) {
		s->ctr.tcp_keepalive_drops++;
		ftcp_tcp_send_rst(s, idx);
		ftcp_tcp_drop(s, idx, -FTCP_ETIMEDOUT);
		return;
	}
	/* RFC 1122 4.2.3.6: a segment with SEG.SEQ = SND.NXT - 1 and no data
	 * makes the peer answer with an ACK. */
	ftcp_tcp_send_segment(s, idx, t->snd_una - 1, 0, FTCP_TCP_ACK);
	t->keep_probes++;
	s->ctr.tcp_keepalive_probes++;
	ftcp_timer_arm(s, &t->keep_timer, s->now + (uint64_t)t->keep_intvl_s * 1000000);
}

void ftcp_tcp_timers_init(struct ftcp_tcb *t)
{
	ftcp_timer_init(&t->rtx_timer, rtx_timer_fn);
	ftcp_timer_init(&t->delack_timer, delack_timer_fn);
	ftcp_timer_init(&t->keep_timer, keep_timer_fn);
}
