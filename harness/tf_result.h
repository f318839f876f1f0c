/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_result.h — one case's result as the runner collected it, and the
 * emitters that print it (TAP 13 with YAML here; other formats beside it).
 *
 * The YAML block of a case is a small tree of tf_node: mappings, sequences
 * and scalars.  Scalars hold raw text (from the kernel, from a case, from a
 * program under test); emitters escape it for their format, so nothing a
 * case or a program prints can forge a result line.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct tf_node {
	char *key;              /* NULL for a sequence item */
	char *value;            /* a scalar (NULL: a mapping or sequence of children) */
	char *comment;          /* a trailing comment, or NULL */
	bool seq;               /* children are sequence items */
	bool literal;           /* a multi-line scalar, printed as a block */
	struct tf_node *child, *last, *next;
} tf_node;

/* A mapping node (key may be NULL: a sequence item or the root). */
tf_node *tf_node_map(tf_node *parent, const char *key);
/* A sequence node. */
tf_node *tf_node_seq(tf_node *parent, const char *key);
/* A scalar; value is copied.  literal: a multi-line text block. */
tf_node *tf_node_scalar(tf_node *parent, const char *key, const char *value, bool literal);
/* "value  # comment" or a flow collection "{k: v, ...}" / "[a, b]" as a case
 * writes it in tf_diag(), parsed into nodes under parent. */
tf_node *tf_node_parse(tf_node *parent, const char *key, const char *text);
/* The child of a mapping with this key, or NULL. */
tf_node *tf_node_get(const tf_node *map, const char *key);
void tf_node_free(tf_node *n);

typedef enum {
	TF_RES_PASS,
	TF_RES_FAIL,
	TF_RES_SKIP,
	TF_RES_TIMEOUT,   /* killed at its timeout: a failure */
	TF_RES_ERROR,     /* the harness could not run it (fork, pipe, a signal): a failure */
} tf_res_status;

typedef struct tf_result {
	unsigned num;           /* 1-based, in the binary's plan */
	char *name;
	tf_res_status status;
	char *reason;           /* SKIP reason, or the message of a timeout/error */
	double duration_ms;
	tf_node *yaml;          /* the case's YAML mapping (root, key NULL) */
} tf_result;

void tf_result_free(tf_result *r);
const char *tf_res_status_name(tf_res_status s);
static inline bool tf_res_failed(tf_res_status s)
{
	return s == TF_RES_FAIL || s == TF_RES_TIMEOUT || s == TF_RES_ERROR;
}

/* What a run is (the header of every format). */
typedef struct tf_run_info {
	const char *prog;       /* the binary's name */
	const char *kernel;     /* uname release */
	unsigned hz;
	unsigned uid;
	unsigned total;         /* the plan */
} tf_run_info;

/* TAP version 13 (what prove and meson read). */
void tf_emit_tap13_header(FILE *f, const tf_run_info *info);
void tf_emit_tap13_case(FILE *f, const tf_result *r);

/* A TAP description or directive reason: no newline, no control character,
 * '#' escaped as "\#" (so it cannot start a directive) and '\' as "\\". */
void tf_tap_escape(FILE *f, const char *s);
/* A YAML scalar, double-quoted unless it is a plain number or boolean:
 * control characters, invalid UTF-8, U+0085/U+2028/U+2029 escaped. */
void tf_yaml_scalar(FILE *f, const char *s);
/* Text made safe for one line (a comment): control characters and
 * invalid UTF-8 replaced by '?'. */
void tf_oneline(FILE *f, const char *s);
