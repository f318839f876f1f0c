/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal (not installed): write a file as a temporary next to it, then
 * rename over it, so that a failed write never loses what was there and
 * never deletes what this process did not create.  capture.c and
 * timeline.c use it.
 *
 *   struct tf_atomic a;
 *   fd = tf_atomic_open(&a, path);        // -errno: nothing was created
 *   ... write to fd, close it ...
 *   r = ok ? tf_atomic_commit(&a) : (tf_atomic_abort(&a), r);
 *
 * Only a regular file is ever replaced: renaming over `/dev/full` (as root)
 * would remove the device node, over a symlink would replace the link, so a
 * target that exists and is not a regular file is refused (-EEXIST, -EISDIR,
 * or -ELOOP for a symlink, as O_NOFOLLOW would say).  The check is repeated
 * just before the rename; a directory writable by someone else can still
 * swap the name between the two, which a rename cannot prevent.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct tf_atomic {
	int dirfd;                      /* the target's directory */
	char base[NAME_MAX + 1];        /* the target's name in it */
	char tmp[NAME_MAX + 1];         /* the temporary's name in it */
};

/* 0 if `base` in `dirfd` may be replaced (absent or a regular file, whose
 * mode is then put in *mode), or -errno. */
static inline int tf_atomic_check(int dirfd, const char *base, mode_t *mode)
{
	struct stat st;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISREG(st.st_mode)) {
		if (mode)
			*mode = st.st_mode & 0777;
		return 0;
	}
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	return S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST;
}

/* Create the temporary (O_EXCL|O_NOFOLLOW, 0644 minus umask, or the mode
 * of the file it will replace).  Returns its fd, owned by the caller. */
static inline int tf_atomic_open(struct tf_atomic *a, const char *path)
{
	const char *slash, *base;
	char dir[PATH_MAX];
	mode_t mode = 0644;
	bool have_mode = false;
	int r, fd = -1;

	a->dirfd = -1;
	a->tmp[0] = 0;
	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return -EISDIR;
	if (strlen(base) > NAME_MAX)
		return -ENAMETOOLONG;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	snprintf(a->base, sizeof(a->base), "%s", base);

	a->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (a->dirfd < 0)
		return -errno;
	r = tf_atomic_check(a->dirfd, a->base, &mode);
	if (r < 0)
		goto fail;
	have_mode = mode != 0644;
	for (int tries = 0; tries < 64; tries++) {
		unsigned rnd;

		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
			rnd = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL) ^ (unsigned)tries;
		/* Hidden, and short enough for NAME_MAX whatever the base. */
		snprintf(a->tmp, sizeof(a->tmp), ".%.*s.%08x.tmp", NAME_MAX - 16, a->base, rnd);
		fd = openat(a->dirfd, a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		            have_mode ? 0600 : 0644);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		r = -errno;
		a->tmp[0] = 0;
		goto fail;
	}
	/* The mode the replaced file had: a private capture stays private. */
	if (have_mode && fchmod(fd, mode) < 0) {
		r = -errno;
		close(fd);
		goto fail;
	}
	return fd;
fail:
	if (a->tmp[0])
		(void)unlinkat(a->dirfd, a->tmp, 0);
	a->tmp[0] = 0;
	close(a->dirfd);
	a->dirfd = -1;
	return r;
}

/* Remove the temporary only; the target is never touched. */
static inline void tf_atomic_abort(struct tf_atomic *a)
{
	if (a->dirfd < 0)
		return;
	if (a->tmp[0])
		(void)unlinkat(a->dirfd, a->tmp, 0);
	a->tmp[0] = 0;
	close(a->dirfd);
	a->dirfd = -1;
}

/* Rename the (closed, complete) temporary over the target. */
static inline int tf_atomic_commit(struct tf_atomic *a)
{
	int r;

	if (a->dirfd < 0 || !a->tmp[0])
		return -EINVAL;
	r = tf_atomic_check(a->dirfd, a->base, NULL);
	if (r == 0 && renameat(a->dirfd, a->tmp, a->dirfd, a->base) < 0)
		r = -errno;
	if (r == 0)
		a->tmp[0] = 0;
	tf_atomic_abort(a);
	return r;
}
