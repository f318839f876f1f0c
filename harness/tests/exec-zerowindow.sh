#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tcpfate exec --fault server-stop` under a busy upload (issue 16, the
# card's zero-window row): the stopped reader's buffer fills, the window
# closes and the client's data waits behind zero-window probes that the
# server's kernel answers.  tf_model_zero_window_fate(): without
# TCP_USER_TIMEOUT the kernel never gives up; with it (3000 ms) the client
# gets ETIMEDOUT in the band counted from the first probe
# (tcp_probe_timer(), icsk_probes_tstamp).  A peer that vanishes behind
# the zero window: tcp_retries2 unanswered probes after its last answer
# (tf_model_zero_window_silent()).  TAP out.
# Usage: exec-zerowindow.sh TCPFATE EXAMPLES_DIR
set -u
. "$(dirname "$0")/exec-tap.sh"
tcpfate=$1
n=0 failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# A reader, until SIGSTOP.
cat >"$tmp/reader.py" <<'PY'
import socket, sys
srv = socket.create_server(("::", int(sys.argv[1])), family=socket.AF_INET6, dualstack_ipv6=True)
while True:
    c, peer = srv.accept()
    try:
        while c.recv(1 << 16):
            pass
    except OSError:
        pass
    c.close()
PY
# A writer that never stops; TCP_USER_TIMEOUT from argv; the errno it ends
# with; with a second argument, a line that many seconds after its connect
# (a trigger that counts from the connection, not from a slow start).
cat >"$tmp/writer.py" <<'PY'
import os, socket, sys, threading
fam = socket.AF_INET6 if os.environ.get("TCPFATE_FAMILY") == "ipv6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
if int(sys.argv[1]):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(sys.argv[1]))
s.connect((os.environ["TCPFATE_SERVER"], 8080))
if len(sys.argv) > 2:
    threading.Timer(float(sys.argv[2]), lambda: print("uploading for", sys.argv[2], "s", flush=True)).start()
try:
    while True:
        s.sendall(b"x" * 65536)
except OSError as e:
    print("errno", e.errno, flush=True)
    sys.exit(3)
PY
# A server that accepts and never reads: the window closes at once.
cat >"$tmp/noread.py" <<'PY'
import socket, sys
srv = socket.create_server(("::", int(sys.argv[1])), family=socket.AF_INET6, dualstack_ipv6=True)
held = []
while True:
    c, peer = srv.accept()
    held.append(c)
PY
# A client that asks and waits, with keepalive (1 s idle, 1 s apart) and
# TCP_USER_TIMEOUT: its keepalive probes have a zero-window probe's shape.
cat >"$tmp/waiter.py" <<'PY'
import os, socket, sys
fam = socket.AF_INET6 if os.environ.get("TCPFATE_FAMILY") == "ipv6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 3000)
s.connect((os.environ["TCPFATE_SERVER"], 8080))
s.sendall(b"request\n")
print("request sent", flush=True)
s.recv(1)
PY
srv=(--server "python3 $tmp/reader.py 8080" --wait-server 8080)

have() { command -v "$1" >/dev/null 2>&1; }
sandbox=yes
if "$tcpfate" exec --fault none --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	sandbox=no
fi

# The model's band against the measurement, as --expect-model judges it
# (exec refuses --expect-model for server-stop): lo - slack <= measured <=
# hi + slack + the exit allowance.
in_band() {
	awk '
	/^    slack_us:/ { slack = $2 / 1e6 }
	/^    exit_allowance_ms:/ { allow = $2 / 1e3 }
	/^    giveup_after_origin_s:/ { g = 1; next }
	g && /^      lo:/ { lo = $2 } g && /^      hi:/ { hi = $2 } g && /^      measured:/ { m = $2; have = 1 }
	g && !/^      / { g = 0 }
	END { if (!have) exit 1; ok = (m >= lo - slack && m <= hi + slack + allow)
	      printf "band %.3f..%.3f measured %.3f\n", lo - slack, hi + slack + allow, m; exit !ok }'
}

# run WANT_STATUS DESCRIPTION BAND 'REGEX...' -- EXEC ARGS...
# One after the other: five at once (writers and readers streaming as
# fast as they can) next to the rest of ci/test's programs wave starved
# the programs of CPU for seconds (a python client's first SYN 4.5 s after
# its spawn).  report() judges them in order at the end.
run() {
	local want=$1 desc=$2 band=$3
	shift 3
	n=$((n + 1))
	part_skip "$n" && return
	printf '%s\n' "$want" "$band" "$desc" >"$tmp/meta.$n"
	: >"$tmp/re.$n"
	while [ "$1" != "--" ]; do printf '%s\n' "$1" >>"$tmp/re.$n"; shift; done
	shift
	if ! have python3 || ! have awk; then echo "python3 or awk not found" >"$tmp/skip.$n"; return; fi
	if [ "$sandbox" = no ]; then echo "no sandbox here" >"$tmp/skip.$n"; return; fi
	"$tcpfate" exec "$@" >"$tmp/out.$n" 2>&1
	echo $? >"$tmp/st.$n"
}

report() {
	local i want band desc out st re miss bout
	for i in $(seq 1 "$n"); do
		part_skip "$i" && continue
		{ read -r want; read -r band; read -r desc; } <"$tmp/meta.$i"
		if [ -e "$tmp/skip.$i" ]; then echo "ok $(part_num "$i") - $desc # SKIP $(cat "$tmp/skip.$i")"; continue; fi
		out=$(cat "$tmp/out.$i"); st=$(cat "$tmp/st.$i"); miss="" bout=""
		while IFS= read -r re; do
			printf '%s\n' "$out" | grep -Eq -- "$re" || miss="$miss $re"
		done <"$tmp/re.$i"
		if [ "$band" = yes ] && ! bout=$(printf '%s\n' "$out" | in_band); then
			miss="$miss (give-up outside the model's band: $bout)"
		fi
		tap_result "$(part_num "$i")" "$desc" "$st" "$want" "$miss" "$out"
	done
}

echo "TAP version 13"
part_plan 5
run 0 "python writer with TCP_USER_TIMEOUT 3000 behind a stopped reader's zero window: ETIMEDOUT in the model's band" yes \
	'^    schedule: "zero-window"$' '^    origin: "the first zero-window probe"$' \
	'^    expected_errno: "ETIMEDOUT"$' '^    errno 110$' -- \
	"${srv[@]}" --fault server-stop --on sent:1000000 --model --client "python3 $tmp/writer.py 3000"
run 0 "the same over IPv6" yes \
	'^  family: ipv6$' '^    schedule: "zero-window"$' '^    errno 110$' -- \
	-6 "${srv[@]}" --fault server-stop --on sent:1000000 --model --client "python3 $tmp/writer.py 3000"
run 0 "python writer without TCP_USER_TIMEOUT behind a stopped reader's zero window: the kernel never gives up" no \
	'^    schedule: "never"$' 'tcp_probe_timer\(\) gives up only with TCP_USER_TIMEOUT' -- \
	"${srv[@]}" --fault server-stop --on sent:1000000 --model --expect-running 3 --timeout 30 \
	--client "python3 $tmp/writer.py 0"
# The peer vanishes 4 s into a zero window (tcp_retries2 4: the answered
# probes have backed off to 4 by then): the 5th expiry after its last
# answer gives up, ETIMEDOUT (tf_model_zero_window_silent()).  The 4 s
# count from the writer's connect (its line), not from its start: beside
# ci/test's other programs a python started 4 s late once and the fault
# came before its SYN was answered.
run 0 "python writer behind a zero window whose peer vanishes: tcp_retries2 unanswered probes, ETIMEDOUT as modelled" no \
	'^    schedule: "zero-window"$' '^    origin: "the server.s last zero-window answer"$' \
	'^    expected_errno: "ETIMEDOUT"$' '^    errno 110$' -- \
	--server "python3 $tmp/noread.py 8080" --wait-server 8080 --client-sysctl net.ipv4.tcp_retries2=4 \
	--fault server-vanish --on 'line:uploading for 4 s' --expect-model --client "python3 $tmp/writer.py 0 4"
# Keepalive probes answered by a stopped server's kernel are not a zero
# window: no zero-window schedule, and the client lives on (the model said
# "zero-window" and an ETIMEDOUT at ~7 s before it looked at the window).
# --timeout counts the setup and the server's start too: 20 s ran out before
# the client started when the suite's cases held the setup slots (ci/test's
# waves at once, tried); the run ends 6 s after its fault anyway.
run 0 "a waiting client with keepalive and TCP_USER_TIMEOUT under a stopped server: no zero-window schedule, it lives on" no \
	'the server.s kernel still ACKs' -- \
	"${srv[@]}" --fault server-stop --on 'line:request sent' --model --expect-running 6 --timeout 60 \
	--client "python3 $tmp/waiter.py"
report
exit $((failed > 0))
