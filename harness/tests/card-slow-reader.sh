#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The card's slow-reader row runs (exec --fault slow-reader:50/1000, while
# the client sends; class stalled-peer) and judges an upload to a reader
# that runs once a second, against "stalled-peer <= 8s":
#   - a client with a total deadline of its own (4 s) passes;
#   - a client with TCP_USER_TIMEOUT 200 ms, shorter than the reader's
#     stops, passes: the kernel ends it before the window first reopens
#     (how a reopening treats the probes' clock depends on the send queue,
#     tf_model_window_reopens(): not something to assert on), and the row
#     says TCP_USER_TIMEOUT decided;
#   - a client with neither fails: still running at the limit (the kernel
#     alone never gives up on a live peer).
# TAP out.  Usage: card-slow-reader.sh TCPFATE
set -u
tcpfate=$1
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
echo "TAP version 13"
echo "1..4"
if "$tcpfate" exec --fault none --at 0 --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	for i in 1 2 3 4; do echo "ok $i - slow-reader card row # SKIP no sandbox here"; done
	exit 0
fi
if ! command -v "$py" >/dev/null 2>&1; then
	for i in 1 2 3 4; do echo "ok $i - slow-reader card row # SKIP python3 not found"; done
	exit 0
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf -- "$dir"' EXIT
chmod 755 "$dir"
mkdir "$dir/out"

# A reader with a small receive buffer that never answers.
cat >"$dir/reader.py" <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.bind(("0.0.0.0", 8080))
s.listen(4)
c, _ = s.accept()
while c.recv(65536):
    pass
EOF
# 100 MB in 8 KiB writes 5 ms apart (--bulk: 1 MiB writes, no pause: the
# window shuts as soon as the reader stops).  --deadline S: give up S
# seconds after the first 64 KiB (exit 4); --user-timeout MS:
# TCP_USER_TIMEOUT.
cat >"$dir/upload.py" <<'EOF'
import socket, sys, time
args = sys.argv[1:]
deadline = float(args[args.index("--deadline") + 1]) if "--deadline" in args else 0
chunk, pause = (1 << 20, 0) if "--bulk" in args else (8192, 0.005)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
if "--user-timeout" in args:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT,
                 int(args[args.index("--user-timeout") + 1]))
try:
    s.connect(("server", 8080))
    sent, start = 0, None
    while sent < 100000000:
        if deadline and start is None and sent >= 65536:
            start = time.monotonic()
        if start is not None:
            left = start + deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
        try:
            s.sendall(b"x" * chunk)
        except OSError as e:
            # the deadline's timeout, not the kernel's ETIMEDOUT (both are
            # TimeoutError since python 3.10)
            if start is not None and e.errno is None:
                break
            raise
        sent += chunk
        time.sleep(pause)
    else:
        s.recv(1)
        sys.exit(0)
    print("deadline", flush=True)
    sys.exit(4)
except OSError as e:
    print("socket:", e, flush=True)
    sys.exit(1)
EOF
run() {  # NAME CLIENT_OPTIONS: the card's TAP in $dir/NAME, its status in $dir/NAME.rc
	mkdir "$dir/$1.out"
	"$tcpfate" card --tap --faults slow-reader --limit 10 --policy-rule 'stalled-peer <= 8s' \
		--server "$py $dir/reader.py" --wait-server 8080 -o "$dir/$1.out" \
		--client "$py $dir/upload.py $2" >"$dir/$1" 2>"$dir/$1.err"
	echo $? >"$dir/$1.rc"
}
report() {  # NUMBER NAME DESCRIPTION OK
	if [ "${4:-}" = 1 ]; then echo "ok $1 - $3"; else
		# the card, its stderr and the row's exec run: on stderr too, which
		# meson prints for a failed TAP test
		{
			echo "not ok $1 - $3"
			echo "  ---"
			echo "  card: |"
			sed 's/^/    /' "$dir/$2"
			echo "  card_stderr: |"
			sed 's/^/    /' "$dir/$2.err"
			echo "  exec: |"
			sed 's/^/    /' "$dir/$2.out/slow-reader.exec.tap" 2>/dev/null
			echo "  ..."
		} | tee /dev/stderr
	fi
}
# three independent cards (namespaces of their own): at once
run deadline "--deadline 4" &
run utimeout "--user-timeout 200 --bulk" &
run plain "" &
wait
rc=$(cat "$dir/deadline.rc")
report 1 deadline "a client with a 4 s deadline passes the slow-reader row (exit $rc)" \
	"$([ "$rc" = 0 ] && grep -q '^ok 1 - slow-reader: stalled-peer <= 8 s: noticed' "$dir/deadline" &&
	  grep -q '^  last_output: deadline$' "$dir/deadline" && echo 1)"
rc=$(cat "$dir/utimeout.rc")
report 2 utimeout "TCP_USER_TIMEOUT 200 ms passes it too: the kernel gives up, the row says why (exit $rc)" \
	"$([ "$rc" = 0 ] && grep -q '^ok 1 - slow-reader' "$dir/utimeout" &&
	  grep -q 'Connection timed out' "$dir/utimeout" &&
	  grep -Eq 'decided_by: "?TCP_USER_TIMEOUT=200 ms, from the first zero-window probe, restarted by' "$dir/utimeout" && echo 1)"
rc=$(cat "$dir/plain.rc")
report 3 plain "a client with neither fails it: still running at the limit (exit $rc)" \
	"$([ "$rc" = 1 ] && grep -q '^not ok 1 - slow-reader: stalled-peer <= 8 s: still running' "$dir/plain" &&
	  grep -Eq 'decided_by: "?no timer: the window reopens every 1 s' "$dir/plain" && echo 1)"
# the row ran exec's fault (no SKIP), whose cycle exec counted
report 4 plain "the row runs exec's slow-reader:50/1000 and reports its stops and continues" \
	"$(! grep -q '# SKIP' "$dir/plain" && grep -q '^  fault: slow-reader:50/1000$' "$dir/plain" &&
	  grep -Eq '^  fault_applied: ".* [0-9]+ stops \([0-9]+ at a window update\), [0-9]+ continues"$' "$dir/plain" && echo 1)"
