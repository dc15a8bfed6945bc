/*
 * ftcp_tx.c — the TX fifo: frames built by ARP, ICMP and UDP wait here for
 * step 3 of the poll loop, which hands them to the device in bursts.
 * Records are a struct ftcp_frame_desc followed by the frame.
 */
#include "stack/ftcp_stack_internal.h"

uint8_t *ftcp_tx_reserve(struct ftcp_stack *s, uint32_t len, struct ftcp_frame_desc **desc)
{
	uint8_t *p = ftcp_fifo_reserve(&s->txq, (uint32_t)sizeof(**desc) + len);

	if (!p) {
		s->ctr.drop_tx_fifo_full++;
		return NULL;
	}
	*desc = (struct ftcp_frame_desc *)(void *)p;
	ftcp_memset(*desc, 0, sizeof(**desc));
	return p + sizeof(**desc);
}

void ftcp_tx_commit(struct ftcp_stack *s, struct ftcp_frame_desc *desc, uint32_t len)
{
	desc->len = len;
	ftcp_fifo_commit(&s->txq, (uint32_t)sizeof(*desc) + len);
}

int ftcp_tx_flush(struct ftcp_stack *s)
{
	struct ftcp_device *dev = s->dev;
	int sent_total = 0;

	while (!ftcp_fifo_empty(&s->txq)) {
		uint16_t n = 0, sent, i;
		uint32_t cursor = s->txq.tail;
		uint8_t *rec;

		/* Gather up to tx_burst records without popping them. */
		while (n < s->cfg.tx_burst && (rec = ftcp_fifo_peek_at(&s->txq, &cursor, NULL))) {
			const struct ftcp_frame_desc *d = (const void *)rec;
			struct ftcp_tx_frame *f = &s->tx_frames[n++];
			f->hdr = rec + sizeof(*d);
			f->hdr_len = d->len;
			f->payload = f->payload2 = NULL;
			f->payload_len = f->payload2_len = 0;
			f->flags = d->tx_flags;
			f->l2_len = FTCP_ETH_HLEN;
			f->l3_len = d->l3_len;
			f->l4_len = d->l4_len;
			f->tso_segsz = 0;
			f->pin = NULL;
		}
		sent = dev->ops->tx_burst(dev, s->tx_frames, n, s->now);
		for (i = 0; i < sent; i++) {
			s->ctr.eth_tx_frames++;
			s->ctr.eth_tx_bytes += s->tx_frames[i].hdr_len;
			ftcp_fifo_pop(&s->txq);
		}
		sent_total += sent;
		if (sent < n) { /* the device is full: try again next poll */
			s->ctr.tx_device_busy++;
			break;
		}
	}
	if (sent_total && s->tx_blocked)
		ftcp_sock_tx_space(s);
	return sent_total;
}
