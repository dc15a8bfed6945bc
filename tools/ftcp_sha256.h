/* ftcp_sha256.h — SHA-256 (FIPS 180-4) for the tools' transfer checks. */
#ifndef FTCP_SHA256_H
#define FTCP_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct ftcp_sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	uint32_t used;
};

void ftcp_sha256_init(struct ftcp_sha256 *c);
void ftcp_sha256_update(struct ftcp_sha256 *c, const void *data, size_t len);
/* Finish and write the 64-character lowercase hex digest plus NUL. */
void ftcp_sha256_hex(struct ftcp_sha256 *c, char out[65]);

#endif
