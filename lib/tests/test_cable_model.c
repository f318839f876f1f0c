/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of model_cable.c: the sender's own link loses carrier with
 * data in flight (tf_model_local_link_failure()), per family.  The
 * measured numbers are 6.18's (HZ=250, veth, tcp_retries2 4, 1 s x 3
 * solicitations), from tcpfate exec cable-pull runs with TCP_INFO sampled
 * every 2 ms and the client namespace's netstat counters.
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

static int run_lo(int family, bool self_icmp, unsigned retries2, unsigned packets_out,
                  int64_t fault_us, tf_local_link_failure *f)
{
	tf_model *m = NULL;
	tf_neigh_params p;
	int r;

	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_hz(m, 250), 0);
	assert_int_equal(tf_model_set_rtt(m, 117, 40), 0);   /* rto 51 jiffies */
	assert_int_equal(tf_model_set_retries2(m, retries2), 0);
	assert_int_equal(tf_model_set_packets_out(m, packets_out), 0);
	assert_int_equal(tf_neigh_params_init_family(family, &p), 0);
	r = tf_model_local_link_failure(m, &p, family, self_icmp, fault_us, f);
	tf_model_free(m);
	return r;
}

/* tcpfate's sandbox: IPv6 disabled on lo */
static int run(int family, unsigned retries2, unsigned packets_out, int64_t fault_us,
               tf_local_link_failure *f)
{
	return run_lo(family, false, retries2, packets_out, fault_us, f);
}

/* IPv4: 6.18, curl upload and a python writer, tcp_retries2 4: given up
 * 9.229 s and 9.20 s after the head's first transmission, EHOSTUNREACH;
 * the python run's TCP_INFO showed four expiries that found the head
 * queued (TcpExtTCPSpuriousRtxHostQueues 4) — its head left after the
 * eviction, so every RTO until the first failure was busy — two head
 * transmissions that reached the queue after the original
 * (TcpRetransSegs 2: both right at a failure, tcp_ld_RTO_revert() ->
 * tcp_retransmit_timer()) and the give-up at the third failure. */
static void ipv4_retries2_4(void **state)
{
	tf_local_link_failure f;

	(void)state;
	assert_int_equal(run(AF_INET, 4, 11, -80 * MS, &f), 0);
	assert_int_equal(f.err, EHOSTUNREACH);
	assert_false(f.err_varies);
	/* one resolution: 250 + 251 + 251 .. 3 x 258 jiffies */
	assert_int_equal(f.resolution.lo_us, 3008 * MS);
	assert_int_equal(f.resolution.hi_us, 3096 * MS);
	assert_int_equal(f.evict_us, 1 * S);
	assert_true(f.lo_us <= 9200 * MS && 9229 * MS <= f.hi_us);
	assert_int_equal(f.res_hi, 3);
	assert_true(f.busy_hi >= 3);
	assert_int_equal(run(AF_INET, 4, 11, 2 * MS, &f), 0);
	assert_true(f.lo_us <= 9229 * MS && 9229 * MS <= f.hi_us);
	/* Writers with 40-76 segments out, the head 19-31 ms after the fault
	 * (TCP_INFO every 2 ms): the failures 3.06-3.08 s apart, the
	 * give-up 9.21 s after the head, at the third. */
	assert_int_equal(run(AF_INET, 4, 40, -31 * MS, &f), 0);
	assert_int_equal(f.err, EHOSTUNREACH);
	assert_true(f.lo_us <= 9210 * MS && 9210 * MS <= f.hi_us);
	/* The reverts end it well before a silent peer's give-up
	 * (tf_model_retrans(): 12.6 s). */
	assert_true(f.hi_us < 10 * S);
	assert_int_equal(run(AF_INET, 4, 1, 0, &f), 0);
	assert_true(f.hi_us < 10 * S);
}

/* IPv6 in the sandbox (lo without IPv6): ETIMEDOUT (Icmp6OutDestUnreachs
 * 5, Icmp6InDestUnreachs 0, Ip6InDiscards 5); TCP_INFO showed the head resent at each failure
 * without a backoff step and the timer re-armed for icsk_rto from there
 * (1.632 s, then 3.264 s: the 1.8 s a silent peer's schedule lacks),
 * given up 9.9 s after the head (python) and 8.968 s after the fault
 * (curl, the head not on the capture). */
static void ipv6_retries2_4(void **state)
{
	tf_local_link_failure f;

	(void)state;
	assert_int_equal(run(AF_INET6, 4, 11, -100 * MS, &f), 0);
	assert_int_equal(f.err, ETIMEDOUT);
	assert_false(f.err_varies);
	assert_true(f.lo_us <= 8968 * MS && 9900 * MS <= f.hi_us);
	assert_int_equal(run(AF_INET6, 4, 11, 0, &f), 0);
	assert_true(f.lo_us <= 8968 * MS && 8968 * MS <= f.hi_us);
	/* 3 in that run (TcpRetransSegs 2); 2 when no expiry found the head
	 * queued during the second resolution (no TSQ_THROTTLED, no resend) */
	assert_true(f.tx_lo <= 3 && 3 <= f.tx_hi);
}

/* A host whose lo accepts IPv6: the ICMPv6 arrives, EHOSTUNREACH, the
 * times unchanged (tcp_v6_err() reverts nothing for code 3). */
static void ipv6_lo_enabled(void **state)
{
	tf_local_link_failure a, b;

	(void)state;
	assert_int_equal(run_lo(AF_INET6, true, 4, 11, 0, &a), 0);
	assert_int_equal(run_lo(AF_INET6, false, 4, 11, 0, &b), 0);
	assert_int_equal(a.err, EHOSTUNREACH);
	assert_int_equal(b.err, ETIMEDOUT);
	assert_int_equal(a.lo_us, b.lo_us);
	assert_int_equal(a.hi_us, b.hi_us);
}

/* Without the revert the IPv6 sender lasts at least as long. */
static void ipv6_not_before_ipv4(void **state)
{
	tf_local_link_failure f4, f6;

	(void)state;
	for (unsigned r2 = 3; r2 <= 8; r2++) {
		assert_int_equal(run(AF_INET, r2, 1, 0, &f4), 0);
		assert_int_equal(run(AF_INET6, r2, 1, 0, &f6), 0);
		assert_true(f6.hi_us >= f4.hi_us);
		assert_true(f4.lo_us <= f4.mid_us && f4.mid_us <= f4.hi_us);
	}
}

/* tcp_probe_timer() behind a zero window (tf_model_zero_window_fate(),
 * tf_model_zero_window_silent()), HZ 250, tcp_probe0_base() 51 jiffies. */
static void zero_window(void **state)
{
	tf_zero_window_fate z;
	tf_band b;

	(void)state;
	/* an answering peer, no user timeout: never */
	assert_int_equal(tf_model_zero_window_fate(250, 0, true, 0, &z), 0);
	assert_true(z.never);
	/* a silent one: tf_model_zero_window_silent()'s */
	assert_int_equal(tf_model_zero_window_fate(250, 0, false, 0, &z), -EOPNOTSUPP);
	/* TCP_USER_TIMEOUT 3000 ms = 750 jiffies, last re-arm at the first
	 * probe: [749, 750 + gran(750) 64 + 1] jiffies */
	assert_int_equal(tf_model_zero_window_fate(250, 3000, true, 0, &z), 0);
	assert_false(z.never);
	assert_int_equal(z.err, ETIMEDOUT);
	assert_int_equal(z.band.lo_us, 2996 * MS);
	assert_int_equal(z.band.hi_us, 3260 * MS);
	/* measured (6.18, python writers, stopped reader): 3.016-3.193 s from
	 * the first probe to the client's exit, the last re-arm near the end */
	assert_int_equal(tf_model_zero_window_fate(250, 3000, true, 2900 * MS, &z), 0);
	assert_true(z.band.lo_us <= 3016 * MS);

	/* silent after its last answer, tcp_retries2 4, backoff already 4:
	 * five expiries of 51 << 4 = 816 jiffies (wheel level 2, gran 64),
	 * the first from the answer's softirq [816, 880], the others from the
	 * tick [817, 880] */
	assert_int_equal(tf_model_zero_window_silent(250, 51, 4, 4, &b), 0);
	assert_int_equal(b.lo_us, (816 + 4 * 817) * 4 * MS);
	assert_int_equal(b.hi_us, 5 * 880 * 4 * MS);
	/* backoff 2: 204 [204, 212], 408 [409, 416], then 816 three times */
	assert_int_equal(tf_model_zero_window_silent(250, 51, 4, 2, &b), 0);
	assert_int_equal(b.lo_us, (204 + 409 + 3 * 817) * 4 * MS);
	assert_int_equal(b.hi_us, (212 + 416 + 3 * 880) * 4 * MS);
	assert_int_equal(tf_model_zero_window_silent(99, 51, 4, 2, &b), -EINVAL);
	assert_int_equal(tf_model_zero_window_silent(250, 51, 256, 2, &b), -EINVAL);
	assert_int_equal(tf_model_zero_window_silent(250, 51, 4, 2, NULL), -EINVAL);
}

static void refused(void **state)
{
	tf_model *m = NULL;
	tf_neigh_params p;
	tf_local_link_failure f;

	(void)state;
	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_neigh_params_init_family(AF_INET, &p), 0);
	assert_int_equal(tf_model_local_link_failure(NULL, &p, AF_INET, false, 0, &f), -EINVAL);
	assert_int_equal(tf_model_local_link_failure(m, NULL, AF_INET, false, 0, &f), -EINVAL);
	assert_int_equal(tf_model_local_link_failure(m, &p, AF_INET, false, 0, NULL), -EINVAL);
	assert_int_equal(tf_model_local_link_failure(m, &p, AF_UNIX, false, 0, &f), -EINVAL);
	p.hz = 1000;   /* not the model's */
	assert_int_equal(tf_model_local_link_failure(m, &p, AF_INET, false, 0, &f), -EINVAL);
	p.hz = 250;
	p.mcast_solicit = 0;   /* no resolution: fails at once, not modelled */
	assert_int_equal(tf_model_local_link_failure(m, &p, AF_INET, false, 0, &f), -ENOENT);
	p.mcast_solicit = 3;
	assert_int_equal(tf_model_set_user_timeout_ms(m, 5000), 0);
	assert_int_equal(tf_model_local_link_failure(m, &p, AF_INET, false, 0, &f), -EOPNOTSUPP);
	tf_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_retries2_4),
		cmocka_unit_test(ipv6_retries2_4),
		cmocka_unit_test(ipv6_lo_enabled),
		cmocka_unit_test(ipv6_not_before_ipv4),
		cmocka_unit_test(zero_window),
		cmocka_unit_test(refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
