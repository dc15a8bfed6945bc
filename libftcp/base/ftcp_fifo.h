/*
 * ftcp_fifo.h — the frame "fifo" of the seed design: a circular buffer of
 * whole records (a descriptor followed by a frame), each contiguous in
 * memory so it can be handed to a device or parsed in place.
 *
 * A producer reserves a contiguous region, fills it, and commits what it
 * used; a consumer peeks the oldest record and pops it. When a record does
 * not fit before the end of the buffer, a wrap marker fills the tail end and
 * the record starts at the beginning. One reservation may be outstanding at
 * a time; producer and consumer are the same thread (the stack's).
 */
#ifndef FTCP_FIFO_H
#define FTCP_FIFO_H

#include "ftcp_base.h"

#define FTCP_FIFO_ALIGN 8u
#define FTCP_FIFO_HDR 8u /* per-record length word, padded to the alignment */

struct ftcp_fifo {
	uint8_t *buf;
	uint32_t size;    /* power of two, multiple of FTCP_FIFO_ALIGN */
	uint32_t head;    /* free-running write offset */
	uint32_t tail;    /* free-running read offset */
	uint32_t count;   /* records stored */
	uint32_t reserved_at; /* offset of the outstanding reservation, or NONE */
};

/* Bytes of buffer a record of len bytes takes (without wrap waste). */
static inline uint32_t ftcp_fifo_record_size(uint32_t len)
{
	return FTCP_FIFO_HDR + (uint32_t)FTCP_ALIGN_UP(len, FTCP_FIFO_ALIGN);
}

/* mem must be aligned to 8 bytes; size a power of two >= 16. */
int ftcp_fifo_init(struct ftcp_fifo *f, void *mem, uint32_t size);
void ftcp_fifo_reset(struct ftcp_fifo *f);

/* A contiguous region of len bytes for one record, or NULL if there is no
 * room (or len can never fit). Nothing is visible until commit. */
void *ftcp_fifo_reserve(struct ftcp_fifo *f, uint32_t len);
/* Make the reserved record visible with its final length (<= reserved). */
void ftcp_fifo_commit(struct ftcp_fifo *f, uint32_t len);
/* Drop the outstanding reservation. */
void ftcp_fifo_cancel(struct ftcp_fifo *f);

/* The oldest record and its length, or NULL when empty. */
void *ftcp_fifo_peek(const struct ftcp_fifo *f, uint32_t *len);
void ftcp_fifo_pop(struct ftcp_fifo *f);
/* Iterate records without popping: start with *cursor = f->tail; each call
 * returns the record at *cursor (and its length) and moves past it, or NULL
 * after the newest. */
void *ftcp_fifo_peek_at(const struct ftcp_fifo *f, uint32_t *cursor, uint32_t *len);

/* Copy a whole record in (reserve + copy + commit); 0 or FTCP_EAGAIN. */
int ftcp_fifo_push(struct ftcp_fifo *f, const void *data, uint32_t len);

static inline bool ftcp_fifo_empty(const struct ftcp_fifo *f)
{
	return f->count == 0;
}

static inline uint32_t ftcp_fifo_used(const struct ftcp_fifo *f)
{
	return f->head - f->tail;
}

/* The largest record that could ever fit this fifo. */
static inline uint32_t ftcp_fifo_max_record(const struct ftcp_fifo *f)
{
	return f->size - FTCP_FIFO_HDR;
}

#endif
