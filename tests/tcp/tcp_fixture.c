/* tcp_fixture.c — see tcp_fixture.h. */
#include "tcp_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ftcp_cksum.h"

const struct tf_opts TF_OPTS_NONE = {1460, false, 0, false, false, 65535};
const struct tf_opts TF_OPTS_ALL = {1460, true, 7, true, true, 65535};

static void sock_cb(struct ftcp_stack *s, ftcp_sock_t sock, uint32_t ev, void *user)
{
	struct tf *f = user;
	(void)s;
	if (sock == f->sock)
		f->events |= ev;
	else if (sock == f->lsock)
		f->lsock_events |= ev;
}

static struct ftcp_mac peer_mac(void)
{
	return harness_mac(0xf0);
}

static struct ftcp_mac stack_mac(void)
{
	return harness_mac(1);
}

/* Record each TCP frame the stack hands its port. */
static void tx_hook(void *user, const struct ftcp_tx_frame *fr)
{
	struct tf *f = user;
	struct tf_txframe *x;
	const uint8_t *ip = fr->hdr + fr->l2_len, *tcp = ip + fr->l3_len;

	if (fr->hdr_len < FTCP_ETH_HLEN + FTCP_IPV4_HLEN + FTCP_TCP_HLEN ||
	    ftcp_get_be16(fr->hdr + 12) != FTCP_ETHERTYPE_IPV4 || ip[9] != FTCP_IP_PROTO_TCP)
		return;
	x = &f->txlog[f->ntx++ % TF_TXLOG];
	x->flags = fr->flags;
	x->tso_segsz = fr->tso_segsz;
	x->l4_len = fr->l4_len;
	x->tcp_flags = tcp[13];
	x->seq = ftcp_get_be32(tcp + 4);
	x->len = fr->payload_len + fr->payload2_len;
	x->pieces = (fr->payload_len ? 1u : 0u) + (fr->payload2_len ? 1u : 0u);
	x->ip_total_len = ftcp_get_be16(ip + 2);
	x->tcp_cksum = ftcp_get_be16(tcp + 16);
}

const struct tf_txframe *tf_txframe(const struct tf *f, uint32_t n)
{
	CU_ASSERT_FATAL(n < f->ntx && f->ntx - n <= TF_TXLOG);
	return &f->txlog[n % TF_TXLOG];
}

/* FTCP_TF_CAPS (device capability bits, e.g. 0xf) runs every case on a
 * device with those offloads, which takes the stack's fast paths (one-step
 * receive, receive runs, bulk send from the header template). */
void tf_init(struct tf *f, void (*tweak)(struct ftcp_config *))
{
	const char *caps = getenv("FTCP_TF_CAPS");

	tf_init_caps(f, tweak, caps ? (uint32_t)strtoul(caps, NULL, 0) : 0);
}

void tf_init_caps(struct tf *f, void (*tweak)(struct ftcp_config *), uint32_t caps)
{
	uint8_t frame[64];
	struct ftcp_mac pm = peer_mac(), sm = stack_mac(), zero = {{0}};
	uint32_t n;

	memset(f, 0, sizeof(*f));
	f->sock = f->lsock = -1;
	harness_init(&f->h);
	harness_config(&f->cfg, TF_LOCAL_IP);
	f->cfg.secret = 0x7e57;
	if (tweak)
		tweak(&f->cfg);
	f->s = harness_add(&f->h, &f->cfg, caps, NULL);
	harness_node_of(&f->h, f->s)->port.tx_hook = tx_hook;
	harness_node_of(&f->h, f->s)->port.tx_hook_user = f;
	f->peer = harness_add_peer(&f->h);
	f->piss = TF_PIS;
	f->peer_window = 65535;
	f->peer_ts_base = 5000;
	/* The peer asks for the stack's MAC: the stack learns the peer's. */
	n = harness_build_arp(frame, FTCP_ARP_REQUEST, &sm, &pm, TF_PEER_IP, &zero, TF_LOCAL_IP);
	harness_inject(&f->h, frame, n);
	harness_step(&f->h, 1);
	CU_ASSERT_FATAL(ftcp_arp_lookup(f->s, TF_PEER_IP, NULL) == 0);
	tf_drain(f);
}

void tf_free(struct tf *f)
{
	harness_free(&f->h);
}

uint64_t tf_now(const struct tf *f)
{
	return f->h.now;
}

/* One poll now, then the time of the next thing the stack will do. */
static uint64_t poll_once(struct tf *f)
{
	uint64_t next;

	ftcp_stack_poll(f->s, f->h.now);
	next = ftcp_stack_next_deadline(f->s);
	return next > f->h.now ? next : f->h.now + 1;
}

void tf_advance(struct tf *f, uint64_t us)
{
	uint64_t end = f->h.now + us;

	for (;;) {
		uint64_t next = poll_once(f);
		if (f->h.now >= end)
			return;
		f->h.now = next < end ? next : end;
	}
}

/* ---- the peer sends ---- */

static void put_frame(struct tf *f, const uint8_t *tcp, uint32_t len)
{
	uint8_t frame[9216 + 64];
	struct ftcp_mac pm = peer_mac(), sm = stack_mac();
	uint32_t n;

	CU_ASSERT_FATAL(len + FTCP_ETH_HLEN + FTCP_IPV4_HLEN <= sizeof(frame));
	memcpy(frame + FTCP_ETH_HLEN + FTCP_IPV4_HLEN, tcp, len);
	n = harness_build_ipv4(frame, &sm, &pm, TF_PEER_IP, TF_LOCAL_IP, FTCP_IP_PROTO_TCP, len);
	harness_inject(&f->h, frame, n);
}

void tf_inject(struct tf *f, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
               const struct ftcp_tcp_opts *opt, const void *data, uint32_t len)
{
	tf_inject_from(f, TF_PEER_PORT, flags, seq, ack, win, opt, data, len);
}

void tf_inject_from(struct tf *f, uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack,
                    uint16_t win, const struct ftcp_tcp_opts *opt, const void *data, uint32_t len)
{
	uint8_t tcp[9216];
	struct ftcp_tcp_repr r;
	uint32_t hl;

	memset(&r, 0, sizeof(r));
	r.src_port = sport;
	r.dst_port = TF_LOCAL_PORT;
	r.seq = seq;
	r.ack = ack;
	r.flags = flags;
	r.window = win;
	if (opt)
		r.opt = *opt;
	hl = ftcp_tcp_emit(&r, tcp);
	CU_ASSERT_FATAL(hl + len <= sizeof(tcp));
	if (len)
		memcpy(tcp + hl, data, len);
	ftcp_tcp_set_cksum(tcp, hl, tcp + hl, len, TF_PEER_IP, TF_LOCAL_IP, true);
	put_frame(f, tcp, hl + len);
}

struct ftcp_tcp_opts tf_ts_opts(const struct tf *f)
{
	struct ftcp_tcp_opts o;

	memset(&o, 0, sizeof(o));
	if (f->ts) {
		o.has_ts = true;
		o.ts_val = (uint32_t)(f->h.now / 1000) + f->peer_ts_base;
		o.ts_ecr = f->last_tsval;
	}
	return o;
}

void tf_send_opts(struct tf *f, uint8_t flags, uint32_t rseq, uint32_t rack,
                  const struct ftcp_tcp_opts *opt, const void *data, uint32_t len)
{
	tf_inject(f, flags, f->piss + rseq, f->siss + rack, f->peer_window, opt, data, len);
}

void tf_send(struct tf *f, uint8_t flags, uint32_t rseq, uint32_t rack, const void *data,
             uint32_t len)
{
	struct ftcp_tcp_opts o = tf_ts_opts(f);
	tf_send_opts(f, flags, rseq, rack, &o, data, len);
}

void tf_inject_raw(struct tf *f, const uint8_t *tcp, uint32_t len, bool bad_cksum)
{
	uint8_t buf[9216];
	uint32_t sum;

	CU_ASSERT_FATAL(len <= sizeof(buf));
	memcpy(buf, tcp, len);
	if (len >= FTCP_TCP_HLEN) {
		ftcp_put_be16(buf + 16, 0);
		sum = ftcp_cksum_pseudo(TF_PEER_IP, TF_LOCAL_IP, FTCP_IP_PROTO_TCP, len);
		ftcp_put_be16(buf + 16, ftcp_cksum_finish(ftcp_cksum_add(sum, buf, len)));
		if (bad_cksum)
			buf[16] ^= 0x5a;
	}
	put_frame(f, buf, len);
}

/* ---- the stack sends ---- */

static bool decode(struct tf *f, const uint8_t *frame, uint32_t len, struct tf_seg *out)
{
	struct ftcp_ipv4_repr ip;
	struct ftcp_tcp_repr tcp;
	int hl;

	if (len < FTCP_ETH_HLEN || ftcp_get_be16(frame + 12) != FTCP_ETHERTYPE_IPV4)
		return false;
	hl = ftcp_ipv4_parse(frame + FTCP_ETH_HLEN, len - FTCP_ETH_HLEN, true, &ip);
	if (hl < 0 || ip.proto != FTCP_IP_PROTO_TCP)
		return false;
	/* Every segment the stack emits must carry a valid checksum. */
	CU_ASSERT(ftcp_tcp_parse(frame + FTCP_ETH_HLEN + hl, ip.total_len - (uint32_t)hl, ip.src,
	                         ip.dst, true, &tcp) >= 0);
	if (ftcp_tcp_parse(frame + FTCP_ETH_HLEN + hl, ip.total_len - (uint32_t)hl, ip.src, ip.dst,
	                   false, &tcp) < 0)
		return false;
	memset(out, 0, offsetof(struct tf_seg, data));
	out->flags = tcp.flags;
	out->seq = tcp.seq;
	out->ack = tcp.ack;
	out->rseq = tcp.seq - f->siss;
	out->rack = tcp.ack - f->piss;
	out->win = tcp.window;
	out->sport = tcp.src_port;
	out->dport = tcp.dst_port;
	out->len = tcp.payload_len;
	out->opt = tcp.opt;
	out->at_us = f->h.now;
	out->ip_ttl = ip.ttl;
	out->ip_df = ip.frag & FTCP_IPV4_DF;
	memcpy(out->data, tcp.payload, FTCP_MIN(tcp.payload_len, (uint32_t)sizeof(out->data)));
	if (tcp.opt.has_ts)
		f->last_tsval = tcp.opt.ts_val;
	return true;
}

bool tf_recv(struct tf *f, struct tf_seg *out, uint64_t max_us)
{
	static uint8_t frame[9216 + 64];
	uint64_t end = f->h.now + max_us;

	for (;;) {
		uint64_t next = poll_once(f);
		uint32_t n;
		while ((n = harness_peer_recv(f->peer, frame, sizeof(frame))) != 0) {
			if (decode(f, frame, n, out)) {
				f->last = *out;
				return true;
			}
			f->unexpected++;
		}
		if (f->h.now >= end)
			return false;
		f->h.now = next < end ? next : end;
	}
}

static void flags_str(uint8_t fl, char *b)
{
	b[0] = fl & TCP_S ? 'S' : '.';
	b[1] = fl & TCP_F ? 'F' : '.';
	b[2] = fl & TCP_R ? 'R' : '.';
	b[3] = fl & TCP_P ? 'P' : '.';
	b[4] = fl & TCP_A ? 'A' : '.';
	b[5] = 0;
}

const struct tf_seg *tf_expect(struct tf *f, uint8_t flags, uint32_t rseq, uint32_t rack,
                               uint64_t max_us)
{
	static struct tf_seg seg;
	char want[8], got[8];

	flags_str(flags, want);
	if (!tf_recv(f, &seg, max_us)) {
		fprintf(stderr, "\n  expected [%s] seq %u ack %u within %llu us: nothing sent\n", want,
		        rseq, rack, (unsigned long long)max_us);
		CU_FAIL("expected a segment, the stack sent none");
		memset(&seg, 0, offsetof(struct tf_seg, data));
		return &seg;
	}
	flags_str(seg.flags, got);
	if (seg.flags != flags || seg.rseq != rseq || ((flags & TCP_A) && seg.rack != rack)) {
		fprintf(stderr, "\n  expected [%s] seq %u ack %u, got [%s] seq %u ack %u len %u win %u\n",
		        want, rseq, rack, got, seg.rseq, seg.rack, seg.len, seg.win);
		CU_FAIL("segment differs from the script");
	}
	return &seg;
}

void tf_expect_none(struct tf *f, uint64_t us)
{
	struct tf_seg seg;
	char got[8];

	if (tf_recv(f, &seg, us)) {
		flags_str(seg.flags, got);
		fprintf(stderr, "\n  expected silence for %llu us, got [%s] seq %u ack %u len %u\n",
		        (unsigned long long)us, got, seg.rseq, seg.rack, seg.len);
		CU_FAIL("the stack sent a segment where none was expected");
	}
}

void tf_drain(struct tf *f)
{
	uint8_t frame[16];
	ftcp_stack_poll(f->s, f->h.now);
	while (harness_peer_recv(f->peer, frame, sizeof(frame)))
		;
}

/* ---- ready-made states ---- */

void tf_listen(struct tf *f)
{
	struct ftcp_sockaddr a = {0, TF_LOCAL_PORT};

	f->lsock = ftcp_tcp_open(f->s, sock_cb, f);
	CU_ASSERT_FATAL(f->lsock >= 0);
	CU_ASSERT_FATAL(ftcp_bind(f->s, f->lsock, &a) == 0);
	CU_ASSERT_FATAL(ftcp_listen(f->s, f->lsock, 16) == 0);
}

struct ftcp_tcp_opts tf_syn_opts(const struct tf *f, const struct tf_opts *o)
{
	struct ftcp_tcp_opts x;

	memset(&x, 0, sizeof(x));
	if (o->mss) {
		x.has_mss = true;
		x.mss = o->mss;
	}
	if (o->wscale) {
		x.has_wscale = true;
		x.wscale = o->shift;
	}
	x.sack_ok = o->sack;
	if (o->ts) {
		x.has_ts = true;
		x.ts_val = (uint32_t)(f->h.now / 1000) + f->peer_ts_base;
		x.ts_ecr = f->last_tsval;
	}
	return x;
}

/* What the stack's SYN or SYN-ACK s agreed with the peer's offer o. */
static void negotiated(struct tf *f, const struct tf_opts *o, const struct tf_seg *s)
{
	f->ts = o->ts && s->opt.has_ts;
	f->sack = o->sack && s->opt.sack_ok;
	f->peer_shift = o->wscale && s->opt.has_wscale ? o->shift : 0;
	f->peer_window = o->window;
}

void tf_passive_open(struct tf *f, const struct tf_opts *o)
{
	struct ftcp_tcp_opts syn;
	const struct tf_seg *s;
	struct ftcp_sockaddr peer;

	if (f->lsock < 0)
		tf_listen(f);
	syn = tf_syn_opts(f, o);
	tf_inject(f, TCP_S, f->piss, 0, o->window, &syn, NULL, 0);
	if (!tf_recv(f, &f->last, 10000)) {
		CU_FAIL_FATAL("no SYN-ACK");
	}
	s = &f->last;
	CU_ASSERT_FATAL(s->flags == (TCP_S | TCP_A));
	CU_ASSERT_FATAL(s->ack == f->piss + 1);
	f->siss = s->seq;
	negotiated(f, o, s);
	tf_send(f, TCP_A, 1, 1, NULL, 0);
	tf_advance(f, 1);
	f->sock = ftcp_accept(f->s, f->lsock, sock_cb, f, &peer);
	CU_ASSERT_FATAL(f->sock >= 0);
	CU_ASSERT(peer.addr == TF_PEER_IP && peer.port == TF_PEER_PORT);
	CU_ASSERT_FATAL(tf_state(f) == FTCP_TCP_ESTABLISHED);
}

void tf_active_open(struct tf *f, const struct tf_opts *o)
{
	struct ftcp_sockaddr to = {TF_PEER_IP, TF_PEER_PORT}, me = {0, TF_LOCAL_PORT};
	struct ftcp_tcp_opts synack;
	struct tf_seg s;

	f->sock = ftcp_tcp_open(f->s, sock_cb, f);
	CU_ASSERT_FATAL(f->sock >= 0);
	CU_ASSERT_FATAL(ftcp_bind(f->s, f->sock, &me) == 0);
	CU_ASSERT_FATAL(ftcp_connect(f->s, f->sock, &to) == -FTCP_EINPROGRESS);
	if (!tf_recv(f, &s, 10000)) {
		CU_FAIL_FATAL("no SYN");
	}
	CU_ASSERT_FATAL(s.flags == TCP_S);
	f->siss = s.seq;
	f->last = s;
	f->last.rseq = 0;
	synack = tf_syn_opts(f, o);
	if (!s.opt.has_wscale)
		synack.has_wscale = false;
	if (!s.opt.sack_ok)
		synack.sack_ok = false;
	if (!s.opt.has_ts)
		synack.has_ts = false;
	negotiated(f, o, &s);
	tf_inject(f, TCP_S | TCP_A, f->piss, f->siss + 1, o->window, &synack, NULL, 0);
	tf_expect(f, TCP_A, 1, 1, 10000);
	CU_ASSERT_FATAL(tf_state(f) == FTCP_TCP_ESTABLISHED);
	CU_ASSERT(f->events & FTCP_EV_WRITABLE);
}

/* ---- inspection ---- */

struct ftcp_tcp_info tf_info(const struct tf *f)
{
	struct ftcp_tcp_info i;

	memset(&i, 0, sizeof(i));
	i.state = 0xff;
	ftcp_tcp_info(f->s, f->sock, &i);
	return i;
}

int tf_state(const struct tf *f)
{
	return tf_info(f).state;
}

uint64_t tf_counter(const struct tf *f, const char *name)
{
	return harness_counter(f->s, name);
}

uint32_t tf_win_bytes(const struct tf *f, const struct tf_seg *s)
{
	if (s->flags & TCP_S)
		return s->win;
	return (uint32_t)s->win << tf_info(f).rcv_wscale;
}
