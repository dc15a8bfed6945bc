/*
 * ftcp_arp.c — ARP (RFC 826) with a fixed-size cache.
 *
 * Entry life: a lookup for an unknown next hop makes an INCOMPLETE entry and
 * broadcasts a request, retried every arp_retry_us up to arp_retries times;
 * frames for it wait in hold slots (at most arp_hold_per_neighbour). An
 * answer makes it REACHABLE for arp_reachable_us and releases the held
 * frames in order. At expiry an entry still in use turns PROBE: it stays
 * usable while unicast requests refresh it (as Linux's "stale -> probe"
 * does), so a long flow does not stall on every expiry; an unused one is
 * freed. Unanswered resolution frees the entry and drops its frames.
 * When the cache is full the resolved entry closest to expiry is evicted;
 * entries still resolving are never evicted, so a flood of lookups cannot
 * starve resolution that is under way.
 */
#include "stack/ftcp_stack_internal.h"

#define ANNOUNCE_INTERVAL_US 2000000u /* RFC 5227 2.3: ANNOUNCE_INTERVAL */

static void arp_timer_fn(struct ftcp_stack *s, struct ftcp_timer *t);
static void announce_timer_fn(struct ftcp_stack *s, struct ftcp_timer *t);

static inline uint32_t bucket_of(const struct ftcp_stack *s, uint32_t ip)
{
	return (uint32_t)ftcp_mix64(ip ^ s->cfg.secret) & s->arp_bucket_mask;
}

void ftcp_arp_init(struct ftcp_stack *s)
{
	uint32_t i;

	for (i = 0; i < s->cfg.arp_cache_size; i++) {
		struct ftcp_arp_entry *e = &s->arp[i];
		ftcp_memset(e, 0, sizeof(*e));
		e->state = FTCP_ARP_FREE;
		e->hold_head = e->hold_tail = e->hash_next = FTCP_NONE;
		ftcp_timer_init(&e->timer, arp_timer_fn);
	}
	ftcp_timer_init(&s->announce_timer, announce_timer_fn);
	s->announce_left = s->cfg.arp_announce;
	if (s->announce_left)
		ftcp_arp_announce(s);
}

static struct ftcp_arp_entry *find(const struct ftcp_stack *s, uint32_t ip)
{
	int32_t i = s->arp_buckets[bucket_of(s, ip)];

	while (i != FTCP_NONE) {
		struct ftcp_arp_entry *e = &s->arp[i];
		if (e->ip == ip)
			return e;
		i = e->hash_next;
	}
	return NULL;
}

static void unlink_entry(struct ftcp_stack *s, struct ftcp_arp_entry *e)
{
	int32_t idx = (int32_t)(e - s->arp), *link = &s->arp_buckets[bucket_of(s, e->ip)];

	while (*link != FTCP_NONE && *link != idx)
		link = &s->arp[*link].hash_next;
	if (*link == idx)
		*link = e->hash_next;
	e->hash_next = FTCP_NONE;
}

static void drop_held(struct ftcp_stack *s, struct ftcp_arp_entry *e)
{
	while (e->hold_head != FTCP_NONE) {
		struct ftcp_hold_slot *h = ftcp_pool_obj(&s->hold_pool, e->hold_head);
		int32_t next = h->next;
		ftcp_pool_free(&s->hold_pool, e->hold_head);
		s->ctr.drop_arp_unresolved++;
		e->hold_head = next;
	}
	e->hold_tail = FTCP_NONE;
	e->held = 0;
}

static void free_entry(struct ftcp_stack *s, struct ftcp_arp_entry *e)
{
	drop_held(s, e);
	ftcp_timer_cancel(s, &e->timer);
	unlink_entry(s, e);
	e->state = FTCP_ARP_FREE;
	s->arp_in_use--;
}

static struct ftcp_arp_entry *new_entry(struct ftcp_stack *s, uint32_t ip)
{
	struct ftcp_arp_entry *e = NULL, *victim = NULL;
	uint32_t i, b;

	for (i = 0; i < s->cfg.arp_cache_size; i++) {
		struct ftcp_arp_entry *c = &s->arp[i];
		if (c->state == FTCP_ARP_FREE) {
			e = c;
			break;
		}
		if (c->state != FTCP_ARP_INCOMPLETE &&
		    (!victim || ftcp_timer_due(&c->timer) < ftcp_timer_due(&victim->timer)))
			victim = c;
	}
	if (!e) {
		if (!victim)
			return NULL;
		free_entry(s, victim);
		s->ctr.arp_evictions++;
		e = victim;
	}
	e->ip = ip;
	e->used = 0;
	e->held = 0;
	e->hold_head = e->hold_tail = FTCP_NONE;
	b = bucket_of(s, ip);
	e->hash_next = s->arp_buckets[b];
	s->arp_buckets[b] = (int32_t)(e - s->arp);
	s->arp_in_use++;
	return e;
}

/* Queue an ARP packet. dst_mac is the Ethernet destination. */
static void send_arp(struct ftcp_stack *s, uint16_t op, const struct ftcp_mac *dst_mac,
                     const struct ftcp_mac *tha, uint32_t tpa)
{
	struct ftcp_frame_desc *d;
	struct ftcp_eth_repr eth;
	struct ftcp_arp_repr arp;
	uint8_t *f = ftcp_tx_reserve(s, FTCP_ETH_HLEN + FTCP_ARP_LEN, &d);

	if (!f)
		return;
	eth.dst = *dst_mac;
	eth.src = s->mac;
	eth.type = FTCP_ETHERTYPE_ARP;
	ftcp_eth_emit(&eth, f);
	arp.op = op;
	arp.sha = s->mac;
	arp.spa = s->ip;
	arp.tha = *tha;
	arp.tpa = tpa;
	ftcp_arp_emit(&arp, f + FTCP_ETH_HLEN);
	ftcp_tx_commit(s, d, FTCP_ETH_HLEN + FTCP_ARP_LEN);
	if (op == FTCP_ARP_REQUEST)
		s->ctr.arp_tx_requests++;
	else
		s->ctr.arp_tx_replies++;
}

/* Gratuitous ARP (RFC 5227 2.3): a request with our address as both sender
 * and target, so neighbours update stale entries for us. */
void ftcp_arp_announce(struct ftcp_stack *s)
{
	if (!s->announce_left)
		return;
	send_arp(s, FTCP_ARP_REQUEST, &ftcp_mac_broadcast, &ftcp_mac_zero, s->ip);
	if (--s->announce_left)
		ftcp_timer_arm(s, &s->announce_timer, s->now + ANNOUNCE_INTERVAL_US);
}

static void announce_timer_fn(struct ftcp_stack *s, struct ftcp_timer *t)
{
	FTCP_UNUSED(t);
	ftcp_arp_announce(s);
}

static void request(struct ftcp_stack *s, struct ftcp_arp_entry *e)
{
	/* Refresh probes go unicast to the known MAC (RFC 1122 2.3.2.1); the
	 * last one is broadcast in case the neighbour changed its MAC. */
	if (e->state == FTCP_ARP_PROBE && e->tries_left > 1)
		send_arp(s, FTCP_ARP_REQUEST, &e->mac, &ftcp_mac_zero, e->ip);
	else
		send_arp(s, FTCP_ARP_REQUEST, &ftcp_mac_broadcast, &ftcp_mac_zero, e->ip);
	e->tries_left--;
	ftcp_timer_arm(s, &e->timer, s->now + s->cfg.arp_retry_us);
}

static void arp_timer_fn(struct ftcp_stack *s, struct ftcp_timer *t)
{
	struct ftcp_arp_entry *e = ftcp_container_of(t, struct ftcp_arp_entry, timer);

	switch (e->state) {
	case FTCP_ARP_REACHABLE:
		if (!e->used) {
			free_entry(s, e);
			return;
		}
		e->state = FTCP_ARP_PROBE;
		e->tries_left = (uint8_t)s->cfg.arp_retries;
		request(s, e);
		break;
	case FTCP_ARP_INCOMPLETE:
	case FTCP_ARP_PROBE:
		if (e->tries_left)
			request(s, e);
		else
			free_entry(s, e); /* drops held frames, counted */
		break;
	default:
		break;
	}
}

/* Move held frames, in order, to the TX fifo with the answer's MAC. */
static void release_held(struct ftcp_stack *s, struct ftcp_arp_entry *e)
{
	while (e->hold_head != FTCP_NONE) {
		int32_t idx = e->hold_head;
		struct ftcp_hold_slot *h = ftcp_pool_obj(&s->hold_pool, idx);
		struct ftcp_frame_desc *d;
		uint8_t *f = ftcp_tx_reserve(s, h->len, &d);

		if (f) {
			ftcp_memcpy(h->frame, e->mac.b, FTCP_ETH_ALEN);
			ftcp_memcpy(f, h->frame, h->len);
			d->tx_flags = h->tx_flags;
			d->l3_len = h->l3_len;
			d->l4_len = h->l4_len;
			ftcp_tx_commit(s, d, h->len);
		} /* else counted as drop_tx_fifo_full by ftcp_tx_reserve */
		e->hold_head = h->next;
		ftcp_pool_free(&s->hold_pool, idx);
	}
	e->hold_tail = FTCP_NONE;
	e->held = 0;
}

static void confirm(struct ftcp_stack *s, struct ftcp_arp_entry *e, const struct ftcp_mac *mac)
{
	e->mac = *mac;
	e->state = FTCP_ARP_REACHABLE;
	e->used = 0;
	ftcp_timer_arm(s, &e->timer, s->now + s->cfg.arp_reachable_us);
	release_held(s, e);
	ftcp_tcp_arp_resolved(s, e->ip);
}

void ftcp_arp_input(struct ftcp_stack *s, const uint8_t *pkt, uint32_t len)
{
	struct ftcp_arp_repr a;
	struct ftcp_arp_entry *e;
	bool for_us;

	s->ctr.arp_rx++;
	if (ftcp_arp_parse(pkt, len, &a) < 0) {
		s->ctr.drop_arp_malformed++;
		return;
	}
	/* A sender claiming our address, or a broadcast/multicast hardware
	 * address, must not enter the cache. */
	if (a.spa == s->ip || ftcp_mac_is_multicast(&a.sha)) {
		s->ctr.drop_arp_not_for_us++;
		return;
	}
	for_us = a.tpa == s->ip;
	/* RFC 826 "merge": refresh an entry we already have for the sender,
	 * even if the packet is for someone else. Probes (sender 0.0.0.0,
	 * RFC 5227) carry no address to learn. */
	e = a.spa ? find(s, a.spa) : NULL;
	if (e)
		confirm(s, e, &a.sha);
	if (!for_us) {
		/* A neighbour's gratuitous announcement (sender == target) is
		 * normal traffic, not a stray packet. */
		if (a.spa != a.tpa)
			s->ctr.drop_arp_not_for_us++;
		return;
	}
	if (!e && a.spa) {
		e = new_entry(s, a.spa);
		if (e)
			confirm(s, e, &a.sha);
	}
	if (a.op == FTCP_ARP_REQUEST)
		send_arp(s, FTCP_ARP_REPLY, &a.sha, &a.sha, a.spa);
}

int ftcp_arp_resolve(struct ftcp_stack *s, uint32_t nexthop, struct ftcp_mac *mac,
                     struct ftcp_arp_entry **neigh)
{
	struct ftcp_arp_entry *e = find(s, nexthop);

	if (e && e->state != FTCP_ARP_INCOMPLETE) {
		e->used = 1;
		*mac = e->mac;
		return 0;
	}
	if (!e) {
		e = new_entry(s, nexthop);
		if (!e) {
			s->ctr.drop_arp_cache_full++;
			return -FTCP_ENOBUFS;
		}
		e->state = FTCP_ARP_INCOMPLETE;
		e->tries_left = (uint8_t)s->cfg.arp_retries;
		request(s, e);
	}
	*neigh = e;
	return 1;
}

int ftcp_arp_resolve_hint(struct ftcp_stack *s, uint32_t nexthop, struct ftcp_mac *mac,
                          struct ftcp_arp_entry **neigh, int32_t *hint)
{
	int rc;

	if (ftcp_arp_hint_hit(s, nexthop, *hint, mac))
		return 0;
	rc = ftcp_arp_resolve(s, nexthop, mac, neigh);
	if (rc == 0) {
		struct ftcp_arp_entry *e = find(s, nexthop);
		*hint = e ? (int32_t)(e - s->arp) : FTCP_NONE;
	}
	return rc;
}

int ftcp_arp_hold(struct ftcp_stack *s, struct ftcp_arp_entry *e, struct ftcp_hold_slot **slot)
{
	int32_t idx;

	/* RFC 1122 2.3.2.2 keeps "at least one (the latest)" packet: at the
	 * neighbour's limit, drop its oldest held frame (as Linux does). */
	if (e->held >= s->cfg.arp_hold_per_neighbour) {
		struct ftcp_hold_slot *old = ftcp_pool_obj(&s->hold_pool, e->hold_head);
		int32_t next = old->next;
		ftcp_pool_free(&s->hold_pool, e->hold_head);
		e->hold_head = next;
		if (next == FTCP_NONE)
			e->hold_tail = FTCP_NONE;
		e->held--;
		s->ctr.drop_arp_hold_full++;
	}
	if ((idx = ftcp_pool_alloc(&s->hold_pool)) < 0) {
		s->ctr.drop_arp_hold_full++;
		return -FTCP_ENOBUFS;
	}
	*slot = ftcp_pool_obj(&s->hold_pool, idx);
	(*slot)->next = FTCP_NONE;
	return 0;
}

void ftcp_arp_hold_commit(struct ftcp_stack *s, struct ftcp_arp_entry *e,
                          struct ftcp_hold_slot *slot)
{
	int32_t idx = (int32_t)(((uint8_t *)slot - s->hold_pool.objs) / s->hold_pool.obj_size);

	if (e->hold_tail == FTCP_NONE)
		e->hold_head = idx;
	else
		((struct ftcp_hold_slot *)ftcp_pool_obj(&s->hold_pool, e->hold_tail))->next = idx;
	e->hold_tail = idx;
	e->held++;
}

int ftcp_arp_lookup(const struct ftcp_stack *s, uint32_t ip, struct ftcp_mac *mac)
{
	const struct ftcp_arp_entry *e = find(s, ip);

	if (!e)
		return -FTCP_EHOSTUNREACH;
	if (e->state == FTCP_ARP_INCOMPLETE)
		return -FTCP_EINPROGRESS;
	if (mac)
		*mac = e->mac;
	return 0;
}

uint32_t ftcp_arp_entries_in_use(const struct ftcp_stack *s)
{
	return s->arp_in_use;
}
