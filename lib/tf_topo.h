/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_topo.h — links, addresses and routes between hosts, through
 * libnl-route-3 (no ip/tc subprocesses), and two ready shapes.
 *
 *   pair:  client 198.18.0.1/24 eth0 ──── eth0 198.18.0.2/24 server
 *          client 2001:2::1/64          2001:2::2/64 server
 *   path:  client 198.18.1.2/24 eth0 ── eth0 198.18.1.1 router 198.18.2.1 eth1 ── eth0 198.18.2.2/24 server
 *          client 2001:2:0:1::2/64  2001:2:0:1::1 router 2001:2:0:2::1  2001:2:0:2::2/64 server
 *
 * Both families on the same links (dual stack), with default routes via
 * the router in both.  198.18.0.0/15 (RFC 2544) and 2001:2::/48 (RFC 5180)
 * are the ranges reserved for benchmarking networks: they never leave the
 * sandbox.  Every link is up and every address usable when a call returns
 * (IPv6 addresses without DAD, waited for by their netlink event).
 * Address strings are IPv6 when they contain ':'.
 * Returns 0 or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tf_sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A veth pair with one end in each host, both ends up. */
int tf_veth_add(tf_host *a, const char *ifname_a, tf_host *b, const char *ifname_b);
/* IPv4 or IPv6 ("2001:2::1/64": added with IFA_F_NODAD; returns once the
 * kernel announced it usable, -ETIMEDOUT after 5 s).  IPv6 needs IPv6
 * enabled on the link (the ready shapes do it; -EACCES otherwise). */
int tf_addr_add(tf_host *h, const char *ifname, const char *cidr);
/* dst: "default" or a CIDR; via: gateway or NULL for an on-link route;
 * ifname: may be NULL when via is given.  The family is via's, else dst's:
 * "default" is 0.0.0.0/0, or ::/0 beside an IPv6 gateway ("::/0" works
 * everywhere). */
int tf_route_add(tf_host *h, const char *dst, const char *via, const char *ifname);
/* Replace the route to dst with one carrying the rto_min metric (ms), as
 * `ip route replace ... rto_min Nms` does (RTAX_RTO_MIN). */
int tf_route_set_rto_min(tf_host *h, const char *dst, const char *via, const char *ifname,
                         uint32_t rto_min_ms);
/* Replace (or add) the route to dst with one carrying a locked MTU metric
 * (`ip route replace ... mtu lock N`, RTAX_MTU): forwarding along it uses
 * that MTU, the link keeps its own.  68..65535. */
int tf_route_set_mtu(tf_host *h, const char *dst, const char *via, const char *ifname,
                     unsigned mtu);
/* Remove the route to dst (the same arguments as when it was added). */
int tf_route_del(tf_host *h, const char *dst, const char *via, const char *ifname);
int tf_link_set_up(tf_host *h, const char *ifname, bool up);
/* 68..65535; on a link carrying IPv6, below 1280 is -ERANGE (the kernel
 * would silently remove IPv6 from the link, see topo.c). */
int tf_link_set_mtu(tf_host *h, const char *ifname, unsigned mtu);
/* Whether IPv6 is enabled on the link (net.ipv6.conf.<if>.disable_ipv6 0). */
bool tf_link_has_ipv6(tf_host *h, const char *ifname);
int tf_link_get_mtu(tf_host *h, const char *ifname, unsigned *mtu);
/* ifindex (> 0) or -errno. */
int tf_link_ifindex(tf_host *h, const char *ifname);

/* IPv6 on the links created in h from now on (the sandbox turns it off in
 * every new host, for quiet captures): net.ipv6.conf.default.disable_ipv6
 * 0, no automatic link-local addresses (addr_gen_mode 1: no DAD probe nor
 * router solicitation), keep_addr_on_down 1 (a cable pull keeps the
 * addresses, as IPv4 does); with `router`, IPv6 forwarding.  The ready
 * shapes call it; a case building its own links calls it first. */
int tf_host_ipv6_on(tf_host *h, bool router);

/* --- ready shapes --- */
typedef struct tf_topo tf_topo;
typedef enum tf_topo_shape {
	TF_TOPO_PAIR,  /* client — server */
	TF_TOPO_PATH,  /* client — router — server */
} tf_topo_shape;

/* Creates the world (sandbox) too; see tf_world_new() for its errors. */
int  tf_topo_new(tf_topo_shape shape, tf_topo **ret);
/* The shape inside an existing world (its hosts are added to w, which
 * keeps them: tf_topo_free() then frees only the topology). */
int  tf_topo_new_in(tf_world *w, tf_topo_shape shape, tf_topo **ret);
void tf_topo_free(tf_topo *t);                    /* accepts NULL */
static inline void tf_topo_freep(tf_topo **t) { tf_topo_free(*t); }

tf_world *tf_topo_world(const tf_topo *t);
tf_host *tf_topo_client(const tf_topo *t);
tf_host *tf_topo_server(const tf_topo *t);
tf_host *tf_topo_router(const tf_topo *t);        /* NULL for a pair */
const char *tf_topo_client_addr(const tf_topo *t);
const char *tf_topo_server_addr(const tf_topo *t);
/* The server as a host route, "198.18.2.2/32": what a blackhole covers.
 * (The /24 is taken by the connected route; a /32 is more specific, so it
 * wins the lookup and its removal restores forwarding exactly.) */
const char *tf_topo_server_cidr(const tf_topo *t);
/*
 * Addresses by node and family (AF_INET or AF_INET6), the one API; NULL
 * for an unknown family or node, or a router of a pair.  The router has
 * one address on each link: the client's gateway (TF_NODE_ROUTER_CLIENT)
 * and the server's (TF_NODE_ROUTER_SERVER).
 */
typedef enum tf_topo_node {
	TF_NODE_CLIENT,
	TF_NODE_SERVER,
	TF_NODE_ROUTER_CLIENT,   /* router, eth0, on the client's link */
	TF_NODE_ROUTER_SERVER,   /* router, eth1, on the server's link */
} tf_topo_node;
typedef enum tf_topo_side { TF_SIDE_CLIENT, TF_SIDE_SERVER } tf_topo_side;
const char *tf_topo_addr(const tf_topo *t, tf_topo_node n, int family);
/* The node as a host route (/32, /128): what a blackhole covers. */
const char *tf_topo_cidr(const tf_topo *t, tf_topo_node n, int family);
/* Shorthands. */
const char *tf_topo_client_addr6(const tf_topo *t);
const char *tf_topo_server_addr6(const tf_topo *t);
const char *tf_topo_server_cidr6(const tf_topo *t);     /* "2001:2:0:2::2/128" */
/* The router's address on the client's or the server's link (issue 12). */
const char *tf_topo_router_addr(const tf_topo *t, tf_topo_side side);
const char *tf_topo_router_addr6(const tf_topo *t, tf_topo_side side);

/* The link names: the client's and server's interface, and the router's
 * interfaces toward each (NULL for a pair). */
#define TF_IF_CLIENT "eth0"
#define TF_IF_SERVER "eth0"
#define TF_IF_ROUTER_CLIENT "eth0"
#define TF_IF_ROUTER_SERVER "eth1"

#ifdef __cplusplus
}
#endif
