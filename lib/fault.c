/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/fib_rules.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netlink/route/addr.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <netlink/route/tc.h>
#include <netlink/cache.h>

#include "nl_private.h"
#include "tf_fault.h"
#include "tf_topo.h"
#include "tf_util.h"

/* Table and rule priority for ICMP suppression: unlikely to collide with
 * anything a case adds itself. */
#define TF_ICMP_TABLE 0x7466
#define TF_ICMP_PRIO  100

/* topo.c's IPv6 address events (see there). */
int tf__addr6_events_open(tf_host *h);
int tf__addr6_wait(int fd, int ifindex, const struct in6_addr *a, size_t n, int timeout_ms);
int tf__addr6_send(tf_host *h, int ifindex, const struct in6_addr *a, unsigned plen);

#define TF_MAX_SAVED_ADDR6 8

typedef enum { F_BLACKHOLE, F_LINK, F_MTU, F_ICMP, F_QDISC } fault_kind;

#define TF_MAX_SAVED_ROUTES 16

struct tf_fault {
	fault_kind kind;
	tf_host *host;
	struct rtnl_route *routes[TF_MAX_SAVED_ROUTES];  /* link_down: flushed with the link */
	size_t n_routes;
	char ifname[IFNAMSIZ];
	struct in6_addr addr6[TF_MAX_SAVED_ADDR6];  /* link_down: awaited on heal */
	uint8_t plen6[TF_MAX_SAVED_ADDR6];
	size_t n_addr6;
	char dst[48];
	unsigned old_mtu;
	bool icmp6;          /* icmp_block: the IPv6 rule was added too */
	bool healed;
	char desc[128];
};

struct tf_netem {
	double loss, loss_corr;
	uint32_t delay_us, jitter_us, limit;
	bool has_loss, has_loss_corr, has_delay, has_jitter;
};

static int fault_alloc(fault_kind k, tf_host *h, const char *ifname, tf_fault **ret)
{
	tf_fault *f;

	if (!h || !ret)
		return -EINVAL;
	if (ifname && strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	f = calloc(1, sizeof *f);
	if (!f)
		return -ENOMEM;
	f->kind = k;
	f->host = h;
	if (ifname)
		snprintf(f->ifname, sizeof f->ifname, "%s", ifname);
	*ret = f;
	return 0;
}

static int blackhole_route(tf_host *h, const char *dst, uint32_t table, bool add)
{
	struct rtnl_route *rt;
	struct nl_addr *d = NULL;
	int r;

	r = tf_nl_addr(dst, &d);
	if (r < 0)
		return r;
	rt = rtnl_route_alloc();
	if (!rt) {
		nl_addr_put(d);
		return -ENOMEM;
	}
	/* The family is the destination's: an IPv6 /128 is blackholed by
	 * the IPv6 FIB (ip6_route_info_create(): RTN_BLACKHOLE routes
	 * discard silently, dst_discard(), as IPv4's do). */
	rtnl_route_set_family(rt, (uint8_t)nl_addr_get_family(d));
	rtnl_route_set_dst(rt, d);
	rtnl_route_set_table(rt, table);
	rtnl_route_set_type(rt, RTN_BLACKHOLE);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
	/* A blackhole route more specific than the connected one wins the
	 * lookup; deleting it restores forwarding exactly as before. */
	r = add ? rtnl_route_add(tf_host_nl(h), rt, NLM_F_CREATE | NLM_F_EXCL)
	        : rtnl_route_delete(tf_host_nl(h), rt, 0);
	rtnl_route_put(rt);
	nl_addr_put(d);
	return tf_nlerr(r);
}

static bool valid_cidr(const char *s)
{
	struct nl_addr *a = NULL;

	if (!s || strlen(s) >= 48 || tf_nl_addr(s, &a) < 0)
		return false;
	nl_addr_put(a);
	return true;
}

int tf_fault_blackhole(tf_host *h, const char *dst, tf_fault **ret)
{
	tf_fault *f = NULL;
	int r;

	if (!valid_cidr(dst))
		return -EINVAL;
	r = fault_alloc(F_BLACKHOLE, h, NULL, &f);
	if (r < 0)
		return r;
	snprintf(f->dst, sizeof f->dst, "%s", dst);
	snprintf(f->desc, sizeof f->desc, "blackhole %s in %s", dst, tf_host_name(h));
	r = blackhole_route(h, dst, RT_TABLE_MAIN, true);
	if (r < 0) {
		free(f);
		return r;
	}
	*ret = f;
	return 0;
}

/* Routes through ifindex that the kernel deletes when the link goes down
 * (fib_sync_down_dev(); the connected routes come back with the address,
 * these do not). */
static int save_routes_af(tf_fault *f, int ifindex, int family)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;

	if (rtnl_route_alloc_cache(tf_host_nl(f->host), family, 0, &cache) < 0)
		return -EIO;
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct rtnl_nexthop *nh;

		if (rtnl_route_get_protocol(rt) == RTPROT_KERNEL ||
		    rtnl_route_get_table(rt) == RT_TABLE_LOCAL || rtnl_route_get_nnexthops(rt) != 1 ||
		    /* IPv6 lists multicast and reject routes it made itself */
		    rtnl_route_get_type(rt) != RTN_UNICAST)
			continue;
		nh = rtnl_route_nexthop_n(rt, 0);
		if (!nh || rtnl_route_nh_get_ifindex(nh) != ifindex)
			continue;
		if (f->n_routes >= TF_MAX_SAVED_ROUTES)
			break;
		f->routes[f->n_routes++] = (struct rtnl_route *)nl_object_clone(o);
	}
	nl_cache_free(cache);
	return 0;
}

/* The link's IPv6 addresses, to wait for on heal: with keep_addr_on_down
 * (the ready shapes set it) they stay, and on link up they go through the
 * DAD work again (fixup_permanent_addr() -> addrconf_dad_start()) before
 * answering neighbour solicitations. */
static int save_addr6(tf_fault *f, int ifindex)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;

	if (rtnl_addr_alloc_cache(tf_host_nl(f->host), &cache) < 0)
		return -EIO;
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *l = rtnl_addr_get_local(a);

		if (rtnl_addr_get_family(a) != AF_INET6 || rtnl_addr_get_ifindex(a) != ifindex ||
		    !l || nl_addr_get_len(l) != sizeof(struct in6_addr) ||
		    f->n_addr6 >= TF_MAX_SAVED_ADDR6)
			continue;
		f->plen6[f->n_addr6] = (uint8_t)rtnl_addr_get_prefixlen(a);
		memcpy(&f->addr6[f->n_addr6++], nl_addr_get_binary_addr(l), sizeof(struct in6_addr));
	}
	nl_cache_free(cache);
	return 0;
}

/* Both families: a link down flushes the IPv6 routes through it too
 * (rt6_sync_down_dev(), net/ipv6/route.c). */
static int save_routes(tf_fault *f, int ifindex)
{
	int r = save_routes_af(f, ifindex, AF_INET);

	if (r >= 0)
		r = save_routes_af(f, ifindex, AF_INET6);
	if (r >= 0)
		r = save_addr6(f, ifindex);
	return r;
}

static int link_up_wait6(tf_fault *f)
{
	_cleanup_close_ int fd = -1;
	int idx, r;

	if (f->n_addr6 == 0)
		return tf_link_set_up(f->host, f->ifname, true);
	idx = tf_link_index(f->host, f->ifname);
	if (idx < 0)
		return idx;
	fd = tf__addr6_events_open(f->host);
	if (fd < 0)
		return fd;
	r = tf_link_set_up(f->host, f->ifname, true);
	/* The link-local ones the link down deleted (addrconf_ifdown() keeps
	 * none, keep_addr_on_down or not) come back as the host's network
	 * configuration would put them back: a static one (the router's
	 * fe80::1) by us; one made from the MAC (addr_gen_mode 0) by the
	 * kernel on link up too — whichever comes second is told EEXIST.
	 * Without this the router had no link-local address after a replug
	 * (no neighbour solicitations to the client) and the wait below ran
	 * into its 20 s timeout. */
	for (size_t i = 0; r >= 0 && i < f->n_addr6; i++)
		if (IN6_IS_ADDR_LINKLOCAL(&f->addr6[i])) {
			int e = tf__addr6_send(f->host, idx, &f->addr6[i], f->plen6[i]);
			if (e < 0 && e != -EEXIST)
				r = e;
		}
	if (r >= 0)
		r = tf__addr6_wait(fd, idx, f->addr6, f->n_addr6, 20000);
	return r;
}

static int restore_routes(tf_fault *f)
{
	for (size_t i = 0; i < f->n_routes; i++) {
		int r = rtnl_route_add(tf_host_nl(f->host), f->routes[i], NLM_F_CREATE | NLM_F_REPLACE);
		if (r < 0)
			return tf_nlerr(r);
	}
	return 0;
}

int tf_fault_link_down(tf_host *h, const char *ifname, tf_fault **ret)
{
	tf_fault *f = NULL;
	int r = fault_alloc(F_LINK, h, ifname, &f), idx;

	if (r < 0)
		return r;
	if (!ifname) {
		free(f);
		return -EINVAL;
	}
	snprintf(f->desc, sizeof f->desc, "link %s down in %s", ifname, tf_host_name(h));
	idx = tf_link_index(h, ifname);
	r = idx < 0 ? idx : save_routes(f, idx);
	if (r >= 0)
		r = tf_link_set_up(h, ifname, false);
	if (r < 0) {
		tf_fault_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

int tf_fault_mtu(tf_host *h, const char *ifname, unsigned mtu, tf_fault **ret)
{
	tf_fault *f = NULL;
	int r;

	if (mtu < 68 || mtu > 65535 || !ifname)
		return -ERANGE;
	/* IPv6's minimum link MTU is 1280 (RFC 8200 §5); below it the kernel
	 * silently removes IPv6 from the link (tf_link_set_mtu()): refused on
	 * a link carrying IPv6, before anything changes. */
	if (mtu < 1280 && tf_link_has_ipv6(h, ifname))
		return -ERANGE;
	r = fault_alloc(F_MTU, h, ifname, &f);
	if (r < 0)
		return r;
	r = tf_link_get_mtu(h, ifname, &f->old_mtu);
	if (r >= 0)
		r = tf_link_set_mtu(h, ifname, mtu);
	if (r < 0) {
		free(f);
		return r;
	}
	snprintf(f->desc, sizeof f->desc, "mtu %u (was %u) on %s in %s", mtu, f->old_mtu, ifname,
	         tf_host_name(h));
	*ret = f;
	return 0;
}

static int icmp_rule(tf_host *h, int family, bool add)
{
	struct rtnl_rule *rule = rtnl_rule_alloc();
	int r;

	if (!rule)
		return -ENOMEM;
	rtnl_rule_set_family(rule, family);
	rtnl_rule_set_prio(rule, TF_ICMP_PRIO);
	rtnl_rule_set_table(rule, TF_ICMP_TABLE);
	rtnl_rule_set_action(rule, FR_ACT_TO_TBL);
	r = rtnl_rule_set_ipproto(rule, family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	if (r >= 0)
		r = add ? rtnl_rule_add(tf_host_nl(h), rule, NLM_F_CREATE | NLM_F_EXCL)
		        : rtnl_rule_delete(tf_host_nl(h), rule, 0);
	rtnl_rule_put(rule);
	return tf_nlerr(r);
}

static const char *any_of(int family) { return family == AF_INET6 ? "::/0" : "default"; }

static int icmp_block(tf_host *h, int family)
{
	int r = blackhole_route(h, any_of(family), TF_ICMP_TABLE, true);

	if (r >= 0) {
		r = icmp_rule(h, family, true);
		if (r < 0)
			blackhole_route(h, any_of(family), TF_ICMP_TABLE, false);
	}
	return r;
}

static int icmp_unblock(tf_host *h, int family)
{
	int r = icmp_rule(h, family, false);

	if (r >= 0)
		r = blackhole_route(h, any_of(family), TF_ICMP_TABLE, false);
	return r;
}

int tf_fault_icmp_block(tf_host *h, tf_fault **ret)
{
	tf_fault *f = NULL;
	int r = fault_alloc(F_ICMP, h, NULL, &f);

	if (r < 0)
		return r;
	snprintf(f->desc, sizeof f->desc, "icmp and icmpv6 suppressed from %s", tf_host_name(h));
	/* ICMP the host generates (icmp_route_lookup()) or forwards is looked
	 * up with the ICMP protocol in the flow, so the rule catches both.
	 * ICMPv6 errors the same way (icmpv6_route_lookup(), ip6_route_input()
	 * set flowi6_proto); neighbour discovery and MLD do not go through
	 * the FIB at all (ndisc_send_skb() and mld_sendpack() take
	 * icmp6_dst_alloc(): a route for the device), so they pass: the
	 * link keeps working and only ICMPv6 errors and echo replies (Packet
	 * Too Big, Destination Unreachable, Time Exceeded ...) vanish.
	 * (Matching one ICMPv6 type would need nf_tables; libnl has no nft
	 * and libnftnl is not a dependency: the rule is the mechanism.) */
	r = icmp_block(h, AF_INET);
	if (r >= 0) {
		r = icmp_block(h, AF_INET6);
		/* a kernel without IPv6: nothing to suppress */
		if (r == -EAFNOSUPPORT || r == -EOPNOTSUPP)
			r = 0;
		else if (r >= 0)
			f->icmp6 = true;
		else
			icmp_unblock(h, AF_INET);
	}
	if (r < 0) {
		free(f);
		return r;
	}
	*ret = f;
	return 0;
}

/* --- qdisc faults --- */

static int qdisc_root(tf_host *h, const char *ifname, const char *kind, struct rtnl_qdisc **ret)
{
	struct rtnl_qdisc *q;
	int idx = tf_link_index(h, ifname);

	if (idx < 0)
		return idx;
	q = rtnl_qdisc_alloc();
	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(0x7466, 0));
	if (rtnl_tc_set_kind(TC_CAST(q), kind) < 0) {
		rtnl_qdisc_put(q);
		/* libnl itself lacks the kind: as unsupported as a kernel would be */
		return -EOPNOTSUPP;
	}
	*ret = q;
	return 0;
}

static int qdisc_add(tf_host *h, struct rtnl_qdisc *q)
{
	int r = rtnl_qdisc_add(tf_host_nl(h), q, NLM_F_CREATE | NLM_F_REPLACE);

	/* The kernel answers ENOENT for a qdisc kind it does not know (and
	 * cannot load): report it as "unsupported", not as a missing object. */
	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_OPNOTSUPP)
		return -EOPNOTSUPP;
	return tf_nlerr(r);
}

int tf_netem_new(tf_netem **ret)
{
	tf_netem *p;

	if (!ret)
		return -EINVAL;
	p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->limit = 1000;  /* sch_netem's default queue length */
	*ret = p;
	return 0;
}

void tf_netem_free(tf_netem *p) { free(p); }

int tf_netem_set_loss(tf_netem *p, double percent)
{
	if (!p)
		return -EINVAL;
	if (!(percent >= 0.0 && percent <= 100.0))
		return -ERANGE;
	p->loss = percent;
	p->has_loss = true;
	return 0;
}

int tf_netem_set_loss_correlation(tf_netem *p, double percent)
{
	if (!p)
		return -EINVAL;
	if (!(percent >= 0.0 && percent <= 100.0))
		return -ERANGE;
	p->loss_corr = percent;
	p->has_loss_corr = true;
	return 0;
}

int tf_netem_set_delay(tf_netem *p, uint32_t delay_us)
{
	if (!p)
		return -EINVAL;
	/* netem keeps delay in ns in a 32-bit field on older kernels: ~4.29 s
	 * would overflow the legacy TCA_NETEM option libnl sends. */
	if (delay_us > 4000000)
		return -ERANGE;
	p->delay_us = delay_us;
	p->has_delay = true;
	return 0;
}

int tf_netem_set_jitter(tf_netem *p, uint32_t jitter_us)
{
	if (!p)
		return -EINVAL;
	if (jitter_us > 4000000)
		return -ERANGE;
	p->jitter_us = jitter_us;
	p->has_jitter = true;
	return 0;
}

int tf_netem_set_limit(tf_netem *p, uint32_t packets)
{
	if (!p)
		return -EINVAL;
	if (packets == 0)
		return -ERANGE;
	p->limit = packets;
	return 0;
}

int tf_netem_validate(const tf_netem *p)
{
	if (!p)
		return -EINVAL;
	/* Same combinations tc/q_netem.c refuses: jitter is a spread around a
	 * delay, a correlation qualifies a loss; and nothing set is no fault. */
	if (p->has_jitter && p->jitter_us > 0 && (!p->has_delay || p->delay_us == 0))
		return -EINVAL;
	if (p->has_loss_corr && !p->has_loss)
		return -EINVAL;
	if (!p->has_loss && !p->has_delay)
		return -EINVAL;
	return 0;
}

static uint32_t percent_to_prob(double pct)
{
	/* netem probabilities are fractions of UINT32_MAX (tc/q_netem.c). */
	return pct >= 100.0 ? UINT32_MAX : (uint32_t)(pct / 100.0 * (double)UINT32_MAX);
}

int tf_fault_netem(tf_host *h, const char *ifname, const tf_netem *p, tf_fault **ret)
{
	struct rtnl_qdisc *q = NULL;
	tf_fault *f = NULL;
	int r;

	r = tf_netem_validate(p);
	if (r < 0)
		return r;
	r = fault_alloc(F_QDISC, h, ifname, &f);
	if (r < 0)
		return r;
	r = qdisc_root(h, ifname, "netem", &q);
	if (r < 0) {
		free(f);
		return r;
	}
	rtnl_netem_set_limit(q, (int)p->limit);
	if (p->has_loss)
		rtnl_netem_set_loss(q, (int)percent_to_prob(p->loss));
	if (p->has_loss_corr)
		rtnl_netem_set_loss_correlation(q, (int)percent_to_prob(p->loss_corr));
	if (p->has_delay)
		rtnl_netem_set_delay(q, (int)p->delay_us);
	if (p->has_jitter)
		rtnl_netem_set_jitter(q, (int)p->jitter_us);
	r = qdisc_add(h, q);
	rtnl_qdisc_put(q);
	if (r < 0) {
		free(f);
		return r;
	}
	snprintf(f->desc, sizeof f->desc, "netem loss %.2f%% delay %uus jitter %uus on %s in %s",
	         p->loss, p->delay_us, p->jitter_us, ifname, tf_host_name(h));
	*ret = f;
	return 0;
}

int tf_fault_rate(tf_host *h, const char *ifname, uint64_t rate_Bps, uint32_t burst,
                  uint32_t limit, tf_fault **ret)
{
	struct rtnl_qdisc *q = NULL;
	tf_fault *f = NULL;
	int r;

	/* tbf needs a bucket of at least one packet, else nothing passes;
	 * the legacy rate field is 32 bits of bytes/s. */
	if (rate_Bps == 0 || rate_Bps > UINT32_MAX || burst < 1600 || limit < burst)
		return -ERANGE;
	r = fault_alloc(F_QDISC, h, ifname, &f);
	if (r < 0)
		return r;
	r = qdisc_root(h, ifname, "tbf", &q);
	if (r < 0) {
		free(f);
		return r;
	}
	rtnl_qdisc_tbf_set_limit(q, (int)limit);
	rtnl_qdisc_tbf_set_rate(q, (int)rate_Bps, (int)burst, 0);
	r = qdisc_add(h, q);
	rtnl_qdisc_put(q);
	if (r < 0) {
		free(f);
		return r;
	}
	snprintf(f->desc, sizeof f->desc, "rate %llu B/s burst %u on %s in %s",
	         (unsigned long long)rate_Bps, burst, ifname, tf_host_name(h));
	*ret = f;
	return 0;
}

static int qdisc_del(tf_host *h, const char *ifname)
{
	struct rtnl_qdisc *q = NULL;
	int idx = tf_link_index(h, ifname), r;

	if (idx < 0)
		return idx;
	q = rtnl_qdisc_alloc();
	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	r = rtnl_qdisc_delete(tf_host_nl(h), q);
	rtnl_qdisc_put(q);
	return tf_nlerr(r);
}

int tf_fault_heal(tf_fault *f)
{
	int r = 0;

	if (!f)
		return -EINVAL;
	if (f->healed)
		return 0;
	switch (f->kind) {
	case F_BLACKHOLE:
		r = blackhole_route(f->host, f->dst, RT_TABLE_MAIN, false);
		break;
	case F_LINK:
		/* The replug: link up, then the routes the link-down flushed,
		 * as a network manager would restore them. */
		r = link_up_wait6(f);
		if (r >= 0)
			r = restore_routes(f);
		break;
	case F_MTU:
		r = tf_link_set_mtu(f->host, f->ifname, f->old_mtu);
		break;
	case F_ICMP:
		r = icmp_unblock(f->host, AF_INET);
		if (r >= 0 && f->icmp6)
			r = icmp_unblock(f->host, AF_INET6);
		break;
	case F_QDISC:
		r = qdisc_del(f->host, f->ifname);
		break;
	}
	if (r >= 0)
		f->healed = true;
	return r;
}

const char *tf_fault_describe(const tf_fault *f) { return f ? f->desc : "(none)"; }

void tf_fault_free(tf_fault *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_routes; i++)
		rtnl_route_put(f->routes[i]);
	free(f);
}
