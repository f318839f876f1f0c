/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A file the harness writes (a JSON result, a card's page): as a stream
 * into a temporary next to it, renamed over it when complete — the rules of
 * lib/file_private.h: only a regular file is ever replaced, and on error
 * only the temporary is removed.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "file_private.h"

typedef struct tf_file_out {
	struct tf_atomic a;
	FILE *f;
} tf_file_out;

/* The stream to write, or NULL with *err = -errno (nothing was created). */
FILE *tf_file_out_open(tf_file_out *o, const char *path, int *err);
/* Flush, close, and rename over the target; on any error remove only the
 * temporary.  0 or -errno. */
int tf_file_out_close(tf_file_out *o);
/* The same, for a failed write: the target stays as it was. */
void tf_file_out_abort(tf_file_out *o);

/* Whether stderr is a different file from stdout: a test driver (meson,
 * prove) parses stdout and shows only stderr when a test fails, so a
 * failure's evidence goes to both. */
bool tf_stderr_apart(void);
