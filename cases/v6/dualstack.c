/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IPv6 beside IPv4 (issue 14): the same cases over both families, as
 * variants of one fixture (names end in _ipv4 / _ipv6), and the rules where
 * the kernel treats IPv6 differently (lib/model_ipv6.c).
 *
 *   lost_peer_ipv{4,6}       seed 000 over each family: a blackhole at the
 *                            router for the server's /32 or /128; the
 *                            model's schedule, ETIMEDOUT, no FIN/RST, gone.
 *   mss_pmtu_ipv{4,6}        MSS = MTU - 40 (IPv4) or MTU - 60 (IPv6);
 *                            after the router's Packet Too Big / frag
 *                            needed for a 1280 link, the PMTU is 1280 and
 *                            the MSS 1280 - 40 or - 60.
 *   pmtu_blackhole_ipv{4,6}  the router suppresses ICMP/ICMPv6 (set before the
 *                            connection: IPv6 neighbour discovery still works)
 *                            and its link to the server is 1280: no too-big
 *                            reaches the client, the PMTU stays 1500,
 *                            TCP_USER_TIMEOUT ends the stall (ETIMEDOUT).
 *   peer_link_down_ipv6      the server's link down: the router's neighbour
 *                            discovery fails and it answers with ICMPv6
 *                            Address Unreachable, which tcp_v6_err() does
 *                            not take as a reason to undo a backoff step
 *                            (only No Route is): the client keeps a silent
 *                            peer's schedule exactly, and fails with
 *                            EHOSTUNREACH.  (IPv4's ICMP host unreachable
 *                            does undo steps: cases/retrans/unreach.c.)
 *
 * Packets are taken from the capture's saved frames and decoded here with
 * tf_pkt_decode() / tf_pkt_decode_ipv6(), so the case does not depend on
 * the capture's own IPv6 decoding.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <pcap/pcap.h>

#include "tf_test.h"

#define MAX_PKTS 4096

TF_FIXTURE(fam) {
	tf_topo *t;
	tf_host *client, *router, *server;
	const char *server_addr;
};
TF_FIXTURE_VARIANT(fam) {
	int family;
};
TF_VARIANT(fam, ipv4, .family = AF_INET);
TF_VARIANT(fam, ipv6, .family = AF_INET6);

static void need_ipv6(tf_host *h)
{
	int r = tf_probe_ipv6(h);

	tf_must(r < 0 ? r : 0);
	if (r == 0)
		TF_SKIP("this kernel has no IPv6");
}

TF_FIXTURE_SETUP(fam)
{
	self->t = tf_case_topo(TF_TOPO_PATH);
	self->client = tf_topo_client(self->t);
	self->router = tf_topo_router(self->t);
	self->server = tf_topo_server(self->t);
	if (variant->family == AF_INET6)
		need_ipv6(self->client);
	self->server_addr = tf_topo_addr(self->t, TF_NODE_SERVER, variant->family);
	tf_diag("family", "%s", variant->family == AF_INET6 ? "ipv6" : "ipv4");
	tf_diag("server", "%s", self->server_addr);
}

TF_FIXTURE_TEARDOWN(fam)
{
	(void)variant;
	tf_topo_free(self->t);
}

/* Every packet of the capture, both families, in order. */
static size_t packets(tf_capture *cap, tf_pkt *out, size_t max)
{
	char dir[] = "/tmp/tcpfate-v6-XXXXXX", path[64], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *f;
	pcap_t *p;
	size_t n = 0;
	int lt;

	tf_must(tf_capture_read(cap));
	if (!mkdtemp(dir))
		tf_fail("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof path, "%s/c.pcap", dir);
	tf_must(tf_capture_save(cap, path));
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p)
		tf_fail("re-reading the capture: %s", err);
	lt = pcap_datalink(p);
	while (n < max && pcap_next_ex(p, &hdr, &f) == 1) {
		tf_pkt k;
		int r;

		if (lt == DLT_EN10MB && hdr->caplen >= 14 && f[12] == 0x86 && f[13] == 0xdd)
			r = tf_pkt_decode_ipv6(f + 14, hdr->caplen - 14, &k);
		else
			r = tf_pkt_decode(f, hdr->caplen, lt, 0, &k);
		if (r < 0)
			continue;
		k.ts_ns = (int64_t)hdr->ts.tv_sec * 1000000000 + hdr->ts.tv_usec;
		out[n++] = k;
	}
	pcap_close(p);
	unlink(path);
	rmdir(dir);
	return n;
}

static bool in_flow(const tf_pkt *p, const tf_flow *f)
{
	return p->proto == IPPROTO_TCP && tf_flow_addr_eq(p, f) && p->sport == f->sport &&
	       p->dport == f->dport;
}

static uint32_t seg_len(const tf_pkt *p)
{
	return p->payload + !!(p->flags & TF_TCP_SYN) + !!(p->flags & TF_TCP_FIN);
}

/* The transmissions of the first byte sent at or after t_ns, and the
 * flow's FIN/RST count (both directions). */
static void transmissions(const tf_pkt *k, size_t n, const tf_flow *f, int64_t t_ns, tf_run *run)
{
	tf_flow rf = tf_flow_reverse_any(*f);
	uint32_t seq = 0;
	bool found = false;

	run->n_tx = 0;
	run->fin_rst = 0;
	for (size_t i = 0; i < n; i++) {
		if ((in_flow(&k[i], f) || in_flow(&k[i], &rf)) && (k[i].flags & (TF_TCP_FIN | TF_TCP_RST)))
			run->fin_rst++;
		if (!found && in_flow(&k[i], f) && k[i].payload > 0 && k[i].ts_ns >= t_ns) {
			seq = k[i].seq;
			found = true;
		}
		if (found && in_flow(&k[i], f) && (uint32_t)(seq - k[i].seq) < seg_len(&k[i]) &&
		    run->n_tx < TF_RUN_MAX_TX)
			run->tx_ns[run->n_tx++] = k[i].ts_ns;
	}
	if (!found)
		tf_fail("no data packet of the flow in the capture");
}

/* Write `msg` on cfd and wait for the socket's error; fill run. */
static void send_and_fail(tf_host *client, int cfd, tf_capture *cap, const tf_schedule *s,
                          tf_run *run, tf_pkt *k, size_t *nk)
{
	static const char msg[] = "is anyone there?\n";
	const tf_sched_event *end = tf_schedule_event(s, tf_schedule_giveup(s));
	int r, st = -1;

	memset(run, 0, sizeof *run);
	tf_must(tf_sock_flow(cfd, &run->flow));
	run->sent_ns = tf_now_ns();
	tf_must(tf_sock_send_all(cfd, msg, sizeof msg - 1));
	r = tf_case_wait_error(cfd, cap, client, &run->flow, TCP_ESTABLISHED,
	                       (int)(end->at_hi_us / 1000) + 3000, &run->err, &run->err_ns);
	if (r == -ETIME)
		run->err_ns = -1;
	else
		tf_must(r);
	*nk = packets(cap, k, MAX_PKTS);
	transmissions(k, *nk, &run->flow, run->sent_ns, run);
	r = tf_tcp_diag_state(client, &run->flow, &st);
	run->state_after = r == -ENOENT ? -ENOENT : st;
	tf_diag("transmissions", "%zu", run->n_tx);
}

TF_CASE_F(fam, lost_peer, .timeout_s = 40,
          .proves = "seed 000 on each family: exponential backoff, then the tcp_retries2 give-up")
{
	_cleanup_(tf_fault_freep) tf_fault *bh = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	tf_pkt *k = calloc(MAX_PKTS, sizeof *k);
	size_t nk = 0;
	tf_run run;

	if (!k)
		tf_fail("out of memory");
	tf_must(tf_host_sysctl_set_int(self->client, "net.ipv4.tcp_retries2", 3));
	tf_must(tf_tcp_pair(self->client, self->server, self->server_addr, 12360, &cfd, &sfd));
	tf_capture *cap = tf_case_capture(self->client, TF_IF_CLIENT, "tcp port 12360", "client");
	tf_must(tf_fault_blackhole(self->router, tf_topo_cidr(self->t, TF_NODE_SERVER, variant->family),
	                           &bh));
	tf_diag("fault", "%s", tf_fault_describe(bh));
	m = tf_case_model_sock(self->client, cfd);
	tf_case_check_rto(m, cfd);
	tf_must(tf_case_set_retries2(m, 3));
	tf_must(tf_model_retrans(m, &s));

	send_and_fail(self->client, cfd, cap, s, &run, k, &nk);
	tf_expect_int("flow family (0 = IPv4)", run.flow.family,
	              variant->family == AF_INET6 ? AF_INET6 : 0);
	tf_check_schedule("retrans", s, run.tx_ns, run.n_tx, run.err_ns);
	tf_expect_errno("socket error", run.err, tf_schedule_errno(s));
	tf_expect_int("FIN or RST on the wire", run.fin_rst, 0);
	tf_expect_int("socket after give-up (sock_diag, -ENOENT = gone)", run.state_after, -ENOENT);
	free(k);
}

/* Bytes read on fd until `len` arrived (poll, no sleep). */
static void read_all(int fd, size_t len)
{
	char buf[4096];

	while (len > 0) {
		ssize_t n;

		tf_must(tf_sock_wait(fd, POLLIN, 5000, NULL));
		n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			tf_fail("recv: %s", n < 0 ? strerror(errno) : "EOF");
		len -= (size_t)n < len ? (size_t)n : len;
	}
}

TF_CASE_F(fam, mss_pmtu, .timeout_s = 30,
          .proves = "MSS = MTU - 40 over IPv4, MTU - 60 over IPv6; a 1280 link's "
                    "Packet Too Big / frag needed lowers it to 1280 minus the same")
{
	_cleanup_(tf_fault_freep) tf_fault *mtu = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	static char data[8000];
	struct tcp_info ti;
	unsigned want = 0, hdr = tf_model_net_header_len(variant->family);
	bool ts;

	tf_must(tf_tcp_pair(self->client, self->server, self->server_addr, 12361, &cfd, &sfd));
	tf_must(tf_tcp_info(cfd, &ti));
	ts = ti.tcpi_options & TCPI_OPT_TIMESTAMPS;
	tf_diag("net_header_len", "%u", hdr);
	/* The SYN announced MTU - header lengths (tcp_advertise_mss(),
	 * ip6_default_advmss()); once timestamps are agreed both advmss and
	 * snd_mss lose their 12 bytes (tcp_rcv_synsent_state_process()). */
	tf_must(tf_model_mss_from_mtu(variant->family, 1500, ts, &want));
	tf_expect_int("tcpi_advmss on a 1500 link", ti.tcpi_advmss, want);
	tf_expect_int("tcpi_snd_mss on a 1500 link", ti.tcpi_snd_mss, want);

	/* 1280 is legal for both families (the least IPv6 allows). */
	tf_must(tf_fault_mtu(self->router, TF_IF_ROUTER_SERVER, TF_IPV6_MIN_MTU, &mtu));
	memset(data, 'x', sizeof data);
	tf_must(tf_sock_send_all(cfd, data, sizeof data));
	read_all(sfd, sizeof data);   /* delivered: the too-big was handled first */
	tf_must(tf_tcp_info(cfd, &ti));
	unsigned pmtu = 0;
	tf_must(tf_model_pmtu_after_ptb(variant->family, 1500, TF_IPV6_MIN_MTU, 0, &pmtu));
	tf_expect_int("tcpi_pmtu after the router's too-big", ti.tcpi_pmtu, pmtu);
	tf_must(tf_model_mss_from_mtu(variant->family, pmtu, ts, &want));
	tf_expect_int("tcpi_snd_mss after it", ti.tcpi_snd_mss, want);
}

TF_CASE(peer_link_down_ipv6, .timeout_s = 40,
        .proves = "IPv6 peer link down: ICMPv6 address unreachable undoes no backoff step "
                  "(tcp_v6_err), so the schedule is a silent peer's, ending in EHOSTUNREACH")
{
	_cleanup_(tf_topo_freep) tf_topo *t = tf_case_topo(TF_TOPO_PATH);
	_cleanup_(tf_fault_freep) tf_fault *down = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	tf_host *client = tf_topo_client(t);
	tf_pkt *k = calloc(MAX_PKTS, sizeof *k);
	unsigned type = 0, code = 0;
	long unreach = 0, noroute = 0;
	size_t nk = 0;
	tf_run run;

	if (!k)
		tf_fail("out of memory");
	need_ipv6(client);
	tf_diag("family", "ipv6");
	tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_retries2", 5));
	tf_must(tf_tcp_pair(client, tf_topo_server(t), tf_topo_server_addr6(t), 12362, &cfd, &sfd));
	tf_capture *cap = tf_case_capture(client, TF_IF_CLIENT, "tcp port 12362 or icmp6", "client");
	tf_must(tf_fault_link_down(tf_topo_server(t), TF_IF_SERVER, &down));
	tf_diag("fault", "%s", tf_fault_describe(down));

	/* The rule asserted: the ICMP a failed resolution produces does not
	 * revert (tf_model_neigh_failure_reverts()), so the sender's model is
	 * the silent peer's with the errno EHOSTUNREACH. */
	tf_must(tf_model_neigh_failure_icmp(AF_INET6, &type, &code));
	tf_expect_int("model: ICMPv6 of a failed resolution reverts the RTO",
	              tf_model_neigh_failure_reverts(AF_INET6), 0);
	m = tf_case_model_sock(client, cfd);
	tf_case_check_rto(m, cfd);
	tf_must(tf_case_set_retries2(m, 5));
	tf_must(tf_model_set_neigh_failed(m, true));
	tf_must(tf_model_retrans(m, &s));

	send_and_fail(client, cfd, cap, s, &run, k, &nk);
	for (size_t i = 0; i < nk; i++) {
		if (k[i].family != AF_INET6 || k[i].proto != IPPROTO_ICMPV6 ||
		    !tf_in6_eq(&k[i].dst6, &run.flow.src6))
			continue;
		unreach += k[i].icmp_type == type && k[i].icmp_code == code;
		noroute += k[i].icmp_type == 1 && k[i].icmp_code == 0;
	}
	tf_diag("icmpv6_address_unreachable", "%ld", unreach);
	if (unreach == 0)
		tf_expect_int("ICMPv6 address unreachable reached the client (at least 1)", 0, 1);
	tf_expect_int("ICMPv6 no route (which would revert) seen", noroute, 0);
	tf_check_schedule("retrans", s, run.tx_ns, run.n_tx, run.err_ns);
	tf_expect_errno("socket error", run.err, EHOSTUNREACH);
	tf_expect_int("FIN or RST on the wire", run.fin_rst, 0);
	tf_expect_int("socket after give-up (sock_diag, -ENOENT = gone)", run.state_after, -ENOENT);
	free(k);
}

TF_CASE_F(fam, pmtu_blackhole, .timeout_s = 30,
          .proves = "a PMTU black hole on each family: the router's too-big suppressed; "
                    "over IPv6 neighbour discovery (ICMPv6 too) still works")
{
	_cleanup_(tf_fault_freep) tf_fault *icmp = NULL, *mtu = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	static char data[8000];
	tf_pkt *k = calloc(MAX_PKTS, sizeof *k);
	struct tcp_info ti;
	long too_big = 0, big_tx = 0;
	size_t nk;
	int err = 0;
	int64_t at;

	if (!k)
		tf_fail("out of memory");
	/* Before any packet: the router must still resolve its neighbours
	 * (NDP is ICMPv6, but never routed through the FIB the rule acts on). */
	tf_must(tf_fault_icmp_block(self->router, &icmp));
	tf_diag("fault", "%s", tf_fault_describe(icmp));
	tf_must(tf_tcp_pair(self->client, self->server, self->server_addr, 12363, &cfd, &sfd));
	tf_note("connection established through the router with ICMP and ICMPv6 suppressed");
	tf_must(tf_fault_mtu(self->router, TF_IF_ROUTER_SERVER, TF_IPV6_MIN_MTU, &mtu));
	tf_capture *cap = tf_case_capture(self->client, TF_IF_CLIENT,
	                                  "tcp port 12363 or icmp or icmp6", "client");
	/* The socket's own deadline ends the stall: an event to wait for. */
	tf_must(tf_sock_set_int(cfd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1500));
	memset(data, 'x', sizeof data);
	tf_must(tf_sock_send_all(cfd, data, sizeof data));
	tf_must(tf_sock_wait_error(cfd, 10000, &err, &at));
	tf_expect_errno("socket error", err, ETIMEDOUT);
	tf_must(tf_tcp_info(cfd, &ti));
	tf_expect_int("tcpi_pmtu (never learned)", ti.tcpi_pmtu, 1500);
	nk = packets(cap, k, MAX_PKTS);
	for (size_t i = 0; i < nk; i++) {
		bool v6 = k[i].family == AF_INET6;
		if ((v6 && k[i].proto == IPPROTO_ICMPV6 && k[i].icmp_type == 2) ||
		    (!v6 && k[i].proto == IPPROTO_ICMP && k[i].icmp_type == 3 && k[i].icmp_code == 4))
			too_big++;
		if (k[i].proto == IPPROTO_TCP && k[i].ip_len > TF_IPV6_MIN_MTU)
			big_tx++;
	}
	tf_expect_int("too-big messages reaching the client", too_big, 0);
	tf_diag("segments_over_1280", "%ld", big_tx);
	if (big_tx < 2)
		tf_expect_int("segments over 1280 sent (and resent) anyway, at least 2", big_tx, 2);
	free(k);
}
