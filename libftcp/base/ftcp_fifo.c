/*
 * ftcp_fifo.c — variable-size record ring (see ftcp_fifo.h).
 *
 * Layout of a record at offset o: a 32-bit length at buf[o], the data at
 * buf[o + 8]. A length of FIFO_WRAP means "skip to the start of the buffer".
 * head and tail run freely and are masked on use, so head - tail is always
 * the bytes in use, including wrap waste.
 */
#include "ftcp_fifo.h"
#include "ftcp/ftcp_errno.h"

#define FIFO_WRAP 0xffffffffu
#define FIFO_NONE 0xffffffffu

int ftcp_fifo_init(struct ftcp_fifo *f, void *mem, uint32_t size)
{
	if (!mem || !FTCP_IS_POW2(size) || size < 2 * FTCP_FIFO_HDR ||
	    ((uintptr_t)mem & (FTCP_FIFO_ALIGN - 1)))
		return -FTCP_EINVAL;
	f->buf = mem;
	f->size = size;
	ftcp_fifo_reset(f);
	return 0;
}

void ftcp_fifo_reset(struct ftcp_fifo *f)
{
	f->head = f->tail = 0;
	f->count = 0;
	f->reserved_at = FIFO_NONE;
}

static inline uint32_t *len_word(const struct ftcp_fifo *f, uint32_t off)
{
	return (uint32_t *)(void *)(f->buf + (off & (f->size - 1)));
}

void *ftcp_fifo_reserve(struct ftcp_fifo *f, uint32_t len)
{
	uint32_t need, pos, to_end, free_bytes, waste = 0;

	if (len > ftcp_fifo_max_record(f) || f->reserved_at != FIFO_NONE)
		return NULL;
	if (!f->count) /* empty: start over at offset 0, so any record up to
	                * max_record fits (and a cancelled wrap's waste goes) */
		f->head = f->tail = 0;
	need = ftcp_fifo_record_size(len);
	pos = f->head & (f->size - 1);
	to_end = f->size - pos;
	free_bytes = f->size - (f->head - f->tail);
	if (need > to_end)
		waste = to_end; /* the record starts over at offset 0 */
	if (need + waste > free_bytes)
		return NULL;
	if (waste) {
		*len_word(f, f->head) = FIFO_WRAP;
		f->head += waste;
	}
	f->reserved_at = f->head;
	return f->buf + (f->head & (f->size - 1)) + FTCP_FIFO_HDR;
}

void ftcp_fifo_commit(struct ftcp_fifo *f, uint32_t len)
{
	if (f->reserved_at == FIFO_NONE)
		return;
	*len_word(f, f->reserved_at) = len;
	f->head = f->reserved_at + ftcp_fifo_record_size(len);
	f->reserved_at = FIFO_NONE;
	f->count++;
}

void ftcp_fifo_cancel(struct ftcp_fifo *f)
{
	/* A wrap marker written by the reservation stays; it is skipped like
	 * any other and costs only the bytes up to the end of the buffer. */
	f->reserved_at = FIFO_NONE;
}

/* Skip a wrap marker at offset t; returns the offset of the record. */
static uint32_t record_at(const struct ftcp_fifo *f, uint32_t t)
{
	if (*len_word(f, t) == FIFO_WRAP)
		t += f->size - (t & (f->size - 1));
	return t;
}

static uint32_t tail_record(const struct ftcp_fifo *f)
{
	return record_at(f, f->tail);
}

void *ftcp_fifo_peek_at(const struct ftcp_fifo *f, uint32_t *cursor, uint32_t *len)
{
	uint32_t t, l;

	/* Records end where the committed data ends: at head, or at a pending
	 * reservation (whose wrap marker, if any, precedes it). */
	uint32_t end = f->reserved_at != FIFO_NONE ? f->reserved_at : f->head;

	if ((int32_t)(end - *cursor) <= 0)
		return NULL;
	t = record_at(f, *cursor);
	if ((int32_t)(end - t) <= 0)
		return NULL;
	l = *len_word(f, t);
	*cursor = t + ftcp_fifo_record_size(l);
	if (len)
		*len = l;
	return f->buf + (t & (f->size - 1)) + FTCP_FIFO_HDR;
}

void *ftcp_fifo_peek(const struct ftcp_fifo *f, uint32_t *len)
{
	uint32_t t;

	if (!f->count)
		return NULL;
	t = tail_record(f);
	if (len)
		*len = *len_word(f, t);
	return f->buf + (t & (f->size - 1)) + FTCP_FIFO_HDR;
}

void ftcp_fifo_pop(struct ftcp_fifo *f)
{
	uint32_t t;

	if (!f->count)
		return;
	t = tail_record(f);
	f->tail = t + ftcp_fifo_record_size(*len_word(f, t));
	f->count--;
	if (!f->count && f->reserved_at == FIFO_NONE)
		f->head = f->tail; /* keep it tidy: an empty fifo has no waste */
}

int ftcp_fifo_push(struct ftcp_fifo *f, const void *data, uint32_t len)
{
	void *p = ftcp_fifo_reserve(f, len);
	if (!p)
		return -FTCP_EAGAIN;
	ftcp_memcpy(p, data, len);
	ftcp_fifo_commit(f, len);
	return 0;
}
