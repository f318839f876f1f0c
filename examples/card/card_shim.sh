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
run() {  # $1: prefix of the client command; output in $dir/out
	"$TCPFATE" card --tap --faults send-blackhole --limit 12 \
		--policy-rule 'dead-peer-sending <= 10s' \
		--server "$PYTHON3 $CARD_DIR/card_server.py 8080" --wait-server 8080 \
		--client "$1$client" >"$dir/out" 2>"$dir/err"
}
report() {  # $1 number, $2 description, $3 ok?
	if [ "${3:-}" = 1 ]; then echo "ok $1 - $2"; else
		echo "not ok $1 - $2"
		sed 's/^/# /' "$dir/out" "$dir/err"
	fi
}
run ""
rc=$?
report 1 "without the shim: TCP_USER_TIMEOUT decides, the card passes (exit $rc)" \
	"$([ $rc = 0 ] && grep -q 'decided_by: "TCP_USER_TIMEOUT=5000 ms"' "$dir/out" && echo 1)"
run "env LD_PRELOAD=$SHIM "
rc=$?
report 2 "with the shim: tcp_retries2 decides, the card fails (exit $rc)" \
	"$([ $rc = 1 ] && grep -q '^not ok 1 - send-blackhole' "$dir/out" &&
	  grep -q 'decided_by: "tcp_retries2=' "$dir/out" && echo 1)"
