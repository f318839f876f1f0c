/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A host's route-netlink socket gets the 1 MiB buffers tf_host_new() asks
 * for (issue 11): nl_socket_set_buffer_size() was called before
 * nl_connect(), failed with -NLE_BAD_SOCK unseen, and nl_connect() then
 * set libnl's 32 KiB default.  The kernel caps SO_RCVBUF/SO_SNDBUF at
 * net.core.rmem_max/wmem_max and doubles them (sock_setsockopt()), so the
 * expected values are 2 * min(1 MiB, cap).
 *
 * Needs a sandbox (a user namespace when unprivileged): SKIP without one.
 * Plain TAP, no cmocka: cmocka 1.1.5 prints skips as "not ok".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/socket.h>

#include "tf_sandbox.h"

static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static long expect(long cap)
{
	long want = 1 << 20;
	return 2 * (cap < want ? cap : want);
}

int main(void)
{
	long rmax = read_long("/proc/sys/net/core/rmem_max");
	long wmax = read_long("/proc/sys/net/core/wmem_max");
	tf_world *w = NULL;
	tf_host *h = NULL;
	int r, fd, rcv = 0, snd = 0, failed = 0;
	socklen_t l = sizeof(int);
	char why[256] = "";

	printf("TAP version 13\n");
	if (rmax <= 0 || wmax <= 0) {
		printf("1..0 # SKIP no /proc/sys/net/core/{r,w}mem_max\n");
		return 0;
	}
	r = tf_world_new(&w);
	if (r < 0) {
		tf_sandbox_explain(r, why, sizeof(why));
		printf("1..0 # SKIP no sandbox: %s (%s)\n", strerror(-r), why);
		return 0;
	}
	printf("1..3\n");
	r = tf_host_new(w, "a", &h);
	printf("%s 1 - tf_host_new: %d\n", r == 0 ? "ok" : "not ok", r);
	if (r < 0) {
		printf("not ok 2 - SO_RCVBUF # no host\nnot ok 3 - SO_SNDBUF # no host\n");
		tf_world_free(w);
		return 1;
	}
	fd = nl_socket_get_fd(tf_host_nl(h));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &l) < 0)
		rcv = -errno;
	l = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, &l) < 0)
		snd = -errno;
	failed += rcv != expect(rmax);
	printf("%s 2 - SO_RCVBUF %d, want %ld\n", rcv == expect(rmax) ? "ok" : "not ok", rcv,
	       expect(rmax));
	failed += snd != expect(wmax);
	printf("%s 3 - SO_SNDBUF %d, want %ld\n", snd == expect(wmax) ? "ok" : "not ok", snd,
	       expect(wmax));
	tf_world_free(w);
	return failed ? 1 : 0;
}
