/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frame decoder of tf_capture: link layers (Ethernet with 802.1Q/ad
 * tags, Linux cooked v1/v2, raw IP), IPv4 here, IPv6 in capture_ipv6.c,
 * TCP, UDP and ICMP.  Every length is checked against what was captured;
 * it is fuzzed (fuzz/fuzz_decode.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <netinet/in.h>

#include <pcap/pcap.h>

#include "tf_capture.h"
#include "capture_private.h"

#define ETH_P_IPV4        0x0800
#define ETH_P_IPV6        0x86DD
#define ETH_P_8021Q       0x8100
#define ETH_P_8021AD      0x88a8


bool tf__linktype_ok(int lt)
{
	return lt == DLT_EN10MB || lt == DLT_LINUX_SLL || lt == DLT_LINUX_SLL2 ||
	       lt == DLT_RAW || lt == DLT_IPV4;
}

/* Offset of the IPv4 header in the frame, or -EINVAL. */
static int l3_offset(const uint8_t *f, size_t len, int linktype, bool *v6)
{
	size_t off;
	uint16_t et;

	switch (linktype) {
	case DLT_EN10MB:
		if (len < 14)
			return -EINVAL;
		off = 14;
		et = tf__be16(f + 12);
		/* libpcap re-inserts the VLAN tags the NIC stripped. */
		for (int i = 0; i < 2 && (et == ETH_P_8021Q || et == ETH_P_8021AD); i++) {
			if (len < off + 4)
				return -EINVAL;
			et = tf__be16(f + off + 2);
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (len < 16)
			return -EINVAL;
		et = tf__be16(f + 14);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -EINVAL;
		et = tf__be16(f);
		off = 20;
		break;
	case DLT_RAW:
		if (len < 1)
			return -EINVAL;
		et = (f[0] >> 4) == 4 ? ETH_P_IPV4 : (f[0] >> 4) == 6 ? ETH_P_IPV6 : 0;
		off = 0;
		break;
	case DLT_IPV4:
		if (len < 1)
			return -EINVAL;
		et = (f[0] >> 4) == 4 ? ETH_P_IPV4 : 0;
		off = 0;
		break;
	default:
		return -EINVAL;
	}
	*v6 = et == ETH_P_IPV6;
	return et == ETH_P_IPV4 || et == ETH_P_IPV6 ? (int)off : -EINVAL;
}

/*
 * `len` is what was captured, `wirelen` what was on the wire.  Lengths come
 * from the IP header, not from `len`: the capture is cut at snaplen and
 * short frames carry Ethernet padding.  Checksums are not verified: with
 * offloads, a packet captured on transmit has a partial one.
 */
int tf__decode(const uint8_t *f, size_t len, size_t wirelen, int linktype,
                  int64_t ts_ns, tf_pkt *out)
{
	const uint8_t *ip, *l4;
	size_t l3len, ihl, l4cap, iplen;
	uint16_t frag;
	tf_pkt p = { .ts_ns = ts_ns };
	bool v6 = false;
	int off;

	if (!f || !out)
		return -EINVAL;
	off = l3_offset(f, len, linktype, &v6);
	if (off < 0)
		return off;
	ip = f + off;
	l3len = len - (size_t)off;
	if (v6) {   /* capture_ipv6.c checks the version; it zeroes p */
		int r = tf__decode_ipv6(ip, l3len, wirelen > (size_t)off ? wirelen - (size_t)off : 0, &p);
		if (r < 0)
			return r;
		p.ts_ns = ts_ns;
		*out = p;
		return 0;
	}
	if (l3len < 20 || (ip[0] >> 4) != 4)
		return -EINVAL;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || l3len < ihl)
		return -EINVAL;
	p.ip_len = tf__be16(ip + 2);
	/* tot_len 0 is a GSO packet bigger than 64 KiB (BIG TCP): the
	 * length is the frame's. */
	iplen = p.ip_len ? p.ip_len : (wirelen > (size_t)off ? wirelen - (size_t)off : 0);
	if (iplen < ihl)
		return -EINVAL;
	frag = tf__be16(ip + 6);
	p.df = frag & 0x4000;
	p.proto = ip[9];
	memcpy(&p.src, ip + 12, 4);
	memcpy(&p.dst, ip + 16, 4);

	/* A non-first fragment has no transport header to read. */
	if (frag & 0x1fff)
		goto done;
	l4 = ip + ihl;
	l4cap = l3len - ihl;
	switch (p.proto) {
	case IPPROTO_TCP:
		if (tf__decode_tcp(l4, l4cap, iplen - ihl, &p) < 0)
			return -EINVAL;
		break;
	case IPPROTO_UDP:
		if (l4cap < 8)
			return -EINVAL;
		p.sport = tf__be16(l4);
		p.dport = tf__be16(l4 + 2);
		p.payload = iplen - ihl >= 8 ? (uint32_t)(iplen - ihl - 8) : 0;
		break;
	case IPPROTO_ICMP:
		if (l4cap < 8)
			return -EINVAL;
		p.icmp_type = l4[0];
		p.icmp_code = l4[1];
		break;
	default:
		break;
	}
done:
	*out = p;
	return 0;
}

int tf_pkt_decode(const uint8_t *frame, size_t len, int linktype, int64_t ts_ns, tf_pkt *out)
{
	return tf__decode(frame, len, len, linktype, ts_ns, out);
}

