/*
 * ftcp_queue.h — the byte "queue" of the seed design: a circular buffer of
 * plain bytes for stream data (TCP receive, and the TCP transmit ring).
 *
 * Beyond write/read it offers what a TCP needs without extra copies:
 *  - read with out == NULL advances without copying (data already consumed
 *    through ftcp_queue_peek_ref, or simply discarded);
 *  - peek_ref gives a pointer into the buffer at an offset from the read
 *    position and the contiguous length there, so a segment can reference
 *    queued bytes instead of copying them (zero-copy TX, retransmission);
 *  - write_at places bytes at an offset past the write position without
 *    making them readable (out-of-order segments); produce then makes a
 *    prefix readable once the gap is filled.
 * Offsets are free-running 32-bit counters masked on use.
 */
#ifndef FTCP_QUEUE_H
#define FTCP_QUEUE_H

#include "ftcp_base.h"

struct ftcp_queue {
	uint8_t *buf;
	uint32_t size; /* power of two */
	uint32_t head; /* write position */
	uint32_t tail; /* read position */
};

int ftcp_queue_init(struct ftcp_queue *q, void *mem, uint32_t size);
void ftcp_queue_reset(struct ftcp_queue *q);

static inline uint32_t ftcp_queue_used(const struct ftcp_queue *q)
{
	return q->head - q->tail;
}

static inline uint32_t ftcp_queue_free(const struct ftcp_queue *q)
{
	return q->size - (q->head - q->tail);
}

/* Append up to len bytes; returns how many fit. */
uint32_t ftcp_queue_write(struct ftcp_queue *q, const void *data, uint32_t len);
/* ftcp_queue_write inline, for the receive path's per-segment append. */
static inline uint32_t ftcp_queue_append(struct ftcp_queue *q, const void *data, uint32_t len)
{
	uint32_t at = q->head & (q->size - 1), first;

	len = FTCP_MIN(len, ftcp_queue_free(q));
	first = FTCP_MIN(len, q->size - at);
	ftcp_memcpy(q->buf + at, data, first);
	if (len > first)
		ftcp_memcpy(q->buf, (const uint8_t *)data + first, len - first);
	q->head += len;
	return len;
}
/* Store up to len bytes at offset off past the write position without
 * making them readable; returns how many fit (0 if off is past the end). */
uint32_t ftcp_queue_write_at(struct ftcp_queue *q, uint32_t off, const void *data,
                             uint32_t len);
/* Make len more bytes readable (after write_at); clamps to the free space
 * and returns how many were made readable. */
uint32_t ftcp_queue_produce(struct ftcp_queue *q, uint32_t len);

/* Consume up to len bytes, copying them to out unless out is NULL. */
uint32_t ftcp_queue_read(struct ftcp_queue *q, void *out, uint32_t len);
/* Copy up to len bytes starting off bytes after the read position, without
 * consuming them (MSG_PEEK). */
uint32_t ftcp_queue_peek(const struct ftcp_queue *q, uint32_t off, void *out,
                         uint32_t len);
/* Point *p at the byte off bytes after the read position; returns how many
 * readable bytes are contiguous from there (0 when off >= used). Inline:
 * every segment sent takes its payload this way. */
static inline uint32_t ftcp_queue_peek_ref(const struct ftcp_queue *q, uint32_t off,
                                           const uint8_t **p)
{
	uint32_t used = ftcp_queue_used(q), at;

	if (off >= used)
		return 0;
	at = (q->tail + off) & (q->size - 1);
	*p = q->buf + at;
	return FTCP_MIN(used - off, q->size - at);
}

#endif
