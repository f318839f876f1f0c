/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside one tcpfate exec run: the live objects (topology, programs,
 * capture, faults, model) next to the result being filled in.  Shared by
 * exec_run.c (event loop), exec_fault.c (injection) and exec_analysis.c
 * (model choice, verdict); nothing outside them sees it.
 */
#pragma once

#include "sentinel.h"
#include "exec_scenario.h"
#include "tf_capture.h"
#include "tf_exec.h"
#include "tf_fault.h"
#include "tf_model.h"
#include "tf_topo.h"

#define NS          1000000000LL
#define MS          1000000LL
#define SAMPLE_NS   (100 * MS)    /* sock_diag sample of the client's socket */
/* Between the kernel's give-up and the program's exit: the error wakes the
 * program at once, but it still has to report and exit.  Stated here, added
 * to the model's band on the late side only; TF_EXEC_EXIT_MS overrides. */
#define EXIT_ALLOWANCE_MS 100
/* ... and, measured in the run, the program's own start-up (spawn to its
 * first SYN): an interpreter that took 300 ms to start on a loaded machine
 * takes longer than 100 ms to report and exit there too.  Capped: a
 * program that waits before it connects does not buy itself a wider band. */
#define EXIT_STARTUP_CAP_MS 1000

struct tf_exec_run {
	const struct tf_exec_opts *o;
	tf_sentinel *wake;           /* wake-up latency of this host, measured in the run */
	struct tf_exec_result *res;
	tf_topo *t;
	tf_capture *cap;
	size_t cap_seen;
	uint16_t synack_port;        /* client port of the last SYN-ACK seen */
	tf_flow up;                  /* client → server addresses (of o->family), ports 0 */
	tf_proc *server, *client;
	tf_fault *faults[4];
	size_t n_faults;
	bool mtu_routes;             /* mtu-blackhole's routes are in the router */
	int sigfd;
	tf_model *m;
	/* Scheduling runs on CLOCK_MONOTONIC: a step of the wall clock
	 * (NTP, settimeofday) must not end the run early or stretch it. */
	int64_t t0_mono, client_start_mono, fault_mono, next_sample_mono, deadline_mono;
	/* slow-reader: the server's duty cycle, on the fault's monotonic time */
	bool slow_on;                /* cycling (not healed, the server alive) */
	bool slow_stopped;           /* the server is stopped now */
	unsigned slow_cycle;         /* the stops sent so far: the cycle we are in */
	int64_t slow_next_mono;      /* the next SIGCONT or SIGSTOP */
	int64_t slow_cont_ns;        /* the last SIGCONT, on the packets' clock */
	int32_t slow_last_win;       /* the server's last window field on the wire, -1 */
	uint16_t slow_port;          /* ... on the connection to this client port */
	bool slow_read;              /* it reopened its window since the SIGCONT */
};

static inline double s_of(int64_t ns) { return (double)ns / 1e9; }

/* exec_fault.c */
int tf_exec_inject(struct tf_exec_run *R);
int tf_exec_heal(struct tf_exec_run *R);
/* slow-reader: send the SIGCONT or SIGSTOP due at R->slow_next_mono and
 * schedule the next (the loop calls it once that moment has come, or once
 * a running server reopened its window: R->slow_read). */
void tf_exec_slow_tick(struct tf_exec_run *R);
/* slow-reader: the duty cycle and what was sent, into fault_desc (once,
 * at the end of the run). */
void tf_exec_slow_describe(struct tf_exec_run *R);
/* Is sch_netem here?  0, -EOPNOTSUPP, or another -errno. */
int tf_exec_probe_netem(struct tf_exec_run *R);

/* exec_analysis.c */
/* Before anything happened: a rough upper bound of the model's give-up
 * after the fault (us), or -1. */
int64_t tf_exec_model_predict_hi_us(struct tf_exec_run *R);
/* After the run, the capture still open: the model's view (res->M) with
 * --model/--expect-model, the checks, the verdict and the description. */
void tf_exec_judge(struct tf_exec_run *R, bool shell_failed);
int64_t tf_exec_slack_us(unsigned hz);
/* The client's exit, late side: EXIT_ALLOWANCE_MS for a program's own exit
 * path (TF_EXEC_EXIT_MS overrides), plus its start-up measured in this run
 * (tf_exec_startup_us()), plus twice the worst wake-up latency the sentinel
 * measured in this run. */
int64_t tf_exec_exit_allowance_us(const struct tf_exec_result *res);
/* The client's spawn to its first SYN on the wire, at most
 * EXIT_STARTUP_CAP_MS; 0 when it sent none. */
int64_t tf_exec_startup_us(const struct tf_exec_result *res);
const char *tf_exec_mkind_name(enum mkind k);
/* The cable rule's result for this run and the client's neighbour knobs
 * it used (tf_model_local_link_failure()), or NULL. */
const tf_local_link_failure *tf_exec_model_cable(const tf_neigh_params **p, long *lo_disable_ipv6);
