/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the unreachable-peer model: the router's failed
 * resolutions (a, lib/model_neigh.c), the sender given ICMPs (b,
 * model_icmp.c), the closed loop (c, model_unreach.c).  Pure arithmetic on
 * synthetic inputs.  Every expected number follows from the rules cited in
 * model_unreach.c's header, worked out in the comments; none is a measured
 * time.
 *
 * Common ground, HZ = 250 (4 ms a jiffy), arp_tbl defaults:
 *   neighbour timer d = retrans_time 1000 ms = 250 jiffies, wheel level 1
 *   (63 <= delta < 504, granularity 8): armed from a softirq anywhere in a
 *   jiffy (250, 258], from neigh_timer_handler() [251, 258]; a resolution
 *   fails after app + mcast = 3 expiries: [752, 774] jiffies =
 *   [3.008, 3.096] s after the packet that started it.
 *   ICMP limit: icmp_ratelimit 1000 ms = 250 jiffies a token, bucket
 *   6 x 250 = 1500, a new peer starts full.
 * The sender: srtt 48 us, rttvar 24 us: RTO = PTO = usecs_to_jiffies(
 * 200048) = 51 jiffies; tcp_retries2 5: budget 63 x 50 = 3150 jiffies =
 * 12.6 s from the first RTO retransmission.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tf_model.h"

#define MS 1000LL
#define S  1000000LL
#define J  4000LL      /* us per jiffy at HZ=250 */

static tf_model *model(void)
{
	tf_model *m = NULL;

	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_hz(m, 250), 0);
	assert_int_equal(tf_model_set_rtt(m, 48, 24), 0);
	assert_int_equal(tf_model_set_retries2(m, 5), 0);
	assert_int_equal(tf_model_rto_jiffies(m), 51);
	return m;
}

static tf_neigh_params params(void)
{
	tf_neigh_params p;

	tf_neigh_params_init(&p);
	return p;
}

static const tf_sched_event *ev(const tf_schedule *s, size_t i)
{
	const tf_sched_event *e = tf_schedule_event(s, i);

	assert_non_null(e);
	return e;
}

/* ------------------------------------------------------------------ */
/* (a) the router                                                      */

static void test_params_defaults(void **state)
{
	tf_neigh_params p;

	(void)state;
	memset(&p, 0xff, sizeof(p));
	tf_neigh_params_init(&p);
	assert_int_equal(p.hz, 250);
	assert_int_equal(p.retrans_time_ms, 1000);
	assert_int_equal(p.ucast_solicit, 3);
	assert_int_equal(p.mcast_solicit, 3);
	assert_int_equal(p.app_solicit, 0);
	assert_int_equal(p.unres_qlen, 101);
	assert_int_equal(p.icmp_ratelimit_ms, 1000);
	assert_int_equal(p.icmp_ratemask, 0x1818);
	tf_neigh_params_init(NULL);   /* no crash */
}

static void test_neigh_single(void **state)
{
	tf_neigh_params p = params();
	int64_t a[] = { 0 };
	tf_neigh_burst *b = NULL;
	size_t n = 99;

	(void)state;
	assert_int_equal(tf_model_neigh_failures(&p, a, 1, &b, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].first, 0);
	assert_int_equal(b[0].last, 0);
	assert_int_equal(b[0].n_queued, 1);
	assert_int_equal(b[0].n_timers, 3);
	assert_int_equal(b[0].timer_jiffies, 250);
	assert_int_equal(b[0].at_lo_us, 752 * J);
	assert_int_equal(b[0].at_hi_us, 774 * J);
	assert_int_equal(b[0].at_us, 763 * J);
	assert_int_equal(b[0].n_icmp, 1);
	assert_int_equal(b[0].n_icmp_lo, 1);
	assert_int_equal(b[0].n_icmp_hi, 1);
	assert_false(b[0].borderline);
	assert_non_null(strstr(b[0].rule, "neigh_timer_handler()"));
	free(b);
}

/* Eight packets in one resolution: the bucket holds six ICMPs. */
static void test_neigh_ratelimit(void **state)
{
	tf_neigh_params p = params();
	int64_t a[8];
	tf_neigh_burst *b = NULL;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < 8; i++)
		a[i] = (int64_t)i * 100 * MS;
	assert_int_equal(tf_model_neigh_failures(&p, a, 8, &b, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].n_queued, 8);
	assert_int_equal(b[0].last, 7);
	assert_int_equal(b[0].n_icmp, 6);
	assert_int_equal(b[0].n_icmp_lo, 6);
	assert_int_equal(b[0].n_icmp_hi, 6);
	free(b);

	/* icmp_ratemask without ICMP_DEST_UNREACH (bit 3): no limit */
	p.icmp_ratemask = 0x1810;
	assert_int_equal(tf_model_neigh_failures(&p, a, 8, &b, &n), 0);
	assert_int_equal(b[0].n_icmp, 8);
	free(b);
	/* icmp_ratelimit 0: every ICMP passes (token >= 0) */
	p = params();
	p.icmp_ratelimit_ms = 0;
	assert_int_equal(tf_model_neigh_failures(&p, a, 8, &b, &n), 0);
	assert_int_equal(b[0].n_icmp_lo, 8);
	assert_int_equal(b[0].n_icmp_hi, 8);
	free(b);
}

/*
 * Three resolutions of 5, 4 and 4 packets, each started 3.1 s after the
 * previous start (just past the band's 3.096 s):
 *   burst 0 at [3.008, 3.096] s: 1500 tokens, 5 pass, 250 left;
 *   burst 1 at [6.108, 6.196] s, [753, 797] jiffies later (either end of
 *     both bands, rounded outward): [1003, 1047] tokens, 4 pass, [3, 47];
 *   burst 2 at [9.208, 9.296] s, again [753, 797] later: [756, 844]
 *     tokens: 3 pass.
 */
static void test_neigh_consecutive(void **state)
{
	tf_neigh_params p = params();
	int64_t a[] = { 0, 100 * MS, 200 * MS, 300 * MS, 400 * MS,
	                3100 * MS, 3200 * MS, 3300 * MS, 3400 * MS,
	                6200 * MS, 6300 * MS, 6400 * MS, 6500 * MS };
	tf_neigh_burst *b = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(tf_model_neigh_failures(&p, a, 13, &b, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(b[0].n_queued, 5);
	assert_int_equal(b[1].first, 5);
	assert_int_equal(b[1].n_queued, 4);
	assert_int_equal(b[2].first, 9);
	assert_int_equal(b[2].last, 12);
	assert_int_equal(b[1].at_lo_us, 3100 * MS + 752 * J);
	assert_int_equal(b[2].at_hi_us, 6200 * MS + 774 * J);
	assert_int_equal(b[0].n_icmp_lo, 5);
	assert_int_equal(b[0].n_icmp_hi, 5);
	assert_int_equal(b[1].n_icmp_lo, 4);
	assert_int_equal(b[1].n_icmp_hi, 4);
	assert_int_equal(b[1].n_icmp, 4);
	assert_int_equal(b[2].n_icmp_lo, 3);
	assert_int_equal(b[2].n_icmp_hi, 3);
	assert_int_equal(b[2].n_icmp, 3);
	for (size_t i = 0; i < n; i++)
		assert_false(b[i].borderline);
	free(b);
}

/* A packet inside the band starts the next resolution (borderline). */
static void test_neigh_borderline(void **state)
{
	tf_neigh_params p = params();
	int64_t a[] = { 0, 3050 * MS };
	tf_neigh_burst *b = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(tf_model_neigh_failures(&p, a, 2, &b, &n), 0);
	assert_int_equal(n, 2);
	assert_true(b[0].borderline);
	assert_int_equal(b[0].n_queued, 1);
	assert_int_equal(b[1].first, 1);
	assert_non_null(strstr(b[0].rule, "borderline"));
	free(b);
}

static void test_neigh_knobs(void **state)
{
	tf_neigh_params p = params();
	int64_t a[5] = { 0, 1 * MS, 2 * MS, 3 * MS, 4 * MS };
	tf_neigh_burst *b = NULL;
	size_t n = 0;

	(void)state;
	/* unres_qlen 2: the oldest are dropped, two held */
	p.unres_qlen = 2;
	assert_int_equal(tf_model_neigh_failures(&p, a, 5, &b, &n), 0);
	assert_int_equal(b[0].n_queued, 2);
	assert_int_equal(b[0].n_icmp, 2);
	free(b);
	/* unres_qlen 0: the newest is still queued (__neigh_event_send()) */
	p.unres_qlen = 0;
	assert_int_equal(tf_model_neigh_failures(&p, a, 5, &b, &n), 0);
	assert_int_equal(b[0].n_queued, 1);
	free(b);

	/* retrans_time 500 ms, mcast 1: one expiry of 125 jiffies (level 1),
	 * armed from a softirq: (125, 133] = [0.500, 0.532] s */
	p = params();
	p.retrans_time_ms = 500;
	p.mcast_solicit = 1;
	assert_int_equal(tf_model_neigh_failures(&p, a, 1, &b, &n), 0);
	assert_int_equal(b[0].n_timers, 1);
	assert_int_equal(b[0].timer_jiffies, 125);
	assert_int_equal(b[0].at_lo_us, 500 * MS);
	assert_int_equal(b[0].at_hi_us, 532 * MS);
	free(b);
	/* app_solicit adds expiries: ucast + app + mcast - ucast */
	p.app_solicit = 2;
	assert_int_equal(tf_model_neigh_failures(&p, a, 1, &b, &n), 0);
	assert_int_equal(b[0].n_timers, 3);
	free(b);
	/* retrans_time 1 ms: max(1 jiffy, HZ/100 = 2) */
	p = params();
	p.retrans_time_ms = 1;
	assert_int_equal(tf_model_neigh_failures(&p, a, 1, &b, &n), 0);
	assert_int_equal(b[0].timer_jiffies, 2);
	free(b);
	/* no solicitations at all: NUD_FAILED at once, no ICMP */
	p = params();
	p.mcast_solicit = 0;
	assert_int_equal(tf_model_neigh_failures(&p, a, 5, &b, &n), 0);
	assert_int_equal(n, 0);
	assert_null(b);
}

static void test_neigh_invalid(void **state)
{
	tf_neigh_params p = params();
	int64_t a[] = { 10, 5 }, neg[] = { -1 };
	tf_neigh_burst *b = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(tf_model_neigh_failures(NULL, a, 1, &b, &n), -EINVAL);
	assert_int_equal(tf_model_neigh_failures(&p, a, 1, NULL, &n), -EINVAL);
	assert_int_equal(tf_model_neigh_failures(&p, a, 1, &b, NULL), -EINVAL);
	assert_int_equal(tf_model_neigh_failures(&p, NULL, 1, &b, &n), -EINVAL);
	assert_int_equal(tf_model_neigh_failures(&p, a, 2, &b, &n), -EINVAL);
	assert_int_equal(tf_model_neigh_failures(&p, neg, 1, &b, &n), -EINVAL);
	p.hz = 50;
	assert_int_equal(tf_model_neigh_failures(&p, a, 1, &b, &n), -ERANGE);
	p = params();
	p.mcast_solicit = (unsigned)INT_MAX + 1u;
	assert_int_equal(tf_model_neigh_failures(&p, a, 1, &b, &n), -ERANGE);
	assert_null(b);
	/* nothing arrives: nothing fails */
	p = params();
	assert_int_equal(tf_model_neigh_failures(&p, NULL, 0, &b, &n), 0);
	assert_int_equal(n, 0);
}

/* ------------------------------------------------------------------ */
/* (b) the sender given ICMPs                                          */

/* No ICMP: the silent peer's schedule, tf_model_retrans()'s, ETIMEDOUT. */
static void test_icmp_none_is_silent(void **state)
{
	tf_model *m = model();
	tf_schedule *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(tf_model_retrans(m, &a), 0);
	assert_int_equal(tf_model_retrans_icmp(m, NULL, 0, &b), 0);
	assert_int_equal(tf_schedule_count(b), tf_schedule_count(a));
	for (size_t i = 0; i < tf_schedule_count(a); i++) {
		assert_int_equal(ev(b, i)->kind, ev(a, i)->kind);
		assert_int_equal(ev(b, i)->timer_jiffies, ev(a, i)->timer_jiffies);
		assert_int_equal(ev(b, i)->at_lo_us, ev(a, i)->at_lo_us);
		assert_int_equal(ev(b, i)->at_hi_us, ev(a, i)->at_hi_us);
		assert_int_equal(ev(b, i)->gap_lo_us, ev(a, i)->gap_lo_us);
		assert_int_equal(ev(b, i)->gap_hi_us, ev(a, i)->gap_hi_us);
	}
	assert_int_equal(tf_schedule_errno(b), ETIMEDOUT);
	assert_int_equal(tf_schedule_giveup(b), tf_schedule_count(b) - 1);
	assert_int_equal(ev(b, tf_schedule_giveup(b))->kind, TF_TX_GIVEUP);
	tf_schedule_free(a);
	tf_schedule_free(b);
	tf_model_free(m);
}

/*
 * rto_max capping only the last timer: tcp_retries2 2 (budget 7 x 50 =
 * 350 jiffies), rto_max 1000 ms (250 jiffies).  The plain schedule arms
 * 51 (TLP), 51, 102, 204, then min(408, 250) = 250 for the give-up.  Read
 * back from that schedule the last timer could have been TCP_USER_TIMEOUT's
 * clamp, and the ICMP model refused (-EOPNOTSUPP); from the model's state
 * rto_max is known, and the silent schedule is the plain one.
 */
static void test_icmp_cap_on_last_timer(void **state)
{
	tf_model *m = model();
	tf_schedule *a = NULL, *b = NULL;
	size_t g;

	(void)state;
	assert_int_equal(tf_model_set_retries2(m, 2), 0);
	assert_int_equal(tf_model_set_rto_max_ms(m, 1000), 0);
	assert_int_equal(tf_model_retrans(m, &a), 0);
	g = tf_schedule_giveup(a);
	assert_int_equal(g, 5);
	assert_int_equal(ev(a, g)->timer_jiffies, 250);
	assert_int_equal(tf_model_retrans_icmp(m, NULL, 0, &b), 0);
	assert_int_equal(tf_schedule_count(b), tf_schedule_count(a));
	for (size_t i = 0; i < tf_schedule_count(a); i++) {
		assert_int_equal(ev(b, i)->kind, ev(a, i)->kind);
		assert_int_equal(ev(b, i)->timer_jiffies, ev(a, i)->timer_jiffies);
		assert_int_equal(ev(b, i)->at_lo_us, ev(a, i)->at_lo_us);
		assert_int_equal(ev(b, i)->at_hi_us, ev(a, i)->at_hi_us);
	}
	tf_schedule_free(a);
	tf_schedule_free(b);
	tf_model_free(m);
}

/*
 * One ICMP at 3.0 s.  Before it: original, TLP [204, 208] ms, RTO 1
 * [412, 416], RTO 2 (102 jiffies, level 1: [103, 110]) [824, 856], RTO 3
 * (204: [205, 212]) [1644, 1704], backoff 3; the next expiry (408:
 * [409, 416]) would be at [3280, 3368] ms, later.  The ICMP: backoff 2,
 * rto 51 << 2 = 204 jiffies, elapsed >= 1296 ms = 324 jiffies: nothing
 * left, tcp_retransmit_timer() at 3.0 s: backoff 3, the timer for 408
 * from the ICMP: [1636, 1664] ms later.  Then 816 (level 2, granularity
 * 64: [817, 880]) -> [7904, 8184] ms, 7.63 s after retrans_stamp (mid
 * 414 ms), then 1632 ([1633, 1696]) -> [14436, 14968]: past the 12.6 s
 * budget: give-up, EHOSTUNREACH.
 */
static void test_icmp_one(void **state)
{
	tf_model *m = model();
	int64_t icmp[] = { 3 * S };
	tf_schedule *s = NULL;
	tf_icmp_cause *c = NULL;

	(void)state;
	assert_int_equal(tf_model_retrans_icmp_causes(m, icmp, 1, &s, &c), 0);
	assert_int_equal(tf_schedule_count(s), 9);
	assert_int_equal(ev(s, 4)->at_lo_us, 1644 * MS);
	assert_int_equal(ev(s, 4)->at_hi_us, 1704 * MS);
	assert_int_equal(ev(s, 5)->kind, TF_TX_RTO);
	assert_int_equal(ev(s, 5)->at_lo_us, 3 * S);
	assert_int_equal(ev(s, 5)->at_hi_us, 3 * S);
	assert_int_equal(ev(s, 5)->gap_lo_us, 3 * S - 1704 * MS);
	assert_int_equal(ev(s, 5)->gap_hi_us, 3 * S - 1644 * MS);
	assert_non_null(strstr(ev(s, 5)->rule, "tcp_ld_RTO_revert()"));
	assert_int_equal(c[5].icmp, 0);
	assert_true(c[5].immediate);
	assert_int_equal(c[5].after_us, 0);
	assert_int_equal(ev(s, 6)->timer_jiffies, 408);
	assert_int_equal(ev(s, 6)->at_lo_us, 3 * S + 1636 * MS);
	assert_int_equal(ev(s, 6)->at_hi_us, 3 * S + 1664 * MS);
	assert_int_equal(c[6].icmp, 0);
	assert_false(c[6].immediate);
	assert_int_equal(c[6].after_lo_us, 1636 * MS);
	assert_int_equal(c[6].after_hi_us, 1664 * MS);
	assert_int_equal(ev(s, 7)->timer_jiffies, 816);
	assert_int_equal(ev(s, 7)->gap_lo_us, 817 * J);
	assert_int_equal(ev(s, 7)->gap_hi_us, 880 * J);
	assert_int_equal(c[7].icmp, -1);
	assert_int_equal(ev(s, 8)->kind, TF_TX_GIVEUP);
	assert_int_equal(ev(s, 8)->at_lo_us, 14436 * MS);
	assert_int_equal(ev(s, 8)->at_hi_us, 14968 * MS);
	assert_int_equal(tf_schedule_errno(s), EHOSTUNREACH);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(c[i].icmp, -1);
	free(c);
	tf_schedule_free(s);
	tf_model_free(m);
}

/*
 * A burst of five, 10 us apart, at 3.0 s: the first retransmits (backoff
 * 3 -> 2 -> 3), the next three revert one step each with 1 jiffy elapsed
 * since that retransmission: 204 - 1, 102 - 1, 51 - 1 = 50 jiffies from
 * the fourth, which fires [51, 51] jiffies later (level 0, from a tick):
 * 204 ms; the fifth finds backoff 0 and changes nothing.  Then the timer
 * doubles from 51: 102 -> [103, 110].
 */
static void test_icmp_burst(void **state)
{
	tf_model *m = model();
	int64_t icmp[] = { 3 * S, 3 * S + 10, 3 * S + 20, 3 * S + 30, 3 * S + 40 };
	tf_schedule *s = NULL;
	tf_icmp_cause *c = NULL;

	(void)state;
	assert_int_equal(tf_model_retrans_icmp_causes(m, icmp, 5, &s, &c), 0);
	assert_int_equal(ev(s, 5)->at_us, 3 * S);
	assert_true(c[5].immediate);
	assert_int_equal(ev(s, 6)->timer_jiffies, 50);
	assert_int_equal(c[6].icmp, 3);
	assert_false(c[6].immediate);
	assert_int_equal(c[6].after_lo_us, 204 * MS);
	assert_int_equal(c[6].after_hi_us, 204 * MS);
	assert_int_equal(ev(s, 6)->at_us, 3 * S + 30 + 204 * MS);
	assert_int_equal(ev(s, 6)->gap_lo_us, 30 + 204 * MS);
	assert_int_equal(ev(s, 7)->timer_jiffies, 102);
	assert_int_equal(ev(s, 7)->gap_lo_us, 103 * J);
	assert_int_equal(ev(s, 7)->gap_hi_us, 110 * J);
	assert_int_equal(c[7].icmp, -1);
	assert_int_equal(tf_schedule_errno(s), EHOSTUNREACH);
	free(c);
	tf_schedule_free(s);
	tf_model_free(m);
}

/* An ICMP before the first RTO retransmission (icsk_retransmits 0)
 * undoes nothing: the silent schedule, but EHOSTUNREACH. */
static void test_icmp_before_rto(void **state)
{
	tf_model *m = model();
	int64_t icmp[] = { 300 * MS };
	tf_schedule *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(tf_model_retrans(m, &a), 0);
	assert_int_equal(tf_model_retrans_icmp(m, icmp, 1, &b), 0);
	assert_int_equal(tf_schedule_count(b), tf_schedule_count(a));
	for (size_t i = 0; i < tf_schedule_count(a); i++)
		assert_int_equal(ev(b, i)->at_us, ev(a, i)->at_us);
	assert_int_equal(tf_schedule_errno(b), EHOSTUNREACH);
	tf_schedule_free(a);
	tf_schedule_free(b);
	tf_model_free(m);
}

static void test_icmp_invalid(void **state)
{
	tf_model *m = model();
	int64_t bad[] = { 5, 4 }, neg[] = { -5 };
	tf_schedule *s = NULL;

	(void)state;
	assert_int_equal(tf_model_retrans_icmp(NULL, NULL, 0, &s), -EINVAL);
	assert_int_equal(tf_model_retrans_icmp(m, NULL, 0, NULL), -EINVAL);
	assert_int_equal(tf_model_retrans_icmp(m, NULL, 1, &s), -EINVAL);
	assert_int_equal(tf_model_retrans_icmp(m, bad, 2, &s), -EINVAL);
	assert_int_equal(tf_model_retrans_icmp(m, neg, 1, &s), -EINVAL);
	/* TCP_USER_TIMEOUT clamps timers: not modelled with ICMPs */
	assert_int_equal(tf_model_set_user_timeout_ms(m, 3000), 0);
	assert_int_equal(tf_model_retrans_icmp(m, NULL, 0, &s), -EOPNOTSUPP);
	assert_null(s);
	tf_model_free(m);
}

/* ------------------------------------------------------------------ */
/* (c) the closed loop                                                 */

/*
 * The defaults, traced by hand on the jiffy grid.  Cycle 1: original at
 * t0, TLP, RTOs at +52 and then on the level-1 grid (102 -> aligned up,
 * 204 -> 208 from an aligned tick): five packets held, the router fails
 * 762..770 jiffies after t0 (first expiry (250, 258], then exactly 256
 * twice): 5 ICMPs (1500 tokens, 250 left).  Its first ICMP finds backoff
 * 3 and the last transmission > 300 jiffies old: retransmission at once;
 * the next three take backoff to 0 and leave a 50-jiffy timer: +204 ms;
 * the fifth changes nothing.  That retransmission reaches the router at
 * the failure tick F (a multiple of 8): the next resolution fails at
 * exactly F + 256 x 3 = F + 768, before the client's fourth timer (F +
 * 51, then 102 aligned up, 208, 416: after F + 777).  Cycle 2: 4 held,
 * 250 + 768 = 1018 tokens: 4 ICMPs (18 left), same moves.  Cycle 3:
 * 18 + 768 = 786 tokens: 3 of 4 ICMPs, backoff stops at 1: a 101-jiffy
 * timer, then 204 and 408: the fourth packet of cycle 4 comes 160 ms
 * before its failure.  Cycle 4: 36 + 768 = 804: 3 ICMPs, none can
 * retransmit at once (backoff 4 -> 1, 40 jiffies elapsed): a 62-jiffy
 * timer; that retransmission is 12.1 s after retrans_stamp, the next
 * expiry (204) past 12.6 s: give-up, EHOSTUNREACH.  18 transmissions.
 */
static void test_closed_defaults(void **state)
{
	tf_model *m = model();
	tf_neigh_params p = params();
	tf_unreach *u = NULL;
	static const unsigned icmps[] = { 5, 4, 3, 3 }, held[] = { 5, 4, 4, 4 };
	size_t burst = 99;

	(void)state;
	assert_int_equal(tf_model_unreach(m, &p, &u), 0);
	assert_int_equal(tf_unreach_variants(u), 1);
	/* 8^2 phases (the 816-jiffy timer is level 2) x 8 orders */
	assert_int_equal(tf_unreach_total_runs(u), 512);
	assert_int_equal(tf_unreach_runs(u, 0), 512);
	const tf_schedule *s = tf_unreach_schedule(u, 0);
	assert_int_equal(tf_schedule_count(s), 19);
	assert_int_equal(tf_schedule_errno(s), EHOSTUNREACH);
	assert_int_equal(ev(s, 18)->kind, TF_TX_GIVEUP);
	assert_int_equal(ev(s, 0)->kind, TF_TX_ORIGINAL);
	assert_int_equal(ev(s, 1)->kind, TF_TX_TLP);
	/* the give-up: at least the budget after the first RTO retransmission */
	assert_true(ev(s, 18)->at_lo_us >= ev(s, 2)->at_lo_us + 12600 * MS);
	assert_true(ev(s, 17)->at_hi_us < ev(s, 2)->at_lo_us + 12600 * MS);
	/* bursts: the four before the give-up, then the last packet's */
	assert_int_equal(tf_unreach_bursts(u, 0), 5);
	for (size_t i = 0; i < 4; i++) {
		const tf_neigh_burst *b = tf_unreach_burst(u, 0, i);
		assert_non_null(b);
		assert_int_equal(b->n_icmp, icmps[i]);
		assert_int_equal(b->n_queued, held[i]);
		/* exactly 768 jiffies apart on the grid */
		if (i)
			assert_int_equal(b->at_lo_us - tf_unreach_burst(u, 0, i - 1)->at_lo_us, 768 * J);
	}
	assert_int_equal(tf_unreach_burst(u, 0, 0)->at_lo_us, 762 * J);
	assert_int_equal(tf_unreach_burst(u, 0, 0)->at_hi_us, 770 * J);
	assert_null(tf_unreach_burst(u, 0, 5));
	/* the first three bursts each provoke a retransmission at once */
	assert_true(tf_unreach_immediate(u, 0, 5, &burst));
	assert_int_equal(burst, 0);
	assert_int_equal(ev(s, 5)->at_lo_us, tf_unreach_burst(u, 0, 0)->at_lo_us);
	assert_true(tf_unreach_immediate(u, 0, 9, &burst));
	assert_int_equal(burst, 1);
	assert_true(tf_unreach_immediate(u, 0, 13, &burst));
	assert_false(tf_unreach_immediate(u, 0, 17, NULL));
	assert_false(tf_unreach_immediate(u, 0, 6, NULL));
	/* what sends them: the router's 3 timers from the burst's first
	 * packet (t0 anywhere in its jiffy; later ones on a tick) */
	assert_int_equal(ev(s, 5)->from, 0);
	assert_int_equal(ev(s, 5)->from_timers, 3);
	assert_int_equal(ev(s, 5)->from_lo_us, 762 * J);
	assert_int_equal(ev(s, 5)->from_hi_us, 770 * J);
	assert_non_null(ev(s, 5)->from_rule);
	const tf_neigh_burst *b1 = tf_unreach_burst(u, 0, 1);
	assert_int_equal(ev(s, 9)->from, b1->first);
	assert_int_equal(ev(s, 9)->from_timers, 3);
	assert_int_equal(ev(s, 9)->from_lo_us, b1->at_lo_us - ev(s, b1->first)->at_lo_us);
	assert_int_equal(ev(s, 9)->from_hi_us, b1->at_hi_us - ev(s, b1->first)->at_hi_us);
	assert_int_equal(ev(s, 6)->from_timers, 0);
	/* the 50-jiffy timer: 51 jiffies after the retransmission */
	assert_int_equal(ev(s, 6)->timer_jiffies, 50);
	assert_int_equal(ev(s, 6)->gap_lo_us, 51 * J);
	tf_unreach_free(u);
	tf_model_free(m);
}

/* No solicitation, no ICMP: the silent peer (times and ETIMEDOUT). */
static void test_closed_no_icmp(void **state)
{
	tf_model *m = model();
	tf_neigh_params p = params();
	tf_unreach *u = NULL;
	tf_schedule *a = NULL;

	(void)state;
	p.mcast_solicit = 0;
	assert_int_equal(tf_model_unreach(m, &p, &u), 0);
	assert_int_equal(tf_model_retrans(m, &a), 0);
	const tf_schedule *s = tf_unreach_schedule(u, 0);
	assert_int_equal(tf_schedule_count(s), tf_schedule_count(a));
	for (size_t i = 0; i < tf_schedule_count(a); i++) {
		assert_int_equal(ev(s, i)->kind, ev(a, i)->kind);
		/* the grid's values lie inside the model's bands */
		assert_true(ev(s, i)->at_lo_us >= ev(a, i)->at_lo_us);
		assert_true(ev(s, i)->at_hi_us <= ev(a, i)->at_hi_us);
	}
	assert_int_equal(tf_schedule_errno(s), ETIMEDOUT);
	assert_int_equal(tf_unreach_bursts(u, 0), 0);
	tf_schedule_free(a);
	tf_unreach_free(u);
	tf_model_free(m);
}

/* Without the ICMP limit every held packet is answered. */
static void test_closed_no_ratelimit(void **state)
{
	tf_model *m = model();
	tf_neigh_params p = params();
	tf_unreach *u = NULL;

	(void)state;
	p.icmp_ratelimit_ms = 0;
	assert_int_equal(tf_model_unreach(m, &p, &u), 0);
	for (size_t v = 0; v < tf_unreach_variants(u); v++) {
		assert_int_equal(tf_schedule_errno(tf_unreach_schedule(u, v)), EHOSTUNREACH);
		for (size_t i = 0; i < tf_unreach_bursts(u, v); i++) {
			const tf_neigh_burst *b = tf_unreach_burst(u, v, i);
			assert_int_equal(b->n_icmp, b->n_queued);
		}
	}
	tf_unreach_free(u);
	tf_model_free(m);
}

static void test_closed_hz(void **state)
{
	static const unsigned hzs[] = { 100, 1000 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		tf_model *m = model();
		tf_neigh_params p = params();
		tf_unreach *u = NULL;

		assert_int_equal(tf_model_set_hz(m, hzs[i]), 0);
		/* the router's HZ must be the sender's */
		assert_int_equal(tf_model_unreach(m, &p, &u), -EINVAL);
		p.hz = hzs[i];
		assert_int_equal(tf_model_unreach(m, &p, &u), 0);
		assert_true(tf_unreach_variants(u) >= 1);
		for (size_t v = 0; v < tf_unreach_variants(u); v++) {
			const tf_schedule *s = tf_unreach_schedule(u, v);
			assert_int_equal(tf_schedule_errno(s), EHOSTUNREACH);
			assert_int_equal(ev(s, tf_schedule_giveup(s))->kind, TF_TX_GIVEUP);
		}
		tf_unreach_free(u);
		tf_model_free(m);
	}
}

static void test_closed_invalid(void **state)
{
	tf_model *m = model();
	tf_neigh_params p = params();
	tf_unreach *u = NULL;

	(void)state;
	assert_int_equal(tf_model_unreach(NULL, &p, &u), -EINVAL);
	assert_int_equal(tf_model_unreach(m, NULL, &u), -EINVAL);
	assert_int_equal(tf_model_unreach(m, &p, NULL), -EINVAL);
	p.hz = 5000;
	assert_int_equal(tf_model_unreach(m, &p, &u), -ERANGE);
	p = params();
	assert_int_equal(tf_model_set_user_timeout_ms(m, 3000), 0);
	assert_int_equal(tf_model_unreach(m, &p, &u), -EOPNOTSUPP);
	assert_null(u);
	/* accessors past the end, NULL */
	assert_int_equal(tf_unreach_variants(NULL), 0);
	assert_null(tf_unreach_schedule(NULL, 0));
	assert_int_equal(tf_unreach_runs(NULL, 0), 0);
	assert_int_equal(tf_unreach_bursts(NULL, 0), 0);
	tf_unreach_free(NULL);
	tf_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_defaults),
		cmocka_unit_test(test_neigh_single),
		cmocka_unit_test(test_neigh_ratelimit),
		cmocka_unit_test(test_neigh_consecutive),
		cmocka_unit_test(test_neigh_borderline),
		cmocka_unit_test(test_neigh_knobs),
		cmocka_unit_test(test_neigh_invalid),
		cmocka_unit_test(test_icmp_none_is_silent),
		cmocka_unit_test(test_icmp_cap_on_last_timer),
		cmocka_unit_test(test_icmp_one),
		cmocka_unit_test(test_icmp_burst),
		cmocka_unit_test(test_icmp_before_rto),
		cmocka_unit_test(test_icmp_invalid),
		cmocka_unit_test(test_closed_defaults),
		cmocka_unit_test(test_closed_no_icmp),
		cmocka_unit_test(test_closed_no_ratelimit),
		cmocka_unit_test(test_closed_hz),
		cmocka_unit_test(test_closed_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
