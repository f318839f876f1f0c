/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wake-up sentinel: a process of the caller's own priority that sleeps
 * until an absolute CLOCK_MONOTONIC instant every 5 ms and records how late
 * it woke — what the scheduler is doing to a sleeping process on this host
 * right now.  Application-side checks get twice its worst as an allowance,
 * measured in the same run.  A process, not a thread: a case must stay
 * single-threaded to unshare() a user namespace.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#define TF_SENTINEL_PERIOD_NS 5000000

typedef struct tf_sentinel tf_sentinel;

/* In a helper process the run forks (the sentinel, the idle spinners): die
 * with `parent` (or exit now if it is gone already), stdio on /dev/null,
 * no other fd of the caller's kept open. */
void tf_helper_detach(pid_t parent);

/* Fork the sentinel (it dies with the caller).  0 or -errno. */
int tf_sentinel_start(tf_sentinel **ret);
/* The worst lateness so far (µs, rounded up) and the number of samples. */
int64_t tf_sentinel_max_late_us(const tf_sentinel *s);
int64_t tf_sentinel_samples(const tf_sentinel *s);
/* Twice the worst lateness: the allowance of application-side checks. */
static inline int64_t tf_sentinel_allowance_us(const tf_sentinel *s)
{
	return 2 * tf_sentinel_max_late_us(s);
}
/* Kill and reap it (accepts NULL). */
void tf_sentinel_stop(tf_sentinel *s);
