/* ftcp_queue.c — byte ring with copy-free advance and offset writes. */
#include "ftcp_queue.h"
#include "ftcp/ftcp_errno.h"

int ftcp_queue_init(struct ftcp_queue *q, void *mem, uint32_t size)
{
	if (!mem || !FTCP_IS_POW2(size))
		return -FTCP_EINVAL;
	q->buf = mem;
	q->size = size;
	ftcp_queue_reset(q);
	return 0;
}

void ftcp_queue_reset(struct ftcp_queue *q)
{
	q->head = q->tail = 0;
}

/* Copy len bytes into the ring at absolute offset pos (may wrap). */
static void copy_in(struct ftcp_queue *q, uint32_t pos, const uint8_t *src, uint32_t len)
{
	uint32_t at = pos & (q->size - 1);
	uint32_t first = FTCP_MIN(len, q->size - at);

	ftcp_memcpy(q->buf + at, src, first);
	if (len > first)
		ftcp_memcpy(q->buf, src + first, len - first);
}

static void copy_out(const struct ftcp_queue *q, uint32_t pos, uint8_t *dst, uint32_t len)
{
	uint32_t at = pos & (q->size - 1);
	uint32_t first = FTCP_MIN(len, q->size - at);

	ftcp_memcpy(dst, q->buf + at, first);
	if (len > first)
		ftcp_memcpy(dst + first, q->buf, len - first);
}

uint32_t ftcp_queue_write(struct ftcp_queue *q, const void *data, uint32_t len)
{
	len = FTCP_MIN(len, ftcp_queue_free(q));
	if (len) {
		copy_in(q, q->head, data, len);
		q->head += len;
	}
	return len;
}

uint32_t ftcp_queue_write_at(struct ftcp_queue *q, uint32_t off, const void *data,
                             uint32_t len)
{
	uint32_t room = ftcp_queue_free(q);

	if (off >= room)
		return 0;
	len = FTCP_MIN(len, room - off);
	copy_in(q, q->head + off, data, len);
	return len;
}

uint32_t ftcp_queue_produce(struct ftcp_queue *q, uint32_t len)
{
	len = FTCP_MIN(len, ftcp_queue_free(q));
	q->head += len;
	return len;
}

uint32_t ftcp_queue_read(struct ftcp_queue *q, void *out, uint32_t len)
{
	len = FTCP_MIN(len, ftcp_queue_used(q));
	if (out && len)
		copy_out(q, q->tail, out, len);
	q->tail += len;
	return len;
}

uint32_t ftcp_queue_peek(const struct ftcp_queue *q, uint32_t off, void *out,
                         uint32_t len)
{
	uint32_t used = ftcp_queue_used(q);

	if (off >= used)
		return 0;
	len = FTCP_MIN(len, used - off);
	copy_out(q, q->tail + off, out, len);
	return len;
}
