/* ftcp_harness.c — see ftcp_harness.h. */
#include "ftcp_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftcp_test.h"
#include "wire/ftcp_wire.h"
#include "wire/ftcp_wire_tcp.h"

static void trace_frame(const struct harness_tracer *t, const struct ftcp_tx_frame *f)
{
	uint8_t buf[9216 + 64];
	uint32_t len = ftcp_tx_frame_len(f), i;
	struct ftcp_ipv4_repr ip;
	struct ftcp_tcp_repr tcp;
	int hl;

	if (len > sizeof(buf))
		return;
	ftcp_tx_frame_copy(f, buf);
	if (ftcp_get_be16(buf + 12) != FTCP_ETHERTYPE_IPV4 ||
	    (hl = ftcp_ipv4_parse(buf + 14, len - 14, false, &ip)) < 0 || ip.proto != FTCP_IP_PROTO_TCP ||
	    ftcp_tcp_parse(buf + 14 + hl, ip.total_len - (uint32_t)hl, ip.src, ip.dst, false, &tcp) < 0) {
		fprintf(stderr, "%10.6f %c frame len %u\n", t->h->now / 1e6, t->name, len);
		return;
	}
	fprintf(stderr, "%10.6f %c %5u>%-5u %c%c%c%c%c seq %10u ack %10u len %4u win %5u", t->h->now / 1e6,
	        t->name, tcp.src_port, tcp.dst_port, tcp.flags & FTCP_TCP_SYN ? 'S' : '.',
	        tcp.flags & FTCP_TCP_FIN ? 'F' : '.', tcp.flags & FTCP_TCP_RST ? 'R' : '.',
	        tcp.flags & FTCP_TCP_PSH ? 'P' : '.', tcp.flags & FTCP_TCP_ACK ? 'A' : '.', tcp.seq,
	        tcp.ack, tcp.payload_len, tcp.window);
	for (i = 0; i < tcp.opt.n_sack; i++)
		fprintf(stderr, " sack %u-%u", tcp.opt.sack[i].start, tcp.opt.sack[i].end);
	fprintf(stderr, "\n");
}

static uint16_t tracer_tx(struct ftcp_device *dev, const struct ftcp_tx_frame *f, uint16_t n,
                          uint64_t now)
{
	struct harness_tracer *t = (struct harness_tracer *)dev;
	uint16_t i, sent = t->inner->ops->tx_burst(t->inner, f, n, now);
	for (i = 0; i < sent; i++)
		trace_frame(t, &f[i]);
	return sent;
}

static uint16_t tracer_rx(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n, uint64_t now)
{
	struct harness_tracer *t = (struct harness_tracer *)dev;
	return t->inner->ops->rx_burst(t->inner, f, n, now);
}

static void tracer_release(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n)
{
	struct harness_tracer *t = (struct harness_tracer *)dev;
	t->inner->ops->rx_release(t->inner, f, n);
}

static const struct ftcp_device_ops tracer_ops = {tracer_rx, tracer_release, tracer_tx};

struct ftcp_mac harness_mac(uint8_t id)
{
	struct ftcp_mac m = {{0x02, 0, 0, 0, 0, id}};
	return m;
}

void harness_init(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	ftcp_memlink_init(&h->link);
	h->now = 1000000; /* start away from 0 so "time 0" bugs show */
}

void harness_config(struct ftcp_config *c, uint32_t ip)
{
	ftcp_config_defaults(c);
	c->ip_addr = ip;
	c->prefix_len = 24;
	c->secret = 0x5eed5eed12345678ull ^ ip;
	c->max_sockets = 32;
	c->rx_buffers = 16;
	c->rx_buffer_size = 1u << 16;
}

static void *aligned_alloc8(size_t n)
{
	size_t len = (n + 63) & ~(size_t)63; /* C11: a multiple of the alignment */
	void *p = aligned_alloc(64, len ? len : 64);
	if (p)
		memset(p, 0, len);
	return p;
}

struct ftcp_stack *harness_add(struct harness *h, const struct ftcp_config *cfg, uint32_t caps,
                               const struct ftcp_fault_config *faults)
{
	struct harness_node *n;
	struct ftcp_mac mac;
	struct ftcp_device *dev;
	const char *why = NULL;
	size_t need;
	int rc;

	CU_ASSERT_FATAL(h->n_nodes < HARNESS_MAX_NODES);
	n = &h->nodes[h->n_nodes];
	memset(n, 0, sizeof(*n));
	mac = harness_mac((uint8_t)(h->n_nodes + 1));
	n->cfg = *cfg;
	n->rx_mem = aligned_alloc8(HARNESS_RX_FIFO);
	CU_ASSERT_FATAL(n->rx_mem != NULL);
	rc = ftcp_memlink_attach(&h->link, &n->port, &mac, cfg->mtu, caps, n->rx_mem,
	                         HARNESS_RX_FIFO);
	CU_ASSERT_FATAL(rc == 0);
	dev = &n->port.dev;
	if (faults) {
		need = ftcp_faultdev_memory_size(faults);
		n->fault_mem = aligned_alloc8(need);
		rc = ftcp_faultdev_init(&n->fault, dev, faults, n->fault_mem, need);
		CU_ASSERT_FATAL(rc == 0);
		n->faulty = true;
		dev = &n->fault.dev;
	}
	if (getenv("FTCP_TRACE")) {
		n->tracer.dev = *dev;
		n->tracer.dev.ops = &tracer_ops;
		n->tracer.inner = dev;
		n->tracer.h = h;
		n->tracer.name = (char)('A' + h->n_nodes);
		dev = &n->tracer.dev;
	}
	need = ftcp_stack_memory_size(cfg);
	CU_ASSERT_FATAL(need > 0);
	n->stack_mem = aligned_alloc8(need);
	rc = ftcp_stack_init(&n->stack, cfg, dev, n->stack_mem, need, h->now, &why);
	if (rc < 0)
		fprintf(stderr, "ftcp_stack_init: %s (%s)\n", ftcp_strerror(rc), why ? why : "");
	CU_ASSERT_FATAL(rc == 0);
	h->n_nodes++;
	return n->stack;
}

struct ftcp_stack *harness_add_simple(struct harness *h, uint32_t ip)
{
	struct ftcp_config c;
	harness_config(&c, ip);
	return harness_add(h, &c, 0, NULL);
}

struct ftcp_memlink_port *harness_add_peer(struct harness *h)
{
	struct ftcp_memlink_port *p;
	struct ftcp_mac mac;
	int rc;

	CU_ASSERT_FATAL(h->n_peers < HARNESS_MAX_PEERS);
	p = &h->peers[h->n_peers];
	mac = harness_mac((uint8_t)(0xf0 + h->n_peers));
	h->peer_mem[h->n_peers] = aligned_alloc8(HARNESS_RX_FIFO);
	rc = ftcp_memlink_attach(&h->link, p, &mac, 9216, 0, h->peer_mem[h->n_peers],
	                         HARNESS_RX_FIFO);
	CU_ASSERT_FATAL(rc == 0);
	h->n_peers++;
	return p;
}

struct harness_node *harness_node_of(struct harness *h, const struct ftcp_stack *s)
{
	unsigned i;
	for (i = 0; i < h->n_nodes; i++)
		if (h->nodes[i].stack == s)
			return &h->nodes[i];
	return NULL;
}

void harness_step(struct harness *h, uint64_t step_us)
{
	unsigned i;

	h->now += step_us;
	for (i = 0; i < h->n_nodes; i++)
		ftcp_stack_poll(h->nodes[i].stack, h->now);
}

void harness_run(struct harness *h, uint64_t duration_us, uint64_t step_us)
{
	uint64_t end = h->now + duration_us;
	while (h->now < end)
		harness_step(h, step_us);
}

bool harness_run_until(struct harness *h, bool (*pred)(void *), void *arg, uint64_t max_us,
                       uint64_t step_us)
{
	uint64_t end = h->now + max_us;

	while (!pred(arg)) {
		if (h->now >= end)
			return false;
		harness_step(h, step_us);
	}
	return true;
}

static uint64_t next_event(const struct harness *h)
{
	uint64_t next = UINT64_MAX, t;
	unsigned i;

	for (i = 0; i < h->n_nodes; i++) {
		/* Frames a fault injector released during another stack's poll
		 * wait in this port's fifo: that is work for now. */
		if (ftcp_memlink_pending(&h->nodes[i].port))
			return h->now;
		t = ftcp_stack_next_deadline(h->nodes[i].stack);
		if (t < next)
			next = t;
		if (h->nodes[i].faulty) {
			t = ftcp_faultdev_next_release(&h->nodes[i].fault);
			if (t < next)
				next = t;
		}
	}
	return next;
}

bool harness_run_fast(struct harness *h, bool (*pred)(void *), void *arg, uint64_t max_us)
{
	uint64_t end = h->now + max_us;
	int work = 1;
	unsigned i;

	for (;;) {
		if (pred(arg))
			return true;
		if (h->now >= end)
			return false;
		if (work) {
			h->now += 1;
		} else {
			uint64_t next = next_event(h);
			h->now = next > h->now ? (next < end ? next : end) : h->now + 1;
		}
		work = 0;
		for (i = 0; i < h->n_nodes; i++)
			work += ftcp_stack_poll(h->nodes[i].stack, h->now);
	}
}

void harness_free(struct harness *h)
{
	unsigned i;

	for (i = 0; i < h->n_nodes; i++) {
		free(h->nodes[i].stack_mem);
		free(h->nodes[i].rx_mem);
		free(h->nodes[i].fault_mem);
	}
	for (i = 0; i < h->n_peers; i++)
		free(h->peer_mem[i]);
	memset(h, 0, sizeof(*h));
}

uint32_t harness_peer_recv(struct ftcp_memlink_port *p, uint8_t *buf, uint32_t cap)
{
	struct ftcp_rx_frame f;
	uint32_t len;

	if (p->dev.ops->rx_burst(&p->dev, &f, 1, 0) != 1)
		return 0;
	len = f.len < cap ? f.len : cap;
	memcpy(buf, f.data, len);
	p->dev.ops->rx_release(&p->dev, &f, 1);
	return len;
}

uint32_t harness_peer_drain(struct ftcp_memlink_port *p)
{
	uint8_t buf[16];
	uint32_t n = 0;
	while (harness_peer_recv(p, buf, sizeof(buf)))
		n++;
	return n;
}

void harness_inject(struct harness *h, const uint8_t *frame, uint32_t len)
{
	CU_ASSERT(ftcp_memlink_inject(&h->link, frame, len) == 0);
}

uint32_t harness_build_arp(uint8_t *buf, uint16_t op, const struct ftcp_mac *eth_dst,
                           const struct ftcp_mac *sha, uint32_t spa, const struct ftcp_mac *tha,
                           uint32_t tpa)
{
	struct ftcp_eth_repr e = {*eth_dst, *sha, FTCP_ETHERTYPE_ARP};
	struct ftcp_arp_repr a = {op, *sha, *tha, spa, tpa};

	ftcp_eth_emit(&e, buf);
	ftcp_arp_emit(&a, buf + FTCP_ETH_HLEN);
	return FTCP_ETH_HLEN + FTCP_ARP_LEN;
}

uint32_t harness_build_ipv4(uint8_t *buf, const struct ftcp_mac *dst, const struct ftcp_mac *src,
                            uint32_t saddr, uint32_t daddr, uint8_t proto, uint32_t l4_len)
{
	struct ftcp_eth_repr e = {*dst, *src, FTCP_ETHERTYPE_IPV4};
	struct ftcp_ipv4_repr ip;

	memset(&ip, 0, sizeof(ip));
	ip.src = saddr;
	ip.dst = daddr;
	ip.proto = proto;
	ip.ttl = 64;
	ip.total_len = (uint16_t)(FTCP_IPV4_HLEN + l4_len);
	ip.id = 0x1234;
	ip.frag = FTCP_IPV4_DF;
	ftcp_eth_emit(&e, buf);
	ftcp_ipv4_emit(&ip, buf + FTCP_ETH_HLEN, true);
	return FTCP_ETH_HLEN + FTCP_IPV4_HLEN + l4_len;
}

uint32_t harness_build_udp(uint8_t *buf, const struct ftcp_mac *dst, const struct ftcp_mac *src,
                           uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport,
                           const void *payload, uint32_t len)
{
	uint8_t *l4 = buf + FTCP_ETH_HLEN + FTCP_IPV4_HLEN;
	struct ftcp_udp_repr u = {sport, dport, (uint16_t)(FTCP_UDP_HLEN + len), 0};

	if (len)
		memcpy(l4 + FTCP_UDP_HLEN, payload, len);
	ftcp_udp_emit(&u, l4, saddr, daddr, true);
	return harness_build_ipv4(buf, dst, src, saddr, daddr, FTCP_IP_PROTO_UDP,
	                          FTCP_UDP_HLEN + len);
}

uint32_t harness_build_icmp_echo(uint8_t *buf, const struct ftcp_mac *dst,
                                 const struct ftcp_mac *src, uint32_t saddr, uint32_t daddr,
                                 uint8_t type, uint16_t ident, uint16_t seq, const void *data,
                                 uint32_t len)
{
	uint8_t *l4 = buf + FTCP_ETH_HLEN + FTCP_IPV4_HLEN;
	struct ftcp_icmp_repr m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.ident = ident;
	m.seq = seq;
	m.data = data;
	m.data_len = len;
	ftcp_icmp_emit(&m, l4);
	return harness_build_ipv4(buf, dst, src, saddr, daddr, FTCP_IP_PROTO_ICMP,
	                          FTCP_ICMP_HLEN + len);
}

uint64_t harness_counter(const struct ftcp_stack *s, const char *name)
{
	struct ftcp_counters c;
	unsigned i;

	ftcp_stack_counters(s, &c);
	for (i = 0; i < ftcp_counter_count(); i++)
		if (!strcmp(ftcp_counter_name(i), name))
			return ftcp_counter_value(&c, i);
	fprintf(stderr, "no counter named %s\n", name);
	CU_FAIL("unknown counter name");
	return 0;
}

void harness_dump_counters(const struct ftcp_stack *s, const char *label)
{
	struct ftcp_counters c;
	unsigned i;

	ftcp_stack_counters(s, &c);
	fprintf(stderr, "-- counters %s\n", label);
	for (i = 0; i < ftcp_counter_count(); i++)
		if (ftcp_counter_value(&c, i))
			fprintf(stderr, "  %-24s %llu\n", ftcp_counter_name(i),
			        (unsigned long long)ftcp_counter_value(&c, i));
}
