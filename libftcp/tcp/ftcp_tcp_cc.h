/*
 * ftcp_tcp_cc.h — congestion control behind one small interface.
 *
 * TCP calls the module at four moments; the module owns cwnd and ssthresh
 * (in bytes) and whatever state it keeps in the union. Loss recovery itself
 * (what to retransmit, cwnd inflation during NewReno recovery, pipe in SACK
 * recovery) stays in TCP: modules only decide window sizes.
 *
 *   init          at connection start: cwnd = initial window (RFC 6928:
 *                 min(10*mss, max(2*mss, 14600))), ssthresh = "infinite"
 *   on_ack        new data acknowledged outside loss recovery (growth)
 *   on_congestion loss detected by duplicate ACKs or SACK (fast
 *                 retransmit): set ssthresh, and cwnd = ssthresh for the
 *                 recovery (RFC 5681 3.2, RFC 6675 5, RFC 9438 4.6)
 *   on_rto        retransmission timeout: ssthresh as on_congestion, cwnd
 *                 = one segment (RFC 5681 3.1 loss window). A further
 *                 on_rto with no on_ack in between is taken as the same
 *                 segment timing out again: ssthresh is held (RFC 5681
 *                 3.1), only cwnd returns to one segment.
 *   on_recovery_end  recovery finished with a full ACK (optional)
 *
 * Modules: "newreno" (RFC 5681 with appropriate byte counting, RFC 3465,
 * L = 2) and "cubic" (RFC 9438, the default; slow start as Reno without
 * HyStart++; with srtt_us = 0 it skips the one-RTT lookahead of 4.2).
 * Both cap the slow start increase at ssthresh and count the rest of that
 * ACK toward congestion avoidance.
 *
 * All arithmetic is integer (no FPU on the smallest targets); 64-bit
 * intermediates keep windows up to FTCP_CC_MAX_CWND and times up to hours
 * free of wrap on 32-bit CPUs. TCP may change cc->mss at any time (PMTU
 * changes); modules read it through ftcp_cc_smss(), which bounds it.
 */
#ifndef FTCP_TCP_CC_H
#define FTCP_TCP_CC_H

#include "base/ftcp_base.h"

#define FTCP_CC_INFINITE_SSTHRESH 0x7fffffffu
/* cwnd never grows past 1 GiB: the largest window a peer can offer is
 * 65535 << 14 < 2^30 (RFC 7323 2.3), so more could never be used. */
#define FTCP_CC_MAX_CWND 0x40000000u

struct ftcp_cc;

struct ftcp_cc_ops {
	const char *name;
	void (*init)(struct ftcp_cc *cc, uint64_t now_us);
	/* acked: bytes newly acknowledged by this ACK; flight: bytes in flight
	 * before it; srtt_us: smoothed RTT (0 if unknown yet). */
	void (*on_ack)(struct ftcp_cc *cc, uint32_t acked, uint32_t flight, uint32_t srtt_us,
	               uint64_t now_us);
	void (*on_congestion)(struct ftcp_cc *cc, uint32_t flight, uint64_t now_us);
	void (*on_rto)(struct ftcp_cc *cc, uint32_t flight, uint64_t now_us);
	void (*on_recovery_end)(struct ftcp_cc *cc, uint64_t now_us); /* may be NULL */
};

/* CUBIC state (RFC 9438). Windows in bytes, times in microseconds. A
 * congestion avoidance epoch starts at the first ACK that finds cwnd >=
 * ssthresh and ends at the next loss or timeout. */
struct ftcp_cc_cubic {
	uint64_t epoch_start_us; /* start of the current epoch (if in_epoch) */
	uint64_t est_acc;        /* W_est growth carried over, 1/(17*cwnd) bytes */
	uint32_t w_max;          /* W_max of Figure 1; 0: none yet, or reset by
	                          * a timeout: the epoch start sets it (4.8) */
	uint32_t cwnd_prior;     /* cwnd before the last reduction (4.3, 4.6) */
	uint32_t k_us;           /* K of Figure 2, set at the epoch start */
	uint32_t w_est;          /* Reno-friendly estimate, bytes (4.3) */
	uint32_t cwnd_acc;       /* cwnd growth carried over, 1/cwnd bytes */
	uint8_t in_epoch;        /* a congestion avoidance epoch is running */
};

struct ftcp_cc {
	const struct ftcp_cc_ops *ops;
	uint32_t mss;
	uint32_t cwnd;
	uint32_t ssthresh;
	bool rto_again; /* on_rto seen and no on_ack since (set by modules) */
	union {
		struct {
			uint32_t bytes_acked; /* congestion avoidance counter */
		} reno;
		struct ftcp_cc_cubic cubic;
	} u;
};

extern const struct ftcp_cc_ops ftcp_cc_newreno;
extern const struct ftcp_cc_ops ftcp_cc_cubic;

/* The module named name ("newreno", "cubic"), or NULL (also for NULL). */
const struct ftcp_cc_ops *ftcp_cc_find(const char *name);
/* Slow start shared by the modules (RFC 5681 3.1 with RFC 3465's L = 2):
 * grow cwnd by the bytes acked, at most 2*SMSS per ACK, up to ssthresh.
 * Returns the acknowledged bytes left for congestion avoidance (0 when
 * cwnd is still below ssthresh). */
uint32_t ftcp_cc_slow_start(struct ftcp_cc *cc, uint32_t acked);
/* Initial window of RFC 6928 for this mss. */
uint32_t ftcp_cc_initial_window(uint32_t mss);
/* Set up cc with ops (NULL: the default, cubic) and mss and call
 * ops->init. */
void ftcp_cc_start(struct ftcp_cc *cc, const struct ftcp_cc_ops *ops, uint32_t mss,
                   uint64_t now_us);

/* Internal to the modules, exposed for the tests. */

/* floor(cbrt(x)), exact for every x. */
uint32_t ftcp_cc_icbrt64(uint64_t x);
/* W_cubic(t) of RFC 9438 Figure 1 in bytes (clamped to [0,
 * FTCP_CC_MAX_CWND]) for t_us after the epoch start, from cc's w_max,
 * k_us and mss. */
uint32_t ftcp_cc_cubic_window(const struct ftcp_cc *cc, uint64_t t_us);

/* The sender MSS the modules compute with: an mss of 0 counts as 1, and
 * none is above the 16-bit MSS option's range (RFC 9293 3.7.1), which keeps
 * the modules' 64-bit products in range. */
static inline uint32_t ftcp_cc_smss(const struct ftcp_cc *cc)
{
	return cc->mss == 0 ? 1u : (cc->mss > 0xffffu ? 0xffffu : cc->mss);
}

/* Adds that stop at FTCP_CC_MAX_CWND instead of wrapping. */
static inline uint32_t ftcp_cc_add_cap(uint32_t a, uint64_t b)
{
	uint64_t s = (uint64_t)a + b;
	return s > FTCP_CC_MAX_CWND ? FTCP_CC_MAX_CWND : (uint32_t)s;
}

#endif
