/*
 * ftcp_timer.h — timers on the stack's binary heap (base/ftcp_heap.h).
 * A timer is embedded in its owner (an ARP entry, a TCP connection) and
 * found again with ftcp_container_of in its callback; step 2 of the poll
 * loop fires the due ones.
 *
 * Pushing a deadline later (a retransmission timer on every ACK, a
 * keepalive timer on every segment) touches no heap: the timer keeps its
 * place and only its due time moves; when its place comes up, step 2
 * puts it back at the due time instead of firing it.
 */
#ifndef FTCP_TIMER_H
#define FTCP_TIMER_H

#include "base/ftcp_heap.h"

struct ftcp_stack;
struct ftcp_timer;
typedef void (*ftcp_timer_fn)(struct ftcp_stack *s, struct ftcp_timer *t);

struct ftcp_timer {
	struct ftcp_heap_node node; /* key: when step 2 looks at it (<= due) */
	uint64_t due;               /* when it fires */
	ftcp_timer_fn fn;
};

void ftcp_timer_init(struct ftcp_timer *t, ftcp_timer_fn fn);
/* Arm (or re-arm) to fire at the absolute time when_us. */
void ftcp_timer_arm(struct ftcp_stack *s, struct ftcp_timer *t, uint64_t when_us);
void ftcp_timer_cancel(struct ftcp_stack *s, struct ftcp_timer *t);
int ftcp_timer_run(struct ftcp_stack *s);

static inline bool ftcp_timer_armed(const struct ftcp_timer *t)
{
	return ftcp_heap_node_queued(&t->node);
}

/* When an armed timer fires. */
static inline uint64_t ftcp_timer_due(const struct ftcp_timer *t)
{
	return t->due;
}

#endif
