/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An LD_PRELOAD shim that plays a library which silently drops its timeout
 * socket option: setsockopt(IPPROTO_TCP, TCP_USER_TIMEOUT) returns 0 and
 * sets nothing.  Every other call goes to the C library.  The card must
 * catch the client that runs with it (examples/card/meson.build).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static setsockopt_fn real;

	if (level == IPPROTO_TCP && name == TCP_USER_TIMEOUT)
		return 0;
	if (!real)
		real = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
	return real ? real(fd, level, name, val, len) : -1;
}
