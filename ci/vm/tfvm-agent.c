/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tfvm-agent — the two ends of the VM fallback's command channel.
 *
 *   tfvm-agent guest DEV
 *       PID 1's successor in the guest: reads jobs from the virtio-serial
 *       port DEV, runs each one (concurrently) and streams its stdout,
 *       stderr and wait status back.
 *   tfvm-agent host --listen SOCK --chan CHAN [--idle S] [--boot-timeout S]
 *                   [--ready-fd N] -- QEMU-COMMAND...
 *       On the host: starts qemu (whose virtio-serial chardev connects to
 *       CHAN), waits for the guest's READY, then accepts clients on SOCK
 *       (harness/vm_fallback.c) and multiplexes their jobs over the one
 *       channel.  Exits, and powers the guest off, after S seconds with no
 *       client.
 *
 * Frames on both links: u32 id, u32 len, u8 type, then len bytes.  Types:
 * N new job (cwd, uid, gid, argc, argv..., env... as NUL-terminated
 * strings), K kill (signal), Q quit, R ready (text), A accepted (text),
 * O stdout, E stderr, X exit (wait status as text).
 *
 * Static (built by tcpfate-vm with cc -static), so the same file runs in an
 * initramfs and on the host.  No shell anywhere: jobs are execvpe()d.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXJOBS 128
#define HDR 9
#define MAXFRAME (1 << 20)

static void die(const char *what)
{
	fprintf(stderr, "tfvm-agent: %s: %s\n", what, strerror(errno));
	exit(1);
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

static int send_frame(int fd, uint32_t id, char type, const void *p, uint32_t len)
{
	char h[HDR];
	memcpy(h, &id, 4);
	memcpy(h + 4, &len, 4);
	h[8] = type;
	if (write_all(fd, h, HDR) < 0)
		return -1;
	return len ? write_all(fd, p, len) : 0;
}

/* A byte stream cut into frames. */
struct rbuf {
	char *p;
	size_t len, cap;
};

/* Read what is there; 0 on EOF or error. */
static int rbuf_fill(struct rbuf *b, int fd)
{
	if (b->cap - b->len < 65536) {
		b->cap = b->cap ? b->cap * 2 : 131072;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			die("realloc");
	}
	ssize_t r = read(fd, b->p + b->len, b->cap - b->len);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (r <= 0)
		return 0;
	b->len += (size_t)r;
	return 1;
}

/* The next complete frame, or 0. */
static int rbuf_frame(struct rbuf *b, uint32_t *id, char *type, char **data, uint32_t *len)
{
	if (b->len < HDR)
		return 0;
	memcpy(id, b->p, 4);
	memcpy(len, b->p + 4, 4);
	*type = b->p[8];
	if (*len > MAXFRAME)
		return -1;
	if (b->len < HDR + *len)
		return 0;
	*data = b->p + HDR;
	return 1;
}

static void rbuf_consume(struct rbuf *b, uint32_t len)
{
	size_t n = HDR + len;
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ================================================================ guest */

struct gjob {
	uint32_t id;
	pid_t pid;
	int out, err, pidfd;
	int status;
	int exited;
};

static struct gjob gjobs[MAXJOBS];
static int chan = -1;

static void gjob_pump(struct gjob *j, int *fd, char type)
{
	char buf[32768];
	ssize_t r;

	while (*fd >= 0) {
		r = read(*fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			close(*fd);
			*fd = -1;
			return;
		}
		if (send_frame(chan, j->id, type, buf, (uint32_t)r) < 0)
			exit(1);
	}
}

static void gjob_finish_if_done(struct gjob *j)
{
	char s[32];

	if (!j->exited)
		return;
	/* The main process is gone: what it wrote is in the pipes; a
	 * grandchild that still holds them does not keep the job alive. */
	for (int *fd = &j->out; fd <= &j->err; fd++) {
		if (*fd >= 0) {
			fcntl(*fd, F_SETFL, O_NONBLOCK);
			gjob_pump(j, fd, fd == &j->out ? 'O' : 'E');
			if (*fd >= 0) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	snprintf(s, sizeof s, "%d", j->status);
	send_frame(chan, j->id, 'X', s, (uint32_t)strlen(s));
	j->pid = 0;
}

/* The job's main process is reaped (by its pidfd's wake-up or by the
 * orphan reaper, whichever came first): its status, then its X frame. */
static void gjob_exited(struct gjob *j, int status)
{
	j->status = status;
	j->exited = 1;
	close(j->pidfd);
	gjob_finish_if_done(j);
}

static void gjob_start(uint32_t id, char *data, uint32_t len)
{
	char *f[8192];
	size_t n = 0;
	struct gjob *j = NULL;
	int po[2], pe[2];

	for (char *p = data; p < data + len && n < 8191; p += strlen(p) + 1)
		f[n++] = p;
	f[n] = NULL;
	for (int i = 0; i < MAXJOBS; i++)
		if (!gjobs[i].pid) {
			j = &gjobs[i];
			break;
		}
	int argc = n >= 4 ? atoi(f[3]) : 0;
	if (!j || argc < 1 || (size_t)(4 + argc) > n) {
		const char *m = j ? "tfvm-agent: malformed job\n" : "tfvm-agent: too many jobs\n";
		send_frame(chan, id, 'E', m, (uint32_t)strlen(m));
		send_frame(chan, id, 'X', "512", 3); /* exit 2 */
		return;
	}
	/* The overlay over the host's 9p root keeps the dentries, and the
	 * page cache the pages, of files the host may have replaced since
	 * (a rebuilt case binary: its old pages with the new file's made it
	 * crash, SIGSEGV).  With no job running, nothing of the last run is in
	 * use: drop them, and this job looks every file up afresh. */
	bool busy = false;
	for (int i = 0; i < MAXJOBS; i++)
		busy |= gjobs[i].pid != 0 && &gjobs[i] != j;
	if (!busy) {
		int dc = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
		if (dc >= 0) {
			if (write(dc, "3\n", 2) < 0) { /* best effort: a stale cache is the old behaviour */ }
			close(dc);
		}
	}
	const char *cwd = f[0];
	uid_t uid = (uid_t)strtoul(f[1], NULL, 10);
	gid_t gid = (gid_t)strtoul(f[2], NULL, 10);
	char **argv = &f[4];
	char **envp = &f[4 + argc];
	/* The caller's environment, plus the guest's marker (no second
	 * fallback from in here) and the slack measured at boot, unless the
	 * caller set its own. */
	static char in_vm[] = "TF_IN_VM=1", slack[64], info[256];
	const char *gs = getenv("TFVM_SLACK_US"), *gi = getenv("TFVM_SLACK_INFO");
	size_t ne = 0, k;
	int has_slack = 0;
	for (k = 0; envp[k]; k++)
		has_slack |= strncmp(envp[k], "TF_SLACK_US=", 12) == 0;
	char **env = calloc(k + 4, sizeof *env);
	if (!env)
		die("calloc");
	for (k = 0; envp[k]; k++)
		if (strncmp(envp[k], "TF_IN_VM=", 9) && strncmp(envp[k], "TF_VM_SLACK=", 12))
			env[ne++] = envp[k];
	env[ne++] = in_vm;
	if (!has_slack && gs && *gs) {
		snprintf(slack, sizeof slack, "TF_SLACK_US=%s", gs);
		env[ne++] = slack;
	}
	snprintf(info, sizeof info, "TF_VM_SLACK=%s%s%s", has_slack ? "TF_SLACK_US set by the caller (guest measured " : "",
	         gi && *gi ? gi : "not measured", has_slack ? ")" : "");
	env[ne++] = info;
	env[ne] = NULL;
	envp = env;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		argv[argc] = NULL;
		setsid();
		/* Jobs may mlockall() what they mapped from 9p (the runner does,
		 * with TF_IN_VM set): no lock limit in the guest. */
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
		setrlimit(RLIMIT_MEMLOCK, &rl);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		signal(SIGPIPE, SIG_DFL);
		if (chdir(cwd) < 0 && chdir("/tmp") < 0)
			_exit(127);
		if (uid != 0 && (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)) {
			fprintf(stderr, "tfvm-agent: cannot become uid %u: %s\n", (unsigned)uid,
			        strerror(errno));
			_exit(126);
		}
		/* PATH for the lookup is the caller's, like its own execvp. */
		for (char **e = envp; *e; e++)
			if (strncmp(*e, "PATH=", 5) == 0)
				setenv("PATH", *e + 5, 1);
		execvpe(argv[0], argv, envp);
		fprintf(stderr, "tfvm-agent: cannot run %s in the guest: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(env);
	close(po[1]);
	close(pe[1]);
	*j = (struct gjob){ .id = id, .pid = pid, .out = po[0], .err = pe[0] };
	j->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (j->pidfd < 0)
		die("pidfd_open");
}

static void gjob_kill(uint32_t id, int sig)
{
	for (int i = 0; i < MAXJOBS; i++)
		if (gjobs[i].pid && gjobs[i].id == id)
			kill(-gjobs[i].pid, sig);
}

static int guest_main(const char *dev, const char *ready)
{
	struct rbuf in = { 0 };

	chan = open(dev, O_RDWR | O_CLOEXEC);
	if (chan < 0)
		die(dev);
	signal(SIGPIPE, SIG_IGN);
	send_frame(chan, 0, 'R', ready, (uint32_t)strlen(ready));
	for (;;) {
		struct pollfd pf[1 + 3 * MAXJOBS];
		struct { struct gjob *j; int what; } who[1 + 3 * MAXJOBS];
		nfds_t n = 0;

		pf[n++] = (struct pollfd){ .fd = chan, .events = POLLIN };
		for (int i = 0; i < MAXJOBS; i++) {
			struct gjob *j = &gjobs[i];
			if (!j->pid)
				continue;
			if (j->out >= 0) {
				who[n] = (typeof(who[0])){ j, 0 };
				pf[n++] = (struct pollfd){ .fd = j->out, .events = POLLIN };
			}
			if (j->err >= 0) {
				who[n] = (typeof(who[0])){ j, 1 };
				pf[n++] = (struct pollfd){ .fd = j->err, .events = POLLIN };
			}
			if (!j->exited) {
				who[n] = (typeof(who[0])){ j, 2 };
				pf[n++] = (struct pollfd){ .fd = j->pidfd, .events = POLLIN };
			}
		}
		if (poll(pf, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (nfds_t k = 1; k < n; k++) {
			if (!pf[k].revents)
				continue;
			struct gjob *j = who[k].j;
			if (!j->pid)
				continue;
			if (who[k].what == 0 && j->out == pf[k].fd) {
				char buf[32768];
				ssize_t r = read(j->out, buf, sizeof buf);
				if (r > 0)
					send_frame(chan, j->id, 'O', buf, (uint32_t)r);
				else if (r == 0 || errno != EINTR) {
					close(j->out);
					j->out = -1;
				}
			} else if (who[k].what == 1 && j->err == pf[k].fd) {
				char buf[32768];
				ssize_t r = read(j->err, buf, sizeof buf);
				if (r > 0)
					send_frame(chan, j->id, 'E', buf, (uint32_t)r);
				else if (r == 0 || errno != EINTR) {
					close(j->err);
					j->err = -1;
				}
			} else if (who[k].what == 2) {
				int st;
				if (waitpid(j->pid, &st, WNOHANG) == j->pid)
					gjob_exited(j, st);
			}
		}
		/* Orphans re-parented to us (we are PID 1): reap them.  A job
		 * that exited since the poll is reaped here too: its status is
		 * the job's (dropped, its X frame was never sent and its caller
		 * on the host waited forever: concurrent jobs, recipe 4). */
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG | __WALL);
			if (p <= 0)
				break;
			for (int i = 0; i < MAXJOBS; i++)
				if (gjobs[i].pid == p && !gjobs[i].exited)
					gjob_exited(&gjobs[i], st);
		}
		if (pf[0].revents) {
			if (!rbuf_fill(&in, chan)) {
				/* The host went away: nothing to serve. */
				sync();
				return 0;
			}
			uint32_t id, len;
			char type, *data;
			int r;
			while ((r = rbuf_frame(&in, &id, &type, &data, &len)) == 1) {
				if (type == 'N')
					gjob_start(id, data, len);
				else if (type == 'K' && len < 16) {
					char s[16];
					memcpy(s, data, len);
					s[len] = 0;
					gjob_kill(id, atoi(s));
				} else if (type == 'Q') {
					sync();
					return 0;
				}
				rbuf_consume(&in, len);
			}
			if (r < 0)
				return 1;
		}
	}
}

/* ================================================================ host */

struct client {
	int fd;
	uint32_t id;
	struct rbuf in;
	int started;
};

static struct client clients[MAXJOBS];
static uint32_t next_id = 1;

static int listen_unix(const char *path, int backlog)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof a.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, backlog) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void client_drop(struct client *c, int gchan)
{
	if (c->started) {
		/* The caller is gone (a timeout killed it): end its job too. */
		send_frame(gchan, c->id, 'K', "9", 1);
	}
	close(c->fd);
	free(c->in.p);
	*c = (struct client){ .fd = -1 };
}

static int host_main(int argc, char **argv)
{
	const char *listen_path = NULL, *chan_path = NULL;
	const char *info = "";
	int idle_s = 30, boot_s = 60, ready_fd = -1, i;
	char ready[1024] = "";

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--") && i + 1 < argc) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "--listen"))
			listen_path = argv[++i];
		else if (!strcmp(argv[i], "--chan"))
			chan_path = argv[++i];
		else if (!strcmp(argv[i], "--idle"))
			idle_s = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--boot-timeout"))
			boot_s = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--info"))
			info = argv[++i];
		else if (!strcmp(argv[i], "--ready-fd"))
			ready_fd = atoi(argv[++i]);
		else
			break;
	}
	if (!listen_path || !chan_path || i >= argc) {
		fprintf(stderr, "usage: tfvm-agent host --listen SOCK --chan CHAN [--idle S] "
		        "[--boot-timeout S] [--ready-fd N] [--info TEXT] -- QEMU...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int cl = listen_unix(chan_path, 1);
	if (cl < 0)
		die(chan_path);
	pid_t qemu = fork();
	if (qemu < 0)
		die("fork");
	if (qemu == 0) {
		close(cl);
		if (ready_fd >= 0)
			close(ready_fd);
		execvp(argv[i], &argv[i]);
		fprintf(stderr, "tfvm-agent: cannot run %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	int qfd = (int)syscall(SYS_pidfd_open, qemu, 0);
	if (qfd < 0)
		die("pidfd_open");

	/* Boot: qemu connects, the guest says READY. */
	int gchan = -1;
	struct rbuf gin = { 0 };
	int64_t deadline = now_ms() + boot_s * 1000LL;
	for (;;) {
		struct pollfd pf[2] = { { .fd = gchan >= 0 ? gchan : cl, .events = POLLIN },
		                        { .fd = qfd, .events = POLLIN } };
		int64_t left = deadline - now_ms();
		if (left <= 0 || poll(pf, 2, (int)left) == 0) {
			fprintf(stderr, "tfvm-agent: the guest did not come up within %d s\n", boot_s);
			kill(qemu, SIGKILL);
			waitpid(qemu, NULL, 0);
			unlink(chan_path);
			return 3;
		}
		if (pf[1].revents) {
			int st;
			waitpid(qemu, &st, 0);
			fprintf(stderr, "tfvm-agent: qemu exited before the guest was up (status %d)\n",
			        WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			unlink(chan_path);
			return 3;
		}
		if (gchan < 0) {
			gchan = accept4(cl, NULL, NULL, SOCK_CLOEXEC);
			if (gchan >= 0) {
				close(cl);
				unlink(chan_path);
			}
			continue;
		}
		if (!rbuf_fill(&gin, gchan)) {
			fprintf(stderr, "tfvm-agent: the guest closed its channel during boot\n");
			kill(qemu, SIGKILL);
			waitpid(qemu, NULL, 0);
			return 3;
		}
		uint32_t id, len;
		char type, *data;
		if (rbuf_frame(&gin, &id, &type, &data, &len) == 1 && type == 'R') {
			snprintf(ready, sizeof ready, "%s%s%.*s", info, *info ? " " : "", (int)len, data);
			rbuf_consume(&gin, len);
			break;
		}
	}

	/* Serve.  SOCK appears only now: a client that finds it gets a guest. */
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.%d", listen_path, (int)getpid());
	int ls = listen_unix(tmp, 64);
	if (ls < 0 || rename(tmp, listen_path) < 0)
		die(listen_path);
	if (ready_fd >= 0) {
		dprintf(ready_fd, "ready %s\n", ready);
		close(ready_fd);
	}
	for (i = 0; i < MAXJOBS; i++)
		clients[i].fd = -1;
	int64_t idle_since = now_ms();
	int rc = 0;
	for (;;) {
		struct pollfd pf[3 + MAXJOBS];
		int nact = 0;
		pf[0] = (struct pollfd){ .fd = gchan, .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = qfd, .events = POLLIN };
		pf[2] = (struct pollfd){ .fd = ls, .events = POLLIN };
		for (i = 0; i < MAXJOBS; i++) {
			pf[3 + i] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
			nact += clients[i].fd >= 0;
		}
		int timeout = -1;
		if (!nact) {
			int64_t left = idle_since + idle_s * 1000LL - now_ms();
			if (left <= 0) {
				/* Stop taking clients first: one that connected in
				 * this instant is served, later ones start a guest. */
				unlink(listen_path);
				struct pollfd p1 = { .fd = ls, .events = POLLIN };
				if (poll(&p1, 1, 0) == 1) {
					idle_since = now_ms();
					goto accept;
				}
				break;
			}
			timeout = (int)left;
		}
		if (poll(pf, 3 + MAXJOBS, timeout) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pf[1].revents) {
			fprintf(stderr, "tfvm-agent: qemu exited while serving\n");
			rc = 5;
			break;
		}
		if (pf[0].revents) {
			if (!rbuf_fill(&gin, gchan)) {
				fprintf(stderr, "tfvm-agent: the guest closed its channel\n");
				rc = 5;
				break;
			}
		}
		uint32_t id, len;
		char type, *data;
		int r;
		while ((r = rbuf_frame(&gin, &id, &type, &data, &len)) == 1) {
			for (i = 0; i < MAXJOBS; i++) {
				struct client *c = &clients[i];
				if (c->fd < 0 || !c->started || c->id != id)
					continue;
				if (send_frame(c->fd, 0, type, data, len) < 0 || type == 'X') {
					c->started = 0; /* finished, or the caller is gone */
					if (type != 'X')
						send_frame(gchan, id, 'K', "9", 1);
					client_drop(c, gchan);
					if (!--nact)
						idle_since = now_ms();
				}
				break;
			}
			rbuf_consume(&gin, len);
		}
		if (r < 0) {
			fprintf(stderr, "tfvm-agent: bad frame from the guest\n");
			rc = 5;
			break;
		}
		for (i = 0; i < MAXJOBS; i++) {
			struct client *c = &clients[i];
			if (c->fd < 0 || !pf[3 + i].revents || pf[3 + i].fd != c->fd)
				continue;
			if (!rbuf_fill(&c->in, c->fd)) {
				client_drop(c, gchan);
				if (!--nact)
					idle_since = now_ms();
				continue;
			}
			while ((r = rbuf_frame(&c->in, &id, &type, &data, &len)) == 1) {
				if (type == 'N' && !c->started) {
					c->id = next_id++;
					c->started = 1;
					send_frame(c->fd, 0, 'A', ready, (uint32_t)strlen(ready));
					send_frame(gchan, c->id, 'N', data, len);
				} else if (type == 'K' && c->started) {
					send_frame(gchan, c->id, 'K', data, len);
				}
				rbuf_consume(&c->in, len);
			}
		}
		if (pf[2].revents) {
accept:;
			int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0) {
				for (i = 0; i < MAXJOBS && clients[i].fd >= 0; i++)
					;
				if (i == MAXJOBS)
					close(fd);
				else
					clients[i] = (struct client){ .fd = fd };
			}
		}
	}
	close(ls);
	unlink(listen_path);
	for (i = 0; i < MAXJOBS; i++)
		if (clients[i].fd >= 0)
			client_drop(&clients[i], gchan);
	/* Power the guest off and give qemu a moment to go. */
	send_frame(gchan, 0, 'Q', NULL, 0);
	struct pollfd q = { .fd = qfd, .events = POLLIN };
	if (poll(&q, 1, 10000) != 1)
		kill(qemu, SIGKILL);
	waitpid(qemu, NULL, 0);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "guest")) {
		int rc = guest_main(argv[2], argc >= 4 ? argv[3] : "");
		if (getpid() == 1) {
			/* PID 1 must not exit: power off instead. */
			kill(-1, SIGKILL);
			sync();
			reboot(RB_POWER_OFF);
		}
		return rc;
	}
	if (argc >= 2 && !strcmp(argv[1], "host"))
		return host_main(argc, argv);
	fprintf(stderr, "usage: tfvm-agent guest DEV [READY-TEXT] | host ... -- QEMU...\n");
	return 2;
}
