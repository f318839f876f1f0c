/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of model_ndisc.c: a link that loses carrier, per family —
 * the router's neighbour discovery failing as its ARP would (same window),
 * the error it sends and what the sender does with it (the difference),
 * and the soft error of a sender whose own link went down.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "tf_model.h"

#define MS 1000LL
#define S  1000000LL

/* cable_rst_after_reconnect's server: srtt 48 us, tcp_retries2 4 */
static tf_schedule *server_schedule(unsigned hz)
{
	tf_model *m = NULL;
	tf_schedule *s = NULL;

	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_hz(m, hz), 0);
	assert_int_equal(tf_model_set_rtt(m, 48, 24), 0);
	assert_int_equal(tf_model_set_retries2(m, 4), 0);
	assert_int_equal(tf_model_retrans(m, &s), 0);
	tf_model_free(m);
	return s;
}

/* The first transmission at or past linkwatch's HZ: the one that starts
 * the resolution that fails last. */
static int64_t first_after_evict(const tf_schedule *s, int64_t evict_us)
{
	for (size_t i = 0; i < tf_schedule_count(s); i++) {
		const tf_sched_event *e = tf_schedule_event(s, i);

		if (e->kind != TF_TX_GIVEUP && e->at_lo_us >= evict_us)
			return e->at_hi_us;
	}
	return evict_us;
}

static void ndisc_window(void **state)
{
	tf_neigh_params p;
	tf_arp_failure a, n;
	tf_schedule *s = server_schedule(250);

	(void)state;
	assert_int_equal(tf_neigh_params_init_family(AF_INET6, &p), 0);
	/* nd_tbl: ND_RETRANS_TIMER = HZ = 250 jiffies (level 1, gran 8),
	 * probes start at ucast_solicit 3 and fail at 3 + 0 + 3: three
	 * expiries, the first armed from the forwarding softirq (250, 258],
	 * the others from neigh_timer_handler() [251, 258]: [752, 774]. */
	assert_int_equal(tf_model_ndisc_failure(&p, s, &n), 0);
	assert_int_equal(n.resolution.lo_us, 3008 * MS);
	assert_int_equal(n.resolution.hi_us, 3096 * MS);
	assert_int_equal(n.resolution.jiffies, 250);
	assert_int_equal(n.resolution.gran, 8);
	assert_int_equal(n.evict_us, 1 * S);
	assert_int_equal(n.earliest_us, 3008 * MS);
	assert_int_equal(n.latest_us, first_after_evict(s, 1 * S) + 3096 * MS);
	/* the same rule as arp_tbl's: the same window */
	tf_neigh_params_init(&p);
	assert_int_equal(tf_model_arp_failure(&p, s, &a), 0);
	assert_memory_equal(&a, &n, sizeof a);

	/* Other knobs (net.ipv6.neigh.<if>.*): one multicast probe 100 ms
	 * apart at HZ=1000 — 100 jiffies, level 1 (gran 8): (100, 108]. */
	p.hz = 1000;
	p.retrans_time_ms = 100;
	p.mcast_solicit = 1;
	tf_schedule_free(s);
	s = server_schedule(1000);
	assert_int_equal(tf_model_ndisc_failure(&p, s, &n), 0);
	assert_int_equal(n.resolution.lo_us, 100 * MS);
	assert_int_equal(n.resolution.hi_us, 108 * MS);
	assert_int_equal(n.evict_us, 1 * S);
	assert_int_equal(n.latest_us, first_after_evict(s, 1 * S) + 108 * MS);
	/* app_solicit adds neigh_app_ns() expiries (ndisc_solicit()). */
	p.app_solicit = 2;
	assert_int_equal(tf_model_ndisc_failure(&p, s, &n), 0);
	assert_int_equal(n.resolution.lo_us, (100 + 2 * 101) * MS);
	assert_int_equal(n.resolution.hi_us, 3 * 108 * MS);
	/* No multicast nor application probe: __neigh_event_send() fails the
	 * entry at once, nothing is held, no ICMPv6. */
	p.app_solicit = 0;
	p.mcast_solicit = 0;
	assert_int_equal(tf_model_ndisc_failure(&p, s, &n), -ENOENT);
	p.mcast_solicit = 3;
	p.hz = 50;
	assert_int_equal(tf_model_ndisc_failure(&p, s, &n), -ERANGE);
	assert_int_equal(tf_model_ndisc_failure(NULL, s, &n), -EINVAL);
	assert_int_equal(tf_model_ndisc_failure(&p, NULL, &n), -EINVAL);
	tf_schedule_free(s);
}

static void link_failure_per_family(void **state)
{
	tf_neigh_params p;
	tf_link_failure v4, v6;
	tf_schedule *s = server_schedule(250);

	(void)state;
	tf_neigh_params_init(&p);
	assert_int_equal(tf_model_link_failure(AF_INET, &p, s, &v4), 0);
	assert_int_equal(tf_neigh_params_init_family(AF_INET6, &p), 0);
	assert_int_equal(tf_model_link_failure(AF_INET6, &p, s, &v6), 0);
	/* the same window ... */
	assert_int_equal(v4.earliest_us, v6.earliest_us);
	assert_int_equal(v4.latest_us, v6.latest_us);
	assert_int_equal(v6.earliest_us, 3008 * MS);
	/* ... a different message: ip6_link_failure()'s address unreachable,
	 * ipv4_link_failure()'s host unreachable ... */
	assert_int_equal(v6.family, AF_INET6);
	assert_int_equal(v6.icmp_type, 1);
	assert_int_equal(v6.icmp_code, 3);
	assert_int_equal(v4.icmp_type, 3);
	assert_int_equal(v4.icmp_code, 1);
	/* ... the same errno, but only IPv4 undoes backoff steps for it */
	assert_int_equal(v6.err, EHOSTUNREACH);
	assert_int_equal(v4.err, EHOSTUNREACH);
	assert_false(v6.rto_revert);
	assert_true(v4.rto_revert);
	assert_non_null(strstr(v6.rule, "ndisc_error_report()"));
	assert_non_null(strstr(v4.rule, "arp_error_report()"));

	assert_int_equal(tf_model_link_failure(AF_UNIX, &p, s, &v6), -EINVAL);
	assert_int_equal(tf_model_link_failure(AF_INET6, &p, s, NULL), -EINVAL);
	p.mcast_solicit = 0;
	assert_int_equal(tf_model_link_failure(AF_INET6, &p, s, &v6), -ENOENT);
	tf_schedule_free(s);
}

static void own_link_down(void **state)
{
	int e = -1;

	(void)state;
	/* inet6_csk_xmit(): the route lookup's error in sk_err_soft */
	assert_int_equal(tf_model_no_route_error(AF_INET6, false, &e), 0);
	assert_int_equal(e, ENETUNREACH);
	assert_int_equal(tf_model_no_route_error(AF_INET6, true, &e), 0);
	assert_int_equal(e, ENETUNREACH);
	/* __ip_queue_xmit()'s no_route stores nothing; a retransmission's
	 * inet_sk_rebuild_header() does */
	assert_int_equal(tf_model_no_route_error(AF_INET, false, &e), 0);
	assert_int_equal(e, 0);
	assert_int_equal(tf_model_no_route_error(AF_INET, true, &e), 0);
	assert_int_equal(e, ENETUNREACH);
	assert_int_equal(tf_model_no_route_error(AF_UNIX, false, &e), -EINVAL);
	assert_int_equal(tf_model_no_route_error(AF_INET6, false, NULL), -EINVAL);
}

static void own_link_giveup(void **state)
{
	tf_band b;
	int e = -1;

	(void)state;
	/* HZ=250, RTO 50 jiffies (TCP_RTO_MIN), tcp_retries2 3: the probe
	 * timer for 50 (from the write: level 0, (50, 51]), then from the tick
	 * 100, 200, 400 ([d + 1, d + 8]); the fourth expiry gives up:
	 * [753, 775] jiffies */
	assert_int_equal(tf_model_no_route_giveup(AF_INET6, 250, 50, 3, &b, &e), 0);
	assert_int_equal(b.lo_us, 3012 * MS);
	assert_int_equal(b.hi_us, 3100 * MS);
	assert_int_equal(b.mid_us, 3056 * MS);
	assert_int_equal(b.jiffies, 750);
	assert_int_equal(b.gran, 25);
	assert_int_equal(e, ENETUNREACH);   /* sk_err_soft from inet6_csk_xmit() */
	assert_int_equal(tf_model_no_route_giveup(AF_INET, 250, 50, 3, &b, &e), 0);
	assert_int_equal(b.lo_us, 3012 * MS);
	assert_int_equal(e, ETIMEDOUT);     /* nothing in sk_err_soft */
	/* tcp_probe0_base(): an RTO below TCP_RTO_MIN probes at TCP_RTO_MIN */
	assert_int_equal(tf_model_no_route_giveup(AF_INET, 250, 10, 3, &b, &e), 0);
	assert_int_equal(b.hi_us, 3100 * MS);
	/* tcp_retries2 0: the first expiry gives up */
	assert_int_equal(tf_model_no_route_giveup(AF_INET6, 250, 50, 0, &b, &e), 0);
	assert_int_equal(b.lo_us, 200 * MS);
	assert_int_equal(b.hi_us, 204 * MS);
	/* HZ=1000, RTO 300 ms, 2 retries: 300 (level 1 from the write,
	 * gran 8: (300, 308]), 600 and 1200 from the tick (level 2, gran 64:
	 * [601, 664], [1201, 1264]) */
	assert_int_equal(tf_model_no_route_giveup(AF_INET6, 1000, 300, 2, &b, &e), 0);
	assert_int_equal(b.lo_us, (300 + 601 + 1201) * MS);
	assert_int_equal(b.hi_us, (308 + 664 + 1264) * MS);
	assert_int_equal(tf_model_no_route_giveup(AF_UNIX, 250, 50, 3, &b, &e), -EINVAL);
	assert_int_equal(tf_model_no_route_giveup(AF_INET6, 50, 50, 3, &b, &e), -EINVAL);
	assert_int_equal(tf_model_no_route_giveup(AF_INET6, 250, 50, 3, NULL, &e), -EINVAL);
	assert_int_equal(tf_model_no_route_giveup(AF_INET6, 250, 50, 3, &b, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ndisc_window),
		cmocka_unit_test(link_failure_per_family),
		cmocka_unit_test(own_link_down),
		cmocka_unit_test(own_link_giveup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
