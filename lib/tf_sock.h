/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_sock.h — TCP sockets inside hosts, and event waits on them.
 *
 * Every wait is a poll() on the socket with a deadline: nothing here sleeps
 * to synchronise.  Times returned are tf_now_ns() (the packet-timestamp
 * clock), so socket events and captured packets share one time line.
 * Returns 0 or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "tf_capture.h"
#include "tf_sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Socket options newer than the build's headers (include/uapi/linux/tcp.h). */
#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS 44      /* Linux 6.15+ */
#endif
#ifndef TCP_RTO_MIN_US
#define TCP_RTO_MIN_US 45      /* Linux 6.16+ */
#endif
#ifndef TCP_DELACK_MAX_US
#define TCP_DELACK_MAX_US 46   /* Linux 6.16+ */
#endif

/*
 * Addresses are strings, IPv4 ("198.18.2.2") or IPv6 ("2001:2:0:2::2",
 * told by its ':'); the socket's family follows the address.  A flow of
 * an IPv6 connection has family AF_INET6 and src6/dst6 (tf_capture.h);
 * of an IPv4 one, family 0 as before (a dual-stack socket's IPv4-mapped
 * peer counts as IPv4: that is what the wire carries).
 */
int tf_tcp_listen(tf_host *h, const char *addr, uint16_t port, int *ret_fd);
/* A TCP socket inside h (blocking), for options to be set before use:
 * IPv4, or of `family` (AF_INET, AF_INET6) with tf_tcp_socket_af(). */
int tf_tcp_socket(tf_host *h, int *ret_fd);
int tf_tcp_socket_af(tf_host *h, int family, int *ret_fd);
/* Start a non-blocking connect on an existing socket; the flow local →
 * peer is filled in (the local port is bound by connect()). */
int tf_tcp_connect_fd(int fd, const char *addr, uint16_t port, tf_flow *flow);
/* Non-blocking connect started inside h; completes with tf_tcp_connect_wait(). */
int tf_tcp_connect_start(tf_host *h, const char *addr, uint16_t port, int *ret_fd);
/* Waits until a started connect completes: 0, or -errno of the failure
 * (-ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH ...), or -ETIME when the
 * deadline passed first.  *at_ns (may be NULL): when it completed. */
int tf_tcp_connect_wait(int fd, int timeout_ms, int64_t *at_ns);
/* connect() and wait in one (blocking mode restored on success). */
int tf_tcp_connect(tf_host *h, const char *addr, uint16_t port, int timeout_ms, int *ret_fd);
int tf_tcp_accept(int lfd, int timeout_ms, int *ret_fd);
/* A connected client/server pair in two hosts: listen, connect, accept. */
int tf_tcp_pair(tf_host *client, tf_host *server, const char *server_addr, uint16_t port,
                int *client_fd, int *server_fd);

/* poll() for `events` until the deadline; -ETIME when it passed first. */
int tf_sock_wait(int fd, short events, int timeout_ms, short *revents);
/* Waits for a pending socket error (POLLERR/POLLHUP); returns the positive
 * errno in *err (0 for a clean EOF/hangup) and when it was seen. */
int tf_sock_wait_error(int fd, int timeout_ms, int *err, int64_t *at_ns);
/* SO_ERROR: 0 or a positive errno (consumes it, as the kernel does). */
int tf_sock_error(int fd);
int tf_sock_set_int(int fd, int level, int opt, int value);
int tf_sock_get_int(int fd, int level, int opt, int *value);
int tf_sock_send_all(int fd, const void *buf, size_t len);
int tf_tcp_info(int fd, struct tcp_info *ti);
/* The direction local → peer of a connected socket. */
int tf_sock_flow(int fd, tf_flow *f);

/* The options of a TCP socket that decide how long it lives.  getsockopt()
 * answers the effective values: the socket's own, or the host's sysctl when
 * it has none.  rto_max_ms is -1 on a kernel without TCP_RTO_MAX_MS (< 6.15). */
typedef struct tf_sock_knobs {
	int keepalive;                   /* SO_KEEPALIVE */
	int ka_idle_s, ka_intvl_s, ka_cnt;
	int user_timeout_ms, syncnt, rto_max_ms;
} tf_sock_knobs;
int tf_sock_knobs_read(int fd, tf_sock_knobs *k);

/* --- sock_diag (libnl idiag): the sockets of a host, as the kernel sees them --- */

/* One TCP socket of a host, as sock_diag (inet_diag) reports it. */
typedef struct tf_tcp_sock {
	tf_flow  flow;           /* local → remote */
	int      state;          /* TCP_ESTABLISHED ... TCP_LISTEN (<netinet/tcp.h>) */
	unsigned timer;          /* 0 none, 1 retransmit (and TLP), 2 keepalive,
	                          * 3 TIME_WAIT, 4 zero-window probe */
	unsigned timer_count;    /* retransmissions / probes so far (idiag_retrans) */
	uint32_t expires_ms;     /* until that timer fires */
	uint32_t rqueue, wqueue; /* idiag_rqueue, idiag_wqueue */
	uint64_t inode;          /* the socket's inode: "socket:[inode]" in /proc/PID/fd */
	bool     has_info;
	struct tcp_info info;    /* INET_DIAG_INFO, when has_info */
} tf_tcp_sock;

/* Bits for `states`: TF_TCPF(TCP_LISTEN) | TF_TCPF(TCP_ESTABLISHED); ~0u all. */
#define TF_TCPF(s) (1u << (s))

/*
 * The IPv4 TCP sockets of host h whose state is in `states`: up to max
 * written into out, the total count in *n (may exceed max).
 */
int tf_tcp_diag_list(tf_host *h, uint32_t states, tf_tcp_sock *out, size_t max, size_t *n);
/* tf_tcp_diag_list() of one family (AF_INET, AF_INET6), or of both
 * (AF_UNSPEC), each socket read as its own family.  A dual-stack socket
 * (bound to ::) is an AF_INET6 socket, whatever family its peers are. */
int tf_tcp_diag_list_af(tf_host *h, int family, uint32_t states, tf_tcp_sock *out, size_t max,
                        size_t *n);
/*
 * The TCP state (TCP_ESTABLISHED, ..., as in <netinet/tcp.h>) of host h's
 * socket with this local → remote flow, or -ENOENT when the host has no
 * such socket any more.  IPv6 flows are looked up among the host's
 * AF_INET6 sockets.
 */
int tf_tcp_diag_state(tf_host *h, const tf_flow *f, int *state);
const char *tf_tcp_state_name(int state);
/*
 * The whole sock_diag record of host h's socket with this local -> remote
 * flow, either family (an IPv6 flow among the AF_INET6 sockets): its
 * state, its timer and the ms until it fires (idiag_expires: for a
 * TIME-WAIT socket jiffies_to_msecs(tw_timer.expires - jiffies),
 * inet_twsk_diag_fill()) ...; -ENOENT when the host has no such socket.
 */
int tf_tcp_diag_find(tf_host *h, const tf_flow *f, tf_tcp_sock *out);

#ifdef __cplusplus
}
#endif
