/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_syn.c — connect() to a peer that drops SYNs silently: the SYN_SENT
 * retransmissions, tcp_syn_linear_timeouts and the give-up (see tf_model.h).
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>

static const char R_RTO_CLAMP[] = "tcp_clamp_rto_to_user_timeout(): timer cut to TCP_USER_TIMEOUT";

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
	r = tfm_sched_begin(&b, m, TF_TX_SYN, R_SYN, ETIMEDOUT);
	if (r < 0)
		return r;

	rto = d = tcp_timeout_init_j(m->hz);
	rmax = tfm_rto_max_j(m);
	max_retx = m->syn_retries + (m->syn_linear_timeouts > 0 ? (unsigned)m->syn_linear_timeouts : 0);
	budget_us = tfm_write_budget_ms(m, m->syn_retries, tcp_timeout_init_j(m->hz)) * 1000;

	while (r >= 0) {
		struct band gap = tfm_timer_band(m->hz, d, from_tick);
		const char *gr = NULL;

		if (retransmits >= max_retx)
			gr = R_SYN_GIVEUP_N;
		else if (retransmits >= 1 && tfm_elapsed_since(&b, gap, 0, 0).mid_us >= budget_us)
			gr = m->user_timeout_ms ? R_SYN_GIVEUP_UT : R_SYN_GIVEUP_T;
		if (gr) {
			r = tfm_push(&b, TF_TX_GIVEUP, d, gap, gr);
			break;
		}
		r = tfm_push(&b, TF_TX_SYN_RTO, d, gap, clamped ? R_RTO_CLAMP : rule);
		retransmits++;
		total_rto++;
		if (m->syn_linear_timeouts < 0 || total_rto > (unsigned)m->syn_linear_timeouts) {
			rto = rto * 2 < rmax ? rto * 2 : rmax;
			rule = R_SYN_BACKOFF;
		} else {
			rule = R_SYN_LINEAR;
		}
		/* retrans_stamp is the SYN, event 0. */
		d = tfm_clamp_to_user_timeout(m, rto, tfm_mid_us(m->hz, b.at_lo, b.at_hi) / 1000, &clamped);
		from_tick = true;
	}
	return tfm_sched_end(&b, r, ret);
}

