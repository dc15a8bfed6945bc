/*
 * ftcp_wire.h — wire formats: Ethernet, ARP, IPv4, ICMP, UDP.
 *
 * Each header has a representation in host order, a parse function that
 * checks every length and field it relies on before reading (everything
 * from the wire is untrusted) and returns the header length or a negative
 * ftcp_wire_err, and an emit function that writes the header to a buffer
 * the caller has sized. Protocol code only handles representations; only
 * these files know byte offsets.
 */
#ifndef FTCP_WIRE_H
#define FTCP_WIRE_H

#include "base/ftcp_base.h"
#include "ftcp/ftcp_device.h"

enum ftcp_wire_err {
	FTCP_WIRE_SHORT = 1,     /* buffer shorter than the header says */
	FTCP_WIRE_UNSUPPORTED,   /* a field value we do not handle */
	FTCP_WIRE_VERSION,
	FTCP_WIRE_HDR_LEN,
	FTCP_WIRE_TOTAL_LEN,
	FTCP_WIRE_CKSUM,
	FTCP_WIRE_OPTIONS,       /* malformed options */
};

/* ---- Ethernet II ---- */
#define FTCP_ETH_HLEN 14
#define FTCP_ETHERTYPE_IPV4 0x0800
#define FTCP_ETHERTYPE_ARP 0x0806

struct ftcp_eth_repr {
	struct ftcp_mac dst, src;
	uint16_t type;
};

int ftcp_eth_parse(const uint8_t *buf, uint32_t len, struct ftcp_eth_repr *r);
void ftcp_eth_emit(const struct ftcp_eth_repr *r, uint8_t *buf);

static inline bool ftcp_mac_eq(const struct ftcp_mac *a, const struct ftcp_mac *b)
{
	return ftcp_memcmp(a->b, b->b, FTCP_ETH_ALEN) == 0;
}

static inline bool ftcp_mac_is_broadcast(const struct ftcp_mac *m)
{
	return (m->b[0] & m->b[1] & m->b[2] & m->b[3] & m->b[4] & m->b[5]) == 0xff;
}

static inline bool ftcp_mac_is_multicast(const struct ftcp_mac *m)
{
	return m->b[0] & 1;
}

extern const struct ftcp_mac ftcp_mac_broadcast;
extern const struct ftcp_mac ftcp_mac_zero;

/* ---- ARP for Ethernet/IPv4 (RFC 826) ---- */
#define FTCP_ARP_LEN 28
#define FTCP_ARP_REQUEST 1
#define FTCP_ARP_REPLY 2

struct ftcp_arp_repr {
	uint16_t op;
	struct ftcp_mac sha, tha;
	uint32_t spa, tpa;
};

int ftcp_arp_parse(const uint8_t *buf, uint32_t len, struct ftcp_arp_repr *r);
void ftcp_arp_emit(const struct ftcp_arp_repr *r, uint8_t *buf);

/* ---- IPv4 (RFC 791) ---- */
#define FTCP_IPV4_HLEN 20
#define FTCP_IPV4_MAX_HLEN 60
#define FTCP_IP_PROTO_ICMP 1
#define FTCP_IP_PROTO_TCP 6
#define FTCP_IP_PROTO_UDP 17
#define FTCP_IPV4_DF 0x4000
#define FTCP_IPV4_MF 0x2000
#define FTCP_IPV4_FRAG_MASK 0x1fff

enum ftcp_ipv4_opt_flags {
	FTCP_IPV4_HAS_OPTIONS = 1u << 0,
	FTCP_IPV4_SOURCE_ROUTE = 1u << 1, /* LSRR or SSRR present */
};

struct ftcp_ipv4_repr {
	uint32_t src, dst;
	uint8_t proto;
	uint8_t ttl;
	uint8_t tos;
	uint8_t hdr_len;      /* bytes */
	uint16_t total_len;   /* bytes, header included */
	uint16_t id;
	uint16_t frag;        /* flags and offset as on the wire */
	uint32_t opt_flags;   /* enum ftcp_ipv4_opt_flags (parse only) */
};

/* Checks version, header length, total length against len, options
 * structure, and (if verify_cksum) the header checksum. Returns hdr_len.
 * The caller trims the buffer to total_len (Ethernet pads short frames). */
int ftcp_ipv4_parse(const uint8_t *buf, uint32_t len, bool verify_cksum,
                    struct ftcp_ipv4_repr *r);
/* Writes a 20-byte header (no options); fills the checksum if fill_cksum,
 * else leaves 0 for the device to fill. */
void ftcp_ipv4_emit(const struct ftcp_ipv4_repr *r, uint8_t *buf, bool fill_cksum);
/* The same header from its fields, checksum 0: for the per-segment TCP
 * path, which would otherwise fill a repr only to have it copied out. */
static inline void ftcp_ipv4_write(uint8_t *buf, uint8_t tos, uint16_t total_len, uint16_t id,
                                   uint16_t frag, uint8_t ttl, uint8_t proto, uint32_t src,
                                   uint32_t dst)
{
	buf[0] = 0x45;
	buf[1] = tos;
	ftcp_put_be16(buf + 2, total_len);
	ftcp_put_be16(buf + 4, id);
	ftcp_put_be16(buf + 6, frag);
	buf[8] = ttl;
	buf[9] = proto;
	ftcp_put_be16(buf + 10, 0);
	ftcp_put_be32(buf + 12, src);
	ftcp_put_be32(buf + 16, dst);
}

static inline bool ftcp_ipv4_is_fragment(const struct ftcp_ipv4_repr *r)
{
	return (r->frag & (FTCP_IPV4_MF | FTCP_IPV4_FRAG_MASK)) != 0;
}

static inline bool ftcp_ipv4_is_multicast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

/* ---- ICMP (RFC 792) ---- */
#define FTCP_ICMP_HLEN 8
#define FTCP_ICMP_ECHO_REPLY 0
#define FTCP_ICMP_DEST_UNREACH 3
#define FTCP_ICMP_ECHO_REQUEST 8
#define FTCP_ICMP_TIME_EXCEEDED 11
#define FTCP_ICMP_UNREACH_NET 0
#define FTCP_ICMP_UNREACH_HOST 1
#define FTCP_ICMP_UNREACH_PROTO 2
#define FTCP_ICMP_UNREACH_PORT 3
#define FTCP_ICMP_UNREACH_FRAG_NEEDED 4

struct ftcp_icmp_repr {
	uint8_t type, code;
	uint16_t ident, seq;   /* echo */
	uint32_t rest;         /* the 4 bytes after the checksum, raw */
	const uint8_t *data;   /* after the 8-byte header */
	uint32_t data_len;
};

/* Checks length and (if verify_cksum) the checksum over len bytes. */
int ftcp_icmp_parse(const uint8_t *buf, uint32_t len, bool verify_cksum,
                    struct ftcp_icmp_repr *r);
/* Writes the 8-byte header; the checksum covers the header and data_len
 * bytes at r->data (which may already sit right after the header). */
void ftcp_icmp_emit(const struct ftcp_icmp_repr *r, uint8_t *buf);

/* ---- UDP (RFC 768) ---- */
#define FTCP_UDP_HLEN 8

struct ftcp_udp_repr {
	uint16_t src_port, dst_port;
	uint16_t len;          /* header + payload */
	uint16_t cksum;        /* as received; 0 = none sent */
};

/* Checks lengths (the UDP length must fit len) and, if verify_cksum and the
 * sender computed one, the checksum with the pseudo-header of src/dst. */
int ftcp_udp_parse(const uint8_t *buf, uint32_t len, uint32_t src, uint32_t dst,
                   bool verify_cksum, struct ftcp_udp_repr *r);
/* Writes the header. With full_cksum the checksum covers header + payload
 * (payload at buf + 8, r->len - 8 bytes); otherwise the field holds the
 * pseudo-header sum for a device to complete. */
void ftcp_udp_emit(const struct ftcp_udp_repr *r, uint8_t *buf, uint32_t src,
                   uint32_t dst, bool full_cksum);

/* ---- device helpers ---- */

/* Do in software what a device asked for FTCP_TX_* flags would do: fill the
 * IPv4 header checksum and complete the UDP/TCP checksum whose field holds
 * the pseudo-header sum. For devices without offload hardware and for the
 * fault injector (which must checksum before it corrupts). */
void ftcp_wire_complete_cksums(uint8_t *frame, uint32_t len, uint32_t tx_flags, uint8_t l2_len,
                               uint8_t l3_len);

#endif
