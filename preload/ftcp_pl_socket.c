/*
 * ftcp_pl_socket.c — socket, bind, listen, accept, connect, close,
 * shutdown, names, dup and fcntl/ioctl for offloaded sockets; everything
 * else passes to libc.
 */
#include "ftcp_pl.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- addresses ---- */

/* The program's address as the stack's. 0, -EINVAL (malformed), or 1: an
 * IPv6 address that is not v4-mapped (the kernel's business). */
int pl_addr_in(const struct sockaddr *a, socklen_t len, struct ftcp_sockaddr *out)
{
	if (!a || len < sizeof(sa_family_t))
		return -EINVAL;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)a;
		if (len < sizeof(*in))
			return -EINVAL;
		out->addr = ntohl(in->sin_addr.s_addr);
		out->port = ntohs(in->sin_port);
		return 0;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)a;
		if (len < sizeof(*in6))
			return -EINVAL;
		out->port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
			out->addr = 0;
			return 0;
		}
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			memcpy(&out->addr, &in6->sin6_addr.s6_addr[12], 4);
			out->addr = ntohl(out->addr);
			return 0;
		}
		return 1;
	}
	return -EAFNOSUPPORT;
}

/* Write fa in the socket's own family (v4-mapped for AF_INET6), truncated
 * to *len as the kernel does, *len set to the full size. */
void pl_addr_out(int domain, const struct ftcp_sockaddr *fa, struct sockaddr *a, socklen_t *len)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t n;

	if (!a || !len)
		return;
	memset(&u, 0, sizeof(u));
	if (domain == AF_INET6) {
		u.in6.sin6_family = AF_INET6;
		u.in6.sin6_port = htons(fa->port);
		if (fa->addr) {
			uint32_t be = htonl(fa->addr);
			u.in6.sin6_addr.s6_addr[10] = 0xff;
			u.in6.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&u.in6.sin6_addr.s6_addr[12], &be, 4);
		}
		n = sizeof(u.in6);
	} else {
		u.in.sin_family = AF_INET;
		u.in.sin_port = htons(fa->port);
		u.in.sin_addr.s_addr = htonl(fa->addr);
		n = sizeof(u.in);
	}
	memcpy(a, &u, *len < n ? *len : n);
	*len = n;
}

/* Can the stack reach dst? Loopback, multicast, broadcast and off-subnet
 * without a gateway stay with the kernel. */
static bool stack_routes(uint32_t dst)
{
	uint32_t mask = pl.cfg.prefix ? ~0u << (32 - pl.cfg.prefix) : 0;

	if (dst == 0 || (dst >> 24) == 127 || (dst >> 28) == 14 || dst == 0xffffffffu ||
	    dst == pl.cfg.ip)
		return false;
	if (((dst ^ pl.cfg.ip) & mask) == 0)
		return (dst & ~mask) != ~mask; /* not the subnet broadcast */
	return pl.cfg.gw != 0;
}

/* ---- events and readiness ---- */

void pl_on_event(struct ftcp_stack *st, ftcp_sock_t h, uint32_t events, void *user)
{
	struct pl_sock *s = user;

	(void)st;
	(void)events;
	if (!s || s->h != h)
		return;
	atomic_fetch_add_explicit(&pl.ev_seq, 1, memory_order_release);
	if (s->waiters)
		pl_wake_sock(s);
	if (s->epitems)
		pl_epoll_sock_event(s, pl_sock_pollmask(s));
}

uint32_t pl_sock_pollmask(struct pl_sock *s)
{
	int ev = ftcp_sock_readiness(pl.stack, s->h), st;
	uint32_t m = 0;

	if (s->h < 0 || ev < 0)
		return POLLERR | POLLHUP;
	if (s->type == SOCK_DGRAM) {
		if (ev & FTCP_EV_READABLE)
			m |= POLLIN | POLLRDNORM;
		if (ev & FTCP_EV_WRITABLE)
			m |= POLLOUT | POLLWRNORM;
		if (ev & FTCP_EV_ERROR)
			m |= POLLERR;
		return m;
	}
	st = ftcp_tcp_state(pl.stack, s->h);
	if (st == FTCP_TCP_LISTEN)
		return (ev & FTCP_EV_READABLE) ? POLLIN | POLLRDNORM : 0;
	if (ev & FTCP_EV_ERROR)
		m |= POLLERR;
	if (st == FTCP_TCP_CLOSED && !s->connecting && !s->connected)
		return m | POLLOUT | POLLWRNORM | POLLHUP; /* a fresh socket, as Linux says */
	if (st == FTCP_TCP_SYN_SENT || st == FTCP_TCP_SYN_RECEIVED)
		return m;
	if (ev & FTCP_EV_READABLE)
		m |= POLLIN | POLLRDNORM;
	if (ev & FTCP_EV_RDHUP)
		m |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (ev & FTCP_EV_WRITABLE)
		m |= POLLOUT | POLLWRNORM;
	if (ev & FTCP_EV_CLOSED)
		m |= POLLHUP | POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
	return m;
}

/* ---- life cycle ---- */

static bool offloadable(int domain, int type, int proto)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (domain != AF_INET && domain != AF_INET6)
		return false;
	return (base == SOCK_STREAM && (proto == 0 || proto == IPPROTO_TCP)) ||
	       (base == SOCK_DGRAM && (proto == 0 || proto == IPPROTO_UDP));
}

PL_EXPORT int socket(int domain, int type, int proto)
{
	struct pl_sock *s;
	int fd, err, base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	ftcp_sock_t h;

	pl_libc_init();
	if (!offloadable(domain, type, proto))
		return pl_real.socket(domain, type, proto);
	if (!pl_ensure_started(&err)) {
		if (err) {
			errno = err;
			return -1;
		}
		return pl_real.socket(domain, type, proto);
	}
	/* The kernel socket under ours stays non-blocking: we only ever ask
	 * it questions that must not wait. */
	fd = pl_real.socket(domain, type | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return fd;
	if (fd >= pl.max_fds) {
		pl_log(PL_WARN, "fd %d is past the fd table (%d): left to the kernel", fd, pl.max_fds);
		if (!(type & SOCK_NONBLOCK))
			pl_real.fcntl(fd, F_SETFL, pl_real.fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		return fd;
	}
	pl_lock();
	pl_fd_drop(fd); /* a stale entry: closed behind our back (e.g. close_range) */
	s = pl_sock_alloc();
	if (!s) {
		pl_unlock();
		pl_real.close(fd);
		pl_log(PL_WARN, "socket table full (FTCP_MAX_SOCKETS=%u)", pl.cfg.max_sockets);
		errno = ENOBUFS;
		return -1;
	}
	h = base == SOCK_STREAM ? ftcp_tcp_open(pl.stack, pl_on_event, s)
	                        : ftcp_udp_open(pl.stack, pl_on_event, s);
	if (h < 0) {
		pl_sock_free(s);
		pl_unlock();
		pl_real.close(fd);
		return pl_errno(h);
	}
	s->h = h;
	s->domain = domain;
	s->type = base;
	s->nonblock = (type & SOCK_NONBLOCK) != 0;
	pl_fd_set(fd, &s->f);
	pl_unlock();
	return fd;
}

PL_EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
	pl_libc_init();
	return pl_real.socketpair(domain, type, proto, sv);
}

/* Give the socket behind fd to the kernel for good (lock held): the
 * program talks to loopback, an unrouted address, or needs IPv6. */
static void to_kernel(int fd, struct pl_sock *s)
{
	int i, fl;

	for (i = 0; i < pl.max_fds; i++)
		if (atomic_load_explicit(&pl.fds[i], memory_order_relaxed) == &s->f)
			pl_fd_clear(i);
	/* Its epoll registrations go to the kernel with it (the kernel fd
	 * was never in the kernel sets while the stack had it). */
	if (s->epitems)
		pl_epoll_sock_to_kernel(s);
	fl = pl_real.fcntl(fd, F_GETFL);
	if (fl >= 0 && !s->nonblock)
		pl_real.fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	pl_sock_release(s);
}

void pl_sock_release(struct pl_sock *s)
{
	if (s->epitems)
		pl_epoll_sock_gone(s);
	if (s->h >= 0)
		ftcp_close(pl.stack, s->h);
	s->h = -1;
	atomic_fetch_add_explicit(&pl.ev_seq, 1, memory_order_release);
	pl_wake_sock(s);
	pl_sock_free(s);
}

PL_EXPORT int close(int fd)
{
	pl_libc_init();
	if (pl_running() && pl_file_get(fd)) {
		pl_lock();
		pl_fd_drop(fd);
		pl_unlock();
	}
	return pl_real.close(fd);
}

PL_EXPORT int bind(int fd, const struct sockaddr *a, socklen_t len)
{
	struct pl_sock *s = pl_sock_of(fd);
	struct ftcp_sockaddr fa, got;
	int r, rc;

	if (!s)
		return pl_real.bind(fd, a, len);
	r = pl_addr_in(a, len, &fa);
	if (r < 0 && r != -EAFNOSUPPORT)
		return pl_errno(r);
	pl_lock();
	if (r != 0 || (fa.addr != 0 && fa.addr != pl.cfg.ip) ||
	    (s->domain == AF_INET6 && s->v6only)) {
		/* Loopback, another of the kernel's addresses, or real IPv6. */
		to_kernel(fd, s);
		pl_unlock();
		return pl_real.bind(fd, a, len);
	}
	rc = ftcp_bind(pl.stack, s->h, &fa);
	if (rc < 0) {
		pl_unlock();
		return pl_errno(rc);
	}
	s->bound = true;
	/* A wildcard TCP listener also takes loopback connections through the
	 * kernel socket, bound to the same port. */
	if (fa.addr == 0 && s->type == SOCK_STREAM && ftcp_getsockname(pl.stack, s->h, &got) == 0) {
		union {
			struct sockaddr_in in;
			struct sockaddr_in6 in6;
		} k;
		socklen_t kl;

		memset(&k, 0, sizeof(k));
		if (s->domain == AF_INET6) {
			k.in6.sin6_family = AF_INET6;
			k.in6.sin6_port = htons(got.port);
			kl = sizeof(k.in6);
		} else {
			k.in.sin_family = AF_INET;
			k.in.sin_port = htons(got.port);
			kl = sizeof(k.in);
		}
		s->shadow = pl_real.bind(fd, (struct sockaddr *)&k, kl) == 0;
		if (!s->shadow)
			pl_log(PL_INFO, "fd %d: port %u taken in the kernel: no loopback shadow", fd,
			       got.port);
	}
	pl_unlock();
	return 0;
}

PL_EXPORT int listen(int fd, int backlog)
{
	struct pl_sock *s = pl_sock_of(fd);
	int rc;

	if (!s)
		return pl_real.listen(fd, backlog);
	if (s->type != SOCK_STREAM) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (backlog <= 0)
		backlog = 1;
	if (backlog > 4096)
		backlog = 4096;
	pl_lock();
	rc = ftcp_listen(pl.stack, s->h, backlog);
	if (rc == 0) {
		s->listening = true;
		if (s->shadow && pl_real.listen(fd, backlog) < 0)
			s->shadow = false;
	}
	pl_unlock();
	return rc < 0 ? pl_errno(rc) : 0;
}

static _Atomic int template_fd[2] = {-1, -1}; /* AF_INET, AF_INET6 */

int pl_placeholder_fd(int domain, bool cloexec)
{
	_Atomic int *t = &template_fd[domain == AF_INET6];
	int fd = atomic_load_explicit(t, memory_order_acquire), expect = -1;

	if (fd < 0) {
		fd = pl_real.socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (!atomic_compare_exchange_strong(t, &expect, fd)) {
			pl_real.close(fd); /* another thread made it first */
			fd = expect;
		}
	}
	return pl_real.fcntl(fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
}

int pl_unshare_fd(int fd, struct pl_sock *s)
{
	int own, fdfl;

	if (!s->shared_fd)
		return 0;
	fdfl = pl_real.fcntl(fd, F_GETFD);
	own = pl_real.socket(s->domain, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fdfl < 0 || own < 0) {
		if (own >= 0)
			pl_real.close(own);
		return -1;
	}
	/* dup3 swaps the file under fd in one step: no moment without it. */
	if (pl_real.dup3(own, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		pl_real.close(own);
		return -1;
	}
	pl_real.close(own);
	s->shared_fd = false;
	return 0;
}

static int do_accept(int fd, struct sockaddr *a, socklen_t *len, int flags)
{
	struct pl_sock *s = pl_sock_of(fd), *ns;
	struct ftcp_sockaddr peer;
	struct pollfd kp;
	bool kernel_first = false;
	int nfd, rc, ev;
	uint32_t seq;
	ftcp_sock_t nh;
	int64_t deadline;

	if (!s)
		return pl_real.accept4(fd, a, len, flags);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		errno = EINVAL;
		return -1;
	}
	if (!s->listening) {
		errno = EINVAL;
		return -1;
	}
	deadline = s->rcvtimeo_us ? pl_now_ns() + (int64_t)s->rcvtimeo_us * 1000 : -1;
	for (;;) {
		/* Loopback connections through the shadow, alternating with
		 * ours so neither side starves. */
		kernel_first = !kernel_first;
		if (s->shadow && kernel_first) {
			nfd = pl_real.accept4(fd, a, len, flags);
			if (nfd >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				return nfd;
		}
		pl_lock();
		if (pl_sock_of(fd) != s) {
			pl_unlock();
			errno = EBADF;
			return -1;
		}
		seq = atomic_load(&pl.ev_seq);
		ev = ftcp_sock_readiness(pl.stack, s->h);
		pl_unlock();
		if (ev > 0 && (ev & FTCP_EV_READABLE)) {
			nfd = pl_placeholder_fd(s->domain, (flags & SOCK_CLOEXEC) != 0);
			if (nfd < 0)
				return -1;
			pl_lock();
			ns = pl_sock_alloc();
			if (!ns) {
				pl_unlock();
				pl_real.close(nfd);
				errno = ENOBUFS;
				return -1;
			}
			nh = ftcp_accept(pl.stack, s->h, pl_on_event, ns, &peer);
			if (nh < 0) {
				pl_sock_free(ns);
				pl_unlock();
				pl_real.close(nfd);
				if (nh != -FTCP_EAGAIN)
					return pl_errno(nh);
				continue; /* another thread took it */
			}
			ns->h = nh;
			ns->domain = s->domain;
			ns->type = SOCK_STREAM;
			ns->nonblock = (flags & SOCK_NONBLOCK) != 0;
			ns->bound = ns->connected = true;
			ns->shared_fd = true;
			if (nfd < pl.max_fds)
				pl_fd_set(nfd, &ns->f);
			pl_unlock();
			pl_addr_out(s->domain, &peer, a, len);
			return nfd;
		}
		if (s->shadow && !kernel_first) {
			nfd = pl_real.accept4(fd, a, len, flags);
			if (nfd >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				return nfd;
		}
		if (s->nonblock) {
			errno = EAGAIN;
			return -1;
		}
		kp.fd = fd;
		kp.events = POLLIN;
		rc = pl_block_io(s, s->shadow ? &kp : NULL, seq, deadline);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			errno = EAGAIN;
			return -1;
		}
	}
}

PL_EXPORT int accept(int fd, struct sockaddr *a, socklen_t *len)
{
	pl_libc_init();
	return do_accept(fd, a, len, 0);
}

PL_EXPORT int accept4(int fd, struct sockaddr *a, socklen_t *len, int flags)
{
	pl_libc_init();
	return do_accept(fd, a, len, flags);
}

PL_EXPORT int connect(int fd, const struct sockaddr *a, socklen_t len)
{
	struct pl_sock *s = pl_sock_of(fd);
	struct ftcp_sockaddr fa;
	int r, rc, st, ev;
	uint32_t seq;
	int64_t deadline;

	if (!s)
		return pl_real.connect(fd, a, len);
	if (s->type == SOCK_DGRAM && a && len >= sizeof(sa_family_t) && a->sa_family == AF_UNSPEC) {
		fa.addr = 0;
		fa.port = 0;
		pl_lock();
		rc = ftcp_connect(pl.stack, s->h, &fa);
		s->connected = false;
		pl_unlock();
		return rc < 0 ? pl_errno(rc) : 0;
	}
	r = pl_addr_in(a, len, &fa);
	if (r < 0 && r != -EAFNOSUPPORT)
		return pl_errno(r);
	pl_lock();
	if (r != 0 || !stack_routes(fa.addr) || (s->domain == AF_INET6 && s->v6only)) {
		if (s->bound) {
			pl_unlock();
			errno = ENETUNREACH;
			return -1;
		}
		to_kernel(fd, s);
		pl_unlock();
		return pl_real.connect(fd, a, len);
	}
	if (s->type == SOCK_DGRAM) {
		rc = ftcp_connect(pl.stack, s->h, &fa);
		if (rc == 0)
			s->connected = s->bound = true;
		pl_unlock();
		return rc < 0 ? pl_errno(rc) : 0;
	}
	st = ftcp_tcp_state(pl.stack, s->h);
	if (s->connecting && st == FTCP_TCP_SYN_SENT) {
		pl_unlock();
		errno = s->nonblock ? EALREADY : EALREADY;
		return -1;
	}
	if (s->connected || st >= FTCP_TCP_ESTABLISHED) {
		pl_unlock();
		errno = EISCONN;
		return -1;
	}
	rc = ftcp_connect(pl.stack, s->h, &fa);
	if (rc < 0 && rc != -FTCP_EINPROGRESS) {
		pl_unlock();
		return pl_errno(rc);
	}
	s->connecting = s->bound = true;
	pl_unlock();
	if (s->nonblock) {
		errno = EINPROGRESS;
		return -1;
	}
	deadline = s->sndtimeo_us ? pl_now_ns() + (int64_t)s->sndtimeo_us * 1000 : -1;
	for (;;) {
		pl_lock();
		seq = atomic_load(&pl.ev_seq);
		st = ftcp_tcp_state(pl.stack, s->h);
		ev = ftcp_sock_readiness(pl.stack, s->h);
		if (ev >= 0 && (ev & FTCP_EV_ERROR)) {
			rc = ftcp_sock_error(pl.stack, s->h);
			s->connecting = false;
			pl_unlock();
			return pl_errno(rc ? rc : -ECONNREFUSED);
		}
		if (st >= FTCP_TCP_ESTABLISHED) {
			s->connecting = false;
			s->connected = true;
			pl_unlock();
			return 0;
		}
		if (st < 0 || st == FTCP_TCP_CLOSED) {
			s->connecting = false;
			pl_unlock();
			errno = ECONNREFUSED;
			return -1;
		}
		pl_unlock();
		rc = pl_block_io(s, NULL, seq, deadline);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			errno = EINPROGRESS;
			return -1;
		}
	}
}

PL_EXPORT int shutdown(int fd, int how)
{
	struct pl_sock *s = pl_sock_of(fd);
	int rc;

	if (!s)
		return pl_real.shutdown(fd, how);
	if (how < SHUT_RD || how > SHUT_RDWR) {
		errno = EINVAL;
		return -1;
	}
	pl_lock();
	if (s->type == SOCK_DGRAM) {
		rc = s->connected ? 0 : -ENOTCONN;
	} else {
		rc = ftcp_shutdown(pl.stack, s->h, how == SHUT_RD ? FTCP_SHUT_RD
		                                    : how == SHUT_WR ? FTCP_SHUT_WR : FTCP_SHUT_RDWR);
		if (s->listening && rc == -ENOTCONN)
			rc = 0;
	}
	if (rc == 0) {
		s->rd_shut |= how != SHUT_WR;
		s->wr_shut |= how != SHUT_RD;
	}
	pl_unlock();
	return rc < 0 ? pl_errno(rc) : 0;
}

/* getsockname and getpeername: the stack's answer in the program's family. */
static int sock_name(struct pl_sock *s, struct sockaddr *a, socklen_t *len,
                     int (*get)(const struct ftcp_stack *, ftcp_sock_t, struct ftcp_sockaddr *))
{
	struct ftcp_sockaddr fa;
	int rc;

	if (!len) {
		errno = EFAULT;
		return -1;
	}
	pl_lock();
	rc = get(pl.stack, s->h, &fa);
	pl_unlock();
	if (rc < 0)
		return pl_errno(rc);
	pl_addr_out(s->domain, &fa, a, len);
	return 0;
}

PL_EXPORT int getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
	struct pl_sock *s = pl_sock_of(fd);

	return s ? sock_name(s, a, len, ftcp_getsockname) : pl_real.getsockname(fd, a, len);
}

PL_EXPORT int getpeername(int fd, struct sockaddr *a, socklen_t *len)
{
	struct pl_sock *s = pl_sock_of(fd);

	return s ? sock_name(s, a, len, ftcp_getpeername) : pl_real.getpeername(fd, a, len);
}

/* ---- descriptors ---- */

/* newfd now names what oldfd names (after the kernel's dup). */
static void dup_track(int oldfd, int newfd)
{
	struct pl_file *f = pl_file_get(oldfd);

	if (newfd < 0 || newfd >= pl.max_fds)
		return;
	pl_fd_drop(newfd);
	if (f)
		pl_fd_set(newfd, f);
}

PL_EXPORT int dup(int fd)
{
	int nfd;

	pl_libc_init();
	if (!pl_running() || !pl_file_get(fd))
		return pl_real.dup(fd);
	pl_lock();
	nfd = pl_real.dup(fd);
	if (nfd >= 0)
		dup_track(fd, nfd);
	pl_unlock();
	return nfd;
}

static int dup23(int oldfd, int newfd, int flags, bool three)
{
	int rc;

	pl_libc_init();
	if (!pl_running() || (!pl_file_get(oldfd) && !pl_file_get(newfd)))
		return three ? pl_real.dup3(oldfd, newfd, flags) : pl_real.dup2(oldfd, newfd);
	pl_lock();
	rc = three ? pl_real.dup3(oldfd, newfd, flags) : pl_real.dup2(oldfd, newfd);
	if (rc >= 0 && oldfd != newfd)
		dup_track(oldfd, newfd);
	pl_unlock();
	return rc;
}

PL_EXPORT int dup2(int oldfd, int newfd)
{
	return dup23(oldfd, newfd, 0, false);
}

PL_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return dup23(oldfd, newfd, flags, true);
}

static int do_fcntl(int fd, int cmd, long arg)
{
	struct pl_sock *s;
	int rc;

	pl_libc_init();
	if (!pl_running() || !pl_file_get(fd))
		return pl_real.fcntl(fd, cmd, arg);
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		pl_lock();
		rc = pl_real.fcntl(fd, cmd, arg);
		if (rc >= 0)
			dup_track(fd, rc);
		pl_unlock();
		return rc;
	case F_GETFL:
		s = pl_sock_get(fd);
		rc = pl_real.fcntl(fd, cmd);
		if (rc >= 0 && s)
			rc = s->nonblock ? rc | O_NONBLOCK : rc & ~O_NONBLOCK;
		return rc;
	case F_SETFL:
		s = pl_sock_get(fd);
		if (!s)
			return pl_real.fcntl(fd, cmd, arg);
		/* Flags but O_NONBLOCK (ours to keep) would reach every dup of
		 * a shared placeholder. */
		if (s->shared_fd) {
			rc = pl_real.fcntl(fd, F_GETFL);
			if (rc < 0)
				return rc;
			if (((rc ^ (int)arg) & ~O_NONBLOCK) && pl_unshare_fd(fd, s) < 0)
				return -1;
		}
		rc = pl_real.fcntl(fd, cmd, arg | O_NONBLOCK);
		if (rc == 0)
			s->nonblock = (arg & O_NONBLOCK) != 0;
		return rc;
	default:
		return pl_real.fcntl(fd, cmd, arg);
	}
}

/* <fcntl.h> renames fcntl to fcntl64 under _FILE_OFFSET_BITS=64; libc
 * exports both names, so do we, under their own names. */
PL_EXPORT int pl_fcntl(int fd, int cmd, ...) __asm__("fcntl");
PL_EXPORT int pl_fcntl64(int fd, int cmd, ...) __asm__("fcntl64");

PL_EXPORT int pl_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

PL_EXPORT int pl_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

PL_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct pl_sock *s = pl_sock_of(fd);
	va_list ap;
	void *arg;
	int n;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!s)
		return pl_real.ioctl(fd, req, arg);
	switch (req) {
	case FIONBIO:
		if (!arg) {
			errno = EFAULT;
			return -1;
		}
		s->nonblock = *(int *)arg != 0;
		return 0;
	case FIONREAD:
		if (!arg) {
			errno = EFAULT;
			return -1;
		}
		pl_lock();
		if (s->listening) {
			pl_unlock();
			errno = EINVAL;
			return -1;
		}
		n = ftcp_sock_rx_pending(pl.stack, s->h);
		pl_unlock();
		if (n < 0)
			return pl_errno(n);
		*(int *)arg = n;
		return 0;
	default:
		if (s->shared_fd && pl_unshare_fd(fd, s) < 0)
			return -1;
		return pl_real.ioctl(fd, req, arg);
	}
}

/* ---- exit ---- */

void pl_sockets_abort_all(void)
{
	struct pl_sock *s = NULL;

	while ((s = pl_sock_next(s)))
		if (s->h >= 0 && s->type == SOCK_STREAM) {
			ftcp_abort(pl.stack, s->h);
			s->h = -1;
		}
}

void pl_sockets_shutdown_all(void)
{
	struct pl_sock *s = NULL;
	struct ftcp_pool_stats ps;
	int64_t end = pl_now_ns() + 500 * 1000000LL;

	pl_lock();
	while ((s = pl_sock_next(s)))
		if (s->h >= 0) {
			ftcp_close(pl.stack, s->h);
			s->h = -1;
		}
	pl_unlock();
	/* Let the FINs (and their retransmissions) go: until only TIME_WAIT
	 * remains, for half a second at most. */
	while (pl_now_ns() < end) {
		struct timespec ts = {0, 1000000};

		pl_lock();
		ftcp_stack_pool_stats(pl.stack, &ps);
		pl_unlock();
		if (ps.tx_buffers_in_use == 0)
			break;
		nanosleep(&ts, NULL);
	}
}
