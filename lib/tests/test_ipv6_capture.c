/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the IPv6 decoder (tf_pkt_decode_ipv6) and of the
 * family-aware flow helpers, with hand-built packets; plus a bounded
 * exhaustive/random robustness run (every truncation, every single-byte
 * corruption): the decoder must never read past `len` (run under ASan in
 * CI's sanitizer build) and must keep its invariants.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "tf_capture.h"

#define A6 "2001:2:0:1::2"
#define B6 "2001:2:0:2::2"

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;
	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/* Fixed header; plen is the Payload Length field. */
static size_t hdr6(uint8_t *ip, uint8_t nh, uint16_t plen)
{
	struct in6_addr s = ip6(A6), d = ip6(B6);

	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, plen);
	ip[6] = nh;
	ip[7] = 64;
	memcpy(ip + 8, &s, 16);
	memcpy(ip + 24, &d, 16);
	return 40;
}

static size_t tcp(uint8_t *t, uint16_t sp, uint16_t dp, uint32_t seq, uint8_t flags,
                  size_t optlen)
{
	memset(t, 0, 20 + optlen);
	put16(t, sp);
	put16(t + 2, dp);
	put32(t + 4, seq);
	put32(t + 8, 7);
	t[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	t[13] = flags;
	put16(t + 14, 64000);
	return 20 + optlen;
}

static void decode_tcp(void **state)
{
	uint8_t b[40 + 20 + 100];
	tf_pkt p;
	struct in6_addr s = ip6(A6), d = ip6(B6);
	(void)state;

	hdr6(b, IPPROTO_TCP, 20 + 17);
	tcp(b + 40, 40000, 5000, 1000, TF_TCP_PSH | TF_TCP_ACK, 0);
	assert_int_equal(tf_pkt_decode_ipv6(b, 40 + 20 + 17, &p), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_memory_equal(&p.src6, &s, 16);
	assert_memory_equal(&p.dst6, &d, 16);
	assert_int_equal(p.src.s_addr, 0);
	assert_int_equal(p.dst.s_addr, 0);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 5000);
	assert_int_equal(p.seq, 1000);
	assert_int_equal(p.ack, 7);
	assert_int_equal(p.flags, TF_TCP_PSH | TF_TCP_ACK);
	assert_int_equal(p.win, 64000);
	assert_int_equal(p.payload, 17);
	assert_int_equal(p.ip_len, 40 + 20 + 17);
	assert_true(p.df);
	/* Cut at a snaplen after the TCP header: lengths still from the header. */
	assert_int_equal(tf_pkt_decode_ipv6(b, 40 + 20, &p), 0);
	assert_int_equal(p.payload, 17);
	/* Trailing bytes past the Payload Length (padding) are ignored. */
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), 0);
	assert_int_equal(p.payload, 17);
}

static void decode_tcp_options(void **state)
{
	uint8_t b[40 + 32 + 5];
	tf_pkt p;
	(void)state;

	hdr6(b, IPPROTO_TCP, 32 + 5);
	tcp(b + 40, 1, 2, 3, TF_TCP_SYN, 12);
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), 0);
	assert_int_equal(p.payload, 5);
	/* A data offset past the Payload Length is malformed. */
	b[40 + 12] = 0xf0;
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), -EINVAL);
	/* ... and one below 20 bytes. */
	b[40 + 12] = 0x40;
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), -EINVAL);
}

static void decode_ext_headers(void **state)
{
	uint8_t b[40 + 8 + 16 + 8 + 12 + 20 + 3];
	size_t o = 40;
	tf_pkt p;
	(void)state;

	hdr6(b, IPPROTO_HOPOPTS, sizeof b - 40);
	/* Hop-by-Hop, 8 bytes (PadN) */
	memset(b + o, 0, 8);
	b[o] = IPPROTO_DSTOPTS;
	b[o + 1] = 0;
	b[o + 2] = 1;
	b[o + 3] = 4;
	o += 8;
	/* Destination Options, 16 bytes */
	memset(b + o, 0, 16);
	b[o] = IPPROTO_FRAGMENT;
	b[o + 1] = 1;
	o += 16;
	/* Fragment: offset 0, M=1 (the first fragment has the TCP header) */
	memset(b + o, 0, 8);
	b[o] = IPPROTO_AH;
	put16(b + o + 2, 0x0001);
	o += 8;
	/* AH, (1 + 2) * 4 = 12 bytes */
	memset(b + o, 0, 12);
	b[o] = IPPROTO_TCP;
	b[o + 1] = 1;
	o += 12;
	tcp(b + o, 40000, 5000, 99, TF_TCP_ACK, 0);
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), 0);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.seq, 99);
	assert_int_equal(p.payload, 3);

	/* A later fragment: no transport header, L4 fields zero. */
	put16(b + 40 + 8 + 16 + 2, 0x00b9);   /* offset 23 * 8, M=1 */
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), 0);
	assert_int_equal(p.proto, IPPROTO_AH);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.seq, 0);
	put16(b + 40 + 8 + 16 + 2, 0x0001);

	/* An extension header running past the Payload Length. */
	put16(b + 4, 8 + 8);
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), -EINVAL);
	put16(b + 4, sizeof b - 40);
	/* ... or past what was captured. */
	assert_int_equal(tf_pkt_decode_ipv6(b, 40 + 8 + 10, &p), -EINVAL);
	/* Hop-by-Hop anywhere but first. */
	b[40] = IPPROTO_HOPOPTS;
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), -EINVAL);
}

static void decode_ext_loop_bounded(void **state)
{
	/* 20 chained Destination Options headers: more than IP6_MAX_EXT. */
	uint8_t b[40 + 20 * 8 + 20];
	tf_pkt p;
	(void)state;

	hdr6(b, IPPROTO_DSTOPTS, sizeof b - 40);
	for (int i = 0; i < 20; i++) {
		memset(b + 40 + i * 8, 0, 8);
		b[40 + i * 8] = i == 19 ? IPPROTO_TCP : IPPROTO_DSTOPTS;
	}
	tcp(b + 40 + 160, 1, 2, 3, TF_TCP_ACK, 0);
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), -EINVAL);
}

static void decode_icmpv6(void **state)
{
	uint8_t b[40 + 8 + 40 + 20];
	tf_pkt p;
	(void)state;

	hdr6(b, IPPROTO_ICMPV6, sizeof b - 40);
	memset(b + 40, 0, sizeof b - 40);
	b[40] = 2;               /* Packet Too Big */
	b[41] = 0;
	put32(b + 44, 1280);
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), 0);
	assert_int_equal(p.proto, IPPROTO_ICMPV6);
	assert_int_equal(p.icmp_type, 2);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.icmp6_mtu, 1280);
	b[40] = 1;               /* Destination Unreachable, address unreachable */
	b[41] = 3;
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), 0);
	assert_int_equal(p.icmp_type, 1);
	assert_int_equal(p.icmp_code, 3);
	assert_int_equal(p.icmp6_mtu, 0);
	/* Shorter than type + code + checksum + body word. */
	put16(b + 4, 4);
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), -EINVAL);
}

static void decode_not_ipv6(void **state)
{
	uint8_t b[60];
	tf_pkt p;
	(void)state;

	hdr6(b, IPPROTO_TCP, 20);
	tcp(b + 40, 1, 2, 3, 0, 0);
	b[0] = 0x45;
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), -EINVAL);
	b[0] = 0x60;
	assert_int_equal(tf_pkt_decode_ipv6(b, 39, &p), -EINVAL);
	assert_int_equal(tf_pkt_decode_ipv6(NULL, 60, &p), -EINVAL);
	assert_int_equal(tf_pkt_decode_ipv6(b, 60, NULL), -EINVAL);
	/* TCP header cut by the capture: malformed, as for IPv4. */
	assert_int_equal(tf_pkt_decode_ipv6(b, 50, &p), -EINVAL);
	/* No Next Header: decodes, nothing past it. */
	b[6] = IPPROTO_NONE;
	assert_int_equal(tf_pkt_decode_ipv6(b, 40, &p), 0);
	assert_int_equal(p.proto, IPPROTO_NONE);
}

static void decode_jumbo_len(void **state)
{
	uint8_t b[40 + 20 + 30];
	tf_pkt p;
	(void)state;

	/* Payload Length 0 (BIG TCP before the option): from the capture. */
	hdr6(b, IPPROTO_TCP, 0);
	tcp(b + 40, 1, 2, 3, TF_TCP_ACK, 0);
	assert_int_equal(tf_pkt_decode_ipv6(b, sizeof b, &p), 0);
	assert_int_equal(p.payload, 30);
}

/* Robustness: every prefix and every single-byte value at every offset of
 * a packet with extension headers must decode or return -EINVAL, and a
 * decoded packet's payload never exceeds the Payload Length. */
static void decode_mutations(void **state)
{
	uint8_t base[40 + 8 + 8 + 20 + 4], b[sizeof base];
	tf_pkt p;
	(void)state;

	hdr6(base, IPPROTO_HOPOPTS, sizeof base - 40);
	memset(base + 40, 0, 16);
	base[40] = IPPROTO_FRAGMENT;
	base[48] = IPPROTO_TCP;
	tcp(base + 56, 1, 2, 3, TF_TCP_ACK, 0);
	for (size_t n = 0; n <= sizeof base; n++) {
		uint8_t *c = malloc(n ? n : 1);   /* exact size: ASan sees overreads */
		assert_non_null(c);
		memcpy(c, base, n);
		int r = tf_pkt_decode_ipv6(c, n, &p);
		assert_true(r == 0 || r == -EINVAL);
		free(c);
	}
	for (size_t i = 0; i < sizeof base; i++)
		for (unsigned v = 0; v < 256; v++) {
			memcpy(b, base, sizeof b);
			b[i] = (uint8_t)v;
			uint8_t *c = malloc(sizeof b);
			assert_non_null(c);
			memcpy(c, b, sizeof b);
			int r = tf_pkt_decode_ipv6(c, sizeof b, &p);
			assert_true(r == 0 || r == -EINVAL);
			size_t plen = (size_t)(c[4] << 8 | c[5]);
			if (r == 0 && p.proto == IPPROTO_TCP)
				assert_true(p.payload <= (plen ? plen : sizeof b - 40));
			free(c);
		}
	srand(14);
	for (int k = 0; k < 20000; k++) {
		size_t n = (size_t)rand() % 200;
		uint8_t *c = malloc(n ? n : 1);
		assert_non_null(c);
		for (size_t i = 0; i < n; i++)
			c[i] = (uint8_t)rand();
		if (n)
			c[0] = (uint8_t)(0x60 | (c[0] & 0x0f));
		if (n > 6 && (k & 1))
			c[6] = (uint8_t)((int[]){ 0, 43, 44, 60, 51, 6, 58 })[k % 7];
		int r = tf_pkt_decode_ipv6(c, n, &p);
		assert_true(r == 0 || r == -EINVAL);
		free(c);
	}
}

static void flow_family(void **state)
{
	tf_pkt p4 = { .proto = IPPROTO_TCP }, p6 = { .proto = IPPROTO_TCP, .family = AF_INET6 };
	tf_flow f4 = { 0 }, f6 = { .family = AF_INET6 };
	(void)state;

	/* The trap the helper exists for: a v6 packet has src/dst 0.0.0.0,
	 * so does a zeroed v4 flow; only the family tells them apart. */
	assert_true(tf_flow_addr_eq(&p4, &f4));
	assert_false(tf_flow_addr_eq(&p6, &f4));
	assert_false(tf_flow_addr_eq(&p4, &f6));
	assert_true(tf_flow_addr_eq(&p6, &f6));
	p6.src6 = f6.src6 = ip6(A6);
	p6.dst6 = f6.dst6 = ip6(B6);
	assert_true(tf_flow_addr_eq(&p6, &f6));
	p6.dst6.s6_addr[15] ^= 1;
	assert_false(tf_flow_addr_eq(&p6, &f6));
	/* AF_INET and 0 are both IPv4. */
	f4.family = AF_INET;
	assert_true(tf_flow_addr_eq(&p4, &f4));
	assert_false(tf_flow_is_v6(&f4));
	assert_true(tf_flow_is_v6(&f6));

	f6.sport = 1;
	f6.dport = 2;
	tf_flow r = tf_flow_reverse_any(f6);
	assert_int_equal(r.family, AF_INET6);
	assert_int_equal(r.sport, 2);
	assert_memory_equal(&r.src6, &f6.dst6, 16);
	assert_memory_equal(&r.dst6, &f6.src6, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_tcp),
		cmocka_unit_test(decode_tcp_options),
		cmocka_unit_test(decode_ext_headers),
		cmocka_unit_test(decode_ext_loop_bounded),
		cmocka_unit_test(decode_icmpv6),
		cmocka_unit_test(decode_not_ipv6),
		cmocka_unit_test(decode_jumbo_len),
		cmocka_unit_test(decode_mutations),
		cmocka_unit_test(flow_family),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
