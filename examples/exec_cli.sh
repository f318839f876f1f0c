#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bad input to `tcpfate exec`: a clear message on stderr, exit status 2, and
# nothing left behind (no server process, no hosts file).  TAP out.
# Usage: exec_cli.sh TCPFATE
set -u
tcpfate=$1
n=0 failed=0
marker=31337$$            # a server no one else runs: "sleep $marker"
sandbox=yes
if "$tcpfate" exec --fault none --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	sandbox=no
fi

leftovers() {
	ps -eo args | grep -c "^sleep $marker\$"
}

want=2                    # the exit status check() expects
check() {  # check NEEDS_SANDBOX DESCRIPTION STDERR_REGEX ARGS...
	local sb=$1 desc=$2 re=$3 err st left
	shift 3
	n=$((n + 1))
	if [ "$sb" = yes ] && [ "$sandbox" = no ]; then
		echo "ok $n - $desc # SKIP no sandbox here"
		return
	fi
	err=$("$tcpfate" exec "$@" 2>&1 >/dev/null); st=$?
	left=$(leftovers)
	if [ "$st" -eq "$want" ] && [[ $err =~ $re ]] && [ "$left" -eq 0 ]; then
		echo "ok $n - $desc"
	else
		failed=$((failed + 1))
		{
			echo "not ok $n - $desc"
			echo "  ---"
			echo "  status: $st (want $want)"
			echo "  leftover_processes: $left"
			echo "  stderr: \"${err//\"/\\\"}\""
			echo "  ..."
		} | tee /dev/stderr  # stderr: meson prints it for a failed TAP test
	fi
}

srv=(--server "sleep $marker" --no-wait-server)
echo "TAP version 13"
echo "1..22"
check no "no client" "no client" --fault blackhole
check no "no fault" "no fault" --client true
check no "unknown fault" "unknown fault 'frobnicate'" --fault frobnicate --client true
check no "loss without a value" "needs a value" --fault loss --client true
check no "loss out of range" "percentage" --fault loss:101 --client true
check no "negative --at" "--at takes seconds" --fault blackhole --at -1 --client true
check no "--at with --on" "exclude each other" --fault blackhole --at 1 --on established --client true
check no "bad regular expression" "bad regular expression" --fault blackhole --on 'line:(' --client true
check no "sysctl outside net.*" "only net" --fault blackhole --client-sysctl kernel.panic=1 --client true
check no "blackhole needs the router" "needs --topology path" --topology pair --fault blackhole --client true
check no "server-kill needs a server" "give --server" --fault server-kill --client true
check no "--expect-running with --expect-status" "excludes" --fault blackhole --expect-running 1 --expect-status 0 --client true
check yes "unknown sysctl" "no sysctl 'net.ipv4.frobnicate'" --fault blackhole --client-sysctl net.ipv4.frobnicate=1 --client true
check yes "client program not found (argv), server killed" "cannot start the client: exec" "${srv[@]}" --fault blackhole -- /nonexistent/client
check yes "client command not found (shell), server killed" "could not start" "${srv[@]}" --fault blackhole --client 'nonexistent-client-xyz'
check yes "server exits before listening" "server exited 3 before listening" --server 'exit 3' --fault blackhole --client true
# --pcap never replaces what is not a regular file, and needs its directory.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/dir" && mkfifo "$tmp/fifo" && ln -s "$tmp/target" "$tmp/link" && mkdir "$tmp/gone"
check no "--pcap names a directory" "not a regular file" --pcap "$tmp/dir" --fault none --at 0 --client true
check no "--pcap names a FIFO" "not a regular file" --pcap "$tmp/fifo" --fault none --at 0 --client true
check no "--pcap names a symbolic link" "not a regular file" --pcap "$tmp/link" --fault none --at 0 --client true
check no "--pcap in a missing directory" "no directory" --pcap "$tmp/nodir/x.pcap" --fault none --at 0 --client true
# A capture that cannot be written at the end (the client removed its
# directory) fails the run: exit 1, with the reason.
want=1
check yes "--pcap not written: the run fails" "cannot write" --pcap "$tmp/gone/x.pcap" \
	--fault none --at 0 --expect-status 0 --client "rmdir $tmp/gone"
# A shell that cannot find the client command, after the fault (--at 0):
# a failure with the reason, not a baseline "ok".
check yes "client command not found after the fault (--at 0)" "exited 127: a command was not found" \
	--fault none --at 0 --client 'nonexistent-client-xyz'
exit $((failed > 0))
