/*
 * ftcp_pl.h — libftcp.so internals shared by the preload files.
 *
 * Model (see preload/README.md for the user's view):
 *  - Every offloaded socket owns a real kernel socket fd of the same domain
 *    and type (created by socket()), so fd numbers never collide and
 *    dup/close behave; the fd table maps such fds to a struct pl_sock that
 *    holds the libftcp socket. All fds that refer to one kernel socket
 *    (dup) share one pl_sock, as they share one open file description.
 *    The kernel socket stays unconnected and non-blocking; it is bound and
 *    listening only when it "shadows" a wildcard listener (loopback peers
 *    reach the program through it), and it becomes the socket itself when
 *    the program turns out to talk to loopback or an unrouted address.
 *  - One lock (the driver's stack lock) guards the stack and every pl_*
 *    object. Stack events run pl_on_event under it (from the poll thread,
 *    or from whichever thread polls inline); they bump an event sequence
 *    that spinning callers watch without the lock, mark epoll items
 *    ready, and note which sleeping threads to wake. The wakes (eventfd
 *    writes) are done by the pass hook, after the pass.
 */
#ifndef FTCP_PL_H
#define FTCP_PL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "ftcp/ftcp.h"

struct ftcp_driver;
struct ftcp_dpdk_port;

/* The library is built with hidden visibility: only the interposed libc
 * names are exported. */
#define PL_EXPORT __attribute__((visibility("default")))

/* ---- the real libc functions (ftcp_pl_libc.c) ---- */

struct pl_libc {
	int (*socket)(int, int, int);
	int (*socketpair)(int, int, int, int[2]);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
	int (*close)(int);
	int (*shutdown)(int, int);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
	int (*epoll_create)(int);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	pid_t (*fork)(void);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	sighandler_t (*signal)(int, sighandler_t);
};
extern struct pl_libc pl_real;
/* Resolve pl_real (idempotent; the constructor calls it first). */
void pl_libc_init(void);

/* ---- configuration (ftcp_pl_config.c) ---- */

enum pl_on_fail { PL_FAIL_ERROR, PL_FAIL_KERNEL };

struct pl_config {
	char eal[1024];          /* FTCP_EAL */
	char port[64];           /* FTCP_PORT: DPDK port name, "" = first */
	uint32_t ip;             /* FTCP_IP address (host order) */
	uint8_t prefix;          /* FTCP_IP prefix length */
	uint32_t gw;             /* FTCP_GW, 0 = none */
	int core;                /* FTCP_CORE: poll thread CPU, -1 = inline */
	uint32_t spin_us;        /* FTCP_SPIN_US: spin before sleeping */
	uint32_t idle_after_us;  /* FTCP_IDLE_AFTER_US */
	uint32_t idle_sleep_us;  /* FTCP_IDLE_SLEEP_US */
	uint32_t max_sockets;    /* FTCP_MAX_SOCKETS */
	uint32_t buffers;        /* FTCP_BUFFERS: connections with buffers */
	uint32_t rx_buffer_size; /* FTCP_RXBUF */
	uint32_t tx_buffer_size; /* FTCP_TXBUF */
	uint32_t mbufs;          /* FTCP_MBUFS */
	uint32_t mtu;            /* FTCP_MTU */
	uint32_t link_wait_ms;   /* FTCP_LINK_WAIT_MS: wait for link up at start */
	uint32_t trusted_link;   /* FTCP_TRUSTED_LINK: no checksums on this link */
	enum pl_on_fail on_fail; /* FTCP_ON_FAIL=error|kernel */
	int log_level;           /* FTCP_LOG: 0 errors .. 3 debug */
	char congestion[16];     /* FTCP_CC */
	char dump_dir[256];      /* FTCP_DUMP_DIR: where the state socket goes */
};
/* Parse the environment. 0, or -1 with a message naming the variable in
 * err. */
int pl_config_load(struct pl_config *c, char *err, size_t errlen);

void pl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define PL_ERR 0
#define PL_WARN 1
#define PL_INFO 2
#define PL_DEBUG 3

/* ---- global state and start-up (ftcp_pl_stack.c) ---- */

enum pl_state {
	PL_IDLE,    /* not started yet: start at the first INET socket */
	PL_RUNNING,
	PL_FAILED,  /* could not start: per on_fail, error or kernel */
	PL_CHILD,   /* a forked child of a running parent: kernel only */
	PL_STOPPED, /* exiting */
};

struct pl_file;

struct pl_global {
	_Atomic int state;
	struct pl_config cfg;
	struct ftcp_stack *stack;
	struct ftcp_driver *drv;
	struct ftcp_dpdk_port *port;
	/* The NIC's "frames waiting" fd for inline sleepers, or -1. */
	int nic_fd;
	char fail_msg[1024];
	/* fd -> object; NULL for fds libftcp does not serve. Written under
	 * the lock, read anywhere (an fd's entry only changes while the
	 * program is creating or closing that fd). */
	_Atomic(struct pl_file *) *fds;
	int max_fds;
	/* Bumped on every stack event: a caller spinning for readiness
	 * watches it without the lock. */
	_Atomic uint32_t ev_seq;
	/* Bumped by our signal trampoline: blocking calls return EINTR when it
	 * moves while they wait (a handler ran). */
	_Atomic uint32_t sig_seq;
	/* Bumped for handlers without SA_RESTART. */
	_Atomic uint32_t sig_norestart_seq;
};
extern struct pl_global pl;

/* Start the stack if not yet started. Returns true when it runs; false
 * with errno set (state FAILED and on_fail=error: ENETDOWN) or 0 (the
 * caller should use the kernel). Safe to call from any thread. */
bool pl_ensure_started(int *err);
static inline bool pl_running(void)
{
	return atomic_load_explicit(&pl.state, memory_order_acquire) == PL_RUNNING;
}

void pl_lock(void);
void pl_unlock(void);
/* pl_unlock after a non-blocking send, a receive that found data, or a
 * look right after a pass: inline, the next pass waits for the program's
 * next call into the stack. */
void pl_unlock_deferred(void);
/* Inline mode: poll the stack once if nobody else is (lock not held). */
void pl_poll_inline(void);
bool pl_inline(void);
/* Inline: how long a thread with nothing to do may sleep before polling
 * again: until the stack's next timer (at most 10 ms) when the NIC's fd
 * wakes it for frames, else FTCP_IDLE_SLEEP_US. */
int64_t pl_inline_sleep_ns(void);
uint64_t pl_now_us(void);
/* Monotonic nanoseconds, for deadlines. */
int64_t pl_now_ns(void);

/* ---- the fd table and socket objects (ftcp_pl_fd.c) ---- */

enum pl_kind { PL_KIND_SOCK = 1, PL_KIND_EPOLL = 2 };

struct pl_file {
	uint8_t kind;
	int refs; /* fds naming this object (dup), under the lock */
};

struct pl_epitem;

struct pl_sock {
	struct pl_file f;
	ftcp_sock_t h;         /* the stack's socket; -1 when none */
	int domain;            /* AF_INET or AF_INET6: the program's address format */
	int type;              /* SOCK_STREAM or SOCK_DGRAM */
	bool nonblock;         /* the program's O_NONBLOCK */
	bool bound, listening, connecting, connected;
	bool shadow;           /* the kernel socket also listens (wildcard bind) */
	bool shared_fd;        /* the fd is a dup of a template kernel socket (accept) */
	bool v6only;
	bool reuseaddr, reuseport;
	bool rd_shut, wr_shut;
	uint64_t rcvtimeo_us, sndtimeo_us; /* 0 = none */
	uint64_t waiters;      /* wait slots to wake at the next event */
	struct pl_epitem *epitems; /* epoll memberships (ftcp_pl_epoll.c) */
	uint32_t index;        /* in the pool */
};

static inline struct pl_file *pl_file_get(int fd)
{
	if (fd < 0 || fd >= pl.max_fds || !pl.fds)
		return NULL;
	return atomic_load_explicit(&pl.fds[fd], memory_order_acquire);
}
static inline struct pl_sock *pl_sock_get(int fd)
{
	struct pl_file *f = pl_file_get(fd);

	return f && f->kind == PL_KIND_SOCK ? (struct pl_sock *)f : NULL;
}
/* Make fd name f (lock held; counts a reference). */
void pl_fd_set(int fd, struct pl_file *f);
/* fd no longer names its object (lock held). Returns the object if that
 * was its last fd (the caller releases it), else NULL. */
struct pl_file *pl_fd_clear(int fd);

/* fd no longer names its object, which is released if that was its last
 * fd (lock held). */
void pl_fd_drop(int fd);

/* An accepted socket's fd: a dup of one kernel socket shared by them all
 * (a fresh kernel socket per connection cost a socket() and a full
 * release at close: 15 % of a short-connection server's CPU). -1 with
 * errno on failure. */
int pl_placeholder_fd(int domain, bool cloexec);
/* Give fd a kernel socket of its own before anything reaches the kernel
 * through it that another fd could see (an option, flags). 0, or -1
 * with errno. */
int pl_unshare_fd(int fd, struct pl_sock *s);

/* Socket objects come from a pool sized by max_sockets (lock held). */
int pl_sock_pool_init(uint32_t n);
struct pl_sock *pl_sock_alloc(void);
/* Iterate the sockets in use (lock held); NULL starts and ends. */
struct pl_sock *pl_sock_next(struct pl_sock *prev);
void pl_sock_free(struct pl_sock *s);
int pl_fd_table_init(void);

/* ---- sockets (ftcp_pl_socket.c) ---- */

/* The stack's event callback (user = the pl_sock). */
void pl_on_event(struct ftcp_stack *st, ftcp_sock_t h, uint32_t events, void *user);
/* Readiness of an offloaded socket as POLL* bits (Linux's tcp_poll and
 * udp_poll rules), lock held. Does not include the shadow kernel socket. */
uint32_t pl_sock_pollmask(struct pl_sock *s);
/* TCP_INFO in Linux's layout (lock held); at most *len bytes. */
int pl_tcp_info(struct pl_sock *s, void *out, socklen_t *len);
/* The program's address as the stack's: 0, a negative errno, or 1 for an
 * IPv6 address that is not v4-mapped. */
int pl_addr_in(const struct sockaddr *a, socklen_t len, struct ftcp_sockaddr *out);
/* fa in the socket's family (v4-mapped for AF_INET6), truncated to *len. */
void pl_addr_out(int domain, const struct ftcp_sockaddr *fa, struct sockaddr *a, socklen_t *len);
/* Release s after its last fd closed (lock held): close or reset the
 * stack's socket, drop epoll items. */
void pl_sock_release(struct pl_sock *s);
/* Close everything at exit: orderly closes, then a bounded drain. */
void pl_sockets_shutdown_all(void);
/* Reset every connection (lock held): on a fatal signal. */
void pl_sockets_abort_all(void);
/* The offloaded socket behind fd, or NULL (also in a forked child). */
static inline struct pl_sock *pl_sock_of(int fd)
{
	return pl_running() ? pl_sock_get(fd) : NULL;
}

/* ---- waiting (ftcp_pl_wait.c) ---- */

/* Wait until an event may have changed the readiness of any of socks
 * (n of them), a kernel fd in kfds is ready, the deadline passes
 * (deadline_ns < 0: never), or a signal handler runs. seq is pl.ev_seq
 * read under the lock together with the check that found nothing ready.
 * Spins for the configured time first (polling the stack inline), then
 * sleeps in the kernel. Called without the lock. Returns 1 (look again;
 * kfds revents are filled when a kernel fd woke us), 0 (deadline), -1
 * with errno EINTR. sigmask: as ppoll's. */
int pl_block(struct pl_sock *const *socks, int n, struct pollfd *kfds, nfds_t nk,
             uint32_t seq, int64_t deadline_ns, const sigset_t *sigmask);
/* One socket's blocking I/O call (recv, send, accept, connect): as
 * pl_block, but a handler with SA_RESTART does not interrupt it. */
int pl_block_io(struct pl_sock *s, struct pollfd *kfd, uint32_t seq, int64_t deadline_ns);
/* The pass hook: performs the wakes noted during the pass. */
void pl_wake_flush(void *arg, int work);
/* Wakes noted and not yet done (lock held). */
bool pl_wake_pending(void);
/* Note an eventfd to signal after this pass (lock held). */
void pl_wake_defer_fd(int efd);
/* Wake the threads registered on s (lock held). */
void pl_wake_sock(struct pl_sock *s);
/* Deadline from a timeout in ms (poll/epoll style: < 0 = never). */
int64_t pl_deadline_ms(int timeout_ms);
int64_t pl_deadline_ts(const struct timespec *ts);

/* ---- epoll, poll, select (ftcp_pl_epoll.c, ftcp_pl_poll.c) ---- */

/* An event on s (lock held): mark its epoll items ready and wake their
 * sets. mask: pl_sock_pollmask(s). */
void pl_epoll_sock_event(struct pl_sock *s, uint32_t mask);
/* s is being released (lock held): remove it from every epoll set. */
void pl_epoll_sock_gone(struct pl_sock *s);
/* An epoll object lost its last fd (lock held). */
void pl_epoll_release(struct pl_file *ep);
/* fd is in a poll or select call (lock not held). If it is one of our
 * epoll sets, its kernel epoll turns readable from now on while it holds
 * ready offloaded sockets; returns true when the caller must then move
 * the stack while it waits (inline mode). */
bool pl_epoll_polled(int fd);
/* s's fd is about to become a plain kernel socket (lock held; call before
 * pl_sock_release): its epoll registrations move into the kernel epolls
 * with the program's events and data, so the program keeps them. */
void pl_epoll_sock_to_kernel(struct pl_sock *s);

/* The stack's process is about to exec: close connections in order and
 * release the port (no-op elsewhere: a child, or no stack). */
void pl_stop_for_exec(void);

/* ---- signals (ftcp_pl_signal.c) ---- */

/* Install the clean-exit handlers (the stack just started). */
void pl_signal_started(void);
/* A fatal signal at its default action: reset connections, release the
 * port (the caller then dies of the signal). */
void pl_terminate(void);

/* ---- state dump for ftcp-stat (ftcp_pl_dump.c) ---- */

/* The stack just started: serve <FTCP_DUMP_DIR>/<pid>.sock from a thread
 * (warns and carries on if it cannot). */
void pl_dump_start(void);
/* Stop serving and remove the socket (at exit; also safe from a fatal
 * signal's clean-up, before the stack is torn down). */
void pl_dump_stop(void);

/* Translate stack error codes (negative errno values) into errno; returns
 * -1 for convenience. */
static inline int pl_errno(int code)
{
	extern int *__errno_location(void);
	*__errno_location() = -code;
	return -1;
}

#endif
