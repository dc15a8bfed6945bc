/*
 * ftcp_counters.h — per-stack counters: frames in and out of each layer and
 * every drop by its reason. Listed once here (an X-macro) so the struct, the
 * names tools print and the reset code can never disagree.
 */
#ifndef FTCP_COUNTERS_H
#define FTCP_COUNTERS_H

#include <stdint.h>

#define FTCP_COUNTER_LIST(X) \
	X(eth_rx_frames, "frames received from the device") \
	X(eth_rx_bytes, "bytes received from the device") \
	X(eth_tx_frames, "frames handed to the device") \
	X(eth_tx_bytes, "bytes handed to the device") \
	X(drop_eth_short, "frame shorter than an Ethernet header") \
	X(drop_eth_not_for_us, "destination MAC neither ours nor broadcast") \
	X(drop_eth_type, "EtherType the stack does not handle") \
	X(arp_rx, "ARP packets received") \
	X(arp_tx_requests, "ARP requests sent (incl. gratuitous)") \
	X(arp_tx_replies, "ARP replies sent") \
	X(arp_evictions, "ARP entries evicted to make room") \
	X(drop_arp_malformed, "ARP packet truncated or not Ethernet/IPv4") \
	X(drop_arp_not_for_us, "ARP packet for another host") \
	X(drop_arp_unresolved, "held frames dropped: neighbour never answered") \
	X(drop_arp_hold_full, "frames dropped: no room to hold them for ARP") \
	X(drop_arp_cache_full, "frames dropped: no ARP entry could be made") \
	X(ipv4_rx, "IPv4 packets accepted") \
	X(ipv4_tx, "IPv4 packets sent") \
	X(ipv4_options_ignored, "IPv4 packets with options we skip (RFC 1122 3.2.1.8)") \
	X(drop_ip_short, "IPv4 packet truncated") \
	X(drop_ip_version, "IP version is not 4") \
	X(drop_ip_hdr_len, "IPv4 header length invalid") \
	X(drop_ip_total_len, "IPv4 total length invalid") \
	X(drop_ip_cksum, "IPv4 header checksum wrong") \
	X(drop_ip_not_for_us, "IPv4 destination not ours") \
	X(drop_ip_bad_src, "IPv4 source broadcast, multicast or ours") \
	X(drop_ip_fragment, "IPv4 fragment (reassembly not supported)") \
	X(drop_ip_bad_options, "IPv4 options malformed") \
	X(drop_ip_source_route, "IPv4 source-route option (RFC 7126)") \
	X(drop_ip_proto, "IPv4 protocol not handled") \
	X(drop_ip_no_route, "outgoing packet without route") \
	X(icmp_rx, "ICMP messages received") \
	X(icmp_tx, "ICMP messages sent") \
	X(icmp_echo_requests, "echo requests answered") \
	X(icmp_echo_replies, "echo replies received") \
	X(icmp_unreach_rx, "destination-unreachable messages received") \
	X(icmp_errors_ratelimited, "ICMP errors not sent: rate limit") \
	X(drop_icmp_short, "ICMP message truncated") \
	X(drop_icmp_cksum, "ICMP checksum wrong") \
	X(drop_icmp_type, "ICMP type not handled") \
	X(udp_rx, "UDP datagrams delivered to sockets") \
	X(udp_tx, "UDP datagrams sent") \
	X(drop_udp_short, "UDP datagram truncated") \
	X(drop_udp_len, "UDP length field invalid") \
	X(drop_udp_cksum, "UDP checksum wrong") \
	X(drop_udp_no_port, "UDP datagram for a port nobody bound") \
	X(drop_udp_rcvbuf, "UDP datagram dropped: receive buffer full") \
	X(tcp_rx_segs, "TCP segments received (valid header and checksum)") \
	X(tcp_tx_segs, "TCP segments sent (on the wire: a TSO frame counts its segments)") \
	X(tcp_tso_frames, "TCP frames handed to the device to segment (TSO)") \
	X(tcp_active_opens, "connections opened by connect") \
	X(tcp_passive_opens, "connections opened by a listener") \
	X(tcp_established, "connections that reached ESTABLISHED") \
	X(tcp_retrans_segs, "TCP segments retransmitted") \
	X(tcp_rto, "retransmission timeouts") \
	X(tcp_fast_retransmits, "fast retransmits (dupACK or SACK loss detection)") \
	X(tcp_sack_recoveries, "loss recoveries driven by SACK (RFC 6675)") \
	X(tcp_tail_loss_probes, "tail loss probes sent (RFC 8985)") \
	X(tcp_lost_retransmits, "retransmissions found lost again and resent") \
	X(tcp_dupacks_rx, "duplicate ACKs received") \
	X(tcp_ooo_segs, "segments received out of order") \
	X(tcp_delayed_acks, "ACKs sent by the delayed-ACK timer") \
	X(tcp_window_updates, "window updates sent after a read") \
	X(tcp_window_probes, "zero-window probes sent") \
	X(tcp_keepalive_probes, "keepalive probes sent") \
	X(tcp_keepalive_drops, "connections dropped by keepalive") \
	X(tcp_timeouts, "connections dropped by retransmission timeout") \
	X(tcp_resets_rx, "connections reset by the peer") \
	X(tcp_tx_rst, "resets sent") \
	X(tcp_close_resets, "closes that reset (unread data or linger 0)") \
	X(tcp_challenge_acks, "challenge ACKs sent (RFC 5961)") \
	X(tcp_challenge_acks_limited, "challenge ACKs not sent: rate limit") \
	X(tcp_syncookies_sent, "SYN cookies sent (SYN queue full)") \
	X(tcp_syncookies_ok, "connections completed from a SYN cookie") \
	X(tcp_syncookies_failed, "ACKs with an invalid SYN cookie") \
	X(tcp_time_wait_reused, "TIME_WAIT connections replaced by a new SYN") \
	X(tcp_time_wait_evicted, "TIME_WAIT connections ended early: no free socket for a new one") \
	X(tcp_rx_no_socket, "segments for no connection or listener (reset sent)") \
	X(tcp_rx_trimmed, "segments trimmed to the receive window") \
	X(drop_tcp_short, "TCP segment truncated") \
	X(drop_tcp_hdr_len, "TCP data offset invalid") \
	X(drop_tcp_cksum, "TCP checksum wrong") \
	X(drop_tcp_bad_options, "TCP options malformed") \
	X(drop_tcp_not_unicast, "TCP segment not for our unicast address or port 0") \
	X(drop_tcp_out_of_window, "TCP segment outside the receive window") \
	X(drop_tcp_paws, "TCP segment failed PAWS (old timestamp)") \
	X(drop_tcp_bad_ack, "TCP ACK for unsent or too old data") \
	X(drop_tcp_no_ack, "TCP segment without ACK in a synchronized state") \
	X(drop_tcp_ooo_full, "TCP data dropped: reassembly ranges or buffer full") \
	X(drop_tcp_syn_queue_full, "SYNs dropped: queues full and no cookies") \
	X(drop_tcp_accept_full, "handshakes not completed: accept queue full") \
	X(drop_tcp_no_socket, "SYNs dropped: no socket or buffer for the connection") \
	X(drop_tx_fifo_full, "frames dropped: TX fifo full") \
	X(tx_device_busy, "TX bursts the device did not fully take") \
	X(timers_fired, "timer expirations handled")

struct ftcp_counters {
#define FTCP_COUNTER_FIELD(name, doc) uint64_t name;
	FTCP_COUNTER_LIST(FTCP_COUNTER_FIELD)
#undef FTCP_COUNTER_FIELD
};

/* Number of counters, and the name/description of counter i (NULL past
 * the end), so tools can print them without knowing the list. */
unsigned ftcp_counter_count(void);
const char *ftcp_counter_name(unsigned i);
const char *ftcp_counter_doc(unsigned i);
uint64_t ftcp_counter_value(const struct ftcp_counters *c, unsigned i);

#endif
