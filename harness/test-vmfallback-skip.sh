#!/usr/bin/env bash
# Where the sandbox is blocked and the VM fallback cannot run either, each
# case SKIPs with both reasons, the second naming the fix; nothing boots.
# The block: an unmapped uid in a bare user namespace (`unshare -U`).
# TAP out.  Usage: test-vmfallback-skip.sh CASE_BINARY
set -u
bin=$1
echo "TAP version 13"
echo "1..3"
if ! command -v unshare >/dev/null || ! unshare -U true 2>/dev/null; then
  for i in 1 2 3; do echo "ok $i - no fallback # SKIP cannot make a user namespace to block one in"; done
  exit 0
fi
UNSHARE=$(command -v unshare)
n=0
try() { # try NAME EXPECTED-REGEX ENV...
  local name=$1 want=$2 out st
  shift 2
  n=$((n + 1))
  out=$(env "$@" TF_VM_DIR="$tmp" "$UNSHARE" -U "$bin" --run lost_peer_retries2_3_ipv4 2>&1); st=$?
  if [ $st -eq 0 ] && grep -qE "^ok 1 - lost_peer_retries2_3_ipv4 # SKIP cannot create.*; no VM fallback: $want" <<<"$out"; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name"
    echo "  ---"; echo "  status: $st"; echo "  output: |"; sed 's/^/    /' <<<"$out"; echo "  ..."
  fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 777 "$tmp" # the unmapped uid makes its own 0700 directory in it
tmp=$tmp/d
try "TF_VM_FALLBACK=0: skip says it is disabled" "disabled by TF_VM_FALLBACK=0" TF_VM_FALLBACK=0
try "no qemu: skip names the package" "no qemu-system-x86_64: apt-get install qemu-system-x86" \
  PATH=/nonexistent TF_VM_SCRIPT=/bin/true
try "no VM runner: skip names TF_VM_SCRIPT" "no VM runner at /nonexistent/tcpfate-vm: set TF_VM_SCRIPT" \
  TF_VM_SCRIPT=/nonexistent/tcpfate-vm
