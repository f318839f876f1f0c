#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run a TAP producer, pass its stream through, then make sure prove
# (TAP::Parser and its YAMLish reader) reads it without a parse error and
# to the same verdict as the producer's exit status (0 pass, 1 fail).  A
# stream meson accepts but prove cannot read fails here (exit 1).
# Usage: tap_prove.sh PROGRAM [ARG...]
set -u
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
"$@" >"$tmp"
st=$?
cat "$tmp"
command -v prove >/dev/null 2>&1 || exit $st
out=$(prove -e cat "$tmp" 2>&1)
if printf '%s\n' "$out" | grep -q 'Parse errors'; then
	echo "tap_prove: prove cannot parse this stream:" >&2
	printf '%s\n' "$out" >&2
	exit 1
fi
case $out in
*"Result: PASS"*) pv=0 ;;
*) pv=1 ;;
esac
if { [ "$st" -eq 0 ] && [ $pv -ne 0 ]; } || { [ "$st" -eq 1 ] && [ $pv -eq 0 ]; }; then
	echo "tap_prove: prove's verdict ($out) differs from exit status $st" >&2
	exit 1
fi
exit $st
