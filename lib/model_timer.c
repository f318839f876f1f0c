/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_timer.c — the timer wheel (kernel/time/timer.c): when a timer_list
 * armed for d jiffies fires.  Every band of every schedule comes from here
 * (see tf_model.h, "the timer wheel").
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Timer wheel, kernel/time/timer.c.
 *
 * calc_wheel_index() picks the level from delta = expires - base->clk:
 * level n holds deltas below LVL_START(n+1) = 63 << (3n), and
 * calc_index() puts the timer in the bucket
 *	bucket_expiry = ((expires >> 3n) + 1) << 3n
 * i.e. strictly after `expires`, rounded up to the level's granularity
 * LVL_GRAN(n) = 8^n, even at level 0.  LVL_DEPTH is 9 when HZ > 100.
 *
 * Armed from a timer callback at tick J (every TCP retransmission and
 * keepalive probe): base->clk is already J+1 ("set 1 offset ahead of
 * jiffies", __run_timers()), so delta = d-1 and the timer fires
 * between d+1 and d+gran jiffies after the tick, depending on J's
 * alignment.  Armed from process or softirq context (write(), connect(),
 * the handshake), the start is anywhere inside jiffy J: clk = J,
 * delta = d, and the wait is in (d, d+gran].
 *
 * Choice: only the per-level band is modelled, not the alignment of J.
 * After a level-L expiry J is a multiple of 8^L, so the next timer of
 * level <= L takes exactly ((d >> 3L) + 1) << 3L, usually in the upper
 * half of the band (a 250-jiffy timer: 256).  That would predict times
 * exactly, but a callback that runs a jiffy late breaks the alignment
 * and the next gap comes out shorter than the aligned value, while it
 * always stays inside [d+1, d+gran].  So the band is conservative and
 * its midpoint, the "expected" value, tends to be early by up to half a
 * granule per level >= 1 timer.  The aligned case does land on the band's
 * top: 6.1 and 6.12 under TCG with an RTO of 53 jiffies give up 432
 * jiffies after a level-1 expiry, exactly d + gran (424 + 8), so what a
 * check sees there is the top plus softirq and wake-up latency, which the
 * caller's slack must cover (ci/vm/README.md, "The 6.1 discrepancy":
 * calc_index() and calc_wheel_index() are identical in 6.1.192 and
 * 6.12.117, and so is every TCP rule that decides that schedule). */

static unsigned lvl_depth(unsigned hz)
{
	return hz > 100 ? 9 : 8;
}

static uint64_t lvl_start(unsigned n)
{
	return 63ULL << (3 * (n - 1));
}

struct band tfm_timer_band(unsigned hz, uint64_t d, bool from_tick)
{
	unsigned depth = lvl_depth(hz), lvl = 0;
	uint64_t delta;
	struct band b;

	/* expires == jiffies fires on the next tick (TCP does arm 0: the
	 * delayed ACK of a FIN on a connection that carried no data). */
	if (d == 0)
		d = 1;
	delta = from_tick ? d - 1 : d;

	/* WHEEL_TIMEOUT_CUTOFF = LVL_START(LVL_DEPTH): beyond it the kernel
	 * clamps the expiry; no TCP timer reaches it (48 days at HZ=250). */
	while (lvl + 1 < depth && delta >= lvl_start(lvl + 1))
		lvl++;
	b.lo = from_tick ? d + 1 : d;
	b.hi = d + (1ULL << (3 * lvl));
	return b;
}

unsigned tf_model_wheel_gran(unsigned hz, uint64_t timer_jiffies)
{
	struct band b = tfm_timer_band(hz ? hz : 250, timer_jiffies, false);
	return (unsigned)(b.hi - (timer_jiffies ? timer_jiffies : 1));
}

int tf_model_timer_band(unsigned hz, uint64_t timer_jiffies, bool from_tick, int64_t *lo_us,
			int64_t *hi_us)
{
	struct band b;

	if (!lo_us || !hi_us || hz < 100 || hz > 1000)
		return -EINVAL;
	b = tfm_timer_band(hz, timer_jiffies, from_tick);
	*lo_us = (int64_t)jiffies_to_usecs(hz, b.lo);
	*hi_us = (int64_t)jiffies_to_usecs(hz, b.hi);
	return 0;
}

/* On the absolute jiffy grid: a timer armed at jiffy j for d jiffies has
 * expires = j + d; from a timer callback, or from a softirq that runs
 * after that tick's timers, base->clk = j + 1 (delta d - 1); from process
 * context at a random point of jiffy j, delta d.  calc_index() fires it at
 *	bucket_expiry = (expires / gran + 1) * gran
 * (the closed loop of model_unreach.c runs on this grid). */
int64_t tfm_wheel_fire(unsigned hz, int64_t j, uint64_t d, bool from_tick)
{
	int64_t gran;

	if (d == 0) /* expires == jiffies: the next tick */
		return j + 1;
	gran = (int64_t)tf_model_wheel_gran(hz, from_tick && d > 1 ? d - 1 : d);
	return ((j + (int64_t)d) / gran + 1) * gran;
}

int64_t tf_model_wheel_fire(unsigned hz, int64_t j, uint64_t d, bool from_tick)
{
	if (hz < 100 || hz > 1000 || j < 0)
		return -1;
	return tfm_wheel_fire(hz, j, d, from_tick);
}

int tf_model_band(unsigned hz, uint64_t timer_jiffies, bool from_tick, tf_band *ret)
{
	struct band b;

	if (!ret || hz < 100 || hz > 1000)
		return -EINVAL;
	b = tfm_timer_band(hz, timer_jiffies, from_tick);
	ret->lo_us = (int64_t)jiffies_to_usecs(hz, b.lo);
	ret->hi_us = (int64_t)jiffies_to_usecs(hz, b.hi);
	ret->mid_us = (ret->lo_us + ret->hi_us) / 2;
	ret->jiffies = timer_jiffies > UINT32_MAX ? UINT32_MAX : (unsigned)timer_jiffies;
	ret->gran = (unsigned)(b.hi - (timer_jiffies ? timer_jiffies : 1));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Jiffies and the default slack (tf_model.h).                         */

static bool hz_ok(unsigned hz)
{
	return hz >= 100 && hz <= 1000;
}

uint64_t tf_us_to_jiffies(unsigned hz, uint64_t us)
{
	return hz_ok(hz) ? usecs_to_jiffies(hz, us) : 0;
}

uint64_t tf_ms_to_jiffies(unsigned hz, uint64_t ms)
{
	return hz_ok(hz) ? msecs_to_jiffies(hz, ms) : 0;
}

uint64_t tf_jiffies_to_us(unsigned hz, uint64_t jiffies)
{
	return hz_ok(hz) ? jiffies_to_usecs(hz, jiffies) : 0;
}

uint64_t tf_jiffies_to_ms(unsigned hz, uint64_t jiffies)
{
	return hz_ok(hz) ? jiffies_to_msecs(hz, jiffies) : 0;
}

int64_t tf_model_default_slack_us(unsigned hz)
{
	/* One jiffy of the timer softirq's deferral + 2 ms of wake-up and
	 * capture: what runner.c's tf_slack_us() always added; `tcpfate
	 * exec` added only the 2 ms (issue 12). */
	return (int64_t)(USEC_PER_SEC / (hz_ok(hz) ? hz : 100)) + 2000;
}
