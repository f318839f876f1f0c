/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writers of hand-made capture files, for tests and the fuzz corpus
 * (fuzz/gen_corpus.c): classic pcap with any header values, and pcapng
 * (libpcap 1.10 cannot write it), including what a crafted file can say.
 * Host byte order; both formats carry a byte-order magic.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Classic pcap header: magic 0xa1b2c3d4 (µs) or 0xa1b23c4d (ns). */
static inline void pcapf_header(FILE *f, uint32_t magic, uint32_t snaplen, uint32_t linktype)
{
	uint32_t h[6] = { magic, 2 | 4u << 16, 0, 0, snaplen, linktype };
	fwrite(h, sizeof(h), 1, f);
}

static inline void pcapf_record(FILE *f, uint32_t sec, uint32_t frac, uint32_t caplen,
                                uint32_t len, const void *data)
{
	uint32_t h[4] = { sec, frac, caplen, len };
	fwrite(h, sizeof(h), 1, f);
	if (caplen)
		fwrite(data, caplen, 1, f);
}

static inline void pcapng_u32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }

/* Section header block, no options. */
static inline void pcapng_shb(FILE *f)
{
	uint16_t ver[2] = { 1, 0 };
	int64_t seclen = -1;

	pcapng_u32(f, 0x0a0d0d0a);
	pcapng_u32(f, 28);
	pcapng_u32(f, 0x1a2b3c4d);
	fwrite(ver, sizeof(ver), 1, f);
	fwrite(&seclen, 8, 1, f);
	pcapng_u32(f, 28);
}

/* Interface description block; tsresol < 0: no if_tsresol option (µs). */
static inline void pcapng_idb(FILE *f, uint16_t linktype, uint32_t snaplen, int tsresol)
{
	uint16_t lt[2] = { linktype, 0 };
	uint32_t len = 20 + (tsresol >= 0 ? 8 + 4 : 0);

	pcapng_u32(f, 1);
	pcapng_u32(f, len);
	fwrite(lt, sizeof(lt), 1, f);
	pcapng_u32(f, snaplen);
	if (tsresol >= 0) {
		uint16_t opt[2] = { 9, 1 };             /* if_tsresol, 1 byte */
		uint8_t v[4] = { (uint8_t)tsresol, 0, 0, 0 };

		fwrite(opt, sizeof(opt), 1, f);
		fwrite(v, sizeof(v), 1, f);
		pcapng_u32(f, 0);                       /* opt_endofopt */
	}
	pcapng_u32(f, len);
}

/* Enhanced packet block on interface 0, time in the interface's units. */
static inline void pcapng_epb(FILE *f, uint64_t ts, const void *data, uint32_t caplen,
                              uint32_t origlen)
{
	static const uint8_t pad[4];
	uint32_t padded = (caplen + 3) & ~3u, len = 32 + padded;

	pcapng_u32(f, 6);
	pcapng_u32(f, len);
	pcapng_u32(f, 0);
	pcapng_u32(f, (uint32_t)(ts >> 32));
	pcapng_u32(f, (uint32_t)ts);
	pcapng_u32(f, caplen);
	pcapng_u32(f, origlen);
	if (caplen)
		fwrite(data, caplen, 1, f);
	fwrite(pad, padded - caplen, 1, f);
	pcapng_u32(f, len);
}
