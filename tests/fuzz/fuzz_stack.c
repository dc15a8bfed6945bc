/*
 * fuzz_stack.c — libFuzzer target: arbitrary frames and application calls
 * against a stack that holds sockets in every interesting state.
 *
 * The world: stack A (10.0.0.1, the main target) and stack B (10.0.0.2) on
 * an in-memory link, plus a raw port P (10.0.0.3) whose frames the fuzzer
 * writes. Set up once, then snapshotted; every input starts from the
 * snapshot (a byte copy of all state at the same addresses), so a run is a
 * pure function of its input. The snapshot holds, on A:
 *   slot 0  UDP bound to :7
 *   slot 1  listener :80 (backlog 4) whose SYN queue is full (SYN cookies
 *           answer new SYNs), one established connection in its accept
 *           queue (P:1002, with unread data)
 *   slot 2  listener :81 (backlog 2), empty
 *   slot 3  accepted from B, data in flight both ways, keepalive on
 *   slot 4  connected to B:5000, data in flight both ways, Nagle off
 *   slot 5  accepted from P:1001: SACK/TS/wscale, unread data, unacked data
 *   slot 6  P:1004 in CLOSE_WAIT
 *   slot 7  P:1005 in FIN_WAIT_1
 *   slot 8  P:1006 in FIN_WAIT_2
 *   slot 9  SYN_SENT to P:23 (P never answers by itself)
 *   slot 10 SYN_SENT to 10.0.0.9, whose ARP nobody answers
 *   slot 11 accepted from P:1009: no options (no SACK), NewReno, unacked data
 *   (no slot) P:1008 closed by the application, in TIME_WAIT;
 *             P:1003 and P:1007 half-open (SYN_RECEIVED) children of :80
 * and on B (slots 16-23): UDP :7, a server on :5000 that accepts, reads
 * everything and closes at end of stream, and the peer ends of slots 3/4.
 * B's port emulates checksum offload (TX and RX), A's does not. Slots 12-15
 * and 20-23 start empty, for sockets the input opens or accepts.
 *
 * An input is a sequence of commands (first byte of each selects it):
 * raw frames, frames built from templates aimed at a live connection (ports,
 * sequence and acknowledgment numbers near the connection's current values,
 * options, checksums recomputed unless a flag says not to) then patched by
 * the input, UDP/ICMP/ARP templates, clock jumps, polls, and application
 * calls (send, recv, shutdown, close, abort, options, accept, connect,
 * listen, ping). P answers ARP for 10.0.0.3 and remembers the last SYN-ACK
 * it saw so a template can complete a handshake (or a SYN cookie).
 *
 * After every command, and once the stacks settle at the end, invariants are
 * checked (abort on violation): pool accounting, no leaked socket or buffer,
 * listener queues, demultiplexing, per-connection sequence-space and queue
 * invariants, SACK scoreboard and reassembly ranges, timers that must be
 * armed, ARP cache. For one input in eight (every input in the replay
 * runner), a fresh TCP connection between A and B must still open and carry
 * data both ways, and the stacks must not stay busy on every poll (an ACK
 * storm between two ends out of step is a failure, not just a slow input).
 *
 * Input encoding (tests/fuzz/make_corpus.py writes seeds in it; multi-byte
 * numbers big-endian; a command cut short by the end of the input reads
 * zeros). Command byte c, by c % 14:
 *   0      raw frame: len:16 bytes
 *   1      IPv4/ARP behind an Ethernet header: len:16 fl bytes (fl: 1 to B,
 *          2 broadcast, 4 ARP type, 0x80 keep checksums)
 *   2-4    TCP template: tsel x flags mode seqd:16 ackd:16 win:16 plen om
 *          [mss:16 if om&1] [ws if om&2] [tsdelta tsecr_back if om&8]
 *          [n (off:16 len:16)*n if om&16] [n rawopt if om&32] [n ipopt if
 *          om&64] [payload if mode&0x40] npatch (off:16 val)*npatch
 *          tsel: tcp_target() (tsel % 17); mode: &3 seq base (rcv_nxt, rcv_adv,
 *          rcv_nxt-1, irs), >>2&3 ack base (snd_una, snd_nxt, snd_max, iss),
 *          0x10 deltas x64, 0x20 inject twice, 0x40 payload from input,
 *          0x80 poll after; plen < 128 bytes, else (plen-128)*16;
 *          om 0x80 keep checksums (after the patches)
 *   5      UDP: sel plen fl sport:16 [dport:16 if sel%6==5] [data if fl&1]
 *          npatch (off:16 val)*
 *   6      ICMP: type code sel qlen fl [ident:16 seq:16 if type%4==0]
 *          [mtu:16 if type%4 is 1 or 2 and type&8] npatch (off:16 val)*
 *   7      ARP: op spa sha tpa dst [n if op&0xc0] npatch (off:16 val)*
 *   8      clock: e m (advance (m+1) << (e%26) us, then poll)
 *   9      poll: n (n%16+1 steps of 1 us)
 *   10     b: settle (b&1) or jump to the next timer
 *   11-13  application call: slot act arg [...] (op_app())
 *
 * This is test code: it uses the core's internal headers to read the state
 * it checks, and it allocates (once) with the C library.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftcp/ftcp.h"
#include "base/ftcp_cksum.h"
#include "dev/ftcp_memlink.h"
#include "stack/ftcp_stack_internal.h"
#include "wire/ftcp_wire.h"
#include "wire/ftcp_wire_tcp.h"

#include "fuzz_stack.h"

int fuzz_stack_always_check_liveness;

#define IP4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define IP_A IP4(10, 0, 0, 1)
#define IP_B IP4(10, 0, 0, 2)
#define IP_P IP4(10, 0, 0, 3)
#define IP_X IP4(10, 0, 0, 9) /* nobody answers ARP for it */
#define PORT_FIFO (1u << 16)
#define T0 1000000ull
#define LIVE_PORT 7777
#define MAX_OPS 512
#define MAX_FUZZ_OPENS 4
#define FRAME_MAX 2400

enum { NSLOTS = 24, NSLOTS_A = 16, NAUTO = 8 };
enum { SLOT_B_LISTENER = 17 };
enum { NTARGETS = 17 }; /* tcp_target() */

#define FAIL(...)                                                  \
	do {                                                       \
		fprintf(stderr, "fuzz_stack: invariant violated at %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                      \
		fputc('\n', stderr);                               \
		abort();                                           \
	} while (0)
#define CHECK(cond, what)                                                   \
	do {                                                                \
		if (!(cond))                                                \
			FAIL("%s (%s)", what, #cond);                       \
	} while (0)

struct synack {
	bool valid;
	uint8_t from;       /* 0: A, 1: B */
	uint32_t peer_ip;   /* where it went */
	uint16_t sport, dport; /* as sent: the stack's port, the peer's port */
	uint32_t seq, ack;
	bool ts;
	uint32_t tsval;
};

struct world {
	struct ftcp_memlink link;
	struct ftcp_memlink_port pa, pb, pp;
	struct ftcp_stack *a, *b;
	uint64_t now;
	ftcp_sock_t slot[NSLOTS];
	ftcp_sock_t b_auto[NAUTO];
	uint16_t b_port_to_a80, a_port_to_b, a_port_to_p23;
	struct synack synack;
	unsigned opens;
	uint64_t b_bytes_read;
};

static struct world W, W_snap;
static uint8_t *mem_a, *mem_b, *snap_a, *snap_b;
static size_t len_a, len_b;
static uint8_t *fifo_mem[3];
static uint8_t scratch[8192];

static const struct ftcp_mac MAC_A = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct ftcp_mac MAC_B = {{0x02, 0, 0, 0, 0, 0x02}};
static const struct ftcp_mac MAC_P = {{0x02, 0, 0, 0, 0, 0xf0}};
static const struct ftcp_mac MAC_BCAST = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

static void *xalloc(size_t n)
{
	size_t len = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, len ? len : 64);
	if (!p) {
		fprintf(stderr, "fuzz_stack: out of memory\n");
		abort();
	}
	memset(p, 0, len);
	return p;
}

/* ---- input reader ---- */

struct rd {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct rd *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static uint16_t u16(struct rd *r)
{
	uint16_t hi = u8(r);
	return (uint16_t)(hi << 8 | u8(r));
}

/* Up to n bytes of the input; *got says how many. */
static const uint8_t *take(struct rd *r, size_t n, uint32_t *got)
{
	const uint8_t *p = r->p;
	if (n > r->n)
		n = r->n;
	r->p += n;
	r->n -= n;
	*got = (uint32_t)n;
	return p;
}

/* ---- frames ---- */

/* Recompute the IPv4 header checksum and the TCP/UDP/ICMP checksum of a
 * frame, as far as its (possibly patched) headers make sense. */
static void fix_cksums(uint8_t *f, uint32_t len)
{
	uint8_t *ip = f + FTCP_ETH_HLEN, *l4;
	uint32_t hl, total, l4len, sum;
	uint8_t proto;

	if (len < FTCP_ETH_HLEN + FTCP_IPV4_HLEN || ftcp_get_be16(f + 12) != FTCP_ETHERTYPE_IPV4)
		return;
	hl = (uint32_t)(ip[0] & 0xf) * 4;
	if (hl < FTCP_IPV4_HLEN || FTCP_ETH_HLEN + hl > len)
		return;
	ftcp_put_be16(ip + 10, 0);
	ftcp_put_be16(ip + 10, ftcp_cksum_finish(ftcp_cksum_add(0, ip, hl)));
	total = ftcp_get_be16(ip + 2);
	if (total < hl || FTCP_ETH_HLEN + total > len)
		return;
	if (ftcp_get_be16(ip + 6) & FTCP_IPV4_FRAG_MASK)
		return; /* a later fragment: no L4 header */
	l4 = ip + hl;
	l4len = total - hl;
	proto = ip[9];
	if (proto == FTCP_IP_PROTO_TCP && l4len >= FTCP_TCP_HLEN) {
		ftcp_put_be16(l4 + 16, 0);
		sum = ftcp_cksum_pseudo(ftcp_get_be32(ip + 12), ftcp_get_be32(ip + 16), proto, l4len);
		ftcp_put_be16(l4 + 16, ftcp_cksum_finish(ftcp_cksum_add(sum, l4, l4len)));
	} else if (proto == FTCP_IP_PROTO_UDP && l4len >= FTCP_UDP_HLEN) {
		uint16_t c;
		if (ftcp_get_be16(l4 + 6) == 0)
			return; /* no checksum sent: keep it that way */
		ftcp_put_be16(l4 + 6, 0);
		sum = ftcp_cksum_pseudo(ftcp_get_be32(ip + 12), ftcp_get_be32(ip + 16), proto, l4len);
		c = ftcp_cksum_finish(ftcp_cksum_add(sum, l4, l4len));
		ftcp_put_be16(l4 + 6, c ? c : 0xffff);
	} else if (proto == FTCP_IP_PROTO_ICMP && l4len >= 4) {
		ftcp_put_be16(l4 + 2, 0);
		ftcp_put_be16(l4 + 2, ftcp_cksum_finish(ftcp_cksum_add(0, l4, l4len)));
	}
}

static uint32_t put_eth(uint8_t *f, const struct ftcp_mac *dst, const struct ftcp_mac *src,
                        uint16_t type)
{
	memcpy(f, dst->b, 6);
	memcpy(f + 6, src->b, 6);
	ftcp_put_be16(f + 12, type);
	return FTCP_ETH_HLEN;
}

/* IPv4 header with up to 40 option bytes at f; returns its length. */
static uint32_t put_ip(uint8_t *f, uint32_t sip, uint32_t dip, uint8_t proto,
                       const uint8_t *opt, uint32_t optlen, uint32_t l4len)
{
	uint32_t hl;

	if (optlen > 40)
		optlen = 40;
	hl = FTCP_IPV4_HLEN + ((optlen + 3) & ~3u);
	memset(f, 0, hl);
	f[0] = (uint8_t)(0x40 | hl / 4);
	ftcp_put_be16(f + 2, (uint16_t)(hl + l4len));
	ftcp_put_be16(f + 4, 0x4242);
	ftcp_put_be16(f + 6, FTCP_IPV4_DF);
	f[8] = 64;
	f[9] = proto;
	ftcp_put_be32(f + 12, sip);
	ftcp_put_be32(f + 16, dip);
	if (optlen)
		memcpy(f + FTCP_IPV4_HLEN, opt, optlen);
	return hl;
}

/* A TCP segment to build. */
struct tcpf {
	int to;                   /* 0: A, 1: B */
	struct ftcp_mac smac;
	uint32_t sip, dip;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	bool mss, ws, sack_ok, ts;
	uint16_t mss_val;
	uint8_t ws_val;
	uint32_t ts_val, ts_ecr;
	uint8_t n_sack;
	struct ftcp_tcp_sack_block sack[4];
	const uint8_t *raw_opt;
	uint32_t raw_opt_len;
	const uint8_t *ip_opt;
	uint32_t ip_opt_len;
	const uint8_t *payload;   /* NULL: a pattern */
	uint32_t plen;
};

static uint32_t build_tcp(uint8_t *f, const struct tcpf *t)
{
	uint8_t opt[64], *o = opt, *tcp;
	uint32_t olen, off, i, plen = t->plen;

	if (t->mss) {
		*o++ = 2;
		*o++ = 4;
		ftcp_put_be16(o, t->mss_val);
		o += 2;
	}
	if (t->ws) {
		*o++ = 1;
		*o++ = 3;
		*o++ = 3;
		*o++ = t->ws_val;
	}
	if (t->sack_ok) {
		*o++ = 1;
		*o++ = 1;
		*o++ = 4;
		*o++ = 2;
	}
	if (t->ts) {
		*o++ = 1;
		*o++ = 1;
		*o++ = 8;
		*o++ = 10;
		ftcp_put_be32(o, t->ts_val);
		ftcp_put_be32(o + 4, t->ts_ecr);
		o += 8;
	}
	if (t->n_sack && (uint32_t)(o - opt) + 2 + 8u * t->n_sack <= 40) {
		*o++ = 1;
		*o++ = 1;
		*o++ = 5;
		*o++ = (uint8_t)(2 + 8 * t->n_sack);
		for (i = 0; i < t->n_sack; i++) {
			ftcp_put_be32(o, t->sack[i].start);
			ftcp_put_be32(o + 4, t->sack[i].end);
			o += 8;
		}
	}
	olen = (uint32_t)(o - opt);
	if (t->raw_opt_len) {
		uint32_t n = FTCP_MIN(t->raw_opt_len, 40 - FTCP_MIN(olen, 40u));
		memcpy(o, t->raw_opt, n);
		olen += n;
	}
	olen = FTCP_MIN(olen, 40u);
	while (olen & 3)
		opt[olen++] = 0;
	if (plen > 1600)
		plen = 1600;

	off = put_eth(f, t->to ? &MAC_B : &MAC_A, &t->smac, FTCP_ETHERTYPE_IPV4);
	off += put_ip(f + off, t->sip, t->dip, FTCP_IP_PROTO_TCP, t->ip_opt, t->ip_opt_len,
	              FTCP_TCP_HLEN + olen + plen);
	tcp = f + off;
	memset(tcp, 0, FTCP_TCP_HLEN);
	ftcp_put_be16(tcp, t->sport);
	ftcp_put_be16(tcp + 2, t->dport);
	ftcp_put_be32(tcp + 4, t->seq);
	ftcp_put_be32(tcp + 8, t->ack);
	tcp[12] = (uint8_t)((FTCP_TCP_HLEN + olen) / 4 << 4);
	tcp[13] = t->flags;
	ftcp_put_be16(tcp + 14, t->win);
	memcpy(tcp + FTCP_TCP_HLEN, opt, olen);
	off += FTCP_TCP_HLEN + olen;
	for (i = 0; i < plen; i++)
		f[off + i] = t->payload ? t->payload[i] : (uint8_t)(i * 7 + 1);
	off += plen;
	fix_cksums(f, off);
	return off;
}

static void inject(const uint8_t *f, uint32_t len)
{
	if (len >= FTCP_ETH_HLEN)
		(void)ftcp_memlink_inject(&W.link, f, len);
}

/* ---- the peer port P ---- */

static void p_frame(const uint8_t *f, uint32_t len)
{
	uint16_t type;

	if (len < FTCP_ETH_HLEN || !memcmp(f + 6, MAC_P.b, 6))
		return; /* our own injected broadcast */
	type = ftcp_get_be16(f + 12);
	if (type == FTCP_ETHERTYPE_ARP) {
		struct ftcp_arp_repr a, r;
		struct ftcp_eth_repr e;
		uint8_t out[64];
		if (ftcp_arp_parse(f + FTCP_ETH_HLEN, len - FTCP_ETH_HLEN, &a) < 0 ||
		    a.op != FTCP_ARP_REQUEST || a.tpa != IP_P || (a.sha.b[0] & 1))
			return;
		e.dst = a.sha;
		e.src = MAC_P;
		e.type = FTCP_ETHERTYPE_ARP;
		r.op = FTCP_ARP_REPLY;
		r.sha = MAC_P;
		r.spa = IP_P;
		r.tha = a.sha;
		r.tpa = a.spa;
		ftcp_eth_emit(&e, out);
		ftcp_arp_emit(&r, out + FTCP_ETH_HLEN);
		inject(out, FTCP_ETH_HLEN + FTCP_ARP_LEN);
	} else if (type == FTCP_ETHERTYPE_IPV4) {
		struct ftcp_ipv4_repr ip;
		struct ftcp_tcp_repr seg;
		int hl = ftcp_ipv4_parse(f + FTCP_ETH_HLEN, len - FTCP_ETH_HLEN, false, &ip);
		if (hl < 0 || ip.proto != FTCP_IP_PROTO_TCP ||
		    ftcp_tcp_parse(f + FTCP_ETH_HLEN + hl, ip.total_len - (uint32_t)hl, ip.src, ip.dst,
		                   false, &seg) < 0)
			return;
		if ((seg.flags & (FTCP_TCP_SYN | FTCP_TCP_ACK)) == (FTCP_TCP_SYN | FTCP_TCP_ACK) &&
		    (ip.src == IP_A || ip.src == IP_B)) {
			W.synack.valid = true;
			W.synack.from = ip.src == IP_B;
			W.synack.peer_ip = ip.dst;
			W.synack.sport = seg.src_port;
			W.synack.dport = seg.dst_port;
			W.synack.seq = seg.seq;
			W.synack.ack = seg.ack;
			W.synack.ts = seg.opt.has_ts;
			W.synack.tsval = seg.opt.ts_val;
		}
	}
}

static int p_rx(void)
{
	struct ftcp_rx_frame fr;
	int n = 0;

	while (W.pp.dev.ops->rx_burst(&W.pp.dev, &fr, 1, W.now) == 1) {
		p_frame(fr.data, fr.len);
		W.pp.dev.ops->rx_release(&W.pp.dev, &fr, 1);
		n++;
	}
	return n;
}

/* One step: the clock moves 1 us, both stacks poll, P answers. */
static int pump(void)
{
	int work = 0;

	W.now += 1;
	work += ftcp_stack_poll(W.a, W.now);
	work += ftcp_stack_poll(W.b, W.now);
	work += p_rx();
	return work;
}

static void settle(void)
{
	int i;
	for (i = 0; i < 256 && (pump() || ftcp_memlink_pending(&W.pa) ||
	                        ftcp_memlink_pending(&W.pb) || ftcp_memlink_pending(&W.pp));
	     i++)
		;
}

static uint64_t next_event(void)
{
	uint64_t a, b;

	if (ftcp_memlink_pending(&W.pa) || ftcp_memlink_pending(&W.pb) ||
	    ftcp_memlink_pending(&W.pp))
		return W.now;
	a = ftcp_stack_next_deadline(W.a);
	b = ftcp_stack_next_deadline(W.b);
	return a < b ? a : b;
}

/* Event-driven: poll while there is work, else jump to the next timer.
 * Stops when pred() holds (true) or max_us passes (false). */
static bool run_until(bool (*pred)(void), uint64_t max_us)
{
	uint64_t end = W.now + max_us;
	unsigned busy = 0;
	int work = 1;

	for (;;) {
		if (pred && pred())
			return true;
		if (W.now >= end)
			return false;
		if (!work) {
			uint64_t next = next_event();
			if (next > W.now + 1)
				W.now = (next < end ? next : end) - 1;
		}
		work = pump();
		/* Nothing here keeps two stacks busy for long: frames that
		 * never stop (an ACK storm) or a poll that always has work. */
		busy = work ? busy + 1 : 0;
		if (busy > 200000)
			FAIL("livelock: the stacks were busy on every poll for 200000 polls");
	}
}

/* ---- application side ---- */

static struct ftcp_stack *slot_stack(unsigned i)
{
	return i < NSLOTS_A ? W.a : W.b;
}

static void forget_b(ftcp_sock_t h)
{
	unsigned i;
	for (i = NSLOTS_A; i < NSLOTS; i++)
		if (W.slot[i] == h)
			W.slot[i] = -1;
	for (i = 0; i < NAUTO; i++)
		if (W.b_auto[i] == h)
			W.b_auto[i] = -1;
}

/* B's application: a server that accepts, reads everything and closes at
 * end of stream or on error; UDP datagrams are read and dropped. */
static void cb_b(struct ftcp_stack *s, ftcp_sock_t h, uint32_t ev, void *user);

static void b_accept_all(struct ftcp_stack *s, ftcp_sock_t l)
{
	ftcp_sock_t c;
	unsigned i;

	while ((c = ftcp_accept(s, l, cb_b, NULL, NULL)) >= 0) {
		for (i = 0; i < NAUTO && W.b_auto[i] >= 0; i++)
			;
		if (i == NAUTO) {
			ftcp_close(s, c);
			continue;
		}
		W.b_auto[i] = c;
		cb_b(s, c, FTCP_EV_READABLE, NULL);
	}
}

static void cb_b(struct ftcp_stack *s, ftcp_sock_t h, uint32_t ev, void *user)
{
	struct ftcp_sockaddr from;
	struct ftcp_tcp_info ti;
	uint32_t fl, full;
	int rc;

	(void)user;
	if (ftcp_tcp_info(s, h, &ti) < 0) { /* UDP */
		while (ftcp_recvfrom(s, h, scratch, sizeof(scratch), 0, &from, &fl, &full) >= 0)
			;
		return;
	}
	if (ti.state == FTCP_TCP_LISTEN) {
		b_accept_all(s, h);
		return;
	}
	if (ev & (FTCP_EV_READABLE | FTCP_EV_CLOSED | FTCP_EV_ERROR)) {
		while ((rc = ftcp_recv(s, h, scratch, sizeof(scratch), 0)) > 0)
			W.b_bytes_read += (uint64_t)rc;
		if (rc == 0 || (rc < 0 && rc != -FTCP_EAGAIN)) {
			ftcp_close(s, h);
			forget_b(h);
		}
	}
}

static void echo_cb(struct ftcp_stack *s, uint32_t from, uint16_t ident, uint16_t seq,
                    const uint8_t *data, uint32_t len, void *user)
{
	(void)s, (void)from, (void)ident, (void)seq, (void)data, (void)len, (void)user;
}

/* ---- state access ---- */

static int32_t conn_idx(struct ftcp_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
                        uint16_t rport)
{
	return ftcp_demux_conn_lookup(s, FTCP_IP_PROTO_TCP, laddr, lport, raddr, rport);
}

static struct ftcp_tcb *conn_tcb(struct ftcp_stack *s, uint32_t laddr, uint16_t lport,
                                 uint32_t raddr, uint16_t rport)
{
	int32_t idx = conn_idx(s, laddr, lport, raddr, rport);
	return idx >= 0 ? &ftcp_sock_at(s, idx)->tcb : NULL;
}

static uint16_t local_port(struct ftcp_stack *s, ftcp_sock_t h)
{
	struct ftcp_sockaddr a = {0, 0};
	(void)ftcp_getsockname(s, h, &a);
	return a.port;
}

/* ---- setup ---- */

static void config(struct ftcp_config *c, uint32_t ip, bool big)
{
	/* A (big) is the main target; B a peer with offload. */
	ftcp_config_defaults(c);
	c->ip_addr = ip;
	c->prefix_len = 24;
	c->secret = 0x5eedf022c0ffee00ull ^ ip;
	c->max_sockets = big ? 48 : 32;
	c->rx_buffers = big ? 40 : 24;
	c->rx_buffer_size = 4096;
	c->tx_buffers = big ? 40 : 24;
	c->tx_buffer_size = 4096;
	c->tx_fifo_size = 16384;
	c->arp_hold_frames = 8;
	c->arp_hold_per_neighbour = 2;
	c->arp_cache_size = 8;
	c->arp_reachable_us = 5000000;
	c->arp_retry_us = 200000;
	c->arp_retries = 3;
	c->demux_buckets = 16;
	c->tcp_rto_min_us = 50000;
	c->tcp_rto_init_us = 200000;
	c->tcp_rto_max_us = 2000000;
	c->tcp_syn_retries = 4;
	c->tcp_retries = 6;
	c->tcp_msl_us = 1000000;
	c->tcp_fin_wait2_us = 2000000;
	c->tcp_syn_backlog = 2;
	if (big)
		c->tcp_challenge_ack_limit = 10;
}

static struct ftcp_stack *start_stack(struct ftcp_memlink_port *port, const struct ftcp_mac *mac,
                                      uint32_t ip, bool big, uint8_t **mem, size_t *len,
                                      uint8_t *fifo)
{
	struct ftcp_config c;
	struct ftcp_stack *s = NULL;
	const char *why = NULL;
	int rc;

	config(&c, ip, big);
	if (ftcp_memlink_attach(&W.link, port, mac, c.mtu,
	                        big ? 0
	                            : FTCP_DEV_TX_IPV4_CKSUM | FTCP_DEV_TX_UDP_CKSUM |
	                                  FTCP_DEV_TX_TCP_CKSUM | FTCP_DEV_RX_CKSUM,
	                        fifo, PORT_FIFO) < 0)
		FAIL("memlink attach");
	*len = ftcp_stack_memory_size(&c);
	if (!*len)
		FAIL("bad config");
	*mem = xalloc(*len);
	rc = ftcp_stack_init(&s, &c, &port->dev, *mem, *len, W.now, &why);
	if (rc < 0)
		FAIL("ftcp_stack_init: %s", why ? why : "?");
	return s;
}

static uint32_t p_isn(uint16_t sport)
{
	return 0x70000000u + (uint32_t)sport * 0x10001u;
}

static uint32_t p_ts(void)
{
	return (uint32_t)(W.now / 1000) + 77;
}

/* A segment from P to A (sport -> dport) with A's live values. */
static void p_seg(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t plen, bool ack_all)
{
	struct ftcp_tcb *t = conn_tcb(W.a, IP_A, dport, IP_P, sport);
	struct tcpf f;
	uint8_t buf[FRAME_MAX];

	if (!t)
		FAIL("setup: no connection P:%u -> A:%u", sport, dport);
	memset(&f, 0, sizeof(f));
	f.smac = MAC_P;
	f.sip = IP_P;
	f.dip = IP_A;
	f.sport = sport;
	f.dport = dport;
	f.seq = t->rcv_nxt;
	f.ack = ack_all ? t->snd_max : t->snd_una;
	f.flags = flags | FTCP_TCP_ACK;
	f.win = 512;
	f.ts = t->tf & FTCP_TF_TS_OK;
	f.ts_val = p_ts();
	f.ts_ecr = ftcp_tcp_ts_now(W.a, t);
	f.plen = plen;
	inject(buf, build_tcp(buf, &f));
	settle();
}

/* P opens a connection to A:dport from sport (a SYN, and with complete the
 * ACK of A's SYN-ACK). */
static void p_open(uint16_t sport, uint16_t dport, bool opts, bool complete)
{
	struct tcpf f;
	uint8_t buf[FRAME_MAX];

	memset(&f, 0, sizeof(f));
	f.smac = MAC_P;
	f.sip = IP_P;
	f.dip = IP_A;
	f.sport = sport;
	f.dport = dport;
	f.seq = p_isn(sport);
	f.flags = FTCP_TCP_SYN;
	f.win = 65535;
	f.mss = true;
	f.mss_val = 536;
	if (opts) {
		f.ws = f.sack_ok = f.ts = true;
		f.ws_val = 7;
		f.ts_val = p_ts();
	}
	W.synack.valid = false;
	inject(buf, build_tcp(buf, &f));
	settle();
	if (!W.synack.valid || W.synack.dport != sport)
		FAIL("setup: no SYN-ACK for P:%u", sport);
	if (!complete)
		return;
	f.mss = f.ws = f.sack_ok = false;
	f.flags = FTCP_TCP_ACK;
	f.seq = p_isn(sport) + 1;
	f.ack = W.synack.seq + 1;
	f.win = 512;
	f.ts_val = p_ts();
	f.ts_ecr = W.synack.tsval;
	inject(buf, build_tcp(buf, &f));
	settle();
}

static ftcp_sock_t must(ftcp_sock_t h, const char *what)
{
	if (h < 0)
		FAIL("setup: %s: %s", what, ftcp_strerror(h));
	return h;
}

static void setup(void)
{
	struct ftcp_sockaddr sa;
	ftcp_sock_t h;
	unsigned i;
	int rc;

	memset(&W, 0, sizeof(W));
	for (i = 0; i < NSLOTS; i++)
		W.slot[i] = -1;
	for (i = 0; i < NAUTO; i++)
		W.b_auto[i] = -1;
	W.now = T0;
	ftcp_memlink_init(&W.link);
	for (i = 0; i < 3; i++)
		fifo_mem[i] = xalloc(PORT_FIFO);
	W.a = start_stack(&W.pa, &MAC_A, IP_A, true, &mem_a, &len_a, fifo_mem[0]);
	W.b = start_stack(&W.pb, &MAC_B, IP_B, false, &mem_b, &len_b, fifo_mem[1]);
	if (ftcp_memlink_attach(&W.link, &W.pp, &MAC_P, 9216, 0, fifo_mem[2], PORT_FIFO) < 0)
		FAIL("memlink attach");
	ftcp_set_echo_reply_cb(W.a, echo_cb, NULL);
	settle();

	/* UDP on both. */
	h = W.slot[0] = must(ftcp_udp_open(W.a, NULL, NULL), "udp");
	sa.addr = 0;
	sa.port = 7;
	must(ftcp_bind(W.a, h, &sa), "bind");
	h = W.slot[16] = must(ftcp_udp_open(W.b, cb_b, NULL), "udp");
	must(ftcp_bind(W.b, h, &sa), "bind");

	/* Listeners. */
	h = W.slot[1] = must(ftcp_tcp_open(W.a, NULL, NULL), "tcp");
	must(ftcp_setsockopt(W.a, h, FTCP_SO_MAXSEG, 500), "maxseg");
	sa.port = 80;
	must(ftcp_bind(W.a, h, &sa), "bind 80");
	must(ftcp_listen(W.a, h, 4), "listen 80");
	h = W.slot[2] = must(ftcp_tcp_open(W.a, NULL, NULL), "tcp");
	sa.port = 81;
	must(ftcp_bind(W.a, h, &sa), "bind 81");
	must(ftcp_listen(W.a, h, 2), "listen 81");
	h = W.slot[SLOT_B_LISTENER] = must(ftcp_tcp_open(W.b, cb_b, NULL), "tcp");
	sa.port = 5000;
	must(ftcp_bind(W.b, h, &sa), "bind 5000");
	must(ftcp_listen(W.b, h, 8), "listen 5000");

	/* B -> A:80, accepted by A (slot 3). */
	h = W.slot[18] = must(ftcp_tcp_open(W.b, cb_b, NULL), "tcp");
	must(ftcp_setsockopt(W.b, h, FTCP_SO_MAXSEG, 600), "maxseg");
	sa.addr = IP_A;
	sa.port = 80;
	rc = ftcp_connect(W.b, h, &sa);
	if (rc != -FTCP_EINPROGRESS)
		FAIL("setup: connect B->A: %s", ftcp_strerror(rc));
	settle();
	W.b_port_to_a80 = local_port(W.b, h);
	h = W.slot[3] = must(ftcp_accept(W.a, W.slot[1], NULL, NULL, NULL), "accept B");
	must(ftcp_setsockopt(W.a, h, FTCP_SO_KEEPALIVE, 1), "keepalive");
	must(ftcp_setsockopt(W.a, h, FTCP_SO_KEEPIDLE, 1), "keepidle");
	must(ftcp_setsockopt(W.a, h, FTCP_SO_KEEPINTVL, 1), "keepintvl");
	must(ftcp_setsockopt(W.a, h, FTCP_SO_KEEPCNT, 2), "keepcnt");

	/* A -> B:5000 (slot 4); B's server accepts it. */
	h = W.slot[4] = must(ftcp_tcp_open(W.a, NULL, NULL), "tcp");
	must(ftcp_setsockopt(W.a, h, FTCP_SO_MAXSEG, 500), "maxseg");
	must(ftcp_setsockopt(W.a, h, FTCP_SO_NODELAY, 1), "nodelay");
	sa.addr = IP_B;
	sa.port = 5000;
	rc = ftcp_connect(W.a, h, &sa);
	if (rc != -FTCP_EINPROGRESS)
		FAIL("setup: connect A->B: %s", ftcp_strerror(rc));
	settle();
	W.a_port_to_b = local_port(W.a, h);
	if (W.b_auto[0] < 0)
		FAIL("setup: B did not accept");

	/* P's connections to A:80. */
	p_open(1001, 80, true, true);
	h = W.slot[5] = must(ftcp_accept(W.a, W.slot[1], NULL, NULL, NULL), "accept 1001");
	p_seg(1001, 80, FTCP_TCP_PSH, 100, false);
	memset(scratch, 0x5a, 3000);
	must(ftcp_send(W.a, h, scratch, 3000), "send 1001");
	settle();

	p_open(1004, 80, true, true);
	W.slot[6] = must(ftcp_accept(W.a, W.slot[1], NULL, NULL, NULL), "accept 1004");
	p_seg(1004, 80, FTCP_TCP_FIN, 0, true);

	p_open(1005, 80, false, true);
	h = W.slot[7] = must(ftcp_accept(W.a, W.slot[1], NULL, NULL, NULL), "accept 1005");
	must(ftcp_send(W.a, h, scratch, 700), "send 1005");
	must(ftcp_shutdown(W.a, h, FTCP_SHUT_WR), "shutdown 1005");
	settle();

	p_open(1006, 80, true, true);
	h = W.slot[8] = must(ftcp_accept(W.a, W.slot[1], NULL, NULL, NULL), "accept 1006");
	must(ftcp_shutdown(W.a, h, FTCP_SHUT_WR), "shutdown 1006");
	settle();
	p_seg(1006, 80, 0, 0, true);

	p_open(1008, 80, true, true);
	h = must(ftcp_accept(W.a, W.slot[1], NULL, NULL, NULL), "accept 1008");
	must(ftcp_close(W.a, h), "close 1008");
	settle();
	p_seg(1008, 80, FTCP_TCP_FIN, 0, true);

	p_open(1009, 80, false, true);
	h = W.slot[11] = must(ftcp_accept(W.a, W.slot[1], NULL, NULL, NULL), "accept 1009");
	must(ftcp_set_congestion(W.a, h, "newreno"), "newreno");
	must(ftcp_send(W.a, h, scratch, 3000), "send 1009");
	settle();

	p_open(1002, 80, false, true); /* stays in the accept queue */
	p_seg(1002, 80, FTCP_TCP_PSH, 50, false);
	p_open(1003, 80, true, false);
	p_open(1007, 80, false, false);

	/* Active opens nobody answers. */
	h = W.slot[9] = must(ftcp_tcp_open(W.a, NULL, NULL), "tcp");
	sa.addr = IP_P;
	sa.port = 23;
	if (ftcp_connect(W.a, h, &sa) != -FTCP_EINPROGRESS)
		FAIL("setup: connect A->P");
	settle();
	W.a_port_to_p23 = local_port(W.a, h);
	h = W.slot[10] = must(ftcp_tcp_open(W.a, NULL, NULL), "tcp");
	sa.addr = IP_X;
	sa.port = 80;
	if (ftcp_connect(W.a, h, &sa) != -FTCP_EINPROGRESS)
		FAIL("setup: connect A->X");
	settle();

	/* Data in flight between A and B, both ways. */
	must(ftcp_send(W.a, W.slot[3], scratch, 2500), "send");
	must(ftcp_send(W.a, W.slot[4], scratch, 2500), "send");
	must(ftcp_send(W.b, W.slot[18], scratch, 2000), "send");
	must(ftcp_send(W.b, W.b_auto[0], scratch, 1800), "send");
	settle();
	W.opens = 0;
}

/* ---- invariants ---- */

static const char *stack_name(const struct ftcp_stack *s)
{
	return s == W.a ? "A" : "B";
}

/* Mark in owned[] the sockets of s the application holds a handle to. */
static void app_owned(struct ftcp_stack *s, uint8_t *owned)
{
	unsigned i;
	int32_t j;

	for (i = 0; i < NSLOTS; i++)
		if (W.slot[i] >= 0 && slot_stack(i) == s && ftcp_sock_get(s, W.slot[i], &j))
			owned[j] = 1;
	if (s == W.b)
		for (i = 0; i < NAUTO; i++)
			if (W.b_auto[i] >= 0 && ftcp_sock_get(s, W.b_auto[i], &j))
				owned[j] = 1;
}

static bool is_sync_state(uint8_t st)
{
	return st >= FTCP_TCP_ESTABLISHED && st <= FTCP_TCP_TIME_WAIT;
}

static void dump_tcb(const struct ftcp_stack *s, const struct ftcp_tcb *t)
{
	fprintf(stderr,
	        "tcb: now %llu iss %u snd_una +%u snd_nxt +%u snd_max +%u tx_seq +%u queued %u "
	        "fin_seq +%u snd_wnd %u max_snd_wnd %u cwnd %u ssthresh %u mss %u dupacks %u\n"
	        "     irs %u rcv_nxt +%u rcv_adv +%u rxq %u n_ooo %u sb.n %u sacked %u retries %u "
	        "backoff %u rto %u srtt %u\n"
	        "     timers: rtx %d (at %llu) delack %d keep %d\n",
	        (unsigned long long)s->now, t->iss, t->snd_una - t->iss, t->snd_nxt - t->iss,
	        t->snd_max - t->iss, t->tx_seq - t->iss, ftcp_queue_used(&t->txq),
	        t->fin_seq - t->iss, t->snd_wnd, t->max_snd_wnd, t->cc.cwnd, t->cc.ssthresh, t->mss,
	        t->dupacks, t->irs, t->rcv_nxt - t->irs, t->rcv_adv - t->irs,
	        ftcp_queue_used(&t->rxq), t->n_ooo, t->sb.n, t->sb.sacked_bytes, t->retries,
	        t->backoff, t->rto_us, t->srtt_us, ftcp_timer_armed(&t->rtx_timer),
	        (unsigned long long)t->rtx_timer.node.key, ftcp_timer_armed(&t->delack_timer),
	        ftcp_timer_armed(&t->keep_timer));
}

static void check_tcb(struct ftcp_stack *s, int32_t idx, const struct ftcp_socket *so)
{
	const struct ftcp_tcb *t = &so->tcb;
	const char *sn = stack_name(s);
	uint32_t data_end, i, sum;
	uint8_t st = t->state;

#define TCHECK(cond)                                                                          \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			dump_tcb(s, t);                                                       \
			FAIL("stack %s socket %d %s (%u:%u-%u) tf %#x: %s", sn, idx,          \
			     ftcp_tcp_state_name(st), so->lport, so->raddr & 0xff, so->rport,  \
			     t->tf, #cond);                                                   \
		}                                                                             \
	} while (0)

	TCHECK(st <= FTCP_TCP_TIME_WAIT);
	if (st >= FTCP_TCP_SYN_SENT) {
		TCHECK(so->flags & FTCP_SOCK_IN_CONN_TABLE);
		TCHECK(conn_idx(s, so->laddr ? so->laddr : s->ip, so->lport, so->raddr, so->rport) ==
		       idx);
		/* An orphan in TIME_WAIT gives its buffers back (the send
		 * buffer once no device references it); everyone else keeps
		 * both. */
		if (st == FTCP_TCP_TIME_WAIT && (t->tf & FTCP_TF_ORPHAN)) {
			TCHECK(so->rxbuf == FTCP_NONE && ftcp_queue_used(&t->rxq) == 0);
			TCHECK(t->txbuf == FTCP_NONE || t->pins.pin[0].refs || t->pins.pin[1].refs ||
			       ftcp_tcp_reclaim_pending(t));
		} else {
			TCHECK(so->rxbuf != FTCP_NONE && t->txbuf != FTCP_NONE);
		}
	} else {
		TCHECK(!(so->flags & FTCP_SOCK_IN_CONN_TABLE));
	}
	if (st == FTCP_TCP_LISTEN)
		TCHECK(so->flags & FTCP_SOCK_IN_PORT_TABLE);
	TCHECK(t->rto_us >= s->cfg.tcp_rto_min_us && t->rto_us <= s->cfg.tcp_rto_max_us);
	TCHECK(t->snd_wscale <= FTCP_TCP_MAX_WSCALE && t->rcv_wscale <= FTCP_TCP_MAX_WSCALE);
	TCHECK(t->parent == FTCP_NONE || st == FTCP_TCP_SYN_RECEIVED);

	if (t->tf & FTCP_TF_ORPHAN) {
		if (st == FTCP_TCP_CLOSED)
			TCHECK((t->tf & FTCP_TF_ON_OUTPUT) || t->pins.pin[0].refs || t->pins.pin[1].refs);
		else
			TCHECK(ftcp_timer_armed(&t->rtx_timer) || ftcp_timer_armed(&t->keep_timer) ||
			       (t->tf & FTCP_TF_ON_OUTPUT));
	}
	if (st == FTCP_TCP_SYN_SENT || st == FTCP_TCP_SYN_RECEIVED)
		TCHECK(ftcp_timer_armed(&t->rtx_timer) || (t->tf & FTCP_TF_ON_OUTPUT));
	if (st == FTCP_TCP_TIME_WAIT || (st == FTCP_TCP_FIN_WAIT_2 && (t->tf & FTCP_TF_ORPHAN)))
		TCHECK(ftcp_timer_armed(&t->keep_timer));
	if (st < FTCP_TCP_SYN_RECEIVED)
		return;

	/* Send sequence space. */
	data_end = t->tx_seq + ftcp_queue_used(&t->txq);
	TCHECK(ftcp_queue_used(&t->txq) <= t->txq.size);
	TCHECK(ftcp_seq_le(t->snd_una, t->snd_nxt));
	TCHECK(ftcp_seq_le(t->snd_nxt, t->snd_max));
	TCHECK(ftcp_seq_le(t->snd_max, data_end + 1));
	TCHECK(ftcp_seq_le(t->tx_seq, t->snd_una + 1));
	TCHECK(ftcp_seq_le(t->iss, t->snd_una));
	if (t->tf & FTCP_TF_FIN_QUEUED)
		TCHECK(t->fin_seq == data_end);
	if (t->snd_una != t->snd_max && st != FTCP_TCP_TIME_WAIT)
		TCHECK(ftcp_timer_armed(&t->rtx_timer) || (t->tf & FTCP_TF_ON_OUTPUT));
	/* Only our FIN is left to send (all data sent, nothing in flight):
	 * output always sends a bare FIN, so it must be on its way. */
	if ((t->tf & FTCP_TF_FIN_QUEUED) && is_sync_state(st) && t->snd_una == t->snd_max &&
	    t->snd_max == t->fin_seq && data_end == t->fin_seq)
		TCHECK(ftcp_timer_armed(&t->rtx_timer) || (t->tf & FTCP_TF_ON_OUTPUT));
	if (st == FTCP_TCP_FIN_WAIT_2 || st == FTCP_TCP_TIME_WAIT)
		TCHECK((t->tf & FTCP_TF_FIN_QUEUED) && ftcp_seq_gt(t->snd_una, t->fin_seq));
	if (st == FTCP_TCP_CLOSE_WAIT || st == FTCP_TCP_CLOSING || st == FTCP_TCP_LAST_ACK ||
	    st == FTCP_TCP_TIME_WAIT)
		TCHECK(t->tf & FTCP_TF_FIN_RCVD);
	else
		TCHECK(!(t->tf & FTCP_TF_FIN_RCVD));
	if (st >= FTCP_TCP_FIN_WAIT_1 && st != FTCP_TCP_CLOSE_WAIT)
		TCHECK(t->tf & FTCP_TF_FIN_QUEUED);
	if (is_sync_state(st)) {
		TCHECK(t->mss >= 64 && t->mss <= s->mtu - FTCP_IPV4_HLEN - FTCP_TCP_HLEN);
		TCHECK(t->cc.ops != NULL);
		TCHECK(t->cc.cwnd > 0);
	}

	/* SACK scoreboard: sorted, disjoint, inside [snd_una, snd_max], and
	 * its byte count right. */
	TCHECK(t->sb.n <= FTCP_SACK_SB_MAX);
	for (i = 0, sum = 0; i < t->sb.n; i++) {
		TCHECK(ftcp_seq_lt(t->sb.r[i].start, t->sb.r[i].end));
		TCHECK(ftcp_seq_le(t->snd_una, t->sb.r[i].start));
		TCHECK(ftcp_seq_le(t->sb.r[i].end, t->snd_max));
		if (i + 1 < t->sb.n)
			TCHECK(ftcp_seq_lt(t->sb.r[i].end, t->sb.r[i + 1].start));
		sum += t->sb.r[i].end - t->sb.r[i].start;
	}
	TCHECK(sum == t->sb.sacked_bytes);
	if (t->tf & FTCP_TF_SACK_OK)
		TCHECK(ftcp_sack_sb_pipe(&t->sb, t->snd_una, t->snd_max, t->high_rxt,
		                         t->mss ? t->mss : 536) <= 2 * (t->snd_max - t->snd_una));

	/* Receive side: what we promised fits the buffer; out-of-order ranges
	 * are sorted, disjoint, above rcv_nxt and inside the buffer. */
	TCHECK(ftcp_queue_used(&t->rxq) <= t->rxq.size);
	TCHECK(ftcp_seq_le(t->rcv_nxt, t->rcv_adv + 1));
	if (ftcp_seq_gt(t->rcv_adv, t->rcv_nxt))
		TCHECK(t->rcv_adv - t->rcv_nxt <=
		       ftcp_queue_free(&t->rxq) + (1u << t->rcv_wscale) - 1);
	TCHECK(t->n_ooo <= FTCP_TCP_OOO_MAX);
	if (!(t->tf & FTCP_TF_RD_SHUT)) {
		uint32_t ages = 0;
		for (i = 0; i < t->n_ooo; i++) {
			TCHECK(ftcp_seq_lt(t->ooo[i].start, t->ooo[i].end));
			TCHECK(ftcp_seq_gt(t->ooo[i].start, t->rcv_nxt));
			TCHECK(t->ooo[i].end - t->rcv_nxt <= ftcp_queue_free(&t->rxq));
			if (i + 1 < t->n_ooo)
				TCHECK(ftcp_seq_lt(t->ooo[i].end, t->ooo[i + 1].start));
			TCHECK(t->ooo_age[i] < t->n_ooo);
			ages |= 1u << t->ooo_age[i];
		}
		TCHECK(ages == (1u << t->n_ooo) - 1);
	}
#undef TCHECK
}

static void check_info(struct ftcp_stack *s, ftcp_sock_t h)
{
	struct ftcp_tcp_info ti;

	if (ftcp_tcp_info(s, h, &ti) < 0)
		return;
	if (ti.state < FTCP_TCP_SYN_RECEIVED)
		return;
	CHECK(ti.unacked <= ti.send_queue + 2, "tcp_info: unacked beyond the send queue");
	CHECK(ti.bytes_in_flight <= 2 * ti.unacked, "tcp_info: bytes_in_flight");
	CHECK(ti.send_queue <= s->cfg.tx_buffer_size, "tcp_info: send_queue");
	CHECK(ti.recv_queue <= s->cfg.rx_buffer_size, "tcp_info: recv_queue");
	CHECK(ti.sacked <= ti.unacked, "tcp_info: sacked");
	CHECK(ftcp_sock_rx_pending(s, h) == (int)ti.recv_queue, "rx_pending");
}

static void check_stack(struct ftcp_stack *s)
{
	struct ftcp_pool_stats ps;
	uint32_t n_socks = 0, n_rx = 0, n_tx = 0, n_arp = 0, n_held = 0, i;
	static uint8_t queued[4096], rx_owner[4096], tx_owner[4096], owned[4096];
	static uint16_t children[4096];
	const char *sn = stack_name(s);
	unsigned k;

	ftcp_stack_pool_stats(s, &ps);
	if (ps.sockets_in_use > ps.sockets_max || ps.rx_buffers_in_use > ps.rx_buffers_max ||
	    ps.tx_buffers_in_use > ps.tx_buffers_max || ps.tx_fifo_used > s->cfg.tx_fifo_size ||
	    ps.arp_entries_in_use > s->cfg.arp_cache_size ||
	    ps.arp_held_frames > s->cfg.arp_hold_frames ||
	    ps.timers_queued > s->cfg.arp_cache_size + s->cfg.max_sockets * FTCP_TIMERS_PER_SOCKET + 4)
		FAIL("stack %s: pool stats out of range", sn);
	if (s->sock_pool.count > sizeof(queued) || s->rxbuf_pool.count > sizeof(rx_owner) ||
	    s->txbuf_pool.count > sizeof(tx_owner))
		FAIL("fuzz config too large");
	memset(queued, 0, s->sock_pool.count);
	memset(owned, 0, s->sock_pool.count);
	memset(children, 0, s->sock_pool.count * sizeof(children[0]));
	app_owned(s, owned);
	for (i = 0; i < s->sock_pool.count; i++) {
		const struct ftcp_socket *so;
		if (!ftcp_pool_is_allocated(&s->sock_pool, (int32_t)i))
			continue;
		so = ftcp_sock_at(s, (int32_t)i);
		if (so->proto == FTCP_IP_PROTO_TCP && so->tcb.parent >= 0 &&
		    (uint32_t)so->tcb.parent < s->sock_pool.count)
			children[so->tcb.parent]++;
	}
	memset(rx_owner, 0, s->rxbuf_pool.count);
	memset(tx_owner, 0, s->txbuf_pool.count);

	/* Listener accept queues: well formed, counted right. */
	for (i = 0; i < s->sock_pool.count; i++) {
		const struct ftcp_socket *so;
		int32_t c;
		uint32_t n = 0;
		if (!ftcp_pool_is_allocated(&s->sock_pool, (int32_t)i))
			continue;
		so = ftcp_sock_at(s, (int32_t)i);
		if (so->proto != FTCP_IP_PROTO_TCP || so->tcb.state != FTCP_TCP_LISTEN)
			continue;
		for (c = so->tcb.acc_head; c != FTCP_NONE; c = ftcp_sock_at(s, c)->tcb.acc_next) {
			if (c < 0 || (uint32_t)c >= s->sock_pool.count ||
			    !ftcp_pool_is_allocated(&s->sock_pool, c) || queued[c] ||
			    ftcp_sock_at(s, c)->proto != FTCP_IP_PROTO_TCP)
				FAIL("stack %s listener %u: bad accept queue entry %d", sn, i, c);
			queued[c] = 1;
			n++;
			if (ftcp_sock_at(s, c)->tcb.acc_next == FTCP_NONE && so->tcb.acc_tail != c)
				FAIL("stack %s listener %u: accept queue tail", sn, i);
		}
		if (n != so->tcb.accept_len || (n == 0) != (so->tcb.acc_tail == FTCP_NONE))
			FAIL("stack %s listener %u: accept_len %u, queue holds %u", sn, i,
			     so->tcb.accept_len, n);
		if (children[i] != so->tcb.syn_len)
			FAIL("stack %s listener %u: syn_len %u, children %u", sn, i, so->tcb.syn_len,
			     children[i]);
	}

	for (i = 0; i < s->sock_pool.count; i++) {
		const struct ftcp_socket *so;
		int32_t idx = (int32_t)i;
		if (!ftcp_pool_is_allocated(&s->sock_pool, idx))
			continue;
		so = ftcp_sock_at(s, idx);
		n_socks++;
		if (so->rxbuf != FTCP_NONE) {
			if (so->rxbuf < 0 || (uint32_t)so->rxbuf >= s->rxbuf_pool.count ||
			    rx_owner[so->rxbuf] ||
			    !ftcp_pool_is_allocated(&s->rxbuf_pool, so->rxbuf))
				FAIL("stack %s socket %u: bad or shared rx buffer %d", sn, i, so->rxbuf);
			rx_owner[so->rxbuf] = 1;
			n_rx++;
		}
		if (so->proto == FTCP_IP_PROTO_TCP) {
			const struct ftcp_tcb *t = &so->tcb;
			if (t->txbuf != FTCP_NONE) {
				if (t->txbuf < 0 || (uint32_t)t->txbuf >= s->txbuf_pool.count ||
				    tx_owner[t->txbuf] ||
				    !ftcp_pool_is_allocated(&s->txbuf_pool, t->txbuf))
					FAIL("stack %s socket %u: bad or shared tx buffer %d", sn, i,
					     t->txbuf);
				tx_owner[t->txbuf] = 1;
				n_tx++;
			}
			if (t->parent != FTCP_NONE &&
			    (t->parent < 0 || (uint32_t)t->parent >= s->sock_pool.count ||
			     !ftcp_pool_is_allocated(&s->sock_pool, t->parent) ||
			     ftcp_sock_at(s, t->parent)->tcb.state != FTCP_TCP_LISTEN))
				FAIL("stack %s socket %u: parent %d is not a listener", sn, i, t->parent);
			check_tcb(s, idx, so);
			/* Someone must own every socket: the application, the
			 * stack (orphan), a listener (half-open or queued). */
			if (!owned[i] && !(t->tf & FTCP_TF_ORPHAN) &&
			    t->parent == FTCP_NONE && !queued[i])
				FAIL("stack %s socket %u (%s, %u:%u-%u): leaked, nobody owns it", sn, i,
				     ftcp_tcp_state_name(t->state), so->lport, so->raddr & 0xff,
				     so->rport);
		} else if (so->proto == FTCP_IP_PROTO_UDP) {
			if (!owned[i])
				FAIL("stack %s UDP socket %u leaked", sn, i);
		} else {
			FAIL("stack %s socket %u: protocol %u", sn, i, so->proto);
		}
	}
	if (n_socks != s->sock_pool.in_use || n_rx != s->rxbuf_pool.in_use ||
	    n_tx != s->txbuf_pool.in_use)
		FAIL("stack %s: pools count %u/%u/%u in use, sockets hold %u/%u/%u", sn,
		     s->sock_pool.in_use, s->rxbuf_pool.in_use, s->txbuf_pool.in_use, n_socks, n_rx,
		     n_tx);

	/* ARP cache. */
	for (i = 0; i < s->cfg.arp_cache_size; i++) {
		const struct ftcp_arp_entry *e = &s->arp[i];
		if (e->state == FTCP_ARP_FREE)
			continue;
		n_arp++;
		n_held += e->held;
		if (e->state > FTCP_ARP_PROBE || !ftcp_timer_armed(&e->timer))
			FAIL("stack %s: ARP entry %u state %u without a timer", sn, i, e->state);
		if (e->held && e->state != FTCP_ARP_INCOMPLETE)
			FAIL("stack %s: ARP entry %u holds frames while resolved", sn, i);
		if (e->held > s->cfg.arp_hold_per_neighbour)
			FAIL("stack %s: ARP entry %u holds %u frames", sn, i, e->held);
	}
	if (n_arp != s->arp_in_use || n_held != s->hold_pool.in_use)
		FAIL("stack %s: ARP counts %u/%u, entries hold %u/%u", sn, s->arp_in_use,
		     s->hold_pool.in_use, n_arp, n_held);

	/* Every TCP connection the application holds: its tcp_info agrees. */
	for (k = 0; k < NSLOTS; k++)
		if (W.slot[k] >= 0 && slot_stack(k) == s)
			check_info(s, W.slot[k]);
}

static void check_all(void)
{
	check_stack(W.a);
	check_stack(W.b);
}

/* ---- liveness: a fresh connection between A and B still works ---- */

struct live {
	ftcp_sock_t l, c, ac;
	uint32_t got_a, got_b;
	bool failed;
};
static struct live L;

static bool live_accepted(void)
{
	struct ftcp_tcp_info ti;

	if (L.ac < 0)
		L.ac = ftcp_accept(W.a, L.l, NULL, NULL, NULL);
	if (ftcp_tcp_info(W.b, L.c, &ti) < 0 || ti.state == FTCP_TCP_CLOSED)
		L.failed = true;
	return L.failed || (L.ac >= 0 && ti.state == FTCP_TCP_ESTABLISHED);
}

static bool live_data(void)
{
	int rc;

	while ((rc = ftcp_recv(W.a, L.ac, scratch, sizeof(scratch), 0)) > 0)
		L.got_a += (uint32_t)rc;
	if (rc == 0 || (rc < 0 && rc != -FTCP_EAGAIN))
		L.failed = true;
	while ((rc = ftcp_recv(W.b, L.c, scratch, sizeof(scratch), 0)) > 0)
		L.got_b += (uint32_t)rc;
	if (rc == 0 || (rc < 0 && rc != -FTCP_EAGAIN))
		L.failed = true;
	return L.failed || (L.got_a >= 300 && L.got_b >= 300);
}

static bool try_connection(const char **why)
{
	struct ftcp_sockaddr sa;
	uint8_t msg[300];
	int rc;

	memset(&L, 0, sizeof(L));
	L.l = L.c = L.ac = -1;
	memset(msg, 'x', sizeof(msg));
	*why = "open";
	if ((L.l = ftcp_tcp_open(W.a, NULL, NULL)) < 0 || (L.c = ftcp_tcp_open(W.b, NULL, NULL)) < 0)
		return false;
	sa.addr = 0;
	sa.port = LIVE_PORT;
	*why = "bind/listen";
	if (ftcp_bind(W.a, L.l, &sa) < 0 || ftcp_listen(W.a, L.l, 1) < 0)
		return false;
	sa.addr = IP_A;
	*why = "connect";
	if ((rc = ftcp_connect(W.b, L.c, &sa)) != -FTCP_EINPROGRESS)
		return false;
	*why = "handshake";
	if (!run_until(live_accepted, 30000000) || L.failed)
		return false;
	*why = "send";
	if (ftcp_send(W.a, L.ac, msg, sizeof(msg)) != (int)sizeof(msg) ||
	    ftcp_send(W.b, L.c, msg, sizeof(msg)) != (int)sizeof(msg))
		return false;
	*why = "transfer";
	if (!run_until(live_data, 30000000) || L.failed)
		return false;
	return true;
}

static void live_release(void)
{
	if (L.l >= 0)
		ftcp_abort(W.a, L.l);
	if (L.ac >= 0)
		ftcp_abort(W.a, L.ac);
	if (L.c >= 0)
		ftcp_abort(W.b, L.c);
	L.l = L.ac = L.c = -1;
}

static void liveness(void)
{
	const char *why = "";
	bool ok = try_connection(&why);

	live_release();
	if (ok)
		return;
	/* The input may have left state that takes time to clear (a poisoned
	 * ARP entry, a full SYN queue): let every timer run out, then the
	 * connection must work. */
	run_until(NULL, 120000000);
	ok = try_connection(&why);
	live_release();
	if (ok)
		return;
	FAIL("liveness: a new connection B -> A:%u failed (%s) after the input", LIVE_PORT, why);
}

/* ---- commands ---- */

/* Peer-side 4-tuples the TCP template can aim at. */
static void tcp_target(unsigned sel, uint8_t x, struct tcpf *f, struct ftcp_stack **s)
{
	f->to = 0;
	f->smac = MAC_P;
	f->sip = IP_P;
	f->dip = IP_A;
	f->dport = 80;
	*s = W.a;
	switch (sel) {
	case 0: f->smac = MAC_B, f->sip = IP_B, f->sport = W.b_port_to_a80; break;
	case 1: f->smac = MAC_B, f->sip = IP_B, f->sport = 5000, f->dport = W.a_port_to_b; break;
	case 2: f->sport = 1001; break;
	case 3: f->sport = 1002; break;
	case 4: f->sport = 1003; break;
	case 5: f->sport = 1004; break;
	case 6: f->sport = 1005; break;
	case 7: f->sport = 1006; break;
	case 8: f->sport = 1008; break;
	case 9: f->sport = 23, f->dport = W.a_port_to_p23; break;
	case 10: f->sport = (uint16_t)(2000 + x % 64); break;                 /* cookie */
	case 11: f->sport = (uint16_t)(3000 + x % 64), f->dport = 81; break;  /* new child */
	case 12: f->sport = (uint16_t)(4000 + x), f->dport = x & 1 ? 99 : 7; break; /* closed */
	case 13: /* answer the last SYN-ACK P saw */
		if (W.synack.valid) {
			f->to = W.synack.from;
			f->sip = W.synack.peer_ip;
			f->dip = W.synack.from ? IP_B : IP_A;
			f->sport = W.synack.dport;
			f->dport = W.synack.sport;
			*s = W.synack.from ? W.b : W.a;
		} else {
			f->sport = 1003;
		}
		break;
	case 14: /* B's server */
		f->to = 1, f->dip = IP_B, f->sport = (uint16_t)(5000 + x % 64), f->dport = 5000;
		*s = W.b;
		break;
	case 16: f->sport = 1009; break; /* no SACK, NewReno */
	default: /* B's end of A -> B:5000, spoofing A */
		f->to = 1, f->smac = MAC_A, f->sip = IP_A, f->dip = IP_B, f->sport = W.a_port_to_b;
		f->dport = 5000;
		*s = W.b;
		break;
	}
}

static uint8_t frame[FRAME_MAX + 64];

static void patch(struct rd *r, uint8_t *f, uint32_t len)
{
	unsigned n = u8(r) % 4, i;

	for (i = 0; i < n; i++) {
		uint16_t off = u16(r);
		uint8_t v = u8(r);
		if (len)
			f[off % len] = v;
	}
}

/* TCP template: tsel x flags mode seqd:16 ackd:16 win:16 plen optmask
 * [option parameters] npatch [off:16 val]... */
static void op_tcp(struct rd *r)
{
	unsigned tsel = u8(r) % NTARGETS;
	uint8_t x = u8(r), flags = u8(r), mode = u8(r);
	int16_t seqd = (int16_t)u16(r), ackd = (int16_t)u16(r);
	uint16_t win = u16(r);
	uint8_t pl = u8(r), om = u8(r);
	uint32_t scale = (mode & 0x10) ? 64 : 1, seqb, ackb, len;
	struct ftcp_stack *s;
	struct ftcp_tcb *t;
	struct tcpf f;

	memset(&f, 0, sizeof(f));
	tcp_target(tsel, x, &f, &s);
	t = conn_tcb(s, f.dip, f.dport, f.sip, f.sport);
	if (tsel == 13 && W.synack.valid) {
		seqb = W.synack.ack;
		ackb = W.synack.seq + 1;
	} else if (t) {
		switch (mode & 3) {
		case 0: seqb = t->rcv_nxt; break;
		case 1: seqb = t->rcv_adv; break;
		case 2: seqb = t->rcv_nxt - 1; break;
		default: seqb = t->irs; break;
		}
		switch ((mode >> 2) & 3) {
		case 0: ackb = t->snd_una; break;
		case 1: ackb = t->snd_nxt; break;
		case 2: ackb = t->snd_max; break;
		default: ackb = t->iss; break;
		}
	} else {
		seqb = p_isn(f.sport);
		ackb = (mode & 3) == 0 ? 0 : p_isn(f.dport);
	}
	f.seq = seqb + (uint32_t)(int32_t)seqd * scale;
	f.ack = ackb + (uint32_t)(int32_t)ackd * scale;
	f.flags = flags;
	f.win = win;
	f.plen = pl < 128 ? pl : (uint32_t)(pl - 128) * 16;
	if (om & 1) {
		f.mss = true;
		f.mss_val = u16(r);
	}
	if (om & 2) {
		f.ws = true;
		f.ws_val = u8(r);
	}
	f.sack_ok = om & 4;
	if (om & 8) {
		int8_t dv = (int8_t)u8(r);
		uint8_t de = u8(r);
		f.ts = true;
		f.ts_val = (t ? t->ts_recent : p_ts()) + (uint32_t)(int32_t)dv;
		f.ts_ecr = (tsel == 13 && W.synack.valid) ? W.synack.tsval
		           : t                           ? ftcp_tcp_ts_now(s, t) - de
		                                         : de;
	}
	if (om & 16) {
		unsigned i, n = u8(r) % 4 + 1;
		uint32_t base = t ? t->snd_una : ackb;
		f.n_sack = (uint8_t)n;
		for (i = 0; i < n; i++) {
			int16_t so = (int16_t)u16(r);
			uint16_t sl = u16(r);
			f.sack[i].start = base + (uint32_t)(int32_t)so * scale;
			f.sack[i].end = f.sack[i].start + sl;
		}
	}
	if (om & 32)
		f.raw_opt = take(r, u8(r) % 41, &f.raw_opt_len);
	if (om & 64)
		f.ip_opt = take(r, u8(r) % 41, &f.ip_opt_len);
	if (mode & 0x40)
		f.payload = take(r, f.plen, &f.plen);
	len = build_tcp(frame, &f);
	patch(r, frame, len);
	if (!(om & 0x80))
		fix_cksums(frame, len);
	inject(frame, len);
	if (mode & 0x20)
		inject(frame, len);
	if (mode & 0x80)
		pump();
}

/* UDP template: dport-sel sport:16 plen flags npatch... */
static void op_udp(struct rd *r)
{
	uint8_t sel = u8(r), pl = u8(r), fl = u8(r);
	uint16_t sport = u16(r), dport;
	uint32_t off, plen = pl < 200 ? pl : (uint32_t)(pl - 200) * 32 + 200, got = 0, len, i;
	const uint8_t *data = NULL;
	uint32_t dip = IP_A;
	const struct ftcp_mac *dmac = &MAC_A;

	switch (sel % 6) {
	case 0: dport = 7; break;
	case 1: dport = 9; break;              /* closed: ICMP port unreachable */
	case 2: dport = 0; break;
	case 3: dport = 7, dip = IP4(10, 0, 0, 255), dmac = &MAC_BCAST; break;
	case 4: dport = 7, dip = 0xffffffffu, dmac = &MAC_BCAST; break;
	default: dport = u16(r); break;
	}
	if (sel & 0x80)
		dmac = &MAC_B, dip = dip == IP_A ? IP_B : dip;
	plen = FTCP_MIN(plen, 1500u);
	if (fl & 1)
		data = take(r, plen, &got), plen = got;
	off = put_eth(frame, dmac, &MAC_P, FTCP_ETHERTYPE_IPV4);
	off += put_ip(frame + off, (fl & 2) ? IP_B : IP_P, dip, FTCP_IP_PROTO_UDP, NULL, 0,
	              FTCP_UDP_HLEN + plen);
	ftcp_put_be16(frame + off, sport);
	ftcp_put_be16(frame + off + 2, dport);
	ftcp_put_be16(frame + off + 4, (uint16_t)(FTCP_UDP_HLEN + plen));
	ftcp_put_be16(frame + off + 6, (fl & 4) ? 0 : 1);
	for (i = 0; i < plen; i++)
		frame[off + 8 + i] = data ? data[i] : (uint8_t)i;
	len = off + 8 + plen;
	patch(r, frame, len);
	if (!(fl & 0x80))
		fix_cksums(frame, len);
	inject(frame, len);
}

/* ICMP template: type code sel qlen flags [params] npatch... */
static void op_icmp(struct rd *r)
{
	uint8_t type = u8(r), code = u8(r), sel = u8(r), ql = u8(r), fl = u8(r);
	uint8_t *ip = frame + FTCP_ETH_HLEN, *icmp = ip + FTCP_IPV4_HLEN, *q = icmp + 8;
	uint32_t dlen, len;
	struct tcpf f;
	struct ftcp_stack *s;
	struct ftcp_tcb *t;
	bool tcp;

	put_eth(frame, (fl & 1) ? &MAC_B : &MAC_A, &MAC_P, FTCP_ETHERTYPE_IPV4);
	memset(icmp, 0, 8);
	icmp[1] = code;
	switch (type % 4) {
	case 0: /* echo request or reply */
		icmp[0] = (type & 4) ? FTCP_ICMP_ECHO_REPLY : FTCP_ICMP_ECHO_REQUEST;
		ftcp_put_be16(icmp + 4, u16(r));
		ftcp_put_be16(icmp + 6, u16(r));
		dlen = ql < 200 ? ql : (uint32_t)(ql - 200) * 32 + 200;
		dlen = FTCP_MIN(dlen, 1400u);
		memset(q, 0x33, dlen);
		break;
	case 1: /* an error quoting a segment or datagram we sent */
	case 2:
		icmp[0] = (type & 4) ? FTCP_ICMP_TIME_EXCEEDED : FTCP_ICMP_DEST_UNREACH;
		if (type & 8)
			ftcp_put_be16(icmp + 6, u16(r)); /* next-hop MTU */
		memset(&f, 0, sizeof(f));
		tcp_target(sel % NTARGETS, sel, &f, &s);
		t = conn_tcb(s, f.dip, f.dport, f.sip, f.sport);
		tcp = (type % 4) == 1;
		dlen = FTCP_IPV4_HLEN + 8 + (ql % 4) * 4;
		put_ip(q, f.dip, f.sip, tcp ? FTCP_IP_PROTO_TCP : FTCP_IP_PROTO_UDP, NULL, 0,
		       (type & 16) ? 1000 : FTCP_TCP_HLEN);
		ftcp_put_be16(q + 10, ftcp_cksum_finish(ftcp_cksum_add(0, q, FTCP_IPV4_HLEN)));
		memset(q + FTCP_IPV4_HLEN, 0, 20);
		ftcp_put_be16(q + 20, tcp ? f.dport : 7);
		ftcp_put_be16(q + 22, tcp ? f.sport : (uint16_t)(7 + (sel & 0x80)));
		ftcp_put_be32(q + 24, t ? t->snd_una : 0);
		ftcp_put_be32(q + 28, t ? t->rcv_nxt : 0);
		break;
	default: /* any type */
		icmp[0] = type;
		dlen = ql;
		memset(q, 0x44, dlen);
		break;
	}
	put_ip(ip, (fl & 2) ? IP_B : IP_P, (fl & 1) ? IP_B : IP_A, FTCP_IP_PROTO_ICMP, NULL, 0,
	       8 + dlen);
	len = FTCP_ETH_HLEN + FTCP_IPV4_HLEN + 8 + dlen;
	patch(r, frame, len);
	if (!(fl & 0x80))
		fix_cksums(frame, len);
	inject(frame, len);
}

static uint32_t pick_ip(uint8_t v)
{
	switch (v % 8) {
	case 0: return IP_A;
	case 1: return IP_B;
	case 2: return IP_P;
	case 3: return IP_X;
	case 4: return 0;
	case 5: return IP4(10, 0, 0, 255);
	case 6: return IP4(192, 168, 1, v);
	default: return IP4(10, 0, 0, v);
	}
}

static const struct ftcp_mac *pick_mac(uint8_t v)
{
	static struct ftcp_mac m;
	switch (v % 5) {
	case 0: return &MAC_P;
	case 1: return &MAC_B;
	case 2: return &MAC_A;
	case 3: return &MAC_BCAST;
	default:
		m.b[0] = v & 0xfe, m.b[1] = v, m.b[2] = 0x11, m.b[3] = 0x22, m.b[4] = 0x33, m.b[5] = v;
		return &m;
	}
}

/* ARP template: op spa sha tpa dst npatch... */
static void op_arp(struct rd *r)
{
	uint8_t op = u8(r), spa = u8(r), sha = u8(r), tpa = u8(r), dst = u8(r);
	struct ftcp_eth_repr e;
	struct ftcp_arp_repr a;
	uint32_t len = FTCP_ETH_HLEN + FTCP_ARP_LEN;

	e.dst = *pick_mac(dst % 3 == 0 ? 3 : dst % 3 == 1 ? 2 : 1);
	e.src = *pick_mac(sha);
	e.type = FTCP_ETHERTYPE_ARP;
	a.op = (uint16_t)(op % 4 == 3 ? op : op % 4 == 2 ? FTCP_ARP_REPLY : FTCP_ARP_REQUEST);
	a.sha = *pick_mac(sha);
	a.spa = pick_ip(spa);
	a.tha = (op & 0x10) ? *pick_mac(tpa) : ftcp_mac_zero;
	a.tpa = (op & 0x20) ? a.spa : pick_ip(tpa);
	ftcp_eth_emit(&e, frame);
	ftcp_arp_emit(&a, frame + FTCP_ETH_HLEN);
	if (op & 0x40)
		len -= u8(r) % 29; /* short */
	else if (op & 0x80)
		len += u8(r) % 32; /* trailer */
	memset(frame + FTCP_ETH_HLEN + FTCP_ARP_LEN, 0, 32);
	patch(r, frame, len);
	inject(frame, len);
}

/* Raw frame, or an IPv4 packet behind a built Ethernet header. */
static void op_raw(struct rd *r, bool l3)
{
	uint32_t len = u16(r) % (FRAME_MAX - 14), got, off = 0;
	uint8_t fl = l3 ? u8(r) : 0;
	const uint8_t *p;

	if (l3)
		off = put_eth(frame, (fl & 1) ? &MAC_B : (fl & 2) ? &MAC_BCAST : &MAC_A, &MAC_P,
		              (fl & 4) ? FTCP_ETHERTYPE_ARP : FTCP_ETHERTYPE_IPV4);
	p = take(r, len, &got);
	memcpy(frame + off, p, got);
	if (l3 && !(fl & 0x80))
		fix_cksums(frame, off + got);
	inject(frame, off + got);
}

static int free_slot(unsigned from, unsigned to)
{
	unsigned i;
	for (i = from; i < to; i++)
		if (W.slot[i] < 0)
			return (int)i;
	return -1;
}

static void app_close_slot(unsigned i, bool abort_it)
{
	struct ftcp_stack *s = slot_stack(i);
	ftcp_sock_t h = W.slot[i];

	if (abort_it && ftcp_get_congestion(s, h)) /* TCP */
		ftcp_abort(s, h);
	else
		ftcp_close(s, h);
	W.slot[i] = -1;
	if (s == W.b)
		forget_b(h);
}

/* Application calls: slot action arg. */
static void op_app(struct rd *r)
{
	unsigned i = u8(r) % NSLOTS;
	uint8_t act = u8(r), arg = u8(r);
	struct ftcp_stack *s = slot_stack(i);
	ftcp_sock_t h = W.slot[i];
	struct ftcp_sockaddr sa;
	struct ftcp_tcp_info ti;
	uint32_t fl, full;
	int v, j;

	switch (act % 16) {
	case 0: /* send */
		if (h < 0)
			break;
		if (ftcp_get_congestion(s, h))
			(void)ftcp_send(s, h, scratch, (uint32_t)arg * 16);
		else {
			sa.addr = (arg & 1) ? IP_P : IP_B;
			sa.port = 7;
			(void)ftcp_sendto(s, h, scratch, (uint32_t)arg * 4, (arg & 2) ? NULL : &sa);
		}
		break;
	case 1: /* recv */
		if (h < 0)
			break;
		if (ftcp_get_congestion(s, h))
			(void)ftcp_recv(s, h, scratch, (uint32_t)arg * 16 + 1, 0);
		else
			(void)ftcp_recvfrom(s, h, scratch, (uint32_t)arg * 4, 0, &sa, &fl, &full);
		break;
	case 2: /* peek */
		if (h < 0)
			break;
		if (ftcp_get_congestion(s, h))
			(void)ftcp_recv(s, h, scratch, (uint32_t)arg + 1, FTCP_MSG_PEEK);
		else
			(void)ftcp_recvfrom(s, h, scratch, arg, FTCP_MSG_PEEK, &sa, &fl, &full);
		break;
	case 3:
		if (h >= 0)
			(void)ftcp_shutdown(s, h, arg % 4);
		break;
	case 4:
		if (h >= 0 && i != SLOT_B_LISTENER)
			app_close_slot(i, false);
		break;
	case 5:
		if (h >= 0 && i != SLOT_B_LISTENER)
			app_close_slot(i, true);
		break;
	case 6: /* options */
		if (h < 0)
			break;
		v = (int)(int16_t)u16(r);
		if (arg & 0x80)
			v = v * 1000;
		(void)ftcp_setsockopt(s, h, arg % 10, v);
		(void)ftcp_getsockopt(s, h, arg % 10, &v);
		break;
	case 7: /* accept into a free slot */
		if (h < 0 || i == SLOT_B_LISTENER)
			break;
		j = free_slot(s == W.a ? 12 : 20, s == W.a ? NSLOTS_A : NSLOTS);
		if (j >= 0) {
			ftcp_sock_t c = ftcp_accept(s, h, s == W.b ? cb_b : NULL, NULL, &sa);
			if (c >= 0)
				W.slot[j] = c;
		}
		break;
	case 8: /* connect a new socket */
	case 9: /* listen on a new socket */
	case 10: /* a new UDP socket */
		if (h >= 0 || W.opens >= MAX_FUZZ_OPENS)
			break;
		W.opens++;
		h = (act % 16) == 10 ? ftcp_udp_open(s, s == W.b ? cb_b : NULL, NULL)
		                     : ftcp_tcp_open(s, s == W.b ? cb_b : NULL, NULL);
		if (h < 0)
			break;
		W.slot[i] = h;
		if ((act % 16) == 9 || (act % 16) == 10) {
			sa.addr = (arg & 0x40) ? s->ip : 0;
			sa.port = (arg & 0x80) ? (uint16_t)(80 + arg % 8) : u16(r);
			if (sa.port == LIVE_PORT)
				sa.port++;
			(void)ftcp_bind(s, h, &sa);
			if ((act % 16) == 9)
				(void)ftcp_listen(s, h, arg % 3);
			else if (arg & 0x20) {
				sa.addr = IP_P;
				sa.port = 7;
				(void)ftcp_connect(s, h, &sa);
			}
			break;
		}
		if (arg & 0x80)
			(void)ftcp_setsockopt(s, h, FTCP_SO_MAXSEG, 88 + arg % 64 * 8);
		switch (arg % 6) {
		case 0: sa.addr = IP_B, sa.port = 5000; break;
		case 1: sa.addr = IP_P, sa.port = (uint16_t)(23 + arg / 8); break;
		case 2: sa.addr = IP_X, sa.port = 80; break;
		case 3: sa.addr = IP_A, sa.port = 80; break;
		case 4: sa.addr = IP_B, sa.port = 81; break; /* refused */
		default: sa.addr = IP4(10, 0, 0, 200 + arg % 50), sa.port = 80; break;
		}
		if (s == W.b && sa.addr == IP_B)
			sa.addr = IP_A;
		(void)ftcp_connect(s, h, &sa);
		break;
	case 11:
		if (h >= 0)
			(void)ftcp_set_congestion(s, h, (arg & 3) == 0 ? "newreno"
			                                : (arg & 3) == 1 ? "cubic"
			                                                 : "bogus");
		break;
	case 12: /* ping */
		(void)ftcp_ping(s, pick_ip(arg), arg, arg, scratch, (uint32_t)(arg & 0x3f) * 16);
		break;
	case 13: /* read-only calls */
		if (h < 0)
			break;
		(void)ftcp_tcp_info(s, h, &ti);
		(void)ftcp_sock_readiness(s, h);
		(void)ftcp_sock_rx_pending(s, h);
		(void)ftcp_getsockname(s, h, &sa);
		(void)ftcp_getpeername(s, h, &sa);
		(void)ftcp_get_congestion(s, h);
		break;
	case 14: /* take the pending error */
		if (h >= 0)
			(void)ftcp_sock_error(s, h);
		break;
	default: /* fill the send queue */
		if (h >= 0 && ftcp_get_congestion(s, h))
			(void)ftcp_send(s, h, scratch, 4096);
		break;
	}
}

static void run(const uint8_t *data, size_t size)
{
	struct rd r = {data, size};
	unsigned ops = 0;

	while (r.n && ops++ < MAX_OPS) {
		uint8_t op = u8(&r);
		switch (op % 14) {
		case 0: op_raw(&r, false); break;
		case 1: op_raw(&r, true); break;
		case 2:
		case 3:
		case 4: op_tcp(&r); break;
		case 5: op_udp(&r); break;
		case 6: op_icmp(&r); break;
		case 7: op_arp(&r); break;
		case 8: { /* clock */
			uint8_t e = u8(&r), m = u8(&r);
			W.now += (uint64_t)(m + 1) << (e % 26);
			pump();
			break;
		}
		case 9: { /* polls */
			unsigned n = u8(&r) % 16 + 1;
			while (n--)
				pump();
			break;
		}
		case 10: /* run until idle, or jump to the next timer */
			if (u8(&r) & 1)
				settle();
			else {
				uint64_t next = next_event();
				if (next != UINT64_MAX && next > W.now)
					W.now = next - 1;
				pump();
			}
			break;
		default: op_app(&r); break;
		}
		/* Between any two calls into the stacks, every invariant holds:
		 * check after each command, not only at the end. */
		check_all();
	}
}

static void snapshot(void)
{
	if (ftcp_memlink_pending(&W.pa) || ftcp_memlink_pending(&W.pb) ||
	    ftcp_memlink_pending(&W.pp))
		FAIL("setup: frames left on the link");
	snap_a = xalloc(len_a);
	snap_b = xalloc(len_b);
	memcpy(snap_a, mem_a, len_a);
	memcpy(snap_b, mem_b, len_b);
	W_snap = W;
}

static void restore(void)
{
	memcpy(mem_a, snap_a, len_a);
	memcpy(mem_b, snap_b, len_b);
	W = W_snap;
}

static uint32_t input_hash(const uint8_t *data, size_t size)
{
	uint32_t h = 2166136261u;
	size_t i;
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		setup();
		check_all();
		snapshot();
		ready = true;
	} else {
		restore();
	}
	run(data, size);
	settle();
	check_all();
	if (fuzz_stack_always_check_liveness || (input_hash(data, size) & 7) == 0) {
		liveness();
		settle();
		check_all();
	}
	return 0;
}
