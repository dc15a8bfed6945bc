/*
 * test_tcp_cc.c — congestion control modules (tcp/ftcp_tcp_cc.h): module
 * lookup, the RFC 6928 initial window, NewReno (RFC 5681 + RFC 3465) and
 * CUBIC (RFC 9438), the latter checked against the formulas evaluated in
 * double precision here (the core itself has no floating point).
 *
 * Flows are simulated in rounds: a round acknowledges the cwnd it started
 * with, in ACKs of a given size spread evenly over one RTT, each ACK
 * reporting that cwnd as the flight before it (a cwnd-limited sender).
 */
#include <string.h>

#include "ftcp_test.h"
#include "tcp/ftcp_tcp_cc.h"

void register_tcp_cc_tests(void);

#define MSS 1460u

/* cbrt by Newton from above (no libm here): monotone convergence. */
static double dcbrt(double x)
{
	double y = 1, prev;
	int i;

	if (x <= 0)
		return 0;
	while (y * y * y < x)
		y *= 2;
	for (i = 0; i < 200; i++) {
		prev = y;
		y = (2 * y + x / (y * y)) / 3;
		if (y >= prev)
			break;
	}
	return prev < y ? prev : y;
}

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

/* RFC 9438 Figure 1 in segments, t and k in seconds. */
static double w_cubic_seg(double t, double k, double w_max_seg)
{
	return 0.4 * (t - k) * (t - k) * (t - k) + w_max_seg;
}

/* One round trip; returns the number of ACKs. */
static uint32_t sim_round(struct ftcp_cc *cc, uint64_t *now, uint32_t rtt_us, uint32_t per_ack)
{
	uint32_t w = cc->cwnd, n = w / per_ack, i;
	uint64_t start = *now;

	if (n == 0)
		n = 1;
	for (i = 0; i < n; i++) {
		*now = start + (uint64_t)rtt_us * (i + 1) / n;
		cc->ops->on_ack(cc, per_ack, w, rtt_us, *now);
	}
	return n;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	/* xorshift64*: reproducible inputs. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* ---- module lookup and initial window ---- */

static void test_cc_find_by_name(void)
{
	struct ftcp_cc cc;

	CU_ASSERT(ftcp_cc_find("newreno") == &ftcp_cc_newreno);
	CU_ASSERT(ftcp_cc_find("cubic") == &ftcp_cc_cubic);
	CU_ASSERT(ftcp_cc_find("reno") == NULL);
	CU_ASSERT(ftcp_cc_find("cubi") == NULL);
	CU_ASSERT(ftcp_cc_find("cubicc") == NULL);
	CU_ASSERT(ftcp_cc_find("CUBIC") == NULL);
	CU_ASSERT(ftcp_cc_find("") == NULL);
	CU_ASSERT(ftcp_cc_find(NULL) == NULL);
	/* NULL ops: the default module */
	ftcp_cc_start(&cc, NULL, MSS, 0);
	CU_ASSERT(cc.ops == &ftcp_cc_cubic);
}

static void test_cc_initial_window_rfc6928(void)
{
	static const uint32_t mss[] = {536, 1460, 4000, 9000};
	static const uint32_t iw[] = {5360, 14600, 14600, 18000};
	const struct ftcp_cc_ops *ops[] = {&ftcp_cc_newreno, &ftcp_cc_cubic};
	size_t i, j;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ_U64(ftcp_cc_initial_window(mss[i]), iw[i]);
		for (j = 0; j < 2; j++) {
			struct ftcp_cc cc;
			ftcp_cc_start(&cc, ops[j], mss[i], 1000);
			CU_ASSERT(cc.ops == ops[j]);
			ASSERT_EQ_U64(cc.mss, mss[i]);
			ASSERT_EQ_U64(cc.cwnd, iw[i]);
			ASSERT_EQ_U64(cc.ssthresh, FTCP_CC_INFINITE_SSTHRESH);
		}
	}
	/* no wrap for absurd values */
	ASSERT_EQ_U64(ftcp_cc_initial_window(0), 0);
	ASSERT_EQ_U64(ftcp_cc_initial_window(UINT32_MAX), FTCP_CC_MAX_CWND);
}

/* ---- NewReno ---- */

static void test_newreno_slow_start_doubles_per_rtt(void)
{
	struct ftcp_cc cc;
	uint64_t now = 0;
	uint32_t w;
	int r;

	ftcp_cc_start(&cc, &ftcp_cc_newreno, MSS, now);
	for (r = 0; r < 8; r++) {
		w = cc.cwnd;
		sim_round(&cc, &now, 10000, MSS);
		ASSERT_EQ_U64(cc.cwnd, 2 * w);
	}
	ASSERT_EQ_U64(cc.cwnd, 14600u << 8);
	/* delayed ACKs (2 segments each): still doubling under L = 2 */
	ftcp_cc_start(&cc, &ftcp_cc_newreno, MSS, now);
	for (r = 0; r < 4; r++) {
		w = cc.cwnd;
		sim_round(&cc, &now, 10000, 2 * MSS);
		ASSERT_EQ_U64(cc.cwnd, 2 * w);
	}
}

static void test_newreno_abc_limits_growth_per_ack(void)
{
	struct ftcp_cc cc;

	ftcp_cc_start(&cc, &ftcp_cc_newreno, MSS, 0);
	cc.ops->on_ack(&cc, 5 * MSS, cc.cwnd, 1000, 1);
	ASSERT_EQ_U64(cc.cwnd, 14600 + 2 * MSS); /* RFC 3465 L = 2 */
	cc.ops->on_ack(&cc, 100, cc.cwnd, 1000, 2);
	ASSERT_EQ_U64(cc.cwnd, 14600 + 2 * MSS + 100); /* byte counting */
	cc.ops->on_ack(&cc, 0, cc.cwnd, 1000, 3);
	ASSERT_EQ_U64(cc.cwnd, 14600 + 2 * MSS + 100);
	cc.ops->on_ack(&cc, UINT32_MAX, cc.cwnd, 1000, 4);
	ASSERT_EQ_U64(cc.cwnd, 14600 + 4 * MSS + 100);
}

static void test_newreno_switches_to_avoidance_at_ssthresh(void)
{
	struct ftcp_cc cc;
	uint64_t now = 0;
	uint32_t w;
	int r;

	ftcp_cc_start(&cc, &ftcp_cc_newreno, MSS, now);
	cc.ssthresh = 50000; /* not a multiple of MSS */
	sim_round(&cc, &now, 10000, MSS); /* 14600 -> 29200 */
	ASSERT_EQ_U64(cc.cwnd, 29200);
	sim_round(&cc, &now, 10000, MSS); /* would be 58400: stops at ssthresh */
	ASSERT_EQ_U64(cc.cwnd, 50000);
	/* then one MSS per round, never doubling again */
	for (r = 0; r < 20; r++) {
		w = cc.cwnd;
		sim_round(&cc, &now, 10000, MSS);
		CU_ASSERT(cc.cwnd >= w && cc.cwnd <= w + MSS);
	}
	CU_ASSERT(cc.cwnd >= 50000 + 18 * MSS && cc.cwnd <= 50000 + 21 * MSS);
}

static void test_newreno_avoidance_grows_one_mss_per_rtt(void)
{
	struct ftcp_cc cc;
	uint64_t now = 0;
	int r;

	ftcp_cc_start(&cc, &ftcp_cc_newreno, MSS, now);
	cc.cwnd = cc.ssthresh = 100 * MSS;
	for (r = 0; r < 50; r++)
		sim_round(&cc, &now, 20000, MSS);
	CU_ASSERT(cc.cwnd >= 149 * MSS && cc.cwnd <= 151 * MSS);
	/* delayed ACKs: same growth per RTT (byte counting) */
	cc.cwnd = cc.ssthresh = 100 * MSS;
	cc.u.reno.bytes_acked = 0;
	for (r = 0; r < 50; r++)
		sim_round(&cc, &now, 20000, 2 * MSS);
	CU_ASSERT(cc.cwnd >= 149 * MSS && cc.cwnd <= 151 * MSS);
	/* one stretch ACK of ten windows: at most one MSS */
	cc.cwnd = cc.ssthresh = 100 * MSS;
	cc.u.reno.bytes_acked = 0;
	cc.ops->on_ack(&cc, 1000 * MSS, cc.cwnd, 20000, now + 1);
	ASSERT_EQ_U64(cc.cwnd, 101 * MSS);
	CU_ASSERT(cc.u.reno.bytes_acked < cc.cwnd);
}

static void test_newreno_congestion_and_rto(void)
{
	struct ftcp_cc cc;
	uint64_t now = 0;
	int r;

	ftcp_cc_start(&cc, &ftcp_cc_newreno, MSS, now);
	cc.cwnd = 100 * MSS;
	cc.ops->on_congestion(&cc, 100 * MSS, now);
	ASSERT_EQ_U64(cc.ssthresh, 50 * MSS);
	ASSERT_EQ_U64(cc.cwnd, 50 * MSS);
	cc.ops->on_congestion(&cc, 3 * MSS, now);
	ASSERT_EQ_U64(cc.ssthresh, 2 * MSS); /* floor of eq. (4) */
	ASSERT_EQ_U64(cc.cwnd, 2 * MSS);
	cc.ops->on_congestion(&cc, 0, now);
	ASSERT_EQ_U64(cc.cwnd, 2 * MSS);

	cc.cwnd = 80 * MSS;
	cc.ops->on_rto(&cc, 80 * MSS, now);
	ASSERT_EQ_U64(cc.ssthresh, 40 * MSS);
	ASSERT_EQ_U64(cc.cwnd, MSS);
	/* the same segment times out again: ssthresh held (RFC 5681 3.1) */
	cc.ops->on_rto(&cc, MSS, now);
	ASSERT_EQ_U64(cc.ssthresh, 40 * MSS);
	ASSERT_EQ_U64(cc.cwnd, MSS);
	/* slow start from one segment up to ssthresh exactly */
	for (r = 0; r < 6; r++)
		sim_round(&cc, &now, 10000, MSS);
	ASSERT_EQ_U64(cc.cwnd, 40 * MSS);
	/* after ACKs, a new timeout computes ssthresh again */
	cc.ops->on_rto(&cc, 2 * MSS, now);
	ASSERT_EQ_U64(cc.ssthresh, 2 * MSS);
	ASSERT_EQ_U64(cc.cwnd, MSS);
	CU_ASSERT(cc.ops->on_recovery_end == NULL);
}

/* ---- CUBIC ---- */

static int icbrt_is_floor(uint64_t x, uint64_t r)
{
	/* r^3 <= x < (r+1)^3 without 128-bit products:
	 * floor(floor(x/a)/a) == floor(x/a^2). */
	if (r > 0 && x / r / r < r)
		return 0;
	return x / (r + 1) / (r + 1) < r + 1;
}

static void test_cubic_icbrt_exact_for_cubes(void)
{
	uint64_t n, bad = 0;

	for (n = 0; n <= 2642245; n++) {
		uint64_t c = n * n * n;
		if (ftcp_cc_icbrt64(c) != n)
			bad++;
		if (n > 0 && ftcp_cc_icbrt64(c - 1) != n - 1)
			bad++;
		if (n < 2642245 && ftcp_cc_icbrt64(c + 3 * n * n + 3 * n) != n)
			bad++; /* (n+1)^3 - 1 */
	}
	ASSERT_EQ_U64(bad, 0);
	ASSERT_EQ_U64(ftcp_cc_icbrt64(UINT64_MAX), 2642245);
	ASSERT_EQ_U64(ftcp_cc_icbrt64(1), 1);
	ASSERT_EQ_U64(ftcp_cc_icbrt64(7), 1);
	ASSERT_EQ_U64(ftcp_cc_icbrt64(8), 2);
}

static void test_cubic_icbrt_random_values(void)
{
	uint64_t bad = 0, nonmono = 0, far = 0;
	int i;

	for (i = 0; i < 200000; i++) {
		/* every magnitude: shift a random word down by 0..63 bits */
		uint64_t x = rng() >> (i % 64), y = x + (rng() >> (i % 64) >> 9);
		uint32_t rx = ftcp_cc_icbrt64(x), ry;
		double d;

		if (y < x)
			y = x; /* no wrap */
		ry = ftcp_cc_icbrt64(y);
		if (!icbrt_is_floor(x, rx))
			bad++;
		if (ry < rx)
			nonmono++;
		d = dcbrt((double)x);
		if (dabs(d - rx) > 1.0)
			far++;
	}
	ASSERT_EQ_U64(bad, 0);
	ASSERT_EQ_U64(nonmono, 0);
	ASSERT_EQ_U64(far, 0);
}

/* A CUBIC cc in congestion avoidance at cwnd = w bytes, reduced by a loss
 * and with the epoch started by one ACK at *now. */
static void cubic_after_loss(struct ftcp_cc *cc, uint32_t mss, uint32_t w, uint64_t *now,
                             uint32_t rtt_us)
{
	ftcp_cc_start(cc, &ftcp_cc_cubic, mss, *now);
	cc->cwnd = w;
	cc->ops->on_congestion(cc, w, *now);
	*now += rtt_us;
}

static void test_cubic_reduction_is_beta(void)
{
	struct ftcp_cc cc;
	uint64_t now = 5;
	static const uint32_t segs[] = {3, 10, 100, 1000, 100000, 700000};
	size_t i;

	for (i = 0; i < FTCP_ARRAY_SIZE(segs); i++) {
		uint32_t w = segs[i] * MSS;
		cubic_after_loss(&cc, MSS, w, &now, 0);
		ASSERT_EQ_U64(cc.u.cubic.w_max, w);
		CU_ASSERT(dabs(cc.cwnd - 0.7 * w) <= MSS);
		ASSERT_EQ_U64(cc.ssthresh, cc.cwnd);
		CU_ASSERT(cc.cwnd >= 2 * MSS);
	}
	/* at least 2 SMSS */
	cubic_after_loss(&cc, MSS, 2 * MSS, &now, 0);
	ASSERT_EQ_U64(cc.cwnd, 2 * MSS);
	ASSERT_EQ_U64(cc.ssthresh, 2 * MSS);
	cubic_after_loss(&cc, MSS, 100, &now, 0);
	ASSERT_EQ_U64(cc.cwnd, 2 * MSS);
}

static void test_cubic_k_and_curve_match_formula(void)
{
	static const uint32_t segs[] = {3, 10, 100, 1000, 10000, 100000, 735439};
	static const uint32_t mss[] = {536, 1460, 9000};
	size_t i, j;

	for (j = 0; j < FTCP_ARRAY_SIZE(mss); j++) {
		for (i = 0; i < FTCP_ARRAY_SIZE(segs); i++) {
			struct ftcp_cc cc;
			uint64_t now = 1000000;
			uint64_t w = (uint64_t)segs[i] * mss[j];
			double wmax, k, t;

			if (w > FTCP_CC_MAX_CWND)
				continue;
			cubic_after_loss(&cc, mss[j], (uint32_t)w, &now, 0);
			cc.ops->on_ack(&cc, 1, cc.cwnd, 0, now); /* starts the epoch */
			CU_ASSERT_FATAL(cc.u.cubic.in_epoch);
			wmax = (double)cc.u.cubic.w_max / mss[j];
			/* Figure 2 with cwnd_epoch = the reduced cwnd */
			k = dcbrt((wmax - (double)cc.ssthresh / mss[j]) / 0.4);
			if (dabs(cc.u.cubic.k_us - k * 1e6) > 110) {
				fprintf(stderr, "\n  K %u us, expected %.0f us (w_max %.0f segs, mss %u)\n",
				        cc.u.cubic.k_us, k * 1e6, wmax, mss[j]);
				CU_FAIL("K off");
			}
			/* roughly 0.9086 * cbrt(W_max) for the classic K */
			CU_ASSERT(dabs(k - dcbrt(wmax * 0.75)) < 0.01 * k + 0.01);
			/* W_cubic(t) against the formula, before and after K */
			for (t = 0; t < 3 * k + 1; t += k / 7 + 0.013) {
				double want = w_cubic_seg(t, k, wmax) * mss[j];
				double got = ftcp_cc_cubic_window(&cc, (uint64_t)(t * 1e6));
				/* the core rounds t - K to 1 ms: allow 1 ms of slope */
				double d = dabs(t - k) + 0.001;
				double slope = 1.2 * d * d * mss[j] * 0.001;

				if (want > FTCP_CC_MAX_CWND)
					want = FTCP_CC_MAX_CWND;
				if (want < 0)
					want = 0;
				if (dabs(got - want) > slope + 2) {
					fprintf(stderr, "\n  W(%.3f) = %.0f, expected %.0f\n", t, got, want);
					CU_FAIL("W_cubic off");
				}
			}
		}
	}
}

/* RTT 100 ms, loss at 1000 segments, ACK per segment: the window follows
 * the cubic curve (the Reno estimate stays below it at this RTT). */
static void test_cubic_follows_curve_after_loss(void)
{
	const uint32_t rtt = 100000;
	struct ftcp_cc cc;
	uint64_t now = 7000000, epoch;
	double k, wmax = 1000, worst = 0;
	uint32_t prev = 0, grow_early = 0, grow_plateau = 0, grow_late = 0;
	int r;

	cubic_after_loss(&cc, MSS, 1000 * MSS, &now, rtt);
	ASSERT_EQ_U64(cc.cwnd, 700 * MSS);
	k = dcbrt((wmax - 700) / 0.4); /* 9.086 s */
	epoch = now + rtt / cc.cwnd * MSS; /* the first ACK of the round */
	for (r = 0; r < 200; r++) {
		double t, want, err;
		uint32_t before = cc.cwnd;

		sim_round(&cc, &now, rtt, MSS);
		CU_ASSERT_FATAL(cc.cwnd >= before);
		t = (double)(now - epoch) / 1e6;
		/* cwnd closes the gap to W(t + RTT) within the round, so it ends
		 * the round close to W(t) */
		want = w_cubic_seg(t, k, wmax);
		err = (double)cc.cwnd / MSS - want;
		if (dabs(err) > dabs(worst))
			worst = err;
		if (dabs(err) > 1) { /* measured: within 0.15 segments */
			fprintf(stderr, "\n  round %d t=%.2f cwnd %.1f segs, W_cubic %.1f\n", r, t,
			        (double)cc.cwnd / MSS, want);
			CU_FAIL("cwnd off the cubic curve");
			break;
		}
		CU_ASSERT(cc.u.cubic.w_est < cc.cwnd); /* not Reno-friendly here */
		if (r == 10)
			grow_early = cc.cwnd - prev;
		if (t > k - 0.05 && t < k + 0.15)
			grow_plateau = cc.cwnd - prev;
		if (r == 199)
			grow_late = cc.cwnd - prev;
		if (t > k - 0.05 && t < k + 0.15) /* plateau near W_max at t = K */
			CU_ASSERT(dabs((double)cc.cwnd / MSS - wmax) < 3);
		prev = cc.cwnd;
	}
	/* concave before K (slowing), flat around K, convex after (speeding) */
	CU_ASSERT(grow_early > 5 * MSS); /* 1.2 * (K - 1.1)^2 * RTT = 7.7 */
	CU_ASSERT(grow_plateau < MSS);
	CU_ASSERT(grow_late > grow_early);
	/* at t ~ 2K the curve is back to 1.3 * W_max */
	CU_ASSERT(cc.cwnd > 1300 * MSS);
	if (dabs(worst) > 1.5)
		fprintf(stderr, "\n  worst deviation %.2f segments\n", worst);
}

/* Short RTT, small window: Reno's linear growth beats the cubic curve and
 * cwnd follows W_est (RFC 9438 4.3), alpha 9/17 up to cwnd_prior, 1 after. */
static void test_cubic_reno_friendly_for_small_windows(void)
{
	const uint32_t rtt = 1000;
	struct ftcp_cc cc;
	uint64_t now = 0, epoch;
	double west = 14, k = dcbrt(6 / 0.4);
	int r;

	cubic_after_loss(&cc, MSS, 20 * MSS, &now, rtt);
	ASSERT_EQ_U64(cc.cwnd, 14 * MSS);
	ASSERT_EQ_U64(cc.u.cubic.cwnd_prior, 20 * MSS);
	epoch = now + rtt / 14;
	for (r = 0; r < 200; r++) {
		uint32_t w = cc.cwnd, n = w / MSS, i;
		uint64_t start = now;

		for (i = 0; i < n; i++) {
			/* the same estimate in double precision, per ACK */
			west += (west >= 20 ? 1.0 : 9.0 / 17) * MSS / cc.cwnd;
			now = start + (uint64_t)rtt * (i + 1) / n;
			cc.ops->on_ack(&cc, MSS, w, rtt, now);
		}
		if (dabs((double)cc.cwnd / MSS - west) > 0.5) {
			fprintf(stderr, "\n  round %d cwnd %.2f segs, W_est %.2f\n", r,
			        (double)cc.cwnd / MSS, west);
			CU_FAIL("cwnd is not W_est");
			break;
		}
	}
	/* ~11 rounds at 9/17, then one segment per round */
	if (!(west > 195 && west < 210))
		fprintf(stderr, "\n  W_est %.2f segments\n", west);
	CU_ASSERT(west > 195 && west < 210);
	CU_ASSERT((double)cc.cwnd / MSS > w_cubic_seg((double)(now - epoch) / 1e6, k, 20) + 100);
	ASSERT_EQ_U64(cc.cwnd, cc.u.cubic.w_est);
}

static void test_cubic_fast_convergence(void)
{
	const uint32_t rtt = 100000;
	struct ftcp_cc cc;
	uint64_t now = 0;
	int r;

	cubic_after_loss(&cc, MSS, 1000 * MSS, &now, rtt);
	for (r = 0; r < 20; r++)
		sim_round(&cc, &now, rtt, MSS);
	CU_ASSERT(cc.cwnd > 800 * MSS && cc.cwnd < 1000 * MSS);
	/* a loss below the previous W_max: W_max = cwnd * (1 + beta) / 2 */
	{
		uint32_t w = cc.cwnd;
		cc.ops->on_congestion(&cc, w, now);
		CU_ASSERT(dabs(cc.u.cubic.w_max - 0.85 * w) <= 1);
		CU_ASSERT(dabs(cc.cwnd - 0.7 * w) <= 1);
		ASSERT_EQ_U64(cc.u.cubic.cwnd_prior, w);
		/* so the new plateau is lower than the old W_max */
		now += rtt;
		sim_round(&cc, &now, rtt, MSS);
		CU_ASSERT(cc.u.cubic.w_max < 1000 * MSS);
		CU_ASSERT(dabs(cc.u.cubic.k_us - 1e6 * dcbrt((0.85 * w - (double)cc.ssthresh) / MSS / 0.4)) <
		          1000);
	}
	/* a loss above the previous W_max: W_max = cwnd */
	cubic_after_loss(&cc, MSS, 1000 * MSS, &now, rtt);
	cc.cwnd = 1200 * MSS;
	cc.ops->on_congestion(&cc, cc.cwnd, now);
	ASSERT_EQ_U64(cc.u.cubic.w_max, 1200 * MSS);
}

static void test_cubic_rto_then_slow_start(void)
{
	const uint32_t rtt = 50000;
	struct ftcp_cc cc;
	uint64_t now = 0;
	uint32_t w;
	int r;

	ftcp_cc_start(&cc, &ftcp_cc_cubic, MSS, now);
	cc.cwnd = 100 * MSS;
	cc.ops->on_rto(&cc, 100 * MSS, now);
	ASSERT_EQ_U64(cc.cwnd, MSS);
	ASSERT_EQ_U64(cc.ssthresh, 70 * MSS);
	/* again before any ACK: ssthresh held */
	cc.ops->on_rto(&cc, MSS, now);
	ASSERT_EQ_U64(cc.cwnd, MSS);
	ASSERT_EQ_U64(cc.ssthresh, 70 * MSS);
	/* slow start doubling, capped at ssthresh */
	for (r = 0; r < 6; r++) {
		w = cc.cwnd;
		sim_round(&cc, &now, rtt, MSS);
		ASSERT_EQ_U64(cc.cwnd, 2 * w);
	}
	ASSERT_EQ_U64(cc.cwnd, 64 * MSS);
	CU_ASSERT(!cc.u.cubic.in_epoch);
	sim_round(&cc, &now, rtt, MSS);
	CU_ASSERT(cc.cwnd >= 70 * MSS && cc.cwnd < 72 * MSS);
	/* 4.8: the epoch began at cwnd = ssthresh with K = 0 and W_max there */
	CU_ASSERT(cc.u.cubic.in_epoch);
	ASSERT_EQ_U64(cc.u.cubic.k_us, 0);
	ASSERT_EQ_U64(cc.u.cubic.w_max, 70 * MSS);
	/* and grows from there (convex, or Reno-friendly), never shrinking */
	for (r = 0; r < 100; r++) {
		w = cc.cwnd;
		sim_round(&cc, &now, rtt, MSS);
		CU_ASSERT_FATAL(cc.cwnd >= w);
	}
	CU_ASSERT(cc.cwnd > 100 * MSS);
}

static void test_cubic_slow_start_and_first_epoch(void)
{
	struct ftcp_cc cc;
	uint64_t now = 0;
	uint32_t w;
	int r;

	ftcp_cc_start(&cc, &ftcp_cc_cubic, MSS, now);
	cc.ops->on_ack(&cc, 5 * MSS, cc.cwnd, 0, 1);
	ASSERT_EQ_U64(cc.cwnd, 14600 + 2 * MSS); /* RFC 3465 L = 2 */
	ftcp_cc_start(&cc, &ftcp_cc_cubic, MSS, now);
	for (r = 0; r < 5; r++) {
		w = cc.cwnd;
		sim_round(&cc, &now, 10000, MSS);
		ASSERT_EQ_U64(cc.cwnd, 2 * w);
	}
	CU_ASSERT(!cc.u.cubic.in_epoch);
	/* ssthresh reached without a loss: W_max = cwnd and K = 0 */
	cc.ssthresh = cc.cwnd;
	sim_round(&cc, &now, 10000, MSS);
	CU_ASSERT(cc.u.cubic.in_epoch);
	ASSERT_EQ_U64(cc.u.cubic.w_max, cc.ssthresh);
	ASSERT_EQ_U64(cc.u.cubic.k_us, 0);
	/* no RTT sample: no lookahead, so no faster than with one */
	{
		struct ftcp_cc a, b;
		now = 0;
		cubic_after_loss(&a, MSS, 1000 * MSS, &now, 0);
		b = a;
		for (r = 0; r < 1000; r++) {
			now += 100;
			a.ops->on_ack(&a, MSS, a.cwnd, 0, now);
			b.ops->on_ack(&b, MSS, b.cwnd, 100000, now);
		}
		CU_ASSERT(a.cwnd <= b.cwnd);
		CU_ASSERT(a.cwnd > 700 * MSS);
	}
}

/* Windows up to 1 GB, RTT 10 s, and hostile inputs: nothing wraps. */
static void test_cc_no_overflow_with_large_windows(void)
{
	const uint32_t rtt = 10000000;
	struct ftcp_cc cc;
	uint64_t now = 0;
	uint32_t w;
	int r;

	cubic_after_loss(&cc, MSS, FTCP_CC_MAX_CWND, &now, rtt);
	CU_ASSERT(dabs(cc.cwnd - 0.7 * FTCP_CC_MAX_CWND) <= MSS);
	for (r = 0; r < 60; r++) {
		w = cc.cwnd;
		sim_round(&cc, &now, rtt, cc.cwnd / 10);
		CU_ASSERT_FATAL(cc.cwnd >= w);
		CU_ASSERT_FATAL(cc.cwnd <= FTCP_CC_MAX_CWND);
	}
	/* K = cbrt(0.75 * 735439) ~ 82 s; 600 s later the curve is past the
	 * cap */
	ASSERT_EQ_U64(cc.cwnd, FTCP_CC_MAX_CWND);
	CU_ASSERT(dabs(cc.u.cubic.k_us - 1e6 * dcbrt((FTCP_CC_MAX_CWND - 0.7 * FTCP_CC_MAX_CWND) /
	                                              MSS / 0.4)) < 1000);

	/* hostile arguments to both modules */
	{
		const struct ftcp_cc_ops *ops[] = {&ftcp_cc_newreno, &ftcp_cc_cubic};
		size_t j;

		for (j = 0; j < 2; j++) {
			ftcp_cc_start(&cc, ops[j], 9000, 0);
			cc.cwnd = FTCP_CC_MAX_CWND - 1;
			cc.ops->on_ack(&cc, UINT32_MAX, UINT32_MAX, UINT32_MAX, 1);
			ASSERT_EQ_U64(cc.cwnd, FTCP_CC_MAX_CWND);
			cc.ops->on_congestion(&cc, UINT32_MAX, 2);
			CU_ASSERT(cc.cwnd >= 2 * 9000 && cc.cwnd <= FTCP_CC_MAX_CWND);
			for (r = 0; r < 100; r++) {
				w = cc.cwnd;
				cc.ops->on_ack(&cc, UINT32_MAX, UINT32_MAX, UINT32_MAX,
				               (uint64_t)r << 40);
				CU_ASSERT_FATAL(cc.cwnd >= w && cc.cwnd <= FTCP_CC_MAX_CWND);
			}
			ASSERT_EQ_U64(cc.cwnd, FTCP_CC_MAX_CWND);
			/* the clock going backwards and huge jumps */
			cc.ops->on_congestion(&cc, cc.cwnd, UINT64_MAX);
			cc.ops->on_ack(&cc, 9000, cc.cwnd, 1, UINT64_MAX);
			w = cc.cwnd;
			cc.ops->on_ack(&cc, 9000, cc.cwnd, 1, 0);
			CU_ASSERT(cc.cwnd >= w && cc.cwnd <= FTCP_CC_MAX_CWND);
			cc.ops->on_rto(&cc, UINT32_MAX, UINT64_MAX);
			ASSERT_EQ_U64(cc.cwnd, 9000);
			CU_ASSERT(cc.ssthresh >= 2 * 9000);
		}
	}
}

/* TCP may change mss under the module (PMTU), even to silly values. */
static void test_cc_mss_changes(void)
{
	static const uint32_t mss_seq[] = {1460, 536, 9000, 0, 100000, 1460};
	const struct ftcp_cc_ops *ops[] = {&ftcp_cc_newreno, &ftcp_cc_cubic};
	size_t i, j;

	for (j = 0; j < 2; j++) {
		struct ftcp_cc cc;
		uint64_t now = 0;
		int r;

		ftcp_cc_start(&cc, ops[j], 1460, now);
		cc.cwnd = 500 * 1460;
		cc.ops->on_congestion(&cc, cc.cwnd, now);
		for (i = 0; i < FTCP_ARRAY_SIZE(mss_seq); i++) {
			uint32_t m = mss_seq[i], eff = m == 0 ? 1 : (m > 65535 ? 65535 : m);

			cc.mss = m;
			for (r = 0; r < 20; r++) {
				uint32_t w = cc.cwnd;
				sim_round(&cc, &now, 20000, eff > 9000 ? 9000 : (eff < 536 ? 536 : eff));
				CU_ASSERT_FATAL(cc.cwnd >= w && cc.cwnd <= FTCP_CC_MAX_CWND);
			}
			cc.ops->on_congestion(&cc, cc.cwnd, now);
			CU_ASSERT(cc.cwnd >= 2 * eff);
			CU_ASSERT(cc.ssthresh >= 2 * eff);
		}
		cc.mss = 9000;
		cc.ops->on_rto(&cc, cc.cwnd, now);
		ASSERT_EQ_U64(cc.cwnd, 9000);
	}
}

void register_tcp_cc_tests(void)
{
	FTCP_SUITE("tcp_cc",
	           FTCP_CASE(test_cc_find_by_name),
	           FTCP_CASE(test_cc_initial_window_rfc6928),
	           FTCP_CASE(test_newreno_slow_start_doubles_per_rtt),
	           FTCP_CASE(test_newreno_abc_limits_growth_per_ack),
	           FTCP_CASE(test_newreno_switches_to_avoidance_at_ssthresh),
	           FTCP_CASE(test_newreno_avoidance_grows_one_mss_per_rtt),
	           FTCP_CASE(test_newreno_congestion_and_rto),
	           FTCP_CASE(test_cubic_icbrt_exact_for_cubes),
	           FTCP_CASE(test_cubic_icbrt_random_values),
	           FTCP_CASE(test_cubic_reduction_is_beta),
	           FTCP_CASE(test_cubic_k_and_curve_match_formula),
	           FTCP_CASE(test_cubic_follows_curve_after_loss),
	           FTCP_CASE(test_cubic_reno_friendly_for_small_windows),
	           FTCP_CASE(test_cubic_fast_convergence),
	           FTCP_CASE(test_cubic_rto_then_slow_start),
	           FTCP_CASE(test_cubic_slow_start_and_first_epoch),
	           FTCP_CASE(test_cc_no_overflow_with_large_windows),
	           FTCP_CASE(test_cc_mss_changes));
}
