/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_replay.c — the transmission count by the kernel's rule on the
 * measured stamps (check_replay.h, issue 10).
 */
#include "check_replay.h"

#include <errno.h>
#include <stdio.h>

#include "tf_test.h"

static struct {
	bool set;
	uint64_t ms;
} budget;

void tf_case_set_giveup_budget(const tf_model *m)
{
	budget.set = m && tf_model_retries2_budget_ms(m, &budget.ms) == 0;
	if (budget.set)
		tf_diag("giveup_budget_ms", "%llu  # retransmits_timed_out(): tcp_model_timeout(tcp_retries2, "
		        "TCP_RTO_MIN) or TCP_USER_TIMEOUT, from retrans_stamp", (unsigned long long)budget.ms);
}

int tf_case_giveup_budget(uint64_t *ms)
{
	if (!budget.set)
		return -ENOENT;
	*ms = budget.ms;
	return 0;
}

/* "lo..hi", or "lo or more" when no expiry the model's bands reach is
 * surely past the budget (a measured one past it would bound it). */
static const char *range_str(const tf_count_replay *r, char *buf, size_t len)
{
	if (r->lo == SIZE_MAX)
		snprintf(buf, len, "more than the model's events");
	else if (r->hi == SIZE_MAX)
		snprintf(buf, len, "%zu or more", r->lo);
	else
		snprintf(buf, len, "%zu..%zu", r->lo, r->hi);
	return buf;
}

bool tf_check_count_replayed(const char *what, const tf_schedule *s, uint64_t budget_ms,
                             const int64_t *tx_ns, size_t n, int64_t giveup_ns,
                             tf_count_replay *out)
{
	int64_t tx_us[TF_RUN_MAX_TX];
	char label[320], key[128], rs[64];
	size_t want = tf_schedule_giveup(s);
	tf_count_replay r;
	int e;

	if (n == 0 || n > TF_RUN_MAX_TX) {
		/* nothing measured to replay on: the ideal count */
		snprintf(label, sizeof label, "%s transmissions", what);
		return tf_expect_int(label, (long)n, (long)want);
	}
	for (size_t i = 0; i < n; i++)
		tx_us[i] = (tx_ns[i] - tx_ns[0]) / 1000;
	e = tf_model_replay_giveup(s, tf_case_hz(), budget_ms, tf_slack_us(), tx_us, n,
	                           giveup_ns >= 0 ? (giveup_ns - tx_ns[0]) / 1000 : -1, &r);
	if (e < 0) {
		if (e != -EOPNOTSUPP)
			tf_note("%s: the give-up replay failed (%d): the ideal count is checked", what, e);
		snprintf(label, sizeof label, "%s transmissions", what);
		return tf_expect_int(label, (long)n, (long)want);
	}
	if (out)
		*out = r;
	snprintf(key, sizeof key, "%s_transmissions_model_ideal", what);
	tf_diag(key, "%zu  # the model's schedule on an ideal clock (every timer at its band's middle)",
	        r.model);
	snprintf(key, sizeof key, "%s_transmissions_replayed", what);
	if (r.ambiguous)
		tf_diag(key, "%s  # retransmits_timed_out() on the measured stamps, budget %llu ms: an "
		        "expiry within %.3f ms (1 jiffy + slack) of it, either count is the kernel's",
		        range_str(&r, rs, sizeof rs), (unsigned long long)budget_ms,
		        (double)r.t.tol_us / 1000.0);
	else
		tf_diag(key, "%zu  # retransmits_timed_out() on the measured stamps, budget %llu ms",
		        r.lo, (unsigned long long)budget_ms);
	snprintf(key, sizeof key, "%s_giveup_elapsed_ms", what);
	if (r.t.first)
		tf_diag(key, "%.3f..%.3f  # since retrans_stamp (transmission #%zu) at expiry %u of the "
		        "retransmission timer, where it may first stop",
		        (double)r.t.first_lo_us / 1000.0, (double)r.t.first_hi_us / 1000.0, r.first_rto,
		        r.t.first);
	if (!r.ambiguous) {
		snprintf(label, sizeof label, "%s transmissions (replayed: the kernel's rule on the "
		         "measured stamps; ideal clock %zu)", what, r.model);
		return tf_expect_int(label, (long)n, (long)r.lo);
	}
	/* either count: the check holds when n is one of them */
	snprintf(label, sizeof label, "%s transmissions: %s (replayed, ambiguous within 1 jiffy + "
	         "slack of the budget; ideal clock %zu): 1 when so", what, range_str(&r, rs, sizeof rs),
	         r.model);
	return tf_expect_int(label, r.ok, 1);
}

int tf_replay_giveup_band(const tf_schedule *s, const int64_t *tx_ns, size_t n, int64_t *lo_us,
                          int64_t *mid_us, int64_t *hi_us)
{
	const tf_sched_event *e = tf_schedule_event(s, n);
	int64_t last;

	if (!e || n == 0 || !tx_ns || !lo_us || !mid_us || !hi_us)
		return -EINVAL;
	last = (tx_ns[n - 1] - tx_ns[0]) / 1000;
	*lo_us = last + e->gap_lo_us;
	*mid_us = last + e->gap_us;
	*hi_us = last + e->gap_hi_us;
	return 0;
}
