/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The two experiments most cases are made of, done once here:
 * data outstanding to a silent peer, and connect() to a silent peer.
 * Each waits for the socket's error (never sleeps), samples the socket's
 * state at every transmission, and lists the transmissions from the
 * capture.  Output goes through the runner's records (tf_diag/tf_expect).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "tf_test.h"

static void collect(tf_capture *cap, const size_t *idx, size_t n, tf_run *out)
{
	out->n_tx = 0;
	for (size_t i = 0; i < n && i < TF_ARRAY_SIZE(out->tx_ns); i++)
		out->tx_ns[out->n_tx++] = tf_capture_pkt(cap, idx[i])->ts_ns;
	if (n > TF_ARRAY_SIZE(out->tx_ns))
		tf_note("%zu transmissions, only the first %zu kept", n, TF_ARRAY_SIZE(out->tx_ns));
}

static void finish(tf_host *h, tf_capture *cap, const tf_flow *f, tf_run *out)
{
	int st = -1, r;

	out->fin_rst = (long)tf_capture_count_flags(cap, f, true, TF_TCP_FIN | TF_TCP_RST);
	r = tf_tcp_diag_state(h, f, &st);
	out->state_after = r == -ENOENT ? -ENOENT : st;
	tf_diag("socket_error", "%s after %.3f s", tf_errno_name(out->err),
	        out->err_ns >= 0 ? (double)(out->err_ns - out->sent_ns) / 1e9 : -1.0);
	tf_diag("transmissions", "%zu", out->n_tx);
}

int tf_run_send(tf_host *h, int fd, tf_capture *cap, const void *buf, size_t len, int timeout_ms,
                tf_run *out)
{
	size_t idx[TF_RUN_MAX_TX + 1], n;
	uint32_t seq;
	tf_flow f;
	int r;

	memset(out, 0, sizeof *out);
	out->err_ns = -1;
	tf_must(tf_sock_flow(fd, &f));
	out->flow = f;
	out->sent_ns = tf_now_ns();
	tf_must(tf_sock_send_all(fd, buf, len));
	r = tf_case_wait_error(fd, cap, h, &f, TCP_ESTABLISHED, timeout_ms, &out->err,
	                       &out->err_ns);
	if (r == -ETIME) {
		out->err_ns = -1;
		tf_note("no socket error within %d ms", timeout_ms);
	} else {
		tf_must(r);
	}
	tf_must(tf_capture_read(cap));
	tf_must(tf_case_first_data(cap, &f, out->sent_ns, &seq));
	n = tf_capture_tx_of(cap, &f, seq, idx, TF_ARRAY_SIZE(idx));
	collect(cap, idx, n, out);
	finish(h, cap, &f, out);
	return 0;
}

int tf_run_connect(tf_host *h, int fd, const char *addr, uint16_t port, tf_capture *cap,
                   int timeout_ms, tf_run *out)
{
	size_t idx[TF_RUN_MAX_TX + 1], n;
	tf_flow f;
	int r;

	memset(out, 0, sizeof *out);
	out->err_ns = -1;
	out->sent_ns = tf_now_ns();
	tf_must(tf_tcp_connect_fd(fd, addr, port, &f));
	out->flow = f;
	r = tf_case_wait_error(fd, cap, h, &f, TCP_SYN_SENT, timeout_ms, &out->err, &out->err_ns);
	if (r == -ETIME) {
		out->err_ns = -1;
		tf_note("connect() still pending after %d ms", timeout_ms);
	} else {
		tf_must(r);
	}
	tf_must(tf_capture_read(cap));
	n = tf_capture_syns(cap, &f, idx, TF_ARRAY_SIZE(idx));
	collect(cap, idx, n, out);
	finish(h, cap, &f, out);
	return 0;
}
