/*
 * ftcp-jitter.c — how much the machine itself interrupts a busy core.
 *
 * A polling stack's tail latency can be no better than the stalls its
 * core suffers while it spins: timer ticks, interrupts, and on a virtual
 * machine the hypervisor's exits. For SECONDS, one thread per given core
 * spins reading the monotonic clock and records every gap above 1 us; a
 * second test bounces a counter between two threads on the two cores
 * through shared memory (no network at all) and reports the one-way
 * latency percentiles: the floor under any ping-pong between them.
 *
 * usage: ftcp-jitter SECONDS CORE_A CORE_B
 * prints tab-separated lines: "stalls <core> <per_s_over_5us> <median_us>
 * <p99_us> <max_us>" and "pingpong <p50_us> <p99_us> <p99.9_us> <p99.99_us>".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_GAPS 200000
#define PP_MAX 4000000

static double secs;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int pin(int core)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(core, &s);
	return pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct spinner {
	int core;
	uint64_t *gaps;
	size_t n;
	int err;
};

static void *spin_main(void *arg)
{
	struct spinner *sp = arg;
	uint64_t start, last, t, end;

	if (pin(sp->core) != 0) {
		sp->err = 1;
		return NULL;
	}
	start = last = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	while ((t = now_ns()) < end) {
		if (t - last > 1000 && sp->n < MAX_GAPS)
			sp->gaps[sp->n++] = t - last;
		last = t;
	}
	return NULL;
}

static _Atomic uint64_t ping, pong;
static _Atomic int stop_echo;
static int echo_core;

static void *echo_main(void *arg)
{
	uint64_t seen = 0, v;

	(void)arg;
	pin(echo_core);
	while (!atomic_load_explicit(&stop_echo, memory_order_relaxed)) {
		v = atomic_load_explicit(&ping, memory_order_acquire);
		if (v != seen) {
			seen = v;
			atomic_store_explicit(&pong, v, memory_order_release);
		}
	}
	return NULL;
}

static double pct(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)n);

	if (i >= n)
		i = n - 1;
	return (double)v[i] / 1000.0;
}

int main(int argc, char **argv)
{
	struct spinner sp[2];
	pthread_t th[2];
	uint64_t *lat, i, end;
	size_t n = 0;
	int k;

	if (argc != 4 || (secs = atof(argv[1])) <= 0 || secs > 60) {
		fprintf(stderr, "usage: ftcp-jitter SECONDS(0-60] CORE_A CORE_B\n");
		return 2;
	}
	for (k = 0; k < 2; k++) {
		sp[k].core = atoi(argv[2 + k]);
		sp[k].n = 0;
		sp[k].err = 0;
		sp[k].gaps = malloc(MAX_GAPS * sizeof(uint64_t));
		if (!sp[k].gaps || pthread_create(&th[k], NULL, spin_main, &sp[k]) != 0) {
			fprintf(stderr, "ftcp-jitter: cannot start a spinner\n");
			return 1;
		}
	}
	for (k = 0; k < 2; k++) {
		size_t over5 = 0, j;

		pthread_join(th[k], NULL);
		if (sp[k].err) {
			fprintf(stderr, "ftcp-jitter: cannot pin to core %d\n", sp[k].core);
			return 1;
		}
		for (j = 0; j < sp[k].n; j++)
			over5 += sp[k].gaps[j] > 5000;
		qsort(sp[k].gaps, sp[k].n, sizeof(uint64_t), cmp_u64);
		printf("stalls\t%d\t%.0f\t%.1f\t%.1f\t%.1f\n", sp[k].core, (double)over5 / secs,
		       sp[k].n ? pct(sp[k].gaps, sp[k].n, 50) : 0.0, sp[k].n ? pct(sp[k].gaps, sp[k].n, 99) : 0.0,
		       sp[k].n ? (double)sp[k].gaps[sp[k].n - 1] / 1000.0 : 0.0);
		free(sp[k].gaps);
	}

	/* Ping-pong: this thread on core A, the echo on core B. */
	lat = malloc(PP_MAX * sizeof(uint64_t));
	echo_core = atoi(argv[3]);
	if (!lat || pin(atoi(argv[2])) != 0 || pthread_create(&th[0], NULL, echo_main, NULL) != 0) {
		fprintf(stderr, "ftcp-jitter: cannot start the ping-pong\n");
		return 1;
	}
	end = now_ns() + (uint64_t)(secs * 1e9);
	for (i = 1; n < PP_MAX; i++) {
		uint64_t t0 = now_ns(), t1;

		atomic_store_explicit(&ping, i, memory_order_release);
		while (atomic_load_explicit(&pong, memory_order_acquire) != i)
			;
		t1 = now_ns();
		lat[n++] = (t1 - t0) / 2;
		if (t1 >= end)
			break;
	}
	atomic_store(&stop_echo, 1);
	pthread_join(th[0], NULL);
	qsort(lat, n, sizeof(uint64_t), cmp_u64);
	printf("pingpong\t%.2f\t%.2f\t%.2f\t%.2f\t%zu\n", pct(lat, n, 50), pct(lat, n, 99), pct(lat, n, 99.9),
	       pct(lat, n, 99.99), n);
	free(lat);
	return 0;
}
