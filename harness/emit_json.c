/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Results as JSON, one document per run, for machines: results produced on
 * different machines or CI jobs (one per kernel) merge into one behaviour x
 * kernel table (ci/merge).  A case binary's document:
 *
 *   {"format": "tcpfate-results", "version": 1, "binary": NAME,
 *    "kernel": {release, version, machine, hz}, "sysctl_init_netns": {...},
 *    "uid": N, "plan": N, "cases": [CASE...], "exit": N}
 *
 *   CASE: {"num", "name", "status" (pass|fail|skip|timeout|error),
 *          "reason", "duration_ms", "proves", "message",
 *          "diagnostics": {key: value...}, "comments": {key: text},
 *          "checks": [{what, measured[_ms], expected[_ms], lo_ms, hi_ms,
 *                      ok, ...}], "notes", "failures", "output"}
 *
 * Values keep the text the case wrote: a number stays the number token it
 * was (valid JSON only; otherwise a string), so nothing is rounded twice.
 * The file is written to a temporary beside the target and renamed over
 * it once complete: a reader never sees half a document.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "tf_probe.h"
#include "tf_result.h"
#include "file_out.h"

struct tf_json {
	FILE *f;
	tf_file_out out;
	bool any_case;
};

void tf_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		unsigned char c = *p;
		size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		           c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		bool valid = n > 0;

		for (size_t i = 1; valid && i < n; i++)
			valid = (p[i] & 0xc0) == 0x80;
		/* overlong 3/4-byte forms, surrogates, beyond U+10FFFF */
		if (valid && n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
			valid = false;
		if (valid && n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
			valid = false;
		if (!valid) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

/* A JSON number token exactly (RFC 8259 section 6). */
static bool number_ok(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == 0;
}

static void scalar(FILE *f, const char *v)
{
	if (v && (number_ok(v) || strcmp(v, "true") == 0 || strcmp(v, "false") == 0))
		fputs(v, f);
	else
		tf_json_str(f, v);
}

static void value(FILE *f, const tf_node *n)
{
	bool first = true;

	if (n->value) {
		scalar(f, n->value);
		return;
	}
	fputc(n->seq ? '[' : '{', f);
	for (const tf_node *c = n->child; c; c = c->next) {
		if (!first)
			fputs(", ", f);
		first = false;
		if (!n->seq) {
			tf_json_str(f, c->key ? c->key : "");
			fputs(": ", f);
		}
		value(f, c);
	}
	fputc(n->seq ? ']' : '}', f);
}

static const char *const sysctls[] = {
	"tcp_retries1", "tcp_retries2", "tcp_syn_retries", "tcp_synack_retries",
	"tcp_orphan_retries", "tcp_keepalive_time", "tcp_keepalive_intvl",
	"tcp_keepalive_probes", "tcp_fin_timeout", "tcp_early_retrans", "tcp_recovery",
	"tcp_frto", "tcp_thin_linear_timeouts", "tcp_mtu_probing", "tcp_base_mss",
	"tcp_tw_reuse", "tcp_rto_min_us", "tcp_rto_max_ms", "tcp_congestion_control",
};

void tf_json_facts(FILE *f, const char *ind)
{
	struct utsname u;
	unsigned hz = 0;
	bool first = true;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof u);
	tf_kernel_hz(&hz);
	fprintf(f, "%s\"kernel\": {\"release\": ", ind);
	tf_json_str(f, u.release);
	fputs(", \"version\": ", f);
	tf_json_str(f, u.version);
	fputs(", \"machine\": ", f);
	tf_json_str(f, u.machine);
	fprintf(f, ", \"hz\": %u},\n", hz);
	/* The init namespace's values, read only: a case's own namespace
	 * starts from the kernel's defaults, which the model probes there.
	 * Present or absent tells which knobs this kernel has. */
	fprintf(f, "%s\"sysctl_init_netns\": {", ind);
	for (size_t i = 0; i < sizeof sysctls / sizeof *sysctls; i++) {
		char path[128], buf[128];
		ssize_t n;
		int fd;

		snprintf(path, sizeof path, "/proc/sys/net/ipv4/%s", sysctls[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
			n--;
		buf[n] = 0;
		fprintf(f, "%s\"net.ipv4.%s\": ", first ? "" : ", ", sysctls[i]);
		tf_json_str(f, buf);
		first = false;
	}
	fputs("}", f);
}

int tf_json_open(tf_json **out, const char *path, const tf_run_info *info)
{
	tf_json *j = calloc(1, sizeof *j);
	int r;
	char when[32] = "";
	time_t now = time(NULL);
	struct tm tm;

	*out = NULL;
	if (!j)
		return -ENOMEM;
	j->f = tf_file_out_open(&j->out, path, &r);
	if (!j->f)
		goto fail;
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fputs("{\"format\": \"tcpfate-results\", \"version\": 1,\n \"binary\": ", j->f);
	tf_json_str(j->f, info->prog);
	fputs(",\n", j->f);
	tf_json_facts(j->f, " ");
	fprintf(j->f, ",\n \"uid\": %u, \"started\": \"%s\", \"plan\": %u,\n \"cases\": [", info->uid,
	        when, info->total);
	/* empty buffers before every fork of a case: a child must not carry
	 * a copy of half a document */
	fflush(j->f);
	*out = j;
	return 0;
fail:
	free(j);
	return r;
}

static bool is_text(const tf_node *n)
{
	static const char *const keys[] = { "notes", "failures", "output" };

	for (size_t i = 0; i < 3; i++)
		if (n->key && strcmp(n->key, keys[i]) == 0 && n->value)
			return true;
	return false;
}

static bool skip_diag(const tf_node *n)
{
	static const char *const keys[] = { "duration_ms", "kernel", "proves", "message", "checks" };

	for (size_t i = 0; i < 5; i++)
		if (n->key && strcmp(n->key, keys[i]) == 0)
			return true;
	return !n->key || is_text(n);
}

void tf_json_case(tf_json *j, const tf_result *r)
{
	FILE *f;
	const tf_node *y = r->yaml, *checks = tf_node_get(y, "checks");
	bool first = true;

	if (!j)
		return;
	f = j->f;
	fprintf(f, "%s\n  {\"num\": %u, \"name\": ", j->any_case ? "," : "", r->num);
	j->any_case = true;
	tf_json_str(f, r->name);
	fputs(", \"status\": ", f);
	tf_json_str(f, tf_res_status_name(r->status));
	fputs(", \"reason\": ", f);
	if (r->reason)
		tf_json_str(f, r->reason);
	else
		fputs("null", f);
	fprintf(f, ", \"duration_ms\": %.1f", r->duration_ms);
	for (const char *const *k = (const char *const[]){ "proves", "message", NULL }; *k; k++) {
		const tf_node *n = tf_node_get(y, *k);
		if (n && n->value) {
			fprintf(f, ", \"%s\": ", *k);
			tf_json_str(f, n->value);
		}
	}
	fputs(",\n   \"diagnostics\": {", f);
	for (const tf_node *c = y ? y->child : NULL; c; c = c->next) {
		if (skip_diag(c))
			continue;
		fputs(first ? "" : ", ", f);
		first = false;
		tf_json_str(f, c->key);
		fputs(": ", f);
		value(f, c);
	}
	fputs("},\n   \"comments\": {", f);
	first = true;
	for (const tf_node *c = y ? y->child : NULL; c; c = c->next) {
		if (skip_diag(c) || !c->comment)
			continue;
		fputs(first ? "" : ", ", f);
		first = false;
		tf_json_str(f, c->key);
		fputs(": ", f);
		tf_json_str(f, c->comment);
	}
	fputs("},\n   \"checks\": [", f);
	first = true;
	for (const tf_node *c = checks ? checks->child : NULL; c; c = c->next) {
		fputs(first ? "\n    " : ",\n    ", f);
		first = false;
		value(f, c);
	}
	fputs("]", f);
	for (const tf_node *c = y ? y->child : NULL; c; c = c->next) {
		if (!is_text(c))
			continue;
		fputs(",\n   ", f);
		tf_json_str(f, c->key);
		fputs(": ", f);
		tf_json_str(f, c->value);
	}
	fputs("}", f);
	fflush(f);
}

int tf_json_close(tf_json *j, int exit_status)
{
	int r = 0;

	if (!j)
		return 0;
	fprintf(j->f, "\n ],\n \"exit\": %d}\n", exit_status);
	r = tf_file_out_close(&j->out);
	free(j);
	return r;
}

/* --- validation of a document another process wrote ----------------------- */

struct jp {
	const char *p, *end;
	int depth;
};

static void ws(struct jp *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool lit(struct jp *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return false;
	s->p += n;
	return true;
}

static bool jstring(struct jp *s)
{
	if (s->p >= s->end || *s->p != '"')
		return false;
	for (s->p++; s->p < s->end; s->p++) {
		unsigned char c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++s->p >= s->end)
				return false;
			if (*s->p == 'u') {
				for (int i = 0; i < 4; i++)
					if (++s->p >= s->end || !strchr("0123456789abcdefABCDEF", *s->p))
						return false;
			} else if (!strchr("\"\\/bfnrt", *s->p)) {
				return false;
			}
		}
	}
	return false;
}

static bool jnumber(struct jp *s)
{
	const char *q = s->p;
	char buf[64];

	while (q < s->end && strchr("+-.eE0123456789", *q))
		q++;
	if (q == s->p || (size_t)(q - s->p) >= sizeof buf)
		return false;
	memcpy(buf, s->p, (size_t)(q - s->p));
	buf[q - s->p] = 0;
	s->p = q;
	return number_ok(buf);
}

static bool jvalue(struct jp *s)
{
	ws(s);
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '"': return jstring(s);
	case 't': return lit(s, "true");
	case 'f': return lit(s, "false");
	case 'n': return lit(s, "null");
	case '{':
	case '[': {
		char close = *s->p == '{' ? '}' : ']';
		bool obj = close == '}';
		if (++s->depth > 64)
			return false;
		s->p++;
		ws(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			s->depth--;
			return true;
		}
		for (;;) {
			if (obj) {
				ws(s);
				if (!jstring(s))
					return false;
				ws(s);
				if (s->p >= s->end || *s->p++ != ':')
					return false;
			}
			if (!jvalue(s))
				return false;
			ws(s);
			if (s->p >= s->end)
				return false;
			if (*s->p == ',') {
				s->p++;
				continue;
			}
			if (*s->p++ != close)
				return false;
			s->depth--;
			return true;
		}
	}
	default: return jnumber(s);
	}
}

bool tf_json_valid(const char *text, size_t len)
{
	struct jp s = { text, text + len, 0 };

	if (!jvalue(&s))
		return false;
	ws(&s);
	return s.p == s.end;
}
