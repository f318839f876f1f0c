/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate exec: breaking the network (tf_fault.h) or the server process,
 * and healing it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "exec_private.h"
#include "tf_util.h"

static int add_fault(struct tf_exec_run *R, int r, tf_fault *f)
{
	if (r < 0)
		return r;
	R->faults[R->n_faults++] = f;
	char *d = R->res->fault_desc;
	size_t dn = sizeof R->res->fault_desc;

	if (d[0])
		strncat(d, "; ", dn - strlen(d) - 1);
	strncat(d, tf_fault_describe(f), dn - strlen(d) - 1);
	return 0;
}

static int netem_both(struct tf_exec_run *R, const tf_netem *ne)
{
	tf_fault *f = NULL;
	tf_host *a, *b;
	const char *ia, *ib;
	int r;

	if (tf_topo_router(R->t)) {
		a = b = tf_topo_router(R->t);
		ia = TF_IF_ROUTER_CLIENT;
		ib = TF_IF_ROUTER_SERVER;
	} else {
		a = tf_topo_client(R->t);
		b = tf_topo_server(R->t);
		ia = TF_IF_CLIENT;
		ib = TF_IF_SERVER;
	}
	r = tf_fault_netem(a, ia, ne, &f);
	if ((r = add_fault(R, r, f)) < 0)
		return r;
	r = tf_fault_netem(b, ib, ne, &f);
	return add_fault(R, r, f);
}

static int netem_params(const struct tf_exec_opts *o, double loss, tf_netem **ret)
{
	tf_netem *ne = NULL;
	int r = tf_netem_new(&ne);

	if (r < 0)
		return r;
	if (o->fault->kind == FK_DELAY)
		r = tf_netem_set_delay(ne, o->delay_ms * 1000u);
	else
		r = tf_netem_set_loss(ne, loss);
	if (r < 0) {
		tf_netem_free(ne);
		return r;
	}
	*ret = ne;
	return 0;
}

/* Host routes (/32, /128) of the run's family, toward each end: the names
 * resolve to that family only, so that is all the programs send. */
static int blackhole_both(struct tf_exec_run *R)
{
	tf_host *router = tf_topo_router(R->t);
	tf_fault *f = NULL;
	int r;

	r = tf_fault_blackhole(router, tf_topo_cidr(R->t, TF_NODE_SERVER, R->o->family), &f);
	if ((r = add_fault(R, r, f)) < 0)
		return r;
	r = tf_fault_blackhole(router, tf_topo_cidr(R->t, TF_NODE_CLIENT, R->o->family), &f);
	return add_fault(R, r, f);
}

/*
 * A PMTU black hole in the path: the router forwards at most o->mtu bytes
 * toward either end (host routes of the run's family with a locked MTU,
 * which forwarding honours: ip_dst_mtu_maybe_forward(),
 * ip6_dst_mtu_maybe_forward()), and its "too big" errors are suppressed.
 * The links keep their 1500: with a smaller link MTU the router's veth
 * refuses a big frame inside the sender's own transmit (the sender counts
 * a tx drop and TcpExtTCPRetransFail), TCP takes it for local congestion
 * and retries every TCP_RESOURCE_PROBE_INTERVAL without backoff
 * (tcp_retransmit_timer()): a local failure, not a silent path.
 * add: install them; !add: remove them (heal).
 */
static int mtu_routes(struct tf_exec_run *R, bool add)
{
	tf_host *router = tf_topo_router(R->t);
	struct { tf_topo_node n; const char *ifn; } to[] = {
		{ TF_NODE_SERVER, TF_IF_ROUTER_SERVER }, { TF_NODE_CLIENT, TF_IF_ROUTER_CLIENT },
	};
	int r = 0, e;

	for (size_t i = 0; i < 2; i++) {
		const char *dst = tf_topo_cidr(R->t, to[i].n, R->o->family);
		char d[160];

		if (add) {
			r = tf_route_set_mtu(router, dst, NULL, to[i].ifn, R->o->mtu);
			if (r < 0)
				return r;
			R->mtu_routes = true;
			snprintf(d, sizeof d, "%sroute %s dev %s mtu lock %u in router",
			         R->res->fault_desc[0] ? "; " : "", dst, to[i].ifn, R->o->mtu);
			strncat(R->res->fault_desc, d,
			        sizeof R->res->fault_desc - strlen(R->res->fault_desc) - 1);
		} else if ((e = tf_route_del(router, dst, NULL, to[i].ifn)) < 0 && e != -ESRCH &&
		           e != -ENOENT && r == 0) {
			r = e;
		}
	}
	if (!add)
		R->mtu_routes = false;
	return r;
}

int tf_exec_inject(struct tf_exec_run *R)
{
	const struct tf_exec_opts *o = R->o;
	tf_host *router = tf_topo_router(R->t);
	tf_fault *f = NULL;
	tf_netem *ne = NULL;
	int r = 0;

	switch (o->fault->kind) {
	case FK_NONE:
		snprintf(R->res->fault_desc, sizeof R->res->fault_desc, "none");
		break;
	case FK_BLACKHOLE:
		r = blackhole_both(R);
		break;
	case FK_CABLE:
		/* The client's cable, pulled at the far end: the client's own
		 * link stays up but loses carrier, as with a switch port. */
		if (router)
			r = tf_fault_link_down(router, TF_IF_ROUTER_CLIENT, &f);
		else
			r = tf_fault_link_down(tf_topo_server(R->t), TF_IF_SERVER, &f);
		r = add_fault(R, r, f);
		break;
	case FK_MTU:
		/* ICMP first, so no "fragmentation needed" escapes. */
		r = tf_fault_icmp_block(router, &f);
		if ((r = add_fault(R, r, f)) < 0)
			break;
		r = mtu_routes(R, true);
		break;
	case FK_LOSS:
	case FK_DELAY:
		r = netem_params(o, o->loss_pct, &ne);
		if (r >= 0)
			r = netem_both(R, ne);
		tf_netem_free(ne);
		break;
	case FK_KILL:
		r = tf_proc_signal(R->server, SIGKILL);
		snprintf(R->res->fault_desc, sizeof R->res->fault_desc,
		         "SIGKILL to the server's processes");
		break;
	case FK_VANISH:
		/* Silence first: whatever the dying server's kernel sends
		 * (FIN, RST) is dropped by the router. */
		r = blackhole_both(R);
		if (r >= 0 && R->server && !R->res->server_done) {
			r = tf_proc_signal(R->server, SIGKILL);
			strncat(R->res->fault_desc, "; SIGKILL to the server's processes",
			        sizeof R->res->fault_desc - strlen(R->res->fault_desc) - 1);
		}
		break;
	case FK_STOP:
		r = tf_proc_signal(R->server, SIGSTOP);
		snprintf(R->res->fault_desc, sizeof R->res->fault_desc,
		         "SIGSTOP to the server's processes");
		break;
	case FK_SLOW:
		/* The cycle starts stopped: the reader pauses, its window
		 * closes as the client fills it, then it runs RUN ms before the
		 * end of each period (tf_exec_slow_tick()). */
		r = tf_proc_signal(R->server, SIGSTOP);
		if (r >= 0) {
			R->res->slow_stops = 1;
			R->slow_stopped = true;
			R->slow_cycle = 1;
		}
		break;
	}
	R->res->fault_ns = tf_now_ns();
	R->fault_mono = tf_mono_ns();
	if (o->fault->kind == FK_SLOW && r >= 0) {
		R->slow_on = true;
		R->slow_last_win = -1;
		R->slow_next_mono = R->fault_mono +
		                    (int64_t)(o->slow_period_ms - o->slow_run_ms) * MS;
		tf_exec_slow_describe(R);
	}
	R->res->fault_done = true;
	if (r < 0) {
		R->res->fault_failed = true;
		snprintf(R->res->message, sizeof R->res->message, "could not inject the fault '%s': %s",
		         o->fault_text, strerror(-r));
	}
	return r;
}

int tf_exec_heal(struct tf_exec_run *R)
{
	int r = 0, e;

	if (R->mtu_routes && (e = mtu_routes(R, false)) < 0)
		r = e;
	for (size_t i = R->n_faults; i-- > 0;)
		if ((e = tf_fault_heal(R->faults[i])) < 0 && r == 0)
			r = e;
	if (R->o->fault->kind == FK_STOP && (e = tf_proc_signal(R->server, SIGCONT)) < 0 && r == 0)
		r = e;
	if (R->o->fault->kind == FK_SLOW && R->slow_on) {
		R->slow_on = false;
		if (R->slow_stopped && (e = tf_proc_signal(R->server, SIGCONT)) < 0 && r == 0)
			r = e;
		else if (R->slow_stopped)
			R->res->slow_conts++;
		R->slow_stopped = false;
	}
	R->res->heal_ns = tf_now_ns();
	R->res->healed = true;
	if (r < 0) {
		R->res->heal_failed = true;
		snprintf(R->res->message, sizeof R->res->message, "could not heal the fault: %s",
		         strerror(-r));
	}
	return r;
}

/*
 * slow-reader: cycle k (k >= 1) continues the server at fault + k PERIOD -
 * RUN and stops it at fault + k PERIOD, on the fault's monotonic time: a
 * late wake-up shortens that one run, it never shifts the schedule.  A
 * server that is gone ends the cycle (its signals have nowhere to go).
 */
void tf_exec_slow_tick(struct tf_exec_run *R)
{
	const struct tf_exec_opts *o = R->o;
	int64_t period = (int64_t)o->slow_period_ms * MS, run = (int64_t)o->slow_run_ms * MS;
	int r;

	if (!R->slow_on)
		return;
	if (R->res->server_done) {
		R->slow_on = false;
		return;
	}
	r = tf_proc_signal(R->server, R->slow_stopped ? SIGCONT : SIGSTOP);
	if (r < 0) {
		/* ESRCH: it exited between the pidfd's report and now */
		R->slow_on = false;
		if (r != -ESRCH)
			snprintf(R->res->message, sizeof R->res->message,
			         "slow-reader: could not signal the server: %s", strerror(-r));
		return;
	}
	if (R->slow_stopped) {
		R->res->slow_conts++;
		R->slow_stopped = false;
		R->slow_read = false;
		R->slow_cont_ns = tf_now_ns();
		R->slow_next_mono = R->fault_mono + (int64_t)R->slow_cycle * period;
	} else {
		if (R->slow_read)
			R->res->slow_reads++;
		R->slow_read = false;
		R->res->slow_stops++;
		R->slow_stopped = true;
		R->slow_cycle++;
		R->slow_next_mono = R->fault_mono + (int64_t)R->slow_cycle * period - run;
	}
}

void tf_exec_slow_describe(struct tf_exec_run *R)
{
	const struct tf_exec_opts *o = R->o;
	const struct tf_exec_result *res = R->res;

	snprintf(R->res->fault_desc, sizeof R->res->fault_desc,
	         "SIGSTOP and SIGCONT to the server's processes: it runs once every %u ms, until "
	         "its window reopens on the wire or for %u ms at most, stopped the rest; "
	         "%u stops (%u at a window update), %u continues", o->slow_period_ms,
	         o->slow_run_ms, res->slow_stops, res->slow_reads, res->slow_conts);
}

/* Is sch_netem here?  Try it on the link the fault will use, then undo. */
int tf_exec_probe_netem(struct tf_exec_run *R)
{
	tf_netem *ne = NULL;
	tf_fault *f = NULL;
	tf_host *h = tf_topo_router(R->t) ? tf_topo_router(R->t) : tf_topo_client(R->t);
	const char *ifn = tf_topo_router(R->t) ? TF_IF_ROUTER_SERVER : TF_IF_CLIENT;
	int r = netem_params(R->o, 0.0, &ne);

	if (r == -EINVAL && R->o->fault->kind == FK_LOSS) {
		/* loss 0 may be refused as "no fault": probe with the real one */
		r = netem_params(R->o, R->o->loss_pct, &ne);
	}
	if (r < 0)
		return r;
	r = tf_fault_netem(h, ifn, ne, &f);
	tf_netem_free(ne);
	if (r >= 0) {
		tf_fault_heal(f);
		tf_fault_free(f);
	}
	return r;
}
