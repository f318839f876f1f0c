/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exploratory: dump */
#include "tf_test.h"
#include <stdio.h>

#define PORT 12346

TF_CASE(peer_link_down_ehostunreach, .timeout_s = 40, .proves = "explore")
{
	_cleanup_(tf_topo_freep) tf_topo *t = tf_case_topo(TF_TOPO_PATH);
	_cleanup_(tf_fault_freep) tf_fault *down = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	tf_host *client = tf_topo_client(t);
	struct tcp_info ti;
	tf_run run;

	tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_retries2", 5));
	tf_must(tf_tcp_pair(client, tf_topo_server(t), tf_topo_server_addr(t), PORT, &cfd, &sfd));
	tf_capture *cap = tf_case_capture(client, TF_IF_CLIENT, "tcp port 12346 or icmp", "client");
	tf_must(tf_fault_link_down(tf_topo_server(t), TF_IF_SERVER, &down));
	tf_must(tf_tcp_info(cfd, &ti));
	tf_note("rtt %u rttvar %u rto %u", ti.tcpi_rtt, ti.tcpi_rttvar, ti.tcpi_rto);
	tf_must(tf_run_send(client, cfd, cap, "x", 1, 25000, &run));
	int64_t t0 = run.tx_ns[0];
	for (size_t i = 0; i < tf_capture_count(cap); i++) {
		const tf_pkt *p = tf_capture_pkt(cap, i);
		if (p->ts_ns < t0)
			continue;
		if (p->proto == IPPROTO_ICMP)
			tf_note("icmp %u/%u at %.6f", p->icmp_type, p->icmp_code, (p->ts_ns - t0) / 1e9);
		else
			tf_note("tcp len %u at %.6f", p->payload, (p->ts_ns - t0) / 1e9);
	}
	tf_note("err %s at %.6f", tf_errno_name(run.err), (run.err_ns - t0) / 1e9);
	tf_fail("explore");
}
