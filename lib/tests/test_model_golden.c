/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every number of the schedule models, pinned: a hash over what
 * tf_model_retrans(), tf_model_syn(), tf_model_keepalive(),
 * tf_model_neigh_failures(), tf_model_retrans_icmp_causes() and
 * tf_model_unreach() return over a grid of knobs (every event's kind, timer,
 * gap and at bands, rule text, errno, return code; every burst and cause).
 *
 * The constants were computed by the code before lib/model.c and
 * lib/model_unreach.c were split into files by rule (issue 12): a refactor
 * of the model that changes any of these numbers changes a hash.  A change
 * of a rule that is meant to change numbers updates the constant, and says
 * so in its commit.  Print the hashes with TF_GOLDEN_PRINT=1.
 *
 * One such change so far: model_icmp.c reads the sender's HZ, PTO and
 * rto_max from the model's state instead of reading them back from a
 * schedule.  Every item computed before is byte-identical (TF_GOLDEN_DUMP
 * diffed against the build before); 73 inputs it refused (-EOPNOTSUPP:
 * rto_max capped only the last timer of the plain schedule, which a
 * schedule cannot tell from TCP_USER_TIMEOUT's clamp) are now computed,
 * hence the icmp and unreach constants.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tf_model.h"

/* FNV-1a, 64 bits: over each item (one call of a model: its return code
 * and what it returned), then over the items' hashes. */
typedef struct {
	uint64_t h, total;
	unsigned n;
	int rc;
} fnv;
#define FNV_INIT { 0xcbf29ce484222325ULL, 0xcbf29ce484222325ULL, 0, 0 }

static void fnv_into(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= c[i];
		*h *= 0x100000001b3ULL;
	}
}

static void fnv_bytes(fnv *f, const void *p, size_t n)
{
	fnv_into(&f->h, p, n);
}

static unsigned n_ok, n_err;

/* End the current item.  TF_GOLDEN_DUMP prints each item's hash, to find
 * which one changed (diff two runs). */
static void fnv_fold(fnv *f)
{
	if (getenv("TF_GOLDEN_DUMP"))
		fprintf(stderr, "%u %d %016llx\n", f->n, f->rc, (unsigned long long)f->h);
	fnv_into(&f->total, &f->h, sizeof f->h);
	f->h = 0xcbf29ce484222325ULL;
}

/* A model's return code starts an item. */
static void fnv_rc(fnv *f, int r)
{
	fnv_fold(f);
	f->n++;
	f->rc = r;
	if (r == 0)
		n_ok++;
	else
		n_err++;
	fnv_bytes(f, &(int64_t){ r }, sizeof(int64_t));
}

static void fnv_i64(fnv *f, int64_t v)
{
	fnv_bytes(f, &v, sizeof v);
}

static void fnv_str(fnv *f, const char *s)
{
	if (s)
		fnv_bytes(f, s, strlen(s) + 1);
	else
		fnv_i64(f, -1);
}

static void fnv_sched(fnv *f, const tf_schedule *s)
{
	fnv_i64(f, (int64_t)tf_schedule_count(s));
	fnv_i64(f, tf_schedule_errno(s));
	fnv_i64(f, (int64_t)tf_schedule_giveup(s));
	for (size_t i = 0; i < tf_schedule_count(s); i++) {
		const tf_sched_event *e = tf_schedule_event(s, i);

		fnv_i64(f, e->kind);
		fnv_i64(f, e->timer_jiffies);
		fnv_i64(f, e->gap_us);
		fnv_i64(f, e->gap_lo_us);
		fnv_i64(f, e->gap_hi_us);
		fnv_i64(f, e->at_us);
		fnv_i64(f, e->at_lo_us);
		fnv_i64(f, e->at_hi_us);
		fnv_str(f, e->rule);
	}
}

static void fnv_burst(fnv *f, const tf_neigh_burst *b)
{
	fnv_i64(f, (int64_t)b->first);
	fnv_i64(f, (int64_t)b->last);
	fnv_i64(f, (int64_t)b->n_queued);
	fnv_i64(f, b->n_timers);
	fnv_i64(f, b->timer_jiffies);
	fnv_i64(f, b->at_us);
	fnv_i64(f, b->at_lo_us);
	fnv_i64(f, b->at_hi_us);
	fnv_i64(f, b->n_icmp);
	fnv_i64(f, b->n_icmp_lo);
	fnv_i64(f, b->n_icmp_hi);
	fnv_i64(f, b->borderline);
	fnv_str(f, b->rule);
}

typedef int (*sched_fn)(const tf_model *, tf_schedule **);

static void fnv_call(fnv *f, const tf_model *m, sched_fn fn)
{
	tf_schedule *s = NULL;
	int r = fn(m, &s);

	fnv_rc(f, r);
	if (r == 0)
		fnv_sched(f, s);
	tf_schedule_free(s);
}

static uint64_t check(const char *name, uint64_t got, uint64_t want)
{
	if (getenv("TF_GOLDEN_PRINT"))
		fprintf(stderr, "# %s 0x%016llxULL (%u computed, %u refused)\n", name,
		        (unsigned long long)got, n_ok, n_err);
	n_ok = n_err = 0;
	return got == want;
}

/* The knob grid of the established / SYN / keepalive schedules. */
static const unsigned hzs[] = { 100, 250, 300, 1000 };
static const uint32_t srtts[][2] = { { 0, 0 }, { 48, 24 }, { 5000, 2500 }, { 150000, 40000 } };
static const unsigned retries[] = { 0, 1, 3, 5, 8, 15 };
static const uint32_t uts[] = { 0, 2500, 3000, 10000 };
static const uint32_t rmaxs[] = { 1000, 5000, 120000 };

static tf_model *grid_model(unsigned hz, size_t si, unsigned r2, uint32_t ut, uint32_t rmax,
                            bool in_budget, int er, unsigned pkts)
{
	tf_model *m = NULL;

	assert_int_equal(tf_model_new(&m), 0);
	assert_int_equal(tf_model_set_hz(m, hz), 0);
	assert_int_equal(tf_model_set_rtt(m, srtts[si][0], srtts[si][1]), 0);
	assert_int_equal(tf_model_set_retries2(m, r2), 0);
	assert_int_equal(tf_model_set_user_timeout_ms(m, ut), 0);
	assert_int_equal(tf_model_set_rto_max_ms(m, rmax), 0);
	assert_int_equal(tf_model_set_rto_max_in_budget(m, in_budget), 0);
	assert_int_equal(tf_model_set_early_retrans(m, er), 0);
	assert_int_equal(tf_model_set_packets_out(m, pkts), 0);
	return m;
}

static void golden_plain(void **state)
{
	fnv f = FNV_INIT;

	(void)state;
	for (size_t a = 0; a < sizeof hzs / sizeof hzs[0]; a++)
	for (size_t b = 0; b < sizeof srtts / sizeof srtts[0]; b++)
	for (size_t c = 0; c < sizeof retries / sizeof retries[0]; c++)
	for (size_t d = 0; d < sizeof uts / sizeof uts[0]; d++)
	for (size_t e = 0; e < sizeof rmaxs / sizeof rmaxs[0]; e++)
	for (int g = 0; g < 8; g++) {
		bool in_budget = g & 1, neigh = g & 4;
		int er = g & 2 ? 2 : 3;
		tf_model *m = grid_model(hzs[a], b, retries[c], uts[d], rmaxs[e], in_budget, er,
		                         (unsigned)(1 + (c & 1) * 3));

		assert_int_equal(tf_model_set_neigh_failed(m, neigh), 0);
		fnv_i64(&f, tf_model_rto_jiffies(m));
		uint64_t ms = 0;
		fnv_i64(&f, tf_model_retries2_budget_ms(m, &ms));
		fnv_i64(&f, (int64_t)ms);
		fnv_call(&f, m, tf_model_retrans);
		if (c < 4) {
			assert_int_equal(tf_model_set_syn_retries(m, 1 + retries[c]), 0);
			assert_int_equal(tf_model_set_syn_linear_timeouts(m, (int)(g & 1 ? 4 : -1)), 0);
			fnv_call(&f, m, tf_model_syn);
			assert_int_equal(tf_model_set_keepalive(m, 1 + retries[c] * 7, 1 + (uint32_t)g,
			                                        1 + retries[c]), 0);
			fnv_call(&f, m, tf_model_keepalive);
		}
		tf_model_free(m);
	}
	fnv_fold(&f);
	assert_true(check("plain", f.total, 0x48ce51fabc026f3eULL));
}

static tf_neigh_params neigh(unsigned hz, int v)
{
	tf_neigh_params p;

	tf_neigh_params_init(&p);
	p.hz = hz;
	switch (v) {
	case 1: p.icmp_ratelimit_ms = 0; break;
	case 2: p.retrans_time_ms = 300; p.mcast_solicit = 2; break;
	case 3: p.unres_qlen = 2; p.app_solicit = 1; break;
	case 4: p.icmp_ratemask = 0; p.retrans_time_ms = 2000; break;
	default: break;
	}
	return p;
}

static void golden_neigh(void **state)
{
	static const int64_t arrive[] = { 0, 1000, 204000, 400000, 1200000, 3050000, 3100000,
	                                  6200000, 6300000, 9000000, 9400000, 20000000 };
	fnv f = FNV_INIT;

	(void)state;
	for (size_t a = 0; a < sizeof hzs / sizeof hzs[0]; a++)
	for (int v = 0; v < 5; v++)
	for (size_t n = 0; n <= sizeof arrive / sizeof arrive[0]; n++) {
		tf_neigh_params p = neigh(hzs[a], v);
		tf_neigh_burst *b = NULL;
		size_t nb = 0;
		int r = tf_model_neigh_failures(&p, arrive, n, &b, &nb);

		fnv_rc(&f, r);
		fnv_i64(&f, (int64_t)nb);
		for (size_t i = 0; i < nb; i++)
			fnv_burst(&f, &b[i]);
		free(b);
	}
	fnv_fold(&f);
	assert_true(check("neigh", f.total, 0x38158ad4e3b821b7ULL));
}

static void golden_icmp(void **state)
{
	static const int64_t icmps[] = { 150000, 3020000, 3030000, 3040000, 6100000, 6110000,
	                                 9300000, 12500000, 15000000, 15000100 };
	fnv f = FNV_INIT;

	(void)state;
	for (size_t a = 0; a < sizeof hzs / sizeof hzs[0]; a++)
	for (size_t b = 0; b < sizeof srtts / sizeof srtts[0]; b++)
	for (size_t c = 2; c < sizeof retries / sizeof retries[0]; c++)
	for (size_t e = 0; e < sizeof rmaxs / sizeof rmaxs[0]; e++)
	for (int g = 0; g < 4; g++)
	for (size_t skip = 0; skip < 3; skip++) {
		tf_model *m = grid_model(hzs[a], b, retries[c], g & 2 ? 2500 : 0, rmaxs[e], g & 1, 3, 1);
		tf_schedule *s = NULL;
		tf_icmp_cause *cs = NULL;
		int r = tf_model_retrans_icmp_causes(m, icmps + skip, sizeof icmps / sizeof icmps[0] - skip,
		                                     &s, &cs);

		fnv_rc(&f, r);
		if (r == 0) {
			fnv_sched(&f, s);
			for (size_t i = 0; i < tf_schedule_count(s); i++) {
				fnv_i64(&f, cs[i].icmp);
				fnv_i64(&f, cs[i].immediate);
				fnv_i64(&f, cs[i].after_us);
				fnv_i64(&f, cs[i].after_lo_us);
				fnv_i64(&f, cs[i].after_hi_us);
			}
		}
		tf_schedule_free(s);
		free(cs);
		tf_model_free(m);
	}
	fnv_fold(&f);
	assert_true(check("icmp", f.total, 0xb51c8bc54945d0d8ULL));
}

static void golden_unreach(void **state)
{
	fnv f = FNV_INIT;

	(void)state;
	for (size_t a = 0; a < sizeof hzs / sizeof hzs[0]; a++)
	for (size_t b = 1; b < sizeof srtts / sizeof srtts[0]; b++)
	for (size_t c = 2; c < 5; c++)
	for (size_t e = 0; e < sizeof rmaxs / sizeof rmaxs[0]; e++)
	for (int v = 0; v < 5; v++) {
		tf_model *m = grid_model(hzs[a], b, retries[c], 0, rmaxs[e], e & 1, v == 3 ? 2 : 3, 1);
		tf_neigh_params p = neigh(hzs[a], v);
		tf_unreach *u = NULL;
		int r = tf_model_unreach(m, &p, &u);

		fnv_rc(&f, r);
		if (r == 0) {
			fnv_i64(&f, (int64_t)tf_unreach_variants(u));
			fnv_i64(&f, tf_unreach_total_runs(u));
			for (size_t i = 0; i < tf_unreach_variants(u); i++) {
				const tf_schedule *s = tf_unreach_schedule(u, i);

				fnv_i64(&f, tf_unreach_runs(u, i));
				fnv_sched(&f, s);
				for (size_t k = 0; k < tf_schedule_count(s); k++) {
					size_t bi = 99;
					fnv_i64(&f, tf_unreach_immediate(u, i, k, &bi));
					fnv_i64(&f, (int64_t)bi);
				}
				for (size_t k = 0; k < tf_unreach_bursts(u, i); k++)
					fnv_burst(&f, tf_unreach_burst(u, i, k));
			}
		}
		tf_unreach_free(u);
		tf_model_free(m);
	}
	fnv_fold(&f);
	assert_true(check("unreach", f.total, 0xd1efaf092db11b0bULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_plain),
		cmocka_unit_test(golden_neigh),
		cmocka_unit_test(golden_icmp),
		cmocka_unit_test(golden_unreach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
