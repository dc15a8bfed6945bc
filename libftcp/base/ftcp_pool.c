/* ftcp_pool.c — bitmap object pool (see ftcp_pool.h). */
#include "ftcp_pool.h"
#include "ftcp/ftcp_errno.h"

static uint32_t map_words(uint32_t count)
{
	return count / 32 + (count % 32 != 0); /* (count + 31) / 32 wraps near UINT32_MAX */
}

size_t ftcp_pool_memory_size(uint32_t obj_size, uint32_t count)
{
	return FTCP_ALIGN_UP((size_t)map_words(count) * 4, 8) +
	       (size_t)FTCP_ALIGN_UP(obj_size, 8) * count;
}

int ftcp_pool_init(struct ftcp_pool *p, void *mem, uint32_t obj_size, uint32_t count)
{
	uint32_t words = map_words(count), i;

	if (!mem || !count || !obj_size || ((uintptr_t)mem & 7))
		return -FTCP_EINVAL;
	p->free_map = mem;
	p->objs = (uint8_t *)mem + FTCP_ALIGN_UP((size_t)words * 4, 8);
	p->obj_size = (uint32_t)FTCP_ALIGN_UP(obj_size, 8);
	p->count = count;
	p->in_use = p->high_water = p->hint = 0;
	p->failures = 0;
	for (i = 0; i < words; i++)
		p->free_map[i] = 0xffffffffu;
	if (count % 32) /* bits past the last object are never free */
		p->free_map[words - 1] = (1u << (count % 32)) - 1;
	return 0;
}

int32_t ftcp_pool_alloc(struct ftcp_pool *p)
{
	uint32_t words = map_words(p->count), w;

	for (w = p->hint; w < words; w++) {
		if (p->free_map[w]) {
			uint32_t bit = ftcp_ctz32(p->free_map[w]);
			p->free_map[w] &= ~(1u << bit);
			p->hint = w;
			if (++p->in_use > p->high_water)
				p->high_water = p->in_use;
			return (int32_t)(w * 32 + bit);
		}
	}
	p->hint = words;
	p->failures++;
	return -1;
}

bool ftcp_pool_is_allocated(const struct ftcp_pool *p, int32_t idx)
{
	if (idx < 0 || (uint32_t)idx >= p->count)
		return false;
	return !(p->free_map[idx / 32] & (1u << (idx % 32)));
}

int ftcp_pool_free(struct ftcp_pool *p, int32_t idx)
{
	if (!ftcp_pool_is_allocated(p, idx))
		return -FTCP_EINVAL;
	p->free_map[idx / 32] |= 1u << (idx % 32);
	if ((uint32_t)idx / 32 < p->hint)
		p->hint = (uint32_t)idx / 32;
	p->in_use--;
	return 0;
}

int32_t ftcp_pool_next(const struct ftcp_pool *p, int32_t after)
{
	uint32_t start = (uint32_t)(after + 1), words = map_words(p->count), w;
	uint32_t used;

	if (after < -1 || start >= p->count)
		return -1;
	w = start / 32;
	/* Allocated = not free; bits past count are never free, so mask them. */
	used = ~p->free_map[w] & (0xffffffffu << (start % 32));
	for (;;) {
		if (w == words - 1 && p->count % 32)
			used &= (1u << (p->count % 32)) - 1;
		if (used)
			return (int32_t)(w * 32 + ftcp_ctz32(used));
		if (++w == words)
			return -1;
		used = ~p->free_map[w];
	}
}
