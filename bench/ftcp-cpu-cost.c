/*
 * ftcp-cpu-cost — the CPU-cost benchmark: a fixed amount of data sent from
 * stack A to stack B over the in-memory link, to be run under
 * `valgrind --tool=callgrind` (bench/cpu_cost.sh does, and splits the
 * instructions by path).
 *
 * Deterministic by construction: fixed secrets, a virtual clock advanced
 * by 1 us per loop turn, a fixed data pattern, no wall clock, one thread.
 * Two runs with the same options execute the same instructions, so the
 * counts are repeatable on a noisy machine.
 *
 * The connection is set up and warmed up (slow start over) before the
 * measured window; the window ends when B has received the fixed amount;
 * the close comes after. Callgrind collects only inside the window, and
 * only inside calls on the stack chosen with --collect:
 *   tx   calls on A, the sender: ftcp_send, ftcp_stack_poll(A) (ACK input,
 *        timers, segment output, the device's transmit, event callbacks);
 *   rx   calls on B, the receiver: ftcp_stack_poll(B) (device receive,
 *        input, event callbacks with ftcp_recv, ACK output);
 *   all  both; none: nothing (a plain run).
 * The application's own work inside callbacks (the stream checksum) is
 * left out, so what is collected is the stacks', the device's and libc's
 * memcpy on the stacks' behalf.
 *
 * Both ports emulate NIC checksum offload by default, as the DPDK port
 * uses it; --sw-cksum makes the stacks compute every checksum themselves.
 *
 * The bytes are verified: A and B each fold the stream they sent/received
 * into a 64-bit checksum; the run fails if they differ or a byte is
 * missing.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/ftcp_memlink.h"
#include "ftcp/ftcp.h"

#ifdef FTCP_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#else
/* Built without valgrind's headers: the run works, nothing is toggled. */
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_ZERO_STATS
#define RUNNING_ON_VALGRIND 0
#endif

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define A_IP IP4(10, 0, 0, 1)
#define B_IP IP4(10, 0, 0, 2)
#define PORT 5001
#define MTU 1500
#define RX_FIFO (1u << 22)
#define PATTERN_SIZE (1u << 20) /* the stream repeats this buffer */
#define MAX_TURNS 100000000ull  /* a stalled transfer ends the run */

enum collect { COLLECT_NONE, COLLECT_TX, COLLECT_RX, COLLECT_ALL };

struct node {
	struct ftcp_memlink_port port;
	struct ftcp_stack *stack;
	void *rx_mem, *stack_mem;
};

/* Streaming checksum over 64-bit words, the same at both ends however
 * the stream is cut into reads and writes. */
struct stream_sum {
	uint64_t h, word, bytes;
	unsigned have; /* bytes in word */
};

struct bench {
	struct ftcp_memlink link;
	struct node a, b;
	uint64_t now;
	enum collect collect;
	bool collecting;  /* callgrind collection is on right now */
	bool window;      /* inside the measured window */
	ftcp_sock_t cli, lsn, srv;
	const uint8_t *pattern;
	uint32_t write_size;
	uint64_t total, sent, received;
	bool shut, eof, failed;
	struct stream_sum sum_tx, sum_rx;
	uint8_t *rbuf;
	uint32_t read_size;
};

static void *xalloc(size_t n)
{
	size_t len = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, len);
	if (!p) {
		fprintf(stderr, "ftcp-cpu-cost: out of memory\n");
		exit(2);
	}
	memset(p, 0, len);
	return p;
}

static void sum_word(struct stream_sum *s, uint64_t w)
{
	s->h = (s->h ^ w) * 0x100000001b3ull;
	s->h ^= s->h >> 29;
}

static void sum_add(struct stream_sum *s, const uint8_t *p, size_t n)
{
	s->bytes += n;
	while (n && s->have) {
		s->word |= (uint64_t)*p++ << (8 * s->have);
		n--;
		if (++s->have == 8) {
			sum_word(s, s->word);
			s->have = 0;
			s->word = 0;
		}
	}
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		sum_word(s, w);
	}
	while (n--)
		s->word |= (uint64_t)*p++ << (8 * s->have++);
}

static uint64_t sum_final(struct stream_sum *s)
{
	if (s->have)
		sum_word(s, s->word ^ ((uint64_t)s->have << 56));
	return s->h ^ s->bytes;
}

/* Callgrind's collection is one switch: flip it only when it must
 * change. */
static void collect_set(struct bench *b, bool on)
{
	if (b->collecting != on) {
		CALLGRIND_TOGGLE_COLLECT;
		b->collecting = on;
	}
}

static bool collects(const struct bench *b, const struct node *n)
{
	if (!b->window)
		return false;
	switch (b->collect) {
	case COLLECT_ALL: return true;
	case COLLECT_TX: return n == &b->a;
	case COLLECT_RX: return n == &b->b;
	default: return false;
	}
}

/* The application's own work is never counted: collection off around it,
 * back to what it was after. */
#define APP_WORK(b, stmt)                 \
	do {                              \
		bool was_ = (b)->collecting; \
		collect_set((b), false);  \
		stmt;                     \
		collect_set((b), was_);   \
	} while (0)

/* A's writer: queue as much of the stream as the send buffer takes. */
static void pump_send(struct bench *b)
{
	while (b->sent < b->total) {
		uint32_t off = (uint32_t)(b->sent % PATTERN_SIZE);
		uint64_t left = b->total - b->sent;
		uint32_t n = b->write_size;
		int rc;

		if (n > PATTERN_SIZE - off)
			n = PATTERN_SIZE - off;
		if (n > left)
			n = (uint32_t)left;
		rc = ftcp_send(b->a.stack, b->cli, b->pattern + off, n);
		if (rc <= 0)
			break;
		APP_WORK(b, sum_add(&b->sum_tx, b->pattern + off, (size_t)rc));
		b->sent += (uint64_t)rc;
	}
	if (b->sent == b->total && !b->shut && !b->window)
		b->shut = ftcp_shutdown(b->a.stack, b->cli, FTCP_SHUT_WR) == 0;
}

/* B's reader: take everything there is. */
static void pump_recv(struct bench *b)
{
	for (;;) {
		int rc = ftcp_recv(b->b.stack, b->srv, b->rbuf, b->read_size, 0);
		if (rc == 0) {
			b->eof = true;
			break;
		}
		if (rc < 0) {
			if (rc != -FTCP_EAGAIN) {
				fprintf(stderr, "ftcp-cpu-cost: recv: %s\n", ftcp_strerror(rc));
				b->failed = true;
			}
			break;
		}
		APP_WORK(b, sum_add(&b->sum_rx, b->rbuf, (size_t)rc));
		b->received += (uint64_t)rc;
	}
}

static void on_client(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct bench *b = user;

	(void)s, (void)sock;
	if (ev & FTCP_EV_ERROR) {
		fprintf(stderr, "ftcp-cpu-cost: sender: %s\n", ftcp_strerror(ftcp_sock_error(s, sock)));
		b->failed = true;
	}
	if (ev & FTCP_EV_WRITABLE)
		pump_send(b);
}

static void on_server(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct bench *b = user;

	(void)s, (void)sock;
	if (ev & FTCP_EV_ERROR) {
		fprintf(stderr, "ftcp-cpu-cost: receiver: %s\n", ftcp_strerror(ftcp_sock_error(s, sock)));
		b->failed = true;
	}
	if (ev & (FTCP_EV_READABLE | FTCP_EV_RDHUP))
		pump_recv(b);
}

static void on_listener(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct bench *b = user;

	if ((ev & FTCP_EV_READABLE) && b->srv < 0) {
		b->srv = ftcp_accept(s, sock, on_server, b, NULL);
		if (b->srv >= 0)
			pump_recv(b); /* whatever arrived before accept */
	}
}

static void node_start(struct bench *b, struct node *n, uint8_t id, uint32_t ip, bool sw_cksum)
{
	struct ftcp_config c;
	struct ftcp_mac mac = {{0x02, 0, 0, 0, 0, id}};
	uint32_t caps = sw_cksum ? 0
	                         : FTCP_DEV_TX_IPV4_CKSUM | FTCP_DEV_TX_TCP_CKSUM |
	                               FTCP_DEV_TX_UDP_CKSUM | FTCP_DEV_RX_CKSUM;
	const char *why = NULL;
	size_t need;
	int rc;

	n->rx_mem = xalloc(RX_FIFO);
	if (ftcp_memlink_attach(&b->link, &n->port, &mac, MTU, caps, n->rx_mem, RX_FIFO) < 0) {
		fprintf(stderr, "ftcp-cpu-cost: cannot attach a port\n");
		exit(2);
	}
	ftcp_config_defaults(&c);
	c.ip_addr = ip;
	c.prefix_len = 24;
	c.mtu = MTU;
	c.secret = 0x6370752d636f7374ull ^ ip; /* fixed: the run is reproducible */
	c.max_sockets = 8;
	c.rx_buffers = c.tx_buffers = 4;
	need = ftcp_stack_memory_size(&c);
	n->stack_mem = xalloc(need);
	rc = ftcp_stack_init(&n->stack, &c, &n->port.dev, n->stack_mem, need, b->now, &why);
	if (rc < 0) {
		fprintf(stderr, "ftcp-cpu-cost: ftcp_stack_init: %s (%s)\n", ftcp_strerror(rc),
		        why ? why : "");
		exit(2);
	}
}

static void poll_node(struct bench *b, struct node *n)
{
	collect_set(b, collects(b, n));
	ftcp_stack_poll(n->stack, b->now);
	collect_set(b, false);
}

static void turn(struct bench *b)
{
	b->now++;
	poll_node(b, &b->a);
	poll_node(b, &b->b);
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "usage: %s [-s MiB] [-w MiB] [-W bytes] [-R bytes] [-c tx|rx|all|none] [--sw-cksum]\n"
	        "  -s, --size MiB        bytes measured, A -> B (default 64)\n"
	        "  -w, --warmup MiB      bytes sent before the measured window (default 2)\n"
	        "  -W, --write bytes     size of each ftcp_send (default 65536)\n"
	        "  -R, --read bytes      size of each ftcp_recv (default 65536)\n"
	        "  -c, --collect which   calls callgrind collects in the window (default all)\n"
	        "      --sw-cksum        no checksum offload: the stacks sum every packet\n",
	        prog);
}

static uint64_t parse_mib(const char *s, const char *prog)
{
	char *end;
	double v = strtod(s, &end);
	if (*end || v <= 0 || v > 1024 * 1024) {
		usage(stderr, prog);
		exit(2);
	}
	return (uint64_t)(v * 1048576.0);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"size", required_argument, NULL, 's'},   {"warmup", required_argument, NULL, 'w'},
		{"write", required_argument, NULL, 'W'},  {"read", required_argument, NULL, 'R'},
		{"collect", required_argument, NULL, 'c'}, {"sw-cksum", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	struct bench *b = xalloc(sizeof(*b));
	uint64_t size = 64ull << 20, warmup = 2ull << 20, turns = 0, t_start = 0;
	uint64_t h_tx, h_rx;
	struct ftcp_counters ca0, cb0, ca1, cb1;
	struct ftcp_sockaddr any = {0, PORT}, to = {B_IP, PORT};
	struct ftcp_tcp_info info;
	bool sw_cksum = false;
	uint8_t *pat;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t i;
	int opt;

	b->collect = COLLECT_ALL;
	b->write_size = b->read_size = 65536;
	while ((opt = getopt_long(argc, argv, "s:w:W:R:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': size = parse_mib(optarg, argv[0]); break;
		case 'w': warmup = parse_mib(optarg, argv[0]); break;
		case 'W': b->write_size = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'R': b->read_size = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'c':
			if (!strcmp(optarg, "tx"))
				b->collect = COLLECT_TX;
			else if (!strcmp(optarg, "rx"))
				b->collect = COLLECT_RX;
			else if (!strcmp(optarg, "all"))
				b->collect = COLLECT_ALL;
			else if (!strcmp(optarg, "none"))
				b->collect = COLLECT_NONE;
			else {
				usage(stderr, argv[0]);
				return 2;
			}
			break;
		case 'S': sw_cksum = true; break;
		case 'h': usage(stdout, argv[0]); return 0;
		default: usage(stderr, argv[0]); return 2;
		}
	}
	if (!b->write_size || b->write_size > PATTERN_SIZE || !b->read_size ||
	    b->read_size > (1u << 24)) {
		usage(stderr, argv[0]);
		return 2;
	}
	/* Collection may only be on inside the window; valgrind is told to
	 * start with it off (--collect-atstart=no). */
	if (RUNNING_ON_VALGRIND)
		CALLGRIND_ZERO_STATS;

	pat = xalloc(PATTERN_SIZE);
	for (i = 0; i < PATTERN_SIZE; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		pat[i] = (uint8_t)(x >> 24);
	}
	b->pattern = pat;
	b->rbuf = xalloc(b->read_size);
	b->total = warmup + size;
	b->now = 1000000;
	b->srv = -1;
	ftcp_memlink_init(&b->link);
	node_start(b, &b->a, 1, A_IP, sw_cksum);
	node_start(b, &b->b, 2, B_IP, sw_cksum);

	b->lsn = ftcp_tcp_open(b->b.stack, on_listener, b);
	if (b->lsn < 0 || ftcp_bind(b->b.stack, b->lsn, &any) < 0 ||
	    ftcp_listen(b->b.stack, b->lsn, 1) < 0) {
		fprintf(stderr, "ftcp-cpu-cost: cannot listen\n");
		return 2;
	}
	b->cli = ftcp_tcp_open(b->a.stack, on_client, b);
	if (b->cli < 0 || ftcp_connect(b->a.stack, b->cli, &to) != -FTCP_EINPROGRESS) {
		fprintf(stderr, "ftcp-cpu-cost: cannot connect\n");
		return 2;
	}

	/* Handshake and warm-up: not measured. */
	while (b->received < warmup && !b->failed && turns < MAX_TURNS) {
		turn(b);
		turns++;
	}
	/* The measured window: B receives the next `size` bytes. */
	ftcp_stack_counters(b->a.stack, &ca0);
	ftcp_stack_counters(b->b.stack, &cb0);
	t_start = b->now;
	b->window = true;
	while (b->received < warmup + size && !b->failed && turns < MAX_TURNS) {
		turn(b);
		turns++;
	}
	b->window = false;
	collect_set(b, false);
	ftcp_stack_counters(b->a.stack, &ca1);
	ftcp_stack_counters(b->b.stack, &cb1);
	ftcp_tcp_info(b->a.stack, b->cli, &info);

	/* The close, not measured: A's FIN reaches B as end of stream. */
	pump_send(b);
	while (!b->eof && !b->failed && turns < MAX_TURNS) {
		turn(b);
		turns++;
	}
	h_tx = sum_final(&b->sum_tx);
	h_rx = sum_final(&b->sum_rx);

	printf("ftcp-cpu-cost: A -> B over the in-memory link, MTU %u, MSS %u, checksums %s\n",
	       MTU, info.snd_mss, sw_cksum ? "in software" : "offloaded to the (emulated) NIC");
	printf("window_bytes %llu\n", (unsigned long long)size);
	printf("window_data_segments %llu\n",
	       (unsigned long long)(ca1.tcp_tx_segs - ca0.tcp_tx_segs));
	printf("window_ack_segments %llu\n",
	       (unsigned long long)(cb1.tcp_tx_segs - cb0.tcp_tx_segs));
	printf("window_rx_segments_b %llu\n",
	       (unsigned long long)(cb1.tcp_rx_segs - cb0.tcp_rx_segs));
	printf("window_retransmits %llu\n",
	       (unsigned long long)(ca1.tcp_retrans_segs - ca0.tcp_retrans_segs));
	printf("window_virtual_us %llu\n", (unsigned long long)(b->now - t_start));
	printf("mss %u\n", info.snd_mss);
	printf("total_bytes %llu\n", (unsigned long long)b->received);
	printf("stream_checksum_tx %016llx\n", (unsigned long long)h_tx);
	printf("stream_checksum_rx %016llx\n", (unsigned long long)h_rx);
	printf("turns %llu\n", (unsigned long long)turns);
	if (b->failed || !b->eof || b->received != b->total || h_tx != h_rx) {
		fprintf(stderr, "ftcp-cpu-cost: FAILED: %llu of %llu bytes arrived, checksums %s\n",
		        (unsigned long long)b->received, (unsigned long long)b->total,
		        h_tx == h_rx ? "match" : "differ");
		return 1;
	}
	printf("result OK: every byte arrived, checksums match\n");
	free(pat);
	free(b->rbuf);
	free(b->a.rx_mem);
	free(b->a.stack_mem);
	free(b->b.rx_mem);
	free(b->b.stack_mem);
	free(b);
	return 0;
}
