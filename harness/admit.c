/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Admission across every tcpfate process of this user: flock(2)s on files
 * in a private directory, released by the kernel when the holder dies.
 *
 * - setup slots: building namespaces and links is CPU-heavy (and takes
 *   the RTNL); at most one builder per core, so that setting up one case
 *   cannot starve another case's timing phase; the longest cases first.
 * - the case lock: every case holds it shared; a case declared exclusive
 *   takes it exclusively and so runs alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner_private.h"

/* $XDG_RUNTIME_DIR/tcpfate, or /tmp/tcpfate-UID: ours, 0700, not a link. */
int tf_admit_dir(char *out, size_t n)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (x && *x && x[0] == '/')
		snprintf(out, n, "%s/tcpfate", x);
	else
		snprintf(out, n, "/tmp/tcpfate-%u", (unsigned)getuid());
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(out, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 0022))
		return -EPERM;
	return 0;
}

static int lock_file(const char *name, int how)
{
	char dir[256], path[320];
	int fd, r = tf_admit_dir(dir, sizeof dir);

	if (r < 0)
		return r;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	/* read-only: closing a lock must not look like a release (inotify's
	 * close-after-write, tf_admit_setup()) */
	fd = open(path, (how < 0 ? O_WRONLY : O_RDONLY) | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (how >= 0 && flock(fd, how) < 0) {
		if (errno == EINTR)
			continue;
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Wake the waiters: a close after a write in the directory. */
static void announce(void)
{
	int w = lock_file("setup.released", -1);

	if (w >= 0)
		close(w);
}

/* A slot free now, or -EWOULDBLOCK. */
static int try_slots(long cores)
{
	char name[32];

	for (long i = 0; i < cores; i++) {
		snprintf(name, sizeof name, "setup.%ld", i);
		int fd = lock_file(name, LOCK_EX | LOCK_NB);
		if (fd >= 0 || fd != -EWOULDBLOCK)
			return fd;
	}
	return -EWOULDBLOCK;
}

/* Tickets: "ticket.PRIO.PID", held with flock by a live waiter (a dead
 * one's file is left, unlocked, and ignored). */
static bool ticket_parse(const char *n, unsigned *prio, long *pid)
{
	char end;

	return sscanf(n, "ticket.%u.%ld%c", prio, pid, &end) == 2;
}

static bool ticket_live(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	bool live;

	if (fd < 0)
		return false;
	live = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return live;
}

/* Whether a live waiter comes before (prio, pid): a higher priority, or
 * the same and an older pid. */
static bool someone_ahead(const char *dir, unsigned prio, long pid)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool ahead = false;

	if (!d)
		return false;
	while (!ahead && (e = readdir(d))) {
		unsigned p;
		long q;

		if (!ticket_parse(e->d_name, &p, &q) || q == pid)
			continue;
		if ((p > prio || (p == prio && q < pid)) && ticket_live(dirfd(d), e->d_name))
			ahead = true;
	}
	closedir(d);
	return ahead;
}

/*
 * The longest cases first: with every case of a suite started at once
 * (meson starts each binary at the same moment), the slots went to
 * whichever waiter the kernel woke, and the 19 s kernel_rules cases
 * waited 13 s behind 2 s ones.  A waiter with a ticket takes a slot only
 * when no live ticket outranks it; a release is announced by touching
 * "setup.released" (inotify), a holder that died without one is noticed
 * within RECHECK_MS.
 */
#define RECHECK_MS 250

int tf_admit_setup(unsigned prio)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN), pid = (long)getpid();
	char dir[256], ticket[64], buf[4096] __attribute__((aligned(8)));
	int fd, tfd = -1, ifd = -1, r;

	if (cores < 1)
		cores = 1;
	if ((r = tf_admit_dir(dir, sizeof dir)) < 0)
		return r;
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd >= 0 && inotify_add_watch(ifd, dir, IN_CLOSE_WRITE) < 0) {
		close(ifd);
		ifd = -1;
	}
	/* locked under a private name, then renamed: a ticket is never seen
	 * unlocked while its waiter lives.  Non-blocking: the same name held
	 * elsewhere (a pid of another pid namespace) means no queue, not a
	 * wait. */
	snprintf(ticket, sizeof ticket, "new-ticket.%ld", pid);
	if (ifd >= 0)
		tfd = lock_file(ticket, LOCK_EX | LOCK_NB);
	if (tfd >= 0) {
		char from[sizeof dir + sizeof ticket + 1], to[sizeof from];
		snprintf(from, sizeof from, "%s/%s", dir, ticket);
		snprintf(ticket, sizeof ticket, "ticket.%u.%ld", prio, pid);
		snprintf(to, sizeof to, "%s/%s", dir, ticket);
		if (rename(from, to) < 0) {
			unlink(from);
			close(tfd);
			tfd = -1;
		}
	}
	if (tfd < 0) {
		/* no queue here: any free slot, else wait on one */
		if (ifd >= 0)
			close(ifd);
		fd = try_slots(cores);
		if (fd != -EWOULDBLOCK)
			return fd;
		snprintf(ticket, sizeof ticket, "setup.%ld", pid % cores);
		return lock_file(ticket, LOCK_EX);
	}
	for (;;) {
		fd = someone_ahead(dir, prio, pid) ? -EWOULDBLOCK : try_slots(cores);
		if (fd != -EWOULDBLOCK)
			break;
		struct pollfd p = { .fd = ifd, .events = POLLIN };
		if (poll(&p, 1, RECHECK_MS) < 0 && errno != EINTR) {
			fd = -errno;
			break;
		}
		while (read(ifd, buf, sizeof buf) > 0)
			;   /* any close-after-write in the directory: look again */
	}
	/* our own ticket, and only it */
	char path[sizeof dir + sizeof ticket + 1];
	snprintf(path, sizeof path, "%s/%s", dir, ticket);
	unlink(path);
	close(tfd);
	close(ifd);
	/* the next in line may find another slot free: tell it */
	if (fd >= 0)
		announce();
	return fd;
}

void tf_admit_setup_release(int fd)
{
	if (fd < 0)
		return;
	close(fd);
	announce();
}

int tf_admit_case(bool exclusive)
{
	return lock_file("case", exclusive ? LOCK_EX : LOCK_SH);
}
