/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_probe.h — what the running kernel can do, found by asking it (a
 * sysctl present, a socket option accepted, a clock's resolution), never
 * by parsing a version string.  Returns 0 or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "tf_sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kernel HZ: CLOCK_MONOTONIC_COARSE advances once per tick, so its
 * resolution is 1/HZ (kernel/time/posix-timers.c, TICK_NSEC). */
int tf_kernel_hz(unsigned *hz);
int tf_kernel_release(char *buf, size_t n);
/* 1 when a TCP socket in h accepts setsockopt(level, opt, value) and reads
 * it back, 0 when the kernel does not know the option (ENOPROTOOPT/EINVAL),
 * -errno otherwise. */
int tf_probe_tcp_sockopt(tf_host *h, int level, int opt, int value);
/* 1 when host h can carry IPv6 (the kernel has it: an AF_INET6 TCP socket
 * can be made and net.ipv6 exists), 0 when not, -errno otherwise. */
int tf_probe_ipv6(tf_host *h);

#ifdef __cplusplus
}
#endif
