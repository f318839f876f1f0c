#!/usr/bin/env python3
"""timing — how far the measured times of timing cases are from the model.

    timing.py [--max-gap-ms 2000] [--json] [--list] [LABEL=]FILE.tap ...

Reads the TAP (tcpfate-vm --tap-out, or a case binary's own output) and, for
every time check of the tcpfate harness (`- {what: ..., expected_ms: E,
lo_ms: L, hi_ms: H, measured_ms: M, error_ms: ..., ...}`) whose expected
value is at most --max-gap-ms (the gaps the harness's timing_error_median
summarises; longer intervals sit on coarse timer-wheel levels whose band is
tens of ms wide and says nothing about latency), reports per LABEL:

  error_ms   measured - expected (the model's band midpoint)
  beyond     how far the measurement lies outside the model's own band,
             i.e. [L + slack, H - slack] with the case's slack_us removed
             again: the latency that the slack (TF_SLACK_US) has to cover.
             0 inside the band, positive = late, negative = early.

and the timing_error_median values of the cases, and the largest guest
stall the VM's monitor saw ("# vm-stalls:", tcpfate-vm).  One table row per LABEL;
with --json one JSON object per LABEL.  Standard library only.
"""
import argparse
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tapmatrix import fold_block_items, parse_tap, split_flow, unquote  # noqa: E402

SLACK_RE = re.compile(r"^\s*slack_us:\s*\"?(\d+)")  # guests quote it: "41388 (TF_SLACK_US)"
TEM_RE = re.compile(r"^\s*timing_error_median:\s*([0-9.]+)")


def checks_of(test):
    slack_us, tem, out = None, None, []
    # checks are block mappings ("- what: ..." then their keys): fold each
    # into the one-line flow form read below
    for ln in fold_block_items(list(test.yaml)):
        m = SLACK_RE.match(ln)
        if m:
            slack_us = int(m.group(1))
        m = TEM_RE.match(ln)
        if m:
            tem = float(m.group(1))
        s = ln.strip()
        if not (s.startswith("- {") and s.endswith("}")):
            continue
        f = {}
        for part in split_flow(s[3:-1]):
            if ":" in part:
                k, v = part.split(":", 1)
                f[k.strip()] = unquote(v)
        if not all(k in f for k in ("expected_ms", "lo_ms", "hi_ms", "measured_ms")):
            continue
        out.append({k: (f[k] if k == "what" else float(f[k]))
                    for k in ("what", "expected_ms", "lo_ms", "hi_ms", "measured_ms",
                              "timer_late_ms") if k in f})
    return slack_us, tem, out


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-gap-ms", type=float, default=2000.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--list", action="store_true", help="also list every check outside the band")
    ap.add_argument("runs", nargs="+", metavar="[LABEL=]FILE")
    args = ap.parse_args()

    rows = []
    for run in args.runs:
        label, sep, path = run.partition("=")
        if not sep:
            label, path = os.path.basename(run).removesuffix(".tap"), run
        errs, beyond, tems, outside, slacks, vm = [], [], [], [], set(), ""
        stall = None
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                for ln in fh:
                    m = re.search(r"^# vm-stalls:.*\bmax_us=(\d+)", ln)
                    if m:
                        stall = max(stall or 0, int(m.group(1)))
        except OSError:
            pass
        for doc in parse_tap(path):
            vm = vm or doc.header.get("vm", "")
            binary = (doc.header.get("binary") or "?").split()[0]
            for t in doc.tests:
                slack_us, tem, checks = checks_of(t)
                if tem is not None:
                    tems.append(tem)
                if slack_us is None:
                    continue
                slacks.add(slack_us)
                s = slack_us / 1000.0
                for c in checks:
                    if c["expected_ms"] > args.max_gap_ms:
                        continue
                    # the timer sentinel's allowance (timer_late_ms) is not band either
                    lo, hi, m = c["lo_ms"] + s, c["hi_ms"] - s - c.get("timer_late_ms", 0.0), c["measured_ms"]
                    b = m - hi if m > hi else (m - lo if m < lo else 0.0)
                    errs.append(m - c["expected_ms"])
                    beyond.append(b)
                    if b:
                        outside.append((f"{binary}: {t.name}: {c['what']}", b, c["expected_ms"], m))
        r = {
            "label": label, "vm": vm, "slack_us": sorted(slacks), "checks": len(errs),
            "error_ms_median": statistics.median(errs) if errs else None,
            "abs_error_ms_p90": pct([abs(e) for e in errs], 0.90) if errs else None,
            "abs_error_ms_max": max(abs(e) for e in errs) if errs else None,
            "outside_band": sum(1 for b in beyond if b),
            "late_beyond_band_ms_max": max([b for b in beyond if b > 0], default=0.0),
            "early_beyond_band_ms_max": -min([b for b in beyond if b < 0], default=0.0),
            "timing_error_median_max": max(tems) if tems else None,
            "guest_stall_ms_max": stall / 1000.0 if stall is not None else None,
            "outside": outside,
        }
        rows.append(r)

    if args.json:
        for r in rows:
            print(json.dumps({k: v for k, v in r.items() if k != "outside" or args.list}))
        return
    def f(x, fmt="{:.1f}"):
        return "-" if x is None else fmt.format(x)
    print("| run | slack_us | gaps <= %g ms | median error ms | p90 abs error ms | max abs error ms "
          "| outside model band | max late beyond band ms | max early beyond band ms "
          "| max timing_error_median | guest stall max ms |" % args.max_gap_ms)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['label']} | {','.join(map(str, r['slack_us'])) or '-'} | {r['checks']} | "
              f"{f(r['error_ms_median'], '{:+.2f}')} | {f(r['abs_error_ms_p90'])} | "
              f"{f(r['abs_error_ms_max'])} | {r['outside_band']} | "
              f"{r['late_beyond_band_ms_max']:.2f} | {r['early_beyond_band_ms_max']:.2f} | "
              f"{f(r['timing_error_median_max'], '{:.3f}')} | {f(r['guest_stall_ms_max'])} |")
    if args.list:
        for r in rows:
            for what, b, e, m in r["outside"]:
                print(f"{r['label']}: {what}: expected {e:.1f} measured {m:.1f} beyond band {b:+.2f} ms")


if __name__ == "__main__":
    main()
