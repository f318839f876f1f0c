/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "tf_probe.h"
#include "tf_sock.h"
#include "tf_util.h"

int tf_kernel_hz(unsigned *hz)
{
	struct timespec res;

	if (!hz)
		return -EINVAL;
	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) < 0)
		return -errno;
	if (res.tv_sec != 0 || res.tv_nsec <= 0)
		return -EIO;
	/* TICK_NSEC is rounded; the nearest integer HZ is the configured one. */
	*hz = (unsigned)((1000000000L + res.tv_nsec / 2) / res.tv_nsec);
	return 0;
}

int tf_kernel_release(char *buf, size_t n)
{
	struct utsname u;

	if (!buf || n == 0)
		return -EINVAL;
	if (uname(&u) < 0)
		return -errno;
	snprintf(buf, n, "%s", u.release);
	return 0;
}

int tf_probe_tcp_sockopt(tf_host *h, int level, int opt, int value)
{
	_cleanup_close_ int fd = tf_host_socket(h, AF_INET, SOCK_STREAM, 0);
	int got = 0, r;

	if (fd < 0)
		return fd;
	r = tf_sock_set_int(fd, level, opt, value);
	if (r == -ENOPROTOOPT || r == -EINVAL)
		return 0;
	if (r < 0)
		return r;
	r = tf_sock_get_int(fd, level, opt, &got);
	if (r == -ENOPROTOOPT || r == -EINVAL)
		return 0;
	if (r < 0)
		return r;
	/* An option number this kernel uses for something else would not read
	 * the value back. */
	return got == value ? 1 : 0;
}

int tf_probe_ipv6(tf_host *h)
{
	_cleanup_close_ int fd = tf_host_socket(h, AF_INET6, SOCK_STREAM, 0);

	if (fd == -EAFNOSUPPORT)
		return 0;
	if (fd < 0)
		return fd;
	return tf_host_sysctl_exists(h, "net.ipv6.conf.default.disable_ipv6") ? 1 : 0;
}
