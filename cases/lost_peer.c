/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seed 000, "What does Linux do with a lost TCP connection?"
 *
 * "Now send some bytes from the client connection ... we can see the OS
 *  repeatedly trying to send these bytes ... this is exponential backoff ...
 *  The number of retries is configurable as tcp_retries2 ... When Linux
 *  gives up, the connection goes directly from ESTABLISHED to disappearing
 *  entirely."
 *
 * Topology: client — router — server (the fixture), over IPv4 and IPv6
 *           (variants: lost_peer_retries2_N_ipv4 / _ipv6).
 * Fault:    a blackhole route at the router for the server's /32 or /128
 *           (silent drop, no ICMP or ICMPv6).
 * Expect:   the model's schedule (TLP, an RTO not backed off, doubling),
 *           ETIMEDOUT at the first RTO past the tcp_retries2 budget, no FIN
 *           or RST, ESTABLISHED at every retransmission, then gone.  The
 *           give-up is by time: the count of transmissions is the kernel's
 *           rule replayed on the measured stamps (check_replay.h), the
 *           model's ideal-clock count beside it.
 *
 * The same rule for both families: the retransmission timer
 * (tcp_retransmit_timer(), tcp_write_timeout() in net/ipv4/tcp_timer.c) is
 * shared by tcp_ipv6.c, and net.ipv4.tcp_retries2 governs both; a silent
 * path sends no ICMPv6 for tcp_v6_err() to act on.
 */
#include "tf_test.h"
#include "check_replay.h"

#define PORT 12345

TF_FIXTURE_PATH(lost)

/* rto_min_us > 0: the client's tcp_rto_min_us (6.11+), before the connection */
static void lost_peer(struct lost_fixture *self, long retries2, long rto_min_us)
{
	_cleanup_(tf_fault_freep) tf_fault *blackhole = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	static const char msg[] = "is anyone there?\n";   /* the seed's 17 bytes */
	tf_run run;

	tf_must(tf_host_sysctl_set_int(self->client, "net.ipv4.tcp_retries2", retries2));
	if (rto_min_us > 0) {
		if (!tf_host_sysctl_exists(self->client, "net.ipv4.tcp_rto_min_us"))
			TF_SKIP("kernel has no net.ipv4.tcp_rto_min_us (Linux 6.11+)");
		tf_must(tf_host_sysctl_set_int(self->client, "net.ipv4.tcp_rto_min_us", rto_min_us));
	}
	tf_must(tf_tcp_pair(self->client, self->server,
	                    tf_topo_addr(self->t, TF_NODE_SERVER, self->family), PORT, &cfd, &sfd));
	tf_capture *cap = tf_case_capture(self->client, TF_IF_CLIENT, "tcp port 12345", "client");

	tf_must(tf_fault_blackhole(self->router, tf_topo_cidr(self->t, TF_NODE_SERVER, self->family),
	                           &blackhole));
	tf_diag("fault", "%s", tf_fault_describe(blackhole));

	/* The model starts from this socket's own RTT estimate. */
	m = tf_case_model_sock(self->client, cfd);
	tf_case_check_rto(m, cfd);
	tf_must(tf_model_retrans(m, &s));
	/* the give-up is by time (retransmits_timed_out()): the count is the
	 * kernel's rule on the measured stamps with this budget (issue 10) */
	tf_case_set_giveup_budget(m);

	const tf_sched_event *end = tf_schedule_event(s, tf_schedule_giveup(s));
	tf_must(tf_run_send(self->client, cfd, cap, msg, sizeof msg - 1,
	                    (int)(end->at_hi_us / 1000) + 3000, &run));

	tf_expect_int("connection is IPv6 (1) or IPv4 (0)", tf_flow_is_v6(&run.flow),
	              self->family == AF_INET6);
	tf_check_schedule("retrans", s, run.tx_ns, run.n_tx, run.err_ns);
	tf_expect_errno("socket error", run.err, tf_schedule_errno(s));
	tf_expect_int("FIN or RST on the wire", run.fin_rst, 0);
	tf_expect_int("socket after give-up (sock_diag, -ENOENT = gone)", run.state_after, -ENOENT);
}

TF_CASE_F(lost, lost_peer_retries2_3, .timeout_s = 30,
          .proves = "seed 000: exponential backoff, then Linux gives up per tcp_retries2 (3)")
{
	(void)variant;
	lost_peer(self, 3, 0);
}

TF_CASE_F(lost, lost_peer_retries2_5, .timeout_s = 40,
          .proves = "seed 004: tcp_retries2=5 reports failure after a little under 13 s")
{
	(void)variant;
	lost_peer(self, 5, 0);
}

/*
 * The give-up on the budget's edge (issue 10): tcp_rto_min_us 204000 (a
 * whole 51 jiffies) gives an RTO of 52 jiffies with a veth RTT, so the
 * 4th RTO expiry comes 14 x 52 = 728 jiffies after the first plus the
 * timer wheel's rounding of three level-1 timers: 2924..3008 ms, across
 * the 3000 ms of tcp_model_timeout(3, TCP_RTO_MIN) (TCP_RTO_MIN, not the
 * socket's rto_min).  The kernel gives up at the 4th or at the 5th
 * expiry, as the wheel falls; the model's ideal clock names one.  The
 * count is the rule replayed on the measured stamps.
 */
TF_CASE_F(lost, lost_peer_retries2_3_budget_edge, .timeout_s = 30,
          .proves = "seed 000: Linux gives up by time, not by count: at the budget's edge the count follows the timers")
{
	(void)variant;
	lost_peer(self, 3, 204000);
}
