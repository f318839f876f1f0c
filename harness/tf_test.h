/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_test.h — how a case is written.
 *
 *   TF_CASE(lost_peer_retries2_5, .timeout_s = 40,
 *           .proves = "seed 000: Linux gives up after tcp_retries2 retries") {
 *           tf_topo *t = tf_case_topo(TF_TOPO_PATH);     // topology
 *           ... fault ...                                 // fault
 *           tf_check_schedule(...);                       // expectation
 *   }
 *
 * Each case runs in its own forked process (its own namespaces, its own
 * process group) with a timeout; the runner prints TAP version 13 with a
 * YAML block per case.  cmocka's assertion macros (assert_int_equal, ...)
 * work inside a case; a failing one ends the case as "not ok".  A case
 * that cannot run here calls TF_SKIP("reason") — never a pass, never a fail.
 *
 * Soft checks (tf_expect_*) record every comparison in the YAML and fail
 * the case at the end, so one wrong interval still shows all the others.
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tf_capture.h"
#include "tf_fault.h"
#include "tf_model.h"
#include "tf_probe.h"
#include "tf_sandbox.h"
#include "tf_sock.h"
#include "tf_topo.h"
#include "tf_util.h"

typedef struct tf_case {
	const char *name;
	void (*fn)(void);
	/* TF_CASE_F: the fixture's name, and the body run once per variant */
	const char *fixture;
	void (*fn_v)(const void *variant);
	const void *variant;      /* set by the runner for each variant */
	unsigned timeout_s;   /* [60] the runner kills the case's process group after this */
	bool slow;            /* only with --slow / --all (meson suite 'slow') */
	const char *proves;   /* the seed sentence this case proves */
	/* Non-NULL: the case runs alone (no other case of any tcpfate run of
	 * this user at the same time); the reason is printed in its YAML.
	 * Only for a case whose kernel-side measurement another case would
	 * disturb — never to hide a flake. */
	const char *exclusive;
	struct tf_case *next;
} tf_case;

void tf_case_register(tf_case *c);

#define TF_CASE(id, ...)                                                              \
	static void id(void);                                                        \
	static tf_case tf__case_##id = { .name = #id, .fn = id, __VA_ARGS__ };       \
	__attribute__((constructor)) static void tf__register_##id(void)             \
	{ tf_case_register(&tf__case_##id); }                                        \
	static void id(void)

/*
 * Fixtures and variants, in the manner of kselftest_harness.h: a family
 * states its topology and state once, each case its fault and expectation.
 *
 *   TF_FIXTURE(path) { tf_topo *t; int cfd, sfd; };           // the state
 *   TF_FIXTURE_VARIANT(path) { int retries2; };              // what varies
 *   TF_VARIANT(path, retries2_3, .retries2 = 3);
 *   TF_VARIANT(path, retries2_5, .retries2 = 5);
 *   TF_FIXTURE_SETUP(path) { self->t = tf_case_topo(TF_TOPO_PATH); ... }
 *   TF_FIXTURE_TEARDOWN(path) { tf_topo_free(self->t); }
 *   TF_CASE_F(path, lost_peer, .timeout_s = 40) { ... self->cfd, variant->retries2 ... }
 *
 * gives the cases lost_peer_retries2_3 and lost_peer_retries2_5 (a fixture
 * with no variant gives one case, with variant NULL).  The harness runs
 * setup, the body, then teardown, in the case's own process.
 */
typedef struct tf_variant {
	const char *fixture, *name;
	const void *data;
	struct tf_variant *next;
} tf_variant;
void tf_variant_register(tf_variant *v);

#define TF_FIXTURE(fx) struct fx##_fixture
#define TF_FIXTURE_VARIANT(fx) struct fx##_variant
#define TF_FIXTURE_SETUP(fx)                                                          \
	static void fx##_setup(struct fx##_fixture *self, const struct fx##_variant *variant)
#define TF_FIXTURE_TEARDOWN(fx)                                                       \
	static void fx##_teardown(struct fx##_fixture *self, const struct fx##_variant *variant)
#define TF_VARIANT(fx, vn, ...)                                                       \
	static const struct fx##_variant tf__vd_##fx##_##vn = { __VA_ARGS__ };        \
	static tf_variant tf__v_##fx##_##vn = { .fixture = #fx, .name = #vn,          \
	                                        .data = &tf__vd_##fx##_##vn };        \
	__attribute__((constructor)) static void tf__regv_##fx##_##vn(void)           \
	{ tf_variant_register(&tf__v_##fx##_##vn); }
#define TF_CASE_F(fx, id, ...)                                                        \
	static void id(struct fx##_fixture *self, const struct fx##_variant *variant); \
	static void tf__f_##id(const void *v)                                          \
	{                                                                              \
		struct fx##_fixture self = { 0 };                                      \
		fx##_setup(&self, v);                                                  \
		id(&self, v);                                                          \
		fx##_teardown(&self, v);                                               \
	}                                                                              \
	static tf_case tf__case_##id = { .name = #id, .fixture = #fx,                  \
	                                 .fn_v = tf__f_##id, __VA_ARGS__ };            \
	__attribute__((constructor)) static void tf__register_##id(void)              \
	{ tf_case_register(&tf__case_##id); }                                          \
	static void id(struct fx##_fixture *self, const struct fx##_variant *variant)

/*
 * Both address families as the variants of a fixture whose variant struct
 * has an `int family`: every TF_CASE_F of it runs as <case>_ipv4 and
 * <case>_ipv6 (issue 14).  The fixture's setup calls tf_case_family().
 */
#define TF_VARIANTS_FAMILY(fx)                                                        \
	TF_VARIANT(fx, ipv4, .family = AF_INET)                                        \
	TF_VARIANT(fx, ipv6, .family = AF_INET6)
/*
 * The fixture most families share, whole: the path (client — router —
 * server) over one address family, with both families as its variants.
 * self->t, ->client, ->router, ->server, ->family and ->server_addr (the
 * family's); teardown frees the topology.  TF_CASE_F(fx, ...) as usual.
 */
#define TF_FIXTURE_PATH(fx)                                                           \
	TF_FIXTURE(fx) {                                                               \
		tf_topo *t;                                                            \
		tf_host *client, *router, *server;                                     \
		int family;                                                            \
		const char *server_addr;                                               \
	};                                                                             \
	TF_FIXTURE_VARIANT(fx) { int family; };                                        \
	TF_VARIANTS_FAMILY(fx)                                                         \
	TF_FIXTURE_SETUP(fx)                                                           \
	{                                                                              \
		self->t = tf_case_topo(TF_TOPO_PATH);                                  \
		self->client = tf_topo_client(self->t);                                \
		self->router = tf_topo_router(self->t);                                \
		self->server = tf_topo_server(self->t);                                \
		self->family = variant->family;                                        \
		tf_case_family(self->client, self->family);                            \
		self->server_addr = tf_topo_addr(self->t, TF_NODE_SERVER, self->family); \
	}                                                                              \
	TF_FIXTURE_TEARDOWN(fx)                                                        \
	{                                                                              \
		(void)variant;                                                         \
		tf_topo_free(self->t);                                                 \
	}
/* SKIP when family is AF_INET6 and h's kernel has no IPv6; states the
 * family in the case's YAML ("family: ipv4" or "ipv6"). */
void tf_case_family(tf_host *h, int family);
/* Check that a variant's connection really is of its family (a variant
 * must never pass over the other one). */
bool tf_expect_flow_family(const tf_flow *f, int family);

/* End the case as skipped, with the reason (printed as "# SKIP reason"). */
_Noreturn void tf_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define TF_SKIP(...) tf_skip(__VA_ARGS__)
/* End the case as failed now. */
_Noreturn void tf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A library call that must succeed: on -errno the case fails naming it. */
#define tf_must(expr) tf__must((expr), #expr, __FILE__, __LINE__)
int tf__must(int r, const char *what, const char *file, int line);

/* Add "key: value" to the case's YAML block (value is printf-formatted). */
void tf_diag(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A free-form note, printed as a YAML list entry under "notes". */
void tf_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- environment of the case --- */
/* The ready topology, or SKIP when namespaces cannot be made here. */
tf_topo *tf_case_topo(tf_topo_shape shape);
unsigned tf_case_hz(void);                 /* kernel HZ, probed once */
/* A model with HZ and the host's sysctl defaults (tcp_retries2,
 * tcp_early_retrans, tcp_rto_min_us, tcp_rto_max_ms ...) read from `h`. */
tf_model *tf_case_model(tf_host *h);
/* tf_case_model() plus what the socket says of itself: its RTT estimate
 * (TCP_INFO) and its TCP_USER_TIMEOUT, TCP_RTO_MAX_MS and keepalive
 * options. */
tf_model *tf_case_model_sock(tf_host *h, int fd);
/* Check the kernel's RTO for fd (tcpi_rto) against the model's, in jiffies. */
void tf_case_check_rto(const tf_model *m, int fd);
/* Set the model's tcp_retries2 (what a case that sets the sysctl itself
 * uses), honouring TF_MUTATE (see runner.c). */
int tf_case_set_retries2(tf_model *m, unsigned n);
/* Capture on h/ifname with a BPF filter, activated; saved as
 * <artifacts>/<case>/<label>.pcap when the case fails (or with --keep). */
tf_capture *tf_case_capture(tf_host *h, const char *ifname, const char *bpf, const char *label);
/* The case's artifacts directory (created on first use). */
const char *tf_case_artifacts(void);

/* --- expectations --- */
/* Latency the model does not contain, added to both edges of every band:
 * 1 jiffy (a timer softirq deferred to the next tick) + 2 ms (wake-up,
 * capture); TF_SLACK_US overrides it (the VM runner measures and sets it). */
int64_t tf_slack_us(void);
/* Soft check of a time in µs against [lo, hi] (slack added here). */
bool tf_expect_time(const char *what, int64_t measured_us, int64_t expected_us,
                    int64_t lo_us, int64_t hi_us);
/*
 * A moment an application saw (poll() woke on the error, connect() or
 * read() returned): never a kernel timestamp.  Scheduling can only make it
 * late, so the low edge is the model's (lo - slack) and the high edge gets
 * the slack plus the wake-up allowance measured in this run
 * (tf_case_wakeup_allowance_us()), named in the YAML.  The kernel-side
 * cause of the same event is asserted with tf_expect_time() on its packet
 * timestamps, without the allowance.
 */
bool tf_expect_app_time(const char *what, int64_t measured_us, int64_t expected_us,
                        int64_t lo_us, int64_t hi_us);
/* The same for a bound ("after the stall and before the next timer"). */
bool tf_expect_app_range(const char *what, int64_t measured_us, int64_t lo_us, int64_t hi_us);
/* A moment an application saw that a chain of `timers` kernel timers
 * raised (a give-up: the last timer's callback sets the error, nothing
 * goes on the wire): tf_expect_app_time(), whose high edge also gets
 * tf_expect_timer_chain()'s allowance — each callback may run as late as
 * the sentinel saw timers fire before anything can wake (named:
 * timer_late_ms).  timers 0 counts as 1. */
bool tf_expect_app_after_timers(const char *what, int64_t measured_us, int64_t expected_us,
                                int64_t lo_us, int64_t hi_us, unsigned timers);
/* Twice the worst wake-up latency of a timer measured in this case so far:
 * a process of the case's own priority sleeps on CLOCK_MONOTONIC every
 * 5 ms from the case's start and records how late it woke. */
int64_t tf_case_wakeup_allowance_us(void);
/* This thread's run-queue wait so far (ns; /proc/thread-self/schedstat:
 * time runnable but waiting for a CPU), -1 if the kernel keeps none.  The
 * difference over an interval is exactly how much the scheduler delayed
 * what this thread saw in it: an application-side bound may add it, named
 * in the check; a kernel-side one never. */
int64_t tf_case_rq_wait_ns(void);

/*
 * The moment a kernel timer_list timer fired (an RTO, a keepalive or
 * zero-window probe, a delayed ACK), on kernel timestamps: tf_expect_time()
 * whose high edge also gets the timer allowance, named in the check
 * (timer_late_ms).  A timer can fire late, never early, when the host does
 * not run the vCPU that should take its tick: the low edge gets nothing.
 */
bool tf_expect_timer_time(const char *what, int64_t measured_us, int64_t expected_us,
                          int64_t lo_us, int64_t hi_us);
/*
 * A moment the kernel sets while it processes a received packet (an answer
 * sent at once, a retransmission from tcp_v4_err()), measured from that
 * packet's capture stamp: the stamp is taken when the packet is queued
 * (netdev_tstamp_prequeue), and its processing waits for the NET_RX
 * softirq, deferred (ksoftirqd, a vCPU held off) as the timer softirq the
 * sentinel watches is: tf_expect_time() whose high edge also gets the timer
 * allowance (timer_late_ms, side: kernel softirq).  Not for a socket its
 * owner held: that wait is the application's.
 */
bool tf_expect_answer_time(const char *what, int64_t measured_us, int64_t expected_us,
                           int64_t lo_us, int64_t hi_us);
/* The moment after a chain of `timers` kernel timers, each armed when the
 * one before fired (RTO expiries, neighbour solicitations): each may be as
 * late as the sentinel saw timers fire, and their lateness adds up, so the
 * high edge gets timers x that worst, less the slack (named: timers,
 * timer_late_ms).  Prefer each timer's own gap; this is for a moment the
 * model only has as a sum.  timers <= 1: tf_expect_timer_time(). */
bool tf_expect_timer_chain(const char *what, int64_t measured_us, int64_t expected_us,
                           int64_t lo_us, int64_t hi_us, unsigned timers);
/* The gap between two expiries of a kernel timer, each armed when the one
 * before fired (RTO, zero-window probe): tf_expect_timer_time(), and a
 * low edge that gives back prev_late_us, how late the expiry before it
 * came, up to tf_case_timer_allowance_us(): a timer late because the
 * kernel's clock (jiffies) was behind, a vCPU held off by its host, armed
 * the next on that clock, and once it caught up the gap is short by as
 * much (named in the check).  Returns this gap's lateness (measured -
 * expected), the next call's prev_late_us; 0 for the first gap. */
int64_t tf_expect_timer_gap(const char *what, int64_t measured_us, int64_t expected_us,
                            int64_t lo_us, int64_t hi_us, int64_t prev_late_us);
/* A kernel timer armed at armed_real_ns (CLOCK_REALTIME, the capture's
 * clock: inside a syscall, say), checked from there: tf_expect_timer_time(),
 * the low edge giving back how far the kernel's clock (jiffies) was behind
 * at that moment (the timer sentinel's timers pending then), up to
 * tf_case_timer_allowance_us(): the timer counts from that stale clock and
 * fires early by as much (a 6.12 guest: a zero-window probe 20 ms early
 * after the send() that armed it). */
bool tf_expect_timer_armed(const char *what, int64_t measured_us, int64_t expected_us,
                           int64_t lo_us, int64_t hi_us, int64_t armed_real_ns);
/* The part of the worst lateness the timer sentinel (timer_sentinel.h)
 * measured from this case's first topology until now that the slack does not
 * already cover (worst - tf_slack_us(), >= 0); 0 when it cannot run here.
 * Never for a count, an application-side check but one a timer raises
 * (tf_expect_app_after_timers()), or a low edge but tf_expect_timer_gap()'s
 * (up to the measured lateness of the timer before) and
 * tf_expect_timer_armed()'s; on a high edge, for a
 * timer or the softirq's processing of a packet (tf_expect_answer_time()). */
int64_t tf_case_timer_allowance_us(void);

/* Soft check of a bound: measured in [lo, hi] µs (slack added), for rules
 * that give limits rather than a value ("before the next retransmission"). */
bool tf_expect_range(const char *what, int64_t measured_us, int64_t lo_us, int64_t hi_us);
/* Soft check of an integer (counts, errnos, states). */
bool tf_expect_int(const char *what, long measured, long expected);
/* Soft check of an errno, named symbolically in the report. */
bool tf_expect_errno(const char *what, int measured, int expected);

/*
 * Check a whole wire schedule: the transmissions tx_ns[0..n) (tx_ns[0] is
 * the original) and the moment the application saw the error (giveup_ns,
 * -1 if none) against the model's schedule — every gap, the count, the
 * give-up.  Also feeds the SVG timeline and the timing-error summary.
 */
void tf_check_schedule(const char *what, const tf_schedule *s, const int64_t *tx_ns, size_t n,
                       int64_t giveup_ns);

/* First packet in flow f carrying payload at or after t_ns; its seq. */
int tf_case_first_data(const tf_capture *c, const tf_flow *f, int64_t t_ns, uint32_t *seq);

/* Wait for the socket's error, reading the capture as packets arrive and
 * sampling the socket's state (sock_diag) at each batch: every sample must
 * be expect_state (-1: do not sample); a batch with the flow's own RST is
 * not sampled (the socket ends right after it).  -ETIME if the deadline
 * passed first. */
int tf_case_wait_error(int fd, tf_capture *cap, tf_host *h, const tf_flow *f, int expect_state,
                       int timeout_ms, int *err, int64_t *at_ns);

/* --- the two common experiments (harness/scenario.c) --- */
#define TF_RUN_MAX_TX 64
typedef struct tf_run {
	tf_flow flow;                  /* local → peer */
	int64_t sent_ns;               /* the write / connect() call */
	int64_t tx_ns[TF_RUN_MAX_TX];  /* every transmission of the first byte (or SYN) */
	size_t  n_tx;
	int     err;                   /* positive errno the socket reported */
	int64_t err_ns;                /* when (-1: none before the deadline) */
	long    fin_rst;               /* FIN/RST packets of the flow, both directions */
	int     state_after;           /* sock_diag state after the error, -ENOENT = gone */
} tf_run;
/* Write buf on an established socket, wait for its error. */
int tf_run_send(tf_host *h, int fd, tf_capture *cap, const void *buf, size_t len, int timeout_ms,
                tf_run *out);
/* connect() a prepared socket (tf_tcp_socket + options) to addr:port,
 * wait for it to fail, collecting its SYNs. */
int tf_run_connect(tf_host *h, int fd, const char *addr, uint16_t port, tf_capture *cap,
                   int timeout_ms, tf_run *out);

const char *tf_errno_name(int e);
