/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rqwait.h — how long this thread waited for a CPU.
 *
 * /proc/thread-self/schedstat: time on the CPU, time runnable but waiting
 * on a run queue, time slices (ns; sched_info, kernel/sched/stats.h).  An
 * application-side moment (a read that returned, a poll that woke) is late
 * by exactly the scheduler's delays of the thread that saw it: the
 * run-queue wait between two samples is that delay for the interval —
 * including the wake-up latency, and the preemptions of a thread that runs
 * (which a sleeping sentinel does not see).  Added to the high edge of an
 * application-side bound, named in the check; never to a kernel-side one.
 */
#pragma once

#include <stdint.h>
#include "tf_test.h"

/* Run-queue wait of this thread so far (ns), or -1 (tf_test.h). */
static inline int64_t case_rq_wait_ns(void)
{
	return tf_case_rq_wait_ns();
}

/* The wait between two samples, in µs (0 if unknown). */
static inline int64_t case_rq_wait_us(int64_t from_ns, int64_t to_ns)
{
	return from_ns < 0 || to_ns < from_ns ? 0 : (to_ns - from_ns) / 1000;
}
