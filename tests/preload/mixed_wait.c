/*
 * mixed_wait.c — epoll, poll and select over an offloaded TCP socket mixed
 * with kernel fds (a pipe, an eventfd, a timerfd), run under
 * LD_PRELOAD=libftcp.so (tests/preload/mixed_wait.sh sets that up).
 *
 * The TCP peer is a kernel echo (ncat -e /bin/cat), so the socket turns
 * readable exactly when the program has sent something and the echo came
 * back. Every check first shows an fd is not ready, then triggers it and
 * shows that it, and only it, becomes ready.
 *
 * usage: mixed_wait connect <peer-ip> <port> [<expect-local-ip>]
 *        mixed_wait listen <port> [<expect-local-ip>]
 * With <expect-local-ip>, the connection's local address must be it (the
 * stack's address, which no kernel interface has: proof of offload).
 * Prints one line per check and "mixed_wait: N passed, N failed"; exits 0
 * when all passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum { D_SK = 1, D_PIPE = 2, D_EFD = 3, D_TFD = 4, D_EP = 5, D_LISTEN = 9, D_SK2 = 11 };

static int passed, failed;
static int sk = -1, pipefd[2], efd, tfd, ep;
static volatile sig_atomic_t alarms;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  %s  ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- triggers and drains ---- */

static void send_byte(int fd)
{
	if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
		fprintf(stderr, "send: %s\n", strerror(errno));
}

static int drain_sock(void)
{
	char buf[256];
	int total = 0;
	ssize_t r;

	while ((r = recv(sk, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (int)r;
	return total;
}

/* Wait (with plain poll on the socket alone) until the echo of n bytes is
 * queued, without reading it. */
static bool echo_arrived(int n)
{
	char buf[64];
	double t0 = now_ms();

	while (now_ms() - t0 < 3000) {
		struct pollfd p = { .fd = sk, .events = POLLIN };

		if (poll(&p, 1, 100) > 0 && recv(sk, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) >= n)
			return true;
	}
	return false;
}

static void pipe_write(void)
{
	if (write(pipefd[1], "p", 1) != 1)
		perror("pipe write");
}

static void efd_write(void)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		perror("eventfd write");
}

static void timer_arm(int ms)
{
	struct itimerspec it = { .it_value = { ms / 1000, (ms % 1000) * 1000000L } };

	timerfd_settime(tfd, 0, &it, NULL);
}

static void quiesce(void)
{
	char buf[64];
	uint64_t v;

	drain_sock();
	while (read(pipefd[0], buf, sizeof(buf)) > 0)
		;
	if (read(efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: it was zero */
	}
	timer_arm(0);
	if (read(tfd, &v, sizeof(v)) < 0) {
		/* EAGAIN: it had not expired */
	}
}

/* ---- a helper thread that triggers something after a delay ---- */

enum action { A_SEND, A_PIPE, A_EFD };

struct later {
	pthread_t th;
	int ms;
	enum action what;
};

static void *later_main(void *arg)
{
	struct later *l = arg;

	usleep((useconds_t)l->ms * 1000);
	switch (l->what) {
	case A_SEND:
		send_byte(sk);
		break;
	case A_PIPE:
		pipe_write();
		break;
	case A_EFD:
		efd_write();
		break;
	}
	return NULL;
}

static void later_start(struct later *l, int ms, enum action what)
{
	l->ms = ms;
	l->what = what;
	pthread_create(&l->th, NULL, later_main, l);
}

static void later_join(struct later *l)
{
	pthread_join(l->th, NULL);
}

/* ---- epoll helpers ---- */

static int ewait(int e, struct epoll_event *ev, int max, int timeout)
{
	int n;

	do
		n = epoll_wait(e, ev, max, timeout);
	while (n < 0 && errno == EINTR && timeout != 0 && !alarms);
	return n;
}

/* Exactly one event, for data d, with at least the bits want. */
static bool only(const struct epoll_event *ev, int n, uint64_t d, uint32_t want)
{
	return n == 1 && ev[0].data.u64 == d && (ev[0].events & want) == want;
}

static int ctl(int e, int op, int fd, uint32_t events, uint64_t d)
{
	struct epoll_event ev = { .events = events, .data.u64 = d };

	return epoll_ctl(e, op, fd, &ev);
}

static const char *evs_str(const struct epoll_event *ev, int n)
{
	static char buf[256];
	size_t o = 0;
	int i;

	buf[0] = 0;
	if (n < 0)
		return strerror(errno);
	for (i = 0; i < n && o < sizeof(buf) - 32; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s{d=%llu ev=%#x}", i ? " " : "",
		                      (unsigned long long)ev[i].data.u64, ev[i].events);
	if (!n)
		snprintf(buf, sizeof(buf), "none");
	return buf;
}

/* ---- the checks ---- */

static void test_epoll_basic(void)
{
	struct epoll_event ev[8];
	double t0, dt;
	int n;

	quiesce();
	t0 = now_ms();
	n = ewait(ep, ev, 8, 0);
	dt = now_ms() - t0;
	check(n == 0 && dt < 50, "epoll: nothing ready, timeout 0 returns 0 at once (%s, %.1f ms)",
	      evs_str(ev, n), dt);

	pipe_write();
	n = ewait(ep, ev, 8, 1000);
	check(only(ev, n, D_PIPE, EPOLLIN),
	      "epoll: pipe write -> the pipe alone (%s)", evs_str(ev, n));
	n = ewait(ep, ev, 8, 0);
	check(only(ev, n, D_PIPE, EPOLLIN), "epoll: pipe level-triggered, reported again (%s)",
	      evs_str(ev, n));
	quiesce();
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll: pipe read -> nothing (%s)", evs_str(ev, n));

	efd_write();
	n = ewait(ep, ev, 8, 1000);
	check(only(ev, n, D_EFD, EPOLLIN), "epoll: eventfd write -> the eventfd alone (%s)",
	      evs_str(ev, n));
	quiesce();

	timer_arm(100);
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll: timer armed, not yet expired (%s)", evs_str(ev, n));
	t0 = now_ms();
	n = ewait(ep, ev, 8, 2000);
	dt = now_ms() - t0;
	check(only(ev, n, D_TFD, EPOLLIN) && dt > 80 && dt < 600,
	      "epoll: 100 ms timer -> the timerfd alone after %.1f ms (%s)", dt, evs_str(ev, n));
	quiesce();

	send_byte(sk);
	n = ewait(ep, ev, 8, 2000);
	check(only(ev, n, D_SK, EPOLLIN) && !(ev[0].events & EPOLLOUT),
	      "epoll: echo from the peer -> the socket alone, EPOLLIN only (%s)", evs_str(ev, n));
	n = ewait(ep, ev, 8, 0);
	check(only(ev, n, D_SK, EPOLLIN), "epoll: socket level-triggered, reported again (%s)",
	      evs_str(ev, n));
	n = drain_sock();
	check(n == 1, "epoll: read the echoed byte (%d)", n);
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll: socket read -> nothing (%s)", evs_str(ev, n));
}

/* Sleeping in epoll_wait, woken by each kind. */
static void test_epoll_sleep_wake(void)
{
	static const struct {
		enum action a;
		uint64_t d;
		const char *name;
	} kinds[] = {
		{ A_PIPE, D_PIPE, "pipe" },
		{ A_EFD, D_EFD, "eventfd" },
		{ A_SEND, D_SK, "socket" },
	};
	struct epoll_event ev[8];
	struct later l;
	double t0, dt;
	size_t k;
	int n;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		quiesce();
		later_start(&l, 150, kinds[k].a);
		t0 = now_ms();
		n = ewait(ep, ev, 8, 3000);
		dt = now_ms() - t0;
		later_join(&l);
		check(only(ev, n, kinds[k].d, EPOLLIN) && dt > 140 && dt < 1000,
		      "epoll: asleep, %s ready from another thread after 150 ms -> woke after "
		      "%.1f ms (%s)",
		      kinds[k].name, dt, evs_str(ev, n));
	}
	quiesce();
}

static void test_epoll_all(void)
{
	struct epoll_event ev[8];
	bool seen[16] = { false }, dup = false;
	double t0 = now_ms();
	int i, j, n, got = 0;

	quiesce();
	pipe_write();
	efd_write();
	send_byte(sk);
	timer_arm(30);
	while (got < 4 && now_ms() - t0 < 3000) {
		n = ewait(ep, ev, 8, 1000);
		for (i = 0; i < n; i++) {
			for (j = 0; j < i; j++)
				if (ev[j].data.u64 == ev[i].data.u64)
					dup = true;
			if (ev[i].data.u64 < 16 && !seen[ev[i].data.u64]) {
				seen[ev[i].data.u64] = true;
				got++;
			}
		}
	}
	check(got == 4 && seen[D_SK] && seen[D_PIPE] && seen[D_EFD] && seen[D_TFD] && !dup,
	      "epoll: all four kinds ready together -> each reported, none twice in one call");

	/* Fairness with room for one event: both level-triggered fds show. */
	memset(seen, 0, sizeof(seen));
	timer_arm(0);
	for (i = 0; i < 6; i++) {
		n = ewait(ep, ev, 1, 0);
		if (n == 1 && ev[0].data.u64 < 16)
			seen[ev[0].data.u64] = true;
	}
	check(seen[D_SK] && seen[D_PIPE] && seen[D_EFD],
	      "epoll: maxevents 1, socket, pipe and eventfd ready -> all three within 6 calls");
	quiesce();
}

static void test_epoll_et_oneshot(void)
{
	struct epoll_event ev[8];
	int n;

	quiesce();
	check(ctl(ep, EPOLL_CTL_MOD, sk, EPOLLIN | EPOLLET, D_SK) == 0,
	      "epoll: MOD socket to EPOLLET");
	send_byte(sk);
	n = ewait(ep, ev, 8, 2000);
	check(only(ev, n, D_SK, EPOLLIN), "epoll ET: echo -> socket (%s)", evs_str(ev, n));
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll ET: unread data is not reported again (%s)", evs_str(ev, n));
	send_byte(sk);
	n = ewait(ep, ev, 8, 2000);
	check(only(ev, n, D_SK, EPOLLIN), "epoll ET: more data -> a new edge (%s)", evs_str(ev, n));
	n = drain_sock();
	check(n == 2, "epoll ET: both bytes there (%d)", n);

	check(ctl(ep, EPOLL_CTL_MOD, pipefd[0], EPOLLIN | EPOLLET, D_PIPE) == 0,
	      "epoll: MOD pipe to EPOLLET");
	pipe_write();
	n = ewait(ep, ev, 8, 1000);
	check(only(ev, n, D_PIPE, EPOLLIN), "epoll ET: pipe write -> pipe (%s)", evs_str(ev, n));
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll ET: pipe not reported again (%s)", evs_str(ev, n));
	ctl(ep, EPOLL_CTL_MOD, pipefd[0], EPOLLIN, D_PIPE);
	quiesce();

	check(ctl(ep, EPOLL_CTL_MOD, sk, EPOLLIN | EPOLLONESHOT, D_SK) == 0,
	      "epoll: MOD socket to EPOLLONESHOT");
	send_byte(sk);
	n = ewait(ep, ev, 8, 2000);
	check(only(ev, n, D_SK, EPOLLIN), "epoll ONESHOT: echo -> socket (%s)", evs_str(ev, n));
	send_byte(sk);
	check(echo_arrived(2), "epoll ONESHOT: second echo queued");
	n = ewait(ep, ev, 8, 100);
	check(n == 0, "epoll ONESHOT: disarmed, nothing more (%s)", evs_str(ev, n));
	check(ctl(ep, EPOLL_CTL_MOD, sk, EPOLLIN | EPOLLONESHOT, D_SK + 100) == 0,
	      "epoll ONESHOT: re-arm with EPOLL_CTL_MOD");
	n = ewait(ep, ev, 8, 0);
	check(only(ev, n, D_SK + 100, EPOLLIN),
	      "epoll ONESHOT: re-armed -> reported at once, new data (%s)",
	      evs_str(ev, n));
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll ONESHOT: disarmed again (%s)", evs_str(ev, n));
	ctl(ep, EPOLL_CTL_MOD, sk, EPOLLIN, D_SK);
	quiesce();

	check(ctl(ep, EPOLL_CTL_MOD, sk, EPOLLIN | EPOLLOUT, D_SK) == 0,
	      "epoll: MOD socket to IN|OUT");
	n = ewait(ep, ev, 8, 0);
	check(only(ev, n, D_SK, EPOLLOUT) && !(ev[0].events & EPOLLIN),
	      "epoll: idle connected socket -> EPOLLOUT only (%s)", evs_str(ev, n));
	ctl(ep, EPOLL_CTL_MOD, sk, EPOLLIN, D_SK);
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll: back to EPOLLIN -> nothing (%s)", evs_str(ev, n));
}

static void test_epoll_ctl(void)
{
	struct epoll_event ev[8];
	int n, e;

	quiesce();
	errno = 0;
	check(ctl(ep, EPOLL_CTL_ADD, sk, EPOLLIN, D_SK) < 0 && errno == EEXIST,
	      "epoll_ctl: ADD twice -> EEXIST (%s)", strerror(errno));
	check(ctl(ep, EPOLL_CTL_DEL, sk, 0, 0) == 0, "epoll_ctl: DEL socket");
	errno = 0;
	check(ctl(ep, EPOLL_CTL_DEL, sk, 0, 0) < 0 && errno == ENOENT,
	      "epoll_ctl: DEL again -> ENOENT (%s)", strerror(errno));
	errno = 0;
	check(ctl(ep, EPOLL_CTL_MOD, sk, EPOLLIN, D_SK) < 0 && errno == ENOENT,
	      "epoll_ctl: MOD after DEL -> ENOENT (%s)", strerror(errno));
	send_byte(sk);
	check(echo_arrived(1), "epoll_ctl: echo queued");
	n = ewait(ep, ev, 8, 100);
	check(n == 0, "epoll: deleted socket with data -> not reported (%s)", evs_str(ev, n));
	check(ctl(ep, EPOLL_CTL_ADD, sk, EPOLLIN, D_SK) == 0, "epoll_ctl: ADD socket back");
	n = ewait(ep, ev, 8, 0);
	check(only(ev, n, D_SK, EPOLLIN),
	      "epoll: re-added socket already readable -> reported (%s)",
	      evs_str(ev, n));
	quiesce();

	errno = 0;
	check(ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0) < 0 && errno == EINVAL,
	      "epoll_ctl: epfd == fd -> EINVAL (%s)", strerror(errno));
	errno = 0;
	check(ctl(pipefd[0], EPOLL_CTL_ADD, sk, EPOLLIN, 0) < 0 && errno == EINVAL,
	      "epoll_ctl: epfd a pipe, fd the socket -> EINVAL (%s)", strerror(errno));
	errno = 0;
	check(ctl(sk, EPOLL_CTL_ADD, pipefd[0], EPOLLIN, 0) < 0 && errno == EINVAL,
	      "epoll_ctl: epfd the socket -> EINVAL (%s)", strerror(errno));
	errno = 0;
	check(ctl(4000, EPOLL_CTL_ADD, sk, EPOLLIN, 0) < 0 && errno == EBADF,
	      "epoll_ctl: epfd not open -> EBADF (%s)", strerror(errno));
	errno = 0;
	check(ctl(ep, EPOLL_CTL_MOD, sk, EPOLLIN | EPOLLEXCLUSIVE, D_SK) < 0 && errno == EINVAL,
	      "epoll_ctl: MOD with EPOLLEXCLUSIVE -> EINVAL (%s)", strerror(errno));
	errno = 0;
	n = ctl(ep, EPOLL_CTL_ADD, sk, EPOLLIN, D_SK);
	e = errno;
	n = epoll_wait(ep, ev, 0, 0);
	check(n < 0 && errno == EINVAL && e == EEXIST, "epoll_wait: maxevents 0 -> EINVAL (%s)",
	      strerror(errno));
}

static void test_epoll_two_sets(void)
{
	struct epoll_event ev[8];
	int ep2 = epoll_create1(EPOLL_CLOEXEC), n;

	quiesce();
	check(ep2 >= 0 && ctl(ep2, EPOLL_CTL_ADD, sk, EPOLLIN, D_SK2) == 0,
	      "epoll: the socket in a second set");
	n = ewait(ep2, ev, 8, 0);
	check(n == 0, "epoll: second set, nothing yet (%s)", evs_str(ev, n));
	send_byte(sk);
	n = ewait(ep, ev, 8, 2000);
	check(only(ev, n, D_SK, EPOLLIN),
	      "epoll: first set reports the socket (%s)", evs_str(ev, n));
	n = ewait(ep2, ev, 8, 1000);
	check(only(ev, n, D_SK2, EPOLLIN),
	      "epoll: second set reports it too, with its own data (%s)",
	      evs_str(ev, n));
	quiesce();
	n = ewait(ep2, ev, 8, 0);
	check(n == 0, "epoll: second set quiet after the read (%s)", evs_str(ev, n));
	close(ep2);
	{
		int d = dup(ep);

		send_byte(sk);
		n = ewait(d, ev, 8, 2000);
		check(d >= 0 && only(ev, n, D_SK, EPOLLIN),
		      "epoll: a dup of the set reports the socket (%s)",
		      evs_str(ev, n));
		close(d);
		quiesce();
		ewait(ep, ev, 8, 0);
	}
	send_byte(sk);
	n = ewait(ep, ev, 8, 2000);
	check(only(ev, n, D_SK, EPOLLIN), "epoll: second set closed, the first still works (%s)",
	      evs_str(ev, n));
	quiesce();
}

/* A socket put in epoll sets before it connects to loopback moves to the
 * kernel at connect(); its registrations (data, events) must move with it. */
static void test_epoll_moves_to_kernel(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct epoll_event ev[8];
	int l, c, srv = -1, ep2, n;

	quiesce();
	l = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ep2 = epoll_create1(EPOLL_CLOEXEC);
	if (l < 0 || c < 0 || ep2 < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(l, 4) < 0 || getsockname(l, (struct sockaddr *)&a, &alen) < 0) {
		check(false, "epoll to kernel: loopback listener (%s)", strerror(errno));
		goto out;
	}
	check(ctl(ep, EPOLL_CTL_ADD, c, EPOLLIN | EPOLLOUT, 21) == 0 &&
	          ctl(ep2, EPOLL_CTL_ADD, c, EPOLLIN, 22) == 0,
	      "epoll to kernel: an unconnected socket in two sets");
	n = connect(c, (struct sockaddr *)&a, sizeof(a));
	check(n == 0 || errno == EINPROGRESS, "epoll to kernel: connect to loopback (%s)",
	      n == 0 ? "done" : strerror(errno));
	n = ewait(ep, ev, 8, 2000);
	check(only(ev, n, 21, EPOLLOUT), "epoll to kernel: first set reports it writable (%s)",
	      evs_str(ev, n));
	n = ewait(ep2, ev, 8, 0);
	check(n == 0, "epoll to kernel: second set quiet before data (%s)", evs_str(ev, n));
	srv = accept(l, NULL, NULL);
	check(srv >= 0 && write(srv, "k", 1) == 1, "epoll to kernel: accepted and sent");
	n = ewait(ep2, ev, 8, 2000);
	check(only(ev, n, 22, EPOLLIN), "epoll to kernel: second set reports it readable (%s)",
	      evs_str(ev, n));
	check(ctl(ep, EPOLL_CTL_DEL, c, 0, 0) == 0 && ctl(ep2, EPOLL_CTL_MOD, c, EPOLLOUT, 23) == 0,
	      "epoll to kernel: DEL and MOD go to the kernel registration");
	n = ewait(ep2, ev, 8, 1000);
	check(only(ev, n, 23, EPOLLOUT), "epoll to kernel: the MOD took (%s)", evs_str(ev, n));
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll to kernel: first set no longer has it (%s)", evs_str(ev, n));
out:
	if (srv >= 0)
		close(srv);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	if (ep2 >= 0)
		close(ep2);
	quiesce();
}

struct waiter {
	int e, n;
	double dt;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct epoll_event ev[4];
	double t0 = now_ms();

	w->n = epoll_wait(w->e, ev, 4, 400);
	w->dt = now_ms() - t0;
	return NULL;
}

/* Linux lets a wait go on when another thread closes the set's fd. */
static void test_epoll_close_while_waiting(void)
{
	struct waiter w = { .e = epoll_create1(0) };
	pthread_t th;

	ctl(w.e, EPOLL_CTL_ADD, sk, EPOLLIN, D_SK);
	ctl(w.e, EPOLL_CTL_ADD, pipefd[0], EPOLLIN, D_PIPE);
	pthread_create(&th, NULL, waiter_main, &w);
	usleep(100000);
	close(w.e);
	pthread_join(th, NULL);
	/* Linux waits out the timeout; inline, libftcp's waiter sleeps in
	 * slices and ends at the next one (0 early): both are fine here, a
	 * crash or an error is not. */
	check(w.n == 0 && w.dt > 90 && w.dt < 1000,
	      "epoll: set closed while a thread sleeps in it -> that wait returns 0 (after %.1f ms)",
	      w.dt);
}

static void test_epoll_nested(void)
{
	struct epoll_event ev[8];
	struct pollfd p;
	struct later l;
	int ep3 = epoll_create1(0), n;
	double t0, dt;

	quiesce();
	check(ep3 >= 0 && ctl(ep3, EPOLL_CTL_ADD, ep, EPOLLIN, D_EP) == 0,
	      "epoll nested: our set inside another");
	n = ewait(ep3, ev, 8, 0);
	check(n == 0, "epoll nested: inner set idle -> outer reports nothing (%s)", evs_str(ev, n));
	send_byte(sk);
	n = ewait(ep3, ev, 8, 2000);
	check(only(ev, n, D_EP, EPOLLIN),
	      "epoll nested: socket ready -> outer reports the inner set (%s)",
	      evs_str(ev, n));
	n = ewait(ep, ev, 8, 0);
	check(only(ev, n, D_SK, EPOLLIN),
	      "epoll nested: inner set reports the socket (%s)", evs_str(ev, n));
	p.fd = ep;
	p.events = POLLIN;
	n = poll(&p, 1, 0);
	check(n == 1 && (p.revents & POLLIN),
	      "poll on the inner set: POLLIN while the socket is ready");
	drain_sock();
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll nested: socket read -> inner set quiet (%s)", evs_str(ev, n));
	n = ewait(ep3, ev, 8, 0);
	check(n == 0, "epoll nested: ... and the outer one too (%s)", evs_str(ev, n));
	n = poll(&p, 1, 0);
	check(n == 0, "poll on the inner set: nothing (revents %#x)", p.revents);

	later_start(&l, 150, A_SEND);
	t0 = now_ms();
	n = ewait(ep3, ev, 8, 3000);
	dt = now_ms() - t0;
	later_join(&l);
	check(only(ev, n, D_EP, EPOLLIN) && dt > 140 && dt < 1000,
	      "epoll nested: asleep in the outer set, socket ready -> woke after %.1f ms (%s)", dt,
	      evs_str(ev, n));
	quiesce();
	ewait(ep, ev, 8, 0);

	later_start(&l, 150, A_SEND);
	t0 = now_ms();
	n = poll(&p, 1, 3000);
	dt = now_ms() - t0;
	later_join(&l);
	check(n == 1 && (p.revents & POLLIN) && dt > 140 && dt < 1000,
	      "poll asleep on our epoll fd, socket ready -> woke after %.1f ms", dt);
	quiesce();
	ewait(ep, ev, 8, 0);
	close(ep3);
}

static int poll_ready_mask(struct pollfd *p, int n)
{
	int i, m = 0;

	for (i = 0; i < n; i++)
		if (p[i].revents)
			m |= 1 << i;
	return m;
}

static void test_poll(void)
{
	struct epoll_event ev[8];
	struct pollfd p[5];
	struct later l;
	int i, n, m, eps = epoll_create1(0);
	double t0, dt;

	/* An epoll fd is readable while any of its fds is ready: this one
	 * holds only the socket. */
	if (ctl(eps, EPOLL_CTL_ADD, sk, EPOLLIN, D_SK) < 0)
		perror("epoll_ctl");
	quiesce();
	ewait(ep, ev, 8, 0);
	p[0].fd = sk;
	p[1].fd = pipefd[0];
	p[2].fd = efd;
	p[3].fd = tfd;
	p[4].fd = eps;
	for (i = 0; i < 5; i++)
		p[i].events = POLLIN;

	n = poll(p, 5, 0);
	check(n == 0, "poll: nothing ready -> 0 (%d, mask %#x)", n, poll_ready_mask(p, 5));
	pipe_write();
	n = poll(p, 5, 1000);
	m = poll_ready_mask(p, 5);
	check(n == 1 && m == 1 << 1 && p[1].revents == POLLIN,
	      "poll: pipe write -> the pipe alone (%d, mask %#x)", n, m);
	quiesce();
	efd_write();
	n = poll(p, 5, 1000);
	m = poll_ready_mask(p, 5);
	check(n == 1 && m == 1 << 2,
	      "poll: eventfd write -> the eventfd alone (%d, mask %#x)", n, m);
	quiesce();
	timer_arm(50);
	t0 = now_ms();
	n = poll(p, 5, 2000);
	dt = now_ms() - t0;
	m = poll_ready_mask(p, 5);
	check(n == 1 && m == 1 << 3 && dt > 40 && dt < 600,
	      "poll: 50 ms timer -> the timerfd alone after %.1f ms (%d, mask %#x)", dt, n, m);
	quiesce();
	send_byte(sk);
	n = poll(p, 5, 2000);
	m = poll_ready_mask(p, 5);
	if (n == 1 && m == 1) {
		/* The socket can be seen a moment before the epoll fd. */
		n = poll(p, 5, 1000);
		m = poll_ready_mask(p, 5);
	}
	check(n == 2 && m == (1 | 1 << 4) && (p[0].revents & POLLIN) && !(p[0].revents & POLLOUT),
	      "poll: echo -> the socket and the epoll fd holding it (%d, mask %#x, sock %#x)", n, m,
	      p[0].revents);
	quiesce();
	n = poll(p, 5, 0);
	check(n == 0, "poll: all read -> nothing, the epoll fd too (%d, mask %#x)", n,
	      poll_ready_mask(p, 5));

	later_start(&l, 150, A_SEND);
	t0 = now_ms();
	n = poll(p, 4, 3000);
	dt = now_ms() - t0;
	later_join(&l);
	m = poll_ready_mask(p, 4);
	check(n == 1 && m == 1 && dt > 140 && dt < 1000,
	      "poll: asleep, echo after 150 ms -> woke after %.1f ms (%d, mask %#x)", dt, n, m);
	quiesce();
	later_start(&l, 150, A_PIPE);
	t0 = now_ms();
	n = poll(p, 4, 3000);
	dt = now_ms() - t0;
	later_join(&l);
	m = poll_ready_mask(p, 4);
	check(n == 1 && m == 2 && dt > 140 && dt < 1000,
	      "poll: asleep, pipe written after 150 ms -> woke after %.1f ms (%d, mask %#x)", dt, n, m);
	quiesce();
	ewait(ep, ev, 8, 0);

	/* With a known array and a count only known at run time, a
	 * -D_FORTIFY_SOURCE build calls __poll_chk and __ppoll_chk. */
	{
		volatile int cnt = 5;
		struct timespec ts = { 1, 0 };
		sigset_t mask;

		pipe_write();
		n = poll(p, (nfds_t)cnt, 1000);
		m = poll_ready_mask(p, 5);
		check(n == 1 && m == 2,
		      "poll, variable count (fortified: __poll_chk): pipe (%d, mask %#x)", n, m);
		quiesce();
		send_byte(sk);
		sigemptyset(&mask);
		n = ppoll(p, (nfds_t)cnt, &ts, &mask);
		if (n == 1 && poll_ready_mask(p, 5) == 1)
			n = ppoll(p, (nfds_t)cnt, &ts, &mask); /* the epoll fd a moment later */
		m = poll_ready_mask(p, 5);
		check(n == 2 && m == (1 | 1 << 4),
		      "ppoll with a sigmask (fortified: __ppoll_chk): echo -> socket and epoll fd "
		      "(%d, mask %#x)",
		      n, m);
		quiesce();
		ewait(eps, ev, 8, 0);
		ts.tv_sec = 0;
		ts.tv_nsec = 50000000;
		t0 = now_ms();
		n = ppoll(p, (nfds_t)cnt, &ts, &mask);
		dt = now_ms() - t0;
		check(n == 0 && dt >= 49 && dt < 200, "ppoll 50 ms -> 0 after %.1f ms", dt);
	}

	p[0].events = POLLOUT;
	n = poll(p, 1, 0);
	check(n == 1 && p[0].revents == POLLOUT, "poll: POLLOUT on the idle socket (revents %#x)",
	      p[0].revents);
	p[0].events = POLLIN;
	p[1].fd = -1;
	pipe_write();
	n = poll(p, 2, 0);
	check(n == 0 && p[1].revents == 0, "poll: negative fd ignored (%d)", n);
	p[1].fd = 4000;
	n = poll(p, 2, 0);
	check(n == 1 && p[1].revents == POLLNVAL,
	      "poll: closed fd -> POLLNVAL (revents %#x)", p[1].revents);
	quiesce();
	ewait(ep, ev, 8, 0);
	close(eps);
}

static void test_select(void)
{
	fd_set r, w;
	struct timeval tv;
	struct later l;
	int maxfd = sk, n;
	double t0, dt;

	quiesce();
	if (pipefd[0] > maxfd)
		maxfd = pipefd[0];
	if (efd > maxfd)
		maxfd = efd;
	if (tfd > maxfd)
		maxfd = tfd;
#define SETUP()                          \
	do {                             \
		FD_ZERO(&r);             \
		FD_SET(sk, &r);          \
		FD_SET(pipefd[0], &r);   \
		FD_SET(efd, &r);         \
		FD_SET(tfd, &r);         \
	} while (0)
	SETUP();
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	n = select(maxfd + 1, &r, NULL, NULL, &tv);
	check(n == 0, "select: nothing ready -> 0 (%d)", n);

	SETUP();
	pipe_write();
	tv.tv_sec = 1;
	tv.tv_usec = 0;
	n = select(maxfd + 1, &r, NULL, NULL, &tv);
	check(n == 1 && FD_ISSET(pipefd[0], &r) && !FD_ISSET(sk, &r) && !FD_ISSET(efd, &r) &&
	              !FD_ISSET(tfd, &r),
	      "select: pipe write -> the pipe bit alone (%d)", n);
	check(tv.tv_sec == 0 && tv.tv_usec > 500000,
	      "select: *timeout holds the time left (%ld.%06ld)",
	      (long)tv.tv_sec, (long)tv.tv_usec);
	quiesce();

	SETUP();
	efd_write();
	n = select(maxfd + 1, &r, NULL, NULL, NULL);
	check(n == 1 && FD_ISSET(efd, &r) && !FD_ISSET(sk, &r),
	      "select: eventfd -> its bit alone (%d)", n);
	quiesce();

	SETUP();
	send_byte(sk);
	tv.tv_sec = 2;
	tv.tv_usec = 0;
	n = select(maxfd + 1, &r, NULL, NULL, &tv);
	check(n == 1 && FD_ISSET(sk, &r) && !FD_ISSET(pipefd[0], &r),
	      "select: echo -> the socket bit alone (%d)", n);
	quiesce();

	SETUP();
	timer_arm(50);
	t0 = now_ms();
	tv.tv_sec = 2;
	tv.tv_usec = 0;
	n = select(maxfd + 1, &r, NULL, NULL, &tv);
	dt = now_ms() - t0;
	check(n == 1 && FD_ISSET(tfd, &r) && dt > 40 && dt < 600,
	      "select: 50 ms timer -> its bit after %.1f ms (%d)", dt, n);
	quiesce();

	SETUP();
	later_start(&l, 150, A_SEND);
	t0 = now_ms();
	n = select(maxfd + 1, &r, NULL, NULL, NULL);
	dt = now_ms() - t0;
	later_join(&l);
	check(n == 1 && FD_ISSET(sk, &r) && dt > 140 && dt < 1000,
	      "select: asleep, echo after 150 ms -> woke after %.1f ms (%d)", dt, n);
	quiesce();

	SETUP();
	FD_ZERO(&w);
	FD_SET(sk, &w);
	FD_SET(pipefd[1], &w);
	pipe_write();
	n = select((pipefd[1] > maxfd ? pipefd[1] : maxfd) + 1, &r, &w, NULL, NULL);
	check(n == 3 && FD_ISSET(sk, &w) && FD_ISSET(pipefd[1], &w) && FD_ISSET(pipefd[0], &r) &&
	              !FD_ISSET(sk, &r),
	      "select: read and write sets -> socket and pipe writable, pipe readable (%d)", n);
	quiesce();

	{
		struct timespec ts = { 2, 0 };
		sigset_t mask;

		sigemptyset(&mask);
		SETUP();
		send_byte(sk);
		n = pselect(maxfd + 1, &r, NULL, NULL, &ts, &mask);
		check(n == 1 && FD_ISSET(sk, &r) && !FD_ISSET(efd, &r) && ts.tv_sec == 2,
		      "pselect: echo -> the socket bit alone, timeout left alone (%d)", n);
		quiesce();
		SETUP();
		ts.tv_sec = 0;
		ts.tv_nsec = 50000000;
		t0 = now_ms();
		n = pselect(maxfd + 1, &r, NULL, NULL, &ts, &mask);
		dt = now_ms() - t0;
		check(n == 0 && dt >= 49 && dt < 200, "pselect 50 ms -> 0 after %.1f ms", dt);
	}
#undef SETUP
}

static void test_timeouts(void)
{
	struct epoll_event ev[8];
	struct pollfd p[2] = { { .fd = sk, .events = POLLIN }, { .fd = pipefd[0], .events = POLLIN } };
	struct timeval tv;
	fd_set r;
	double t0, dt;
	int n;

	quiesce();
	ewait(ep, ev, 8, 0);
	t0 = now_ms();
	n = ewait(ep, ev, 8, 20);
	dt = now_ms() - t0;
	check(n == 0 && dt >= 19 && dt < 150, "epoll_wait 20 ms -> 0 after %.1f ms", dt);
	t0 = now_ms();
	n = ewait(ep, ev, 8, 200);
	dt = now_ms() - t0;
	check(n == 0 && dt >= 199 && dt < 300, "epoll_wait 200 ms -> 0 after %.1f ms", dt);
	{
		struct timespec ts = { 0, 50000000 };

		t0 = now_ms();
		n = epoll_pwait2(ep, ev, 8, &ts, NULL);
		dt = now_ms() - t0;
		check(n == 0 && dt >= 49 && dt < 200, "epoll_pwait2 50 ms -> 0 after %.1f ms", dt);
		send_byte(sk);
		ts.tv_sec = 2;
		ts.tv_nsec = 0;
		n = epoll_pwait2(ep, ev, 8, &ts, NULL);
		check(only(ev, n, D_SK, EPOLLIN),
		      "epoll_pwait2: echo -> the socket (%s)", evs_str(ev, n));
		quiesce();
		ewait(ep, ev, 8, 0);
	}
	t0 = now_ms();
	n = poll(p, 2, 200);
	dt = now_ms() - t0;
	check(n == 0 && dt >= 199 && dt < 300, "poll 200 ms -> 0 after %.1f ms", dt);
	t0 = now_ms();
	n = poll(p, 2, 0);
	dt = now_ms() - t0;
	check(n == 0 && dt < 20, "poll 0 -> 0 after %.2f ms", dt);
	FD_ZERO(&r);
	FD_SET(sk, &r);
	FD_SET(pipefd[0], &r);
	tv.tv_sec = 0;
	tv.tv_usec = 200000;
	t0 = now_ms();
	n = select((sk > pipefd[0] ? sk : pipefd[0]) + 1, &r, NULL, NULL, &tv);
	dt = now_ms() - t0;
	check(n == 0 && dt >= 199 && dt < 300 && !FD_ISSET(sk, &r) && tv.tv_sec == 0 && tv.tv_usec == 0,
	      "select 200 ms -> 0 after %.1f ms, sets cleared, *timeout 0", dt);
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void test_eintr(void)
{
	struct epoll_event ev[8];
	struct pollfd p = { .fd = sk, .events = POLLIN };
	struct sigaction sa;
	double t0, dt;
	fd_set r;
	int n, e;

	quiesce();
	ewait(ep, ev, 8, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);

	alarms = 0;
	alarm(1);
	t0 = now_ms();
	n = epoll_wait(ep, ev, 8, 5000);
	e = errno;
	dt = now_ms() - t0;
	check(n < 0 && e == EINTR && alarms == 1 && dt > 900 && dt < 2500,
	      "epoll_wait: SIGALRM handler -> -1 EINTR after %.1f ms (%d, %s)", dt, n, strerror(e));

	alarms = 0;
	alarm(1);
	t0 = now_ms();
	n = poll(&p, 1, 5000);
	e = errno;
	dt = now_ms() - t0;
	check(n < 0 && e == EINTR && alarms == 1 && dt > 900 && dt < 2500,
	      "poll: SIGALRM handler -> -1 EINTR after %.1f ms (%d, %s)", dt, n, strerror(e));

	alarms = 0;
	alarm(1);
	FD_ZERO(&r);
	FD_SET(sk, &r);
	t0 = now_ms();
	n = select(sk + 1, &r, NULL, NULL, NULL);
	e = errno;
	dt = now_ms() - t0;
	check(n < 0 && e == EINTR && alarms == 1 && dt > 900 && dt < 2500,
	      "select: SIGALRM handler -> -1 EINTR after %.1f ms (%d, %s)", dt, n, strerror(e));

	/* Still works after the interruption. */
	send_byte(sk);
	n = ewait(ep, ev, 8, 2000);
	check(only(ev, n, D_SK, EPOLLIN), "epoll: works after EINTR (%s)", evs_str(ev, n));
	quiesce();
}

/* ---- setting up ---- */

static void check_local(int fd, const char *expect)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	char buf[INET_ADDRSTRLEN] = "?";

	if (!expect)
		return;
	if (getsockname(fd, (struct sockaddr *)&a, &al) == 0)
		inet_ntop(AF_INET, &a.sin_addr, buf, sizeof(buf));
	check(!strcmp(buf, expect),
	      "the connection's local address is %s (the stack's: offloaded)", buf);
}

static int setup_connect(const char *ip, int port, const char *expect)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int i, one = 1;

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "mixed_wait: bad address %s\n", ip);
		return -1;
	}
	/* The peer may take a moment to listen. */
	for (i = 0; i < 50; i++) {
		sk = socket(AF_INET, SOCK_STREAM, 0);
		if (sk < 0) {
			perror("socket");
			return -1;
		}
		if (connect(sk, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		close(sk);
		sk = -1;
		usleep(100000);
	}
	if (sk < 0) {
		fprintf(stderr, "mixed_wait: cannot connect to %s:%d: %s\n", ip, port, strerror(errno));
		return -1;
	}
	setsockopt(sk, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(sk, F_SETFL, fcntl(sk, F_GETFL) | O_NONBLOCK);
	check(true, "connected to %s:%d", ip, port);
	check_local(sk, expect);
	return 0;
}

/* Listen on the wildcard address (a shadow listener: the kernel socket
 * listens too) and accept the peer through epoll. */
static int setup_listen(int port, const char *expect)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct epoll_event ev[8];
	int lfd, one = 1, n;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 16) < 0) {
		perror("mixed_wait: listen");
		return -1;
	}
	check(ctl(ep, EPOLL_CTL_ADD, lfd, EPOLLIN, D_LISTEN) == 0, "epoll: listening socket added");
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll: no connection yet -> nothing (%s)", evs_str(ev, n));
	printf("mixed_wait: listening on port %d\n", port);
	fflush(stdout);
	n = ewait(ep, ev, 8, 20000);
	check(only(ev, n, D_LISTEN, EPOLLIN), "epoll: peer connects -> the listener, once (%s)",
	      evs_str(ev, n));
	sk = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	if (sk < 0) {
		perror("mixed_wait: accept");
		return -1;
	}
	setsockopt(sk, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	check(true, "accepted the peer");
	check_local(sk, expect);
	n = ewait(ep, ev, 8, 0);
	check(n == 0, "epoll: accept queue empty -> listener quiet (%s)", evs_str(ev, n));

	/* A loopback client reaches the listener through its kernel half:
	 * the same epoll item reports it, once. */
	{
		struct sockaddr_in lo = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		int c = socket(AF_INET, SOCK_STREAM, 0), a2;

		lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		n = c >= 0 ? connect(c, (struct sockaddr *)&lo, sizeof(lo)) : -1;
		check(n == 0, "loopback client connects to the wildcard listener (%s)",
		      n ? strerror(errno) : "ok");
		n = ewait(ep, ev, 8, 2000);
		check(only(ev, n, D_LISTEN, EPOLLIN),
		      "epoll: loopback connection -> the listener, once, with its data (%s)",
		      evs_str(ev, n));
		a2 = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		check(a2 >= 0,
		      "accepted the loopback client (%s)", a2 < 0 ? strerror(errno) : "ok");
		n = ewait(ep, ev, 8, 0);
		check(n == 0, "epoll: listener quiet again (%s)", evs_str(ev, n));
		if (a2 >= 0)
			close(a2);
		close(c);
	}
	/* The listener stays in the set: its kernel half is polled by every
	 * wait from now on, and must stay quiet. */
	return 0;
}

int main(int argc, char **argv)
{
	const char *expect = NULL;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    (efd = eventfd(0, EFD_NONBLOCK)) < 0 ||
	    (tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)) < 0) {
		perror("mixed_wait: setup");
		return 2;
	}
	if (argc >= 4 && !strcmp(argv[1], "connect")) {
		if (argc >= 5)
			expect = argv[4];
		rc = setup_connect(argv[2], atoi(argv[3]), expect);
	} else if (argc >= 3 && !strcmp(argv[1], "listen")) {
		if (argc >= 4)
			expect = argv[3];
		rc = setup_listen(atoi(argv[2]), expect);
	} else {
		fprintf(stderr, "usage: mixed_wait connect <peer-ip> <port> [<expect-local-ip>]\n"
		                "       mixed_wait listen <port> [<expect-local-ip>]\n");
		return 2;
	}
	if (rc < 0) {
		failed++;
		printf("mixed_wait: %d passed, %d failed\n", passed, failed);
		return 1;
	}
	if (ctl(ep, EPOLL_CTL_ADD, sk, EPOLLIN, D_SK) < 0 ||
	    ctl(ep, EPOLL_CTL_ADD, pipefd[0], EPOLLIN, D_PIPE) < 0 ||
	    ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, D_EFD) < 0 ||
	    ctl(ep, EPOLL_CTL_ADD, tfd, EPOLLIN, D_TFD) < 0) {
		perror("mixed_wait: epoll_ctl");
		return 2;
	}

	test_epoll_basic();
	test_epoll_sleep_wake();
	test_epoll_all();
	test_epoll_et_oneshot();
	test_epoll_ctl();
	test_epoll_two_sets();
	test_epoll_moves_to_kernel();
	test_epoll_close_while_waiting();
	test_epoll_nested();
	test_poll();
	test_select();
	test_timeouts();
	test_eintr();

	close(sk);
	close(ep);
	printf("mixed_wait: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
