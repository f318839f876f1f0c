/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fallback-driver CMD [ARGS...] — what the case runner's main() and
 * `tcpfate run` do where the sandbox cannot be made (the lead wires the same
 * call into harness/runner.c and harness/tcpfate.c): probe for a user +
 * network namespace in a child; if it is refused, run CMD through
 * tf_vm_fallback_exec(); else run CMD here.  When no fallback is possible:
 * a TAP plan with one SKIP naming the fix, exit 0 (what a case would print).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm_fallback.h"

static int probe(void)
{
	int p[2], err = 0;
	if (pipe(p) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid == 0) {
		int e = unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0 ? errno : 0;
		if (write(p[1], &e, sizeof e) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &err, sizeof err) != sizeof err)
		err = EIO;
	close(p[0]);
	waitpid(pid, NULL, 0);
	return -err;
}

int main(int argc, char **argv)
{
	char why[512], reason[256];
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: fallback-driver CMD [ARGS...]\n");
		return 2;
	}
	r = probe();
	if (r == 0 || getenv("TF_IN_VM")) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		return 127;
	}
	snprintf(reason, sizeof reason, "unshare(CLONE_NEWUSER|CLONE_NEWNET): %s", strerror(-r));
	r = tf_vm_fallback_exec(argv + 1, reason, why, sizeof why);
	printf("TAP version 13\n1..1\nok 1 - %s # SKIP %s; and no VM fallback: %s\n",
	       strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1], reason, why);
	return 0;
}
