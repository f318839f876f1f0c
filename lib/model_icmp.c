/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_icmp.c — the sender's side of an unreachable peer: its schedule
 * given the ICMP host unreachables that reached it (tcp_ld_RTO_revert(),
 * RFC 6069), (b) of the model_unreach.c section of tf_model.h, and the
 * sender's parameters the closed loop (model_unreach.c) shares.  The rules
 * are written out once in model_unreach.c's header comment ("Sender.").
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* (b): an ICMP is handled after its capture stamp, and the burst back to
 * back; this bounds how late, for the elapsed time tcp_ld_RTO_revert()
 * measures (only its jiffy rounding matters). */
#define HANDLING_US 200

/* ------------------------------------------------------------------ */
/* The sender's parameters.                                            */

/*
 * The sender's timers come from the model's state (tf_model_rto_jiffies(),
 * tfm_pto_j(), tfm_rto_max_j()); the plain schedule of a silent peer
 * (tf_model_retrans()) only says how far its backoff goes before the
 * give-up: rmax_floor, the longest timer it arms, and whether rto_max cut
 * one of them (rmax; 0 when the cap never applied).  Beyond that floor
 * tfm_rto_backoff() refuses (-EOPNOTSUPP): tf_model_unreach() sizes its
 * phases on it.  A timer that is not min(rto << k, rto_max) is
 * TCP_USER_TIMEOUT's clamp (tcp_clamp_rto_to_user_timeout()), not modelled
 * with ICMPs.
 */
int tfm_tcp_from_model(const tf_model *m, struct tcp_p *tp)
{
	tf_schedule *s = NULL;
	uint64_t rmax, ms;
	const char *rule;
	unsigned k = 0;
	size_t i;
	int r;

	memset(tp, 0, sizeof(*tp));
	tp->hz = m->hz;
	tp->rto = tf_model_rto_jiffies(m);
	tp->pto = tfm_pto_j(m, &rule);
	rmax = tfm_rto_max_j(m);
	r = tf_model_retrans(m, &s);
	if (r < 0)
		return r;
	r = -EOPNOTSUPP;
	for (i = tp->pto ? 2 : 1; i < tf_schedule_count(s); i++, k++) {
		uint64_t d = tf_schedule_event(s, i)->timer_jiffies;
		uint64_t v = k >= 40 ? UINT64_MAX : tp->rto << k;

		if (d != (v < rmax ? v : rmax))
			goto out;                   /* clamped */
		if (v > rmax)
			tp->rmax = rmax;            /* capped: tcp_rto_max(sk) */
		if (d > tp->rmax_floor)
			tp->rmax_floor = d;
	}
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
int tfm_rto_backoff(const struct tcp_p *tp, unsigned backoff, uint64_t *ret)
{
	uint64_t v = backoff >= 40 ? UINT64_MAX : tp->rto << backoff;

	if (tp->rmax) {
		*ret = v < tp->rmax ? v : tp->rmax;
		return 0;
	}
	if (v > tp->rmax_floor)
		return -EOPNOTSUPP; /* past the plain schedule's longest timer */
	*ret = v;
	return 0;
}

static int sched_new(tf_schedule **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

const char tfm_R_ORIGINAL[] = "write(): tcp_rearm_rto() arms icsk_rto";
const char tfm_R_TLP[] = "tcp_schedule_loss_probe(): PTO as tf_model_retrans()";
const char tfm_R_RTO_AFTER_TLP[] = "tcp_send_loss_probe() -> tcp_rearm_rto(): icsk_rto from the probe, not backed off";
const char tfm_R_RTO_FIRST[] = "tcp_rearm_rto(): icsk_rto from the original";
const char tfm_R_RTO_BACKOFF[] = "tcp_retransmit_timer(): icsk_backoff++, icsk_rto = min(icsk_rto << 1, rto_max)";
const char tfm_R_REVERT_NOW[] = "ICMP host unreachable: tcp_ld_RTO_revert(): backoff--, (rto << backoff) - elapsed <= 0: tcp_retransmit_timer() now";
const char tfm_R_REVERT_NOW_EDGE[] = "ICMP host unreachable: tcp_ld_RTO_revert(): backoff--, (rto << backoff) - elapsed <= 0: tcp_retransmit_timer() now (borderline: could re-arm instead)";
const char tfm_R_REVERT_TIMER[] = "ICMP host unreachable: tcp_ld_RTO_revert(): backoff--, timer = (rto << backoff) - elapsed since the last transmission";
const char tfm_R_REVERT_TIMER_EDGE[] = "ICMP host unreachable: tcp_ld_RTO_revert(): backoff--, timer = (rto << backoff) - elapsed (borderline: could retransmit at once)";
const char tfm_R_ORDER_EDGE[] = "tcp_retransmit_timer() (borderline: an ICMP arrived inside this band, the order may differ)";
const char tfm_R_GIVEUP_ICMP[] = "tcp_write_timeout(): now - retrans_stamp >= tcp_model_timeout(retries2, TCP_RTO_MIN); tcp_write_err(): sk_err_soft (EHOSTUNREACH)";
const char tfm_R_GIVEUP_ICMP_EDGE[] = "tcp_write_timeout(): now - retrans_stamp >= budget (borderline: band straddles the budget); tcp_write_err(): sk_err_soft (EHOSTUNREACH)";
const char tfm_R_GIVEUP_REVERT[] = "tcp_ld_RTO_revert() -> tcp_retransmit_timer() -> tcp_write_timeout(): budget spent; tcp_write_err(): sk_err_soft (EHOSTUNREACH)";
const char tfm_R_GIVEUP_SILENT[] = "tcp_write_timeout(): now - retrans_stamp >= tcp_model_timeout(retries2, TCP_RTO_MIN); tcp_write_err(): ETIMEDOUT (no ICMP)";

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

static int retrans_icmp(const tf_model *m, bool revert, const int64_t *icmp_us, size_t n_icmp,
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
	r = tfm_check_times(icmp_us, n_icmp);
	if (r < 0)
		return r;
	r = tfm_tcp_from_model(m, &tp);
	if (r < 0)
		return r;
	r = sched_new(&s);
	if (r < 0)
		return r;


	r = tfm_sched_push_us(s, TF_TX_ORIGINAL, 0, 0, 0, 0, 0, tfm_R_ORIGINAL);
	if (r < 0)
		goto out;
	if ((r = cause_set(cp, &c_cap, s, -1, false, 0, 0)) < 0)
		goto out;
	tlp = tp.pto != 0;
	d_lo = d_hi = tlp ? tp.pto : tp.rto;
	rule = tlp ? tfm_R_TLP : tfm_R_RTO_FIRST;

	for (;;) {
		struct band blo = tfm_timer_band(tp.hz, d_lo, from_tick);
		struct band bhi = tfm_timer_band(tp.hz, d_hi, from_tick);
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

			soft = true;        /* sk_err_soft = EHOSTUNREACH */
			if (!revert) {      /* tcp_v6_err(): nothing else; the order is moot */
				next++;
				continue;
			}
			if (I >= f.lo)
				order_edge = true;
			if (!retransmits || !backoff) {
				next++;
				continue;
			}
			backoff--;
			r = tfm_rto_backoff(&tp, backoff, &rto_cur);
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
				rv.hi = rto_cur + tfm_timer_band(tp.hz, d_hi, true).hi - d_hi;
				anchor = (struct tb){ I, I };
				anchor_icmp = (int)next;
				from_tick = true; /* handled after the router's tick */
				rule = rem_lo > 0 ? tfm_R_REVERT_TIMER : tfm_R_REVERT_TIMER_EDGE;
				next++;
				continue;
			}
			/* tcp_retransmit_timer() now: tcp_write_timeout() first */
			if ((I - (rs.lo + rs.hi) / 2) >= (int64_t)tp.budget_us) {
				r = tfm_sched_push_us(s, TF_TX_GIVEUP, 0, I - prev.hi, I - prev.lo, I, I,
				               tfm_R_GIVEUP_REVERT);
				if (r < 0)
					goto out;
				if ((r = cause_set(cp, &c_cap, s, (int)next, true, 0, 0)) < 0)
					goto out;
				break;
			}
			r = tfm_sched_push_us(s, TF_TX_RTO, 0, I - prev.hi, I - prev.lo, I, I,
			               rem_hi > 0 ? tfm_R_REVERT_NOW_EDGE : tfm_R_REVERT_NOW);
			if (r < 0)
				goto out;
			if ((r = cause_set(cp, &c_cap, s, (int)next, true, 0, 0)) < 0)
				goto out;
			prev = last = (struct tb){ I, I };
			retransmits++;
			backoff++;
			r = tfm_rto_backoff(&tp, backoff, &d_lo);
			if (r < 0)
				goto out;
			d_hi = d_lo;
			rv = (struct band){ 0, 0 };
			anchor = (struct tb){ I, I };
			anchor_icmp = (int)next;
			from_tick = true;
			rule = tfm_R_RTO_BACKOFF;
			order_edge = false;
			next++;
			continue;
		}

		/* The timer fires. */
		alo = f.lo - anchor.lo;
		ahi = f.hi - anchor.hi;
		if (revert && next < n_icmp && icmp_us[next] <= f.hi)
			order_edge = true;
		if (tlp) {
			r = tfm_sched_push_us(s, TF_TX_TLP, d_hi, glo, ghi, f.lo, f.hi,
			               order_edge ? tfm_R_ORDER_EDGE : rule);
			if (r < 0)
				goto out;
			if ((r = cause_set(cp, &c_cap, s, anchor_icmp, false, alo, ahi)) < 0)
				goto out;
			tlp = false;
			d_lo = d_hi = tp.rto;
			rule = tfm_R_RTO_AFTER_TLP;
		} else {
			if (retransmits) {
				int64_t el_lo = f.lo - rs.hi, el_hi = f.hi - rs.lo;
				int64_t el_mid = fmid - (rs.lo + rs.hi) / 2;
				bool edge = el_lo < (int64_t)tp.budget_us &&
				            (int64_t)tp.budget_us <= el_hi;

				if (el_mid >= (int64_t)tp.budget_us) {
					r = tfm_sched_push_us(s, TF_TX_GIVEUP, d_hi, glo, ghi, f.lo, f.hi,
					               !soft ? tfm_R_GIVEUP_SILENT
					               : edge ? tfm_R_GIVEUP_ICMP_EDGE : tfm_R_GIVEUP_ICMP);
					if (r < 0)
						goto out;
					if ((r = cause_set(cp, &c_cap, s, anchor_icmp, false, alo, ahi)) < 0)
						goto out;
					break;
				}
			}
			r = tfm_sched_push_us(s, TF_TX_RTO, d_hi, glo, ghi, f.lo, f.hi,
			               order_edge ? tfm_R_ORDER_EDGE : rule);
			if (r < 0)
				goto out;
			if ((r = cause_set(cp, &c_cap, s, anchor_icmp, false, alo, ahi)) < 0)
				goto out;
			if (!retransmits++)
				rs = f;     /* tcp_retransmit_skb(): retrans_stamp */
			backoff++;
			r = tfm_rto_backoff(&tp, backoff, &d_lo);
			if (r < 0)
				goto out;
			d_hi = d_lo;
			rule = tfm_R_RTO_BACKOFF;
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

int tf_model_retrans_icmp_causes(const tf_model *m, const int64_t *icmp_us, size_t n_icmp,
				 tf_schedule **ret, tf_icmp_cause **causes)
{
	return retrans_icmp(m, true, icmp_us, n_icmp, ret, causes);
}

int tf_model_retrans_icmp(const tf_model *m, const int64_t *icmp_us, size_t n_icmp,
			  tf_schedule **ret)
{
	return tf_model_retrans_icmp_causes(m, icmp_us, n_icmp, ret, NULL);
}


/* (b) for either family: IPv6's address unreachable undoes no backoff step
 * (tcp_v6_err(), see tf_model_unreach_family()). */
int tf_model_retrans_icmp_family(const tf_model *m, int family, const int64_t *icmp_us,
                                 size_t n_icmp, tf_schedule **ret, tf_icmp_cause **causes)
{
	if (ret)
		*ret = NULL;
	if (causes)
		*causes = NULL;
	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	return retrans_icmp(m, tf_model_neigh_failure_reverts(family), icmp_us, n_icmp, ret,
	                    causes);
}
