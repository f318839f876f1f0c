/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Keepalive: seed 001 ("If TCP keepalive is enabled, after the client is
 * unplugged, even if neither side is transmitting, TCP will send probe
 * messages after a period of time") and seed 002 (the three knobs, the
 * per-socket options that override them, TCP_USER_TIMEOUT).
 *
 * Topology (the fixture `ka`): client — router — server, an idle
 * established connection with SO_KEEPALIVE on the client (ka_connect(),
 * the case's knobs).  Dead peer: a blackhole at the router.  Every case
 * runs over IPv4 and IPv6 (<case>_ipv4, <case>_ipv6), see below.
 *
 * The kernel's rule, tcp_keepalive_timer() (net/ipv4/tcp_timer.c): the
 * timer is armed for keepalive_time_when() when the connection is
 * established (tcp_finish_connect()) or SO_KEEPALIVE is set; at each
 * expiry, with data in flight or queued it just re-arms for the idle time
 * ("It is alive without keepalive"); otherwise, if the time since the last
 * received segment (keepalive_time_elapsed()) is below the idle time, it
 * re-arms for the difference; else it gives up — with TCP_USER_TIMEOUT set,
 * when that time is >= the user timeout and at least one probe is
 * unanswered, without it when icsk_probes_out >= keepalive_probes() — by
 * sending a RST (tcp_send_active_reset()) and tcp_write_err(), or sends a
 * probe (tcp_write_wakeup()), icsk_probes_out++ and re-arms for
 * keepalive_intvl_when().  Any ACK resets icsk_probes_out and rcv_tstamp
 * (tcp_ack()).  The schedule of a dead peer is the model's
 * (tf_model_keepalive()); the cases below add the live peer, the busy
 * connection and TCP_USER_TIMEOUT.
 */
#include "fate.h"

#define PORT 12002

/*
 * Both families (issue 14): every case runs as <case>_ipv4 and <case>_ipv6.
 * The keepalive timer is the same code for both (tcp_keepalive_timer() is
 * the inet_csk keepalive handler of TCP over IPv4 and IPv6 alike, installed
 * by tcp_init_xmit_timers()), the probe is tcp_xmit_probe_skb() and the
 * give-up RST tcp_send_active_reset() (net/ipv4/tcp_output.c, shared), and
 * the knobs an IPv6 socket inherits are net.ipv4.tcp_keepalive_* — the
 * per-namespace sysctls keepalive_time_when() reads (include/net/tcp.h:
 * net->ipv4.sysctl_tcp_keepalive_*; IPv6 has no keepalive knob of its
 * own).  So the IPv6 variant asserts the same model, and its YAML says
 * "family: ipv6".
 */
struct ka {
	int idle, intvl, cnt;      /* seconds, seconds, probes */
	bool sysctl;               /* via net.ipv4.tcp_keepalive_* in the client host */
	int user_timeout_ms;       /* TCP_USER_TIMEOUT, 0 = unset */
	bool live;                 /* no blackhole: the server answers */
};

/* Topology: client — router — server; the connection is ka_connect()'s
 * (its knobs are the case's), torn down by the fixture. */
TF_FIXTURE(ka) {
	tf_topo *t;
	tf_host *client, *router, *server;
	int family;
	const char *server_addr;
	int cfd, sfd;
	tf_flow cf, sf;
	tf_capture *cap;           /* on the client's link */
	int64_t t_synack;          /* the last segment the client received */
	uint32_t snd_nxt;          /* the client's next sequence */
};
TF_FIXTURE_VARIANT(ka) {
	int family;
};
TF_VARIANTS_FAMILY(ka)

static void ka_topo_up(struct ka_fixture *self, int family)
{
	*self = (struct ka_fixture){ .cfd = -1, .sfd = -1, .family = family };
	self->t = tf_case_topo(TF_TOPO_PATH);
	self->client = tf_topo_client(self->t);
	self->router = tf_topo_router(self->t);
	self->server = tf_topo_server(self->t);
	self->server_addr = tf_topo_addr(self->t, TF_NODE_SERVER, family);
}

static void ka_topo_down(struct ka_fixture *self)
{
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->sfd >= 0)
		close(self->sfd);
	self->cfd = self->sfd = -1;
	tf_topo_free(self->t);
	self->t = NULL;
}

TF_FIXTURE_SETUP(ka)
{
	ka_topo_up(self, variant->family);
	tf_case_family(self->client, variant->family);
}

TF_FIXTURE_TEARDOWN(ka)
{
	(void)variant;
	ka_topo_down(self);
}

/* The server as a host route (/32 or /128): what the blackhole covers. */
static const char *ka_server_cidr(const struct ka_fixture *self)
{
	return tf_topo_cidr(self->t, TF_NODE_SERVER, self->family);
}

/*
 * Connect with the keepalive knobs set before connect(): the timer is then
 * armed by tcp_finish_connect() on the SYN-ACK, the last segment the client
 * receives, which is the model's event 0.
 */
static void ka_connect(struct ka_fixture *c, const struct ka *k)
{
	_cleanup_close_ int lfd = -1;

	if (k->sysctl) {
		static const char *const keys[] = { "net.ipv4.tcp_keepalive_time",
		                                    "net.ipv4.tcp_keepalive_intvl",
		                                    "net.ipv4.tcp_keepalive_probes" };
		const long vals[] = { k->idle, k->intvl, k->cnt };

		for (size_t i = 0; i < TF_ARRAY_SIZE(keys); i++) {
			if (!tf_host_sysctl_exists(c->client, keys[i]))
				TF_SKIP("kernel has no per-namespace %s", keys[i]);
			tf_must(tf_host_sysctl_set_int(c->client, keys[i], vals[i]));
		}
	}
	c->cap = tf_case_capture(c->client, TF_IF_CLIENT, "tcp port 12002", "client");
	tf_must(tf_tcp_listen(c->server, c->server_addr, PORT, &lfd));
	tf_must(tf_tcp_socket_af(c->client, c->family, &c->cfd));
	if (k->sysctl)
		fate_keepalive(c->cfd, 0, 0, 0);
	else
		fate_keepalive(c->cfd, k->idle, k->intvl, k->cnt);
	if (k->user_timeout_ms)
		tf_must(tf_sock_set_int(c->cfd, IPPROTO_TCP, TCP_USER_TIMEOUT, k->user_timeout_ms));
	tf_must(tf_tcp_connect_fd(c->cfd, c->server_addr, PORT, &c->cf));
	tf_must(tf_tcp_connect_wait(c->cfd, 5000, NULL));
	tf_must(tf_tcp_accept(lfd, 5000, &c->sfd));
	c->sf = tf_flow_reverse(c->cf);
	tf_expect_flow_family(&c->cf, c->family);

	tf_must(tf_capture_read(c->cap));
	long sa = tf_capture_find(c->cap, 0, &(tf_match){ .flow = &c->sf, .all = TF_TCP_SYN | TF_TCP_ACK });
	long ac = tf_capture_find(c->cap, 0, &(tf_match){ .flow = &c->cf, .all = TF_TCP_ACK,
	                                              .none = TF_TCP_SYN, .payload = -1 });
	if (sa < 0 || ac < 0)
		tf_fail("handshake not captured on the client's link");
	c->t_synack = tf_capture_pkt(c->cap, (size_t)sa)->ts_ns;
	c->snd_nxt = tf_capture_pkt(c->cap, (size_t)ac)->seq;
}

/* The client's keepalive probes in the capture (after `from_ns`). */
static size_t ka_probes(const struct ka_fixture *c, int64_t from_ns, int64_t *ts, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < tf_capture_count(c->cap); i++) {
		const tf_pkt *p = tf_capture_pkt(c->cap, i);

		if (p->ts_ns < from_ns || !fate_is_probe(p, &c->cf, c->snd_nxt))
			continue;
		if (n < max)
			ts[n] = p->ts_ns;
		n++;
	}
	return n;
}

static tf_model *ka_model(const struct ka_fixture *c, const struct ka *k)
{
	tf_model *m = tf_case_model(c->client);
	long idle = k->idle, intvl = k->intvl, cnt = k->cnt;

	if (k->sysctl) {
		/* What the host's kernel has, read back. */
		tf_must(tf_host_sysctl_get_int(c->client, "net.ipv4.tcp_keepalive_time", &idle));
		tf_must(tf_host_sysctl_get_int(c->client, "net.ipv4.tcp_keepalive_intvl", &intvl));
		tf_must(tf_host_sysctl_get_int(c->client, "net.ipv4.tcp_keepalive_probes", &cnt));
	}
	tf_must(tf_model_set_keepalive(m, (uint32_t)idle, (uint32_t)intvl, (unsigned)cnt));
	if (k->user_timeout_ms)
		tf_must(tf_model_set_user_timeout_ms(m, (uint32_t)k->user_timeout_ms));
	return m;
}

/* ------------------------------------------------------------------ */
/*
 * Dead peer: "If the peer host crashes, or the peer is unreachable for
 * other reasons. When a TCP alive probe message is sent to the other end
 * and sinks in stone with no response, several times in a row, after
 * reaching the number of alive probes, TCP reports that the TCP connection
 * is dead."  Probes at the model's times, ESTABLISHED at each; then the
 * RST (which the blackhole swallows) and ETIMEDOUT, and the socket is gone.
 */

static void ka_dead(struct ka_fixture *self, const struct ka *k)
{
	struct ka_fixture *c = self;
	_cleanup_(tf_fault_freep) tf_fault *blackhole = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	int64_t tx[TF_RUN_MAX_TX], t_err = -1;
	size_t n;
	int err = 0;

	/* The peer must be dead before the first probe: the keepalive timer
	 * runs from the connect, the blackhole is this process's doing.  A
	 * probe already on the wire when the fault is in (this process was
	 * late) may have been answered: set up again, never assert on it. */
	for (int attempt = 1;; attempt++) {
		int64_t probe_ts[1];

		ka_connect(c, k);
		tf_must(tf_fault_blackhole(c->router, ka_server_cidr(c), &blackhole));
		tf_must(tf_capture_read(c->cap));
		if (ka_probes(c, 0, probe_ts, 1) == 0)
			break;
		if (attempt == 3)
			tf_fail("a keepalive probe left before the blackhole was in place, 3 times");
		tf_note("a keepalive probe left before the blackhole was in place: set up again");
		tf_fault_free(blackhole);
		blackhole = NULL;
		ka_topo_down(c);              /* a fresh topology, as the first */
		ka_topo_up(c, c->family);
	}
	tf_diag("fault", "%s", tf_fault_describe(blackhole));
	m = ka_model(c, k);
	tf_must(tf_model_keepalive(m, &s));
	const tf_sched_event *gv = tf_schedule_event(s, tf_schedule_giveup(s));
	tf_diag("keepalive", "idle %d s, intvl %d s, cnt %d%s, TCP_USER_TIMEOUT %d ms", k->idle,
	        k->intvl, k->cnt, k->sysctl ? " (net.ipv4 sysctls)" : " (socket options)",
	        k->user_timeout_ms);
	tf_diag("model_giveup_s", "%.3f", gv->at_us / 1e6);

	int r = tf_case_wait_error(c->cfd, c->cap, c->client, &c->cf, TCP_ESTABLISHED,
	                        (int)(gv->at_hi_us / 1000) + 3000, &err, &t_err);
	if (r == -ETIME) {
		tf_note("no socket error within the model's give-up + 3 s");
		t_err = -1;
	} else {
		tf_must(r);
	}
	tf_must(tf_capture_read(c->cap));
	tx[0] = c->t_synack;
	n = 1 + ka_probes(c, c->t_synack, tx + 1, TF_ARRAY_SIZE(tx) - 1);
	if (n > TF_ARRAY_SIZE(tx))
		n = TF_ARRAY_SIZE(tx);
	tf_diag("probes", "%zu", n - 1);
	tf_check_schedule("keepalive", s, tx, n, t_err);
	tf_expect_errno("socket error", err, tf_schedule_errno(s));

	/* The give-up sends a RST (tcp_send_active_reset(): seq = snd_nxt)
	 * just before tcp_write_err() raises the error. */
	long ri = tf_capture_find(c->cap, 0, &(tf_match){ .flow = &c->cf, .all = TF_TCP_RST });
	tf_expect_int("RST from the client at the give-up", ri >= 0, 1);
	if (ri >= 0 && t_err >= 0) {
		const tf_pkt *rst = tf_capture_pkt(c->cap, (size_t)ri);
		tf_expect_int("RST sequence number == snd_nxt", (long)rst->seq, (long)c->snd_nxt);
		/* the application's wake-up on the error: application side */
		tf_expect_app_time("RST to socket error", (t_err - rst->ts_ns) / 1000, 0, 0, 0);
	}
	tf_expect_int("data segments from the client", (long)tf_capture_count_match(c->cap, &(tf_match){
	              .flow = &c->cf, .payload = 1 }), 0);
	tf_expect_int("socket after the give-up (sock_diag: -ENOENT = gone)",
	              fate_state(c->client, &c->cf), -ENOENT);
}

TF_CASE_F(ka, keepalive_sockopt_dead_peer, .timeout_s = 30,
          .proves = "seed 002: TCP_KEEPIDLE/KEEPINTVL/KEEPCNT 1/1/3 probe a dead peer at 1, 2, 3 s and drop it (RST, ETIMEDOUT) at idle + intvl x cnt")
{
	ka_dead(self, &(struct ka){ .idle = 1, .intvl = 1, .cnt = 3 });
}

TF_CASE_F(ka, keepalive_sockopt_dead_peer_long, .slow = true, .timeout_s = 120,
          .proves = "seed 002: keepalive 20/10/4 finds a dead peer after a minute (idle + intvl x cnt = 60 s), timers at wheel level 3")
{
	ka_dead(self, &(struct ka){ .idle = 20, .intvl = 10, .cnt = 4 });
}

TF_CASE_F(ka, keepalive_sysctl_dead_peer, .timeout_s = 30,
          .proves = "seed 001/002: net.ipv4.tcp_keepalive_time/intvl/probes (2/1/2, per network namespace) do the same for every socket with SO_KEEPALIVE")
{
	ka_dead(self, &(struct ka){ .idle = 2, .intvl = 1, .cnt = 2, .sysctl = true });
}

/*
 * Seed 002, TCP_USER_TIMEOUT with keepalive: the timeout replaces KEEPCNT.
 * The rule (tcp_keepalive_timer()): at each keepalive expiry, with
 * icsk_user_timeout set, the connection is dropped when the time since the
 * last received segment is >= the user timeout and icsk_probes_out > 0 —
 * the probe count is not looked at.  So with 1/1/9 and 2500 ms it ends at
 * the third expiry (3 s, two probes) instead of after nine probes (10 s),
 * and with 1/1/2 and 4500 ms at the fifth (5 s, four probes) instead of
 * after two (3 s).  The user timeouts sit between two expiries, so which
 * expiry ends it does not depend on the timer wheel's rounding.
 */
TF_CASE_F(ka, keepalive_user_timeout_shorter, .timeout_s = 30,
          .proves = "seed 002: TCP_USER_TIMEOUT 2500 ms with keepalive 1/1/9 drops a dead peer at the third expiry (3 s), not after 9 probes")
{
	ka_dead(self, &(struct ka){ .idle = 1, .intvl = 1, .cnt = 9, .user_timeout_ms = 2500 });
}

TF_CASE_F(ka, keepalive_user_timeout_longer, .timeout_s = 30,
          .proves = "seed 002: TCP_USER_TIMEOUT 4500 ms with keepalive 1/1/2 keeps probing past KEEPCNT and drops the peer at 5 s after 4 probes")
{
	ka_dead(self, &(struct ka){ .idle = 1, .intvl = 1, .cnt = 2, .user_timeout_ms = 4500 });
}

/* ------------------------------------------------------------------ */

/*
 * "if the opposite end is working properly ... the other side will respond
 *  normally so that TCP alive time will be reset and wait for the next TCP
 *  alive time to come."
 *
 * Live peer, idle 2 s, intvl 1 s, cnt 2 (a dead peer would be dropped at
 * 4 s).  The server answers each probe (an old sequence: tcp_send_dupack(),
 * at most one per tcp_invalid_ratelimit, 500 ms, which 2 s apart never
 * hits); the ACK resets icsk_probes_out and rcv_tstamp (tcp_ack()).  The
 * timer, armed for intvl at the probe, then finds the connection idle for
 * only intvl and re-arms for idle - intvl: the next probe comes idle after
 * the answer, not intvl after the probe.  From the answer (inside jiffy A)
 * the second expiry is in (A + idle, A + idle + gran(idle - intvl)] jiffies
 * (both arms from the timer callback, kernel/time/timer.c).  Over 7 s:
 * three probes, three answers, and the connection is alive.
 */
#define LIVE_WINDOW_MS 7000

TF_CASE_F(ka, keepalive_live_peer, .timeout_s = 30,
          .proves = "seed 001: a live peer answers every probe, the idle timer restarts from the answer, and the connection outlives idle + intvl x cnt")
{
	const struct ka k = { .idle = 2, .intvl = 1, .cnt = 2, .live = true };
	struct ka_fixture *c = self;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	unsigned hz = tf_case_hz();
	int64_t probes[32], t_end;
	char label[128];
	short rev = 0;

	ka_connect(c, &k);
	m = ka_model(c, &k);
	tf_must(tf_model_keepalive(m, &s));
	const tf_sched_event *first = tf_schedule_event(s, 1);   /* idle after event 0 */

	/* The window counts from event 0, the SYN-ACK. */
	int64_t left_ms = LIVE_WINDOW_MS - (tf_now_ns() - c->t_synack) / 1000000;
	int fds[2] = { c->cfd, c->sfd };
	int who = fate_watch(fds, 2, c->cap, (int)left_ms, &rev);
	t_end = tf_now_ns();
	if (who >= 0)
		tf_note("%s socket woke up (revents 0x%x)", who ? "server" : "client", (unsigned)rev);
	tf_expect_int("socket events in the 7 s window (poll: -1 = none)", who, -1);
	tf_must(tf_capture_read(c->cap));

	size_t n = ka_probes(c, c->t_synack, probes, TF_ARRAY_SIZE(probes));
	/* the window is the kernel's 7 s from the SYN-ACK, not the moment this
	 * process woke up: a late wake-up must not count a later probe */
	if (n > TF_ARRAY_SIZE(probes))
		n = TF_ARRAY_SIZE(probes);
	while (n > 0 && probes[n - 1] > c->t_synack + LIVE_WINDOW_MS * 1000000LL)
		n--;
	/* Probe 1 in the model's first band, each next one keepalive_time
	 * after the answer to the previous (tf_model_keepalive_answered_band()). */
	fate_band after_answer;
	unsigned sure, maybe;
	tf_must(tf_model_keepalive_answered_band(hz, (uint32_t)k.idle, (uint32_t)k.intvl,
	                                         &after_answer));
	tf_must(tf_model_keepalive_answered_count(m, LIVE_WINDOW_MS * 1000LL, &sure, &maybe));
	if (sure != maybe)
		tf_fail("window edge inside a probe's band: %u or %u probes", sure, maybe);
	tf_expect_int("keepalive probes in the window", (long)n, sure);
	if (n > 0)
		tf_expect_timer_time("probe #1 after the last segment (model)",
		               (probes[0] - c->t_synack) / 1000, first->at_us, first->at_lo_us,
		               first->at_hi_us);

	long answered = 0;
	for (size_t i = 0; i < n && i < TF_ARRAY_SIZE(probes); i++) {
		tf_match ans = { .flow = &c->sf, .all = TF_TCP_ACK, .none = TF_TCP_SYN | TF_TCP_RST,
		                   .payload = -1, .after_ns = probes[i], .has_ack = true,
		                   .ack = c->snd_nxt };
		long ai = tf_capture_find(c->cap, 0, &ans);
		if (ai < 0)
			continue;
		int64_t t_ans = tf_capture_pkt(c->cap, (size_t)ai)->ts_ns;
		if (i + 1 < n && t_ans > probes[i + 1])
			continue;          /* that is the next probe's answer */
		answered++;
		if (i + 1 < n) {
			snprintf(label, sizeof label, "probe #%zu after the answer to #%zu", i + 2, i + 1);
			fate_expect_band(label, (probes[i + 1] - t_ans) / 1000, after_answer);
		}
	}
	tf_expect_int("probes answered by the server", answered, (long)n);
	tf_diag("window_s", "%.3f", (double)(t_end - c->t_synack) / 1e9);
	tf_expect_errno("client SO_ERROR", tf_sock_error(c->cfd), 0);
	fate_expect_state("client state after the window (sock_diag)", c->client, &c->cf,
	                  TCP_ESTABLISHED);
	fate_expect_state("server state after the window (sock_diag)", c->server, &c->sf,
	                  TCP_ESTABLISHED);
	tf_expect_int("FIN or RST", (long)tf_capture_count_flags(c->cap, &c->cf, true,
	              TF_TCP_FIN | TF_TCP_RST), 0);
}

/* ------------------------------------------------------------------ */

/*
 * Seed 002: "if the connection is busy, the socket will continue trying to
 * send data until it reaches the limit set in TCP_USER_TIMEOUT. But if
 * TCP_USER_TIMEOUT isn't enabled, the socket will drop the connection when
 * it has made all the attempts defined in tcp_retries2" — keepalive or not.
 *
 * Keepalive is suppressed while data is unacknowledged: tcp_keepalive_timer()
 * re-arms for the full idle time whenever packets_out or the write queue is
 * non-empty ("It is alive without keepalive 8)"), so with a dead peer and
 * data outstanding the retransmission timer rules: the model's
 * retransmission schedule, the tcp_retries2 give-up and ETIMEDOUT — long
 * after idle + intvl x cnt (1 + 1 x 2 = 3 s) — no keepalive probe, and no
 * RST (tcp_write_err() from the retransmission timer sends none).
 */
TF_CASE_F(ka, keepalive_busy_no_probe, .timeout_s = 40,
          .proves = "seed 002: with data unacknowledged keepalive never probes; the retransmission timer (tcp_retries2=4) decides, without RST")
{
	_cleanup_(tf_fault_freep) tf_fault *blackhole = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	tf_host *client = self->client;
	struct tcp_info ti;
	tf_flow cf;
	tf_run run;

	tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_retries2", 4));
	tf_capture *cap = tf_case_capture(client, TF_IF_CLIENT, "tcp port 12002", "client");
	tf_must(tf_tcp_pair(client, self->server, self->server_addr, PORT, &self->cfd, &self->sfd));
	int cfd = self->cfd;
	tf_must(tf_sock_flow(cfd, &cf));
	tf_expect_flow_family(&cf, self->family);
	tf_must(tf_fault_blackhole(self->router, ka_server_cidr(self), &blackhole));
	tf_diag("fault", "%s", tf_fault_describe(blackhole));

	tf_must(tf_tcp_info(cfd, &ti));
	m = tf_case_model(client);
	tf_must(tf_model_set_rtt(m, ti.tcpi_rtt, ti.tcpi_rttvar));
	tf_must(tf_model_retrans(m, &s));
	const tf_sched_event *gv = tf_schedule_event(s, tf_schedule_giveup(s));
	/* keepalive armed right before the write: the idle timer (1 s) cannot
	 * fire before the data is out, whatever the setup above cost */
	fate_keepalive(cfd, 1, 1, 2);
	tf_must(tf_run_send(client, cfd, cap, "x", 1, (int)(gv->at_hi_us / 1000) + 3000, &run));

	tf_check_schedule("retrans", s, run.tx_ns, run.n_tx, run.err_ns);
	tf_expect_errno("socket error", run.err, tf_schedule_errno(s));
	tf_expect_int("FIN or RST on the wire", run.fin_rst, 0);
	/* Probes would carry snd_una - 1: the sequence of the byte sent, less one. */
	long probes = 0;
	uint32_t seq;
	tf_must(tf_case_first_data(cap, &cf, run.sent_ns, &seq));
	for (size_t i = 0; i < tf_capture_count(cap); i++)
		probes += fate_is_probe(tf_capture_pkt(cap, i), &cf, seq);
	tf_expect_int("keepalive probes while data is outstanding", probes, 0);
	tf_expect_int("socket after the give-up (sock_diag: -ENOENT = gone)", run.state_after, -ENOENT);
}
