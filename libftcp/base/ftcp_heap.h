/*
 * ftcp_heap.h — the binary min-heap of the seed design, used for timers and
 * for the fault injector's delayed frames.
 *
 * Nodes are embedded in their owners and remember their heap slot, so a
 * node is removed or re-keyed in O(log n) without searching (a TCP socket
 * re-arms its retransmission timer on nearly every ACK). Equal keys come out
 * in insertion order (a sequence number breaks ties), which keeps timer
 * firing and delayed-frame release deterministic.
 */
#ifndef FTCP_HEAP_H
#define FTCP_HEAP_H

#include "ftcp_base.h"

#define FTCP_HEAP_NONE 0xffffffffu

struct ftcp_heap_node {
	uint64_t key;
	uint32_t seq;
	uint32_t slot; /* FTCP_HEAP_NONE when not in a heap */
};

struct ftcp_heap {
	struct ftcp_heap_node **nodes;
	uint32_t len;
	uint32_t cap;
	uint32_t next_seq;
};

static inline void ftcp_heap_node_init(struct ftcp_heap_node *n)
{
	n->slot = FTCP_HEAP_NONE;
}

static inline bool ftcp_heap_node_queued(const struct ftcp_heap_node *n)
{
	return n->slot != FTCP_HEAP_NONE;
}

/* mem: cap pointers. */
int ftcp_heap_init(struct ftcp_heap *h, void *mem, uint32_t cap);
/* Insert n with key; if n is already queued it is re-keyed. 0 or
 * -FTCP_ENOBUFS when full. */
int ftcp_heap_push(struct ftcp_heap *h, struct ftcp_heap_node *n, uint64_t key);
/* Remove n if it is queued. */
void ftcp_heap_remove(struct ftcp_heap *h, struct ftcp_heap_node *n);
/* The smallest node, or NULL. */
static inline struct ftcp_heap_node *ftcp_heap_top(const struct ftcp_heap *h)
{
	return h->len ? h->nodes[0] : NULL;
}
struct ftcp_heap_node *ftcp_heap_pop(struct ftcp_heap *h);

#endif
