/*
 * ftcp_faultdev.h — a seeded fault injector that wraps any device: the
 * in-memory link in tests, the DPDK port by configuration. This machine's
 * kernel has no netem, so this is how loss, duplication, reordering,
 * corruption, delay and rate limits are made; the same seed replays the
 * same faults.
 *
 * Each direction (frames the stack sends, frames it receives) has its own
 * settings. A direction with every setting zero passes frames through
 * untouched and uncopied. Otherwise each frame is copied into a slot and
 * released to its destination when due: after the delay (plus jitter, plus
 * reorder_delay for the frames picked for reordering, which lets later
 * frames overtake them) and, with a rate limit, no sooner than the link
 * could serialise it. When every slot is taken the frame is dropped, like a
 * full queue on a bottleneck.
 */
#ifndef FTCP_FAULTDEV_H
#define FTCP_FAULTDEV_H

#include "ftcp/ftcp_device.h"
#include "base/ftcp_heap.h"
#include "base/ftcp_pool.h"
#include "base/ftcp_rand.h"

struct ftcp_fault_dir {
	uint32_t drop_ppm;        /* probability per frame, parts per million */
	uint32_t dup_ppm;
	uint32_t corrupt_ppm;     /* flip one random bit past the Ethernet header */
	uint32_t reorder_ppm;
	uint64_t delay_us;
	uint64_t jitter_us;       /* extra delay, uniform in [0, jitter_us] */
	uint64_t reorder_delay_us;
	uint64_t rate_bps;        /* bits per second, 0 = unlimited */
};

struct ftcp_fault_config {
	uint64_t seed;
	uint32_t slots;           /* frames in flight inside the injector */
	uint32_t max_frame;       /* largest frame (Ethernet header included) */
	struct ftcp_fault_dir tx; /* frames the stack sends */
	struct ftcp_fault_dir rx; /* frames the stack receives */
};

struct ftcp_fault_stats {
	uint64_t frames, dropped, duplicated, corrupted, reordered, delayed;
	uint64_t queue_full;      /* dropped: no free slot */
};

struct ftcp_faultdev {
	struct ftcp_device dev;   /* hand this to ftcp_stack_init */
	struct ftcp_device *inner;
	struct ftcp_fault_config cfg;
	struct ftcp_rand rng;
	struct ftcp_pool slots;
	uint32_t slot_size;
	struct ftcp_heap tx_heap, rx_heap;
	uint64_t tx_next_free_ns, rx_next_free_ns; /* rate limit: busy until */
	struct ftcp_rx_frame *inner_rx;      /* scratch for pulls from inner */
	bool rx_passthrough;                 /* the last rx_burst came from inner */
	struct ftcp_fault_stats tx_stats, rx_stats;
};

size_t ftcp_faultdev_memory_size(const struct ftcp_fault_config *c);
/* Wrap inner. mem: ftcp_faultdev_memory_size bytes aligned to 8. The
 * wrapper reports inner's MAC, MTU and caps, less FTCP_DEV_TX_TSO when
 * transmit faults are set (they apply per frame the stack sends). */
int ftcp_faultdev_init(struct ftcp_faultdev *fd, struct ftcp_device *inner,
                       const struct ftcp_fault_config *c, void *mem, size_t mem_len);
/* When the next held frame is due (UINT64_MAX if none): a driver with a
 * virtual clock may jump to it. */
uint64_t ftcp_faultdev_next_release(const struct ftcp_faultdev *fd);
/* Frames held in the injector (both directions). */
uint32_t ftcp_faultdev_in_flight(const struct ftcp_faultdev *fd);

#endif
