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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_and_mss),
		cmocka_unit_test(ptb_below_minimum),
		cmocka_unit_test(icmp_revert_differs),
		cmocka_unit_test(neigh_same_numbers),
		cmocka_unit_test(link_down_schedule_v6),
		cmocka_unit_test(mss_probing_per_family),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
