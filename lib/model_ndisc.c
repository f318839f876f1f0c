/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_ndisc.c — a link that loses carrier, over IPv6: the router's
 * neighbour discovery for the peer fails instead of its ARP, and what the
 * sender's TCP is told; and a sender whose own link goes down.  The
 * IPv4 side of each rule is model_neigh.c's (tf_model_arp_failure()) and
 * model_ipv6.c's (tf_model_icmp_effect()); this file says where the IPv6
 * kernel does the same and where it differs, citing the 6.x sources
 * (net/ipv6/ndisc.c, net/core/neighbour.c, net/ipv6/route.c,
 * net/ipv6/inet6_connection_sock.c, net/ipv4/ip_output.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "model_private.h"
#include "tf_model.h"

static const char R_NDISC[] =
	"ndisc_netdev_event(NETDEV_CHANGE) -> neigh_carrier_down(&nd_tbl) (ndisc_evict_nocarrier); "
	"__neigh_event_send() -> NUD_INCOMPLETE, neigh_timer_handler() -> ndisc_solicit() until "
	"neigh_max_probes(); ndisc_error_report() -> ip6_link_failure(): ICMPv6 address "
	"unreachable; tcp_v6_err(): EHOSTUNREACH in sk_err_soft, no tcp_ld_RTO_revert()";
static const char R_ARP[] =
	"arp_netdev_event(NETDEV_CHANGE) -> neigh_carrier_down(&arp_tbl) (arp_evict_nocarrier); "
	"__neigh_event_send() -> NUD_INCOMPLETE, neigh_timer_handler() -> arp_solicit() until "
	"neigh_max_probes(); arp_error_report() -> ipv4_link_failure(): ICMP host unreachable; "
	"tcp_v4_err(): EHOSTUNREACH in sk_err_soft, tcp_ld_RTO_revert()";

/*
 * Eviction.  ndisc_netdev_event() on NETDEV_CHANGE calls
 * neigh_carrier_down(&nd_tbl, dev) when the carrier is off and both
 * net.ipv6.conf.all and net.ipv6.conf.<dev> ndisc_evict_nocarrier are set
 * (5.18+, "ipv6: add ndisc_evict_nocarrier"; unconditional before), as
 * arp_netdev_event() does for arp_tbl with arp_evict_nocarrier.  The
 * notifier runs from linkwatch (linkwatch_do_dev() -> netdev_state_change()),
 * so the delay is the same HZ (tf_model_arp_failure()).
 *
 * Resolution.  The first packet the router forwards to the peer after
 * that finds no nd_tbl entry (ip6_finish_output2() -> __neigh_create())
 * and __neigh_event_send() makes it NUD_INCOMPLETE with probes =
 * ucast_solicit and a timer of max(retrans_time, HZ/100);
 * neigh_timer_handler() calls ndisc_solicit() at each expiry — a unicast
 * Neighbour Solicitation while probes < ucast_solicit, neigh_app_ns()
 * while < ucast + app, else a multicast one to the solicited-node address
 * — the same sequence arp_solicit() follows, and fails the entry once
 * probes >= neigh_max_probes() = ucast + app + mcast.  nd_tbl's defaults
 * are arp_tbl's (ND_RETRANS_TIMER = HZ, 3 and 3 probes), read from
 * net.ipv6.neigh.<dev>.*.  So the times are tf_model_neigh_resolution()'s
 * for the IPv6 table's parameters.
 */
int tf_model_ndisc_failure(const tf_neigh_params *p, const tf_schedule *s, tf_arp_failure *ret)
{
	/* The rule is neighbour.c's, shared by both tables: only the
	 * parameters (net.ipv6.neigh.<dev>.*) are nd_tbl's. */
	return tf_model_arp_failure(p, s, ret);
}

int tf_model_link_failure(int family, const tf_neigh_params *p, const tf_schedule *s,
                          tf_link_failure *ret)
{
	tf_icmp_effect e;
	tf_arp_failure w;
	int r;

	if (!ret || (family != AF_INET && family != AF_INET6))
		return -EINVAL;
	r = family == AF_INET6 ? tf_model_ndisc_failure(p, s, &w) : tf_model_arp_failure(p, s, &w);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof *ret);
	ret->family = family;
	ret->earliest_us = w.earliest_us;
	ret->latest_us = w.latest_us;
	ret->evict_us = w.evict_us;
	ret->resolution = w.resolution;
	/*
	 * The error.  neigh_invalidate() hands every held skb to the table's
	 * error_report: ndisc_error_report() -> dst_link_failure() ->
	 * ip6_link_failure() sends ICMPv6 Destination Unreachable, Address
	 * Unreachable (1, 3); arp_error_report() -> ipv4_link_failure() sends
	 * ICMP host unreachable (3, 1).  At an established sender,
	 * tcp_v6_err() converts (1, 3) to EHOSTUNREACH (icmpv6_err_convert())
	 * and keeps it in sk_err_soft, as tcp_v4_err() does with (3, 1); but
	 * only tcp_v4_err() undoes a backoff step for it (tcp_ld_RTO_revert()):
	 * tcp_v6_err() does only for code 0, No Route.
	 */
	r = tf_model_neigh_failure_icmp(family, &ret->icmp_type, &ret->icmp_code);
	if (r < 0)
		return r;
	r = tf_model_icmp_effect(family, ret->icmp_type, ret->icmp_code, &e);
	if (r < 0)
		return r;
	ret->err = e.err;
	ret->rto_revert = e.rto_revert;
	ret->rule = family == AF_INET6 ? R_NDISC : R_ARP;
	return 0;
}

/*
 * The sender's own link goes down (set down: a cable pulled under a
 * network manager that downs the link, tf_fault_link_down()): its routes
 * through the link go with it (fib_sync_down_dev() / fib6_ifdown() on
 * NETDEV_DOWN) and the socket's cached route is invalidated, so the next
 * transmission looks the route up again and finds none.
 *
 *   IPv6  inet6_csk_xmit() (every TCP transmission: tcp_transmit_skb() ->
 *         icsk_af_ops->queue_xmit) stores the lookup's error in
 *         sk_err_soft: ip6_dst_lookup_flow() returns ip6_null_entry's
 *         -ENETUNREACH.  A retransmission goes through
 *         inet6_sk_rebuild_header() first, which does the same.
 *   IPv4  __ip_queue_xmit() drops the skb at no_route and returns
 *         -EHOSTUNREACH without touching sk_err_soft: a new segment leaves
 *         no error; a retransmission goes through inet_sk_rebuild_header()
 *         first (__tcp_retransmit_skb()), which stores the route error,
 *         -ENETUNREACH, in sk_err_soft.
 *
 * sk_err_soft is what getsockopt(SO_ERROR) hands out (and clears) while
 * sk_err is 0, and what tcp_write_err() reports at the give-up.
 */
int tf_model_no_route_error(int family, bool retransmission, int *err)
{
	if (!err || (family != AF_INET && family != AF_INET6))
		return -EINVAL;
	*err = family == AF_INET6 || retransmission ? ENETUNREACH : 0;
	return 0;
}

/*
 * The give-up of that sender, when the link stays down.  New data that
 * found no route left nothing in flight (tcp_write_xmit() stops at the
 * failed tcp_transmit_skb()), so it is the probe timer that runs
 * (tcp_check_probe_timer(): tcp_probe0_base() = max(icsk_rto,
 * TCP_RTO_MIN), armed from the write).  Each expiry, tcp_probe_timer() ->
 * tcp_send_probe0() -> tcp_write_wakeup() tries the data again, fails the
 * same way (err < 0), counts icsk_probes_out and a backoff step (while
 * below tcp_retries2) and re-arms tcp_probe0_when() = base << backoff, at
 * most TCP_RTO_MAX, from the timer; the expiry that finds icsk_probes_out
 * >= tcp_retries2 calls tcp_write_err() instead: retries2 + 1 timers, the
 * first from process context ((d, d + gran]), the others from the tick
 * ([d + 1, d + gran]).  The error is sk_err_soft ?: ETIMEDOUT
 * (tcp_done_with_error()): tf_model_no_route_error()'s, or ETIMEDOUT.
 */
int tf_model_no_route_giveup(int family, unsigned hz, unsigned rto_jiffies, unsigned retries2,
                             tf_band *ret, int *err)
{
	int r, soft = 0;

	if (!ret || !err || hz < 100 || hz > 1000 || retries2 > 255)
		return -EINVAL;
	r = tf_model_no_route_error(family, false, &soft);
	if (r < 0)
		return r;
	r = tfm_probe0_run(hz, rto_jiffies, 0, retries2, ret);
	if (r < 0)
		return r;
	ret->gran = (unsigned)tf_us_to_jiffies(hz, (uint64_t)(ret->hi_us -
	                                       (int64_t)tf_jiffies_to_us(hz, ret->jiffies)));
	*err = soft ? soft : ETIMEDOUT;
	return 0;
}
