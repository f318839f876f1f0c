/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to the model's files (lib/model*.c); not installed.  The state
 * every rule file reads (struct tf_model), the kernel constants, the jiffy
 * arithmetic, the timer wheel's band and the schedule builder, once.
 * Functions here are tfm_* (never exported: lib/libtcpfate.sym).
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tf_model.h"

/* ------------------------------------------------------------------ */
/* Kernel constants (include/net/tcp.h), as functions of HZ.           */

#define USEC_PER_SEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL
#define MSEC_PER_SEC 1000ULL

#define TCP_RTO_MAX_MS     120000u  /* TCP_RTO_MAX_SEC * MSEC_PER_SEC */
#define TCP_RTO_MAX_MIN_MS 1000u    /* TCP_RTO_MAX_MIN_SEC: setsockopt(TCP_RTO_MAX_MS) floor */
#define TCP_TIMEOUT_MIN_US 2000u    /* TCP_TIMEOUT_MIN_US, tcp_schedule_loss_probe() */
#define MAX_TCP_KEEPIDLE   32767u
#define MAX_TCP_KEEPINTVL  32767u
#define MAX_TCP_KEEPCNT    127u
#define MAX_TCP_SYNCNT     127u     /* also tcp_syn_linear_timeouts_max */
#define MAX_RETRIES2       255u     /* sysctl_tcp_retries2 is a u8 */

/* A schedule longer than this is refused (-E2BIG): e.g. a 24-day
 * TCP_USER_TIMEOUT with a 1 s rto_max would be two million events. */
#define TF_MODEL_MAX_EVENTS 100000u

static inline uint64_t tcp_rto_min_j(unsigned hz)      { return hz / 5; }      /* TCP_RTO_MIN */
static inline uint64_t tcp_rto_max_j(unsigned hz)      { return 120ULL * hz; } /* TCP_RTO_MAX */
static inline uint64_t tcp_timeout_init_j(unsigned hz) { return hz; }          /* TCP_TIMEOUT_INIT, 1 s */

struct tf_model {
	unsigned hz;
	uint32_t srtt_us, rttvar_us;
	uint32_t rttvar_kernel_us;  /* tp->rttvar_us when known (replayed), else 0 */
	uint32_t rto_min_us;
	uint32_t rto_max_ms;
	bool     rto_max_in_budget;
	int      early_retrans;
	unsigned retries2;
	uint32_t user_timeout_ms;
	unsigned packets_out;
	unsigned syn_retries;
	int      syn_linear_timeouts;
	uint32_t ka_idle_s, ka_intvl_s;
	unsigned ka_cnt;
	bool     neigh_failed;
};

struct tf_schedule {
	tf_sched_event *ev;
	size_t n, cap;
	int err;
	bool idle;      /* keepalive: event 0 is the last segment, not a transmission */
};

/* ------------------------------------------------------------------ */
/* Jiffies conversions, include/linux/jiffies.h and kernel/time/time.c.
 * Exact for HZ dividing 1000 (100, 250, 1000): *_to_jiffies() round up,
 * jiffies_to_*() round down.  For other HZ (300) the kernel's
 * multiply-and-shift approximations can differ from these by one unit. */

static inline uint64_t msecs_to_jiffies(unsigned hz, uint64_t ms)
{
	return (ms * hz + MSEC_PER_SEC - 1) / MSEC_PER_SEC;
}

static inline uint64_t usecs_to_jiffies(unsigned hz, uint64_t us)
{
	return (us * hz + USEC_PER_SEC - 1) / USEC_PER_SEC;
}

static inline uint64_t jiffies_to_msecs(unsigned hz, uint64_t j)
{
	return j * MSEC_PER_SEC / hz;
}

static inline uint64_t jiffies_to_usecs(unsigned hz, uint64_t j)
{
	return j * USEC_PER_SEC / hz;
}

/* Signed jiffies (differences) to µs, rounding toward zero. */
static inline int64_t j2us(unsigned hz, int64_t j)
{
	return j >= 0 ? (int64_t)((uint64_t)j * USEC_PER_SEC / hz)
	              : -(int64_t)((uint64_t)-j * USEC_PER_SEC / hz);
}

/* ------------------------------------------------------------------ */
/* The timer wheel (model_timer.c).                                    */

struct band {
	uint64_t lo, hi; /* jiffies */
};

/* When a timer armed for d jiffies fires, relative to the arming: see
 * model_timer.c.  tf_model_timer_band() in jiffies. */
struct band tfm_timer_band(unsigned hz, uint64_t d, bool from_tick);
/* The tick a timer armed at tick j for d jiffies fires on, on the absolute
 * grid (calc_index()). */
int64_t tfm_wheel_fire(unsigned hz, int64_t j, uint64_t d, bool from_tick);
/* retries2 + 1 expiries of the probe timer (tcp_probe_timer()), the
 * backoff starting at backoff0: the first armed from process context or
 * softirq, the others from the tick; ret's lo/mid/hi and jiffies (gran
 * is the caller's).  model_zwp.c. */
int tfm_probe0_run(unsigned hz, unsigned rto_jiffies, unsigned backoff0, unsigned retries2,
                   tf_band *ret);

/* ------------------------------------------------------------------ */
/* Derived state (model.c).                                            */

/* icsk_rto_max in jiffies (TCP_RTO_MAX_MS / tcp_rto_max_ms). */
uint64_t tfm_rto_max_j(const tf_model *m);
/* rto_max used by tcp_model_timeout(): per socket since 6.15. */
uint64_t tfm_budget_rto_max_j(const tf_model *m);
/* tcp_rto_min_us(sk), rounded up to a whole jiffy. */
uint64_t tfm_rto_min_eff_us(const tf_model *m);
/* The loss probe timer tcp_schedule_loss_probe() arms after the original
 * transmission, in jiffies (capped at the RTO); 0 when tcp_early_retrans
 * has no TLP.  *rule: its citation. */
uint64_t tfm_pto_j(const tf_model *m, const char **rule);

/* tcp_write_err(): sk_err = sk_err_soft ?: ETIMEDOUT.  With ARP failing,
 * arp_error_report() sends the host an ICMP host unreachable and
 * tcp_v4_err() stores EHOSTUNREACH in sk_err_soft (net/ipv4/tcp_ipv4.c). */
static inline int tfm_giveup_errno(const tf_model *m)
{
	return m->neigh_failed ? EHOSTUNREACH : ETIMEDOUT;
}

/* ------------------------------------------------------------------ */
/* Budgets (model_retrans.c).                                          */

/* tcp_model_timeout() in any unit; 0 for base 0 or max < base. */
uint64_t tfm_model_timeout(unsigned boundary, uint64_t base, uint64_t max);
/* The time tcp_write_timeout() allows since retrans_stamp, in ms. */
uint64_t tfm_write_budget_ms(const tf_model *m, unsigned boundary, uint64_t rto_base_j);
/* tcp_clamp_rto_to_user_timeout(). */
uint64_t tfm_clamp_to_user_timeout(const tf_model *m, uint64_t rto, uint64_t elapsed_ms,
                                   bool *clamped);

/* ------------------------------------------------------------------ */
/* Schedules (model_sched.c).                                          */

struct builder {
	const tf_model *m;
	tf_schedule *s;
	uint64_t at_lo, at_hi; /* jiffies since event 0 */
};

/* Where a firing at `gap` after the last event would land, relative to
 * an earlier instant `ref` (as [lo, hi] jiffies since event 0). */
struct elapsed {
	uint64_t lo_us, mid_us, hi_us;
};

/* Append an event in µs as is (model_unreach.c, model_icmp.c). */
int tfm_sched_push_us(tf_schedule *s, tf_tx_kind kind, uint64_t timer_j, int64_t gap_lo,
                      int64_t gap_hi, int64_t at_lo, int64_t at_hi, const char *rule);
/* Append an event `gap` jiffies after the last one. */
int tfm_push(struct builder *b, tf_tx_kind kind, uint64_t timer_j, struct band gap,
             const char *rule);
/* Expected (midpoint) time in µs of an instant [lo, hi] jiffies. */
uint64_t tfm_mid_us(unsigned hz, uint64_t lo, uint64_t hi);
struct elapsed tfm_elapsed_since(const struct builder *b, struct band gap, uint64_t ref_lo,
                                 uint64_t ref_hi);
/* Every schedule starts with event 0 at t = 0 and ends with the give-up;
 * on error nothing is returned and the partial schedule is freed. */
int tfm_sched_begin(struct builder *b, const tf_model *m, tf_tx_kind kind0, const char *rule0,
                    int err);
int tfm_sched_end(struct builder *b, int r, tf_schedule **ret);

/* ------------------------------------------------------------------ */
/* The sender as the ICMP models see it (model_icmp.c).                */

struct tcp_p {
	unsigned hz;
	uint64_t rto;        /* __tcp_set_rto() (TCP_TIMEOUT_INIT without a sample), jiffies */
	uint64_t pto;        /* loss probe timer, 0: no TLP (tcp_early_retrans) */
	uint64_t rmax;       /* rto_max in jiffies, 0: no timer of the plain schedule capped ... */
	uint64_t rmax_floor; /* ... whose longest timer is this */
	uint64_t budget_us;  /* tcp_write_timeout()'s budget from retrans_stamp */
};

int tfm_tcp_from_model(const tf_model *m, struct tcp_p *tp);
/* inet_csk_rto_backoff(): min(icsk_rto << backoff, rto_max). */
int tfm_rto_backoff(const struct tcp_p *tp, unsigned backoff, uint64_t *ret);

/* The router's knobs in the kernel's units (model_neigh.c). */
struct neigh_k {
	unsigned hz;
	uint64_t d;          /* max(retrans_time, HZ/100), jiffies */
	uint64_t n_timers;   /* app + mcast */
	size_t   qlen;       /* packets held, >= 1 */
	int64_t  rl;         /* icmp_ratelimit in jiffies; 0: every ICMP passes */
	int64_t  cap;        /* XRLIM_BURST_FACTOR * rl */
	int64_t  start;      /* a new peer's first call: min(cap, 60 HZ) */
};

int tfm_neigh_derive(const tf_neigh_params *p, struct neigh_k *k);
/* Ascending, >= 0 (or n == 0). */
int tfm_check_times(const int64_t *t, size_t n);
extern const char tfm_R_NEIGH[];
/* The citations (b) and (c) share (model_icmp.c). */
extern const char tfm_R_ORIGINAL[];
extern const char tfm_R_TLP[];
extern const char tfm_R_RTO_AFTER_TLP[];
extern const char tfm_R_RTO_FIRST[];
extern const char tfm_R_RTO_BACKOFF[];
extern const char tfm_R_REVERT_NOW[];
extern const char tfm_R_REVERT_NOW_EDGE[];
extern const char tfm_R_REVERT_TIMER[];
extern const char tfm_R_REVERT_TIMER_EDGE[];
extern const char tfm_R_ORDER_EDGE[];
extern const char tfm_R_GIVEUP_ICMP[];
extern const char tfm_R_GIVEUP_ICMP_EDGE[];
extern const char tfm_R_GIVEUP_REVERT[];
extern const char tfm_R_GIVEUP_SILENT[];
