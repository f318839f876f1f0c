/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the frame decoder and of the queries over a capture, fed
 * with synthetic frames through an offline capture: no privileges, no
 * network.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "tf_capture.h"

/* ------------------------------------------------------ frame building */

#define A_IP "10.0.0.1"
#define B_IP "10.0.0.2"
#define A_PORT 40000
#define B_PORT 5000

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static struct in_addr ip4(const char *s)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* Ethernet header: zero MACs are fine, nothing looks at them. */
static size_t eth(uint8_t *f, uint16_t ethertype)
{
	memset(f, 0, 12);
	f[5] = 1;
	f[11] = 2;
	put16(f + 12, ethertype);
	return 14;
}

static size_t ipv4(uint8_t *ip, const char *src, const char *dst, uint8_t proto,
                   size_t l4len, bool df)
{
	struct in_addr s = ip4(src), d = ip4(dst);

	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, df ? 0x4000 : 0);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	return 20;
}

struct seg {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t payload;
	size_t optlen;   /* multiple of 4 */
};

/* Ethernet + IPv4 + TCP (+ options, + payload bytes).  `f` must hold
 * 14 + 20 + 60 + payload bytes. */
static size_t tcp_frame(uint8_t *f, const struct seg *s)
{
	size_t o = eth(f, 0x0800), thl = 20 + s->optlen;
	uint8_t *t;

	o += ipv4(f + o, s->src, s->dst, IPPROTO_TCP, thl + s->payload, true);
	t = f + o;
	memset(t, 0, thl);
	put16(t, s->sport);
	put16(t + 2, s->dport);
	put32(t + 4, s->seq);
	put32(t + 8, s->ack);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = s->flags;
	put16(t + 14, 64240);
	for (size_t i = 20; i < thl; i++)
		t[i] = 1;   /* NOP options */
	o += thl;
	memset(f + o, 'x', s->payload);
	o += s->payload;
	/* Ethernet minimum: the kernel pads, the IP length must win. */
	while (o < 60)
		f[o++] = 0;
	return o;
}

static uint8_t *frame_buf(size_t payload)
{
	uint8_t *f = calloc(1, 14 + 60 + 60 + payload + 64);
	assert_non_null(f);
	return f;
}

static tf_flow flow_ab(void)
{
	return (tf_flow){ .src = ip4(A_IP), .dst = ip4(B_IP), .sport = A_PORT, .dport = B_PORT };
}

/* ------------------------------------------------------------- decoding */

static void decode_tcp_data(void **state)
{
	uint8_t *f = frame_buf(1000);
	struct seg s = { A_IP, B_IP, A_PORT, B_PORT, 1000, 2000, TF_TCP_ACK | TF_TCP_PSH, 1000, 12 };
	size_t n = tcp_frame(f, &s);
	tf_pkt p;

	(void)state;
	assert_int_equal(tf_pkt_decode(f, n, DLT_EN10MB, 42, &p), 0);
	assert_int_equal(p.ts_ns, 42);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.src.s_addr, ip4(A_IP).s_addr);
	assert_int_equal(p.dst.s_addr, ip4(B_IP).s_addr);
	assert_int_equal(p.ip_len, 20 + 32 + 1000);
	assert_true(p.df);
	assert_int_equal(p.sport, A_PORT);
	assert_int_equal(p.dport, B_PORT);
	assert_int_equal(p.seq, 1000);
	assert_int_equal(p.ack, 2000);
	assert_int_equal(p.flags, TF_TCP_ACK | TF_TCP_PSH);
	assert_int_equal(p.win, 64240);
	assert_int_equal(p.payload, 1000);

	/* Cut at a 256-byte snaplen: the length comes from the IP header. */
	assert_int_equal(tf_pkt_decode(f, 14 + 20 + 32, DLT_EN10MB, 0, &p), 0);
	assert_int_equal(p.payload, 1000);
	free(f);
}

static void decode_padding_ignored(void **state)
{
	uint8_t *f = frame_buf(0);
	struct seg s = { A_IP, B_IP, A_PORT, B_PORT, 1, 1, TF_TCP_ACK, 0, 0 };
	size_t n = tcp_frame(f, &s);
	tf_pkt p;

	(void)state;
	assert_int_equal(n, 60);   /* 54 bytes + 6 of Ethernet padding */
	assert_int_equal(tf_pkt_decode(f, n, DLT_EN10MB, 0, &p), 0);
	assert_int_equal(p.payload, 0);
	assert_int_equal(p.flags, TF_TCP_ACK);
	free(f);
}

static void decode_flags(void **state)
{
	static const uint8_t flags[] = {
		TF_TCP_SYN, TF_TCP_SYN | TF_TCP_ACK, TF_TCP_RST, TF_TCP_RST | TF_TCP_ACK,
		TF_TCP_FIN | TF_TCP_ACK,
	};
	uint8_t *f = frame_buf(0);
	tf_pkt p;

	(void)state;
	for (size_t i = 0; i < sizeof(flags); i++) {
		struct seg s = { A_IP, B_IP, A_PORT, B_PORT, 7, 0, flags[i], 0, 0 };
		size_t n = tcp_frame(f, &s);

		assert_int_equal(tf_pkt_decode(f, n, DLT_EN10MB, 0, &p), 0);
		assert_int_equal(p.flags, flags[i]);
		assert_int_equal(p.payload, 0);
	}
	free(f);
}

/* Destination unreachable, fragmentation needed (RFC 1191): the message
 * that drives PMTU discovery. */
static size_t icmp_frag_needed(uint8_t *f, uint16_t mtu)
{
	size_t o = eth(f, 0x0800);
	uint8_t *icmp;

	o += ipv4(f + o, "10.0.0.254", A_IP, IPPROTO_ICMP, 8 + 28, false);
	icmp = f + o;
	memset(icmp, 0, 8 + 28);
	icmp[0] = 3;
	icmp[1] = 4;
	put16(icmp + 6, mtu);
	/* quoted header of the offending packet */
	ipv4(icmp + 8, A_IP, B_IP, IPPROTO_TCP, 1480, true);
	return o + 8 + 28;
}

static void decode_icmp_frag_needed(void **state)
{
	uint8_t f[128];
	size_t n = icmp_frag_needed(f, 1400);
	tf_pkt p;

	(void)state;
	assert_int_equal(tf_pkt_decode(f, n, DLT_EN10MB, 5, &p), 0);
	assert_int_equal(p.proto, IPPROTO_ICMP);
	assert_int_equal(p.icmp_type, 3);
	assert_int_equal(p.icmp_code, 4);
	assert_false(p.df);
	assert_int_equal(p.src.s_addr, ip4("10.0.0.254").s_addr);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.payload, 0);
}

static void decode_not_ipv4(void **state)
{
	uint8_t f[128] = { 0 };
	tf_pkt p;

	(void)state;
	eth(f, 0x0806);   /* ARP */
	assert_int_equal(tf_pkt_decode(f, 60, DLT_EN10MB, 0, &p), -EINVAL);
	eth(f, 0x86dd);   /* IPv6 ethertype, version 4 inside (IPv6 itself: test_ipv6_capture) */
	f[14] = 0x45;
	assert_int_equal(tf_pkt_decode(f, 80, DLT_EN10MB, 0, &p), -EINVAL);
	/* IPv4 ethertype, version 6 inside */
	eth(f, 0x0800);
	ipv4(f + 14, A_IP, B_IP, IPPROTO_TCP, 20, true);
	f[14] = 0x65;
	assert_int_equal(tf_pkt_decode(f, 60, DLT_EN10MB, 0, &p), -EINVAL);
	/* Raw IP, version 5; and IPv6 where only IPv4 may be (DLT_IPV4) */
	f[0] = 0x50;
	assert_int_equal(tf_pkt_decode(f, 60, DLT_RAW, 0, &p), -EINVAL);
	f[0] = 0x60;
	assert_int_equal(tf_pkt_decode(f, 60, DLT_IPV4, 0, &p), -EINVAL);
	/* A link type the decoder does not know */
	assert_int_equal(tf_pkt_decode(f, 60, DLT_IEEE802_11, 0, &p), -EINVAL);
}

static void decode_truncated(void **state)
{
	uint8_t *f = frame_buf(100);
	struct seg s = { A_IP, B_IP, A_PORT, B_PORT, 1, 1, TF_TCP_ACK, 100, 0 };
	size_t n = tcp_frame(f, &s);
	uint8_t save;
	tf_pkt p;

	(void)state;
	assert_int_equal(tf_pkt_decode(f, n, DLT_EN10MB, 0, &p), 0);
	/* Every cut inside the headers. */
	for (size_t len = 0; len < 14 + 20 + 20; len++)
		assert_int_equal(tf_pkt_decode(f, len, DLT_EN10MB, 0, &p), -EINVAL);
	assert_int_equal(tf_pkt_decode(f, 14 + 20 + 20, DLT_EN10MB, 0, &p), 0);

	/* IHL below 5 or beyond the captured bytes */
	save = f[14];
	f[14] = 0x44;
	assert_int_equal(tf_pkt_decode(f, n, DLT_EN10MB, 0, &p), -EINVAL);
	f[14] = 0x4f;   /* 60-byte header claimed, 54 bytes captured */
	assert_int_equal(tf_pkt_decode(f, 14 + 54, DLT_EN10MB, 0, &p), -EINVAL);
	f[14] = save;

	/* TCP data offset below 5, or past the IP total length */
	save = f[14 + 20 + 12];
	f[14 + 20 + 12] = 4 << 4;
	assert_int_equal(tf_pkt_decode(f, n, DLT_EN10MB, 0, &p), -EINVAL);
	f[14 + 20 + 12] = save;
	put16(f + 14 + 2, 20 + 10);   /* IP length shorter than the TCP header */
	assert_int_equal(tf_pkt_decode(f, n, DLT_EN10MB, 0, &p), -EINVAL);
	put16(f + 14 + 2, 10);        /* IP length shorter than the IP header */
	assert_int_equal(tf_pkt_decode(f, n, DLT_EN10MB, 0, &p), -EINVAL);

	/* ICMP shorter than its 8-byte header */
	{
		uint8_t g[128];
		size_t m = icmp_frag_needed(g, 1400);

		assert_int_equal(tf_pkt_decode(g, 14 + 20 + 7, DLT_EN10MB, 0, &p), -EINVAL);
		assert_int_equal(tf_pkt_decode(g, m, DLT_EN10MB, 0, &p), 0);
	}
	free(f);
}

static void decode_bad_args(void **state)
{
	uint8_t f[64] = { 0 };
	tf_pkt p;

	(void)state;
	assert_int_equal(tf_pkt_decode(NULL, 60, DLT_EN10MB, 0, &p), -EINVAL);
	assert_int_equal(tf_pkt_decode(f, sizeof(f), DLT_EN10MB, 0, NULL), -EINVAL);
}

static void decode_link_types(void **state)
{
	uint8_t *f = frame_buf(10), *g = frame_buf(10);
	struct seg s = { A_IP, B_IP, A_PORT, B_PORT, 99, 1, TF_TCP_ACK, 10, 0 };
	size_t n = tcp_frame(f, &s), l3 = n - 14;
	tf_pkt p;

	(void)state;
	/* 802.1Q and QinQ tags */
	memcpy(g, f, 12);
	put16(g + 12, 0x8100);
	put16(g + 14, 5);
	put16(g + 16, 0x0800);
	memcpy(g + 18, f + 14, l3);
	assert_int_equal(tf_pkt_decode(g, 18 + l3, DLT_EN10MB, 0, &p), 0);
	assert_int_equal(p.seq, 99);
	assert_int_equal(p.payload, 10);
	put16(g + 12, 0x88a8);
	put16(g + 16, 0x8100);
	put16(g + 18, 6);
	put16(g + 20, 0x0800);
	memcpy(g + 22, f + 14, l3);
	assert_int_equal(tf_pkt_decode(g, 22 + l3, DLT_EN10MB, 0, &p), 0);
	assert_int_equal(p.seq, 99);
	assert_int_equal(tf_pkt_decode(g, 20, DLT_EN10MB, 0, &p), -EINVAL);

	/* Linux cooked v1: protocol at offset 14 of a 16-byte header */
	memset(g, 0, 16);
	put16(g, 4);   /* outgoing */
	put16(g + 14, 0x0800);
	memcpy(g + 16, f + 14, l3);
	assert_int_equal(tf_pkt_decode(g, 16 + l3, DLT_LINUX_SLL, 0, &p), 0);
	assert_int_equal(p.sport, A_PORT);
	assert_int_equal(p.payload, 10);
	assert_int_equal(tf_pkt_decode(g, 15, DLT_LINUX_SLL, 0, &p), -EINVAL);
	put16(g + 14, 0x0806);
	assert_int_equal(tf_pkt_decode(g, 16 + l3, DLT_LINUX_SLL, 0, &p), -EINVAL);

	/* Linux cooked v2: protocol first, 20-byte header */
	memset(g, 0, 20);
	put16(g, 0x0800);
	memcpy(g + 20, f + 14, l3);
	assert_int_equal(tf_pkt_decode(g, 20 + l3, DLT_LINUX_SLL2, 0, &p), 0);
	assert_int_equal(p.dport, B_PORT);
	assert_int_equal(p.payload, 10);
	assert_int_equal(tf_pkt_decode(g, 19, DLT_LINUX_SLL2, 0, &p), -EINVAL);

	/* Raw IP */
	assert_int_equal(tf_pkt_decode(f + 14, l3, DLT_RAW, 0, &p), 0);
	assert_int_equal(p.seq, 99);
	assert_int_equal(tf_pkt_decode(f + 14, l3, DLT_IPV4, 0, &p), 0);
	free(f);
	free(g);
}

static void decode_fragment(void **state)
{
	uint8_t *f = frame_buf(100);
	struct seg s = { A_IP, B_IP, A_PORT, B_PORT, 1, 1, TF_TCP_ACK, 100, 0 };
	size_t n = tcp_frame(f, &s);
	tf_pkt p;

	(void)state;
	/* A non-first fragment: no TCP header to read, not an error. */
	put16(f + 14 + 6, 0x2000 | 185);
	assert_int_equal(tf_pkt_decode(f, n, DLT_EN10MB, 0, &p), 0);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.payload, 0);
	assert_false(p.df);
	free(f);
}

/* -------------------------------------------------------------- queries */

struct fx {
	tf_capture *c;
	uint8_t *buf;
};

static int add(tf_capture *c, uint8_t *buf, int64_t ts_ns, struct seg s)
{
	size_t n = tcp_frame(buf, &s);
	return tf_capture_inject(c, buf, n, ts_ns);
}

#define MS 1000000LL
enum { ISN_A = 1000, ISN_B = 5000 };

/*
 * A connection whose data segment is lost twice:
 *   0 SYN  1 SYN (retrans)  2 SYN-ACK  3 ACK  4 data [1001,1101)
 *   5 retrans  6 retrans  7 ACK from B  8 data [1101,1201)  9 FIN
 *  10 FIN (retrans)  11 RST from B
 */
static int setup_conn(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	uint8_t arp[60] = { 0 };
	tf_capture *c;

	assert_non_null(fx);
	fx->buf = frame_buf(1500);
	assert_int_equal(tf_capture_new_offline(&fx->c), 0);
	c = fx->c;
	assert_int_equal(add(c, fx->buf, 0 * MS, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, ISN_A, 0, TF_TCP_SYN, 0, 20 }), 1);
	assert_int_equal(add(c, fx->buf, 1000 * MS, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, ISN_A, 0, TF_TCP_SYN, 0, 20 }), 1);
	/* ARP is stored for the pcap but is no packet */
	eth(arp, 0x0806);
	assert_int_equal(tf_capture_inject(c, arp, sizeof(arp), 1000 * MS + 1), 0);
	assert_int_equal(add(c, fx->buf, 1001 * MS, (struct seg){ B_IP, A_IP, B_PORT, A_PORT, ISN_B, ISN_A + 1, TF_TCP_SYN | TF_TCP_ACK, 0, 20 }), 1);
	assert_int_equal(add(c, fx->buf, 1002 * MS, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, ISN_A + 1, ISN_B + 1, TF_TCP_ACK, 0, 0 }), 1);
	assert_int_equal(add(c, fx->buf, 1010 * MS, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, ISN_A + 1, ISN_B + 1, TF_TCP_ACK | TF_TCP_PSH, 100, 0 }), 1);
	assert_int_equal(add(c, fx->buf, 1220 * MS, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, ISN_A + 1, ISN_B + 1, TF_TCP_ACK | TF_TCP_PSH, 100, 0 }), 1);
	assert_int_equal(add(c, fx->buf, 1640 * MS, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, ISN_A + 1, ISN_B + 1, TF_TCP_ACK | TF_TCP_PSH, 100, 0 }), 1);
	assert_int_equal(add(c, fx->buf, 1641 * MS, (struct seg){ B_IP, A_IP, B_PORT, A_PORT, ISN_B + 1, ISN_A + 101, TF_TCP_ACK, 0, 0 }), 1);
	assert_int_equal(add(c, fx->buf, 1650 * MS, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, ISN_A + 101, ISN_B + 1, TF_TCP_ACK | TF_TCP_PSH, 100, 0 }), 1);
	assert_int_equal(add(c, fx->buf, 1660 * MS, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, ISN_A + 201, ISN_B + 1, TF_TCP_ACK | TF_TCP_FIN, 0, 0 }), 1);
	assert_int_equal(add(c, fx->buf, 1880 * MS, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, ISN_A + 201, ISN_B + 1, TF_TCP_ACK | TF_TCP_FIN, 0, 0 }), 1);
	assert_int_equal(add(c, fx->buf, 1881 * MS, (struct seg){ B_IP, A_IP, B_PORT, A_PORT, ISN_B + 1, 0, TF_TCP_RST, 0, 0 }), 1);
	*state = fx;
	return 0;
}

static int teardown_conn(void **state)
{
	struct fx *fx = *state;

	tf_capture_free(fx->c);
	free(fx->buf);
	free(fx);
	return 0;
}

static void query_tx_of(void **state)
{
	struct fx *fx = *state;
	tf_flow f = flow_ab();
	size_t idx[8];

	assert_int_equal(tf_capture_count(fx->c), 12);
	/* First and last byte of the lost segment: original + 2 retransmissions */
	assert_int_equal(tf_capture_tx_of(fx->c, &f, ISN_A + 1, idx, 8), 3);
	assert_int_equal(idx[0], 4);
	assert_int_equal(idx[1], 5);
	assert_int_equal(idx[2], 6);
	assert_int_equal(tf_capture_pkt(fx->c, idx[1])->ts_ns - tf_capture_pkt(fx->c, idx[0])->ts_ns, 210 * MS);
	assert_int_equal(tf_capture_tx_of(fx->c, &f, ISN_A + 100, idx, 8), 3);
	/* The next segment: sent once */
	assert_int_equal(tf_capture_tx_of(fx->c, &f, ISN_A + 101, idx, 8), 1);
	assert_int_equal(idx[0], 8);
	/* The ISN is covered by the SYN (SEG.LEN 1), twice */
	assert_int_equal(tf_capture_tx_of(fx->c, &f, ISN_A, idx, 8), 2);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 1);
	/* The FIN occupies one sequence number: found with its retransmission */
	assert_int_equal(tf_capture_tx_of(fx->c, &f, ISN_A + 201, idx, 8), 2);
	assert_int_equal(idx[0], 9);
	assert_int_equal(idx[1], 10);
	/* Nothing beyond it, nothing before the ISN */
	assert_int_equal(tf_capture_tx_of(fx->c, &f, ISN_A + 202, idx, 8), 0);
	assert_int_equal(tf_capture_tx_of(fx->c, &f, ISN_A - 1, idx, 8), 0);
	/* The other direction carries no data at ISN_A + 1 */
	{
		tf_flow r = tf_flow_reverse(f);
		assert_int_equal(tf_capture_tx_of(fx->c, &r, ISN_A + 1, idx, 8), 0);
		assert_int_equal(tf_capture_tx_of(fx->c, &r, ISN_B, idx, 8), 1);
		assert_int_equal(idx[0], 2);
	}
}

static void query_tx_of_max(void **state)
{
	struct fx *fx = *state;
	tf_flow f = flow_ab();
	size_t idx[3] = { 99, 99, 99 };

	/* The total is returned, only `max` indices are written */
	assert_int_equal(tf_capture_tx_of(fx->c, &f, ISN_A + 50, idx, 1), 3);
	assert_int_equal(idx[0], 4);
	assert_int_equal(idx[1], 99);
	assert_int_equal(tf_capture_tx_of(fx->c, &f, ISN_A + 50, NULL, 0), 3);
	/* Bad arguments count nothing */
	assert_int_equal(tf_capture_tx_of(fx->c, &f, ISN_A + 50, NULL, 2), 0);
	assert_int_equal(tf_capture_tx_of(fx->c, NULL, ISN_A + 50, idx, 3), 0);
	assert_int_equal(tf_capture_tx_of(NULL, &f, ISN_A + 50, idx, 3), 0);
}

static void query_syns(void **state)
{
	struct fx *fx = *state;
	tf_flow f = flow_ab(), r = tf_flow_reverse(f);
	size_t idx[4];

	assert_int_equal(tf_capture_syns(fx->c, &f, idx, 4), 2);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 1);
	assert_int_equal(tf_capture_pkt(fx->c, idx[1])->ts_ns, 1000 * MS);
	/* A SYN-ACK is no SYN */
	assert_int_equal(tf_capture_syns(fx->c, &r, idx, 4), 0);
	assert_int_equal(tf_capture_syns(fx->c, &f, NULL, 0), 2);
}

static void query_count_flags(void **state)
{
	struct fx *fx = *state;
	tf_flow f = flow_ab(), r = tf_flow_reverse(f);

	assert_int_equal(tf_capture_count_flags(fx->c, &f, false, TF_TCP_RST), 0);
	assert_int_equal(tf_capture_count_flags(fx->c, &r, false, TF_TCP_RST), 1);
	assert_int_equal(tf_capture_count_flags(fx->c, &f, true, TF_TCP_RST), 1);
	assert_int_equal(tf_capture_count_flags(fx->c, &f, false, TF_TCP_FIN), 2);
	assert_int_equal(tf_capture_count_flags(fx->c, &f, true, TF_TCP_SYN), 3);
	assert_int_equal(tf_capture_count_flags(fx->c, &f, false, TF_TCP_FIN | TF_TCP_SYN), 4);
	assert_int_equal(tf_capture_count_flags(fx->c, &f, false, 0), 0);
	assert_int_equal(tf_capture_count_flags(fx->c, NULL, true, TF_TCP_RST), 0);
	/* A flow with other ports matches nothing */
	f.sport++;
	assert_int_equal(tf_capture_count_flags(fx->c, &f, true, 0xff), 0);
}

static void query_flow_reverse(void **state)
{
	tf_flow f = flow_ab(), r = tf_flow_reverse(f), rr = tf_flow_reverse(r);

	(void)state;
	assert_int_equal(r.src.s_addr, f.dst.s_addr);
	assert_int_equal(r.dst.s_addr, f.src.s_addr);
	assert_int_equal(r.sport, B_PORT);
	assert_int_equal(r.dport, A_PORT);
	assert_memory_equal(&rr, &f, sizeof(f));
}

static void query_seq_wraparound(void **state)
{
	uint8_t *buf = frame_buf(0x40);
	tf_capture *c = NULL;
	tf_flow f = flow_ab();
	size_t idx[4];

	(void)state;
	assert_int_equal(tf_capture_new_offline(&c), 0);
	/* [0xfffffff0, 0x10) straddles 2^32; sent, then retransmitted */
	assert_int_equal(add(c, buf, 1, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, 0xfffffff0u, 1, TF_TCP_ACK, 0x20, 0 }), 1);
	assert_int_equal(add(c, buf, 2, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, 0xfffffff0u, 1, TF_TCP_ACK, 0x20, 0 }), 1);
	/* the next one, after the wrap */
	assert_int_equal(add(c, buf, 3, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, 0x10, 1, TF_TCP_ACK, 0x20, 0 }), 1);

	assert_int_equal(tf_capture_tx_of(c, &f, 0xfffffff0u, idx, 4), 2);
	assert_int_equal(tf_capture_tx_of(c, &f, 0xffffffffu, idx, 4), 2);
	assert_int_equal(tf_capture_tx_of(c, &f, 0, idx, 4), 2);
	assert_int_equal(tf_capture_tx_of(c, &f, 0x0f, idx, 4), 2);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 1);
	assert_int_equal(tf_capture_tx_of(c, &f, 0x10, idx, 4), 1);
	assert_int_equal(idx[0], 2);
	assert_int_equal(tf_capture_tx_of(c, &f, 0x2f, idx, 4), 1);
	assert_int_equal(tf_capture_tx_of(c, &f, 0x30, idx, 4), 0);
	assert_int_equal(tf_capture_tx_of(c, &f, 0xffffffefu, idx, 4), 0);
	tf_capture_free(c);
	free(buf);
}

/* ------------------------------------------------- offline life cycle */

static void offline_args(void **state)
{
	uint8_t f[60] = { 0 };
	tf_capture *c = NULL;
	uint64_t drops = 1;

	(void)state;
	assert_int_equal(tf_capture_new_offline(NULL), -EINVAL);
	assert_int_equal(tf_capture_new(NULL, "eth0", &c), -EINVAL);
	assert_null(c);
	assert_int_equal(tf_capture_new_offline(&c), 0);
	assert_int_equal(tf_capture_count(c), 0);
	assert_null(tf_capture_pkt(c, 0));
	assert_int_equal(tf_capture_read(c), 0);
	assert_int_equal(tf_capture_dropped(c, &drops), 0);
	assert_int_equal(drops, 0);
	assert_int_equal(tf_capture_fd(c), -EINVAL);
	assert_int_equal(tf_capture_activate(c), -EINVAL);
	assert_int_equal(tf_capture_linktype(c), DLT_EN10MB);
	assert_string_equal(tf_capture_error(c), "");
	assert_int_equal(tf_capture_inject(c, NULL, 60, 0), -EINVAL);
	assert_int_equal(tf_capture_inject(c, f, 0, 0), -EINVAL);
	assert_int_equal(tf_capture_inject(c, f, 60, -1), -EINVAL);
	assert_int_equal(tf_capture_set_snaplen(c, 64), -EINVAL);
	assert_int_equal(tf_capture_set_snaplen(c, 1 << 20), -EINVAL);
	assert_int_equal(tf_capture_set_snaplen(c, 1500), 0);
	assert_int_equal(tf_capture_set_buffer_size(c, 1), -EINVAL);
	assert_int_equal(tf_capture_set_filter(c, NULL), -EINVAL);
	assert_int_equal(tf_capture_load(c, NULL), -EINVAL);
	assert_int_equal(tf_capture_save(c, NULL), -EINVAL);
	assert_int_equal(tf_capture_save(c, ""), -EINVAL);
	assert_null(tf_capture_pkt(NULL, 0));
	assert_int_equal(tf_capture_count(NULL), 0);
	tf_capture_free(c);
	tf_capture_free(NULL);
}

static void offline_filter(void **state)
{
	uint8_t *buf = frame_buf(10);
	tf_capture *c = NULL;

	(void)state;
	assert_int_equal(tf_capture_new_offline(&c), 0);
	assert_int_equal(tf_capture_set_filter(c, "tcp port (("), -EINVAL);
	assert_string_not_equal(tf_capture_error(c), "");
	assert_int_equal(tf_capture_set_filter(c, "tcp dst port 5000"), 0);
	assert_int_equal(add(c, buf, 1, (struct seg){ A_IP, B_IP, A_PORT, B_PORT, 1, 1, TF_TCP_ACK, 10, 0 }), 1);
	assert_int_equal(add(c, buf, 2, (struct seg){ B_IP, A_IP, B_PORT, A_PORT, 1, 1, TF_TCP_ACK, 0, 0 }), 0);
	assert_int_equal(tf_capture_count(c), 1);
	assert_int_equal(tf_capture_pkt(c, 0)->dport, B_PORT);
	tf_capture_free(c);
	free(buf);
}

/* ------------------------------------------------------- save and load */

static char *tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *d;

	assert_true(asprintf(&d, "%s/tf-capture-XXXXXX", base && *base ? base : "/tmp") > 0);
	assert_non_null(mkdtemp(d));
	return d;
}

static char *path_in(const char *dir, const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rbe");
	uint8_t *b;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return b;
}

static void assert_pkt_equal(const tf_pkt *a, const tf_pkt *b)
{
	assert_int_equal(a->ts_ns, b->ts_ns);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->src.s_addr, b->src.s_addr);
	assert_int_equal(a->dst.s_addr, b->dst.s_addr);
	assert_int_equal(a->ip_len, b->ip_len);
	assert_int_equal(a->df, b->df);
	assert_int_equal(a->sport, b->sport);
	assert_int_equal(a->dport, b->dport);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->ack, b->ack);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->win, b->win);
	assert_int_equal(a->payload, b->payload);
	assert_int_equal(a->icmp_type, b->icmp_type);
	assert_int_equal(a->icmp_code, b->icmp_code);
}

static void save_load_round_trip(void **state)
{
	struct fx *fx = *state;
	char *dir = tmpdir(), *p1 = path_in(dir, "a.pcap"), *p2 = path_in(dir, "b.pcap");
	uint8_t *b1, *b2, icmp[128];
	size_t l1, l2;
	tf_capture *c = NULL;
	struct stat st;

	/* a big timestamp, an ICMP packet */
	assert_int_equal(tf_capture_inject(fx->c, icmp, icmp_frag_needed(icmp, 1280),
	                                   1700000000123456789LL), 1);
	assert_int_equal(tf_capture_save(fx->c, p1), 0);
	assert_int_equal(stat(p1, &st), 0);
	b1 = slurp(p1, &l1);
	/* nanosecond pcap magic, in host order */
	assert_true(l1 > 24);
	assert_int_equal(*(uint32_t *)b1, 0xa1b23c4d);

	assert_int_equal(tf_capture_new_offline(&c), 0);
	assert_int_equal(tf_capture_load(c, p1), 13);
	assert_int_equal(tf_capture_count(c), tf_capture_count(fx->c));
	for (size_t i = 0; i < tf_capture_count(c); i++)
		assert_pkt_equal(tf_capture_pkt(c, i), tf_capture_pkt(fx->c, i));
	assert_int_equal(tf_capture_pkt(c, 12)->icmp_code, 4);
	assert_int_equal(tf_capture_pkt(c, 12)->ts_ns, 1700000000123456789LL);

	/* The raw frames (ARP included) survive: saving again gives the
	 * same bytes. */
	assert_int_equal(tf_capture_save(c, p2), 0);
	b2 = slurp(p2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);

	/* Loading appends */
	assert_int_equal(tf_capture_load(c, p1), 13);
	assert_int_equal(tf_capture_count(c), 26);

	/* Saving where one cannot */
	assert_int_equal(tf_capture_save(c, "/nonexistent-dir/x.pcap"), -ENOENT);

	tf_capture_free(c);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
	free(b1);
	free(b2);
	free(p1);
	free(p2);
	free(dir);
}

static void load_errors(void **state)
{
	struct fx *fx = *state;
	char *dir = tmpdir(), *p = path_in(dir, "a.pcap"), *bad = path_in(dir, "bad.pcap"),
	     *cut = path_in(dir, "cut.pcap");
	uint8_t *b;
	size_t l;
	tf_capture *c = NULL;
	int fd;

	assert_int_equal(tf_capture_new_offline(&c), 0);
	assert_int_equal(tf_capture_load(c, "/nonexistent-dir/x.pcap"), -ENOENT);

	/* Not a pcap file */
	fd = open(bad, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, this is not a capture file", 33), 33);
	close(fd);
	assert_int_equal(tf_capture_load(c, bad), -EINVAL);
	assert_string_not_equal(tf_capture_error(c), "");

	/* A file cut in the middle of a record: nothing is added */
	assert_int_equal(tf_capture_save(fx->c, p), 0);
	b = slurp(p, &l);
	fd = open(cut, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, l - 10), (ssize_t)(l - 10));
	close(fd);
	assert_int_equal(tf_capture_load(c, cut), -EIO);
	assert_int_equal(tf_capture_count(c), 0);
	assert_int_equal(tf_capture_load(c, p), 12);

	/* A live-only operation on a file */
	assert_int_equal(tf_capture_activate(c), -EINVAL);
	tf_capture_free(c);
	unlink(p);
	unlink(bad);
	unlink(cut);
	rmdir(dir);
	free(b);
	free(p);
	free(bad);
	free(cut);
	free(dir);
}

/* A microsecond pcap of another link type (as tcpdump -i any writes) */
static void load_microseconds_sll(void **state)
{
	char *dir = tmpdir(), *p = path_in(dir, "us.pcap");
	uint8_t *f = frame_buf(40), g[256];
	struct seg s = { A_IP, B_IP, A_PORT, B_PORT, 77, 1, TF_TCP_ACK, 40, 0 };
	size_t n = tcp_frame(f, &s), l3 = n - 14;
	struct pcap_pkthdr h = { .ts = { 12, 345678 } };
	pcap_t *dead = pcap_open_dead(DLT_LINUX_SLL, 65535);
	pcap_dumper_t *d;
	tf_capture *c = NULL;

	(void)state;
	assert_non_null(dead);
	d = pcap_dump_open(dead, p);
	assert_non_null(d);
	memset(g, 0, 16);
	put16(g + 14, 0x0800);
	memcpy(g + 16, f + 14, l3);
	h.caplen = h.len = (bpf_u_int32)(16 + l3);
	pcap_dump((u_char *)d, &h, g);
	pcap_dump_close(d);
	pcap_close(dead);

	assert_int_equal(tf_capture_new_offline(&c), 0);
	assert_int_equal(tf_capture_load(c, p), 1);
	assert_int_equal(tf_capture_linktype(c), DLT_LINUX_SLL);
	assert_int_equal(tf_capture_pkt(c, 0)->ts_ns, 12345678000LL);
	assert_int_equal(tf_capture_pkt(c, 0)->seq, 77);
	assert_int_equal(tf_capture_pkt(c, 0)->payload, 40);
	/* An Ethernet file cannot join a cooked one */
	{
		tf_capture *e = NULL;
		char *q = path_in(dir, "eth.pcap");

		assert_int_equal(tf_capture_new_offline(&e), 0);
		assert_int_equal(tf_capture_inject(e, f, n, 1), 1);
		assert_int_equal(tf_capture_save(e, q), 0);
		assert_int_equal(tf_capture_load(c, q), -EINVAL);
		assert_int_equal(tf_capture_count(c), 1);
		tf_capture_free(e);
		unlink(q);
		free(q);
	}
	tf_capture_free(c);
	unlink(p);
	rmdir(dir);
	free(p);
	free(dir);
	free(f);
}

/* Frames are kept up to snaplen only; decoding does not suffer. */
static void snaplen_cut(void **state)
{
	char *dir = tmpdir(), *p = path_in(dir, "s.pcap");
	uint8_t *f = frame_buf(1400);
	struct seg s = { A_IP, B_IP, A_PORT, B_PORT, 5, 1, TF_TCP_ACK, 1400, 0 };
	size_t n = tcp_frame(f, &s), len;
	tf_capture *c = NULL, *d = NULL;
	uint8_t *b;

	(void)state;
	assert_int_equal(tf_capture_new_offline(&c), 0);
	assert_int_equal(tf_capture_inject(c, f, n, 1), 1);
	assert_int_equal(tf_capture_save(c, p), 0);
	b = slurp(p, &len);
	/* 24-byte file header + 16-byte record header + 256 bytes */
	assert_int_equal(len, 24 + 16 + 256);
	free(b);

	assert_int_equal(tf_capture_new_offline(&d), 0);
	assert_int_equal(tf_capture_set_snaplen(d, 2000), 0);
	assert_int_equal(tf_capture_load(d, p), 1);
	assert_int_equal(tf_capture_pkt(d, 0)->payload, 1400);
	assert_int_equal(tf_capture_pkt(d, 0)->ip_len, 20 + 20 + 1400);
	tf_capture_free(c);
	tf_capture_free(d);
	unlink(p);
	rmdir(dir);
	free(p);
	free(dir);
	free(f);
}

/* tf_match / tf_pkt_matches(): a flow's segments by flags, payload, ACK and
 * window; ICMP and ICMPv6 by sender (capture_match.c). */
static void test_match(void **state)
{
	tf_flow f = { .sport = 1000, .dport = 80 };
	tf_pkt p = { .proto = IPPROTO_TCP, .sport = 1000, .dport = 80, .flags = TF_TCP_ACK,
	             .ack = 500, .payload = 10, .win = 0, .ts_ns = 100 };
	tf_pkt e = { .proto = IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 1, .ts_ns = 200 };
	tf_pkt e6 = { .proto = IPPROTO_ICMPV6, .family = AF_INET6, .icmp_type = 1, .icmp_code = 3 };
	tf_match m = { .flow = &f };

	(void)state;
	inet_pton(AF_INET, "198.18.1.2", &f.src);
	inet_pton(AF_INET, "198.18.2.2", &f.dst);
	p.src = f.src;
	p.dst = f.dst;
	inet_pton(AF_INET, "198.18.2.1", &e.src);
	inet_pton(AF_INET6, "2001:2:0:2::1", &e6.src6);
	assert_true(tf_pkt_matches(&p, &m));
	m.all = TF_TCP_ACK | TF_TCP_FIN;
	assert_false(tf_pkt_matches(&p, &m));               /* FIN required */
	m = (tf_match){ .flow = &f, .payload = -1 };
	assert_false(tf_pkt_matches(&p, &m));               /* it has payload */
	m = (tf_match){ .flow = &f, .has_ack = true, .ack = 501 };
	assert_false(tf_pkt_matches(&p, &m));               /* ACK not yet past 501 */
	m.ack = 400;
	assert_true(tf_pkt_matches(&p, &m));
	m = (tf_match){ .flow = &f, .zero_win = true, .after_ns = 101 };
	assert_false(tf_pkt_matches(&p, &m));               /* too early */
	m.after_ns = 100;
	assert_true(tf_pkt_matches(&p, &m));
	f.sport++;
	assert_false(tf_pkt_matches(&p, &m));               /* another flow */
	m = (tf_match){ .icmp_type = 3, .icmp_code = 1 };
	assert_int_equal(tf_match_icmp_from(&m, "198.18.2.1"), 0);
	assert_true(tf_pkt_matches(&e, &m));
	assert_false(tf_pkt_matches(&e6, &m));              /* ICMPv4 asked */
	assert_int_equal(tf_match_icmp_from(&m, "198.18.9.1"), 0);
	assert_false(tf_pkt_matches(&e, &m));               /* another sender */
	m = (tf_match){ .icmp_type = 1, .icmp_code = 3 };
	assert_int_equal(tf_match_icmp_from(&m, "2001:2:0:2::1"), 0);
	assert_true(tf_pkt_matches(&e6, &m));
	assert_false(tf_pkt_matches(&e, &m));
	assert_int_equal(tf_match_icmp_from(&m, "not an address"), -EINVAL);
}

int main(void)
{
	/* One group: cmocka 1.1.5 prints a TAP plan per group, and several
	 * plans make invalid TAP. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(decode_tcp_data),
		cmocka_unit_test(decode_padding_ignored),
		cmocka_unit_test(decode_flags),
		cmocka_unit_test(decode_icmp_frag_needed),
		cmocka_unit_test(decode_not_ipv4),
		cmocka_unit_test(decode_truncated),
		cmocka_unit_test(decode_bad_args),
		cmocka_unit_test(decode_link_types),
		cmocka_unit_test(decode_fragment),
		cmocka_unit_test_setup_teardown(query_tx_of, setup_conn, teardown_conn),
		cmocka_unit_test_setup_teardown(query_tx_of_max, setup_conn, teardown_conn),
		cmocka_unit_test_setup_teardown(query_syns, setup_conn, teardown_conn),
		cmocka_unit_test_setup_teardown(query_count_flags, setup_conn, teardown_conn),
		cmocka_unit_test(query_flow_reverse),
		cmocka_unit_test(query_seq_wraparound),
		cmocka_unit_test(offline_args),
		cmocka_unit_test(offline_filter),
		cmocka_unit_test_setup_teardown(save_load_round_trip, setup_conn, teardown_conn),
		cmocka_unit_test_setup_teardown(load_errors, setup_conn, teardown_conn),
		cmocka_unit_test(load_microseconds_sll),
		cmocka_unit_test(snaplen_cut),
	};

	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
