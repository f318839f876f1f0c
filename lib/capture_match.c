/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capture_match.c — which packets of a capture a case is looking for: a
 * flow's segments by flags, payload, ACK and window, or the ICMP/ICMPv6
 * errors of one sender; found, counted, timed or waited for.  (The fate
 * family kept this in its own header; lib is its one home.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "tf_capture.h"
#include "tf_sock.h"
#include "tf_util.h"

int tf_match_icmp_from(tf_match *m, const char *addr)
{
	if (!m || !addr)
		return -EINVAL;
	m->icmp = true;
	m->icmp_family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	return inet_pton(m->icmp_family, addr, m->icmp_family == AF_INET6 ? (void *)&m->icmp_src6
	                                                                  : (void *)&m->icmp_src) == 1
	       ? 0 : -EINVAL;
}

bool tf_pkt_matches(const tf_pkt *p, const tf_match *m)
{
	if (!p || !m || p->ts_ns < m->after_ns)
		return false;
	if (m->icmp && m->icmp_family == AF_INET6)
		return tf_pkt_is_v6(p) && p->proto == IPPROTO_ICMPV6 && p->icmp_type == m->icmp_type &&
		       p->icmp_code == m->icmp_code &&
		       (IN6_IS_ADDR_UNSPECIFIED(&m->icmp_src6) || tf_in6_eq(&p->src6, &m->icmp_src6));
	if (m->icmp)
		return !tf_pkt_is_v6(p) && p->proto == IPPROTO_ICMP && p->icmp_type == m->icmp_type &&
		       p->icmp_code == m->icmp_code &&
		       (!m->icmp_src.s_addr || p->src.s_addr == m->icmp_src.s_addr);
	if (m->flow ? !tf_pkt_in_flow(p, m->flow, false) : p->proto != IPPROTO_TCP)
		return false;
	if ((p->flags & m->all) != m->all || (p->flags & m->none))
		return false;
	if ((m->payload > 0 && p->payload == 0) || (m->payload < 0 && p->payload != 0))
		return false;
	if (m->has_ack && (!(p->flags & TF_TCP_ACK) || (int32_t)(p->ack - m->ack) < 0))
		return false;
	return !m->zero_win || p->win == 0;
}

long tf_capture_find(const tf_capture *c, size_t from, const tf_match *m)
{
	for (size_t i = from; c && i < tf_capture_count(c); i++)
		if (tf_pkt_matches(tf_capture_pkt(c, i), m))
			return (long)i;
	return -1;
}

size_t tf_capture_count_match(const tf_capture *c, const tf_match *m)
{
	return tf_capture_times(c, m, NULL, 0);
}

size_t tf_capture_times(const tf_capture *c, const tf_match *m, int64_t *ts, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; c && i < tf_capture_count(c); i++) {
		const tf_pkt *p = tf_capture_pkt(c, i);

		if (!tf_pkt_matches(p, m))
			continue;
		if (ts && n < max)
			ts[n] = p->ts_ns;
		n++;
	}
	return n;
}

long tf_capture_wait_match(tf_capture *c, const tf_match *m, size_t n, int timeout_ms)
{
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	size_t from = 0, k = 0;

	if (!c || !m || n == 0)
		return -EINVAL;
	for (;;) {
		int64_t left;
		int r = tf_capture_read(c);

		if (r < 0)
			return r;
		for (size_t i = from; i < tf_capture_count(c); i++)
			if (tf_pkt_matches(tf_capture_pkt(c, i), m) && ++k == n)
				return (long)i;
		from = tf_capture_count(c);
		left = deadline - tf_mono_ns();
		if (left <= 0)
			return -ETIME;
		r = tf_sock_wait(tf_capture_fd(c), POLLIN, (int)((left + 999999) / 1000000), NULL);
		if (r < 0 && r != -ETIME)
			return r;
	}
}
