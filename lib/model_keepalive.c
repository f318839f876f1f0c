/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_keepalive.c — an idle connection with SO_KEEPALIVE whose peer went
 * silent: the probes, TCP_USER_TIMEOUT and the RST (see tf_model.h).
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>

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
	r = tfm_sched_begin(&b, m, TF_TX_ORIGINAL, R_KA_LAST, tfm_giveup_errno(m));
	if (r < 0)
		return r;
	b.s->idle = true;
	if (m->user_timeout_ms)
		ut_us = jiffies_to_usecs(m->hz, msecs_to_jiffies(m->hz, m->user_timeout_ms));

	d = (uint64_t)m->ka_idle_s * m->hz;
	while (r >= 0) {
		struct band gap = tfm_timer_band(m->hz, d, from_tick);
		bool giveup;

		if (m->user_timeout_ms)
			giveup = probes > 0 && tfm_elapsed_since(&b, gap, 0, 0).mid_us >= ut_us;
		else
			giveup = probes >= m->ka_cnt;
		if (giveup) {
			r = tfm_push(&b, TF_TX_GIVEUP, d, gap,
				 m->user_timeout_ms ? R_KA_GIVEUP_UT : R_KA_GIVEUP);
			break;
		}
		r = tfm_push(&b, TF_TX_KEEPALIVE, d, gap, rule);
		probes++;
		d = (uint64_t)m->ka_intvl_s * m->hz;
		from_tick = true;
		rule = R_KA_NEXT;
	}
	return tfm_sched_end(&b, r, ret);
}

/* ------------------------------------------------------------------ */
/* A live peer that answers every probe.
 *
 * tcp_keepalive_timer() fires keepalive_intvl_when() after a probe (armed
 * in the timer callback that sent it); the answer, less than a jiffy after
 * the probe, moved lrcvtime and rcv_tstamp, so keepalive_time_elapsed()
 * (now - max of them) is < keepalive_time: no probe, the timer re-armed for
 * keepalive_time - elapsed = idle - intvl jiffies.  The next probe comes
 * keepalive_time after the answer: from idle - 1 jiffy (the answer's
 * jiffy stamp) to idle + gran(idle - intvl) (the wheel on the re-arm).
 * When intvl >= idle the expiry after a probe already finds the socket
 * idle long enough and probes again: -EOPNOTSUPP (not modelled). */
int tf_model_keepalive_answered_band(unsigned hz, uint32_t idle_s, uint32_t intvl_s,
				     tf_band *ret)
{
	uint64_t idle_j = (uint64_t)idle_s * hz, intvl_j = (uint64_t)intvl_s * hz;

	if (!ret || hz < 100 || hz > 1000)
		return -EINVAL;
	if (idle_j <= intvl_j)
		return -EOPNOTSUPP;
	ret->jiffies = (unsigned)(idle_j - intvl_j);
	ret->gran = tf_model_wheel_gran(hz, idle_j - intvl_j);
	ret->lo_us = (int64_t)jiffies_to_usecs(hz, idle_j - 1);
	ret->hi_us = (int64_t)jiffies_to_usecs(hz, idle_j + ret->gran);
	ret->mid_us = (ret->lo_us + ret->hi_us) / 2;
	return 0;
}

/* tcp_keepalive_timer() after a probe at jiffy j re-arms for
 * keepalive_intvl_when() from its callback; at that expiry the answer (in
 * j) is fire - j old: at least keepalive_time, a probe; less, the timer is
 * re-armed from that callback for the rest (keepalive_time - elapsed) and
 * probes then (elapsed is then >= keepalive_time). */
int tf_model_keepalive_answered_next(unsigned hz, uint32_t idle_s, uint32_t intvl_s, int64_t j,
                                     int64_t *next)
{
	uint64_t idle_j = (uint64_t)idle_s * hz, intvl_j = (uint64_t)intvl_s * hz;
	int64_t fire;

	if (!next || hz < 100 || hz > 1000 || !idle_s || !intvl_s || j < 0)
		return -EINVAL;
	fire = tfm_wheel_fire(hz, j, intvl_j, true);
	if ((uint64_t)(fire - j) < idle_j)
		fire = tfm_wheel_fire(hz, fire, idle_j - (uint64_t)(fire - j), true);
	*next = fire;
	return 0;
}

/* Probe 1 in the schedule's first band (plus the answer's round trip, under
 * a jiffy), each next one tf_model_keepalive_answered_band() after the
 * previous answer. */
int tf_model_keepalive_answered_count(const tf_model *m, int64_t window_us, unsigned *sure,
				      unsigned *maybe)
{
	tf_schedule *s = NULL;
	const tf_sched_event *first;
	tf_band next;
	int64_t lo, hi, jus;
	int r;

	if (!m || !sure || !maybe)
		return -EINVAL;
	*sure = *maybe = 0;
	r = tf_model_keepalive_answered_band(m->hz, m->ka_idle_s, m->ka_intvl_s, &next);
	if (r < 0)
		return r;
	r = tf_model_keepalive(m, &s);
	if (r < 0)
		return r;
	first = tf_schedule_event(s, 1);
	jus = (int64_t)(USEC_PER_SEC / m->hz);
	for (lo = first->at_lo_us, hi = first->at_hi_us + jus; lo < window_us;
	     lo += next.lo_us, hi += next.hi_us + jus) {
		if (*maybe >= TF_MODEL_MAX_EVENTS) {
			r = -E2BIG;
			break;
		}
		(*maybe)++;
		*sure += hi < window_us;
	}
	tf_schedule_free(s);
	return r;
}
