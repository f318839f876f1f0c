/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate exec: one scenario, from a fresh sandbox to a result.
 *
 * Builds the topology, starts the server command in host "server" and the
 * client command in host "client" (tf_exec.h: their own PID and mount
 * namespaces, /etc/hosts naming client/server/router), breaks the network
 * at a time or on an event, and watches until the client gives up.
 *
 * Everything waits on fds with deadlines: the programs' pidfds and output
 * pipes, the capture's fd, the caller's signalfd.  The only periodic
 * wake-ups are samples (sock_diag: is the server listening yet, what is
 * the client's socket doing), never a sleep standing in for an event.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_private.h"
#include "tf_probe.h"
#include "tf_sandbox.h"
#include "tf_sock.h"
#include "tf_util.h"

/* Read what a program wrote; split into lines; the client's lines may be
 * the trigger.  Returns true if a line matched the trigger regex. */
static bool drain_output(struct tf_exec_run *R, int who, int stream)
{
	tf_proc *p = who == 0 ? R->client : R->server;
	struct tf_exec_lines *L = &R->res->out[who];
	int fd = tf_proc_stdio_fd(p, stream);
	bool matched = false;
	char buf[4096];

	if (fd < 0)
		return false;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			/* EOF: flush the partial line, stop polling this fd. */
			if (L->plen[stream - 1]) {
				tf_exec_lines_push(L, L->part[stream - 1], L->plen[stream - 1]);
				L->plen[stream - 1] = 0;
			}
			tf_proc_close_stdio(p, stream);
			return matched;
		}
		if (n < 0)
			return matched;
		for (ssize_t i = 0; i < n; i++) {
			char *part = L->part[stream - 1];
			size_t *pl = &L->plen[stream - 1];
			bool full = *pl == sizeof L->part[0] - 1;

			if (buf[i] != '\n' && !full) {
				part[(*pl)++] = buf[i];
				continue;
			}
			/* A newline ends the line; a full buffer cuts an over-long
			 * one here (the byte starts the next piece).  One byte is
			 * always left for the terminating NUL. */
			if (buf[i] == '\n' && *pl && part[*pl - 1] == '\r')
				(*pl)--;
			part[*pl] = 0;
			if (who == 0 && R->o->have_re && !R->res->fault_done &&
			    regexec(&R->o->re, part, 0, NULL, 0) == 0)
				matched = true;
			tf_exec_lines_push(L, part, *pl);
			*pl = 0;
			if (buf[i] != '\n')
				part[(*pl)++] = buf[i];
		}
	}
}

static bool is_client_flow(const struct tf_exec_run *R, const tf_pkt *p, bool to_server)
{
	tf_flow down = tf_flow_reverse_any(R->up);

	return p->proto == IPPROTO_TCP && tf_flow_addr_eq(p, to_server ? &R->up : &down);
}

/* The client → server addresses of the run's family, for the capture's
 * packets and the sock_diag samples. */
static int set_up_flow(struct tf_exec_run *R)
{
	int fam = R->o->family;
	const char *c = tf_topo_addr(R->t, TF_NODE_CLIENT, fam);
	const char *s = tf_topo_addr(R->t, TF_NODE_SERVER, fam);

	memset(&R->up, 0, sizeof R->up);
	if (!c || !s)
		return -EINVAL;
	if (fam == AF_INET6) {
		R->up.family = AF_INET6;
		if (inet_pton(AF_INET6, c, &R->up.src6) != 1 || inet_pton(AF_INET6, s, &R->up.dst6) != 1)
			return -EINVAL;
	} else if (inet_pton(AF_INET, c, &R->up.src) != 1 || inet_pton(AF_INET, s, &R->up.dst) != 1) {
		return -EINVAL;
	}
	return 0;
}

/* A socket's remote address is the server's (the run's family). */
static bool to_server(const struct tf_exec_run *R, const tf_flow *f)
{
	if (tf_flow_is_v6(&R->up))
		return tf_flow_is_v6(f) && tf_in6_eq(&f->dst6, &R->up.dst6);
	return !tf_flow_is_v6(f) && f->dst.s_addr == R->up.dst.s_addr;
}

/* slow-reader: a server let run reads what its buffer holds and its kernel
 * says so with a larger window (tcp_cleanup_rbuf() -> tcp_send_ack()).
 * That read is the run: it stops at once, so each period lets in about a
 * window, not whatever a fast client pushes in RUN ms.  The raw field
 * compares within one connection (one window scale). */
static void slow_window(struct tf_exec_run *R, const tf_pkt *p)
{
	if (p->flags & (TF_TCP_SYN | TF_TCP_RST))
		return;
	if (p->dport != R->slow_port || R->slow_last_win < 0) {
		R->slow_port = p->dport;
		R->slow_last_win = p->win;
		return;
	}
	if (!R->slow_stopped && p->ts_ns >= R->slow_cont_ns && p->win > R->slow_last_win)
		R->slow_read = true;
	R->slow_last_win = p->win;
}

/* New packets: count bytes, see handshakes.  true when the trigger fired. */
static bool capture_events(struct tf_exec_run *R)
{
	bool fire = false;

	if (!R->cap)
		return false;
	if (tf_capture_read(R->cap) < 0)
		return false;
	for (; R->cap_seen < tf_capture_count(R->cap); R->cap_seen++) {
		const tf_pkt *p = tf_capture_pkt(R->cap, R->cap_seen);
		bool up = is_client_flow(R, p, true), down = is_client_flow(R, p, false);

		if (up)
			R->res->sent += p->payload;
		if (down)
			R->res->received += p->payload;
		if (down && R->slow_on)
			slow_window(R, p);
		if (down && (p->flags & (TF_TCP_SYN | TF_TCP_ACK)) == (TF_TCP_SYN | TF_TCP_ACK))
			R->synack_port = p->dport;
		if (up && (p->flags & (TF_TCP_SYN | TF_TCP_ACK)) == TF_TCP_SYN && R->res->client_syn_ns < 0)
			R->res->client_syn_ns = p->ts_ns;
		/* The client's ACK of the SYN-ACK: both ends are ESTABLISHED. */
		if (up && R->synack_port && p->sport == R->synack_port &&
		    (p->flags & (TF_TCP_SYN | TF_TCP_ACK | TF_TCP_RST)) == TF_TCP_ACK &&
		    R->o->trig == TR_ESTABLISHED)
			fire = true;
		switch (R->o->trig) {
		case TR_SENT:     fire |= R->res->sent >= R->o->bytes; break;
		case TR_RECEIVED: fire |= R->res->received >= R->o->bytes; break;
		case TR_BYTES:    fire |= R->res->sent + R->res->received >= R->o->bytes; break;
		default: break;
		}
	}
	return fire;
}

/* --- the client's socket, sampled --- */

static void read_knobs(struct tf_exec_run *R)
{
	struct tf_exec_watch *w = &R->res->w;
	int fd = -1, r;

	w->knobs_err = 0;
	r = tf_proc_socket_dup(R->client, w->inode, &fd);
	if (r < 0) {
		w->knobs_err = r;
		return;
	}
	r = tf_sock_knobs_read(fd, &w->k);
	w->knobs = r == 0;
	w->knobs_err = r;
	/* The duplicate must not keep the socket alive: close it now. */
	close(fd);
}

static void sample(struct tf_exec_run *R)
{
	tf_tcp_sock socks[64], *best = NULL;
	size_t n = 0;
	int64_t now = tf_now_ns();
	struct tf_exec_watch *w = &R->res->w;

	if (tf_tcp_diag_list_af(tf_topo_client(R->t), R->o->family,
	                        ~(TF_TCPF(TCP_LISTEN) | TF_TCPF(TCP_TIME_WAIT)), socks,
	                        TF_ARRAY_SIZE(socks), &n) < 0)
		return;
	if (n > TF_ARRAY_SIZE(socks))
		n = TF_ARRAY_SIZE(socks);
	for (size_t i = 0; i < n; i++) {
		tf_tcp_sock *s = &socks[i];

		if (!to_server(R, &s->flow))
			continue;
		if (w->have) {
			if (s->flow.sport == w->flow.sport && s->flow.dport == w->flow.dport)
				best = s;
		} else if (s->inode && (!best || s->inode > best->inode)) {
			best = s;  /* the newest socket the client holds */
		}
	}
	if (!w->have) {
		if (!best)
			return;
		w->have = true;
		w->inode = best->inode;
		w->flow = best->flow;
		w->first = *best;
		w->first_ns = now;
		w->at_fault = R->res->fault_ns >= 0 && now - R->res->fault_ns < SAMPLE_NS;
		w->gone_ns = -1;
		read_knobs(R);
	}
	if (!best) {
		if (w->gone_ns < 0)
			w->gone_ns = now;
		return;
	}
	w->state = best->state;
	if (best->timer && best->timer < 8 && best->timer_count > 0)
		w->timers |= 1u << best->timer;
	if (best->timer_count > w->max_count)
		w->max_count = best->timer_count;
}

/* ------------------------------------------------------------------ the event loop */

enum { PH_WAIT_SERVER, PH_RUN };

static void after_inject(struct tf_exec_run *R);

static bool server_listening(struct tf_exec_run *R)
{
	tf_tcp_sock socks[64];
	size_t n = 0;

	/* Both families, whatever the run's: a server bound to :: listens in
	 * the AF_INET6 list only, for IPv4 clients too. */
	if (tf_tcp_diag_list_af(tf_topo_server(R->t), AF_UNSPEC, TF_TCPF(TCP_LISTEN), socks,
	                        TF_ARRAY_SIZE(socks), &n) < 0)
		return false;
	if (R->o->wait_port < 0)
		return n > 0;
	for (size_t i = 0; i < n && i < TF_ARRAY_SIZE(socks); i++)
		if (socks[i].flow.sport == R->o->wait_port)
			return true;
	return false;
}

/*
 * One loop for both phases: everything is an fd.  Returns 0 when the phase
 * ended normally, -1 on interruption.
 */
static int loop(struct tf_exec_run *R, int phase)
{
	const struct tf_exec_opts *o = R->o;
	int64_t next_probe = 0, probe_ns = 5 * MS;

	for (;;) {
		int64_t now = tf_mono_ns(), wake = R->deadline_mono;
		struct pollfd pf[8];
		tf_proc *procs[2] = { R->client, R->server };
		int map[8], n = 0, r;

		if (R->res->interrupted)
			return -1;
		if (phase == PH_WAIT_SERVER) {
			if (R->res->server_done)
				return 0;
			if (now >= next_probe) {
				if (server_listening(R))
					return 0;
				/* 5 ms, backing off to 100 ms: a sample, not a guess. */
				next_probe = now + probe_ns;
				probe_ns = probe_ns * 2 > 100 * MS ? 100 * MS : probe_ns * 2;
			}
			if (now >= R->deadline_mono)
				return 0;
			if (next_probe < wake)
				wake = next_probe;
		} else {
			if (!R->res->fault_done && o->trig == TR_AT && now >= R->client_start_mono + o->at_ns) {
				tf_exec_inject(R);
				if (R->res->fault_failed)
					return 0;
				after_inject(R);
				continue;
			}
			if (R->res->fault_done && o->heal_after_ns >= 0 && !R->res->healed &&
			    now >= R->fault_mono + o->heal_after_ns) {
				tf_exec_heal(R);
				continue;
			}
			if (R->slow_on && (now >= R->slow_next_mono || R->slow_read)) {
				tf_exec_slow_tick(R);
				continue;
			}
			if (R->res->fault_done && !R->res->client_done && now >= R->next_sample_mono) {
				sample(R);
				R->next_sample_mono = now + SAMPLE_NS;
			}
			if (R->res->client_done || now >= R->deadline_mono)
				return 0;
			if (R->res->fault_done) {
				int64_t end = -1;
				if (o->running_ns >= 0)
					end = R->fault_mono + o->running_ns;
				else if (o->exit_within_ns >= 0 && !o->expect_model)
					end = R->fault_mono + o->exit_within_ns;
				if (end >= 0 && now >= end)
					return 0;
				if (end >= 0 && end < wake)
					wake = end;
				if (o->heal_after_ns >= 0 && !R->res->healed &&
				    R->fault_mono + o->heal_after_ns < wake)
					wake = R->fault_mono + o->heal_after_ns;
				if (!R->res->client_done && R->next_sample_mono < wake)
					wake = R->next_sample_mono;
				if (R->slow_on && R->slow_next_mono < wake)
					wake = R->slow_next_mono;
			} else if (o->trig == TR_AT && R->client_start_mono + o->at_ns < wake) {
				wake = R->client_start_mono + o->at_ns;
			}
		}

		pf[n] = (struct pollfd){ .fd = R->sigfd, .events = POLLIN };
		map[n++] = 0;
		for (int who = 0; who < 2; who++) {
			if (!procs[who])
				continue;
			for (int s = 1; s <= 2; s++)
				if (tf_proc_stdio_fd(procs[who], s) >= 0) {
					pf[n] = (struct pollfd){ .fd = tf_proc_stdio_fd(procs[who], s),
					                         .events = POLLIN };
					map[n++] = 10 * (who + 1) + s;
				}
			if (!(who == 0 ? R->res->client_done : R->res->server_done)) {
				pf[n] = (struct pollfd){ .fd = tf_proc_pidfd(procs[who]), .events = POLLIN };
				map[n++] = 10 * (who + 1);
			}
		}
		if (R->cap && phase == PH_RUN) {
			pf[n] = (struct pollfd){ .fd = tf_capture_fd(R->cap), .events = POLLIN };
			map[n++] = 3;
		}
		int64_t left = wake - tf_mono_ns();
		r = poll(pf, (nfds_t)n, left <= 0 ? 0 : (int)((left + MS - 1) / MS));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		bool fire = false;
		for (int i = 0; i < n; i++) {
			if (!pf[i].revents)
				continue;
			int who = map[i] / 10 - 1, what = map[i] % 10;
			if (map[i] == 0) {
				struct signalfd_siginfo si;
				if (read(R->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
					R->res->interrupted = true;
					const char *a = sigabbrev_np((int)si.ssi_signo);
					snprintf(R->res->message, sizeof R->res->message,
					         "interrupted by SIG%s", a ? a : "?");
				}
			} else if (map[i] == 3) {
				fire |= capture_events(R);
			} else if (what == 0) {
				int st = 0;
				if (tf_proc_wait(procs[who], 0, &st) == 0) {
					if (who == 0) {
						R->res->client_done = true;
						R->res->client_status = st;
						R->res->client_exit_ns = tf_proc_exit_ns(procs[who]);
					} else {
						R->res->server_done = true;
						R->res->server_status = st;
						R->res->server_exit_ns = tf_proc_exit_ns(procs[who]);
					}
				}
			} else {
				fire |= drain_output(R, who, what);
			}
		}
		if (phase == PH_RUN && !R->res->fault_done && fire && o->trig != TR_AT && !R->res->client_done) {
			tf_exec_inject(R);
			if (R->res->fault_failed)
				return 0;
			after_inject(R);
		}
	}
}

/* Right after the fault: look at the client's socket; with --model and no
 * --timeout, wait as long as the model says the kernel may hang. */
static void after_inject(struct tf_exec_run *R)
{
	sample(R);
	R->next_sample_mono = tf_mono_ns() + SAMPLE_NS;
	/* A slow reader is a live peer: no give-up of the kernel's to wait for. */
	if (!R->o->timeout_given && (R->o->model || R->o->expect_model) &&
	    R->o->fault->kind != FK_SLOW) {
		int64_t hi = tf_exec_model_predict_hi_us(R);
		if (hi > 0 && R->fault_mono + hi * 1000 + 10 * NS > R->deadline_mono)
			R->deadline_mono = R->fault_mono + hi * 1000 + 10 * NS;
	}
}

/* Drain what the programs still had to say (after they exited). */
static void drain_all(struct tf_exec_run *R)
{
	for (int who = 0; who < 2; who++) {
		tf_proc *p = who == 0 ? R->client : R->server;
		if (!p)
			continue;
		for (int s = 1; s <= 2; s++)
			drain_output(R, who, s);
	}
}

/* ------------------------------------------------------------------ one scenario */

static int skip(struct tf_exec_run *R, const char *why)
{
	R->res->verdict = TF_EXEC_V_SKIP;
	snprintf(R->res->skip, sizeof R->res->skip, "%s", why);
	return TF_EXEC_OK;
}

static int fail(struct tf_exec_run *R)
{
	R->res->verdict = TF_EXEC_V_NOT_OK;
	return TF_EXEC_NOT_OK;
}

/* Bad usage found only now (a sysctl this kernel lacks, a program that
 * cannot start): the message, and whose output shows why. */
static int usage_error(struct tf_exec_run *R, const struct tf_exec_lines *L, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int usage_error(struct tf_exec_run *R, const struct tf_exec_lines *L, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(R->res->message, sizeof R->res->message, fmt, ap);
	va_end(ap);
	R->res->verdict = TF_EXEC_V_USAGE;
	R->res->usage_lines = L;
	return TF_EXEC_USAGE;
}

/* Whether this machine gives us a pseudo-terminal (a container without
 * /dev/ptmx, a seccomp profile): asked once, the answer kept. */
static bool pty_works(struct tf_exec_run *R)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(R->res->pty_err, sizeof R->res->pty_err, "no pseudo-terminal (%s): a pipe",
		         strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

static int start_proc(struct tf_exec_run *R, tf_host *h, const char *cmd, char **argv,
                      const char *name, struct tf_exec_lines *L, tf_proc **ret)
{
	tf_proc *p = NULL;
	int r = cmd ? tf_proc_new_shell(h, cmd, &p) : tf_proc_new(h, argv, &p);
	/* The client's lines are the trigger: give it a terminal, so that
	 * stdio's buffering (a full buffer for a pipe, a line for a
	 * terminal) does not hold them until it exits. */
	bool pty = h == tf_topo_client(R->t) && R->o->trig == TR_LINE && !R->o->no_pty &&
	           pty_works(R);

	if (r < 0)
		return usage_error(R, NULL, "cannot prepare the %s: %s", name, strerror(-r));
	if ((r = tf_proc_set_topo_names_af(p, R->t, R->o->family)) < 0 ||
	    (r = tf_proc_set_hostname(p, name)) < 0 ||
	    (r = tf_proc_set_stdio(p, STDOUT_FILENO, pty ? TF_PROC_PTY : TF_PROC_PIPE)) < 0 ||
	    (r = tf_proc_set_stdio(p, STDERR_FILENO, TF_PROC_PIPE)) < 0) {
		tf_proc_free(p);
		return usage_error(R, NULL, "cannot prepare the %s: %s", name, strerror(-r));
	}
	r = tf_proc_start(p);
	if (r < 0) {
		usage_error(R, NULL, "cannot start the %s: %s", name, tf_proc_error(p));
		tf_proc_free(p);
		return TF_EXEC_USAGE;
	}
	L->who = name;
	L->verbose = R->o->verbose;
	if (pty)
		R->res->pty = true;
	*ret = p;
	return 0;
}

/* The client's link: everything between client and server. */
static int start_capture(struct tf_exec_run *R)
{
	const struct tf_exec_opts *o = R->o;
	bool need = o->trig == TR_ESTABLISHED || o->trig == TR_SENT || o->trig == TR_RECEIVED ||
	            o->trig == TR_BYTES || o->pcap;
	char filter[96], why[512];
	int r;

	snprintf(filter, sizeof filter, "tcp and host %s",
	         tf_topo_addr(R->t, TF_NODE_SERVER, o->family));
	r = tf_capture_new(tf_topo_client(R->t), TF_IF_CLIENT, &R->cap);
	if (r >= 0 && (r = tf_capture_set_filter(R->cap, filter)) >= 0 &&
	    (r = tf_capture_set_snaplen(R->cap, 160)) >= 0)
		r = tf_capture_activate(R->cap);
	if (r >= 0) {
		R->res->captured = true;
		return 0;
	}
	tf_capture_free(R->cap);
	R->cap = NULL;
	if (need && (r == -EPERM || r == -EACCES)) {
		snprintf(why, sizeof why, "packet capture not permitted here: %s", strerror(-r));
		return skip(R, why);
	}
	if (need) {
		snprintf(R->res->message, sizeof R->res->message, "cannot capture: %s", strerror(-r));
		return fail(R);
	}
	R->res->cap_err = "unavailable: the model's origin is approximate";
	return 0;
}

/* Start the server and wait until it listens (unless told not to). */
static int start_server(struct tf_exec_run *R)
{
	const struct tf_exec_opts *o = R->o;
	struct tf_exec_result *res = R->res;
	char st[64], port[32] = "any TCP port";
	int r;

	r = start_proc(R, tf_topo_server(R->t), o->server_cmd, NULL, "server", &res->out[1],
	               &R->server);
	if (r)
		return r;
	res->server_started = true;
	if (o->wait_port == 0)
		return 0;
	loop(R, PH_WAIT_SERVER);
	if (res->interrupted)
		return fail(R);
	if (!res->server_done && server_listening(R))
		return 0;
	drain_all(R);
	tf_exec_describe_status(res->server_status, st, sizeof st);
	if (o->wait_port > 0)
		snprintf(port, sizeof port, "port %d", o->wait_port);
	if (res->server_done)
		return usage_error(R, &res->out[1], "the server %s before listening on %s", st, port);
	return usage_error(R, &res->out[1], "the server did not listen on %s within the timeout "
	                   "(%.0f s)", port, s_of(o->timeout_ns));
}

/* How many integers s holds, separated by blanks (sysctl's proc_dointvec
 * reads them with base 0: 10, 0x1f, 017); -1 when it is not only that. */
static int count_ints(const char *s)
{
	int n = 0;

	for (;;) {
		char *end;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			return n;
		errno = 0;
		(void)strtoll(s, &end, 0);
		if (end == s || errno || (*end && *end != ' ' && *end != '\t' && *end != '\n'))
			return -1;
		n++;
		s = end;
	}
}

/*
 * One --client-sysctl or --server-sysctl option, KEY=VALUE (its syntax was
 * checked with the options).  !write: the key exists in the host (this
 * kernel has it in a network namespace) and the value has the shape of the
 * current one (as many integers, at most, when the current one is
 * integers); write: set it.  A failure is bad usage: message, exit 2.
 */
static int host_sysctl(struct tf_exec_run *R, bool srv, const char *kv, bool write)
{
	tf_host *h = srv ? tf_topo_server(R->t) : tf_topo_client(R->t);
	const char *who = srv ? "server" : "client", *eq = strchr(kv, '=');
	char key[256], cur[1024];
	int r, have, want;

	snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
	if (write) {
		r = tf_host_sysctl_set(h, key, eq + 1);
		if (r < 0)
			return usage_error(R, NULL, "--%s-sysctl: cannot set %s to '%s' in the %s host: %s",
			                   who, key, eq + 1, who, strerror(-r));
		return 0;
	}
	r = tf_host_sysctl_get(h, key, cur, sizeof cur);
	if (r == -ENOENT || r == -EISDIR || r == -ENOTDIR)
		return usage_error(R, NULL, "--%s-sysctl: no sysctl '%s' in a network namespace of "
		                   "this kernel", who, key);
	if (r < 0)
		return 0;    /* write-only (net.ipv4.route.flush): the write will say */
	have = count_ints(cur);
	want = count_ints(eq + 1);
	if (have > 0 && (want < 1 || want > have))
		return usage_error(R, NULL, "--%s-sysctl: %s takes %s%d integer%s (it is '%.*s'), "
		                   "not '%s'", who, key, have > 1 ? "up to " : "", have,
		                   have > 1 ? "s" : "", (int)strcspn(cur, "\n"), cur, eq + 1);
	return 0;
}

static int scenario(struct tf_exec_run *R)
{
	const struct tf_exec_opts *o = R->o;
	struct tf_exec_result *res = R->res;
	char why[512];
	int r;

	r = tf_topo_new(o->shape, &R->t);
	if (r < 0) {
		if (r == -EPERM || r == -EACCES || r == -ENOSPC || r == -EINVAL || r == -ENOSYS) {
			tf_sandbox_explain(r, why, sizeof why);
			return skip(R, why);
		}
		snprintf(res->message, sizeof res->message, "cannot build the topology: %s",
		         strerror(-r));
		return fail(R);
	}
	res->sandbox = true;
	res->userns = tf_world_in_userns(tf_topo_world(R->t));

	if (set_up_flow(R) < 0) {
		snprintf(res->message, sizeof res->message, "the topology has no %s addresses",
		         o->family == AF_INET6 ? "IPv6" : "IPv4");
		return fail(R);
	}
	/* Every sysctl checked in its host, then every one written. */
	for (int pass = 0; pass < 2; pass++)
		for (int srv = 0; srv < 2; srv++)
			for (size_t i = 0; i < (srv ? o->n_server_sysctl : o->n_sysctl); i++)
				if ((r = host_sysctl(R, srv, srv ? o->server_sysctl[i] : o->sysctl[i],
				                     pass == 1)))
					return r;

	if (o->fault->netem) {
		r = tf_exec_probe_netem(R);
		if (r == -EOPNOTSUPP)
			return skip(R, "sch_netem not available");
		if (r < 0)
			return usage_error(R, NULL, "netem %s: %s", o->fault_text, strerror(-r));
	}

	if ((r = start_capture(R)) || res->verdict == TF_EXEC_V_SKIP)
		return r;

	R->deadline_mono = R->t0_mono + o->timeout_ns;
	if (o->server_cmd && (r = start_server(R)))
		return r;

	r = start_proc(R, tf_topo_client(R->t), o->client_cmd, o->client_argv, "client",
	               &res->out[0], &R->client);
	if (r)
		return r;
	res->client_started = true;
	res->client_start_ns = tf_proc_start_ns(R->client);
	/* The same instant on the monotonic clock. */
	R->client_start_mono = tf_mono_ns() - (tf_now_ns() - res->client_start_ns);
	R->deadline_mono = R->t0_mono + o->timeout_ns;
	if (o->trig == TR_AT && !o->timeout_given &&
	    R->client_start_mono + o->at_ns + 10 * NS > R->deadline_mono)
		R->deadline_mono = R->client_start_mono + o->at_ns + 10 * NS;
	if (!o->timeout_given && o->running_ns >= 0)
		R->deadline_mono = R->client_start_mono + (o->trig == TR_AT ? o->at_ns : 0) +
		                   o->running_ns + TF_EXEC_DEFAULT_TIMEOUT_S * NS;

	loop(R, PH_RUN);
	res->end_ns = tf_now_ns();
	if (o->fault->kind == FK_SLOW && res->fault_done && !res->fault_failed)
		tf_exec_slow_describe(R);
	res->watched_ns = R->deadline_mono - R->t0_mono;
	if (res->client_done)
		drain_all(R);
	if (R->cap)
		tf_capture_read(R->cap);

	/* A shell that could not find or run the command says so with 127 or
	 * 126 (POSIX): that is a client that cannot start, not a measurement.
	 * After the fault (--at 0) it is still no measurement: a failure,
	 * unless that status was what --expect-status asked for. */
	bool shell_failed = res->client_done && o->client_cmd && WIFEXITED(res->client_status) &&
	                    (WEXITSTATUS(res->client_status) == 127 ||
	                     WEXITSTATUS(res->client_status) == 126) &&
	                    !(o->have_status && o->status == WEXITSTATUS(res->client_status));
	if (shell_failed && !res->fault_done)
		return usage_error(R, &res->out[0], "the client could not start (the shell exited %d):",
		                   WEXITSTATUS(res->client_status));

	/* A capture asked for and not written is a failed run: CI keeps the
	 * file as evidence and must not find it missing after a pass. */
	if (o->pcap && R->cap && (r = tf_capture_save(R->cap, o->pcap)) < 0)
		snprintf(res->pcap_err, sizeof res->pcap_err, "not written (%s): %s", o->pcap,
		         strerror(-r));

	tf_exec_judge(R, shell_failed);
	if (res->pcap_err[0])
		res->message_to_stderr = true;
	return res->verdict == TF_EXEC_V_OK ? TF_EXEC_OK : TF_EXEC_NOT_OK;
}

int tf_exec_scenario_run(const struct tf_exec_opts *o, int sigfd, struct tf_exec_result *res)
{
	struct tf_exec_run R = { .o = o, .res = res, .sigfd = sigfd };
	int r;

	memset(res, 0, sizeof *res);
	res->t0_ns = tf_now_ns();
	R.t0_mono = tf_mono_ns();
	res->uid = (unsigned)getuid();
	res->client_start_ns = res->fault_ns = res->heal_ns = res->end_ns = -1;
	res->client_exit_ns = res->server_exit_ns = res->client_syn_ns = -1;
	res->w.gone_ns = -1;
	tf_kernel_release(res->kernel, sizeof res->kernel);
	if (tf_kernel_hz(&res->hz) < 0)
		res->hz = 0;
	snprintf(res->desc, sizeof res->desc, "%s: %s", o->fault_text, o->client_text);

	tf_sentinel_start(&R.wake);   /* failing, the allowance is the fixed part */
	r = scenario(&R);
	tf_sentinel_stop(R.wake);

	/* Nothing left behind: the programs (and their namespaces), then the
	 * world. */
	tf_proc_free(R.client);
	tf_proc_free(R.server);
	for (size_t i = 0; i < R.n_faults; i++)
		tf_fault_free(R.faults[i]);
	tf_capture_free(R.cap);
	tf_model_free(R.m);
	tf_topo_free(R.t);
	res->duration_ns = tf_now_ns() - res->t0_ns;
	return r;
}

void tf_exec_result_free(struct tf_exec_result *res)
{
	if (!res)
		return;
	tf_exec_lines_free(&res->out[0]);
	tf_exec_lines_free(&res->out[1]);
}
