#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tcpfate exec's deadlines hold when the wall clock steps: with
# CLOCK_REALTIME jumping a day ahead 0.3 s into the run (LD_PRELOAD shim
# clockjump.so), a client that runs 1.5 s still runs to its end and exits
# 0; the run is not cut short as "timed out".  TAP out.
# Usage: exec_clockjump.sh TCPFATE CLOCKJUMP_SO
set -u
tcpfate=$1 shim=$2
if "$tcpfate" exec --fault none --at 0 --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	echo "1..0 # SKIP no sandbox here"
	exit 0
fi
out=$(LD_PRELOAD=$shim TF_CLOCKJUMP_S=86400 "$tcpfate" exec --fault none --at 0 \
	--expect-status 0 --timeout 30 --client 'sleep 1.5' 2>&1)
st=$?
echo "TAP version 13"
echo "1..1"
if [ $st -eq 0 ] && grep -q '^  client_status: "exited 0"' <<<"$out"; then
	echo "ok 1 - the wall clock steps a day ahead: the client still runs to its end"
else
	{
		echo "not ok 1 - the wall clock steps a day ahead: the client still runs to its end"
		echo "  ---"
		echo "  status: $st"
		echo "  output: |"
		sed 's/^/    /' <<<"$out" | LC_ALL=C tr -c '\n -~' '?'
		echo "  ..."
	} | tee /dev/stderr  # stderr: meson prints it for a failed TAP test
	exit 1
fi
