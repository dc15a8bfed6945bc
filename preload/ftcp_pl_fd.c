/*
 * ftcp_pl_fd.c — which fds libftcp serves, and the socket objects behind
 * them.
 *
 * The table has one slot per possible fd (the process's hard RLIMIT_NOFILE,
 * capped), reserved at load time as untouched anonymous memory, so a
 * lookup is a bounds check and a load and never races with a resize.
 */
#include "ftcp_pl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define MAX_FDS_CAP (1 << 20)

static struct pl_sock *pool;
static uint32_t pool_size, *free_stack, free_top;

int pl_fd_table_init(void)
{
	struct rlimit rl;
	size_t n = 65536, bytes;
	void *m;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max > n)
		n = rl.rlim_max;
	if (n > MAX_FDS_CAP)
		n = MAX_FDS_CAP;
	bytes = n * sizeof(*pl.fds);
	m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
	         0);
	if (m == MAP_FAILED)
		return -1;
	pl.fds = m;
	pl.max_fds = (int)n;
	return 0;
}

void pl_fd_set(int fd, struct pl_file *f)
{
	f->refs++;
	atomic_store_explicit(&pl.fds[fd], f, memory_order_release);
}

struct pl_file *pl_fd_clear(int fd)
{
	struct pl_file *f = pl_file_get(fd);

	if (!f)
		return NULL;
	atomic_store_explicit(&pl.fds[fd], NULL, memory_order_release);
	return --f->refs == 0 ? f : NULL;
}

void pl_fd_drop(int fd)
{
	struct pl_file *f = pl_fd_clear(fd);

	if (f && f->kind == PL_KIND_SOCK)
		pl_sock_release((struct pl_sock *)f);
	else if (f)
		pl_epoll_release(f);
}

int pl_sock_pool_init(uint32_t n)
{
	uint32_t i;

	pool = calloc(n, sizeof(*pool));
	free_stack = calloc(n, sizeof(*free_stack));
	if (!pool || !free_stack)
		return -1;
	pool_size = n;
	for (i = 0; i < n; i++)
		free_stack[i] = n - 1 - i;
	free_top = n;
	return 0;
}

struct pl_sock *pl_sock_alloc(void)
{
	struct pl_sock *s;
	uint32_t idx;

	if (!free_top)
		return NULL;
	idx = free_stack[--free_top];
	s = &pool[idx];
	memset(s, 0, sizeof(*s));
	s->f.kind = PL_KIND_SOCK;
	s->h = -1;
	s->index = idx;
	return s;
}

void pl_sock_free(struct pl_sock *s)
{
	s->f.kind = 0;
	s->h = -1;
	free_stack[free_top++] = s->index;
}

struct pl_sock *pl_sock_next(struct pl_sock *prev)
{
	uint32_t i = prev ? prev->index + 1 : 0;

	for (; i < pool_size; i++)
		if (pool[i].f.kind == PL_KIND_SOCK)
			return &pool[i];
	return NULL;
}
