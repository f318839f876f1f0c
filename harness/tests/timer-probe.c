/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * timer-probe [SECONDS [EVERY]]: run the timer sentinel alone and print,
 * every EVERY seconds, the lateness of the delayed-ACK timers it measured
 * in that interval (p50, p99, worst, µs), and of its keepalive timers,
 * then the whole run's.  Exit 77
 * when it cannot run here (no network namespace).  A tool to validate the
 * sentinel (timer_sentinel.h), and its unit test with SECONDS small.
 *
 * timer-probe starve: its processes stopped (SIGSTOP) for 1.5 s, as a
 * loaded machine starves them: the keepalive timers, armed by the kernel,
 * must still fire (and be measured) in that time; the delayed-ACK timers,
 * armed by the stopped workers, do not (issue 10).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tf_probe.h"
#include "tf_util.h"
#include "timer_sentinel.h"

/* a tool's pacing, not a synchronisation */
static void pause_until(int64_t until)
{
	while (tf_mono_ns() < until)
		poll(NULL, 0, (int)((until - tf_mono_ns()) / 1000000) + 1);
}

static int starve(unsigned hz)
{
	tf_timer_sentinel *s = NULL;
	int64_t t0, deadline;

	if (tf_timer_sentinel_start(hz, &s) < 0)
		return 1;
	/* the keepalive timers armed (one period) and phased */
	deadline = tf_mono_ns() + 20000000000LL;
	do {
		pause_until(tf_mono_ns() + 200000000);
		if (*tf_timer_sentinel_why(s)) {
			printf("1..0 # SKIP %s\n", tf_timer_sentinel_why(s));
			tf_timer_sentinel_stop(s);
			return 77;
		}
	} while (tf_timer_sentinel_bucket_coverage(s, tf_mono_ns() - 500000000) < 0.99 &&
	         tf_mono_ns() < deadline);
	t0 = tf_mono_ns();
	int n = tf_timer_sentinel_signal(s, SIGSTOP);
	pause_until(t0 + 1500000000);
	tf_timer_sentinel_signal(s, SIGCONT);
	pause_until(t0 + 3000000000LL);
	/* the samples due up to t0 + 3 s collected (the reader may be slow
	 * on a loaded machine: an event, with a generous limit) */
	bool caught_up = tf_timer_sentinel_wait(s, t0 + 3000000000LL, 10000000000LL);
	double cov = tf_timer_sentinel_coverage(s, t0);
	double bcov = tf_timer_sentinel_bucket_coverage_in(s, t0, t0 + 1500000000LL);
	tf_timer_stats all, after;
	tf_timer_sentinel_stats(s, t0, &all);
	tf_timer_sentinel_stats(s, t0 + 1500000000LL, &after);
	/* one keepalive timer due per level-1 bucket (8 ticks) per CPU: the
	 * kernel fires them while their processes are stopped, late or not
	 * (how evenly they stay spread, bcov, depends on the load: reported) */
	int64_t due = (int64_t)tf_timer_sentinel_workers(s) * 1500000000LL * hz / (8 * 1000000000LL);
	int64_t got = all.ka_samples - after.ka_samples;
	tf_timer_sentinel_stop(s);
	bool ok = n > 0 && caught_up && got * 10 >= due * 9 && cov <= 0.75;
	printf("1..1\n%s 1 - %d sentinel processes stopped 1.5 s of 3 s: keepalive timers fired "
	       "in that time %lld of %lld due, buckets with one due %.3f; ticks with a delayed-ACK "
	       "timer due %.3f%s\n", ok ? "ok" : "not ok", n, (long long)got, (long long)due, bcov,
	       cov, caught_up ? "" : "; its samples never caught up");
	if (!ok)
		fprintf(stderr, "timer-probe starve: keepalive samples while stopped %lld (at least 90 %% "
		        "of %lld), delayed-ACK ticks %.3f (at most 0.75), %s\n", (long long)got,
		        (long long)due, cov, caught_up ? "caught up" : "not caught up in 10 s");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	long secs = 5, every = 1;
	unsigned hz;
	tf_timer_sentinel *s = NULL;
	tf_timer_stats st;
	int64_t t0, last, imm, amb, early, lost;

	if (argc == 2 && strcmp(argv[1], "starve") == 0) {
		if (tf_kernel_hz(&hz) < 0)
			return 1;
		return starve(hz);
	}
	if ((argc > 1 && tf_parse_long(argv[1], 1, 86400, &secs) < 0) ||
	    (argc > 2 && tf_parse_long(argv[2], 1, 3600, &every) < 0) || argc > 3) {
		fprintf(stderr, "usage: timer-probe [SECONDS [EVERY]] | timer-probe starve\n");
		return 2;
	}
	if (tf_kernel_hz(&hz) < 0 || tf_timer_sentinel_start(hz, &s) < 0) {
		fprintf(stderr, "timer-probe: cannot start the sentinel\n");
		return 1;
	}
	t0 = last = tf_mono_ns();
	printf("# HZ %u\n# interval   samples  p50_us  p99_us  worst_us  keepalive: samples  worst_us\n", hz);
	for (long i = 1; i * every <= secs; i++) {
		int64_t until = t0 + i * every * 1000000000LL;
		while (tf_mono_ns() < until)   /* a tool's pacing, not a synchronisation */
			poll(NULL, 0, (int)((until - tf_mono_ns()) / 1000000) + 1);
		if (*tf_timer_sentinel_why(s)) {
			printf("1..0 # SKIP %s\n", tf_timer_sentinel_why(s));
			tf_timer_sentinel_stop(s);
			return 77;
		}
		tf_timer_sentinel_stats(s, last, &st);
		printf("%6ld s   %8lld  %6lld  %6lld  %8lld  %18lld  %8lld\n", i * every,
		       (long long)st.samples, (long long)st.p50_ns / 1000, (long long)st.p99_ns / 1000,
		       (long long)(st.worst_ns + 999) / 1000, (long long)st.ka_samples,
		       (long long)(st.ka_worst_ns + 999) / 1000);
		fflush(stdout);
		last = until;
	}
	tf_timer_sentinel_stats(s, t0, &st);
	tf_timer_sentinel_dropped(s, &imm, &amb, &early, &lost);
	printf("# all: %u workers, %lld samples, p50 %lld us, p99 %lld us, worst %lld us; "
	       "dropped: %lld quick-acks, %lld ambiguous, %lld early, %lld lost\n",
	       tf_timer_sentinel_workers(s), (long long)st.samples, (long long)st.p50_ns / 1000,
	       (long long)st.p99_ns / 1000, (long long)(st.worst_ns + 999) / 1000, (long long)imm,
	       (long long)amb, (long long)early, (long long)lost);
	/* a timer due about every tick of each CPU: a stall longer than the
	 * slack (one jiffy + 2 ms) has one of them due inside it (issue 10) */
	int64_t spacing = tf_timer_sentinel_spacing_ns(s), tick = 1000000000LL / hz;
	printf("# one timer due every %.3f ms per worker (a tick is %.3f ms); ticks with one due: "
	       "%.1f %% (the worker with the fewest)\n", spacing / 1e6, tick / 1e6,
	       100.0 * tf_timer_sentinel_coverage(s, t0 + 1000000000LL));
	printf("# keepalive timers: %lld samples, worst %lld us; buckets with one due: %.1f %% "
	       "(the CPU with the fewest)\n", (long long)st.ka_samples,
	       (long long)(st.ka_worst_ns + 999) / 1000,
	       100.0 * tf_timer_sentinel_bucket_coverage(s, t0 + 3000000000LL));
	tf_timer_sentinel_stop(s);
	if (spacing <= 0 || spacing > tick * 11 / 10) {
		fprintf(stderr, "timer-probe: timers %.3f ms apart, more than a tick\n", spacing / 1e6);
		return 1;
	}
	/* the keepalive timers are armed over their first period (1 s), then
	 * phased on their first probes: a run of 5 s or more has samples */
	if (secs >= 5 && st.ka_samples == 0) {
		fprintf(stderr, "timer-probe: no keepalive timer measured in %ld s\n", secs);
		return 1;
	}
	return st.samples > 0 ? 0 : 1;
}
