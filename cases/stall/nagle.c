/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seed 003, "The 40ms Mystery":
 *
 *   "When your application sends HTTP headers in one write and the body in
 *    another, Nagle waits for an ACK. The server waits 40ms before ACKing
 *    because it has nothing to piggyback on. Your application waits 40ms
 *    for permission to send the body."  "The fix is TCP_NODELAY"
 *   "A simple HTTP POST takes 40-200ms even though the server responds in
 *    2ms."
 *
 * Topology: client — server (pair).  The client writes a request as two
 * small writes (header, body) and reads the reply; the server replies
 * once it has the whole request.  No fault: the stall is the two
 * algorithms, on a perfect link.
 *
 * The kernel's rules, as the model below computes them:
 *  - Nagle (tcp_nagle_check(), tcp_minshall_check(), tcp_output.c): the
 *    body is held while the small header is unacknowledged.
 *  - The server ACKs the header only when its delayed-ACK timer fires: it
 *    is not in quick-ack mode (tcp_in_quickack_mode(), tcp_input.c:
 *    icsk_ack.quick && !pingpong) because its first reply, sent within ato
 *    of the request, put it in ping-pong ("interactive") mode
 *    (tcp_event_data_sent(), tcp_output.c; net.ipv4.tcp_pingpong_thresh).
 *    A fresh connection is different: the first data segment arms
 *    tcp_incr_quickack() (tcp_event_data_recv()) and is ACKed at once —
 *    hence the warm-up exchange, and the case that shows the first request
 *    does not stall.
 *  - The timer: tcp_send_delayed_ack() arms it for ato (tcp_event_data_recv()
 *    keeps ato at TCP_ATO_MIN = HZ/25 for back-to-back requests), bounded
 *    by TCP_DELACK_MIN, the RTT and tcp_delack_max(); the timer wheel fires
 *    it 1..gran jiffies late (calc_index(), kernel/time/timer.c).
 *  - TCP_CORK holds partial segments until uncorked; if never uncorked the
 *    data leaves when the zero-window-probe timer, armed by
 *    tcp_check_probe_timer() for tcp_probe0_base() = max(RTO, TCP_RTO_MIN),
 *    fires (tcp_send_probe0() -> tcp_write_wakeup()): tcp(7)'s "200 ms
 *    ceiling" is the RTO.
 *
 * Every case runs over IPv4 and IPv6 (<case>_ipv4, <case>_ipv6; issue 14).
 * No rule here differs between the families: tcp_v6_do_rcv() hands the
 * segment to the same tcp_rcv_established() (delayed ACK, ato, quick-ack,
 * ping-pong: tcp_input.c), and Nagle, the cork and the probe timer are
 * tcp_output.c's and tcp_timer.c's for both; the MSS the Nagle test
 * compares with (MTU - 60 instead of - 40) is far above these writes.  The
 * IPv6 variant asserts the same numbers; what it needs of its own is where
 * the kernel shows ping-pong mode: /proc/net/tcp6 (get_tcp6_sock()).
 *
 * A gap measured from a received packet's capture stamp includes the time
 * that packet waited in the softirq backlog before TCP saw it: the stamp is
 * taken when it is queued (netif_rx(), netdev_tstamp_prequeue), the
 * delayed-ACK timer is armed when it is processed.  That wait is measured
 * in the same run, on the same wires, where the kernel answers a packet at
 * once (SYN -> SYN-ACK, SYN-ACK -> ACK, a quick ACK, the ACK -> the body
 * Nagle held): the slowest such turnaround is `answer_processing_us`,
 * named in the YAML and added to the high edge of the timer gaps anchored
 * on a received packet (the delayed ACK, the body held by Nagle); the
 * model's band itself is unchanged.
 */
#include "stall.h"
#include "../rqwait.h"

#define PORT 5001
#define HDR_LEN 120     /* the "headers" write */
#define BODY_LEN 80     /* the "body" write */
#define REQ_LEN (HDR_LEN + BODY_LEN)
#define RESP_LEN 100
#define ROUNDS 4        /* measured requests per case */

#define MAX_STALLS 8   /* stall rounds of one case */

/* One stall round, measured; its kernel-side checks wait for the run's
 * answer_processing_us (check_stalls()). */
typedef struct stall_rec {
	int round;
	int64_t a_tx, b_tx, a_rx, ack_tx, ack_rx;   /* wire (see `wire`) */
	stall_band b;                                /* the model's delayed-ACK timer */
} stall_rec;

TF_FIXTURE(nagle) {
	tf_topo *t;
	tf_host *client, *server;
	int cfd, sfd;
	tf_flow up;             /* client -> server */
	tf_flow down;           /* server -> client */
	tf_capture *ccap, *scap;
	unsigned hz;
	int family;
	/* the kernel's at-once answers to a received packet in this run */
	int64_t turn_us;        /* the slowest (answer_processing_us) */
	char turn_what[96];     /* which */
	stall_rec stalls[MAX_STALLS];
	size_t n_stalls;
};
TF_FIXTURE_VARIANT(nagle) {
	int family;
};
TF_VARIANTS_FAMILY(nagle)

typedef struct nagle_fixture conn;

enum cork { NO_CORK, CORK_UNCORK, CORK_FORGOTTEN };

typedef struct xopt {
	bool split;             /* two writes (header, body) instead of one */
	bool server_quickack;   /* server sets TCP_QUICKACK after every read */
	bool nodelay;           /* the client set TCP_NODELAY (Nagle off) */
	enum cork cork;
} xopt;

/*
 * The application's moments, REALTIME (the capture's clock).  A kernel
 * action inside a syscall (a segment sent, a timer armed) happened between
 * the syscall's entry and return as read here: preemption can only widen
 * that bracket, never move the action outside it.
 */
typedef struct xres {
	int64_t t_write;        /* before the first write */
	int64_t last_in, last_out; /* the syscall that releases the request's last
	                         * byte (the body's send(), the uncork, the single
	                         * write): entry and return */
	int64_t q_in, q_out;    /* server_quickack: the server's first read of the
	                         * request and the TCP_QUICKACK after it: entry of
	                         * the read, return of the setsockopt() */
	int64_t t_done;         /* whole reply read by the client */
	int64_t rq0, rq1;       /* this thread's run-queue wait at t_write and
	                         * t_done (rqwait.h) */
} xres;

/* This thread's run-queue wait over the request (µs): how late scheduling
 * made the application's moment. */
static int64_t req_rq_us(const xres *r)
{
	return case_rq_wait_us(r->rq0, r->rq1);
}

/* A turnaround of the kernel answering a received packet at once (µs,
 * both stamps the kernel's): the slowest is kept. */
static void turnaround(conn *c, const char *what, int64_t rx_ns, int64_t tx_ns)
{
	int64_t us = (tx_ns - rx_ns) / 1000;

	if (rx_ns <= 0 || tx_ns <= 0 || us < c->turn_us)
		return;
	c->turn_us = us;
	snprintf(c->turn_what, sizeof c->turn_what, "%s", what);
}

/* The handshake's turnarounds: the server's SYN-ACK to the SYN (server
 * link), the client's ACK to the SYN-ACK (client link). */
static void handshake_turnarounds(conn *c)
{
	long syn, synack, ack;

	tf_must(tf_capture_read(c->ccap));
	tf_must(tf_capture_read(c->scap));
	syn = stall_find(c->scap, 0, &c->up, 0, TF_TCP_SYN, 0);
	synack = stall_find(c->scap, 0, &c->down, 0, TF_TCP_SYN | TF_TCP_ACK, 0);
	if (syn >= 0 && synack >= 0)
		turnaround(c, "SYN -> SYN-ACK (server link)", tf_capture_pkt(c->scap, (size_t)syn)->ts_ns,
		           tf_capture_pkt(c->scap, (size_t)synack)->ts_ns);
	synack = stall_find(c->ccap, 0, &c->down, 0, TF_TCP_SYN | TF_TCP_ACK, 0);
	if (synack < 0)
		return;
	const tf_pkt *sa = tf_capture_pkt(c->ccap, (size_t)synack);
	for (size_t i = (size_t)synack + 1; i < tf_capture_count(c->ccap); i++) {
		const tf_pkt *p = tf_capture_pkt(c->ccap, i);

		if (!stall_pkt_in(p, &c->up) || (p->flags & TF_TCP_SYN) || !(p->flags & TF_TCP_ACK) ||
		    p->ack != sa->seq + 1)
			continue;
		ack = (long)i;
		turnaround(c, "SYN-ACK -> ACK (client link)", sa->ts_ns,
		           tf_capture_pkt(c->ccap, (size_t)ack)->ts_ns);
		break;
	}
}

/* client — server on the variant's family, connected, both non-blocking */
TF_FIXTURE_SETUP(nagle)
{
	const char *addr;
	int lfd = -1;

	self->cfd = self->sfd = -1;
	self->family = variant->family;
	self->t = tf_case_topo(TF_TOPO_PAIR);
	self->client = tf_topo_client(self->t);
	self->server = tf_topo_server(self->t);
	tf_case_family(self->client, self->family);
	self->hz = tf_case_hz();
	self->ccap = tf_case_capture(self->client, TF_IF_CLIENT, "tcp port 5001", "client");
	self->scap = tf_case_capture(self->server, TF_IF_SERVER, "tcp port 5001", "server");
	addr = tf_topo_addr(self->t, TF_NODE_SERVER, self->family);
	tf_must(tf_tcp_listen(self->server, addr, PORT, &lfd));
	tf_must(tf_tcp_connect(self->client, addr, PORT, 5000, &self->cfd));
	tf_must(tf_tcp_accept(lfd, 5000, &self->sfd));
	close(lfd);
	tf_must(tf_sock_flow(self->cfd, &self->up));
	self->down = tf_flow_reverse(self->up);
	tf_must(fcntl(self->cfd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0);
	tf_must(fcntl(self->sfd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0);
	handshake_turnarounds(self);
}

TF_FIXTURE_TEARDOWN(nagle)
{
	(void)variant;
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->sfd >= 0)
		close(self->sfd);
	tf_topo_free(self->t);
}

static void send_exact(int fd, const char *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

	/* A few hundred bytes into an empty send buffer: all or an error. */
	if (n != (ssize_t)len)
		tf_fail("send of %zu bytes: %zd (%s)", len, n, n < 0 ? strerror(errno) : "short");
}

/* The client's side of a request: cork, the write(s), uncork. */
static void request_send(conn *c, const xopt *o, xres *r)
{
	static const char req[REQ_LEN] = { 'q' };

	r->rq0 = case_rq_wait_ns();
	r->t_write = tf_now_ns();
	if (o->cork != NO_CORK)
		tf_must(tf_sock_set_int(c->cfd, IPPROTO_TCP, TCP_CORK, 1));
	if (o->split) {
		send_exact(c->cfd, req, HDR_LEN);
		r->last_in = tf_now_ns();
		send_exact(c->cfd, req + HDR_LEN, BODY_LEN);
		r->last_out = tf_now_ns();
	} else {
		r->last_in = tf_now_ns();
		send_exact(c->cfd, req, REQ_LEN);
		r->last_out = tf_now_ns();
	}
	if (o->cork == CORK_UNCORK) {
		r->last_in = tf_now_ns();
		tf_must(tf_sock_set_int(c->cfd, IPPROTO_TCP, TCP_CORK, 0));
		r->last_out = tf_now_ns();
	}
}

/* The rest of a request/response.  The server side is driven by the same
 * thread: Nagle, the delayed ACK and the cork are all released by the
 * kernel, so nothing here has to act for a stall to end. */
static void request_finish(conn *c, const xopt *o, int timeout_ms, xres *r)
{
	static const char resp[RESP_LEN] = { 'r' };
	char buf[4096];
	size_t got = 0, rgot = 0;
	bool replied = false;
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;

	for (;;) {
		struct pollfd p[2] = { { .fd = c->sfd, .events = POLLIN },
		                       { .fd = c->cfd, .events = POLLIN } };
		int64_t left = deadline - tf_mono_ns();
		ssize_t n;

		if (left <= 0)
			tf_fail("request/response not complete after %d ms (server has %zu of %d bytes, "
			        "client %zu of %d)", timeout_ms, got, REQ_LEN, rgot, RESP_LEN);
		if (poll(p, 2, (int)(left / 1000000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			tf_fail("poll: %s", strerror(errno));
		}
		if (p[0].revents & POLLIN) {
			int64_t in = tf_now_ns();

			while ((n = recv(c->sfd, buf, sizeof buf, 0)) > 0) {
				got += (size_t)n;
				/* The usual TCP_QUICKACK idiom: re-arm after every
				 * read (tcp.c __tcp_sock_set_quickack(): leave
				 * ping-pong, ACK what the read consumed). */
				if (o->server_quickack) {
					tf_must(tf_sock_set_int(c->sfd, IPPROTO_TCP, TCP_QUICKACK, 1));
					if (!r->q_in) {
						r->q_in = in;
						r->q_out = tf_now_ns();
					}
				}
			}
			if (got == REQ_LEN && !replied) {
				send_exact(c->sfd, resp, RESP_LEN);
				replied = true;
			}
		}
		if (p[1].revents & POLLIN) {
			while ((n = recv(c->cfd, buf, sizeof buf, 0)) > 0)
				rgot += (size_t)n;
			if (rgot == RESP_LEN) {
				r->t_done = tf_now_ns();
				r->rq1 = case_rq_wait_ns();
				break;
			}
		}
	}
	if (o->cork == CORK_FORGOTTEN)   /* leave the socket as later rounds expect */
		tf_must(tf_sock_set_int(c->cfd, IPPROTO_TCP, TCP_CORK, 0));
}

static void exchange(conn *c, const xopt *o, int timeout_ms, xres *r)
{
	memset(r, 0, sizeof *r);
	request_send(c, o, r);
	request_finish(c, o, timeout_ms, r);
}

/* Warm-up: whole requests, until the server is in ping-pong mode
 * (tcp_pingpong_thresh replies sent within ato of a request). */
static void warm_up(conn *c)
{
	long thresh = 1;
	xres r;

	if (tf_host_sysctl_get_int(c->server, "net.ipv4.tcp_pingpong_thresh", &thresh) < 0)
		thresh = 1;   /* before 6.6 the threshold was the constant 1 */
	for (long i = 0; i < thresh; i++)
		exchange(c, &(xopt){ .split = false }, 2000, &r);
	tf_diag("tcp_pingpong_thresh", "%ld", thresh);
}

static stall_tcprow server_row(conn *c)
{
	stall_tcprow row;
	tf_must(stall_proc_tcp(c->server, &c->down, &row));
	return row;
}

/* The wire view of one split request, from both captures. */
typedef struct wire {
	int64_t a_tx, b_tx;      /* client link: header and body leave */
	int64_t a_rx;            /* server link: header arrives */
	int64_t ack_tx, ack_rx;  /* first server segment ACKing the header: leaves / arrives */
	bool ack_pure;           /* it carried no data (a delayed or quick ACK, not the reply) */
	int64_t prev_rx;         /* server link: the data segment before the header */
} wire;

static void wire_of(conn *c, int64_t t_write, wire *w)
{
	long ia, ib, ja, jk, ik;
	uint32_t a_end;

	memset(w, 0, sizeof *w);
	tf_must(tf_capture_read(c->ccap));
	tf_must(tf_capture_read(c->scap));
	ia = stall_find(c->ccap, 0, &c->up, t_write, 0, HDR_LEN);
	if (ia < 0)
		tf_fail("the header (%d bytes) is not on the client link", HDR_LEN);
	ib = stall_find(c->ccap, (size_t)ia + 1, &c->up, t_write, 0, BODY_LEN);
	if (ib < 0)
		tf_fail("the body (%d bytes) is not on the client link", BODY_LEN);
	w->a_tx = tf_capture_pkt(c->ccap, (size_t)ia)->ts_ns;
	w->b_tx = tf_capture_pkt(c->ccap, (size_t)ib)->ts_ns;
	a_end = tf_capture_pkt(c->ccap, (size_t)ia)->seq + HDR_LEN;

	ja = stall_find(c->scap, 0, &c->up, t_write, 0, HDR_LEN);
	if (ja < 0)
		tf_fail("the header is not on the server link");
	w->a_rx = tf_capture_pkt(c->scap, (size_t)ja)->ts_ns;
	for (long j = ja - 1; j >= 0; j--) {
		const tf_pkt *p = tf_capture_pkt(c->scap, (size_t)j);
		if (stall_pkt_in(p, &c->up) && p->payload > 0) {
			w->prev_rx = p->ts_ns;
			break;
		}
	}
	/* the server's first segment whose ACK covers the header */
	jk = -1;
	for (size_t j = (size_t)ja; j < tf_capture_count(c->scap); j++) {
		const tf_pkt *p = tf_capture_pkt(c->scap, j);
		if (stall_pkt_in(p, &c->down) && (p->flags & TF_TCP_ACK) &&
		    (int32_t)(p->ack - a_end) >= 0) {
			jk = (long)j;
			break;
		}
	}
	if (jk < 0)
		tf_fail("no ACK of the header on the server link");
	w->ack_tx = tf_capture_pkt(c->scap, (size_t)jk)->ts_ns;
	w->ack_pure = tf_capture_pkt(c->scap, (size_t)jk)->payload == 0;
	ik = -1;
	for (size_t i = (size_t)ia; i < tf_capture_count(c->ccap); i++) {
		const tf_pkt *p = tf_capture_pkt(c->ccap, i);
		if (stall_pkt_in(p, &c->down) && (int32_t)(p->ack - a_end) >= 0) {
			ik = (long)i;
			break;
		}
	}
	if (ik < 0)
		tf_fail("no ACK of the header on the client link");
	w->ack_rx = tf_capture_pkt(c->ccap, (size_t)ik)->ts_ns;
}

/* The delayed-ACK timer the server arms for this header, from its state
 * before the request (tcp_info: ato, srtt, rto) and the gap since its
 * previous data segment (the m of tcp_event_data_recv()). */
static stall_band delack_model(conn *c, const struct tcp_info *si, const wire *w, int round)
{
	unsigned hz = c->hz;
	int64_t gap_us = w->prev_rx ? (w->a_rx - w->prev_rx) / 1000 : 0;
	long rto_min_us = 200000;
	tf_delack d;
	char key[64];

	if (tf_host_sysctl_get_int(c->server, "net.ipv4.tcp_rto_min_us", &rto_min_us) < 0)
		rto_min_us = 200000;
	tf_must(tf_model_delack(&(tf_delack_in){ .hz = hz, .ato_us = si->tcpi_ato,
		.rto_us = si->tcpi_rto, .srtt_us = si->tcpi_rtt, .gap_us = gap_us,
		.rto_min_us = (uint32_t)rto_min_us, .pingpong = true }, &d));
	if (d.timer_lo != d.timer_hi)
		tf_note("round %d: the %lld us gap since the previous segment spans a rule boundary "
		        "(timer %u or %u jiffies); using %u", round, (long long)gap_us, d.timer_lo,
		        d.timer_hi, d.timer_hi);
	snprintf(key, sizeof key, "round%d_delack_model", round);
	tf_diag(key, "ato %u -> %u jiffies (gap %lld us), srtt %u us, timer %u jiffies = %.1f ms, "
	        "wheel gran %u", d.ato_prev, d.ato_hi, (long long)gap_us, si->tcpi_rtt, d.timer_hi,
	        d.timer_hi * 1000.0 / hz, stall_wheel_gran(d.timer_hi, hz));
	return stall_timer_band(d.timer_hi, hz);
}

/*
 * The server is interactive only if its application replied within ato of
 * the request; under load this process may have replied later — then
 * tcp_delack_timer_handler() found "delayed ACK missed" and left ping-pong
 * mode (the kernel's rule, our lateness).  Warm up again instead of
 * asserting on that race; a kernel that never enters ping-pong still fails
 * the check that follows.
 */
static stall_tcprow pingpong_again(conn *c, stall_tcprow row, int round)
{
	for (int again = 0; !row.pingpong && again < 5; again++) {
		tf_note("round %d: server not in ping-pong mode (the previous reply came late): warm-up "
		        "again", round);
		warm_up(c);
		row = server_row(c);
	}
	return row;
}

/* A request that must stall by the server's delayed ACK. */
static void expect_stall(conn *c, int round, const xopt *o)
{
	struct tcp_info si;
	stall_tcprow row = server_row(c);
	wire w;
	xres r;
	char what[224];

	row = pingpong_again(c, row, round);
	snprintf(what, sizeof what, "round %d: server in ping-pong mode before the request "
	         "(/proc/net/tcp%s quick/pingpong)", round, c->family == AF_INET6 ? "6" : "");
	tf_expect_int(what, row.pingpong, 1);
	tf_must(tf_tcp_info(c->sfd, &si));
	exchange(c, o, 2000, &r);
	wire_of(c, r.t_write, &w);
	stall_band b = delack_model(c, &si, &w, round);

	/* The veth carries each segment through the receiver's softirq: its
	 * transit (wire time on the sender's link to wire time on the
	 * receiver's) is kernel delivery, not part of any TCP timer. */
	int64_t hdr_transit = (w.a_rx - w.a_tx) / 1000, ack_transit = (w.ack_rx - w.ack_tx) / 1000;
	int64_t wire_stall = (w.b_tx - w.a_tx) / 1000;
	char key[64];

	snprintf(key, sizeof key, "round%d_wire_us", round);
	tf_diag(key, "header transit %lld, delayed ACK %lld, ACK transit %lld, header to body on the "
	        "client link %lld, application latency %lld, this thread's run-queue wait %lld",
	        (long long)hdr_transit, (long long)((w.ack_tx - w.a_rx) / 1000), (long long)ack_transit,
	        (long long)wire_stall, (long long)((r.t_done - r.t_write) / 1000),
	        (long long)req_rq_us(&r));
	/* Kernel side, the timer gaps (the delayed ACK, the body Nagle
	 * held): checked by check_stalls() with the run's
	 * answer_processing_us. */
	if (c->n_stalls == MAX_STALLS)
		tf_fail("more than %d stall rounds in one case", MAX_STALLS);
	c->stalls[c->n_stalls++] = (stall_rec){ .round = round, .a_tx = w.a_tx, .b_tx = w.b_tx,
		.a_rx = w.a_rx, .ack_tx = w.ack_tx, .ack_rx = w.ack_rx, .b = b };
	snprintf(what, sizeof what, "round %d: the header's ACK is a pure ACK", round);
	tf_expect_int(what, w.ack_pure, 1);
	/* Kernel side: the ACK's processing releases the body at once
	 * (tcp_ack() -> tcp_data_snd_check()): a turnaround of this run. */
	turnaround(c, "the header's ACK -> the body Nagle held (client link)", w.ack_rx, w.b_tx);
	snprintf(what, sizeof what, "round %d: body leaves when the ACK arrives (client link)", round);
	tf_expect_answer_time(what, (w.b_tx - w.ack_rx) / 1000, 0, 0, 0);
	/* Application side: what the seed's user sees is at least the stall
	 * on the wire, and less than the next timer: the reply came before a
	 * second delayed-ACK period could have passed (one stall, not two);
	 * scheduling adds the measured allowance. */
	snprintf(what, sizeof what, "round %d: write-write-read latency (application): at least the "
	         "wire stall, less than the next delayed-ACK timer (+ this thread's run-queue wait)", round);
	tf_expect_app_range(what, (r.t_done - r.t_write) / 1000, wire_stall,
	                    wire_stall + b.lo_us + req_rq_us(&r));
}

/* A request that must not stall: header and body back to back, or the
 * header ACKed at once. */
static void expect_no_stall(conn *c, int round, const xopt *o)
{
	wire w;
	xres r;
	char what[224];

	exchange(c, o, 2000, &r);
	wire_of(c, r.t_write, &w);
	/* Kernel side, the header's ACK (server link): without the
	 * TCP_QUICKACK idiom the server is in quick-ack mode and ACKs on
	 * arrival; with it, __tcp_sock_set_quickack() sends the scheduled ACK
	 * in the setsockopt() that follows the server's read — so the ACK has
	 * left by that call's return (earlier only if the server process ran
	 * so late that the delayed-ACK timer beat it). */
	if (o->server_quickack) {
		snprintf(what, sizeof what, "round %d: the header's ACK has left by the return of the "
		         "server's read + TCP_QUICKACK (server link, relative to it)", round);
		if (!r.q_in)
			tf_fail("round %d: the server never set TCP_QUICKACK", round);
		tf_expect_range(what, (w.ack_tx - r.q_out) / 1000, (w.a_rx - r.q_out) / 1000, 0);
	} else if (!o->nodelay) {
		snprintf(what, sizeof what, "round %d: the server ACKs the header on arrival (server link)",
		         round);
		tf_expect_answer_time(what, (w.ack_tx - w.a_rx) / 1000, 0, 0, 0);
		turnaround(c, "the header -> its quick ACK (server link)", w.a_rx, w.ack_tx);
	}
	/* Kernel side, the body (client link): it leaves inside the syscall
	 * that gives it to the kernel — or, with Nagle on, when the header's
	 * ACK arrives, if that is later.  No timer holds it. */
	int64_t held = o->nodelay ? INT64_MIN : w.ack_rx;
	int64_t from = r.last_in > held ? r.last_in : held, to = r.last_out > held ? r.last_out : held;
	snprintf(what, sizeof what, "round %d: body leaves in its send()%s (client link, from the "
	         "later of the two)", round, o->nodelay ? "" : " or at the header's ACK");
	tf_expect_range(what, (w.b_tx - from) / 1000, 0, (to - from) / 1000);
	/* application side: no stall — the reply came before the shortest
	 * delayed-ACK timer could have released the body */
	char key[64];
	snprintf(key, sizeof key, "round%d_app_us", round);
	tf_diag(key, "application latency %lld, this thread's run-queue wait %lld",
	        (long long)((r.t_done - r.t_write) / 1000), (long long)req_rq_us(&r));
	snprintf(what, sizeof what, "round %d: write-write-read latency (application): less than a "
	         "delayed-ACK timer (+ this thread's run-queue wait)", round);
	tf_expect_app_time(what, (r.t_done - r.t_write) / 1000, 0, 0,
	                   stall_timer_band(tf_model_delack_min(c->hz), c->hz).lo_us - tf_slack_us() +
	                   req_rq_us(&r));
}

/*
 * The stall rounds' kernel-side timer gaps, now that the run's slowest
 * at-once answer to a received packet is known: both gaps start at the
 * header's stamp on the server link, taken before the header waited in the
 * softirq backlog, so their high edge adds that measured turnaround.
 */
static void check_stalls(conn *c)
{
	char what[256];

	if (!c->n_stalls)
		return;
	tf_diag("answer_processing_us", "%lld  # slowest at-once answer to a received packet in this "
	        "run (%s): added to the gaps anchored on a received packet's (queueing) stamp",
	        (long long)c->turn_us, c->turn_what[0] ? c->turn_what : "none seen");
	for (size_t i = 0; i < c->n_stalls; i++) {
		const stall_rec *k = &c->stalls[i];
		stall_band b = k->b;
		/* The veth carries each segment through the receiver's softirq:
		 * its transit (wire time on the sender's link to wire time on
		 * the receiver's) is kernel delivery, not part of any TCP timer. */
		int64_t hdr_transit = (k->a_rx - k->a_tx) / 1000, ack_transit = (k->ack_rx - k->ack_tx) / 1000;
		int64_t wire_stall = (k->b_tx - k->a_tx) / 1000;

		b.hi_us += c->turn_us;
		/* the server's delayed-ACK timer, on the server link (armed
		 * when the header was processed, fired when the ACK left) */
		snprintf(what, sizeof what, "round %d: server delayed ACK after the header (server link; "
		         "+ answer_processing_us)", k->round);
		stall_expect_band(what, (k->ack_tx - k->a_rx) / 1000, b);
		/* Nagle holds the body exactly until that ACK arrives */
		snprintf(what, sizeof what, "round %d: body held by Nagle, header to body (client link) less "
		         "the header's and the ACK's veth transit (+ answer_processing_us)", k->round);
		stall_expect_band(what, wire_stall - hdr_transit - ack_transit, b);
	}
	c->n_stalls = 0;
}

TF_CASE_F(nagle, nagle_delack_stall, .timeout_s = 30,
        .proves = "seed 003: headers and body in two writes wait 40 ms for the delayed ACK")
{
	warm_up(self);
	for (int i = 1; i <= ROUNDS; i++)
		expect_stall(self, i, &(xopt){ .split = true });
	check_stalls(self);
}

TF_CASE_F(nagle, nagle_first_request_quickack, .timeout_s = 30,
        .proves = "seed 003 (why it is a mystery): a fresh connection's first request does not stall — quick-ack mode")
{
	stall_tcprow row;

	tf_must(stall_proc_tcp(self->server, &self->down, &row));
	tf_diag("server_before_first_data", "quick %u pingpong %d ato %lu clk", row.quick, row.pingpong,
	        row.ato_clk);
	tf_expect_int("server not in ping-pong mode before any data", row.pingpong, 0);
	expect_no_stall(self, 1, &(xopt){ .split = true });
	/* ...and the reply just sent made it interactive: the next one stalls */
	expect_stall(self, 2, &(xopt){ .split = true });
	check_stalls(self);
}

TF_CASE_F(nagle, nagle_nodelay, .timeout_s = 30,
        .proves = "seed 003: \"The fix is TCP_NODELAY, which disables Nagle's algorithm\"")
{
	tf_must(tf_sock_set_int(self->cfd, IPPROTO_TCP, TCP_NODELAY, 1));
	warm_up(self);
	for (int i = 1; i <= ROUNDS; i++) {
		stall_tcprow row = pingpong_again(self, server_row(self), i);
		tf_expect_int("server in ping-pong mode (its ACKs are delayed, yet nothing waits for them)",
		              row.pingpong, 1);
		expect_no_stall(self, i, &(xopt){ .split = true, .nodelay = true });
	}
}

TF_CASE_F(nagle, nagle_server_quickack_each_read, .timeout_s = 30,
        .proves = "seed 003: the server side fix — TCP_QUICKACK re-armed after every read ACKs the header at once")
{
	warm_up(self);
	for (int i = 1; i <= ROUNDS; i++)
		expect_no_stall(self, i, &(xopt){ .split = true, .server_quickack = true });
}

TF_CASE_F(nagle, nagle_server_quickack_not_permanent, .timeout_s = 30,
        .proves = "seed 003 / tcp(7): TCP_QUICKACK set once helps one request; the next reply re-enters ping-pong and the 40 ms returns")
{
	stall_tcprow row;

	warm_up(self);
	tf_must(tf_sock_set_int(self->sfd, IPPROTO_TCP, TCP_QUICKACK, 1));
	tf_must(stall_proc_tcp(self->server, &self->down, &row));
	tf_diag("server_after_quickack", "quick %u pingpong %d", row.quick, row.pingpong);
	tf_expect_int("TCP_QUICKACK=1 left ping-pong mode", row.pingpong, 0);
	expect_no_stall(self, 1, &(xopt){ .split = true });
	expect_stall(self, 2, &(xopt){ .split = true });
	check_stalls(self);
}

TF_CASE_F(nagle, nagle_cork_uncork, .timeout_s = 30,
        .proves = "seed 003: TCP_CORK around the two writes sends one segment at uncork, no 40 ms")
{
	warm_up(self);
	for (int i = 1; i <= ROUNDS; i++) {
		xres r;
		long idx;
		char what[224];

		exchange(self, &(xopt){ .split = true, .cork = CORK_UNCORK }, 2000, &r);
		tf_must(tf_capture_read(self->ccap));
		idx = stall_find(self->ccap, 0, &self->up, r.t_write, 0, -1);
		while (idx >= 0 && tf_capture_pkt(self->ccap, (size_t)idx)->payload == 0)
			idx = stall_find(self->ccap, (size_t)idx + 1, &self->up, r.t_write, 0, -1);
		if (idx < 0)
			tf_fail("round %d: no request on the client link", i);
		snprintf(what, sizeof what, "round %d: one segment carries header and body (bytes)", i);
		tf_expect_int(what, tf_capture_pkt(self->ccap, (size_t)idx)->payload, REQ_LEN);
		/* kernel side: tcp_sock_set_cork(sk, false) pushes it out
		 * inside the uncorking setsockopt() */
		snprintf(what, sizeof what, "round %d: the segment leaves inside the uncork setsockopt() "
		         "(client link, from its entry)", i);
		tf_expect_range(what, (tf_capture_pkt(self->ccap, (size_t)idx)->ts_ns - r.last_in) / 1000, 0,
		                (r.last_out - r.last_in) / 1000);
		char key[64];
		snprintf(key, sizeof key, "round%d_app_us", i);
		tf_diag(key, "application latency %lld, this thread's run-queue wait %lld",
		        (long long)((r.t_done - r.t_write) / 1000), (long long)req_rq_us(&r));
		snprintf(what, sizeof what, "round %d: write-write-read latency (application): less than "
		         "a delayed-ACK timer (+ this thread's run-queue wait)", i);
		tf_expect_app_time(what, (r.t_done - r.t_write) / 1000, 0, 0,
		                   stall_timer_band(tf_model_delack_min(self->hz), self->hz).lo_us - tf_slack_us() +
		                   req_rq_us(&r));
	}
}

TF_CASE_F(nagle, nagle_cork_forgotten, .timeout_s = 30,
        .proves = "seed 003: \"40-200ms\" — a request left corked waits for the probe timer, max(RTO, 200 ms)")
{
	_cleanup_(tf_model_freep) tf_model *m = NULL;

	warm_up(self);
	m = tf_case_model(self->client);   /* HZ and the client's RTO sysctls */
	for (int i = 1; i <= 2; i++) {
		struct tcp_info ti;
		stall_tcprow row;
		xres r;
		long idx;
		char what[224], key[32];
		unsigned hz = self->hz;

		tf_must(tf_tcp_info(self->cfd, &ti));
		tf_must(tf_model_set_rtt(m, ti.tcpi_rtt, ti.tcpi_rttvar));
		unsigned rto = tf_model_rto_jiffies(m);
		tf_expect_int("client RTO in jiffies: kernel (tcpi_rto) vs model",
		              (long)stall_usecs_to_jiffies(ti.tcpi_rto, hz), (long)rto);
		unsigned probe0 = stall_probe0_base(rto, hz);
		stall_band b = stall_timer_band(probe0, hz);
		snprintf(key, sizeof key, "round%d_probe0_model", i);
		tf_diag(key, "rto %u jiffies -> tcp_probe0_base %u jiffies = %.1f ms, wheel gran %u",
		        rto, probe0, probe0 * 1000.0 / hz, b.gran);

		tf_must(stall_proc_tcp(self->client, &self->up, &row));
		tf_expect_int("client has no xmit timer pending before the write", row.timer, 0);

		/* corked, one write, no uncork; look at the kernel between the
		 * write and the probe timer */
		const xopt o = { .split = false, .cork = CORK_FORGOTTEN };
		memset(&r, 0, sizeof r);
		request_send(self, &o, &r);
		tf_must(stall_proc_tcp(self->client, &self->up, &row));
		/* when the read had ended: it saw the timer armed only if the
		 * timer fired after that (a read preempted across the fire
		 * saw it gone) */
		int64_t t_proc = tf_now_ns();
		request_finish(self, &o, 3000, &r);

		tf_must(tf_capture_read(self->ccap));
		idx = stall_find(self->ccap, 0, &self->up, r.t_write, 0, REQ_LEN);
		if (idx < 0)
			tf_fail("round %d: the corked request is not on the client link", i);
		int64_t t_tx = tf_capture_pkt(self->ccap, (size_t)idx)->ts_ns;
		snprintf(what, sizeof what, "round %d: corked data armed the zero-window probe timer (tr=4)", i);
		if (t_tx < t_proc)   /* the timer fired before the read ended: maybe nothing left to see */
			tf_note("round %d: /proc/net/tcp%s read ended %.3f ms after the timer fired (process "
			        "not scheduled): timer kind not observed", i, self->family == AF_INET6 ? "6" : "",
			        (t_proc - t_tx) / 1e6);
		else
			tf_expect_int(what, row.timer, 4);
		/* Kernel side: tcp_check_probe_timer() armed the timer inside
		 * the send() (between its entry and return, d apart); the
		 * corked segment left when it fired.  Measured from the entry,
		 * the fire is at least the band's low edge and at most its high
		 * edge + d. */
		int64_t d = (r.last_out - r.last_in) / 1000;
		snprintf(key, sizeof key, "round%d_wire_us", i);
		tf_diag(key, "send() took %lld, segment left %lld after its entry, application latency %lld, "
		        "this thread's run-queue wait %lld", (long long)d,
		        (long long)((t_tx - r.last_in) / 1000), (long long)((r.t_done - r.t_write) / 1000),
		        (long long)req_rq_us(&r));
		snprintf(what, sizeof what, "round %d: corked request held until the probe timer (client "
		         "link, from the send() that armed it; + its duration)", i);
		tf_expect_timer_time(what, (t_tx - r.last_in) / 1000, b.mid_us, b.lo_us, b.hi_us + d);
		/* Application side: at least the wire stall, at most the timer
		 * (+ the send()) — scheduling adds only the measured allowance. */
		snprintf(what, sizeof what, "round %d: write-read latency (application): at least the wire "
		         "stall, less than the next probe timer (+ this thread's run-queue wait)", i);
		tf_expect_app_range(what, (r.t_done - r.t_write) / 1000, (t_tx - r.last_in) / 1000,
		                    (t_tx - r.t_write) / 1000 + b.lo_us + req_rq_us(&r));
	}
}
