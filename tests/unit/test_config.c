/*
 * test_config.c — configuration defaults and validation, memory sizing,
 * ftcp_stack_init's refusals, counter names and error strings.
 */
#include <stdlib.h>
#include <string.h>

#include "ftcp_test.h"
#include "ftcp/ftcp.h"

void register_config_tests(void);

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Defaults plus an address: 192.168.1.10/24. */
static void base_config(struct ftcp_config *c)
{
	ftcp_config_defaults(c);
	c->ip_addr = IP4(192, 168, 1, 10);
	c->prefix_len = 24;
}

/* A configuration small enough to allocate freely in tests. */
static void small_config(struct ftcp_config *c)
{
	base_config(c);
	c->max_sockets = 4;
	c->rx_buffers = 2;
	c->rx_buffer_size = 4096;
	c->tx_fifo_size = 4096;
	c->arp_hold_frames = 2;
	c->arp_hold_per_neighbour = 1;
	c->arp_cache_size = 4;
	c->demux_buckets = 8;
}

/* Validation must fail with EINVAL and a why naming the setting. */
#define ASSERT_REJECTS(cfg, setting)                                                 \
	do {                                                                         \
		const char *why_ = NULL;                                             \
		ASSERT_EQ_I64(ftcp_config_validate(&(cfg), &why_), -FTCP_EINVAL);    \
		CU_ASSERT_FATAL(why_ != NULL);                                       \
		if (!strstr(why_, setting))                                          \
			fprintf(stderr, "\n  %s:%d: why \"%s\" does not name %s\n",  \
			        __FILE__, __LINE__, why_, setting);                 \
		CU_ASSERT(strstr(why_, setting) != NULL);                            \
		ASSERT_EQ_U64(ftcp_stack_memory_size(&(cfg)), 0);                    \
	} while (0)

#define ASSERT_ACCEPTS(cfg)                                                          \
	do {                                                                         \
		const char *why_ = NULL;                                             \
		int rc_ = ftcp_config_validate(&(cfg), &why_);                       \
		if (rc_)                                                             \
			fprintf(stderr, "\n  %s:%d: rejected: %s\n", __FILE__, __LINE__, \
			        why_ ? why_ : "(null)");                             \
		ASSERT_EQ_I64(rc_, 0);                                               \
	} while (0)

static void test_config_defaults_validate_once_ip_addr_is_set(void)
{
	struct ftcp_config c;

	ftcp_config_defaults(&c);
	ASSERT_EQ_U64(c.ip_addr, 0);
	ASSERT_EQ_U64(c.mtu, FTCP_DEFAULT_MTU);
	ASSERT_EQ_U64(c.max_sockets, FTCP_DEFAULT_MAX_SOCKETS);
	ASSERT_EQ_U64(c.rx_buffer_size, FTCP_DEFAULT_RX_BUFFER_SIZE);
	ASSERT_EQ_U64(c.tx_fifo_size, FTCP_DEFAULT_TX_FIFO_SIZE);
	ASSERT_EQ_U64(c.demux_buckets, FTCP_DEFAULT_DEMUX_BUCKETS);
	ASSERT_EQ_U64(c.ephemeral_lo, FTCP_DEFAULT_EPHEMERAL_LO);
	ASSERT_EQ_U64(c.ephemeral_hi, FTCP_DEFAULT_EPHEMERAL_HI);
	ASSERT_EQ_U64(c.gateway, 0);
	ASSERT_REJECTS(c, "ip_addr");
	c.ip_addr = IP4(10, 0, 0, 5);
	ASSERT_ACCEPTS(c);
	CU_ASSERT(ftcp_stack_memory_size(&c) > 0);
	ASSERT_EQ_I64(ftcp_config_validate(&c, NULL), 0);
	ASSERT_EQ_I64(ftcp_config_validate(NULL, NULL), -FTCP_EINVAL);
	ASSERT_EQ_U64(ftcp_stack_memory_size(NULL), 0);
}

static void test_config_rejects_prefix_len_out_of_range(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.prefix_len = 0;
	ASSERT_REJECTS(c, "prefix_len");
	c.prefix_len = 33;
	ASSERT_REJECTS(c, "prefix_len");
	c.prefix_len = 255;
	ASSERT_REJECTS(c, "prefix_len");
	c.prefix_len = 8;
	ASSERT_ACCEPTS(c);
	c.prefix_len = 32;
	ASSERT_ACCEPTS(c);
}

static void test_config_rejects_unusable_ip_addr(void)
{
	struct ftcp_config c;
	static const uint32_t bad[] = {
		0,
		0xffffffffu,
		IP4(224, 0, 0, 1),
		IP4(239, 1, 2, 3),
		IP4(127, 0, 0, 1),
		IP4(127, 1, 2, 3),
		IP4(192, 168, 1, 0),   /* network address of /24 */
		IP4(192, 168, 1, 255), /* broadcast address of /24 */
	};
	size_t i;

	for (i = 0; i < N_ELEMS(bad); i++) {
		base_config(&c);
		c.ip_addr = bad[i];
		ASSERT_REJECTS(c, "ip_addr");
	}
	/* network and broadcast depend on the prefix */
	base_config(&c);
	c.ip_addr = IP4(10, 1, 0, 0);
	c.prefix_len = 16;
	ASSERT_REJECTS(c, "ip_addr");
	c.ip_addr = IP4(10, 1, 255, 255);
	ASSERT_REJECTS(c, "ip_addr");
	c.ip_addr = IP4(10, 1, 255, 254);
	ASSERT_ACCEPTS(c);
	c.ip_addr = IP4(10, 1, 0, 1);
	ASSERT_ACCEPTS(c);
}

static void test_config_ip_addr_edge_prefixes(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.ip_addr = IP4(10, 1, 0, 0);
	c.prefix_len = 24;
	ASSERT_REJECTS(c, "ip_addr");
	/* a /31 point-to-point link has no network or broadcast address */
	c.prefix_len = 31;
	ASSERT_ACCEPTS(c);
	c.ip_addr = IP4(10, 1, 0, 1);
	ASSERT_ACCEPTS(c);
	c.prefix_len = 32;
	ASSERT_ACCEPTS(c);
	c.ip_addr = IP4(10, 1, 0, 255);
	c.prefix_len = 23; /* 10.1.0.0/23: .0.255 is an ordinary host */
	ASSERT_ACCEPTS(c);
	c.ip_addr = IP4(10, 1, 1, 255);
	ASSERT_REJECTS(c, "ip_addr");
	c.ip_addr = IP4(126, 255, 255, 254);
	c.prefix_len = 8;
	ASSERT_ACCEPTS(c);
	c.ip_addr = IP4(223, 255, 255, 254);
	ASSERT_ACCEPTS(c);
}

static void test_config_rejects_gateway_outside_subnet_or_equal_to_ip(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.gateway = IP4(192, 168, 2, 1);
	ASSERT_REJECTS(c, "gateway");
	c.gateway = IP4(10, 0, 0, 1);
	ASSERT_REJECTS(c, "gateway");
	c.gateway = c.ip_addr;
	ASSERT_REJECTS(c, "gateway");
	c.gateway = IP4(192, 168, 1, 1);
	ASSERT_ACCEPTS(c);
	c.gateway = 0; /* no default route */
	ASSERT_ACCEPTS(c);
}

static void test_config_rejects_mtu_out_of_range(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.mtu = 575;
	ASSERT_REJECTS(c, "mtu");
	c.mtu = 0;
	ASSERT_REJECTS(c, "mtu");
	c.mtu = 9217;
	ASSERT_REJECTS(c, "mtu");
	c.mtu = 576;
	ASSERT_ACCEPTS(c);
	c.mtu = 9216;
	ASSERT_ACCEPTS(c);
}

static void test_config_rejects_zero_max_sockets(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.max_sockets = 0;
	ASSERT_REJECTS(c, "max_sockets");
	c.max_sockets = 0xffffffffu;
	ASSERT_REJECTS(c, "max_sockets");
	c.max_sockets = 1;
	ASSERT_ACCEPTS(c);
	c.rx_buffers = 0;
	ASSERT_REJECTS(c, "rx_buffers");
}

static void test_config_rejects_bad_rx_buffer_size(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.rx_buffer_size = 5000;
	ASSERT_REJECTS(c, "rx_buffer_size");
	c.rx_buffer_size = 0;
	ASSERT_REJECTS(c, "rx_buffer_size");
	c.rx_buffer_size = 2048; /* a power of two, but not two 1500-byte datagrams */
	ASSERT_REJECTS(c, "rx_buffer_size");
	c.rx_buffer_size = 4096;
	ASSERT_ACCEPTS(c);
	/* the minimum grows with the MTU */
	c.mtu = 9000;
	c.rx_buffer_size = 16384;
	ASSERT_REJECTS(c, "rx_buffer_size");
	c.rx_buffer_size = 32768;
	ASSERT_ACCEPTS(c);
}

static void test_config_rejects_bad_tx_fifo_size(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.tx_fifo_size = 6000;
	ASSERT_REJECTS(c, "tx_fifo_size");
	c.tx_fifo_size = 0;
	ASSERT_REJECTS(c, "tx_fifo_size");
	c.tx_fifo_size = 2048;
	ASSERT_REJECTS(c, "tx_fifo_size");
	c.tx_fifo_size = 4096;
	ASSERT_ACCEPTS(c);
	c.mtu = 9000;
	c.tx_fifo_size = 16384;
	ASSERT_REJECTS(c, "tx_fifo_size");
}

static void test_config_rejects_arp_settings(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.arp_hold_per_neighbour = c.arp_hold_frames + 1;
	ASSERT_REJECTS(c, "arp_hold_per_neighbour");
	c.arp_hold_per_neighbour = 0;
	ASSERT_REJECTS(c, "arp_hold_per_neighbour");
	c.arp_hold_per_neighbour = c.arp_hold_frames;
	ASSERT_ACCEPTS(c);

	base_config(&c);
	c.arp_hold_frames = 0;
	ASSERT_REJECTS(c, "arp_hold_frames");

	base_config(&c);
	c.arp_retries = 0;
	ASSERT_REJECTS(c, "arp_retries");
	c.arp_retries = 256;
	ASSERT_REJECTS(c, "arp_retries");

	base_config(&c);
	c.arp_cache_size = 0;
	ASSERT_REJECTS(c, "arp_cache_size");

	base_config(&c);
	c.arp_retry_us = 0;
	ASSERT_REJECTS(c, "arp_retry_us");

	base_config(&c);
	c.arp_reachable_us = 999;
	ASSERT_REJECTS(c, "arp_reachable_us");

	base_config(&c);
	c.arp_announce = 17;
	ASSERT_REJECTS(c, "arp_announce");
	c.arp_announce = 0;
	ASSERT_ACCEPTS(c);
}

static void test_config_rejects_demux_buckets_not_power_of_two(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.demux_buckets = 100;
	ASSERT_REJECTS(c, "demux_buckets");
	c.demux_buckets = 0;
	ASSERT_REJECTS(c, "demux_buckets");
	c.demux_buckets = 1;
	ASSERT_ACCEPTS(c);
	c.demux_buckets = 1024;
	ASSERT_ACCEPTS(c);
}

static void test_config_rejects_bursts_out_of_range(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.rx_burst = 0;
	ASSERT_REJECTS(c, "rx_burst");
	c.rx_burst = 257;
	ASSERT_REJECTS(c, "rx_burst");
	c.rx_burst = 256;
	ASSERT_ACCEPTS(c);

	base_config(&c);
	c.tx_burst = 0;
	ASSERT_REJECTS(c, "tx_burst");
	c.tx_burst = 1000;
	ASSERT_REJECTS(c, "tx_burst");
	c.tx_burst = 1;
	ASSERT_ACCEPTS(c);
}

static void test_config_rejects_ephemeral_range_and_other_limits(void)
{
	struct ftcp_config c;

	base_config(&c);
	c.ephemeral_lo = 50000;
	c.ephemeral_hi = 49999;
	ASSERT_REJECTS(c, "ephemeral_lo");
	c.ephemeral_lo = 0;
	c.ephemeral_hi = 100;
	ASSERT_REJECTS(c, "ephemeral_lo");
	c.ephemeral_lo = 1;
	ASSERT_ACCEPTS(c);
	c.ephemeral_lo = c.ephemeral_hi = 40000; /* one port is a range */
	ASSERT_ACCEPTS(c);

	base_config(&c);
	c.ip_ttl = 0;
	ASSERT_REJECTS(c, "ip_ttl");

	base_config(&c);
	c.icmp_rate = 2000000;
	ASSERT_REJECTS(c, "icmp_rate");
}

static void test_config_memory_size_grows_with_max_sockets(void)
{
	struct ftcp_config c;
	size_t prev = 0;
	static const uint32_t n[] = {1, 2, 16, 64, 256};
	size_t i;

	small_config(&c);
	for (i = 0; i < N_ELEMS(n); i++) {
		size_t sz;
		c.max_sockets = n[i];
		sz = ftcp_stack_memory_size(&c);
		CU_ASSERT(sz > prev);
		prev = sz;
	}
	/* and with the buffers it must hold */
	small_config(&c);
	prev = ftcp_stack_memory_size(&c);
	c.rx_buffers = 3;
	CU_ASSERT(ftcp_stack_memory_size(&c) >= prev + 4096);
	small_config(&c);
	c.tx_fifo_size = 8192;
	CU_ASSERT(ftcp_stack_memory_size(&c) >= prev + 4096);
	c.mtu = 0; /* invalid */
	ASSERT_EQ_U64(ftcp_stack_memory_size(&c), 0);
}

/* ---- ftcp_stack_init with a do-nothing device ---- */

struct dummy_dev {
	struct ftcp_device dev;
	unsigned tx_frames, arp_frames;
};

static uint16_t dummy_rx(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n,
                         uint64_t now_us)
{
	(void)dev;
	(void)f;
	(void)n;
	(void)now_us;
	return 0;
}

static void dummy_release(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n)
{
	(void)dev;
	(void)f;
	(void)n;
}

static uint16_t dummy_tx(struct ftcp_device *dev, const struct ftcp_tx_frame *f, uint16_t n,
                         uint64_t now_us)
{
	struct dummy_dev *d = (struct dummy_dev *)dev;
	uint16_t i;

	(void)now_us;
	for (i = 0; i < n; i++) {
		d->tx_frames++;
		if (f[i].hdr_len >= 14 && f[i].hdr[12] == 0x08 && f[i].hdr[13] == 0x06)
			d->arp_frames++;
		if (f[i].pin)
			ftcp_txpin_release(f[i].pin);
	}
	return n;
}

static const struct ftcp_device_ops dummy_ops = {dummy_rx, dummy_release, dummy_tx};

static void dummy_init(struct dummy_dev *d)
{
	static const struct ftcp_mac mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
	memset(d, 0, sizeof(*d));
	d->dev.ops = &dummy_ops;
	d->dev.mac = mac;
	d->dev.mtu = 1500;
}

#define GUARD 256

static void test_stack_init_succeeds_inside_the_block(void)
{
	struct ftcp_config c;
	struct dummy_dev d;
	struct ftcp_stack *s = NULL;
	struct ftcp_pool_stats ps;
	const char *why = "unset";
	size_t need, off, i;
	int ok = 1;

	small_config(&c);
	dummy_init(&d);
	need = ftcp_stack_memory_size(&c);
	CU_ASSERT_FATAL(need > 0);
	/* at every misalignment, init stays inside need bytes */
	for (off = 0; off < 8; off++) {
		uint8_t *raw = malloc(need + off + GUARD);
		CU_ASSERT_FATAL(raw != NULL);
		memset(raw, 0xa5, need + off + GUARD);
		s = NULL;
		ASSERT_EQ_I64(ftcp_stack_init(&s, &c, &d.dev, raw + off, need, 0, &why), 0);
		CU_ASSERT(s != NULL);
		CU_ASSERT(why == NULL);
		for (i = 0; i < off; i++)
			ok &= raw[i] == 0xa5;
		for (i = need + off; i < need + off + GUARD; i++)
			ok &= raw[i] == 0xa5;
		CU_ASSERT(ok);
		if (s) {
			ftcp_stack_pool_stats(s, &ps);
			ASSERT_EQ_U64(ps.sockets_max, 4);
			ASSERT_EQ_U64(ps.sockets_in_use, 0);
			ASSERT_EQ_U64(ps.rx_buffers_max, 2);
			/* it runs: the gratuitous ARP announcement goes out */
			ftcp_stack_poll(s, 1);
			CU_ASSERT(d.arp_frames >= 1);
		}
		free(raw);
		d.arp_frames = 0;
	}
}

static void test_stack_init_fails_when_memory_is_too_small(void)
{
	struct ftcp_config c;
	struct dummy_dev d;
	struct ftcp_stack *s = NULL;
	const char *why = NULL;
	size_t need;
	uint8_t *mem;

	small_config(&c);
	dummy_init(&d);
	need = ftcp_stack_memory_size(&c);
	mem = malloc(need);
	CU_ASSERT_FATAL(mem != NULL);
	ASSERT_EQ_I64(ftcp_stack_init(&s, &c, &d.dev, mem, need - 1, 0, &why), -FTCP_ENOMEM);
	CU_ASSERT_FATAL(why != NULL);
	CU_ASSERT(strstr(why, "memory") != NULL);
	CU_ASSERT(s == NULL);
	why = NULL;
	ASSERT_EQ_I64(ftcp_stack_init(&s, &c, &d.dev, NULL, need, 0, &why), -FTCP_ENOMEM);
	CU_ASSERT(why && strstr(why, "memory"));
	ASSERT_EQ_I64(ftcp_stack_init(&s, &c, &d.dev, mem, 0, 0, NULL), -FTCP_ENOMEM);
	free(mem);
}

static void test_stack_init_rejects_device_mtu_below_config_mtu(void)
{
	struct ftcp_config c;
	struct dummy_dev d;
	struct ftcp_stack *s = NULL;
	const char *why = NULL;
	size_t need;
	uint8_t *mem;

	small_config(&c);
	dummy_init(&d);
	d.dev.mtu = 1499;
	need = ftcp_stack_memory_size(&c);
	mem = malloc(need);
	CU_ASSERT_FATAL(mem != NULL);
	ASSERT_EQ_I64(ftcp_stack_init(&s, &c, &d.dev, mem, need, 0, &why), -FTCP_EINVAL);
	CU_ASSERT_FATAL(why != NULL);
	CU_ASSERT(strstr(why, "mtu") != NULL);
	/* a smaller configured MTU fits the device */
	c.mtu = 1280;
	why = NULL;
	ASSERT_EQ_I64(ftcp_stack_init(&s, &c, &d.dev, mem, need, 0, &why), 0);
	free(mem);
}

static void test_stack_init_rejects_zero_or_multicast_mac(void)
{
	static const struct ftcp_mac bad[] = {
		{{0, 0, 0, 0, 0, 0}},
		{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}},
		{{0x03, 0x00, 0x00, 0x00, 0x00, 0x00}},
	};
	struct ftcp_config c;
	struct dummy_dev d;
	struct ftcp_stack *s = NULL;
	size_t need, i;
	uint8_t *mem;

	small_config(&c);
	need = ftcp_stack_memory_size(&c);
	mem = malloc(need);
	CU_ASSERT_FATAL(mem != NULL);
	for (i = 0; i < N_ELEMS(bad); i++) {
		const char *why = NULL;
		dummy_init(&d);
		d.dev.mac = bad[i];
		ASSERT_EQ_I64(ftcp_stack_init(&s, &c, &d.dev, mem, need, 0, &why), -FTCP_EINVAL);
		CU_ASSERT(why && strstr(why, "MAC"));
	}
	free(mem);
}

static void test_stack_init_rejects_invalid_config_and_incomplete_device(void)
{
	struct ftcp_config c;
	struct dummy_dev d;
	struct ftcp_device_ops ops = dummy_ops;
	struct ftcp_stack *s = NULL;
	const char *why = NULL;
	size_t need;
	uint8_t *mem;

	small_config(&c);
	need = ftcp_stack_memory_size(&c);
	mem = malloc(need);
	CU_ASSERT_FATAL(mem != NULL);
	dummy_init(&d);
	c.demux_buckets = 3;
	ASSERT_EQ_I64(ftcp_stack_init(&s, &c, &d.dev, mem, need, 0, &why), -FTCP_EINVAL);
	CU_ASSERT(why && strstr(why, "demux_buckets"));
	small_config(&c);
	ASSERT_EQ_I64(ftcp_stack_init(&s, &c, NULL, mem, need, 0, &why), -FTCP_EINVAL);
	CU_ASSERT(why && strstr(why, "device"));
	ops.tx_burst = NULL;
	d.dev.ops = &ops;
	why = NULL;
	ASSERT_EQ_I64(ftcp_stack_init(&s, &c, &d.dev, mem, need, 0, &why), -FTCP_EINVAL);
	CU_ASSERT(why && strstr(why, "device"));
	free(mem);
}

/* ---- names ---- */

static void test_counter_names_are_complete_and_unique(void)
{
	unsigned n = ftcp_counter_count(), i, j;
	struct ftcp_counters c;

	CU_ASSERT_FATAL(n > 0);
	ASSERT_EQ_U64(n, sizeof(struct ftcp_counters) / sizeof(uint64_t));
	for (i = 0; i < n; i++) {
		const char *a = ftcp_counter_name(i);
		CU_ASSERT_FATAL(a != NULL);
		CU_ASSERT(a[0] != '\0');
		CU_ASSERT(ftcp_counter_doc(i) != NULL);
		for (j = 0; j < i; j++)
			CU_ASSERT(strcmp(a, ftcp_counter_name(j)) != 0);
	}
	CU_ASSERT(ftcp_counter_name(n) == NULL);
	CU_ASSERT(ftcp_counter_name(n + 1000) == NULL);
	CU_ASSERT(ftcp_counter_doc(n) == NULL);

	/* names line up with the struct fields */
	memset(&c, 0, sizeof(c));
	c.udp_rx = 7;
	c.eth_rx_frames = 3;
	c.timers_fired = 11;
	for (i = 0; i < n; i++) {
		uint64_t v = ftcp_counter_value(&c, i);
		const char *a = ftcp_counter_name(i);
		if (!strcmp(a, "udp_rx"))
			ASSERT_EQ_U64(v, 7);
		else if (!strcmp(a, "eth_rx_frames"))
			ASSERT_EQ_U64(v, 3);
		else if (!strcmp(a, "timers_fired"))
			ASSERT_EQ_U64(v, 11);
		else
			ASSERT_EQ_U64(v, 0);
	}
	ASSERT_EQ_U64(ftcp_counter_value(&c, n), 0);
}

static void test_strerror_names_every_code_distinctly(void)
{
	static const int codes[] = {
		FTCP_EBADF, FTCP_EAGAIN, FTCP_ENOMEM, FTCP_EINVAL, FTCP_EMFILE,
		FTCP_EPIPE, FTCP_EDESTADDRREQ, FTCP_EMSGSIZE, FTCP_EPROTOTYPE,
		FTCP_EOPNOTSUPP, FTCP_EADDRINUSE, FTCP_EADDRNOTAVAIL, FTCP_ENETUNREACH,
		FTCP_ECONNABORTED, FTCP_ECONNRESET, FTCP_ENOBUFS, FTCP_EISCONN,
		FTCP_ENOTCONN, FTCP_ETIMEDOUT, FTCP_ECONNREFUSED, FTCP_EHOSTUNREACH,
		FTCP_EALREADY, FTCP_EINPROGRESS,
	};
	const char *unknown = ftcp_strerror(9999);
	size_t i, j;

	CU_ASSERT_FATAL(unknown != NULL);
	CU_ASSERT(strstr(unknown, "unknown") != NULL);
	CU_ASSERT(ftcp_strerror(-9999) != NULL);
	CU_ASSERT(ftcp_strerror(0) != NULL && strstr(ftcp_strerror(0), "unknown") == NULL);
	for (i = 0; i < N_ELEMS(codes); i++) {
		const char *a = ftcp_strerror(-codes[i]);
		CU_ASSERT_FATAL(a != NULL);
		CU_ASSERT(strstr(a, "unknown") == NULL);
		CU_ASSERT(strcmp(a, ftcp_strerror(codes[i])) == 0); /* sign does not matter */
		CU_ASSERT(strcmp(a, ftcp_strerror(0)) != 0);
		for (j = 0; j < i; j++)
			CU_ASSERT(strcmp(a, ftcp_strerror(-codes[j])) != 0);
	}
}

void register_config_tests(void)
{
	FTCP_SUITE("config",
	           FTCP_CASE(test_config_defaults_validate_once_ip_addr_is_set),
	           FTCP_CASE(test_config_rejects_prefix_len_out_of_range),
	           FTCP_CASE(test_config_rejects_unusable_ip_addr),
	           FTCP_CASE(test_config_ip_addr_edge_prefixes),
	           FTCP_CASE(test_config_rejects_gateway_outside_subnet_or_equal_to_ip),
	           FTCP_CASE(test_config_rejects_mtu_out_of_range),
	           FTCP_CASE(test_config_rejects_zero_max_sockets),
	           FTCP_CASE(test_config_rejects_bad_rx_buffer_size),
	           FTCP_CASE(test_config_rejects_bad_tx_fifo_size),
	           FTCP_CASE(test_config_rejects_arp_settings),
	           FTCP_CASE(test_config_rejects_demux_buckets_not_power_of_two),
	           FTCP_CASE(test_config_rejects_bursts_out_of_range),
	           FTCP_CASE(test_config_rejects_ephemeral_range_and_other_limits),
	           FTCP_CASE(test_config_memory_size_grows_with_max_sockets),
	           FTCP_CASE(test_stack_init_succeeds_inside_the_block),
	           FTCP_CASE(test_stack_init_fails_when_memory_is_too_small),
	           FTCP_CASE(test_stack_init_rejects_device_mtu_below_config_mtu),
	           FTCP_CASE(test_stack_init_rejects_zero_or_multicast_mac),
	           FTCP_CASE(test_stack_init_rejects_invalid_config_and_incomplete_device),
	           FTCP_CASE(test_counter_names_are_complete_and_unique),
	           FTCP_CASE(test_strerror_names_every_code_distinctly));
}
