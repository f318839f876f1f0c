/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_tcp_diag_find(): one socket's whole sock_diag record, both families —
 * an established socket, then the same 4-tuple in TIME-WAIT with its timer
 * (3) and the ms left (at most TCP_TIMEWAIT_LEN), and -ENOENT for a flow
 * the host does not have.
 *
 * Needs a sandbox (a user namespace when unprivileged): SKIP without one.
 * Plain TAP, no cmocka: cmocka 1.1.5 prints skips as "not ok".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "tf_sandbox.h"
#include "tf_sock.h"
#include "tf_topo.h"

static int n_test, failed;

static void check(bool ok, const char *fmt, long a, long b)
{
	char what[256];

	snprintf(what, sizeof what, fmt, a, b);
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++n_test, what);
	failed += !ok;
}

/* The client's socket after it closed first: TIME-WAIT once the server's
 * FIN is in (sock_diag has no event for it: sampled every ms, up to 5 s). */
static int wait_state(tf_host *h, const tf_flow *f, int state, tf_tcp_sock *s)
{
	for (int i = 0; i < 5000; i++) {
		struct timespec ms = { 0, 1000000 };
		int r = tf_tcp_diag_find(h, f, s);

		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && s->state == state)
			return 0;
		nanosleep(&ms, NULL);
	}
	return -ETIME;
}

static void family(tf_topo *t, int af, uint16_t port)
{
	tf_host *c = tf_topo_client(t), *sv = tf_topo_server(t);
	const char *addr = tf_topo_addr(t, TF_NODE_SERVER, af);
	const char *name = af == AF_INET6 ? "ipv6" : "ipv4";
	int cfd = -1, sfd = -1, r;
	tf_tcp_sock s;
	tf_flow f, none;
	char buf[16];

	r = tf_tcp_pair(c, sv, addr, port, &cfd, &sfd);
	check(r == 0, "tcp pair: %ld (want %ld)", r, 0);
	if (r < 0)
		return;
	tf_sock_flow(cfd, &f);
	r = tf_tcp_diag_find(c, &f, &s);
	check(r == 0 && s.state == TCP_ESTABLISHED, "established socket found: %ld, state %ld", r,
	      r == 0 ? s.state : -1);
	check(r == 0 && s.flow.family == f.family && s.flow.sport == f.sport && s.flow.dport == f.dport,
	      "its flow, family %ld (want %ld)", s.flow.family, f.family);
	/* each dump lists the socket only under its own family (libnl's
	 * compat request is answered for every family: inet_diag_dump_compat) */
	for (int lf = AF_INET; lf <= AF_INET6; lf += AF_INET6 - AF_INET) {
		tf_tcp_sock all[64];
		size_t n = 0, mine = 0;

		r = lf == AF_INET ? tf_tcp_diag_list(c, ~0u, all, 64, &n)
		                  : tf_tcp_diag_list_af(c, lf, ~0u, all, 64, &n);
		for (size_t i = 0; r == 0 && i < n && i < 64; i++)
			mine += all[i].flow.sport == f.sport;
		check(r == 0 && mine == (lf == af), "listed in the family-%ld dump: %ld times", lf, (long)mine);
	}
	printf("# %s\n", name);
	close(cfd);
	struct pollfd p = { .fd = sfd, .events = POLLIN };
	r = poll(&p, 1, 5000) == 1 && recv(sfd, buf, sizeof buf, 0) == 0 ? 0 : -EIO;
	check(r == 0, "server reads EOF: %ld (want %ld)", r, 0);
	close(sfd);
	r = wait_state(c, &f, TCP_TIME_WAIT, &s);
	check(r == 0, "client's socket in TIME_WAIT: %ld (want %ld)", r, 0);
	check(r == 0 && s.timer == 3, "its timer: %ld (want %ld, TIME_WAIT)", s.timer, 3);
	check(r == 0 && s.expires_ms > 50000 && s.expires_ms <= 60000,
	      "ms left %ld, in (50000, %ld] (TCP_TIMEWAIT_LEN)", s.expires_ms, 60000);
	none = f;
	none.dport++;
	r = tf_tcp_diag_find(c, &none, &s);
	check(r == -ENOENT, "a flow the host does not have: %ld (want %ld)", r, -ENOENT);
}

int main(void)
{
	tf_topo *t = NULL;
	char why[256] = "";
	int r;

	printf("TAP version 13\n");
	r = tf_topo_new(TF_TOPO_PAIR, &t);
	if (r < 0) {
		tf_sandbox_explain(r, why, sizeof(why));
		printf("1..0 # SKIP no sandbox: %s (%s)\n", strerror(-r), why);
		return 0;
	}
	family(t, AF_INET, 5101);
	family(t, AF_INET6, 5102);
	check(tf_tcp_diag_find(NULL, NULL, NULL) == -EINVAL, "NULL arguments: %ld (want %ld)",
	      tf_tcp_diag_find(NULL, NULL, NULL), -EINVAL);
	printf("1..%d\n", n_test);
	tf_topo_free(t);
	return failed ? 1 : 0;
}
