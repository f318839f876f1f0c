#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What `tcpfate exec` reports for the card and for IPv4 runs next to the
# dual-stack topology: the fault's wall-clock time (fault_at_wall, RFC 3339
# UTC with ms, on the packets' clock) consistent with fault_at_s and the
# run; a server listening on :: (python3 -m http.server's default, dual
# stack) is seen listening by an IPv4 run; mtu-blackhole below 1280 over
# IPv4 (the links carry IPv6 too).  TAP out.
# Usage: exec-report.sh TCPFATE
set -u
tcpfate=$1
n=0 failed=0
have() { command -v "$1" >/dev/null 2>&1; }
sandbox=yes
if "$tcpfate" exec --fault none --at 0 --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	sandbox=no
fi
. "$(dirname "$0")/exec-tap.sh"   # result, skip

echo "TAP version 13"
echo "1..4"
if [ "$sandbox" = no ]; then
	skip "fault_at_wall" "no sandbox here"
	skip "dual-stack listener" "no sandbox here"
	skip "mtu-blackhole:1000 over IPv4" "no sandbox here"
	skip "mtu-blackhole over IPv4 is a silent path" "no sandbox here"
	exit 0
fi

# 1. fault_at_wall: the format, inside the run, and fault_at_s apart from
#    client_started_wall (both are ms-rounded: 2 ms).
before=$(date -u +%s.%N)
out=$("$tcpfate" exec --fault none --at 0.3 --expect-status 0 --client 'sleep 0.6' 2>&1)
after=$(date -u +%s.%N)
ok=$(printf '%s\n' "$out" | python3 -c '
import datetime, re, sys
t = sys.stdin.read()
before, after = float(sys.argv[1]), float(sys.argv[2])
fmt = r"\"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z\""
w = re.search(r"^  fault_at_wall: " + fmt + "$", t, re.M)
c = re.search(r"^  client_started_wall: " + fmt + "$", t, re.M)
s = re.search(r"^  fault_at_s: ([0-9.]+)", t, re.M)
if not (w and c and s):
    print("no"); sys.exit()
def ts(m):
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()
fw, cw = ts(w), ts(c)
good = before - 0.001 <= cw <= fw <= after and abs((fw - cw) - float(s.group(1))) <= 0.002
print("yes" if good else "no")
' "$before" "$after" 2>&1)
result "fault_at_wall: RFC 3339 UTC with ms, inside the run, fault_at_s after client_started_wall" "$ok" "$out"

# 2. A dual-stack listener (bound to ::) in an IPv4 run.
if have python3 && have curl; then
	out=$("$tcpfate" exec --server 'python3 -m http.server --bind :: 8080' --wait-server 8080 \
		--fault none --at 0 --expect-status 0 --timeout 20 \
		--client 'curl -sS -o /dev/null -w "%{http_code}\n" http://server:8080/' 2>&1); st=$?
	ok=no
	[ $st -eq 0 ] && printf '%s\n' "$out" | grep -q '^    200$' && ok=yes
	result "a server listening on :: (dual stack) is seen listening by an IPv4 run" "$ok" "$out"
else
	skip "a server listening on :: (dual stack)" "python3 or curl not found"
fi

# 3. mtu-blackhole below IPv6's minimum over IPv4 (the links carry IPv6
#    too: the fault must not need a link MTU below 1280).
out=$("$tcpfate" exec --fault mtu-blackhole:1000 --at 0.2 --expect-status 0 --client 'sleep 0.5' 2>&1); st=$?
ok=no
[ $st -eq 0 ] && printf '%s\n' "$out" | grep -q 'route 198.18.2.2/32 dev eth1 mtu lock 1000 in router' && ok=yes
result "mtu-blackhole:1000 over IPv4 is applied" "$ok" "$out"

# 4. The PMTU black hole is a silent path, not a local transmit failure:
#    the client's TCP sees no failed retransmission (TcpExtTCPRetransFail,
#    /proc/net/netstat of its namespace) and gives up as modelled.
if have python3 && have curl && have awk; then
	cat >"${TMPDIR:-/tmp}/exec-report-sink.$$.py" <<'PY'
import socket, sys, threading
srv = socket.create_server(("0.0.0.0", int(sys.argv[1])))
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
    c, _ = srv.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
PY
	sink="${TMPDIR:-/tmp}/exec-report-sink.$$.py"
	retransfail='st=$?; awk '"'"'/^TcpExt:/ { if (!h) { split($0, k); h = 1 } else { split($0, v); for (i in k) if (k[i] == "TCPRetransFail") print "retransfail=" v[i] } }'"'"' /proc/net/netstat; exit $st'
	out=$("$tcpfate" exec --server "python3 $sink 8080" --wait-server 8080 \
		--client-sysctl net.ipv4.tcp_retries2=4 --fault mtu-blackhole --on sent:200000 --expect-model \
		--client "curl -sS -T /dev/zero --limit-rate 100k http://server:8080/; $retransfail" 2>&1); st=$?
	rm -f "$sink"
	ok=no
	[ $st -eq 0 ] && printf '%s\n' "$out" | grep -q '^    retransfail=0$' && ok=yes
	result "mtu-blackhole over IPv4: no local transmit failure, the kernel's give-up as modelled" "$ok" "$out"
else
	skip "mtu-blackhole over IPv4 is a silent path" "python3, curl or awk not found"
fi
exit $((failed > 0))
