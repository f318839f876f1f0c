/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate exec: the command line, checked.  Everything a run needs is
 * validated here, before anything is built: bad input is a message on
 * stderr and exit status 2, never a half-made sandbox.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sys/socket.h>

#include "exec_scenario.h"
#include "tf_model.h"
#include "tf_util.h"

static const struct fault_info fault_table[] = {
	{ "none", FK_NONE, 0, false, false, false, false,
	  "no fault: a baseline run" },
	{ "blackhole", FK_BLACKHOLE, 0, true, false, false, true,
	  "the router silently drops everything between client and server" },
	{ "cable-pull", FK_CABLE, 0, false, false, false, true,
	  "the client's cable is pulled at the far end: its link loses carrier" },
	{ "mtu-blackhole", FK_MTU, 'o', true, false, false, true,
	  "the router forwards at most MTU [1280] bytes and its ICMP 'too big' errors are suppressed" },
	{ "loss", FK_LOSS, 'r', false, false, true, true,
	  "netem drops P % of the packets, both ways" },
	{ "delay", FK_DELAY, 'r', false, false, true, true,
	  "netem delays every packet by MS ms, both ways" },
	{ "server-kill", FK_KILL, 0, false, true, false, false,
	  "the server process is killed (SIGKILL): its kernel closes the connections" },
	{ "server-vanish", FK_VANISH, 0, true, false, false, true,
	  "the server host goes silent both ways and its processes die unheard; "
	  "healing reconnects it: its kernel then finishes the dead process's connections" },
	{ "server-stop", FK_STOP, 0, false, true, false, true,
	  "the server process freezes (SIGSTOP): its kernel still ACKs; healing continues it" },
	{ "slow-reader", FK_SLOW, 'o', false, true, false, true,
	  "the server reads slowly: stopped (SIGSTOP), it runs once every PERIOD ms [1000] until "
	  "its window reopens on the wire, RUN ms at most [50]; healing continues it" },
};

#define SLOW_RUN_MS    50
#define SLOW_PERIOD_MS 1000

static void usage(FILE *f)
{
	fprintf(f,
	"Usage: tcpfate exec [OPTIONS] --client 'SHELL COMMAND'\n"
	"       tcpfate exec [OPTIONS] -- PROGRAM [ARG...]\n"
	"\n"
	"Run a real client (and server) in a sandboxed network, break the network\n"
	"under it, and report when, or whether, the client notices.  The client runs\n"
	"in host 'client', the server in host 'server'; both resolve the names\n"
	"client, server and router (/etc/hosts of their own) and get TCPFATE_CLIENT,\n"
	"TCPFATE_SERVER, TCPFATE_ROUTER and TCPFATE_FAMILY (ipv4, ipv6) in their\n"
	"environment.\n"
	"\n"
	"Programs:\n"
	"  -s, --server CMD          server command, run with /bin/sh -c\n"
	"  -c, --client CMD          client command, run with /bin/sh -c\n"
	"      -- PROGRAM ARG...     the client as an argument vector, no shell\n"
	"      --wait-server PORT    start the client once the server listens on PORT\n"
	"                            [default: once it listens on any TCP port]\n"
	"      --no-wait-server      start the client right after the server\n"
	"\n"
	"Network:\n"
	"  -t, --topology SHAPE      path (client - router - server) [default] or pair\n"
	"  -6, --ipv6                the names resolve to the hosts' IPv6 addresses\n"
	"                            (2001:2::/48), the faults act on IPv6 [IPv4]\n"
	"      --client-sysctl K=V   a net.* sysctl in the client host only (repeatable),\n"
	"                            e.g. net.ipv4.tcp_retries2=5\n"
	"      --server-sysctl K=V   the same in the server host\n"
	"  -f, --fault FAULT         what breaks (required):\n"
	"        blackhole             the router drops everything, silently (path)\n"
	"        cable-pull            the client's link loses carrier\n"
	"        mtu-blackhole[:MTU]   the router forwards at most MTU [1280] bytes, its\n"
	"                              ICMP errors suppressed (path)\n"
	"        loss:P  delay:MS      netem, both ways (SKIP where sch_netem is missing)\n"
	"        server-kill           SIGKILL the server: its kernel sends FIN/RST\n"
	"        server-vanish         the server host goes silent and its processes die\n"
	"                              unheard (path); healing reconnects the host\n"
	"        server-stop           SIGSTOP the server: its kernel still ACKs\n"
	"        slow-reader[:RUN/PERIOD]  the server reads slowly: stopped (SIGSTOP), it\n"
	"                              runs once every PERIOD ms [1000] until its window\n"
	"                              reopens, RUN ms at most [50]; its kernel still ACKs\n"
	"        none                  no fault: a baseline run\n"
	"      --at SECONDS          inject SECONDS after the client started\n"
	"      --on EVENT            ... or on an event [established]:\n"
	"        established           the client's connection completed its handshake\n"
	"        sent:N  received:N    N payload bytes client->server / server->client\n"
	"        bytes:N               N payload bytes either way\n"
	"        line:REGEX            the client printed a line matching REGEX (POSIX ERE);\n"
	"                              its stdout is then a pseudo-terminal, so programs\n"
	"                              that buffer a pipe print each line as they end it\n"
	"      --no-pty              keep the client's stdout a pipe with --on line:\n"
	"      --heal-after SECONDS  undo the fault SECONDS after injecting it (replug)\n"
	"\n"
	"Expectations (none: measure and report only):\n"
	"      --expect-exit-within S  the client exits, non-zero, within S s of the fault\n"
	"      --expect-running S      the client still runs S s after the fault\n"
	"      --expect-status N       the client's exit status is N\n"
	"      --expect-model          the client exits when the kernel gives up per the\n"
	"                              model (tf_model) for its host's and socket's knobs\n"
	"      --model                 print the model's prediction next to the measurement\n"
	"\n"
	"Other:\n"
	"      --timeout SECONDS     overall limit [%d, or the model's give-up + 10 s]\n"
	"      --pcap FILE           keep the capture of the client's link\n"
	"  -v, --verbose             copy the programs' output to stderr as it comes\n"
	"  -h, --help                this text\n"
	"\n"
	"Exit: 0 ok or skipped, 1 not ok, 2 bad usage or a program that cannot start.\n",
	TF_EXEC_DEFAULT_TIMEOUT_S);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpfate exec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Seconds with up to ns precision: "5", "0.25"; 0..max. */
static int parse_seconds(const char *opt, const char *s, double max, int64_t *ret)
{
	char *end;
	double v;

	errno = 0;
	v = s && *s ? strtod(s, &end) : NAN;
	if (!s || !*s || errno || *end || !isfinite(v) || v < 0 || v > max)
		return bad("%s takes seconds between 0 and %.0f, not '%s'", opt, max, s ? s : "");
	*ret = (int64_t)llround(v * 1e9);
	return 0;
}

/* net.KEY=VALUE, one line: the syntax.  Whether this kernel has the key,
 * and whether the value has its shape, is checked in the hosts before
 * any is written (exec_run.c). */
static bool valid_sysctl(const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : 0;

	if (!eq || kl < 5 || kl > 200 || (strncmp(kv, "net.", 4) && strncmp(kv, "net/", 4)))
		return false;
	for (size_t i = 0; i < kl; i++)
		if (!isalnum((unsigned char)kv[i]) && !strchr("._-/", kv[i]))
			return false;
	if (memmem(kv, kl, "..", 2) || !eq[1] || strlen(eq + 1) > 200)
		return false;
	for (const char *v = eq + 1; *v; v++)
		if (*v == '\n' || *v == '\r')
			return false;
	return true;
}

static int parse_fault(struct tf_exec_opts *o, const char *s)
{
	const char *colon = strchr(s, ':');
	size_t nl = colon ? (size_t)(colon - s) : strlen(s);
	const char *arg = colon ? colon + 1 : NULL;
	long v;

	o->fault = NULL;
	for (size_t i = 0; i < TF_ARRAY_SIZE(fault_table); i++)
		if (strlen(fault_table[i].name) == nl && strncmp(fault_table[i].name, s, nl) == 0)
			o->fault = &fault_table[i];
	if (!o->fault)
		return bad("unknown fault '%s' (blackhole, cable-pull, mtu-blackhole[:MTU], loss:P, "
		           "delay:MS, server-kill, server-vanish, server-stop, "
		           "slow-reader[:RUN/PERIOD], none)", s);
	if (o->fault->arg == 0 && arg)
		return bad("fault '%s' takes no value", o->fault->name);
	if (o->fault->arg == 'r' && (!arg || !*arg))
		return bad("fault '%s' needs a value: %s:%s", o->fault->name, o->fault->name,
		           o->fault->kind == FK_LOSS ? "PERCENT" : "MS");
	o->fault_text = s;
	switch (o->fault->kind) {
	case FK_LOSS: {
		char *end;
		errno = 0;
		o->loss_pct = strtod(arg, &end);
		if (errno || *end || !isfinite(o->loss_pct) || o->loss_pct <= 0 || o->loss_pct > 100)
			return bad("loss takes a percentage in (0, 100], not '%s'", arg);
		break;
	}
	case FK_DELAY:
		if (tf_parse_long(arg, 1, 60000, &v) < 0)
			return bad("delay takes milliseconds in 1..60000, not '%s'", arg);
		o->delay_ms = (unsigned)v;
		break;
	case FK_MTU:
		o->mtu = 1280;
		if (arg) {
			if (tf_parse_long(arg, 68, 1499, &v) < 0)
				return bad("mtu-blackhole takes an MTU in 68..1499 (the links have 1500), "
				           "not '%s'", arg);
			o->mtu = (unsigned)v;
		}
		break;
	case FK_SLOW: {
		/* RUN/PERIOD in ms, both or neither: a period under 10 ms is
		 * below what a poll() deadline (ms) can hold apart */
		char run[16], per[16];
		const char *slash = arg ? strchr(arg, '/') : NULL;
		long rv, pv;

		o->slow_run_ms = SLOW_RUN_MS;
		o->slow_period_ms = SLOW_PERIOD_MS;
		if (!arg)
			break;
		if (!slash || slash == arg || !slash[1] || (size_t)(slash - arg) >= sizeof run ||
		    strlen(slash + 1) >= sizeof per)
			return bad("slow-reader takes RUN/PERIOD in ms (the server runs RUN ms of every "
			           "PERIOD ms), not '%s'", arg);
		snprintf(run, sizeof run, "%.*s", (int)(slash - arg), arg);
		snprintf(per, sizeof per, "%s", slash + 1);
		if (tf_parse_long(per, 10, 60000, &pv) < 0)
			return bad("slow-reader: PERIOD takes milliseconds in 10..60000, not '%s'", per);
		if (tf_parse_long(run, 1, pv - 1, &rv) < 0)
			return bad("slow-reader: RUN takes milliseconds in 1..%ld (less than the period), "
			           "not '%s'", pv - 1, run);
		o->slow_run_ms = (unsigned)rv;
		o->slow_period_ms = (unsigned)pv;
		break;
	}
	default:
		break;
	}
	return 0;
}

static int parse_trigger(struct tf_exec_opts *o, const char *s)
{
	long v;
	struct { const char *p; enum trig t; } bytes[] = {
		{ "sent:", TR_SENT }, { "received:", TR_RECEIVED }, { "bytes:", TR_BYTES },
	};

	o->trig_text = s;
	if (strcmp(s, "established") == 0) {
		o->trig = TR_ESTABLISHED;
		return 0;
	}
	for (size_t i = 0; i < TF_ARRAY_SIZE(bytes); i++)
		if (strncmp(s, bytes[i].p, strlen(bytes[i].p)) == 0) {
			if (tf_parse_long(s + strlen(bytes[i].p), 1, LONG_MAX, &v) < 0)
				return bad("--on %s needs a byte count >= 1", bytes[i].p);
			o->trig = bytes[i].t;
			o->bytes = (uint64_t)v;
			return 0;
		}
	if (strncmp(s, "line:", 5) == 0) {
		char msg[256];
		int r;

		if (!s[5])
			return bad("--on line: needs a regular expression");
		r = regcomp(&o->re, s + 5, REG_EXTENDED | REG_NOSUB);
		if (r) {
			regerror(r, &o->re, msg, sizeof msg);
			return bad("--on line: bad regular expression '%s': %s", s + 5, msg);
		}
		o->have_re = true;
		o->trig = TR_LINE;
		return 0;
	}
	return bad("--on takes established, sent:N, received:N, bytes:N or line:REGEX, not '%s'", s);
}

/* --pcap replaces a regular file at most: never a device, a FIFO, a
 * directory or a symbolic link (saving writes a temporary and renames it
 * over the name).  Its directory must exist. */
static int check_pcap_path(const char *path)
{
	struct stat st;
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return bad("--pcap: '%s' exists and is not a regular file", path);
	if (slash) {
		if ((size_t)(slash - path) >= sizeof dir)
			return bad("--pcap: '%s': name too long", path);
		snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
	} else {
		snprintf(dir, sizeof dir, ".");
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return bad("--pcap: no directory '%s' to write '%s' in", dir, path);
	return 0;
}

void tf_exec_opts_init(struct tf_exec_opts *o)
{
	memset(o, 0, sizeof *o);
	o->shape = TF_TOPO_PATH;
	o->shape_name = "path";
	o->trig = TR_ESTABLISHED;
	o->trig_text = "established";
	o->heal_after_ns = -1;
	o->exit_within_ns = o->running_ns = -1;
	o->wait_port = -1;
	o->timeout_ns = (int64_t)TF_EXEC_DEFAULT_TIMEOUT_S * 1000000000LL;
	o->family = AF_INET;
}

void tf_exec_opts_free(struct tf_exec_opts *o)
{
	if (o && o->have_re) {
		regfree(&o->re);
		o->have_re = false;
	}
}

int tf_exec_opts_set_fault(struct tf_exec_opts *o, const char *s)
{
	return parse_fault(o, s);
}

/* 0 ok, 1 help printed, -1 bad usage (message printed). */
int tf_exec_opts_parse(int argc, char **argv, struct tf_exec_opts *o)
{
	enum { O_AT = 256, O_ON, O_HEAL, O_SYSCTL, O_WAIT, O_NOWAIT, O_EXIT_WITHIN, O_RUNNING,
	       O_STATUS, O_EXPECT_MODEL, O_MODEL, O_TIMEOUT, O_PCAP, O_SERVER_SYSCTL, O_NO_PTY };
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "client", required_argument, NULL, 'c' },
		{ "topology", required_argument, NULL, 't' },
		{ "fault", required_argument, NULL, 'f' },
		{ "at", required_argument, NULL, O_AT },
		{ "on", required_argument, NULL, O_ON },
		{ "heal-after", required_argument, NULL, O_HEAL },
		{ "client-sysctl", required_argument, NULL, O_SYSCTL },
		{ "server-sysctl", required_argument, NULL, O_SERVER_SYSCTL },
		{ "ipv6", no_argument, NULL, '6' },
		{ "no-pty", no_argument, NULL, O_NO_PTY },
		{ "wait-server", required_argument, NULL, O_WAIT },
		{ "no-wait-server", no_argument, NULL, O_NOWAIT },
		{ "expect-exit-within", required_argument, NULL, O_EXIT_WITHIN },
		{ "expect-running", required_argument, NULL, O_RUNNING },
		{ "expect-status", required_argument, NULL, O_STATUS },
		{ "expect-model", no_argument, NULL, O_EXPECT_MODEL },
		{ "model", no_argument, NULL, O_MODEL },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "pcap", required_argument, NULL, O_PCAP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool at_given = false, on_given = false, wait_given = false, nowait = false;
	int ch;
	long v;

	tf_exec_opts_init(o);

	optind = 1;
	opterr = 0;
	/* '+': stop at the first non-option, so "-- curl -v ..." stays whole. */
	while ((ch = getopt_long(argc, argv, "+s:c:t:f:6vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (!*optarg)
				return bad("--server needs a command");
			o->server_cmd = optarg;
			break;
		case 'c':
			if (!*optarg)
				return bad("--client needs a command");
			o->client_cmd = optarg;
			break;
		case 't':
			if (strcmp(optarg, "path") == 0)
				o->shape = TF_TOPO_PATH;
			else if (strcmp(optarg, "pair") == 0)
				o->shape = TF_TOPO_PAIR;
			else
				return bad("--topology takes path or pair, not '%s'", optarg);
			o->shape_name = optarg;
			break;
		case 'f':
			if (parse_fault(o, optarg) < 0)
				return -1;
			break;
		case O_AT:
			if (parse_seconds("--at", optarg, 86400, &o->at_ns) < 0)
				return -1;
			o->trig = TR_AT;
			o->trig_text = optarg;
			at_given = true;
			break;
		case O_ON:
			if (o->have_re) {
				regfree(&o->re);
				o->have_re = false;
			}
			if (parse_trigger(o, optarg) < 0)
				return -1;
			on_given = true;
			break;
		case O_HEAL:
			if (parse_seconds("--heal-after", optarg, 86400, &o->heal_after_ns) < 0)
				return -1;
			break;
		case O_SYSCTL:
		case O_SERVER_SYSCTL: {
			bool srv = ch == O_SERVER_SYSCTL;
			const char **list = srv ? o->server_sysctl : o->sysctl;
			size_t *n = srv ? &o->n_server_sysctl : &o->n_sysctl;

			if (!valid_sysctl(optarg))
				return bad("--%s-sysctl takes net.KEY=VALUE (only net.* keys: they "
				           "belong to the %s's network namespace), not '%s'",
				           srv ? "server" : "client", srv ? "server" : "client", optarg);
			if (*n >= TF_EXEC_MAX_SYSCTLS)
				return bad("at most %d --%s-sysctl options", TF_EXEC_MAX_SYSCTLS,
				           srv ? "server" : "client");
			list[(*n)++] = optarg;
			break;
		}
		case '6':
			o->family = AF_INET6;
			break;
		case O_NO_PTY:
			o->no_pty = true;
			break;
		case O_WAIT:
			if (tf_parse_long(optarg, 1, 65535, &v) < 0)
				return bad("--wait-server takes a TCP port (1..65535), not '%s'", optarg);
			o->wait_port = (int)v;
			wait_given = true;
			break;
		case O_NOWAIT:
			nowait = true;
			break;
		case O_EXIT_WITHIN:
			if (parse_seconds("--expect-exit-within", optarg, 86400, &o->exit_within_ns) < 0)
				return -1;
			break;
		case O_RUNNING:
			if (parse_seconds("--expect-running", optarg, 86400, &o->running_ns) < 0)
				return -1;
			break;
		case O_STATUS:
			if (tf_parse_long(optarg, 0, 255, &v) < 0)
				return bad("--expect-status takes an exit status 0..255, not '%s'", optarg);
			o->status = (int)v;
			o->have_status = true;
			break;
		case O_EXPECT_MODEL:
			o->expect_model = true;
			break;
		case O_MODEL:
			o->model = true;
			break;
		case O_TIMEOUT:
			if (parse_seconds("--timeout", optarg, 86400, &o->timeout_ns) < 0)
				return -1;
			if (o->timeout_ns == 0)
				return bad("--timeout must be more than 0");
			o->timeout_given = true;
			break;
		case O_PCAP:
			if (!*optarg)
				return bad("--pcap needs a file name");
			o->pcap = optarg;
			if (check_pcap_path(optarg) < 0)
				return -1;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case '?':
		default:
			if (optopt && optopt < 256)
				bad("unknown option or missing value: -%c", optopt);
			else
				bad("unknown option or missing value: '%s'", argv[optind - 1]);
			fputs("Try 'tcpfate exec --help'.\n", stderr);
			return -1;
		}
	}
	if (optind < argc) {
		/* getopt_long only stops early at "--" or a non-option. */
		if (strcmp(argv[optind - 1], "--") != 0)
			return bad("unexpected argument '%s' (the client goes in --client 'CMD' or "
			           "after --)", argv[optind]);
		o->client_argv = &argv[optind];
	}
	if (!o->client_cmd && !o->client_argv)
		return bad("no client: give --client 'CMD' or -- PROGRAM ARGS...");
	if (o->client_cmd && o->client_argv)
		return bad("give the client once: --client 'CMD' or -- PROGRAM ARGS..., not both");
	if (!o->fault)
		return bad("no fault: give --fault (blackhole, cable-pull, ...; 'none' for a baseline)");
	if (at_given && on_given)
		return bad("--at and --on exclude each other");
	if (o->family == AF_INET6 && o->fault->kind == FK_MTU && o->mtu < TF_IPV6_MIN_MTU)
		return bad("mtu-blackhole:%u: IPv6 needs paths of at least %u bytes (RFC 8200 5: "
		           "a router forwards 1280 whatever the route says)", o->mtu, TF_IPV6_MIN_MTU);
	if (o->fault->router && o->shape != TF_TOPO_PATH)
		return bad("fault '%s' happens in the router: it needs --topology path",
		           o->fault->name);
	if (o->fault->server && !o->server_cmd)
		return bad("fault '%s' acts on the server process: give --server", o->fault->name);
	if (o->heal_after_ns >= 0 && !o->fault->healable)
		return bad("fault '%s' cannot be healed", o->fault->name);
	if (wait_given && nowait)
		return bad("--wait-server and --no-wait-server exclude each other");
	if ((wait_given || nowait) && !o->server_cmd)
		return bad("--wait-server and --no-wait-server need --server");
	if (nowait || !o->server_cmd)
		o->wait_port = 0;
	if (o->running_ns >= 0 && (o->exit_within_ns >= 0 || o->have_status || o->expect_model))
		return bad("--expect-running excludes --expect-exit-within, --expect-status and "
		           "--expect-model");
	if (o->expect_model && (o->fault->kind == FK_KILL || o->fault->kind == FK_STOP ||
	                        o->fault->kind == FK_SLOW ||
	                        o->fault->netem || o->fault->kind == FK_NONE))
		return bad("--expect-model: the kernel has no give-up to model for fault '%s'",
		           o->fault->name);
	if (o->expect_model && o->heal_after_ns >= 0)
		return bad("--expect-model assumes the fault lasts: it excludes --heal-after "
		           "(--model still prints the prediction)");
	if (o->fault->kind == FK_NONE && (o->running_ns >= 0 || o->exit_within_ns >= 0 ||
	                                  o->expect_model || o->heal_after_ns >= 0))
		return bad("with --fault none there is no fault to measure from: use --expect-status");
	if (o->client_argv) {
		size_t off = 0;
		for (char **a = o->client_argv; *a && off < sizeof o->client_text - 1; a++)
			off += (size_t)snprintf(o->client_text + off, sizeof o->client_text - off, "%s%s",
			                        a == o->client_argv ? "" : " ", *a);
	} else {
		snprintf(o->client_text, sizeof o->client_text, "%s", o->client_cmd);
	}
	return 0;
}
