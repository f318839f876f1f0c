/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The case runner's parent: main() of every case binary.
 *
 * Every selected case runs at once, each forked into its own process group
 * with its own namespaces and its own timeout; results are printed in plan
 * order as they complete.  The timeout holds whatever the case does with
 * its pipes: the runner waits on the case's pidfd, kills the group before
 * it reaps the leader (so the group id cannot have been reused), and reads
 * what is left in the pipes for a bounded time only.  The runner dies with
 * its own parent (PR_SET_PDEATHSIG), and every case dies with the runner.
 *
 * A case reports through a pipe, one record a line:
 *   A admitted        it holds the case lock: its timeout starts now (and
 *                     again once it holds a setup slot)
 *   W waiting         for a setup slot: the harness's queue, bounded apart
 *   D key: value      a YAML diagnostic ("value  # comment", or {flow})
 *   C {...}           a check (flow mapping), listed under "checks"
 *   N text            a note
 *   S reason          skipped
 *   F message         failed
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file_out.h"
#include "runner_private.h"
#include "tf_result.h"
#include "vm_fallback.h"
#include "sentinel.h"
#include "timer_sentinel.h"
#include "spin.h"

#define OUTPUT_MAX (1u << 20)     /* a case's stdout/stderr kept, at most */
#define DRAIN_NS 2000000000LL     /* pipes held by an escaped process: read this long */

struct buf {
	char *p;
	size_t len, cap, dropped;
};

static void buf_add(struct buf *b, const char *s, size_t n, size_t max)
{
	if (b->len + n > max) {
		size_t keep = b->len < max ? max - b->len : 0;
		b->dropped += n - keep;
		n = keep;
	}
	if (n == 0)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->dropped += n;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

enum job_state { PENDING, RUNNING, REAPED, DONE };

struct job {
	const tf_case *c;
	unsigned num;
	enum job_state state;
	pid_t pid;
	int pidfd, rec, out;          /* -1 when closed */
	struct buf rb, ob;
	size_t scanned;               /* rb is scanned for 'A' up to here */
	int64_t start, deadline, drain_until;
	unsigned timeout_s;
	bool timed_out;
	int status;
	const char *error;            /* the harness could not run it */
	int error_errno;
	tf_result res;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Read what is there; 0 at EOF or error (then the fd is closed). */
static void drain(int *fd, struct buf *b, size_t max)
{
	char tmp[16384];

	for (;;) {
		ssize_t n = read(*fd, tmp, sizeof tmp);
		if (n > 0) {
			buf_add(b, tmp, (size_t)n, max);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close_fd(fd);
		return;
	}
}

static void job_start(struct job *j)
{
	int rec[2] = { -1, -1 }, out[2] = { -1, -1 };

	j->start = tf_mono_ns();
	j->timeout_s = j->c->timeout_s ? j->c->timeout_s : TF_DEFAULT_TIMEOUT_S;
	j->deadline = j->start + (int64_t)j->timeout_s * 1000000000;
	j->state = RUNNING;
	if (pipe2(rec, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		j->error = "cannot create a pipe";
		j->error_errno = errno;
		goto fail;
	}
	fflush(stdout);
	fflush(stderr);
	j->pid = fork();
	if (j->pid < 0) {
		j->error = "cannot fork";
		j->error_errno = errno;
		goto fail;
	}
	if (j->pid == 0) {
		close(rec[0]);
		close(out[0]);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		close(out[1]);
		setvbuf(stdout, NULL, _IONBF, 0);
		tf_runner.case_index = j->num - 1;
		tf_child_run(j->c, rec[1]);
	}
	setpgid(j->pid, j->pid);
	close(rec[1]);
	close(out[1]);
	j->rec = rec[0];
	j->out = out[0];
	fcntl(j->rec, F_SETFL, O_NONBLOCK);
	fcntl(j->out, F_SETFL, O_NONBLOCK);
	j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
	if (j->pidfd < 0) {
		/* no pidfd: the timeout could not hold; do not run blind */
		kill(-j->pid, SIGKILL);
		kill(j->pid, SIGKILL);
		waitpid(j->pid, &j->status, 0);
		j->error_errno = errno;
		j->error = "pidfd_open failed (kernel older than 5.3?)";
		close_fd(&j->rec);
		close_fd(&j->out);
		j->state = DONE;
	}
	return;
fail:
	for (int i = 0; i < 2; i++) {
		close_fd(&rec[i]);
		close_fd(&out[i]);
	}
	j->rec = j->out = j->pidfd = -1;
	j->state = DONE;
}

/* Once the case leader has exited: kill its group while the leader is a
 * zombie (the group id cannot be reused yet), then reap it. */
static void job_reap(struct job *j)
{
	kill(-j->pid, SIGKILL);
	if (waitpid(j->pid, &j->status, 0) < 0)
		j->status = 0;
	close_fd(&j->pidfd);
	tf_gate_leave(tf_runner.gate, j->num - 1);   /* ended before building: not waited for */
	j->state = REAPED;
	j->drain_until = tf_mono_ns() + DRAIN_NS;
}

#define SETUP_WAIT_MAX_S 600

/* The case took the case lock (A), or its setup slot (A again): its
 * timeout counts from now.  W: it waits for a setup slot. */
static void scan_admitted(struct job *j)
{
	while (j->rb.p && j->scanned < j->rb.len) {
		char *line = j->rb.p + j->scanned, *nl = memchr(line, '\n', j->rb.len - j->scanned);
		if (!nl)
			return;
		if (line[0] == 'A' && line[1] == ' ')
			j->deadline = tf_mono_ns() + (int64_t)j->timeout_s * 1000000000;
		/* waiting for a setup slot: the harness's queue, not the case's
		 * time; bounded (a slot's holder is killed at its own timeout) */
		if (line[0] == 'W' && line[1] == ' ')
			j->deadline = tf_mono_ns() + (int64_t)SETUP_WAIT_MAX_S * 1000000000;
		j->scanned = (size_t)(nl + 1 - j->rb.p);
	}
}

static void add_text(tf_node *root, const char *key, struct buf *b)
{
	if (b->p && b->len)
		tf_node_scalar(root, key, b->p, true);
}

/* Records and exit status to a result. */
static void job_result(struct job *j, const char *kernel)
{
	tf_result *r = &j->res;
	struct buf notes = { 0 }, fails = { 0 };
	const char *skip = NULL;
	tf_node *checks = NULL, *diags = tf_node_map(NULL, NULL);
	char num[64];
	bool failed_rec = false;

	r->num = j->num;
	r->name = strdup(j->c->name);
	r->duration_ms = (double)(tf_mono_ns() - j->start) / 1e6;
	r->yaml = tf_node_map(NULL, NULL);
	for (char *save = NULL, *line = j->rb.p ? strtok_r(j->rb.p, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *v = line + 2, *colon;

		if (strlen(line) < 2 || line[1] != ' ')
			continue;
		switch (line[0]) {
		case 'D':
			colon = strstr(v, ": ");
			if (colon) {
				char *k = strndup(v, (size_t)(colon - v));
				if (k)
					tf_node_parse(diags, k, colon + 2);
				free(k);
			}
			break;
		case 'C':
			if (!checks)
				checks = tf_node_seq(NULL, "checks");
			tf_node_parse(checks, NULL, v);
			break;
		case 'N': buf_add(&notes, v, strlen(v), OUTPUT_MAX); buf_add(&notes, "\n", 1, OUTPUT_MAX + 1); break;
		case 'S': skip = v; break;
		case 'F':
			failed_rec = true;
			buf_add(&fails, v, strlen(v), OUTPUT_MAX);
			buf_add(&fails, "\n", 1, OUTPUT_MAX + 1);
			break;
		}
	}

	char why[160] = "";
	if (j->error) {
		r->status = TF_RES_ERROR;
		snprintf(why, sizeof why, "%s: %s", j->error, strerror(j->error_errno));
	} else if (j->timed_out) {
		r->status = TF_RES_TIMEOUT;
		snprintf(why, sizeof why, "timeout: killed after %u s", j->timeout_s);
	} else if (WIFSIGNALED(j->status)) {
		r->status = TF_RES_FAIL;
		snprintf(why, sizeof why, "killed by signal %d (%s)", WTERMSIG(j->status),
		         strsignal(WTERMSIG(j->status)));
	} else if (WEXITSTATUS(j->status) == TF_EXIT_SKIP && skip && !failed_rec) {
		r->status = TF_RES_SKIP;
		r->reason = strdup(skip);
	} else {
		r->status = WEXITSTATUS(j->status) == 0 && !failed_rec ? TF_RES_PASS : TF_RES_FAIL;
		/* 255: cmocka's failure exit, after the failure records */
		if (WEXITSTATUS(j->status) != 0 && !failed_rec)
			snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(j->status));
	}
	if (why[0] && !r->reason)
		r->reason = strdup(why);

	snprintf(num, sizeof num, "%.1f", r->duration_ms);
	tf_node_scalar(r->yaml, "duration_ms", num, false);
	tf_node_scalar(r->yaml, "kernel", kernel, false);
	if (j->c->proves)
		tf_node_scalar(r->yaml, "proves", j->c->proves, false);
	if (why[0])
		tf_node_scalar(r->yaml, "message", why, false);
	/* the diagnostics, then the checks, in the order the case wrote them */
	if (diags->child) {
		r->yaml->last->next = diags->child;
		r->yaml->last = diags->last;
		diags->child = diags->last = NULL;
	}
	tf_node_free(diags);
	if (checks) {
		r->yaml->last->next = checks;
		r->yaml->last = checks;
	}
	add_text(r->yaml, "notes", &notes);
	add_text(r->yaml, "failures", &fails);
	if (tf_res_failed(r->status) || getenv("TF_VERBOSE")) {
		if (j->ob.dropped) {
			snprintf(num, sizeof num, "\n[%zu more bytes not kept]\n", j->ob.dropped);
			buf_add(&j->ob, num, strlen(num), OUTPUT_MAX + sizeof num);
		}
		add_text(r->yaml, "output", &j->ob);
	}
	free(notes.p);
	free(fails.p);
	free(j->rb.p);
	free(j->ob.p);
	j->rb = j->ob = (struct buf){ 0 };
	j->state = DONE;
}

/* The timer sentinel shared by every run of this user (TF_TIMER_SENTINEL=
 * private: one of the run's own, as before issue 10's second look). */
static int start_timer_sentinel(unsigned hz, tf_timer_sentinel **ret)
{
	const char *e = getenv("TF_TIMER_SENTINEL");
	char dir[256];

	if ((!e || strcmp(e, "private") != 0) && tf_admit_dir(dir, sizeof dir) == 0 &&
	    tf_timer_sentinel_share(hz, dir, ret) == 0)
		return 0;
	return tf_timer_sentinel_start(hz, ret);
}

/* Output formats (--ktap, --kselftest, --json): TAP 13 unless told. */
static struct {
	bool ktap, kselftest;
	tf_json *json;
	tf_ktap_totals totals;
} fmt;

static void emit_case(const tf_result *r)
{
	tf_ktap_count(&fmt.totals, r->status);
	if (fmt.ktap)
		tf_emit_ktap_case(stdout, r, 0);
	else
		tf_emit_tap13_case(stdout, r);
	/* a failure's evidence where the driver shows it: a CI log that says
	 * only "exit status 1" cannot be debugged */
	if (tf_res_failed(r->status) && tf_stderr_apart())
		tf_emit_tap13_case(stderr, r);
	tf_json_case(fmt.json, r);
}

/* Run every job, at most `jobs` at once (exclusive ones alone), printing
 * results in plan order.  Returns the number of failed cases. */
static unsigned run_all(struct job *js, size_t n, unsigned jobs, const char *kernel)
{
	size_t next_print = 0, done = 0;
	unsigned failed = 0;

	while (done < n) {
		size_t running = 0;
		bool excl_running = false;
		int64_t now = tf_mono_ns(), wake = now + 60000000000LL;

		for (size_t i = 0; i < n; i++)
			if (js[i].state == RUNNING || js[i].state == REAPED) {
				running++;
				excl_running |= js[i].c->exclusive != NULL;
			}
		/* start what may start: plan order; an exclusive case waits
		 * until nothing runs, and nothing starts beside it */
		for (size_t i = 0; i < n && !excl_running && running < jobs; i++) {
			if (js[i].state != PENDING)
				continue;
			if (js[i].c->exclusive && running > 0)
				break;
			job_start(&js[i]);
			running++;
			excl_running = js[i].c->exclusive != NULL;
		}

		struct pollfd *p = calloc(3 * n, sizeof *p);
		if (!p)
			return failed + 1;
		for (size_t i = 0; i < n; i++) {
			struct job *j = &js[i];
			p[3 * i] = (struct pollfd){ .fd = j->state >= RUNNING && j->state <= REAPED ? j->rec : -1, .events = POLLIN };
			p[3 * i + 1] = (struct pollfd){ .fd = j->state >= RUNNING && j->state <= REAPED ? j->out : -1, .events = POLLIN };
			p[3 * i + 2] = (struct pollfd){ .fd = j->state == RUNNING ? j->pidfd : -1, .events = POLLIN };
			if (j->state == RUNNING && j->deadline < wake)
				wake = j->deadline;
			if (j->state == REAPED && j->drain_until < wake)
				wake = j->drain_until;
		}
		int64_t left = wake - tf_mono_ns();
		if (poll(p, 3 * n, left <= 0 ? 0 : (int)(left / 1000000) + 1) < 0 && errno != EINTR) {
			free(p);
			return failed + 1;
		}
		now = tf_mono_ns();
		for (size_t i = 0; i < n; i++) {
			struct job *j = &js[i];

			if (j->state != RUNNING && j->state != REAPED)
				continue;
			if (j->rec >= 0 && p[3 * i].revents) {
				drain(&j->rec, &j->rb, SIZE_MAX / 2);
				scan_admitted(j);
			}
			if (j->out >= 0 && p[3 * i + 1].revents)
				drain(&j->out, &j->ob, OUTPUT_MAX);
			if (j->state == RUNNING && (p[3 * i + 2].revents & POLLIN)) {
				job_reap(j);
			} else if (j->state == RUNNING && now >= j->deadline) {
				/* kill the whole group: the case and all it started;
				 * the pidfd then reports the exit and job_reap() runs */
				j->timed_out = true;
				kill(-j->pid, SIGKILL);
				syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0);
				j->deadline = INT64_MAX;
			}
			if (j->state == REAPED && ((j->rec < 0 && j->out < 0) || now >= j->drain_until)) {
				close_fd(&j->rec);
				close_fd(&j->out);
				job_result(j, kernel);
			}
		}
		free(p);
		for (size_t i = 0; i < n; i++)
			if (js[i].state == DONE && js[i].res.name == NULL && js[i].error)
				job_result(&js[i], kernel);
		while (next_print < n && js[next_print].state == DONE) {
			emit_case(&js[next_print].res);
			failed += tf_res_failed(js[next_print].res.status);
			tf_result_free(&js[next_print].res);
			next_print++;
			done++;
		}
	}
	return failed;
}

static bool selected_by_name(const tf_case *c, const char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c->name, names[i]) == 0)
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s [OPTIONS]\n"
	        "Run tcpfate cases against the running kernel; TAP version 13 on stdout.\n\n"
	        "  -l, --list            list the cases and exit\n"
	        "  -r, --run NAME        run only NAME (repeatable)\n"
	        "      --slow            run only the slow cases\n"
	        "      --all             run fast and slow cases\n"
	        "  -j, --jobs N          run at most N cases at once [all; $TF_JOBS]\n"
	        "  -a, --artifacts DIR   where failing cases leave pcaps and timelines\n"
	        "                        [$TF_ARTIFACTS or ./tcpfate-artifacts]\n"
	        "  -k, --keep            keep captures of passing cases too\n"
	        "  -t, --timeline        write the SVG timeline of every timing case\n"
	        "      --ktap            KTAP version 1 instead of TAP 13\n"
	        "      --kselftest       KTAP, and kselftest's exit status: 4 when every case skipped\n"
	        "      --json FILE       also write the results as JSON to FILE\n"
	        "      --max-time        print the longest time the selected cases may take (s)\n"
	        "  -h, --help            this text\n", tf_runner.prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "run", required_argument, NULL, 'r' },
		{ "slow", no_argument, NULL, 'S' },
		{ "all", no_argument, NULL, 'A' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "artifacts", required_argument, NULL, 'a' },
		{ "keep", no_argument, NULL, 'k' },
		{ "timeline", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "ktap", no_argument, NULL, 'K' },
		{ "kselftest", no_argument, NULL, 'E' },
		{ "json", required_argument, NULL, 'J' },
		{ "max-time", no_argument, NULL, 'M' },
		{ 0 },
	};
	const char *only[64];
	size_t n_only = 0, n = 0;
	bool list = false, slow = false, all = false, artifacts_given = false, max_time = false;
	const char *json_path = NULL;
	char kernel[128] = "?";
	unsigned jobs = 0, hz = 0;
	long v;
	int ch;
	pid_t ppid = getppid();

	/* die with whoever started us (a killed meson test, a cancelled CI
	 * job), and take the cases along (each dies with us) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != ppid)
		return 1;
	tf_runner.pid = getpid();
	tf_runner.prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	tf_runner.artifacts = getenv("TF_ARTIFACTS");
	artifacts_given = tf_runner.artifacts && *tf_runner.artifacts;
	if (!artifacts_given)
		tf_runner.artifacts = "tcpfate-artifacts";
	if (tf_cases_expand() < 0) {
		fprintf(stderr, "%s: out of memory\n", tf_runner.prog);
		return 1;
	}
	if (getenv("TF_JOBS") && tf_parse_long(getenv("TF_JOBS"), 1, 4096, &v) == 0)
		jobs = (unsigned)v;
	while ((ch = getopt_long(argc, argv, "lr:j:a:kth", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': list = true; break;
		case 'r':
			if (n_only >= TF_ARRAY_SIZE(only)) {
				fprintf(stderr, "%s: too many --run options\n", tf_runner.prog);
				return 2;
			}
			only[n_only++] = optarg;
			break;
		case 'S': slow = true; break;
		case 'A': all = true; break;
		case 'j':
			if (tf_parse_long(optarg, 1, 4096, &v) < 0) {
				fprintf(stderr, "%s: --jobs takes a number from 1 to 4096, not '%s'\n",
				        tf_runner.prog, optarg);
				return 2;
			}
			jobs = (unsigned)v;
			break;
		case 'a':
			if (!*optarg) {
				fprintf(stderr, "%s: --artifacts needs a directory\n", tf_runner.prog);
				return 2;
			}
			tf_runner.artifacts = optarg;
			artifacts_given = true;
			break;
		case 'k': tf_runner.keep = true; break;
		case 't': tf_runner.timeline = true; break;
		case 'h': usage(stdout); return 0;
		case 'K': fmt.ktap = true; break;
		case 'E': fmt.ktap = fmt.kselftest = true; break;
		case 'J':
			if (!*optarg) {
				fprintf(stderr, "%s: --json needs a file name\n", tf_runner.prog);
				return 2;
			}
			json_path = optarg;
			break;
		case 'M': max_time = true; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", tf_runner.prog, argv[optind]);
		usage(stderr);
		return 2;
	}
	if (slow && all) {
		fprintf(stderr, "%s: --slow and --all exclude each other\n", tf_runner.prog);
		return 2;
	}
	for (size_t i = 0; i < n_only; i++) {
		bool found = false;
		for (tf_case *c = tf_cases_head; c; c = c->next)
			found |= strcmp(c->name, only[i]) == 0;
		if (!found) {
			fprintf(stderr, "%s: no case named '%s' (see --list)\n", tf_runner.prog, only[i]);
			return 2;
		}
	}
	/* A directory the user named must be usable before anything runs. */
	if (!list && artifacts_given) {
		int r = tf_mkdir_p(tf_runner.artifacts);
		if (r < 0) {
			fprintf(stderr, "%s: cannot use artifacts directory '%s': %s\n", tf_runner.prog,
			        tf_runner.artifacts, strerror(-r));
			return 2;
		}
	}

#define SELECTED(c) (n_only ? selected_by_name(c, only, n_only) : (all || (c)->slow == slow))

	for (tf_case *c = tf_cases_head; c; c = c->next) {
		if (!SELECTED(c))
			continue;
		if (list)
			printf("%s%s\n", c->name, c->slow ? " (slow)" : "");
		n++;
	}
	if (list)
		return 0;
	if (max_time) {
		/* exclusive cases run alone, the others at once: a bound for a
		 * kselftest "settings" timeout (admission waits come on top) */
		unsigned excl = 0, most = 0;
		for (tf_case *c = tf_cases_head; c; c = c->next) {
			unsigned t = c->timeout_s ? c->timeout_s : TF_DEFAULT_TIMEOUT_S;
			if (!SELECTED(c))
				continue;
			if (c->exclusive)
				excl += t;
			else if (t > most)
				most = t;
		}
		printf("%u\n", excl + most);
		return 0;
	}

	/* Namespaces blocked here (a container's seccomp profile, AppArmor):
	 * run this same command in a guest kernel instead, if one can be had. */
	if (n > 0) {
		char blocked[512];
		/* still here when blocked: no fallback; the cases skip with both reasons */
		tf_vm_fallback_if_blocked(argv, blocked, sizeof blocked, tf_runner.fallback_why,
		                          sizeof tf_runner.fallback_why);
	}

	/* In the fallback guest this binary and its libraries come over 9p:
	 * fault them in now, not on a code path's first call while a case
	 * is timing the kernel. */
	if (getenv("TF_IN_VM"))
		mlockall(MCL_CURRENT);

	struct job *js = calloc(n ? n : 1, sizeof *js);
	if (!js) {
		fprintf(stderr, "%s: out of memory\n", tf_runner.prog);
		return 1;
	}
	size_t k = 0;
	for (tf_case *c = tf_cases_head; c; c = c->next) {
		if (!SELECTED(c))
			continue;
		js[k] = (struct job){ .c = c, .num = (unsigned)(k + 1), .pidfd = -1, .rec = -1, .out = -1 };
		k++;
	}

	tf_kernel_release(kernel, sizeof kernel);
	tf_kernel_hz(&hz);
	signal(SIGPIPE, SIG_IGN);
	tf_run_info info = { .prog = tf_runner.prog, .kernel = kernel, .hz = hz,
	                     .uid = (unsigned)getuid(), .total = (unsigned)n };
	if (json_path) {
		int r = tf_json_open(&fmt.json, json_path, &info);
		if (r < 0) {
			fprintf(stderr, "%s: cannot write %s: %s\n", tf_runner.prog, json_path, strerror(-r));
			free(js);
			return 2;
		}
	}
	if (fmt.ktap)
		tf_emit_ktap_header(stdout, &info, 0, NULL);
	else
		tf_emit_tap13_header(stdout, &info);
	/* One sentinel for the run: its page is shared with every case (forked
	 * after it), so each reads the worst wake-up latency measured while it
	 * ran — one process waking every 5 ms, not one per case. */
	if (n > 0)
		tf_sentinel_start(&tf_runner.wake);
	/* ... and one timer sentinel (TF_TIMER_SENTINEL=0: none, for comparison) */
	const char *ts_env = getenv("TF_TIMER_SENTINEL");
	int ts_r = 0;
	if (ts_env && !strcmp(ts_env, "0"))
		snprintf(tf_runner.timers_why, sizeof tf_runner.timers_why, "TF_TIMER_SENTINEL=0");
	else if (n > 0 && (ts_r = start_timer_sentinel(hz, &tf_runner.timers)) < 0)
		snprintf(tf_runner.timers_why, sizeof tf_runner.timers_why, "cannot start: %s",
		         strerror(-ts_r));
	/* Idle spinners (spin.h), started before the cases so every one of
	 * them reads the same line in its YAML. */
	tf_spin *spin = NULL;
	tf_runner.spin_on = n > 0 && tf_spin_wanted(tf_runner.spin_why, sizeof tf_runner.spin_why) == 1 &&
	                    tf_spin_start(&spin) == 0;
	tf_runner.spin_cpus = tf_spin_count(spin);
	/* The start gate, when every case starts at once (no --jobs limit, no
	 * exclusive case): a case waiting for one not yet started would wait
	 * for nothing. */
	/* Opt-in (TF_START_GATE=1) for now: with it, 10 of 10 loaded runs were
	 * clean here, but without load the cases' timers, started together,
	 * fired late together more often than without the gate. */
	bool gate = n > 1 && (!jobs || jobs >= n) && getenv("TF_START_GATE") &&
	            strcmp(getenv("TF_START_GATE"), "1") == 0;
	for (size_t i = 0; i < n && gate; i++)
		gate = !js[i].c->exclusive;
	if (gate)
		tf_runner.gate = tf_gate_new((unsigned)n);
	unsigned failed = run_all(js, n, jobs ? jobs : (unsigned)(n ? n : 1), kernel);
	tf_spin_stop(spin);
	tf_sentinel_stop(tf_runner.wake);
	tf_timer_sentinel_stop(tf_runner.timers);
	free(js);
	if (fmt.ktap)
		tf_emit_ktap_totals(stdout, &fmt.totals, 0);
	/* kselftest: 4 (KSFT_SKIP) when nothing ran but skips */
	int rc = failed ? 1 : fmt.kselftest && n > 0 && fmt.totals.skip == n ? 4 : 0;
	if (tf_json_close(fmt.json, rc) < 0) {
		fprintf(stderr, "%s: cannot write %s\n", tf_runner.prog, json_path);
		return rc ? rc : 1;
	}
	return rc;
}
