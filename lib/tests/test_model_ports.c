/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcp_twsk_unique()'s tcp_tw_reuse gate on both families
 * (tf_model_tw_reuse_enabled(), lib/model_ports.c): what makes a TIME-WAIT
 * socket "loopback" for tcp_tw_reuse = 2 is judged by its family — IPv6
 * counts ::1 and the IPv4-mapped 127/8 (a dual-stack socket's IPv4
 * connection), never the benchmark addresses the topologies use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "tf_model.h"

static void reuse_sysctl(void **state)
{
	(void)state;
	/* 0 never, 1 any address, either family */
	assert_int_equal(tf_model_tw_reuse_enabled(0, AF_INET, "127.0.0.1", "127.0.0.1", true), 0);
	assert_int_equal(tf_model_tw_reuse_enabled(1, AF_INET, "198.18.0.1", "198.18.0.2", false), 1);
	assert_int_equal(tf_model_tw_reuse_enabled(1, AF_INET6, "2001:2::1", "2001:2::2", false), 1);
	assert_int_equal(tf_model_tw_reuse_enabled(0, AF_INET6, "::1", "::1", false), 0);
}

static void loopback_only_v4(void **state)
{
	(void)state;
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET, "198.18.0.1", "198.18.0.2", false), 0);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET, "127.0.0.1", "198.18.0.2", false), 1);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET, "198.18.0.1", "127.255.0.9", false), 1);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET, "128.0.0.1", "126.255.255.255", false), 0);
	/* bound to lo (SO_BINDTODEVICE): whatever the addresses */
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET, "198.18.0.1", "198.18.0.2", true), 1);
}

static void loopback_only_v6(void **state)
{
	(void)state;
	/* the IPv6 topology's addresses are not loopback: no reuse */
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "2001:2::1", "2001:2::2", false), 0);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "2001:2:0:1::2", "2001:2:0:2::2", false), 0);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "::1", "2001:2::2", false), 1);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "2001:2::1", "::1", false), 1);
	/* ipv6_addr_v4mapped_loopback(): ::ffff:127.0.0.0/104 */
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "::ffff:127.0.0.1", "::ffff:198.18.0.2", false), 1);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "::ffff:198.18.0.1", "::ffff:198.18.0.2", false), 0);
	/* not loopback: ::2, ::127.0.0.1 (IPv4-compatible, not mapped), :: */
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "::2", "::", false), 0);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "::127.0.0.1", "2001:2::2", false), 0);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "2001:2::1", "2001:2::2", true), 1);
}

static void bad_input(void **state)
{
	(void)state;
	assert_int_equal(tf_model_tw_reuse_enabled(3, AF_INET, "127.0.0.1", "127.0.0.1", false), -EINVAL);
	assert_int_equal(tf_model_tw_reuse_enabled(-1, AF_INET, "127.0.0.1", "127.0.0.1", false), -EINVAL);
	/* the strings must be of the socket's family */
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET, "::1", "127.0.0.1", false), -EINVAL);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "127.0.0.1", "::1", false), -EINVAL);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_UNIX, "127.0.0.1", "127.0.0.1", false), -EINVAL);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET, NULL, "127.0.0.1", false), -EINVAL);
	assert_int_equal(tf_model_tw_reuse_enabled(2, AF_INET6, "::1", "", false), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reuse_sysctl),
		cmocka_unit_test(loopback_only_v4),
		cmocka_unit_test(loopback_only_v6),
		cmocka_unit_test(bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
