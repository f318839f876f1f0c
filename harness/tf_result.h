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

/* KTAP version 1 (Documentation/dev-tools/ktap.rst; what kunit.py parse
 * and the kselftest runner read).  A case's YAML becomes "#   " diagnostic
 * lines before its result line: a line that starts "#" and three spaces
 * matches no KTAP line and none of the result patterns of kselftest
 * parsers, whatever a case wrote.  indent: spaces before every line (a
 * subtest is indented two per level). */
typedef struct tf_ktap_totals {
	unsigned pass, fail, skip, error;   /* a TIMEOUT counts as a fail */
} tf_ktap_totals;
/* "KTAP version 1", then "# Subtest: NAME" when subtest is not NULL,
 * the plan and a "# " line saying what runs where. */
void tf_emit_ktap_header(FILE *f, const tf_run_info *info, int indent, const char *subtest);
void tf_emit_ktap_case(FILE *f, const tf_result *r, int indent);
/* Counts r into t (the "# Totals:" kselftest prints). */
void tf_ktap_count(tf_ktap_totals *t, tf_res_status s);
void tf_emit_ktap_totals(FILE *f, const tf_ktap_totals *t, int indent);
/* A KTAP description: no '#' at all (KTAP has no escape for it; '#' and
 * control characters become '?'), never empty. */
void tf_ktap_desc(FILE *f, const char *s);

/* JSON (emit_json.c): one document per run, written to a temporary file
 * in the target's directory and renamed over the target when complete. */
typedef struct tf_json tf_json;
/* Opens PATH.XXXXXX, writes the run's header (kernel facts, sysctls).
 * 0 or -errno. */
int tf_json_open(tf_json **out, const char *path, const tf_run_info *info);
void tf_json_case(tf_json *j, const tf_result *r);
/* Ends the document (exit: the binary's exit status), renames it over
 * PATH; on error removes the temporary it created.  0 or -errno.  NULL ok. */
int tf_json_close(tf_json *j, int exit_status);
/* A JSON string literal (UTF-8 kept, invalid bytes as U+FFFD, controls
 * escaped). */
void tf_json_str(FILE *f, const char *s);
/* The kernel facts every result carries, as JSON members (no braces):
 * "kernel": {...}, "sysctl": {...}. */
void tf_json_facts(FILE *f, const char *indent);
/* Is text[0..len) one well-formed JSON value (RFC 8259), at most 64
 * levels deep? */
bool tf_json_valid(const char *text, size_t len);

/* tcpfate run (run_formats.c).  One binary's KTAP output (tap: its stdout,
 * changed in place; status: from waitpid; errs: its stderr or NULL) as
 * subtest num of the run, counted into tt and counts (pass, fail, skip as
 * the report counts them). */
void tf_run_ktap_binary(FILE *out, unsigned num, const char *name, char *tap, int status,
                        const char *errs, tf_ktap_totals *tt, unsigned counts[3]);
/* The run's JSON: the n binaries' own documents (json_paths[i], or NULL),
 * each with its exit status, into PATH (temporary + rename).  0 or -errno. */
int tf_run_json_write(const char *path, const char *suite, size_t n, const char *const *names,
                      const char *const *json_paths, const int *statuses);
