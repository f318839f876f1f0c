#!/usr/bin/env bash
# Where namespaces cannot be made, cases SKIP with the reason, never FAIL:
# run a case as an unmapped uid inside a bare user namespace (`unshare -U`),
# where creating the sandbox is refused.  TAP out.  Usage: test-skip.sh CASE_BINARY
set -u
bin=$1
echo "TAP version 13"
echo "1..1"
if ! command -v unshare >/dev/null || ! unshare -U true 2>/dev/null; then
  echo "ok 1 - blocked sandbox is a skip # SKIP cannot make a user namespace to block one in"
  exit 0
fi
out=$(unshare -U "$bin" --run lost_peer_retries2_3_ipv4 2>&1); st=$?
if [ $st -eq 0 ] && grep -q "^ok 1 - lost_peer_retries2_3_ipv4 # SKIP cannot create" <<<"$out"; then
  echo "ok 1 - blocked sandbox is a skip with its reason"
else
  echo "not ok 1 - blocked sandbox is a skip with its reason"
  echo "  ---"; echo "  status: $st"; echo "  output: |"; sed 's/^/    /' <<<"$out"; echo "  ..."
  exit 1
fi
