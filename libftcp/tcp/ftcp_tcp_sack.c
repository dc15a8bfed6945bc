/*
 * ftcp_tcp_sack.c — the data sender's SACK scoreboard (see ftcp_tcp_sack.h).
 *
 * The ranges are kept sorted by sequence number, disjoint and non-adjacent
 * (r[i].end < r[i + 1].start), all inside [snd_una, snd_max]. That window
 * is far below 2^31 bytes, so the wrap-safe comparisons order every pair
 * of sequence numbers we hold consistently. At most FTCP_SACK_SB_MAX
 * ranges means every query is a short linear walk.
 */
#include "tcp/ftcp_tcp.h" /* the wrap-safe sequence comparisons */
#include "tcp/ftcp_tcp_sack.h"

/* mss 0 would divide by zero; a 1-byte segment is the safe reading. */
static uint32_t sane_mss(uint32_t mss)
{
	return mss ? mss : 1;
}

static void remove_ranges(struct ftcp_sack_sb *sb, uint32_t at, uint32_t count)
{
	ftcp_memmove(&sb->r[at], &sb->r[at + count],
	             (sb->n - at - count) * sizeof(sb->r[0]));
	sb->n -= count;
}

void ftcp_sack_sb_reset(struct ftcp_sack_sb *sb)
{
	sb->n = 0;
	sb->sacked_bytes = 0;
}

/* Merge one validated block [s, e). Returns the bytes it newly covers. */
static uint32_t add_block(struct ftcp_sack_sb *sb, uint32_t s, uint32_t e)
{
	uint32_t i = 0, j, k, old = 0, ns, ne;

	/* i: the first range that ends at or after s (touches or lies above);
	 * ranges i..j-1 overlap the block or are adjacent to it. */
	while (i < sb->n && ftcp_seq_lt(sb->r[i].end, s))
		i++;
	j = i;
	while (j < sb->n && ftcp_seq_le(sb->r[j].start, e))
		j++;

	if (i == j) {
		/* A new, separate range. When full, forget the highest range
		 * (the new one if it is the highest): losing SACK information
		 * only makes us retransmit more, never less (RFC 6675 sec. 5). */
		if (sb->n == FTCP_SACK_SB_MAX) {
			if (i == sb->n)
				return 0;
			sb->n--;
			sb->sacked_bytes -= sb->r[sb->n].end - sb->r[sb->n].start;
		}
		ftcp_memmove(&sb->r[i + 1], &sb->r[i], (sb->n - i) * sizeof(sb->r[0]));
		sb->r[i].start = s;
		sb->r[i].end = e;
		sb->n++;
		sb->sacked_bytes += e - s;
		return e - s;
	}

	/* Fold ranges i..j-1 and the block into r[i]: what the union gained
	 * over the ranges it swallowed is exactly what is newly SACKed. */
	for (k = i; k < j; k++)
		old += sb->r[k].end - sb->r[k].start;
	ns = ftcp_seq_min(s, sb->r[i].start);
	ne = ftcp_seq_max(e, sb->r[j - 1].end);
	sb->r[i].start = ns;
	sb->r[i].end = ne;
	remove_ranges(sb, i + 1, j - i - 1);
	sb->sacked_bytes += (ne - ns) - old;
	return (ne - ns) - old;
}

uint32_t ftcp_sack_sb_update(struct ftcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max,
                             const struct ftcp_tcp_sack_block *b, unsigned n)
{
	uint32_t added = 0;
	unsigned k;

	/* Ranges the cumulative ACK covered carry no information any more. */
	ftcp_sack_sb_ack(sb, snd_una);
	for (k = 0; k < n; k++) {
		uint32_t s = b[k].start, e = b[k].end;

		/* Blocks are untrusted (RFC 2018 sec. 3 gives them no validity
		 * guarantee). A block not wholly inside [snd_una, snd_max] is
		 * ignored rather than clipped: it is either a D-SACK (RFC 2883,
		 * below snd_una) or bogus, and clipping a bogus block could
		 * invent SACKed data. */
		if (!ftcp_seq_lt(s, e) || !ftcp_seq_in(s, snd_una, snd_max) ||
		    !ftcp_seq_le(e, snd_max))
			continue;
		added += add_block(sb, s, e);
	}
	return added;
}

void ftcp_sack_sb_ack(struct ftcp_sack_sb *sb, uint32_t snd_una)
{
	uint32_t k = 0;

	while (k < sb->n && ftcp_seq_le(sb->r[k].end, snd_una)) {
		sb->sacked_bytes -= sb->r[k].end - sb->r[k].start;
		k++;
	}
	if (k)
		remove_ranges(sb, 0, k);
	if (sb->n && ftcp_seq_lt(sb->r[0].start, snd_una)) {
		sb->sacked_bytes -= snd_una - sb->r[0].start;
		sb->r[0].start = snd_una;
	}
}

bool ftcp_sack_sb_is_sacked(const struct ftcp_sack_sb *sb, uint32_t seq)
{
	uint32_t k;

	for (k = 0; k < sb->n; k++) {
		if (ftcp_seq_lt(seq, sb->r[k].start))
			return false; /* sorted: no later range can hold it */
		if (ftcp_seq_lt(seq, sb->r[k].end))
			return true;
	}
	return false;
}

uint32_t ftcp_sack_sb_high(const struct ftcp_sack_sb *sb, uint32_t snd_una)
{
	return sb->n ? sb->r[sb->n - 1].end : snd_una;
}

bool ftcp_sack_sb_is_lost(const struct ftcp_sack_sb *sb, uint32_t seq, uint32_t mss)
{
	uint32_t segs = 0, bytes = 0, k;

	mss = sane_mss(mss);
	/* RFC 6675 sec. 4, IsLost(): count what was SACKed strictly above
	 * seq, walking down from the highest range. */
	for (k = sb->n; k-- > 0;) {
		uint32_t from = sb->r[k].start, above;

		if (ftcp_seq_le(sb->r[k].end, seq + 1))
			break; /* nothing above seq here, nor in lower ranges */
		if (ftcp_seq_le(from, seq))
			from = seq + 1;
		above = sb->r[k].end - from;
		/* A range may hold several segments; each counts (RFC 6675
		 * sec. 4 counts SACKed segments, not SACK blocks). */
		segs += above / mss + (above % mss != 0);
		bytes += above;
		if (segs >= FTCP_DUPTHRESH || bytes > (uint64_t)(FTCP_DUPTHRESH - 1) * mss)
			return true;
	}
	return false;
}

/* SACKed bytes inside [a, b). */
static uint32_t sacked_in(const struct ftcp_sack_sb *sb, uint32_t a, uint32_t b)
{
	uint32_t k, total = 0;

	for (k = 0; k < sb->n; k++) {
		uint32_t s = ftcp_seq_max(sb->r[k].start, a);
		uint32_t e = ftcp_seq_min(sb->r[k].end, b);

		if (ftcp_seq_lt(s, e))
			total += e - s;
	}
	return total;
}

/* The end of the segments judged lost: segment k is [snd_una + k*mss,
 * + mss) and is lost iff IsLost(its first byte). IsLost only weakens as
 * seq grows (fewer SACKed bytes lie above), so the lost segments form a
 * prefix and a binary search over k finds its end without a walk over
 * every segment of a large window. */
static uint32_t lost_end(const struct ftcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max,
                         uint32_t mss)
{
	uint32_t win = snd_max - snd_una;
	uint32_t lo = 0, hi = win / mss + (win % mss != 0); /* segments */

	/* Invariant: segments < lo are lost, segments >= hi are not. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ftcp_sack_sb_is_lost(sb, snd_una + mid * mss, mss))
			lo = mid + 1;
		else
			hi = mid;
	}
	if ((uint64_t)lo * mss >= win)
		return snd_max;
	return snd_una + lo * mss;
}

uint32_t ftcp_sack_sb_pipe(const struct ftcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max,
                           uint32_t high_rxt, uint32_t mss)
{
	uint32_t pipe = 0, lost;

	if (!ftcp_seq_lt(snd_una, snd_max))
		return 0;
	mss = sane_mss(mss);
	/* RFC 6675 sec. 4, SetPipe(), per unSACKed byte of [snd_una, snd_max):
	 * (a) +1 unless IsLost, (b) +1 more if retransmitted. */
	lost = lost_end(sb, snd_una, snd_max, mss);
	pipe += (snd_max - lost) - sacked_in(sb, lost, snd_max);
	if (ftcp_seq_gt(high_rxt, snd_una)) {
		uint32_t rxt = ftcp_seq_min(high_rxt, snd_max);

		pipe += (rxt - snd_una) - sacked_in(sb, snd_una, rxt);
	}
	return pipe;
}

bool ftcp_sack_sb_next_seg(const struct ftcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max,
                           uint32_t high_rxt, uint32_t mss, bool allow_rule3, uint32_t *seq,
                           uint32_t *len)
{
	uint32_t x = ftcp_seq_max(snd_una, high_rxt), k;

	mss = sane_mss(mss);
	/* The first unSACKed byte at or above x; since ranges are
	 * non-adjacent, the end of a range is never SACKed. */
	for (k = 0; k < sb->n; k++) {
		if (ftcp_seq_le(sb->r[k].end, x))
			continue;
		if (ftcp_seq_gt(sb->r[k].start, x))
			break;
		x = sb->r[k].end;
	}
	/* Rules 1 and 3 both want a hole below the highest SACKed byte
	 * (1.b, 3.b): with no range left above x there is none. */
	if (k == sb->n || !ftcp_seq_lt(x, snd_max))
		return false;
	/* IsLost is monotone in seq, so if the first candidate hole is not
	 * lost no later one is: rule 1 fails and only rule 3 may apply. */
	if (!allow_rule3 && !ftcp_sack_sb_is_lost(sb, x, mss))
		return false;
	*seq = x;
	*len = FTCP_MIN(mss, sb->r[k].start - x);
	return true;
}
