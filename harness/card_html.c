/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The card as one HTML page a browser opens offline (inline CSS and SVG,
 * no script, no external asset): the table, then one timeline per row —
 * the client's transmissions (from the row's capture), the fault, the
 * replug, a slow reader's continues, the model's band for the kernel's
 * give-up, the policy's bound, and the moment the client gave up.  Time
 * runs linearly, in seconds from the fault.
 *
 * The capture's clock (the kernel's, CLOCK_REALTIME) is placed on the
 * fault's by the packet the model took as its origin (exec gives its time
 * from the fault): the first SYN, the first transmission of the data that
 * was retransmitted, the last segment the client received.  Without one,
 * by the fault's time of day (exec's fault_at_wall, to the ms), and from an
 * older exec without that, by the client's first SYN taken as the client's
 * start — early by the program's start-up (the page says which).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "card.h"
#include "file_out.h"
#include "tf_capture.h"

#define W      960
#define H      120
#define LEFT   40
#define RIGHT  20
#define AXIS_Y 92
#define MAX_TX 4000

/* Text for HTML and SVG: markup characters as entities, controls and
 * invalid bytes as '?'. */
static void esc(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fputc('?', f);
			else if (*p >= 0x80) {
				/* keep valid UTF-8 sequences, replace the rest */
				int n = *p >= 0xf0 && *p <= 0xf4 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 && *p < 0xe0 ? 2 : 0;
				int ok = n > 0;
				for (int i = 1; ok && i < n; i++)
					ok = (p[i] & 0xc0) == 0x80;
				if (ok) {
					fwrite(p, 1, (size_t)n, f);
					p += n - 1;
				} else {
					fputc('?', f);
				}
			} else {
				fputc(*p, f);
			}
		}
	}
}

struct span { double t0, t1; };

static double xof(const struct span *s, double t)
{
	if (t < s->t0)
		t = s->t0;
	if (t > s->t1)
		t = s->t1;
	return LEFT + (t - s->t0) / (s->t1 - s->t0) * (W - LEFT - RIGHT);
}

static void vline(FILE *f, const struct span *s, double t, int y0, int y1, const char *color,
                  double width, const char *dash)
{
	fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s/>\n",
	        xof(s, t), y0, xof(s, t), y1, color, width, dash ? " stroke-dasharray=\"" : "",
	        dash ? dash : "", dash ? "\"" : "");
}

static void label(FILE *f, const struct span *s, double t, int y, const char *color, const char *text)
{
	double x = xof(s, t);
	const char *anchor = x > W - 160 ? "end" : "start";

	fprintf(f, "<text x=\"%.1f\" y=\"%d\" fill=\"%s\" text-anchor=\"%s\">", x + (*anchor == 'e' ? -3 : 3),
	        y, color, anchor);
	esc(f, text);
	fputs("</text>\n", f);
}

/* The client's packets from the capture, in seconds from the fault. */
/* The packet exec's model took as its origin, found again in the capture:
 * the first SYN, the first transmission of data later retransmitted, or
 * the last segment the client received.  -1 when none. */
/* p is from (to) the host that sent syn, the client's first SYN. */
static bool from_host(const tf_pkt *p, const tf_pkt *syn)
{
	return p->family == syn->family && (tf_pkt_is_v6(p) ? tf_in6_eq(&p->src6, &syn->src6)
	                                                    : p->src.s_addr == syn->src.s_addr);
}

static bool to_host(const tf_pkt *p, const tf_pkt *syn)
{
	return p->family == syn->family && (tf_pkt_is_v6(p) ? tf_in6_eq(&p->dst6, &syn->src6)
	                                                    : p->dst.s_addr == syn->src.s_addr);
}

static ssize_t origin_pkt(const tf_capture *c, const card_exec_result *x, const tf_pkt *client)
{
	size_t n = tf_capture_count(c);

	if (!x->origin)
		return -1;
	if (strstr(x->origin, "first SYN")) {
		for (size_t i = 0; i < n; i++) {
			const tf_pkt *p = tf_capture_pkt(c, i);
			if (p->proto == IPPROTO_TCP && (p->flags & TF_TCP_SYN) && !(p->flags & TF_TCP_ACK))
				return (ssize_t)i;
		}
	} else if (strstr(x->origin, "unacknowledged data")) {
		for (size_t i = 0; i < n && i < MAX_TX; i++) {
			const tf_pkt *p = tf_capture_pkt(c, i);
			if (p->proto != IPPROTO_TCP || !from_host(p, client) || !p->payload)
				continue;
			for (size_t j = i + 1; j < n && j < MAX_TX; j++) {
				const tf_pkt *q = tf_capture_pkt(c, j);
				if (q->proto == IPPROTO_TCP && from_host(q, client) && q->payload &&
				    q->sport == p->sport && (uint32_t)(q->seq - p->seq) < p->payload)
					return (ssize_t)i;
			}
		}
	} else if (strstr(x->origin, "last segment the client received")) {
		ssize_t last = -1;
		for (size_t i = 0; i < n; i++) {
			const tf_pkt *p = tf_capture_pkt(c, i);
			if (p->proto == IPPROTO_TCP && to_host(p, client))
				last = (ssize_t)i;
		}
		return last;
	}
	return -1;
}

/* The client's packets from the capture, in seconds from the fault.
 * *exact: placed by the model's origin, else by the fault's time of day
 * (exec's fault_at_wall, to the ms), else by the first SYN taken as the
 * client's start. */
static size_t load_tx(const struct card_row *r, double *ts, uint8_t *fl, size_t max, bool *exact)
{
	const card_exec_result *x = r->res;
	tf_capture *c = NULL;
	size_t n = 0;
	int64_t anchor_ns = -1;
	double anchor_at = 0;
	const tf_pkt *client = NULL;
	ssize_t o;

	*exact = false;
	if (!r->pcap[0] || !x || !x->pcap || !x->fault_done || tf_capture_new_offline(&c) < 0)
		return 0;
	if (tf_capture_load(c, r->pcap) < 0) {
		tf_capture_free(c);
		return 0;
	}
	for (size_t i = 0; i < tf_capture_count(c); i++) {
		const tf_pkt *p = tf_capture_pkt(c, i);
		if (p->proto == IPPROTO_TCP && (p->flags & TF_TCP_SYN) && !(p->flags & TF_TCP_ACK)) {
			anchor_ns = p->ts_ns;
			anchor_at = -x->fault_at_s;
			client = p;
			break;
		}
	}
	if (client && (o = origin_pkt(c, x, client)) >= 0) {
		anchor_ns = tf_capture_pkt(c, (size_t)o)->ts_ns;
		anchor_at = x->origin_s;
		*exact = true;
	} else if (client && x->fault_wall_ns >= 0) {
		anchor_ns = x->fault_wall_ns;
		anchor_at = 0;
		*exact = true;
	}
	for (size_t i = 0; client && i < tf_capture_count(c) && n < max; i++) {
		const tf_pkt *p = tf_capture_pkt(c, i);
		if (p->proto != IPPROTO_TCP || !from_host(p, client))
			continue;
		ts[n] = (double)(p->ts_ns - anchor_ns) / 1e9 + anchor_at;
		fl[n++] = p->flags;
	}
	tf_capture_free(c);
	return n;
}

static const char *tx_color(uint8_t fl, bool payload_unknown)
{
	(void)payload_unknown;
	if (fl & TF_TCP_RST)
		return "#c62828";
	if (fl & TF_TCP_SYN)
		return "#1565c0";
	if (fl & TF_TCP_FIN)
		return "#ef6c00";
	return "#546e7a";
}

static void timeline(FILE *f, const struct card_opts *o, const struct card_row *r)
{
	const card_exec_result *x = r->res;
	static double ts[MAX_TX];
	static uint8_t fl[MAX_TX];
	bool exact;
	size_t n = load_tx(r, ts, fl, MAX_TX, &exact);
	struct span s = { .t0 = -fmin(x->fault_at_s > 0 ? x->fault_at_s : 0, 2), .t1 = 1 };
	double end = x->client_exited ? x->detection_s : x->watched_s;
	char buf[128];

	if (end > s.t1)
		s.t1 = end;
	if (x->have_giveup && x->origin_s + x->giveup_hi_s > s.t1)
		s.t1 = x->origin_s + x->giveup_hi_s;
	if (r->bound_ms >= 0 && (double)r->bound_ms / 1e3 > s.t1)
		s.t1 = (double)r->bound_ms / 1e3;
	s.t1 *= 1.05;
	if (s.t1 > o->limit_s * 3 + 60)
		s.t1 = o->limit_s * 3 + 60;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	        "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n", W, H, W, H);
	/* axis and ticks: 1-2-5 steps, about 10 of them */
	double step = 1, span = s.t1 - s.t0;
	for (double m = 0.001; m < 1e5; m *= 10) {
		if (span / m <= 12) { step = m; break; }
		if (span / (2 * m) <= 12) { step = 2 * m; break; }
		if (span / (5 * m) <= 12) { step = 5 * m; break; }
	}
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#424242\"/>\n", LEFT, AXIS_Y,
	        W - RIGHT, AXIS_Y);
	for (double t = ceil(s.t0 / step) * step; t <= s.t1; t += step) {
		vline(f, &s, t, AXIS_Y, AXIS_Y + 4, "#424242", 1, NULL);
		snprintf(buf, sizeof buf, "%g s", fabs(t) < 1e-9 ? 0 : t);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#616161\">%s</text>\n",
		        xof(&s, t), AXIS_Y + 16, buf);
	}
	/* the model's band for the kernel's give-up */
	if (x->have_giveup) {
		double lo = x->origin_s + x->giveup_lo_s, hi = x->origin_s + x->giveup_hi_s;
		fprintf(f, "<rect x=\"%.1f\" y=\"14\" width=\"%.1f\" height=\"%d\" fill=\"#90caf9\" "
		        "fill-opacity=\"0.5\"/>\n", xof(&s, lo), fmax(xof(&s, hi) - xof(&s, lo), 2), AXIS_Y - 14);
		vline(f, &s, x->expected_detection_s, 14, AXIS_Y, "#1565c0", 1.5, NULL);
		label(f, &s, x->expected_detection_s, 24, "#1565c0", "kernel gives up (model)");
	}
	/* the client's transmissions */
	double last_x = -1;
	uint8_t last_fl = 0;
	for (size_t i = 0; i < n; i++) {
		/* one tick per pixel and kind: a burst of data is one mark */
		double px = xof(&s, ts[i]);
		if (ts[i] < s.t0 || ts[i] > s.t1 || (px - last_x < 1 && fl[i] == last_fl))
			continue;
		vline(f, &s, ts[i], AXIS_Y - 18, AXIS_Y, tx_color(fl[i], false), 1, NULL);
		last_x = px;
		last_fl = fl[i];
	}
	/* the fault, the replug, the policy's bound, the client's end */
	vline(f, &s, 0, 4, AXIS_Y, "#c62828", 2, "4 2");
	label(f, &s, 0, 12, "#c62828", r->fault ? r->fault : "fault");
	if (r->slow_period_ms) {
		/* slow-reader: the server stopped from the fault on, continued
		 * RUN ms before the end of each period (exec's schedule, on the
		 * fault's clock); a tick per continue, while the row ran */
		double per = r->slow_period_ms / 1e3, run = r->slow_run_ms / 1e3, t;
		unsigned k;

		for (k = 1; k <= 600 && (t = k * per - run) <= fmin(end, s.t1); k++)
			vline(f, &s, t, 40, 48, "#2e7d32", 1.5, NULL);
		if (k > 1) {
			snprintf(buf, sizeof buf, "server continued every %g s (%u), stopped the rest",
			         per, k - 1);
			label(f, &s, per - run, 38, "#2e7d32", buf);
		}
	}
	if (x->healed_at_s >= 0) {
		vline(f, &s, x->healed_at_s, 30, AXIS_Y, "#2e7d32", 2, "4 2");
		label(f, &s, x->healed_at_s, 40, "#2e7d32", "replugged");
	}
	if (r->bound_ms >= 0) {
		double b = (double)r->bound_ms / 1e3;
		vline(f, &s, b, 44, AXIS_Y, "#6a1b9a", 2, "1 3");
		snprintf(buf, sizeof buf, "policy %g s", b);
		label(f, &s, b, 56, "#6a1b9a", buf);
	}
	if (x->client_exited) {
		vline(f, &s, x->detection_s, 58, AXIS_Y, "#212121", 3, NULL);
		snprintf(buf, sizeof buf, "client gave up: %.3f s", x->detection_s);
		label(f, &s, x->detection_s, 70, "#212121", buf);
	} else {
		snprintf(buf, sizeof buf, "client still running at %.1f s", x->watched_s);
		label(f, &s, x->watched_s, 70, "#212121", buf);
	}
	fputs("</svg>\n", f);
	if (n)
		fprintf(f, "<p class=\"note\">%zu client transmissions from %s, placed %s. Colours: SYN "
		        "blue, data grey, FIN orange, RST red.</p>\n",
		        n, strrchr(r->pcap, '/') ? strrchr(r->pcap, '/') + 1 : r->pcap,
		        exact ? "by the model's origin, found in the capture"
		        : "by the client's first SYN taken as its start (so they show early by the "
		          "program's start-up)");
}

static void page(FILE *f, const struct card_opts *o, struct card_row *rows, size_t n,
                 const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
	esc(f, title);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:1.5em;color:#212121}"
	      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;"
	      "text-align:left}.PASS{background:#c8e6c9}.FAIL{background:#ffcdd2}.SKIP{background:#eeeeee}"
	      ".ERROR{background:#ffab91}.note{color:#616161;font-size:12px;margin:2px 0 1.2em}"
	      "h2{font-size:16px;margin:1.2em 0 .3em}code{font-size:12px}</style></head><body>\n<h1>", f);
	esc(f, title);
	fputs("</h1>\n<table><tr><th>row</th><th>class</th><th>verdict</th><th>noticed after</th>"
	      "<th>client</th><th>kernel alone (model)</th><th>decided by</th><th>why</th></tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct card_row *r = &rows[i];
		const card_exec_result *x = r->res;
		const char *v = card_verdict_name(r->verdict);
		char buf[160];

		fprintf(f, "<tr><td><a href=\"#%s\">%s</a></td><td>%s</td><td class=\"%s\">%s</td><td>",
		        r->name, r->name, card_class_name(r->cls), v[0] == '-' ? "" : v, v);
		if (x && x->fault_done && x->client_exited)
			fprintf(f, "%.3f s", x->detection_s);
		else if (x && x->fault_done)
			fprintf(f, "not within %.1f s", x->watched_s);
		fputs("</td><td>", f);
		esc(f, x && x->fault_done ? x->client_status : "");
		fputs("</td><td>", f);
		if (x && x->have_giveup)
			snprintf(buf, sizeof buf, "%s: %.3f s [%.3f, %.3f]", x->schedule, x->expected_detection_s,
			         x->origin_s + x->giveup_lo_s, x->origin_s + x->giveup_hi_s);
		else
			snprintf(buf, sizeof buf, "%s", x && x->schedule ? x->schedule : "");
		esc(f, buf);
		fputs("</td><td>", f);
		esc(f, r->knob);
		fputs("</td><td>", f);
		esc(f, r->reason);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct card_row *r = &rows[i];
		const card_exec_result *x = r->res;

		fprintf(f, "<h2 id=\"%s\">%s — ", r->name, r->name);
		esc(f, r->what);
		fprintf(f, " <span class=\"%s\">%s</span></h2>\n", card_verdict_name(r->verdict),
		        card_verdict_name(r->verdict));
		fputs("<p class=\"note\">", f);
		esc(f, r->reason);
		if (x && x->model_note) {
			fputs("; model: ", f);
			esc(f, x->model_note);
		}
		if (x && x->last_output && x->fault_done) {
			fputs("<br>last output: <code>", f);
			esc(f, x->last_output);
			fputs("</code>", f);
		}
		fputs("</p>\n", f);
		if (x && x->fault_done)
			timeline(f, o, r);
	}
	fputs("</body></html>\n", f);
}

int card_html_write(const struct card_opts *o, struct card_row *rows, size_t n,
                    const char *path, const char *title)
{
	tf_file_out out;
	int r = 0;
	FILE *f = tf_file_out_open(&out, path, &r);

	if (!f)
		return r;
	page(f, o, rows, n, title);
	return tf_file_out_close(&out);
}
