/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The card's rows (one way a network dies, at one moment of the client's
 * life), the `tcpfate exec` argument vector of each, and the verdict of a
 * row against the policy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "card.h"
#include "tf_model.h"

/* exec's slow-reader with its duty cycle spelled out: the timeline draws
 * it (card_html.c) from these numbers, whatever exec's defaults become. */
#define SLOW_RUN_MS    50
#define SLOW_PERIOD_MS 1000
#define SLOW_FAULT     "slow-reader:50/1000"

static const struct rowdef {
	const char *name, *what, *fault;
	enum card_phase phase;
	enum card_class cls;
	bool dead_peer, needs_server;
	int heal;
	const char *cannot;
} defs[] = {
	{ "connect-silent", "server unreachable at connect: the router drops the SYNs, silently",
	  "blackhole", CP_CONNECT, CC_CONNECT, true, false, 0, NULL },
	{ "send-blackhole", "blackhole while the client sends",
	  "blackhole", CP_BUSY, CC_SENDING, true, false, 0, NULL },
	{ "idle-blackhole", "blackhole while the client waits, idle, for an answer",
	  "blackhole", CP_WAITING, CC_IDLE, true, false, 0, NULL },
	{ "pooled-blackhole", "blackhole on an idle pooled connection",
	  "blackhole", CP_POOLED, CC_IDLE, true, false, 0, NULL },
	{ "cable-blip", "cable pulled and replugged before the kernel gives up",
	  "cable-pull", CP_WAITING, CC_SURVIVE, false, false, 1, NULL },
	{ "cable-pulled", "cable pulled, replugged only after the policy's bound",
	  "cable-pull", CP_WAITING, CC_IDLE, true, false, 2, NULL },
	{ "pmtu-blackhole", "PMTU black hole (MTU 1280, ICMP suppressed) on a large transfer",
	  "mtu-blackhole", CP_BUSY, CC_SENDING, true, false, 0, NULL },
	{ "server-kill", "the server process killed: its kernel closes the connection",
	  "server-kill", CP_WAITING, CC_CRASH, false, true, 0, NULL },
	{ "server-vanish", "the server host vanished: silence, its processes gone",
	  "server-vanish", CP_WAITING, CC_IDLE, true, false, 0, NULL },
	{ "server-stop", "the server stopped (SIGSTOP): its kernel still ACKs",
	  "server-stop", CP_WAITING, CC_STALLED, false, true, 0, NULL },
	{ "zero-window", "a reader that stops reading while the client sends: the window closes",
	  "server-stop", CP_BUSY, CC_STALLED, false, true, 0, NULL },
	{ "slow-reader", "a slow reader while the client sends: the server runs once a second, "
	  "its window closes and reopens a little at a time",
	  SLOW_FAULT, CP_BUSY, CC_STALLED, false, true, 0, NULL },
	{ "loss", "5 % of the packets lost, both ways (netem)",
	  "loss:5", CP_BUSY, CC_SURVIVE, false, false, 0, NULL },
	{ "delay", "200 ms more delay, both ways (netem)",
	  "delay:200", CP_BUSY, CC_SURVIVE, false, false, 0, NULL },
};

const char *card_fault_list(void)
{
	static char buf[512];

	if (!buf[0])
		for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? "," : "",
			         defs[i].name);
	return buf;
}

const char *card_phase_name(enum card_phase p)
{
	static const char *const n[] = { "connect", "busy", "waiting", "pooled" };
	return p <= CP_POOLED ? n[p] : "?";
}

const char *card_verdict_name(enum card_verdict v)
{
	static const char *const n[] = { "PASS", "FAIL", "SKIP", "-", "ERROR" };
	return v <= CV_ERROR ? n[v] : "?";
}

static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p; ) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

size_t card_rows_make(const struct card_opts *o, struct card_row *rows, size_t max,
                      char *err, size_t errlen)
{
	size_t n = 0;

	/* every name in --faults must be a row */
	for (const char *p = o->faults; p && *p; ) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		bool found = false;
		for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
			found |= strlen(defs[i].name) == len && strncmp(defs[i].name, p, len) == 0;
		if (!found) {
			snprintf(err, errlen, "--faults: unknown row '%.*s' (rows: %s)", (int)(len > 64 ? 64 : len),
			         p, card_fault_list());
			return 0;
		}
		p = e ? e + 1 : NULL;
	}
	for (size_t i = 0; i < sizeof defs / sizeof defs[0] && n < max; i++) {
		const struct rowdef *d = &defs[i];
		struct card_row *r = &rows[n];

		if (o->faults && !listed(o->faults, d->name))
			continue;
		memset(r, 0, sizeof *r);
		r->name = d->name;
		r->what = d->what;
		r->fault = d->fault;
		r->phase = d->phase;
		r->cls = d->cls;
		r->dead_peer = d->dead_peer;
		r->heal = d->heal;
		r->cannot = d->cannot;
		if (r->fault && strcmp(r->fault, SLOW_FAULT) == 0) {
			r->slow_run_ms = SLOW_RUN_MS;
			r->slow_period_ms = SLOW_PERIOD_MS;
		}
		r->out_fd = r->err_fd = -1;
		r->bound_ms = -1;
		if (!r->cannot && d->needs_server && !o->server_cmd)
			r->cannot = "needs --server (a fault of the server's process)";
		if (!r->cannot && !o->phase_on[d->phase])
			r->cannot = d->phase == CP_POOLED
			            ? "no --pooled-on EVENT: the moment the client holds an idle pooled connection"
			            : "no trigger for this phase";
		n++;
	}
	if (!n)
		snprintf(err, errlen, "--faults selects no row");
	return n;
}

static int push(struct card_row *r, const char *s)
{
	if (r->argc + 1 >= sizeof r->argv / sizeof r->argv[0])
		return -E2BIG;
	r->argv[r->argc] = strdup(s);
	if (!r->argv[r->argc])
		return -ENOMEM;
	r->argc++;
	r->argv[r->argc] = NULL;
	return 0;
}

static int pushf(struct card_row *r, const char *fmt, double v)
{
	char buf[64];
	snprintf(buf, sizeof buf, fmt, v);
	return push(r, buf);
}

/* The largest bound among the dead-peer classes: when "after the give-up" is. */
static double late_heal_s(const struct card_opts *o)
{
	int64_t b = -1;

	for (int c = CC_CONNECT; c <= CC_IDLE; c++)
		if (o->policy.bound_ms[c] > b)
			b = o->policy.bound_ms[c];
	return b > 0 && (double)b / 1e3 + 1 < o->limit_s ? (double)b / 1e3 + 1 : o->limit_s / 2;
}

int card_row_argv(const struct card_opts *o, struct card_row *r, const char *self_name)
{
	const char *on = o->phase_on[r->phase];
	double at = 0, setup = 20;   /* topology, server start, the trigger */
	int e = 0;

	e |= push(r, self_name);
	e |= push(r, "exec");
	e |= push(r, "--fault");
	e |= push(r, r->fault);
	if (strncmp(on, "at:", 3) == 0) {
		at = strtod(on + 3, NULL);
		e |= push(r, "--at");
		e |= push(r, on + 3);
	} else {
		e |= push(r, "--on");
		e |= push(r, on);
	}
	e |= push(r, "--model");
	if (r->heal) {
		e |= push(r, "--heal-after");
		e |= pushf(r, "%.3f", r->heal == 1 ? o->blip_s : late_heal_s(o));
	}
	e |= push(r, "--timeout");
	e |= pushf(r, "%.0f", at + o->limit_s + setup);
	if (r->pcap[0]) {
		e |= push(r, "--pcap");
		e |= push(r, r->pcap);
	}
	if (o->server_cmd) {
		e |= push(r, "--server");
		e |= push(r, o->server_cmd);
	}
	if (o->wait_server) {
		e |= push(r, "--wait-server");
		e |= push(r, o->wait_server);
	}
	for (size_t i = 0; i < o->n_sysctl; i++) {
		e |= push(r, "--client-sysctl");
		e |= push(r, o->sysctl[i]);
	}
	for (size_t i = 0; i < o->n_server_sysctl; i++) {
		e |= push(r, "--server-sysctl");
		e |= push(r, o->server_sysctl[i]);
	}
	if (o->ipv6)
		e |= push(r, "--ipv6");
	if (o->client_cmd) {
		e |= push(r, "--client");
		e |= push(r, o->client_cmd);
	} else {
		e |= push(r, "--");
		for (char **a = o->client_argv; a && *a; a++)
			e |= push(r, *a);
	}
	r->deadline_ns = (int64_t)((at + o->limit_s + setup + 30) * 1e9);  /* exec's own + 30 s */  /* relative to start */
	return e ? -E2BIG : 0;
}

/* Which knob or socket option decided when the kernel gives up. */
static void describe_knob(const card_exec_result *x, char *buf, size_t n)
{
	const char *s = x->schedule;

	buf[0] = 0;
	if (!s)
		return;
	if (strcmp(s, "syn") == 0) {
		/* TCP_SYNCNT reads back the sysctl when the socket did not set it */
		char syn[64];
		if (x->syncnt > 0 && x->syncnt != x->tcp_syn_retries)
			snprintf(syn, sizeof syn, "TCP_SYNCNT=%ld", x->syncnt);
		else
			snprintf(syn, sizeof syn, "tcp_syn_retries=%ld", x->tcp_syn_retries);
		if (x->user_timeout_ms > 0)
			snprintf(buf, n, "TCP_USER_TIMEOUT=%ld ms, %s", x->user_timeout_ms, syn);
		else
			snprintf(buf, n, "%s", syn);
	}
	else if (x->user_timeout_ms > 0 && (strcmp(s, "retrans") == 0 || strcmp(s, "keepalive") == 0))
		snprintf(buf, n, "TCP_USER_TIMEOUT=%ld ms", x->user_timeout_ms);
	else if (strcmp(s, "retrans") == 0)
		snprintf(buf, n, "tcp_retries2=%ld", x->tcp_retries2);
	else if (strcmp(s, "keepalive") == 0)
		snprintf(buf, n, "SO_KEEPALIVE: idle %ld s, every %ld s, %ld probes", x->ka_idle,
		         x->ka_intvl, x->ka_cnt);
	else if (strcmp(s, "never") == 0)
		snprintf(buf, n, "no timer (SO_KEEPALIVE off, nothing to send)");
}

static void first_line(const char *s, char *buf, size_t n)
{
	size_t len = 0;

	while (s && s[len] && s[len] != '\n')
		len++;
	snprintf(buf, n, "%.*s", (int)(len > 300 ? 300 : len), s ? s : "");
}

void card_row_judge(const struct card_opts *o, struct card_row *r)
{
	const card_exec_result *x = r->res;
	const card_policy *p = &o->policy;
	int64_t b;

	r->bound_ms = -1;
	r->noticed_s = -1;
	if (r->cannot) {
		r->verdict = CV_SKIP;
		snprintf(r->reason, sizeof r->reason, "%s", r->cannot);
		return;
	}
	if (!r->done || !x || x->outcome == CX_UNREADABLE ||
	    !WIFEXITED(r->status) || WEXITSTATUS(r->status) == 2) {
		char l[320];
		first_line(r->err, l, sizeof l);
		r->verdict = CV_ERROR;
		snprintf(r->reason, sizeof r->reason, "tcpfate exec %s: %s",
		         r->killed ? "did not end in time" : "failed", l[0] ? l : "no result");
		return;
	}
	if (x->message && strncmp(x->message, "interrupted", 11) == 0) {
		r->verdict = CV_ERROR;
		snprintf(r->reason, sizeof r->reason, "no verdict: %s", x->message);
		return;
	}
	if (x->outcome == CX_SKIP) {
		r->verdict = CV_SKIP;
		snprintf(r->reason, sizeof r->reason, "%s", x->skip_reason ? x->skip_reason : "skipped");
		return;
	}
	if (!x->fault_done) {
		bool inj = x->message && strncmp(x->message, "could not", 9) == 0;
		r->verdict = inj ? CV_ERROR : CV_SKIP;
		snprintf(r->reason, sizeof r->reason, "%s%s", inj ? "" : "the client never reached "
		         "this phase: ", x->message ? x->message : "the fault was not injected");
		return;
	}
	describe_knob(x, r->knob, sizeof r->knob);
	if (r->slow_period_ms) {
		/* a live peer: the kernel's own rule (tf_model_slow_reader_fate()) */
		tf_slow_reader_fate f;

		(void)tf_model_slow_reader_fate(x->user_timeout_ms > 0 ? (uint32_t)x->user_timeout_ms : 0,
		                                &f);   /* -EINVAL only for NULL */
		if (!f.never)
			snprintf(r->knob, sizeof r->knob, "TCP_USER_TIMEOUT=%ld ms, %s",
			         x->user_timeout_ms, f.clock);
		else
			snprintf(r->knob, sizeof r->knob, "no timer: the window reopens every %.3g s",
			         r->slow_period_ms / 1e3);
	}
	bool nonzero = x->client_exited && x->exit_code != 0;
	if (r->cls == CC_SURVIVE) {
		/* gave up during the blip (or at all, under loss or delay); an exit
		 * later than 1 s after the replug is not the blip's doing */
		double until = r->heal && x->healed_at_s >= 0 ? x->healed_at_s + 1 : 1e18;
		bool died = nonzero && x->detection_s < until;
		if (!p->survive) {
			r->verdict = CV_INFO;
			snprintf(r->reason, sizeof r->reason, "no 'survive' rule");
			return;
		}
		r->verdict = died ? CV_FAIL : CV_PASS;
		if (died)
			snprintf(r->reason, sizeof r->reason, "survive: the client gave up (%s) %.3f s after "
			         "the fault%s", x->client_status, x->detection_s,
			         r->heal ? ", during the blip" : "");
		else
			snprintf(r->reason, sizeof r->reason, "survive: the client did not give up%s",
			         r->heal ? " during the blip" : "");
		return;
	}
	b = p->bound_ms[r->cls];
	if (b < 0 && p->never_hang)
		b = (int64_t)(o->limit_s * 1e3);
	r->bound_ms = b;
	if (b < 0) {
		r->verdict = CV_INFO;
		snprintf(r->reason, sizeof r->reason, "no rule for class %s", card_class_name(r->cls));
		return;
	}
	const char *rule = p->bound_ms[r->cls] >= 0 ? card_class_name(r->cls) : "never-hang";
	/* connect: from the client's first SYN (the model's origin, from the
	 * capture), not from the fault: a program's start-up is not its
	 * connect timeout */
	double det = x->detection_s, from = 0;
	const char *since = "";
	if (r->cls == CC_CONNECT && x->schedule && strcmp(x->schedule, "syn") == 0 &&
	    x->origin && strstr(x->origin, "SYN") && x->origin_s > 0) {
		from = x->origin_s;
		since = " after its first SYN";
	}
	/* a connect row judges a connect: a client that ended without ever
	 * sending a SYN (a name it could not resolve, a bad argument) did not
	 * notice anything — no PASS for it */
	if (r->cls == CC_CONNECT && x->client_exited && x->schedule && strcmp(x->schedule, "syn") != 0) {
		r->verdict = CV_ERROR;
		snprintf(r->reason, sizeof r->reason, "the client ended (%s) without a SYN after the "
		         "fault: no connect to judge%s%.120s", x->client_status ? x->client_status : "?",
		         x->last_output ? "; its last output: " : "", x->last_output ? x->last_output : "");
		return;
	}
	r->noticed_s = x->client_exited ? det - from : -1;
	if (x->client_exited && det >= 0 && (det - from) * 1e3 <= (double)b) {
		r->verdict = CV_PASS;
		snprintf(r->reason, sizeof r->reason, "%s <= %.3g s: noticed %.3f s%s", rule,
		         (double)b / 1e3, det - from, *since ? since : " after the fault");
	} else if (x->client_exited) {
		r->verdict = CV_FAIL;
		snprintf(r->reason, sizeof r->reason, "%s <= %.3g s: noticed only %.3f s%s", rule,
		         (double)b / 1e3, det - from, *since ? since : " after the fault");
	} else if (x->watched_s * 1e3 < (double)b) {
		/* exec's timeout ended the run before the bound: no verdict */
		r->verdict = CV_ERROR;
		snprintf(r->reason, sizeof r->reason, "inconclusive: watched only %.3f s after the fault, "
		         "less than %s <= %.3g s (the run's start-up took most of exec's --timeout: "
		         "fewer --jobs, or a longer --limit)", x->watched_s, rule, (double)b / 1e3);
	} else {
		r->verdict = CV_FAIL;
		snprintf(r->reason, sizeof r->reason, "%s <= %.3g s: still running %.3f s after the fault",
		         rule, (double)b / 1e3, x->watched_s);
	}
}

void card_row_free(struct card_row *r)
{
	for (size_t i = 0; i < r->argc; i++)
		free(r->argv[i]);
	r->argc = 0;
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	card_exec_result_free(r->res);
	r->res = NULL;
}
