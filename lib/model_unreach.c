/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_unreach.c — the peer's link is down and the router says so
 * (see the model_unreach.c section of tf_model.h).
 *
 * Sources read: Linux 6.18.19 net/core/neighbour.c (__neigh_event_send(),
 * neigh_timer_handler(), neigh_max_probes(), neigh_invalidate()),
 * net/ipv4/arp.c (arp_tbl, arp_error_report()), net/ipv4/route.c
 * (ipv4_link_failure()), net/ipv4/icmp.c (icmpv4_xrlim_allow(),
 * icmp_global_allow(), icmp_sk_init()), net/ipv4/inetpeer.c
 * (inet_peer_xrlim_allow(), inet_getpeer()), net/ipv4/tcp_ipv4.c
 * (tcp_v4_err(), tcp_ld_RTO_revert()), net/ipv4/tcp_timer.c
 * (tcp_retransmit_timer(), tcp_write_timeout(), retransmits_timed_out(),
 * tcp_write_err()), include/net/inet_connection_sock.h
 * (inet_csk_rto_backoff()), kernel/time/timer.c (calc_index(),
 * calc_wheel_index()).  A run on 6.18 (client — router — server, server's
 * link down, tcp_retries2 5) only confirmed the rules; no number here comes
 * from it.
 *
 * The rules, once:
 *
 * Router.  __neigh_event_send() on an entry in NUD_NONE or NUD_FAILED
 * (the carrier loss flushed it, neigh_carrier_down(); a failed resolution
 * leaves it FAILED) sets probes = ucast_solicit, NUD_INCOMPLETE, sends a
 * solicitation at once (immediate_ok, neigh_probe(): probes + 1) and arms
 * the timer for max(retrans_time, HZ/100); the packet is queued.  Packets
 * that find it INCOMPLETE are queued too, the oldest dropped past
 * unres_qlen_bytes (the newest is always queued).  neigh_timer_handler():
 * probes >= neigh_max_probes() = ucast + app + mcast -> NUD_FAILED, else
 * another solicitation and the timer again.  So the k-th expiry fails it
 * when ucast + k >= ucast + app + mcast: after app + mcast expiries; with
 * app + mcast = 0 every packet is dropped at once, without an ICMP.
 * neigh_invalidate() hands each queued skb, oldest first, to
 * arp_error_report() -> dst_link_failure() -> ipv4_link_failure() ->
 * __icmp_send(ICMP_DEST_UNREACH, ICMP_HOST_UNREACH), all in that timer
 * callback.  ICMP_DEST_UNREACH is in icmp_ratemask (0x1818), so each is
 * subject to inet_peer_xrlim_allow(peer, icmp_ratelimit): a token bucket
 * in jiffies per destination, refilled by the jiffies since the last call,
 * capped at XRLIM_BURST_FACTOR (6) x icmp_ratelimit, one icmp_ratelimit
 * per ICMP; a new peer starts full (rate_last = jiffies - 60 HZ).  The
 * global limit (icmp_msgs_per_sec 1000, burst 50) is not modelled: it only
 * bites past ~50 ICMPs in a second.  Delivery to the sender: at once.
 *
 * Sender.  tcp_v4_err(): an ICMP host (or net) unreachable for an
 * established socket stores EHOSTUNREACH in sk_err_soft (no IP_RECVERR)
 * and calls tcp_ld_RTO_revert(sk, seq): if seq == snd_una,
 * icsk_retransmits and icsk_backoff are non-zero, icsk_backoff--,
 * icsk_rto = inet_csk_rto_backoff() = min(__tcp_set_rto() << backoff,
 * rto_max) and remaining = icsk_rto - usecs_to_jiffies(now - the head
 * skb's last transmission); remaining > 0 re-arms the retransmission timer
 * for it, else tcp_retransmit_timer() runs now: tcp_write_timeout() (the
 * retries2 budget from retrans_stamp), the retransmission, icsk_backoff++
 * and icsk_rto doubled (min rto_max), timer re-armed.  Every ICMP of a
 * burst quotes the same segment (snd_una), so a burst of n undoes up to n
 * backoff steps.  Give-up: tcp_write_err() raises sk_err_soft ?: ETIMEDOUT.
 * Differences from 6.x sources older than 6.18: none in these functions
 * that changes a number (6.18 keeps the retransmit timer in struct sock,
 * sk->tcp_retransmit_timer, a timer_list like before).
 *
 * The three models.  (a) and (b) are open loops on measured inputs with
 * lib/model.c's conservative bands (timer_band(): the wheel's rounding for
 * an unknown alignment).  (c) simulates both hosts on the absolute jiffy
 * grid, where level >= 1 timers fire on multiples of their granularity: a
 * resolution armed at a failure tick F fails at exactly F + 768 jiffies,
 * which decides the races (a burst against the sender's next expiry) that
 * the conservative bands leave open.  It runs every phase of t0 on the
 * wheel and every order of same-tick events (POL_*).  On a busy machine a
 * callback runs one tick late now and then (seen on 6.18: the timer fires
 * right after the next tick); the next aligned timer then absorbs it and
 * its gap is shorter than on the grid, so (c)'s gap bands are widened to
 * the mechanism's conservative band (fold()); the decisions have margins
 * of several ticks.
 *
 * Until model.c exposes getters (asked for), the sender's parameters (HZ,
 * PTO, rto_max) are read back from tf_model_retrans()'s plain schedule:
 * see tcp_from_model().
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define USEC_PER_SEC 1000000ULL
#define MSEC_PER_SEC 1000ULL

#define MAX_EVENTS         100000u  /* as model.c's TF_MODEL_MAX_EVENTS */
#define MAX_VARIANTS       16
#define MAX_SIM_STEPS      10000000u
#define XRLIM_BURST_FACTOR 6        /* net/ipv4/inetpeer.c */
#define ICMP_DEST_UNREACH_TYPE 3
/* (b): an ICMP is handled after its capture stamp, and the burst back to
 * back; this bounds how late, for the elapsed time tcp_ld_RTO_revert()
 * measures (only its jiffy rounding matters). */
#define HANDLING_US 200

/*
 * The layout of struct tf_schedule in lib/model.c, whose accessors and
 * tf_schedule_free() read what this file builds.  Compatible by C11
 * 6.2.7 as long as it is identical: keep in sync (lib/tests/test_unreach.c
 * checks the round trip); a private header shared with model.c is asked for.
 */

/* ------------------------------------------------------------------ */
/* Jiffies, as lib/model.c (include/linux/jiffies.h): exact for HZ
 * dividing 1000. */

static uint64_t msecs_to_jiffies(unsigned hz, uint64_t ms)
{
	return (ms * hz + MSEC_PER_SEC - 1) / MSEC_PER_SEC;
}

static uint64_t usecs_to_jiffies(unsigned hz, uint64_t us)
{
	return (us * hz + USEC_PER_SEC - 1) / USEC_PER_SEC;
}

static int64_t j2us(unsigned hz, int64_t j)
{
	return j >= 0 ? (int64_t)((uint64_t)j * USEC_PER_SEC / hz)
	              : -(int64_t)((uint64_t)-j * USEC_PER_SEC / hz);
}

/* ------------------------------------------------------------------ */
/* Timer wheel, kernel/time/timer.c.  calc_wheel_index() picks the level
 * from delta = expires - base->clk (tf_model_wheel_gran() gives its
 * granularity, 8^level) and calc_index() fires the timer at
 *	bucket_expiry = (expires / gran + 1) * gran
 * on the absolute jiffy grid.  A timer armed at jiffy J for d jiffies has
 * expires = J + d; from a timer callback, or from a softirq that runs
 * after that tick's timers, base->clk = J + 1 (delta d - 1); from process
 * context at a random point of jiffy J, delta d.
 *
 * wheel_fire() is that rule exactly (closed loop, (c)).  timer_band() is
 * tf_model_timer_band() in jiffies: the band relative to the arming
 * instant when J's alignment is unknown, [d+1, d+gran] from a tick,
 * (d, d+gran] from anywhere in a jiffy ((a), (b), and (c)'s gaps). */

static uint64_t wheel_gran(unsigned hz, uint64_t d, bool from_tick)
{
	return tf_model_wheel_gran(hz, from_tick && d > 1 ? d - 1 : d);
}

static int64_t wheel_fire(unsigned hz, int64_t j, uint64_t d, bool from_tick)
{
	int64_t gran;

	if (d == 0) /* expires == jiffies: the next tick */
		return j + 1;
	gran = (int64_t)wheel_gran(hz, d, from_tick);
	return ((j + (int64_t)d) / gran + 1) * gran;
}

struct band {
	uint64_t lo, hi; /* jiffies */
};

static struct band timer_band(unsigned hz, uint64_t d, bool from_tick)
{
	struct band b;

	if (d == 0)
		d = 1;
	b.lo = from_tick ? d + 1 : d;
	b.hi = d + wheel_gran(hz, d, from_tick);
	return b;
}

/* ------------------------------------------------------------------ */
/* The sender's parameters.                                            */

struct tcp_p {
	unsigned hz;
	uint64_t rto;        /* __tcp_set_rto() (TCP_TIMEOUT_INIT without a sample), jiffies */
	uint64_t pto;        /* loss probe timer, 0: no TLP (tcp_early_retrans) */
	uint64_t rmax;       /* rto_max in jiffies, 0: not reached by the plain schedule ... */
	uint64_t rmax_floor; /* ... which armed timers up to this uncapped */
	uint64_t budget_us;  /* tcp_write_timeout()'s budget from retrans_stamp */
};

/*
 * Read back from tf_model_retrans()'s schedule of a silent peer (model.c):
 * event 1 is the TLP (timer = PTO) or the first RTO (timer = icsk_rto),
 * armed from process context, so its band starts at exactly
 * jiffies_to_usecs(timer) and gives HZ; the RTO timers double up to
 * rto_max (two equal ones show the cap).  Anything else — a timer that
 * neither doubles nor repeats — is TCP_USER_TIMEOUT's clamp
 * (tcp_clamp_rto_to_user_timeout()), not modelled with ICMPs.
 */
static int tcp_from_model(const tf_model *m, struct tcp_p *tp)
{
	tf_schedule *s = NULL;
	const tf_sched_event *e1;
	uint64_t prev = 0, cand = 0, hz, ms;
	size_t i;
	int r;

	memset(tp, 0, sizeof(*tp));
	r = tf_model_retrans(m, &s);
	if (r < 0)
		return r;
	r = -EOPNOTSUPP;
	e1 = tf_schedule_event(s, 1);
	if (!e1 || e1->kind == TF_TX_GIVEUP || e1->timer_jiffies == 0 || e1->gap_lo_us <= 0)
		goto out;
	hz = ((uint64_t)e1->timer_jiffies * USEC_PER_SEC + (uint64_t)e1->gap_lo_us / 2) /
	     (uint64_t)e1->gap_lo_us;
	if (hz < 100 || hz > 1000)
		goto out;
	tp->hz = (unsigned)hz;
	tp->rto = tf_model_rto_jiffies(m);
	tp->pto = e1->kind == TF_TX_TLP ? e1->timer_jiffies : 0;
	for (i = tp->pto ? 2 : 1; i < tf_schedule_count(s); i++) {
		uint64_t d = tf_schedule_event(s, i)->timer_jiffies;

		if (!prev) {
			if (d != tp->rto)
				goto out;           /* first RTO clamped */
		} else if (tp->rmax) {
			if (d != tp->rmax)
				goto out;
		} else if (d == prev) {
			tp->rmax = d;               /* capped: tcp_rto_max(sk) */
		} else if (cand || d > 2 * prev || d < prev) {
			goto out;
		} else if (d < 2 * prev) {
			cand = d;                   /* capped, or clamped */
		}
		if (cand && d == cand && prev == cand)
			tp->rmax = cand;
		if (d > tp->rmax_floor)
			tp->rmax_floor = d;
		prev = d;
	}
	if (cand && !tp->rmax)
		goto out;
	r = tf_model_retries2_budget_ms(m, &ms);
	if (r < 0)
		goto out;
	tp->budget_us = ms * 1000;
	r = 0;
out:
	tf_schedule_free(s);
	return r;
}

/* inet_csk_rto_backoff(): min(icsk_rto << backoff, rto_max). */
static int rto_backoff(const struct tcp_p *tp, unsigned backoff, uint64_t *ret)
{
	uint64_t v = backoff >= 40 ? UINT64_MAX : tp->rto << backoff;

	if (tp->rmax) {
		*ret = v < tp->rmax ? v : tp->rmax;
		return 0;
	}
	if (v > tp->rmax_floor)
		return -EOPNOTSUPP; /* rto_max unknown past the plain schedule */
	*ret = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Schedules.                                                          */

static int sched_new(tf_schedule **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

static int sched_push(tf_schedule *s, tf_tx_kind kind, uint64_t timer_j, int64_t gap_lo,
		      int64_t gap_hi, int64_t at_lo, int64_t at_hi, const char *rule)
{
	tf_sched_event *e;

	if (s->n >= MAX_EVENTS)
		return -E2BIG;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		tf_sched_event *ev = realloc(s->ev, cap * sizeof(*ev));

		if (!ev)
			return -ENOMEM;
		s->ev = ev;
		s->cap = cap;
	}
	e = &s->ev[s->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->timer_jiffies = timer_j > UINT_MAX ? UINT_MAX : (unsigned)timer_j;
	e->gap_lo_us = gap_lo;
	e->gap_hi_us = gap_hi;
	e->gap_us = (gap_lo + gap_hi) / 2;
	e->at_lo_us = at_lo;
	e->at_hi_us = at_hi;
	e->at_us = (at_lo + at_hi) / 2;
	e->rule = rule;
	return 0;
}

static const char R_ORIGINAL[] = "write(): tcp_rearm_rto() arms icsk_rto";
static const char R_TLP[] = "tcp_schedule_loss_probe(): PTO as tf_model_retrans()";
static const char R_RTO_AFTER_TLP[] = "tcp_send_loss_probe() -> tcp_rearm_rto(): icsk_rto from the probe, not backed off";
static const char R_RTO_FIRST[] = "tcp_rearm_rto(): icsk_rto from the original";
static const char R_RTO_BACKOFF[] = "tcp_retransmit_timer(): icsk_backoff++, icsk_rto = min(icsk_rto << 1, rto_max)";
static const char R_REVERT_NOW[] = "ICMP host unreachable: tcp_ld_RTO_revert(): backoff--, (rto << backoff) - elapsed <= 0: tcp_retransmit_timer() now";
static const char R_REVERT_NOW_EDGE[] = "ICMP host unreachable: tcp_ld_RTO_revert(): backoff--, (rto << backoff) - elapsed <= 0: tcp_retransmit_timer() now (borderline: could re-arm instead)";
static const char R_REVERT_TIMER[] = "ICMP host unreachable: tcp_ld_RTO_revert(): backoff--, timer = (rto << backoff) - elapsed since the last transmission";
static const char R_REVERT_TIMER_EDGE[] = "ICMP host unreachable: tcp_ld_RTO_revert(): backoff--, timer = (rto << backoff) - elapsed (borderline: could retransmit at once)";
static const char R_ORDER_EDGE[] = "tcp_retransmit_timer() (borderline: an ICMP arrived inside this band, the order may differ)";
static const char R_GIVEUP_ICMP[] = "tcp_write_timeout(): now - retrans_stamp >= tcp_model_timeout(retries2, TCP_RTO_MIN); tcp_write_err(): sk_err_soft (EHOSTUNREACH)";
static const char R_GIVEUP_ICMP_EDGE[] = "tcp_write_timeout(): now - retrans_stamp >= budget (borderline: band straddles the budget); tcp_write_err(): sk_err_soft (EHOSTUNREACH)";
static const char R_GIVEUP_REVERT[] = "tcp_ld_RTO_revert() -> tcp_retransmit_timer() -> tcp_write_timeout(): budget spent; tcp_write_err(): sk_err_soft (EHOSTUNREACH)";
static const char R_GIVEUP_SILENT[] = "tcp_write_timeout(): now - retrans_stamp >= tcp_model_timeout(retries2, TCP_RTO_MIN); tcp_write_err(): ETIMEDOUT (no ICMP)";
static const char R_NEIGH[] = "__neigh_event_send(): NUD_INCOMPLETE, queue; neigh_timer_handler() every max(retrans_time, HZ/100) until probes >= ucast+app+mcast; neigh_invalidate() -> arp_error_report() -> ipv4_link_failure(): ICMP host unreachable per queued skb, inet_peer_xrlim_allow()";
static const char R_NEIGH_EDGE[] = "neigh_timer_handler() -> NUD_FAILED -> ICMP host unreachable per queued skb, inet_peer_xrlim_allow() (borderline: a packet arrived inside this band)";

/* ------------------------------------------------------------------ */
/* The router's parameters.                                            */

void tf_neigh_params_init(tf_neigh_params *p)
{
	if (!p)
		return;
	memset(p, 0, sizeof(*p));
	p->hz = 250;
	p->retrans_time_ms = 1000;     /* arp_tbl: NEIGH_VAR_RETRANS_TIME = 1 * HZ */
	p->ucast_solicit = 3;          /* NEIGH_VAR_UCAST_PROBES */
	p->mcast_solicit = 3;          /* NEIGH_VAR_MCAST_PROBES */
	p->app_solicit = 0;            /* NEIGH_VAR_APP_PROBES (not set: 0) */
	p->unres_qlen = 101;           /* SK_WMEM_DEFAULT / SKB_TRUESIZE(ETH_FRAME_LEN), ip-sysctl */
	p->icmp_ratelimit_ms = 1000;   /* icmp_sk_init(): sysctl_icmp_ratelimit = 1 * HZ */
	p->icmp_ratemask = 0x1818;     /* icmp_sk_init(): sysctl_icmp_ratemask */
}

struct neigh_k {
	unsigned hz;
	uint64_t d;          /* max(retrans_time, HZ/100), jiffies */
	uint64_t n_timers;   /* app + mcast */
	size_t   qlen;       /* packets held, >= 1 */
	int64_t  rl;         /* icmp_ratelimit in jiffies; 0: every ICMP passes */
	int64_t  cap;        /* XRLIM_BURST_FACTOR * rl */
	int64_t  start;      /* a new peer's first call: min(cap, 60 HZ) */
};

static int neigh_derive(const tf_neigh_params *p, struct neigh_k *k)
{
	if (!p)
		return -EINVAL;
	/* The kernel's ranges: neigh sysctls are ints >= 0
	 * (neigh_proc_dointvec_zero_intmax, ..._ms_jiffies). */
	if (p->hz < 100 || p->hz > 1000 || p->retrans_time_ms > INT_MAX ||
	    p->ucast_solicit > INT_MAX || p->mcast_solicit > INT_MAX ||
	    p->app_solicit > INT_MAX || p->unres_qlen > INT_MAX ||
	    p->icmp_ratelimit_ms > INT_MAX)
		return -ERANGE;
	k->hz = p->hz;
	/* retrans_time_ms is stored as msecs_to_jiffies() (proc_dointvec_ms_jiffies) */
	k->d = msecs_to_jiffies(p->hz, p->retrans_time_ms);
	if (k->d < p->hz / 100)
		k->d = p->hz / 100;
	if (k->d == 0)
		k->d = 1;
	k->n_timers = (uint64_t)p->app_solicit + p->mcast_solicit;
	/* __neigh_event_send() queues the new skb after dropping the oldest
	 * past the byte limit: at least one is always held. */
	k->qlen = p->unres_qlen ? p->unres_qlen : 1;
	/* icmpv4_mask_allow(): types outside icmp_ratemask are never limited. */
	if (!(p->icmp_ratemask & (1u << ICMP_DEST_UNREACH_TYPE)))
		k->rl = 0;
	else
		k->rl = (int64_t)msecs_to_jiffies(p->hz, p->icmp_ratelimit_ms);
	k->cap = XRLIM_BURST_FACTOR * k->rl;
	/* inet_getpeer(): rate_tokens = 0, rate_last = jiffies - 60 HZ. */
	k->start = 60LL * p->hz < k->cap ? 60LL * p->hz : k->cap;
	return 0;
}

static int check_times(const int64_t *t, size_t n)
{
	if (n && !t)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (t[i] < 0 || (i && t[i] < t[i - 1]))
			return -EINVAL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* (a) The router, open loop.                                          */

/* A set of possible token counts, as disjoint sorted intervals. */
struct tokset {
	int64_t (*iv)[2];
	size_t n, cap;
};

static int tokset_add(struct tokset *s, int64_t lo, int64_t hi)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		int64_t (*iv)[2] = realloc(s->iv, cap * sizeof(*iv));

		if (!iv)
			return -ENOMEM;
		s->iv = iv;
		s->cap = cap;
	}
	s->iv[s->n][0] = lo;
	s->iv[s->n][1] = hi;
	s->n++;
	return 0;
}

static int cmp_iv(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static void tokset_merge(struct tokset *s)
{
	size_t w = 0;

	if (!s->n)
		return;
	qsort(s->iv, s->n, sizeof(*s->iv), cmp_iv);
	for (size_t i = 1; i < s->n; i++) {
		if (s->iv[i][0] <= s->iv[w][1] + 1) {
			if (s->iv[i][1] > s->iv[w][1])
				s->iv[w][1] = s->iv[i][1];
		} else {
			w++;
			s->iv[w][0] = s->iv[i][0];
			s->iv[w][1] = s->iv[i][1];
		}
	}
	s->n = w + 1;
}

/*
 * One burst of nq ICMPs `delta` jiffies after the previous one (any delta
 * in [dlo, dhi]) through inet_peer_xrlim_allow(): the first ICMP adds the
 * jiffies since rate_last (capped), the others come in the same jiffy;
 * each passes while tokens >= rl and takes rl.  So from tokens tb,
 * min(nq, tb / rl) pass and tb - passed x rl remain.  Every possible
 * count goes into [*lo, *hi]; *s becomes the possible remainders.
 */
static int tokset_burst(struct tokset *s, const struct neigh_k *k, int64_t dlo, int64_t dhi,
			int64_t nq, unsigned *lo, unsigned *hi)
{
	struct tokset out = { 0 };
	int r = 0;

	*lo = UINT_MAX;
	*hi = 0;
	for (size_t i = 0; i < s->n && r >= 0; i++) {
		int64_t x = s->iv[i][0] + dlo, y = s->iv[i][1] + dhi;

		if (x > k->cap)
			x = k->cap;
		if (y > k->cap)
			y = k->cap;
		while (x <= y && r >= 0) {
			int64_t q = x / k->rl, end = (q + 1) * k->rl - 1;
			int64_t pass = q < nq ? q : nq;

			if (end > y)
				end = y;
			if ((unsigned)pass < *lo)
				*lo = (unsigned)pass;
			if ((unsigned)pass > *hi)
				*hi = (unsigned)pass;
			r = tokset_add(&out, x - pass * k->rl, end - pass * k->rl);
			x = end + 1;
		}
	}
	free(s->iv);
	*s = out;
	tokset_merge(s);
	return r;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int tf_model_neigh_failures(const tf_neigh_params *p, const int64_t *arrive_us, size_t n,
			    tf_neigh_burst **ret, size_t *n_ret)
{
	struct neigh_k k;
	struct band first, next;
	struct tokset toks = { 0 };
	tf_neigh_burst *out = NULL;
	int64_t lo_j, hi_j, jus, tok_mid = 0, prev_lo = 0, prev_hi = 0, prev_mid = 0;
	size_t nb = 0, i = 0;
	int r;

	if (!ret || !n_ret)
		return -EINVAL;
	*ret = NULL;
	*n_ret = 0;
	r = neigh_derive(p, &k);
	if (r < 0)
		return r;
	r = check_times(arrive_us, n);
	if (r < 0)
		return r;
	if (k.n_timers == 0 || n == 0)
		return 0;   /* __neigh_event_send(): NUD_FAILED at once, kfree_skb() */
	if (k.n_timers > MAX_EVENTS)
		return -E2BIG;

	/* The failure, relative to the packet that starts the resolution:
	 * the first timer armed from its softirq, anywhere in a jiffy, the
	 * others from neigh_timer_handler(). */
	first = timer_band(k.hz, k.d, false);
	next = timer_band(k.hz, k.d, true);
	lo_j = (int64_t)(first.lo + (k.n_timers - 1) * next.lo);
	hi_j = (int64_t)(first.hi + (k.n_timers - 1) * next.hi);
	jus = j2us(k.hz, 1);
	out = calloc(n, sizeof(*out));  /* at most one resolution per packet */
	if (!out)
		return -ENOMEM;
	if (k.rl) {
		r = tokset_add(&toks, k.start, k.start);
		tok_mid = k.start;
		if (r < 0)
			goto fail;
	}

	while (i < n) {
		tf_neigh_burst *b = &out[nb];
		int64_t a = arrive_us[i];
		size_t j = i + 1;

		b->first = i;
		b->n_timers = (unsigned)k.n_timers;
		b->timer_jiffies = (unsigned)k.d;
		b->at_lo_us = a + j2us(k.hz, lo_j);
		b->at_hi_us = a + j2us(k.hz, hi_j);
		b->at_us = (b->at_lo_us + b->at_hi_us) / 2;
		/* Held: what arrives before it can fail.  A packet inside the
		 * band is taken to come after the failure: the retransmission
		 * that the burst's first ICMP provokes (tcp_ld_RTO_revert())
		 * always arrives there, right after it. */
		while (j < n && arrive_us[j] < b->at_lo_us)
			j++;
		b->last = j - 1;
		b->n_queued = j - i < k.qlen ? j - i : k.qlen;
		b->borderline = j < n && arrive_us[j] <= b->at_hi_us;
		b->rule = b->borderline ? R_NEIGH_EDGE : R_NEIGH;
		if (!k.rl) {
			b->n_icmp = b->n_icmp_lo = b->n_icmp_hi = (unsigned)b->n_queued;
		} else {
			/* Jiffies since the previous burst: the arrivals' gap
			 * (either whole-jiffy rounding) plus the difference of
			 * two failure delays. */
			int64_t dlo = 0, dhi = 0, dmid = 0, pass;

			if (nb) {
				dlo = floor_div(b->at_lo_us - prev_hi, jus);
				dhi = -floor_div(-(b->at_hi_us - prev_lo), jus);
				dmid = (b->at_us - prev_mid + jus / 2) / jus;
				if (dlo < 0)
					dlo = 0;
			}
			r = tokset_burst(&toks, &k, dlo, dhi, (int64_t)b->n_queued, &b->n_icmp_lo,
			                 &b->n_icmp_hi);
			if (r < 0)
				goto fail;
			tok_mid += dmid;
			if (tok_mid > k.cap)
				tok_mid = k.cap;
			pass = tok_mid / k.rl < (int64_t)b->n_queued ? tok_mid / k.rl
			                                             : (int64_t)b->n_queued;
			tok_mid -= pass * k.rl;
			b->n_icmp = (unsigned)pass;
		}
		prev_lo = b->at_lo_us;
		prev_hi = b->at_hi_us;
		prev_mid = b->at_us;
		nb++;
		i = j;
	}
	free(toks.iv);
	*ret = out;
	*n_ret = nb;
	return 0;
fail:
	free(toks.iv);
	free(out);
	return r;
}

/* ------------------------------------------------------------------ */
/* (b) The sender, open loop: measured ICMPs in.                       */

struct tb {
	int64_t lo, hi; /* µs from t0 */
};

/* causes[i] of the event just pushed (when the caller wants causes). */
static int cause_set(tf_icmp_cause **c, size_t *cap, const tf_schedule *s, int icmp, bool imm,
		     int64_t lo, int64_t hi)
{
	if (!c)
		return 0;
	if (s->n > *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		tf_icmp_cause *cc = realloc(*c, nc * sizeof(*cc));

		if (!cc)
			return -ENOMEM;
		*c = cc;
		*cap = nc;
	}
	(*c)[s->n - 1] = (tf_icmp_cause){ .icmp = icmp, .immediate = imm, .after_us = (lo + hi) / 2,
	                                  .after_lo_us = lo, .after_hi_us = hi };
	return 0;
}

int tf_model_retrans_icmp_causes(const tf_model *m, const int64_t *icmp_us, size_t n_icmp,
				 tf_schedule **ret, tf_icmp_cause **causes)
{
	struct tcp_p tp;
	tf_schedule *s = NULL;
	tf_icmp_cause *c = NULL, **cp = causes ? &c : NULL;
	size_t c_cap = 0, next = 0;
	/* the retransmission timer: armed at `anchor` (an ICMP's time, or
	 * the previous event's band) for d_lo..d_hi jiffies */
	struct tb anchor = { 0, 0 }, last = { 0, 0 }, prev = { 0, 0 }, rs = { 0, 0 };
	uint64_t d_lo, d_hi;
	struct band rv = { 0, 0 };  /* a revert timer's gap from the last transmission */
	int anchor_icmp = -1;
	bool from_tick = false, tlp, soft = false, order_edge = false;
	unsigned backoff = 0, retransmits = 0;
	const char *rule;
	int r;

	if (!ret || !m)
		return -EINVAL;
	*ret = NULL;
	if (causes)
		*causes = NULL;
	r = check_times(icmp_us, n_icmp);
	if (r < 0)
		return r;
	r = tcp_from_model(m, &tp);
	if (r < 0)
		return r;
	r = sched_new(&s);
	if (r < 0)
		return r;


	r = sched_push(s, TF_TX_ORIGINAL, 0, 0, 0, 0, 0, R_ORIGINAL);
	if (r < 0)
		goto out;
	if ((r = cause_set(cp, &c_cap, s, -1, false, 0, 0)) < 0)
		goto out;
	tlp = tp.pto != 0;
	d_lo = d_hi = tlp ? tp.pto : tp.rto;
	rule = tlp ? R_TLP : R_RTO_FIRST;

	for (;;) {
		struct band blo = timer_band(tp.hz, d_lo, from_tick);
		struct band bhi = timer_band(tp.hz, d_hi, from_tick);
		struct tb f = { anchor.lo + j2us(tp.hz, (int64_t)blo.lo),
		                anchor.hi + j2us(tp.hz, (int64_t)bhi.hi) };
		int64_t fmid = (f.lo + f.hi) / 2;
		int64_t glo, ghi;  /* gap from the previous event */
		int64_t alo, ahi;  /* from the ICMP that armed it */

		if (anchor_icmp < 0) {
			glo = j2us(tp.hz, (int64_t)blo.lo);
			ghi = j2us(tp.hz, (int64_t)bhi.hi);
		} else {
			glo = f.lo - prev.hi;
			ghi = f.hi - prev.lo;
			/* re-armed by tcp_ld_RTO_revert(): (I - P) + rem + wheel
			 * with rem = rto - ceil((I - P) / jiffy): [rto, rto + gran]
			 * from the last transmission P, whatever P's band */
			if (rv.hi && j2us(tp.hz, (int64_t)rv.lo) > glo)
				glo = j2us(tp.hz, (int64_t)rv.lo);
			if (rv.hi && j2us(tp.hz, (int64_t)rv.hi) < ghi)
				ghi = j2us(tp.hz, (int64_t)rv.hi);
		}

		if (next < n_icmp && icmp_us[next] < fmid) {
			/* tcp_v4_err() -> tcp_ld_RTO_revert() */
			int64_t I = icmp_us[next], e_lo, e_hi, rem_lo, rem_hi;
			uint64_t rto_cur, jl, jh;

			if (I >= f.lo)
				order_edge = true;
			soft = true;        /* sk_err_soft = EHOSTUNREACH */
			if (!retransmits || !backoff) {
				next++;
				continue;
			}
			backoff--;
			r = rto_backoff(&tp, backoff, &rto_cur);
			if (r < 0)
				goto out;
			/* delta_us = now - the head skb's last transmission,
			 * usecs_to_jiffies() rounds up; > 0 (handled after it) */
			e_lo = I - last.hi;
			e_hi = I - last.lo + HANDLING_US;
			jl = usecs_to_jiffies(tp.hz, (uint64_t)(e_lo > 1 ? e_lo : 1));
			jh = usecs_to_jiffies(tp.hz, (uint64_t)(e_hi > 1 ? e_hi : 1));
			rem_lo = (int64_t)rto_cur - (int64_t)jh;
			rem_hi = (int64_t)rto_cur - (int64_t)jl;
			if (rem_hi > 0 && rem_lo + rem_hi > 0) {
				d_lo = rem_lo > 0 ? (uint64_t)rem_lo : 1;
				d_hi = (uint64_t)rem_hi;
				rv.lo = rto_cur;
				rv.hi = rto_cur + timer_band(tp.hz, d_hi, true).hi - d_hi;
				anchor = (struct tb){ I, I };
				anchor_icmp = (int)next;
				from_tick = true; /* handled after the router's tick */
				rule = rem_lo > 0 ? R_REVERT_TIMER : R_REVERT_TIMER_EDGE;
				next++;
				continue;
			}
			/* tcp_retransmit_timer() now: tcp_write_timeout() first */
			if ((I - (rs.lo + rs.hi) / 2) >= (int64_t)tp.budget_us) {
				r = sched_push(s, TF_TX_GIVEUP, 0, I - prev.hi, I - prev.lo, I, I,
				               R_GIVEUP_REVERT);
				if (r < 0)
					goto out;
				if ((r = cause_set(cp, &c_cap, s, (int)next, true, 0, 0)) < 0)
					goto out;
				break;
			}
			r = sched_push(s, TF_TX_RTO, 0, I - prev.hi, I - prev.lo, I, I,
			               rem_hi > 0 ? R_REVERT_NOW_EDGE : R_REVERT_NOW);
			if (r < 0)
				goto out;
			if ((r = cause_set(cp, &c_cap, s, (int)next, true, 0, 0)) < 0)
				goto out;
			prev = last = (struct tb){ I, I };
			retransmits++;
			backoff++;
			r = rto_backoff(&tp, backoff, &d_lo);
			if (r < 0)
				goto out;
			d_hi = d_lo;
			rv = (struct band){ 0, 0 };
			anchor = (struct tb){ I, I };
			anchor_icmp = (int)next;
			from_tick = true;
			rule = R_RTO_BACKOFF;
			order_edge = false;
			next++;
			continue;
		}

		/* The timer fires. */
		alo = f.lo - anchor.lo;
		ahi = f.hi - anchor.hi;
		if (next < n_icmp && icmp_us[next] <= f.hi)
			order_edge = true;
		if (tlp) {
			r = sched_push(s, TF_TX_TLP, d_hi, glo, ghi, f.lo, f.hi,
			               order_edge ? R_ORDER_EDGE : rule);
			if (r < 0)
				goto out;
			if ((r = cause_set(cp, &c_cap, s, anchor_icmp, false, alo, ahi)) < 0)
				goto out;
			tlp = false;
			d_lo = d_hi = tp.rto;
			rule = R_RTO_AFTER_TLP;
		} else {
			if (retransmits) {
				int64_t el_lo = f.lo - rs.hi, el_hi = f.hi - rs.lo;
				int64_t el_mid = fmid - (rs.lo + rs.hi) / 2;
				bool edge = el_lo < (int64_t)tp.budget_us &&
				            (int64_t)tp.budget_us <= el_hi;

				if (el_mid >= (int64_t)tp.budget_us) {
					r = sched_push(s, TF_TX_GIVEUP, d_hi, glo, ghi, f.lo, f.hi,
					               !soft ? R_GIVEUP_SILENT
					               : edge ? R_GIVEUP_ICMP_EDGE : R_GIVEUP_ICMP);
					if (r < 0)
						goto out;
					if ((r = cause_set(cp, &c_cap, s, anchor_icmp, false, alo, ahi)) < 0)
						goto out;
					break;
				}
			}
			r = sched_push(s, TF_TX_RTO, d_hi, glo, ghi, f.lo, f.hi,
			               order_edge ? R_ORDER_EDGE : rule);
			if (r < 0)
				goto out;
			if ((r = cause_set(cp, &c_cap, s, anchor_icmp, false, alo, ahi)) < 0)
				goto out;
			if (!retransmits++)
				rs = f;     /* tcp_retransmit_skb(): retrans_stamp */
			backoff++;
			r = rto_backoff(&tp, backoff, &d_lo);
			if (r < 0)
				goto out;
			d_hi = d_lo;
			rule = R_RTO_BACKOFF;
		}
		prev = last = anchor = f;
		anchor_icmp = -1;
		rv = (struct band){ 0, 0 };
		from_tick = true;
		order_edge = false;
	}
	s->err = soft ? EHOSTUNREACH : ETIMEDOUT;
	r = 0;
out:
	if (r < 0) {
		tf_schedule_free(s);
		free(c);
		return r;
	}
	*ret = s;
	if (causes)
		*causes = c;
	return 0;
}

int tf_model_retrans_icmp(const tf_model *m, const int64_t *icmp_us, size_t n_icmp,
			  tf_schedule **ret)
{
	return tf_model_retrans_icmp_causes(m, icmp_us, n_icmp, ret, NULL);
}

/* ------------------------------------------------------------------ */
/* (c) The closed loop on the jiffy grid.                              */

enum {
	POL_CLIENT_FIRST = 1, /* same tick: the sender's timer and its packet before the router's */
	POL_LATE_ICMP = 2,    /* the ICMP is handled later in its jiffy than the last
	                       * transmission in its own: usecs_to_jiffies() gives one more */
	POL_TIE_EXPIRED = 4,  /* elapsed within 1 ms of the budget: the ms time stamps
	                       * (tcp_time_stamp_ts()) say expired */
	POL_N = 8,
};

struct sim_ev {
	tf_tx_kind kind;
	bool immediate;
	int burst;           /* the burst whose ICMP sent it, -1 */
	int64_t tick;
	uint64_t timer_j;
	const char *rule;
	uint64_t blo, bhi;   /* gap band whatever the alignment (jiffies); 0, 0: none */
};

struct sim_burst {
	int64_t tick;
	size_t first, last, n_queued;
	unsigned n_icmp;
};

struct sim {
	const struct tcp_p *tp;
	const struct neigh_k *nk;
	unsigned pol;
	/* out */
	struct sim_ev *ev;
	size_t n_ev, cap_ev;
	struct sim_burst *b;
	size_t n_b, cap_b;
	int err;
	/* sender */
	int64_t c_timer;     /* tick it fires, -1 */
	uint64_t c_timer_j;
	struct band c_band;  /* its gap from the last transmission, any alignment */
	const char *c_rule;
	bool c_tlp, dead, soft;
	unsigned backoff, retransmits;
	int64_t last_tx, rs;
	/* packets on their way to the router */
	size_t *pend;
	size_t n_pend, cap_pend;
	/* router */
	bool incomplete, peer;
	int64_t r_timer;
	uint64_t r_left;
	size_t *q;
	size_t qn, cap_q, r_first;
	int64_t tokens, rate_last;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 32;
	while (nc < need)
		nc *= 2;
	void *np = realloc(*p, nc * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = nc;
	return 0;
}

static int sim_tx(struct sim *s, int64_t k, tf_tx_kind kind, bool imm, int burst, uint64_t timer_j,
		  const char *rule)
{
	struct band b = imm ? (struct band){ 0, 0 } : s->c_band;
	int r;

	if (s->n_ev >= MAX_EVENTS)
		return -E2BIG;
	r = grow((void **)&s->ev, &s->cap_ev, s->n_ev + 1, sizeof(*s->ev));
	if (r < 0)
		return r;
	s->ev[s->n_ev] = (struct sim_ev){ kind, imm, burst, k, timer_j, rule, b.lo, b.hi };
	if (kind != TF_TX_GIVEUP) {
		r = grow((void **)&s->pend, &s->cap_pend, s->n_pend + 1, sizeof(*s->pend));
		if (r < 0)
			return r;
		s->pend[s->n_pend++] = s->n_ev;
		s->last_tx = k;
	}
	s->n_ev++;
	return 0;
}

static void c_arm(struct sim *s, int64_t k, uint64_t d, bool from_tick, const char *rule)
{
	s->c_timer = wheel_fire(s->tp->hz, k, d, from_tick);
	s->c_timer_j = d;
	s->c_rule = rule;
	s->c_band = timer_band(s->tp->hz, d, from_tick);
}

/* retransmits_timed_out(): (s32)(now_ms - retrans_stamp - budget) >= 0 on
 * ms time stamps of instants just after ticks: within 1 ms it depends on
 * where the ticks fall in the ms. */
static bool expired(const struct sim *s, int64_t k)
{
	int64_t el = j2us(s->tp->hz, k - s->rs), b = (int64_t)s->tp->budget_us;

	if (el >= b + 1000)
		return true;
	if (el <= b - 1000)
		return false;
	return s->pol & POL_TIE_EXPIRED;
}

/* tcp_retransmit_timer() at tick k (its timer, or tcp_ld_RTO_revert()). */
static int c_retransmit(struct sim *s, int64_t k, bool imm, int burst, const char *rule)
{
	uint64_t d;
	int r;

	s->c_timer = -1;
	if (s->retransmits && expired(s, k)) {
		s->dead = true;
		s->err = s->soft ? EHOSTUNREACH : ETIMEDOUT;
		return sim_tx(s, k, TF_TX_GIVEUP, imm, burst, imm ? 0 : s->c_timer_j,
		              imm ? R_GIVEUP_REVERT : s->soft ? R_GIVEUP_ICMP : R_GIVEUP_SILENT);
	}
	r = sim_tx(s, k, TF_TX_RTO, imm, burst, imm ? 0 : s->c_timer_j, rule);
	if (r < 0)
		return r;
	if (!s->retransmits++)
		s->rs = k;
	s->backoff++;
	r = rto_backoff(s->tp, s->backoff, &d);
	if (r < 0)
		return r;
	c_arm(s, k, d, true, R_RTO_BACKOFF);
	return 0;
}

static int c_timer_fire(struct sim *s, int64_t k)
{
	if (s->c_tlp) {
		int r = sim_tx(s, k, TF_TX_TLP, false, -1, s->c_timer_j, s->c_rule);

		if (r < 0)
			return r;
		s->c_tlp = false;
		c_arm(s, k, s->tp->rto, true, R_RTO_AFTER_TLP);
		return 0;
	}
	return c_retransmit(s, k, false, -1, s->c_rule);
}

static int c_icmp(struct sim *s, int64_t k, int burst)
{
	uint64_t rto_cur;
	int64_t el, rem;
	int r;

	if (s->dead)
		return 0;   /* tcp_done(): no socket to find any more */
	s->soft = true;
	if (!s->retransmits || !s->backoff)
		return 0;
	s->backoff--;
	r = rto_backoff(s->tp, s->backoff, &rto_cur);
	if (r < 0)
		return r;
	el = k - s->last_tx + (s->pol & POL_LATE_ICMP ? 1 : 0);
	if (el < 1)
		el = 1;     /* handled after the transmission: delta_us > 0 */
	rem = (int64_t)rto_cur - el;
	if (rem > 0) {
		c_arm(s, k, (uint64_t)rem, true, R_REVERT_TIMER);
		/* From the last transmission P: (I - P) + [rem + 1, rem + gran]
		 * with rem = rto - (I - P) - {0, 1}: [rto, rto + gran]. */
		s->c_band.hi = rto_cur + (s->c_band.hi - (uint64_t)rem);
		s->c_band.lo = rto_cur;
		return 0;
	}
	return c_retransmit(s, k, true, burst, R_REVERT_NOW);
}

/* inet_peer_xrlim_allow() at tick k. */
static bool r_xrlim(struct sim *s, int64_t k)
{
	const struct neigh_k *nk = s->nk;

	if (!nk->rl)
		return true;
	if (!s->peer) {
		s->peer = true;
		s->tokens = nk->start;
		s->rate_last = k;
	}
	if (k != s->rate_last) {
		s->tokens += k - s->rate_last;
		s->rate_last = k;
		if (s->tokens > nk->cap)
			s->tokens = nk->cap;
	}
	if (s->tokens >= nk->rl) {
		s->tokens -= nk->rl;
		return true;
	}
	return false;
}

/* The router receives event ev at tick k. */
static int r_rx(struct sim *s, int64_t k, size_t ev, bool from_tick)
{
	int r;

	if (!s->incomplete) {
		if (!s->nk->n_timers)
			return 0;   /* NUD_FAILED at once, dropped without an ICMP */
		s->incomplete = true;
		s->r_left = s->nk->n_timers;
		s->qn = 0;
		s->r_first = ev;
		s->r_timer = wheel_fire(s->nk->hz, k, s->nk->d, from_tick);
	} else if (s->qn >= s->nk->qlen) {
		memmove(s->q, s->q + 1, (s->qn - 1) * sizeof(*s->q));
		s->qn--;
	}
	r = grow((void **)&s->q, &s->cap_q, s->qn + 1, sizeof(*s->q));
	if (r < 0)
		return r;
	s->q[s->qn++] = ev;
	return 0;
}

static int deliver(struct sim *s, int64_t k, bool from_tick)
{
	for (size_t i = 0; i < s->n_pend; i++) {
		int r = r_rx(s, k, s->pend[i], from_tick);

		if (r < 0)
			return r;
	}
	s->n_pend = 0;
	return 0;
}

/* neigh_timer_handler() at tick k: *n_icmp ICMPs for burst *burst. */
static int r_timer_fire(struct sim *s, int64_t k, unsigned *n_icmp, int *burst)
{
	struct sim_burst *b;
	int r;

	*n_icmp = 0;
	s->r_timer = -1;
	if (--s->r_left) {
		s->r_timer = wheel_fire(s->nk->hz, k, s->nk->d, true);
		return 0;
	}
	s->incomplete = false;
	r = grow((void **)&s->b, &s->cap_b, s->n_b + 1, sizeof(*s->b));
	if (r < 0)
		return r;
	b = &s->b[s->n_b];
	*b = (struct sim_burst){ k, s->r_first, s->q[s->qn - 1], s->qn, 0 };
	for (size_t i = 0; i < s->qn; i++)
		if (r_xrlim(s, k))
			b->n_icmp++;
	*n_icmp = b->n_icmp;
	*burst = (int)s->n_b++;
	return 0;
}

static int sim_run(struct sim *s, int64_t p)
{
	unsigned steps = 0;
	int r;

	s->c_timer = s->r_timer = -1;
	/* t0 = p + f, f in [0, 1): write() from process context */
	r = sim_tx(s, p, TF_TX_ORIGINAL, false, -1, 0, R_ORIGINAL);
	if (r < 0)
		return r;
	s->c_tlp = s->tp->pto != 0;
	c_arm(s, p, s->c_tlp ? s->tp->pto : s->tp->rto, false, s->c_tlp ? R_TLP : R_RTO_FIRST);
	r = deliver(s, p, false);
	if (r < 0)
		return r;

	while (++steps < MAX_SIM_STEPS) {
		int64_t kc = s->dead ? -1 : s->c_timer, kr = s->r_timer, k;
		unsigned n_icmp = 0;
		int burst = -1;

		if (kc < 0 && kr < 0)
			return 0;
		k = kc < 0 ? kr : kr < 0 ? kc : kc < kr ? kc : kr;
		if (kc == k && kr == k && (s->pol & POL_CLIENT_FIRST)) {
			if ((r = c_timer_fire(s, k)) < 0 || (r = deliver(s, k, true)) < 0)
				return r;
		}
		if (kr == k && (r = r_timer_fire(s, k, &n_icmp, &burst)) < 0)
			return r;
		for (unsigned i = 0; i < n_icmp; i++)
			if ((r = c_icmp(s, k, burst)) < 0)
				return r;
		/* still due (not re-armed by an ICMP, not already run) */
		if (kc == k && !s->dead && s->c_timer == k && (r = c_timer_fire(s, k)) < 0)
			return r;
		if ((r = deliver(s, k, true)) < 0)
			return r;
	}
	return -E2BIG;
}

/* Variants. */

struct agg_ev {
	tf_tx_kind kind;
	bool immediate;
	int burst;
	uint64_t timer_j;
	const char *rule;
	int64_t at_lo, at_hi, gap_lo, gap_hi;
};

struct agg_b {
	size_t first, last, n_queued;
	unsigned n_icmp;
	int64_t at_lo, at_hi;
};

struct variant {
	unsigned runs;
	int err;
	struct agg_ev *ev;
	size_t n_ev;
	struct agg_b *b;
	size_t n_b;
	tf_schedule *sched;
	tf_neigh_burst *nb;
	unsigned n_timers, timer_j;
};

struct tf_unreach {
	struct variant v[MAX_VARIANTS];
	size_t n_v;
	unsigned total;
};

static bool same_variant(const struct variant *v, const struct sim *s)
{
	if (v->err != s->err || v->n_ev != s->n_ev || v->n_b != s->n_b)
		return false;
	for (size_t i = 0; i < s->n_ev; i++)
		if (v->ev[i].kind != s->ev[i].kind || v->ev[i].immediate != s->ev[i].immediate ||
		    v->ev[i].burst != s->ev[i].burst || v->ev[i].rule != s->ev[i].rule)
			return false;
	for (size_t i = 0; i < s->n_b; i++)
		if (v->b[i].first != s->b[i].first || v->b[i].last != s->b[i].last ||
		    v->b[i].n_queued != s->b[i].n_queued || v->b[i].n_icmp != s->b[i].n_icmp)
			return false;
	return true;
}

static void minmax(int64_t *lo, int64_t *hi, int64_t vlo, int64_t vhi, bool first)
{
	if (first || vlo < *lo)
		*lo = vlo;
	if (first || vhi > *hi)
		*hi = vhi;
}

/* Fold run s (t0 = p + f, f in [0, 1)) into the variants. */
static int fold(tf_unreach *u, const struct sim *s, int64_t p)
{
	unsigned hz = s->tp->hz;
	struct variant *v = NULL;
	bool first = false;

	for (size_t i = 0; i < u->n_v && !v; i++)
		if (same_variant(&u->v[i], s))
			v = &u->v[i];
	if (!v) {
		if (u->n_v >= MAX_VARIANTS)
			return -E2BIG;
		v = &u->v[u->n_v++];
		v->err = s->err;
		v->n_ev = s->n_ev;
		v->n_b = s->n_b;
		v->n_timers = (unsigned)s->nk->n_timers;
		v->timer_j = (unsigned)s->nk->d;
		v->ev = calloc(s->n_ev ? s->n_ev : 1, sizeof(*v->ev));
		v->b = calloc(s->n_b ? s->n_b : 1, sizeof(*v->b));
		if (!v->ev || !v->b)
			return -ENOMEM;
		for (size_t i = 0; i < s->n_ev; i++)
			v->ev[i] = (struct agg_ev){ .kind = s->ev[i].kind,
				.immediate = s->ev[i].immediate, .burst = s->ev[i].burst,
				.timer_j = s->ev[i].timer_j, .rule = s->ev[i].rule };
		for (size_t i = 0; i < s->n_b; i++)
			v->b[i] = (struct agg_b){ s->b[i].first, s->b[i].last, s->b[i].n_queued,
			                          s->b[i].n_icmp, 0, 0 };
		first = true;
	}
	v->runs++;
	u->total++;
	for (size_t i = 0; i < s->n_ev; i++) {
		int64_t k = s->ev[i].tick - p, lo, hi, glo, ghi;

		if (i == 0) {
			lo = hi = glo = ghi = 0;
		} else {
			lo = j2us(hz, k - 1);
			hi = j2us(hz, k);
			if (i == 1) {
				glo = lo;
				ghi = hi;
			} else {
				glo = ghi = j2us(hz, s->ev[i].tick - s->ev[i - 1].tick);
			}
			/* A callback one tick late (the harness's slack) moves the
			 * grid: gaps keep the band of their mechanism. */
			if (s->ev[i].bhi) {
				if (j2us(hz, (int64_t)s->ev[i].blo) < glo)
					glo = j2us(hz, (int64_t)s->ev[i].blo);
				if (j2us(hz, (int64_t)s->ev[i].bhi) > ghi)
					ghi = j2us(hz, (int64_t)s->ev[i].bhi);
			}
		}
		minmax(&v->ev[i].at_lo, &v->ev[i].at_hi, lo, hi, first);
		minmax(&v->ev[i].gap_lo, &v->ev[i].gap_hi, glo, ghi, first);
	}
	for (size_t i = 0; i < s->n_b; i++) {
		int64_t k = s->b[i].tick - p;

		minmax(&v->b[i].at_lo, &v->b[i].at_hi, j2us(hz, k - 1), j2us(hz, k), first);
	}
	return 0;
}

static int cmp_variant(const void *a, const void *b)
{
	const struct variant *x = a, *y = b;

	return x->runs > y->runs ? -1 : x->runs < y->runs;
}

static int finish_variant(struct variant *v)
{
	int r = sched_new(&v->sched);

	if (r < 0)
		return r;
	v->sched->err = v->err;
	for (size_t i = 0; i < v->n_ev && r >= 0; i++) {
		const struct agg_ev *e = &v->ev[i];

		r = sched_push(v->sched, e->kind, e->timer_j, e->gap_lo, e->gap_hi, e->at_lo,
		               e->at_hi, e->rule);
	}
	if (r < 0)
		return r;
	v->nb = calloc(v->n_b ? v->n_b : 1, sizeof(*v->nb));
	if (!v->nb)
		return -ENOMEM;
	for (size_t i = 0; i < v->n_b; i++) {
		const struct agg_b *b = &v->b[i];

		v->nb[i] = (tf_neigh_burst){ .first = b->first, .last = b->last,
			.n_queued = b->n_queued, .n_timers = v->n_timers,
			.timer_jiffies = v->timer_j, .at_lo_us = b->at_lo, .at_hi_us = b->at_hi,
			.at_us = (b->at_lo + b->at_hi) / 2, .n_icmp = b->n_icmp,
			.n_icmp_lo = b->n_icmp, .n_icmp_hi = b->n_icmp, .rule = R_NEIGH };
	}
	return 0;
}

int tf_model_unreach(const tf_model *m, const tf_neigh_params *p, tf_unreach **ret)
{
	struct tcp_p tp;
	struct neigh_k nk;
	struct sim s;
	tf_unreach *u;
	uint64_t maxd;
	int64_t phases;
	int r;

	if (!m || !p || !ret)
		return -EINVAL;
	*ret = NULL;
	r = neigh_derive(p, &nk);
	if (r < 0)
		return r;
	r = tcp_from_model(m, &tp);
	if (r < 0)
		return r;
	if (tp.hz != nk.hz)
		return -EINVAL;
	/* Every phase of t0 that the coarsest timer's level can tell apart. */
	maxd = tp.rmax ? tp.rmax : tp.rmax_floor;
	if (tp.pto > maxd)
		maxd = tp.pto;
	if (nk.d > maxd)
		maxd = nk.d;
	phases = (int64_t)tf_model_wheel_gran(tp.hz, maxd);

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	memset(&s, 0, sizeof(s));
	for (int64_t ph = 0; ph < phases && r >= 0; ph++) {
		for (unsigned pol = 0; pol < POL_N && r >= 0; pol++) {
			struct sim_ev *ev = s.ev;
			struct sim_burst *b = s.b;
			size_t *pend = s.pend, *q = s.q;
			size_t c1 = s.cap_ev, c2 = s.cap_b, c3 = s.cap_pend, c4 = s.cap_q;

			memset(&s, 0, sizeof(s));
			s.ev = ev, s.b = b, s.pend = pend, s.q = q;
			s.cap_ev = c1, s.cap_b = c2, s.cap_pend = c3, s.cap_q = c4;
			s.tp = &tp;
			s.nk = &nk;
			s.pol = pol;
			s.rs = -1;
			/* a base far from 0 keeps every tick positive */
			r = sim_run(&s, (int64_t)1 << 40 | ph);
			if (r >= 0)
				r = fold(u, &s, (int64_t)1 << 40 | ph);
		}
	}
	free(s.ev);
	free(s.b);
	free(s.pend);
	free(s.q);
	if (r >= 0) {
		qsort(u->v, u->n_v, sizeof(u->v[0]), cmp_variant);
		for (size_t i = 0; i < u->n_v && r >= 0; i++)
			r = finish_variant(&u->v[i]);
	}
	if (r < 0) {
		tf_unreach_free(u);
		return r;
	}
	*ret = u;
	return 0;
}

size_t tf_unreach_variants(const tf_unreach *u)
{
	return u ? u->n_v : 0;
}

unsigned tf_unreach_runs(const tf_unreach *u, size_t v)
{
	return u && v < u->n_v ? u->v[v].runs : 0;
}

unsigned tf_unreach_total_runs(const tf_unreach *u)
{
	return u ? u->total : 0;
}

const tf_schedule *tf_unreach_schedule(const tf_unreach *u, size_t v)
{
	return u && v < u->n_v ? u->v[v].sched : NULL;
}

size_t tf_unreach_bursts(const tf_unreach *u, size_t v)
{
	return u && v < u->n_v ? u->v[v].n_b : 0;
}

const tf_neigh_burst *tf_unreach_burst(const tf_unreach *u, size_t v, size_t i)
{
	if (!u || v >= u->n_v || i >= u->v[v].n_b)
		return NULL;
	return &u->v[v].nb[i];
}

bool tf_unreach_immediate(const tf_unreach *u, size_t v, size_t i, size_t *burst)
{
	if (!u || v >= u->n_v || i >= u->v[v].n_ev || !u->v[v].ev[i].immediate)
		return false;
	if (burst)
		*burst = (size_t)u->v[v].ev[i].burst;
	return true;
}

void tf_unreach_free(tf_unreach *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_v; i++) {
		free(u->v[i].ev);
		free(u->v[i].b);
		free(u->v[i].nb);
		tf_schedule_free(u->v[i].sched);
	}
	free(u);
}
