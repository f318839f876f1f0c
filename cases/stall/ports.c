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
 */
#include "stall.h"

#define PORT_A 7001
#define PORT_B 7002
#define LOW 40000
#define HIGH 40009

typedef struct world {
	tf_topo *t;
	tf_host *client, *server;
	int lfd_a, lfd_b;
	tf_capture *cap;
	unsigned hz;
	stall_ports model;
} world;

typedef struct tw {
	uint16_t port;
	stall_closed closed;
	int64_t entry_mono_ns;  /* TIME-WAIT entry (the final ACK), CLOCK_MONOTONIC */
} tw;

static void world_setup(world *w)
{
	char range[64];

	memset(w, 0, sizeof *w);
	w->t = tf_case_topo(TF_TOPO_PAIR);
	w->client = tf_topo_client(w->t);
	w->server = tf_topo_server(w->t);
	w->hz = tf_case_hz();
	tf_must(tf_host_sysctl_set(w->client, "net.ipv4.ip_local_port_range", "40000 40009"));
	tf_must(tf_host_sysctl_get(w->client, "net.ipv4.ip_local_port_range", range, sizeof range));
	tf_diag("ip_local_port_range", "%s", range);
	w->model = stall_connect_ports(LOW, HIGH);
	tf_must(tf_tcp_listen(w->server, tf_topo_server_addr(w->t), PORT_A, &w->lfd_a));
	tf_must(tf_tcp_listen(w->server, tf_topo_server_addr(w->t), PORT_B, &w->lfd_b));
	w->cap = tf_case_capture(w->client, TF_IF_CLIENT, "tcp", "client");
}

static void world_free(world *w)
{
	close(w->lfd_a);
	close(w->lfd_b);
	tf_topo_free(w->t);
}

/* connect() to dport; 0 and an established pair, or the connect error
 * (connect() itself fails with EADDRNOTAVAIL: no SYN is sent). */
static int open_conn(world *w, uint16_t dport, int *cfd, int *sfd)
{
	int r = tf_tcp_connect_start(w->client, tf_topo_server_addr(w->t), dport, cfd);

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

TF_CASE(ports_exhaustion, .timeout_s = 30,
        .proves = "seed 003: with the range used up by TIME_WAIT sockets, connect() fails with EADDRNOTAVAIL")
{
	world w;
	tw tws[16];
	int err;
	unsigned n;

	world_setup(&w);
	n = exhaust(&w, tws, w.model.usable + 1, &err);
	check_exhaustion(&w, tws, n, err);
	stall_diag_rate(w.model.usable, w.hz);
	/* the seed's number, with the default range 32768..60999 */
	stall_ports def = stall_connect_ports(32768, 60999);
	tf_diag("default_range_ports", "%u", def.usable);
	stall_band twb = stall_timer_band(stall_timewait_len(w.hz), w.hz);
	tf_diag("default_range_rate_per_s", "%.1f  # seed: 28,000 / 60 = 466; with the wheel's worst case %.1f",
	        def.usable / (twb.lo / 1e6), def.usable / (twb.hi / 1e6));
	world_free(&w);
}

TF_CASE(ports_other_destination, .timeout_s = 30,
        .proves = "seed 003 \"Everything fails\": only for bind()-before-connect(); plain connect() shares ports across destinations")
{
	world w;
	tw tws[16];
	int err, cfd = -1, sfd = -1, r, bfd;
	unsigned n;
	tf_flow f;
	struct sockaddr_in sa = { .sin_family = AF_INET };

	world_setup(&w);
	n = exhaust(&w, tws, w.model.usable + 1, &err);
	check_exhaustion(&w, tws, n, err);

	/* service B: a different 4-tuple, so __inet_check_established()
	 * finds no conflict on a port whose only other user is a TIME-WAIT
	 * socket toward service A */
	r = open_conn(&w, PORT_B, &cfd, &sfd);
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
	bfd = tf_host_socket(w.client, AF_INET, SOCK_STREAM, 0);
	tf_must(bfd);
	tf_must(inet_pton(AF_INET, tf_topo_client_addr(w.t), &sa.sin_addr) == 1 ? 0 : -EINVAL);
	r = bind(bfd, (struct sockaddr *)&sa, sizeof sa) < 0 ? errno : 0;
	tf_expect_errno("bind(port 0) before connect() with the range exhausted", r, EADDRINUSE);
	close(bfd);
	world_free(&w);
}

/*
 * tcp_tw_reuse = 1: connect() may take over a TIME-WAIT 4-tuple once
 * tcp_clock_ms() is past tw_entry_stamp + tcp_tw_reuse_delay.  Tries
 * connect() every millisecond (the cadence is the measurement's
 * resolution: nothing signals that the delay passed) from the moment the
 * range is exhausted until it succeeds.
 */
static void tw_reuse(long reuse, bool expect_reuse)
{
	world w;
	tw tws[16];
	int err, cfd = -1, sfd = -1;
	unsigned n;
	long delay_ms = -1, v;
	const int64_t cadence_ns = 1000000;
	int64_t off, thr, first_ok = -1, last_fail = -1, deadline;
	unsigned fails = 0, other_errors = 0;

	world_setup(&w);
	if (reuse >= 0)
		tf_must(tf_host_sysctl_set_int(w.client, "net.ipv4.tcp_tw_reuse", reuse));
	tf_must(tf_host_sysctl_get_int(w.client, "net.ipv4.tcp_tw_reuse", &v));
	tf_diag("tcp_tw_reuse", "%ld", v);
	if (tf_host_sysctl_exists(w.client, "net.ipv4.tcp_tw_reuse_delay")) {
		/* Linux >= 6.14: milliseconds; 100 ms keeps the case fast */
		tf_must(tf_host_sysctl_set_int(w.client, "net.ipv4.tcp_tw_reuse_delay", 100));
		tf_must(tf_host_sysctl_get_int(w.client, "net.ipv4.tcp_tw_reuse_delay", &delay_ms));
		tf_diag("tcp_tw_reuse_delay_ms", "%ld", delay_ms);
	} else {
		tf_note("kernel has no tcp_tw_reuse_delay: reuse once ktime_get_seconds() passes the "
		        "TIME-WAIT socket's last timestamp second (1 s granularity)");
	}
	n = exhaust(&w, tws, w.model.usable, &err);
	tf_expect_int("TIME_WAIT sockets filling the range", (long)n, (long)w.model.usable);

	/* the oldest TIME-WAIT socket is the first that may be reused */
	thr = INT64_MAX;
	for (unsigned i = 0; i < n; i++) {
		int64_t t = stall_tw_reuse_at_ns(tws[i].entry_mono_ns, delay_ms);
		if (t < thr)
			thr = t;
	}
	off = stall_real_minus_mono();
	deadline = thr + (expect_reuse ? 500 : 200) * 1000000LL;
	while (tf_mono_ns() < deadline) {
		int64_t t = tf_mono_ns();
		int r = tf_tcp_connect_start(w.client, tf_topo_server_addr(w.t), PORT_A, &cfd);

		if (r == 0) {
			first_ok = t;
			break;
		}
		if (r != -EADDRNOTAVAIL) {
			other_errors++;
			tf_note("connect(): %s", tf_errno_name(r));
		}
		fails++;
		last_fail = t;
		/* cadence wait (see above); the capture's fd only ends it early */
		stall_sleep_cap(w.cap, t + cadence_ns);
	}
	tf_diag("attempts_refused", "%u", fails);
	tf_expect_int("refusals other than EADDRNOTAVAIL", other_errors, 0);
	if (!expect_reuse) {
		tf_expect_int("connect() reused a TIME_WAIT port (tcp_tw_reuse=2 is loopback only)",
		              first_ok >= 0, 0);
		tf_expect_int("still refused 200 ms past the reuse threshold", last_fail > thr + 150000000LL, 1);
		if (cfd >= 0)
			close(cfd);
		world_free(&w);
		return;
	}
	if (first_ok < 0)
		tf_fail("connect() never reused a TIME_WAIT port within %lld ms of the threshold",
		        (long long)((deadline - thr) / 1000000));
	/* threshold bracketed by the last refusal and the first success */
	if (last_fail >= 0)
		tf_expect_time("last refused connect() before the reuse threshold (relative to it)",
		               (last_fail - thr) / 1000, -cadence_ns / 2000, -cadence_ns / 1000, 0);
	else
		tf_note("the first attempt already succeeded: no refusal to bracket the threshold");
	tf_expect_time("first successful connect() after the reuse threshold (relative to it)",
	               (first_ok - thr) / 1000, cadence_ns / 2000, 0, cadence_ns / 1000);

	tf_must(tf_tcp_connect_wait(cfd, 5000, NULL));
	tf_must(tf_tcp_accept(w.lfd_a, 5000, &sfd));
	tf_flow f;
	tf_must(tf_sock_flow(cfd, &f));
	const tw *old = NULL;
	for (unsigned i = 0; i < n; i++)
		if (tws[i].port == f.sport)
			old = &tws[i];
	if (!old)
		tf_fail("the new connection's port %u was not a TIME_WAIT port", f.sport);
	tf_diag("reused_port", "%u  # TIME_WAIT since %.3f ms before the threshold", f.sport,
	        (thr - old->entry_mono_ns) / 1e6);
	tf_expect_int("the reused socket's reuse time had passed when it was taken",
	              stall_tw_reuse_at_ns(old->entry_mono_ns, delay_ms) <= first_ok + 2 * cadence_ns, 1);
	/* wire: the reincarnation's SYN carries tw_snd_nxt + 65537 */
	tf_must(tf_capture_read(w.cap));
	long i = stall_find(w.cap, 0, &f, first_ok + off, TF_TCP_SYN, 0);
	if (i < 0)
		tf_fail("no SYN of the reincarnation on the wire");
	tf_expect_int("SYN sequence = old connection's snd_nxt + 65535 + 2 (tcp_twsk_unique())",
	              (long)tf_capture_pkt(w.cap, (size_t)i)->seq,
	              (long)stall_tw_reuse_isn(old->closed.client_fin + 1));
	stall_expect_state("the 4-tuple is an established connection again",
	                   stall_diag(w.client, &f), TCP_ESTABLISHED);
	close(cfd);
	close(sfd);
	world_free(&w);
}

TF_CASE(ports_tw_reuse, .timeout_s = 30,
        .proves = "seed 003: \"enable tcp_tw_reuse for outbound connections\" — TIME_WAIT ports reused after the delay, not before")
{
	tw_reuse(1, true);
}

TF_CASE(ports_tw_reuse_default, .timeout_s = 30,
        .proves = "seed 003: tcp_tw_reuse's default (2) reuses only loopback TIME_WAIT — a real interface stays exhausted")
{
	tw_reuse(-1, false);
}
