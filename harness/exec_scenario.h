/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate exec, one scenario at a time: options in, result out.
 *
 *   struct tf_exec_opts o;
 *   struct tf_exec_result r;
 *   tf_exec_opts_parse(argc, argv, &o);          // exec_opts.c: CLI and checks
 *   tf_exec_scenario_run(&o, sigfd, &r);         // exec_run.c: fresh sandbox,
 *                                                 // programs, fault, watch,
 *                                                 // analysis, verdict
 *   tf_exec_report_plan(stdout, &r, 1);          // exec_report.c: TAP + YAML
 *   tf_exec_report_tap(stdout, &o, &r, 1);
 *   tf_exec_result_free(&r);
 *   tf_exec_opts_free(&o);
 *
 * A run owns everything it makes (namespaces, programs, capture, faults)
 * and has removed it when tf_exec_scenario_run() returns; the result is
 * plain data.  Nothing here prints but the report (and --verbose, which
 * copies the programs' output to stderr as it comes).
 */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tf_exec.h"
#include "tf_topo.h"

#define TF_EXEC_OK      0         /* exit statuses: ok or skipped */
#define TF_EXEC_NOT_OK  1
#define TF_EXEC_USAGE   2         /* bad usage, or a program that cannot start */

#define TF_EXEC_MAX_SYSCTLS 32
#define TF_EXEC_RING        12    /* output lines kept per program */
#define TF_EXEC_MAX_CHECKS  8
#define TF_EXEC_DEFAULT_TIMEOUT_S 120

/* ------------------------------------------------------------------ options */

enum fault_kind {
	FK_NONE, FK_BLACKHOLE, FK_CABLE, FK_MTU, FK_LOSS, FK_DELAY, FK_KILL, FK_VANISH, FK_STOP,
	FK_SLOW,
};

struct fault_info {
	const char *name;
	enum fault_kind kind;
	char arg;            /* 0 none, 'o' optional, 'r' required */
	bool router;         /* needs the path topology */
	bool server;         /* needs --server */
	bool netem;
	bool healable;
	const char *what;
};

enum trig { TR_AT, TR_ESTABLISHED, TR_SENT, TR_RECEIVED, TR_BYTES, TR_LINE };

struct tf_exec_opts {
	const char *server_cmd, *client_cmd;
	char **client_argv;
	char client_text[512];
	tf_topo_shape shape;
	const char *shape_name;
	const struct fault_info *fault;
	const char *fault_text;
	double loss_pct;
	unsigned delay_ms, mtu;
	/* slow-reader:RUN/PERIOD: the server runs RUN ms of every PERIOD ms
	 * after the fault, stopped (SIGSTOP) the rest */
	unsigned slow_run_ms, slow_period_ms;
	enum trig trig;
	const char *trig_text;
	int64_t at_ns;
	uint64_t bytes;
	regex_t re;
	bool have_re;
	int64_t heal_after_ns;
	const char *sysctl[TF_EXEC_MAX_SYSCTLS];          /* --client-sysctl */
	size_t n_sysctl;
	const char *server_sysctl[TF_EXEC_MAX_SYSCTLS];   /* --server-sysctl */
	size_t n_server_sysctl;
	int family;                  /* AF_INET, or AF_INET6 (--ipv6): what the names resolve to */
	bool no_pty;                 /* --no-pty: the client's stdout stays a pipe with --on line: */
	int wait_port;               /* -1: any listening port; 0: do not wait */
	int64_t exit_within_ns, running_ns, timeout_ns;
	bool timeout_given, have_status, expect_model, model, verbose;
	int status;
	const char *pcap;
};

/* The defaults: path topology, trigger "established", no expectation. */
void tf_exec_opts_init(struct tf_exec_opts *o);
/* 0 ok, 1 help printed, -1 bad usage (message printed on stderr).  The
 * strings point into argv.  tf_exec_opts_free() in every case. */
int  tf_exec_opts_parse(int argc, char **argv, struct tf_exec_opts *o);
void tf_exec_opts_free(struct tf_exec_opts *o);
/* One fault by name ("blackhole", "loss:5" ...) into o: 0 or -1 (message
 * printed).  For callers that build options without a command line. */
int  tf_exec_opts_set_fault(struct tf_exec_opts *o, const char *s);

/* ------------------------------------------------------------------ result */

/* A program's output: the last TF_EXEC_RING lines, cleaned (exec_text.c). */
struct tf_exec_lines {
	const char *who;
	char part[2][2048];          /* partial line per stream (stdout, stderr) */
	size_t plen[2];
	char *ring[TF_EXEC_RING];
	size_t next, n, total;
	bool verbose;
};

/* The client's socket to the server, sampled with sock_diag. */
struct tf_exec_watch {
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
	tf_sock_knobs k;
};

/* Which of the kernel's schedules applies, and what it predicts. */
/* MK_ZERO_WINDOW: data waiting behind a zero window, given up by
 * TCP_USER_TIMEOUT (tf_model_zero_window_fate()). */
enum mkind { MK_NONE, MK_RETRANS, MK_SYN, MK_KEEPALIVE, MK_NEVER, MK_NA, MK_ZERO_WINDOW };

struct tf_exec_model {
	enum mkind kind;
	const char *why;             /* for MK_NA / MK_NEVER (a constant) */
	int64_t origin_ns;
	const char *origin_what;     /* a constant */
	bool origin_approx;
	long tx_expected, tx_measured;
	int64_t at_us, lo_us, hi_us; /* give-up after the origin */
	int err;                     /* the errno the model expects */
	unsigned packets_out;        /* segments in flight when the data was lost (0: unknown) */
	int64_t rst_ns;              /* the client's RST on the wire (keepalive give-up), or -1 */
	bool have;
	/* the knobs it used, for the report */
	bool have_knobs;
	long retries2, syn_retries;  /* -1: not readable */
	unsigned rto_jiffies;
};

/* One check: what it asks, then "key: value" lines (values are numbers or
 * quoted), shown as a block mapping. */
struct tf_exec_check {
	char what[256];
	char kv[512];
	bool ok;
};

enum tf_exec_verdict { TF_EXEC_V_OK, TF_EXEC_V_NOT_OK, TF_EXEC_V_SKIP, TF_EXEC_V_USAGE };

struct tf_exec_result {
	enum tf_exec_verdict verdict;
	char desc[1100];             /* the TAP description, raw (the report escapes it) */
	char skip[512];              /* TF_EXEC_V_SKIP: why */
	char message[512];           /* what went wrong; TF_EXEC_V_USAGE: the error */
	bool message_to_stderr;      /* worth saying on stderr too (the CLI does) */
	const struct tf_exec_lines *usage_lines;  /* TF_EXEC_V_USAGE: output to show, or NULL */

	char kernel[128];
	unsigned hz;
	unsigned uid;                /* before the user namespace made us root */
	bool userns, sandbox;        /* sandbox: the topology was built */
	bool client_started, server_started, captured;
	bool pty;                    /* the client's stdout was a pseudo-terminal */
	char pty_err[128];           /* why it was not, when one was wanted */
	const char *cap_err;         /* a constant, or NULL */
	uint64_t sent, received;     /* payload bytes on the client's link */

	/* On tf_now_ns(), the packets' clock; -1 when it did not happen. */
	int64_t t0_ns, client_start_ns, fault_ns, heal_ns, end_ns;
	int64_t client_exit_ns, server_exit_ns;
	int64_t client_syn_ns;       /* the client's first SYN on the wire (its own pace) */
	int64_t duration_ns;         /* the whole run, set-up and teardown included */
	int64_t watched_ns;          /* how long the trigger was waited for */
	bool fault_done, fault_failed, healed, client_done, server_done, interrupted;
	bool heal_failed;            /* --heal-after: the fault could not be undone */
	int client_status, server_status;
	char fault_desc[512];
	unsigned slow_stops, slow_conts;  /* slow-reader: SIGSTOPs and SIGCONTs sent */
	unsigned slow_reads;         /* ... runs ended by a window update on the wire */
	char pcap_err[512];

	struct tf_exec_watch w;
	int64_t wake_max_us, wake_samples;  /* the wake-up sentinel (sentinel.h) */
	bool have_model;             /* --model or --expect-model */
	struct tf_exec_model M;
	struct tf_exec_check checks[TF_EXEC_MAX_CHECKS];
	size_t n_checks;
	struct tf_exec_lines out[2]; /* client, server */
};

/*
 * Run one scenario in a fresh sandbox.  sigfd: a signalfd whose signals
 * end the run early (reported as interrupted), or -1.  Returns the exit
 * status for it (TF_EXEC_OK ...); res->verdict says more.
 * tf_exec_result_free() afterwards, whatever it returned.
 */
int  tf_exec_scenario_run(const struct tf_exec_opts *o, int sigfd, struct tf_exec_result *res);
void tf_exec_result_free(struct tf_exec_result *res);

/* ------------------------------------------------------------------ report */

/* "TAP version 13", the plan and a comment naming the machine. */
void tf_exec_report_plan(FILE *f, const struct tf_exec_result *r, unsigned n_tests);
/* Test point number num and its YAML block (block form, escaped). */
void tf_exec_report_tap(FILE *f, const struct tf_exec_opts *o, const struct tf_exec_result *r,
                        unsigned num);

/* ------------------------------------------------------------------ text */

enum text_mode {
	TX_LINE,    /* a line of a literal block: controls '?' */
	TX_QUOTED,  /* inside "...": '"' '\' escaped, controls \xNN, tab \t */
	TX_TAP,     /* a TAP description: '#' and '\' escaped (TAP::Parser's
	             * directive syntax), controls '?' */
};

/* A cleaned, NUL-terminated copy of s (n bytes); NULL when out of memory. */
char *tf_exec_text_dup(const char *s, size_t n, enum text_mode mode);
void  tf_exec_lines_push(struct tf_exec_lines *L, const char *s, size_t n);
const char *tf_exec_lines_get(const struct tf_exec_lines *L, size_t i);
void  tf_exec_lines_free(struct tf_exec_lines *L);
/* "exited 3", "killed by SIGKILL". */
void  tf_exec_describe_status(int st, char *buf, size_t n);
