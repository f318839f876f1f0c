/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The peer's advertised receive window as the sender holds it
 * (tcpi_snd_wnd, TCP_INFO, Linux 5.4+).  A file of its own because glibc's
 * struct tcp_info (netinet/tcp.h, which the harness uses) stops before the
 * field and the kernel's uapi struct of the same name cannot be included
 * next to it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/tcp.h>

int fate_snd_wnd(int fd, uint32_t *wnd);

/* 0 and the window in bytes; -EOPNOTSUPP when the kernel's tcp_info is
 * too short to carry it. */
int fate_snd_wnd(int fd, uint32_t *wnd)
{
	struct tcp_info ti = { 0 };
	socklen_t len = sizeof ti;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	if (len < offsetof(struct tcp_info, tcpi_snd_wnd) + sizeof ti.tcpi_snd_wnd)
		return -EOPNOTSUPP;
	*wnd = ti.tcpi_snd_wnd;
	return 0;
}
