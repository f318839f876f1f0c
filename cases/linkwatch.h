/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * linkwatch.h — wait until a host's kernel has processed a carrier change.
 *
 * A link set down or up (tf_fault_link_down(), its heal) changes the
 * carrier of both veth ends at once, but what follows from it — the
 * neighbour entries flushed (neigh_carrier_down() from the NETDEV_CHANGE
 * notifier), the qdisc activated or deactivated (dev_activate(),
 * dev_deactivate()) — is done by linkwatch, in a kworker
 * (linkwatch_event(), net/core/link_watch.c): under load hundreds of ms
 * later.  linkwatch_do_dev() ends with netdev_state_change(), which calls
 * the notifiers and then announces the new operstate (RTM_NEWLINK).  A
 * case that needs the change complete subscribes before it and waits for
 * that message: an event, not a guess of how long the kworker takes.
 */
#pragma once

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "tf_test.h"

#define CASE_OPER_UP 6   /* IF_OPER_UP, include/uapi/linux/if.h */

typedef struct case_linkwatch {
	int fd;
	int ifindex;
	tf_host *h;
} case_linkwatch;

/* Subscribe to h's link announcements for ifname (before the change). */
static inline void case_linkwatch_open(case_linkwatch *w, tf_host *h, const char *ifname)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };

	w->h = h;
	w->fd = tf_host_socket(h, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	tf_must(w->fd);
	w->ifindex = tf_link_ifindex(h, ifname);
	tf_must(w->ifindex);
	if (bind(w->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		tf_fail("bind(RTMGRP_LINK): %s", strerror(errno));
}

/*
 * Wait for the RTM_NEWLINK of the link with operstate UP (up) or anything
 * else (!up); the socket is closed.  Returns the CLOCK_MONOTONIC ns at
 * which this process saw it (the kernel's moment is earlier).
 */
static inline int64_t case_linkwatch_wait(case_linkwatch *w, bool up, int timeout_ms)
{
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };
		int64_t left = deadline - tf_mono_ns();

		if (left <= 0)
			tf_fail("no RTM_NEWLINK with the link %s (linkwatch) within %d ms",
			        up ? "up" : "down", timeout_ms);
		if (poll(&p, 1, (int)(left / 1000000) + 1) <= 0)
			continue;
		ssize_t n = recv(w->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			tf_fail("netlink recv: %s", strerror(errno));
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type != RTM_NEWLINK)
				continue;
			struct ifinfomsg *ifi = NLMSG_DATA(nh);
			if (ifi->ifi_index != w->ifindex)
				continue;
			int len = (int)IFLA_PAYLOAD(nh);
			for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == IFLA_OPERSTATE &&
				    (*(uint8_t *)RTA_DATA(a) == CASE_OPER_UP) == up) {
					close(w->fd);
					w->fd = -1;
					return tf_mono_ns();
				}
		}
	}
}
