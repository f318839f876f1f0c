/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_qdisc.c — what a qdisc does to packets: sch_netem's random loss and
 * sch_tbf's token bucket (see tf_model.h).
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>

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

/* The same rule packet by packet, given when each reached the qdisc: a
 * queue that ran dry (the sender lagged) leaves tokens unused, up to the
 * bucket, and departures wait for arrivals. */
int tf_model_tbf_departures(uint64_t rate_Bps, uint64_t burst, const int64_t *arrive_ns,
                            const uint32_t *len, size_t n, int64_t *depart_ns)
{
	if (!arrive_ns || !len || !depart_ns || rate_Bps == 0 || burst > UINT32_MAX)
		return -EINVAL;
	for (size_t k = 1; k < n; k++)
		if (arrive_ns[k] < arrive_ns[k - 1])
			return -EINVAL;
	/* q->buffer and psched_l2t_ns(), in ns of transmission at the rate */
	const int64_t buffer = (int64_t)(burst * NSEC_PER_SEC / rate_Bps);
	int64_t toks = buffer, t_c = n ? arrive_ns[0] : 0, prev = INT64_MIN;

	for (size_t k = 0; k < n; k++) {
		int64_t need = (int64_t)((uint64_t)len[k] * NSEC_PER_SEC / rate_Bps);
		int64_t ready = arrive_ns[k] > prev ? arrive_ns[k] : prev;
		int64_t avail = toks + (ready - t_c) < buffer ? toks + (ready - t_c) : buffer;
		/* not there yet: the watchdog for the deficit */
		int64_t d = avail >= need ? ready : ready + (need - avail);

		toks = (toks + (d - t_c) < buffer ? toks + (d - t_c) : buffer) - need;
		t_c = d;
		depart_ns[k] = prev = d;
	}
	return 0;
}

