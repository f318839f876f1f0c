/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The start gate of a run: building namespaces holds the RTNL and runs
 * with bottom halves disabled, which delays other cases' timer softirqs.
 * So no case of a run starts its timed phase while another is still
 * building its topology: each waits, after its first topology, until every
 * case of the run has built its own or ended.  A shared page and a futex;
 * the runner counts a case that ends before arriving.  The wait is for an
 * event; its bound (TF_GATE_MAX_MS) only guards against a bug.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runner_private.h"

#define TF_GATE_MAX_MS 20000

struct tf_gate {
	uint32_t pending;     /* cases not yet arrived */
	uint32_t n;
	uint8_t arrived[];    /* per case */
};

struct tf_gate *tf_gate_new(unsigned n)
{
	size_t sz = sizeof(struct tf_gate) + n;
	struct tf_gate *g = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (g == MAP_FAILED)
		return NULL;
	g->pending = n;
	g->n = n;
	return g;
}

/* Case i arrives (once); 0 when that opened the gate. */
static bool arrive(struct tf_gate *g, unsigned i)
{
	if (!g || i >= g->n || __atomic_exchange_n(&g->arrived[i], 1, __ATOMIC_SEQ_CST))
		return false;
	if (__atomic_sub_fetch(&g->pending, 1, __ATOMIC_SEQ_CST) == 0)
		syscall(SYS_futex, &g->pending, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return true;
}

void tf_gate_leave(struct tf_gate *g, unsigned i)
{
	arrive(g, i);
}

int64_t tf_gate_pass(struct tf_gate *g, unsigned i)
{
	int64_t t0 = tf_mono_ns(), deadline = t0 + (int64_t)TF_GATE_MAX_MS * 1000000;

	if (!arrive(g, i))
		return -1;   /* no gate, or not this case's first topology */
	for (;;) {
		uint32_t v = __atomic_load_n(&g->pending, __ATOMIC_SEQ_CST);
		int64_t left = deadline - tf_mono_ns();
		struct timespec ts;

		if (v == 0 || left <= 0)
			break;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		syscall(SYS_futex, &g->pending, FUTEX_WAIT, v, &ts, NULL, 0);
	}
	return tf_mono_ns() - t0;
}
