/*
 * ftcp_pl_io.c — moving bytes: read/write, send/recv and their vector,
 * message and fortified forms, and sendfile.
 *
 * A blocking call copies what fits, then waits (spin, then sleep) for the
 * stack to make room or bring data, as the kernel's would.
 */
#include "ftcp_pl.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UDP_MAX 65535

/* glibc's fortified entry points (no public prototypes). */
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                       struct sockaddr *from, socklen_t *fromlen);

static int64_t deadline_us(uint64_t timeo_us)
{
	return timeo_us ? pl_now_ns() + (int64_t)timeo_us * 1000 : -1;
}

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;
	int i;

	for (i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* A call found nothing to do: wait for the stack. 0 to try again, or -1
 * with errno EAGAIN (non-blocking, or SO_RCVTIMEO/SO_SNDTIMEO ran out) or
 * EINTR. */
static int io_wait(struct pl_sock *s, bool nonblock, uint32_t seq, int64_t deadline)
{
	int r;

	if (nonblock) {
		errno = EAGAIN;
		return -1;
	}
	r = pl_block_io(s, NULL, seq, deadline);
	if (r > 0)
		return 0;
	if (r == 0)
		errno = EAGAIN;
	return -1;
}

/* ---- send ---- */

static ssize_t udp_send(struct pl_sock *s, const struct iovec *iov, int iovcnt, int flags,
                        const struct sockaddr *to, socklen_t tolen)
{
	struct ftcp_sockaddr fa;
	const void *buf = iovcnt ? iov[0].iov_base : NULL;
	uint8_t *gather = NULL;
	size_t len = iov_total(iov, iovcnt);
	bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	int64_t deadline = deadline_us(s->sndtimeo_us);
	uint32_t seq;
	int rc, r;

	if (to) {
		r = pl_addr_in(to, tolen, &fa);
		if (r < 0)
			return pl_errno(r);
		if (r == 1) {
			errno = ENETUNREACH;
			return -1;
		}
	}
	if (len > UDP_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (iovcnt > 1) {
		size_t off = 0;
		int i;
		gather = malloc(len ? len : 1);
		if (!gather) {
			errno = ENOBUFS;
			return -1;
		}
		for (i = 0; i < iovcnt; i++) {
			memcpy(gather + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		buf = gather;
	}
	for (;;) {
		pl_lock();
		seq = atomic_load(&pl.ev_seq);
		rc = ftcp_sendto(pl.stack, s->h, buf, (uint32_t)len, to ? &fa : NULL);
		if (rc >= 0)
			s->bound = true;
		if (nonblock && rc >= 0)
			pl_unlock_deferred();
		else
			pl_unlock();
		if (rc != -FTCP_EAGAIN)
			break;
		if (io_wait(s, nonblock, seq, deadline) < 0) {
			rc = -errno;
			break;
		}
	}
	free(gather);
	return rc < 0 ? pl_errno(rc) : rc;
}

static ssize_t tcp_send(struct pl_sock *s, const struct iovec *iov, int iovcnt, int flags)
{
	bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	int64_t deadline = deadline_us(s->sndtimeo_us);
	size_t total = iov_total(iov, iovcnt), sent = 0, off = 0;
	int i = 0, rc = 0;
	uint32_t seq;

	if (total == 0)
		return 0;
	for (;;) {
		pl_lock();
		seq = atomic_load(&pl.ev_seq);
		while (i < iovcnt) {
			size_t n = iov[i].iov_len - off;
			if (n > 1u << 30)
				n = 1u << 30;
			if (!n) {
				i++;
				off = 0;
				continue;
			}
			rc = ftcp_send(pl.stack, s->h, (const uint8_t *)iov[i].iov_base + off, (uint32_t)n);
			if (rc <= 0)
				break;
			sent += (size_t)rc;
			off += (size_t)rc;
			if (off == iov[i].iov_len) {
				i++;
				off = 0;
			} else if ((size_t)rc < n) {
				rc = -FTCP_EAGAIN; /* the send buffer is full */
				break;
			}
		}
		if (nonblock)
			pl_unlock_deferred();
		else
			pl_unlock();
		if (sent == total)
			return (ssize_t)sent;
		if (rc < 0 && rc != -FTCP_EAGAIN) {
			if (sent)
				return (ssize_t)sent;
			if (rc == -FTCP_EPIPE && !(flags & MSG_NOSIGNAL))
				raise(SIGPIPE);
			return pl_errno(rc);
		}
		if (io_wait(s, nonblock, seq, deadline) < 0)
			return sent ? (ssize_t)sent : -1;
	}
}

static ssize_t pl_sendv(struct pl_sock *s, const struct iovec *iov, int iovcnt, int flags,
                        const struct sockaddr *to, socklen_t tolen)
{
	if (iovcnt < 0 || iovcnt > IOV_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (s->type == SOCK_DGRAM)
		return udp_send(s, iov, iovcnt, flags, to, tolen);
	return tcp_send(s, iov, iovcnt, flags);
}

/* ---- receive ---- */

static ssize_t udp_recv(struct pl_sock *s, const struct iovec *iov, int iovcnt, int flags,
                        struct sockaddr *from, socklen_t *fromlen, int *msg_flags)
{
	bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	int64_t deadline = deadline_us(s->rcvtimeo_us);
	size_t len = iov_total(iov, iovcnt);
	uint8_t *scatter = NULL, *buf = iovcnt ? iov[0].iov_base : NULL;
	struct ftcp_sockaddr fa;
	uint32_t oflags = 0, full = 0, seq;
	int rc;

	if (len > UDP_MAX)
		len = UDP_MAX;
	if (iovcnt > 1) {
		scatter = malloc(len ? len : 1);
		if (!scatter) {
			errno = ENOBUFS;
			return -1;
		}
		buf = scatter;
	}
	for (;;) {
		pl_lock();
		seq = atomic_load(&pl.ev_seq);
		rc = ftcp_recvfrom(pl.stack, s->h, buf, (uint32_t)len,
		                   (flags & MSG_PEEK) ? FTCP_MSG_PEEK : 0, &fa, &oflags, &full);
		/* A datagram that was waiting needs no pass to take it. */
		if (rc >= 0)
			pl_unlock_deferred();
		else
			pl_unlock();
		if (rc != -FTCP_EAGAIN)
			break;
		if (io_wait(s, nonblock, seq, deadline) < 0) {
			rc = -errno;
			break;
		}
	}
	if (rc >= 0) {
		if (scatter) {
			size_t off = 0;
			int i;
			for (i = 0; i < iovcnt && off < (size_t)rc; i++) {
				size_t n = iov[i].iov_len < (size_t)rc - off ? iov[i].iov_len : (size_t)rc - off;
				memcpy(iov[i].iov_base, scatter + off, n);
				off += n;
			}
		}
		pl_addr_out(s->domain, &fa, from, fromlen);
		if (msg_flags)
			*msg_flags = (oflags & FTCP_MSG_TRUNC) ? MSG_TRUNC : 0;
		if ((flags & MSG_TRUNC) && (oflags & FTCP_MSG_TRUNC))
			rc = (int)full;
	}
	free(scatter);
	return rc < 0 ? pl_errno(rc) : rc;
}

static ssize_t tcp_recv(struct pl_sock *s, const struct iovec *iov, int iovcnt, int flags)
{
	bool peek = flags & MSG_PEEK;
	bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	bool waitall = (flags & MSG_WAITALL) && !peek && !nonblock;
	int64_t deadline = deadline_us(s->rcvtimeo_us);
	size_t total = iov_total(iov, iovcnt), got = 0, off = 0;
	int i = 0, rc = 0;
	bool eof = false;
	uint32_t seq;

	if (flags & MSG_OOB) {
		errno = EINVAL; /* no urgent data is ever kept */
		return -1;
	}
	if (total == 0)
		return 0;
	for (;;) {
		pl_lock();
		seq = atomic_load(&pl.ev_seq);
		while (i < iovcnt) {
			size_t n = iov[i].iov_len - off;
			if (n > 1u << 30)
				n = 1u << 30;
			if (!n) {
				i++;
				off = 0;
				continue;
			}
			rc = ftcp_recv(pl.stack, s->h, (uint8_t *)iov[i].iov_base + off, (uint32_t)n,
			               peek ? FTCP_MSG_PEEK : 0);
			eof = rc == 0;
			if (rc <= 0)
				break;
			got += (size_t)rc;
			off += (size_t)rc;
			if (peek || (size_t)rc < n)
				break; /* a peek reads from the start each time */
			i++;
			off = 0;
		}
		/* Data that was waiting needs no pass to take it; the window
		 * update goes with the program's next call. */
		if (got && (!waitall || got == total)) {
			pl_unlock_deferred();
			return (ssize_t)got;
		}
		pl_unlock();
		if (eof)
			return (ssize_t)got; /* end of stream */
		if (rc < 0 && rc != -FTCP_EAGAIN) {
			if (got)
				return (ssize_t)got;
			return pl_errno(rc);
		}
		if (io_wait(s, nonblock, seq, deadline) < 0)
			return got ? (ssize_t)got : -1;
	}
}

static ssize_t pl_recvv(struct pl_sock *s, const struct iovec *iov, int iovcnt, int flags,
                        struct sockaddr *from, socklen_t *fromlen, int *msg_flags)
{
	if (iovcnt < 0 || iovcnt > IOV_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (msg_flags)
		*msg_flags = 0;
	if (s->type == SOCK_DGRAM)
		return udp_recv(s, iov, iovcnt, flags, from, fromlen, msg_flags);
	if (from && fromlen) {
		struct ftcp_sockaddr fa;
		pl_lock();
		if (ftcp_getpeername(pl.stack, s->h, &fa) == 0)
			pl_addr_out(s->domain, &fa, from, fromlen);
		else
			*fromlen = 0;
		pl_unlock();
	}
	return tcp_recv(s, iov, iovcnt, flags);
}

/* ---- the libc entry points ---- */

PL_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct pl_sock *s = pl_sock_of(fd);
	struct iovec v = {buf, len};

	if (!s)
		return pl_real.read(fd, buf, len);
	return pl_recvv(s, &v, 1, 0, NULL, NULL, NULL);
}

PL_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

PL_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct pl_sock *s = pl_sock_of(fd);
	struct iovec v = {(void *)buf, len};

	if (!s)
		return pl_real.write(fd, buf, len);
	return pl_sendv(s, &v, 1, 0, NULL, 0);
}

PL_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct pl_sock *s = pl_sock_of(fd);

	if (!s)
		return pl_real.readv(fd, iov, iovcnt);
	return pl_recvv(s, iov, iovcnt, 0, NULL, NULL, NULL);
}

PL_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct pl_sock *s = pl_sock_of(fd);

	if (!s)
		return pl_real.writev(fd, iov, iovcnt);
	return pl_sendv(s, iov, iovcnt, 0, NULL, 0);
}

PL_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct pl_sock *s = pl_sock_of(fd);
	struct iovec v = {(void *)buf, len};

	if (!s)
		return pl_real.send(fd, buf, len, flags);
	return pl_sendv(s, &v, 1, flags, NULL, 0);
}

PL_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
                         socklen_t tolen)
{
	struct pl_sock *s = pl_sock_of(fd);
	struct iovec v = {(void *)buf, len};

	if (!s)
		return pl_real.sendto(fd, buf, len, flags, to, tolen);
	return pl_sendv(s, &v, 1, flags, s->type == SOCK_DGRAM ? to : NULL, tolen);
}

PL_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct pl_sock *s = pl_sock_of(fd);

	if (!s)
		return pl_real.sendmsg(fd, m, flags);
	if (!m) {
		errno = EFAULT;
		return -1;
	}
	return pl_sendv(s, m->msg_iov, (int)m->msg_iovlen, flags,
	                s->type == SOCK_DGRAM ? m->msg_name : NULL, m->msg_namelen);
}

PL_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	struct pl_sock *s = pl_sock_of(fd);
	unsigned int i;
	ssize_t r;

	if (!s)
		return pl_real.sendmmsg(fd, v, n, flags);
	for (i = 0; i < n; i++) {
		r = sendmsg(fd, &v[i].msg_hdr, i ? flags | MSG_DONTWAIT : flags);
		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
	}
	return (int)n;
}

PL_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct pl_sock *s = pl_sock_of(fd);
	struct iovec v = {buf, len};

	if (!s)
		return pl_real.recv(fd, buf, len, flags);
	return pl_recvv(s, &v, 1, flags, NULL, NULL, NULL);
}

PL_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

PL_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                           socklen_t *fromlen)
{
	struct pl_sock *s = pl_sock_of(fd);
	struct iovec v = {buf, len};

	if (!s)
		return pl_real.recvfrom(fd, buf, len, flags, from, fromlen);
	return pl_recvv(s, &v, 1, flags, from, fromlen, NULL);
}

PL_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                                 struct sockaddr *from, socklen_t *fromlen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

PL_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	struct pl_sock *s = pl_sock_of(fd);
	socklen_t nl;
	ssize_t r;
	int mf = 0;

	if (!s)
		return pl_real.recvmsg(fd, m, flags);
	if (!m) {
		errno = EFAULT;
		return -1;
	}
	nl = m->msg_namelen;
	r = pl_recvv(s, m->msg_iov, (int)m->msg_iovlen, flags, m->msg_name, m->msg_name ? &nl : NULL, &mf);
	if (r >= 0) {
		if (m->msg_name)
			m->msg_namelen = nl;
		m->msg_controllen = 0; /* no ancillary data */
		m->msg_flags = mf;
	}
	return r;
}

PL_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *tmo)
{
	struct pl_sock *s = pl_sock_of(fd);
	unsigned int i;
	ssize_t r;

	if (!s)
		return pl_real.recvmmsg(fd, v, n, flags, tmo);
	for (i = 0; i < n; i++) {
		/* The first may wait; the rest take what is already there. */
		r = recvmsg(fd, &v[i].msg_hdr, i ? flags | MSG_DONTWAIT : flags & ~MSG_WAITFORONE);
		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
	}
	return (int)n;
}

/* File to an offloaded socket: read a chunk, send it, until count or the
 * socket would block. */
/* Both names: <sys/sendfile.h> renames sendfile under
 * _FILE_OFFSET_BITS=64, and programs call either. */
PL_EXPORT ssize_t pl_sendfile(int out_fd, int in_fd, off_t *offset, size_t count) __asm__("sendfile");
PL_EXPORT ssize_t pl_sendfile64(int out_fd, int in_fd, off_t *offset, size_t count) __asm__("sendfile64");

PL_EXPORT ssize_t pl_sendfile64(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return pl_sendfile(out_fd, in_fd, offset, count);
}

PL_EXPORT ssize_t pl_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	struct pl_sock *s = pl_sock_of(out_fd);
	size_t done = 0, chunk = 256 << 10;
	uint8_t *buf;
	off_t pos = offset ? *offset : 0;

	if (!s)
		return pl_real.sendfile(out_fd, in_fd, offset, count);
	if (count < chunk)
		chunk = count ? count : 1;
	buf = malloc(chunk);
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	while (done < count) {
		size_t want = count - done < chunk ? count - done : chunk;
		ssize_t n = offset ? pread(in_fd, buf, want, pos) : pl_real.read(in_fd, buf, want);
		struct iovec v;
		ssize_t w;

		if (n <= 0) {
			if (n < 0 && !done) {
				free(buf);
				return -1;
			}
			break;
		}
		v.iov_base = buf;
		v.iov_len = (size_t)n;
		w = pl_sendv(s, &v, 1, MSG_NOSIGNAL, NULL, 0);
		if (w < 0) {
			if (!done) {
				free(buf);
				return -1;
			}
			break;
		}
		done += (size_t)w;
		pos += w;
		if (w < n) {
			/* The socket took part of it: put the file position back. */
			if (!offset)
				lseek(in_fd, w - n, SEEK_CUR);
			break;
		}
	}
	if (offset)
		*offset = pos;
	free(buf);
	return (ssize_t)done;
}
