/*
 * ftcp_dpdk.c — the DPDK device (see ftcp_dpdk.h).
 */
#define _GNU_SOURCE
#include "ftcp_dpdk.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define BURST_MAX 256
#define MAX_EAL_ARGS 64

/* One per transmitted frame with referenced payload: shared by the frame's
 * external-buffer mbufs; the last one freed releases the core's pin. */
struct ext_ref {
	struct rte_mbuf_ext_shared_info sh;
	struct ftcp_txpin *pin;
	struct rte_mempool *pool;
	bool cancelled; /* the device refused the frame: the core still owns it */
};

struct ftcp_dpdk_port {
	struct ftcp_device dev;
	uint16_t port_id;
	char driver[64];
	char offloads[256];            /* what we use, for the banner */
	uint64_t tx_capa;              /* what the device offers */
	bool multiseg;
	uint32_t tso_frame_max;        /* headers + tso_segsz the device takes */
	uint64_t tx_ol;                /* RTE_MBUF_F_TX_* we may request */
	struct rte_mempool *pool;      /* RX and TX header mbufs */
	struct rte_mempool *ext_pool;  /* payload mbufs (no data room) */
	struct rte_mempool *ref_pool;  /* struct ext_ref */
	uint64_t tx_refused, tx_nombuf, rx_scattered;
	uint32_t idle_polls;
	bool trusted;                  /* trusted_link: no checksums either way */
	int rx_fd;                     /* readable when RX has frames, or -1 */
	struct rte_mbuf *txm[BURST_MAX];
	struct ext_ref *txref[BURST_MAX];
};

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void ftcp_dpdk_config_defaults(struct ftcp_dpdk_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mbufs = 8191;
	c->rx_desc = 1024;
	c->tx_desc = 1024;
	c->mtu = 1500;
	c->link_wait_ms = 3000;
}

int ftcp_dpdk_eal_init(const char *eal_args, char *err, size_t errlen)
{
	static char buf[4096];
	char *argv[MAX_EAL_ARGS + 1], *save = NULL, *tok;
	int argc = 0;

	if (!eal_args || strlen(eal_args) >= sizeof(buf)) {
		set_err(err, errlen, "eal: arguments missing or longer than 4095 bytes");
		return -1;
	}
	strcpy(buf, eal_args);
	argv[argc++] = (char *)"ftcp";
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (argc == MAX_EAL_ARGS) {
			set_err(err, errlen, "eal: more than 63 arguments");
			return -1;
		}
		argv[argc++] = tok;
	}
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		set_err(err, errlen, "eal: rte_eal_init failed: %s (arguments: %s)",
		        rte_strerror(rte_errno), eal_args);
		return -1;
	}
	return 0;
}

void ftcp_dpdk_eal_cleanup(void)
{
	rte_eal_cleanup();
}

uint64_t ftcp_dpdk_now_us(void)
{
	static uint64_t hz;
	uint64_t c = rte_get_tsc_cycles();

	if (!hz)
		hz = rte_get_tsc_hz();
	return c / hz * 1000000 + c % hz * 1000000 / hz;
}

void *ftcp_dpdk_alloc(size_t len)
{
	return rte_zmalloc("ftcp", len, 64);
}

void ftcp_dpdk_free(void *p)
{
	rte_free(p);
}

/* ---- RX ---- */

static uint16_t dpdk_rx_burst(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n,
                              uint64_t now_us)
{
	struct ftcp_dpdk_port *p = (struct ftcp_dpdk_port *)dev;
	struct rte_mbuf *m[BURST_MAX];
	uint16_t got, i, out = 0;

	(void)now_us;
	if (n > BURST_MAX)
		n = BURST_MAX;
	got = rte_eth_rx_burst(p->port_id, 0, m, n);
	/* PMDs reap TX completions inside later tx_burst calls; a stack that
	 * stopped sending (its send ring full of acknowledged but pinned bytes)
	 * would wait for ever. Reap when idle, now and then. */
	if (!got && ++p->idle_polls >= 64) {
		p->idle_polls = 0;
		rte_eth_tx_done_cleanup(p->port_id, 0, 0);
	}
	for (i = 0; i < got; i++) {
		uint64_t ol = m[i]->ol_flags;
		uint32_t flags = 0;

		if (m[i]->nb_segs != 1) { /* the pool's data room fits an MTU frame */
			p->rx_scattered++;
			rte_pktmbuf_free(m[i]);
			continue;
		}
		if (p->trusted)
			flags |= FTCP_RX_IP_CKSUM_GOOD | FTCP_RX_L4_CKSUM_GOOD;
		else if ((ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
			flags |= FTCP_RX_IP_CKSUM_GOOD;
		else if ((ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			flags |= FTCP_RX_IP_CKSUM_BAD;
		if (!p->trusted) {
			if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
				flags |= FTCP_RX_L4_CKSUM_GOOD;
			else if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD)
				flags |= FTCP_RX_L4_CKSUM_BAD;
		}
		f[out].data = rte_pktmbuf_mtod(m[i], const uint8_t *);
		f[out].len = m[i]->pkt_len;
		f[out].flags = flags;
		f[out].cookie = m[i];
		out++;
	}
	return out;
}

static void dpdk_rx_release(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n)
{
	struct rte_mbuf *m[BURST_MAX];
	uint16_t i;

	(void)dev;
	for (i = 0; i < n; i++)
		m[i] = f[i].cookie;
	rte_pktmbuf_free_bulk(m, n);
}

/* ---- TX ---- */

static void ext_free_cb(void *addr, void *opaque)
{
	struct ext_ref *r = opaque;

	(void)addr;
	if (!r->cancelled)
		ftcp_txpin_release(r->pin);
	rte_mempool_put(r->pool, r);
}

/* Chain a payload piece as an external buffer behind head. */
static int attach_piece(struct ftcp_dpdk_port *p, struct rte_mbuf *head, struct ext_ref *r,
                        const uint8_t *data, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->ext_pool);

	if (!m)
		return -1;
	rte_pktmbuf_attach_extbuf(m, (void *)(uintptr_t)data, rte_mem_virt2iova(data), (uint16_t)len,
	                          &r->sh);
	rte_mbuf_ext_refcnt_update(&r->sh, 1);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	if (rte_pktmbuf_chain(head, m) < 0) {
		rte_pktmbuf_free(m);
		return -1;
	}
	return 0;
}

/* Build the mbuf chain for one frame; NULL if out of mbufs. */
static struct rte_mbuf *build(struct ftcp_dpdk_port *p, const struct ftcp_tx_frame *f,
                              struct ext_ref **ref_out)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->pool);
	uint32_t total = ftcp_tx_frame_len(f);
	struct ext_ref *r = NULL;
	uint8_t *d;

	*ref_out = NULL;
	if (!m)
		return NULL;
	if (p->multiseg && f->pin && f->payload_len) {
		d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)f->hdr_len);
		if (!d || rte_mempool_get(p->ref_pool, (void **)&r) < 0)
			goto fail;
		memcpy(d, f->hdr, f->hdr_len);
		r->sh.free_cb = ext_free_cb;
		r->sh.fcb_opaque = r;
		rte_mbuf_ext_refcnt_set(&r->sh, 0);
		r->pin = f->pin;
		r->pool = p->ref_pool;
		r->cancelled = false;
		if (attach_piece(p, m, r, f->payload, f->payload_len) < 0 ||
		    (f->payload2_len && attach_piece(p, m, r, f->payload2, f->payload2_len) < 0))
			goto fail_ref;
		*ref_out = r;
	} else {
		d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)total);
		if (!d)
			goto fail;
		ftcp_tx_frame_copy(f, d);
	}
	m->l2_len = f->l2_len;
	m->l3_len = f->l3_len;
	m->l4_len = f->l4_len;
	if (p->trusted && !(f->flags & FTCP_TX_TSO))
		return m; /* the checksums the core left to "the device": nobody's */
	if (f->flags & (FTCP_TX_IP_CKSUM | FTCP_TX_TCP_CKSUM | FTCP_TX_UDP_CKSUM))
		m->ol_flags |= RTE_MBUF_F_TX_IPV4;
	if (f->flags & FTCP_TX_IP_CKSUM)
		m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
	if (f->flags & FTCP_TX_TSO) {
		/* TCP_SEG implies the TCP checksum (and testpmd sets not both);
		 * the core left the length-less pseudo-header sum in place. */
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		m->tso_segsz = f->tso_segsz;
		if (f->hdr_len + f->tso_segsz > p->tso_frame_max)
			m->tso_segsz = (uint16_t)(p->tso_frame_max - f->hdr_len);
	} else if (f->flags & FTCP_TX_TCP_CKSUM) {
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
	}
	if (f->flags & FTCP_TX_UDP_CKSUM)
		m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
	return m;

fail_ref:
	/* Pieces already chained hold references: free them without a
	 * release (the frame is not sent). */
	r->cancelled = true;
	if (rte_mbuf_ext_refcnt_read(&r->sh) == 0)
		rte_mempool_put(p->ref_pool, r);
fail:
	rte_pktmbuf_free(m);
	p->tx_nombuf++;
	return NULL;
}

static uint16_t dpdk_tx_burst(struct ftcp_device *dev, const struct ftcp_tx_frame *f, uint16_t n,
                              uint64_t now_us)
{
	struct ftcp_dpdk_port *p = (struct ftcp_dpdk_port *)dev;
	uint16_t built = 0, sent, i;

	(void)now_us;
	if (n > BURST_MAX)
		n = BURST_MAX;
	while (built < n && (p->txm[built] = build(p, &f[built], &p->txref[built])))
		built++;
	sent = built ? rte_eth_tx_burst(p->port_id, 0, p->txm, built) : 0;
	/* Copied frames the device took: their payload is free again. */
	for (i = 0; i < sent; i++)
		if (f[i].pin && !p->txref[i])
			ftcp_txpin_release(f[i].pin);
	/* Frames it did not take stay the core's, pins untouched. */
	for (i = sent; i < built; i++) {
		if (p->txref[i])
			p->txref[i]->cancelled = true;
		rte_pktmbuf_free(p->txm[i]);
	}
	p->tx_refused += n - sent;
	return sent;
}

static const struct ftcp_device_ops dpdk_ops = {
	.rx_burst = dpdk_rx_burst,
	.rx_release = dpdk_rx_release,
	.tx_burst = dpdk_tx_burst,
};

/* ---- waiting for frames ---- */

#ifndef AF_XDP
#define AF_XDP 44
#endif

/* net_af_xdp's socket: poll() reports it readable once its RX ring holds
 * frames (the kernel wakes pollers as it fills the ring), which is what a
 * sleeping poller needs. The PMD does not hand it out (22.11 has no RX
 * interrupts for it), so find the process's one AF_XDP socket; with
 * none or several (which queue is whose?) there is no fd to wait on. */
static int find_xsk_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1, n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		int dom = 0;
		socklen_t len = sizeof(dom);

		if (*end || end == e->d_name || fd < 0 || fd == dirfd(d))
			continue;
		if (getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 && dom == AF_XDP) {
			found = (int)fd;
			n++;
		}
	}
	closedir(d);
	return n == 1 ? found : -1;
}

int ftcp_dpdk_rx_wait_fd(const struct ftcp_dpdk_port *p)
{
	return p->rx_fd;
}

/* ---- start and stop ---- */

/* "rx ipv4_cksum,... tx ...; offered, unused: tcp_tso" for the banner. */
static void describe_offloads(char *buf, size_t len, uint64_t rx, uint64_t tx, uint64_t tx_capa)
{
	size_t n = 0;
	uint64_t bit, unused = tx_capa & ~tx;
	int part;

	buf[0] = 0;
	for (part = 0; part < 3; part++) {
		uint64_t set = part == 0 ? rx : part == 1 ? tx : unused;
		const char *sep = part == 0 ? "rx " : part == 1 ? "; tx " : "; tx offered, unused: ";

		if (!set) {
			if (part < 2)
				n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%snone", sep);
			continue;
		}
		for (bit = 1; bit; bit <<= 1) {
			if (!(set & bit))
				continue;
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", sep,
			                      part == 0 ? rte_eth_dev_rx_offload_name(bit)
			                                : rte_eth_dev_tx_offload_name(bit));
			sep = ",";
		}
	}
}

static uint16_t pick_port(const char *name, char *err, size_t errlen, int *ok)
{
	uint16_t pid;

	*ok = 0;
	if (name && *name) {
		if (rte_eth_dev_get_port_by_name(name, &pid) != 0) {
			set_err(err, errlen,
			        "port: no DPDK port named \"%s\" (is its --vdev or PCI device in the EAL arguments?)",
			        name);
			return 0;
		}
		*ok = 1;
		return pid;
	}
	RTE_ETH_FOREACH_DEV(pid) {
		*ok = 1;
		return pid;
	}
	set_err(err, errlen, "port: DPDK found no port (add --vdev=... or a PCI device to the EAL arguments)");
	return 0;
}

int ftcp_dpdk_port_start(struct ftcp_dpdk_port **out, const struct ftcp_dpdk_config *c, char *err,
                         size_t errlen)
{
	struct ftcp_dpdk_port *p;
	struct rte_eth_dev_info di;
	struct rte_eth_conf conf;
	struct rte_ether_addr mac;
	struct rte_eth_link link;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t room;
	uint64_t waited = 0;
	int ok, rc, socket;

	p = rte_zmalloc("ftcp_port", sizeof(*p), 64);
	if (!p) {
		set_err(err, errlen, "memory: cannot allocate the port state from DPDK memory (-m too small?)");
		return -1;
	}
	p->port_id = pick_port(c->port, err, errlen, &ok);
	if (!ok)
		goto fail_free;
	rc = rte_eth_dev_info_get(p->port_id, &di);
	if (rc != 0) {
		set_err(err, errlen, "port: cannot read device info: %s", rte_strerror(-rc));
		goto fail_free;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", di.driver_name);
	socket = rte_eth_dev_socket_id(p->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();

	/* Pools: RX frames and TX headers (an MTU frame fits one mbuf), payload
	 * mbufs without data room, and the external-buffer references. */
	room = RTE_PKTMBUF_HEADROOM + RTE_ETHER_HDR_LEN + c->mtu + 64;
	if (room < RTE_MBUF_DEFAULT_BUF_SIZE)
		room = RTE_MBUF_DEFAULT_BUF_SIZE;
	snprintf(name, sizeof(name), "ftcp_mb%u", p->port_id);
	p->pool = rte_pktmbuf_pool_create(name, c->mbufs, 256, 0, (uint16_t)room, socket);
	snprintf(name, sizeof(name), "ftcp_ext%u", p->port_id);
	p->ext_pool = rte_pktmbuf_pool_create(name, c->mbufs, 256, 0, 0, socket);
	snprintf(name, sizeof(name), "ftcp_ref%u", p->port_id);
	p->ref_pool = rte_mempool_create(name, c->mbufs, sizeof(struct ext_ref), 256, 0, NULL, NULL,
	                                 NULL, NULL, socket, 0);
	if (!p->pool || !p->ext_pool || !p->ref_pool) {
		set_err(err, errlen, "mbufs: cannot create pools: %s (lower mbufs or raise the EAL's -m)",
		        rte_strerror(rte_errno));
		goto fail_pools;
	}

	memset(&conf, 0, sizeof(conf));
	if (!c->no_offload) {
		uint64_t rx = di.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM |
		                                    RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
		                                    RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
		uint64_t tx = di.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
		                                    RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
		                                    RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
		conf.rxmode.offloads = rx;
		conf.txmode.offloads = tx;
		if (tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
			p->dev.caps |= FTCP_DEV_TX_IPV4_CKSUM;
		if (tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
			p->dev.caps |= FTCP_DEV_TX_TCP_CKSUM;
		if (tx & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
			p->dev.caps |= FTCP_DEV_TX_UDP_CKSUM;
		if (rx)
			p->dev.caps |= FTCP_DEV_RX_CKSUM;
	}
	if (!c->no_multiseg && (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		p->multiseg = true;
	}
	/* TSO needs both checksums (each segment's are the device's) and
	 * chains: a large frame is the header mbuf and up to two payload
	 * pieces, never copied into one mbuf; the device must take three
	 * segments per packet and per MTU. */
	if (!c->no_offload && p->multiseg && (di.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) &&
	    (p->dev.caps & FTCP_DEV_TX_IPV4_CKSUM) && (p->dev.caps & FTCP_DEV_TX_TCP_CKSUM) &&
	    di.tx_desc_lim.nb_seg_max >= 3 && di.tx_desc_lim.nb_mtu_seg_max >= 3) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
		p->dev.caps |= FTCP_DEV_TX_TSO;
		/* net_tap (22.11) refuses a TSO packet whose segments with the
		 * Ethernet header exceed the MTU (and the refused frame would
		 * be retried for ever): its segments carry 14 bytes less. */
		p->tso_frame_max = RTE_ETHER_HDR_LEN + c->mtu;
		if (strcmp(di.driver_name, "net_tap") == 0)
			p->tso_frame_max = c->mtu;
	}
	/* A trusted link: the core leaves every checksum to the device, which
	 * computes none, and takes every frame's as good. TSO only if offered,
	 * with the device's own checksums. */
	if (c->trusted_link) {
		p->trusted = true;
		p->dev.caps |= FTCP_DEV_TX_IPV4_CKSUM | FTCP_DEV_TX_TCP_CKSUM | FTCP_DEV_TX_UDP_CKSUM |
		               FTCP_DEV_RX_CKSUM;
	}
	p->tx_capa = di.tx_offload_capa;
	describe_offloads(p->offloads, sizeof(p->offloads), conf.rxmode.offloads,
	                  conf.txmode.offloads, di.tx_offload_capa);
	if (p->trusted)
		strncat(p->offloads, "; trusted link: no checksums", sizeof(p->offloads) - strlen(p->offloads) - 1);
	rc = rte_eth_dev_configure(p->port_id, 1, 1, &conf);
	if (rc < 0) {
		set_err(err, errlen, "port: configure failed: %s", rte_strerror(-rc));
		goto fail_pools;
	}
	if (c->mtu != 1500 || di.max_mtu >= c->mtu) {
		rc = rte_eth_dev_set_mtu(p->port_id, (uint16_t)c->mtu);
		if (rc < 0 && rc != -ENOTSUP) {
			set_err(err, errlen, "mtu: the device refused it: %s", rte_strerror(-rc));
			goto fail_pools;
		}
	}
	rc = rte_eth_rx_queue_setup(p->port_id, 0, c->rx_desc, (unsigned)socket, NULL, p->pool);
	if (rc < 0) {
		set_err(err, errlen, "rx_desc: RX queue setup failed: %s", rte_strerror(-rc));
		goto fail_pools;
	}
	rc = rte_eth_tx_queue_setup(p->port_id, 0, c->tx_desc, (unsigned)socket, NULL);
	if (rc < 0) {
		set_err(err, errlen, "tx_desc: TX queue setup failed: %s", rte_strerror(-rc));
		goto fail_pools;
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc < 0) {
		set_err(err, errlen, "port: start failed: %s", rte_strerror(-rc));
		goto fail_pools;
	}
	rte_eth_promiscuous_disable(p->port_id);
	do {
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(p->port_id, &link);
		if (link.link_status)
			break;
		rte_delay_ms(10);
		waited += 10;
	} while (waited < c->link_wait_ms);
	if (!link.link_status && !c->link_down_ok) {
		set_err(err, errlen, "link_wait_ms: the link stayed down for %u ms", c->link_wait_ms);
		rte_eth_dev_stop(p->port_id);
		goto fail_pools;
	}
	rte_eth_macaddr_get(p->port_id, &mac);
	memcpy(p->dev.mac.b, mac.addr_bytes, 6);
	p->rx_fd = strcmp(p->driver, "net_af_xdp") == 0 ? find_xsk_fd() : -1;
	p->dev.ops = &dpdk_ops;
	p->dev.mtu = c->mtu;
	*out = p;
	return 0;

fail_pools:
	rte_mempool_free(p->ref_pool);
	rte_mempool_free(p->ext_pool);
	rte_mempool_free(p->pool);
fail_free:
	rte_free(p);
	return -1;
}

void ftcp_dpdk_port_stop(struct ftcp_dpdk_port *p)
{
	if (!p)
		return;
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
	rte_mempool_free(p->ref_pool);
	rte_mempool_free(p->ext_pool);
	rte_mempool_free(p->pool);
	rte_free(p);
}

struct ftcp_device *ftcp_dpdk_device(struct ftcp_dpdk_port *p)
{
	return &p->dev;
}

uint16_t ftcp_dpdk_port_id(const struct ftcp_dpdk_port *p)
{
	return p->port_id;
}

const char *ftcp_dpdk_driver(const struct ftcp_dpdk_port *p)
{
	return p->driver;
}

const char *ftcp_dpdk_offloads(const struct ftcp_dpdk_port *p)
{
	return p->offloads;
}

bool ftcp_dpdk_zero_copy(const struct ftcp_dpdk_port *p)
{
	return p->multiseg;
}

bool ftcp_dpdk_link_up(const struct ftcp_dpdk_port *p)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	return rte_eth_link_get_nowait(p->port_id, &link) == 0 && link.link_status;
}

void ftcp_dpdk_stats(const struct ftcp_dpdk_port *p, struct ftcp_dpdk_stats *out)
{
	struct rte_eth_stats st;

	memset(out, 0, sizeof(*out));
	if (rte_eth_stats_get(p->port_id, &st) == 0) {
		out->rx_packets = st.ipackets;
		out->rx_bytes = st.ibytes;
		out->tx_packets = st.opackets;
		out->tx_bytes = st.obytes;
		out->rx_missed = st.imissed;
		out->rx_nombuf = st.rx_nombuf;
		out->rx_errors = st.ierrors;
		out->tx_errors = st.oerrors;
	}
	out->tx_refused = p->tx_refused;
	out->tx_nombuf = p->tx_nombuf;
	out->rx_scattered = p->rx_scattered;
}
