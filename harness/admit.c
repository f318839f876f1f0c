/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Admission across every tcpfate process of this user: flock(2)s on files
 * in a private directory, released by the kernel when the holder dies.
 *
 * - setup slots: building namespaces and links is CPU-heavy (and takes
 *   the RTNL); at most one builder per core, so that setting up one case
 *   cannot starve another case's timing phase.
 * - the case lock: every case holds it shared; a case declared exclusive
 *   takes it exclusively and so runs alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
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

int tf_admit_setup(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	char name[32];

	if (cores < 1)
		cores = 1;
	for (long i = 0; i < cores; i++) {
		snprintf(name, sizeof name, "setup.%ld", i);
		int fd = lock_file(name, LOCK_EX | LOCK_NB);
		if (fd >= 0 || fd != -EWOULDBLOCK)
			return fd;
	}
	snprintf(name, sizeof name, "setup.%ld", (long)getpid() % cores);
	return lock_file(name, LOCK_EX);
}

int tf_admit_case(bool exclusive)
{
	return lock_file("case", exclusive ? LOCK_EX : LOCK_SH);
}
