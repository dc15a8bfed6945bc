/*
 * ftcp_pl_libc.c — the libc functions libftcp.so stands in front of.
 */
#include "ftcp_pl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct pl_libc pl_real;

#define RESOLVE(name)                                                                  \
	do {                                                                           \
		*(void **)&pl_real.name = dlsym(RTLD_NEXT, #name);                     \
		if (!pl_real.name) {                                                   \
			static const char m[] = "libftcp: cannot resolve libc's " #name "\n"; \
			if (write(2, m, sizeof(m) - 1) < 0) { /* nothing else to do */ } \
			abort();                                                       \
		}                                                                      \
	} while (0)

void pl_libc_init(void)
{
	static _Atomic int done;

	if (atomic_load_explicit(&done, memory_order_acquire))
		return;
	RESOLVE(socket);
	RESOLVE(socketpair);
	RESOLVE(bind);
	RESOLVE(listen);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(connect);
	RESOLVE(read);
	RESOLVE(write);
	RESOLVE(readv);
	RESOLVE(writev);
	RESOLVE(send);
	RESOLVE(sendto);
	RESOLVE(sendmsg);
	RESOLVE(sendmmsg);
	RESOLVE(recv);
	RESOLVE(recvfrom);
	RESOLVE(recvmsg);
	RESOLVE(recvmmsg);
	RESOLVE(close);
	RESOLVE(shutdown);
	RESOLVE(getsockopt);
	RESOLVE(setsockopt);
	RESOLVE(getsockname);
	RESOLVE(getpeername);
	RESOLVE(fcntl);
	RESOLVE(ioctl);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(poll);
	RESOLVE(ppoll);
	RESOLVE(select);
	RESOLVE(pselect);
	RESOLVE(epoll_create);
	RESOLVE(epoll_create1);
	RESOLVE(epoll_ctl);
	RESOLVE(epoll_wait);
	RESOLVE(epoll_pwait);
	RESOLVE(sendfile);
	RESOLVE(fork);
	RESOLVE(sigaction);
	RESOLVE(signal);
	atomic_store_explicit(&done, 1, memory_order_release);
}
