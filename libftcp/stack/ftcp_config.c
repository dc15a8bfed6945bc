/*
 * ftcp_config.c — configuration defaults and validation. Every rejection
 * names the setting and what it must be, so a user can fix it without
 * reading the source.
 */
#include "ftcp_stack_internal.h"

void ftcp_config_defaults(struct ftcp_config *c)
{
	ftcp_memset(c, 0, sizeof(*c));
	c->prefix_len = 24;
	c->mtu = FTCP_DEFAULT_MTU;
	c->max_sockets = FTCP_DEFAULT_MAX_SOCKETS;
	c->rx_buffers = FTCP_DEFAULT_RX_BUFFERS;
	c->rx_buffer_size = FTCP_DEFAULT_RX_BUFFER_SIZE;
	c->tx_fifo_size = FTCP_DEFAULT_TX_FIFO_SIZE;
	c->arp_hold_frames = FTCP_DEFAULT_ARP_HOLD_FRAMES;
	c->arp_hold_per_neighbour = FTCP_DEFAULT_ARP_HOLD_PER_NEIGHBOUR;
	c->arp_cache_size = FTCP_DEFAULT_ARP_CACHE_SIZE;
	c->arp_reachable_us = FTCP_DEFAULT_ARP_REACHABLE_US;
	c->arp_retry_us = FTCP_DEFAULT_ARP_RETRY_US;
	c->arp_retries = FTCP_DEFAULT_ARP_RETRIES;
	c->arp_announce = FTCP_DEFAULT_ARP_ANNOUNCE;
	c->demux_buckets = FTCP_DEFAULT_DEMUX_BUCKETS;
	c->ip_ttl = FTCP_DEFAULT_IP_TTL;
	c->icmp_rate = FTCP_DEFAULT_ICMP_RATE;
	c->icmp_burst = FTCP_DEFAULT_ICMP_BURST;
	c->rx_burst = FTCP_DEFAULT_RX_BURST;
	c->tx_burst = FTCP_DEFAULT_TX_BURST;
	c->ephemeral_lo = FTCP_DEFAULT_EPHEMERAL_LO;
	c->ephemeral_hi = FTCP_DEFAULT_EPHEMERAL_HI;
	c->tx_buffers = FTCP_DEFAULT_TX_BUFFERS;
	c->tx_buffer_size = FTCP_DEFAULT_TX_BUFFER_SIZE;
	c->tcp_rto_min_us = FTCP_DEFAULT_TCP_RTO_MIN_US;
	c->tcp_rto_max_us = FTCP_DEFAULT_TCP_RTO_MAX_US;
	c->tcp_rto_init_us = FTCP_DEFAULT_TCP_RTO_INIT_US;
	c->tcp_syn_retries = FTCP_DEFAULT_TCP_SYN_RETRIES;
	c->tcp_retries = FTCP_DEFAULT_TCP_RETRIES;
	c->tcp_delack_us = FTCP_DEFAULT_TCP_DELACK_US;
	c->tcp_msl_us = FTCP_DEFAULT_TCP_MSL_US;
	c->tcp_fin_wait2_us = FTCP_DEFAULT_TCP_FIN_WAIT2_US;
	c->tcp_keepidle_s = FTCP_DEFAULT_TCP_KEEPIDLE_S;
	c->tcp_keepintvl_s = FTCP_DEFAULT_TCP_KEEPINTVL_S;
	c->tcp_keepcnt = FTCP_DEFAULT_TCP_KEEPCNT;
	c->tcp_syn_backlog = FTCP_DEFAULT_TCP_SYN_BACKLOG;
	c->tcp_challenge_ack_limit = FTCP_DEFAULT_TCP_CHALLENGE_ACK_LIMIT;
	c->tcp_window_scaling = true;
	c->tcp_timestamps = true;
	c->tcp_sack = true;
	c->tcp_syncookies = true;
	c->tcp_congestion = "cubic";
	c->tso_max_bytes = FTCP_DEFAULT_TSO_MAX_BYTES;
}

/* The biggest record the TX fifo or a UDP receive fifo must take. */
uint32_t ftcp_config_max_frame(const struct ftcp_config *c)
{
	return FTCP_ETH_HLEN + c->mtu + (uint32_t)sizeof(struct ftcp_frame_desc);
}

#define REJECT(msg)            \
	do {                   \
		if (why)       \
			*why = msg; \
		return -FTCP_EINVAL; \
	} while (0)

int ftcp_config_validate(const struct ftcp_config *c, const char **why)
{
	uint32_t mask;

	if (!c)
		REJECT("config: NULL");
	if (c->prefix_len < 1 || c->prefix_len > 32)
		REJECT("prefix_len: must be 1..32");
	mask = c->prefix_len == 32 ? 0xffffffffu : ~(0xffffffffu >> c->prefix_len);
	if (c->ip_addr == 0 || c->ip_addr == 0xffffffffu || ftcp_ipv4_is_multicast(c->ip_addr) ||
	    (c->ip_addr >> 24) == 127)
		REJECT("ip_addr: must be a unicast address outside 127.0.0.0/8");
	if (c->prefix_len < 31 &&
	    ((c->ip_addr & ~mask) == 0 || (c->ip_addr & ~mask) == ~mask))
		REJECT("ip_addr: is the network or broadcast address of its prefix");
	if (c->gateway && ((c->gateway & mask) != (c->ip_addr & mask) || c->gateway == c->ip_addr))
		REJECT("gateway: must be another address inside ip_addr/prefix_len");
	if (c->mtu < 576 || c->mtu > 9216)
		REJECT("mtu: must be 576..9216");
	if (c->max_sockets < 1 || c->max_sockets > FTCP_MAX_SOCKETS_LIMIT)
		REJECT("max_sockets: must be 1..1048576");
	if (c->rx_buffers < 1 || c->rx_buffers > FTCP_MAX_SOCKETS_LIMIT)
		REJECT("rx_buffers: must be 1..1048576");
	if (c->rx_buffer_size > (1u << 30) || c->tx_fifo_size > (1u << 30))
		REJECT("rx_buffer_size/tx_fifo_size: must be at most 2^30");
	if (!FTCP_IS_POW2(c->rx_buffer_size) || c->rx_buffer_size < 2 * ftcp_fifo_record_size(ftcp_config_max_frame(c)))
		REJECT("rx_buffer_size: must be a power of two holding two MTU-sized datagrams");
	if (!FTCP_IS_POW2(c->tx_fifo_size) || c->tx_fifo_size < 2 * ftcp_fifo_record_size(ftcp_config_max_frame(c)))
		REJECT("tx_fifo_size: must be a power of two holding two MTU-sized frames");
	if (c->arp_hold_frames < 1 || c->arp_hold_frames > 65536)
		REJECT("arp_hold_frames: must be 1..65536");
	if (c->arp_hold_per_neighbour < 1 || c->arp_hold_per_neighbour > c->arp_hold_frames ||
	    c->arp_hold_per_neighbour > 255)
		REJECT("arp_hold_per_neighbour: must be 1..min(arp_hold_frames, 255)");
	if (c->arp_cache_size < 1 || c->arp_cache_size > 65536)
		REJECT("arp_cache_size: must be 1..65536");
	if (c->arp_reachable_us < 1000)
		REJECT("arp_reachable_us: must be at least 1000");
	if (c->arp_retry_us < 1000)
		REJECT("arp_retry_us: must be at least 1000");
	if (c->arp_retries < 1 || c->arp_retries > 255)
		REJECT("arp_retries: must be 1..255");
	if (c->arp_announce > 16)
		REJECT("arp_announce: must be 0..16");
	if (!FTCP_IS_POW2(c->demux_buckets) || c->demux_buckets > (1u << 24))
		REJECT("demux_buckets: must be a power of two up to 2^24");
	if (c->ip_ttl < 1)
		REJECT("ip_ttl: must be 1..255");
	if (c->icmp_burst > 1000000 || c->icmp_rate > 1000000)
		REJECT("icmp_rate/icmp_burst: must be at most 1000000");
	if (c->rx_burst < 1 || c->rx_burst > FTCP_MAX_BURST)
		REJECT("rx_burst: must be 1..256");
	if (c->tx_burst < 1 || c->tx_burst > FTCP_MAX_BURST)
		REJECT("tx_burst: must be 1..256");
	if (c->ephemeral_lo < 1 || c->ephemeral_lo > c->ephemeral_hi)
		REJECT("ephemeral_lo/ephemeral_hi: need 1 <= lo <= hi");
	if (c->tx_buffers < 1 || c->tx_buffers > FTCP_MAX_SOCKETS_LIMIT)
		REJECT("tx_buffers: must be 1..1048576");
	if (!FTCP_IS_POW2(c->tx_buffer_size) || c->tx_buffer_size < 4096 ||
	    c->tx_buffer_size > (1u << 30))
		REJECT("tx_buffer_size: must be a power of two, 4096..2^30");
	if (c->tcp_rto_min_us < 1000 || c->tcp_rto_min_us > c->tcp_rto_init_us ||
	    c->tcp_rto_init_us > c->tcp_rto_max_us || c->tcp_rto_max_us > 600000000u)
		REJECT("tcp_rto_min_us/tcp_rto_init_us/tcp_rto_max_us: need 1 ms <= min <= init <= max <= 600 s");
	if (c->tcp_syn_retries < 1 || c->tcp_syn_retries > 30)
		REJECT("tcp_syn_retries: must be 1..30");
	if (c->tcp_retries < 1 || c->tcp_retries > 30)
		REJECT("tcp_retries: must be 1..30");
	if (c->tcp_delack_us < 1000 || c->tcp_delack_us > 500000)
		REJECT("tcp_delack_us: must be 1 ms..500 ms (RFC 9293 3.8.6.3)");
	if (c->tcp_msl_us < 1000 || c->tcp_msl_us > 600000000u)
		REJECT("tcp_msl_us: must be 1 ms..600 s");
	if (c->tcp_fin_wait2_us < 1000 || c->tcp_fin_wait2_us > 600000000u)
		REJECT("tcp_fin_wait2_us: must be 1 ms..600 s");
	if (c->tcp_keepidle_s < 1 || c->tcp_keepintvl_s < 1 || c->tcp_keepcnt < 1 ||
	    c->tcp_keepidle_s > 32767 || c->tcp_keepintvl_s > 32767 || c->tcp_keepcnt > 127)
		REJECT("tcp_keepidle_s/tcp_keepintvl_s/tcp_keepcnt: must be 1..32767 s, 1..32767 s, 1..127");
	if (c->tcp_syn_backlog < 1 || c->tcp_syn_backlog > 65535)
		REJECT("tcp_syn_backlog: must be 1..65535");
	if (!c->tcp_congestion || !ftcp_cc_find(c->tcp_congestion))
		REJECT("tcp_congestion: must be \"cubic\" or \"newreno\"");
	if (c->tso_max_bytes > FTCP_TSO_MAX_BYTES)
		REJECT("tso_max_bytes: must be 0 (off) to 64000");
	return 0;
}
