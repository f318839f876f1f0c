/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_host.c — the one "model from this host and this socket" builder:
 * the knobs a kernel reads when it decides how long a connection lives,
 * taken from where the kernel takes them.  The case runner and `tcpfate
 * exec` both call it (they used to read the sysctls each in its own way).
 */
#include "tf_model.h"
#include "tf_probe.h"
#include "tf_sandbox.h"
#include "tf_sock.h"

#include <errno.h>
#include <string.h>

/* A sysctl the kernel lacks keeps the model's default; any other error
 * reading it is the caller's. */
static int get(tf_host *h, const char *key, long *v, bool *have)
{
	int r = tf_host_sysctl_get_int(h, key, v);

	*have = r == 0;
	return r == -ENOENT ? 0 : r;
}

int tf_model_set_from_host(tf_model *m, tf_host *h)
{
	long v, idle = 7200, intvl = 75, cnt = 9;
	unsigned hz;
	bool have;
	int r;

	if (!m || !h)
		return -EINVAL;
	/* HZ is the kernel's: every namespace of it shares one */
	if ((r = tf_kernel_hz(&hz)) < 0 || (r = tf_model_set_hz(m, hz)) < 0)
		return r;
	if ((r = get(h, "net.ipv4.tcp_retries2", &v, &have)) < 0 ||
	    (have && (r = tf_model_set_retries2(m, (unsigned)v)) < 0))
		return r;
	if ((r = get(h, "net.ipv4.tcp_early_retrans", &v, &have)) < 0 ||
	    (have && (r = tf_model_set_early_retrans(m, (int)v)) < 0))
		return r;
	if ((r = get(h, "net.ipv4.tcp_rto_min_us", &v, &have)) < 0 ||      /* 6.11+ */
	    (have && (r = tf_model_set_rto_min_us(m, (uint32_t)v)) < 0))
		return r;
	if ((r = get(h, "net.ipv4.tcp_rto_max_ms", &v, &have)) < 0)           /* 6.15+ */
		return r;
	/* The sysctl and the per-socket maximum arrived together (6.15), and
	 * with them tcp_model_timeout() uses tcp_rto_max(sk). */
	if (have && ((r = tf_model_set_rto_max_ms(m, (uint32_t)v)) < 0 ||
	             (r = tf_model_set_rto_max_in_budget(m, true)) < 0))
		return r;
	if ((r = get(h, "net.ipv4.tcp_syn_retries", &v, &have)) < 0 ||
	    (have && (r = tf_model_set_syn_retries(m, (unsigned)v)) < 0))
		return r;
	if ((r = get(h, "net.ipv4.tcp_syn_linear_timeouts", &v, &have)) < 0 ||  /* 6.7+ */
	    (have && (r = tf_model_set_syn_linear_timeouts(m, (int)v)) < 0))
		return r;
	if ((r = get(h, "net.ipv4.tcp_keepalive_time", &idle, &have)) < 0 ||
	    (r = get(h, "net.ipv4.tcp_keepalive_intvl", &intvl, &have)) < 0 ||
	    (r = get(h, "net.ipv4.tcp_keepalive_probes", &cnt, &have)) < 0)
		return r;
	return tf_model_set_keepalive(m, (uint32_t)idle, (uint32_t)intvl, (unsigned)cnt);
}

int tf_model_set_from_sock(tf_model *m, const tf_sock_knobs *k, const struct tcp_info *ti)
{
	int r;

	if (!m || (!k && !ti))
		return -EINVAL;
	if (k) {
		/* getsockopt() answers the effective values: the socket's own
		 * or the sysctl's when it has none */
		if (k->syncnt > 0 && (r = tf_model_set_syn_retries(m, (unsigned)k->syncnt)) < 0)
			return r;
		if (k->user_timeout_ms > 0 &&
		    (r = tf_model_set_user_timeout_ms(m, (uint32_t)k->user_timeout_ms)) < 0)
			return r;
		if (k->rto_max_ms > 0 && (r = tf_model_set_rto_max_ms(m, (uint32_t)k->rto_max_ms)) < 0)
			return r;
		if (k->ka_idle_s > 0 && k->ka_intvl_s > 0 && k->ka_cnt > 0 &&
		    (r = tf_model_set_keepalive(m, (uint32_t)k->ka_idle_s, (uint32_t)k->ka_intvl_s,
		                                (unsigned)k->ka_cnt)) < 0)
			return r;
	}
	/* A connecting socket has no RTT sample yet (srtt 0): the defaults */
	if (ti && ti->tcpi_rtt) {
		if ((r = tf_model_set_rtt(m, ti->tcpi_rtt, ti->tcpi_rttvar)) < 0)
			return r;
		if (ti->tcpi_unacked > 1 && (r = tf_model_set_packets_out(m, ti->tcpi_unacked)) < 0)
			return r;
	}
	return 0;
}
