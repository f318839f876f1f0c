/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_cable.c — the sender's own link loses carrier (its cable pulled at
 * the far end) with data in flight: its neighbour entry for the next hop
 * is flushed and every later transmission waits in the entry's queue for a
 * resolution that fails.  The rules below were read in the 6.x sources
 * (net/core/neighbour.c, net/ipv4/arp.c, net/ipv6/ndisc.c, net/ipv6/route.c,
 * net/ipv4/tcp_output.c, tcp_timer.c, tcp_ipv4.c, tcp_ipv6.c) and checked
 * on 6.18 (HZ=250) with TCP_INFO sampled every 2 ms and the netstat
 * counters of the sender's namespace.
 *
 *  1. Eviction.  The carrier loss reaches linkwatch (at once for an urgent
 *     event, within HZ otherwise: tf_model_arp_failure()'s evict_us);
 *     arp_netdev_event() / ndisc_netdev_event() call neigh_carrier_down()
 *     and the entry for the next hop is gone.  linkwatch also swaps the
 *     device's qdisc for noop (dev_deactivate()): from then on nothing
 *     reaches the wire, so a capture of the link sees no more transmissions.
 *  2. Resolution.  The first transmission after that (any segment, or the
 *     head) makes a new entry NUD_INCOMPLETE and is queued
 *     (__neigh_event_send()); every solicitation is lost, and after
 *     app + mcast timers of retrans_time (tf_model_neigh_resolution()) the
 *     entry fails: neigh_invalidate() hands each queued skb to
 *     error_report and frees it.  A transmission after the failure starts
 *     a new resolution (NUD_FAILED is neither STALE nor INCOMPLETE).
 *  3. The head in the queue.  While a clone of the head waits there,
 *     tcp_retransmit_timer() cannot resend it: __tcp_retransmit_skb() ->
 *     skb_still_in_host_queue() returns -EBUSY (TcpExtTCPSpuriousRtxHostQueues)
 *     and sets TSQ_THROTTLED, but the timer backs off as for a real
 *     retransmission (icsk_backoff++, icsk_retransmits++).  retrans_stamp
 *     is set by the first attempt, to the head's last real transmission
 *     (tcp_retransmit_skb(): tcp_skb_timestamp_ts()).
 *  4. The failure frees the head's clone: tcp_wfree() sees TSQ_THROTTLED
 *     and schedules the TSQ tasklet, whose tcp_tsq_write() ->
 *     tcp_xmit_retransmit_queue() resends the head at once (lost_out >
 *     retrans_out, cwnd 1 > in flight 0) and re-arms the timer for the
 *     current icsk_rto (tcp_reset_xmit_timer(icsk_rto)), without a backoff
 *     step: the next resolution starts there.
 *  5. IPv4: arp_error_report() -> ipv4_link_failure() -> icmp_send()
 *     returns an ICMP host unreachable to the sender itself (through
 *     loopback: icmpv4_xrlim_allow() does not limit it), handled from the
 *     backlog (NET_RX) before the tasklet (TASKLET_SOFTIRQ).  tcp_v4_err()
 *     stores EHOSTUNREACH in sk_err_soft and, for the head's ICMP,
 *     tcp_ld_RTO_revert(): icsk_backoff--, remaining = (rto << backoff) -
 *     the jiffies since the head's last transmission; <= 0, as it is after
 *     a whole resolution, calls tcp_retransmit_timer() at once
 *     (tcp_write_timeout() first: the give-up can come here, with
 *     EHOSTUNREACH), which resends the head and backs off again; the
 *     tasklet then finds it in flight and sends nothing.
 *     IPv6: ndisc_error_report() -> ip6_link_failure() -> icmpv6_send()
 *     sends an ICMPv6 address unreachable to the sender itself
 *     (Icmp6OutDestUnreachs), through loopback: with IPv6 enabled on lo,
 *     tcp_v6_err() stores EHOSTUNREACH in sk_err_soft but undoes no
 *     backoff step (only for code 0, No Route); with
 *     net.ipv6.conf.lo.disable_ipv6 = 1 (tcpfate's sandbox hosts: IPv6
 *     only on their links) ip6_rcv_core() drops it (Ip6InDiscards,
 *     SKB_DROP_REASON_IPV6DISABLED), sk_err_soft stays 0 and the give-up
 *     is ETIMEDOUT — measured: Icmp6OutDestUnreachs 5, Ip6InDiscards 5,
 *     Icmp6InDestUnreachs 0.  Either way only (4) resends the head.
 *  6. The give-up: tcp_write_timeout() at a timer expiry (or, IPv4, at a
 *     revert's immediate call) once now - retrans_stamp >=
 *     tcp_model_timeout(retries2, TCP_RTO_MIN); tcp_write_err():
 *     sk_err_soft ?: ETIMEDOUT.
 *  Not modelled: the queue's byte limit (unres_qlen_bytes, 212992 of
 *  truesize): past it __neigh_event_send() drops the oldest skb, the
 *  head's clone, without an error report (so without a revert).  Never
 *  reached in the runs here (arp_tbl's unresolved_discards stayed 0).
 *
 * What the rule cannot know — when linkwatch ran within its HZ, whether
 * another segment or the head started the first resolution, where each
 * timer falls inside its wheel band — it runs every way (a grid) and gives
 * the union.  TCP_USER_TIMEOUT (its clamp of the timers) is not modelled.
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static const char R_CABLE4[] =
	"neigh_carrier_down(); __neigh_event_send() queues, neigh_timer_handler() fails after "
	"app+mcast x retrans_time; skb_still_in_host_queue(): -EBUSY, backoff goes on; "
	"arp_error_report() -> icmp_send() to itself -> tcp_v4_err(): EHOSTUNREACH, "
	"tcp_ld_RTO_revert() -> tcp_retransmit_timer() now; tcp_write_timeout(): "
	"tcp_model_timeout(retries2, TCP_RTO_MIN) from retrans_stamp";
static const char R_CABLE6[] =
	"neigh_carrier_down(); __neigh_event_send() queues, neigh_timer_handler() fails after "
	"app+mcast x retrans_time; skb_still_in_host_queue(): -EBUSY, backoff goes on; the "
	"freed clone -> tcp_wfree() -> tcp_tsq_write() -> tcp_xmit_retransmit_queue(): head "
	"resent, timer re-armed for icsk_rto; ip6_link_failure()'s ICMPv6 to itself dropped by "
	"ip6_rcv_core() (lo's disable_ipv6): ETIMEDOUT; tcp_write_timeout(): "
	"tcp_model_timeout(retries2, TCP_RTO_MIN) from retrans_stamp";
static const char R_CABLE6_LO[] =
	"neigh_carrier_down(); __neigh_event_send() queues, neigh_timer_handler() fails after "
	"app+mcast x retrans_time; skb_still_in_host_queue(): -EBUSY, backoff goes on; the "
	"freed clone -> tcp_wfree() -> tcp_tsq_write() -> tcp_xmit_retransmit_queue(): head "
	"resent, timer re-armed for icsk_rto; ip6_link_failure()'s ICMPv6 to itself -> "
	"tcp_v6_err(): EHOSTUNREACH, no revert (code 3); tcp_write_timeout(): "
	"tcp_model_timeout(retries2, TCP_RTO_MIN) from retrans_stamp";

/* Where inside its band each timer fires, per run of the grid. */
#define NQ 3
static const double Q[NQ] = { 0.0, 0.5, 1.0 };
#define NEVICT 9

struct run_in {
	const struct tcp_p *tp;
	bool ipv4;
	bool self_icmp;          /* the ICMP to itself reaches TCP (IPv6: lo accepts IPv6) */
	unsigned packets_out;
	int64_t evict_us;        /* the entry is gone from here */
	bool other_first;        /* another segment starts the first resolution at evict_us */
	double qt, qr;           /* quantile of every timer band, of every resolution band */
	int64_t res_lo, res_hi;  /* one failed resolution, µs */
};

struct run_out {
	int64_t giveup_us;
	int err;
	unsigned tx, busy, res;
};

static int64_t fire_us(const struct tcp_p *tp, uint64_t d, bool from_tick, double q)
{
	struct band b = tfm_timer_band(tp->hz, d, from_tick);
	int64_t lo = j2us(tp->hz, (int64_t)b.lo), hi = j2us(tp->hz, (int64_t)b.hi);

	return lo + (int64_t)(q * (double)(hi - lo));
}

static uint64_t rto_at(const struct tcp_p *tp, uint64_t rmax, unsigned backoff)
{
	uint64_t v = backoff >= 40 ? UINT64_MAX : tp->rto << backoff;

	return v < rmax ? v : rmax;
}

struct sim {
	const struct run_in *in;
	bool pending, head_in, throttled, soft;
	int64_t fail_at, head_ts;
	struct run_out *out;
};

/* A transmission of any segment at t: past the eviction it waits for
 * (or starts) a resolution. */
static void xmit(struct sim *s, int64_t t, bool head)
{
	if (t >= s->in->evict_us && !s->pending) {
		s->pending = true;
		s->head_in = false;
		s->fail_at = t + s->in->res_lo +
		             (int64_t)(s->in->qr * (double)(s->in->res_hi - s->in->res_lo));
	}
	if (head) {
		if (t >= s->in->evict_us)
			s->head_in = true;
		s->head_ts = t;
		s->out->tx++;
	}
}

static int run_one(const struct run_in *in, uint64_t rmax, struct run_out *out)
{
	const struct tcp_p *tp = in->tp;
	struct sim s = { .in = in, .out = out };
	unsigned backoff = 0, retransmits = 0;
	int64_t T, rs = -1;
	unsigned steps = 0;

	memset(out, 0, sizeof(*out));
	if (in->other_first && in->evict_us <= 0)
		xmit(&s, in->evict_us, false);
	xmit(&s, 0, true);                     /* the head's original */
	if (tp->pto) {
		/* tcp_send_loss_probe(): the tail (the head when alone), then
		 * tcp_rearm_rto() from the probe. */
		int64_t tlp = fire_us(tp, tp->pto, false, in->qt);

		if (in->other_first && !s.pending && in->evict_us > 0 && in->evict_us <= tlp)
			xmit(&s, in->evict_us, false);
		if (in->packets_out <= 1 && s.pending && s.head_in && tlp < s.fail_at)
			s.throttled = true;    /* -EBUSY */
		else
			xmit(&s, tlp, in->packets_out <= 1);
		T = tlp + fire_us(tp, tp->rto, true, in->qt);
	} else {
		T = fire_us(tp, tp->rto, false, in->qt);
	}

	for (;;) {
		if (++steps > TF_MODEL_MAX_EVENTS)
			return -E2BIG;
		/* another segment starting the first resolution at the eviction */
		if (in->other_first && !s.pending && s.out->res == 0 && in->evict_us > 0 &&
		    in->evict_us < T && s.head_ts < in->evict_us) {
			xmit(&s, in->evict_us, false);
			continue;
		}
		if (s.pending && s.fail_at <= T) {
			/* neigh_invalidate(): error_report per queued skb */
			int64_t F = s.fail_at;
			bool head = s.head_in;

			s.pending = false;
			s.head_in = false;
			out->res++;
			if (in->self_icmp)
				s.soft = true;  /* tcp_v{4,6}_err(): sk_err_soft = EHOSTUNREACH */
			if (in->ipv4 && head && retransmits && backoff) {
				/* tcp_ld_RTO_revert() */
				uint64_t r;
				int64_t rem;

				backoff--;
				r = rto_at(tp, rmax, backoff);
				rem = (int64_t)r - (int64_t)usecs_to_jiffies(tp->hz,
				                                   (uint64_t)(F - s.head_ts));
				if (rem <= 0) {
					/* tcp_retransmit_timer() now */
					if (F - rs >= (int64_t)tp->budget_us) {
						out->giveup_us = F;
						break;
					}
					xmit(&s, F, true);
					retransmits++;
					backoff++;
					T = F + fire_us(tp, rto_at(tp, rmax, backoff), true, in->qt);
					s.throttled = false;   /* in flight: the tasklet sends nothing */
					continue;
				}
				T = F + fire_us(tp, (uint64_t)rem, true, in->qt);
			}
			if (head && s.throttled) {
				/* tcp_tsq_write() -> tcp_xmit_retransmit_queue() */
				xmit(&s, F, true);
				T = F + fire_us(tp, rto_at(tp, rmax, backoff), true, in->qt);
				s.throttled = false;
			}
			continue;
		}
		/* tcp_retransmit_timer() */
		if (retransmits && T - rs >= (int64_t)tp->budget_us) {
			out->giveup_us = T;
			break;
		}
		if (s.pending && s.head_in) {
			out->busy++;        /* skb_still_in_host_queue() */
			s.throttled = true;
		} else {
			xmit(&s, T, true);
		}
		if (rs < 0)
			rs = s.head_ts;     /* retrans_stamp: the head's last real transmission */
		retransmits++;
		backoff++;
		T += fire_us(tp, rto_at(tp, rmax, backoff), true, in->qt);
	}
	out->err = s.soft ? EHOSTUNREACH : ETIMEDOUT;
	return 0;
}

int tf_model_local_link_failure(const tf_model *m, const tf_neigh_params *p, int family,
                                bool self_icmp, int64_t fault_us, tf_local_link_failure *ret)
{
	struct tcp_p tp;
	tf_band res;
	uint64_t rmax;
	bool first = true;
	int r;

	if (!m || !p || !ret || (family != AF_INET && family != AF_INET6))
		return -EINVAL;
	if (p->hz != m->hz)
		return -EINVAL;
	if (m->user_timeout_ms)
		return -EOPNOTSUPP;     /* tcp_clamp_rto_to_user_timeout(): not here */
	r = tf_model_neigh_resolution(p, &res);
	if (r < 0)
		return r;
	memset(&tp, 0, sizeof(tp));
	tp.hz = m->hz;
	tp.rto = tf_model_rto_jiffies(m);
	tp.pto = tfm_pto_j(m, &(const char *){ NULL });
	tp.budget_us = tfm_write_budget_ms(m, m->retries2, tcp_rto_min_j(m->hz)) * 1000;
	rmax = tfm_rto_max_j(m);
	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	ret->resolution = res;
	ret->evict_us = j2us(m->hz, m->hz);
	ret->rule = family == AF_INET ? R_CABLE4 : self_icmp ? R_CABLE6_LO : R_CABLE6;

	for (int e = 0; e < NEVICT; e++)
		for (int o = 0; o < 2; o++)
			for (int a = 0; a < NQ; a++)
				for (int b = 0; b < NQ; b++) {
					struct run_in in = {
						.tp = &tp, .ipv4 = family == AF_INET,
						.self_icmp = family == AF_INET || self_icmp,
						.packets_out = m->packets_out,
						.evict_us = fault_us + ret->evict_us * e / (NEVICT - 1),
						.other_first = o, .qt = Q[a], .qr = Q[b],
						.res_lo = res.lo_us, .res_hi = res.hi_us,
					};
					struct run_out out;

					r = run_one(&in, rmax, &out);
					if (r < 0)
						return r;
					if (first) {
						ret->lo_us = ret->hi_us = out.giveup_us;
						ret->err = out.err;
						ret->tx_lo = ret->tx_hi = out.tx;
						ret->busy_lo = ret->busy_hi = out.busy;
						ret->res_lo = ret->res_hi = out.res;
						first = false;
						continue;
					}
#define SPAN(lo, hi, v) do { if ((v) < (lo)) (lo) = (v); if ((v) > (hi)) (hi) = (v); } while (0)
					SPAN(ret->lo_us, ret->hi_us, out.giveup_us);
					SPAN(ret->tx_lo, ret->tx_hi, out.tx);
					SPAN(ret->busy_lo, ret->busy_hi, out.busy);
					SPAN(ret->res_lo, ret->res_hi, out.res);
#undef SPAN
					if (out.err != ret->err)
						ret->err_varies = true;
				}
	ret->mid_us = (ret->lo_us + ret->hi_us) / 2;
	return 0;
}

/* ------------------------------------------------------------------ */
/* A zero window's fate (the card's zero-window row).                  */

static const char R_ZW_NEVER[] =
	"tcp_probe_timer(): an answering peer's ACK resets icsk_probes_out (tcp_ack()), so "
	"icsk_probes_out >= tcp_retries2 never holds; no TCP_USER_TIMEOUT: no give-up";
static const char R_ZW_UT[] =
	"tcp_probe_timer(): jiffies - icsk_probes_tstamp >= msecs_to_jiffies(TCP_USER_TIMEOUT) "
	"-> tcp_write_err(): ETIMEDOUT; tcp_clamp_probe0_to_user_timeout() cuts the last timer";

/*
 * tcp_probe_timer() (net/ipv4/tcp_timer.c, 6.x with icsk_probes_tstamp,
 * 9d9b1ee0b2d1): the first expiry stamps icsk_probes_tstamp; a later one
 * aborts once the user timeout has passed since it (whether or not the
 * peer answers: tcp_ack_probe() keeps the stamp while the window stays
 * shut); otherwise it gives up when icsk_probes_out >= tcp_retries2 — and
 * an answering peer's ACKs reset icsk_probes_out, so never.  The abort's
 * band is tf_model_zwp_user_timeout_band()'s; the errno is sk_err_soft ?:
 * ETIMEDOUT, and nothing sets sk_err_soft behind a zero window.
 */
int tf_model_zero_window_fate(unsigned hz, uint32_t user_timeout_ms, bool peer_answers,
                              int64_t rearm_us, tf_zero_window_fate *ret)
{
	int r;

	if (!ret || hz < 100 || hz > 1000)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (!user_timeout_ms) {
		if (!peer_answers)
			return -EOPNOTSUPP;  /* probes_out vs tcp_retries2 from the backoff left */
		ret->never = true;
		ret->rule = R_ZW_NEVER;
		return 0;
	}
	r = tf_model_zwp_user_timeout_band(hz, user_timeout_ms, rearm_us, &ret->band);
	if (r < 0)
		return r;
	ret->err = ETIMEDOUT;
	ret->rule = R_ZW_UT;
	return 0;
}

/*
 * The peer gone silent behind a zero window (tcp_probe_timer()): its last
 * zero-window answer re-armed the probe timer for tcp_probe0_when() at the
 * backoff the answered probes left (tcp_ack_probe(): backoff0), and reset
 * icsk_probes_out (tcp_ack()).  Each expiry then finds icsk_probes_out <
 * tcp_retries2, probes (tcp_send_probe0(): icsk_probes_out++, backoff++
 * while below tcp_retries2, the timer re-armed for tcp_probe0_when()),
 * until the expiry that finds icsk_probes_out >= tcp_retries2 calls
 * tcp_write_err(): retries2 + 1 expiries after the answer, the first armed
 * from the answer's softirq, the others from the tick.  Nothing sets
 * sk_err_soft (a silent path): ETIMEDOUT.
 */
int tf_model_zero_window_silent(unsigned hz, unsigned rto_jiffies, unsigned retries2,
                                unsigned backoff0, tf_band *ret)
{
	int r;

	if (!ret || hz < 100 || hz > 1000 || retries2 > MAX_RETRIES2 || backoff0 > MAX_RETRIES2)
		return -EINVAL;
	r = tfm_probe0_run(hz, rto_jiffies, backoff0, retries2, ret);
	if (r < 0)
		return r;
	ret->gran = tf_model_wheel_gran(hz, tf_model_probe0_base(hz, rto_jiffies));
	return 0;
}
