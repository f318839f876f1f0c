/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate run / list: every case binary at once (each runs its own cases
 * at once), started with fork/exec and an argument vector — no shell — and
 * a human report in binary order from their TAP.  The TAP is read whole
 * line by line (no line length limit), the plan is checked against the
 * results, and a binary that dies by a signal or with an unexpected status
 * is a failure.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_run.h"
#include "tf_probe.h"
#include "tf_result.h"
#include "tf_util.h"

#ifndef TF_CASEDIR
#define TF_CASEDIR "."
#endif
#ifndef TF_LIBEXECDIR
#define TF_LIBEXECDIR "/usr/local/libexec/tcpfate"
#endif

#define TAP_MAX (64u << 20)   /* a binary's TAP kept, at most */

static bool is_case_binary(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (name[0] == '.')
		return false;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
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
			if (!nn || !(names = nn, names[n] = strdup(e->d_name)))
				break;
			n++;
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

struct bin {
	const char *name;
	pid_t pid;
	int out, err;             /* -1 when closed */
	char *tap, *errs;
	size_t tap_len, err_len;
	int status;
	bool started, exited;
	char *json;               /* --json: where this binary writes its own */
};

static void append(char **p, size_t *len, const char *s, size_t n, size_t max)
{
	if (*len + n > max)
		n = *len < max ? max - *len : 0;
	char *q = n ? realloc(*p, *len + n + 1) : *p;
	if (!q)
		return;
	memcpy(q + *len, s, n);
	*len += n;
	q[*len] = 0;
	*p = q;
}

static void pump(int *fd, char **p, size_t *len, size_t max)
{
	char tmp[65536];

	for (;;) {
		ssize_t n = read(*fd, tmp, sizeof tmp);
		if (n > 0) {
			append(p, len, tmp, (size_t)n, max);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close(*fd);
		*fd = -1;
		return;
	}
}

static int bin_start(struct bin *b, const char *dir, char *const *args)
{
	int o[2], e[2];
	char path[PATH_MAX];
	pid_t parent = getpid();

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, b->name) >= sizeof path)
		return -ENAMETOOLONG;
	if (pipe2(o, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(e, O_CLOEXEC) < 0) {
		int r = -errno;
		close(o[0]);
		close(o[1]);
		return r;
	}
	fflush(stdout);
	b->pid = fork();
	if (b->pid < 0) {
		int r = -errno;
		close(o[0]); close(o[1]); close(e[0]); close(e[1]);
		return r;
	}
	if (b->pid == 0) {
		char *argv[16];
		size_t k = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);   /* survives execve: dies with us */
		if (getppid() != parent)
			_exit(127);
		dup2(o[1], STDOUT_FILENO);
		dup2(e[1], STDERR_FILENO);
		argv[k++] = path;
		for (; args[k - 1] && k < TF_ARRAY_SIZE(argv) - 3; k++)
			argv[k] = args[k - 1];
		if (b->json) {
			argv[k++] = "--json";
			argv[k++] = b->json;
		}
		argv[k] = NULL;
		execv(path, argv);
		fprintf(stderr, "cannot execute %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	b->out = o[0];
	b->err = e[0];
	fcntl(b->out, F_SETFL, O_NONBLOCK);
	fcntl(b->err, F_SETFL, O_NONBLOCK);
	b->started = true;
	return 0;
}

struct tally {
	unsigned pass, fail, skip;
	double longest_ms;
	char longest[256];
};

/* The value after "key: " on a YAML line, or NULL. */
static const char *yaml_val(const char *line, const char *key)
{
	const char *k = strstr(line, key);
	return k ? k + strlen(key) : NULL;
}

/* One binary's TAP to the human report (the TAP is trusted to be TAP, not
 * its content: names and messages are printed one-line-safe). */
static void report_bin(struct bin *b, struct tally *t, bool verbose)
{
	char *save = NULL, *line, giveup[256] = "", cur[256] = "";
	bool in_yaml = false, cur_failed = false, in_giveup = false, in_fail = false, plan_seen = false;
	unsigned plan = 0, results = 0;
	double g_exp = 0;

	printf("%s\n", b->name);
	for (line = b->tap ? strtok_r(b->tap, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		bool is_ok = strncmp(line, "ok ", 3) == 0, is_nok = strncmp(line, "not ok ", 7) == 0;
		const char *v;

		if (!in_yaml && strncmp(line, "1..", 3) == 0 && !plan_seen) {
			plan_seen = true;
			plan = (unsigned)strtoul(line + 3, NULL, 10);
			continue;
		}
		if (is_ok || is_nok) {
			const char *name = strstr(line, " - ");
			const char *skip = strstr(line, " # SKIP ");

			name = name ? name + 3 : line;
			snprintf(cur, sizeof cur, "%.*s", skip ? (int)(skip - name) : (int)strlen(name), name);
			results++;
			in_yaml = false;
			if (skip && is_ok) {
				t->skip++;
				printf("  SKIP  %-40s %s\n", cur, skip + 8);
			} else if (is_ok) {
				t->pass++;
				printf("  PASS  %s\n", cur);
			} else {
				t->fail++;
				printf("  FAIL  %s\n", cur);
			}
			cur_failed = is_nok;
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
		if (strncmp(line, "  duration_ms: ", 15) == 0) {
			double d = atof(line + 15);
			if (d > t->longest_ms) {
				t->longest_ms = d;
				snprintf(t->longest, sizeof t->longest, "%s/%s", b->name, cur);
			}
		}
		/* The headline: when the application heard of it (the check
		 * "give-up after first transmission"). */
		if (strstr(line, "what:"))
			in_giveup = strstr(line, "give-up after first transmission") != NULL;
		else if (in_giveup && (v = yaml_val(line, "expected_ms: ")))
			g_exp = atof(v);
		else if (in_giveup && (v = yaml_val(line, "measured_ms: "))) {
			snprintf(giveup, sizeof giveup, "error after %.3f s (model %.3f s)",
			         atof(v) / 1000, g_exp / 1000);
			in_giveup = false;
		}
		/* A failed case: what failed, and where its artifacts are. */
		if (strncmp(line, "  failures:", 11) == 0 || strncmp(line, "  message:", 10) == 0)
			in_fail = true;
		else if (strncmp(line, "  ", 2) == 0 && line[2] != ' ')
			in_fail = false;
		if ((cur_failed || verbose) && (in_fail || strstr(line, "timeline:") || strstr(line, ".pcap")))
			printf("      %s\n", line + 2);
	}
	if (WIFSIGNALED(b->status)) {
		printf("  FAIL  %s killed by signal %d (%s)\n", b->name, WTERMSIG(b->status),
		       strsignal(WTERMSIG(b->status)));
		t->fail++;
	} else if (WEXITSTATUS(b->status) > 1) {
		printf("  FAIL  %s exited with status %d\n", b->name, WEXITSTATUS(b->status));
		t->fail++;
	}
	if (!plan_seen || results != plan) {
		printf("  FAIL  %s: plan 1..%u, %u results\n", b->name, plan, results);
		t->fail++;
	}
	if ((t->fail || verbose) && b->errs && b->err_len && (WIFSIGNALED(b->status) ||
	    WEXITSTATUS(b->status) > 1 || !plan_seen || results != plan))
		printf("      stderr: %.2000s\n", b->errs);
}

int tf_cmd_run(int argc, char **argv, bool list_only)
{
	static const struct option longopts[] = {
		{ "suite", required_argument, NULL, 's' },
		{ "case", required_argument, NULL, 'c' },
		{ "artifacts", required_argument, NULL, 'a' },
		{ "timeline", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "serial", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "ktap", no_argument, NULL, 'K' },
		{ "json", required_argument, NULL, 'J' },
		{ 0 },
	};
	const char *suite = "fast", *only = NULL, *artifacts = NULL, *dir, *json = NULL;
	bool ktap = false;
	char jdir[PATH_MAX] = "";
	tf_ktap_totals tt = { 0 };
	bool timeline = false, verbose = false, serial = false;
	char **names = NULL, kernel[128] = "?";
	size_t n = 0;
	struct tally t = { 0 };
	unsigned hz = 0;
	int ch, rc = 0;

	/* die with whoever started us; the binaries die with us */
	pid_t ppid = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != ppid)
		return 1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:c:a:tvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (strcmp(optarg, "fast") && strcmp(optarg, "slow") && strcmp(optarg, "all")) {
				fprintf(stderr, "tcpfate %s: --suite takes fast, slow or all, not '%s'\n",
				        argv[0], optarg);
				return 2;
			}
			suite = optarg;
			break;
		case 'c': only = optarg; break;
		case 'a':
			if (!*optarg) {
				fprintf(stderr, "tcpfate %s: --artifacts needs a directory\n", argv[0]);
				return 2;
			}
			artifacts = optarg;
			break;
		case 't': timeline = true; break;
		case 'v': verbose = true; break;
		case 'S': serial = true; break;
		case 'h':
			printf("Usage: tcpfate %s [--suite fast|slow|all] [--case BINARY] "
			       "[--artifacts DIR] [--timeline] [--verbose] [--serial] [--ktap] "
			       "[--json FILE]\n", argv[0]);
			return 0;
		case 'K': ktap = true; break;
		case 'J':
			if (!*optarg) {
				fprintf(stderr, "tcpfate %s: --json needs a file name\n", argv[0]);
				return 2;
			}
			json = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcpfate %s: unexpected argument '%s'\n", argv[0], argv[optind]);
		return 2;
	}
	if (find_cases(&dir, &names, &n) < 0) {
		fprintf(stderr, "tcpfate %s: no case binaries found (set TF_CASEDIR)\n", argv[0]);
		return 2;
	}
	if (only) {
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found |= strcmp(names[i], only) == 0;
		if (!found) {
			fprintf(stderr, "tcpfate %s: no case binary '%s' in %s\n", argv[0], only, dir);
			free_names(names, n);
			return 2;
		}
	}

	char *args[8];
	size_t k = 0;
	if (list_only) {
		args[k++] = "--list";
		args[k++] = "--all";
	} else {
		if (strcmp(suite, "fast"))
			args[k++] = strcmp(suite, "all") == 0 ? "--all" : "--slow";
		if (timeline)
			args[k++] = "--timeline";
		if (artifacts) {
			args[k++] = "--artifacts";
			args[k++] = (char *)artifacts;
		}
		if (serial) {
			args[k++] = "--jobs";
			args[k++] = "1";
		}
		if (ktap)
			args[k++] = "--ktap";
	}
	args[k] = NULL;

	tf_kernel_release(kernel, sizeof kernel);
	tf_kernel_hz(&hz);
	if (!list_only && json) {
		/* the binaries' documents, in a directory of ours beside FILE */
		const char *slash = strrchr(json, '/');
		int l = slash ? (int)(slash - json) : 1;
		if ((size_t)snprintf(jdir, sizeof jdir, "%.*s/.tcpfate-json.XXXXXX", l,
		                     slash ? json : ".") >= sizeof jdir || !mkdtemp(jdir)) {
			fprintf(stderr, "tcpfate %s: cannot write beside %s: %s\n", argv[0], json,
			        strerror(errno));
			free_names(names, n);
			return 2;
		}
	}
	size_t n_sel = 0;
	for (size_t i = 0; i < n; i++)
		n_sel += !only || strcmp(names[i], only) == 0;
	if (!list_only && ktap)
		tf_emit_ktap_header(stdout, &(tf_run_info){ .prog = suite, .kernel = kernel,
		                    .hz = hz, .uid = (unsigned)getuid(), .total = (unsigned)n_sel }, 0, NULL);
	else if (!list_only)
		printf("tcpfate: suite '%s' on Linux %s (HZ=%u) as uid %u\n\n", suite, kernel, hz,
		       (unsigned)getuid());
	fflush(stdout);

	struct bin *bs = calloc(n, sizeof *bs);
	if (!bs) {
		free_names(names, n);
		return 1;
	}
	size_t nb = 0;
	for (size_t i = 0; i < n; i++)
		if (!only || strcmp(names[i], only) == 0)
			bs[nb++] = (struct bin){ .name = names[i], .out = -1, .err = -1 };
	for (size_t i = 0; jdir[0] && i < nb; i++)
		if (asprintf(&bs[i].json, "%s/%s.json", jdir, bs[i].name) < 0)
			bs[i].json = NULL;

	int64_t t0 = tf_mono_ns();
	size_t next_start = 0, next_report = 0, running = 0;
	while (next_report < nb) {
		/* start: all at once, or one at a time with --serial */
		while (next_start < nb && (!serial || running == 0)) {
			struct bin *b = &bs[next_start++];
			int r = bin_start(b, dir, args);
			if (r < 0) {
				fprintf(stderr, "tcpfate: cannot run %s: %s\n", b->name, strerror(-r));
				b->exited = true;
				b->status = 127 << 8;
			} else {
				running++;
			}
		}
		struct pollfd *p = calloc(2 * nb, sizeof *p);
		if (!p)
			break;
		for (size_t i = 0; i < nb; i++) {
			p[2 * i] = (struct pollfd){ .fd = bs[i].out, .events = POLLIN };
			p[2 * i + 1] = (struct pollfd){ .fd = bs[i].err, .events = POLLIN };
		}
		if (running && poll(p, 2 * nb, -1) < 0 && errno != EINTR) {
			free(p);
			break;
		}
		for (size_t i = 0; i < nb; i++) {
			struct bin *b = &bs[i];
			if (b->out >= 0 && p[2 * i].revents)
				pump(&b->out, &b->tap, &b->tap_len, TAP_MAX);
			if (b->err >= 0 && p[2 * i + 1].revents)
				pump(&b->err, &b->errs, &b->err_len, 1u << 16);
			if (b->started && !b->exited && b->out < 0 && b->err < 0) {
				waitpid(b->pid, &b->status, 0);
				b->exited = true;
				running--;
			}
		}
		free(p);
		/* report in binary order, as soon as each is complete */
		while (next_report < nb && bs[next_report].exited) {
			struct bin *b = &bs[next_report++];
			if (list_only) {
				char *save = NULL;
				for (char *l = b->tap ? strtok_r(b->tap, "\n", &save) : NULL; l;
				     l = strtok_r(NULL, "\n", &save))
					printf("%s/%s\n", b->name, l);
				rc |= !WIFEXITED(b->status) || WEXITSTATUS(b->status) != 0;
			} else if (ktap) {
				unsigned c[3] = { 0 };
				tf_run_ktap_binary(stdout, (unsigned)next_report, b->name, b->tap,
				                   b->status, b->errs, &tt, c);
				t.pass += c[0];
				t.fail += c[1];
				t.skip += c[2];
			} else {
				report_bin(b, &t, verbose);
			}
			fflush(stdout);
			free(b->tap);
			free(b->errs);
		}
	}
	double wall = (double)(tf_mono_ns() - t0) / 1e9;
	if (jdir[0]) {
		int r = 0;
		const char **jn = calloc(nb, sizeof *jn), **jp = calloc(nb, sizeof *jp);
		int *js = calloc(nb, sizeof *js);
		if (jn && jp && js) {
			for (size_t i = 0; i < nb; i++) {
				jn[i] = bs[i].name;
				jp[i] = bs[i].json;
				js[i] = bs[i].status;
			}
			r = tf_run_json_write(json, suite, nb, jn, jp, js);
		} else {
			r = -ENOMEM;
		}
		free(jn);
		free(jp);
		free(js);
		if (r < 0) {
			fprintf(stderr, "tcpfate %s: cannot write %s: %s\n", argv[0], json, strerror(-r));
			rc = 2;
		}
		/* what the binaries wrote at our request, then our directory */
		for (size_t i = 0; i < nb; i++) {
			if (bs[i].json)
				unlink(bs[i].json);
			free(bs[i].json);
		}
		if (rmdir(jdir) < 0)
			fprintf(stderr, "tcpfate %s: left %s (a binary's unfinished file in it)\n",
			        argv[0], jdir);
	}
	free(bs);
	free_names(names, n);
	if (list_only)
		return rc ? 1 : 0;
	if (ktap) {
		tf_emit_ktap_totals(stdout, &tt, 0);
		return rc ? rc : t.fail ? 1 : 0;
	}
	if (t.longest_ms > 0)
		printf("\nwall %.1f s; longest case %.1f s (%s); wall / longest %.2f\n", wall,
		       t.longest_ms / 1000, t.longest, wall / (t.longest_ms / 1000));
	printf("\n%u passed, %u failed, %u skipped\n", t.pass, t.fail, t.skip);
	return rc ? rc : t.fail ? 1 : 0;
}
