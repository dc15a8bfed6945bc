/*
 * ftcp_driver.c — the poll thread and the stack lock (see ftcp_driver.h).
 */
#define _GNU_SOURCE
#include "ftcp_driver.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
/* The longest sleep on wake_fd: a bound, should a wake-up ever be lost. */
#define WAKE_SLEEP_MAX_US 10000

struct ftcp_driver {
	struct ftcp_stack *stack;
	struct ftcp_driver_config cfg;
	pthread_t thread;
	bool threaded;
	atomic_bool stop;
	atomic_int locked;
	atomic_int waiters;
	atomic_uint kicks;
	int kick_efd;         /* wakes the poll thread asleep on wake_fd; -1: none */
	atomic_bool sleeping; /* it is (about to be) asleep there */
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
	c->wake_fd = -1;
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

static void wake(struct ftcp_driver *d)
{
	uint64_t one = 1;

	if (write(d->kick_efd, &one, sizeof(one)) < 0) {
		/* The counter is full: the thread is awake already. */
	}
}

void ftcp_driver_kick(struct ftcp_driver *d)
{
	/* Sequentially consistent with the sleeper's flag then counter: one
	 * of the two sees the other, so no kick is slept through. */
	atomic_fetch_add(&d->kicks, 1);
	if (d->kick_efd >= 0 && atomic_load(&d->sleeping))
		wake(d);
}

/* Sleep on the NIC's fd and the kick eventfd for up to us. */
static void sleep_on_fds(struct ftcp_driver *d, uint64_t us, unsigned seen_kicks)
{
	struct pollfd p[2] = {{.fd = d->cfg.wake_fd, .events = POLLIN}, {.fd = d->kick_efd, .events = POLLIN}};
	struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
	uint64_t drain;

	atomic_store(&d->sleeping, true);
	if (atomic_load(&d->kicks) == seen_kicks && !atomic_load(&d->stop))
		ppoll(p, 2, &ts, NULL);
	atomic_store(&d->sleeping, false);
	if (p[1].revents && read(d->kick_efd, &drain, sizeof(drain)) < 0) {
		/* EAGAIN: another read took it */
	}
}

/* How long an idle poller may sleep: until the stack's next timer, at
 * most WAKE_SLEEP_MAX_US when wake_fd wakes it for frames, else at most
 * idle_sleep_us (then it polls again). 0: not at all. */
static uint64_t sleep_bound(const struct ftcp_driver *d, uint64_t deadline, uint64_t now)
{
	uint64_t us = d->cfg.wake_fd >= 0 ? WAKE_SLEEP_MAX_US : d->cfg.idle_sleep_us;

	if (deadline <= now)
		return 0;
	return deadline - now < us ? deadline - now : us;
}

uint64_t ftcp_driver_idle_sleep_us(struct ftcp_driver *d)
{
	uint64_t deadline;

	if (!ftcp_driver_trylock(d))
		return d->cfg.idle_sleep_us; /* another thread is passing: look again soon */
	deadline = ftcp_stack_next_deadline(d->stack);
	ftcp_driver_unlock(d);
	return sleep_bound(d, deadline, ftcp_dpdk_now_us());
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

/* Inline, any of the program's threads may run a pass. One that is not an
 * EAL thread has no mempool cache: every mbuf it takes or frees goes
 * through the pool's shared ring (9 % of wrk's CPU stack to stack). Give
 * it an lcore identity on its first pass, given back when it exits. */
static __thread int lcore_state; /* 0: not yet, 1: EAL thread, -1: none to be had */
static pthread_key_t lcore_key;
static atomic_uint lcores_given, lcores_held;
static pthread_once_t lcore_key_once = PTHREAD_ONCE_INIT;

static void lcore_release(void *arg)
{
	(void)arg;
	rte_thread_unregister();
	atomic_fetch_sub(&lcores_held, 1);
}

static void lcore_key_make(void)
{
	pthread_key_create(&lcore_key, lcore_release);
}

static void ensure_lcore(void)
{
	if (lcore_state)
		return;
	if (rte_lcore_id() != LCORE_ID_ANY) {
		lcore_state = 1; /* the EAL's own (the main lcore) */
		return;
	}
	pthread_once(&lcore_key_once, lcore_key_make);
	if (rte_thread_register() == 0) {
		lcore_state = 1;
		atomic_fetch_add(&lcores_given, 1);
		atomic_fetch_add(&lcores_held, 1);
		pthread_setspecific(lcore_key, (void *)1);
	} else {
		lcore_state = -1; /* all RTE_MAX_LCORE taken: the shared ring it is */
	}
}

int ftcp_driver_poll(struct ftcp_driver *d)
{
	if (d->threaded)
		return 0;
	ensure_lcore();
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
			uint64_t us = sleep_bound(d, deadline, now);
			struct timespec ts;

			if (!us)
				continue;
			atomic_fetch_add_explicit(&d->idle_sleeps, 1, memory_order_relaxed);
			if (d->kick_efd >= 0) {
				sleep_on_fds(d, us, seen_kicks);
				continue;
			}
			ts.tv_sec = (time_t)(us / 1000000);
			ts.tv_nsec = (long)(us % 1000000) * 1000;
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
	d->kick_efd = -1;
	if (c->core < 0) {
		*out = d;
		return 0;
	}
	d->threaded = true;
	if (c->wake_fd >= 0 && c->idle_after_us) {
		d->kick_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->kick_efd < 0) {
			set_err(err, errlen, "driver: cannot create an eventfd: %s", strerror(errno));
			free(d);
			return -1;
		}
	}
	rc = pthread_create(&d->thread, NULL, poll_thread, d);
	if (rc != 0) {
		set_err(err, errlen, "core: cannot start the poll thread: %s", strerror(rc));
		if (d->kick_efd >= 0)
			close(d->kick_efd);
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
		if (d->kick_efd >= 0)
			wake(d);
		pthread_join(d->thread, NULL);
		if (d->kick_efd >= 0)
			close(d->kick_efd);
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
		if (d->kick_efd >= 0)
			wake(d);
		pthread_join(d->thread, NULL);
	}
	if (d->kick_efd >= 0)
		close(d->kick_efd);
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
	out->inline_lcores_given = atomic_load(&lcores_given);
	out->inline_lcores_held = atomic_load(&lcores_held);
}
