#!/usr/bin/env python3
"""tapmatrix — TAP files from several kernels -> one Markdown table.

    tapmatrix.py [--tolerance 0.10] [LABEL=]PATH [[LABEL=]PATH ...]

PATH is one kernel's results: a TAP file, a JSON file (--json of a case
binary or of `tcpfate run`), or a directory of such JSON files (e.g. what
one CI job per kernel produced; ci/merge).  LABEL defaults to the file's
or directory's name without extension.  JSON results give the same table
as the TAP of the same run: each case is read back into the YAML block
the TAP would have carried (see from_json()).

Each FILE is what `tcpfate-vm --tap-out` wrote: one TAP document per case
binary, each prefixed by "# kernel: R", "# vm: ...", "# binary: B" lines and
followed by "# exit: N".  (A bare TAP file works too.)

One row per test ("binary: test name"), one column per kernel; a cell is
pass / FAIL / skip (reason) / todo / missing, plus the key numbers found in
the test's YAML block:
  * every entry of a `key_numbers:` mapping, when there is one (block
    form, or the one-line flow form `key_numbers: {a: 1, b: x}`);
  * otherwise every `measured*` field: top-level ones (`measured_ms: 127000.0`)
    and those inside the `checks:` list of the tcpfate harness
    (`- {what: "rto #1 gap", ..., measured_ms: 204.1, ...}`), named by `what`.
A row is marked ≠ when the outcome differs between kernels, or a key number
differs by more than the tolerance (relative; 0.10 = 10 %), or a non-numeric
value differs.  Standard library only.
"""
import argparse
import json
import os
import re
import sys

TEST_RE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$")
DIRECTIVE_RE = re.compile(r"(?<!\\)#\s*(SKIP|TODO)\b\s*(.*)$", re.IGNORECASE)
MAX_NUMBERS_SHOWN = 5


class Doc:
    def __init__(self):
        self.header = {}        # kernel, vm, binary, modules
        self.tests = []         # [Test]
        self.plan = None
        self.exit = None
        self.bail = None


class Test:
    def __init__(self, ok, num, name, directive, reason):
        self.ok, self.num, self.name = ok, num, name
        self.directive, self.reason = directive, reason
        self.yaml = []

    @property
    def outcome(self):
        if self.directive == "SKIP":
            return "skip"
        if self.directive == "TODO":
            return "todo"
        return "pass" if self.ok else "FAIL"


# --- JSON results (harness/emit_json.c) ------------------------------------

class Obj(list):
    """A JSON object as its (key, value) pairs, in order, duplicates kept."""


def _plain_ok(s):
    """harness/emit_tap.c plain_ok() || plain_text_ok(): printed without quotes."""
    if s in ("true", "false") or re.fullmatch(r"[-+]?[0-9]+(\.[0-9]+)?", s):
        return True
    return (re.fullmatch(r"[A-Za-z/][\x20-\x7e]*", s) is not None and not s.endswith((" ", ":"))
            and not any(c in s for c in ",[]{}#\"'\\") and ": " not in s
            and s.lower() not in ("y", "n", "yes", "no", "on", "off", "null"))


def _is_break(c):
    o = ord(c)
    return o < 0x20 or o == 0x7f or 0x80 <= o <= 0x9f or o in (0x2028, 0x2029)


def _oneline(s):
    return "".join(" " if c == "\t" else "?" if _is_break(c) else c for c in s)


def _tap_escape(s):
    """harness/emit_tap.c tf_tap_escape()."""
    return "".join(" " if c == "\t" else "?" if _is_break(c) else
                   "\\" + c if c in "#\\" else c for c in s)


def _yaml_scalar(s):
    """harness/emit_tap.c tf_yaml_scalar() (for valid UTF-8 text)."""
    if s and _plain_ok(s):
        return s
    out = []
    for c in s:
        o = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif _is_break(c):
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _text(v):
    if v is True or v is False:
        return "true" if v else "false"
    return "" if v is None else str(v)


def _entry(out, key, v, indent, comment=None):
    """harness/emit_tap.c emit_entry(): one node as block YAML lines."""
    pre = " " * indent + (_oneline(key) + ":" if key is not None else "-")
    tail = f"  # {_oneline(comment)}" if comment else ""
    if not isinstance(v, list):
        out.append(f"{pre} {_yaml_scalar(_text(v))}{tail}")
    elif not v:
        out.append(pre + (" {}" if isinstance(v, Obj) else " []") + tail)
    elif isinstance(v, Obj) and key is None:
        # a mapping as a sequence item: "- k: v", the rest aligned under k
        first = []
        _entry(first, v[0][0], v[0][1], indent + 2)
        out.append(" " * indent + "- " + first[0][indent + 2:])
        out.extend(first[1:])
        for k, x in v[1:]:
            _entry(out, k, x, indent + 2)
    else:
        out.append(pre + tail)
        for item in v:
            if isinstance(v, Obj):
                _entry(out, item[0], item[1], indent + 2)
            else:
                _entry(out, None, item, indent + 2)


def _get(obj, key, default=None):
    for k, v in obj if isinstance(obj, Obj) else []:
        if k == key:
            return v
    return default


def from_json(path):
    """One JSON document -> [Doc]: a case binary's, or tcpfate run's (the
    binaries' documents inside, with their real exit status)."""
    with open(path, encoding="utf-8") as f:
        try:
            top = json.load(f, object_pairs_hook=Obj, parse_float=str, parse_int=str)
        except ValueError as e:
            raise ValueError(f"{path}: not JSON ({e})")
    if not isinstance(top, Obj) or _get(top, "format") != "tcpfate-results":
        raise ValueError(f"{path}: not a tcpfate-results document")
    if _get(top, "version") != "1":
        raise ValueError(f"{path}: tcpfate-results version {_get(top, 'version')}, want 1")
    rel = _get(_get(top, "kernel", Obj()), "release", "?")
    if _get(top, "binaries") is not None:
        docs = []
        for b in _get(top, "binaries"):
            r = _get(b, "result")
            d = _doc(r, rel, _get(top, "vm", "")) if r else Doc()
            d.header.setdefault("kernel", rel)
            d.header["binary"] = _get(b, "binary", "?")
            sig = _get(b, "signal")
            d.exit = str(128 + int(sig)) if sig is not None else _text(_get(b, "exit"))
            docs.append(d)
        return docs
    return [_doc(top, rel, _get(top, "vm", ""))]


def _doc(doc, rel, vm):
    d = Doc()
    rel = _get(_get(doc, "kernel", Obj()), "release", rel)
    d.header["kernel"] = rel
    d.header["binary"] = _get(doc, "binary", "?")
    if vm or _get(doc, "vm"):
        d.header["vm"] = _get(doc, "vm") or vm
    d.plan = int(_get(doc, "plan", "0"))
    d.exit = _text(_get(doc, "exit")) if _get(doc, "exit") is not None else None
    for c in _get(doc, "cases", []):
        st = _get(c, "status")
        name = _tap_escape(_get(c, "name", "")).strip().replace("\\#", "#")
        t = Test(st in ("pass", "skip"), int(_get(c, "num", "0")), name,
                 "SKIP" if st == "skip" else None,
                 _tap_escape(_get(c, "reason") or "").strip() if st == "skip" else "")
        y = []
        _entry(y, "duration_ms", _get(c, "duration_ms"), 2)
        _entry(y, "kernel", rel, 2)
        for k in ("proves", "message"):
            if _get(c, k) is not None:
                _entry(y, k, _get(c, k), 2)
        comments = _get(c, "comments", Obj())
        for k, v in _get(c, "diagnostics", Obj()):
            _entry(y, k, v, 2, _get(comments, k))
        if _get(c, "checks"):
            _entry(y, "checks", _get(c, "checks"), 2)
        t.yaml = y
        d.tests.append(t)
    return d


def load(path):
    """One kernel's results: a TAP file, a JSON file, or a directory of
    JSON files (in name order)."""
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".json"))
        if not files:
            raise ValueError(f"{path}: no .json file in it")
        return [d for f in files for d in from_json(f)]
    if path.endswith(".json"):
        return from_json(path)
    return parse_tap(path)


def parse_tap(path):
    docs, doc, test, in_yaml = [], None, None, False
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n").rstrip("\r")
            if in_yaml:
                if line.strip() == "...":
                    in_yaml = False
                else:
                    test.yaml.append(line)
                continue
            if line.startswith("# kernel:"):
                doc = Doc()
                docs.append(doc)
                test = None
            if doc is None:
                doc = Doc()
                docs.append(doc)
            m = re.match(r"^# (kernel|vm|binary|modules|exit):\s?(.*)$", line)
            if m:
                if m.group(1) == "exit":
                    doc.exit = m.group(2).strip()
                else:
                    doc.header.setdefault(m.group(1), m.group(2).strip())
                continue
            if line.strip() == "---" and test is not None and line.startswith(" "):
                in_yaml = True
                continue
            if re.match(r"^1\.\.\d+", line):
                doc.plan = int(line[3:].split()[0]) if line.startswith("1..") else None
                continue
            if line.startswith("Bail out!"):
                doc.bail = line[len("Bail out!"):].strip() or "bailed out"
                continue
            m = TEST_RE.match(line)
            if m:
                ok, num, rest = m.group(1) == "ok", m.group(2), m.group(3)
                directive, reason = None, ""
                d = DIRECTIVE_RE.search(rest)
                if d:
                    directive, reason = d.group(1).upper(), d.group(2).strip()
                    rest = rest[: d.start()]
                name = rest.strip().replace("\\#", "#") or f"test {num}"
                test = Test(ok, int(num) if num else None, name, directive, reason)
                doc.tests.append(test)
    return docs


# --- the small YAML subset the harness writes -------------------------------

def split_flow(text):
    """'a: 1, b: "x, y"' -> ['a: 1', 'b: "x, y"'] (commas outside quotes)."""
    parts, cur, quote = [], "", None
    for ch in text:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur += ch
        elif ch == ",":
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def unquote(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1]
    return v


def fold_block_items(lines):
    """The harness prints each check as a block mapping under "- " (prove's
    YAMLish has no flow collections); fold each back into the one-line
    flow form "- {k: v, ...}" the parser below reads."""
    out, i = [], 0
    while i < len(lines):
        ln = lines[i]
        s = ln.strip()
        ind = len(ln) - len(ln.lstrip())
        if s.startswith("- ") and ":" in s[2:] and not s[2:].lstrip().startswith("{"):
            parts, j = [s[2:].strip()], i + 1
            while j < len(lines):
                l2 = lines[j]
                i2 = len(l2) - len(l2.lstrip())
                if i2 <= ind or l2.strip().startswith("- "):
                    break
                parts.append(l2.strip())
                j += 1
            out.append(" " * ind + "- {" + ", ".join(parts) + "}")
            i = j
            continue
        out.append(ln)
        i += 1
    return out


def key_numbers(yaml_lines, compare=None):
    """[(name, value)] of the key numbers of one test's YAML block.

    `compare`, a list, receives what the ≠ test looks at: the key_numbers
    when there are some; otherwise, for the harness's checks, what the
    model expected (expected_ms of a time check: the kernel's rule, not
    its jitter; `expected` of a count or errno, except numbers of 2^20 and
    more, which are instance data such as sequence numbers), and top-level
    measured* fields.  Time values are named with "(ms)" so that differs()
    can apply its absolute floor."""
    lines = fold_block_items(
        [ln for ln in yaml_lines if ln.strip() and not ln.strip().startswith("#")])
    if not lines:
        return []
    base = min(len(ln) - len(ln.lstrip()) for ln in lines)
    out, knum, path = [], None, []   # path: [(indent, key)]
    cmp_checks = []
    in_block = None                  # indent of a literal block (key: |)
    for ln in lines:
        ind = len(ln) - len(ln.lstrip()) - base
        s = ln.strip()
        if in_block is not None:
            if ind > in_block:
                continue
            in_block = None
        while path and path[-1][0] >= ind:
            path.pop()
        if s.startswith("- "):
            item = s[2:].strip()
            if item.startswith("{") and item.endswith("}"):
                fields = {}
                for part in split_flow(item[1:-1]):
                    if ":" in part:
                        k, v = part.split(":", 1)
                        fields[k.strip()] = unquote(v)
                what = fields.get("what") or fields.get("name")
                for k, v in fields.items():
                    if k.startswith("measured"):
                        unit = k[len("measured"):].lstrip("_")
                        label = what if what else k
                        out.append((label + (f" ({unit})" if unit and what else ""), v))
                label = what or "check"
                if "expected_ms" in fields:
                    cmp_checks.append((label + " (ms)", fields["expected_ms"]))
                elif "expected" in fields:
                    x = as_number(fields["expected"])
                    if x is None or abs(x) < 2 ** 20:
                        cmp_checks.append((label, fields["expected"]))
            continue
        if ":" not in s:
            continue
        k, v = s.split(":", 1)
        k, v = k.strip(), v.strip()
        if v in ("|", ">", "|-", ">-"):
            in_block = ind
            continue
        if k == "key_numbers" and v.startswith("{") and v.endswith("}"):
            # the flow form a case writes on one line: {a: 1, b: x}
            knum = [] if knum is None else knum
            for part in split_flow(v[1:-1]):
                if ":" in part:
                    kk, vv = part.split(":", 1)
                    knum.append((kk.strip(), unquote(vv)))
            continue
        if v == "":
            path.append((ind, k))
            if k == "key_numbers":
                knum = [] if knum is None else knum
            continue
        keys = [p[1] for p in path]
        if "key_numbers" in keys:
            knum = [] if knum is None else knum
            sub = keys[keys.index("key_numbers") + 1:] + [k]
            knum.append((".".join(sub), unquote(v)))
        elif k.startswith("measured"):
            out.append((".".join(keys + [k]), unquote(v)))
            cmp_checks.append((".".join(keys + [k]) + (" (ms)" if k.endswith("_ms") else ""),
                               unquote(v)))
    if compare is not None:
        compare.extend(knum if knum is not None else cmp_checks)
    return knum if knum is not None else out


def as_number(v):
    try:
        return float(v.split()[0])
    except (ValueError, IndexError):
        return None


def fmt_value(v):
    x = as_number(v)
    if x is None or len(v.split()) > 1:
        return v
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


# Two times closer than this are the same behaviour: twice the VM's timing
# tolerance (TF_SLACK_US = 12 ms at HZ=250, README.md), e.g. an RTO of 51
# against 53 jiffies from a slower handshake under TCG.
MS_FLOOR = 25.0


def differs(values, tol, key=""):
    """values: [str or None] for one key across kernels (None: absent)."""
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return False
    nums = [as_number(v) for v in present]
    if all(n is not None for n in nums):
        lo, hi = min(nums), max(nums)
        scale = max(abs(lo), abs(hi))
        floor = MS_FLOOR if key.endswith("(ms)") or key.endswith("_ms") else 0.0
        return scale > 0 and (hi - lo) / scale > tol and hi - lo > floor
    return len(set(present)) > 1


def md(text):
    return text.replace("|", "\\|").replace("\n", " ")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tolerance", type=float, default=0.10,
                    help="relative difference of a key number that counts as ≠ [0.10]")
    ap.add_argument("runs", nargs="+", metavar="[LABEL=]PATH")
    args = ap.parse_args()

    labels, results, info = [], [], []
    for run in args.runs:
        label, sep, path = run.partition("=")
        if not sep:
            path = run
            label = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
        labels.append(label)
        try:
            docs = load(path)
        except OSError as e:
            docs = []
            print(f"tapmatrix: {path}: {e.strerror}", file=sys.stderr)
        except ValueError as e:
            print(f"tapmatrix: {e}", file=sys.stderr)
            sys.exit(2)
        results.append(docs)
        rel = next((d.header.get("kernel") for d in docs if d.header.get("kernel")), "?")
        vm = next((d.header.get("vm") for d in docs if d.header.get("vm")), "")
        n = {"pass": 0, "FAIL": 0, "skip": 0, "todo": 0}
        for d in docs:
            for t in d.tests:
                n[t.outcome] += 1
        # the binary's name, not its arguments (--json FILE differs per run)
        bad_exit = [f"{(d.header.get('binary') or '?').split()[0]}: {d.exit}" for d in docs
                    if d.exit not in (None, "0")]
        info.append((label, rel, vm, n, bad_exit, len(docs)))

    # Rows in order of first appearance.
    rows, cells = [], {}
    for col, docs in enumerate(results):
        for d in docs:
            binary = d.header.get("binary", "?").split()[0] if d.header.get("binary") else "?"
            seen = {}
            for t in d.tests:
                name = t.name
                seen[name] = seen.get(name, 0) + 1
                if seen[name] > 1:
                    name = f"{name} (#{seen[name]})"
                key = f"{binary}: {name}"
                if key not in cells:
                    rows.append(key)
                    cells[key] = [None] * len(labels)
                cells[key][col] = t
            key = f"{binary}: (exit status)"
            if key not in cells:
                cells[key] = [None] * len(labels)
            cells[key][col] = ("bail out: " + d.bail) if d.bail else f"exit {d.exit or '?'}"
            if (d.exit not in (None, "0") or d.bail) and key not in rows:
                rows.append(key)

    out = []
    out.append("| kernel | release | vm | pass | fail | skip | binaries with non-zero exit |")
    out.append("|---|---|---|---|---|---|---|")
    for label, rel, vm, n, bad, ndocs in info:
        out.append(f"| {md(label)} | {md(rel)} | {md(vm)} | {n['pass']} | {n['FAIL']} | "
                   f"{n['skip']} | {md(', '.join(bad)) if bad else ('none' if ndocs else 'no output')} |")
    out.append("")
    out.append("| ≠ | behaviour | " + " | ".join(md(lbl) for lbl in labels) + " |")
    out.append("|---|---|" + "---|" * len(labels))
    ndiff = 0
    for key in rows:
        row = cells[key]
        texts, outcomes, numbers = [], [], []
        for col, c in enumerate(row):
            if not results[col]:      # that kernel produced nothing at all
                texts.append("(no run)")
                continue
            if c is None:
                texts.append("missing")
                outcomes.append("missing")
                numbers.append({})
            elif isinstance(c, str):
                texts.append(md(c))
                outcomes.append(c)
                numbers.append({})
            else:
                txt = c.outcome
                if c.directive and c.reason:
                    txt += f" ({c.reason})"
                txt = md(txt)
                cmp = []
                nums = dict(key_numbers(c.yaml, cmp))
                if nums:
                    shown = [f"{k}: {fmt_value(v)}" for k, v in list(nums.items())[:MAX_NUMBERS_SHOWN]]
                    if len(nums) > MAX_NUMBERS_SHOWN:
                        shown.append(f"+{len(nums) - MAX_NUMBERS_SHOWN} more")
                    txt += "<br>" + "<br>".join(md(s) for s in shown)
                texts.append(txt)
                outcomes.append(c.outcome)
                numbers.append(dict(cmp))
        diff = len(set(outcomes)) > 1
        if not diff:
            for k in {k for nums in numbers for k in nums}:
                if differs([nums.get(k) for nums in numbers], args.tolerance, k):
                    diff = True
                    break
        ndiff += diff
        out.append(f"| {'≠' if diff else ''} | {md(key)} | " +
                   " | ".join(texts) + " |")
    out.append("")
    out.append(f"{len(rows)} rows, {ndiff} differ between kernels (≠: the outcome; or a key "
               f"number, or what the model expected, by more than {args.tolerance:.0%} "
               f"and, for times, {MS_FLOOR:g} ms).")
    print("\n".join(out))


if __name__ == "__main__":
    main()
