/*
 * ftcp_device.h — the one interface between the core and a NIC queue.
 *
 * A device is a receive-burst function, a transmit-burst function and a
 * release function for received buffers. The core calls them from its poll
 * loop only; a device never calls into the core except to release TX pins.
 * Implementations: the in-memory link and the fault injector (libftcp/dev/),
 * the DPDK port (dpdk_port/), and whatever an MCU port provides.
 *
 * Receive: rx_burst fills up to n descriptors. Each points at a whole
 * Ethernet frame (no FCS) the device owns; the core reads it and then hands
 * the descriptors back through rx_release, in the same poll step.
 *
 * Transmit: a frame is a header piece and up to two payload pieces, so a
 * TCP segment can reference bytes in a socket's TX ring instead of copying
 * them (the seed design's zero-copy TX); the second piece carries on from
 * the start of the ring when the first runs to its end, so segments are
 * never cut short at the wrap. The header memory is the core's and
 * is reused as soon as tx_burst returns: the device copies it. The payload:
 *  - pin == NULL: the payload is only valid during the call; copy it.
 *  - pin != NULL: the device may keep referencing the payload after the call
 *    and must call ftcp_txpin_release(pin) exactly once when it no longer
 *    does (a copying device releases at once). Until then the core does not
 *    reuse those bytes.
 */
#ifndef FTCP_DEVICE_H
#define FTCP_DEVICE_H

#include <stdint.h>

#define FTCP_ETH_ALEN 6

struct ftcp_mac {
	uint8_t b[FTCP_ETH_ALEN];
};

/* Capability bits a device reports in ftcp_device.caps. */
enum ftcp_device_caps {
	FTCP_DEV_TX_IPV4_CKSUM = 1u << 0, /* fills the IPv4 header checksum */
	FTCP_DEV_TX_UDP_CKSUM = 1u << 1,  /* fills UDP checksum from pseudo-header sum */
	FTCP_DEV_TX_TCP_CKSUM = 1u << 2,  /* fills TCP checksum from pseudo-header sum */
	FTCP_DEV_RX_CKSUM = 1u << 3,      /* sets FTCP_RX_* checksum flags */
	FTCP_DEV_TX_TSO = 1u << 4,        /* segments large TCP frames (tso_segsz) */
};

/* Per-frame receive flags. Absent GOOD or BAD, the core verifies in software. */
enum ftcp_rx_flags {
	FTCP_RX_IP_CKSUM_GOOD = 1u << 0,
	FTCP_RX_IP_CKSUM_BAD = 1u << 1,
	FTCP_RX_L4_CKSUM_GOOD = 1u << 2,
	FTCP_RX_L4_CKSUM_BAD = 1u << 3,
};

/* Per-frame transmit requests; only set when the matching cap is present.
 * With an L4 request the checksum field holds the pseudo-header sum. */
enum ftcp_tx_flags {
	FTCP_TX_IP_CKSUM = 1u << 0,
	FTCP_TX_UDP_CKSUM = 1u << 1,
	FTCP_TX_TCP_CKSUM = 1u << 2,
	FTCP_TX_TSO = 1u << 3,
};

struct ftcp_rx_frame {
	const uint8_t *data;
	uint32_t len;
	uint32_t flags;  /* enum ftcp_rx_flags */
	void *cookie;    /* the device's own reference, untouched by the core */
};

/* Counts outstanding device references to payload bytes. Owned by the core
 * (it lives inside a socket or the stack). */
struct ftcp_txpin {
	uint32_t refs;
};

static inline void ftcp_txpin_release(struct ftcp_txpin *pin)
{
	pin->refs--;
}

struct ftcp_tx_frame {
	const uint8_t *hdr;
	uint32_t hdr_len;
	const uint8_t *payload;   /* may be NULL */
	uint32_t payload_len;
	const uint8_t *payload2;  /* continues payload; NULL if none */
	uint32_t payload2_len;
	uint32_t flags;           /* enum ftcp_tx_flags */
	uint8_t l2_len, l3_len, l4_len;
	uint16_t tso_segsz;       /* with FTCP_TX_TSO: payload bytes per segment */
	struct ftcp_txpin *pin;   /* see the header comment */
};

static inline uint32_t ftcp_tx_frame_len(const struct ftcp_tx_frame *f)
{
	return f->hdr_len + f->payload_len + f->payload2_len;
}

/* Copy a frame's pieces into dst (ftcp_tx_frame_len bytes): for devices
 * that copy rather than reference. */
static inline void ftcp_tx_frame_copy(const struct ftcp_tx_frame *f, uint8_t *dst)
{
	__builtin_memcpy(dst, f->hdr, f->hdr_len);
	if (f->payload_len)
		__builtin_memcpy(dst + f->hdr_len, f->payload, f->payload_len);
	if (f->payload2_len)
		__builtin_memcpy(dst + f->hdr_len + f->payload_len, f->payload2, f->payload2_len);
}

struct ftcp_device;

struct ftcp_device_ops {
	/* Receive up to n frames into f[]; returns how many. now_us is the
	 * stack's clock, for devices that model time (the fault injector). */
	uint16_t (*rx_burst)(struct ftcp_device *dev, struct ftcp_rx_frame *f,
	                     uint16_t n, uint64_t now_us);
	/* Give back frames returned by rx_burst. */
	void (*rx_release)(struct ftcp_device *dev, struct ftcp_rx_frame *f,
	                   uint16_t n);
	/* Transmit up to n frames; returns how many were taken. Frames not
	 * taken stay the caller's (it retries or drops them). */
	uint16_t (*tx_burst)(struct ftcp_device *dev, const struct ftcp_tx_frame *f,
	                     uint16_t n, uint64_t now_us);
};

struct ftcp_device {
	const struct ftcp_device_ops *ops;
	struct ftcp_mac mac;
	uint32_t mtu;   /* largest IP packet, without the Ethernet header */
	uint32_t caps;  /* enum ftcp_device_caps */
};

#endif
