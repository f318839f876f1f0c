/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the rules that moved into lib from the cases and from
 * `tcpfate exec` (issue 12): the timer band, jiffies and the default slack
 * (model_timer.c), the delayed ACK (model_delack.c), ephemeral ports and
 * TIME-WAIT (model_ports.c), MSS/PMTU and probing (model_mss.c), zero-window
 * probes (model_zwp.c), ARP failure timing (model_neigh.c), which schedule
 * runs and what a capture counts of it (model_sched.c).
 *
 * Two kinds of checks: numbers worked out from the cited rules (HZ=250,
 * 4 ms a jiffy), and the old code of the cases (cases/stall/stall.h,
 * cases/fate/fate.h, window.c, cable.c, harness/cmd_exec.c as of
 * a7c4bd5), copied here as old_*() oracles, which the lib functions must
 * reproduce over grids of inputs: the numbers the cases see today.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "tf_model.h"

/* tf_util.h's installed macros (issue 12): a program that already has
 * systemd's _cleanup_ keeps it, and TF_CLEANUP* exist either way. */
#define _cleanup_(x) __attribute__((__cleanup__(x)))
#include "tf_util.h"
#if !defined(TF_CLEANUP) || !defined(TF_CLEANUP_FREE) || !defined(TF_CLEANUP_CLOSE)
#error "tf_util.h has no prefixed cleanup macros"
#endif

#define MS 1000LL
#define S  1000000LL

static const unsigned hzs[] = { 100, 250, 300, 1000 };
#define N_HZ (sizeof hzs / sizeof hzs[0])

/* ------------------------------------------------------------------ */
/* The cases' old code (oracles).                                      */

typedef struct { int64_t lo, mid, hi; unsigned n, gran; } old_band;

static old_band old_timer_band(unsigned n, unsigned hz)          /* stall.h, fate.h */
{
	old_band b = { .n = n, .gran = tf_model_wheel_gran(hz, n) };

	assert_int_equal(tf_model_timer_band(hz, n, false, &b.lo, &b.hi), 0);
	b.mid = (b.lo + b.hi) / 2;
	return b;
}

static unsigned old_delack_min(unsigned hz) { return hz >= 100 ? hz / 25 : 4; }
static unsigned old_delack_max(unsigned hz) { return hz / 5; }
static int64_t old_jiffy_us(unsigned hz) { return 1000000 / hz; }
static unsigned old_usecs_to_jiffies(uint64_t us, unsigned hz)
{
	return (unsigned)((us * hz + 999999) / 1000000);
}
static uint64_t old_ms_to_jiffies(uint64_t ms, unsigned hz) { return (ms * hz + 999) / 1000; }

static unsigned old_ato_on_data(unsigned ato, unsigned m, unsigned rto, unsigned hz)
{
	unsigned ato_min = old_delack_min(hz), v;

	if (ato == 0)
		return ato_min;
	if (m <= ato_min / 2)
		return (ato >> 1) + ato_min / 2;
	if (m < ato) {
		v = (ato >> 1) + m;
		if (v > rto)
			v = rto;
		if (v > old_delack_max(hz))
			v = old_delack_max(hz);
		return v;
	}
	return ato;
}

static unsigned old_tcp_delack_max(unsigned icsk_delack_max, unsigned rto_min)
{
	unsigned from_rto_min = (rto_min > 2 ? rto_min : 2) - 1;
	return icsk_delack_max < from_rto_min ? icsk_delack_max : from_rto_min;
}

static unsigned old_delack_timeout(unsigned ato, uint32_t srtt_us, bool pp, unsigned delack_max,
                                   unsigned hz)
{
	if (ato > old_delack_min(hz)) {
		unsigned max_ato = pp ? old_delack_max(hz) : hz / 2;

		if (srtt_us) {
			unsigned rtt = old_usecs_to_jiffies(srtt_us, hz);

			if (rtt < old_delack_min(hz))
				rtt = old_delack_min(hz);
			if (rtt < max_ato)
				max_ato = rtt;
		}
		if (ato > max_ato)
			ato = max_ato;
	}
	return ato < delack_max ? ato : delack_max;
}

/* nagle.c delack_model() without the report. */
static void old_delack_model(unsigned hz, uint32_t tcpi_ato, uint32_t tcpi_rto, uint32_t tcpi_rtt,
                             int64_t gap_us, long rto_min_us, unsigned *t_lo, unsigned *t_hi)
{
	unsigned rto = old_usecs_to_jiffies(tcpi_rto, hz);
	unsigned ato_prev = (unsigned)(((uint64_t)tcpi_ato * hz + 500000) / 1000000);
	unsigned m_lo = (unsigned)(gap_us / old_jiffy_us(hz));
	unsigned m_hi = (unsigned)((gap_us + old_jiffy_us(hz) - 1) / old_jiffy_us(hz));
	unsigned ato_lo = old_ato_on_data(ato_prev, m_lo, rto, hz);
	unsigned ato_hi = old_ato_on_data(ato_prev, m_hi, rto, hz);
	unsigned dmax = old_tcp_delack_max(old_delack_max(hz),
	                                   old_usecs_to_jiffies((uint64_t)rto_min_us, hz));

	*t_lo = old_delack_timeout(ato_lo, tcpi_rtt, true, dmax, hz);
	*t_hi = old_delack_timeout(ato_hi, tcpi_rtt, true, dmax, hz);
}

static unsigned old_probe0_base(unsigned rto, unsigned hz)
{
	return rto > hz / 5 ? rto : hz / 5;
}

/* window.c probe_gap_j() */
static uint64_t old_probe_gap_j(uint64_t base_j, long retries2, unsigned k, unsigned hz)
{
	unsigned backoff = k < (unsigned)retries2 ? k : (unsigned)retries2;
	uint64_t d = base_j << backoff;

	return d < 120ULL * hz ? d : 120ULL * hz;
}

/* window.c zw_alive()'s expected count */
static void old_zw_count(uint64_t base_j, long retries2, int window_ms, unsigned hz, long *sure,
                         long *maybe)
{
	int64_t lo = 0, hi = 0;

	*sure = *maybe = 0;
	for (unsigned k = 0; k < 64; k++) {
		old_band b = old_timer_band((unsigned)(k == 0 ? base_j : old_probe_gap_j(base_j, retries2, k, hz)), hz);
		lo += b.lo;
		hi += b.hi + old_jiffy_us(hz);
		if (lo >= window_ms * 1000LL)
			break;
		(*maybe)++;
		*sure += hi < window_ms * 1000LL;
	}
}

/* window.c zw_user_timeout()'s band */
static old_band old_zw_ut_band(unsigned hz, int ut_ms, int64_t rearm_ns)
{
	uint64_t ut_j = old_ms_to_jiffies((uint64_t)ut_ms, hz);
	int64_t j_us = old_jiffy_us(hz);
	uint64_t el_j = (uint64_t)(rearm_ns / 1000 / j_us);
	uint64_t rem_j = el_j + 2 < ut_j ? ut_j - el_j : 2;
	old_band b = { .lo = (int64_t)(ut_j - 1) * j_us,
	               .hi = (int64_t)(ut_j + tf_model_wheel_gran(hz, rem_j) + 1) * j_us };

	b.mid = (int64_t)ut_ms * 1000;
	return b;
}

/* cable.c arp_failure_latest() with mcast_solicit and retrans_time_ms. */
static int64_t old_arp_failure_latest(unsigned hz, long mcast, long retrans_ms, const tf_schedule *s,
                                      int64_t *fail_us, int64_t *earliest_us)
{
	uint64_t solicit_j = old_ms_to_jiffies((uint64_t)retrans_ms, hz);
	int64_t linkwatch_us = 1000000, first_after = -1;

	*fail_us = mcast * (int64_t)(solicit_j + tf_model_wheel_gran(hz, solicit_j)) * old_jiffy_us(hz);
	*earliest_us = (mcast * (int64_t)solicit_j - 1) * old_jiffy_us(hz);
	for (size_t i = 0; i < tf_schedule_count(s) && first_after < 0; i++) {
		const tf_sched_event *e = tf_schedule_event(s, i);
		if (e->kind != TF_TX_GIVEUP && e->at_lo_us >= linkwatch_us)
			first_after = e->at_hi_us;
	}
	return (first_after < 0 ? linkwatch_us : first_after) + *fail_us;
}

static unsigned old_mtu_to_mss(unsigned pmtu, bool ts, unsigned min_snd_mss)
{
	int mss = (int)pmtu - 20 - 20;

	if (mss < (int)min_snd_mss)
		mss = (int)min_snd_mss;
	return (unsigned)(mss - (ts ? 12 : 0));
}

static unsigned old_mss_to_mtu(unsigned mss, bool ts) { return mss + 20 + (ts ? 12 : 0) + 20; }

/* ------------------------------------------------------------------ */
/* model_timer.c: one band, one jiffy conversion, one default slack.   */

static void band_and_jiffies(void **state)
{
	tf_band b;
	int64_t lo, hi;

	(void)state;
	/* TCP_TIMEWAIT_LEN at HZ=250: 15000 jiffies, level 3 (4032 <= delta
	 * < 32256), granularity 512: (60 s, 62.048 s]. */
	assert_int_equal(tf_model_band(250, 15000, false, &b), 0);
	assert_int_equal(b.lo_us, 60 * S);
	assert_int_equal(b.hi_us, 62048 * MS);
	assert_int_equal(b.mid_us, 61024 * MS);
	assert_int_equal(b.jiffies, 15000);
	assert_int_equal(b.gran, 512);
	/* From a tick: [d + 1, d + gran(d - 1)]: 64 -> delta 63, level 1. */
	assert_int_equal(tf_model_band(250, 64, true, &b), 0);
	assert_int_equal(b.lo_us, 65 * 4000);
	assert_int_equal(b.hi_us, 72 * 4000);
	assert_int_equal(b.gran, 8);
	assert_int_equal(tf_model_band(250, 63, true, &b), 0);
	assert_int_equal(b.gran, 1);
	assert_int_equal(tf_model_band(99, 10, false, &b), -EINVAL);
	assert_int_equal(tf_model_band(250, 10, false, NULL), -EINVAL);
	/* The same numbers as tf_model_timer_band() and the cases' bands. */
	for (size_t h = 0; h < N_HZ; h++)
		for (unsigned d = 0; d < 40000; d += d < 600 ? 1 : 97)
			for (int t = 0; t < 2; t++) {
				assert_int_equal(tf_model_band(hzs[h], d, t, &b), 0);
				assert_int_equal(tf_model_timer_band(hzs[h], d, t, &lo, &hi), 0);
				assert_int_equal(b.lo_us, lo);
				assert_int_equal(b.hi_us, hi);
				assert_int_equal(b.mid_us, (lo + hi) / 2);
				if (!t) {
					old_band o = old_timer_band(d, hzs[h]);
					assert_int_equal(b.mid_us, o.mid);
					assert_int_equal(b.gran, o.gran);
				}
			}

	assert_int_equal(tf_us_to_jiffies(250, 200001), 51);
	assert_int_equal(tf_us_to_jiffies(250, 200000), 50);
	assert_int_equal(tf_ms_to_jiffies(250, 1001), 251);
	assert_int_equal(tf_jiffies_to_us(250, 51), 204000);
	assert_int_equal(tf_jiffies_to_ms(250, 51), 204);
	assert_int_equal(tf_jiffies_to_us(300, 1), 3333);
	assert_int_equal(tf_us_to_jiffies(0, 1), 0);
	assert_int_equal(tf_jiffies_to_ms(2000, 1), 0);
	for (size_t h = 0; h < N_HZ; h++)
		for (uint64_t v = 0; v < 3000000; v += 997) {
			assert_int_equal(tf_us_to_jiffies(hzs[h], v), old_usecs_to_jiffies(v, hzs[h]));
			assert_int_equal(tf_ms_to_jiffies(hzs[h], v / 1000), old_ms_to_jiffies(v / 1000, hzs[h]));
		}
}

static void default_slack(void **state)
{
	(void)state;
	/* harness/runner.c tf_slack_us(): 1000000 / HZ + 2000. */
	assert_int_equal(tf_model_default_slack_us(250), 6000);
	assert_int_equal(tf_model_default_slack_us(1000), 3000);
	assert_int_equal(tf_model_default_slack_us(100), 12000);
	assert_int_equal(tf_model_default_slack_us(300), 3333 + 2000);
	/* HZ unknown: the longest jiffy. */
	assert_int_equal(tf_model_default_slack_us(0), 12000);
}

/* ------------------------------------------------------------------ */
/* model_delack.c                                                      */

static void delack_rules(void **state)
{
	tf_delack d;

	(void)state;
	assert_int_equal(tf_model_delack_min(250), 10);    /* 40 ms */
	assert_int_equal(tf_model_delack_max(250), 50);    /* 200 ms */
	assert_int_equal(tf_model_delack_min(1000), 40);
	/* first data segment: TCP_ATO_MIN */
	assert_int_equal(tf_model_ato_on_data(250, 0, 7, 51), 10);
	/* back-to-back (m <= 5): (ato >> 1) + 5 */
	assert_int_equal(tf_model_ato_on_data(250, 10, 0, 51), 10);
	assert_int_equal(tf_model_ato_on_data(250, 30, 5, 51), 20);
	/* m < ato: min3((ato >> 1) + m, rto, TCP_DELACK_MAX) */
	assert_int_equal(tf_model_ato_on_data(250, 40, 30, 51), 50);
	assert_int_equal(tf_model_ato_on_data(250, 40, 30, 45), 45);
	/* m >= ato: unchanged */
	assert_int_equal(tf_model_ato_on_data(250, 10, 12, 51), 10);
	/* tcp_delack_max(): rto_min 50 jiffies -> 49; HZ/5 = 50 -> 49 */
	assert_int_equal(tf_model_tcp_delack_max(50, 50), 49);
	assert_int_equal(tf_model_tcp_delack_max(50, 1), 1);
	/* ping-pong, srtt 100 us (1 jiffy, raised to TCP_DELACK_MIN) */
	assert_int_equal(tf_model_delack_timeout(250, 30, 100, true, 49), 10);
	assert_int_equal(tf_model_delack_timeout(250, 10, 100, true, 49), 10);
	assert_int_equal(tf_model_delack_timeout(250, 30, 0, true, 49), 30);
	assert_int_equal(tf_model_delack_timeout(250, 150, 0, false, 49), 49);

	/* The warm connection of nagle_delack_stall: tcpi_ato 40 ms, a
	 * request 200 ms after the previous one (m >= ato): ato stays 10, the
	 * timer 10 jiffies = 40 ms, band (40, 44] ms. */
	assert_int_equal(tf_model_delack(&(tf_delack_in){ .hz = 250, .ato_us = 40000,
		.rto_us = 204000, .srtt_us = 60, .gap_us = 200 * MS, .rto_min_us = 200000,
		.pingpong = true }, &d), 0);
	assert_int_equal(d.ato_prev, 10);
	assert_int_equal(d.ato_lo, 10);
	assert_int_equal(d.ato_hi, 10);
	assert_int_equal(d.timer_lo, 10);
	assert_int_equal(d.timer_hi, 10);
	assert_int_equal(d.delack_max, 49);
	assert_int_equal(tf_model_delack(NULL, &d), -EINVAL);
	assert_int_equal(tf_model_delack(&(tf_delack_in){ .hz = 250, .gap_us = -1 }, &d), -EINVAL);

	/* nagle.c's delack_model() over a grid. */
	static const uint32_t atos[] = { 0, 4000, 40000, 80000, 120000, 200000 };
	static const uint32_t rtos[] = { 204000, 208000, 300000, 1000000 };
	static const uint32_t rtts[] = { 0, 50, 3000, 90000, 250000 };
	static const long rmins[] = { 200000, 10000, 5000, 1000 };
	for (size_t h = 0; h < N_HZ; h++)
	for (size_t a = 0; a < sizeof atos / sizeof atos[0]; a++)
	for (size_t r = 0; r < sizeof rtos / sizeof rtos[0]; r++)
	for (size_t t = 0; t < sizeof rtts / sizeof rtts[0]; t++)
	for (size_t n = 0; n < sizeof rmins / sizeof rmins[0]; n++)
	for (int64_t gap = 0; gap < 400 * MS; gap += 1777) {
		unsigned lo, hi;

		old_delack_model(hzs[h], atos[a], rtos[r], rtts[t], gap, rmins[n], &lo, &hi);
		assert_int_equal(tf_model_delack(&(tf_delack_in){ .hz = hzs[h], .ato_us = atos[a],
			.rto_us = rtos[r], .srtt_us = rtts[t], .gap_us = gap,
			.rto_min_us = (uint32_t)rmins[n], .pingpong = true }, &d), 0);
		assert_int_equal(d.timer_lo, lo);
		assert_int_equal(d.timer_hi, hi);
	}
}

/* ------------------------------------------------------------------ */
/* model_zwp.c                                                         */

static void zwp_rules(void **state)
{
	tf_band b;
	unsigned sure, maybe;

	(void)state;
	/* tcp_probe0_base(): max(icsk_rto, TCP_RTO_MIN = 50 jiffies) */
	assert_int_equal(tf_model_probe0_base(250, 51), 51);
	assert_int_equal(tf_model_probe0_base(250, 20), 50);
	/* tcp_retries2 3: 51, 102, 204, 408, 408 ... */
	assert_int_equal(tf_model_probe0_gap(250, 51, 0, 3), 51);
	assert_int_equal(tf_model_probe0_gap(250, 51, 2, 3), 204);
	assert_int_equal(tf_model_probe0_gap(250, 51, 3, 3), 408);
	assert_int_equal(tf_model_probe0_gap(250, 51, 9, 3), 408);
	/* at most TCP_RTO_MAX = 30000 jiffies */
	assert_int_equal(tf_model_probe0_gap(250, 51, 10, 15), 30000);
	assert_int_equal(tf_model_probe0_gap(250, 51, 200, 255), 30000);

	/* zero_window_alive: retries2 3, 9 s, base 51: gaps 51 (level 0:
	 * [204, 208] ms), 102 ([408, 440]), 204 ([816, 848]), 408 ([1632,
	 * 1664]) ...: lows 0.204, 0.612, 1.428, 3.06, 4.692, 6.324, 7.956,
	 * 9.588 s -> 7 probes; highs + 4 ms each stay below 9 s: sure. */
	assert_int_equal(tf_model_zwp_count(250, 51, 3, 9 * S, true, &sure, &maybe), 0);
	assert_int_equal(maybe, 7);
	assert_int_equal(sure, 7);
	assert_int_equal(tf_model_zwp_count(250, 51, 3, 9 * S, true, NULL, &maybe), -EINVAL);

	/* zero_window_user_timeout: 3000 ms = 750 jiffies; re-armed 2.9 s
	 * after the first probe (725 jiffies): 25 left, level 0: [2.996,
	 * 3.008] s, mid 3 s. */
	assert_int_equal(tf_model_zwp_user_timeout_band(250, 3000, 2900 * MS, &b), 0);
	assert_int_equal(b.lo_us, 2996 * MS);
	assert_int_equal(b.hi_us, 3008 * MS);
	assert_int_equal(b.mid_us, 3000 * MS);
	assert_int_equal(b.jiffies, 25);
	/* re-armed at the first probe: 750 left, level 2 (504 <= 750): gran 64 */
	assert_int_equal(tf_model_zwp_user_timeout_band(250, 3000, 0, &b), 0);
	assert_int_equal(b.hi_us, (750 + 64 + 1) * 4000);
	/* past the deadline: TCP_TIMEOUT_MIN */
	assert_int_equal(tf_model_zwp_user_timeout_band(250, 3000, 3100 * MS, &b), 0);
	assert_int_equal(b.jiffies, 2);
	assert_int_equal(tf_model_zwp_user_timeout_band(250, 0, 0, &b), -EINVAL);

	/* tcp_invalid_ratelimit 500 ms */
	assert_int_equal(tf_model_oow_ratelimit_us(250, 500), 500 * MS);
	assert_int_equal(tf_model_oow_ratelimit_us(250, 501), 504 * MS);

	/* window.c's arithmetic over grids (HZ dividing 10^6: its jiffy). */
	static const unsigned hz4[] = { 100, 250, 1000 };
	for (size_t h = 0; h < 3; h++) {
		unsigned hz = hz4[h];

		for (unsigned rto = 1; rto < 3 * hz; rto += 7) {
			uint64_t base = tf_model_probe0_base(hz, rto);

			assert_int_equal(base, old_probe0_base(rto, hz));
			for (long r2 = 1; r2 <= 15; r2 += 2)
				for (unsigned k = 0; k < 20; k++)
					assert_int_equal(tf_model_probe0_gap(hz, base, k, (unsigned)r2),
					                 k == 0 ? base : old_probe_gap_j(base, r2, k, hz));
		}
		for (unsigned base = hz / 5; base < 2 * hz; base += 13)
			for (long r2 = 1; r2 <= 15; r2 += 7)
				for (int w = 500; w < 130000; w += 9973) {
					long s_old, m_old;

					old_zw_count(base, r2, w, hz, &s_old, &m_old);
					assert_int_equal(tf_model_zwp_count(hz, base, (unsigned)r2, w * MS, true,
					                                    &sure, &maybe), 0);
					if (m_old >= 64)
						continue;   /* window.c stops at its 64-probe array */
					assert_int_equal(sure, s_old);
					assert_int_equal(maybe, m_old);
				}
		for (int ut = 500; ut < 10000; ut += 777)
			for (int64_t re = 0; re < 12 * S; re += 12345) {
				old_band o = old_zw_ut_band(hz, ut, re * 1000);

				assert_int_equal(tf_model_zwp_user_timeout_band(hz, (uint32_t)ut, re, &b), 0);
				assert_int_equal(b.lo_us, o.lo);
				assert_int_equal(b.hi_us, o.hi);
				assert_int_equal(b.mid_us, o.mid);
			}
		for (uint32_t rl = 0; rl < 2000; rl += 17)
			assert_int_equal(tf_model_oow_ratelimit_us(hz, rl),
			                 (int64_t)old_ms_to_jiffies(rl, hz) * old_jiffy_us(hz));
	}
}

/* ------------------------------------------------------------------ */
/* model_ports.c                                                       */

static void ports_rules(void **state)
{
	tf_connect_ports p;
	tf_band b;
	double lo, hi;

	(void)state;
	/* the default ip_local_port_range 32768 60999: 28232 ports, even */
	assert_int_equal(tf_model_connect_ports(32768, 60999, &p), 0);
	assert_int_equal(p.count, 28232);
	assert_int_equal(p.usable, 28232);
	assert_int_equal(p.first_pass, 14116);
	assert_true(p.exact);
	/* odd: one port short per scan */
	assert_int_equal(tf_model_connect_ports(40000, 40010, &p), 0);
	assert_int_equal(p.count, 11);
	assert_int_equal(p.usable, 10);
	assert_int_equal(p.first_pass, 5);
	assert_false(p.exact);
	assert_int_equal(tf_model_connect_ports(5000, 5000, &p), 0);
	assert_int_equal(p.usable, 1);
	assert_int_equal(p.first_pass, 1);
	assert_int_equal(tf_model_connect_ports(6, 5, &p), -EINVAL);

	assert_int_equal(tf_model_timewait_jiffies(250), 15000);
	assert_int_equal(tf_model_timewait_band(250, &b), 0);
	assert_int_equal(b.lo_us, 60 * S);
	assert_int_equal(b.hi_us, 62048 * MS);
	/* seed 003's "28,000 ports divided by 60 seconds": 470.5 .. 455.0 */
	assert_int_equal(tf_model_port_rate(28232, 250, &lo, &hi), 0);
	assert_true(fabs(hi - 28232 / 60.0) < 1e-9);
	assert_true(fabs(lo - 28232 / 62.048) < 1e-9);

	/* tcp_tw_reuse_delay 1000 ms, entered at 1234.567891 ms: 2235 ms */
	assert_int_equal(tf_model_tw_reuse_at_ns(1234567891, 1000), 2235000000LL);
	assert_int_equal(tf_model_tw_reuse_at_ns(1234000000, 0), 1235000000LL);
	/* before 6.14: the next second */
	assert_int_equal(tf_model_tw_reuse_at_ns(1234567891, -1), 2000000000LL);
	/* ktime_get_seconds() trails by 2 jiffies + the tick's lateness: a
	 * FIN 10 ms past a boundary may carry the second before (a 6.12 TCG
	 * guest reused a port 0.87 s before the next-second threshold) */
	assert_int_equal(tf_model_ktime_sec_lag_ns(250, 12000000), 20000000LL);
	assert_int_equal(tf_model_ktime_sec_lag_ns(1000, 0), 2000000LL);
	assert_int_equal(tf_model_ktime_sec_lag_ns(99, 0), -EINVAL);
	assert_int_equal(tf_model_ktime_sec_lag_ns(250, -1), -EINVAL);
	assert_int_equal(tf_model_tw_reuse_earliest_ns(2010000000LL, -1, 20000000), 2000000000LL);
	assert_int_equal(tf_model_tw_reuse_earliest_ns(2030000000LL, -1, 20000000), 3000000000LL);
	assert_int_equal(tf_model_tw_reuse_earliest_ns(2010000000LL, -1, 0), 3000000000LL);
	/* 6.14+: tcp_clock_ms() reads the clock, no lag */
	assert_int_equal(tf_model_tw_reuse_earliest_ns(2010000000LL, 100, 20000000), 2111000000LL);
	assert_int_equal(tf_model_tw_reuse_isn(1000), 1000 + 65537);
	/* TIME-WAIT assassination: a 6.1 guest's server answered the TIME-WAIT
	 * socket's duplicate ACK with an RST at tw_rcv_nxt, and the port was
	 * free 5 ms later */
	assert_true(tf_model_tw_rst_kills(0, 3399118793u, 3399118793u));
	assert_false(tf_model_tw_rst_kills(1, 3399118793u, 3399118793u));
	assert_false(tf_model_tw_rst_kills(0, 3399118792u, 3399118793u));
	assert_int_equal(tf_model_tw_reuse_isn(0xfffeffffu), 1);  /* 0 becomes 1 */
	assert_int_equal(tf_model_tw_reuse_isn(0xffffffffu), 65536);
}

/* ------------------------------------------------------------------ */
/* model_mss.c                                                         */

static void mss_rules(void **state)
{
	tf_mtu_probing p;
	tf_model *m = NULL;
	tf_schedule *a = NULL, *b = NULL;
	uint64_t need;

	(void)state;
	/* pmtu_icmp_discovery: tcp_mtu_to_mss(1280) */
	assert_int_equal(tf_model_mtu_to_mss(1280, true, 48), 1228);
	assert_int_equal(tf_model_mtu_to_mss(1280, false, 48), 1240);
	assert_int_equal(tf_model_mtu_to_mss(60, false, 48), 48);
	assert_int_equal(tf_model_mss_to_mtu(1024, true), 1076);
	/* tcp_base_mss 1024, peer MTU 1500 (MSS 1460), timestamps */
	assert_int_equal(tf_model_mtu_probing(1024, 48, 1460, true, &p), 0);
	assert_int_equal(p.search_low, 1076);
	assert_int_equal(p.search_high, 1500);
	assert_int_equal(p.low_mss, 1024);
	assert_int_equal(p.probe_mss, 1236);    /* tcp_mtu_to_mss(1288) */
	/* pmtu_probing_always: cwnd 10 -> no probe; 11 with 20000 bytes ->
	 * probe (1236 + 4 x 1024 = 5332 needed) */
	assert_false(tf_model_mtu_probe_sent(&p, 1024, 10, 3, 8, 20000, &need));
	assert_int_equal(need, 5332);
	assert_true(tf_model_mtu_probe_sent(&p, 1024, 11, 3, 8, 20000, NULL));
	assert_false(tf_model_mtu_probe_sent(&p, 1024, 11, 3, 8, 5331, NULL));
	assert_false(tf_model_mtu_probe_sent(&p, 1024, 11, 3, 500, 20000, NULL));
	assert_int_equal(tf_model_mtu_probing(0, 48, 1460, true, &p), -EINVAL);
	for (unsigned mtu = 68; mtu < 9000; mtu += 3)
		for (int ts = 0; ts < 2; ts++)
			for (unsigned min = 48; min < 600; min += 131) {
				assert_int_equal(tf_model_mtu_to_mss(mtu, ts, min), old_mtu_to_mss(mtu, ts, min));
				assert_int_equal(tf_model_mss_to_mtu(mtu, ts), old_mss_to_mtu(mtu, ts));
			}
	/* pmtu.c's search_high = (server_mtu - 40) + 20 + 20 and probe */
	for (unsigned mtu = 1280; mtu <= 9000; mtu += 101) {
		assert_int_equal(tf_model_mtu_probing(1024, 48, mtu - 40, true, &p), 0);
		assert_int_equal(p.search_high, mtu);
		assert_int_equal(p.probe_mss, old_mtu_to_mss((mtu + old_mss_to_mtu(1024, true)) >> 1, true, 48));
	}

	/* Black-hole detection = the schedule with retries2 = retries1. */
	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_rtt(m, 48, 24), 0);
	assert_int_equal(tf_model_set_retries2(m, 15), 0);
	assert_int_equal(tf_model_mtu_blackhole(m, 3, &a), 0);
	assert_int_equal(tf_model_set_retries2(m, 3), 0);
	assert_int_equal(tf_model_retrans(m, &b), 0);
	assert_int_equal(tf_schedule_count(a), tf_schedule_count(b));
	for (size_t i = 0; i < tf_schedule_count(a); i++)
		assert_memory_equal(tf_schedule_event(a, i), tf_schedule_event(b, i),
		                    sizeof(tf_sched_event));
	/* tcp_retries1 3: budget 15 x 200 ms = 3 s from the first RTO
	 * retransmission: four of them before the detecting expiry */
	assert_int_equal(tf_schedule_count_kind(a, TF_TX_RTO), 4);
	tf_schedule_free(a);
	a = NULL;
	assert_int_equal(tf_model_mtu_blackhole(m, 256, &a), -ERANGE);
	assert_int_equal(tf_model_set_user_timeout_ms(m, 3000), 0);
	assert_int_equal(tf_model_mtu_blackhole(m, 3, &a), -EOPNOTSUPP);
	tf_schedule_free(b);
	tf_model_free(m);
}

/* ------------------------------------------------------------------ */
/* model_neigh.c: the ARP failure cable.c computed.                    */

static void arp_failure(void **state)
{
	tf_neigh_params p;
	tf_band b;
	tf_arp_failure f;
	tf_model *m = NULL;
	tf_schedule *s = NULL;

	(void)state;
	tf_neigh_params_init(&p);
	/* retrans_time 1000 ms = 250 jiffies, level 1; app + mcast = 3
	 * expiries: (250, 258] + 2 x [251, 258] = [752, 774] jiffies */
	assert_int_equal(tf_model_neigh_resolution(&p, &b), 0);
	assert_int_equal(b.lo_us, 3008 * MS);
	assert_int_equal(b.hi_us, 3096 * MS);
	assert_int_equal(b.jiffies, 250);
	assert_int_equal(b.gran, 8);
	p.mcast_solicit = 0;
	assert_int_equal(tf_model_neigh_resolution(&p, &b), -ENOENT);
	tf_neigh_params_init(&p);

	/* cable_rst_after_reconnect's server: srtt 48 us, tcp_retries2 4 */
	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_rtt(m, 48, 24), 0);
	assert_int_equal(tf_model_set_retries2(m, 4), 0);
	assert_int_equal(tf_model_retrans(m, &s), 0);
	assert_int_equal(tf_model_arp_failure(&p, s, &f), 0);
	assert_int_equal(f.evict_us, 1 * S);
	assert_int_equal(f.earliest_us, 3008 * MS);
	for (size_t h = 0; h < N_HZ; h++)
		for (long rt = 10; rt < 3000; rt += 97)
			for (unsigned mc = 1; mc < 6; mc++) {
				int64_t fail, earliest, latest;

				tf_neigh_params_init(&p);
				p.hz = hzs[h];
				p.retrans_time_ms = (uint32_t)rt;
				p.mcast_solicit = mc;
				assert_int_equal(tf_model_set_hz(m, hzs[h]), 0);
				tf_schedule_free(s);
				s = NULL;
				assert_int_equal(tf_model_retrans(m, &s), 0);
				latest = old_arp_failure_latest(hzs[h], mc, rt, s, &fail, &earliest);
				assert_int_equal(tf_model_arp_failure(&p, s, &f), 0);
				/* The latest ICMP: cable.c's, where the wheel level of
				 * the neighbour timer is the same from a tick (and
				 * its jiffy a whole number of µs: not HZ=300). */
				if (1000000 % hzs[h] == 0 &&
				    tf_model_wheel_gran(hzs[h], f.resolution.jiffies) ==
				    tf_model_wheel_gran(hzs[h], f.resolution.jiffies - 1)) {
					assert_int_equal(f.resolution.hi_us, fail);
					assert_int_equal(f.latest_us, latest);
				} else {
					/* a shorter timer from the tick; HZ=300's
					 * jiffy is 3333.3 µs, not 3333: 1 µs in 3 jiffies */
					if (f.latest_us > latest + f.resolution.hi_us / 9000 + 1)
						fail_msg("hz %u rt %ld mc %u: %lld > %lld", hzs[h], rt, mc,
						         (long long)f.latest_us, (long long)latest);
				}
				/* The earliest: tighter than cable.c's by the first
				 * timer's jiffy and one per later expiry (armed on a
				 * tick: d + 1), never looser. */
				assert_true(f.earliest_us >= earliest);
				assert_true(f.earliest_us - earliest <=
				            (int64_t)tf_jiffies_to_us(hzs[h], mc + 1) + 1);
			}
	tf_schedule_free(s);
	tf_model_free(m);
}

/* ------------------------------------------------------------------ */
/* model_keepalive.c: a live peer answering (fate/keepalive.c).        */

/* tcp_ack_probe(): a reopened window restarts the probes' clock only when
 * it takes the whole head segment (the CI flake of session 9: a card row
 * assumed that window updates never restart it) */
static void slow_reader_rules(void **state)
{
	tf_slow_reader_fate f;

	(void)state;
	assert_true(tf_model_window_reopens(21720, 8192));
	assert_true(tf_model_window_reopens(21720, 21720));     /* !after(end_seq, wnd_end) */
	assert_false(tf_model_window_reopens(21720, 21721));
	assert_false(tf_model_window_reopens(0, 1));
	assert_int_equal(tf_model_slow_reader_fate(0, &f), 0);
	assert_true(f.never);
	assert_string_equal(f.clock, "");
	assert_int_equal(tf_model_slow_reader_fate(3000, &f), 0);
	assert_false(f.never);
	assert_non_null(strstr(f.rule, "tcp_ack_probe()"));
	assert_non_null(strstr(f.clock, "restarted"));
	assert_int_equal(tf_model_slow_reader_fate(3000, NULL), -EINVAL);
}

static void old_ka_count(const tf_schedule *s, unsigned idle, unsigned intvl, unsigned hz,
                         long window_ms, long *sure, long *maybe)
{
	const tf_sched_event *first = tf_schedule_event(s, 1);
	uint64_t idle_j = (uint64_t)idle * hz, intvl_j = (uint64_t)intvl * hz;
	unsigned g = tf_model_wheel_gran(hz, idle_j - intvl_j);
	int64_t j_us = old_jiffy_us(hz);
	int64_t alo = (int64_t)(idle_j - 1) * j_us, ahi = (int64_t)(idle_j + g) * j_us;

	*sure = *maybe = 0;
	for (int64_t lo = first->at_lo_us, hi = first->at_hi_us + j_us;
	     lo < window_ms * 1000LL; lo += alo, hi += ahi + j_us) {
		(*maybe)++;
		*sure += hi < window_ms * 1000LL;
	}
}

static void keepalive_answered(void **state)
{
	tf_band b;
	tf_model *m = NULL;
	unsigned sure, maybe;

	(void)state;
	/* idle 2 s, intvl 1 s at HZ=250: re-armed for 250 jiffies (level 1,
	 * gran 8): [499, 508] jiffies after the answer */
	assert_int_equal(tf_model_keepalive_answered_band(250, 2, 1, &b), 0);
	assert_int_equal(b.lo_us, 499 * 4000);
	assert_int_equal(b.hi_us, 508 * 4000);
	assert_int_equal(b.jiffies, 250);
	assert_int_equal(tf_model_keepalive_answered_band(250, 1, 1, &b), -EOPNOTSUPP);
	/* on the grid: 1 s and 1 s at HZ=250 from a level-1 boundary, 256
	 * jiffies (the re-arm of 250 from the tick, delta 249, gran 8); from
	 * a callback 6 jiffies late the bucket after (264 - 6) */
	int64_t nx;
	assert_int_equal(tf_model_keepalive_answered_next(250, 1, 1, 800, &nx), 0);
	assert_int_equal(nx, 1056);
	assert_int_equal(tf_model_keepalive_answered_next(250, 1, 1, 805, &nx), 0);
	assert_int_equal(nx, 1056);
	assert_int_equal(tf_model_keepalive_answered_next(250, 1, 1, 806, &nx), 0);
	assert_int_equal(nx, 1064);
	/* HZ=1000: 1000 jiffies from the tick is level 2, gran 64 */
	assert_int_equal(tf_model_keepalive_answered_next(1000, 1, 1, 640, &nx), 0);
	assert_int_equal(nx, 1664);
	/* idle 2 s, intvl 1 s: 256 to an expiry that finds 256 < 500 idle,
	 * re-armed for 244 from that tick: level 1, bucket ((1056+244)/8+1)*8 */
	assert_int_equal(tf_model_keepalive_answered_next(250, 2, 1, 800, &nx), 0);
	assert_int_equal(nx, 1304);
	assert_int_equal(tf_model_keepalive_answered_next(250, 0, 1, 800, &nx), -EINVAL);
	/* armed from a syscall in jiffy 549 for 250: delta 250, level 1,
	 * the bucket after 799: 800; from 550 the one after 800 */
	assert_int_equal(tf_model_wheel_fire(250, 549, 250, false), 800);
	assert_int_equal(tf_model_wheel_fire(250, 550, 250, false), 808);
	assert_int_equal(tf_model_wheel_fire(250, 542, 250, false), 800);
	assert_int_equal(tf_model_wheel_fire(250, -1, 250, false), -1);
	assert_int_equal(tf_model_keepalive_answered_next(250, 1, 1, -1, &nx), -EINVAL);
	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_keepalive(m, 2, 1, 5), 0);
	/* probe 1 at [2, 2.032] s (500 jiffies, level 1, gran 8: [500, 508]),
	 * then +[1.996, 2.032] s +4 ms: 2, 3.996, 5.992 s in 7 s */
	assert_int_equal(tf_model_keepalive_answered_count(m, 7 * S, &sure, &maybe), 0);
	assert_int_equal(maybe, 3);
	assert_int_equal(sure, 3);
	for (size_t h = 0; h < 3; h++) {
		unsigned hz = (unsigned[]){ 100, 250, 1000 }[h];

		assert_int_equal(tf_model_set_hz(m, hz), 0);
		for (unsigned idle = 2; idle < 40; idle += 3)
			for (unsigned intvl = 1; intvl < idle; intvl += 2)
				for (long w = 1000; w < 120000; w += 7919) {
					tf_schedule *s = NULL;
					long so, mo;

					assert_int_equal(tf_model_set_keepalive(m, idle, intvl, 9), 0);
					assert_int_equal(tf_model_keepalive(m, &s), 0);
					old_ka_count(s, idle, intvl, hz, w, &so, &mo);
					assert_int_equal(tf_model_keepalive_answered_count(m, w * MS, &sure,
					                                                   &maybe), 0);
					assert_int_equal(sure, so);
					assert_int_equal(maybe, mo);
					tf_schedule_free(s);
				}
	}
	tf_model_free(m);
}

/* ------------------------------------------------------------------ */
/* model_sched.c: which schedule, and what a capture counts of it.     */

/* harness/cmd_exec.c model_decide()'s choice (fault kinds aside). */
static tf_sched_kind old_decide(int state, unsigned timer, unsigned seen, bool has_info,
                                unsigned unacked, unsigned wqueue, bool knobs, int keepalive)
{
	if (state == TCP_SYN_SENT)
		return TF_SCHED_SYN;
	if (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT)
		return TF_SCHED_OTHER;
	if ((seen & (1u << 1)) || (has_info && unacked > 0))
		return TF_SCHED_RETRANS;
	if (timer == 4 || (seen & (1u << 4)))
		return TF_SCHED_ZERO_WINDOW;
	if (wqueue > 0)
		return TF_SCHED_RETRANS;
	if ((seen & (1u << 2)) || (knobs && keepalive) || (!knobs && timer == 2))
		return TF_SCHED_KEEPALIVE;
	return TF_SCHED_NEVER;
}

static void which_schedule(void **state)
{
	static const int states[] = { TCP_ESTABLISHED, TCP_SYN_SENT, TCP_CLOSE_WAIT, TCP_FIN_WAIT1,
	                              TCP_TIME_WAIT };

	(void)state;
	assert_int_equal(tf_model_which_schedule(NULL), TF_SCHED_NEVER);
	assert_string_equal(tf_sched_kind_name(TF_SCHED_ZERO_WINDOW), "zero-window");
	assert_string_equal(tf_sched_kind_name((tf_sched_kind)99), "?");
	for (size_t si = 0; si < sizeof states / sizeof states[0]; si++)
	for (unsigned timer = 0; timer <= 4; timer++)
	for (unsigned seen = 0; seen < 32; seen += 2)
	for (int info = 0; info < 2; info++)
	for (unsigned unacked = 0; unacked < 2; unacked++)
	for (unsigned wq = 0; wq < 2; wq++)
	for (int knobs = 0; knobs < 2; knobs++)
	for (int ka = 0; ka < 2; ka++) {
		tf_sock_timers t = { .state = states[si], .timer = timer, .timers_seen = seen,
			.have_unacked = info, .unacked = unacked, .wqueue = wq,
			.keepalive = knobs ? ka : -1 };

		assert_int_equal(tf_model_which_schedule(&t),
		                 old_decide(states[si], timer, seen, info, unacked, wq, knobs, ka));
	}
}

/* cmd_exec.c model_compute(): transmissions of the head before the give-up. */
static size_t old_tx_expected(const tf_schedule *s, bool keepalive, unsigned packets_out)
{
	size_t g = tf_schedule_giveup(s), n = 0;

	for (size_t i = 0; i < g && !keepalive; i++) {
		tf_tx_kind kk = tf_schedule_event(s, i)->kind;
		if (kk == TF_TX_ORIGINAL || kk == TF_TX_RTO || kk == TF_TX_SYN ||
		    kk == TF_TX_SYN_RTO || (kk == TF_TX_TLP && packets_out <= 1))
			n++;
	}
	return n;
}

static void schedule_counts(void **state)
{
	tf_model *m = NULL;
	tf_schedule *s = NULL;

	(void)state;
	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_rtt(m, 48, 24), 0);
	assert_int_equal(tf_model_set_retries2(m, 5), 0);
	/* original, TLP, RTO x 5, give-up (test_model.c's retries2 5 table) */
	assert_int_equal(tf_model_retrans(m, &s), 0);
	assert_int_equal(tf_schedule_count_kind(s, TF_TX_RTO), 5);
	assert_int_equal(tf_schedule_head_tx(s, 1), 7);
	assert_int_equal(tf_schedule_head_tx(s, 2), 6);
	assert_int_equal(tf_schedule_nth(s, TF_TX_RTO, 1), 2);
	assert_int_equal(tf_schedule_nth(s, TF_TX_RTO, 2), 3);
	assert_int_equal(tf_schedule_nth(s, TF_TX_RTO, 5), 6);
	assert_int_equal(tf_schedule_nth(s, TF_TX_RTO, 6), -1);
	assert_int_equal(tf_schedule_nth(s, TF_TX_RTO, 0), -1);
	assert_int_equal(tf_schedule_nth(NULL, TF_TX_RTO, 1), -1);
	for (unsigned po = 1; po < 4; po++)
		assert_int_equal(tf_schedule_head_tx(s, po), old_tx_expected(s, false, po));
	tf_schedule_free(s);
	assert_int_equal(tf_model_syn(m, &s), 0);
	assert_int_equal(tf_schedule_head_tx(s, 1), old_tx_expected(s, false, 1));
	assert_int_equal(tf_schedule_head_tx(s, 1), 7);  /* SYN + 6 retransmissions */
	tf_schedule_free(s);
	assert_int_equal(tf_model_set_keepalive(m, 10, 2, 3), 0);
	assert_int_equal(tf_model_keepalive(m, &s), 0);
	assert_int_equal(tf_schedule_head_tx(s, 1), 0);
	assert_int_equal(tf_schedule_count_kind(s, TF_TX_KEEPALIVE), 3);
	tf_schedule_free(s);
	assert_int_equal(tf_schedule_head_tx(NULL, 1), 0);
	tf_model_free(m);
}

static int cleaned;

static void count_cleanup(int *p)
{
	cleaned += *p;
}

static void cleanup_macros(void **state)
{
	(void)state;
	cleaned = 0;
	{
		TF_CLEANUP(count_cleanup) int a = 1;
		_cleanup_(count_cleanup) int b = 10;
		TF_CLEANUP_FREE char *p = malloc(16);
		_cleanup_close_ int fd = -1;

		assert_non_null(p);
		(void)a, (void)b, (void)fd;
	}
	assert_int_equal(cleaned, 11);
}

/* tcp_v4_err() / tcp_v6_err(): between(seq, snd_una, snd_nxt). */
static void icmp_quoting_a_probe(void **state)
{
	(void)state;
	/* a probe (snd_una - 1) with nothing in flight: out of window */
	assert_false(tf_model_icmp_in_window(AF_INET, 999, 1000, 1000));
	assert_false(tf_model_icmp_in_window(AF_INET6, 999, 1000, 1000));
	/* a data segment's: in window, both edges */
	assert_true(tf_model_icmp_in_window(AF_INET, 1000, 1000, 1000));
	assert_true(tf_model_icmp_in_window(AF_INET6, 1000, 1000, 2448));
	assert_true(tf_model_icmp_in_window(AF_INET6, 2448, 1000, 2448));
	assert_false(tf_model_icmp_in_window(AF_INET, 2449, 1000, 2448));
	/* across the wrap */
	assert_true(tf_model_icmp_in_window(AF_INET, 5, 0xfffffff0u, 10));
	assert_false(tf_model_icmp_in_window(AF_INET, 0xffffffefu, 0xfffffff0u, 10));
	assert_false(tf_model_icmp_in_window(AF_UNIX, 1000, 1000, 1000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(band_and_jiffies),
		cmocka_unit_test(default_slack),
		cmocka_unit_test(delack_rules),
		cmocka_unit_test(zwp_rules),
		cmocka_unit_test(ports_rules),
		cmocka_unit_test(mss_rules),
		cmocka_unit_test(arp_failure),
		cmocka_unit_test(keepalive_answered),
		cmocka_unit_test(which_schedule),
		cmocka_unit_test(schedule_counts),
		cmocka_unit_test(cleanup_macros),
		cmocka_unit_test(icmp_quoting_a_probe),
		cmocka_unit_test(slow_reader_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
