/*
 * ftcp_siphash.h — SipHash-2-4 (Aumasson and Bernstein), a keyed
 * pseudo-random function over short inputs. TCP uses it where an attacker
 * must not predict the output: initial sequence numbers (RFC 6528) and
 * SYN cookies (RFC 4987).
 */
#ifndef FTCP_SIPHASH_H
#define FTCP_SIPHASH_H

#include "ftcp_base.h"

struct ftcp_siphash_key {
	uint64_t k0, k1;
};

uint64_t ftcp_siphash(const struct ftcp_siphash_key *key, const void *data, size_t len);

#endif
