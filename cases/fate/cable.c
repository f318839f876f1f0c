/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seed 001, "Unplug the cable for a few seconds, then plug it back in,
 * does the original TCP connection still exist?"
 *
 * Topology: client — router — server, an established connection, over
 * IPv4 and over IPv6 (every case is a variant of the `cable` fixture:
 * <case>_ipv4, <case>_ipv6).  The client's cable is pulled: its link is
 * set down (tf_fault_link_down), so the router's end loses carrier; heal
 * is the replug.  The server's link keeps carrier all along, so a capture
 * there sees everything the server sends and everything the router
 * answers.
 *
 * Where the families differ (lib/model_ndisc.c, tf_model_link_failure()):
 * the router's ARP fails over IPv4, its neighbour discovery over IPv6 —
 * in the same window (ndisc_solicit() follows arp_solicit()'s sequence,
 * net.ipv6.neigh.<if>.* have net.ipv4.neigh.<if>.*'s defaults) — and it
 * answers ICMP host unreachable (3, 1) or ICMPv6 address unreachable
 * (1, 3).  Both are EHOSTUNREACH at the server, but only tcp_v4_err()
 * undoes a backoff step for it (tcp_ld_RTO_revert()); tcp_v6_err() does
 * only for No Route, so over IPv6 the server's schedule stays the model's
 * to the end, and the cases assert it whole.  A client writing while its
 * own link is down finds no route: IPv6 keeps ENETUNREACH as a soft error
 * (inet6_csk_xmit()), IPv4 nothing (__ip_queue_xmit()).
 *
 * One thing the replug does not restore: a link set down loses the routes
 * through it (fib_sync_down_dev() flushes a route whose nexthop device goes
 * down, net/ipv4/fib_semantics.c; fib6_ifdown() on NETDEV_DOWN,
 * net/ipv6/route.c) and setting it up re-adds only the prefix routes of
 * its addresses (fib_add_ifaddr(), net/ipv4/fib_frontend.c).  A real
 * cable pull keeps the link up (only the carrier goes) and with it the
 * routes, or the network manager re-adds them on replug; the heal does the
 * latter (tf_fault_heal() restores the default routes of both families).
 */
#include "fate.h"
#include "../linkwatch.h"
#include "../rqwait.h"

#include <sched.h>

#define PORT 12001
/* icmp does not match ICMPv6: both, and NDP (icmp6) beside ARP */
#define FILTER "tcp port 12001 or icmp or icmp6"
#define ROUTER_FILTER "tcp port 12001 or arp or icmp6"

TF_FIXTURE(cable) {
	tf_topo *t;
	tf_host *client, *router, *server;
	int family;
	const char *router_gw;   /* the router on the server's link: the ICMPs' source */
	int cfd, sfd;
	tf_flow cf, sf;          /* client → server, server → client */
	tf_capture *srv;         /* on the server's link */
	tf_fault *pull;          /* the client's cable */
};
TF_FIXTURE_VARIANT(cable) {
	int family;
};
TF_VARIANTS_FAMILY(cable)

/* The world: client — router — server, no connection yet. */
static void cable_world(struct cable_fixture *self, int family)
{
	self->cfd = self->sfd = -1;
	self->family = family;
	self->t = tf_case_topo(TF_TOPO_PATH);
	self->client = tf_topo_client(self->t);
	self->router = tf_topo_router(self->t);
	self->server = tf_topo_server(self->t);
	self->router_gw = tf_topo_addr(self->t, TF_NODE_ROUTER_SERVER, family);
}

TF_FIXTURE_SETUP(cable)
{
	cable_world(self, variant->family);
	tf_case_family(self->client, variant->family);
}

TF_FIXTURE_TEARDOWN(cable)
{
	(void)variant;
	tf_fault_free(self->pull);
	self->pull = NULL;
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->sfd >= 0)
		close(self->sfd);
	self->cfd = self->sfd = -1;
	tf_topo_free(self->t);
	self->t = NULL;
}

/* The connection, and the capture on the server's link. */
static void cable_connect(struct cable_fixture *c)
{
	c->srv = tf_case_capture(c->server, TF_IF_SERVER, FILTER, "server");
	tf_must(tf_tcp_pair(c->client, c->server, tf_topo_addr(c->t, TF_NODE_SERVER, c->family), PORT,
	                    &c->cfd, &c->sfd));
	tf_must(tf_sock_flow(c->cfd, &c->cf));
	tf_must(tf_sock_flow(c->sfd, &c->sf));
}

/* Both ends alive: no error pending (SO_ERROR) and ESTABLISHED (sock_diag). */
static void expect_both_alive(struct cable_fixture *c, const char *when)
{
	char what[128];

	snprintf(what, sizeof what, "client SO_ERROR %s", when);
	tf_expect_errno(what, tf_sock_error(c->cfd), 0);
	snprintf(what, sizeof what, "server SO_ERROR %s", when);
	tf_expect_errno(what, tf_sock_error(c->sfd), 0);
	snprintf(what, sizeof what, "client state %s (sock_diag)", when);
	fate_expect_state(what, c->client, &c->cf, TCP_ESTABLISHED);
	snprintf(what, sizeof what, "server state %s (sock_diag)", when);
	fate_expect_state(what, c->server, &c->sf, TCP_ESTABLISHED);
}

/* How long linkwatch may take: its kworker needs the RTNL, which a storm of
 * namespaces being torn down (a concurrent suite ending) can hold for
 * seconds.  A failure, not a skip, past it. */
#define LINKWATCH_MS 15000

/* The pull: the client's link down, and the router's side of the cable
 * seen dead by its kernel (linkwatch flushed its neighbour entry for the
 * client: linkwatch.h) before anything is sent into the outage. */
static void unplug(struct cable_fixture *c)
{
	case_linkwatch rw;

	case_linkwatch_open(&rw, c->router, TF_IF_ROUTER_CLIENT);
	tf_must(tf_fault_link_down(c->client, TF_IF_CLIENT, &c->pull));
	case_linkwatch_wait(&rw, false, LINKWATCH_MS);
}

/* The replug: link up; the heal restores the default routes the link-down
 * flushed (fib_sync_down_dev(), fib6_ifdown()).  Returns (REALTIME) when
 * both ends' carrier-on has been processed (qdiscs active again:
 * linkwatch.h); *t_in is the moment just before the heal. */
static int64_t replug(struct cable_fixture *c, int64_t *t_in)
{
	case_linkwatch cw, rw;

	case_linkwatch_open(&cw, c->client, TF_IF_CLIENT);
	case_linkwatch_open(&rw, c->router, TF_IF_ROUTER_CLIENT);
	*t_in = tf_now_ns();
	tf_must(tf_fault_heal(c->pull));
	case_linkwatch_wait(&cw, true, LINKWATCH_MS);
	case_linkwatch_wait(&rw, true, LINKWATCH_MS);
	return tf_now_ns();
}

/* ------------------------------------------------------------------ */

/*
 * "When the cable is unplugged, the OS doesn't change anything in that
 *  structure, so the state of the TCP connection doesn't change either"
 * and "If TCP keepalive is not enabled ... the TCP connection between the
 *  client and the server will always exist".
 *
 * The window: an idle ESTABLISHED socket without SO_KEEPALIVE has no timer
 * armed at all — the retransmission timer needs packets_out, the zero
 * window probe a queued write, the delayed ACK unacknowledged data
 * (net/ipv4/tcp_timer.c).  The timers that could exist are bounded by the
 * initial RTO (TCP_TIMEOUT_INIT, 1 s), the delayed-ACK maximum (HZ/5) and
 * the neighbour solicitation interval (retrans_time_ms, 1 s, both
 * families): 3 s is three times the longest of them.  Then the replug,
 * and the same connection carries data both ways.
 */
#define QUIET_MS 3000

TF_CASE_F(cable, cable_pulled_idle, .timeout_s = 30,
          .proves = "seed 001: unplugged without traffic both ends stay ESTABLISHED, nothing is sent, and after the replug the same connection carries data")
{
	struct fate_tcp_info ci0, si0, ci1, si1;
	char buf[16];
	short rev = 0;
	int64_t t_pull;

	cable_connect(self);
	fate_tcp_info(self->cfd, &ci0);
	fate_tcp_info(self->sfd, &si0);

	t_pull = tf_now_ns();
	unplug(self);

	int fds[2] = { self->cfd, self->sfd };
	int who = fate_watch(fds, 2, self->srv, QUIET_MS, &rev);
	if (who >= 0)
		tf_note("%s socket woke up (revents 0x%x) while the cable was out",
		        who ? "server" : "client", (unsigned)rev);
	tf_expect_int("socket events in the 3 s window (poll: -1 = none)", who, -1);
	tf_must(tf_capture_read(self->srv));
	tf_match out = { .flow = &self->sf, .after_ns = t_pull }, in = { .flow = &self->cf,
	                                                                   .after_ns = t_pull };
	tf_expect_int("TCP packets on the server's link while the cable is out",
	              (long)tf_capture_count_match(self->srv, &out) + (long)tf_capture_count_match(self->srv, &in), 0);
	fate_tcp_info(self->cfd, &ci1);
	fate_tcp_info(self->sfd, &si1);
	tf_expect_int("segments the client's TCP sent while the cable was out (tcpi_segs_out)",
	              (long)(ci1.segs_out - ci0.segs_out), 0);
	tf_expect_int("segments the server's TCP sent while the cable was out (tcpi_segs_out)",
	              (long)(si1.segs_out - si0.segs_out), 0);
	expect_both_alive(self, "after 3 s unplugged");

	/* "does the original TCP connection still exist?" — use it. */
	int64_t t_in, t_up = replug(self, &t_in);
	tf_diag("replug_complete_ms", "%.3f  # both ends' carrier-on processed (linkwatch) after the heal",
	        (t_up - t_in) / 1e6);
	tf_must(tf_sock_send_all(self->cfd, "ping", 4));
	tf_expect_int("server reads the client's bytes after the replug",
	              fate_recv_exact(self->sfd, buf, 4, 2000), 4);
	tf_expect_int("... and they are the bytes sent", memcmp(buf, "ping", 4), 0);
	tf_must(tf_sock_send_all(self->sfd, "pong", 4));
	tf_expect_int("client reads the server's bytes after the replug",
	              fate_recv_exact(self->cfd, buf, 4, 2000), 4);
	tf_expect_int("... and they are the bytes sent", memcmp(buf, "pong", 4), 0);
	tf_must(tf_capture_read(self->srv));
	tf_expect_int("FIN or RST on the server's link", (long)tf_capture_count_flags(self->srv, &self->sf,
	              true, TF_TCP_FIN | TF_TCP_RST), 0);
}

/* ------------------------------------------------------------------ */

/* A router sysctl of its client-side link's neighbour table:
 * net.ipv4.neigh.<if>.<knob> (arp_tbl) or net.ipv6.neigh.<if>.<knob>
 * (nd_tbl, net/ipv6/ndisc.c). */
static long router_neigh(struct cable_fixture *c, const char *knob)
{
	char key[96];
	long v;

	snprintf(key, sizeof key, "net.%s.neigh.%s.%s", c->family == AF_INET6 ? "ipv6" : "ipv4",
	         TF_IF_ROUTER_CLIENT, knob);
	tf_must(tf_host_sysctl_get_int(c->router, key, &v));
	return v;
}

/*
 * When the router's neighbour resolution for the client fails, and what
 * it says: its entry for the client goes when its link loses carrier
 * (arp_netdev_event() / ndisc_netdev_event() → neigh_carrier_down(), with
 * arp_evict_nocarrier / ndisc_evict_nocarrier), an event linkwatch
 * handles within HZ (linkwatch_schedule_work(), net/core/link_watch.c; at
 * once only if linkwatch_urgent_event(), which a veth whose ifindex equals
 * its peer's, as the router's and the client's eth0 do, is not where it
 * compares ifindex and iflink: measured ~1 s here); the first packet it
 * forwards after that creates an INCOMPLETE entry, which fails after
 * mcast_solicit solicitations retrans_time_ms apart (__neigh_event_send()
 * starts the count at ucast_solicit, neigh_timer_handler() fails it at
 * ucast + app + mcast, each timer rounded up by the wheel; arp_solicit()
 * and ndisc_solicit() count alike); then arp_error_report() →
 * ipv4_link_failure() sends the server an ICMP host unreachable, or
 * ndisc_error_report() → ip6_link_failure() an ICMPv6 address
 * unreachable, for every packet it held.  In µs from the original
 * transmission, from the model's schedule s (tf_model_link_failure()):
 * earliest_us, the earliest an ICMP can come (a resolution started by the
 * original); latest_us; resolution.hi_us, the longest one resolution takes.
 */
static void neigh_failure(struct cable_fixture *c, const tf_schedule *s, tf_link_failure *f)
{
	bool v6 = c->family == AF_INET6;
	/* Both must be set: IN_DEV_ANDCONF in arp_netdev_event() (5.16+),
	 * all && dev in ndisc_netdev_event() (5.18+); unconditional before. */
	const char *const evict[] = {
		v6 ? "net.ipv6.conf.all.ndisc_evict_nocarrier" : "net.ipv4.conf.all.arp_evict_nocarrier",
		v6 ? "net.ipv6.conf." TF_IF_ROUTER_CLIENT ".ndisc_evict_nocarrier"
		   : "net.ipv4.conf." TF_IF_ROUTER_CLIENT ".arp_evict_nocarrier" };
	tf_neigh_params p;
	long v;

	for (size_t i = 0; i < TF_ARRAY_SIZE(evict); i++) {
		if (!tf_host_sysctl_exists(c->router, evict[i])) {
			tf_note("no %s: carrier loss always evicts the neighbour cache (before %s)",
			        evict[i], v6 ? "5.18" : "5.16");
			continue;
		}
		tf_must(tf_host_sysctl_get_int(c->router, evict[i], &v));
		if (v == 0)
			TF_SKIP("%s = 0: the router keeps its neighbour entries on carrier loss", evict[i]);
	}
	tf_must(tf_neigh_params_init_family(c->family, &p));
	p.hz = tf_case_hz();
	p.ucast_solicit = (unsigned)router_neigh(c, "ucast_solicit");
	p.mcast_solicit = (unsigned)router_neigh(c, "mcast_solicit");
	p.app_solicit = (unsigned)router_neigh(c, "app_solicit");
	p.retrans_time_ms = (uint32_t)router_neigh(c, "retrans_time_ms");
	tf_must(tf_model_link_failure(c->family, &p, s, f));
	tf_diag("neigh_failure", "%s (%u, %u) -> %s, %s  # tf_model_link_failure()",
	        v6 ? "ICMPv6" : "ICMP", f->icmp_type, f->icmp_code, tf_errno_name(f->err),
	        f->rto_revert ? "undoes a backoff step" : "undoes no backoff step");
}

/* The router's error for what it held for the client, from after_ns on. */
static tf_match neigh_icmp(const struct cable_fixture *c, const tf_link_failure *f,
                             int64_t after_ns)
{
	tf_match m = { .icmp_type = (uint8_t)f->icmp_type, .icmp_code = (uint8_t)f->icmp_code,
	                 .after_ns = after_ns };

	tf_must(tf_match_icmp_from(&m, c->router_gw));
	return m;
}

/*
 * "If the client happens to plug the network cable back in during the
 *  retransmission of the message from the server ... the client can
 *  normally receive the data message from the server, and then the client
 *  will return the ACK response message."
 *
 * The server writes 1000 bytes into the outage.  On the server's link its
 * transmissions follow the model's schedule (original, loss probe, RTOs)
 * until the router's neighbour resolution for the client fails and it
 * answers with an ICMP (host / address unreachable), which is at least
 * mcast_solicit x retrans_time_ms (3 s) after its first attempt.  Then the
 * cable goes back in: either after the second RTO retransmission, before
 * any ICMP, or only once the first ICMP has reached the server.
 *
 * That ICMP is a soft error for an established socket: tcp_v4_err() and
 * tcp_v6_err() keep it in sk_err_soft — no POLLERR; getsockopt(SO_ERROR)
 * does hand it out (and clears it) when there is no hard error, which an
 * application may take for a dead connection; tcp_write_err() reports it
 * if the connection times out.  Over IPv4 it may undo a backoff step
 * (tcp_ld_RTO_revert(), RFC 6069) — it never makes retransmissions later;
 * over IPv6 it undoes none, so the server's transmissions are the model's
 * schedule throughout, which the IPv6 variant asserts.  So after the
 * replug the next retransmission comes no later than the model's next
 * interval after the last transmission (each expiry adds at most one
 * backoff step, each ICMP may take one away), and reaches the client then
 * or, if it waits in the router for a neighbour solicitation, within one
 * retrans_time_ms (neigh_timer_handler() repeats them while the entry is
 * INCOMPLETE; one finding it FAILED starts a new resolution at once,
 * __neigh_event_send()).  The ACK of the data is on the server's link by
 * then; the first ACK clears sk_err_soft (tcp_ack()).  No error anywhere,
 * both ESTABLISHED, the bytes intact.
 */
/* One try; false (nothing asserted) when the replug came too late for the
 * scenario and `retry` allows another go. */

/* SO_ERROR once the ICMP captured at icmp_ns (realtime) has been handled.
 * Its handler (icmp_rcv() -> tcp_v4_err()) runs in the softirq that gave
 * the capture its copy, after that copy: a 6.1 guest's harness read the
 * capture, then SO_ERROR, while that softirq was held off (0, not
 * EHOSTUNREACH).  No event marks a soft error, so SO_ERROR is read again,
 * yielding, until it is set or a softirq's allowance past the ICMP's stamp
 * has gone by: the slack and the run's timer allowance, as for any answer
 * the kernel gives at once (tf_expect_answer_time()). */
static int soft_error_after(int fd, int64_t icmp_ns)
{
	int64_t until = icmp_ns + (tf_slack_us() + tf_case_timer_allowance_us()) * 1000;
	int e;

	while ((e = tf_sock_error(fd)) == 0 && tf_now_ns() < until)
		sched_yield();
	tf_diag("soft_error_read_us", "%lld  # SO_ERROR read this long after the ICMP's stamp "
	        "(until it was set, for up to slack + timer allowance)", (long long)((tf_now_ns() - icmp_ns) / 1000));
	return e;
}

static bool replug_attempt(struct cable_fixture *c, bool after_icmp, bool retry)
{
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	uint8_t msg[1000], got[1000];
	size_t idx[64], n, n_before = 0;
	int64_t tx[64], t_sent, t_heal, t_icmp = -1;
	tf_link_failure f;
	uint32_t seq;
	char label[160];

	cable_connect(c);
	tf_capture *rtr = tf_case_capture(c->router, TF_IF_ROUTER_CLIENT, ROUTER_FILTER,
	                                  "router_client");

	m = tf_case_model_sock(c->server, c->sfd);
	tf_case_check_rto(m, c->sfd);
	tf_must(tf_model_retrans(m, &s));
	long k = tf_schedule_nth(s, TF_TX_RTO, 2);
	if (k < 0)
		tf_fail("model schedule has no second RTO retransmission");
	neigh_failure(c, s, &f);
	tf_match icmp = neigh_icmp(c, &f, 0);

	unplug(c);
	fate_pattern(msg, sizeof msg, 1);
	t_sent = tf_now_ns();
	icmp.after_ns = t_sent;
	tf_must(tf_sock_send_all(c->sfd, msg, sizeof msg));

	if (!after_icmp) {
		/* Replug after the second RTO retransmission. */
		const tf_sched_event *ek = tf_schedule_event(s, (size_t)k);
		tf_match data = { .flow = &c->sf, .payload = 1, .after_ns = t_sent };
		if (tf_capture_wait_match(c->srv, &data, (size_t)k + 1, (int)(ek->at_hi_us / 1000) + 1000) < 0)
			tf_fail("fewer than %ld transmissions of the data on the server's link", k + 1);
	} else {
		/* Replug once the router has reported the client unreachable. */
		long ii = tf_capture_wait_match(c->srv, &icmp, 1, (int)(f.latest_us / 1000) + 1000);
		if (ii < 0)
			tf_fail("no ICMP (%u, %u) from the router by %.3f s", f.icmp_type, f.icmp_code,
			        f.latest_us / 1e6);
		t_icmp = tf_capture_pkt(c->srv, (size_t)ii)->ts_ns;
		/* Soft: no POLLERR, but SO_ERROR hands out sk_err_soft when
		 * sk_err is 0, and clears it (sk_getsockopt(), net/core/sock.c). */
		short rev = 0;
		int pr = tf_sock_wait(c->sfd, POLLRDHUP, 0, &rev);
		tf_expect_int("server socket events on the ICMP (poll: -ETIME = none)",
		              pr == -ETIME ? -ETIME : rev, -ETIME);
		tf_expect_errno("server SO_ERROR after the ICMP: the soft error, read and cleared",
		                soft_error_after(c->sfd, t_icmp), f.err);
	}
	int64_t t_up = replug(c, &t_heal);

	tf_must(tf_capture_read(c->srv));
	tf_must(tf_case_first_data(c->srv, &c->sf, t_sent, &seq));
	n = tf_capture_tx_of(c->srv, &c->sf, seq, idx, TF_ARRAY_SIZE(idx));
	if (n > TF_ARRAY_SIZE(tx))
		n = TF_ARRAY_SIZE(tx);
	for (size_t i = 0; i < n; i++) {
		tx[i] = tf_capture_pkt(c->srv, idx[i])->ts_ns;
		n_before += tx[i] < t_heal;
	}
	if (!after_icmp) {
		/* The scenario is a replug before the router gives the client
		 * up: the heal must come right after transmission k+1, before
		 * any ICMP.  A case process woken late (the replug is its
		 * doing, not the kernel's) misses that: check the order on
		 * the wire and set it up again rather than assert a lost race. */
		long ii = tf_capture_find(c->srv, 0, &icmp);
		bool icmp_first = ii >= 0 && tf_capture_pkt(c->srv, (size_t)ii)->ts_ns < t_heal;
		if ((n_before != (size_t)k + 1 || icmp_first) && retry) {
			tf_note("replug after %zu transmissions%s, not %ld: the heal came late (this "
			        "process's doing); set up again", n_before,
			        icmp_first ? " and the router's ICMP" : "", k + 1);
			return false;
		}
	}
	tf_diag("replug_after_s", "%.3f (%zu transmissions)", (double)(t_heal - tx[0]) / 1e9, n_before);
	if (after_icmp) {
		tf_diag("first_icmp_unreachable_s", "%.3f", (double)(t_icmp - tx[0]) / 1e9);
		tf_expect_timer_time("first ICMP unreachable (one neighbour resolution .. linkwatch + one resolution)",
		               (t_icmp - tx[0]) / 1000, (f.earliest_us + f.latest_us) / 2, f.earliest_us,
		               f.latest_us);
	} else {
		tf_expect_int("transmissions while the cable was out", (long)n_before, k + 1);
	}
	/* Before any ICMP the schedule is the model's; where the ICMP undoes
	 * no backoff step (tcp_v6_err()), after it too, to the replug and
	 * past it: every transmission until the ACK. */
	size_t n_model = f.rto_revert ? n_before : n;
	for (size_t i = 1; i < n_model && i + 1 < tf_schedule_count(s); i++) {
		const tf_sched_event *e = tf_schedule_event(s, i);
		if (f.rto_revert && t_icmp >= 0 && tx[i] > t_icmp)
			break;
		snprintf(label, sizeof label, "outage #%zu %s gap%s", i, tf_tx_kind_name(e->kind),
		         t_icmp >= 0 && tx[i] > t_icmp ? " (after the ICMP: no revert, tcp_v6_err())" : "");
		tf_expect_timer_time(label, (tx[i] - tx[i - 1]) / 1000, e->gap_us, e->gap_lo_us, e->gap_hi_us);
	}

	/* The ACK: by the model's next interval after the last transmission,
	 * plus one neighbour solicitation. */
	/* A transmission between the heal and both ends' linkwatch (t_up) may
	 * still have met an inactive qdisc: the bound counts from the last
	 * transmission before t_up (the same as before the heal unless the
	 * kworker was late). */
	size_t n_upto = 0;
	for (size_t i = 0; i < n; i++)
		n_upto += tx[i] < t_up;
	tf_diag("replug_complete_ms", "%.3f  # both ends' carrier-on processed (linkwatch) after the "
	        "heal; %zu transmission(s) in between", (t_up - t_heal) / 1e6, n_upto - n_before);
	if (n_upto == 0 || n_upto >= tf_schedule_count(s) ||
	    tf_schedule_event(s, n_upto)->kind == TF_TX_GIVEUP)
		tf_fail("model gives up before the replug");
	const tf_sched_event *next = tf_schedule_event(s, n_upto);
	int64_t solicit_us = router_neigh(c, "retrans_time_ms") * 1000;
	int64_t last_us = (tx[n_upto - 1] - tx[0]) / 1000;
	tf_match ack = { .flow = &c->cf, .all = TF_TCP_ACK, .after_ns = t_heal, .has_ack = true,
	                   .ack = seq + (uint32_t)sizeof msg };
	long ai = tf_capture_wait_match(c->srv, &ack, 1, (int)((next->gap_hi_us + solicit_us) / 1000) + 2000);
	if (ai < 0)
		tf_fail("no ACK of the data on the server's link after the replug");
	int64_t t_ack = tf_capture_pkt(c->srv, (size_t)ai)->ts_ns;
	/* two timers: the retransmission's, then the solicitation's */
	tf_expect_timer_chain("ACK of the data after the replug (by the next retransmission + one solicitation)",
	                      (t_ack - tx[0]) / 1000, last_us + next->gap_us, (t_heal - tx[0]) / 1000,
	                      last_us + next->gap_hi_us + solicit_us, 2);
	tf_expect_int("client reads the 1000 bytes", fate_recv_exact(c->cfd, got, sizeof got, 2000),
	              (long)sizeof got);
	tf_expect_int("... intact", memcmp(got, msg, sizeof msg), 0);

	tf_must(tf_capture_read(rtr));
	tf_expect_int("data segments crossing to the client after the replug (router's link) >= 1",
	              tf_capture_count_match(rtr, &(tf_match){ .flow = &c->sf, .payload = 1,
	                                             .after_ns = t_heal }) >= 1, 1);
	expect_both_alive(c, "after the replug");
	tf_must(tf_capture_read(c->srv));
	tf_expect_int("FIN or RST on the server's link", (long)tf_capture_count_flags(c->srv, &c->sf, true,
	              TF_TCP_FIN | TF_TCP_RST), 0);
	return true;
}

static void replug_during_retransmissions(struct cable_fixture *self,
                                          const struct cable_variant *variant, bool after_icmp)
{
	for (int attempt = 1; attempt <= 3; attempt++) {
		if (attempt > 1) {
			/* a fresh world: the fixture's teardown, a new world */
			cable_teardown(self, variant);
			cable_world(self, variant->family);
		}
		if (replug_attempt(self, after_icmp, attempt < 3)) {
			tf_diag("attempts", "%d  # a late replug is set up again, never asserted", attempt);
			return;
		}
	}
}

TF_CASE_F(cable, cable_replug_before_giveup, .timeout_s = 30,
          .proves = "seed 001: replugged during the retransmissions, the data arrives intact, the client ACKs it, both stay ESTABLISHED with no error")
{
	replug_during_retransmissions(self, variant, false);
}

TF_CASE_F(cable, cable_replug_after_unreachable, .timeout_s = 30,
          .proves = "seed 001: even after the router reported the client unreachable (ICMP host / ICMPv6 address unreachable), a replug before the give-up recovers the connection: the ICMP is a soft error, and over IPv6 it leaves the schedule the model's")
{
	replug_during_retransmissions(self, variant, true);
}

/* ------------------------------------------------------------------ */

/*
 * "if the client does not plug the cable back in ... the server will
 *  disconnect the TCP connection when the number of retransmissions reaches
 *  the maximum ... When the client sends data to the server after plugging
 *  back in the network cable, the server will return the RST message ...
 *  At this point, both TCP connections are disconnected."
 *
 * Which error does the server get?  The router keeps trying to deliver its
 * retransmissions to the client, and each resolution fails
 * (neigh_failure() above) with an ICMP host unreachable or ICMPv6 address
 * unreachable for every packet it held.  tcp_v4_err() / tcp_v6_err()
 * store EHOSTUNREACH in sk_err_soft (an established socket treats it as
 * soft), and tcp_write_err() reports sk_err_soft ?: ETIMEDOUT.  So:
 * EHOSTUNREACH when that ICMP is sure to come before the retries2 budget
 * ends, which the case computes from the router's sysctls and the model,
 * and tells the model (tf_model_set_neigh_failed).
 *
 * Over IPv4 the ICMPs also undo backoff steps (tcp_ld_RTO_revert(), RFC
 * 6069), so after the first of them the schedule is no longer the model's;
 * the model's stated bound holds: the error comes no earlier than the
 * first RTO retransmission plus the budget (tcp_write_timeout() checks
 * now - retrans_stamp >= budget at each expiry), after no transmission
 * past that point, and no later than one model give-up interval past it.
 * Over IPv6 they undo none (tcp_v6_err() reverts only for No Route), so
 * the whole schedule, every gap and the give-up, is the model's: a silent
 * peer's, ending in EHOSTUNREACH.
 */
TF_CASE_F(cable, cable_rst_after_reconnect, .timeout_s = 60,
          .proves = "seed 001: the server gives up while the cable is out (EHOSTUNREACH: the router's ARP / neighbour discovery fails); replugged, the client's next segment gets a RST and ECONNRESET")
{
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	uint64_t budget_ms;
	int64_t t_sent, t_err, t_heal;
	tf_link_failure f;
	uint32_t seq;
	int err = 0;

	tf_must(tf_host_sysctl_set_int(self->server, "net.ipv4.tcp_retries2", 4));
	cable_connect(self);
	tf_capture *rtr = tf_case_capture(self->router, TF_IF_ROUTER_CLIENT, ROUTER_FILTER,
	                                  "router_client");

	m = tf_case_model_sock(self->server, self->sfd);
	tf_must(tf_model_retries2_budget_ms(m, &budget_ms));

	/* The prediction of the error, from the kernel rules above. */
	_cleanup_(tf_schedule_freep) tf_schedule *plain = NULL;
	tf_must(tf_model_retrans(m, &plain));
	long rtx1 = tf_schedule_nth(plain, TF_TX_RTO, 1);
	if (rtx1 < 0)
		tf_fail("model schedule has no RTO retransmission");
	neigh_failure(self, plain, &f);
	int64_t giveup_earliest = tf_schedule_event(plain, (size_t)rtx1)->at_lo_us +
	                          (int64_t)budget_ms * 1000;
	bool neigh_failed = f.latest_us < giveup_earliest;
	tf_note("router's neighbour resolution fails by %.3f s at the latest, the server cannot give "
	        "up before %.3f s: predicted errno %s", f.latest_us / 1e6, giveup_earliest / 1e6,
	        neigh_failed ? tf_errno_name(f.err) : "ETIMEDOUT or EHOSTUNREACH");
	if (!neigh_failed)
		tf_fail("this configuration cannot predict the errno (neighbour failure and give-up overlap)");
	tf_must(tf_model_set_neigh_failed(m, true));
	tf_must(tf_model_retrans(m, &s));
	const tf_sched_event *gv = tf_schedule_event(s, tf_schedule_giveup(s));

	/* Pull the client's cable; the server sends into the outage. */
	unplug(self);
	t_sent = tf_now_ns();
	tf_must(tf_sock_send_all(self->sfd, "are you there?", 14));
	int64_t rq0 = case_rq_wait_ns();
	int r = tf_sock_wait_error(self->sfd, (int)((giveup_earliest + gv->gap_hi_us) / 1000) + 5000,
	                           &err, &t_err);
	int64_t rq_us = case_rq_wait_us(rq0, case_rq_wait_ns());
	if (r == -ETIME)
		tf_fail("the server did not give up");
	tf_must(r);
	tf_must(tf_capture_read(self->srv));
	tf_must(tf_case_first_data(self->srv, &self->sf, t_sent, &seq));

	size_t idx[64], n = tf_capture_tx_of(self->srv, &self->sf, seq, idx, TF_ARRAY_SIZE(idx));
	if (n <= (size_t)rtx1)
		tf_fail("only %zu transmissions of the data on the server's link", n);
	int64_t t0 = tf_capture_pkt(self->srv, idx[0])->ts_ns;
	int64_t t_rtx1 = tf_capture_pkt(self->srv, idx[rtx1])->ts_ns;
	int64_t t_last = tf_capture_pkt(self->srv, idx[n - 1])->ts_ns;
	tf_diag("server_transmissions", "%zu", n);
	tf_diag("server_error", "%s after %.3f s", tf_errno_name(err), (double)(t_err - t0) / 1e9);

	tf_expect_errno("server socket error", err, tf_schedule_errno(s));
	tf_match unreach = neigh_icmp(self, &f, t0);
	long ui = tf_capture_find(self->srv, 0, &unreach);
	long icmp_before = ui >= 0 && tf_capture_pkt(self->srv, (size_t)ui)->ts_ns < t_err;
	if (ui >= 0)
		tf_diag("first_icmp_unreachable_s", "%.3f",
		        (double)(tf_capture_pkt(self->srv, (size_t)ui)->ts_ns - t0) / 1e9);
	tf_expect_int("ICMP unreachable from the router before the error", icmp_before, 1);
	/* the give-up sends nothing: the application's wake-up on the error
	 * (application side); the transmissions are the kernel side */
	tf_diag("rq_wait_us", "%lld  # this thread's run-queue wait while it waited for the error",
	        (long long)rq_us);
	tf_expect_app_after_timers("give-up after the first RTO retransmission (budget .. budget + one "
	                           "model interval) (+ this thread's run-queue wait)",
	                           (t_err - t_rtx1) / 1000, (int64_t)budget_ms * 1000 + gv->gap_us / 2,
	                           (int64_t)budget_ms * 1000,
	                           (int64_t)budget_ms * 1000 + gv->gap_hi_us + rq_us, 1);
	tf_expect_int("server transmissions later than the budget after the first RTO retransmission",
	              (t_last - t_rtx1) / 1000 >= (int64_t)budget_ms * 1000 + tf_slack_us(), 0);
	if (!f.rto_revert) {
		/* No ICMP undid a backoff step (tcp_v6_err()): the schedule is
		 * the model's, every gap, the count and the give-up. */
		int64_t tx[64];

		for (size_t i = 0; i < n && i < TF_ARRAY_SIZE(tx); i++)
			tx[i] = tf_capture_pkt(self->srv, idx[i])->ts_ns;
		tf_check_schedule("retrans", s, tx, n < TF_ARRAY_SIZE(tx) ? n : TF_ARRAY_SIZE(tx), t_err);
	}
	tf_expect_int("server socket after the give-up (sock_diag: -ENOENT = gone)",
	              fate_state(self->server, &self->sf), -ENOENT);

	/* Replug only once the router has dropped what it held for the client
	 * (its resolution failed after the server's last transmission, which
	 * it reports with an ICMP): else it would deliver the server's old
	 * data on the replug and the RST would answer the client's ACK of it. */
	tf_match late_icmp = neigh_icmp(self, &f, t_last + 1);
	tf_expect_int("the router reported the server's last transmission (ICMP after it)",
	              tf_capture_wait_match(self->srv, &late_icmp, 1, (int)(f.resolution.hi_us / 1000) + 1000) >= 0,
	              1);

	replug(self, &t_heal);
	ssize_t w = send(self->cfd, "hello again\n", 12, MSG_NOSIGNAL);
	tf_expect_int("client write() after the replug succeeds (the kernel queues it)", (long)w, 12);
	short rev = 0;
	r = tf_sock_wait(self->cfd, POLLIN, 3000, &rev);
	if (r == -ETIME)
		tf_fail("no answer to the client's segment after the replug");
	char buf[16];
	ssize_t got = recv(self->cfd, buf, sizeof buf, MSG_DONTWAIT);
	tf_expect_int("client read() after the RST returns -1", (long)got, -1);
	tf_expect_errno("client read() errno", got < 0 ? errno : 0, ECONNRESET);
	w = send(self->cfd, "x", 1, MSG_NOSIGNAL);
	tf_expect_errno("client write() after that", w < 0 ? errno : 0, EPIPE);

	tf_must(tf_capture_read(self->srv));
	long di = tf_capture_find(self->srv, 0, &(tf_match){ .flow = &self->cf, .payload = 1,
	                                                  .after_ns = t_heal });
	tf_expect_int("client's segment reaches the server's link", di >= 0, 1);
	if (di >= 0) {
		const tf_pkt *d = tf_capture_pkt(self->srv, (size_t)di);
		long ri = tf_capture_find(self->srv, (size_t)di, &(tf_match){ .flow = &self->sf,
		                                                          .all = TF_TCP_RST });
		tf_expect_int("server's kernel answers it with a RST", ri >= 0, 1);
		if (ri >= 0)
			/* tcp_v4_send_reset() / tcp_v6_send_reset(): an ACKing
			 * segment gets seq = its ack */
			tf_expect_int("RST sequence number == the segment's ACK field",
			              (long)tf_capture_pkt(self->srv, (size_t)ri)->seq, (long)d->ack);
	}
	tf_must(tf_capture_read(rtr));
	tf_expect_int("data of the old connection delivered to the client after the replug",
	              (long)tf_capture_count_match(rtr, &(tf_match){ .flow = &self->sf, .payload = 1,
	                                                   .after_ns = t_heal }), 0);
	tf_expect_int("client socket after the RST (sock_diag: -ENOENT = gone)",
	              fate_state(self->client, &self->cf), -ENOENT);
}

/* ------------------------------------------------------------------ */

/*
 * The other side of the pull: the client writes while its own cable is
 * out.  Its link is down and with it its routes (fib_sync_down_dev(),
 * fib6_ifdown()), so its TCP's transmission of the new data finds no
 * route: the write succeeds (the bytes are queued), nothing leaves, and
 * the zero-window probe timer takes over (tcp_write_xmit() sent nothing
 * with nothing in flight: tcp_check_probe_timer()), retrying with backoff.
 * What the application sees differs by family (tf_model_no_route_error()):
 * inet6_csk_xmit() stores the route lookup's ENETUNREACH in sk_err_soft,
 * which SO_ERROR hands out (and clears); __ip_queue_xmit() stores nothing.
 * Replugged (the heal restores the routes), the next probe carries the
 * bytes, the server's ACK clears sk_err_soft (tcp_ack()), and the same
 * connection carries data both ways.
 */
TF_CASE_F(cable, cable_unplugged_client_writes, .timeout_s = 40,
          .proves = "seed 001: the client writes with its own cable out: no route; the soft error is ENETUNREACH over IPv6, none over IPv4; after the replug the bytes arrive and both stay ESTABLISHED")
{
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	char buf[16];
	int want = -1;

	cable_connect(self);
	m = tf_case_model_sock(self->client, self->cfd);
	tf_must(tf_model_no_route_error(self->family, false, &want));

	unplug(self);
	int64_t t_w = tf_now_ns();
	tf_expect_int("client write() with its link down (queued)",
	              (long)send(self->cfd, "late", 4, MSG_NOSIGNAL), 4);
	tf_expect_errno("client SO_ERROR after the write: the route error it kept (read and cleared)",
	                tf_sock_error(self->cfd), want);
	fate_expect_state("client state with its link down (sock_diag)", self->client, &self->cf,
	                  TCP_ESTABLISHED);

	int64_t t_in, t_up = replug(self, &t_in);
	/* The probe timer backs off from tcp_probe0_base() (the RTO, at least
	 * TCP_RTO_MIN), doubling: the probe after the replug comes within the
	 * time the link was out plus one base interval after it.  A wait's
	 * deadline, with room; what is asserted is that the bytes come. */
	unsigned hz = tf_case_hz();
	int64_t base_us = (int64_t)tf_jiffies_to_us(hz, tf_model_probe0_base(hz, tf_model_rto_jiffies(m)));
	int wait_ms = (int)((2 * (t_up - t_w) / 1000 + 2 * base_us) / 1000) + 3000;
	tf_expect_int("server reads the client's bytes after the replug",
	              fate_recv_exact(self->sfd, buf, 4, wait_ms), 4);
	tf_expect_int("... and they are the bytes written", memcmp(buf, "late", 4), 0);
	tf_must(tf_sock_send_all(self->sfd, "pong", 4));
	tf_expect_int("client reads the server's bytes (its ACK processed before them)",
	              fate_recv_exact(self->cfd, buf, 4, 2000), 4);
	tf_must(tf_capture_read(self->srv));
	long first = tf_capture_find(self->srv, 0, &(tf_match){ .flow = &self->cf, .payload = 1,
	                                                     .after_ns = t_w });
	if (first >= 0)
		tf_diag("bytes_on_server_link_after_replug_ms", "%.3f",
		        (tf_capture_pkt(self->srv, (size_t)first)->ts_ns - t_in) / 1e6);
	tf_expect_int("client data on the server's link before the replug",
	              first >= 0 && tf_capture_pkt(self->srv, (size_t)first)->ts_ns < t_in, 0);
	expect_both_alive(self, "after the replug");
	tf_expect_int("FIN or RST on the server's link", (long)tf_capture_count_flags(self->srv, &self->sf,
	              true, TF_TCP_FIN | TF_TCP_RST), 0);
}

/*
 * And if the cable stays out, the client's TCP gives up on its own.  Its
 * data never left (no route), so nothing is in flight and it is the probe
 * timer, not the retransmission timer, that retries: tcp_probe_timer()
 * tries the data again at tcp_probe0_when() = tcp_probe0_base() <<
 * backoff, each try failing, and gives up at the expiry where
 * icsk_probes_out >= tcp_retries2 (tf_model_no_route_giveup()).  The
 * error is sk_err_soft ?: ETIMEDOUT (tcp_write_err()): over IPv6 every
 * try left ENETUNREACH there (inet6_csk_xmit()); over IPv4 none did
 * (__ip_queue_xmit()), so the same give-up reads ETIMEDOUT.  The server
 * heard nothing: it stays ESTABLISHED.
 */
#define CLIENT_RETRIES2 3

TF_CASE_F(cable, cable_unplugged_client_gives_up, .timeout_s = 40,
          .proves = "seed 001: the client writes with its own cable out for good: the probe timer gives up after tcp_retries2 tries, with ENETUNREACH over IPv6 and ETIMEDOUT over IPv4")
{
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	int want = -1, err = 0;
	int64_t t_err;
	tf_band b;

	tf_must(tf_host_sysctl_set_int(self->client, "net.ipv4.tcp_retries2", CLIENT_RETRIES2));
	cable_connect(self);
	m = tf_case_model_sock(self->client, self->cfd);
	tf_case_check_rto(m, self->cfd);
	tf_must(tf_model_no_route_giveup(self->family, tf_case_hz(), tf_model_rto_jiffies(m),
	                                 CLIENT_RETRIES2, &b, &want));
	tf_diag("model_giveup", "%s after %.3f .. %.3f s  # tf_model_no_route_giveup(), %u timers",
	        tf_errno_name(want), b.lo_us / 1e6, b.hi_us / 1e6, CLIENT_RETRIES2 + 1);

	unplug(self);
	int64_t t_w = tf_now_ns();
	tf_expect_int("client write() with its link down (queued)",
	              (long)send(self->cfd, "late", 4, MSG_NOSIGNAL), 4);
	int64_t rq0 = case_rq_wait_ns();
	int r = tf_sock_wait_error(self->cfd, (int)(b.hi_us / 1000) + 5000, &err, &t_err);
	int64_t rq_us = case_rq_wait_us(rq0, case_rq_wait_ns());
	if (r == -ETIME)
		tf_fail("the client did not give up");
	tf_must(r);
	tf_diag("client_error", "%s after %.3f s", tf_errno_name(err), (double)(t_err - t_w) / 1e9);
	tf_diag("rq_wait_us", "%lld  # this thread's run-queue wait while it waited for the error",
	        (long long)rq_us);
	tf_expect_errno("client socket error (sk_err_soft ?: ETIMEDOUT)", err, want);
	/* the give-up sends nothing: the application's wake-up on it */
	tf_expect_app_after_timers("give-up after the write (tcp_retries2 + 1 probe timers) (+ this "
	                           "thread's run-queue wait)", (t_err - t_w) / 1000, b.mid_us, b.lo_us,
	                           b.hi_us + rq_us, CLIENT_RETRIES2 + 1);
	tf_expect_int("client socket after the give-up (sock_diag: -ENOENT = gone)",
	              fate_state(self->client, &self->cf), -ENOENT);
	fate_expect_state("server state (it heard nothing: sock_diag)", self->server, &self->sf,
	                  TCP_ESTABLISHED);
	tf_must(tf_capture_read(self->srv));
	tf_expect_int("client data on the server's link",
	              (long)tf_capture_count_match(self->srv, &(tf_match){ .flow = &self->cf, .payload = 1,
	                                                         .after_ns = t_w }), 0);
}
