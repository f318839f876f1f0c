/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The case runner: main() of every case binary.
 *
 * One fork per case, in its own process group, killed as a group through
 * its pidfd when its timeout passes; the child dies with the runner
 * (PR_SET_PDEATHSIG), so killing the runner leaves nothing behind: the
 * namespaces are anonymous and die with the last process holding them.
 *
 * The child reports through a pipe, one record a line:
 *   D key: value      a YAML diagnostic
 *   C {...}           a check (flow mapping), listed under "checks"
 *   N text            a note
 *   S reason          skipped
 *   F message         failed
 * and the parent prints TAP version 13 with one YAML block per case.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tf_test.h"
#include "tf_timeline.h"
#include "runner_private.h"
#include "check_replay.h"
#include "sentinel.h"
#include "timer_sentinel.h"

/* ---------- registry ---------- */

tf_case *tf_cases_head;
static tf_case **cases_tail = &tf_cases_head;

void tf_case_register(tf_case *c)
{
	c->next = NULL;
	*cases_tail = c;
	cases_tail = &c->next;
}

static tf_variant *variants_head, **variants_tail = &variants_head;

void tf_variant_register(tf_variant *v)
{
	v->next = NULL;
	*variants_tail = v;
	variants_tail = &v->next;
}

int tf_cases_expand(void)
{
	for (tf_case **pc = &tf_cases_head; *pc;) {
		tf_case *c = *pc, *first = NULL, **tail = &first;

		if (!c->fixture || c->variant) {
			pc = &c->next;
			continue;
		}
		for (tf_variant *v = variants_head; v; v = v->next) {
			if (strcmp(v->fixture, c->fixture) != 0)
				continue;
			tf_case *n = malloc(sizeof *n);
			char *name = NULL;
			if (!n || asprintf(&name, "%s_%s", c->name, v->name) < 0) {
				free(n);
				return -ENOMEM;
			}
			*n = *c;
			n->name = name;
			n->variant = v->data;
			*tail = n;
			tail = &n->next;
		}
		if (!first) {           /* no variant: the case itself, variant NULL */
			pc = &c->next;
			continue;
		}
		*tail = c->next;        /* the variants replace the template */
		*pc = first;
		pc = tail;
	}
	return 0;
}

struct tf_runner_opt tf_runner;

static const char *yq(const char *in, char *out, size_t n);

/* ---------- child side ---------- */

static struct {
	const tf_case *c;
	int fd;                  /* record pipe */
	bool soft_failed;
	bool finished;           /* body returned */
	bool skipped;
	char artifacts[PATH_MAX];
	tf_capture *caps[32];    /* a case that sets up again gets new ones */
	char cap_labels[32][32];
	size_t n_caps;
	tf_timeline *timeline;
	tf_world *world;         /* the sandbox of tf_case_topo(), lives until exit */
	double err_ratio[256];   /* |measured-expected| / allowed for gaps <= 2 s */
	size_t n_err;
	tf_sentinel *wake;       /* the runner's wake-up sentinel */
	int64_t wait_rq_us;      /* run-queue wait during the last tf_case_wait_error() */
	int64_t start_mono_ns;   /* the timer sentinel's samples count from here */
	bool topo_built;         /* ... which is the first topology's end */
	bool timer_used;         /* a check took the timer allowance */
	bool timer_stale;        /* its samples did not keep up once */
} cur = { .fd = -1 };

int64_t tf_case_rq_wait_ns(void)
{
	unsigned long long run, wait;
	FILE *f = fopen("/proc/thread-self/schedstat", "re");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%llu %llu", &run, &wait);
	fclose(f);
	return n == 2 ? (int64_t)wait : -1;
}

/* Twice the wake-up sentinel's worst.  TF_WAKEUP_WORST_US states the worst
 * instead (the harness's own tests, which feed synthetic stamps: a loaded
 * CI's 64 ms worst let a must-fail give-up 250 ms late pass). */
int64_t tf_case_wakeup_allowance_us(void)
{
	const char *e = getenv("TF_WAKEUP_WORST_US");
	long v;

	if (e && tf_parse_long(e, 0, 10000000, &v) == 0)
		return 2 * (int64_t)v;
	return tf_sentinel_allowance_us(cur.wake);
}

/* The timer sentinel over this case so far: each worker (CPU) has a
 * sample due within 50 ms of now, or 200 ms have passed (then the case
 * takes what there is from then on, without waiting again). */
static void case_timer_stats(tf_timer_stats *st)
{
	if (!cur.timer_stale &&
	    !tf_timer_sentinel_wait(tf_runner.timers, tf_mono_ns() - 50000000, 200000000))
		cur.timer_stale = true;
	tf_timer_sentinel_stats(tf_runner.timers, cur.start_mono_ns, st);
}

/* The worst lateness the sentinel saw in this case so far, 0 without one.
 * TF_TIMER_WORST_US states it instead (the harness's own tests, which feed
 * synthetic stamps; named in the YAML as the sentinel's would be). */
static int64_t case_timer_worst_us(void)
{
	tf_timer_stats st;
	const char *e = getenv("TF_TIMER_WORST_US");
	long v;

	if (e && tf_parse_long(e, 0, 10000000, &v) == 0) {
		cur.timer_used = true;
		return v;
	}
	if (!tf_runner.timers || *tf_timer_sentinel_why(tf_runner.timers))
		return 0;
	cur.timer_used = true;
	case_timer_stats(&st);
	return (st.worst_ns + 999) / 1000;
}

/* timers x the worst, beyond the slack: the slack's jiffy + 2 ms is for
 * this very lateness, once */
static int64_t chain_allowance_us(unsigned timers)
{
	int64_t a = (int64_t)(timers ? timers : 1) * case_timer_worst_us() - tf_slack_us();
	return a > 0 ? a : 0;
}

int64_t tf_case_timer_allowance_us(void)
{
	return chain_allowance_us(1);
}

/* Block YAML (the runner turns the flow mapping into one), and no comment
 * after a mapping's key: prove's YAMLish reads it as the value. */
static void report_timer_sentinel(void)
{
	tf_timer_stats st;
	char q[512];
	const char *why = tf_runner.timers ? tf_timer_sentinel_why(tf_runner.timers) : tf_runner.timers_why;

	if (why && *why) {
		tf_diag("timer_sentinel", "{running: false, why: \"%s\"}", yq(why, q, sizeof q));
		tf_diag("timer_allowance_us", "0  # no timer sentinel here");
		return;
	}
	case_timer_stats(&st);
	int64_t worst_us = (st.worst_ns + 999) / 1000, s = tf_slack_us();
	/* coverage: the share of this case's ticks at which a sample was
	 * due, on the CPU with the fewest — a lateness at a tick without one
	 * is seen only from the next (evidence for a late timer the worst
	 * does not explain) */
	/* keepalive_*: the timers the kernel re-arms alone, one per bucket of
	 * the wheel's level 1 per CPU; bucket_coverage: the share of those
	 * buckets with one due on some CPU (an idle CPU's are expired by
	 * another) */
	tf_diag("timer_sentinel", "{samples: %lld, worst_us: %lld, p50_us: %lld, p99_us: %lld, cpus: %u, "
	        "coverage: %.3f, keepalive_samples: %lld, keepalive_worst_us: %lld, "
	        "bucket_coverage: %.3f}",
	        (long long)st.samples, (long long)worst_us, (long long)(st.p50_ns / 1000),
	        (long long)((st.p99_ns + 999) / 1000), tf_timer_sentinel_workers(tf_runner.timers),
	        tf_timer_sentinel_coverage(tf_runner.timers, cur.start_mono_ns),
	        (long long)st.ka_samples, (long long)((st.ka_worst_ns + 999) / 1000),
	        tf_timer_sentinel_bucket_coverage(tf_runner.timers, cur.start_mono_ns));
	tf_diag("timer_allowance_us", "%lld  # timers of the sentinel's own netns (delayed ACKs, "
	        "keepalives) since this case built its topology, late past their tick (kernel stamps): the "
	        "worst beyond slack_us, added to the high edge of kernel-timer checks (timer_late_ms)%s%s",
	        (long long)(worst_us > s ? worst_us - s : 0), cur.timer_used ? "" : "; none here",
	        cur.timer_stale ? "; its samples lagged once by 200 ms" : "");
}

static void report_wakeups(void)
{
	if (tf_runner.spin_on)
		tf_diag("idle_spin", "%u  # SCHED_IDLE spinners, one per CPU: %s", tf_runner.spin_cpus,
		        tf_runner.spin_why);
	if (!cur.wake)
		return;
	tf_diag("wakeup_latency_max_us", "%lld  # worst of %lld timer wake-ups (every 5 ms) in this "
	        "run so far; twice it is the allowance of application-side checks",
	        (long long)tf_sentinel_max_late_us(cur.wake), (long long)tf_sentinel_samples(cur.wake));
	if (getenv("TF_WAKEUP_WORST_US"))
		tf_diag("wakeup_allowance_us", "%lld  # twice TF_WAKEUP_WORST_US, stated by the test "
		        "instead of the sentinel's", (long long)tf_case_wakeup_allowance_us());
}

static void record(char kind, const char *fmt, va_list ap)
{
	char buf[4096];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);

	if (n < 0 || cur.fd < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	/* One record per line: newlines inside a value become spaces. */
	for (int i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	dprintf(cur.fd, "%c %s\n", kind, buf);
}

static void recordf(char kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void recordf(char kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record(kind, fmt, ap);
	va_end(ap);
}

void tf_diag(const char *key, const char *fmt, ...)
{
	char v[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof v, fmt, ap);
	va_end(ap);
	recordf('D', "%s: %s", key, v);
}

void tf_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record('N', fmt, ap);
	va_end(ap);
}

_Noreturn void tf_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record('S', fmt, ap);
	va_end(ap);
	cur.skipped = true;
	exit(TF_EXIT_SKIP);
}

_Noreturn void tf_fail(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	recordf('F', "%s", msg);
	/* cmocka is the assertion engine: its failure path ends the case. */
	fail_msg("%s", msg);
	exit(1); /* not reached */
}

const char *tf_errno_name(int e)
{
	switch (e < 0 ? -e : e) {
	case 0: return "0";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENETUNREACH: return "ENETUNREACH";
	case ECONNRESET: return "ECONNRESET";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EPIPE: return "EPIPE";
	case EAGAIN: return "EAGAIN";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EADDRINUSE: return "EADDRINUSE";
	case ETIME: return "ETIME";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return strerror(e < 0 ? -e : e);
	}
}

int tf__must(int r, const char *what, const char *file, int line)
{
	if (r < 0)
		tf_fail("%s:%d: %s failed: %s (%s)", file, line, what, tf_errno_name(r), strerror(-r));
	return r;
}

int tf_mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof tmp)
		return -EINVAL;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

const char *tf_case_artifacts(void)
{
	if (!cur.artifacts[0]) {
		snprintf(cur.artifacts, sizeof cur.artifacts, "%s/%s/%s", tf_runner.artifacts, tf_runner.prog,
		         cur.c->name);
		int r = tf_mkdir_p(cur.artifacts);
		if (r < 0) {
			/* never a shared fallback such as /tmp: nothing is saved */
			tf_note("artifacts not saved: cannot create %s: %s", cur.artifacts, strerror(-r));
			cur.artifacts[0] = 0;
			return NULL;
		}
	}
	return cur.artifacts;
}

tf_topo *tf_case_topo(tf_topo_shape shape)
{
	tf_world *w = NULL;
	tf_topo *t = NULL;
	int64_t t0 = tf_mono_ns();
	/* the wait for a slot is the harness's queue (with every case on both
	 * families, ~20 s under CI): the case's timeout restarts once it has
	 * one, bounded apart meanwhile (records W and A, runner_main.c) */
	recordf('W', "setup slot");
	/* one builder per core, across every run, the longest cases first */
	int slot = tf_admit_setup(cur.c->timeout_s ? cur.c->timeout_s : 60);
	int64_t t1 = tf_mono_ns();
	recordf('A', "setup slot held");
	int r = tf_world_new(&w);

	/* No sandbox here is a missing capability: SKIP with the reason.
	 * Anything that fails once the sandbox exists is a real failure. */
	if (r < 0) {
		char why[512];
		tf_sandbox_explain(r, why, sizeof why);
		if (tf_runner.fallback_why[0])
			tf_skip("%s; no VM fallback: %s", why, tf_runner.fallback_why);
		tf_skip("%s", why);
	}
	cur.world = w;
	tf_must(tf_topo_new_in(w, shape, &t));
	tf_admit_setup_release(slot);
	tf_diag("setup_ms", "%.1f  # waited %.1f ms for a setup slot (one per core)",
	        (double)(tf_mono_ns() - t1) / 1e6, (double)(t1 - t0) / 1e6);
	/* the case's kernel timers run from its first topology on: the
	 * builds of every other case (the RTNL, bottom halves off) stall
	 * timers before it, which its checks never see */
	if (!cur.topo_built) {
		cur.topo_built = true;
		cur.start_mono_ns = tf_mono_ns();
	}
	int64_t gate_ns = tf_gate_pass(tf_runner.gate, tf_runner.case_index);
	if (gate_ns >= 0)
		tf_diag("start_gate_ms", "%.1f  # until every case of the run had built its topology",
		        (double)gate_ns / 1e6);
	tf_diag("sandbox", "%s", tf_world_in_userns(w) ?
	        "user namespace (unprivileged path)" : "network namespaces as root");
	return t;
}

void tf_case_family(tf_host *h, int family)
{
	if (family == AF_INET6) {
		int r = tf_probe_ipv6(h);

		tf_must(r < 0 ? r : 0);
		if (r == 0)
			tf_skip("this kernel has no IPv6");
	}
	tf_diag("family", "%s", family == AF_INET6 ? "ipv6" : "ipv4");
}

bool tf_expect_flow_family(const tf_flow *f, int family)
{
	return tf_expect_int(family == AF_INET6 ? "connection over IPv6" : "connection over IPv4",
	                     (f->family == AF_INET6) == (family == AF_INET6), 1);
}

unsigned tf_case_hz(void)
{
	static unsigned hz;

	if (!hz) {
		tf_must(tf_kernel_hz(&hz));
		tf_diag("hz", "%u", hz);
	}
	return hz;
}

/*
 * TF_MUTATE=retries2:+1 feeds the model a wrong knob on purpose: the test
 * suite uses it to prove that a case fails when model and kernel disagree.
 * Applied when tf_model_retrans()/syn() are computed, after the case set
 * its knobs, through tf_case_set_retries2().
 */
static long mutate_retries2;

static void mutate(tf_model *m)
{
	const char *e = getenv("TF_MUTATE");
	long d;

	(void)m;
	if (!e || strncmp(e, "retries2:", 9) != 0 || tf_parse_long(e + 9, -100, 100, &d) < 0)
		return;
	mutate_retries2 = d;
	tf_note("TF_MUTATE: the model is told tcp_retries2 %+ld from what the kernel uses", d);
}

int tf_case_set_retries2(tf_model *m, unsigned n)
{
	long v = (long)n + mutate_retries2;
	return tf_model_set_retries2(m, v < 0 ? 0 : (unsigned)v);
}

tf_model *tf_case_model(tf_host *h)
{
	tf_model *m = NULL;
	long v;

	tf_must(tf_model_new(&m));
	/* Start from what this host's kernel says, not from what we assume. */
	tf_must(tf_model_set_from_host(m, h));
	tf_must(tf_model_set_hz(m, tf_case_hz()));
	mutate(m);
	if (mutate_retries2 && tf_host_sysctl_get_int(h, "net.ipv4.tcp_retries2", &v) == 0)
		tf_must(tf_case_set_retries2(m, (unsigned)v));
	if (!tf_host_sysctl_exists(h, "net.ipv4.tcp_syn_linear_timeouts"))
		tf_note("kernel has no tcp_syn_linear_timeouts: SYN backoff is purely exponential");
	return m;
}

tf_model *tf_case_model_sock(tf_host *h, int fd)
{
	tf_model *m = tf_case_model(h);
	tf_sock_knobs k;
	struct tcp_info ti;

	/* The socket's own state overrides the host's defaults: its RTT
	 * estimate, and the options a program may have set on it. */
	tf_must(tf_sock_knobs_read(fd, &k));
	tf_must(tf_tcp_info(fd, &ti));
	tf_must(tf_model_set_from_sock(m, &k, &ti));
	return m;
}

void tf_case_check_rto(const tf_model *m, int fd)
{
	struct tcp_info ti;

	tf_must(tf_tcp_info(fd, &ti));
	tf_expect_int("RTO in jiffies: kernel (tcpi_rto) vs model",
	              (long)(((uint64_t)ti.tcpi_rto * tf_case_hz() + 999999) / 1000000),
	              (long)tf_model_rto_jiffies(m));
}

tf_capture *tf_case_capture(tf_host *h, const char *ifname, const char *bpf, const char *label)
{
	tf_capture *c = NULL;
	int r;

	if (cur.n_caps >= TF_ARRAY_SIZE(cur.caps))
		tf_fail("too many captures in one case");
	r = tf_capture_new(h, ifname, &c);
	if (r == -EPERM || r == -EACCES)
		tf_skip("packet capture not permitted here: %s", strerror(-r));
	tf_must(r);
	if (bpf)
		tf_must(tf_capture_set_filter(c, bpf));
	tf_must(tf_capture_activate(c));
	cur.caps[cur.n_caps] = c;
	snprintf(cur.cap_labels[cur.n_caps], sizeof cur.cap_labels[0], "%s", label);
	cur.n_caps++;
	return c;
}

int64_t tf_slack_us(void)
{
	static int64_t slack = -1;

	if (slack < 0) {
		const char *e = getenv("TF_SLACK_US");
		long v;

		/* One jiffy: a timer's softirq can be deferred to the next tick
		 * (ksoftirqd, a busy CPU), so an event may land one tick after
		 * its bucket; plus 2 ms for wake-up and capture.  The model's
		 * band already carries the jiffy edge and the wheel's rounding. */
		slack = tf_model_default_slack_us(tf_case_hz());
		if (e && tf_parse_long(e, 0, 10000000, &v) == 0)
			slack = v;
		tf_diag("slack_us", "%lld%s", (long long)slack,
		        e ? " (TF_SLACK_US)" : "  # 1 jiffy + 2 ms, added to every band");
		/* in the VM fallback: how the guest's slack was obtained */
		const char *vm = getenv("TF_VM_SLACK");
		if (vm && getenv("TF_IN_VM"))
			tf_diag("vm_slack", "\"%s\"", yq(vm, (char[512]){ 0 }, 512));
	}
	return slack;
}

static double ms(int64_t us) { return (double)us / 1000.0; }

/* `what` inside a double-quoted YAML scalar: escape quotes and backslashes. */
static const char *yq(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (; *in && o + 2 < n; in++) {
		if (*in == '"' || *in == '\\')
			out[o++] = '\\';
		out[o++] = *in;
	}
	out[o] = 0;
	return out;
}

bool tf_expect_time(const char *what, int64_t measured, int64_t expected, int64_t lo, int64_t hi)
{
	char qw[512];
	int64_t s = tf_slack_us();
	bool ok = measured >= lo - s && measured <= hi + s;
	/* packetdrill's default tolerance, the widest we allow silently. */
	int64_t pd = expected / 8 > 4000 ? expected / 8 : 4000;
	bool wide = (hi + s - expected) > pd || (expected - (lo - s)) > pd;

	recordf('C', "{what: \"%s\", expected_ms: %.3f, lo_ms: %.3f, hi_ms: %.3f, "
	        "measured_ms: %.3f, error_ms: %+.3f, ok: %s%s}",
	        yq(what, qw, sizeof qw), ms(expected), ms(lo - s), ms(hi + s), ms(measured), ms(measured - expected),
	        ok ? "true" : "false", wide ? ", wider_than_packetdrill: true" : "");
	if (!ok) {
		recordf('F', "%s: expected %.3f ms (tolerance %.3f..%.3f ms), measured %.3f ms",
		        what, ms(expected), ms(lo - s), ms(hi + s), ms(measured));
		cur.soft_failed = true;
	}
	return ok;
}

/* side: the kernel's context that sets the moment (its YAML `side`). */
static bool expect_late(const char *what, int64_t measured, int64_t expected, int64_t lo, int64_t hi,
                        unsigned timers, const char *side)
{
	char qw[512], chain[32] = "";
	int64_t s = tf_slack_us(), a = chain_allowance_us(timers);
	bool ok = measured >= lo - s && measured <= hi + s + a;
	int64_t pd = expected / 8 > 4000 ? expected / 8 : 4000;
	bool wide = (hi + s - expected) > pd || (expected - (lo - s)) > pd;

	if (timers > 1)
		snprintf(chain, sizeof chain, "timers: %u, ", timers);
	recordf('C', "{what: \"%s\", side: %s, %sexpected_ms: %.3f, lo_ms: %.3f, hi_ms: %.3f, "
	        "timer_late_ms: %.3f, measured_ms: %.3f, error_ms: %+.3f, ok: %s%s}",
	        yq(what, qw, sizeof qw), side, chain, ms(expected), ms(lo - s), ms(hi + s + a), ms(a), ms(measured),
	        ms(measured - expected), ok ? "true" : "false", wide ? ", wider_than_packetdrill: true" : "");
	if (!ok) {
		recordf('F', "%s: expected %.3f ms (tolerance %.3f..%.3f ms, timer allowance %.3f ms%s), "
		        "measured %.3f ms", what, ms(expected), ms(lo - s), ms(hi + s + a), ms(a),
		        timers > 1 ? " for a chain of timers" : "", ms(measured));
		cur.soft_failed = true;
	}
	return ok;
}

static bool expect_timer(const char *what, int64_t measured, int64_t expected, int64_t lo, int64_t hi,
                         unsigned timers)
{
	return expect_late(what, measured, expected, lo, hi, timers, "kernel timer");
}

bool tf_expect_timer_time(const char *what, int64_t measured, int64_t expected, int64_t lo, int64_t hi)
{
	return expect_timer(what, measured, expected, lo, hi, 1);
}

bool tf_expect_answer_time(const char *what, int64_t measured, int64_t expected, int64_t lo, int64_t hi)
{
	return expect_late(what, measured, expected, lo, hi, 1, "kernel softirq");
}

bool tf_expect_timer_chain(const char *what, int64_t measured, int64_t expected, int64_t lo, int64_t hi,
                           unsigned timers)
{
	return expect_timer(what, measured, expected, lo, hi, timers);
}

/* A gap (a chain of `timers`) whose first timer was armed while the
 * kernel's clock (jiffies) was `behind_us` behind: it is short by as much
 * once the clock catches up.  The low edge gives that back, at most one
 * timer's allowance, and says why. */
static bool expect_back(const char *what, int64_t measured, int64_t expected, int64_t lo, int64_t hi,
                        unsigned timers, int64_t behind_us, const char *why)
{
	int64_t cap = tf_case_timer_allowance_us(), back = behind_us < cap ? behind_us : cap;
	char label[512];

	if (back <= 0)
		return expect_timer(what, measured, expected, lo, hi, timers);
	snprintf(label, sizeof label, "%s (low edge -%.3f ms: %s)", what, back / 1e3, why);
	return expect_timer(label, measured, expected, lo - back, hi, timers);
}

static int64_t expect_chain_back(const char *what, int64_t measured, int64_t expected, int64_t lo,
                                 int64_t hi, unsigned timers, int64_t behind_us, const char *why)
{
	expect_back(what, measured, expected, lo, hi, timers, behind_us, why);
	return measured - expected;
}

int64_t tf_expect_timer_gap(const char *what, int64_t measured, int64_t expected, int64_t lo,
                            int64_t hi, int64_t prev_late)
{
	return expect_chain_back(what, measured, expected, lo, hi, 1, prev_late,
	                         "the expiry before it late");
}

/* How far the kernel's timers were behind at a capture stamp (CLOCK_REALTIME):
 * the sentinel's timers pending then (tf_timer_sentinel_late_at()), 0
 * without a sentinel.  TF_TIMER_LATE_AT_US states it instead (the
 * harness's own tests, as TF_TIMER_WORST_US). */
static int64_t case_timer_behind_us(int64_t real_ns)
{
	const char *e = getenv("TF_TIMER_LATE_AT_US");
	tf_timer_stats st;
	long v;

	if (e && tf_parse_long(e, 0, 10000000, &v) == 0)
		return v;
	if (!tf_runner.timers || *tf_timer_sentinel_why(tf_runner.timers))
		return 0;
	case_timer_stats(&st);   /* its samples up to now */
	return (tf_timer_sentinel_late_at(tf_runner.timers, real_ns) + 999) / 1000;
}

bool tf_expect_timer_armed(const char *what, int64_t measured, int64_t expected, int64_t lo, int64_t hi,
                           int64_t armed_real_ns)
{
	return expect_back(what, measured, expected, lo, hi, 1, case_timer_behind_us(armed_real_ns),
	                   "the kernel's timers behind when it was armed");
}

bool tf_expect_range(const char *what, int64_t measured, int64_t lo, int64_t hi)
{
	char qw[512];
	int64_t s = tf_slack_us();
	bool ok = measured >= lo - s && measured <= hi + s;

	recordf('C', "{what: \"%s\", lo_ms: %.3f, hi_ms: %.3f, measured_ms: %.3f, ok: %s}", yq(what, qw, sizeof qw),
	        ms(lo - s), ms(hi + s), ms(measured), ok ? "true" : "false");
	if (!ok) {
		recordf('F', "%s: expected within %.3f..%.3f ms, measured %.3f ms", what, ms(lo - s),
		        ms(hi + s), ms(measured));
		cur.soft_failed = true;
	}
	return ok;
}

/* rq_us: this thread's measured run-queue wait over the interval, or -1;
 * timers: the kernel timers (a chain) that raise the moment, 0 for none. */
static bool expect_app(const char *what, int64_t measured, const int64_t *expected, int64_t lo,
                       int64_t hi, int64_t rq_us, unsigned timers)
{
	char qw[512], exp[64] = "", rq[64] = "", tl[64] = "";
	int64_t s = tf_slack_us(), w = tf_case_wakeup_allowance_us();
	int64_t t = timers ? chain_allowance_us(timers) : 0, a = w + t + (rq_us > 0 ? rq_us : 0);
	bool ok = measured >= lo - s && measured <= hi + s + a;

	if (expected)
		snprintf(exp, sizeof exp, "expected_ms: %.3f, ", ms(*expected));
	if (rq_us >= 0)
		snprintf(rq, sizeof rq, "run_queue_wait_ms: %.3f, ", ms(rq_us));
	if (timers > 1)
		snprintf(tl, sizeof tl, "timers: %u, timer_late_ms: %.3f, ", timers, ms(t));
	else if (timers)
		snprintf(tl, sizeof tl, "timer_late_ms: %.3f, ", ms(t));
	recordf('C', "{what: \"%s\", side: application, %slo_ms: %.3f, hi_ms: %.3f, "
	        "wakeup_allowance_ms: %.3f, %s%smeasured_ms: %.3f, ok: %s}", yq(what, qw, sizeof qw), exp,
	        ms(lo - s), ms(hi + s + a), ms(w), tl, rq, ms(measured), ok ? "true" : "false");
	if (!ok) {
		recordf('F', "%s (application side): expected within %.3f..%.3f ms (wake-up allowance "
		        "%.3f ms, timer allowance %.3f ms), measured %.3f ms", what, ms(lo - s),
		        ms(hi + s + a), ms(a - t), ms(t), ms(measured));
		cur.soft_failed = true;
	}
	return ok;
}

bool tf_expect_app_time(const char *what, int64_t measured, int64_t expected, int64_t lo, int64_t hi)
{
	return expect_app(what, measured, &expected, lo, hi, -1, 0);
}

bool tf_expect_app_range(const char *what, int64_t measured, int64_t lo, int64_t hi)
{
	return expect_app(what, measured, NULL, lo, hi, -1, 0);
}

bool tf_expect_app_after_timers(const char *what, int64_t measured, int64_t expected, int64_t lo,
                                int64_t hi, unsigned timers)
{
	return expect_app(what, measured, &expected, lo, hi, -1, timers ? timers : 1);
}

bool tf_expect_int(const char *what, long measured, long expected)
{
	char qw[512];
	bool ok = measured == expected;

	recordf('C', "{what: \"%s\", expected: %ld, measured: %ld, ok: %s}", yq(what, qw, sizeof qw), expected,
	        measured, ok ? "true" : "false");
	if (!ok) {
		recordf('F', "%s: expected %ld, measured %ld", what, expected, measured);
		cur.soft_failed = true;
	}
	return ok;
}

bool tf_expect_errno(const char *what, int measured, int expected)
{
	char qw[512];
	bool ok = measured == expected;

	recordf('C', "{what: \"%s\", expected: %s, measured: %s, ok: %s}", yq(what, qw, sizeof qw),
	        tf_errno_name(expected), tf_errno_name(measured), ok ? "true" : "false");
	if (!ok) {
		recordf('F', "%s: expected %s, measured %s", what, tf_errno_name(expected),
		        tf_errno_name(measured));
		cur.soft_failed = true;
	}
	return ok;
}

static tf_timeline *case_timeline(void)
{
	if (!cur.timeline && tf_timeline_new(&cur.timeline) == 0)
		tf_timeline_set_title(cur.timeline, cur.c->name);
	return cur.timeline;
}

void tf_check_schedule(const char *what, const tf_schedule *s, const int64_t *tx_ns, size_t n,
                       int64_t giveup_ns)
{
	size_t g = tf_schedule_giveup(s), count = tf_schedule_count(s);
	bool has_giveup = g < count && tf_schedule_event(s, g)->kind == TF_TX_GIVEUP;
	size_t want = has_giveup ? g : count;
	tf_timeline *tl = case_timeline();
	int64_t jiffy_us = 1000000 / tf_case_hz();
	char label[128];

	/* The kernel stops by time (retransmits_timed_out()): when the case
	 * stated the budget (tf_case_set_giveup_budget()), the count is its
	 * rule on the measured stamps, exact or either count within 1 jiffy
	 * + slack of the budget; else the ideal clock's (issue 10). */
	tf_count_replay rp = { 0 };
	uint64_t budget;
	bool replayed = has_giveup && tf_case_giveup_budget(&budget) == 0;

	if (replayed)
		replayed = tf_check_count_replayed(what, s, budget, tx_ns, n, giveup_ns, &rp) && rp.ok;
	else
		tf_expect_int("transmissions", (long)n, (long)want);
	for (size_t i = 0; i < want; i++) {
		const tf_sched_event *e = tf_schedule_event(s, i);
		if (tl)
			tf_timeline_add_expected(tl, tf_tx_kind_name(e->kind), e->at_us, e->at_lo_us,
			                         e->at_hi_us);
	}
	for (size_t i = 0; i < n; i++)
		if (tl)
			tf_timeline_add_measured(tl, i == 0 ? "sent" : "tx",
			                         (tx_ns[i] - tx_ns[0]) / 1000, 0);
	/* each gap's low edge gives back its predecessor's lateness
	 * (tf_expect_timer_gap(); a stress run: gap #5 of two cases 39 ms
	 * short after a 93 ms stall) */
	int64_t prev_late = 0;
	bool noted = false;
	/* a transmission at the ideal clock's give-up expiry (the replay
	 * allowed it): that expiry's timer is the give-up event's */
	for (size_t i = 1; i < n && (i < want || (replayed && i == want)); i++) {
		const tf_sched_event *e = tf_schedule_event(s, i);
		int64_t gap = (tx_ns[i] - tx_ns[i - 1]) / 1000;

		snprintf(label, sizeof label, "%s #%zu %s gap", what, i, tf_tx_kind_name(e->kind));
		/* Another chain sends it (tf_sched_event.from): its gap is that
		 * chain less this one, shorter by every lateness here since
		 * `from` (a stress run: 26 ms short, no expiry before it
		 * late).  Checked is its time after `from`, the low edge
		 * giving back what shortens that chain: for #0 the clock
		 * behind when its first timer was armed; for a later one, sent
		 * from a timer's callback, that callback as late as timers
		 * fired — the chain's aligned timers absorb it (stress runs:
		 * 767 ticks for 768 after a burst a tick late). */
		if (e->from_timers && e->from < i) {
			int64_t behind = e->from ? tf_case_timer_allowance_us()
			                         : case_timer_behind_us(tx_ns[0]);
			int64_t d = (tx_ns[i] - tx_ns[e->from]) / 1000;

			if (!noted && e->from_rule)
				tf_note("%s: a transmission sent by another chain of timers is checked after "
				        "the packet that started it: %s", what, e->from_rule);
			noted = true;
			snprintf(label, sizeof label, "%s #%zu %s after #%zu (%u timers: the chain that sends it)",
			         what, i, tf_tx_kind_name(e->kind), e->from, e->from_timers);
			prev_late = expect_chain_back(label, d, e->from_us, e->from_lo_us, e->from_hi_us,
			                              e->from_timers, behind,
			                              e->from ? "the callback that sent its start as late "
			                                        "as timers fired"
			                                      : "the kernel's timers behind then");
			gap = d - e->from_us + e->gap_us;   /* its error, for the ratio below */
		}
		/* every transmission after the first is a timer's (RTO, TLP,
		 * SYN, keepalive); the first's was armed by the sending
		 * syscall, with the clock as far behind as the sentinel's
		 * timers pending at that moment (a CI run: 13 ms short beside
		 * a 96 ms stall) */
		else if (i == 1)
			prev_late = expect_chain_back(label, gap, e->gap_us, e->gap_lo_us, e->gap_hi_us, 1,
			                              case_timer_behind_us(tx_ns[0]),
			                              "the kernel's timers behind when it was armed");
		else
			prev_late = tf_expect_timer_gap(label, gap, e->gap_us, e->gap_lo_us, e->gap_hi_us,
			                                prev_late);
		if (e->gap_us <= 2000000 && cur.n_err < TF_ARRAY_SIZE(cur.err_ratio)) {
			double allowed = fmax((double)jiffy_us + 2000.0, 0.03 * (double)e->gap_us);
			cur.err_ratio[cur.n_err++] = fabs((double)(gap - e->gap_us)) / allowed;
		}
	}
	if (has_giveup) {
		const tf_sched_event *e = tf_schedule_event(s, g);

		if (tl)
			tf_timeline_set_giveup(tl, e->at_us,
			                       giveup_ns >= 0 && n ? (giveup_ns - tx_ns[0]) / 1000 : -1);
		if (giveup_ns < 0) {
			recordf('F', "%s: no error reported, model expects give-up at %.3f s", what,
			        ms(e->at_us) / 1000.0);
			cur.soft_failed = true;
		} else if (n > 0) {
			int64_t at = e->at_us, at_lo = e->at_lo_us, at_hi = e->at_hi_us;
			bool other = replayed && n != want;

			/* stopped at another expiry than the ideal clock's, by
			 * the rule on the measured stamps: that expiry's timer
			 * after the last transmission (none past the model's) */
			if (other && tf_replay_giveup_band(s, tx_ns, n, &at_lo, &at, &at_hi) == 0)
				e = tf_schedule_event(s, n);
			else if (other) {
				tf_note("%s: the kernel stopped past the model's last expiry: no band for "
				        "the application side of the give-up", what);
				return;
			}
			snprintf(label, sizeof label, "%s give-up after last transmission", what);
			/* The give-up sends nothing: its moment is when the
			 * application woke on the error (application side).  The
			 * kernel side is the count and the gaps above. */
			/* the allowance adds this thread's own run-queue wait
			 * while it waited for the error, when it was measured */
			if (n == want || other)
				expect_app(label, (giveup_ns - tx_ns[n - 1]) / 1000, &e->gap_us,
				           e->gap_lo_us, e->gap_hi_us, cur.wait_rq_us, 1);
			snprintf(label, sizeof label, "%s give-up after first transmission", what);
			expect_app(label, (giveup_ns - tx_ns[0]) / 1000, &at, at_lo, at_hi, cur.wait_rq_us, 1);
		}
	}
}

int tf_case_first_data(const tf_capture *c, const tf_flow *f, int64_t t_ns, uint32_t *seq)
{
	for (size_t i = 0; i < tf_capture_count(c); i++) {
		const tf_pkt *p = tf_capture_pkt(c, i);

		if (p->proto != IPPROTO_TCP || p->payload == 0 || p->ts_ns < t_ns)
			continue;
		if (!tf_flow_addr_eq(p, f) ||
		    p->sport != f->sport || p->dport != f->dport)
			continue;
		*seq = p->seq;
		return 0;
	}
	return -ENOENT;
}

int tf_case_wait_error(int fd, tf_capture *cap, tf_host *h, const tf_flow *f, int expect_state,
                       int timeout_ms, int *err, int64_t *at_ns)
{
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	int64_t rq0 = tf_case_rq_wait_ns();
	long bad = 0, samples = 0;

	cur.wait_rq_us = -1;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLRDHUP },
			{ .fd = cap ? tf_capture_fd(cap) : -1, .events = POLLIN },
		};
		int64_t left = deadline - tf_mono_ns();
		int r;

		if (left <= 0) {
			*at_ns = tf_now_ns();
			return -ETIME;
		}
		r = poll(p, 2, (int)(left / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (p[1].revents & POLLIN) {
			size_t from = tf_capture_count(cap);
			bool rst = false;
			int st = -1;

			/* A transmission went out: the socket's state right now —
			 * except for a batch holding the flow's RST: keepalive's
			 * give-up sends one (tcp_send_active_reset()) just before
			 * tcp_write_err() ends the socket. */
			if (tf_capture_read(cap) > 0 && expect_state >= 0 && h && f) {
				for (size_t i = from; i < tf_capture_count(cap); i++) {
					const tf_pkt *q = tf_capture_pkt(cap, i);
					rst |= (q->flags & TF_TCP_RST) && q->sport == f->sport &&
					       q->dport == f->dport && tf_flow_addr_eq(q, f);
				}
				/* ... and except when the socket has already
				 * signalled its end (in this wake-up, or between the
				 * transmission and this sample: a clamped last timer
				 * gives up a jiffy after its retransmission) — then the
				 * sample is of the give-up, not of the transmission */
				struct pollfd e = { .fd = fd, .events = POLLRDHUP };
				if (!rst && !p[0].revents) {
					int d = tf_tcp_diag_state(h, f, &st);

					if ((d < 0 || st != expect_state) && poll(&e, 1, 0) == 1 && e.revents) {
						tf_note("state %s sampled after the socket signalled its end: not "
						        "counted", tf_tcp_state_name(st));
					} else {
						samples++;
						if (d < 0 || st != expect_state) {
							bad++;
							tf_note("state %s seen at a transmission (expected %s)",
							        tf_tcp_state_name(st),
							        tf_tcp_state_name(expect_state));
						}
					}
				}
			}
		}
		if (p[0].revents) {
			int64_t rq1;

			*at_ns = tf_now_ns();
			rq1 = tf_case_rq_wait_ns();
			if (rq0 >= 0 && rq1 >= rq0)
				cur.wait_rq_us = (rq1 - rq0) / 1000;
			*err = tf_sock_error(fd);
			if (expect_state >= 0 && samples > 0)
				tf_expect_int("samples in the wrong state at the transmissions", bad, 0);
			return 0;
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void child_finish(void)
{
	bool failed = !cur.finished || cur.soft_failed;
	char qp[PATH_MAX * 2];

	if (cur.skipped)
		return;
	report_wakeups();
	report_timer_sentinel();
	if (cur.n_err > 0) {
		double med;
		qsort(cur.err_ratio, cur.n_err, sizeof cur.err_ratio[0], cmp_double);
		med = cur.n_err % 2 ? cur.err_ratio[cur.n_err / 2]
		                    : (cur.err_ratio[cur.n_err / 2 - 1] + cur.err_ratio[cur.n_err / 2]) / 2;
		/* Reported as a fraction of max(1 jiffy + 2 ms, 3 %): <= 1 is the goal. */
		tf_diag("timing_error_median", "%.3f  # of max(1 jiffy + 2 ms, 3%%), over %zu gaps <= 2 s",
		        med, cur.n_err);
	}
	if (failed || tf_runner.keep) {
		for (size_t i = 0; i < cur.n_caps; i++) {
			char path[PATH_MAX];
			tf_capture_read(cur.caps[i]);
			if (!tf_case_artifacts())
				break;
			snprintf(path, sizeof path, "%s/%s.pcap", tf_case_artifacts(), cur.cap_labels[i]);
			if (tf_capture_save(cur.caps[i], path) == 0)
				tf_diag(cur.cap_labels[i], "\"%s\"", yq(path, qp, sizeof qp));
		}
	}
	if (cur.timeline && (failed || tf_runner.timeline) && tf_case_artifacts()) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/timeline.svg", tf_case_artifacts());
		if (tf_timeline_write(cur.timeline, path) == 0)
			tf_diag("timeline", "\"%s\"", yq(path, qp, sizeof qp));
	}
}

_Noreturn void tf_child_run(const tf_case *c, int rec_fd)
{
	cur.c = c;
	cur.fd = rec_fd;
	cur.start_mono_ns = tf_mono_ns();
	/* Die with the runner; own process group so a timeout kills it all. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
	if (getppid() != tf_runner.pid)   /* the runner died before PR_SET_PDEATHSIG took */
		_exit(1);
	/* Every case holds the case lock shared; an exclusive one alone.
	 * The runner's timeout starts once it is admitted (record 'A'). */
	int lock = tf_admit_case(c->exclusive != NULL);
	(void)lock;           /* held until exit */
	recordf('A', "admitted");
	if (c->exclusive)
	{
		char q[512];
		tf_diag("exclusive", "\"%s\"  # runs alone: no other case at the same time",
		        yq(c->exclusive, q, sizeof q));
	}
	cur.wake = tf_runner.wake;   /* the runner's, shared by its cases */
	atexit(child_finish);
	if (c->fn_v)
		c->fn_v(c->variant);
	else
		c->fn();
	cur.finished = true;
	if (cur.soft_failed)
		fail_msg("%s: some expectations failed (see checks)", c->name);
	exit(0);
}

