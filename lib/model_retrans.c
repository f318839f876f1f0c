/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_retrans.c — an established connection whose peer went silent:
 * tcp_model_timeout() and the retries2 budget, the loss probe, the RTO
 * backoff, TCP_USER_TIMEOUT's clamp and the give-up (see tf_model.h).
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <stdlib.h>

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

