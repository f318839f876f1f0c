/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of tcp_write_timeout() replayed on measured stamps
 * (model_retrans.c, issue 10): synthetic stamps at HZ=250, RTO 51
 * jiffies (a veth RTT), tcp_retries2 3, budget tcp_model_timeout(3,
 * TCP_RTO_MIN) = 3000 ms.  On the ideal clock the 4th RTO expiry comes
 * 2910 ms after the first RTO retransmission (90 ms short of the budget)
 * and the 5th gives up: 6 transmissions (original, loss probe, 4 RTOs).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "tf_model.h"

#define MS 1000LL

typedef struct fx {
	tf_model *m;
	tf_schedule *s;
	uint64_t budget_ms;
	int64_t slack;
	int64_t tx[16];      /* the ideal clock's transmissions (midpoints) */
	size_t n;            /* model count */
	int64_t giveup;      /* the ideal give-up moment */
} fx;

static void fx_make(fx *f, unsigned retries2)
{
	assert_int_equal(tf_model_new(&f->m), 0);
	assert_int_equal(tf_model_set_hz(f->m, 250), 0);
	assert_int_equal(tf_model_set_rtt(f->m, 100, 50), 0);
	assert_int_equal(tf_model_set_retries2(f->m, retries2), 0);
	assert_int_equal(tf_model_retrans(f->m, &f->s), 0);
	assert_int_equal(tf_model_write_budget_ms(f->m, retries2, true, &f->budget_ms), 0);
	f->slack = tf_model_default_slack_us(250);   /* 1 jiffy + 2 ms */
	f->n = tf_schedule_giveup(f->s);
	for (size_t i = 0; i < f->n; i++)
		f->tx[i] = tf_schedule_event(f->s, i)->at_us;
	f->giveup = tf_schedule_event(f->s, f->n)->at_us;
}

static void fx_free(fx *f)
{
	tf_schedule_free(f->s);
	tf_model_free(f->m);
}

static void test_budget(void **state)
{
	tf_model *m = NULL;
	uint64_t ms = 0;

	(void)state;
	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_hz(m, 250), 0);
	assert_int_equal(tf_model_write_budget_ms(m, 3, true, &ms), 0);
	assert_int_equal(ms, 3000);           /* (2^4 - 1) * 200 ms */
	assert_int_equal(tf_model_write_budget_ms(m, 15, true, &ms), 0);
	assert_int_equal(ms, 924600);         /* 1023 * 200 ms + 6 * 120 s */
	assert_int_equal(tf_model_set_user_timeout_ms(m, 5000), 0);
	assert_int_equal(tf_model_write_budget_ms(m, 3, true, &ms), 0);
	assert_int_equal(ms, 5000);           /* the give-up: icsk_user_timeout */
	assert_int_equal(tf_model_write_budget_ms(m, 3, false, &ms), 0);
	assert_int_equal(ms, 3000);           /* tcp_retries1's test passes 0 */
	assert_int_equal(tf_model_write_budget_ms(NULL, 3, true, &ms), -EINVAL);
	assert_int_equal(tf_model_write_budget_ms(m, 3, true, NULL), -EINVAL);
	tf_model_free(m);
}

/* The setting: 6 transmissions, the 4th RTO 90 ms short of the budget. */
static void test_setting(void **state)
{
	fx f;

	(void)state;
	fx_make(&f, 3);
	assert_int_equal(tf_model_rto_jiffies(f.m), 51);
	assert_int_equal(f.budget_ms, 3000);
	assert_int_equal(f.n, 6);
	assert_int_equal(tf_schedule_nth(f.s, TF_TX_RTO, 1), 2);
	assert_int_equal(f.tx[5] - f.tx[2], 2910 * MS);
	fx_free(&f);
}

/* On time: the model's count, exactly. */
static void test_on_time(void **state)
{
	tf_count_replay r;
	fx f;

	(void)state;
	fx_make(&f, 3);
	assert_int_equal(tf_model_replay_giveup(f.s, 250, f.budget_ms, f.slack, f.tx, f.n,
	                                        f.giveup + 5 * MS, &r), 0);
	assert_int_equal(r.model, 6);
	assert_int_equal(r.first_rto, 2);
	assert_int_equal(r.lo, 6);
	assert_int_equal(r.hi, 6);
	assert_false(r.ambiguous);
	assert_true(r.ok);
	assert_int_equal(r.t.first, 5);   /* the 5th RTO expiry gives up */
	assert_int_equal(r.t.sure, 5);
	/* without the application's moment: the model's band bounds it */
	assert_int_equal(tf_model_replay_giveup(f.s, 250, f.budget_ms, f.slack, f.tx, f.n, -1, &r), 0);
	assert_int_equal(r.lo, 6);
	assert_int_equal(r.hi, 6);
	/* every transmission 2 jiffies late: the same */
	for (size_t i = 1; i < f.n; i++)
		f.tx[i] += 8 * MS * (int64_t)i;
	assert_int_equal(tf_model_replay_giveup(f.s, 250, f.budget_ms, f.slack, f.tx, f.n, -1, &r), 0);
	assert_int_equal(r.lo, 6);
	assert_int_equal(r.hi, 6);
	assert_true(r.ok);
	fx_free(&f);
}

/* The 3rd RTO's timer 150 ms late: the 4th expiry comes 3060 ms after
 * retrans_stamp, past the budget: the kernel stops there, one
 * transmission fewer than the ideal clock's, and the replay says so. */
static void test_late_one_fewer(void **state)
{
	tf_count_replay r;
	fx f;

	(void)state;
	fx_make(&f, 3);
	f.tx[4] += 150 * MS;
	int64_t stop = f.tx[4] + tf_schedule_event(f.s, 5)->gap_us;   /* expiry 4 */
	assert_int_equal(tf_model_replay_giveup(f.s, 250, f.budget_ms, f.slack, f.tx, 5,
	                                        stop + 3 * MS, &r), 0);
	assert_int_equal(r.model, 6);
	assert_int_equal(r.lo, 5);
	assert_int_equal(r.hi, 5);
	assert_false(r.ambiguous);
	assert_true(r.ok);
	assert_int_equal(r.t.sure, 4);
	/* the ideal count is now wrong for these stamps: 6 would need a 4th
	 * RTO retransmission at an elapsed time past the budget */
	f.tx[5] = stop;
	assert_int_equal(tf_model_replay_giveup(f.s, 250, f.budget_ms, f.slack, f.tx, 6,
	                                        stop + 1700 * MS, &r), 0);
	assert_false(r.ok);
	assert_int_equal(r.hi, 5);
	fx_free(&f);
}

/* The pmtu form: every expiry measured (detection retransmits).  One
 * timer 100 ms late near the boundary moves detection one expiry
 * earlier; on time it is the model's. */
static void test_measured_expiries(void **state)
{
	tf_timed_out t;
	int64_t e[5];
	fx f;

	(void)state;
	fx_make(&f, 3);
	for (size_t k = 0; k < 4; k++)
		e[k] = f.tx[2 + k];
	e[4] = f.giveup;
	assert_int_equal(tf_model_replay_timed_out(250, 3000, f.slack, e, e, 5, &t), 0);
	assert_int_equal(t.first, 5);
	assert_int_equal(t.sure, 5);
	assert_int_equal(t.tol_us, 4 * MS + f.slack);
	/* the 3rd RTO's timer 100 ms late: expiry 4 at 3010 ms */
	e[2] += 100 * MS;
	e[3] += 100 * MS;
	e[4] += 100 * MS;
	assert_int_equal(tf_model_replay_timed_out(250, 3000, f.slack, e, e, 5, &t), 0);
	assert_int_equal(t.first, 4);
	assert_int_equal(t.sure, 4);
	assert_int_equal(t.sure_lo_us, 3010 * MS);
	/* 95 ms late: 3005 ms, inside 1 jiffy + slack of the budget: either */
	e[2] -= 5 * MS;
	e[3] -= 5 * MS;
	e[4] -= 5 * MS;
	assert_int_equal(tf_model_replay_timed_out(250, 3000, f.slack, e, e, 5, &t), 0);
	assert_int_equal(t.first, 4);
	assert_int_equal(t.sure, 5);
	/* 1 jiffy + slack short of the budget (2990 ms) is also either */
	e[2] -= 15 * MS;
	e[3] -= 15 * MS;
	assert_int_equal(tf_model_replay_timed_out(250, 3000, f.slack, e, e, 4, &t), 0);
	assert_int_equal(t.first, 4);
	assert_int_equal(t.sure, 0);   /* not within these 4 expiries */
	fx_free(&f);
}

/* The 3rd RTO's timer 95 ms late: the 4th expiry comes 3005 ms after
 * retrans_stamp, within 1 jiffy + slack of the budget: either count is
 * the kernel's, and both are accepted. */
static void test_ambiguous_both(void **state)
{
	tf_count_replay r;
	fx f;

	(void)state;
	fx_make(&f, 3);
	f.tx[4] += 95 * MS;
	f.tx[5] += 95 * MS;
	int64_t stop4 = f.tx[5];   /* when the 4th expiry fires */
	/* stopped at the 4th expiry: 5 transmissions */
	assert_int_equal(tf_model_replay_giveup(f.s, 250, f.budget_ms, f.slack, f.tx, 5,
	                                        stop4 + 2 * MS, &r), 0);
	assert_int_equal(r.lo, 5);
	assert_int_equal(r.hi, 6);
	assert_true(r.ambiguous);
	assert_true(r.ok);
	assert_int_equal(r.model, 6);
	/* or not: a 4th RTO retransmission, the 5th expiry stops: 6 */
	assert_int_equal(tf_model_replay_giveup(f.s, 250, f.budget_ms, f.slack, f.tx, 6,
	                                        f.giveup + 95 * MS + 2 * MS, &r), 0);
	assert_int_equal(r.lo, 5);
	assert_int_equal(r.hi, 6);
	assert_true(r.ok);
	fx_free(&f);
}

/* A wrong budget is still caught: the mutants (lost_peer retries2 5, the
 * model told 6; and told 4). */
static void test_wrong_budget(void **state)
{
	tf_schedule *s6 = NULL;
	tf_count_replay r;
	uint64_t b;
	fx f;

	(void)state;
	fx_make(&f, 5);
	assert_int_equal(f.n, 7);
	assert_int_equal(tf_model_write_budget_ms(f.m, 6, true, &b), 0);   /* 25400 ms */
	assert_int_equal(tf_model_set_retries2(f.m, 6), 0);
	assert_int_equal(tf_model_retrans(f.m, &s6), 0);
	assert_int_equal(tf_model_replay_giveup(s6, 250, b, f.slack, f.tx, f.n, f.giveup + 5 * MS, &r), 0);
	assert_false(r.ok);
	assert_int_equal(r.lo, 8);
	assert_int_equal(r.model, 8);
	/* the error seen very late (a paused application) changes nothing:
	 * 25.4 s is still not reached at the 6th expiry */
	assert_int_equal(tf_model_replay_giveup(s6, 250, b, f.slack, f.tx, f.n, f.giveup + 500 * MS, &r), 0);
	assert_false(r.ok);
	tf_schedule_free(s6);
	assert_int_equal(tf_model_write_budget_ms(f.m, 4, true, &b), 0);   /* 6200 ms */
	assert_int_equal(tf_model_replay_giveup(f.s, 250, b, f.slack, f.tx, f.n, f.giveup + 5 * MS, &r), 0);
	assert_false(r.ok);
	assert_int_equal(r.hi, 6);   /* the 5th expiry, 6304 ms: stopped there */
	fx_free(&f);
}

/* TCP_USER_TIMEOUT cuts the last timer to a few ms (here 46 ms, band
 * 8..84 ms), less than a TCG guest's slack (12 ms): the replay must keep
 * the expiries in order, not refuse them (it returned -EINVAL, and the
 * 6.12 guest's user_timeout_shorter_ipv4 fell back to the ideal count,
 * 6, where the kernel, its last RTO timer 20 ms late, stopped at 5). */
static void test_short_clamped_gap(void **state)
{
	/* the guest's stamps: original, loss probe, 3 RTO retransmissions */
	const int64_t tx[5] = { 0, 212431, 424201, 862945, 1732636 };
	tf_model *m = NULL;
	tf_schedule *s = NULL;
	tf_count_replay r;

	(void)state;
	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_hz(m, 250), 0);
	assert_int_equal(tf_model_set_rtt(m, 6000, 3000), 0);
	assert_int_equal(tf_model_set_user_timeout_ms(m, 3000), 0);
	assert_int_equal(tf_model_retrans(m, &s), 0);
	assert_int_equal(tf_schedule_giveup(s), 6);
	assert_true(tf_schedule_event(s, 6)->gap_lo_us < 12000);   /* the cut timer */
	assert_int_equal(tf_model_replay_giveup(s, 250, 3000, 12000, tx, 5, 3426214, &r), 0);
	assert_int_equal(r.model, 6);
	assert_int_equal(r.lo, 5);
	assert_true(r.ok);
	tf_schedule_free(s);
	tf_model_free(m);
}

static void test_bad_input(void **state)
{
	tf_count_replay r;
	tf_timed_out t;
	int64_t a[3] = { 0, 10, 5 }, b[3] = { 0, 10, 20 };
	tf_schedule *ka = NULL;
	tf_model *m = NULL;
	fx f;

	(void)state;
	fx_make(&f, 3);
	assert_int_equal(tf_model_replay_giveup(NULL, 250, 3000, 0, f.tx, f.n, -1, &r), -EINVAL);
	assert_int_equal(tf_model_replay_giveup(f.s, 250, 3000, 0, NULL, f.n, -1, &r), -EINVAL);
	assert_int_equal(tf_model_replay_giveup(f.s, 250, 3000, 0, f.tx, 0, -1, &r), -EINVAL);
	assert_int_equal(tf_model_replay_giveup(f.s, 250, 3000, -1, f.tx, f.n, -1, &r), -EINVAL);
	assert_int_equal(tf_model_replay_giveup(f.s, 250, 3000, 0, a, 3, -1, &r), -EINVAL);
	assert_int_equal(tf_model_replay_giveup(f.s, 99, 3000, 0, f.tx, f.n, -1, &r), -EINVAL);
	assert_int_equal(tf_model_replay_timed_out(250, 3000, 0, a, b, 3, &t), -EINVAL);
	assert_int_equal(tf_model_replay_timed_out(250, 3000, 0, b, a, 3, &t), -EINVAL);
	assert_int_equal(tf_model_replay_timed_out(250, 3000, 0, b, b, 0, &t), -EINVAL);
	assert_int_equal(tf_model_replay_timed_out(50, 3000, 0, b, b, 3, &t), -EINVAL);
	/* keepalive: no RTO to replay */
	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_retrans(m, &ka), 0);
	tf_schedule_free(ka);
	ka = NULL;
	assert_int_equal(tf_model_keepalive(m, &ka), 0);
	assert_int_equal(tf_model_replay_giveup(ka, 250, 3000, 0, f.tx, 2, -1, &r), -EOPNOTSUPP);
	tf_schedule_free(ka);
	tf_model_free(m);
	/* more transmissions than the model has events: no crash, judged on
	 * the measured expiries (the 4th is past a 1400 ms budget) */
	int64_t many[10];
	for (size_t i = 0; i < 10; i++)
		many[i] = f.tx[i < 6 ? i : 5] + (i < 6 ? 0 : (int64_t)(i - 5) * 4000 * MS);
	assert_int_equal(tf_model_replay_giveup(f.s, 250, 1400, f.slack, many, 10, -1, &r), 0);
	assert_false(r.ok);
	assert_int_equal(tf_model_replay_giveup(f.s, 250, 100000, f.slack, many, 10, -1, &r), 0);
	/* only the original seen (the error came at once): the kernel cannot
	 * stop before its first RTO retransmission; on the model's bands
	 * (every timer at its top) the 4th RTO expiry may already stop */
	assert_int_equal(tf_model_replay_giveup(f.s, 250, f.budget_ms, f.slack, f.tx, 1, 5 * MS, &r), 0);
	assert_false(r.ok);
	assert_int_equal(r.lo, 5);
	assert_int_equal(r.hi, 6);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_setting),
		cmocka_unit_test(test_on_time),
		cmocka_unit_test(test_late_one_fewer),
		cmocka_unit_test(test_measured_expiries),
		cmocka_unit_test(test_ambiguous_both),
		cmocka_unit_test(test_wrong_budget),
		cmocka_unit_test(test_short_clamped_gap),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
