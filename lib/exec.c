/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Real programs inside hosts: a supervisor (PID 1 of a PID namespace of its
 * own) that joins the host, prepares the program's view and forks it; and
 * a program's socket, duplicated.  See tf_exec.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#include "exec_private.h"
#include "tf_util.h"

extern char **environ;

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* --- supervisor → caller records --- */

enum { REC_STARTED = 1, REC_ERROR, REC_EXIT };

/* The step that failed, for tf_proc_error(). */
enum stage {
	ST_NONE, ST_PDEATHSIG, ST_SETNS, ST_MOUNT_PRIVATE, ST_HOSTS, ST_HOSTNAME, ST_STDIO,
	ST_SIGNALS, ST_PIPE, ST_FORK, ST_CHDIR, ST_EXEC,
};

static const char *const stage_names[] = {
	[ST_NONE] = "start", [ST_PDEATHSIG] = "prctl(PR_SET_PDEATHSIG)",
	[ST_SETNS] = "setns (join the host's network namespace)",
	[ST_MOUNT_PRIVATE] = "make mounts private (MS_SLAVE on /)",
	[ST_HOSTS] = "bind-mount the hosts view over /etc/hosts",
	[ST_HOSTNAME] = "sethostname", [ST_STDIO] = "set up fds 0-2",
	[ST_SIGNALS] = "signalfd", [ST_PIPE] = "pipe", [ST_FORK] = "fork",
	[ST_CHDIR] = "chdir", [ST_EXEC] = "exec",
};

struct rec {
	int32_t kind, stage, err, status;
	int64_t at_ns;
};

static int stop_carrier(void) { return SIGRTMIN + 2; }

/* pidfd_send_signal(), or kill() where it is missing (valgrind): the PID
 * cannot be reused while we have not reaped it. */
static int send_sig(const tf_proc *p, int sig)
{
	if (syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	return kill(p->pid, sig) < 0 ? -errno : 0;
}


/* --- start --- */

/* Everything the supervisor and the program need, prepared by the caller:
 * after the clone nothing allocates. */
struct launch {
	int netns;
	int status_w;
	int stdio[3];             /* fd to install as 0/1/2, or -1 to keep */
	const char *hosts_path;   /* bind-mounted over /etc/hosts, or NULL */
	const char *hostname;     /* or NULL */
	const char *cwd;          /* or NULL */
	char *const *argv;
	char *const *envp;
	const char *path;         /* PATH of envp, for the lookup */
};

/* fds the caller hands over are >= 3, so installing 0-2 never clobbers them. */
static int fd_high(int fd)
{
	int n;

	if (fd < 0 || fd >= 3)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n < 0 ? -1 : n;
}

static void send_rec(int fd, int kind, int stage, int err, int status)
{
	struct rec r = { .kind = kind, .stage = stage, .err = err, .status = status,
	                 .at_ns = tf_now_ns() };
	ssize_t n;

	do
		n = write(fd, &r, sizeof r);
	while (n < 0 && errno == EINTR);
}

static _Noreturn void child_fail(int fd, int stage, int err)
{
	send_rec(fd, REC_ERROR, stage, err, 0);
	_exit(127);
}

/* execvp() with the PATH of the program's own environment. */
static int exec_lookup(const struct launch *l)
{
	const char *file = l->argv[0], *p = l->path;
	char buf[PATH_MAX];
	int err = ENOENT;

	if (strchr(file, '/')) {
		execve(file, l->argv, l->envp);
		return errno;
	}
	if (!p)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);

		if (dl == 0) {           /* empty entry: the current directory */
			buf[0] = '.';
			dl = 1;
		} else if (dl < sizeof buf) {
			memcpy(buf, p, dl);
		}
		if (dl + 1 + strlen(file) < sizeof buf) {
			buf[dl] = '/';
			strcpy(buf + dl + 1, file);
			execve(buf, l->argv, l->envp);
			/* execvp()'s rule: remember EACCES, keep looking past
			 * ENOENT-like errors, stop at anything else.  A PATH
			 * directory we may not search (another user's ~/bin)
			 * says nothing about the file: that is "not found". */
			if (errno == EACCES) {
				buf[dl] = 0;
				if (access(buf, X_OK) == 0)
					err = EACCES;
			} else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE &&
			         errno != ENODEV && errno != ETIMEDOUT)
				return errno;
		}
		p = *end ? end + 1 : end;
	}
	return err;
}

static void forwarded_set(sigset_t *s)
{
	sigemptyset(s);
	for (int sig = 1; sig < NSIG; sig++) {
		switch (sig) {
		case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGILL:
		case SIGFPE: case SIGTRAP: case SIGSYS:
			continue;
		}
		if (sig >= 32 && sig < SIGRTMIN)
			continue;           /* glibc's own */
		sigaddset(s, sig);
	}
}

static void nop_handler(int sig) { (void)sig; }

/* clone(2) for where clone3 is refused with ENOSYS (container seccomp
 * profiles, valgrind): the pidfd lands in parent_tid. */
static pid_t clone_fallback(uint64_t flags, int *pidfd)
{
#if defined(__s390__) || defined(__CRIS__)
	return (pid_t)syscall(SYS_clone, 0UL, (unsigned long)flags, pidfd, NULL, 0UL);
#else
	return (pid_t)syscall(SYS_clone, (unsigned long)flags, 0UL, pidfd, NULL, 0UL);
#endif
}

/* PID 1 of the program's namespace.  Never returns. */
static _Noreturn void supervisor(const struct launch *l)
{
	int st = l->status_w, errp[2], sfd;
	sigset_t fwd;
	pid_t child;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(st, ST_PDEATHSIG, errno);
	/* The caller may have died before the prctl.  getppid() cannot tell
	 * (it is 0 here: the parent is outside our new PID namespace), the
	 * status pipe can: the caller's exit closes its read end before the
	 * kernel sends death signals (exit_files() before exit_notify()),
	 * so either the read end is gone now or SIGKILL is still to come. */
	struct pollfd pf = { .fd = st, .events = POLLOUT };
	if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLERR))
		_exit(127);
	setpgid(0, 0);
	if (setns(l->netns, CLONE_NEWNET) < 0)
		child_fail(st, ST_SETNS, errno);
	/* A new mount namespace copies the caller's propagation: make it a
	 * slave first, so nothing mounted here reaches the machine. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		child_fail(st, ST_MOUNT_PRIVATE, errno);
	if (l->hosts_path && mount(l->hosts_path, "/etc/hosts", NULL, MS_BIND, NULL) < 0)
		child_fail(st, ST_HOSTS, errno);
	/* Our own /proc (PIDs as the program sees them).  Best effort: a
	 * kernel that refuses (masked /proc in a container) leaves the
	 * caller's, which still works for /proc/self. */
	(void)mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (l->hostname && sethostname(l->hostname, strlen(l->hostname)) < 0)
		child_fail(st, ST_HOSTNAME, errno);
	for (int fd = 0; fd < 3; fd++)
		if (l->stdio[fd] >= 0 && dup2(l->stdio[fd], fd) < 0)
			child_fail(st, ST_STDIO, errno);
	/* Only 0-2 and the status pipe survive (it is CLOEXEC: the program
	 * never sees it). */
	if (st != 3) {
		if (dup3(st, 3, O_CLOEXEC) < 0)
			child_fail(st, ST_STDIO, errno);
		st = 3;
	}
	if (close_range(4, ~0U, 0) < 0)            /* before Linux 5.9 */
		for (int fd = 4; fd < 65536; fd++)
			close(fd);

	forwarded_set(&fwd);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&fwd, sig)) {
			struct sigaction sa = { .sa_handler = nop_handler };
			/* A handler, not SIG_DFL: PID 1 only receives signals it
			 * handles; blocked, they queue for the signalfd. */
			sigaction(sig, &sa, NULL);
		}
	if (sigprocmask(SIG_BLOCK, &fwd, NULL) < 0 ||
	    (sfd = signalfd(-1, &fwd, SFD_CLOEXEC)) < 0)
		child_fail(st, ST_SIGNALS, errno);
	if (pipe2(errp, O_CLOEXEC) < 0)
		child_fail(st, ST_PIPE, errno);

	/* The raw system call, not fork(): glibc's fork handlers take locks
	 * (malloc's) that another thread of the caller may have held at the
	 * clone — nothing after the clone may depend on them. */
	child = clone_fallback(SIGCHLD, NULL);
	if (child < 0)
		child_fail(st, ST_FORK, errno);
	if (child == 0) {
		sigset_t none;

		close(errp[0]);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if (l->cwd && chdir(l->cwd) < 0)
			child_fail(errp[1], ST_CHDIR, errno);
		child_fail(errp[1], ST_EXEC, exec_lookup(l));
	}
	close(errp[1]);
	setpgid(child, child);

	/* The program's exec: EOF on its error pipe means it succeeded. */
	struct rec r;
	ssize_t n;
	do
		n = read(errp[0], &r, sizeof r);
	while (n < 0 && errno == EINTR);
	close(errp[0]);
	if (n == (ssize_t)sizeof r) {
		int ws;
		while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
			;
		child_fail(st, r.stage, r.err);
	}
	send_rec(st, REC_STARTED, 0, 0, 0);

	for (;;) {
		struct signalfd_siginfo si;

		n = read(sfd, &si, sizeof si);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof si)
			_exit(126);
		if ((int)si.ssi_signo != SIGCHLD) {
			int sig = (int)si.ssi_signo == stop_carrier() ? SIGSTOP : (int)si.ssi_signo;
			/* To the program's group; if it left the group, to it. */
			if (kill(-child, sig) < 0)
				kill(child, sig);
			continue;
		}
		/* Reap everything (orphans land on PID 1); stop at the program. */
		for (;;) {
			int ws;
			pid_t w = waitpid(-1, &ws, WNOHANG);

			if (w <= 0)
				break;
			if (w == child) {
				send_rec(st, REC_EXIT, 0, 0, ws);
				/* Exiting ends the namespace: the kernel kills
				 * whatever the program left behind. */
				_exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
			}
		}
	}
}

static char **build_envp(const tf_proc *p, const char **path)
{
	size_t n = 0, k = 0;
	char **e;

	while (environ && environ[n])
		n++;
	e = calloc(n + p->n_env + 1, sizeof *e);
	if (!e)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		bool overridden = false;

		for (size_t j = 0; j < p->n_env && !overridden; j++)
			overridden = strncmp(p->env[j], environ[i], nl) == 0 && p->env[j][nl] == '=';
		if (!overridden)
			e[k++] = environ[i];
	}
	for (size_t j = 0; j < p->n_env; j++)
		e[k++] = p->env[j];
	e[k] = NULL;
	*path = NULL;
	for (size_t i = 0; i < k; i++)
		if (strncmp(e[i], "PATH=", 5) == 0)
			*path = e[i] + 5;
	return e;
}

/* The hosts view: a file in a private temporary directory, removed as soon
 * as the supervisor has bind-mounted it (the mount keeps the inode). */
static int write_hosts(const tf_proc *p, char *dir, size_t dn, char *path, size_t pn)
{
	const char *tmp = getenv("TMPDIR");
	_cleanup_close_ int fd = -1;
	char head[] = "# tcpfate: this program's view of the topology\n"
	              "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
	size_t off = 0;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(dir, dn, "%s/tcpfate-XXXXXX", tmp) >= dn)
		return -ENAMETOOLONG;
	if (!mkdtemp(dir))
		return -errno;
	snprintf(path, pn, "%s/hosts", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = -errno;
		rmdir(dir);
		return e;
	}
	const char *parts[] = { head, p->hosts };
	size_t lens[] = { strlen(head), p->hosts_len };
	for (size_t i = 0; i < 2; i++)
		for (off = 0; off < lens[i];) {
			ssize_t n = write(fd, parts[i] + off, lens[i] - off);
			if (n < 0) {
				int e = -errno;
				unlink(path);
				rmdir(dir);
				return e;
			}
			off += (size_t)n;
		}
	return 0;
}

/* A pseudo-terminal for fd 1 or 2 (TF_PROC_PTY): the master for the
 * caller, the slave for the program, in raw mode.  TIOCGPTPEER (4.13+)
 * opens the slave from the master, without a path lookup in /dev/pts;
 * ptsname_r() where it is missing. */
static int open_pty(int *master, int *slave)
{
	struct termios tio;
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	char name[128];
	int m, s, err;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -errno;
	if (unlockpt(m) < 0)
		goto fail;
#ifdef TIOCGPTPEER
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 && (errno == EINVAL || errno == ENOTTY))
#else
	s = -1;
#endif
	{
		if (ptsname_r(m, name, sizeof name) != 0)
			goto fail;
		s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	}
	if (s < 0)
		goto fail;
	/* Raw: the bytes the program writes, nothing added (no \r before
	 * \n), nothing echoed, no signal from a control character. */
	if (tcgetattr(s, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(s, TCSANOW, &tio);
	}
	ioctl(s, TIOCSWINSZ, &ws);
	*master = m;
	*slave = s;
	return 0;
fail:
	err = -errno;
	close(m);
	return err;
}

static int fail(tf_proc *p, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(tf_proc *p, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p->err, sizeof p->err, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof p->err)
		snprintf(p->err + n, sizeof p->err - (size_t)n, ": %s", strerror(err));
	p->failed = true;
	return -err;
}

int tf_proc_start(tf_proc *p)
{
	_cleanup_free_ char **envp = NULL;
	int status[2] = { -1, -1 }, pipes[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	_cleanup_close_ int devnull = -1;
	char dir[PATH_MAX] = "", hosts[PATH_MAX] = "";
	struct launch l = { .netns = tf_host_nsfd(p ? p->host : NULL) };
	const char *path = NULL;
	struct clone_args ca = { 0 };
	int pidfd = -1, r, err;
	struct rec rec;
	ssize_t n;
	pid_t pid;

	if (!p)
		return -EINVAL;
	if (p->started || p->failed)
		return -EBUSY;
	p->started = true;
	if (l.netns < 0)
		return fail(p, EINVAL, "host has no network namespace");
	envp = build_envp(p, &path);
	if (!envp)
		return fail(p, ENOMEM, "environment");
	if (p->hosts_len) {
		r = write_hosts(p, dir, sizeof dir, hosts, sizeof hosts);
		if (r < 0)
			return fail(p, -r, "hosts view in %s", dir[0] ? dir : "$TMPDIR");
	}
	if (pipe2(status, O_CLOEXEC) < 0) {
		err = errno;
		goto out_errno;
	}
	status[0] = fd_high(status[0]);
	status[1] = fd_high(status[1]);
	for (int fd = 0; fd < 3; fd++) {
		l.stdio[fd] = -1;
		if (p->stdio[fd] == TF_PROC_NULL) {
			if (devnull < 0 && (devnull = fd_high(open("/dev/null", O_RDWR | O_CLOEXEC))) < 0) {
				err = errno;
				goto out_errno;
			}
			l.stdio[fd] = devnull;
		} else if (p->stdio[fd] == TF_PROC_PTY) {
			r = open_pty(&pipes[fd][0], &pipes[fd][1]);
			if (r < 0) {
				err = -r;
				snprintf(p->err, sizeof p->err, "pseudo-terminal for fd %d: %s", fd,
				         strerror(err));
				goto out;
			}
			pipes[fd][0] = fd_high(pipes[fd][0]);
			pipes[fd][1] = fd_high(pipes[fd][1]);
			if (pipes[fd][0] < 0 || pipes[fd][1] < 0) {
				err = EMFILE;
				goto out_errno;
			}
			l.stdio[fd] = pipes[fd][1];
		} else if (p->stdio[fd] == TF_PROC_PIPE) {
			if (pipe2(pipes[fd], O_CLOEXEC) < 0) {
				err = errno;
				goto out_errno;
			}
			pipes[fd][0] = fd_high(pipes[fd][0]);
			pipes[fd][1] = fd_high(pipes[fd][1]);
			if (pipes[fd][0] < 0 || pipes[fd][1] < 0) {
				err = EMFILE;
				goto out_errno;
			}
			/* stdin: the program reads [0]; 1, 2: it writes [1]. */
			l.stdio[fd] = fd == 0 ? pipes[fd][0] : pipes[fd][1];
		}
	}
	if (status[0] < 0 || status[1] < 0) {
		err = EMFILE;
		goto out_errno;
	}
	l.status_w = status[1];
	l.hosts_path = p->hosts_len ? hosts : NULL;
	l.hostname = p->hostname[0] ? p->hostname : NULL;
	l.cwd = p->cwd;
	l.argv = p->argv;
	l.envp = envp;
	l.path = path;

	ca.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_PIDFD | (l.hostname ? CLONE_NEWUTS : 0);
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.exit_signal = SIGCHLD;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
	if (pid < 0 && errno == ENOSYS)
		pid = clone_fallback(ca.flags | SIGCHLD, &pidfd);
	if (pid < 0) {
		err = errno;
		snprintf(p->err, sizeof p->err, "clone3 (new PID and mount namespaces): %s",
		         strerror(err));
		goto out;
	}
	if (pid == 0) {
		close(status[0]);
		supervisor(&l);
	}
	tf__close_fd(&status[1]);
	for (int fd = 0; fd < 3; fd++)
		tf__close_fd(fd == 0 ? &pipes[fd][0] : &pipes[fd][1]);
	p->pid = pid;
	p->pidfd = pidfd;

	do
		n = read(status[0], &rec, sizeof rec);
	while (n < 0 && errno == EINTR);
	if (hosts[0]) {
		unlink(hosts);
		rmdir(dir);
		hosts[0] = 0;
	}
	if (n == (ssize_t)sizeof rec && rec.kind == REC_STARTED) {
		p->start_ns = rec.at_ns;
		p->status_fd = status[0];
		for (int fd = 0; fd < 3; fd++) {
			p->fds[fd] = fd == 0 ? pipes[fd][1] : pipes[fd][0];
			if (p->fds[fd] >= 0 && fd > 0)
				fcntl(p->fds[fd], F_SETFL, O_NONBLOCK);
		}
		return 0;
	}
	/* It did not start: reap the supervisor, report the step. */
	{
		siginfo_t si = { 0 };
		while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
	}
	p->reaped = true;
	if (n == (ssize_t)sizeof rec && rec.kind == REC_ERROR) {
		err = rec.err;
		if (rec.stage == ST_EXEC)
			snprintf(p->err, sizeof p->err, "exec '%s': %s", p->argv[0], strerror(err));
		else if (rec.stage == ST_CHDIR)
			snprintf(p->err, sizeof p->err, "chdir '%s': %s", p->cwd, strerror(err));
		else
			snprintf(p->err, sizeof p->err, "%s: %s",
			         rec.stage > 0 && (size_t)rec.stage < TF_ARRAY_SIZE(stage_names)
			         ? stage_names[rec.stage] : "start", strerror(err));
	} else {
		err = ECHILD;
		snprintf(p->err, sizeof p->err, "the supervisor died before starting the program");
	}
	goto out;

out_errno:
	snprintf(p->err, sizeof p->err, "preparing fds: %s", strerror(err));
out:
	p->failed = true;
	if (hosts[0]) {
		unlink(hosts);
		rmdir(dir);
	}
	tf__close_fd(&status[0]);
	tf__close_fd(&status[1]);
	for (int fd = 0; fd < 3; fd++) {
		tf__close_fd(&pipes[fd][0]);
		tf__close_fd(&pipes[fd][1]);
	}
	tf__close_fd(&pidfd);
	p->pidfd = -1;
	return -err;
}

/* --- after start --- */

int tf_proc_pidfd(const tf_proc *p) { return p && p->pidfd >= 0 ? p->pidfd : -EBADF; }
pid_t tf_proc_pid(const tf_proc *p) { return p ? p->pid : -1; }
int64_t tf_proc_start_ns(const tf_proc *p) { return p ? p->start_ns : -1; }
int64_t tf_proc_exit_ns(const tf_proc *p) { return p && p->have_status ? p->exit_ns : -1; }

int tf_proc_stdio_fd(const tf_proc *p, int fd)
{
	if (!p || fd < 0 || fd > 2 || p->fds[fd] < 0)
		return -EBADF;
	return p->fds[fd];
}

void tf_proc_close_stdio(tf_proc *p, int fd)
{
	if (p && fd >= 0 && fd <= 2)
		tf__close_fd(&p->fds[fd]);
}

int tf_proc_signal(tf_proc *p, int sig)
{
	int s = sig;

	if (!p || sig < 0 || sig >= NSIG)
		return -EINVAL;
	if (!p->started || p->failed || p->pidfd < 0)
		return -ESRCH;
	if (p->reaped)
		return -ESRCH;
	/* SIGKILL is for the supervisor itself: the namespace goes with it.
	 * SIGSTOP cannot be caught: a carrier signal asks for it. */
	if (sig == SIGSTOP)
		s = stop_carrier();
	return send_sig(p, s);
}

/* The supervisor has exited: its last record, then reap it. */
static void collect(tf_proc *p)
{
	siginfo_t si = { 0 };
	struct rec rec;
	ssize_t n;

	fcntl(p->status_fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		n = read(p->status_fd, &rec, sizeof rec);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof rec)
			break;
		if (rec.kind == REC_EXIT) {
			p->status = rec.status;
			p->exit_ns = rec.at_ns;
			p->have_status = true;
		}
	}
	while (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	if (!p->have_status) {
		/* Killed before the program exited (SIGKILL, namespace and all). */
		int sig = si.si_code == CLD_EXITED ? 0 : si.si_status;
		p->status = sig ? (sig & 0x7f) : ((si.si_status & 0xff) << 8);
		p->exit_ns = tf_now_ns();
		p->have_status = true;
	}
	p->reaped = true;
	tf__close_fd(&p->status_fd);
}

int tf_proc_wait(tf_proc *p, int timeout_ms, int *status)
{
	int64_t deadline;

	if (!p)
		return -EINVAL;
	if (!p->started || p->failed)
		return -ECHILD;
	deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	while (!p->reaped) {
		struct pollfd pf = { .fd = p->pidfd, .events = POLLIN };
		int64_t left = deadline - tf_mono_ns();
		int ms = timeout_ms < 0 ? -1 : left <= 0 ? 0 : (int)((left + 999999) / 1000000);
		int r = poll(&pf, 1, ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r > 0) {
			collect(p);
			break;
		}
		if (timeout_ms >= 0 && tf_mono_ns() >= deadline)
			return -ETIME;
	}
	if (status)
		*status = p->status;
	return 0;
}

void tf_proc_free(tf_proc *p)
{
	if (!p)
		return;
	if (p->started && !p->failed && !p->reaped && p->pidfd >= 0) {
		send_sig(p, SIGKILL);
		collect(p);
	}
	tf__close_fd(&p->pidfd);
	tf__close_fd(&p->status_fd);
	for (int fd = 0; fd < 3; fd++)
		tf__close_fd(&p->fds[fd]);
	tf__strv_free(p->argv);
	tf__strv_free(p->env);
	free(p->hosts);
	free(p->cwd);
	free(p);
}

/* --- a program's socket, duplicated --- */

static int ns_id(pid_t pid, char *buf, size_t n)
{
	char path[64];
	ssize_t l;

	snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
	l = readlink(path, buf, n - 1);
	if (l < 0)
		return -errno;
	buf[l] = 0;
	return 0;
}

int tf_proc_socket_dup(tf_proc *p, uint64_t inode, int *ret_fd)
{
	char want[64], have[64], link[64], target[64], path[64];
	DIR *proc;
	struct dirent *e;
	int r = -ENOENT, denied = 0;

	if (!p || !ret_fd || inode == 0)
		return -EINVAL;
	if (!p->started || p->failed || p->reaped)
		return -ESRCH;
	/* The supervisor's own ns/pid is the namespace it is PID 1 of. */
	if ((r = ns_id(p->pid, want, sizeof want)) < 0)
		return r;
	snprintf(target, sizeof target, "socket:[%llu]", (unsigned long long)inode);
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	r = -ENOENT;
	while (r == -ENOENT && (e = readdir(proc))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		DIR *fds;
		struct dirent *f;

		if (*end || pid <= 0 || ns_id((pid_t)pid, have, sizeof have) < 0 || strcmp(have, want))
			continue;
		snprintf(path, sizeof path, "/proc/%ld/fd", pid);
		fds = opendir(path);
		if (!fds) {
			denied |= errno == EACCES || errno == EPERM;
			continue;
		}
		while ((f = readdir(fds))) {
			ssize_t l;
			long fdn = strtol(f->d_name, &end, 10);

			if (*end || fdn < 0)
				continue;
			snprintf(path, sizeof path, "/proc/%ld/fd/%ld", pid, fdn);
			l = readlink(path, link, sizeof link - 1);
			if (l < 0)
				continue;
			link[l] = 0;
			if (strcmp(link, target))
				continue;
			int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
			if (pfd < 0) {
				r = -errno;
				break;
			}
			int dfd = (int)syscall(SYS_pidfd_getfd, pfd, (int)fdn, 0);
			r = dfd < 0 ? -errno : 0;
			close(pfd);
			if (dfd >= 0)
				*ret_fd = dfd;
			break;
		}
		closedir(fds);
	}
	closedir(proc);
	return r == -ENOENT && denied ? -EPERM : r;
}
