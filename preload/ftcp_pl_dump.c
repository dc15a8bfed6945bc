/*
 * ftcp_pl_dump.c — a running stack's state on request (ftcp-stat), like
 * onload_stackdump or ss -ti.
 *
 * A thread blocks in accept on the Unix stream socket
 * <FTCP_DUMP_DIR>/<pid>.sock; each connection sends one command line
 * ("sockets", "counters" or "all") and gets a text report, then EOF.
 * The thread takes the stack lock only to copy numbers out, a bounded
 * chunk of sockets at a time, and formats and writes with the lock
 * released, so a slow reader never stalls the stack. It calls libc's
 * socket functions through pl_real: the interposed ones would treat its
 * fds as the program's.
 */
#include "ftcp_pl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ftcp/ftcp_counters.h"
#include "ftcp_dpdk.h"
#include "ftcp_driver.h"

/* Sockets copied per lock hold: keeps one hold to a few microseconds
 * whatever FTCP_MAX_SOCKETS is. */
#define DUMP_CHUNK 64
/* A client gets this long to send its command and to take the report. */
#define DUMP_IO_TIMEOUT_S 2

static int listen_fd = -1;
static struct stat listen_st; /* to notice the program closing our fd */
static pid_t owner_pid;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
/* Dekker pair with pl_dump_stop: the thread sets busy and then checks
 * stopping before it touches the stack; stop sets stopping and then waits
 * for busy to clear, so the stack is never read while it is torn down. */
static _Atomic bool stopping, busy;

/* ---- output: a buffer flushed to the client with the lock released ---- */

struct out {
	int fd;
	bool failed; /* the client went away: stop formatting */
	size_t len;
	char buf[32768];
};

static void out_flush(struct out *o)
{
	size_t off = 0;

	while (!o->failed && off < o->len) {
		ssize_t n = pl_real.send(o->fd, o->buf + off, o->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			o->failed = true;
		else
			off += (size_t)n;
	}
	o->len = 0;
}

__attribute__((format(printf, 2, 3)))
static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* Lines are short: keep room for one, flush before it could not fit. */
	if (sizeof(o->buf) - o->len < 1024)
		out_flush(o);
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < sizeof(o->buf) - o->len ? (size_t)n : sizeof(o->buf) - o->len - 1;
}

/* ---- stack access ---- */

static bool enter(void)
{
	atomic_store(&busy, true);
	if (atomic_load(&stopping) || !pl_running()) {
		atomic_store(&busy, false);
		return false;
	}
	return true;
}

static void leave(void)
{
	atomic_store(&busy, false);
}

static void fmt_addr(char *b, size_t len, const struct ftcp_sockaddr *a, bool valid)
{
	if (!valid)
		snprintf(b, len, "*:*");
	else
		snprintf(b, len, "%u.%u.%u.%u:%u", a->addr >> 24, a->addr >> 16 & 255,
		         a->addr >> 8 & 255, a->addr & 255, a->port);
}

static void program_name(char *b, size_t len)
{
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? pl_real.read(fd, b, len - 1) : -1;

	if (fd >= 0)
		pl_real.close(fd);
	if (n <= 0)
		n = 0;
	b[n] = 0;
	b[strcspn(b, "\n")] = 0;
	if (!b[0])
		snprintf(b, len, "?");
}

static void dump_header(struct out *o)
{
	struct ftcp_driver_stats ds;
	char name[64];

	program_name(name, sizeof(name));
	outf(o, "libftcp pid %d (%s)\n", (int)getpid(), name);
	if (!enter()) {
		outf(o, "  the stack is not running (state %d)\n", atomic_load(&pl.state));
		return;
	}
	ftcp_driver_stats(pl.drv, &ds);
	outf(o, "  address   %u.%u.%u.%u/%u", pl.cfg.ip >> 24, pl.cfg.ip >> 16 & 255,
	     pl.cfg.ip >> 8 & 255, pl.cfg.ip & 255, pl.cfg.prefix);
	if (pl.cfg.gw)
		outf(o, " gateway %u.%u.%u.%u", pl.cfg.gw >> 24, pl.cfg.gw >> 16 & 255,
		     pl.cfg.gw >> 8 & 255, pl.cfg.gw & 255);
	outf(o, "\n  driver    %s\n  offloads  %s\n", ftcp_dpdk_driver(pl.port),
	     ftcp_dpdk_offloads(pl.port));
	if (pl.cfg.core >= 0)
		outf(o, "  polling   pinned thread on CPU %d%s", pl.cfg.core,
		     ds.lcore_registered ? "" : " (no EAL lcore)");
	else
		outf(o, "  polling   inline (by the program's threads)");
	outf(o, "; spin %u us, idle after %u us, idle sleep %u us", pl.cfg.spin_us,
	     pl.cfg.idle_after_us, pl.cfg.idle_sleep_us);
	if (pl.nic_fd >= 0)
		outf(o, "; idle: sleeps on the NIC's fd %d\n", pl.nic_fd);
	else
		outf(o, "; idle: sleeps in idle-sleep steps (the NIC offers no fd)\n");
	outf(o, "  passes    %llu, busy %llu, idle sleeps %llu, lock waits %llu\n",
	     (unsigned long long)ds.passes, (unsigned long long)ds.busy_passes,
	     (unsigned long long)ds.idle_sleeps, (unsigned long long)ds.lock_waits);
	if (pl.cfg.core < 0)
		outf(o, "  lcores    %u threads given one for their passes, %u hold one now\n",
		     ds.inline_lcores_given, ds.inline_lcores_held);
	leave();
}

static void dump_counters(struct out *o)
{
	struct ftcp_dpdk_stats ps;
	struct ftcp_pool_stats pst;
	struct ftcp_counters c;
	unsigned i, shown = 0;

	if (!enter())
		return;
	/* The port's counters come from the device (a syscall for AF_XDP):
	 * outside the stack lock, only kept from a port teardown by busy. */
	ftcp_dpdk_stats(pl.port, &ps);
	pl_lock();
	ftcp_stack_pool_stats(pl.stack, &pst);
	ftcp_stack_counters(pl.stack, &c);
	pl_unlock();
	leave();

	outf(o, "\nport\n");
	outf(o, "  rx packets %llu, bytes %llu; tx packets %llu, bytes %llu\n",
	     (unsigned long long)ps.rx_packets, (unsigned long long)ps.rx_bytes,
	     (unsigned long long)ps.tx_packets, (unsigned long long)ps.tx_bytes);
	outf(o, "  rx missed %llu, rx no mbuf %llu, rx errors %llu, rx scattered %llu\n",
	     (unsigned long long)ps.rx_missed, (unsigned long long)ps.rx_nombuf,
	     (unsigned long long)ps.rx_errors, (unsigned long long)ps.rx_scattered);
	outf(o, "  tx refused %llu, tx no mbuf %llu, tx errors %llu\n",
	     (unsigned long long)ps.tx_refused, (unsigned long long)ps.tx_nombuf,
	     (unsigned long long)ps.tx_errors);

	outf(o, "\npools\n");
	outf(o, "  sockets %u/%u, rx buffers %u/%u, tx buffers %u/%u\n", pst.sockets_in_use,
	     pst.sockets_max, pst.rx_buffers_in_use, pst.rx_buffers_max, pst.tx_buffers_in_use,
	     pst.tx_buffers_max);
	outf(o, "  timers %u, tx fifo %u, arp entries %u, arp held frames %u\n", pst.timers_queued,
	     pst.tx_fifo_used, pst.arp_entries_in_use, pst.arp_held_frames);
	outf(o, "  allocation failures: sockets %llu, rx buffers %llu\n",
	     (unsigned long long)pst.socket_alloc_failures,
	     (unsigned long long)pst.rx_buffer_alloc_failures);

	outf(o, "\nstack counters (non-zero)\n");
	for (i = 0; i < ftcp_counter_count(); i++) {
		uint64_t v = ftcp_counter_value(&c, i);
		if (!v)
			continue;
		outf(o, "  %-28s %llu\n", ftcp_counter_name(i), (unsigned long long)v);
		shown++;
	}
	if (!shown)
		outf(o, "  (all zero)\n");
}

/* ---- sockets ---- */

struct fd_ref {
	const struct pl_file *f;
	int fd;
};

static int cmp_ref(const void *a, const void *b)
{
	const struct fd_ref *x = a, *y = b;

	if (x->f != y->f)
		return (uintptr_t)x->f < (uintptr_t)y->f ? -1 : 1;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

/* Which fds name which object, read without the lock: only pointer
 * values are kept (an epoll object may be freed meanwhile, so nothing is
 * dereferenced). A socket opened or closed during the dump may show
 * without its fd. */
static struct fd_ref *fd_snapshot(size_t *n)
{
	size_t cap = 256, k = 0;
	struct fd_ref *r = malloc(cap * sizeof(*r));
	int fd;

	for (fd = 0; r && fd < pl.max_fds; fd++) {
		struct pl_file *f = atomic_load_explicit(&pl.fds[fd], memory_order_relaxed);
		if (!f)
			continue;
		if (k == cap) {
			struct fd_ref *g = realloc(r, cap * 2 * sizeof(*r));
			if (!g)
				break;
			r = g;
			cap *= 2;
		}
		r[k].f = f;
		r[k].fd = fd;
		k++;
	}
	if (r)
		qsort(r, k, sizeof(*r), cmp_ref);
	*n = r ? k : 0;
	return r;
}

struct sock_snap {
	const struct pl_file *f;
	int type;
	bool listening, shadow, has_local, has_peer, has_info;
	int state; /* TCP state, or < 0 */
	int rx_pending;
	struct ftcp_sockaddr local, peer;
	struct ftcp_tcp_info ti;
};

static void snap_one(struct pl_sock *s, struct sock_snap *x)
{
	memset(x, 0, sizeof(*x));
	x->f = &s->f;
	x->type = s->type;
	x->listening = s->listening;
	x->shadow = s->shadow;
	x->has_local = ftcp_getsockname(pl.stack, s->h, &x->local) == 0;
	x->has_peer = ftcp_getpeername(pl.stack, s->h, &x->peer) == 0;
	x->state = s->type == SOCK_STREAM ? ftcp_tcp_state(pl.stack, s->h) : -1;
	if (x->state >= 0)
		x->has_info = ftcp_tcp_info(pl.stack, s->h, &x->ti) == 0;
	x->rx_pending = ftcp_sock_rx_pending(pl.stack, s->h);
}

static void print_fds(struct out *o, const struct fd_ref *refs, size_t nrefs, const void *f)
{
	size_t lo = 0, hi = nrefs;
	char b[48];
	int w = 0;

	/* First entry for f (the array is sorted by object, then fd). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uintptr_t)refs[mid].f < (uintptr_t)f)
			lo = mid + 1;
		else
			hi = mid;
	}
	b[0] = 0;
	for (; lo < nrefs && refs[lo].f == f && w < (int)sizeof(b) - 12; lo++)
		w += snprintf(b + w, sizeof(b) - (size_t)w, "%s%d", w ? "," : "", refs[lo].fd);
	outf(o, "  %-7s", w ? b : "-");
}

static void print_sock(struct out *o, const struct sock_snap *x, const struct fd_ref *refs,
                       size_t nrefs)
{
	char la[32], pa[32];
	const struct ftcp_tcp_info *t = &x->ti;

	fmt_addr(la, sizeof(la), &x->local, x->has_local);
	fmt_addr(pa, sizeof(pa), &x->peer, x->has_peer);
	print_fds(o, refs, nrefs, x->f);
	outf(o, " %-4s %-12s %-21s %-21s", x->type == SOCK_STREAM ? "tcp" : "udp",
	     x->state >= 0 ? ftcp_tcp_state_name(x->state) : "-", la, pa);
	if (x->type != SOCK_STREAM) {
		outf(o, " recvq %d", x->rx_pending > 0 ? x->rx_pending : 0);
	} else if (x->state == FTCP_TCP_LISTEN || !x->has_info) {
		if (x->shadow)
			outf(o, " (also on the kernel for loopback)");
	} else {
		outf(o, " sendq %u recvq %u cwnd %u ssthresh %u rtt %u/%uus rto %uus mss %u"
		        " retrans %u/%u/%u acked %llu received %llu",
		     t->send_queue, t->recv_queue, t->snd_cwnd, t->snd_ssthresh, t->rtt_us,
		     t->rttvar_us, t->rto_us, t->snd_mss, t->total_retrans, t->fast_retrans,
		     t->timeouts, (unsigned long long)t->bytes_acked,
		     (unsigned long long)t->bytes_received);
	}
	outf(o, "\n");
}

static void dump_sockets(struct out *o)
{
	static struct sock_snap snap[DUMP_CHUNK];
	struct pl_sock *cur = NULL;
	struct fd_ref *refs;
	size_t nrefs;
	unsigned total = 0;
	bool more = true;

	refs = fd_snapshot(&nrefs);
	outf(o, "\nsockets (fds; retrans: total/fast/timeouts; bytes)\n");
	outf(o, "  %-7s %-4s %-12s %-21s %-21s\n", "fd", "type", "state", "local", "peer");
	/* A chunk per lock hold. The pool's entries never move, so the last
	 * one visited is a valid place to resume even if it was freed in
	 * between. */
	while (more && !o->failed) {
		int n = 0, i;

		if (!enter())
			break;
		pl_lock();
		while (n < DUMP_CHUNK) {
			cur = pl_sock_next(cur);
			if (!cur) {
				more = false;
				break;
			}
			if (cur->h >= 0)
				snap_one(cur, &snap[n++]);
		}
		pl_unlock();
		leave();
		for (i = 0; i < n; i++)
			print_sock(o, &snap[i], refs, nrefs);
		total += (unsigned)n;
	}
	if (!total)
		outf(o, "  (none)\n");
	free(refs);
}

/* ---- the thread ---- */

static void serve(int c)
{
	static struct out o;
	struct timeval tv = { .tv_sec = DUMP_IO_TIMEOUT_S };
	char cmd[64];
	size_t got = 0;
	bool sockets = true, counters = true;

	pl_real.setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pl_real.setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* One line; a client that sends nothing gets "all" after the timeout. */
	while (got < sizeof(cmd) - 1) {
		ssize_t n = pl_real.recv(c, cmd + got, sizeof(cmd) - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(cmd, '\n', got))
			break;
	}
	cmd[got] = 0;
	cmd[strcspn(cmd, "\r\n")] = 0;
	o.fd = c;
	o.failed = false;
	o.len = 0;
	if (!strcmp(cmd, "sockets"))
		counters = false;
	else if (!strcmp(cmd, "counters"))
		sockets = false;
	else if (cmd[0] && strcmp(cmd, "all")) {
		outf(&o, "error: unknown command \"%s\" (sockets, counters or all)\n", cmd);
		sockets = counters = false;
	}
	if (sockets || counters)
		dump_header(&o);
	if (counters)
		dump_counters(&o);
	if (sockets)
		dump_sockets(&o);
	out_flush(&o);
}

static void *dump_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct stat st;
		int c;

		/* A program that closes every fd (daemons do) may have reused
		 * the number: never accept on a socket that is not ours. */
		if (fstat(listen_fd, &st) < 0 || st.st_ino != listen_st.st_ino ||
		    st.st_dev != listen_st.st_dev) {
			pl_log(PL_WARN, "state socket %s: the program closed its fd; "
			       "ftcp-stat cannot reach this process any more", sock_path);
			return NULL;
		}
		c = pl_real.accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (atomic_load(&stopping)) {
			if (c >= 0)
				pl_real.close(c);
			return NULL;
		}
		if (c < 0) {
			/* EMFILE and the like: the program's fds come first;
			 * try again a little later. */
			if (errno != EINTR && errno != ECONNABORTED)
				usleep(100000);
			continue;
		}
		serve(c);
		pl_real.close(c);
	}
}

/* Stop serving and remove the socket: at exit, before the stack is torn
 * down. Async-signal-safe, so a fatal signal's clean-up may call it too.
 * Waits, bounded, for a dump that is reading the stack. */
void pl_dump_stop(void)
{
	struct stat st;
	int i;

	if (listen_fd < 0 || getpid() != owner_pid || atomic_exchange(&stopping, true))
		return;
	for (i = 0; i < 100000 && atomic_load(&busy); i++)
		sched_yield();
	unlink(sock_path);
	/* Wakes the thread out of accept (Linux); it sees stopping and ends.
	 * Only if the fd is still ours. */
	if (fstat(listen_fd, &st) == 0 && st.st_ino == listen_st.st_ino &&
	    st.st_dev == listen_st.st_dev)
		pl_real.shutdown(listen_fd, SHUT_RDWR);
}

static int mkdir_p(const char *dir)
{
	char p[256];
	size_t i;

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		return -1;
	for (i = 1; p[i]; i++) {
		if (p[i] != '/')
			continue;
		p[i] = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -1;
		p[i] = '/';
	}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int open_listener(char *why, size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (snprintf(sock_path, sizeof(sock_path), "%s/%d.sock", pl.cfg.dump_dir, (int)getpid()) >=
	    (int)sizeof(sock_path)) {
		snprintf(why, whylen, "path longer than %zu characters", sizeof(sock_path) - 1);
		return -1;
	}
	if (mkdir_p(pl.cfg.dump_dir) < 0) {
		snprintf(why, whylen, "mkdir: %s", strerror(errno));
		return -1;
	}
	fd = pl_real.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	/* Our pid's name: any file there is left from an earlier program
	 * this process exec'd from, or from one that died with our pid. */
	unlink(sock_path);
	if (pl_real.bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sock_path, 0600) < 0 || pl_real.listen(fd, 8) < 0) {
		snprintf(why, whylen, "%s: %s", sock_path, strerror(errno));
		unlink(sock_path);
		pl_real.close(fd);
		return -1;
	}
	return fd;
}

static void at_exit_dump(void)
{
	pl_dump_stop();
}

void pl_dump_start(void)
{
	static _Atomic bool started;
	sigset_t all, old;
	pthread_t t;
	char why[320];
	int rc;

	if (atomic_exchange(&started, true))
		return;
	listen_fd = open_listener(why, sizeof(why));
	if (listen_fd < 0) {
		pl_log(PL_WARN, "no state socket for ftcp-stat in %s (FTCP_DUMP_DIR): %s",
		       pl.cfg.dump_dir, why);
		return;
	}
	fstat(listen_fd, &listen_st);
	owner_pid = getpid();
	/* Registered after the stack's own exit handler, so it runs first:
	 * the dump thread is done with the stack before it is torn down. */
	atexit(at_exit_dump);
	/* The program's signals go to the program's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, NULL, dump_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pl_log(PL_WARN, "no state socket for ftcp-stat (FTCP_DUMP_DIR %s): thread: %s",
		       pl.cfg.dump_dir, strerror(rc));
		pl_dump_stop();
		return;
	}
	pthread_setname_np(t, "ftcp-dump");
	pthread_detach(t);
	pl_log(PL_DEBUG, "state socket %s (ftcp-stat %d)", sock_path, (int)owner_pid);
}
