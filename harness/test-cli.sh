#!/usr/bin/env bash
# Bad input to the harness: a clear message on stderr and exit status 2,
# never a crash.  TAP out.  Usage: test-cli.sh TCPFATE CASE_BINARY
set -u
tcpfate=$1 case_bin=$2
n=0 failed=0
check() {  # check DESCRIPTION WANT_STATUS WANT_STDERR_REGEX CMD...
  local desc=$1 want=$2 re=$3; shift 3
  local err st
  err=$("$@" 2>&1 >/dev/null); st=$?
  n=$((n + 1))
  if [ "$st" -eq "$want" ] && [[ $err =~ $re ]]; then echo "ok $n - $desc"
  else echo "not ok $n - $desc"; echo "  ---"; echo "  status: $st (want $want)"
       echo "  stderr: \"${err//\"/\\\"}\""; echo "  ..."; failed=$((failed + 1)); fi
}
echo "TAP version 13"
echo "1..12"
check "tcpfate without a command" 2 "Usage" "$tcpfate"
check "tcpfate unknown command" 2 "unknown command 'frobnicate'" "$tcpfate" frobnicate
check "tcpfate run --suite bogus" 2 "fast, slow or all" "$tcpfate" run --suite bogus
check "tcpfate run --case missing" 2 "no case binary 'nope'" "$tcpfate" run --case nope
check "tcpfate run stray argument" 2 "unexpected argument" "$tcpfate" run extra
check "tcpfate model unknown schedule" 2 "." "$tcpfate" model frobnicate
check "tcpfate model bad number" 2 "." "$tcpfate" model retrans --retries2 abc
check "tcpfate model out of range" 2 "." "$tcpfate" model retrans --hz 7
check "case binary unknown option" 2 "Usage" "$case_bin" --frobnicate
check "case binary unknown case" 2 "no case named 'nope'" "$case_bin" --run nope
check "case binary --slow with --all" 2 "exclude each other" "$case_bin" --slow --all
check "case binary stray argument" 2 "unexpected argument" "$case_bin" extra
exit $((failed > 0))
