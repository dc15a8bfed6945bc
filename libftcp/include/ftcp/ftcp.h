/*
 * ftcp.h — libftcp's core API: configure and start a stack on a device,
 * drive it with ftcp_stack_poll, and use sockets through handles and event
 * callbacks.
 *
 * The core allocates nothing: ftcp_stack_memory_size tells how much memory a
 * configuration needs and ftcp_stack_init carves every object from the block
 * the caller hands in. There is no global state; several stacks can run in
 * one process. A stack is not thread-safe: one thread drives it (the one
 * calling ftcp_stack_poll) and makes every call on it.
 *
 * Time is an argument: the driver passes a monotonic clock in microseconds
 * to init and to every poll, so tests run on a virtual clock.
 *
 * Events: the receive path only records event bits; callbacks run in the
 * last step of ftcp_stack_poll, where a callback may call any socket
 * function, including ftcp_close on its own socket.
 */
#ifndef FTCP_H
#define FTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ftcp_counters.h"
#include "ftcp_device.h"
#include "ftcp_errno.h"
#include "ftcp_opts.h"

struct ftcp_stack;

struct ftcp_config {
	/* Interface address, prefix length and default gateway, IPv4 in host
	 * byte order. gateway 0 means "no default route": only the directly
	 * attached subnet is reachable. */
	uint32_t ip_addr;
	uint8_t prefix_len;
	uint32_t gateway;

	/* Secret that keys the demultiplexing hash and seeds the PRNG
	 * (ephemeral ports, jitter). Set it from a good random source; a
	 * fixed value makes runs reproducible. */
	uint64_t secret;

	uint32_t mtu;

	uint32_t max_sockets;
	uint32_t rx_buffers;
	uint32_t rx_buffer_size;
	uint32_t tx_fifo_size;
	uint32_t arp_hold_frames;
	uint32_t arp_hold_per_neighbour;
	uint32_t arp_cache_size;
	uint64_t arp_reachable_us;
	uint64_t arp_retry_us;
	uint32_t arp_retries;
	uint32_t arp_announce;
	uint32_t demux_buckets;
	uint8_t ip_ttl;
	uint32_t icmp_rate;
	uint32_t icmp_burst;
	uint16_t rx_burst;
	uint16_t tx_burst;
	uint16_t ephemeral_lo;
	uint16_t ephemeral_hi;

	/* TCP */
	uint32_t tx_buffers;
	uint32_t tx_buffer_size;
	uint32_t tcp_rto_min_us, tcp_rto_max_us, tcp_rto_init_us;
	uint32_t tcp_syn_retries, tcp_retries;
	uint32_t tcp_delack_us;
	uint32_t tcp_msl_us;
	uint32_t tcp_fin_wait2_us;
	uint32_t tcp_keepidle_s, tcp_keepintvl_s, tcp_keepcnt;
	uint32_t tcp_syn_backlog;
	uint32_t tcp_challenge_ack_limit;
	bool tcp_window_scaling, tcp_timestamps, tcp_sack, tcp_syncookies;
	const char *tcp_congestion;  /* "cubic" (default) or "newreno" */
	/* Largest frame of new data handed to a device that segments TCP
	 * itself (FTCP_DEV_TX_TSO), in payload bytes, at most 64000; 0: never
	 * send more than one segment per frame. */
	uint32_t tso_max_bytes;
};

/* Fill *c with the ftcp_opts.h defaults (address fields zero). */
void ftcp_config_defaults(struct ftcp_config *c);
/* 0, or -FTCP_EINVAL with *why naming the setting and what it must be. */
int ftcp_config_validate(const struct ftcp_config *c, const char **why);

/* Bytes ftcp_stack_init needs for this configuration (0 if invalid). */
size_t ftcp_stack_memory_size(const struct ftcp_config *c);
/* Start a stack on dev with mem (aligned to 8, ftcp_stack_memory_size
 * bytes). Sends the gratuitous ARP announcements. On failure returns a
 * negative code and, if why is not NULL, a message naming the cause. */
int ftcp_stack_init(struct ftcp_stack **out, const struct ftcp_config *c,
                    struct ftcp_device *dev, void *mem, size_t mem_len,
                    uint64_t now_us, const char **why);

/* One pass of the four-step loop: (1) receive and process a burst,
 * (2) run expired timers, (3) transmit queued frames, (4) deliver socket
 * events. Returns how many frames and events it handled (0 = idle). */
int ftcp_stack_poll(struct ftcp_stack *s, uint64_t now_us);
/* When the earliest timer is due (UINT64_MAX if none): a driver with
 * nothing to do may sleep until then. */
uint64_t ftcp_stack_next_deadline(const struct ftcp_stack *s);

void ftcp_stack_counters(const struct ftcp_stack *s, struct ftcp_counters *out);

/* Pool occupancy, for stack dumps and leak checks in tests. */
struct ftcp_pool_stats {
	uint32_t sockets_in_use, sockets_max;
	uint32_t rx_buffers_in_use, rx_buffers_max;
	uint32_t tx_buffers_in_use, tx_buffers_max;
	uint32_t timers_queued;
	uint32_t tx_fifo_used;
	uint32_t arp_entries_in_use, arp_held_frames;
	uint64_t socket_alloc_failures, rx_buffer_alloc_failures;
};
void ftcp_stack_pool_stats(const struct ftcp_stack *s, struct ftcp_pool_stats *out);

/* ---- neighbours and ping ---- */

/* 0 and the MAC when ip's ARP entry is usable; -FTCP_EINPROGRESS while it
 * resolves, -FTCP_EHOSTUNREACH if unknown. Does not start resolution. */
int ftcp_arp_lookup(const struct ftcp_stack *s, uint32_t ip, struct ftcp_mac *mac);

typedef void (*ftcp_echo_cb)(struct ftcp_stack *s, uint32_t from, uint16_t ident,
                             uint16_t seq, const uint8_t *data, uint32_t len,
                             void *user);
/* Called (from ftcp_stack_poll) for each echo reply received. */
void ftcp_set_echo_reply_cb(struct ftcp_stack *s, ftcp_echo_cb cb, void *user);
/* Send an ICMP echo request. 0, or -FTCP_ENETUNREACH / -FTCP_EMSGSIZE /
 * -FTCP_EAGAIN. */
int ftcp_ping(struct ftcp_stack *s, uint32_t dst, uint16_t ident, uint16_t seq,
              const void *data, uint32_t len);

/* ---- sockets ---- */

/* A socket handle: >= 0, carries a generation so a handle kept after
 * ftcp_close is refused (-FTCP_EBADF) even when the slot is reused. */
typedef int32_t ftcp_sock_t;

struct ftcp_sockaddr {
	uint32_t addr; /* IPv4, host order; 0 = any */
	uint16_t port; /* host order; 0 = any / ephemeral */
};

enum ftcp_event {
	FTCP_EV_READABLE = 1u << 0, /* data, a datagram, end of stream, or a
	                               connection to accept */
	FTCP_EV_WRITABLE = 1u << 1, /* connected, or a send that returned
	                               EAGAIN can go on */
	FTCP_EV_ERROR = 1u << 2,    /* ftcp_sock_error has a pending error */
	FTCP_EV_CLOSED = 1u << 3,   /* the connection is over (both directions
	                               closed, reset or timed out) */
	FTCP_EV_RDHUP = 1u << 4,    /* the peer closed its sending side */
};

typedef void (*ftcp_event_cb)(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t events,
                              void *user);

/* Open a UDP socket; cb (may be NULL) receives its events. Returns the
 * handle, or -FTCP_EMFILE / -FTCP_ENOBUFS. */
ftcp_sock_t ftcp_udp_open(struct ftcp_stack *s, ftcp_event_cb cb, void *user);

/* Bind to a local address (0 or the stack's) and port (0 = ephemeral). */
int ftcp_bind(struct ftcp_stack *s, ftcp_sock_t sock, const struct ftcp_sockaddr *a);
/* UDP: set the default destination and accept datagrams only from it;
 * binds an ephemeral port first if needed. addr 0 and port 0 disconnect. */
int ftcp_connect(struct ftcp_stack *s, ftcp_sock_t sock, const struct ftcp_sockaddr *a);

enum ftcp_msg_flags {
	FTCP_MSG_PEEK = 1u << 0,  /* recv: leave the data queued */
	FTCP_MSG_TRUNC = 1u << 1, /* recv result: the datagram was longer */
};

/* Send one datagram to *to (NULL: the connected peer). Returns len, or
 * -FTCP_EMSGSIZE, -FTCP_EAGAIN (the TX fifo is full: wait for WRITABLE),
 * -FTCP_EDESTADDRREQ, -FTCP_ENETUNREACH, or a pending ICMP error. */
int ftcp_sendto(struct ftcp_stack *s, ftcp_sock_t sock, const void *buf, uint32_t len,
                const struct ftcp_sockaddr *to);
/* Receive one datagram: returns the bytes copied (the rest of a longer
 * datagram is dropped and FTCP_MSG_TRUNC set in *out_flags, whose full size
 * is then in *full_len if not NULL), or -FTCP_EAGAIN. flags: FTCP_MSG_PEEK. */
int ftcp_recvfrom(struct ftcp_stack *s, ftcp_sock_t sock, void *buf, uint32_t len,
                  uint32_t flags, struct ftcp_sockaddr *from, uint32_t *out_flags,
                  uint32_t *full_len);

int ftcp_close(struct ftcp_stack *s, ftcp_sock_t sock);

/* UDP: let sockets that all say so bind the same port (SO_REUSEADDR); a
 * datagram goes to a connected socket whose peer matches, else to one
 * bound socket. Set before ftcp_bind. */
int ftcp_udp_set_reuseaddr(struct ftcp_stack *s, ftcp_sock_t sock, bool on);
/* TCP and UDP (SO_REUSEPORT): sockets that all say so bind the same address
 * and port; new connections (SYNs to listeners) and datagrams from a peer
 * not connected to one of them go to the member a keyed hash of the peer's
 * address and port picks. Set before ftcp_bind (-FTCP_EINVAL after). */
int ftcp_set_reuseport(struct ftcp_stack *s, ftcp_sock_t sock, bool on);

int ftcp_getsockname(const struct ftcp_stack *s, ftcp_sock_t sock, struct ftcp_sockaddr *a);
int ftcp_getpeername(const struct ftcp_stack *s, ftcp_sock_t sock, struct ftcp_sockaddr *a);

/* The pending asynchronous error (as a negative code) and clear it, or 0
 * (SO_ERROR). */
int ftcp_sock_error(struct ftcp_stack *s, ftcp_sock_t sock);
/* Current readiness as FTCP_EV_* bits (level-triggered view), or a
 * negative code for a bad handle. */
int ftcp_sock_readiness(const struct ftcp_stack *s, ftcp_sock_t sock);
/* UDP: bytes of the next datagram waiting; TCP: bytes readable (FIONREAD). */
int ftcp_sock_rx_pending(const struct ftcp_stack *s, ftcp_sock_t sock);

/* ---- TCP ---- */

enum ftcp_tcp_state {
	FTCP_TCP_CLOSED = 0,
	FTCP_TCP_LISTEN,
	FTCP_TCP_SYN_SENT,
	FTCP_TCP_SYN_RECEIVED,
	FTCP_TCP_ESTABLISHED,
	FTCP_TCP_FIN_WAIT_1,
	FTCP_TCP_FIN_WAIT_2,
	FTCP_TCP_CLOSE_WAIT,
	FTCP_TCP_CLOSING,
	FTCP_TCP_LAST_ACK,
	FTCP_TCP_TIME_WAIT,
};

const char *ftcp_tcp_state_name(int state);
/* A TCP socket's state (enum ftcp_tcp_state), -FTCP_EBADF, or
 * -FTCP_EOPNOTSUPP for a UDP socket. */
int ftcp_tcp_state(const struct ftcp_stack *s, ftcp_sock_t sock);

/* Open a TCP socket (CLOSED). Returns the handle, -FTCP_EMFILE when the
 * socket table is full. Buffers are taken at connect/accept. */
ftcp_sock_t ftcp_tcp_open(struct ftcp_stack *s, ftcp_event_cb cb, void *user);
/* TCP: ftcp_connect starts the handshake and returns -FTCP_EINPROGRESS;
 * WRITABLE reports success, ERROR (with ftcp_sock_error) failure. */

/* Listen with an accept queue of backlog connections (at least 1). */
int ftcp_listen(struct ftcp_stack *s, ftcp_sock_t sock, int backlog);
/* Take an established connection; cb/user receive its events. Returns the
 * new handle, or -FTCP_EAGAIN when none is waiting. */
ftcp_sock_t ftcp_accept(struct ftcp_stack *s, ftcp_sock_t listener, ftcp_event_cb cb,
                        void *user, struct ftcp_sockaddr *peer);

/* Queue up to len bytes; returns how many were queued (possibly fewer),
 * -FTCP_EAGAIN when none fit (WRITABLE follows), -FTCP_ENOTCONN,
 * -FTCP_EPIPE after shutdown for writing or the peer's reset. */
int ftcp_send(struct ftcp_stack *s, ftcp_sock_t sock, const void *buf, uint32_t len);
/* Read up to len bytes (FTCP_MSG_PEEK leaves them queued); 0 at end of
 * stream, -FTCP_EAGAIN when nothing is there yet, or the pending error. */
int ftcp_recv(struct ftcp_stack *s, ftcp_sock_t sock, void *buf, uint32_t len, uint32_t flags);

enum { FTCP_SHUT_RD = 1, FTCP_SHUT_WR = 2, FTCP_SHUT_RDWR = 3 };
int ftcp_shutdown(struct ftcp_stack *s, ftcp_sock_t sock, int how);
/* Reset the connection (RST) and free the socket at once. */
int ftcp_abort(struct ftcp_stack *s, ftcp_sock_t sock);
/* (ftcp_close on TCP: an orderly close — the FIN goes after queued data and
 * the connection finishes in the background; with unread received data, or
 * linger 0, it resets instead, as RFC 2525 2.17 and Linux do.) */

enum ftcp_sockopt {
	FTCP_SO_NODELAY,   /* bool: Nagle off */
	FTCP_SO_KEEPALIVE, /* bool */
	FTCP_SO_KEEPIDLE,  /* seconds */
	FTCP_SO_KEEPINTVL, /* seconds */
	FTCP_SO_KEEPCNT,
	FTCP_SO_LINGER,    /* seconds, -1 = off; 0 = close resets */
	FTCP_SO_RCVBUF,    /* bytes, capped by the receive buffer */
	FTCP_SO_SNDBUF,    /* bytes, capped by the send buffer */
	FTCP_SO_MAXSEG,    /* send MSS cap (before the connection) */
};
int ftcp_setsockopt(struct ftcp_stack *s, ftcp_sock_t sock, int opt, int value);
int ftcp_getsockopt(const struct ftcp_stack *s, ftcp_sock_t sock, int opt, int *value);
/* Congestion control by name ("cubic", "newreno"); -FTCP_EINVAL for an
 * unknown name. */
int ftcp_set_congestion(struct ftcp_stack *s, ftcp_sock_t sock, const char *name);
const char *ftcp_get_congestion(const struct ftcp_stack *s, ftcp_sock_t sock);

enum ftcp_tcp_info_opts {
	FTCP_TCPI_OPT_TIMESTAMPS = 1,
	FTCP_TCPI_OPT_SACK = 2,
	FTCP_TCPI_OPT_WSCALE = 4,
};

/* A TCP_INFO-like snapshot. */
struct ftcp_tcp_info {
	uint8_t state;            /* enum ftcp_tcp_state */
	uint8_t options;          /* enum ftcp_tcp_info_opts */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t retransmits;      /* consecutive timeouts now */
	uint8_t backoff;
	uint8_t in_recovery;
	uint32_t rto_us, rtt_us, rttvar_us;
	uint32_t snd_mss, rcv_mss;
	uint32_t snd_cwnd, snd_ssthresh; /* bytes */
	uint32_t bytes_in_flight, unacked, sacked;
	uint32_t snd_wnd, rcv_wnd;
	uint32_t total_retrans, fast_retrans, timeouts;
	uint64_t bytes_acked, bytes_received, segs_in, segs_out;
	uint32_t send_queue, recv_queue; /* bytes queued, not yet acked / read */
};
int ftcp_tcp_info(const struct ftcp_stack *s, ftcp_sock_t sock, struct ftcp_tcp_info *info);

#endif
