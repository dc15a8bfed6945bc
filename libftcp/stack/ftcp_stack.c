/*
 * ftcp_stack.c — start-up (carving every object from the caller's memory)
 * and the four-step poll loop that drives a stack.
 */
#include "ftcp_stack_internal.h"

/* Start-up only: hands out aligned pieces of the caller's block. With
 * base == NULL it only counts, so sizing and carving share one layout. */
struct arena {
	uint8_t *base;
	uint64_t used; /* 64-bit even on a 32-bit MCU, so sizing cannot wrap */
	size_t cap;
};

static void *carve(struct arena *a, uint64_t len)
{
	void *p;

	a->used = (a->used + 7) & ~(uint64_t)7;
	p = a->base ? a->base + a->used : NULL;
	a->used += len;
	return p;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static uint32_t timer_capacity(const struct ftcp_config *c)
{
	/* One per ARP entry, a few per socket, and the stack's own. */
	return c->arp_cache_size + c->max_sockets * FTCP_TIMERS_PER_SOCKET + 4;
}

static uint32_t hold_slot_size(const struct ftcp_config *c)
{
	return (uint32_t)FTCP_ALIGN_UP(sizeof(struct ftcp_hold_slot) + FTCP_ETH_HLEN + c->mtu, 8);
}

/* ftcp_pool_memory_size in 64 bits (it returns size_t). */
static uint64_t pool_bytes(uint64_t obj_size, uint64_t count)
{
	return ((count + 31) / 32 * 4 + 7) / 8 * 8 + (obj_size + 7) / 8 * 8 * count;
}

/* Lay the stack out in a (counting only when a->base is NULL). */
static struct ftcp_stack *layout(const struct ftcp_config *c, struct arena *a)
{
	struct ftcp_stack *s = carve(a, sizeof(*s));
	uint32_t arp_buckets = pow2_at_least(c->arp_cache_size);
	void *txq = carve(a, c->tx_fifo_size);
	void *rxf = carve(a, sizeof(struct ftcp_rx_frame) * c->rx_burst);
	void *txf = carve(a, sizeof(struct ftcp_tx_frame) * c->tx_burst);
	void *heap = carve(a, sizeof(struct ftcp_heap_node *) * timer_capacity(c));
	void *arp = carve(a, sizeof(struct ftcp_arp_entry) * c->arp_cache_size);
	void *arpb = carve(a, sizeof(int32_t) * arp_buckets);
	void *hold = carve(a, pool_bytes(hold_slot_size(c), c->arp_hold_frames));
	void *socks = carve(a, pool_bytes(sizeof(struct ftcp_socket), c->max_sockets));
	void *rxbufs = carve(a, pool_bytes(c->rx_buffer_size, c->rx_buffers));
	void *txbufs = carve(a, pool_bytes(c->tx_buffer_size, c->tx_buffers));
	void *tcpf = carve(a, sizeof(struct ftcp_tx_frame) * c->tx_burst);
	void *tcph = carve(a, (uint64_t)FTCP_TCP_HDR_ROOM * c->tx_burst);
	void *portb = carve(a, sizeof(int32_t) * c->demux_buckets);
	void *connb = carve(a, sizeof(int32_t) * c->demux_buckets);
	uint32_t i;

	if (!a->base)
		return NULL;
	ftcp_memset(s, 0, sizeof(*s));
	s->cfg = *c;
	ftcp_fifo_init(&s->txq, txq, c->tx_fifo_size);
	s->rx_frames = rxf;
	s->tx_frames = txf;
	ftcp_heap_init(&s->timers, heap, timer_capacity(c));
	s->arp = arp;
	s->arp_buckets = arpb;
	s->arp_bucket_mask = arp_buckets - 1;
	for (i = 0; i < arp_buckets; i++)
		s->arp_buckets[i] = FTCP_NONE;
	s->hold_slot_size = hold_slot_size(c);
	ftcp_pool_init(&s->hold_pool, hold, s->hold_slot_size, c->arp_hold_frames);
	ftcp_pool_init(&s->sock_pool, socks, sizeof(struct ftcp_socket), c->max_sockets);
	ftcp_pool_init(&s->rxbuf_pool, rxbufs, c->rx_buffer_size, c->rx_buffers);
	ftcp_pool_init(&s->txbuf_pool, txbufs, c->tx_buffer_size, c->tx_buffers);
	s->tcp_frames = tcpf;
	s->tcp_hdrs = tcph;
	s->port_buckets = portb;
	s->conn_buckets = connb;
	s->demux_mask = c->demux_buckets - 1;
	for (i = 0; i < c->demux_buckets; i++)
		s->port_buckets[i] = s->conn_buckets[i] = FTCP_NONE;
	s->conn_hint = FTCP_NONE;
	s->tcp_fast_idx = FTCP_NONE;
	s->tcp_wnd_idx = FTCP_NONE;
	return s;
}

size_t ftcp_stack_memory_size(const struct ftcp_config *c)
{
	struct arena a = {NULL, 0, 0};

	if (ftcp_config_validate(c, NULL) < 0)
		return 0;
	layout(c, &a);
	if (a.used + 8 > (uint64_t)SIZE_MAX)
		return 0; /* more than this target can address */
	return (size_t)a.used + 8;
}

int ftcp_stack_init(struct ftcp_stack **out, const struct ftcp_config *c,
                    struct ftcp_device *dev, void *mem, size_t mem_len, uint64_t now_us,
                    const char **why)
{
	struct arena a;
	struct ftcp_stack *s;
	size_t need;
	int rc;

	if (why)
		*why = NULL;
	rc = ftcp_config_validate(c, why);
	if (rc < 0)
		return rc;
	if (!out || !dev || !dev->ops || !dev->ops->rx_burst || !dev->ops->tx_burst ||
	    !dev->ops->rx_release) {
		if (why)
			*why = "device: missing rx_burst, rx_release or tx_burst";
		return -FTCP_EINVAL;
	}
	if (dev->mtu < c->mtu) {
		if (why)
			*why = "mtu: larger than the device's MTU";
		return -FTCP_EINVAL;
	}
	if (ftcp_mac_is_multicast(&dev->mac) || ftcp_mac_eq(&dev->mac, &ftcp_mac_zero)) {
		if (why)
			*why = "device: MAC address is zero or multicast";
		return -FTCP_EINVAL;
	}
	need = ftcp_stack_memory_size(c);
	if (!need) {
		if (why)
			*why = "memory: the configuration needs more than this target can address";
		return -FTCP_ENOMEM;
	}
	if (!mem || mem_len < need) {
		if (why)
			*why = "memory: block smaller than ftcp_stack_memory_size()";
		return -FTCP_ENOMEM;
	}
	a.base = (uint8_t *)FTCP_ALIGN_UP((uintptr_t)mem, 8);
	a.used = 0;
	a.cap = mem_len - (size_t)(a.base - (uint8_t *)mem);
	s = layout(c, &a);

	s->dev = dev;
	s->now = now_us;
	s->mac = dev->mac;
	s->mtu = c->mtu;
	s->ip = c->ip_addr;
	s->netmask = c->prefix_len == 32 ? 0xffffffffu : ~(0xffffffffu >> c->prefix_len);
	s->subnet_bcast = c->prefix_len < 31 ? (s->ip | ~s->netmask) : 0xffffffffu;
	ftcp_rand_seed(&s->rng, c->secret);
	s->ip_id = (uint16_t)ftcp_rand_u32(&s->rng);
	s->ev_head = s->ev_tail = FTCP_NONE;
	s->tcp_out_head = s->tcp_out_tail = FTCP_NONE;
	s->tcp_pin_head = FTCP_NONE;
	s->tcp_tw_head = s->tcp_tw_tail = FTCP_NONE;
	/* Keys for ISNs (RFC 6528) and SYN cookies, derived from the secret. */
	s->isn_key.k0 = ftcp_mix64(c->secret ^ 0x49534e4b45593031ull);
	s->isn_key.k1 = ftcp_mix64(c->secret ^ 0x49534e4b45593032ull);
	s->cookie_key.k0 = ftcp_mix64(c->secret ^ 0x434f4f4b49453031ull);
	s->cookie_key.k1 = ftcp_mix64(c->secret ^ 0x434f4f4b49453032ull);
	s->tcp_cc_default = ftcp_cc_find(c->tcp_congestion);
	/* The window scale a cookie connection uses: what fits a buffer. */
	while (s->tcp_cookie_wscale < FTCP_TCP_MAX_WSCALE &&
	       (c->rx_buffer_size >> s->tcp_cookie_wscale) > 0xffff)
		s->tcp_cookie_wscale++;
	s->icmp_tokens = (uint64_t)c->icmp_burst * 1000;
	s->icmp_last_us = now_us;
	ftcp_arp_init(s);
	*out = s;
	return 0;
}

/* Step 1: one receive burst, each frame processed to completion. */
static int poll_rx(struct ftcp_stack *s)
{
	struct ftcp_device *dev = s->dev;
	uint16_t n = dev->ops->rx_burst(dev, s->rx_frames, s->cfg.rx_burst, s->now), i, k;
	uint64_t bytes = 0;

	for (i = 0; i < n; i++)
		bytes += s->rx_frames[i].len;
	s->ctr.eth_rx_frames += n;
	s->ctr.eth_rx_bytes += bytes;
	/* An established connection's next segments, a run at a time; every
	 * other frame layer by layer. */
	for (i = 0; i < n; i += k) {
		const struct ftcp_rx_frame *f = &s->rx_frames[i];
		k = ftcp_tcp_input_run(s, f, (uint16_t)(n - i));
		if (!k) {
			ftcp_eth_input(s, f->data, f->len, f->flags);
			k = 1;
		}
	}
	if (n)
		dev->ops->rx_release(dev, s->rx_frames, n);
	return n;
}

int ftcp_stack_poll(struct ftcp_stack *s, uint64_t now_us)
{
	int work = 0;

	if (now_us > s->now) /* the clock never runs backwards for us */
		s->now = now_us;
	work += poll_rx(s);
	work += ftcp_timer_run(s);
	work += ftcp_tx_flush(s);
	work += ftcp_tcp_output_all(s);
	if (s->tcp_zombies)
		ftcp_tcp_reap_zombies(s);
	work += ftcp_sock_deliver_events(s);
	return work;
}

uint64_t ftcp_stack_next_deadline(const struct ftcp_stack *s)
{
	const struct ftcp_heap_node *n = ftcp_heap_top(&s->timers);
	if (!ftcp_fifo_empty(&s->txq) || s->ev_head != FTCP_NONE || s->tcp_out_head != FTCP_NONE ||
	    s->tcp_nframes)
		return s->now;
	return n ? n->key : UINT64_MAX;
}

void ftcp_stack_counters(const struct ftcp_stack *s, struct ftcp_counters *out)
{
	*out = s->ctr;
}

void ftcp_stack_pool_stats(const struct ftcp_stack *s, struct ftcp_pool_stats *out)
{
	out->sockets_in_use = s->sock_pool.in_use;
	out->sockets_max = s->sock_pool.count;
	out->rx_buffers_in_use = s->rxbuf_pool.in_use;
	out->rx_buffers_max = s->rxbuf_pool.count;
	out->tx_buffers_in_use = s->txbuf_pool.in_use;
	out->tx_buffers_max = s->txbuf_pool.count;
	out->timers_queued = s->timers.len;
	out->tx_fifo_used = ftcp_fifo_used(&s->txq);
	out->arp_entries_in_use = s->arp_in_use;
	out->arp_held_frames = s->hold_pool.in_use;
	out->socket_alloc_failures = s->sock_pool.failures;
	out->rx_buffer_alloc_failures = s->rxbuf_pool.failures;
}

/* ---- timers ---- */

void ftcp_timer_init(struct ftcp_timer *t, ftcp_timer_fn fn)
{
	ftcp_heap_node_init(&t->node);
	t->fn = fn;
}

void ftcp_timer_arm(struct ftcp_stack *s, struct ftcp_timer *t, uint64_t when_us)
{
	t->due = when_us;
	if (ftcp_heap_node_queued(&t->node) && t->node.key <= when_us)
		return; /* later: step 2 moves it when its place comes up */
	/* The heap is sized for every timer that can exist (timer_capacity),
	 * so this cannot fail. */
	(void)ftcp_heap_push(&s->timers, &t->node, when_us);
}

void ftcp_timer_cancel(struct ftcp_stack *s, struct ftcp_timer *t)
{
	ftcp_heap_remove(&s->timers, &t->node);
}

/* Step 2: fire every timer due by now. A callback may re-arm its timer for
 * now or earlier; the bound keeps that from looping forever. */
int ftcp_timer_run(struct ftcp_stack *s)
{
	int fired = 0;
	uint32_t budget = s->timers.len + 1;
	struct ftcp_heap_node *n;

	while (budget-- && (n = ftcp_heap_top(&s->timers)) && n->key <= s->now) {
		struct ftcp_timer *t = ftcp_container_of(n, struct ftcp_timer, node);
		if (t->due > s->now) {
			/* Pushed later meanwhile: to its due time, unfired. */
			(void)ftcp_heap_push(&s->timers, n, t->due);
			continue;
		}
		ftcp_heap_remove(&s->timers, n);
		s->ctr.timers_fired++;
		t->fn(s, t);
		fired++;
	}
	return fired;
}

/* ---- names ---- */

static const char *const counter_names[] = {
#define FTCP_COUNTER_NAME(name, doc) #name,
	FTCP_COUNTER_LIST(FTCP_COUNTER_NAME)
#undef FTCP_COUNTER_NAME
};

static const char *const counter_docs[] = {
#define FTCP_COUNTER_DOC(name, doc) doc,
	FTCP_COUNTER_LIST(FTCP_COUNTER_DOC)
#undef FTCP_COUNTER_DOC
};

unsigned ftcp_counter_count(void)
{
	return FTCP_ARRAY_SIZE(counter_names);
}

const char *ftcp_counter_name(unsigned i)
{
	return i < FTCP_ARRAY_SIZE(counter_names) ? counter_names[i] : NULL;
}

const char *ftcp_counter_doc(unsigned i)
{
	return i < FTCP_ARRAY_SIZE(counter_docs) ? counter_docs[i] : NULL;
}

uint64_t ftcp_counter_value(const struct ftcp_counters *c, unsigned i)
{
	const uint64_t *v = (const uint64_t *)(const void *)c;
	_Static_assert(sizeof(struct ftcp_counters) ==
	                   sizeof(uint64_t) * FTCP_ARRAY_SIZE(counter_names),
	               "counters are a plain array of uint64_t");
	return i < FTCP_ARRAY_SIZE(counter_names) ? v[i] : 0;
}

const char *ftcp_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case FTCP_OK: return "success";
	case FTCP_EBADF: return "bad socket handle";
	case FTCP_EAGAIN: return "operation would block";
	case FTCP_ENOMEM: return "not enough memory";
	case FTCP_EINVAL: return "invalid argument";
	case FTCP_EMFILE: return "socket table full";
	case FTCP_EPIPE: return "broken pipe";
	case FTCP_EDESTADDRREQ: return "destination address required";
	case FTCP_EMSGSIZE: return "message too long";
	case FTCP_EPROTOTYPE: return "wrong protocol for socket";
	case FTCP_EOPNOTSUPP: return "operation not supported";
	case FTCP_EADDRINUSE: return "address already in use";
	case FTCP_EADDRNOTAVAIL: return "address not available";
	case FTCP_ENETUNREACH: return "network unreachable";
	case FTCP_ECONNABORTED: return "connection aborted";
	case FTCP_ECONNRESET: return "connection reset by peer";
	case FTCP_ENOBUFS: return "no buffer space available";
	case FTCP_EISCONN: return "already connected";
	case FTCP_ENOTCONN: return "not connected";
	case FTCP_ETIMEDOUT: return "timed out";
	case FTCP_ECONNREFUSED: return "connection refused";
	case FTCP_EHOSTUNREACH: return "host unreachable";
	case FTCP_EALREADY: return "operation already in progress";
	case FTCP_EINPROGRESS: return "operation in progress";
	default: return "unknown error";
	}
}
