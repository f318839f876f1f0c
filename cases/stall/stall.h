/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stall.h — the kernel rules the stall family asserts, as code, and the
 * few helpers its cases share.  Static and header-only because the family
 * owns only cases/stall/: lib/tf_model.h does not (yet) expose the timer
 * wheel band, the delayed-ACK engine, ephemeral port selection, TIME-WAIT
 * reuse or the MSS/MTU arithmetic.  Each rule names the kernel function
 * (and file) it implements; they were read in Linux 6.12 and checked
 * against the 6.14+ changes (tcp_tw_reuse_delay, millisecond tw stamps) and
 * the 6.15+ __inet_hash_connect().  What differs between kernels is probed
 * by the cases (a sysctl present or not), never taken from a version.
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
/* include/net/tcp.h constants, as functions of HZ                    */
/* ------------------------------------------------------------------ */

/* #define TCP_TIMEWAIT_LEN (60*HZ): how long TIME-WAIT lasts. */
static inline unsigned stall_timewait_len(unsigned hz) { return 60 * hz; }
/* #define TCP_DELACK_MIN ((unsigned)(HZ/25)) (4U when HZ < 100), and
 * TCP_ATO_MIN the same value. */
static inline unsigned stall_delack_min(unsigned hz) { return hz >= 100 ? hz / 25 : 4; }
static inline unsigned stall_ato_min(unsigned hz) { return stall_delack_min(hz); }
/* #define TCP_DELACK_MAX ((unsigned)(HZ/5)) */
static inline unsigned stall_delack_max(unsigned hz) { return hz / 5; }
/* #define TCP_RTO_MIN ((unsigned)(HZ/5)) — the constant, not the sysctl. */
static inline unsigned stall_rto_min_const(unsigned hz) { return hz / 5; }

static inline int64_t stall_jiffy_us(unsigned hz) { return 1000000 / hz; }
/* usecs_to_jiffies() rounds up (include/linux/jiffies.h, _usecs_to_jiffies). */
static inline unsigned stall_usecs_to_jiffies(uint64_t us, unsigned hz)
{
	return (unsigned)((us * hz + 999999) / 1000000);
}

/* ------------------------------------------------------------------ */
/* kernel/time/timer.c: when a timer_list armed for n jiffies fires    */
/* ------------------------------------------------------------------ */

/*
 * mod_timer(t, jiffies + n) called at an arbitrary moment inside a jiffy
 * (from a syscall or a softirq, never from the tick itself) fires after
 * (n, n + gran] jiffies: the model's tf_model_timer_band() (calc_index()
 * rounds the expiry up to the level's granularity).  No scheduling latency:
 * the caller's check adds tf_slack_us().
 */
typedef struct stall_band {
	int64_t lo, mid, hi;   /* µs */
	unsigned n, gran;      /* jiffies armed, wheel granularity */
} stall_band;

static inline unsigned stall_wheel_gran(unsigned long n, unsigned hz)
{
	return tf_model_wheel_gran(hz, n);
}

static inline stall_band stall_timer_band(unsigned n, unsigned hz)
{
	stall_band b = { .n = n, .gran = tf_model_wheel_gran(hz, n) };

	tf_must(tf_model_timer_band(hz, n, false, &b.lo, &b.hi));
	b.mid = (b.lo + b.hi) / 2;
	return b;
}

/* Check a measured interval against a band (slack added by the runner). */
static inline bool stall_expect_band(const char *what, int64_t measured_us, stall_band b)
{
	return tf_expect_time(what, measured_us, b.mid, b.lo, b.hi);
}

/* ------------------------------------------------------------------ */
/* The delayed-ACK engine (net/ipv4/tcp_input.c, tcp_output.c)          */
/* ------------------------------------------------------------------ */

/*
 * tcp_event_data_recv(): icsk_ack.ato when a data segment arrives m jiffies
 * after the previous one (lrcvtime).  ato == 0 means "first data segment":
 * tcp_incr_quickack() and ato = TCP_ATO_MIN.  m > icsk_rto re-enters
 * quick-ack mode and leaves ato as it is.
 */
static inline unsigned stall_ato_on_data(unsigned ato, unsigned m, unsigned rto, unsigned hz)
{
	unsigned ato_min = stall_ato_min(hz), v;

	if (ato == 0)
		return ato_min;
	if (m <= ato_min / 2)
		return (ato >> 1) + ato_min / 2;
	if (m < ato) {
		v = (ato >> 1) + m;            /* min3(..., icsk_rto, TCP_DELACK_MAX) */
		if (v > rto)
			v = rto;
		if (v > stall_delack_max(hz))
			v = stall_delack_max(hz);
		return v;
	}
	return ato;
}

/* tcp_delack_max(): min(icsk_delack_max, max(tcp_rto_min(sk), 2) - 1). */
static inline unsigned stall_tcp_delack_max(unsigned icsk_delack_max, unsigned rto_min)
{
	unsigned from_rto_min = (rto_min > 2 ? rto_min : 2) - 1;
	return icsk_delack_max < from_rto_min ? icsk_delack_max : from_rto_min;
}

/*
 * tcp_send_delayed_ack(): the jiffies the delayed-ACK timer is armed for.
 * Above TCP_DELACK_MIN, ato is bounded by max_ato: TCP_DELACK_MAX in
 * ping-pong mode or when ICSK_ACK_PUSHED (HZ/2 otherwise), and by the
 * smoothed RTT (not below TCP_DELACK_MIN); then by tcp_delack_max().
 */
static inline unsigned stall_delack_timeout(unsigned ato, uint32_t srtt_us, bool pingpong_or_pushed,
                                            unsigned delack_max, unsigned hz)
{
	if (ato > stall_delack_min(hz)) {
		unsigned max_ato = pingpong_or_pushed ? stall_delack_max(hz) : hz / 2;

		if (srtt_us) {
			unsigned rtt = stall_usecs_to_jiffies(srtt_us, hz);

			if (rtt < stall_delack_min(hz))
				rtt = stall_delack_min(hz);
			if (rtt < max_ato)
				max_ato = rtt;
		}
		if (ato > max_ato)
			ato = max_ato;
	}
	return ato < delack_max ? ato : delack_max;
}

/* tcp_probe0_base() (include/net/tcp.h): max(icsk_rto, TCP_RTO_MIN) — the
 * timer tcp_check_probe_timer() arms when data is queued but nothing is in
 * flight, which is what finally pushes out data held by TCP_CORK
 * (tcp_probe_timer() -> tcp_send_probe0() -> tcp_write_wakeup()). */
static inline unsigned stall_probe0_base(unsigned rto, unsigned hz)
{
	return rto > stall_rto_min_const(hz) ? rto : stall_rto_min_const(hz);
}

/* ------------------------------------------------------------------ */
/* Ephemeral ports for connect(): __inet_hash_connect()               */
/* (net/ipv4/inet_hashtables.c)                                        */
/* ------------------------------------------------------------------ */

/*
 * With the range from net.ipv4.ip_local_port_range (no IP_LOCAL_PORT_RANGE
 * on the socket): high++; remaining = high - low; if (remaining > 1)
 * remaining &= ~1U; step 2; a first pass over the ports of low's parity
 * ("In first pass we try ports of @low parity"), then the other parity,
 * then -EADDRNOTAVAIL.  With an even count every port is scanned, the
 * ports of low's parity first; with an odd count each scan covers only
 * `remaining` of them (which one is skipped depends on the random offset),
 * so an exact count is only defined for an even-sized range.
 */
typedef struct stall_ports {
	unsigned count;        /* ports in the range */
	unsigned usable;       /* ports one connect() scan can try: remaining */
	unsigned first_pass;   /* of them, ports with low's parity tried first */
	bool exact;            /* every port is tried by every scan */
} stall_ports;

static inline stall_ports stall_connect_ports(unsigned low, unsigned high)
{
	stall_ports p = { 0 };
	unsigned remaining = high + 1 - low;

	p.count = remaining;
	if (remaining > 1)
		remaining &= ~1U;
	p.usable = remaining;
	p.first_pass = remaining > 1 ? remaining / 2 : remaining;
	p.exact = p.usable == p.count;
	return p;
}

/* ------------------------------------------------------------------ */
/* TIME-WAIT reuse by connect(): tcp_twsk_unique() (net/ipv4/tcp_ipv4.c) */
/* ------------------------------------------------------------------ */

/*
 * Linux >= 6.14 (net.ipv4.tcp_tw_reuse_delay exists): reusable when
 * time_after32(tcp_clock_ms(), tw_entry_stamp + tcp_tw_reuse_delay), both
 * CLOCK_MONOTONIC milliseconds, tw_entry_stamp set when the socket entered
 * TIME-WAIT (tcp_time_wait() / tcp_timewait_state_process(),
 * net/ipv4/tcp_minisocks.c).  Returns the first CLOCK_MONOTONIC ns at which
 * reuse is allowed: (floor(entry_ms) + delay + 1) ms.
 * Before 6.14: time_after32(ktime_get_seconds(), tw_ts_recent_stamp): the
 * first second boundary after the last timestamped segment
 * (stall_tw_reuse_at_ns with delay_ms < 0 selects that rule).
 */
static inline int64_t stall_tw_reuse_at_ns(int64_t entry_mono_ns, long delay_ms)
{
	if (delay_ms >= 0)
		return (entry_mono_ns / 1000000 + delay_ms + 1) * 1000000;
	return (entry_mono_ns / 1000000000 + 1) * 1000000000;
}

/* The ISN tcp_twsk_unique() gives the reincarnation: tw_snd_nxt + 65535 + 2
 * (0 becomes 1). */
static inline uint32_t stall_tw_reuse_isn(uint32_t tw_snd_nxt)
{
	uint32_t seq = tw_snd_nxt + 65535 + 2;
	return seq ? seq : 1;
}

/* ------------------------------------------------------------------ */
/* MSS and MTU: tcp_mtu_to_mss(), tcp_mss_to_mtu() (tcp_output.c)     */
/* ------------------------------------------------------------------ */

#define STALL_IPV4_HDR 20      /* icsk_af_ops->net_header_len for IPv4 */
#define STALL_TCP_HDR 20       /* sizeof(struct tcphdr) */
#define STALL_TS_OPT 12        /* TCPOLEN_TSTAMP_ALIGNED */

/* __tcp_mtu_to_mss() minus the fixed options (tcp_header_len - 20),
 * bounded below by tcp_min_snd_mss. */
static inline unsigned stall_mtu_to_mss(unsigned pmtu, bool ts, unsigned min_snd_mss)
{
	int mss = (int)pmtu - STALL_IPV4_HDR - STALL_TCP_HDR;

	if (mss < (int)min_snd_mss)
		mss = (int)min_snd_mss;
	return (unsigned)(mss - (ts ? STALL_TS_OPT : 0));
}

/* tcp_mss_to_mtu(): mss + tcp_header_len + net_header_len. */
static inline unsigned stall_mss_to_mtu(unsigned mss, bool ts)
{
	return mss + STALL_TCP_HDR + (ts ? STALL_TS_OPT : 0) + STALL_IPV4_HDR;
}

/* ------------------------------------------------------------------ */
/* Kernel state the socket API does not show                          */
/* ------------------------------------------------------------------ */

/*
 * One row of /proc/net/tcp for a full socket (get_tcp4_sock(),
 * net/ipv4/tcp_ipv4.c): the xmit timer in use ("tr": 0 none, 1 retransmit
 * / loss probe, 2 keepalive, 4 zero-window probe), icsk_rto and
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

static inline int stall_proc_read(void *arg)
{
	struct stall_proc_arg *a = arg;
	char line[512];
	FILE *fp;
	int r = -ENOENT;

	/* /proc/thread-self/net is the network namespace of this thread,
	 * which tf_host_run() has just moved into the host. */
	fp = fopen("/proc/thread-self/net/tcp", "re");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof line, fp)) {
		unsigned la, lp, ra, rp, st, tr, retr, qp, uid, probes, cwnd;
		unsigned long when, rto, ato, inode;
		int refcnt, ssthresh;
		char ptr[32];

		/* widths omitted: "when" is a negative clock_t once due */
		if (sscanf(line, " %*d: %X:%X %X:%X %X %*X:%*X %X:%lX %X %u %u %lu %d %31s %lu %lu %u %u %d",
		           &la, &lp, &ra, &rp, &st, &tr, &when, &retr, &uid, &probes, &inode, &refcnt,
		           ptr, &rto, &ato, &qp, &cwnd, &ssthresh) != 18)
			continue;   /* header, or a TIME-WAIT / request row (shorter) */
		if (la != a->f->src.s_addr || ra != a->f->dst.s_addr || lp != a->f->sport ||
		    rp != a->f->dport)
			continue;
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
	int64_t a = tf_now_ns(), m = tf_mono_ns(), b = tf_now_ns();
	return a + (b - a) / 2 - m;
}

/* Packet helpers over a capture. */
static inline bool stall_pkt_in(const tf_pkt *p, const tf_flow *f)
{
	return p->proto == IPPROTO_TCP && p->src.s_addr == f->src.s_addr &&
	       p->dst.s_addr == f->dst.s_addr && p->sport == f->sport && p->dport == f->dport;
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

static inline void stall_diag_rate(unsigned ports, unsigned hz)
{
	/* Seed 003: "28,000 ports divided by 60 seconds equals 466
	 * connections per second".  The kernel's numbers: the ports one
	 * scan can use, over TCP_TIMEWAIT_LEN — and the timer wheel lets a
	 * TIME-WAIT socket live up to one level-granularity longer. */
	stall_band tw = stall_timer_band(stall_timewait_len(hz), hz);

	tf_diag("sustainable_rate_per_s", "%.3f  # %u ports / %.3f s (TCP_TIMEWAIT_LEN); %.3f with the "
	        "timer wheel's worst case %.3f s", ports / (tw.lo / 1e6), ports, tw.lo / 1e6,
	        ports / (tw.hi / 1e6), tw.hi / 1e6);
}

/* ------------------------------------------------------------------ */
/* An active close, client first: the client ends in TIME-WAIT          */
/* ------------------------------------------------------------------ */

typedef struct stall_closed {
	tf_flow up;            /* client -> server */
	uint32_t client_fin;   /* seq of the client's FIN */
	uint32_t server_fin;   /* seq of the server's FIN */
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
