/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_fault.h — reversible network faults, through libnl.
 *
 * Every fault is an object: applied when created, undone by
 * tf_fault_heal() (so "unplug, then replug" is heal), and left as it is by
 * tf_fault_free() (the namespace dies with the case anyway).
 *
 *   blackhole   a blackhole route in a host: silent drop, no ICMP; the
 *               family is the destination's ("2001:2:0:2::2/128")
 *   link_down   cable pull: a link down (and its veth peer loses carrier);
 *               heal brings it up and restores the routes the kernel
 *               flushed with it (a default route via that link), both
 *               families, and returns once the link's IPv6 addresses are
 *               usable again.  Over IPv6 the router's neighbour discovery
 *               fails where IPv4's ARP would (ICMPv6 address unreachable)
 *   mtu         a link's MTU changed (restored on heal); below 1280 on a
 *               link carrying IPv6: -ERANGE (the kernel would silently
 *               remove IPv6 from the link)
 *   icmp_block  ICMP and ICMPv6 errors from a host suppressed with policy
 *               rules (ipproto icmp / ipv6-icmp → a table whose only
 *               route is a blackhole).  Neighbour discovery and MLD are
 *               not routed through the FIB, so they still work: an IPv6
 *               PMTU black hole without breaking the link.  A rule cannot
 *               match one ICMPv6 type: every ICMPv6 error and echo reply
 *               of the host is suppressed, as for IPv4
 *   netem       loss / delay / jitter on a link's egress (sch_netem)
 *   rate        egress rate limit on a link (sch_tbf)
 *
 * Parameters are validated before any netlink message is sent (-EINVAL,
 * -ERANGE).  A kernel without sch_netem gives -EOPNOTSUPP, distinctly, so a
 * case can SKIP with the reason.  Returns 0 or a negative errno.
 */
#pragma once

#include <stdint.h>

#include "tf_sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tf_fault tf_fault;
typedef struct tf_netem tf_netem;

int tf_fault_blackhole(tf_host *h, const char *dst_cidr, tf_fault **ret);
int tf_fault_link_down(tf_host *h, const char *ifname, tf_fault **ret);
int tf_fault_mtu(tf_host *h, const char *ifname, unsigned mtu, tf_fault **ret);
int tf_fault_icmp_block(tf_host *h, tf_fault **ret);
int tf_fault_netem(tf_host *h, const char *ifname, const tf_netem *p, tf_fault **ret);
/* Token bucket: rate in bytes/s, burst in bytes (>= one MTU), queue limit
 * in bytes. */
int tf_fault_rate(tf_host *h, const char *ifname, uint64_t rate_Bps, uint32_t burst,
                  uint32_t limit, tf_fault **ret);

int  tf_fault_heal(tf_fault *f);          /* idempotent */
const char *tf_fault_describe(const tf_fault *f);  /* "blackhole 198.18.2.0/24 in router" */
void tf_fault_free(tf_fault *f);          /* accepts NULL; does not heal */
static inline void tf_fault_freep(tf_fault **f) { tf_fault_free(*f); }

/* netem parameters: new → set → tf_fault_netem(). */
int  tf_netem_new(tf_netem **ret);
void tf_netem_free(tf_netem *p);          /* accepts NULL */
static inline void tf_netem_freep(tf_netem **p) { tf_netem_free(*p); }
int  tf_netem_set_loss(tf_netem *p, double percent);             /* 0..100 */
int  tf_netem_set_loss_correlation(tf_netem *p, double percent); /* needs loss */
int  tf_netem_set_delay(tf_netem *p, uint32_t delay_us);
int  tf_netem_set_jitter(tf_netem *p, uint32_t jitter_us);       /* needs delay */
int  tf_netem_set_limit(tf_netem *p, uint32_t packets);          /* [1000] */
/* Checks the combination as a whole (what iproute2 tc/q_netem.c rejects). */
int  tf_netem_validate(const tf_netem *p);

#ifdef __cplusplus
}
#endif
