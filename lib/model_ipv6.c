/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the kernel's TCP treats IPv6 differently from IPv4: header sizes
 * and MSS, the minimum MTU and Packet Too Big, which ICMP errors undo a
 * backoff step (RFC 6069), and what a router sends when neighbour
 * discovery fails.  Pure functions; each cites the kernel code it follows
 * (Linux 5.14+; the ICMPv6 RTO revert is 5.8+).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tf_model.h"

/* ICMP and ICMPv6 numbers (include/uapi/linux/icmp.h, icmpv6.h). */
#define ICMP_DEST_UNREACH     3
#define ICMP_TIME_EXCEEDED    11
#define ICMPV6_DEST_UNREACH   1
#define ICMPV6_PKT_TOOBIG     2
#define ICMPV6_TIME_EXCEED    3
#define ICMPV6_PARAMPROB      4
#define TCPOLEN_TSTAMP_ALIGNED 12
#define TCP_MIN_SND_MSS       48    /* include/net/tcp.h */

static bool family_ok(int family) { return family == AF_INET || family == AF_INET6; }

unsigned tf_model_net_header_len(int family)
{
	/* icsk_af_ops->net_header_len: sizeof(struct iphdr) in ipv4_specific
	 * (tcp_ipv4.c), sizeof(struct ipv6hdr) in ipv6_specific (tcp_ipv6.c). */
	return family == AF_INET6 ? 40 : family == AF_INET ? 20 : 0;
}

unsigned tf_model_min_mtu(int family)
{
	/* IPV6_MIN_MTU (include/net/ipv6.h, RFC 8200 §5); IPv4: 68 (RFC 791). */
	return family == AF_INET6 ? TF_IPV6_MIN_MTU : family == AF_INET ? 68 : 0;
}

int tf_model_mss_from_mtu(int family, unsigned mtu, bool timestamps, unsigned *mss)
{
	int m;

	if (!mss || !family_ok(family))
		return -EINVAL;
	if (mtu < tf_model_min_mtu(family) || mtu > 65535)
		return -ERANGE;
	/* __tcp_mtu_to_mss() (net/ipv4/tcp_output.c): pmtu - net_header_len
	 * - sizeof(struct tcphdr), at least TCP_MIN_SND_MSS; tcp_mtu_to_mss()
	 * then takes the options (timestamps: 12) away. */
	m = (int)mtu - (int)tf_model_net_header_len(family) - 20;
	if (m < TCP_MIN_SND_MSS)
		m = TCP_MIN_SND_MSS;
	if (timestamps)
		m -= TCPOLEN_TSTAMP_ALIGNED;
	*mss = (unsigned)m;
	return 0;
}

int tf_model_pmtu_after_ptb(int family, unsigned pmtu, unsigned ptb_mtu, unsigned min_pmtu,
                            unsigned *ret)
{
	if (!ret || !family_ok(family) || pmtu == 0)
		return -EINVAL;
	if (family == AF_INET6) {
		/* tcp_v6_err(): a Packet Too Big below IPV6_MIN_MTU is dropped
		 * ("ipv6: tcp: drop silly ICMPv6 packet too big messages",
		 * 5.14; __ip6_rt_update_pmtu() returns on it too); one that
		 * would not lower the MSS is dropped by tcp_v6_mtu_reduced(). */
		*ret = ptb_mtu < TF_IPV6_MIN_MTU || ptb_mtu >= pmtu ? pmtu : ptb_mtu;
		return 0;
	}
	/* __ip_rt_update_pmtu() (net/ipv4/route.c): below
	 * net.ipv4.route.min_pmtu [552] the PMTU becomes min(old, min_pmtu),
	 * locked; a larger one is ignored. */
	if (min_pmtu == 0)
		min_pmtu = TF_IPV4_MIN_PMTU;
	if (ptb_mtu < min_pmtu)
		*ret = pmtu < min_pmtu ? pmtu : min_pmtu;
	else
		*ret = ptb_mtu < pmtu ? ptb_mtu : pmtu;
	return 0;
}

int tf_model_icmp_effect(int family, unsigned type, unsigned code, tf_icmp_effect *e)
{
	if (!e || !family_ok(family) || type > 255 || code > 255)
		return -EINVAL;
	memset(e, 0, sizeof *e);
	if (family == AF_INET) {
		/* tcp_v4_err(): icmp_err_convert[] for Destination Unreachable;
		 * a backoff step is undone for net and host unreachable. */
		if (type == ICMP_DEST_UNREACH && code == 0) {
			e->err = ENETUNREACH;
			e->rto_revert = true;
		} else if (type == ICMP_DEST_UNREACH && code == 1) {
			e->err = EHOSTUNREACH;
			e->rto_revert = true;
		} else if (type == ICMP_DEST_UNREACH && code == 3) {
			e->err = ECONNREFUSED;
		} else if (type == ICMP_DEST_UNREACH && code == 4) {
			e->pmtu = true;             /* fragmentation needed: tcp_v4_mtu_reduced() */
		} else if (type == ICMP_TIME_EXCEEDED) {
			e->err = EHOSTUNREACH;
		} else {
			return -EOPNOTSUPP;         /* not modelled */
		}
		e->ends_syn_sent = !e->pmtu;
		e->rule = e->rto_revert ? "tcp_v4_err(): icmp_err_convert[], tcp_ld_RTO_revert() for "
		                          "NET/HOST_UNREACH"
		                        : "tcp_v4_err(): icmp_err_convert[]";
		return 0;
	}
	/* tcp_v6_err(): icmpv6_err_convert() (net/ipv6/icmp.c tab_unreach[]);
	 * the RFC 6069 revert only for ICMPV6_DEST_UNREACH / ICMPV6_NOROUTE
	 * (code 0) — not for ADDR_UNREACH (3), which is what a router sends
	 * when neighbour discovery fails. */
	switch (type) {
	case ICMPV6_DEST_UNREACH: {
		static const int tab[] = { ENETUNREACH, EACCES, EHOSTUNREACH, EHOSTUNREACH,
		                           ECONNREFUSED, EACCES, EACCES };
		e->err = code < sizeof tab / sizeof tab[0] ? tab[code] : EPROTO;
		e->rto_revert = code == 0;
		break;
	}
	case ICMPV6_PKT_TOOBIG:
		e->pmtu = true;                     /* tcp_v6_mtu_reduced(), never an error */
		break;
	case ICMPV6_TIME_EXCEED:
		e->err = EHOSTUNREACH;
		break;
	case ICMPV6_PARAMPROB:
		e->err = EPROTO;
		break;
	default:
		return -EOPNOTSUPP;
	}
	e->ends_syn_sent = !e->pmtu;
	e->rule = e->rto_revert ? "tcp_v6_err(): icmpv6_err_convert(), tcp_ld_RTO_revert() for "
	                          "DEST_UNREACH/NOROUTE only"
	                        : "tcp_v6_err(): icmpv6_err_convert(), no RTO revert";
	return 0;
}

int tf_model_neigh_failure_icmp(int family, unsigned *type, unsigned *code)
{
	if (!type || !code || !family_ok(family))
		return -EINVAL;
	if (family == AF_INET6) {
		/* ndisc_error_report() -> dst_link_failure() -> ip6_link_failure():
		 * icmpv6_send(ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH). */
		*type = ICMPV6_DEST_UNREACH;
		*code = 3;
	} else {
		/* arp_error_report() -> dst_link_failure() -> ipv4_link_failure():
		 * icmp_send(ICMP_DEST_UNREACH, ICMP_HOST_UNREACH). */
		*type = ICMP_DEST_UNREACH;
		*code = 1;
	}
	return 0;
}

bool tf_model_neigh_failure_reverts(int family)
{
	unsigned t = 0, c = 0;
	tf_icmp_effect e;

	return tf_model_neigh_failure_icmp(family, &t, &c) == 0 &&
	       tf_model_icmp_effect(family, t, c, &e) == 0 && e.rto_revert;
}

int tf_neigh_params_init_family(int family, tf_neigh_params *p)
{
	if (!p || !family_ok(family))
		return -EINVAL;
	/* nd_tbl (net/ipv6/ndisc.c) has arp_tbl's numbers: MCAST_PROBES 3,
	 * UCAST_PROBES 3, RETRANS_TIME ND_RETRANS_TIMER = 1 * HZ, APP_PROBES
	 * unset (0), QUEUE_LEN_BYTES SK_WMEM_MAX; and ICMPv6 errors are rate
	 * limited by net.ipv6.icmp.ratelimit, every error type except Packet
	 * Too Big (ratemask "0-1,3-127").  The limit kept here is IPv4's 1 s;
	 * the ICMPv6 one (1 * HZ scaled by prefix, or HZ / 10 since upstream
	 * 0201eedb69b2) is tf_neigh_params_set_icmpv6()'s.  So the resolution
	 * fails at the same times; it is what the sender does with the error
	 * that differs (tf_model_icmp_effect()). */
	tf_neigh_params_init(p);
	/* icmp_ratemask stays in IPv4 terms: its Destination Unreachable bit
	 * (set) is what IPv6's mask says of its own Destination Unreachable. */
	return 0;
}

/* ------------------------------------------------------------------ */
/* ICMPv6 rate limiting at the router (issue 14).                      */

/*
 * icmpv6_xrlim_allow() (net/ipv6/icmp.c) charges an error toward a
 * destination net.ipv6.icmp.ratelimit (icmpv6_time, kept in jiffies by
 * proc_dointvec_ms_jiffies) in the same inet_peer_xrlim_allow() bucket as
 * IPv4's, keyed on the destination host.  Until upstream 0201eedb69b2
 * ("ipv6: icmp: remove obsolete code in icmpv6_xrlim_allow()", 2026, in
 * stable kernels) it first shifted that interval right by
 * (128 - plen) >> 5 for the route's prefix length ("give more bandwidth
 * to wider prefixes": a /64 pays a quarter); the same commit lowered the
 * default from 1 * HZ to HZ / 10 (inet6_net_init()), which is how a fresh
 * namespace tells the two apart (tf_model_icmpv6_prefix_scaled()).
 */
int tf_model_icmpv6_ratelimit_ms(unsigned hz, uint32_t ratelimit_ms, unsigned route_plen,
                                 bool prefix_scaled, uint32_t *ret)
{
	uint64_t j;

	if (!ret || hz < 100 || hz > 1000 || route_plen > 128 || ratelimit_ms > INT_MAX)
		return -EINVAL;
	/* msecs_to_jiffies() rounds up */
	j = ((uint64_t)ratelimit_ms * hz + 999) / 1000;
	if (prefix_scaled && route_plen < 128)
		j >>= (128 - route_plen) >> 5;
	/* back in ms, such that msecs_to_jiffies() gives j again: floor, as
	 * hz <= 1000 keeps floor(j * 1000 / hz) * hz / 1000 above j - 1 */
	*ret = (uint32_t)(j * 1000 / hz);
	return 0;
}

int tf_model_icmpv6_prefix_scaled(unsigned hz, uint32_t default_ratelimit_ms)
{
	uint64_t j;

	if (hz < 100 || hz > 1000)
		return -EINVAL;
	j = ((uint64_t)default_ratelimit_ms * hz + 999) / 1000;
	if (j == hz)
		return 1;             /* 1 * HZ: before 0201eedb69b2, prefix scaling */
	if (j == hz / 10)
		return 0;             /* HZ / 10: with it, no scaling */
	return -EOPNOTSUPP;           /* neither default: not a fresh namespace */
}

int tf_model_icmpv6_ratemask_has(const char *mask, unsigned type, bool *ret)
{
	const char *p = mask;
	bool hit = false;

	if (!mask || !ret || type > 255)
		return -EINVAL;
	/* proc_do_large_bitmap() syntax: "a" or "a-b", comma separated,
	 * decimal, 0..255 for ICMPv6 types; empty: no type limited. */
	while (*p && *p != '\n') {
		unsigned long a, b;
		char *end;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		a = strtoul(p, &end, 10);
		b = a;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return -EINVAL;
			b = strtoul(end + 1, &end, 10);
		}
		if (a > 255 || b > 255 || b < a)
			return -EINVAL;
		if (type >= a && type <= b)
			hit = true;
		p = end;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	if (*p == '\n' && p[1])
		return -EINVAL;
	*ret = hit;
	return 0;
}

int tf_neigh_params_set_icmpv6(tf_neigh_params *p, uint32_t ratelimit_ms, const char *ratemask,
                               unsigned route_plen, bool prefix_scaled)
{
	uint32_t ms = 0;
	bool limited = false;
	int r;

	if (!p)
		return -EINVAL;
	r = tf_model_icmpv6_ratemask_has(ratemask, ICMPV6_DEST_UNREACH, &limited);
	if (r < 0)
		return r;
	r = tf_model_icmpv6_ratelimit_ms(p->hz, ratelimit_ms, route_plen, prefix_scaled, &ms);
	if (r < 0)
		return r;
	/* The neighbour model speaks IPv4's mask: its Destination Unreachable
	 * bit stands for icmpv6_mask_allow()'s answer for ICMPv6's. */
	p->icmp_ratelimit_ms = ms;
	p->icmp_ratemask = limited ? 1u << ICMP_DEST_UNREACH : 0;
	return 0;
}
