#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The card catches a client whose library drops its timeout socket option:
# the python client with TCP_USER_TIMEOUT 5 s meets "dead-peer-sending <=
# 10s" (the kernel gives up after 5 s); with drop_user_timeout.so preloaded
# the option never reaches the socket, tcp_retries2 (15: minutes) decides,
# and the card fails the row.  Env: TCPFATE PYTHON3 CARD_DIR SHIM.
set -u
echo "TAP version 13"
echo "1..2"
dir=$(mktemp -d) || exit 1
trap 'rm -rf -- "$dir"' EXIT
client="$PYTHON3 $CARD_DIR/py_client.py server 8080 --user-timeout 5000"
run() {  # $1: output name, $2: prefix of the client command; exit status in $dir/$1.rc
	"$TCPFATE" card --tap --faults send-blackhole --limit 12 \
		--policy-rule 'dead-peer-sending <= 10s' \
		--server "$PYTHON3 $CARD_DIR/card_server.py 8080" --wait-server 8080 \
		--client "$2$client" >"$dir/$1" 2>"$dir/$1.err"
	echo $? >"$dir/$1.rc"
}
report() {  # $1 number, $2 output name, $3 description, $4 ok?
	if [ "${4:-}" = 1 ]; then echo "ok $1 - $3"; else
		echo "not ok $1 - $3"
		sed 's/^/# /' "$dir/$2" "$dir/$2.err"
	fi
}
# the two cards are independent (namespaces of their own): run them at once
run plain "" &
run shim "env LD_PRELOAD=$SHIM " &
wait
rc=$(cat "$dir/plain.rc")
report 1 plain "without the shim: TCP_USER_TIMEOUT decides, the card passes (exit $rc)" \
	"$([ "$rc" = 0 ] && grep -Eq 'decided_by: "?TCP_USER_TIMEOUT=5000 ms' "$dir/plain" && echo 1)"
rc=$(cat "$dir/shim.rc")
report 2 shim "with the shim: tcp_retries2 decides, the card fails (exit $rc)" \
	"$([ "$rc" = 1 ] && grep -q '^not ok 1 - send-blackhole' "$dir/shim" &&
	  grep -Eq 'decided_by: "?tcp_retries2=' "$dir/shim" && echo 1)"
