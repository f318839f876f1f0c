/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_neigh.c — the router's side of an unreachable peer: failed
 * neighbour resolutions and the ICMP host unreachables they send, (a) of the
 * model_unreach.c section of tf_model.h.  The rules are written out once in
 * model_unreach.c's header comment ("Router.").
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define XRLIM_BURST_FACTOR 6        /* net/ipv4/inetpeer.c */
#define ICMP_DEST_UNREACH_TYPE 3

const char tfm_R_NEIGH[] = "__neigh_event_send(): NUD_INCOMPLETE, queue; neigh_timer_handler() every max(retrans_time, HZ/100) until probes >= ucast+app+mcast; neigh_invalidate() -> arp_error_report() -> ipv4_link_failure(): ICMP host unreachable per queued skb, inet_peer_xrlim_allow()";
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


int tfm_neigh_derive(const tf_neigh_params *p, struct neigh_k *k)
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

int tfm_check_times(const int64_t *t, size_t n)
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

/* One failed resolution in jiffies, relative to the packet that starts it:
 * the first timer armed from its softirq, anywhere in a jiffy, the others
 * from neigh_timer_handler(). */
static struct band resolution_j(const struct neigh_k *k)
{
	struct band first = tfm_timer_band(k->hz, k->d, false);
	struct band next = tfm_timer_band(k->hz, k->d, true);

	return (struct band){ first.lo + (k->n_timers - 1) * next.lo,
			      first.hi + (k->n_timers - 1) * next.hi };
}

int tf_model_neigh_resolution(const tf_neigh_params *p, tf_band *ret)
{
	struct neigh_k k;
	struct band b;
	int r;

	if (!ret)
		return -EINVAL;
	r = tfm_neigh_derive(p, &k);
	if (r < 0)
		return r;
	if (k.n_timers == 0)
		return -ENOENT;
	if (k.n_timers > TF_MODEL_MAX_EVENTS)
		return -E2BIG;
	b = resolution_j(&k);
	ret->lo_us = j2us(k.hz, (int64_t)b.lo);
	ret->hi_us = j2us(k.hz, (int64_t)b.hi);
	ret->mid_us = (ret->lo_us + ret->hi_us) / 2;
	ret->jiffies = (unsigned)k.d;
	ret->gran = tf_model_wheel_gran(k.hz, k.d);
	return 0;
}

/* linkwatch_schedule_work(): a non-urgent event waits until
 * linkwatch_nextevent, at most HZ jiffies (a veth whose ifindex equals its
 * peer's, as topologies built in fresh namespaces have, is not urgent:
 * linkwatch_urgent_event() compares ifindex and iflink). */
int tf_model_arp_failure(const tf_neigh_params *p, const tf_schedule *s, tf_arp_failure *ret)
{
	int64_t first_after = -1;
	int r;

	if (!p || !s || !ret)
		return -EINVAL;
	r = tf_model_neigh_resolution(p, &ret->resolution);
	if (r < 0)
		return r;
	ret->evict_us = j2us(p->hz, p->hz);
	for (size_t i = 0; i < tf_schedule_count(s) && first_after < 0; i++) {
		const tf_sched_event *e = tf_schedule_event(s, i);

		if (e->kind != TF_TX_GIVEUP && e->at_lo_us >= ret->evict_us)
			first_after = e->at_hi_us;
	}
	ret->earliest_us = ret->resolution.lo_us;
	ret->latest_us = (first_after < 0 ? ret->evict_us : first_after) + ret->resolution.hi_us;
	return 0;
}

int tf_model_neigh_failures(const tf_neigh_params *p, const int64_t *arrive_us, size_t n,
			    tf_neigh_burst **ret, size_t *n_ret)
{
	struct neigh_k k;
	struct band res;
	struct tokset toks = { 0 };
	tf_neigh_burst *out = NULL;
	int64_t lo_j, hi_j, jus, tok_mid = 0, prev_lo = 0, prev_hi = 0, prev_mid = 0;
	size_t nb = 0, i = 0;
	int r;

	if (!ret || !n_ret)
		return -EINVAL;
	*ret = NULL;
	*n_ret = 0;
	r = tfm_neigh_derive(p, &k);
	if (r < 0)
		return r;
	r = tfm_check_times(arrive_us, n);
	if (r < 0)
		return r;
	if (k.n_timers == 0 || n == 0)
		return 0;   /* __neigh_event_send(): NUD_FAILED at once, kfree_skb() */
	if (k.n_timers > TF_MODEL_MAX_EVENTS)
		return -E2BIG;

	/* The failure, relative to the packet that starts the resolution. */
	res = resolution_j(&k);
	lo_j = (int64_t)res.lo;
	hi_j = (int64_t)res.hi;
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
		b->rule = b->borderline ? R_NEIGH_EDGE : tfm_R_NEIGH;
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

