/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Setup slots go to the longest case first (admit.c): with every slot
 * held, three waiters of priority 10 queue, then one of priority 50 and
 * one of 10 whose ticket is left over by a dead process (unlocked, to be
 * ignored); the first slot given back goes to the 50, the next to a 10.
 * Before tickets the slots went to whichever waiter the kernel woke.
 * Plain TAP; its own admission directory (XDG_RUNTIME_DIR).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner_private.h"

static int n_test, failed;
static int slots[64];
static long cores;

static void check(bool ok, const char *what)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++n_test, what);
	failed += !ok;
}

/* A waiter: takes a slot, says its priority on the pipe, holds the slot
 * until the pipe's other end closes. */
static pid_t waiter(unsigned prio, int report, int hold)
{
	pid_t p = fork();

	if (p == 0) {
		char c;
		/* not the parent's slots: a lock lives while any copy of its fd does */
		for (long i = 0; i < cores; i++)
			close(slots[i]);
		int fd = tf_admit_setup(prio);
		if (fd < 0)
			_exit(1);
		if (write(report, &prio, sizeof prio) != (ssize_t)sizeof prio)
			_exit(1);
		while (read(hold, &c, 1) > 0)
			;
		_exit(0);
	}
	return p;
}

/* Until a ticket of this pid exists: inotify, not a sleep. */
static bool ticket_of(int ifd, const char *dir, pid_t pid)
{
	char buf[4096] __attribute__((aligned(8)));
	char want[64];

	snprintf(want, sizeof want, ".%ld", (long)pid);
	for (int rounds = 0; rounds < 100; rounds++) {
		char path[PATH_MAX];
		for (unsigned prio = 0; prio <= 100; prio++) {
			snprintf(path, sizeof path, "%s/tcpfate/ticket.%u%s", dir, prio, want);
			if (access(path, F_OK) == 0)
				return true;
		}
		struct pollfd p = { .fd = ifd, .events = POLLIN };
		if (poll(&p, 1, 100) > 0)
			while (read(ifd, buf, sizeof buf) > 0)
				;
	}
	return false;
}

int main(void)
{
	char dir[] = "/tmp/tf-admit-XXXXXX", sub[PATH_MAX], path[PATH_MAX + 64];
	int rep[2], hold[2], ifd;
	pid_t kids[5];
	unsigned got[2] = { 0, 0 };

	printf("TAP version 13\n1..4\n");
	if (!mkdtemp(dir) || setenv("XDG_RUNTIME_DIR", dir, 1) < 0 || pipe(rep) < 0 || pipe(hold) < 0)
		return 1;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1 || cores > 64)
		cores = 1;
	/* every slot held here */
	bool all = true;
	for (long i = 0; i < cores; i++)
		all &= (slots[i] = tf_admit_setup(100)) >= 0;
	check(all, "every slot taken by one process");
	snprintf(sub, sizeof sub, "%s/tcpfate", dir);
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd < 0 || inotify_add_watch(ifd, sub, IN_CREATE) < 0)
		return 1;
	/* a dead waiter's ticket of a higher priority: unlocked, ignored */
	snprintf(path, sizeof path, "%s/ticket.90.%d", sub, INT_MAX - 1);
	close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));

	bool queued = true;
	for (int i = 0; i < 3; i++) {
		kids[i] = waiter(10, rep[1], hold[0]);
		queued &= ticket_of(ifd, dir, kids[i]);
	}
	kids[3] = waiter(50, rep[1], hold[0]);
	queued &= ticket_of(ifd, dir, kids[3]);
	check(queued, "four waiters queued (three of priority 10, then one of 50)");

	/* one slot back: the 50 first, although it came last */
	tf_admit_setup_release(slots[0]);
	struct pollfd p = { .fd = rep[0], .events = POLLIN };
	if (poll(&p, 1, 10000) == 1 && read(rep[0], &got[0], sizeof got[0]) != sizeof got[0])
		got[0] = 0;
	check(got[0] == 50, "the first slot given back goes to priority 50");
	printf("# first: %u\n", got[0]);
	/* the 50 holds it; another back: a 10 (the dead ticket does not block it) */
	if (cores > 1)
		tf_admit_setup_release(slots[1]);
	if (poll(&p, 1, 10000) == 1 && read(rep[0], &got[1], sizeof got[1]) != sizeof got[1])
		got[1] = 0;
	printf("# second: %u\n", got[1]);
	check(cores == 1 || got[1] == 10, "the next goes to a 10, past a dead waiter's ticket");

	close(hold[1]);   /* the waiters let go and exit */
	for (int i = 0; i < 4; i++)
		kill(kids[i], SIGKILL), waitpid(kids[i], NULL, 0);
	for (long i = 2; i < cores; i++)
		close(slots[i]);
	unlink(path);
	return failed ? 1 : 0;
}
