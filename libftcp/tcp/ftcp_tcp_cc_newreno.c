/*
 * ftcp_tcp_cc_newreno.c — Reno window growth and reduction (RFC 5681) with
 * appropriate byte counting (RFC 3465, L = 2). The NewReno part, partial
 * ACKs and cwnd inflation during recovery (RFC 6582), lives in TCP.
 */
#include "tcp/ftcp_tcp_cc.h"

static void newreno_init(struct ftcp_cc *cc, uint64_t now_us)
{
	FTCP_UNUSED(now_us);
	cc->cwnd = ftcp_cc_initial_window(ftcp_cc_smss(cc));
	cc->ssthresh = FTCP_CC_INFINITE_SSTHRESH;
	cc->u.reno.bytes_acked = 0;
}

static void newreno_on_ack(struct ftcp_cc *cc, uint32_t acked, uint32_t flight,
                           uint32_t srtt_us, uint64_t now_us)
{
	uint32_t mss = ftcp_cc_smss(cc);

	FTCP_UNUSED(flight);
	FTCP_UNUSED(srtt_us);
	FTCP_UNUSED(now_us);
	if (acked == 0)
		return;
	cc->rto_again = false;
	acked = ftcp_cc_slow_start(cc, acked); /* RFC 5681 3.1, RFC 3465 2.2 */
	if (acked == 0)
		return;
	/* Congestion avoidance: one SMSS each time a whole cwnd of bytes has
	 * been acknowledged (RFC 3465 2.1, RFC 5681 3.1 eq. 3's byte-counting
	 * form). At most one SMSS per ACK, and the carried count stays below
	 * cwnd, so a stretch ACK cannot buy several increments. */
	{
		uint64_t ba = (uint64_t)cc->u.reno.bytes_acked + acked;

		if (ba >= cc->cwnd) {
			ba -= cc->cwnd;
			cc->cwnd = ftcp_cc_add_cap(cc->cwnd, mss);
			if (ba >= cc->cwnd)
				ba = cc->cwnd - 1;
		}
		cc->u.reno.bytes_acked = (uint32_t)ba;
	}
}

/* RFC 5681 3.1 eq. (4): ssthresh = max(FlightSize / 2, 2*SMSS), and no
 * more than cwnd may ever be (a bogus flight must not make cwnd huge). */
static uint32_t newreno_ssthresh(const struct ftcp_cc *cc, uint32_t flight)
{
	return FTCP_MIN(FTCP_MAX(flight / 2, 2 * ftcp_cc_smss(cc)), FTCP_CC_MAX_CWND);
}

static void newreno_on_congestion(struct ftcp_cc *cc, uint32_t flight, uint64_t now_us)
{
	FTCP_UNUSED(now_us);
	/* Fast retransmit (RFC 5681 3.2 step 2-3, RFC 6675 5): cwnd becomes
	 * ssthresh; TCP inflates it for the recovery if it does NewReno. */
	cc->ssthresh = newreno_ssthresh(cc, flight);
	cc->cwnd = cc->ssthresh;
	cc->u.reno.bytes_acked = 0;
	cc->rto_again = false;
}

static void newreno_on_rto(struct ftcp_cc *cc, uint32_t flight, uint64_t now_us)
{
	FTCP_UNUSED(now_us);
	/* RFC 5681 3.1: loss window of one segment, then slow start; ssthresh
	 * is held when the retransmission timed out again. */
	if (!cc->rto_again)
		cc->ssthresh = newreno_ssthresh(cc, flight);
	cc->rto_again = true;
	cc->cwnd = ftcp_cc_smss(cc);
	cc->u.reno.bytes_acked = 0;
}

const struct ftcp_cc_ops ftcp_cc_newreno = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.on_congestion = newreno_on_congestion,
	.on_rto = newreno_on_rto,
	.on_recovery_end = NULL, /* cwnd is already ssthresh: TCP deflates */
};
