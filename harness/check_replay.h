/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_replay.h — counts of transmissions checked by the kernel's rule
 * on the measured moments, not by the ideal clock (issue 10).
 *
 * tcp_write_timeout() stops retransmitting by time (retransmits_timed_out(),
 * net/ipv4/tcp_timer.c): a timer that fires late can pass the budget one
 * expiry earlier than the model's ideal clock, and the kernel then makes
 * one transmission fewer, rightly.  The count check replays the rule
 * (lib: tf_model_replay_giveup()) on the capture's stamps with the
 * model's budget; the gaps stay checked against the model's bands apart,
 * so a wrong budget or a wrong timer is still caught.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tf_model.h"

/* The budget of the give-up the case's next schedule check replays:
 * tf_model_retries2_budget_ms(m) (tcp_model_timeout(tcp_retries2,
 * TCP_RTO_MIN), or TCP_USER_TIMEOUT), stated in the YAML.  Kept for the
 * case's process; m NULL forgets it. */
void tf_case_set_giveup_budget(const tf_model *m);
/* 0 and the budget set above, or -ENOENT. */
int tf_case_giveup_budget(uint64_t *ms);

/*
 * The count of transmissions tx_ns[0..n) (the original, the loss probe,
 * the RTOs, as tf_check_schedule() gets them; giveup_ns when the
 * application saw the error, -1 if never) against what the kernel's rule
 * makes of those moments with budget_ms: exact when the replay is, either
 * count when an expiry falls within 1 jiffy + slack of the budget (the
 * YAML says so).  The model's ideal-clock count is reported beside it.
 * *out (may be NULL) gets the replay; falls back to the exact ideal count
 * for a schedule the rule does not stop by time (keepalive, SYN).
 * Returns whether the check passed.
 */
bool tf_check_count_replayed(const char *what, const tf_schedule *s, uint64_t budget_ms,
                             const int64_t *tx_ns, size_t n, int64_t giveup_ns,
                             tf_count_replay *out);
/* Where the replayed give-up expiry lies, in µs from tx_ns[0] (the band of
 * schedule event n's gap after the last transmission): what the
 * application-side give-up checks compare with when the kernel stopped at
 * another expiry than the ideal clock's.  -EINVAL when s has no event n. */
int tf_replay_giveup_band(const tf_schedule *s, const int64_t *tx_ns, size_t n, int64_t *lo_us,
                          int64_t *mid_us, int64_t *hi_us);
