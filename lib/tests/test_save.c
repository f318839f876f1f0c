/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Saving never loses or deletes what was there (issue 11, item 2):
 * tf_capture_save() and tf_timeline_write() write a temporary next to the
 * target and rename it over; a failed write removes only the temporary, and
 * a target that is not a regular file (a device node, a FIFO, a symlink) is
 * refused rather than replaced.  A full disk is simulated with RLIMIT_FSIZE
 * in a child process (write() then fails with EFBIG).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cmocka.h>

#include "tf_capture.h"
#include "tf_timeline.h"

static const char OLD[] = "the previous file, which a failed save must keep\n";

struct fx {
	char *dir;
};

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_true(asprintf(&fx->dir, "%s/tf-save-XXXXXX", base && *base ? base : "/tmp") > 0);
	assert_non_null(mkdtemp(fx->dir));
	*state = fx;
	return 0;
}

/* Remove the directory and what the test made in it (nothing else is there). */
static int teardown(void **state)
{
	struct fx *fx = *state;
	DIR *d = opendir(fx->dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	assert_int_equal(rmdir(fx->dir), 0);
	free(fx->dir);
	free(fx);
	return 0;
}

static char *path_in(const struct fx *fx, const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", fx->dir, name) > 0);
	return p;
}

static size_t dir_entries(const struct fx *fx)
{
	DIR *d = opendir(fx->dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void assert_file_is(const char *path, const char *text)
{
	char buf[256] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = 0;
	assert_string_equal(buf, text);
}

/* A capture of `n` Ethernet/IPv4/TCP frames of 200 bytes. */
static tf_capture *capture_of(size_t n)
{
	uint8_t f[200] = { 0 };
	tf_capture *c = NULL;

	f[12] = 0x08;                       /* ethertype IPv4 */
	f[14] = 0x45;                       /* IPv4, IHL 5 */
	f[16] = 0;
	f[17] = (uint8_t)(sizeof(f) - 14);  /* total length */
	f[23] = 6;                          /* TCP */
	f[14 + 20 + 12] = 5 << 4;           /* data offset */
	assert_int_equal(tf_capture_new_offline(&c), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tf_capture_inject(c, f, sizeof(f), (int64_t)i * 1000), 1);
	return c;
}

static tf_timeline *timeline_of(size_t n)
{
	tf_timeline *t = NULL;

	assert_int_equal(tf_timeline_new(&t), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tf_timeline_add_measured(t, "tx", (int64_t)i * 1000, TF_TCP_ACK), 0);
	return t;
}

enum what { CAPTURE, TIMELINE };

static int save(enum what w, const char *path)
{
	int r;

	if (w == CAPTURE) {
		tf_capture *c = capture_of(50);
		r = tf_capture_save(c, path);
		tf_capture_free(c);
	} else {
		tf_timeline *t = timeline_of(50);
		r = tf_timeline_write(t, path);
		tf_timeline_free(t);
	}
	return r;
}

/* Save in a child whose files may not grow past 100 bytes: the disk is
 * "full" after the first write.  Returns the save's result. */
static int save_on_full_disk(enum what w, const char *path)
{
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 100, 100 };

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(255);
		_exit(-save(w, path));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 255);
	return -WEXITSTATUS(st);
}

static void full_disk_keeps_target(enum what w, void **state)
{
	struct fx *fx = *state;
	char *p = path_in(fx, "out");

	write_file(p, OLD, 0644);
	assert_int_equal(save_on_full_disk(w, p), -EFBIG);
	assert_file_is(p, OLD);
	/* and the temporary is gone */
	assert_int_equal(dir_entries(fx), 1);

	/* A new file: nothing is left behind */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(save_on_full_disk(w, p), -EFBIG);
	assert_int_equal(dir_entries(fx), 0);
	free(p);
}

static void capture_full_disk_keeps_target(void **state) { full_disk_keeps_target(CAPTURE, state); }
static void timeline_full_disk_keeps_target(void **state) { full_disk_keeps_target(TIMELINE, state); }

/* Success replaces the file, keeps its mode, leaves no temporary. */
static void replaces_regular_file(enum what w, void **state)
{
	struct fx *fx = *state;
	char *p = path_in(fx, "out");
	struct stat st;

	write_file(p, OLD, 0600);
	assert_int_equal(save(w, p), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(st.st_size > (off_t)sizeof(OLD));
	assert_int_equal(dir_entries(fx), 1);
	assert_int_equal(unlink(p), 0);

	/* A new one: 0644 minus the umask */
	{
		mode_t um = umask(022);

		assert_int_equal(save(w, p), 0);
		umask(um);
	}
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(dir_entries(fx), 1);
	free(p);
}

static void capture_replaces_regular_file(void **state) { replaces_regular_file(CAPTURE, state); }
static void timeline_replaces_regular_file(void **state) { replaces_regular_file(TIMELINE, state); }

/*
 * What is not a regular file is never replaced: a char device like
 * /dev/full (made here, in the test's directory, when we may), a FIFO, a
 * symlink, a directory.
 */
static void refuses_non_regular(enum what w, void **state)
{
	struct fx *fx = *state;
	char *dev = path_in(fx, "full"), *fifo = path_in(fx, "fifo"), *lnk = path_in(fx, "link"),
	     *reg = path_in(fx, "reg"), *sub = path_in(fx, "sub");
	struct stat st;
	int fd;

	if (mknod(dev, S_IFCHR | 0666, makedev(1, 7)) == 0) {
		assert_int_equal(save(w, dev), -EEXIST);
		assert_int_equal(lstat(dev, &st), 0);
		assert_true(S_ISCHR(st.st_mode));
		assert_int_equal(st.st_rdev, makedev(1, 7));
	} else {
		/* An unprivileged run: the FIFO below stands for it. */
		assert_true(errno == EPERM || errno == EACCES);
	}

	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* Held open so that the old behaviour (opening it) would not block. */
	fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(save(w, fifo), -EEXIST);
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	{
		char b;
		assert_int_equal(read(fd, &b, 1), -1);   /* nothing was written into it */
		assert_int_equal(errno, EAGAIN);
	}
	close(fd);

	write_file(reg, OLD, 0644);
	assert_int_equal(symlink("reg", lnk), 0);
	assert_int_equal(save(w, lnk), -ELOOP);
	assert_int_equal(lstat(lnk, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_file_is(reg, OLD);

	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(save(w, sub), -EISDIR);
	assert_int_equal(rmdir(sub), 0);

	/* Nothing else was created */
	assert_int_equal(dir_entries(fx), 3 + (lstat(dev, &st) == 0));
	free(dev);
	free(fifo);
	free(lnk);
	free(reg);
	free(sub);
}

static void capture_refuses_non_regular(void **state) { refuses_non_regular(CAPTURE, state); }
static void timeline_refuses_non_regular(void **state) { refuses_non_regular(TIMELINE, state); }

static void bad_paths(enum what w, void **state)
{
	struct fx *fx = *state;
	char *p = path_in(fx, "nosuchdir/out"), *slash = path_in(fx, "out/");

	assert_int_equal(save(w, "/nonexistent-dir/x"), -ENOENT);
	assert_int_equal(save(w, p), -ENOENT);
	assert_int_equal(save(w, slash), -EISDIR);
	assert_int_equal(dir_entries(fx), 0);
	free(p);
	free(slash);
}

static void capture_bad_paths(void **state) { bad_paths(CAPTURE, state); }
static void timeline_bad_paths(void **state) { bad_paths(TIMELINE, state); }

/*
 * A read-only directory: the temporary cannot be made there, so the save
 * fails with -EACCES and the file (writable or not) stays as it was.  Root
 * ignores directory modes: then the save runs as nobody, in a child.
 */
static void readonly_dir(enum what w, void **state)
{
	struct fx *fx = *state;
	char *p = path_in(fx, "out");
	int st;
	pid_t pid;

	write_file(p, OLD, 0666);
	assert_int_equal(chmod(fx->dir, 0555), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		                       setresuid(65534, 65534, 65534) < 0))
			_exit(255);
		_exit(-save(w, p));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(chmod(fx->dir, 0700), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(-WEXITSTATUS(st), -EACCES);
	assert_file_is(p, OLD);
	assert_int_equal(dir_entries(fx), 1);
	free(p);
}

static void capture_readonly_dir(void **state) { readonly_dir(CAPTURE, state); }
static void timeline_readonly_dir(void **state) { readonly_dir(TIMELINE, state); }

/* A relative path: the temporary goes into the current directory. */
static void relative_path(void **state)
{
	struct fx *fx = *state;
	char *cwd = get_current_dir_name();

	assert_non_null(cwd);
	assert_int_equal(chdir(fx->dir), 0);
	assert_int_equal(save(CAPTURE, "rel.pcap"), 0);
	assert_int_equal(save(TIMELINE, "rel.svg"), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(dir_entries(fx), 2);
	free(cwd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(capture_full_disk_keeps_target, setup, teardown),
		cmocka_unit_test_setup_teardown(timeline_full_disk_keeps_target, setup, teardown),
		cmocka_unit_test_setup_teardown(capture_replaces_regular_file, setup, teardown),
		cmocka_unit_test_setup_teardown(timeline_replaces_regular_file, setup, teardown),
		cmocka_unit_test_setup_teardown(capture_refuses_non_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(timeline_refuses_non_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(capture_bad_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(timeline_bad_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(capture_readonly_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(timeline_readonly_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(relative_path, setup, teardown),
	};

	return cmocka_run_group_tests_name("save", tests, NULL, NULL);
}
