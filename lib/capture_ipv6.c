/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IPv6 packet decoding for tf_capture (the IPv4 decoder is capture.c's).
 * Captured bytes are untrusted: every read is bounded by what was
 * captured, every length field by the Payload Length, and the walk over
 * extension headers advances at least 8 bytes per header, with a cap.
 * Checksums are not verified (offloads leave partial ones on transmit).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "tf_capture.h"
#include "capture_private.h"

#define IP6_HLEN 40
/* More extension headers than any sane packet carries (RFC 8200 §4.1
 * recommends at most one of each, Destination Options twice). */
#define IP6_MAX_EXT 16
#define ICMPV6_PKT_TOOBIG_TYPE 2

#ifndef IPPROTO_MH
#define IPPROTO_MH 135
#endif
#define IPPROTO_HIP_ 139
#define IPPROTO_SHIM6_ 140


/*
 * Length of the extension header at h whose type is nh, or 0 when nh is
 * not an extension header (an upper layer, or No Next Header / ESP, past
 * which nothing can be read).  `avail` >= 2 bytes are readable at h.
 */
static size_t ext_len(uint8_t nh, const uint8_t *h)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_MH:
	case IPPROTO_HIP_:
	case IPPROTO_SHIM6_:
		return ((size_t)h[1] + 1) * 8;     /* RFC 8200 §4.3: 8-octet units, minus the first */
	case IPPROTO_FRAGMENT:
		return 8;
	case IPPROTO_AH:
		return ((size_t)h[1] + 2) * 4;     /* RFC 4302 §2.2: 4-octet units, minus 2 */
	default:
		return 0;
	}
}

int tf_pkt_decode_ipv6(const uint8_t *ip, size_t len, tf_pkt *out)
{
	return tf__decode_ipv6(ip, len, len, out);
}

/* wirelen: the packet's length on the wire, from its first IPv6 byte */
int tf__decode_ipv6(const uint8_t *ip, size_t len, size_t wirelen, tf_pkt *out)
{
	tf_pkt p = { 0 };
	size_t plen, end, off;
	const uint8_t *l4;
	uint8_t nh;
	bool later_fragment = false;

	if (!ip || !out || len < IP6_HLEN || (ip[0] >> 4) != 6)
		return -EINVAL;
	p.family = AF_INET6;
	p.df = true;
	memcpy(&p.src6, ip + 8, 16);
	memcpy(&p.dst6, ip + 24, 16);
	plen = tf__be16(ip + 4);
	/* Payload Length 0 is a jumbogram (RFC 2675) or a BIG TCP packet the
	 * kernel captured before adding the option: the length is the wire's
	 * (the captured length is cut at snaplen; found by ci/fuzz). */
	if (plen == 0)
		plen = (wirelen > len ? wirelen : len) - IP6_HLEN;
	p.ip_len = plen + IP6_HLEN <= 0xffff ? (uint16_t)(plen + IP6_HLEN) : 0;
	end = IP6_HLEN + plen;           /* the packet's end, from its own header */
	nh = ip[6];
	off = IP6_HLEN;
	for (int i = 0;; i++) {
		size_t el;

		if (nh == IPPROTO_NONE || nh == IPPROTO_ESP)
			break;
		/* Every extension header starts with Next Header and a length. */
		if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
		    nh == IPPROTO_MH || nh == IPPROTO_HIP_ || nh == IPPROTO_SHIM6_ ||
		    nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH) {
			if (i >= IP6_MAX_EXT || off + 8 > len || off + 8 > end)
				return -EINVAL;
			el = ext_len(nh, ip + off);
			if (el < 8 || off + el > len || off + el > end)
				return -EINVAL;
			/* Hop-by-Hop is only valid first (RFC 8200 §4.3). */
			if (nh == IPPROTO_HOPOPTS && off != IP6_HLEN)
				return -EINVAL;
			/* Fragment offset (13 bits, 8-octet units): past the first
			 * fragment there is no transport header to read. */
			if (nh == IPPROTO_FRAGMENT && (tf__be16(ip + off + 2) & 0xfff8) != 0)
				later_fragment = true;
			nh = ip[off];
			off += el;
			if (later_fragment)
				break;
			continue;
		}
		break;
	}
	p.proto = nh;
	if (later_fragment || nh == IPPROTO_NONE || nh == IPPROTO_ESP)
		goto done;
	l4 = ip + off;
	switch (nh) {
	case IPPROTO_TCP:
		if (tf__decode_tcp(l4, len > off ? len - off : 0, end > off ? end - off : 0, &p) < 0)
			return -EINVAL;
		break;
	case IPPROTO_UDP:
		if (len < off + 8 || end < off + 8)
			return -EINVAL;
		p.sport = tf__be16(l4);
		p.dport = tf__be16(l4 + 2);
		p.payload = (uint32_t)(end - off - 8);
		break;
	case IPPROTO_ICMPV6:
		/* Type, code, checksum and the first word of the body (the
		 * MTU of a Packet Too Big, RFC 4443 §3.2). */
		if (len < off + 8 || end < off + 8)
			return -EINVAL;
		p.icmp_type = l4[0];
		p.icmp_code = l4[1];
		if (p.icmp_type == ICMPV6_PKT_TOOBIG_TYPE)
			p.icmp6_mtu = tf__be32(l4 + 4);
		break;
	default:
		break;
	}
done:
	*out = p;
	return 0;
}
