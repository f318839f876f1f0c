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
 * Topology: client — router — server, an established connection.
 * Fault:    a blackhole route at the router (silent drop, no ICMP).
 * Expect:   the model's schedule (TLP, an RTO not backed off, doubling),
 *           ETIMEDOUT at the first RTO past the tcp_retries2 budget, no FIN
 *           or RST, ESTABLISHED at every retransmission, then gone.
 */
#include "tf_test.h"

#define PORT 12345

static void lost_peer(long retries2)
{
	_cleanup_(tf_topo_freep) tf_topo *t = tf_case_topo(TF_TOPO_PATH);
	_cleanup_(tf_fault_freep) tf_fault *blackhole = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	static const char msg[] = "is anyone there?\n";   /* the seed's 17 bytes */
	tf_host *client = tf_topo_client(t);
	tf_run run;

	tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_retries2", retries2));
	tf_must(tf_tcp_pair(client, tf_topo_server(t), tf_topo_server_addr(t), PORT, &cfd, &sfd));
	tf_capture *cap = tf_case_capture(client, TF_IF_CLIENT, "tcp port 12345", "client");

	tf_must(tf_fault_blackhole(tf_topo_router(t), tf_topo_server_cidr(t), &blackhole));

	/* The model starts from this socket's own RTT estimate. */
	m = tf_case_model_sock(client, cfd);
	tf_case_check_rto(m, cfd);
	tf_must(tf_model_retrans(m, &s));

	const tf_sched_event *end = tf_schedule_event(s, tf_schedule_giveup(s));
	tf_must(tf_run_send(client, cfd, cap, msg, sizeof msg - 1, (int)(end->at_hi_us / 1000) + 3000,
	                    &run));

	tf_check_schedule("retrans", s, run.tx_ns, run.n_tx, run.err_ns);
	tf_expect_errno("socket error", run.err, tf_schedule_errno(s));
	tf_expect_int("FIN or RST on the wire", run.fin_rst, 0);
	tf_expect_int("socket after give-up (sock_diag, -ENOENT = gone)", run.state_after, -ENOENT);
}

TF_CASE(lost_peer_retries2_3, .timeout_s = 30,
        .proves = "seed 000: exponential backoff, then Linux gives up per tcp_retries2 (3)")
{
	lost_peer(3);
}

TF_CASE(lost_peer_retries2_5, .timeout_s = 40,
        .proves = "seed 004: tcp_retries2=5 reports failure after a little under 13 s")
{
	lost_peer(5);
}
