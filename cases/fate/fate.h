/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fate.h — what the fate family's cases share: small helpers over sockets,
 * captures (both families: TCP flows, ICMP and ICMPv6) and processes.  The
 * kernel rules they assert are lib/tf_model.h's, the timer band is lib's
 * tf_band, the addresses tf_topo's; each case file holds its own fixture.
 * Static and header-only: the family owns only cases/fate/.
 *
 * Rules were read in the 6.x sources (net/ipv4/tcp_timer.c with
 * icsk_probes_tstamp, tcp_ipv4.c with tcp_rto_max(sk) of 6.15+, tcp_input.c,
 * tcp_output.c, net/core/neighbour.c, link_watch.c, kernel/time/timer.c);
 * the cases assert them on the running kernel (6.18).
 * Times are µs unless a name says otherwise; jiffies are the kernel's.
 */
#pragma once

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "tf_test.h"

/* The router's addresses come from tf_topo, per family:
 * tf_topo_addr(t, TF_NODE_ROUTER_CLIENT / TF_NODE_ROUTER_SERVER, family)
 * (issue 12: FATE_CLIENT_GW / FATE_SERVER_GW, IPv4 literals, are gone). */

#ifndef SO_MEMINFO
#define SO_MEMINFO 55                  /* include/uapi/asm-generic/socket.h, 4.14+ */
#endif
/* enum sk_meminfo_vars, include/uapi/linux/sock_diag.h */
enum { FATE_MEM_RMEM_ALLOC, FATE_MEM_RCVBUF, FATE_MEM_WMEM_ALLOC, FATE_MEM_SNDBUF,
       FATE_MEM_FWD_ALLOC, FATE_MEM_WMEM_QUEUED, FATE_MEM_OPTMEM, FATE_MEM_BACKLOG,
       FATE_MEM_DROPS, FATE_MEM_VARS };

/* ------------------------------------------------------------------ */
/* Timers: lib's one band type (tf_band, model_timer.c)                */
/* ------------------------------------------------------------------ */

/*
 * A timer armed for d jiffies from a syscall or a softirq fires within
 * tf_model_band(); the cases use it where a timer may be re-armed from
 * either context (tcp_send_probe0() in the timer, tcp_ack_probe() in
 * softirq): its band holds both.  Thin names over lib's, nothing more.
 */
typedef tf_band fate_band;

static inline int64_t fate_jiffy_us(unsigned hz) { return (int64_t)tf_jiffies_to_us(hz, 1); }

static inline fate_band fate_timer_band(unsigned hz, uint64_t d)
{
	fate_band b;

	tf_must(tf_model_band(hz, d, false, &b));
	return b;
}

static inline bool fate_expect_band(const char *what, int64_t measured_us, fate_band b)
{
	return tf_expect_timer_time(what, measured_us, b.mid_us, b.lo_us, b.hi_us);
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */
/* ------------------------------------------------------------------ */

/* struct tcp_info as the kernel has it (include/uapi/linux/tcp.h): glibc's
 * copy stops at tcpi_total_retrans (104 bytes), the kernel goes on with
 * the RFC 4898 counters; it copies min(optlen, its size). */
struct fate_tcp_info {
	struct tcp_info base;
	uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
	uint32_t segs_out, segs_in;
	uint32_t notsent_bytes, min_rtt, data_segs_in, data_segs_out;
};

static inline void fate_tcp_info(int fd, struct fate_tcp_info *ti)
{
	socklen_t l = sizeof *ti;

	memset(ti, 0, sizeof *ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &l) < 0)
		tf_fail("getsockopt(TCP_INFO): %s", strerror(errno));
	if (l < sizeof *ti)
		TF_SKIP("TCP_INFO is %u bytes here, the RFC 4898 counters need %zu (Linux 4.6+)",
		        (unsigned)l, sizeof *ti);
}

/* SO_MEMINFO: sk_meminfo(), net/core/sock.c. */
static inline void fate_meminfo(int fd, uint32_t mem[FATE_MEM_VARS])
{
	socklen_t l = FATE_MEM_VARS * sizeof(uint32_t);

	memset(mem, 0, l);
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &l) < 0) {
		if (errno == ENOPROTOOPT)
			TF_SKIP("kernel has no SO_MEMINFO (Linux 4.14+)");
		tf_fail("getsockopt(SO_MEMINFO): %s", strerror(errno));
	}
}

static inline void fate_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		tf_fail("fcntl(O_NONBLOCK): %s", strerror(errno));
}

/* SO_KEEPALIVE with the three per-socket knobs (0 leaves a knob alone:
 * the host's net.ipv4.tcp_keepalive_* then apply, keepalive_time_when()). */
static inline void fate_keepalive(int fd, int idle_s, int intvl_s, int cnt)
{
	tf_must(tf_sock_set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1));
	if (idle_s)
		tf_must(tf_sock_set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle_s));
	if (intvl_s)
		tf_must(tf_sock_set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, intvl_s));
	if (cnt)
		tf_must(tf_sock_set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, cnt));
}

/* sock_diag state of a flow in host h, or -ENOENT when it has no socket. */
static inline int fate_state(tf_host *h, const tf_flow *f)
{
	int st = -1, r = tf_tcp_diag_state(h, f, &st);

	if (r == -ENOENT)
		return -ENOENT;
	tf_must(r);
	return st;
}

static inline void fate_expect_state(const char *what, tf_host *h, const tf_flow *f, int want)
{
	int st = fate_state(h, f);
	char label[160];

	snprintf(label, sizeof label, "%s == %s", what, tf_tcp_state_name(want));
	if (st != want)
		tf_note("%s: %s, expected %s", what, tf_tcp_state_name(st), tf_tcp_state_name(want));
	tf_expect_int(label, st, want);
}

/* A deterministic payload, so that what arrives can be compared. */
static inline void fate_pattern(uint8_t *buf, size_t n, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}

/* Read exactly n bytes within timeout_ms (poll with a deadline).  Returns
 * bytes read (< n on EOF or deadline) or -errno of the failing recv(). */
static inline long fate_recv_exact(int fd, void *buf, size_t n, int timeout_ms)
{
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	size_t got = 0;

	while (got < n) {
		int64_t left = deadline - tf_mono_ns();
		ssize_t k;
		int r;

		if (left <= 0)
			break;
		r = tf_sock_wait(fd, POLLIN, (int)((left + 999999) / 1000000), NULL);
		if (r == -ETIME)
			break;
		tf_must(r);
		k = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (long)got;
}

/* ------------------------------------------------------------------ */
/* Captured packets                                                    */
/* Matching packets (flow, flags, payload, ACK, window, ICMP/ICMPv6 from
 * a sender; found, counted, timed, waited for): lib's tf_match,
 * tf_capture_find() and friends (tf_capture.h). */

/*
 * A keepalive or zero-window probe: tcp_xmit_probe_skb() sends a bare ACK
 * "with a previous sequence" (snd_una - 1) so that the peer must answer
 * (net/ipv4/tcp_output.c).  snd_nxt is the sender's next sequence (with
 * nothing unacknowledged, snd_una == snd_nxt).
 */
static inline bool fate_is_probe(const tf_pkt *p, const tf_flow *f, uint32_t snd_nxt)
{
	return tf_pkt_in_flow(p, f, false) && p->payload == 0 && p->flags == TF_TCP_ACK && p->seq == snd_nxt - 1;
}

/* ------------------------------------------------------------------ */
/* Bounded observation windows                                         */
/* ------------------------------------------------------------------ */

/*
 * "Nothing happens for window_ms": one poll() on the sockets (POLLIN and
 * POLLRDHUP; POLLERR and POLLHUP are always reported) and on the capture,
 * until the deadline.  Packets are read into the capture as they come (the
 * caller counts them); a socket event ends the window early.  Returns the
 * index of the socket with an event (its revents in *rev), or -1 when the
 * window passed quietly.
 */
static inline int fate_watch(const int *fds, size_t n, tf_capture *cap, int window_ms, short *rev)
{
	int64_t deadline = tf_mono_ns() + (int64_t)window_ms * 1000000;
	struct pollfd p[9];

	if (n > 8)
		tf_fail("fate_watch: too many sockets");
	for (;;) {
		int64_t left = deadline - tf_mono_ns();
		int r;

		for (size_t i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN | POLLRDHUP };
		p[n] = (struct pollfd){ .fd = cap ? tf_capture_fd(cap) : -1, .events = POLLIN };
		if (left <= 0)
			return -1;
		r = poll(p, n + 1, (int)((left + 999999) / 1000000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			tf_fail("poll: %s", strerror(errno));
		if (cap && (p[n].revents & POLLIN))
			tf_must(tf_capture_read(cap));
		for (size_t i = 0; i < n; i++)
			if (p[i].revents) {
				if (rev)
					*rev = p[i].revents;
				return (int)i;
			}
	}
}

/* ------------------------------------------------------------------ */
/* Processes                                                           */
/* ------------------------------------------------------------------ */

static inline int fate_pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0) {
		if (errno == ENOSYS)
			TF_SKIP("kernel has no pidfd_open (Linux 5.3+)");
		tf_fail("pidfd_open: %s", strerror(errno));
	}
	return fd;
}

static inline void fate_pidfd_kill(int pidfd, int sig)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		tf_fail("pidfd_send_signal: %s", strerror(errno));
}

/* Read one byte from a pipe within timeout_ms: the byte, or -ETIME / -EPIPE. */
static inline int fate_pipe_get(int fd, int timeout_ms)
{
	unsigned char c;
	int r = tf_sock_wait(fd, POLLIN, timeout_ms, NULL);

	if (r < 0)
		return r;
	if (read(fd, &c, 1) != 1)
		return -EPIPE;
	return c;
}

