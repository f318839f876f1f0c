/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seed 003, "Port Exhaustion":
 *
 *   "Every outbound TCP connection needs a source port. ... When a
 *    connection closes, it enters TIME_WAIT state for 60 seconds"
 *   "Simple arithmetic: 28,000 ports divided by 60 seconds equals 466
 *    connections per second before you exhaust available ports. Hit this
 *    limit and you see EADDRNOTAVAIL errors."
 *   "Connections to service A fail. Connections to service B also fail.
 *    Everything fails."
 *   "High-throughput services tune ip_local_port_range ... and enable
 *    tcp_tw_reuse for outbound connections."
 *
 * Topology: client — server (pair); a 10-port net.ipv4.ip_local_port_range
 * in the client host.  The client opens connections and closes them first,
 * so each leaves a TIME-WAIT socket holding its port.
 *
 * The kernel's rules (stall.h): __inet_hash_connect() scans
 * (range & ~1) ports, those of low's parity first, and fails with
 * EADDRNOTAVAIL; a port is only taken if __inet_check_established() finds
 * the 4-tuple unused, so ports are per destination for connect(); bind()
 * of port 0 (inet_csk_find_open_port()) conflicts with every TIME-WAIT
 * socket on a port; tcp_twsk_unique() lets connect() take over a TIME-WAIT
 * 4-tuple when tcp_tw_reuse allows it (1 = any address, 2 = loopback only,
 * the default) and the reuse delay has passed.
 *
 * Both families (issue 14): every case runs as <case>_ipv4 and _ipv6, the
 * same rules reached through IPv6's own entry points.  tcp_v6_connect()
 * (net/ipv6/tcp_ipv6.c) calls inet6_hash_connect()
 * (net/ipv6/inet6_hashtables.c), which runs the same
 * __inet_hash_connect() scan with __inet6_check_established() as its
 * 4-tuple test; the range is still net.ipv4.ip_local_port_range
 * (inet_sk_get_local_port_range() reads net->ipv4.ip_local_ports for
 * both), so the same count, parity order and EADDRNOTAVAIL.  Only the
 * scan's starting offset differs, in its inputs:
 * secure_ipv6_port_ephemeral(saddr, daddr, dport) instead of
 * secure_ipv4_port_ephemeral() — a keyed hash the cases never predict.
 * __inet6_check_established() calls twsk_unique(), which for both
 * families is tcp_twsk_unique() (tcp6_timewait_sock_ops): the same reuse
 * delay and ISN; its tcp_tw_reuse = 2 loopback test is per family
 * (IPv6: ::1 or IPv4-mapped 127/8), asserted from
 * tf_model_tw_reuse_enabled(): the default keeps the pair's TIME-WAIT
 * ports (ports_tw_reuse_default) and hands lo's over
 * (ports_tw_reuse_loopback: 127.0.0.1, ::1).  bind(port 0): inet6_bind() ->
 * inet_csk_get_port() -> inet_csk_find_open_port(), shared.
 */
#include "stall.h"

#define PORT_A 7001
#define PORT_B 7002
#define LOW 40000
#define HIGH 40009

/* client — server, a 10-port range in the client, two services. */
TF_FIXTURE(ports) {
	tf_topo *t;
	tf_host *client, *server;
	int family;
	const char *client_addr, *server_addr;
	int lfd_a, lfd_b;
	tf_capture *cap;
	unsigned hz;
	tf_connect_ports model;
};
TF_FIXTURE_VARIANT(ports) {
	int family;
};
TF_VARIANTS_FAMILY(ports)
typedef struct ports_fixture world;

typedef struct tw {
	uint16_t port;
	stall_closed closed;
	/* TIME-WAIT entry, CLOCK_MONOTONIC: tw_entry_stamp is taken as the
	 * server's FIN is processed (tcp_timewait_state_process() or
	 * tcp_time_wait()), between that FIN on the wire and the final ACK */
	int64_t entry_lo_mono_ns, entry_mono_ns;
} tw;

/* The pair, or (loopback) the client talking to itself over lo. */
static void ports_world(world *w, int family, bool loopback)
{
	char range[64];

	w->lfd_a = w->lfd_b = -1;
	w->t = tf_case_topo(TF_TOPO_PAIR);
	w->client = tf_topo_client(w->t);
	w->server = loopback ? w->client : tf_topo_server(w->t);
	w->family = family;
	tf_case_family(w->client, family);
	if (loopback) {
		/* the sandbox leaves lo without IPv6; enabling it adds ::1
		 * (addrconf's init_loopback(), no DAD on a loopback device) */
		if (family == AF_INET6)
			tf_must(tf_host_sysctl_set(w->client, "net.ipv6.conf.lo.disable_ipv6", "0"));
		w->client_addr = w->server_addr = family == AF_INET6 ? "::1" : "127.0.0.1";
	} else {
		w->client_addr = tf_topo_addr(w->t, TF_NODE_CLIENT, family);
		w->server_addr = tf_topo_addr(w->t, TF_NODE_SERVER, family);
	}
	w->hz = tf_case_hz();
	/* net.ipv4.*: the one range for both families */
	tf_must(tf_host_sysctl_set(w->client, "net.ipv4.ip_local_port_range", "40000 40009"));
	tf_must(tf_host_sysctl_get(w->client, "net.ipv4.ip_local_port_range", range, sizeof range));
	tf_diag("ip_local_port_range", "%s", range);
	tf_must(tf_model_connect_ports(LOW, HIGH, &w->model));
	tf_must(tf_tcp_listen(w->server, w->server_addr, PORT_A, &w->lfd_a));
	tf_must(tf_tcp_listen(w->server, w->server_addr, PORT_B, &w->lfd_b));
	w->cap = tf_case_capture(w->client, loopback ? "lo" : TF_IF_CLIENT, "tcp", "client");
}

static void ports_world_free(world *w)
{
	if (w->lfd_a >= 0)
		close(w->lfd_a);
	if (w->lfd_b >= 0)
		close(w->lfd_b);
	tf_topo_free(w->t);
}

TF_FIXTURE_SETUP(ports)
{
	ports_world(self, variant->family, false);
}

TF_FIXTURE_TEARDOWN(ports)
{
	(void)variant;
	ports_world_free(self);
}

/* The client's own lo: 127.0.0.1, or ::1. */
TF_FIXTURE(ports_lo) {
	world w;
};
TF_FIXTURE_VARIANT(ports_lo) {
	int family;
};
TF_VARIANTS_FAMILY(ports_lo)

TF_FIXTURE_SETUP(ports_lo)
{
	ports_world(&self->w, variant->family, true);
}

TF_FIXTURE_TEARDOWN(ports_lo)
{
	(void)variant;
	ports_world_free(&self->w);
}

/* The sockaddr of addr:port in the fixture's family. */
static socklen_t sockaddr_of(const world *w, const char *addr, uint16_t port,
                             struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (w->family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		tf_must(inet_pton(AF_INET6, addr, &a->sin6_addr) == 1 ? 0 : -EINVAL);
		return sizeof *a;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	tf_must(inet_pton(AF_INET, addr, &a->sin_addr) == 1 ? 0 : -EINVAL);
	return sizeof *a;
}

static void diag_rate(unsigned ports, unsigned hz)
{
	/* Seed 003: "28,000 ports divided by 60 seconds equals 466
	 * connections per second".  The kernel's numbers: the ports one
	 * scan can use, over TCP_TIMEWAIT_LEN — and the timer wheel lets a
	 * TIME-WAIT socket live up to one level-granularity longer. */
	tf_band b;
	double lo, hi;

	tf_must(tf_model_timewait_band(hz, &b));
	tf_must(tf_model_port_rate(ports, hz, &lo, &hi));
	tf_diag("sustainable_rate_per_s", "%.3f  # %u ports / %.3f s (TCP_TIMEWAIT_LEN); %.3f with the "
	        "timer wheel's worst case %.3f s", hi, ports, b.lo_us / 1e6, lo, b.hi_us / 1e6);
}

/* connect() to dport; 0 and an established pair, or the connect error
 * (connect() itself fails with EADDRNOTAVAIL: no SYN is sent). */
static int open_conn(world *w, uint16_t dport, int *cfd, int *sfd)
{
	int r = tf_tcp_connect_start(w->client, w->server_addr, dport, cfd);

	if (r < 0)
		return r;
	tf_must(tf_tcp_connect_wait(*cfd, 5000, NULL));
	tf_must(tf_tcp_accept(dport == PORT_A ? w->lfd_a : w->lfd_b, 5000, sfd));
	return 0;
}

/* Fill the range with TIME-WAIT sockets toward PORT_A; returns how many
 * connect() calls succeeded and the errno of the one that failed. */
static unsigned exhaust(world *w, tw *tws, unsigned max, int *err)
{
	int64_t off = stall_real_minus_mono();
	unsigned n = 0;

	*err = 0;
	while (n < max) {
		int cfd = -1, sfd = -1, r = open_conn(w, PORT_A, &cfd, &sfd);
		tf_flow f;

		if (r < 0) {
			*err = -r;
			break;
		}
		tf_must(tf_sock_flow(cfd, &f));
		tws[n].port = f.sport;
		stall_close_client_first(&cfd, &sfd, w->cap, &tws[n].closed);
		tws[n].entry_lo_mono_ns = tws[n].closed.server_fin_ns - off;
		tws[n].entry_mono_ns = tws[n].closed.final_ack_ns - off;
		n++;
	}
	return n;
}

static void check_exhaustion(world *w, const tw *tws, unsigned n, int err)
{
	unsigned same = 0, other = 0;
	size_t syns;
	tf_flow any;

	tf_diag("ports_in_range", "%u", w->model.count);
	tf_diag("ports_connect_can_use", "%u  # __inet_hash_connect(): (high + 1 - low) & ~1", w->model.usable);
	tf_expect_int("connections before connect() fails (the range's usable ports)", (long)n,
	              (long)w->model.usable);
	tf_expect_errno("connect() error when the range is exhausted", err, EADDRNOTAVAIL);
	for (unsigned i = 0; i < n; i++) {
		bool low_parity = (tws[i].port & 1) == (LOW & 1);
		if (i < w->model.first_pass)
			same += low_parity;
		else
			other += !low_parity;
		if (tws[i].port < LOW || tws[i].port > HIGH)
			tf_fail("local port %u outside the range", tws[i].port);
	}
	char order[256] = "";
	for (unsigned i = 0, o = 0; i < n && o + 8 < sizeof order; i++)
		o += (unsigned)snprintf(order + o, sizeof order - o, "%s%u", i ? " " : "", tws[i].port);
	tf_diag("ports_in_order", "%s", order);
	tf_expect_int("first-pass ports have low's parity (\"In first pass we try ports of @low parity\")",
	              (long)same, (long)w->model.first_pass);
	tf_expect_int("then the other parity", (long)other, (long)(w->model.usable - w->model.first_pass));
	/* wire: one SYN per successful connect(), none for the failed one */
	syns = 0;
	for (size_t i = 0; i < tf_capture_count(w->cap); i++) {
		const tf_pkt *p = tf_capture_pkt(w->cap, i);
		if (p->proto == IPPROTO_TCP && (p->flags & TF_TCP_SYN) && !(p->flags & TF_TCP_ACK) &&
		    p->dport == PORT_A)
			syns++;
	}
	tf_expect_int("SYNs on the wire", (long)syns, (long)n);
	unsigned in_tw = 0;
	for (unsigned i = 0; i < n; i++) {
		any = tws[i].closed.up;
		in_tw += stall_diag(w->client, &any) == TCP_TIME_WAIT;
	}
	tf_expect_int("connections in TIME_WAIT (sock_diag)", (long)in_tw, (long)n);
}

TF_CASE_F(ports, ports_exhaustion, .timeout_s = 30,
          .proves = "seed 003: with the range used up by TIME_WAIT sockets, connect() fails with EADDRNOTAVAIL")
{
	tw tws[16];
	int err;
	unsigned n;
	tf_connect_ports def;
	tf_band twb;

	(void)variant;
	n = exhaust(self, tws, self->model.usable + 1, &err);
	check_exhaustion(self, tws, n, err);
	diag_rate(self->model.usable, self->hz);
	/* the seed's number, with the default range 32768..60999 */
	tf_must(tf_model_connect_ports(32768, 60999, &def));
	tf_diag("default_range_ports", "%u", def.usable);
	tf_must(tf_model_timewait_band(self->hz, &twb));
	tf_diag("default_range_rate_per_s", "%.1f  # seed: 28,000 / 60 = 466; with the wheel's worst case %.1f",
	        def.usable / (twb.lo_us / 1e6), def.usable / (twb.hi_us / 1e6));
}

TF_CASE_F(ports, ports_other_destination, .timeout_s = 30,
          .proves = "seed 003 \"Everything fails\": only for bind()-before-connect(); plain connect() shares ports across destinations")
{
	world *w = self;
	tw tws[16];
	int err, cfd = -1, sfd = -1, r, bfd;
	unsigned n;
	tf_flow f;
	struct sockaddr_storage sa;
	socklen_t salen;

	(void)variant;
	n = exhaust(w, tws, w->model.usable + 1, &err);
	check_exhaustion(w, tws, n, err);

	/* service B: a different 4-tuple, so __inet_check_established()
	 * finds no conflict on a port whose only other user is a TIME-WAIT
	 * socket toward service A */
	r = open_conn(w, PORT_B, &cfd, &sfd);
	tf_expect_errno("plain connect() to another service with the range exhausted", -r, 0);
	if (r == 0) {
		bool shared = false;
		tf_must(tf_sock_flow(cfd, &f));
		for (unsigned i = 0; i < n; i++)
			shared |= tws[i].port == f.sport;
		tf_diag("service_b_local_port", "%u", f.sport);
		tf_expect_int("its local port is one already held by a TIME_WAIT socket toward service A",
		              shared, 1);
		close(cfd);
		close(sfd);
	}

	/* a client that binds first (port 0): inet_csk_find_open_port()
	 * sees a bind conflict with the TIME-WAIT socket on every port */
	bfd = tf_host_socket(w->client, w->family, SOCK_STREAM, 0);
	tf_must(bfd);
	salen = sockaddr_of(w, w->client_addr, 0, &sa);
	r = bind(bfd, (struct sockaddr *)&sa, salen) < 0 ? errno : 0;
	tf_expect_errno("bind(port 0) before connect() with the range exhausted", r, EADDRINUSE);
	close(bfd);
}

/*
 * One connect() toward PORT_A on a fresh non-blocking socket, the syscall
 * bracketed on CLOCK_MONOTONIC (the clock of tcp_clock_ms()).  The refusal
 * sends nothing: the kernel decides inside connect(), so a refusal proves
 * its check came before *out, a success that it came after *in — whatever
 * the scheduler did to this process around the call.
 */
static int probe_connect(world *w, int *fd, int64_t *in, int64_t *out)
{
	struct sockaddr_storage sa;
	socklen_t salen = sockaddr_of(w, w->server_addr, PORT_A, &sa);
	int s = tf_host_socket(w->client, w->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), r;

	tf_must(s);
	*in = tf_mono_ns();
	r = connect(s, (struct sockaddr *)&sa, salen) < 0 && errno != EINPROGRESS ? -errno : 0;
	*out = tf_mono_ns();
	if (r < 0) {
		close(s);
		return r;
	}
	*fd = s;
	return 0;
}

/* A reincarnation: the connection that took over a TIME-WAIT 4-tuple. */
typedef struct reuse {
	int cfd, sfd;
	unsigned tw;            /* index in tws */
	int64_t entry;          /* that socket's TIME-WAIT entry then (final ACK), MONOTONIC */
	int64_t entry_lo;       /* ... and its server's FIN */
	int64_t thr_lo, thr;    /* that socket's reuse threshold (model), MONOTONIC, from
	                         * its entry's earliest moment (less the clock's lag,
	                         * tf_model_tw_reuse_earliest_ns()) and latest */
	int64_t in, out;        /* the successful connect() */
	int64_t refused_in;     /* entry of the last refused connect() before it, -1: none */
	bool killed;            /* an RST had killed that TIME-WAIT socket: taken fresh */
} reuse;

/* TIME-WAIT assassination: an RST of the server's at the TIME-WAIT socket's
 * rcv_nxt, between its server's FIN and `until` (realtime) — a loaded
 * guest's server answered the socket's duplicate ACK (its own delayed ACK,
 * overtaken by its FIN, re-ACKed) so, and connect() found the port free. */
static bool tw_killed(const tf_capture *cap, const stall_closed *cl, int64_t until, int rfc1337)
{
	tf_flow down = tf_flow_reverse(cl->up);

	for (size_t i = cl->from; i < tf_capture_count(cap); i++) {
		const tf_pkt *p = tf_capture_pkt(cap, i);

		if (p->ts_ns > until)
			break;
		if (stall_pkt_in(p, &down) && (p->flags & TF_TCP_RST) && p->ts_ns >= cl->server_fin_ns &&
		    tf_model_tw_rst_kills(rfc1337, p->seq, cl->server_fin + 1))
			return true;
	}
	return false;
}

/*
 * tcp_tw_reuse = 1: connect() may take over a TIME-WAIT 4-tuple once
 * tcp_clock_ms() is past tw_entry_stamp + tcp_tw_reuse_delay.  Tries
 * connect() every half millisecond (nothing signals that the delay passed)
 * from the moment the range is exhausted, back to back from 1 ms before
 * the model's threshold to 2 ms after it.  Each TIME-WAIT socket gives one
 * threshold; it is bracketed when the last refusal's entry and the
 * success's return are at most TW_BRACKET apart.  Preemption can only
 * widen a bracket: a wide one still proves the bounds (no refusal after a
 * threshold, no success before it) and the probing goes on with the next
 * TIME-WAIT socket — and, once all are taken, with the reincarnations
 * closed again into TIME-WAIT — until one threshold is bracketed.
 */
#define TW_CADENCE_NS 500000LL
#define TW_BRACKET_NS (2 * TW_CADENCE_NS)

/* A bracket spans a refused connect() and a successful one: it cannot be
 * narrower than the two syscalls themselves.  Their fastest durations in
 * this run (µs on a host; a millisecond and more in a TCG guest) are added
 * to TW_BRACKET_NS, and named in the YAML. */
static int64_t tw_bracket_ns(int64_t min_refused, int64_t min_ok)
{
	return TW_BRACKET_NS + (min_refused == INT64_MAX ? 0 : min_refused) +
	       (min_ok == INT64_MAX ? 0 : min_ok);
}
/* Passes go on until one threshold is bracketed, for up to TW_BUDGET_NS
 * of probing: with every core busy a pass may find this process off the
 * CPU at all of its thresholds (8 passes were not always enough, issue
 * 10).  More tries only add evidence: every refusal and success is held to
 * the bounds below, and the bracket's width never grows. */
#define TW_BUDGET_NS 12000000000LL
#define TW_PASSES 48
#define TW_SPIN_NS 1000000LL
#define TW_SPACING_NS 10000000LL

static void tw_reuse(world *w, long reuse_sysctl)
{
	tw tws[16];
	reuse got[16 * TW_PASSES];
	size_t ngot = 0;
	bool taken[16] = { false };
	int err, cfd = -1;
	unsigned n, taken_n = 0, passes = 1;
	long delay_ms = -1, v;
	int64_t off, thr, deadline, last_refused_in = -1, worst_refusal = INT64_MIN;
	int64_t worst_success = INT64_MAX, worst_success_lo = 0;
	int64_t min_refused = INT64_MAX, min_ok = INT64_MAX;   /* connect() durations */
	unsigned fails = 0, other_errors = 0, isn_ok = 0, killed = 0, fresh = 0;
	long rfc1337 = 0;
	long tight = -1;

	if (reuse_sysctl >= 0)
		tf_must(tf_host_sysctl_set_int(w->client, "net.ipv4.tcp_tw_reuse", reuse_sysctl));
	tf_must(tf_host_sysctl_get_int(w->client, "net.ipv4.tcp_tw_reuse", &v));
	tf_diag("tcp_tw_reuse", "%ld", v);
	tf_must(tf_host_sysctl_get_int(w->client, "net.ipv4.tcp_rfc1337", &rfc1337));
	/* tcp_twsk_unique()'s gate for this family's TIME-WAIT sockets: the
	 * IPv6 ones are judged by their IPv6 addresses (::1, ::ffff:127/104) */
	int gate = tf_model_tw_reuse_enabled((int)v, w->family, w->client_addr, w->server_addr, false);
	tf_must(gate < 0 ? gate : 0);
	bool expect_reuse = gate == 1;
	tf_diag("model_reuse_allowed", "%s  # tf_model_tw_reuse_enabled(%ld, %s, %s, %s)",
	        expect_reuse ? "true" : "false", v, w->family == AF_INET6 ? "AF_INET6" : "AF_INET",
	        w->client_addr, w->server_addr);
	bool has_delay = tf_host_sysctl_exists(w->client, "net.ipv4.tcp_tw_reuse_delay");
	/* Linux >= 6.14: milliseconds, read by tcp_twsk_unique() at each
	 * connect().  60 s while the range is filled: with 100 ms, a process
	 * held off the CPU that long mid-way (a CI run: 108 ms stalls) had
	 * connect() reuse its own first TIME-WAIT port instead of taking a
	 * fresh one, and the range was never full. */
	if (has_delay)
		tf_must(tf_host_sysctl_set_int(w->client, "net.ipv4.tcp_tw_reuse_delay", 60000));
	else {
		/* Before 6.14 nothing holds reuse off but the second: filling
		 * took more than one in a loaded TCG guest and connect() reused
		 * an early TIME-WAIT port, so one port of the range was never
		 * filled ("not a TIME_WAIT port" later, 6.1 and 6.12).  Fill with
		 * reuse off, then back to the value under test. */
		tf_note("kernel has no tcp_tw_reuse_delay: reuse once ktime_get_seconds() passes the "
		        "TIME-WAIT socket's last timestamp second (1 s granularity)");
		tf_must(tf_host_sysctl_set_int(w->client, "net.ipv4.tcp_tw_reuse", 0));
	}
	n = exhaust(w, tws, w->model.usable, &err);
	if (!has_delay)
		tf_must(tf_host_sysctl_set_int(w->client, "net.ipv4.tcp_tw_reuse", v));
	unsigned distinct = 0;
	for (unsigned i = 0; i < n; i++) {
		bool seen = false;
		for (unsigned j = 0; j < i; j++)
			seen |= tws[j].port == tws[i].port;
		distinct += !seen;
	}
	tf_expect_int("distinct ports among the TIME_WAIT sockets (none reused while filling)",
	              (long)distinct, (long)n);
	if (has_delay) {
		/* then 100 ms keeps the case fast (the first thresholds may
		 * be past already: those are taken without a refusal) */
		tf_must(tf_host_sysctl_set_int(w->client, "net.ipv4.tcp_tw_reuse_delay", 100));
		tf_must(tf_host_sysctl_get_int(w->client, "net.ipv4.tcp_tw_reuse_delay", &delay_ms));
		tf_diag("tcp_tw_reuse_delay_ms", "%ld  # 60000 while the range was filled", delay_ms);
	}
	tf_expect_int("TIME_WAIT sockets filling the range", (long)n, (long)w->model.usable);
	off = stall_real_minus_mono();
	const int64_t probe_start = tf_mono_ns();
	/* TIME-WAIT ends (TCP_TIMEWAIT_LEN): a socket past it frees its port,
	 * and connect() would take that port fresh, not reuse it.  A loaded
	 * TCG guest ran the case for 60 s ("not a TIME_WAIT port"): probing
	 * stops 5 s before the earliest end of the oldest socket not taken. */
	tf_band twb;
	tf_must(tf_model_timewait_band(w->hz, &twb));
	const int64_t tw_probe_ns = (twb.lo_us - 5000000) * 1000;

	for (;;) {
		int64_t oldest = INT64_MAX;
		for (unsigned i = 0; i < n; i++)
			if (!taken[i] && tws[i].entry_lo_mono_ns < oldest)
				oldest = tws[i].entry_lo_mono_ns;
		if (oldest != INT64_MAX && tf_mono_ns() - oldest > tw_probe_ns) {
			tf_note("probing ends: a TIME-WAIT socket is %.1f s old, its end is near",
			        (tf_mono_ns() - oldest) / 1e9);
			break;
		}
		/* the oldest TIME-WAIT socket not yet taken is the first that
		 * may be reused */
		thr = INT64_MAX;
		for (unsigned i = 0; i < n; i++) {
			int64_t t = tf_model_tw_reuse_at_ns(tws[i].entry_mono_ns, delay_ms);
			if (!taken[i] && t < thr)
				thr = t;
		}
		if (thr == INT64_MAX)
			break;
		deadline = thr + (expect_reuse ? 500 : 200) * 1000000LL;

		int64_t in, out, next = tf_mono_ns();
		int r;
		for (;;) {
			r = probe_connect(w, &cfd, &in, &out);
			int64_t *mind = r == 0 ? &min_ok : &min_refused;
			if (out - in < *mind)
				*mind = out - in;
			if (r == 0)
				break;
			if (r != -EADDRNOTAVAIL) {
				other_errors++;
				tf_note("connect(): %s", tf_errno_name(r));
			}
			fails++;
			last_refused_in = in;
			/* refused: the kernel's check came after `in`, so the
			 * threshold had not passed at `in` */
			if (in - thr > worst_refusal)
				worst_refusal = in - thr;
			if (in >= deadline)
				break;
			/* Around the model's threshold, no sleep between attempts:
			 * under load a sleep of 0.5 ms wakes milliseconds late and
			 * no bracket would be narrow.  The model only chooses when
			 * to look closely; the checks below hold wherever it is. */
			if (in >= thr - TW_SPIN_NS && in <= thr + 2 * TW_SPIN_NS)
				continue;
			/* cadence wait (see above); the capture's fd only ends it early */
			next += TW_CADENCE_NS;
			if (next < in)
				next = in;
			if (in < thr - TW_SPIN_NS && next > thr - TW_SPIN_NS)
				next = thr - TW_SPIN_NS;
			stall_sleep_cap(w->cap, next);
		}
		if (r != 0)
			break;   /* refused past the deadline: checked below */

		/* success: which TIME-WAIT socket did it take over? */
		reuse *g = &got[ngot];
		tf_flow f;
		g->cfd = cfd;
		cfd = -1;
		tf_must(tf_tcp_connect_wait(g->cfd, 5000, NULL));
		tf_must(tf_tcp_accept(w->lfd_a, 5000, &g->sfd));
		ngot++;
		tf_must(tf_sock_flow(g->cfd, &f));
		g->tw = UINT_MAX;
		for (unsigned i = 0; i < n; i++)
			if (!taken[i] && tws[i].port == f.sport)
				g->tw = i;
		if (g->tw == UINT_MAX)
			tf_fail("the new connection's port %u was not a TIME_WAIT port", f.sport);
		taken[g->tw] = true;
		taken_n++;
		g->entry = tws[g->tw].entry_mono_ns;
		g->thr = tf_model_tw_reuse_at_ns(tws[g->tw].entry_mono_ns, delay_ms);
		g->entry_lo = tws[g->tw].entry_lo_mono_ns;   /* thr_lo: after probing, with the lag */
		g->in = in;
		g->out = out;
		g->refused_in = last_refused_in;
		last_refused_in = -1;
		/* wire: the reincarnation's SYN carries tw_snd_nxt + 65537 */
		/* (waited for: a guest's capture can lag the connect()) */
		long si;
		const int64_t syn_deadline = tf_mono_ns() + 2000000000LL;
		for (;;) {
			tf_must(tf_capture_read(w->cap));
			si = stall_find(w->cap, 0, &f, in + off, TF_TCP_SYN, 0);
			if (si >= 0 || tf_mono_ns() >= syn_deadline)
				break;
			tf_must(stall_wait_until(tf_capture_fd(w->cap), syn_deadline));
		}
		if (si < 0)
			tf_fail("no SYN of the reincarnation on the wire (port %u)", f.sport);
		const tf_pkt *syn = tf_capture_pkt(w->cap, (size_t)si);
		bool isn_tw = syn->seq == tf_model_tw_reuse_isn(tws[g->tw].closed.client_fin + 1);
		g->killed = tw_killed(w->cap, &tws[g->tw].closed, syn->ts_ns, (int)rfc1337);
		if (g->killed) {
			killed++;
			fresh += !isn_tw;
		} else {
			isn_ok += isn_tw;
		}
		if (ngot == 1)
			stall_expect_state("the 4-tuple is an established connection again",
			                   stall_diag(w->client, &f), TCP_ESTABLISHED);
		if (!g->killed && g->refused_in >= 0 &&
		    g->out - g->refused_in <= tw_bracket_ns(min_refused, min_ok)) {
			tight = (long)(ngot - 1);
			break;
		}
		if (taken_n == n) {
			/* every TIME-WAIT socket taken, none bracketed: close the
			 * reincarnations client first, back into TIME-WAIT with
			 * new entry stamps, and probe again */
			if (passes == TW_PASSES || tf_mono_ns() - probe_start > TW_BUDGET_NS)
				break;
			passes++;
			/* 10 ms apart, so that each threshold can be probed
			 * on its own (the first pass's come back to back) */
			int64_t prev = -1;
			for (size_t k = ngot - n; k < ngot; k++) {
				unsigned i = got[k].tw;
				if (prev >= 0)
					stall_sleep_cap(w->cap, prev + TW_SPACING_NS);
				stall_close_client_first(&got[k].cfd, &got[k].sfd, w->cap, &tws[i].closed);
				tws[i].entry_lo_mono_ns = tws[i].closed.server_fin_ns - off;
				tws[i].entry_mono_ns = tws[i].closed.final_ack_ns - off;
				prev = tws[i].entry_mono_ns;
				taken[i] = false;
			}
			taken_n = 0;
			off = stall_real_minus_mono();
		}
		if (ngot == TF_ARRAY_SIZE(got))
			break;
	}

	{
		/* each threshold's bracket: last refusal's entry and the
		 * success's return, µs from the model's threshold */
		char br[512] = "";
		size_t o = 0;
		for (size_t k = 0; k < ngot && o + 40 < sizeof br; k++)
			o += (size_t)snprintf(br + o, sizeof br - o, "%s%lld..%lld", k ? " " : "",
			                      got[k].refused_in < 0 ? -1LL
			                                            : (long long)((got[k].refused_in - got[k].thr) / 1000),
			                      (long long)((got[k].out - got[k].thr) / 1000));
		tf_diag("brackets_us", "%s  # refusal entry..success return, from each threshold (-1: no refusal)", br);
	}
	tf_diag("attempts_refused", "%u", fails);
	const int64_t bracket = tw_bracket_ns(min_refused, min_ok);
	tf_diag("bracket_allowance_us", "%lld  # %lld + the fastest refused (%lld) and successful (%lld) connect() of this run",
	        (long long)(bracket / 1000), (long long)(TW_BRACKET_NS / 1000),
	        min_refused == INT64_MAX ? -1LL : (long long)(min_refused / 1000),
	        min_ok == INT64_MAX ? -1LL : (long long)(min_ok / 1000));
	tf_diag("thresholds_probed", "%zu  # in %u pass(es) over the TIME_WAIT sockets", ngot, passes);
	tf_expect_int("refusals other than EADDRNOTAVAIL", other_errors, 0);
	/* Before 6.14 the clock is ktime_get_seconds(), which the timekeeping
	 * tick advances: it trails CLOCK_MONOTONIC by 2 jiffies and the tick's
	 * lateness (tf_model_ktime_sec_lag_ns(); a timer is late by the slack
	 * plus the timer allowance measured in this run; a TCG guest: tens of
	 * ms).  Both its reads trail: at connect() a refusal may come that
	 * much after a threshold (the refusals' high edge), and the FIN's
	 * stamp may name the second before when the FIN came that soon after
	 * a boundary (each threshold's low edge: a 6.12 guest reused a port
	 * 0.87 s before the next second after its FIN).  6.14's tcp_clock_ms()
	 * reads the clock itself and gets none. */
	int64_t lag = 0, tick_late = 0;
	if (delay_ms < 0) {
		lag = tf_model_ktime_sec_lag_ns(w->hz, (tf_slack_us() + tf_case_timer_allowance_us()) * 1000);
		tf_must(lag < 0 ? (int)lag : 0);
		tick_late = lag - tf_slack_us() * 1000;   /* the checks add the slack */
		tf_diag("ktime_sec_lag_us", "%lld  # ktime_get_seconds() may trail the clock this much: "
		        "2 jiffies + slack_us + timer_allowance_us", (long long)(lag / 1000));
	}
	unsigned early_second = 0;
	char early[256] = "";
	size_t eo = 0;
	for (size_t k = 0; k < ngot; k++) {
		int64_t next = tf_model_tw_reuse_at_ns(got[k].entry_lo, delay_ms);
		got[k].thr_lo = tf_model_tw_reuse_earliest_ns(got[k].entry_lo, delay_ms, lag);
		if (got[k].killed)
			continue;   /* no takeover: its port was free */
		early_second += got[k].thr_lo != next;
		/* taken before the second after its FIN: the stamp named the
		 * one before (the FIN's ms into its second, evidence for the lag) */
		if (got[k].out < next && eo + 16 < sizeof early)
			eo += (size_t)snprintf(early + eo, sizeof early - eo, "%s%.3f", eo ? " " : "",
			                       (got[k].entry_lo % 1000000000LL) / 1e6);
		/* success: the check came before `out`, the threshold had
		 * passed; it is no earlier than the one from the FIN's stamp */
		if (got[k].out - got[k].thr_lo < worst_success) {
			worst_success = got[k].out - got[k].thr_lo;
			worst_success_lo = got[k].entry_lo;
		}
	}
	if (delay_ms < 0)
		tf_diag("fin_near_second", "%u  # TIME-WAIT sockets whose FIN came within ktime_sec_lag_us "
		        "after a second's boundary: either second may be their stamp", early_second);
	if (eo)
		tf_diag("taken_in_fin_second", "\"%s\"  # taken before the second after their FIN: the "
		        "FIN's ms into its second (within ktime_sec_lag_us if the stamp trailed)", early);
	/* Bounds a correct kernel meets whatever the scheduling (slack for the
	 * wire-to-tcp_clock_ms() conversion): no refusal entered after the
	 * earliest threshold, no success returned before its threshold. */
	if (expect_reuse && worst_refusal != INT64_MIN)
		tf_expect_range("latest refused connect() entry, relative to the earliest reuse threshold "
		                "then (kernel refused only before it)", worst_refusal / 1000,
		                worst_refusal < -bracket ? worst_refusal / 1000 : -bracket / 1000,
		                tick_late / 1000);
	if (!expect_reuse) {
		tf_expect_int("connect() reused a TIME_WAIT port (tcp_tw_reuse=2 is loopback only)",
		              (long)ngot, 0);
		tf_expect_int("still refused (connect() entered) 200 ms past the reuse threshold",
		              worst_refusal >= 200000000LL, 1);
		for (size_t k = 0; k < ngot; k++) {
			close(got[k].cfd);
			close(got[k].sfd);
		}
		return;
	}
	if (ngot == killed)
		tf_fail("connect() never reused a TIME_WAIT port within 500 ms of the threshold%s",
		        killed ? " (RSTs killed the ones it took)" : "");
	tf_diag("earliest_success_fin_ms", "%.3f  # its FIN, ms into CLOCK_MONOTONIC's second",
	        (worst_success_lo % 1000000000LL) / 1e6);
	tf_expect_range("earliest successful connect() return, relative to the threshold of the "
	                "TIME_WAIT socket it took, from its server's FIN (kernel accepted only after it)",
	                worst_success / 1000,
	                0, worst_success > bracket ? worst_success / 1000 : bracket / 1000);
	tf_expect_int("reincarnations' SYN sequence = old connection's snd_nxt + 65535 + 2 "
	              "(tcp_twsk_unique())", (long)isn_ok, (long)(ngot - killed));
	if (killed) {
		tf_diag("tw_assassinated", "%u  # TIME-WAIT sockets an RST at their rcv_nxt killed "
		        "(tcp_rfc1337 %ld): their ports were taken fresh, left out of the thresholds",
		        killed, rfc1337);
		tf_expect_int("connections on a port whose TIME-WAIT socket an RST killed: a fresh ISN, "
		              "not a takeover", (long)fresh, (long)killed);
	}
	/* No bracket that narrow (a loaded host, a TCG guest: this process was
	 * off the CPU around every threshold): the narrowest one, if it is
	 * within the bracket plus twice the worst wake-up latency measured in
	 * this run — how long this process could be kept from running —
	 * named in the YAML.  It still has to meet the model's threshold. */
	int64_t used = bracket;
	if (tight < 0) {
		const int64_t loaded = bracket + tf_case_wakeup_allowance_us() * 1000;
		for (size_t k = 0; k < ngot; k++)
			if (!got[k].killed && got[k].refused_in >= 0 &&
			    (tight < 0 || got[k].out - got[k].refused_in <
			                      got[tight].out - got[tight].refused_in))
				tight = (long)k;
		if (tight < 0 || got[tight].out - got[tight].refused_in > loaded)
			tf_fail("no reuse threshold bracketed within %.1f ms (or %.1f ms, with the "
			        "wake-up allowance) in %zu tries over %u passes (this process was not "
			        "scheduled around any of them)", bracket / 1e6, loaded / 1e6, ngot, passes);
		used = loaded;
		tf_diag("bracket_loaded_us", "%lld  # no bracket within bracket_allowance_us: the "
		        "narrowest, within it + 2 x the worst wake-up latency measured in this run",
		        (long long)(loaded / 1000));
	}
	/* the threshold bracketed by the last refusal and the first success */
	const reuse *g = &got[tight];
	tf_diag("bracketed_port", "%u  # TIME_WAIT since %.3f ms before its threshold; bracket %.3f ms",
	        tws[g->tw].port, (g->thr - g->entry) / 1e6,
	        (g->out - g->refused_in) / 1e6);
	/* the threshold lies between thr_lo and thr (the entry's window on
	 * the wire, thr_window_us): the bracket meets that window */
	tf_diag("thr_window_us", "%lld  # threshold from the server's FIN .. from the final ACK",
	        (long long)((g->thr - g->thr_lo) / 1000));
	tf_expect_time("last refused connect() entry before the reuse threshold (relative to it, "
	               "from the final ACK)", (g->refused_in - g->thr) / 1000, -used / 2000,
	               (g->thr_lo - g->thr - used) / 1000, tick_late / 1000);
	tf_expect_time("first successful connect() return after the reuse threshold (relative to it, "
	               "from the server's FIN)", (g->out - g->thr_lo) / 1000, used / 2000, 0,
	               (g->thr - g->thr_lo + used + tick_late) / 1000);
	for (size_t k = 0; k < ngot; k++) {
		if (got[k].cfd >= 0)
			close(got[k].cfd);
		if (got[k].sfd >= 0)
			close(got[k].sfd);
	}
}

TF_CASE_F(ports, ports_tw_reuse, .timeout_s = 30,
          .proves = "seed 003: \"enable tcp_tw_reuse for outbound connections\" — TIME_WAIT ports reused after the delay, not before")
{
	(void)variant;
	tw_reuse(self, 1);
}

TF_CASE_F(ports, ports_tw_reuse_default, .timeout_s = 30,
          .proves = "seed 003: tcp_tw_reuse's default (2) reuses only loopback TIME_WAIT — a real interface stays exhausted")
{
	(void)variant;
	tw_reuse(self, -1);
}

TF_CASE_F(ports_lo, ports_tw_reuse_loopback, .timeout_s = 30,
          .proves = "tcp_tw_reuse's default (2) does reuse a loopback TIME_WAIT port after the delay: "
                    "127.0.0.1, and ::1 by tcp_twsk_unique()'s IPv6 test")
{
	(void)variant;
	tw_reuse(&self->w, -1);
}
