/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Input validation of the library: everything refused before any netlink
 * message or namespace is made, with the errno the header promises. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tf_fault.h"
#include "tf_sandbox.h"
#include "tf_topo.h"
#include "tf_util.h"

static void parse_long(void **state)
{
	long v = 0;

	assert_int_equal(tf_parse_long("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(tf_parse_long("-1", 0, 100, &v), -ERANGE);
	assert_int_equal(tf_parse_long("101", 0, 100, &v), -ERANGE);
	assert_int_equal(tf_parse_long("4x", 0, 100, &v), -EINVAL);
	assert_int_equal(tf_parse_long("", 0, 100, &v), -EINVAL);
	assert_int_equal(tf_parse_long(NULL, 0, 100, &v), -EINVAL);
	assert_int_equal(tf_parse_long("99999999999999999999999", 0, 100, &v), -ERANGE);
	assert_int_equal(v, 42);  /* unchanged on error */
}

static void netem_validation(void **state)
{
	_cleanup_(tf_netem_freep) tf_netem *p = NULL;

	assert_int_equal(tf_netem_new(&p), 0);
	/* nothing set is no fault */
	assert_int_equal(tf_netem_validate(p), -EINVAL);
	assert_int_equal(tf_netem_set_loss(p, 101.0), -ERANGE);
	assert_int_equal(tf_netem_set_loss(p, -0.5), -ERANGE);
	assert_int_equal(tf_netem_set_delay(p, 5000000), -ERANGE);
	assert_int_equal(tf_netem_set_limit(p, 0), -ERANGE);
	/* a correlation needs a loss, jitter needs a delay */
	assert_int_equal(tf_netem_set_loss_correlation(p, 25.0), 0);
	assert_int_equal(tf_netem_validate(p), -EINVAL);
	assert_int_equal(tf_netem_set_loss(p, 1.0), 0);
	assert_int_equal(tf_netem_validate(p), 0);
	assert_int_equal(tf_netem_set_jitter(p, 1000), 0);
	assert_int_equal(tf_netem_validate(p), -EINVAL);
	assert_int_equal(tf_netem_set_delay(p, 10000), 0);
	assert_int_equal(tf_netem_validate(p), 0);
	/* invalid parameters are refused before a host is even looked at */
	assert_int_equal(tf_fault_netem(NULL, "eth0", NULL, NULL), -EINVAL);
	assert_int_equal(tf_netem_set_loss(NULL, 1.0), -EINVAL);
	tf_netem_free(NULL);
}

static void faults_refuse_bad_input(void **state)
{
	tf_fault *f = NULL;

	assert_int_equal(tf_fault_blackhole(NULL, "198.18.0.0/24", &f), -EINVAL);
	assert_int_equal(tf_fault_blackhole(NULL, "not-an-address", &f), -EINVAL);
	assert_int_equal(tf_fault_mtu(NULL, "eth0", 10, &f), -ERANGE);
	assert_int_equal(tf_fault_mtu(NULL, "eth0", 70000, &f), -ERANGE);
	assert_int_equal(tf_fault_rate(NULL, "eth0", 0, 2000, 4000, &f), -ERANGE);
	assert_int_equal(tf_fault_rate(NULL, "eth0", 1000, 100, 4000, &f), -ERANGE);
	assert_int_equal(tf_fault_heal(NULL), -EINVAL);
	assert_null(f);
	tf_fault_free(NULL);
}

static void topo_and_sandbox_refuse_bad_input(void **state)
{
	tf_topo *t = NULL;

	assert_int_equal(tf_topo_new((tf_topo_shape)7, &t), -EINVAL);
	assert_int_equal(tf_topo_new(TF_TOPO_PAIR, NULL), -EINVAL);
	assert_null(t);
	assert_int_equal(tf_host_new(NULL, "x", NULL), -EINVAL);
	assert_null(tf_world_host(NULL, "x"));
	assert_int_equal(tf_host_sysctl_set(NULL, "net.ipv4.tcp_retries2", "3"), -EINVAL);
	assert_int_equal(tf_link_set_mtu(NULL, "eth0", 20), -ERANGE);
	tf_topo_free(NULL);
	tf_world_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_long),
		cmocka_unit_test(netem_validation),
		cmocka_unit_test(faults_refuse_bad_input),
		cmocka_unit_test(topo_and_sandbox_refuse_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
