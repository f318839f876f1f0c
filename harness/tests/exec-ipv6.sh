#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tcpfate exec --ipv6` (issue 14): the names resolve to the topology's IPv6
# addresses, the faults act on IPv6 (blackhole /128, ICMPv6 suppressed by
# mtu-blackhole), the capture and the sock_diag watch find the client's
# IPv6 socket, the YAML states `family: ipv6`; curl -6 and python's
# socket.create_connection("server") work over it.  TAP out.
# Usage: exec-ipv6.sh TCPFATE EXAMPLES_DIR
set -u
. "$(dirname "$0")/exec-tap.sh"
tcpfate=$1
examples=$2
n=0 failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# A backend that accepts on both families (::, dual stack), reads, never answers.
cat >"$tmp/sink.py" <<'PY'
import socket, sys, threading
srv = socket.create_server(("::", int(sys.argv[1])), family=socket.AF_INET6, dualstack_ipv6=True)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
print("sink listening", flush=True)
def drain(c):
    with c:
        try:
            while c.recv(1 << 16):
                pass
        except OSError:
            pass
while True:
    c, peer = srv.accept()
    print("connection from", peer[0], flush=True)
    threading.Thread(target=drain, args=(c,), daemon=True).start()
PY
srv=(--server "python3 $tmp/sink.py 8080" --wait-server 8080)

have() { command -v "$1" >/dev/null 2>&1; }
sandbox=yes
if "$tcpfate" exec --fault none --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	sandbox=no
fi

# run WANT_STATUS DESCRIPTION NEEDS 'REGEX...' -- EXEC ARGS...: every
# extended regex must match a line of the output.
run() {
	local want=$1 desc=$2 needs=$3 out st re miss=""
	shift 3
	local res=()
	while [ "$1" != "--" ]; do res+=("$1"); shift; done
	shift
	n=$((n + 1))
	part_skip "$n" && return
	local num
	num=$(part_num "$n")
	for p in $needs; do
		if ! have "$p"; then echo "ok $num - $desc # SKIP $p not found"; return; fi
	done
	if [ "$sandbox" = no ]; then echo "ok $num - $desc # SKIP no sandbox here"; return; fi
	out=$("$tcpfate" exec "$@" 2>&1); st=$?
	for re in "${res[@]}"; do
		printf '%s\n' "$out" | grep -Eq -- "$re" || miss="$miss $re"
	done
	tap_result "$num" "$desc" "$st" "$want" "$miss" "$out"
}

echo "TAP version 13"
part_plan 7
run 0 "the names and TCPFATE_* are the IPv6 addresses" "getent" \
	'^  family: ipv6$' '^    2001:2:0:2::2 +server$' '^    2001:2:0:1::1 +router$' \
	'^    2001:2:0:1::2 +client$' '^    2001:2:0:2::2 2001:2:0:1::2 ipv6$' -- \
	--ipv6 --fault none --at 0 --expect-status 0 \
	--client 'getent hosts server router client; echo $TCPFATE_SERVER $TCPFATE_CLIENT $TCPFATE_FAMILY'
run 0 "curl -6 uploading into a blackhole of the server's /128: the kernel's give-up, as modelled" "curl python3" \
	'^  family: ipv6$' 'blackhole 2001:2:0:2::2/128 in router' \
	'flow: "\[2001:2:0:1::2\]:[0-9]+ > \[2001:2:0:2::2\]:8080"' '^    schedule: "retrans"$' \
	'^  client_status: "exited 56"$' -- \
	-6 "${srv[@]}" --client-sysctl net.ipv4.tcp_retries2=4 \
	--fault blackhole --on sent:200000 --expect-model \
	--client 'curl -6 -sS -T /dev/zero --limit-rate 100k http://server:8080/'
run 0 "python socket.create_connection('server') idle with keepalive: given up as modelled" "python3" \
	'^  family: ipv6$' '^    schedule: "keepalive"$' 'flow: "\[2001:2:0:1::2\]' \
	'^    origin: "the last segment the client received"$' -- \
	-6 "${srv[@]}" --client-sysctl net.ipv4.tcp_keepalive_time=2 \
	--client-sysctl net.ipv4.tcp_keepalive_intvl=1 --client-sysctl net.ipv4.tcp_keepalive_probes=3 \
	--fault blackhole --on 'line:request sent' --expect-model \
	--client "python3 $examples/idle_client.py server 8080 --keepalive"
# (no socket check here: the client exits within ms of the kill, and a
# loaded machine may sample it only once it is gone; rows 2, 3 and 6 check
# the IPv6 watch)
run 0 "python over IPv6, server killed: its kernel's RST is noticed at once" "python3" \
	'^  family: ipv6$' 'client exits non-zero within 2.000 s' -- \
	-6 "${srv[@]}" --fault server-kill --on 'line:request sent' --expect-exit-within 2 \
	--client "python3 $examples/idle_client.py server 8080"
# The PMTU black hole over IPv6: the router forwards at most 1280 bytes,
# every ICMPv6 error of the router suppressed.  A Packet Too Big that got
# through would let the upload go on in smaller segments
# (tcp_v6_mtu_reduced()); blocked, the full-size segments vanish in the
# path: a silent peer's schedule, until the kernel gives up as modelled.
# No local transmit failure (TcpExtTCPRetransFail 0): when the fault was
# the router's link MTU, its veth refused the frames inside the client's
# own transmit, and TCP retried every 500 ms without backoff.
retransfail='st=$?; awk '"'"'/^TcpExt:/ { if (!h) { split($0, k); h = 1 } else { split($0, v); for (i in k) if (k[i] == "TCPRetransFail") print "retransfail=" v[i] } }'"'"' /proc/net/netstat; exit $st'
run 0 "curl -6 into an IPv6 PMTU black hole (1280, ICMPv6 suppressed): a silent path, the kernel's give-up as modelled" "curl python3 awk" \
	'^  family: ipv6$' 'icmp and icmpv6 suppressed from router' \
	'route 2001:2:0:2::2/128 dev eth1 mtu lock 1280 in router' \
	'^    schedule: "retrans"$' '^    retransfail=0$' -- \
	-6 "${srv[@]}" --client-sysctl net.ipv4.tcp_retries2=4 \
	--fault mtu-blackhole --on sent:200000 --expect-model \
	--client "curl -6 -sS -T /dev/zero --limit-rate 100k http://server:8080/; $retransfail"
run 0 "cable pulled under an IPv6 upload: the client's IPv6 socket is watched" "curl python3" \
	'^  family: ipv6$' 'link eth0 down|eth0.*down' 'flow: "\[2001:2:0:1::2\]' -- \
	-6 "${srv[@]}" --client-sysctl net.ipv4.tcp_retries2=3 \
	--fault cable-pull --on sent:100000 --model --expect-exit-within 30 \
	--client 'curl -6 -sS -T /dev/zero --limit-rate 100k http://server:8080/'
sandbox=yes run 2 "--ipv6 with an MTU below IPv6's minimum: bad usage" "" \
	'IPv6 needs paths of at least 1280' -- \
	--ipv6 --fault mtu-blackhole:1000 --client true
exit $((failed > 0))
