#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The program under test cannot forge tcpfate exec's TAP, nor break its YAML.
# Each check runs `tcpfate exec` with a hostile client (its command line or
# its output), keeps the stream in a file, and checks it: with prove (TAP
# 13 + YAMLish: no parse error, prove's verdict is tcpfate's) and, where
# python3 has the yaml module, with a strict YAML parser.  TAP out.
# Usage: exec_hostile.sh TCPFATE
set -u
tcpfate=$1
n=0 failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

have_prove=no have_yaml=no
command -v prove >/dev/null 2>&1 && have_prove=yes
py=${PYTHON:-python3}
"$py" -c "import yaml" >/dev/null 2>&1 && have_yaml=yes

if "$tcpfate" exec --fault none --at 0 --expect-status 0 --client true 2>/dev/null | grep -q '# SKIP'; then
	echo "1..0 # SKIP no sandbox here"
	exit 0
fi

ok() {  # ok DESCRIPTION [DIAGNOSTIC...]
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {  # not_ok DESCRIPTION DIAGNOSTIC
	n=$((n + 1))
	failed=$((failed + 1))
	{
		echo "not ok $n - $1"
		echo "  ---"
		echo "  message: |"
		printf '%s\n' "$2" | sed 's/^/    /' | LC_ALL=C tr -c '\n -~' '?'
		echo "  stream: |"
		sed 's/^/    /' "$tmp/out" | LC_ALL=C tr -c '\n -~' '?' | cut -c1-200 | head -n 60
		echo "  ..."
	} | tee /dev/stderr  # stderr: meson prints it for a failed TAP test
}

# run ARGS... -> $tmp/out, $st
run() {
	"$tcpfate" exec "$@" >"$tmp/out" 2>"$tmp/err"; st=$?
}

# prove_says: PASS or FAIL, from prove -e cat; "PARSE: ..." on parse errors.
prove_says() {
	local o
	o=$(prove -e cat "$tmp/out" 2>&1)
	if grep -q 'Parse errors' <<<"$o"; then
		echo "PARSE: $(grep -A3 'Parse errors' <<<"$o" | tr '\n' ' ')"
	elif grep -q '^Result: PASS' <<<"$o"; then
		echo PASS
	else
		echo FAIL
	fi
}

# yaml_ok: the YAML block of the stream loads with a strict parser.
yaml_ok() {
	"$py" - "$tmp/out" <<'EOF'
import sys, yaml
raw = open(sys.argv[1], 'rb').read()
text = raw.decode('utf-8')            # invalid UTF-8 fails here
lines = text.split('\n')
start = lines.index('  ---')
end = lines.index('  ...', start)
doc = yaml.safe_load('\n'.join(l[2:] for l in lines[start + 1:end]))
assert isinstance(doc, dict), doc
for l in lines:
    assert not any(ord(c) < 0x20 and c != '\t' for c in l), repr(l)
print(repr(doc.get('client_output')))
EOF
}

# check_stream DESCRIPTION WANT(PASS|FAIL): prove's and the strict parser's view
check_stream() {
	local desc=$1 want=$2 p y
	if [ "$have_prove" = yes ]; then
		p=$(prove_says)
		if [ "$p" != "$want" ]; then
			not_ok "$desc: prove says $want" "prove: $p (tcpfate exit $st)"
			return 1
		fi
	fi
	if [ "$have_yaml" = yes ] && ! y=$(yaml_ok 2>&1); then
		not_ok "$desc: strict YAML" "$y"
		return 1
	fi
	if [ "$have_prove" = yes ]; then
		ok "$desc: prove says $want"
	else
		ok "$desc # SKIP prove not found"
	fi
	return 0
}

echo "TAP version 13"
echo "1..10"

# 1. A '# TODO' in the client command must not turn a failure into a TODO.
run --fault blackhole --on 'line:never printed' --client 'exit 3 # todo: retry'
check_stream "a TODO directive in the client command stays a failure" FAIL

# 2. A newline in the client command must not add a TAP line.
run --fault blackhole --on 'line:never printed' --client 'exit 3
ok 2 - forged'
if grep -q '^ok 2' "$tmp/out" || [ "$(grep -cE '^(not )?ok ' "$tmp/out")" -ne 1 ]; then
	not_ok "a newline in the client command adds no TAP line" "result lines: $(grep -cE '^(not )?ok ' "$tmp/out")"
else
	check_stream "a newline in the client command adds no TAP line" FAIL
fi

# 3. Hostile output: CR, NUL, NEL, invalid UTF-8, TAP-looking lines, YAML
#    markers, a first line that starts with spaces, an empty line.
hostile='printf "   starts with spaces\n\nok 5 - x\n# SKIP\n...\n---\ncr\rhere\nnul\000here\nnel\302\205here\nbad\377\376utf8\nlone\300\n\tstarts with a tab\nkey: value # not a comment\n\"quoted\n"'
run --fault none --at 0 --expect-status 0 --client "$hostile"
if [ "$st" -ne 0 ]; then
	not_ok "hostile client output: exit 0" "exit $st: $(cat "$tmp/err")"
else
	check_stream "hostile client output (CR, NUL, NEL, invalid UTF-8, 'ok 5', a SKIP directive, '...')" PASS
fi

# 4. The same as the server's output, shown when the run fails.
run --server "$hostile; exec sleep 60" --no-wait-server --fault none --at 0 --expect-status 0 \
	--client 'exit 1'
check_stream "hostile server output in a failing run" FAIL

# 5. An output line over the line buffer (5000 bytes) is kept whole, in
#    pieces, and the other stream's partial line survives it.
run --fault none --at 0 --expect-status 0 --client \
	'printf abc >&2; sleep 0.3; head -c 5000 /dev/zero | tr "\0" x; echo; sleep 0.3; echo def >&2'
xs=$(grep -E '^    x+$' "$tmp/out" | tr -d ' \n' | wc -c)
if [ "$st" -eq 0 ] && [ "$xs" -eq 5000 ] && grep -q '^    abcdef$' "$tmp/out"; then
	check_stream "a 5000-byte output line: all 5000 bytes kept, the other stream intact" PASS
else
	not_ok "a 5000-byte output line: all 5000 bytes kept, the other stream intact" \
		"exit $st, $xs of 5000 bytes, abcdef: $(grep -c abcdef "$tmp/out")"
fi

# 6. A skip reason and paths with '#' and ': ' stay scalars.
mkdir -p "$tmp/a # b: c"
run --fault none --at 0 --expect-status 0 --pcap "$tmp/a # b: c/x.pcap" --client 'echo hi'
check_stream "a --pcap path with a hash and a colon" PASS

# 7. Client sysctls, socket options, knobs, checks: block YAML (an idle
#    keepalive client, with the model; its timing is the examples' job).
if command -v python3 >/dev/null 2>&1; then
	run --server "python3 $(dirname "$0")/sink_server.py 8080" --wait-server 8080 \
		--client-sysctl net.ipv4.tcp_keepalive_time=1 --client-sysctl net.ipv4.tcp_keepalive_intvl=1 \
		--client-sysctl net.ipv4.tcp_keepalive_probes=2 \
		--fault blackhole --on 'line:request sent' --model --expect-exit-within 30 \
		--client "python3 $(dirname "$0")/idle_client.py server 8080 --keepalive"
	if [ "$st" -ne 0 ]; then
		not_ok "keepalive run with the model: exit 0" "exit $st: $(cat "$tmp/err")"
	else
		check_stream "a run with the model (knobs, socket options, checks)" PASS
	fi
	# The band's slack is the runner's: 1 jiffy + 2 ms, stated.
	hz=$(sed -n 's/^  hz: //p' "$tmp/out")
	slack=$(sed -n 's/^    slack_us: \([0-9]*\).*/\1/p' "$tmp/out")
	if [ -n "$hz" ] && [ "$hz" -gt 0 ] && [ "${slack:-x}" = $((1000000 / hz + 2000)) ]; then
		ok "the model's band slack is 1 jiffy + 2 ms ($slack us at HZ=$hz), stated"
	else
		not_ok "the model's band slack is 1 jiffy + 2 ms, stated" "hz '$hz', slack_us '$slack'"
	fi
else
	ok "a run with the model # SKIP python3 not found"
	ok "the model's band slack # SKIP python3 not found"
fi

# 8. A newline in a --client-sysctl value is refused; the key is echoed safely.
run --fault none --at 0 --expect-status 0 --client-sysctl 'net.ipv4.tcp_retries2=5' --client 'exit 0'
check_stream "client sysctls as a block sequence" PASS

# 9. Output whose first line starts with blanks: a literal block would need
#    an indentation indicator YAMLish cannot read; the text survives as is.
run --fault none --at 0 --expect-status 0 --client 'printf "  indented first\nsecond\n"'
if [ "$have_yaml" = yes ] && [ "$(yaml_ok 2>&1)" != "'  indented first\nsecond\n'" ]; then
	not_ok "output whose first line starts with blanks: kept as is" "$(yaml_ok 2>&1)"
else
	check_stream "output whose first line starts with blanks" PASS
fi

exit $((failed > 0))
