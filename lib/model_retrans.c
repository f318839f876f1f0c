/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_retrans.c — an established connection whose peer went silent:
 * tcp_model_timeout() and the retries2 budget, the loss probe, the RTO
 * backoff, TCP_USER_TIMEOUT's clamp and the give-up (see tf_model.h).
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
uint64_t tfm_model_timeout(unsigned boundary, uint64_t base, uint64_t max)
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
	return tfm_model_timeout(boundary, rto_base_ms, rto_max_ms);
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
	*start_ms = attempt ? tfm_model_timeout(attempt - 1, rto_base_ms, rto_max_ms) : 0;
	*timeout_ms = attempt <= thresh ? (uint64_t)rto_base_ms << attempt : rto_max_ms;
	return 0;
}

/* The time tcp_write_timeout() allows since retrans_stamp, in ms:
 * retransmits_timed_out(sk, retry_until, icsk_user_timeout) uses the user
 * timeout when set, else tcp_model_timeout(retry_until, rto_base). */
uint64_t tfm_write_budget_ms(const tf_model *m, unsigned boundary, uint64_t rto_base_j)
{
	if (m->user_timeout_ms)
		return m->user_timeout_ms;
	return jiffies_to_msecs(m->hz, tfm_model_timeout(boundary, rto_base_j, tfm_budget_rto_max_j(m)));
}

int tf_model_retries2_budget_ms(const tf_model *m, uint64_t *ms)
{
	if (!m || !ms)
		return -EINVAL;
	/* Established sockets: rto_base is TCP_RTO_MIN, not the socket's RTO
	 * (retransmits_timed_out()). */
	*ms = tfm_write_budget_ms(m, m->retries2, tcp_rto_min_j(m->hz));
	return 0;
}

/* tcp_clamp_rto_to_user_timeout(), net/ipv4/tcp_timer.c: with
 * TCP_USER_TIMEOUT the next RTO timer never runs past it
 *	remaining = user_timeout - (now - retrans_stamp)	[ms]
 *	remaining <= 0 ? 1 : min(icsk_rto, msecs_to_jiffies(remaining))
 * `elapsed_ms` is the expected (midpoint) elapsed time. */
uint64_t tfm_clamp_to_user_timeout(const tf_model *m, uint64_t rto, uint64_t elapsed_ms,
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
	uint64_t rto, d, d_lo = 0, d_hi = 0, budget_us, rs_lo = 0, rs_hi = 0, rmax, pto;
	unsigned retransmits = 0;
	bool from_tick = false, clamped = false, was_edge = false;
	const char *rule = R_RTO_FIRST, *pr;
	int r;

	if (!m || !ret)
		return -EINVAL;
	*ret = NULL;
	r = tfm_sched_begin(&b, m, TF_TX_ORIGINAL, R_ORIGINAL, tfm_giveup_errno(m));
	if (r < 0)
		return r;

	rto = d = tf_model_rto_jiffies(m);
	rmax = tfm_rto_max_j(m);
	budget_us = tfm_write_budget_ms(m, m->retries2, tcp_rto_min_j(m->hz)) * 1000;

	pto = tfm_pto_j(m, &pr);
	if (pto) {
		r = tfm_push(&b, TF_TX_TLP, pto, tfm_timer_band(m->hz, pto, false), pr);
		from_tick = true;
		rule = R_RTO_AFTER_TLP;
	}

	while (r >= 0) {
		struct band gap = tfm_timer_band(m->hz, d, from_tick);

		/* A clamped timer depends on the real elapsed time, which the
		 * previous gaps' bands leave open: span both ends. */
		if (clamped) {
			gap.lo = tfm_timer_band(m->hz, d_lo, from_tick).lo;
			gap.hi = tfm_timer_band(m->hz, d_hi, from_tick).hi;
		}
		if (retransmits >= 1) {
			struct elapsed e = tfm_elapsed_since(&b, gap, rs_lo, rs_hi);
			bool edge = e.lo_us < budget_us && budget_us <= e.hi_us;

			if (e.mid_us >= budget_us) {
				r = tfm_push(&b, TF_TX_GIVEUP, d, gap, m->user_timeout_ms ? R_GIVEUP_UT
					 : (edge || was_edge) ? R_GIVEUP_R2_EDGE : R_GIVEUP_R2);
				break;
			}
			/* The band reaches the budget but the midpoint does
			 * not: the kernel may give up here already. */
			was_edge = e.hi_us >= budget_us;
		}
		r = tfm_push(&b, TF_TX_RTO, d, gap, clamped ? R_RTO_CLAMP : rule);
		if (++retransmits == 1) {
			rs_lo = b.at_lo;
			rs_hi = b.at_hi;
		}
		rto = rto * 2 < rmax ? rto * 2 : rmax;
		d = tfm_clamp_to_user_timeout(m, rto,
					  (tfm_mid_us(m->hz, b.at_lo, b.at_hi) -
					   tfm_mid_us(m->hz, rs_lo, rs_hi)) / 1000, &clamped);
		if (clamped) {
			/* elapsed = sum of the gaps since retrans_stamp, in
			 * [at_lo - rs_lo, at_hi - rs_hi]; the kernel counts it in
			 * whole ms (tcp_time_stamp_ts()), so allow 1 ms more
			 * either way.  Less elapsed leaves more to wait. */
			uint64_t el_lo = jiffies_to_usecs(m->hz, b.at_lo - rs_lo) / 1000;
			uint64_t el_hi = jiffies_to_usecs(m->hz, b.at_hi - rs_hi) / 1000 + 1;
			bool c;

			d_hi = tfm_clamp_to_user_timeout(m, rto, el_lo ? el_lo - 1 : 0, &c);
			d_lo = tfm_clamp_to_user_timeout(m, rto, el_hi, &c);
		}
		from_tick = true;
		rule = R_RTO_BACKOFF;
	}
	return tfm_sched_end(&b, r, ret);
}


/* ------------------------------------------------------------------ */
/* tcp_write_timeout() replayed on measured stamps (issue 10).
 *
 * The kernel stops (or detects a black hole) by time, not by count: at
 * each RTO expiry tcp_write_timer_handler() refreshes tcp_mstamp
 * (tcp_mstamp_refresh()) and tcp_retransmit_timer() asks
 * tcp_write_timeout() -> retransmits_timed_out(sk, boundary, timeout):
 *	icsk_retransmits == 0 -> false (the first expiry never stops);
 *	timeout = timeout ?: tcp_model_timeout(sk, boundary, TCP_RTO_MIN);
 *	(s32)(tcp_time_stamp_ts(tp) - retrans_stamp - timeout) >= 0
 * in ms: tcp_time_stamp_ts() is tcp_mstamp / 1000 and retrans_stamp the
 * first RTO retransmission's skb stamp / 10^6 (tcp_retransmit_skb(),
 * tcp_skb_timestamp_ts()), each floored to the ms, so the kernel's
 * elapsed time is the true one within 1 ms.  The tcp_usec_ts branch
 * (6.7+, a route feature nothing here enables) compares µs and adds
 * jiffies_to_usecs(1).  A timer that fires late (within its wheel band,
 * or past it on a loaded or paused machine) makes the elapsed time at an
 * expiry larger, so the expiry that first passes the budget can come one
 * earlier than on an ideal clock: the kernel is right by its own rule.
 * The replay applies that rule to the measured moments of the expiries,
 * with half a window of 1 jiffy (the ms floors, the µs branch's jiffy)
 * plus the caller's slack (capture, softirq) around the budget where
 * either answer is the kernel's. */
int tf_model_write_budget_ms(const tf_model *m, unsigned boundary, bool user_timeout,
			     uint64_t *ms)
{
	if (!m || !ms)
		return -EINVAL;
	if (user_timeout) {
		*ms = tfm_write_budget_ms(m, boundary, tcp_rto_min_j(m->hz));
		return 0;
	}
	/* retransmits_timed_out(sk, tcp_retries1, 0): never the user timeout */
	*ms = jiffies_to_msecs(m->hz, tfm_model_timeout(boundary, tcp_rto_min_j(m->hz),
							tfm_budget_rto_max_j(m)));
	return 0;
}

int tf_model_replay_timed_out(unsigned hz, uint64_t budget_ms, int64_t slack_us,
			      const int64_t *lo_us, const int64_t *hi_us, size_t n,
			      tf_timed_out *ret)
{
	int64_t tol, b;

	if (!lo_us || !hi_us || !ret || n == 0 || hz < 100 || hz > 1000 || slack_us < 0 ||
	    budget_ms > INT64_MAX / 2000)
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		if (lo_us[k] > hi_us[k] || (k && lo_us[k] < lo_us[k - 1]))
			return -EINVAL;
	memset(ret, 0, sizeof *ret);
	tol = (int64_t)jiffies_to_usecs(hz, 1) + slack_us;
	b = (int64_t)budget_ms * 1000;
	ret->tol_us = tol;
	/* expiry 1 (k = 0) sets retrans_stamp and cannot stop */
	for (size_t k = 1; k < n; k++) {
		int64_t e_lo = lo_us[k] - hi_us[0], e_hi = hi_us[k] - lo_us[0];

		if (!ret->first && e_hi + tol >= b) {
			ret->first = (unsigned)k + 1;
			ret->first_lo_us = e_lo;
			ret->first_hi_us = e_hi;
		}
		if (e_lo - tol >= b) {
			ret->sure = (unsigned)k + 1;
			ret->sure_lo_us = e_lo;
			ret->sure_hi_us = e_hi;
			break;
		}
	}
	return 0;
}

/* The moment of the expiry that follows event i - 1 of s, from the one
 * before: [lo + gap_lo - slack, hi + gap_hi + slack]. */
static void next_expiry(const tf_sched_event *e, int64_t slack, int64_t *lo, int64_t *hi)
{
	*lo += e->gap_lo_us - slack;
	*hi += e->gap_hi_us + slack;
}

int tf_model_replay_giveup(const tf_schedule *s, unsigned hz, uint64_t budget_ms,
			   int64_t slack_us, const int64_t *tx_us, size_t n, int64_t end_hi_us,
			   tf_count_replay *ret)
{
	size_t g = tf_schedule_giveup(s), total;
	long f = tf_schedule_nth(s, TF_TX_RTO, 1);
	int64_t *lo = NULL, *hi = NULL, plo, phi;
	int r;

	if (!s || !tx_us || !ret || n == 0 || n > 100000 || slack_us < 0)
		return -EINVAL;
	if (tf_schedule_count(s) == 0 || tf_schedule_event(s, g)->kind != TF_TX_GIVEUP)
		return -EOPNOTSUPP;
	if (f < 0 || (size_t)f > g)
		return -EOPNOTSUPP;   /* no RTO before the give-up: nothing to replay */
	for (size_t i = 1; i < n; i++)
		if (tx_us[i] < tx_us[i - 1])
			return -EINVAL;
	memset(ret, 0, sizeof *ret);
	ret->model = g;
	ret->first_rto = (size_t)f;
	ret->lo = ret->hi = SIZE_MAX;
	/* Expiries from the first RTO's: the measured ones, then the one
	 * after the last transmission (the give-up sends nothing: from the
	 * model's gap to end_hi_us, when the error was seen), then the
	 * model's further gaps, up to the model's own give-up or one past
	 * the measured ones, whichever is later. */
	total = (n > (size_t)f ? n : (size_t)f) + 1;
	if (total < g + 1)
		total = g + 1;
	lo = calloc(total - (size_t)f, sizeof *lo);
	hi = calloc(total - (size_t)f, sizeof *hi);
	if (!lo || !hi) {
		r = -ENOMEM;
		goto out;
	}
	plo = phi = tx_us[n - 1];
	/* not even the first RTO seen: the events before it first */
	for (size_t j = n; j < (size_t)f; j++)
		next_expiry(tf_schedule_event(s, j), slack_us, &plo, &phi);
	for (size_t i = (size_t)f; i < total; i++) {
		size_t k = i - (size_t)f;

		if (i < n) {
			lo[k] = hi[k] = tx_us[i];
			continue;
		}
		if (i > g) {
			if (i > n) {   /* past the model's events: no band, stop */
				total = i;
				break;
			}
			/* the give-up point itself, past the model: after the
			 * last transmission, before the error was seen */
			plo = tx_us[n - 1];
			phi = end_hi_us >= plo ? end_hi_us : INT64_MAX / 4;
		} else {
			next_expiry(tf_schedule_event(s, i), slack_us, &plo, &phi);
			/* the error was seen after the give-up's expiry */
			if (i == n && end_hi_us >= 0)
				phi = end_hi_us;
			if (plo > phi) {   /* seen before the model allows it */
				plo = tx_us[n - 1];
				phi = phi > plo ? phi : plo;
			}
		}
		/* an expiry comes after the one before it: a gap shorter than
		 * the slack (a timer cut by TCP_USER_TIMEOUT to a few ms) must
		 * not put its band's low edge before the previous expiry's */
		if (k > 0 && plo < lo[k - 1])
			plo = lo[k - 1];
		if (phi < plo)
			phi = plo;
		lo[k] = plo;
		hi[k] = phi;
	}
	r = tf_model_replay_timed_out(hz, budget_ms, slack_us, lo, hi, total - (size_t)f, &ret->t);
	if (r < 0)
		goto out;
	/* give-up at expiry G: the f transmissions before the first RTO and
	 * G - 1 RTO retransmissions */
	if (ret->t.first)
		ret->lo = (size_t)f + ret->t.first - 1;
	if (ret->t.sure)
		ret->hi = (size_t)f + ret->t.sure - 1;
	if (!ret->t.first)
		ret->lo = total;   /* later than every expiry the bands reach */
	ret->ambiguous = ret->lo != ret->hi;
	ret->ok = n >= ret->lo && n <= ret->hi;
out:
	free(lo);
	free(hi);
	return r;
}
