#!/usr/bin/env bash
# The same results in every format tcpfate speaks, each counted by its own
# reader: TAP 13 (TAP::Parser, prove's parser), KTAP (ci/kselftest/
# ktapcheck.py; also the kernel's kunit.py when $TF_KUNIT_DIR names a
# tools/testing/kunit directory), the kselftest runner's output (ci/
# kselftest/ksft-run; the kernel's own run_kselftest.sh when
# $TF_KSELFTEST_DIR names a kselftest install), JSON, the LAVA reporting
# (ci/lava/check) and tcpfate run's report.
#   test-formats.sh SRCDIR BUILDDIR TCPFATE HOSTILE [CASE_BINARY]
# hostile's results are fixed (1 pass, 3 fail of which 1 timeout, 1 skip):
# they must be identical in every run and format.  A real case binary's
# (default BUILDDIR/cases/ports) may differ from run to run under load, so
# its formats are compared within each run (--json beside each format).
set -u
src=$1 build=$2 tcpfate=$3 hostile=$4 real=${5:-$2/cases/ports}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
echo "TAP version 13"

# "pass fail skip" of each reader
tap13() { perl -MTAP::Parser -e '
  my $p = TAP::Parser->new({ source => $ARGV[0] }); 1 while $p->next;
  my $s = scalar $p->skipped; printf "%d %d %d\n", scalar($p->passed) - $s, scalar $p->failed, $s;' "$1"; }
ktap() { python3 "$src/ci/kselftest/ktapcheck.py" --json "$@" | python3 -c '
import json, sys; r = json.load(sys.stdin); k = sys.argv[1]
print(r[k]["pass"], r[k]["fail"], r[k]["skip"]) if not r["errors"] else print("errors:", r["errors"][:3])' "$KEY"; }
jsonc() { python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
cases = [c for b in d["binaries"] if b["result"] for c in b["result"]["cases"]] if "binaries" in d else d["cases"]
st = [c["status"] for c in cases]
print(st.count("pass"), st.count("fail") + st.count("timeout") + st.count("error"), st.count("skip"))' "$1"; }
kunit() { python3 "$TF_KUNIT_DIR/kunit.py" parse "$1" 2>&1 | sed -n 's/.*Ran [0-9]* tests\{0,1\}: passed: \([0-9]*\)\(, failed: \([0-9]*\)\)\{0,1\}\(, skipped: \([0-9]*\)\)\{0,1\}.*/\1 \3 \5/p' | awk '{ print $1, $2 + 0, $3 + 0 }'; }

ksdir=$tmp/kselftest
mkdir -p "$ksdir"
: >"$ksdir/kselftest-list.txt"
TF_BUILDDIR=$build "$src/ci/kselftest/install" --binary "$hostile" ${real:+--binary "$real"} "$ksdir" 2>"$tmp/install.err"
rc=$?; [ $rc = 0 ] || cat "$tmp/install.err" >&2
ok $rc "ci/kselftest/install: a collection of hostile${real:+ and ${real##*/}}"

all_hostile=()
for bin in "$hostile" "$real"; do
  [ -x "$bin" ] || { ok 0 "# SKIP no $bin"; continue; }
  b=${bin##*/}
  # one run: TAP 13 and JSON
  "$bin" --json "$tmp/$b.a.json" >"$tmp/$b.tap" 2>/dev/null; rc_tap=$?
  t=$(tap13 "$tmp/$b.tap"); j=$(jsonc "$tmp/$b.a.json")
  [ "$t" = "$j" ]; ok $? "$b: TAP 13 (TAP::Parser) $t = JSON $j (pass fail skip)"
  # one run: KTAP and JSON
  "$bin" --ktap --json "$tmp/$b.b.json" >"$tmp/$b.ktap" 2>/dev/null; rc_ktap=$?
  k=$(KEY=leaves ktap "$tmp/$b.ktap"); j2=$(jsonc "$tmp/$b.b.json")
  [ "$k" = "$j2" ]; ok $? "$b: KTAP (structure, plan, Totals) $k = JSON $j2"
  # exit status: 1 when a case failed, else 0, in either format (each run
  # against its own counts: a real case may fail in one run under load)
  set -- $j "?" "?" "?"; w1=$([ "$2" = 0 ] && echo 0 || echo 1)
  set -- $j2 "?" "?" "?"; w2=$([ "$2" = 0 ] && echo 0 || echo 1)
  [ "$rc_tap" = "$w1" ] && [ "$rc_ktap" = "$w2" ]
  ok $? "$b: exit status follows the failures, TAP 13 $rc_tap (want $w1), KTAP $rc_ktap (want $w2)"
  if [ -n "${TF_KUNIT_DIR:-}" ]; then
    u=$(kunit "$tmp/$b.ktap")
    [ "$u" = "$j2" ]; ok $? "$b: kunit.py parse $u = JSON $j2"
  fi
  # one run: the kselftest runner (the JSON through KSELFTEST_<NAME>_ARGS,
  # as the kernel's runner passes arguments)
  var=KSELFTEST_$(echo "$b" | tr a-z A-Z | tr -c 'A-Z0-9_\n' _)_ARGS
  echo "tcpfate:$b" >"$ksdir/kselftest-list.txt"
  env "$var=--json $tmp/$b.c.json" "$src/ci/kselftest/ksft-run" "$ksdir" tcpfate >"$tmp/$b.ksft" 2>&1
  s=$(KEY=nested ktap --prefix "$tmp/$b.ksft"); j3=$(jsonc "$tmp/$b.c.json")
  [ "$s" = "$j3" ]; ok $? "$b: kselftest runner, the binary's KTAP under '# ' $s = JSON $j3"
  set -- $j3 "?" "?" "?"
  if [ "$2" != 0 ]; then want="not ok 1 selftests: tcpfate: $b # exit=1"
  elif [ "$1" = 0 ] && [ "$3" != 0 ]; then want="ok 1 selftests: tcpfate: $b # SKIP"
  else want="ok 1 selftests: tcpfate: $b"; fi
  grep -qxF "$want" "$tmp/$b.ksft"; ok $? "$b: runner's line '$want' (kselftest exit codes)"
  l=$(KEY=linaro ktap --prefix "$tmp/$b.ksft")
  set -- $j3 "?" "?" "?"
  top=$( [ "$2" != 0 ] && echo "0 1 0" || { [ "$1" = 0 ] && [ "$3" != 0 ] && echo "0 0 1"; } || echo "1 0 0")
  want_l=$(echo "$j3 $top" | awk '{ print $1 + $4, $2 + $5, $3 + $6 }')
  [ "$l" = "$want_l" ]; ok $? "$b: Linaro's regex reads every case and the binary: $l = $want_l"
  lt=$(KEY=linaro_tappy ktap --prefix "$tmp/$b.ksft")
  [ "$lt" = "$want_l" ]; ok $? "$b: no diagnostic reads as a result once its '#'s and blanks are stripped (Linaro's tap.py parser): $lt = $want_l"
  python3 "$src/ci/lava/check" "$tmp/$b.ksft" >"$tmp/$b.lava" 2>&1
  ok $? "$b: ci/lava/check (the definition; one lava-test-case per result line) $(grep '^not ok' "$tmp/$b.lava" | head -3)"
  # what ci/vm/matrix keeps of this run (tcpfate-vm --tap-out) and its JSON
  mkdir -p "$tmp/set"
  { echo "# kernel: $(uname -r)"; echo "# binary: $b"; cat "$tmp/$b.tap"; echo "# exit: $rc_tap"; } >>"$tmp/set.tap"
  cp "$tmp/$b.a.json" "$tmp/set/$b.json"
  if [ "$bin" = "$hostile" ]; then
    for x in "$t" "$k" "$s" "$j" "$j2" "$j3"; do all_hostile+=("$x"); done
  fi
done

# the table ci/vm/matrix builds from a kernel's TAP, and ci/merge from the
# same run's JSON, are one table
python3 "$src/ci/vm/tapmatrix.py" "k=$tmp/set.tap" >"$tmp/tap.md"
"$src/ci/merge" "k=$tmp/set" >"$tmp/json.md"
diff "$tmp/tap.md" "$tmp/json.md" >"$tmp/md.diff"
ok $? "behaviour x kernel table: from the TAP = from the JSON of the same run ($(wc -l <"$tmp/json.md") lines) $(head -c 300 "$tmp/md.diff")"

# hostile: the same fixed counts everywhere
same=0
for x in "${all_hostile[@]}"; do [ "$x" = "1 3 1" ] || same=1; done
ok $same "hostile: 1 pass, 3 fail, 1 skip in every run and format (${all_hostile[*]})"

# kselftest's skip: exit 4 when every case skipped, and the runner's SKIP
"$hostile" --kselftest --run skips_honestly >"$tmp/skip.ktap" 2>/dev/null; rc=$?
[ $rc = 4 ]; ok $? "--kselftest: exit 4 when every case skipped (got $rc)"
"$hostile" --ktap --run skips_honestly >/dev/null 2>&1; rc=$?
[ $rc = 0 ]; ok $? "--ktap alone: exit 0 when every case skipped (got $rc)"
echo "tcpfate:hostile" >"$ksdir/kselftest-list.txt"
KSELFTEST_HOSTILE_ARGS="--run skips_honestly" "$src/ci/kselftest/ksft-run" "$ksdir" tcpfate >"$tmp/skip.ksft"
grep -qx "ok 1 selftests: tcpfate: hostile # SKIP" "$tmp/skip.ksft"; ok $? "runner reads the all-skipped binary as SKIP"

# settings: the collection's timeout covers the longest binary
t=$(sed -n 's/^timeout=//p' "$ksdir/tcpfate/settings")
mx=$("$hostile" --max-time)
[ -n "$t" ] && [ "$t" -ge "$mx" ]; ok $? "settings timeout=$t >= hostile --max-time $mx"

# tcpfate run: KTAP with a subtest per binary, JSON, and the report
mkdir "$tmp/cases"
ln -s "$(cd "$(dirname "$hostile")" && pwd)/${hostile##*/}" "$tmp/cases/"
[ -x "$real" ] && ln -s "$(cd "$(dirname "$real")" && pwd)/${real##*/}" "$tmp/cases/"
TF_CASEDIR=$tmp/cases "$tcpfate" run --ktap --json "$tmp/run.json" >"$tmp/run.ktap" 2>"$tmp/run.err"
k=$(KEY=leaves ktap "$tmp/run.ktap"); j=$(jsonc "$tmp/run.json")
[ "$k" = "$j" ]; ok $? "tcpfate run --ktap: nested KTAP $k = its JSON $j"
grep -q '^  # Subtest: hostile$' "$tmp/run.ktap" && grep -q '^not ok 1 hostile$' "$tmp/run.ktap"
ok $? "tcpfate run --ktap: '# Subtest:' and the binary's own result line"
if [ -n "${TF_KUNIT_DIR:-}" ]; then
  u=$(kunit "$tmp/run.ktap"); [ "$u" = "$j" ]; ok $? "tcpfate run --ktap: kunit.py parse $u = JSON $j"
fi
TF_CASEDIR=$tmp/cases "$tcpfate" run --json "$tmp/run2.json" >"$tmp/run2.out" 2>&1
r=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$tmp/run2.out")
j=$(jsonc "$tmp/run2.json")
[ "$r" = "$j" ]; ok $? "tcpfate run report $r = its JSON $j"
left=$(find "$tmp" -maxdepth 1 -name '.tcpfate-json.*' -o -maxdepth 1 -name 'run*.json.*' | wc -l)
[ "$left" = 0 ]; ok $? "no temporary left beside the JSON ($left)"
python3 "$src/ci/vm/tapmatrix.py" "host=$tmp/run2.json" >"$tmp/m.md" && grep -q '^|  | hostile: skips_honestly | skip' "$tmp/m.md"
ok $? "ci/merge's reader builds the table from tcpfate run's JSON"

# the KTAP reader itself rejects what kunit.py would misread
bad=0
for stream in 'KTAP version 1\n1..2\nok 1 a\n' 'KTAP version 1\n1..1\nok 2 a\n' \
    'KTAP version 1\n1..1\nok 1 a # SKIP\n# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0\n' \
    'KTAP version 1\n1..1\n  KTAP version 1\n  # Subtest: x\n  1..1\n  not ok 1 c\nok 1 x\n' \
    'KTAP version 1\n1..1\n  KTAP version 1\n  # Subtest: x\n  1..1\n  ok 1 c\nok 1 y\n' \
    'KTAP version 1\n1..1\nok 1 a\nstray\n' 'TAP version 13\n1..1\nok 1 a\n'; do
  printf "$stream" | python3 "$src/ci/kselftest/ktapcheck.py" - >/dev/null 2>&1 && { bad=1; printf 'accepted: %s\n' "$stream" >&2; }
done
printf 'KTAP version 1\n1..1\n  KTAP version 1\n  # Subtest: x\n  1..1\n  ok 1 c # SKIP r\nok 1 x\n' |
  python3 "$src/ci/kselftest/ktapcheck.py" - >/dev/null || bad=1
ok $bad "ktapcheck.py rejects short plans, misnumbering, wrong Totals, an ok parent of a failure, a subtest closed by another name, unknown lines, TAP 13 outside --prefix; accepts a good nest"

# bad input: clear message, exit 2
"$hostile" --json "" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc = 2 ]; ok $? "--json '': exit 2 (got $rc)"
"$hostile" --run passes --json /proc/nonexistent/x.json >/dev/null 2>"$tmp/e"; rc=$?
[ $rc = 2 ] && grep -q 'cannot write' "$tmp/e"; ok $? "--json in a directory that cannot be written: exit 2 and a message (got $rc)"

# the kernel's own runner, when a kselftest install is given
if [ -n "${TF_KSELFTEST_DIR:-}" ] && [ -x "$real" ]; then
  cp -r "$TF_KSELFTEST_DIR/run_kselftest.sh" "$TF_KSELFTEST_DIR/kselftest" "$ksdir/"
  echo "tcpfate:${real##*/}" >"$ksdir/kselftest-list.txt"
  b=${real##*/}
  var=KSELFTEST_$(echo "$b" | tr a-z A-Z | tr -c 'A-Z0-9_\n' _)_ARGS
  (cd "$ksdir" && env "$var=--json $tmp/k.json" ./run_kselftest.sh -c tcpfate 2>&1 | cat) >"$tmp/k.out"
  s=$(KEY=nested ktap --prefix "$tmp/k.out"); j=$(jsonc "$tmp/k.json")
  [ "$s" = "$j" ]; ok $? "run_kselftest.sh -c tcpfate: $s = JSON $j"
fi
echo "1..$n"
exit $failed
