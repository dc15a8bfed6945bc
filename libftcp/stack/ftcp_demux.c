/*
 * ftcp_demux.c — demultiplexing received packets to sockets, by a keyed
 * hash (the seed design's: protocol + addresses + ports).
 *
 * Two chained hash tables over socket indices:
 *  - the connection table, keyed by the full (proto, laddr, lport, raddr,
 *    rport): connected UDP sockets now, TCP connections later;
 *  - the port table, keyed by (proto, lport): sockets that own a local port
 *    (bound, listening). Accepted TCP connections never enter it, so a busy
 *    listener's chain does not grow with its connections.
 * A lookup tries the exact connection first, then the port's owners that
 * are not connected, preferring an exact local address over the wildcard.
 */
#include "ftcp_stack_internal.h"

static uint32_t port_hash(const struct ftcp_stack *s, uint8_t proto, uint16_t lport)
{
	return ftcp_hash3(s->cfg.secret, ((uint64_t)proto << 16) | lport, 0) & s->demux_mask;
}

/* Every received segment pays for this hash, so it is one mixing round:
 * over the peer's address and both ports (64 bits, all that varies
 * between our connections, as we have one address), keyed by the secret,
 * with the local address and protocol folded into the key. The mix is a
 * bijection, so distinct peers and ports never collide before the mask. */
static uint32_t conn_hash(const struct ftcp_stack *s, uint8_t proto, uint32_t laddr,
                          uint16_t lport, uint32_t raddr, uint16_t rport)
{
	uint64_t key = s->cfg.secret ^ ((uint64_t)laddr * 0x9e3779b97f4a7c15ull) ^ proto;

	return (uint32_t)ftcp_mix64((((uint64_t)raddr << 32) | ((uint32_t)lport << 16) | rport) ^
	                            key) &
	       s->demux_mask;
}

static void chain_remove(struct ftcp_stack *s, int32_t *link, int32_t idx, bool conn)
{
	while (*link != FTCP_NONE) {
		struct ftcp_socket *so = ftcp_sock_at(s, *link);
		int32_t *next = conn ? &so->conn_next : &so->port_next;
		if (*link == idx) {
			*link = *next;
			*next = FTCP_NONE;
			return;
		}
		link = next;
	}
}

void ftcp_demux_port_insert(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);
	int32_t *head = &s->port_buckets[port_hash(s, so->proto, so->lport)];

	so->port_next = *head;
	*head = idx;
	so->flags |= FTCP_SOCK_IN_PORT_TABLE;
}

void ftcp_demux_port_remove(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);

	chain_remove(s, &s->port_buckets[port_hash(s, so->proto, so->lport)], idx, false);
	so->flags &= (uint8_t)~FTCP_SOCK_IN_PORT_TABLE;
}

/* A connected socket bound to the wildcard is keyed by our address, which
 * is what received packets carry. */
static uint32_t conn_laddr(const struct ftcp_stack *s, const struct ftcp_socket *so)
{
	return so->laddr ? so->laddr : s->ip;
}

void ftcp_demux_conn_insert(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);
	int32_t *head = &s->conn_buckets[conn_hash(s, so->proto, conn_laddr(s, so), so->lport,
	                                            so->raddr, so->rport)];

	so->conn_next = *head;
	*head = idx;
	so->flags |= FTCP_SOCK_IN_CONN_TABLE;
}

void ftcp_demux_conn_remove(struct ftcp_stack *s, int32_t idx)
{
	struct ftcp_socket *so = ftcp_sock_at(s, idx);

	chain_remove(s,
	             &s->conn_buckets[conn_hash(s, so->proto, conn_laddr(s, so), so->lport,
	                                        so->raddr, so->rport)],
	             idx, true);
	so->flags &= (uint8_t)~FTCP_SOCK_IN_CONN_TABLE;
	if (s->conn_hint == idx)
		s->conn_hint = FTCP_NONE;
	if (s->tcp_fast_idx == idx) /* its key: the 4-tuple it leaves with */
		s->tcp_fast_idx = FTCP_NONE;
}

int32_t ftcp_demux_conn_lookup(const struct ftcp_stack *s, uint8_t proto, uint32_t laddr,
                               uint16_t lport, uint32_t raddr, uint16_t rport)
{
	int32_t i = s->conn_buckets[conn_hash(s, proto, laddr, lport, raddr, rport)];

	while (i != FTCP_NONE) {
		const struct ftcp_socket *so = ftcp_sock_at(s, i);
		if (so->proto == proto && so->lport == lport && so->rport == rport &&
		    so->raddr == raddr && conn_laddr(s, so) == laddr)
			return i;
		i = so->conn_next;
	}
	return FTCP_NONE;
}

int32_t ftcp_demux_conn_find(struct ftcp_stack *s, uint8_t proto, uint32_t laddr, uint16_t lport,
                             uint32_t raddr, uint16_t rport)
{
	int32_t i = s->conn_hint;

	/* Only sockets in the table are hinted (removal clears the hint). */
	if (i != FTCP_NONE) {
		const struct ftcp_socket *so = ftcp_sock_at(s, i);
		if (so->rport == rport && so->lport == lport && so->raddr == raddr &&
		    so->proto == proto && conn_laddr(s, so) == laddr)
			return i;
	}
	i = ftcp_demux_conn_lookup(s, proto, laddr, lport, raddr, rport);
	if (i != FTCP_NONE)
		s->conn_hint = i;
	return i;
}

/* A member of pick's SO_REUSEPORT group (same port and local address; for
 * TCP, listening like it) may take this new flow. */
static bool same_group(const struct ftcp_socket *so, const struct ftcp_socket *pick)
{
	return so->proto == pick->proto && so->lport == pick->lport && so->laddr == pick->laddr &&
	       (so->flags & (FTCP_SOCK_REUSEPORT | FTCP_SOCK_CONNECTED)) == FTCP_SOCK_REUSEPORT &&
	       (so->proto != FTCP_IP_PROTO_TCP || so->tcb.state == pick->tcb.state);
}

/* Spread new flows over pick's group by a keyed hash of the peer, so every
 * segment of one handshake (a cookie's ACK included) finds the same member
 * while the group stays the same. */
static int32_t reuseport_pick(const struct ftcp_stack *s, int32_t pick, uint32_t raddr,
                              uint16_t rport)
{
	const struct ftcp_socket *p = ftcp_sock_at(s, pick);
	uint32_t n = 0, k;
	int32_t i;

	for (i = s->port_buckets[port_hash(s, p->proto, p->lport)]; i != FTCP_NONE;
	     i = ftcp_sock_at(s, i)->port_next)
		n += same_group(ftcp_sock_at(s, i), p);
	if (n < 2)
		return pick;
	k = ftcp_hash3(s->cfg.secret ^ 0x5e9f0a7cu, ((uint64_t)raddr << 16) | rport, p->lport) % n;
	for (i = s->port_buckets[port_hash(s, p->proto, p->lport)]; i != FTCP_NONE;
	     i = ftcp_sock_at(s, i)->port_next)
		if (same_group(ftcp_sock_at(s, i), p) && k-- == 0)
			return i;
	return pick;
}

/* How well an unconnected owner of the port fits a packet to laddr: a
 * socket bound to our address only takes unicast and beats the wildcard
 * (which also takes broadcasts); on the same address a TCP listener beats
 * a socket that is only bound. 0: it does not take the packet. */
static int owner_rank(const struct ftcp_socket *so, uint32_t laddr)
{
	int r;

	if (so->flags & FTCP_SOCK_CONNECTED)
		return 0;
	if (so->laddr == laddr)
		r = 3;
	else if (so->laddr == 0)
		r = 1;
	else
		return 0;
	return r + (so->proto == FTCP_IP_PROTO_TCP && so->tcb.state == FTCP_TCP_LISTEN);
}

int32_t ftcp_demux_lookup(const struct ftcp_stack *s, uint8_t proto, uint32_t laddr,
                          uint16_t lport, uint32_t raddr, uint16_t rport)
{
	int32_t i = ftcp_demux_conn_lookup(s, proto, laddr, lport, raddr, rport), pick = FTCP_NONE;
	int best = 0;

	if (i != FTCP_NONE)
		return i;
	for (i = s->port_buckets[port_hash(s, proto, lport)]; i != FTCP_NONE;) {
		const struct ftcp_socket *so = ftcp_sock_at(s, i);
		int r = so->proto == proto && so->lport == lport ? owner_rank(so, laddr) : 0;
		if (r > best) {
			best = r;
			pick = i;
		}
		i = so->port_next;
	}
	if (pick != FTCP_NONE && (ftcp_sock_at(s, pick)->flags & FTCP_SOCK_REUSEPORT))
		pick = reuseport_pick(s, pick, raddr, rport);
	return pick;
}

bool ftcp_demux_port_in_use(const struct ftcp_stack *s, uint8_t proto, uint32_t laddr,
                            uint16_t lport, uint8_t share)
{
	int32_t i;

	share &= FTCP_SOCK_REUSEADDR | FTCP_SOCK_REUSEPORT;
	for (i = s->port_buckets[port_hash(s, proto, lport)]; i != FTCP_NONE;) {
		const struct ftcp_socket *so = ftcp_sock_at(s, i);
		/* With one interface address, wildcard and specific overlap. */
		if (so->proto == proto && so->lport == lport &&
		    (so->laddr == laddr || !so->laddr || !laddr) && !(share & so->flags))
			return true;
		i = so->port_next;
	}
	return false;
}

uint16_t ftcp_demux_ephemeral_port(struct ftcp_stack *s, uint8_t proto, uint32_t laddr)
{
	uint32_t n = (uint32_t)s->cfg.ephemeral_hi - s->cfg.ephemeral_lo + 1;
	uint32_t start = ftcp_rand_below(&s->rng, n), i;

	/* RFC 6056 3.3.1 (simple random search). */
	for (i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(s->cfg.ephemeral_lo + (start + i) % n);
		if (!ftcp_demux_port_in_use(s, proto, laddr, port, 0))
			return port;
	}
	return 0;
}
