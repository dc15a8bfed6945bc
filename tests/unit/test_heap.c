/*
 * test_heap.c — the indexed binary min-heap (base/ftcp_heap.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_test.h"
#include "base/ftcp_heap.h"
#include "ftcp/ftcp_errno.h"

void register_heap_tests(void);

struct item {
	struct ftcp_heap_node node;
	int id;
	uint32_t order; /* test's own insertion counter */
};

/* The item of a popped node; a NULL pop gives a sentinel that matches
 * nothing, so a broken heap fails assertions instead of crashing. */
static struct item *item_of(struct ftcp_heap_node *n)
{
	static struct item none;
	if (!n) {
		none.id = -1000;
		none.node.key = UINT64_MAX;
		return &none;
	}
	return ftcp_container_of(n, struct item, node);
}

static uint64_t pop_key(struct ftcp_heap *h)
{
	return item_of(ftcp_heap_pop(h))->node.key;
}

/* Heap property and slot back-pointers hold for every node. */
static int heap_valid(const struct ftcp_heap *h)
{
	uint32_t i;
	for (i = 0; i < h->len; i++) {
		const struct ftcp_heap_node *n = h->nodes[i];
		if (n->slot != i)
			return 0;
		if (i > 0) {
			const struct ftcp_heap_node *p = h->nodes[(i - 1) / 2];
			if (p->key > n->key || (p->key == n->key && (int32_t)(p->seq - n->seq) > 0))
				return 0;
		}
	}
	return 1;
}

static void test_heap_init_rejects_zero_capacity(void)
{
	struct ftcp_heap h;
	struct ftcp_heap_node *slots[4];

	ASSERT_EQ_I64(ftcp_heap_init(&h, slots, 0), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_heap_init(&h, NULL, 4), -FTCP_EINVAL);
	ASSERT_EQ_I64(ftcp_heap_init(&h, slots, 4), 0);
	CU_ASSERT(ftcp_heap_top(&h) == NULL);
	CU_ASSERT(ftcp_heap_pop(&h) == NULL);
}

static void test_heap_pops_in_key_order(void)
{
	enum { N = 200 };
	struct ftcp_heap h;
	struct ftcp_heap_node *slots[N];
	struct item items[N];
	uint64_t last = 0;
	int i;

	CU_ASSERT_FATAL(ftcp_heap_init(&h, slots, N) == 0);
	for (i = 0; i < N; i++) {
		ftcp_heap_node_init(&items[i].node);
		CU_ASSERT(!ftcp_heap_node_queued(&items[i].node));
		ASSERT_EQ_I64(ftcp_heap_push(&h, &items[i].node, (uint64_t)((i * 7919) % 1000)), 0);
		CU_ASSERT(ftcp_heap_node_queued(&items[i].node));
	}
	ASSERT_EQ_U64(h.len, N);
	CU_ASSERT(heap_valid(&h));
	for (i = 0; i < N; i++) {
		struct ftcp_heap_node *top = ftcp_heap_top(&h), *n = ftcp_heap_pop(&h);
		CU_ASSERT_FATAL(n != NULL);
		CU_ASSERT(n == top);
		CU_ASSERT(n->key >= last);
		CU_ASSERT(!ftcp_heap_node_queued(n));
		last = n->key;
	}
	CU_ASSERT(ftcp_heap_pop(&h) == NULL);
	ASSERT_EQ_U64(h.len, 0);
}

static void test_heap_equal_keys_come_out_in_insertion_order(void)
{
	enum { N = 50 };
	struct ftcp_heap h;
	struct ftcp_heap_node *slots[N];
	struct item items[N];
	int i, prev_id[3] = {-1, -1, -1};

	CU_ASSERT_FATAL(ftcp_heap_init(&h, slots, N) == 0);
	for (i = 0; i < N; i++) {
		items[i].id = i;
		ftcp_heap_node_init(&items[i].node);
		/* three keys, interleaved */
		ftcp_heap_push(&h, &items[i].node, (uint64_t)(100 + (i * 2) % 3));
	}
	for (i = 0; i < N; i++) {
		struct item *it = item_of(ftcp_heap_pop(&h));
		int k = (int)it->node.key - 100;
		CU_ASSERT_FATAL(k >= 0 && k < 3);
		CU_ASSERT(it->id > prev_id[k]);
		prev_id[k] = it->id;
	}
}

static void test_heap_insertion_order_survives_sequence_wrap(void)
{
	enum { N = 20 };
	struct ftcp_heap h;
	struct ftcp_heap_node *slots[N];
	struct item items[N];
	int i;

	CU_ASSERT_FATAL(ftcp_heap_init(&h, slots, N) == 0);
	h.next_seq = 0xfffffff6u; /* the counter wraps half way */
	for (i = 0; i < N; i++) {
		items[i].id = i;
		ftcp_heap_node_init(&items[i].node);
		ftcp_heap_push(&h, &items[i].node, 42);
	}
	for (i = 0; i < N; i++)
		ASSERT_EQ_I64(item_of(ftcp_heap_pop(&h))->id, i);
}

static void test_heap_remove_from_middle_keeps_heap_valid(void)
{
	enum { N = 64 };
	struct ftcp_heap h;
	struct ftcp_heap_node *slots[N];
	struct item items[N];
	uint64_t last = 0;
	int i, popped = 0;

	CU_ASSERT_FATAL(ftcp_heap_init(&h, slots, N) == 0);
	for (i = 0; i < N; i++) {
		items[i].id = i;
		ftcp_heap_node_init(&items[i].node);
		ftcp_heap_push(&h, &items[i].node, (uint64_t)((i * 37) % 64));
	}
	/* remove every third node, wherever it sits */
	for (i = 0; i < N; i += 3) {
		ftcp_heap_remove(&h, &items[i].node);
		CU_ASSERT(!ftcp_heap_node_queued(&items[i].node));
		CU_ASSERT(heap_valid(&h));
	}
	/* removing again, or a node never queued, is harmless */
	ftcp_heap_remove(&h, &items[0].node);
	{
		struct item stray;
		ftcp_heap_node_init(&stray.node);
		ftcp_heap_remove(&h, &stray.node);
	}
	ASSERT_EQ_U64(h.len, N - (N + 2) / 3);
	CU_ASSERT(heap_valid(&h));
	while (h.len) {
		struct item *it = item_of(ftcp_heap_pop(&h));
		CU_ASSERT(it->id % 3 != 0);
		CU_ASSERT(it->node.key >= last);
		last = it->node.key;
		popped++;
	}
	ASSERT_EQ_I64(popped, N - (N + 2) / 3);
}

static void test_heap_remove_of_last_element_that_must_sift_up(void)
{
	/* Removing a node from one subtree and moving the last node (from
	 * another subtree, with a smaller key) into its place must sift up. */
	struct ftcp_heap h;
	struct ftcp_heap_node *slots[8];
	struct item it[7];
	static const uint64_t keys[7] = {1, 10, 2, 11, 12, 3, 4};
	int i;

	CU_ASSERT_FATAL(ftcp_heap_init(&h, slots, 8) == 0);
	for (i = 0; i < 7; i++) {
		ftcp_heap_node_init(&it[i].node);
		ftcp_heap_push(&h, &it[i].node, keys[i]);
	}
	CU_ASSERT_FATAL(heap_valid(&h));
	/* slot 3 holds key 11 (child of 10); the last slot holds 4 */
	ASSERT_EQ_U64(h.nodes[3]->key, 11);
	ASSERT_EQ_U64(h.nodes[6]->key, 4);
	ftcp_heap_remove(&h, h.nodes[3]);
	CU_ASSERT(heap_valid(&h));
	ASSERT_EQ_U64(pop_key(&h), 1);
	ASSERT_EQ_U64(pop_key(&h), 2);
	ASSERT_EQ_U64(pop_key(&h), 3);
	ASSERT_EQ_U64(pop_key(&h), 4);
	ASSERT_EQ_U64(pop_key(&h), 10);
	ASSERT_EQ_U64(pop_key(&h), 12);
	CU_ASSERT(ftcp_heap_pop(&h) == NULL);
}

static void test_heap_push_of_queued_node_rekeys_up_and_down(void)
{
	struct ftcp_heap h;
	struct ftcp_heap_node *slots[3];
	struct item a, b, c;

	CU_ASSERT_FATAL(ftcp_heap_init(&h, slots, 3) == 0);
	ftcp_heap_node_init(&a.node);
	ftcp_heap_node_init(&b.node);
	ftcp_heap_node_init(&c.node);
	ftcp_heap_push(&h, &a.node, 10);
	ftcp_heap_push(&h, &b.node, 20);
	ftcp_heap_push(&h, &c.node, 30);
	CU_ASSERT(ftcp_heap_top(&h) == &a.node);

	/* up: c becomes the earliest; a full heap still re-keys */
	ASSERT_EQ_I64(ftcp_heap_push(&h, &c.node, 5), 0);
	ASSERT_EQ_U64(h.len, 3);
	CU_ASSERT(ftcp_heap_top(&h) == &c.node);
	CU_ASSERT(heap_valid(&h));

	/* down: c becomes the latest */
	ASSERT_EQ_I64(ftcp_heap_push(&h, &c.node, 40), 0);
	CU_ASSERT(ftcp_heap_top(&h) == &a.node);
	CU_ASSERT(heap_valid(&h));

	/* down: a moves past b */
	ASSERT_EQ_I64(ftcp_heap_push(&h, &a.node, 25), 0);
	CU_ASSERT(heap_valid(&h));
	CU_ASSERT(ftcp_heap_pop(&h) == &b.node);
	CU_ASSERT(ftcp_heap_pop(&h) == &a.node);
	CU_ASSERT(ftcp_heap_pop(&h) == &c.node);
	CU_ASSERT(ftcp_heap_pop(&h) == NULL);

	/* re-keying to the same key counts as a new insertion */
	ftcp_heap_push(&h, &a.node, 7);
	ftcp_heap_push(&h, &b.node, 7);
	ftcp_heap_push(&h, &a.node, 7);
	CU_ASSERT(heap_valid(&h));
	CU_ASSERT(ftcp_heap_pop(&h) == &b.node);
	CU_ASSERT(ftcp_heap_pop(&h) == &a.node);
}

static void test_heap_full_heap_refuses_push(void)
{
	struct ftcp_heap h;
	struct ftcp_heap_node *slots[4];
	struct item it[5];
	int i;

	CU_ASSERT_FATAL(ftcp_heap_init(&h, slots, 4) == 0);
	for (i = 0; i < 5; i++)
		ftcp_heap_node_init(&it[i].node);
	for (i = 0; i < 4; i++)
		ASSERT_EQ_I64(ftcp_heap_push(&h, &it[i].node, (uint64_t)(10 - i)), 0);
	ASSERT_EQ_I64(ftcp_heap_push(&h, &it[4].node, 1), -FTCP_ENOBUFS);
	CU_ASSERT(!ftcp_heap_node_queued(&it[4].node));
	ASSERT_EQ_U64(h.len, 4);
	CU_ASSERT(ftcp_heap_top(&h) == &it[3].node);
	ftcp_heap_pop(&h);
	ASSERT_EQ_I64(ftcp_heap_push(&h, &it[4].node, 1), 0);
	CU_ASSERT(ftcp_heap_top(&h) == &it[4].node);
}

/* ---- randomized test against a reference ---- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static void test_heap_randomized_against_reference(void)
{
	enum { N = 300, OPS = 30000 };
	struct ftcp_heap h;
	struct ftcp_heap_node **slots = calloc(N, sizeof(*slots));
	struct item *items = calloc(N, sizeof(*items));
	uint8_t queued[N] = {0};
	uint32_t order = 0, op, bad = 0, len = 0;
	int i;

	CU_ASSERT_FATAL(slots && items);
	CU_ASSERT_FATAL(ftcp_heap_init(&h, slots, N) == 0);
	for (i = 0; i < N; i++) {
		items[i].id = i;
		ftcp_heap_node_init(&items[i].node);
	}
	rng_state = 4242;
	for (op = 0; op < OPS && !bad; op++) {
		uint32_t r = rnd() % 100;
		i = (int)(rnd() % N);
		if (r < 45) {
			/* push or re-key; few distinct keys so ties are common */
			uint64_t key = rnd() % 50;
			if (ftcp_heap_push(&h, &items[i].node, key) != 0)
				bad++;
			if (!queued[i])
				len++;
			queued[i] = 1;
			items[i].order = order++;
		} else if (r < 65) {
			ftcp_heap_remove(&h, &items[i].node);
			if (queued[i])
				len--;
			queued[i] = 0;
		} else {
			/* pop must return the smallest key, oldest first */
			int best = -1, k;
			struct ftcp_heap_node *n;
			for (k = 0; k < N; k++) {
				if (!queued[k])
					continue;
				if (best < 0 || items[k].node.key < items[best].node.key ||
				    (items[k].node.key == items[best].node.key &&
				     items[k].order < items[best].order))
					best = k;
			}
			n = ftcp_heap_pop(&h);
			if (best < 0) {
				if (n)
					bad++;
			} else {
				if (n != &items[best].node)
					bad++;
				queued[best] = 0;
				len--;
			}
		}
		if (h.len != len || !heap_valid(&h))
			bad++;
		for (i = 0; i < N; i++)
			if (ftcp_heap_node_queued(&items[i].node) != (queued[i] != 0))
				bad++;
		if (bad)
			fprintf(stderr, "\n  heap diverged at op %u\n", op);
	}
	ASSERT_EQ_U64(bad, 0);
	free(slots);
	free(items);
}

void register_heap_tests(void)
{
	FTCP_SUITE("heap",
	           FTCP_CASE(test_heap_init_rejects_zero_capacity),
	           FTCP_CASE(test_heap_pops_in_key_order),
	           FTCP_CASE(test_heap_equal_keys_come_out_in_insertion_order),
	           FTCP_CASE(test_heap_insertion_order_survives_sequence_wrap),
	           FTCP_CASE(test_heap_remove_from_middle_keeps_heap_valid),
	           FTCP_CASE(test_heap_remove_of_last_element_that_must_sift_up),
	           FTCP_CASE(test_heap_push_of_queued_node_rekeys_up_and_down),
	           FTCP_CASE(test_heap_full_heap_refuses_push),
	           FTCP_CASE(test_heap_randomized_against_reference));
}
