/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TAP version 13 with a YAML block per case, in the subset every TAP
 * consumer reads: prove's YAMLish has no flow collections, no multi-line
 * quoted scalars and no block indentation indicators, and ends a literal
 * block at its first blank line.  So a multi-line text is a literal block
 * only when YAMLish reads it back exactly; otherwise one double-quoted line
 * with escapes.  Nothing from outside (case output, a program's output, a
 * path) reaches the stream raw: see tf_tap_escape() and tf_yaml_scalar().
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "tf_result.h"

/* Length of the valid UTF-8 sequence at s (1 for ASCII), 0 if invalid;
 * *cp gets the code point. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* A character a line-oriented reader could take for a line break or a
 * control: C0, DEL, C1 (U+0085 is NEL), U+2028, U+2029. */
static bool is_break(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029;
}

/* One line of text: breaks, controls and invalid UTF-8 replaced ('?', a
 * tab by a space); `escape`: '#' and '\\' get a backslash (TAP). */
static void put_line(FILE *f, const char *s, bool escape)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		uint32_t c;
		size_t n = utf8_seq(p, &c);

		if (n == 0 || is_break(c)) {
			fputc(*p == '\t' ? ' ' : '?', f);
			p += n ? n : 1;
			continue;
		}
		if (escape && (c == '#' || c == '\\'))
			fputc('\\', f);
		fwrite(p, 1, n, f);
		p += n;
	}
}

void tf_oneline(FILE *f, const char *s)
{
	put_line(f, s, false);
}

void tf_tap_escape(FILE *f, const char *s)
{
	put_line(f, s, true);
}

/* Text every YAML reader (prove's YAMLish included) takes as the same
 * plain string: printable ASCII, a letter or '/' first, no flow indicator,
 * quote, '#' or ": " inside, no edge spaces, nothing YAML 1.1 would read as another type. */
static bool plain_text_ok(const char *s)
{
	static const char *const typed[] = { "y", "n", "yes", "no", "on", "off", "null", "~" };
	size_t n = strlen(s);

	/* a letter or a path first: never a number, a date, an indicator */
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '/') || s[n - 1] == ' ' ||
	    s[n - 1] == ':')
		return false;
	for (const char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e || strchr(",[]{}#\"'\\", *p) || (p[0] == ':' && p[1] == ' '))
			return false;
	for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++)
		if (strcasecmp(s, typed[i]) == 0)
			return false;
	return true;
}

/* A number or boolean that every YAML reader takes as it is. */
static bool plain_ok(const char *s)
{
	const char *p = s;

	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
		return true;
	if (*p == '-' || *p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == 0;
}

void tf_yaml_scalar(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	if (*p && plain_ok((const char *)p)) {
		fputs((const char *)p, f);
		return;
	}
	fputc('"', f);
	while (*p) {
		uint32_t c;
		size_t n = utf8_seq(p, &c);

		if (n == 0) {                 /* invalid UTF-8: the byte, escaped */
			fprintf(f, "\\x%02x", *p++);
			continue;
		}
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", (int)c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (is_break(c) && c < 0x100)
			fprintf(f, "\\x%02x", (unsigned)c);
		else if (is_break(c))
			fprintf(f, "\\u%04x", (unsigned)c);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

/* Will YAMLish read this text back exactly as a literal block? */
static bool literal_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	bool line_start = true;

	if (!*p || *p == ' ')
		return false;
	while (*p) {
		uint32_t c;
		size_t n = utf8_seq(p, &c);

		if (n == 0 || (is_break(c) && c != '\n'))
			return false;
		if (c == '\n') {
			/* a blank line ends YAMLish's block; so does trailing space */
			if (line_start || (p > (const unsigned char *)s && p[-1] == ' '))
				return false;
			line_start = true;
		} else {
			line_start = false;
		}
		p += n;
	}
	return p[-1] != ' ';
}

static void pad(FILE *f, int n)
{
	fprintf(f, "%*s", n, "");
}

static void emit_comment(FILE *f, const tf_node *n)
{
	if (n->comment) {
		fputs("  # ", f);
		tf_oneline(f, n->comment);
	}
}

static void emit_entry(FILE *f, const tf_node *n, int indent, bool no_pad)
{
	if (!no_pad)
		pad(f, indent);
	if (n->key) {
		tf_oneline(f, n->key);
		fputc(':', f);
	} else {
		fputc('-', f);
	}
	if (n->value) {
		if (n->literal && literal_ok(n->value)) {
			const char *p = n->value;

			fputs(" |\n", f);
			while (*p) {
				const char *nl = strchr(p, '\n');
				size_t len = nl ? (size_t)(nl - p) : strlen(p);

				pad(f, indent + 2);
				fwrite(p, 1, len, f);
				fputc('\n', f);
				p += len + (nl ? 1 : 0);
			}
			return;
		}
		fputc(' ', f);
		if (plain_ok(n->value) || plain_text_ok(n->value)) {
			fputs(n->value, f);
			emit_comment(f, n);
		} else {
			/* YAMLish reads nothing after a closing quote: the
			 * comment becomes a sibling "<key>_note" */
			tf_yaml_scalar(f, n->value);
			if (n->comment && n->key) {
				fputc('\n', f);
				pad(f, indent);
				tf_oneline(f, n->key);
				fputs("_note: ", f);
				tf_yaml_scalar(f, n->comment);
			} else {
				emit_comment(f, n);
			}
		}
		fputc('\n', f);
		return;
	}
	if (!n->child) {
		fputs(n->seq ? " []" : " {}", f);
		emit_comment(f, n);
		fputc('\n', f);
		return;
	}
	if (!n->key && !n->seq) {
		/* a mapping as a sequence item: "- k: v", the rest aligned under k */
		fputc(' ', f);
		emit_entry(f, n->child, indent + 2, true);
		for (const tf_node *c = n->child->next; c; c = c->next)
			emit_entry(f, c, indent + 2, false);
		return;
	}
	emit_comment(f, n);
	fputc('\n', f);
	for (const tf_node *c = n->child; c; c = c->next)
		emit_entry(f, c, indent + 2, false);
}

void tf_emit_tap13_header(FILE *f, const tf_run_info *i)
{
	if (i->total == 0)   /* nothing selected (a binary without slow cases) */
		fprintf(f, "TAP version 13\n1..0 # SKIP no case of this selection in ");
	else
		fprintf(f, "TAP version 13\n1..%u\n# ", i->total);
	tf_oneline(f, i->prog);
	fputs(" on Linux ", f);
	tf_oneline(f, i->kernel);
	fprintf(f, " (HZ=%u) as uid %u\n", i->hz, i->uid);
}

void tf_emit_tap13_case(FILE *f, const tf_result *r)
{
	fprintf(f, "%s %u - ", tf_res_failed(r->status) ? "not ok" : "ok", r->num);
	tf_tap_escape(f, r->name);
	if (r->status == TF_RES_SKIP) {
		fputs(" # SKIP ", f);
		tf_tap_escape(f, r->reason ? r->reason : "");
	}
	fputs("\n  ---\n", f);
	for (const tf_node *c = r->yaml ? r->yaml->child : NULL; c; c = c->next)
		emit_entry(f, c, 2, false);
	fputs("  ...\n", f);
	fflush(f);
}
