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
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
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
	fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, how) < 0) {
		if (errno == EINTR)
			continue;
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* The release counter: a shared page in the directory, a futex (as the
 * start gate and the timer sentinel wait): inotify's instances are
 * limited per user (128), and a suite has more waiters than that. */
static uint32_t *seq_map(void)
{
	char dir[256], path[320];
	struct stat st;
	void *p;
	int fd;

	if (tf_admit_dir(dir, sizeof dir) < 0)
		return NULL;
	snprintf(path, sizeof path, "%s/setup.seq", dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_size < 4096 && ftruncate(fd, 4096) < 0)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* Wake the waiters: the counter moves, every waiter looks again. */
static void announce(void)
{
	uint32_t *seq = seq_map();

	if (!seq)
		return;
	__atomic_add_fetch(seq, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	munmap(seq, 4096);
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
 * when no live ticket outranks it; a release moves a counter the waiters
 * sleep on (futex), a holder that died without one is noticed within
 * RECHECK_MS.
 */
#define RECHECK_MS 250

int tf_admit_setup(unsigned prio)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN), pid = (long)getpid();
	char dir[256], ticket[64];
	uint32_t *seq = NULL;
	int fd, tfd = -1, r;

	if (cores < 1)
		cores = 1;
	if ((r = tf_admit_dir(dir, sizeof dir)) < 0)
		return r;
	seq = seq_map();
	/* locked under a private name, then renamed: a ticket is never seen
	 * unlocked while its waiter lives.  Non-blocking: the same name held
	 * elsewhere (a pid of another pid namespace) means no queue, not a
	 * wait. */
	snprintf(ticket, sizeof ticket, "new-ticket.%ld", pid);
	if (seq)
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
		if (seq)
			munmap(seq, 4096);
		fd = try_slots(cores);
		if (fd != -EWOULDBLOCK)
			return fd;
		snprintf(ticket, sizeof ticket, "setup.%ld", pid % cores);
		return lock_file(ticket, LOCK_EX);
	}
	for (;;) {
		/* the counter first: a release after this read ends the wait */
		uint32_t v = __atomic_load_n(seq, __ATOMIC_SEQ_CST);
		struct timespec ts = { 0, RECHECK_MS * 1000000L };

		fd = someone_ahead(dir, prio, pid) ? -EWOULDBLOCK : try_slots(cores);
		if (fd != -EWOULDBLOCK)
			break;
		syscall(SYS_futex, seq, FUTEX_WAIT, v, &ts, NULL, 0);
	}
	/* our own ticket, and only it */
	char path[sizeof dir + sizeof ticket + 1];
	snprintf(path, sizeof path, "%s/%s", dir, ticket);
	unlink(path);
	close(tfd);
	munmap(seq, 4096);
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
