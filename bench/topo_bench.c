/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Benchmark: create + destroy a path topology (client — router — server),
 * median of N runs, with libtcpfate (libnl, in-process) and with the same
 * topology built by iproute2 commands in the same run; prints the ratio.
 *
 * The iproute2 variant runs in a private mount + network namespace (and a
 * user namespace when not root) with its own tmpfs on /run/netns, so
 * `ip netns add` touches nothing of the machine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tf_topo.h"
#include "tf_util.h"

static const char ip_script[] =
	"set -e\n"
	"for h in c r s; do ip netns add $h; ip -n $h link set lo up; done\n"
	"ip -n c link add eth0 type veth peer name eth0 netns r\n"
	"ip -n r link add eth1 type veth peer name eth0 netns s\n"
	"ip -n c link set eth0 up; ip -n r link set eth0 up; ip -n r link set eth1 up; ip -n s link set eth0 up\n"
	"ip -n c addr add 198.18.1.2/24 dev eth0; ip -n r addr add 198.18.1.1/24 dev eth0\n"
	"ip -n r addr add 198.18.2.1/24 dev eth1; ip -n s addr add 198.18.2.2/24 dev eth0\n"
	"ip -n c route add default via 198.18.1.1; ip -n s route add default via 198.18.2.1\n"
	"ip netns exec r sysctl -qw net.ipv4.ip_forward=1\n"
	"for h in c r s; do ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done\n"
	"ip netns del c; ip netns del r; ip netns del s\n";

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t median(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_i64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run_libnl(int n, int64_t *out)
{
	for (int i = 0; i < n; i++) {
		pid_t pid;
		int st;
		int64_t t0 = tf_mono_ns();

		/* A fresh process each time, as a case has. */
		pid = fork();
		if (pid == 0) {
			tf_topo *t = NULL;
			int r = tf_topo_new(TF_TOPO_PATH, &t);
			tf_topo_free(t);
			_exit(r < 0 ? 1 : 0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			return -1;
		out[i] = tf_mono_ns() - t0;
	}
	return 0;
}

static int private_netns_dir(void)
{
	if (geteuid() != 0) {
		uid_t u = getuid();
		gid_t g = getgid();
		char map[64];
		FILE *f;

		if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) < 0)
			return -errno;
		if ((f = fopen("/proc/self/setgroups", "we"))) { fputs("deny", f); fclose(f); }
		snprintf(map, sizeof map, "0 %u 1", u);
		if ((f = fopen("/proc/self/uid_map", "we"))) { fputs(map, f); fclose(f); }
		snprintf(map, sizeof map, "0 %u 1", g);
		if ((f = fopen("/proc/self/gid_map", "we"))) { fputs(map, f); fclose(f); }
	} else if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0) {
		return -errno;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0)
		return -errno;
	/* `ip netns exec` remounts /sys for the target namespace. */
	return 0;
}

static int run_iproute2(int n, int64_t *out)
{
	for (int i = 0; i < n; i++) {
		pid_t pid;
		int st;
		int64_t t0 = tf_mono_ns();

		pid = fork();
		if (pid == 0) {
			if (private_netns_dir() < 0)
				_exit(3);
			execl("/bin/sh", "sh", "-c", ip_script, (char *)NULL);
			_exit(4);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		out[i] = tf_mono_ns() - t0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = 21, r;
	long v;
	int64_t a[201], b[201];

	if (argc > 2 || (argc == 2 && tf_parse_long(argv[1], 3, 201, &v) < 0)) {
		fprintf(stderr, "usage: %s [RUNS 3..201]\n", argv[0]);
		return 2;
	}
	if (argc == 2)
		n = (int)v;
	if (run_libnl(n, a) < 0) {
		printf("SKIP: cannot build the topology here (no namespaces?)\n");
		return 77;
	}
	r = run_iproute2(n, b);
	int64_t ma = median(a, n);
	printf("path topology create+destroy, median of %d runs\n", n);
	printf("  libtcpfate (libnl): %8.3f ms\n", (double)ma / 1e6);
	if (r != 0) {
		printf("  iproute2:           unavailable (status %d)\n", r);
		return 0;
	}
	int64_t mb = median(b, n);
	printf("  iproute2 commands:  %8.3f ms\n", (double)mb / 1e6);
	printf("  ratio:              %8.1fx (target >= 20x)\n", (double)mb / (double)ma);
	return 0;
}
