/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seed 003, "Path MTU Black Holes":
 *
 *   "Ping works. Small HTTP requests work. Large file transfers hang
 *    forever."  "many firewalls block all ICMP. The "Fragmentation Needed"
 *    message never arrives. The sender keeps trying large packets. They
 *    keep getting dropped. The connection hangs."  "The kernel parameter
 *    tcp_mtu_probing enables RFC 4821 PLPMTUD, which discovers MTU without
 *    relying on ICMP."
 *
 * Topology: client — router — server; the router's link toward the server
 * has MTU 1280, every host interface keeps 1500 (so both ends advertise
 * MSS 1460 and nothing in the handshake hints at the small hop; lowering
 * the server's own MTU would lower its advertised MSS and hide the black
 * hole).  ICMP from the router is suppressed (policy rule -> blackhole
 * table) except where the case says it is allowed.
 *
 * The kernel's rules:
 *  - TCP sets DF (IP_PMTUDISC_WANT); the router drops a DF packet larger
 *    than the next hop's MTU and sends ICMP frag-needed (ip_forward() ->
 *    ip_exceeds_mtu()); with it the client lowers the route's PMTU and
 *    resends at once (tcp_v4_err() -> tcp_v4_mtu_reduced() ->
 *    tcp_sync_mss(); tcp_simple_retransmit()), MSS = tcp_mtu_to_mss(1280).
 *  - Without it the head segment is retransmitted full-size at every RTO,
 *    for ever (until tcp_retries2).
 *  - With tcp_mtu_probing = 1, black-hole detection: at every RTO,
 *    tcp_write_timeout() checks retransmits_timed_out(sk, tcp_retries1)
 *    (net/ipv4/tcp_timer.c), the tcp_model_timeout(tcp_retries1, TCP_RTO_MIN)
 *    budget since the first retransmission — the same test tcp_retries2
 *    applies for giving up, so the lib's model places it as the give-up of
 *    a tcp_retries2 = tcp_retries1 schedule.  The first time it holds,
 *    tcp_mtu_probing() enables probing and tcp_sync_mss() caps the MSS at
 *    tcp_mtu_to_mss(search_low), search_low = tcp_mss_to_mtu(tcp_base_mss)
 *    (tcp_mtup_init(), tcp_output.c): the retransmission of that same timer
 *    goes out at tcp_base_mss and passes.
 *  - With tcp_mtu_probing = 2 probing is on from the start (tcp_mtup_init():
 *    enabled = sysctl > 1): the connection starts at tcp_base_mss.
 *
 * Every case runs over IPv4 and IPv6 (<case>_ipv4, <case>_ipv6; issue 14).
 * The 1280 hop is IPV6_MIN_MTU, the least an IPv6 link may have, so both
 * families cross the same path.  Where IPv6 differs, its variant asserts
 * the IPv6 rule:
 *  - a router never fragments IPv6 and there is no DF bit: the too-big
 *    is ICMPv6 Packet Too Big (type 2, its MTU field 1280; ip6_forward() ->
 *    ip6_pkt_too_big() -> icmpv6_send(ICMPV6_PKT_TOOBIG)), handled by
 *    tcp_v6_err() -> tcp_v6_mtu_reduced() -> tcp_sync_mss(),
 *    tcp_simple_retransmit() — at once, as over IPv4;
 *  - net_header_len is 40 (ipv6_specific, tcp_ipv6.c): MSS = MTU - 60, so
 *    tcp_mtu_to_mss(1280) = 1208 with timestamps (IPv4: 1228), search_low
 *    = tcp_mss_to_mtu(1024) = 1096 (IPv4: 1076), search_high = 1440 + 60,
 *    the upward probe tcp_mtu_to_mss(1298) = 1226 (IPv4: 1236 of 1288):
 *    lib's tf_model_*_af();
 *  - the black hole is tf_fault_icmp_block(): ICMPv6 errors (Packet Too
 *    Big with them) are routed into a blackhole, neighbour discovery is not
 *    routed and still works — the connection is made through the router
 *    after the block;
 *  - what does not differ: black-hole detection (tcp_write_timeout() ->
 *    tcp_mtu_probing(), net/ipv4/tcp_timer.c, both families) and the RTO
 *    schedule it rides on.
 */
#include "stall.h"
#include "../rqwait.h"

#define PORT 8001
#define SMALL 100
#define BULK 20000
#define PATH_MTU 1280   /* TF_IPV6_MIN_MTU: legal on both families */

TF_FIXTURE(pmtu) {
	tf_topo *t;
	tf_host *client, *server, *router;
	tf_fault *mtu, *icmp;
	int cfd, sfd;
	tf_flow up;
	tf_capture *ccap, *rcap;
	unsigned hz;
	bool ts;
	int family;
};
TF_FIXTURE_VARIANT(pmtu) {
	int family;
};
TF_VARIANTS_FAMILY(pmtu)

/* The topology, on the variant's family. */
TF_FIXTURE_SETUP(pmtu)
{
	self->cfd = self->sfd = -1;
	self->family = variant->family;
	self->t = tf_case_topo(TF_TOPO_PATH);
	self->client = tf_topo_client(self->t);
	self->server = tf_topo_server(self->t);
	self->router = tf_topo_router(self->t);
	tf_case_family(self->client, self->family);
	self->hz = tf_case_hz();
}

TF_FIXTURE_TEARDOWN(pmtu)
{
	(void)variant;
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->sfd >= 0)
		close(self->sfd);
	tf_fault_free(self->mtu);
	tf_fault_free(self->icmp);
	tf_topo_free(self->t);
}

typedef struct pmtu_fixture world;

/* The case's path: the 1280 hop, ICMP suppressed or not, the client's
 * probing knobs (retries1 < 0: the host's), captures, the connection. */
static void path_up(world *w, bool icmp_blocked, long probing, long retries1)
{
	tf_must(tf_host_sysctl_set_int(w->client, "net.ipv4.tcp_mtu_probing", probing));
	if (retries1 >= 0)
		tf_must(tf_host_sysctl_set_int(w->client, "net.ipv4.tcp_retries1", retries1));
	tf_must(tf_fault_mtu(w->router, TF_IF_ROUTER_SERVER, PATH_MTU, &w->mtu));
	if (icmp_blocked)
		tf_must(tf_fault_icmp_block(w->router, &w->icmp));
	tf_diag("path", "%s%s%s", tf_fault_describe(w->mtu), icmp_blocked ? "; " : "; ICMP allowed",
	        icmp_blocked ? tf_fault_describe(w->icmp) : "");
	/* one packet on the capture = one packet on a wire (stall.h) */
	tf_must(stall_tso_off(w->client, TF_IF_CLIENT));
	/* `icmp` does not match ICMPv6 */
	w->ccap = tf_case_capture(w->client, TF_IF_CLIENT, "tcp port 8001 or icmp or icmp6", "client");
	/* icmp6 here: the router's neighbour discovery toward the server */
	w->rcap = tf_case_capture(w->router, TF_IF_ROUTER_SERVER, "tcp port 8001 or icmp6",
	                          "router_to_server");
	tf_must(tf_tcp_pair(w->client, w->server, tf_topo_addr(w->t, TF_NODE_SERVER, w->family), PORT,
	                    &w->cfd, &w->sfd));
	/* ICMPv6 blocked first, the router still resolved the server: the
	 * block catches what is routed (errors, Packet Too Big among them),
	 * not neighbour discovery (ndisc_send_skb() builds its own dst). */
	if (icmp_blocked && w->family == AF_INET6) {
		long ns = 0, na = 0;

		tf_must(tf_capture_read(w->rcap));
		for (size_t i = 0; i < tf_capture_count(w->rcap); i++) {
			const tf_pkt *p = tf_capture_pkt(w->rcap, i);

			if (!tf_pkt_is_v6(p) || p->proto != IPPROTO_ICMPV6)
				continue;
			ns += p->icmp_type == 135;   /* NDISC_NEIGHBOUR_SOLICITATION */
			na += p->icmp_type == 136;   /* NDISC_NEIGHBOUR_ADVERTISEMENT */
		}
		tf_diag("neighbour_discovery", "%ld solicitations, %ld advertisements on the router's "
		        "server link, ICMPv6 blocked", ns, na);
		tf_expect_int("neighbour discovery with ICMPv6 blocked: solicitation and advertisement "
		              "on the router's server link (both >= 1)", ns >= 1 && na >= 1, 1);
	}
	tf_must(tf_sock_flow(w->cfd, &w->up));
	tf_must(fcntl(w->cfd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0);
	tf_must(fcntl(w->sfd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0);
	struct tcp_info ti;
	tf_must(tf_tcp_info(w->cfd, &ti));
	w->ts = ti.tcpi_options & TCPI_OPT_TIMESTAMPS;
	tf_diag("negotiated", "snd_mss %u, pmtu %u, timestamps %s", ti.tcpi_snd_mss, ti.tcpi_pmtu,
	        w->ts ? "on" : "off");
	/* the handshake's MSS on the 1500 links: MTU - 40 or MTU - 60 */
	unsigned mss1500 = 0;
	tf_must(tf_model_mss_from_mtu(w->family, 1500, w->ts, &mss1500));
	/* what the SYN announced: tcp_advertise_mss() / ip6_default_advmss() */
	tf_expect_int("tcpi_advmss on the 1500 links (MTU - net header - TCP header - options)",
	              ti.tcpi_advmss, mss1500);
	if (probing < 2)   /* 2: tcp_mtup_init() starts at search_low */
		tf_expect_int("tcpi_snd_mss on the 1500 links (MTU - net header - TCP header - options)",
		              ti.tcpi_snd_mss, mss1500);
}

/* tcp_mtu_to_mss() of the client's family */
static unsigned mtu_to_mss(const world *w, unsigned pmtu, unsigned min_snd_mss)
{
	return tf_model_mtu_to_mss_af(w->family, pmtu, w->ts, min_snd_mss);
}

typedef struct pumped {
	int64_t t_start;        /* before the first send() */
	int64_t first_rx;       /* server application reads its first byte (-1: never) */
	int64_t done;           /* server has everything (-1: not by the deadline) */
	size_t got;
	int64_t rq_first_us;    /* this thread's run-queue wait until first_rx (rqwait.h) */
} pumped;

/* Client sends `len` bytes, the server reads them, until all arrived or
 * the deadline (ms from now) passed. */
static void pump(world *w, size_t len, int timeout_ms, pumped *r)
{
	static char buf[65536];
	size_t sent = 0;
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;

	int64_t rq0 = case_rq_wait_ns();

	memset(r, 0, sizeof *r);
	r->first_rx = r->done = -1;
	r->t_start = tf_now_ns();
	while (r->got < len) {
		struct pollfd p[2] = { { .fd = w->sfd, .events = POLLIN },
		                       { .fd = w->cfd, .events = sent < len ? POLLOUT : 0 } };
		int64_t left = deadline - tf_mono_ns();
		ssize_t n;

		if (sent < len) {
			n = send(w->cfd, buf, len - sent < sizeof buf ? len - sent : sizeof buf,
			         MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				tf_fail("client send: %s", strerror(errno));
		}
		while ((n = recv(w->sfd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
			if (r->first_rx < 0) {
				r->first_rx = tf_now_ns();
				r->rq_first_us = case_rq_wait_us(rq0, case_rq_wait_ns());
			}
			r->got += (size_t)n;
		}
		if (n == 0)
			tf_fail("server saw EOF");
		if (r->got >= len)
			break;
		if (left <= 0)
			return;
		if (poll(p, 2, (int)(left / 1000000) + 1) < 0 && errno != EINTR)
			tf_fail("poll: %s", strerror(errno));
	}
	r->done = tf_now_ns();
}

/* "Small HTTP requests work": a request and a reply under the path MTU. */
static void small_exchange(world *w)
{
	char buf[SMALL] = { 0 };
	size_t got = 0;

	tf_must(tf_sock_send_all(w->cfd, buf, SMALL));
	while (got < SMALL) {
		tf_must(tf_sock_wait(w->sfd, POLLIN, 2000, NULL));
		ssize_t n = recv(w->sfd, buf, sizeof buf, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
	}
	tf_must(tf_sock_send_all(w->sfd, buf, SMALL));
	got = 0;
	while (got < SMALL) {
		tf_must(tf_sock_wait(w->cfd, POLLIN, 2000, NULL));
		ssize_t n = recv(w->cfd, buf, sizeof buf, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
	}
	tf_expect_int("small request and reply delivered (bytes)", (long)got, SMALL);
}

/* Transmissions of the bulk transfer's first byte on the client link. */
typedef struct txs {
	uint32_t seq0;
	size_t n;
	const tf_pkt *p[64];
} txs;

static void bulk_txs(world *w, const pumped *r, txs *x)
{
	size_t idx[64];

	tf_must(tf_capture_read(w->ccap));
	tf_must(tf_case_first_data(w->ccap, &w->up, r->t_start, &x->seq0));
	x->n = tf_capture_tx_of(w->ccap, &w->up, x->seq0, idx, TF_ARRAY_SIZE(idx));
	if (x->n > TF_ARRAY_SIZE(idx))
		x->n = TF_ARRAY_SIZE(idx);
	for (size_t i = 0; i < x->n; i++)
		x->p[i] = tf_capture_pkt(w->ccap, idx[i]);
	if (x->n == 0)
		tf_fail("the bulk transfer never left the client");
}

/* The model: the RTO schedule of the stalled head segment, and when the
 * tcp_retries1 budget is first exceeded (the give-up event of a schedule
 * with tcp_retries2 = tcp_retries1: both are retransmits_timed_out() on
 * the same retrans_stamp, net/ipv4/tcp_timer.c). */
typedef struct detect {
	long retries1;
	const tf_sched_event *at;   /* the RTO firing where black-hole detection triggers */
	unsigned rto_before;        /* RTO retransmissions before it */
	uint64_t budget_ms;         /* retransmits_timed_out(sk, tcp_retries1, 0)'s timeout */
	long first_rto;             /* the schedule's first RTO event */
	tf_schedule *s;
	tf_model *m;
} detect;

static void detect_model(world *w, detect *d)
{
	struct tcp_info ti;
	size_t g;

	tf_must(tf_host_sysctl_get_int(w->client, "net.ipv4.tcp_retries1", &d->retries1));
	tf_must(tf_tcp_info(w->cfd, &ti));
	d->m = tf_case_model(w->client);
	tf_must(tf_model_set_rtt(d->m, ti.tcpi_rtt, ti.tcpi_rttvar));
	tf_diag("client_rto", "%u us  # tcpi_rto (model %u jiffies); tcpi_rtt %u us, rttvar %u us",
	        ti.tcpi_rto, tf_model_rto_jiffies(d->m), ti.tcpi_rtt, ti.tcpi_rttvar);
	/* the whole first flight (cwnd segments) is in flight when the black
	 * hole swallows it: more than one packet out selects the TLP timeout
	 * without the RTO floor (tcp_schedule_loss_probe()) */
	unsigned segs = (BULK + ti.tcpi_snd_mss - 1) / ti.tcpi_snd_mss;
	tf_must(tf_model_set_packets_out(d->m, segs < ti.tcpi_snd_cwnd ? segs : ti.tcpi_snd_cwnd));
	tf_must(tf_model_mtu_blackhole(d->m, (unsigned)d->retries1, &d->s));
	g = tf_schedule_giveup(d->s);
	d->at = tf_schedule_event(d->s, g);
	d->rto_before = (unsigned)tf_schedule_count_kind(d->s, TF_TX_RTO);
	d->first_rto = tf_schedule_nth(d->s, TF_TX_RTO, 1);
	tf_must(tf_model_write_budget_ms(d->m, (unsigned)d->retries1, false, &d->budget_ms));
	tf_diag("detection_model", "tcp_retries1 %ld: budget tcp_model_timeout(%ld) = %llu ms from the first "
	        "retransmission; triggers at the RTO firing %.3f s after the original (band %.3f..%.3f), "
	        "after %u full-size retransmissions; %s", d->retries1, d->retries1,
	        (unsigned long long)d->budget_ms, d->at->at_us / 1e6,
	        d->at->at_lo_us / 1e6, d->at->at_hi_us / 1e6, d->rto_before, d->at->rule ? d->at->rule : "");
}

static void detect_free(detect *d)
{
	tf_schedule_free(d->s);
	tf_model_free(d->m);
}

/*
 * Black-hole detection is tcp_write_timeout()'s retransmits_timed_out(sk,
 * tcp_retries1, 0) at an RTO expiry: a time test, so a timer that fires
 * late (a loaded machine) can pass the budget one expiry earlier than the
 * model's ideal clock, and the kernel is right.  Expiry j of the
 * retransmission timer is x->p[j] (the head's transmissions: the loss
 * probe sends other data); the rule is replayed on those measured moments
 * (lib: tf_model_replay_timed_out()) and the expiry it gives is asserted
 * exactly, or either expiry when one falls within 1 jiffy + slack of the
 * budget; that expiry's moment is checked against the model's band for
 * it apart.  The model's own expiry is reported beside it.
 */
typedef struct replayed {
	unsigned first, sure;    /* tf_timed_out's, 0: none among the measured */
	unsigned want;           /* the expiry asserted: sure, else first */
	bool ambiguous;
} replayed;

static replayed detect_replay(const detect *d, const txs *x, size_t upto)
{
	int64_t e[64];
	size_t n = 0;
	tf_timed_out t;
	replayed r = { 0 };

	for (size_t j = 1; j <= upto && j < x->n && n < TF_ARRAY_SIZE(e); j++)
		e[n++] = (x->p[j]->ts_ns - x->p[0]->ts_ns) / 1000;
	if (n == 0)
		return r;
	tf_must(tf_model_replay_timed_out(tf_case_hz(), d->budget_ms, tf_slack_us(), e, e, n, &t));
	r.first = t.first;
	r.sure = t.sure;
	r.want = t.sure ? t.sure : t.first;
	r.ambiguous = t.first != t.sure;
	tf_diag("detect_model_ideal", "%u  # the RTO expiry the model's schedule detects at on an ideal "
	        "clock (timers at their bands' middle)", d->rto_before + 1);
	if (!t.first)
		tf_diag("detect_replayed", "none  # retransmits_timed_out(tcp_retries1) holds at none of "
		        "the %zu measured expiries (budget %llu ms)", n, (unsigned long long)d->budget_ms);
	else if (r.ambiguous) {
		char hi[16] = "later";

		if (t.sure)
			snprintf(hi, sizeof hi, "%u", t.sure);
		tf_diag("detect_replayed", "%u..%s  # retransmits_timed_out(tcp_retries1) on the measured "
		        "stamps, budget %llu ms: expiry %u, %.3f ms after the first RTO, is within %.3f ms "
		        "(1 jiffy + slack) of it, either expiry is the kernel's", t.first, hi,
		        (unsigned long long)d->budget_ms, t.first, t.first_lo_us / 1e3, t.tol_us / 1e3);
	}
	else
		tf_diag("detect_replayed", "%u  # retransmits_timed_out(tcp_retries1) on the measured stamps, "
		        "budget %llu ms; elapsed since the first RTO %.3f ms", t.sure,
		        (unsigned long long)d->budget_ms, t.sure_lo_us / 1e3);
	return r;
}

/* Whether expiry k is one the replay allows for detection. */
static bool replay_allows(const replayed *r, unsigned k)
{
	return r->first && k >= r->first && (!r->sure || k <= r->sure);
}

/* RTO expiries 1..k of the head (x->p[1..k], after the original) each
 * against the model's band for its own timer: the first's moment after
 * the original (the schedule's event first_rto), each later one's gap
 * after the one before.  Not expiry k's moment after the original: a
 * tick of lateness per timer, each within the slack, adds up over k
 * timers past a band that carries the slack once (issue 10: 4 expiries,
 * 2.5 ms past it).  Which expiry it is, is the replay's check.  None past
 * the model's events. */
static void check_expiries(const detect *d, const txs *x, size_t k, const char *what)
{
	char label[384];
	int64_t prev_late = 0;   /* the expiry before's lateness (tf_expect_timer_gap()) */

	for (size_t j = 1; j <= k && j < x->n; j++) {
		size_t i = (size_t)d->first_rto + j - 1;
		if (d->first_rto < 0 || i > tf_schedule_giveup(d->s)) {
			tf_note("RTO expiry %zu is past the model's schedule: its moment has no band", j);
			return;
		}
		const tf_sched_event *e = tf_schedule_event(d->s, i);
		int64_t t = x->p[j]->ts_ns, prev = x->p[j - 1]->ts_ns;
		if (j == 1) {
			/* after a tail loss probe, its timer and then the RTO's */
			snprintf(label, sizeof label, "%s: RTO expiry 1 after the original", what);
			tf_expect_timer_chain(label, (t - prev) / 1000, e->at_us, e->at_lo_us, e->at_hi_us,
			                      (unsigned)d->first_rto);
			prev_late = (t - prev) / 1000 - e->at_us;
		} else {
			snprintf(label, sizeof label, "%s: RTO expiry %zu gap", what, j);
			prev_late = tf_expect_timer_gap(label, (t - prev) / 1000, e->gap_us, e->gap_lo_us,
			                                e->gap_hi_us, prev_late);
		}
	}
}

/* "Too big" messages reaching the client: IPv4 ICMP fragmentation needed
 * (3, 4), IPv6 ICMPv6 Packet Too Big (2) — what the model says takes the
 * PMTU path of the family (tf_model_icmp_effect()).  *first: the first's
 * stamp, *mtu6: its MTU field (IPv6; 0 for IPv4, tf_pkt has no field). */
static long too_big(world *w, int64_t *first, unsigned *mtu6)
{
	long n = 0;

	*first = -1;
	*mtu6 = 0;
	for (size_t i = 0; i < tf_capture_count(w->ccap); i++) {
		const tf_pkt *p = tf_capture_pkt(w->ccap, i);
		bool v6 = tf_pkt_is_v6(p);
		tf_icmp_effect e;

		if (p->proto != (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) ||
		    tf_model_icmp_effect(v6 ? AF_INET6 : AF_INET, p->icmp_type, p->icmp_code, &e) < 0 ||
		    !e.pmtu)
			continue;
		if (*first < 0) {
			*first = p->ts_ns;
			*mtu6 = v6 ? p->icmp6_mtu : 0;
		}
		n++;
	}
	return n;
}

static const char *too_big_name(const world *w)
{
	return w->family == AF_INET6 ? "ICMPv6 Packet Too Big" : "ICMP frag-needed";
}

static long data_crossed(world *w)
{
	long n = 0;

	tf_must(tf_capture_read(w->rcap));
	for (size_t i = 0; i < tf_capture_count(w->rcap); i++) {
		const tf_pkt *p = tf_capture_pkt(w->rcap, i);
		n += stall_pkt_in(p, &w->up) && p->payload > SMALL;
	}
	return n;
}

TF_CASE_F(pmtu, pmtu_blackhole_stalls, .timeout_s = 60,
          .proves = "seed 003: \"Small HTTP requests work. Large file transfers hang forever.\" — ICMP blocked, no probing")
{
	world *w = self;
	detect d;
	pumped r;
	txs x;
	struct tcp_info ti;
	int64_t icmp_at;
	unsigned mtu6;
	char what[200];

	path_up(w, true, 0, -1);
	small_exchange(w);
	detect_model(w, &d);
	/* watch until just past the moment tcp_mtu_probing=1 would recover */
	pump(w, BULK, (int)(d.at->at_hi_us / 1000) + 500, &r);
	bulk_txs(w, &r, &x);

	tf_expect_int("bulk bytes the server application received", (long)r.got, 0);
	stall_expect_state("client socket still established, retransmitting",
	                   stall_diag(w->client, &w->up), TCP_ESTABLISHED);
	/* the expiry where tcp_mtu_probing = 1 would have detected, by the
	 * rule on these stamps: the window ends between it and the next */
	replayed rp = detect_replay(&d, &x, x.n - 1);
	tf_expect_int("the detection moment among the transmissions seen (replayed; 1 when so)",
	              rp.first != 0, 1);
	if (rp.first)
		tf_expect_int(rp.ambiguous ? "transmissions of the first bulk byte: original + RTOs up to and "
		                             "at the detection moment (replayed, either expiry)"
		                           : "transmissions of the first bulk byte: original + RTOs up to and "
		                             "at the detection moment (replayed)",
		              (long)x.n, (long)rp.want + 1);
	long small = 0, nodf = 0;
	for (size_t i = 0; i < x.n; i++) {
		small += x.p[i]->ip_len <= PATH_MTU;
		nodf += !x.p[i]->df;
	}
	tf_expect_int("of them fitting the path MTU", small, 0);
	/* IPv6 has no DF bit: no router fragments it (RFC 8200 §5), the
	 * decoder says df for every IPv6 packet */
	tf_expect_int(w->family == AF_INET6 ? "of them fragmentable (IPv6: never, by any router)"
	                                    : "of them without DF", nodf, 0);
	if (x.n >= 2)
		check_expiries(&d, &x, x.n - 1, "full-size retransmissions up to the moment probing would "
		               "have recovered (the model's band for each timer)");
	tf_diag("detect_model_ideal_s", "%.3f  # band %.3f..%.3f, after the original", d.at->at_us / 1e6,
	        d.at->at_lo_us / 1e6, d.at->at_hi_us / 1e6);
	snprintf(what, sizeof what, "%s reaching the client", too_big_name(w));
	tf_expect_int(what, too_big(w, &icmp_at, &mtu6), 0);
	tf_expect_int("bulk segments past the router", data_crossed(w), 0);
	tf_must(tf_tcp_info(w->cfd, &ti));
	tf_expect_int("tcpi_pmtu (the kernel never learned)", ti.tcpi_pmtu, 1500);
	tf_diag("tcpi", "snd_mss %u, retransmits %u, backoff %u, rto %u us", ti.tcpi_snd_mss,
	        ti.tcpi_total_retrans, ti.tcpi_backoff, ti.tcpi_rto);
	detect_free(&d);
}

TF_CASE_F(pmtu, pmtu_icmp_discovery, .timeout_s = 30,
          .proves = "seed 003: PMTU discovery \"relies on ICMP Fragmentation Needed\" (IPv6: Packet Too Big) — with it, the same transfer completes")
{
	world *w = self;
	pumped r;
	txs x;
	struct tcp_info ti;
	int64_t icmp_at;
	unsigned mtu6;
	size_t k;
	char what[200];

	path_up(w, false, 0, -1);
	small_exchange(w);
	tf_must(tf_tcp_info(w->cfd, &ti));
	unsigned rto_us = ti.tcpi_rto;
	pump(w, BULK, 5000, &r);
	bulk_txs(w, &r, &x);

	tf_expect_int("bulk bytes the server application received", (long)r.got, BULK);
	snprintf(what, sizeof what, "%s from the router reached the client (>= 1)", too_big_name(w));
	tf_expect_int(what, too_big(w, &icmp_at, &mtu6) >= 1, 1);
	if (w->family == AF_INET6 && icmp_at >= 0)
		tf_expect_int("its MTU field (ip6_pkt_too_big(): the next hop's MTU)", mtu6, PATH_MTU);
	for (k = 0; k < x.n && x.p[k]->ip_len > PATH_MTU; k++)
		;
	if (k == x.n)
		tf_fail("the first bulk byte was never resent within the path MTU");
	unsigned mss = mtu_to_mss(w, PATH_MTU, 48);
	snprintf(what, sizeof what, "resent segment size: tcp_mtu_to_mss(1280) = 1280 - %u%s (bytes)",
	         tf_model_net_header_len(w->family) + TF_TCP_HDR_LEN, w->ts ? " - 12" : "");
	tf_expect_int(what, x.p[k]->payload, mss);
	tf_expect_int("its packet: the path MTU (bytes)", x.p[k]->ip_len, PATH_MTU);
	if (icmp_at >= 0) {
		snprintf(what, sizeof what, "resent right after the too-big (%s -> tcp_simple_retransmit)",
		         w->family == AF_INET6 ? "tcp_v6_err -> tcp_v6_mtu_reduced"
		                               : "tcp_v4_err -> tcp_v4_mtu_reduced");
		tf_expect_answer_time(what, (x.p[k]->ts_ns - icmp_at) / 1000, 0, 0, 0);
	}
	tf_diag("completed_ms", "%.3f  # first RTO would be %.3f ms", (r.done - x.p[0]->ts_ns) / 1e6,
	        rto_us / 1e3);
	tf_expect_int("completed before the first RTO (no timer needed)",
	              r.done >= 0 && (r.done - x.p[0]->ts_ns) / 1000 < (int64_t)rto_us, 1);
	tf_must(tf_tcp_info(w->cfd, &ti));
	unsigned pmtu = 0;
	tf_must(tf_model_pmtu_after_ptb(w->family, 1500, PATH_MTU, 0, &pmtu));
	tf_expect_int("tcpi_pmtu learned from the too-big", ti.tcpi_pmtu, pmtu);
	tf_expect_int("tcpi_snd_mss", ti.tcpi_snd_mss, mss);
}

/* tcp_mtu_probing = 1: black-hole detection after tcp_retries1's budget;
 * rto_min_us > 0 sets the client's tcp_rto_min_us (6.11+) first. */
static void probing_detects(world *w, long retries1, long rto_min_us)
{
	detect d;
	pumped r;
	txs x;
	struct tcp_info ti;
	int64_t icmp_at;
	unsigned mtu6;
	long base_mss, min_snd_mss = 48;
	size_t k;
	char what[200];

	if (rto_min_us > 0) {
		if (!tf_host_sysctl_exists(w->client, "net.ipv4.tcp_rto_min_us"))
			TF_SKIP("kernel has no net.ipv4.tcp_rto_min_us (Linux 6.11+)");
		tf_must(tf_host_sysctl_set_int(w->client, "net.ipv4.tcp_rto_min_us", rto_min_us));
	}
	path_up(w, true, 1, retries1);
	tf_must(tf_host_sysctl_get_int(w->client, "net.ipv4.tcp_base_mss", &base_mss));
	if (tf_host_sysctl_get_int(w->client, "net.ipv4.tcp_min_snd_mss", &min_snd_mss) < 0)
		min_snd_mss = 48;
	unsigned search_low = tf_model_mss_to_mtu_af(w->family, (unsigned)base_mss, w->ts);
	unsigned mss = mtu_to_mss(w, search_low, (unsigned)min_snd_mss);
	tf_diag("probing_model", "tcp_base_mss %ld -> search_low %u -> mss %u (IP packet %u <= %u)", base_mss,
	        search_low, mss, search_low, PATH_MTU);
	small_exchange(w);
	detect_model(w, &d);
	pump(w, BULK, (int)(d.at->at_hi_us / 1000) + 5000, &r);
	bulk_txs(w, &r, &x);

	tf_expect_int("bulk bytes the server application received", (long)r.got, BULK);
	for (k = 0; k < x.n && x.p[k]->ip_len > PATH_MTU; k++)
		;
	if (k == x.n)
		tf_fail("the first bulk byte was never resent within the path MTU");
	/* detection at RTO expiry k (x.p[k], the first small one): the rule
	 * on the measured expiries 1..k says where it may come */
	replayed rp = detect_replay(&d, &x, k);
	if (!rp.ambiguous)
		tf_expect_int("full-size transmissions before the black hole was detected = the expiry "
		              "that detects (replayed on the measured stamps)", (long)k, (long)rp.want);
	else
		tf_expect_int("full-size transmissions before the black hole was detected: an expiry "
		              "the replay allows (either, within 1 jiffy + slack of the budget; 1 when so)",
		              replay_allows(&rp, (unsigned)k), 1);
	check_expiries(&d, &x, k, "RTOs up to the first byte resent within the path MTU (black-hole "
	               "detection at tcp_retries1's budget; the model's band for each timer)");
	tf_diag("detect_model_ideal_s", "%.3f  # band %.3f..%.3f, after the original", d.at->at_us / 1e6,
	        d.at->at_lo_us / 1e6, d.at->at_hi_us / 1e6);
	tf_expect_int("its size: tcp_mtu_to_mss(search_low) (bytes)", x.p[k]->payload, mss);
	snprintf(what, sizeof what, "its IP length: search_low = tcp_base_mss + %u%s", 
	         tf_model_net_header_len(w->family) + TF_TCP_HDR_LEN, w->ts ? " + 12" : "");
	tf_expect_int(what, x.p[k]->ip_len, search_low);
	/* when the server's read returned: application side */
	/* the application side: the high edge adds this thread's run-queue
	 * wait until it read (rqwait.h), named here */
	tf_diag("run_queue_wait_ms", "%.3f  # the pump's, until the server's first byte",
	        r.rq_first_us / 1e3);
	/* the byte came in the detection's retransmission (veth: no
	 * transit time), seen by the application no earlier */
	tf_expect_app_time("server application's first byte (relative to the detection's retransmission)",
	                   (r.first_rx - x.p[k]->ts_ns) / 1000, 0, 0, r.rq_first_us);
	snprintf(what, sizeof what, "%s reaching the client", too_big_name(w));
	tf_expect_int(what, too_big(w, &icmp_at, &mtu6), 0);
	tf_must(tf_tcp_info(w->cfd, &ti));
	tf_expect_int("tcpi_pmtu (no ICMP: the route's PMTU is unchanged)", ti.tcpi_pmtu, 1500);
	tf_diag("completed_s", "%.3f after the original; snd_mss now %u", (r.done - x.p[0]->ts_ns) / 1e9,
	        ti.tcpi_snd_mss);
	detect_free(&d);
}

TF_CASE_F(pmtu, pmtu_probing_detects_blackhole, .timeout_s = 60,
          .proves = "seed 003: \"tcp_mtu_probing enables RFC 4821 PLPMTUD\" — mode 1 recovers at tcp_retries1's budget (default 3)")
{
	(void)variant;
	probing_detects(self, -1, 0);
}

TF_CASE_F(pmtu, pmtu_probing_retries1_1, .timeout_s = 30,
          .proves = "seed 003: the same with tcp_retries1 = 1 — detection moves to tcp_model_timeout(1)")
{
	(void)variant;
	probing_detects(self, 1, 0);
}

/*
 * Detection on the budget's edge (issue 10): tcp_rto_min_us 210000 gives
 * an RTO of 53 jiffies (212 ms with a veth RTT), so the 4th RTO expiry
 * comes 14 x 53 = 742 jiffies after the first, plus the timer wheel's
 * rounding of the three timers (level 1, 8 jiffies each): 2968..3064 ms,
 * across the 3000 ms of tcp_model_timeout(3, TCP_RTO_MIN) — which keeps
 * TCP_RTO_MIN, not the socket's rto_min.  Whether the 4th or the 5th
 * expiry detects depends on where the timers fall on the wheel: the
 * model's ideal clock names one, the kernel does either, rightly; the
 * replay on the measured stamps names the one it did.
 */
TF_CASE_F(pmtu, pmtu_probing_budget_edge, .timeout_s = 60,
          .proves = "seed 003: black-hole detection is a time test (retransmits_timed_out()), replayed on the measured RTO expiries at the budget's edge")
{
	(void)variant;
	probing_detects(self, 3, 204000);
}

/*
 * tcp_mtu_probing = 2: probing is on from the start, so the connection
 * starts at tcp_mtu_to_mss(search_low).  It also probes upward at once:
 * tcp_mtu_probe() (tcp_output.c) sends one segment of
 * tcp_mtu_to_mss((search_high + search_low) / 2) when cwnd >= 11, nothing
 * is in recovery and the queue holds size_needed = probe + (reordering + 1)
 * * mss bytes; that probe exceeds the 1280 hop and is lost, and its bytes
 * are resent at the base MSS when the following segments are SACKed
 * (tcp_fastretrans_alert() -> tcp_mtup_probe_failed(),
 * tcp_simple_retransmit()) — no timer.
 */
TF_CASE_F(pmtu, pmtu_probing_always, .timeout_s = 30,
          .proves = "seed 003: tcp_mtu_probing = 2 starts at tcp_base_mss — the black hole never stalls the transfer")
{
	world *w = self;
	pumped r;
	txs x;
	struct tcp_info ti;
	long base_mss, min_snd_mss = 48;
	unsigned server_mtu;

	path_up(w, true, 2, -1);
	tf_must(tf_host_sysctl_get_int(w->client, "net.ipv4.tcp_base_mss", &base_mss));
	if (tf_host_sysctl_get_int(w->client, "net.ipv4.tcp_min_snd_mss", &min_snd_mss) < 0)
		min_snd_mss = 48;
	tf_must(tf_link_get_mtu(w->server, TF_IF_SERVER, &server_mtu));
	/* tcp_mtup_init(): search_high from the peer's MSS option, its MTU
	 * - 40 (IPv4) or - 60 (IPv6) */
	tf_mtu_probing mp;
	long threshold = 8;
	tf_must(tf_model_mtu_probing_af(w->family, (unsigned)base_mss, (unsigned)min_snd_mss,
	                                server_mtu - tf_model_net_header_len(w->family) - TF_TCP_HDR_LEN,
	                                w->ts, &mp));
	if (tf_host_sysctl_get_int(w->client, "net.ipv4.tcp_probe_threshold", &threshold) < 0)
		threshold = 8;
	unsigned search_low = mp.search_low, search_high = mp.search_high;
	unsigned mss = mp.low_mss, probe = mp.probe_mss;
	tf_must(tf_tcp_info(w->cfd, &ti));
	tf_expect_int("tcpi_snd_mss from the start: tcp_mtu_to_mss(search_low)", ti.tcpi_snd_mss, mss);
	small_exchange(w);
	tf_must(tf_tcp_info(w->cfd, &ti));
	unsigned rto_us = ti.tcpi_rto;
	uint64_t size_needed;
	bool probes = tf_model_mtu_probe_sent(&mp, mss, ti.tcpi_snd_cwnd, ti.tcpi_reordering,
	                                      (unsigned)threshold, BULK, &size_needed);
	tf_diag("probe_model", "search_low %u, search_high %u -> probe %u bytes (packet %u); cwnd %u, "
	        "reordering %u, size_needed %llu -> %s", search_low, search_high, probe,
	        tf_model_mss_to_mtu_af(w->family, probe, w->ts), ti.tcpi_snd_cwnd,
	        ti.tcpi_reordering, (unsigned long long)size_needed,
	        probes ? "the first segment is an upward probe" : "no probe yet");
	pump(w, BULK, 5000, &r);
	bulk_txs(w, &r, &x);
	tf_expect_int("bulk bytes the server application received", (long)r.got, BULK);
	if (probes) {
		tf_expect_int("first transmission of the first bulk byte: the upward probe (bytes)",
		              x.p[0]->payload, probe);
		tf_expect_int("transmissions of the first bulk byte (probe, then base MSS)", (long)x.n, 2);
		if (x.n >= 2)
			tf_expect_int("the resend: tcp_mtu_to_mss(search_low) (bytes)", x.p[1]->payload, mss);
	} else {
		tf_expect_int("first transmission of the first bulk byte: tcp_mtu_to_mss(search_low) (bytes)",
		              x.p[0]->payload, mss);
		tf_expect_int("transmissions of the first bulk byte", (long)x.n, 1);
	}
	long big_client = 0, big_router = 0;
	for (size_t i = 0; i < tf_capture_count(w->ccap); i++) {
		const tf_pkt *p = tf_capture_pkt(w->ccap, i);
		big_client += stall_pkt_in(p, &w->up) && p->ip_len > PATH_MTU;
	}
	tf_must(tf_capture_read(w->rcap));
	for (size_t i = 0; i < tf_capture_count(w->rcap); i++) {
		const tf_pkt *p = tf_capture_pkt(w->rcap, i);
		big_router += stall_pkt_in(p, &w->up) && p->ip_len > PATH_MTU;
	}
	tf_diag("upward_probes", "%ld sent, %ld past the router", big_client, big_router);
	tf_expect_int("segments above the path MTU past the router", big_router, 0);
	tf_diag("completed_ms", "%.3f  # RTO %.3f ms", (r.done - x.p[0]->ts_ns) / 1e6, rto_us / 1e3);
	tf_expect_int("completed before one RTO (a lost probe is repaired without the timer)",
	              r.done >= 0 && (r.done - x.p[0]->ts_ns) / 1000 < (int64_t)rto_us, 1);
}
