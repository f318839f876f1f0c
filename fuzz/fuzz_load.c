/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: tf_capture_load() on any bytes as a pcap or pcapng file
 * (every link type the decoder takes: the file's header says which).
 * Invariants checked (abort() when broken): load answers the number of
 * packets or one of the documented errors and is all or nothing; what
 * loaded saves (or is -EOVERFLOW, a time pcap cannot hold, and writes
 * nothing), and loads back to the same packets (save/load round trip).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tf_capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static int same(const tf_pkt *a, const tf_pkt *b)
{
	return a->ts_ns == b->ts_ns && a->proto == b->proto && a->src.s_addr == b->src.s_addr &&
	       a->dst.s_addr == b->dst.s_addr && a->family == b->family &&
	       !memcmp(&a->src6, &b->src6, sizeof a->src6) &&
	       !memcmp(&a->dst6, &b->dst6, sizeof a->dst6) && a->ip_len == b->ip_len && a->df == b->df &&
	       a->sport == b->sport && a->dport == b->dport && a->seq == b->seq &&
	       a->ack == b->ack && a->flags == b->flags && a->win == b->win &&
	       a->payload == b->payload && a->icmp_type == b->icmp_type &&
	       a->icmp_code == b->icmp_code;
}

static char in_path[64], out_path[4096], dir[4000];
static int in_fd = -1;

/* The input goes to a memfd, named by /proc/self/fd; saves go to a
 * private directory, removed at exit. */
static void cleanup(void)
{
	unlink(out_path);
	rmdir(dir);
}

static void init(void)
{
	const char *t = getenv("TMPDIR");

	in_fd = memfd_create("fuzz-in", MFD_CLOEXEC);
	check(in_fd >= 0);
	snprintf(in_path, sizeof(in_path), "/proc/self/fd/%d", in_fd);
	snprintf(dir, sizeof(dir), "%s/tf-fuzz-XXXXXX", t && *t ? t : "/tmp");
	check(mkdtemp(dir) != NULL);
	snprintf(out_path, sizeof(out_path), "%s/out.pcap", dir);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tf_capture *c = NULL, *d = NULL;
	size_t n;
	int r;

	if (in_fd < 0)
		init();
	check(ftruncate(in_fd, 0) == 0);
	check(pwrite(in_fd, data, size, 0) == (ssize_t)size);

	check(tf_capture_new_offline(&c) == 0);
	r = tf_capture_load(c, in_path);
	if (r < 0) {
		check(r == -EINVAL || r == -EIO || r == -ENOBUFS || r == -ENOMEM);
		check(tf_capture_count(c) == 0);   /* all or nothing */
		goto out;
	}
	n = tf_capture_count(c);
	check((size_t)r == n);
	for (size_t i = 0; i < n; i++) {
		const tf_pkt *p = tf_capture_pkt(c, i);
		tf_flow f = { .src = p->src, .dst = p->dst, .sport = p->sport, .dport = p->dport,
		              .family = p->family, .src6 = p->src6, .dst6 = p->dst6 };
		size_t idx[4];

		check(p->ts_ns >= 0);
		check(tf_pkt_in_flow(p, &f, false) == (p->proto == 6));
		if (i < 4) {   /* the queries are O(n) each: a few suffice */
			(void)tf_capture_tx_of(c, &f, p->seq, idx, 4);
			(void)tf_capture_syns(c, &f, idx, 4);
			(void)tf_capture_count_flags(c, &f, true, 0xff);
		}
	}

	unlink(out_path);   /* the previous input's: -EOVERFLOW must leave none */
	r = tf_capture_save(c, out_path);
	if (r == -ENOSPC || r == -EDQUOT)
		goto out;
	if (r == -EOVERFLOW) {   /* a time past what pcap holds: nothing written */
		check(access(out_path, F_OK) < 0);
		goto out;
	}
	check(r == 0);
	check(tf_capture_new_offline(&d) == 0);
	r = tf_capture_load(d, out_path);
	check(r >= 0 && (size_t)r == n);
	check(tf_capture_linktype(d) == tf_capture_linktype(c));
	for (size_t i = 0; i < n; i++)
		check(same(tf_capture_pkt(c, i), tf_capture_pkt(d, i)));
out:
	tf_capture_free(c);
	tf_capture_free(d);
	return 0;
}
