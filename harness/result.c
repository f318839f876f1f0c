/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A case's result as a tree (see tf_result.h): built from the records a
 * case sends, printed by the emitters.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "tf_result.h"

static tf_node *node_add(tf_node *parent, const char *key)
{
	tf_node *n = calloc(1, sizeof *n);

	if (!n)
		return NULL;
	if (key && !(n->key = strdup(key))) {
		free(n);
		return NULL;
	}
	if (parent) {
		if (parent->last)
			parent->last->next = n;
		else
			parent->child = n;
		parent->last = n;
	}
	return n;
}

tf_node *tf_node_map(tf_node *parent, const char *key)
{
	return node_add(parent, key);
}

tf_node *tf_node_seq(tf_node *parent, const char *key)
{
	tf_node *n = node_add(parent, key);

	if (n)
		n->seq = true;
	return n;
}

tf_node *tf_node_scalar(tf_node *parent, const char *key, const char *value, bool literal)
{
	tf_node *n = node_add(parent, key);

	if (!n)
		return NULL;
	n->value = strdup(value ? value : "");
	n->literal = literal;
	return n;
}

tf_node *tf_node_get(const tf_node *map, const char *key)
{
	for (tf_node *c = map ? map->child : NULL; c; c = c->next)
		if (c->key && strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

void tf_node_free(tf_node *n)
{
	while (n) {
		tf_node *next = n->next;
		tf_node_free(n->child);
		free(n->key);
		free(n->value);
		free(n->comment);
		free(n);
		n = next;
	}
}

/* End of one flow item starting at p (before end): a top-level ','. */
static const char *item_end(const char *p, const char *end)
{
	int depth = 0;
	bool q = false;

	for (; p < end; p++) {
		if (q) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				q = false;
		} else if (*p == '"') {
			q = true;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			depth--;
		} else if (*p == ',' && depth == 0) {
			return p;
		}
	}
	return end;
}

static char *trimmed(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\n'))
		end--;
	return strndup(p, (size_t)(end - p));
}

/* A scalar as a case wrote it: "quoted with \" and \\" or plain. */
static char *unquote(char *s)
{
	size_t n = strlen(s), o = 0;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return s;
	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] == '\\' && i + 2 < n)
			i++;
		s[o++] = s[i];
	}
	s[o] = 0;
	return s;
}

static tf_node *parse_range(tf_node *parent, const char *key, const char *p, const char *end)
{
	char *v = trimmed(p, end);
	size_t n = v ? strlen(v) : 0;
	tf_node *node;

	if (!v)
		return NULL;
	if (n >= 2 && ((v[0] == '{' && v[n - 1] == '}') || (v[0] == '[' && v[n - 1] == ']'))) {
		bool map = v[0] == '{';
		const char *q = v + 1, *e = v + n - 1;

		node = map ? tf_node_map(parent, key) : tf_node_seq(parent, key);
		while (node && q < e) {
			const char *ie = item_end(q, e);
			if (map) {
				const char *colon = memchr(q, ':', (size_t)(ie - q));
				if (colon) {
					char *k = trimmed(q, colon);
					if (k)
						parse_range(node, k, colon + 1, ie);
					free(k);
				}
			} else {
				parse_range(node, NULL, q, ie);
			}
			q = ie + 1;
		}
		free(v);
		return node;
	}
	node = tf_node_scalar(parent, key, unquote(v), false);
	free(v);
	return node;
}

tf_node *tf_node_parse(tf_node *parent, const char *key, const char *text)
{
	const char *end = text + strlen(text), *hash = NULL;
	bool q = false;
	tf_node *n;

	/* "value  # comment": the comment starts at a "  # " outside quotes. */
	for (const char *p = text; p < end; p++) {
		if (*p == '"' && (p == text || p[-1] != '\\'))
			q = !q;
		if (!q && p[0] == ' ' && p[1] == ' ' && p[2] == '#' && p[3] == ' ') {
			hash = p;
			break;
		}
	}
	n = parse_range(parent, key, text, hash ? hash : end);
	if (n && hash)
		n->comment = trimmed(hash + 4, end);
	return n;
}

void tf_result_free(tf_result *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->reason);
	tf_node_free(r->yaml);
	memset(r, 0, sizeof *r);
}

const char *tf_res_status_name(tf_res_status s)
{
	switch (s) {
	case TF_RES_PASS: return "pass";
	case TF_RES_FAIL: return "fail";
	case TF_RES_SKIP: return "skip";
	case TF_RES_TIMEOUT: return "timeout";
	case TF_RES_ERROR: return "error";
	}
	return "?";
}
