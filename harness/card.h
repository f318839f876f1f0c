/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * card.h — `tcpfate card`: a timeout-policy report card for any client.
 *
 * Every row is one `tcpfate exec` run (a child process: this binary, with
 * an argument vector), in fresh namespaces: one way a network dies, at one
 * moment of the client's life.  card_rows.c knows the rows and judges them
 * against the policy, cmd_card.c runs them and prints the table and TAP,
 * card_html.c draws the page, card_exec_result.c reads exec's output.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "card_exec_result.h"
#include "card_policy.h"

#define CARD_MAX_SYSCTLS 32
#define CARD_MAX_ROWS    24

enum card_phase {
	CP_CONNECT,   /* before the client connects: --at 0 */
	CP_BUSY,      /* while it sends (a large transfer) */
	CP_WAITING,   /* while it waits, idle, for an answer */
	CP_POOLED,    /* an idle connection kept for later */
};

struct card_opts {
	const char *client_cmd;      /* --client (a shell command) */
	char **client_argv;          /* -- PROGRAM ARGS (no shell) */
	const char *server_cmd;
	const char *wait_server;     /* --wait-server PORT */
	const char *sysctl[CARD_MAX_SYSCTLS];
	size_t n_sysctl;
	const char *server_sysctl[CARD_MAX_SYSCTLS];
	size_t n_server_sysctl;
	bool ipv6;                   /* --ipv6: every row over IPv6 (exec --ipv6) */
	const char *phase_on[4];     /* exec trigger per phase ("at:1", "sent:65536", ...) */
	const char *faults;          /* --faults LIST, NULL: all */
	const char *out;             /* --out DIR */
	card_policy policy;
	double limit_s;              /* watch this long after the fault */
	double blip_s;               /* a cable out and back in this long */
	unsigned jobs;
	bool tap, verbose;
};

enum card_verdict { CV_PASS, CV_FAIL, CV_SKIP, CV_INFO, CV_ERROR };

struct card_row {
	/* the definition */
	const char *name, *what, *fault;
	enum card_phase phase;
	enum card_class cls;         /* before the run; dead-peer rows refine it */
	bool dead_peer;              /* a silent peer: the kernel's timers decide */
	int heal;                    /* 0 none, 1 a blip, 2 after the give-up */
	const char *cannot;          /* not expressible with exec: why (a SKIP) */
	unsigned slow_run_ms, slow_period_ms;  /* slow-reader's duty cycle, or 0 */
	/* the run */
	char *argv[96];
	size_t argc;
	char pcap[4096];
	pid_t pid;
	int out_fd, err_fd;
	char *out, *err;
	size_t out_len, err_len;
	int64_t start_ns, end_ns, deadline_ns;
	int status;                  /* waitpid status of exec */
	bool done, killed;
	/* the result */
	card_exec_result *res;
	enum card_verdict verdict;
	char reason[512];            /* why this verdict (or the SKIP reason) */
	char knob[256];              /* what decided the kernel's give-up */
	int64_t bound_ms;            /* the policy's bound applied, or -1 */
	double noticed_s;            /* what the bound was checked against, or -1 */
};

/* card_rows.c */
size_t card_rows_make(const struct card_opts *o, struct card_row *rows, size_t max,
                      char *err, size_t errlen);
int card_row_argv(const struct card_opts *o, struct card_row *r, const char *self_name);
void card_row_judge(const struct card_opts *o, struct card_row *r);
void card_row_free(struct card_row *r);
const char *card_phase_name(enum card_phase p);
const char *card_verdict_name(enum card_verdict v);
const char *card_fault_list(void);

/* card_html.c: the page, written to a temporary and renamed. */
int card_html_write(const struct card_opts *o, struct card_row *rows, size_t n,
                    const char *path, const char *title);

/* card_report.c */
void card_print_table(FILE *f, const struct card_opts *o, struct card_row *rows, size_t n,
                      double wall_s);
void card_print_tap(FILE *f, const struct card_opts *o, struct card_row *rows, size_t n);
void card_emit_tap(FILE *f, const struct card_opts *o, struct card_row *rows, size_t n, double w);
/* DIR/name through emit, via a temporary and a rename. */
int card_write_file(const struct card_opts *o, const char *name,
                    void (*emit)(FILE *, const struct card_opts *, struct card_row *, size_t,
                                 double),
                    struct card_row *rows, size_t n, double wall);
/* Each row's exec output as it came: DIR/ROW.exec.tap. */
void card_save_raw(const struct card_opts *o, struct card_row *rows, size_t n);

int tf_cmd_card(int argc, char **argv);
