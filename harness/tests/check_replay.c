/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_check_count_replayed() on synthetic stamps (a test of the harness,
 * issue 10): no network, the model's own schedule as the capture.  RTO
 * 51 jiffies-like timers at this kernel's HZ, tcp_retries2 3: the ideal
 * clock makes 6 transmissions; a timer late near the budget makes 5, and
 * the check must accept what the kernel's rule makes of the stamps.  The
 * last case feeds a wrong budget (the model told tcp_retries2 5): it must
 * fail (meson: should_fail).
 *
 * tf_check_schedule()'s gaps: a timer 40 ms late makes the next gap 40 ms
 * short when the kernel's clock was behind; with that lateness measured
 * (TF_TIMER_WORST_US, as the sentinel would) the short gap passes, without
 * it (gap_short_unmeasured, should_fail) it fails.
 *
 * A timer armed in a syscall while the kernel's clock was behind fires
 * early by as much: given back (armed_while_behind), not without the lag
 * (armed_early_unmeasured).
 *
 * An at-once answer late by the measured softirq lateness passes
 * (answer_after_late_softirq), fails without (answer_late_unmeasured).
 *
 * A give-up 250 ms late passes with a timer measured that late
 * (giveup_after_late_timer), fails without (giveup_late_unmeasured); the
 * wake-up sentinel is pinned at 0 (TF_WAKEUP_WORST_US), as a loaded host's
 * worst would otherwise decide it.
 *
 * A transmission another host's timers send (the router's ICMP, unreach_*):
 * checked after the packet that started them, so the sender's lateness
 * before it passes and a router chain shorter than its timers fails; a
 * chain started by a packet a late callback sent is short by that
 * lateness, given back up to the measured timer lateness (unreach_burst_*).
 */
#include <stdio.h>
#include <stdlib.h>

#include "tf_test.h"
#include "check_replay.h"

#define MS 1000000LL   /* ns */

typedef struct synth {
	tf_model *m;
	tf_schedule *s;
	int64_t tx[TF_RUN_MAX_TX];
	size_t n;
	int64_t giveup;   /* ns */
} synth;

static void synth_make(synth *y, unsigned retries2)
{
	tf_must(tf_model_new(&y->m));
	tf_must(tf_model_set_hz(y->m, tf_case_hz()));
	tf_must(tf_model_set_rtt(y->m, 100, 50));
	tf_must(tf_model_set_retries2(y->m, retries2));
	tf_must(tf_model_retrans(y->m, &y->s));
	y->n = tf_schedule_giveup(y->s);
	for (size_t i = 0; i < y->n; i++)
		y->tx[i] = 1000 * MS + tf_schedule_event(y->s, i)->at_us * 1000;
	y->giveup = 1000 * MS + tf_schedule_event(y->s, y->n)->at_us * 1000 + 3 * MS;
}

static void synth_free(synth *y)
{
	tf_schedule_free(y->s);
	tf_model_free(y->m);
}

/* The sentinel's worst as the harness would have measured it: this much
 * beyond the slack, or none (0: no lateness measured). */
static void timer_worst(int64_t beyond_slack_us)
{
	char v[32];

	snprintf(v, sizeof v, "%lld", beyond_slack_us ? (long long)(tf_slack_us() + beyond_slack_us) : 0LL);
	setenv("TF_TIMER_WORST_US", v, 1);
}

static uint64_t budget_of(const synth *y)
{
	uint64_t ms = 0;

	tf_must(tf_model_retries2_budget_ms(y->m, &ms));
	return ms;
}

TF_CASE(replay_on_time, .proves = "on time: the model's count, exactly")
{
	tf_count_replay r;
	synth y;

	synth_make(&y, 3);
	tf_expect_int("check passes", tf_check_count_replayed("t", y.s, budget_of(&y), y.tx, y.n,
	                                                      y.giveup, &r), 1);
	tf_expect_int("replayed = ideal count", (long)r.lo, (long)y.n);
	tf_expect_int("not ambiguous", r.ambiguous, 0);
	synth_free(&y);
}

TF_CASE(replay_late_one_fewer, .proves = "a timer late near the budget: one transmission fewer, accepted")
{
	tf_count_replay r;
	synth y;

	synth_make(&y, 3);
	/* the 3rd RTO's timer 150 ms late: the 4th expiry passes the
	 * budget and stops; it sends nothing */
	size_t f = (size_t)tf_schedule_nth(y.s, TF_TX_RTO, 1);
	y.tx[f + 2] += 150 * MS;
	int64_t stop = y.tx[f + 2] + tf_schedule_event(y.s, f + 3)->gap_us * 1000;
	tf_expect_int("check passes", tf_check_count_replayed("t", y.s, budget_of(&y), y.tx, f + 3,
	                                                      stop + 2 * MS, &r), 1);
	tf_expect_int("replayed: one fewer than the ideal clock", (long)r.lo, (long)y.n - 1);
	synth_free(&y);
}

TF_CASE(replay_ambiguous_either, .proves = "an expiry within 1 jiffy + slack of the budget: either count")
{
	tf_count_replay r;
	synth y;

	synth_make(&y, 3);
	size_t f = (size_t)tf_schedule_nth(y.s, TF_TX_RTO, 1);
	/* the 4th expiry lands exactly on the budget */
	int64_t shift = (int64_t)budget_of(&y) * MS - (y.tx[f + 3] - y.tx[f]);
	y.tx[f + 2] += shift;
	y.tx[f + 3] += shift;
	tf_expect_int("it retransmitted there: passes", tf_check_count_replayed("t", y.s, budget_of(&y),
	              y.tx, y.n, y.giveup + shift, &r), 1);
	tf_expect_int("ambiguous", r.ambiguous, 1);
	tf_expect_int("or it stopped there: passes", tf_check_count_replayed("u", y.s, budget_of(&y),
	              y.tx, y.n - 1, y.tx[f + 3] + 2 * MS, &r), 1);
	synth_free(&y);
}

/* The schedule's stamps with the 2nd RTO's transmission 40 ms late: its
 * gap long, the next one short, the moments after it on time. */
static void late_then_short(void)
{
	synth y;

	synth_make(&y, 3);
	size_t f = (size_t)tf_schedule_nth(y.s, TF_TX_RTO, 1);
	y.tx[f + 1] += 40 * MS;
	tf_check_schedule("t", y.s, y.tx, y.n, y.giveup);
	synth_free(&y);
}

TF_CASE(gap_short_after_late, .proves = "a gap short by its predecessor's lateness, measured: passes")
{
	timer_worst(40000);
	late_then_short();
}

TF_CASE(gap_short_unmeasured, .proves = "the same with no lateness measured: fails")
{
	timer_worst(0);
	late_then_short();
}

/* The schedule's stamps with the first gap 13 ms short: its timer armed
 * while the kernel's clock was behind (a CI run, beside a 96 ms stall). */
static void first_short(void)
{
	synth y;

	synth_make(&y, 3);
	for (size_t i = 1; i < y.n; i++)
		y.tx[i] -= 13 * MS;
	y.giveup -= 13 * MS;
	timer_worst(40000);
	tf_check_schedule("t", y.s, y.tx, y.n, y.giveup);
	synth_free(&y);
}

TF_CASE(gap_first_short_behind, .proves = "a first gap short while the timers were behind, measured: passes")
{
	setenv("TF_TIMER_LATE_AT_US", "15000", 1);
	first_short();
}

TF_CASE(gap_first_short_unmeasured, .proves = "the same with no timer pending late then: fails")
{
	setenv("TF_TIMER_LATE_AT_US", "0", 1);
	first_short();
}

/* The give-up 250 ms late: its timer's callback ran late
 * (nothing on the wire; the application woke after it). */
static void giveup_late(void)
{
	synth y;

	setenv("TF_WAKEUP_WORST_US", "0", 1);   /* the timer's lateness alone decides */
	synth_make(&y, 3);
	y.giveup += 250 * MS;
	tf_check_schedule("t", y.s, y.tx, y.n, y.giveup);
	synth_free(&y);
}

TF_CASE(giveup_after_late_timer, .proves = "a give-up late by its timer's measured lateness: passes")
{
	timer_worst(300000);
	giveup_late();
}

TF_CASE(giveup_late_unmeasured, .proves = "the same with no timer lateness measured: fails")
{
	timer_worst(0);
	giveup_late();
}

/* An answer to a received packet 15 ms after its stamp (a TCG guest:
 * 19 ms, its softirq as late as its timers). */
TF_CASE(answer_after_late_softirq, .proves = "an at-once answer late by the measured softirq lateness: passes")
{
	timer_worst(20000);
	tf_expect_answer_time("answer", 15000 + tf_slack_us(), 0, 0, 0);
}

TF_CASE(answer_late_unmeasured, .proves = "the same with no lateness measured: fails")
{
	timer_worst(0);
	tf_expect_answer_time("answer", 15000 + tf_slack_us(), 0, 0, 0);
}

/* A timer armed inside a syscall while the kernel's clock was `behind_us`
 * behind fires early by as much (a 6.12 guest: zero-window probe #1 20 ms
 * early after the send() that armed it): 55 jiffies, 5 ms below the low
 * edge, the sentinel's timers 30 ms late at worst. */
static void armed_early(long behind_us)
{
	char v[32];
	tf_band b;

	timer_worst(30000);
	snprintf(v, sizeof v, "%ld", behind_us);
	setenv("TF_TIMER_LATE_AT_US", v, 1);
	tf_must(tf_model_band(tf_case_hz(), 55, false, &b));
	tf_expect_timer_armed("probe #1 after the send() that armed it", b.lo_us - tf_slack_us() - 5000,
	                      b.mid_us, b.lo_us, b.hi_us, 1000 * MS);
}

TF_CASE(armed_while_behind, .proves = "a timer early by the clock's measured lag when armed: passes")
{
	armed_early(20000);
}

TF_CASE(armed_early_unmeasured, .proves = "the same with the clock on time then: fails")
{
	armed_early(0);
}

/*
 * A retransmission the router's ICMP sends (tf_model_unreach(): IPv4, the
 * kernel's neighbour defaults, tcp_retries2 5): #5 leaves while the sender
 * handles the first burst, 3 resolution timers after #0.  `sender_ms`
 * delays the sender's own expiries #1..#4 by that much in all (a stress
 * run: a gap #5 26 ms short, no expiry before it late); `router_ms` moves
 * #5 and everything after it; `burst_ms` moves #5..#8 only: the router's
 * timer that sent #5 late, the next burst (#9) back on its grid.
 */
static void unreach_stamps(int64_t sender_ms, int64_t router_ms, int64_t burst_ms)
{
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_unreach_freep) tf_unreach *u = NULL;
	tf_neigh_params p;
	int64_t tx[TF_RUN_MAX_TX];
	size_t burst = 0;

	tf_must(tf_model_new(&m));
	tf_must(tf_model_set_hz(m, tf_case_hz()));
	tf_must(tf_model_set_rtt(m, 48, 24));
	tf_must(tf_model_set_retries2(m, 5));
	tf_neigh_params_init(&p);
	p.hz = tf_case_hz();
	tf_must(tf_model_unreach(m, &p, &u));
	const tf_schedule *s = tf_unreach_schedule(u, 0);
	size_t n = tf_schedule_giveup(s);
	if (n > TF_RUN_MAX_TX || !tf_unreach_immediate(u, 0, 5, &burst) ||
	    tf_schedule_event(s, 5)->from != 0)
		tf_fail("the model's #5 is not the first burst's");
	for (size_t i = 0; i < n; i++)
		tx[i] = 1000 * MS + tf_schedule_event(s, i)->at_us * 1000 +
		        (i >= 5 ? router_ms + (i < 9 ? burst_ms : 0) : sender_ms * (int64_t)i / 4) * MS;
	if (!getenv("TF_TIMER_WORST_US"))
		timer_worst(40000);
	setenv("TF_TIMER_LATE_AT_US", "0", 1);
	tf_check_schedule("unreach", s, tx, n,
	                  1000 * MS + (tf_schedule_event(s, n)->at_us + router_ms * 1000) * 1000 + 3 * MS);
}

TF_CASE(unreach_on_time, .proves = "the closed loop's own stamps: pass")
{
	unreach_stamps(0, 0, 0);
}

TF_CASE(unreach_sender_late, .proves = "the sender's expiries 40 ms late in all before the ICMP sends #5: passes (its gap 40 ms short)")
{
	unreach_stamps(40, 0, 0);
}

TF_CASE(unreach_burst_late, .proves = "the router's timer that sent #5 10 ms late, measured as late as that: #9 10 ms short after #5 passes")
{
	unreach_stamps(0, 0, 10);
}

TF_CASE(unreach_burst_late_unmeasured, .proves = "the same with no timer lateness measured: fails")
{
	timer_worst(0);
	unreach_stamps(0, 0, 10);
}

TF_CASE(unreach_router_early, .proves = "#5 40 ms before the router's timers can send it: fails")
{
	unreach_stamps(0, -40, 0);
}

TF_CASE(replay_wrong_budget, .proves = "a wrong budget still fails (tcp_retries2 5 told, 3 run)")
{
	synth y, w;

	synth_make(&y, 3);
	synth_make(&w, 5);
	/* the stamps of retries2 3, checked with the schedule and budget of 5 */
	tf_check_count_replayed("t", w.s, budget_of(&w), y.tx, y.n, y.giveup, NULL);
	synth_free(&y);
	synth_free(&w);
}
