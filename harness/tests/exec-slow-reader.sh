#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tcpfate exec --fault slow-reader[:RUN/PERIOD]: the server stopped
# (SIGSTOP) from the fault on and continued (SIGCONT) RUN ms before the end
# of every PERIOD ms, stopped again once its window reopens on the wire.
#   - bad values: a message and exit status 2, nothing run;
#   - the capture shows it: every time the server's closed window reopens,
#     the server was running (continued RUN ms before the end of a period,
#     stopped right after); the continues are spaced by the period;
#   - a client with no deadline finishes its upload, slowly (the kernel
#     never gives up on a live peer);
#   - with the default knobs the kernel never ends it; with TCP_USER_TIMEOUT
#     and a send queue that every reopened window takes whole, neither: each
#     window update restarts the probes' clock (tcp_ack_probe()).
# TAP out.  Usage: exec-slow-reader.sh TCPFATE [EXAMPLES_DIR]
set -u
tcpfate=$1
n=0 failed=0
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
dir=$(mktemp -d) || exit 1
trap 'rm -rf -- "$dir"' EXIT
chmod 755 "$dir"

sandbox=yes
if "$tcpfate" exec --fault none --at 0 --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	sandbox=no
fi
. "$(dirname "$0")/exec-tap.sh"   # result, skip

# The server: a reader with a small receive buffer (a window of a few
# segments), reading all it is given until EOF, then saying how much.
cat >"$dir/reader.py" <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.bind(("0.0.0.0", 8080))
s.listen(4)
c, _ = s.accept()
n = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
print("read", n, flush=True)
c.close()
EOF
# The client: N bytes in 8 KiB writes 5 ms apart (an upload that lasts),
# no deadline of its own; optionally TCP_USER_TIMEOUT MS and SO_SNDBUF B.
# Exit 0 once the server has read everything (its close), 1 on a socket
# error.
cat >"$dir/upload.py" <<'EOF'
import socket, sys, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
if len(sys.argv) > 2:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(sys.argv[2]))
if len(sys.argv) > 3:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(sys.argv[3]))
try:
    s.connect(("server", 8080))
    buf, sent = b"x" * 8192, 0
    while sent < n:
        s.sendall(buf[: min(len(buf), n - sent)])
        sent += min(len(buf), n - sent)
        time.sleep(0.005)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
except OSError as e:
    print("socket:", e, flush=True)
    sys.exit(1)
print("sent", sent, flush=True)
EOF

echo "TAP version 13"
echo "1..6"

# 1. Bad values, before anything is set up.
bad_ok=yes detail=""
for f in 'slow-reader:' 'slow-reader:abc' 'slow-reader:20' 'slow-reader:/250' 'slow-reader:20/' \
         'slow-reader:0/250' 'slow-reader:250/250' 'slow-reader:5/9' 'slow-reader:20/60001' \
         'slow-reader:20/250/3' 'slow-reader:-5/250' 'slow-reader:20/0x100'; do
	err=$("$tcpfate" exec --server 'sleep 60' --fault "$f" --client true 2>&1 >/dev/null); st=$?
	if [ $st -ne 2 ] || ! printf '%s' "$err" | grep -q 'slow-reader'; then
		bad_ok=no; detail+="$f: exit $st: $err"$'\n'
	fi
done
err=$("$tcpfate" exec --fault slow-reader --client true 2>&1 >/dev/null); st=$?
if [ $st -ne 2 ] || ! printf '%s' "$err" | grep -q 'give --server'; then
	bad_ok=no; detail+="no --server: exit $st: $err"$'\n'
fi
err=$("$tcpfate" exec --server 'sleep 60' --fault slow-reader --expect-model --client true 2>&1 >/dev/null); st=$?
if [ $st -ne 2 ] || ! printf '%s' "$err" | grep -q 'no give-up to model'; then
	bad_ok=no; detail+="--expect-model: exit $st: $err"$'\n'
fi
result "slow-reader: bad RUN/PERIOD, no --server, --expect-model: a message, exit 2" "$bad_ok" "$detail"

if [ "$sandbox" = no ]; then
	for d in "the server's window reopens only while it runs, once a period" \
	         "a client without a deadline finishes, slowly" "continues spaced by the period" \
	         "default knobs: never" "TCP_USER_TIMEOUT: ETIMEDOUT"; do
		skip "$d" "no sandbox here"
	done
	exit 0
fi
if ! command -v "$py" >/dev/null 2>&1; then
	for i in 2 3 4 5 6; do skip "slow-reader run $i" "python3 not found"; done
	exit 0
fi

# 2-4. One run: 1.5 MB at 1.6 MB/s to a reader running once every 250 ms.
P=250 RUN=20
out=$("$tcpfate" exec --server "$py $dir/reader.py" --wait-server 8080 \
	--fault slow-reader:$RUN/$P --on sent:65536 --expect-status 0 --timeout 40 -v \
	--pcap "$dir/run.pcap" --client "$py $dir/upload.py 1500000" 2>/dev/null); st=$?
printf '%s\n' "$out" >"$dir/run.tap"
verdict=$("$py" - "$dir/run.tap" "$dir/run.pcap" $P $RUN <<'EOF'
import datetime, re, struct, sys
tap, pcap, P, RUN = sys.argv[1], sys.argv[2], int(sys.argv[3]) / 1e3, int(sys.argv[4]) / 1e3
t = open(tap).read()
w = re.search(r'^  fault_at_wall: "(\S+)Z"$', t, re.M)
fa = re.search(r'^  fault_applied: .*; (\d+) stops \((\d+) at a window update\), (\d+) continues"$', t, re.M)
det = re.search(r'^  detection_s: ([0-9.]+)', t, re.M)
if not (w and fa and det):
    print("no fault_at_wall, fault_applied counts or detection_s"); sys.exit()
fault = datetime.datetime.strptime(w.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
    tzinfo=datetime.timezone.utc).timestamp()
stops, conts = int(fa.group(1)), int(fa.group(3))
f = open(pcap, "rb").read()
nano = struct.unpack("<I", f[:4])[0] == 0xa1b23c4d
link = struct.unpack("<I", f[20:24])[0]
off, reopen, last_win, acks = 24, [], None, []
while off + 16 <= len(f):
    sec, frac, cl, _ = struct.unpack("<IIII", f[off:off + 16])
    d = f[off + 16:off + 16 + cl]
    off += 16 + cl
    ts = sec + frac / (1e9 if nano else 1e6)
    ip = d[14:] if link == 1 else d
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
        continue
    tcp = ip[(ip[0] & 15) * 4:]
    sport, win, fl = struct.unpack(">H", tcp[0:2])[0], struct.unpack(">H", tcp[14:16])[0], tcp[13]
    if sport != 8080 or fl & 0x06:
        continue
    acks.append((ts - fault, struct.unpack(">I", tcp[8:12])[0]))
    # the server's closed window reopened: it read
    if last_win == 0 and win > 0 and ts > fault:
        reopen.append(ts - fault)
    last_win = win
# a reopening in the run of cycle k: after its continue (k P - RUN), before
# the stop that follows it (k P, or earlier) has had 100 ms to land (two
# hops: exec, then the server's supervisor, on a loaded machine)
bad = [r for r in reopen if not any(k * P - RUN - 0.002 <= r <= k * P + 0.1
                                    for k in range(1, int(r / P) + 3))]
# while stopped (from 100 ms after a stop to its next continue) the
# server's kernel takes at most what its buffer holds: 64 KiB, for a
# 16 KiB SO_RCVBUF (doubled) and the window it had advertised
def acked(t0, t1):
    before = [a for t, a in acks if t < t0]
    inside = [a for t, a in acks if t0 <= t <= t1]
    return (max(inside) - before[-1]) % (1 << 32) if before and inside else 0
ndet = float(det.group(1))
taken = [acked((k - 1) * P + (0.1 if k > 1 else 0.005), k * P - RUN - 0.002)
         for k in range(1, int(ndet / P) + 1)]
big = [x for x in taken if x > 65536]
ok1 = len(reopen) >= 3 and not bad and not big
ok2 = float(det.group(1)) >= 2 * P
ok3 = stops >= 3 and stops - 1 <= conts <= stops
print("%s %s %s stops=%d conts=%d reopenings(s after the fault)=%s out-of-run=%s "
      "taken-while-stopped=%s" % (
    "yes" if ok1 else "no", "yes" if ok2 else "no", "yes" if ok3 else "no", stops, conts,
    ",".join("%.3f" % r for r in reopen), ",".join("%.3f" % r for r in bad),
    ",".join(str(x) for x in taken)))
EOF
)
set -- $verdict
echo "# $verdict" | head -c 600; echo
detail="exit $st; $verdict"$'\n'"$out"
result "the server's closed window reopens only while it runs (continued ${RUN} ms before each ${P} ms); stopped, it takes 64 KiB at most" \
	"$([ "${1:-}" = yes ] && echo yes || echo no)" "$detail"
result "a client without a deadline finishes its upload (exit 0), the server read all of it" \
	"$([ $st -eq 0 ] && [ "${2:-}" = yes ] && printf '%s' "$out" | grep -q '^    read 1500000$' && echo yes || echo no)" "$detail"
result "fault_applied counts the stops (3 or more) and a continue between each two" \
	"$([ "${3:-}" = yes ] && echo yes || echo no)" "$detail"

# 5-6. The kernel's own timers on a long upload (100 MB, 1.6 MB/s) to a
#      reader running once every 500 ms.  With the default knobs nothing
#      ends it: every ACK resets the zero-window probes' count, the window
#      keeps reopening (RFC 1122 4.2.2.17, tcp_probe_timer()).  With
#      TCP_USER_TIMEOUT 1 s nothing ends it either when each reopened window
#      takes the whole head of the send queue (tf_model_window_reopens():
#      tcp_ack_probe() restarts the probes' clock): a 4 KiB SO_SNDBUF keeps
#      the queue under the 21 KB the reader reopens.  (With a full queue the
#      head can outgrow the window, tcp_grow_skb(), and the clock run on:
#      that depends on the congestion window, so no test asserts it.)
out=$("$tcpfate" exec --server "$py $dir/reader.py" --wait-server 8080 \
	--fault slow-reader:20/500 --on sent:65536 --expect-running 4 --timeout 30 \
	--client "$py $dir/upload.py 100000000" 2>&1); st=$?
result "slow-reader, default knobs: the kernel never gives up (still running 4 s after the fault)" \
	"$([ $st -eq 0 ] && echo yes || echo no)" "exit $st"$'\n'"$out"
out=$("$tcpfate" exec --server "$py $dir/reader.py" --wait-server 8080 \
	--fault slow-reader:20/500 --on sent:65536 --expect-running 4 --timeout 30 --model \
	--client "$py $dir/upload.py 100000000 1000 4096" 2>&1); st=$?
ok=no
[ $st -eq 0 ] && printf '%s\n' "$out" | grep -q 'restarts it only when the whole segment at the head' && ok=yes
result "slow-reader, TCP_USER_TIMEOUT 1 s, a 4 KiB send buffer: every reopened window restarts the probes' clock (still running 4 s after the fault, though the window shuts for 480 ms at a time)" \
	"$ok" "exit $st"$'\n'"$out"
[ $failed -eq 0 ]
