/*
 * ftcp_udp.c — UDP (RFC 768): datagram sockets on the socket table.
 *
 * Input: checksum (unless the device verified it), demultiplexing to a
 * connected socket or else a bound one, then the datagram is copied once
 * into the socket's receive fifo with its source address. Nobody bound:
 * ICMP port unreachable (unicast only, rate limited).
 * Output: the datagram is built directly in the TX fifo (one copy, from the
 * caller's buffer), or in an ARP hold slot while the next hop resolves.
 */
#include "stack/ftcp_stack_internal.h"

void ftcp_udp_input(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                    const uint8_t *pkt, uint32_t len, uint32_t rx_flags)
{
	struct ftcp_udp_repr u;
	struct ftcp_socket *so;
	struct ftcp_udp_dgram *d;
	bool verify = !(rx_flags & FTCP_RX_L4_CKSUM_GOOD);
	uint32_t plen;
	int32_t idx;
	int rc;

	if (rx_flags & FTCP_RX_L4_CKSUM_BAD) {
		s->ctr.drop_udp_cksum++;
		return;
	}
	rc = ftcp_udp_parse(pkt, len, ip->src, ip->dst, verify, &u);
	if (rc < 0) {
		if (rc == -FTCP_WIRE_CKSUM)
			s->ctr.drop_udp_cksum++;
		else if (rc == -FTCP_WIRE_TOTAL_LEN)
			s->ctr.drop_udp_len++;
		else
			s->ctr.drop_udp_short++;
		return;
	}
	if (u.src_port == 0 && u.dst_port == 0) {
		s->ctr.drop_udp_len++;
		return;
	}
	idx = ftcp_demux_lookup(s, FTCP_IP_PROTO_UDP, ip->dst, u.dst_port, ip->src, u.src_port);
	if (idx < 0) {
		s->ctr.drop_udp_no_port++;
		if (ip->dst == s->ip && !(rx_flags & FTCP_RX_L2_BCAST))
			ftcp_icmp_send_unreach(s, FTCP_ICMP_UNREACH_PORT, pkt - ip->hdr_len,
			                       ip->total_len);
		return;
	}
	so = ftcp_sock_at(s, idx);
	plen = u.len - FTCP_UDP_HLEN;
	d = ftcp_fifo_reserve(&so->rxq, (uint32_t)sizeof(*d) + plen);
	if (!d) {
		s->ctr.drop_udp_rcvbuf++;
		return;
	}
	d->src = ip->src;
	d->sport = u.src_port;
	d->len = (uint16_t)plen;
	ftcp_memcpy(d + 1, pkt + FTCP_UDP_HLEN, plen);
	ftcp_fifo_commit(&so->rxq, (uint32_t)sizeof(*d) + plen);
	s->ctr.udp_rx++;
	ftcp_sock_event(s, idx, FTCP_EV_READABLE);
}

void ftcp_udp_icmp_error(struct ftcp_stack *s, uint32_t laddr, uint16_t lport,
                         uint32_t raddr, uint16_t rport, int err)
{
	/* Like Linux without IP_RECVERR: only connected sockets hear of it
	 * (RFC 1122 4.1.3.3 leaves the choice to the implementation). */
	int32_t idx = ftcp_demux_conn_lookup(s, FTCP_IP_PROTO_UDP, laddr, lport, raddr, rport);

	if (idx < 0)
		return;
	ftcp_sock_at(s, idx)->err = err;
	ftcp_sock_event(s, idx, FTCP_EV_ERROR);
}

ftcp_sock_t ftcp_udp_open(struct ftcp_stack *s, ftcp_event_cb cb, void *user)
{
	int32_t idx = ftcp_sock_alloc(s, FTCP_IP_PROTO_UDP, cb, user);
	struct ftcp_socket *so;

	if (idx < 0)
		return idx;
	so = ftcp_sock_at(s, idx);
	so->rxbuf = ftcp_pool_alloc(&s->rxbuf_pool);
	if (so->rxbuf < 0) {
		ftcp_sock_release(s, idx);
		return -FTCP_ENOBUFS;
	}
	ftcp_fifo_init(&so->rxq, ftcp_pool_obj(&s->rxbuf_pool, so->rxbuf), s->cfg.rx_buffer_size);
	return ftcp_sock_handle(s, idx);
}

/* Bind to an ephemeral port on the wildcard address if not bound yet. */
static int autobind(struct ftcp_stack *s, ftcp_sock_t h)
{
	struct ftcp_sockaddr any = {0, 0};
	return ftcp_bind(s, h, &any);
}

int ftcp_sendto(struct ftcp_stack *s, ftcp_sock_t h, const void *buf, uint32_t len,
                const struct ftcp_sockaddr *to)
{
	struct ftcp_socket *so = ftcp_sock_get(s, h, NULL);
	struct ftcp_udp_repr u;
	struct ftcp_ip_tx tx;
	uint32_t dst;
	uint16_t dport;
	uint32_t flags = 0;
	bool offload;
	int rc;

	if (!so)
		return -FTCP_EBADF;
	if (so->proto != FTCP_IP_PROTO_UDP)
		return -FTCP_EOPNOTSUPP;
	if (len && !buf)
		return -FTCP_EINVAL;
	if (so->err) { /* report a pending ICMP error once, like Linux */
		rc = so->err;
		so->err = 0;
		return rc;
	}
	if (to) {
		dst = to->addr;
		dport = to->port;
		if (!dport)
			return -FTCP_EINVAL;
	} else if (so->flags & FTCP_SOCK_CONNECTED) {
		dst = so->raddr;
		dport = so->rport;
	} else {
		return -FTCP_EDESTADDRREQ;
	}
	if (len > 0xffffu - FTCP_UDP_HLEN)
		return -FTCP_EMSGSIZE;
	if (!(so->flags & FTCP_SOCK_BOUND) && (rc = autobind(s, h)) < 0)
		return rc;

	rc = ftcp_ip_begin(s, dst, FTCP_IP_PROTO_UDP, FTCP_UDP_HLEN + len, &tx);
	if (rc < 0) {
		if (rc == -FTCP_EAGAIN)
			ftcp_sock_tx_wait(s, so);
		return rc;
	}
	if (len)
		ftcp_memcpy(tx.l4 + FTCP_UDP_HLEN, buf, len);
	u.src_port = so->lport;
	u.dst_port = dport;
	u.len = (uint16_t)(FTCP_UDP_HLEN + len);
	offload = ftcp_ip_l4_cksum_offload(s, FTCP_IP_PROTO_UDP);
	ftcp_udp_emit(&u, tx.l4, s->ip, dst, !offload);
	if (offload)
		flags |= FTCP_TX_UDP_CKSUM;
	ftcp_ip_finish(s, &tx, flags);
	s->ctr.udp_tx++;
	/* The readiness view now says unwritable: owe the sender an event. */
	if (!ftcp_sock_udp_writable(s))
		ftcp_sock_tx_wait(s, so);
	return (int)len;
}

int ftcp_recvfrom(struct ftcp_stack *s, ftcp_sock_t h, void *buf, uint32_t len,
                  uint32_t flags, struct ftcp_sockaddr *from, uint32_t *out_flags,
                  uint32_t *full_len)
{
	struct ftcp_socket *so = ftcp_sock_get(s, h, NULL);
	struct ftcp_udp_dgram *d;
	uint32_t n;

	if (out_flags)
		*out_flags = 0;
	if (!so)
		return -FTCP_EBADF;
	if (so->proto != FTCP_IP_PROTO_UDP)
		return -FTCP_EOPNOTSUPP;
	if (len && !buf)
		return -FTCP_EINVAL;
	d = ftcp_fifo_peek(&so->rxq, NULL);
	if (!d) {
		if (so->err) {
			int rc = so->err;
			so->err = 0;
			return rc;
		}
		return -FTCP_EAGAIN;
	}
	n = FTCP_MIN(len, d->len);
	if (n)
		ftcp_memcpy(buf, d + 1, n);
	if (from) {
		from->addr = d->src;
		from->port = d->sport;
	}
	if (full_len)
		*full_len = d->len;
	if (n < d->len && out_flags)
		*out_flags |= FTCP_MSG_TRUNC;
	if (!(flags & FTCP_MSG_PEEK))
		ftcp_fifo_pop(&so->rxq);
	return (int)n;
}
