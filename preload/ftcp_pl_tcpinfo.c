/*
 * ftcp_pl_tcpinfo.c — TCP_INFO in Linux's struct tcp_info layout (iperf3
 * reads retransmits, cwnd and RTT from it). Its own file: <linux/tcp.h>
 * and <netinet/tcp.h> cannot be included together.
 */
#include "ftcp_pl.h"

#include <linux/tcp.h>
#include <string.h>

static uint8_t linux_state(int st)
{
	switch (st) {
	case FTCP_TCP_ESTABLISHED: return 1;
	case FTCP_TCP_SYN_SENT: return 2;
	case FTCP_TCP_SYN_RECEIVED: return 3;
	case FTCP_TCP_FIN_WAIT_1: return 4;
	case FTCP_TCP_FIN_WAIT_2: return 5;
	case FTCP_TCP_TIME_WAIT: return 6;
	case FTCP_TCP_CLOSE_WAIT: return 8;
	case FTCP_TCP_LAST_ACK: return 9;
	case FTCP_TCP_LISTEN: return 10;
	case FTCP_TCP_CLOSING: return 11;
	default: return 7; /* TCP_CLOSE */
	}
}

/* Lock held. Fills *len bytes at most, as the kernel does. */
int pl_tcp_info(struct pl_sock *s, void *out, socklen_t *len)
{
	struct ftcp_tcp_info fi;
	struct tcp_info ti;
	uint32_t mss;
	int rc = ftcp_tcp_info(pl.stack, s->h, &fi);

	if (rc < 0)
		return rc;
	memset(&ti, 0, sizeof(ti));
	mss = fi.snd_mss ? fi.snd_mss : 536;
	ti.tcpi_state = linux_state(fi.state);
	ti.tcpi_ca_state = fi.in_recovery ? 3 /* TCP_CA_Recovery */ : 0;
	ti.tcpi_retransmits = fi.retransmits;
	ti.tcpi_backoff = fi.backoff;
	if (fi.options & FTCP_TCPI_OPT_TIMESTAMPS)
		ti.tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (fi.options & FTCP_TCPI_OPT_SACK)
		ti.tcpi_options |= TCPI_OPT_SACK;
	if (fi.options & FTCP_TCPI_OPT_WSCALE) {
		ti.tcpi_options |= TCPI_OPT_WSCALE;
		ti.tcpi_snd_wscale = fi.snd_wscale & 15;
		ti.tcpi_rcv_wscale = fi.rcv_wscale & 15;
	}
	ti.tcpi_rto = fi.rto_us;
	ti.tcpi_snd_mss = fi.snd_mss;
	ti.tcpi_rcv_mss = fi.rcv_mss;
	ti.tcpi_unacked = (fi.unacked + mss - 1) / mss;
	ti.tcpi_sacked = (fi.sacked + mss - 1) / mss;
	ti.tcpi_pmtu = pl.cfg.mtu;
	ti.tcpi_rtt = fi.rtt_us;
	ti.tcpi_rttvar = fi.rttvar_us;
	ti.tcpi_snd_ssthresh = fi.snd_ssthresh / mss;
	ti.tcpi_snd_cwnd = fi.snd_cwnd / mss;
	ti.tcpi_advmss = fi.rcv_mss;
	ti.tcpi_reordering = 3;
	ti.tcpi_rcv_space = fi.rcv_wnd;
	ti.tcpi_total_retrans = fi.total_retrans;
	ti.tcpi_bytes_acked = fi.bytes_acked;
	ti.tcpi_bytes_received = fi.bytes_received;
	ti.tcpi_segs_out = (uint32_t)fi.segs_out;
	ti.tcpi_segs_in = (uint32_t)fi.segs_in;
	ti.tcpi_notsent_bytes = fi.send_queue > fi.bytes_in_flight ? fi.send_queue - fi.bytes_in_flight : 0;
	ti.tcpi_snd_wnd = fi.snd_wnd;
	if (*len > sizeof(ti))
		*len = sizeof(ti);
	memcpy(out, &ti, *len);
	return 0;
}
