/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_sched.c — schedules: the builder every schedule model uses, the
 * accessors of tf_schedule, and which schedule a socket's timers start
 * (see tf_model.h, "schedules" and "which schedule runs").
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>

/* Append an event whose times are already in µs. */
int tfm_sched_push_us(tf_schedule *s, tf_tx_kind kind, uint64_t timer_j, int64_t gap_lo,
		      int64_t gap_hi, int64_t at_lo, int64_t at_hi, const char *rule)
{
	tf_sched_event *e;

	if (s->n >= TF_MODEL_MAX_EVENTS)
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

/* Append an event `gap` jiffies after the previous one: the bands add up
 * in jiffies and become µs only here. */
int tfm_push(struct builder *b, tf_tx_kind kind, uint64_t timer_j, struct band gap,
	     const char *rule)
{
	unsigned hz = b->m->hz;

	b->at_lo += gap.lo;
	b->at_hi += gap.hi;
	return tfm_sched_push_us(b->s, kind, timer_j, (int64_t)jiffies_to_usecs(hz, gap.lo),
				 (int64_t)jiffies_to_usecs(hz, gap.hi),
				 (int64_t)jiffies_to_usecs(hz, b->at_lo),
				 (int64_t)jiffies_to_usecs(hz, b->at_hi), rule);
}

static const struct band zero_band;

uint64_t tfm_mid_us(unsigned hz, uint64_t lo, uint64_t hi)
{
	return (jiffies_to_usecs(hz, lo) + jiffies_to_usecs(hz, hi)) / 2;
}

struct elapsed tfm_elapsed_since(const struct builder *b, struct band gap, uint64_t ref_lo,
				 uint64_t ref_hi)
{
	unsigned hz = b->m->hz;
	uint64_t lo = b->at_lo + gap.lo, hi = b->at_hi + gap.hi;
	struct elapsed e;

	e.lo_us = jiffies_to_usecs(hz, lo - ref_lo);
	e.hi_us = jiffies_to_usecs(hz, hi - ref_hi);
	e.mid_us = tfm_mid_us(hz, lo, hi) - tfm_mid_us(hz, ref_lo, ref_hi);
	return e;
}

int tfm_sched_begin(struct builder *b, const tf_model *m, tf_tx_kind kind0, const char *rule0,
		    int err)
{
	int r;

	b->m = m;
	b->at_lo = b->at_hi = 0;
	b->s = calloc(1, sizeof(*b->s));
	if (!b->s)
		return -ENOMEM;
	b->s->err = err;
	r = tfm_push(b, kind0, 0, zero_band, rule0);
	if (r < 0)
		tf_schedule_free(b->s);
	return r;
}

int tfm_sched_end(struct builder *b, int r, tf_schedule **ret)
{
	if (r < 0) {
		tf_schedule_free(b->s);
		return r;
	}
	*ret = b->s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Schedule accessors.                                                 */

const char *tf_tx_kind_name(tf_tx_kind k)
{
	switch (k) {
	case TF_TX_ORIGINAL:  return "original";
	case TF_TX_TLP:       return "tlp";
	case TF_TX_RTO:       return "rto";
	case TF_TX_SYN:       return "syn";
	case TF_TX_SYN_RTO:   return "syn-rto";
	case TF_TX_KEEPALIVE: return "keepalive";
	case TF_TX_GIVEUP:    return "giveup";
	}
	return "?";
}

size_t tf_schedule_count(const tf_schedule *s)
{
	return s ? s->n : 0;
}

const tf_sched_event *tf_schedule_event(const tf_schedule *s, size_t i)
{
	if (!s || i >= s->n)
		return NULL;
	return &s->ev[i];
}

int tf_schedule_errno(const tf_schedule *s)
{
	return s ? s->err : 0;
}

size_t tf_schedule_giveup(const tf_schedule *s)
{
	return s && s->n ? s->n - 1 : 0;
}

void tf_schedule_free(tf_schedule *s)
{
	if (!s)
		return;
	free(s->ev);
	free(s);
}

long tf_schedule_nth(const tf_schedule *s, tf_tx_kind kind, unsigned n)
{
	for (size_t i = 0; s && n && i < s->n; i++)
		if (s->ev[i].kind == kind && --n == 0)
			return (long)i;
	return -1;
}

size_t tf_schedule_count_kind(const tf_schedule *s, tf_tx_kind kind)
{
	size_t k = 0;

	for (size_t i = 0; s && i < tf_schedule_giveup(s); i++)
		k += s->ev[i].kind == kind;
	return k;
}

size_t tf_schedule_head_tx(const tf_schedule *s, unsigned packets_out)
{
	size_t k = 0;

	if (!s || s->idle)
		return 0;
	for (size_t i = 0; i < tf_schedule_giveup(s); i++) {
		tf_tx_kind kk = s->ev[i].kind;

		k += kk == TF_TX_ORIGINAL || kk == TF_TX_RTO || kk == TF_TX_SYN ||
		     kk == TF_TX_SYN_RTO || (kk == TF_TX_TLP && packets_out <= 1);
	}
	return k;
}

/* ------------------------------------------------------------------ */
/* Which schedule runs after the peer went away.
 *
 * The timers of an ESTABLISHED (or CLOSE_WAIT) socket, net/ipv4/tcp_timer.c
 * and tcp_output.c: unacknowledged data keeps the retransmission timer
 * (tcp_rearm_rto(), ICSK_TIME_RETRANS / LOSS_PROBE / REO_TIMEOUT: idiag
 * timer 1); data queued with nothing in flight arms the zero-window probe
 * timer instead (tcp_check_probe_timer(), timer 4), which probes rather
 * than retransmits (tcp_probe_timer()); queued data the window lets out
 * becomes unacknowledged at once; with nothing queued only SO_KEEPALIVE's
 * sk_timer runs (tcp_set_keepalive(), timer 2).  An idle socket without
 * keepalive has no timer: nothing ever notices the peer is gone. */
tf_sched_kind tf_model_which_schedule(const tf_sock_timers *t)
{
	if (!t)
		return TF_SCHED_NEVER;
	if (t->state == TCP_SYN_SENT)
		return TF_SCHED_SYN;
	if (t->state != TCP_ESTABLISHED && t->state != TCP_CLOSE_WAIT)
		return TF_SCHED_OTHER;
	if ((t->timers_seen & (1u << TF_TIMER_RETRANS)) || (t->have_unacked && t->unacked > 0))
		return TF_SCHED_RETRANS;
	if (t->timer == TF_TIMER_PROBE0 || (t->timers_seen & (1u << TF_TIMER_PROBE0)))
		return TF_SCHED_ZERO_WINDOW;
	if (t->wqueue > 0)
		return TF_SCHED_RETRANS;
	if ((t->timers_seen & (1u << TF_TIMER_KEEPALIVE)) || t->keepalive > 0 ||
	    (t->keepalive < 0 && t->timer == TF_TIMER_KEEPALIVE))
		return TF_SCHED_KEEPALIVE;
	return TF_SCHED_NEVER;
}

const char *tf_sched_kind_name(tf_sched_kind k)
{
	switch (k) {
	case TF_SCHED_NEVER:       return "never";
	case TF_SCHED_RETRANS:     return "retrans";
	case TF_SCHED_SYN:         return "syn";
	case TF_SCHED_KEEPALIVE:   return "keepalive";
	case TF_SCHED_ZERO_WINDOW: return "zero-window";
	case TF_SCHED_OTHER:       return "other";
	}
	return "?";
}
