/*
 * ftcp_tcp_cc.c — congestion control module lookup, the initial window
 * (RFC 6928) and the integer cube root CUBIC needs.
 */
#include "tcp/ftcp_tcp_cc.h"

static const struct ftcp_cc_ops *const cc_modules[] = {
	&ftcp_cc_cubic,
	&ftcp_cc_newreno,
};

static bool name_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

const struct ftcp_cc_ops *ftcp_cc_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < FTCP_ARRAY_SIZE(cc_modules); i++)
		if (name_eq(name, cc_modules[i]->name))
			return cc_modules[i];
	return NULL;
}

uint32_t ftcp_cc_initial_window(uint32_t mss)
{
	/* RFC 6928 2: min(10*MSS, max(2*MSS, 14600)); 64 bits so that no mss
	 * wraps the products. */
	uint64_t lo = (uint64_t)mss * 2, hi = (uint64_t)mss * 10;
	uint64_t iw = FTCP_MIN(hi, FTCP_MAX(lo, 14600u));
	return iw > FTCP_CC_MAX_CWND ? FTCP_CC_MAX_CWND : (uint32_t)iw;
}

void ftcp_cc_start(struct ftcp_cc *cc, const struct ftcp_cc_ops *ops, uint32_t mss,
                   uint64_t now_us)
{
	ftcp_memset(cc, 0, sizeof(*cc));
	cc->ops = ops ? ops : &ftcp_cc_cubic;
	cc->mss = mss;
	cc->ops->init(cc, now_us);
}

/*
 * Digit-by-digit cube root in base 2: take x three bits at a time from the
 * top. With y the root so far, appending bit 1 gives (2y+1)^3 = 8y^3 +
 * 3*(2y)*(2y+1) + 1, so the bit is 1 when the remainder (shifted to the
 * current digit) holds 3*(2y)*(2y+1) + 1. 22 steps, no division, exact.
 */
uint32_t ftcp_cc_icbrt64(uint64_t x)
{
	uint64_t y = 0;
	int s;

	for (s = 63; s >= 0; s -= 3) {
		uint64_t b;

		y <<= 1;
		b = 3 * y * (y + 1) + 1;
		/* b << s <= x whenever the test holds, so it cannot wrap. */
		if ((x >> s) >= b) {
			x -= b << s;
			y++;
		}
	}
	return (uint32_t)y;
}

uint32_t ftcp_cc_slow_start(struct ftcp_cc *cc, uint32_t acked)
{
	uint32_t inc, room;

	if (cc->cwnd >= cc->ssthresh)
		return acked;
	inc = FTCP_MIN(acked, 2 * ftcp_cc_smss(cc));
	room = cc->ssthresh - cc->cwnd;
	/* Stretch ACKs are limited to L*SMSS per ACK, which bounds bursts. */
	if (inc < room || cc->ssthresh >= FTCP_CC_MAX_CWND) {
		cc->cwnd = ftcp_cc_add_cap(cc->cwnd, inc);
		return 0;
	}
	/* Stop at ssthresh; the rest of this ACK counts toward avoidance. */
	cc->cwnd = cc->ssthresh;
	return acked - room;
}
