/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_topo.h — links, addresses and routes between hosts, through
 * libnl-route-3 (no ip/tc subprocesses), and two ready shapes.
 *
 *   pair:  client 198.18.0.1/24 eth0 ──── eth0 198.18.0.2/24 server
 *   path:  client 198.18.1.2/24 eth0 ── eth0 198.18.1.1 router 198.18.2.1 eth1 ── eth0 198.18.2.2/24 server
 *
 * 198.18.0.0/15 is the range reserved for benchmarking networks (RFC 2544):
 * it never leaves the sandbox.  Every link is up when a call returns.
 * Returns 0 or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "tf_sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A veth pair with one end in each host, both ends up. */
int tf_veth_add(tf_host *a, const char *ifname_a, tf_host *b, const char *ifname_b);
int tf_addr_add(tf_host *h, const char *ifname, const char *cidr);
/* dst: "default" or a CIDR; via: gateway or NULL for an on-link route;
 * ifname: may be NULL when via is given. */
int tf_route_add(tf_host *h, const char *dst, const char *via, const char *ifname);
/* Replace the route to dst with one carrying the rto_min metric (ms), as
 * `ip route replace ... rto_min Nms` does (RTAX_RTO_MIN). */
int tf_route_set_rto_min(tf_host *h, const char *dst, const char *via, const char *ifname,
                         uint32_t rto_min_ms);
int tf_link_set_up(tf_host *h, const char *ifname, bool up);
int tf_link_set_mtu(tf_host *h, const char *ifname, unsigned mtu);
int tf_link_get_mtu(tf_host *h, const char *ifname, unsigned *mtu);
/* ifindex (> 0) or -errno. */
int tf_link_ifindex(tf_host *h, const char *ifname);

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
/* The link names: the client's and server's interface, and the router's
 * interfaces toward each (NULL for a pair). */
#define TF_IF_CLIENT "eth0"
#define TF_IF_SERVER "eth0"
#define TF_IF_ROUTER_CLIENT "eth0"
#define TF_IF_ROUTER_SERVER "eth1"

#ifdef __cplusplus
}
#endif
