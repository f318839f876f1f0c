/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate — the command.
 *
 *   tcpfate run    run the case binaries against this kernel, print a report
 *   tcpfate list   list the cases
 *   tcpfate model  print the model's schedule for given knobs (no network)
 *
 * Exit: 0 all passed or skipped, 1 a case failed, 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "card.h"
#include "cmd_model.h"
#include "cmd_run.h"
#ifdef TF_HAVE_EXEC
#include "cmd_exec.h"
#endif
#include "tf_probe.h"
#include "tf_sandbox.h"
#include "vm_fallback.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: tcpfate COMMAND [OPTIONS]\n\n"
	           "  run     run the cases against the running kernel and print a report\n"
	           "  list    list the cases\n"
	           "  model   print the kernel's expected schedule for given knobs\n"
#ifdef TF_HAVE_EXEC
	           "  exec    run a real client and server under a fault, check the client's time budget\n"
#endif
	           "  card    a timeout-policy report card: every way a network dies, judged\n"
	           "\n"
	           "'tcpfate COMMAND --help' for a command's options.\n");
}

/* run, exec and card need the sandbox.  Where it cannot be made, the
 * whole command goes into one guest kernel (harness/vm_fallback.c); if
 * that is impossible too, say why and go on: the cases SKIP with their
 * reason. */
static void maybe_fallback(char **argv)
{
	char blocked[512], why[512];

	if (tf_vm_fallback_if_blocked(argv, blocked, sizeof blocked, why, sizeof why) < 0)
		fprintf(stderr, "tcpfate: namespaces blocked here (%s); no VM fallback: %s\n", blocked,
		        why);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0 || strcmp(argv[1], "exec") == 0 ||
	    strcmp(argv[1], "card") == 0)
		maybe_fallback(argv);
	if (strcmp(argv[1], "run") == 0)
		return tf_cmd_run(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "list") == 0)
		return tf_cmd_run(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "model") == 0)
		return tf_cmd_model(argc - 1, argv + 1);
#ifdef TF_HAVE_EXEC
	if (strcmp(argv[1], "exec") == 0)
		return tf_cmd_exec(argc - 1, argv + 1);
#endif
	if (strcmp(argv[1], "card") == 0) return tf_cmd_card(argc - 1, argv + 1);
	fprintf(stderr, "tcpfate: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
