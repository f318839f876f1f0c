/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the two halves of the runner share: runner.c (inside a case's
 * process) and runner_main.c (the parent that schedules and reports). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "tf_test.h"

#define TF_EXIT_SKIP 77
#define TF_DEFAULT_TIMEOUT_S 60

struct tf_runner_opt {
	const char *artifacts;   /* root directory for artifacts */
	bool keep;               /* save captures even on success */
	bool timeline;           /* write the SVG timeline even on success */
	const char *prog;
	pid_t pid;               /* the runner (parent of every case) */
	struct tf_sentinel *wake; /* one wake-up sentinel for the run (sentinel.h) */
	struct tf_timer_sentinel *timers; /* one timer sentinel (timer_sentinel.h), or NULL */
	char timers_why[160];    /* why there is none */
	struct tf_gate *gate;    /* the start gate (gate.c), or NULL */
	unsigned case_index;     /* in the child: this case's place at the gate */
	char fallback_why[512];  /* sandbox blocked and no VM fallback: why */
	bool spin_on;            /* idle spinners run (spin.h) */
	unsigned spin_cpus;
	char spin_why[128];      /* why they run, or why not */
};
extern struct tf_runner_opt tf_runner;
extern tf_case *tf_cases_head;

/* Replace each TF_CASE_F by one case per variant of its fixture. */
int tf_cases_expand(void);

/* In the forked child: run the case, report through rec_fd, exit. */
_Noreturn void tf_child_run(const tf_case *c, int rec_fd);

/* Admission (admit.c): an fd holding the lock, or -errno (then run
 * without: admission is for fairness, not correctness).  Setup slots go
 * to the highest prio first (the case's timeout, a proxy of its length);
 * tf_admit_setup_release() gives one back and wakes the waiters. */
int tf_admit_setup(unsigned prio);
void tf_admit_setup_release(int fd);
/* The private directory of those locks (and of the shared timer sentinel). */
int tf_admit_dir(char *out, size_t n);
int tf_admit_case(bool exclusive);
/* mkdir -p; 0 or -errno. */
int tf_mkdir_p(const char *path);


/* The start gate (gate.c): a shared page for n cases started together. */
struct tf_gate *tf_gate_new(unsigned n);
/* In case i, after its first topology: wait until every case has built its
 * own or ended.  The wait in ns, or -1 when there is no gate to pass. */
int64_t tf_gate_pass(struct tf_gate *g, unsigned i);
/* In the runner: case i ended (it arrives now if it had not). */
void tf_gate_leave(struct tf_gate *g, unsigned i);
