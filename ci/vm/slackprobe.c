/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slackprobe — how late does a 1 ms timer wake a task on this (virtual)
 * machine?  tcpfate-vm builds it statically on the host, runs it once in
 * the guest before the first case and turns the answer into TF_SLACK_US.
 *
 * Prints one line: "p50_us=N p99_us=N max_us=N n=N".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 200

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

int main(void)
{
	static long long late_us[N];
	const struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < N; i++) {
		long long t0 = now_ns();

		clock_nanosleep(CLOCK_MONOTONIC, 0, &ms, NULL);
		late_us[i] = (now_ns() - t0 - 1000000) / 1000;
		if (late_us[i] < 0)
			late_us[i] = 0;
	}
	qsort(late_us, N, sizeof late_us[0], cmp);
	printf("p50_us=%lld p99_us=%lld max_us=%lld n=%d\n", late_us[N / 2],
	       late_us[N * 99 / 100], late_us[N - 1], N);
	return 0;
}
