#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A card's TAP passes prove, and TAP::Parser reads every row's YAML block
# (block form, escaped scalars).  Rows the python client meets under the
# example policy, the netem ones (SKIP without sch_netem), and one a
# hostile client makes (output with '#', quotes, control characters).
# Env: TCPFATE PYTHON3 CARD_DIR.
set -u
echo "TAP version 13"
echo "1..4"
dir=$(mktemp -d) || exit 1
trap 'rm -rf -- "$dir"' EXIT
"$TCPFATE" card --tap --policy "$CARD_DIR/policy.txt" \
	--faults connect-silent,idle-blackhole,server-kill,loss,pooled-blackhole \
	--waiting-on 'line:request sent' --limit 17 \
	--server "$PYTHON3 $CARD_DIR/card_server.py 8080" --wait-server 8080 \
	--client "$PYTHON3 $CARD_DIR/py_client.py server 8080 --connect-timeout 3 --user-timeout 5000 --keepalive 2,1,3 --idle 0; rc=\$?; printf '# not ok 99 \"\\\\\\001\\n'; exit \$rc" \
	>"$dir/card.tap" 2>"$dir/err"
rc=$?
if [ $rc = 0 ]; then echo "ok 1 - the card exits 0"; else
	echo "not ok 1 - the card exits 0 (exit $rc)"; sed 's/^/# /' "$dir/card.tap" "$dir/err"; fi
if prove -e cat "$dir/card.tap" >"$dir/prove" 2>&1; then echo "ok 2 - prove passes the card's TAP"
else echo "not ok 2 - prove passes the card's TAP"; sed 's/^/# /' "$dir/prove"; fi
# every test line has a YAML block that TAP::Parser decodes into a hash
perl -MTAP::Parser -e '
	my $p = TAP::Parser->new({ source => $ARGV[0] });
	my ($tests, $yaml) = (0, 0);
	while (my $r = $p->next) {
		$tests++ if $r->is_test;
		$yaml++ if $r->is_yaml && ref($r->data) eq "HASH" && defined $r->data->{row};
		print "# ", $r->as_string, "\n" if $r->is_unknown;
	}
	exit($tests == 5 && $yaml == 5 && !$p->parse_errors ? 0 : 1);
' "$dir/card.tap" >"$dir/perl" 2>&1
if [ $? = 0 ]; then echo "ok 3 - TAP::Parser reads 5 rows, each with its YAML"; else
	echo "not ok 3 - TAP::Parser reads 5 rows, each with its YAML"; sed 's/^/# /' "$dir/perl"; fi
# the client's hostile last line reaches the YAML escaped, never raw (exec
# itself turns the control character into '?' or an escape)
if ! grep -q $'\x01' "$dir/card.tap" && ! grep -q '^# not ok 99' "$dir/card.tap" &&
   grep -qF 'last_output: "# not ok 99 \"\\' "$dir/card.tap"; then
	echo "ok 4 - a client's output is escaped in the YAML"
else
	echo "not ok 4 - a client's output is escaped in the YAML"; grep -n 'last_output' "$dir/card.tap" | sed 's/^/# /'
fi
