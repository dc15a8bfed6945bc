/*
 * ftcp_driver.c — the poll thread and the stack lock (see ftcp_driver.h).
 */
#define _GNU_SOURCE
#include "ftcp_driver.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_pause.h>

#include "ftcp/ftcp.h"
#include "ftcp_dpdk.h"

/* Spins before a lock waiter starts yielding its CPU: a pass of the loop
 * takes microseconds, a yield lets a preempted holder run. */
#define LOCK_SPINS_BEFORE_YIELD 4096
/* How long the poll thread stands back after a pass when callers wait. */
#define HANDOVER_SPINS 2048

struct ftcp_driver {
	struct ftcp_stack *stack;
	struct ftcp_driver_config cfg;
	pthread_t thread;
	bool threaded;
	atomic_bool stop;
	atomic_int locked;
	atomic_int waiters;
	atomic_uint kicks;
	atomic_uint_fast64_t passes, busy_passes, idle_sleeps, lock_waits;
	atomic_bool lcore_registered;
};

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void ftcp_driver_config_defaults(struct ftcp_driver_config *c)
{
	memset(c, 0, sizeof(*c));
	c->core = -1;
	c->idle_after_us = FTCP_DRIVER_IDLE_AFTER_US;
	c->idle_sleep_us = FTCP_DRIVER_IDLE_SLEEP_US;
}

bool ftcp_driver_trylock(struct ftcp_driver *d)
{
	int expect = 0;

	return atomic_compare_exchange_strong_explicit(&d->locked, &expect, 1, memory_order_acquire,
	                                               memory_order_relaxed);
}

void ftcp_driver_lock(struct ftcp_driver *d)
{
	unsigned spins = 0;

	if (ftcp_driver_trylock(d))
		return;
	atomic_fetch_add_explicit(&d->waiters, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&d->lock_waits, 1, memory_order_relaxed);
	for (;;) {
		while (atomic_load_explicit(&d->locked, memory_order_relaxed)) {
			if (++spins < LOCK_SPINS_BEFORE_YIELD)
				rte_pause();
			else
				sched_yield();
		}
		if (ftcp_driver_trylock(d))
			break;
	}
	atomic_fetch_sub_explicit(&d->waiters, 1, memory_order_relaxed);
}

void ftcp_driver_unlock(struct ftcp_driver *d)
{
	atomic_store_explicit(&d->locked, 0, memory_order_release);
}

void ftcp_driver_kick(struct ftcp_driver *d)
{
	atomic_fetch_add_explicit(&d->kicks, 1, memory_order_relaxed);
}

static int one_pass(struct ftcp_driver *d, uint64_t now)
{
	int work = ftcp_stack_poll(d->stack, now);

	atomic_fetch_add_explicit(&d->passes, 1, memory_order_relaxed);
	if (work > 0) {
		atomic_fetch_add_explicit(&d->busy_passes, 1, memory_order_relaxed);
		if (d->cfg.pass_hook)
			d->cfg.pass_hook(d->cfg.pass_arg, work);
	}
	return work;
}

int ftcp_driver_poll(struct ftcp_driver *d)
{
	if (d->threaded)
		return 0;
	return one_pass(d, ftcp_dpdk_now_us());
}

static void *poll_thread(void *arg)
{
	struct ftcp_driver *d = arg;
	uint64_t last_work = ftcp_dpdk_now_us(), deadline, now;
	unsigned seen_kicks = 0, k, spins;
	int work;

	/* An EAL thread identity gives this thread the mempools' per-lcore
	 * caches; without it every mbuf comes from the shared ring. */
	if (rte_thread_register() == 0)
		atomic_store(&d->lcore_registered, true);
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		ftcp_driver_lock(d);
		now = ftcp_dpdk_now_us();
		work = one_pass(d, now);
		deadline = ftcp_stack_next_deadline(d->stack);
		ftcp_driver_unlock(d);

		k = atomic_load_explicit(&d->kicks, memory_order_relaxed);
		if (work > 0 || k != seen_kicks) {
			last_work = now;
			seen_kicks = k;
		}
		/* Let waiting callers in before the next pass. */
		for (spins = 0; spins < HANDOVER_SPINS &&
		                atomic_load_explicit(&d->waiters, memory_order_relaxed);
		     spins++)
			rte_pause();
		if (spins)
			last_work = now;
		if (d->cfg.idle_after_us && now - last_work >= d->cfg.idle_after_us) {
			uint64_t us = d->cfg.idle_sleep_us;
			struct timespec ts;

			if (deadline <= now)
				continue;
			if (deadline - now < us)
				us = deadline - now;
			ts.tv_sec = (time_t)(us / 1000000);
			ts.tv_nsec = (long)(us % 1000000) * 1000;
			atomic_fetch_add_explicit(&d->idle_sleeps, 1, memory_order_relaxed);
			nanosleep(&ts, NULL);
		}
	}
	if (atomic_load(&d->lcore_registered))
		rte_thread_unregister();
	return NULL;
}

int ftcp_driver_start(struct ftcp_driver **out, struct ftcp_stack *s,
                      const struct ftcp_driver_config *c, char *err, size_t errlen)
{
	struct ftcp_driver *d;
	cpu_set_t one;
	int rc;

	if (c->core >= CPU_SETSIZE) {
		set_err(err, errlen, "core: %d is not a CPU number (0..%d, or -1 for inline polling)",
		        c->core, CPU_SETSIZE - 1);
		return -1;
	}
	/* The calling thread's own affinity says nothing here (the EAL pins
	 * its main thread); the kernel refuses a CPU outside the cpuset when
	 * the thread is pinned, below. */
	if (c->core >= 0 && c->core >= sysconf(_SC_NPROCESSORS_CONF)) {
		set_err(err, errlen, "core: CPU %d does not exist (this machine has %ld; -1 polls inline)",
		        c->core, sysconf(_SC_NPROCESSORS_CONF));
		return -1;
	}
	if (c->idle_after_us && !c->idle_sleep_us) {
		set_err(err, errlen, "idle_sleep_us: must be at least 1 when idle_after_us is set");
		return -1;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		set_err(err, errlen, "driver: out of memory");
		return -1;
	}
	d->stack = s;
	d->cfg = *c;
	if (c->core < 0) {
		*out = d;
		return 0;
	}
	d->threaded = true;
	rc = pthread_create(&d->thread, NULL, poll_thread, d);
	if (rc != 0) {
		set_err(err, errlen, "core: cannot start the poll thread: %s", strerror(rc));
		free(d);
		return -1;
	}
	CPU_ZERO(&one);
	CPU_SET(c->core, &one);
	rc = pthread_setaffinity_np(d->thread, sizeof(one), &one);
	if (rc != 0) {
		set_err(err, errlen, "core: cannot pin the poll thread to CPU %d: %s (outside this "
		        "process's cpuset?)", c->core, strerror(rc));
		atomic_store(&d->stop, true);
		pthread_join(d->thread, NULL);
		free(d);
		return -1;
	}
	pthread_setname_np(d->thread, "ftcp-poll");
	*out = d;
	return 0;
}

void ftcp_driver_stop(struct ftcp_driver *d)
{
	if (!d)
		return;
	if (d->threaded) {
		atomic_store(&d->stop, true);
		pthread_join(d->thread, NULL);
	}
	free(d);
}

bool ftcp_driver_inline(const struct ftcp_driver *d)
{
	return !d->threaded;
}

struct ftcp_stack *ftcp_driver_stack(const struct ftcp_driver *d)
{
	return d->stack;
}

void ftcp_driver_stats(const struct ftcp_driver *d, struct ftcp_driver_stats *out)
{
	struct ftcp_driver *m = (struct ftcp_driver *)d;

	out->passes = atomic_load(&m->passes);
	out->busy_passes = atomic_load(&m->busy_passes);
	out->idle_sleeps = atomic_load(&m->idle_sleeps);
	out->lock_waits = atomic_load(&m->lock_waits);
	out->lcore_registered = atomic_load(&m->lcore_registered);
}
