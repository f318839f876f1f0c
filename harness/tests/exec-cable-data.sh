#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tcpfate exec --fault cable-pull` with data in flight (issue 16): the
# client's own neighbour entry for the router fails, and the give-up is
# tf_model_local_link_failure()'s band, not "not modelled": over IPv4
# EHOSTUNREACH (its ICMP to itself, tcp_ld_RTO_revert()), over IPv6
# ETIMEDOUT (the ICMPv6 to itself is dropped: the sandbox disables IPv6 on
# lo, net.ipv6.conf.lo.disable_ipv6 = 1; with it 0, EHOSTUNREACH without a
# revert).  The report names the
# client's neighbour knobs.  TAP out.
# Usage: exec-cable-data.sh TCPFATE EXAMPLES_DIR
set -u
. "$(dirname "$0")/exec-tap.sh"
tcpfate=$1
n=0 failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# A backend that accepts on both families and drains.
cat >"$tmp/sink.py" <<'PY'
import socket, sys, threading
srv = socket.create_server(("::", int(sys.argv[1])), family=socket.AF_INET6, dualstack_ipv6=True)
def drain(c):
    with c:
        try:
            while c.recv(1 << 16):
                pass
        except OSError:
            pass
while True:
    c, peer = srv.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
PY
# A writer that always has data in flight; the errno it ends with.
cat >"$tmp/writer.py" <<'PY'
import os, socket, sys, time
fam = socket.AF_INET6 if os.environ.get("TCPFATE_FAMILY") == "ipv6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.connect((os.environ["TCPFATE_SERVER"], 8080))
try:
    while True:
        s.sendall(b"x" * 8000)
        time.sleep(0.02)
except OSError as e:
    print("errno", e.errno, flush=True)
    sys.exit(3)
PY
srv=(--server "python3 $tmp/sink.py 8080" --wait-server 8080)

have() { command -v "$1" >/dev/null 2>&1; }
sandbox=yes
if "$tcpfate" exec --fault none --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	sandbox=no
fi

# run WANT_STATUS DESCRIPTION 'REGEX...' -- EXEC ARGS...
run() {
	local want=$1 desc=$2 out st re miss=""
	shift 2
	local res=()
	while [ "$1" != "--" ]; do res+=("$1"); shift; done
	shift
	n=$((n + 1))
	part_skip "$n" && return
	local num
	num=$(part_num "$n")
	if ! have python3; then echo "ok $num - $desc # SKIP python3 not found"; return; fi
	if [ "$sandbox" = no ]; then echo "ok $num - $desc # SKIP no sandbox here"; return; fi
	out=$("$tcpfate" exec "$@" 2>&1); st=$?
	for re in "${res[@]}"; do
		printf '%s\n' "$out" | grep -Eq -- "$re" || miss="$miss $re"
	done
	# the lower edge of the model's band (an early give-up is a model
	# error); the upper edge is reported: see the note at the rows
	local band=""
	band=$(printf '%s\n' "$out" | awk '
	/^    slack_us:/ { slack = $2 / 1e6 }
	/^    giveup_after_origin_s:/ { g = 1; next }
	g && /^      lo:/ { lo = $2 } g && /^      hi:/ { hi = $2 } g && /^      measured:/ { m = $2; have = 1 }
	g && !/^      / { g = 0 }
	END { if (!have) { print "no measured give-up"; exit 1 }
	      early = m < lo - slack
	      printf "measured %.3f s, band %.3f..%.3f s%s\n", m, lo, hi, (early ? " (EARLY)" : "")
	      exit early }') || miss="$miss (give-up: $band)"
	tap_result "$num" "$desc" "$st" "$want" "$miss" "$out" && echo "# $band"
}

# The give-up is checked against the model's lower edge, and its upper edge
# reported (--model, not --expect-model): under CPU load 2 of about 10 IPv4
# runs gave up 0.45-0.57 s past it (the kernel's own moment: the socket was
# gone by then), a delay the rule does not account for yet.
common=(--client-sysctl net.ipv4.tcp_retries2=4 --fault cable-pull --on sent:100000
	--model --expect-exit-within 20 --client "python3 $tmp/writer.py")
echo "TAP version 13"
part_plan 3
run 0 "IPv4 writer, cable pulled: its own ARP fails, EHOSTUNREACH, not before the model's band" \
	'^    schedule: "retrans"$' 'tf_model_local_link_failure\(\), IPv4' \
	'^    expected_errno: "EHOSTUNREACH"$' '^    client_neighbour:' '^      mcast_solicit: 3$' \
	'^    errno 113$' -- "${srv[@]}" "${common[@]}"
run 0 "IPv6 writer, cable pulled: its own neighbour discovery fails, ETIMEDOUT, not before the model's band" \
	'^  family: ipv6$' '^    schedule: "retrans"$' 'tf_model_local_link_failure\(\), IPv6' \
	'^    expected_errno: "ETIMEDOUT"$' '^    client_neighbour:  # net.ipv6' '^      lo_disable_ipv6: 1 ' \
	'^    errno 110$' -- -6 "${srv[@]}" "${common[@]}"
run 0 "the same with IPv6 on the client's lo: its ICMPv6 to itself arrives, EHOSTUNREACH without a revert" \
	'^  family: ipv6$' 'tf_model_local_link_failure\(\), IPv6' '^    expected_errno: "EHOSTUNREACH"$' \
	'^      lo_disable_ipv6: 0 ' '^    errno 113$' -- \
	-6 "${srv[@]}" --client-sysctl net.ipv6.conf.lo.disable_ipv6=0 "${common[@]}"
exit $((failed > 0))
