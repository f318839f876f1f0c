/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading one `tcpfate exec` run back from its TAP 13 output: the only
 * place the card knows exec's output format.
 *
 * The YAML block is flattened into (path, value) pairs, "model.knobs.hz",
 * "socket_options.TCP_USER_TIMEOUT", "model.knobs.keepalive.0", "checks.0.ok",
 * whatever way exec writes it: block mappings nested by indentation, block
 * sequences ("- item", "- k: v"), flow mappings and sequences ({k: v},
 * [a, b]), literal blocks ("|"), double-quoted scalars with escapes, plain
 * scalars with "  # comments".  The fields the card uses are then looked up
 * by path in card_exec_result_parse() — the table to adapt if exec renames
 * a key.  The text is the output of a program running untrusted clients:
 * bounded, never trusted, every lookup may come back empty.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "card_exec_result.h"

#define MAX_PAIRS 512
#define MAX_DEPTH 16

struct flat {
	char *path[MAX_PAIRS], *value[MAX_PAIRS];
	size_t n;
	bool nomem;
};

static void flat_add(struct flat *F, const char *path, const char *value)
{
	if (F->n >= MAX_PAIRS)
		return;
	F->path[F->n] = strdup(path);
	F->value[F->n] = strdup(value);
	if (!F->path[F->n] || !F->value[F->n]) {
		free(F->path[F->n]);
		free(F->value[F->n]);
		F->nomem = true;
		return;
	}
	F->n++;
}

static const char *flat_get(const struct flat *F, const char *path)
{
	for (size_t i = 0; i < F->n; i++)
		if (strcmp(F->path[i], path) == 0)
			return F->value[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* A double-quoted scalar starting at s (on '"'), unescaped in place into
 * out (at least as long as s).  Returns the character after the closing
 * quote (or the end). */
static char *unquote(char *s, char *out)
{
	char *p = s + 1, *o = out;

	while (*p && *p != '"') {
		if (*p == '\\' && p[1]) {
			p++;
			switch (*p) {
			case 'n': *o++ = '\n'; p++; break;
			case 't': *o++ = '\t'; p++; break;
			case 'r': *o++ = '\r'; p++; break;
			case 'x':
				if (isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
					char h[3] = { p[1], p[2], 0 };
					*o++ = (char)strtol(h, NULL, 16);
					p += 3;
				} else {
					*o++ = *p++;
				}
				break;
			default: *o++ = *p++; break;
			}
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
	return *p ? p + 1 : p;
}

/* A scalar as written after "key: ": quoted, or plain with an optional
 * "  # comment" removed.  In place. */
static char *scalar(char *s)
{
	s = trim(s);
	if (*s == '"') {
		unquote(s, s);
		return s;
	}
	for (char *p = s; *p; p++)
		if (*p == '#' && p > s && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = 0;
			break;
		}
	return trim(s);
}

/* The end of one flow item: the next ',' or closing bracket at depth 0,
 * outside quotes. */
static char *item_end(char *p)
{
	int depth = 0;
	bool q = false;

	for (; *p; p++) {
		if (q) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				q = false;
		} else if (*p == '"') {
			q = true;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p;
			depth--;
		} else if (*p == ',' && depth == 0) {
			return p;
		}
	}
	return p;
}

static void value_at(struct flat *F, const char *path, char *v, int depth);

/* A flow collection's inside ("a: 1, b: {c: 2}" or "1, 2"), in place. */
static void flow(struct flat *F, const char *path, char *p, bool map, int depth)
{
	unsigned idx = 0;

	while (*p) {
		char *end = item_end(p), save = *end, *item, sub[512];

		*end = 0;
		item = trim(p);
		if (*item) {
			char *colon = NULL;
			if (map) {
				/* the key ends at the first ": " outside quotes */
				bool q = false;
				for (char *c = item; *c; c++) {
					if (*c == '"')
						q = !q;
					else if (!q && *c == ':' && (c[1] == ' ' || !c[1])) {
						colon = c;
						break;
					}
				}
			}
			if (colon) {
				*colon = 0;
				char *k = trim(item);
				if (*k == '"')
					unquote(k, k);
				snprintf(sub, sizeof sub, "%s.%s", path, k);
				value_at(F, sub, colon + 1, depth + 1);
			} else {
				snprintf(sub, sizeof sub, "%s.%u", path, idx);
				value_at(F, sub, item, depth + 1);
			}
			idx++;
		}
		if (!save)
			break;
		p = end + 1;
	}
}

/* The value of `path` written inline: a flow collection or a scalar. */
static void value_at(struct flat *F, const char *path, char *v, int depth)
{
	v = trim(v);
	if (depth < MAX_DEPTH && (*v == '{' || *v == '[')) {
		bool map = *v == '{';
		char *end = v + 1;
		/* the matching bracket: skip whole items, nested ones included */
		while (*(end = item_end(end)) == ',')
			end++;
		if (*end)
			*end = 0;
		flow(F, path, v + 1, map, depth);
		return;
	}
	flat_add(F, path, scalar(v));
}

/* The YAML block (lines between "  ---" and "  ..."), flattened. */
static void flatten(struct flat *F, char **lines, size_t n)
{
	struct { int indent; char path[512]; unsigned items; } st[MAX_DEPTH + 1];
	int sp = 0;

	st[0].indent = -1;
	st[0].path[0] = 0;
	st[0].items = 0;
	for (size_t i = 0; i < n; i++) {
		char *l = lines[i], *content, *colon = NULL, path[512];
		int indent = 0;
		bool item = false;

		while (l[indent] == ' ')
			indent++;
		content = l + indent;
		if (!*trim(content) || *content == '#')
			continue;
		bool dash = content[0] == '-' && (content[1] == ' ' || !content[1]);
		/* a sequence may sit at its key's own indentation ("k:\n- a") */
		while (sp > 0 && (dash ? st[sp].indent > indent : st[sp].indent >= indent))
			sp--;
		const char *base = st[sp].path;
		if (dash) {
			/* a sequence item of the innermost open key */
			snprintf(path, sizeof path, "%s%s%u", base, *base ? "." : "", st[sp].items++);
			content = trim(content + 1);
			indent += 2;   /* "- k: v": k sits two columns in */
			item = true;
			if (sp < MAX_DEPTH) {
				sp++;
				st[sp].indent = indent - 1;
				snprintf(st[sp].path, sizeof st[sp].path, "%s", path);
				st[sp].items = 0;
			}
			base = st[sp].path;
		}
		/* "key: ..." — the key ends at the first ": " (or ':' at the end)
		 * outside quotes; "- {..}" and "- scalar" have no key */
		if (*content != '{' && *content != '[' && *content != '"')
			for (char *c = content; *c; c++)
				if (*c == ':' && (c[1] == ' ' || !c[1])) {
					colon = c;
					break;
				}
		if (!colon) {
			if (item)
				value_at(F, base, content, 0);
			continue;
		}
		*colon = 0;
		snprintf(path, sizeof path, "%s%s%s", base, *base ? "." : "", trim(content));
		char *v = trim(colon + 1);
		if (!*v || *v == '#') {
			/* a nested block follows */
			if (sp < MAX_DEPTH) {
				sp++;
				st[sp].indent = indent;
				snprintf(st[sp].path, sizeof st[sp].path, "%s", path);
				st[sp].items = 0;
			}
			continue;
		}
		if (*v == '|') {
			/* a literal block: the lines indented deeper, joined */
			size_t cap = 1, len = 0;
			char *text;
			size_t j;
			int bi = -1;

			for (j = i + 1; j < n; j++) {
				int d = 0;
				while (lines[j][d] == ' ')
					d++;
				if (lines[j][d] && d <= indent)
					break;
				cap += strlen(lines[j]) + 1;
			}
			text = malloc(cap);
			if (!text) {
				F->nomem = true;
				return;
			}
			text[0] = 0;
			for (size_t k = i + 1; k < j; k++) {
				int d = 0;
				while (lines[k][d] == ' ')
					d++;
				if (bi < 0 && lines[k][d])
					bi = d;
				const char *t = (int)strlen(lines[k]) > bi && bi >= 0 ? lines[k] + bi : "";
				len += (size_t)sprintf(text + len, "%s%s", len ? "\n" : "", t);
			}
			flat_add(F, path, text);
			free(text);
			i = j - 1;
			continue;
		}
		value_at(F, path, v, 0);
	}
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* "2026-12-05T11:40:12.345Z" (exec's fault_at_wall): ns since the epoch,
 * -1 when absent or not of that form. */
static int64_t wall_ns(const char *v)
{
	struct tm tm = { 0 };
	const char *e;
	time_t t;

	if (!v || !(e = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm)) || e[0] != '.' ||
	    !isdigit((unsigned char)e[1]) || !isdigit((unsigned char)e[2]) ||
	    !isdigit((unsigned char)e[3]) || strcmp(e + 4, "Z") != 0 || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	return (int64_t)t * 1000000000 + (int64_t)atoi((char[4]){ e[1], e[2], e[3], 0 }) * 1000000;
}

static double num(const struct flat *F, const char *path, double dflt)
{
	const char *v = flat_get(F, path);
	char *end;
	double d;

	if (!v || !*v)
		return dflt;
	d = strtod(v, &end);
	return end != v ? d : dflt;
}

static long lnum(const struct flat *F, const char *path, long dflt)
{
	double d = num(F, path, (double)dflt);
	return (long)d;
}

/* The first TAP result line: "ok 1 - desc", "not ok 1 - desc", with an
 * optional " # SKIP reason" (the last one: a raw description may hold '#'). */
static void result_line(card_exec_result *r, char *l)
{
	char *p, *skip;

	r->outcome = strncmp(l, "ok", 2) == 0 ? CX_OK : CX_NOT_OK;
	p = l + (r->outcome == CX_OK ? 2 : 6);
	while (*p == ' ' || isdigit((unsigned char)*p))
		p++;
	if (*p == '-')
		p++;
	p = trim(p);
	skip = strcasestr(p, " # SKIP");
	for (char *s = skip; s; s = strcasestr(s + 1, " # SKIP"))
		skip = s;
	if (skip && (skip == p || skip[-1] != '\\')) {
		*skip = 0;
		r->outcome = CX_SKIP;
		r->skip_reason = strdup(trim(skip + 7));
	}
	r->desc = strdup(p);
}

int card_exec_result_parse(const char *text, card_exec_result **ret)
{
	card_exec_result *r = calloc(1, sizeof *r);
	struct flat *F = calloc(1, sizeof *F);
	char *copy = strdup(text ? text : ""), **lines = NULL;
	size_t n = 0, cap = 0, y0 = 0, y1 = 0;
	bool in_yaml = false, have_line = false;
	const char *v;

	if (!r || !F || !copy)
		goto nomem;
	/* lines, keeping empty ones (a literal block may hold them) */
	for (char *p = copy; p; ) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		if (n == cap) {
			char **nn = realloc(lines, (cap = cap ? 2 * cap : 64) * sizeof *lines);
			if (!nn)
				goto nomem;
			lines = nn;
		}
		lines[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	for (size_t i = 0; i < n; i++) {
		char *l = lines[i];
		if (!have_line && (strncmp(l, "ok ", 3) == 0 || strncmp(l, "not ok ", 7) == 0)) {
			result_line(r, l);
			have_line = true;
		} else if (have_line && !in_yaml && !y0 && strcmp(trim(l), "---") == 0) {
			in_yaml = true;
			y0 = i + 1;
		} else if (in_yaml && strcmp(l, "  ...") == 0) {
			in_yaml = false;
			y1 = i;
			break;
		}
	}
	if (in_yaml)
		y1 = n;
	if (!have_line) {
		r->outcome = CX_UNREADABLE;
	} else if (y1 > y0) {
		/* indentation is relative: drop the block's two columns */
		for (size_t i = y0; i < y1; i++)
			if (strncmp(lines[i], "  ", 2) == 0)
				lines[i] += 2;
		flatten(F, lines + y0, y1 - y0);
	}
	if (F->nomem)
		goto nomem;

	/* ---- the fields, by path: adapt here when exec's keys change ---- */
	r->message = dup_or_null(flat_get(F, "message"));
	r->fault_applied = dup_or_null(flat_get(F, "fault_applied"));
	r->fault_done = flat_get(F, "fault_at_s") != NULL;
	r->fault_at_s = num(F, "fault_at_s", -1);
	r->fault_wall_ns = wall_ns(flat_get(F, "fault_at_wall"));
	r->family = (v = flat_get(F, "family")) && strcmp(v, "ipv6") == 0 ? AF_INET6 : AF_INET;
	r->healed_at_s = num(F, "healed_at_s", -1);
	r->client_status = dup_or_null(flat_get(F, "client_status"));
	r->exit_code = -1;
	if ((v = r->client_status) && strncmp(v, "exited ", 7) == 0)
		r->exit_code = atoi(v + 7);
	r->client_exited = v && strncmp(v, "still running", 13) != 0;
	r->client_ran_s = num(F, "client_ran_s", -1);
	r->detection_s = num(F, "detection_s", -1);
	r->watched_s = num(F, "running_after_fault_s", -1);
	if ((v = flat_get(F, "client_output"))) {
		const char *end = v + strlen(v), *b;
		while (end > v && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		b = end;
		while (b > v && b[-1] != '\n')
			b--;
		r->last_output = strndup(b, (size_t)(end - b));
	}
	r->schedule = dup_or_null(flat_get(F, "model.schedule"));
	r->model_note = dup_or_null(flat_get(F, "model.note"));
	r->origin = dup_or_null(flat_get(F, "model.origin"));
	r->origin_s = num(F, "model.origin_s", 0);
	r->have_giveup = flat_get(F, "model.giveup_after_origin_s.expected") != NULL;
	r->giveup_expected_s = num(F, "model.giveup_after_origin_s.expected", -1);
	r->giveup_lo_s = num(F, "model.giveup_after_origin_s.lo", -1);
	r->giveup_hi_s = num(F, "model.giveup_after_origin_s.hi", -1);
	r->expected_detection_s = num(F, "model.expected_detection_s", -1);
	r->expected_errno = dup_or_null(flat_get(F, "model.expected_errno"));
	r->tcp_retries2 = lnum(F, "model.knobs.tcp_retries2", -1);
	r->tcp_syn_retries = lnum(F, "model.knobs.tcp_syn_retries", -1);
	r->so_keepalive = (int)lnum(F, "socket_options.SO_KEEPALIVE", -1);
	r->ka_idle = lnum(F, "socket_options.TCP_KEEPIDLE", lnum(F, "model.knobs.keepalive.0", -1));
	r->ka_intvl = lnum(F, "socket_options.TCP_KEEPINTVL", lnum(F, "model.knobs.keepalive.1", -1));
	r->ka_cnt = lnum(F, "socket_options.TCP_KEEPCNT", lnum(F, "model.knobs.keepalive.2", -1));
	r->user_timeout_ms = lnum(F, "socket_options.TCP_USER_TIMEOUT",
	                          lnum(F, "model.knobs.user_timeout_ms", -1));
	r->syncnt = lnum(F, "socket_options.TCP_SYNCNT", lnum(F, "model.knobs.syncnt", -1));
	v = flat_get(F, "pcap");
	if (v && strncmp(v, "not written", 11) != 0)
		r->pcap = strdup(v);

	for (size_t i = 0; i < F->n; i++) {
		free(F->path[i]);
		free(F->value[i]);
	}
	free(F);
	free(lines);
	free(copy);
	*ret = r;
	return 0;
nomem:
	if (F)
		for (size_t i = 0; i < F->n; i++) {
			free(F->path[i]);
			free(F->value[i]);
		}
	free(F);
	free(lines);
	free(copy);
	card_exec_result_free(r);
	return -ENOMEM;
}

void card_exec_result_free(card_exec_result *r)
{
	if (!r)
		return;
	free(r->desc);
	free(r->skip_reason);
	free(r->message);
	free(r->fault_applied);
	free(r->client_status);
	free(r->last_output);
	free(r->schedule);
	free(r->model_note);
	free(r->origin);
	free(r->expected_errno);
	free(r->pcap);
	free(r);
}
