/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sentinel.h"

struct tf_sentinel {
	int64_t max_late_ns;   /* written by the sentinel, read by the caller */
	int64_t samples;
	pid_t pid;
};

void tf_helper_detach(pid_t parent)
{
	int null;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		dup2(null, fd);
	/* hold no pipe of the caller's: its readers wait for them to close */
	syscall(SYS_close_range, 3U, ~0U, 0U);
}

static _Noreturn void sentinel_loop(struct tf_sentinel *w, pid_t parent)
{
	struct timespec next;

	tf_helper_detach(parent);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		struct timespec now;
		int64_t late;

		next.tv_nsec += TF_SENTINEL_PERIOD_NS;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		clock_gettime(CLOCK_MONOTONIC, &now);
		late = (int64_t)(now.tv_sec - next.tv_sec) * 1000000000 + (now.tv_nsec - next.tv_nsec);
		if (late > __atomic_load_n(&w->max_late_ns, __ATOMIC_RELAXED))
			__atomic_store_n(&w->max_late_ns, late, __ATOMIC_RELAXED);
		__atomic_add_fetch(&w->samples, 1, __ATOMIC_RELAXED);
		if (late > TF_SENTINEL_PERIOD_NS)   /* overslept: no catch-up burst */
			next = now;
	}
}

int tf_sentinel_start(tf_sentinel **ret)
{
	struct tf_sentinel *w = mmap(NULL, sizeof *w, PROT_READ | PROT_WRITE,
	                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t parent = getpid(), pid;

	if (w == MAP_FAILED)
		return -errno;
	pid = fork();   /* not into w->pid: the page is shared with the child */
	if (pid < 0) {
		int r = -errno;
		munmap(w, sizeof *w);
		return r;
	}
	if (pid == 0)
		sentinel_loop(w, parent);
	w->pid = pid;
	*ret = w;
	return 0;
}

int64_t tf_sentinel_max_late_us(const tf_sentinel *s)
{
	return s ? (__atomic_load_n(&s->max_late_ns, __ATOMIC_RELAXED) + 999) / 1000 : 0;
}

int64_t tf_sentinel_samples(const tf_sentinel *s)
{
	return s ? __atomic_load_n(&s->samples, __ATOMIC_RELAXED) : 0;
}

void tf_sentinel_stop(tf_sentinel *s)
{
	if (!s)
		return;
	if (s->pid > 0)
		kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	munmap(s, sizeof *s);
}
