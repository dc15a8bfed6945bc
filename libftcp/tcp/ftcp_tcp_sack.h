/*
 * ftcp_tcp_sack.h — the data sender's SACK scoreboard (RFC 2018, RFC 6675).
 *
 * Holds what the receiver has reported SACKed above the cumulative ACK, as
 * a bounded, sorted list of disjoint, non-adjacent ranges, and answers the
 * questions of RFC 6675's loss recovery: IsLost, SetPipe, NextSeg.
 *
 * Bounded: at most FTCP_SACK_SB_MAX ranges. When a new range would not
 * fit, the highest range is forgotten (treated as not SACKed), which only
 * makes the sender more conservative.
 *
 * Untrusted input: blocks are ignored unless start < end and both lie in
 * [snd_una, snd_max]; D-SACK blocks (RFC 2883, below snd_una) are ignored.
 * A block only partly inside the window is ignored whole, not clipped.
 *
 * Conventions: high_rxt is the end (exclusive) of what was retransmitted,
 * and an mss of 0 is taken as 1.
 */
#ifndef FTCP_TCP_SACK_H
#define FTCP_TCP_SACK_H

/* Only the wire block type: ftcp_tcp.h includes this header. */
#include "wire/ftcp_wire_tcp.h"

#define FTCP_SACK_SB_MAX 16
#define FTCP_DUPTHRESH 3

struct ftcp_sack_range {
	uint32_t start, end; /* [start, end) */
};

struct ftcp_sack_sb {
	uint32_t n;
	uint32_t sacked_bytes; /* total of all ranges */
	struct ftcp_sack_range r[FTCP_SACK_SB_MAX];
};

void ftcp_sack_sb_reset(struct ftcp_sack_sb *sb);

/* Merge the blocks of one ACK, in order (after dropping what lies below
 * snd_una, as ftcp_sack_sb_ack does). Returns the number of bytes newly
 * SACKed (0 if the ACK brought no new SACK information); a block forgotten
 * because the scoreboard is full adds nothing, and bytes of a range evicted
 * to make room are not subtracted. */
uint32_t ftcp_sack_sb_update(struct ftcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max,
                             const struct ftcp_tcp_sack_block *b, unsigned n);

/* The cumulative ACK moved to snd_una: forget everything below it. */
void ftcp_sack_sb_ack(struct ftcp_sack_sb *sb, uint32_t snd_una);

bool ftcp_sack_sb_is_sacked(const struct ftcp_sack_sb *sb, uint32_t seq);

/* Highest SACKed sequence number + 1 (HighSACK's end), or snd_una if none. */
uint32_t ftcp_sack_sb_high(const struct ftcp_sack_sb *sb, uint32_t snd_una);

/* RFC 6675 IsLost(seq): true when at least DupThresh discontiguous SACKed
 * segments (counted as ceil(bytes/mss) per range), or more than
 * (DupThresh - 1) * mss SACKed bytes, lie above seq. */
bool ftcp_sack_sb_is_lost(const struct ftcp_sack_sb *sb, uint32_t seq, uint32_t mss);

/* RFC 6675 SetPipe(): bytes in flight in [snd_una, snd_max). A byte counts
 * once if it is not SACKed and not lost, and once more if it was
 * retransmitted (it lies below high_rxt). Lost-ness is judged per mss-sized
 * segment from snd_una. */
uint32_t ftcp_sack_sb_pipe(const struct ftcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max,
                           uint32_t high_rxt, uint32_t mss);

/* RFC 6675 NextSeg() rules 1 and 3 (rule 2, new data, is the caller's):
 * the first range of at most mss bytes in [max(snd_una, high_rxt),
 * snd_max) that is not SACKed and (rule 1) IsLost, or (rule 3, only when
 * allow_rule3) lies below the highest SACKed byte. Returns true and the
 * range in *seq and *len; *len stops at the next SACKed byte. */
bool ftcp_sack_sb_next_seg(const struct ftcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max,
                           uint32_t high_rxt, uint32_t mss, bool allow_rule3, uint32_t *seq,
                           uint32_t *len);

#endif
