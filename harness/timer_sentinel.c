/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The timer sentinel: see timer_sentinel.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "tf_model.h"
#include "tf_sandbox.h"
#include "tf_util.h"
#include "sentinel.h"
#include "timer_sentinel.h"

#define TS_RING 262144        /* per worker: the last ~17 min of samples at one
                               * per tick at HZ=250 (~4 min at HZ=1000) */
#define TS_WORKERS 4          /* one per CPU, at most */
#define TS_CONNS 64           /* per worker at most, spread over the period:
                               * a timer due at about every tick of its CPU */
#define TS_CALIB 24           /* firings that fix the grid's phase */
#define TS_WINDOW_NS 200000   /* on-time firings land within this of a tick */
#define TS_LOST_NS 2000000000LL  /* no ACK seen: a packet the capture dropped */
#define TS_GUARD_NS 100000    /* a byte sent this close before a tick may
                               * arrive in the next jiffy: not counted */
#define KA_CONNS 64           /* keepalive timers per CPU at most: one per
                               * bucket of their period */
#define KA_CALIB 48           /* probes that fix the buckets' phase */

struct ts_sample {
	int64_t t_ns;      /* CLOCK_MONOTONIC of the ACK */
	int64_t late_ns;
};

struct ts_ring {
	uint64_t head;     /* samples written (release), the writer's alone */
	int64_t last_ns;   /* the newest sample's time */
	int64_t immediate, ambiguous, early, lost;
	struct ts_sample s[TS_RING];
};

/* The page every reader maps: anonymous for a private sentinel, a file in
 * the user's admission directory for a shared one. */
#define TS_MAGIC (0x74667474u ^ (uint32_t)sizeof(struct ts_page))   /* "tftt" */
struct ts_page {
	uint32_t magic;    /* TS_MAGIC once initialised: the layout's */
	char why[256];     /* written once by the sentinel when it gives up */
	int failed;
	uint32_t seq;      /* samples of every worker: a futex */
	unsigned hz, n_workers;
	int64_t spacing_ns;  /* between a worker's timers: period / connections */
	struct ts_ring ring[TS_WORKERS];
	/* keepalive timers, one ring per CPU (ka_main()): 0 slots until they
	 * have a phase */
	unsigned ka_slots;
	int64_t ka_gran_ns;  /* between the buckets they fire in */
	int32_t pids[TS_WORKERS + 1];   /* the workers', then ka_main()'s */
	struct ts_ring ka[TS_WORKERS];
};

/* A reader's handle on the page. */
struct tf_timer_sentinel {
	struct ts_page *p;
	pid_t pid;         /* a private sentinel's first worker, else 0 */
	int users_fd;      /* shared: our LOCK_SH on timers.users, else -1 */
};

struct conn {
	int tx, rx;
	bool waiting;              /* a byte in flight, not yet ACKed */
	int64_t next_ns;           /* next write, CLOCK_MONOTONIC */
	int64_t slot_ns;           /* its writes' grid: slot_ns + k * period */
	int64_t tx_ns, ack_ns;     /* its kernel stamps, CLOCK_MONOTONIC (-1: not yet) */
	int64_t sent_ns;           /* when send() was called */
	uint32_t want_ack;         /* the byte's end sequence */
	uint16_t tx_port, rx_port;
	int64_t prev_tx_ns;        /* the previous byte's, -1 before the first */
	struct tcp_info before;    /* the receiver, before the write */
};

struct worker {
	struct ts_page *s;
	struct ts_ring *ring;
	unsigned hz;
	int64_t tick_ns, period_ns;
	size_t n_conns;            /* a timer due every ~tick: see worker_loop() */
	bool have_phase;
	int64_t phase_ns;
	struct { int64_t tx, ack; unsigned timer; } calib[TS_CALIB];
	size_t n_calib;
	int64_t recent[64];        /* ACK residues since the last phase fit */
	size_t n_recent;
};

static void give_up(struct ts_page *s, const char *what, int err)
{
	snprintf(s->why, sizeof s->why, "%s: %s", what, strerror(err < 0 ? -err : err));
	__atomic_store_n(&s->failed, 1, __ATOMIC_RELEASE);
	_exit(0);
}

/* Kernel software stamps are CLOCK_REALTIME (net_timestamp_set()).  The
 * clocks' offset from the tightest of 8 reads, read again each second (a
 * process's own: every worker is one): one read preempted between its
 * clocks would be off by half the preemption, under the very load the
 * sentinel measures. */
static int64_t real_to_mono(int64_t real_ns)
{
	static int64_t off, at;
	int64_t now = tf_mono_ns();

	if (!at || now - at > 1000000000) {
		int64_t best = INT64_MAX;
		for (int i = 0; i < 8; i++) {
			int64_t r0 = tf_now_ns(), m = tf_mono_ns(), r1 = tf_now_ns();
			if (r1 - r0 < best) {
				best = r1 - r0;
				off = (r0 + r1) / 2 - m;
			}
		}
		at = now;
	}
	return real_ns - off;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t mod_tick(int64_t t, int64_t tick)
{
	int64_t r = t % tick;
	return r < 0 ? r + tick : r;
}

/* The grid's phase: the earliest residue of the densest TS_WINDOW_NS of
 * ACK residues (mod one tick) — on-time firings, a little after a tick. */
static int64_t fit_phase(int64_t *res, size_t n, int64_t tick)
{
	size_t best = 0, best_count = 0;

	qsort(res, n, sizeof *res, cmp_i64);
	for (size_t i = 0; i < n; i++) {
		size_t c = 0;
		for (size_t j = i; j < i + n; j++) {
			int64_t v = res[j % n] + (j >= n ? tick : 0);
			if (v - res[i] >= TS_WINDOW_NS)
				break;
			c++;
		}
		if (c > best_count) {
			best_count = c;
			best = i;
		}
	}
	return res[best];
}

/* One sample on a ring of which the caller is the only writer; readers
 * waiting on the page's counter wake. */
static void ring_put(struct ts_page *s, struct ts_ring *r, int64_t t_ns, int64_t late_ns)
{
	uint64_t h = r->head;

	r->s[h % TS_RING] = (struct ts_sample){ .t_ns = t_ns, .late_ns = late_ns };
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&r->last_ns, t_ns, __ATOMIC_RELEASE);
	__atomic_add_fetch(&s->seq, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &s->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void publish(struct worker *w, int64_t tx, int64_t ack, unsigned ticks)
{
	int64_t pos = mod_tick(tx - w->phase_ns, w->tick_ns), late;

	if (pos > w->tick_ns - TS_GUARD_NS) {
		__atomic_add_fetch(&w->ring->ambiguous, 1, __ATOMIC_RELAXED);
		return;
	}
	/* the timer fires `ticks` ticks after the one before the write */
	late = ack - (tx - pos + (int64_t)ticks * w->tick_ns);
	if (late < -w->tick_ns / 2) {
		/* jiffies had not reached the write's tick yet (a late tick at
		 * the write): it says nothing about the firing */
		__atomic_add_fetch(&w->ring->early, 1, __ATOMIC_RELAXED);
		return;
	}
	ring_put(w->s, w->ring, ack, late);
}

static void sample(struct worker *w, struct conn *c)
{
	tf_delack_in in = {
		.hz = w->hz,
		.ato_us = c->before.tcpi_ato,
		.rto_us = c->before.tcpi_rto,
		/* tcpi_rtt is srtt_us >> 3: a loopback RTT may round to 0
		 * while the kernel has one (tcp_rtt_estimator() keeps >= 1) */
		.srtt_us = c->before.tcpi_rtt ? c->before.tcpi_rtt : 1,
		.gap_us = c->prev_tx_ns >= 0 ? (c->tx_ns - c->prev_tx_ns) / 1000 : 0,
		/* a 1-byte segment sets ICSK_ACK_PUSHED (tcp_measure_rcv_mss()) */
		.pingpong = true,
	};
	tf_delack d;

	if (c->ack_ns - c->tx_ns < w->tick_ns / 2) {
		/* quick-ack mode (tcp_in_quickack_mode()): no timer */
		__atomic_add_fetch(&w->ring->immediate, 1, __ATOMIC_RELAXED);
		return;
	}
	/* the wheel fires a level-0 timer at the tick after its expiry
	 * (calc_index()): d + 1 jiffies after the jiffy it was armed in */
	if (tf_model_delack(&in, &d) < 0 || d.timer_lo != d.timer_hi || c->before.tcpi_ato == 0 ||
	    tf_model_wheel_gran(w->hz, d.timer_lo) != 1) {
		__atomic_add_fetch(&w->ring->ambiguous, 1, __ATOMIC_RELAXED);
		return;
	}
	d.timer_lo++;
	if (!w->have_phase) {
		int64_t res[TS_CALIB];

		w->calib[w->n_calib].tx = c->tx_ns;
		w->calib[w->n_calib].ack = c->ack_ns;
		w->calib[w->n_calib].timer = d.timer_lo;
		if (++w->n_calib < TS_CALIB)
			return;
		for (size_t i = 0; i < TS_CALIB; i++)
			res[i] = mod_tick(w->calib[i].ack, w->tick_ns);
		w->phase_ns = fit_phase(res, TS_CALIB, w->tick_ns);
		w->have_phase = true;
		for (size_t i = 0; i < TS_CALIB; i++)
			publish(w, w->calib[i].tx, w->calib[i].ack, w->calib[i].timer);
		return;
	}
	publish(w, c->tx_ns, c->ack_ns, d.timer_lo);
	/* refit now and then: the grid does not move, but one fit of a late
	 * start should not stand for the whole run */
	w->recent[w->n_recent++] = mod_tick(c->ack_ns, w->tick_ns);
	if (w->n_recent == TF_ARRAY_SIZE(w->recent)) {
		w->phase_ns = fit_phase(w->recent, w->n_recent, w->tick_ns);
		w->n_recent = 0;
	}
}

/* The byte's ACK was sent: a sample; the receiver reads only now, with no
 * ACK pending (a read that drains a pushed segment sends the ACK itself,
 * tcp_cleanup_rbuf()). */
static void acked(struct worker *w, struct conn *c)
{
	char buf[256];

	c->waiting = false;
	sample(w, c);
	c->prev_tx_ns = c->tx_ns;
	while (recv(c->rx, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
	/* quick-ack credits are spent at once, then the period, on this
	 * connection's own slot: after a stall fired them all at once, the
	 * timers stay spread over the period (a timer due every tick), never
	 * bunched at one tick */
	if (c->ack_ns - c->tx_ns < w->tick_ns / 2) {
		c->next_ns = tf_mono_ns();
		return;
	}
	int64_t t = c->next_ns + w->period_ns;
	if (t < c->ack_ns)
		t = c->ack_ns + w->period_ns / 4;
	int64_t k = (t - c->slot_ns + w->period_ns - 1) / w->period_ns;
	c->next_ns = c->slot_ns + (k > 0 ? k : 0) * w->period_ns;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Outgoing packets on lo, stamped where a case's capture stamps them
 * (dev_queue_xmit_nit(), in the timer's softirq for the ACK): the byte,
 * then the first ACK from the receiver that covers it. */
/* The next outgoing IPv4 TCP segment a packet socket holds: 1 with its
 * kernel stamp (CLOCK_REALTIME) and header, 0 when none is left. */
struct seg {
	int64_t ts;
	const unsigned char *tcp;   /* into the caller's buffer */
	uint16_t sport, dport;
	long len;                   /* payload bytes */
};

static int next_segment(int pk, unsigned char *b, size_t size, struct seg *sg)
{
	for (;;) {
		char ctrl[256];
		struct sockaddr_ll ll;
		struct iovec iov = { b, size };
		struct msghdr m = { .msg_name = &ll, .msg_namelen = sizeof ll, .msg_iov = &iov,
		                    .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl };
		ssize_t n = recvmsg(pk, &m, MSG_DONTWAIT);

		if (n < 0)
			return 0;
		sg->ts = -1;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec t;
				memcpy(&t, CMSG_DATA(cm), sizeof t);
				sg->ts = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
			}
		size_t ihl = (size_t)(b[0] & 15) * 4;
		if (ll.sll_pkttype != PACKET_OUTGOING || sg->ts <= 0 || n < 40 || (b[0] >> 4) != 4 ||
		    b[9] != IPPROTO_TCP || (size_t)n < ihl + 20)
			continue;
		sg->tcp = b + ihl;
		sg->sport = (uint16_t)(sg->tcp[0] << 8 | sg->tcp[1]);
		sg->dport = (uint16_t)(sg->tcp[2] << 8 | sg->tcp[3]);
		sg->len = (long)(b[2] << 8 | b[3]) - (long)ihl - (long)(sg->tcp[12] >> 4) * 4;
		return 1;
	}
}

static void read_capture(struct worker *w, struct conn *cs, int pk)
{
	unsigned char b[128];
	struct seg sg;

	while (next_segment(pk, b, sizeof b, &sg)) {
		const unsigned char *t = sg.tcp;
		uint16_t sport = sg.sport, dport = sg.dport;
		long len = sg.len;
		int64_t ts = sg.ts;
		for (size_t i = 0; i < w->n_conns; i++) {
			struct conn *c = &cs[i];
			if (!c->waiting)
				continue;
			if (sport == c->tx_port && len > 0 && c->tx_ns < 0) {
				c->tx_ns = real_to_mono(ts);
				c->want_ack = be32(t + 4) + (uint32_t)len;
			} else if (dport == c->tx_port && sport == c->rx_port && len == 0 && c->tx_ns >= 0 &&
			           (t[13] & 0x10) && (int32_t)(be32(t + 8) - c->want_ack) >= 0) {
				c->ack_ns = real_to_mono(ts);
				acked(w, c);
			}
		}
	}
}

static int conns_open(struct conn *cs, size_t n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, me;
	socklen_t al = sizeof a, ml = sizeof me;
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, (int)n) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		cs[i].tx = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cs[i].tx < 0 || connect(cs[i].tx, (struct sockaddr *)&a, sizeof a) < 0)
			return -errno;
		cs[i].rx = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (cs[i].rx < 0 ||
		    setsockopt(cs[i].tx, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
		    getsockname(cs[i].tx, (struct sockaddr *)&me, &ml) < 0)
			return -errno;
		cs[i].tx_port = ntohs(me.sin_port);
		cs[i].rx_port = ntohs(a.sin_port);
		cs[i].prev_tx_ns = -1;
	}
	close(l);
	return 0;
}

/* A packet socket on lo, stamping (SO_TIMESTAMPNS) what filter f takes. */
static int packet_open(struct sock_filter *f, size_t n)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
	                          .sll_ifindex = (int)if_nametoindex("lo") };
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL)), one = 1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&ll, sizeof ll) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* A packet socket on lo (CAP_NET_RAW of the namespace's owner: ours) that
 * takes only the outgoing TCP packets to or from `port` (a listener's: its
 * connections'), and only those a given CPU sends (cpu >= 0, SKF_AD_CPU:
 * the CPU whose softirq sends a timer's packet), so that each reader wakes
 * for its own packets alone. */
static int capture_open(uint16_t port, int cpu)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 10),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),                 /* IPv4 protocol */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 8),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                /* X = IP header length */
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),                 /* source port */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 2, 0),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),                 /* destination port */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_CPU)),
		cpu >= 0 ? (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)cpu, 0, 1)
		         : (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 1),   /* any */
		BPF_STMT(BPF_RET | BPF_K, 128),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	return packet_open(f, TF_ARRAY_SIZE(f));
}

static _Noreturn void worker_loop(struct ts_page *s, unsigned idx, int cpu)
{
	struct worker w = { .s = s, .ring = &s->ring[idx], .hz = s->hz };
	struct conn cs[TS_CONNS] = { 0 };
	cpu_set_t set;
	int r;

	__atomic_store_n(&s->pids[idx], getpid(), __ATOMIC_RELEASE);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof set, &set);   /* the timers are armed on this CPU */
	}
	w.tick_ns = (1000000000 + s->hz / 2) / s->hz;   /* TICK_NSEC */
	/* the ACK of one byte comes before the next: m stays above ato */
	w.period_ns = (int64_t)tf_model_delack_min(s->hz) * w.tick_ns * 7 / 5;
	/* A stall of this CPU delays every timer due during it, all fired
	 * together when it ends (the wheel fires on ticks): a timer of ours
	 * due at the same tick as a case's is exactly as late.  Two
	 * connections per tick of the period: about every tick has one due
	 * (one per tick left ~2 % of ticks without, and a case timer 8 ms
	 * late beside a worst of 6 ms; 4 per worker left 14 ms between
	 * timers and a 7 ms stall unseen: issue 10). */
	w.n_conns = (size_t)(2 * ((w.period_ns + w.tick_ns - 1) / w.tick_ns));
	if (w.n_conns > TS_CONNS)
		w.n_conns = TS_CONNS;
	__atomic_store_n(&s->spacing_ns, w.period_ns / (int64_t)w.n_conns, __ATOMIC_RELEASE);
	r = conns_open(cs, w.n_conns);
	if (r < 0)
		give_up(s, "loopback connections", r);
	int pk = capture_open(cs[0].rx_port, -1);
	if (pk < 0)
		give_up(s, "no packet socket on lo", pk);
	for (size_t i = 0; i < w.n_conns; i++)
		cs[i].next_ns = cs[i].slot_ns = tf_mono_ns() + (int64_t)i * w.period_ns / (int64_t)w.n_conns;
	for (;;) {
		struct pollfd p = { .fd = pk, .events = POLLIN };
		int64_t now = tf_mono_ns(), wake = now + 1000000000;

		for (size_t i = 0; i < w.n_conns; i++) {
			struct conn *c = &cs[i];
			if (c->waiting && now - c->sent_ns > TS_LOST_NS) {
				/* its packets were dropped (the socket's buffer) */
				__atomic_add_fetch(&w.ring->lost, 1, __ATOMIC_RELAXED);
				c->waiting = false;
				c->prev_tx_ns = -1;
				c->next_ns = now;
			}
			if (!c->waiting && now >= c->next_ns) {
				socklen_t l = sizeof c->before;
				if (getsockopt(c->rx, IPPROTO_TCP, TCP_INFO, &c->before, &l) < 0 ||
				    send(c->tx, "x", 1, MSG_DONTWAIT) != 1)
					give_up(s, "loopback write", errno);
				c->waiting = true;
				c->tx_ns = c->ack_ns = -1;
				c->sent_ns = now;
			}
			if (!c->waiting && c->next_ns < wake)
				wake = c->next_ns;
		}
		int64_t left = wake - tf_mono_ns();
		int ms = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
		if (poll(&p, 1, ms) < 0 && errno != EINTR)
			give_up(s, "poll", errno);
		if (p.revents & POLLIN)
			read_capture(&w, cs, pk);
	}
}

/* ------------------------------------------------------------------ */
/* Keepalive timers: the kernel re-arms them, no write of ours needed.
 *
 * The delayed-ACK samples above need a worker to write on time: starved
 * by the load, it writes late or not at all, and the ticks it missed go
 * unmeasured (coverage 0.54-0.78 beside ci/test's programs, issue 10).
 * A keepalive timer with TCP_KEEPIDLE = TCP_KEEPINTVL = 1 s to a live
 * peer probes, re-arms itself in its callback and probes again a bucket
 * of the wheel later (tf_model_keepalive_answered_next()), for as long as
 * the connection lives: no user space between two firings.  It sits on
 * the level a retransmission timer of 250 ms to 2 s uses, the level every
 * late timer of the flake class was on, and fires where the wheel checks
 * that level (jiffies a multiple of its granularity).  One connection per
 * bucket of the period, per CPU, covers every such bucket of every CPU;
 * a packet socket per CPU (SKF_AD_CPU: the CPU that sent the probe, in
 * the timer's softirq) stamps the probes.  This process only reads the
 * stamps, late or not: a sample is the probe's stamp minus the bucket the
 * wheel was due to fire it in, from the previous probe's jiffy. */

struct ka_conn {
	int tx;
	uint16_t port;      /* tx's */
	bool armed;
	int64_t prev_j;     /* jiffy of its last probe on our grid, -1: none */
	bool prev_edge;     /* stamped just after that jiffy's tick */
	unsigned slot;      /* the CPU (slot) of its last probe */
	int64_t next_j;     /* the bucket due next, -1: not known */
	int64_t seen_ns;    /* its last probe (or re-arm) */
	int64_t moved_ns;   /* its last re-arm: a probe before is the old timer's */
};

struct ka {
	struct ts_page *s;
	unsigned hz, n_slots;
	int64_t tick_ns, gran_ns;
	bool have_phase;
	int64_t phase_ns;         /* a bucket's boundary: on-time probes land here */
	int64_t res[KA_CALIB];    /* probe stamps mod gran_ns, for the fit */
	size_t n_res;
	int64_t early, ambiguous;
	size_t n, per;            /* connections; buckets in a period */
	int64_t period_j, gran_j;
	const int *cpus;
	struct ka_conn *move;     /* to re-arm at move_ns on CPU slot move_slot */
	unsigned move_slot;
	int64_t move_ns;
	struct ka_conn c[TS_WORKERS * KA_CONNS];
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set);
}

/* A probe of connection c, stamped t (CLOCK_MONOTONIC), sent by CPU slot. */
static void ka_probe(struct ka *k, struct ka_conn *c, unsigned slot, int64_t t)
{
	int64_t j, due, alt;

	if (t < c->moved_ns)
		return;
	if (!k->have_phase) {
		k->res[k->n_res++] = mod_tick(t, k->gran_ns);
		if (k->n_res < KA_CALIB)
			return;
		/* on-time probes a little after a bucket's boundary, late
		 * ones anywhere after it */
		k->phase_ns = fit_phase(k->res, k->n_res, k->gran_ns);
		k->have_phase = true;
		__atomic_store_n(&k->s->ka_gran_ns, k->gran_ns, __ATOMIC_RELEASE);
		__atomic_store_n(&k->s->ka_slots, k->n_slots, __ATOMIC_RELEASE);
		return;
	}
	j = floor_div(t - k->phase_ns, k->tick_ns);
	if (c->prev_j >= 0 && j > c->prev_j &&
	    tf_model_keepalive_answered_next(k->hz, 1, 1, c->prev_j, &due) == 0) {
		int64_t late = t - (k->phase_ns + due * k->tick_ns);
		/* a previous probe stamped just after a tick may have been
		 * sent in the jiffy before: if that moves the bucket, the
		 * sample says nothing */
		bool edge = c->prev_edge && c->prev_j > 0 &&
		            tf_model_keepalive_answered_next(k->hz, 1, 1, c->prev_j - 1, &alt) == 0 &&
		            alt != due;
		if (edge)
			k->ambiguous++;
		else if (late < -k->tick_ns / 2)
			k->early++;   /* off the grid: a phase fit gone wrong */
		else
			ring_put(k->s, &k->s->ka[slot], t, late);
	}
	c->prev_j = j;
	c->prev_edge = mod_tick(t - k->phase_ns, k->tick_ns) < TS_GUARD_NS;
	c->slot = slot;
	c->seen_ns = t;
	if (tf_model_keepalive_answered_next(k->hz, 1, 1, j, &c->next_j) < 0)
		c->next_j = -1;
}

/* Keep a timer in every bucket of every CPU.  A timer fired late enough
 * to land in the next bucket stays there, and one expired by another CPU
 * (an idle CPU's timers, kernel/time/timer_migration.c) re-arms on that
 * CPU: after a while a CPU has two in one bucket and none in another.
 * One such duplicate is re-armed, on the CPU that lacks one, at the jiffy
 * from which the wheel fires it in the missing bucket.  The sampling does
 * not depend on this: only how soon a lost bucket is covered again. */
static void ka_tend(struct ka *k, int64_t now)
{
	static int16_t owner[TS_WORKERS][KA_CONNS];
	struct ka_conn *dup = NULL;
	int64_t idle_j = k->hz, first = -1, last = -1;

	if (!k->have_phase || k->move)
		return;
	memset(owner, 0xff, sizeof owner);
	for (size_t i = 0; i < k->n; i++) {
		struct ka_conn *c = &k->c[i];
		if (!c->armed || c->next_j < 0 || now - c->seen_ns > 2 * k->period_j * k->tick_ns)
			continue;
		size_t b = (size_t)(c->next_j / k->gran_j) % k->per;
		if (owner[c->slot][b] < 0)
			owner[c->slot][b] = (int16_t)i;
		else if (!dup)
			dup = c;
	}
	if (!dup)
		return;
	int64_t now_j = floor_div(now - k->phase_ns, k->tick_ns);
	for (unsigned sl = 0; sl < k->n_slots; sl++)
		for (size_t b = 0; b < k->per; b++) {
			if (owner[sl][b] >= 0)
				continue;
			/* the first bucket of class b that can still be armed
			 * for, 2 ms from now */
			int64_t bj = (now_j + idle_j) / k->gran_j * k->gran_j;
			while ((size_t)(bj / k->gran_j) % k->per != b)
				bj += k->gran_j;
			for (;; bj += k->period_j) {
				first = last = -1;
				for (int64_t ja = bj - idle_j - 2 * k->gran_j; ja <= bj; ja++)
					if (ja >= 0 && tf_model_wheel_fire(k->hz, ja, (uint64_t)idle_j, false) == bj) {
						if (first < 0)
							first = ja;
						last = ja;
					}
				if (first < 0)
					return;
				/* the middle of the jiffies that fire there */
				k->move_ns = k->phase_ns + (first + last) * k->tick_ns / 2 + k->tick_ns / 2;
				if (k->move_ns > now + 2000000)
					break;
			}
			k->move = dup;
			k->move_slot = sl;
			dup->next_j = bj;
			return;
		}
}

/* Re-arm it from its CPU: keepalive off, then on (tcp_set_keepalive()). */
static void ka_move(struct ka *k, int64_t now)
{
	struct ka_conn *c = k->move;
	int off = 0, on = 1;
	cpu_set_t all;

	k->move = NULL;
	if (now > k->move_ns + k->tick_ns) {   /* woke too late: next time */
		c->next_j = -1;
		return;
	}
	pin(k->cpus[k->move_slot]);
	if (setsockopt(c->tx, SOL_SOCKET, SO_KEEPALIVE, &off, sizeof off) < 0 ||
	    setsockopt(c->tx, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) < 0)
		c->armed = false;
	CPU_ZERO(&all);
	for (unsigned i = 0; i < k->n_slots; i++)
		CPU_SET(k->cpus[i], &all);
	sched_setaffinity(0, sizeof all, &all);
	c->prev_j = -1;   /* its next probe follows a re-arm, not a probe */
	c->slot = k->move_slot;
	c->seen_ns = c->moved_ns = tf_mono_ns();
}

/* Each connection's outgoing segments, from one CPU's packet socket. */
static void ka_read(struct ka *k, int pk, unsigned slot)
{
	unsigned char b[128];
	struct seg sg;

	while (next_segment(pk, b, sizeof b, &sg)) {
		/* a probe: no data, ACK alone (tcp_xmit_probe_skb()) */
		if (sg.len != 0 || (sg.tcp[13] & 0x17) != 0x10)
			continue;
		for (size_t i = 0; i < k->n; i++)
			if (k->c[i].port == sg.sport && k->c[i].armed) {
				ka_probe(k, &k->c[i], slot, real_to_mono(sg.ts));
				break;
			}
	}
}

static _Noreturn void ka_main(struct ts_page *s, const int *cpus, unsigned n_cpus)
{
	static struct ka k;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, me;
	socklen_t al = sizeof a;
	struct pollfd p[TS_WORKERS];
	int64_t period_j, t0;
	size_t per;
	int l, one = 1, cnt = 127;

	__atomic_store_n(&s->pids[TS_WORKERS], getpid(), __ATOMIC_RELEASE);
	k.s = s;
	k.cpus = cpus;
	k.hz = s->hz;
	k.tick_ns = (1000000000 + s->hz / 2) / s->hz;
	k.n_slots = cpus[0] < 0 ? 0 : n_cpus;
	if (!k.n_slots)
		_exit(0);   /* no CPU to pin to: no per-CPU samples */
	/* from a bucket's boundary, the next probe is one period later;
	 * buckets are gran jiffies apart */
	if (tf_model_keepalive_answered_next(k.hz, 1, 1, 0, &period_j) < 0)
		_exit(0);
	uint64_t gran = tf_model_wheel_gran(k.hz, (uint64_t)k.hz - 1);
	k.gran_ns = (int64_t)gran * k.tick_ns;
	per = (size_t)(period_j / (int64_t)gran);
	if (per > KA_CONNS || per * gran != (uint64_t)period_j)
		_exit(0);   /* not a whole number of buckets: not this wheel */
	k.per = per;
	k.period_j = period_j;
	k.gran_j = (int64_t)gran;
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 128) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		_exit(0);
	for (size_t i = 0; i < per * k.n_slots; i++) {
		struct ka_conn *c = &k.c[k.n++];
		socklen_t ml = sizeof me;
		int idle = 1, rx;

		c->prev_j = c->next_j = -1;
		c->tx = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->tx < 0 || connect(c->tx, (struct sockaddr *)&a, sizeof a) < 0 ||
		    (rx = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0 ||
		    setsockopt(c->tx, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) < 0 ||
		    setsockopt(c->tx, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle) < 0 ||
		    setsockopt(c->tx, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) < 0 ||
		    getsockname(c->tx, (struct sockaddr *)&me, &ml) < 0)
			_exit(0);
		c->port = ntohs(me.sin_port);
		(void)rx;   /* the peer: kept open, it answers in the kernel */
	}
	for (unsigned i = 0; i < k.n_slots; i++) {
		p[i].fd = capture_open(ntohs(a.sin_port), cpus[i]);
		p[i].events = POLLIN;
		if (p[i].fd < 0)
			_exit(0);
	}
	/* Arm one connection per CPU every bucket, over one period: each
	 * CPU gets a timer in every bucket (the timer goes on the CPU that
	 * arms it, and re-arms there from its callback).  Late arming only
	 * leaves a bucket twice covered and another not. */
	t0 = tf_mono_ns();
	for (size_t b = 0; b < per; b++) {
		int64_t at = t0 + (int64_t)b * k.gran_ns;
		while (tf_mono_ns() < at) {   /* pacing the spread: no event to wait for */
			int ms = (int)((at - tf_mono_ns()) / 1000000);
			if (poll(p, k.n_slots, ms > 0 ? ms : 0) > 0)
				for (unsigned i = 0; i < k.n_slots; i++)
					if (p[i].revents & POLLIN)
						ka_read(&k, p[i].fd, i);
		}
		for (unsigned i = 0; i < k.n_slots; i++) {
			struct ka_conn *c = &k.c[i * per + b];
			pin(cpus[i]);
			if (setsockopt(c->tx, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) == 0)
				c->armed = true;
		}
	}
	cpu_set_t all;
	CPU_ZERO(&all);
	for (unsigned i = 0; i < k.n_slots; i++)
		CPU_SET(cpus[i], &all);
	sched_setaffinity(0, sizeof all, &all);   /* reading the stamps: any CPU */
	for (int64_t tend = tf_mono_ns();;) {
		int64_t now = tf_mono_ns(), wake = k.move ? k.move_ns : tend;
		struct timespec to = { 0, 0 };

		if (wake > now)
			to = (struct timespec){ (wake - now) / 1000000000, (wake - now) % 1000000000 };
		if (ppoll(p, k.n_slots, &to, NULL) < 0 && errno != EINTR)
			_exit(0);
		for (unsigned i = 0; i < k.n_slots; i++)
			if (p[i].revents & POLLIN)
				ka_read(&k, p[i].fd, i);
		now = tf_mono_ns();
		if (k.move && now >= k.move_ns)
			ka_move(&k, now);
		if (now >= tend) {
			ka_tend(&k, now);
			tend = now + 100000000;   /* 100 ms */
		}
	}
}

/* Its own network namespace with lo up (never the host's), one worker per
 * CPU.  Shared (users_fd >= 0): every worker is a child and this process
 * waits until no reader holds timers.users, then leaves with its workers. */
static _Noreturn void sentinel_main(struct ts_page *s, int alive_fd, int users_fd)
{
	tf_world *world = NULL;
	tf_host *host = NULL;
	cpu_set_t online;
	int cpus[TS_WORKERS], r;
	unsigned n = 0;

	r = tf_world_new(&world);
	if (r < 0)
		give_up(s, "no network namespace", r);
	r = tf_host_new(world, "timers", &host);
	if (r < 0)
		give_up(s, "no loopback in its namespace", r);
	if (sched_getaffinity(0, sizeof online, &online) == 0)
		for (int cpu = 0; cpu < CPU_SETSIZE && n < TS_WORKERS; cpu++)
			if (CPU_ISSET(cpu, &online))
				cpus[n++] = cpu;
	if (n == 0)
		cpus[n++] = -1;
	__atomic_store_n(&s->n_workers, n, __ATOMIC_RELEASE);
	{
		pid_t self = getpid(), pid = fork();
		if (pid == 0) {
			tf_helper_detach(self);
			ka_main(s, cpus, n);
		}
	}
	for (unsigned i = users_fd >= 0 ? 0 : 1; i < n; i++) {
		pid_t self = getpid(), pid = fork();
		if (pid == 0) {
			tf_helper_detach(self);   /* holds none of our locks */
			worker_loop(s, i, cpus[i]);
		}
	}
	if (users_fd < 0)
		worker_loop(s, 0, cpus[0]);
	/* the last reader gone (flock has no writer preference: a reader
	 * arriving meanwhile is not kept waiting by this) */
	while (flock(users_fd, LOCK_EX) < 0 && errno == EINTR)
		;
	/* alive before users: a reader that gets users next finds none alive
	 * and starts another; the workers die with us (PDEATHSIG) */
	close(alive_fd);
	_exit(0);
}

int tf_timer_sentinel_start(unsigned hz, tf_timer_sentinel **ret)
{
	tf_timer_sentinel *s;
	pid_t parent = getpid(), pid;

	if (hz < 100 || hz > 1000)
		return -EINVAL;
	s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->users_fd = -1;
	s->p = mmap(NULL, sizeof *s->p, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->p == MAP_FAILED) {
		free(s);
		return -errno;
	}
	s->p->magic = TS_MAGIC;
	s->p->hz = hz;
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		munmap(s->p, sizeof *s->p);
		free(s);
		return r;
	}
	if (pid == 0) {
		tf_helper_detach(parent);
		sentinel_main(s->p, -1, -1);
	}
	s->pid = pid;
	*ret = s;
	return 0;
}

static int open_in(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return -ENAMETOOLONG;
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

static int lock_fd(int fd, int how)
{
	while (flock(fd, how) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Map dir/timers.shm: ours, a regular file of the page's size and layout. */
static struct ts_page *map_page(const char *dir, unsigned hz)
{
	struct stat st;
	struct ts_page *p;
	int fd = open_in(dir, "timers.shm", O_RDWR);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid() ||
	    st.st_size != (off_t)sizeof *p) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	if (__atomic_load_n(&p->magic, __ATOMIC_ACQUIRE) != TS_MAGIC || p->hz != hz) {
		munmap(p, sizeof *p);
		return NULL;
	}
	return p;
}

/* A fresh page, written to a temporary and renamed over timers.shm: a
 * reader still mapping the last sentinel's page keeps it. */
static int new_page(const char *dir, unsigned hz)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	struct ts_page *p;
	int fd;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s/.timers.shm.XXXXXX", dir) >= sizeof tmp ||
	    (size_t)snprintf(path, sizeof path, "%s/timers.shm", dir) >= sizeof path)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof *p) < 0 ||
	    (p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		int r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	close(fd);
	p->hz = hz;
	__atomic_store_n(&p->magic, TS_MAGIC, __ATOMIC_RELEASE);
	munmap(p, sizeof *p);
	if (rename(tmp, path) < 0) {
		int r = -errno;
		unlink(tmp);
		return r;
	}
	return 0;
}

/* The sentinel, detached from every caller: its own session (a process
 * group killed on a timeout is not its), no fd of theirs (a pipe's reader
 * would wait for it), alive for as long as a reader holds timers.users. */
static _Noreturn void shared_main(const char *dir, unsigned hz, int ready_fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), alive, users;
	struct ts_page *p;

	setsid();
	prctl(PR_SET_NAME, "tf-timers");   /* in ps: not the binary that started it */
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		dup2(null, fd);
	if (ready_fd > 3)
		syscall(SYS_close_range, 3U, (unsigned)ready_fd - 1, 0U);
	syscall(SYS_close_range, (unsigned)ready_fd + 1, ~0U, 0U);
	alive = open_in(dir, "timers.alive", O_RDWR | O_CREAT);
	users = open_in(dir, "timers.users", O_RDWR | O_CREAT);
	p = map_page(dir, hz);
	if (alive < 0 || users < 0 || !p || flock(alive, LOCK_EX | LOCK_NB) < 0)
		_exit(1);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	close(ready_fd);
	sentinel_main(p, alive, users);
}

/* Start one: a child that starts the sentinel in a session of its own and
 * exits; the sentinel says it holds timers.alive on a pipe. */
static int spawn_shared(const char *dir, unsigned hz)
{
	int pp[2], st;
	char c;
	pid_t pid;

	if (pipe2(pp, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(pp[0]);
		close(pp[1]);
		return r;
	}
	if (pid == 0) {
		close(pp[0]);
		pid_t g = fork();
		if (g == 0)
			shared_main(dir, hz, pp[1]);
		_exit(g < 0);
	}
	close(pp[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	struct pollfd pf = { .fd = pp[0], .events = POLLIN };
	/* an event, with a deadline only for a sentinel that never says */
	int r = poll(&pf, 1, 10000) == 1 && read(pp[0], &c, 1) == 1 ? 0 : -EAGAIN;
	close(pp[0]);
	return r;
}

int tf_timer_sentinel_share(unsigned hz, const char *dir, tf_timer_sentinel **ret)
{
	_cleanup_close_ int start = -1, alive = -1;
	tf_timer_sentinel *s;
	int r;

	if (hz < 100 || hz > 1000)
		return -EINVAL;
	s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	/* a reader first: a sentinel that saw none is leaving, and we wait
	 * for it to be gone before we look */
	s->users_fd = open_in(dir, "timers.users", O_RDWR | O_CREAT);
	start = open_in(dir, "timers.start", O_RDWR | O_CREAT);
	alive = open_in(dir, "timers.alive", O_RDWR | O_CREAT);
	r = s->users_fd < 0 ? s->users_fd : start < 0 ? start : alive < 0 ? alive : 0;
	if (r == 0)
		r = lock_fd(s->users_fd, LOCK_SH);
	if (r == 0)
		r = lock_fd(start, LOCK_EX);   /* one starter at a time */
	if (r == 0 && flock(alive, LOCK_SH | LOCK_NB) == 0) {
		/* nobody holds it: no sentinel; start one on a fresh page */
		flock(alive, LOCK_UN);
		r = new_page(dir, hz);
		if (r == 0)
			r = spawn_shared(dir, hz);
	}
	if (r == 0) {
		s->p = map_page(dir, hz);
		if (!s->p)
			r = -ESTALE;   /* another layout or HZ: not ours to share */
	}
	if (r < 0) {
		if (s->users_fd >= 0)
			close(s->users_fd);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void tf_timer_sentinel_stats(const tf_timer_sentinel *s, int64_t since_ns, tf_timer_stats *st)
{
	static int64_t v[2 * TS_WORKERS * TS_RING];
	size_t n = 0;

	*st = (tf_timer_stats){ .last_ns = -1 };
	if (!s)
		return;
	for (unsigned k = 0; k < 2 * TS_WORKERS; k++) {
		const struct ts_ring *r = k < TS_WORKERS ? &s->p->ring[k] : &s->p->ka[k - TS_WORKERS];
		uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

		for (uint64_t i = head; i > 0 && head - i < TS_RING; i--) {
			struct ts_sample x = r->s[(i - 1) % TS_RING];
			if (x.t_ns < since_ns)
				break;
			if (x.t_ns > st->last_ns)
				st->last_ns = x.t_ns;
			if (k >= TS_WORKERS) {
				st->ka_samples++;
				if (x.late_ns > st->ka_worst_ns)
					st->ka_worst_ns = x.late_ns;
			}
			v[n++] = x.late_ns;
		}
	}
	st->samples = (int64_t)n;
	if (!n)
		return;
	qsort(v, n, sizeof v[0], cmp_i64);
	st->worst_ns = v[n - 1] > 0 ? v[n - 1] : 0;
	st->p50_ns = v[n / 2];
	st->p99_ns = v[n - 1 - n / 100];
}

bool tf_timer_sentinel_wait(const tf_timer_sentinel *s, int64_t at_ns, int64_t timeout_ns)
{
	int64_t deadline = tf_mono_ns() + timeout_ns;

	while (s && !__atomic_load_n(&s->p->failed, __ATOMIC_ACQUIRE)) {
		uint32_t seq = __atomic_load_n(&s->p->seq, __ATOMIC_ACQUIRE);
		unsigned fresh = 0, n = __atomic_load_n(&s->p->n_workers, __ATOMIC_ACQUIRE);
		int64_t left = deadline - tf_mono_ns();

		unsigned ka = __atomic_load_n(&s->p->ka_slots, __ATOMIC_ACQUIRE);
		int64_t ka_at = at_ns - 2 * __atomic_load_n(&s->p->ka_gran_ns, __ATOMIC_ACQUIRE);

		for (unsigned k = 0; k < n && k < TS_WORKERS; k++)
			fresh += __atomic_load_n(&s->p->ring[k].last_ns, __ATOMIC_ACQUIRE) >= at_ns;
		/* a keepalive sample is due every bucket (two of slack), on
		 * some CPU: an idle one's timers fire on another */
		bool ka_fresh = ka == 0;
		for (unsigned k = 0; k < ka && k < TS_WORKERS; k++)
			ka_fresh |= __atomic_load_n(&s->p->ka[k].last_ns, __ATOMIC_ACQUIRE) >= ka_at;
		if (n && fresh == n && ka_fresh)
			return true;
		if (left <= 0)
			return false;
		struct timespec ts = { left / 1000000000, left % 1000000000 };
		/* shared, not FUTEX_PRIVATE: the page is the sentinel's too */
		syscall(SYS_futex, &s->p->seq, FUTEX_WAIT, seq, &ts, NULL, 0);
	}
	return false;
}

const char *tf_timer_sentinel_why(const tf_timer_sentinel *s)
{
	if (!s)
		return "not started";
	return __atomic_load_n(&s->p->failed, __ATOMIC_ACQUIRE) ? s->p->why : "";
}

/* The share of the steps of `step` ns since since_ns with a sample due,
 * on the ring of rings[0..n) with the fewest, or on any (`any`). */
static double rings_coverage(const struct ts_ring *rings, unsigned n, int64_t step, int64_t since_ns,
                             bool any)
{
	static unsigned char seen[1 << 20];
	double worst = 1.0;
	int64_t hit = 0;

	int64_t tick = step, now = tf_mono_ns();
	int64_t n_ticks = (now - since_ns) / tick;
	if (n_ticks <= 0 || n == 0)
		return 0.0;
	if (n_ticks > (int64_t)sizeof seen)
		n_ticks = sizeof seen;
	for (unsigned k = 0; k < n && k < TS_WORKERS; k++) {
		const struct ts_ring *r = &rings[k];
		uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

		if (!any || k == 0) {
			memset(seen, 0, (size_t)n_ticks);
			hit = 0;
		}
		for (uint64_t i = head; i > 0 && head - i < TS_RING; i--) {
			struct ts_sample x = r->s[(i - 1) % TS_RING];
			int64_t due = x.t_ns - x.late_ns;   /* the tick it was due at */
			if (due < since_ns)
				break;
			int64_t t = (due - since_ns) / tick;
			if (t < n_ticks && !seen[t]) {
				seen[t] = 1;
				hit++;
			}
		}
		if (!any && (double)hit / (double)n_ticks < worst)
			worst = (double)hit / (double)n_ticks;
	}
	return any ? (double)hit / (double)n_ticks : worst;
}

double tf_timer_sentinel_coverage(const tf_timer_sentinel *s, int64_t since_ns)
{
	if (!s || !s->p->hz)
		return 0.0;
	return rings_coverage(s->p->ring, __atomic_load_n(&s->p->n_workers, __ATOMIC_ACQUIRE),
	                      1000000000LL / s->p->hz, since_ns, false);
}

double tf_timer_sentinel_bucket_coverage(const tf_timer_sentinel *s, int64_t since_ns)
{
	int64_t gran = s ? __atomic_load_n(&s->p->ka_gran_ns, __ATOMIC_ACQUIRE) : 0;

	if (!s || !gran)
		return 0.0;
	/* on any CPU: an idle CPU's timers are expired, and re-armed, by
	 * another (kernel/time/timer_migration.c), so per CPU the share
	 * says how idle a CPU was more than what went unmeasured; a busy
	 * CPU keeps its own, and ka_tend() gives it one per bucket again */
	return rings_coverage(s->p->ka, __atomic_load_n(&s->p->ka_slots, __ATOMIC_ACQUIRE), gran, since_ns,
	                      true);
}

int64_t tf_timer_sentinel_spacing_ns(const tf_timer_sentinel *s)
{
	return s ? __atomic_load_n(&s->p->spacing_ns, __ATOMIC_ACQUIRE) : 0;
}

unsigned tf_timer_sentinel_workers(const tf_timer_sentinel *s)
{
	return s ? __atomic_load_n(&s->p->n_workers, __ATOMIC_ACQUIRE) : 0;
}

void tf_timer_sentinel_dropped(const tf_timer_sentinel *s, int64_t *immediate, int64_t *ambiguous,
                               int64_t *early, int64_t *lost)
{
	*immediate = *ambiguous = *early = *lost = 0;
	for (unsigned k = 0; s && k < TS_WORKERS; k++) {
		*immediate += __atomic_load_n(&s->p->ring[k].immediate, __ATOMIC_RELAXED);
		*ambiguous += __atomic_load_n(&s->p->ring[k].ambiguous, __ATOMIC_RELAXED);
		*early += __atomic_load_n(&s->p->ring[k].early, __ATOMIC_RELAXED);
		*lost += __atomic_load_n(&s->p->ring[k].lost, __ATOMIC_RELAXED);
	}
}

int tf_timer_sentinel_signal(const tf_timer_sentinel *s, int sig)
{
	int n = 0;

	if (!s || s->pid <= 0)
		return -EPERM;   /* a shared one serves others too */
	for (unsigned i = 0; i <= TS_WORKERS; i++) {
		pid_t p = __atomic_load_n(&s->p->pids[i], __ATOMIC_ACQUIRE);
		if (p > 0 && kill(p, sig) == 0)
			n++;
	}
	return n;
}

void tf_timer_sentinel_stop(tf_timer_sentinel *s)
{
	if (!s)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);   /* its workers die with it (PR_SET_PDEATHSIG) */
		waitpid(s->pid, NULL, 0);
	}
	if (s->users_fd >= 0)
		close(s->users_fd);      /* the last reader's: the sentinel leaves */
	munmap(s->p, sizeof *s->p);
	free(s);
}
