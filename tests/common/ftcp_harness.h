/*
 * ftcp_harness.h — stacks on an in-memory link with a virtual clock, and raw
 * "peer" ports a test drives by hand (inject a frame, read what the stack
 * sent). The harness is test code: it allocates with malloc and frees
 * everything in harness_free.
 */
#ifndef FTCP_HARNESS_H
#define FTCP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "ftcp/ftcp.h"
#include "dev/ftcp_faultdev.h"
#include "dev/ftcp_memlink.h"

#define HARNESS_MAX_NODES 8
#define HARNESS_MAX_PEERS 4
#define HARNESS_RX_FIFO (1u << 20)

/* With FTCP_TRACE=1 in the environment, every frame a stack transmits is
 * printed (TCP segments decoded) before it reaches the link or the fault
 * injector. */
struct harness_tracer {
	struct ftcp_device dev;
	struct ftcp_device *inner;
	struct harness *h;
	char name;
};

struct harness_node {
	struct ftcp_memlink_port port;
	struct ftcp_faultdev fault;
	struct harness_tracer tracer;
	bool faulty;
	struct ftcp_stack *stack;
	struct ftcp_config cfg;
	void *stack_mem, *rx_mem, *fault_mem;
};

struct harness {
	struct ftcp_memlink link;
	uint64_t now;
	struct harness_node nodes[HARNESS_MAX_NODES];
	unsigned n_nodes;
	struct ftcp_memlink_port peers[HARNESS_MAX_PEERS];
	void *peer_mem[HARNESS_MAX_PEERS];
	unsigned n_peers;
};

/* MAC 02:00:00:00:00:<id>: locally administered, unicast. */
struct ftcp_mac harness_mac(uint8_t id);

void harness_init(struct harness *h);
/* Default configuration for ip/24 with a fixed secret (reproducible). */
void harness_config(struct ftcp_config *c, uint32_t ip);
/* Start a stack with cfg on a new port (MAC harness_mac(n+1)); caps are the
 * port's emulated offloads; faults (may be NULL) wraps the port. Returns
 * the stack; fails the test and returns NULL on error. */
struct ftcp_stack *harness_add(struct harness *h, const struct ftcp_config *cfg, uint32_t caps,
                               const struct ftcp_fault_config *faults);
/* Shorthand: defaults for ip, no offload, no faults. */
struct ftcp_stack *harness_add_simple(struct harness *h, uint32_t ip);
/* A raw port with MAC harness_mac(0xf0 + n). */
struct ftcp_memlink_port *harness_add_peer(struct harness *h);
struct harness_node *harness_node_of(struct harness *h, const struct ftcp_stack *s);

/* Advance the clock by step_us and poll every stack once. */
void harness_step(struct harness *h, uint64_t step_us);
/* Step until duration_us of virtual time has passed. */
void harness_run(struct harness *h, uint64_t duration_us, uint64_t step_us);
/* Step until pred(arg) holds or max_us passes; true if it held. */
bool harness_run_until(struct harness *h, bool (*pred)(void *), void *arg, uint64_t max_us,
                       uint64_t step_us);
/* Event-driven: poll every stack; while any has work, poll again 1 us
 * later; when all are idle, jump to the next timer or held frame. Stops
 * when pred(arg) holds (true) or max_us passes (false). For long
 * protocol runs (minutes of virtual time in milliseconds of real time). */
bool harness_run_fast(struct harness *h, bool (*pred)(void *), void *arg, uint64_t max_us);
void harness_free(struct harness *h);

/* Copy the oldest frame waiting at a peer port into buf; its length, or 0
 * when none waits. */
uint32_t harness_peer_recv(struct ftcp_memlink_port *p, uint8_t *buf, uint32_t cap);
/* Discard everything waiting at a peer port; returns how many frames. */
uint32_t harness_peer_drain(struct ftcp_memlink_port *p);
void harness_inject(struct harness *h, const uint8_t *frame, uint32_t len);

/* Frame builders for peers: return the frame length. Checksums are filled
 * correctly; tests corrupt them afterwards where that is the point. */
uint32_t harness_build_arp(uint8_t *buf, uint16_t op, const struct ftcp_mac *eth_dst,
                           const struct ftcp_mac *sha, uint32_t spa, const struct ftcp_mac *tha,
                           uint32_t tpa);
/* Ethernet + IPv4 (20-byte header, DF) around l4_len bytes already placed
 * at buf + 34. */
uint32_t harness_build_ipv4(uint8_t *buf, const struct ftcp_mac *dst, const struct ftcp_mac *src,
                            uint32_t saddr, uint32_t daddr, uint8_t proto, uint32_t l4_len);
uint32_t harness_build_udp(uint8_t *buf, const struct ftcp_mac *dst, const struct ftcp_mac *src,
                           uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport,
                           const void *payload, uint32_t len);
uint32_t harness_build_icmp_echo(uint8_t *buf, const struct ftcp_mac *dst,
                                 const struct ftcp_mac *src, uint32_t saddr, uint32_t daddr,
                                 uint8_t type, uint16_t ident, uint16_t seq, const void *data,
                                 uint32_t len);

/* Counter by name (CUnit failure and 0 if no such counter). */
uint64_t harness_counter(const struct ftcp_stack *s, const char *name);
/* Print non-zero counters (debugging aid). */
void harness_dump_counters(const struct ftcp_stack *s, const char *label);

#endif
