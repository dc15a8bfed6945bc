/*
 * ftcp_pl_stack.c — starting the stack at the first INET socket, the stack
 * lock, fork, and a clean end at exit or on a fatal signal.
 */
#include "ftcp_pl.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ftcp_dpdk.h"
#include "ftcp_driver.h"

struct pl_global pl = {.nic_fd = -1};

static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t start_pid;
static _Atomic pid_t lock_owner; /* thread id holding the lock, 0 = none */
static __thread pid_t my_tid;
/* Set while this thread starts the stack: DPDK's own sockets (the AF_XDP
 * driver opens some while probing) go to the kernel. */
static __thread bool starting;

static pid_t self_tid(void)
{
	if (!my_tid)
		my_tid = gettid();
	return my_tid;
}

uint64_t pl_now_us(void)
{
	return ftcp_dpdk_now_us();
}

int64_t pl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void pl_lock(void)
{
	ftcp_driver_lock(pl.drv);
	atomic_store_explicit(&lock_owner, self_tid(), memory_order_relaxed);
}

void pl_unlock(void)
{
	/* Inline, the caller's own thread moves the stack: push out what this
	 * call queued before letting go. */
	if (!pl_inline())
		ftcp_driver_kick(pl.drv);
	else if (pl_running()) /* not once the port is going away */
		ftcp_driver_poll(pl.drv);
	if (pl_wake_pending())
		pl_wake_flush(NULL, 0);
	atomic_store_explicit(&lock_owner, 0, memory_order_relaxed);
	ftcp_driver_unlock(pl.drv);
}

/* Inline, after a non-blocking send, a receive that found data waiting,
 * or a look at an epoll set right after a pass: leave the pass to the next
 * call into the stack (the program's return to epoll_wait/poll, its next
 * read, or its close), so one pass carries a whole round of responses and
 * a close's FIN goes with the last data. An event-loop program always
 * comes back; a blocking sender flushes at once (pl_unlock). */
void pl_unlock_deferred(void)
{
	if (!pl_inline()) {
		pl_unlock();
		return;
	}
	if (pl_wake_pending())
		pl_wake_flush(NULL, 0);
	atomic_store_explicit(&lock_owner, 0, memory_order_relaxed);
	ftcp_driver_unlock(pl.drv);
}

bool pl_inline(void)
{
	return ftcp_driver_inline(pl.drv);
}

int64_t pl_inline_sleep_ns(void)
{
	return (int64_t)ftcp_driver_idle_sleep_us(pl.drv) * 1000;
}

void pl_poll_inline(void)
{
	/* Any thread may get here through a wait of ours, DPDK's interrupt
	 * thread included: never once the stop began (checked under the
	 * lock, which the stop takes to change the state). */
	if (!pl_running() || !pl_inline() || !ftcp_driver_trylock(pl.drv))
		return;
	if (pl_running())
		ftcp_driver_poll(pl.drv);
	ftcp_driver_unlock(pl.drv);
}

/* ---- start-up ---- */

static void child_after_fork(void)
{
	/* The stack, its port and its poll thread belong to the parent (with
	 * hugepages, its memory is even shared): the child never touches
	 * them. Its inherited libftcp fds are the inert kernel sockets
	 * underneath; its new sockets use the kernel. */
	int st = PL_RUNNING;

	atomic_compare_exchange_strong(&pl.state, &st, PL_CHILD);
}

/* Close every connection in order and release the port: at exit, and
 * before an exec replaces the image. */
static void orderly_stop(const char *why)
{
	if (getpid() != start_pid || atomic_load(&pl.state) != PL_RUNNING)
		return;
	pl_dump_stop();
	pl_sockets_shutdown_all();
	ftcp_driver_lock(pl.drv);
	atomic_store(&pl.state, PL_STOPPED);
	ftcp_driver_unlock(pl.drv);
	ftcp_driver_stop(pl.drv);
	ftcp_dpdk_port_stop(pl.port);
	ftcp_dpdk_eal_cleanup();
	pl_log(PL_INFO, "stopped (%s); port released", why);
}

static void at_exit(void)
{
	orderly_stop("exit");
}

void pl_stop_for_exec(void)
{
	orderly_stop("exec");
}

static int start_failed(const char *msg)
{
	snprintf(pl.fail_msg, sizeof(pl.fail_msg), "%.1000s", msg);
	pl_log(PL_ERR, "cannot start: %s; %s", msg,
	       pl.cfg.on_fail == PL_FAIL_KERNEL ? "sockets stay on the kernel (FTCP_ON_FAIL=kernel)"
	                                        : "INET sockets fail with ENETDOWN (FTCP_ON_FAIL=error)");
	atomic_store_explicit(&pl.state, PL_FAILED, memory_order_release);
	return -1;
}

static int do_start(void)
{
	struct ftcp_dpdk_config dc;
	struct ftcp_driver_config drc;
	struct ftcp_config sc;
	char err[600], *save_optarg = optarg;
	int save_optind = optind, save_opterr = opterr, save_optopt = optopt, rc;
	const char *why = NULL;
	cpu_set_t aff;
	bool have_aff;
	size_t need;
	void *mem;

	if (pl_config_load(&pl.cfg, err, sizeof(err)) < 0) {
		const char *of = getenv("FTCP_ON_FAIL");
		pl.cfg.on_fail = of && !strcmp(of, "kernel") ? PL_FAIL_KERNEL : PL_FAIL_ERROR;
		return start_failed(err);
	}
	/* The EAL pins the calling thread to its main lcore and runs getopt:
	 * give the program's thread and getopt state back afterwards. */
	have_aff = pthread_getaffinity_np(pthread_self(), sizeof(aff), &aff) == 0;
	rc = ftcp_dpdk_eal_init(pl.cfg.eal, err, sizeof(err));
	if (have_aff)
		pthread_setaffinity_np(pthread_self(), sizeof(aff), &aff);
	optarg = save_optarg;
	optind = save_optind;
	opterr = save_opterr;
	optopt = save_optopt;
	if (rc < 0) {
		char m[700];
		snprintf(m, sizeof(m), "FTCP_EAL: %s", err);
		return start_failed(m);
	}

	ftcp_dpdk_config_defaults(&dc);
	dc.port = pl.cfg.port[0] ? pl.cfg.port : NULL;
	dc.mbufs = pl.cfg.mbufs;
	dc.mtu = pl.cfg.mtu;
	dc.trusted_link = pl.cfg.trusted_link != 0;
	/* As with a kernel interface, sockets work on a port whose link is
	 * down; traffic flows once it comes up. */
	dc.link_wait_ms = pl.cfg.link_wait_ms;
	dc.link_down_ok = true;
	if (ftcp_dpdk_port_start(&pl.port, &dc, err, sizeof(err)) < 0) {
		char m[700];
		snprintf(m, sizeof(m), "FTCP_PORT/FTCP_MBUFS/FTCP_MTU: %s", err);
		ftcp_dpdk_eal_cleanup();
		return start_failed(m);
	}
	pl.nic_fd = ftcp_dpdk_rx_wait_fd(pl.port);
	if (!ftcp_dpdk_link_up(pl.port))
		pl_log(pl.cfg.link_wait_ms ? PL_WARN : PL_INFO,
		       "%s: link down after %u ms (FTCP_LINK_WAIT_MS); starting anyway, traffic "
		       "flows once it comes up", ftcp_dpdk_driver(pl.port), pl.cfg.link_wait_ms);

	ftcp_config_defaults(&sc);
	sc.ip_addr = pl.cfg.ip;
	sc.prefix_len = pl.cfg.prefix;
	sc.gateway = pl.cfg.gw;
	sc.mtu = pl.cfg.mtu;
	sc.max_sockets = pl.cfg.max_sockets;
	sc.rx_buffers = sc.tx_buffers = pl.cfg.buffers;
	sc.rx_buffer_size = pl.cfg.rx_buffer_size;
	sc.tx_buffer_size = pl.cfg.tx_buffer_size;
	sc.demux_buckets = 4096;
	if (pl.cfg.congestion[0])
		sc.tcp_congestion = pl.cfg.congestion;
	if (getrandom(&sc.secret, sizeof(sc.secret), 0) != sizeof(sc.secret)) {
		ftcp_dpdk_port_stop(pl.port);
		return start_failed("cannot read random bytes for the stack's secret (getrandom)");
	}
	if (ftcp_config_validate(&sc, &why) < 0) {
		snprintf(err, sizeof(err), "configuration: %s", why);
		ftcp_dpdk_port_stop(pl.port);
		return start_failed(err);
	}
	need = ftcp_stack_memory_size(&sc);
	mem = ftcp_dpdk_alloc(need);
	if (!mem) {
		snprintf(err, sizeof(err),
		         "FTCP_BUFFERS/FTCP_RXBUF/FTCP_TXBUF/FTCP_MAX_SOCKETS: %zu bytes of DPDK memory "
		         "needed (raise -m in FTCP_EAL or lower them)", need);
		ftcp_dpdk_port_stop(pl.port);
		return start_failed(err);
	}
	rc = ftcp_stack_init(&pl.stack, &sc, ftcp_dpdk_device(pl.port), mem, need, pl_now_us(), &why);
	if (rc < 0) {
		snprintf(err, sizeof(err), "stack: %s", why ? why : "init failed");
		ftcp_dpdk_free(mem);
		ftcp_dpdk_port_stop(pl.port);
		return start_failed(err);
	}
	if (pl_sock_pool_init(pl.cfg.max_sockets) < 0) {
		ftcp_dpdk_port_stop(pl.port);
		return start_failed("FTCP_MAX_SOCKETS: out of memory for the socket table");
	}
	ftcp_driver_config_defaults(&drc);
	drc.core = pl.cfg.core;
	drc.idle_after_us = pl.cfg.idle_after_us;
	drc.idle_sleep_us = pl.cfg.idle_sleep_us;
	drc.wake_fd = pl.nic_fd;
	drc.pass_hook = pl_wake_flush;
	if (ftcp_driver_start(&pl.drv, pl.stack, &drc, err, sizeof(err)) < 0) {
		char m[700];
		snprintf(m, sizeof(m), "FTCP_%s", err);
		for (char *p = m + 5; *p && *p != ':'; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		ftcp_dpdk_port_stop(pl.port);
		return start_failed(m);
	}
	start_pid = getpid();
	pthread_atfork(NULL, NULL, child_after_fork);
	atexit(at_exit);
	atomic_store_explicit(&pl.state, PL_RUNNING, memory_order_release);
	pl_signal_started();
	pl_dump_start();
	pl_log(PL_INFO, "running on %s (offloads: %s): %u.%u.%u.%u/%u, polled %s (CPU %d)",
	       ftcp_dpdk_driver(pl.port), ftcp_dpdk_offloads(pl.port), pl.cfg.ip >> 24,
	       pl.cfg.ip >> 16 & 255, pl.cfg.ip >> 8 & 255, pl.cfg.ip & 255, pl.cfg.prefix,
	       pl.cfg.core >= 0 ? "by a pinned thread" : "inline", pl.cfg.core);
	return 0;
}

bool pl_ensure_started(int *err)
{
	int st = atomic_load_explicit(&pl.state, memory_order_acquire);

	if (starting) {
		*err = 0;
		return false;
	}
	if (st == PL_IDLE) {
		pthread_mutex_lock(&start_mu);
		if (atomic_load(&pl.state) == PL_IDLE) {
			starting = true;
			do_start();
			starting = false;
		}
		pthread_mutex_unlock(&start_mu);
		st = atomic_load_explicit(&pl.state, memory_order_acquire);
	}
	if (st == PL_RUNNING)
		return true;
	*err = st == PL_FAILED && pl.cfg.on_fail == PL_FAIL_ERROR ? ENETDOWN : 0;
	return false;
}

/* Called by the clean-exit handler when a fatal signal with the default
 * action arrives: reset the connections so peers hear of it and release
 * the port (the handler then dies of the signal). */
void pl_terminate(void)
{
	int i;

	pl_dump_stop(); /* atexit will not run: remove the state socket now */
	if (getpid() == start_pid && atomic_load(&pl.state) == PL_RUNNING &&
	    atomic_load_explicit(&lock_owner, memory_order_relaxed) != self_tid()) {
		/* The poll thread holds the lock for microseconds at a time. */
		for (i = 0; i < 100000 && !ftcp_driver_trylock(pl.drv); i++)
			sched_yield();
		if (i < 100000) {
			atomic_store(&pl.state, PL_STOPPED);
			pl_sockets_abort_all();
			for (i = 0; i < 50; i++)
				ftcp_stack_poll(pl.stack, pl_now_us());
			ftcp_driver_unlock(pl.drv);
			ftcp_driver_stop(pl.drv);
			ftcp_dpdk_port_stop(pl.port);
		}
	}
}

__attribute__((constructor)) static void pl_load(void)
{
	pl_libc_init();
	if (pl_fd_table_init() < 0)
		pl_log(PL_ERR, "cannot reserve the fd table: everything stays on the kernel");
}
