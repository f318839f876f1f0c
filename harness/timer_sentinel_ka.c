/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The timer sentinel's keepalive timers: see timer_sentinel.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tf_model.h"
#include "tf_util.h"
#include "timer_sentinel_private.h"

/* Keepalive timers: the kernel re-arms them, no write of ours needed.
 *
 * The delayed-ACK samples (timer_sentinel.c) need a worker to write on
 * time: starved by the load, it writes late or not at all, and the ticks
 * it missed go unmeasured (coverage 0.54-0.78 beside ci/test's programs,
 * issue 10).
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

/* Back to every CPU it measures (reading the stamps: any will do). */
static void unpin(const struct ka *k)
{
	cpu_set_t all;

	CPU_ZERO(&all);
	for (unsigned i = 0; i < k->n_slots; i++)
		CPU_SET(k->cpus[i], &all);
	sched_setaffinity(0, sizeof all, &all);
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
		k->res[k->n_res++] = ts_mod_tick(t, k->gran_ns);
		if (k->n_res < KA_CALIB)
			return;
		/* on-time probes a little after a bucket's boundary, late
		 * ones anywhere after it */
		k->phase_ns = ts_fit_phase(k->res, k->n_res, k->gran_ns);
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
			ts_ring_put(k->s, &k->s->ka[slot], t, late);
	}
	c->prev_j = j;
	c->prev_edge = ts_mod_tick(t - k->phase_ns, k->tick_ns) < TS_GUARD_NS;
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

	k->move = NULL;
	if (now > k->move_ns + k->tick_ns) {   /* woke too late: next time */
		c->next_j = -1;
		return;
	}
	pin(k->cpus[k->move_slot]);
	if (setsockopt(c->tx, SOL_SOCKET, SO_KEEPALIVE, &off, sizeof off) < 0 ||
	    setsockopt(c->tx, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) < 0)
		c->armed = false;
	unpin(k);
	c->prev_j = -1;   /* its next probe follows a re-arm, not a probe */
	c->slot = k->move_slot;
	c->seen_ns = c->moved_ns = tf_mono_ns();
}

/* Each connection's outgoing segments, from one CPU's packet socket. */
static void ka_read(struct ka *k, int pk, unsigned slot)
{
	unsigned char b[128];
	struct ts_seg sg;

	while (ts_next_segment(pk, b, sizeof b, &sg)) {
		/* a probe: no data, ACK alone (tcp_xmit_probe_skb()) */
		if (sg.len != 0 || (sg.tcp[13] & 0x17) != 0x10)
			continue;
		for (size_t i = 0; i < k->n; i++)
			if (k->c[i].port == sg.sport && k->c[i].armed) {
				ka_probe(k, &k->c[i], slot, ts_real_to_mono(sg.ts));
				break;
			}
	}
}

_Noreturn void ts_ka_main(struct ts_page *s, const int *cpus, unsigned n_cpus)
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
		p[i].fd = ts_capture_open(ntohs(a.sin_port), cpus[i]);
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
	unpin(&k);
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

