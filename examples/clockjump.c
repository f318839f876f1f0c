/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LD_PRELOAD shim for a test: CLOCK_REALTIME jumps by $TF_CLOCKJUMP_S
 * seconds once the process has run for 0.3 s (monotonic), as a wall clock
 * stepped by NTP or settimeofday() would.  Nothing else changes.  Used by
 * exec_clockjump.sh: deadlines on the monotonic clock do not notice.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static int (*real_gettime)(clockid_t, struct timespec *);
static int64_t start_ns = -1;

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	struct timespec m;
	const char *e;
	int r;

	if (!real_gettime)
		real_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	r = real_gettime(id, ts);
	if (r < 0 || id != CLOCK_REALTIME || !(e = getenv("TF_CLOCKJUMP_S")))
		return r;
	real_gettime(CLOCK_MONOTONIC, &m);
	if (start_ns < 0)
		start_ns = ns_of(&m);
	if (ns_of(&m) - start_ns >= 300000000)
		ts->tv_sec += atol(e);
	return r;
}
