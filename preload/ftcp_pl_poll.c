/*
 * ftcp_pl_poll.c — poll, ppoll, select and pselect over a mix of kernel fds
 * and offloaded sockets.
 *
 * A call that names no offloaded socket goes to the kernel as it is. One
 * that does is split: offloaded entries are answered from the stack
 * (pl_sock_pollmask under the lock), the rest by a zero-timeout kernel
 * poll; when nothing is ready, pl_block spins and then sleeps on both.
 * select and pselect are converted to the same logic and back. Our epoll
 * fds met here are kernel fds, marked watched so their eventfd makes
 * them readable while they hold ready offloaded sockets.
 */
#include "ftcp_pl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Entries handled with stack scratch; above it one malloc per call. */
#define POLL_LOCAL 256

/* Linux's select sets (fs/select.c), in poll bits. */
#define SEL_IN (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)
#define SEL_OUT (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)
#define SEL_EX (POLLPRI)

/* do_poll's answer when the call names no offloaded socket. */
#define PASS (-2)

struct scratch {
	struct pollfd *kfds;   /* kernel entries (copies) */
	nfds_t *kidx;          /* their index in the program's array */
	struct pl_sock **socks;
	nfds_t *sidx;
	short *srev;
	void *heap;
};

struct scratch_local {
	struct pollfd kfds[POLL_LOCAL];
	nfds_t kidx[POLL_LOCAL];
	struct pl_sock *socks[POLL_LOCAL];
	nfds_t sidx[POLL_LOCAL];
	short srev[POLL_LOCAL];
};

static int scratch_get(struct scratch *sc, struct scratch_local *loc, nfds_t n)
{
	char *p;

	if (n <= POLL_LOCAL) {
		sc->kfds = loc->kfds;
		sc->kidx = loc->kidx;
		sc->socks = loc->socks;
		sc->sidx = loc->sidx;
		sc->srev = loc->srev;
		sc->heap = NULL;
		return 0;
	}
	p = malloc(n * (sizeof(struct pollfd) + 2 * sizeof(nfds_t) + sizeof(void *) +
	                sizeof(short)));
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	/* Largest alignment first. */
	sc->heap = p;
	sc->kidx = (nfds_t *)(void *)p;
	p += n * sizeof(nfds_t);
	sc->sidx = (nfds_t *)(void *)p;
	p += n * sizeof(nfds_t);
	sc->socks = (struct pl_sock **)(void *)p;
	p += n * sizeof(void *);
	sc->kfds = (struct pollfd *)(void *)p;
	p += n * sizeof(struct pollfd);
	sc->srev = (short *)(void *)p;
	return 0;
}

/* What makes an entry count: everything for poll; for select only the
 * bits of the sets the fd was in (a POLLHUP on a write-only fd does not
 * wake select). */
static inline short want_mask(short events, bool sel)
{
	short w;

	if (!sel)
		return (short)(events | POLLERR | POLLHUP | POLLNVAL);
	w = POLLNVAL;
	if (events & POLLIN)
		w |= SEL_IN;
	if (events & POLLOUT)
		w |= SEL_OUT;
	if (events & POLLPRI)
		w |= SEL_EX;
	return w;
}

/* The poll logic over fds[0..nfds). deadline < 0: no limit; zero: do not
 * wait. sel: select's readiness rules. Returns the number of entries with
 * revents, -1 with errno, or PASS (nothing offloaded, nothing to move:
 * let the kernel do the whole call; only watched marks were made). */
static int do_poll(struct pollfd *fds, nfds_t nfds, int64_t deadline, bool zero,
                   const sigset_t *sigmask, bool sel)
{
	struct scratch_local loc;
	struct scratch sc;
	nfds_t i, j, nk = 0;
	int ns = 0, count, r;
	bool move = false;
	uint32_t seq;

	if (nfds > (nfds_t)pl.max_fds)
		return PASS; /* the kernel's EINVAL */
	for (i = 0; i < nfds; i++) {
		struct pl_file *f = pl_file_get(fds[i].fd);

		if (!f)
			continue;
		if (f->kind == PL_KIND_SOCK)
			ns++;
		else if (f->kind == PL_KIND_EPOLL && pl_epoll_polled(fds[i].fd))
			move = true;
	}
	/* Inline, an epoll fd of ours needs the stack moved while we wait:
	 * pl_block does that. */
	if (!ns && !move)
		return PASS;
	if (scratch_get(&sc, &loc, nfds) < 0)
		return -1;
	ns = 0;
	for (i = 0; i < nfds; i++) {
		struct pl_sock *s = pl_sock_get(fds[i].fd);

		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		if (s) {
			sc.socks[ns] = s;
			sc.sidx[ns++] = i;
			if (!s->shadow)
				continue;
			/* A shadow listener: loopback peers knock on the
			 * kernel socket. */
		}
		sc.kfds[nk].fd = fds[i].fd;
		sc.kfds[nk].events = fds[i].events;
		sc.kfds[nk].revents = 0;
		sc.kidx[nk++] = i;
	}

	for (;;) {
		/* Move the stack first (inline: it also sends what earlier
		 * calls left queued), then look at the kernel's fds, then at
		 * ours: an epoll fd of ours among the kernel's is then never
		 * reported without the socket that made it ready. */
		pl_poll_inline();
		if (nk && pl_real.poll(sc.kfds, nk, 0) < 0) {
			count = -1;
			break;
		}
		pl_lock();
		for (r = 0; r < ns; r++) {
			struct pollfd *p = &fds[sc.sidx[r]];

			if (pl_sock_get(p->fd) != sc.socks[r])
				sc.srev[r] = POLLNVAL; /* closed by another thread */
			else
				sc.srev[r] = (short)(pl_sock_pollmask(sc.socks[r]) &
				                     (uint16_t)(p->events | POLLERR | POLLHUP));
		}
		seq = atomic_load_explicit(&pl.ev_seq, memory_order_acquire);
		pl_unlock_deferred(); /* the stack was moved just before */

		for (j = 0; j < nk; j++)
			fds[sc.kidx[j]].revents = sc.kfds[j].revents;
		for (r = 0; r < ns; r++)
			fds[sc.sidx[r]].revents |= sc.srev[r];
		count = 0;
		for (i = 0; i < nfds; i++)
			if (fds[i].revents & want_mask(fds[i].events, sel))
				count++;
		if (count || zero)
			break;

		/* For select, a kernel fd ready only in poll's terms (POLLHUP
		 * on a write-only fd) must not end every sleep at once. */
		if (sel)
			for (j = 0; j < nk; j++)
				if (sc.kfds[j].revents)
					sc.kfds[j].fd = ~sc.kfds[j].fd;
		r = pl_block(sc.socks, ns, sc.kfds, nk, seq, deadline, sigmask);
		if (sel)
			for (j = 0; j < nk; j++)
				if (sc.kfds[j].fd < 0)
					sc.kfds[j].fd = ~sc.kfds[j].fd;
		if (r < 0) {
			count = -1;
			break;
		}
		if (r == 0) {
			/* Deadline: what was seen last (nothing that counts). */
			break;
		}
	}
	free(sc.heap);
	return count;
}

static int ts_invalid(const struct timespec *ts)
{
	return ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000);
}

PL_EXPORT int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	int r;

	pl_libc_init();
	if (!pl_running())
		return pl_real.poll(fds, nfds, timeout);
	r = do_poll(fds, nfds, pl_deadline_ms(timeout), timeout == 0, NULL, false);
	return r == PASS ? pl_real.poll(fds, nfds, timeout) : r;
}

PL_EXPORT int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo,
                    const sigset_t *sigmask)
{
	int r;

	pl_libc_init();
	if (!pl_running())
		return pl_real.ppoll(fds, nfds, tmo, sigmask);
	if (ts_invalid(tmo)) {
		errno = EINVAL;
		return -1;
	}
	r = do_poll(fds, nfds, pl_deadline_ts(tmo), tmo && !tmo->tv_sec && !tmo->tv_nsec, sigmask,
	            false);
	return r == PASS ? pl_real.ppoll(fds, nfds, tmo, sigmask) : r;
}

/* The fortified entry points (-D_FORTIFY_SOURCE): glibc's own call its
 * internal poll, past us. */
extern void __chk_fail(void) __attribute__((noreturn));
PL_EXPORT int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);
PL_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo,
                          const sigset_t *sigmask, size_t fdslen);

PL_EXPORT int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		__chk_fail();
	return poll(fds, nfds, timeout);
}

PL_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo,
                          const sigset_t *sigmask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		__chk_fail();
	return ppoll(fds, nfds, tmo, sigmask);
}

/* ---- select ---- */

#define WBITS (8 * (int)sizeof(unsigned long))

/* fd_set as the kernel sees it: an array of longs as long as nfds needs
 * (programs may pass more than FD_SETSIZE bits). */
static inline unsigned long *words(fd_set *s)
{
	return (unsigned long *)(void *)s;
}

static inline bool bit(fd_set *s, int fd)
{
	return s && (words(s)[fd / WBITS] >> (fd % WBITS) & 1);
}

/* Returns the count of bits, -1 with errno, or PASS. */
static int do_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int64_t deadline, bool zero,
                     const sigset_t *sigmask)
{
	struct pollfd local[POLL_LOCAL], *pf = local;
	int fd, w, nw, n = 0, r, bits = 0;
	bool ours = false;

	if (nfds < 0) {
		errno = EINVAL;
		return -1;
	}
	/* Linux caps nfds at the fd table's size. */
	if (nfds > pl.max_fds)
		nfds = pl.max_fds;
	nw = (nfds + WBITS - 1) / WBITS;
	for (w = 0; w < nw; w++) {
		unsigned long m = (rd ? words(rd)[w] : 0) | (wr ? words(wr)[w] : 0) |
		                  (ex ? words(ex)[w] : 0);

		while (m) {
			struct pl_file *f;

			fd = w * WBITS + __builtin_ctzl(m);
			m &= m - 1;
			if (fd >= nfds)
				break;
			n++;
			f = pl_file_get(fd);
			if (!f)
				continue;
			if (f->kind == PL_KIND_SOCK)
				ours = true;
			else if (f->kind == PL_KIND_EPOLL && pl_epoll_polled(fd))
				ours = true;
		}
	}
	if (!ours)
		return PASS;
	if (n > POLL_LOCAL) {
		pf = malloc((size_t)n * sizeof(*pf));
		if (!pf) {
			errno = ENOMEM;
			return -1;
		}
	}
	n = 0;
	for (fd = 0; fd < nfds; fd++) {
		short ev = 0;

		if (bit(rd, fd))
			ev |= POLLIN | POLLRDNORM | POLLRDBAND;
		if (bit(wr, fd))
			ev |= POLLOUT | POLLWRNORM | POLLWRBAND;
		if (bit(ex, fd))
			ev |= POLLPRI;
		if (!ev)
			continue;
		pf[n].fd = fd;
		pf[n].events = ev;
		pf[n++].revents = 0;
	}
	r = do_poll(pf, (nfds_t)n, deadline, zero, sigmask, true);
	if (r == PASS) {
		/* The offloaded socket was closed meanwhile: the kernel
		 * answers for what is left. */
		struct timespec ts, *tsp = NULL;
		int64_t left = zero ? 0 : deadline;

		if (left > 0) {
			left -= pl_now_ns();
			if (left < 0)
				left = 0;
		}
		if (left >= 0) {
			ts.tv_sec = (time_t)(left / 1000000000);
			ts.tv_nsec = (long)(left % 1000000000);
			tsp = &ts;
		}
		r = pl_real.ppoll(pf, (nfds_t)n, tsp, sigmask);
	}
	if (r < 0)
		goto out;
	for (w = 0; w < n; w++)
		if (pf[w].revents & POLLNVAL) {
			errno = EBADF;
			r = -1;
			goto out;
		}
	/* Linux writes back whole words, ready bits only. */
	for (w = 0; w < nw; w++) {
		if (rd)
			words(rd)[w] = 0;
		if (wr)
			words(wr)[w] = 0;
		if (ex)
			words(ex)[w] = 0;
	}
	for (w = 0; w < n; w++) {
		short re = pf[w].revents, ev = pf[w].events;

		fd = pf[w].fd;
		if ((ev & POLLIN) && (re & SEL_IN)) {
			words(rd)[fd / WBITS] |= 1ul << (fd % WBITS);
			bits++;
		}
		if ((ev & POLLOUT) && (re & SEL_OUT)) {
			words(wr)[fd / WBITS] |= 1ul << (fd % WBITS);
			bits++;
		}
		if ((ev & POLLPRI) && (re & SEL_EX)) {
			words(ex)[fd / WBITS] |= 1ul << (fd % WBITS);
			bits++;
		}
	}
	r = bits;
out:
	if (pf != local)
		free(pf);
	return r;
}

PL_EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	int64_t deadline = -1, left;
	int r, e;

	pl_libc_init();
	if (!pl_running())
		return pl_real.select(nfds, rd, wr, ex, tv);
	if (tv) {
		if (tv->tv_sec < 0 || tv->tv_usec < 0) {
			errno = EINVAL;
			return -1;
		}
		deadline = pl_now_ns() + (int64_t)tv->tv_sec * 1000000000 +
		           (int64_t)tv->tv_usec * 1000;
	}
	r = do_select(nfds, rd, wr, ex, deadline, tv && !tv->tv_sec && !tv->tv_usec, NULL);
	if (r == PASS)
		return pl_real.select(nfds, rd, wr, ex, tv);
	/* Linux leaves the time not slept in *tv, also on EINTR. */
	e = errno;
	if (tv) {
		left = deadline - pl_now_ns();
		if (left < 0)
			left = 0;
		tv->tv_sec = (time_t)(left / 1000000000);
		tv->tv_usec = (suseconds_t)(left % 1000000000 / 1000);
	}
	errno = e;
	return r;
}

PL_EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
                      const sigset_t *sigmask)
{
	int r;

	pl_libc_init();
	if (!pl_running())
		return pl_real.pselect(nfds, rd, wr, ex, ts, sigmask);
	if (ts_invalid(ts)) {
		errno = EINVAL;
		return -1;
	}
	r = do_select(nfds, rd, wr, ex, pl_deadline_ts(ts), ts && !ts->tv_sec && !ts->tv_nsec,
	              sigmask);
	return r == PASS ? pl_real.pselect(nfds, rd, wr, ex, ts, sigmask) : r;
}
