/*
 * ftcp_opts.h — compile-time defaults for struct ftcp_config.
 *
 * Each default may be overridden by defining it before this header is seen
 * (e.g. -DFTCP_DEFAULT_MAX_SOCKETS=16 for a small MCU). The run-time
 * configuration starts from these values (ftcp_config_defaults) and is
 * checked by ftcp_config_validate; the static assertions at the bottom catch
 * impossible defaults at build time.
 */
#ifndef FTCP_OPTS_H
#define FTCP_OPTS_H

/* Socket table size: the most sockets (of any protocol) open at once. */
#ifndef FTCP_DEFAULT_MAX_SOCKETS
#define FTCP_DEFAULT_MAX_SOCKETS 64
#endif

/* Receive buffers handed to sockets as they open (UDP: a datagram fifo;
 * TCP: the byte queue). Running out makes the open fail with ENOBUFS. The
 * size must be a power of two. */
#ifndef FTCP_DEFAULT_RX_BUFFERS
#define FTCP_DEFAULT_RX_BUFFERS 64
#endif
#ifndef FTCP_DEFAULT_RX_BUFFER_SIZE
#define FTCP_DEFAULT_RX_BUFFER_SIZE 65536
#endif

/* Bytes of the stack's transmit frame fifo, where ARP, ICMP and UDP frames
 * wait for the device. A power of two. */
#ifndef FTCP_DEFAULT_TX_FIFO_SIZE
#define FTCP_DEFAULT_TX_FIFO_SIZE 65536
#endif

/* Frame slots (each one MTU-sized frame) holding frames whose next hop is
 * still resolving, and how many of them one neighbour may use at once
 * (RFC 1122 2.3.2.2 asks for at least one). */
#ifndef FTCP_DEFAULT_ARP_HOLD_FRAMES
#define FTCP_DEFAULT_ARP_HOLD_FRAMES 16
#endif
#ifndef FTCP_DEFAULT_ARP_HOLD_PER_NEIGHBOUR
#define FTCP_DEFAULT_ARP_HOLD_PER_NEIGHBOUR 4
#endif

/* ARP cache entries; how long an answer is trusted before it is refreshed;
 * the interval between requests; requests before giving up. */
#ifndef FTCP_DEFAULT_ARP_CACHE_SIZE
#define FTCP_DEFAULT_ARP_CACHE_SIZE 64
#endif
#ifndef FTCP_DEFAULT_ARP_REACHABLE_US
#define FTCP_DEFAULT_ARP_REACHABLE_US (60u * 1000000u)
#endif
#ifndef FTCP_DEFAULT_ARP_RETRY_US
#define FTCP_DEFAULT_ARP_RETRY_US 1000000u
#endif
#ifndef FTCP_DEFAULT_ARP_RETRIES
#define FTCP_DEFAULT_ARP_RETRIES 3
#endif
/* Gratuitous ARP announcements sent at start (RFC 5227 2.3 sends two). */
#ifndef FTCP_DEFAULT_ARP_ANNOUNCE
#define FTCP_DEFAULT_ARP_ANNOUNCE 2
#endif

/* Buckets of each demultiplexing hash table; a power of two. */
#ifndef FTCP_DEFAULT_DEMUX_BUCKETS
#define FTCP_DEFAULT_DEMUX_BUCKETS 256
#endif

/* TTL of packets we send (RFC 1700 recommends 64). */
#ifndef FTCP_DEFAULT_IP_TTL
#define FTCP_DEFAULT_IP_TTL 64
#endif

/* ICMP error rate limit (RFC 1812 4.3.2.8): a token bucket refilled at this
 * many messages per second, holding at most the burst. */
#ifndef FTCP_DEFAULT_ICMP_RATE
#define FTCP_DEFAULT_ICMP_RATE 1000
#endif
#ifndef FTCP_DEFAULT_ICMP_BURST
#define FTCP_DEFAULT_ICMP_BURST 50
#endif

/* Frames taken from / given to the device per poll step. */
#ifndef FTCP_DEFAULT_RX_BURST
#define FTCP_DEFAULT_RX_BURST 32
#endif
#ifndef FTCP_DEFAULT_TX_BURST
#define FTCP_DEFAULT_TX_BURST 32
#endif

/* Largest IPv4 packet the stack sends or expects, without the Ethernet
 * header. The device must support at least this much. */
#ifndef FTCP_DEFAULT_MTU
#define FTCP_DEFAULT_MTU 1500
#endif

/* Ephemeral port range (RFC 6335 suggests 49152-65535). */
#ifndef FTCP_DEFAULT_EPHEMERAL_LO
#define FTCP_DEFAULT_EPHEMERAL_LO 49152
#endif
#ifndef FTCP_DEFAULT_EPHEMERAL_HI
#define FTCP_DEFAULT_EPHEMERAL_HI 65535
#endif

/* TCP send buffers (the zero-copy TX ring of each connection), taken as a
 * connection opens; a power of two. */
#ifndef FTCP_DEFAULT_TX_BUFFERS
#define FTCP_DEFAULT_TX_BUFFERS 64
#endif
#ifndef FTCP_DEFAULT_TX_BUFFER_SIZE
#define FTCP_DEFAULT_TX_BUFFER_SIZE 65536
#endif

/* Retransmission timeout bounds and start value (RFC 6298 2.1 says 1 s to
 * start; the minimum is Linux's 200 ms rather than RFC 6298's 1 s, which
 * is far above a data-centre RTT). */
#ifndef FTCP_DEFAULT_TCP_RTO_MIN_US
#define FTCP_DEFAULT_TCP_RTO_MIN_US 200000u
#endif
#ifndef FTCP_DEFAULT_TCP_RTO_MAX_US
#define FTCP_DEFAULT_TCP_RTO_MAX_US 60000000u
#endif
#ifndef FTCP_DEFAULT_TCP_RTO_INIT_US
#define FTCP_DEFAULT_TCP_RTO_INIT_US 1000000u
#endif
/* Timeouts before giving up: SYN retransmissions, data retransmissions. */
#ifndef FTCP_DEFAULT_TCP_SYN_RETRIES
#define FTCP_DEFAULT_TCP_SYN_RETRIES 6
#endif
#ifndef FTCP_DEFAULT_TCP_RETRIES
#define FTCP_DEFAULT_TCP_RETRIES 15
#endif
/* Longest an ACK is delayed (RFC 9293 3.8.6.3 allows up to 500 ms). */
#ifndef FTCP_DEFAULT_TCP_DELACK_US
#define FTCP_DEFAULT_TCP_DELACK_US 40000u
#endif
/* Maximum segment lifetime; TIME_WAIT lasts 2 * MSL (RFC 9293 3.4.2). */
#ifndef FTCP_DEFAULT_TCP_MSL_US
#define FTCP_DEFAULT_TCP_MSL_US 30000000u
#endif
/* How long a closed connection waits in FIN_WAIT_2 for the peer's FIN. */
#ifndef FTCP_DEFAULT_TCP_FIN_WAIT2_US
#define FTCP_DEFAULT_TCP_FIN_WAIT2_US 60000000u
#endif
/* Keepalive (RFC 1122 4.2.3.6), when a socket turns it on: idle time,
 * probe interval and probes before the connection is dropped (Linux's
 * defaults). */
#ifndef FTCP_DEFAULT_TCP_KEEPIDLE_S
#define FTCP_DEFAULT_TCP_KEEPIDLE_S 7200
#endif
#ifndef FTCP_DEFAULT_TCP_KEEPINTVL_S
#define FTCP_DEFAULT_TCP_KEEPINTVL_S 75
#endif
#ifndef FTCP_DEFAULT_TCP_KEEPCNT
#define FTCP_DEFAULT_TCP_KEEPCNT 9
#endif
/* Half-open connections a listener holds before answering with SYN
 * cookies (RFC 4987). */
#ifndef FTCP_DEFAULT_TCP_SYN_BACKLOG
#define FTCP_DEFAULT_TCP_SYN_BACKLOG 128
#endif
/* Challenge ACKs (RFC 5961 7) per second, per stack. */
#ifndef FTCP_DEFAULT_TCP_CHALLENGE_ACK_LIMIT
#define FTCP_DEFAULT_TCP_CHALLENGE_ACK_LIMIT 1000
#endif

/* TCP segmentation offload: on a device that segments (FTCP_DEV_TX_TSO), a
 * frame of new data carries up to this many payload bytes, cut into MSS
 * segments by the device. 0 turns it off. At most FTCP_TSO_MAX_BYTES, so
 * headers plus payload stay within the IPv4 length field and each payload
 * piece within a 16-bit buffer length (DPDK's data_len). */
#define FTCP_TSO_MAX_BYTES 64000
#ifndef FTCP_DEFAULT_TSO_MAX_BYTES
#define FTCP_DEFAULT_TSO_MAX_BYTES FTCP_TSO_MAX_BYTES
#endif

#define FTCP_MAX_BURST 256

_Static_assert(FTCP_DEFAULT_MAX_SOCKETS > 0, "FTCP_DEFAULT_MAX_SOCKETS");
_Static_assert((FTCP_DEFAULT_RX_BUFFER_SIZE & (FTCP_DEFAULT_RX_BUFFER_SIZE - 1)) == 0,
               "FTCP_DEFAULT_RX_BUFFER_SIZE must be a power of two");
_Static_assert((FTCP_DEFAULT_TX_FIFO_SIZE & (FTCP_DEFAULT_TX_FIFO_SIZE - 1)) == 0,
               "FTCP_DEFAULT_TX_FIFO_SIZE must be a power of two");
_Static_assert(FTCP_DEFAULT_ARP_HOLD_PER_NEIGHBOUR >= 1 &&
               FTCP_DEFAULT_ARP_HOLD_PER_NEIGHBOUR <= FTCP_DEFAULT_ARP_HOLD_FRAMES,
               "FTCP_DEFAULT_ARP_HOLD_PER_NEIGHBOUR must be 1..ARP_HOLD_FRAMES");
_Static_assert((FTCP_DEFAULT_DEMUX_BUCKETS & (FTCP_DEFAULT_DEMUX_BUCKETS - 1)) == 0,
               "FTCP_DEFAULT_DEMUX_BUCKETS must be a power of two");
_Static_assert((FTCP_DEFAULT_TX_BUFFER_SIZE & (FTCP_DEFAULT_TX_BUFFER_SIZE - 1)) == 0,
               "FTCP_DEFAULT_TX_BUFFER_SIZE must be a power of two");
_Static_assert(FTCP_DEFAULT_TCP_RTO_MIN_US <= FTCP_DEFAULT_TCP_RTO_INIT_US &&
               FTCP_DEFAULT_TCP_RTO_INIT_US <= FTCP_DEFAULT_TCP_RTO_MAX_US,
               "TCP RTO defaults must satisfy min <= init <= max");
_Static_assert(FTCP_DEFAULT_RX_BURST > 0 && FTCP_DEFAULT_RX_BURST <= FTCP_MAX_BURST,
               "FTCP_DEFAULT_RX_BURST");
_Static_assert(FTCP_DEFAULT_TX_BURST > 0 && FTCP_DEFAULT_TX_BURST <= FTCP_MAX_BURST,
               "FTCP_DEFAULT_TX_BURST");
_Static_assert(FTCP_DEFAULT_TSO_MAX_BYTES <= FTCP_TSO_MAX_BYTES,
               "FTCP_DEFAULT_TSO_MAX_BYTES must be 0..64000");
_Static_assert(FTCP_DEFAULT_EPHEMERAL_LO <= FTCP_DEFAULT_EPHEMERAL_HI &&
               FTCP_DEFAULT_EPHEMERAL_LO > 0 && FTCP_DEFAULT_EPHEMERAL_HI <= 65535,
               "FTCP_DEFAULT_EPHEMERAL range");

#endif
