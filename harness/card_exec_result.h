/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * card_exec_result.h — what one `tcpfate exec` run reported, read back from
 * its TAP 13 output.  ALL knowledge of exec's output format lives in
 * card_exec_result.c: when exec's output changes, only that file changes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum card_exec_outcome {
	CX_UNREADABLE,  /* no TAP result line: exec crashed or printed nothing */
	CX_OK,
	CX_NOT_OK,
	CX_SKIP,
};

typedef struct card_exec_result {
	enum card_exec_outcome outcome;
	char *desc;               /* the TAP description */
	char *skip_reason;        /* CX_SKIP */
	char *message;            /* exec's `message:` (trigger never fired...) */
	char *fault_applied;
	bool fault_done;          /* exec reported fault_at_s */
	double fault_at_s;        /* after the client started */
	int64_t fault_wall_ns;    /* fault_at_wall (CLOCK_REALTIME, the packets' clock), ms; -1 */
	int family;               /* AF_INET6 for "family: ipv6", else AF_INET */
	double healed_at_s;       /* after the fault, or -1 */
	bool client_exited;       /* the client ended by itself */
	char *client_status;      /* "exited 56", "killed by SIGKILL", "still running ..." */
	int exit_code;            /* exited N: N; otherwise -1 */
	double client_ran_s;      /* -1 when unknown */
	double detection_s;       /* client exit - fault, -1 when it did not exit */
	double watched_s;         /* still running that long after the fault, or -1 */
	char *last_output;        /* the client's last output line, or NULL */
	/* The model (exec --model). */
	char *schedule;           /* retrans, syn, keepalive, never, "not applicable", or NULL */
	char *model_note;
	char *origin;
	double origin_s;          /* relative to the fault */
	bool have_giveup;
	double giveup_expected_s, giveup_lo_s, giveup_hi_s;  /* after the origin */
	double expected_detection_s;                         /* model give-up - fault, or -1 */
	char *expected_errno;
	/* Knobs the model used (-1: not reported). */
	long tcp_retries2, tcp_syn_retries, ka_idle, ka_intvl, ka_cnt, user_timeout_ms, syncnt;
	int so_keepalive;          /* -1 unknown */
	char *pcap;                /* the capture exec wrote, or NULL */
} card_exec_result;

/* Parse exec's stdout (NUL-terminated text).  Never fails on hostile text:
 * what cannot be read stays at its "unknown" value.  Returns 0 or -ENOMEM. */
int card_exec_result_parse(const char *text, card_exec_result **ret);
void card_exec_result_free(card_exec_result *r);   /* accepts NULL */
