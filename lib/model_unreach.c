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
 * model_timer.c's conservative bands (tfm_timer_band(): the wheel's rounding for
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
 * of several ticks.  A retransmission sent while handling an ICMP has a gap
 * that is the difference of the two hosts' chains: the sender's lateness
 * since the burst's first packet shortens it.  So the event also carries
 * its time after that packet (tf_sched_event.from_*), which the router's
 * timers alone decide.
 *
 * Files: (a) model_neigh.c, (b) model_icmp.c, (c) here.
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_VARIANTS       16
#define MAX_SIM_STEPS      10000000u

static int sched_new(tf_schedule **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
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
	bool no_revert;      /* IPv6's Address Unreachable: tcp_v6_err() only sets sk_err_soft */
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

	if (s->n_ev >= TF_MODEL_MAX_EVENTS)
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
	s->c_timer = tfm_wheel_fire(s->tp->hz, k, d, from_tick);
	s->c_timer_j = d;
	s->c_rule = rule;
	s->c_band = tfm_timer_band(s->tp->hz, d, from_tick);
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
		              imm ? tfm_R_GIVEUP_REVERT : s->soft ? tfm_R_GIVEUP_ICMP : tfm_R_GIVEUP_SILENT);
	}
	r = sim_tx(s, k, TF_TX_RTO, imm, burst, imm ? 0 : s->c_timer_j, rule);
	if (r < 0)
		return r;
	if (!s->retransmits++)
		s->rs = k;
	s->backoff++;
	r = tfm_rto_backoff(s->tp, s->backoff, &d);
	if (r < 0)
		return r;
	c_arm(s, k, d, true, tfm_R_RTO_BACKOFF);
	return 0;
}

static int c_timer_fire(struct sim *s, int64_t k)
{
	if (s->c_tlp) {
		int r = sim_tx(s, k, TF_TX_TLP, false, -1, s->c_timer_j, s->c_rule);

		if (r < 0)
			return r;
		s->c_tlp = false;
		c_arm(s, k, s->tp->rto, true, tfm_R_RTO_AFTER_TLP);
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
	if (s->no_revert || !s->retransmits || !s->backoff)
		return 0;
	s->backoff--;
	r = tfm_rto_backoff(s->tp, s->backoff, &rto_cur);
	if (r < 0)
		return r;
	el = k - s->last_tx + (s->pol & POL_LATE_ICMP ? 1 : 0);
	if (el < 1)
		el = 1;     /* handled after the transmission: delta_us > 0 */
	rem = (int64_t)rto_cur - el;
	if (rem > 0) {
		c_arm(s, k, (uint64_t)rem, true, tfm_R_REVERT_TIMER);
		/* From the last transmission P: (I - P) + [rem + 1, rem + gran]
		 * with rem = rto - (I - P) - {0, 1}: [rto, rto + gran]. */
		s->c_band.hi = rto_cur + (s->c_band.hi - (uint64_t)rem);
		s->c_band.lo = rto_cur;
		return 0;
	}
	return c_retransmit(s, k, true, burst, tfm_R_REVERT_NOW);
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
		s->r_timer = tfm_wheel_fire(s->nk->hz, k, s->nk->d, from_tick);
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
		s->r_timer = tfm_wheel_fire(s->nk->hz, k, s->nk->d, true);
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
	r = sim_tx(s, p, TF_TX_ORIGINAL, false, -1, 0, tfm_R_ORIGINAL);
	if (r < 0)
		return r;
	s->c_tlp = s->tp->pto != 0;
	c_arm(s, p, s->c_tlp ? s->tp->pto : s->tp->rto, false, s->c_tlp ? tfm_R_TLP : tfm_R_RTO_FIRST);
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
	size_t from;           /* immediate: the burst's first packet */
	int64_t from_lo, from_hi;
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
		/* Sent while handling an ICMP: the router's timers from the
		 * packet that started the resolution decide it (t0 anywhere
		 * in its jiffy; a later packet on a tick). */
		if (s->ev[i].immediate && s->ev[i].burst >= 0) {
			size_t f = s->b[s->ev[i].burst].first;
			int64_t span = s->ev[i].tick - s->ev[f].tick;

			v->ev[i].from = f;
			minmax(&v->ev[i].from_lo, &v->ev[i].from_hi, j2us(hz, f ? span : span - 1),
			       j2us(hz, span), first);
		}
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

		r = tfm_sched_push_us(v->sched, e->kind, e->timer_j, e->gap_lo, e->gap_hi, e->at_lo,
		               e->at_hi, e->rule);
		if (r >= 0 && e->immediate && e->burst >= 0) {
			tf_sched_event *se = &v->sched->ev[i];

			se->from = e->from;
			se->from_timers = v->n_timers;
			se->from_lo_us = e->from_lo;
			se->from_hi_us = e->from_hi;
			se->from_us = (e->from_lo + e->from_hi) / 2;
			se->from_rule = tfm_R_NEIGH;
		}
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
			.n_icmp_lo = b->n_icmp, .n_icmp_hi = b->n_icmp, .rule = tfm_R_NEIGH };
	}
	return 0;
}

static int unreach_run(const tf_model *m, const tf_neigh_params *p, bool revert, tf_unreach **ret)
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
	r = tfm_neigh_derive(p, &nk);
	if (r < 0)
		return r;
	r = tfm_tcp_from_model(m, &tp);
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
			s.no_revert = !revert;
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

int tf_model_unreach(const tf_model *m, const tf_neigh_params *p, tf_unreach **ret)
{
	return unreach_run(m, p, true, ret);
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

/*
 * (c) for either family.  What differs is only what the sender does with
 * the router's answer (tf_model_neigh_failure_reverts()): IPv4's host
 * unreachable undoes a backoff step (tcp_v4_err()), IPv6's address
 * unreachable does not (tcp_v6_err(): tcp_ld_RTO_revert() for
 * ICMPV6_NOROUTE only) and just sets sk_err_soft, so the IPv6 schedule is a
 * silent peer's, ending in EHOSTUNREACH once an ICMP came.  The router's
 * side (nd_tbl's resolution, its ICMPv6 rate limit) is in p: see
 * tf_neigh_params_set_icmpv6().
 */
int tf_model_unreach_family(const tf_model *m, const tf_neigh_params *p, int family,
                            tf_unreach **ret)
{
	if (ret)
		*ret = NULL;
	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	return unreach_run(m, p, tf_model_neigh_failure_reverts(family), ret);
}
