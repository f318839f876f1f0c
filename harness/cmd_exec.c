/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate exec — does YOUR client notice a dead server, and when?
 *
 * The command: options (exec_opts.c), one scenario (exec_run.c, with
 * exec_fault.c and exec_analysis.c), its report (exec_report.c).
 *
 * Output: TAP version 13, one test, a YAML block.  Exit 0 ok or skipped,
 * 1 not ok, 2 bad usage (including a program that cannot start).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cmd_exec.h"
#include "exec_scenario.h"
#include "file_out.h"

int tf_cmd_exec(int argc, char **argv)
{
	pid_t parent = getppid();
	struct tf_exec_opts o;
	struct tf_exec_result res;
	sigset_t sigs;
	int r, sigfd;

	/* Die with the parent (a cancelled CI job, an OOM-killed meson test):
	 * the programs' supervisors die with us (tf_exec.h), and everything
	 * in their namespaces with them.  A parent gone before the prctl has
	 * already reparented us: check. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		raise(SIGKILL);

	r = tf_exec_opts_parse(argc, argv, &o);
	if (r != 0) {
		tf_exec_opts_free(&o);
		return r > 0 ? TF_EXEC_OK : TF_EXEC_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Ctrl-C and kill: report what we have, leave nothing behind. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

	r = tf_exec_scenario_run(&o, sigfd, &res);
	if (res.verdict == TF_EXEC_V_USAGE) {
		fprintf(stderr, "tcpfate exec: %s\n", res.message);
		for (size_t i = 0; res.usage_lines && i < res.usage_lines->n; i++)
			fprintf(stderr, "  %s| %s\n", res.usage_lines->who,
			        tf_exec_lines_get(res.usage_lines, i));
	} else {
		if (res.pcap_err[0])
			fprintf(stderr, "tcpfate exec: cannot write the capture: %s\n", res.pcap_err);
		else if (res.message_to_stderr)
			fprintf(stderr, "tcpfate exec: %s\n", res.message);
		tf_exec_report_plan(stdout, &res, 1);
		tf_exec_report_tap(stdout, &o, &res, 1);
		/* the evidence where a test driver shows it (it hides stdout) */
		if (res.verdict == TF_EXEC_V_NOT_OK && tf_stderr_apart())
			tf_exec_report_tap(stderr, &o, &res, 1);
	}
	tf_exec_result_free(&res);
	if (sigfd >= 0)
		close(sigfd);
	tf_exec_opts_free(&o);
	return r;
}
