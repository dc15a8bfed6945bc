/*
 * ftcp_tcp_reass.c — the receiver's side of the byte stream: segments are
 * copied once, straight to their place in the receive queue; in-order bytes
 * become readable at once, out-of-order ones are remembered as ranges until
 * the gap fills (the seed design's "placed by sequence number, delivered
 * when the gap fills"). Also the receive window, the SACK blocks we send
 * (RFC 2018) and the send queue's reclaim of acknowledged bytes.
 */
#include "stack/ftcp_stack_internal.h"

/* Make range i the most recently changed. */
static void touch(struct ftcp_tcb *t, unsigned i)
{
	unsigned k;
	for (k = 0; k < t->n_ooo; k++)
		if (t->ooo_age[k] < t->ooo_age[i])
			t->ooo_age[k]++;
	t->ooo_age[i] = 0;
}

static void remove_range(struct ftcp_tcb *t, unsigned i)
{
	unsigned k, age = t->ooo_age[i];

	for (k = i; k + 1 < t->n_ooo; k++) {
		t->ooo[k] = t->ooo[k + 1];
		t->ooo_age[k] = t->ooo_age[k + 1];
	}
	t->n_ooo--;
	for (k = 0; k < t->n_ooo; k++)
		if (t->ooo_age[k] > age)
			t->ooo_age[k]--;
}

/* Record [start, end) as held out of order; false if the range table is
 * full and the range touches none already held. */
static bool add_range(struct ftcp_tcb *t, uint32_t start, uint32_t end)
{
	unsigned i, k;

	for (i = 0; i < t->n_ooo; i++) {
		struct ftcp_sack_range *r = &t->ooo[i];
		if (ftcp_seq_lt(end, r->start))
			break; /* goes before r, touching nothing */
		if (ftcp_seq_le(start, r->end)) {
			/* Overlaps or touches r: grow r, then swallow followers. */
			r->start = ftcp_seq_min(r->start, start);
			r->end = ftcp_seq_max(r->end, end);
			while (i + 1 < t->n_ooo && ftcp_seq_le(t->ooo[i + 1].start, r->end)) {
				r->end = ftcp_seq_max(r->end, t->ooo[i + 1].end);
				remove_range(t, i + 1);
			}
			touch(t, i);
			return true;
		}
	}
	if (t->n_ooo == FTCP_TCP_OOO_MAX)
		return false;
	for (k = t->n_ooo; k > i; k--) {
		t->ooo[k] = t->ooo[k - 1];
		t->ooo_age[k] = t->ooo_age[k - 1];
	}
	t->ooo[i].start = start;
	t->ooo[i].end = end;
	t->ooo_age[i] = (uint8_t)t->n_ooo; /* oldest for now; touch fixes it */
	t->n_ooo++;
	touch(t, i);
	return true;
}

uint32_t ftcp_tcp_reass(struct ftcp_tcb *t, uint32_t seq, const uint8_t *data, uint32_t len,
                        bool *dropped)
{
	uint32_t off = seq - t->rcv_nxt, n, end;

	*dropped = false;
	if (!off && !t->n_ooo) {
		/* In order with nothing held: append and make readable at
		 * once (write_at at 0 plus produce, in one step). */
		n = ftcp_queue_write(&t->rxq, data, len);
		*dropped = n < len;
		return n;
	}
	n = ftcp_queue_write_at(&t->rxq, off, data, len);
	if (n < len)
		*dropped = true; /* beyond the buffer: the window check let it in */
	if (!n)
		return 0;
	if (off) {
		if (!add_range(t, seq, seq + n))
			*dropped = true;
		return 0;
	}
	/* In order: extend over any held ranges the new bytes reach. */
	end = seq + n;
	while (t->n_ooo && ftcp_seq_le(t->ooo[0].start, end)) {
		end = ftcp_seq_max(end, t->ooo[0].end);
		remove_range(t, 0);
	}
	return ftcp_queue_produce(&t->rxq, end - t->rcv_nxt);
}

unsigned ftcp_tcp_sack_blocks(const struct ftcp_tcb *t, struct ftcp_tcp_sack_block *out,
                              unsigned max)
{
	unsigned n = 0, age, i;

	/* Newest first (RFC 2018 4: the first block reports the most recent
	 * segment), then older ones, so repeated ACKs cover every range. */
	for (age = 0; age < t->n_ooo && n < max; age++)
		for (i = 0; i < t->n_ooo; i++)
			if (t->ooo_age[i] == age) {
				out[n].start = t->ooo[i].start;
				out[n].end = t->ooo[i].end;
				n++;
				break;
			}
	return n;
}

/* Space the receiver may offer: the free queue, within SO_RCVBUF. */
static uint32_t rcv_space(const struct ftcp_tcb *t)
{
	uint32_t used = ftcp_queue_used(&t->rxq), free_bytes = ftcp_queue_free(&t->rxq);

	if (t->rcvbuf < t->rxq.size)
		free_bytes = t->rcvbuf > used ? FTCP_MIN(free_bytes, t->rcvbuf - used) : 0;
	return free_bytes;
}

uint32_t ftcp_tcp_rcv_window(const struct ftcp_tcb *t)
{
	uint32_t space = rcv_space(t), promised, sws, unit = 1u << t->rcv_wscale;
	uint32_t max_wnd = (uint32_t)0xffff << t->rcv_wscale;

	promised = ftcp_seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
	/* Receiver silly-window avoidance (RFC 9293 3.8.6.2.2): move the right
	 * edge only by at least min(buffer/2, MSS). */
	sws = FTCP_MIN(t->rcvbuf / 2, (uint32_t)t->mss);
	if (space < promised + sws)
		space = promised; /* never shrink what we offered (3.8.6.2.2) */
	space = FTCP_MIN(space, max_wnd);
	/* The field carries space >> rcv_wscale: round up so the right edge
	 * does not move left; the extra is under one unit. */
	return (space + unit - 1) & ~(unit - 1);
}

bool ftcp_tcp_reclaim_pending(const struct ftcp_tcb *t)
{
	return t->pins.waiting || ftcp_seq_gt(t->pins.pending_to, t->tx_seq);
}

void ftcp_tcp_reclaim(struct ftcp_tcb *t)
{
	struct ftcp_tcp_pins *p = &t->pins;
	uint32_t target;

	if (p->waiting) {
		if (p->pin[p->epoch ^ 1].refs)
			return; /* frames sent before the wait still hold bytes */
		p->waiting = false;
		target = p->reclaim_to;
	} else if (!p->pin[0].refs && !p->pin[1].refs) {
		target = p->pending_to;
	} else {
		/* Frames hold bytes: what was acknowledged so far is freed once
		 * the frames of the current epoch are done; new frames pin the
		 * other epoch meanwhile. */
		if (p->pending_to == t->tx_seq)
			return;
		p->waiting = true;
		p->reclaim_to = p->pending_to;
		p->epoch ^= 1;
		return;
	}
	/* Never past what is queued, whatever the caller computed. */
	if (ftcp_seq_gt(target, t->tx_seq))
		t->tx_seq += ftcp_queue_read(&t->txq, NULL, target - t->tx_seq);
}
