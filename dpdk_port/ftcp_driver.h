/*
 * ftcp_driver.h — who runs the stack's four-step loop.
 *
 * Two modes:
 *  - poll thread (core >= 0): a thread pinned to that CPU polls the stack
 *    without interrupts. Other threads call the stack's API only between
 *    ftcp_driver_lock and ftcp_driver_unlock; the poll thread holds the same
 *    lock for each pass of the loop and yields it to waiting callers
 *    between passes (like OpenOnload's stack lock), so a caller waits at
 *    most one pass.
 *  - inline (core < 0): no thread; whoever holds the lock may call
 *    ftcp_driver_poll, and a caller that waits for the network polls while
 *    it waits.
 *
 * Idle back-off: after idle_after_us without any frame, timer or event the
 * poll thread sleeps idle_sleep_us per pass (never past the next timer),
 * so it leaves a small machine's other work room; any lock taker or
 * ftcp_driver_kick ends the back-off. idle_after_us 0 busy-polls for ever.
 * With a wake_fd (readable when the NIC holds frames) it sleeps instead
 * until frames come, a kick, or the next timer (at most 10 ms).
 *
 * A pass hook (set before start) runs at the end of each pass that did
 * work, under the lock: preload wakes sleeping threads there.
 */
#ifndef FTCP_DRIVER_H
#define FTCP_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ftcp_stack;

struct ftcp_driver_config {
	int core;               /* CPU for the poll thread; < 0: inline */
	uint32_t idle_after_us; /* back off after this long idle; 0: never */
	uint32_t idle_sleep_us; /* sleep per pass while backed off */
	int wake_fd;            /* readable while the NIC holds frames; -1: none */
	void (*pass_hook)(void *arg, int work);
	void *pass_arg;
};

#define FTCP_DRIVER_IDLE_AFTER_US 2000u
#define FTCP_DRIVER_IDLE_SLEEP_US 50u

void ftcp_driver_config_defaults(struct ftcp_driver_config *c);

struct ftcp_driver;

/* Start driving s. 0, or -1 with a message naming the setting in err. */
int ftcp_driver_start(struct ftcp_driver **out, struct ftcp_stack *s,
                      const struct ftcp_driver_config *c, char *err, size_t errlen);
/* Stop the poll thread (joins it) and free the driver. The stack is left
 * as it is, for the caller to drain and free. */
void ftcp_driver_stop(struct ftcp_driver *d);

bool ftcp_driver_inline(const struct ftcp_driver *d);
struct ftcp_stack *ftcp_driver_stack(const struct ftcp_driver *d);

void ftcp_driver_lock(struct ftcp_driver *d);
bool ftcp_driver_trylock(struct ftcp_driver *d);
void ftcp_driver_unlock(struct ftcp_driver *d);

/* One pass of the loop (inline mode, lock held). Returns the work done.
 * In poll-thread mode it does nothing and returns 0. */
int ftcp_driver_poll(struct ftcp_driver *d);

/* How long a thread with nothing to do may sleep before polling again:
 * until the stack's next timer (at most 10 ms) when wake_fd will wake it
 * for frames, else at most idle_sleep_us. Inline mode, lock not held. */
uint64_t ftcp_driver_idle_sleep_us(struct ftcp_driver *d);

/* Cut the poll thread's idle back-off short (new work is coming). */
void ftcp_driver_kick(struct ftcp_driver *d);

struct ftcp_driver_stats {
	uint64_t passes, busy_passes, idle_sleeps, lock_waits;
	bool lcore_registered; /* the poll thread has an EAL lcore (mempool caches) */
	uint32_t inline_lcores_given, inline_lcores_held; /* inline: threads given one, holding one */
};
void ftcp_driver_stats(const struct ftcp_driver *d, struct ftcp_driver_stats *out);

#endif
