#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bad flags and policies: exit 2, a message on stderr naming the problem,
# nothing on stdout, no row run.  $1: the tcpfate binary.
set -u
t=$1
dir=$(mktemp -d) || exit 1
trap 'rm -rf -- "$dir"' EXIT
printf 'connect <= 5s\nconect <= 3s\n' >"$dir/typo.policy"
cases=(
	"no client|give the client|card --policy-rule never-hang"
	"two clients|once|card -c x --policy-rule never-hang -- y"
	"no policy|no policy|card -c x"
	"unknown class|unknown class|card -c x --policy-rule foo<=3s"
	"zero bound|duration|card -c x --policy-rule connect<=0s"
	"bad unit|duration|card -c x --policy-rule connect<=5parsecs"
	"typo in a file|unknown class 'conect'|card -c x --policy $dir/typo.policy"
	"missing file|cannot read|card -c x --policy $dir/nonexistent"
	"unknown row|unknown row|card -c x --policy-rule never-hang --faults send-blackhole,nope"
	"bad event|not at:SECONDS|card -c x --policy-rule never-hang --busy-on soon"
	"bad at|seconds|card -c x --policy-rule never-hang --waiting-on at:-1"
	"limit below a bound|longer than|card -c x --policy-rule connect<=20s --limit 10"
	"bad jobs|--jobs|card -c x --policy-rule never-hang --jobs 0"
	"bad port|port|card -c x --policy-rule never-hang --wait-server 70000"
	"bad sysctl|net.KEY|card -c x --policy-rule never-hang --client-sysctl kernel.x=1"
	"bad server sysctl|--server-sysctl|card -c x --policy-rule never-hang --server-sysctl kernel.x=1"
	"out not a dir|not a directory|card -c x --policy-rule never-hang --out $dir/nonexistent"
	"unknown option|unknown option|card -c x --policy-rule never-hang --frobnicate"
	"stray argument|unexpected argument|card -c x --policy-rule never-hang stray"
)
echo "TAP version 13"
echo "1..$((${#cases[@]} + 2))"
i=0
for c in "${cases[@]}"; do
	i=$((i + 1))
	IFS='|' read -r name want args <<<"$c"
	# shellcheck disable=SC2086
	"$t" $args >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ $rc = 2 ] && [ ! -s "$dir/out" ] && grep -qF -- "$want" "$dir/err"; then
		echo "ok $i - $name: exit 2, '$want'"
	else
		echo "not ok $i - $name: exit $rc (want 2 and '$want' on stderr)"
		sed 's/^/# /' "$dir/out" "$dir/err"
	fi
done
i=$((i + 1))
"$t" card --help >"$dir/out" 2>&1
if [ $? = 0 ] && grep -q 'dead-peer-sending' "$dir/out"; then echo "ok $i - --help: exit 0"
else echo "not ok $i - --help: exit 0"; fi
# A connect row needs a connect: a client that ends without a SYN after the
# fault (here: false) is no PASS for "connect <= 5s" (it was one).
i=$((i + 1))
"$t" card --faults connect-silent --policy-rule 'connect<=5s' -- /bin/false >"$dir/out" 2>"$dir/err"
rc=$?
if grep -q '^connect-silent .*ERROR' "$dir/out" && grep -q 'without a SYN' "$dir/out" && [ $rc != 0 ]; then
	echo "ok $i - a client that never connects: ERROR, not PASS (exit $rc)"
else
	echo "not ok $i - a client that never connects: exit $rc"; sed 's/^/# /' "$dir/out" "$dir/err"
fi
