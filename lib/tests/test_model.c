/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the model (lib/model*.c: state, timers, retransmission,
 * SYN, keepalive, qdiscs): pure arithmetic, no network.
 *
 * The expected numbers are the kernel's documented arithmetic (ip-sysctl's
 * 924.6 s, the seed-004 tables, 7200 + 9 x 75 s, 127/131 s of SYN retries)
 * or follow from the rules cited in lib/model*.c; none is a measured time.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tf_model.h"
#include "tf_sock.h"

#define MS 1000LL     /* µs per ms */
#define S  1000000LL  /* µs per s */
#define TICK (S / 250) /* µs per jiffy at HZ=250 */

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static tf_model *model(void)
{
	tf_model *m = NULL;

	assert_int_equal(tf_model_new(&m), 0);
	assert_non_null(m);
	return m;
}

typedef int (*sched_fn)(const tf_model *, tf_schedule **);

static tf_schedule *sched(const tf_model *m, sched_fn fn)
{
	tf_schedule *s = NULL;

	assert_int_equal(fn(m, &s), 0);
	assert_non_null(s);
	assert_true(tf_schedule_count(s) >= 2);
	assert_int_equal(tf_schedule_giveup(s), tf_schedule_count(s) - 1);
	assert_int_equal(tf_schedule_event(s, tf_schedule_giveup(s))->kind, TF_TX_GIVEUP);
	return s;
}

static const tf_sched_event *ev(const tf_schedule *s, size_t i)
{
	const tf_sched_event *e = tf_schedule_event(s, i);

	assert_non_null(e);
	return e;
}

static const tf_sched_event *giveup(const tf_schedule *s)
{
	return ev(s, tf_schedule_giveup(s));
}

/* Sum of the timers the kernel armed up to the give-up: the schedule's
 * arithmetic without the timer wheel's rounding. */
static int64_t nominal_jiffies(const tf_schedule *s)
{
	int64_t sum = 0;

	for (size_t i = 1; i < tf_schedule_count(s); i++)
		sum += ev(s, i)->timer_jiffies;
	return sum;
}

static size_t count_kind(const tf_schedule *s, tf_tx_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < tf_schedule_count(s); i++)
		n += ev(s, i)->kind == k;
	return n;
}

/* Every event: gap and cumulative bands ordered, expected = midpoint,
 * cumulative = running sum of the gaps. */
static void check_bands(const tf_schedule *s)
{
	int64_t lo = 0, hi = 0;

	for (size_t i = 0; i < tf_schedule_count(s); i++) {
		const tf_sched_event *e = ev(s, i);

		assert_true(e->gap_lo_us <= e->gap_hi_us);
		assert_int_equal(e->gap_us, (e->gap_lo_us + e->gap_hi_us) / 2);
		lo += e->gap_lo_us;
		hi += e->gap_hi_us;
		assert_int_equal(e->at_lo_us, lo);
		assert_int_equal(e->at_hi_us, hi);
		assert_int_equal(e->at_us, (e->at_lo_us + e->at_hi_us) / 2);
		assert_non_null(e->rule);
		if (i == 0) {
			assert_int_equal(e->gap_hi_us, 0);
			assert_int_equal(e->timer_jiffies, 0);
		}
	}
}

/* Everything observable about a model, to prove a failed setter changed
 * nothing. */
struct fingerprint {
	unsigned rto;
	uint64_t budget;
	size_t n[3];
	int64_t at[3], lo[3], hi[3];
	int err[3];
};

static void fingerprint(const tf_model *m, struct fingerprint *f)
{
	sched_fn fns[3] = { tf_model_retrans, tf_model_syn, tf_model_keepalive };

	memset(f, 0, sizeof(*f));
	f->rto = tf_model_rto_jiffies(m);
	assert_int_equal(tf_model_retries2_budget_ms(m, &f->budget), 0);
	for (int i = 0; i < 3; i++) {
		tf_schedule *s = NULL;

		assert_int_equal(fns[i](m, &s), 0);
		f->n[i] = tf_schedule_count(s);
		f->at[i] = giveup(s)->at_us;
		f->lo[i] = giveup(s)->at_lo_us;
		f->hi[i] = giveup(s)->at_hi_us;
		f->err[i] = tf_schedule_errno(s);
		tf_schedule_free(s);
	}
}

static void assert_unchanged(const tf_model *m, const struct fingerprint *before)
{
	struct fingerprint after;

	fingerprint(m, &after);
	assert_memory_equal(before, &after, sizeof(after));
}

/* ------------------------------------------------------------------ */
/* tcp_model_timeout(): ip-sysctl's 924.6 s and the seed-004 numbers   */

static void test_timeout_ms_seed(void **state)
{
	(void)state;
	assert_int_equal(tf_model_timeout_ms(15, 200, 120000), 924600);
	assert_int_equal(tf_model_timeout_ms(5, 200, 120000), 12600);
	assert_int_equal(tf_model_timeout_ms(15, 200, 1000), 14400);
	/* SYN_SENT budget: rto_base TCP_TIMEOUT_INIT. */
	assert_int_equal(tf_model_timeout_ms(6, 1000, 120000), 127000);
	assert_int_equal(tf_model_timeout_ms(0, 200, 120000), 200);
	/* linear_backoff_thresh = ilog2(600) = 9: 9 and 10 straddle it. */
	assert_int_equal(tf_model_timeout_ms(9, 200, 120000), 204600);
	assert_int_equal(tf_model_timeout_ms(10, 200, 120000), 324600);
	/* Inputs the kernel never has. */
	assert_int_equal(tf_model_timeout_ms(15, 0, 120000), 0);
	assert_int_equal(tf_model_timeout_ms(15, 2000, 1000), 0);
}

struct row {
	uint64_t start, timeout, end; /* ms */
};

/* Seed 004, "TCP retransmissions", first table (RTO_MAX 120 s). */
static const struct row table_120s[16] = {
	{      0,    200,    200 }, {    200,    400,    600 }, {    600,    800,   1400 },
	{   1400,   1600,   3000 }, {   3000,   3200,   6200 }, {   6200,   6400,  12600 },
	{  12600,  12800,  25400 }, {  25400,  25600,  51000 }, {  51000,  51200, 102200 },
	{ 102200, 102400, 204600 }, { 204600, 120000, 324600 }, { 324600, 120000, 444600 },
	{ 444600, 120000, 564600 }, { 564600, 120000, 684600 }, { 684600, 120000, 804600 },
	{ 804600, 120000, 924600 },
};

/* Seed 004, second table (TCP_RTO_MAX_MS = 1000): 0.2, 0.4, 0.8, then 1.0. */
static const struct row table_1s[16] = {
	{     0,  200,   200 }, {   200,  400,   600 }, {   600,  800,  1400 },
	{  1400, 1000,  2400 }, {  2400, 1000,  3400 }, {  3400, 1000,  4400 },
	{  4400, 1000,  5400 }, {  5400, 1000,  6400 }, {  6400, 1000,  7400 },
	{  7400, 1000,  8400 }, {  8400, 1000,  9400 }, {  9400, 1000, 10400 },
	{ 10400, 1000, 11400 }, { 11400, 1000, 12400 }, { 12400, 1000, 13400 },
	{ 13400, 1000, 14400 },
};

static void check_table(const struct row *t, uint32_t rto_max_ms)
{
	for (unsigned i = 0; i < 16; i++) {
		uint64_t start = 1, tmo = 1;

		assert_int_equal(tf_model_hypothetical_step(i, 200, rto_max_ms, &start, &tmo), 0);
		assert_int_equal(start, t[i].start);
		assert_int_equal(tmo, t[i].timeout);
		assert_int_equal(start + tmo, t[i].end);
		/* The end of row i is tcp_model_timeout(i). */
		assert_int_equal(start + tmo, tf_model_timeout_ms(i, 200, rto_max_ms));
	}
}

static void test_hypothetical_table_120s(void **state)
{
	(void)state;
	check_table(table_120s, 120000);
}

static void test_hypothetical_table_1s(void **state)
{
	(void)state;
	check_table(table_1s, 1000);
}

static void test_hypothetical_invalid(void **state)
{
	uint64_t a, b;

	(void)state;
	assert_int_equal(tf_model_hypothetical_step(0, 200, 120000, NULL, &b), -EINVAL);
	assert_int_equal(tf_model_hypothetical_step(0, 200, 120000, &a, NULL), -EINVAL);
	assert_int_equal(tf_model_hypothetical_step(0, 0, 120000, &a, &b), -EINVAL);
	assert_int_equal(tf_model_hypothetical_step(0, 2000, 1000, &a, &b), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* Keepalive: 7200 + 9 x 75 s                                          */

static void test_keepalive_default(void **state)
{
	tf_model *m = model();
	tf_schedule *s = sched(m, tf_model_keepalive);
	const tf_sched_event *g = giveup(s);

	(void)state;
	check_bands(s);
	assert_int_equal(tf_schedule_errno(s), ETIMEDOUT);
	assert_int_equal(count_kind(s, TF_TX_KEEPALIVE), 9);
	assert_int_equal(tf_schedule_count(s), 11);
	assert_int_equal(ev(s, 0)->kind, TF_TX_ORIGINAL);
	/* 7200 + 9 x 75 = 7875 s of timers. */
	assert_int_equal(nominal_jiffies(s), 7875LL * 250);
	assert_int_equal(ev(s, 1)->timer_jiffies, 7200u * 250);
	for (size_t i = 2; i < tf_schedule_count(s); i++)
		assert_int_equal(ev(s, i)->timer_jiffies, 75u * 250);
	/* The first timer starts off-tick: no +1; the nine from the timer
	 * callback each take at least one jiffy more. */
	assert_int_equal(g->at_lo_us, 7875 * S + 9 * TICK);
	/* 7200 s = 1.8 M jiffies sits at wheel level 5 (granularity 8^5). */
	assert_int_equal(ev(s, 1)->gap_lo_us, 7200 * S);
	assert_int_equal(ev(s, 1)->gap_hi_us, 7200 * S + 32768 * TICK);
	/* 75 s = 18750 jiffies: level 3, granularity 512. */
	assert_int_equal(ev(s, 2)->gap_lo_us, 75 * S + TICK);
	assert_int_equal(ev(s, 2)->gap_hi_us, 75 * S + 512 * TICK);
	tf_schedule_free(s);
	tf_model_free(m);
}

/* The socket's own options win over the host's (tf_model_set_from_sock):
 * TCP_KEEPIDLE 10, TCP_KEEPINTVL 5, TCP_KEEPCNT 3, TCP_SYNCNT 2; an
 * unknown value (0 or -1) keeps the model's. */
static void test_from_sock(void **state)
{
	tf_sock_knobs k = { .keepalive = 1, .ka_idle_s = 10, .ka_intvl_s = 5, .ka_cnt = 3,
	                    .user_timeout_ms = 0, .syncnt = 2, .rto_max_ms = -1 };
	struct tcp_info ti = { .tcpi_rtt = 0 };
	tf_model *m = model();
	tf_schedule *s;

	(void)state;
	assert_int_equal(tf_model_set_from_sock(m, NULL, NULL), -EINVAL);
	assert_int_equal(tf_model_set_from_sock(m, &k, &ti), 0);
	s = sched(m, tf_model_keepalive);
	assert_int_equal(count_kind(s, TF_TX_KEEPALIVE), 3);
	assert_int_equal(ev(s, 1)->timer_jiffies, 10u * 250);
	assert_int_equal(ev(s, 2)->timer_jiffies, 5u * 250);
	tf_schedule_free(s);
	s = sched(m, tf_model_syn);
	assert_int_equal(tf_schedule_count(s), 4);   /* the SYN, 2 retries, the give-up */
	tf_schedule_free(s);
	/* no RTT sample (srtt 0): the RTO stays the initial 1 s */
	assert_int_equal(tf_model_rto_jiffies(m), 250u);
	tf_model_free(m);
}

static void test_keepalive_user_timeout(void **state)
{
	tf_model *m = model();
	tf_schedule *s;

	(void)state;
	assert_int_equal(tf_model_set_keepalive(m, 10, 5, 3), 0);
	s = sched(m, tf_model_keepalive);
	assert_int_equal(nominal_jiffies(s), 25LL * 250);
	assert_int_equal(count_kind(s, TF_TX_KEEPALIVE), 3);
	tf_schedule_free(s);

	/* TCP_USER_TIMEOUT replaces the count: the first expiry with a probe
	 * out and idle >= 12 s is the second one, at 10 + 5 s. */
	assert_int_equal(tf_model_set_user_timeout_ms(m, 12000), 0);
	s = sched(m, tf_model_keepalive);
	assert_int_equal(count_kind(s, TF_TX_KEEPALIVE), 1);
	assert_int_equal(nominal_jiffies(s), 15LL * 250);
	tf_schedule_free(s);

	/* Longer than cnt probes last: probing goes on past cnt = 3. */
	assert_int_equal(tf_model_set_user_timeout_ms(m, 60000), 0);
	s = sched(m, tf_model_keepalive);
	assert_int_equal(count_kind(s, TF_TX_KEEPALIVE), 10);
	assert_int_equal(nominal_jiffies(s), 60LL * 250);
	tf_schedule_free(s);
	tf_model_free(m);
}

/* ------------------------------------------------------------------ */
/* SYN_SENT: 127 s without linear timeouts, 131 s with 4               */

static void test_syn_exponential(void **state)
{
	static const unsigned timers[] = { 250, 500, 1000, 2000, 4000, 8000, 16000 };
	tf_model *m = model();
	tf_schedule *s;

	(void)state;
	assert_int_equal(tf_model_set_syn_linear_timeouts(m, -1), 0);
	s = sched(m, tf_model_syn);
	check_bands(s);
	assert_int_equal(ev(s, 0)->kind, TF_TX_SYN);
	assert_int_equal(count_kind(s, TF_TX_SYN_RTO), 6);
	assert_int_equal(tf_schedule_count(s), 8);
	for (size_t i = 1; i < tf_schedule_count(s); i++)
		assert_int_equal(ev(s, i)->timer_jiffies, timers[i - 1]);
	assert_int_equal(nominal_jiffies(s), 127LL * 250);
	assert_int_equal(tf_schedule_errno(s), ETIMEDOUT);
	/* connect() arms from process context: 1 s (level 1) is [250, 258]. */
	assert_int_equal(ev(s, 1)->gap_lo_us, 1 * S);
	assert_int_equal(ev(s, 1)->gap_hi_us, 1 * S + 8 * TICK);
	tf_schedule_free(s);
	tf_model_free(m);
}

static void test_syn_linear(void **state)
{
	/* 1,1,1,1,1 then 2,4,8,16,32 s between SYNs, then 64 s to the error. */
	static const unsigned secs[] = { 1, 1, 1, 1, 1, 2, 4, 8, 16, 32, 64 };
	tf_model *m = model();
	tf_schedule *s;

	(void)state;
	assert_int_equal(tf_model_set_syn_linear_timeouts(m, 4), 0);
	s = sched(m, tf_model_syn);
	check_bands(s);
	assert_int_equal(count_kind(s, TF_TX_SYN_RTO), 10); /* syn_retries + linear */
	assert_int_equal(tf_schedule_count(s), 12);
	for (size_t i = 1; i < tf_schedule_count(s); i++)
		assert_int_equal(ev(s, i)->timer_jiffies, secs[i - 1] * 250);
	assert_int_equal(nominal_jiffies(s), 131LL * 250);
	tf_schedule_free(s);
	tf_model_free(m);
}

static void test_syn_time_budget(void **state)
{
	tf_model *m = model();
	tf_schedule *s;

	(void)state;
	/* TCP_SYNCNT 2 with 4 linear timeouts: the count allows 6
	 * retransmissions, but tcp_model_timeout(2, TCP_TIMEOUT_INIT) = 7 s
	 * since the SYN ends it at the expiry after the fifth. */
	assert_int_equal(tf_model_set_syn_retries(m, 2), 0);
	assert_int_equal(tf_model_set_syn_linear_timeouts(m, 4), 0);
	s = sched(m, tf_model_syn);
	assert_int_equal(count_kind(s, TF_TX_SYN_RTO), 5);
	assert_int_equal(nominal_jiffies(s), 7LL * 250);
	assert_true(giveup(s)->at_lo_us >= 7 * S);
	tf_schedule_free(s);

	/* Without the linear rule the count and the time agree: 1+2+4 s. */
	assert_int_equal(tf_model_set_syn_linear_timeouts(m, -1), 0);
	s = sched(m, tf_model_syn);
	assert_int_equal(count_kind(s, TF_TX_SYN_RTO), 2);
	assert_int_equal(nominal_jiffies(s), 7LL * 250);
	tf_schedule_free(s);
	tf_model_free(m);
}

/* ------------------------------------------------------------------ */
/* Established connection                                              */

static void test_rto_jiffies(void **state)
{
	tf_model *m = model();

	(void)state;
	/* No RTT sample: TCP_TIMEOUT_INIT. */
	assert_int_equal(tf_model_rto_jiffies(m), 250);
	/* veth: usecs_to_jiffies(50 + 200000) rounds up to 51. */
	assert_int_equal(tf_model_set_rtt(m, 50, 30), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 51);
	assert_int_equal(tf_model_set_rtt(m, 1, 0), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 51);
	/* A variance under rto_min does not count: 10 ms + 200 ms -> 53. */
	assert_int_equal(tf_model_set_rtt(m, 10000, 20000), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 53);
	/* Above it: 10 ms + 4 x 60 ms = 250 ms = 62.5 -> 63. */
	assert_int_equal(tf_model_set_rtt(m, 10000, 60000), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 63);
	/* tcp_bound_rto(): never above rto_max. */
	assert_int_equal(tf_model_set_rtt(m, 100000000, 30000000), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 30000);
	assert_int_equal(tf_model_set_rto_max_ms(m, 1000), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 250);
	/* HZ=1000: 200050 µs -> 201 jiffies. */
	assert_int_equal(tf_model_set_rtt(m, 50, 0), 0);
	assert_int_equal(tf_model_set_hz(m, 1000), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 201);
	assert_int_equal(tf_model_rto_jiffies(NULL), 0);
	tf_model_free(m);
}

/* retries2 = 5 on veth: TLP, the RTO 51 jiffies after it, four doublings,
 * and the error at the expiry that passes 12.6 s since the first RTO. */
static void test_retrans_retries2_5(void **state)
{
	static const tf_tx_kind kinds[] = {
		TF_TX_ORIGINAL, TF_TX_TLP, TF_TX_RTO, TF_TX_RTO, TF_TX_RTO, TF_TX_RTO,
		TF_TX_RTO, TF_TX_GIVEUP,
	};
	static const unsigned timers[] = { 0, 51, 51, 102, 204, 408, 816, 1632 };
	tf_model *m = model();
	tf_schedule *s;
	uint64_t budget;

	(void)state;
	assert_int_equal(tf_model_set_rtt(m, 50, 25), 0);
	assert_int_equal(tf_model_set_retries2(m, 5), 0);
	assert_int_equal(tf_model_retries2_budget_ms(m, &budget), 0);
	assert_int_equal(budget, 12600);
	s = sched(m, tf_model_retrans);
	check_bands(s);
	assert_int_equal(tf_schedule_count(s), 8);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(ev(s, i)->kind, kinds[i]);
		assert_int_equal(ev(s, i)->timer_jiffies, timers[i]);
	}
	/* PTO from the write (off-tick): [51, 52] jiffies. */
	assert_int_equal(ev(s, 1)->gap_lo_us, 51 * TICK);
	assert_int_equal(ev(s, 1)->gap_hi_us, 52 * TICK);
	assert_int_equal(ev(s, 1)->gap_us, 206 * MS);
	/* RTO armed in the probe's timer callback: exactly 51 + 1. */
	assert_int_equal(ev(s, 2)->gap_lo_us, 52 * TICK);
	assert_int_equal(ev(s, 2)->gap_hi_us, 52 * TICK);
	/* 102 jiffies: level 1, [103, 110]; 816: level 2, [817, 880]. */
	assert_int_equal(ev(s, 3)->gap_lo_us, 103 * TICK);
	assert_int_equal(ev(s, 3)->gap_hi_us, 110 * TICK);
	assert_int_equal(ev(s, 6)->gap_lo_us, 817 * TICK);
	assert_int_equal(ev(s, 6)->gap_hi_us, 880 * TICK);
	/* At the expiry before: less than 12.6 s since retrans_stamp; at the
	 * give-up: more, whatever the timer wheel did. */
	assert_true(ev(s, 6)->at_hi_us - ev(s, 2)->at_hi_us < 12600 * MS);
	assert_true(giveup(s)->at_lo_us - ev(s, 2)->at_lo_us >= 12600 * MS);
	assert_int_equal(tf_schedule_errno(s), ETIMEDOUT);
	tf_schedule_free(s);
	tf_model_free(m);
}

static void test_retrans_default_giveup(void **state)
{
	tf_model *m = model();
	tf_schedule *s;
	const tf_sched_event *g, *rto1;

	(void)state;
	assert_int_equal(tf_model_set_rtt(m, 50, 25), 0);
	s = sched(m, tf_model_retrans);
	check_bands(s);
	/* 15 RTO retransmissions after the probe; the 16th expiry is the
	 * first past 924.6 s since the first of them. */
	assert_int_equal(count_kind(s, TF_TX_TLP), 1);
	assert_int_equal(count_kind(s, TF_TX_RTO), 15);
	rto1 = ev(s, 2);
	g = giveup(s);
	assert_true(g->at_lo_us - rto1->at_lo_us >= 924600 * MS);
	assert_true(ev(s, tf_schedule_giveup(s) - 1)->at_hi_us - rto1->at_hi_us < 924600 * MS);
	/* Backoff capped at TCP_RTO_MAX = 30000 jiffies. */
	assert_int_equal(g->timer_jiffies, 30000);
	tf_schedule_free(s);
	tf_model_free(m);
}

static void test_retrans_no_tlp(void **state)
{
	tf_model *m = model();
	tf_schedule *s;

	(void)state;
	assert_int_equal(tf_model_set_rtt(m, 50, 0), 0);
	assert_int_equal(tf_model_set_retries2(m, 3), 0);
	assert_int_equal(tf_model_set_early_retrans(m, 2), 0);
	s = sched(m, tf_model_retrans);
	assert_int_equal(count_kind(s, TF_TX_TLP), 0);
	/* The first RTO is armed by the write, off-tick: [51, 52]. */
	assert_int_equal(ev(s, 1)->kind, TF_TX_RTO);
	assert_int_equal(ev(s, 1)->gap_lo_us, 51 * TICK);
	assert_int_equal(ev(s, 1)->gap_hi_us, 52 * TICK);
	tf_schedule_free(s);
	tf_model_free(m);
}

static void test_retrans_packets_out(void **state)
{
	tf_model *m = model();
	tf_schedule *s;

	(void)state;
	assert_int_equal(tf_model_set_rtt(m, 50, 0), 0);
	assert_int_equal(tf_model_set_packets_out(m, 2), 0);
	s = sched(m, tf_model_retrans);
	/* More than one segment out: 2 srtt + 2 ms, one jiffy. */
	assert_int_equal(ev(s, 1)->kind, TF_TX_TLP);
	assert_int_equal(ev(s, 1)->timer_jiffies, 1);
	assert_int_equal(ev(s, 2)->timer_jiffies, 51);
	tf_schedule_free(s);
	tf_model_free(m);
}

/* TCP_USER_TIMEOUT shorter than the retries2 budget: it replaces it, and
 * tcp_clamp_rto_to_user_timeout() cuts the last timer, so the error comes
 * between doublings, just past 3 s after the first RTO. */
static void test_user_timeout_shorter(void **state)
{
	tf_model *m = model();
	tf_schedule *s;
	const tf_sched_event *g, *prev, *rto1;

	(void)state;
	assert_int_equal(tf_model_set_rtt(m, 50, 0), 0);
	assert_int_equal(tf_model_set_user_timeout_ms(m, 3000), 0);
	s = sched(m, tf_model_retrans);
	check_bands(s);
	rto1 = ev(s, 2);
	g = giveup(s);
	prev = ev(s, tf_schedule_giveup(s) - 1);
	assert_int_equal(count_kind(s, TF_TX_RTO), 4);
	/* The timer before the error was clamped below the doubled RTO. */
	assert_true(g->timer_jiffies < 2 * prev->timer_jiffies);
	assert_true(g->timer_jiffies < 30);
	assert_true(g->at_us - rto1->at_us >= 3000 * MS);
	assert_true(g->at_us - rto1->at_us <= 3000 * MS + 2 * TICK);
	assert_non_null(strstr(g->rule, "USER_TIMEOUT"));
	tf_schedule_free(s);
	tf_model_free(m);
}

/* Longer than the budget: it still replaces it (not min()). */
static void test_user_timeout_longer(void **state)
{
	tf_model *m = model();
	tf_schedule *s;
	size_t without;

	(void)state;
	assert_int_equal(tf_model_set_rtt(m, 50, 0), 0);
	assert_int_equal(tf_model_set_retries2(m, 5), 0);
	s = sched(m, tf_model_retrans);
	without = count_kind(s, TF_TX_RTO);
	tf_schedule_free(s);

	assert_int_equal(tf_model_set_user_timeout_ms(m, 30000), 0);
	s = sched(m, tf_model_retrans);
	assert_true(count_kind(s, TF_TX_RTO) > without);
	/* The last timer was cut to what was left, 963 jiffies: wheel level
	 * 2, so the error comes 1 to 64 jiffies past the 30 s. */
	assert_int_equal(giveup(s)->timer_jiffies, 963);
	assert_true(giveup(s)->at_us - ev(s, 2)->at_us >= 30000 * MS);
	assert_true(giveup(s)->at_us - ev(s, 2)->at_us <= 30000 * MS + 64 * TICK);
	tf_schedule_free(s);
	tf_model_free(m);
}

/* TCP_RTO_MAX_MS = 1000: timers stop doubling at 250 jiffies, and with the
 * 6.15+ rule the budget is the seed's 14.4 s. */
static void test_rto_max_1000(void **state)
{
	tf_model *m = model();
	tf_schedule *s;
	uint64_t budget;
	size_t n;

	(void)state;
	assert_int_equal(tf_model_set_rtt(m, 50, 0), 0);
	assert_int_equal(tf_model_set_rto_max_ms(m, 1000), 0);
	assert_int_equal(tf_model_set_rto_max_in_budget(m, true), 0);
	assert_int_equal(tf_model_retries2_budget_ms(m, &budget), 0);
	assert_int_equal(budget, 14400);
	s = sched(m, tf_model_retrans);
	check_bands(s);
	n = tf_schedule_count(s);
	assert_int_equal(ev(s, 3)->timer_jiffies, 102);
	assert_int_equal(ev(s, 4)->timer_jiffies, 204);
	for (size_t i = 5; i < n; i++)
		assert_int_equal(ev(s, i)->timer_jiffies, 250);
	/* 15 RTO retransmissions: expected 14.494 s since the first at the
	 * 16th expiry.  1 s timers sit at wheel level 1 ([251, 258]), so by
	 * the band the 16th might still fall short of 14.4 s: the rule says
	 * so. */
	assert_int_equal(count_kind(s, TF_TX_RTO), 15);
	assert_true(giveup(s)->at_us - ev(s, 2)->at_us >= 14400 * MS);
	assert_true(giveup(s)->at_lo_us - ev(s, 2)->at_lo_us < 14400 * MS);
	assert_true(ev(s, n - 2)->at_hi_us - ev(s, 2)->at_hi_us < 14400 * MS);
	assert_non_null(strstr(giveup(s)->rule, "borderline"));
	tf_schedule_free(s);

	/* Before 6.15 tcp_model_timeout() used TCP_RTO_MAX: 924.6 s of 1 s
	 * timers. */
	assert_int_equal(tf_model_set_rto_max_in_budget(m, false), 0);
	assert_int_equal(tf_model_retries2_budget_ms(m, &budget), 0);
	assert_int_equal(budget, 924600);
	s = sched(m, tf_model_retrans);
	assert_true(count_kind(s, TF_TX_RTO) > 900);
	tf_schedule_free(s);
	tf_model_free(m);
}

/* A lower rto_min shortens the socket's RTO and probe, not the budget:
 * retransmits_timed_out() models from TCP_RTO_MIN. */
static void test_rto_min_lowered(void **state)
{
	tf_model *m = model();
	tf_schedule *s;
	uint64_t budget;

	(void)state;
	assert_int_equal(tf_model_set_rtt(m, 50, 0), 0);
	assert_int_equal(tf_model_set_retries2(m, 5), 0);
	assert_int_equal(tf_model_set_rto_min_us(m, 10000), 0);
	/* 10 ms is 2.5 jiffies: the floor is kept in jiffies, 3 = 12 ms;
	 * 50 + 12000 µs -> 4 jiffies. */
	assert_int_equal(tf_model_rto_jiffies(m), 4);
	assert_int_equal(tf_model_retries2_budget_ms(m, &budget), 0);
	assert_int_equal(budget, 12600);
	s = sched(m, tf_model_retrans);
	assert_int_equal(ev(s, 1)->timer_jiffies, 4);
	assert_int_equal(count_kind(s, TF_TX_RTO), 9);
	assert_true(giveup(s)->at_lo_us - ev(s, 2)->at_lo_us >= 12600 * MS);
	tf_schedule_free(s);
	tf_model_free(m);
}

static void test_errno(void **state)
{
	tf_model *m = model();
	tf_schedule *s = NULL;

	(void)state;
	assert_int_equal(tf_model_set_rtt(m, 50, 0), 0);
	assert_int_equal(tf_model_set_retries2(m, 3), 0);
	s = sched(m, tf_model_retrans);
	assert_int_equal(tf_schedule_errno(s), ETIMEDOUT);
	tf_schedule_free(s);
	s = sched(m, tf_model_keepalive);
	assert_int_equal(tf_schedule_errno(s), ETIMEDOUT);
	tf_schedule_free(s);

	/* ARP fails: tcp_write_err() takes sk_err_soft from the ICMP. */
	assert_int_equal(tf_model_set_neigh_failed(m, true), 0);
	s = sched(m, tf_model_retrans);
	assert_int_equal(tf_schedule_errno(s), EHOSTUNREACH);
	tf_schedule_free(s);
	s = sched(m, tf_model_keepalive);
	assert_int_equal(tf_schedule_errno(s), EHOSTUNREACH);
	tf_schedule_free(s);
	/* SYN_SENT ends at the first ICMP, whose time is not modelled. */
	s = (tf_schedule *)1;
	assert_int_equal(tf_model_syn(m, &s), -EOPNOTSUPP);
	assert_null(s);
	tf_model_free(m);
}

static void test_too_long(void **state)
{
	tf_model *m = model();
	tf_schedule *s = (tf_schedule *)1;

	(void)state;
	/* 24 days of 1 s timers. */
	assert_int_equal(tf_model_set_rto_max_ms(m, 1000), 0);
	assert_int_equal(tf_model_set_user_timeout_ms(m, INT_MAX), 0);
	assert_int_equal(tf_model_retrans(m, &s), -E2BIG);
	assert_null(s);
	tf_model_free(m);
}

/* ------------------------------------------------------------------ */
/* Setters: 0 or -errno, and a refused value changes nothing            */

static void test_setters(void **state)
{
	tf_model *m = model();
	struct fingerprint f;

	(void)state;
	assert_int_equal(tf_model_set_rtt(m, 50, 10), 0);
	assert_int_equal(tf_model_set_keepalive(m, 10, 5, 3), 0);
	assert_int_equal(tf_model_set_retries2(m, 4), 0);
	fingerprint(m, &f);

	assert_int_equal(tf_model_set_hz(m, 99), -ERANGE);
	assert_int_equal(tf_model_set_hz(m, 1001), -ERANGE);
	assert_int_equal(tf_model_set_rtt(m, 0, 5), -EINVAL);
	assert_int_equal(tf_model_set_rtt(m, 120000001, 0), -ERANGE);
	assert_int_equal(tf_model_set_rtt(m, 50, 120000001), -ERANGE);
	assert_int_equal(tf_model_set_rto_min_us(m, 0), -ERANGE);
	assert_int_equal(tf_model_set_rto_min_us(m, 120000001), -ERANGE);
	assert_int_equal(tf_model_set_rto_max_ms(m, 999), -ERANGE);
	assert_int_equal(tf_model_set_rto_max_ms(m, 120001), -ERANGE);
	assert_int_equal(tf_model_set_early_retrans(m, -1), -ERANGE);
	assert_int_equal(tf_model_set_early_retrans(m, 5), -ERANGE);
	assert_int_equal(tf_model_set_retries2(m, 256), -ERANGE);
	assert_int_equal(tf_model_set_user_timeout_ms(m, (uint32_t)INT_MAX + 1), -ERANGE);
	assert_int_equal(tf_model_set_packets_out(m, 0), -ERANGE);
	assert_int_equal(tf_model_set_syn_retries(m, 0), -ERANGE);
	assert_int_equal(tf_model_set_syn_retries(m, 128), -ERANGE);
	assert_int_equal(tf_model_set_syn_linear_timeouts(m, -2), -ERANGE);
	assert_int_equal(tf_model_set_syn_linear_timeouts(m, 128), -ERANGE);
	assert_int_equal(tf_model_set_keepalive(m, 0, 75, 9), -ERANGE);
	assert_int_equal(tf_model_set_keepalive(m, 32768, 75, 9), -ERANGE);
	assert_int_equal(tf_model_set_keepalive(m, 7200, 0, 9), -ERANGE);
	assert_int_equal(tf_model_set_keepalive(m, 7200, 32768, 9), -ERANGE);
	assert_int_equal(tf_model_set_keepalive(m, 7200, 75, 0), -ERANGE);
	assert_int_equal(tf_model_set_keepalive(m, 7200, 75, 128), -ERANGE);
	assert_unchanged(m, &f);

	/* The edges the kernel accepts are accepted. */
	assert_int_equal(tf_model_set_hz(m, 100), 0);
	assert_int_equal(tf_model_set_hz(m, 1000), 0);
	assert_int_equal(tf_model_set_rto_max_ms(m, 1000), 0);
	assert_int_equal(tf_model_set_rto_max_ms(m, 120000), 0);
	assert_int_equal(tf_model_set_retries2(m, 0), 0);
	assert_int_equal(tf_model_set_retries2(m, 255), 0);
	assert_int_equal(tf_model_set_syn_retries(m, 127), 0);
	assert_int_equal(tf_model_set_syn_linear_timeouts(m, 127), 0);
	assert_int_equal(tf_model_set_syn_linear_timeouts(m, -1), 0);
	assert_int_equal(tf_model_set_keepalive(m, 32767, 32767, 127), 0);
	assert_int_equal(tf_model_set_user_timeout_ms(m, INT_MAX), 0);
	assert_int_equal(tf_model_set_user_timeout_ms(m, 0), 0);
	assert_int_equal(tf_model_set_early_retrans(m, 0), 0);
	assert_int_equal(tf_model_set_rtt(m, 0, 0), 0);
	tf_model_free(m);
}

static void test_null(void **state)
{
	tf_schedule *s = NULL;

	(void)state;
	assert_int_equal(tf_model_new(NULL), -EINVAL);
	assert_int_equal(tf_model_set_hz(NULL, 250), -EINVAL);
	assert_int_equal(tf_model_set_rtt(NULL, 50, 0), -EINVAL);
	assert_int_equal(tf_model_set_rto_min_us(NULL, 200000), -EINVAL);
	assert_int_equal(tf_model_set_rto_max_ms(NULL, 120000), -EINVAL);
	assert_int_equal(tf_model_set_rto_max_in_budget(NULL, true), -EINVAL);
	assert_int_equal(tf_model_set_early_retrans(NULL, 3), -EINVAL);
	assert_int_equal(tf_model_set_retries2(NULL, 15), -EINVAL);
	assert_int_equal(tf_model_set_user_timeout_ms(NULL, 0), -EINVAL);
	assert_int_equal(tf_model_set_packets_out(NULL, 1), -EINVAL);
	assert_int_equal(tf_model_set_syn_retries(NULL, 6), -EINVAL);
	assert_int_equal(tf_model_set_syn_linear_timeouts(NULL, 4), -EINVAL);
	assert_int_equal(tf_model_set_keepalive(NULL, 7200, 75, 9), -EINVAL);
	assert_int_equal(tf_model_set_neigh_failed(NULL, true), -EINVAL);
	assert_int_equal(tf_model_retrans(NULL, &s), -EINVAL);
	assert_int_equal(tf_model_syn(NULL, &s), -EINVAL);
	assert_int_equal(tf_model_keepalive(NULL, &s), -EINVAL);
	assert_int_equal(tf_model_retries2_budget_ms(NULL, NULL), -EINVAL);
	assert_int_equal(tf_schedule_count(NULL), 0);
	assert_null(tf_schedule_event(NULL, 0));
	assert_int_equal(tf_schedule_errno(NULL), 0);
	tf_model_free(NULL);
	tf_schedule_free(NULL);

	tf_model *m = model();
	assert_int_equal(tf_model_retrans(m, NULL), -EINVAL);
	s = sched(m, tf_model_retrans);
	assert_null(tf_schedule_event(s, tf_schedule_count(s)));
	tf_schedule_free(s);
	tf_model_free(m);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(tf_tx_kind_name(TF_TX_ORIGINAL), "original");
	assert_string_equal(tf_tx_kind_name(TF_TX_TLP), "tlp");
	assert_string_equal(tf_tx_kind_name(TF_TX_RTO), "rto");
	assert_string_equal(tf_tx_kind_name(TF_TX_SYN), "syn");
	assert_string_equal(tf_tx_kind_name(TF_TX_SYN_RTO), "syn-rto");
	assert_string_equal(tf_tx_kind_name(TF_TX_KEEPALIVE), "keepalive");
	assert_string_equal(tf_tx_kind_name(TF_TX_GIVEUP), "giveup");
	assert_string_equal(tf_tx_kind_name((tf_tx_kind)42), "?");
}

/* kernel/time/timer.c: level 0 below 63 jiffies (granularity 1), level 1
 * below 504 (8), level 2 below 4032 (64); always rounded up. */
static void timer_band_levels(void **state)
{
	int64_t lo, hi;

	(void)state;
	assert_int_equal(tf_model_wheel_gran(250, 51), 1);
	assert_int_equal(tf_model_wheel_gran(250, 102), 8);
	assert_int_equal(tf_model_wheel_gran(250, 1000), 64);
	assert_int_equal(tf_model_wheel_gran(250, 15000), 512);
	assert_int_equal(tf_model_timer_band(250, 51, false, &lo, &hi), 0);
	assert_int_equal(lo, 204000);
	assert_int_equal(hi, 208000);
	assert_int_equal(tf_model_timer_band(250, 51, true, &lo, &hi), 0);
	assert_int_equal(lo, 208000);
	assert_int_equal(hi, 208000);
	assert_int_equal(tf_model_timer_band(250, 102, true, &lo, &hi), 0);
	assert_int_equal(lo, 412000);
	assert_int_equal(hi, 440000);
	assert_int_equal(tf_model_timer_band(7, 51, false, &lo, &hi), -EINVAL);
	assert_int_equal(tf_model_timer_band(250, 51, false, NULL, &hi), -EINVAL);
}

/* tcp_rtt_estimator()'s srtt: 7/8 of the old, 1/8 of the sample, on the
 * 8 x scaled value whose low 3 bits tcpi_rtt drops. */
static void srtt_replay(void **state)
{
	const uint32_t one[] = { 50000 }, twenty[20] = { [0 ... 19] = 50000 };
	uint32_t lo = 0, hi = 0;

	(void)state;
	/* 8 x 100 = 800 (+7); + 50000 - 100 = 50700 (50707): >> 3 */
	assert_int_equal(tf_model_srtt_replay(100, one, 1, &lo, &hi), 0);
	assert_int_equal(lo, 6337);
	assert_int_equal(hi, 6338);
	/* 20 samples of D from ~0: D - D (7/8)^20 = 50000 - 3448 */
	assert_int_equal(tf_model_srtt_replay(100, twenty, 20, &lo, &hi), 0);
	assert_in_range(lo, 46500, 46700);
	assert_in_range(hi, lo, lo + 1);
	/* a sample below srtt pulls it down */
	assert_int_equal(tf_model_srtt_replay(50000, one, 1, &lo, &hi), 0);
	assert_int_equal(lo, 50000);
	const uint32_t low[] = { 10000 };
	assert_int_equal(tf_model_srtt_replay(50000, low, 1, &lo, &hi), 0);
	assert_int_equal(lo, 45000);
	assert_int_equal(tf_model_srtt_replay(0, one, 1, &lo, &hi), -EINVAL);
	assert_int_equal(tf_model_srtt_replay(100, one, 0, &lo, &hi), -EINVAL);
	assert_int_equal(tf_model_srtt_replay(100, NULL, 1, &lo, &hi), -EINVAL);
}

/* tcp_rtt_estimator(): the first sample sets rttvar_us = max(mdev, rto_min)
 * and leaves mdev_max_us = rttvar_us; every later sample (one per RTT)
 * raises rttvar_us to its mdev_us or decays it by a quarter of the gap
 * to max(mdev_us, rto_min). */
static void rttvar_replay(void **state)
{
	const uint32_t first_only[] = { 100000 };
	const uint32_t decay[] = { 100000, 40000, 40000 };
	const uint32_t raise[] = { 20000, 30000, 80000 };
	uint32_t r = 0;
	tf_model *m = model();

	(void)state;
	assert_int_equal(tf_model_rttvar_replay(200000, first_only, 1, &r), 0);
	assert_int_equal(r, 200000);
	/* sample 1 finds mdev_max = rttvar (no decay); sample 2 decays
	 * 100000 - (100000 - 40000) / 4 */
	assert_int_equal(tf_model_rttvar_replay(10000, decay, 3, &r), 0);
	assert_int_equal(r, 85000);
	assert_int_equal(tf_model_rttvar_replay(10000, raise, 3, &r), 0);
	assert_int_equal(r, 80000);
	assert_int_equal(tf_model_rttvar_replay(10000, raise, 0, &r), -EINVAL);
	assert_int_equal(tf_model_rttvar_replay(10000, NULL, 3, &r), -EINVAL);

	/* __tcp_set_rto(): usecs_to_jiffies(srtt + rttvar_us) at HZ=250 */
	assert_int_equal(tf_model_set_rto_min_us(m, 10000), 0);
	assert_int_equal(tf_model_set_rtt(m, 50000, 10000), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 23);       /* 50 + max(4 x 10, 10) ms */
	assert_int_equal(tf_model_set_rttvar_us(m, 85000), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 34);       /* 50 + 85 ms, rounded up */
	assert_int_equal(tf_model_set_rttvar_us(m, 0), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 23);
	assert_int_equal(tf_model_set_rttvar_us(NULL, 1), -EINVAL);
	assert_int_equal(tf_model_set_rttvar_us(m, 120000001), -ERANGE);
	tf_model_free(m);
}

/* Exact binomial tails (checked against sums of math.comb in Python):
 * Binomial(100, 0.5) has the classic 95 % band 40..60. */
static void binomial_band(void **state)
{
	unsigned lo = 0, hi = 0;

	(void)state;
	assert_int_equal(tf_model_binomial_band(100, 0.5, 0.025, &lo, &hi), 0);
	assert_int_equal(lo, 40);
	assert_int_equal(hi, 60);
	assert_int_equal(tf_model_binomial_band(1000, 0.1, 1e-6, &lo, &hi), 0);
	assert_int_equal(lo, 58);
	assert_int_equal(hi, 148);
	assert_int_equal(tf_model_binomial_band(500, 0.1, 1e-6, &lo, &hi), 0);
	assert_int_equal(lo, 21);
	assert_int_equal(hi, 85);
	assert_int_equal(tf_model_binomial_band(10, 0.1, 0.01, &lo, &hi), 0);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 4);
	assert_int_equal(tf_model_binomial_band(10, 0.0, 0.01, &lo, &hi), 0);
	assert_int_equal(hi, 0);
	assert_int_equal(tf_model_binomial_band(10, 1.0, 0.01, &lo, &hi), 0);
	assert_int_equal(lo, 10);
	assert_int_equal(tf_model_binomial_band(10, 1.5, 0.01, &lo, &hi), -EINVAL);
	assert_int_equal(tf_model_binomial_band(10, 0.1, 0.0, &lo, &hi), -EINVAL);
	assert_int_equal(tf_model_binomial_band(10, 0.1, 0.01, NULL, &hi), -EINVAL);

	/* netem: loss = 10 % of UINT32_MAX = 429496729, dropped when r <= loss */
	assert_true(tf_model_netem_loss_prob(10.0) == 429496730.0 / 4294967296.0);
	assert_true(tf_model_netem_loss_prob(0.0) == 0.0);
	assert_true(tf_model_netem_loss_prob(100.0) == 1.0);
}

/* sch_tbf packet by packet: a queue kept full meets tf_model_tbf_time_us();
 * a gap in the arrivals longer than the bucket's refill loses tokens, and
 * the last departure comes later by the gap less the refill. */
static void tbf_departures(void **state)
{
	(void)state;
	int64_t arr[40], dep[40];
	uint32_t len[40];
	uint64_t us;

	/* 1 MB/s, a 2000-byte bucket, 40 frames of 1000 bytes at t=0 */
	for (size_t k = 0; k < 40; k++) {
		arr[k] = 0;
		len[k] = 1000;
	}
	assert_int_equal(tf_model_tbf_departures(1000000, 2000, arr, len, 40, dep), 0);
	assert_int_equal(tf_model_tbf_time_us(1000000, 2000, 40000, &us), 0);
	assert_int_equal(dep[0], 0);
	assert_int_equal(dep[1], 0);                      /* the burst */
	assert_int_equal(dep[2], 1000000);                /* then one per ms */
	assert_int_equal(dep[39] - dep[0], (int64_t)us * 1000);
	/* the sender lags: frames 20.. arrive 100 ms after the first; the
	 * bucket refills in 2 ms, so 98 ms of tokens are lost */
	for (size_t k = 20; k < 40; k++)
		arr[k] = 100000000;
	assert_int_equal(tf_model_tbf_departures(1000000, 2000, arr, len, 40, dep), 0);
	assert_int_equal(dep[19], 18000000);
	assert_int_equal(dep[20], 100000000);             /* a full bucket again */
	assert_int_equal(dep[21], 100000000);
	assert_int_equal(dep[39], 100000000 + 18000000);
	/* the ideal span would be 38 ms: this is 118 ms */
	assert_true(dep[39] - dep[0] > (int64_t)us * 1000);
	assert_int_equal(tf_model_tbf_departures(1000000, 2000, arr, len, 0, dep), 0);
	arr[3] = -1;                                       /* unsorted */
	assert_int_equal(tf_model_tbf_departures(1000000, 2000, arr, len, 40, dep), -EINVAL);
	assert_int_equal(tf_model_tbf_departures(0, 2000, arr, len, 40, dep), -EINVAL);
	assert_int_equal(tf_model_tbf_departures(1000000, 2000, NULL, len, 40, dep), -EINVAL);
}

/* sch_tbf: from a full bucket, `bytes` need (bytes - burst) / rate. */
static void tbf_time(void **state)
{
	uint64_t us = 1;

	(void)state;
	assert_int_equal(tf_model_tbf_time_us(1000000, 16000, 2016000, &us), 0);
	assert_int_equal(us, 2 * S);
	assert_int_equal(tf_model_tbf_time_us(1000000, 16000, 16000, &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(tf_model_tbf_time_us(3, 0, 1, &us), 0);
	assert_int_equal(us, 333334);                        /* rounded up */
	assert_int_equal(tf_model_tbf_time_us(0, 1, 1, &us), -EINVAL);
	assert_int_equal(tf_model_tbf_time_us(1, 1, 1, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timer_band_levels),
		cmocka_unit_test(rttvar_replay),
		cmocka_unit_test(srtt_replay),
		cmocka_unit_test(binomial_band),
		cmocka_unit_test(tbf_time),
		cmocka_unit_test(tbf_departures),
		cmocka_unit_test(test_timeout_ms_seed),
		cmocka_unit_test(test_hypothetical_table_120s),
		cmocka_unit_test(test_hypothetical_table_1s),
		cmocka_unit_test(test_hypothetical_invalid),
		cmocka_unit_test(test_keepalive_default),
		cmocka_unit_test(test_from_sock),
		cmocka_unit_test(test_keepalive_user_timeout),
		cmocka_unit_test(test_syn_exponential),
		cmocka_unit_test(test_syn_linear),
		cmocka_unit_test(test_syn_time_budget),
		cmocka_unit_test(test_rto_jiffies),
		cmocka_unit_test(test_retrans_retries2_5),
		cmocka_unit_test(test_retrans_default_giveup),
		cmocka_unit_test(test_retrans_no_tlp),
		cmocka_unit_test(test_retrans_packets_out),
		cmocka_unit_test(test_user_timeout_shorter),
		cmocka_unit_test(test_user_timeout_longer),
		cmocka_unit_test(test_rto_max_1000),
		cmocka_unit_test(test_rto_min_lowered),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_setters),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
