/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The card's reports: the table (terminal and card.txt), TAP 13 with a
 * block-form YAML mapping per row (tf_emit_tap13_case: every scalar
 * escaped), and the files of --out, each written to a temporary and
 * renamed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "card.h"
#include "file_out.h"
#include "tf_probe.h"
#include "tf_result.h"

/* ------------------------------------------------------------------ output */

static void fmt_s(char *buf, size_t n, double s)
{
	if (s < 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.3f s", s);
}

static void model_text(const card_exec_result *x, char *buf, size_t n)
{
	if (!x || !x->schedule) {
		snprintf(buf, n, "-");
	} else if (x->have_giveup) {
		snprintf(buf, n, "%s: %.3f s [%.3f, %.3f]", x->schedule, x->expected_detection_s,
		         x->origin_s + x->giveup_lo_s, x->origin_s + x->giveup_hi_s);
	} else if (strcmp(x->schedule, "never") == 0) {
		snprintf(buf, n, "never notices");
	} else {
		snprintf(buf, n, "%s", x->schedule);
	}
}

static void noticed_text(const struct card_row *r, char *buf, size_t n)
{
	const card_exec_result *x = r->res;

	if (!x || !x->fault_done)
		snprintf(buf, n, "-");
	else if (x->client_exited && r->noticed_s >= 0 && r->noticed_s != x->detection_s)
		snprintf(buf, n, "%.3f s SYN", r->noticed_s);   /* from its first SYN */
	else if (x->client_exited)
		fmt_s(buf, n, x->detection_s);
	else
		snprintf(buf, n, "no (%.0f s)", x->watched_s);
}

void card_print_table(FILE *f, const struct card_opts *o, struct card_row *rows, size_t n,
                        double wall_s)
{
	char a[64], b[128];

	fputs("tcpfate card: ", f);
	tf_oneline(f, o->client_cmd ? o->client_cmd : o->client_argv[0]);
	fprintf(f, "\n%-17s %-18s %-6s %-11s %-18s %-34s %s\n", "row", "class", "verdict", "noticed",
	        "client", "kernel alone (model)", "decided by");
	for (size_t i = 0; i < n; i++) {
		struct card_row *r = &rows[i];
		const card_exec_result *x = r->res;

		noticed_text(r, a, sizeof a);
		model_text(x, b, sizeof b);
		fprintf(f, "%-17s %-18s %-7s %-11s ", r->name, card_class_name(r->cls),
		        card_verdict_name(r->verdict), a);
		char st[64];
		snprintf(st, sizeof st, "%s", x && x->fault_done && x->client_status ? x->client_status : "-");
		if (strncmp(st, "still running", 13) == 0)
			snprintf(st, sizeof st, "running");
		tf_oneline(f, st);
		fprintf(f, "%*s %-34s ", (int)(18 - (strlen(st) > 18 ? 18 : strlen(st))), "", b);
		tf_oneline(f, r->knob[0] ? r->knob : (x && x->model_note ? "" : "-"));
		fputc('\n', f);
		if (r->verdict != CV_PASS || (x && x->model_note)) {
			fputs("    ", f);
			tf_oneline(f, r->reason);
			if (x && x->model_note && r->verdict != CV_SKIP) {
				fputs("; model: ", f);
				tf_oneline(f, x->model_note);
			}
			fputc('\n', f);
		}
		if (x && x->last_output && x->fault_done) {
			fputs("    last output: ", f);
			tf_oneline(f, x->last_output);
			fputc('\n', f);
		}
	}
	size_t cnt[5] = { 0 };
	for (size_t i = 0; i < n; i++)
		cnt[rows[i].verdict]++;
	fprintf(f, "%zu rows: %zu pass, %zu fail, %zu skip, %zu without a rule, %zu error; %.1f s\n",
	        n, cnt[CV_PASS], cnt[CV_FAIL], cnt[CV_SKIP], cnt[CV_INFO], cnt[CV_ERROR], wall_s);
}

static void yaml_s(tf_node *m, const char *key, double v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%.3f", v);
	tf_node_scalar(m, key, buf, false);
}

void card_print_tap(FILE *f, const struct card_opts *o, struct card_row *rows, size_t n)
{
	tf_run_info info = { .prog = "tcpfate card", .kernel = "?", .uid = getuid(), .total = n };
	char kernel[128] = "?";

	tf_kernel_release(kernel, sizeof kernel);
	tf_kernel_hz(&info.hz);
	info.kernel = kernel;
	tf_emit_tap13_header(f, &info);
	for (size_t i = 0; i < n; i++) {
		struct card_row *r = &rows[i];
		const card_exec_result *x = r->res;
		char name[768], buf[160];
		tf_result res = { .num = (unsigned)i + 1 };
		tf_node *y = tf_node_map(NULL, NULL), *m;

		snprintf(name, sizeof name, "%s: %s (%s)", r->name, r->verdict == CV_SKIP ? r->what :
		         r->reason, card_class_name(r->cls));
		res.name = name;
		res.status = r->verdict == CV_FAIL ? TF_RES_FAIL : r->verdict == CV_ERROR ? TF_RES_ERROR :
		             r->verdict == CV_SKIP ? TF_RES_SKIP : TF_RES_PASS;
		res.reason = r->reason;
		res.yaml = y;
		if (!y)
			continue;
		tf_node_scalar(y, "row", r->name, false);
		tf_node_scalar(y, "what", r->what, false);
		tf_node_scalar(y, "fault", r->fault ? r->fault : "none", false);
		tf_node_scalar(y, "phase", card_phase_name(r->phase), false);
		tf_node_scalar(y, "trigger", o->phase_on[r->phase] ? o->phase_on[r->phase] : "none", false);
		tf_node_scalar(y, "class", card_class_name(r->cls), false);
		tf_node_scalar(y, "verdict", card_verdict_name(r->verdict), false);
		tf_node_scalar(y, "reason", r->reason, false);
		if (r->bound_ms >= 0)
			yaml_s(y, "policy_bound_s", (double)r->bound_ms / 1e3);
		if (x && x->fault_done) {
			if (x->fault_applied)
				tf_node_scalar(y, "fault_applied", x->fault_applied, false);
			yaml_s(y, "fault_at_s", x->fault_at_s);
			if (x->healed_at_s >= 0)
				yaml_s(y, "healed_at_s", x->healed_at_s);
			tf_node_scalar(y, "client_status", x->client_status ? x->client_status : "?", false);
			if (x->client_exited)
				yaml_s(y, "detection_s", x->detection_s);
			else
				yaml_s(y, "still_running_after_s", x->watched_s);
			if (r->noticed_s >= 0 && r->noticed_s != x->detection_s)
				yaml_s(y, "detection_after_first_syn_s", r->noticed_s);
			if (x->last_output)
				tf_node_scalar(y, "last_output", x->last_output, false);
			if (x->schedule && (m = tf_node_map(y, "model"))) {
				tf_node_scalar(m, "schedule", x->schedule, false);
				if (x->model_note)
					tf_node_scalar(m, "note", x->model_note, false);
				if (x->have_giveup) {
					yaml_s(m, "expected_detection_s", x->expected_detection_s);
					yaml_s(m, "lo_s", x->origin_s + x->giveup_lo_s);
					yaml_s(m, "hi_s", x->origin_s + x->giveup_hi_s);
				}
				if (x->expected_errno)
					tf_node_scalar(m, "expected_errno", x->expected_errno, false);
				if (r->knob[0])
					tf_node_scalar(m, "decided_by", r->knob, false);
			}
		}
		if (r->pcap[0] && x && x->pcap)
			tf_node_scalar(y, "pcap", r->pcap, false);
		if (r->start_ns && r->end_ns) {
			snprintf(buf, sizeof buf, "%.1f", (double)(r->end_ns - r->start_ns) / 1e9);
			tf_node_scalar(y, "row_wall_s", buf, false);
		}
		if (r->verdict == CV_ERROR && r->err)
			tf_node_scalar(y, "exec_stderr", r->err, true);
		tf_emit_tap13_case(f, &res);
		tf_node_free(y);
	}
}

/* Write through `emit` into DIR/NAME via a temporary, then rename. */
int card_write_file(const struct card_opts *o, const char *name,
                      void (*emit)(FILE *, const struct card_opts *, struct card_row *, size_t,
                                   double),
                      struct card_row *rows, size_t n, double wall)
{
	char path[4096];
	tf_file_out out;
	int r = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", o->out, name);
	if (!(f = tf_file_out_open(&out, path, &r)))
		return r;
	emit(f, o, rows, n, wall);
	return tf_file_out_close(&out);
}

void card_emit_tap(FILE *f, const struct card_opts *o, struct card_row *rows, size_t n, double w)
{
	(void)w;
	card_print_tap(f, o, rows, n);
}

/* Each row's exec output as it came (DIR/ROW.exec.tap): the evidence. */
void card_save_raw(const struct card_opts *o, struct card_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		tf_file_out out;
		int r;
		FILE *f;

		if (!rows[i].out)
			continue;
		snprintf(path, sizeof path, "%s/%s.exec.tap", o->out, rows[i].name);
		if (!(f = tf_file_out_open(&out, path, &r)))
			continue;
		fwrite(rows[i].out, 1, rows[i].out_len, f);
		tf_file_out_close(&out);
	}
}

