/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_exec.h — run a real program inside a host, and see what its sockets do.
 *
 * libpcap's life cycle: new → set → start → wait → free.
 *
 *   tf_proc *p;
 *   tf_proc_new_shell(tf_topo_client(t), "curl -sS http://server:8080/", &p);
 *   tf_proc_set_topo_names(p, t);                 // /etc/hosts view + TCPFATE_* env
 *   tf_proc_set_stdio(p, STDOUT_FILENO, TF_PROC_PIPE);
 *   if (tf_proc_start(p) < 0)                     // exec failure comes back as -errno
 *           fprintf(stderr, "%s\n", tf_proc_error(p));
 *   poll tf_proc_pidfd(p) and tf_proc_stdout_fd(p) ...
 *   tf_proc_wait(p, 0, &status);                  // waitpid()-style status
 *   tf_proc_free(p);                              // kills whatever still runs
 *
 * How a program runs.  tf_proc_start() clones a small supervisor (our own
 * code, no exec) into a new PID namespace, mount namespace and, with
 * tf_proc_set_hostname(), UTS namespace; the supervisor joins the host's
 * network namespace, makes its mounts private to it (MS_SLAVE: nothing
 * propagates back to the machine), mounts a /proc of its own, bind-mounts a
 * generated file over /etc/hosts when names were added, and forks the
 * program in a process group of its own, with default signal dispositions,
 * an empty signal mask and only fds 0-2 open.  The supervisor is PID 1 of
 * the namespace, so:
 *   - it dies with the thread that called tf_proc_start()
 *     (PR_SET_PDEATHSIG(SIGKILL)), and when it dies the kernel kills every
 *     process left in the namespace: nothing the program started, not even
 *     a daemonised grandchild, outlives the caller;
 *   - the program sees itself as PID 2; /proc is the namespace's own;
 *   - when the program exits, the supervisor reports the exact wait status
 *     and the time (tf_now_ns()) and exits, ending the namespace: background
 *     children of the program die with it.
 * Unprivileged this runs inside the world's user namespace (the caller is
 * root there); as real root the mount namespace is still private, so the
 * machine's /etc/hosts and /proc are never touched.
 *
 * Every fd the caller gets is O_CLOEXEC; pipe read ends are O_NONBLOCK too.
 * The caller must not ignore SIGCHLD (SIG_IGN would auto-reap).  Safe in a
 * multi-threaded caller: after the clone nothing allocates or takes a lock
 * (raw clone3(), clone(2) where clone3 is refused; no fork() handlers).
 * Returns 0 or a negative errno; nothing here prints or exits.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "tf_capture.h"
#include "tf_sandbox.h"
#include "tf_sock.h"
#include "tf_topo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tf_proc tf_proc;

typedef enum tf_proc_stdio {
	TF_PROC_NULL = 0,   /* /dev/null (stdin's default) */
	TF_PROC_INHERIT,    /* the caller's own fd (stdout's and stderr's default) */
	TF_PROC_PIPE,       /* a pipe to the caller: tf_proc_stdio_fd() */
	/* fd 1 or 2 only: a pseudo-terminal, so a program that buffers its
	 * stdout when it is not a terminal (C stdio, python3 without -u)
	 * writes each line as it ends it.  Raw mode (no \r added, no echo,
	 * no signals from the line discipline), 80x24; it is not the
	 * program's controlling terminal.  tf_proc_stdio_fd() is the master
	 * (non-blocking); once the program and everything it left behind
	 * have closed it, read() fails with EIO where a pipe says EOF. */
	TF_PROC_PTY,
} tf_proc_stdio;

/* A program to run in host h: argv[0] is looked up in PATH (the PATH of
 * the program's environment, see tf_proc_setenv()) unless it has a '/'.
 * argv is copied. */
int  tf_proc_new(tf_host *h, char *const argv[], tf_proc **ret);
/* The same for "/bin/sh -c command". */
int  tf_proc_new_shell(tf_host *h, const char *command, tf_proc **ret);

/* --- before start (-EBUSY after) --- */
/* Add or override one environment variable (the rest is the caller's
 * environment).  name: [A-Za-z_][A-Za-z0-9_]*. */
int  tf_proc_setenv(tf_proc *p, const char *name, const char *value);
/* fd is 0, 1 or 2. */
int  tf_proc_set_stdio(tf_proc *p, int fd, tf_proc_stdio mode);
/* An /etc/hosts entry in the program's view (localhost is always there):
 * name is a host name (letters, digits, '-', '.'), addr IPv4 or IPv6. */
int  tf_proc_add_host_entry(tf_proc *p, const char *name, const char *addr);
/*
 * The topology's names, as the host the program runs in sees them:
 * /etc/hosts maps client, server and router (and NAME.tcpfate.test) to
 * their addresses (the router's address on this host's side), and the
 * environment gets TCPFATE_CLIENT, TCPFATE_SERVER, TCPFATE_ROUTER (path
 * only), TCPFATE_FAMILY ("ipv4") and TCPFATE_HOST (the host's name).
 * -EINVAL if the program's host is not one of t's.
 */
int  tf_proc_set_topo_names(tf_proc *p, const tf_topo *t);
/* The same with the addresses of `family` (AF_INET: as above; AF_INET6:
 * the topology's IPv6 addresses, tf_topo_addr(), and TCPFATE_FAMILY
 * "ipv6"): the names resolve to that family only. */
int  tf_proc_set_topo_names_af(tf_proc *p, const tf_topo *t, int family);
/* The program's hostname(2), in a UTS namespace of its own. */
int  tf_proc_set_hostname(tf_proc *p, const char *name);
/* Working directory of the program [the caller's]. */
int  tf_proc_set_cwd(tf_proc *p, const char *dir);

/*
 * Start it.  Returns once the program has been exec'd (0), or with the
 * -errno of the step that failed (-ENOENT for a command that is not there,
 * -EACCES, ...; tf_proc_error() names the step).  On failure nothing is
 * left running and only tf_proc_error() and tf_proc_free() remain.
 */
int  tf_proc_start(tf_proc *p);
/* "exec 'curlx': No such file or directory"; "" when nothing failed. */
const char *tf_proc_error(const tf_proc *p);

/* --- after start --- */
/* The supervisor's pidfd: readable once the program has exited (or the
 * supervisor was killed).  Owned by p. */
int  tf_proc_pidfd(const tf_proc *p);
/* The supervisor's PID in the caller's namespace. */
pid_t tf_proc_pid(const tf_proc *p);
/* The read end of the pipe for fd 1 or 2 (the write end for 0) when it is
 * TF_PROC_PIPE, else -EBADF.  Owned by p; the caller may close it early
 * with tf_proc_close_stdio(). */
int  tf_proc_stdio_fd(const tf_proc *p, int fd);
void tf_proc_close_stdio(tf_proc *p, int fd);
/* tf_now_ns() when the exec succeeded. */
int64_t tf_proc_start_ns(const tf_proc *p);
/*
 * Send sig to the program's process group.  SIGKILL kills the supervisor,
 * so the kernel kills everything in the namespace; SIGSTOP is carried to
 * the group too (the supervisor cannot be stopped in its place); 0 tests
 * whether it still runs.  -ESRCH once it has been reaped.
 */
int  tf_proc_signal(tf_proc *p, int sig);
/*
 * Wait up to timeout_ms (-1: forever, 0: poll) for the program to exit.
 * 0 and its wait status in *status (WIFEXITED() ... apply; a program killed
 * with its whole namespace reads as killed by SIGKILL), -ETIME if it still
 * runs.  Can be called again after it returned 0.
 */
int  tf_proc_wait(tf_proc *p, int timeout_ms, int *status);
/* When the program exited (tf_now_ns() clock), or -1 while it runs. */
int64_t tf_proc_exit_ns(const tf_proc *p);
/* Kills (SIGKILL, whole namespace) and reaps if still running; accepts NULL. */
void tf_proc_free(tf_proc *p);
static inline void tf_proc_freep(tf_proc **p) { tf_proc_free(*p); }

/* --- what the programs' sockets are doing (their list: tf_tcp_diag_list(), tf_sock.h) --- */
/*
 * A duplicate (pidfd_getfd(), O_CLOEXEC) of the socket with this inode,
 * taken from whichever process of p's namespace holds it, so the caller
 * can read its options (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_USER_TIMEOUT ...).
 * -ENOENT when no process of p holds it; -EPERM when ptrace rules forbid.
 */
int  tf_proc_socket_dup(tf_proc *p, uint64_t inode, int *ret_fd);

#ifdef __cplusplus
}
#endif
