/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model_ports.c — ephemeral ports and TIME-WAIT: __inet_hash_connect()'s
 * scan, TCP_TIMEWAIT_LEN, and tcp_twsk_unique()'s reuse (see tf_model.h,
 * "ephemeral ports and TIME-WAIT").  Read in Linux 6.12 and checked
 * against the 6.14+ changes (tcp_tw_reuse_delay, millisecond tw stamps)
 * and the 6.15+ __inet_hash_connect(); what differs between kernels is
 * probed by the caller (a sysctl present or not), never a version.
 */
#include "model_private.h"
#include "tf_model.h"

#include <errno.h>
#include <arpa/inet.h>
#include <sys/socket.h>

/*
 * __inet_hash_connect(), net/ipv4/inet_hashtables.c, with the range from
 * net.ipv4.ip_local_port_range (no IP_LOCAL_PORT_RANGE on the socket):
 * high++; remaining = high - low; if (remaining > 1) remaining &= ~1U;
 * step 2: a first pass over the ports of low's parity ("In first pass we
 * try ports of @low parity"), then the other parity, then -EADDRNOTAVAIL.
 * With an even count every port is scanned, low's parity first; with an
 * odd count each scan covers only `remaining` of them (which one is
 * skipped depends on the random offset), so an exact count is only
 * defined for an even-sized range.
 */
int tf_model_connect_ports(unsigned low, unsigned high, tf_connect_ports *ret)
{
	unsigned remaining;

	if (!ret || low > high || high > 65535)
		return -EINVAL;
	remaining = high + 1 - low;
	ret->count = remaining;
	if (remaining > 1)
		remaining &= ~1U;
	ret->usable = remaining;
	ret->first_pass = remaining > 1 ? remaining / 2 : remaining;
	ret->exact = ret->usable == ret->count;
	return 0;
}

/* #define TCP_TIMEWAIT_LEN (60*HZ), include/net/tcp.h. */
unsigned tf_model_timewait_jiffies(unsigned hz)
{
	return 60 * hz;
}

/* tcp_time_wait() -> inet_twsk_hashdance_schedule() -> __inet_twsk_schedule():
 * mod_timer(&tw->tw_timer, jiffies + TCP_TIMEWAIT_LEN), in the softirq
 * that took the FIN: a timer_list in a coarse wheel level (level 3 at
 * HZ=250, 512 jiffies). */
int tf_model_timewait_band(unsigned hz, tf_band *ret)
{
	return tf_model_band(hz, tf_model_timewait_jiffies(hz), false, ret);
}

int tf_model_port_rate(unsigned ports, unsigned hz, double *lo_per_s, double *hi_per_s)
{
	tf_band b;
	int r;

	if (!lo_per_s || !hi_per_s)
		return -EINVAL;
	r = tf_model_timewait_band(hz, &b);
	if (r < 0)
		return r;
	*hi_per_s = ports / (b.lo_us / 1e6);
	*lo_per_s = ports / (b.hi_us / 1e6);
	return 0;
}

/*
 * tcp_twsk_unique(), net/ipv4/tcp_ipv4.c.  6.14+ (tcp_tw_reuse_delay):
 * reusable when time_after32(tcp_clock_ms(), tw_entry_stamp +
 * tcp_tw_reuse_delay), both CLOCK_MONOTONIC ms, tw_entry_stamp set when
 * the socket entered TIME-WAIT (tcp_time_wait(), net/ipv4/tcp_minisocks.c).
 * Before: time_after32(ktime_get_seconds(), tw_ts_recent_stamp).
 */
int64_t tf_model_tw_reuse_at_ns(int64_t entry_mono_ns, long delay_ms)
{
	if (delay_ms >= 0)
		return (entry_mono_ns / 1000000 + delay_ms + 1) * 1000000;
	return (entry_mono_ns / 1000000000 + 1) * 1000000000;
}

/*
 * ktime_get_seconds() is tk->ktime_sec (kernel/time/timekeeping.c): the
 * CLOCK_MONOTONIC second as of the last timekeeping update,
 * tk_update_ktime_data() from the tick's timekeeping_advance(), which
 * accumulates whole ticks (the remainder, under a jiffy, waits for the
 * next).  So it trails the clock by less than 2 jiffies plus however late
 * a tick runs.  Both reads of tcp_twsk_unique()'s rule before 6.14 trail
 * so: the stamp taken with the last FIN (tcp_timewait_state_process(),
 * tcp_store_ts_recent()) and the second compared at connect().
 */
int64_t tf_model_ktime_sec_lag_ns(unsigned hz, int64_t tick_late_ns)
{
	if (hz < 100 || hz > 1000 || tick_late_ns < 0)
		return -EINVAL;
	return 2 * (int64_t)(NSEC_PER_SEC / hz) + tick_late_ns;
}

int64_t tf_model_tw_reuse_earliest_ns(int64_t entry_lo_mono_ns, long delay_ms, int64_t lag_ns)
{
	/* a stamp read up to lag_ns late names that earlier second */
	bool trails = delay_ms < 0 && lag_ns > 0;

	return tf_model_tw_reuse_at_ns(entry_lo_mono_ns - (trails ? lag_ns : 0), delay_ms);
}

/*
 * tcp_timewait_state_process(), TIME-WAIT proper: a segment at exactly
 * tw_rcv_nxt carrying RST kills the socket (inet_twsk_deschedule_put())
 * unless net.ipv4.tcp_rfc1337 is set: TIME-WAIT assassination, RFC 1337.
 * The port is free at once and connect() takes it fresh, with a new ISN.
 * A closed peer's reset (tcp_v4_send_reset()) has no timestamp option, so
 * PAWS cannot reject it.
 */
bool tf_model_tw_rst_kills(int rfc1337, uint32_t rst_seq, uint32_t tw_rcv_nxt)
{
	return rfc1337 == 0 && rst_seq == tw_rcv_nxt;
}

uint32_t tf_model_tw_reuse_isn(uint32_t tw_snd_nxt)
{
	uint32_t seq = tw_snd_nxt + 65535 + 2;

	return seq ? seq : 1;
}

/* ipv4_is_loopback(): 127.0.0.0/8. */
static bool v4_loopback(const struct in_addr *a)
{
	return (ntohl(a->s_addr) >> 24) == 127;
}

/* ipv6_addr_loopback() (::1) or ipv6_addr_v4mapped_loopback()
 * (::ffff:127.0.0.0/104). */
static bool v6_loopback(const struct in6_addr *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	bool zero = true;

	for (int i = 0; i < 15; i++)
		zero &= a->s6_addr[i] == 0;
	if (zero && a->s6_addr[15] == 1)
		return true;
	for (int i = 0; i < 12; i++)
		if (a->s6_addr[i] != mapped[i])
			return false;
	return a->s6_addr[12] == 127;
}

/* One address of the socket's family: 1 loopback, 0 not, -EINVAL. */
static int addr_loopback(int family, const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!s)
		return -EINVAL;
	if (family == AF_INET)
		return inet_pton(AF_INET, s, &a4) == 1 ? v4_loopback(&a4) : -EINVAL;
	if (family == AF_INET6)
		return inet_pton(AF_INET6, s, &a6) == 1 ? v6_loopback(&a6) : -EINVAL;
	return -EINVAL;
}

/*
 * tcp_twsk_unique(), net/ipv4/tcp_ipv4.c: "if (reuse == 2) { ... if
 * (tw->tw_bound_dev_if == LOOPBACK_IFINDEX) loopback = true; if
 * (tw->tw_family == AF_INET6) { ipv6_addr_loopback() or
 * ipv6_addr_v4mapped_loopback() of tw_v6_daddr or tw_v6_rcv_saddr } else
 * { ipv4_is_loopback() of tw_daddr or tw_rcv_saddr } if (!loopback) reuse
 * = 0; }".  Both families run this one function: tcp_v4_connect() via
 * inet_hash_connect() -> __inet_check_established(), tcp_v6_connect() via
 * inet6_hash_connect() -> __inet6_check_established(), each calling
 * twsk_unique().
 */
int tf_model_tw_reuse_enabled(int tw_reuse, int sk_family, const char *local, const char *remote,
                              bool bound_to_lo)
{
	int l = addr_loopback(sk_family, local), r = addr_loopback(sk_family, remote);

	if (l < 0 || r < 0 || tw_reuse < 0 || tw_reuse > 2)
		return -EINVAL;
	if (tw_reuse == 2)
		return bound_to_lo || l || r;
	return tw_reuse == 1;
}
