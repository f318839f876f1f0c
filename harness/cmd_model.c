/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate model — "how long will my connection hang?" from the kernel's
 * rules, without touching the network.
 *
 *   tcpfate model retrans   --retries2 5 [--hz 250] [--rtt-us 50] ...
 *   tcpfate model syn       --syn-retries 6 [--linear-timeouts 4|none]
 *   tcpfate model keepalive --idle 7200 --intvl 75 --cnt 9
 *   tcpfate model budget    --retries2 15 [--rto-max-ms 1000]
 *
 * Prints one row per expected event (lib/tf_model.h computes them) and, for
 * the schedules, ends with "gives up at X s with ERRNO".  Knobs default to
 * the kernel's compiled-in defaults; HZ comes from the resolution of
 * CLOCK_MONOTONIC_COARSE (one tick) unless --hz is given, and two rules
 * that depend on the kernel version are probed from /proc/sys (their
 * existence only, never their values) unless given.
 *
 * Exit: 0 ok (and --help), 1 the model cannot answer, 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_model.h"
#include "tf_model.h"

#define EXIT_OK     0
#define EXIT_FAIL   1
#define EXIT_USAGE  2

enum sub {
	SUB_RETRANS = 1 << 0,
	SUB_SYN     = 1 << 1,
	SUB_KA      = 1 << 2,
	SUB_BUDGET  = 1 << 3,
};

static const struct {
	const char *name;
	enum sub sub;
	const char *what;
} subs[] = {
	{ "retrans",   SUB_RETRANS, "established connection, silent peer, data outstanding" },
	{ "syn",       SUB_SYN,     "connect() to a peer that drops SYNs" },
	{ "keepalive", SUB_KA,      "idle connection with SO_KEEPALIVE, silent peer" },
	{ "budget",    SUB_BUDGET,  "the hypothetical schedule behind tcp_retries2 (ip-sysctl)" },
};

enum opt {
	O_HELP = 'h',
	O_HZ = 256, O_RETRIES2, O_RTT, O_RTTVAR, O_RTO_MIN, O_RTO_MAX, O_IN_BUDGET,
	O_NO_IN_BUDGET, O_UT, O_ER, O_PKTS, O_NEIGH, O_SYN_RETRIES, O_LINEAR,
	O_IDLE, O_INTVL, O_CNT, O_RTO_BASE,
	O_END
};

/* Which subcommands take each option (budget works in ms: no HZ, RTT...). */
static const struct {
	enum opt id;
	unsigned subs;
} applies[] = {
	{ O_HZ,           SUB_RETRANS | SUB_SYN | SUB_KA },
	{ O_RETRIES2,     SUB_RETRANS | SUB_BUDGET },
	{ O_RTT,          SUB_RETRANS },
	{ O_RTTVAR,       SUB_RETRANS },
	{ O_RTO_MIN,      SUB_RETRANS },
	{ O_RTO_MAX,      SUB_RETRANS | SUB_SYN | SUB_BUDGET },
	{ O_IN_BUDGET,    SUB_RETRANS | SUB_SYN },
	{ O_NO_IN_BUDGET, SUB_RETRANS | SUB_SYN },
	{ O_UT,           SUB_RETRANS | SUB_SYN | SUB_KA },
	{ O_ER,           SUB_RETRANS },
	{ O_PKTS,         SUB_RETRANS },
	{ O_NEIGH,        SUB_RETRANS | SUB_SYN | SUB_KA },
	{ O_SYN_RETRIES,  SUB_SYN },
	{ O_LINEAR,       SUB_SYN },
	{ O_IDLE,         SUB_KA },
	{ O_INTVL,        SUB_KA },
	{ O_CNT,          SUB_KA },
	{ O_RTO_BASE,     SUB_BUDGET },
};

static const struct option longopts[] = {
	{ "help",                 no_argument,       NULL, O_HELP },
	{ "hz",                   required_argument, NULL, O_HZ },
	{ "retries2",             required_argument, NULL, O_RETRIES2 },
	{ "rtt-us",               required_argument, NULL, O_RTT },
	{ "rttvar-us",            required_argument, NULL, O_RTTVAR },
	{ "rto-min-us",           required_argument, NULL, O_RTO_MIN },
	{ "rto-max-ms",           required_argument, NULL, O_RTO_MAX },
	{ "rto-max-in-budget",    no_argument,       NULL, O_IN_BUDGET },
	{ "no-rto-max-in-budget", no_argument,       NULL, O_NO_IN_BUDGET },
	{ "user-timeout-ms",      required_argument, NULL, O_UT },
	{ "early-retrans",        required_argument, NULL, O_ER },
	{ "packets-out",          required_argument, NULL, O_PKTS },
	{ "neigh-failed",         no_argument,       NULL, O_NEIGH },
	{ "syn-retries",          required_argument, NULL, O_SYN_RETRIES },
	{ "linear-timeouts",      required_argument, NULL, O_LINEAR },
	{ "idle",                 required_argument, NULL, O_IDLE },
	{ "intvl",                required_argument, NULL, O_INTVL },
	{ "cnt",                  required_argument, NULL, O_CNT },
	{ "rto-base-ms",          required_argument, NULL, O_RTO_BASE },
	{ NULL, 0, NULL, 0 },
};

struct knobs {
	bool given[O_END];
	uint32_t hz, retries2, rtt, rttvar, rto_min, rto_max, ut, pkts;
	uint32_t syn_retries, idle, intvl, cnt, rto_base, er;
	int linear;
	bool in_budget, neigh;
};

static void usage(FILE *f)
{
	fputs("usage: tcpfate model <retrans|syn|keepalive|budget> [options]\n"
	      "\n"
	      "Prints the schedule the kernel's rules give for these knobs (no network).\n"
	      "Columns: #, kind, the timer the kernel arms (jiffies), the gap from the\n"
	      "previous event and the time since event 0, each as expected [lo, hi]\n"
	      "(lo/hi: what the timer wheel allows; no scheduling latency), and the rule.\n"
	      "\n"
	      "  retrans    established connection, silent peer, data outstanding\n"
	      "    --retries2 N          net.ipv4.tcp_retries2 [15]\n"
	      "    --rtt-us N            smoothed RTT as tcpi_rtt reports it [1: any RTT\n"
	      "                          below a few ms, e.g. veth, gives the same jiffies;\n"
	      "                          0 = no RTT sample]\n"
	      "    --rttvar-us N         tcpi_rttvar [0]\n"
	      "    --rto-min-us N        tcp_rto_min_us / route rto_min [200000]\n"
	      "    --early-retrans N     net.ipv4.tcp_early_retrans, 3-4 send a loss probe [3]\n"
	      "    --packets-out N       segments in flight [1]\n"
	      "  syn        connect() to a peer that drops SYNs\n"
	      "    --syn-retries N       tcp_syn_retries / TCP_SYNCNT [6]\n"
	      "    --linear-timeouts N|none\n"
	      "                          tcp_syn_linear_timeouts [4 if this kernel has the\n"
	      "                          sysctl (6.5+), else none]\n"
	      "  keepalive  idle connection with SO_KEEPALIVE, silent peer\n"
	      "    --idle S --intvl S --cnt N\n"
	      "                          TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT [7200 75 9]\n"
	      "  budget     the hypothetical schedule of tcp_model_timeout() behind\n"
	      "             tcp_retries2 (Documentation/networking/ip-sysctl.rst)\n"
	      "    --retries2 N          the boundary [15]\n"
	      "    --rto-base-ms N       first timeout [200 = TCP_RTO_MIN; 1000 for SYN]\n"
	      "    --rto-max-ms N        the cap [120000]\n"
	      "\n"
	      "  common (retrans, syn, keepalive):\n"
	      "    --hz N                kernel HZ [from clock_getres(CLOCK_MONOTONIC_COARSE)]\n"
	      "    --user-timeout-ms N   TCP_USER_TIMEOUT [0: none]\n"
	      "    --neigh-failed        the peer's ARP fails: EHOSTUNREACH\n"
	      "  retrans, syn:\n"
	      "    --rto-max-ms N        TCP_RTO_MAX_MS / tcp_rto_max_ms [120000]\n"
	      "    --rto-max-in-budget, --no-rto-max-in-budget\n"
	      "                          whether tcp_model_timeout() uses it (6.15+)\n"
	      "                          [yes if this kernel has tcp_rto_max_ms]\n"
	      "  -h, --help              this text\n"
	      "\n"
	      "Exit status: 0 ok, 1 the model cannot answer, 2 bad usage.\n", f);
}

static const char *optname(int id)
{
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

/* A decimal number that fits in 32 bits; no sign, no junk.  -EINVAL: not
 * a number ("5abc"); -ERANGE: a number, too large. */
static int parse_u32(const char *s, uint32_t *v)
{
	unsigned long long x;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno || x > UINT32_MAX)
		return -ERANGE;
	*v = (uint32_t)x;
	return 0;
}

static bool proc_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* One tick is the resolution of CLOCK_MONOTONIC_COARSE: TICK_NSEC =
 * (NSEC_PER_SEC + HZ/2) / HZ, so HZ is its rounded inverse. */
static int kernel_hz(uint32_t *hz)
{
	struct timespec ts;
	long long ns;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &ts) < 0)
		return -errno;
	ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (ns <= 0)
		return -EINVAL;
	*hz = (uint32_t)((1000000000LL + ns / 2) / ns);
	return 0;
}

static const char *errno_name(int e)
{
	switch (e) {
	case ETIMEDOUT:   return "ETIMEDOUT";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	default:          return strerror(e);
	}
}

/* A setter's answer, as the user's mistake. */
static int bad_value(int r, enum opt id, uint32_t v, const char *range)
{
	if (r == -ERANGE)
		fprintf(stderr, "tcpfate model: --%s %" PRIu32 ": out of range (%s)\n",
			optname(id), v, range);
	else
		fprintf(stderr, "tcpfate model: --%s %" PRIu32 ": %s\n", optname(id), v, strerror(-r));
	return EXIT_USAGE;
}

static int parse(enum sub sub, int argc, char **argv, struct knobs *k)
{
	int c, r;

	optind = 0; /* glibc: reinitialise, the caller may have used getopt */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		uint32_t v = 0;
		bool ok = false;

		if (c == O_HELP) {
			usage(stdout);
			return -1;
		}
		if (c == '?') {
			/* getopt_long() sets optopt to the option's value when a
			 * long option that takes none was given one (--x=1),
			 * to the letter for an unknown short one, else to 0. */
			if (optopt >= O_HZ && optopt < O_END)
				fprintf(stderr, "tcpfate model: --%s takes no value\n", optname(optopt));
			else if (optopt > ' ' && optopt < 0x7f)
				fprintf(stderr, "tcpfate model: unknown option -%c\n", optopt);
			else if (optopt)
				fprintf(stderr, "tcpfate model: unknown option -\\x%02x\n",
					(unsigned)optopt & 0xff);
			else
				fprintf(stderr, "tcpfate model: unknown option %s\n", argv[optind - 1]);
			fputs("try 'tcpfate model --help'\n", stderr);
			return EXIT_USAGE;
		}
		if (c == ':') {
			fprintf(stderr, "tcpfate model: %s needs a value\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
		for (size_t i = 0; i < sizeof(applies) / sizeof(applies[0]); i++)
			if ((int)applies[i].id == c)
				ok = applies[i].subs & sub;
		if (!ok) {
			fprintf(stderr, "tcpfate model: --%s does not apply to '%s'\n",
				optname(c), argv[0]);
			return EXIT_USAGE;
		}
		if (c == O_LINEAR && strcmp(optarg, "none") == 0) {
			k->linear = -1;
			k->given[c] = true;
			continue;
		}
		if (c != O_IN_BUDGET && c != O_NO_IN_BUDGET && c != O_NEIGH &&
		    (r = parse_u32(optarg, &v)) < 0) {
			fprintf(stderr, "tcpfate model: --%s '%s': %s%s\n", optname(c), optarg,
				r == -ERANGE ? "too large" : "not a number",
				c == O_LINEAR && r != -ERANGE ? " (or 'none')" : "");
			return EXIT_USAGE;
		}
		k->given[c] = true;
		switch ((enum opt)c) {
		case O_HZ:          k->hz = v; break;
		case O_RETRIES2:    k->retries2 = v; break;
		case O_RTT:         k->rtt = v; break;
		case O_RTTVAR:      k->rttvar = v; break;
		case O_RTO_MIN:     k->rto_min = v; break;
		case O_RTO_MAX:     k->rto_max = v; break;
		case O_IN_BUDGET:   k->in_budget = true; k->given[O_NO_IN_BUDGET] = false; break;
		case O_NO_IN_BUDGET:
			k->in_budget = false;
			k->given[O_IN_BUDGET] = true; /* "given", either way */
			break;
		case O_UT:          k->ut = v; break;
		case O_ER:          k->er = v; break;
		case O_PKTS:        k->pkts = v; break;
		case O_NEIGH:       k->neigh = true; break;
		case O_SYN_RETRIES: k->syn_retries = v; break;
		case O_LINEAR:
			if (v > 127)
				return bad_value(-ERANGE, O_LINEAR, v, "0..127 or none");
			k->linear = (int)v;
			break;
		case O_IDLE:        k->idle = v; break;
		case O_INTVL:       k->intvl = v; break;
		case O_CNT:         k->cnt = v; break;
		case O_RTO_BASE:    k->rto_base = v; break;
		case O_HELP: case O_END: break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcpfate model: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static void fmt_mmss(char *buf, size_t n, uint64_t ms)
{
	snprintf(buf, n, "%" PRIu64 ":%04.1f", ms / 60000, (double)(ms % 60000) / 1000.0);
}

static int cmd_budget(const struct knobs *k)
{
	uint32_t n = k->given[O_RETRIES2] ? k->retries2 : 15;
	uint32_t base = k->given[O_RTO_BASE] ? k->rto_base : 200;
	uint32_t max = k->given[O_RTO_MAX] ? k->rto_max : 120000;
	uint64_t start, tmo, total;

	if (n > 255)
		return bad_value(-ERANGE, O_RETRIES2, n, "0..255");
	if (base < 1)
		return bad_value(-ERANGE, O_RTO_BASE, base, "1..rto-max-ms");
	if (max < 1000 || max > 120000)
		return bad_value(-ERANGE, O_RTO_MAX, max, "1000..120000");
	if (max < base)
		return bad_value(-ERANGE, O_RTO_BASE, base, "1..rto-max-ms");

	total = tf_model_timeout_ms(n, base, max);
	printf("hypothetical schedule of tcp_model_timeout(%" PRIu32 ", rto_base %" PRIu32
	       " ms, rto_max %" PRIu32 " ms) (net/ipv4/tcp_timer.c;\n"
	       "ip-sysctl tcp_retries2: \"retransmit N times before killing the connection"
	       " at the (N+1)th RTO\")\n", n, base, max);
	printf("%7s  %11s  %9s  %12s  %s\n", "attempt", "start", "timeout s", "end", "timeout");
	for (uint32_t i = 0; i <= n; i++) {
		char s[32], e[32], what[32];

		if (tf_model_hypothetical_step(i, base, max, &start, &tmo) < 0) {
			fputs("tcpfate model: the budget model refused these values\n", stderr);
			return EXIT_FAIL;
		}
		fmt_mmss(s, sizeof s, start);
		fmt_mmss(e, sizeof e, start + tmo);
		/* Past the doubling (i > log2(max / base), at most 17) the
		 * timeout is max; shifting by i >= 64 would be UB. */
		if (tmo == max && (i >= 64 || (uint64_t)base << i != max))
			snprintf(what, sizeof what, "RTO_MAX");
		else if (i == 0)
			snprintf(what, sizeof what, "RTO_BASE");
		else if (i < 64)
			snprintf(what, sizeof what, "%" PRIu64 " x RTO_BASE", (uint64_t)1 << i);
		else
			snprintf(what, sizeof what, "2^%" PRIu32 " x RTO_BASE", i);
		printf("%7" PRIu32 "  %11s  %9.1f  %12s  %s\n", i, s, (double)tmo / 1000.0, e, what);
	}
	printf("budget: %.3f s = tcp_model_timeout(%" PRIu32 "); tcp_write_timeout() gives up at the"
	       " first RTO expiry at least this long after retrans_stamp (the first RTO"
	       " retransmission; in SYN_SENT the SYN), see 'tcpfate model retrans'\n",
	       (double)total / 1000.0, n);
	return EXIT_OK;
}

static void print_schedule(const tf_schedule *s)
{
	size_t n = tf_schedule_count(s);
	const tf_sched_event *g;
	unsigned tx = 0;

	printf("%4s  %-9s  %9s  %34s  %35s  %s\n", "#", "kind", "timer(j)",
	       "gap ms expected [lo, hi]", "cumulative s expected [lo, hi]", "rule");
	for (size_t i = 0; i < n; i++) {
		const tf_sched_event *e = tf_schedule_event(s, i);

		if (e->kind != TF_TX_GIVEUP)
			tx++;
		printf("%4zu  %-9s  %9u  %10.1f [%10.1f, %10.1f]  %11.3f [%10.3f, %10.3f]  %s\n",
		       i, tf_tx_kind_name(e->kind), e->timer_jiffies,
		       (double)e->gap_us / 1e3, (double)e->gap_lo_us / 1e3, (double)e->gap_hi_us / 1e3,
		       (double)e->at_us / 1e6, (double)e->at_lo_us / 1e6, (double)e->at_hi_us / 1e6,
		       e->rule);
	}
	g = tf_schedule_event(s, tf_schedule_giveup(s));
	if (!g)
		return;
	printf("%u packets before the error (event 0 included); between %.3f and %.3f s"
	       " by the timer wheel, plus scheduling latency\n",
	       tx, (double)g->at_lo_us / 1e6, (double)g->at_hi_us / 1e6);
	printf("gives up at %.3f s with %s\n", (double)g->at_us / 1e6,
	       errno_name(tf_schedule_errno(s)));
}

/* Knobs into a model; 0 or an exit status. */
static int build(enum sub sub, const struct knobs *k, uint32_t hz, bool in_budget, int linear,
		 tf_model *m)
{
	int r;

#define SET(cond, call, id, val, range) \
	do { if ((cond) && (r = (call)) < 0) return bad_value(r, id, val, range); } while (0)

	SET(true, tf_model_set_hz(m, hz), O_HZ, hz, "100..1000");
	SET(true, tf_model_set_rto_max_in_budget(m, in_budget), O_IN_BUDGET, 0, "");
	SET(k->given[O_RTO_MAX], tf_model_set_rto_max_ms(m, k->rto_max), O_RTO_MAX, k->rto_max,
	    "1000..120000");
	SET(k->given[O_UT], tf_model_set_user_timeout_ms(m, k->ut), O_UT, k->ut, "0..2147483647");
	SET(k->neigh, tf_model_set_neigh_failed(m, true), O_NEIGH, 0, "");
	if (sub == SUB_RETRANS) {
		uint32_t rtt = k->given[O_RTT] ? k->rtt : 1;
		uint32_t var = k->given[O_RTTVAR] ? k->rttvar : 0;

		SET(k->given[O_RETRIES2], tf_model_set_retries2(m, k->retries2), O_RETRIES2,
		    k->retries2, "0..255");
		if ((r = tf_model_set_rtt(m, rtt, var)) < 0) {
			if (r == -EINVAL)
				fputs("tcpfate model: --rttvar-us needs an RTT sample (--rtt-us > 0)\n",
				      stderr);
			else
				fputs("tcpfate model: --rtt-us/--rttvar-us: out of range"
				      " (0..120000000)\n", stderr);
			return EXIT_USAGE;
		}
		SET(k->given[O_RTO_MIN], tf_model_set_rto_min_us(m, k->rto_min), O_RTO_MIN,
		    k->rto_min, "1..120000000");
		if (k->given[O_ER] && k->er > 4)
			return bad_value(-ERANGE, O_ER, k->er, "0..4");
		SET(k->given[O_ER], tf_model_set_early_retrans(m, (int)k->er), O_ER, k->er, "0..4");
		SET(k->given[O_PKTS], tf_model_set_packets_out(m, k->pkts), O_PKTS, k->pkts,
		    "1..4294967295");
	}
	if (sub == SUB_SYN) {
		SET(k->given[O_SYN_RETRIES], tf_model_set_syn_retries(m, k->syn_retries),
		    O_SYN_RETRIES, k->syn_retries, "1..127");
		SET(true, tf_model_set_syn_linear_timeouts(m, linear), O_LINEAR, (uint32_t)linear,
		    "0..127 or none");
	}
	if (sub == SUB_KA) {
		uint32_t idle = k->given[O_IDLE] ? k->idle : 7200;
		uint32_t intvl = k->given[O_INTVL] ? k->intvl : 75;
		uint32_t cnt = k->given[O_CNT] ? k->cnt : 9;

		if ((r = tf_model_set_keepalive(m, idle, intvl, cnt)) < 0) {
			fprintf(stderr, "tcpfate model: --idle %" PRIu32 " --intvl %" PRIu32
				" --cnt %" PRIu32 ": out of range (idle and intvl 1..32767 s,"
				" cnt 1..127)\n", idle, intvl, cnt);
			return EXIT_USAGE;
		}
	}
#undef SET
	return 0;
}

int tf_cmd_model(int argc, char **argv)
{
	struct knobs k = { .in_budget = false };
	enum sub sub = 0;
	tf_model *m = NULL;
	tf_schedule *s = NULL;
	const char *hz_from = "--hz", *budget_from = "given", *linear_from = "given";
	bool in_budget;
	int linear = -1, r, ret = EXIT_OK;
	uint32_t hz = 0;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			sub = subs[i].sub;
	if (!sub) {
		fprintf(stderr, "tcpfate model: unknown schedule '%s' (retrans, syn, keepalive,"
			" budget); try 'tcpfate model --help'\n", argv[1]);
		return EXIT_USAGE;
	}
	r = parse(sub, argc - 1, argv + 1, &k);
	if (r < 0)
		return EXIT_OK; /* --help */
	if (r > 0)
		return r;
	if (sub == SUB_BUDGET)
		return cmd_budget(&k);

	if (k.given[O_HZ]) {
		hz = k.hz;
	} else if ((r = kernel_hz(&hz)) < 0 || hz < 100 || hz > 1000) {
		fprintf(stderr, "tcpfate model: cannot tell this kernel's HZ from"
			" clock_getres(CLOCK_MONOTONIC_COARSE)%s%s; give --hz\n",
			r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		return EXIT_FAIL;
	} else {
		hz_from = "clock_getres";
	}
	/* Version-dependent rules: probe for the sysctl that came with each. */
	if (k.given[O_IN_BUDGET]) {
		in_budget = k.in_budget;
	} else {
		in_budget = proc_exists("/proc/sys/net/ipv4/tcp_rto_max_ms");
		budget_from = "probed";
	}
	if (k.given[O_LINEAR]) {
		linear = k.linear;
	} else {
		linear = proc_exists("/proc/sys/net/ipv4/tcp_syn_linear_timeouts") ? 4 : -1;
		linear_from = "probed";
	}

	if ((r = tf_model_new(&m)) < 0) {
		fprintf(stderr, "tcpfate model: %s\n", strerror(-r));
		return EXIT_FAIL;
	}
	ret = build(sub, &k, hz, in_budget, linear, m);
	if (ret)
		goto out;

	switch (sub) {
	case SUB_RETRANS: {
		uint64_t budget = 0;

		r = tf_model_retrans(m, &s);
		if (r < 0)
			break;
		tf_model_retries2_budget_ms(m, &budget);
		printf("retrans: HZ %" PRIu32 " (%s), srtt %" PRIu32 " us, rttvar %" PRIu32
		       " us, retries2 %" PRIu32 ", rto_max %" PRIu32 " ms (in budget: %s, %s)\n",
		       hz, hz_from, k.given[O_RTT] ? k.rtt : 1, k.given[O_RTTVAR] ? k.rttvar : 0,
		       k.given[O_RETRIES2] ? k.retries2 : 15,
		       k.given[O_RTO_MAX] ? k.rto_max : 120000, in_budget ? "yes" : "no", budget_from);
		printf("RTO %u jiffies = %.1f ms; budget %.3f s (%s) from the first RTO"
		       " retransmission\n", tf_model_rto_jiffies(m),
		       tf_model_rto_jiffies(m) * 1000.0 / hz, (double)budget / 1000.0,
		       k.given[O_UT] && k.ut ? "TCP_USER_TIMEOUT" : "tcp_model_timeout(retries2, TCP_RTO_MIN)");
		break;
	}
	case SUB_SYN: {
		char lin[16] = "none";

		r = tf_model_syn(m, &s);
		if (r < 0)
			break;
		if (linear >= 0)
			snprintf(lin, sizeof lin, "%d", linear);
		printf("syn: HZ %" PRIu32 " (%s), syn_retries %" PRIu32 ", linear timeouts %s (%s),"
		       " rto_max %" PRIu32 " ms (in budget: %s, %s)\n",
		       hz, hz_from, k.given[O_SYN_RETRIES] ? k.syn_retries : 6, lin, linear_from,
		       k.given[O_RTO_MAX] ? k.rto_max : 120000, in_budget ? "yes" : "no", budget_from);
		break;
	}
	case SUB_KA:
		r = tf_model_keepalive(m, &s);
		if (r < 0)
			break;
		printf("keepalive: HZ %" PRIu32 " (%s), idle %" PRIu32 " s, intvl %" PRIu32
		       " s, cnt %" PRIu32 "%s\n", hz, hz_from,
		       k.given[O_IDLE] ? k.idle : 7200, k.given[O_INTVL] ? k.intvl : 75,
		       k.given[O_CNT] ? k.cnt : 9,
		       k.given[O_UT] && k.ut ? ", TCP_USER_TIMEOUT replaces cnt" : "");
		break;
	default:
		r = -EINVAL;
		break;
	}
	if (r == -EOPNOTSUPP) {
		fputs("tcpfate model: syn with --neigh-failed is not modelled: the first ICMP host"
		      " unreachable ends a SYN_SENT socket at once with EHOSTUNREACH"
		      " (tcp_v4_err()), at a time set by the neighbour subsystem\n", stderr);
		ret = EXIT_FAIL;
	} else if (r == -E2BIG) {
		fputs("tcpfate model: the schedule is longer than 100000 events; use fewer"
		      " retries or a shorter TCP_USER_TIMEOUT\n", stderr);
		ret = EXIT_FAIL;
	} else if (r < 0) {
		fprintf(stderr, "tcpfate model: %s\n", strerror(-r));
		ret = EXIT_FAIL;
	} else {
		print_schedule(s);
	}
out:
	tf_schedule_free(s);
	tf_model_free(m);
	return ret;
}
