/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate exec: what the kernel alone would have done, and the verdict.
 *
 * Which of the kernel's schedules decides (retransmission, SYN, keepalive,
 * none) comes from the client's socket as sock_diag saw it at the fault;
 * where the schedule starts comes from the capture; the numbers come from
 * tf_model (lib/), built from the client host's sysctls and the socket's
 * own options.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "exec_private.h"
#include "tf_sandbox.h"
#include "tf_util.h"

/* --- the model --- */

/* The runner's rule (tf_slack_us()): one jiffy, as a timer's softirq can
 * be deferred to the next tick, plus 2 ms for wake-up and capture; added
 * to each side of the model's band.  TF_SLACK_US overrides. */
int64_t tf_exec_slack_us(unsigned hz)
{
	const char *e = getenv("TF_SLACK_US");
	long v;

	if (e && tf_parse_long(e, 0, 10000000, &v) == 0)
		return v;
	return hz ? tf_model_default_slack_us(hz) : 12000;
}

int64_t tf_exec_exit_allowance_us(const struct tf_exec_result *res)
{
	const char *e = getenv("TF_EXEC_EXIT_MS");
	long v;

	return (e && tf_parse_long(e, 0, 100000, &v) == 0 ? v : EXIT_ALLOWANCE_MS) * 1000 +
	       tf_exec_startup_us(res) + 2 * res->wake_max_us;
}

int64_t tf_exec_startup_us(const struct tf_exec_result *res)
{
	int64_t us;

	if (res->client_start_ns < 0 || res->client_syn_ns < res->client_start_ns)
		return 0;
	us = (res->client_syn_ns - res->client_start_ns) / 1000;
	return us < EXIT_STARTUP_CAP_MS * 1000 ? us : EXIT_STARTUP_CAP_MS * 1000;
}

/* A model with HZ and the client host's sysctls, then the socket's own
 * options when we could read them. */
static int model_for_client(struct tf_exec_run *R, tf_model **ret)
{
	tf_model *m = NULL;
	int r;

	if ((r = tf_model_new(&m)) < 0)
		return r;
	if ((r = tf_model_set_from_host(m, tf_topo_client(R->t))) < 0 ||
	    (r = tf_model_set_hz(m, R->res->hz)) < 0)
		goto fail;
	if (R->res->w.knobs && (r = tf_model_set_from_sock(m, &R->res->w.k, NULL)) < 0)
		goto fail;
	if (R->res->w.have && R->res->w.first.has_info &&
	    (r = tf_model_set_from_sock(m, NULL, &R->res->w.first.info)) < 0)
		goto fail;
	/* A pulled cable: the next hop's ARP fails, the error is EHOSTUNREACH. */
	if (R->o->fault->kind == FK_CABLE && (r = tf_model_set_neigh_failed(m, true)) < 0)
		goto fail;
	*ret = m;
	return 0;
fail:
	tf_model_free(m);
	return r;
}

const char *tf_exec_mkind_name(enum mkind k)
{
	if (k == MK_ZERO_WINDOW)
		return "zero-window";
	switch (k) {
	case MK_RETRANS: return "retrans";
	case MK_SYN: return "syn";
	case MK_KEEPALIVE: return "keepalive";
	case MK_NEVER: return "never";
	case MK_NA: return "not applicable";
	default: return "none";
	}
}

static bool pkt_in(const tf_pkt *p, const tf_flow *f)
{
	return p->proto == IPPROTO_TCP && tf_flow_addr_eq(p, f) && p->sport == f->sport &&
	       p->dport == f->dport;
}

/*
 * From the capture of the watched flow: the highest ACK the server sent
 * (the client's snd_una), and the last segment the client received before
 * its first keepalive probe (a segment at snd_una - 1 carrying at most one
 * byte, tcp_write_wakeup()): where keepalive_time_elapsed() counts from.
 */
static bool last_ack(const struct tf_exec_run *R, const tf_flow *f, uint32_t *ack,
                     int64_t *last_rx_ns)
{
	tf_flow rf = tf_flow_reverse(*f);
	bool have = false;
	size_t n = tf_capture_count(R->cap);

	*last_rx_ns = -1;
	for (size_t i = 0; i < n; i++) {
		const tf_pkt *p = tf_capture_pkt(R->cap, i);

		if (!pkt_in(p, &rf) || !(p->flags & TF_TCP_ACK))
			continue;
		if (!have || (int32_t)(p->ack - *ack) > 0)
			*ack = p->ack;
		have = true;
	}
	for (size_t i = 0; have && i < n; i++) {
		const tf_pkt *p = tf_capture_pkt(R->cap, i);

		if (pkt_in(p, &rf))
			*last_rx_ns = p->ts_ns;
		else if (pkt_in(p, f) && p->seq == *ack - 1 && p->payload <= 1 &&
		         !(p->flags & (TF_TCP_SYN | TF_TCP_FIN | TF_TCP_RST)))
			break;   /* the first keepalive probe */
	}
	return have;
}

/*
 * Segments in flight (tcp_skb_pcount() summed: bytes / MSS, rounded up)
 * when the head was first retransmitted: what tcp_schedule_loss_probe()
 * saw.  It picks the probe timeout: one segment out waits rto_min, more
 * wait TCP_TIMEOUT_MIN (net/ipv4/tcp_output.c) — a knob, like srtt.
 */
static unsigned in_flight(const struct tf_exec_run *R, const tf_flow *f, uint32_t una,
                          int64_t before_ns)
{
	uint32_t far = 0;
	unsigned mss = R->res->w.first.has_info && R->res->w.first.info.tcpi_snd_mss ?
	               R->res->w.first.info.tcpi_snd_mss : 1448;

	for (size_t i = 0; i < tf_capture_count(R->cap); i++) {
		const tf_pkt *p = tf_capture_pkt(R->cap, i);
		uint32_t end;

		if (p->ts_ns >= before_ns)
			break;
		if (p->proto != IPPROTO_TCP || !tf_flow_addr_eq(p, f) || p->sport != f->sport ||
		    p->dport != f->dport || !p->payload)
			continue;
		end = p->seq + p->payload - una;
		if ((int32_t)end > 0 && end > far)
			far = end;
	}
	return far ? (far + mss - 1) / mss : 1;
}

static bool is_probe(const tf_pkt *p, const tf_flow *f, uint32_t una)
{
	return pkt_in(p, f) && p->seq == una - 1 && !p->payload &&
	       !(p->flags & (TF_TCP_SYN | TF_TCP_FIN | TF_TCP_RST));
}

/* A zero-window give-up: the model's band from `origin` (a packet's stamp). */
static void zw_result(struct tf_exec_model *M, const char *why, int64_t origin, const char *what,
                      const tf_band *b, int err)
{
	M->kind = MK_ZERO_WINDOW;
	M->why = why;
	M->origin_ns = origin;
	M->origin_what = what;
	M->origin_approx = false;
	M->at_us = b->mid_us;
	M->lo_us = b->lo_us;
	M->hi_us = b->hi_us;
	M->err = err;
	M->have = true;
}

/*
 * The peer gone silent behind a zero window, no TCP_USER_TIMEOUT
 * (tf_model_zero_window_silent()): from its last zero-window answer before
 * the fault, with the backoff the probes answered since the window closed
 * left (a segment opening the window resets it: tcp_ack_probe()).
 */
static void zero_window_silent(struct tf_exec_run *R, struct tf_exec_model *M)
{
	const struct tf_exec_watch *w = &R->res->w;
	tf_flow rf = tf_flow_reverse(w->flow);
	int64_t answer = -1, last_rx;
	unsigned probes = 0, b0 = 0;
	uint32_t una = 0;
	long r2;
	tf_band b;

	M->kind = MK_NA;
	M->why = "not modelled: the peer went silent behind a zero window, and its last "
	         "zero-window answer is not on the capture";
	if (!R->cap || !last_ack(R, &w->flow, &una, &last_rx))
		return;
	for (size_t i = 0; i < tf_capture_count(R->cap); i++) {
		const tf_pkt *p = tf_capture_pkt(R->cap, i);

		if (p->ts_ns >= R->res->fault_ns)
			break;
		if (pkt_in(p, &rf)) {
			if (p->win) {
				probes = 0;
				answer = -1;
			} else {
				answer = p->ts_ns;
				b0 = probes;
			}
		} else if (is_probe(p, &w->flow, una)) {
			probes++;
		}
	}
	if (answer < 0)
		return;
	if (tf_host_sysctl_get_int(tf_topo_client(R->t), "net.ipv4.tcp_retries2", &r2) < 0 ||
	    r2 < 0 || r2 > 255 || (!R->m && model_for_client(R, &R->m) < 0) ||
	    tf_model_zero_window_silent(R->res->hz ? R->res->hz : 250, tf_model_rto_jiffies(R->m),
	                                (unsigned)r2, b0 < r2 ? b0 : (unsigned)r2, &b) < 0) {
		M->why = "the model refused the knobs";
		return;
	}
	zw_result(M, "the peer gone silent behind a zero window: tcp_probe_timer() gives up at the "
	          "tcp_retries2 + 1-th expiry after its last answer (tf_model_zero_window_silent())",
	          answer, "the server's last zero-window answer", &b, ETIMEDOUT);
}

/*
 * Data waiting behind a zero window (tf_model_zero_window_fate()): an
 * answering peer (the stopped server's kernel) is probed forever unless
 * the socket has TCP_USER_TIMEOUT, which ends it counted from the first
 * probe (icsk_probes_tstamp), cut at the last re-arm: the latest probe or
 * zero-window answer before the client ended.  A probe is a segment at
 * snd_una - 1 without data (tcp_xmit_probe_skb()).
 */
static void zero_window(struct tf_exec_run *R, struct tf_exec_model *M, bool answers)
{
	const struct tf_exec_watch *w = &R->res->w;
	int64_t first = -1, rearm = -1, end = R->res->client_done ? R->res->client_exit_ns : INT64_MAX;
	tf_zero_window_fate z;
	uint32_t una = 0;
	int64_t last_rx;
	int r;

	M->kind = MK_NA;
	if (!w->knobs) {
		M->why = "not modelled: a zero window, and the client's TCP_USER_TIMEOUT was not readable";
		return;
	}
	r = tf_model_zero_window_fate(R->res->hz ? R->res->hz : 250, (uint32_t)w->k.user_timeout_ms,
	                              answers, 0, &z);
	if (r == -EOPNOTSUPP) {
		zero_window_silent(R, M);
		return;
	}
	if (r < 0) {
		M->why = "the model refused the knobs";
		return;
	}
	if (z.never) {
		M->kind = MK_NEVER;
		M->why = "a zero window with a live peer: the stopped server's kernel answers every "
		         "probe and tcp_probe_timer() gives up only with TCP_USER_TIMEOUT";
		return;
	}
	if (R->cap && last_ack(R, &w->flow, &una, &last_rx)) {
		tf_flow rf = tf_flow_reverse(w->flow);
		bool shut = false;   /* a keepalive probe has a zero-window probe's shape */

		for (size_t i = 0; i < tf_capture_count(R->cap); i++) {
			const tf_pkt *p = tf_capture_pkt(R->cap, i);

			if (p->ts_ns >= end)
				break;
			if (pkt_in(p, &rf))
				shut = p->win == 0 && !(p->flags & (TF_TCP_SYN | TF_TCP_RST));
			if (shut && is_probe(p, &w->flow, una)) {
				if (first < 0)
					first = p->ts_ns;
				rearm = p->ts_ns;
			} else if (first >= 0 && pkt_in(p, &rf) && p->win == 0) {
				rearm = p->ts_ns;
			}
		}
	}
	if (first < 0) {
		M->why = "a zero window with TCP_USER_TIMEOUT, but no zero-window probe on the capture";
		return;
	}
	r = tf_model_zero_window_fate(R->res->hz ? R->res->hz : 250, (uint32_t)w->k.user_timeout_ms,
	                              answers, (rearm - first) / 1000, &z);
	if (r < 0) {
		M->why = "the model refused the knobs";
		return;
	}
	zw_result(M, "data behind a zero window, TCP_USER_TIMEOUT counted from the first probe "
	          "(tf_model_zero_window_fate(), tcp_probe_timer())",
	          first, "the first zero-window probe", &z.band, z.err);
}

/* A zero-window probe of the watched flow after the fault on the
 * capture: the probe timer ran even if no 100 ms sample caught it.  A
 * keepalive probe has the same shape (seq snd_una - 1, tcp_write_wakeup()
 * and tcp_xmit_probe_skb() alike): only a probe sent while the server's
 * last segment advertised a zero window is the probe timer's. */
static bool zw_probed(const struct tf_exec_run *R)
{
	const struct tf_exec_watch *w = &R->res->w;
	tf_flow rf = tf_flow_reverse(w->flow);
	uint32_t una = 0;
	int64_t last_rx;
	bool shut = false;

	if (!R->cap || !last_ack(R, &w->flow, &una, &last_rx))
		return false;
	for (size_t i = 0; i < tf_capture_count(R->cap); i++) {
		const tf_pkt *p = tf_capture_pkt(R->cap, i);

		if (pkt_in(p, &rf))
			shut = p->win == 0 && !(p->flags & (TF_TCP_SYN | TF_TCP_RST));
		else if (shut && p->ts_ns >= R->res->fault_ns && is_probe(p, &w->flow, una))
			return true;
	}
	return false;
}

/* Which of the kernel's schedules ran after the fault, from where. */
static void model_decide(struct tf_exec_run *R, struct tf_exec_model *M)
{
	const struct tf_exec_watch *w = &R->res->w;
	enum fault_kind fk = R->o->fault->kind;
	size_t idx[256];

	memset(M, 0, sizeof *M);
	M->rst_ns = -1;
	M->origin_ns = R->res->fault_ns;
	M->origin_what = "the fault";
	if (fk == FK_KILL) {
		M->kind = MK_NA;
		M->why = "the server's kernel answers (FIN, then RST): no timer decides";
		return;
	}
	if (fk == FK_STOP && !(w->have && ((w->timers & (1u << TF_TIMER_PROBE0)) ||
	                                   zw_probed(R)))) {
		M->kind = MK_NA;
		M->why = "the server's kernel still ACKs: TCP sees a healthy, silent peer";
		return;
	}
	if (fk == FK_SLOW) {
		/* a live peer that keeps reopening the window:
		 * tf_model_slow_reader_fate() */
		tf_slow_reader_fate f;
		uint32_t ut = w->knobs && w->k.user_timeout_ms > 0 ? (uint32_t)w->k.user_timeout_ms : 0;

		(void)tf_model_slow_reader_fate(ut, &f);   /* -EINVAL only for NULL */
		M->kind = f.never ? MK_NEVER : MK_NA;
		M->why = f.rule;
		return;
	}
	if (fk == FK_LOSS || fk == FK_DELAY || fk == FK_NONE) {
		M->kind = MK_NA;
		M->why = fk == FK_NONE ? "no fault" : "loss and delay do not end a connection";
		return;
	}
	if (!w->have) {
		M->kind = MK_NA;
		M->why = "the client had no connection to the server after the fault";
		return;
	}
	/* Which timer runs (tf_model_which_schedule()): data outstanding at
	 * the fault, or retransmitted later (an idle client that spoke
	 * again), means the retransmission timer. */
	if (fk == FK_STOP) {
		/* The stopped reader's buffer filled: the window closed. */
		zero_window(R, M, true);
		return;
	}
	tf_sock_timers st = { .state = w->first.state, .timer = w->first.timer,
		.timers_seen = w->timers, .have_unacked = w->first.has_info,
		.unacked = w->first.has_info ? w->first.info.tcpi_unacked : 0,
		.wqueue = w->first.wqueue, .keepalive = w->knobs ? (w->k.keepalive != 0) : -1 };
	switch (tf_model_which_schedule(&st)) {
	case TF_SCHED_SYN:       M->kind = MK_SYN; break;
	case TF_SCHED_RETRANS:   M->kind = MK_RETRANS; break;
	case TF_SCHED_KEEPALIVE: M->kind = MK_KEEPALIVE; break;
	case TF_SCHED_NEVER:     M->kind = MK_NEVER; break;
	case TF_SCHED_ZERO_WINDOW:
		/* The peer went away while the window was shut. */
		zero_window(R, M, false);
		return;
	case TF_SCHED_OTHER:
	default:
		M->kind = MK_NA;
		M->why = "the client's connection was neither connecting nor established at the fault";
		return;
	}
	enum mkind k = M->kind;
	/* Data in flight under a pulled cable: the client's own neighbour
	 * entry for the router fails (tf_model_local_link_failure(), in
	 * model_compute()); its origin is the head's first transmission, as
	 * for a silent peer. */
	if (fk == FK_MTU && k == MK_KEEPALIVE) {
		M->kind = MK_NA;
		M->why = "keepalive probes are small: they cross the MTU black hole and are answered";
		return;
	}
	if (k == MK_NEVER) {
		M->why = "idle, without keepalive: no timer runs, the kernel never notices";
		return;
	}

	/* The origin of the schedule, from the capture when it saw it. */
	M->origin_approx = true;
	if (R->cap) {
		if (k == MK_SYN) {
			size_t n = tf_capture_syns(R->cap, &w->flow, idx, TF_ARRAY_SIZE(idx));
			if (n) {
				M->origin_ns = tf_capture_pkt(R->cap, idx[0])->ts_ns;
				M->origin_what = "the first SYN";
				M->origin_approx = false;
				M->tx_measured = (long)n;
			}
		} else {
			uint32_t una = 0;
			int64_t last_rx = -1;
			if (last_ack(R, &w->flow, &una, &last_rx)) {
				if (k == MK_RETRANS) {
					size_t n = tf_capture_tx_of(R->cap, &w->flow, una, idx,
					                            TF_ARRAY_SIZE(idx));
					if (n) {
						M->origin_ns = tf_capture_pkt(R->cap, idx[0])->ts_ns;
						M->origin_what = "the first transmission of the "
						                 "unacknowledged data";
						M->origin_approx = false;
						M->tx_measured = (long)n;
						M->packets_out = in_flight(R, &w->flow, una,
						        n > 1 ? tf_capture_pkt(R->cap, idx[1])->ts_ns
						              : INT64_MAX);
					}
				} else if (k == MK_KEEPALIVE && last_rx >= 0) {
					M->origin_ns = last_rx;
					M->origin_what = "the last segment the client received";
					M->origin_approx = false;
				}
				/* Giving up on keepalive sends a RST (tcp_keepalive_timer()
				 * -> tcp_send_active_reset()): the kernel's own moment. */
				for (size_t i = 0; k == MK_KEEPALIVE && i < tf_capture_count(R->cap); i++) {
					const tf_pkt *p = tf_capture_pkt(R->cap, i);
					if (pkt_in(p, &w->flow) && (p->flags & TF_TCP_RST) &&
					    p->ts_ns >= R->res->fault_ns) {
						M->rst_ns = p->ts_ns;
						break;
					}
				}
			}
		}
	}
	if (M->origin_approx && k == MK_KEEPALIVE && w->first.has_info) {
		/* tcpi_last_ack_recv: ms since the last ACK the socket received. */
		M->origin_ns = w->first_ns - (int64_t)w->first.info.tcpi_last_ack_recv * MS;
		M->origin_what = "the last segment received (tcp_info)";
	}
}

/*
 * A cable pulled with data in flight: the client's own neighbour entry for
 * the router is flushed and every resolution fails; the knobs are the
 * client's own (net.ipv4.neigh.eth0.* or net.ipv6.neigh.eth0.*), kept for
 * the report (one run per process).
 */
static struct {
	bool have;
	tf_neigh_params p;
	long lo_disable_ipv6;        /* IPv6: the client's lo drops its ICMPv6 to itself */
	tf_local_link_failure f;
} cable;

/* For exec_report.c (exec_private.h). */
const tf_local_link_failure *tf_exec_model_cable(const tf_neigh_params **p, long *lo_disable_ipv6)
{
	if (!cable.have)
		return NULL;
	if (p)
		*p = &cable.p;
	if (lo_disable_ipv6)
		*lo_disable_ipv6 = cable.lo_disable_ipv6;
	return &cable.f;
}

static int client_neigh(struct tf_exec_run *R, int family, tf_neigh_params *p)
{
	static const char *const knob[] = { "retrans_time_ms", "ucast_solicit", "mcast_solicit",
	                                    "app_solicit" };
	tf_host *h = tf_topo_client(R->t);
	long v[4];
	char key[96];
	int r;

	if ((r = tf_neigh_params_init_family(family, p)) < 0)
		return r;
	for (size_t i = 0; i < TF_ARRAY_SIZE(knob); i++) {
		snprintf(key, sizeof key, "net.%s.neigh.%s.%s", family == AF_INET6 ? "ipv6" : "ipv4",
		         TF_IF_CLIENT, knob[i]);
		if ((r = tf_host_sysctl_get_int(h, key, &v[i])) < 0)
			return r;
		if (v[i] < 0 || v[i] > INT32_MAX)
			return -ERANGE;
	}
	p->hz = R->res->hz;
	p->retrans_time_ms = (uint32_t)v[0];
	p->ucast_solicit = (unsigned)v[1];
	p->mcast_solicit = (unsigned)v[2];
	p->app_solicit = (unsigned)v[3];
	return 0;
}

static void cable_compute(struct tf_exec_run *R, struct tf_exec_model *M)
{
	int family = R->o->family;
	tf_local_link_failure *f = &cable.f;
	int r;

	cable.have = false;
	if ((r = client_neigh(R, family, &cable.p)) < 0) {
		M->kind = MK_NA;
		M->why = "not modelled: the client's neighbour knobs (net.*.neigh.eth0.*) were not readable";
		return;
	}
	/* The ICMPv6 the client sends itself comes in through lo: dropped
	 * there when lo has IPv6 disabled (ip6_rcv_core()). */
	cable.lo_disable_ipv6 = -1;
	if (family == AF_INET6 &&
	    tf_host_sysctl_get_int(tf_topo_client(R->t), "net.ipv6.conf.lo.disable_ipv6",
	                           &cable.lo_disable_ipv6) < 0) {
		M->kind = MK_NA;
		M->why = "not modelled: the client's net.ipv6.conf.lo.disable_ipv6 was not readable";
		return;
	}
	r = tf_model_local_link_failure(R->m, &cable.p, family, cable.lo_disable_ipv6 == 0,
	                                (R->res->fault_ns - M->origin_ns) / 1000, f);
	if (r == -EOPNOTSUPP) {
		M->kind = MK_NA;
		M->why = "not modelled: TCP_USER_TIMEOUT's clamp of the timers while the client's own "
		         "link has no carrier";
		return;
	}
	if (r == -ENOENT) {
		M->kind = MK_NA;
		M->why = "not modelled: app_solicit + mcast_solicit 0, the client's neighbour entry "
		         "fails at once";
		return;
	}
	if (r < 0) {
		M->kind = MK_NA;
		M->why = "the model refused the knobs";
		return;
	}
	if (f->err_varies) {
		M->kind = MK_NA;
		M->why = "not modelled: with these knobs the kernel may give up before or after the "
		         "first failed resolution, so either errno";
		return;
	}
	cable.have = true;
	M->at_us = f->mid_us;
	M->lo_us = f->lo_us;
	M->hi_us = f->hi_us;
	M->err = f->err;
	/* linkwatch swaps the qdisc for noop: the capture stops seeing the
	 * client's transmissions, so none are compared. */
	M->tx_expected = 0;
	M->have = true;
	M->why = family == AF_INET6
	         ? "the client's own neighbour discovery for the router fails (cable-pull): "
	           "tf_model_local_link_failure(), IPv6"
	         : "the client's own ARP for the router fails (cable-pull): "
	           "tf_model_local_link_failure(), IPv4";
}

static void model_compute(struct tf_exec_run *R, struct tf_exec_model *M)
{
	tf_schedule *s = NULL;
	int r;

	if (!R->m && model_for_client(R, &R->m) < 0)
		return;
	if (M->packets_out)
		tf_model_set_packets_out(R->m, M->packets_out);
	if (M->kind == MK_RETRANS && R->o->fault->kind == FK_CABLE) {
		cable_compute(R, M);
		return;
	}
	switch (M->kind) {
	case MK_RETRANS:   r = tf_model_retrans(R->m, &s); break;
	case MK_SYN:       r = tf_model_syn(R->m, &s); break;
	case MK_KEEPALIVE: r = tf_model_keepalive(R->m, &s); break;
	default: return;
	}
	if (r == -EOPNOTSUPP) {
		M->why = M->kind == MK_SYN && R->o->fault->kind == FK_CABLE
		         ? "not modelled: a connecting socket ends at the first ICMP host unreachable "
		           "of a failed ARP, after the neighbour's resolution time"
		         : "not modelled by tf_model for these knobs";
		M->kind = MK_NA;
		return;
	}
	if (r < 0 || !s) {
		M->why = "the model refused the knobs";
		M->kind = MK_NA;
		return;
	}
	size_t g = tf_schedule_giveup(s);
	const tf_sched_event *e = tf_schedule_event(s, g);
	if (e && e->kind == TF_TX_GIVEUP) {
		M->at_us = e->at_us;
		M->lo_us = e->at_lo_us;
		M->hi_us = e->at_hi_us;
		M->err = tf_schedule_errno(s);
		/* Transmissions of the head segment (or the SYN): the tail
		 * loss probe resends the head only when it is the only one
		 * out; keepalive probes are not counted. */
		M->tx_expected = M->kind == MK_KEEPALIVE ? 0 : (long)tf_schedule_head_tx(s, M->packets_out);
		M->have = true;
	}
	tf_schedule_free(s);
}

/* Before anything happened: a rough upper bound for the deadline. */
int64_t tf_exec_model_predict_hi_us(struct tf_exec_run *R)
{
	struct tf_exec_model M;

	model_decide(R, &M);
	if (M.kind == MK_NA || M.kind == MK_NEVER || M.kind == MK_NONE)
		return -1;
	model_compute(R, &M);
	return M.have ? M.hi_us : -1;
}

/* --- the verdict --- */

static void check_num(struct tf_exec_check *k, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check_num(struct tf_exec_check *k, const char *key, const char *fmt, ...)
{
	size_t l = strlen(k->kv);
	va_list ap;

	snprintf(k->kv + l, sizeof k->kv - l, "%s: ", key);
	l = strlen(k->kv);
	va_start(ap, fmt);
	vsnprintf(k->kv + l, sizeof k->kv - l, fmt, ap);
	va_end(ap);
	l = strlen(k->kv);
	snprintf(k->kv + l, sizeof k->kv - l, "\n");
}

static void check_str(struct tf_exec_check *k, const char *key, const char *val)
{
	char *c = tf_exec_text_dup(val, strlen(val), TX_QUOTED);

	check_num(k, key, "\"%s\"", c ? c : "");
	free(c);
}

/*
 * The verdict: what the run says against what was asked.  The model's
 * view first (with --model or --expect-model), then one check per
 * expectation, then the one-line description.
 */
void tf_exec_judge(struct tf_exec_run *R, bool shell_failed)
{
	const struct tf_exec_opts *o = R->o;
	struct tf_exec_result *res = R->res;
	struct tf_exec_check *checks = res->checks;
	struct tf_exec_model M = { 0 };
	char *desc = res->desc;
	size_t nc = 0;
	char st[64];

	res->wake_max_us = tf_sentinel_max_late_us(R->wake);
	res->wake_samples = tf_sentinel_samples(R->wake);

	/* --- verdict --- */
	bool ok = true;
	if (res->interrupted) {
		ok = false;
	} else if (res->fault_failed) {
		ok = false;
	} else if (!res->fault_done) {
		ok = false;
		if (res->client_done) {
			tf_exec_describe_status(res->client_status, st, sizeof st);
			snprintf(res->message, sizeof res->message, "the client %s before the fault "
			         "(trigger %s): nothing was measured", st, o->trig_text);
		} else {
			snprintf(res->message, sizeof res->message, "the trigger '%s' did not fire within "
			         "the timeout (%.0f s)", o->trig_text, s_of(R->deadline_mono - R->t0_mono));
		}
	}
	if (ok && shell_failed) {
		ok = false;
		snprintf(res->message, sizeof res->message, "the client's shell exited %d: a command was "
		         "not found (127) or not executable (126); see client_output",
		         WEXITSTATUS(res->client_status));
		res->message_to_stderr = true;
	}
	if (ok && res->pcap_err[0]) {
		ok = false;
		snprintf(res->message, sizeof res->message, "the capture asked for with --pcap was %.400s",
		         res->pcap_err);
	}
	/* a fault that stayed is not the scenario asked for: whatever the
	 * client did, it was not tested against a healed network */
	if (ok && res->heal_failed) {
		ok = false;
		res->message_to_stderr = true;
	}
	if (res->fault_done && !res->fault_failed && (o->model || o->expect_model)) {
		model_decide(R, &M);
		model_compute(R, &M);
		if (R->m) {
			/* The knobs it used, read while the host still exists. */
			tf_host *h = tf_topo_client(R->t);
			long v;

			M.have_knobs = true;
			M.retries2 = M.syn_retries = -1;
			if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_retries2", &v) == 0)
				M.retries2 = v;
			if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_syn_retries", &v) == 0)
				M.syn_retries = v;
			M.rto_jiffies = tf_model_rto_jiffies(R->m);
		}
	}
	int64_t det = res->client_done && res->fault_done ? res->client_exit_ns - res->fault_ns : -1;
	tf_exec_describe_status(res->client_status, st, sizeof st);
	if (res->fault_done && !res->fault_failed && !res->interrupted) {
		if (o->exit_within_ns >= 0) {
			bool c = res->client_done && det <= o->exit_within_ns &&
			         !(WIFEXITED(res->client_status) && WEXITSTATUS(res->client_status) == 0);
			struct tf_exec_check *k = &checks[nc++];
			snprintf(k->what, sizeof k->what, "client exits non-zero within %.3f s of the fault",
			         s_of(o->exit_within_ns));
			if (res->client_done) {
				check_num(k, "measured_s", "%.3f", s_of(det));
				check_str(k, "status", st);
			} else {
				check_str(k, "measured", "still running");
			}
			k->ok = c;
			ok &= c;
		}
		if (o->running_ns >= 0) {
			/* Still running, and watched for long enough (--timeout may
			 * have ended the run first). */
			bool c = res->client_done ? det > o->running_ns
			                        : res->end_ns - res->fault_ns >= o->running_ns;
			struct tf_exec_check *k = &checks[nc++];
			snprintf(k->what, sizeof k->what, "client still running %.3f s after the fault",
			         s_of(o->running_ns));
			check_str(k, "measured", res->client_done ? st : "still running");
			check_num(k, "watched_s", "%.3f",
			          s_of((res->client_done ? res->client_exit_ns : res->end_ns) - res->fault_ns));
			k->ok = c;
			ok &= c;
		}
		if (o->have_status) {
			bool c = res->client_done && WIFEXITED(res->client_status) &&
			         WEXITSTATUS(res->client_status) == o->status;
			struct tf_exec_check *k = &checks[nc++];
			snprintf(k->what, sizeof k->what, "client exit status");
			check_num(k, "expected", "%d", o->status);
			check_str(k, "measured", res->client_done ? st : "still running");
			k->ok = c;
			ok &= c;
		}
		if (o->expect_model) {
			struct tf_exec_check *k = &checks[nc++];
			if (M.kind == MK_NEVER) {
				bool c = !res->client_done;
				snprintf(k->what, sizeof k->what, "model: the kernel never gives up (%s)", M.why);
				check_str(k, "measured", res->client_done ? st : "still running");
				k->ok = c;
			} else if (!M.have || M.kind == MK_NA) {
				char na[300];
				snprintf(k->what, sizeof k->what, "model");
				snprintf(na, sizeof na, "not applicable: %s",
				         M.why ? M.why : "no schedule for this socket");
				check_str(k, "measured", na);
				k->ok = false;
			} else {
				int64_t s = tf_exec_slack_us(res->hz), a = tf_exec_exit_allowance_us(res);
				int64_t lo = M.lo_us - s, hi = M.hi_us + s + a;
				int64_t meas = res->client_done ? (res->client_exit_ns - M.origin_ns) / 1000 : -1;
				bool c = res->client_done && meas >= lo && meas <= hi &&
				         !(WIFEXITED(res->client_status) && WEXITSTATUS(res->client_status) == 0);
				if (res->client_done) {
					snprintf(k->what, sizeof k->what, "client exits when the kernel gives up "
					         "(%s), after %s", tf_exec_mkind_name(M.kind), M.origin_what);
					check_num(k, "expected_s", "%.3f", (double)M.at_us / 1e6);
					check_num(k, "lo_s", "%.3f", (double)lo / 1e6);
					check_num(k, "hi_s", "%.3f", (double)hi / 1e6);
					check_num(k, "measured_s", "%.3f", (double)meas / 1e6);
					check_num(k, "error_ms", "%+.1f", (double)(meas - M.at_us) / 1e3);
				} else {
					snprintf(k->what, sizeof k->what, "client exits when the kernel gives up "
					         "(%s)", tf_exec_mkind_name(M.kind));
					check_num(k, "expected_s", "%.3f", (double)M.at_us / 1e6);
					check_str(k, "measured", "still running");
				}
				k->ok = c;
			}
			ok &= k->ok;
		}
	}

	/* The one-line description: what happened. */
	if (res->fault_done && !res->fault_failed && o->fault->kind == FK_NONE) {
		if (res->client_done)
			snprintf(desc, sizeof res->desc, "baseline: client %s after %.3f s", st,
			         s_of(res->client_exit_ns - res->client_start_ns));
		else
			snprintf(desc, sizeof res->desc, "baseline: client still running after %.3f s",
			         s_of(tf_now_ns() - res->client_start_ns));
	} else if (res->fault_done && !res->fault_failed) {
		if (res->client_done)
			snprintf(desc, sizeof res->desc, "%s: client %s, %.3f s after the fault", o->fault_text,
			         st, s_of(det));
		else
			snprintf(desc, sizeof res->desc, "%s: client still running %.3f s after the fault",
			         o->fault_text, s_of(tf_now_ns() - res->fault_ns));
	}
	res->have_model = o->model || o->expect_model;
	res->M = M;
	res->n_checks = nc;
	res->verdict = ok ? TF_EXEC_V_OK : TF_EXEC_V_NOT_OK;
}
