/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_capture.h — packet capture on a link of a host, and just enough TCP
 * decoding to list the transmissions of a sequence range.
 *
 * libpcap's life cycle: create → set → activate → read → close.
 *
 *   tf_capture_new(host, "eth0", &c);       // in host's netns
 *   tf_capture_set_filter(c, "tcp port 5000");
 *   tf_capture_activate(c);                  // capturing from here on
 *   ... scenario ...
 *   tf_capture_read(c);                      // drain what the kernel holds
 *   n = tf_capture_count(c); p = tf_capture_pkt(c, i);
 *   tf_capture_save(c, "/path/x.pcap");
 *   tf_capture_free(c);
 *
 * Timestamps are the kernel's (nanosecond precision, CLOCK_REALTIME), so the
 * time a packet is read does not matter.  Returns 0 or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tf_host tf_host;
typedef struct tf_capture tf_capture;

#define TF_TCP_FIN 0x01
#define TF_TCP_SYN 0x02
#define TF_TCP_RST 0x04
#define TF_TCP_PSH 0x08
#define TF_TCP_ACK 0x10

/* One decoded IPv4 packet (TCP fields valid when proto == IPPROTO_TCP). */
typedef struct tf_pkt {
	int64_t        ts_ns;          /* kernel timestamp, CLOCK_REALTIME */
	uint8_t        proto;          /* IPPROTO_TCP, IPPROTO_ICMP, ... */
	struct in_addr src, dst;
	uint16_t       ip_len;         /* IPv4 total length */
	bool           df;             /* IPv4 don't-fragment bit */
	uint16_t       sport, dport;   /* host order */
	uint32_t       seq, ack;       /* host order, absolute */
	uint8_t        flags;          /* TF_TCP_* */
	uint16_t       win;            /* raw window field */
	uint32_t       payload;        /* TCP payload bytes */
	uint8_t        icmp_type, icmp_code; /* when proto == IPPROTO_ICMP */
	/* --- IPv6 (tf_pkt_decode_ipv6(), lib/capture_ipv6.c) --- */
	/* 0 or AF_INET: IPv4, src/dst above.  AF_INET6: src6/dst6 below, and
	 * src/dst are 0.0.0.0 (so IPv4 code comparing .s_addr never matches a
	 * real IPv4 flow by accident; family-aware code uses tf_flow_addr_eq()).
	 * For IPv6, ip_len is 40 + the Payload Length (0 when that does not
	 * fit 16 bits), df is true (routers never fragment IPv6, RFC 8200 §5),
	 * and proto is the last Next Header after the extension headers
	 * (IPPROTO_ICMPV6 with icmp_type/icmp_code from the ICMPv6 header). */
	sa_family_t    family;
	struct in6_addr src6, dst6;
	uint32_t       icmp6_mtu;      /* ICMPv6 Packet Too Big: the MTU field */
} tf_pkt;

/* A direction of a TCP connection, addresses and ports in host order
 * except the in_addr (network order, as from inet_pton). */
typedef struct tf_flow {
	struct in_addr src, dst;
	uint16_t       sport, dport;
	/* --- IPv6: as in tf_pkt (0/AF_INET = src/dst, AF_INET6 = src6/dst6) --- */
	sa_family_t    family;
	struct in6_addr src6, dst6;
} tf_flow;

int  tf_capture_new(tf_host *h, const char *ifname, tf_capture **ret);
int  tf_capture_set_filter(tf_capture *c, const char *bpf);   /* before activate */
int  tf_capture_set_snaplen(tf_capture *c, int snaplen);      /* before activate; [256] 128..262144 */
int  tf_capture_activate(tf_capture *c);                      /* on failure, only free is left */
int  tf_capture_fd(const tf_capture *c);                      /* pollable, after activate */
/* Drain everything the kernel has captured so far (non-blocking).
 * Returns the number of new packets (>= 0) or -errno.  Frames that are not
 * IPv4 (ARP...) are kept for tf_capture_save() but are not packets. */
int  tf_capture_read(tf_capture *c);
size_t tf_capture_count(const tf_capture *c);
const tf_pkt *tf_capture_pkt(const tf_capture *c, size_t i);  /* NULL past the end */
/* Write every captured packet (raw frames) as a pcap file (nanosecond):
 * to a temporary in the same directory (0644, or the mode of the file it
 * replaces), renamed over `path`, so a failure leaves what was there.  A
 * `path` that exists and is not a regular file (a device, a FIFO) is
 * refused: -ELOOP (symlink), -EISDIR, -EEXIST.  A frame's time past
 * 2^31 - 1 s (2038-01-19, what a pcap record holds) is -EOVERFLOW, and
 * nothing is written. */
int  tf_capture_save(const tf_capture *c, const char *path);
void tf_capture_free(tf_capture *c);                          /* accepts NULL */
static inline void tf_capture_freep(tf_capture **c) { tf_capture_free(*c); }

/* --- queries over the captured packets --- */
/* Transmissions in direction `f` whose payload covers sequence `seq`
 * (the original and every retransmission), oldest first.  Writes up to
 * `max` indices into `idx` and returns how many there are in total.
 * "Covers" uses SEG.LEN: a SYN or FIN occupies one sequence number too, so
 * a bare FIN's retransmissions are found by its seq.  Wraps past 2^32. */
size_t tf_capture_tx_of(const tf_capture *c, const tf_flow *f, uint32_t seq,
                        size_t *idx, size_t max);
/* SYNs (without ACK) in direction `f`, oldest first; same contract. */
size_t tf_capture_syns(const tf_capture *c, const tf_flow *f, size_t *idx, size_t max);
/* Number of packets in direction `f` (either direction if `both`) that
 * carry any of `flags`. */
size_t tf_capture_count_flags(const tf_capture *c, const tf_flow *f, bool both, uint8_t flags);
/* The reverse direction of a flow. */
tf_flow tf_flow_reverse(tf_flow f);
/* Whether `p` is a TCP packet of direction `f` (addresses and ports
 * equal), or of either direction when `both_directions`.  The one test
 * every query here uses; cases and tools should use it too. */
bool tf_pkt_in_flow(const tf_pkt *p, const tf_flow *f, bool both_directions);

/* Decode one raw Ethernet (or Linux cooked) frame; exposed for unit tests.
 * Returns 0, or -EINVAL for frames that are not IPv4.
 * Link types: DLT_EN10MB (802.1Q/802.1ad tags skipped), DLT_LINUX_SLL,
 * DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4.  Lengths come from the IP header, so
 * a frame cut at snaplen decodes whole; one cut inside its headers is
 * -EINVAL.  A non-first IP fragment decodes with its L4 fields zero. */
int tf_pkt_decode(const uint8_t *frame, size_t len, int linktype, int64_t ts_ns, tf_pkt *out);

/* --- diagnostics and tuning --- */
/* libpcap's text for the last failure on this capture ("" when none): the
 * errno says what kind of failure, this says which syscall and why. */
const char *tf_capture_error(const tf_capture *c);
/* Kernel ring size in bytes, before activate; [8 MiB], at least 64 KiB. */
int  tf_capture_set_buffer_size(tf_capture *c, int bytes);
/* Link type (DLT_*) of the stored frames: known after activate (live) or
 * after the first load (offline; DLT_EN10MB until then). */
int  tf_capture_linktype(const tf_capture *c);
/* Frames the kernel dropped since activate because the ring was full
 * (0 offline).  Non-zero means the packet list is incomplete, so a case
 * counting retransmissions must not trust it. */
int  tf_capture_dropped(tf_capture *c, uint64_t *ret);

/*
 * Offline captures, for tests and tools: the same packet list and queries,
 * fed with frames instead of a link (re-analysing a saved artifact, unit
 * tests of the queries).  tf_capture_inject() and tf_capture_load() work
 * only on offline captures (-EINVAL otherwise); tf_capture_read() returns 0.
 * The filter and snaplen setters work at any time on them and apply to the
 * frames added afterwards, as the kernel would have applied them.
 */
int  tf_capture_new_offline(tf_capture **ret);
/* Add one frame of the capture's link type, captured at ts_ns (>= 0), cut
 * at snaplen.  Returns 1 if it decoded as IPv4 (it is now the last
 * tf_capture_pkt()), 0 if not (kept raw for tf_capture_save(); or, when
 * the filter rejects it, not kept at all), or -errno. */
int  tf_capture_inject(tf_capture *c, const uint8_t *frame, size_t len, int64_t ts_ns);
/* Append every frame of a pcap (micro- or nanosecond) or pcapng file.  An
 * empty capture adopts the file's link type; a non-empty one must match it
 * (-EINVAL).  A corrupt file is -EIO (cut short) or -EINVAL (a record time
 * beyond int64 nanoseconds), with tf_capture_error() saying which.  All or
 * nothing.  Returns the number of new decoded packets. */
int  tf_capture_load(tf_capture *c, const char *pcap_path);

/* --- IPv6 (lib/capture_ipv6.c) --- */
/* Decode one IPv6 packet, `ip` pointing at its fixed header and `len` the
 * bytes captured from there.  Extension headers (Hop-by-Hop, Routing,
 * Fragment, Destination Options, AH, Mobility, HIP, Shim6) are skipped
 * within both `len` and the Payload Length; a non-first fragment decodes
 * with its L4 fields zero, as in tf_pkt_decode().  Lengths come from the
 * Payload Length (0, a jumbogram without the option: from `len`).
 * Returns 0, or -EINVAL for anything that is not a well-formed IPv6
 * packet up to the end of its transport header.  out->ts_ns is 0. */
int tf_pkt_decode_ipv6(const uint8_t *ip, size_t len, tf_pkt *out);

static inline bool tf_flow_is_v6(const tf_flow *f) { return f && f->family == AF_INET6; }
static inline bool tf_pkt_is_v6(const tf_pkt *p) { return p && p->family == AF_INET6; }

/* Whether p's addresses are f's (p travels in direction f), family first:
 * an IPv6 packet never matches an IPv4 flow nor the reverse.  Ports and
 * proto are the caller's (tf_pkt_in_flow()). */
static inline bool tf_in6_eq(const struct in6_addr *a, const struct in6_addr *b)
{
	unsigned char d = 0;

	for (int i = 0; i < 16; i++)
		d |= (unsigned char)(a->s6_addr[i] ^ b->s6_addr[i]);
	return d == 0;
}
static inline bool tf_flow_addr_eq(const tf_pkt *p, const tf_flow *f)
{
	if (tf_pkt_is_v6(p) != tf_flow_is_v6(f))
		return false;
	if (tf_flow_is_v6(f))
		return tf_in6_eq(&p->src6, &f->src6) && tf_in6_eq(&p->dst6, &f->dst6);
	return p->src.s_addr == f->src.s_addr && p->dst.s_addr == f->dst.s_addr;
}

/* The reverse of a flow, both families (tf_flow_reverse() predates src6:
 * this is what it becomes at the merge). */
static inline tf_flow tf_flow_reverse_any(tf_flow f)
{
	return (tf_flow){ .src = f.dst, .dst = f.src, .sport = f.dport, .dport = f.sport,
	                  .family = f.family, .src6 = f.dst6, .dst6 = f.src6 };
}

/* --- matching packets of a capture (capture_match.c) --- */

/* What a packet must look like; zeroed fields do not constrain. */
typedef struct tf_match {
	const tf_flow *flow;       /* TCP in this direction (tf_pkt_in_flow()) */
	uint8_t all, none;         /* TF_TCP_* flags required / forbidden */
	int payload;               /* 0 any, 1 with payload, -1 without */
	int64_t after_ns;          /* at or after */
	bool has_ack;              /* ACK field at or past `ack` (mod 2^32) */
	uint32_t ack;
	bool zero_win;             /* advertises a zero window */
	bool icmp;                 /* instead of TCP: ICMP (ICMPv6) of type/code */
	uint8_t icmp_type, icmp_code;
	/* 0 or AF_INET: ICMP from icmp_src (0.0.0.0: any); AF_INET6: ICMPv6
	 * from icmp_src6 (::: any).  tf_match_icmp_from() sets them. */
	int icmp_family;
	struct in_addr icmp_src;
	struct in6_addr icmp_src6;
} tf_match;

/* m matches ICMP (ICMPv6 for an address with ':') from addr: 0, -EINVAL. */
int tf_match_icmp_from(tf_match *m, const char *addr);
bool tf_pkt_matches(const tf_pkt *p, const tf_match *m);
/* The index of the first packet at or after `from` matching m, or -1. */
long tf_capture_find(const tf_capture *c, size_t from, const tf_match *m);
size_t tf_capture_count_match(const tf_capture *c, const tf_match *m);
/* The times of the packets matching m (up to max written), their count. */
size_t tf_capture_times(const tf_capture *c, const tf_match *m, int64_t *ts, size_t max);
/* Read the capture as packets arrive (poll on its fd) until the n-th
 * (1-based) packet matching m is in: its index; -ETIME at the deadline,
 * or -errno. */
long tf_capture_wait_match(tf_capture *c, const tf_match *m, size_t n, int timeout_ms);

#ifdef __cplusplus
}
#endif
