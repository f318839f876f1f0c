/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rules that differ between kernels, left at the kernel's defaults: the
 * model computes the expectation from the rule it finds (a probe, never a
 * version string), the case asserts it and reports the numbers under
 * key_numbers, so the kernel matrix (ci/vm/matrix) shows the difference
 * as a measured, asserted one.
 *
 * syn_kernel_default_rule — seed 003's "127 s vs 131 s": how connect()
 * backs off against a silent peer.  Up to 6.4 every SYN retransmission
 * doubles the timeout; 6.5 added net.ipv4.tcp_syn_linear_timeouts (default
 * 4: the first 4 retransmissions stay 1 s apart, commit ccce324dabfe "tcp:
 * make the first N SYN RTO backoffs linear").  With tcp_syn_retries = 3
 * (small, to keep it fast) the model gives:
 *   without the rule: SYNs at 0, 1, 3, 7 s, ETIMEDOUT at 15 s
 *     (tcp_write_timeout(): icsk_retransmits >= 3, and the time budget
 *     tcp_model_timeout(3, TCP_TIMEOUT_INIT) = 15 s);
 *   with the default 4: SYNs at 0, 1, 2, 3, 4, 5, 7, 11 s, ETIMEDOUT at 19 s
 *     (at most 3 + 4 retransmissions; 19 s passes the 15 s budget).
 *
 * Topology: client — router — server (the fixture), over IPv4 and IPv6
 * (syn_kernel_default_rule_ipv4 / _ipv6); fault: blackhole at the router
 * for the server's /32 or /128.  The rule is the same for both families:
 * tcp_v6_connect() and tcp_v4_connect() share tcp_connect() and the
 * SYN_SENT branch of tcp_retransmit_timer() (net/ipv4/tcp_timer.c), which
 * reads net.ipv4.tcp_syn_linear_timeouts for both.
 */
#include "tf_test.h"

#define PORT 12353

TF_FIXTURE_PATH(kr)

TF_CASE_F(kr, syn_kernel_default_rule, .timeout_s = 40,
          .proves = "seed 003: SYN backoff as this kernel's rule has it (exponential, or linear first 4 since 6.5)")
{
	_cleanup_(tf_fault_freep) tf_fault *blackhole = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	_cleanup_close_ int fd = -1;
	tf_topo *t = self->t;
	tf_host *client = self->client;
	long linear = -1;
	tf_run run;

	(void)variant;

	/* The probe: the sysctl exists exactly where the rule does. */
	if (tf_host_sysctl_exists(client, "net.ipv4.tcp_syn_linear_timeouts"))
		tf_must(tf_host_sysctl_get_int(client, "net.ipv4.tcp_syn_linear_timeouts", &linear));
	tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_syn_retries", 3));
	tf_must(tf_tcp_socket_af(client, self->family, &fd));
	tf_capture *cap = tf_case_capture(client, TF_IF_CLIENT, "tcp port 12353", "client");
	tf_must(tf_fault_blackhole(self->router, tf_topo_cidr(t, TF_NODE_SERVER, self->family),
	                           &blackhole));
	tf_diag("fault", "%s", tf_fault_describe(blackhole));

	m = tf_case_model(client);   /* reads tcp_syn_retries and, if any, the linear rule */
	tf_must(tf_model_syn(m, &s));
	const tf_sched_event *end = tf_schedule_event(s, tf_schedule_giveup(s));
	tf_must(tf_run_connect(client, fd, tf_topo_addr(t, TF_NODE_SERVER, self->family), PORT, cap,
	                       (int)(end->at_hi_us / 1000) + 3000, &run));
	tf_expect_int("connection is IPv6 (1) or IPv4 (0)", tf_flow_is_v6(&run.flow),
	              self->family == AF_INET6);

	tf_check_schedule("syn", s, run.tx_ns, run.n_tx, run.err_ns);
	tf_expect_errno("connect() error", run.err, tf_schedule_errno(s));
	tf_expect_int("RST on the wire", run.fin_rst, 0);
	tf_diag("key_numbers", "{syn_rule: %s, syn_retransmissions: %zu, giveup_s: %.3f, "
	        "model_giveup_s: %.3f, linear_timeouts: %ld}",
	        linear >= 0 ? "linear-then-exponential" : "exponential", run.n_tx ? run.n_tx - 1 : 0,
	        run.err_ns >= 0 && run.n_tx ? (run.err_ns - run.tx_ns[0]) / 1e9 : -1.0,
	        end->at_us / 1e6, linear < 0 ? 0 : linear);
}
