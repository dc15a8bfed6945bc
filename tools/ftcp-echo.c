/*
 * ftcp-echo — libftcp on a DPDK port, serving with the core's callback API
 * (no preload): TCP echo (port 7), discard (9), chargen (19) and UDP echo
 * (7). The first user of the DPDK device and the harness of the interop
 * tests against Linux TCP.
 *
 *   discard  reads to end of stream, then prints the byte count and SHA-256;
 *   chargen  sends --chargen-bytes of a fixed pattern, then closes; the same
 *            pattern comes out of `ftcp-echo --pattern N` for checking.
 *
 * usage: ftcp-echo --eal "EAL ARGS" --ip A.B.C.D/LEN [--gw A.B.C.D] [--port NAME]
 *                  [--mtu N] [--mbufs N] [--conns N] [--seconds N] [--chargen-bytes N]
 *                  [--faults drop=P,dup=P,reorder=P,corrupt=P,delay_us=N,seed=N]
 *                  [--no-offload] [--no-zero-copy] [--link-wait-ms N]
 *        ftcp-echo --pattern N     (write N pattern bytes to stdout)
 *
 * With --connect A.B.C.D it is a client instead: it sends --client-bytes of
 * the pattern to that host's discard port and reads the same amount from
 * its chargen port, prints both SHA-256 and the rates, and exits (0 when
 * both transfers completed): two libftcp stacks in two processes, e.g.
 * over net_memif.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/ftcp_faultdev.h"
#include "ftcp/ftcp.h"
#include "ftcp_dpdk.h"
#include "ftcp_driver.h"
#include "ftcp_sha256.h"

#define ECHO_PORT 7
#define DISCARD_PORT 9
#define CHARGEN_PORT 19
#define MAX_CONNS 4096
#define ECHO_BUF 65536

enum service { ECHO, DISCARD, CHARGEN };

struct conn {
	bool used;
	enum service svc;
	ftcp_sock_t sock;
	struct ftcp_sockaddr peer;
	uint8_t *buf;              /* echo: bytes read, not yet sent back */
	uint32_t head, tail;
	bool eof, shut;
	uint64_t bytes;
	struct ftcp_sha256 sha;
};

static volatile sig_atomic_t stop;
static struct ftcp_stack *stack;
static struct ftcp_driver *drv;
static struct conn conns[MAX_CONNS];
static uint64_t chargen_bytes = 1 << 20;
static ftcp_sock_t listeners[3];

/* ---- client mode ---- */
struct client_conn {
	ftcp_sock_t sock;
	bool sending, done, failed;
	uint64_t bytes, want;
	uint64_t t_start, t_end;
	struct ftcp_sha256 sha;
};
static struct client_conn cl_send, cl_recv;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static bool clients_done(void)
{
	return cl_send.done && cl_recv.done;
}

/* Run the stack until done() (may be NULL), a signal, or the deadline
 * (0: none). Inline, this thread polls; with a poll thread it looks now and
 * then, under the stack lock, since the callbacks run on that thread. */
static void run_until(bool (*done)(void), uint64_t deadline)
{
	bool over = false;

	while (!over) {
		ftcp_driver_lock(drv);
		ftcp_driver_poll(drv);
		over = stop || (done && done()) || (deadline && ftcp_dpdk_now_us() >= deadline);
		ftcp_driver_unlock(drv);
		if (!over && !ftcp_driver_inline(drv))
			usleep(1000);
	}
}

/* Pattern byte i: a position hash, so any slice can be checked. */
static void pattern_fill(uint8_t *p, uint64_t off, uint32_t n)
{
	uint32_t i;
	for (i = 0; i < n; i++) {
		uint64_t x = ((off + i) >> 3) * 0x9e3779b97f4a7c15ull;
		x ^= x >> 31;
		p[i] = (uint8_t)(x >> (8 * ((off + i) & 7)));
	}
}

static const char *ipstr(uint32_t a, char *b)
{
	snprintf(b, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return b;
}

static struct conn *conn_new(void)
{
	int i;
	for (i = 0; i < MAX_CONNS; i++)
		if (!conns[i].used) {
			memset(&conns[i], 0, sizeof(conns[i]));
			conns[i].used = true;
			return &conns[i];
		}
	return NULL;
}

static void conn_end(struct conn *c)
{
	char ip[16], hex[65];

	if (c->svc == DISCARD || c->svc == CHARGEN) {
		ftcp_sha256_hex(&c->sha, hex);
		printf("%s: %s:%u %llu bytes sha256 %s\n", c->svc == DISCARD ? "discard" : "chargen",
		       ipstr(c->peer.addr, ip), c->peer.port, (unsigned long long)c->bytes, hex);
		fflush(stdout);
	}
	ftcp_close(stack, c->sock);
	free(c->buf);
	c->used = false;
}

/* Move as much as possible; returns false when the connection is done. */
static bool conn_work(struct conn *c)
{
	uint8_t tmp[16384];
	int n;

	switch (c->svc) {
	case ECHO:
		for (;;) {
			if (c->head != c->tail) {
				n = ftcp_send(stack, c->sock, c->buf + c->head, c->tail - c->head);
				if (n < 0 && n != -FTCP_EAGAIN)
					return false;
				if (n > 0)
					c->head += (uint32_t)n;
				if (c->head != c->tail)
					return true; /* wait for WRITABLE */
			}
			c->head = c->tail = 0;
			if (c->eof)
				break;
			n = ftcp_recv(stack, c->sock, c->buf, ECHO_BUF, 0);
			if (n == -FTCP_EAGAIN)
				return true;
			if (n <= 0) {
				c->eof = true;
				continue;
			}
			c->tail = (uint32_t)n;
			c->bytes += (uint64_t)n;
		}
		break;
	case DISCARD:
		while ((n = ftcp_recv(stack, c->sock, tmp, sizeof(tmp), 0)) > 0) {
			ftcp_sha256_update(&c->sha, tmp, (size_t)n);
			c->bytes += (uint64_t)n;
		}
		if (n == -FTCP_EAGAIN)
			return true;
		break;
	case CHARGEN:
		while (c->bytes < chargen_bytes) {
			uint32_t want = (uint32_t)(chargen_bytes - c->bytes < sizeof(tmp) ? chargen_bytes - c->bytes
			                                                                   : sizeof(tmp));
			pattern_fill(tmp, c->bytes, want);
			n = ftcp_send(stack, c->sock, tmp, want);
			if (n == -FTCP_EAGAIN)
				return true;
			if (n < 0)
				return false;
			ftcp_sha256_update(&c->sha, tmp, (size_t)n);
			c->bytes += (uint64_t)n;
		}
		/* Read (and drop) until the peer is done too. */
		while ((n = ftcp_recv(stack, c->sock, tmp, sizeof(tmp), 0)) > 0)
			;
		if (!c->shut) {
			ftcp_shutdown(stack, c->sock, FTCP_SHUT_WR);
			c->shut = true;
		}
		if (n == -FTCP_EAGAIN)
			return true;
		break;
	}
	return false;
}

static void conn_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct conn *c = user;

	(void)s, (void)sock, (void)ev;
	if (c->used && !conn_work(c))
		conn_end(c);
}

static void listen_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	enum service svc = (enum service)(uintptr_t)user;
	struct ftcp_sockaddr peer;
	ftcp_sock_t child;

	(void)ev;
	for (;;) {
		struct conn *c = conn_new();
		if (!c)
			return; /* table full: the accept queue holds the rest */
		child = ftcp_accept(s, sock, conn_cb, c, &peer);
		if (child < 0) {
			c->used = false;
			return;
		}
		c->svc = svc;
		c->sock = child;
		c->peer = peer;
		ftcp_sha256_init(&c->sha);
		if (svc == ECHO)
			c->buf = malloc(ECHO_BUF);
		ftcp_setsockopt(s, child, FTCP_SO_NODELAY, 1);
		if (!conn_work(c))
			conn_end(c);
	}
}

static void udp_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	uint8_t buf[65536];
	struct ftcp_sockaddr from;
	int n;

	(void)ev, (void)user;
	while ((n = ftcp_recvfrom(s, sock, buf, sizeof(buf), 0, &from, NULL, NULL)) >= 0)
		ftcp_sendto(s, sock, buf, (uint32_t)n, &from);
}

static void client_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct client_conn *c = user;
	uint8_t buf[16384];
	int n;

	(void)sock;
	if (c->done)
		return;
	if (ev & FTCP_EV_ERROR) {
		c->failed = c->done = true;
		fprintf(stderr, "ftcp-echo: client: %s\n", ftcp_strerror(ftcp_sock_error(s, c->sock)));
		return;
	}
	if (!c->t_start)
		c->t_start = ftcp_dpdk_now_us();
	if (c->sending) {
		while (c->bytes < c->want) {
			uint32_t k = (uint32_t)(c->want - c->bytes < sizeof(buf) ? c->want - c->bytes : sizeof(buf));
			pattern_fill(buf, c->bytes, k);
			n = ftcp_send(s, c->sock, buf, k);
			if (n <= 0)
				return;
			ftcp_sha256_update(&c->sha, buf, (size_t)n);
			c->bytes += (uint64_t)n;
		}
		ftcp_shutdown(s, c->sock, FTCP_SHUT_WR);
		/* done when the peer closes too (its discard reported the hash) */
		while ((n = ftcp_recv(s, c->sock, buf, sizeof(buf), 0)) > 0)
			;
		if (n == 0 || (ev & FTCP_EV_CLOSED)) {
			c->t_end = ftcp_dpdk_now_us();
			c->done = true;
		}
		return;
	}
	while ((n = ftcp_recv(s, c->sock, buf, sizeof(buf), 0)) > 0) {
		ftcp_sha256_update(&c->sha, buf, (size_t)n);
		c->bytes += (uint64_t)n;
	}
	if (n == 0) {
		c->t_end = ftcp_dpdk_now_us();
		c->done = true;
		ftcp_shutdown(s, c->sock, FTCP_SHUT_WR);
	}
}

static int client_start(struct client_conn *c, uint32_t ip, uint16_t port, bool sending,
                        uint64_t bytes)
{
	struct ftcp_sockaddr to = {ip, port};

	memset(c, 0, sizeof(*c));
	c->sending = sending;
	c->want = bytes;
	ftcp_sha256_init(&c->sha);
	c->sock = ftcp_tcp_open(stack, client_cb, c);
	if (c->sock < 0 || ftcp_connect(stack, c->sock, &to) != -FTCP_EINPROGRESS)
		return -1;
	return 0;
}

static void client_report(const char *what, struct client_conn *c)
{
	char hex[65];
	double secs = c->t_end > c->t_start ? (c->t_end - c->t_start) / 1e6 : 0;

	ftcp_sha256_hex(&c->sha, hex);
	printf("client %s: %llu bytes sha256 %s in %.3f s (%.0f MB/s)\n", what,
	       (unsigned long long)c->bytes, hex, secs, secs > 0 ? c->bytes / secs / 1e6 : 0.0);
}

static int listen_on(uint16_t port, enum service svc)
{
	struct ftcp_sockaddr a = {0, port};
	ftcp_sock_t l = ftcp_tcp_open(stack, listen_cb, (void *)(uintptr_t)svc);

	if (l < 0 || ftcp_bind(stack, l, &a) < 0 || ftcp_listen(stack, l, 1024) < 0)
		return -1;
	listeners[svc] = l;
	return 0;
}

static int parse_ip(const char *s, uint32_t *ip, int *prefix)
{
	char buf[64], *slash;
	struct in_addr a;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (prefix) {
		if (!slash)
			return -1;
		*slash = 0;
		*prefix = atoi(slash + 1);
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

/* "drop=0.01,dup=0.01,reorder=0.02,corrupt=0.001,delay_us=100,seed=7":
 * applied to both directions. */
static int parse_faults(const char *spec, struct ftcp_fault_config *f)
{
	char buf[256], *save = NULL, *tok;

	memset(f, 0, sizeof(*f));
	f->seed = 1;
	f->slots = 8192;
	f->max_frame = 9216 + 14;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		double v;
		if (!eq)
			return -1;
		*eq = 0;
		v = atof(eq + 1);
		if (!strcmp(tok, "drop"))
			f->tx.drop_ppm = f->rx.drop_ppm = (uint32_t)(v * 1e6);
		else if (!strcmp(tok, "dup"))
			f->tx.dup_ppm = f->rx.dup_ppm = (uint32_t)(v * 1e6);
		else if (!strcmp(tok, "reorder")) {
			f->tx.reorder_ppm = f->rx.reorder_ppm = (uint32_t)(v * 1e6);
			f->tx.reorder_delay_us = f->rx.reorder_delay_us = 300;
		} else if (!strcmp(tok, "corrupt"))
			f->tx.corrupt_ppm = f->rx.corrupt_ppm = (uint32_t)(v * 1e6);
		else if (!strcmp(tok, "delay_us"))
			f->tx.delay_us = f->rx.delay_us = (uint64_t)v;
		else if (!strcmp(tok, "seed"))
			f->seed = (uint64_t)v;
		else
			return -1;
	}
	return 0;
}

static void print_counters(void)
{
	struct ftcp_counters c;
	unsigned i;

	ftcp_stack_counters(stack, &c);
	for (i = 0; i < ftcp_counter_count(); i++)
		if (ftcp_counter_value(&c, i))
			printf("  %-28s %llu\n", ftcp_counter_name(i),
			       (unsigned long long)ftcp_counter_value(&c, i));
}

static char poll_mode[64];

static int start_driver(const struct ftcp_driver_config *c)
{
	char err[256];

	if (ftcp_driver_start(&drv, stack, c, err, sizeof(err)) < 0) {
		fprintf(stderr, "ftcp-echo: --%s\n", err);
		return -1;
	}
	if (c->core >= 0)
		snprintf(poll_mode, sizeof(poll_mode), "by a thread on CPU %d", c->core);
	else
		snprintf(poll_mode, sizeof(poll_mode), "inline");
	return 0;
}

static void print_driver(void)
{
	struct ftcp_driver_stats ds;

	ftcp_driver_stats(drv, &ds);
	printf("ftcp-echo: loop %s: %llu passes, %llu with work, %llu idle sleeps, %llu lock waits%s\n",
	       poll_mode, (unsigned long long)ds.passes, (unsigned long long)ds.busy_passes,
	       (unsigned long long)ds.idle_sleeps, (unsigned long long)ds.lock_waits,
	       ftcp_driver_inline(drv) || ds.lcore_registered ? "" : " (no EAL lcore: mempool caches unused)");
}

static void usage(void)
{
	fprintf(stderr, "usage: ftcp-echo --eal \"EAL ARGS\" --ip A.B.C.D/LEN [--gw A.B.C.D] [--port NAME]\n"
	                "                 [--mtu N] [--mbufs N] [--conns N] [--seconds N] [--chargen-bytes N]\n"
	                "                 [--faults drop=P,dup=P,reorder=P,corrupt=P,delay_us=N,seed=N]\n"
	                "                 [--no-offload] [--no-zero-copy] [--link-wait-ms N]\n"
	                "                 [--connect A.B.C.D [--client-bytes N]]\n"
	                "                 [--core N (poll thread on CPU N; default: poll inline)]\n"
	                "                 [--idle-after-us N] [--idle-sleep-us N]\n"
	                "       ftcp-echo --pattern N\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"eal", required_argument, 0, 'e'},     {"ip", required_argument, 0, 'i'},
		{"gw", required_argument, 0, 'g'},      {"port", required_argument, 0, 'p'},
		{"mtu", required_argument, 0, 'm'},     {"mbufs", required_argument, 0, 'b'},
		{"seconds", required_argument, 0, 's'}, {"chargen-bytes", required_argument, 0, 'c'},
		{"faults", required_argument, 0, 'f'},  {"pattern", required_argument, 0, 'P'},
		{"no-offload", no_argument, 0, 'O'},    {"no-zero-copy", no_argument, 0, 'Z'},
		{"conns", required_argument, 0, 'n'},  {"help", no_argument, 0, 'h'},
		{"connect", required_argument, 0, 'C'}, {"client-bytes", required_argument, 0, 'B'},
		{"link-wait-ms", required_argument, 0, 'L'},
		{"core", required_argument, 0, 'k'},
		{"idle-after-us", required_argument, 0, 'a'},
		{"idle-sleep-us", required_argument, 0, 'z'},
		{0, 0, 0, 0},
	};
	const char *eal = NULL, *ipspec = NULL, *gwspec = NULL, *faults = NULL, *connect_to = NULL;
	uint64_t client_bytes = 1 << 20;
	uint32_t server_ip = 0;
	struct ftcp_dpdk_config dc;
	struct ftcp_driver_config drc;
	struct ftcp_config cfg;
	struct ftcp_dpdk_port *port;
	struct ftcp_faultdev fd;
	struct ftcp_fault_config fc;
	struct ftcp_device *dev;
	struct ftcp_dpdk_stats ps;
	struct ftcp_sockaddr any7 = {0, ECHO_PORT};
	char err[512];
	const char *why = NULL;
	double seconds = 0;
	uint64_t end = 0;
	void *mem;
	size_t need;
	int opt, prefix = 0, rc, i, nconns = 256;
	ftcp_sock_t u;

	ftcp_dpdk_config_defaults(&dc);
	ftcp_driver_config_defaults(&drc);
	ftcp_config_defaults(&cfg);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'e': eal = optarg; break;
		case 'i': ipspec = optarg; break;
		case 'g': gwspec = optarg; break;
		case 'p': dc.port = optarg; break;
		case 'm': dc.mtu = (uint32_t)atoi(optarg); break;
		case 'b': dc.mbufs = (uint32_t)atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'c': chargen_bytes = strtoull(optarg, NULL, 0); break;
		case 'f': faults = optarg; break;
		case 'O': dc.no_offload = true; break;
		case 'n': nconns = atoi(optarg); break;
		case 'C': connect_to = optarg; break;
		case 'L': dc.link_wait_ms = (uint32_t)atoi(optarg); break;
		case 'B': client_bytes = strtoull(optarg, NULL, 0); break;
		case 'Z': dc.no_multiseg = true; break;
		case 'k': drc.core = atoi(optarg); break;
		case 'a': drc.idle_after_us = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'z': drc.idle_sleep_us = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'P': {
			uint64_t n = strtoull(optarg, NULL, 0), off = 0;
			uint8_t buf[65536];
			while (off < n) {
				uint32_t k = (uint32_t)(n - off < sizeof(buf) ? n - off : sizeof(buf));
				pattern_fill(buf, off, k);
				if (fwrite(buf, 1, k, stdout) != k)
					return 1;
				off += k;
			}
			return 0;
		}
		default: usage(); return opt == 'h' ? 0 : 2;
		}
	}
	if (!eal || !ipspec) {
		usage();
		return 2;
	}
	if (parse_ip(ipspec, &cfg.ip_addr, &prefix) < 0 || prefix < 1 || prefix > 32) {
		fprintf(stderr, "ftcp-echo: --ip: expected A.B.C.D/LEN, got \"%s\"\n", ipspec);
		return 2;
	}
	cfg.prefix_len = (uint8_t)prefix;
	if (gwspec && parse_ip(gwspec, &cfg.gateway, NULL) < 0) {
		fprintf(stderr, "ftcp-echo: --gw: expected A.B.C.D, got \"%s\"\n", gwspec);
		return 2;
	}
	if (connect_to && parse_ip(connect_to, &server_ip, NULL) < 0) {
		fprintf(stderr, "ftcp-echo: --connect: expected A.B.C.D, got \"%s\"\n", connect_to);
		return 2;
	}
	if (faults && parse_faults(faults, &fc) < 0) {
		fprintf(stderr, "ftcp-echo: --faults: cannot parse \"%s\"\n", faults);
		return 2;
	}
	if (nconns < 1 || nconns > MAX_CONNS) {
		fprintf(stderr, "ftcp-echo: --conns: must be 1..%d\n", MAX_CONNS);
		return 2;
	}
	cfg.mtu = dc.mtu;
	cfg.max_sockets = 2 * (uint32_t)nconns + 16;
	cfg.rx_buffers = cfg.tx_buffers = (uint32_t)nconns;
	cfg.rx_buffer_size = cfg.tx_buffer_size = 1u << 18;
	cfg.demux_buckets = 4096;
	{
		FILE *r = fopen("/dev/urandom", "rb");
		if (!r || fread(&cfg.secret, sizeof(cfg.secret), 1, r) != 1) {
			fprintf(stderr, "ftcp-echo: cannot read /dev/urandom for the stack secret\n");
			return 1;
		}
		fclose(r);
	}

	if (ftcp_dpdk_eal_init(eal, err, sizeof(err)) < 0) {
		fprintf(stderr, "ftcp-echo: %s\n", err);
		return 1;
	}
	if (ftcp_dpdk_port_start(&port, &dc, err, sizeof(err)) < 0) {
		fprintf(stderr, "ftcp-echo: %s\n", err);
		ftcp_dpdk_eal_cleanup();
		return 1;
	}
	dev = ftcp_dpdk_device(port);
	if (faults) {
		size_t fneed = ftcp_faultdev_memory_size(&fc);
		void *fmem = ftcp_dpdk_alloc(fneed);
		if (!fmem || ftcp_faultdev_init(&fd, dev, &fc, fmem, fneed) < 0) {
			fprintf(stderr, "ftcp-echo: --faults: cannot set up the fault injector\n");
			return 1;
		}
		dev = &fd.dev;
	}
	need = ftcp_stack_memory_size(&cfg);
	mem = ftcp_dpdk_alloc(need);
	if (!mem) {
		fprintf(stderr, "ftcp-echo: memory: %zu bytes of DPDK memory for the stack (raise -m)\n", need);
		return 1;
	}
	rc = ftcp_stack_init(&stack, &cfg, dev, mem, need, ftcp_dpdk_now_us(), &why);
	if (rc < 0) {
		fprintf(stderr, "ftcp-echo: %s: %s\n", ftcp_strerror(rc), why ? why : "");
		return 1;
	}
	if (connect_to) {
		uint64_t deadline = ftcp_dpdk_now_us() + (uint64_t)((seconds > 0 ? seconds : 60) * 1e6);
		int ok;
		if (client_start(&cl_send, server_ip, DISCARD_PORT, true, client_bytes) < 0 ||
		    client_start(&cl_recv, server_ip, CHARGEN_PORT, false, client_bytes) < 0) {
			fprintf(stderr, "ftcp-echo: client: cannot connect\n");
			return 1;
		}
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if (start_driver(&drc) < 0)
			return 1;
		run_until(clients_done, deadline);
		ftcp_driver_lock(drv);
		client_report("sent to discard", &cl_send);
		client_report("received from chargen", &cl_recv);
		ok = cl_send.done && cl_recv.done && !cl_send.failed && !cl_recv.failed;
		ftcp_close(stack, cl_send.sock);
		ftcp_close(stack, cl_recv.sock);
		ftcp_driver_unlock(drv);
		stop = 0;
		run_until(NULL, ftcp_dpdk_now_us() + 200000);
		print_driver();
		ftcp_driver_stop(drv);
		print_counters();
		ftcp_dpdk_port_stop(port);
		ftcp_dpdk_eal_cleanup();
		return ok ? 0 : 1;
	}
	if (listen_on(ECHO_PORT, ECHO) < 0 || listen_on(DISCARD_PORT, DISCARD) < 0 ||
	    listen_on(CHARGEN_PORT, CHARGEN) < 0) {
		fprintf(stderr, "ftcp-echo: cannot listen\n");
		return 1;
	}
	u = ftcp_udp_open(stack, udp_cb, NULL);
	if (u < 0 || ftcp_bind(stack, u, &any7) < 0) {
		fprintf(stderr, "ftcp-echo: cannot bind UDP port 7\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (start_driver(&drc) < 0)
		return 1;
	printf("ftcp-echo: %s on %s (driver %s, %s TX%s), polled %s, echo 7, discard 9, chargen 19, "
	       "udp echo 7\n",
	       ipspec, dc.port ? dc.port : "port 0", ftcp_dpdk_driver(port),
	       ftcp_dpdk_zero_copy(port) ? "zero-copy" : "copying", faults ? ", faults on" : "",
	       poll_mode);
	printf("ftcp-echo: offloads: %s\n", ftcp_dpdk_offloads(port));
	fflush(stdout);

	if (seconds > 0)
		end = ftcp_dpdk_now_us() + (uint64_t)(seconds * 1e6);
	run_until(NULL, end);

	/* Orderly end: close everything, let FINs and RSTs go out. */
	ftcp_driver_lock(drv);
	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i].used)
			conn_end(&conns[i]);
	for (i = 0; i < 3; i++)
		ftcp_close(stack, listeners[i]);
	ftcp_close(stack, u);
	ftcp_driver_unlock(drv);
	stop = 0;
	run_until(NULL, ftcp_dpdk_now_us() + 200000);
	print_driver();
	ftcp_driver_stop(drv);
	printf("ftcp-echo: stack counters\n");
	print_counters();
	ftcp_dpdk_stats(port, &ps);
	printf("ftcp-echo: port rx %llu pkts %llu bytes, tx %llu pkts %llu bytes, rx_missed %llu, "
	       "rx_nombuf %llu, tx_refused %llu, tx_nombuf %llu\n",
	       (unsigned long long)ps.rx_packets, (unsigned long long)ps.rx_bytes,
	       (unsigned long long)ps.tx_packets, (unsigned long long)ps.tx_bytes,
	       (unsigned long long)ps.rx_missed, (unsigned long long)ps.rx_nombuf,
	       (unsigned long long)ps.tx_refused, (unsigned long long)ps.tx_nombuf);
	ftcp_dpdk_port_stop(port);
	ftcp_dpdk_eal_cleanup();
	return 0;
}
