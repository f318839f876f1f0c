/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The timer sentinel's insides, shared by its two kinds of timers:
 * timer_sentinel.c (the page, the delayed-ACK workers, the readers) and
 * timer_sentinel_ka.c (the keepalive timers).  Not an interface. */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	/* keepalive timers, one ring per CPU (ts_ka_main()): 0 slots until they
	 * have a phase */
	unsigned ka_slots;
	int64_t ka_gran_ns;  /* between the buckets they fire in */
	int32_t pids[TS_WORKERS + 1];   /* the workers', then ts_ka_main()'s */
	struct ts_ring ka[TS_WORKERS];
};

/* The next outgoing IPv4 TCP segment a packet socket holds. */
struct ts_seg {
	int64_t ts;
	const unsigned char *tcp;   /* into the caller's buffer */
	uint16_t sport, dport;
	long len;                   /* payload bytes */
};

/* Kernel software stamps (CLOCK_REALTIME) to CLOCK_MONOTONIC. */
int64_t ts_real_to_mono(int64_t real_ns);
int64_t ts_mod_tick(int64_t t, int64_t tick);
/* The grid's phase from residues mod `tick` (sorts res). */
int64_t ts_fit_phase(int64_t *res, size_t n, int64_t tick);
/* One sample on a ring of which the caller is the only writer. */
void ts_ring_put(struct ts_page *s, struct ts_ring *r, int64_t t_ns, int64_t late_ns);
/* 1 with the next segment, 0 when none is left. */
int ts_next_segment(int pk, unsigned char *b, size_t size, struct ts_seg *sg);
/* A packet socket on lo for the outgoing TCP packets to or from port,
 * sent by cpu (any: -1); the fd or -errno. */
int ts_capture_open(uint16_t port, int cpu);
/* The keepalive timers' process (timer_sentinel_ka.c): never returns. */
_Noreturn void ts_ka_main(struct ts_page *s, const int *cpus, unsigned n_cpus);
