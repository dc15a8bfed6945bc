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
	FTCP_EV_READABLE = 1u << 0, /* data (or a datagram) can be read */
	FTCP_EV_WRITABLE = 1u << 1, /* a send that returned EAGAIN can go on */
	FTCP_EV_ERROR = 1u << 2,    /* ftcp_sock_error has a pending error */
	FTCP_EV_CLOSED = 1u << 3,   /* the peer closed or the socket died */
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

int ftcp_getsockname(const struct ftcp_stack *s, ftcp_sock_t sock, struct ftcp_sockaddr *a);
int ftcp_getpeername(const struct ftcp_stack *s, ftcp_sock_t sock, struct ftcp_sockaddr *a);

/* The pending asynchronous error (as a negative code) and clear it, or 0
 * (SO_ERROR). */
int ftcp_sock_error(struct ftcp_stack *s, ftcp_sock_t sock);
/* Current readiness as FTCP_EV_* bits (level-triggered view), or a
 * negative code for a bad handle. */
int ftcp_sock_readiness(const struct ftcp_stack *s, ftcp_sock_t sock);
/* Bytes of the next datagram waiting, or 0 (FIONREAD for UDP). */
int ftcp_sock_rx_pending(const struct ftcp_stack *s, ftcp_sock_t sock);

#endif
