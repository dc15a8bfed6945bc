/*
 * ftcp_socket.c — the socket table: handles, event delivery and the calls
 * every protocol shares (bind, connect, close, names, readiness).
 *
 * A handle is (generation << 20 | slot). Closing bumps the slot's
 * generation, so a stale handle fails with EBADF instead of reaching the
 * slot's next owner. Events: protocol input only ORs bits into ev_pending
 * and queues the socket once; step 4 of the poll loop calls the callbacks,
 * so a callback may close its socket without pulling state from under the
 * receive path.
 */
#include "ftcp_stack_internal.h"

ftcp_sock_t ftcp_sock_handle(const struct ftcp_stack *s, int32_t idx)
{
	const struct ftcp_socket *so = ftcp_sock_at(s, idx);
	return (ftcp_sock_t)(((uint32_t)so->gen << FTCP_SOCK_IDX_BITS) | (uint32_t)idx);
}

struct ftcp_socket *ftcp_sock_get(const struct ftcp_stack *s, ftcp_sock_t h, int32_t *idx_out)
{
	int32_t idx;
	struct ftcp_socket *so;

	if (h < 0)
		return NULL;
	idx = (int32_t)((uint32_t)h & FTCP_SOCK_IDX_MASK);
	if (!ftcp_pool_is_allocated(&s->sock_pool, idx))
		return NULL;
	so = ftcp_sock_at(s, idx);
	if (so->gen != (((uint32_t)h >> FTCP_SOCK_IDX_BITS) & FTCP_SOCK_GEN_MASK))
		return NULL;
	if (idx_out)
		*idx_out = idx;
	return so;
}

int32_t ftcp_sock_alloc(struct ftcp_stack *s, uint8_t proto, ftcp_event_cb cb, void *user)
{
	int32_t idx;
	struct ftcp_socket *so;
	uint16_t gen;

	/* A closed connection waiting out TIME_WAIT yields its slot to a new
	 * one (Linux drops TIME_WAIT state when its buckets overflow too):
	 * otherwise a short-connection load stops at max_sockets per 2 MSL. */
	if (s->sock_pool.in_use == s->sock_pool.count)
		ftcp_tcp_evict_time_wait(s);
	idx = ftcp_pool_alloc(&s->sock_pool);
	if (idx < 0)
		return -FTCP_EMFILE;
	so = ftcp_sock_at(s, idx);
	gen = so->gen; /* the generation survives in the free slot */
	ftcp_memset(so, 0, sizeof(*so));
	so->gen = gen;
	so->proto = proto;
	so->cb = cb;
	so->user = user;
	so->port_next = so->conn_next = so->ev_next = FTCP_NONE;
	so->rxbuf = FTCP_NONE;
	if (proto == FTCP_IP_PROTO_TCP)
		ftcp_tcp_tcb_init(s, so);
	return idx;
}

static void ev_unqueue(struct ftcp_stack *s, int32_t idx)
{
	int32_t *link = &s->ev_head, prev = FTCP_NONE;

	while (*link != FTCP_NONE && *link != idx) {
		prev = *link;
		link = &ftcp_sock_at(s, *link)->ev_next;
	}
	if (*link != idx)
		return;
	*link = ftcp_sock_at(s, idx)->ev_next;
	if (s->ev_tail == idx)
		s->ev_tail = prev;
}

void ftcp_sock_release(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);

	if (so->flags & FTCP_SOCK_IN_CONN_TABLE)
		ftcp_demux_conn_remove(s, idx);
	if (so->flags & FTCP_SOCK_IN_PORT_TABLE)
		ftcp_demux_port_remove(s, idx);
	if (so->flags & FTCP_SOCK_EV_QUEUED)
		ev_unqueue(s, idx);
	if (so->flags & FTCP_SOCK_TX_BLOCKED)
		s->tx_blocked--;
	if (so->rxbuf != FTCP_NONE)
		ftcp_pool_free(&s->rxbuf_pool, so->rxbuf);
	if (so->proto == FTCP_IP_PROTO_TCP && so->tcb.txbuf != FTCP_NONE) {
		ftcp_pool_free(&s->txbuf_pool, so->tcb.txbuf);
		so->tcb.txbuf = FTCP_NONE;
	}
	so->gen = (uint16_t)((so->gen + 1) & FTCP_SOCK_GEN_MASK);
	so->flags = 0;
	so->rxbuf = FTCP_NONE;
	ftcp_pool_free(&s->sock_pool, idx);
}

void ftcp_sock_event(struct ftcp_stack *s, int32_t idx, uint32_t ev)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);

	so->ev_pending |= ev;
	if (so->flags & FTCP_SOCK_EV_QUEUED)
		return;
	so->flags |= FTCP_SOCK_EV_QUEUED;
	so->ev_next = FTCP_NONE;
	if (s->ev_tail == FTCP_NONE)
		s->ev_head = idx;
	else
		ftcp_sock_at(s, s->ev_tail)->ev_next = idx;
	s->ev_tail = idx;
}

int ftcp_sock_deliver_events(struct ftcp_stack *s)
{
	int delivered = 0;
	/* Events raised by callbacks wait for the next poll: no unbounded
	 * ping-pong inside one step. */
	int32_t last = s->ev_tail;

	while (s->ev_head != FTCP_NONE) {
		int32_t idx = s->ev_head;
		struct ftcp_socket *so = ftcp_sock_at(s, idx);
		uint32_t ev = so->ev_pending;
		bool was_last = idx == last;

		s->ev_head = so->ev_next;
		if (s->ev_head == FTCP_NONE)
			s->ev_tail = FTCP_NONE;
		so->flags &= (uint8_t)~FTCP_SOCK_EV_QUEUED;
		so->ev_pending = 0;
		if (so->cb && ev) {
			so->cb(s, ftcp_sock_handle(s, idx), ev, so->user);
			delivered++;
		}
		if (was_last)
			break;
	}
	return delivered;
}

bool ftcp_sock_udp_writable(const struct ftcp_stack *s)
{
	return s->txq.size - ftcp_fifo_used(&s->txq) >=
	       ftcp_fifo_record_size(ftcp_config_max_frame(&s->cfg)) * 2;
}

void ftcp_sock_tx_wait(struct ftcp_stack *s, struct ftcp_socket *so)
{
	if (!(so->flags & FTCP_SOCK_TX_BLOCKED)) {
		so->flags |= FTCP_SOCK_TX_BLOCKED;
		s->tx_blocked++;
	}
}

/* The TX fifo drained: sockets waiting for room may send again. Only once
 * the readiness view agrees, or a woken waiter would find the socket still
 * unwritable with no event left to come. */
void ftcp_sock_tx_space(struct ftcp_stack *s)
{
	int32_t i;

	if (!ftcp_sock_udp_writable(s))
		return;
	for (i = ftcp_pool_next(&s->sock_pool, -1); i >= 0 && s->tx_blocked;
	     i = ftcp_pool_next(&s->sock_pool, i)) {
		struct ftcp_socket *so = ftcp_sock_at(s, i);
		if (so->flags & FTCP_SOCK_TX_BLOCKED) {
			so->flags &= (uint8_t)~FTCP_SOCK_TX_BLOCKED;
			s->tx_blocked--;
			ftcp_sock_event(s, i, FTCP_EV_WRITABLE);
		}
	}
}

int ftcp_bind(struct ftcp_stack *s, ftcp_sock_t h, const struct ftcp_sockaddr *a)
{
	int32_t idx;
	struct ftcp_socket *so = ftcp_sock_get(s, h, &idx);
	uint16_t port;

	if (!so)
		return -FTCP_EBADF;
	if (!a)
		return -FTCP_EINVAL;
	if (so->flags & FTCP_SOCK_BOUND)
		return -FTCP_EINVAL; /* as Linux: a socket binds once */
	if (a->addr != 0 && a->addr != s->ip)
		return -FTCP_EADDRNOTAVAIL;
	port = a->port;
	if (port == 0) {
		port = ftcp_demux_ephemeral_port(s, so->proto, a->addr);
		if (!port)
			return -FTCP_EADDRNOTAVAIL;
	} else if (ftcp_demux_port_in_use(s, so->proto, a->addr, port, so->flags)) {
		return -FTCP_EADDRINUSE;
	}
	so->laddr = a->addr;
	so->lport = port;
	so->flags |= FTCP_SOCK_BOUND;
	ftcp_demux_port_insert(s, idx);
	return 0;
}

int ftcp_connect(struct ftcp_stack *s, ftcp_sock_t h, const struct ftcp_sockaddr *a)
{
	int32_t idx;
	struct ftcp_socket *so = ftcp_sock_get(s, h, &idx);
	int rc;

	if (!so)
		return -FTCP_EBADF;
	if (!a)
		return -FTCP_EINVAL;
	if (so->proto == FTCP_IP_PROTO_TCP)
		return ftcp_tcp_connect(s, h, a);
	if (so->proto != FTCP_IP_PROTO_UDP)
		return -FTCP_EOPNOTSUPP;
	if (so->flags & FTCP_SOCK_IN_CONN_TABLE)
		ftcp_demux_conn_remove(s, idx);
	so->flags &= (uint8_t)~FTCP_SOCK_CONNECTED;
	so->raddr = 0;
	so->rport = 0;
	if (a->addr == 0 && a->port == 0)
		return 0; /* disconnect (AF_UNSPEC in BSD terms) */
	if (a->addr == 0 || a->port == 0)
		return -FTCP_EINVAL;
	if (!(so->flags & FTCP_SOCK_BOUND)) {
		struct ftcp_sockaddr any = {0, 0};
		rc = ftcp_bind(s, h, &any);
		if (rc < 0)
			return rc;
	}
	so->raddr = a->addr;
	so->rport = a->port;
	so->flags |= FTCP_SOCK_CONNECTED;
	so->err = 0;
	ftcp_demux_conn_insert(s, idx);
	return 0;
}

int ftcp_close(struct ftcp_stack *s, ftcp_sock_t h)
{
	int32_t idx;
	struct ftcp_socket *so = ftcp_sock_get(s, h, &idx);

	if (!so)
		return -FTCP_EBADF;
	if (so->proto == FTCP_IP_PROTO_TCP)
		return ftcp_tcp_close(s, idx);
	ftcp_sock_release(s, idx);
	return 0;
}

int ftcp_getsockname(const struct ftcp_stack *s, ftcp_sock_t h, struct ftcp_sockaddr *a)
{
	const struct ftcp_socket *so = ftcp_sock_get(s, h, NULL);

	if (!so)
		return -FTCP_EBADF;
	/* A connected socket on the wildcard address sends from ours. */
	a->addr = so->laddr ? so->laddr : ((so->flags & FTCP_SOCK_CONNECTED) ? s->ip : 0);
	a->port = so->lport;
	return 0;
}

int ftcp_getpeername(const struct ftcp_stack *s, ftcp_sock_t h, struct ftcp_sockaddr *a)
{
	const struct ftcp_socket *so = ftcp_sock_get(s, h, NULL);

	if (!so)
		return -FTCP_EBADF;
	if (!(so->flags & FTCP_SOCK_CONNECTED))
		return -FTCP_ENOTCONN;
	a->addr = so->raddr;
	a->port = so->rport;
	return 0;
}

int ftcp_sock_error(struct ftcp_stack *s, ftcp_sock_t h)
{
	struct ftcp_socket *so = ftcp_sock_get(s, h, NULL);
	int err;

	if (!so)
		return -FTCP_EBADF;
	err = so->err;
	so->err = 0;
	return err;
}

static int tcp_readiness(const struct ftcp_socket *so)
{
	const struct ftcp_tcb *t = &so->tcb;
	int ev = 0;

	if (t->state == FTCP_TCP_LISTEN)
		return t->accept_len ? FTCP_EV_READABLE : 0;
	if (so->rxbuf != FTCP_NONE && ftcp_queue_used(&t->rxq))
		ev |= FTCP_EV_READABLE;
	if (t->tf & FTCP_TF_FIN_RCVD)
		ev |= FTCP_EV_READABLE | FTCP_EV_RDHUP;
	if ((t->state == FTCP_TCP_ESTABLISHED || t->state == FTCP_TCP_CLOSE_WAIT) &&
	    !(t->tf & FTCP_TF_FIN_QUEUED) && ftcp_tcp_writable(t))
		ev |= FTCP_EV_WRITABLE;
	if (so->err)
		ev |= FTCP_EV_ERROR | FTCP_EV_READABLE | FTCP_EV_WRITABLE;
	if ((so->flags & FTCP_SOCK_CONNECTED) &&
	    (t->state == FTCP_TCP_CLOSED || t->state == FTCP_TCP_TIME_WAIT))
		ev |= FTCP_EV_CLOSED | FTCP_EV_READABLE | FTCP_EV_WRITABLE;
	return ev;
}

int ftcp_udp_set_reuseaddr(struct ftcp_stack *s, ftcp_sock_t h, bool on)
{
	struct ftcp_socket *so = ftcp_sock_get(s, h, NULL);

	if (!so)
		return -FTCP_EBADF;
	if (so->proto != FTCP_IP_PROTO_UDP)
		return -FTCP_EOPNOTSUPP;
	if (on)
		so->flags |= FTCP_SOCK_REUSEADDR;
	else
		so->flags &= (uint8_t)~FTCP_SOCK_REUSEADDR;
	return 0;
}

int ftcp_set_reuseport(struct ftcp_stack *s, ftcp_sock_t h, bool on)
{
	struct ftcp_socket *so = ftcp_sock_get(s, h, NULL);

	if (!so)
		return -FTCP_EBADF;
	if (so->flags & FTCP_SOCK_BOUND)
		return -FTCP_EINVAL; /* the group is formed at bind */
	if (on)
		so->flags |= FTCP_SOCK_REUSEPORT;
	else
		so->flags &= (uint8_t)~FTCP_SOCK_REUSEPORT;
	return 0;
}

int ftcp_tcp_state(const struct ftcp_stack *s, ftcp_sock_t h)
{
	const struct ftcp_socket *so = ftcp_sock_get(s, h, NULL);

	if (!so)
		return -FTCP_EBADF;
	if (so->proto != FTCP_IP_PROTO_TCP)
		return -FTCP_EOPNOTSUPP;
	return so->tcb.state;
}

int ftcp_sock_readiness(const struct ftcp_stack *s, ftcp_sock_t h)
{
	const struct ftcp_socket *so = ftcp_sock_get(s, h, NULL);
	int ev = 0;

	if (!so)
		return -FTCP_EBADF;
	if (so->proto == FTCP_IP_PROTO_TCP)
		return tcp_readiness(so);
	if (!ftcp_fifo_empty(&so->rxq))
		ev |= FTCP_EV_READABLE;
	if (ftcp_sock_udp_writable(s))
		ev |= FTCP_EV_WRITABLE;
	if (so->err)
		ev |= FTCP_EV_ERROR;
	return ev;
}

int ftcp_sock_rx_pending(const struct ftcp_stack *s, ftcp_sock_t h)
{
	const struct ftcp_socket *so = ftcp_sock_get(s, h, NULL);
	const struct ftcp_udp_dgram *d;

	if (!so)
		return -FTCP_EBADF;
	if (so->proto == FTCP_IP_PROTO_TCP)
		return so->rxbuf != FTCP_NONE ? (int)ftcp_queue_used(&so->tcb.rxq) : 0;
	d = ftcp_fifo_peek(&so->rxq, NULL);
	return d ? d->len : 0;
}
