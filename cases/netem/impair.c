/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * impair — loss, delay and rate (issue 6): what TCP does on a link that drops at
 * random, adds delay (and jitter), or limits the rate.
 *
 * Topology: client — router — server.  The faults sit on the router's
 * egress, so that captures at the client (before the fault) and at the
 * server (after it) see both sides of it.  The client's eth0 has TSO and
 * GSO off (ethtool, inside the case's namespace only), so every frame on
 * the path is one TCP segment and the qdiscs see segments, not 64 KB GSO
 * packets they would drop or delay as a whole.
 *
 * sch_netem (loss, delay, jitter): a kernel without it (this project's
 * host) answers -EOPNOTSUPP and the case SKIPs "sch_netem not available";
 * the VM runner (ci/vm) loads the module.  sch_tbf (rate) is everywhere.
 *
 * netem's loss is random and cannot be seeded here (6.1 draws
 * get_random_u32(); 6.8+ has TCA_NETEM_PRNG_SEED but libnl has no
 * attribute for it), so loss counts are checked against exact binomial
 * tails (tf_model_binomial_band()): a correct kernel fails each such check
 * with a probability of at most 2e-6.
 *
 * Every case runs over IPv4 and IPv6 (variants <case>_ipv4 / _ipv6 of one
 * fixture); the netem variants of both SKIP alike where netem is missing.
 * The rules asserted are the same for both families: the qdiscs see
 * frames, whatever their protocol (qdisc_pkt_len() counts IPv6's 40-byte
 * header as it counts IPv4's 20: the wire bytes below are the IP length
 * plus Ethernet's 14 for both), and the RTT estimator, RTO and
 * retransmission timers are tcp_ipv6.c's as much as tcp_ipv4.c's
 * (tcp_rtt_estimator(), tcp_set_rto(), tcp_retransmit_timer()).  Only the
 * MSS differs: MTU - 60, not - 40 (icsk_af_ops->net_header_len is
 * sizeof(struct ipv6hdr) in tcp_ipv6.c's ipv6_specific; ip6_default_advmss()),
 * so the same bytes take more frames; the loss case counts segments of the
 * socket's own tcpi_snd_mss and the rate case sums the captured frames'
 * wire bytes, so both follow it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "tf_test.h"

#define LOSS_TAIL 1e-6   /* per side, for every binomial band */

/* ------------------------------------------------------------------ */
/* helpers                                                             */

/* ethtool -K ifname tso off gso off, in host h (legacy SIOCETHTOOL). */
static void offload_off(tf_host *h, const char *ifname)
{
	static const uint32_t cmds[] = { ETHTOOL_STSO, ETHTOOL_SGSO };
	_cleanup_close_ int fd = tf_host_socket(h, AF_INET, SOCK_DGRAM, 0);

	tf_must(fd);
	for (size_t i = 0; i < TF_ARRAY_SIZE(cmds); i++) {
		struct ethtool_value ev = { .cmd = cmds[i], .data = 0 };
		struct ifreq ifr;

		memset(&ifr, 0, sizeof ifr);
		snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
		ifr.ifr_data = (void *)&ev;
		if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
			tf_fail("ethtool %s off on %s: %s", i ? "gso" : "tso", ifname, strerror(errno));
	}
}

static void must_netem(int r)
{
	if (r == -EOPNOTSUPP)
		TF_SKIP("sch_netem not available");
	tf_must(r);
}

static bool in_flow(const tf_pkt *p, const tf_flow *f)
{
	return tf_pkt_in_flow(p, f, false);
}

/* A count checked against a band; the YAML shows both. */
static bool expect_count(const char *what, long measured, long lo, long hi, double mean)
{
	char label[256];

	snprintf(label, sizeof label, "%s: %ld in [%ld, %ld] (mean %.1f); 1 = inside", what,
	         measured, lo, hi, mean);
	return tf_expect_int(label, measured >= lo && measured <= hi, 1);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 131u + (i >> 11));
}

/* Bulk transfer client -> server of len bytes of a pattern, both sockets
 * non-blocking in one poll() loop; every byte is compared on arrival. */
struct xfer {
	size_t sent, received, bad;
	bool done;
};

static void transfer(int cfd, int sfd, size_t len, int timeout_ms, struct xfer *x)
{
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	static uint8_t out[65536], in[65536];

	memset(x, 0, sizeof *x);
	tf_must(fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK) < 0 ? -errno : 0);
	tf_must(fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL) | O_NONBLOCK) < 0 ? -errno : 0);
	while (x->received < len) {
		struct pollfd p[2] = {
			{ .fd = x->sent < len ? cfd : -1, .events = POLLOUT },
			{ .fd = sfd, .events = POLLIN },
		};
		int64_t left = deadline - tf_mono_ns();

		if (left <= 0)
			return;
		if (poll(p, 2, (int)(left / 1000000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			tf_fail("poll: %s", strerror(errno));
		}
		if (p[0].revents & POLLOUT) {
			size_t n = len - x->sent < sizeof out ? len - x->sent : sizeof out;
			ssize_t w;

			for (size_t i = 0; i < n; i++)
				out[i] = pattern(x->sent + i);
			w = send(cfd, out, n, MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				tf_fail("send: %s", strerror(errno));
			if (w > 0)
				x->sent += (size_t)w;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = recv(sfd, in, sizeof in, 0);

			if (r < 0 && errno != EAGAIN && errno != EINTR)
				tf_fail("recv: %s", strerror(errno));
			if (r == 0)
				tf_fail("server saw EOF after %zu of %zu bytes", x->received, len);
			for (ssize_t i = 0; i < r; i++)
				x->bad += in[i] != pattern(x->received + (size_t)i);
			if (r > 0)
				x->received += (size_t)r;
		}
	}
	x->done = true;
}

/* Wait until everything the client wrote is acknowledged (SIOCOUTQ 0):
 * woken by the capture, which sees every ACK arrive. */
static void wait_all_acked(int cfd, tf_capture *cap, int timeout_ms)
{
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	int outq = 1;

	for (;;) {
		struct pollfd p = { .fd = tf_capture_fd(cap), .events = POLLIN };
		int64_t left;

		if (ioctl(cfd, SIOCOUTQ, &outq) < 0)
			tf_fail("SIOCOUTQ: %s", strerror(errno));
		if (outq == 0)
			return;
		left = deadline - tf_mono_ns();
		if (left <= 0)
			break;
		if (poll(&p, 1, (int)(left / 1000000) + 1) > 0)
			tf_must(tf_capture_read(cap));
	}
	tf_note("%d bytes still unacknowledged after %d ms", outq, timeout_ms);
}

static void expect_capture_complete(tf_capture *c, const char *label)
{
	uint64_t dropped = 0;
	char what[96];

	tf_must(tf_capture_read(c));
	tf_must(tf_capture_dropped(c, &dropped));
	snprintf(what, sizeof what, "frames the %s capture dropped", label);
	tf_expect_int(what, (long)dropped, 0);
}

/* Data frames of flow f in a capture, sorted by sequence number (relative
 * to `base`, so a transfer across 2^32 sorts right), then time. */
struct seg {
	uint32_t seq;   /* relative to the base */
	uint32_t len;   /* TCP payload */
	uint32_t wire;  /* as qdisc_pkt_len() counts it: IP length + Ethernet header */
	int64_t ts;
};

static int ts_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return (x->ts > y->ts) - (x->ts < y->ts);
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (x->ts > y->ts) - (x->ts < y->ts);
}

static struct seg *data_frames(const tf_capture *c, const tf_flow *f, uint32_t base, size_t *n)
{
	struct seg *v = calloc(tf_capture_count(c) + 1, sizeof *v);
	size_t k = 0;

	if (!v)
		tf_fail("out of memory");
	for (size_t i = 0; i < tf_capture_count(c); i++) {
		const tf_pkt *p = tf_capture_pkt(c, i);

		if (in_flow(p, f) && p->payload > 0)
			v[k++] = (struct seg){ p->seq - base, p->payload, p->ip_len + 14u, p->ts_ns };
	}
	qsort(v, k, sizeof *v, seg_cmp);
	*n = k;
	return v;
}

/* ------------------------------------------------------------------ */
/* the fixture: the path, both families                                */

TF_FIXTURE_PATH(imp)

/* The segment size the counts below rest on, as the family has it:
 * tcp_mtu_to_mss() takes icsk_af_ops->net_header_len, 20 for IPv4 and 40
 * for IPv6 (tf_model_mss_from_mtu(), lib/model_ipv6.c). */
static void expect_family_mss(struct imp_fixture *self, int cfd)
{
	struct tcp_info ti;
	unsigned mtu = 0, want = 0;

	tf_must(tf_link_get_mtu(self->client, TF_IF_CLIENT, &mtu));
	tf_must(tf_tcp_info(cfd, &ti));
	tf_must(tf_model_mss_from_mtu(self->family, mtu,
	                              ti.tcpi_options & TCPI_OPT_TIMESTAMPS, &want));
	tf_expect_int(self->family == AF_INET6 ?
	              "tcpi_snd_mss: link MTU - 60 (IPv6), - 12 with timestamps" :
	              "tcpi_snd_mss: link MTU - 40 (IPv4), - 12 with timestamps",
	              ti.tcpi_snd_mss, want);
}

/* ------------------------------------------------------------------ */
/* (a) random loss                                                     */

#define LOSS_PORT 12350

static void netem_loss(struct imp_fixture *self, double percent, unsigned segments)
{
	_cleanup_(tf_fault_freep) tf_fault *loss = NULL;
	_cleanup_(tf_netem_freep) tf_netem *ne = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	_cleanup_free_ struct seg *tx = NULL, *rx = NULL;
	tf_host *client = self->client, *server = self->server;
	double p = tf_model_netem_loss_prob(percent);
	size_t ntx, nrx, len;
	struct tcp_info ti;
	struct xfer x;
	tf_flow f;

	/* Retransmissions keep the original segment boundaries: no collapsing
	 * of small segments on retransmit (tcp_retrans_try_collapse()). */
	tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_retrans_collapse", 0));
	offload_off(client, TF_IF_CLIENT);
	tf_must(tf_tcp_pair(client, server, self->server_addr, LOSS_PORT, &cfd, &sfd));
	tf_must(tf_sock_flow(cfd, &f));
	tf_must(tf_tcp_info(cfd, &ti));
	len = (size_t)segments * ti.tcpi_snd_mss;

	tf_must(tf_netem_new(&ne));
	tf_must(tf_netem_set_loss(ne, percent));
	must_netem(tf_fault_netem(self->router, TF_IF_ROUTER_SERVER, ne, &loss));
	expect_family_mss(self, cfd);
	tf_capture *cc = tf_case_capture(client, TF_IF_CLIENT, "tcp port 12350", "client");
	tf_capture *sc = tf_case_capture(server, TF_IF_SERVER, "tcp port 12350", "server");

	transfer(cfd, sfd, len, 120000, &x);
	tf_expect_int("bytes the server read", (long)x.received, (long)len);
	tf_expect_int("bytes that differ from what was sent", (long)x.bad, 0);
	if (!x.done)
		tf_fail("transfer incomplete after 120 s: %zu of %zu bytes", x.received, len);
	wait_all_acked(cfd, cc, 10000);
	expect_capture_complete(cc, "client");
	expect_capture_complete(sc, "server");

	uint32_t isn1;
	tf_must(tf_case_first_data(cc, &f, 0, &isn1));
	/* Per segment (its first byte, seq): transmissions at the client,
	 * arrivals at the server.  A first copy that arrived did so before
	 * the second copy was sent: the path has no delay and a
	 * retransmission waits at least a round trip (RACK, TLP, RTO). */
	tx = data_frames(cc, &f, isn1, &ntx);
	rx = data_frames(sc, &f, isn1, &nrx);
	unsigned n = 0, first_lost = 0, resent = 0, spurious = 0, lost_not_resent = 0;
	size_t j = 0;
	for (size_t i = 0; i < ntx;) {
		size_t k = i;
		int64_t t1 = tx[i].ts, t2 = INT64_MAX;
		bool first_arrived = false;

		while (k < ntx && tx[k].seq == tx[i].seq)
			k++;
		if (k - i >= 2)
			t2 = tx[i + 1].ts;
		while (j < nrx && rx[j].seq < tx[i].seq)
			j++;
		for (size_t r = j; r < nrx && rx[r].seq == tx[i].seq; r++)
			if (rx[r].ts >= t1 && rx[r].ts < t2)
				first_arrived = true;
		n++;
		first_lost += !first_arrived;
		resent += k - i >= 2;
		spurious += k - i >= 2 && first_arrived;
		lost_not_resent += !first_arrived && k - i < 2;
		i = k;
	}
	unsigned drops = (unsigned)(ntx - nrx);
	unsigned lo, hi, dlo, dhi, n0 = segments;

	tf_diag("netem", "loss %.3f%%: p = %.10f per packet (loss_event(), sch_netem.c)", percent, p);
	tf_diag("key_numbers", "{segments: %u, first_copies_lost: %u, segments_resent: %u, "
	        "spurious_resends: %u, transmissions: %zu, netem_drops: %u, drop_rate: %.4f}",
	        n, first_lost, resent, spurious, ntx, drops, ntx ? (double)drops / (double)ntx : 0.0);

	/* 1. netem.  Every transmission meets one fresh, independent draw; the
	 *    first copies of the segments are a selection made before their
	 *    draws, so among the first k segments the lost first copies are
	 *    Binomial(k, p) for every fixed k (Doob's optional skipping).  The
	 *    number of segments is len / MSS plus the partial segments the
	 *    socket's memory limit makes it push (tcp_push() on
	 *    wait_for_space) — it may depend on earlier draws, so the check
	 *    takes the union over every count allowed beforehand,
	 *    [n0, 1.25 n0]: each count at tail 1e-6 / (n0/4 + 1) per side,
	 *    2e-6 in all. */
	if (n < n0 || n > n0 + n0 / 4)
		tf_fail("%u segments for %u MSS of data: outside [%u, %u] allowed", n, n0, n0, n0 + n0 / 4);
	tf_must(tf_model_binomial_band(n, p, LOSS_TAIL / (n0 / 4 + 1), &lo, &hi));
	expect_count("first copies lost (Binomial(segments, p))", first_lost, lo, hi, n * p);
	/*    All transmissions alike: drops among the first k are Binomial(k,
	 *    p) for each k; the count is unknown beforehand (it grows with the
	 *    drops), so: at most 2 x segments (checked), union over
	 *    [segments, 2 x segments]. */
	if (ntx > 2 * (size_t)n)
		tf_fail("%zu transmissions for %u segments: more than twice", ntx, n);
	tf_must(tf_model_binomial_band((unsigned)ntx, p, LOSS_TAIL / (n + 1), &dlo, &dhi));
	expect_count("netem drops among all transmissions (Binomial(transmissions, p))", drops, dlo,
	             dhi, (double)ntx * p);
	/* 2. TCP.  Every segment whose first copy was lost went out again
	 *    (else the bytes above would differ); the segments sent more than
	 *    once are those plus any resent although they had arrived
	 *    (spurious): with SACK and RACK on a path that never reorders there
	 *    are none to speak of, so they fall in the same band. */
	tf_expect_int("segments whose lost first copy was never resent", lost_not_resent, 0);
	expect_count("segments sent more than once (Binomial(segments, p))", resent, lo, hi, n * p);
}

TF_CASE_F(imp, netem_loss_10pct, .timeout_s = 150,
          .proves = "random loss: TCP recovers every byte; retransmitted segments follow Binomial(n, p)")
{
	(void)variant;
	netem_loss(self, 10.0, 2000);
}

/* ------------------------------------------------------------------ */
/* (b) delay and jitter                                                */

#define DELAY_PORT 12351

/* One request/response round: one RTT sample at the client. */
static void round_trip(int cfd, int sfd)
{
	char buf[100];
	short rev;

	memset(buf, 'q', sizeof buf);
	tf_must(tf_sock_send_all(cfd, buf, sizeof buf));
	for (size_t got = 0; got < sizeof buf;) {
		tf_must(tf_sock_wait(sfd, POLLIN, 5000, &rev));
		ssize_t r = recv(sfd, buf, sizeof buf - got, 0);
		if (r <= 0)
			tf_fail("server recv: %s", r ? strerror(errno) : "EOF");
		got += (size_t)r;
	}
	tf_must(tf_sock_send_all(sfd, buf, sizeof buf));
	for (size_t got = 0; got < sizeof buf;) {
		tf_must(tf_sock_wait(cfd, POLLIN, 5000, &rev));
		ssize_t r = recv(cfd, buf, sizeof buf - got, 0);
		if (r <= 0)
			tf_fail("client recv: %s", r ? strerror(errno) : "EOF");
		got += (size_t)r;
	}
}

static long rto_jiffies(const struct tcp_info *ti)
{
	return (long)(((uint64_t)ti->tcpi_rto * tf_case_hz() + 999999) / 1000000);
}

/* mdev_us after each RTT sample, as TCP_INFO shows it: tcpi_rttvar =
 * mdev_us >> 2, so mdev_us is within [4r, 4r + 3]. */
#define MAX_ROUNDS 63
typedef struct mdev_log {
	uint32_t lo[MAX_ROUNDS + 1], hi[MAX_ROUNDS + 1];
	size_t n;
} mdev_log;

static void mdev_add(mdev_log *l, int cfd, struct tcp_info *ti)
{
	if (l->n > MAX_ROUNDS)
		tf_fail("more than %d rounds", MAX_ROUNDS);
	tf_must(tf_tcp_info(cfd, ti));
	l->lo[l->n] = 4 * ti->tcpi_rttvar;
	l->hi[l->n] = 4 * ti->tcpi_rttvar + 3;
	l->n++;
}

/*
 * tcpi_rto against the model with rttvar_us as tcp_rtt_estimator() kept it
 * over the samples (tf_model_rttvar_replay()), not its steady state: the
 * samples vary (jitter; a server process replying late: a 6.1 guest had
 * 75 jiffies where the steady state gives 73).  Leaves m with the
 * replayed rttvar_us whose RTO is the kernel's, if either is, for the
 * schedule.  Returns the lower replay; *steady_j: the steady state's RTO.
 */
static uint32_t check_rto_replayed(tf_model *m, const struct tcp_info *ti, uint32_t rto_min_us,
                                   const mdev_log *l, long *steady_j)
{
	uint32_t rv_lo, rv_hi;
	long lo_j, hi_j, kernel_j = rto_jiffies(ti);

	tf_must(tf_model_rttvar_replay(rto_min_us, l->lo, l->n, &rv_lo));
	tf_must(tf_model_rttvar_replay(rto_min_us, l->hi, l->n, &rv_hi));
	tf_must(tf_model_set_rtt(m, ti->tcpi_rtt, ti->tcpi_rttvar));
	*steady_j = (long)tf_model_rto_jiffies(m);
	tf_must(tf_model_set_rttvar_us(m, rv_lo));
	lo_j = (long)tf_model_rto_jiffies(m);
	/* srtt_us >> 3 drops up to 7/8 µs: one more µs at the top. */
	tf_must(tf_model_set_rtt(m, ti->tcpi_rtt + 1, ti->tcpi_rttvar));
	tf_must(tf_model_set_rttvar_us(m, rv_hi));
	hi_j = (long)tf_model_rto_jiffies(m);
	if (kernel_j != hi_j) {
		tf_must(tf_model_set_rtt(m, ti->tcpi_rtt, ti->tcpi_rttvar));
		tf_must(tf_model_set_rttvar_us(m, rv_lo));
	}
	tf_diag("rttvar_us", "kernel (replayed) %u..%u, steady-state model max(4 x tcpi_rttvar, "
	        "rto_min) %u (RTO %ld jiffies)", rv_lo, rv_hi,
	        4 * ti->tcpi_rttvar > rto_min_us ? 4 * ti->tcpi_rttvar : rto_min_us, *steady_j);
	if (lo_j == hi_j)
		tf_expect_int("RTO in jiffies: kernel (tcpi_rto) vs model (replayed rttvar)", kernel_j, lo_j);
	else
		expect_count("RTO in jiffies: kernel (tcpi_rto) vs model (replayed rttvar, rounding)",
		             kernel_j, lo_j, hi_j, (lo_j + hi_j) / 2.0);
	return rv_lo;
}

/*
 * The RTT samples the client's TCP took, per round, from its link: a data
 * segment sent once gives tcp_ack_update_rtt() the time from its
 * transmission to the first ACK that covers it, [lo, hi] = that on the
 * wire.  One sent again (a loss probe: the server replied late) gives, by
 * Karn's rule, the timestamp echo instead (tcp_rtt_tsopt_us(), whole ms),
 * from whichever transmission the server's ts_recent held: lo from the
 * last one - 1 ms, hi from the first + 1 ms.  *first_us: each round's ACK
 * after the first transmission.  Returns the rounds with an ACK.
 */
static size_t rtt_samples(tf_capture *cap, uint32_t lo_us[MAX_ROUNDS], uint32_t hi_us[MAX_ROUNDS],
                          int64_t first_us[MAX_ROUNDS], size_t *n_retx)
{
	int64_t t_first[MAX_ROUNDS], t_last[MAX_ROUNDS];
	uint32_t end[MAX_ROUNDS];
	unsigned ntx[MAX_ROUNDS];
	size_t n = 0, got = 0;

	*n_retx = 0;
	tf_must(tf_capture_read(cap));
	for (size_t i = 0; i < tf_capture_count(cap); i++) {
		const tf_pkt *d = tf_capture_pkt(cap, i);
		size_t k = 0;

		if (d->dport != DELAY_PORT || d->payload == 0)
			continue;
		while (k < n && end[k] != d->seq + d->payload)
			k++;
		if (k == n) {
			if (n == MAX_ROUNDS)
				break;
			end[n] = d->seq + d->payload;
			t_first[n] = d->ts_ns;
			ntx[n++] = 0;
		}
		t_last[k] = d->ts_ns;
		ntx[k]++;
	}
	for (size_t k = 0; k < n; k++) {
		for (size_t j = 0; j < tf_capture_count(cap); j++) {
			const tf_pkt *a = tf_capture_pkt(cap, j);

			if (a->ts_ns <= t_first[k] || a->sport != DELAY_PORT || !(a->flags & TF_TCP_ACK) ||
			    (int32_t)(a->ack - end[k]) < 0)
				continue;
			int64_t from_first = (a->ts_ns - t_first[k]) / 1000;
			int64_t from_last = (a->ts_ns - t_last[k]) / 1000;
			first_us[got] = from_first;
			lo_us[got] = (uint32_t)(ntx[k] > 1 ? (from_last > 1001 ? from_last - 1000 : 1)
			                                   : from_first);
			hi_us[got] = (uint32_t)(ntx[k] > 1 ? from_first + 1000 : from_first);
			*n_retx += ntx[k] > 1;
			got++;
			break;
		}
	}
	return got;
}

/* netem delay D on the path server -> client (the router's eth0): every
 * RTT sample is at least D (plus the server's reply time), so the smoothed
 * RTT goes to D from the handshake's sample as srtt += (m - srtt) / 8
 * (tcp_rtt_estimator(), replayed over the samples on the wire), the RTO
 * follows the model with rttvar_us replayed too, and so does the whole
 * retransmission schedule once a blackhole cuts the path. */
static void netem_delay(struct imp_fixture *self, uint32_t delay_us, unsigned rounds, long retries2)
{
	tf_topo *t = self->t;
	_cleanup_(tf_fault_freep) tf_fault *delay = NULL, *blackhole = NULL;
	_cleanup_(tf_netem_freep) tf_netem *ne = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_(tf_schedule_freep) tf_schedule *s = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	tf_host *client = self->client;
	struct tcp_info ti0, ti;
	mdev_log ml = { .n = 0 };
	long steady_j, rto_min_us = 200000;   /* TCP_RTO_MIN; a sysctl from 6.11 */
	tf_run run;

	tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_retries2", retries2));
	if (tf_host_sysctl_exists(client, "net.ipv4.tcp_rto_min_us"))
		tf_must(tf_host_sysctl_get_int(client, "net.ipv4.tcp_rto_min_us", &rto_min_us));
	/* Connected first: the handshake (and ARP or neighbour discovery) are
	 * not delayed. */
	tf_must(tf_tcp_pair(client, self->server, self->server_addr, DELAY_PORT, &cfd, &sfd));
	mdev_add(&ml, cfd, &ti0);
	tf_must(tf_netem_new(&ne));
	tf_must(tf_netem_set_delay(ne, delay_us));
	must_netem(tf_fault_netem(self->router, TF_IF_ROUTER_CLIENT, ne, &delay));
	tf_capture *cap = tf_case_capture(client, TF_IF_CLIENT, "tcp port 12351", "client");

	for (unsigned i = 0; i < rounds; i++) {
		round_trip(cfd, sfd);
		mdev_add(&ml, cfd, &ti);
	}

	/* The kernel's samples are on the wire (each ACK held D by netem, then
	 * however late the server's reply came: the server process's wake-up,
	 * not a rule); srtt is tcp_rtt_estimator() over them.  The slack
	 * covers the stack between the wire and the stamps. */
	uint32_t slo[MAX_ROUNDS], shi[MAX_ROUNDS], lo, hi, lo2, hi2, below = 0;
	int64_t first[MAX_ROUNDS];
	size_t n_retx, n = rtt_samples(cap, slo, shi, first, &n_retx);
	tf_expect_int("rounds with an ACK on the client's link (one RTT sample each)", (long)n,
	              (long)rounds);
	tf_diag("rounds_sent_again", "%zu  # a loss probe before the late reply: the kernel's "
	        "sample is the timestamp echo's (tcp_rtt_tsopt_us(), whole ms)", n_retx);
	for (size_t i = 0; i < n; i++)
		below += first[i] < delay_us;
	tf_expect_int("rounds acknowledged sooner than the delay after their data (netem holds every "
	              "reply D)", below, 0);
	if (n == 0)
		tf_fail("no RTT sample on the client's link");
	/* srtt rises with each sample: the low samples' low end, the high ones' high end */
	tf_must(tf_model_srtt_replay(ti0.tcpi_rtt, slo, n, &lo, &hi2));
	tf_must(tf_model_srtt_replay(ti0.tcpi_rtt, shi, n, &lo2, &hi));
	/* from the delay alone (every sample exactly D): for the report */
	double left = pow(7.0 / 8.0, rounds) * ((double)delay_us - (double)ti0.tcpi_rtt);
	tf_diag("srtt_model_us", "%u..%u from the %zu samples on the wire (tcp_rtt_estimator()); "
	        "%.0f if every sample were the delay", lo, hi, n, (double)delay_us - ceil(left));
	tf_expect_range("smoothed RTT (tcpi_rtt) after the delay: tcp_rtt_estimator() over the samples "
	                "on the wire", ti.tcpi_rtt, lo, hi);

	m = tf_case_model(client);
	check_rto_replayed(m, &ti, (uint32_t)rto_min_us, &ml, &steady_j);
	tf_must(tf_model_retrans(m, &s));

	tf_must(tf_fault_blackhole(self->router, tf_topo_cidr(t, TF_NODE_SERVER, self->family),
	                           &blackhole));
	const tf_sched_event *end = tf_schedule_event(s, tf_schedule_giveup(s));
	tf_must(tf_run_send(client, cfd, cap, "x", 1, (int)(end->at_hi_us / 1000) + 3000, &run));
	tf_check_schedule("retrans", s, run.tx_ns, run.n_tx, run.err_ns);
	tf_expect_errno("socket error", run.err, tf_schedule_errno(s));
	tf_diag("key_numbers", "{srtt_ms: %.1f, rto_ms: %.0f, giveup_s: %.2f}", ti.tcpi_rtt / 1e3,
	        ti.tcpi_rto / 1e3, run.err_ns >= 0 ? (run.err_ns - run.sent_ns) / 1e9 : -1.0);
}

TF_CASE_F(imp, netem_delay_50ms_rto, .timeout_s = 40,
          .proves = "50 ms of delay: srtt follows it, RTO = srtt + rto_min, and the retransmission schedule the model's")
{
	(void)variant;
	netem_delay(self, 50000, 20, 3);
}

/* netem delay D ± J (uniform, tabledist() without a table) on the path
 * server -> client, and a 10 ms rto_min (route metric, locked) so that
 * the variance, not the floor, decides the RTO.  One sample per round
 * trip; after each, TCP_INFO gives mdev_us (4 x tcpi_rttvar); the model
 * replays tcp_rtt_estimator() over them for the kernel's rttvar_us, which
 * jitter leaves above its steady-state value. */
static void netem_jitter(struct imp_fixture *self, uint32_t delay_us, uint32_t jitter_us, unsigned rounds)
{
	tf_topo *t = self->t;
	_cleanup_(tf_fault_freep) tf_fault *delay = NULL;
	_cleanup_(tf_netem_freep) tf_netem *ne = NULL;
	_cleanup_(tf_model_freep) tf_model *m = NULL;
	_cleanup_close_ int cfd = -1, sfd = -1;
	tf_host *client = self->client;
	const uint32_t rto_min_us = 10000;
	struct tcp_info ti;
	mdev_log ml = { .n = 0 };
	long steady_j;

	/* the family's default route, via the router's address on the link */
	tf_must(tf_route_set_rto_min(client, "default",
	                             tf_topo_addr(t, TF_NODE_ROUTER_CLIENT, self->family),
	                             TF_IF_CLIENT, rto_min_us / 1000));
	tf_must(tf_tcp_pair(client, self->server, self->server_addr, DELAY_PORT, &cfd, &sfd));
	mdev_add(&ml, cfd, &ti);
	tf_must(tf_netem_new(&ne));
	tf_must(tf_netem_set_delay(ne, delay_us));
	tf_must(tf_netem_set_jitter(ne, jitter_us));
	must_netem(tf_fault_netem(self->router, TF_IF_ROUTER_CLIENT, ne, &delay));

	for (unsigned i = 1; i <= rounds; i++) {
		round_trip(cfd, sfd);
		mdev_add(&ml, cfd, &ti);
	}

	m = tf_case_model(client);
	tf_must(tf_model_set_rto_min_us(m, rto_min_us));  /* the route's locked metric wins */
	uint32_t rv_lo = check_rto_replayed(m, &ti, rto_min_us, &ml, &steady_j);
	/* Jitter widens the variance past the 10 ms floor. */
	char what[160];
	snprintf(what, sizeof what, "rttvar_us %u above the %u us floor (jitter widens it); 1 = yes",
	         rv_lo, rto_min_us);
	tf_expect_int(what, rv_lo > rto_min_us, 1);
	tf_diag("key_numbers", "{srtt_ms: %.1f, rttvar_ms: %.1f, rto_ms: %.0f, steady_state_rto_ms: %.0f}",
	        ti.tcpi_rtt / 1e3, rv_lo / 1e3, ti.tcpi_rto / 1e3, steady_j * 1000.0 / tf_case_hz());
}

TF_CASE_F(imp, netem_jitter_rttvar, .timeout_s = 40,
          .proves = "50 ± 20 ms of jitter: rttvar_us as tcp_rtt_estimator() keeps it decides the RTO")
{
	(void)variant;
	netem_jitter(self, 50000, 20000, 30);
}

/* ------------------------------------------------------------------ */
/* (c) rate limit: token bucket                                        */

#define RATE_PORT 12352

/* Why a segment went out again although tbf dropped nothing: the host's
 * TcpExt drop counters (its netns's /proc/net/netstat, read from inside
 * it), for the YAML only — the premise check itself stays as it is. */
struct netstat_read {
	char out[512];
};

static int read_tcpext_drops(void *arg)
{
	static const char *const keys[] = { "TCPRcvQDrop", "TCPBacklogDrop", "TCPOFODrop",
	                                    "PruneCalled", "RcvPruned", "TCPZeroWindowDrop",
	                                    "TCPSackRecovery", "TCPLossProbes", "TCPTimeouts" };
	struct netstat_read *nr = arg;
	char names[8192] = "", values[8192] = "", line[8192];
	FILE *f = fopen("/proc/thread-self/net/netstat", "re");
	size_t used = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "TcpExt:", 7) != 0)
			continue;
		if (!names[0])
			snprintf(names, sizeof names, "%s", line + 7);
		else
			snprintf(values, sizeof values, "%s", line + 7);
	}
	fclose(f);
	char *sn = NULL, *sv = NULL;
	for (char *n = strtok_r(names, " \n", &sn), *v = strtok_r(values, " \n", &sv); n && v;
	     n = strtok_r(NULL, " \n", &sn), v = strtok_r(NULL, " \n", &sv))
		for (size_t i = 0; i < TF_ARRAY_SIZE(keys); i++)
			if (strcmp(n, keys[i]) == 0 && strcmp(v, "0") != 0 && used < sizeof nr->out)
				used += (size_t)snprintf(nr->out + used, sizeof nr->out - used, "%s%s=%s",
				                         used ? " " : "", n, v);
	return 0;
}

static void diag_tcpext_drops(tf_host *h, const char *key)
{
	struct netstat_read nr = { "" };

	if (tf_host_run(h, read_tcpext_drops, &nr) == 0)
		tf_diag(key, "%s", nr.out[0] ? nr.out : "none of the drop/recovery counters moved");
}

/* One transfer through the bucket, captured on both sides of the router:
 * the data frames in (arrival) and out (departure) order. */
struct tbf_run {
	int cfd, sfd;
	struct seg *in, *out;
	size_t nin, nout;
	/* In departure order, as qdisc_pkt_len() counts (IP length +
	 * Ethernet header): all bytes, the largest frame, and the steady
	 * window — from out[k0], the first departure after burst + 2 frames
	 * (cum bytes, k0 included: the bucket is empty), to the last. */
	uint64_t total, lmax, cum;
	size_t k0;
	size_t dry;          /* departures in the steady window after which the next
	                      * frame had not arrived */
	int64_t last_ns;     /* the last departure */
};

static void tbf_run_free(struct tbf_run *t)
{
	if (t->cfd >= 0)
		close(t->cfd);
	if (t->sfd >= 0)
		close(t->sfd);
	free(t->in);
	free(t->out);
	*t = (struct tbf_run){ .cfd = -1, .sfd = -1 };
}

static void tbf_transfer(struct imp_fixture *self, uint64_t rate, uint32_t burst, size_t len,
                         struct tbf_run *t)
{
	tf_host *router = self->router;
	struct xfer x;
	tf_flow f;
	uint32_t isn1;

	tf_must(tf_tcp_pair(self->client, self->server, self->server_addr, RATE_PORT, &t->cfd, &t->sfd));
	expect_family_mss(self, t->cfd);
	tf_must(tf_sock_flow(t->cfd, &f));
	tf_capture *ci = tf_case_capture(router, TF_IF_ROUTER_CLIENT, "tcp port 12352", "router-in");
	tf_capture *co = tf_case_capture(router, TF_IF_ROUTER_SERVER, "tcp port 12352", "router-out");

	transfer(t->cfd, t->sfd, len, (int)(len * 1000 / rate) + 20000, &x);
	tf_expect_int("bytes the server read", (long)x.received, (long)len);
	tf_expect_int("bytes that differ from what was sent", (long)x.bad, 0);
	if (!x.done)
		tf_fail("transfer incomplete: %zu of %zu bytes", x.received, len);
	expect_capture_complete(ci, "router-in");
	expect_capture_complete(co, "router-out");
	tf_must(tf_case_first_data(ci, &f, 0, &isn1));
	t->in = data_frames(ci, &f, isn1, &t->nin);
	t->out = data_frames(co, &f, isn1, &t->nout);
	qsort(t->out, t->nout, sizeof *t->out, ts_cmp);
	qsort(t->in, t->nin, sizeof *t->in, ts_cmp);
	t->total = t->lmax = t->cum = 0;
	for (size_t k = 0; k < t->nout; k++) {
		t->total += t->out[k].wire;
		t->lmax = t->out[k].wire > t->lmax ? t->out[k].wire : t->lmax;
	}
	for (t->k0 = 0; t->k0 < t->nout; t->k0++) {
		t->cum += t->out[t->k0].wire;
		if (t->cum > burst + 2 * t->lmax)
			break;
	}
	/* in the steady window: the burst's frames leave as they come */
	t->dry = 0;
	for (size_t k = t->k0, a = 0; k + 1 < t->nout; k++) {
		while (a < t->nin && t->in[a].ts < t->out[k].ts)
			a++;
		t->dry += a <= k + 1;   /* frames k+1 .. had not arrived */
	}
	t->last_ns = t->nout ? t->out[t->nout - 1].ts : 0;
}

/*
 * tbf at rate R with a bucket of B bytes on the router's eth1, and a queue
 * limit larger than the transfer, so nothing is dropped.  From the
 * captures on both sides of the router: the whole transfer takes
 * (bytes - B) / R from the first departure (the bucket was full), and,
 * once the burst is spent, bytes leave at exactly R — while TCP keeps the
 * queue full.  Under load the sender's ACK clock can lag and the queue run
 * dry; tbf_dequeue() then loses the tokens past the bucket and departures
 * wait (the kernel's rule: a CI run, 22 dry departures, 1.2 % slow).
 * That premise is checked on the wire, and the transfer set up again when
 * it failed (issue 10); if it never held, only what holds whatever the
 * sender did is asserted.
 */
#define TBF_ATTEMPTS 3

static void tbf_rate(struct imp_fixture *self, uint64_t rate, uint32_t burst, size_t len)
{
	_cleanup_(tf_fault_freep) tf_fault *tbf = NULL;
	tf_host *client = self->client, *router = self->router;
	struct tbf_run t = { .cfd = -1, .sfd = -1 };
	unsigned attempt;
	int r;

	offload_off(client, TF_IF_CLIENT);
	/* No tail loss probes: a probe is the sender's guess at a loss when
	 * no ACK came for 2 x srtt; with the CPUs busy the ACK clock can lag
	 * that much (one spurious probe seen in a loaded concurrent run) and
	 * the "nothing resent" premise would hang on the scheduler.  The RTO
	 * (>= 200 ms) stays; tbf drops nothing here (queue limit 2 x the
	 * transfer), so any retransmission left is still a failure. */
	tf_must(tf_host_sysctl_set_int(client, "net.ipv4.tcp_early_retrans", 0));
	r = tf_fault_rate(router, TF_IF_ROUTER_SERVER, rate, burst, 2 * (uint32_t)len, &tbf);
	if (r == -EOPNOTSUPP)
		TF_SKIP("sch_tbf not available");
	tf_must(r);
	for (attempt = 1;; attempt++) {
		tbf_transfer(self, rate, burst, len, &t);
		if (t.dry == 0 || attempt == TBF_ATTEMPTS || t.nout != t.nin)
			break;
		tf_note("transfer %u: the queue ran dry after %zu departures (the sender lagged): set up again",
		        attempt, t.dry);
		int64_t full_ns = t.last_ns + 2 * (int64_t)((uint64_t)burst * 1000000000ULL / rate);
		tbf_run_free(&t);
		/* the bucket refills by time alone: nothing to wait on but the
		 * clock, twice its refill after the last departure */
		while (tf_now_ns() < full_ns)
			poll(NULL, 0, (int)((full_ns - tf_now_ns()) / 1000000) + 1);
	}
	tf_diag("transfers", "%u  # the last one is checked; a queue that ran dry is set up again", attempt);
	struct seg *in = t.in, *out = t.out;
	size_t nin = t.nin, nout = t.nout;

	/* The premise: nothing dropped, nothing resent (the queue limit is
	 * twice the transfer). */
	tf_expect_int("data frames out of the router vs in", (long)nout, (long)nin);
	size_t distinct = 0;
	for (size_t i = 0; i < nout; i++)
		distinct += i == 0 || out[i].seq != out[i - 1].seq;
	if (!tf_expect_int("retransmitted frames", (long)(nout - distinct), 0)) {
		diag_tcpext_drops(self->server, "server_tcpext");
		diag_tcpext_drops(client, "client_tcpext");
	}
	if (nout < 2 || nout != nin) {
		tbf_run_free(&t);
		tf_fail("no data left the router, or the two captures differ");
	}

	const uint64_t total = t.total, lmax = t.lmax;
	const size_t k0 = t.k0;
	/* The first frame leaves at once; the rest need (total - burst) / R. */
	uint64_t model_us;
	tf_must(tf_model_tbf_time_us(rate, burst, total, &model_us));
	int64_t span_us = (out[nout - 1].ts - out[0].ts) / 1000;
	tf_diag("queue_dry_departures", "%zu  # departures after which the next frame had not yet arrived",
	        t.dry);
	/* The bucket given when each frame reached the router (its ingress
	 * stamp: no later than the qdisc saw it; the first frame's, its
	 * departure, the bucket being full): the earliest departures the
	 * rule allows, whatever the sender did. */
	_cleanup_free_ int64_t *arr = calloc(nout, sizeof *arr), *dep = calloc(nout, sizeof *dep);
	_cleanup_free_ uint32_t *lens = calloc(nout, sizeof *lens);
	if (!arr || !dep || !lens)
		tf_fail("out of memory");
	for (size_t k = 0; k < nout; k++) {
		arr[k] = k == 0 ? out[0].ts : in[k].ts > arr[k - 1] ? in[k].ts : arr[k - 1];
		lens[k] = out[k].wire;
	}
	tf_must(tf_model_tbf_departures(rate, burst, arr, lens, nout, dep));
	int64_t given_us = (dep[nout - 1] - dep[0]) / 1000;
	tf_diag("span_given_arrivals_ms", "%.3f  # tf_model_tbf_departures() on the ingress stamps", given_us / 1e3);

	/* Steady state: from the first departure after `burst` bytes (the
	 * bucket is empty) to the last, every frame waits for its tokens,
	 * (bytes after it) / R, up to the tokens left when it went, less than
	 * one frame. */
	if (k0 >= nout)
		tf_fail("the transfer fits the burst: no steady window");
	uint64_t after = total - t.cum;
	int64_t win_us = (out[nout - 1].ts - out[k0].ts) / 1000;
	int64_t exp_us = (int64_t)(after * 1000000 / rate);
	if (t.dry == 0) {
		/* departures wait for the qdisc watchdog (an hrtimer, then
		 * NET_TX): kernel timers */
		tf_expect_timer_time("first to last departure (tbf, bucket full at the start)", span_us,
		                     (int64_t)model_us, (int64_t)model_us, (int64_t)model_us);
		/* the same watchdog: one late beyond what the bucket's
		 * tokens catch up is lost to the window (a CI prove run:
		 * a 102 ms stall, the window 65 ms past its edge) */
		tf_expect_timer_time("steady window: departures at the token rate", win_us, exp_us,
		                     exp_us - (int64_t)(lmax * 1000000 / rate), exp_us);
	} else {
		tf_note("the queue ran dry in all %u transfers: only the lower bound holds (departures "
		        "no earlier than the bucket allows, given the arrivals)", attempt);
		tf_expect_range("first to last departure, no earlier than the bucket allows given the "
		                "measured arrivals (high edge: the transfer's deadline)", span_us, given_us,
		                (int64_t)(len * 1000000 / rate) + 20000000);
	}

	double rate_meas = win_us > 0 ? (double)after * 1e6 / (double)win_us : 0.0;
	tf_diag("throughput", "%.0f B/s in the steady window, %+.2f %% from the %" PRIu64 " B/s configured",
	        rate_meas, 100.0 * (rate_meas - (double)rate) / (double)rate, rate);
	tf_diag("key_numbers", "{rate_Bps: %" PRIu64 ", measured_Bps: %.0f, burst_B: %u, wire_bytes: %" PRIu64
	        ", span_s: %.3f, model_span_s: %.3f}",
	        rate, rate_meas, burst, total, span_us / 1e6, model_us / 1e6);
	tbf_run_free(&t);
}

TF_CASE_F(imp, tbf_rate_1MBps, .timeout_s = 60,
          .proves = "a 1 MB/s token bucket: a bulk transfer takes (bytes - burst) / rate, the burst accounted")
{
	(void)variant;
	tbf_rate(self, 1000000, 32000, 2000000);
}
