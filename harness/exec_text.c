/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate exec: outside text made safe for TAP and YAML, and the programs'
 * output kept line by line.  See exec_scenario.h.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "exec_scenario.h"

/*
 * Outside text (commands, paths, the programs' output) reaches TAP and
 * YAML only through text_dup(): it cannot end a line, start a TAP
 * directive, or carry what a YAML parser refuses.
 */

/* The UTF-8 character at s (n bytes left): its length and code point, or 0
 * for a byte that starts no valid sequence (overlong, surrogate, beyond
 * U+10FFFF, truncated). */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Printable for YAML (c-printable) and on one TAP line: no C0 or C1
 * control (NEL is a line break to YAML 1.1), DEL, line or paragraph
 * separator, or non-character U+FFFE/U+FFFF. */
static bool printable(uint32_t c)
{
	return c == '\t' || (c >= 0x20 && c < 0x7f) ||
	       (c >= 0xa0 && c != 0x2028 && c != 0x2029 && c != 0xfffe && c != 0xffff);
}

/* A cleaned, NUL-terminated copy of s (n bytes); invalid UTF-8 becomes
 * U+FFFD in every mode.  NULL only when out of memory. */
char *tf_exec_text_dup(const char *s, size_t n, enum text_mode mode)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc(4 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t c = 0;
		size_t l = utf8_char(u + i, n - i, &c);

		if (l == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		if (mode == TX_QUOTED && (c == '"' || c == '\\')) {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (mode == TX_QUOTED && c == '\t') {
			memcpy(o, "\\t", 2);
			o += 2;
		} else if (mode == TX_TAP && (c == '#' || c == '\\')) {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (printable(c)) {
			memcpy(o, u + i, l);
			o += l;
		} else if (mode == TX_QUOTED && c <= 0xff) {
			o += sprintf(o, "\\x%02x", (unsigned)c);  /* YAML: the code point */
		} else {
			*o++ = '?';
		}
		i += l;
	}
	*o = 0;
	return out;
}

/* --- a program's output --- */

void tf_exec_lines_push(struct tf_exec_lines *L, const char *s, size_t n)
{
	char *c = tf_exec_text_dup(s, n, TX_LINE);

	if (!c)
		return;
	if (L->verbose)
		fprintf(stderr, "[%s] %s\n", L->who, c);
	free(L->ring[L->next]);
	L->ring[L->next] = c;
	L->next = (L->next + 1) % TF_EXEC_RING;
	if (L->n < TF_EXEC_RING)
		L->n++;
	L->total++;
}

void tf_exec_lines_free(struct tf_exec_lines *L)
{
	for (size_t i = 0; i < TF_EXEC_RING; i++) {
		free(L->ring[i]);
		L->ring[i] = NULL;
	}
	L->n = L->next = L->total = 0;
}

/* The i-th of the kept lines, oldest first. */
const char *tf_exec_lines_get(const struct tf_exec_lines *L, size_t i)
{
	return L->ring[(L->next + TF_EXEC_RING - L->n + i) % TF_EXEC_RING];
}

/* "killed by SIGKILL": the buffer is the caller's (runs may be concurrent). */
void tf_exec_describe_status(int st, char *buf, size_t n)
{
	const char *a = WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : NULL;

	if (WIFEXITED(st))
		snprintf(buf, n, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st) && a)
		snprintf(buf, n, "killed by SIG%s", a);
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, n, "status 0x%x", st);
}
