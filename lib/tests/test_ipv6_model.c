/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests pinning each rule where the kernel's TCP treats IPv6
 * differently from IPv4 (lib/model_ipv6.c), and what stays the same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "tf_model.h"

static void header_and_mss(void **state)
{
	unsigned mss = 0;
	(void)state;

	assert_int_equal(tf_model_net_header_len(AF_INET), 20);
	assert_int_equal(tf_model_net_header_len(AF_INET6), 40);
	/* MSS = MTU - 60 in IPv6, MTU - 40 in IPv4 */
	assert_int_equal(tf_model_mss_from_mtu(AF_INET6, 1500, false, &mss), 0);
	assert_int_equal(mss, 1440);
	assert_int_equal(tf_model_mss_from_mtu(AF_INET, 1500, false, &mss), 0);
	assert_int_equal(mss, 1460);
	assert_int_equal(tf_model_mss_from_mtu(AF_INET6, 1500, true, &mss), 0);
	assert_int_equal(mss, 1428);
	/* the IPv6 minimum link: 1280 - 60 = 1220 (ip6_rt_min_advmss) */
	assert_int_equal(tf_model_mss_from_mtu(AF_INET6, 1280, false, &mss), 0);
	assert_int_equal(mss, 1220);
	assert_int_equal(tf_model_mss_from_mtu(AF_INET, 1280, false, &mss), 0);
	assert_int_equal(mss, 1240);
	/* TCP_MIN_SND_MSS floor (IPv4 only reaches it) */
	assert_int_equal(tf_model_mss_from_mtu(AF_INET, 68, false, &mss), 0);
	assert_int_equal(mss, 48);
	assert_int_equal(tf_model_mss_from_mtu(AF_INET6, 1279, false, &mss), -ERANGE);
	assert_int_equal(tf_model_mss_from_mtu(AF_INET, 1279, false, &mss), 0);
	assert_int_equal(tf_model_mss_from_mtu(AF_UNIX, 1500, false, &mss), -EINVAL);
	assert_int_equal(tf_model_mss_from_mtu(AF_INET6, 1500, false, NULL), -EINVAL);
	assert_int_equal(tf_model_min_mtu(AF_INET6), 1280);
	assert_int_equal(tf_model_min_mtu(AF_INET), 68);
}

static void ptb_below_minimum(void **state)
{
	unsigned p = 0;
	(void)state;

	/* IPv6: a Packet Too Big below 1280 is ignored ... */
	assert_int_equal(tf_model_pmtu_after_ptb(AF_INET6, 1500, 1000, 0, &p), 0);
	assert_int_equal(p, 1500);
	/* ... IPv4 clamps a "fragmentation needed" below min_pmtu to 552 */
	assert_int_equal(tf_model_pmtu_after_ptb(AF_INET, 1500, 1000, 0, &p), 0);
	assert_int_equal(p, 1000);
	assert_int_equal(tf_model_pmtu_after_ptb(AF_INET, 1500, 500, 0, &p), 0);
	assert_int_equal(p, 552);
	assert_int_equal(tf_model_pmtu_after_ptb(AF_INET, 1500, 500, 600, &p), 0);
	assert_int_equal(p, 600);
	/* both: lowered to a legal value, never raised */
	assert_int_equal(tf_model_pmtu_after_ptb(AF_INET6, 1500, 1280, 0, &p), 0);
	assert_int_equal(p, 1280);
	assert_int_equal(tf_model_pmtu_after_ptb(AF_INET6, 1400, 1450, 0, &p), 0);
	assert_int_equal(p, 1400);
	assert_int_equal(tf_model_pmtu_after_ptb(AF_INET, 1400, 1450, 0, &p), 0);
	assert_int_equal(p, 1400);
	assert_int_equal(tf_model_pmtu_after_ptb(AF_INET6, 0, 1280, 0, &p), -EINVAL);
}

static void icmp_revert_differs(void **state)
{
	tf_icmp_effect e;
	unsigned t = 0, c = 0;
	(void)state;

	/* What a router sends when the peer's neighbour entry fails ... */
	assert_int_equal(tf_model_neigh_failure_icmp(AF_INET, &t, &c), 0);
	assert_int_equal(t, 3);
	assert_int_equal(c, 1);
	assert_int_equal(tf_model_neigh_failure_icmp(AF_INET6, &t, &c), 0);
	assert_int_equal(t, 1);
	assert_int_equal(c, 3);
	/* ... undoes backoff steps in IPv4, not in IPv6: the difference the
	 * "peer link down" family shows. */
	assert_true(tf_model_neigh_failure_reverts(AF_INET));
	assert_false(tf_model_neigh_failure_reverts(AF_INET6));

	assert_int_equal(tf_model_icmp_effect(AF_INET, 3, 1, &e), 0);
	assert_int_equal(e.err, EHOSTUNREACH);
	assert_true(e.rto_revert);
	assert_true(e.ends_syn_sent);
	assert_int_equal(tf_model_icmp_effect(AF_INET6, 1, 3, &e), 0);
	assert_int_equal(e.err, EHOSTUNREACH);   /* the same errno */
	assert_false(e.rto_revert);
	assert_true(e.ends_syn_sent);
	/* IPv6 reverts only for No Route */
	assert_int_equal(tf_model_icmp_effect(AF_INET6, 1, 0, &e), 0);
	assert_int_equal(e.err, ENETUNREACH);
	assert_true(e.rto_revert);
	assert_int_equal(tf_model_icmp_effect(AF_INET6, 1, 4, &e), 0);
	assert_int_equal(e.err, ECONNREFUSED);
	assert_false(e.rto_revert);
	assert_int_equal(tf_model_icmp_effect(AF_INET6, 1, 1, &e), 0);
	assert_int_equal(e.err, EACCES);
	assert_int_equal(tf_model_icmp_effect(AF_INET6, 1, 200, &e), 0);
	assert_int_equal(e.err, EPROTO);
	assert_int_equal(tf_model_icmp_effect(AF_INET6, 2, 0, &e), 0);
	assert_true(e.pmtu);
	assert_false(e.ends_syn_sent);
	assert_int_equal(tf_model_icmp_effect(AF_INET6, 3, 0, &e), 0);
	assert_int_equal(e.err, EHOSTUNREACH);
	assert_int_equal(tf_model_icmp_effect(AF_INET6, 128, 0, &e), -EOPNOTSUPP);
	assert_int_equal(tf_model_icmp_effect(AF_INET, 3, 9, &e), -EOPNOTSUPP);
	assert_int_equal(tf_model_icmp_effect(AF_INET, 3, 0, &e), 0);
	assert_true(e.rto_revert);
	assert_int_equal(tf_model_icmp_effect(AF_INET, 3, 3, &e), 0);
	assert_false(e.rto_revert);
	assert_int_equal(tf_model_icmp_effect(AF_UNIX, 3, 3, &e), -EINVAL);
}

static void neigh_same_numbers(void **state)
{
	tf_neigh_params a, b;
	(void)state;

	assert_int_equal(tf_neigh_params_init_family(AF_INET, &a), 0);
	assert_int_equal(tf_neigh_params_init_family(AF_INET6, &b), 0);
	assert_int_equal(a.retrans_time_ms, b.retrans_time_ms);
	assert_int_equal(a.mcast_solicit, b.mcast_solicit);
	assert_int_equal(a.ucast_solicit, b.ucast_solicit);
	assert_int_equal(a.app_solicit, b.app_solicit);
	assert_int_equal(b.retrans_time_ms, 1000);
	assert_int_equal(b.mcast_solicit, 3);
	assert_int_equal(b.icmp_ratelimit_ms, 1000);
	assert_int_equal(tf_neigh_params_init_family(AF_UNIX, &a), -EINVAL);
}

/* The IPv6 "peer link down" schedule is a silent peer's with errno
 * EHOSTUNREACH: tf_model_retrans() with neigh_failed. */
static void link_down_schedule_v6(void **state)
{
	tf_model *m = NULL, *q = NULL;
	tf_schedule *s = NULL, *r = NULL;
	(void)state;

	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_new(&q), 0);
	assert_int_equal(tf_model_set_retries2(m, 5), 0);
	assert_int_equal(tf_model_set_retries2(q, 5), 0);
	assert_int_equal(tf_model_set_neigh_failed(m, true), 0);
	assert_int_equal(tf_model_retrans(m, &s), 0);
	assert_int_equal(tf_model_retrans(q, &r), 0);
	assert_int_equal(tf_schedule_errno(s), EHOSTUNREACH);
	assert_int_equal(tf_schedule_errno(r), ETIMEDOUT);
	assert_int_equal(tf_schedule_count(s), tf_schedule_count(r));
	for (size_t i = 0; i < tf_schedule_count(s); i++)
		assert_int_equal(tf_schedule_event(s, i)->at_us, tf_schedule_event(r, i)->at_us);
	tf_schedule_free(s);
	tf_schedule_free(r);
	tf_model_free(m);
	tf_model_free(q);
}

/* MSS/PMTU and PLPMTUD per family (model_mss.c, tf_model_*_af): the IPv4
 * numbers are the IPv4-only functions' (pmtu.c's cases), the IPv6 ones
 * 20 bytes less per MSS, 20 more per MTU. */
static void mss_probing_per_family(void **state)
{
	tf_mtu_probing p, q;
	(void)state;

	/* the same as the IPv4-only rules, for AF_INET */
	for (unsigned mtu = 68; mtu <= 9000; mtu += 97)
		for (int ts = 0; ts < 2; ts++)
			assert_int_equal(tf_model_mtu_to_mss_af(AF_INET, mtu, ts, 48),
			                 tf_model_mtu_to_mss(mtu, ts, 48));
	assert_int_equal(tf_model_mss_to_mtu_af(AF_INET, 1024, true), tf_model_mss_to_mtu(1024, true));
	assert_int_equal(tf_model_mtu_probing_af(AF_INET, 1024, 48, 1460, true, &p), 0);
	assert_int_equal(tf_model_mtu_probing(1024, 48, 1460, true, &q), 0);
	assert_memory_equal(&p, &q, sizeof p);
	/* IPv6: tcp_mtu_to_mss(1280) = 1280 - 40 - 20 - 12 */
	assert_int_equal(tf_model_mtu_to_mss_af(AF_INET6, 1280, true, 48), 1208);
	assert_int_equal(tf_model_mtu_to_mss_af(AF_INET6, 1280, false, 48), 1220);
	assert_int_equal(tf_model_mtu_to_mss_af(AF_INET6, 80, false, 48), 48);
	/* search_low = tcp_mss_to_mtu(tcp_base_mss 1024) = 1024 + 32 + 40,
	 * below IPV6_MIN_MTU and still what the kernel sends at */
	assert_int_equal(tf_model_mss_to_mtu_af(AF_INET6, 1024, true), 1096);
	/* the peer's MSS option on a 1500 link is 1440: search_high 1500 */
	assert_int_equal(tf_model_mtu_probing_af(AF_INET6, 1024, 48, 1440, true, &p), 0);
	assert_int_equal(p.search_low, 1096);
	assert_int_equal(p.search_high, 1500);
	assert_int_equal(p.low_mss, 1024);
	assert_int_equal(p.probe_mss, 1226);    /* tcp_mtu_to_mss((1500 + 1096) >> 1 = 1298) */
	/* unknown family */
	assert_int_equal(tf_model_mtu_to_mss_af(AF_UNIX, 1500, false, 48), 0);
	assert_int_equal(tf_model_mss_to_mtu_af(AF_UNIX, 1000, false), 0);
	assert_int_equal(tf_model_mtu_probing_af(AF_UNIX, 1024, 48, 1440, true, &p), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* The peer's link down on either family (tf_model_unreach_family()).  */

static tf_model *unreach_model(void)
{
	tf_model *m = NULL;

	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_hz(m, 250), 0);
	assert_int_equal(tf_model_set_rtt(m, 48, 24), 0);
	assert_int_equal(tf_model_set_retries2(m, 5), 0);
	return m;
}

static void same_times(const tf_schedule *a, const tf_schedule *b)
{
	assert_int_equal(tf_schedule_count(a), tf_schedule_count(b));
	for (size_t i = 0; i < tf_schedule_count(a); i++) {
		const tf_sched_event *x = tf_schedule_event(a, i), *y = tf_schedule_event(b, i);

		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->timer_jiffies, y->timer_jiffies);
		assert_int_equal(x->at_lo_us, y->at_lo_us);
		assert_int_equal(x->at_hi_us, y->at_hi_us);
		assert_int_equal(x->gap_lo_us, y->gap_lo_us);
		assert_int_equal(x->gap_hi_us, y->gap_hi_us);
	}
}

/* IPv4: exactly tf_model_unreach().  IPv6 (tcp_v6_err(): no revert for
 * Address Unreachable): the silent peer's transmissions, every one on its
 * own timer, and EHOSTUNREACH; the router still answers each resolution. */
static void unreach_family_v6_is_silent(void **state)
{
	tf_model *m = unreach_model();
	tf_neigh_params p;
	tf_unreach *u4 = NULL, *u = NULL, *u6 = NULL;
	tf_schedule *plain = NULL;
	(void)state;

	tf_neigh_params_init(&p);
	assert_int_equal(tf_model_unreach(m, &p, &u), 0);
	assert_int_equal(tf_model_unreach_family(m, &p, AF_INET, &u4), 0);
	assert_int_equal(tf_unreach_variants(u4), tf_unreach_variants(u));
	same_times(tf_unreach_schedule(u4, 0), tf_unreach_schedule(u, 0));
	assert_int_equal(tf_unreach_bursts(u4, 0), tf_unreach_bursts(u, 0));
	/* IPv4 with retries2 5: 18 transmissions, several sent by an ICMP */
	assert_int_equal(tf_schedule_giveup(tf_unreach_schedule(u4, 0)), 18);

	assert_int_equal(tf_neigh_params_init_family(AF_INET6, &p), 0);
	assert_int_equal(tf_neigh_params_set_icmpv6(&p, 100, "0-1,3-127", 64, false), 0);
	assert_int_equal(tf_model_unreach_family(m, &p, AF_INET6, &u6), 0);
	assert_int_equal(tf_model_retrans(m, &plain), 0);
	assert_int_equal(tf_unreach_variants(u6), 1);
	const tf_schedule *s6 = tf_unreach_schedule(u6, 0);
	/* 7 transmissions (original, TLP, 5 RTOs), the give-up where a silent
	 * peer's is: the plain schedule's events, kinds and timers */
	assert_int_equal(tf_schedule_giveup(s6), tf_schedule_giveup(plain));
	assert_int_equal(tf_schedule_giveup(s6), 7);
	assert_int_equal(tf_schedule_errno(s6), EHOSTUNREACH);
	assert_int_equal(tf_schedule_errno(plain), ETIMEDOUT);
	for (size_t i = 0; i <= tf_schedule_giveup(s6); i++) {
		const tf_sched_event *x = tf_schedule_event(s6, i), *y = tf_schedule_event(plain, i);

		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->timer_jiffies, y->timer_jiffies);
		assert_false(tf_unreach_immediate(u6, 0, i, NULL));
		/* on the grid, within the plain schedule's (any alignment) */
		assert_true(x->at_lo_us >= y->at_lo_us - 4000);
		assert_true(x->at_hi_us <= y->at_hi_us + 4000);
	}
	/* the router: a resolution for the first packet, failing 768 jiffies
	 * (3 x 256, level 1) later with the original, TLP and first RTO held */
	assert_true(tf_unreach_bursts(u6, 0) >= 2);
	const tf_neigh_burst *b = tf_unreach_burst(u6, 0, 0);
	assert_int_equal(b->first, 0);
	assert_int_equal(b->n_queued, b->last - b->first + 1);
	assert_int_equal(b->n_icmp, b->n_queued);   /* a fresh peer's bucket */
	tf_unreach_free(u);
	u = NULL;
	assert_int_equal(tf_model_unreach_family(m, &p, AF_UNIX, &u), -EINVAL);
	assert_null(u);
	tf_unreach_free(u4);
	tf_unreach_free(u6);
	tf_schedule_free(plain);
	tf_model_free(m);
}

/* (b) given measured ICMPs: IPv6 ignores them but for the errno. */
static void retrans_icmp_family_v6(void **state)
{
	tf_model *m = unreach_model();
	tf_schedule *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	tf_icmp_cause *ca = NULL, *cb = NULL;
	static const int64_t icmp[] = { 3100000, 3100010, 3100020, 6200000 };
	(void)state;

	assert_int_equal(tf_model_retrans_icmp_causes(m, icmp, 4, &a, &ca), 0);
	assert_int_equal(tf_model_retrans_icmp_family(m, AF_INET, icmp, 4, &b, &cb), 0);
	same_times(a, b);
	free(ca);
	free(cb);
	tf_schedule_free(b);
	assert_int_equal(tf_model_retrans_icmp_family(m, AF_INET6, icmp, 4, &b, &cb), 0);
	assert_int_equal(tf_model_retrans_icmp_family(m, AF_INET6, NULL, 0, &c, NULL), 0);
	assert_int_equal(tf_model_retrans_icmp(m, NULL, 0, &d), 0);
	same_times(b, c);
	same_times(c, d);
	assert_int_equal(tf_schedule_errno(b), EHOSTUNREACH);
	assert_int_equal(tf_schedule_errno(c), ETIMEDOUT);
	/* IPv4 reverted: more transmissions than the silent 7 */
	assert_true(tf_schedule_giveup(a) > tf_schedule_giveup(b));
	for (size_t i = 0; i < tf_schedule_count(b); i++) {
		assert_int_equal(cb[i].icmp, -1);
		assert_false(cb[i].immediate);
	}
	tf_schedule_free(c);
	c = NULL;
	assert_int_equal(tf_model_retrans_icmp_family(m, 0, icmp, 4, &c, NULL), -EINVAL);
	free(cb);
	tf_schedule_free(a);
	tf_schedule_free(b);
	tf_schedule_free(d);
	tf_model_free(m);
}

/* icmpv6_xrlim_allow(): the interval an ICMPv6 error costs. */
static void icmpv6_ratelimit(void **state)
{
	uint32_t ms = 0;
	(void)state;

	/* before 0201eedb69b2: 1000 ms = 250 jiffies, a /64 route: >> 2 = 62
	 * jiffies = 248 ms at HZ 250, 250 ms at HZ 1000 */
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(250, 1000, 64, true, &ms), 0);
	assert_int_equal(ms, 248);
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(1000, 1000, 64, true, &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(250, 1000, 96, true, &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(250, 1000, 128, true, &ms), 0);
	assert_int_equal(ms, 1000);
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(250, 1000, 0, true, &ms), 0);
	assert_int_equal(ms, 60);             /* 250 >> 4 = 15 jiffies */
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(250, 4, 64, true, &ms), 0);
	assert_int_equal(ms, 0);               /* 1 jiffy >> 2: no limit */
	/* with it: the sysctl as it is */
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(250, 100, 64, false, &ms), 0);
	assert_int_equal(ms, 100);
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(300, 1000, 64, true, &ms), 0);
	assert_int_equal(ms, 250);             /* 300 >> 2 = 75 jiffies */
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(250, 100, 129, false, &ms), -EINVAL);
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(0, 100, 64, false, &ms), -EINVAL);
	assert_int_equal(tf_model_icmpv6_ratelimit_ms(250, 100, 64, false, NULL), -EINVAL);

	/* the probe: a fresh namespace's default */
	assert_int_equal(tf_model_icmpv6_prefix_scaled(250, 1000), 1);
	assert_int_equal(tf_model_icmpv6_prefix_scaled(250, 100), 0);
	assert_int_equal(tf_model_icmpv6_prefix_scaled(1000, 100), 0);
	assert_int_equal(tf_model_icmpv6_prefix_scaled(100, 100), 0);
	assert_int_equal(tf_model_icmpv6_prefix_scaled(250, 500), -EOPNOTSUPP);
	assert_int_equal(tf_model_icmpv6_prefix_scaled(0, 100), -EINVAL);
}

static void icmpv6_ratemask(void **state)
{
	bool h = false;
	tf_neigh_params p;
	(void)state;

	assert_int_equal(tf_model_icmpv6_ratemask_has("0-1,3-127", 1, &h), 0);
	assert_true(h);
	assert_int_equal(tf_model_icmpv6_ratemask_has("0-1,3-127\n", 2, &h), 0);
	assert_false(h);       /* Packet Too Big never limited */
	assert_int_equal(tf_model_icmpv6_ratemask_has("0-1,3-127", 128, &h), 0);
	assert_false(h);
	assert_int_equal(tf_model_icmpv6_ratemask_has("", 1, &h), 0);
	assert_false(h);
	assert_int_equal(tf_model_icmpv6_ratemask_has("1", 1, &h), 0);
	assert_true(h);
	assert_int_equal(tf_model_icmpv6_ratemask_has("3-127", 1, &h), 0);
	assert_false(h);
	assert_int_equal(tf_model_icmpv6_ratemask_has("5-3", 1, &h), -EINVAL);
	assert_int_equal(tf_model_icmpv6_ratemask_has("0-256", 1, &h), -EINVAL);
	assert_int_equal(tf_model_icmpv6_ratemask_has("a", 1, &h), -EINVAL);
	assert_int_equal(tf_model_icmpv6_ratemask_has("1-", 1, &h), -EINVAL);
	assert_int_equal(tf_model_icmpv6_ratemask_has("1;2", 1, &h), -EINVAL);
	assert_int_equal(tf_model_icmpv6_ratemask_has("1\nx", 1, &h), -EINVAL);
	assert_int_equal(tf_model_icmpv6_ratemask_has(NULL, 1, &h), -EINVAL);

	tf_neigh_params_init(&p);
	assert_int_equal(tf_neigh_params_set_icmpv6(&p, 1000, "0-1,3-127", 64, true), 0);
	assert_int_equal(p.icmp_ratelimit_ms, 248);
	assert_int_equal(p.icmp_ratemask, 1u << 3);
	assert_int_equal(tf_neigh_params_set_icmpv6(&p, 100, "3-127", 64, false), 0);
	assert_int_equal(p.icmp_ratelimit_ms, 100);
	assert_int_equal(p.icmp_ratemask, 0);  /* Destination Unreachable not limited */
	assert_int_equal(tf_neigh_params_set_icmpv6(&p, 100, "x", 64, false), -EINVAL);
	assert_int_equal(tf_neigh_params_set_icmpv6(NULL, 100, "1", 64, false), -EINVAL);
}

/* The router's ICMPv6 limit at 10 s, IPv6 link down, tcp_retries2 5: the
 * silent schedule's three resolutions (each 768 jiffies: 3 solicitations)
 * start at the original, at the 5th and at the 6th transmission (~0, ~834,
 * ~1677 jiffies) and hold 5, 1 and 1 packets.  The bucket
 * (inet_peer_xrlim_allow(): 6 x tmo deep, starts full) pays tmo per ICMP and
 * gains the ~840 jiffies between failures.  Without the prefix shift
 * tmo = 2500 jiffies: 2500 left, the second passes (~834 left), the third
 * finds ~1677 < 2500: none.  With the shift (a /64: 2500 >> 2 = 625) the
 * third passes too. */
static void icmpv6_ratelimit_bursts(void **state)
{
	static const unsigned want_new[] = { 5, 1, 0 }, want_old[] = { 5, 1, 1 };
	tf_model *m = unreach_model();
	(void)state;

	for (int scaled = 0; scaled <= 1; scaled++) {
		const unsigned *want = scaled ? want_old : want_new;
		tf_neigh_params p;
		tf_unreach *u = NULL;

		assert_int_equal(tf_neigh_params_init_family(AF_INET6, &p), 0);
		assert_int_equal(tf_neigh_params_set_icmpv6(&p, 10000, "0-1,3-127", 64, scaled), 0);
		assert_int_equal(p.icmp_ratelimit_ms, scaled ? 2500 : 10000);
		assert_int_equal(tf_model_unreach_family(m, &p, AF_INET6, &u), 0);
		assert_int_equal(tf_unreach_variants(u), 1);
		assert_int_equal(tf_unreach_bursts(u, 0), 3);
		for (size_t i = 0; i < 3; i++)
			assert_int_equal(tf_unreach_burst(u, 0, i)->n_icmp, want[i]);
		assert_int_equal(tf_unreach_burst(u, 0, 0)->n_queued, 5);
		assert_int_equal(tf_schedule_giveup(tf_unreach_schedule(u, 0)), 7);
		assert_int_equal(tf_schedule_errno(tf_unreach_schedule(u, 0)), EHOSTUNREACH);
		tf_unreach_free(u);
	}
	tf_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_and_mss),
		cmocka_unit_test(ptb_below_minimum),
		cmocka_unit_test(icmp_revert_differs),
		cmocka_unit_test(neigh_same_numbers),
		cmocka_unit_test(link_down_schedule_v6),
		cmocka_unit_test(mss_probing_per_family),
		cmocka_unit_test(unreach_family_v6_is_silent),
		cmocka_unit_test(retrans_icmp_family_v6),
		cmocka_unit_test(icmpv6_ratelimit),
		cmocka_unit_test(icmpv6_ratemask),
		cmocka_unit_test(icmpv6_ratelimit_bursts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
