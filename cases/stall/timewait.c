/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seed 003, "Port Exhaustion":
 *
 *   "When a connection closes, it enters TIME_WAIT state for 60 seconds
 *    (2×MSL) to handle delayed packets."
 *
 * Only the side that closes first does (RFC 793's active closer); the
 * passive closer goes CLOSE_WAIT -> LAST_ACK -> gone.  The kernel's rules:
 *  - tcp_fin() / tcp_rcv_state_process() (net/ipv4/tcp_input.c): the active
 *    closer's FIN_WAIT2 + FIN -> tcp_time_wait(sk, TCP_TIME_WAIT, 0), which
 *    arms the TIME-WAIT timer for TCP_TIMEWAIT_LEN = 60*HZ
 *    (net/ipv4/tcp_minisocks.c -> inet_twsk_hashdance_schedule() ->
 *    __inet_twsk_schedule(): mod_timer(&tw->tw_timer, jiffies + timeo),
 *    net/ipv4/inet_timewait_sock.c); a retransmitted FIN re-arms it
 *    (tcp_timewait_state_process() -> inet_twsk_reschedule()).
 *  - tw_timer is an ordinary timer_list: 60*HZ jiffies lands in a coarse
 *    wheel level (level 3 at HZ=250: 512 jiffies = 2.048 s granularity),
 *    so the socket lives (60 s, 60 s + gran] (stall.h stall_timer_band()).
 *  - Rebinding the 4-tuple meanwhile: bind() conflicts with the TIME-WAIT
 *    socket unless both sockets had SO_REUSEADDR (inet_bind_conflict(),
 *    net/ipv4/inet_connection_sock.c) -> EADDRINUSE; a bound connect()
 *    then asks __inet_check_established() (net/ipv4/inet_hashtables.c),
 *    which takes the TIME-WAIT 4-tuple over when tcp_twsk_unique()
 *    (net/ipv4/tcp_ipv4.c) allows it — always for a bound port (twp ==
 *    NULL) if the old connection used timestamps — and otherwise fails
 *    with EADDRNOTAVAIL.
 *
 * Both families (issue 14): every case runs as <case>_ipv4 and _ipv6.
 * IPv6 keeps every rule above, through its own entry points:
 *  - tcp_time_wait() and the TIME-WAIT timer are shared: tcp_v6_rcv()
 *    hands the FIN to the same tcp_rcv_state_process(), and the
 *    tcp6_timewait_sock_ops socket is scheduled by the same
 *    inet_twsk_hashdance_schedule(): (60 s, 60 s + gran] again.
 *  - bind(): inet6_bind() -> __inet6_bind() -> inet_csk_get_port(), whose
 *    conflict test compares addresses with ipv6_rcv_saddr_equal()
 *    (inet_rcv_saddr_equal(), net/ipv4/inet_connection_sock.c): the same
 *    EADDRINUSE, SO_REUSEADDR on both sockets lifting it.
 *  - connect(): tcp_v6_connect() (net/ipv6/tcp_ipv6.c) ->
 *    inet6_hash_connect() -> __inet_hash_connect() with
 *    __inet6_check_established() (net/ipv6/inet6_hashtables.c), which
 *    calls twsk_unique() = tcp_twsk_unique() (net/ipv4/tcp_ipv4.c, shared
 *    through tcp6_timewait_sock_ops): the same take-over with timestamps,
 *    the same ISN tw_snd_nxt + 65537 (tcp_v6_connect() draws
 *    secure_tcpv6_seq() only when write_seq is still 0), the same
 *    EADDRNOTAVAIL without them.
 *  - sock_diag reads the TIME-WAIT timer for both (inet_twsk_diag_fill()).
 * The topology's addresses come from tf_topo_addr() per family; the fault
 * is the server's /32 or /128 (tf_topo_cidr()).
 */
#include "stall.h"

#define PORT 6001

/* client — server: the family's fixture.  Each case states its topology
 * (pair, or path when it needs the router for a fault), its fault and its
 * expectation; setup and teardown are the harness's. */
TF_FIXTURE(tw) {
	tf_topo *t;
	tf_host *client, *server;
	int family;
	const char *server_addr;
	tf_capture *cap;        /* the client's link, "tcp port 6001" */
};
TF_FIXTURE_VARIANT(tw) {
	int family;
};
TF_VARIANTS_FAMILY(tw)

static void tw_world(struct tw_fixture *w, tf_topo_shape shape, int family)
{
	w->t = tf_case_topo(shape);
	w->client = tf_topo_client(w->t);
	w->server = tf_topo_server(w->t);
	w->family = family;
	tf_case_family(w->client, family);
	w->server_addr = tf_topo_addr(w->t, TF_NODE_SERVER, family);
	w->cap = tf_case_capture(w->client, TF_IF_CLIENT, "tcp port 6001", "client");
}

TF_FIXTURE_SETUP(tw)
{
	tw_world(self, TF_TOPO_PAIR, variant->family);
}

TF_FIXTURE_TEARDOWN(tw)
{
	(void)variant;
	tf_topo_free(self->t);
}

/* client — router — server, with the server's link captured too. */
TF_FIXTURE(tw_path) {
	struct tw_fixture w;
	tf_host *router;
	tf_capture *scap;       /* the server's link */
};
TF_FIXTURE_VARIANT(tw_path) {
	int family;
};
TF_VARIANTS_FAMILY(tw_path)

TF_FIXTURE_SETUP(tw_path)
{
	tw_world(&self->w, TF_TOPO_PATH, variant->family);
	self->router = tf_topo_router(self->w.t);
	self->scap = tf_case_capture(self->w.server, TF_IF_SERVER, "tcp port 6001", "server");
}

TF_FIXTURE_TEARDOWN(tw_path)
{
	(void)variant;
	tf_topo_free(self->w.t);
}

/* sock_diag has no event for a socket's end: sample it every `cadence_ms`
 * until it is gone or the deadline (ms) passes; returns the state seen
 * last (-ENOENT = gone). */
static int diag_until_gone(tf_host *h, const tf_flow *f, int cadence_ms, int timeout_ms)
{
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	int st;

	for (;;) {
		st = stall_diag(h, f);
		if (st == -ENOENT || tf_mono_ns() >= deadline)
			return st;
		stall_sleep_cap(NULL, tf_mono_ns() + (int64_t)cadence_ms * 1000000);
	}
}

/* bind() a fresh socket of f's family to the local address and port of
 * flow f; 0 or the positive errno. */
static int bind_same(tf_host *h, const tf_flow *f, bool reuseaddr, int *ret_fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = f->src, .sin_port = htons(f->sport) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_addr = f->src6,
	                            .sin6_port = htons(f->sport) };
	bool v6 = tf_flow_is_v6(f);
	int fd = tf_host_socket(h, v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0), r = 0;

	tf_must(fd);
	if (reuseaddr)
		tf_must(tf_sock_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	if (v6 ? bind(fd, (struct sockaddr *)&sa6, sizeof sa6) < 0
	       : bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		r = errno;
	if (ret_fd && r == 0)
		*ret_fd = fd;
	else
		close(fd);
	return r;
}

TF_CASE_F(tw_path, timewait_active_vs_passive, .timeout_s = 30,
          .proves = "seed 003: the side that closes first enters TIME_WAIT; the other goes LAST_ACK -> gone")
{
	_cleanup_(tf_fault_freep) tf_fault *bh = NULL;
	tf_host *client = self->w.client, *server = self->w.server;
	tf_capture *ccap = self->w.cap, *scap = self->scap;
	int cfd = -1, sfd = -1;
	tf_flow up, down;
	char buf[64];
	long i, j;
	uint32_t cfin, sfin, want;
	int64_t deadline;

	tf_must(tf_tcp_pair(client, server, self->w.server_addr, PORT, &cfd, &sfd));
	tf_must(tf_sock_flow(cfd, &up));
	down = tf_flow_reverse(up);
	deadline = tf_mono_ns() + 10000 * 1000000LL;

	/* 1. the client closes first */
	close(cfd);
	i = stall_wait_pkt(ccap, 0, &up, TF_TCP_FIN, 0, NULL, deadline);
	if (i < 0)
		tf_fail("no FIN from the client");
	cfin = tf_capture_pkt(ccap, (size_t)i)->seq + tf_capture_pkt(ccap, (size_t)i)->payload;
	want = cfin + 1;
	/* the server ACKs the FIN with a delayed ACK (tcp_fin() enters
	 * ping-pong); on a connection that never carried data icsk_ack.ato is
	 * still 0, so tcp_send_delayed_ack() arms the timer for 0 jiffies and
	 * it fires on the next tick */
	j = stall_wait_pkt(ccap, (size_t)i, &down, TF_TCP_ACK, TF_TCP_FIN, &want, deadline);
	if (j < 0)
		tf_fail("the server never ACKed the client's FIN");
	tf_diag("fin_ack_delay_ms", "%.3f  # server ACK of the client's FIN",
	        (tf_capture_pkt(ccap, (size_t)j)->ts_ns - tf_capture_pkt(ccap, (size_t)i)->ts_ns) / 1e6);
	stall_expect_state("client after its FIN is ACKed", stall_diag(client, &up), TCP_FIN_WAIT2);
	stall_expect_state("server after the client's FIN", stall_diag(server, &down), TCP_CLOSE_WAIT);
	tf_must(tf_sock_wait(sfd, POLLIN, 5000, NULL));
	tf_expect_int("server application reads EOF", (long)recv(sfd, buf, sizeof buf, MSG_DONTWAIT), 0);

	/* 2. the client's last ACK will be lost: blackhole toward the server */
	tf_must(tf_fault_blackhole(self->router, tf_topo_cidr(self->w.t, TF_NODE_SERVER, self->w.family),
	                           &bh));
	close(sfd);
	i = stall_wait_pkt(ccap, (size_t)j, &down, TF_TCP_FIN, 0, NULL, deadline);
	if (i < 0)
		tf_fail("no FIN from the server");
	sfin = tf_capture_pkt(ccap, (size_t)i)->seq + tf_capture_pkt(ccap, (size_t)i)->payload;
	want = sfin + 1;
	j = stall_wait_pkt(ccap, (size_t)i, &up, TF_TCP_ACK, TF_TCP_FIN, &want, deadline);
	if (j < 0)
		tf_fail("the client never ACKed the server's FIN");
	int64_t first_fin = tf_capture_pkt(ccap, (size_t)i)->ts_ns;
	stall_expect_state("client, the active closer, after the server's FIN",
	                   stall_diag(client, &up), TCP_TIME_WAIT);
	stall_expect_state("server, the passive closer, waiting for the last ACK",
	                   stall_diag(server, &down), TCP_LAST_ACK);
	tf_must(tf_capture_read(scap));
	long acks_at_server = 0;
	for (size_t k = 0; k < tf_capture_count(scap); k++) {
		const tf_pkt *p = tf_capture_pkt(scap, k);
		acks_at_server += stall_pkt_in(p, &up) && p->ack == want;
	}
	tf_expect_int("the client's last ACK did not reach the server (server link)", acks_at_server, 0);

	/* 3. heal: the server retransmits its FIN, the TIME_WAIT socket ACKs
	 * it (and restarts its 60 s: inet_twsk_reschedule()), the server is
	 * done */
	tf_must(tf_fault_heal(bh));
	i = stall_wait_pkt(ccap, (size_t)i + 1, &down, TF_TCP_FIN, 0, NULL, deadline);
	if (i < 0)
		tf_fail("the server did not retransmit its FIN");
	tf_diag("server_fin_retransmitted_after_ms", "%.3f",
	        (tf_capture_pkt(ccap, (size_t)i)->ts_ns - first_fin) / 1e6);
	/* The TIME-WAIT socket re-arms its timer while processing that FIN
	 * and ACKs it right after (tcp_timewait_state_process():
	 * inet_twsk_reschedule(), then TCP_TW_ACK): the ACK leaving the
	 * client is the re-arm's moment.  Not the FIN's arrival: a received
	 * packet is stamped when it is queued (netif_rx()), and under load its
	 * processing waits in ksoftirqd. */
	long ai = stall_wait_pkt(ccap, (size_t)i + 1, &up, TF_TCP_ACK, TF_TCP_FIN, &want, deadline);
	if (ai < 0)
		tf_fail("the TIME_WAIT socket did not ACK the retransmitted FIN (client link)");
	int64_t refin = tf_capture_pkt(ccap, (size_t)ai)->ts_ns;
	tf_diag("refin_processed_after_us", "%lld  # the retransmitted FIN queued on the client link "
	        "to the TIME_WAIT socket's ACK of it",
	        (long long)((refin - tf_capture_pkt(ccap, (size_t)i)->ts_ns) / 1000));
	j = stall_wait_pkt(scap, 0, &up, TF_TCP_ACK, TF_TCP_FIN, &want, deadline);
	if (j < 0)
		tf_fail("the TIME_WAIT socket's ACK never reached the server");
	stall_expect_state("server after the last ACK (sampled every 1 ms, up to 1 s)",
	                   diag_until_gone(server, &down, 1, 1000), -ENOENT);
	stall_expect_state("client, after ACKing the retransmitted FIN", stall_diag(client, &up), TCP_TIME_WAIT);

	tf_tcp_sock tws;
	/* the kernel computed "remaining" at some instant inside the dump:
	 * elapsed is measured from the dump's start, and the dump's duration
	 * d (preemption included) is how much earlier that instant can be */
	int64_t t_read = tf_now_ns();
	tf_must(tf_tcp_diag_find(client, &up, &tws));
	int64_t d_us = (tf_now_ns() - t_read) / 1000;
	stall_expect_state("client when its TIME_WAIT timer is read", tws.state, TCP_TIME_WAIT);
	tf_expect_int("its sock_diag timer (3: TIME_WAIT)", tws.timer, 3);
	/* Under load the server may have sent its FIN once more before our
	 * ACK reached it: each one re-arms the timer again.  The anchor is
	 * the TIME_WAIT socket's last ACK before the read. */
	tf_must(tf_capture_read(ccap));
	unsigned rearms = 1;
	bool fin_again = false;   /* only a FIN re-arms (inet_twsk_reschedule()) */
	for (size_t k = (size_t)ai + 1; k < tf_capture_count(ccap); k++) {
		const tf_pkt *p = tf_capture_pkt(ccap, k);
		if (p->ts_ns >= t_read)
			break;
		if (stall_pkt_in(p, &down) && (p->flags & TF_TCP_FIN))
			fin_again = true;
		else if (fin_again && stall_pkt_in(p, &up) && (p->flags & TF_TCP_ACK) &&
		         !(p->flags & TF_TCP_FIN) && p->ack == want) {
			refin = p->ts_ns;
			rearms++;
			fin_again = false;
		}
	}
	tf_diag("timewait_rearms", "%u  # ACKs of a retransmitted FIN before the read", rearms);
	/* idiag_expires = jiffies_to_msecs(tw_timer.expires - jiffies)
	 * (inet_twsk_diag_fill(), net/ipv4/inet_diag.c, both families):
	 * exact when HZ divides 1000, else within 1 ms; the timer was armed
	 * for TCP_TIMEWAIT_LEN (inet_twsk_reschedule()), so remaining +
	 * elapsed is that length, give or take the jiffy the re-arm and the
	 * read each fell inside.  (Before: /proc/net/tcp's clock_t, floored to
	 * 10 ms; the band loses those 10 ms.) */
	unsigned hz = tf_case_hz();
	int64_t left_us = (int64_t)tws.expires_ms * 1000, since_refin_us = (t_read - refin) / 1000;
	int64_t armed_us = (int64_t)tf_jiffies_to_us(hz, tf_model_timewait_jiffies(hz));
	int64_t jus = (int64_t)tf_jiffies_to_us(hz, 1), ms_us = 1000 % hz ? 1000 : 0;
	tf_diag("diag_read_us", "%lld  # the sock_diag dump that gave the remaining time",
	        (long long)d_us);
	tf_diag("timewait_left_ms", "%u", tws.expires_ms);
	tf_expect_timer_time("TIME_WAIT timer re-armed by the retransmitted FIN (remaining + elapsed from its "
	               "ACK to the sock_diag dump's start; - the dump's duration)",
	               left_us + since_refin_us, armed_us, armed_us - jus - ms_us - d_us,
	               armed_us + jus + ms_us);
}

TF_CASE_F(tw, timewait_rebind_eaddrinuse, .timeout_s = 30,
          .proves = "seed 003: during TIME_WAIT the 4-tuple's local address:port cannot be bound again (EADDRINUSE)")
{
	tf_host *client = self->client;
	int cfd = -1, sfd = -1;
	stall_closed cl;

	(void)variant;
	tf_must(tf_tcp_pair(client, self->server, self->server_addr, PORT, &cfd, &sfd));
	stall_close_client_first(&cfd, &sfd, self->cap, &cl);
	stall_expect_state("client socket", stall_diag(client, &cl.up), TCP_TIME_WAIT);
	tf_expect_errno("bind() to the TIME_WAIT socket's address and port", bind_same(client, &cl.up, false, NULL),
	                EADDRINUSE);
	tf_expect_errno("the same with SO_REUSEADDR on the new socket only (the old one had none)",
	                bind_same(client, &cl.up, true, NULL), EADDRINUSE);
}

/* Both sockets with SO_REUSEADDR: bind() succeeds, and connect() to the
 * same peer either takes the TIME-WAIT 4-tuple over or fails. */
static void reconnect(struct tw_fixture *w, bool timestamps)
{
	tf_host *client = w->client, *server = w->server;
	tf_capture *cap = w->cap;
	int lfd = -1, cfd = -1, sfd = -1, nfd = -1, r;
	stall_closed cl;
	tf_flow f;

	/* one knob for both families: tcp_v6_connect() and the SYN's options
	 * read net.ipv4.tcp_timestamps too (tcp_connect_init()) */
	if (!timestamps)
		tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_timestamps", 0));
	tf_must(tf_tcp_listen(server, w->server_addr, PORT, &lfd));
	tf_must(tf_tcp_socket_af(client, w->family, &cfd));
	tf_must(tf_sock_set_int(cfd, SOL_SOCKET, SO_REUSEADDR, 1));
	tf_must(tf_tcp_connect_fd(cfd, w->server_addr, PORT, &f));
	tf_must(tf_tcp_connect_wait(cfd, 5000, NULL));
	tf_must(tf_tcp_accept(lfd, 5000, &sfd));
	stall_close_client_first(&cfd, &sfd, cap, &cl);
	stall_expect_state("client socket", stall_diag(client, &cl.up), TCP_TIME_WAIT);

	tf_expect_errno("bind() with SO_REUSEADDR on both sockets", bind_same(client, &cl.up, true, &nfd), 0);
	if (nfd < 0)
		return;
	int64_t t0 = tf_now_ns();
	r = tf_tcp_connect_fd(nfd, w->server_addr, PORT, NULL);
	tf_must(tf_capture_read(cap));
	if (timestamps) {
		tf_expect_errno("connect() to the same peer: the TIME_WAIT 4-tuple is taken over", -r, 0);
		if (r == 0) {
			int afd = -1;
			long i;

			tf_must(tf_tcp_connect_wait(nfd, 5000, NULL));
			tf_must(tf_tcp_accept(lfd, 5000, &afd));
			tf_must(tf_capture_read(cap));
			i = stall_find(cap, 0, &cl.up, t0, TF_TCP_SYN, 0);
			if (i < 0)
				tf_fail("no SYN of the new connection on the wire");
			tf_expect_int("its SYN sequence = old snd_nxt + 65535 + 2 (tcp_twsk_unique())",
			              (long)tf_capture_pkt(cap, (size_t)i)->seq,
			              (long)tf_model_tw_reuse_isn(cl.client_fin + 1));
			stall_expect_state("the 4-tuple is established again", stall_diag(client, &cl.up),
			                   TCP_ESTABLISHED);
			close(afd);
		}
	} else {
		tf_expect_errno("connect() to the same peer without timestamps", -r, EADDRNOTAVAIL);
		tf_expect_int("no SYN on the wire", stall_find(cap, 0, &cl.up, t0, TF_TCP_SYN, 0) >= 0, 0);
		stall_expect_state("the old socket", stall_diag(client, &cl.up),
		                   TCP_TIME_WAIT);
	}
	close(nfd);
	close(lfd);
}

TF_CASE_F(tw, timewait_reuseaddr_reconnect, .timeout_s = 30,
          .proves = "seed 003: with SO_REUSEADDR and timestamps, a bound connect() takes over a TIME_WAIT 4-tuple at once")
{
	(void)variant;
	reconnect(self, true);
}

TF_CASE_F(tw, timewait_reuseaddr_no_timestamps, .timeout_s = 30,
          .proves = "seed 003: without timestamps (no PAWS) the same connect() fails with EADDRNOTAVAIL during TIME_WAIT")
{
	(void)variant;
	reconnect(self, false);
}

/*
 * The 60 seconds.  The socket's end has no event: sock_diag is sampled
 * every 500 ms until 1 s before the model's earliest expiry, then every
 * 2 ms until it is gone.  The expiry lies between the start of the last
 * sample that still saw the socket and the end of the first that did not;
 * that bracket must meet the model's band, which is checked from both
 * sides (each side gets the bracket's own width, measured, a few ms).
 */
TF_CASE_F(tw, timewait_duration, .slow = true, .timeout_s = 120,
          .proves = "seed 003: \"it enters TIME_WAIT state for 60 seconds\" — TCP_TIMEWAIT_LEN, timer wheel granularity included")
{
	tf_host *client = self->client, *server = self->server;
	tf_capture *cap = self->cap;
	unsigned hz = tf_case_hz();
	int cfd = -1, sfd = -1, st;
	stall_closed cl;
	const int64_t fine_ns = 2000000, coarse_ns = 500000000;
	int64_t off, t0_mono, last_present = -1, first_gone = -1, worst_dump = 0;
	unsigned samples = 0;

	(void)variant;
	tf_must(tf_tcp_pair(client, server, self->server_addr, PORT, &cfd, &sfd));
	stall_close_client_first(&cfd, &sfd, cap, &cl);
	off = stall_real_minus_mono();
	t0_mono = cl.final_ack_ns - off;   /* the TIME-WAIT timer is armed as this ACK leaves */

	tf_band b;
	tf_must(tf_model_timewait_band(hz, &b));
	tf_diag("timewait_model", "TCP_TIMEWAIT_LEN = %u jiffies = %.3f s; wheel granularity %u jiffies "
	        "-> gone in (%.3f, %.3f] s", b.jiffies, b.lo_us / 1e6, b.gran, b.lo_us / 1e6, b.hi_us / 1e6);
	stall_expect_state("client, the active closer", stall_diag(client, &cl.up), TCP_TIME_WAIT);
	tf_flow down = tf_flow_reverse(cl.up);
	stall_expect_state("server, the passive closer, after the last ACK (sampled every 1 ms, up to 1 s)",
	                   diag_until_gone(server, &down, 1, 1000), -ENOENT);
	tf_expect_errno("bind() to the TIME_WAIT address:port right away", bind_same(client, &cl.up, false, NULL),
	                EADDRINUSE);

	/* coarse until 1 s before the earliest expiry */
	while (tf_mono_ns() < t0_mono + b.lo_us * 1000 - 1000000000LL) {
		stall_sleep_cap(cap, tf_mono_ns() + coarse_ns);
		last_present = tf_mono_ns();
		st = stall_diag(client, &cl.up);
		if (st != TCP_TIME_WAIT)
			tf_fail("TIME_WAIT socket %s %.3f s after the last ACK, before the model's earliest %.3f s",
			        tf_tcp_state_name(st), (tf_mono_ns() - t0_mono) / 1e9, b.lo_us / 1e6);
	}
	tf_expect_errno("bind() to the address:port 1 s before the earliest expiry",
	                bind_same(client, &cl.up, false, NULL), EADDRINUSE);
	/* fine until gone */
	int64_t end = t0_mono + (b.hi_us + tf_slack_us()) * 1000 + 1000000000LL, gone_end = -1;
	for (;;) {
		int64_t before = tf_mono_ns();
		st = stall_diag(client, &cl.up);
		int64_t after = tf_mono_ns();
		samples++;
		if (after - before > worst_dump)
			worst_dump = after - before;
		if (st == -ENOENT) {
			first_gone = before;
			gone_end = after;
			break;
		}
		last_present = before;
		if (before >= end)
			break;
		stall_sleep_cap(cap, before + fine_ns);
	}
	tf_diag("sock_diag_samples", "%u, every %lld us, slowest dump %lld us", samples,
	        (long long)(fine_ns / 1000), (long long)(worst_dump / 1000));
	if (first_gone < 0)
		tf_fail("TIME_WAIT socket still there %.3f s after the last ACK (model: gone in (%.3f, %.3f] s)",
		        (tf_mono_ns() - t0_mono) / 1e9, b.lo_us / 1e6, b.hi_us / 1e6);
	int64_t w_us = (gone_end - last_present) / 1000;
	tf_diag("timewait_measured_s", "%.4f .. %.4f  # bracket %lld us", (last_present - t0_mono) / 1e9,
	        (gone_end - t0_mono) / 1e9, (long long)w_us);
	tf_expect_timer_time("TIME_WAIT over by the end of the first sample without the socket",
	               (gone_end - t0_mono) / 1000, b.mid_us, b.lo_us, b.hi_us + w_us);
	tf_expect_time("TIME_WAIT still on at the start of the last sample with it",
	               (last_present - t0_mono) / 1000, b.mid_us, b.lo_us - w_us, b.hi_us);
	tf_expect_errno("bind() to the address:port once TIME_WAIT is over",
	                bind_same(client, &cl.up, false, NULL), 0);
}
