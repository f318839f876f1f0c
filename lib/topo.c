/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if.h>
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

int tf_nl_addr(const char *s, struct nl_addr **ret)
{
	if (!s)
		return -EINVAL;
	if (strcmp(s, "default") == 0)
		s = "0.0.0.0/0";
	return nl_addr_parse(s, AF_INET, ret) < 0 ? -EINVAL : 0;
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

int tf_addr_add(tf_host *h, const char *ifname, const char *cidr)
{
	struct rtnl_addr *addr;
	struct nl_addr *local = NULL;
	int idx, r;

	idx = tf_link_index(h, ifname);
	if (idx < 0)
		return idx;
	if (!cidr || nl_addr_parse(cidr, AF_INET, &local) < 0)
		return -EINVAL;
	addr = rtnl_addr_alloc();
	if (!addr) {
		nl_addr_put(local);
		return -ENOMEM;
	}
	rtnl_addr_set_ifindex(addr, idx);
	rtnl_addr_set_family(addr, AF_INET);
	r = rtnl_addr_set_local(addr, local);
	if (r >= 0)
		r = rtnl_addr_add(tf_host_nl(h), addr, 0);
	rtnl_addr_put(addr);
	nl_addr_put(local);
	return tf_nlerr(r);
}

static int route_build(tf_host *h, const char *dst, const char *via, const char *ifname,
                       struct rtnl_route **ret)
{
	struct rtnl_route *rt;
	struct rtnl_nexthop *nh;
	struct nl_addr *d = NULL, *gw = NULL;
	int idx = 0, r;

	if (!h || (!via && !ifname))
		return -EINVAL;
	if (ifname) {
		idx = tf_link_index(h, ifname);
		if (idx < 0)
			return idx;
	}
	r = tf_nl_addr(dst, &d);
	if (r < 0)
		return r;
	if (via && nl_addr_parse(via, AF_INET, &gw) < 0) {
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
	rtnl_route_set_family(rt, AF_INET);
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

int tf_link_set_mtu(tf_host *h, const char *ifname, unsigned mtu)
{
	/* 68 is IPv4's minimum (RFC 791); 65535 veth's maximum. */
	if (mtu < 68 || mtu > 65535)
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

static int topo_pair(tf_topo *t)
{
	int r;

	if ((r = tf_veth_add(t->client, TF_IF_CLIENT, t->server, TF_IF_SERVER)) < 0 ||
	    (r = tf_addr_add(t->client, TF_IF_CLIENT, "198.18.0.1/24")) < 0 ||
	    (r = tf_addr_add(t->server, TF_IF_SERVER, "198.18.0.2/24")) < 0)
		return r;
	return 0;
}

static int topo_path(tf_topo *t)
{
	int r;

	if ((r = tf_veth_add(t->client, TF_IF_CLIENT, t->router, TF_IF_ROUTER_CLIENT)) < 0 ||
	    (r = tf_veth_add(t->router, TF_IF_ROUTER_SERVER, t->server, TF_IF_SERVER)) < 0 ||
	    (r = tf_addr_add(t->client, TF_IF_CLIENT, "198.18.1.2/24")) < 0 ||
	    (r = tf_addr_add(t->router, TF_IF_ROUTER_CLIENT, "198.18.1.1/24")) < 0 ||
	    (r = tf_addr_add(t->router, TF_IF_ROUTER_SERVER, "198.18.2.1/24")) < 0 ||
	    (r = tf_addr_add(t->server, TF_IF_SERVER, "198.18.2.2/24")) < 0 ||
	    (r = tf_route_add(t->client, "default", "198.18.1.1", TF_IF_CLIENT)) < 0 ||
	    (r = tf_route_add(t->server, "default", "198.18.2.1", TF_IF_SERVER)) < 0 ||
	    (r = tf_host_sysctl_set(t->router, "net.ipv4.ip_forward", "1")) < 0)
		return r;
	return 0;
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

const char *tf_topo_client_addr(const tf_topo *t)
{
	return !t ? NULL : t->shape == TF_TOPO_PAIR ? "198.18.0.1" : "198.18.1.2";
}

const char *tf_topo_server_addr(const tf_topo *t)
{
	return !t ? NULL : t->shape == TF_TOPO_PAIR ? "198.18.0.2" : "198.18.2.2";
}

const char *tf_topo_server_cidr(const tf_topo *t)
{
	return !t ? NULL : t->shape == TF_TOPO_PAIR ? "198.18.0.2/32" : "198.18.2.2/32";
}
