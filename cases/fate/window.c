/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Zero window: the slow reader.  Seed 003, "Backpressure and Slow Readers":
 * "You write faster than the peer can read. The send buffer fills."
 * Seed 002: TCP_USER_TIMEOUT is "the time limit that transmitted data may
 * remain unacknowledged, or buffered data may remain untransmitted (due to
 * zero window size) before TCP will forcibly close the connection".
 *
 * Topology: client — router — server.  The server's listener has a small
 * SO_RCVBUF and its application never reads; the client writes until
 * EAGAIN.  The server's window closes, and the ACK that acknowledges the
 * last segment in flight advertises zero.
 *
 * The kernel's rules (net/ipv4/tcp_output.c, tcp_timer.c, tcp_input.c):
 *  - nothing in flight, data queued, window zero: the zero-window probe
 *    timer is armed for tcp_probe0_base() = max(icsk_rto, TCP_RTO_MIN)
 *    (tcp_check_probe_timer(); tcp_ack_probe() when the ACK keeps the
 *    window shut);
 *  - tcp_probe_timer() → tcp_send_probe0(): a probe (tcp_write_wakeup() →
 *    tcp_xmit_probe_skb(): seq snd_una - 1, no data), icsk_probes_out++,
 *    icsk_backoff++ while it is below tcp_retries2, and the timer re-armed
 *    for tcp_probe0_when() = probe0_base << icsk_backoff (at most
 *    tcp_rto_max); an answering zero-window ACK re-arms it the same way
 *    (tcp_ack_probe()).  So probe k comes base << (k-1) after probe k-1
 *    (or its answer), the shift stopping at tcp_retries2;
 *  - any ACK resets icsk_probes_out (tcp_ack()), so an answering peer is
 *    probed forever (RFC 1122 4.2.2.17); an unreachable one is dropped at
 *    the expiry where icsk_probes_out >= tcp_retries2 (tcp_probe_timer());
 *  - with TCP_USER_TIMEOUT, tcp_probe_timer() drops the connection at the
 *    first expiry at least the user timeout after icsk_probes_tstamp, the
 *    jiffy of the first probe of this zero-window period; it is reset only
 *    when the window opens (tcp_ack_probe()), not by zero-window ACKs, and
 *    the timer is cut so that this expiry comes on time
 *    (tcp_clamp_probe0_to_user_timeout(), never less than TCP_TIMEOUT_MIN).
 *    So an answering and an unreachable peer get the same deadline.  (The
 *    older rules — the user timeout compared with the head skb's timestamp,
 *    then with tcp_model_timeout(icsk_probes_out), which ACKs reset — let
 *    an answering peer live forever; commit 9d9b1ee0b2d1 "tcp: fix
 *    TCP_USER_TIMEOUT with zero window" (Linux 5.11, backported to the
 *    stable series) introduced icsk_probes_tstamp.  The cases assert the
 *    current rule; on an older kernel zero_window_user_timeout_alive
 *    fails, which is the point.)
 *  - the receiver answers a probe (an old sequence: tcp_send_dupack()) only
 *    if it answered no out-of-window segment within tcp_invalid_ratelimit
 *    (tcp_oow_rate_limited(), tcp_input.c), so a probe that follows an
 *    answered one by less than 500 ms goes unanswered.
 *  - every give-up here is tcp_write_err(): ETIMEDOUT, no RST.
 *  - an ICMP error quoting a probe (seq snd_una - 1) is out of window for
 *    tcp_v4_err() and tcp_v6_err() alike (between(seq, snd_una, snd_nxt)
 *    fails: LINUX_MIB_OUTOFWINDOWICMPS) and ignored before any errno or
 *    tcp_ld_RTO_revert(): the IPv4/IPv6 difference for data segments
 *    (tcp_v6_err() reverts only on ICMPv6 No Route) does not reach probes.
 * The rules are lib's (model_zwp.c: tf_model_probe0_base(),
 * tf_model_probe0_gap(), tf_model_zwp_count(), tf_model_zwp_user_timeout_band(),
 * tf_model_oow_ratelimit_us(), tf_model_icmp_in_window(); model_ipv6.c:
 * tf_model_neigh_failure_icmp(), tf_model_icmp_effect()); the bands are
 * the timer wheel's.
 *
 * Every case runs over IPv4 and IPv6 (<case>_ipv4, <case>_ipv6: the
 * fixture zw, issue 14) with the same numbers: the probe timer, its
 * backoff and the receiver's answers are tcp_timer.c / tcp_output.c /
 * tcp_input.c code shared by both families, and the sysctls are
 * net.ipv4.tcp_* for both.  Only the MSS (MTU - 60) and so the bytes
 * that shut the window differ; the ICMP the router sends differs in type
 * and code, not in effect (zero_window_unreachable_icmp).
 */
#include "fate.h"
#include "../rqwait.h"

#define PORT 12004
#define RCVBUF 4096

/* What a case varies (in its body). */
struct zw {
	long retries2;             /* client's tcp_retries2, 0 = default */
	int user_timeout_ms;       /* client's TCP_USER_TIMEOUT, 0 = unset */
	bool unreachable;          /* blackhole once the window is shut */
	bool link_down;            /* instead: the server's link down (ICMP from the router) */
	int window_ms;             /* observation window (no give-up expected) */
};

/* The topology and the connection with its window shut (issue 12). */
TF_FIXTURE(zw) {
	tf_topo *t;
	tf_host *client, *server;
	int family;
	const char *server_addr;
	int cfd, sfd;
	tf_flow cf, sf;
	tf_capture *cap;           /* on the client's link */
	tf_fault *fault;           /* blackhole or link down, once the window is shut */
	int64_t t_zw;              /* the ACK that shut the window, all data acked */
	int64_t t_fault;           /* when the fault went in (0: none) */
	int64_t t_arm_in, t_arm_out; /* the send() that armed the probe timer: entry, return */
	uint32_t snd_nxt;          /* the client's next sequence then */
	uint64_t base_j;           /* tcp_probe0_base() in jiffies */
	long retries2;
	long accepted;
};
/* Every case on both families (issue 14): <case>_ipv4, <case>_ipv6. */
TF_FIXTURE_VARIANT(zw) {
	int family;
};
TF_VARIANTS_FAMILY(zw)

TF_FIXTURE_SETUP(zw)
{
	self->cfd = self->sfd = -1;
	self->t = tf_case_topo(TF_TOPO_PATH);
	self->client = tf_topo_client(self->t);
	self->server = tf_topo_server(self->t);
	self->family = variant->family;
	tf_case_family(self->client, self->family);
	self->server_addr = tf_topo_addr(self->t, TF_NODE_SERVER, self->family);
	if (!self->server_addr)
		tf_fail("no server address for the family");
	tf_diag("server", "%s", self->server_addr);
}

TF_FIXTURE_TEARDOWN(zw)
{
	(void)variant;
	tf_fault_free(self->fault);
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->sfd >= 0)
		close(self->sfd);
	tf_topo_free(self->t);
}

int fate_snd_wnd(int fd, uint32_t *wnd);   /* snd_wnd.c */

/* Wait until everything the client wrote is acknowledged (SIOCOUTQ 0),
 * woken by the capture, which sees every ACK arrive (re-checked every
 * millisecond when nothing arrives: the capture can wake this process a
 * moment before TCP has processed the ACK it shows). */
static void zw_wait_acked(struct zw_fixture *c, int timeout_ms)
{
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	int outq = 1;

	for (;;) {
		if (ioctl(c->cfd, SIOCOUTQ, &outq) < 0)
			tf_fail("SIOCOUTQ: %s", strerror(errno));
		if (outq == 0)
			return;
		if (tf_mono_ns() > deadline)
			tf_fail("%d bytes still unacknowledged after %d ms", outq, timeout_ms);
		if (tf_sock_wait(tf_capture_fd(c->cap), POLLIN, 1, NULL) == 0)
			tf_must(tf_capture_read(c->cap));
	}
}

/* The connection, its window shut, the fault in, the probe timer armed. */
static void zw_shut(struct zw_fixture *c, const struct zw *z)
{
	_cleanup_close_ int lfd = -1;
	_cleanup_free_ char *buf = malloc(65536);
	unsigned hz = tf_case_hz();
	struct tcp_info ti;

	if (!buf)
		tf_fail("out of memory");
	memset(buf, 'z', 65536);
	if (z->retries2)
		tf_must(tf_host_sysctl_set_int(c->client, "net.ipv4.tcp_retries2", z->retries2));
	tf_must(tf_host_sysctl_get_int(c->client, "net.ipv4.tcp_retries2", &c->retries2));
	/* ICMP and ICMPv6 too: what the router says of the server, if anything */
	c->cap = tf_case_capture(c->client, TF_IF_CLIENT, "tcp port 12004 or icmp or icmp6",
	                         "client");

	/* The accepted socket inherits the listener's receive buffer. */
	tf_must(tf_tcp_listen(c->server, c->server_addr, PORT, &lfd));
	tf_must(tf_sock_set_int(lfd, SOL_SOCKET, SO_RCVBUF, RCVBUF));
	tf_must(tf_tcp_connect(c->client, c->server_addr, PORT, 5000, &c->cfd));
	tf_must(tf_tcp_accept(lfd, 5000, &c->sfd));
	tf_must(tf_sock_flow(c->cfd, &c->cf));
	c->sf = tf_flow_reverse(c->cf);
	if (z->user_timeout_ms)
		tf_must(tf_sock_set_int(c->cfd, IPPROTO_TCP, TCP_USER_TIMEOUT, z->user_timeout_ms));

	/*
	 * The order must be certain: an unreachable server is made so before
	 * the first probe can leave.  So the window is shut with nothing
	 * queued behind it (no probe timer: tcp_ack() arms it only for a
	 * queued segment), the fault goes in, and only then the write that
	 * queues data behind the zero window arms the timer
	 * (tcp_push_pending_frames() -> tcp_check_probe_timer()).
	 * To shut the window with nothing queued, the client sends at most
	 * what the window takes, an MSS at a time (no TSO deferral, Nagle
	 * off), and waits for each to be acknowledged.
	 */
	int mss = 0;
	socklen_t ml = sizeof mss;
	if (getsockopt(c->cfd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml) < 0 || mss <= 0)
		tf_fail("TCP_MAXSEG: %s", strerror(errno));
	tf_must(tf_sock_set_int(c->cfd, IPPROTO_TCP, TCP_NODELAY, 1));
	fate_nonblock(c->cfd);
	for (int rounds = 0;; rounds++) {
		uint32_t wnd = 0;
		int r = fate_snd_wnd(c->cfd, &wnd);

		if (r == -EOPNOTSUPP)
			TF_SKIP("TCP_INFO has no tcpi_snd_wnd (Linux < 5.4): the window cannot be shut "
			        "with nothing queued");
		tf_must(r);
		if (wnd == 0)
			break;
		if (rounds > 1024)
			tf_fail("the server's window never closed (%u bytes after %d writes)", wnd, rounds);
		ssize_t n = send(c->cfd, buf, wnd < (uint32_t)mss ? wnd : (size_t)mss, MSG_NOSIGNAL);
		if (n < 0)
			tf_fail("send: %s", strerror(errno));
		c->accepted += n;
		zw_wait_acked(c, 3000);
	}
	tf_diag("window_filled_bytes", "%ld  # in MSS writes, each acknowledged", c->accepted);

	/* The ACK that shut the window: it acknowledges the end of the last
	 * data segment sent. */
	{
		uint32_t end = 0;
		bool have = false;

		tf_must(tf_capture_read(c->cap));
		for (size_t i = 0; i < tf_capture_count(c->cap); i++) {
			const tf_pkt *p = tf_capture_pkt(c->cap, i);
			if (tf_pkt_in_flow(p, &c->cf, false) && p->payload &&
			    (!have || (int32_t)(p->seq + p->payload - end) > 0)) {
				end = p->seq + p->payload;
				have = true;
			}
		}
		long zi = have ? tf_capture_find(c->cap, 0, &(tf_match){ .flow = &c->sf, .all = TF_TCP_ACK,
		                           .zero_win = true, .has_ack = true, .ack = end }) : -1;
		if (zi < 0)
			tf_fail("no zero-window ACK of the last data segment on the client link");
		c->t_zw = tf_capture_pkt(c->cap, (size_t)zi)->ts_ns;
		c->snd_nxt = end;
	}
	/* Silent (a blackhole at the router, no ICMP: dst_discard() in both
	 * families) or spoken (the server's link down: the router's neighbour
	 * resolution fails, and it sends ICMP host / ICMPv6 address
	 * unreachable for what it held). */
	c->t_fault = z->unreachable || z->link_down ? tf_now_ns() : 0;
	if (z->unreachable)
		tf_must(tf_fault_blackhole(tf_topo_router(c->t),
		                           tf_topo_cidr(c->t, TF_NODE_SERVER, c->family), &c->fault));
	if (z->link_down)
		tf_must(tf_fault_link_down(c->server, TF_IF_SERVER, &c->fault));
	if (c->fault)
		tf_diag("fault", "%s", tf_fault_describe(c->fault));

	/* The client writes until the send buffer is full ("The send buffer
	 * fills"); the first write arms the probe timer, inside the syscall. */
	for (int calls = 0;; calls++) {
		int64_t in = tf_now_ns();
		ssize_t n = send(c->cfd, buf, 65536, MSG_NOSIGNAL);
		int64_t out = tf_now_ns();

		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			tf_fail("send: %s", strerror(errno));
		if (calls > 256)
			tf_fail("send buffer never filled");
		if (calls == 0) {
			c->t_arm_in = in;
			c->t_arm_out = out;
		}
		c->accepted += n;
	}
	if (!c->t_arm_in)
		tf_fail("the send buffer took nothing behind the zero window");
	tf_diag("accepted_bytes", "%ld", c->accepted);
	tf_diag("probe_timer_armed_in_us", "%lld  # the send() that queued data behind the zero window",
	        (long long)((c->t_arm_out - c->t_arm_in) / 1000));

	/* tcp_probe0_base() from the model's RTO, checked against the kernel's. */
	_cleanup_(tf_model_freep) tf_model *m = tf_case_model(c->client);
	tf_must(tf_tcp_info(c->cfd, &ti));
	tf_must(tf_model_set_rtt(m, ti.tcpi_rtt, ti.tcpi_rttvar));
	tf_expect_int("client RTO in jiffies: kernel (tcpi_rto) vs model",
	              (long)(((uint64_t)ti.tcpi_rto * hz + 999999) / 1000000),
	              (long)tf_model_rto_jiffies(m));
	c->base_j = tf_model_probe0_base(hz, tf_model_rto_jiffies(m));
	tf_diag("probe0_base_ms", "%.0f", (double)c->base_j * 1000 / hz);
}

/* The jiffies tcp_send_probe0() arms after probe k (1-based), the
 * backoff counting probes while below tcp_retries2 (tf_model_probe0_gap()). */
static uint64_t probe_gap_j(const struct zw_fixture *c, unsigned k)
{
	return tf_model_probe0_gap(tf_case_hz(), c->base_j, k, (unsigned)c->retries2);
}

static size_t zw_probes(const struct zw_fixture *c, int64_t *ts, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < tf_capture_count(c->cap); i++) {
		const tf_pkt *p = tf_capture_pkt(c->cap, i);
		if (p->ts_ns > c->t_zw && fate_is_probe(p, &c->cf, c->snd_nxt)) {
			if (n < max)
				ts[n] = p->ts_ns;
			n++;
		}
	}
	return n < max ? n : max;
}

/* The zero-window answer to the probe at t (before `until`), or -1. */
static int64_t zw_answer(const struct zw_fixture *c, int64_t t, int64_t until)
{
	long ai = tf_capture_find(c->cap, 0, &(tf_match){ .flow = &c->sf, .all = TF_TCP_ACK,
	                    .payload = -1, .zero_win = true, .after_ns = t, .has_ack = true,
	                    .ack = c->snd_nxt });
	if (ai < 0)
		return -1;
	int64_t ta = tf_capture_pkt(c->cap, (size_t)ai)->ts_ns;
	return until >= 0 && ta > until ? -1 : ta;
}

/* Check probe times: probe 1 base after the window closed, probe k the
 * model gap after probe k-1 or its answer. */
static void zw_check_gaps(const struct zw_fixture *c, const int64_t *pr, const int64_t *ans, size_t n)
{
	unsigned hz = tf_case_hz();
	char label[160];
	int64_t turn_us = 0;

	/* An answer is stamped when it is queued (netdev_tstamp_prequeue),
	 * and tcp_ack_probe() re-arms the timer when it is processed, which
	 * under load waits in the softirq backlog.  That wait is measured
	 * here, on the same wire: the slowest probe → answer turnaround
	 * (the peer's backlog for the probe, both stamps the kernel's). */
	for (size_t k = 0; k < n; k++)
		if (ans[k] >= 0 && (ans[k] - pr[k]) / 1000 > turn_us)
			turn_us = (ans[k] - pr[k]) / 1000;
	tf_diag("answer_processing_us", "%lld  # slowest probe-to-answer turnaround in this run: "
	        "added to the gaps anchored on an answer's (queueing) stamp", (long long)turn_us);

	for (size_t k = 0; k < n; k++) {
		int64_t from = k == 0 ? c->t_arm_in : ans[k - 1] >= 0 ? ans[k - 1] : pr[k - 1];
		uint64_t d = k == 0 ? c->base_j : probe_gap_j(c, (unsigned)k);
		fate_band b = fate_timer_band(hz, d);

		snprintf(label, sizeof label, "probe #%zu after %s (%llu jiffies)", k + 1,
		         k == 0 ? "the send() that armed the timer (from its entry; + its duration)"
		                : ans[k - 1] >= 0 ? "the answer (+ the measured answer processing)" : "probe",
		         (unsigned long long)d);
		if (k > 0 && ans[k - 1] >= 0)
			b.hi_us += turn_us;
		/* probe 1: the timer was armed inside the send(), between its
		 * entry and return; the band's high edge moves by that span,
		 * the low edge by the kernel's clock behind then */
		if (k == 0) {
			b.hi_us += (c->t_arm_out - c->t_arm_in) / 1000;
			tf_expect_timer_armed(label, (pr[k] - from) / 1000, b.mid_us, b.lo_us, b.hi_us,
			                      c->t_arm_in);
		} else {
			fate_expect_band(label, (pr[k] - from) / 1000, b);
		}
	}
}

/* ------------------------------------------------------------------ */

/*
 * The reader is alive but does not read.  Client tcp_retries2 = 3: the
 * backoff stops at base << 3, and since every answer resets
 * icsk_probes_out, the probes go on every 8 x base indefinitely — where an
 * unreachable peer is dropped after three (zero_window_unreachable).
 * Which probes the server answers follows its tcp_invalid_ratelimit.
 */
static void zw_alive(struct zw_fixture *self, const struct zw *zp)
{
	const struct zw z = *zp;
	struct zw_fixture *c = self;
	unsigned hz = tf_case_hz();
	int64_t pr[64], ans[64];
	long rl_ms;
	short rev = 0;

	zw_shut(c, &z);
	/* Expected count: cumulative bands against the window.  Probe 1 was
	 * armed inside the send(): its band starts anywhere in that call, so
	 * a probe counts as sure only if it fits with the call's duration
	 * added (the window less it).  The model chooses where the window
	 * ends: not inside a probe's band, where the count would be either
	 * (an unloaded run hit one: 6 or 7) — moved on 100 ms at a time. */
	unsigned sure = 0, maybe = 0, sure_any;
	int64_t arm_us = (c->t_arm_out - c->t_arm_in) / 1000;
	long window_ms = z.window_ms;
	for (int i = 0; i < 30; i++, window_ms += 100) {
		tf_must(tf_model_zwp_count(hz, c->base_j, (unsigned)c->retries2, window_ms * 1000LL, true,
		                           &sure_any, &maybe));
		tf_must(tf_model_zwp_count(hz, c->base_j, (unsigned)c->retries2, window_ms * 1000LL - arm_us,
		                           true, &sure, &(unsigned){ 0 }));
		if (sure == maybe)
			break;
	}
	(void)sure_any;
	if (sure != maybe)
		tf_fail("window edge inside a probe's band for 3 s: %u or %u probes", sure, maybe);
	tf_diag("window_ms", "%ld  # from the send() that armed the probe timer (asked: %ld)", window_ms,
	        (long)z.window_ms);
	/* the window counts from the send() that armed the probe timer */
	int64_t left_ms = window_ms - (tf_now_ns() - c->t_arm_in) / 1000000;
	int fds[1] = { c->cfd };
	/* The client's socket is not readable and stays unwritable: any
	 * event (POLLERR/POLLHUP) would be the connection dying. */
	int who = fate_watch(fds, 1, c->cap, (int)left_ms, &rev);
	if (who >= 0)
		tf_note("client socket woke up (revents 0x%x)", (unsigned)rev);
	tf_expect_int("client socket events in the window (poll: -1 = none)", who, -1);
	tf_must(tf_capture_read(c->cap));

	size_t n = zw_probes(c, pr, TF_ARRAY_SIZE(pr));
	/* the kernel's window, not up to this process's (maybe late) wake-up */
	while (n > 0 && pr[n - 1] > c->t_arm_in + window_ms * 1000000LL)
		n--;
	tf_expect_int("zero-window probes in the window", (long)n, sure);

	tf_must(tf_host_sysctl_get_int(c->server, "net.ipv4.tcp_invalid_ratelimit", &rl_ms));
	int64_t lim = tf_model_oow_ratelimit_us(hz, (uint32_t)rl_ms);
	int64_t last_answered = -1;
	for (size_t k = 0; k < n; k++) {
		ans[k] = zw_answer(c, pr[k], k + 1 < n ? pr[k + 1] : -1);
		/* tcp_oow_rate_limited(): answered iff no answer in the last
		 * tcp_invalid_ratelimit jiffies; skipped within a jiffy (+ slack)
		 * of the limit, where the jiffy boundaries decide. */
		int64_t since = last_answered < 0 ? INT64_MAX : (pr[k] - last_answered) / 1000;
		char label[96];
		snprintf(label, sizeof label, "probe #%zu answered (%s)", k + 1,
		         since == INT64_MAX ? "first" : since >= lim ? "past the rate limit"
		                                                    : "within the rate limit");
		if (since == INT64_MAX || llabs(since - lim) > fate_jiffy_us(hz) + tf_slack_us())
			tf_expect_int(label, ans[k] >= 0, since >= lim);
		if (ans[k] >= 0)
			last_answered = pr[k];
	}
	zw_check_gaps(c, pr, ans, n);
	tf_expect_errno("client SO_ERROR", tf_sock_error(c->cfd), 0);
	fate_expect_state("client state after the window (sock_diag)", c->client, &c->cf,
	                  TCP_ESTABLISHED);
	fate_expect_state("server state after the window (sock_diag)", c->server, &c->sf,
	                  TCP_ESTABLISHED);
}

TF_CASE_F(zw, zero_window_alive, .timeout_s = 30,
          .proves = "seed 003: a slow reader's zero window is probed with backoff (capped at tcp_retries2=3) for as long as it answers: no error, ESTABLISHED")
{
	(void)variant;
	zw_alive(self, &(struct zw){ .retries2 = 3, .window_ms = 9000 });
}

/* The default tcp_retries2 (15): the backoff doubles on (0.2 s .. 54 s
 * gaps) and the connection is still there two minutes later. */
TF_CASE_F(zw, zero_window_alive_long, .slow = true, .timeout_s = 170,
          .proves = "seed 003: with the default tcp_retries2 a zero window that is answered is probed for two minutes (and on): no error, ESTABLISHED")
{
	(void)variant;
	zw_alive(self, &(struct zw){ .window_ms = 120000 });
}

/* An ICMP or ICMPv6 error (not neighbour discovery) addressed to the
 * client of flow f. */
static bool icmp_error_to(const tf_pkt *p, const tf_flow *f)
{
	if (tf_flow_is_v6(f))
		return p->proto == IPPROTO_ICMPV6 && p->icmp_type < 128 && tf_in6_eq(&p->dst6, &f->src6);
	return p->proto == IPPROTO_ICMP && (p->icmp_type == 3 || p->icmp_type == 11) &&
	       p->dst.s_addr == f->src.s_addr;
}

/* A TcpExt counter of h's namespace (/proc/net/netstat: a line of names,
 * then one of values).  Could live in lib (tf_sock / tf_sandbox). */
struct tcpext_req {
	const char *name;
	long value;
};

static int tcpext_find(FILE *f, struct tcpext_req *q)
{
	char names[8192], values[8192];

	while (fgets(names, sizeof names, f)) {
		char *sn = NULL, *sv = NULL, *n, *v;

		if (strncmp(names, "TcpExt:", 7) != 0)
			continue;
		if (!fgets(values, sizeof values, f) || strncmp(values, "TcpExt:", 7) != 0)
			return -EINVAL;
		n = strtok_r(names + 7, " \n", &sn);
		v = strtok_r(values + 7, " \n", &sv);
		for (; n && v; n = strtok_r(NULL, " \n", &sn), v = strtok_r(NULL, " \n", &sv))
			if (strcmp(n, q->name) == 0) {
				q->value = strtol(v, NULL, 10);
				return 0;
			}
		return -ENOENT;
	}
	return -ENOENT;
}

/* In the host's namespace (tf_host_run()): this thread's /proc/net. */
static int tcpext_read(void *arg)
{
	FILE *f = fopen("/proc/thread-self/net/netstat", "re");
	int r;

	if (!f)
		return -errno;
	r = tcpext_find(f, arg);
	fclose(f);
	return r;
}

static long tcpext(tf_host *h, const char *name)
{
	struct tcpext_req q = { .name = name };
	int r = tf_host_run(h, tcpext_read, &q);

	if (r == -ENOENT)
		TF_SKIP("this kernel's /proc/net/netstat has no TcpExt %s", name);
	tf_must(r);
	return q.value;
}

/*
 * The same zero window, the peer unreachable once the window is shut,
 * client tcp_retries2 = n and no user timeout: n unanswered probes (base,
 * 2 base, 4 base ... apart), and at the next expiry icsk_probes_out >=
 * tcp_retries2: tcp_write_err(), no RST, with sk_err_soft if an ICMP set
 * one, else ETIMEDOUT.
 *  - silent (a blackhole at the router): no ICMP at all;
 *  - spoken (the server's link down): the router's neighbour resolution
 *    fails and it answers the probes it held with ICMP host unreachable
 *    (IPv4) or ICMPv6 address unreachable (IPv6)
 *    (tf_model_neigh_failure_icmp()).  For a data segment these differ
 *    (tcp_v4_err() sets EHOSTUNREACH and reverts a backoff step,
 *    tcp_v6_err() only sets it: cases/retrans/unreach.c).  For a probe they
 *    do not: it carries snd_una - 1, and both tcp_v4_err() and
 *    tcp_v6_err() drop an ICMP quoting a sequence outside [snd_una,
 *    snd_nxt] before any errno or revert (LINUX_MIB_OUTOFWINDOWICMPS,
 *    tf_model_icmp_in_window()).  So over both families the schedule is a
 *    silent peer's and the error ETIMEDOUT, and every such ICMP shows in
 *    TcpExtOutOfWindowIcmps.
 */
static void zw_unreachable(struct zw_fixture *c, const struct zw *zp)
{
	const struct zw z = *zp;
	unsigned hz = tf_case_hz();
	int64_t pr[64], ans[64], t_err, wait_us = 0;
	long oow0 = z.link_down ? tcpext(c->client, "OutOfWindowIcmps") : 0;
	unsigned itype = 0, icode = 0;
	int err = 0, want_err = ETIMEDOUT;

	zw_shut(c, &z);
	for (unsigned k = 0; k <= (unsigned)c->retries2; k++)
		wait_us += fate_timer_band(hz, probe_gap_j(c, k)).hi_us;
	int64_t rq0 = case_rq_wait_ns();
	int r = tf_sock_wait_error(c->cfd, (int)(wait_us / 1000) + 5000, &err, &t_err);
	int64_t rq_us = case_rq_wait_us(rq0, case_rq_wait_ns());
	if (r == -ETIME)
		tf_fail("no error within the model's give-up + 5 s");
	tf_must(r);
	tf_must(tf_capture_read(c->cap));
	size_t n = zw_probes(c, pr, TF_ARRAY_SIZE(pr));
	for (size_t k = 0; k < n; k++)
		ans[k] = -1;
	tf_expect_int("probes before the give-up (tcp_retries2)", (long)n, c->retries2);
	tf_expect_int("answers from the vanished server", (long)tf_capture_count_match(c->cap, &(tf_match){
	              .flow = &c->sf, .after_ns = c->t_zw + 1 }), 0);
	zw_check_gaps(c, pr, ans, n);
	fate_band b = fate_timer_band(hz, probe_gap_j(c, (unsigned)n));
	if (n > 0) {
		/* the give-up sends nothing: the application's wake-up on the
		 * error (application side); the probe gaps are the kernel side */
		tf_diag("rq_wait_us", "%lld  # this thread's run-queue wait while it waited for the error",
		        (long long)rq_us);
		tf_expect_app_after_timers("give-up after the last probe (+ this thread's run-queue wait)",
		                           (t_err - pr[n - 1]) / 1000, b.mid_us, b.lo_us, b.hi_us + rq_us, 1);
	}

	/* What the router said, and what the client made of it. */
	long icmp_all = 0, icmp_fail = 0, icmp_live = 0;
	/* the socket is there until its timer fires, at least b.lo after the
	 * last probe (less a jiffy: an ICMP handled then may race it) */
	int64_t live_until = n > 0 ? pr[n - 1] + (b.lo_us - fate_jiffy_us(hz)) * 1000 : 0;
	if (z.link_down)
		tf_must(tf_model_neigh_failure_icmp(c->family, &itype, &icode));
	for (size_t i = 0; i < tf_capture_count(c->cap); i++) {
		const tf_pkt *p = tf_capture_pkt(c->cap, i);

		if (p->ts_ns <= c->t_zw || !icmp_error_to(p, &c->cf))
			continue;
		icmp_all++;
		if (z.link_down && p->icmp_type == itype && p->icmp_code == icode) {
			icmp_fail++;
			icmp_live += p->ts_ns < live_until;
		}
	}
	tf_diag("icmp_errors_to_client", "%ld", icmp_all);
	if (!z.link_down) {
		/* RTN_BLACKHOLE: dst_discard() in both families */
		tf_expect_int("ICMP errors reaching the client (blackhole: none)", icmp_all, 0);
	} else {
		tf_icmp_effect e;
		tf_neigh_params np;
		tf_band res;
		int64_t latest = -1;
		bool acted = tf_model_icmp_in_window(c->family, c->snd_nxt - 1, c->snd_nxt, c->snd_nxt);

		tf_must(tf_model_icmp_effect(c->family, itype, icode, &e));
		tf_diag("icmp_rule", "%s", e.rule);
		tf_expect_int("model: an ICMP quoting a probe (snd_una - 1) is acted on", acted, 0);
		want_err = acted ? e.err : ETIMEDOUT;
		/* The router forgets the server within HZ of the carrier loss
		 * (neigh_carrier_down() from linkwatch); the first probe after
		 * that starts a resolution that fails, one resolution later. */
		tf_must(tf_neigh_params_init_family(c->family, &np));
		np.hz = hz;
		tf_must(tf_model_neigh_resolution(&np, &res));
		for (size_t k = 0; k < n && latest < 0; k++)
			if (pr[k] >= c->t_fault + (int64_t)tf_jiffies_to_us(hz, hz) * 1000)
				latest = pr[k] + res.hi_us * 1000;
		if (latest < 0 || latest >= live_until)
			tf_fail("case design: the model does not put a failed resolution's ICMP before the "
			        "give-up (raise tcp_retries2)");
		tf_diag("icmp_latest_ms", "%.1f after the first probe  # model: eviction, one resolution",
		        (double)(latest - pr[0]) / 1e6);
		char label[160];
		snprintf(label, sizeof label, "ICMP%s type %u code %u from the router while the socket "
		         "lived (at least 1)", c->family == AF_INET6 ? "v6" : "", itype, icode);
		tf_expect_int(label, icmp_live >= 1, 1);
		long oow = tcpext(c->client, "OutOfWindowIcmps") - oow0;
		tf_diag("out_of_window_icmps", "%ld  # TcpExtOutOfWindowIcmps, client", oow);
		tf_diag("icmp_while_socket_lived", "%ld", icmp_live);
		tf_expect_int("TcpExtOutOfWindowIcmps counts every such ICMP while the socket lived "
		              "(out_of_window_icmps >= icmp_while_socket_lived)", oow >= icmp_live, 1);
		tf_expect_int("TcpExtOutOfWindowIcmps counts only ICMP errors that reached the client "
		              "(out_of_window_icmps <= icmp_errors_to_client)", oow <= icmp_all, 1);
	}
	tf_expect_errno("socket error", err, want_err);
	tf_expect_int("RST from the client", (long)tf_capture_count_flags(c->cap, &c->cf, false,
	              TF_TCP_RST), 0);
	tf_expect_int("client socket after the give-up (sock_diag: -ENOENT = gone)",
	              fate_state(c->client, &c->cf), -ENOENT);
}

TF_CASE_F(zw, zero_window_unreachable, .timeout_s = 30,
          .proves = "seed 003: an unreachable peer behind a zero window is dropped when tcp_retries2 (3) probes go unanswered: ETIMEDOUT, no RST")
{
	(void)variant;
	zw_unreachable(self, &(struct zw){ .retries2 = 3, .unreachable = true });
}

/* tcp_retries2 4: the give-up (31 base, > 6 s) comes after the router's
 * failed resolution (its eviction within 1 s, then 3 s). */
TF_CASE_F(zw, zero_window_unreachable_icmp, .timeout_s = 40,
          .proves = "seed 003: the router's ICMP / ICMPv6 unreachable for a zero-window probe is out of window in tcp_v4_err() and tcp_v6_err() alike: ignored, ETIMEDOUT after tcp_retries2 probes")
{
	(void)variant;
	zw_unreachable(self, &(struct zw){ .retries2 = 4, .link_down = true });
}

/*
 * TCP_USER_TIMEOUT 3000 ms on the sender, answering peer vs unreachable
 * peer: the same deadline, the first probe + 3000 ms.  The abort comes at
 * the first expiry with jiffies - icsk_probes_tstamp >= the user timeout
 * (msecs_to_jiffies()), the timer cut to it at its last re-arm (a probe or
 * an answer), r jiffies before the deadline: from the first probe, in
 * [U - 1 jiffy, U + gran(r) + 1 jiffy] (the first probe's timestamp is a
 * jiffy, the wheel rounds the last re-arm up by its granularity).
 */
static void zw_user_timeout(struct zw_fixture *c, bool unreachable)
{
	const struct zw z = { .user_timeout_ms = 3000, .unreachable = unreachable };
	unsigned hz = tf_case_hz();
	int64_t pr[64], t_err;
	int err = 0;

	zw_shut(c, &z);
	int64_t rq0 = case_rq_wait_ns();
	int r = tf_sock_wait_error(c->cfd, z.user_timeout_ms + 5000, &err, &t_err);
	int64_t rq_us = case_rq_wait_us(rq0, case_rq_wait_ns());
	if (r == -ETIME)
		tf_fail("no error within the user timeout + 5 s");
	tf_must(r);
	tf_must(tf_capture_read(c->cap));
	size_t n = zw_probes(c, pr, TF_ARRAY_SIZE(pr));
	if (n == 0)
		tf_fail("no zero-window probe");
	tf_diag("probes", "%zu", n);
	/* The last re-arm before the abort: the latest probe (tcp_send_probe0())
	 * or zero-window answer (tcp_ack_probe()); it cut the timer to the
	 * remaining r jiffies, so the abort fires by gran(r) past the deadline. */
	int64_t t_arm = pr[0];
	for (size_t i = 0; i < tf_capture_count(c->cap); i++) {
		const tf_pkt *p = tf_capture_pkt(c->cap, i);
		if (p->ts_ns > t_arm && p->ts_ns < t_err &&
		    (fate_is_probe(p, &c->cf, c->snd_nxt) || (tf_pkt_in_flow(p, &c->sf, false) && p->win == 0)))
			t_arm = p->ts_ns;
	}
	fate_band b;
	tf_must(tf_model_zwp_user_timeout_band(hz, (uint32_t)z.user_timeout_ms,
	                                       (t_arm - pr[0]) / 1000, &b));
	tf_diag("last_rearm_before_abort_ms", "%.3f after the first probe, %u jiffies left",
	        (double)(t_arm - pr[0]) / 1e6, b.jiffies);
	/* application side: the abort sends nothing */
	tf_diag("rq_wait_us", "%lld  # this thread's run-queue wait while it waited for the error",
	        (long long)rq_us);
	tf_expect_app_after_timers("give-up after the first probe (TCP_USER_TIMEOUT) (+ this thread's "
	                           "run-queue wait)", (t_err - pr[0]) / 1000, b.mid_us, b.lo_us,
	                           b.hi_us + rq_us, 1);
	tf_expect_errno("socket error", err, ETIMEDOUT);
	long answers = (long)tf_capture_count_match(c->cap, &(tf_match){ .flow = &c->sf, .zero_win = true,
	                                .after_ns = pr[0] });
	if (unreachable)
		tf_expect_int("answers from the vanished server", answers, 0);
	else
		tf_expect_int("zero-window answers from the live server (>= 1)", answers >= 1, 1);
	tf_expect_int("RST from the client", (long)tf_capture_count_flags(c->cap, &c->cf, false,
	              TF_TCP_RST), 0);
	tf_expect_int("client socket after the give-up (sock_diag: -ENOENT = gone)",
	              fate_state(c->client, &c->cf), -ENOENT);
	/* The silent give-up leaves the reader with a half-open connection. */
	fate_expect_state("server state (sock_diag)", c->server, &c->sf, TCP_ESTABLISHED);
}

TF_CASE_F(zw, zero_window_user_timeout_alive, .timeout_s = 30,
          .proves = "seed 002: TCP_USER_TIMEOUT (3 s) drops a zero window that a live peer keeps answering, 3 s after the first probe: ETIMEDOUT")
{
	(void)variant;
	zw_user_timeout(self, false);
}

TF_CASE_F(zw, zero_window_user_timeout_unreachable, .timeout_s = 30,
          .proves = "seed 002: TCP_USER_TIMEOUT (3 s) drops a zero window of an unreachable peer at the same deadline as a live one")
{
	(void)variant;
	zw_user_timeout(self, true);
}
