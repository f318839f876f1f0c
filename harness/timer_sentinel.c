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
#include "timer_sentinel_private.h"

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
int64_t ts_real_to_mono(int64_t real_ns)
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

int64_t ts_mod_tick(int64_t t, int64_t tick)
{
	int64_t r = t % tick;
	return r < 0 ? r + tick : r;
}

/* The grid's phase: the earliest residue of the densest TS_WINDOW_NS of
 * ACK residues (mod one tick) — on-time firings, a little after a tick. */
int64_t ts_fit_phase(int64_t *res, size_t n, int64_t tick)
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
void ts_ring_put(struct ts_page *s, struct ts_ring *r, int64_t t_ns, int64_t late_ns)
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
	int64_t pos = ts_mod_tick(tx - w->phase_ns, w->tick_ns), late;

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
	ts_ring_put(w->s, w->ring, ack, late);
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
			res[i] = ts_mod_tick(w->calib[i].ack, w->tick_ns);
		w->phase_ns = ts_fit_phase(res, TS_CALIB, w->tick_ns);
		w->have_phase = true;
		for (size_t i = 0; i < TS_CALIB; i++)
			publish(w, w->calib[i].tx, w->calib[i].ack, w->calib[i].timer);
		return;
	}
	publish(w, c->tx_ns, c->ack_ns, d.timer_lo);
	/* refit now and then: the grid does not move, but one fit of a late
	 * start should not stand for the whole run */
	w->recent[w->n_recent++] = ts_mod_tick(c->ack_ns, w->tick_ns);
	if (w->n_recent == TF_ARRAY_SIZE(w->recent)) {
		w->phase_ns = ts_fit_phase(w->recent, w->n_recent, w->tick_ns);
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
int ts_next_segment(int pk, unsigned char *b, size_t size, struct ts_seg *sg)
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
	struct ts_seg sg;

	while (ts_next_segment(pk, b, sizeof b, &sg)) {
		const unsigned char *t = sg.tcp;
		uint16_t sport = sg.sport, dport = sg.dport;
		long len = sg.len;
		int64_t ts = sg.ts;
		for (size_t i = 0; i < w->n_conns; i++) {
			struct conn *c = &cs[i];
			if (!c->waiting)
				continue;
			if (sport == c->tx_port && len > 0 && c->tx_ns < 0) {
				c->tx_ns = ts_real_to_mono(ts);
				c->want_ack = be32(t + 4) + (uint32_t)len;
			} else if (dport == c->tx_port && sport == c->rx_port && len == 0 && c->tx_ns >= 0 &&
			           (t[13] & 0x10) && (int32_t)(be32(t + 8) - c->want_ack) >= 0) {
				c->ack_ns = ts_real_to_mono(ts);
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
int ts_capture_open(uint16_t port, int cpu)
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
	int pk = ts_capture_open(cs[0].rx_port, -1);
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
			ts_ka_main(s, cpus, n);
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

int64_t tf_timer_sentinel_late_at(const tf_timer_sentinel *s, int64_t real_ns)
{
	int64_t worst = 0, t_ns = ts_real_to_mono(real_ns);

	for (unsigned k = 0; s && k < 2 * TS_WORKERS; k++) {
		const struct ts_ring *r = k < TS_WORKERS ? &s->p->ring[k] : &s->p->ka[k - TS_WORKERS];
		uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

		/* newest first; no sample is late by 10 s */
		for (uint64_t i = head; i > 0 && head - i < TS_RING; i--) {
			struct ts_sample x = r->s[(i - 1) % TS_RING];
			if (x.t_ns < t_ns - 10000000000LL)
				break;
			if (x.t_ns > t_ns && x.t_ns - x.late_ns <= t_ns && x.late_ns > worst)
				worst = x.late_ns;
		}
	}
	return worst;
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

/* The share of the steps of `step` ns in [since_ns, until_ns) with a
 * sample due, on the ring of rings[0..n) with the fewest, or on any
 * (`any`). */
static double rings_coverage(const struct ts_ring *rings, unsigned n, int64_t step, int64_t since_ns,
                             int64_t until_ns, bool any)
{
	static unsigned char seen[1 << 20];
	double worst = 1.0;
	int64_t hit = 0;

	int64_t tick = step;
	int64_t n_ticks = (until_ns - since_ns) / tick;
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
	                      1000000000LL / s->p->hz, since_ns, tf_mono_ns(), false);
}

double tf_timer_sentinel_bucket_coverage(const tf_timer_sentinel *s, int64_t since_ns)
{
	return tf_timer_sentinel_bucket_coverage_in(s, since_ns, tf_mono_ns());
}

double tf_timer_sentinel_bucket_coverage_in(const tf_timer_sentinel *s, int64_t since_ns,
                                            int64_t until_ns)
{
	int64_t gran = s ? __atomic_load_n(&s->p->ka_gran_ns, __ATOMIC_ACQUIRE) : 0;

	if (!s || !gran)
		return 0.0;
	/* on any CPU: an idle CPU's timers are expired, and re-armed, by
	 * another (kernel/time/timer_migration.c), so per CPU the share
	 * says how idle a CPU was more than what went unmeasured; a busy
	 * CPU keeps its own, and ka_tend() gives it one per bucket again */
	return rings_coverage(s->p->ka, __atomic_load_n(&s->p->ka_slots, __ATOMIC_ACQUIRE), gran, since_ns,
	                      until_ns, true);
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
