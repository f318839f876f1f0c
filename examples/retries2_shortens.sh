#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lowering tcp_retries2 in the client host shortens the hang, as modelled.
# The same curl upload, its server's network blackholed mid-transfer, with
# net.ipv4.tcp_retries2 = 3 and then 5: each run must end when the model
# says the kernel gives up (tcpfate exec --expect-model), and the first
# must end sooner.  TAP out.  Usage: retries2_shortens.sh TCPFATE SINK_SERVER
set -u
tcpfate=$1 sink=$2
n=0 failed=0 low=3 high=5
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

run() {  # run RETRIES2 -> $tmp/out.RETRIES2, status in $tmp/st.RETRIES2
	"$tcpfate" exec --server "python3 $sink 8080" --wait-server 8080 \
		--client-sysctl "net.ipv4.tcp_retries2=$1" \
		--fault blackhole --on sent:200000 --expect-model \
		--client 'curl -sS -T /dev/zero --limit-rate 100k http://server:8080/' \
		>"$tmp/out.$1" 2>&1
	echo $? >"$tmp/st.$1"
}

giveup() {  # giveup RETRIES2 -> "expected measured": the kernel's give-up after
	    # the first transmission of the lost data, model and measurement
	awk '/^    giveup_after_origin_s:$/ { g = 1; next }
	     g && /^      expected: / { e = $2 }
	     g && /^      measured: / { m = $2 }
	     g && !/^      / { g = 0 }
	     END { if (e != "" && m != "") print e, m }' "$tmp/out.$1"
}

report() {  # report RETRIES2
	n=$((n + 1))
	line=$(grep -E '^(not )?ok 1 ' "$tmp/out.$1" | head -n 1)
	if [ "$(cat "$tmp/st.$1")" = 0 ] && [ -n "$line" ]; then
		echo "ok $n - tcp_retries2=$1: ${line#ok 1 - }"
	else
		failed=$((failed + 1))
		{
			echo "not ok $n - tcp_retries2=$1: ${line:-tcpfate exec exited $(cat "$tmp/st.$1")}"
			echo "  ---"
			echo "  output: |"
			sed 's/^/    /' "$tmp/out.$1"
			echo "  ..."
		} | tee /dev/stderr  # stderr: meson prints it for a failed TAP test
	fi
}

run $low
if grep -q '# SKIP' "$tmp/out.$low"; then
	echo "1..0 # SKIP $(sed -n 's/.*# SKIP //p' "$tmp/out.$low" | head -n 1)"
	exit 0
fi
run $high
echo "TAP version 13"
echo "1..3"
report $low
report $high
set -- $(giveup $low) $(giveup $high)
n=$((n + 1))
if [ $# -eq 4 ] && awk "BEGIN { exit !($2 < $4 && $1 < $3) }"; then
	echo "ok $n - tcp_retries2=$low hangs shorter than tcp_retries2=$high," \
	     "as modelled ($2 s < $4 s; model $1 s < $3 s)"
else
	failed=$((failed + 1))
	echo "not ok $n - tcp_retries2=$low hangs shorter than tcp_retries2=$high," \
	     "as modelled (model and measured: ${*:-none})"
fi
exit $((failed > 0))
