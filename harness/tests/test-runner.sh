#!/usr/bin/env bash
# The runner and `tcpfate run` against hostile cases and binaries (TAP).
#   test-runner.sh TCPFATE HOSTILE_BINARY
set -u
tcpfate=$1 hostile=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# its own admission directory: the timer sentinel these runs share is
# theirs alone (another test's would outlive them, and 11-12 look for
# leftovers)
export XDG_RUNTIME_DIR=$tmp/run; mkdir -m 700 "$XDG_RUNTIME_DIR"
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
echo "TAP version 13"
echo "1..17"

# 1-4: the case binary's own TAP under attack
start=$(date +%s%N)
"$hostile" >"$tmp/h.tap" 2>"$tmp/h.err"; rc=$?
dur=$(( ($(date +%s%N) - start) / 1000000 ))
results=$(grep -cE '^(not )?ok [0-9]+ ' "$tmp/h.tap")
ok $([ "$results" = 5 ] && echo 0 || echo 1) "5 results for 5 cases, none forged by case output (got $results)"
# its own duration (from admission: a setup slot may be waited for first,
# under load), not this script's clock
cdur=$(grep -A4 '^not ok 1 ' "$tmp/h.tap" | sed -n 's/^  duration_ms: \([0-9]*\).*/\1/p')
grep -q '^not ok 1 - closes_fds_and_sleeps' "$tmp/h.tap" && grep -A4 '^not ok 1 ' "$tmp/h.tap" | grep -q 'timeout' \
  && [ "${cdur:-99999}" -ge 2000 ] && [ "${cdur:-99999}" -lt 5500 ]
ok $? "a case that closes its pipes still times out (2 s: it ran ${cdur:-?} ms; the binary $dur ms)"
prove -e cat "$tmp/h.tap" >"$tmp/prove.out" 2>&1
grep -q 'Failed 3/5 subtests' "$tmp/prove.out" && ! grep -qi 'yaml\|unsupported\|parse' "$tmp/prove.out"
ok $? "prove reads the stream: 3 of 5 failed, no YAML error"
grep -q '^ok 4 - skips_honestly # SKIP a reason with \\# and \\\\ and ?$' "$tmp/h.tap"
ok $? "skip reason escaped (\\#, \\\\, control characters replaced)"

# 5: exit status
[ $rc = 1 ]; ok $? "exit status 1 when a case failed (got $rc)"

# 6-8: tcpfate run against lying binaries (TF_CASEDIR)
mkdir "$tmp/cases"
{ echo '#!/bin/sh'; echo 'printf "TAP version 13\n1..2\nnot ok 1 - real\n"'
  echo 'head -c 8191 /dev/zero | tr "\0" x; echo "ok 2 - injected"'; } >"$tmp/cases/liar"
{ echo '#!/bin/sh'; echo 'printf "TAP version 13\n1..1\nok 1 - fine\n"'; echo 'kill -9 $$'; } >"$tmp/cases/suicide"
{ echo '#!/bin/sh'; echo 'printf "TAP version 13\n1..1\nok 1 - fine\n"'; } >"$tmp/cases/good"
chmod +x "$tmp"/cases/*
TF_CASEDIR=$tmp/cases "$tcpfate" run >"$tmp/run.out" 2>&1; rc=$?
! grep -q 'injected' "$tmp/run.out"; ok $? "a line longer than any buffer is not split into a result"
grep -q 'liar: plan 1..2, 1 results' "$tmp/run.out"; ok $? "plan checked against results"
grep -q 'suicide killed by signal 9' "$tmp/run.out" && [ $rc = 1 ]; ok $? "a binary killed by a signal is a failure (exit $rc)"

# 9: no shell: --artifacts is one argument, never a command
TF_CASEDIR=$tmp/cases "$tcpfate" run --case good --artifacts "$tmp/a; touch $tmp/pwned" >/dev/null 2>&1
[ ! -e "$tmp/pwned" ]; ok $? "--artifacts with a ; runs no command"

# 10: an unusable artifacts directory is refused up front, no /tmp fallback
"$hostile" --run passes --artifacts /proc/nonexistent/x >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'cannot use artifacts directory' "$tmp/err"; ok $? "unusable --artifacts: exit 2 and a message (got $rc)"

# 11-12: the runner dies with its parent, and its cases with it
bash -c '"$1" --run sleeps_long >/dev/null 2>&1 & wait' _ "$hostile" &
parent=$!
# Started means the case is running: the runner is past main()'s
# PR_SET_PDEATHSIG.  A parent killed before that (while the binary is still
# being loaded, a long time under ASan) cannot be noticed by the runner.
running() { [ "$(pgrep -c -f -- "^$hostile --run sleeps_long")" -ge 3 ]; }  # runner, sentinel, case
for _ in $(seq 300); do running && break; sleep 0.1; done
running; ok $? "runner started, its case running"
kill -9 $parent; wait $parent 2>/dev/null
start=$(date +%s%N) gone=1
for _ in $(seq 100); do   # polling: nothing signals another process's exit to us
  pgrep -f -- "^$hostile" >/dev/null || { gone=0; break; }; sleep 0.1
done
dur=$(( ($(date +%s%N) - start) / 1000000 ))
[ $gone = 0 ]; ok $? "SIGKILL of the runner's parent: nothing of the run left (after $dur ms, deadline 10 s)"
pkill -9 -f -- "^$hostile" 2>/dev/null

# 13: a result file is written through a temporary: a FIFO (or a device) in
# its place is refused and left as it was, never replaced
mkdir "$tmp/j" && mkfifo "$tmp/j/fifo"
"$hostile" --run passes --json "$tmp/j/fifo" >/dev/null 2>&1; rc=$?
[ $rc != 0 ] && [ -p "$tmp/j/fifo" ] && [ "$(ls -A "$tmp/j")" = fifo ]
ok $? "--json onto a FIFO: refused (exit $rc), the FIFO intact, no temporary left"
# 14-15: idle spinners (spin.h): one per CPU when asked, named in the YAML,
# at SCHED_IDLE; none when told not to
TF_IDLE_SPIN=1 "$hostile" --run sleeps_long >/dev/null 2>&1 &
spid=$!
idle=0
for _ in $(seq 300); do
  idle=$(ps -o cls= --ppid $spid 2>/dev/null | grep -c IDL); [ "$idle" -ge "$(nproc)" ] && break; sleep 0.1
done
kill $spid; wait $spid 2>/dev/null
[ "$idle" = "$(nproc)" ]; ok $? "TF_IDLE_SPIN=1: $idle SCHED_IDLE spinners for $(nproc) CPUs"
TF_IDLE_SPIN=1 "$hostile" --run passes 2>/dev/null | grep -q "^  idle_spin: $(nproc)  # " &&
  ! TF_IDLE_SPIN=0 "$hostile" --run passes 2>/dev/null | grep -q idle_spin
ok $? "the spinners are named in the YAML, and absent with TF_IDLE_SPIN=0"
# 16-17: a failure's evidence also on stderr, where meson and prove show it
# (a CI log that said only "exit status 1"); once when both are one file
"$hostile" --run killed_by_signal --run passes >"$tmp/o16" 2>"$tmp/e16"
grep -q '^not ok 1 - killed_by_signal' "$tmp/e16" && grep -q '^  \.\.\.$' "$tmp/e16" &&
  ! grep -q '^ok ' "$tmp/e16" && grep -q '^not ok 1 - killed_by_signal' "$tmp/o16"
ok $? "a failed case's result and YAML on stderr too, a passed one's not"
"$hostile" --run killed_by_signal >"$tmp/o17" 2>&1
[ "$(grep -c '^not ok 1 - killed_by_signal' "$tmp/o17")" = 1 ]
ok $? "stdout and stderr one file: the failure printed once"
exit $failed
