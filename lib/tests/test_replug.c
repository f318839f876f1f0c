/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A cable pulled and put back (tf_fault_link_down(), tf_fault_heal()) gives
 * the link back as it was: the heal succeeds, and the router, whose static
 * link-local address the link down deleted (addrconf_ifdown() keeps no
 * link-local), can solicit its neighbours again — a new IPv6 connection
 * through it is set up.  The same for a host whose link-local address the
 * kernel makes from the MAC (the pair's server).  Before the fix the
 * router's heal waited 20 s for fe80::1 and failed with -ETIMEDOUT.
 *
 * Needs a sandbox: SKIP without one.  Plain TAP, no cmocka.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "tf_fault.h"
#include "tf_sandbox.h"
#include "tf_sock.h"
#include "tf_topo.h"

static int n_test, failed;

static void check(bool ok, const char *what, long got, long want)
{
	printf("%s %d - %s: %ld (want %ld)\n", ok ? "ok" : "not ok", ++n_test, what, got, want);
	failed += !ok;
}

/* Pull host h's link ifname, put it back, connect client -> server over
 * both families through whatever is between. */
static void replug(tf_topo *t, tf_host *h, const char *ifname, const char *name, uint16_t port)
{
	tf_fault *f = NULL;
	char what[128];
	int r;

	r = tf_fault_link_down(h, ifname, &f);
	snprintf(what, sizeof what, "%s: link down", name);
	check(r == 0, what, r, 0);
	if (r < 0)
		return;
	r = tf_fault_heal(f);
	snprintf(what, sizeof what, "%s: heal (link up, its addresses usable)", name);
	check(r == 0, what, r, 0);
	tf_fault_free(f);
	for (int af = AF_INET; af <= AF_INET6; af += AF_INET6 - AF_INET) {
		int cfd = -1, sfd = -1;

		r = tf_tcp_pair(tf_topo_client(t), tf_topo_server(t),
		                tf_topo_addr(t, TF_NODE_SERVER, af), port++, &cfd, &sfd);
		snprintf(what, sizeof what, "%s: a new %s connection after the replug", name,
		         af == AF_INET6 ? "IPv6" : "IPv4");
		check(r == 0, what, r, 0);
		if (cfd >= 0)
			close(cfd);
		if (sfd >= 0)
			close(sfd);
	}
}

int main(void)
{
	tf_topo *t = NULL;
	char why[256] = "";
	int r;

	printf("TAP version 13\n");
	r = tf_topo_new(TF_TOPO_PATH, &t);
	if (r < 0) {
		tf_sandbox_explain(r, why, sizeof(why));
		printf("1..0 # SKIP no sandbox: %s (%s)\n", strerror(-r), why);
		return 0;
	}
	replug(t, tf_topo_router(t), TF_IF_ROUTER_CLIENT, "path, the router's client link", 5201);
	replug(t, tf_topo_server(t), TF_IF_SERVER, "path, the server's link", 5211);
	tf_topo_free(t);
	t = NULL;
	r = tf_topo_new(TF_TOPO_PAIR, &t);
	check(r == 0, "pair topology", r, 0);
	if (r == 0)
		replug(t, tf_topo_server(t), TF_IF_SERVER, "pair, the server's link", 5221);
	tf_topo_free(t);
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
