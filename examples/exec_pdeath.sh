#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tcpfate exec` dies with its parent, taking its client and server with it:
# SIGKILL of the process that started it (a cancelled CI job, an OOM kill of
# meson test) leaves no process of the run 1 s later.  TAP out.
# Usage: exec_pdeath.sh TCPFATE
set -u
tcpfate=$1
ms=31337$$ mc=31338$$     # server and client: "sleep $ms", "sleep $mc"

if "$tcpfate" exec --fault none --at 0 --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	echo "1..0 # SKIP no sandbox here"
	exit 0
fi

# PIDs of the run's programs (the shell may or may not exec sleep).
progs() {
	ps -eo pid=,args= | awk -v a="sleep $ms" -v b="sleep $mc" '
		{ pid = $1; sub(/^ *[0-9]+ +/, "") }
		$0 == a || $0 == b || $0 == "/bin/sh -c " a || $0 == "/bin/sh -c " b { print pid }'
}
alive() {  # alive PID: running, not a zombie
	local s
	s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s#Z}" = "$s" ]
}
# poll CONDITION TENTHS: true once CONDITION holds, within TENTHS * 0.1 s
poll() {
	local i
	for ((i = 0; i < $2; i++)); do
		eval "$1" && return 0
		sleep 0.1
	done
	eval "$1"
}

echo "TAP version 13"
echo "1..1"
# The parent: a shell that waits for tcpfate exec (no exec of the last command).
sh -c '"$1" exec --server "sleep $2" --no-wait-server --fault blackhole --at 60 \
	--client "sleep $3" >/dev/null 2>&1; :' sh "$tcpfate" "$ms" "$mc" &
parent=$!
tpid=
poll '[ "$(progs | wc -l)" -ge 2 ]' 100
tpid=$(ps -o pid= --ppid "$parent" | tr -d ' ' | head -n 1)
if [ -z "$tpid" ] || [ "$(progs | wc -l)" -lt 2 ]; then
	echo "not ok 1 - the run did not start (tcpfate pid '${tpid}', programs $(progs | wc -l))"
	kill -KILL "$parent" 2>/dev/null
	[ -n "$tpid" ] && kill -TERM "$tpid" 2>/dev/null
	exit 1
fi
{ kill -KILL "$parent"; wait "$parent"; } 2>/dev/null
if poll '! alive "$tpid" && [ -z "$(progs)" ]' 10; then
	echo "ok 1 - SIGKILL of tcpfate exec's parent: nothing of the run left within 1 s"
	exit 0
fi
{
	echo "not ok 1 - SIGKILL of tcpfate exec's parent: nothing of the run left within 1 s"
	echo "  ---"
	echo "  tcpfate_alive: $(alive "$tpid" && echo true || echo false)"
	echo "  programs_left: $(progs | wc -l)"
	echo "  ..."
} | tee /dev/stderr  # stderr: meson prints it for a failed TAP test
kill -TERM "$tpid" 2>/dev/null    # ours: do not leave it running
exit 1
