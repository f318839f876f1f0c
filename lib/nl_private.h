/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal: libnl glue shared by topo.c and fault.c (not installed). */
#pragma once

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "tf_sandbox.h"

/* libnl returns its own NLE_* codes; the library promises -errno. */
int tf_nlerr(int nlerr);
/* Look a link up by name in host h: ifindex (> 0) or -errno. */
int tf_link_index(tf_host *h, const char *ifname);
/* Parse "default" or an IPv4 CIDR/address into an nl_addr. */
int tf_nl_addr(const char *s, struct nl_addr **ret);
