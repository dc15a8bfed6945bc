/*
 * ftcp-linkdemo — the best demonstration the tree allows until the DPDK port
 * and the preload shim exist: independent libftcp stacks in one process on
 * an in-memory Ethernet link, resolving each other with ARP, pinging, and
 * exchanging verified UDP traffic, first on a clean link and then through
 * the fault injector. Prints what happened and the drop counters that
 * explain it. Exit status 0 only if every check held.
 *
 * usage: ftcp-linkdemo [-n datagrams] [-s seed]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/ftcp_faultdev.h"
#include "dev/ftcp_memlink.h"
#include "ftcp/ftcp.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define ECHO_PORT 7
#define RX_FIFO (1u << 20)

struct node {
	const char *name;
	struct ftcp_memlink_port port;
	struct ftcp_faultdev fault;
	struct ftcp_stack *stack;
	void *mem[3];
};

struct echo_srv {
	uint64_t echoed;
};

struct client {
	uint64_t received, bad, dups;
	uint8_t *seen;
	uint32_t n;
};

static uint64_t now_us = 1000000;

static void *xalloc(size_t n)
{
	size_t len = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, len);
	if (!p) {
		fprintf(stderr, "ftcp-linkdemo: out of memory\n");
		exit(2);
	}
	memset(p, 0, len);
	return p;
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void node_start(struct node *nd, struct ftcp_memlink *link, uint8_t id, uint32_t ip,
                       const struct ftcp_fault_config *faults)
{
	struct ftcp_config c;
	struct ftcp_mac mac = {{0x02, 0, 0, 0, 0, id}};
	struct ftcp_device *dev = &nd->port.dev;
	const char *why = NULL;
	size_t need;
	int rc;

	nd->mem[0] = xalloc(RX_FIFO);
	if (ftcp_memlink_attach(link, &nd->port, &mac, 1500, 0, nd->mem[0], RX_FIFO) < 0) {
		fprintf(stderr, "ftcp-linkdemo: cannot attach %s\n", nd->name);
		exit(2);
	}
	if (faults) {
		need = ftcp_faultdev_memory_size(faults);
		nd->mem[1] = xalloc(need);
		ftcp_faultdev_init(&nd->fault, dev, faults, nd->mem[1], need);
		dev = &nd->fault.dev;
	}
	ftcp_config_defaults(&c);
	c.ip_addr = ip;
	c.prefix_len = 24;
	c.secret = 0x1234567890abcdefull ^ ip;
	need = ftcp_stack_memory_size(&c);
	nd->mem[2] = xalloc(need);
	rc = ftcp_stack_init(&nd->stack, &c, dev, nd->mem[2], need, now_us, &why);
	if (rc < 0) {
		fprintf(stderr, "ftcp-linkdemo: %s: %s (%s)\n", nd->name, ftcp_strerror(rc), why);
		exit(2);
	}
	printf("  %s  %u.%u.%u.%u/24  mac 02:00:00:00:00:%02x  stack memory %zu KiB%s\n", nd->name,
	       ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, id, need / 1024,
	       faults ? "  (behind the fault injector)" : "");
}

static void node_stop(struct node *nd)
{
	free(nd->mem[0]);
	free(nd->mem[1]);
	free(nd->mem[2]);
}

static void poll_all(struct node *nodes, int n, uint64_t step)
{
	int i;
	now_us += step;
	for (i = 0; i < n; i++)
		ftcp_stack_poll(nodes[i].stack, now_us);
}

static void echo_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct echo_srv *e = user;
	uint8_t buf[2048];
	struct ftcp_sockaddr from;
	int n;

	if (!(ev & FTCP_EV_READABLE))
		return;
	while ((n = ftcp_recvfrom(s, sock, buf, sizeof(buf), 0, &from, NULL, NULL)) >= 0)
		if (ftcp_sendto(s, sock, buf, (uint32_t)n, &from) == n)
			e->echoed++;
}

static void client_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct client *c = user;
	uint8_t buf[2048];
	uint32_t seq, sum;
	int n;

	if (!(ev & FTCP_EV_READABLE))
		return;
	while ((n = ftcp_recvfrom(s, sock, buf, sizeof(buf), 0, NULL, NULL, NULL)) >= 0) {
		if (n < 8) {
			c->bad++;
			continue;
		}
		memcpy(&seq, buf, 4);
		memcpy(&sum, buf + 4, 4);
		if (seq >= c->n || sum != fnv1a(buf + 8, (size_t)n - 8)) {
			c->bad++;
			continue;
		}
		c->dups += c->seen[seq];
		c->seen[seq] = 1;
		c->received++;
	}
}

struct ping_stats {
	uint32_t replies;
	uint64_t sent_at, rtt_sum;
};

static void on_echo(struct ftcp_stack *s, uint32_t from, uint16_t ident, uint16_t seq,
                    const uint8_t *data, uint32_t len, void *user)
{
	struct ping_stats *p = user;
	(void)s, (void)from, (void)ident, (void)seq, (void)data, (void)len;
	p->replies++;
	p->rtt_sum += now_us - p->sent_at;
}

static double wall_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_drops(const char *who, const struct ftcp_stack *s)
{
	struct ftcp_counters c;
	unsigned i;
	int any = 0;

	ftcp_stack_counters(s, &c);
	for (i = 0; i < ftcp_counter_count(); i++) {
		const char *name = ftcp_counter_name(i);
		uint64_t v = ftcp_counter_value(&c, i);
		if (v && !strncmp(name, "drop_", 5)) {
			printf("    %s %-22s %8llu  %s\n", who, name, (unsigned long long)v,
			       ftcp_counter_doc(i));
			any = 1;
		}
	}
	if (!any)
		printf("    %s no drops\n", who);
}

/* One scenario: A pings B, then sends n datagrams to B's echo port. */
static int scenario(const char *title, uint32_t n, const struct ftcp_fault_config *fa)
{
	struct ftcp_memlink link;
	struct node nodes[3] = {{.name = "A"}, {.name = "B"}, {.name = "C"}};
	struct echo_srv srv = {0};
	struct client cli = {0};
	struct ping_stats ping = {0};
	struct ftcp_sockaddr any = {0, ECHO_PORT}, to = {IP4(10, 0, 0, 2), ECHO_PORT};
	uint8_t buf[1472];
	ftcp_sock_t ssock, csock;
	uint32_t i, j, sent = 0;
	uint64_t bytes = 0, t0;
	double w0, wall;
	int ok;

	printf("\n== %s ==\n", title);
	ftcp_memlink_init(&link);
	node_start(&nodes[0], &link, 1, IP4(10, 0, 0, 1), fa);
	node_start(&nodes[1], &link, 2, IP4(10, 0, 0, 2), NULL);
	node_start(&nodes[2], &link, 3, IP4(10, 0, 0, 3), NULL);

	ssock = ftcp_udp_open(nodes[1].stack, echo_cb, &srv);
	ftcp_bind(nodes[1].stack, ssock, &any);
	cli.n = n;
	cli.seen = xalloc(n);
	csock = ftcp_udp_open(nodes[0].stack, client_cb, &cli);

	ftcp_set_echo_reply_cb(nodes[0].stack, on_echo, &ping);
	for (i = 0; i < 10; i++) {
		ping.sent_at = now_us;
		ftcp_ping(nodes[0].stack, to.addr, 1, (uint16_t)i, "libftcp", 7);
		for (j = 0; j < 2000; j++)
			poll_all(nodes, 3, 10);
	}
	printf("  ping A -> B: %u/10 replies, mean RTT %.0f us of virtual time (first pays for ARP)\n",
	       ping.replies, ping.replies ? (double)ping.rtt_sum / ping.replies : 0.0);

	t0 = now_us;
	w0 = wall_seconds();
	for (i = 0; i < n; i++) {
		uint32_t len = 8 + (i * 131) % (sizeof(buf) - 8), sum, x = i * 2654435761u;
		for (j = 8; j < len; j++) {
			x = x * 1103515245u + 12345u;
			buf[j] = (uint8_t)(x >> 16);
		}
		sum = fnv1a(buf + 8, len - 8);
		memcpy(buf, &i, 4);
		memcpy(buf + 4, &sum, 4);
		if (ftcp_sendto(nodes[0].stack, csock, buf, len, &to) == (int)len) {
			sent++;
			bytes += len;
		}
		poll_all(nodes, 3, 20);
	}
	for (j = 0; j < 50000 && cli.received + cli.bad < sent; j++)
		poll_all(nodes, 3, 20);
	wall = wall_seconds() - w0;

	printf("  UDP echo A -> B -> A: %u datagrams sent (%llu bytes), %llu echoed by B, "
	       "%llu verified back at A, %llu duplicates, %llu damaged\n",
	       sent, (unsigned long long)bytes, (unsigned long long)srv.echoed,
	       (unsigned long long)cli.received, (unsigned long long)cli.dups,
	       (unsigned long long)cli.bad);
	printf("  virtual time %.1f ms; wall time %.1f ms (%.0f datagrams/s through three stacks)\n",
	       (now_us - t0) / 1000.0, wall * 1000, wall > 0 ? 2.0 * sent / wall : 0.0);
	if (fa)
		printf("  injected on A: %llu dropped, %llu duplicated, %llu reordered, %llu corrupted, "
		       "%llu delayed (tx+rx)\n",
		       (unsigned long long)(nodes[0].fault.tx_stats.dropped + nodes[0].fault.rx_stats.dropped),
		       (unsigned long long)(nodes[0].fault.tx_stats.duplicated + nodes[0].fault.rx_stats.duplicated),
		       (unsigned long long)(nodes[0].fault.tx_stats.reordered + nodes[0].fault.rx_stats.reordered),
		       (unsigned long long)(nodes[0].fault.tx_stats.corrupted + nodes[0].fault.rx_stats.corrupted),
		       (unsigned long long)(nodes[0].fault.tx_stats.delayed + nodes[0].fault.rx_stats.delayed));
	printf("  drops by reason:\n");
	print_drops("A", nodes[0].stack);
	print_drops("B", nodes[1].stack);

	ok = cli.bad == 0 && ping.replies >= (fa ? 5u : 10u);
	ok = ok && (fa ? cli.received > sent / 2 : (cli.received == sent && cli.dups == 0));
	printf("  result: %s\n", ok ? "OK" : "FAILED");
	for (i = 0; i < 3; i++)
		node_stop(&nodes[i]);
	free(cli.seen);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint32_t n = 20000;
	uint64_t seed = 1;
	struct ftcp_fault_config f;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "n:s:h")) != -1) {
		switch (opt) {
		case 'n': n = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-n datagrams] [-s seed]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (n == 0 || n > 10000000) {
		fprintf(stderr, "ftcp-linkdemo: -n must be 1..10000000\n");
		return 2;
	}
	printf("libftcp link demo: three stacks (A, B, C) on an in-memory Ethernet link, one process,\n"
	       "virtual clock; B runs a UDP echo server on port %d.\n", ECHO_PORT);
	rc |= scenario("clean link", n, NULL);

	memset(&f, 0, sizeof(f));
	f.seed = seed;
	f.slots = 4096;
	f.max_frame = 1514;
	f.tx.drop_ppm = f.rx.drop_ppm = 50000;
	f.tx.dup_ppm = 20000;
	f.tx.reorder_ppm = 20000;
	f.tx.reorder_delay_us = 500;
	f.rx.corrupt_ppm = 10000;
	f.tx.delay_us = f.rx.delay_us = 100;
	f.tx.jitter_us = 50;
	rc |= scenario("faults on A: 5% drop each way, 2% duplicate, 2% reorder, 1% corrupt, 100 us delay",
	               n, &f);
	printf("\n%s\n", rc ? "ftcp-linkdemo: FAILED" : "ftcp-linkdemo: all checks passed");
	return rc;
}
