/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model.c — the kernel's TCP timer rules as arithmetic (see tf_model.h).
 *
 * Every rule cites the kernel function it implements.  The sources read
 * were net/ipv4/tcp_timer.c of 6.15+ (tcp_rto_max(sk) per socket, the
 * tcp_syn_linear_timeouts rule, tcp_usec_ts), and 6.x versions of
 * tcp_output.c, tcp_input.c, include/net/tcp.h and kernel/time/timer.c;
 * no 6.18 tree was at hand, so the rules that decide a schedule were also
 * checked against the running 6.18 kernel in throwaway namespaces (the
 * comments say which).  Those runs only confirmed rules: no number here
 * comes from them.
 *
 * Units: the kernel counts timers in jiffies and time stamps in ms
 * (tcp_time_stamp_ts() without the usec TS option), so the simulation
 * below does the same and converts to µs only for the events it emits.
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Kernel constants (include/net/tcp.h), as functions of HZ.           */

#define USEC_PER_SEC 1000000ULL
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


static uint64_t tcp_rto_min_j(unsigned hz)      { return hz / 5; }          /* TCP_RTO_MIN */
static uint64_t tcp_rto_max_j(unsigned hz)      { return 120ULL * hz; }     /* TCP_RTO_MAX */
static uint64_t tcp_timeout_init_j(unsigned hz) { return hz; }              /* TCP_TIMEOUT_INIT, 1 s */

/* ------------------------------------------------------------------ */
/* Jiffies conversions, include/linux/jiffies.h and kernel/time/time.c.
 * Exact for HZ dividing 1000 (100, 250, 1000): *_to_jiffies() round up,
 * jiffies_to_*() round down.  For other HZ (300) the kernel's
 * multiply-and-shift approximations can differ from these by one unit. */

static uint64_t msecs_to_jiffies(unsigned hz, uint64_t ms)
{
	return (ms * hz + MSEC_PER_SEC - 1) / MSEC_PER_SEC;
}

static uint64_t usecs_to_jiffies(unsigned hz, uint64_t us)
{
	return (us * hz + USEC_PER_SEC - 1) / USEC_PER_SEC;
}

static uint64_t jiffies_to_msecs(unsigned hz, uint64_t j)
{
	return j * MSEC_PER_SEC / hz;
}

static uint64_t jiffies_to_usecs(unsigned hz, uint64_t j)
{
	return j * USEC_PER_SEC / hz;
}

/* ------------------------------------------------------------------ */
/* Timer wheel, kernel/time/timer.c.
 *
 * calc_wheel_index() picks the level from delta = expires - base->clk:
 * level n holds deltas below LVL_START(n+1) = 63 << (3n), and
 * calc_index() puts the timer in the bucket
 *	bucket_expiry = ((expires >> 3n) + 1) << 3n
 * i.e. strictly after `expires`, rounded up to the level's granularity
 * LVL_GRAN(n) = 8^n, even at level 0.  LVL_DEPTH is 9 when HZ > 100.
 *
 * Armed from a timer callback at tick J (every TCP retransmission and
 * keepalive probe): base->clk is already J+1 ("set 1 offset ahead of
 * jiffies", __run_timers()), so delta = d-1 and the timer fires
 * between d+1 and d+gran jiffies after the tick, depending on J's
 * alignment.  Armed from process or softirq context (write(), connect(),
 * the handshake), the start is anywhere inside jiffy J: clk = J,
 * delta = d, and the wait is in (d, d+gran].
 *
 * Choice: only the per-level band is modelled, not the alignment of J.
 * After a level-L expiry J is a multiple of 8^L, so the next timer of
 * level <= L takes exactly ((d >> 3L) + 1) << 3L, usually in the upper
 * half of the band (a 250-jiffy timer: 256).  That would predict times
 * exactly, but a callback that runs a jiffy late breaks the alignment
 * and the next gap comes out shorter than the aligned value, while it
 * always stays inside [d+1, d+gran].  So the band is conservative and
 * its midpoint, the "expected" value, tends to be early by up to half a
 * granule per level >= 1 timer.  The aligned case does land on the band's
 * top: 6.1 and 6.12 under TCG with an RTO of 53 jiffies give up 432
 * jiffies after a level-1 expiry, exactly d + gran (424 + 8), so what a
 * check sees there is the top plus softirq and wake-up latency, which the
 * caller's slack must cover (ci/vm/README.md, "The 6.1 discrepancy":
 * calc_index() and calc_wheel_index() are identical in 6.1.192 and
 * 6.12.117, and so is every TCP rule that decides that schedule). */

struct band {
	uint64_t lo, hi; /* jiffies */
};

static unsigned lvl_depth(unsigned hz)
{
	return hz > 100 ? 9 : 8;
}

static uint64_t lvl_start(unsigned n)
{
	return 63ULL << (3 * (n - 1));
}

static struct band timer_band(unsigned hz, uint64_t d, bool from_tick)
{
	unsigned depth = lvl_depth(hz), lvl = 0;
	uint64_t delta;
	struct band b;

	/* expires == jiffies fires on the next tick (TCP does arm 0: the
	 * delayed ACK of a FIN on a connection that carried no data). */
	if (d == 0)
		d = 1;
	delta = from_tick ? d - 1 : d;

	/* WHEEL_TIMEOUT_CUTOFF = LVL_START(LVL_DEPTH): beyond it the kernel
	 * clamps the expiry; no TCP timer reaches it (48 days at HZ=250). */
	while (lvl + 1 < depth && delta >= lvl_start(lvl + 1))
		lvl++;
	b.lo = from_tick ? d + 1 : d;
	b.hi = d + (1ULL << (3 * lvl));
	return b;
}

unsigned tf_model_wheel_gran(unsigned hz, uint64_t timer_jiffies)
{
	struct band b = timer_band(hz ? hz : 250, timer_jiffies, false);
	return (unsigned)(b.hi - (timer_jiffies ? timer_jiffies : 1));
}

int tf_model_timer_band(unsigned hz, uint64_t timer_jiffies, bool from_tick, int64_t *lo_us,
			int64_t *hi_us)
{
	struct band b;

	if (!lo_us || !hi_us || hz < 100 || hz > 1000)
		return -EINVAL;
	b = timer_band(hz, timer_jiffies, from_tick);
	*lo_us = (int64_t)jiffies_to_usecs(hz, b.lo);
	*hi_us = (int64_t)jiffies_to_usecs(hz, b.hi);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Schedule builder.                                                   */

struct builder {
	const tf_model *m;
	tf_schedule *s;
	uint64_t at_lo, at_hi; /* jiffies since event 0 */
};

static int push(struct builder *b, tf_tx_kind kind, uint64_t timer_j,
		struct band gap, const char *rule)
{
	tf_schedule *s = b->s;
	unsigned hz = b->m->hz;
	tf_sched_event *e;

	if (s->n >= TF_MODEL_MAX_EVENTS)
		return -E2BIG;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		tf_sched_event *ev;

		ev = realloc(s->ev, cap * sizeof(*ev));
		if (!ev)
			return -ENOMEM;
		s->ev = ev;
		s->cap = cap;
	}
	b->at_lo += gap.lo;
	b->at_hi += gap.hi;

	e = &s->ev[s->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->timer_jiffies = timer_j > UINT_MAX ? UINT_MAX : (unsigned)timer_j;
	e->gap_lo_us = (int64_t)jiffies_to_usecs(hz, gap.lo);
	e->gap_hi_us = (int64_t)jiffies_to_usecs(hz, gap.hi);
	e->gap_us = (e->gap_lo_us + e->gap_hi_us) / 2;
	e->at_lo_us = (int64_t)jiffies_to_usecs(hz, b->at_lo);
	e->at_hi_us = (int64_t)jiffies_to_usecs(hz, b->at_hi);
	e->at_us = (e->at_lo_us + e->at_hi_us) / 2;
	e->rule = rule;
	return 0;
}

static const struct band zero_band;

/* Expected (midpoint) time in µs of an instant [lo, hi] jiffies. */
static uint64_t mid_us(unsigned hz, uint64_t lo, uint64_t hi)
{
	return (jiffies_to_usecs(hz, lo) + jiffies_to_usecs(hz, hi)) / 2;
}

/* Where a firing at `gap` after the last event would land, relative to
 * an earlier instant `ref` (as [lo, hi] jiffies since event 0). */
struct elapsed {
	uint64_t lo_us, mid_us, hi_us;
};

static struct elapsed elapsed_since(const struct builder *b, struct band gap,
				    uint64_t ref_lo, uint64_t ref_hi)
{
	unsigned hz = b->m->hz;
	uint64_t lo = b->at_lo + gap.lo, hi = b->at_hi + gap.hi;
	struct elapsed e;

	e.lo_us = jiffies_to_usecs(hz, lo - ref_lo);
	e.hi_us = jiffies_to_usecs(hz, hi - ref_hi);
	e.mid_us = mid_us(hz, lo, hi) - mid_us(hz, ref_lo, ref_hi);
	return e;
}

/* Every schedule starts with event 0 at t = 0 and ends with the give-up;
 * on error nothing is returned and the partial schedule is freed. */
static int sched_begin(struct builder *b, const tf_model *m, tf_tx_kind kind0,
		       const char *rule0, int err)
{
	int r;

	b->m = m;
	b->at_lo = b->at_hi = 0;
	b->s = calloc(1, sizeof(*b->s));
	if (!b->s)
		return -ENOMEM;
	b->s->err = err;
	r = push(b, kind0, 0, zero_band, rule0);
	if (r < 0)
		tf_schedule_free(b->s);
	return r;
}

static int sched_end(struct builder *b, int r, tf_schedule **ret)
{
	if (r < 0) {
		tf_schedule_free(b->s);
		return r;
	}
	*ret = b->s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Object life cycle and knobs.                                        */

int tf_model_new(tf_model **ret)
{
	tf_model *m;

	if (!ret)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* The kernel's compiled-in defaults (include/net/tcp.h,
	 * tcp_sk_init() in net/ipv4/tcp_ipv4.c). */
	m->hz = 250;
	m->rto_min_us = 200000;          /* TCP_RTO_MIN, tcp_rto_min_us */
	m->rto_max_ms = TCP_RTO_MAX_MS;  /* TCP_RTO_MAX, tcp_rto_max_ms */
	m->early_retrans = 3;            /* sysctl_tcp_early_retrans */
	m->retries2 = 15;                /* TCP_RETR2 */
	m->packets_out = 1;
	m->syn_retries = 6;              /* TCP_SYN_RETRIES */
	m->syn_linear_timeouts = -1;
	m->ka_idle_s = 7200;             /* TCP_KEEPALIVE_TIME */
	m->ka_intvl_s = 75;              /* TCP_KEEPALIVE_INTVL */
	m->ka_cnt = 9;                   /* TCP_KEEPALIVE_PROBES */
	*ret = m;
	return 0;
}

void tf_model_free(tf_model *m)
{
	free(m);
}

int tf_model_set_hz(tf_model *m, unsigned hz)
{
	if (!m)
		return -EINVAL;
	if (hz < 100 || hz > 1000)
		return -ERANGE;
	m->hz = hz;
	return 0;
}

int tf_model_set_rtt(tf_model *m, uint32_t srtt_us, uint32_t rttvar_us)
{
	if (!m)
		return -EINVAL;
	/* srtt 0 is "no RTT sample" (tp->srtt_us is never 0 after one,
	 * tcp_rtt_estimator()): a variance without a sample is nonsense. */
	if (srtt_us == 0 && rttvar_us != 0)
		return -EINVAL;
	if (srtt_us > TCP_RTO_MAX_MS * 1000u || rttvar_us > TCP_RTO_MAX_MS * 1000u)
		return -ERANGE;
	m->srtt_us = srtt_us;
	m->rttvar_us = rttvar_us;
	return 0;
}

int tf_model_set_rto_min_us(tf_model *m, uint32_t us)
{
	if (!m)
		return -EINVAL;
	/* sysctl tcp_rto_min_us: extra1 = SYSCTL_ONE; no RTO can usefully
	 * exceed TCP_RTO_MAX, so that is our ceiling. */
	if (us < 1 || us > TCP_RTO_MAX_MS * 1000u)
		return -ERANGE;
	m->rto_min_us = us;
	return 0;
}

int tf_model_set_rto_max_ms(tf_model *m, uint32_t ms)
{
	if (!m)
		return -EINVAL;
	/* do_tcp_setsockopt(TCP_RTO_MAX_MS) and sysctl tcp_rto_max_ms
	 * accept [TCP_RTO_MAX_MIN_SEC, TCP_RTO_MAX_SEC] seconds. */
	if (ms < TCP_RTO_MAX_MIN_MS || ms > TCP_RTO_MAX_MS)
		return -ERANGE;
	m->rto_max_ms = ms;
	return 0;
}

int tf_model_set_rto_max_in_budget(tf_model *m, bool yes)
{
	if (!m)
		return -EINVAL;
	m->rto_max_in_budget = yes;
	return 0;
}

int tf_model_set_early_retrans(tf_model *m, int v)
{
	if (!m)
		return -EINVAL;
	if (v < 0 || v > 4) /* sysctl tcp_early_retrans: 0..4 */
		return -ERANGE;
	m->early_retrans = v;
	return 0;
}

int tf_model_set_retries2(tf_model *m, unsigned n)
{
	if (!m)
		return -EINVAL;
	if (n > MAX_RETRIES2)
		return -ERANGE;
	m->retries2 = n;
	return 0;
}

int tf_model_set_user_timeout_ms(tf_model *m, uint32_t ms)
{
	if (!m)
		return -EINVAL;
	if (ms > INT_MAX) /* do_tcp_setsockopt(TCP_USER_TIMEOUT): val < 0 is -EINVAL */
		return -ERANGE;
	m->user_timeout_ms = ms;
	return 0;
}

int tf_model_set_packets_out(tf_model *m, unsigned n)
{
	if (!m)
		return -EINVAL;
	if (n < 1) /* nothing in flight: nothing is ever retransmitted */
		return -ERANGE;
	m->packets_out = n;
	return 0;
}

int tf_model_set_syn_retries(tf_model *m, unsigned n)
{
	if (!m)
		return -EINVAL;
	if (n < 1 || n > MAX_TCP_SYNCNT) /* tcp_syn_retries_min/max, TCP_SYNCNT */
		return -ERANGE;
	m->syn_retries = n;
	return 0;
}

int tf_model_set_syn_linear_timeouts(tf_model *m, int n)
{
	if (!m)
		return -EINVAL;
	if (n < -1 || n > (int)MAX_TCP_SYNCNT) /* tcp_syn_linear_timeouts_max */
		return -ERANGE;
	m->syn_linear_timeouts = n;
	return 0;
}

int tf_model_set_keepalive(tf_model *m, uint32_t idle_s, uint32_t intvl_s, unsigned cnt)
{
	if (!m)
		return -EINVAL;
	/* do_tcp_setsockopt(TCP_KEEPIDLE/KEEPINTVL/KEEPCNT) ranges. */
	if (idle_s < 1 || idle_s > MAX_TCP_KEEPIDLE ||
	    intvl_s < 1 || intvl_s > MAX_TCP_KEEPINTVL ||
	    cnt < 1 || cnt > MAX_TCP_KEEPCNT)
		return -ERANGE;
	m->ka_idle_s = idle_s;
	m->ka_intvl_s = intvl_s;
	m->ka_cnt = cnt;
	return 0;
}

int tf_model_set_neigh_failed(tf_model *m, bool yes)
{
	if (!m)
		return -EINVAL;
	m->neigh_failed = yes;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Derived values.                                                     */

static uint64_t rto_max_j(const tf_model *m)
{
	/* icsk_rto_max = msecs_to_jiffies(TCP_RTO_MAX_MS / tcp_rto_max_ms),
	 * read by tcp_rto_max(sk) (6.15+). */
	return msecs_to_jiffies(m->hz, m->rto_max_ms);
}

/* rto_max used by tcp_model_timeout(): per socket since 6.15, else the
 * compiled-in TCP_RTO_MAX. */
static uint64_t budget_rto_max_j(const tf_model *m)
{
	return m->rto_max_in_budget ? rto_max_j(m) : tcp_rto_max_j(m->hz);
}

/* tcp_rto_min_us(sk) = jiffies_to_usecs(tcp_rto_min(sk)): the floor is
 * kept in jiffies (icsk_rto_min = usecs_to_jiffies(tcp_rto_min_us) in
 * tcp_init_sock(); route rto_min via dst_metric_rtt()), so it is
 * rounded up to a whole jiffy. */
static uint64_t rto_min_eff_us(const tf_model *m)
{
	return jiffies_to_usecs(m->hz, usecs_to_jiffies(m->hz, m->rto_min_us));
}

unsigned tf_model_rto_jiffies(const tf_model *m)
{
	uint64_t rttvar, rto;

	if (!m)
		return 0;
	/* No RTT sample: icsk_rto keeps TCP_TIMEOUT_INIT from
	 * tcp_init_sock() (tcp_init_metrics()'s 3 s fallback after a
	 * retransmitted SYN is not modelled). */
	if (m->srtt_us == 0)
		return (unsigned)tcp_timeout_init_j(m->hz);
	/* __tcp_set_rto(): usecs_to_jiffies((srtt_us >> 3) + rttvar_us).
	 * tcp_rtt_estimator() keeps rttvar_us >= mdev_max_us, which is reset
	 * to tcp_rto_min_us() every RTT, and mdev_us = 4 x the mean
	 * deviation that TCP_INFO reports as tcpi_rttvar (= mdev_us >> 2).
	 * Choice: steady state, rttvar_us = max(4 x rttvar, rto_min). */
	rttvar = 4ULL * m->rttvar_us;
	if (rttvar < rto_min_eff_us(m))
		rttvar = rto_min_eff_us(m);
	/* Out of steady state (jitter) the caller replays the estimator:
	 * tf_model_rttvar_replay() gives tp->rttvar_us itself. */
	if (m->rttvar_kernel_us)
		rttvar = m->rttvar_kernel_us;
	rto = usecs_to_jiffies(m->hz, m->srtt_us + rttvar);
	/* tcp_bound_rto(): min(icsk_rto, tcp_rto_max(sk)). */
	if (rto > rto_max_j(m))
		rto = rto_max_j(m);
	return (unsigned)rto;
}

/* tcp_rtt_estimator(), net/ipv4/tcp_input.c (identical in 6.1, 6.12 and
 * 6.18), for the part that decides tp->rttvar_us:
 *	first sample:	mdev_us = 2 m;  rttvar_us = mdev_max_us = max(mdev_us, rto_min)
 *	later samples:	if (mdev_us > mdev_max_us) {
 *				mdev_max_us = mdev_us;
 *				rttvar_us = max(rttvar_us, mdev_max_us);
 *			}
 *			if (after(snd_una, rtt_seq)) {		(one RTT has passed)
 *				if (mdev_max_us < rttvar_us)
 *					rttvar_us -= (rttvar_us - mdev_max_us) >> 2;
 *				mdev_max_us = tcp_rto_min_us(sk);
 *			}
 * With one sample per round trip every sample after the first ends an
 * RTT, so the decay runs at each of them, against max(rto_min, that
 * sample's mdev_us) (against max(first rttvar_us, mdev_us) at the second
 * sample: the first one does not reset mdev_max_us). */
int tf_model_rttvar_replay(uint32_t rto_min_us, const uint32_t *mdev_us, size_t n,
			   uint32_t *rttvar_us)
{
	uint32_t rttvar, mdev_max;

	if (!mdev_us || !rttvar_us || n == 0)
		return -EINVAL;
	/* The first sample leaves mdev_max_us = rttvar_us (no reset yet). */
	rttvar = mdev_max = mdev_us[0] > rto_min_us ? mdev_us[0] : rto_min_us;
	for (size_t i = 1; i < n; i++) {
		if (mdev_us[i] > mdev_max) {
			mdev_max = mdev_us[i];
			if (mdev_max > rttvar)
				rttvar = mdev_max;
		}
		if (mdev_max < rttvar)
			rttvar -= (rttvar - mdev_max) >> 2;
		mdev_max = rto_min_us;
	}
	*rttvar_us = rttvar;
	return 0;
}

int tf_model_set_rttvar_us(tf_model *m, uint32_t rttvar_us)
{
	if (!m)
		return -EINVAL;
	if (rttvar_us > TCP_RTO_MAX_MS * 1000u)
		return -ERANGE;
	m->rttvar_kernel_us = rttvar_us;
	return 0;
}

/* ------------------------------------------------------------------ */
/* sch_netem random loss, net/sched/sch_netem.c.
 *
 * loss_event(), CLG_RANDOM: drop when q->loss >= get_crandom(), where
 * without correlation get_crandom() is a fresh uniform u32: 6.1 calls
 * get_random_u32() (the kernel's CSPRNG, no seed), 6.8+ prandom_u32_state()
 * of a per-qdisc PRNG seeded by TCA_NETEM_PRNG_SEED or, without it, from
 * get_random_u64().  libnl has no seed attribute, so the draws are not
 * reproducible: cases bound counts statistically.  q->loss comes from the
 * "percent" as fault.c / tc encode it, percent / 100 * UINT32_MAX; a
 * u32 r is <= loss for loss + 1 of the 2^32 values. */
double tf_model_netem_loss_prob(double percent)
{
	uint32_t loss;

	if (!(percent > 0.0))
		return 0.0;	/* "q->loss && ...": 0 never drops */
	loss = percent >= 100.0 ? UINT32_MAX : (uint32_t)(percent / 100.0 * (double)UINT32_MAX);
	return ((double)loss + 1.0) / 4294967296.0;
}

/* log P(X = k) for X ~ Binomial(n, p), 0 < p < 1. */
static double binom_logpmf(unsigned n, unsigned k, double p)
{
	return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) +
	       (double)k * log(p) + (double)(n - k) * log1p(-p);
}

int tf_model_binomial_band(unsigned n, double p, double tail, unsigned *lo, unsigned *hi)
{
	double acc;
	unsigned k;

	if (!lo || !hi || !(p >= 0.0 && p <= 1.0) || !(tail > 0.0 && tail < 0.5))
		return -EINVAL;
	if (p == 0.0 || p == 1.0 || n == 0) {
		*lo = *hi = p == 1.0 ? n : 0;
		return 0;
	}
	/* lo: the largest k with P(X < k) <= tail. */
	acc = 0.0;
	for (k = 0; k <= n; k++) {
		double pk = exp(binom_logpmf(n, k, p));

		if (acc + pk > tail)
			break;
		acc += pk;
	}
	*lo = k;
	/* hi: the smallest k with P(X > k) <= tail. */
	acc = 0.0;
	for (k = n; k > 0; k--) {
		double pk = exp(binom_logpmf(n, k, p));

		if (acc + pk > tail)
			break;
		acc += pk;
	}
	*hi = k;
	return 0;
}

/* ------------------------------------------------------------------ */
/* sch_tbf, net/sched/sch_tbf.c.
 *
 * tbf_dequeue(): toks = min(now - t_c, buffer) + tokens, capped at buffer
 * (the bucket, q->buffer = the time `burst` bytes take at the rate); a
 * packet of len = qdisc_pkt_len() leaves when toks >= psched_l2t_ns(len),
 * else the watchdog is armed for the deficit, -toks ns ahead.  So from a
 * full bucket, the bytes that leave in any interval dt are at most
 * burst + rate * dt, and a queue that never empties reaches that. */
int tf_model_tbf_time_us(uint64_t rate_Bps, uint64_t burst, uint64_t bytes, uint64_t *us)
{
	if (!us || rate_Bps == 0)
		return -EINVAL;
	*us = bytes <= burst ? 0 : ((bytes - burst) * USEC_PER_SEC + rate_Bps - 1) / rate_Bps;
	return 0;
}

static unsigned ilog2_u64(uint64_t v)
{
	unsigned r = 0;

	while (v >>= 1)
		r++;
	return r;
}

/* tcp_model_timeout(), net/ipv4/tcp_timer.c, in any unit (jiffies there):
 *	thresh = ilog2(rto_max / rto_base);
 *	boundary <= thresh ? ((2 << boundary) - 1) * rto_base
 *	                   : ((2 << thresh) - 1) * rto_base
 *	                     + (boundary - thresh) * rto_max
 * Returns 0 for inputs the kernel never has (base 0, max < base). */
static uint64_t model_timeout(unsigned boundary, uint64_t base, uint64_t max)
{
	unsigned thresh;

	if (base == 0 || max < base)
		return 0;
	thresh = ilog2_u64(max / base);
	if (boundary <= thresh)
		return ((2ULL << boundary) - 1) * base;
	return ((2ULL << thresh) - 1) * base + (uint64_t)(boundary - thresh) * max;
}

uint64_t tf_model_timeout_ms(unsigned boundary, uint32_t rto_base_ms, uint32_t rto_max_ms)
{
	return model_timeout(boundary, rto_base_ms, rto_max_ms);
}

int tf_model_hypothetical_step(unsigned attempt, uint32_t rto_base_ms, uint32_t rto_max_ms,
			       uint64_t *start_ms, uint64_t *timeout_ms)
{
	unsigned thresh;

	if (!start_ms || !timeout_ms || rto_base_ms == 0 || rto_max_ms < rto_base_ms)
		return -EINVAL;
	thresh = ilog2_u64(rto_max_ms / rto_base_ms);
	/* Attempt i waits rto_base << i until the doubling passes
	 * linear_backoff_thresh, then rto_max; it starts when the previous
	 * attempts are done, i.e. at tcp_model_timeout(i - 1). */
	*start_ms = attempt ? model_timeout(attempt - 1, rto_base_ms, rto_max_ms) : 0;
	*timeout_ms = attempt <= thresh ? (uint64_t)rto_base_ms << attempt : rto_max_ms;
	return 0;
}

/* The time tcp_write_timeout() allows since retrans_stamp, in ms:
 * retransmits_timed_out(sk, retry_until, icsk_user_timeout) uses the user
 * timeout when set, else tcp_model_timeout(retry_until, rto_base). */
static uint64_t write_budget_ms(const tf_model *m, unsigned boundary, uint64_t rto_base_j)
{
	if (m->user_timeout_ms)
		return m->user_timeout_ms;
	return jiffies_to_msecs(m->hz, model_timeout(boundary, rto_base_j, budget_rto_max_j(m)));
}

int tf_model_retries2_budget_ms(const tf_model *m, uint64_t *ms)
{
	if (!m || !ms)
		return -EINVAL;
	/* Established sockets: rto_base is TCP_RTO_MIN, not the socket's RTO
	 * (retransmits_timed_out()). */
	*ms = write_budget_ms(m, m->retries2, tcp_rto_min_j(m->hz));
	return 0;
}

/* tcp_clamp_rto_to_user_timeout(), net/ipv4/tcp_timer.c: with
 * TCP_USER_TIMEOUT the next RTO timer never runs past it
 *	remaining = user_timeout - (now - retrans_stamp)	[ms]
 *	remaining <= 0 ? 1 : min(icsk_rto, msecs_to_jiffies(remaining))
 * `elapsed_ms` is the expected (midpoint) elapsed time. */
static uint64_t clamp_to_user_timeout(const tf_model *m, uint64_t rto, uint64_t elapsed_ms,
				      bool *clamped)
{
	uint64_t rem_j;

	*clamped = false;
	if (!m->user_timeout_ms)
		return rto;
	if (elapsed_ms >= m->user_timeout_ms) {
		*clamped = true;
		return 1;
	}
	rem_j = msecs_to_jiffies(m->hz, m->user_timeout_ms - elapsed_ms);
	if (rem_j < rto) {
		*clamped = true;
		return rem_j;
	}
	return rto;
}

/* tcp_write_err(): sk_err = sk_err_soft ?: ETIMEDOUT.  With ARP failing,
 * arp_error_report() sends the host an ICMP host unreachable and
 * tcp_v4_err() stores EHOSTUNREACH in sk_err_soft (net/ipv4/tcp_ipv4.c). */
static int giveup_errno(const tf_model *m)
{
	return m->neigh_failed ? EHOSTUNREACH : ETIMEDOUT;
}

/* ------------------------------------------------------------------ */
/* Established connection, silent peer.
 *
 * 1. write(): tcp_event_new_data_sent() -> tcp_rearm_rto() arms icsk_rto,
 *    then tcp_schedule_loss_probe() replaces it with the loss probe timer
 *    when tcp_early_retrans is 3 or 4 (SACK assumed negotiated):
 *	PTO = usecs_to_jiffies(2 srtt + (packets_out == 1 ? tcp_rto_min_us
 *	                                              : TCP_TIMEOUT_MIN_US))
 *	    (TCP_TIMEOUT_INIT without an RTT sample),
 *	PTO = min(PTO, time left to the RTO = icsk_rto).
 * 2. tcp_send_loss_probe() sends the probe with __tcp_retransmit_skb()
 *    (which does NOT set retrans_stamp), clears icsk_pending and calls
 *    tcp_rearm_rto(): a full icsk_rto from the probe, not backed off.
 * 3. tcp_retransmit_timer(): tcp_write_timeout() first — it cannot give
 *    up while icsk_retransmits == 0 (retransmits_timed_out()) — then
 *    tcp_retransmit_skb(), which sets retrans_stamp on the first RTO
 *    retransmission, then icsk_rto = min(icsk_rto << 1, tcp_rto_max(sk))
 *    and the timer is re-armed, cut by tcp_clamp_rto_to_user_timeout().
 * 4. Give-up: at the first RTO expiry where now - retrans_stamp >=
 *    tcp_model_timeout(retries2, TCP_RTO_MIN) (or >= TCP_USER_TIMEOUT);
 *    nothing is sent then, tcp_write_err() raises the error.
 *    retransmits_timed_out() compares in ms, (s32)(tcp_time_stamp(tp) -
 *    retrans_stamp - timeout) >= 0, the same in 6.1.192 and 6.12.117 (and
 *    6.18) for a connection without tcp_usec_ts; only 6.7+ connections
 *    with the tcp_usec_ts route feature take the µs branch, which adds
 *    jiffies_to_usecs(1) to the elapsed time (not modelled: nothing here
 *    enables that feature).  retrans_stamp is tcp_skb_timestamp() of the
 *    first RTO retransmission in both (tcp_retransmit_skb()).
 * Checked on 6.18 (veth, HZ=250): with retries2 5 every gap fell in its
 * band; with TCP_USER_TIMEOUT 3000 ms the error came one jiffy after 3 s
 * from the first RTO retransmission, 0.2 s later than 3 s from the probe:
 * the budget is counted from the first RTO retransmission.
 * Not modelled: thin-stream linear timeouts (tcp_thin_linear_timeouts),
 * orphaned sockets (tcp_orphan_retries()), zero windows (probe0). */

static const char R_ORIGINAL[] = "write(): tcp_rearm_rto() arms icsk_rto";
static const char R_TLP[] = "tcp_schedule_loss_probe(): PTO = 2*srtt + rto_min, capped at the RTO";
static const char R_TLP_MULTI[] = "tcp_schedule_loss_probe(): PTO = 2*srtt + TCP_TIMEOUT_MIN_US (>1 pkt out), capped at the RTO";
static const char R_TLP_NOSAMPLE[] = "tcp_schedule_loss_probe(): no RTT sample, PTO = TCP_TIMEOUT_INIT";
static const char R_RTO_AFTER_TLP[] = "tcp_send_loss_probe() -> tcp_rearm_rto(): icsk_rto from the probe, not backed off";
static const char R_RTO_FIRST[] = "tcp_rearm_rto(): icsk_rto from the original";
static const char R_RTO_BACKOFF[] = "tcp_retransmit_timer(): icsk_rto = min(icsk_rto << 1, rto_max)";
static const char R_RTO_CLAMP[] = "tcp_clamp_rto_to_user_timeout(): timer cut to TCP_USER_TIMEOUT";
static const char R_GIVEUP_R2[] = "tcp_write_timeout(): now - retrans_stamp >= tcp_model_timeout(retries2, TCP_RTO_MIN)";
static const char R_GIVEUP_R2_EDGE[] = "tcp_write_timeout(): now - retrans_stamp >= tcp_model_timeout(retries2, TCP_RTO_MIN) (borderline: band straddles the budget)";
static const char R_GIVEUP_UT[] = "tcp_write_timeout(): now - retrans_stamp >= TCP_USER_TIMEOUT";

int tf_model_retrans(const tf_model *m, tf_schedule **ret)
{
	struct builder b;
	uint64_t rto, d, d_lo = 0, d_hi = 0, budget_us, rs_lo = 0, rs_hi = 0, rmax;
	unsigned retransmits = 0;
	bool from_tick = false, clamped = false, was_edge = false;
	const char *rule = R_RTO_FIRST;
	int r;

	if (!m || !ret)
		return -EINVAL;
	*ret = NULL;
	r = sched_begin(&b, m, TF_TX_ORIGINAL, R_ORIGINAL, giveup_errno(m));
	if (r < 0)
		return r;

	rto = d = tf_model_rto_jiffies(m);
	rmax = rto_max_j(m);
	budget_us = write_budget_ms(m, m->retries2, tcp_rto_min_j(m->hz)) * 1000;

	if (m->early_retrans == 3 || m->early_retrans == 4) {
		uint64_t pto = tcp_timeout_init_j(m->hz);
		const char *pr = R_TLP_NOSAMPLE;

		if (m->srtt_us) {
			uint64_t us = 2ULL * m->srtt_us;

			us += m->packets_out == 1 ? rto_min_eff_us(m) : TCP_TIMEOUT_MIN_US;
			pto = usecs_to_jiffies(m->hz, us);
			pr = m->packets_out == 1 ? R_TLP : R_TLP_MULTI;
		}
		if (pto > rto)
			pto = rto;
		r = push(&b, TF_TX_TLP, pto, timer_band(m->hz, pto, false), pr);
		from_tick = true;
		rule = R_RTO_AFTER_TLP;
	}

	while (r >= 0) {
		struct band gap = timer_band(m->hz, d, from_tick);

		/* A clamped timer depends on the real elapsed time, which the
		 * previous gaps' bands leave open: span both ends. */
		if (clamped) {
			gap.lo = timer_band(m->hz, d_lo, from_tick).lo;
			gap.hi = timer_band(m->hz, d_hi, from_tick).hi;
		}
		if (retransmits >= 1) {
			struct elapsed e = elapsed_since(&b, gap, rs_lo, rs_hi);
			bool edge = e.lo_us < budget_us && budget_us <= e.hi_us;

			if (e.mid_us >= budget_us) {
				r = push(&b, TF_TX_GIVEUP, d, gap, m->user_timeout_ms ? R_GIVEUP_UT
					 : (edge || was_edge) ? R_GIVEUP_R2_EDGE : R_GIVEUP_R2);
				break;
			}
			/* The band reaches the budget but the midpoint does
			 * not: the kernel may give up here already. */
			was_edge = e.hi_us >= budget_us;
		}
		r = push(&b, TF_TX_RTO, d, gap, clamped ? R_RTO_CLAMP : rule);
		if (++retransmits == 1) {
			rs_lo = b.at_lo;
			rs_hi = b.at_hi;
		}
		rto = rto * 2 < rmax ? rto * 2 : rmax;
		d = clamp_to_user_timeout(m, rto,
					  (mid_us(m->hz, b.at_lo, b.at_hi) -
					   mid_us(m->hz, rs_lo, rs_hi)) / 1000, &clamped);
		if (clamped) {
			/* elapsed = sum of the gaps since retrans_stamp, in
			 * [at_lo - rs_lo, at_hi - rs_hi]; the kernel counts it in
			 * whole ms (tcp_time_stamp_ts()), so allow 1 ms more
			 * either way.  Less elapsed leaves more to wait. */
			uint64_t el_lo = jiffies_to_usecs(m->hz, b.at_lo - rs_lo) / 1000;
			uint64_t el_hi = jiffies_to_usecs(m->hz, b.at_hi - rs_hi) / 1000 + 1;
			bool c;

			d_hi = clamp_to_user_timeout(m, rto, el_lo ? el_lo - 1 : 0, &c);
			d_lo = clamp_to_user_timeout(m, rto, el_hi, &c);
		}
		from_tick = true;
		rule = R_RTO_BACKOFF;
	}
	return sched_end(&b, r, ret);
}

/* ------------------------------------------------------------------ */
/* connect() to a silently dropping peer (SYN_SENT).
 *
 * tcp_connect() sets retrans_stamp at the SYN and arms icsk_rto =
 * tcp_timeout_init() = TCP_TIMEOUT_INIT (1 s; a BPF program may change
 * it, not modelled).  Each expiry runs tcp_write_timeout():
 *	max_retransmits = syn_retries [+ tcp_syn_linear_timeouts in SYN_SENT]
 *	expired = icsk_retransmits >= max_retransmits
 *	       || retransmits_timed_out(sk, syn_retries, user_timeout)
 * where the time budget is tcp_model_timeout(syn_retries, TCP_TIMEOUT_INIT)
 * counted from the SYN (6.x; older kernels had only the count).  Then
 * tcp_update_rto_stats() increments icsk_retransmits and total_rto, the
 * SYN is resent, and tcp_retransmit_timer() backs off only when
 * total_rto > tcp_syn_linear_timeouts (6.5+):
 *	icsk_rto = min(icsk_rto << 1, tcp_rto_max(sk)).
 * With the default 4 the retransmissions are at 1,2,3,4,5,7,11,19,35,67 s
 * and the error at 131 s; without the rule 1,3,7,15,31,63 and 127 s.
 * Checked on 6.18: TCP_SYNCNT 2 with 4 linear timeouts sends five SYN
 * retransmissions, not six: the time budget (7 s) ends it before the
 * count does. */

static const char R_SYN[] = "tcp_connect(): retrans_stamp = now, icsk_rto = TCP_TIMEOUT_INIT";
static const char R_SYN_LINEAR[] = "tcp_retransmit_timer(): total_rto <= tcp_syn_linear_timeouts, icsk_rto kept";
static const char R_SYN_BACKOFF[] = "tcp_retransmit_timer(): icsk_rto = min(icsk_rto << 1, rto_max)";
static const char R_SYN_FIRST[] = "tcp_connect(): icsk_rto = TCP_TIMEOUT_INIT";
static const char R_SYN_GIVEUP_N[] = "tcp_write_timeout(): icsk_retransmits >= syn_retries + linear timeouts";
static const char R_SYN_GIVEUP_T[] = "tcp_write_timeout(): now - retrans_stamp >= tcp_model_timeout(syn_retries, TCP_TIMEOUT_INIT)";
static const char R_SYN_GIVEUP_UT[] = "tcp_write_timeout(): now - retrans_stamp >= TCP_USER_TIMEOUT";

int tf_model_syn(const tf_model *m, tf_schedule **ret)
{
	struct builder b;
	uint64_t rto, d, budget_us, rmax;
	unsigned retransmits = 0, total_rto = 0, max_retx;
	bool clamped = false, from_tick = false;
	const char *rule = R_SYN_FIRST;
	int r;

	if (!m || !ret)
		return -EINVAL;
	*ret = NULL;
	/* With ARP failing, the first ICMP host unreachable ends a SYN_SENT
	 * socket at once (tcp_v4_err() -> tcp_done_with_error()), after the
	 * neighbour subsystem's resolution time, which is not modelled. */
	if (m->neigh_failed)
		return -EOPNOTSUPP;
	r = sched_begin(&b, m, TF_TX_SYN, R_SYN, ETIMEDOUT);
	if (r < 0)
		return r;

	rto = d = tcp_timeout_init_j(m->hz);
	rmax = rto_max_j(m);
	max_retx = m->syn_retries + (m->syn_linear_timeouts > 0 ? (unsigned)m->syn_linear_timeouts : 0);
	budget_us = write_budget_ms(m, m->syn_retries, tcp_timeout_init_j(m->hz)) * 1000;

	while (r >= 0) {
		struct band gap = timer_band(m->hz, d, from_tick);
		const char *gr = NULL;

		if (retransmits >= max_retx)
			gr = R_SYN_GIVEUP_N;
		else if (retransmits >= 1 && elapsed_since(&b, gap, 0, 0).mid_us >= budget_us)
			gr = m->user_timeout_ms ? R_SYN_GIVEUP_UT : R_SYN_GIVEUP_T;
		if (gr) {
			r = push(&b, TF_TX_GIVEUP, d, gap, gr);
			break;
		}
		r = push(&b, TF_TX_SYN_RTO, d, gap, clamped ? R_RTO_CLAMP : rule);
		retransmits++;
		total_rto++;
		if (m->syn_linear_timeouts < 0 || total_rto > (unsigned)m->syn_linear_timeouts) {
			rto = rto * 2 < rmax ? rto * 2 : rmax;
			rule = R_SYN_BACKOFF;
		} else {
			rule = R_SYN_LINEAR;
		}
		/* retrans_stamp is the SYN, event 0. */
		d = clamp_to_user_timeout(m, rto, mid_us(m->hz, b.at_lo, b.at_hi) / 1000, &clamped);
		from_tick = true;
	}
	return sched_end(&b, r, ret);
}

/* ------------------------------------------------------------------ */
/* Idle connection with SO_KEEPALIVE, silent peer.
 *
 * Event 0 is the last segment exchanged (keepalive_time_elapsed() counts
 * from the last receive); the keepalive timer is armed then for
 * keepalive_time_when() (tcp_set_keepalive(), tcp_finish_connect()), from
 * process/softirq context.  Each expiry of tcp_keepalive_timer():
 *	with TCP_USER_TIMEOUT: give up when elapsed >= user timeout and
 *	    icsk_probes_out > 0 (the probe count no longer matters);
 *	without: give up when icsk_probes_out >= keepalive_probes();
 * giving up sends a RST (tcp_send_active_reset()) and calls
 * tcp_write_err().  Otherwise tcp_write_wakeup() sends a probe,
 * icsk_probes_out++, and the timer is re-armed for keepalive_intvl_when().
 * Defaults: 7200 + 9 x 75 = 7875 s.  The first timer (7200 s = 1.8 M
 * jiffies at HZ=250) sits at wheel level 5: up to 131 s late. */

static const char R_KA_LAST[] = "last segment; tcp_set_keepalive(): timer = keepalive_time_when()";
static const char R_KA_FIRST[] = "tcp_keepalive_timer(): idle >= keepalive_time, probe";
static const char R_KA_NEXT[] = "tcp_keepalive_timer(): keepalive_intvl_when(), probe";
static const char R_KA_GIVEUP[] = "tcp_keepalive_timer(): probes_out >= keepalive_probes: RST + tcp_write_err()";
static const char R_KA_GIVEUP_UT[] = "tcp_keepalive_timer(): idle >= TCP_USER_TIMEOUT, probes_out > 0: RST + tcp_write_err()";

int tf_model_keepalive(const tf_model *m, tf_schedule **ret)
{
	struct builder b;
	uint64_t d, ut_us = 0;
	unsigned probes = 0;
	bool from_tick = false;
	const char *rule = R_KA_FIRST;
	int r;

	if (!m || !ret)
		return -EINVAL;
	*ret = NULL;
	/* Probes are not in the retransmit queue, so the ICMP of a failed
	 * ARP only sets sk_err_soft (no tcp_ld_RTO_revert()): times are the
	 * same, the errno becomes EHOSTUNREACH. */
	r = sched_begin(&b, m, TF_TX_ORIGINAL, R_KA_LAST, giveup_errno(m));
	if (r < 0)
		return r;
	if (m->user_timeout_ms)
		ut_us = jiffies_to_usecs(m->hz, msecs_to_jiffies(m->hz, m->user_timeout_ms));

	d = (uint64_t)m->ka_idle_s * m->hz;
	while (r >= 0) {
		struct band gap = timer_band(m->hz, d, from_tick);
		bool giveup;

		if (m->user_timeout_ms)
			giveup = probes > 0 && elapsed_since(&b, gap, 0, 0).mid_us >= ut_us;
		else
			giveup = probes >= m->ka_cnt;
		if (giveup) {
			r = push(&b, TF_TX_GIVEUP, d, gap,
				 m->user_timeout_ms ? R_KA_GIVEUP_UT : R_KA_GIVEUP);
			break;
		}
		r = push(&b, TF_TX_KEEPALIVE, d, gap, rule);
		probes++;
		d = (uint64_t)m->ka_intvl_s * m->hz;
		from_tick = true;
		rule = R_KA_NEXT;
	}
	return sched_end(&b, r, ret);
}

/* ------------------------------------------------------------------ */
/* Schedule accessors.                                                 */

const char *tf_tx_kind_name(tf_tx_kind k)
{
	switch (k) {
	case TF_TX_ORIGINAL:  return "original";
	case TF_TX_TLP:       return "tlp";
	case TF_TX_RTO:       return "rto";
	case TF_TX_SYN:       return "syn";
	case TF_TX_SYN_RTO:   return "syn-rto";
	case TF_TX_KEEPALIVE: return "keepalive";
	case TF_TX_GIVEUP:    return "giveup";
	}
	return "?";
}

size_t tf_schedule_count(const tf_schedule *s)
{
	return s ? s->n : 0;
}

const tf_sched_event *tf_schedule_event(const tf_schedule *s, size_t i)
{
	if (!s || i >= s->n)
		return NULL;
	return &s->ev[i];
}

int tf_schedule_errno(const tf_schedule *s)
{
	return s ? s->err : 0;
}

size_t tf_schedule_giveup(const tf_schedule *s)
{
	return s && s->n ? s->n - 1 : 0;
}

void tf_schedule_free(tf_schedule *s)
{
	if (!s)
		return;
	free(s->ev);
	free(s);
}
