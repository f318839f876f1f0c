/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The retransmission family: every knob the kernel offers over how long an
 * established connection retransmits to a silent peer before giving up.
 *
 * Seed 004 ("TCP retransmissions"): "TCP will effectively time out at the
 * first RTO which exceeds the hypothetical timeout" — for tcp_retries2, for
 * TCP_RTO_MAX_MS / tcp_rto_max_ms (6.15+), for a lowered RTO floor.
 * Seed 002: "if the connection is busy, the socket will continue trying to
 * send data until it reaches the limit set in TCP_USER_TIMEOUT".
 *
 * Topology: client — router — server, established (the fixture), over IPv4
 * and IPv6 (every case has the variants <case>_ipv4 and <case>_ipv6).
 * Fault: blackhole at the router for the server's /32 or /128.  Expect:
 * every transmission and the give-up where the model puts them, ETIMEDOUT,
 * no FIN/RST, the socket gone.
 *
 * One rule for both families: tcp_ipv6.c shares the retransmission timer
 * and its give-up (tcp_retransmit_timer(), tcp_write_timeout(),
 * tcp_clamp_rto_to_user_timeout() in net/ipv4/tcp_timer.c); the knobs are
 * the net.ipv4.tcp_* sysctls for both (struct netns_ipv4); the RTO floor
 * is tcp_rto_min() of the socket's dst whatever its family (an IPv6
 * route's locked RTAX_RTO_MIN metric counts as an IPv4 one does).  No
 * ICMPv6 reaches the client through a blackhole, so tcp_v6_err() has
 * nothing to revert.
 */
#include "tf_test.h"
#include "check_replay.h"

#define PORT 12345

struct knobs {
	long retries2;          /* net.ipv4.tcp_retries2 in the client host */
	long user_timeout_ms;   /* TCP_USER_TIMEOUT, 0 = unset */
	long rto_max_opt_ms;    /* TCP_RTO_MAX_MS socket option, 0 = unset */
	long rto_max_sysctl_ms; /* net.ipv4.tcp_rto_max_ms, 0 = unset */
	long rto_min_sysctl_us; /* net.ipv4.tcp_rto_min_us, 0 = unset */
	long route_rto_min_ms;  /* rto_min metric on the client's route, 0 = unset */
};

static void need_sysctl(tf_host *h, const char *key, const char *since)
{
	if (!tf_host_sysctl_exists(h, key))
		TF_SKIP("kernel has no %s (%s)", key, since);
}

TF_FIXTURE_PATH(rx)

static void retrans(struct rx_fixture *self, const struct knobs *k)
{
	_cleanup_(tf_fault_freep) tf_fault *blackhole = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	tf_topo *t = self->t;
	tf_host *client = self->client;
	tf_run run;

	/* Knobs that shape the RTT estimate go in before the connection. */
	tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_retries2", k->retries2));
	if (k->rto_min_sysctl_us) {
		need_sysctl(client, "net.ipv4.tcp_rto_min_us", "Linux 6.11+");
		tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_rto_min_us", k->rto_min_sysctl_us));
	}
	if (k->rto_max_sysctl_ms) {
		need_sysctl(client, "net.ipv4.tcp_rto_max_ms", "Linux 6.15+");
		tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_rto_max_ms", k->rto_max_sysctl_ms));
	}
	/* The client's default route of the family, via the router's address
	 * on its link: "default" is ::/0 beside an IPv6 gateway. */
	if (k->route_rto_min_ms)
		tf_must(tf_route_set_rto_min(client, "default",
		                             tf_topo_addr(t, TF_NODE_ROUTER_CLIENT, self->family),
		                             TF_IF_CLIENT, (uint32_t)k->route_rto_min_ms));
	tf_must(tf_tcp_pair(client, self->server, tf_topo_addr(t, TF_NODE_SERVER, self->family), PORT,
	                    &cfd, &sfd));
	if (k->rto_max_opt_ms) {
		if (tf_probe_tcp_sockopt(client, IPPROTO_TCP, TCP_RTO_MAX_MS, (int)k->rto_max_opt_ms) != 1)
			TF_SKIP("kernel does not accept TCP_RTO_MAX_MS (Linux 6.15+)");
		tf_must(tf_sock_set_int(cfd, IPPROTO_TCP, TCP_RTO_MAX_MS, (int)k->rto_max_opt_ms));
	}
	if (k->user_timeout_ms)
		tf_must(tf_sock_set_int(cfd, IPPROTO_TCP, TCP_USER_TIMEOUT, (int)k->user_timeout_ms));
	tf_capture *cap = tf_case_capture(client, TF_IF_CLIENT, "tcp port 12345", "client");

	tf_must(tf_fault_blackhole(self->router, tf_topo_cidr(t, TF_NODE_SERVER, self->family),
	                           &blackhole));
	tf_diag("fault", "%s", tf_fault_describe(blackhole));

	m = tf_case_model_sock(client, cfd);  /* host sysctls + the socket's RTT and options */
	if (k->route_rto_min_ms)               /* the route's metric wins over the sysctl: tcp_rto_min() */
		tf_must(tf_model_set_rto_min_us(m, (uint32_t)k->route_rto_min_ms * 1000));
	tf_case_check_rto(m, cfd);
	tf_must(tf_model_retrans(m, &s));

	const tf_sched_event *end = tf_schedule_event(s, tf_schedule_giveup(s));
	tf_must(tf_run_send(client, cfd, cap, "x", 1, (int)(end->at_hi_us / 1000) + 3000, &run));

	tf_expect_int("connection is IPv6 (1) or IPv4 (0)", tf_flow_is_v6(&run.flow),
	              self->family == AF_INET6);
	tf_case_set_giveup_budget(m);
	tf_check_schedule("retrans", s, run.tx_ns, run.n_tx, run.err_ns);
	/* TCP_USER_TIMEOUT counts from retrans_stamp, the first RTO
	 * retransmission (tcp_retransmit_skb()); the clamped timer
	 * (tcp_clamp_rto_to_user_timeout(), net/ipv4/tcp_timer.c) fires after
	 * the deadline by at most msecs_to_jiffies()' rounding (1 jiffy) plus
	 * the timer wheel's rounding of that last timer (from the model). */
	size_t first_rto = 0;
	for (size_t i = 0; i < tf_schedule_count(s); i++)
		if (tf_schedule_event(s, i)->kind == TF_TX_RTO) {
			first_rto = i;
			break;
		}
	if (k->user_timeout_ms && first_rto && first_rto < run.n_tx && run.err_ns >= 0) {
		int64_t ut = k->user_timeout_ms * 1000, j = 1000000 / tf_case_hz();
		int64_t wheel = end->gap_hi_us - (int64_t)end->timer_jiffies * j;
		/* the abort sends nothing: its moment is when the application
		 * woke on the error (application side, with the measured
		 * wake-up allowance); the gaps above are the kernel side */
		tf_expect_app_after_timers("error after the first RTO retransmission (TCP_USER_TIMEOUT)",
		                           (run.err_ns - run.tx_ns[first_rto]) / 1000, ut + (j + wheel) / 2,
		                           ut, ut + j + wheel, 1);
	}
	tf_expect_errno("socket error", run.err, tf_schedule_errno(s));
	tf_expect_int("FIN or RST on the wire", run.fin_rst, 0);
	tf_expect_int("socket after give-up (sock_diag, -ENOENT = gone)", run.state_after, -ENOENT);
}

TF_CASE_F(rx, retries2_4, .timeout_s = 30, .proves = "seed 004: give-up at the first RTO past tcp_model_timeout(4)")
{
	(void)variant;
	retrans(self, &(struct knobs){ .retries2 = 4 });
}

TF_CASE_F(rx, retries2_6, .timeout_s = 60, .proves = "seed 004: give-up at the first RTO past tcp_model_timeout(6)")
{
	(void)variant;
	retrans(self, &(struct knobs){ .retries2 = 6 });
}

TF_CASE_F(rx, retries2_8, .slow = true, .timeout_s = 200,
          .proves = "seed 004: RFC 1122's >= 100 s, 8 retransmissions (tcp_retries2=8)")
{
	(void)variant;
	retrans(self, &(struct knobs){ .retries2 = 8 });
}

TF_CASE_F(rx, retries2_15_default, .slow = true, .timeout_s = 1200,
          .proves = "seed 003/004: the default tcp_retries2=15 hangs for 924.6 s and more")
{
	(void)variant;
	retrans(self, &(struct knobs){ .retries2 = 15 });
}

TF_CASE_F(rx, user_timeout_shorter, .timeout_s = 30,
          .proves = "seed 002: TCP_USER_TIMEOUT shorter than the tcp_retries2 budget ends it early")
{
	(void)variant;
	retrans(self, &(struct knobs){ .retries2 = 15, .user_timeout_ms = 3000 });
}

TF_CASE_F(rx, user_timeout_longer, .timeout_s = 30,
          .proves = "seed 002: TCP_USER_TIMEOUT longer than the tcp_retries2 budget extends it")
{
	(void)variant;
	retrans(self, &(struct knobs){ .retries2 = 3, .user_timeout_ms = 6000 });
}

TF_CASE_F(rx, rto_max_ms_sockopt, .timeout_s = 40,
          .proves = "seed 004, Linux >= 6.15: TCP_RTO_MAX_MS=1000 with tcp_retries2=15 gives up in about 14.4 s")
{
	(void)variant;
	retrans(self, &(struct knobs){ .retries2 = 15, .rto_max_opt_ms = 1000 });
}

TF_CASE_F(rx, rto_max_ms_sysctl, .timeout_s = 40,
          .proves = "seed 004, Linux >= 6.15: net.ipv4.tcp_rto_max_ms=1000 does the same for every socket")
{
	(void)variant;
	retrans(self, &(struct knobs){ .retries2 = 15, .rto_max_sysctl_ms = 1000 });
}

TF_CASE_F(rx, rto_min_us_sysctl, .timeout_s = 40,
          .proves = "seed 003: the RTO 'starts around 200ms' — unless tcp_rto_min_us lowers the floor")
{
	(void)variant;
	retrans(self, &(struct knobs){ .retries2 = 5, .rto_min_sysctl_us = 50000 });
}

TF_CASE_F(rx, rto_min_route, .timeout_s = 40,
          .proves = "seed 003: a route's rto_min metric lowers the RTO floor for its destinations")
{
	(void)variant;
	retrans(self, &(struct knobs){ .retries2 = 5, .route_rto_min_ms = 50 });
}
