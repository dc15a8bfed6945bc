/*
 * ftcp_faultdev.c — fault injection around a device (see ftcp_faultdev.h).
 *
 * Delayed frames wait in slots ordered by release time on one heap per
 * direction (ties keep arrival order). Transmit: faults are applied as the
 * stack hands frames over, and due frames go to the inner device on every
 * call into the wrapper, so they leave even when the stack sends nothing
 * more. Receive: frames pulled from the inner device get the same treatment
 * and are returned once due.
 */
#include "ftcp_faultdev.h"
#include "ftcp/ftcp_errno.h"
#include "wire/ftcp_wire.h"

#define PULL_BURST 32

struct slot {
	struct ftcp_heap_node node;
	uint32_t len;
	uint32_t flags; /* tx: ftcp_tx_flags; rx: ftcp_rx_flags */
	uint8_t l2, l3, l4;
	uint8_t data[];
};

static uint32_t slot_size(const struct ftcp_fault_config *c)
{
	return (uint32_t)FTCP_ALIGN_UP(sizeof(struct slot) + c->max_frame, 8);
}

size_t ftcp_faultdev_memory_size(const struct ftcp_fault_config *c)
{
	if (!c->slots || !c->max_frame)
		return 0;
	return ftcp_pool_memory_size(slot_size(c), c->slots) +
	       2 * FTCP_ALIGN_UP(sizeof(struct ftcp_heap_node *) * c->slots, 8) +
	       sizeof(struct ftcp_rx_frame) * PULL_BURST + 8;
}

static bool active(const struct ftcp_fault_dir *d)
{
	return d->drop_ppm || d->dup_ppm || d->corrupt_ppm || d->reorder_ppm || d->delay_us ||
	       d->jitter_us || d->rate_bps;
}

static bool chance(struct ftcp_faultdev *fd, uint32_t ppm)
{
	return ppm && ftcp_rand_below(&fd->rng, 1000000) < ppm;
}

static struct slot *slot_of(struct ftcp_heap_node *n)
{
	return ftcp_container_of(n, struct slot, node);
}

static int32_t slot_index(const struct ftcp_faultdev *fd, const struct slot *s)
{
	return (int32_t)(((const uint8_t *)s - fd->slots.objs) / fd->slots.obj_size);
}

/* Copy a frame into a slot and schedule it; the caller has decided it is
 * not dropped. Applies corruption, reordering, delay and rate. */
static void schedule(struct ftcp_faultdev *fd, const struct ftcp_fault_dir *d,
                     struct ftcp_fault_stats *st, struct ftcp_heap *heap,
                     uint64_t *next_free_ns, uint64_t now, const struct ftcp_tx_frame *fr,
                     uint32_t flags, uint8_t l2, uint8_t l3, uint8_t l4, bool rx)
{
	uint32_t len = ftcp_tx_frame_len(fr);
	uint64_t when = now + d->delay_us;
	int32_t idx;
	struct slot *s;

	if (len > fd->cfg.max_frame || (idx = ftcp_pool_alloc(&fd->slots)) < 0) {
		st->queue_full++;
		return;
	}
	s = ftcp_pool_obj(&fd->slots, idx);
	ftcp_heap_node_init(&s->node);
	ftcp_tx_frame_copy(fr, s->data);
	s->len = len;
	s->flags = flags;
	s->l2 = l2;
	s->l3 = l3;
	s->l4 = l4;
	if (len > FTCP_ETH_HLEN && chance(fd, d->corrupt_ppm)) {
		uint32_t at;
		/* Corruption happens on the wire, after checksums: complete
		 * what the device would have, or the damage goes unseen. A
		 * received frame loses the device's verdict for the same
		 * reason. */
		if (!rx && flags) {
			ftcp_wire_complete_cksums(s->data, len, flags, l2, l3);
			s->flags = 0;
		} else if (rx) {
			s->flags = 0;
		}
		at = FTCP_ETH_HLEN + ftcp_rand_below(&fd->rng, len - FTCP_ETH_HLEN);
		s->data[at] ^= (uint8_t)(1u << ftcp_rand_below(&fd->rng, 8));
		st->corrupted++;
	}
	if (d->jitter_us)
		when += ftcp_rand_below(&fd->rng, (uint32_t)FTCP_MIN(d->jitter_us, 0xffffffffu) + 1);
	if (d->rate_bps) {
		/* Serialise behind the frames already on the wire; kept in ns
		 * so per-frame rounding does not add up to a faster link. */
		uint64_t start_ns = FTCP_MAX(when * 1000, *next_free_ns);
		*next_free_ns = start_ns + (uint64_t)len * 8 * 1000000000 / d->rate_bps;
		when = (*next_free_ns + 999) / 1000;
	}
	if (chance(fd, d->reorder_ppm)) {
		when += d->reorder_delay_us;
		st->reordered++;
	}
	if (when > now)
		st->delayed++;
	ftcp_heap_push(heap, &s->node, when); /* cannot fail: heap holds every slot */
}

/* Send due transmit-side frames to the inner device. */
static void flush_tx(struct ftcp_faultdev *fd, uint64_t now)
{
	struct ftcp_heap_node *n;

	while ((n = ftcp_heap_top(&fd->tx_heap)) && n->key <= now) {
		struct slot *s = slot_of(n);
		struct ftcp_tx_frame f = {
			.hdr = s->data, .hdr_len = s->len,
			.flags = s->flags, .l2_len = s->l2, .l3_len = s->l3, .l4_len = s->l4,
			.tso_segsz = 0, .pin = NULL,
		};
		if (fd->inner->ops->tx_burst(fd->inner, &f, 1, now) != 1)
			break; /* inner is full: keep it for the next call */
		ftcp_heap_remove(&fd->tx_heap, n);
		ftcp_pool_free(&fd->slots, slot_index(fd, s));
	}
}

static uint16_t fd_tx_burst(struct ftcp_device *dev, const struct ftcp_tx_frame *f, uint16_t n,
                            uint64_t now)
{
	struct ftcp_faultdev *fd = (struct ftcp_faultdev *)dev;
	const struct ftcp_fault_dir *d = &fd->cfg.tx;
	struct ftcp_fault_stats *st = &fd->tx_stats;
	uint16_t i;

	if (!active(d) && ftcp_heap_top(&fd->tx_heap) == NULL)
		return fd->inner->ops->tx_burst(fd->inner, f, n, now);
	for (i = 0; i < n; i++) {
		st->frames++;
		if (chance(fd, d->drop_ppm)) {
			st->dropped++;
		} else {
			int copies = chance(fd, d->dup_ppm) ? 2 : 1, c;
			if (copies == 2)
				st->duplicated++;
			for (c = 0; c < copies; c++)
				schedule(fd, d, st, &fd->tx_heap, &fd->tx_next_free_ns, now, &f[i],
				         f[i].flags, f[i].l2_len, f[i].l3_len, f[i].l4_len, false);
		}
		if (f[i].pin) /* copied (or dropped): the payload is free again */
			ftcp_txpin_release(f[i].pin);
	}
	flush_tx(fd, now);
	return n;
}

static uint16_t fd_rx_burst(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n,
                            uint64_t now)
{
	struct ftcp_faultdev *fd = (struct ftcp_faultdev *)dev;
	const struct ftcp_fault_dir *d = &fd->cfg.rx;
	struct ftcp_fault_stats *st = &fd->rx_stats;
	struct ftcp_heap_node *node;
	uint16_t got, i, out = 0;

	flush_tx(fd, now);
	fd->rx_passthrough = !active(d) && ftcp_heap_top(&fd->rx_heap) == NULL;
	if (fd->rx_passthrough)
		return fd->inner->ops->rx_burst(fd->inner, f, n, now);

	/* Pull what the inner device has, as long as slots remain. */
	do {
		got = fd->inner->ops->rx_burst(fd->inner, fd->inner_rx, PULL_BURST, now);
		for (i = 0; i < got; i++) {
			const struct ftcp_rx_frame *in = &fd->inner_rx[i];
			st->frames++;
			if (chance(fd, d->drop_ppm)) {
				st->dropped++;
				continue;
			}
			struct ftcp_tx_frame whole = {.hdr = in->data, .hdr_len = in->len};
			if (chance(fd, d->dup_ppm)) {
				st->duplicated++;
				schedule(fd, d, st, &fd->rx_heap, &fd->rx_next_free_ns, now, &whole,
				         in->flags, 0, 0, 0, true);
			}
			schedule(fd, d, st, &fd->rx_heap, &fd->rx_next_free_ns, now, &whole, in->flags, 0,
			         0, 0, true);
		}
		if (got)
			fd->inner->ops->rx_release(fd->inner, fd->inner_rx, got);
	} while (got == PULL_BURST && fd->slots.in_use < fd->slots.count);

	while (out < n && (node = ftcp_heap_top(&fd->rx_heap)) && node->key <= now) {
		struct slot *s = slot_of(node);
		ftcp_heap_remove(&fd->rx_heap, node);
		f[out].data = s->data;
		f[out].len = s->len;
		f[out].flags = s->flags;
		f[out].cookie = s;
		out++;
	}
	return out;
}

static void fd_rx_release(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n)
{
	struct ftcp_faultdev *fd = (struct ftcp_faultdev *)dev;
	uint16_t i;

	if (fd->rx_passthrough) {
		fd->inner->ops->rx_release(fd->inner, f, n);
		return;
	}
	for (i = 0; i < n; i++)
		ftcp_pool_free(&fd->slots, slot_index(fd, f[i].cookie));
}

static const struct ftcp_device_ops faultdev_ops = {
	.rx_burst = fd_rx_burst,
	.rx_release = fd_rx_release,
	.tx_burst = fd_tx_burst,
};

int ftcp_faultdev_init(struct ftcp_faultdev *fd, struct ftcp_device *inner,
                       const struct ftcp_fault_config *c, void *mem, size_t mem_len)
{
	uint8_t *p = mem;
	size_t heap_bytes;

	if (!fd || !inner || !c || !mem || ((uintptr_t)mem & 7) || !c->slots || !c->max_frame ||
	    mem_len < ftcp_faultdev_memory_size(c))
		return -FTCP_EINVAL;
	ftcp_memset(fd, 0, sizeof(*fd));
	fd->dev.ops = &faultdev_ops;
	fd->dev.mac = inner->mac;
	fd->dev.mtu = inner->mtu;
	fd->dev.caps = inner->caps;
	/* Transmit faults hit frames as the stack hands them over: a TSO
	 * frame would be lost or damaged whole, and a slot holds one frame
	 * of max_frame. The stack sends single segments instead. */
	if (active(&c->tx))
		fd->dev.caps &= ~(uint32_t)FTCP_DEV_TX_TSO;
	fd->inner = inner;
	fd->cfg = *c;
	ftcp_rand_seed(&fd->rng, c->seed);
	fd->slot_size = slot_size(c);
	heap_bytes = FTCP_ALIGN_UP(sizeof(struct ftcp_heap_node *) * c->slots, 8);
	ftcp_pool_init(&fd->slots, p, fd->slot_size, c->slots);
	p += ftcp_pool_memory_size(fd->slot_size, c->slots);
	ftcp_heap_init(&fd->tx_heap, p, c->slots);
	p += heap_bytes;
	ftcp_heap_init(&fd->rx_heap, p, c->slots);
	p += heap_bytes;
	fd->inner_rx = (struct ftcp_rx_frame *)(void *)p;
	return 0;
}

uint32_t ftcp_faultdev_in_flight(const struct ftcp_faultdev *fd)
{
	return fd->slots.in_use;
}

uint64_t ftcp_faultdev_next_release(const struct ftcp_faultdev *fd)
{
	const struct ftcp_heap_node *t = ftcp_heap_top(&fd->tx_heap), *r = ftcp_heap_top(&fd->rx_heap);
	uint64_t next = UINT64_MAX;

	if (t)
		next = t->key;
	if (r && r->key < next)
		next = r->key;
	return next;
}
