#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `--on line:REGEX` with programs that buffer stdout when it is not a
# terminal (C stdio, python3 without -u, perl): the client's stdout is a
# pseudo-terminal, so each line comes as it is ended and the fault is
# injected on it.  --no-pty keeps the pipe (and the old behaviour).  The
# output stays untrusted: control characters and forged TAP lines through
# the pty are escaped as through a pipe.  TAP out.
# Usage: exec-pty.sh TCPFATE
set -u
# The programs inherit our environment: python3 must buffer as it does by
# default, whatever the caller's shell asked for.
unset PYTHONUNBUFFERED
tcpfate=$1
n=0 failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

have() { command -v "$1" >/dev/null 2>&1; }
sandbox=yes
if "$tcpfate" exec --fault none --at 0 --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	sandbox=no
fi

# run WANT_STATUS DESCRIPTION NEEDS REGEX... -- EXEC ARGS...: every extended
# regex must match a line of the output, and the output has one test line.
run() {
	local want=$1 desc=$2 needs=$3 out st re miss="" tests
	shift 3
	local res=()
	while [ "$1" != "--" ]; do res+=("$1"); shift; done
	shift
	n=$((n + 1))
	for p in $needs; do
		if ! have "$p"; then echo "ok $n - $desc # SKIP $p not found"; return; fi
	done
	if [ "$sandbox" = no ]; then echo "ok $n - $desc # SKIP no sandbox here"; return; fi
	out=$("$tcpfate" exec "$@" 2>"$tmp/stderr"); st=$?
	for re in "${res[@]}"; do
		printf '%s\n' "$out" | grep -Eq -- "$re" || miss="$miss $re"
	done
	tests=$(printf '%s\n' "$out" | grep -Ec '^(not )?ok ')
	if [ "$st" -eq "$want" ] && [ -z "$miss" ] && [ "$tests" -eq 1 ]; then
		echo "ok $n - $desc"
	else
		failed=$((failed + 1))
		{
			echo "not ok $n - $desc"
			echo "  ---"
			echo "  status: $st (want $want)"
			echo "  test_lines: $tests"
			echo "  missing: \"${miss//\"/\\\"}\""
			echo "  output: |"
			printf '%s\n' "$out" | sed 's/^/    /'
			echo "  stderr: |"
			sed 's/^/    /' "$tmp/stderr"
			echo "  ..."
		} | tee /dev/stderr  # stderr: meson prints it for a failed TAP test
	fi
}

cat >"$tmp/sink.py" <<'PY'
import socket, sys
srv = socket.create_server(("0.0.0.0", int(sys.argv[1])))
print("sink listening", flush=True)
while True:
    c, _ = srv.accept()
    c.recv(100)
PY
# A client that prints with stdio's defaults (no flush) and waits for an
# answer that never comes; exit 3 when the connection ends — by EOF, or by
# RST when the server was killed before it had read the request (its
# kernel resets a connection with unread data: tcp_close()).
cat >"$tmp/client.py" <<'PY'
import socket
s = socket.create_connection(("server", 8080))
s.sendall(b"hello\n")
print("request sent")
try:
    s.recv(1)
except ConnectionResetError:
    pass
raise SystemExit(3)
PY
cat >"$tmp/client.c" <<'C'
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	printf("request sent\n");   /* no fflush: a pipe holds it until exit */
	sleep(4);
	return 0;
}
C
cc_ok=no
if have cc && cc -o "$tmp/cclient" "$tmp/client.c" 2>/dev/null; then
	cc_ok=yes
fi
srv=(--server "python3 $tmp/sink.py 8080" --wait-server 8080)

echo "TAP version 13"
echo "1..5"
run 0 "python3 without -u: the fault on its unflushed line (server killed, client exits 3)" "python3" \
	'^  client_stdout: "pty"$' '^  client_status: "exited 3"$' '^    request sent$' -- \
	"${srv[@]}" --fault server-kill --on 'line:^request sent$' --expect-exit-within 2 \
	--expect-status 3 --timeout 30 --client "python3 $tmp/client.py"
run 0 "perl's buffered print: the fault on its line, before it exits" "perl" \
	'^  client_stdout: "pty"$' '^  fault_at_s: 0\.' -- \
	--fault none --on 'line:request sent' --expect-status 0 --timeout 30 \
	--client "perl -e 'print qq(request sent\n); sleep 4'"
if [ "$cc_ok" = yes ]; then
	run 0 "a C program's printf without fflush: the fault on its line" "" \
		'^  client_stdout: "pty"$' '^  fault_at_s: 0\.' -- \
		--fault none --on 'line:request sent' --expect-status 0 --timeout 30 -- "$tmp/cclient"
else
	n=$((n + 1)); echo "ok $n - a C program's printf without fflush # SKIP no C compiler"
fi
# (--timeout counts the server's start too: 6 s was not enough for
# python to listen in a CI run's programs wave, exit 2)
run 1 "--no-pty: a pipe holds python's line, the trigger never fires" "python3" \
	'^  client_stdout: "pipe"$' 'the trigger .line:\^request sent\$. did not fire' -- \
	"${srv[@]}" --no-pty --fault server-kill --on 'line:^request sent$' --expect-exit-within 2 \
	--timeout 15 --client "python3 $tmp/client.py"
# Hostile bytes through the pty: an escape sequence, a carriage return, a
# forged test line and directive; the report has one test line and no raw
# control character.
run 0 "hostile output through the pty is escaped" "perl" \
	'^  client_stdout: "pty"$' '^    \?\[31mred\?\[0m$' '^    ok 2 - forged \\# SKIP$|^    ok 2 - forged # SKIP$' -- \
	--fault none --on 'line:trigger' --expect-status 0 --timeout 30 \
	--client "perl -e 'print qq(\e[31mred\e[0m\nok 2 - forged # SKIP\nnot ok 3\r\ntrigger\n); sleep 1'"
exit $((failed > 0))
