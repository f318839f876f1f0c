/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What exec.c (starting, waiting, signalling) and exec_set.c (new → set)
 * share: the tf_proc object. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "tf_exec.h"

struct tf_proc {
	tf_host *host;
	char   **argv;
	char   **env;             /* "NAME=value" additions */
	size_t   n_env;
	tf_proc_stdio stdio[3];
	char    *hosts;           /* "addr\tname\n" lines */
	size_t   hosts_len;
	char     hostname[65];
	char    *cwd;

	bool     started, failed, reaped, have_status;
	pid_t    pid;
	int      pidfd, status_fd, fds[3];
	int64_t  start_ns, exit_ns;
	int      status;
	char     err[512];
};

static inline void tf__close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void tf__strv_free(char **v);
