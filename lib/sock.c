/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/idiag/idiagnl.h>
#include <netlink/idiag/msg.h>

#include "tf_sock.h"
#include "tf_util.h"

/* An address string's sockaddr: IPv6 when it has a colon (brackets and
 * zone ids are not accepted), IPv4 otherwise; NULL is IPv4's any. */
static int sockaddr_of(const char *addr, uint16_t port, struct sockaddr_storage *ss,
                       socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (addr && strchr(addr, ':')) {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)ss;

		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &sa->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof *sa;
	} else {
		struct sockaddr_in *sa = (struct sockaddr_in *)ss;

		sa->sin_family = AF_INET;
		sa->sin_port = htons(port);
		if (!addr)
			sa->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof *sa;
	}
	return 0;
}

/* One end of a flow from a socket address.  An IPv4-mapped IPv6 address
 * (a dual-stack socket talking IPv4) is IPv4: that is what is on the wire. */
static int flow_end(const struct sockaddr_storage *ss, sa_family_t *fam, struct in_addr *a4,
                    struct in6_addr *a6, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sa = (const struct sockaddr_in *)ss;

		*fam = AF_INET;
		*a4 = sa->sin_addr;
		memset(a6, 0, sizeof *a6);
		*port = ntohs(sa->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)ss;

		*port = ntohs(sa->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr)) {
			*fam = AF_INET;
			memcpy(a4, sa->sin6_addr.s6_addr + 12, 4);
			memset(a6, 0, sizeof *a6);
		} else {
			*fam = AF_INET6;
			a4->s_addr = 0;
			*a6 = sa->sin6_addr;
		}
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* The flow local -> remote from two socket addresses; both ends must agree
 * on the family. */
static int flow_of(const struct sockaddr_storage *l, const struct sockaddr_storage *p,
                   tf_flow *f)
{
	sa_family_t fl = 0, fp = 0;
	tf_flow n = { 0 };
	int r;

	if ((r = flow_end(l, &fl, &n.src, &n.src6, &n.sport)) < 0 ||
	    (r = flow_end(p, &fp, &n.dst, &n.dst6, &n.dport)) < 0)
		return r;
	if (fl != fp)
		return -EAFNOSUPPORT;
	/* IPv4 flows keep family 0, as every tf_flow made before IPv6. */
	n.family = fl == AF_INET6 ? AF_INET6 : 0;
	*f = n;
	return 0;
}

int tf_tcp_listen(tf_host *h, const char *addr, uint16_t port, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_storage sa;
	socklen_t sl;
	int r;

	if (!ret_fd)
		return -EINVAL;
	r = sockaddr_of(addr, port, &sa, &sl);
	if (r < 0)
		return r;
	fd = tf_host_socket(h, sa.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return fd;
	r = tf_sock_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (r < 0)
		return r;
	if (bind(fd, (struct sockaddr *)&sa, sl) < 0 || listen(fd, 128) < 0)
		return -errno;
	*ret_fd = fd;
	fd = -1;
	return 0;
}

int tf_tcp_socket_af(tf_host *h, int family, int *ret_fd)
{
	int fd;

	if (!ret_fd || (family != AF_INET && family != AF_INET6))
		return -EINVAL;
	fd = tf_host_socket(h, family, SOCK_STREAM, 0);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

int tf_tcp_socket(tf_host *h, int *ret_fd)
{
	return tf_tcp_socket_af(h, AF_INET, ret_fd);
}

int tf_tcp_connect_fd(int fd, const char *addr, uint16_t port, tf_flow *flow)
{
	struct sockaddr_storage sa, l;
	socklen_t sl, ll = sizeof l;
	int fl, r;

	r = sockaddr_of(addr, port, &sa, &sl);
	if (r < 0 || !addr)
		return -EINVAL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sl) < 0 && errno != EINPROGRESS)
		return -errno;
	if (flow) {
		if (getsockname(fd, (struct sockaddr *)&l, &ll) < 0)
			return -errno;
		r = flow_of(&l, &sa, flow);
		if (r < 0)
			return r;
	}
	return 0;
}

int tf_tcp_connect_start(tf_host *h, const char *addr, uint16_t port, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_storage sa;
	socklen_t sl;
	int r;

	if (!ret_fd || !addr)
		return -EINVAL;
	r = sockaddr_of(addr, port, &sa, &sl);
	if (r < 0)
		return r;
	fd = tf_host_socket(h, sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&sa, sl) < 0 && errno != EINPROGRESS)
		return -errno;
	*ret_fd = fd;
	fd = -1;
	return 0;
}

int tf_tcp_connect_wait(int fd, int timeout_ms, int64_t *at_ns)
{
	short rev = 0;
	int r = tf_sock_wait(fd, POLLOUT, timeout_ms, &rev);

	if (at_ns)
		*at_ns = tf_now_ns();
	if (r < 0)
		return r;
	r = tf_sock_error(fd);
	return r > 0 ? -r : r;
}

static int set_blocking(int fd, bool blocking)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

int tf_tcp_connect(tf_host *h, const char *addr, uint16_t port, int timeout_ms, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (!ret_fd)
		return -EINVAL;
	r = tf_tcp_connect_start(h, addr, port, &fd);
	if (r < 0)
		return r;
	r = tf_tcp_connect_wait(fd, timeout_ms, NULL);
	if (r < 0)
		return r;
	r = set_blocking(fd, true);
	if (r < 0)
		return r;
	*ret_fd = fd;
	fd = -1;
	return 0;
}

int tf_tcp_accept(int lfd, int timeout_ms, int *ret_fd)
{
	int r, fd;

	if (!ret_fd)
		return -EINVAL;
	r = tf_sock_wait(lfd, POLLIN, timeout_ms, NULL);
	if (r < 0)
		return r;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int tf_tcp_pair(tf_host *client, tf_host *server, const char *server_addr, uint16_t port,
                int *client_fd, int *server_fd)
{
	_cleanup_close_ int lfd = -1, cfd = -1, sfd = -1;
	int r;

	if (!client_fd || !server_fd)
		return -EINVAL;
	r = tf_tcp_listen(server, server_addr, port, &lfd);
	if (r < 0)
		return r;
	/* The first packet also resolves ARP or ND: allow a generous 5 s. */
	r = tf_tcp_connect(client, server_addr, port, 5000, &cfd);
	if (r < 0)
		return r;
	r = tf_tcp_accept(lfd, 5000, &sfd);
	if (r < 0)
		return r;
	*client_fd = cfd;
	*server_fd = sfd;
	cfd = sfd = -1;
	return 0;
}

int tf_sock_wait(int fd, short events, int timeout_ms, short *revents)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t deadline = tf_mono_ns() + (int64_t)timeout_ms * 1000000;
	int r;

	if (fd < 0)
		return -EBADF;
	for (;;) {
		int64_t left = deadline - tf_mono_ns();
		int ms = timeout_ms < 0 ? -1 : left <= 0 ? 0 : (int)((left + 999999) / 1000000);

		r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			if (timeout_ms >= 0 && tf_mono_ns() >= deadline)
				return -ETIME;
			continue;
		}
		if (revents)
			*revents = p.revents;
		return 0;
	}
}

int tf_sock_wait_error(int fd, int timeout_ms, int *err, int64_t *at_ns)
{
	short rev = 0;
	int r;

	if (!err)
		return -EINVAL;
	/* POLLERR/POLLHUP are always reported; asking for nothing else means
	 * readable data or writability does not end the wait early. */
	r = tf_sock_wait(fd, POLLRDHUP, timeout_ms, &rev);
	if (at_ns)
		*at_ns = tf_now_ns();
	if (r < 0)
		return r;
	*err = tf_sock_error(fd);
	if (*err < 0)
		return *err;
	return 0;
}

int tf_sock_error(int fd)
{
	int e = 0;
	socklen_t l = sizeof e;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
		return -errno;
	return e;
}

int tf_sock_set_int(int fd, int level, int opt, int value)
{
	return setsockopt(fd, level, opt, &value, sizeof value) < 0 ? -errno : 0;
}

int tf_sock_get_int(int fd, int level, int opt, int *value)
{
	socklen_t l = sizeof *value;
	return getsockopt(fd, level, opt, value, &l) < 0 ? -errno : 0;
}

int tf_sock_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tf_tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t l = sizeof *ti;

	if (!ti)
		return -EINVAL;
	memset(ti, 0, sizeof *ti);
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &l) < 0 ? -errno : 0;
}

int tf_sock_knobs_read(int fd, tf_sock_knobs *k)
{
	int r;

	if (!k)
		return -EINVAL;
	if ((r = tf_sock_get_int(fd, SOL_SOCKET, SO_KEEPALIVE, &k->keepalive)) < 0 ||
	    (r = tf_sock_get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, &k->ka_idle_s)) < 0 ||
	    (r = tf_sock_get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, &k->ka_intvl_s)) < 0 ||
	    (r = tf_sock_get_int(fd, IPPROTO_TCP, TCP_KEEPCNT, &k->ka_cnt)) < 0 ||
	    (r = tf_sock_get_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &k->user_timeout_ms)) < 0 ||
	    (r = tf_sock_get_int(fd, IPPROTO_TCP, TCP_SYNCNT, &k->syncnt)) < 0)
		return r;
	/* 6.15+: a per-socket maximum RTO; older kernels do not know it */
	if (tf_sock_get_int(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &k->rto_max_ms) < 0)
		k->rto_max_ms = -1;
	return 0;
}

int tf_sock_flow(int fd, tf_flow *f)
{
	struct sockaddr_storage l, p;
	socklen_t ll = sizeof l, pl = sizeof p;

	if (!f)
		return -EINVAL;
	if (getsockname(fd, (struct sockaddr *)&l, &ll) < 0 ||
	    getpeername(fd, (struct sockaddr *)&p, &pl) < 0)
		return -errno;
	return flow_of(&l, &p, f);
}

static int diag_connect(void *arg)
{
	struct nl_sock *sk = arg;
	return idiagnl_connect(sk) < 0 ? -EIO : 0;
}

/* One sock_diag dump (libnl idiag) of host h's TCP sockets of one family
 * whose state is in `states`: the diag socket is bound inside the host to
 * see them.  inet_diag keeps one hash per family: an IPv4 flow of a
 * dual-stack AF_INET6 socket is only in the AF_INET6 list (::ffff:a.b.c.d). */
static int diag_dump(tf_host *h, int family, uint32_t states, struct nl_sock **ret_sk,
                     struct nl_cache **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = tf_host_run(h, diag_connect, sk);
	if (r < 0) {
		nl_socket_free(sk);
		return r;
	}
	fcntl(nl_socket_get_fd(sk), F_SETFD, FD_CLOEXEC);
	if (idiagnl_msg_alloc_cache(sk, family, (int)states, ret) < 0) {
		nl_socket_free(sk);
		return -EIO;
	}
	*ret_sk = sk;
	return 0;
}

/* One socket of a dump of `family`; false when its addresses are missing. */
static bool diag_sock(struct idiagnl_msg *m, int family, tf_tcp_sock *s)
{
	struct nl_addr *src = idiagnl_msg_get_src(m), *dst = idiagnl_msg_get_dst(m);
	unsigned alen = family == AF_INET6 ? 16 : 4;

	memset(s, 0, sizeof *s);
	/* libnl asks with the compat request, which the kernel answers for
	 * every family (inet_diag_dump_compat(): AF_UNSPEC): a socket of the
	 * other family is not one of this dump's */
	if (idiagnl_msg_get_family(m) != family)
		return false;
	/* inet_diag carries 16-byte address fields; IPv4 uses the first 4. */
	if (!src || !dst || nl_addr_get_len(src) < alen || nl_addr_get_len(dst) < alen)
		return false;
	if (family == AF_INET6) {
		s->flow.family = AF_INET6;
		memcpy(&s->flow.src6, nl_addr_get_binary_addr(src), 16);
		memcpy(&s->flow.dst6, nl_addr_get_binary_addr(dst), 16);
	} else {
		memcpy(&s->flow.src, nl_addr_get_binary_addr(src), 4);
		memcpy(&s->flow.dst, nl_addr_get_binary_addr(dst), 4);
	}
	/* libnl hands the ports over in network order. */
	s->flow.sport = ntohs(idiagnl_msg_get_sport(m));
	s->flow.dport = ntohs(idiagnl_msg_get_dport(m));
	s->state = idiagnl_msg_get_state(m);
	s->timer = idiagnl_msg_get_timer(m);
	s->timer_count = idiagnl_msg_get_retrans(m);
	s->expires_ms = idiagnl_msg_get_expires(m);
	s->rqueue = idiagnl_msg_get_rqueue(m);
	s->wqueue = idiagnl_msg_get_wqueue(m);
	s->inode = idiagnl_msg_get_inode(m);
	s->info = idiagnl_msg_get_tcpinfo(m);
	/* libnl zeroes tcp_info when INET_DIAG_INFO was absent; a socket's
	 * tcpi_state is never 0 (TCP_ESTABLISHED is 1). */
	s->has_info = s->info.tcpi_state != 0;
	return true;
}

int tf_tcp_diag_list(tf_host *h, uint32_t states, tf_tcp_sock *out, size_t max, size_t *n_out)
{
	return tf_tcp_diag_list_af(h, AF_INET, states, out, max, n_out);
}

/* tf_tcp_diag_list() for one family, or both (AF_UNSPEC).  Each socket
 * is read as the family its own message carries (idiagnl_msg_get_family()):
 * libnl asks with the old request (TCPDIAG_GETSOCK), which the kernel
 * answers for every family whatever the one asked for
 * (inet_diag_dump_compat(): "req.sdiag_family = AF_UNSPEC; compatibility"),
 * so a dump "of AF_INET" holds the host's IPv6 sockets too. */
int tf_tcp_diag_list_af(tf_host *h, int family, uint32_t states, tf_tcp_sock *out, size_t max,
                        size_t *n_out)
{
	struct nl_sock *sk = NULL;
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	tf_tcp_sock s;
	size_t n = 0;
	int r;

	if (!h || !n_out || (max && !out) ||
	    (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC))
		return -EINVAL;
	r = diag_dump(h, family == AF_UNSPEC ? AF_INET : family, states, &sk, &cache);
	if (r < 0)
		return r;
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct idiagnl_msg *m = (struct idiagnl_msg *)o;
		int fam = idiagnl_msg_get_family(m);

		if ((fam != AF_INET && fam != AF_INET6) || (family != AF_UNSPEC && fam != family) ||
		    !diag_sock(m, fam, &s))
			continue;
		if (n < max)
			out[n] = s;
		n++;
	}
	*n_out = n;
	nl_cache_free(cache);
	nl_socket_free(sk);
	return 0;
}

int tf_tcp_diag_state(tf_host *h, const tf_flow *f, int *state)
{
	tf_tcp_sock s;
	int r;

	if (!state)
		return -EINVAL;
	r = tf_tcp_diag_find(h, f, &s);
	if (r == 0)
		*state = s.state;
	return r;
}

const char *tf_tcp_state_name(int s)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
		[TCP_SYN_RECV] = "SYN_RECV", [TCP_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_FIN_WAIT2] = "FIN_WAIT2", [TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE", [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_LAST_ACK] = "LAST_ACK", [TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
	};
	if (s < 0)
		return "gone";
	if ((size_t)s < TF_ARRAY_SIZE(names) && names[s])
		return names[s];
	return "?";
}

int tf_tcp_diag_find(tf_host *h, const tf_flow *f, tf_tcp_sock *out)
{
	struct nl_sock *sk = NULL;
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	tf_tcp_sock s;
	int r, family;

	if (!h || !f || !out)
		return -EINVAL;
	family = tf_flow_is_v6(f) ? AF_INET6 : AF_INET;
	r = diag_dump(h, family, IDIAGNL_SS_ALL, &sk, &cache);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		if (!diag_sock((struct idiagnl_msg *)o, family, &s) || s.flow.sport != f->sport ||
		    s.flow.dport != f->dport)
			continue;
		if (family == AF_INET6 ? !tf_in6_eq(&s.flow.src6, &f->src6) || !tf_in6_eq(&s.flow.dst6, &f->dst6)
		                       : s.flow.src.s_addr != f->src.s_addr || s.flow.dst.s_addr != f->dst.s_addr)
			continue;
		*out = s;
		r = 0;
		break;
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return r;
}
