/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cases that attack the runner (tests of the harness, not of the kernel):
 * run by harness/tests/test-runner.sh, never by `tcpfate run`.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tf_test.h"

/* Closes every fd the runner watches, then outlives its timeout. */
TF_CASE(closes_fds_and_sleeps, .timeout_s = 2)
{
	struct timespec ts = { 6, 0 };

	for (int fd = 0; fd < 1024; fd++)
		close(fd);
	nanosleep(&ts, NULL);   /* the scenario: a case that hangs */
}

/* Output a consumer could take for TAP or YAML structure. */
TF_CASE(hostile_output)
{
	static char line[9000];

	memset(line, 'x', 8191);
	printf("%s\nok 2 - injected\n", line);
	printf("  ...\nok 3 - forged # SKIP nothing\nnot ok 4 - forged\n");
	static const char raw[] = "cr\r nul\0 nel\xc2\x85 bad\xff\xfe utf8\n\n  indented\n";
	fwrite(raw, 1, sizeof raw - 1, stdout);
	tf_diag("bracket", "\"-10..174\"  # a quoted value with a comment (YAMLish reads nothing after the quote)");
	tf_note("a note with ok 9 - x and # TODO and \x01 control");
	tf_fail("failing on purpose, name with # TODO");
}

/* Runs until killed: for the "dies with its parent" test (--run it). */
TF_CASE(sleeps_long, .timeout_s = 60, .slow = true)
{
	struct timespec ts = { 50, 0 };
	nanosleep(&ts, NULL);   /* the scenario: a long case */
}

TF_CASE(killed_by_signal)
{
	raise(SIGKILL);
}

TF_CASE(skips_honestly)
{
	TF_SKIP("a reason with # and \\ and \x02");
}

TF_CASE(passes)
{
	tf_expect_int("one", 1, 1);
}
