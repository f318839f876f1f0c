/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes the seed corpus of the fuzz targets (fuzz/corpus/, checked in):
 * synthetic frames -- TCP handshake, data, FIN, RST, options, ICMP
 * "fragmentation needed", UDP, a fragment, VLAN tags, ARP -- as
 * fuzz_decode inputs (a link-type byte, then the frame) and as capture
 * files of every link type the loader takes: pcap in µs and ns (written by
 * tf_capture_save() for Ethernet), pcapng in µs and ns.
 *
 *   meson compile -C build fuzz/gen_corpus && build/fuzz/gen_corpus fuzz/corpus
 *
 * Reproducers of fixed crashes are added by hand (crash-*), never
 * regenerated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "tf_capture.h"
#include "../lib/tests/pcapfile.h"

struct frame {
	const char *name;
	uint8_t b[256];
	size_t len;             /* from the Ethernet header */
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

/* IPv4 at ip, protocol proto, l4len bytes after the 20-byte header. */
static size_t ipv4(uint8_t *ip, uint8_t proto, size_t l4len, uint16_t frag, uint32_t src,
                   uint32_t dst)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	return 20;
}

#define A 0x0a000001u
#define B 0x0a000002u

static size_t tcp(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
                  uint32_t seq, uint32_t ack, uint8_t flags, size_t opts, size_t payload)
{
	uint8_t *t;
	size_t thl = 20 + opts;

	memset(f, 0, 14);
	put16(f + 12, 0x0800);
	ipv4(f + 14, 6, thl + payload, 0x4000, src, dst);
	t = f + 34;
	memset(t, 0, thl + payload);
	put16(t, sp);
	put16(t + 2, dp);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = flags;
	put16(t + 14, 64240);
	if (opts >= 4) {        /* MSS 1460, then NOPs */
		t[20] = 2, t[21] = 4;
		put16(t + 22, 1460);
		memset(t + 24, 1, opts - 4);
	}
	memset(t + thl, 'x', payload);
	return 34 + thl + payload;
}

static size_t frames(struct frame *F)
{
	size_t n = 0;
	uint8_t *f;

	F[n].name = "syn";
	F[n].len = tcp(F[n].b, A, B, 40000, 5000, 1000, 0, TF_TCP_SYN, 12, 0); n++;
	F[n].name = "synack";
	F[n].len = tcp(F[n].b, B, A, 5000, 40000, 9000, 1001, TF_TCP_SYN | TF_TCP_ACK, 12, 0); n++;
	F[n].name = "data";
	F[n].len = tcp(F[n].b, A, B, 40000, 5000, 1001, 9001, TF_TCP_ACK | TF_TCP_PSH, 0, 100); n++;
	F[n].name = "fin";
	F[n].len = tcp(F[n].b, A, B, 40000, 5000, 1101, 9001, TF_TCP_ACK | TF_TCP_FIN, 0, 0); n++;
	F[n].name = "rst";
	F[n].len = tcp(F[n].b, B, A, 5000, 40000, 9001, 0, TF_TCP_RST, 0, 0); n++;

	/* ICMP fragmentation needed, quoting the data segment's headers */
	f = F[n].b;
	memset(f, 0, 14);
	put16(f + 12, 0x0800);
	ipv4(f + 14, 1, 8 + 28, 0, B, A);
	f[34] = 3, f[35] = 4;
	put16(f + 40, 1280);
	ipv4(f + 42, 6, 8, 0x4000, A, B);
	put16(f + 62, 40000), put16(f + 64, 5000);
	F[n].name = "icmp-frag-needed";
	F[n].len = 14 + 20 + 8 + 28;
	n++;

	/* UDP */
	f = F[n].b;
	memset(f, 0, 14);
	put16(f + 12, 0x0800);
	ipv4(f + 14, 17, 8 + 4, 0, A, B);
	put16(f + 34, 53), put16(f + 36, 5353), put16(f + 38, 12);
	F[n].name = "udp";
	F[n].len = 14 + 20 + 12;
	n++;

	/* A non-first fragment of a TCP packet */
	F[n].len = tcp(F[n].b, A, B, 40000, 5000, 1, 1, TF_TCP_ACK, 0, 40);
	put16(F[n].b + 14 + 6, 0x2000 | 3);
	F[n].name = "fragment";
	n++;

	/* 802.1Q + 802.1ad tags in front of the data segment */
	f = F[n].b;
	memcpy(f, F[2].b, 12);
	put16(f + 12, 0x88a8), put16(f + 14, 100);
	put16(f + 16, 0x8100), put16(f + 18, 200);
	memcpy(f + 20, F[2].b + 12, F[2].len - 12);
	F[n].name = "vlan2";
	F[n].len = F[2].len + 8;
	n++;

	/* IHL 6 (an IP option), tot_len 0 (BIG TCP GSO) */
	f = F[n].b;
	memcpy(f, F[2].b, 14);
	memcpy(f + 14, F[2].b + 14, 20);
	f[14] = 0x46;
	put16(f + 16, 0);
	memset(f + 34, 1, 4);
	memcpy(f + 38, F[2].b + 34, F[2].len - 34);
	F[n].name = "ipopt-biglen";
	F[n].len = F[2].len + 4;
	n++;

	/* ARP: not IPv4, kept raw */
	f = F[n].b;
	memset(f, 0, 42);
	memset(f, 0xff, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1), put16(f + 16, 0x0800);
	f[18] = 6, f[19] = 4;
	put16(f + 20, 1);
	F[n].name = "arp";
	F[n].len = 42;
	n++;
	return n;
}

/* The frame re-framed for a link type; returns its length. */
static size_t reframe(const struct frame *fr, int lt, uint8_t *out)
{
	uint16_t et = (uint16_t)(fr->b[12] << 8 | fr->b[13]);
	size_t l3 = fr->len - 14;

	switch (lt) {
	case DLT_EN10MB:
		memcpy(out, fr->b, fr->len);
		return fr->len;
	case DLT_LINUX_SLL:
		memset(out, 0, 16);
		put16(out + 2, 1), put16(out + 4, 6);
		put16(out + 14, et);
		memcpy(out + 16, fr->b + 14, l3);
		return 16 + l3;
	case DLT_LINUX_SLL2:
		memset(out, 0, 20);
		put16(out, et);
		put32(out + 4, 2);
		put16(out + 8, 1), out[11] = 6;
		memcpy(out + 20, fr->b + 14, l3);
		return 20 + l3;
	default:       /* DLT_RAW, DLT_IPV4 */
		memcpy(out, fr->b + 14, l3);
		return l3;
	}
}

static FILE *create(const char *dir, const char *sub, const char *name)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name);
	f = fopen(p, "wbe");
	if (!f) {
		perror(p);
		exit(1);
	}
	return f;
}

int main(int argc, char **argv)
{
	static const struct { int lt; const char *name; uint8_t sel; } L[] = {
		{ DLT_EN10MB, "eth", 0 }, { DLT_LINUX_SLL, "sll", 1 }, { DLT_LINUX_SLL2, "sll2", 2 },
		{ DLT_RAW, "raw", 3 }, { DLT_IPV4, "ipv4", 4 },
	};
	struct frame F[16];
	size_t n = frames(F);
	uint8_t b[300];
	char name[128];
	tf_capture *c = NULL;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR (fuzz/corpus)\n");
		return 2;
	}
	/* fuzz_decode: selector byte + frame, each link type */
	for (size_t l = 0; l < sizeof(L) / sizeof(L[0]); l++)
		for (size_t i = 0; i < n; i++) {
			FILE *f;
			size_t len = reframe(&F[i], L[l].lt, b + 1);

			if (L[l].lt != DLT_EN10MB && !strcmp(F[i].name, "vlan2"))
				continue;
			b[0] = L[l].sel;
			snprintf(name, sizeof(name), "%s-%s", L[l].name, F[i].name);
			f = create(argv[1], "fuzz_decode", name);
			fwrite(b, 1, len + 1, f);
			fclose(f);
		}

	/* fuzz_load: the whole conversation, per link type and format */
	for (size_t l = 0; l < sizeof(L) / sizeof(L[0]); l++) {
		FILE *us, *ng, *ngns;

		snprintf(name, sizeof(name), "%s-us.pcap", L[l].name);
		us = create(argv[1], "fuzz_load", name);
		/* files hold LINKTYPE_ values: DLT_RAW is LINKTYPE_RAW (101) */
		pcapf_header(us, 0xa1b2c3d4, 256, (uint32_t)(L[l].lt == DLT_RAW ? 101 : L[l].lt));
		snprintf(name, sizeof(name), "%s-us.pcapng", L[l].name);
		ng = create(argv[1], "fuzz_load", name);
		pcapng_shb(ng);
		pcapng_idb(ng, (uint16_t)(L[l].lt == DLT_RAW ? 101 : L[l].lt), 256, -1);
		snprintf(name, sizeof(name), "%s-ns.pcapng", L[l].name);
		ngns = create(argv[1], "fuzz_load", name);
		pcapng_shb(ngns);
		pcapng_idb(ngns, (uint16_t)(L[l].lt == DLT_RAW ? 101 : L[l].lt), 256, 9);
		for (size_t i = 0; i < n; i++) {
			size_t len;

			if (L[l].lt != DLT_EN10MB && !strcmp(F[i].name, "vlan2"))
				continue;
			len = reframe(&F[i], L[l].lt, b);
			pcapf_record(us, 1700000000, (uint32_t)(1000 * i), (uint32_t)len, (uint32_t)len, b);
			pcapng_epb(ng, 1700000000000000ULL + 1000 * i, b, (uint32_t)len, (uint32_t)len);
			pcapng_epb(ngns, 1700000000000000000ULL + 1000 * i, b, (uint32_t)len,
			           (uint32_t)len);
		}
		fclose(us);
		fclose(ng);
		fclose(ngns);
	}
	/* Nanosecond Ethernet pcap, as the library writes it */
	if (tf_capture_new_offline(&c) < 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (tf_capture_inject(c, F[i].b, F[i].len, 1700000000000000000LL + (int64_t)i) < 0)
			return 1;
	snprintf(name, sizeof(name), "%s/fuzz_load/eth-ns.pcap", argv[1]);
	if (tf_capture_save(c, name) < 0)
		return 1;
	tf_capture_free(c);
	return 0;
}
