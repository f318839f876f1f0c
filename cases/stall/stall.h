/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stall.h — the few helpers the stall family's cases share.  The kernel
 * rules they assert (the timer wheel band, the delayed-ACK engine,
 * ephemeral port selection, TIME-WAIT reuse, the MSS/MTU arithmetic) live
 * in lib/tf_model.h, with their citations and unit tests; timewait.c and
 * ports.c call lib directly (tf_band, tf_model_timewait_band(), ...), the
 * short hands below remain for nagle.c and pmtu.c.  What differs between
 * kernels is probed by the cases (a sysctl present or not), never taken
 * from a version.  Every helper here works on flows of either family
 * (issue 14).
 *
 * Times in µs unless a name says otherwise; jiffies are the kernel's.
 */
#pragma once

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>

#include "tf_test.h"

/* ------------------------------------------------------------------ */
/* The kernel rules live in lib/tf_model.h (model_delack.c,             */
/* model_ports.c, model_mss.c, model_zwp.c, model_timer.c); the names    */
/* below are the family's short hands for them.                          */
/* ------------------------------------------------------------------ */

static inline unsigned stall_usecs_to_jiffies(uint64_t us, unsigned hz)
{
	return (unsigned)tf_us_to_jiffies(hz, us);
}

/* When a timer armed for n jiffies from a syscall or a softirq fires
 * (tf_model_band()); the runner adds tf_slack_us() to every check. */
typedef tf_band stall_band;

static inline unsigned stall_wheel_gran(unsigned long n, unsigned hz)
{
	return tf_model_wheel_gran(hz, n);
}

static inline stall_band stall_timer_band(unsigned n, unsigned hz)
{
	stall_band b;

	tf_must(tf_model_band(hz, n, false, &b));
	return b;
}

static inline bool stall_expect_band(const char *what, int64_t measured_us, stall_band b)
{
	return tf_expect_timer_time(what, measured_us, b.mid_us, b.lo_us, b.hi_us);
}

static inline unsigned stall_probe0_base(unsigned rto, unsigned hz)
{
	return tf_model_probe0_base(hz, rto);
}

static inline unsigned stall_mtu_to_mss(unsigned pmtu, bool ts, unsigned min_snd_mss)
{
	return tf_model_mtu_to_mss(pmtu, ts, min_snd_mss);
}

static inline unsigned stall_mss_to_mtu(unsigned mss, bool ts)
{
	return tf_model_mss_to_mtu(mss, ts);
}

/* ------------------------------------------------------------------ */
/* Kernel state the socket API does not show                          */
/* ------------------------------------------------------------------ */

/*
 * One row of /proc/net/tcp (IPv4 flows) or /proc/net/tcp6 (IPv6 flows)
 * for a full socket (get_tcp4_sock(), net/ipv4/tcp_ipv4.c;
 * get_tcp6_sock(), net/ipv6/tcp_ipv6.c: the same columns, the addresses as
 * four 32-bit words): the xmit timer in use ("tr": 0 none, 1 retransmit /
 * loss probe, 2 keepalive, 4 zero-window probe), icsk_rto and
 * icsk_ack.ato (clock_t), and "(icsk_ack.quick << 1) | pingpong".
 */
typedef struct stall_tcprow {
	int state;
	unsigned timer;        /* tr */
	long when_clk;         /* timer expiry from now, clock_t */
	unsigned long rto_clk, ato_clk;
	unsigned quick;
	bool pingpong;
} stall_tcprow;

struct stall_proc_arg {
	const tf_flow *f;
	stall_tcprow *row;
};

/* The addresses and ports of one row, and where the rest begins; false for
 * the header or a row of the other shape. */
static inline bool stall_proc_row_is(const char *line, const tf_flow *f, const char **rest)
{
	unsigned lp, rp;
	int n = 0;

	if (tf_flow_is_v6(f)) {
		uint32_t la[4], ra[4];

		/* %pI6-less: each word printed as the u32 in memory (%08X) */
		if (sscanf(line, " %*d: %8X%8X%8X%8X:%X %8X%8X%8X%8X:%X%n", &la[0], &la[1], &la[2], &la[3],
		           &lp, &ra[0], &ra[1], &ra[2], &ra[3], &rp, &n) != 10 || n == 0)
			return false;
		if (memcmp(la, f->src6.s6_addr32, 16) || memcmp(ra, f->dst6.s6_addr32, 16))
			return false;
	} else {
		unsigned la, ra;

		if (sscanf(line, " %*d: %X:%X %X:%X%n", &la, &lp, &ra, &rp, &n) != 4 || n == 0)
			return false;
		if (la != f->src.s_addr || ra != f->dst.s_addr)
			return false;
	}
	*rest = line + n;
	return lp == f->sport && rp == f->dport;
}

static inline int stall_proc_read(void *arg)
{
	struct stall_proc_arg *a = arg;
	char line[512];
	FILE *fp;
	int r = -ENOENT;

	/* /proc/thread-self/net is the network namespace of this thread,
	 * which tf_host_run() has just moved into the host. */
	fp = fopen(tf_flow_is_v6(a->f) ? "/proc/thread-self/net/tcp6" : "/proc/thread-self/net/tcp",
	           "re");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof line, fp)) {
		unsigned st, tr, retr, qp, uid, probes, cwnd;
		unsigned long when, rto, ato, inode;
		int refcnt, ssthresh;
		const char *rest;
		char ptr[32];

		if (!stall_proc_row_is(line, a->f, &rest))
			continue;
		/* widths omitted: "when" is a negative clock_t once due */
		if (sscanf(rest, " %X %*X:%*X %X:%lX %X %u %u %lu %d %31s %lu %lu %u %u %d", &st, &tr,
		           &when, &retr, &uid, &probes, &inode, &refcnt, ptr, &rto, &ato, &qp, &cwnd,
		           &ssthresh) != 14)
			continue;   /* a TIME-WAIT / request row (shorter) */
		a->row->state = (int)st;
		a->row->timer = tr;
		a->row->when_clk = (long)when;
		a->row->rto_clk = rto;
		a->row->ato_clk = ato;
		a->row->quick = qp >> 1;
		a->row->pingpong = qp & 1;
		r = 0;
		break;
	}
	fclose(fp);
	return r;
}

static inline int stall_proc_tcp(tf_host *h, const tf_flow *f, stall_tcprow *row)
{
	struct stall_proc_arg a = { f, row };

	memset(row, 0, sizeof *row);
	return tf_host_run(h, stall_proc_read, &a);
}

/* sock_diag state of a flow, or -ENOENT when the socket is gone. */
static inline int stall_diag(tf_host *h, const tf_flow *f)
{
	int st = -1, r = tf_tcp_diag_state(h, f, &st);

	if (r == -ENOENT)
		return -ENOENT;
	tf_must(r);
	return st;
}

/*
 * Wait until CLOCK_MONOTONIC reaches `until_ns` while watching fd (a
 * capture's fd, or -1): used only where the awaited thing is a moment the
 * model computed and the kernel signals nothing (TIME-WAIT expiry,
 * tcp_tw_reuse delay), at the cadence the caller states.  Returns early
 * (1) when fd becomes readable.
 */
static inline int stall_wait_until(int fd, int64_t until_ns)
{
	for (;;) {
		int64_t left = until_ns - tf_mono_ns();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r;

		if (left <= 0)
			return 0;
		/* ppoll: nanoseconds — poll()'s milliseconds would stretch a
		 * sub-millisecond cadence to one or two ms */
		struct timespec ts = { .tv_sec = left / 1000000000, .tv_nsec = left % 1000000000 };
		r = ppoll(&p, 1, &ts, NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r > 0)
			return 1;
	}
}

/* CLOCK_REALTIME (capture timestamps) minus CLOCK_MONOTONIC, for turning a
 * wire time into the clock tcp_clock_ms() reads. */
static inline int64_t stall_real_minus_mono(void)
{
	/* the tightest of a few reads: a preemption between two of them
	 * (milliseconds, with every core busy) would shift every stamp
	 * converted with it */
	int64_t best = INT64_MAX, off = 0;

	for (int i = 0; i < 16; i++) {
		int64_t a = tf_now_ns(), m = tf_mono_ns(), b = tf_now_ns();
		if (b - a < best) {
			best = b - a;
			off = a + (b - a) / 2 - m;
		}
	}
	return off;
}

/* Packet helpers over a capture. */
static inline bool stall_pkt_in(const tf_pkt *p, const tf_flow *f)
{
	return tf_pkt_in_flow(p, f, false);   /* lib's, family-aware */
}

/* First packet of flow f at or after t_ns (by index from `from`) matching
 * flags (all of `need`) and payload rule (payload < 0: any; else exact);
 * returns its index or -1. */
static inline long stall_find(const tf_capture *c, size_t from, const tf_flow *f, int64_t t_ns,
                              uint8_t need, long payload)
{
	for (size_t i = from; i < tf_capture_count(c); i++) {
		const tf_pkt *p = tf_capture_pkt(c, i);

		if (!stall_pkt_in(p, f) || p->ts_ns < t_ns)
			continue;
		if ((p->flags & need) != need)
			continue;
		if (payload >= 0 && (long)p->payload != payload)
			continue;
		return (long)i;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* An active close, client first: the client ends in TIME-WAIT          */
/* ------------------------------------------------------------------ */

typedef struct stall_closed {
	tf_flow up;            /* client -> server */
	uint32_t client_fin;   /* seq of the client's FIN */
	uint32_t server_fin;   /* seq of the server's FIN */
	int64_t server_fin_ns; /* the server's FIN on the client link (before the client has it) */
	int64_t final_ack_ns;  /* the client's ACK of the server's FIN leaves (client link) */
	size_t from;           /* capture index where the close started */
} stall_closed;

/*
 * Scan `cap` (refreshing it as packets arrive) from index *from for the
 * first packet of flow f with all of `flags` and, when ack_of is not NULL,
 * acknowledging *ack_of (ack == *ack_of); wait on the capture's fd until
 * deadline (CLOCK_MONOTONIC ns).  Returns the index or -ETIME.
 */
static inline long stall_wait_pkt(tf_capture *cap, size_t from, const tf_flow *f, uint8_t flags,
                                  uint8_t not_flags, const uint32_t *ack_of, int64_t deadline)
{
	size_t i = from;

	for (;;) {
		tf_must(tf_capture_read(cap));
		for (; i < tf_capture_count(cap); i++) {
			const tf_pkt *p = tf_capture_pkt(cap, i);

			if (!stall_pkt_in(p, f) || (p->flags & flags) != flags || (p->flags & not_flags))
				continue;
			if (ack_of && p->ack != *ack_of)
				continue;
			return (long)i;
		}
		int w = stall_wait_until(tf_capture_fd(cap), deadline);

		tf_must(w);
		if (w == 0) {
			tf_must(tf_capture_read(cap));
			if (i == tf_capture_count(cap))
				return -ETIME;
		}
	}
}

/*
 * close() the client (FIN), wait for the server's EOF, close() the server
 * (its FIN carries the ACK of ours: the server is in CLOSE_WAIT, ping-pong,
 * tcp_fin()), and wait for the client's final ACK on the capture.  Both fds
 * are closed and set to -1.
 */
static inline void stall_close_client_first(int *cfd, int *sfd, tf_capture *cap, stall_closed *out)
{
	char buf[256];
	ssize_t n;
	long i;
	uint32_t want;
	int64_t deadline = tf_mono_ns() + 5000 * 1000000LL;

	tf_must(tf_capture_read(cap));
	out->from = tf_capture_count(cap);
	tf_must(tf_sock_flow(*cfd, &out->up));
	close(*cfd);
	*cfd = -1;
	/* the server sees EOF */
	for (;;) {
		tf_must(tf_sock_wait(*sfd, POLLIN, 5000, NULL));
		n = recv(*sfd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			tf_fail("server recv: %s", strerror(errno));
	}
	close(*sfd);
	*sfd = -1;
	tf_flow down = tf_flow_reverse(out->up);
	i = stall_wait_pkt(cap, out->from, &out->up, TF_TCP_FIN, 0, NULL, deadline);
	if (i < 0)
		tf_fail("no FIN from the client on the wire");
	out->client_fin = tf_capture_pkt(cap, (size_t)i)->seq + tf_capture_pkt(cap, (size_t)i)->payload;
	i = stall_wait_pkt(cap, out->from, &down, TF_TCP_FIN, 0, NULL, deadline);
	if (i < 0)
		tf_fail("no FIN from the server on the wire");
	out->server_fin = tf_capture_pkt(cap, (size_t)i)->seq + tf_capture_pkt(cap, (size_t)i)->payload;
	out->server_fin_ns = tf_capture_pkt(cap, (size_t)i)->ts_ns;
	want = out->server_fin + 1;
	i = stall_wait_pkt(cap, (size_t)i, &out->up, TF_TCP_ACK, TF_TCP_FIN, &want, deadline);
	if (i < 0)
		tf_fail("no final ACK from the client on the wire");
	out->final_ack_ns = tf_capture_pkt(cap, (size_t)i)->ts_ns;
}

/* A cadence wait that keeps a capture drained: returns at `until_ns`
 * (CLOCK_MONOTONIC) whatever arrives meanwhile. */
static inline void stall_sleep_cap(tf_capture *cap, int64_t until_ns)
{
	for (;;) {
		int r = stall_wait_until(cap ? tf_capture_fd(cap) : -1, until_ns);

		tf_must(r);
		if (r == 0)
			return;
		tf_must(tf_capture_read(cap));
	}
}

/*
 * TCP segmentation offload off on a host's interface (SIOCETHTOOL
 * ETHTOOL_STSO, what `ethtool -K IF tso off` does), so that the stack
 * segments in software before the capture tap (validate_xmit_skb() runs
 * before dev_queue_xmit_nit() on a noqueue veth) and the capture shows the
 * segments a real wire would carry instead of 64 KB super-packets.
 * Changes nothing about timers or the path.
 */
static inline int stall_tso_off(tf_host *h, const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STSO, .data = 0 };
	struct ifreq ifr;
	int fd = tf_host_socket(h, AF_INET, SOCK_DGRAM, 0), r = 0;

	if (fd < 0)
		return fd;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* A soft check of a TCP state (sock_diag), both named in the report;
 * -ENOENT is "gone". */
static inline bool stall_expect_state(const char *what, int measured, int expected)
{
	char w[256];
	bool ok;

	snprintf(w, sizeof w, "%s: %s (sock_diag)", what, tf_tcp_state_name(expected));
	ok = tf_expect_int(w, measured, expected);
	if (!ok)
		tf_note("%s: the kernel says %s", what, tf_tcp_state_name(measured));
	return ok;
}
