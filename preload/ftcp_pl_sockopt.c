/*
 * ftcp_pl_sockopt.c — setsockopt and getsockopt on offloaded sockets.
 *
 * Options the stack implements go to it; every option also goes to the
 * kernel socket underneath, so what libftcp does not implement is checked
 * and answered exactly as Linux would, and succeeds harmlessly.
 */
#include "ftcp_pl.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

static int int_arg(const void *v, socklen_t len, int *out)
{
	if (!v || len < sizeof(int))
		return -EINVAL;
	memcpy(out, v, sizeof(int));
	return 0;
}

static int put_int(void *v, socklen_t *len, int x)
{
	if (!v || !len)
		return -EFAULT;
	if (*len > sizeof(int))
		*len = sizeof(int);
	memcpy(v, &x, *len);
	return 0;
}

static uint64_t tv_us(const struct timeval *tv)
{
	uint64_t us = (uint64_t)tv->tv_sec * 1000000 + (uint64_t)tv->tv_usec;

	return us;
}

/* Lock held. 1: not ours (the kernel's answer stands). */
static int set_locked(struct pl_sock *s, int level, int opt, const void *v, socklen_t len)
{
	int x, rc;

	if (level == SOL_SOCKET) {
		switch (opt) {
		case SO_REUSEADDR:
			if ((rc = int_arg(v, len, &x)) < 0)
				return rc;
			s->reuseaddr = x != 0;
			if (s->type == SOCK_DGRAM)
				ftcp_udp_set_reuseaddr(pl.stack, s->h, s->reuseaddr);
			return 0;
		case SO_REUSEPORT:
			if ((rc = int_arg(v, len, &x)) < 0)
				return rc;
			s->reuseport = x != 0;
			/* Linux takes it after bind too (for later binds): the
			 * stack's group is fixed at bind, so only the flag moves. */
			if (!s->bound)
				ftcp_set_reuseport(pl.stack, s->h, s->reuseport);
			return 0;
		case SO_KEEPALIVE:
			if ((rc = int_arg(v, len, &x)) < 0)
				return rc;
			return s->type == SOCK_STREAM ? ftcp_setsockopt(pl.stack, s->h, FTCP_SO_KEEPALIVE, x != 0) : 0;
		case SO_RCVBUF:
		case SO_SNDBUF:
			if ((rc = int_arg(v, len, &x)) < 0)
				return rc;
			if (s->type != SOCK_STREAM)
				return 0;
			if (x < 0)
				x = 0;
			rc = ftcp_setsockopt(pl.stack, s->h, opt == SO_RCVBUF ? FTCP_SO_RCVBUF : FTCP_SO_SNDBUF, x);
			return rc == -FTCP_EINVAL ? 0 : rc; /* Linux clamps */
		case SO_LINGER: {
			struct linger l;
			if (!v || len < sizeof(l))
				return -EINVAL;
			memcpy(&l, v, sizeof(l));
			if (s->type != SOCK_STREAM)
				return 0;
			return ftcp_setsockopt(pl.stack, s->h, FTCP_SO_LINGER, l.l_onoff ? (l.l_linger < 0 ? 0 : l.l_linger) : -1);
		}
		case SO_RCVTIMEO:
		case SO_SNDTIMEO: {
			struct timeval tv;
			if (!v || len < sizeof(tv))
				return -EINVAL;
			memcpy(&tv, v, sizeof(tv));
			if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
				return -EDOM;
			if (tv.tv_sec < 0)
				tv.tv_sec = tv.tv_usec = 0;
			if (opt == SO_RCVTIMEO)
				s->rcvtimeo_us = tv_us(&tv);
			else
				s->sndtimeo_us = tv_us(&tv);
			return 0;
		}
		default:
			return 1;
		}
	}
	if (level == IPPROTO_TCP) {
		if (s->type != SOCK_STREAM)
			return -EOPNOTSUPP;
		switch (opt) {
		case TCP_NODELAY:
			if ((rc = int_arg(v, len, &x)) < 0)
				return rc;
			return ftcp_setsockopt(pl.stack, s->h, FTCP_SO_NODELAY, x != 0);
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
		case TCP_KEEPCNT:
			if ((rc = int_arg(v, len, &x)) < 0)
				return rc;
			if (x < 1 || x > (opt == TCP_KEEPCNT ? 127 : 32767))
				return -EINVAL;
			return ftcp_setsockopt(pl.stack, s->h,
			                       opt == TCP_KEEPIDLE ? FTCP_SO_KEEPIDLE
			                       : opt == TCP_KEEPINTVL ? FTCP_SO_KEEPINTVL : FTCP_SO_KEEPCNT, x);
		case TCP_MAXSEG:
			if ((rc = int_arg(v, len, &x)) < 0)
				return rc;
			if (x < 88 || x > 65535)
				return -EINVAL;
			rc = ftcp_setsockopt(pl.stack, s->h, FTCP_SO_MAXSEG, x);
			return rc == -FTCP_EISCONN ? 0 : rc;
		case TCP_CONGESTION: {
			char name[16];
			size_t n = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
			if (!v)
				return -EFAULT;
			memcpy(name, v, n);
			name[n] = 0;
			/* Linux's name for NewReno is "reno". */
			return ftcp_set_congestion(pl.stack, s->h, !strcmp(name, "reno") ? "newreno" : name) < 0
			       ? -ENOENT : 0;
		}
		default:
			return 1;
		}
	}
	if (level == IPPROTO_IPV6 && opt == IPV6_V6ONLY) {
		if ((rc = int_arg(v, len, &x)) < 0)
			return rc;
		s->v6only = x != 0;
		return 1;
	}
	return 1;
}

/* set_locked under the lock; false (errno EBADF) when fd no longer names s. */
static bool set_on(int fd, struct pl_sock *s, int level, int opt, const void *v, socklen_t len,
                   int *rc)
{
	pl_lock();
	if (pl_sock_of(fd) != s) {
		pl_unlock();
		errno = EBADF;
		return false;
	}
	*rc = set_locked(s, level, opt, v, len);
	pl_unlock();
	return true;
}

PL_EXPORT int setsockopt(int fd, int level, int opt, const void *v, socklen_t len)
{
	struct pl_sock *s = pl_sock_of(fd);
	int rc, krc = 0;

	if (!s)
		return pl_real.setsockopt(fd, level, opt, v, len);
	if (s->shared_fd) {
		/* A shared placeholder: what the stack handles needs no kernel
		 * socket; anything else gets one of its own first, so the
		 * template every accepted fd shares keeps its defaults. */
		if (level == SOL_SOCKET || level == IPPROTO_TCP) {
			if (!set_on(fd, s, level, opt, v, len, &rc))
				return -1;
			if (rc != 1)
				return rc < 0 ? pl_errno(rc) : 0;
			if (pl_unshare_fd(fd, s) < 0)
				return -1;
			return pl_real.setsockopt(fd, level, opt, v, len);
		}
		if (pl_unshare_fd(fd, s) < 0)
			return -1;
	}
	if (!(level == IPPROTO_TCP && opt == TCP_CONGESTION)) {
		krc = pl_real.setsockopt(fd, level, opt, v, len);
		if (krc < 0 && level != SOL_SOCKET && level != IPPROTO_TCP)
			return krc;
	}
	if (!set_on(fd, s, level, opt, v, len, &rc))
		return -1;
	if (rc == 1)
		return krc;
	return rc < 0 ? pl_errno(rc) : 0;
}

static int get_locked(struct pl_sock *s, int level, int opt, void *v, socklen_t *len)
{
	int x, rc;

	if (level == SOL_SOCKET) {
		switch (opt) {
		case SO_ERROR:
			rc = ftcp_sock_error(pl.stack, s->h);
			return put_int(v, len, rc < 0 ? -rc : 0);
		case SO_TYPE:
			return put_int(v, len, s->type);
		case SO_DOMAIN:
			return put_int(v, len, s->domain);
		case SO_PROTOCOL:
			return put_int(v, len, s->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
		case SO_ACCEPTCONN:
			return put_int(v, len, s->listening);
		case SO_REUSEADDR:
			return put_int(v, len, s->reuseaddr);
		case SO_REUSEPORT:
			return put_int(v, len, s->reuseport);
		case SO_KEEPALIVE:
			if (s->type != SOCK_STREAM)
				return 1;
			rc = ftcp_getsockopt(pl.stack, s->h, FTCP_SO_KEEPALIVE, &x);
			return rc < 0 ? rc : put_int(v, len, x);
		case SO_RCVBUF:
		case SO_SNDBUF:
			if (s->type != SOCK_STREAM)
				return 1;
			rc = ftcp_getsockopt(pl.stack, s->h, opt == SO_RCVBUF ? FTCP_SO_RCVBUF : FTCP_SO_SNDBUF, &x);
			return rc < 0 ? rc : put_int(v, len, x);
		case SO_RCVTIMEO:
		case SO_SNDTIMEO: {
			uint64_t us = opt == SO_RCVTIMEO ? s->rcvtimeo_us : s->sndtimeo_us;
			struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
			if (!v || !len)
				return -EFAULT;
			if (*len > sizeof(tv))
				*len = sizeof(tv);
			memcpy(v, &tv, *len);
			return 0;
		}
		default:
			return 1;
		}
	}
	if (level == IPPROTO_TCP) {
		if (s->type != SOCK_STREAM)
			return -EOPNOTSUPP;
		switch (opt) {
		case TCP_INFO:
			if (!v || !len)
				return -EFAULT;
			return pl_tcp_info(s, v, len);
		case TCP_NODELAY:
			rc = ftcp_getsockopt(pl.stack, s->h, FTCP_SO_NODELAY, &x);
			return rc < 0 ? rc : put_int(v, len, x);
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
		case TCP_KEEPCNT:
			rc = ftcp_getsockopt(pl.stack, s->h,
			                     opt == TCP_KEEPIDLE ? FTCP_SO_KEEPIDLE
			                     : opt == TCP_KEEPINTVL ? FTCP_SO_KEEPINTVL : FTCP_SO_KEEPCNT, &x);
			return rc < 0 ? rc : put_int(v, len, x);
		case TCP_MAXSEG: {
			struct ftcp_tcp_info ti;
			rc = ftcp_tcp_info(pl.stack, s->h, &ti);
			if (rc < 0)
				return rc;
			if (ti.state >= FTCP_TCP_ESTABLISHED)
				return put_int(v, len, (int)ti.snd_mss);
			rc = ftcp_getsockopt(pl.stack, s->h, FTCP_SO_MAXSEG, &x);
			return rc < 0 ? rc : put_int(v, len, x ? x : 536);
		}
		case TCP_CONGESTION: {
			const char *n = ftcp_get_congestion(pl.stack, s->h);
			char buf[16] = {0};
			if (!v || !len)
				return -EFAULT;
			snprintf(buf, sizeof(buf), "%s", n && !strcmp(n, "newreno") ? "reno" : n ? n : "");
			if (*len > sizeof(buf))
				*len = sizeof(buf);
			memcpy(v, buf, *len);
			return 0;
		}
		default:
			return 1;
		}
	}
	if (level == IPPROTO_IPV6 && opt == IPV6_V6ONLY)
		return put_int(v, len, s->v6only);
	return 1;
}

PL_EXPORT int getsockopt(int fd, int level, int opt, void *v, socklen_t *len)
{
	struct pl_sock *s = pl_sock_of(fd);
	int rc;

	if (!s)
		return pl_real.getsockopt(fd, level, opt, v, len);
	pl_lock();
	if (pl_sock_of(fd) != s) {
		pl_unlock();
		errno = EBADF;
		return -1;
	}
	rc = get_locked(s, level, opt, v, len);
	pl_unlock();
	if (rc == 1)
		return pl_real.getsockopt(fd, level, opt, v, len);
	return rc < 0 ? pl_errno(rc) : 0;
}
