#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --server-sysctl and --client-sysctl: each in its own host only; every one
# checked (the kernel has the key in a network namespace, the value has the
# current one's shape) before any is written; bad input is a message and
# exit status 2.  TAP out.
# Usage: exec-sysctl.sh TCPFATE
set -u
tcpfate=$1
n=0 failed=0
marker=31338$$            # a server no one else runs: "sleep $marker"

sandbox=yes
if "$tcpfate" exec --fault none --at 0 --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	sandbox=no
fi
leftovers() { ps -eo args | grep -c "^sleep $marker\$"; }

# run WANT_STATUS NEEDS_SANDBOX DESCRIPTION REGEX... -- EXEC ARGS...: every
# extended regex must match a line of stdout and stderr together; no
# server left behind.
run() {
	local want=$1 sb=$2 desc=$3 out st re miss="" left
	shift 3
	local res=()
	while [ "$1" != "--" ]; do res+=("$1"); shift; done
	shift
	n=$((n + 1))
	if [ "$sb" = yes ] && [ "$sandbox" = no ]; then echo "ok $n - $desc # SKIP no sandbox here"; return; fi
	out=$("$tcpfate" exec "$@" 2>&1); st=$?
	left=$(leftovers)
	for re in "${res[@]}"; do
		printf '%s\n' "$out" | grep -Eq -- "$re" || miss="$miss $re"
	done
	if [ "$st" -eq "$want" ] && [ -z "$miss" ] && [ "$left" -eq 0 ]; then
		echo "ok $n - $desc"
	else
		failed=$((failed + 1))
		{
			echo "not ok $n - $desc"
			echo "  ---"
			echo "  status: $st (want $want)"
			echo "  leftover_processes: $left"
			echo "  missing: \"${miss//\"/\\\"}\""
			echo "  output: |"
			printf '%s\n' "$out" | sed 's/^/    /'
			echo "  ..."
		} | tee /dev/stderr  # stderr: meson prints it for a failed TAP test
	fi
}

srv=(--server "sleep $marker" --no-wait-server)
# (cat, not the shell's read: a sysctl read at an offset past 0 is empty.)
show='echo "fin=$(cat /proc/sys/net/ipv4/tcp_fin_timeout) rmem=$(tr -s "\t " // </proc/sys/net/ipv4/tcp_rmem)"'
echo "TAP version 13"
echo "1..9"
# -v: the server's output is in the report.
run 0 yes "--server-sysctl is set in the server host, not in the client host" \
	'^    fin=17 rmem=8192/65536/1048576$' '^    fin=60 rmem=4096/' '^  server_sysctls:$' \
	'^    - "net.ipv4.tcp_fin_timeout=17"$' -- \
	-v --server "$show; exec sleep $marker" --no-wait-server \
	--server-sysctl net.ipv4.tcp_fin_timeout=17 --server-sysctl 'net.ipv4.tcp_rmem=8192 65536 1048576' \
	--fault none --at 0 --expect-status 0 --client "$show; sleep 0.5"
run 0 yes "--client-sysctl and --server-sysctl side by side" \
	'^    fin=9 rmem=' '^  client_sysctls:$' '^  server_sysctls:$' -- \
	--server-sysctl net.ipv4.tcp_fin_timeout=17 --client-sysctl net.ipv4.tcp_fin_timeout=9 \
	--fault none --at 0 --expect-status 0 --client "$show"
run 2 no "--server-sysctl outside net.*" 'server-sysctl takes net.KEY=VALUE' -- \
	--server-sysctl kernel.panic=1 --fault none --at 0 --client true
run 2 no "--server-sysctl without a value" 'server-sysctl takes net.KEY=VALUE' -- \
	--server-sysctl net.ipv4.tcp_fin_timeout= --fault none --at 0 --client true
run 2 yes "--server-sysctl: a key this kernel lacks" \
	"--server-sysctl: no sysctl 'net.ipv4.frobnicate'" -- \
	"${srv[@]}" --server-sysctl net.ipv4.frobnicate=1 --fault none --at 0 --client true
run 2 yes "--server-sysctl: not an integer where the kernel keeps one, refused before writing" \
	'--server-sysctl: net.ipv4.tcp_retries2 takes 1 integer .* not .abc.' -- \
	"${srv[@]}" --server-sysctl net.ipv4.tcp_retries2=abc --fault none --at 0 --client true
run 2 yes "--client-sysctl: four integers where the kernel keeps three" \
	'--client-sysctl: net.ipv4.tcp_rmem takes up to 3 integers' -- \
	"${srv[@]}" --client-sysctl 'net.ipv4.tcp_rmem=1 2 3 4' --fault none --at 0 --client true
# Every option checked before any is written: a bad server sysctl given
# last is reported, not a value set in the client host first.
run 2 yes "a bad --server-sysctl after good ones: refused before any is written" \
	"no sysctl 'net.ipv4.nope'" -- \
	"${srv[@]}" --client-sysctl net.ipv4.tcp_retries2=3 --server-sysctl net.ipv4.tcp_fin_timeout=5 \
	--server-sysctl net.ipv4.nope=1 --fault none --at 0 --client true
run 2 yes "a value the kernel refuses (out of range): exit 2 with the kernel's reason" \
	'cannot set net.ipv4.tcp_retries2 to .-5. in the server host' -- \
	"${srv[@]}" --server-sysctl net.ipv4.tcp_retries2=-5 --fault none --at 0 --client true
exit $((failed > 0))
