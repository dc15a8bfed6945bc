/*
 * ftcp_memlink.c — in-memory Ethernet segment (see ftcp_memlink.h).
 * Receive records are a struct rx_rec followed by the frame.
 */
#include "ftcp_memlink.h"
#include "base/ftcp_cksum.h"
#include "ftcp/ftcp_errno.h"
#include "wire/ftcp_wire.h"
#include "wire/ftcp_wire_tcp.h"

/* Room for the Ethernet, IPv4 and TCP headers of a TSO frame, options
 * included (14 + 60 + 60). */
#define TSO_HDR_MAX 136

struct rx_rec {
	uint32_t len;
	uint32_t flags;
};

/* Verify checksums as a NIC would and report it in the frame flags. Kept
 * out of line so a profile tells this hardware work from the switch. */
static FTCP_NOINLINE uint32_t rx_verify(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + FTCP_ETH_HLEN, *l4;
	uint32_t hl, total, flags = 0, sum;
	uint8_t proto;

	if (len < FTCP_ETH_HLEN + FTCP_IPV4_HLEN || ftcp_get_be16(f + 12) != FTCP_ETHERTYPE_IPV4 ||
	    (ip[0] >> 4) != 4)
		return 0;
	hl = (uint32_t)(ip[0] & 0xf) * 4;
	total = ftcp_get_be16(ip + 2);
	if (hl < FTCP_IPV4_HLEN || total < hl || FTCP_ETH_HLEN + total > len)
		return 0; /* malformed: leave it to the stack */
	flags |= ftcp_cksum_fold(ftcp_cksum_add(0, ip, hl)) == 0xffff ? FTCP_RX_IP_CKSUM_GOOD
	                                                               : FTCP_RX_IP_CKSUM_BAD;
	proto = ip[9];
	if ((proto != FTCP_IP_PROTO_UDP && proto != FTCP_IP_PROTO_TCP) ||
	    (ftcp_get_be16(ip + 6) & (FTCP_IPV4_MF | FTCP_IPV4_FRAG_MASK)))
		return flags;
	l4 = ip + hl;
	if (proto == FTCP_IP_PROTO_UDP && total - hl >= 8 && ftcp_get_be16(l4 + 6) == 0)
		return flags; /* no checksum sent */
	sum = ftcp_cksum_pseudo(ftcp_get_be32(ip + 12), ftcp_get_be32(ip + 16), proto, total - hl);
	sum = ftcp_cksum_add(sum, l4, total - hl);
	flags |= ftcp_cksum_fold(sum) == 0xffff ? FTCP_RX_L4_CKSUM_GOOD : FTCP_RX_L4_CKSUM_BAD;
	return flags;
}

static void deliver(struct ftcp_memlink_port *to, const struct ftcp_tx_frame *fr,
                    const uint8_t *raw, uint32_t raw_len)
{
	uint32_t len = raw ? raw_len : ftcp_tx_frame_len(fr);
	struct rx_rec *r = ftcp_fifo_reserve(&to->rxq, (uint32_t)sizeof(*r) + len);
	uint8_t *f;

	if (!r) {
		to->stats.rx_dropped++;
		return;
	}
	f = (uint8_t *)(r + 1);
	if (raw) {
		ftcp_memcpy(f, raw, len);
	} else {
		ftcp_tx_frame_copy(fr, f);
		if (fr->flags)
			ftcp_wire_complete_cksums(f, len, fr->flags, fr->l2_len, fr->l3_len);
	}
	r->len = len;
	r->flags = (to->dev.caps & FTCP_DEV_RX_CKSUM) ? rx_verify(f, len) : 0;
	ftcp_fifo_commit(&to->rxq, (uint32_t)sizeof(*r) + len);
	to->stats.rx_frames++;
	to->stats.rx_bytes += len;
}

/* Send one frame from port `from` (NULL: injected). */
static void switch_frame(struct ftcp_memlink *l, const struct ftcp_memlink_port *from,
                         const struct ftcp_tx_frame *fr, const uint8_t *raw, uint32_t raw_len)
{
	const uint8_t *hdr = raw ? raw : fr->hdr;
	uint32_t hdr_len = raw ? raw_len : fr->hdr_len, i;
	struct ftcp_mac dst;
	bool delivered = false;

	if (hdr_len < FTCP_ETH_ALEN)
		return;
	ftcp_memcpy(dst.b, hdr, FTCP_ETH_ALEN);
	for (i = 0; i < l->nports; i++) {
		struct ftcp_memlink_port *p = l->ports[i];
		if (p == from)
			continue;
		if (ftcp_mac_is_multicast(&dst) || ftcp_mac_eq(&dst, &p->dev.mac)) {
			deliver(p, fr, raw, raw_len);
			delivered = true;
		}
	}
	if (!delivered && from && !ftcp_mac_is_multicast(&dst))
		((struct ftcp_memlink_port *)from)->stats.tx_unknown_dst++;
}

/* Bytes [off, off + len) of a frame's payload pieces as the pieces of seg. */
static void payload_range(const struct ftcp_tx_frame *f, uint32_t off, uint32_t len,
                          struct ftcp_tx_frame *seg)
{
	seg->payload = seg->payload2 = NULL;
	seg->payload_len = seg->payload2_len = 0;
	if (off < f->payload_len) {
		seg->payload = f->payload + off;
		seg->payload_len = FTCP_MIN(len, f->payload_len - off);
		if (seg->payload_len < len) {
			seg->payload2 = f->payload2;
			seg->payload2_len = len - seg->payload_len;
		}
	} else {
		seg->payload = f->payload2 + (off - f->payload_len);
		seg->payload_len = len;
	}
}

/* Segment a TSO frame the way a NIC does (see ftcp_memlink.h). The frame
 * comes from a stack under test, so the request is checked first: a NIC
 * handed nonsense would not send it either. */
static void tx_tso(struct ftcp_memlink_port *p, const struct ftcp_tx_frame *f)
{
	uint8_t hdr[TSO_HDR_MAX], *ip, *tcp, flags;
	uint32_t hlen = f->hdr_len, l4 = f->l4_len, segsz = f->tso_segsz;
	uint32_t total = f->payload_len + f->payload2_len, off, n, seq, seed;
	uint16_t id;

	if (!(p->dev.caps & FTCP_DEV_TX_TSO) || !(f->flags & FTCP_TX_TCP_CKSUM) || !segsz ||
	    f->l2_len != FTCP_ETH_HLEN || f->l3_len < FTCP_IPV4_HLEN || l4 < FTCP_TCP_HLEN ||
	    hlen != (uint32_t)f->l2_len + f->l3_len + l4 || hlen > sizeof(hdr) || !total ||
	    (f->payload2_len && !f->payload_len)) {
		p->stats.tx_tso_bad++;
		return;
	}
	ftcp_memcpy(hdr, f->hdr, hlen);
	ip = hdr + f->l2_len;
	tcp = ip + f->l3_len;
	if (ftcp_get_be16(hdr + 12) != FTCP_ETHERTYPE_IPV4 || ip[0] != (0x40 | f->l3_len / 4) ||
	    ip[9] != FTCP_IP_PROTO_TCP || (uint32_t)(tcp[12] >> 4) * 4 != l4) {
		p->stats.tx_tso_bad++;
		return;
	}
	if (hlen + segsz > FTCP_ETH_HLEN + p->dev.mtu) {
		p->stats.tx_too_big++;
		return;
	}
	id = ftcp_get_be16(ip + 4);
	seq = ftcp_get_be32(tcp + 4);
	flags = tcp[13];
	seed = ftcp_get_be16(tcp + 16);
	for (off = 0; off < total; off += n) {
		struct ftcp_tx_frame seg = *f;
		uint8_t mask = 0xff;

		n = FTCP_MIN(segsz, total - off);
		if (off + n < total)
			mask &= (uint8_t)~(FTCP_TCP_FIN | FTCP_TCP_PSH | FTCP_TCP_RST);
		if (off)
			mask &= (uint8_t)~FTCP_TCP_CWR;
		ftcp_put_be16(ip + 2, (uint16_t)(f->l3_len + l4 + n));
		ftcp_put_be16(ip + 4, id++);
		ftcp_put_be32(tcp + 4, seq + off);
		tcp[13] = flags & mask;
		/* What the hardware sums: the seed plus this segment's length;
		 * a seed that already holds a length comes out wrong. */
		ftcp_put_be16(tcp + 16, ftcp_cksum_fold(seed + l4 + n));
		seg.hdr = hdr;
		seg.flags = FTCP_TX_IP_CKSUM | FTCP_TX_TCP_CKSUM;
		seg.tso_segsz = 0;
		payload_range(f, off, n, &seg);
		p->stats.tx_frames++;
		p->stats.tx_bytes += hlen + n;
		switch_frame(p->link, p, &seg, NULL, 0);
	}
	p->stats.tx_tso_frames++;
}

static uint16_t ml_tx_burst(struct ftcp_device *dev, const struct ftcp_tx_frame *f,
                            uint16_t n, uint64_t now_us)
{
	struct ftcp_memlink_port *p = (struct ftcp_memlink_port *)dev;
	uint16_t i;

	FTCP_UNUSED(now_us);
	for (i = 0; i < n; i++) {
		uint32_t len = ftcp_tx_frame_len(&f[i]);
		if (p->tx_hook)
			p->tx_hook(p->tx_hook_user, &f[i]);
		if (f[i].flags & FTCP_TX_TSO)
			tx_tso(p, &f[i]);
		else if (len > FTCP_ETH_HLEN + p->dev.mtu)
			p->stats.tx_too_big++;
		else {
			p->stats.tx_frames++;
			p->stats.tx_bytes += len;
			switch_frame(p->link, p, &f[i], NULL, 0);
		}
		if (f[i].pin) /* we copied: the payload is free again */
			ftcp_txpin_release(f[i].pin);
	}
	return n;
}

static uint16_t ml_rx_burst(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n,
                            uint64_t now_us)
{
	struct ftcp_memlink_port *p = (struct ftcp_memlink_port *)dev;
	uint32_t cursor = p->rxq.tail;
	uint16_t got = 0;
	struct rx_rec *r;

	FTCP_UNUSED(now_us);
	while (got < n && (r = ftcp_fifo_peek_at(&p->rxq, &cursor, NULL))) {
		f[got].data = (const uint8_t *)(r + 1);
		f[got].len = r->len;
		f[got].flags = r->flags;
		f[got].cookie = NULL;
		got++;
	}
	return got;
}

static void ml_rx_release(struct ftcp_device *dev, struct ftcp_rx_frame *f, uint16_t n)
{
	struct ftcp_memlink_port *p = (struct ftcp_memlink_port *)dev;

	FTCP_UNUSED(f);
	/* Frames are released in the order rx_burst returned them. */
	while (n--)
		ftcp_fifo_pop(&p->rxq);
}

static const struct ftcp_device_ops memlink_ops = {
	.rx_burst = ml_rx_burst,
	.rx_release = ml_rx_release,
	.tx_burst = ml_tx_burst,
};

void ftcp_memlink_init(struct ftcp_memlink *l)
{
	ftcp_memset(l, 0, sizeof(*l));
}

int ftcp_memlink_attach(struct ftcp_memlink *l, struct ftcp_memlink_port *p,
                        const struct ftcp_mac *mac, uint32_t mtu, uint32_t caps,
                        void *rx_mem, uint32_t rx_mem_size)
{
	int rc;

	if (l->nports == FTCP_MEMLINK_MAX_PORTS)
		return -FTCP_ENOBUFS;
	ftcp_memset(p, 0, sizeof(*p));
	rc = ftcp_fifo_init(&p->rxq, rx_mem, rx_mem_size);
	if (rc < 0)
		return rc;
	p->dev.ops = &memlink_ops;
	p->dev.mac = *mac;
	p->dev.mtu = mtu;
	p->dev.caps = caps & (FTCP_DEV_TX_IPV4_CKSUM | FTCP_DEV_TX_UDP_CKSUM |
	                      FTCP_DEV_TX_TCP_CKSUM | FTCP_DEV_RX_CKSUM);
	if (caps & FTCP_MEMLINK_TSO) /* segmenting means summing each segment */
		p->dev.caps |= FTCP_DEV_TX_TSO | FTCP_DEV_TX_TCP_CKSUM;
	p->link = l;
	l->ports[l->nports++] = p;
	return 0;
}

int ftcp_memlink_inject(struct ftcp_memlink *l, const uint8_t *frame, uint32_t len)
{
	if (!frame || len < FTCP_ETH_HLEN)
		return -FTCP_EINVAL;
	switch_frame(l, NULL, NULL, frame, len);
	return 0;
}

uint32_t ftcp_memlink_pending(const struct ftcp_memlink_port *p)
{
	return p->rxq.count;
}
