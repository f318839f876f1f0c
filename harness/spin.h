/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Idle spinners: on a virtual machine whose idle vCPUs halt (no cpuidle
 * driver, so the guest's idle loop is HLT), a timer that expires on an idle
 * vCPU waits for the hypervisor to run that vCPU again, and fires late by
 * however long the host takes.  Measured here: without load, one suite run
 * in five had a kernel timer 0.4–10 ms past its band; with a busy loop per
 * core, none in 16.  A spinner per CPU at SCHED_IDLE keeps the vCPUs
 * running: it only ever takes time nothing else wants (any other task
 * preempts it on wake-up), so it changes no case's scheduling, only the
 * hypervisor's.  The kernel-side bands stay as they are.
 */
#pragma once

#include <stddef.h>

typedef struct tf_spin tf_spin;

/* Whether this machine wants spinners, and why (for the YAML): 1 yes,
 * 0 no.  TF_IDLE_SPIN=1/0 forces the answer; otherwise yes on a VM
 * (the "hypervisor" CPU flag) whose cpuidle driver is "none", unless we are
 * a tcpfate guest (TF_IN_VM=1: under TCG a spinning vCPU is a busy host
 * thread). */
int tf_spin_wanted(char *why, size_t n);
/* One spinner per online CPU (they die with the caller).  0 or -errno. */
int tf_spin_start(tf_spin **ret);
unsigned tf_spin_count(const tf_spin *s);
/* Kill and reap them (accepts NULL). */
void tf_spin_stop(tf_spin *s);
