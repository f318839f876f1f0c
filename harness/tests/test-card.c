/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the card's parsers (TAP 13): the policy (rules, files,
 * errors) and the reader of `tcpfate exec` output, on the flow-mapping form
 * exec prints today and the block form it moves to — the same values from
 * both.  `test-card FILE` prints what it reads from an exec output file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "card_exec_result.h"
#include "card_policy.h"

static unsigned n_test, n_fail;

static void ok(int cond, const char *what)
{
	n_test++;
	if (!cond)
		n_fail++;
	printf("%s %u - %s\n", cond ? "ok" : "not ok", n_test, what);
}

static const char flow_form[] =
	"TAP version 13\n1..1\n# tcpfate exec on Linux 6.18 (HZ=250) as uid 0\n"
	"ok 1 - blackhole: client exited 1, 5.371 s after the fault\n"
	"  ---\n"
	"  duration_ms: 12581.5\n"
	"  client: \"python3 x.py \\\"a # b\\\"\"\n"
	"  fault_applied: \"blackhole 198.18.2.2/32 in router\"\n"
	"  fault_at_s: 3.983  # after the client started\n"
	"  fault_at_wall: \"2026-12-05T11:40:12.345Z\"\n"
	"  client_status: \"exited 1\"\n"
	"  client_ran_s: 9.354\n"
	"  detection_s: 5.371  # client exit - fault\n"
	"  socket: {flow: \"198.18.1.2:36390 > 198.18.2.2:8080\", state: ESTABLISHED, unacked: 179}\n"
	"  socket_options: {SO_KEEPALIVE: 1, TCP_KEEPIDLE: 2, TCP_KEEPINTVL: 1, TCP_KEEPCNT: 3, TCP_USER_TIMEOUT: 5000, TCP_SYNCNT: 6}\n"
	"  model:\n"
	"    schedule: \"retrans\"\n"
	"    knobs: {hz: 250, tcp_retries2: 15, tcp_syn_retries: 6, keepalive: [2, 1, 3], user_timeout_ms: 5000, syncnt: 6}\n"
	"    origin: \"the first transmission of the unacknowledged data\"\n"
	"    origin_s: -0.000  # relative to the fault\n"
	"    giveup_after_origin_s: {expected: 5.346, lo: 5.132, hi: 5.560, measured: 5.371}\n"
	"    expected_detection_s: 5.346  # model give-up - fault\n"
	"    expected_errno: \"ETIMEDOUT\"\n"
	"  checks:\n"
	"    - {what: \"client exits, \\\"x\\\"\", expected_s: 5.346, ok: true}\n"
	"  pcap: \"/tmp/x.pcap\"\n"
	"  client_output: |\n"
	"    pooled\n"
	"    socket: [Errno 110] Connection timed out\n"
	"  ...\n";

static const char block_form[] =
	"TAP version 13\n1..1\n"
	"ok 1 - blackhole: client exited 1, 5.371 s after the fault\n"
	"  ---\n"
	"  client: \"python3 x.py \\\"a # b\\\"\"\n"
	"  fault_applied: \"blackhole 198.18.2.2/32 in router\"\n"
	"  fault_at_s: 3.983\n"
	"  client_status: \"exited 1\"\n"
	"  detection_s: 5.371\n"
	"  socket:\n"
	"    flow: \"198.18.1.2:36390 > 198.18.2.2:8080\"\n"
	"    state: ESTABLISHED\n"
	"  socket_options:\n"
	"    SO_KEEPALIVE: 1\n"
	"    TCP_KEEPIDLE: 2\n"
	"    TCP_KEEPINTVL: 1\n"
	"    TCP_KEEPCNT: 3\n"
	"    TCP_USER_TIMEOUT: 5000\n"
	"    TCP_SYNCNT: 6\n"
	"  model:\n"
	"    schedule: retrans\n"
	"    knobs:\n"
	"      hz: 250\n"
	"      tcp_retries2: 15\n"
	"      tcp_syn_retries: 6\n"
	"      keepalive:\n"
	"        - 2\n"
	"        - 1\n"
	"        - 3\n"
	"    origin_s: -0.000  # relative to the fault\n"
	"    giveup_after_origin_s:\n"
	"      expected: 5.346\n"
	"      lo: 5.132\n"
	"      hi: 5.560\n"
	"    expected_detection_s: 5.346\n"
	"    expected_errno: ETIMEDOUT\n"
	"  checks:\n"
	"    - what: \"client exits\"\n"
	"      ok: true\n"
	"  pcap: /tmp/x.pcap\n"
	"  client_output: |\n"
	"    pooled\n"
	"    socket: [Errno 110] Connection timed out\n"
	"  ...\n";

static int near(double a, double b) { return fabs(a - b) < 1e-9; }

static void same_values(const char *text, const char *form)
{
	card_exec_result *r = NULL;
	char what[128];

	snprintf(what, sizeof what, "%s: parses", form);
	ok(card_exec_result_parse(text, &r) == 0 && r, what);
	if (!r)
		return;
#define CHECK(cond, name) do { snprintf(what, sizeof what, "%s: %s", form, name); ok(cond, what); } while (0)
	CHECK(r->outcome == CX_OK, "ok line");
	CHECK(r->fault_done && near(r->fault_at_s, 3.983), "fault_at_s");
	if (strstr(text, "fault_at_wall"))
		CHECK(r->fault_wall_ns == 1796470812345000000LL && r->family == AF_INET, "fault_at_wall, family");
	CHECK(r->client_exited && r->exit_code == 1, "client exited 1");
	CHECK(near(r->detection_s, 5.371), "detection_s");
	CHECK(r->schedule && strcmp(r->schedule, "retrans") == 0, "model.schedule");
	CHECK(r->have_giveup && near(r->giveup_lo_s, 5.132) && near(r->giveup_hi_s, 5.560) &&
	      near(r->giveup_expected_s, 5.346), "model give-up band");
	CHECK(near(r->expected_detection_s, 5.346) && near(r->origin_s, 0), "expected detection, origin");
	CHECK(r->user_timeout_ms == 5000 && r->ka_idle == 2 && r->ka_intvl == 1 && r->ka_cnt == 3 &&
	      r->so_keepalive == 1 && r->syncnt == 6, "socket options");
	CHECK(r->tcp_retries2 == 15 && r->tcp_syn_retries == 6, "model knobs");
	CHECK(r->expected_errno && strcmp(r->expected_errno, "ETIMEDOUT") == 0, "expected_errno");
	CHECK(r->last_output && strcmp(r->last_output, "socket: [Errno 110] Connection timed out") == 0,
	      "last output line");
	CHECK(r->pcap && strcmp(r->pcap, "/tmp/x.pcap") == 0, "pcap");
	card_exec_result_free(r);
}

static void exec_results(void)
{
	card_exec_result *r = NULL;

	same_values(flow_form, "flow form");
	same_values(block_form, "block form");

	ok(card_exec_result_parse("TAP version 13\n1..1\nok 1 - loss:5: x # SKIP sch_netem not available\n"
	                          "  ---\n  fault: \"loss:5\"\n  ...\n", &r) == 0 &&
	   r->outcome == CX_SKIP && strcmp(r->skip_reason, "sch_netem not available") == 0 &&
	   !r->fault_done, "a SKIP and its reason");
	card_exec_result_free(r);
	r = NULL;
	ok(card_exec_result_parse("not ok 1 - x\n  ---\n  client_status: \"still running (killed by tcpfate)\"\n"
	                          "  fault_at_s: 1\n  running_after_fault_s: 17.5\n  ...\n", &r) == 0 &&
	   r->outcome == CX_NOT_OK && !r->client_exited && near(r->watched_s, 17.5) &&
	   r->detection_s < 0, "a client still running");
	card_exec_result_free(r);
	r = NULL;
	ok(card_exec_result_parse("garbage\n\x01\xff{{{[[[\n  ---\n  a: {b: [c, {d: \"\n", &r) == 0 &&
	   r->outcome == CX_UNREADABLE, "garbage: unreadable, no crash");
	card_exec_result_free(r);
	r = NULL;
	ok(card_exec_result_parse("ok 1 - x\n  ---\n  model: {a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: "
	                          "{l: {m: {n: {o: {p: {q: {r: 1}}}}}}}}}}}}}}}}}\n  ...\n", &r) == 0 &&
	   r->outcome == CX_OK, "deep nesting: bounded");
	card_exec_result_free(r);
}

static void policies(void)
{
	card_policy p;
	char err[256];

	card_policy_init(&p);
	ok(card_policy_parse(&p, "connect <= 5s; dead-peer-sending<=15s, dead-peer-idle <= 30000ms\n"
	                         "# a comment, with; separators\nserver-crash <= 0.5   # half a second\n"
	                         "stalled-peer <= 1m\nsurvive\nnever-hang\n", err, sizeof err) == 0,
	   "policy: a full policy parses");
	ok(p.bound_ms[CC_CONNECT] == 5000 && p.bound_ms[CC_SENDING] == 15000 &&
	   p.bound_ms[CC_IDLE] == 30000 && p.bound_ms[CC_CRASH] == 500 &&
	   p.bound_ms[CC_STALLED] == 60000 && p.survive && p.never_hang && p.n_rules == 7,
	   "policy: bounds in ms, survive, never-hang");
	static const char *const badp[] = {
		"connect < 5s", "connect <= 5x", "connect <= -1s", "connect <= 0", "conect <= 5s",
		"survive <= 3s", "connect <= nan", "connect <= 2h", "never hang", "connect <= 5s\x01",
	};
	for (size_t i = 0; i < sizeof badp / sizeof badp[0]; i++) {
		char what[128];
		card_policy_init(&p);
		err[0] = 0;
		snprintf(what, sizeof what, "policy: rule %zu rejected with a message", i);
		ok(card_policy_parse(&p, badp[i], err, sizeof err) == -EINVAL && err[0], what);
	}
	card_policy_init(&p);
	ok(card_policy_load(&p, "/nonexistent/policy", err, sizeof err) == -ENOENT && strstr(err, "cannot read"),
	   "policy: a missing file");
}

int main(int argc, char **argv)
{
	if (argc == 2) {
		/* dump what the card reads from an exec output file */
		static char buf[1 << 22];
		FILE *f = fopen(argv[1], "r");
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		card_exec_result *r = NULL;
		if (f)
			fclose(f);
		buf[n] = 0;
		if (card_exec_result_parse(buf, &r) < 0)
			return 1;
		printf("outcome %d fault_done %d at %.3f exited %d code %d det %.3f watched %.3f\n"
		       "schedule %s band %.3f [%.3f %.3f] origin %.3f expdet %.3f\n"
		       "retries2 %ld syn %ld ka %ld/%ld/%ld ut %ld syncnt %ld\nlast %s\nmessage %s\n",
		       r->outcome, r->fault_done, r->fault_at_s, r->client_exited, r->exit_code,
		       r->detection_s, r->watched_s, r->schedule, r->giveup_expected_s, r->giveup_lo_s,
		       r->giveup_hi_s, r->origin_s, r->expected_detection_s, r->tcp_retries2,
		       r->tcp_syn_retries, r->ka_idle, r->ka_intvl, r->ka_cnt, r->user_timeout_ms,
		       r->syncnt, r->last_output, r->message);
		card_exec_result_free(r);
		return 0;
	}
	printf("TAP version 13\n");
	exec_results();
	policies();
	printf("1..%u\n", n_test);
	return n_fail ? 1 : 0;
}
