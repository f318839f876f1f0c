/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "nl_private.h"
#include "tf_sandbox.h"
#include "tf_util.h"

#define TF_MAX_HOSTS 16

struct tf_host {
	tf_world *world;
	char name[32];
	int nsfd;
	struct nl_sock *nl;
};

struct tf_world {
	bool userns;
	bool scratch_free;       /* the netns unshared by tf_world_new() has no host yet */
	size_t n_hosts;
	tf_host *hosts[TF_MAX_HOSTS];
};

int tf_parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end || end == s)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int write_file(const char *path, const char *s)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(s);

	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return 0;
}

static int read_file(const char *path, char *buf, size_t n)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t l;

	if (fd < 0)
		return -errno;
	l = read(fd, buf, n - 1);
	if (l < 0)
		return -errno;
	buf[l] = 0;
	while (l > 0 && (buf[l - 1] == '\n' || buf[l - 1] == ' '))
		buf[--l] = 0;
	return 0;
}

int tf_sandbox_explain(int err, char *why, size_t n)
{
	char v[64];

	if (err >= 0) {
		snprintf(why, n, "sandbox available");
		return 0;
	}
	err = -err;
	if (read_file("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", v, sizeof v) == 0 &&
	    strcmp(v, "1") == 0)
		snprintf(why, n, "user namespaces restricted by AppArmor "
		         "(kernel.apparmor_restrict_unprivileged_userns=1): %s", strerror(err));
	else if (read_file("/proc/sys/kernel/unprivileged_userns_clone", v, sizeof v) == 0 &&
	         strcmp(v, "0") == 0)
		snprintf(why, n, "unprivileged user namespaces disabled "
		         "(kernel.unprivileged_userns_clone=0): %s", strerror(err));
	else if (read_file("/proc/sys/user/max_user_namespaces", v, sizeof v) == 0 &&
	         strcmp(v, "0") == 0)
		snprintf(why, n, "user namespaces disabled (user.max_user_namespaces=0): %s",
		         strerror(err));
	else if (err == EPERM)
		snprintf(why, n, "cannot create user/network namespaces (%s): blocked by a "
		         "container seccomp profile, an unmapped uid (uid %u) or a missing "
		         "CAP_SYS_ADMIN", strerror(err), (unsigned)geteuid());
	else
		snprintf(why, n, "cannot create namespaces: %s", strerror(err));
	return -err;
}

static int enter_userns(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int r;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return -errno;
	/* setgroups must be denied before an unprivileged gid_map write. */
	r = write_file("/proc/self/setgroups", "deny");
	if (r < 0 && r != -ENOENT)
		return r;
	snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
	r = write_file("/proc/self/uid_map", map);
	if (r < 0)
		return r;
	snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
	return write_file("/proc/self/gid_map", map);
}

int tf_world_new(tf_world **ret)
{
	_cleanup_free_ tf_world *w = calloc(1, sizeof *w);
	int r;

	if (!w)
		return -ENOMEM;
	/* Real root skips the user namespace, but still leaves the initial
	 * network namespace at once: nothing below ever runs there. */
	if (geteuid() == 0 && unshare(CLONE_NEWNET) == 0) {
		w->userns = false;
	} else {
		r = enter_userns();
		if (r < 0)
			return r;
		w->userns = true;
	}
	/* That fresh namespace becomes the first host: one namespace less to
	 * create and tear down per case. */
	w->scratch_free = true;
	*ret = w;
	w = NULL;
	return 0;
}

void tf_world_free(tf_world *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_hosts; i++) {
		tf_host *h = w->hosts[i];
		nl_socket_free(h->nl);
		if (h->nsfd >= 0)
			close(h->nsfd);
		free(h);
	}
	free(w);
}

bool tf_world_in_userns(const tf_world *w) { return w && w->userns; }

static int current_netns(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int link_up_by_name(struct nl_sock *nl, const char *name)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
	int r = -ENOMEM;

	/* RTM_NEWLINK without NLM_F_CREATE, addressed by IFLA_IFNAME, changes
	 * the existing link: one round trip, no RTM_GETLINK.  (libnl's
	 * rtnl_link_change() insists on an ifindex.) */
	(void)orig;
	if (chg) {
		rtnl_link_set_name(chg, name);
		rtnl_link_set_flags(chg, IFF_UP);
		r = rtnl_link_add(nl, chg, 0) < 0 ? -EIO : 0;
	}
	rtnl_link_put(chg);
	rtnl_link_put(orig);
	return r;
}

/* Quiet host: no IPv6 (no DAD, MLD or router solicitations in captures).
 * Written while the thread is inside the new namespace. */
static int disable_ipv6_here(void)
{
	int r = write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");

	if (r >= 0)
		r = write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	return r == -ENOENT ? 0 : r;   /* a kernel without IPv6 */
}

int tf_host_new(tf_world *w, const char *name, tf_host **ret)
{
	_cleanup_close_ int back = -1;
	tf_host *h;
	int r;

	if (!w || !name || !*name || strlen(name) >= sizeof h->name)
		return -EINVAL;
	if (tf_world_host(w, name))
		return -EEXIST;
	if (w->n_hosts >= TF_MAX_HOSTS)
		return -ENOSPC;
	back = current_netns();
	if (back < 0)
		return back;
	h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	h->world = w;
	h->nsfd = -1;
	snprintf(h->name, sizeof h->name, "%s", name);

	if (w->scratch_free) {
		w->scratch_free = false;
	} else if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		goto fail;
	}
	h->nsfd = current_netns();
	if (h->nsfd < 0) {
		r = h->nsfd;
		goto fail_back;
	}
	/* The netlink socket is bound to the namespace it is created in. */
	h->nl = nl_socket_alloc();
	if (!h->nl) {
		r = -ENOMEM;
		goto fail_back;
	}
	if (nl_connect(h->nl, NETLINK_ROUTE) < 0) {
		r = -EIO;
		goto fail_back;
	}
	/* After nl_connect(): before it there is no fd, libnl says
	 * -NLE_BAD_SOCK, and nl_connect() then sets its 32 KiB default. */
	r = nl_socket_set_buffer_size(h->nl, 1 << 20, 1 << 20);
	if (r < 0) {
		r = tf_nlerr(r);
		goto fail_back;
	}
	/* Close-on-exec for the netlink socket, like every fd we hold. */
	fcntl(nl_socket_get_fd(h->nl), F_SETFD, FD_CLOEXEC);
	r = link_up_by_name(h->nl, "lo");
	if (r >= 0)
		r = disable_ipv6_here();
	if (r < 0)
		goto fail_back;
	if (setns(back, CLONE_NEWNET) < 0) {
		r = -errno;
		goto fail;
	}
	w->hosts[w->n_hosts++] = h;
	if (ret)
		*ret = h;
	return 0;

fail_back:
	(void)setns(back, CLONE_NEWNET);
fail:
	nl_socket_free(h->nl);
	if (h->nsfd >= 0)
		close(h->nsfd);
	free(h);
	return r;
}

tf_host *tf_world_host(const tf_world *w, const char *name)
{
	if (!w || !name)
		return NULL;
	for (size_t i = 0; i < w->n_hosts; i++)
		if (strcmp(w->hosts[i]->name, name) == 0)
			return w->hosts[i];
	return NULL;
}

const char *tf_host_name(const tf_host *h) { return h ? h->name : NULL; }
int tf_host_nsfd(const tf_host *h) { return h ? h->nsfd : -EINVAL; }
struct nl_sock *tf_host_nl(tf_host *h) { return h ? h->nl : NULL; }

int tf_host_enter(tf_host *h)
{
	if (!h)
		return -EINVAL;
	return setns(h->nsfd, CLONE_NEWNET) < 0 ? -errno : 0;
}

int tf_host_run(tf_host *h, int (*fn)(void *arg), void *arg)
{
	_cleanup_close_ int back = -1;
	int r;

	if (!h || !fn)
		return -EINVAL;
	back = current_netns();
	if (back < 0)
		return back;
	if (setns(h->nsfd, CLONE_NEWNET) < 0)
		return -errno;
	r = fn(arg);
	if (setns(back, CLONE_NEWNET) < 0)
		return -errno;
	return r;
}

struct socket_args { int domain, type, protocol; };

static int do_socket(void *arg)
{
	struct socket_args *a = arg;
	int fd = socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);
	return fd < 0 ? -errno : fd;
}

int tf_host_socket(tf_host *h, int domain, int type, int protocol)
{
	struct socket_args a = { domain, type, protocol };
	return tf_host_run(h, do_socket, &a);
}

/* "net.ipv4.tcp_retries2" or "net/ipv4/tcp_retries2" → /proc/sys/net/ipv4/tcp_retries2.
 * Only net.*: those are per network namespace, so a write lands in the host. */
static int sysctl_path(const char *key, char *path, size_t n)
{
	size_t len;
	char *p;

	if (!key || (strncmp(key, "net.", 4) != 0 && strncmp(key, "net/", 4) != 0))
		return -EINVAL;
	if (strstr(key, "..") || strchr(key, ' '))
		return -EINVAL;
	len = (size_t)snprintf(path, n, "/proc/sys/%s", key);
	if (len >= n)
		return -ENAMETOOLONG;
	/* Dots become slashes unless the key already uses slashes (interface
	 * names such as "eth0.5" may contain dots in the slash form). */
	if (!strchr(key, '/'))
		for (p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
	return 0;
}

struct sysctl_args {
	const char *path;
	const char *value;
	char *buf;
	size_t n;
};

static int do_sysctl_write(void *arg)
{
	struct sysctl_args *a = arg;
	return write_file(a->path, a->value);
}

static int do_sysctl_read(void *arg)
{
	struct sysctl_args *a = arg;
	return read_file(a->path, a->buf, a->n);
}

int tf_host_sysctl_set(tf_host *h, const char *key, const char *value)
{
	char path[256];
	struct sysctl_args a = { .path = path, .value = value };
	int r;

	if (!h || !value)
		return -EINVAL;
	r = sysctl_path(key, path, sizeof path);
	if (r < 0)
		return r;
	return tf_host_run(h, do_sysctl_write, &a);
}

int tf_host_sysctl_set_int(tf_host *h, const char *key, long value)
{
	char v[32];
	snprintf(v, sizeof v, "%ld", value);
	return tf_host_sysctl_set(h, key, v);
}

int tf_host_sysctl_get(tf_host *h, const char *key, char *buf, size_t n)
{
	char path[256];
	struct sysctl_args a = { .path = path, .buf = buf, .n = n };
	int r;

	if (!h || !buf || n < 2)
		return -EINVAL;
	r = sysctl_path(key, path, sizeof path);
	if (r < 0)
		return r;
	return tf_host_run(h, do_sysctl_read, &a);
}

int tf_host_sysctl_get_int(tf_host *h, const char *key, long *value)
{
	char buf[64];
	int r = tf_host_sysctl_get(h, key, buf, sizeof buf);

	if (r < 0)
		return r;
	return tf_parse_long(buf, -(1L << 62), 1L << 62, value);
}

bool tf_host_sysctl_exists(tf_host *h, const char *key)
{
	char buf[256];
	return tf_host_sysctl_get(h, key, buf, sizeof buf) == 0;
}
