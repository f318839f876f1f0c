/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * KTAP version 1 (Documentation/dev-tools/ktap.rst): what kunit.py parse,
 * the kselftest runner and the kernel CI systems built on it read.
 *
 * Results are "ok N name", "ok N name # SKIP reason", "not ok N name",
 * "not ok N name # TIMEOUT ..." and "not ok N name # ERROR ...".  KTAP has
 * no escape: a '#' in a name would cut it short (kunit.py reads the name
 * as [^#]*), and " # SKIP" anywhere in a line makes kunit.py read a skip,
 * so names and directive texts carry no '#' at all.
 *
 * The YAML of a case becomes diagnostic lines before its result, each
 * starting "#" and three spaces: no KTAP line and none of the patterns of
 * kselftest's parsers (kunit.py's, Linaro's "^(?:# )*(not )?ok \d+ ...")
 * can match such a line, whatever text follows it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "tf_result.h"

/* tf_oneline() into a string (the caller frees it), or NULL. */
static char *oneline_str(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	tf_oneline(m, s);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void tf_ktap_desc(FILE *f, const char *s)
{
	char *t = oneline_str(s ? s : "");
	size_t n;

	if (!t) {
		fputc('?', f);
		return;
	}
	for (char *p = t; *p; p++)
		if (*p == '#')
			*p = '?';
	n = strlen(t);
	/* trailing blanks would be lost by every reader: keep the name whole */
	while (n && t[n - 1] == ' ')
		t[--n] = '?';
	fputs(n ? t : "?", f);
	free(t);
}

static void pad(FILE *f, int n)
{
	fprintf(f, "%*s", n, "");
}

/* Would a reader that strips every '#' and blank before it take this for
 * a result?  (Linaro's current kselftest parser does: tap.py reads
 * "(not )?ok" followed by a non-word character as a test line.) */
static bool looks_like_result(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '#')
		s++;
	if (strncmp(s, "not", 3) == 0 && (s[3] == ' ' || s[3] == '\t')) {
		s += 3;
		while (*s == ' ' || *s == '\t')
			s++;
	}
	return strncmp(s, "ok", 2) == 0 && !(s[2] == '_' || (s[2] >= '0' && s[2] <= '9') ||
	       ((s[2] | 0x20) >= 'a' && (s[2] | 0x20) <= 'z'));
}

/* One diagnostic line: "#   " + label + text, one-line safe; "| " before
 * it when it would read as a result once its '#'s were stripped. */
static void diag(FILE *f, int indent, const char *label, const char *text)
{
	char *l = oneline_str(label), *t = oneline_str(text), *all = NULL;

	pad(f, indent);
	fputs("#   ", f);
	if (l && t && asprintf(&all, "%s%s", l, t) >= 0) {
		fputs(looks_like_result(all) ? "| " : "", f);
		fputs(all, f);
	} else {
		fputc('?', f);
	}
	fputc('\n', f);
	free(all);
	free(l);
	free(t);
}

static bool key_is(const tf_node *n, const char *k)
{
	return n->key && strcmp(n->key, k) == 0;
}

/* "measured 204.890 ms" from measured_ms, "measured 6" from measured. */
static const tf_node *field(const tf_node *map, const char *base, const char **unit)
{
	for (const tf_node *c = map->child; c; c = c->next) {
		size_t n = strlen(base);
		if (!c->key || !c->value || strncmp(c->key, base, n) != 0)
			continue;
		if (c->key[n] == 0 || c->key[n] == '_') {
			*unit = c->key[n] ? c->key + n + 1 : "";
			return c;
		}
	}
	return NULL;
}

/* A check: "check: WHAT: measured M U, expected E U, within LO..HI U: ok". */
static void emit_check(FILE *f, int indent, const tf_node *chk)
{
	const tf_node *what = tf_node_get(chk, "what"), *ok = tf_node_get(chk, "ok");
	const char *mu = "", *eu = "", *lu = "", *hu = "";
	const tf_node *m = field(chk, "measured", &mu), *e = field(chk, "expected", &eu);
	const tf_node *lo = field(chk, "lo", &lu), *hi = field(chk, "hi", &hu);
	char *buf = NULL;
	size_t len = 0;
	FILE *s = open_memstream(&buf, &len);

	if (!s)
		return;
	fprintf(s, "%s: ", what && what->value ? what->value : "(unnamed)");
	if (m)
		fprintf(s, "measured %s%s%s", m->value, *mu ? " " : "", mu);
	if (e)
		fprintf(s, "%sexpected %s%s%s", m ? ", " : "", e->value, *eu ? " " : "", eu);
	if (lo && hi)
		fprintf(s, "%swithin %s..%s%s%s", m || e ? ", " : "", lo->value, hi->value,
		        *hu ? " " : "", hu);
	for (const tf_node *c = chk->child; c; c = c->next) {
		if (c == what || c == ok || c == m || c == e || c == lo || c == hi || !c->key || !c->value)
			continue;
		fprintf(s, ", %s %s", c->key, c->value);
	}
	fprintf(s, ": %s", ok && ok->value && strcmp(ok->value, "true") == 0 ? "ok" : "FAILED");
	if (fclose(s) == 0)
		diag(f, indent, "check: ", buf);
	free(buf);
}

/* Any other node: "key: value  (comment)", a multi-line text one line per
 * line, nested mappings and sequences flattened as "a.b" and "a[i]". */
static void emit_node(FILE *f, int indent, const tf_node *n, const char *path)
{
	char *p = NULL;

	if (asprintf(&p, "%s%s%s", path, *path && n->key ? "." : "", n->key ? n->key : "") < 0)
		return;
	if (n->value) {
		char *label = NULL;
		if (asprintf(&label, "%s: ", p) >= 0) {
			const char *v = n->value;
			bool first = true;
			/* each line of a text on its own diagnostic line */
			while (*v || first) {
				const char *nl = strchr(v, '\n');
				size_t l = nl ? (size_t)(nl - v) : strlen(v);
				char *line = strndup(v, l);
				if (line && n->comment && !nl) {
					char *wc = NULL;
					if (asprintf(&wc, "%s  (%s)", line, n->comment) >= 0) {
						free(line);
						line = wc;
					}
				}
				diag(f, indent, first ? label : "  | ", line ? line : "");
				free(line);
				first = false;
				v += l + (nl ? 1 : 0);
				if (!nl)
					break;
			}
		}
		free(label);
	} else {
		unsigned i = 0;
		for (const tf_node *c = n->child; c; c = c->next, i++) {
			char *sub = NULL;
			if (n->seq) {
				if (asprintf(&sub, "%s[%u]", p, i) < 0)
					continue;
				if (c->value) {
					char *label = NULL;
					if (asprintf(&label, "%s: ", sub) >= 0)
						diag(f, indent, label, c->value);
					free(label);
				} else {
					emit_node(f, indent, c, sub);
				}
				free(sub);
			} else {
				emit_node(f, indent, c, p);
			}
		}
	}
	free(p);
}

void tf_emit_ktap_header(FILE *f, const tf_run_info *i, int indent, const char *subtest)
{
	pad(f, indent);
	fputs("KTAP version 1\n", f);
	if (subtest) {
		pad(f, indent);
		fputs("# Subtest: ", f);
		tf_ktap_desc(f, subtest);
		fputc('\n', f);
	}
	pad(f, indent);
	fprintf(f, "1..%u\n", i->total);
	pad(f, indent);
	fputs("# tcpfate: ", f);   /* a binary, or the suite of tcpfate run */
	tf_oneline(f, i->prog);
	fputs(" on Linux ", f);
	tf_oneline(f, i->kernel);
	fprintf(f, " (HZ=%u) as uid %u\n", i->hz, i->uid);
}

void tf_emit_ktap_case(FILE *f, const tf_result *r, int indent)
{
	char dur[64];

	snprintf(dur, sizeof dur, "%u (%.1f ms)", r->num, r->duration_ms);
	diag(f, indent, "case ", dur);
	for (const tf_node *c = r->yaml ? r->yaml->child : NULL; c; c = c->next) {
		if (key_is(c, "duration_ms") || key_is(c, "kernel"))
			continue;
		if (key_is(c, "checks") && c->seq) {
			for (const tf_node *k = c->child; k; k = k->next)
				emit_check(f, indent, k);
			continue;
		}
		emit_node(f, indent, c, "");
	}
	pad(f, indent);
	fprintf(f, "%s %u ", tf_res_failed(r->status) ? "not ok" : "ok", r->num);
	tf_ktap_desc(f, r->name);
	switch (r->status) {
	case TF_RES_SKIP: fputs(" # SKIP", f); break;
	case TF_RES_TIMEOUT: fputs(" # TIMEOUT", f); break;
	case TF_RES_ERROR: fputs(" # ERROR", f); break;
	default: break;
	}
	if (r->status != TF_RES_PASS && r->status != TF_RES_FAIL && r->reason && *r->reason) {
		fputc(' ', f);
		tf_ktap_desc(f, r->reason);
	}
	fputc('\n', f);
	fflush(f);
}

void tf_ktap_count(tf_ktap_totals *t, tf_res_status s)
{
	switch (s) {
	case TF_RES_PASS: t->pass++; break;
	case TF_RES_SKIP: t->skip++; break;
	case TF_RES_ERROR: t->error++; break;
	default: t->fail++; break;
	}
}

void tf_emit_ktap_totals(FILE *f, const tf_ktap_totals *t, int indent)
{
	pad(f, indent);
	/* kselftest.h's ksft_print_cnts() line */
	fprintf(f, "# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:%u\n", t->pass, t->fail,
	        t->skip, t->error);
	fflush(f);
}
