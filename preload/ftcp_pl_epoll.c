/*
 * ftcp_pl_epoll.c — epoll over a mix of kernel fds and offloaded sockets.
 *
 * The program's epoll fd is a real kernel epoll: kernel fds go straight
 * into it. Offloaded sockets never do (their kernel sockets are inert);
 * they sit on our own interest list (struct pl_epitem), and the stack's
 * events move them to a ready list. A private eventfd, registered in the
 * kernel epoll under a tagged data value, makes the kernel epoll readable
 * when that list gains items while somebody sleeps in it or watches it
 * (an outer epoll, poll or select), so one kernel wait covers both kinds.
 *
 * Shadow listeners (the kernel socket listens too, for loopback peers) are
 * also added to the kernel epoll, under a tag naming their item, and the
 * two halves' events are merged into one event per item.
 *
 * Everything here runs under pl_lock except the kernel sleeps.
 */
#include "ftcp_pl.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Kernel epoll data values we register ourselves carry this tag in their
 * top 16 bits: never a user pointer (x86-64 and arm64 user addresses have
 * them clear), an fd or a small integer. The rest is the item's address,
 * or 0 for the set's eventfd. */
#define EP_TAG 0xf7c5000000000000ull
#define EP_TAG_MASK 0xffff000000000000ull

/* Flags that are not readiness bits. */
#define EP_FLAG_BITS (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)
/* What EPOLLEXCLUSIVE may be combined with (fs/eventpoll.c). */
#define EP_EXCL_OK \
	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
/* Linux's EP_MAX_EVENTS. */
#define EP_MAX_EVENTS (INT_MAX / (int)sizeof(struct epoll_event))
/* While spinning, look at the kernel fds this often. */
#define EP_KERNEL_CHECK_NS 32000

struct pl_epoll;

struct pl_epitem {
	struct pl_epoll *ep;
	struct pl_sock *sock;
	struct pl_epitem *next;            /* in sock->epitems */
	struct pl_epitem *ep_prev, *ep_next; /* ep's interest list */
	struct pl_epitem *rd_prev, *rd_next; /* ep's ready list */
	struct pl_epitem *k_next;          /* ep's items also in the kernel epoll */
	int fd;
	uint32_t events;                   /* the program's, plus EPOLLERR|EPOLLHUP */
	epoll_data_t data;
	bool queued;                       /* on the ready list */
	bool disarmed;                     /* EPOLLONESHOT fired; MOD re-arms */
	bool in_kernel;                    /* shadow listener: also in the kernel epoll */
	uint32_t rep_gen;                  /* reported in round rep_gen ... */
	int rep_idx;                       /* ... at this index */
};

struct pl_epoll {
	struct pl_file f;
	int efd;
	bool efd_signalled; /* written (or noted) since the last drain */
	bool watched;       /* in another epoll set, or polled/selected */
	bool dead;          /* its last fd closed while a waiter was inside */
	bool kfirst;        /* fairness: which kind fills the next round first */
	int sleepers;       /* threads asleep in the kernel epoll */
	int users;          /* threads inside epoll_wait without the lock */
	_Atomic int nitems; /* offloaded items (read without the lock) */
	/* Kernel fds the program added and did not delete (closing one
	 * removes it unseen: an upper bound). 0: no kernel look needed. */
	_Atomic int nkernel;
	int nready;
	uint32_t gen;
	struct pl_epitem *items;
	struct pl_epitem *rd_head, *rd_tail;
	struct pl_epitem *kitems;
	struct pl_epoll *w_prev, *w_next; /* the watched sets */
};

/* The watched sets (lock held). Their eventfd can go stale: the program
 * reads a socket dry without any stack event, and the set would look
 * readable to its watcher for ever. Every wait that may look at one
 * through the kernel first drops such items (ep_refresh_watched), as
 * Linux re-polls a nested set's items before calling it readable. */
static struct pl_epoll *watched_head;
static _Atomic int nwatched;

static inline struct pl_epoll *ep_of(int fd)
{
	struct pl_file *f = pl_file_get(fd);

	return f && f->kind == PL_KIND_EPOLL ? (struct pl_epoll *)f : NULL;
}

static inline bool is_tag(uint64_t d)
{
	return (d & EP_TAG_MASK) == EP_TAG;
}

static inline uint64_t item_tag(struct pl_epitem *it)
{
	return EP_TAG | (uint64_t)(uintptr_t)it;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* ---- lists (lock held) ---- */

static void rd_append(struct pl_epoll *ep, struct pl_epitem *it)
{
	it->rd_next = NULL;
	it->rd_prev = ep->rd_tail;
	if (ep->rd_tail)
		ep->rd_tail->rd_next = it;
	else
		ep->rd_head = it;
	ep->rd_tail = it;
	it->queued = true;
	ep->nready++;
}

static void rd_unlink(struct pl_epoll *ep, struct pl_epitem *it)
{
	if (!it->queued)
		return;
	if (it->rd_prev)
		it->rd_prev->rd_next = it->rd_next;
	else
		ep->rd_head = it->rd_next;
	if (it->rd_next)
		it->rd_next->rd_prev = it->rd_prev;
	else
		ep->rd_tail = it->rd_prev;
	it->rd_prev = it->rd_next = NULL;
	it->queued = false;
	ep->nready--;
}

static void sock_unlink(struct pl_epitem *it)
{
	struct pl_epitem **pp;

	for (pp = &it->sock->epitems; *pp; pp = &(*pp)->next)
		if (*pp == it) {
			*pp = it->next;
			break;
		}
	it->next = NULL;
}

static void kitems_unlink(struct pl_epoll *ep, struct pl_epitem *it)
{
	struct pl_epitem **pp;

	for (pp = &ep->kitems; *pp; pp = &(*pp)->k_next)
		if (*pp == it) {
			*pp = it->k_next;
			break;
		}
	it->k_next = NULL;
	it->in_kernel = false;
}

static bool kitem_valid(struct pl_epoll *ep, struct pl_epitem *it)
{
	struct pl_epitem *k;

	for (k = ep->kitems; k; k = k->k_next)
		if (k == it)
			return true;
	return false;
}

/* Unlink it from everything and free it. kdel: also take its shadow fd
 * out of the kernel epoll (kfd: an fd of the set), when the fd still names
 * the socket, so we never remove a registration of another file that
 * reused the number. */
static void item_drop(struct pl_epitem *it, int kfd, bool kdel)
{
	struct pl_epoll *ep = it->ep;

	if (it->in_kernel) {
		if (kdel && kfd >= 0 && pl_sock_get(it->fd) == it->sock)
			pl_real.epoll_ctl(kfd, EPOLL_CTL_DEL, it->fd, NULL);
		kitems_unlink(ep, it);
	}
	rd_unlink(ep, it);
	if (it->ep_prev)
		it->ep_prev->ep_next = it->ep_next;
	else
		ep->items = it->ep_next;
	if (it->ep_next)
		it->ep_next->ep_prev = it->ep_prev;
	sock_unlink(it);
	atomic_fetch_sub_explicit(&ep->nitems, 1, memory_order_relaxed);
	free(it);
}

static struct pl_epitem *item_find(struct pl_epoll *ep, struct pl_sock *s, int fd)
{
	struct pl_epitem *it;

	for (it = s->epitems; it; it = it->next)
		if (it->ep == ep && it->fd == fd)
			return it;
	return NULL;
}

/* ---- wakes (lock held) ---- */

/* Write the eventfd now (not from a stack pass: an epoll_ctl, a poll). */
static void ep_signal_now(struct pl_epoll *ep)
{
	uint64_t one = 1;

	if (ep->efd_signalled || ep->dead)
		return;
	ep->efd_signalled = true;
	if (pl_real.write(ep->efd, &one, sizeof(one)) < 0) {
		/* Only EAGAIN at a counter near 2^64: it is readable anyway. */
	}
}

/* The ready list just gained an item. During a stack pass the write is
 * deferred to the pass hook; from a program's call it is done at once. */
static void ep_ready_wake(struct pl_epoll *ep, bool in_pass)
{
	if (ep->efd_signalled || (!ep->sleepers && !ep->watched))
		return;
	if (in_pass) {
		ep->efd_signalled = true;
		pl_wake_defer_fd(ep->efd);
	} else {
		ep_signal_now(ep);
	}
}

/* Read the eventfd back to zero unless an outer watcher still has to see
 * the set readable. seen: the kernel reported it (it may hold a count
 * whose flag was already cleared). */
static void ep_drain(struct pl_epoll *ep, bool seen)
{
	uint64_t v;

	if (!ep->efd_signalled && !seen)
		return;
	if (ep->watched && ep->nready)
		return;
	ep->efd_signalled = false;
	if (pl_real.read(ep->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: the noted write has not happened yet; harmless. */
	}
}

static void item_check(struct pl_epitem *it, bool in_pass)
{
	uint32_t mask;

	if (it->disarmed || it->queued)
		return;
	mask = pl_sock_pollmask(it->sock);
	if (mask & it->events & ~(uint32_t)EP_FLAG_BITS) {
		rd_append(it->ep, it);
		ep_ready_wake(it->ep, in_pass);
	}
}

void pl_epoll_sock_event(struct pl_sock *s, uint32_t mask)
{
	struct pl_epitem *it;

	for (it = s->epitems; it; it = it->next) {
		if (it->disarmed || it->queued)
			continue;
		if (!(mask & it->events & ~(uint32_t)EP_FLAG_BITS))
			continue;
		rd_append(it->ep, it);
		ep_ready_wake(it->ep, true);
	}
}

void pl_epoll_sock_gone(struct pl_sock *s)
{
	/* The kernel socket goes with the last fd: its kernel epoll
	 * registrations vanish by themselves. */
	while (s->epitems)
		item_drop(s->epitems, -1, false);
}

static void ep_free(struct pl_epoll *ep)
{
	free(ep);
}

void pl_epoll_release(struct pl_file *f)
{
	struct pl_epoll *ep = (struct pl_epoll *)f;

	while (ep->items)
		item_drop(ep->items, -1, false);
	if (ep->watched) {
		if (ep->w_prev)
			ep->w_prev->w_next = ep->w_next;
		else
			watched_head = ep->w_next;
		if (ep->w_next)
			ep->w_next->w_prev = ep->w_prev;
		atomic_fetch_sub_explicit(&nwatched, 1, memory_order_relaxed);
	}
	pl_real.close(ep->efd);
	ep->efd = -1;
	ep->dead = true;
	if (!ep->users)
		ep_free(ep);
}

/* Drop the items that are no longer ready from ep's ready list and, if
 * none is left, reset its eventfd (lock held). */
static void ep_prune(struct pl_epoll *ep)
{
	struct pl_epitem *it, *nx;

	for (it = ep->rd_head; it; it = nx) {
		nx = it->rd_next;
		if (it->disarmed ||
		    !(pl_sock_pollmask(it->sock) & it->events & ~(uint32_t)EP_FLAG_BITS))
			rd_unlink(ep, it);
	}
	if (!ep->nready)
		ep_drain(ep, false);
}

static void ep_refresh_watched(void)
{
	struct pl_epoll *ep;

	for (ep = watched_head; ep; ep = ep->w_next)
		if (ep->nready || ep->efd_signalled)
			ep_prune(ep);
}

/* The same, for callers without the lock. */
static void refresh_watched_unlocked(void)
{
	if (!atomic_load_explicit(&nwatched, memory_order_relaxed))
		return;
	pl_lock();
	ep_refresh_watched();
	pl_unlock();
}

/* Lock held. */
static void ep_set_watched(struct pl_epoll *ep)
{
	if (ep->watched || ep->dead)
		return;
	ep->watched = true;
	ep->w_prev = NULL;
	ep->w_next = watched_head;
	if (watched_head)
		watched_head->w_prev = ep;
	watched_head = ep;
	atomic_fetch_add_explicit(&nwatched, 1, memory_order_relaxed);
	ep_prune(ep);
	if (ep->nready)
		ep_signal_now(ep);
}

/* An epoll fd of ours was put in another epoll set, or in poll/select:
 * from now on its eventfd tracks its ready list. */
static void ep_mark_watched(struct pl_epoll *ep)
{
	pl_lock();
	ep_set_watched(ep);
	pl_unlock();
}

/* ---- creating and adopting sets ---- */

/* A new set object for the kernel epoll epfd: its eventfd goes into it.
 * Fails with the kernel's errno (EBADF, EINVAL when epfd is not an epoll,
 * EMFILE). */
static struct pl_epoll *ep_new(int epfd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EP_TAG };
	struct pl_epoll *ep;
	int efd, e;

	ep = calloc(1, sizeof(*ep));
	if (!ep) {
		errno = ENOMEM;
		return NULL;
	}
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0) {
		e = errno;
		free(ep);
		errno = e;
		return NULL;
	}
	if (pl_real.epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev) < 0) {
		e = errno;
		pl_real.close(efd);
		free(ep);
		errno = e;
		return NULL;
	}
	ep->f.kind = PL_KIND_EPOLL;
	ep->efd = efd;
	return ep;
}

static void ep_discard(struct pl_epoll *ep, int epfd)
{
	pl_real.epoll_ctl(epfd, EPOLL_CTL_DEL, ep->efd, NULL);
	pl_real.close(ep->efd);
	free(ep);
}

/* The set behind epfd, adopting a kernel epoll created before the stack
 * ran (or by a raw syscall). An adopted set may already sit in another
 * set or be polled without our knowing: count it as watched. */
static struct pl_epoll *ep_get_or_adopt(int epfd)
{
	struct pl_epoll *ep = ep_of(epfd), *cur;
	bool set;

	if (ep)
		return ep;
	if (pl_file_get(epfd)) {
		errno = EINVAL; /* an offloaded socket is no epoll */
		return NULL;
	}
	ep = ep_new(epfd);
	if (!ep)
		return NULL;
	pl_lock();
	cur = ep_of(epfd);
	set = !pl_file_get(epfd);
	if (set) {
		pl_fd_set(epfd, &ep->f);
		ep_set_watched(ep);
		/* What it held before is unknown. */
		atomic_store_explicit(&ep->nkernel, 1, memory_order_relaxed);
	}
	pl_unlock();
	if (set)
		return ep;
	/* Another thread adopted it first, or the fd changed under us. */
	ep_discard(ep, epfd);
	if (!cur)
		errno = EBADF;
	return cur;
}

static int ep_created(int epfd)
{
	struct pl_epoll *ep;
	int e;

	if (epfd < 0 || !pl_running() || epfd >= pl.max_fds)
		return epfd;
	ep = ep_new(epfd);
	if (!ep) {
		e = errno;
		pl_real.close(epfd);
		errno = e;
		return -1;
	}
	pl_lock();
	/* If the table still names epfd, its last user closed it behind our
	 * back (close_range, a raw syscall): what the table held is gone. */
	pl_fd_drop(epfd);
	pl_fd_set(epfd, &ep->f);
	pl_unlock();
	return epfd;
}

PL_EXPORT int epoll_create(int size)
{
	pl_libc_init();
	return ep_created(pl_real.epoll_create(size));
}

PL_EXPORT int epoll_create1(int flags)
{
	pl_libc_init();
	return ep_created(pl_real.epoll_create1(flags));
}

/* ---- epoll_ctl ---- */

static int ctl_sock(int epfd, int op, int fd, struct pl_sock *s, struct epoll_event *event)
{
	struct pl_epitem *it, *nit = NULL;
	struct pl_epoll *ep;
	uint32_t evs = 0;
	int rc = 0;

	/* Linux's order of checks: the event, epfd, then op and flags. */
	if (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) {
		if (!event) {
			errno = EFAULT;
			return -1;
		}
		/* EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; Linux drops it silently
		 * otherwise, and it means nothing here. */
		evs = event->events & ~(uint32_t)EPOLLWAKEUP;
	}
	ep = ep_get_or_adopt(epfd);
	if (!ep)
		return -1;
	if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL) {
		errno = EINVAL;
		return -1;
	}
	if (evs & EPOLLEXCLUSIVE) {
		if (op == EPOLL_CTL_MOD || (evs & ~(uint32_t)EP_EXCL_OK)) {
			errno = EINVAL;
			return -1;
		}
	}
	if (op == EPOLL_CTL_ADD) {
		nit = calloc(1, sizeof(*nit));
		if (!nit) {
			errno = ENOMEM;
			return -1;
		}
	}

	pl_lock();
	if (ep_of(epfd) != ep || pl_sock_get(fd) != s) {
		/* Closed under us by another thread. */
		rc = -EBADF;
		goto out;
	}
	it = item_find(ep, s, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it) {
			rc = -EEXIST;
			break;
		}
		it = nit;
		nit = NULL;
		it->ep = ep;
		it->sock = s;
		it->fd = fd;
		it->events = evs | EPOLLERR | EPOLLHUP;
		it->data = event->data;
		it->rep_gen = ep->gen - 1;
		it->next = s->epitems;
		s->epitems = it;
		it->ep_next = ep->items;
		if (ep->items)
			ep->items->ep_prev = it;
		ep->items = it;
		if (s->shadow) {
			struct epoll_event kev = { .events = evs, .data.u64 = item_tag(it) };

			if (pl_real.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &kev) == 0) {
				it->in_kernel = true;
				it->k_next = ep->kitems;
				ep->kitems = it;
			}
		}
		/* The first offloaded item: a thread may sleep in this set on
		 * the kernel-only path; send it round to the full one. */
		if (atomic_fetch_add_explicit(&ep->nitems, 1, memory_order_relaxed) == 0)
			ep_signal_now(ep);
		item_check(it, false);
		break;
	case EPOLL_CTL_MOD:
		if (!it) {
			rc = -ENOENT;
			break;
		}
		if (it->events & EPOLLEXCLUSIVE) {
			rc = -EINVAL;
			break;
		}
		it->events = evs | EPOLLERR | EPOLLHUP;
		it->data = event->data;
		it->disarmed = false;
		if (it->in_kernel) {
			struct epoll_event kev = { .events = evs, .data.u64 = item_tag(it) };

			pl_real.epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &kev);
		}
		/* Linux re-polls on MOD and wakes a waiter when ready (the
		 * EPOLLONESHOT re-arm idiom relies on it). */
		item_check(it, false);
		break;
	case EPOLL_CTL_DEL:
		if (!it) {
			rc = -ENOENT;
			break;
		}
		item_drop(it, epfd, true);
		break;
	}
out:
	pl_unlock();
	free(nit);
	return rc < 0 ? pl_errno(rc) : 0;
}

PL_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	struct pl_sock *s;
	struct pl_epoll *inner, *outer;
	int rc;

	pl_libc_init();
	if (!pl_running())
		return pl_real.epoll_ctl(epfd, op, fd, event);
	s = pl_sock_get(fd);
	if (s) {
		if (epfd == fd) {
			errno = EINVAL;
			return -1;
		}
		return ctl_sock(epfd, op, fd, s, event);
	}
	rc = pl_real.epoll_ctl(epfd, op, fd, event);
	if (rc < 0)
		return rc;
	if ((outer = ep_of(epfd)) != NULL) {
		if (op == EPOLL_CTL_ADD)
			atomic_fetch_add_explicit(&outer->nkernel, 1, memory_order_relaxed);
		else if (op == EPOLL_CTL_DEL &&
		         atomic_fetch_sub_explicit(&outer->nkernel, 1, memory_order_relaxed) <= 0)
			atomic_fetch_add_explicit(&outer->nkernel, 1, memory_order_relaxed);
	}
	/* One of our sets inside another: its eventfd must now track its
	 * ready list so the outer set sees it readable. */
	if (op == EPOLL_CTL_ADD && (inner = ep_of(fd)) != NULL)
		ep_mark_watched(inner);
	return rc;
}

/* ---- epoll_wait ---- */

static int (*real_epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *,
                                const sigset_t *);

static void resolve_pwait2(void)
{
	static _Atomic int done;

	if (atomic_load_explicit(&done, memory_order_acquire))
		return;
	*(void **)&real_epoll_pwait2 = dlsym(RTLD_NEXT, "epoll_pwait2");
	atomic_store_explicit(&done, 1, memory_order_release);
}

/* The kernel wait for up to ns nanoseconds (< 0: for ever), with a
 * nanosecond timeout where the kernel has epoll_pwait2 (5.11). */
static int kernel_wait(int epfd, struct epoll_event *ev, int max, int64_t ns,
                       const sigset_t *sigmask)
{
	struct timespec ts;
	int ms, rc;

	resolve_pwait2();
	if (ns >= 0 && real_epoll_pwait2) {
		ts.tv_sec = (time_t)(ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		rc = real_epoll_pwait2(epfd, ev, max, &ts, sigmask);
		if (rc >= 0 || errno != ENOSYS)
			return rc;
		real_epoll_pwait2 = NULL;
	}
	if (ns < 0)
		ms = -1;
	else if (ns > (int64_t)INT_MAX * 1000000)
		ms = INT_MAX;
	else
		ms = (int)((ns + 999999) / 1000000);
	return pl_real.epoll_pwait(epfd, ev, max, ms, sigmask);
}

/* Sleep until the epoll set or the NIC's fd is ready (or ns pass), then
 * take what the set holds without waiting. 0 when only frames came. */
static int nic_wait(int epfd, struct epoll_event *ev, int max, int64_t ns,
                    const sigset_t *sigmask)
{
	struct pollfd p[2] = {{.fd = epfd, .events = POLLIN}, {.fd = pl.nic_fd, .events = POLLIN}};
	struct timespec ts, *tsp = NULL;
	int rc;

	if (ns >= 0) {
		ts.tv_sec = (time_t)(ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		tsp = &ts;
	}
	rc = pl_real.ppoll(p, 2, tsp, sigmask);
	if (rc <= 0)
		return rc;
	/* Not readable (POLLNVAL: another thread closed the set; the caller
	 * sees it dead) is nothing to take. */
	if (!(p[0].revents & POLLIN))
		return 0;
	return kernel_wait(epfd, ev, max, 0, NULL);
}

/* Drop our tagged entries from a kernel result (no lock: only for sets
 * without offloaded items, or in a forked child). Returns the new count;
 * *efd: the eventfd was among them. */
static int strip_tags(struct epoll_event *ev, int k, bool *efd)
{
	int i, n = 0;

	for (i = 0; i < k; i++) {
		if (!is_tag(ev[i].data.u64))
			ev[n++] = ev[i];
		else if (ev[i].data.u64 == EP_TAG)
			*efd = true;
	}
	return n;
}

/* Report the ready offloaded items into ev[n..max), lock held. Linux's
 * rules: level-triggered items still ready go back to the tail (so a
 * busy one does not starve the rest), edge-triggered ones leave the
 * list, one-shot ones are disarmed until EPOLL_CTL_MOD. */
static int ep_collect(struct pl_epoll *ep, struct epoll_event *ev, int n, int max, uint32_t gen)
{
	int todo = ep->nready;
	struct pl_epitem *it;
	uint32_t rev;

	while (todo-- > 0 && n < max && (it = ep->rd_head) != NULL) {
		rd_unlink(ep, it);
		if (it->disarmed)
			continue;
		rev = pl_sock_pollmask(it->sock) & it->events & ~(uint32_t)EP_FLAG_BITS;
		if (!rev)
			continue;
		if (it->rep_gen == gen) {
			/* Its kernel half came first in this round. */
			ev[it->rep_idx].events |= rev;
		} else {
			ev[n].events = rev;
			ev[n].data = it->data;
			it->rep_gen = gen;
			it->rep_idx = n++;
		}
		if (it->events & EPOLLONESHOT)
			it->disarmed = true;
		else if (!(it->events & EPOLLET))
			rd_append(ep, it);
	}
	return n;
}

/* Turn the kernel's entries ev[n..n+k) into the program's, lock held:
 * keep the program's own, drop the eventfd's, merge shadow listeners'
 * into their item. Returns the new count. */
static int ep_translate(struct pl_epoll *ep, struct epoll_event *ev, int n, int k, uint32_t gen,
                        bool *efd)
{
	struct pl_epitem *it;
	int i, out = n;
	uint32_t rev;

	for (i = n; i < n + k; i++) {
		uint64_t d = ev[i].data.u64;

		if (!is_tag(d)) {
			ev[out++] = ev[i];
			continue;
		}
		if (d == EP_TAG) {
			*efd = true;
			continue;
		}
		it = (struct pl_epitem *)(uintptr_t)(d & ~EP_TAG_MASK);
		/* Gone since the kernel queued it, or already fired once. */
		if (!kitem_valid(ep, it) || it->disarmed)
			continue;
		rev = ev[i].events & it->events & ~(uint32_t)EP_FLAG_BITS;
		if (!rev)
			continue;
		if (it->rep_gen == gen) {
			ev[it->rep_idx].events |= rev;
		} else {
			ev[out].events = rev;
			ev[out].data = it->data;
			it->rep_gen = gen;
			it->rep_idx = out++;
		}
		if (it->events & EPOLLONESHOT) {
			it->disarmed = true;
			rd_unlink(ep, it);
		}
	}
	return out;
}

/* One non-blocking look at both kinds, lock held. Which kind fills the
 * array first alternates, so with a small max neither starves. Returns
 * the count, or -1 with errno from the kernel. *seq: pl.ev_seq as seen
 * with the lock. */
static int ep_round(struct pl_epoll *ep, int epfd, struct epoll_event *ev, int max, uint32_t *seq)
{
	uint32_t gen = ++ep->gen;
	bool efd = false, kfirst;
	int n = 0, k = 0;

	kfirst = ep->kfirst = !ep->kfirst;
	if (atomic_load_explicit(&nwatched, memory_order_relaxed))
		ep_refresh_watched();
	if (!kfirst)
		n = ep_collect(ep, ev, 0, max, gen);
	/* Only offloaded sockets in the set: the eventfd is all the kernel
	 * holds, and ep_drain takes care of it without asking. */
	if (n < max && (ep->kitems || atomic_load_explicit(&ep->nkernel, memory_order_relaxed))) {
		k = pl_real.epoll_wait(epfd, ev + n, max - n, 0);
		if (k < 0)
			return -1;
		n = ep_translate(ep, ev, n, k, gen, &efd);
	}
	if (kfirst)
		n = ep_collect(ep, ev, n, max, gen);
	ep_drain(ep, efd);
	*seq = atomic_load_explicit(&pl.ev_seq, memory_order_acquire);
	return n;
}

/* Inline, sleeps are cut to this so the sleeper can move the stack. */
static int64_t idle_slice_ns(void)
{
	return (int64_t)(pl.cfg.idle_sleep_us ? pl.cfg.idle_sleep_us : 50) * 1000;
}

static int64_t left_ns(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - pl_now_ns();
	return left > 0 ? left : 0;
}

/* A set without offloaded items (or not ours at all: ep NULL): the kernel
 * alone, minus our eventfd. It may hold sets of ours, so their stale
 * items are dropped first; inline, somebody has to move the stack for
 * them meanwhile: sleep in slices and poll it in between. */
static int wait_kernel_only(struct pl_epoll *ep, int epfd, struct epoll_event *ev, int max,
                            int64_t deadline, const sigset_t *sigmask)
{
	uint32_t sig0 = atomic_load_explicit(&pl.sig_seq, memory_order_acquire);
	bool efd, run = pl_running();
	int k;

	for (;;) {
		int64_t left = left_ns(deadline), w = left;
		bool slice = run && pl_inline() &&
		             atomic_load_explicit(&nwatched, memory_order_relaxed);

		if (run) {
			if (slice)
				pl_poll_inline();
			refresh_watched_unlocked();
			if (atomic_load_explicit(&pl.sig_seq, memory_order_acquire) != sig0) {
				errno = EINTR;
				return -1;
			}
		}
		if (slice && (w < 0 || w > idle_slice_ns()))
			w = idle_slice_ns();
		k = kernel_wait(epfd, ev, max, w, sigmask);
		if (k < 0)
			return k;
		if (k == 0) {
			if (w == left)
				return 0;
			continue; /* a slice ended */
		}
		efd = false;
		k = strip_tags(ev, k, &efd);
		if (efd && ep && run) {
			pl_lock();
			if (ep_of(epfd) == ep)
				ep_drain(ep, true);
			pl_unlock();
		}
		if (k > 0 || left == 0)
			return k;
		/* Only our eventfd: a first offloaded item came; the caller
		 * looks again. */
		if (ep && atomic_load_explicit(&ep->nitems, memory_order_relaxed))
			return 0;
	}
}

/* A look at the set from outside a lock hold. -2: the set went away. */
static int ep_look(struct pl_epoll *ep, int epfd, struct epoll_event *ev, int max, uint32_t *seq)
{
	int n;

	if (pl_inline())
		pl_poll_inline();
	pl_lock();
	if (ep_of(epfd) != ep) {
		pl_unlock();
		return -2;
	}
	n = ep_round(ep, epfd, ev, max, seq);
	pl_unlock_deferred(); /* the stack was moved just before */
	return n;
}

/* Spin for up to spin_us before sleeping: an event usually comes within
 * microseconds on a busy connection, and a sleep and wake cost more.
 * Looks again when the stack had an event, and every EP_KERNEL_CHECK_NS
 * for the kernel fds. Returns events (> 0), 0 (spin over, or the set went
 * away: the caller looks again), -1 (EINTR or a kernel error). */
static int ep_spin(struct pl_epoll *ep, int epfd, struct epoll_event *ev, int max, uint32_t seq,
                   int64_t deadline, uint32_t sig0)
{
	int64_t now = pl_now_ns(), end = now + (int64_t)pl.cfg.spin_us * 1000, next_k;
	bool in = pl_inline();
	int n;

	if (deadline >= 0 && deadline < end)
		end = deadline;
	while (now < end) {
		next_k = now + EP_KERNEL_CHECK_NS;
		while (now < next_k && now < end &&
		       atomic_load_explicit(&pl.ev_seq, memory_order_acquire) == seq &&
		       atomic_load_explicit(&pl.sig_seq, memory_order_acquire) == sig0) {
			if (in)
				pl_poll_inline();
			else
				cpu_relax();
			now = pl_now_ns();
		}
		if (atomic_load_explicit(&pl.sig_seq, memory_order_acquire) != sig0) {
			errno = EINTR;
			return -1;
		}
		if (now >= end)
			break;
		n = ep_look(ep, epfd, ev, max, &seq);
		if (n == -2)
			return 0;
		if (n != 0)
			return n;
		now = pl_now_ns();
	}
	return 0;
}

static int ep_wait(int epfd, struct epoll_event *ev, int max, int64_t deadline, bool zero,
                   const sigset_t *sigmask)
{
	uint32_t sig0 = atomic_load_explicit(&pl.sig_seq, memory_order_acquire), seq = 0;
	bool spun = pl.cfg.spin_us == 0;
	struct pl_epoll *ep;
	int n, k, e;

	if (max <= 0 || max > EP_MAX_EVENTS) {
		errno = EINVAL;
		return -1;
	}
	if (!ev) {
		errno = EFAULT;
		return -1;
	}
	for (;;) {
		int64_t left;

		ep = ep_of(epfd);
		if (!ep)
			return kernel_wait(epfd, ev, max, zero ? 0 : left_ns(deadline), sigmask);
		if (!atomic_load_explicit(&ep->nitems, memory_order_relaxed)) {
			n = wait_kernel_only(ep, epfd, ev, max, zero ? 0 : deadline, sigmask);
			if (n != 0 || zero || left_ns(deadline) == 0)
				return n;
			continue; /* an offloaded item came: the full path */
		}

		if (pl_inline())
			pl_poll_inline();
		pl_lock();
		if (ep_of(epfd) != ep) {
			pl_unlock();
			continue;
		}
		n = ep_round(ep, epfd, ev, max, &seq);
		if (n != 0 || zero || left_ns(deadline) == 0) {
			pl_unlock();
			return n;
		}
		if (atomic_load_explicit(&pl.sig_seq, memory_order_acquire) != sig0) {
			/* A handler ran while we were not in the kernel. */
			pl_unlock();
			errno = EINTR;
			return -1;
		}
		if (!spun) {
			pl_unlock();
			spun = true;
			n = ep_spin(ep, epfd, ev, max, seq, deadline, sig0);
			if (n != 0)
				return n;
			continue;
		}

		/* Sleep in the kernel epoll; the eventfd wakes us for the
		 * offloaded sockets. The look above and the sleeper mark are
		 * one lock hold, so no event falls in between. */
		ep->sleepers++;
		ep->users++;
		pl_unlock();

		left = left_ns(deadline);
		/* Inline, nobody else moves the stack: come back to poll it,
		 * when frames come (the NIC's fd) or after a short step. */
		if (pl_inline()) {
			int64_t most = pl_inline_sleep_ns();
			if (left < 0 || left > most)
				left = most;
		}
		if (pl_inline() && pl.nic_fd >= 0)
			k = nic_wait(epfd, ev, max, left, sigmask);
		else
			k = kernel_wait(epfd, ev, max, left, sigmask);
		e = errno;

		if (pl_inline())
			pl_poll_inline();
		pl_lock();
		ep->sleepers--;
		ep->users--;
		if (ep->dead) {
			/* Its last fd was closed meanwhile. */
			bool efd = false;

			if (!ep->users)
				ep_free(ep);
			pl_unlock();
			if (k < 0) {
				errno = e;
				return -1;
			}
			return strip_tags(ev, k, &efd);
		}
		n = 0;
		if (k > 0) {
			uint32_t gen = ++ep->gen;
			bool efd = false;

			n = ep_translate(ep, ev, 0, k, gen, &efd);
			n = ep_collect(ep, ev, n, max, gen);
			ep_drain(ep, efd);
		}
		pl_unlock();
		if (n > 0)
			return n;
		if (k < 0) {
			errno = e;
			return -1;
		}
	}
}

static int ep_wait_entry(int epfd, struct epoll_event *ev, int max, int timeout,
                         const sigset_t *sigmask)
{
	struct pl_epoll *ep;
	bool efd = false;
	int k;

	if (!pl_running()) {
		/* Before the stack (adopted later if need be) or in a forked
		 * child: the kernel, minus any eventfd of ours. */
		ep = ep_of(epfd);
		if (!ep)
			return pl_real.epoll_pwait(epfd, ev, max, timeout, sigmask);
		k = pl_real.epoll_pwait(epfd, ev, max, timeout, sigmask);
		return k > 0 ? strip_tags(ev, k, &efd) : k;
	}
	if (!ep_of(epfd)) {
		/* Not ours; it may hold sets of ours. */
		if (pl_inline() && atomic_load_explicit(&nwatched, memory_order_relaxed))
			return wait_kernel_only(NULL, epfd, ev, max, pl_deadline_ms(timeout),
			                        sigmask);
		refresh_watched_unlocked();
		return pl_real.epoll_pwait(epfd, ev, max, timeout, sigmask);
	}
	return ep_wait(epfd, ev, max, pl_deadline_ms(timeout), timeout == 0, sigmask);
}

PL_EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	pl_libc_init();
	return ep_wait_entry(epfd, events, maxevents, timeout, NULL);
}

PL_EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
                          const sigset_t *sigmask)
{
	pl_libc_init();
	return ep_wait_entry(epfd, events, maxevents, timeout, sigmask);
}

PL_EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
                           const struct timespec *timeout, const sigset_t *sigmask)
{
	int64_t ns = -1;
	bool efd = false;
	int k;

	pl_libc_init();
	resolve_pwait2();
	if (timeout &&
	    (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000)) {
		errno = EINVAL;
		return -1;
	}
	if (timeout)
		ns = (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec;
	if (pl_running() && !ep_of(epfd) && pl_inline() &&
	    atomic_load_explicit(&nwatched, memory_order_relaxed))
		return wait_kernel_only(NULL, epfd, events, maxevents, pl_deadline_ts(timeout),
		                        sigmask);
	if (!pl_running() || !ep_of(epfd)) {
		if (pl_running())
			refresh_watched_unlocked();
		if (real_epoll_pwait2) {
			k = real_epoll_pwait2(epfd, events, maxevents, timeout, sigmask);
		} else {
			k = kernel_wait(epfd, events, maxevents, ns, sigmask);
		}
		return k > 0 && ep_of(epfd) ? strip_tags(events, k, &efd) : k;
	}
	return ep_wait(epfd, events, maxevents, pl_deadline_ts(timeout),
	               timeout && !timeout->tv_sec && !timeout->tv_nsec, sigmask);
}

/* ---- for poll and select, and the socket code ---- */

bool pl_epoll_polled(int fd)
{
	struct pl_epoll *ep = ep_of(fd);

	if (!ep)
		return false;
	pl_lock();
	if (ep_of(fd) == ep) {
		ep_set_watched(ep);
		ep_refresh_watched();
	}
	pl_unlock();
	/* Inline, the stack must be moved while the caller waits on it. */
	return pl_inline();
}

/* Some fd naming ep: the sets keep no fd of their own, as the program may
 * close the one it made them with and keep a dup. Rare path: a scan. */
static int ep_any_fd(struct pl_epoll *ep)
{
	int i;

	for (i = 0; i < pl.max_fds; i++)
		if (atomic_load_explicit(&pl.fds[i], memory_order_relaxed) == &ep->f)
			return i;
	return -1;
}

void pl_epoll_sock_to_kernel(struct pl_sock *s)
{
	struct pl_epitem *it;

	while ((it = s->epitems) != NULL) {
		int kfd = ep_any_fd(it->ep), op = it->in_kernel ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
		/* A disarmed one-shot item is armed again in the kernel: one
		 * event too many beats one missing. */
		struct epoll_event kev = {
			.events = it->events,
			.data = it->data,
		};

		if (kfd >= 0 && pl_real.epoll_ctl(kfd, op, it->fd, &kev) < 0)
			pl_log(PL_WARN, "fd %d: its epoll registration did not move to the kernel",
			       it->fd);
		/* The kernel registration, if any, is the program's now. */
		if (it->in_kernel)
			kitems_unlink(it->ep, it);
		item_drop(it, -1, false);
	}
}
