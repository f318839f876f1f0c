#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The evidence of a failed case in a `tcpfate run --json` document: each
failed check with every field, and the allowances and stalls the run
measured itself (slack, wake-up latency, timer sentinel).  ci/stress prints
it under a failed run, so a flake in CI leaves more than its one line.

  stress-evidence.py RESULTS.json
"""
import json
import sys

KEYS = ("slack_us", "wakeup_latency_max_us", "timer_allowance_us", "timer_sentinel",
        "answer_processing_us", "rq_wait_us")


def main(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"stress-evidence: {path}: {e}", file=sys.stderr)
        return 2
    for b in doc.get("binaries", []):
        res = b.get("result") or {}
        for c in res.get("cases", []):
            if c.get("status") not in ("fail", "timeout", "error"):
                continue
            print(f"{res.get('binary', b.get('binary'))}/{c.get('name')}: {c.get('status')}")
            diag = c.get("diagnostics", {})
            for k in KEYS:
                if k in diag:
                    print(f"  {k}: {json.dumps(diag[k])}")
            for ch in c.get("checks", []):
                if ch.get("ok") is False:
                    print("  failed: " + json.dumps(ch))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: stress-evidence.py RESULTS.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
