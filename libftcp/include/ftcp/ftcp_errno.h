/*
 * ftcp_errno.h — error codes returned by the core.
 *
 * Calls return 0 or a positive count on success and a negative FTCP_E* code
 * on failure. The codes carry the numbers Linux gives the errno of the same
 * name, so the BSD layer hands them to a program unchanged (preload/ checks
 * this at compile time against <errno.h>); the core itself includes no libc
 * header to get them.
 */
#ifndef FTCP_ERRNO_H
#define FTCP_ERRNO_H

enum ftcp_err {
	FTCP_OK = 0,
	FTCP_EBADF = 9,           /* no such socket handle, or a stale one */
	FTCP_EAGAIN = 11,         /* would block: buffer full or empty */
	FTCP_ENOMEM = 12,         /* configured memory too small */
	FTCP_EINVAL = 22,         /* bad argument or configuration */
	FTCP_EMFILE = 24,         /* socket table full */
	FTCP_EPIPE = 32,          /* writing to a socket shut for writing */
	FTCP_EDESTADDRREQ = 89,   /* send on an unconnected socket without address */
	FTCP_EMSGSIZE = 90,       /* datagram larger than the path allows */
	FTCP_EPROTOTYPE = 91,     /* operation does not fit the socket's protocol */
	FTCP_EOPNOTSUPP = 95,     /* operation not supported */
	FTCP_EADDRINUSE = 98,     /* local address/port already bound */
	FTCP_EADDRNOTAVAIL = 99,  /* no such local address, or no free port */
	FTCP_ENETUNREACH = 101,   /* no route to the network */
	FTCP_ECONNABORTED = 103,  /* connection aborted locally */
	FTCP_ECONNRESET = 104,    /* connection reset by the peer */
	FTCP_ENOBUFS = 105,       /* a pool ran out */
	FTCP_EISCONN = 106,       /* already connected */
	FTCP_ENOTCONN = 107,      /* not connected */
	FTCP_ETIMEDOUT = 110,     /* peer did not answer in time */
	FTCP_ECONNREFUSED = 111,  /* peer refused (RST or ICMP port unreachable) */
	FTCP_EHOSTUNREACH = 113,  /* neighbour did not answer ARP */
	FTCP_EALREADY = 114,      /* operation already in progress */
	FTCP_EINPROGRESS = 115,   /* operation started, completes later */
};

/* A short English name for a code (positive or negative), never NULL. */
const char *ftcp_strerror(int err);

#endif
