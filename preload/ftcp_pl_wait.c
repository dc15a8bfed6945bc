/*
 * ftcp_pl_wait.c — blocking: spin, then sleep in the kernel until the stack
 * wakes us.
 *
 * A thread that must sleep takes a wait slot (one of 64, each with its own
 * eventfd), registers the slot on the sockets it waits for, and sleeps in
 * ppoll on that eventfd beside any kernel fds it also waits for. An event
 * on one of those sockets notes the slot; the pass hook writes the
 * eventfds after the pass, so the poll thread makes one write per sleeping
 * thread per pass at most, and none while nobody sleeps.
 */
#include "ftcp_pl.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_pause.h>

#define SLOTS 64
#define DEFERRED_MAX 256
#define KFD_LOCAL 64

static int slot_efd[SLOTS];
static _Atomic uint64_t slots_used;
static __thread int my_slot = -1;
static pthread_key_t slot_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* Under the lock. */
static uint64_t pending_slots;
static int deferred[DEFERRED_MAX];
static int ndeferred;

static void slot_release(void *arg)
{
	int slot = (int)(intptr_t)arg - 1;

	if (slot >= 0)
		atomic_fetch_and(&slots_used, ~(1ull << slot));
}

static void make_key(void)
{
	pthread_key_create(&slot_key, slot_release);
}

/* This thread's slot, or -1 when all 64 are taken. */
static int get_slot(void)
{
	uint64_t used;
	int i;

	if (my_slot >= 0)
		return my_slot;
	pthread_once(&key_once, make_key);
	used = atomic_load(&slots_used);
	for (i = 0; i < SLOTS; i++) {
		if (used & (1ull << i))
			continue;
		if (!atomic_compare_exchange_strong(&slots_used, &used, used | (1ull << i))) {
			i = -1; /* used was reloaded: start again */
			continue;
		}
		if (!slot_efd[i]) {
			int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			if (fd < 0) {
				atomic_fetch_and(&slots_used, ~(1ull << i));
				return -1;
			}
			slot_efd[i] = fd;
		}
		my_slot = i;
		pthread_setspecific(slot_key, (void *)(intptr_t)(i + 1));
		return i;
	}
	return -1;
}

static void efd_signal(int fd)
{
	uint64_t one = 1;

	(void)!pl_real.write(fd, &one, sizeof(one));
}

static void efd_drain(int fd)
{
	uint64_t v;

	(void)!pl_real.read(fd, &v, sizeof(v));
}

void pl_wake_sock(struct pl_sock *s)
{
	pending_slots |= s->waiters;
	s->waiters = 0;
}

void pl_wake_defer_fd(int efd)
{
	int i;

	for (i = 0; i < ndeferred; i++)
		if (deferred[i] == efd)
			return;
	if (ndeferred == DEFERRED_MAX) {
		efd_signal(efd);
		return;
	}
	deferred[ndeferred++] = efd;
}

bool pl_wake_pending(void)
{
	return pending_slots || ndeferred;
}

void pl_wake_flush(void *arg, int work)
{
	uint64_t m = pending_slots;
	int i;

	(void)arg;
	(void)work;
	pending_slots = 0;
	while (m) {
		i = __builtin_ctzll(m);
		m &= m - 1;
		efd_signal(slot_efd[i]);
	}
	for (i = 0; i < ndeferred; i++)
		efd_signal(deferred[i]);
	ndeferred = 0;
}

int64_t pl_deadline_ms(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : pl_now_ns() + (int64_t)timeout_ms * 1000000;
}

int64_t pl_deadline_ts(const struct timespec *ts)
{
	if (!ts)
		return -1;
	return pl_now_ns() + (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void watch(struct pl_sock *const *socks, int n, uint64_t bit, bool on)
{
	int i;

	for (i = 0; i < n; i++) {
		if (on)
			socks[i]->waiters |= bit;
		else
			socks[i]->waiters &= ~bit;
	}
}

static int block(struct pl_sock *const *socks, int n, struct pollfd *kfds, nfds_t nk, uint32_t seq,
                 int64_t deadline, const sigset_t *sigmask, bool restartable)
{
	_Atomic uint32_t *sigc = restartable ? &pl.sig_norestart_seq : &pl.sig_seq;
	uint32_t sig0 = atomic_load(sigc);
	int64_t now = pl_now_ns(), spin_end = now + (int64_t)pl.cfg.spin_us * 1000;
	struct pollfd local[KFD_LOCAL + 2], *arr = local;
	unsigned iter = 0;
	int slot, rc;
	nfds_t i, narr;

	if (deadline >= 0 && spin_end > deadline)
		spin_end = deadline;
	/* Spin: the answer usually comes within microseconds. */
	while (now < spin_end) {
		if (pl_inline())
			pl_poll_inline();
		if (atomic_load_explicit(&pl.ev_seq, memory_order_acquire) != seq)
			return 1;
		if (atomic_load(sigc) != sig0) {
			errno = EINTR;
			return -1;
		}
		if ((++iter & 31) == 0) {
			if (nk && pl_real.poll(kfds, nk, 0) > 0)
				return 1;
			now = pl_now_ns();
		} else {
			rte_pause();
		}
	}
	if (deadline >= 0 && pl_now_ns() >= deadline)
		return 0;

	slot = get_slot();
	if (nk + 2 > KFD_LOCAL + 2) {
		arr = malloc((nk + 2) * sizeof(*arr));
		if (!arr) {
			errno = ENOMEM;
			return -1;
		}
	}
	for (i = 0; i < nk; i++)
		arr[i] = kfds[i];
	arr[nk].fd = slot >= 0 ? slot_efd[slot] : -1;
	arr[nk].events = POLLIN;
	/* Inline, the NIC's fd wakes us when frames come (pl_inline_sleep_ns). */
	narr = nk + 1;
	if (pl_inline() && pl.nic_fd >= 0) {
		arr[nk + 1].fd = pl.nic_fd;
		arr[nk + 1].events = POLLIN;
		arr[nk + 1].revents = 0;
		narr = nk + 2;
	}
	for (;;) {
		struct timespec ts, *tsp = NULL;
		int64_t wait = -1;

		if (slot >= 0) {
			pl_lock();
			watch(socks, n, 1ull << slot, true);
			pl_unlock();
		}
		if (atomic_load_explicit(&pl.ev_seq, memory_order_acquire) != seq) {
			rc = 1;
			break;
		}
		now = pl_now_ns();
		if (deadline >= 0)
			wait = deadline > now ? deadline - now : 0;
		/* Inline nobody else moves the stack: sleep until frames come
		 * or its next timer, or in short steps polling in between.
		 * Without a slot nobody can wake us: short steps too. */
		if (pl_inline()) {
			int64_t most = pl_inline_sleep_ns();
			if (wait < 0 || wait > most)
				wait = most;
		}
		if (slot < 0 && (wait < 0 || wait > (int64_t)pl.cfg.idle_sleep_us * 1000))
			wait = (int64_t)pl.cfg.idle_sleep_us * 1000;
		if (wait >= 0) {
			ts.tv_sec = wait / 1000000000;
			ts.tv_nsec = wait % 1000000000;
			tsp = &ts;
		}
		rc = pl_real.ppoll(arr, narr, tsp, sigmask);
		/* Frames on the NIC are no answer yet: poll the stack below. */
		if (rc > 0 && narr > nk + 1 && arr[nk + 1].revents) {
			rc--;
			arr[nk + 1].revents = 0;
		}
		if (slot >= 0) {
			if (arr[nk].revents)
				efd_drain(arr[nk].fd);
			pl_lock();
			watch(socks, n, 1ull << slot, false);
			pl_unlock();
		}
		if (rc < 0) {
			if (errno == EINTR && restartable && atomic_load(sigc) == sig0)
				continue;
			break;
		}
		if (rc > 0) {
			rc = 1;
			break;
		}
		if (atomic_load(sigc) != sig0) {
			errno = EINTR;
			rc = -1;
			break;
		}
		if (pl_inline())
			pl_poll_inline();
		if (atomic_load_explicit(&pl.ev_seq, memory_order_acquire) != seq) {
			rc = 1;
			break;
		}
		if (deadline >= 0 && pl_now_ns() >= deadline) {
			rc = 0;
			break;
		}
	}
	for (i = 0; i < nk; i++)
		kfds[i].revents = arr[i].revents;
	if (arr != local)
		free(arr);
	return rc;
}

int pl_block(struct pl_sock *const *socks, int n, struct pollfd *kfds, nfds_t nk, uint32_t seq,
             int64_t deadline_ns, const sigset_t *sigmask)
{
	return block(socks, n, kfds, nk, seq, deadline_ns, sigmask, false);
}

int pl_block_io(struct pl_sock *s, struct pollfd *kfd, uint32_t seq, int64_t deadline_ns)
{
	return block(&s, 1, kfd, kfd ? 1 : 0, seq, deadline_ns, NULL, true);
}
