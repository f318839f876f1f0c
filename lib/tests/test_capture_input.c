/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile and odd capture files (issue 11): pcapng with crafted timestamps,
 * empty frames, and the reproducers the fuzzer (fuzz/) found.  Files are
 * written by hand (pcapfile.h), in a private temporary directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "tf_capture.h"
#include "pcapfile.h"

struct fx {
	char *dir;
	char *path;     /* dir/in.pcap */
	char *out;      /* dir/out.pcap */
};

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_true(asprintf(&fx->dir, "%s/tf-input-XXXXXX", base && *base ? base : "/tmp") > 0);
	assert_non_null(mkdtemp(fx->dir));
	assert_true(asprintf(&fx->path, "%s/in.pcap", fx->dir) > 0);
	assert_true(asprintf(&fx->out, "%s/out.pcap", fx->dir) > 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	unlink(fx->path);
	unlink(fx->out);
	assert_int_equal(rmdir(fx->dir), 0);
	free(fx->path);
	free(fx->out);
	free(fx->dir);
	free(fx);
	return 0;
}

/* Ethernet/IPv4/TCP, 10.0.0.1:40000 -> 10.0.0.2:5000, `payload` bytes. */
static size_t frame(uint8_t *f, uint32_t seq, uint16_t payload)
{
	uint16_t tot = (uint16_t)(20 + 20 + payload);

	memset(f, 0, 14 + tot);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)(tot >> 8);
	f[17] = (uint8_t)tot;
	f[14 + 9] = 6;
	f[14 + 12] = 10, f[14 + 15] = 1;
	f[14 + 16] = 10, f[14 + 19] = 2;
	f[34] = 40000 >> 8, f[35] = 40000 & 0xff;
	f[36] = 5000 >> 8, f[37] = 5000 & 0xff;
	f[38] = (uint8_t)(seq >> 24), f[39] = (uint8_t)(seq >> 16);
	f[40] = (uint8_t)(seq >> 8), f[41] = (uint8_t)seq;
	f[34 + 12] = 5 << 4;
	f[34 + 13] = TF_TCP_ACK;
	return 14 + tot;
}

static FILE *create(const struct fx *fx)
{
	FILE *f = fopen(fx->path, "wbe");
	assert_non_null(f);
	return f;
}

static tf_capture *load(const struct fx *fx, int want)
{
	tf_capture *c = NULL;

	assert_int_equal(tf_capture_new_offline(&c), 0);
	assert_int_equal(tf_capture_load(c, fx->path), want);
	return c;
}

/* fx->path as a pcapng: one Ethernet interface (if_tsresol tsresol, -1:
 * none, µs) and k copies of frame b at the times ts[], in its units. */
static void pcapng_file(const struct fx *fx, int tsresol, const uint8_t *b, size_t n, size_t k,
                        const uint64_t *ts)
{
	FILE *f = create(fx);

	pcapng_shb(f);
	pcapng_idb(f, DLT_EN10MB, 256, tsresol);
	for (size_t i = 0; i < k; i++)
		pcapng_epb(f, ts[i], b, (uint32_t)n, (uint32_t)n);
	fclose(f);
}

/* pcapng loads, in its default (µs) and a nanosecond resolution. */
static void pcapng_loads(void **state)
{
	struct fx *fx = *state;
	uint8_t b[128];
	size_t n = frame(b, 7, 10);
	tf_capture *c;

	pcapng_file(fx, -1, b, n, 1, (const uint64_t[]){ 1700000000123456ULL });
	c = load(fx, 1);
	assert_int_equal(tf_capture_pkt(c, 0)->ts_ns, 1700000000123456000LL);
	assert_int_equal(tf_capture_pkt(c, 0)->seq, 7);
	assert_int_equal(tf_capture_pkt(c, 0)->payload, 10);
	tf_capture_free(c);

	pcapng_file(fx, 9, b, n, 1, (const uint64_t[]){ 1700000000123456789ULL });
	c = load(fx, 1);
	assert_int_equal(tf_capture_pkt(c, 0)->ts_ns, 1700000000123456789LL);
	tf_capture_free(c);
}

/*
 * A pcapng interface in whole seconds (if_tsresol 10^0) can say 2^62 s:
 * tv_sec * 10^9 overflowed int64 (UB; a garbage time).  Now the file is
 * refused, all or nothing.  The last second that fits still loads.
 */
static void pcapng_time_overflow(void **state)
{
	struct fx *fx = *state;
	uint8_t b[128];
	size_t n = frame(b, 1, 0);
	tf_capture *c;

	pcapng_file(fx, 0, b, n, 2, (const uint64_t[]){ 1, 1ULL << 62 });
	c = load(fx, -EINVAL);
	assert_int_equal(tf_capture_count(c), 0);
	assert_non_null(strstr(tf_capture_error(c), "frame 2: time"));
	tf_capture_free(c);

	/* 2^63 s and more: a negative time_t */
	pcapng_file(fx, 0, b, n, 1, (const uint64_t[]){ 1ULL << 63 });
	c = load(fx, -EINVAL);
	tf_capture_free(c);

	pcapng_file(fx, 0, b, n, 1, (const uint64_t[]){ 9223372035ULL });
	c = load(fx, 1);
	assert_int_equal(tf_capture_pkt(c, 0)->ts_ns, 9223372035000000000LL);
	tf_capture_free(c);
}

/* A nanosecond pcap whose fraction is 1 s or more is corrupt. */
static void pcap_bad_fraction(void **state)
{
	struct fx *fx = *state;
	uint8_t b[128];
	size_t n = frame(b, 1, 0);
	FILE *f = create(fx);
	tf_capture *c;

	pcapf_header(f, 0xa1b23c4d, 256, DLT_EN10MB);
	pcapf_record(f, 2000000000u, 1000000000u, (uint32_t)n, (uint32_t)n, b);
	fclose(f);
	c = load(fx, -EINVAL);
	assert_int_equal(tf_capture_count(c), 0);
	tf_capture_free(c);

	f = create(fx);
	pcapf_header(f, 0xa1b23c4d, 256, DLT_EN10MB);
	pcapf_record(f, 2000000000u, 999999999u, (uint32_t)n, (uint32_t)n, b);
	fclose(f);
	c = load(fx, 1);
	assert_int_equal(tf_capture_pkt(c, 0)->ts_ns, 2000000000999999999LL);
	tf_capture_free(c);

	/* libpcap reads the seconds as signed 32 bits: before 1970, and
	 * tf_capture times are >= 0.  A negative time did not survive a
	 * save and load either (fuzz/corpus/fuzz_load/crash-pcap-negative-time,
	 * found by fuzz_load). */
	f = create(fx);
	pcapf_header(f, 0xa1b23c4d, 256, DLT_EN10MB);
	pcapf_record(f, 0x80000000u, 0, (uint32_t)n, (uint32_t)n, b);
	fclose(f);
	c = load(fx, -EINVAL);
	tf_capture_free(c);
}

/*
 * An empty first frame (caplen 0): the frame store was still NULL and
 * memcpy(NULL, ..., 0) ran (UB, UBSan reports it).  It is kept (saving
 * gives the same file back), and it is not a packet.
 */
static void empty_first_frame(void **state)
{
	struct fx *fx = *state;
	uint8_t b[128];
	size_t n = frame(b, 9, 0);
	FILE *f = create(fx);
	tf_capture *c, *d = NULL;

	pcapf_header(f, 0xa1b23c4d, 256, DLT_EN10MB);
	pcapf_record(f, 1, 0, 0, 0, NULL);
	pcapf_record(f, 2, 0, (uint32_t)n, (uint32_t)n, b);
	pcapf_record(f, 3, 0, 0, 60, NULL);
	fclose(f);
	c = load(fx, 1);
	assert_int_equal(tf_capture_count(c), 1);
	assert_int_equal(tf_capture_pkt(c, 0)->seq, 9);
	assert_int_equal(tf_capture_save(c, fx->out), 0);
	assert_int_equal(tf_capture_new_offline(&d), 0);
	assert_int_equal(tf_capture_load(d, fx->out), 1);

	/* the same records, byte for byte (after the header's snaplen) */
	{
		FILE *a = fopen(fx->path, "rbe"), *o = fopen(fx->out, "rbe");
		uint8_t ba[1024], bo[1024];
		size_t na, no;

		assert_non_null(a);
		assert_non_null(o);
		na = fread(ba, 1, sizeof(ba), a);
		no = fread(bo, 1, sizeof(bo), o);
		fclose(a);
		fclose(o);
		assert_int_equal(na, no);
		assert_memory_equal(ba + 24, bo + 24, na - 24);
	}
	tf_capture_free(c);
	tf_capture_free(d);

	/* and in pcapng */
	f = create(fx);
	pcapng_shb(f);
	pcapng_idb(f, DLT_EN10MB, 256, 9);
	pcapng_epb(f, 5, NULL, 0, 0);
	pcapng_epb(f, 6, b, (uint32_t)n, (uint32_t)n);
	fclose(f);
	c = load(fx, 1);
	assert_int_equal(tf_capture_pkt(c, 0)->ts_ns, 6);
	tf_capture_free(c);
}

/*
 * pcapng holds times a pcap record cannot (its seconds are 32 bits, read
 * back signed): saving 2^31 s wrote a wrapped time that did not load back
 * (fuzz/corpus/fuzz_load/crash-pcapng-past-2038, found by fuzz_load in CI).
 * Now the save is -EOVERFLOW and writes nothing; 2^31 - 1 s round trips.
 */
static void save_past_2038(void **state)
{
	struct fx *fx = *state;
	uint8_t b[128];
	size_t n = frame(b, 1, 0);
	tf_capture *c, *d = NULL;

	pcapng_file(fx, 0, b, n, 2, (const uint64_t[]){ 1, 1ULL << 31 });
	c = load(fx, 2);
	assert_int_equal(tf_capture_save(c, fx->out), -EOVERFLOW);
	assert_int_equal(access(fx->out, F_OK), -1);
	tf_capture_free(c);

	pcapng_file(fx, 9, b, n, 1, (const uint64_t[]){ 2147483647999999999ULL });
	c = load(fx, 1);
	assert_int_equal(tf_capture_save(c, fx->out), 0);
	assert_int_equal(tf_capture_new_offline(&d), 0);
	assert_int_equal(tf_capture_load(d, fx->out), 1);
	assert_int_equal(tf_capture_pkt(d, 0)->ts_ns, 2147483647999999999LL);
	tf_capture_free(c);
	tf_capture_free(d);
}

/* The one "packet is in this flow" test (issue 12). */
static void pkt_in_flow(void **state)
{
	uint8_t b[128];
	size_t n = frame(b, 1, 0);
	tf_pkt p, u;
	tf_flow f = { .sport = 40000, .dport = 5000 }, r, other;

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", &f.src), 1);
	assert_int_equal(inet_pton(AF_INET, "10.0.0.2", &f.dst), 1);
	r = tf_flow_reverse(f);
	assert_int_equal(tf_pkt_decode(b, n, DLT_EN10MB, 0, &p), 0);

	assert_true(tf_pkt_in_flow(&p, &f, false));
	assert_true(tf_pkt_in_flow(&p, &f, true));
	assert_false(tf_pkt_in_flow(&p, &r, false));
	assert_true(tf_pkt_in_flow(&p, &r, true));

	other = f;
	other.dport = 5001;
	assert_false(tf_pkt_in_flow(&p, &other, true));
	other = f;
	other.dst.s_addr ^= htonl(1);
	assert_false(tf_pkt_in_flow(&p, &other, true));
	/* sport/dport swapped but addresses not: neither direction */
	other = f;
	other.sport = f.dport;
	other.dport = f.sport;
	assert_false(tf_pkt_in_flow(&p, &other, true));

	/* Same addresses and ports, not TCP */
	b[14 + 9] = 17;
	assert_int_equal(tf_pkt_decode(b, n, DLT_EN10MB, 0, &u), 0);
	assert_int_equal(u.sport, 40000);
	assert_false(tf_pkt_in_flow(&u, &f, true));

	assert_false(tf_pkt_in_flow(NULL, &f, true));
	assert_false(tf_pkt_in_flow(&p, NULL, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pcapng_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(pcapng_time_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(save_past_2038, setup, teardown),
		cmocka_unit_test_setup_teardown(pcap_bad_fraction, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_first_frame, setup, teardown),
		cmocka_unit_test(pkt_in_flow),
	};

	return cmocka_run_group_tests_name("capture_input", tests, NULL, NULL);
}
