/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_timeline.h — an SVG picture of what the model expected against what
 * went on the wire, left next to the pcap when a case fails.
 *
 *   tf_timeline_new(&t);
 *   tf_timeline_set_title(t, "rto_backoff: data lost after ESTABLISHED");
 *   tf_timeline_add_expected(t, "RTO 1", 200000, 196000, 212000);
 *   tf_timeline_add_measured(t, "tx 2", 203811, TF_TCP_ACK | TF_TCP_PSH);
 *   tf_timeline_set_giveup(t, 924600000, 924610211);
 *   tf_timeline_write(t, "/path/case.svg");
 *   tf_timeline_free(t);
 *
 * Times are microseconds from the case's origin (t = 0, e.g. the original
 * transmission) and must be >= 0.
 *
 * Time axis: x ∝ asinh(t / 10 ms).  That is linear well below 10 ms and
 * logarithmic well above, and defined at t = 0 where a log scale is not:
 * an exponential backoff (200 ms, 400 ms, 800 ms ... 60 s, 120 s) comes out
 * evenly spaced, so a 200 ms gap and a 60 s gap are both readable.  Ticks
 * follow a 1-2-5 sequence; exact times are written in the labels.
 *
 * Expected events are drawn as their tolerance band [lo, hi] with a line at
 * `at`, above the axis; measured transmissions as ticks below it, coloured
 * by TCP flags (TF_TCP_* from tf_capture.h) and faintly continued through
 * the band lane so that "inside the band or not" shows at a glance.
 *
 * Returns 0 or a negative errno; the writer only writes the file it is given.
 */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tf_timeline tf_timeline;

int  tf_timeline_new(tf_timeline **ret);
void tf_timeline_free(tf_timeline *t);                      /* accepts NULL */
static inline void tf_timeline_freep(tf_timeline **t) { tf_timeline_free(*t); }

/* Labels and the title are any text (escaped on output; invalid UTF-8 is
 * replaced), at most 256 and 512 bytes (-EINVAL beyond).  At most 10000
 * events of each kind (-E2BIG). */
int tf_timeline_set_title(tf_timeline *t, const char *title);
/* A model event at `at_us`, allowed within [lo_us, hi_us]: 0 <= lo <= at <= hi. */
int tf_timeline_add_expected(tf_timeline *t, const char *label,
                             int64_t at_us, int64_t lo_us, int64_t hi_us);
/* A transmission seen on the wire at `at_us` >= 0, with its TF_TCP_* flags. */
int tf_timeline_add_measured(tf_timeline *t, const char *label, int64_t at_us,
                             uint8_t tcp_flags);
/* When the socket should give up / gave up; -1 for "none" (other negative
 * values: -EINVAL).  Replaces the previous setting. */
int tf_timeline_set_giveup(tf_timeline *t, int64_t expected_us, int64_t measured_us);

/* Write a standalone SVG 1.1 file: written to a temporary in the same
 * directory (0644, or the mode of the file it replaces) and renamed over
 * `path`, so a failure leaves what was there.  A `path` that exists and is
 * not a regular file is refused: -ELOOP (symlink), -EISDIR, -EEXIST. */
int tf_timeline_write(const tf_timeline *t, const char *path);

#ifdef __cplusplus
}
#endif
