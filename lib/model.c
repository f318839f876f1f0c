/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model.c — the model's state: life cycle, knobs and what follows from them
 * (the RTO, the loss probe timer, the RTT estimator).  The rules that build
 * schedules live in the model_*.c files, one per rule (see tf_model.h).
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
 * (tcp_time_stamp_ts() without the usec TS option), so the schedules do
 * the same and convert to µs only for the events they emit.
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

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

uint64_t tfm_rto_max_j(const tf_model *m)
{
	/* icsk_rto_max = msecs_to_jiffies(TCP_RTO_MAX_MS / tcp_rto_max_ms),
	 * read by tcp_rto_max(sk) (6.15+). */
	return msecs_to_jiffies(m->hz, m->rto_max_ms);
}

/* rto_max used by tcp_model_timeout(): per socket since 6.15, else the
 * compiled-in TCP_RTO_MAX. */
uint64_t tfm_budget_rto_max_j(const tf_model *m)
{
	return m->rto_max_in_budget ? tfm_rto_max_j(m) : tcp_rto_max_j(m->hz);
}

/* tcp_rto_min_us(sk) = jiffies_to_usecs(tcp_rto_min(sk)): the floor is
 * kept in jiffies (icsk_rto_min = usecs_to_jiffies(tcp_rto_min_us) in
 * tcp_init_sock(); route rto_min via dst_metric_rtt()), so it is
 * rounded up to a whole jiffy. */
uint64_t tfm_rto_min_eff_us(const tf_model *m)
{
	return jiffies_to_usecs(m->hz, usecs_to_jiffies(m->hz, m->rto_min_us));
}

/* tcp_schedule_loss_probe(), net/ipv4/tcp_output.c: armed after the
 * original transmission when tcp_early_retrans is 3 or 4 (SACK assumed
 * negotiated):
 *	PTO = usecs_to_jiffies(2 srtt + (packets_out == 1 ? tcp_rto_min_us
 *	                                              : TCP_TIMEOUT_MIN_US))
 *	    (TCP_TIMEOUT_INIT without an RTT sample),
 *	PTO = min(PTO, time left to the RTO = icsk_rto). */
static const char R_TLP[] = "tcp_schedule_loss_probe(): PTO = 2*srtt + rto_min, capped at the RTO";
static const char R_TLP_MULTI[] = "tcp_schedule_loss_probe(): PTO = 2*srtt + TCP_TIMEOUT_MIN_US (>1 pkt out), capped at the RTO";
static const char R_TLP_NOSAMPLE[] = "tcp_schedule_loss_probe(): no RTT sample, PTO = TCP_TIMEOUT_INIT";

uint64_t tfm_pto_j(const tf_model *m, const char **rule)
{
	uint64_t pto = tcp_timeout_init_j(m->hz), rto = tf_model_rto_jiffies(m);

	*rule = NULL;
	if (m->early_retrans != 3 && m->early_retrans != 4)
		return 0;
	*rule = R_TLP_NOSAMPLE;
	if (m->srtt_us) {
		uint64_t us = 2ULL * m->srtt_us;

		us += m->packets_out == 1 ? tfm_rto_min_eff_us(m) : TCP_TIMEOUT_MIN_US;
		pto = usecs_to_jiffies(m->hz, us);
		*rule = m->packets_out == 1 ? R_TLP : R_TLP_MULTI;
	}
	return pto > rto ? rto : pto;
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
	if (rttvar < tfm_rto_min_eff_us(m))
		rttvar = tfm_rto_min_eff_us(m);
	/* Out of steady state (jitter) the caller replays the estimator:
	 * tf_model_rttvar_replay() gives tp->rttvar_us itself. */
	if (m->rttvar_kernel_us)
		rttvar = m->rttvar_kernel_us;
	rto = usecs_to_jiffies(m->hz, m->srtt_us + rttvar);
	/* tcp_bound_rto(): min(icsk_rto, tcp_rto_max(sk)). */
	if (rto > tfm_rto_max_j(m))
		rto = tfm_rto_max_j(m);
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

/* tcp_rtt_estimator()'s srtt (identical in 6.1, 6.12 and 6.18): with
 * srtt_us != 0, m -= srtt_us >> 3; srtt_us += m; then
 * tp->srtt_us = max(1U, srtt_us); tcpi_rtt = srtt_us >> 3. */
static uint32_t srtt_replay(uint32_t srtt8, const uint32_t *rtt_us, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t m = (int64_t)rtt_us[i] - (srtt8 >> 3), v = (int64_t)srtt8 + m;

		srtt8 = v < 1 ? 1 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
	return srtt8 >> 3;
}

int tf_model_srtt_replay(uint32_t srtt0_us, const uint32_t *rtt_us, size_t n, uint32_t *lo_us,
                         uint32_t *hi_us)
{
	if (!rtt_us || !lo_us || !hi_us || n == 0 || srtt0_us == 0 || srtt0_us > UINT32_MAX >> 3)
		return -EINVAL;
	*lo_us = srtt_replay(srtt0_us << 3, rtt_us, n);
	*hi_us = srtt_replay(srtt0_us << 3 | 7, rtt_us, n);
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

