/*
 * ftcp_memlink.h — an in-memory Ethernet segment joining several stacks in
 * one process: the harness for protocol tests and demos.
 *
 * Each attached port is a struct ftcp_device. A frame a port transmits is
 * copied into the receive fifo of the port owning its destination MAC, or
 * of every other port for broadcast and multicast (a switch that knows all
 * its ports). Unknown unicast goes nowhere. A full receive fifo drops the
 * frame, as a NIC ring would.
 *
 * A port can emulate checksum offload: with FTCP_DEV_TX_* caps the link
 * completes the checksums a frame asks for; with FTCP_DEV_RX_CKSUM it
 * verifies received IPv4/UDP/TCP checksums and flags the frame, so the
 * stack's offload paths run in tests too.
 *
 * Attached with FTCP_MEMLINK_TSO, a port reports FTCP_DEV_TX_TSO (and
 * FTCP_DEV_TX_TCP_CKSUM) and segments FTCP_TX_TSO frames as a NIC does:
 * the frame's headers, options included, copied onto each tso_segsz bytes
 * of payload, sequence numbers advanced, IP id, total length and checksum
 * per segment, the TCP checksum completed from the length-less
 * pseudo-header seed plus each segment's length, FIN/PSH/RST only on the
 * last segment and CWR only on the first.
 * Without it (the default) TSO is neither reported nor done, even when the
 * caps name FTCP_DEV_TX_TSO.
 */
#ifndef FTCP_MEMLINK_H
#define FTCP_MEMLINK_H

#include "ftcp/ftcp_device.h"
#include "base/ftcp_fifo.h"

#define FTCP_MEMLINK_MAX_PORTS 16
/* Attach option, passed in caps: emulate TSO (see above). */
#define FTCP_MEMLINK_TSO (1u << 31)

struct ftcp_memlink_port;

struct ftcp_memlink {
	struct ftcp_memlink_port *ports[FTCP_MEMLINK_MAX_PORTS];
	uint32_t nports;
};

struct ftcp_memlink_stats {
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_dropped;      /* our receive fifo was full */
	uint64_t tx_unknown_dst;  /* unicast to a MAC no port has */
	uint64_t tx_too_big;      /* frame (or TSO segment) larger than the port's MTU */
	uint64_t tx_tso_frames;   /* TSO frames segmented (their segments count in tx_frames) */
	uint64_t tx_tso_bad;      /* TSO frames refused: no TSO cap, or malformed request */
};

struct ftcp_memlink_port {
	struct ftcp_device dev;   /* handed to ftcp_stack_init */
	struct ftcp_memlink *link;
	struct ftcp_fifo rxq;
	struct ftcp_memlink_stats stats;
	/* Tests: called with every frame the port is handed, before it is
	 * segmented or switched (NULL: none). */
	void (*tx_hook)(void *user, const struct ftcp_tx_frame *f);
	void *tx_hook_user;
};

void ftcp_memlink_init(struct ftcp_memlink *l);
/* Attach a port with its MAC, MTU and emulated offload caps (FTCP_DEV_TX_*
 * checksums, FTCP_DEV_RX_CKSUM, FTCP_MEMLINK_TSO); rx_mem (aligned to 8, a
 * power of two in size) holds frames waiting to be received. */
int ftcp_memlink_attach(struct ftcp_memlink *l, struct ftcp_memlink_port *p,
                        const struct ftcp_mac *mac, uint32_t mtu, uint32_t caps,
                        void *rx_mem, uint32_t rx_mem_size);

/* Put a raw frame on the link as if a port had sent it (for tests that
 * play a peer by hand): delivered by destination MAC like any other. */
int ftcp_memlink_inject(struct ftcp_memlink *l, const uint8_t *frame, uint32_t len);
/* Frames waiting in a port's receive fifo. */
uint32_t ftcp_memlink_pending(const struct ftcp_memlink_port *p);

#endif
