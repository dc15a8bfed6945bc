/*
 * ftcp_dpdk.h — a DPDK NIC queue as a libftcp device.
 *
 * Start the EAL from an argument string, configure one RX/TX queue pair on
 * the chosen port (one stack per queue; more queues, more stacks), and get a
 * struct ftcp_device to hand to ftcp_stack_init. The stack's memory should
 * come from ftcp_dpdk_alloc, so the send rings that zero-copy TX references
 * are DPDK (DMA-able) memory.
 *
 * TX: the frame's headers are copied into a small mbuf; its payload pieces
 * are attached as external-buffer mbufs referencing the stack's send ring,
 * chained behind it, on devices that take multi-segment mbufs. The pin the
 * core holds is released when the device frees the chain (TX completion).
 * Devices without multi-segment TX (net_af_xdp copies into its UMEM anyway)
 * get the payload copied into the header mbuf.
 * RX: frames are handed to the stack in the device's mbufs and freed right
 * after (the stack copies TCP data once, into its receive ring).
 *
 * Everything but ftcp_dpdk_eal_init must be called from the thread that
 * drives the stack.
 */
#ifndef FTCP_DPDK_H
#define FTCP_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ftcp/ftcp_device.h"

struct ftcp_dpdk_config {
	const char *port;        /* device name (e.g. "net_af_xdp0"); NULL: the first */
	uint32_t mbufs;          /* mbufs in the pool (RX ring + in flight) */
	uint16_t rx_desc, tx_desc;
	uint32_t mtu;            /* IP MTU to set on the port */
	uint32_t link_wait_ms;   /* how long to wait for link up */
	bool link_down_ok;       /* still down after that: start anyway (the
	                          * link may come later, e.g. a memif server
	                          * waiting for its client) instead of failing */
	bool no_offload;         /* use no offload (checksums, TSO) even if offered */
	bool no_multiseg;        /* copy payloads even if chains are offered */
	bool trusted_link;       /* the link cannot corrupt frames and every peer
	                          * on it trusts it too (memif between libftcp
	                          * processes): checksums are neither computed nor
	                          * checked, as Linux does over veth */
};

void ftcp_dpdk_config_defaults(struct ftcp_dpdk_config *c);

/* Start the EAL once per process from a whitespace-separated argument
 * string. 0, or -1 with DPDK's reason in err. */
int ftcp_dpdk_eal_init(const char *eal_args, char *err, size_t errlen);
/* Release the EAL at process end. */
void ftcp_dpdk_eal_cleanup(void);

struct ftcp_dpdk_port;

/* Configure and start a port. 0, or -1 with a message naming the setting
 * or DPDK's reason in err. */
int ftcp_dpdk_port_start(struct ftcp_dpdk_port **out, const struct ftcp_dpdk_config *c, char *err,
                         size_t errlen);
/* Stop the port and free its pools. Every frame the stack sent must be
 * done: call after the stack stops transmitting. */
void ftcp_dpdk_port_stop(struct ftcp_dpdk_port *p);

struct ftcp_device *ftcp_dpdk_device(struct ftcp_dpdk_port *p);
uint16_t ftcp_dpdk_port_id(const struct ftcp_dpdk_port *p);
const char *ftcp_dpdk_driver(const struct ftcp_dpdk_port *p);
bool ftcp_dpdk_zero_copy(const struct ftcp_dpdk_port *p);
/* An fd that poll() reports readable (POLLIN) while the RX queue holds
 * frames, for a poller that wants to sleep until traffic comes; -1 when
 * the device offers none (then sleep in short steps and poll). Only
 * net_af_xdp has one so far. */
int ftcp_dpdk_rx_wait_fd(const struct ftcp_dpdk_port *p);
/* Whether the link is up now (never blocks). */
bool ftcp_dpdk_link_up(const struct ftcp_dpdk_port *p);
/* The offloads in use and those offered but unused, as text. */
const char *ftcp_dpdk_offloads(const struct ftcp_dpdk_port *p);

struct ftcp_dpdk_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_missed;      /* dropped by the device: RX ring full */
	uint64_t rx_nombuf;      /* RX mbuf allocation failures (device) */
	uint64_t tx_refused;     /* frames the device queue did not take */
	uint64_t tx_nombuf;      /* TX mbuf allocation failures (ours) */
	uint64_t rx_errors, tx_errors;
	uint64_t rx_scattered;   /* multi-segment frames dropped */
};
void ftcp_dpdk_stats(const struct ftcp_dpdk_port *p, struct ftcp_dpdk_stats *out);

/* Memory the device can DMA from: for the stack's block (send rings). */
void *ftcp_dpdk_alloc(size_t len);
void ftcp_dpdk_free(void *p);

/* A monotonic microsecond clock from the TSC. */
uint64_t ftcp_dpdk_now_us(void);

#endif
