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
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_model.h"
#ifdef TF_HAVE_EXEC
#include "cmd_exec.h"
#endif
#include "tf_probe.h"

#ifndef TF_CASEDIR
#define TF_CASEDIR "."
#endif
#ifndef TF_LIBEXECDIR
#define TF_LIBEXECDIR "/usr/local/libexec/tcpfate"
#endif

static bool is_case_binary(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (name[0] == '.')
		return false;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The case binaries, sorted: $TF_CASEDIR, the build tree, or libexec. */
static int find_cases(const char **dir_out, char ***names_out, size_t *n_out)
{
	const char *dirs[] = { getenv("TF_CASEDIR"), TF_CASEDIR, TF_LIBEXECDIR };
	for (size_t d = 0; d < 3; d++) {
		DIR *dir;
		struct dirent *e;
		char **names = NULL;
		size_t n = 0;

		if (!dirs[d] || !(dir = opendir(dirs[d])))
			continue;
		while ((e = readdir(dir))) {
			if (!is_case_binary(dirs[d], e->d_name))
				continue;
			char **nn = realloc(names, (n + 1) * sizeof *names);
			if (!nn)
				break;
			names = nn;
			names[n++] = strdup(e->d_name);
		}
		closedir(dir);
		if (n == 0) {
			free(names);
			continue;
		}
		qsort(names, n, sizeof *names, cmp_str);
		*dir_out = dirs[d];
		*names_out = names;
		*n_out = n;
		return 0;
	}
	return -ENOENT;
}

struct tally {
	unsigned pass, fail, skip;
};

/* Read one binary's TAP and print the human lines for it. */
static void report_tap(FILE *f, const char *bin, struct tally *t, bool verbose)
{
	char line[8192];
	bool in_yaml = false, cur_failed = false, in_giveup = false, in_fail = false;
	double g_exp = 0, g_meas = 0;
	char giveup[256] = "";

	printf("%s\n", bin);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (strncmp(line, "ok ", 3) == 0 || strncmp(line, "not ok ", 7) == 0) {
			bool ok = line[0] == 'o';
			const char *name = strstr(line, " - ");
			const char *skip = strstr(line, " # SKIP ");
			char nm[256];

			name = name ? name + 3 : line;
			snprintf(nm, sizeof nm, "%.*s", skip ? (int)(skip - name) : (int)strlen(name), name);
			if (skip) {
				t->skip++;
				printf("  SKIP  %-40s %s\n", nm, skip + 8);
			} else if (ok) {
				t->pass++;
				printf("  PASS  %s\n", nm);
			} else {
				t->fail++;
				printf("  FAIL  %s\n", nm);
			}
			cur_failed = !ok;
			giveup[0] = 0;
			in_giveup = in_fail = false;
			continue;
		}
		if (strcmp(line, "  ---") == 0) {
			in_yaml = true;
			continue;
		}
		if (strcmp(line, "  ...") == 0) {
			in_yaml = false;
			if (giveup[0])
				printf("        %s\n", giveup);
			continue;
		}
		if (!in_yaml)
			continue;
		/* The headline number: when the application heard of it (the
		 * check "give-up after first transmission", printed as a block
		 * mapping: its expected_ms and measured_ms lines follow). */
		if (strstr(line, "what:"))
			in_giveup = strstr(line, "give-up after first transmission") != NULL;
		else if (in_giveup && strstr(line, "expected_ms: "))
			g_exp = atof(strstr(line, "expected_ms: ") + 13);
		else if (in_giveup && strstr(line, "measured_ms: ")) {
			g_meas = atof(strstr(line, "measured_ms: ") + 13);
			snprintf(giveup, sizeof giveup, "error after %.3f s (model %.3f s)",
			         g_meas / 1000, g_exp / 1000);
			in_giveup = false;
		}
		/* A failed case: what failed, and where its artifacts are. */
		if (strncmp(line, "  failures:", 11) == 0 || strncmp(line, "  message:", 10) == 0)
			in_fail = true;
		else if (strncmp(line, "  ", 2) == 0 && line[2] != ' ')
			in_fail = false;
		if ((cur_failed || verbose) &&
		    (in_fail || strstr(line, "timeline:") || strstr(line, ".pcap")))
			printf("      %s\n", line + 2);
	}
}

static int cmd_run(int argc, char **argv, bool list_only)
{
	static const struct option longopts[] = {
		{ "suite", required_argument, NULL, 's' },
		{ "case", required_argument, NULL, 'c' },
		{ "artifacts", required_argument, NULL, 'a' },
		{ "timeline", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *suite = "fast", *only = NULL, *artifacts = NULL, *dir;
	bool timeline = false, verbose = false;
	char **names = NULL, kernel[128] = "?";
	size_t n = 0;
	struct tally t = { 0 };
	unsigned hz = 0;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:c:a:tvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (strcmp(optarg, "fast") && strcmp(optarg, "slow") && strcmp(optarg, "all")) {
				fprintf(stderr, "tcpfate: --suite takes fast, slow or all, not '%s'\n", optarg);
				return 2;
			}
			suite = optarg;
			break;
		case 'c': only = optarg; break;
		case 'a': artifacts = optarg; break;
		case 't': timeline = true; break;
		case 'v': verbose = true; break;
		case 'h':
			printf("Usage: tcpfate %s [--suite fast|slow|all] [--case BINARY] "
			       "[--artifacts DIR] [--timeline] [--verbose]\n", argv[0]);
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcpfate: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (find_cases(&dir, &names, &n) < 0) {
		fprintf(stderr, "tcpfate: no case binaries found (set TF_CASEDIR)\n");
		return 2;
	}
	if (only) {
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found |= strcmp(names[i], only) == 0;
		if (!found) {
			fprintf(stderr, "tcpfate: no case binary '%s' in %s\n", only, dir);
			return 2;
		}
	}
	tf_kernel_release(kernel, sizeof kernel);
	tf_kernel_hz(&hz);
	if (!list_only)
		printf("tcpfate: suite '%s' on Linux %s (HZ=%u) as uid %u\n\n", suite, kernel, hz,
		       (unsigned)getuid());
	for (size_t i = 0; i < n; i++) {
		char cmd[PATH_MAX * 2];
		FILE *p;

		if (only && strcmp(names[i], only))
			continue;
		if (list_only)
			snprintf(cmd, sizeof cmd, "'%s/%s' --list --all", dir, names[i]);
		else
			snprintf(cmd, sizeof cmd, "'%s/%s' %s %s%s%s", dir, names[i],
			         strcmp(suite, "all") == 0 ? "--all" : strcmp(suite, "slow") == 0 ? "--slow" : "",
			         timeline ? "--timeline " : "", artifacts ? "--artifacts " : "",
			         artifacts ? artifacts : "");
		fflush(stdout);
		p = popen(cmd, "re");
		if (!p) {
			fprintf(stderr, "tcpfate: cannot run %s: %s\n", names[i], strerror(errno));
			t.fail++;
			continue;
		}
		if (list_only) {
			char line[512];
			while (fgets(line, sizeof line, p))
				printf("%s/%s", names[i], line);
		} else {
			report_tap(p, names[i], &t, verbose);
		}
		int st = pclose(p);
		if (!list_only && st != 0 && WIFEXITED(st) && WEXITSTATUS(st) != 1 &&
		    WEXITSTATUS(st) != 0) {
			printf("  FAIL  %s exited with status %d\n", names[i], WEXITSTATUS(st));
			t.fail++;
		}
		free(names[i]);
	}
	free(names);
	if (list_only)
		return 0;
	printf("\n%u passed, %u failed, %u skipped\n", t.pass, t.fail, t.skip);
	return t.fail ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: tcpfate COMMAND [OPTIONS]\n\n"
	           "  run     run the cases against the running kernel and print a report\n"
	           "  list    list the cases\n"
	           "  model   print the kernel's expected schedule for given knobs\n"
#ifdef TF_HAVE_EXEC
	           "  exec    run a real client and server under a fault, check the client's time budget\n"
#endif
	           "\n"
	           "'tcpfate COMMAND --help' for a command's options.\n");
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
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "list") == 0)
		return cmd_run(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "model") == 0)
		return tf_cmd_model(argc - 1, argv + 1);
#ifdef TF_HAVE_EXEC
	if (strcmp(argv[1], "exec") == 0)
		return tf_cmd_exec(argc - 1, argv + 1);
#endif
	fprintf(stderr, "tcpfate: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
