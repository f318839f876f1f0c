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

/* Cleanup attributes under the library's prefix; the short systemd-style
 * names below are kept for the cases. */
#define TF_CLEANUP(f) __attribute__((cleanup(f)))
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
#define TF_CLEANUP_FREE TF_CLEANUP(tf_freep)
#define TF_CLEANUP_CLOSE TF_CLEANUP(tf_closep)

/* The short names, unless the includer has its own (systemd's _cleanup_
 * is the same attribute, its _cleanup_free_ and _cleanup_close_ the same
 * effect) or asks for none with TF_NO_SHORT_CLEANUP.  Include tf_util.h
 * after such headers, or define TF_NO_SHORT_CLEANUP and use TF_CLEANUP*. */
#ifndef TF_NO_SHORT_CLEANUP
#ifndef _cleanup_
#define _cleanup_(f) TF_CLEANUP(f)
#endif
#ifndef _cleanup_free_
#define _cleanup_free_ TF_CLEANUP_FREE
#endif
#ifndef _cleanup_close_
#define _cleanup_close_ TF_CLEANUP_CLOSE
#endif
#endif

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
