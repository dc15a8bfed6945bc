/*
 * tcp_fixture.h — packet-level scripted TCP tests (packetdrill-like).
 *
 * One stack (10.0.0.1) and a scripted peer (10.0.0.2) on a raw port of the
 * in-memory link, on a virtual clock. A test states the segments the peer
 * sends and the segments the stack must emit, with flags, sequence and
 * acknowledgment numbers, window, options and timing:
 *
 *     tf_passive_open(&f, &TF_OPTS_ALL);              // LISTEN -> ESTABLISHED
 *     tf_send(&f, TCP_A | TCP_P, 1, 1, "hello", 5);   // peer data
 *     tf_expect(&f, TCP_A, 1, 6, 50000);              // stack ACKs within 50 ms
 *
 * Sequence numbers in scripts are relative: the peer's are offsets from its
 * ISN (f->piss), the stack's from the stack's ISN (f->siss, learned from its
 * SYN or SYN-ACK). So "seq 1" is the first data byte after a SYN either way.
 * When both sides negotiated timestamps, tf_send adds a timestamp option
 * (the peer's clock in ms, echoing the stack's last TSval) unless the test
 * builds its own options.
 */
#ifndef TCP_FIXTURE_H
#define TCP_FIXTURE_H

#include "ftcp_harness.h"
#include "ftcp_test.h"
#include "wire/ftcp_wire_tcp.h"

#define TCP_F FTCP_TCP_FIN
#define TCP_S FTCP_TCP_SYN
#define TCP_R FTCP_TCP_RST
#define TCP_P FTCP_TCP_PSH
#define TCP_A FTCP_TCP_ACK

#define TF_LOCAL_IP IP4(10, 0, 0, 1)
#define TF_PEER_IP IP4(10, 0, 0, 2)
#define TF_LOCAL_PORT 8080
#define TF_PEER_PORT 40000
#define TF_PIS 1000000u /* the peer's ISN */

/* What the peer offers in its SYN (or SYN-ACK). */
struct tf_opts {
	uint16_t mss;    /* 0: no MSS option */
	bool wscale;
	uint8_t shift;
	bool sack;
	bool ts;
	uint16_t window; /* the window field of the SYN (unscaled) */
};
extern const struct tf_opts TF_OPTS_NONE;  /* MSS 1460 only */
extern const struct tf_opts TF_OPTS_ALL;   /* MSS 1460, wscale 7, SACK, TS */

/* A segment the stack sent, decoded. seq/ack are absolute; rseq/rack
 * relative (to siss and piss). */
struct tf_seg {
	uint8_t flags;
	uint32_t seq, ack, rseq, rack;
	uint16_t win;
	uint16_t sport, dport;
	uint32_t len;
	struct ftcp_tcp_opts opt;
	uint8_t data[9216];
	uint64_t at_us;       /* virtual time it was seen */
	uint8_t ip_ttl;
	bool ip_df;
};

/* A TCP frame the stack handed its device, as handed (before the link
 * segments a TSO frame): the device-facing fields. */
struct tf_txframe {
	uint32_t flags;          /* enum ftcp_tx_flags */
	uint16_t tso_segsz;
	uint8_t l4_len;
	uint8_t tcp_flags;
	uint32_t seq;            /* absolute */
	uint32_t len;            /* payload bytes, all pieces */
	uint32_t pieces;         /* payload pieces used: 0..2 */
	uint16_t ip_total_len;   /* the fields as handed over */
	uint16_t tcp_cksum;
};
#define TF_TXLOG 64

struct tf {
	struct harness h;
	struct ftcp_stack *s;
	struct ftcp_memlink_port *peer;
	struct ftcp_config cfg;
	uint32_t piss, siss;
	ftcp_sock_t sock, lsock;
	uint32_t events;        /* every event delivered to sock's callback */
	uint32_t lsock_events;
	/* negotiated for tf_send */
	bool ts, sack;
	uint8_t peer_shift;     /* the shift the peer applies to its windows */
	uint16_t peer_window;   /* window field tf_send puts in (unscaled) */
	uint32_t peer_ts_base;  /* the peer's timestamp clock offset */
	uint32_t last_tsval;    /* the stack's last TSval seen */
	struct tf_seg last;     /* the last segment tf_recv returned */
	uint32_t unexpected;    /* non-TCP frames the peer saw */
	/* TCP frames handed to the device: the last TF_TXLOG of them, frame
	 * i (counting from 0) at txlog[i % TF_TXLOG]. */
	struct tf_txframe txlog[TF_TXLOG];
	uint32_t ntx;
};

/* Start a stack (tweak may change its configuration before init) with the
 * peer already in its ARP cache. */
void tf_init(struct tf *f, void (*tweak)(struct ftcp_config *));
/* The same on a port with emulated offloads (caps as for
 * ftcp_memlink_attach, e.g. FTCP_MEMLINK_TSO). */
void tf_init_caps(struct tf *f, void (*tweak)(struct ftcp_config *), uint32_t caps);
/* The n-th TCP frame handed to the device (n < f->ntx, within the last
 * TF_TXLOG). */
const struct tf_txframe *tf_txframe(const struct tf *f, uint32_t n);
void tf_free(struct tf *f);

/* ---- time ---- */
uint64_t tf_now(const struct tf *f);
/* Let us microseconds pass, polling the stack; frames it sends stay
 * queued for tf_recv. */
void tf_advance(struct tf *f, uint64_t us);

/* ---- the peer sends ---- */
/* Absolute numbers, explicit options (NULL: none), payload. */
void tf_inject(struct tf *f, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
               const struct ftcp_tcp_opts *opt, const void *data, uint32_t len);
/* tf_inject from another source port of the peer (several connections). */
void tf_inject_from(struct tf *f, uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack,
                    uint16_t win, const struct ftcp_tcp_opts *opt, const void *data, uint32_t len);
/* Relative numbers; window f->peer_window; timestamps added if negotiated. */
void tf_send(struct tf *f, uint8_t flags, uint32_t rseq, uint32_t rack, const void *data,
             uint32_t len);
/* The same with the given options (timestamps are not added). */
void tf_send_opts(struct tf *f, uint8_t flags, uint32_t rseq, uint32_t rack,
                  const struct ftcp_tcp_opts *opt, const void *data, uint32_t len);
/* Raw TCP bytes (header+payload) from the peer, checksum filled unless
 * bad_cksum; for malformed segments. */
void tf_inject_raw(struct tf *f, const uint8_t *tcp, uint32_t len, bool bad_cksum);
/* Options for tf_send_opts with the timestamp the fixture would add. */
struct ftcp_tcp_opts tf_ts_opts(const struct tf *f);

/* ---- the stack sends ---- */
/* The next TCP segment the stack sends within max_us (polling meanwhile);
 * false if none. Non-TCP frames (ARP) are skipped and counted. */
bool tf_recv(struct tf *f, struct tf_seg *out, uint64_t max_us);
/* Receive and check flags and relative seq/ack; fails the test with a
 * description otherwise. Returns the segment (also in f->last). */
const struct tf_seg *tf_expect(struct tf *f, uint8_t flags, uint32_t rseq, uint32_t rack,
                               uint64_t max_us);
/* Nothing may be sent for us microseconds. */
void tf_expect_none(struct tf *f, uint64_t us);
/* Discard whatever the stack has sent so far. */
void tf_drain(struct tf *f);

/* ---- ready-made states ---- */
/* A listener on TF_LOCAL_PORT (backlog 16). */
void tf_listen(struct tf *f);
/* Peer SYN -> SYN-ACK -> ACK, then accept: ESTABLISHED, f->sock the child. */
void tf_passive_open(struct tf *f, const struct tf_opts *o);
/* connect -> SYN -> peer SYN-ACK -> ACK: ESTABLISHED, f->sock the client. */
void tf_active_open(struct tf *f, const struct tf_opts *o);
/* The options a SYN from the peer carries for o. */
struct ftcp_tcp_opts tf_syn_opts(const struct tf *f, const struct tf_opts *o);

/* ---- inspection ---- */
int tf_state(const struct tf *f);          /* enum ftcp_tcp_state of f->sock */
struct ftcp_tcp_info tf_info(const struct tf *f);
uint64_t tf_counter(const struct tf *f, const char *name);
/* Stack window in a segment, in bytes (scaled by what the stack announced). */
uint32_t tf_win_bytes(const struct tf *f, const struct tf_seg *s);

#endif
