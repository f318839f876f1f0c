/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The peer goes away: its process is killed, its host vanishes, it is
 * gone while we keep writing, it restarts under a pooled connection.
 *
 * Seed 001: "after killing the client's process, the client's kernel sends
 * a FIN message" versus "the fact that the client is down is not perceived
 * by the server as well as the unplugged cable".  Seed 003: half-open
 * connections ("Your writes succeed until the send buffer fills. Then
 * write() blocks. Or returns EAGAIN") and stale pooled connections ("Your
 * next request grabs a connection that the server no longer recognizes.
 * You get a RST").
 *
 * Three fixtures, each run over IPv4 and IPv6 (<case>_ipv4, <case>_ipv6):
 * `killed` (pair, a server process holding an accepted connection),
 * `halfopen` (path, an established pair with a capture) and `pool` (pair,
 * a pooled connection that has served one request).  The cases state the
 * fault and the expectation.
 *
 * IPv6: the rules asserted here are the same code for both families, so
 * the IPv6 variants assert the same rules (the YAML says "family: ipv6"):
 *  - a RST answers a segment no socket wants with seq = its ACK field —
 *    tcp_v6_send_reset() as tcp_v4_send_reset() ("if (th->ack) seq =
 *    ntohl(th->ack_seq)", net/ipv6/tcp_ipv6.c), reached the same way
 *    (a LISTEN socket's "if (th->ack) return 1" in tcp_rcv_state_process(),
 *    TCPAbortOnData there, TCP_TW_RST from tcp_timewait_state_process());
 *  - what a RST does to the receiver is tcp_reset() (net/ipv4/tcp_input.c,
 *    both families): EPIPE in CLOSE_WAIT, ECONNRESET in ESTABLISHED;
 *  - close() sends the FIN at once (tcp_close(), tcp_send_fin()), for
 *    either family's socket; a link that is down sends nothing;
 *  - the send buffer rule is tcp_sendmsg_locked()'s and the skb head is
 *    MAX_TCP_HEADER for both families (include/net/tcp.h), so the bounds
 *    of half_open_write_until_eagain hold as they are.
 */
#include "fate.h"

#include <sys/prctl.h>

#define PORT 12003

TF_FIXTURE_VARIANT(killed) {
	int family;
};
TF_FIXTURE_VARIANT(halfopen) {
	int family;
};
TF_FIXTURE_VARIANT(pool) {
	int family;
};
TF_VARIANTS_FAMILY(killed)
TF_VARIANTS_FAMILY(halfopen)
TF_VARIANTS_FAMILY(pool)

/*
 * addr:port as a socket address of addr's family (IPv6 when it has a ':',
 * as tf_sock.h reads addresses).  Made before the fork: the child can only
 * _exit(), never report.  (Belongs in lib/tf_sock.h beside tf_tcp_listen();
 * static here until it is there.)
 */
static int peer_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
                         socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*len = sizeof *a;
		return inet_pton(AF_INET6, addr, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*len = sizeof *a;
		return inet_pton(AF_INET, addr, &a->sin_addr) == 1 ? 0 : -EINVAL;
	}
}

/* ------------------------------------------------------------------ */
/* A server process in the server host                                */
/* ------------------------------------------------------------------ */

struct server_proc {
	pid_t pid;
	int pidfd;
	int ctl;               /* read end: 'L' listening, 'A' accepted */
};

/*
 * fork() a child that enters the server host (tf_host_enter()), listens,
 * accepts one connection and holds it until it is killed.  It never
 * returns into the runner: _exit() only (no atexit handlers).
 */
static void server_spawn(tf_host *server, const char *addr, struct server_proc *sp)
{
	struct sockaddr_storage sa;
	socklen_t salen = 0;
	int p[2];

	if (peer_sockaddr(addr, PORT, &sa, &salen) < 0)
		tf_fail("not an address: %s", addr);
	if (pipe2(p, O_CLOEXEC) < 0)
		tf_fail("pipe2: %s", strerror(errno));
	sp->pid = fork();
	if (sp->pid < 0)
		tf_fail("fork: %s", strerror(errno));
	if (sp->pid == 0) {
		struct pollfd pf;
		int one = 1, lfd, fd;

		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (tf_host_enter(server) < 0)
			_exit(10);
		lfd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
		    bind(lfd, (struct sockaddr *)&sa, salen) < 0 || listen(lfd, 4) < 0)
			_exit(11);
		if (write(p[1], "L", 1) != 1)
			_exit(12);
		pf = (struct pollfd){ .fd = lfd, .events = POLLIN };
		if (poll(&pf, 1, 5000) != 1)
			_exit(13);
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			_exit(14);
		close(lfd);
		if (write(p[1], "A", 1) != 1)
			_exit(15);
		for (;;)
			pause();
	}
	close(p[1]);
	sp->ctl = p[0];
	sp->pidfd = fate_pidfd_open(sp->pid);
	if (fate_pipe_get(sp->ctl, 5000) != 'L')
		tf_fail("server process did not start listening");
}

/* SIGKILL through the pidfd and wait for the pidfd to report the exit;
 * returns when it did. */
static int64_t server_kill(struct server_proc *sp, int64_t *t_kill)
{
	int64_t t_dead;

	*t_kill = tf_now_ns();
	fate_pidfd_kill(sp->pidfd, SIGKILL);
	if (tf_sock_wait(sp->pidfd, POLLIN, 5000, NULL) < 0)
		tf_fail("killed server process did not exit");
	t_dead = tf_now_ns();
	waitpid(sp->pid, NULL, 0);
	sp->pid = -1;
	return t_dead;
}

static void server_free(struct server_proc *sp)
{
	if (sp->pid > 0) {
		kill(sp->pid, SIGKILL);
		waitpid(sp->pid, NULL, 0);
	}
	if (sp->pidfd >= 0)
		close(sp->pidfd);
	if (sp->ctl >= 0)
		close(sp->ctl);
}

/* Topology: client — server; the server's process holds the connection. */
TF_FIXTURE(killed) {
	tf_topo *t;
	tf_host *client, *server;
	struct server_proc sp;
	int cfd;
	tf_flow cf, sf;
	tf_capture *cap;       /* on the client's link */
};

TF_FIXTURE_SETUP(killed)
{
	const char *addr;

	self->cfd = self->sp.pidfd = self->sp.ctl = -1;
	self->t = tf_case_topo(TF_TOPO_PAIR);
	self->client = tf_topo_client(self->t);
	self->server = tf_topo_server(self->t);
	tf_case_family(self->client, variant->family);
	addr = tf_topo_addr(self->t, TF_NODE_SERVER, variant->family);
	self->cap = tf_case_capture(self->client, TF_IF_CLIENT, "tcp port 12003", "client");
	server_spawn(self->server, addr, &self->sp);
	tf_must(tf_tcp_connect(self->client, addr, PORT, 5000, &self->cfd));
	if (fate_pipe_get(self->sp.ctl, 5000) != 'A')
		tf_fail("server process did not accept");
	tf_must(tf_sock_flow(self->cfd, &self->cf));
	self->sf = tf_flow_reverse(self->cf);
	tf_expect_flow_family(&self->cf, variant->family);
}

TF_FIXTURE_TEARDOWN(killed)
{
	(void)variant;
	server_free(&self->sp);
	if (self->cfd >= 0)
		close(self->cfd);
	tf_topo_free(self->t);
}

/* ------------------------------------------------------------------ */

/*
 * "after killing the client's process, the client's kernel sends a FIN
 *  message to the server ... even if TCP keepalive is not enabled and there
 *  is no data interaction between the two sides, if one of the processes
 *  crashes, the operating system can sense this process and will send a FIN"
 *
 * Here the server's process holds the accepted socket and gets SIGKILL.
 * The exiting task closes its files (do_exit() → exit_files(); the last
 * fput() of the socket runs as task work in exit_task_work()) before
 * exit_notify() wakes the pidfd (do_notify_pidfd(), kernel/exit.c); the
 * close is tcp_close(), which sends the FIN at once (tcp_send_fin()), and
 * veth delivers it in the sender's softirq.  So: the FIN is on the wire
 * between the kill and the pidfd, the client reads EOF no later than the
 * pidfd fires (no timer anywhere: the bound is the scheduling slack).  The
 * client then closes and the four-way close ends with the server's kernel
 * holding TIME_WAIT for the dead process.
 */
TF_CASE_F(killed, peer_killed_fin, .timeout_s = 30,
          .proves = "seed 001: SIGKILL of the peer process makes its kernel send FIN: the other side reads EOF at once, then the four-way close")
{
	struct killed_fixture *k = self;
	int64_t t_kill, t_dead, t_eof;
	char buf[8];
	short rev = 0;

	t_dead = server_kill(&k->sp, &t_kill);
	int r = tf_sock_wait(k->cfd, POLLIN | POLLRDHUP, 2000, &rev);
	t_eof = tf_now_ns();
	if (r == -ETIME)
		tf_fail("no EOF at the client within 2 s of the kill");
	tf_expect_int("client read() after the kill: 0 = EOF", (long)recv(k->cfd, buf, sizeof buf,
	              MSG_DONTWAIT), 0);
	tf_diag("kill_to_exit_ms", "%.3f", (double)(t_dead - t_kill) / 1e6);
	tf_diag("kill_to_eof_ms", "%.3f", (double)(t_eof - t_kill) / 1e6);
	/* both moments are this process's wake-ups: application side (the
	 * FIN's place between the kill and the exit, below, is the kernel's) */
	tf_expect_app_range("EOF seen after the pidfd reported the exit", (t_eof - t_dead) / 1000,
	                    -(t_dead - t_kill) / 1000, 0);

	tf_must(tf_capture_read(k->cap));
	long fi = tf_capture_find(k->cap, 0, &(tf_match){ .flow = &k->sf, .all = TF_TCP_FIN });
	tf_expect_int("FIN from the server's kernel", fi >= 0, 1);
	if (fi >= 0) {
		int64_t t_fin = tf_capture_pkt(k->cap, (size_t)fi)->ts_ns;
		tf_expect_time("FIN between the kill and the exit (from the kill)",
		               (t_fin - t_kill) / 1000, 0, 0, (t_dead - t_kill) / 1000);
	}
	tf_expect_int("RST on the wire", (long)tf_capture_count_flags(k->cap, &k->cf, true, TF_TCP_RST), 0);
	fate_expect_state("client state after the FIN (sock_diag)", k->client, &k->cf, TCP_CLOSE_WAIT);

	/* The client closes: FIN, and the server's kernel ACKs it. */
	close(k->cfd);
	k->cfd = -1;
	long cfin = tf_capture_wait_match(k->cap, &(tf_match){ .flow = &k->cf, .all = TF_TCP_FIN }, 1, 2000);
	tf_expect_int("client FIN after close()", cfin >= 0, 1);
	if (cfin >= 0) {
		const tf_pkt *p = tf_capture_pkt(k->cap, (size_t)cfin);
		tf_match last = { .flow = &k->sf, .all = TF_TCP_ACK, .after_ns = p->ts_ns,
		                    .has_ack = true, .ack = p->seq + 1 };
		tf_expect_int("server's kernel ACKs the client's FIN", tf_capture_wait_match(k->cap, &last,
		              1, 2000) >= 0, 1);
	}
	tf_expect_int("client socket after the close (sock_diag: -ENOENT = gone)",
	              fate_state(k->client, &k->cf), -ENOENT);
	fate_expect_state("server socket of the dead process (sock_diag)", k->server, &k->sf,
	                  TCP_TIME_WAIT);
}

/*
 * "In the first scenario, the fact that the client is down is not perceived
 *  by the server ... if there is no data transfer and the TCP keepalive
 *  mechanism is not enabled, the TCP connection on the server will remain
 *  in ESTABLISHED"
 *
 * Host gone: the server's link goes down first, then its process is
 * killed.  Its kernel still closes the socket and queues the FIN, but there
 * is no route any more (the link-down flushed them: fib_sync_down_dev(),
 * and for IPv6 fib6_ifdown() on NETDEV_DOWN, net/ipv6/route.c), so nothing
 * reaches the client.  Without traffic or keepalive the client notices nothing: over a
 * 3 s window (three times the longest timer an idle socket could have, see
 * cable_pulled_idle) no event, no packet, no segment sent, ESTABLISHED.
 */
TF_CASE_F(killed, peer_host_gone_silent, .timeout_s = 30,
          .proves = "seed 001/003: a peer host that vanishes sends no FIN: without traffic or keepalive the other side stays ESTABLISHED and notices nothing")
{
	struct killed_fixture *k = self;
	_cleanup_(tf_fault_freep) tf_fault *down = NULL;
	struct fate_tcp_info ti0, ti1;
	int64_t t_kill, t_gone;
	short rev = 0;

	fate_tcp_info(k->cfd, &ti0);
	tf_must(tf_fault_link_down(k->server, TF_IF_SERVER, &down));
	tf_diag("fault", "%s", tf_fault_describe(down));
	t_gone = tf_now_ns();
	server_kill(&k->sp, &t_kill);

	int who = fate_watch(&k->cfd, 1, k->cap, 3000, &rev);
	if (who >= 0)
		tf_note("client socket woke up (revents 0x%x)", (unsigned)rev);
	tf_expect_int("client socket events in the 3 s window (poll: -1 = none)", who, -1);
	tf_must(tf_capture_read(k->cap));
	tf_expect_int("TCP packets on the client's link after the host went", (long)(
	              tf_capture_count_match(k->cap, &(tf_match){ .flow = &k->sf, .after_ns = t_gone }) +
	              tf_capture_count_match(k->cap, &(tf_match){ .flow = &k->cf, .after_ns = t_gone })), 0);
	fate_tcp_info(k->cfd, &ti1);
	tf_expect_int("segments the client sent (tcpi_segs_out)", (long)(ti1.segs_out - ti0.segs_out), 0);
	tf_expect_errno("client SO_ERROR", tf_sock_error(k->cfd), 0);
	fate_expect_state("client state 3 s after its peer vanished (sock_diag)", k->client, &k->cf,
	                  TCP_ESTABLISHED);
	/* The dead process's socket: closed, its FIN never left. */
	fate_expect_state("server socket of the killed process (sock_diag)", k->server, &k->sf,
	                  TCP_FIN_WAIT1);
}

/* ------------------------------------------------------------------ */

/*
 * "Your code calls write(). It returns successfully ... Your writes succeed
 *  until the send buffer fills. Then write() blocks. Or returns EAGAIN."
 *
 * Half-open: the server vanished (blackhole at the router), the client
 * keeps writing on a non-blocking socket.  The kernel's rule
 * (tcp_sendmsg_locked(), net/ipv4/tcp.c): before it starts a new skb it
 * requires sk_stream_memory_free() — sk_wmem_queued < sk_sndbuf
 * (__sk_stream_memory_free(), include/net/sock.h) — where sk_wmem_queued
 * counts every queued skb's truesize (its head, charged at allocation,
 * plus each byte copied in, sk_wmem_queued_add()), sent-but-unacked skbs
 * included; bytes appended to the tail skb (up to the size goal) are not
 * checked.  setsockopt(SO_SNDBUF, S) sets sk_sndbuf = 2 S "to allow space
 * for bookkeeping overhead" (sk_setsockopt(), socket(7)).  Nothing frees
 * space without an ACK.  So when write() says EAGAIN:
 *   wmem_queued >= sk_sndbuf                          (the stop condition)
 *   accepted <= wmem_queued                           (payload is part of truesize)
 *   accepted < sk_sndbuf + 64 KiB                     (one skb past the check at most:
 *                                                      the size goal is below
 *                                                      sk_gso_max_size, 64 KiB on veth)
 *   accepted >= S                                     (overhead below the doubling:
 *                                                      each skb's head, SKB_TRUESIZE
 *                                                      of MAX_TCP_HEADER, is far below
 *                                                      the >= one MSS it carries)
 * and SIOCOUTQ (unacked + unsent bytes) == accepted; nothing comes back.
 */
#define HALF_OPEN_SNDBUF 65536

/* Topology: client — router — server, an established pair. */
TF_FIXTURE(halfopen) {
	tf_topo *t;
	tf_host *client, *router, *server;
	int family;
	int cfd, sfd;
	tf_flow cf, sf;
	tf_capture *cap;       /* on the client's link */
};

TF_FIXTURE_SETUP(halfopen)
{
	self->cfd = self->sfd = -1;
	self->family = variant->family;
	self->t = tf_case_topo(TF_TOPO_PATH);
	self->client = tf_topo_client(self->t);
	self->router = tf_topo_router(self->t);
	self->server = tf_topo_server(self->t);
	tf_case_family(self->client, variant->family);
	self->cap = tf_case_capture(self->client, TF_IF_CLIENT, "tcp port 12003", "client");
	tf_must(tf_tcp_pair(self->client, self->server,
	                    tf_topo_addr(self->t, TF_NODE_SERVER, variant->family), PORT, &self->cfd,
	                    &self->sfd));
	tf_must(tf_sock_flow(self->cfd, &self->cf));
	self->sf = tf_flow_reverse(self->cf);
	tf_expect_flow_family(&self->cf, variant->family);
}

TF_FIXTURE_TEARDOWN(halfopen)
{
	(void)variant;
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->sfd >= 0)
		close(self->sfd);
	tf_topo_free(self->t);
}

TF_CASE_F(halfopen, half_open_write_until_eagain, .timeout_s = 30,
          .proves = "seed 003: to a vanished peer write() succeeds until sk_wmem_queued (skb truesize) reaches sk_sndbuf, then EAGAIN; nothing is ACKed")
{
	_cleanup_(tf_fault_freep) tf_fault *blackhole = NULL;
	_cleanup_free_ char *buf = malloc(1 << 20);
	tf_host *client = self->client;
	tf_capture *cap = self->cap;
	const tf_flow cf = self->cf, sf = self->sf;
	int cfd = self->cfd;
	uint32_t mem[FATE_MEM_VARS];
	struct tcp_info ti;
	long accepted = 0, calls = 0;
	int outq = -1, err = 0;
	int64_t t_bh;
	short rev = 0;

	if (!buf)
		tf_fail("out of memory");
	memset(buf, 'x', 1 << 20);
	tf_must(tf_sock_set_int(cfd, SOL_SOCKET, SO_SNDBUF, HALF_OPEN_SNDBUF));
	fate_nonblock(cfd);
	tf_must(tf_fault_blackhole(self->router, tf_topo_cidr(self->t, TF_NODE_SERVER, self->family),
	                           &blackhole));
	tf_diag("fault", "%s", tf_fault_describe(blackhole));
	t_bh = tf_now_ns();

	for (;;) {
		ssize_t n = send(cfd, buf, 1 << 20, MSG_NOSIGNAL);
		if (n < 0) {
			err = errno;
			break;
		}
		accepted += n;
		if (++calls > 64)
			tf_fail("write() never stopped (%ld bytes)", accepted);
	}
	fate_meminfo(cfd, mem);
	if (ioctl(cfd, SIOCOUTQ, &outq) < 0)
		tf_fail("SIOCOUTQ: %s", strerror(errno));
	tf_must(tf_tcp_info(cfd, &ti));
	tf_diag("accepted_bytes", "%ld in %ld write() calls", accepted, calls);
	tf_diag("sk_sndbuf", "%u (SO_SNDBUF %d)", mem[FATE_MEM_SNDBUF], HALF_OPEN_SNDBUF);
	tf_diag("sk_wmem_queued", "%u (overhead %ld)", mem[FATE_MEM_WMEM_QUEUED],
	        (long)mem[FATE_MEM_WMEM_QUEUED] - accepted);

	tf_expect_errno("write() when the buffer is full", err, EAGAIN);
	tf_expect_int("sk_sndbuf == 2 x SO_SNDBUF", mem[FATE_MEM_SNDBUF], 2 * HALF_OPEN_SNDBUF);
	tf_expect_int("sk_wmem_queued >= sk_sndbuf at EAGAIN",
	              mem[FATE_MEM_WMEM_QUEUED] >= mem[FATE_MEM_SNDBUF], 1);
	tf_expect_int("accepted bytes <= sk_wmem_queued", accepted <= (long)mem[FATE_MEM_WMEM_QUEUED], 1);
	tf_expect_int("accepted bytes < sk_sndbuf + 64 KiB",
	              accepted < (long)mem[FATE_MEM_SNDBUF] + 65536, 1);
	tf_expect_int("accepted bytes >= SO_SNDBUF", accepted >= HALF_OPEN_SNDBUF, 1);
	tf_expect_int("SIOCOUTQ == accepted bytes", outq, accepted);

	/* Nothing frees space: no POLLOUT for a second (no timer frees send
	 * buffer; only tcp_ack() → tcp_clean_rtx_queue() does). */
	int r = tf_sock_wait(cfd, POLLOUT, 1000, &rev);
	tf_expect_int("POLLOUT within 1 s (-ETIME = never)", r == -ETIME ? -ETIME : rev, -ETIME);
	tf_must(tf_capture_read(cap));
	tf_expect_int("packets from the server after it vanished",
	              (long)tf_capture_count_match(cap, &(tf_match){ .flow = &sf, .after_ns = t_bh }), 0);
	tf_expect_int("data segments sent and unacknowledged (tcpi_unacked > 0)", ti.tcpi_unacked > 0, 1);
	tf_expect_errno("SO_ERROR", tf_sock_error(cfd), 0);
	fate_expect_state("client state (sock_diag)", client, &cf, TCP_ESTABLISHED);
}

/* ------------------------------------------------------------------ */

/*
 * "Stale connections sit in the pool while the server restarts. Your next
 *  request grabs a connection that the server no longer recognizes. You get
 *  a RST, an exception, maybe a retry."
 *
 * Two ways for the server to restart, two answers from the kernel:
 *
 * Graceful restart: close() sends a FIN, which the idle pooled client
 * ACKs without its application noticing (CLOSE_WAIT).  The request is
 * accepted by write(); at the server the old connection is half-closed and
 * orphaned (FIN_WAIT2, or its time-wait stand-in), and new data after a
 * close is answered with a RST (tcp_rcv_state_process(): TCPAbortOnData;
 * tcp_timewait_state_process(): TCP_TW_RST).  A RST in CLOSE_WAIT sets
 * EPIPE, not ECONNRESET (tcp_reset(), net/ipv4/tcp_input.c), and read()
 * reports the FIN first (tcp_recvmsg_locked() checks SOCK_DONE before
 * sk_err): read() returns 0, the next write() EPIPE.
 *
 * Host forgot (crash and reboot, or an abortive close whose RST was lost):
 * the client never heard anything and is ESTABLISHED.  The request reaches
 * a listener, which answers a non-SYN segment with a RST (LISTEN: "if
 * (th->ack) return 1" → tcp_v4_send_reset()), and in ESTABLISHED tcp_reset()
 * sets ECONNRESET: read() fails with ECONNRESET, the next write() EPIPE.
 *
 * Either way the RST carries seq = the request's ACK field
 * (tcp_v4_send_reset()), and a fresh connection to the new listener works.
 */
/* Topology: client — server, a pooled connection that has served one
 * request, and the server's listener. */
TF_FIXTURE(pool) {
	tf_topo *t;
	tf_host *client, *server;
	int family;
	const char *server_addr;
	int cfd, sfd, lfd;
	tf_flow cf, sf;
	tf_capture *cap;       /* on the client's link */
};

TF_FIXTURE_TEARDOWN(pool)
{
	(void)variant;
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->sfd >= 0)
		close(self->sfd);
	if (self->lfd >= 0)
		close(self->lfd);
	tf_topo_free(self->t);
}

TF_FIXTURE_SETUP(pool)
{
	struct pool_fixture *p = self;

	p->cfd = p->sfd = p->lfd = -1;
	p->family = variant->family;
	p->t = tf_case_topo(TF_TOPO_PAIR);
	p->client = tf_topo_client(p->t);
	p->server = tf_topo_server(p->t);
	tf_case_family(p->client, p->family);
	p->server_addr = tf_topo_addr(p->t, TF_NODE_SERVER, p->family);
	p->cap = tf_case_capture(p->client, TF_IF_CLIENT, "tcp port 12003", "client");
	tf_must(tf_tcp_listen(p->server, p->server_addr, PORT, &p->lfd));
	tf_must(tf_tcp_connect(p->client, p->server_addr, PORT, 5000, &p->cfd));
	tf_must(tf_tcp_accept(p->lfd, 5000, &p->sfd));
	tf_must(tf_sock_flow(p->cfd, &p->cf));
	p->sf = tf_flow_reverse(p->cf);
	tf_expect_flow_family(&p->cf, p->family);
	/* One request/response, as a pooled connection has had. */
	tf_must(tf_sock_send_all(p->cfd, "GET /1\n", 7));
	char b[8];
	if (fate_recv_exact(p->sfd, b, 7, 2000) != 7)
		tf_fail("first request not received");
	tf_must(tf_sock_send_all(p->sfd, "200 OK\n", 7));
	if (fate_recv_exact(p->cfd, b, 7, 2000) != 7)
		tf_fail("first response not received");
}

static void pool_restart_listener(struct pool_fixture *p)
{
	close(p->lfd);
	p->lfd = -1;
	tf_must(tf_tcp_listen(p->server, p->server_addr, PORT, &p->lfd));
}

/* The stale request and what the client sees; read_errno is what read()
 * must report (0: EOF). */
static void pool_request(struct pool_fixture *p, int read_errno, int64_t after_ns)
{
	char b[16];
	short rev = 0;

	ssize_t w = send(p->cfd, "GET /2\n", 7, MSG_NOSIGNAL);
	tf_expect_int("write() of the request on the stale connection succeeds", (long)w, 7);
	if (tf_sock_wait(p->cfd, POLLIN, 2000, &rev) == -ETIME)
		tf_fail("no answer to the stale request within 2 s");
	ssize_t n = recv(p->cfd, b, sizeof b, MSG_DONTWAIT);
	if (read_errno) {
		tf_expect_int("read() of the response returns -1", (long)n, -1);
		tf_expect_errno("read() errno", n < 0 ? errno : 0, read_errno);
	} else {
		tf_expect_int("read() of the response returns 0 (the FIN, seen first)", (long)n, 0);
	}
	w = send(p->cfd, "GET /3\n", 7, MSG_NOSIGNAL);
	tf_expect_errno("the next write() errno", w < 0 ? errno : 0, EPIPE);

	tf_must(tf_capture_read(p->cap));
	long di = tf_capture_find(p->cap, 0, &(tf_match){ .flow = &p->cf, .payload = 1,
	                                              .after_ns = after_ns });
	tf_expect_int("the request on the wire", di >= 0, 1);
	if (di >= 0) {
		const tf_pkt *d = tf_capture_pkt(p->cap, (size_t)di);
		long ri = tf_capture_find(p->cap, (size_t)di, &(tf_match){ .flow = &p->sf,
		                                                       .all = TF_TCP_RST });
		tf_expect_int("RST from the server's kernel after it", ri >= 0, 1);
		if (ri >= 0)
			tf_expect_int("RST sequence number == the request's ACK field",
			              (long)tf_capture_pkt(p->cap, (size_t)ri)->seq, (long)d->ack);
	}
	tf_expect_int("client socket after the RST (sock_diag: -ENOENT = gone)",
	              fate_state(p->client, &p->cf), -ENOENT);
}

static void pool_fresh(struct pool_fixture *p)
{
	_cleanup_close_ int c2 = -1, s2 = -1;
	char b[8];

	tf_expect_int("fresh connection to the restarted server",
	              tf_tcp_connect(p->client, p->server_addr, PORT, 2000, &c2), 0);
	if (c2 < 0)
		return;
	tf_must(tf_tcp_accept(p->lfd, 2000, &s2));
	tf_must(tf_sock_send_all(c2, "GET /2\n", 7));
	tf_expect_int("the restarted server reads the request", fate_recv_exact(s2, b, 7, 2000), 7);
	tf_must(tf_sock_send_all(s2, "200 OK\n", 7));
	tf_expect_int("the client reads the response", fate_recv_exact(c2, b, 7, 2000), 7);
}

TF_CASE_F(pool, stale_pool_server_restart, .timeout_s = 30,
          .proves = "seed 003: after a graceful server restart the pooled connection's request is accepted by write(), answered by RST: read() 0, then EPIPE; a fresh connection works")
{
	struct pool_fixture *p = self;

	int64_t t_restart = tf_now_ns();
	close(p->sfd);          /* the server process restarts */
	p->sfd = -1;
	pool_restart_listener(p);
	long fi = tf_capture_wait_match(p->cap, &(tf_match){ .flow = &p->sf, .all = TF_TCP_FIN,
	                                              .after_ns = t_restart }, 1, 2000);
	tf_expect_int("server's FIN reaches the pooled client", fi >= 0, 1);
	fate_expect_state("pooled client socket after the restart (sock_diag)", p->client, &p->cf,
	                  TCP_CLOSE_WAIT);

	pool_request(p, 0, t_restart);
	pool_fresh(p);
}

TF_CASE_F(pool, stale_pool_server_forgot, .timeout_s = 30,
          .proves = "seed 003: a server host that forgot the connection answers the pooled request with RST: ECONNRESET, then EPIPE; a fresh connection works")
{
	struct pool_fixture *p = self;
	_cleanup_(tf_fault_freep) tf_fault *lost = NULL;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	int64_t t_restart = tf_now_ns();
	/* The server forgets: an abortive close (SO_LINGER 0 sends a RST and
	 * frees the socket, tcp_disconnect()) whose RST never reaches the
	 * client — the server host has no route to it meanwhile. */
	tf_must(tf_fault_blackhole(p->server, tf_topo_cidr(p->t, TF_NODE_CLIENT, p->family), &lost));
	tf_diag("fault", "%s, then healed", tf_fault_describe(lost));
	if (setsockopt(p->sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
		tf_fail("SO_LINGER: %s", strerror(errno));
	close(p->sfd);
	p->sfd = -1;
	tf_must(tf_fault_heal(lost));
	pool_restart_listener(p);
	tf_expect_int("server socket of the old connection (sock_diag: -ENOENT = gone)",
	              fate_state(p->server, &p->sf), -ENOENT);
	tf_must(tf_capture_read(p->cap));
	tf_expect_int("packets from the server reaching the pooled client", (long)tf_capture_count_match(p->cap, &(tf_match){
	              .flow = &p->sf, .after_ns = t_restart }), 0);
	fate_expect_state("pooled client socket after the restart (sock_diag)", p->client, &p->cf,
	                  TCP_ESTABLISHED);

	pool_request(p, ECONNRESET, t_restart);
	pool_fresh(p);
}
