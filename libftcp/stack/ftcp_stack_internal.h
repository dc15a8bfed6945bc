/*
 * ftcp_stack_internal.h — the stack instance and the calls protocol modules
 * make on each other. Not installed: users see only include/ftcp/.
 *
 * Receive path:  ftcp_stack_poll -> ftcp_eth_input -> ftcp_arp_input
 *                                                  -> ftcp_ipv4_input -> ftcp_icmp_input
 *                                                                     -> ftcp_udp_input -> socket fifo
 * Transmit path: ftcp_udp_sendto / ftcp_icmp_* -> ftcp_ip_begin (route, ARP,
 *                reserve) -> L4 header + payload -> ftcp_ip_finish -> TX fifo
 *                (or an ARP hold slot) -> ftcp_tx_flush -> device
 */
#ifndef FTCP_STACK_INTERNAL_H
#define FTCP_STACK_INTERNAL_H

#include "ftcp/ftcp.h"
#include "base/ftcp_fifo.h"
#include "base/ftcp_heap.h"
#include "base/ftcp_pool.h"
#include "base/ftcp_rand.h"
#include "base/ftcp_siphash.h"
#include "wire/ftcp_wire.h"
#include "stack/ftcp_timer.h"
#include "tcp/ftcp_tcp.h"

#define FTCP_NONE (-1)
#define FTCP_SOCK_IDX_BITS 20
#define FTCP_SOCK_IDX_MASK ((1u << FTCP_SOCK_IDX_BITS) - 1)
#define FTCP_SOCK_GEN_MASK 0x7ffu /* 11 bits: handles stay positive int32 */
#define FTCP_MAX_SOCKETS_LIMIT (1u << FTCP_SOCK_IDX_BITS)
#define FTCP_TIMERS_PER_SOCKET 4

/* ---- ARP ---- */
enum ftcp_arp_state {
	FTCP_ARP_FREE = 0,
	FTCP_ARP_INCOMPLETE, /* request sent, frames may be held */
	FTCP_ARP_REACHABLE,  /* answer trusted until the timer fires */
	FTCP_ARP_PROBE,      /* still used after expiry: being refreshed */
};

struct ftcp_arp_entry {
	uint32_t ip;
	struct ftcp_mac mac;
	uint8_t state;
	uint8_t tries_left;
	uint8_t used;        /* looked up since the last confirmation */
	uint8_t held;        /* frames in hold slots */
	int32_t hold_head, hold_tail;
	int32_t hash_next;
	struct ftcp_timer timer;
};

/* A frame parked while its next hop resolves. */
struct ftcp_hold_slot {
	int32_t next;
	uint32_t len;
	uint32_t tx_flags;
	uint8_t l3_len, l4_len;
	uint8_t frame[]; /* Ethernet frame, destination MAC filled on release */
};

/* ---- frames in the TX fifo ---- */
struct ftcp_frame_desc {
	uint32_t len;      /* frame bytes following the descriptor */
	uint32_t tx_flags; /* enum ftcp_tx_flags */
	uint8_t l3_len, l4_len;
	uint8_t pad[6];
};

/* ---- sockets ---- */
enum ftcp_sock_flags {
	FTCP_SOCK_BOUND = 1u << 0,
	FTCP_SOCK_CONNECTED = 1u << 1,
	FTCP_SOCK_IN_PORT_TABLE = 1u << 2,
	FTCP_SOCK_IN_CONN_TABLE = 1u << 3,
	FTCP_SOCK_EV_QUEUED = 1u << 4,
	FTCP_SOCK_TX_BLOCKED = 1u << 5, /* a send got EAGAIN: report WRITABLE */
	FTCP_SOCK_REUSEADDR = 1u << 6,  /* UDP: may share its port with others that say so */
	FTCP_SOCK_REUSEPORT = 1u << 7,  /* shares its port with others that say so;
	                                   new flows are spread over the group */
};

/* A received datagram in a UDP socket's fifo. */
struct ftcp_udp_dgram {
	uint32_t src;
	uint16_t sport;
	uint16_t len;
};

struct ftcp_socket {
	uint16_t gen;
	uint8_t proto;
	uint8_t flags;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	int32_t port_next, conn_next, ev_next;
	uint32_t ev_pending;
	int32_t err;          /* pending asynchronous error, negative code */
	ftcp_event_cb cb;
	void *user;
	int32_t rxbuf;        /* index in the rx buffer pool, or FTCP_NONE */
	struct ftcp_fifo rxq; /* UDP: received datagrams */
	struct ftcp_tcb tcb;  /* TCP */
};

/* ---- the stack ---- */
struct ftcp_stack {
	struct ftcp_config cfg;
	struct ftcp_device *dev;
	uint64_t now;
	struct ftcp_counters ctr;
	struct ftcp_rand rng;

	uint32_t ip, netmask, subnet_bcast;
	struct ftcp_mac mac;
	uint32_t mtu;
	uint16_t ip_id;

	struct ftcp_fifo txq;
	struct ftcp_rx_frame *rx_frames;   /* rx_burst descriptors */
	struct ftcp_tx_frame *tx_frames;   /* tx_burst descriptors */

	struct ftcp_heap timers;

	struct ftcp_arp_entry *arp;
	int32_t *arp_buckets;
	uint32_t arp_bucket_mask;
	uint32_t arp_in_use;
	struct ftcp_pool hold_pool;
	uint32_t hold_slot_size;
	struct ftcp_timer announce_timer;
	uint32_t announce_left;

	struct ftcp_pool sock_pool;
	struct ftcp_pool rxbuf_pool;
	struct ftcp_pool txbuf_pool;
	int32_t *port_buckets, *conn_buckets;
	uint32_t demux_mask;
	int32_t conn_hint; /* the connection the last lookup found, or FTCP_NONE */
	/* TCP's one-step input (ftcp_tcp_input_fast): the hinted connection's
	 * addresses and ports as its segments carry them (source first), for
	 * a compare of raw bytes; valid while tcp_fast_idx == conn_hint. */
	int32_t tcp_fast_idx;
	uint64_t tcp_fast_addrs;
	uint32_t tcp_fast_ports;
	int32_t ev_head, ev_tail;
	uint32_t tx_blocked;

	/* TCP: connections waiting for step 3, the frame batch (headers in
	 * per-frame slots, payload referenced), keys, limits. */
	int32_t tcp_out_head, tcp_out_tail;
	int32_t tcp_pin_head; /* connections whose acked bytes a device still pins */
	/* Orphans in TIME_WAIT in the order they got there: a full socket
	 * pool evicts the head without a walk over every socket. */
	int32_t tcp_tw_head, tcp_tw_tail;
	struct ftcp_tx_frame *tcp_frames;
	uint8_t *tcp_hdrs;
	uint16_t tcp_nframes;
	/* The receive window held for a run of segments of one connection
	 * (ftcp_tcp_output's send loop): valid for tcp_wnd_idx. */
	bool tcp_wnd_hold;
	int32_t tcp_wnd_idx;
	uint32_t tcp_wnd;
	uint32_t tcp_zombies; /* closed, waiting for the device to release pins */
	struct ftcp_siphash_key isn_key, cookie_key;
	uint8_t tcp_cookie_wscale;
	const struct ftcp_cc_ops *tcp_cc_default;
	uint64_t chack_window_us;
	uint32_t chack_count;

	/* ICMP error rate limit (token bucket, in millitokens). */
	uint64_t icmp_tokens, icmp_last_us;
	ftcp_echo_cb echo_cb;
	void *echo_user;
};

static inline struct ftcp_socket *ftcp_sock_at(const struct ftcp_stack *s, int32_t idx)
{
	return ftcp_pool_obj(&s->sock_pool, idx);
}

/* ---- module entry points ---- */
uint32_t ftcp_config_max_frame(const struct ftcp_config *c);

void ftcp_eth_input(struct ftcp_stack *s, const uint8_t *frame, uint32_t len, uint32_t rx_flags);
/* Added to rx_flags by ftcp_eth_input, above the device's FTCP_RX_* bits:
 * the frame came as a link-layer broadcast, so it must never draw an ICMP
 * error (RFC 1122 3.2.2), whatever its IP destination. */
#define FTCP_RX_L2_BCAST (1u << 31)

void ftcp_arp_init(struct ftcp_stack *s);
void ftcp_arp_input(struct ftcp_stack *s, const uint8_t *pkt, uint32_t len);
void ftcp_arp_announce(struct ftcp_stack *s);
uint32_t ftcp_arp_entries_in_use(const struct ftcp_stack *s);

/* An outgoing IPv4 packet being built in place. */
struct ftcp_ip_tx {
	uint8_t *frame;   /* Ethernet header start */
	uint8_t *l4;      /* where the caller writes the L4 header + payload */
	uint32_t dst;
	uint32_t l4_len;
	uint8_t proto;
	bool held;        /* in an ARP hold slot rather than the TX fifo */
	struct ftcp_arp_entry *neigh; /* for held frames */
	struct ftcp_hold_slot *slot;
};

/* Route dst, resolve (or start resolving) the next hop and reserve room for
 * an l4_len-byte payload. 0, or -FTCP_ENETUNREACH / -FTCP_EMSGSIZE /
 * -FTCP_EAGAIN (TX fifo full) / -FTCP_ENOBUFS (no ARP entry or hold slot). */
int ftcp_ip_begin(struct ftcp_stack *s, uint32_t dst, uint8_t proto, uint32_t l4_len,
                  struct ftcp_ip_tx *tx);
/* Write the IPv4 and Ethernet headers and queue the frame. tx_flags may
 * carry FTCP_TX_UDP_CKSUM; IP checksum offload is decided here. */
void ftcp_ip_finish(struct ftcp_stack *s, struct ftcp_ip_tx *tx, uint32_t tx_flags);
/* The next hop for dst (dst itself on our subnet, else the gateway), or 0
 * when there is no route. */
uint32_t ftcp_ip_nexthop(const struct ftcp_stack *s, uint32_t dst);
/* Whether the device completes the checksum for this L4 protocol. */
bool ftcp_ip_l4_cksum_offload(const struct ftcp_stack *s, uint8_t proto);
/* Internal for ARP: the next hop resolver used by ftcp_ip_begin.
 * 0 with *mac set, 1 if the frame must be held in *neigh, or negative. */
int ftcp_arp_resolve(struct ftcp_stack *s, uint32_t nexthop, struct ftcp_mac *mac,
                     struct ftcp_arp_entry **neigh);
/* The same for a caller that resolves one next hop again and again (a
 * connection, per segment): *hint remembers the entry, so a usable one is
 * found without the hash lookup. Any value is safe in *hint. */
int ftcp_arp_resolve_hint(struct ftcp_stack *s, uint32_t nexthop, struct ftcp_mac *mac,
                          struct ftcp_arp_entry **neigh, int32_t *hint);

/* ftcp_arp_resolve_hint's first step, inline for the per-segment caller:
 * true and *mac set when the hinted entry is the next hop's and usable.
 * Live entries have distinct addresses and free ones are FREE, so such an
 * entry is the one a lookup would find. */
static inline bool ftcp_arp_hint_hit(struct ftcp_stack *s, uint32_t nexthop, int32_t hint,
                                     struct ftcp_mac *mac)
{
	struct ftcp_arp_entry *e;

	if (hint < 0 || (uint32_t)hint >= s->cfg.arp_cache_size)
		return false;
	e = &s->arp[hint];
	if (e->ip != nexthop || (e->state != FTCP_ARP_REACHABLE && e->state != FTCP_ARP_PROBE))
		return false;
	e->used = 1;
	*mac = e->mac;
	return true;
}
int ftcp_arp_hold(struct ftcp_stack *s, struct ftcp_arp_entry *e, struct ftcp_hold_slot **slot);
void ftcp_arp_hold_commit(struct ftcp_stack *s, struct ftcp_arp_entry *e,
                          struct ftcp_hold_slot *slot);

void ftcp_ipv4_input(struct ftcp_stack *s, const uint8_t *pkt, uint32_t len, uint32_t rx_flags);

struct ftcp_ipv4_repr;
void ftcp_icmp_input(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                     const uint8_t *pkt, uint32_t len, uint32_t rx_flags);
/* Send a destination-unreachable about the IPv4 packet at orig (rate limited;
 * never about ICMP errors, broadcasts or multicasts: RFC 1122 3.2.2). */
void ftcp_icmp_send_unreach(struct ftcp_stack *s, uint8_t code, const uint8_t *orig,
                            uint32_t orig_len);

void ftcp_udp_input(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                    const uint8_t *pkt, uint32_t len, uint32_t rx_flags);
/* An ICMP error quoted a UDP datagram we sent. */
void ftcp_udp_icmp_error(struct ftcp_stack *s, uint32_t laddr, uint16_t lport,
                         uint32_t raddr, uint16_t rport, int err);

/* TCP pieces the socket layer calls. */
int ftcp_tcp_tcb_buffers(struct ftcp_stack *s, struct ftcp_socket *so);
int ftcp_tcp_connect(struct ftcp_stack *s, ftcp_sock_t h, const struct ftcp_sockaddr *a);
int ftcp_tcp_close(struct ftcp_stack *s, int32_t idx);
void ftcp_tcp_reap_zombies(struct ftcp_stack *s);
/* The socket pool is empty: end the orphaned TIME_WAIT connection closest
 * to its end, if any, so a new socket can have its slot. true if one went. */
bool ftcp_tcp_evict_time_wait(struct ftcp_stack *s);

int ftcp_tx_flush(struct ftcp_stack *s);
/* Reserve a frame of len bytes in the TX fifo; NULL when full. */
uint8_t *ftcp_tx_reserve(struct ftcp_stack *s, uint32_t len, struct ftcp_frame_desc **desc);
void ftcp_tx_commit(struct ftcp_stack *s, struct ftcp_frame_desc *desc, uint32_t len);

/* sockets and demultiplexing */
struct ftcp_socket *ftcp_sock_get(const struct ftcp_stack *s, ftcp_sock_t h, int32_t *idx);
int32_t ftcp_sock_alloc(struct ftcp_stack *s, uint8_t proto, ftcp_event_cb cb, void *user);
void ftcp_sock_release(struct ftcp_stack *s, int32_t idx);
ftcp_sock_t ftcp_sock_handle(const struct ftcp_stack *s, int32_t idx);
void ftcp_sock_event(struct ftcp_stack *s, int32_t idx, uint32_t ev);
int ftcp_sock_deliver_events(struct ftcp_stack *s);
void ftcp_sock_tx_space(struct ftcp_stack *s);
/* A UDP socket may send: a maximum-size datagram fits the TX fifo twice
 * (the WRITABLE level the readiness view reports). */
bool ftcp_sock_udp_writable(const struct ftcp_stack *s);
/* A UDP send left the fifo below that level, or met it full: report
 * WRITABLE when it is back, so a waiter on the readiness view wakes. */
void ftcp_sock_tx_wait(struct ftcp_stack *s, struct ftcp_socket *so);

void ftcp_demux_port_insert(struct ftcp_stack *s, int32_t idx);
void ftcp_demux_port_remove(struct ftcp_stack *s, int32_t idx);
void ftcp_demux_conn_insert(struct ftcp_stack *s, int32_t idx);
void ftcp_demux_conn_remove(struct ftcp_stack *s, int32_t idx);
/* The socket for a received packet: an exact connected match, else a bound
 * socket on the port (exact local address over wildcard; within a
 * SO_REUSEPORT group, the member a hash of the peer picks). -1 if none. */
int32_t ftcp_demux_lookup(const struct ftcp_stack *s, uint8_t proto, uint32_t laddr,
                          uint16_t lport, uint32_t raddr, uint16_t rport);
int32_t ftcp_demux_conn_lookup(const struct ftcp_stack *s, uint8_t proto, uint32_t laddr,
                               uint16_t lport, uint32_t raddr, uint16_t rport);
/* The same through a one-entry cache of the last connection found: a
 * burst mostly carries one flow's segments, and checking that flow's
 * 4-tuple costs far less than the hash. laddr must be ours (s->ip). */
int32_t ftcp_demux_conn_find(struct ftcp_stack *s, uint8_t proto, uint32_t laddr, uint16_t lport,
                             uint32_t raddr, uint16_t rport);
/* Is lport taken for a bind to laddr? share: the binder's
 * FTCP_SOCK_REUSEADDR/FTCP_SOCK_REUSEPORT bits; a holder with the same bit
 * does not count. */
bool ftcp_demux_port_in_use(const struct ftcp_stack *s, uint8_t proto, uint32_t laddr,
                            uint16_t lport, uint8_t share);
/* A free ephemeral port for proto (RFC 6056 random start), or 0. */
uint16_t ftcp_demux_ephemeral_port(struct ftcp_stack *s, uint8_t proto, uint32_t laddr);

#endif
