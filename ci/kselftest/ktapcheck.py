#!/usr/bin/env python3
"""ktapcheck — check a KTAP v1 stream's structure and count its results.

    ktapcheck.py [--prefix] [--json] FILE|-

A strict reader of Documentation/dev-tools/ktap.rst, written for tcpfate's
CI (which cannot fetch the kernel's own kunit.py):
  * the stream starts with "KTAP version 1" (or "TAP version 13", as the
    kselftest runner prints), a subtest with an indented version line, two
    spaces a level, and "# Subtest: NAME" where present matches the name on
    the subtest's own result line;
  * a plan "1..N" follows the version (and Subtest) line, and exactly N
    results follow, numbered 1..N;
  * results are "ok N desc", "not ok N desc", with "# SKIP", "# TIMEOUT",
    "# ERROR" directives; a description has no '#';
  * "# Totals: pass:P fail:F xfail:0 xpass:0 skip:S error:E" lines, where
    given, agree with the results of their level (TIMEOUT counts as fail);
  * a parent whose subtests failed is not ok.
Counted are the leaves (tests without subtests), as kunit.py counts them:
pass, fail (not ok without directive, TIMEOUT, ERROR), skip.  With
--prefix, kselftest's runner output is read: the top level is TAP 13, and
each test's own output is nested under "# " (prefix.pl); nested streams
are then checked and counted too.  Also counted: what Linaro's kselftest
parser (test-definitions, automated/linux/kselftest, the Perl version)
reads with its regex  ^(?:# )*(not )?ok (?:\\d+) ([^#]+)(# (SKIP)?)?
Also counted: the lines Linaro's current parser (parse-output.py with
tap.py) takes for results once it has stripped every '#' and blank
("linaro_tappy").
Exit 0 when the stream is well-formed, 1 with the errors listed.
"""
import json
import re
import sys

# Linaro's current parser (parse-output.py with tap.py): each level's
# diagnostics, '#' and blanks stripped, are read again as TAP; tap.py's
# test line is "(not )?ok" then a non-word character.
TAPPY = re.compile(r"^(not )?ok\b")
RESULT = re.compile(r"^(ok|not ok) ([0-9]+)(?: (- )?([^#]*?))?(?: # (.*))?$")
LINARO = re.compile(r"^(?:# )*(not )?ok (?:\d+) ([^#]+)(# (SKIP)?)?")
TOTALS = re.compile(r"^# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) xpass:(\d+) skip:(\d+) error:(\d+)$")


class Node:
    def __init__(self, name=None):
        self.name, self.plan, self.results, self.status = name, None, [], None
        self.totals = None


def indent_of(line):
    return len(line) - len(line.lstrip(" "))


def parse(lines, errors, top_tap13_ok=False):
    """lines: list of str.  Returns the root Node (its results: [(status,
    name, Node-or-None)])."""
    pos = 0

    def level(ind, name, allow_tap13):
        nonlocal pos
        node = Node(name)
        first = lines[pos][ind:]
        if first == "KTAP version 1" or (allow_tap13 and first == "TAP version 13"):
            pos += 1
        else:
            errors.append(f"line {pos + 1}: want a version line, got {lines[pos]!r}")
            pos += 1
            return node
        pending_sub = None
        while pos < len(lines):
            line = lines[pos]
            if line.strip() == "":
                pos += 1
                continue
            li = indent_of(line)
            body = line[li:]
            if li < ind:
                break
            if li > ind:
                if body == "KTAP version 1" and li == ind + 2:
                    sub = level(li, None, False)
                    pending_sub = sub
                    continue
                if body.startswith("#"):
                    pos += 1          # an indented diagnostic
                    continue
                errors.append(f"line {pos + 1}: indented line outside a subtest: {line!r}")
                pos += 1
                continue
            if body.startswith("# Subtest: "):
                if node.plan is not None or node.results:
                    errors.append(f"line {pos + 1}: '# Subtest:' after the plan")
                node.name = body[len("# Subtest: "):]
                pos += 1
                continue
            m = TOTALS.match(body)
            if m:
                node.totals = tuple(int(x) for x in m.groups())
                pos += 1
                continue
            if body.startswith("#"):
                pos += 1
                continue
            if re.match(r"^1\.\.[0-9]+$", body):
                if node.plan is not None:
                    errors.append(f"line {pos + 1}: a second plan")
                node.plan = int(body[3:])
                pos += 1
                continue
            m = RESULT.match(body)
            if m:
                if node.plan is None:
                    errors.append(f"line {pos + 1}: a result before the plan")
                num, desc, directive = int(m.group(2)), (m.group(4) or "").strip(), m.group(5)
                if num != len(node.results) + 1:
                    errors.append(f"line {pos + 1}: result {num}, want {len(node.results) + 1}")
                status = "pass" if m.group(1) == "ok" else "fail"
                if directive:
                    word = directive.split()[0] if directive.split() else ""
                    if word == "SKIP":
                        status = "skip"
                    elif word in ("TIMEOUT", "ERROR"):
                        if m.group(1) == "ok":
                            errors.append(f"line {pos + 1}: ok with {word}")
                        status = word.lower()
                if pending_sub is not None:
                    if pending_sub.name is not None and pending_sub.name != desc:
                        errors.append(f"line {pos + 1}: result '{desc}' closes subtest "
                                      f"'{pending_sub.name}'")
                    if status in ("pass",) and any(r[0] in ("fail", "timeout", "error")
                                                   for r in pending_sub.results):
                        errors.append(f"line {pos + 1}: '{desc}' ok but a subtest failed")
                node.results.append((status, desc, pending_sub))
                pending_sub = None
                pos += 1
                continue
            # an unknown line: allowed by KTAP, but tcpfate writes none
            errors.append(f"line {pos + 1}: not a KTAP line: {line!r}")
            pos += 1
        if pending_sub is not None:
            errors.append(f"subtest '{pending_sub.name}' has no result line")
        if node.plan is None:
            errors.append(f"test '{node.name}': no plan")
        elif node.plan != len(node.results):
            errors.append(f"test '{node.name}': plan 1..{node.plan}, {len(node.results)} results")
        if node.totals:
            c = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
            for st in leaf_statuses(node):
                c["fail" if st == "timeout" else st] += 1
            want = (c["pass"], c["fail"], 0, 0, c["skip"], c["error"])
            if node.totals != want:
                errors.append(f"test '{node.name}': Totals {node.totals}, results {want}")
        return node

    while pos < len(lines) and lines[pos].strip() not in ("KTAP version 1", "TAP version 13"):
        pos += 1
    if pos == len(lines):
        errors.append("no version line")
        return Node()
    root = level(indent_of(lines[pos]), "main", top_tap13_ok)
    for rest in lines[pos:]:
        if rest.strip():
            errors.append(f"after the end: {rest!r}")
            break
    return root


def leaf_statuses(node):
    out = []
    for st, _, sub in node.results:
        out += leaf_statuses(sub) if sub is not None and sub.results else [st]
    return out


def leaves(node, counts):
    for st, _, sub in node.results:
        if sub is not None and sub.results:
            leaves(sub, counts)
        else:
            counts["skip" if st == "skip" else "pass" if st == "pass" else "fail"] += 1
    return counts


def unprefix(lines):
    """The output of each test under kselftest's runner: '# ' lines between
    '# selftests: ...' and its result line."""
    out, cur = [], None
    for ln in lines:
        if ln.startswith("# selftests: "):
            cur = []
            continue
        if cur is not None and ln.startswith("# "):
            cur.append(ln[2:])
        elif cur is not None and ln == "#":
            cur.append("")
        elif cur is not None and RESULT.match(ln):
            out.append(cur)
            cur = None
    return out


def main():
    args = sys.argv[1:]
    prefix = "--prefix" in args
    as_json = "--json" in args
    files = [a for a in args if not a.startswith("--")]
    if len(files) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    text = sys.stdin.read() if files[0] == "-" else open(files[0], encoding="utf-8",
                                                          errors="replace").read()
    lines = text.split("\n")
    errors = []
    root = parse(lines, errors, top_tap13_ok=prefix)
    counts = leaves(root, {"pass": 0, "fail": 0, "skip": 0})
    top = {"pass": 0, "fail": 0, "skip": 0}
    for st, _, _ in root.results:
        top["skip" if st == "skip" else "pass" if st == "pass" else "fail"] += 1
    nested = {"pass": 0, "fail": 0, "skip": 0}
    if prefix:
        for i, sub in enumerate(unprefix(lines)):
            e = []
            n = parse(sub, e)
            errors += [f"test {i + 1} (nested under '# '): {x}" for x in e]
            leaves(n, nested)
    linaro = {"pass": 0, "fail": 0, "skip": 0}
    for ln in lines:
        m = LINARO.match(ln)
        if m:
            linaro["skip" if m.group(4) == "SKIP" else "fail" if m.group(1) else "pass"] += 1
    tappy = {"pass": 0, "fail": 0, "skip": 0}
    for ln in lines:
        body = ln.lstrip("# \t")
        m = TAPPY.match(body)
        if m:
            skip = re.search(r"#\s*SKIP", body) is not None
            tappy["skip" if skip else "fail" if m.group(1) else "pass"] += 1
    report = {"leaves": counts, "top": top, "linaro": linaro, "linaro_tappy": tappy}
    if prefix:
        report["nested"] = nested
    report["errors"] = errors
    if as_json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            if k != "errors":
                print(f"{k}: pass {v['pass']} fail {v['fail']} skip {v['skip']}")
        for e in errors:
            print(f"error: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
