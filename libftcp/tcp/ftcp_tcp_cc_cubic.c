/*
 * ftcp_tcp_cc_cubic.c — CUBIC congestion control (RFC 9438) in integer
 * arithmetic.
 *
 * Units and precision:
 *   windows   bytes (uint32_t, at most FTCP_CC_MAX_CWND); RFC 9438 states
 *             its formulas in segments, so segment counts are bytes / SMSS.
 *   times     microseconds (uint64_t, as TCP passes them); K is kept in
 *             microseconds, exact to 1-100 us depending on its size.
 *   W_cubic   the cube (t - K)^3 is taken in milliseconds (t - K rounded
 *             to 1 ms), which fits 64 bits for |t - K| < 2^21 ms (35 min)
 *             and is saturated beyond; the error this leaves is far below
 *             one segment (d/dt of W_cubic is 3*C*(t-K)^2 segments/s).
 *   constants C = 0.4 = 2/5, beta_cubic = 0.7 = 7/10, alpha_cubic =
 *             3*(1-beta)/(1+beta) = 9/17, all as exact integer ratios.
 * Fractions of a byte of growth are carried between ACKs (cwnd_acc,
 * est_acc), so many small ACKs grow the window like one large one.
 *
 * Epochs: a congestion avoidance epoch starts at the first ACK that finds
 * cwnd >= ssthresh (after slow start or after the recovery of a loss) and
 * fixes the curve: K and, after a timeout or before any loss, W_max.
 */
#include "tcp/ftcp_tcp_cc.h"

/* |t - K| from which W_cubic is saturated: (2^21 ms)^3 < 2^63, and beyond
 * it C*(t-K)^3 > 3.6e9 segments exceeds FTCP_CC_MAX_CWND at any SMSS. */
#define CUBIC_D_MS_MAX (1u << 21)

uint32_t ftcp_cc_cubic_window(const struct ftcp_cc *cc, uint64_t t_us)
{
	const struct ftcp_cc_cubic *c = &cc->u.cubic;
	uint64_t mss2 = 2u * (uint64_t)ftcp_cc_smss(cc);
	uint64_t k = c->k_us, d_us, d_ms, delta;
	bool before = t_us < k;

	d_us = before ? k - t_us : t_us - k;
	d_ms = (d_us + 500) / 1000;
	if (d_ms >= CUBIC_D_MS_MAX) {
		delta = FTCP_CC_MAX_CWND;
	} else {
		/* Figure 1 in bytes: C * (t-K)^3 * SMSS with t-K in seconds,
		 * = m * 2 * SMSS / 5e9 for m = (t-K)^3 in ms^3. Split m so no
		 * product exceeds 2^64: m / 5e9 < 2^31 and m % 5e9 < 2^33. */
		const uint64_t div = 5000000000u;
		uint64_t m = d_ms * d_ms * d_ms;

		delta = (m / div) * mss2 + (m % div) * mss2 / div;
	}
	if (before)
		return delta >= c->w_max ? 0 : (uint32_t)(c->w_max - delta);
	return ftcp_cc_add_cap(c->w_max, delta);
}

/*
 * K of RFC 9438 Figure 2: cbrt((W_max - cwnd_epoch) / C) seconds with the
 * windows in segments, i.e. K^3 = diff * 5 / (2 * SMSS) s^3 for diff in
 * bytes. Long division by 2 * SMSS gives K^3 in units 1000 times finer per
 * step (each refining K tenfold); take as many of the six steps down to
 * microseconds as fit in 64 bits: K to 1 us for K up to 2.6 s, to 10 us up
 * to 260 s, 100 us beyond.
 */
static uint32_t cubic_k_us(uint32_t diff, uint32_t mss)
{
	uint64_t den = 2u * (uint64_t)mss, num = (uint64_t)diff * 5;
	uint64_t x = num / den, r = num % den, unit_us = 1000000, k;

	/* r < den < 2^17, so r * 1000 never wraps */
	while (unit_us > 1 && x <= (UINT64_MAX - 999) / 1000) {
		x = x * 1000 + r * 1000 / den;
		r = r * 1000 % den;
		unit_us /= 10;
	}
	k = (uint64_t)ftcp_cc_icbrt64(x) * unit_us;
	return k > UINT32_MAX ? UINT32_MAX : (uint32_t)k;
}

static void cubic_init(struct ftcp_cc *cc, uint64_t now_us)
{
	FTCP_UNUSED(now_us);
	ftcp_memset(&cc->u.cubic, 0, sizeof(cc->u.cubic));
	cc->cwnd = ftcp_cc_initial_window(ftcp_cc_smss(cc));
	cc->ssthresh = FTCP_CC_INFINITE_SSTHRESH;
}

static void cubic_epoch_start(struct ftcp_cc *cc, uint64_t now_us)
{
	struct ftcp_cc_cubic *c = &cc->u.cubic;

	c->in_epoch = 1;
	c->epoch_start_us = now_us;
	if (c->w_max <= cc->cwnd) {
		/* No loss yet, a timeout (4.8), or cwnd already past W_max: the
		 * curve starts at its plateau, K = 0 and W_max = cwnd. */
		c->w_max = cc->cwnd;
		c->k_us = 0;
	} else {
		c->k_us = cubic_k_us(c->w_max - cc->cwnd, ftcp_cc_smss(cc));
	}
	/* 4.3: W_est starts at cwnd_epoch. */
	c->w_est = cc->cwnd;
	c->est_acc = 0;
	c->cwnd_acc = 0;
}

static void cubic_on_ack(struct ftcp_cc *cc, uint32_t acked, uint32_t flight, uint32_t srtt_us,
                         uint64_t now_us)
{
	struct ftcp_cc_cubic *c = &cc->u.cubic;
	uint32_t mss = ftcp_cc_smss(cc), cwnd, target;
	uint64_t t_us, num, den;

	FTCP_UNUSED(flight);
	if (acked == 0)
		return;
	cc->rto_again = false;
	/* Slow start as Reno (RFC 9438 4.10, without HyStart++). */
	acked = ftcp_cc_slow_start(cc, acked);
	if (acked == 0)
		return;
	if (cc->cwnd == 0)
		cc->cwnd = mss; /* only if TCP zeroed it: the divisions need cwnd > 0 */
	if (!c->in_epoch)
		cubic_epoch_start(cc, now_us);
	cwnd = cc->cwnd;
	t_us = now_us > c->epoch_start_us ? now_us - c->epoch_start_us : 0;

	/* 4.3 Reno-friendly estimate: W_est += alpha * acked_segs / cwnd_segs
	 * segments, i.e. alpha * acked * SMSS / cwnd bytes, with alpha = 9/17
	 * until W_est reaches cwnd_prior and 1 after. acked * SMSS < 2^48. */
	den = 17 * (uint64_t)cwnd;
	num = (uint64_t)acked * mss * (c->w_est >= c->cwnd_prior ? 17 : 9) + c->est_acc;
	c->w_est = ftcp_cc_add_cap(c->w_est, num / den);
	c->est_acc = num % den;

	if (ftcp_cc_cubic_window(cc, t_us) < c->w_est) {
		/* Reno-friendly region: grow at least as fast as Reno would. */
		if (c->w_est > cwnd)
			cc->cwnd = c->w_est;
		return;
	}
	/* 4.2 concave and convex regions alike: aim at W_cubic one RTT ahead,
	 * no lower than cwnd and no higher than 1.5 * cwnd, and close
	 * (target - cwnd) / cwnd of the gap per segment acked. Without an RTT
	 * sample yet the lookahead is skipped (aims lower, never higher). */
	target = ftcp_cc_cubic_window(cc, t_us + srtt_us);
	if (target <= cwnd)
		return;
	if (target > cwnd + cwnd / 2)
		target = cwnd + cwnd / 2;
	/* (target - cwnd) * acked / cwnd bytes; the product is < 2^61. */
	num = (uint64_t)(target - cwnd) * acked + c->cwnd_acc;
	if (num / cwnd >= target - cwnd) {
		cc->cwnd = target; /* a stretch ACK: at most the target */
		c->cwnd_acc = 0;
	} else {
		cc->cwnd = cwnd + (uint32_t)(num / cwnd);
		c->cwnd_acc = (uint32_t)(num % cwnd);
	}
}

/* 4.6 and 4.7: remember W_max (lowered by fast convergence when the loss
 * came below the previous W_max: the flow should release bandwidth to new
 * flows), and ssthresh = beta * cwnd, at least 2 SMSS. cwnd rather than
 * FlightSize: 4.6 allows it as long as cwnd does not grow while the sender
 * is application-limited, which TCP ensures by when it calls on_ack. */
static uint32_t cubic_reduce(struct ftcp_cc *cc)
{
	struct ftcp_cc_cubic *c = &cc->u.cubic;
	uint32_t cwnd = cc->cwnd;
	uint64_t ss = (uint64_t)cwnd * 7 / 10;

	if (cwnd < c->w_max)
		c->w_max = (uint32_t)((uint64_t)cwnd * 17 / 20); /* (1 + beta) / 2 */
	else
		c->w_max = cwnd;
	c->cwnd_prior = cwnd;
	c->in_epoch = 0;
	c->cwnd_acc = 0;
	c->est_acc = 0;
	ss = FTCP_MAX(ss, 2u * (uint64_t)ftcp_cc_smss(cc));
	cc->ssthresh = (uint32_t)FTCP_MIN(ss, FTCP_CC_MAX_CWND);
	return cc->ssthresh;
}

static void cubic_on_congestion(struct ftcp_cc *cc, uint32_t flight, uint64_t now_us)
{
	FTCP_UNUSED(flight);
	FTCP_UNUSED(now_us);
	cc->rto_again = false;
	cc->cwnd = cubic_reduce(cc);
}

static void cubic_on_rto(struct ftcp_cc *cc, uint32_t flight, uint64_t now_us)
{
	FTCP_UNUSED(flight);
	FTCP_UNUSED(now_us);
	/* 4.8: ssthresh as for a loss, cwnd = one segment and slow start; the
	 * next epoch starts from its own cwnd with K = 0 (w_max = 0 asks
	 * cubic_epoch_start for that). When the retransmission timed out
	 * again, ssthresh is held (RFC 5681 3.1). */
	if (!cc->rto_again)
		cubic_reduce(cc);
	cc->rto_again = true;
	cc->u.cubic.w_max = 0;
	cc->u.cubic.in_epoch = 0;
	cc->cwnd = ftcp_cc_smss(cc);
}

const struct ftcp_cc_ops ftcp_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_congestion = cubic_on_congestion,
	.on_rto = cubic_on_rto,
	.on_recovery_end = NULL, /* the epoch starts at the first ACK after */
};
