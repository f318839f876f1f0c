#!/usr/bin/env bash
# ci/vm/timing.py reads the gaps of a guest's stream as of the host's (TAP).
# A guest's slack_us is quoted ("41388 (TF_SLACK_US)"): it was read as none,
# and every guest gap was dropped.
set -u
timing=$(dirname "$0")/../timing.py
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
gap() {  # slack_us line, then one gap check
  printf 'TAP version 13\n1..1\nok 1 - c\n  ---\n  %s\n  checks:\n' "$1"
  printf '    - what: "outage #2 rto gap"\n      expected_ms: 208.000\n      lo_ms: 166.612\n'
  printf '      hi_ms: 249.388\n      measured_ms: 240.000\n      ok: true\n  ...\n'
}
gap 'slack_us: "41388 (TF_SLACK_US)"' >"$tmp/guest.tap"
gap 'slack_us: 6000  # 1 jiffy + 2 ms, added to every band' >"$tmp/host.tap"
echo "TAP version 13"; echo "1..2"
python3 "$timing" --json guest="$tmp/guest.tap" host="$tmp/host.tap" >"$tmp/out" 2>&1
n=$(python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print(" ".join(str(r["checks"]) for r in rows))' "$tmp/out" 2>/dev/null)
[ "$n" = "1 1" ] && echo "ok 1 - one gap read from the guest's stream and one from the host's" ||
  { echo "not ok 1 - gaps read: '$n'"; cat "$tmp/out" | sed 's/^/# /'; }
# 240 ms lies inside [166.6 + 41.4, 249.4 - 41.4]? no: 240 > 208.0 → 32 ms beyond for the guest
python3 -c 'import json,sys
rows={r["label"]: r for r in (json.loads(l) for l in open(sys.argv[1]) if l.startswith("{"))}
g=rows["guest"]; sys.exit(0 if g["slack_us"]==[41388] and abs(g["late_beyond_band_ms_max"]-32.0) < 0.01 else 1)' "$tmp/out" \
  && echo "ok 2 - the guest's own slack is taken out again (32.0 ms beyond its band)" \
  || echo "not ok 2 - guest slack or beyond-band wrong"
