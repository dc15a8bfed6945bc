/*
 * ftcp_tcp.h — TCP inside the core: the control block and the calls the
 * TCP files make on each other. Not installed.
 *
 * Files, by the path a segment takes:
 *   ftcp_tcp_input.c   segment arrival (RFC 9293 3.10.7): demux, SYN
 *                      handling for listeners, acceptability, RFC 5961
 *                      checks, ACK processing, data, FIN
 *   ftcp_tcp_reass.c   out-of-order ranges placed in the receive queue
 *   ftcp_tcp_sack.c    the sender's SACK scoreboard (RFC 6675)
 *   ftcp_tcp_cc*.c     congestion control behind struct ftcp_cc_ops
 *   ftcp_tcp_output.c  what to send now (windows, Nagle, SWS, recovery),
 *                      headers built per segment, payload referenced in
 *                      the send queue (zero-copy), frames to the device
 *   ftcp_tcp_timer.c   retransmission, persist, delayed ACK, keepalive,
 *                      TIME_WAIT and FIN_WAIT_2 timers
 *   ftcp_tcp_api.c     the socket calls (connect, listen, accept, send,
 *                      recv, shutdown, close, abort, options, info)
 *
 * Sequence numbers are compared only through the helpers below, which are
 * correct across wrap-around (RFC 9293 3.4: modulo 2^32 arithmetic).
 */
#ifndef FTCP_TCP_H
#define FTCP_TCP_H

#include "base/ftcp_queue.h"
#include "ftcp/ftcp.h"
#include "stack/ftcp_timer.h"
#include "tcp/ftcp_tcp_cc.h"
#include "tcp/ftcp_tcp_sack.h"
#include "wire/ftcp_wire_tcp.h"

struct ftcp_stack;
struct ftcp_socket;
struct ftcp_ipv4_repr;

/* Out-of-order ranges a receiver keeps (bounded reassembly): a segment
 * that would need one more is dropped, to be retransmitted later. */
#define FTCP_TCP_OOO_MAX 8
/* Room for Ethernet + IPv4 + TCP headers with options, per frame. */
#define FTCP_TCP_HDR_ROOM 128
/* Ethernet + IPv4 + TCP with the timestamp option. */
#define FTCP_TCP_TPL_LEN (14 + 20 + 20 + 12)

/* Per-connection flags (struct ftcp_tcb.tf). */
enum ftcp_tcp_tflags {
	FTCP_TF_ACK_NOW = 1u << 0,     /* send an ACK in this output pass */
	FTCP_TF_DELACK = 1u << 1,      /* an ACK is being delayed */
	FTCP_TF_NODELAY = 1u << 2,     /* Nagle off */
	FTCP_TF_SACK_OK = 1u << 3,     /* both sides sent SACK-permitted */
	FTCP_TF_TS_OK = 1u << 4,       /* both sides sent timestamps */
	FTCP_TF_WS_OK = 1u << 5,       /* both sides sent window scale */
	FTCP_TF_FIN_QUEUED = 1u << 6,  /* the application closed its side */
	FTCP_TF_RECOVERY = 1u << 7,    /* in fast recovery (NewReno or SACK) */
	FTCP_TF_PERSIST = 1u << 8,     /* the retransmission timer is the persist timer */
	FTCP_TF_ORPHAN = 1u << 9,      /* closed by the application, TCB lives on */
	FTCP_TF_RD_SHUT = 1u << 10,    /* shutdown(SHUT_RD): incoming data is discarded */
	FTCP_TF_KEEPALIVE = 1u << 11,  /* SO_KEEPALIVE */
	FTCP_TF_ARP_WAIT = 1u << 12,   /* output waits for the next hop to resolve */
	FTCP_TF_RTT_TIMING = 1u << 13, /* timing the segment starting at rtt_seq */
	FTCP_TF_FIN_RCVD = 1u << 14,   /* the peer's FIN was accepted */
	FTCP_TF_ON_OUTPUT = 1u << 15,  /* queued for step 3 */
	FTCP_TF_COOKIE = 1u << 16,     /* created from a SYN cookie */
	FTCP_TF_WANT_WRITE = 1u << 17, /* a send met a full queue: report WRITABLE */
	FTCP_TF_TLP = 1u << 18,        /* the retransmission timer is a tail loss probe */
	FTCP_TF_TLP_OUT = 1u << 19,    /* a probe was sent; none again until an ACK */
	FTCP_TF_PIN_WAIT = 1u << 20,   /* on the pin-watch list (acked bytes still pinned) */
	FTCP_TF_TW_LISTED = 1u << 21,  /* an orphan in TIME_WAIT, on the stack's eviction list */
};

/* Zero-copy TX: frames referencing the send queue hold a pin of the
 * current epoch. Acknowledged bytes are only given back to the queue once
 * every pin taken before the acknowledgement is released; two epochs keep
 * that from waiting forever while frames keep flowing. */
struct ftcp_tcp_pins {
	struct ftcp_txpin pin[2];
	uint8_t epoch;         /* the epoch new frames pin */
	bool waiting;          /* pin[!epoch] must drain before reclaim_to */
	uint32_t reclaim_to;   /* sequence up to which bytes may be freed */
	uint32_t pending_to;   /* acknowledged since the wait began */
};

struct ftcp_tcb {
	uint8_t state;           /* enum ftcp_tcp_state */
	uint8_t snd_wscale;      /* shift applied to the peer's window field */
	uint8_t rcv_wscale;      /* shift the peer applies to ours */
	uint8_t backoff;         /* RTO doublings so far */
	uint8_t retries;         /* consecutive retransmission timeouts */
	uint8_t keep_probes;     /* unanswered keepalive probes */
	uint8_t n_ooo;
	uint8_t dupacks;
	uint32_t tf;             /* enum ftcp_tcp_tflags */

	/* Send sequence space (RFC 9293 3.3.1). snd_max: highest sent + 1. */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, max_snd_wnd; /* bytes, scaled */
	uint32_t snd_wl1, snd_wl2;
	uint32_t fin_seq;        /* sequence number of our FIN when queued */
	/* Receive sequence space. rcv_adv: right edge we advertised. */
	uint32_t irs, rcv_nxt, rcv_adv;
	uint32_t last_ack_sent;
	uint16_t mss;            /* payload bytes per segment we send */
	uint16_t peer_mss;       /* the peer's MSS option (536 if absent) */

	/* Timestamps (RFC 7323). */
	uint32_t ts_recent;
	uint64_t ts_recent_us;   /* when ts_recent was set, for the 24-day rule */
	uint32_t ts_offset;      /* random per connection (RFC 7323 5.4) */

	/* Round-trip time and timeout (RFC 6298), microseconds. */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t rtt_seq;
	uint64_t rtt_start_us;

	/* Loss recovery. */
	uint32_t recover;        /* RFC 6582 "recover" / RFC 6675 RecoveryPoint */
	uint32_t high_rxt;       /* RFC 6675 HighRxt */
	uint32_t rtx_hole;       /* the first hole, when last retransmitted ... */
	uint32_t rtx_mark;       /* ... and snd_max at that moment */
	bool rtx_watch;          /* watching for that retransmission's loss */
	struct ftcp_sack_sb sb;
	struct ftcp_cc cc;

	/* Receive reassembly: sorted, disjoint ranges above rcv_nxt, and the
	 * order they last changed in (SACK blocks report the newest first). */
	struct ftcp_sack_range ooo[FTCP_TCP_OOO_MAX];
	uint8_t ooo_age[FTCP_TCP_OOO_MAX];

	/* Queues. rxq: bytes up to rcv_nxt not yet read. txq: bytes from
	 * tx_seq (= the oldest byte not yet given back) to the end of what the
	 * application queued. */
	struct ftcp_queue rxq, txq;
	int32_t txbuf;
	uint32_t tx_seq;
	uint32_t rcvbuf, sndbuf; /* SO_RCVBUF/SO_SNDBUF limits within the queues */
	struct ftcp_tcp_pins pins;

	struct ftcp_timer rtx_timer;   /* retransmission, SYN, persist */
	struct ftcp_timer delack_timer;
	struct ftcp_timer keep_timer;  /* keepalive, FIN_WAIT_2, TIME_WAIT */

	uint32_t keep_idle_s, keep_intvl_s, keep_cnt;
	uint64_t last_rx_us;           /* last segment from the peer */
	uint64_t oow_ack_us;           /* last ACK for a segment we could not use */
	int32_t linger_s;              /* -1: off */
	uint32_t nexthop;
	struct ftcp_mac nexthop_mac;
	int32_t arp_hint;              /* the next hop's ARP entry, see ftcp_arp_resolve_hint */
	/* The header bytes every timestamp-only segment shares (Ethernet
	 * source and type, IPv4 but length, id and checksum, TCP ports, data
	 * offset and option layout), written once: a segment copies them and
	 * fills in the rest. tpl_hlen: the TCP header length they were built
	 * for, 0 before the first. tpl_psum: the pseudo-header sum without
	 * the length. */
	uint8_t tpl[FTCP_TCP_TPL_LEN];
	uint8_t tpl_hlen;
	uint16_t tpl_psum;

	/* The stack's list of orphans in TIME_WAIT, oldest first. */
	int32_t tw_prev, tw_next;

	/* Listener: SYN queue count and accept queue; child: its listener. */
	int32_t parent;
	int32_t acc_next;
	int32_t acc_head, acc_tail;
	uint16_t backlog, accept_len, syn_len;

	int32_t out_next;              /* output list link */
	int32_t pin_next;              /* pin-watch list link */

	/* For ftcp_tcp_info. */
	uint32_t total_retrans, lost_events, rto_events, fast_rtx_events;
	uint64_t segs_in, segs_out, bytes_acked, bytes_received;
};

/* ---- calls between the TCP files ---- */
/* A whole frame (from its Ethernet header) of an established connection's
 * in-order data or pure ACK, taken in one step; false: nothing was done,
 * the frame goes through ftcp_eth_input. */
bool ftcp_tcp_input_fast(struct ftcp_stack *s, const uint8_t *frame, uint32_t len,
                         uint32_t rx_flags);
/* The same for the first frames of f (n of them), as many as qualify, in
 * one call; returns how many were taken (0: f[0] goes through
 * ftcp_eth_input). */
uint16_t ftcp_tcp_input_run(struct ftcp_stack *s, const struct ftcp_rx_frame *f, uint16_t n);
void ftcp_tcp_input(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip, const uint8_t *pkt,
                    uint32_t len, uint32_t rx_flags);
void ftcp_tcp_tcb_init(struct ftcp_stack *s, struct ftcp_socket *so);
/* Queue the socket for output in step 3. */
void ftcp_tcp_schedule(struct ftcp_stack *s, int32_t idx);
/* Step 3: run output for every scheduled socket and flush frames. */
int ftcp_tcp_output_all(struct ftcp_stack *s);
/* Build and queue segments for one connection now. */
void ftcp_tcp_output(struct ftcp_stack *s, int32_t idx);
/* Send one segment [seq, seq+len) (retransmission or new data); returns
 * the payload bytes sent (cut at the ring's end) or -1 if none could be. */
int32_t ftcp_tcp_send_segment(struct ftcp_stack *s, int32_t idx, uint32_t seq, uint32_t len,
                              uint8_t flags);
void ftcp_tcp_send_ack(struct ftcp_stack *s, int32_t idx);
/* A reset for a segment that has no connection (RFC 9293 3.10.7.1),
 * through the TX fifo. */
void ftcp_tcp_send_rst_reply(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                             const struct ftcp_tcp_repr *seg);
void ftcp_tcp_send_rst(struct ftcp_stack *s, int32_t idx);
/* A SYN-ACK carrying a SYN cookie, with no connection behind it. */
void ftcp_tcp_send_synack_cookie(struct ftcp_stack *s, const struct ftcp_ipv4_repr *ip,
                                 const struct ftcp_tcp_repr *seg, uint32_t isn, uint16_t mss,
                                 uint32_t tsval);
/* The next hop of some connections resolved: wake those waiting on it. */
void ftcp_tcp_arp_resolved(struct ftcp_stack *s, uint32_t ip);
uint32_t ftcp_tcp_rcv_window(const struct ftcp_tcb *t);
/* The timestamp clock's offset for connections between two hosts. */
uint32_t ftcp_tcp_ts_offset(const struct ftcp_stack *s, uint32_t laddr, uint32_t raddr);
uint32_t ftcp_tcp_isn(const struct ftcp_stack *s, uint32_t laddr, uint16_t lport,
                      uint32_t raddr, uint16_t rport);
uint32_t ftcp_tcp_ts_now(const struct ftcp_stack *s, const struct ftcp_tcb *t);

void ftcp_tcp_timers_init(struct ftcp_tcb *t);
void ftcp_tcp_rtx_arm(struct ftcp_stack *s, struct ftcp_tcb *t);
void ftcp_tcp_rtt_sample(struct ftcp_stack *s, struct ftcp_tcb *t, uint32_t rtt_us);
void ftcp_tcp_delack(struct ftcp_stack *s, struct ftcp_tcb *t);
void ftcp_tcp_keep_arm(struct ftcp_stack *s, struct ftcp_tcb *t);
void ftcp_tcp_enter_time_wait(struct ftcp_stack *s, int32_t idx);

/* Reassembly. Returns bytes newly made readable in order. */
uint32_t ftcp_tcp_reass(struct ftcp_tcb *t, uint32_t seq, const uint8_t *data, uint32_t len,
                        bool *dropped);
unsigned ftcp_tcp_sack_blocks(const struct ftcp_tcb *t, struct ftcp_tcp_sack_block *out,
                              unsigned max);

/* Start the send sequence space at iss: SYN at iss, data from iss + 1. */
static inline void ftcp_tcp_set_iss(struct ftcp_tcb *t, uint32_t iss)
{
	t->iss = iss;
	t->snd_una = t->snd_nxt = t->snd_max = iss;
	t->tx_seq = iss + 1;
	t->pins.pending_to = t->tx_seq;
	t->recover = iss; /* RFC 6582: "recover" starts at the initial send sequence */
	t->high_rxt = iss;
}

/* Writable: a quarter of the send queue free, counted within SO_SNDBUF
 * (ftcp_send queues no more than that allows). */
static inline bool ftcp_tcp_writable(const struct ftcp_tcb *t)
{
	uint32_t used = ftcp_queue_used(&t->txq);
	uint32_t lim = t->sndbuf && t->sndbuf < t->txq.size ? t->sndbuf : t->txq.size;

	return used < lim && lim - used >= lim / 4;
}

/* Give acknowledged send-queue bytes back when no device still pins them. */
void ftcp_tcp_reclaim(struct ftcp_tcb *t);
/* Acknowledged bytes still wait for the device to let go of them. */
bool ftcp_tcp_reclaim_pending(const struct ftcp_tcb *t);
/* Take a connection off the pin-watch list (before its slot is freed). */
void ftcp_tcp_pin_unwatch(struct ftcp_stack *s, int32_t idx);

/* Connection end: report err (0 for an orderly end) and free or orphan-free. */
void ftcp_tcp_drop(struct ftcp_stack *s, int32_t idx, int err);
/* Free the socket slot and buffers of a connection that reached CLOSED. */
void ftcp_tcp_destroy(struct ftcp_stack *s, int32_t idx);
/* An orphan in TIME_WAIT gives its receive and send buffers back (the send
 * buffer once no device references it). */
void ftcp_tcp_shed_buffers(struct ftcp_stack *s, int32_t idx);

static inline bool ftcp_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool ftcp_seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool ftcp_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool ftcp_seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t ftcp_seq_max(uint32_t a, uint32_t b) { return ftcp_seq_gt(a, b) ? a : b; }
static inline uint32_t ftcp_seq_min(uint32_t a, uint32_t b) { return ftcp_seq_lt(a, b) ? a : b; }
/* a <= x < b in sequence space */
static inline bool ftcp_seq_in(uint32_t x, uint32_t a, uint32_t b)
{
	return x - a < b - a;
}

#endif
