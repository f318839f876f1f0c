/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "nl_private.h"
#include "tf_topo.h"
#include "tf_util.h"

int tf_nlerr(int e)
{
	if (e >= 0)
		return e;
	switch (-e) {
	case NLE_EXIST:         return -EEXIST;
	case NLE_OBJ_NOTFOUND:  return -ENOENT;
	case NLE_PERM:          return -EPERM;
	case NLE_NOACCESS:      return -EACCES;
	case NLE_INVAL:         return -EINVAL;
	case NLE_NODEV:         return -ENODEV;
	case NLE_OPNOTSUPP:     return -EOPNOTSUPP;
	case NLE_BUSY:          return -EBUSY;
	case NLE_RANGE:         return -ERANGE;
	case NLE_NOMEM:         return -ENOMEM;
	case NLE_AGAIN:         return -EAGAIN;
	case NLE_NOADDR:        return -EADDRNOTAVAIL;
	case NLE_AF_NOSUPPORT:  return -EAFNOSUPPORT;
	case NLE_PROTO_MISMATCH:return -EPROTO;
	default:                return -EIO;
	}
}

int tf_link_index(tf_host *h, const char *ifname)
{
	struct rtnl_link *l = NULL;
	int r, idx;

	if (!h || !ifname)
		return -EINVAL;
	r = rtnl_link_get_kernel(tf_host_nl(h), 0, ifname, &l);
	if (r < 0)
		return -ENODEV;
	idx = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return idx;
}

int tf_link_ifindex(tf_host *h, const char *ifname) { return tf_link_index(h, ifname); }

/* The family of an address string: IPv6 has colons, IPv4 never does. */
static int str_family(const char *s)
{
	return s && strchr(s, ':') ? AF_INET6 : AF_INET;
}

/* "default" stays IPv4's 0.0.0.0/0 (every caller before IPv6 meant it);
 * IPv6's default is "::/0", or "default" next to an IPv6 gateway
 * (route_build()). */
int tf_nl_addr(const char *s, struct nl_addr **ret)
{
	if (!s)
		return -EINVAL;
	if (strcmp(s, "default") == 0)
		s = "0.0.0.0/0";
	return nl_addr_parse(s, str_family(s), ret) < 0 ? -EINVAL : 0;
}

int tf_veth_add(tf_host *a, const char *ifa, tf_host *b, const char *ifb)
{
	struct rtnl_link *link, *peer;
	int r;

	if (!a || !b || !ifa || !ifb || strlen(ifa) >= IFNAMSIZ || strlen(ifb) >= IFNAMSIZ)
		return -EINVAL;
	link = rtnl_link_veth_alloc();
	if (!link)
		return -ENOMEM;
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, ifa);
	rtnl_link_set_name(peer, ifb);
	/* The peer is created directly in b: names only need to be unique
	 * per host.  (libnl cannot carry IFF_UP in the veth create request:
	 * the kernel refuses its ifi_change mask, so both ends come up after.) */
	rtnl_link_set_ns_fd(peer, tf_host_nsfd(b));
	r = rtnl_link_add(tf_host_nl(a), link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_veth_release(link);
	if (r < 0)
		return tf_nlerr(r);
	r = tf_link_set_up(a, ifa, true);
	if (r >= 0)
		r = tf_link_set_up(b, ifb, true);
	return r;
}

/* A socket in h listening to IPv6 address events (RTNLGRP_IPV6_IFADDR),
 * opened before the address is added so its event cannot be missed. */
static int addr6_events_open(tf_host *h)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV6_IFADDR };
	int fd = tf_host_socket(h, AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Does this RTM_NEWADDR say `a` on ifindex is usable (not tentative)? */
static bool addr6_ready(const struct nlmsghdr *nh, int ifindex, const struct in6_addr *a)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	const struct rtattr *rta;
	uint32_t flags;
	int len;
	bool match = false;

	if (nh->nlmsg_type != RTM_NEWADDR || nh->nlmsg_len < NLMSG_LENGTH(sizeof *ifa) ||
	    ifa->ifa_family != AF_INET6 || (int)ifa->ifa_index != ifindex)
		return false;
	flags = ifa->ifa_flags;
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof *ifa));
	for (rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if ((rta->rta_type == IFA_ADDRESS || rta->rta_type == IFA_LOCAL) &&
		    RTA_PAYLOAD(rta) == sizeof *a && memcmp(RTA_DATA(rta), a, sizeof *a) == 0)
			match = true;
		else if (rta->rta_type == IFA_FLAGS && RTA_PAYLOAD(rta) == sizeof(uint32_t))
			memcpy(&flags, RTA_DATA(rta), sizeof flags);
	}
	return match && !(flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));
}

/* An IPv6 address being added: where, and whether it is usable yet. */
struct addr6 {
	tf_host *h;
	const char *ifname, *cidr;
	int fd;                 /* the host's event socket (shared, owned by the first) */
	bool own_fd, done;
	int idx;
	struct in6_addr a;
};

/*
 * Wait for the kernel to announce each address usable.  With IFA_F_NODAD
 * it is never tentative (ipv6_add_addr(), net/ipv6/addrconf.c), but it
 * joins its solicited-node group — without which it answers no neighbour
 * solicitation — in the DAD work, which then sends RTM_NEWADDR
 * (addrconf_dad_begin() -> addrconf_dad_completed() -> ipv6_ifa_notify()).
 * That notification is the event; no sleep.  All of them are awaited
 * together, so the works of several addresses run in parallel.
 */
static int addr6_wait(struct addr6 *v, size_t n, int timeout_ms)
{
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	char buf[8192] __attribute__((aligned(4)));

	for (;;) {
		struct pollfd p[16];
		size_t np = 0, left_n = 0;
		int64_t left = deadline - tf_mono_ns();
		int r;

		for (size_t i = 0; i < n; i++) {
			left_n += !v[i].done;
			if (v[i].own_fd && np < TF_ARRAY_SIZE(p))
				p[np++] = (struct pollfd){ .fd = v[i].fd, .events = POLLIN };
		}
		if (left_n == 0)
			return 0;
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(p, np, (int)((left + 999999) / 1000000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		for (size_t k = 0; k < np; k++) {
			ssize_t len;

			if (!(p[k].revents & (POLLIN | POLLERR)))
				continue;
			len = recv(p[k].fd, buf, sizeof buf, 0);
			if (len < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (len < 0)
				return -errno;   /* ENOBUFS: events lost, cannot tell */
			for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
			     nh = NLMSG_NEXT(nh, len))
				for (size_t i = 0; i < n; i++)
					if (v[i].fd == p[k].fd && !v[i].done &&
					    addr6_ready(nh, v[i].idx, &v[i].a))
						v[i].done = true;
		}
	}
}

static int addr_send(tf_host *h, int idx, int fam, struct nl_addr *local)
{
	struct rtnl_addr *addr = rtnl_addr_alloc();
	int r;

	if (!addr)
		return -ENOMEM;
	rtnl_addr_set_ifindex(addr, idx);
	rtnl_addr_set_family(addr, fam);
	/* No duplicate address detection: the sandbox's links are ours, and
	 * DAD would keep the address tentative (unusable) for a second. */
	if (fam == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	r = rtnl_addr_set_local(addr, local);
	if (r >= 0)
		r = rtnl_addr_add(tf_host_nl(h), addr, 0);
	rtnl_addr_put(addr);
	return tf_nlerr(r);
}

static void addrs6_close(struct addr6 *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].own_fd) {
			close(v[i].fd);
			v[i].own_fd = false;
		}
}

/* Send the IPv6 addresses v[0..n) (at most 16 hosts) without waiting:
 * their DAD works run while the caller does other set-up;
 * addrs6_finish() waits for them (and closes, whatever the outcome). */
static int addrs6_start(struct addr6 *v, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		v[i].fd = -1;
		v[i].own_fd = false;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct nl_addr *local = NULL;

		v[i].done = false;
		v[i].idx = 0;
		/* one event socket per host, one ifindex lookup per link */
		for (size_t j = 0; j < i; j++)
			if (v[j].h == v[i].h) {
				v[i].fd = v[j].fd;
				if (v[i].ifname && v[j].ifname && strcmp(v[i].ifname, v[j].ifname) == 0)
					v[i].idx = v[j].idx;
			}
		if (v[i].fd < 0) {
			r = addr6_events_open(v[i].h);
			if (r < 0)
				break;
			v[i].fd = r;
			v[i].own_fd = true;
		}
		if (v[i].idx <= 0)
			r = v[i].idx = tf_link_index(v[i].h, v[i].ifname);
		if (r < 0)
			break;
		if (!v[i].cidr || str_family(v[i].cidr) != AF_INET6 ||
		    nl_addr_parse(v[i].cidr, AF_INET6, &local) < 0) {
			r = -EINVAL;
			break;
		}
		memcpy(&v[i].a, nl_addr_get_binary_addr(local), sizeof v[i].a);
		r = addr_send(v[i].h, v[i].idx, AF_INET6, local);
		nl_addr_put(local);
	}
	if (r < 0)
		addrs6_close(v, n);
	return r;
}

static int addrs6_finish(struct addr6 *v, size_t n, int r)
{
	if (r >= 0)
		/* an event, not a timing: generous, since under a burst of
		 * namespace teardowns the RTNL can be held for seconds */
		r = addr6_wait(v, n, 20000);
	addrs6_close(v, n);
	return r;
}

static int addrs6_add(struct addr6 *v, size_t n)
{
	int r = addrs6_start(v, n);

	return r < 0 ? r : addrs6_finish(v, n, r);
}

/* For fault.c (declared there: nl_private.h is not this file's owner's):
 * an event socket in h, and the wait for addresses a[0..n) on ifindex. */
int tf__addr6_events_open(tf_host *h);
int tf__addr6_wait(int fd, int ifindex, const struct in6_addr *a, size_t n, int timeout_ms);
int tf__addr6_events_open(tf_host *h) { return addr6_events_open(h); }
/* ... and an address sent, not waited for (0 or -errno, -EEXIST included). */
int tf__addr6_send(tf_host *h, int ifindex, const struct in6_addr *a, unsigned plen);
int tf__addr6_send(tf_host *h, int ifindex, const struct in6_addr *a, unsigned plen)
{
	struct nl_addr *local = nl_addr_build(AF_INET6, a, sizeof *a);
	int r;

	if (!local)
		return -ENOMEM;
	nl_addr_set_prefixlen(local, (int)plen);
	r = addr_send(h, ifindex, AF_INET6, local);
	nl_addr_put(local);
	return r;
}

int tf__addr6_wait(int fd, int ifindex, const struct in6_addr *a, size_t n, int timeout_ms)
{
	struct addr6 v[16];

	if (fd < 0 || n > TF_ARRAY_SIZE(v))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct addr6){ .fd = fd, .own_fd = i == 0, .idx = ifindex, .a = a[i] };
	return addr6_wait(v, n, timeout_ms);
}

int tf_addr_add(tf_host *h, const char *ifname, const char *cidr)
{
	struct nl_addr *local = NULL;
	int idx, r;

	if (!h || !cidr)
		return -EINVAL;
	if (str_family(cidr) == AF_INET6) {
		struct addr6 a = { .h = h, .ifname = ifname, .cidr = cidr };
		return addrs6_add(&a, 1);
	}
	idx = tf_link_index(h, ifname);
	if (idx < 0)
		return idx;
	if (nl_addr_parse(cidr, AF_INET, &local) < 0)
		return -EINVAL;
	r = addr_send(h, idx, AF_INET, local);
	nl_addr_put(local);
	return r;
}

static int route_build(tf_host *h, const char *dst, const char *via, const char *ifname,
                       struct rtnl_route **ret)
{
	struct rtnl_route *rt;
	struct rtnl_nexthop *nh;
	struct nl_addr *d = NULL, *gw = NULL;
	int idx = 0, r, fam;

	if (!h || (!via && !ifname))
		return -EINVAL;
	if (ifname) {
		idx = tf_link_index(h, ifname);
		if (idx < 0)
			return idx;
	}
	/* The family is the gateway's, else the destination's; "default"
	 * beside an IPv6 gateway is IPv6's default. */
	fam = via ? str_family(via) : str_family(dst);
	if (dst && strcmp(dst, "default") == 0 && fam == AF_INET6)
		dst = "::/0";
	r = tf_nl_addr(dst, &d);
	if (r < 0)
		return r;
	if (nl_addr_get_family(d) != fam ||
	    (via && nl_addr_parse(via, fam, &gw) < 0)) {
		nl_addr_put(d);
		return -EINVAL;
	}
	rt = rtnl_route_alloc();
	nh = rtnl_route_nh_alloc();
	if (!rt || !nh) {
		rtnl_route_put(rt);
		rtnl_route_nh_free(nh);
		nl_addr_put(d);
		nl_addr_put(gw);
		return -ENOMEM;
	}
	rtnl_route_set_family(rt, (uint8_t)fam);
	rtnl_route_set_dst(rt, d);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_scope(rt, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	if (gw)
		rtnl_route_nh_set_gateway(nh, gw);
	if (idx > 0)
		rtnl_route_nh_set_ifindex(nh, idx);
	rtnl_route_add_nexthop(rt, nh);
	nl_addr_put(d);
	nl_addr_put(gw);
	*ret = rt;
	return 0;
}

int tf_route_add(tf_host *h, const char *dst, const char *via, const char *ifname)
{
	struct rtnl_route *rt = NULL;
	int r = route_build(h, dst, via, ifname, &rt);

	if (r < 0)
		return r;
	r = rtnl_route_add(tf_host_nl(h), rt, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_route_put(rt);
	return tf_nlerr(r);
}

int tf_route_set_rto_min(tf_host *h, const char *dst, const char *via, const char *ifname,
                         uint32_t rto_min_ms)
{
	struct rtnl_route *rt = NULL;
	int r;

	/* The kernel stores RTAX_RTO_MIN in ms and honours it only when the
	 * metric is locked: tcp_rto_min() in include/net/tcp.h checks
	 * dst_metric_locked(dst, RTAX_RTO_MIN) (iproute2: "rto_min lock").
	 * An unlocked rto_min is silently ignored, so we always lock it. */
	if (rto_min_ms == 0 || rto_min_ms > 120000)
		return -ERANGE;
	r = route_build(h, dst, via, ifname, &rt);
	if (r < 0)
		return r;
	r = rtnl_route_set_metric(rt, RTAX_RTO_MIN, rto_min_ms);
	if (r >= 0)
		r = rtnl_route_set_metric(rt, RTAX_LOCK, 1u << RTAX_RTO_MIN);
	if (r >= 0)
		r = rtnl_route_add(tf_host_nl(h), rt, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(rt);
	return tf_nlerr(r);
}

/* A route carrying a locked MTU metric ("ip route replace DST dev IF mtu
 * lock N"): a router forwarding along it honours the route's MTU
 * (ip_dst_mtu_maybe_forward(), include/net/ip.h: "'forwarding = true'
 * case should always honour route mtu"), while the link keeps its own. */
int tf_route_set_mtu(tf_host *h, const char *dst, const char *via, const char *ifname,
                     unsigned mtu)
{
	struct rtnl_route *rt = NULL;
	int r;

	if (mtu < 68 || mtu > 65535)
		return -ERANGE;
	r = route_build(h, dst, via, ifname, &rt);
	if (r < 0)
		return r;
	r = rtnl_route_set_metric(rt, RTAX_MTU, mtu);
	if (r >= 0)
		r = rtnl_route_set_metric(rt, RTAX_LOCK, 1u << RTAX_MTU);
	if (r >= 0)
		r = rtnl_route_add(tf_host_nl(h), rt, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(rt);
	return tf_nlerr(r);
}

int tf_route_del(tf_host *h, const char *dst, const char *via, const char *ifname)
{
	struct rtnl_route *rt = NULL;
	int r = route_build(h, dst, via, ifname, &rt);

	if (r < 0)
		return r;
	r = rtnl_route_delete(tf_host_nl(h), rt, 0);
	rtnl_route_put(rt);
	return tf_nlerr(r);
}

static int link_change(tf_host *h, const char *ifname, int up, unsigned mtu)
{
	struct rtnl_link *orig, *chg;
	int r = -ENOMEM;

	if (!h || !ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	/* RTM_NEWLINK without NLM_F_CREATE, addressed by IFLA_IFNAME, changes
	 * the existing link: one round trip, no RTM_GETLINK (libnl's
	 * rtnl_link_change() insists on an ifindex).  A missing name: ENODEV. */
	orig = NULL;
	chg = rtnl_link_alloc();
	if (chg) {
		rtnl_link_set_name(chg, ifname);
		if (up == 1)
			rtnl_link_set_flags(chg, IFF_UP);
		else if (up == 0)
			rtnl_link_unset_flags(chg, IFF_UP);
		if (mtu)
			rtnl_link_set_mtu(chg, mtu);
		r = tf_nlerr(rtnl_link_add(tf_host_nl(h), chg, 0));
	}
	rtnl_link_put(chg);
	rtnl_link_put(orig);
	return r;
}

int tf_link_set_up(tf_host *h, const char *ifname, bool up)
{
	return link_change(h, ifname, up ? 1 : 0, 0);
}

bool tf_link_has_ipv6(tf_host *h, const char *ifname)
{
	char key[64];
	long off = 1;

	if (!h || !ifname || strlen(ifname) >= IFNAMSIZ)
		return false;
	snprintf(key, sizeof key, "net.ipv6.conf.%s.disable_ipv6", ifname);
	return tf_host_sysctl_get_int(h, key, &off) >= 0 && off == 0;
}

int tf_link_set_mtu(tf_host *h, const char *ifname, unsigned mtu)
{
	/* 68 is IPv4's minimum (RFC 791); 65535 veth's maximum. */
	if (mtu < 68 || mtu > 65535)
		return -ERANGE;
	/* Below IPV6_MIN_MTU (1280, RFC 8200 §5) the kernel does not refuse:
	 * it silently tears IPv6 down on the link (addrconf_notify()
	 * NETDEV_CHANGEMTU -> addrconf_ifdown(), net/ipv6/addrconf.c) and its
	 * addresses do not come back with a larger MTU.  A link carrying IPv6
	 * refuses it instead; disable IPv6 on the link first
	 * (net.ipv6.conf.<if>.disable_ipv6=1) to go below on IPv4 alone. */
	if (mtu < 1280 && tf_link_has_ipv6(h, ifname))
		return -ERANGE;
	return link_change(h, ifname, -1, mtu);
}

int tf_link_get_mtu(tf_host *h, const char *ifname, unsigned *mtu)
{
	struct rtnl_link *l = NULL;

	if (!h || !ifname || !mtu)
		return -EINVAL;
	if (rtnl_link_get_kernel(tf_host_nl(h), 0, ifname, &l) < 0)
		return -ENODEV;
	*mtu = rtnl_link_get_mtu(l);
	rtnl_link_put(l);
	return 0;
}

/* --- shapes --- */

struct tf_topo {
	tf_topo_shape shape;
	bool owns_world;
	tf_world *world;
	tf_host *client, *router, *server;
};

/*
 * IPv6 on the host's links: the sandbox turns IPv6 off in every new host
 * (quiet captures), so it is turned back on for the links created from
 * here on (the "default" entries are what a new device copies,
 * ipv6_add_dev()), without automatic link-local addresses (addr_gen_mode
 * 1, "none"): no DAD probe, no router solicitation on the wire (the router
 * gets fe80::1 on its links, see topo_path()).  MLD reports for the
 * solicited-node groups remain.
 */
static int write_proc(const char *path, const char *v)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(v);

	if (fd < 0)
		return -errno;
	return write(fd, v, n) == (ssize_t)n ? 0 : -EIO;
}

/* Runs inside the host: /proc/sys/net is the opener's namespace's.  One
 * namespace switch for all of them (this is on every case's setup path). */
static int ipv6_on_here(void *router)
{
	int r = write_proc("/proc/sys/net/ipv6/conf/default/disable_ipv6", "0");

	/* Client and server make their link-local address from the MAC
	 * (addr_gen_mode 0, EUI-64) on every link up, as a real host does,
	 * with no DAD (usable at once) — a cable pull deletes it
	 * (addrconf_ifdown() keeps no link-local), the replug makes it again.
	 * Without one, a host's NUD probes were never sent and after ~455 s
	 * its retransmissions stopped reaching the wire
	 * (retries2_15_default_ipv6).  The router's are static (fe80::1). */
	if (r >= 0)
		r = write_proc("/proc/sys/net/ipv6/conf/default/addr_gen_mode", router ? "1" : "0");
	if (r >= 0 && !router)
		r = write_proc("/proc/sys/net/ipv6/conf/default/accept_dad", "0");
	/* A cable pull keeps the addresses, as IPv4 does (without it,
	 * addrconf_ifdown() deletes them on link down, for good). */
	if (r >= 0)
		r = write_proc("/proc/sys/net/ipv6/conf/default/keep_addr_on_down", "1");
	/* a host with a link-local address solicits routers when it is
	 * ready (addrconf_dad_completed()): not here, quiet captures, and the
	 * routes are static */
	if (r >= 0)
		r = write_proc("/proc/sys/net/ipv6/conf/default/router_solicitations", "0");
	/* forwarding before the links exist: they inherit it, and the router
	 * never solicits routers */
	if (r >= 0 && router)
		r = write_proc("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	return r;
}

int tf_host_ipv6_on(tf_host *h, bool router)
{
	if (!h)
		return -EINVAL;
	return tf_host_run(h, ipv6_on_here, router ? h : NULL);
}

static int host_ipv6(tf_host *h, bool router) { return tf_host_ipv6_on(h, router); }

static int topo_pair(tf_topo *t)
{
	int r;

	struct addr6 v6[] = {
		{ .h = t->client, .ifname = TF_IF_CLIENT, .cidr = "2001:2::1/64" },
		{ .h = t->server, .ifname = TF_IF_SERVER, .cidr = "2001:2::2/64" },
	};

	if ((r = host_ipv6(t->client, false)) < 0 || (r = host_ipv6(t->server, false)) < 0 ||
	    (r = tf_veth_add(t->client, TF_IF_CLIENT, t->server, TF_IF_SERVER)) < 0 ||
	    (r = addrs6_start(v6, TF_ARRAY_SIZE(v6))) < 0)
		return r;
	/* IPv4 while the IPv6 addresses' works run */
	if ((r = tf_addr_add(t->client, TF_IF_CLIENT, "198.18.0.1/24")) >= 0)
		r = tf_addr_add(t->server, TF_IF_SERVER, "198.18.0.2/24");
	return addrs6_finish(v6, TF_ARRAY_SIZE(v6), r);
}

static int topo_path(tf_topo *t)
{
	struct addr6 v6[] = {
		{ .h = t->client, .ifname = TF_IF_CLIENT, .cidr = "2001:2:0:1::2/64" },
		{ .h = t->router, .ifname = TF_IF_ROUTER_CLIENT, .cidr = "2001:2:0:1::1/64" },
		{ .h = t->router, .ifname = TF_IF_ROUTER_SERVER, .cidr = "2001:2:0:2::1/64" },
		{ .h = t->server, .ifname = TF_IF_SERVER, .cidr = "2001:2:0:2::2/64" },
		/* Every host needs a link-local address, as a real one has:
		 * ndisc_send_ns() takes ipv6_get_lladdr() for its source when
		 * ndisc_solicit() has no packet of the host's own to take it
		 * from — a router's forwarded packet, and any host's NUD probe of
		 * a STALE entry (neigh_probe() with nothing queued) — and sends
		 * nothing without one.  The router's are set here; client and
		 * server make theirs (host_ipv6()). */
		{ .h = t->router, .ifname = TF_IF_ROUTER_CLIENT, .cidr = "fe80::1/64" },
		{ .h = t->router, .ifname = TF_IF_ROUTER_SERVER, .cidr = "fe80::1/64" },
	};
	int r;

	if ((r = host_ipv6(t->client, false)) < 0 || (r = host_ipv6(t->router, true)) < 0 ||
	    (r = host_ipv6(t->server, false)) < 0 ||
	    (r = tf_veth_add(t->client, TF_IF_CLIENT, t->router, TF_IF_ROUTER_CLIENT)) < 0 ||
	    (r = tf_veth_add(t->router, TF_IF_ROUTER_SERVER, t->server, TF_IF_SERVER)) < 0 ||
	    (r = addrs6_start(v6, TF_ARRAY_SIZE(v6))) < 0)
		return r;
	/* IPv4, and the IPv6 routes (their gateways are on-link already: the
	 * prefix routes come with the addresses, inet6_addr_add()), while the
	 * IPv6 addresses' works run; then wait for those. */
	(void)((r = tf_addr_add(t->client, TF_IF_CLIENT, "198.18.1.2/24")) < 0 ||
	    (r = tf_addr_add(t->router, TF_IF_ROUTER_CLIENT, "198.18.1.1/24")) < 0 ||
	    (r = tf_addr_add(t->router, TF_IF_ROUTER_SERVER, "198.18.2.1/24")) < 0 ||
	    (r = tf_addr_add(t->server, TF_IF_SERVER, "198.18.2.2/24")) < 0 ||
	    (r = tf_route_add(t->client, "default", "198.18.1.1", TF_IF_CLIENT)) < 0 ||
	    (r = tf_route_add(t->server, "default", "198.18.2.1", TF_IF_SERVER)) < 0 ||
	    (r = tf_host_sysctl_set(t->router, "net.ipv4.ip_forward", "1")) < 0 ||
	    (r = tf_route_add(t->client, "default", "2001:2:0:1::1", TF_IF_CLIENT)) < 0 ||
	    (r = tf_route_add(t->server, "default", "2001:2:0:2::1", TF_IF_SERVER)) < 0);
	return addrs6_finish(v6, TF_ARRAY_SIZE(v6), r);
}

int tf_topo_new_in(tf_world *w, tf_topo_shape shape, tf_topo **ret)
{
	tf_topo *t;
	int r;

	if (!w || !ret || (shape != TF_TOPO_PAIR && shape != TF_TOPO_PATH))
		return -EINVAL;
	t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->shape = shape;
	t->world = w;
	if ((r = tf_host_new(t->world, "client", &t->client)) < 0 ||
	    (r = tf_host_new(t->world, "server", &t->server)) < 0)
		goto fail;
	if (shape == TF_TOPO_PATH && (r = tf_host_new(t->world, "router", &t->router)) < 0)
		goto fail;
	r = shape == TF_TOPO_PAIR ? topo_pair(t) : topo_path(t);
	if (r < 0)
		goto fail;
	*ret = t;
	return 0;
fail:
	tf_topo_free(t);
	return r;
}

int tf_topo_new(tf_topo_shape shape, tf_topo **ret)
{
	tf_world *w = NULL;
	int r;

	if (!ret || (shape != TF_TOPO_PAIR && shape != TF_TOPO_PATH))
		return -EINVAL;
	r = tf_world_new(&w);
	if (r < 0)
		return r;
	r = tf_topo_new_in(w, shape, ret);
	if (r < 0) {
		tf_world_free(w);
		return r;
	}
	(*ret)->owns_world = true;
	return 0;
}

void tf_topo_free(tf_topo *t)
{
	if (!t)
		return;
	/* Hosts belong to the world: a borrowed world keeps them. */
	if (t->owns_world)
		tf_world_free(t->world);
	free(t);
}

tf_world *tf_topo_world(const tf_topo *t) { return t ? t->world : NULL; }
tf_host *tf_topo_client(const tf_topo *t) { return t ? t->client : NULL; }
tf_host *tf_topo_server(const tf_topo *t) { return t ? t->server : NULL; }
tf_host *tf_topo_router(const tf_topo *t) { return t ? t->router : NULL; }

/* Addresses by shape, node and family: [shape][node][v6]. */
static const char *const addrs[2][4][2] = {
	[TF_TOPO_PAIR] = {
		[TF_NODE_CLIENT] = { "198.18.0.1", "2001:2::1" },
		[TF_NODE_SERVER] = { "198.18.0.2", "2001:2::2" },
	},
	[TF_TOPO_PATH] = {
		[TF_NODE_CLIENT]        = { "198.18.1.2", "2001:2:0:1::2" },
		[TF_NODE_SERVER]        = { "198.18.2.2", "2001:2:0:2::2" },
		[TF_NODE_ROUTER_CLIENT] = { "198.18.1.1", "2001:2:0:1::1" },
		[TF_NODE_ROUTER_SERVER] = { "198.18.2.1", "2001:2:0:2::1" },
	},
};
static const char *const cidrs[2][4][2] = {
	[TF_TOPO_PAIR] = {
		[TF_NODE_CLIENT] = { "198.18.0.1/32", "2001:2::1/128" },
		[TF_NODE_SERVER] = { "198.18.0.2/32", "2001:2::2/128" },
	},
	[TF_TOPO_PATH] = {
		[TF_NODE_CLIENT]        = { "198.18.1.2/32", "2001:2:0:1::2/128" },
		[TF_NODE_SERVER]        = { "198.18.2.2/32", "2001:2:0:2::2/128" },
		[TF_NODE_ROUTER_CLIENT] = { "198.18.1.1/32", "2001:2:0:1::1/128" },
		[TF_NODE_ROUTER_SERVER] = { "198.18.2.1/32", "2001:2:0:2::1/128" },
	},
};

static const char *lookup(const char *const tab[2][4][2], const tf_topo *t, tf_topo_node n,
                          int family)
{
	if (!t || (unsigned)n > TF_NODE_ROUTER_SERVER || (family != AF_INET && family != AF_INET6))
		return NULL;
	return tab[t->shape][n][family == AF_INET6];   /* NULL: a pair has no router */
}

const char *tf_topo_addr(const tf_topo *t, tf_topo_node n, int family)
{
	return lookup(addrs, t, n, family);
}

const char *tf_topo_cidr(const tf_topo *t, tf_topo_node n, int family)
{
	return lookup(cidrs, t, n, family);
}

const char *tf_topo_client_addr(const tf_topo *t) { return tf_topo_addr(t, TF_NODE_CLIENT, AF_INET); }
const char *tf_topo_server_addr(const tf_topo *t) { return tf_topo_addr(t, TF_NODE_SERVER, AF_INET); }
const char *tf_topo_server_cidr(const tf_topo *t) { return tf_topo_cidr(t, TF_NODE_SERVER, AF_INET); }
const char *tf_topo_client_addr6(const tf_topo *t) { return tf_topo_addr(t, TF_NODE_CLIENT, AF_INET6); }
const char *tf_topo_server_addr6(const tf_topo *t) { return tf_topo_addr(t, TF_NODE_SERVER, AF_INET6); }
const char *tf_topo_server_cidr6(const tf_topo *t) { return tf_topo_cidr(t, TF_NODE_SERVER, AF_INET6); }

const char *tf_topo_router_addr(const tf_topo *t, tf_topo_side side)
{
	return tf_topo_addr(t, side == TF_SIDE_SERVER ? TF_NODE_ROUTER_SERVER : TF_NODE_ROUTER_CLIENT,
	                    AF_INET);
}

const char *tf_topo_router_addr6(const tf_topo *t, tf_topo_side side)
{
	return tf_topo_addr(t, side == TF_SIDE_SERVER ? TF_NODE_ROUTER_SERVER : TF_NODE_ROUTER_CLIENT,
	                    AF_INET6);
}
