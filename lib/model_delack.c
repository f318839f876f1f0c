/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_delack.c — the delayed-ACK engine: icsk_ack.ato, quick-ack and
 * ping-pong, and the timer tcp_send_delayed_ack() arms (see tf_model.h,
 * "delayed ACK").  Read in Linux 6.12 net/ipv4/tcp_input.c, tcp_output.c
 * and include/net/tcp.h, checked against 6.18 (the stall family's nagle
 * cases assert it there).
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>

/* #define TCP_DELACK_MIN ((unsigned)(HZ/25)), 4U when HZ < 100; TCP_ATO_MIN
 * is the same value. */
unsigned tf_model_delack_min(unsigned hz)
{
	return hz >= 100 ? hz / 25 : 4;
}

/* #define TCP_DELACK_MAX ((unsigned)(HZ/5)) */
unsigned tf_model_delack_max(unsigned hz)
{
	return hz / 5;
}

/*
 * tcp_event_data_recv(), net/ipv4/tcp_input.c, with m = now - lrcvtime:
 *	ato == 0 (no data yet):	tcp_incr_quickack(), ato = TCP_ATO_MIN
 *	m <= TCP_ATO_MIN / 2:	ato = (ato >> 1) + TCP_ATO_MIN / 2
 *	m < ato:		ato = min3((ato >> 1) + m, icsk_rto, TCP_DELACK_MAX)
 *	else (m > icsk_rto re-enters quick-ack mode):	ato unchanged
 */
unsigned tf_model_ato_on_data(unsigned hz, unsigned ato, unsigned m, unsigned rto)
{
	unsigned ato_min = tf_model_delack_min(hz), v;

	if (ato == 0)
		return ato_min;
	if (m <= ato_min / 2)
		return (ato >> 1) + ato_min / 2;
	if (m < ato) {
		v = (ato >> 1) + m;
		if (v > rto)
			v = rto;
		if (v > tf_model_delack_max(hz))
			v = tf_model_delack_max(hz);
		return v;
	}
	return ato;
}

/* tcp_delack_max(), net/ipv4/tcp_output.c: min(icsk_delack_max,
 * max(tcp_rto_min(sk), 2) - 1). */
unsigned tf_model_tcp_delack_max(unsigned icsk_delack_max, unsigned rto_min_jiffies)
{
	unsigned from_rto_min = (rto_min_jiffies > 2 ? rto_min_jiffies : 2) - 1;

	return icsk_delack_max < from_rto_min ? icsk_delack_max : from_rto_min;
}

/*
 * tcp_send_delayed_ack(), net/ipv4/tcp_output.c: above TCP_DELACK_MIN, ato
 * is bounded by max_ato = TCP_DELACK_MAX in ping-pong mode or with
 * ICSK_ACK_PUSHED (HZ/2 otherwise) and by the smoothed RTT (never below
 * TCP_DELACK_MIN); then by tcp_delack_max().
 */
unsigned tf_model_delack_timeout(unsigned hz, unsigned ato, uint32_t srtt_us, bool pingpong,
				 unsigned delack_max)
{
	if (ato > tf_model_delack_min(hz)) {
		unsigned max_ato = pingpong ? tf_model_delack_max(hz) : hz / 2;

		if (srtt_us) {
			unsigned rtt = (unsigned)usecs_to_jiffies(hz, srtt_us);

			if (rtt < tf_model_delack_min(hz))
				rtt = tf_model_delack_min(hz);
			if (rtt < max_ato)
				max_ato = rtt;
		}
		if (ato > max_ato)
			ato = max_ato;
	}
	return ato < delack_max ? ato : delack_max;
}

/* The three together, from TCP_INFO: tcpi_ato is jiffies_to_usecs(ato),
 * so the nearest jiffy gives ato back; icsk_rto is usecs_to_jiffies() of
 * tcpi_rto; lrcvtime and now are jiffies, so a gap measured in µs spans
 * floor or ceil jiffies. */
int tf_model_delack(const tf_delack_in *in, tf_delack *ret)
{
	unsigned hz, rto, m_lo, m_hi;
	int64_t jus;

	if (!in || !ret || in->gap_us < 0)
		return -EINVAL;
	hz = in->hz;
	if (hz < 100 || hz > 1000)
		return -EINVAL;
	jus = (int64_t)(USEC_PER_SEC / hz);
	rto = (unsigned)usecs_to_jiffies(hz, in->rto_us);
	ret->ato_prev = (unsigned)(((uint64_t)in->ato_us * hz + USEC_PER_SEC / 2) / USEC_PER_SEC);
	m_lo = (unsigned)(in->gap_us / jus);
	m_hi = (unsigned)((in->gap_us + jus - 1) / jus);
	ret->ato_lo = tf_model_ato_on_data(hz, ret->ato_prev, m_lo, rto);
	ret->ato_hi = tf_model_ato_on_data(hz, ret->ato_prev, m_hi, rto);
	ret->delack_max = tf_model_tcp_delack_max(tf_model_delack_max(hz),
		(unsigned)usecs_to_jiffies(hz, in->rto_min_us ? in->rto_min_us : 200000));
	ret->timer_lo = tf_model_delack_timeout(hz, ret->ato_lo, in->srtt_us, in->pingpong,
						ret->delack_max);
	ret->timer_hi = tf_model_delack_timeout(hz, ret->ato_hi, in->srtt_us, in->pingpong,
						ret->delack_max);
	return 0;
}
