/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the SVG timeline writer: argument checks, and that what it
 * writes is a well-formed SVG document carrying the labels, escaped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tf_capture.h"
#include "tf_timeline.h"

struct fx {
	tf_timeline *t;
	char *dir, *path;
	char *svg;   /* what the last write() produced */
};

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	if (asprintf(&fx->dir, "%s/tf-timeline-XXXXXX", base && *base ? base : "/tmp") < 0 ||
	    !mkdtemp(fx->dir) || asprintf(&fx->path, "%s/t.svg", fx->dir) < 0)
		return -1;
	if (tf_timeline_new(&fx->t) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	tf_timeline_free(fx->t);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx->svg);
	free(fx->path);
	free(fx->dir);
	free(fx);
	return 0;
}

static const char *write_and_read(struct fx *fx)
{
	FILE *f;
	long n;

	assert_int_equal(tf_timeline_write(fx->t, fx->path), 0);
	f = fopen(fx->path, "rbe");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	free(fx->svg);
	fx->svg = malloc((size_t)n + 1);
	assert_non_null(fx->svg);
	assert_int_equal(fread(fx->svg, 1, (size_t)n, f), (size_t)n);
	fx->svg[n] = 0;
	fclose(f);
	return fx->svg;
}

/*
 * Well-formed enough: after an optional <?xml?> and <!DOCTYPE>, the root
 * is <svg>; tags nest and close; every '&' starts one of the five
 * predefined entities or a character reference; no raw '<' in text or
 * attribute values; nothing follows the root.
 */
static void assert_well_formed(const char *s)
{
	const char *stack[64];
	int depth = 0;
	bool root_seen = false;

	if (strncmp(s, "<?xml ", 6) == 0) {
		s = strstr(s, "?>");
		assert_non_null(s);
		s += 2;
		while (*s == '\n')
			s++;
	}
	if (strncmp(s, "<!DOCTYPE svg ", 14) == 0) {
		s = strchr(s, '>');
		assert_non_null(s);
		s++;
		while (*s == '\n')
			s++;
	}
	assert_true(strncmp(s, "<svg ", 5) == 0);
	while (*s) {
		if (*s == '&') {
			static const char *ent[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
			bool ok = false;

			for (size_t i = 0; i < sizeof(ent) / sizeof(ent[0]); i++)
				ok = ok || strncmp(s, ent[i], strlen(ent[i])) == 0;
			assert_true(ok);
			s++;
			continue;
		}
		if (*s != '<') {
			/* only whitespace outside the root */
			if (depth == 0)
				assert_true(*s == '\n' || *s == ' ');
			s++;
			continue;
		}
		if (s[1] == '/') {
			size_t n = strcspn(s + 2, ">");

			assert_true(depth > 0);
			depth--;
			assert_true(strlen(stack[depth]) >= n);
			assert_memory_equal(s + 2, stack[depth], n);
			assert_true(stack[depth][n] == ' ' || stack[depth][n] == '>' ||
			            stack[depth][n] == '/');
			s += 2 + n + 1;
			continue;
		}
		{
			const char *name = s + 1, *e = s + 1;
			bool in_q = false;

			assert_false(root_seen && depth == 0);
			for (; *e && (in_q || *e != '>'); e++) {
				if (*e == '"')
					in_q = !in_q;
				assert_true(*e != '<');
			}
			assert_true(*e == '>');
			if (e[-1] != '/') {
				assert_true(depth < 64);
				stack[depth++] = name;
			}
			root_seen = true;
			s = e + 1;
		}
	}
	assert_int_equal(depth, 0);
	assert_true(root_seen);
}

static void args(void **state)
{
	struct fx *fx = *state;
	tf_timeline *t = NULL;
	char big[600];

	assert_int_equal(tf_timeline_new(NULL), -EINVAL);
	tf_timeline_free(NULL);

	assert_int_equal(tf_timeline_set_title(NULL, "x"), -EINVAL);
	assert_int_equal(tf_timeline_set_title(fx->t, NULL), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(tf_timeline_set_title(fx->t, big), -EINVAL);

	assert_int_equal(tf_timeline_add_expected(NULL, "x", 1, 0, 2), -EINVAL);
	assert_int_equal(tf_timeline_add_expected(fx->t, NULL, 1, 0, 2), -EINVAL);
	assert_int_equal(tf_timeline_add_expected(fx->t, big, 1, 0, 2), -EINVAL);
	assert_int_equal(tf_timeline_add_expected(fx->t, "x", 1, -1, 2), -EINVAL);
	assert_int_equal(tf_timeline_add_expected(fx->t, "x", 1, 2, 3), -EINVAL);   /* at < lo */
	assert_int_equal(tf_timeline_add_expected(fx->t, "x", 3, 0, 2), -EINVAL);   /* at > hi */
	assert_int_equal(tf_timeline_add_expected(fx->t, "x", 0, 0, 0), 0);

	assert_int_equal(tf_timeline_add_measured(NULL, "x", 1, 0), -EINVAL);
	assert_int_equal(tf_timeline_add_measured(fx->t, NULL, 1, 0), -EINVAL);
	assert_int_equal(tf_timeline_add_measured(fx->t, "x", -1, 0), -EINVAL);
	assert_int_equal(tf_timeline_add_measured(fx->t, "", 0, 0), 0);

	assert_int_equal(tf_timeline_set_giveup(NULL, -1, -1), -EINVAL);
	assert_int_equal(tf_timeline_set_giveup(fx->t, -2, -1), -EINVAL);
	assert_int_equal(tf_timeline_set_giveup(fx->t, -1, -5), -EINVAL);
	assert_int_equal(tf_timeline_set_giveup(fx->t, -1, -1), 0);

	assert_int_equal(tf_timeline_write(NULL, fx->path), -EINVAL);
	assert_int_equal(tf_timeline_write(fx->t, NULL), -EINVAL);
	assert_int_equal(tf_timeline_write(fx->t, ""), -EINVAL);
	assert_int_equal(tf_timeline_write(fx->t, "/nonexistent-dir/t.svg"), -ENOENT);

	/* A limit on the number of events */
	assert_int_equal(tf_timeline_new(&t), 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(tf_timeline_add_measured(t, "tx", i, 0), 0);
	assert_int_equal(tf_timeline_add_measured(t, "tx", 1, 0), -E2BIG);
	tf_timeline_free(t);
}

static void empty(void **state)
{
	struct fx *fx = *state;
	const char *s = write_and_read(fx);

	assert_well_formed(s);
	assert_non_null(strstr(s, "no events"));
	assert_non_null(strstr(s, "tcpfate timeline"));
}

static void content(void **state)
{
	struct fx *fx = *state;
	const char *s;

	assert_int_equal(tf_timeline_set_title(fx->t, "rto_backoff"), 0);
	assert_int_equal(tf_timeline_add_expected(fx->t, "ORIGINAL", 0, 0, 0), 0);
	assert_int_equal(tf_timeline_add_expected(fx->t, "RTO_ONE", 200000, 196000, 212000), 0);
	assert_int_equal(tf_timeline_add_expected(fx->t, "RTO_LAST", 60000000, 59000000, 61000000), 0);
	assert_int_equal(tf_timeline_add_measured(fx->t, "sent", 0, TF_TCP_ACK | TF_TCP_PSH), 0);
	assert_int_equal(tf_timeline_add_measured(fx->t, "retrans", 203811, TF_TCP_ACK), 0);
	assert_int_equal(tf_timeline_add_measured(fx->t, "reset", 60100000, TF_TCP_RST), 0);
	assert_int_equal(tf_timeline_set_giveup(fx->t, 120000000, 120500000), 0);
	s = write_and_read(fx);
	assert_well_formed(s);
	assert_non_null(strstr(s, "version=\"1.1\""));
	assert_non_null(strstr(s, "xmlns=\"http://www.w3.org/2000/svg\""));
	assert_non_null(strstr(s, ">rto_backoff<"));
	assert_non_null(strstr(s, "ORIGINAL 0<"));
	assert_non_null(strstr(s, "RTO_ONE 200 ms<"));
	assert_non_null(strstr(s, "RTO_LAST 60 s<"));
	assert_non_null(strstr(s, "retrans 203.811 ms<"));
	assert_non_null(strstr(s, "reset 60.1 s<"));
	assert_non_null(strstr(s, "give-up 120 s<"));
	assert_non_null(strstr(s, "give-up 120.5 s<"));
	assert_non_null(strstr(s, "tolerance band"));   /* the legend */
	/* allowed window in the tooltip */
	assert_non_null(strstr(s, "allowed [196 ms, 212 ms]"));
	/* the RST tick has the RST colour, the band its own */
	assert_non_null(strstr(s, "#c62828"));

	/* Give-up cleared: no give-up labels any more */
	assert_int_equal(tf_timeline_set_giveup(fx->t, -1, -1), 0);
	s = write_and_read(fx);
	assert_well_formed(s);
	assert_null(strstr(s, ">give-up 1"));
}

static void escaping(void **state)
{
	struct fx *fx = *state;
	const char *s;

	assert_int_equal(tf_timeline_set_title(fx->t, "a<b & c>\"d'"), 0);
	assert_int_equal(tf_timeline_add_expected(fx->t, "<script>&x", 5000, 4000, 6000), 0);
	/* invalid UTF-8, a control character, and valid non-ASCII */
	assert_int_equal(tf_timeline_add_measured(fx->t, "bad\xff\x01z \xc3\xa9t\xc3\xa9", 7000, 0), 0);
	/* a surrogate encoded in UTF-8 is not a character XML allows */
	assert_int_equal(tf_timeline_add_measured(fx->t, "s\xed\xa0\x80x", 9000000, 0), 0);
	s = write_and_read(fx);
	assert_well_formed(s);
	assert_non_null(strstr(s, "a&lt;b &amp; c&gt;&quot;d&#39;"));
	assert_non_null(strstr(s, "&lt;script&gt;&amp;x 5 ms"));
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "\xff"));
	assert_null(strstr(s, "\x01"));
	assert_non_null(strstr(s, "bad\xef\xbf\xbd z \xc3\xa9t\xc3\xa9 7 ms"));
	assert_null(strstr(s, "\xed\xa0\x80"));
	assert_non_null(strstr(s, "s\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx 9 s"));
}

static void burst_merged(void **state)
{
	struct fx *fx = *state;
	const char *s;

	/* 20 packets within 100 µs share one label, not 20 rows */
	for (int i = 0; i < 20; i++)
		assert_int_equal(tf_timeline_add_measured(fx->t, "dup", 1000000 + i * 5, 0), 0);
	assert_int_equal(tf_timeline_add_measured(fx->t, "far", 30000000, 0), 0);
	s = write_and_read(fx);
	assert_well_formed(s);
	assert_non_null(strstr(s, ">dup \xc3\x97" "20 1 s<"));
	assert_null(strstr(s, ">dup 1"));
	assert_non_null(strstr(s, "far 30 s<"));
}

static void rewrite_truncates(void **state)
{
	struct fx *fx = *state;
	size_t first;

	for (int i = 0; i < 50; i++)
		assert_int_equal(tf_timeline_add_expected(fx->t, "a-long-label-to-make-it-big",
		                                          i * 100000, i * 100000, i * 100000), 0);
	first = strlen(write_and_read(fx));
	tf_timeline_free(fx->t);
	assert_int_equal(tf_timeline_new(&fx->t), 0);
	assert_true(strlen(write_and_read(fx)) < first);
	assert_well_formed(fx->svg);
}

int main(void)
{
	/* One group: cmocka 1.1.5 prints a TAP plan per group. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(args, setup, teardown),
		cmocka_unit_test_setup_teardown(empty, setup, teardown),
		cmocka_unit_test_setup_teardown(content, setup, teardown),
		cmocka_unit_test_setup_teardown(escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(burst_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(rewrite_truncates, setup, teardown),
	};

	return cmocka_run_group_tests_name("timeline", tests, NULL, NULL);
}
