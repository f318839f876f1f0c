/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate card — a timeout-policy report card for any client.
 *
 * Runs the client (and server) once per row — one way a network dies, at
 * one moment of the client's life — each row a `tcpfate exec` child (this
 * binary, /proc/self/exe, with an argument vector: no shell) in its own
 * namespaces, several at once.  Reads each run back (card_exec_result.c),
 * judges it against the policy (card_rows.c), and prints a table (or TAP
 * 13), and with --out an HTML page with one timeline per row.
 *
 * Exit: 0 every row met the policy (or was skipped), 1 one did not,
 * 2 bad usage, or a program that cannot start.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "card.h"
#include "tf_result.h"
#include "tf_util.h"

#define NS 1000000000LL
#define OUT_MAX (4u << 20)
#define ERR_MAX (64u << 10)

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig) { stop_sig = sig; }

static void usage(FILE *f)
{
	fprintf(f,
	"Usage: tcpfate card [OPTIONS] --client 'SHELL COMMAND' --policy FILE\n"
	"       tcpfate card [OPTIONS] --policy-rule RULE -- PROGRAM [ARG...]\n\n"
	"A timeout-policy report card: the client (and server) run once per row,\n"
	"each a `tcpfate exec` run in fresh namespaces, several at once; each row\n"
	"says when the client noticed, what the kernel alone would have done (the\n"
	"model, and the knob that decides it), and a verdict against the policy.\n\n"
	"Programs (as for tcpfate exec):\n"
	"  -c, --client CMD          the client, run with /bin/sh -c\n"
	"      -- PROGRAM ARG...     the client as an argument vector, no shell\n"
	"  -s, --server CMD          the server, run with /bin/sh -c\n"
	"      --wait-server PORT    start the client once the server listens on PORT\n"
	"      --client-sysctl K=V   a net.* sysctl in the client host (repeatable)\n"
	"      --server-sysctl K=V   a net.* sysctl in the server host (repeatable)\n"
	"  -6, --ipv6                every row over IPv6 (the names resolve to IPv6 only)\n\n"
	"Policy (at least one rule):\n"
	"  -p, --policy FILE         rules, one a line ('#' comments)\n"
	"  -r, --policy-rule RULES   rules, separated by ';' or ',' (repeatable):\n"
	"        connect <= 5s  dead-peer-sending <= 15s  dead-peer-idle <= 30s\n"
	"        server-crash <= 1s  stalled-peer <= 20s  survive  never-hang\n\n"
	"Rows:\n"
	"      --faults LIST         only these rows (comma-separated) of:\n"
	"        %s\n"
	"      --busy-on EVENT       when the client is busy sending [sent:65536]\n"
	"      --waiting-on EVENT    when it waits, idle, for an answer [at:1]\n"
	"      --pooled-on EVENT     when it holds an idle pooled connection [none: SKIP]\n"
	"                            EVENT: at:SECONDS or an exec --on event\n"
	"                            (established, sent:N, received:N, bytes:N, line:REGEX)\n"
	"      --limit SECONDS       watch each row this long after the fault\n"
	"                            [the largest bound + 5 s, at least 10; 30 without]\n"
	"      --blip SECONDS        the cable-blip row replugs after this long [1]\n"
	"  -j, --jobs N              rows at once [all]\n\n"
	"Output:\n"
	"      --tap                 TAP 13 on stdout instead of the table\n"
	"  -o, --out DIR             also write DIR/card.html, card.tap, card.txt and\n"
	"                            the rows' captures (DIR/ROW.pcap)\n"
	"  -v, --verbose             progress on stderr\n"
	"  -h, --help                this text\n\n"
	"Exit: 0 every row met the policy or was skipped, 1 a row did not, 2 bad\n"
	"usage or a program that cannot start.\n", card_fault_list());
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpfate card: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n'tcpfate card --help' for the options.\n", stderr);
	return 2;
}

static int parse_s(const char *opt, const char *s, double min, double max, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= min && v <= max))
		return bad("%s: '%s' is not a number of seconds in [%g, %g]", opt, s, min, max);
	*ret = v;
	return 0;
}

static int check_event(const char *opt, const char *s)
{
	static const char *const ok[] = { "established", "sent:", "received:", "bytes:", "line:" };
	double d;

	if (strncmp(s, "at:", 3) == 0)
		return parse_s(opt, s + 3, 0, 3600, &d);
	for (size_t i = 0; i < TF_ARRAY_SIZE(ok); i++)
		if (strncmp(s, ok[i], strlen(ok[i])) == 0 && (i || !s[11]))
			return 0;
	return bad("%s: '%s' is not at:SECONDS, established, sent:N, received:N, bytes:N "
	           "or line:REGEX", opt, s);
}

static int parse(int argc, char **argv, struct card_opts *o)
{
	enum { O_WAIT = 256, O_SYSCTL, O_SSYSCTL, O_FAULTS, O_BUSY, O_WAITING, O_POOLED, O_LIMIT, O_BLIP, O_TAP };
	static const struct option lo[] = {
		{ "client", required_argument, NULL, 'c' },
		{ "server", required_argument, NULL, 's' },
		{ "wait-server", required_argument, NULL, O_WAIT },
		{ "client-sysctl", required_argument, NULL, O_SYSCTL },
		{ "server-sysctl", required_argument, NULL, O_SSYSCTL },
		{ "ipv6", no_argument, NULL, '6' },
		{ "policy", required_argument, NULL, 'p' },
		{ "policy-rule", required_argument, NULL, 'r' },
		{ "faults", required_argument, NULL, O_FAULTS },
		{ "busy-on", required_argument, NULL, O_BUSY },
		{ "waiting-on", required_argument, NULL, O_WAITING },
		{ "pooled-on", required_argument, NULL, O_POOLED },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "blip", required_argument, NULL, O_BLIP },
		{ "jobs", required_argument, NULL, 'j' },
		{ "tap", no_argument, NULL, O_TAP },
		{ "out", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[512];
	double d;
	int c;

	memset(o, 0, sizeof *o);
	card_policy_init(&o->policy);
	o->phase_on[CP_CONNECT] = "at:0";
	o->phase_on[CP_BUSY] = "sent:65536";
	o->phase_on[CP_WAITING] = "at:1";
	o->blip_s = 1;
	o->limit_s = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:s:p:r:j:o:vh6", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->client_cmd = optarg; break;
		case 's': o->server_cmd = optarg; break;
		case O_WAIT: {
			char *end;
			long p = strtol(optarg, &end, 10);
			if (end == optarg || *end || p < 1 || p > 65535)
				return bad("--wait-server: '%s' is not a port", optarg);
			o->wait_server = optarg;
			break;
		}
		case O_SYSCTL:
			if (o->n_sysctl == CARD_MAX_SYSCTLS)
				return bad("at most %d --client-sysctl", CARD_MAX_SYSCTLS);
			if (strncmp(optarg, "net.", 4) != 0 || !strchr(optarg, '='))
				return bad("--client-sysctl: '%s' is not net.KEY=VALUE", optarg);
			o->sysctl[o->n_sysctl++] = optarg;
			break;
		case O_SSYSCTL:
			if (o->n_server_sysctl == CARD_MAX_SYSCTLS)
				return bad("at most %d --server-sysctl", CARD_MAX_SYSCTLS);
			if (strncmp(optarg, "net.", 4) != 0 || !strchr(optarg, '='))
				return bad("--server-sysctl: '%s' is not net.KEY=VALUE", optarg);
			o->server_sysctl[o->n_server_sysctl++] = optarg;
			break;
		case '6': o->ipv6 = true; break;
		case 'p':
			if (card_policy_load(&o->policy, optarg, err, sizeof err) < 0)
				return bad("--policy: %s", err);
			break;
		case 'r':
			if (card_policy_parse(&o->policy, optarg, err, sizeof err) < 0)
				return bad("--policy-rule: %s", err);
			break;
		case O_FAULTS: o->faults = optarg; break;
		case O_BUSY: case O_WAITING: case O_POOLED:
			if (check_event(argv[optind - 1], optarg))
				return 2;
			o->phase_on[c == O_BUSY ? CP_BUSY : c == O_WAITING ? CP_WAITING : CP_POOLED] = optarg;
			break;
		case O_LIMIT:
			if (parse_s("--limit", optarg, 1, 3600, &o->limit_s))
				return 2;
			break;
		case O_BLIP:
			if (parse_s("--blip", optarg, 0.1, 600, &o->blip_s))
				return 2;
			break;
		case 'j':
			if (parse_s("--jobs", optarg, 1, CARD_MAX_ROWS, &d) || d != (unsigned)d)
				return bad("--jobs: '%s' is not a number in [1, %d]", optarg, CARD_MAX_ROWS);
			o->jobs = (unsigned)d;
			break;
		case O_TAP: o->tap = true; break;
		case 'o': o->out = optarg; break;
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); return -1;
		case ':': return bad("%s needs a value", argv[optind - 1]);
		default: return bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") == 0)
		o->client_argv = argv + optind;
	else if (optind < argc)
		return bad("unexpected argument '%s' (the client goes after --client or --)", argv[optind]);
	if (!o->client_cmd == !o->client_argv)
		return bad("give the client once: --client 'COMMAND' or -- PROGRAM ARGS");
	if (!o->policy.n_rules)
		return bad("no policy: --policy FILE or --policy-rule 'connect <= 5s; never-hang'");
	int64_t maxb = -1;
	for (int i = 0; i < CC_N; i++)
		if (o->policy.bound_ms[i] > maxb)
			maxb = o->policy.bound_ms[i];
	if (o->limit_s < 0)
		o->limit_s = maxb < 0 ? 30 : (double)maxb / 1e3 + 5 < 10 ? 10 : (double)maxb / 1e3 + 5;
	else if ((double)maxb / 1e3 >= o->limit_s)
		return bad("--limit %g: must be longer than the policy's largest bound (%g s)",
		           o->limit_s, (double)maxb / 1e3);
	if (o->out) {
		struct stat st;
		if (stat(o->out, &st) < 0 || !S_ISDIR(st.st_mode))
			return bad("--out: '%s' is not a directory", o->out);
	}
	return 0;
}

/* ------------------------------------------------------------------ rows */

static void drain(int *fd, char **buf, size_t *len, size_t max)
{
	char tmp[8192];
	ssize_t n;

	while ((n = read(*fd, tmp, sizeof tmp)) > 0) {
		size_t take = *len + (size_t)n > max ? max - *len : (size_t)n;
		if (take) {
			char *nb = realloc(*buf, *len + take + 1);
			if (nb) {
				memcpy(nb + *len, tmp, take);
				*len += take;
				nb[*len] = 0;
				*buf = nb;
			}
		}
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(*fd);
		*fd = -1;
	}
}

static int start_row(struct card_row *r, const char *self)
{
	int o[2], e[2];
	pid_t parent = getpid();

	if (pipe2(o, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	if (pipe2(e, O_CLOEXEC | O_NONBLOCK) < 0) {
		close(o[0]);
		close(o[1]);
		return -errno;
	}
	r->start_ns = tf_now_ns();
	r->pid = fork();
	if (r->pid < 0) {
		int err = -errno;
		close(o[0]); close(o[1]); close(e[0]); close(e[1]);
		return err;
	}
	if (r->pid == 0) {
		/* exec ends its programs and namespaces when it is told to */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		dup2(o[1], 1);
		dup2(e[1], 2);
		int fl = fcntl(1, F_GETFL);
		fcntl(1, F_SETFL, fl & ~O_NONBLOCK);
		fl = fcntl(2, F_GETFL);
		fcntl(2, F_SETFL, fl & ~O_NONBLOCK);
		execv(self, r->argv);
		dprintf(2, "cannot run %s: %s\n", self, strerror(errno));
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	r->out_fd = o[0];
	r->err_fd = e[0];
	r->deadline_ns += r->start_ns;
	return 0;
}

/* Run every row, at most `jobs` at once, each until it ends. */
static void run_rows(const struct card_opts *o, struct card_row *rows, size_t n)
{
	size_t next = 0, running = 0, finished = 0, todo = 0;
	const char *self = "/proc/self/exe";

	for (size_t i = 0; i < n; i++) {
		if (rows[i].cannot)
			rows[i].done = true;
		else
			todo++;
	}
	while (finished < todo) {
		struct pollfd pfd[2 * CARD_MAX_ROWS];
		size_t np = 0;
		int64_t now = tf_now_ns(), wait_ms = 1000;

		while (running < o->jobs && next < n && !stop_sig) {
			struct card_row *r = &rows[next++];
			if (r->done)
				continue;
			int e = start_row(r, self);
			if (e < 0) {
				r->done = true;
				r->status = 2 << 8;
				asprintf(&r->err, "cannot start tcpfate exec: %s", strerror(-e));
				finished++;
				continue;
			}
			running++;
			if (o->verbose)
				fprintf(stderr, "tcpfate card: %s started\n", r->name);
		}
		if (stop_sig && next < n)
			for (; next < n; next++)
				if (!rows[next].done && !rows[next].pid) {
					rows[next].done = true;
					rows[next].status = 1 << 8;
					rows[next].err = strdup("not run: the card was interrupted");
					finished++;
				}
		if (finished >= todo)
			break;
		for (size_t i = 0; i < n; i++) {
			struct card_row *r = &rows[i];
			if (!r->pid || r->done)
				continue;
			if (now > r->deadline_ns || stop_sig) {
				/* exec has its own timeout; this is for an exec that hangs */
				kill(r->pid, now > r->deadline_ns + 5 * NS ? SIGKILL : SIGTERM);
				r->killed = !stop_sig;
			}
			if (r->out_fd >= 0)
				pfd[np++] = (struct pollfd){ .fd = r->out_fd, .events = POLLIN };
			if (r->err_fd >= 0)
				pfd[np++] = (struct pollfd){ .fd = r->err_fd, .events = POLLIN };
		}
		if (np)
			poll(pfd, np, (int)wait_ms);
		for (size_t i = 0; i < n; i++) {
			struct card_row *r = &rows[i];
			if (!r->pid || r->done)
				continue;
			if (r->out_fd >= 0)
				drain(&r->out_fd, &r->out, &r->out_len, OUT_MAX);
			if (r->err_fd >= 0)
				drain(&r->err_fd, &r->err, &r->err_len, ERR_MAX);
			if (r->out_fd < 0 && r->err_fd < 0 && waitpid(r->pid, &r->status, 0) == r->pid) {
				r->done = true;
				r->end_ns = tf_now_ns();
				running--;
				finished++;
				if (o->verbose)
					fprintf(stderr, "tcpfate card: %s done after %.1f s (%zu/%zu)\n", r->name,
					        (double)(r->end_ns - r->start_ns) / 1e9, finished, todo);
			}
		}
	}
}

int tf_cmd_card(int argc, char **argv)
{
	struct card_opts o;
	static struct card_row rows[CARD_MAX_ROWS];
	char err[512];
	size_t n;
	int r, rc = 0;

	r = parse(argc, argv, &o);
	if (r)
		return r < 0 ? 0 : r;
	n = card_rows_make(&o, rows, CARD_MAX_ROWS, err, sizeof err);
	if (!n)
		return bad("%s", err);
	if (!o.jobs)
		o.jobs = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].cannot)
			continue;
		if (o.out)
			snprintf(rows[i].pcap, sizeof rows[i].pcap, "%s/%s.pcap", o.out, rows[i].name);
		if (card_row_argv(&o, &rows[i], "tcpfate") < 0) {
			for (size_t j = 0; j < n; j++)
				card_row_free(&rows[j]);
			return bad("too many arguments for the client");
		}
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int64_t t0 = tf_now_ns();
	run_rows(&o, rows, n);
	double wall = (double)(tf_now_ns() - t0) / 1e9;

	for (size_t i = 0; i < n; i++) {
		struct card_row *row = &rows[i];
		if (!row->cannot && row->out)
			card_exec_result_parse(row->out, &row->res);
		card_row_judge(&o, row);
		if (row->verdict == CV_FAIL && rc < 1)
			rc = 1;
		if (row->verdict == CV_ERROR)
			rc = WIFEXITED(row->status) && WEXITSTATUS(row->status) == 2 ? 2 : rc < 1 ? 1 : rc;
		if (row->verdict == CV_ERROR && row->err && !o.tap) {
			fprintf(stderr, "tcpfate card: row %s: ", row->name);
			tf_oneline(stderr, row->err);
			fputc('\n', stderr);
		}
	}
	if (o.out)
		card_save_raw(&o, rows, n);
	if (o.tap)
		card_print_tap(stdout, &o, rows, n);
	else
		card_print_table(stdout, &o, rows, n, wall);
	fflush(stdout);
	if (o.out) {
		char title[600];
		snprintf(title, sizeof title, "tcpfate card: %s", o.client_cmd ? o.client_cmd : o.client_argv[0]);
		if ((r = card_write_file(&o, "card.tap", card_emit_tap, rows, n, wall)) < 0 ||
		    (r = card_write_file(&o, "card.txt", card_print_table, rows, n, wall)) < 0) {
			fprintf(stderr, "tcpfate card: cannot write in %s: %s\n", o.out, strerror(-r));
			rc = rc ? rc : 1;
		} else {
			char path[4096];
			snprintf(path, sizeof path, "%s/card.html", o.out);
			if ((r = card_html_write(&o, rows, n, path, title)) < 0) {
				fprintf(stderr, "tcpfate card: cannot write %s: %s\n", path, strerror(-r));
				rc = rc ? rc : 1;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		card_row_free(&rows[i]);
	if (stop_sig)
		return 1;
	return rc;
}
