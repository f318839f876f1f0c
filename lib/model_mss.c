/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_mss.c — MSS and path MTU arithmetic, and PLPMTUD
 * (net.ipv4.tcp_mtu_probing, RFC 4821): tcp_mtu_to_mss(), tcp_mss_to_mtu(),
 * tcp_mtup_init(), tcp_mtu_probe() in net/ipv4/tcp_output.c and the
 * black-hole detection of tcp_mtu_probing() in net/ipv4/tcp_timer.c (see
 * tf_model.h, "MSS, PMTU and probing").  IPv4, no IP options, no
 * extension headers (icsk_ext_hdr_len 0).
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

/* __tcp_mtu_to_mss(): pmtu - net_header_len - sizeof(struct tcphdr), at
 * least tcp_min_snd_mss; tcp_mtu_to_mss() then takes off the options
 * every segment carries (tcp_header_len - sizeof(struct tcphdr)).  The
 * clamp to mss_clamp is the caller's: every MTU asked for here is below
 * the peer's. */
unsigned tf_model_mtu_to_mss(unsigned pmtu, bool ts, unsigned min_snd_mss)
{
	int mss = (int)pmtu - TF_IPV4_HDR_LEN - TF_TCP_HDR_LEN;

	if (mss < (int)min_snd_mss)
		mss = (int)min_snd_mss;
	return (unsigned)(mss - (ts ? TF_TCP_TS_LEN : 0));
}

unsigned tf_model_mss_to_mtu(unsigned mss, bool ts)
{
	return mss + TF_TCP_HDR_LEN + (ts ? TF_TCP_TS_LEN : 0) + TF_IPV4_HDR_LEN;
}

/* tcp_mtup_init(): search_high = mss_clamp + sizeof(struct tcphdr) +
 * net_header_len, search_low = tcp_mss_to_mtu(tcp_base_mss); enabled from
 * the start when tcp_mtu_probing > 1.  tcp_mtu_probe(): probe_size =
 * tcp_mtu_to_mss((search_high + search_low) >> 1). */
int tf_model_mtu_probing(unsigned base_mss, unsigned min_snd_mss, unsigned mss_clamp, bool ts,
			 tf_mtu_probing *ret)
{
	if (!ret || base_mss == 0 || mss_clamp == 0)
		return -EINVAL;
	ret->search_low = tf_model_mss_to_mtu(base_mss, ts);
	ret->search_high = mss_clamp + TF_TCP_HDR_LEN + TF_IPV4_HDR_LEN;
	ret->low_mss = tf_model_mtu_to_mss(ret->search_low, ts, min_snd_mss);
	ret->probe_mss = tf_model_mtu_to_mss((ret->search_high + ret->search_low) >> 1, ts,
					     min_snd_mss);
	return 0;
}

/* tcp_mtu_probe(): no probe when tcp_snd_cwnd(tp) < 11, when
 * search_high - search_low < tcp_probe_threshold, or when the write queue
 * holds less than size_needed = probe_size + (reordering + 1) *
 * mss_cache. */
bool tf_model_mtu_probe_sent(const tf_mtu_probing *p, unsigned mss_cache, unsigned cwnd,
			     unsigned reordering, unsigned probe_threshold, uint64_t queued,
			     uint64_t *size_needed)
{
	uint64_t need;

	if (!p)
		return false;
	need = p->probe_mss + ((uint64_t)reordering + 1) * mss_cache;
	if (size_needed)
		*size_needed = need;
	if (cwnd < 11 || p->search_high < p->search_low ||
	    p->search_high - p->search_low < probe_threshold)
		return false;
	return queued >= need;
}

int tf_model_mtu_blackhole(const tf_model *m, unsigned retries1, tf_schedule **ret)
{
	tf_model c;

	if (!m || !ret)
		return -EINVAL;
	if (retries1 > MAX_RETRIES2)
		return -ERANGE;
	/* retransmits_timed_out(sk, tcp_retries1, 0): no user timeout in the
	 * test, but TCP_USER_TIMEOUT would still cut the timers. */
	if (m->user_timeout_ms)
		return -EOPNOTSUPP;
	c = *m;
	c.retries2 = retries1;
	return tf_model_retrans(&c, ret);
}

/* ------------------------------------------------------------------ */
/* Both families (issue 14): the same rules with icsk_af_ops->net_header_len
 * of the socket's family — sizeof(struct iphdr) in ipv4_specific
 * (tcp_ipv4.c), sizeof(struct ipv6hdr) in ipv6_specific (tcp_ipv6.c).  No
 * IPv6 extension headers (icsk_ext_hdr_len 0) and no fragment header: the
 * dst_allfrag() term of __tcp_mtu_to_mss() only applied after a Packet Too
 * Big below IPV6_MIN_MTU, which tcp_v6_err() drops since 5.14.  Unlike
 * tf_model_mss_from_mtu() these take any MTU: search_low of an IPv6
 * connection (tcp_mss_to_mtu(tcp_base_mss) = 1096) is below 1280, and the
 * kernel sends segments of that size. */
static unsigned net_hdr(int family)
{
	return family == AF_INET6 ? 40 : family == AF_INET ? TF_IPV4_HDR_LEN : 0;
}

unsigned tf_model_mtu_to_mss_af(int family, unsigned pmtu, bool ts, unsigned min_snd_mss)
{
	int mss;

	if (!net_hdr(family))
		return 0;
	mss = (int)pmtu - (int)net_hdr(family) - TF_TCP_HDR_LEN;
	if (mss < (int)min_snd_mss)
		mss = (int)min_snd_mss;
	return (unsigned)(mss - (ts ? TF_TCP_TS_LEN : 0));
}

unsigned tf_model_mss_to_mtu_af(int family, unsigned mss, bool ts)
{
	if (!net_hdr(family))
		return 0;
	return mss + TF_TCP_HDR_LEN + (ts ? TF_TCP_TS_LEN : 0) + net_hdr(family);
}

int tf_model_mtu_probing_af(int family, unsigned base_mss, unsigned min_snd_mss,
			    unsigned mss_clamp, bool ts, tf_mtu_probing *ret)
{
	if (!ret || base_mss == 0 || mss_clamp == 0 || !net_hdr(family))
		return -EINVAL;
	ret->search_low = tf_model_mss_to_mtu_af(family, base_mss, ts);
	ret->search_high = mss_clamp + TF_TCP_HDR_LEN + net_hdr(family);
	ret->low_mss = tf_model_mtu_to_mss_af(family, ret->search_low, ts, min_snd_mss);
	ret->probe_mss = tf_model_mtu_to_mss_af(family, (ret->search_high + ret->search_low) >> 1,
						ts, min_snd_mss);
	return 0;
}
