/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_util.h — small helpers every module and case uses: cleanup attributes
 * (systemd style) and the clock that packet timestamps use.
 */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define TF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void tf_freep(void *p) { free(*(void **)p); }
static inline void tf_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
	*fd = -1;
}
#define _cleanup_free_ _cleanup_(tf_freep)
#define _cleanup_close_ _cleanup_(tf_closep)

/*
 * The clock of packet timestamps (AF_PACKET stamps skbs with the real-time
 * clock), so that socket events and wire events share one time line.  The
 * sandbox network is closed, nothing steps the clock during a case.
 */
static inline int64_t tf_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t tf_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Parse a whole decimal integer in [min, max]; -EINVAL/-ERANGE otherwise. */
int tf_parse_long(const char *s, long min, long max, long *ret);
