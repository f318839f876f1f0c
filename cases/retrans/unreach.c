/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Peer link down instead of a blackhole: EHOSTUNREACH, and its own
 * schedule.
 *
 * Topology: client — router — server, established.  Fault: the server's
 * link goes down (tf_fault_link_down(server, eth0)): the router's eth1
 * loses carrier and its neighbour entry for the server is flushed
 * (neigh_carrier_down()).  The client writes one byte.
 *
 * What the kernel does (rules in lib/model_unreach.c, with their functions):
 * every packet the router forwards waits for an ARP resolution that fails
 * after mcast_solicit solicitations retrans_time_ms apart; then it answers
 * each with an ICMP host unreachable, as far as icmp_ratelimit lets it.
 * Each ICMP sets the client's sk_err_soft and undoes one backoff step
 * (tcp_ld_RTO_revert(), RFC 6069), so the first of a burst retransmits at
 * once and the rest re-arm a shorter timer.  The give-up is still the
 * tcp_retries2 budget from the first RTO retransmission, checked in
 * tcp_retransmit_timer(), and its errno is sk_err_soft: EHOSTUNREACH.
 *
 * Expect, on the client's link: every transmission and the give-up where
 * the closed-loop model puts them (tf_model_unreach(): from the knobs
 * alone); every ICMP burst where and as large as it says, and where the
 * router model puts it given the measured transmissions
 * (tf_model_neigh_failures()); every transmission where the sender model
 * puts it given the measured ICMPs (tf_model_retrans_icmp()), a burst's
 * retransmission right after its ICMP; EHOSTUNREACH, no FIN/RST, the socket
 * gone.  A blackhole with the same knobs (no ICMP) gives ETIMEDOUT on the
 * plain schedule: proven by cases/retrans/retransmit.c (retries2_*) and
 * cases/lost_peer.c; here only its model numbers are printed beside.
 *
 * Both families (issue 14): the case runs as peer_link_down_ehostunreach_ipv4
 * and _ipv6, one body.  Over IPv6 the router's neighbour discovery fails on
 * the same solicitation schedule (nd_tbl's numbers are arp_tbl's) and
 * answers ICMPv6 Address Unreachable (ndisc_error_report() ->
 * ip6_link_failure()), which tcp_v6_err() does not take as a reason to undo
 * a backoff step (tcp_ld_RTO_revert() only for ICMPV6_NOROUTE): it only
 * sets sk_err_soft.  So the same models (tf_model_unreach_family(),
 * tf_model_retrans_icmp_family()) put the IPv6 sender on a silent peer's
 * schedule — 7 transmissions with tcp_retries2 5 where IPv4 makes 18 — and
 * still predict EHOSTUNREACH.  The router's ICMPv6 is limited by
 * icmpv6_xrlim_allow() (net.ipv6.icmp.ratelimit, scaled by the route's
 * prefix on kernels before upstream 0201eedb69b2: probed, see
 * icmpv6_prefix_scaled()), which sets how many ICMPs each burst carries.
 *
 *   peer_link_down_ehostunreach_ipv{4,6}    the kernel's knobs
 *   peer_link_down_icmp_ratelimit_ipv{4,6}  the router's ICMP rate limit at
 *       10 s: its bucket runs dry, so bursts are smaller or empty; over
 *       IPv4 fewer backoff steps are undone (12 transmissions, not 18), over
 *       IPv6 the third resolution sends an ICMP only on a kernel with the
 *       prefix shift — where the families' rate limits differ.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "tf_test.h"
#include "check_replay.h"
#include "../linkwatch.h"

#define PORT   12346
/* both families: "icmp" does not match ICMPv6 */
#define FILTER "tcp port 12346 or icmp or icmp6"
#define RETRIES2 5
#define ICMPV6_ND_FIRST 133   /* router solicitation .. redirect (137): neighbour */
#define ICMPV6_ND_LAST  137   /* discovery on the client's link, not an answer */
/* The ICMPs of one burst leave in one neigh_timer_handler() call, µs
 * apart on a host, up to tens of ms in a TCG guest; two bursts are a
 * whole resolution apart, at least one solicitation interval
 * (retrans_time_ms): an ICMP within half of it of a burst's first is in
 * that burst (a 6.1 guest: one burst's 4 ICMPs over more than 2 ms). */
static int64_t burst_span_us(const tf_neigh_params *np)
{
	return (int64_t)np->retrans_time_ms * 1000 / 2;
}

#define MAX_ICMP 256

static long router_sysctl(tf_host *router, const char *key)
{
	long v;

	tf_must(tf_host_sysctl_get_int(router, key, &v));
	return v;
}

/*
 * The prefix length of the router's route toward addr (IPv6): what
 * icmpv6_xrlim_allow() shifts by on older kernels (rt6i_dst.plen of the
 * route it looks up).  RTM_GETROUTE with RTM_F_FIB_MATCH answers the FIB
 * entry itself (rt6_fill_node() without a destination: fib6_dst's plen);
 * without the flag the answer's rtm_dst_len is always 128.
 */
static unsigned route_plen6(tf_host *h, const char *addr)
{
	struct {
		struct nlmsghdr n;
		struct rtmsg r;
		struct rtattr a;
		struct in6_addr dst;
	} req = { 0 };
	char buf[8192];
	_cleanup_close_ int fd = tf_host_socket(h, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n;

	tf_must(fd < 0 ? fd : 0);
	req.n.nlmsg_len = sizeof req;
	req.n.nlmsg_type = RTM_GETROUTE;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.n.nlmsg_seq = 1;
	req.r.rtm_family = AF_INET6;
	req.r.rtm_dst_len = 128;
	req.r.rtm_flags = RTM_F_FIB_MATCH;
	req.a.rta_type = RTA_DST;
	req.a.rta_len = RTA_LENGTH(sizeof req.dst);
	if (inet_pton(AF_INET6, addr, &req.dst) != 1)
		tf_fail("not an IPv6 address: %s", addr);
	if (send(fd, &req, sizeof req, 0) != (ssize_t)sizeof req)
		tf_fail("RTM_GETROUTE: %s", strerror(errno));
	tf_must(tf_sock_wait(fd, POLLIN, 5000, NULL));
	n = recv(fd, buf, sizeof buf, 0);
	if (n < 0)
		tf_fail("RTM_GETROUTE: %s", strerror(errno));
	for (struct nlmsghdr *h6 = (struct nlmsghdr *)buf; NLMSG_OK(h6, (size_t)n);
	     h6 = NLMSG_NEXT(h6, n)) {
		if (h6->nlmsg_type == NLMSG_ERROR &&
		    h6->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
			const struct nlmsgerr *e = NLMSG_DATA(h6);

			tf_must(e->error ? e->error : -EPROTO);
		}
		if (h6->nlmsg_type == RTM_NEWROUTE &&
		    h6->nlmsg_len >= NLMSG_LENGTH(sizeof(struct rtmsg)))
			return ((const struct rtmsg *)NLMSG_DATA(h6))->rtm_dst_len;
	}
	tf_fail("RTM_GETROUTE: no route in the answer");
}

/*
 * Which icmpv6_xrlim_allow() this kernel has (IPv6 only): before upstream
 * 0201eedb69b2 it shifts the rate limit by the route's prefix, and its
 * default is 1 * HZ; with it there is no shift and the default is HZ / 10
 * (tf_model_icmpv6_prefix_scaled()).  The router's namespace is fresh:
 * read before the case sets anything, its value is the kernel's default.
 */
static bool icmpv6_prefix_scaled(tf_host *router)
{
	long rl = router_sysctl(router, "net.ipv6.icmp.ratelimit");
	int r = tf_model_icmpv6_prefix_scaled(tf_case_hz(), (uint32_t)rl);

	if (r == -EOPNOTSUPP)
		TF_SKIP("net.ipv6.icmp.ratelimit defaults to %ld ms here, neither 1000 nor 100: "
		        "cannot tell whether icmpv6_xrlim_allow() scales it by prefix", rl);
	tf_must(r);
	tf_diag("probe_icmpv6_ratelimit_default", "%ld ms: %s", rl,
	        r ? "1 * HZ, icmpv6_xrlim_allow() scales by prefix (before 0201eedb69b2)"
	          : "HZ / 10, no prefix scaling (0201eedb69b2)");
	return r;
}

/* The router's neighbour and ICMP knobs toward the server, as it has them
 * (its IPv4 or IPv6 neighbour table, its ICMP or ICMPv6 limits). */
static void neigh_params(tf_topo *t, int family, bool scaled, tf_neigh_params *p)
{
	tf_host *router = tf_topo_router(t);
	const char *fam = family == AF_INET6 ? "ipv6" : "ipv4";
	char key[96];

	tf_must(tf_neigh_params_init_family(family, p));
	p->hz = tf_case_hz();
#define NEIGH(field, knob)                                                              \
	snprintf(key, sizeof key, "net.%s.neigh.%s.%s", fam, TF_IF_ROUTER_SERVER, knob); \
	p->field = (unsigned)router_sysctl(router, key)
	NEIGH(retrans_time_ms, "retrans_time_ms");
	NEIGH(ucast_solicit, "ucast_solicit");
	NEIGH(mcast_solicit, "mcast_solicit");
	NEIGH(app_solicit, "app_solicit");
	NEIGH(unres_qlen, "unres_qlen");
#undef NEIGH
	if (family == AF_INET6) {
		/* icmpv6_xrlim_allow(): the sysctl as it is now, shifted by the
		 * route's prefix where the kernel still does (scaled: probed
		 * before anything changed it, icmpv6_prefix_scaled()). */
		long rl = router_sysctl(router, "net.ipv6.icmp.ratelimit");
		const char *client = tf_topo_addr(t, TF_NODE_CLIENT, AF_INET6);
		unsigned plen = route_plen6(router, client);
		char mask[256];

		tf_must(tf_host_sysctl_get(router, "net.ipv6.icmp.ratemask", mask, sizeof mask));
		tf_must(tf_neigh_params_set_icmpv6(p, (uint32_t)rl, mask, plen, scaled));
		tf_diag("router_icmpv6_ratelimit", "%ld ms, route to the client /%u, %s: %u ms per "
		        "error (icmpv6_xrlim_allow()); ratemask %s", rl, plen,
		        scaled ? "scaled by prefix (before 0201eedb69b2)" : "not scaled by prefix",
		        p->icmp_ratelimit_ms, mask);
	} else {
		p->icmp_ratelimit_ms = (uint32_t)router_sysctl(router, "net.ipv4.icmp_ratelimit");
		p->icmp_ratemask = (uint32_t)router_sysctl(router, "net.ipv4.icmp_ratemask");
	}
	tf_diag("router_neigh", "retrans_time_ms %u, ucast %u, mcast %u, app %u, unres_qlen %u; "
	        "icmp_ratelimit %u ms, ratemask 0x%x", p->retrans_time_ms, p->ucast_solicit,
	        p->mcast_solicit, p->app_solicit, p->unres_qlen, p->icmp_ratelimit_ms,
	        p->icmp_ratemask);
}

/*
 * The order must be certain: the router's neighbour entry for the server is
 * flushed only when linkwatch processes the carrier loss (linkwatch.h) —
 * under load hundreds of ms after the link went down, while the client's
 * first transmissions would be dropped on the dead veth instead of
 * starting an ARP resolution.  So the client writes only after that.
 */
/* The model's bursts the client can see (at least one ICMP), before
 * before_us, as indices into variant v's bursts. */
static size_t seen_bursts(const tf_unreach *u, size_t v, int64_t before_us, size_t *idx,
                          size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < tf_unreach_bursts(u, v) && n < max; i++) {
		const tf_neigh_burst *b = tf_unreach_burst(u, v, i);

		if (b->at_us < before_us && b->n_icmp > 0)
			idx[n++] = i;
	}
	return n;
}

/* The variant whose counts the run has (transmissions, ICMPs per burst);
 * the most common one if none. */
static size_t pick_variant(const tf_unreach *u, size_t n_tx, const size_t *burst_n, size_t n_b)
{
	size_t idx[MAX_ICMP];

	for (size_t v = 0; v < tf_unreach_variants(u); v++) {
		const tf_schedule *s = tf_unreach_schedule(u, v);
		size_t n = seen_bursts(u, v, INT64_MAX, idx, MAX_ICMP);
		bool ok = tf_schedule_giveup(s) == n_tx;

		for (size_t i = 0; ok && i < n_b; i++)
			ok = i < n && tf_unreach_burst(u, v, idx[i])->n_icmp == burst_n[i];
		if (ok)
			return v;
	}
	return 0;
}

TF_FIXTURE_PATH(unreach)

/* The router's answer to a failed resolution, as captured on the
 * client's link: from its address there, of the family's type/code. */
static bool router_answer(const tf_pkt *p, int family, const struct in_addr *rtr,
                          const struct in6_addr *rtr6)
{
	if (family == AF_INET6)
		return p->family == AF_INET6 && p->proto == IPPROTO_ICMPV6 &&
		       tf_in6_eq(&p->src6, rtr6);
	return p->family != AF_INET6 && p->proto == IPPROTO_ICMP && p->src.s_addr == rtr->s_addr;
}

/* What a case sets beyond the fixture (0: the kernel's default). */
struct knobs {
	uint32_t router_icmp_ratelimit_ms;  /* net.ipv4.icmp_ratelimit / net.ipv6.icmp.ratelimit */
};

static void link_down(struct unreach_fixture *self, const struct unreach_variant *variant,
                      const struct knobs *k)
{
	_cleanup_(tf_fault_freep) tf_fault *down = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_unreach_freep) tf_unreach *u = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *plain = NULL, *sb = NULL;
	_cleanup_free_ tf_icmp_cause *causes = NULL;
	_cleanup_free_ tf_neigh_burst *na = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	tf_host *client = self->client, *router = self->router;
	const int family = variant->family;
	const bool v6 = family == AF_INET6;
	int64_t icmp_us[MAX_ICMP], tx_us[TF_RUN_MAX_TX], burst_at[MAX_ICMP];
	size_t n_icmp = 0, burst_n[MAX_ICMP], n_bursts = 0, n_na = 0, seen[MAX_ICMP], na_seen[MAX_ICMP];
	struct in_addr rtr = { 0 };
	struct in6_addr rtr6 = { 0 };
	unsigned itype = 0, icode = 0;
	long noroute = 0;
	tf_neigh_params np;
	uint64_t budget_ms;
	char label[160];
	tf_run run;

	if (inet_pton(family, tf_topo_addr(self->t, TF_NODE_ROUTER_CLIENT, family),
	              v6 ? (void *)&rtr6 : (void *)&rtr) != 1)
		tf_fail("the router's address on the client's link");
	tf_must(tf_model_neigh_failure_icmp(family, &itype, &icode));
	bool scaled = v6 && icmpv6_prefix_scaled(router);   /* before any change */
	if (k->router_icmp_ratelimit_ms)
		tf_must(tf_host_sysctl_set_int(router, v6 ? "net.ipv6.icmp.ratelimit"
		                                          : "net.ipv4.icmp_ratelimit",
		                               k->router_icmp_ratelimit_ms));
	tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_retries2", RETRIES2));
	tf_must(tf_tcp_pair(client, self->server, self->server_addr, PORT, &cfd, &sfd));
	tf_capture *cap = tf_case_capture(client, TF_IF_CLIENT, FILTER, "client");

	/* The models, from the knobs: the client's socket and sysctls, the
	 * router's neighbour table and ICMP limits. */
	m = tf_case_model_sock(client, cfd);
	tf_must(tf_case_set_retries2(m, RETRIES2));
	tf_case_check_rto(m, cfd);
	tf_must(tf_model_retries2_budget_ms(m, &budget_ms));
	neigh_params(self->t, family, scaled, &np);
	tf_must(tf_model_unreach_family(m, &np, family, &u));
	/* The rule where the families differ (tcp_v4_err() / tcp_v6_err()). */
	tf_diag("router_answer", "ICMP%s %u/%u (%s), undoes backoff steps at the sender: %s",
	        v6 ? "v6" : "", itype, icode, v6 ? "address unreachable" : "host unreachable",
	        tf_model_neigh_failure_reverts(family) ? "yes (tcp_ld_RTO_revert())"
	                                               : "no (tcp_v6_err(): ICMPV6_NOROUTE only)");
	tf_must(tf_model_retrans(m, &plain));
	tf_diag("model_variants", "%zu (of %u phase/order runs; the most common has %u)",
	        tf_unreach_variants(u), tf_unreach_total_runs(u), tf_unreach_runs(u, 0));
	const tf_schedule *s0 = tf_unreach_schedule(u, 0);
	const tf_sched_event *end0 = tf_schedule_event(s0, tf_schedule_giveup(s0));
	const tf_sched_event *pend = tf_schedule_event(plain, tf_schedule_giveup(plain));
	tf_note("a blackhole with these knobs (no ICMP, tf_model_retrans()): %zu transmissions, "
	        "%s after %.3f s — proven in cases/retrans/retransmit.c and cases/lost_peer.c",
	        tf_schedule_giveup(plain), tf_errno_name(tf_schedule_errno(plain)), pend->at_us / 1e6);

	/* The server's cable is pulled; once the router has seen it, the
	 * client writes into it. */
	case_linkwatch lw;
	case_linkwatch_open(&lw, router, TF_IF_ROUTER_SERVER);
	int64_t t_pull = tf_mono_ns();
	tf_must(tf_fault_link_down(self->server, TF_IF_SERVER, &down));
	tf_diag("router_carrier_down_ms", "%.3f  # linkwatch processed the carrier loss this long "
	        "after the link went down", (case_linkwatch_wait(&lw, false, 15000) - t_pull) / 1e6);
	tf_must(tf_run_send(client, cfd, cap, "x", 1, (int)(end0->at_hi_us / 1000) + 3000, &run));
	if (run.n_tx == 0)
		tf_fail("the data never reached the client's link");
	int64_t t0 = run.tx_ns[0];
	for (size_t i = 0; i < run.n_tx; i++)
		tx_us[i] = (run.tx_ns[i] - t0) / 1000;

	/* The router's answers: ICMP host unreachable (ICMPv6 address
	 * unreachable), before the error. */
	for (size_t i = 0; i < tf_capture_count(cap) && n_icmp < MAX_ICMP; i++) {
		const tf_pkt *p = tf_capture_pkt(cap, i);

		if (!router_answer(p, family, &rtr, &rtr6) || p->ts_ns < t0 ||
		    (run.err_ns >= 0 && p->ts_ns > run.err_ns))
			continue;
		if (v6 && p->icmp_type >= ICMPV6_ND_FIRST && p->icmp_type <= ICMPV6_ND_LAST)
			continue;
		if (v6 && p->icmp_type == 1 && p->icmp_code == 0)
			noroute++;          /* No Route: the one that would revert */
		if (p->icmp_type != itype || p->icmp_code != icode) {
			tf_note("ICMP%s %u/%u from the router", v6 ? "v6" : "", p->icmp_type,
			        p->icmp_code);
			continue;
		}
		icmp_us[n_icmp++] = (p->ts_ns - t0) / 1000;
	}
	for (size_t i = 0; i < n_icmp; i++) {
		if (i && icmp_us[i] - burst_at[n_bursts - 1] < burst_span_us(&np)) {
			burst_n[n_bursts - 1]++;
			continue;
		}
		burst_at[n_bursts] = icmp_us[i];
		burst_n[n_bursts++] = 1;
	}
	tf_diag("icmp_bursts", "%zu, %zu ICMP%s %s before the error", n_bursts, n_icmp,
	        v6 ? "v6" : "", v6 ? "address unreachable" : "host unreachable");
	if (v6)
		tf_expect_int("ICMPv6 no route (which would undo a backoff step) seen", noroute, 0);

	/* (c) The closed loop: count, every gap, the give-up, the errno. */
	size_t v = pick_variant(u, run.n_tx, burst_n, n_bursts);
	const tf_schedule *s = tf_unreach_schedule(u, v);
	if (tf_unreach_variants(u) > 1)
		tf_note("compared with model variant %zu (%u runs)", v, tf_unreach_runs(u, v));
	tf_case_set_giveup_budget(m);
	tf_check_schedule("unreach", s, run.tx_ns, run.n_tx, run.err_ns);
	tf_expect_errno("socket error", run.err, tf_schedule_errno(s));

	/* Bursts are compared in order of those the client can see: a
	 * resolution whose every ICMP the rate limit ate leaves no trace. */
	const tf_sched_event *gv = tf_schedule_event(s, tf_schedule_giveup(s));
	size_t n_mb = seen_bursts(u, v, gv->at_us, seen, MAX_ICMP);
	if (n_mb < tf_unreach_bursts(u, v))
		tf_diag("model_bursts", "%zu, %zu of them with an ICMP before the give-up",
		        tf_unreach_bursts(u, v), n_mb);
	tf_expect_int("ICMP bursts before the error", (long)n_bursts, (long)n_mb);
	for (size_t i = 0; i < n_bursts && i < n_mb; i++) {
		const tf_neigh_burst *b = tf_unreach_burst(u, v, seen[i]);

		snprintf(label, sizeof label, "burst #%zu: ICMPs (%zu held, %s)", i + 1, b->n_queued,
		         v6 ? "icmpv6_xrlim_allow()" : "inet_peer_xrlim_allow()");
		tf_expect_int(label, (long)burst_n[i], (long)b->n_icmp);
		/* Its moment is a sum over the RTOs up to the packet that
		 * started it and the resolution's solicitations: a tick of
		 * lateness each, within the slack, adds up past a band that
		 * carries the slack once (issue 10).  Reported; what is checked
		 * is each of those timers — every gap above, and the burst
		 * after its first packet (a) below. */
		char key[48];
		snprintf(key, sizeof key, "burst_%zu_closed_loop_ms", i + 1);
		tf_diag(key, "%.3f  # model %.3f (%.3f..%.3f), a sum over %zu timers", burst_at[i] / 1e3,
		        b->at_us / 1e3, b->at_lo_us / 1e3, b->at_hi_us / 1e3, b->first + b->n_timers);
	}

	/* (a) The router given the measured transmissions (its resolutions
	 * that surely send an ICMP, in order). */
	tf_must(tf_model_neigh_failures(&np, tx_us, run.n_tx, &na, &n_na));
	size_t n_nas = 0;
	for (size_t i = 0; i < n_na && n_nas < MAX_ICMP; i++)
		if (na[i].n_icmp_hi > 0)
			na_seen[n_nas++] = i;
	for (size_t j = 0; j < n_bursts && j < n_nas; j++) {
		const tf_neigh_burst *a = &na[na_seen[j]];
		int64_t first = tx_us[a->first];

		snprintf(label, sizeof label,
		         "burst #%zu: time after its first packet (%zu..%zu), router model",
		         j + 1, a->first, a->last);
		tf_expect_timer_chain(label, burst_at[j] - first, a->at_us - first, a->at_lo_us - first,
		                      a->at_hi_us - first, a->n_timers);
		snprintf(label, sizeof label, "burst #%zu: ICMPs within the router model's %u..%u",
		         j + 1, a->n_icmp_lo, a->n_icmp_hi);
		tf_expect_int(label, burst_n[j] >= a->n_icmp_lo && burst_n[j] <= a->n_icmp_hi, 1);
	}

	/* (b) The client given the measured ICMPs: each transmission from
	 * what armed or sent it — the previous transmission's timer, or an
	 * ICMP (tcp_ld_RTO_revert(); over IPv6 never an ICMP). */
	tf_must(tf_model_retrans_icmp_family(m, family, icmp_us, n_icmp, &sb, &causes));
	size_t gb = tf_schedule_giveup(sb);
	tf_expect_int("transmissions, sender model given the measured ICMPs", (long)run.n_tx,
	              (long)gb);
	tf_expect_errno("socket error, sender model", run.err, tf_schedule_errno(sb));
	for (size_t i = 1; i <= gb; i++) {
		const tf_sched_event *e = tf_schedule_event(sb, i);
		const tf_icmp_cause *c = &causes[i];
		int64_t at = i < run.n_tx ? tx_us[i]
		           : i == gb && run.err_ns >= 0 ? (run.err_ns - t0) / 1000 : -1;

		if (at < 0 || (i < gb && i >= run.n_tx))
			break;
		if (c->icmp >= 0 && c->immediate) {
			snprintf(label, sizeof label, "%s #%zu after ICMP #%d (sent while handling it)",
			         tf_tx_kind_name(e->kind), i, c->icmp + 1);
			if (i == gb)   /* a give-up the ICMP raised: the application's wake-up */
				tf_expect_app_time(label, at - icmp_us[c->icmp], c->after_us,
				                   c->after_lo_us, c->after_hi_us);
			else
				tf_expect_answer_time(label, at - icmp_us[c->icmp], c->after_us,
				                      c->after_lo_us, c->after_hi_us);
		} else {
			if (c->icmp >= 0)
				snprintf(label, sizeof label, "%s #%zu gap, sender model (timer re-armed "
				         "by ICMP #%d)", tf_tx_kind_name(e->kind), i, c->icmp + 1);
			else
				snprintf(label, sizeof label, "%s #%zu gap, sender model",
				         tf_tx_kind_name(e->kind), i);
			if (i == gb)   /* the give-up: its timer, then the application's wake-up */
				tf_expect_app_after_timers(label, at - tx_us[i - 1], e->gap_us,
				                           e->gap_lo_us, e->gap_hi_us, 1);
			else
				tf_expect_timer_time(label, at - tx_us[i - 1], e->gap_us, e->gap_lo_us,
				               e->gap_hi_us);
		}
	}

	/* The give-up is the budget rule's: tcp_write_timeout() at the first
	 * expiry at least budget after retrans_stamp (the first RTO
	 * retransmission), never between. */
	size_t first_rto = 0;
	for (size_t i = 0; i < tf_schedule_count(s) && !first_rto; i++)
		if (tf_schedule_event(s, i)->kind == TF_TX_RTO)
			first_rto = i;
	if (first_rto && first_rto < run.n_tx && run.err_ns >= 0) {
		int64_t b = (int64_t)budget_ms * 1000, rs = tx_us[first_rto];
		/* the give-up sends nothing: the application's wake-up
		 * (application side) */
		tf_expect_app_after_timers("give-up after retrans_stamp (budget .. budget + the last "
		                           "interval)", (run.err_ns - t0) / 1000 - rs, b + gv->gap_us / 2,
		                           b, b + gv->gap_hi_us, 1);
		tf_expect_int("transmissions a budget or more after retrans_stamp",
		              tx_us[run.n_tx - 1] - rs >= b, 0);
	}
	tf_expect_int("FIN or RST on the wire", run.fin_rst, 0);
	tf_expect_int("socket after give-up (sock_diag, -ENOENT = gone)", run.state_after, -ENOENT);
}

TF_CASE_F(unreach, peer_link_down_ehostunreach, .timeout_s = 40,
          .proves = "peer link down instead of a blackhole: over IPv4 the router's ICMP host unreachables undo backoff steps (RFC 6069), over IPv6 its ICMPv6 address unreachables do not (tcp_v6_err); the socket still gives up on the tcp_retries2 budget, with EHOSTUNREACH")
{
	link_down(self, variant, &(struct knobs){ 0 });
}

/*
 * The router's ICMP rate limit at 10 s: inet_peer_xrlim_allow()'s bucket
 * (6 errors deep, one per 10 s) runs dry within the case, so resolutions
 * end with fewer ICMPs than packets held, or none.  Over IPv6 it is where
 * kernels differ: icmpv6_xrlim_allow() before upstream 0201eedb69b2 shifts
 * the limit by the route's prefix (a /64: 2.5 s), so its third burst still
 * sends one ICMP where a current kernel sends none — the probe
 * (icmpv6_prefix_scaled()) says which the model takes.
 */
TF_CASE_F(unreach, peer_link_down_icmp_ratelimit, .timeout_s = 40,
          .proves = "peer link down with the router's ICMP rate limit at 10 s: its bucket decides how many host/address unreachables each failed resolution sends (inet_peer_xrlim_allow, icmpv6_xrlim_allow with or without its prefix shift), and over IPv4 how many backoff steps are undone")
{
	link_down(self, variant, &(struct knobs){ .router_icmp_ratelimit_ms = 10000 });
}
