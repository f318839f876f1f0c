/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_out.h"

FILE *tf_file_out_open(tf_file_out *o, const char *path, int *err)
{
	int fd = tf_atomic_open(&o->a, path);

	o->f = NULL;
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	o->f = fdopen(fd, "w");
	if (!o->f) {
		*err = -errno;
		close(fd);
		tf_atomic_abort(&o->a);
	}
	return o->f;
}

int tf_file_out_close(tf_file_out *o)
{
	int r = 0;

	if (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) < 0)
		r = errno ? -errno : -EIO;
	if (fclose(o->f) != 0 && r == 0)
		r = -errno;
	o->f = NULL;
	if (r < 0) {
		tf_atomic_abort(&o->a);
		return r;
	}
	return tf_atomic_commit(&o->a);
}

void tf_file_out_abort(tf_file_out *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	tf_atomic_abort(&o->a);
}

bool tf_stderr_apart(void)
{
	struct stat o, e;

	if (fstat(STDOUT_FILENO, &o) < 0 || fstat(STDERR_FILENO, &e) < 0)
		return false;
	return o.st_dev != e.st_dev || o.st_ino != e.st_ino;
}
