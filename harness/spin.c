/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Idle spinners: see spin.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sentinel.h"
#include "spin.h"

#define MAX_CPUS 256

struct tf_spin {
	unsigned n;
	pid_t pid[MAX_CPUS];
};

static bool read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	bool ok = f && fgets(buf, (int)n, f);

	if (f)
		fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = 0;
	return ok;
}

static bool cpu_flag(const char *flag)
{
	char line[8192];
	FILE *f = fopen("/proc/cpuinfo", "re");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof line, f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (char *save = NULL, *t = strtok_r(line, " \t\n", &save); t && !found;
		     t = strtok_r(NULL, " \t\n", &save))
			found = !strcmp(t, flag);
		break;
	}
	fclose(f);
	return found;
}

int tf_spin_wanted(char *why, size_t n)
{
	const char *e = getenv("TF_IDLE_SPIN"), *in_vm = getenv("TF_IN_VM");
	char drv[64] = "";

	if (e && (!strcmp(e, "0") || !strcmp(e, "1"))) {
		snprintf(why, n, "TF_IDLE_SPIN=%s", e);
		return e[0] == '1';
	}
	if (in_vm && !strcmp(in_vm, "1")) {
		snprintf(why, n, "a tcpfate guest: its vCPUs are host threads");
		return 0;
	}
	if (!cpu_flag("hypervisor")) {
		snprintf(why, n, "not a virtual machine");
		return 0;
	}
	if (!read_line("/sys/devices/system/cpu/cpuidle/current_driver", drv, sizeof drv))
		snprintf(drv, sizeof drv, "none");
	if (strcmp(drv, "none")) {
		snprintf(why, n, "cpuidle driver %.40s", drv);
		return 0;
	}
	snprintf(why, n, "a VM whose idle vCPUs halt (cpuidle driver: none)");
	return 1;
}

static _Noreturn void spin(int cpu, pid_t parent)
{
	struct sched_param sp = { 0 };
	cpu_set_t set;

	tf_helper_detach(parent);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set);
	if (sched_setscheduler(0, SCHED_IDLE, &sp) < 0)
		_exit(0);   /* never compete with the cases at a normal priority */
	for (;;)
		__asm__ __volatile__("" ::: "memory");
}

int tf_spin_start(tf_spin **ret)
{
	cpu_set_t online;
	tf_spin *s = calloc(1, sizeof *s);
	pid_t parent = getpid();

	if (!s)
		return -ENOMEM;
	if (sched_getaffinity(0, sizeof online, &online) < 0) {
		free(s);
		return -errno;
	}
	for (int cpu = 0; cpu < CPU_SETSIZE && s->n < MAX_CPUS; cpu++) {
		if (!CPU_ISSET(cpu, &online))
			continue;
		pid_t pid = fork();
		if (pid < 0)
			break;
		if (pid == 0)
			spin(cpu, parent);
		s->pid[s->n++] = pid;
	}
	*ret = s;
	return 0;
}

unsigned tf_spin_count(const tf_spin *s)
{
	return s ? s->n : 0;
}

void tf_spin_stop(tf_spin *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++)
		kill(s->pid[i], SIGKILL);
	for (unsigned i = 0; i < s->n; i++)
		waitpid(s->pid[i], NULL, 0);
	free(s);
}
