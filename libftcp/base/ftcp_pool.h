/*
 * ftcp_pool.h — fixed-size object pool with a free bitmap (the seed's
 * "lookaside" list). Objects are addressed by index, so tables can link them
 * with small integers and a handle can carry an index plus a generation.
 * Allocation finds the lowest free index; freeing an index that is already
 * free is refused, so double frees show up as errors, not corruption.
 */
#ifndef FTCP_POOL_H
#define FTCP_POOL_H

#include "ftcp_base.h"

struct ftcp_pool {
	uint8_t *objs;
	uint32_t *free_map;  /* bit set = object free */
	uint32_t obj_size;
	uint32_t count;
	uint32_t in_use;
	uint32_t high_water;
	uint32_t hint;       /* first bitmap word that may hold a free bit */
	uint64_t failures;   /* allocations refused because the pool was empty */
};

/* Bytes of memory the pool needs (bitmap + objects, each 8-byte aligned). */
size_t ftcp_pool_memory_size(uint32_t obj_size, uint32_t count);
/* mem: ftcp_pool_memory_size bytes, aligned to 8. */
int ftcp_pool_init(struct ftcp_pool *p, void *mem, uint32_t obj_size, uint32_t count);

/* Index of a newly allocated object, or -1 when the pool is exhausted. */
int32_t ftcp_pool_alloc(struct ftcp_pool *p);
/* 0, or -FTCP_EINVAL for an index out of range or already free. */
int ftcp_pool_free(struct ftcp_pool *p, int32_t idx);
bool ftcp_pool_is_allocated(const struct ftcp_pool *p, int32_t idx);
/* The lowest allocated index above after (-1 to start), or -1: walks the
 * bitmap a word at a time, skipping free ones. Freeing the current index
 * while iterating is fine. */
int32_t ftcp_pool_next(const struct ftcp_pool *p, int32_t after);

static inline void *ftcp_pool_obj(const struct ftcp_pool *p, int32_t idx)
{
	return p->objs + (size_t)idx * p->obj_size;
}

#endif
