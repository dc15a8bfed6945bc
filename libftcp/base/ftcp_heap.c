/* ftcp_heap.c — indexed binary min-heap (see ftcp_heap.h). */
#include "ftcp_heap.h"
#include "ftcp/ftcp_errno.h"

int ftcp_heap_init(struct ftcp_heap *h, void *mem, uint32_t cap)
{
	if (!mem || !cap)
		return -FTCP_EINVAL;
	h->nodes = mem;
	h->len = 0;
	h->cap = cap;
	h->next_seq = 0;
	return 0;
}

static inline bool less(const struct ftcp_heap_node *a, const struct ftcp_heap_node *b)
{
	if (a->key != b->key)
		return a->key < b->key;
	return (int32_t)(a->seq - b->seq) < 0; /* wrap-safe insertion order */
}

static inline void place(struct ftcp_heap *h, uint32_t i, struct ftcp_heap_node *n)
{
	h->nodes[i] = n;
	n->slot = i;
}

static void sift_up(struct ftcp_heap *h, uint32_t i)
{
	struct ftcp_heap_node *n = h->nodes[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!less(n, h->nodes[parent]))
			break;
		place(h, i, h->nodes[parent]);
		i = parent;
	}
	place(h, i, n);
}

static void sift_down(struct ftcp_heap *h, uint32_t i)
{
	struct ftcp_heap_node *n = h->nodes[i];

	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->len)
			break;
		if (c + 1 < h->len && less(h->nodes[c + 1], h->nodes[c]))
			c++;
		if (!less(h->nodes[c], n))
			break;
		place(h, i, h->nodes[c]);
		i = c;
	}
	place(h, i, n);
}

int ftcp_heap_push(struct ftcp_heap *h, struct ftcp_heap_node *n, uint64_t key)
{
	if (ftcp_heap_node_queued(n)) {
		uint64_t old = n->key;
		n->key = key;
		n->seq = h->next_seq++;
		if (key < old)
			sift_up(h, n->slot);
		else
			sift_down(h, n->slot);
		return 0;
	}
	if (h->len == h->cap)
		return -FTCP_ENOBUFS;
	n->key = key;
	n->seq = h->next_seq++;
	place(h, h->len++, n);
	sift_up(h, n->slot);
	return 0;
}

void ftcp_heap_remove(struct ftcp_heap *h, struct ftcp_heap_node *n)
{
	uint32_t i = n->slot;
	struct ftcp_heap_node *last;

	if (i == FTCP_HEAP_NONE || i >= h->len || h->nodes[i] != n)
		return;
	n->slot = FTCP_HEAP_NONE;
	last = h->nodes[--h->len];
	if (i == h->len)
		return;
	place(h, i, last);
	if (i > 0 && less(last, h->nodes[(i - 1) / 2]))
		sift_up(h, i);
	else
		sift_down(h, i);
}

struct ftcp_heap_node *ftcp_heap_pop(struct ftcp_heap *h)
{
	struct ftcp_heap_node *top = ftcp_heap_top(h);
	if (top)
		ftcp_heap_remove(h, top);
	return top;
}
