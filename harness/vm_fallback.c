/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM fallback: where namespaces are blocked (a container's seccomp
 * profile, AppArmor, max_user_namespaces=0), run the command in a guest
 * kernel under qemu, which needs none of those privileges.
 *
 * One guest serves a whole run: the first caller starts it (under a flock,
 * so concurrent callers wait for that one boot) with `ci/vm/tcpfate-vm
 * --serve SOCK`, later callers find SOCK and send their job over it.  The
 * guest sees this machine's / read-only over 9p (so the caller's own
 * binaries and clients run there), writes the artifacts directory through a
 * writable 9p share, and powers off after TF_VM_IDLE_S seconds (30) without
 * a job.  Frames on SOCK: see ci/vm/tfvm-agent.c.
 *
 * Environment: TF_VM_FALLBACK=0 disables it; TF_VM_KERNEL picks the kernel
 * (a tcpfate-vm SPEC; default linux-image-amd64); TF_VM_DIR holds the socket,
 * lock and log ($XDG_RUNTIME_DIR/tcpfate-vm, else /tmp/tcpfate-vm-UID);
 * TF_VM_SCRIPT is ci/vm/tcpfate-vm; TF_VM_IDLE_S; TF_VM_START_TIMEOUT_S
 * (600: the first start may download a kernel).  The guest marks its jobs
 * with TF_IN_VM=1: no fallback from inside it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tf_sandbox.h"
#include "vm_fallback.h"

#ifndef TF_VM_SCRIPT
#define TF_VM_SCRIPT "/usr/local/libexec/tcpfate/vm/tcpfate-vm"
#endif
#define TF_VM_DEFAULT_KERNEL "linux-image-amd64"

extern char **environ;

static int fail(char *why, size_t n, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t n, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -err;
}

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t l = strcspn(p, ":");
		if (l && l < sizeof buf - strlen(prog) - 2) {
			snprintf(buf, sizeof buf, "%.*s/%s", (int)l, p, prog);
			if (access(buf, X_OK) == 0)
				return true;
		}
		p += l + (p[l] == ':');
	}
	return false;
}

/* A private directory for the socket, lock and log: ours, not a symlink. */
static int vm_dir(char *out, size_t n)
{
	const char *d = getenv("TF_VM_DIR"), *rt = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (d && *d)
		snprintf(out, n, "%s", d);
	else if (rt && *rt == '/')
		snprintf(out, n, "%s/tcpfate-vm", rt);
	else
		snprintf(out, n, "/tmp/tcpfate-vm-%u", (unsigned)getuid());
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(out, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 022))
		return -EPERM;
	return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int try_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof a.sun_path)
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* The last "tcpfate-vm: ..." line of the server's log: why it stopped. */
static void last_log_line(const char *log, char *out, size_t n)
{
	FILE *f = fopen(log, "re");
	char line[1024];

	snprintf(out, n, "no message (see the log)");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (strncmp(line, "tcpfate-vm: ", 12) == 0 && !strstr(line, "last lines of") &&
		    strncmp(line + 12, "work directory", 14))
			snprintf(out, n, "%.400s", line + 12);
	}
	fclose(f);
}

/* Start `tcpfate-vm --serve` detached and wait for its "ready" line. */
static int start_server(const char *script, const char *kernel, const char *sock, const char *log,
                        const char *share, char *why, size_t why_len)
{
	int p[2];
	const char *idle = getenv("TF_VM_IDLE_S"), *st = getenv("TF_VM_START_TIMEOUT_S");
	long start_s = st ? strtol(st, NULL, 10) : 600;

	if (!idle || strspn(idle, "0123456789") != strlen(idle) || !*idle)
		idle = "30";
	if (start_s <= 0)
		start_s = 600;
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(why, why_len, errno, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		return fail(why, why_len, errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* A session of its own, and not our child: it outlives us. */
		setsid();
		if (fork() != 0)
			_exit(0);
		int nul = open("/dev/null", O_RDONLY), lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (nul < 0 || lf < 0)
			_exit(127);
		dup2(nul, 0);
		dup2(lf, 1);
		dup2(lf, 2);
		dup2(p[1], 3); /* dup2 clears CLOEXEC */
		closefrom(4);
		signal(SIGPIPE, SIG_DFL);
		char *args[] = { (char *)script, "--serve", (char *)sock, "--kernel", (char *)kernel,
		                 "--idle", (char *)idle, "--ready-fd", "3",
		                 share ? "--share-rw" : NULL, (char *)share, NULL };
		execv(script, args);
		dprintf(2, "tcpfate-vm: cannot run %s: %s\n", script, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	waitpid(pid, NULL, 0);

	char buf[512];
	size_t len = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = start_s * 1000 - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
			close(p[0]);
			return fail(why, why_len, ETIMEDOUT, "the fallback guest was not up after %ld s "
			            "(log: %s; raise TF_VM_START_TIMEOUT_S)", start_s, log);
		}
		ssize_t r = read(p[0], buf + len, sizeof buf - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = 0;
		if (strchr(buf, '\n') || len == sizeof buf - 1)
			break;
	}
	close(p[0]);
	buf[len] = 0;
	if (strncmp(buf, "ready ", 6) == 0)
		return 0;
	char last[512];
	last_log_line(log, last, sizeof last);
	return fail(why, why_len, EIO, "the fallback guest did not start: %s (log: %s)", last, log);
}

static int send_job(int fd, char *const argv[])
{
	char cwd[PATH_MAX], num[32];
	size_t n = 0, cap = 65536;
	char *b = malloc(cap);
	int argc = 0;

	if (!b)
		return -ENOMEM;
	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, "/");
	while (argv[argc])
		argc++;
#define PUT(s) do { \
		size_t l_ = strlen(s) + 1; \
		if (n + l_ + 9 > cap) { \
			char *nb_ = realloc(b, cap = 2 * (n + l_ + 9)); \
			if (!nb_) { free(b); return -ENOMEM; } \
			b = nb_; \
		} \
		memcpy(b + 9 + n, s, l_); \
		n += l_; \
	} while (0)
	PUT(cwd);
	snprintf(num, sizeof num, "%u", (unsigned)getuid());
	PUT(num);
	snprintf(num, sizeof num, "%u", (unsigned)getgid());
	PUT(num);
	snprintf(num, sizeof num, "%d", argc);
	PUT(num);
	for (int i = 0; i < argc; i++)
		PUT(argv[i]);
	for (char **e = environ; e && *e; e++)
		PUT(*e);
#undef PUT
	uint32_t id = 0, len = (uint32_t)n;
	memcpy(b, &id, 4);
	memcpy(b + 4, &len, 4);
	b[8] = 'N';
	int r = write_all(fd, b, 9 + n);
	free(b);
	return r < 0 ? -EPIPE : 0;
}

/* Relay the job's frames; returns only if the server went away before
 * taking the job (it was idling out): the caller starts another guest. */
static int relay(int fd, const char *blocked_reason)
{
	char h[9], *buf = NULL;
	bool accepted = false;

	for (;;) {
		uint32_t id, len;
		if (read_all(fd, h, 9) < 0)
			break;
		memcpy(&id, h, 4);
		memcpy(&len, h + 4, 4);
		if (len > (1u << 20))
			break;
		char *nb = realloc(buf, len + 1);
		if (!nb)
			break;
		buf = nb;
		if (len && read_all(fd, buf, len) < 0)
			break;
		buf[len] = 0;
		switch (h[8]) {
		case 'A': {
			/* "accel=tcg kernel_spec=... release=6.1.0-57-amd64 slack_us=..." */
			const char *rel = strstr(buf, "release="), *acc = strstr(buf, "accel=");
			accepted = true;
			fprintf(stderr, "tcpfate: namespaces blocked here (%s); running in a %.*s guest "
			        "under qemu (%.*s)\n", blocked_reason ? blocked_reason : "?",
			        rel ? (int)strcspn(rel + 8, " ") : 1, rel ? rel + 8 : "?",
			        acc ? (int)strcspn(acc + 6, " ") : 1, acc ? acc + 6 : "?");
			break;
		}
		case 'O': write_all(1, buf, len); break;
		case 'E': write_all(2, buf, len); break;
		case 'X': {
			int st = atoi(buf);
			free(buf);
			if (WIFSIGNALED(st)) {
				fprintf(stderr, "tcpfate: the command was killed by signal %d in the guest\n",
				        WTERMSIG(st));
				exit(128 + WTERMSIG(st));
			}
			exit(WEXITSTATUS(st));
		}
		}
	}
	free(buf);
	if (accepted) {
		fprintf(stderr, "tcpfate: the fallback guest stopped in the middle of the command\n");
		exit(2);
	}
	return -ECONNRESET;
}

int tf_vm_fallback_exec(char *const argv[], const char *blocked_reason, char *why, size_t why_len)
{
	const char *e = getenv("TF_VM_FALLBACK"), *kernel = getenv("TF_VM_KERNEL");
	const char *script = getenv("TF_VM_SCRIPT");
	char dir[200], sock[PATH_MAX], lock[PATH_MAX], log[PATH_MAX], key[64];
	char share[PATH_MAX];
	const char *art = getenv("TF_ARTIFACTS");
	int r;

	if (getenv("TF_IN_VM"))
		return fail(why, why_len, ENOTSUP, "already inside the fallback guest (TF_IN_VM is set)");
	if (e && strcmp(e, "0") == 0)
		return fail(why, why_len, ENOTSUP, "disabled by TF_VM_FALLBACK=0");
	if (!argv || !argv[0])
		return fail(why, why_len, EINVAL, "no command");
	if (!kernel || !*kernel)
		kernel = TF_VM_DEFAULT_KERNEL;
	if (strspn(kernel, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+:,/-") !=
	    strlen(kernel) || kernel[0] == '-')
		return fail(why, why_len, EINVAL, "TF_VM_KERNEL='%s' is not a kernel spec "
		            "(e.g. linux-image-amd64; see ci/vm/README.md)", kernel);
	if (!script || !*script)
		script = TF_VM_SCRIPT;
	if (access(script, X_OK) < 0)
		return fail(why, why_len, ENOENT, "no VM runner at %s: set TF_VM_SCRIPT to ci/vm/tcpfate-vm",
		            script);
	/* Root gets qemu installed by tcpfate-vm (apt-get); others are told. */
	if (!in_path("qemu-system-x86_64") && geteuid() != 0)
		return fail(why, why_len, ENOENT, "no qemu-system-x86_64: apt-get install qemu-system-x86");
	r = vm_dir(dir, sizeof dir);
	if (r < 0)
		return fail(why, why_len, -r, "no private directory for the fallback guest at %s (%s): "
		            "set TF_VM_DIR", dir, strerror(-r));
	/* One guest per kernel (and user: the directory is per user). */
	size_t k = 0;
	for (const char *c = kernel; *c && k < sizeof key - 1; c++)
		key[k++] = (*c == '/' || *c == ':' || *c == ',') ? '_' : *c;
	key[k] = 0;
	snprintf(sock, sizeof sock, "%s/%s.sock", dir, key);
	snprintf(lock, sizeof lock, "%s/%s.lock", dir, key);
	snprintf(log, sizeof log, "%s/%s.log", dir, key);

	/* The writable share: the artifacts directory (made here if need be).
	 * A guest already running keeps the share of the caller that started
	 * it; artifacts of a later caller outside it stay in the guest. */
	if (!art || !*art)
		art = "tcpfate-artifacts"; /* the runner's default, relative to cwd */
	{
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof tmp, "%s", art);
		for (char *s = tmp + 1; *s; s++)
			if (*s == '/') {
				*s = 0;
				mkdir(tmp, 0755);
				*s = '/';
			}
		mkdir(tmp, 0755);
	}
	const char *sharep = realpath(art, share) ? share : NULL;

	fflush(NULL);
	for (int attempt = 0; attempt < 3; attempt++) {
		int fd = try_connect(sock);
		if (fd < 0) {
			int lf = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
			if (lf < 0)
				return fail(why, why_len, errno, "cannot open %s: %s", lock, strerror(errno));
			while (flock(lf, LOCK_EX) < 0 && errno == EINTR)
				;
			fd = try_connect(sock);
			if (fd < 0) {
				r = start_server(script, kernel, sock, log, sharep, why, why_len);
				if (r < 0) {
					close(lf);
					return r;
				}
				fd = try_connect(sock);
			}
			close(lf);
			if (fd < 0)
				return fail(why, why_len, -fd, "cannot reach the fallback guest at %s: %s (log: %s)",
				            sock, strerror(-fd), log);
		}
		if (send_job(fd, argv) == 0)
			relay(fd, blocked_reason); /* exits once the job ran */
		close(fd);
	}
	return fail(why, why_len, ECONNRESET, "the fallback guest kept going away (log: %s)", log);
}

/* Can this process build the sandbox?  Tried in a throw-away child, since
 * unshare() changes the process that calls it.  0 or -errno. */
static int probe_sandbox(void)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		tf_world *w = NULL;
		int r = tf_world_new(&w);
		_exit(r < 0 ? (-r & 0xff) : 0);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) ? -WEXITSTATUS(st) : -EIO;
}

int tf_vm_fallback_if_blocked(char **argv, char *blocked, size_t blocked_len, char *why,
                              size_t why_len)
{
	char self[PATH_MAX];
	ssize_t len;
	int r;

	if (getenv("TF_IN_VM"))
		return 0;
	r = probe_sandbox();
	if (r != -EPERM && r != -EACCES && r != -ENOSPC && r != -ENOSYS)
		return 0;   /* the sandbox works, or fails for a reason a guest would not fix */
	tf_sandbox_explain(r, blocked, blocked_len);
	len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len > 0) {        /* the guest runs this very binary */
		self[len] = 0;
		argv[0] = self;
	}
	fflush(stdout);
	tf_vm_fallback_exec(argv, blocked, why, why_len);
	return r;             /* still here: no fallback */
}
