/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the capture (capture.c) and its decoders (capture_decode.c,
 * capture_ipv6.c) share: network-order reads, the transport headers, the
 * frame decoder itself. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tf_capture.h"

static inline uint16_t tf__be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t tf__be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The TCP header at l4: `cap` bytes of it were captured, `seg` bytes is
 * the segment by the IP header's length.  0, or -EINVAL when the header
 * is cut or its data offset does not fit the segment. */
static inline int tf__decode_tcp(const uint8_t *l4, size_t cap, size_t seg, tf_pkt *p)
{
	size_t doff;

	if (cap < 20 || seg < 20)
		return -EINVAL;
	doff = (size_t)(l4[12] >> 4) * 4;
	if (doff < 20 || doff > seg)
		return -EINVAL;
	p->sport = tf__be16(l4);
	p->dport = tf__be16(l4 + 2);
	p->seq = tf__be32(l4 + 4);
	p->ack = tf__be32(l4 + 8);
	p->flags = l4[13];
	p->win = tf__be16(l4 + 14);
	p->payload = (uint32_t)(seg - doff);
	return 0;
}

/* capture_decode.c: a link type the decoder reads; one frame (`len`
 * captured of `wirelen`) to a packet, 0 or -EINVAL. */
bool tf__linktype_ok(int lt);
/* tf_pkt_decode_ipv6() with the wire length (a capture cut at snaplen) */
int tf__decode_ipv6(const uint8_t *ip, size_t len, size_t wirelen, tf_pkt *out);
int tf__decode(const uint8_t *f, size_t len, size_t wirelen, int linktype, int64_t ts_ns,
               tf_pkt *out);
