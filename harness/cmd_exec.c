/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate exec — does YOUR client notice a dead server, and when?
 *
 * Builds the topology, starts the server command in host "server" and the
 * client command in host "client" (tf_exec.h: their own PID and mount
 * namespaces, /etc/hosts naming client/server/router), breaks the network
 * at a time or on an event, and measures how long the client takes to give
 * up, next to what the kernel's rules (tf_model.h) say it should.
 *
 * Everything waits on fds with deadlines: the programs' pidfds and output
 * pipes, the capture's fd, a signalfd.  The only periodic wake-ups are
 * samples (sock_diag: is the server listening yet, what is the client's
 * socket doing), never a sleep standing in for an event.
 *
 * Output: TAP version 13, one test, a YAML block.  Exit 0 ok or skipped,
 * 1 not ok, 2 bad usage (including a program that cannot start).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_exec.h"
#include "tf_capture.h"
#include "tf_exec.h"
#include "tf_fault.h"
#include "tf_model.h"
#include "tf_probe.h"
#include "tf_sandbox.h"
#include "tf_sock.h"
#include "tf_topo.h"
#include "tf_util.h"

#define EXIT_OK     0
#define EXIT_NOT_OK 1
#define EXIT_USAGE  2
#define NS          1000000000LL
#define MS          1000000LL
#define MAX_SYSCTLS 32
#define RING        12            /* output lines kept per program */
#define DEFAULT_TIMEOUT_S 120
#define SAMPLE_NS   (100 * MS)    /* sock_diag sample of the client's socket */
/* Between the kernel's give-up and the program's exit: the error wakes the
 * program at once, but it still has to report and exit.  Stated here, added
 * to the model's band on the late side only; TF_EXEC_EXIT_MS overrides. */
#define EXIT_ALLOWANCE_MS 100

/* ---------------------------------------------------------------- options */

enum fault_kind {
	FK_NONE, FK_BLACKHOLE, FK_CABLE, FK_MTU, FK_LOSS, FK_DELAY, FK_KILL, FK_VANISH, FK_STOP,
};

static const struct fault_info {
	const char *name;
	enum fault_kind kind;
	char arg;            /* 0 none, 'o' optional, 'r' required */
	bool router;         /* needs the path topology */
	bool server;         /* needs --server */
	bool netem;
	bool healable;
	const char *what;
} fault_table[] = {
	{ "none", FK_NONE, 0, false, false, false, false,
	  "no fault: a baseline run" },
	{ "blackhole", FK_BLACKHOLE, 0, true, false, false, true,
	  "the router silently drops everything between client and server" },
	{ "cable-pull", FK_CABLE, 0, false, false, false, true,
	  "the client's cable is pulled at the far end: its link loses carrier" },
	{ "mtu-blackhole", FK_MTU, 'o', true, false, false, true,
	  "the router's links shrink to MTU [1280] and ICMP 'fragmentation needed' is suppressed" },
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
};

enum trig { TR_AT, TR_ESTABLISHED, TR_SENT, TR_RECEIVED, TR_BYTES, TR_LINE };

struct opts {
	const char *server_cmd, *client_cmd;
	char **client_argv;
	char client_text[512];
	tf_topo_shape shape;
	const char *shape_name;
	const struct fault_info *fault;
	const char *fault_text;
	double loss_pct;
	unsigned delay_ms, mtu;
	enum trig trig;
	const char *trig_text;
	int64_t at_ns;
	uint64_t bytes;
	regex_t re;
	bool have_re;
	int64_t heal_after_ns;
	const char *sysctl[MAX_SYSCTLS];
	size_t n_sysctl;
	int wait_port;               /* -1: any listening port; 0: do not wait */
	int64_t exit_within_ns, running_ns, timeout_ns;
	bool timeout_given, have_status, expect_model, model, verbose;
	int status;
	const char *pcap;
};

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
	"TCPFATE_SERVER, TCPFATE_ROUTER in their environment.\n"
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
	"      --client-sysctl K=V   a net.* sysctl in the client host only (repeatable),\n"
	"                            e.g. net.ipv4.tcp_retries2=5\n"
	"  -f, --fault FAULT         what breaks (required):\n"
	"        blackhole             the router drops everything, silently (path)\n"
	"        cable-pull            the client's link loses carrier\n"
	"        mtu-blackhole[:MTU]   links shrink to MTU [1280], ICMP suppressed (path)\n"
	"        loss:P  delay:MS      netem, both ways (SKIP where sch_netem is missing)\n"
	"        server-kill           SIGKILL the server: its kernel sends FIN/RST\n"
	"        server-vanish         the server host goes silent and its processes die\n"
	"                              unheard (path); healing reconnects the host\n"
	"        server-stop           SIGSTOP the server: its kernel still ACKs\n"
	"        none                  no fault: a baseline run\n"
	"      --at SECONDS          inject SECONDS after the client started\n"
	"      --on EVENT            ... or on an event [established]:\n"
	"        established           the client's connection completed its handshake\n"
	"        sent:N  received:N    N payload bytes client->server / server->client\n"
	"        bytes:N               N payload bytes either way\n"
	"        line:REGEX            the client printed a line matching REGEX (POSIX ERE)\n"
	"                              (its stdout is a pipe: programs that buffer it print\n"
	"                              late; stderr, python3 -u or stdbuf -oL help)\n"
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
	DEFAULT_TIMEOUT_S);
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

static int parse_fault(struct opts *o, const char *s)
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
		           "delay:MS, server-kill, server-vanish, server-stop, none)", s);
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
	default:
		break;
	}
	return 0;
}

static int parse_trigger(struct opts *o, const char *s)
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

/* 0 ok, 1 help printed, -1 bad usage (message printed). */
static int parse(int argc, char **argv, struct opts *o)
{
	enum { O_AT = 256, O_ON, O_HEAL, O_SYSCTL, O_WAIT, O_NOWAIT, O_EXIT_WITHIN, O_RUNNING,
	       O_STATUS, O_EXPECT_MODEL, O_MODEL, O_TIMEOUT, O_PCAP };
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "client", required_argument, NULL, 'c' },
		{ "topology", required_argument, NULL, 't' },
		{ "fault", required_argument, NULL, 'f' },
		{ "at", required_argument, NULL, O_AT },
		{ "on", required_argument, NULL, O_ON },
		{ "heal-after", required_argument, NULL, O_HEAL },
		{ "client-sysctl", required_argument, NULL, O_SYSCTL },
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

	memset(o, 0, sizeof *o);
	o->shape = TF_TOPO_PATH;
	o->shape_name = "path";
	o->trig = TR_ESTABLISHED;
	o->trig_text = "established";
	o->heal_after_ns = -1;
	o->exit_within_ns = o->running_ns = -1;
	o->wait_port = -1;
	o->timeout_ns = (int64_t)DEFAULT_TIMEOUT_S * NS;

	optind = 1;
	opterr = 0;
	/* '+': stop at the first non-option, so "-- curl -v ..." stays whole. */
	while ((ch = getopt_long(argc, argv, "+s:c:t:f:vh", longopts, NULL)) != -1) {
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
			if (!valid_sysctl(optarg))
				return bad("--client-sysctl takes net.KEY=VALUE (only net.* keys: they "
				           "belong to the client's network namespace), not '%s'", optarg);
			if (o->n_sysctl >= MAX_SYSCTLS)
				return bad("at most %d --client-sysctl options", MAX_SYSCTLS);
			o->sysctl[o->n_sysctl++] = optarg;
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

/* ------------------------------------------------------------------ text */

/*
 * Outside text (commands, paths, the programs' output) reaches TAP and
 * YAML only through text_dup(): it cannot end a line, start a TAP
 * directive, or carry what a YAML parser refuses.
 */

/* The UTF-8 character at s (n bytes left): its length and code point, or 0
 * for a byte that starts no valid sequence (overlong, surrogate, beyond
 * U+10FFFF, truncated). */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Printable for YAML (c-printable) and on one TAP line: no C0 or C1
 * control (NEL is a line break to YAML 1.1), DEL, line or paragraph
 * separator, or non-character U+FFFE/U+FFFF. */
static bool printable(uint32_t c)
{
	return c == '\t' || (c >= 0x20 && c < 0x7f) ||
	       (c >= 0xa0 && c != 0x2028 && c != 0x2029 && c != 0xfffe && c != 0xffff);
}

enum text_mode {
	TX_LINE,    /* a line of a literal block: controls '?' */
	TX_QUOTED,  /* inside "...": '"' '\' escaped, controls \xNN, tab \t */
	TX_TAP,     /* a TAP description: '#' and '\' escaped (TAP::Parser's
	             * directive syntax), controls '?' */
};

/* A cleaned, NUL-terminated copy of s (n bytes); invalid UTF-8 becomes
 * U+FFFD in every mode.  NULL only when out of memory. */
static char *text_dup(const char *s, size_t n, enum text_mode mode)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc(4 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t c = 0;
		size_t l = utf8_char(u + i, n - i, &c);

		if (l == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		if (mode == TX_QUOTED && (c == '"' || c == '\\')) {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (mode == TX_QUOTED && c == '\t') {
			memcpy(o, "\\t", 2);
			o += 2;
		} else if (mode == TX_TAP && (c == '#' || c == '\\')) {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (printable(c)) {
			memcpy(o, u + i, l);
			o += l;
		} else if (mode == TX_QUOTED && c <= 0xff) {
			o += sprintf(o, "\\x%02x", (unsigned)c);  /* YAML: the code point */
		} else {
			*o++ = '?';
		}
		i += l;
	}
	*o = 0;
	return out;
}

/* ------------------------------------------------------------------ output lines */

struct lines {
	const char *who;
	char part[2][2048];          /* partial line per stream (stdout, stderr) */
	size_t plen[2];
	char *ring[RING];
	size_t next, n, total;
	bool verbose;
};

static void lines_push(struct lines *L, const char *s, size_t n)
{
	char *c = text_dup(s, n, TX_LINE);

	if (!c)
		return;
	if (L->verbose)
		fprintf(stderr, "[%s] %s\n", L->who, c);
	free(L->ring[L->next]);
	L->ring[L->next] = c;
	L->next = (L->next + 1) % RING;
	if (L->n < RING)
		L->n++;
	L->total++;
}

static void lines_free(struct lines *L)
{
	for (size_t i = 0; i < RING; i++)
		free(L->ring[i]);
}

/* The i-th of the kept lines, oldest first. */
static const char *lines_get(const struct lines *L, size_t i)
{
	return L->ring[(L->next + RING - L->n + i) % RING];
}

/* ------------------------------------------------------------------ the run */

struct watch {
	bool have;                   /* a client socket to the server is watched */
	uint64_t inode;
	tf_flow flow;                /* client → server */
	tf_tcp_sock first;           /* the sample at the fault (or when it appeared) */
	int64_t first_ns;
	bool at_fault;               /* first was taken at the fault */
	int state;                   /* last sampled */
	unsigned timers;             /* bit per idiag_timer seen armed with count > 0 */
	unsigned max_count;
	int64_t gone_ns;             /* first sample without it */
	/* the socket's own options (a duplicate, pidfd_getfd) */
	bool knobs;
	int knobs_err;
	int keepalive, ka_idle, ka_intvl, ka_cnt, user_timeout_ms, syncnt, rto_max_ms;
};

struct run {
	const struct opts *o;
	char kernel[128];
	unsigned hz;
	unsigned uid;                /* before the user namespace made us root */
	bool userns;
	tf_topo *t;
	tf_capture *cap;
	const char *cap_err;
	size_t cap_seen;
	uint64_t sent, received;
	uint16_t synack_port;        /* client port of the last SYN-ACK seen */
	tf_proc *server, *client;
	struct lines lout[2];        /* client, server */
	tf_fault *faults[4];
	size_t n_faults;
	int sigfd;
	int64_t t0_ns;               /* tcpfate started */
	int64_t client_start_ns, fault_ns, heal_ns, end_ns;   /* tf_now_ns(): the packets' clock */
	/* Scheduling runs on CLOCK_MONOTONIC: a step of the wall clock
	 * (NTP, settimeofday) must not end the run early or stretch it. */
	int64_t t0_mono, client_start_mono, fault_mono, next_sample_mono, deadline_mono;
	bool fault_done, healed, client_done, server_done, interrupted;
	int client_status, server_status;
	int64_t client_exit_ns, server_exit_ns;
	bool fault_failed;
	char fault_desc[512];
	char message[512];
	char pcap_err[512];
	struct watch w;
	tf_model *m;
};

static const char *signame(int sig)
{
	static char buf[16];
	const char *n = sigabbrev_np(sig);

	if (n)
		snprintf(buf, sizeof buf, "SIG%s", n);
	else
		snprintf(buf, sizeof buf, "signal %d", sig);
	return buf;
}

static void describe_status(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by %s", signame(WTERMSIG(st)));
	else
		snprintf(buf, n, "status 0x%x", st);
}

/* Read what a program wrote; split into lines; the client's lines may be
 * the trigger.  Returns true if a line matched the trigger regex. */
static bool drain_output(struct run *R, int who, int stream)
{
	tf_proc *p = who == 0 ? R->client : R->server;
	struct lines *L = &R->lout[who];
	int fd = tf_proc_stdio_fd(p, stream);
	bool matched = false;
	char buf[4096];

	if (fd < 0)
		return false;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			/* EOF: flush the partial line, stop polling this fd. */
			if (L->plen[stream - 1]) {
				lines_push(L, L->part[stream - 1], L->plen[stream - 1]);
				L->plen[stream - 1] = 0;
			}
			tf_proc_close_stdio(p, stream);
			return matched;
		}
		if (n < 0)
			return matched;
		for (ssize_t i = 0; i < n; i++) {
			char *part = L->part[stream - 1];
			size_t *pl = &L->plen[stream - 1];
			bool full = *pl == sizeof L->part[0] - 1;

			if (buf[i] != '\n' && !full) {
				part[(*pl)++] = buf[i];
				continue;
			}
			/* A newline ends the line; a full buffer cuts an over-long
			 * one here (the byte starts the next piece).  One byte is
			 * always left for the terminating NUL. */
			if (buf[i] == '\n' && *pl && part[*pl - 1] == '\r')
				(*pl)--;
			part[*pl] = 0;
			if (who == 0 && R->o->have_re && !R->fault_done &&
			    regexec(&R->o->re, part, 0, NULL, 0) == 0)
				matched = true;
			lines_push(L, part, *pl);
			*pl = 0;
			if (buf[i] != '\n')
				part[(*pl)++] = buf[i];
		}
	}
}

static bool is_client_flow(const struct run *R, const tf_pkt *p, bool to_server)
{
	struct in_addr c, s;

	inet_pton(AF_INET, tf_topo_client_addr(R->t), &c);
	inet_pton(AF_INET, tf_topo_server_addr(R->t), &s);
	return p->proto == IPPROTO_TCP &&
	       p->src.s_addr == (to_server ? c : s).s_addr &&
	       p->dst.s_addr == (to_server ? s : c).s_addr;
}

/* New packets: count bytes, see handshakes.  true when the trigger fired. */
static bool capture_events(struct run *R)
{
	bool fire = false;

	if (!R->cap)
		return false;
	if (tf_capture_read(R->cap) < 0)
		return false;
	for (; R->cap_seen < tf_capture_count(R->cap); R->cap_seen++) {
		const tf_pkt *p = tf_capture_pkt(R->cap, R->cap_seen);
		bool up = is_client_flow(R, p, true), down = is_client_flow(R, p, false);

		if (up)
			R->sent += p->payload;
		if (down)
			R->received += p->payload;
		if (down && (p->flags & (TF_TCP_SYN | TF_TCP_ACK)) == (TF_TCP_SYN | TF_TCP_ACK))
			R->synack_port = p->dport;
		/* The client's ACK of the SYN-ACK: both ends are ESTABLISHED. */
		if (up && R->synack_port && p->sport == R->synack_port &&
		    (p->flags & (TF_TCP_SYN | TF_TCP_ACK | TF_TCP_RST)) == TF_TCP_ACK &&
		    R->o->trig == TR_ESTABLISHED)
			fire = true;
		switch (R->o->trig) {
		case TR_SENT:     fire |= R->sent >= R->o->bytes; break;
		case TR_RECEIVED: fire |= R->received >= R->o->bytes; break;
		case TR_BYTES:    fire |= R->sent + R->received >= R->o->bytes; break;
		default: break;
		}
	}
	return fire;
}

/* --- the client's socket, sampled --- */

static void read_knobs(struct run *R)
{
	struct watch *w = &R->w;
	int fd = -1, r;

	w->knobs_err = 0;
	r = tf_proc_socket_dup(R->client, w->inode, &fd);
	if (r < 0) {
		w->knobs_err = r;
		return;
	}
	w->rto_max_ms = -1;
	if (tf_sock_get_int(fd, SOL_SOCKET, SO_KEEPALIVE, &w->keepalive) < 0 ||
	    tf_sock_get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, &w->ka_idle) < 0 ||
	    tf_sock_get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, &w->ka_intvl) < 0 ||
	    tf_sock_get_int(fd, IPPROTO_TCP, TCP_KEEPCNT, &w->ka_cnt) < 0 ||
	    tf_sock_get_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &w->user_timeout_ms) < 0 ||
	    tf_sock_get_int(fd, IPPROTO_TCP, TCP_SYNCNT, &w->syncnt) < 0)
		w->knobs_err = -errno;
	else
		w->knobs = true;
	/* 6.15+: per-socket maximum RTO; older kernels do not know it. */
	if (w->knobs && tf_sock_get_int(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &r) == 0)
		w->rto_max_ms = r;
	/* The duplicate must not keep the socket alive: close it now. */
	close(fd);
}

static void sample(struct run *R)
{
	tf_tcp_sock socks[64], *best = NULL;
	struct in_addr srv;
	size_t n = 0;
	int64_t now = tf_now_ns();
	struct watch *w = &R->w;

	inet_pton(AF_INET, tf_topo_server_addr(R->t), &srv);
	if (tf_host_tcp_sockets(tf_topo_client(R->t),
	                        ~(TF_TCPF(TCP_LISTEN) | TF_TCPF(TCP_TIME_WAIT)), socks,
	                        TF_ARRAY_SIZE(socks), &n) < 0)
		return;
	if (n > TF_ARRAY_SIZE(socks))
		n = TF_ARRAY_SIZE(socks);
	for (size_t i = 0; i < n; i++) {
		tf_tcp_sock *s = &socks[i];

		if (s->flow.dst.s_addr != srv.s_addr)
			continue;
		if (w->have) {
			if (s->flow.sport == w->flow.sport && s->flow.dport == w->flow.dport)
				best = s;
		} else if (s->inode && (!best || s->inode > best->inode)) {
			best = s;  /* the newest socket the client holds */
		}
	}
	if (!w->have) {
		if (!best)
			return;
		w->have = true;
		w->inode = best->inode;
		w->flow = best->flow;
		w->first = *best;
		w->first_ns = now;
		w->at_fault = R->fault_ns >= 0 && now - R->fault_ns < SAMPLE_NS;
		w->gone_ns = -1;
		read_knobs(R);
	}
	if (!best) {
		if (w->gone_ns < 0)
			w->gone_ns = now;
		return;
	}
	w->state = best->state;
	if (best->timer && best->timer < 8 && best->timer_count > 0)
		w->timers |= 1u << best->timer;
	if (best->timer_count > w->max_count)
		w->max_count = best->timer_count;
}

/* --- the model --- */

/* The runner's rule (tf_slack_us()): one jiffy, as a timer's softirq can
 * be deferred to the next tick, plus 2 ms for wake-up and capture; added
 * to each side of the model's band.  TF_SLACK_US overrides. */
static int64_t slack_us(unsigned hz)
{
	const char *e = getenv("TF_SLACK_US");
	long v;

	if (e && tf_parse_long(e, 0, 10000000, &v) == 0)
		return v;
	return (hz ? 1000000 / hz : 10000) + 2000;
}

static int64_t exit_allowance_us(void)
{
	const char *e = getenv("TF_EXEC_EXIT_MS");
	long v;

	return (e && tf_parse_long(e, 0, 100000, &v) == 0 ? v : EXIT_ALLOWANCE_MS) * 1000;
}

/* A model with HZ and the client host's sysctls, then the socket's own
 * options when we could read them. */
static int model_for_client(struct run *R, tf_model **ret)
{
	tf_host *h = tf_topo_client(R->t);
	tf_model *m = NULL;
	long v, idle = 7200, intvl = 75, cnt = 9;
	int r;

	if ((r = tf_model_new(&m)) < 0)
		return r;
	if ((r = tf_model_set_hz(m, R->hz)) < 0)
		goto fail;
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_retries2", &v) == 0 &&
	    (r = tf_model_set_retries2(m, (unsigned)v)) < 0)
		goto fail;
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_early_retrans", &v) == 0 &&
	    (r = tf_model_set_early_retrans(m, (int)v)) < 0)
		goto fail;
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_rto_min_us", &v) == 0 &&
	    (r = tf_model_set_rto_min_us(m, (uint32_t)v)) < 0)
		goto fail;
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_rto_max_ms", &v) == 0) {
		if ((r = tf_model_set_rto_max_ms(m, (uint32_t)v)) < 0 ||
		    (r = tf_model_set_rto_max_in_budget(m, true)) < 0)
			goto fail;
	}
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_syn_retries", &v) == 0 &&
	    (r = tf_model_set_syn_retries(m, (unsigned)v)) < 0)
		goto fail;
	if (tf_host_sysctl_get_int(h, "net.ipv4.tcp_syn_linear_timeouts", &v) == 0 &&
	    (r = tf_model_set_syn_linear_timeouts(m, (int)v)) < 0)
		goto fail;
	tf_host_sysctl_get_int(h, "net.ipv4.tcp_keepalive_time", &idle);
	tf_host_sysctl_get_int(h, "net.ipv4.tcp_keepalive_intvl", &intvl);
	tf_host_sysctl_get_int(h, "net.ipv4.tcp_keepalive_probes", &cnt);
	if (R->w.knobs) {
		/* getsockopt() answers the effective values (the socket's own, or
		 * the sysctl's when it has none). */
		idle = R->w.ka_idle;
		intvl = R->w.ka_intvl;
		cnt = R->w.ka_cnt;
		if ((r = tf_model_set_syn_retries(m, (unsigned)R->w.syncnt)) < 0)
			goto fail;
		if (R->w.user_timeout_ms > 0 &&
		    (r = tf_model_set_user_timeout_ms(m, (uint32_t)R->w.user_timeout_ms)) < 0)
			goto fail;
		if (R->w.rto_max_ms > 0 && (r = tf_model_set_rto_max_ms(m, (uint32_t)R->w.rto_max_ms)) < 0)
			goto fail;
	}
	if ((r = tf_model_set_keepalive(m, (uint32_t)idle, (uint32_t)intvl, (unsigned)cnt)) < 0)
		goto fail;
	if (R->w.have && R->w.first.has_info && R->w.first.info.tcpi_rtt) {
		/* (A connecting socket has no RTT sample yet: srtt 0.) */
		const struct tcp_info *ti = &R->w.first.info;
		if ((r = tf_model_set_rtt(m, ti->tcpi_rtt, ti->tcpi_rttvar)) < 0)
			goto fail;
		if (ti->tcpi_unacked > 1 && (r = tf_model_set_packets_out(m, ti->tcpi_unacked)) < 0)
			goto fail;
	}
	/* A pulled cable: the next hop's ARP fails, the error is EHOSTUNREACH. */
	if (R->o->fault->kind == FK_CABLE && (r = tf_model_set_neigh_failed(m, true)) < 0)
		goto fail;
	*ret = m;
	return 0;
fail:
	tf_model_free(m);
	return r;
}

enum mkind { MK_NONE, MK_RETRANS, MK_SYN, MK_KEEPALIVE, MK_NEVER, MK_NA };

struct mresult {
	enum mkind kind;
	const char *why;             /* for MK_NA / MK_NEVER */
	int64_t origin_ns;
	const char *origin_what;
	bool origin_approx;
	long tx_expected, tx_measured;
	int64_t at_us, lo_us, hi_us; /* give-up after the origin */
	int err;                     /* the errno the model expects */
	unsigned packets_out;        /* segments in flight when the data was lost (0: unknown) */
	int64_t rst_ns;              /* the client's RST on the wire (keepalive give-up), or -1 */
	bool have;
};

static const char *mkind_name(enum mkind k)
{
	switch (k) {
	case MK_RETRANS: return "retrans";
	case MK_SYN: return "syn";
	case MK_KEEPALIVE: return "keepalive";
	case MK_NEVER: return "never";
	case MK_NA: return "not applicable";
	default: return "none";
	}
}

static bool pkt_in(const tf_pkt *p, const tf_flow *f)
{
	return p->proto == IPPROTO_TCP && p->src.s_addr == f->src.s_addr &&
	       p->dst.s_addr == f->dst.s_addr && p->sport == f->sport && p->dport == f->dport;
}

/*
 * From the capture of the watched flow: the highest ACK the server sent
 * (the client's snd_una), and the last segment the client received before
 * its first keepalive probe (a segment at snd_una - 1 carrying at most one
 * byte, tcp_write_wakeup()): where keepalive_time_elapsed() counts from.
 */
static bool last_ack(const struct run *R, const tf_flow *f, uint32_t *ack, int64_t *last_rx_ns)
{
	tf_flow rf = tf_flow_reverse(*f);
	bool have = false;
	size_t n = tf_capture_count(R->cap);

	*last_rx_ns = -1;
	for (size_t i = 0; i < n; i++) {
		const tf_pkt *p = tf_capture_pkt(R->cap, i);

		if (!pkt_in(p, &rf) || !(p->flags & TF_TCP_ACK))
			continue;
		if (!have || (int32_t)(p->ack - *ack) > 0)
			*ack = p->ack;
		have = true;
	}
	for (size_t i = 0; have && i < n; i++) {
		const tf_pkt *p = tf_capture_pkt(R->cap, i);

		if (pkt_in(p, &rf))
			*last_rx_ns = p->ts_ns;
		else if (pkt_in(p, f) && p->seq == *ack - 1 && p->payload <= 1 &&
		         !(p->flags & (TF_TCP_SYN | TF_TCP_FIN | TF_TCP_RST)))
			break;   /* the first keepalive probe */
	}
	return have;
}

/*
 * Segments in flight (tcp_skb_pcount() summed: bytes / MSS, rounded up)
 * when the head was first retransmitted: what tcp_schedule_loss_probe()
 * saw.  It picks the probe timeout: one segment out waits rto_min, more
 * wait TCP_TIMEOUT_MIN (net/ipv4/tcp_output.c) — a knob, like srtt.
 */
static unsigned in_flight(const struct run *R, const tf_flow *f, uint32_t una, int64_t before_ns)
{
	uint32_t far = 0;
	unsigned mss = R->w.first.has_info && R->w.first.info.tcpi_snd_mss ?
	               R->w.first.info.tcpi_snd_mss : 1448;

	for (size_t i = 0; i < tf_capture_count(R->cap); i++) {
		const tf_pkt *p = tf_capture_pkt(R->cap, i);
		uint32_t end;

		if (p->ts_ns >= before_ns)
			break;
		if (p->proto != IPPROTO_TCP || p->src.s_addr != f->src.s_addr ||
		    p->dst.s_addr != f->dst.s_addr || p->sport != f->sport ||
		    p->dport != f->dport || !p->payload)
			continue;
		end = p->seq + p->payload - una;
		if ((int32_t)end > 0 && end > far)
			far = end;
	}
	return far ? (far + mss - 1) / mss : 1;
}

/* Which of the kernel's schedules ran after the fault, from where. */
static void model_decide(struct run *R, struct mresult *M)
{
	const struct watch *w = &R->w;
	enum fault_kind fk = R->o->fault->kind;
	size_t idx[256];

	memset(M, 0, sizeof *M);
	M->rst_ns = -1;
	M->origin_ns = R->fault_ns;
	M->origin_what = "the fault";
	if (fk == FK_KILL) {
		M->kind = MK_NA;
		M->why = "the server's kernel answers (FIN, then RST): no timer decides";
		return;
	}
	if (fk == FK_STOP) {
		M->kind = MK_NA;
		M->why = "the server's kernel still ACKs: TCP sees a healthy, silent peer";
		return;
	}
	if (fk == FK_LOSS || fk == FK_DELAY || fk == FK_NONE) {
		M->kind = MK_NA;
		M->why = fk == FK_NONE ? "no fault" : "loss and delay do not end a connection";
		return;
	}
	if (!w->have) {
		M->kind = MK_NA;
		M->why = "the client had no connection to the server after the fault";
		return;
	}
	if (w->first.state == TCP_SYN_SENT) {
		M->kind = MK_SYN;
	} else if (w->first.state == TCP_ESTABLISHED || w->first.state == TCP_CLOSE_WAIT) {
		/* Data outstanding at the fault, or retransmitted later (an idle
		 * client that spoke again): the retransmission timer decides. */
		if ((w->timers & (1u << 1)) ||
		    (w->first.has_info && w->first.info.tcpi_unacked > 0))
			M->kind = MK_RETRANS;
		else if (w->first.timer == 4 || (w->timers & (1u << 4))) {
			M->kind = MK_NA;
			M->why = "not modelled: the client's data was waiting for the receive window "
			         "(zero-window probes, tcp_probe_timer())";
			return;
		} else if (w->first.wqueue > 0)
			M->kind = MK_RETRANS;
		else if ((w->timers & (1u << 2)) || (w->knobs && w->keepalive) ||
		         (!w->knobs && w->first.timer == 2))
			M->kind = MK_KEEPALIVE;
		else
			M->kind = MK_NEVER;
	} else {
		M->kind = MK_NA;
		M->why = "the client's connection was neither connecting nor established at the fault";
		return;
	}
	enum mkind k = M->kind;
	if (fk == FK_CABLE && k == MK_RETRANS) {
		/* Measured here: with the link without carrier, transmissions
		 * fail locally (ARP) and the timer stops following a silent
		 * peer's schedule; tf_model covers keepalive under a pulled
		 * cable, not this. */
		M->kind = MK_NA;
		M->why = "not modelled: data in flight while the client's own link has no carrier "
		         "(local transmit failures change the retransmission timer)";
		return;
	}
	if (fk == FK_MTU && k == MK_KEEPALIVE) {
		M->kind = MK_NA;
		M->why = "keepalive probes are small: they cross the MTU black hole and are answered";
		return;
	}
	if (k == MK_NEVER) {
		M->why = "idle, without keepalive: no timer runs, the kernel never notices";
		return;
	}

	/* The origin of the schedule, from the capture when it saw it. */
	M->origin_approx = true;
	if (R->cap) {
		if (k == MK_SYN) {
			size_t n = tf_capture_syns(R->cap, &w->flow, idx, TF_ARRAY_SIZE(idx));
			if (n) {
				M->origin_ns = tf_capture_pkt(R->cap, idx[0])->ts_ns;
				M->origin_what = "the first SYN";
				M->origin_approx = false;
				M->tx_measured = (long)n;
			}
		} else {
			uint32_t una = 0;
			int64_t last_rx = -1;
			if (last_ack(R, &w->flow, &una, &last_rx)) {
				if (k == MK_RETRANS) {
					size_t n = tf_capture_tx_of(R->cap, &w->flow, una, idx,
					                            TF_ARRAY_SIZE(idx));
					if (n) {
						M->origin_ns = tf_capture_pkt(R->cap, idx[0])->ts_ns;
						M->origin_what = "the first transmission of the "
						                 "unacknowledged data";
						M->origin_approx = false;
						M->tx_measured = (long)n;
						M->packets_out = in_flight(R, &w->flow, una,
						        n > 1 ? tf_capture_pkt(R->cap, idx[1])->ts_ns
						              : INT64_MAX);
					}
				} else if (k == MK_KEEPALIVE && last_rx >= 0) {
					M->origin_ns = last_rx;
					M->origin_what = "the last segment the client received";
					M->origin_approx = false;
				}
				/* Giving up on keepalive sends a RST (tcp_keepalive_timer()
				 * -> tcp_send_active_reset()): the kernel's own moment. */
				for (size_t i = 0; k == MK_KEEPALIVE && i < tf_capture_count(R->cap); i++) {
					const tf_pkt *p = tf_capture_pkt(R->cap, i);
					if (pkt_in(p, &w->flow) && (p->flags & TF_TCP_RST) &&
					    p->ts_ns >= R->fault_ns) {
						M->rst_ns = p->ts_ns;
						break;
					}
				}
			}
		}
	}
	if (M->origin_approx && k == MK_KEEPALIVE && w->first.has_info) {
		/* tcpi_last_ack_recv: ms since the last ACK the socket received. */
		M->origin_ns = w->first_ns - (int64_t)w->first.info.tcpi_last_ack_recv * MS;
		M->origin_what = "the last segment received (tcp_info)";
	}
}

static void model_compute(struct run *R, struct mresult *M)
{
	tf_schedule *s = NULL;
	int r;

	if (!R->m && model_for_client(R, &R->m) < 0)
		return;
	if (M->packets_out)
		tf_model_set_packets_out(R->m, M->packets_out);
	switch (M->kind) {
	case MK_RETRANS:   r = tf_model_retrans(R->m, &s); break;
	case MK_SYN:       r = tf_model_syn(R->m, &s); break;
	case MK_KEEPALIVE: r = tf_model_keepalive(R->m, &s); break;
	default: return;
	}
	if (r == -EOPNOTSUPP) {
		M->why = M->kind == MK_SYN && R->o->fault->kind == FK_CABLE
		         ? "not modelled: a connecting socket ends at the first ICMP host unreachable "
		           "of a failed ARP, after the neighbour's resolution time"
		         : "not modelled by tf_model for these knobs";
		M->kind = MK_NA;
		return;
	}
	if (r < 0 || !s) {
		M->why = "the model refused the knobs";
		M->kind = MK_NA;
		return;
	}
	size_t g = tf_schedule_giveup(s);
	const tf_sched_event *e = tf_schedule_event(s, g);
	if (e && e->kind == TF_TX_GIVEUP) {
		M->at_us = e->at_us;
		M->lo_us = e->at_lo_us;
		M->hi_us = e->at_hi_us;
		M->err = tf_schedule_errno(s);
		/* Transmissions of the head segment (or the SYN): the tail
		 * loss probe resends the head only when it is the only one
		 * out; keepalive probes are not counted. */
		M->tx_expected = 0;
		for (size_t i = 0; i < g && M->kind != MK_KEEPALIVE; i++) {
			tf_tx_kind kk = tf_schedule_event(s, i)->kind;
			if (kk == TF_TX_ORIGINAL || kk == TF_TX_RTO || kk == TF_TX_SYN ||
			    kk == TF_TX_SYN_RTO || (kk == TF_TX_TLP && M->packets_out <= 1))
				M->tx_expected++;
		}
		M->have = true;
	}
	tf_schedule_free(s);
}

/* Before anything happened: a rough upper bound for the deadline. */
static int64_t model_predict_hi_us(struct run *R)
{
	struct mresult M;

	model_decide(R, &M);
	if (M.kind == MK_NA || M.kind == MK_NEVER || M.kind == MK_NONE)
		return -1;
	model_compute(R, &M);
	return M.have ? M.hi_us : -1;
}

/* ------------------------------------------------------------------ faults */

static int add_fault(struct run *R, int r, tf_fault *f)
{
	if (r < 0)
		return r;
	R->faults[R->n_faults++] = f;
	if (R->fault_desc[0])
		strncat(R->fault_desc, "; ", sizeof R->fault_desc - strlen(R->fault_desc) - 1);
	strncat(R->fault_desc, tf_fault_describe(f), sizeof R->fault_desc - strlen(R->fault_desc) - 1);
	return 0;
}

static int netem_both(struct run *R, const tf_netem *ne)
{
	tf_fault *f = NULL;
	tf_host *a, *b;
	const char *ia, *ib;
	int r;

	if (tf_topo_router(R->t)) {
		a = b = tf_topo_router(R->t);
		ia = TF_IF_ROUTER_CLIENT;
		ib = TF_IF_ROUTER_SERVER;
	} else {
		a = tf_topo_client(R->t);
		b = tf_topo_server(R->t);
		ia = TF_IF_CLIENT;
		ib = TF_IF_SERVER;
	}
	r = tf_fault_netem(a, ia, ne, &f);
	if ((r = add_fault(R, r, f)) < 0)
		return r;
	r = tf_fault_netem(b, ib, ne, &f);
	return add_fault(R, r, f);
}

static int netem_params(const struct opts *o, double loss, tf_netem **ret)
{
	tf_netem *ne = NULL;
	int r = tf_netem_new(&ne);

	if (r < 0)
		return r;
	if (o->fault->kind == FK_DELAY)
		r = tf_netem_set_delay(ne, o->delay_ms * 1000u);
	else
		r = tf_netem_set_loss(ne, loss);
	if (r < 0) {
		tf_netem_free(ne);
		return r;
	}
	*ret = ne;
	return 0;
}

static int blackhole_both(struct run *R)
{
	tf_host *router = tf_topo_router(R->t);
	char client_cidr[32];
	tf_fault *f = NULL;
	int r;

	snprintf(client_cidr, sizeof client_cidr, "%s/32", tf_topo_client_addr(R->t));
	r = tf_fault_blackhole(router, tf_topo_server_cidr(R->t), &f);
	if ((r = add_fault(R, r, f)) < 0)
		return r;
	r = tf_fault_blackhole(router, client_cidr, &f);
	return add_fault(R, r, f);
}

static int inject(struct run *R)
{
	const struct opts *o = R->o;
	tf_host *router = tf_topo_router(R->t);
	tf_fault *f = NULL;
	tf_netem *ne = NULL;
	int r = 0;

	switch (o->fault->kind) {
	case FK_NONE:
		snprintf(R->fault_desc, sizeof R->fault_desc, "none");
		break;
	case FK_BLACKHOLE:
		r = blackhole_both(R);
		break;
	case FK_CABLE:
		/* The client's cable, pulled at the far end: the client's own
		 * link stays up but loses carrier, as with a switch port. */
		if (router)
			r = tf_fault_link_down(router, TF_IF_ROUTER_CLIENT, &f);
		else
			r = tf_fault_link_down(tf_topo_server(R->t), TF_IF_SERVER, &f);
		r = add_fault(R, r, f);
		break;
	case FK_MTU:
		/* ICMP first, so no "fragmentation needed" escapes. */
		r = tf_fault_icmp_block(router, &f);
		if ((r = add_fault(R, r, f)) < 0)
			break;
		r = tf_fault_mtu(router, TF_IF_ROUTER_CLIENT, o->mtu, &f);
		if ((r = add_fault(R, r, f)) < 0)
			break;
		r = tf_fault_mtu(router, TF_IF_ROUTER_SERVER, o->mtu, &f);
		r = add_fault(R, r, f);
		break;
	case FK_LOSS:
	case FK_DELAY:
		r = netem_params(o, o->loss_pct, &ne);
		if (r >= 0)
			r = netem_both(R, ne);
		tf_netem_free(ne);
		break;
	case FK_KILL:
		r = tf_proc_signal(R->server, SIGKILL);
		snprintf(R->fault_desc, sizeof R->fault_desc, "SIGKILL to the server's processes");
		break;
	case FK_VANISH:
		/* Silence first: whatever the dying server's kernel sends
		 * (FIN, RST) is dropped by the router. */
		r = blackhole_both(R);
		if (r >= 0 && R->server && !R->server_done) {
			r = tf_proc_signal(R->server, SIGKILL);
			strncat(R->fault_desc, "; SIGKILL to the server's processes",
			        sizeof R->fault_desc - strlen(R->fault_desc) - 1);
		}
		break;
	case FK_STOP:
		r = tf_proc_signal(R->server, SIGSTOP);
		snprintf(R->fault_desc, sizeof R->fault_desc, "SIGSTOP to the server's processes");
		break;
	}
	R->fault_ns = tf_now_ns();
	R->fault_mono = tf_mono_ns();
	R->fault_done = true;
	if (r < 0) {
		R->fault_failed = true;
		snprintf(R->message, sizeof R->message, "could not inject the fault '%s': %s",
		         o->fault_text, strerror(-r));
	}
	return r;
}

static int heal(struct run *R)
{
	int r = 0, e;

	for (size_t i = R->n_faults; i-- > 0;)
		if ((e = tf_fault_heal(R->faults[i])) < 0 && r == 0)
			r = e;
	if (R->o->fault->kind == FK_STOP && (e = tf_proc_signal(R->server, SIGCONT)) < 0 && r == 0)
		r = e;
	R->heal_ns = tf_now_ns();
	R->healed = true;
	if (r < 0)
		snprintf(R->message, sizeof R->message, "could not heal the fault: %s", strerror(-r));
	return r;
}

/* Is sch_netem here?  Try it on the link the fault will use, then undo. */
static int probe_netem(struct run *R)
{
	tf_netem *ne = NULL;
	tf_fault *f = NULL;
	tf_host *h = tf_topo_router(R->t) ? tf_topo_router(R->t) : tf_topo_client(R->t);
	const char *ifn = tf_topo_router(R->t) ? TF_IF_ROUTER_SERVER : TF_IF_CLIENT;
	int r = netem_params(R->o, 0.0, &ne);

	if (r == -EINVAL && R->o->fault->kind == FK_LOSS) {
		/* loss 0 may be refused as "no fault": probe with the real one */
		r = netem_params(R->o, R->o->loss_pct, &ne);
	}
	if (r < 0)
		return r;
	r = tf_fault_netem(h, ifn, ne, &f);
	tf_netem_free(ne);
	if (r >= 0) {
		tf_fault_heal(f);
		tf_fault_free(f);
	}
	return r;
}

/* ------------------------------------------------------------------ YAML */

/*
 * Block YAML only: prove's YAMLish reader has no flow collections ({a: b},
 * [a, b]), no multi-line quoted scalars and no indentation indicators (|2).
 * Every scalar that can hold outside text is double-quoted on one line.
 */
static void yq(const char *s)
{
	char *c = text_dup(s ? s : "", s ? strlen(s) : 0, TX_QUOTED);

	printf("\"%s\"", c ? c : "");
	free(c);
}

static void ykv(int ind, const char *key, const char *val)
{
	printf("%*s%s: ", ind, "", key);
	yq(val);
	putchar('\n');
}

/* Output lines (already cleaned, TX_LINE) as a literal block.  A block
 * takes its indentation from its first line: one that starts with blanks
 * would need "|2", which YAMLish does not read; such output goes in one
 * quoted scalar instead. */
static void yblock(int ind, const char *key, const struct lines *L)
{
	bool more = L->total > L->n;
	const char *first = L->n ? lines_get(L, 0) : "";

	if (!L->n)
		return;
	if (!more && (first[0] == ' ' || first[0] == '\t')) {
		printf("%*s%s: \"", ind, "", key);
		for (size_t i = 0; i < L->n; i++) {
			char *c = text_dup(lines_get(L, i), strlen(lines_get(L, i)), TX_QUOTED);
			printf("%s\\n", c ? c : "");
			free(c);
		}
		printf("\"\n");
		return;
	}
	printf("%*s%s: |\n", ind, "", key);
	if (more)
		printf("%*s[... %zu earlier lines]\n", ind + 2, "", L->total - L->n);
	for (size_t i = 0; i < L->n; i++)
		printf("%*s%s\n", ind + 2, "", lines_get(L, i));
}

static double s_of(int64_t ns) { return (double)ns / 1e9; }

/* ------------------------------------------------------------------ main loop */

enum { PH_WAIT_SERVER, PH_RUN };

static void after_inject(struct run *R);

static bool server_listening(struct run *R)
{
	tf_tcp_sock socks[64];
	size_t n = 0;

	if (tf_host_tcp_sockets(tf_topo_server(R->t), TF_TCPF(TCP_LISTEN), socks,
	                        TF_ARRAY_SIZE(socks), &n) < 0)
		return false;
	if (R->o->wait_port < 0)
		return n > 0;
	for (size_t i = 0; i < n && i < TF_ARRAY_SIZE(socks); i++)
		if (socks[i].flow.sport == R->o->wait_port)
			return true;
	return false;
}

/*
 * One loop for both phases: everything is an fd.  Returns 0 when the phase
 * ended normally, -1 on interruption.
 */
static int loop(struct run *R, int phase)
{
	const struct opts *o = R->o;
	int64_t next_probe = 0, probe_ns = 5 * MS;

	for (;;) {
		int64_t now = tf_mono_ns(), wake = R->deadline_mono;
		struct pollfd pf[8];
		tf_proc *procs[2] = { R->client, R->server };
		int map[8], n = 0, r;

		if (R->interrupted)
			return -1;
		if (phase == PH_WAIT_SERVER) {
			if (R->server_done)
				return 0;
			if (now >= next_probe) {
				if (server_listening(R))
					return 0;
				/* 5 ms, backing off to 100 ms: a sample, not a guess. */
				next_probe = now + probe_ns;
				probe_ns = probe_ns * 2 > 100 * MS ? 100 * MS : probe_ns * 2;
			}
			if (now >= R->deadline_mono)
				return 0;
			if (next_probe < wake)
				wake = next_probe;
		} else {
			if (!R->fault_done && o->trig == TR_AT && now >= R->client_start_mono + o->at_ns) {
				inject(R);
				if (R->fault_failed)
					return 0;
				after_inject(R);
				continue;
			}
			if (R->fault_done && o->heal_after_ns >= 0 && !R->healed &&
			    now >= R->fault_mono + o->heal_after_ns) {
				heal(R);
				continue;
			}
			if (R->fault_done && !R->client_done && now >= R->next_sample_mono) {
				sample(R);
				R->next_sample_mono = now + SAMPLE_NS;
			}
			if (R->client_done || now >= R->deadline_mono)
				return 0;
			if (R->fault_done) {
				int64_t end = -1;
				if (o->running_ns >= 0)
					end = R->fault_mono + o->running_ns;
				else if (o->exit_within_ns >= 0 && !o->expect_model)
					end = R->fault_mono + o->exit_within_ns;
				if (end >= 0 && now >= end)
					return 0;
				if (end >= 0 && end < wake)
					wake = end;
				if (o->heal_after_ns >= 0 && !R->healed &&
				    R->fault_mono + o->heal_after_ns < wake)
					wake = R->fault_mono + o->heal_after_ns;
				if (!R->client_done && R->next_sample_mono < wake)
					wake = R->next_sample_mono;
			} else if (o->trig == TR_AT && R->client_start_mono + o->at_ns < wake) {
				wake = R->client_start_mono + o->at_ns;
			}
		}

		pf[n] = (struct pollfd){ .fd = R->sigfd, .events = POLLIN };
		map[n++] = 0;
		for (int who = 0; who < 2; who++) {
			if (!procs[who])
				continue;
			for (int s = 1; s <= 2; s++)
				if (tf_proc_stdio_fd(procs[who], s) >= 0) {
					pf[n] = (struct pollfd){ .fd = tf_proc_stdio_fd(procs[who], s),
					                         .events = POLLIN };
					map[n++] = 10 * (who + 1) + s;
				}
			if (!(who == 0 ? R->client_done : R->server_done)) {
				pf[n] = (struct pollfd){ .fd = tf_proc_pidfd(procs[who]), .events = POLLIN };
				map[n++] = 10 * (who + 1);
			}
		}
		if (R->cap && phase == PH_RUN) {
			pf[n] = (struct pollfd){ .fd = tf_capture_fd(R->cap), .events = POLLIN };
			map[n++] = 3;
		}
		int64_t left = wake - tf_mono_ns();
		r = poll(pf, (nfds_t)n, left <= 0 ? 0 : (int)((left + MS - 1) / MS));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		bool fire = false;
		for (int i = 0; i < n; i++) {
			if (!pf[i].revents)
				continue;
			int who = map[i] / 10 - 1, what = map[i] % 10;
			if (map[i] == 0) {
				struct signalfd_siginfo si;
				if (read(R->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
					R->interrupted = true;
					snprintf(R->message, sizeof R->message, "interrupted by %s",
					         signame((int)si.ssi_signo));
				}
			} else if (map[i] == 3) {
				fire |= capture_events(R);
			} else if (what == 0) {
				int st = 0;
				if (tf_proc_wait(procs[who], 0, &st) == 0) {
					if (who == 0) {
						R->client_done = true;
						R->client_status = st;
						R->client_exit_ns = tf_proc_exit_ns(procs[who]);
					} else {
						R->server_done = true;
						R->server_status = st;
						R->server_exit_ns = tf_proc_exit_ns(procs[who]);
					}
				}
			} else {
				fire |= drain_output(R, who, what);
			}
		}
		if (phase == PH_RUN && !R->fault_done && fire && o->trig != TR_AT && !R->client_done) {
			inject(R);
			if (R->fault_failed)
				return 0;
			after_inject(R);
		}
	}
}

/* Right after the fault: look at the client's socket; with --model and no
 * --timeout, wait as long as the model says the kernel may hang. */
static void after_inject(struct run *R)
{
	sample(R);
	R->next_sample_mono = tf_mono_ns() + SAMPLE_NS;
	if (!R->o->timeout_given && (R->o->model || R->o->expect_model)) {
		int64_t hi = model_predict_hi_us(R);
		if (hi > 0 && R->fault_mono + hi * 1000 + 10 * NS > R->deadline_mono)
			R->deadline_mono = R->fault_mono + hi * 1000 + 10 * NS;
	}
}

/* Drain what the programs still had to say (after they exited). */
static void drain_all(struct run *R)
{
	for (int who = 0; who < 2; who++) {
		tf_proc *p = who == 0 ? R->client : R->server;
		if (!p)
			continue;
		for (int s = 1; s <= 2; s++)
			drain_output(R, who, s);
	}
}

/* ------------------------------------------------------------------ report */

/* One check: what it asks, then "key: value" lines (values are numbers or
 * quoted by check_str()), shown as a block mapping. */
struct check {
	char what[256];
	char kv[512];
	bool ok;
};

static void check_num(struct check *k, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check_num(struct check *k, const char *key, const char *fmt, ...)
{
	size_t l = strlen(k->kv);
	va_list ap;

	snprintf(k->kv + l, sizeof k->kv - l, "%s: ", key);
	l = strlen(k->kv);
	va_start(ap, fmt);
	vsnprintf(k->kv + l, sizeof k->kv - l, fmt, ap);
	va_end(ap);
	l = strlen(k->kv);
	snprintf(k->kv + l, sizeof k->kv - l, "\n");
}

static void check_str(struct check *k, const char *key, const char *val)
{
	char *c = text_dup(val, strlen(val), TX_QUOTED);

	check_num(k, key, "\"%s\"", c ? c : "");
	free(c);
}

static void print_result(struct run *R, bool ok, const char *skip, const char *desc,
                         struct check *checks, size_t n_checks, const struct mresult *M)
{
	const struct opts *o = R->o;
	char buf[128];
	char *d = text_dup(desc, strlen(desc), TX_TAP);
	char *k = text_dup(R->kernel, strlen(R->kernel), TX_LINE);

	printf("TAP version 13\n1..1\n");
	printf("# tcpfate exec on Linux %s (HZ=%u) as uid %u\n", k ? k : "", R->hz, R->uid);
	if (skip) {
		char *w = text_dup(skip, strlen(skip), TX_TAP);
		printf("ok 1 - %s # SKIP %s\n", d ? d : "", w ? w : "");
		free(w);
	} else {
		printf("%s 1 - %s\n", ok ? "ok" : "not ok", d ? d : "");
	}
	free(d);
	free(k);
	printf("  ---\n");
	printf("  duration_ms: %.1f\n", (double)(tf_now_ns() - R->t0_ns) / 1e6);
	ykv(2, "kernel", R->kernel);
	printf("  hz: %u\n", R->hz);
	if (R->t)
		ykv(2, "sandbox", R->userns ? "user namespace (unprivileged path)"
		                            : "network namespaces as root");
	ykv(2, "topology", o->shape_name);
	if (o->server_cmd)
		ykv(2, "server", o->server_cmd);
	ykv(2, "client", o->client_text);
	if (o->n_sysctl) {
		printf("  client_sysctls:\n");
		for (size_t i = 0; i < o->n_sysctl; i++) {
			printf("    - ");
			yq(o->sysctl[i]);
			putchar('\n');
		}
	}
	ykv(2, "fault", o->fault_text);
	if (R->fault_desc[0])
		ykv(2, "fault_applied", R->fault_desc);
	ykv(2, "trigger", o->trig == TR_AT ? "at" : o->trig_text);
	if (o->trig == TR_AT)
		printf("  at_s: %.3f\n", s_of(o->at_ns));
	if (skip || !R->client)
		goto tail;
	if (R->fault_done)
		printf("  fault_at_s: %.3f  # after the client started\n",
		       s_of(R->fault_ns - R->client_start_ns));
	if (R->healed)
		printf("  healed_at_s: %.3f  # after the fault\n", s_of(R->heal_ns - R->fault_ns));
	if (R->client_done) {
		describe_status(R->client_status, buf, sizeof buf);
		ykv(2, "client_status", buf);
		printf("  client_ran_s: %.3f\n", s_of(R->client_exit_ns - R->client_start_ns));
		if (R->fault_done)
			printf("  detection_s: %.3f  # client exit - fault\n",
			       s_of(R->client_exit_ns - R->fault_ns));
	} else {
		ykv(2, "client_status", "still running (killed by tcpfate)");
		if (R->fault_done)
			printf("  running_after_fault_s: %.3f\n", s_of(R->end_ns - R->fault_ns));
	}
	if (R->w.have) {
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
		const tf_tcp_sock *s = &R->w.first;
		static const char *const timers[] = { "none", "retransmit", "keepalive", "time-wait",
		                                      "zero-window-probe" };

		inet_ntop(AF_INET, &R->w.flow.src, a, sizeof a);
		inet_ntop(AF_INET, &R->w.flow.dst, b, sizeof b);
		printf("  socket:\n");
		printf("    flow: \"%s:%u > %s:%u\"\n", a, R->w.flow.sport, b, R->w.flow.dport);
		printf("    state: %s\n", tf_tcp_state_name(s->state));
		printf("    timer: %s\n", s->timer < TF_ARRAY_SIZE(timers) ? timers[s->timer] : "\"?\"");
		printf("    unacked: %u\n", s->has_info ? s->info.tcpi_unacked : 0);
		printf("    srtt_us: %u\n", s->has_info ? s->info.tcpi_rtt : 0);
		printf("    rttvar_us: %u\n", s->has_info ? s->info.tcpi_rttvar : 0);
		printf("    seen: \"%s\"\n", R->w.at_fault ? "at the fault" : "after the fault");
		if (R->w.knobs) {
			printf("  socket_options:\n");
			printf("    SO_KEEPALIVE: %d\n", R->w.keepalive);
			printf("    TCP_KEEPIDLE: %d\n", R->w.ka_idle);
			printf("    TCP_KEEPINTVL: %d\n", R->w.ka_intvl);
			printf("    TCP_KEEPCNT: %d\n", R->w.ka_cnt);
			printf("    TCP_USER_TIMEOUT: %d\n", R->w.user_timeout_ms);
			printf("    TCP_SYNCNT: %d\n", R->w.syncnt);
		} else if (R->w.knobs_err) {
			printf("  socket_options: \"not readable (%s): the model uses the host's sysctls\"\n",
			       strerror(-R->w.knobs_err));
		}
		if (R->w.gone_ns >= 0 && R->fault_done)
			printf("  socket_gone_s: %.3f  # after the fault (sampled every %lld ms)\n",
			       s_of(R->w.gone_ns - R->fault_ns), SAMPLE_NS / MS);
	}
	if (M && (o->model || o->expect_model)) {
		printf("  model:\n");
		ykv(4, "schedule", mkind_name(M->kind));
		if (M->why)
			ykv(4, "note", M->why);
		if (R->m) {
			long v;
			printf("    knobs:\n");
			printf("      hz: %u\n", R->hz);
			if (tf_host_sysctl_get_int(tf_topo_client(R->t), "net.ipv4.tcp_retries2", &v) == 0)
				printf("      tcp_retries2: %ld\n", v);
			if (tf_host_sysctl_get_int(tf_topo_client(R->t), "net.ipv4.tcp_syn_retries", &v) == 0)
				printf("      tcp_syn_retries: %ld\n", v);
			if (R->w.knobs) {
				printf("      keepalive:\n        - %d\n        - %d\n        - %d\n",
				       R->w.ka_idle, R->w.ka_intvl, R->w.ka_cnt);
				printf("      user_timeout_ms: %d\n", R->w.user_timeout_ms);
				printf("      syncnt: %d\n", R->w.syncnt);
			}
			if (R->w.have && R->w.first.has_info) {
				printf("      srtt_us: %u\n", R->w.first.info.tcpi_rtt);
				printf("      rttvar_us: %u\n", R->w.first.info.tcpi_rttvar);
				printf("      rto_jiffies: %u\n", tf_model_rto_jiffies(R->m));
			}
			if (M->packets_out)
				printf("      packets_out: %u\n", M->packets_out);
		}
		printf("    slack_us: %lld  # %s, on each side of the band\n",
		       (long long)slack_us(R->hz), getenv("TF_SLACK_US") ? "TF_SLACK_US" : "1 jiffy + 2 ms");
		printf("    exit_allowance_ms: %lld  # model give-up to the client's exit, late side\n",
		       (long long)exit_allowance_us() / 1000);
		if (M->have) {
			ykv(4, "origin", M->origin_what);
			printf("    origin_s: %+.3f  # relative to the fault%s\n",
			       s_of(M->origin_ns - R->fault_ns),
			       M->origin_approx ? " (approximate: not seen on the wire)" : "");
			printf("    giveup_after_origin_s:\n");
			printf("      expected: %.3f\n", (double)M->at_us / 1e6);
			printf("      lo: %.3f\n", (double)M->lo_us / 1e6);
			printf("      hi: %.3f\n", (double)M->hi_us / 1e6);
			if (R->client_done)
				printf("      measured: %.3f\n", s_of(R->client_exit_ns - M->origin_ns));
			if (M->rst_ns >= 0)
				printf("    rst_on_wire_s: %.3f  # the kernel gave up (its RST), after the origin\n",
				       s_of(M->rst_ns - M->origin_ns));
			printf("    expected_detection_s: %.3f  # model give-up - fault\n",
			       s_of(M->origin_ns + M->at_us * 1000 - R->fault_ns));
			ykv(4, "expected_errno", M->err ? strerrorname_np(M->err) : "0");
			if (M->tx_expected)
				printf("    transmissions:\n      expected: %ld\n      measured: %ld\n",
				       M->tx_expected, M->tx_measured);
			if (R->healed && R->heal_ns < M->origin_ns + M->at_us * 1000)
				ykv(4, "heal", "healed before the model's give-up: the connection should survive");
		}
	}
	if (n_checks) {
		printf("  checks:\n");
		for (size_t i = 0; i < n_checks; i++) {
			const char *l = checks[i].kv;

			printf("    - what: ");
			yq(checks[i].what);
			putchar('\n');
			while (*l) {
				const char *nl = strchr(l, '\n');
				size_t n = nl ? (size_t)(nl - l) : strlen(l);
				printf("      %.*s\n", (int)n, l);
				l += n + (nl ? 1 : 0);
			}
			printf("      ok: %s\n", checks[i].ok ? "true" : "false");
		}
	}
tail:
	if (R->message[0])
		ykv(2, "message", R->message);
	if (R->cap_err)
		ykv(2, "capture", R->cap_err);
	if (o->pcap && R->cap)
		ykv(2, "pcap", R->pcap_err[0] ? R->pcap_err : o->pcap);
	if (R->client)
		yblock(2, "client_output", &R->lout[0]);
	if (R->server && (!ok || o->verbose)) {
		if (R->server_done) {
			describe_status(R->server_status, buf, sizeof buf);
			ykv(2, "server_status", buf);
		}
		yblock(2, "server_output", &R->lout[1]);
	}
	printf("  ...\n");
	fflush(stdout);
}

/* ------------------------------------------------------------------ set-up */

static int start_proc(struct run *R, tf_host *h, const char *cmd, char **argv, const char *name,
                      struct lines *L, tf_proc **ret)
{
	tf_proc *p = NULL;
	int r = cmd ? tf_proc_new_shell(h, cmd, &p) : tf_proc_new(h, argv, &p);

	if (r < 0) {
		bad("cannot prepare the %s: %s", name, strerror(-r));
		return r;
	}
	if ((r = tf_proc_set_topo_names(p, R->t)) < 0 || (r = tf_proc_set_hostname(p, name)) < 0 ||
	    (r = tf_proc_set_stdio(p, STDOUT_FILENO, TF_PROC_PIPE)) < 0 ||
	    (r = tf_proc_set_stdio(p, STDERR_FILENO, TF_PROC_PIPE)) < 0) {
		bad("cannot prepare the %s: %s", name, strerror(-r));
		tf_proc_free(p);
		return r;
	}
	r = tf_proc_start(p);
	if (r < 0) {
		bad("cannot start the %s: %s", name, tf_proc_error(p));
		tf_proc_free(p);
		return r;
	}
	L->who = name;
	L->verbose = R->o->verbose;
	*ret = p;
	return 0;
}

static void print_lines_stderr(const char *who, const struct lines *L)
{
	for (size_t i = 0; i < L->n; i++)
		fprintf(stderr, "  %s| %s\n", who, lines_get(L, i));
}

static int run(struct run *R)
{
	const struct opts *o = R->o;
	struct check checks[8] = { 0 };
	size_t nc = 0;
	struct mresult M = { 0 };
	char desc[1100], why[512], st[64];
	sigset_t sigs;
	int r;

	R->t0_ns = tf_now_ns();
	R->t0_mono = tf_mono_ns();
	R->uid = (unsigned)getuid();
	R->fault_ns = R->heal_ns = R->client_exit_ns = R->server_exit_ns = -1;
	R->w.gone_ns = -1;
	tf_kernel_release(R->kernel, sizeof R->kernel);
	if (tf_kernel_hz(&R->hz) < 0)
		R->hz = 0;
	snprintf(desc, sizeof desc, "%s: %s", o->fault_text, o->client_text);

	/* Ctrl-C and kill: report what we have, leave nothing behind. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	R->sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

	r = tf_topo_new(o->shape, &R->t);
	if (r < 0) {
		if (r == -EPERM || r == -EACCES || r == -ENOSPC || r == -EINVAL || r == -ENOSYS) {
			tf_sandbox_explain(r, why, sizeof why);
			print_result(R, true, why, desc, NULL, 0, NULL);
			return EXIT_OK;
		}
		snprintf(R->message, sizeof R->message, "cannot build the topology: %s", strerror(-r));
		print_result(R, false, NULL, desc, NULL, 0, NULL);
		return EXIT_NOT_OK;
	}
	R->userns = tf_world_in_userns(tf_topo_world(R->t));

	for (size_t i = 0; i < o->n_sysctl; i++) {
		char key[256];
		const char *eq = strchr(o->sysctl[i], '=');

		snprintf(key, sizeof key, "%.*s", (int)(eq - o->sysctl[i]), o->sysctl[i]);
		r = tf_host_sysctl_set(tf_topo_client(R->t), key, eq + 1);
		if (r == -ENOENT) {
			bad("no sysctl '%s' in a network namespace of this kernel", key);
			return EXIT_USAGE;
		}
		if (r < 0) {
			bad("cannot set %s to '%s' in the client host: %s", key, eq + 1, strerror(-r));
			return EXIT_USAGE;
		}
	}

	if (o->fault->netem) {
		r = probe_netem(R);
		if (r == -EOPNOTSUPP) {
			print_result(R, true, "sch_netem not available", desc, NULL, 0, NULL);
			return EXIT_OK;
		}
		if (r < 0) {
			bad("netem %s: %s", o->fault_text, strerror(-r));
			return EXIT_USAGE;
		}
	}

	/* The client's link, everything between client and server. */
	{
		char filter[64];
		bool need = o->trig == TR_ESTABLISHED || o->trig == TR_SENT ||
		            o->trig == TR_RECEIVED || o->trig == TR_BYTES || o->pcap;

		snprintf(filter, sizeof filter, "tcp and host %s", tf_topo_server_addr(R->t));
		r = tf_capture_new(tf_topo_client(R->t), TF_IF_CLIENT, &R->cap);
		if (r >= 0 && (r = tf_capture_set_filter(R->cap, filter)) >= 0 &&
		    (r = tf_capture_set_snaplen(R->cap, 160)) >= 0)
			r = tf_capture_activate(R->cap);
		if (r < 0) {
			tf_capture_free(R->cap);
			R->cap = NULL;
			if (need && (r == -EPERM || r == -EACCES)) {
				snprintf(why, sizeof why, "packet capture not permitted here: %s",
				         strerror(-r));
				print_result(R, true, why, desc, NULL, 0, NULL);
				return EXIT_OK;
			}
			if (need) {
				snprintf(R->message, sizeof R->message, "cannot capture: %s", strerror(-r));
				print_result(R, false, NULL, desc, NULL, 0, NULL);
				return EXIT_NOT_OK;
			}
			R->cap_err = "unavailable: the model's origin is approximate";
		}
	}

	R->deadline_mono = R->t0_mono + o->timeout_ns;
	if (o->server_cmd) {
		if (start_proc(R, tf_topo_server(R->t), o->server_cmd, NULL, "server", &R->lout[1],
		               &R->server) < 0)
			return EXIT_USAGE;
		if (o->wait_port != 0) {
			loop(R, PH_WAIT_SERVER);
			if (R->interrupted) {
				print_result(R, false, NULL, desc, NULL, 0, NULL);
				return EXIT_NOT_OK;
			}
			if (R->server_done || !server_listening(R)) {
				drain_all(R);
				char port[32] = "any TCP port";

				describe_status(R->server_status, st, sizeof st);
				if (o->wait_port > 0)
					snprintf(port, sizeof port, "port %d", o->wait_port);
				if (R->server_done)
					bad("the server %s before listening on %s", st, port);
				else
					bad("the server did not listen on %s within the timeout (%.0f s)", port,
					    s_of(o->timeout_ns));
				print_lines_stderr("server", &R->lout[1]);
				return EXIT_USAGE;
			}
		}
	}

	if (start_proc(R, tf_topo_client(R->t), o->client_cmd, o->client_argv, "client", &R->lout[0],
	               &R->client) < 0)
		return EXIT_USAGE;
	R->client_start_ns = tf_proc_start_ns(R->client);
	/* The same instant on the monotonic clock. */
	R->client_start_mono = tf_mono_ns() - (tf_now_ns() - R->client_start_ns);
	R->deadline_mono = R->t0_mono + o->timeout_ns;
	if (o->trig == TR_AT && !o->timeout_given &&
	    R->client_start_mono + o->at_ns + 10 * NS > R->deadline_mono)
		R->deadline_mono = R->client_start_mono + o->at_ns + 10 * NS;
	if (!o->timeout_given && o->running_ns >= 0)
		R->deadline_mono = R->client_start_mono + (o->trig == TR_AT ? o->at_ns : 0) +
		                   o->running_ns + DEFAULT_TIMEOUT_S * NS;

	loop(R, PH_RUN);
	R->end_ns = tf_now_ns();
	if (R->client_done)
		drain_all(R);
	if (R->cap)
		tf_capture_read(R->cap);

	/* A shell that could not find or run the command says so with 127 or
	 * 126 (POSIX): that is a client that cannot start, not a measurement.
	 * After the fault (--at 0) it is still no measurement: a failure,
	 * unless that status was what --expect-status asked for. */
	bool shell_failed = R->client_done && o->client_cmd && WIFEXITED(R->client_status) &&
	                    (WEXITSTATUS(R->client_status) == 127 ||
	                     WEXITSTATUS(R->client_status) == 126) &&
	                    !(o->have_status && o->status == WEXITSTATUS(R->client_status));
	if (shell_failed && !R->fault_done) {
		bad("the client could not start (the shell exited %d):", WEXITSTATUS(R->client_status));
		print_lines_stderr("client", &R->lout[0]);
		return EXIT_USAGE;
	}

	/* A capture asked for and not written is a failed run: CI keeps the
	 * file as evidence and must not find it missing after a pass. */
	if (o->pcap && R->cap && (r = tf_capture_save(R->cap, o->pcap)) < 0) {
		fprintf(stderr, "tcpfate exec: cannot write %s: %s\n", o->pcap, strerror(-r));
		snprintf(R->pcap_err, sizeof R->pcap_err, "not written (%s): %s", o->pcap, strerror(-r));
	}

	/* --- verdict --- */
	bool ok = true;
	if (R->interrupted) {
		ok = false;
	} else if (R->fault_failed) {
		ok = false;
	} else if (!R->fault_done) {
		ok = false;
		if (R->client_done) {
			describe_status(R->client_status, st, sizeof st);
			snprintf(R->message, sizeof R->message, "the client %s before the fault "
			         "(trigger %s): nothing was measured", st, o->trig_text);
		} else {
			snprintf(R->message, sizeof R->message, "the trigger '%s' did not fire within "
			         "the timeout (%.0f s)", o->trig_text, s_of(R->deadline_mono - R->t0_mono));
		}
	}
	if (ok && shell_failed) {
		ok = false;
		snprintf(R->message, sizeof R->message, "the client's shell exited %d: a command was "
		         "not found (127) or not executable (126); see client_output",
		         WEXITSTATUS(R->client_status));
		fprintf(stderr, "tcpfate exec: %s\n", R->message);
	}
	if (ok && R->pcap_err[0]) {
		ok = false;
		snprintf(R->message, sizeof R->message, "the capture asked for with --pcap was %.400s",
		         R->pcap_err);
	}
	if (R->fault_done && !R->fault_failed && (o->model || o->expect_model)) {
		model_decide(R, &M);
		model_compute(R, &M);
	}
	int64_t det = R->client_done && R->fault_done ? R->client_exit_ns - R->fault_ns : -1;
	describe_status(R->client_status, st, sizeof st);
	if (R->fault_done && !R->fault_failed && !R->interrupted) {
		if (o->exit_within_ns >= 0) {
			bool c = R->client_done && det <= o->exit_within_ns &&
			         !(WIFEXITED(R->client_status) && WEXITSTATUS(R->client_status) == 0);
			struct check *k = &checks[nc++];
			snprintf(k->what, sizeof k->what, "client exits non-zero within %.3f s of the fault",
			         s_of(o->exit_within_ns));
			if (R->client_done) {
				check_num(k, "measured_s", "%.3f", s_of(det));
				check_str(k, "status", st);
			} else {
				check_str(k, "measured", "still running");
			}
			k->ok = c;
			ok &= c;
		}
		if (o->running_ns >= 0) {
			/* Still running, and watched for long enough (--timeout may
			 * have ended the run first). */
			bool c = R->client_done ? det > o->running_ns
			                        : R->end_ns - R->fault_ns >= o->running_ns;
			struct check *k = &checks[nc++];
			snprintf(k->what, sizeof k->what, "client still running %.3f s after the fault",
			         s_of(o->running_ns));
			check_str(k, "measured", R->client_done ? st : "still running");
			check_num(k, "watched_s", "%.3f",
			          s_of((R->client_done ? R->client_exit_ns : R->end_ns) - R->fault_ns));
			k->ok = c;
			ok &= c;
		}
		if (o->have_status) {
			bool c = R->client_done && WIFEXITED(R->client_status) &&
			         WEXITSTATUS(R->client_status) == o->status;
			struct check *k = &checks[nc++];
			snprintf(k->what, sizeof k->what, "client exit status");
			check_num(k, "expected", "%d", o->status);
			check_str(k, "measured", R->client_done ? st : "still running");
			k->ok = c;
			ok &= c;
		}
		if (o->expect_model) {
			struct check *k = &checks[nc++];
			if (M.kind == MK_NEVER) {
				bool c = !R->client_done;
				snprintf(k->what, sizeof k->what, "model: the kernel never gives up (%s)", M.why);
				check_str(k, "measured", R->client_done ? st : "still running");
				k->ok = c;
			} else if (!M.have || M.kind == MK_NA) {
				char na[300];
				snprintf(k->what, sizeof k->what, "model");
				snprintf(na, sizeof na, "not applicable: %s",
				         M.why ? M.why : "no schedule for this socket");
				check_str(k, "measured", na);
				k->ok = false;
			} else {
				int64_t s = slack_us(R->hz), a = exit_allowance_us();
				int64_t lo = M.lo_us - s, hi = M.hi_us + s + a;
				int64_t meas = R->client_done ? (R->client_exit_ns - M.origin_ns) / 1000 : -1;
				bool c = R->client_done && meas >= lo && meas <= hi &&
				         !(WIFEXITED(R->client_status) && WEXITSTATUS(R->client_status) == 0);
				if (R->client_done) {
					snprintf(k->what, sizeof k->what, "client exits when the kernel gives up "
					         "(%s), after %s", mkind_name(M.kind), M.origin_what);
					check_num(k, "expected_s", "%.3f", (double)M.at_us / 1e6);
					check_num(k, "lo_s", "%.3f", (double)lo / 1e6);
					check_num(k, "hi_s", "%.3f", (double)hi / 1e6);
					check_num(k, "measured_s", "%.3f", (double)meas / 1e6);
					check_num(k, "error_ms", "%+.1f", (double)(meas - M.at_us) / 1e3);
				} else {
					snprintf(k->what, sizeof k->what, "client exits when the kernel gives up "
					         "(%s)", mkind_name(M.kind));
					check_num(k, "expected_s", "%.3f", (double)M.at_us / 1e6);
					check_str(k, "measured", "still running");
				}
				k->ok = c;
			}
			ok &= k->ok;
		}
	}

	/* The one-line description: what happened. */
	if (R->fault_done && !R->fault_failed && o->fault->kind == FK_NONE) {
		if (R->client_done)
			snprintf(desc, sizeof desc, "baseline: client %s after %.3f s", st,
			         s_of(R->client_exit_ns - R->client_start_ns));
		else
			snprintf(desc, sizeof desc, "baseline: client still running after %.3f s",
			         s_of(tf_now_ns() - R->client_start_ns));
	} else if (R->fault_done && !R->fault_failed) {
		if (R->client_done)
			snprintf(desc, sizeof desc, "%s: client %s, %.3f s after the fault", o->fault_text,
			         st, s_of(det));
		else
			snprintf(desc, sizeof desc, "%s: client still running %.3f s after the fault",
			         o->fault_text, s_of(tf_now_ns() - R->fault_ns));
	}
	print_result(R, ok, NULL, desc, checks, nc, (o->model || o->expect_model) ? &M : NULL);
	return ok ? EXIT_OK : EXIT_NOT_OK;
}

int tf_cmd_exec(int argc, char **argv)
{
	pid_t parent = getppid();
	struct opts o;
	struct run R;
	int r;

	/* Die with the parent (a cancelled CI job, an OOM-killed meson test):
	 * the programs' supervisors die with us (tf_exec.h), and everything
	 * in their namespaces with them.  A parent gone before the prctl has
	 * already reparented us: check. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		raise(SIGKILL);

	r = parse(argc, argv, &o);
	if (r != 0) {
		if (o.have_re)
			regfree(&o.re);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&R, 0, sizeof R);
	R.o = &o;
	R.sigfd = -1;
	r = run(&R);

	/* Nothing left behind: the programs (and their namespaces), then the
	 * world. */
	tf_proc_free(R.client);
	tf_proc_free(R.server);
	for (size_t i = 0; i < R.n_faults; i++)
		tf_fault_free(R.faults[i]);
	tf_capture_free(R.cap);
	tf_model_free(R.m);
	tf_topo_free(R.t);
	lines_free(&R.lout[0]);
	lines_free(&R.lout[1]);
	if (R.sigfd >= 0)
		close(R.sigfd);
	if (o.have_re)
		regfree(&o.re);
	return r;
}
