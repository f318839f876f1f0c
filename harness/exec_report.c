/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate exec: the result as TAP version 13 with a YAML block.
 *
 * Block YAML only: prove's YAMLish reader has no flow collections ({a: b},
 * [a, b]), no multi-line quoted scalars and no indentation indicators (|2).
 * Every scalar that can hold outside text goes through tf_exec_text_dup().
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "exec_private.h"
#include "tf_model.h"
#include "tf_sock.h"
#include "tf_util.h"

/* Outside text, double-quoted on one line. */
static void yq(FILE *f, const char *s)
{
	char *c = tf_exec_text_dup(s ? s : "", s ? strlen(s) : 0, TX_QUOTED);

	fprintf(f, "\"%s\"", c ? c : "");
	free(c);
}

static void ykv(FILE *f, int ind, const char *key, const char *val)
{
	fprintf(f, "%*s%s: ", ind, "", key);
	yq(f, val);
	fputc('\n', f);
}

/* Output lines (already cleaned, TX_LINE) as a literal block.  A block
 * takes its indentation from its first line: one that starts with blanks
 * would need "|2", which YAMLish does not read; such output goes in one
 * quoted scalar instead. */
static void yblock(FILE *f, int ind, const char *key, const struct tf_exec_lines *L)
{
	bool more = L->total > L->n;
	const char *first = L->n ? tf_exec_lines_get(L, 0) : "";

	if (!L->n)
		return;
	if (!more && (first[0] == ' ' || first[0] == '\t')) {
		fprintf(f, "%*s%s: \"", ind, "", key);
		for (size_t i = 0; i < L->n; i++) {
			char *c = tf_exec_text_dup(tf_exec_lines_get(L, i), strlen(tf_exec_lines_get(L, i)), TX_QUOTED);
			fprintf(f, "%s\\n", c ? c : "");
			free(c);
		}
		fprintf(f, "\"\n");
		return;
	}
	fprintf(f, "%*s%s: |\n", ind, "", key);
	if (more)
		fprintf(f, "%*s[... %zu earlier lines]\n", ind + 2, "", L->total - L->n);
	for (size_t i = 0; i < L->n; i++)
		fprintf(f, "%*s%s\n", ind + 2, "", tf_exec_lines_get(L, i));
}

/* A moment on tf_now_ns()'s clock (CLOCK_REALTIME, the packets' clock) as
 * RFC 3339 UTC with milliseconds: "2026-12-05T10:52:28.123Z". */
static void ywall(FILE *f, int ind, const char *key, int64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char buf[32];

	if (ns < 0 || !gmtime_r(&sec, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm))
		return;
	fprintf(f, "%*s%s: \"%s.%03dZ\"\n", ind, "", key, buf, (int)(ns / 1000000 % 1000));
}

/* "198.18.1.2:47728", "[2001:2:0:1::2]:47728" */

/* Which knobs decided a pulled cable's give-up, and what else the rule
 * says (the capture cannot check it: noop qdisc after linkwatch). */
static void cable_report(FILE *f)
{
	const tf_neigh_params *p = NULL;
	long lo_off = -1;
	const tf_local_link_failure *c = tf_exec_model_cable(&p, &lo_off);

	if (!c)
		return;
	fprintf(f, "    client_neighbour:  # net.%s.neigh.eth0.*, the client's own entry for the router\n",
	        c->family == AF_INET6 ? "ipv6" : "ipv4");
	fprintf(f, "      retrans_time_ms: %u\n", p->retrans_time_ms);
	fprintf(f, "      ucast_solicit: %u\n", p->ucast_solicit);
	fprintf(f, "      mcast_solicit: %u\n", p->mcast_solicit);
	fprintf(f, "      app_solicit: %u\n", p->app_solicit);
	fprintf(f, "      resolution_lo_s: %.3f  # one failed resolution\n",
	        (double)c->resolution.lo_us / 1e6);
	fprintf(f, "      resolution_hi_s: %.3f\n", (double)c->resolution.hi_us / 1e6);
	fprintf(f, "      evict_within_s: %.3f  # linkwatch -> neigh_carrier_down()\n",
	        (double)c->evict_us / 1e6);
	if (c->family == AF_INET6)
		fprintf(f, "      lo_disable_ipv6: %ld  # 1: its ICMPv6 to itself is dropped, ETIMEDOUT\n",
		        lo_off);
	fprintf(f, "    failed_resolutions:\n      lo: %u\n      hi: %u\n", c->res_lo, c->res_hi);
	fprintf(f, "    head_transmissions:  # original included; not on the capture after linkwatch\n"
	           "      lo: %u\n      hi: %u\n", c->tx_lo, c->tx_hi);
	fprintf(f, "    busy_expiries:  # TcpExtTCPSpuriousRtxHostQueues\n      lo: %u\n      hi: %u\n",
	        c->busy_lo, c->busy_hi);
	ykv(f, 4, "rule", c->rule);
}

static void flow_end(const tf_flow *fl, bool src, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (tf_flow_is_v6(fl)) {
		inet_ntop(AF_INET6, src ? &fl->src6 : &fl->dst6, a, sizeof a);
		snprintf(buf, n, "[%s]:%u", a, src ? fl->sport : fl->dport);
	} else {
		inet_ntop(AF_INET, src ? &fl->src : &fl->dst, a, sizeof a);
		snprintf(buf, n, "%s:%u", a, src ? fl->sport : fl->dport);
	}
}

void tf_exec_report_plan(FILE *f, const struct tf_exec_result *r, unsigned n_tests)
{
	char *k = tf_exec_text_dup(r->kernel, strlen(r->kernel), TX_LINE);

	fprintf(f, "TAP version 13\n1..%u\n", n_tests);
	fprintf(f, "# tcpfate exec on Linux %s (HZ=%u) as uid %u\n", k ? k : "", r->hz, r->uid);
	free(k);
}

void tf_exec_report_tap(FILE *f, const struct tf_exec_opts *o, const struct tf_exec_result *r,
                        unsigned num)
{
	bool ok = r->verdict == TF_EXEC_V_OK, skip = r->verdict == TF_EXEC_V_SKIP;
	const struct tf_exec_model *M = r->have_model ? &r->M : NULL;
	const struct tf_exec_check *checks = r->checks;
	size_t n_checks = r->n_checks;
	char buf[128];
	char *d = tf_exec_text_dup(r->desc, strlen(r->desc), TX_TAP);

	if (skip) {
		char *w = tf_exec_text_dup(r->skip, strlen(r->skip), TX_TAP);
		fprintf(f, "ok %u - %s # SKIP %s\n", num, d ? d : "", w ? w : "");
		free(w);
	} else {
		fprintf(f, "%s %u - %s\n", ok ? "ok" : "not ok", num, d ? d : "");
	}
	free(d);
	fprintf(f, "  ---\n");
	fprintf(f, "  duration_ms: %.1f\n", (double)r->duration_ns / 1e6);
	ykv(f, 2, "kernel", r->kernel);
	fprintf(f, "  hz: %u\n", r->hz);
	if (r->sandbox)
		ykv(f, 2, "sandbox", r->userns ? "user namespace (unprivileged path)"
		                            : "network namespaces as root");
	ykv(f, 2, "topology", o->shape_name);
	fprintf(f, "  family: %s\n", o->family == AF_INET6 ? "ipv6" : "ipv4");
	if (o->server_cmd)
		ykv(f, 2, "server", o->server_cmd);
	ykv(f, 2, "client", o->client_text);
	for (int srv = 0; srv < 2; srv++) {
		size_t n = srv ? o->n_server_sysctl : o->n_sysctl;
		const char *const *l = srv ? o->server_sysctl : o->sysctl;

		if (!n)
			continue;
		fprintf(f, "  %s_sysctls:\n", srv ? "server" : "client");
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "    - ");
			yq(f, l[i]);
			fputc('\n', f);
		}
	}
	ykv(f, 2, "fault", o->fault_text);
	if (r->fault_desc[0])
		ykv(f, 2, "fault_applied", r->fault_desc);
	if (o->fault->kind == FK_SLOW && r->fault_done)
		fprintf(f, "  slow_reader:\n    run_ms: %u\n    period_ms: %u\n    stops: %u\n"
		        "    stops_at_window_update: %u\n    continues: %u\n", o->slow_run_ms,
		        o->slow_period_ms, r->slow_stops, r->slow_reads, r->slow_conts);
	ykv(f, 2, "trigger", o->trig == TR_AT ? "at" : o->trig_text);
	if (o->trig == TR_AT)
		fprintf(f, "  at_s: %.3f\n", s_of(o->at_ns));
	if (skip || !r->client_started)
		goto tail;
	if (o->trig == TR_LINE)
		ykv(f, 2, "client_stdout", r->pty ? "pty" : r->pty_err[0] ? r->pty_err : "pipe");
	ywall(f, 2, "client_started_wall", r->client_start_ns);
	if (r->fault_done) {
		fprintf(f, "  fault_at_s: %.3f  # after the client started\n",
		           s_of(r->fault_ns - r->client_start_ns));
		ywall(f, 2, "fault_at_wall", r->fault_ns);
	}
	if (r->healed)
		fprintf(f, "  healed_at_s: %.3f  # after the fault\n", s_of(r->heal_ns - r->fault_ns));
	if (r->client_done) {
		tf_exec_describe_status(r->client_status, buf, sizeof buf);
		ykv(f, 2, "client_status", buf);
		fprintf(f, "  client_ran_s: %.3f\n", s_of(r->client_exit_ns - r->client_start_ns));
		if (r->fault_done)
			fprintf(f, "  detection_s: %.3f  # client exit - fault\n",
			           s_of(r->client_exit_ns - r->fault_ns));
	} else {
		ykv(f, 2, "client_status", "still running (killed by tcpfate)");
		if (r->fault_done)
			fprintf(f, "  running_after_fault_s: %.3f\n", s_of(r->end_ns - r->fault_ns));
	}
	if (r->w.have) {
		char a[INET6_ADDRSTRLEN + 8], b[INET6_ADDRSTRLEN + 8];
		const tf_tcp_sock *s = &r->w.first;
		static const char *const timers[] = { "none", "retransmit", "keepalive", "time-wait",
		                                      "zero-window-probe" };

		flow_end(&r->w.flow, true, a, sizeof a);
		flow_end(&r->w.flow, false, b, sizeof b);
		fprintf(f, "  socket:\n");
		fprintf(f, "    flow: \"%s > %s\"\n", a, b);
		fprintf(f, "    state: %s\n", tf_tcp_state_name(s->state));
		fprintf(f, "    timer: %s\n", s->timer < TF_ARRAY_SIZE(timers) ? timers[s->timer] : "\"?\"");
		fprintf(f, "    unacked: %u\n", s->has_info ? s->info.tcpi_unacked : 0);
		fprintf(f, "    srtt_us: %u\n", s->has_info ? s->info.tcpi_rtt : 0);
		fprintf(f, "    rttvar_us: %u\n", s->has_info ? s->info.tcpi_rttvar : 0);
		fprintf(f, "    seen: \"%s\"\n", r->w.at_fault ? "at the fault" : "after the fault");
		if (r->w.knobs) {
			fprintf(f, "  socket_options:\n");
			fprintf(f, "    SO_KEEPALIVE: %d\n", r->w.k.keepalive);
			fprintf(f, "    TCP_KEEPIDLE: %d\n", r->w.k.ka_idle_s);
			fprintf(f, "    TCP_KEEPINTVL: %d\n", r->w.k.ka_intvl_s);
			fprintf(f, "    TCP_KEEPCNT: %d\n", r->w.k.ka_cnt);
			fprintf(f, "    TCP_USER_TIMEOUT: %d\n", r->w.k.user_timeout_ms);
			fprintf(f, "    TCP_SYNCNT: %d\n", r->w.k.syncnt);
		} else if (r->w.knobs_err) {
			fprintf(f, "  socket_options: \"not readable (%s): the model uses the host's sysctls\"\n",
			           strerror(-r->w.knobs_err));
		}
		if (r->w.gone_ns >= 0 && r->fault_done)
			fprintf(f, "  socket_gone_s: %.3f  # after the fault (sampled every %lld ms)\n",
			           s_of(r->w.gone_ns - r->fault_ns), SAMPLE_NS / MS);
	}
	if (M && (o->model || o->expect_model)) {
		fprintf(f, "  model:\n");
		ykv(f, 4, "schedule", tf_exec_mkind_name(M->kind));
		if (M->why)
			ykv(f, 4, "note", M->why);
		if (M->have_knobs) {
			fprintf(f, "    knobs:\n");
			fprintf(f, "      hz: %u\n", r->hz);
			if (M->retries2 >= 0)
				fprintf(f, "      tcp_retries2: %ld\n", M->retries2);
			if (M->syn_retries >= 0)
				fprintf(f, "      tcp_syn_retries: %ld\n", M->syn_retries);
			if (r->w.knobs) {
				fprintf(f, "      keepalive:\n        - %d\n        - %d\n        - %d\n",
				        r->w.k.ka_idle_s, r->w.k.ka_intvl_s, r->w.k.ka_cnt);
				fprintf(f, "      user_timeout_ms: %d\n", r->w.k.user_timeout_ms);
				fprintf(f, "      syncnt: %d\n", r->w.k.syncnt);
			}
			if (r->w.have && r->w.first.has_info) {
				fprintf(f, "      srtt_us: %u\n", r->w.first.info.tcpi_rtt);
				fprintf(f, "      rttvar_us: %u\n", r->w.first.info.tcpi_rttvar);
				fprintf(f, "      rto_jiffies: %u\n", M->rto_jiffies);
			}
			if (M->packets_out)
				fprintf(f, "      packets_out: %u\n", M->packets_out);
		}
		fprintf(f, "    slack_us: %lld  # %s, on each side of the band\n",
		        (long long)tf_exec_slack_us(r->hz),
		        getenv("TF_SLACK_US") ? "TF_SLACK_US" : "1 jiffy + 2 ms");
		fprintf(f, "    exit_allowance_ms: %lld  # late side: %s ms for the program's exit "
		        "+ its start-up + 2 x the worst wake-up latency, both measured in this run\n",
		        (long long)tf_exec_exit_allowance_us(r) / 1000,
		        getenv("TF_EXEC_EXIT_MS") ? "TF_EXEC_EXIT_MS" : "100");
		fprintf(f, "    client_startup_ms: %.1f  # spawn to its first SYN on the wire (at most %d)\n",
		        (double)tf_exec_startup_us(r) / 1000, EXIT_STARTUP_CAP_MS);
		fprintf(f, "    wakeup_latency_max_us: %lld  # worst of %lld timer wake-ups, every 5 ms\n",
		        (long long)r->wake_max_us, (long long)r->wake_samples);
		if (M->have) {
			ykv(f, 4, "origin", M->origin_what);
			fprintf(f, "    origin_s: %+.3f  # relative to the fault%s\n",
			           s_of(M->origin_ns - r->fault_ns),
			           M->origin_approx ? " (approximate: not seen on the wire)" : "");
			fprintf(f, "    giveup_after_origin_s:\n");
			fprintf(f, "      expected: %.3f\n", (double)M->at_us / 1e6);
			fprintf(f, "      lo: %.3f\n", (double)M->lo_us / 1e6);
			fprintf(f, "      hi: %.3f\n", (double)M->hi_us / 1e6);
			if (r->client_done)
				fprintf(f, "      measured: %.3f\n", s_of(r->client_exit_ns - M->origin_ns));
			if (M->rst_ns >= 0)
				fprintf(f, "    rst_on_wire_s: %.3f  # the kernel gave up (its RST), after the origin\n",
				           s_of(M->rst_ns - M->origin_ns));
			fprintf(f, "    expected_detection_s: %.3f  # model give-up - fault\n",
			           s_of(M->origin_ns + M->at_us * 1000 - r->fault_ns));
			ykv(f, 4, "expected_errno", M->err ? strerrorname_np(M->err) : "0");
			if (M->tx_expected)
				fprintf(f, "    transmissions:\n      expected: %ld\n      measured: %ld\n",
				           M->tx_expected, M->tx_measured);
			cable_report(f);
			if (r->healed && r->heal_ns < M->origin_ns + M->at_us * 1000)
				ykv(f, 4, "heal", "healed before the model's give-up: the connection should survive");
		}
	}
	if (n_checks) {
		fprintf(f, "  checks:\n");
		for (size_t i = 0; i < n_checks; i++) {
			const char *l = checks[i].kv;

			fprintf(f, "    - what: ");
			yq(f, checks[i].what);
			fputc('\n', f);
			while (*l) {
				const char *nl = strchr(l, '\n');
				size_t n = nl ? (size_t)(nl - l) : strlen(l);
				fprintf(f, "      %.*s\n", (int)n, l);
				l += n + (nl ? 1 : 0);
			}
			fprintf(f, "      ok: %s\n", checks[i].ok ? "true" : "false");
		}
	}
tail:
	if (r->message[0])
		ykv(f, 2, "message", r->message);
	if (r->cap_err)
		ykv(f, 2, "capture", r->cap_err);
	if (o->pcap && r->captured)
		ykv(f, 2, "pcap", r->pcap_err[0] ? r->pcap_err : o->pcap);
	if (r->client_started)
		yblock(f, 2, "client_output", &r->out[0]);
	if (r->server_started && (!ok || o->verbose)) {
		if (r->server_done) {
			tf_exec_describe_status(r->server_status, buf, sizeof buf);
			ykv(f, 2, "server_status", buf);
		}
		yblock(f, 2, "server_output", &r->out[1]);
	}
	fprintf(f, "  ...\n");
	fflush(f);
}
