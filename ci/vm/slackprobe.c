/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slackprobe — how late does a timer wake a task on this (virtual)
 * machine?  tcpfate-vm builds it statically on the host and runs it in the
 * guest:
 *
 *   slackprobe                 once, before the first case: 200 x 1 ms
 *                              clock_nanosleep(); prints
 *                              "p50_us=N p99_us=N max_us=N n=N hz=N"
 *                              (hz: the resolution of CLOCK_MONOTONIC_COARSE
 *                              is one jiffy, kernel/time/posix-timers.c)
 *   slackprobe --monitor FILE  while the cases run: a 10 ms sleep in a loop
 *                              (100 wake-ups/s, cheap even under TCG); on
 *                              SIGTERM writes the same line for the whole
 *                              run to FILE.  A guest whose vCPUs the host
 *                              stalls (TCG on shared cores) shows it here:
 *                              the lateness every timing check may carry.
 *                              It also holds the kernel's receive
 *                              timestamps on for the run (below).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define N 200
#define MON_MAX 1000000  /* 10 ms apart: 2.7 hours */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static unsigned hz(void)
{
	struct timespec r;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &r) < 0 || r.tv_sec || r.tv_nsec <= 0)
		return 0;
	return (unsigned)((1000000000L + r.tv_nsec / 2) / r.tv_nsec);
}

static void summary(FILE *f, long long *late_us, long n)
{
	if (n == 0) {
		fprintf(f, "p50_us=0 p99_us=0 max_us=0 n=0 hz=%u\n", hz());
		return;
	}
	qsort(late_us, (size_t)n, sizeof late_us[0], cmp);
	fprintf(f, "p50_us=%lld p99_us=%lld max_us=%lld n=%ld hz=%u\n", late_us[n / 2],
	        late_us[n * 99 / 100], late_us[n - 1], n, hz());
}

static long long measure(long long period_ns)
{
	const struct timespec ts = { period_ns / 1000000000LL, period_ns % 1000000000LL };
	long long t0 = now_ns(), late;

	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	late = (now_ns() - t0 - period_ns) / 1000;
	return late < 0 ? 0 : late;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static long long late_us[N];

	if (argc == 3 && strcmp(argv[1], "--monitor") == 0) {
		long long *mon = calloc(MON_MAX, sizeof *mon);
		struct sigaction sa;
		long n = 0;
		FILE *f;

		if (!mon)
			return 1;
		/* Every capture and timer sentinel that opens or closes a
		 * timestamping socket toggles netstamp_needed_key, and each
		 * toggle patches the code of __netif_receive_skb_core() while
		 * other vCPUs run it; a 6.12 TCG guest died there once in CI
		 * (RIP inside the patched jump).  One socket with SO_TIMESTAMPNS
		 * held for the run keeps the key on: no more patching of it.
		 * Best effort: without it the cases run as before. */
		int one = 1, hold = socket(AF_INET, SOCK_DGRAM, 0);
		if (hold >= 0)
			(void)setsockopt(hold, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_term;  /* no SA_RESTART: the sleep returns early */
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		while (!stop && n < MON_MAX) {
			long long l = measure(10000000LL);

			if (!stop)  /* a signal cut the last sleep short: not a sample */
				mon[n++] = l;
		}
		f = fopen(argv[2], "w");
		if (!f)
			return 1;
		summary(f, mon, n);
		return fclose(f) ? 1 : 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: slackprobe [--monitor FILE]\n");
		return 2;
	}
	for (int i = 0; i < N; i++)
		late_us[i] = measure(1000000LL);
	summary(stdout, late_us, N);
	return 0;
}
