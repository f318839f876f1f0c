/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_model.h — what the kernel is expected to do, computed from its rules.
 *
 * Pure arithmetic: no I/O, no clock, no globals.  Every number a case
 * asserts comes from here; every rule here cites the kernel function or
 * document it implements.  Inputs that differ between kernels are passed in
 * (detected by the caller by probing), never inferred from a version string.
 *
 * Usage (libpcap-like): new → set → compute → free.
 *
 *   _cleanup_(tf_model_freep) tf_model *m = NULL;
 *   tf_model_new(&m);
 *   tf_model_set_hz(m, 250);
 *   tf_model_set_rtt(m, srtt_us, rttvar_us);
 *   tf_model_set_retries2(m, 5);
 *   tf_model_retrans(m, &sched);
 *
 * Functions that can fail return 0 or a negative errno (the one-rule
 * functions that cannot, e.g. tf_model_delack_min(), return their value);
 * setters validate their input (-EINVAL, -ERANGE) and leave the model
 * unchanged on error:
 * -EINVAL for a NULL model or values that contradict each other, -ERANGE
 * for a value outside what the kernel accepts for that knob.
 *
 * One header, a file per rule: model.c (state, RTO, PTO, RTT estimator),
 * model_timer.c (timer wheel, jiffies, default slack), model_sched.c
 * (schedules, which one runs), model_retrans.c, model_syn.c,
 * model_keepalive.c, model_qdisc.c (netem loss, tbf), model_delack.c,
 * model_zwp.c (zero-window probes), model_ports.c (ephemeral ports,
 * TIME-WAIT), model_mss.c (MSS, PMTU, probing), model_neigh.c,
 * model_icmp.c and model_unreach.c (unreachable peer).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tf_model tf_model;
typedef struct tf_schedule tf_schedule;

/* What caused a transmission (or the end of the schedule). */
typedef enum tf_tx_kind {
	TF_TX_ORIGINAL = 0, /* first transmission of the data (t = 0) */
	TF_TX_TLP,          /* tail loss probe, tcp_send_loss_probe() */
	TF_TX_RTO,          /* retransmission by tcp_retransmit_timer() */
	TF_TX_SYN,          /* initial SYN (t = 0) */
	TF_TX_SYN_RTO,      /* SYN retransmission */
	TF_TX_KEEPALIVE,    /* keepalive probe, tcp_keepalive_timer() */
	TF_TX_GIVEUP,       /* no packet: the socket error is raised here */
} tf_tx_kind;

const char *tf_tx_kind_name(tf_tx_kind k);

/*
 * One expected event.  Times are microseconds.  `gap_*` is the interval from
 * the previous event (0 for the first); `at_*` is cumulative from event 0.
 * The band [lo, hi] is what the kernel's timer mechanics allow: the timer is
 * armed for `timer_jiffies`, the timer wheel rounds the expiry up to its
 * level's granularity (kernel/time/timer.c calc_index()), and an event that
 * was started from user space (not from a timer tick) can start anywhere
 * inside a jiffy.  `gap_us` is the midpoint of that band and is what the
 * report calls "expected".  No scheduling latency is included: the caller
 * adds its own, stated, slack.
 */
typedef struct tf_sched_event {
	tf_tx_kind kind;
	unsigned   timer_jiffies; /* timer armed by the kernel for this event */
	int64_t    gap_us, gap_lo_us, gap_hi_us;
	int64_t    at_us, at_lo_us, at_hi_us;
	const char *rule;         /* short citation, e.g. "tcp_retransmit_timer(): rto<<1" */
	/* An event whose moment another chain of timers sets, not the one
	 * armed at the previous event: over IPv4 a retransmission sent
	 * while the sender handles the router's ICMP (tcp_ld_RTO_revert()),
	 * which the router's resolution timers time from the packet that
	 * started it.  Its gap is then the difference of two chains; what
	 * the kernel decides is its time after event `from`, `from_*_us`,
	 * over `from_timers` timers.  from_timers 0: not such an event
	 * (appended in ABI TCPFATE_0.2: the library allocates events). */
	size_t     from;
	unsigned   from_timers;
	int64_t    from_us, from_lo_us, from_hi_us;
	const char *from_rule;    /* what times it from `from` */
} tf_sched_event;

int  tf_model_new(tf_model **ret);
void tf_model_free(tf_model *m);          /* accepts NULL */
static inline void tf_model_freep(tf_model **m) { tf_model_free(*m); }

/* --- the model of this host's kernel and this socket (model_host.c) --- */
struct tcp_info;
typedef struct tf_host tf_host;
typedef struct tf_sock_knobs tf_sock_knobs;
/* Every knob host h's kernel has: HZ, tcp_retries2, tcp_early_retrans,
 * tcp_rto_min_us (6.11+), tcp_rto_max_ms (6.15+, and with it tcp_rto_max()
 * in the retries2 budget), tcp_syn_retries, tcp_syn_linear_timeouts (6.7+),
 * tcp_keepalive_time/intvl/probes.  A sysctl the kernel lacks keeps the
 * model's default. */
int tf_model_set_from_host(tf_model *m, tf_host *h);
/* Then what a socket says of itself (either may be NULL, not both): its
 * options (tf_sock_knobs_read()) override the host's, and its RTT estimate
 * and unacknowledged segments (TCP_INFO, when it has an RTT sample). */
int tf_model_set_from_sock(tf_model *m, const tf_sock_knobs *k, const struct tcp_info *ti);

/* --- knobs (defaults in brackets are the kernel's compiled-in defaults) --- */
int tf_model_set_hz(tf_model *m, unsigned hz);                 /* [250] 100..1000 */
/* As TCP_INFO reports them: tcpi_rtt (smoothed RTT) and tcpi_rttvar (mean
 * deviation, = tp->mdev_us >> 2).  srtt 0 means "no RTT sample", as
 * tp->srtt_us == 0 does in the kernel: RTO and PTO are TCP_TIMEOUT_INIT.
 * Any srtt from 1 µs to a few ms (veth, LAN) gives the same jiffies. */
int tf_model_set_rtt(tf_model *m, uint32_t srtt_us, uint32_t rttvar_us); /* [0,0] */
int tf_model_set_rto_min_us(tf_model *m, uint32_t us);         /* [200000] route rto_min / tcp_rto_min_us */
int tf_model_set_rto_max_ms(tf_model *m, uint32_t ms);         /* [120000] 1000..120000 */
/* Kernel uses the per-socket rto_max in tcp_model_timeout() (6.15+, probe:
 * TCP_RTO_MAX_MS accepted).  [false]: TCP_RTO_MAX is used there. */
int tf_model_set_rto_max_in_budget(tf_model *m, bool yes);
int tf_model_set_early_retrans(tf_model *m, int v);            /* [3] tcp_early_retrans 0..4 */
int tf_model_set_retries2(tf_model *m, unsigned n);            /* [15] */
int tf_model_set_user_timeout_ms(tf_model *m, uint32_t ms);    /* [0] TCP_USER_TIMEOUT */
int tf_model_set_packets_out(tf_model *m, unsigned n);         /* [1] */
int tf_model_set_syn_retries(tf_model *m, unsigned n);         /* [6] tcp_syn_retries or TCP_SYNCNT, 1..127 */
/* tcp_syn_linear_timeouts (6.5+; probe: sysctl exists).  -1 = kernel has no such rule. [-1] */
int tf_model_set_syn_linear_timeouts(tf_model *m, int n);
int tf_model_set_keepalive(tf_model *m, uint32_t idle_s, uint32_t intvl_s, unsigned cnt); /* [7200,75,9] */
/* Peer unreachable at the link layer (ARP fails): errno becomes EHOSTUNREACH. [false]
 * Only the errno changes: tf_model_retrans() and tf_model_keepalive() keep
 * the times of a silent peer.  Not modelled: while ARP fails, a
 * retransmission may sit in the neighbour queue and not reach the wire
 * (skb_still_in_host_queue()), and each ICMP host unreachable may undo one
 * backoff step (tcp_ld_RTO_revert(), net/ipv4/tcp_ipv4.c), so with ARP
 * failing assert the errno and, as a lower bound of the give-up, the first
 * RTO retransmission plus the budget.  tf_model_syn() returns -EOPNOTSUPP:
 * the first ICMP ends a SYN_SENT socket at once (tcp_v4_err()), at a time
 * set by the neighbour subsystem.  The revert schedule itself, from the
 * router's neighbour rules or from measured ICMP times, is
 * tf_model_unreach() / tf_model_retrans_icmp() below. */
int tf_model_set_neigh_failed(tf_model *m, bool yes);

/* --- derived values --- */
/* The RTO the kernel computes for an established socket, in jiffies:
 * __tcp_set_rto() + tcp_bound_rto(), net/ipv4/tcp_input.c. */
unsigned tf_model_rto_jiffies(const tf_model *m);
/* tcp_model_timeout() in net/ipv4/tcp_timer.c, in ms: the retries2 budget. */
uint64_t tf_model_timeout_ms(unsigned boundary, uint32_t rto_base_ms, uint32_t rto_max_ms);
/* Row `attempt` of the hypothetical schedule behind tcp_model_timeout() (the
 * ip-sysctl tcp_retries2 text): attempt i waits rto_base << i until that
 * would pass rto_max, then rto_max; it starts at tcp_model_timeout(i - 1)
 * (0 for i = 0) and ends at tcp_model_timeout(i).  -EINVAL for NULL
 * pointers, rto_base_ms 0 or rto_max_ms < rto_base_ms (where
 * tf_model_timeout_ms() returns 0). */
int tf_model_hypothetical_step(unsigned attempt, uint32_t rto_base_ms, uint32_t rto_max_ms,
			       uint64_t *start_ms, uint64_t *timeout_ms);
/* What tcp_write_timeout() lets an established socket retransmit for, in ms,
 * counted from the first RTO retransmission (retrans_stamp): TCP_USER_TIMEOUT
 * if set, else tcp_model_timeout(retries2, TCP_RTO_MIN) at this HZ. */
int tf_model_retries2_budget_ms(const tf_model *m, uint64_t *ms);

/* --- RTT estimator out of steady state (tcp_rtt_estimator(), net/ipv4/tcp_input.c) --- */
/* tp->rttvar_us after a run of RTT samples taken one per round trip (a
 * request/response exchange: every sample ends an RTT, after(snd_una,
 * rtt_seq)).  mdev_us[i] is tp->mdev_us after sample i (4 x tcpi_rttvar,
 * read after each sample); mdev_us[0] is the connection's first sample,
 * which sets rttvar_us = max(mdev_us, rto_min).  Each later sample raises
 * rttvar_us to max(mdev_us, rto_min) if larger, else lets it decay by a
 * quarter of the difference.  -EINVAL for NULL or n == 0. */
int tf_model_rttvar_replay(uint32_t rto_min_us, const uint32_t *mdev_us, size_t n,
                           uint32_t *rttvar_us);
/* tcpi_rtt (tp->srtt_us >> 3) after RTT samples rtt_us[0..n) from
 * tcpi_rtt srtt0_us (> 0: the connection has had its first sample): each
 * sample m moves srtt (8 x scaled) by m - srtt / 8.  srtt0_us loses the
 * low 3 bits of the scaled value, so the answer is a range [lo, hi].
 * -EINVAL for NULL, n == 0 or srtt0_us == 0. */
int tf_model_srtt_replay(uint32_t srtt0_us, const uint32_t *rtt_us, size_t n, uint32_t *lo_us,
                         uint32_t *hi_us);
/* Use this tp->rttvar_us (from tf_model_rttvar_replay()) for the RTO
 * instead of the steady-state choice max(4 x tcpi_rttvar, rto_min) of
 * tf_model_set_rtt(); 0 goes back to that choice. [0] */
int tf_model_set_rttvar_us(tf_model *m, uint32_t rttvar_us);

/* --- random loss: sch_netem "loss P%" (net/sched/sch_netem.c loss_event()) --- */
/* Probability that netem drops a packet for a loss of `percent`, encoded
 * as tf_fault_netem() (libnl) does: loss = percent/100 x (2^32 - 1), and a
 * packet is dropped when a uniform 32-bit random number is <= loss. */
double tf_model_netem_loss_prob(double percent);
/* Binomial(n, p): the band [lo, hi] with P(X < lo) <= tail and
 * P(X > hi) <= tail, from exact sums of the probability mass function.
 * -EINVAL for NULL, p outside [0, 1] or tail outside (0, 0.5). */
int tf_model_binomial_band(unsigned n, double p, double tail, unsigned *lo, unsigned *hi);

/* --- token bucket: sch_tbf (net/sched/sch_tbf.c tbf_dequeue()) --- */
/* The least time, in µs, between the departure of the first byte of
 * `bytes` (packet lengths as qdisc_pkt_len(): from the MAC header) and of
 * the last one, through a token bucket of rate_Bps bytes/s that holds at
 * most `burst` bytes of tokens and is full when the first packet leaves:
 * max(0, bytes - burst) / rate.  A queue that never runs dry meets it
 * exactly (the watchdog is armed for the exact deficit).  -EINVAL for a
 * NULL or zero rate. */
int tf_model_tbf_time_us(uint64_t rate_Bps, uint64_t burst, uint64_t bytes, uint64_t *us);
/* Each packet's departure (depart_ns[0..n)) through the same bucket, full
 * at the first arrival, given when each reached the qdisc (arrive_ns,
 * ascending; FIFO) and its length (qdisc_pkt_len()): at the first moment,
 * at or after its arrival and the previous departure, at which
 * min(bucket, tokens + elapsed) covers it.  Equals the above for a queue
 * that never runs dry; where it did (the sender lagged) the tokens beyond
 * the bucket are lost, as in tbf_dequeue().  -EINVAL for NULL, a zero rate
 * or unsorted arrivals. */
int tf_model_tbf_departures(uint64_t rate_Bps, uint64_t burst, const int64_t *arrive_ns,
                            const uint32_t *len, size_t n, int64_t *depart_ns);

/* --- jiffies (include/linux/jiffies.h, kernel/time/time.c) --- */
/* The kernel's conversions, exact for HZ dividing 1000 (100, 250, 1000):
 * to jiffies rounds up (usecs_to_jiffies(), msecs_to_jiffies()), from
 * jiffies rounds down (jiffies_to_usecs(), jiffies_to_msecs()).  0 for an
 * hz outside 100..1000. */
uint64_t tf_us_to_jiffies(unsigned hz, uint64_t us);
uint64_t tf_ms_to_jiffies(unsigned hz, uint64_t ms);
uint64_t tf_jiffies_to_us(unsigned hz, uint64_t jiffies);
uint64_t tf_jiffies_to_ms(unsigned hz, uint64_t jiffies);

/* The slack a check adds to a model band when the caller states none
 * (TF_SLACK_US unset), in µs: one jiffy, because a timer's softirq can be
 * deferred to the next tick (ksoftirqd, a busy CPU) so an event may land
 * one tick after its bucket, plus 2 ms for the wake-up and the capture.
 * The model's band already carries the jiffy edge and the wheel's
 * rounding.  An hz outside 100..1000 (unknown) counts the longest jiffy,
 * HZ=100's. */
int64_t tf_model_default_slack_us(unsigned hz);

/* --- the timer wheel (kernel/time/timer.c calc_wheel_index(), calc_index()) --- */
/* Granularity, in jiffies, of the wheel level a timer armed for
 * `timer_jiffies` lands on: 1, 8, 64, 512 ... */
unsigned tf_model_wheel_gran(unsigned hz, uint64_t timer_jiffies);
/* On the absolute jiffy grid: the jiffy at which a timer armed at jiffy j
 * (>= 0) for d jiffies fires, from a timer callback (from_tick) or not;
 * -1 for a bad hz or j. */
int64_t tf_model_wheel_fire(unsigned hz, int64_t j, uint64_t d, bool from_tick);
/* When a timer armed for `timer_jiffies` fires, in µs after arming:
 * [d, d + gran] jiffies when armed at an arbitrary point inside a jiffy
 * (a syscall, a softirq), [d + 1, d + gran] when armed from a timer
 * callback on the tick.  No scheduling latency included. */
int tf_model_timer_band(unsigned hz, uint64_t timer_jiffies, bool from_tick, int64_t *lo_us,
                        int64_t *hi_us);
/* The same band as one value, the type every check of a timer uses: when
 * a timer armed for `jiffies` fires, lo_us..hi_us after it was armed, and
 * the midpoint, which a report calls "expected".  gran is the wheel
 * level's granularity the band carries (hi = jiffies + gran).  -EINVAL
 * for NULL or an hz outside 100..1000. */
typedef struct tf_band {
	int64_t  lo_us, mid_us, hi_us;
	unsigned jiffies;   /* the timer armed */
	unsigned gran;      /* jiffies */
} tf_band;
int tf_model_band(unsigned hz, uint64_t timer_jiffies, bool from_tick, tf_band *ret);

/* --- schedules --- */
/* Schedules return 0, -EINVAL (NULL), -ENOMEM, -E2BIG past 100000 events, or
 * -EOPNOTSUPP for what is not modelled (tf_model_syn() with neigh_failed).
 * Event 0 is at t = 0; for keepalive it is the last segment exchanged
 * (TF_TX_ORIGINAL), from which the idle time counts.  The TF_TX_GIVEUP event
 * sends nothing, except for keepalive, where the kernel sends a RST. */
/* Established connection, peer silent, data outstanding (seed 000/004). */
int tf_model_retrans(const tf_model *m, tf_schedule **ret);
/* connect() to a silently dropping peer (SYN_SENT). */
int tf_model_syn(const tf_model *m, tf_schedule **ret);
/* Idle connection with SO_KEEPALIVE, peer silent. */
int tf_model_keepalive(const tf_model *m, tf_schedule **ret);
/* Keepalive with a live peer that answers each probe: the next probe comes
 * keepalive_time after the answer (tcp_keepalive_timer() re-arms for
 * keepalive_time - keepalive_time_elapsed()), [idle - 1 jiffy,
 * idle + gran(idle - intvl)]; -EOPNOTSUPP when intvl >= idle. */
int tf_model_keepalive_answered_band(unsigned hz, uint32_t idle_s, uint32_t intvl_s,
                                     tf_band *ret);
/* Probes such a peer gets within window_us of event 0 (the last segment
 * exchanged): *sure whatever the bands, *maybe at the earliest (they differ
 * when the window's edge falls inside a band). */
int tf_model_keepalive_answered_count(const tf_model *m, int64_t window_us, unsigned *sure,
                                      unsigned *maybe);
/* The same live peer on the absolute jiffy grid (bucket boundaries are
 * multiples of the wheel's granularity): the jiffy of the probe after the
 * one tcp_keepalive_timer() sent in its callback at jiffy j, the answer
 * within j.  intvl >= idle too: the expiry after a probe finds the socket
 * idle for keepalive_time and probes again (1 s and 1 s at HZ=250: j + 256
 * from a j on a level-1 boundary).  -EINVAL for a zero time or j < 0. */
int tf_model_keepalive_answered_next(unsigned hz, uint32_t idle_s, uint32_t intvl_s, int64_t j,
                                     int64_t *next);

size_t tf_schedule_count(const tf_schedule *s);
const tf_sched_event *tf_schedule_event(const tf_schedule *s, size_t i); /* NULL past the end */
int tf_schedule_errno(const tf_schedule *s);      /* ETIMEDOUT / EHOSTUNREACH */
/* Index of the TF_TX_GIVEUP event (always the last one). */
size_t tf_schedule_giveup(const tf_schedule *s);
/* Index of the n-th (1-based) event of `kind`, or -1. */
long tf_schedule_nth(const tf_schedule *s, tf_tx_kind kind, unsigned n);
/* Events of `kind` before the give-up. */
size_t tf_schedule_count_kind(const tf_schedule *s, tf_tx_kind kind);
/* Transmissions of the head segment (or of the SYN) before the give-up, as
 * a capture counts them: the original, the RTO retransmissions, and the
 * tail loss probe only when the head was the only segment out
 * (packets_out <= 1: tcp_send_loss_probe() resends the tail, which is
 * then the head).  0 for a keepalive schedule (its probes carry no data). */
size_t tf_schedule_head_tx(const tf_schedule *s, unsigned packets_out);
void tf_schedule_free(tf_schedule *s);           /* accepts NULL */
static inline void tf_schedule_freep(tf_schedule **s) { tf_schedule_free(*s); }

/* --- which schedule runs (model_sched.c) --- */
/* The timer codes of sock_diag's idiag_timer and of /proc/net/tcp's "tr"
 * (inet_sk_diag_fill(), net/ipv4/inet_diag.c; get_tcp4_sock(),
 * net/ipv4/tcp_ipv4.c). */
enum {
	TF_TIMER_NONE      = 0,
	TF_TIMER_RETRANS   = 1,  /* retransmission, loss probe, RACK reordering */
	TF_TIMER_KEEPALIVE = 2,  /* sk_timer */
	TF_TIMER_TIMEWAIT  = 3,
	TF_TIMER_PROBE0    = 4,  /* zero-window probe */
};

/* What a socket's kernel does once its peer is gone. */
typedef enum tf_sched_kind {
	TF_SCHED_NEVER = 0,      /* idle, no keepalive: no timer runs, nothing notices */
	TF_SCHED_RETRANS,        /* tf_model_retrans() */
	TF_SCHED_SYN,            /* tf_model_syn() */
	TF_SCHED_KEEPALIVE,      /* tf_model_keepalive() */
	TF_SCHED_ZERO_WINDOW,    /* zero-window probes (tcp_probe_timer(), model_zwp.c) */
	TF_SCHED_OTHER,          /* neither connecting nor established */
} tf_sched_kind;
const char *tf_sched_kind_name(tf_sched_kind k);

/* A socket's timers when its peer went away (sock_diag). */
typedef struct tf_sock_timers {
	int      state;          /* TCP_* (netinet/tcp.h) then */
	unsigned timer;          /* idiag_timer then (TF_TIMER_*) */
	unsigned timers_seen;    /* 1 << idiag_timer for each timer seen armed since */
	bool     have_unacked;   /* unacked is known (TCP_INFO) */
	uint32_t unacked;        /* tcpi_unacked */
	uint32_t wqueue;         /* idiag_wqueue: write_seq - snd_una */
	int      keepalive;      /* SO_KEEPALIVE: 1, 0, -1 not known */
} tf_sock_timers;

/* Which schedule follows: SYN_SENT -> SYN; ESTABLISHED or CLOSE_WAIT ->
 * the retransmission timer when data is unacknowledged (timer seen, or
 * tcpi_unacked > 0), else the zero-window probe timer when it is armed
 * (tcp_check_probe_timer()), else retransmission when data is queued,
 * else keepalive when SO_KEEPALIVE is on (or, not known, its timer is
 * armed), else never; any other state: TF_SCHED_OTHER.  TF_SCHED_NEVER for
 * NULL. */
tf_sched_kind tf_model_which_schedule(const tf_sock_timers *t);

#ifdef __cplusplus
}
#endif

/* ===================================================================== */
/* ==== the rules of one mechanism each (model_delack.c, model_ports.c,   */
/* ==== model_mss.c, model_zwp.c)                                         */
/* ===================================================================== */
#ifdef __cplusplus
extern "C" {
#endif

/* --- delayed ACK (model_delack.c: net/ipv4/tcp_input.c, tcp_output.c) --- */
/* TCP_DELACK_MIN = TCP_ATO_MIN (HZ/25, 4 when HZ < 100) and TCP_DELACK_MAX
 * (HZ/5), include/net/tcp.h, in jiffies. */
unsigned tf_model_delack_min(unsigned hz);
unsigned tf_model_delack_max(unsigned hz);
/* tcp_event_data_recv(): icsk_ack.ato when a data segment arrives m
 * jiffies after the previous one (lrcvtime).  ato 0 is the first data
 * segment: TCP_ATO_MIN (tcp_incr_quickack()).  Jiffies. */
unsigned tf_model_ato_on_data(unsigned hz, unsigned ato, unsigned m, unsigned rto);
/* tcp_delack_max(): min(icsk_delack_max, max(tcp_rto_min(sk), 2) - 1). */
unsigned tf_model_tcp_delack_max(unsigned icsk_delack_max, unsigned rto_min_jiffies);
/* tcp_send_delayed_ack(): the jiffies the delayed-ACK timer is armed for,
 * from ato, the smoothed RTT (µs, 0: none), ping-pong mode or
 * ICSK_ACK_PUSHED, and tcp_delack_max(). */
unsigned tf_model_delack_timeout(unsigned hz, unsigned ato, uint32_t srtt_us, bool pingpong,
                                 unsigned delack_max);
/* The delayed-ACK timer a receiver arms for a data segment, from what
 * TCP_INFO said before it arrived. */
typedef struct tf_delack_in {
	unsigned hz;
	uint32_t ato_us;         /* tcpi_ato */
	uint32_t rto_us;         /* tcpi_rto */
	uint32_t srtt_us;        /* tcpi_rtt */
	int64_t  gap_us;         /* since the previous data segment arrived, >= 0 */
	uint32_t rto_min_us;     /* net.ipv4.tcp_rto_min_us (0: 200000) */
	bool     pingpong;       /* in ping-pong mode (or ICSK_ACK_PUSHED) */
} tf_delack_in;
typedef struct tf_delack {
	unsigned ato_prev;           /* icsk_ack.ato before the segment, jiffies */
	unsigned ato_lo, ato_hi;     /* after it: lrcvtime and now are jiffies, so
	                              * the gap is floor or ceil jiffies */
	unsigned timer_lo, timer_hi; /* tcp_send_delayed_ack() for either */
	unsigned delack_max;         /* tcp_delack_max() */
} tf_delack;
int tf_model_delack(const tf_delack_in *in, tf_delack *ret);

/* --- zero-window probes (model_zwp.c: net/ipv4/tcp_timer.c, tcp_output.c) --- */
/* tcp_probe0_base(): max(icsk_rto, TCP_RTO_MIN), jiffies: the timer
 * tcp_check_probe_timer() arms when data is queued and nothing is in
 * flight (a zero window, or a TCP_CORK never lifted). */
unsigned tf_model_probe0_base(unsigned hz, unsigned rto_jiffies);
/* The probe timer after `probes` probes (0: the first one, base):
 * tcp_send_probe0() counts icsk_backoff while below tcp_retries2 and
 * tcp_probe0_when() arms base << backoff, at most TCP_RTO_MAX; an
 * answering zero-window ACK re-arms the same (tcp_ack_probe()). */
uint64_t tf_model_probe0_gap(unsigned hz, uint64_t base_jiffies, unsigned probes,
                             unsigned retries2);
/* Probes sent within window_us of the window closing: *sure is the count
 * every band allows, *maybe the count the earliest bands allow (the window
 * edge falls inside a band when they differ).  `answered`: each probe is
 * answered and the next timer starts at the answer (< 1 jiffy later).
 * -EINVAL for NULL or a bad hz, -E2BIG past 100000 probes. */
int tf_model_zwp_count(unsigned hz, uint64_t base_jiffies, unsigned retries2, int64_t window_us,
                       bool answered, unsigned *sure, unsigned *maybe);
/* TCP_USER_TIMEOUT on a zero window (tcp_probe_timer(),
 * tcp_clamp_probe0_to_user_timeout(); icsk_probes_tstamp, 5.11+): the
 * abort, in µs from the first probe, when the timer was last re-armed
 * (a probe or a zero-window answer) rearm_us after the first probe:
 * [U - 1 jiffy, U + gran(r) + 1 jiffy], r the jiffies left then (at least
 * TCP_TIMEOUT_MIN); mid is U.  ret->jiffies = r. */
int tf_model_zwp_user_timeout_band(unsigned hz, uint32_t user_timeout_ms, int64_t rearm_us,
                                   tf_band *ret);
/* tcp_oow_rate_limited() (net/ipv4/tcp_input.c): a receiver answers an
 * out-of-window segment (a probe) only if its last answer is at least
 * tcp_invalid_ratelimit old, in jiffies; the limit in µs. */
int64_t tf_model_oow_ratelimit_us(unsigned hz, uint32_t ratelimit_ms);
/* Whether tcp_v4_err() / tcp_v6_err() act on an ICMP error quoting TCP
 * sequence seq: only inside [snd_una, snd_nxt] (mod 2^32), else it is
 * dropped as out of window (TcpExtOutOfWindowIcmps) before any errno or
 * RTO revert.  The same in both families; false for another family.  A
 * zero-window or keepalive probe carries snd_una - 1: never acted on. */
bool tf_model_icmp_in_window(int family, uint32_t seq, uint32_t snd_una, uint32_t snd_nxt);

/* --- ephemeral ports and TIME-WAIT (model_ports.c: net/ipv4/inet_hashtables.c,
 * tcp_ipv4.c, tcp_minisocks.c) --- */
/* __inet_hash_connect()'s scan of ip_local_port_range [low, high]. */
typedef struct tf_connect_ports {
	unsigned count;          /* ports in the range */
	unsigned usable;         /* ports one connect() scan tries: `remaining` */
	unsigned first_pass;     /* of them, the ports of low's parity, tried first */
	bool     exact;          /* every port is tried by every scan (even count) */
} tf_connect_ports;
int tf_model_connect_ports(unsigned low, unsigned high, tf_connect_ports *ret);
/* TCP_TIMEWAIT_LEN (60 * HZ), jiffies. */
unsigned tf_model_timewait_jiffies(unsigned hz);
/* How long a TIME-WAIT socket lives: the band of TCP_TIMEWAIT_LEN, armed
 * from the softirq that took the last FIN (inet_twsk_hashdance_schedule()). */
int tf_model_timewait_band(unsigned hz, tf_band *ret);
/* Connections per second that `ports` sustain while each spends
 * TIME-WAIT on its port: ports / the band's low end (*hi_per_s) and
 * ports / its high end (*lo_per_s). */
int tf_model_port_rate(unsigned ports, unsigned hz, double *lo_per_s, double *hi_per_s);
/* tcp_twsk_unique(): the first CLOCK_MONOTONIC ns at which connect() may
 * take over the TIME-WAIT 4-tuple.  delay_ms >= 0 (6.14+,
 * net.ipv4.tcp_tw_reuse_delay): time_after32(tcp_clock_ms(),
 * tw_entry_stamp + delay), entry_mono_ns = when it entered TIME-WAIT:
 * (floor(entry ms) + delay + 1) ms.  delay_ms < 0 (before 6.14):
 * time_after32(ktime_get_seconds(), tw_ts_recent_stamp), entry_mono_ns =
 * the last timestamped segment: the next second boundary. */
int64_t tf_model_tw_reuse_at_ns(int64_t entry_mono_ns, long delay_ms);
/* How far ktime_get_seconds() (tk->ktime_sec, set by the tick's
 * timekeeping update) may trail CLOCK_MONOTONIC: under 2 jiffies plus
 * tick_late_ns, how late a tick runs (the caller's measure).  -EINVAL for
 * an HZ outside 100..1000 or a negative lateness. */
int64_t tf_model_ktime_sec_lag_ns(unsigned hz, int64_t tick_late_ns);
/* The earliest moment tcp_twsk_unique() may take the 4-tuple over, the
 * last timestamped segment seen at entry_lo_mono_ns or later.  6.14+
 * (delay_ms >= 0): tf_model_tw_reuse_at_ns(), tcp_clock_ms() reads the
 * clock itself.  Before: the stamp is ktime_get_seconds(), which may
 * still name the second before if the segment came within lag_ns
 * (tf_model_ktime_sec_lag_ns()) after a boundary. */
int64_t tf_model_tw_reuse_earliest_ns(int64_t entry_lo_mono_ns, long delay_ms, int64_t lag_ns);
/* tcp_timewait_state_process(): whether an RST with sequence number
 * rst_seq kills a TIME-WAIT socket expecting tw_rcv_nxt (TIME-WAIT
 * assassination): at exactly tw_rcv_nxt, unless net.ipv4.tcp_rfc1337.
 * Its port is then free: connect() takes it fresh, not over. */
bool tf_model_tw_rst_kills(int rfc1337, uint32_t rst_seq, uint32_t tw_rcv_nxt);
/* The ISN tcp_twsk_unique() gives the new connection: tw_snd_nxt + 65535
 * + 2, 0 becoming 1. */
uint32_t tf_model_tw_reuse_isn(uint32_t tw_snd_nxt);
/* tcp_twsk_unique()'s tcp_tw_reuse gate (net/ipv4/tcp_ipv4.c; IPv6
 * reaches the same function: tcp6_timewait_sock_ops.twsk_unique, called
 * by __inet6_check_established()): whether connect() may take a TIME-WAIT
 * 4-tuple over at all, timestamps and the delay aside.  tw_reuse 0: never;
 * 1: always; 2 (the default): only a loopback TIME-WAIT socket's — bound
 * to lo, or its local or remote address loopback, judged by the socket's
 * family (tw_family): IPv4 127.0.0.0/8; IPv6 ::1 or an IPv4-mapped
 * ::ffff:127.0.0.0/104 (a dual-stack socket's IPv4 connection).
 * sk_family is AF_INET (IPv4 strings) or AF_INET6 (IPv6 strings).
 * Returns 1 or 0, -EINVAL for anything else. */
int tf_model_tw_reuse_enabled(int tw_reuse, int sk_family, const char *local, const char *remote,
                              bool bound_to_lo);

/* --- MSS, PMTU and probing (model_mss.c: net/ipv4/tcp_output.c, tcp_timer.c) --- */
enum {
	TF_IPV4_HDR_LEN = 20,    /* icsk_af_ops->net_header_len */
	TF_TCP_HDR_LEN  = 20,    /* sizeof(struct tcphdr) */
	TF_TCP_TS_LEN   = 12,    /* TCPOLEN_TSTAMP_ALIGNED */
};
/* tcp_mtu_to_mss(): the MSS for a path MTU, bounded below by
 * tcp_min_snd_mss, less the timestamp option when negotiated. */
unsigned tf_model_mtu_to_mss(unsigned pmtu, bool ts, unsigned min_snd_mss);
/* tcp_mss_to_mtu(): mss + tcp_header_len + net_header_len. */
unsigned tf_model_mss_to_mtu(unsigned mss, bool ts);
/* tcp_mtup_init() and tcp_mtu_probe(): the search range of PLPMTUD
 * (net.ipv4.tcp_mtu_probing) and the size of an upward probe. */
typedef struct tf_mtu_probing {
	unsigned search_low;     /* tcp_mss_to_mtu(tcp_base_mss) */
	unsigned search_high;    /* mss_clamp + tcphdr + iphdr */
	unsigned low_mss;        /* tcp_mtu_to_mss(search_low): the MSS from the start with
	                          * tcp_mtu_probing 2, after black-hole detection with 1 */
	unsigned probe_mss;      /* tcp_mtu_to_mss((search_high + search_low) >> 1) */
} tf_mtu_probing;
/* mss_clamp: the peer's MSS option (its MTU - 40). */
int tf_model_mtu_probing(unsigned base_mss, unsigned min_snd_mss, unsigned mss_clamp, bool ts,
                         tf_mtu_probing *ret);
/* tcp_mtu_probe(): whether the next transmission is an upward probe:
 * cwnd >= 11, search_high - search_low >= tcp_probe_threshold, and
 * `queued` bytes >= size_needed = probe_mss + (reordering + 1) x mss_cache
 * (*size_needed, may be NULL).  Not modelled: recovery state, SACK blocks,
 * the send window. */
bool tf_model_mtu_probe_sent(const tf_mtu_probing *p, unsigned mss_cache, unsigned cwnd,
                             unsigned reordering, unsigned probe_threshold, uint64_t queued,
                             uint64_t *size_needed);
/* Black-hole detection with tcp_mtu_probing 1: tcp_write_timeout() ->
 * tcp_mtu_probing() when retransmits_timed_out(sk, tcp_retries1): the
 * same test as the retries2 give-up, on the same retrans_stamp.  The
 * schedule of m with tcp_retries2 = retries1: its TF_TX_GIVEUP event is
 * the RTO expiry that detects (and retransmits at low_mss).  -EOPNOTSUPP
 * with TCP_USER_TIMEOUT set (its clamp is not modelled here). */
int tf_model_mtu_blackhole(const tf_model *m, unsigned retries1, tf_schedule **ret);
/* The three above for a socket of `family` (AF_INET, AF_INET6): the same
 * rules with its net_header_len (20 or 40), so over IPv6 MSS = MTU - 60
 * (- 12 with timestamps) and search_high = mss_clamp + 60.  Any MTU (an
 * IPv6 search_low is below 1280).  0 / -EINVAL for another family. */
unsigned tf_model_mtu_to_mss_af(int family, unsigned pmtu, bool ts, unsigned min_snd_mss);
unsigned tf_model_mss_to_mtu_af(int family, unsigned mss, bool ts);
int tf_model_mtu_probing_af(int family, unsigned base_mss, unsigned min_snd_mss,
                            unsigned mss_clamp, bool ts, tf_mtu_probing *ret);

#ifdef __cplusplus
}
#endif

/* ===================================================================== */
/* ==== model_unreach.c: the peer's link is down, the router says so ==== */
/* ===================================================================== */
/*
 * A router forwards to a peer whose link lost carrier: its neighbour entry
 * for the peer was flushed (neigh_carrier_down()), each new resolution
 * fails after the solicitations and every packet it held comes back to
 * the sender as an ICMP host unreachable (neigh_invalidate() ->
 * arp_error_report() -> ipv4_link_failure()), within the ICMP rate limit
 * (inet_peer_xrlim_allow()).  At the sender each of them sets sk_err_soft
 * and may undo a backoff step (tcp_ld_RTO_revert(), RFC 6069), so the
 * schedule differs from a silent peer's and the error is EHOSTUNREACH.
 *
 *   (a) router:  tf_model_neigh_failures()  packets reaching the router -> ICMP bursts
 *   (b) sender:  tf_model_retrans_icmp()    ICMPs reaching the sender -> its schedule
 *   (c) both:    tf_model_unreach()         the knobs alone -> schedule, bursts, errno
 *
 * Times are µs from t0, the sender's original transmission (on the
 * capture's clock); bands as in tf_sched_event.  One segment in flight
 * (tf_model_set_packets_out() 1), no TCP_USER_TIMEOUT: -EOPNOTSUPP
 * otherwise, where it can be told.  Return 0 or a negative errno.
 */
#ifdef __cplusplus
extern "C" {
#endif

/* The router's neighbour table and ICMP limits on its link toward the
 * peer; defaults in brackets are the kernel's (arp_tbl in net/ipv4/arp.c,
 * icmp_sk_init() in net/ipv4/icmp.c). */
typedef struct tf_neigh_params {
	unsigned hz;                /* [250] 100..1000, must be the sender model's */
	uint32_t retrans_time_ms;   /* [1000] net.ipv4.neigh.<dev>.retrans_time_ms */
	unsigned ucast_solicit;     /* [3] net.ipv4.neigh.<dev>.ucast_solicit */
	unsigned mcast_solicit;     /* [3] net.ipv4.neigh.<dev>.mcast_solicit */
	unsigned app_solicit;       /* [0] net.ipv4.neigh.<dev>.app_solicit */
	unsigned unres_qlen;        /* [101] net.ipv4.neigh.<dev>.unres_qlen (packets held) */
	uint32_t icmp_ratelimit_ms; /* [1000] net.ipv4.icmp_ratelimit, 0 = none */
	uint32_t icmp_ratemask;     /* [0x1818] net.ipv4.icmp_ratemask */
} tf_neigh_params;

/* The defaults above. */
void tf_neigh_params_init(tf_neigh_params *p);

/* One failed resolution: the ICMPs the router sends for what it held. */
typedef struct tf_neigh_burst {
	size_t   first;          /* index of the packet that started the resolution */
	size_t   last;           /* index of the last packet held */
	size_t   n_queued;       /* packets held when it failed (after unres_qlen drops) */
	unsigned n_timers;       /* neigh_timer_handler() expiries until NUD_FAILED */
	unsigned timer_jiffies;  /* each armed for max(retrans_time, HZ/100) */
	int64_t  at_us, at_lo_us, at_hi_us;  /* the failure, i.e. every ICMP of the burst */
	unsigned n_icmp;         /* ICMPs sent: expected (midpoint) ... */
	unsigned n_icmp_lo, n_icmp_hi;       /* ... and every count the band allows */
	bool     borderline;     /* a packet arrived inside [at_lo, at_hi]: taken as
	                          * after the failure (it starts the next resolution),
	                          * as the retransmission the burst provokes is */
	const char *rule;
} tf_neigh_burst;

/* (a) Packets reaching the router at arrive_us[0..n) (ascending, >= 0;
 * the first finds no neighbour entry) -> the failed resolutions, in order,
 * including one still pending after the last packet.  *ret is malloc()ed
 * (free() it), NULL when *n_ret is 0 (mcast_solicit + app_solicit = 0:
 * every packet is dropped without an ICMP).  -EINVAL (NULL, unsorted),
 * -ERANGE (a parameter out of the kernel's range). */
int tf_model_neigh_failures(const tf_neigh_params *p, const int64_t *arrive_us, size_t n,
                            tf_neigh_burst **ret, size_t *n_ret);

/* Why an event of tf_model_retrans_icmp() happened. */
typedef struct tf_icmp_cause {
	int     icmp;            /* index in icmp_us of the ICMP that armed or sent it;
	                          * -1: its timer was armed by the previous event */
	bool    immediate;       /* sent while that ICMP was handled (tcp_ld_RTO_revert()
	                          * -> tcp_retransmit_timer()) */
	int64_t after_us, after_lo_us, after_hi_us;  /* event - icmp_us[icmp] */
} tf_icmp_cause;

/* One resolution that fails: from the packet that starts it to the
 * ICMPs, the band of tf_model_neigh_failures()'s bursts; jiffies is the
 * neighbour timer, gran its granularity.  -EINVAL, -ERANGE as there;
 * -ENOENT when app + mcast = 0 (no resolution, no ICMP). */
int tf_model_neigh_resolution(const tf_neigh_params *p, tf_band *ret);
/* A router whose link toward the peer lost carrier forgets the peer
 * (neigh_carrier_down(), with arp_evict_nocarrier) when linkwatch handles
 * the event, within HZ (linkwatch_schedule_work(), net/core/link_watch.c);
 * the first packet after that starts a resolution that fails.  From a
 * sender's plain schedule s (µs from its original, which left when the
 * carrier went): the first ICMP host unreachable comes at the earliest one
 * resolution after the original (earliest_us) and at the latest one
 * resolution after the first transmission at or past the eviction
 * (latest_us). */
typedef struct tf_arp_failure {
	int64_t earliest_us, latest_us;
	int64_t evict_us;                  /* linkwatch's delay: HZ jiffies */
	tf_band resolution;                /* tf_model_neigh_resolution() */
} tf_arp_failure;
int tf_model_arp_failure(const tf_neigh_params *p, const tf_schedule *s, tf_arp_failure *ret);

/* (b) The sender's schedule (tf_model_retrans()'s kinds; a retransmission
 * sent or re-timed by an ICMP is TF_TX_RTO with a rule naming
 * tcp_ld_RTO_revert()) given the ICMP host unreachables that reached it at
 * icmp_us[0..n_icmp) (ascending, >= 0), as measured, like the RTT.  The
 * give-up's errno is EHOSTUNREACH if an ICMP came before it.  With
 * causes, *causes gets one entry per event (malloc()ed, free() it). */
int tf_model_retrans_icmp(const tf_model *m, const int64_t *icmp_us, size_t n_icmp,
                          tf_schedule **ret);
int tf_model_retrans_icmp_causes(const tf_model *m, const int64_t *icmp_us, size_t n_icmp,
                                 tf_schedule **ret, tf_icmp_cause **causes);

/* (c) The closed loop, from the knobs alone: every packet the sender sends
 * reaches the router at once (veth), every ICMP reaches the sender at once.
 * Timers are simulated on the absolute jiffy grid (kernel/time/timer.c
 * calc_index()), for every phase of t0 on the wheel and every order of
 * same-tick events; runs that agree on what happens (kinds, causes, ICMP
 * counts) form a variant.  Its `at` bands (events, bursts) span its runs;
 * its gap bands also hold whatever the grid's alignment, as
 * tf_model_retrans()'s do (a callback one tick late re-aligns the next
 * timer: the next gap shrinks).  Variants are sorted by runs, most first.
 * -E2BIG past 100000 events or 16 variants. */
typedef struct tf_unreach tf_unreach;
int tf_model_unreach(const tf_model *m, const tf_neigh_params *p, tf_unreach **ret);
size_t tf_unreach_variants(const tf_unreach *u);
unsigned tf_unreach_runs(const tf_unreach *u, size_t v);     /* 0 past the end */
unsigned tf_unreach_total_runs(const tf_unreach *u);
/* The sender's schedule of variant v (TF_TX_GIVEUP last, errno). */
const tf_schedule *tf_unreach_schedule(const tf_unreach *u, size_t v);
/* Variant v's resolutions; first/last index its schedule's events. */
size_t tf_unreach_bursts(const tf_unreach *u, size_t v);
const tf_neigh_burst *tf_unreach_burst(const tf_unreach *u, size_t v, size_t i);
/* Whether event i of variant v was sent while an ICMP of burst *burst was
 * handled (tcp_ld_RTO_revert() -> tcp_retransmit_timer()). */
bool tf_unreach_immediate(const tf_unreach *u, size_t v, size_t i, size_t *burst);
void tf_unreach_free(tf_unreach *u);                        /* accepts NULL */
static inline void tf_unreach_freep(tf_unreach **u) { tf_unreach_free(*u); }

#ifdef __cplusplus
}
#endif
/* ==== end of model_unreach.c ========================================= */

/* --- IPv6 rules (model_ipv6.c) --- */
/*
 * Where the kernel's TCP treats IPv6 differently from IPv4.  `family` is
 * AF_INET or AF_INET6 (<sys/socket.h>); -EINVAL otherwise.
 *
 *   MSS          MTU - 60 in IPv6 (40-byte header), MTU - 40 in IPv4
 *   minimum MTU  1280 (IPV6_MIN_MTU); a Packet Too Big below it is
 *                ignored (tcp_v6_err()), where IPv4 clamps to min_pmtu 552
 *   ICMP revert  tcp_v6_err() undoes a backoff step (tcp_ld_RTO_revert())
 *                only for Destination Unreachable / No Route (code 0);
 *                a router whose neighbour discovery fails sends Address
 *                Unreachable (code 3): no revert, so with the peer's link
 *                down the IPv6 sender keeps a silent peer's schedule —
 *                tf_model_retrans() with tf_model_set_neigh_failed(m, true)
 *                (errno EHOSTUNREACH) — where IPv4's is tf_model_unreach();
 *                tf_model_unreach_family() gives either, with the router's
 *                bursts (ICMPv6 rate limit: tf_neigh_params_set_icmpv6()).
 *   neighbours   nd_tbl's solicitation numbers are arp_tbl's: resolution
 *                fails at the same times (tf_neigh_params_init_family()).
 */
#ifdef __cplusplus
extern "C" {
#endif

#define TF_IPV6_MIN_MTU  1280   /* IPV6_MIN_MTU, include/net/ipv6.h */
#define TF_IPV4_MIN_PMTU 552    /* net.ipv4.route.min_pmtu default, net/ipv4/route.c */

/* icsk_af_ops->net_header_len: 20 or 40 (0 for an unknown family). */
unsigned tf_model_net_header_len(int family);
/* The least link MTU the family runs on: 68 or 1280 (0 if unknown). */
unsigned tf_model_min_mtu(int family);
/* tcp_mtu_to_mss(): mtu - net_header_len - 20 (at least 48), minus 12 with
 * timestamps.  -ERANGE below tf_model_min_mtu() or above 65535. */
int tf_model_mss_from_mtu(int family, unsigned mtu, bool timestamps, unsigned *mss);
/* The path MTU after an ICMP "too big" (IPv4 fragmentation needed, IPv6
 * Packet Too Big) announcing ptb_mtu, from pmtu; min_pmtu is IPv4's
 * net.ipv4.route.min_pmtu (0: its default 552), unused for IPv6. */
int tf_model_pmtu_after_ptb(int family, unsigned pmtu, unsigned ptb_mtu, unsigned min_pmtu,
                            unsigned *ret);

/* What an ICMP error does to a TCP socket of this family. */
typedef struct tf_icmp_effect {
	int  err;            /* errno it stands for (sk_err_soft when established) */
	bool rto_revert;     /* undoes a backoff step (tcp_ld_RTO_revert(), RFC 6069) */
	bool ends_syn_sent;  /* a connecting socket fails with err at once */
	bool pmtu;           /* a "too big": the PMTU path, no error */
	const char *rule;
} tf_icmp_effect;
/* -EOPNOTSUPP for a type/code not modelled. */
int tf_model_icmp_effect(int family, unsigned type, unsigned code, tf_icmp_effect *e);
/* The ICMP a router sends for what it held when neighbour resolution
 * fails: IPv4 (3, 1) host unreachable, IPv6 (1, 3) address unreachable. */
int tf_model_neigh_failure_icmp(int family, unsigned *type, unsigned *code);
/* Whether those ICMPs undo backoff steps at the sender: IPv4 yes, IPv6 no. */
bool tf_model_neigh_failure_reverts(int family);
/* tf_neigh_params_init() for the family's neighbour table (nd_tbl for
 * IPv6: the same numbers as arp_tbl). */
int tf_neigh_params_init_family(int family, tf_neigh_params *p);

/* The peer's link down, either family (issue 14): tf_model_unreach() and
 * tf_model_retrans_icmp_causes() where the router's answer undoes backoff
 * steps only if tf_model_neigh_failure_reverts(family): IPv4 as those,
 * IPv6 a silent peer's schedule (tcp_v6_err()) whose give-up's errno is
 * EHOSTUNREACH once an ICMP came.  -EINVAL for another family. */
int tf_model_unreach_family(const tf_model *m, const tf_neigh_params *p, int family,
                            tf_unreach **ret);
int tf_model_retrans_icmp_family(const tf_model *m, int family, const int64_t *icmp_us,
                                 size_t n_icmp, tf_schedule **ret, tf_icmp_cause **causes);
/* icmpv6_xrlim_allow(): what an ICMPv6 error toward a destination reached
 * by a route of prefix length route_plen costs, in ms (ms of whole
 * jiffies): net.ipv6.icmp.ratelimit, shifted right by (128 - plen) >> 5
 * jiffies-wise on kernels before upstream 0201eedb69b2 (prefix_scaled). */
int tf_model_icmpv6_ratelimit_ms(unsigned hz, uint32_t ratelimit_ms, unsigned route_plen,
                                 bool prefix_scaled, uint32_t *ret);
/* Whether a kernel scales by prefix, from net.ipv6.icmp.ratelimit as a
 * fresh network namespace has it: 1 (1 * HZ: 1000 ms), 0 (HZ / 10: 100 ms,
 * the same commit), -EOPNOTSUPP for any other value. */
int tf_model_icmpv6_prefix_scaled(unsigned hz, uint32_t default_ratelimit_ms);
/* Whether net.ipv6.icmp.ratemask ("0-1,3-127", proc_do_large_bitmap())
 * rate-limits ICMPv6 type `type`; -EINVAL for a malformed mask. */
int tf_model_icmpv6_ratemask_has(const char *mask, unsigned type, bool *ret);
/* p's ICMP limits for a router answering in ICMPv6 (p->hz set): the
 * ratelimit as tf_model_icmpv6_ratelimit_ms(), the Destination Unreachable
 * bit of icmp_ratemask as the ICMPv6 ratemask says of type 1. */
int tf_neigh_params_set_icmpv6(tf_neigh_params *p, uint32_t ratelimit_ms, const char *ratemask,
                               unsigned route_plen, bool prefix_scaled);

#ifdef __cplusplus
}
#endif
/* --- end of IPv6 rules (model_ipv6.c) --- */

/* --- a link that loses carrier, per family (model_ndisc.c) --- */
/*
 * A router whose link toward the peer lost carrier (the peer's cable
 * pulled): IPv4's ARP fails (tf_model_arp_failure()), IPv6's neighbour
 * discovery fails instead (net/ipv6/ndisc.c over net/core/neighbour.c).
 * Both tables evict on carrier loss from linkwatch (arp_evict_nocarrier,
 * ndisc_evict_nocarrier: a case SKIPs when either is off) and solicit the
 * same way (arp_solicit(), ndisc_solicit(): ucast, app, then mcast probes
 * retrans_time apart), so the first error comes in the same window for
 * the same parameters (net.ipv4.neigh.<if>.* or net.ipv6.neigh.<if>.*).
 * What differs is the error: ICMP host unreachable (3, 1), which
 * tcp_v4_err() takes as a reason to undo a backoff step, or ICMPv6
 * address unreachable (1, 3), which tcp_v6_err() does not; both stand for
 * EHOSTUNREACH.  -EINVAL for another family; otherwise as
 * tf_model_arp_failure().
 */
#ifdef __cplusplus
extern "C" {
#endif

/* nd_tbl's failure window: tf_model_arp_failure()'s rule, for the IPv6
 * table's parameters. */
int tf_model_ndisc_failure(const tf_neigh_params *p, const tf_schedule *s, tf_arp_failure *ret);

typedef struct tf_link_failure {
	int family;
	int64_t earliest_us, latest_us;  /* the first ICMP at the sender, from its original */
	int64_t evict_us;                /* linkwatch's delay: HZ jiffies */
	tf_band resolution;              /* one failed resolution */
	unsigned icmp_type, icmp_code;   /* what the router sends per held packet */
	int err;                         /* what the sender's socket keeps (sk_err_soft) */
	bool rto_revert;                 /* each such ICMP may undo a backoff step */
	const char *rule;
} tf_link_failure;
int tf_model_link_failure(int family, const tf_neigh_params *p, const tf_schedule *s,
                          tf_link_failure *ret);

/* The soft error (sk_err_soft: SO_ERROR, and the give-up's errno) a TCP
 * socket keeps when its own link went down and a transmission finds no
 * route: IPv6 ENETUNREACH (inet6_csk_xmit(), inet6_sk_rebuild_header());
 * IPv4 0 for new data (__ip_queue_xmit() stores nothing) and ENETUNREACH
 * for a retransmission (inet_sk_rebuild_header()).  -EINVAL otherwise. */
int tf_model_no_route_error(int family, bool retransmission, int *err);
/* That sender, its link staying down, with new data and nothing in flight:
 * the probe timer retries (tcp_probe_timer(), every try failing) and gives
 * up at the expiry where icsk_probes_out >= tcp_retries2: the band from
 * the write (retries2 + 1 timers of tcp_probe0_when(), from
 * tf_model_probe0_base(hz, rto_jiffies)) and the errno, sk_err_soft ?:
 * ETIMEDOUT — ENETUNREACH over IPv6, ETIMEDOUT over IPv4.  -EINVAL for a
 * bad family, hz, NULL, or retries2 > 255. */
int tf_model_no_route_giveup(int family, unsigned hz, unsigned rto_jiffies, unsigned retries2,
                             tf_band *ret, int *err);

#ifdef __cplusplus
}
#endif
/* --- end of model_ndisc.c --- */

/* --- the sender's own link loses carrier, data in flight (model_cable.c) --- */
/*
 * A cable pulled at the far end: the sender's link stays up without
 * carrier, its neighbour entry for the next hop is flushed
 * (neigh_carrier_down()) and every later transmission waits in the entry
 * for a resolution that fails (tf_model_neigh_resolution(), the sender's
 * own net.ipv{4,6}.neigh.<dev>.* knobs).  While the head's clone waits
 * there the retransmission timer backs off without sending
 * (skb_still_in_host_queue()); each failure frees it and the TSQ tasklet
 * resends it (tcp_tsq_write()), re-arming the timer for icsk_rto; IPv4's
 * ICMP host unreachable, sent to itself, sets EHOSTUNREACH and undoes a
 * backoff step (tcp_ld_RTO_revert(): a retransmission at once), IPv6's
 * ICMPv6 address unreachable sets EHOSTUNREACH without a revert — or, with
 * IPv6 disabled on lo (tcpfate's sandbox), is dropped on input
 * (ETIMEDOUT).  The rules are in model_cable.c's header.
 */
#ifdef __cplusplus
extern "C" {
#endif

typedef struct tf_local_link_failure {
	int family;
	int64_t lo_us, mid_us, hi_us;    /* the give-up, from the head's first transmission */
	int err;                          /* EHOSTUNREACH, or ETIMEDOUT (IPv6, !self_icmp) */
	bool err_varies;                  /* some runs give the other errno (a tiny budget) */
	unsigned tx_lo, tx_hi;            /* the head's transmissions handed to the device,
	                                   * the original included (after linkwatch none
	                                   * reaches a capture: noop qdisc) */
	unsigned busy_lo, busy_hi;        /* expiries that found it queued (counted in
	                                   * TcpExtTCPSpuriousRtxHostQueues, with any loss
	                                   * probe that found the tail queued) */
	unsigned res_lo, res_hi;          /* resolutions failed before the give-up */
	tf_band resolution;               /* one failed resolution */
	int64_t evict_us;                 /* linkwatch's delay, at most HZ */
	const char *rule;
} tf_local_link_failure;
/* m: the sender (hz, RTT, retries2, packets_out); p: its neighbour table's
 * knobs (p->hz = m's); self_icmp: IPv6 only (IPv4's always arrives), the
 * ICMPv6 the host sends itself reaches TCP — net.ipv6.conf.lo.disable_ipv6
 * is 0; fault_us: the carrier loss, µs after the head's first
 * transmission (negative when the head left after it).  The band is
 * the union over linkwatch's delay, which segment starts the first
 * resolution, and every timer at either end of its band.  -EINVAL (NULL,
 * family, hz mismatch), -EOPNOTSUPP with TCP_USER_TIMEOUT, -ERANGE and
 * -ENOENT as tf_model_neigh_resolution(). */
int tf_model_local_link_failure(const tf_model *m, const tf_neigh_params *p, int family,
                                bool self_icmp, int64_t fault_us, tf_local_link_failure *ret);

/* Data waiting behind a zero window (tcp_probe_timer()): with a peer whose
 * kernel answers each probe and no TCP_USER_TIMEOUT the kernel never gives
 * up (->never); with TCP_USER_TIMEOUT, either peer, it aborts with
 * ETIMEDOUT in tf_model_zwp_user_timeout_band()'s band from the first
 * probe, rearm_us being the last re-arm (probe or zero-window answer)
 * after it.  -EOPNOTSUPP for a silent peer without a user timeout (the
 * probes_out count starts from the backoff the answered probes left: not
 * modelled here), -EINVAL for NULL or an hz outside 100..1000. */
typedef struct tf_zero_window_fate {
	bool never;
	tf_band band;                     /* from the first probe */
	int err;                          /* ETIMEDOUT */
	const char *rule;
} tf_zero_window_fate;
int tf_model_zero_window_fate(unsigned hz, uint32_t user_timeout_ms, bool peer_answers,
                              int64_t rearm_us, tf_zero_window_fate *ret);
/* An ACK with nothing in flight and data queued (tcp_ack_probe()): true
 * when the window it carries (bytes) takes the whole segment at the head
 * of the send queue (head_len bytes) — the zero-window probes' clock and
 * backoff restart; false: data may flow, the clock runs on. */
bool tf_model_window_reopens(uint32_t window, uint32_t head_len);
/* A slow reader (the window shuts and reopens, the peer's kernel answers):
 * without TCP_USER_TIMEOUT the kernel never gives up (->never); with it,
 * the abort comes TCP_USER_TIMEOUT after the first zero-window probe
 * unless a reopening restarted that clock (tf_model_window_reopens()),
 * which the send queue's segment sizes decide: not modelled.  ->rule: why,
 * ->clock: for a knob's description, "" without a user timeout.  -EINVAL
 * for NULL. */
typedef struct tf_slow_reader_fate {
	bool never;
	const char *rule;
	const char *clock;
} tf_slow_reader_fate;
int tf_model_slow_reader_fate(uint32_t user_timeout_ms, tf_slow_reader_fate *ret);
/* A peer that stops answering behind a zero window, no TCP_USER_TIMEOUT:
 * tcp_probe_timer() gives up (ETIMEDOUT) at the tcp_retries2 + 1-th expiry
 * after its last answer, which left icsk_backoff at backoff0 (the probes
 * answered since the window closed, at most tcp_retries2); the band from
 * that answer; rto_jiffies gives tcp_probe0_base().  -EINVAL for NULL, an
 * hz outside 100..1000, retries2 or backoff0 > 255. */
int tf_model_zero_window_silent(unsigned hz, unsigned rto_jiffies, unsigned retries2,
                                unsigned backoff0, tf_band *ret);

#ifdef __cplusplus
}
#endif
/* --- end of model_cable.c --- */

/* ===================================================================== */
/* ==== model_retrans.c: tcp_write_timeout() replayed on measured      */
/* ==== stamps (issue 10: "never flaky under load")                    */
/* ===================================================================== */
/*
 * The kernel stops retransmitting (and detects a PMTU black hole) by
 * time, not by count: at each RTO expiry tcp_retransmit_timer() ->
 * tcp_write_timeout() -> retransmits_timed_out(sk, boundary, timeout)
 * (net/ipv4/tcp_timer.c) compares tcp_time_stamp_ts(tp) - retrans_stamp
 * (ms, each side floored: tcp_time_stamp_ms(), tcp_skb_timestamp_ts();
 * retrans_stamp is the first RTO retransmission's, and the first expiry
 * never stops: icsk_retransmits == 0) with tcp_model_timeout(sk,
 * boundary, TCP_RTO_MIN) or TCP_USER_TIMEOUT.  A timer that fires late
 * (a loaded or paused machine) can pass the budget one expiry earlier
 * than on an ideal clock: the count a schedule gives is the ideal
 * clock's, the count the kernel makes is its rule on the real moments.
 * These replay the rule on measured moments; the caller checks the gaps
 * against the model's bands apart.
 */
#ifdef __cplusplus
extern "C" {
#endif

/* retransmits_timed_out()'s timeout for `boundary`, in ms:
 * tcp_model_timeout(boundary, TCP_RTO_MIN) at m's HZ and rto_max, or
 * m's TCP_USER_TIMEOUT when `user_timeout` (tcp_write_timeout()'s
 * give-up passes icsk_user_timeout; its tcp_retries1 test, black-hole
 * detection, passes 0).  -EINVAL for NULL. */
int tf_model_write_budget_ms(const tf_model *m, unsigned boundary, bool user_timeout,
                             uint64_t *ms);

/* The rule on n expiries of the retransmission timer, expiry k + 1 (k
 * from 0) at a moment in [lo_us[k], hi_us[k]] (µs, any one origin; a
 * measured one has lo == hi; lo non-decreasing): expiry 1 is the first
 * RTO retransmission's (retrans_stamp).  At expiry k >= 2 the elapsed
 * time is in [lo_k - hi_1, hi_k - lo_1]; the kernel's is that within
 * tol = 1 jiffy (its ms floors; the tcp_usec_ts branch's added jiffy)
 * + slack_us (the caller's: capture, softirq).  It times out there
 * surely when elapsed_lo - tol >= budget, possibly when elapsed_hi + tol
 * >= budget.  -EINVAL for NULL, n == 0, hz outside 100..1000, lo > hi or
 * lo decreasing. */
typedef struct tf_timed_out {
	unsigned first;          /* first expiry (1-based) where it may time out; 0: none */
	unsigned sure;           /* first expiry where it times out whatever the rounding; 0: none */
	int64_t  first_lo_us, first_hi_us;   /* elapsed since retrans_stamp at `first` */
	int64_t  sure_lo_us, sure_hi_us;     /* ... at `sure` */
	int64_t  tol_us;         /* 1 jiffy + slack */
} tf_timed_out;
int tf_model_replay_timed_out(unsigned hz, uint64_t budget_ms, int64_t slack_us,
                              const int64_t *lo_us, const int64_t *hi_us, size_t n,
                              tf_timed_out *ret);

/* The give-up of schedule s (a time-based one: tf_model_retrans(),
 * tf_unreach_schedule(), tf_model_retrans_icmp(); TF_TX_GIVEUP last,
 * an RTO before it) replayed on the measured transmissions tx_us[0..n)
 * (µs, aligned with s's events as tf_check_schedule() counts them:
 * original, loss probe, RTOs).  The give-up expiry sends nothing: its
 * moment is bounded by the model's gap after the last transmission
 * (± slack) and above by end_hi_us, when the application saw the error
 * (< 0: unknown); expiries past it, had the kernel not stopped there,
 * follow the model's gaps.  Transmissions the kernel makes by its rule:
 * lo..hi (hi SIZE_MAX: no bound within the model's events); `ok` when n
 * is among them.  -EOPNOTSUPP for a schedule without an RTO before its
 * give-up (keepalive; SYN_SENT stops by count, tcp_write_timeout()),
 * -EINVAL for NULL, n == 0 or tx_us decreasing. */
typedef struct tf_count_replay {
	size_t model;            /* transmissions on the ideal clock: tf_schedule_giveup(s) */
	size_t lo, hi;           /* by the rule on the measured moments */
	size_t first_rto;        /* index of retrans_stamp's transmission */
	bool   ambiguous;        /* lo != hi: the budget within tol of an expiry */
	bool   ok;               /* lo <= n <= hi */
	tf_timed_out t;          /* expiries counted from the first RTO's */
} tf_count_replay;
int tf_model_replay_giveup(const tf_schedule *s, unsigned hz, uint64_t budget_ms,
                           int64_t slack_us, const int64_t *tx_us, size_t n, int64_t end_hi_us,
                           tf_count_replay *ret);

#ifdef __cplusplus
}
#endif
/* --- end of the replay (model_retrans.c) --- */
