/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_zwp.c — zero-window probes: the probe timer, its backoff, the
 * TCP_USER_TIMEOUT abort and the receiver's answers (see tf_model.h,
 * "zero-window probes").  Read in the 6.x sources (net/ipv4/tcp_timer.c
 * with icsk_probes_tstamp, tcp_output.c, tcp_input.c, include/net/tcp.h);
 * the fate family's window cases assert them on 6.18.
 *
 *  - Nothing in flight, data queued, window zero (or TCP_CORK never
 *    lifted): tcp_check_probe_timer() arms tcp_probe0_base() =
 *    max(icsk_rto, TCP_RTO_MIN); tcp_ack_probe() re-arms it when an ACK
 *    keeps the window shut.
 *  - tcp_probe_timer() -> tcp_send_probe0(): a probe (tcp_write_wakeup()
 *    -> tcp_xmit_probe_skb(): seq snd_una - 1, no data), icsk_probes_out++,
 *    icsk_backoff++ while below tcp_retries2, the timer re-armed for
 *    tcp_probe0_when() = base << icsk_backoff, at most TCP_RTO_MAX.
 *  - Any ACK resets icsk_probes_out (tcp_ack()): an answering peer is
 *    probed forever (RFC 1122 4.2.2.17); a silent one is dropped at the
 *    expiry where icsk_probes_out >= tcp_retries2.
 *  - With TCP_USER_TIMEOUT, tcp_probe_timer() aborts at the first expiry
 *    at least the user timeout after icsk_probes_tstamp (the first probe
 *    of this zero-window period, reset only when a window update takes the
 *    whole head of the send queue: tf_model_window_reopens()), the
 *    timer cut so that it comes on time (tcp_clamp_probe0_to_user_timeout(),
 *    never below TCP_TIMEOUT_MIN = 2 jiffies).  Commit 9d9b1ee0b2d1
 *    (5.11, backported) introduced icsk_probes_tstamp.
 *  - The receiver answers a probe (tcp_send_dupack()) only if it answered
 *    no out-of-window segment within tcp_invalid_ratelimit
 *    (tcp_oow_rate_limited()).
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define TCP_TIMEOUT_MIN_J 2u  /* TCP_TIMEOUT_MIN, include/net/tcp.h: jiffies */

unsigned tf_model_probe0_base(unsigned hz, unsigned rto_jiffies)
{
	unsigned rto_min = (unsigned)tcp_rto_min_j(hz);

	return rto_jiffies > rto_min ? rto_jiffies : rto_min;
}

uint64_t tf_model_probe0_gap(unsigned hz, uint64_t base_jiffies, unsigned probes,
			     unsigned retries2)
{
	unsigned backoff = probes < retries2 ? probes : retries2;
	uint64_t max = tcp_rto_max_j(hz);

	if (backoff >= 40 || (base_jiffies << backoff) >> backoff != base_jiffies)
		return max;
	return base_jiffies << backoff < max ? base_jiffies << backoff : max;
}

int tfm_probe0_run(unsigned hz, unsigned rto_jiffies, unsigned backoff0, unsigned retries2,
                   tf_band *ret)
{
	uint64_t base = tf_model_probe0_base(hz, rto_jiffies), total = 0;
	int64_t lo = 0, hi = 0;

	for (unsigned k = 0; k <= retries2; k++) {
		uint64_t d = tf_model_probe0_gap(hz, base, backoff0 + k, retries2);
		tf_band b;
		int r = tf_model_band(hz, d, k > 0, &b);

		if (r < 0)
			return r;
		lo += b.lo_us;
		hi += b.hi_us;
		total += d;
	}
	memset(ret, 0, sizeof *ret);
	ret->lo_us = lo;
	ret->hi_us = hi;
	ret->mid_us = (lo + hi) / 2;
	ret->jiffies = total > UINT32_MAX ? UINT32_MAX : (unsigned)total;
	return 0;
}

/* Each gap armed from where the last one fired (a probe sent from the
 * timer, or an answer handled in softirq): the band of either context,
 * [d, d + gran], i.e. tf_model_band(from_tick = false); an answer comes
 * less than a jiffy after its probe. */
int tf_model_zwp_count(unsigned hz, uint64_t base_jiffies, unsigned retries2, int64_t window_us,
		       bool answered, unsigned *sure, unsigned *maybe)
{
	int64_t lo = 0, hi = 0;

	if (!sure || !maybe || hz < 100 || hz > 1000)
		return -EINVAL;
	*sure = *maybe = 0;
	for (unsigned k = 0;; k++) {
		tf_band b;
		int r;

		if (k >= TF_MODEL_MAX_EVENTS)
			return -E2BIG;
		r = tf_model_band(hz, tf_model_probe0_gap(hz, base_jiffies, k, retries2), false, &b);
		if (r < 0)
			return r;
		lo += b.lo_us;
		hi += b.hi_us + (answered ? (int64_t)(USEC_PER_SEC / hz) : 0);
		if (lo >= window_us)
			break;
		(*maybe)++;
		*sure += hi < window_us;
	}
	return 0;
}

/* The first probe's stamp is a jiffy (icsk_probes_tstamp = tcp_jiffies32)
 * and the abort comes at an expiry: U = msecs_to_jiffies(user timeout),
 * no earlier than U - 1 jiffies after the first probe's packet; the last
 * re-arm, el jiffies after it, cut the timer to r = U - el (at least
 * TCP_TIMEOUT_MIN), which the wheel rounds up by gran(r), plus the jiffy
 * the stamp may lag. */
int tf_model_zwp_user_timeout_band(unsigned hz, uint32_t user_timeout_ms, int64_t rearm_us,
				   tf_band *ret)
{
	uint64_t ut_j, el_j, rem_j;

	if (!ret || hz < 100 || hz > 1000 || rearm_us < 0 || user_timeout_ms == 0)
		return -EINVAL;
	ut_j = msecs_to_jiffies(hz, user_timeout_ms);
	el_j = (uint64_t)rearm_us / (USEC_PER_SEC / hz);
	rem_j = el_j + TCP_TIMEOUT_MIN_J < ut_j ? ut_j - el_j : TCP_TIMEOUT_MIN_J;
	ret->jiffies = (unsigned)rem_j;
	ret->gran = tf_model_wheel_gran(hz, rem_j);
	ret->lo_us = (int64_t)jiffies_to_usecs(hz, ut_j - 1);
	ret->hi_us = (int64_t)jiffies_to_usecs(hz, ut_j + ret->gran + 1);
	ret->mid_us = (int64_t)user_timeout_ms * 1000;
	return 0;
}

/* tcp_ack_probe() (net/ipv4/tcp_input.c), for an ACK that finds nothing
 * in flight and data queued: the window counts as open — icsk_backoff and
 * icsk_probes_tstamp reset, the probe timer cleared — only when the whole
 * segment at the head of the send queue fits it (!after(end_seq,
 * tcp_wnd_end())).  A smaller window still lets data out (tcp_write_xmit()
 * splits the head), and the ACKs of that data do not come through here
 * (prior_packets), so the clock runs on. */
bool tf_model_window_reopens(uint32_t window, uint32_t head_len)
{
	return head_len <= window;
}

static const char R_SR_NEVER[] =
	"never: the peer's kernel ACKs and reopens the window (its ACKs reset the zero-window "
	"probes' count: tcp_probe_timer())";
static const char R_SR_UT[] =
	"TCP_USER_TIMEOUT counts from the first zero-window probe (tcp_probe_timer()); a window "
	"update restarts it only when the whole segment at the head of the send queue fits the "
	"reopened window (tcp_ack_probe()), and tcp_write_xmit() may have grown that segment to "
	"cwnd x MSS (tcp_grow_skb()): the send queue decides, not modelled";
static const char K_SR_UT[] =
	"from the first zero-window probe, restarted by a window update that takes the whole head "
	"of the send queue (tcp_ack_probe())";

/*
 * A slow reader: the window shuts and reopens again and again.  Each ACK
 * resets icsk_probes_out, so tcp_retries2 never ends it.  TCP_USER_TIMEOUT
 * can: tcp_probe_timer() aborts at the expiry TCP_USER_TIMEOUT after
 * icsk_probes_tstamp — unless a reopening restarted that clock
 * (tf_model_window_reopens()), which depends on the segment sizes in the
 * send queue at that moment: whether, and when, is not modelled.
 */
int tf_model_slow_reader_fate(uint32_t user_timeout_ms, tf_slow_reader_fate *ret)
{
	if (!ret)
		return -EINVAL;
	*ret = (tf_slow_reader_fate){
		.never = user_timeout_ms == 0,
		.rule = user_timeout_ms ? R_SR_UT : R_SR_NEVER,
		.clock = user_timeout_ms ? K_SR_UT : "",
	};
	return 0;
}

int64_t tf_model_oow_ratelimit_us(unsigned hz, uint32_t ratelimit_ms)
{
	if (hz < 100 || hz > 1000)
		return 0;
	return (int64_t)jiffies_to_usecs(hz, msecs_to_jiffies(hz, ratelimit_ms));
}

/* tcp_v4_err() and tcp_v6_err() alike: an ICMP error whose quoted TCP
 * sequence is outside [snd_una, snd_nxt] is counted in
 * LINUX_MIB_OUTOFWINDOWICMPS and dropped, before any errno
 * (sk_err_soft) or tcp_ld_RTO_revert().  A probe carries snd_una - 1
 * (tcp_xmit_probe_skb()): its ICMP is never acted on, in either family. */
bool tf_model_icmp_in_window(int family, uint32_t seq, uint32_t snd_una, uint32_t snd_nxt)
{
	if (family != AF_INET && family != AF_INET6)
		return false;
	/* between(seq, snd_una, snd_nxt), include/net/tcp.h: mod 2^32 */
	return snd_nxt - snd_una >= seq - snd_una;
}
