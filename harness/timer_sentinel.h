/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The timer sentinel: how late the kernel's own timer_list timers fire,
 * measured during the run on kernel timestamps — the kernel-side sibling
 * of the wake-up sentinel (sentinel.h).
 *
 * One sentinel serves every run of the user at once (tf_timer_sentinel_
 * share()); its workers (one per CPU, up to 4, each pinned) make their own
 * network namespace (tf_world_new(), never the host's), and there
 * keeps loopback TCP connections (two per tick of their period, up to 64)
 * where the sender writes one byte
 * (TCP_NODELAY) every ~1.4 delayed-ACK timeouts and the receiver never
 * writes: past the quick-ack credits, each byte is acknowledged by the
 * receiver's delayed-ACK timer (tcp_send_delayed_ack(), the delay from
 * lib's tf_model_delack(), fired by the wheel at the tick after its expiry).
 * Beside them, keepalive timers that the kernel re-arms by itself (a probe
 * every second to a live peer, one per bucket of the wheel per CPU) need
 * no write of ours, so a starved worker does not leave them unmeasured
 * (ka_main()).
 * A packet socket on lo stamps the byte and its ACK where a case's capture
 * stamps its packets (dev_queue_xmit_nit(): the ACK's, in the timer's
 * softirq).  (SO_TIMESTAMPING's SCM_TSTAMP_ACK would stamp the ACK's
 * processing instead, later by the NET_RX softirq's own delay.)
 * Jiffies tick on a fixed CLOCK_MONOTONIC grid of period 1/HZ; its phase is
 * recovered from the earliest firings, and a sample's lateness is the ACK's
 * time minus the grid tick at which the wheel was due to fire it.
 *
 * Samples (time, lateness) go to a shared page, so that a case (forked
 * from the runner) reads the worst over its own interval.  The high edge
 * of a check on a kernel timer gets that worst as an allowance, named in
 * the YAML (runner.c, tf_expect_timer_time()): the part the slack does
 * not already cover.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tf_timer_sentinel tf_timer_sentinel;

/* Fork it (it dies with the caller).  0 or -errno; on a failure inside the
 * sentinel (no namespace here), it still returns 0 and
 * tf_timer_sentinel_why() says why it has no samples. */
int tf_timer_sentinel_start(unsigned hz, tf_timer_sentinel **ret);

typedef struct tf_timer_stats {
	int64_t samples;         /* timers measured in the interval: both kinds */
	int64_t worst_ns;        /* their worst lateness (0 when none was late) */
	int64_t ka_samples;      /* of which keepalive timers (bucket boundaries) */
	int64_t ka_worst_ns;     /* and their worst */
	int64_t p50_ns, p99_ns;
	int64_t last_ns;         /* CLOCK_MONOTONIC of the newest sample, or -1 */
} tf_timer_stats;

/* The samples whose timer fired at or after since_ns (CLOCK_MONOTONIC). */
void tf_timer_sentinel_stats(const tf_timer_sentinel *s, int64_t since_ns, tf_timer_stats *st);
/* The worst lateness of its timers that were pending at real_ns (a
 * capture's CLOCK_REALTIME stamp): due at or before it, fired after it —
 * how far the kernel's timers were behind at that moment; 0 without one. */
int64_t tf_timer_sentinel_late_at(const tf_timer_sentinel *s, int64_t real_ns);
/* Wait (a futex on its sample counter) until every worker has a sample at
 * or after at_ns, at most timeout_ns: a lateness just before a check is
 * seen by a sample due about then.  False when the time ran out. */
bool tf_timer_sentinel_wait(const tf_timer_sentinel *s, int64_t at_ns, int64_t timeout_ns);
/* Why it measures nothing ("" while it runs or starts), e.g. no namespace. */
const char *tf_timer_sentinel_why(const tf_timer_sentinel *s);
/* The time between the due times of one worker's timers (0 before it
 * started): about a tick, so that a stall of its CPU delays one of them. */
int64_t tf_timer_sentinel_spacing_ns(const tf_timer_sentinel *s);
/* The share of ticks since since_ns at which a sample was due, on the
 * worker (CPU) that covers the fewest: a stall that starts at a tick
 * without one is seen from the next. */
double tf_timer_sentinel_coverage(const tf_timer_sentinel *s, int64_t since_ns);
/* The same for the keepalive timers, over the wheel's buckets where a
 * 250 ms - 2 s timer fires (every 8 ticks at HZ=250), on any CPU (an
 * idle CPU's timers are expired by another); 0 while they have no phase
 * yet. */
double tf_timer_sentinel_bucket_coverage(const tf_timer_sentinel *s, int64_t since_ns);
/* The same over [since_ns, until_ns) (CLOCK_MONOTONIC). */
double tf_timer_sentinel_bucket_coverage_in(const tf_timer_sentinel *s, int64_t since_ns,
                                            int64_t until_ns);
/* Workers (CPUs) measuring; the samples it dropped, by reason. */
unsigned tf_timer_sentinel_workers(const tf_timer_sentinel *s);
void tf_timer_sentinel_dropped(const tf_timer_sentinel *s, int64_t *immediate, int64_t *ambiguous,
                               int64_t *early, int64_t *lost);
/* One sentinel for every run of this user at once (17 case binaries under
 * `meson test` started 17 sentinels, and their own timers made the cases'
 * fire late): the first reader starts it, in a session of its own, on a
 * page in `dir` (timers.shm); it leaves when no reader holds timers.users
 * (flock(2): a reader's death releases it).  0 or -errno (-ESTALE: a
 * sentinel of another build or HZ runs there; start a private one). */
int tf_timer_sentinel_share(unsigned hz, const char *dir, tf_timer_sentinel **ret);
/* For its tests: send sig to a private sentinel's processes (its workers
 * and its keepalive reader).  How many got it, or -EPERM for a shared
 * one (it serves other runs too). */
int tf_timer_sentinel_signal(const tf_timer_sentinel *s, int sig);
/* Kill and reap it, or leave a shared one (accepts NULL). */
void tf_timer_sentinel_stop(tf_timer_sentinel *s);
