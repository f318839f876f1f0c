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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tf_test.h"
#include "tf_timeline.h"

#define TF_EXIT_SKIP 77
#define TF_DEFAULT_TIMEOUT_S 60

/* ---------- registry ---------- */

static tf_case *cases_head, **cases_tail = &cases_head;

void tf_case_register(tf_case *c)
{
	c->next = NULL;
	*cases_tail = c;
	cases_tail = &c->next;
}

/* ---------- options shared by parent and child ---------- */

static struct {
	const char *artifacts;   /* root directory for artifacts */
	bool keep;               /* save captures even on success */
	bool timeline;           /* write the SVG timeline even on success */
	const char *prog;
} opt;

/* ---------- child side ---------- */

static struct {
	const tf_case *c;
	int fd;                  /* record pipe */
	bool soft_failed;
	bool finished;           /* body returned */
	bool skipped;
	char artifacts[PATH_MAX];
	tf_capture *caps[8];
	char cap_labels[8][32];
	size_t n_caps;
	tf_timeline *timeline;
	tf_world *world;         /* the sandbox of tf_case_topo(), lives until exit */
	double err_ratio[256];   /* |measured-expected| / allowed for gaps <= 2 s */
	size_t n_err;
	struct wake_stats *wake; /* shared with the wake-up sentinel */
} cur = { .fd = -1 };

/* ---------- wake-up latency, measured in the same run ---------- */

#define TF_SENTINEL_PERIOD_NS 5000000

struct wake_stats {
	int64_t max_late_ns;
	int64_t samples;
};

/*
 * A process of the case's own priority, in the case's process group, that
 * sleeps until an absolute CLOCK_MONOTONIC instant every 5 ms and records
 * how late it woke: what the scheduler does to a sleeping process on this
 * host right now.  A separate process, not a thread: the case must stay
 * single-threaded to unshare() a user namespace.
 */
static void sentinel_start(void)
{
	struct wake_stats *w = mmap(NULL, sizeof *w, PROT_READ | PROT_WRITE,
	                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t parent = getpid(), pid;

	if (w == MAP_FAILED)
		return;
	cur.wake = w;
	pid = fork();
	if (pid != 0)
		return;   /* parent (or fork failed: no allowance beyond the slack) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		dup2(null, fd);
	syscall(SYS_close_range, 3U, ~0U, 0U);   /* the record pipe must close with the case */
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		struct timespec now;
		int64_t late;

		next.tv_nsec += TF_SENTINEL_PERIOD_NS;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		clock_gettime(CLOCK_MONOTONIC, &now);
		late = (int64_t)(now.tv_sec - next.tv_sec) * 1000000000 + (now.tv_nsec - next.tv_nsec);
		if (late > __atomic_load_n(&w->max_late_ns, __ATOMIC_RELAXED))
			__atomic_store_n(&w->max_late_ns, late, __ATOMIC_RELAXED);
		__atomic_add_fetch(&w->samples, 1, __ATOMIC_RELAXED);
		if (late > TF_SENTINEL_PERIOD_NS)   /* overslept: do not catch up in a burst */
			next = now;
	}
}

int64_t tf_case_wakeup_allowance_us(void)
{
	int64_t late = cur.wake ? __atomic_load_n(&cur.wake->max_late_ns, __ATOMIC_RELAXED) : 0;
	int64_t n = cur.wake ? __atomic_load_n(&cur.wake->samples, __ATOMIC_RELAXED) : 0;

	(void)n;
	return 2 * ((late + 999) / 1000);
}

static void report_wakeups(void)
{
	if (!cur.wake)
		return;
	tf_diag("wakeup_latency_max_us", "%lld  # worst of %lld timer wake-ups (every 5 ms) in this "
	        "case; twice it is the allowance of application-side checks",
	        (long long)(cur.wake->max_late_ns + 999) / 1000, (long long)cur.wake->samples);
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

static int mkdir_p(const char *path)
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
		snprintf(cur.artifacts, sizeof cur.artifacts, "%s/%s/%s", opt.artifacts, opt.prog,
		         cur.c->name);
		if (mkdir_p(cur.artifacts) < 0)
			snprintf(cur.artifacts, sizeof cur.artifacts, "/tmp");
	}
	return cur.artifacts;
}

tf_topo *tf_case_topo(tf_topo_shape shape)
{
	tf_world *w = NULL;
	tf_topo *t = NULL;
	int r = tf_world_new(&w);

	/* No sandbox here is a missing capability: SKIP with the reason.
	 * Anything that fails once the sandbox exists is a real failure. */
	if (r < 0) {
		char why[512];
		tf_sandbox_explain(r, why, sizeof why);
		tf_skip("%s", why);
	}
	cur.world = w;
	tf_must(tf_topo_new_in(w, shape, &t));
	tf_diag("sandbox", "%s", tf_world_in_userns(w) ?
	        "user namespace (unprivileged path)" : "network namespaces as root");
	return t;
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
	mutate(m);
	tf_must(tf_model_set_hz(m, tf_case_hz()));
	/* Start from what this host's kernel says, not from what we assume. */
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_retries2", &v) == 0)
		tf_must(tf_case_set_retries2(m, (unsigned)v));
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_early_retrans", &v) == 0)
		tf_must(tf_model_set_early_retrans(m, (int)v));
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_rto_min_us", &v) == 0)
		tf_must(tf_model_set_rto_min_us(m, (uint32_t)v));
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_rto_max_ms", &v) == 0) {
		tf_must(tf_model_set_rto_max_ms(m, (uint32_t)v));
		/* The sysctl and the per-socket maximum arrived together (6.15),
		 * and with them tcp_model_timeout() uses tcp_rto_max(sk). */
		tf_must(tf_model_set_rto_max_in_budget(m, true));
	}
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_syn_retries", &v) == 0)
		tf_must(tf_model_set_syn_retries(m, (unsigned)v));
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_syn_linear_timeouts", &v) == 0)
		tf_must(tf_model_set_syn_linear_timeouts(m, (int)v));
	else
		tf_note("kernel has no tcp_syn_linear_timeouts: SYN backoff is purely exponential");
	return m;
}

tf_model *tf_case_model_sock(tf_host *h, int fd)
{
	tf_model *m = tf_case_model(h);
	struct tcp_info ti;
	int v, idle, intvl, cnt;

	/* The socket's own state overrides the host's defaults: its RTT
	 * estimate, and the options a program may have set on it. */
	tf_must(tf_tcp_info(fd, &ti));
	tf_must(tf_model_set_rtt(m, ti.tcpi_rtt, ti.tcpi_rttvar));
	if (tf_sock_get_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v) == 0 && v > 0)
		tf_must(tf_model_set_user_timeout_ms(m, (uint32_t)v));
	if (tf_sock_get_int(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &v) == 0 && v > 0)
		tf_must(tf_model_set_rto_max_ms(m, (uint32_t)v));
	/* getsockopt() answers the effective value, sysctl default included. */
	if (tf_sock_get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle) == 0 &&
	    tf_sock_get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl) == 0 &&
	    tf_sock_get_int(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt) == 0)
		tf_must(tf_model_set_keepalive(m, (uint32_t)idle, (uint32_t)intvl, (unsigned)cnt));
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
		slack = 1000000 / tf_case_hz() + 2000;
		if (e && tf_parse_long(e, 0, 10000000, &v) == 0)
			slack = v;
		tf_diag("slack_us", "%lld%s", (long long)slack,
		        e ? " (TF_SLACK_US)" : "  # 1 jiffy + 2 ms, added to every band");
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

static bool expect_app(const char *what, int64_t measured, const int64_t *expected, int64_t lo,
                       int64_t hi)
{
	char qw[512], exp[64] = "";
	int64_t s = tf_slack_us(), a = tf_case_wakeup_allowance_us();
	bool ok = measured >= lo - s && measured <= hi + s + a;

	if (expected)
		snprintf(exp, sizeof exp, "expected_ms: %.3f, ", ms(*expected));
	recordf('C', "{what: \"%s\", side: application, %slo_ms: %.3f, hi_ms: %.3f, "
	        "wakeup_allowance_ms: %.3f, measured_ms: %.3f, ok: %s}", yq(what, qw, sizeof qw), exp,
	        ms(lo - s), ms(hi + s + a), ms(a), ms(measured), ok ? "true" : "false");
	if (!ok) {
		recordf('F', "%s (application side): expected within %.3f..%.3f ms (wake-up allowance "
		        "%.3f ms), measured %.3f ms", what, ms(lo - s), ms(hi + s + a), ms(a), ms(measured));
		cur.soft_failed = true;
	}
	return ok;
}

bool tf_expect_app_time(const char *what, int64_t measured, int64_t expected, int64_t lo, int64_t hi)
{
	return expect_app(what, measured, &expected, lo, hi);
}

bool tf_expect_app_range(const char *what, int64_t measured, int64_t lo, int64_t hi)
{
	return expect_app(what, measured, NULL, lo, hi);
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
	for (size_t i = 1; i < n && i < want; i++) {
		const tf_sched_event *e = tf_schedule_event(s, i);
		int64_t gap = (tx_ns[i] - tx_ns[i - 1]) / 1000;

		snprintf(label, sizeof label, "%s #%zu %s gap", what, i, tf_tx_kind_name(e->kind));
		tf_expect_time(label, gap, e->gap_us, e->gap_lo_us, e->gap_hi_us);
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
			snprintf(label, sizeof label, "%s give-up after last transmission", what);
			/* The give-up sends nothing: its moment is when the
			 * application woke on the error (application side).  The
			 * kernel side is the count and the gaps above. */
			if (n == want)
				tf_expect_app_time(label, (giveup_ns - tx_ns[n - 1]) / 1000, e->gap_us,
				                   e->gap_lo_us, e->gap_hi_us);
			snprintf(label, sizeof label, "%s give-up after first transmission", what);
			tf_expect_app_time(label, (giveup_ns - tx_ns[0]) / 1000, e->at_us, e->at_lo_us,
			                   e->at_hi_us);
		}
	}
}

int tf_case_first_data(const tf_capture *c, const tf_flow *f, int64_t t_ns, uint32_t *seq)
{
	for (size_t i = 0; i < tf_capture_count(c); i++) {
		const tf_pkt *p = tf_capture_pkt(c, i);

		if (p->proto != IPPROTO_TCP || p->payload == 0 || p->ts_ns < t_ns)
			continue;
		if (p->src.s_addr != f->src.s_addr || p->dst.s_addr != f->dst.s_addr ||
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
	long bad = 0, samples = 0;

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
					       q->dport == f->dport && q->src.s_addr == f->src.s_addr;
				}
				if (!rst) {
					samples++;
					if (tf_tcp_diag_state(h, f, &st) < 0 || st != expect_state) {
						bad++;
						tf_note("state %s seen at a transmission (expected %s)",
						        tf_tcp_state_name(st), tf_tcp_state_name(expect_state));
					}
				}
			}
		}
		if (p[0].revents) {
			*at_ns = tf_now_ns();
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

	if (cur.skipped)
		return;
	report_wakeups();
	if (cur.n_err > 0) {
		double med;
		qsort(cur.err_ratio, cur.n_err, sizeof cur.err_ratio[0], cmp_double);
		med = cur.n_err % 2 ? cur.err_ratio[cur.n_err / 2]
		                    : (cur.err_ratio[cur.n_err / 2 - 1] + cur.err_ratio[cur.n_err / 2]) / 2;
		/* Reported as a fraction of max(1 jiffy + 2 ms, 3 %): <= 1 is the goal. */
		tf_diag("timing_error_median", "%.3f  # of max(1 jiffy + 2 ms, 3%%), over %zu gaps <= 2 s",
		        med, cur.n_err);
	}
	if (failed || opt.keep) {
		for (size_t i = 0; i < cur.n_caps; i++) {
			char path[PATH_MAX];
			tf_capture_read(cur.caps[i]);
			snprintf(path, sizeof path, "%s/%s.pcap", tf_case_artifacts(), cur.cap_labels[i]);
			if (tf_capture_save(cur.caps[i], path) == 0)
				tf_diag(cur.cap_labels[i], "%s", path);
		}
	}
	if (cur.timeline && (failed || opt.timeline)) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/timeline.svg", tf_case_artifacts());
		if (tf_timeline_write(cur.timeline, path) == 0)
			tf_diag("timeline", "%s", path);
	}
}

static _Noreturn void child_run(const tf_case *c, int rec_fd)
{
	cur.c = c;
	cur.fd = rec_fd;
	/* Die with the runner; own process group so a timeout kills it all. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
	sentinel_start();
	atexit(child_finish);
	c->fn();
	cur.finished = true;
	if (cur.soft_failed)
		fail_msg("%s: some expectations failed (see checks)", c->name);
	exit(0);
}

/* ---------- parent side ---------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static int drain(int fd, struct buf *b)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof tmp);

	if (n > 0)
		buf_add(b, tmp, (size_t)n);
	return n > 0 ? 1 : (n == 0 || errno != EAGAIN) ? 0 : 1;
}

/*
 * YAML out, in the subset TAP consumers read: prove's YAMLish has no flow
 * collections, so a value written as {k: v, ...} or [a, b] is printed as
 * block mappings and sequences.  Quoted strings and nesting are honoured.
 */
static const char *flow_skip_ws(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/* End of one flow item starting at p: the top-level ',' or closing bracket. */
static const char *flow_item_end(const char *p)
{
	int depth = 0;
	bool q = false;

	for (; *p; p++) {
		if (q) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				q = false;
			continue;
		}
		if (*p == '"')
			q = true;
		else if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && depth-- == 0)
			return p;
		else if (*p == ',' && depth == 0)
			return p;
	}
	return p;
}

static void yaml_value(struct buf *out, const char *v, size_t n, int indent, bool in_seq);

/* Emit "key: value" (or "- value" for a sequence item) at indent. */
static void yaml_entry(struct buf *out, const char *key, size_t klen, const char *v, size_t n,
                       int indent, bool dash)
{
	char pad[64];
	int w = indent < 60 ? indent : 60;

	while (n > 0 && v[n - 1] == ' ')
		n--;
	memset(pad, ' ', (size_t)w);
	buf_add(out, pad, (size_t)w);
	if (dash)
		buf_add(out, "- ", 2);
	if (key) {
		buf_add(out, key, klen);
		buf_add(out, ":", 1);
	}
	if (n > 0 && (v[0] == '{' || v[0] == '[') && (v[n - 1] == '}' || v[n - 1] == ']')) {
		if (key) {
			buf_add(out, "\n", 1);
			yaml_value(out, v, n, indent + (dash ? 4 : 2), false);
		} else {
			/* "- {a: 1}" becomes "- a: 1" with the rest aligned under it */
			struct buf tmp = { 0 };
			yaml_value(&tmp, v, n, indent + 2, false);
			if (tmp.p) {
				const char *t = tmp.p + indent + 2;
				buf_add(out, t, tmp.len - (size_t)(indent + 2));
			}
			free(tmp.p);
		}
		return;
	}
	if (key)
		buf_add(out, " ", 1);
	buf_add(out, v, n);
	buf_add(out, "\n", 1);
}

static void yaml_value(struct buf *out, const char *v, size_t n, int indent, bool in_seq)
{
	bool map = v[0] == '{';
	const char *p = v + 1, *end = v + n - 1;

	(void)in_seq;
	while (p < end) {
		const char *e, *colon = NULL;

		p = flow_skip_ws(p);
		if (p >= end)
			break;
		e = flow_item_end(p);
		if (e > end)
			e = end;
		if (map) {
			for (const char *c = p; c < e; c++)
				if (*c == ':') {
					colon = c;
					break;
				}
			if (colon) {
				const char *val = flow_skip_ws(colon + 1);
				yaml_entry(out, p, (size_t)(colon - p), val, (size_t)(e - val), indent, false);
			}
		} else {
			yaml_entry(out, NULL, 0, p, (size_t)(e - p), indent, true);
		}
		p = e + 1;
	}
}

/* A record "key: value" (D) or "{...}" list item (C) to block YAML. */
static void yaml_record(struct buf *out, const char *rec, int indent, bool item)
{
	if (item) {
		yaml_entry(out, NULL, 0, rec, strlen(rec), indent, true);
		return;
	}
	const char *colon = strstr(rec, ": ");
	if (!colon) {
		yaml_entry(out, rec, strlen(rec), "", 0, indent, false);
		return;
	}
	yaml_entry(out, rec, (size_t)(colon - rec), colon + 2, strlen(colon + 2), indent, false);
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Print `text` as a YAML literal block at the given indent. */
static void yaml_block(const char *key, const char *text)
{
	const char *p = text;

	printf("  %s: |\n", key);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		printf("    %.*s\n", (int)n, p);
		p += n + (nl ? 1 : 0);
	}
}

static void yaml_quote(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static int run_one(const tf_case *c, unsigned num, const char *kernel)
{
	int rec[2], out[2], pidfd;
	struct buf rb = { 0 }, ob = { 0 };
	unsigned timeout = c->timeout_s ? c->timeout_s : TF_DEFAULT_TIMEOUT_S;
	int64_t start = tf_mono_ns(), deadline = start + (int64_t)timeout * 1000000000;
	bool timed_out = false, rec_open = true, out_open = true;
	int status = 0;
	pid_t pid;

	if (pipe2(rec, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		printf("not ok %u - %s\n  ---\n  message: \"pipe: %s\"\n  ...\n", num, c->name,
		       strerror(errno));
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("not ok %u - %s\n  ---\n  message: \"fork: %s\"\n  ...\n", num, c->name,
		       strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(rec[0]);
		close(out[0]);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		close(out[1]);
		setvbuf(stdout, NULL, _IONBF, 0);
		child_run(c, rec[1]);
	}
	setpgid(pid, pid);
	close(rec[1]);
	close(out[1]);
	fcntl(rec[0], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	pidfd = pidfd_open_(pid);

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = rec_open ? rec[0] : -1, .events = POLLIN },
			{ .fd = out_open ? out[0] : -1, .events = POLLIN },
			{ .fd = pidfd, .events = POLLIN },
		};
		int64_t left = deadline - tf_mono_ns();
		int r;

		if (left <= 0) {
			/* Kill the whole group: the case and anything it started. */
			kill(-pid, SIGKILL);
			if (pidfd >= 0)
				syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			timed_out = true;
			break;
		}
		r = poll(p, 3, (int)(left / 1000000) + 1);
		if (r < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			rec_open = drain(rec[0], &rb);
		if (p[1].revents)
			out_open = drain(out[0], &ob);
		if (!rec_open && !out_open)
			break;
		/* Child gone but a grandchild holds the pipes: do not wait for it. */
		if (pidfd >= 0 && (p[2].revents & POLLIN) && !rec_open)
			break;
	}
	waitpid(pid, &status, 0);
	/* Anything still in the group (a server a case spawned) goes too. */
	kill(-pid, SIGKILL);
	while (drain(rec[0], &rb) == 1 && rb.len < (1 << 24))
		;
	while (drain(out[0], &ob) == 1 && ob.len < (1 << 24))
		;
	close(rec[0]);
	close(out[0]);
	if (pidfd >= 0)
		close(pidfd);

	/* Assemble the result. */
	const char *skip = NULL;
	bool failed_rec = false;
	char *line, *save = NULL;
	struct buf diags = { 0 }, checks = { 0 }, notes = { 0 }, fails = { 0 };
	for (line = rb.p ? strtok_r(rb.p, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strlen(line) < 2)
			continue;
		const char *v = line + 2;
		switch (line[0]) {
		case 'D': yaml_record(&diags, v, 2, false); break;
		case 'C': yaml_record(&checks, v, 4, true); break;
		case 'N': buf_add(&notes, v, strlen(v)); buf_add(&notes, "\n", 1); break;
		case 'S': skip = v; break;
		case 'F': failed_rec = true; buf_add(&fails, v, strlen(v)); buf_add(&fails, "\n", 1); break;
		}
	}
	bool ok;
	const char *why = NULL;
	char whybuf[128];
	if (timed_out) {
		ok = false;
		snprintf(whybuf, sizeof whybuf, "timeout: killed after %u s", timeout);
		why = whybuf;
	} else if (WIFSIGNALED(status)) {
		ok = false;
		snprintf(whybuf, sizeof whybuf, "killed by signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
		why = whybuf;
	} else if (WEXITSTATUS(status) == TF_EXIT_SKIP && skip) {
		ok = true;
	} else {
		ok = WEXITSTATUS(status) == 0 && !failed_rec;
		skip = NULL;
	}

	if (skip)
		printf("ok %u - %s # SKIP %s\n", num, c->name, skip);
	else
		printf("%s %u - %s\n", ok ? "ok" : "not ok", num, c->name);
	printf("  ---\n");
	printf("  duration_ms: %.1f\n", (double)(tf_mono_ns() - start) / 1e6);
	printf("  kernel: %s\n", kernel);
	if (c->proves) {
		printf("  proves: ");
		yaml_quote(c->proves);
		putchar('\n');
	}
	if (why) {
		printf("  message: ");
		yaml_quote(why);
		putchar('\n');
	}
	if (diags.p)
		fputs(diags.p, stdout);
	if (checks.p)
		printf("  checks:\n%s", checks.p);
	if (notes.p)
		yaml_block("notes", notes.p);
	if (fails.p)
		yaml_block("failures", fails.p);
	if (ob.p && (!ok || getenv("TF_VERBOSE")))
		yaml_block("output", ob.p);
	printf("  ...\n");
	fflush(stdout);
	free(rb.p); free(ob.p); free(diags.p); free(checks.p); free(notes.p); free(fails.p);
	return ok ? 0 : 1;
}

static bool selected_by_name(const tf_case *c, const char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c->name, names[i]) == 0)
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s [OPTIONS]\n"
	        "Run tcpfate cases against the running kernel; TAP version 13 on stdout.\n\n"
	        "  -l, --list            list the cases and exit\n"
	        "  -r, --run NAME        run only NAME (repeatable)\n"
	        "      --slow            run only the slow cases\n"
	        "      --all             run fast and slow cases\n"
	        "  -a, --artifacts DIR   where failing cases leave pcaps and timelines\n"
	        "                        [$TF_ARTIFACTS or ./tcpfate-artifacts]\n"
	        "  -k, --keep            keep captures of passing cases too\n"
	        "  -t, --timeline        write the SVG timeline of every timing case\n"
	        "  -h, --help            this text\n", opt.prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "run", required_argument, NULL, 'r' },
		{ "slow", no_argument, NULL, 'S' },
		{ "all", no_argument, NULL, 'A' },
		{ "artifacts", required_argument, NULL, 'a' },
		{ "keep", no_argument, NULL, 'k' },
		{ "timeline", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *only[64];
	size_t n_only = 0;
	bool list = false, slow = false, all = false;
	char kernel[128] = "?";
	unsigned total = 0, num = 0, failed = 0;
	int ch;

	opt.prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	opt.artifacts = getenv("TF_ARTIFACTS") ? getenv("TF_ARTIFACTS") : "tcpfate-artifacts";
	while ((ch = getopt_long(argc, argv, "lr:a:kth", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': list = true; break;
		case 'r':
			if (n_only >= TF_ARRAY_SIZE(only)) {
				fprintf(stderr, "%s: too many --run options\n", opt.prog);
				return 2;
			}
			only[n_only++] = optarg;
			break;
		case 'S': slow = true; break;
		case 'A': all = true; break;
		case 'a':
			if (!*optarg) {
				fprintf(stderr, "%s: --artifacts needs a directory\n", opt.prog);
				return 2;
			}
			opt.artifacts = optarg;
			break;
		case 'k': opt.keep = true; break;
		case 't': opt.timeline = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", opt.prog, argv[optind]);
		usage(stderr);
		return 2;
	}
	if (slow && all) {
		fprintf(stderr, "%s: --slow and --all exclude each other\n", opt.prog);
		return 2;
	}
	for (size_t i = 0; i < n_only; i++) {
		bool found = false;
		for (tf_case *c = cases_head; c; c = c->next)
			found |= strcmp(c->name, only[i]) == 0;
		if (!found) {
			fprintf(stderr, "%s: no case named '%s' (see --list)\n", opt.prog, only[i]);
			return 2;
		}
	}

#define SELECTED(c) (n_only ? selected_by_name(c, only, n_only) : (all || (c)->slow == slow))

	for (tf_case *c = cases_head; c; c = c->next) {
		if (!SELECTED(c))
			continue;
		if (list)
			printf("%s%s\n", c->name, c->slow ? " (slow)" : "");
		total++;
	}
	if (list)
		return 0;

	tf_kernel_release(kernel, sizeof kernel);
	signal(SIGPIPE, SIG_IGN);
	printf("TAP version 13\n1..%u\n", total);
	printf("# %s on Linux %s as uid %u\n", opt.prog, kernel, (unsigned)getuid());
	for (tf_case *c = cases_head; c; c = c->next) {
		if (!SELECTED(c))
			continue;
		failed += run_one(c, ++num, kernel);
	}
	return failed ? 1 : 0;
}

