/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * connect() to a silently dropping peer.
 *
 * Seed 003, "The Silent Drop": "Your SYN packet leaves. Nothing comes back.
 * No RST. No ICMP unreachable."  How long connect() hangs is
 * tcp_syn_retries (or TCP_SYNCNT) SYN retransmissions, 1 s apart and then
 * doubling — and since Linux 6.5 the first tcp_syn_linear_timeouts of them
 * stay 1 s apart: the default gives up after 127 s on older kernels and
 * 131 s on newer ones.
 *
 * Topology: client — router — server (the fixture), over IPv4 and IPv6
 * (every case has the variants <case>_ipv4 and <case>_ipv6).  Fault:
 * blackhole at the router for the server's /32 or /128.  Expect: every SYN
 * where the model puts it, ETIMEDOUT from connect().
 *
 * One rule for both families: tcp_v6_connect() ends in the same
 * tcp_connect() (net/ipv4/tcp_output.c: the SYN and its TCP_TIMEOUT_INIT
 * timer), and the SYN_SENT retransmissions and give-up are
 * tcp_retransmit_timer() / tcp_write_timeout() (net/ipv4/tcp_timer.c),
 * which read icsk_syn_retries (TCP_SYNCNT) or net.ipv4.tcp_syn_retries and
 * net.ipv4.tcp_syn_linear_timeouts whatever the family.  tcp_v6_err() only
 * changes SYN_SENT on an ICMPv6 error, and a blackhole sends none.
 */
#include "tf_test.h"

#define PORT 12346

struct syn_knobs {
	long syn_retries;       /* net.ipv4.tcp_syn_retries, 0 = leave */
	long syncnt;            /* TCP_SYNCNT on the socket, 0 = unset */
	long linear;            /* tcp_syn_linear_timeouts: -1 leave, >= 0 set (SKIP if absent) */
	bool need_linear;       /* the case is about the linear rule: SKIP without it */
};

TF_FIXTURE_PATH(sy)

static void syn(struct sy_fixture *self, const struct syn_knobs *k)
{
	_cleanup_(tf_fault_freep) tf_fault *blackhole = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	_cleanup_close_ int fd = -1;
	tf_topo *t = self->t;
	tf_host *client = self->client;
	bool has_linear = tf_host_sysctl_exists(client, "net.ipv4.tcp_syn_linear_timeouts");
	tf_run run;

	if (k->need_linear && !has_linear)
		TF_SKIP("kernel has no net.ipv4.tcp_syn_linear_timeouts (Linux 6.5+)");
	tf_diag("syn_linear_timeouts_rule", "%s", has_linear ? "present (probed)" : "absent (probed)");
	if (k->syn_retries)
		tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_syn_retries", k->syn_retries));
	if (k->linear >= 0 && has_linear)
		tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_syn_linear_timeouts", k->linear));
	tf_must(tf_tcp_socket_af(client, self->family, &fd));
	if (k->syncnt)
		tf_must(tf_sock_set_int(fd, IPPROTO_TCP, TCP_SYNCNT, (int)k->syncnt));
	tf_capture *cap = tf_case_capture(client, TF_IF_CLIENT, "tcp port 12346", "client");

	tf_must(tf_fault_blackhole(self->router, tf_topo_cidr(t, TF_NODE_SERVER, self->family),
	                           &blackhole));
	tf_diag("fault", "%s", tf_fault_describe(blackhole));

	m = tf_case_model(client);     /* reads tcp_syn_retries and the linear rule */
	if (k->syncnt)
		tf_must(tf_model_set_syn_retries(m, (unsigned)k->syncnt));
	tf_must(tf_model_syn(m, &s));

	const tf_sched_event *end = tf_schedule_event(s, tf_schedule_giveup(s));
	tf_diag("model_giveup_s", "%.3f", (double)end->at_us / 1e6);
	tf_must(tf_run_connect(client, fd, tf_topo_addr(t, TF_NODE_SERVER, self->family), PORT, cap,
	                       (int)(end->at_hi_us / 1000) + 3000, &run));

	tf_expect_int("connection is IPv6 (1) or IPv4 (0)", tf_flow_is_v6(&run.flow),
	              self->family == AF_INET6);
	tf_check_schedule("syn", s, run.tx_ns, run.n_tx, run.err_ns);
	tf_expect_errno("connect() error", run.err, tf_schedule_errno(s));
	tf_expect_int("RST on the wire", run.fin_rst, 0);
}

TF_CASE_F(sy, syn_retries_linear, .timeout_s = 40,
          .proves = "seed 003: silent SYN drop, tcp_syn_retries=2 plus the 4 linear 1 s timeouts (6.5+)")
{
	(void)variant;
	syn(self, &(struct syn_knobs){ .syn_retries = 2, .linear = 4, .need_linear = true });
}

TF_CASE_F(sy, syn_retries_exponential, .timeout_s = 40,
          .proves = "seed 003: silent SYN drop, tcp_syn_retries=3 with purely exponential backoff")
{
	(void)variant;
	syn(self, &(struct syn_knobs){ .syn_retries = 3, .linear = 0 });
}

TF_CASE_F(sy, syncnt_linear, .timeout_s = 40,
          .proves = "TCP_SYNCNT=1 overrides tcp_syn_retries; the linear timeouts still apply (6.5+)")
{
	(void)variant;
	syn(self, &(struct syn_knobs){ .syncnt = 1, .linear = 4, .need_linear = true });
}

TF_CASE_F(sy, syncnt_exponential, .timeout_s = 40,
          .proves = "TCP_SYNCNT=2 overrides tcp_syn_retries under the exponential rule")
{
	(void)variant;
	syn(self, &(struct syn_knobs){ .syncnt = 2, .linear = 0 });
}

TF_CASE_F(sy, syn_default, .slow = true, .timeout_s = 200,
          .proves = "the default tcp_syn_retries=6: 127 s without linear timeouts, 131 s with the default 4")
{
	(void)variant;
	syn(self, &(struct syn_knobs){ .linear = -1 });
}
