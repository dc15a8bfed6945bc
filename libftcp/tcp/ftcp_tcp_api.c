/*
 * ftcp_tcp_api.c — the TCP socket calls, and the end of a connection.
 *
 * Sending copies the caller's bytes into the send queue once; from there
 * segments only reference them (zero-copy to the device). Receiving copies
 * out of the receive queue, which segment data was copied into once. A
 * read that opens the window enough sends a window update at once, so a
 * reader never leaves the sender stalled on a zero window (the seed
 * design's 0-window problem).
 */
#include "stack/ftcp_stack_internal.h"

static const char *const state_names[] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

const char *ftcp_tcp_state_name(int state)
{
	if (state < 0 || (unsigned)state >= FTCP_ARRAY_SIZE(state_names))
		return "?";
	return state_names[state];
}

void ftcp_tcp_tcb_init(struct ftcp_stack *s, struct ftcp_socket *so)
{
	struct ftcp_tcb *t = &so->tcb;

	ftcp_memset(t, 0, sizeof(*t));
	t->state = FTCP_TCP_CLOSED;
	t->txbuf = FTCP_NONE;
	t->parent = t->acc_next = t->acc_head = t->acc_tail = t->out_next = t->pin_next = FTCP_NONE;
	t->tw_prev = t->tw_next = FTCP_NONE;
	t->arp_hint = FTCP_NONE;
	t->rto_us = s->cfg.tcp_rto_init_us;
	t->keep_idle_s = s->cfg.tcp_keepidle_s;
	t->keep_intvl_s = s->cfg.tcp_keepintvl_s;
	t->keep_cnt = s->cfg.tcp_keepcnt;
	t->linger_s = -1;
	t->cc.ops = s->tcp_cc_default;
	t->ts_offset = ftcp_rand_u32(&s->rng);
	ftcp_sack_sb_reset(&t->sb);
	ftcp_tcp_timers_init(t);
}

int ftcp_tcp_tcb_buffers(struct ftcp_stack *s, struct ftcp_socket *so)
{
	struct ftcp_tcb *t = &so->tcb;
	uint32_t space;

	so->rxbuf = ftcp_pool_alloc(&s->rxbuf_pool);
	if (so->rxbuf < 0)
		return -FTCP_ENOBUFS;
	t->txbuf = ftcp_pool_alloc(&s->txbuf_pool);
	if (t->txbuf < 0) {
		ftcp_pool_free(&s->rxbuf_pool, so->rxbuf);
		so->rxbuf = FTCP_NONE;
		return -FTCP_ENOBUFS;
	}
	ftcp_queue_init(&t->rxq, ftcp_pool_obj(&s->rxbuf_pool, so->rxbuf), s->cfg.rx_buffer_size);
	ftcp_queue_init(&t->txq, ftcp_pool_obj(&s->txbuf_pool, t->txbuf), s->cfg.tx_buffer_size);
	if (!t->rcvbuf || t->rcvbuf > t->rxq.size)
		t->rcvbuf = t->rxq.size;
	if (!t->sndbuf || t->sndbuf > t->txq.size)
		t->sndbuf = t->txq.size;
	/* The smallest window scale that lets the field cover the buffer
	 * (RFC 7323 2.3). */
	space = t->rxq.size;
	t->rcv_wscale = 0;
	if (s->cfg.tcp_window_scaling)
		while (t->rcv_wscale < FTCP_TCP_MAX_WSCALE && (space >> t->rcv_wscale) > 0xffff)
			t->rcv_wscale++;
	return 0;
}

static void tw_link(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = &ftcp_sock_at(s, idx)->tcb;

	if (t->tf & FTCP_TF_TW_LISTED)
		return;
	t->tf |= FTCP_TF_TW_LISTED;
	t->tw_next = FTCP_NONE;
	t->tw_prev = s->tcp_tw_tail;
	if (s->tcp_tw_tail != FTCP_NONE)
		ftcp_sock_at(s, s->tcp_tw_tail)->tcb.tw_next = idx;
	else
		s->tcp_tw_head = idx;
	s->tcp_tw_tail = idx;
}

static void tw_unlink(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = &ftcp_sock_at(s, idx)->tcb;

	if (!(t->tf & FTCP_TF_TW_LISTED))
		return;
	t->tf &= ~FTCP_TF_TW_LISTED;
	if (t->tw_prev != FTCP_NONE)
		ftcp_sock_at(s, t->tw_prev)->tcb.tw_next = t->tw_next;
	else
		s->tcp_tw_head = t->tw_next;
	if (t->tw_next != FTCP_NONE)
		ftcp_sock_at(s, t->tw_next)->tcb.tw_prev = t->tw_prev;
	else
		s->tcp_tw_tail = t->tw_prev;
	t->tw_prev = t->tw_next = FTCP_NONE;
}

void ftcp_tcp_shed_buffers(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);
	struct ftcp_tcb *t = &so->tcb;

	/* Only when nobody can read what is queued and nothing is left to
	 * send: an orphan in TIME_WAIT. Past the peer's FIN no data is taken,
	 * so its ACKs offer no window. */
	if (t->state != FTCP_TCP_TIME_WAIT || !(t->tf & FTCP_TF_ORPHAN))
		return;
	tw_link(s, idx);
	if (so->rxbuf != FTCP_NONE) {
		ftcp_pool_free(&s->rxbuf_pool, so->rxbuf);
		so->rxbuf = FTCP_NONE;
		ftcp_memset(&t->rxq, 0, sizeof(t->rxq));
		t->n_ooo = 0;
		t->rcv_adv = t->rcv_nxt;
	}
	/* Send-ring bytes a device still references stay until it lets go
	 * (the pin watch calls again then). */
	if (t->txbuf != FTCP_NONE && !ftcp_tcp_reclaim_pending(t) && !t->pins.pin[0].refs &&
	    !t->pins.pin[1].refs) {
		ftcp_pool_free(&s->txbuf_pool, t->txbuf);
		t->txbuf = FTCP_NONE;
		ftcp_memset(&t->txq, 0, sizeof(t->txq));
	}
}

bool ftcp_tcp_evict_time_wait(struct ftcp_stack *s)
{
	int32_t i;

	/* The oldest first; one still queued for output or still pinned by a
	 * device cannot go yet (rare: its last ACK is on its way out). */
	for (i = s->tcp_tw_head; i != FTCP_NONE; i = ftcp_sock_at(s, i)->tcb.tw_next) {
		const struct ftcp_tcb *t = &ftcp_sock_at(s, i)->tcb;
		if ((t->tf & FTCP_TF_ON_OUTPUT) || t->pins.pin[0].refs || t->pins.pin[1].refs)
			continue;
		s->ctr.tcp_time_wait_evicted++;
		ftcp_tcp_destroy(s, i);
		return true;
	}
	return false;
}

ftcp_sock_t ftcp_tcp_open(struct ftcp_stack *s, ftcp_event_cb cb, void *user)
{
	int32_t idx = ftcp_sock_alloc(s, FTCP_IP_PROTO_TCP, cb, user);

	if (idx < 0)
		return idx;
	return ftcp_sock_handle(s, idx);
}

static struct ftcp_socket *tcp_sock(const struct ftcp_stack *s, ftcp_sock_t h, int32_t *idx,
                                    int *err)
{
	struct ftcp_socket *so = ftcp_sock_get(s, h, idx);

	if (!so) {
		*err = -FTCP_EBADF;
		return NULL;
	}
	if (so->proto != FTCP_IP_PROTO_TCP) {
		*err = -FTCP_EOPNOTSUPP;
		return NULL;
	}
	return so;
}

int ftcp_tcp_connect(struct ftcp_stack *s, ftcp_sock_t h, const struct ftcp_sockaddr *a)
{
	int32_t idx;
	int rc = 0;
	struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);
	struct ftcp_tcb *t;
	uint32_t nexthop;

	if (!so)
		return rc;
	t = &so->tcb;
	switch (t->state) {
	case FTCP_TCP_CLOSED:
		break;
	case FTCP_TCP_SYN_SENT:
	case FTCP_TCP_SYN_RECEIVED:
		return -FTCP_EALREADY;
	case FTCP_TCP_LISTEN:
		return -FTCP_EINVAL;
	default:
		return -FTCP_EISCONN;
	}
	if (so->err)
		return -FTCP_EINVAL; /* a failed connection: open a new socket */
	/* One connection per socket: one that ended stays connected in the
	 * socket API's sense (Linux: EISCONN too); its TCB is not fresh. */
	if (so->flags & FTCP_SOCK_CONNECTED)
		return -FTCP_EISCONN;
	if (!a || a->addr == 0 || a->port == 0 || a->addr == 0xffffffffu ||
	    a->addr == s->subnet_bcast || ftcp_ipv4_is_multicast(a->addr))
		return -FTCP_EINVAL;
	nexthop = ftcp_ip_nexthop(s, a->addr);
	if (!nexthop)
		return -FTCP_ENETUNREACH;
	if (!(so->flags & FTCP_SOCK_BOUND)) {
		struct ftcp_sockaddr any = {0, 0};
		rc = ftcp_bind(s, h, &any);
		if (rc < 0)
			return rc;
	}
	/* The 4-tuple must be unused (think of an earlier connection's TIME_WAIT). */
	if (ftcp_demux_conn_lookup(s, FTCP_IP_PROTO_TCP, so->laddr ? so->laddr : s->ip, so->lport,
	                           a->addr, a->port) >= 0)
		return -FTCP_EADDRNOTAVAIL;
	if (so->rxbuf == FTCP_NONE && (rc = ftcp_tcp_tcb_buffers(s, so)) < 0)
		return rc;
	so->raddr = a->addr;
	so->rport = a->port;
	so->flags |= FTCP_SOCK_CONNECTED;
	ftcp_demux_conn_insert(s, idx);
	t->nexthop = nexthop;
	/* A socket whose earlier connection ended may connect again: its
	 * header template and next-hop hint were for the old peer. */
	t->tpl_hlen = 0;
	t->arp_hint = FTCP_NONE;
	ftcp_tcp_set_iss(t, ftcp_tcp_isn(s, so->laddr ? so->laddr : s->ip, so->lport, a->addr,
	                                 a->port));
	t->ts_offset = ftcp_tcp_ts_offset(s, so->laddr ? so->laddr : s->ip, a->addr);
	t->peer_mss = 536;
	t->state = FTCP_TCP_SYN_SENT;
	t->last_rx_us = s->now;
	/* Time the SYN for a first RTT sample (not if it is resent). */
	t->tf |= FTCP_TF_RTT_TIMING;
	t->rtt_seq = t->iss;
	t->rtt_start_us = s->now;
	ftcp_tcp_schedule(s, idx);
	return -FTCP_EINPROGRESS;
}

int ftcp_listen(struct ftcp_stack *s, ftcp_sock_t h, int backlog)
{
	int32_t idx;
	int rc = 0;
	struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);
	struct ftcp_tcb *t;

	if (!so)
		return rc;
	t = &so->tcb;
	if (t->state != FTCP_TCP_CLOSED && t->state != FTCP_TCP_LISTEN)
		return -FTCP_EINVAL;
	if (!(so->flags & FTCP_SOCK_BOUND)) {
		struct ftcp_sockaddr any = {0, 0};
		rc = ftcp_bind(s, h, &any);
		if (rc < 0)
			return rc;
	}
	t->backlog = (uint16_t)FTCP_MIN(FTCP_MAX(backlog, 1), 65535);
	t->state = FTCP_TCP_LISTEN;
	return 0;
}

ftcp_sock_t ftcp_accept(struct ftcp_stack *s, ftcp_sock_t h, ftcp_event_cb cb, void *user,
                        struct ftcp_sockaddr *peer)
{
	int32_t idx, cidx;
	int rc = 0;
	struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc), *c;
	struct ftcp_tcb *l;
	uint32_t ev = 0;

	if (!so)
		return rc;
	l = &so->tcb;
	if (l->state != FTCP_TCP_LISTEN)
		return -FTCP_EINVAL;
	if (l->acc_head == FTCP_NONE)
		return -FTCP_EAGAIN;
	cidx = l->acc_head;
	c = ftcp_sock_at(s, cidx);
	l->acc_head = c->tcb.acc_next;
	if (l->acc_head == FTCP_NONE)
		l->acc_tail = FTCP_NONE;
	l->accept_len--;
	c->tcb.acc_next = FTCP_NONE;
	c->cb = cb;
	c->user = user;
	if (peer) {
		peer->addr = c->raddr;
		peer->port = c->rport;
	}
	/* Whatever happened before accept is reported to the new owner. */
	if (ftcp_queue_used(&c->tcb.rxq))
		ev |= FTCP_EV_READABLE;
	if (c->tcb.tf & FTCP_TF_FIN_RCVD)
		ev |= FTCP_EV_READABLE | FTCP_EV_RDHUP;
	if (c->err)
		ev |= FTCP_EV_ERROR;
	if (ev)
		ftcp_sock_event(s, cidx, ev);
	return ftcp_sock_handle(s, cidx);
}

int ftcp_send(struct ftcp_stack *s, ftcp_sock_t h, const void *buf, uint32_t len)
{
	int32_t idx;
	int rc = 0;
	struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);
	struct ftcp_tcb *t;
	uint32_t room, used, n;

	if (!so)
		return rc;
	t = &so->tcb;
	if (so->err) {
		rc = so->err;
		so->err = 0;
		return rc == -FTCP_ECONNRESET || rc == -FTCP_ETIMEDOUT ? rc : -FTCP_EPIPE;
	}
	switch (t->state) {
	case FTCP_TCP_ESTABLISHED:
	case FTCP_TCP_CLOSE_WAIT:
		break;
	case FTCP_TCP_SYN_SENT:
	case FTCP_TCP_SYN_RECEIVED:
		return -FTCP_EAGAIN; /* WRITABLE comes with the connection */
	case FTCP_TCP_CLOSED:
	case FTCP_TCP_LISTEN:
		return (so->flags & FTCP_SOCK_CONNECTED) ? -FTCP_EPIPE : -FTCP_ENOTCONN;
	default:
		return -FTCP_EPIPE;
	}
	if (t->tf & FTCP_TF_FIN_QUEUED)
		return -FTCP_EPIPE;
	if (len && !buf)
		return -FTCP_EINVAL;
	used = ftcp_queue_used(&t->txq);
	room = ftcp_queue_free(&t->txq);
	if (t->sndbuf < t->txq.size)
		room = t->sndbuf > used ? FTCP_MIN(room, t->sndbuf - used) : 0;
	n = FTCP_MIN(len, room);
	if (!n && len) {
		t->tf |= FTCP_TF_WANT_WRITE;
		return -FTCP_EAGAIN;
	}
	ftcp_queue_write(&t->txq, buf, n);
	/* Short of the WRITABLE level now (a partial send, or a full one that
	 * left little room): owe the writer an event, as Linux sets
	 * SOCK_NOSPACE, or a poller that saw the socket unwritable sleeps for
	 * ever. */
	if (!ftcp_tcp_writable(t))
		t->tf |= FTCP_TF_WANT_WRITE;
	ftcp_tcp_schedule(s, idx);
	return (int)n;
}

int ftcp_recv(struct ftcp_stack *s, ftcp_sock_t h, void *buf, uint32_t len, uint32_t flags)
{
	int32_t idx;
	int rc = 0;
	struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);
	struct ftcp_tcb *t;
	uint32_t n, old_edge;

	if (!so)
		return rc;
	t = &so->tcb;
	if (len && !buf)
		return -FTCP_EINVAL;
	if (t->state == FTCP_TCP_LISTEN)
		return -FTCP_ENOTCONN;
	if (!ftcp_queue_used(&t->rxq)) {
		if (so->err) {
			rc = so->err;
			so->err = 0;
			return rc;
		}
		if ((t->tf & (FTCP_TF_FIN_RCVD | FTCP_TF_RD_SHUT)) || t->state == FTCP_TCP_CLOSED)
			return (so->flags & FTCP_SOCK_CONNECTED) || (t->tf & FTCP_TF_FIN_RCVD)
			           ? 0
			           : -FTCP_ENOTCONN;
		return t->state == FTCP_TCP_SYN_SENT || t->state == FTCP_TCP_SYN_RECEIVED ||
		               t->state >= FTCP_TCP_ESTABLISHED
		           ? -FTCP_EAGAIN
		           : -FTCP_ENOTCONN;
	}
	if (flags & FTCP_MSG_PEEK)
		return (int)ftcp_queue_peek(&t->rxq, 0, buf, len);
	old_edge = t->rcv_adv;
	n = ftcp_queue_read(&t->rxq, buf, len);
	/* Window update as soon as the reader frees enough (RFC 9293
	 * 3.8.6.2.2's threshold: min(buffer/2, MSS) past what we offered). */
	if (t->state == FTCP_TCP_ESTABLISHED || t->state == FTCP_TCP_FIN_WAIT_1 ||
	    t->state == FTCP_TCP_FIN_WAIT_2) {
		uint32_t wnd = ftcp_tcp_rcv_window(t);
		if (ftcp_seq_gt(t->rcv_nxt + wnd, old_edge) &&
		    (t->rcv_nxt + wnd) - old_edge >= FTCP_MIN(t->rcvbuf / 2, 2u * t->mss)) {
			t->tf |= FTCP_TF_ACK_NOW;
			s->ctr.tcp_window_updates++;
			ftcp_tcp_schedule(s, idx);
		}
	}
	return (int)n;
}

/* Queue our FIN after the data already queued. */
static void queue_fin(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = &ftcp_sock_at(s, idx)->tcb;

	if (t->tf & FTCP_TF_FIN_QUEUED)
		return;
	t->tf |= FTCP_TF_FIN_QUEUED;
	t->fin_seq = t->tx_seq + ftcp_queue_used(&t->txq);
	/* In SYN_RECEIVED the FIN waits for the handshake to complete
	 * (RFC 9293 3.10.4): established() then enters FIN_WAIT_1. */
	if (t->state == FTCP_TCP_ESTABLISHED)
		t->state = FTCP_TCP_FIN_WAIT_1;
	else if (t->state == FTCP_TCP_CLOSE_WAIT)
		t->state = FTCP_TCP_LAST_ACK;
	ftcp_tcp_schedule(s, idx);
}

int ftcp_shutdown(struct ftcp_stack *s, ftcp_sock_t h, int how)
{
	int32_t idx;
	int rc = 0;
	struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);
	struct ftcp_tcb *t;

	if (!so)
		return rc;
	t = &so->tcb;
	if (how < FTCP_SHUT_RD || how > FTCP_SHUT_RDWR)
		return -FTCP_EINVAL;
	if (t->state < FTCP_TCP_SYN_RECEIVED && t->state != FTCP_TCP_LISTEN)
		return -FTCP_ENOTCONN;
	if (how & FTCP_SHUT_RD) {
		t->tf |= FTCP_TF_RD_SHUT;
		ftcp_queue_read(&t->rxq, NULL, ftcp_queue_used(&t->rxq));
	}
	if ((how & FTCP_SHUT_WR) && t->state != FTCP_TCP_LISTEN)
		queue_fin(s, idx);
	return 0;
}

/* Remove a child from its listener's queues. */
static void unlink_child(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_tcb *t = &ftcp_sock_at(s, idx)->tcb, *l;
	int32_t *link, prev = FTCP_NONE;

	if (t->parent == FTCP_NONE)
		return;
	l = &ftcp_sock_at(s, t->parent)->tcb;
	if (t->state == FTCP_TCP_SYN_RECEIVED) {
		l->syn_len--;
	} else {
		for (link = &l->acc_head; *link != FTCP_NONE; link = &ftcp_sock_at(s, *link)->tcb.acc_next) {
			if (*link == idx) {
				*link = t->acc_next;
				if (l->acc_tail == idx)
					l->acc_tail = prev;
				l->accept_len--;
				break;
			}
			prev = *link;
		}
	}
	t->parent = FTCP_NONE;
}

static void cancel_timers(struct ftcp_stack *s, struct ftcp_tcb *t)
{
	ftcp_timer_cancel(s, &t->rtx_timer);
	ftcp_timer_cancel(s, &t->delack_timer);
	ftcp_timer_cancel(s, &t->keep_timer);
}

void ftcp_tcp_destroy(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);
	struct ftcp_tcb *t = &so->tcb;

	ftcp_tcp_pin_unwatch(s, idx);
	tw_unlink(s, idx);
	cancel_timers(s, t);
	unlink_child(s, idx);
	t->state = FTCP_TCP_CLOSED;
	if ((t->tf & FTCP_TF_ON_OUTPUT) || t->pins.pin[0].refs || t->pins.pin[1].refs) {
		/* Freed later (below); meanwhile the handle is dead and the
		 * 4-tuple free for a new connection. */
		if (!(t->tf & FTCP_TF_ORPHAN)) {
			so->gen = (uint16_t)((so->gen + 1) & FTCP_SOCK_GEN_MASK);
			so->cb = NULL;
		}
		if (so->flags & FTCP_SOCK_IN_CONN_TABLE)
			ftcp_demux_conn_remove(s, idx);
		if (so->flags & FTCP_SOCK_IN_PORT_TABLE)
			ftcp_demux_port_remove(s, idx);
	}
	if (t->tf & FTCP_TF_ON_OUTPUT) {
		/* Still on the output list: step 3 skips CLOSED connections and
		 * frees them there, so the list stays intact. */
		t->tf |= FTCP_TF_ORPHAN;
		return;
	}
	if (t->pins.pin[0].refs || t->pins.pin[1].refs) {
		/* A device still references the send queue: free when it lets
		 * go (checked in step 3). */
		t->tf |= FTCP_TF_ORPHAN;
		s->tcp_zombies++;
		return;
	}
	ftcp_sock_release(s, idx);
}

void ftcp_tcp_reap_zombies(struct ftcp_stack *s)
{
	int32_t i;

	for (i = ftcp_pool_next(&s->sock_pool, -1); i >= 0 && s->tcp_zombies;
	     i = ftcp_pool_next(&s->sock_pool, i)) {
		struct ftcp_socket *so = ftcp_sock_at(s, i);
		if (so->proto == FTCP_IP_PROTO_TCP && so->tcb.state == FTCP_TCP_CLOSED &&
		    (so->tcb.tf & FTCP_TF_ORPHAN) && !(so->tcb.tf & FTCP_TF_ON_OUTPUT) &&
		    !so->tcb.pins.pin[0].refs && !so->tcb.pins.pin[1].refs) {
			s->tcp_zombies--;
			ftcp_tcp_pin_unwatch(s, i);
			ftcp_sock_release(s, i);
		}
	}
}

void ftcp_tcp_drop(struct ftcp_stack *s, int32_t idx, int err)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);
	struct ftcp_tcb *t = &so->tcb;

	if (t->tf & FTCP_TF_ORPHAN || t->parent != FTCP_NONE) {
		/* Nobody holds a handle: free it now. */
		ftcp_tcp_destroy(s, idx);
		return;
	}
	/* The application still holds the handle: the socket stays, CLOSED,
	 * with the error to report, until ftcp_close. */
	if (err)
		so->err = err;
	cancel_timers(s, t);
	t->state = FTCP_TCP_CLOSED;
	t->tf |= FTCP_TF_FIN_RCVD; /* reads return end of stream (or the error) */
	if (so->flags & FTCP_SOCK_IN_CONN_TABLE)
		ftcp_demux_conn_remove(s, idx);
	ftcp_sock_event(s, idx, FTCP_EV_CLOSED | FTCP_EV_READABLE | FTCP_EV_WRITABLE |
	                            (err ? FTCP_EV_ERROR : 0));
}

/* Abort every connection a closing listener still holds. */
static void close_listener(struct ftcp_stack *s, int32_t lidx)
{
	struct ftcp_tcb *l = &ftcp_sock_at(s, lidx)->tcb;
	int32_t i;

	for (i = ftcp_pool_next(&s->sock_pool, -1); i >= 0; i = ftcp_pool_next(&s->sock_pool, i)) {
		struct ftcp_socket *c = ftcp_sock_at(s, i);
		if (c->proto == FTCP_IP_PROTO_TCP && c->tcb.parent == lidx &&
		    c->tcb.state != FTCP_TCP_CLOSED) {
			ftcp_tcp_send_rst(s, i);
			ftcp_tcp_destroy(s, i);
		}
	}
	/* Connections established but never accepted (no longer linked by
	 * parent): reset those still open, free them all (as Linux's
	 * inet_csk_listen_stop does). */
	while (l->acc_head != FTCP_NONE) {
		int32_t c = l->acc_head;
		struct ftcp_tcb *ct = &ftcp_sock_at(s, c)->tcb;
		l->acc_head = ct->acc_next;
		ct->acc_next = FTCP_NONE;
		if (ct->state != FTCP_TCP_CLOSED)
			ftcp_tcp_send_rst(s, c);
		ftcp_tcp_destroy(s, c);
	}
	l->acc_tail = FTCP_NONE;
	l->accept_len = 0;
}

int ftcp_tcp_close(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);
	struct ftcp_tcb *t = &so->tcb;

	switch (t->state) {
	case FTCP_TCP_CLOSED:
	case FTCP_TCP_SYN_SENT:
		ftcp_tcp_destroy(s, idx);
		return 0;
	case FTCP_TCP_LISTEN:
		close_listener(s, idx);
		ftcp_tcp_destroy(s, idx);
		return 0;
	case FTCP_TCP_TIME_WAIT:
		t->tf |= FTCP_TF_ORPHAN;
		so->gen = (uint16_t)((so->gen + 1) & FTCP_SOCK_GEN_MASK);
		so->cb = NULL;
		ftcp_tcp_shed_buffers(s, idx);
		return 0;
	default:
		break;
	}
	/* Unread data, or SO_LINGER 0: reset (RFC 2525 2.17, Linux). */
	if (ftcp_queue_used(&t->rxq) || t->linger_s == 0) {
		s->ctr.tcp_close_resets++;
		ftcp_tcp_send_rst(s, idx);
		ftcp_tcp_destroy(s, idx);
		return 0;
	}
	queue_fin(s, idx);
	/* The handle dies now; the connection finishes on its own. */
	t->tf |= FTCP_TF_ORPHAN;
	so->gen = (uint16_t)((so->gen + 1) & FTCP_SOCK_GEN_MASK);
	so->cb = NULL;
	if (t->state == FTCP_TCP_FIN_WAIT_2)
		ftcp_timer_arm(s, &t->keep_timer, s->now + s->cfg.tcp_fin_wait2_us);
	return 0;
}

int ftcp_abort(struct ftcp_stack *s, ftcp_sock_t h)
{
	int32_t idx;
	int rc = 0;
	struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);
	struct ftcp_tcb *t;

	if (!so)
		return rc;
	t = &so->tcb;
	if (t->state == FTCP_TCP_LISTEN)
		close_listener(s, idx);
	else if (t->state >= FTCP_TCP_SYN_RECEIVED && t->state != FTCP_TCP_TIME_WAIT)
		ftcp_tcp_send_rst(s, idx);
	ftcp_tcp_destroy(s, idx);
	return 0;
}

void ftcp_tcp_arp_resolved(struct ftcp_stack *s, uint32_t ip)
{
	int32_t i;

	for (i = ftcp_pool_next(&s->sock_pool, -1); i >= 0; i = ftcp_pool_next(&s->sock_pool, i)) {
		struct ftcp_socket *so = ftcp_sock_at(s, i);
		if (so->proto == FTCP_IP_PROTO_TCP && (so->tcb.tf & FTCP_TF_ARP_WAIT) &&
		    so->tcb.nexthop == ip)
			ftcp_tcp_schedule(s, i);
	}
}

/* ---- options ---- */

int ftcp_setsockopt(struct ftcp_stack *s, ftcp_sock_t h, int opt, int value)
{
	int32_t idx;
	int rc = 0;
	struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);
	struct ftcp_tcb *t;

	if (!so)
		return rc;
	t = &so->tcb;
	switch (opt) {
	case FTCP_SO_NODELAY:
		if (value)
			t->tf |= FTCP_TF_NODELAY;
		else
			t->tf &= ~FTCP_TF_NODELAY;
		ftcp_tcp_schedule(s, idx); /* RFC 1122: may push what Nagle held */
		return 0;
	case FTCP_SO_KEEPALIVE:
		if (value)
			t->tf |= FTCP_TF_KEEPALIVE;
		else
			t->tf &= ~FTCP_TF_KEEPALIVE;
		ftcp_tcp_keep_arm(s, t);
		return 0;
	case FTCP_SO_KEEPIDLE:
	case FTCP_SO_KEEPINTVL:
		if (value < 1 || value > 32767)
			return -FTCP_EINVAL;
		if (opt == FTCP_SO_KEEPIDLE)
			t->keep_idle_s = (uint32_t)value;
		else
			t->keep_intvl_s = (uint32_t)value;
		ftcp_tcp_keep_arm(s, t);
		return 0;
	case FTCP_SO_KEEPCNT:
		if (value < 1 || value > 127)
			return -FTCP_EINVAL;
		t->keep_cnt = (uint32_t)value;
		return 0;
	case FTCP_SO_LINGER:
		t->linger_s = value < 0 ? -1 : value;
		return 0;
	case FTCP_SO_RCVBUF:
	case FTCP_SO_SNDBUF:
		if (value < 0)
			return -FTCP_EINVAL;
		/* Capped by the fixed buffers; at least 2 KiB so a segment
		 * fits (Linux's SOCK_MIN_RCVBUF is similar). */
		if (opt == FTCP_SO_RCVBUF)
			t->rcvbuf = FTCP_MAX((uint32_t)value, 2048u);
		else
			t->sndbuf = FTCP_MAX((uint32_t)value, 2048u);
		if (so->rxbuf != FTCP_NONE) {
			t->rcvbuf = FTCP_MIN(t->rcvbuf, t->rxq.size);
			t->sndbuf = FTCP_MIN(t->sndbuf, t->txq.size);
		}
		if (!ftcp_tcp_writable(t)) /* a smaller send buffer, now full */
			t->tf |= FTCP_TF_WANT_WRITE;
		return 0;
	case FTCP_SO_MAXSEG:
		if (value < 88 || value > 65535)
			return -FTCP_EINVAL;
		if (t->state != FTCP_TCP_CLOSED && t->state != FTCP_TCP_LISTEN)
			return -FTCP_EINVAL;
		t->mss = (uint16_t)value;
		return 0;
	default:
		return -FTCP_EOPNOTSUPP;
	}
}

int ftcp_getsockopt(const struct ftcp_stack *s, ftcp_sock_t h, int opt, int *value)
{
	int32_t idx;
	int rc = 0;
	const struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);
	const struct ftcp_tcb *t;

	if (!so)
		return rc;
	if (!value)
		return -FTCP_EINVAL;
	t = &so->tcb;
	switch (opt) {
	case FTCP_SO_NODELAY: *value = !!(t->tf & FTCP_TF_NODELAY); return 0;
	case FTCP_SO_KEEPALIVE: *value = !!(t->tf & FTCP_TF_KEEPALIVE); return 0;
	case FTCP_SO_KEEPIDLE: *value = (int)t->keep_idle_s; return 0;
	case FTCP_SO_KEEPINTVL: *value = (int)t->keep_intvl_s; return 0;
	case FTCP_SO_KEEPCNT: *value = (int)t->keep_cnt; return 0;
	case FTCP_SO_LINGER: *value = t->linger_s; return 0;
	case FTCP_SO_RCVBUF: *value = (int)(t->rcvbuf ? t->rcvbuf : s->cfg.rx_buffer_size); return 0;
	case FTCP_SO_SNDBUF: *value = (int)(t->sndbuf ? t->sndbuf : s->cfg.tx_buffer_size); return 0;
	case FTCP_SO_MAXSEG:
		*value = t->mss ? t->mss : (int)(s->mtu - FTCP_IPV4_HLEN - FTCP_TCP_HLEN);
		return 0;
	default:
		return -FTCP_EOPNOTSUPP;
	}
}

int ftcp_set_congestion(struct ftcp_stack *s, ftcp_sock_t h, const char *name)
{
	int32_t idx;
	int rc = 0;
	struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);
	const struct ftcp_cc_ops *ops;

	if (!so)
		return rc;
	ops = name ? ftcp_cc_find(name) : NULL;
	if (!ops)
		return -FTCP_EINVAL;
	if (so->tcb.state >= FTCP_TCP_ESTABLISHED && so->tcb.cc.ops != ops) {
		/* Switch mid-connection keeping the current window. */
		uint32_t cwnd = so->tcb.cc.cwnd, ssthresh = so->tcb.cc.ssthresh;
		ftcp_cc_start(&so->tcb.cc, ops, so->tcb.mss, s->now);
		so->tcb.cc.cwnd = cwnd;
		so->tcb.cc.ssthresh = ssthresh;
	} else {
		so->tcb.cc.ops = ops;
	}
	return 0;
}

const char *ftcp_get_congestion(const struct ftcp_stack *s, ftcp_sock_t h)
{
	int32_t idx;
	int rc = 0;
	const struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);

	return so && so->tcb.cc.ops ? so->tcb.cc.ops->name : NULL;
}

int ftcp_tcp_info(const struct ftcp_stack *s, ftcp_sock_t h, struct ftcp_tcp_info *info)
{
	int32_t idx;
	int rc = 0;
	const struct ftcp_socket *so = tcp_sock(s, h, &idx, &rc);
	const struct ftcp_tcb *t;

	if (!so)
		return rc;
	if (!info)
		return -FTCP_EINVAL;
	t = &so->tcb;
	ftcp_memset(info, 0, sizeof(*info));
	info->state = t->state;
	info->options = (uint8_t)(((t->tf & FTCP_TF_TS_OK) ? FTCP_TCPI_OPT_TIMESTAMPS : 0) |
	                          ((t->tf & FTCP_TF_SACK_OK) ? FTCP_TCPI_OPT_SACK : 0) |
	                          ((t->tf & FTCP_TF_WS_OK) ? FTCP_TCPI_OPT_WSCALE : 0));
	info->snd_wscale = t->snd_wscale;
	info->rcv_wscale = t->rcv_wscale;
	info->retransmits = t->retries;
	info->backoff = t->backoff;
	info->in_recovery = !!(t->tf & FTCP_TF_RECOVERY);
	info->rto_us = t->rto_us;
	info->rtt_us = t->srtt_us;
	info->rttvar_us = t->rttvar_us;
	info->snd_mss = t->mss;
	info->rcv_mss = s->mtu - FTCP_IPV4_HLEN - FTCP_TCP_HLEN;
	info->snd_cwnd = t->cc.cwnd;
	info->snd_ssthresh = t->cc.ssthresh;
	info->unacked = t->snd_max - t->snd_una;
	info->sacked = t->sb.sacked_bytes;
	info->bytes_in_flight = (t->tf & FTCP_TF_SACK_OK)
	                            ? ftcp_sack_sb_pipe(&t->sb, t->snd_una, t->snd_max, t->high_rxt,
	                                                t->mss ? t->mss : 536)
	                            : t->snd_nxt - t->snd_una;
	info->snd_wnd = t->snd_wnd;
	info->rcv_wnd = ftcp_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	info->total_retrans = t->total_retrans;
	info->fast_retrans = t->fast_rtx_events;
	info->timeouts = t->rto_events;
	info->bytes_acked = t->bytes_acked;
	info->bytes_received = t->bytes_received;
	info->segs_in = t->segs_in;
	info->segs_out = t->segs_out;
	if (so->rxbuf != FTCP_NONE) {
		info->send_queue = ftcp_queue_used(&t->txq);
		info->recv_queue = ftcp_queue_used(&t->rxq);
	}
	return 0;
}
