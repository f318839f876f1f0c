/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `tcpfate model` on bad and extreme input (issue 11, low items): compiled
 * with harness/cmd_model.c and run in a child whose stdout and stderr go to
 * memory files, so each call starts with fresh getopt and stdio state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd_model.h"

struct out {
	int status;
	char *out, *err;
};

static char *slurp_fd(int fd)
{
	off_t n = lseek(fd, 0, SEEK_END);
	char *b;

	assert_true(n >= 0);
	b = calloc(1, (size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(pread(fd, b, (size_t)n, 0), (ssize_t)n);
	close(fd);
	return b;
}

/* tcpfate model ARGS... (NULL-terminated) */
static struct out run(const char *arg0, ...)
{
	char *argv[32];
	int argc = 0, st, fo = memfd_create("out", MFD_CLOEXEC), fe = memfd_create("err", MFD_CLOEXEC);
	struct out o;
	va_list ap;
	pid_t pid;

	assert_true(fo >= 0 && fe >= 0);
	argv[argc++] = (char *)"model";
	va_start(ap, arg0);
	for (const char *a = arg0; a; a = va_arg(ap, const char *)) {
		assert_true(argc < 31);
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fo, 1);
		dup2(fe, 2);
		st = tf_cmd_model(argc, argv);
		fflush(NULL);
		_exit(st);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	/* A crash (or a sanitizer's abort) is a failure, not a status. */
	assert_true(WIFEXITED(st));
	o.status = WEXITSTATUS(st);
	o.out = slurp_fd(fo);
	o.err = slurp_fd(fe);
	return o;
}

static void out_free(struct out *o)
{
	free(o->out);
	free(o->err);
}

static bool printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\n')
			return false;
	return true;
}

/* The line of attempt `i` in a budget table. */
static char *attempt_line(const char *out, unsigned i)
{
	char want[16];
	const char *p = out;

	snprintf(want, sizeof(want), "%7u  ", i);
	while (p && *p) {
		const char *nl = strchr(p, '\n');

		if (!strncmp(p, want, strlen(want)))
			return strndup(p, nl ? (size_t)(nl - p) : strlen(p));
		p = nl ? nl + 1 : NULL;
	}
	fail_msg("no line for attempt %u in:\n%s", i, out);
	return NULL;
}

static bool ends_with(const char *s, const char *t)
{
	size_t a = strlen(s), b = strlen(t);
	return a >= b && !strcmp(s + a - b, t);
}

/*
 * Attempts 64..255 shifted by >= 64 bits (UB): on x86 `1000 << 70` came
 * out as 64000, equal to --rto-max-ms, and attempt 70 read "64 x RTO_BASE".
 */
static void budget_large_retries2(void **state)
{
	struct out o = run("budget", "--retries2", "70", "--rto-base-ms", "1000",
	                   "--rto-max-ms", "64000", NULL);
	char *l;

	(void)state;
	assert_int_equal(o.status, 0);
	l = attempt_line(o.out, 6);
	assert_true(ends_with(l, "  64 x RTO_BASE"));
	free(l);
	l = attempt_line(o.out, 70);
	assert_true(ends_with(l, "  RTO_MAX"));
	free(l);
	out_free(&o);

	o = run("budget", "--retries2", "255", NULL);
	assert_int_equal(o.status, 0);
	for (unsigned i = 10; i <= 255; i++) {
		l = attempt_line(o.out, i);
		if (!ends_with(l, "  RTO_MAX"))
			fail_msg("attempt %u: %s", i, l);
		free(l);
	}
	out_free(&o);

	o = run("budget", "--retries2", "256", NULL);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "0..255"));
	out_free(&o);
}

/* --neigh-failed=1 printed "unknown option -\v" (the option's value as a
 * character). */
static void flag_with_value(void **state)
{
	struct out o = run("retrans", "--neigh-failed=1", NULL);

	(void)state;
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "--neigh-failed takes no value"));
	assert_true(printable(o.err));
	out_free(&o);

	o = run("retrans", "--rto-max-in-budget=yes", NULL);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "--rto-max-in-budget takes no value"));
	out_free(&o);

	o = run("retrans", "-x", NULL);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "unknown option -x"));
	out_free(&o);

	o = run("retrans", "-\v", NULL);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "unknown option -\\x0b"));
	assert_true(printable(o.err));
	out_free(&o);

	o = run("retrans", "--frobnicate", NULL);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "unknown option --frobnicate"));
	out_free(&o);
}

/* "--retries2 5abc" said "too large". */
static void number_or_not(void **state)
{
	struct out o = run("retrans", "--retries2", "5abc", NULL);

	(void)state;
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "'5abc': not a number"));
	out_free(&o);

	o = run("retrans", "--retries2", "99999999999999999999999", NULL);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "too large"));
	out_free(&o);

	o = run("retrans", "--retries2", "4294967296", NULL);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "too large"));
	out_free(&o);

	o = run("retrans", "--retries2", "-1", NULL);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "not a number"));
	out_free(&o);

	o = run("syn", "--linear-timeouts", "4x", NULL);
	assert_int_equal(o.status, 2);
	assert_non_null(strstr(o.err, "not a number (or 'none')"));
	out_free(&o);

	o = run("retrans", "--hz", "250", "--retries2", "3", NULL);
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.out, "gives up at"));
	out_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(budget_large_retries2),
		cmocka_unit_test(flag_with_value),
		cmocka_unit_test(number_or_not),
	};

	return cmocka_run_group_tests_name("cmd_model", tests, NULL, NULL);
}
