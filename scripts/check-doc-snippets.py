#!/usr/bin/env python3
"""Checks that every C++ block in the documentation is a copy of compiled source.

Every ```cpp fence in README.md and docs/**/*.md must follow, on the line right before it, a
marker naming where it comes from:

    <!-- snippet: docs/snippets/client_credentials.cpp#fetch -->

(path from the repository root; without #region, the whole file). In the source a region is the
lines between two `// [fetch]` lines; it may be opened and closed more than once (an #include at
the top of the file, then a function's body): the copy is its parts in order, each part dedented
by its own common indentation. Marker lines of any region are never part of a copy.

Fails, naming file and line, when a cpp fence has no marker, a marker names a missing file or
region or is not followed by a cpp fence, or a block differs from its region.
--fix rewrites the blocks from the sources (the sources are the truth).

usage: check-doc-snippets.py [--fix] [--root DIR] [FILE.md ...]
       check-doc-snippets.py --self-test   (proves each failure is caught, in a temporary tree)
"""
import argparse
import difflib
import pathlib
import re
import sys
import tempfile

MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<path>[^#\s]+)(?:#(?P<region>[A-Za-z0-9_.-]+))?\s*-->\s*$")
REGION_LINE = re.compile(r"^\s*// \[(?P<name>[A-Za-z0-9_.-]+)\]\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<ticks>```+|~~~+)\s*(?P<info>[^`\s]*)")


def dedent(lines):
    indents = [len(l) - len(l.lstrip()) for l in lines if l.strip()]
    cut = min(indents) if indents else 0
    return [l[cut:].rstrip() if l.strip() else "" for l in lines]


def region_copy(source_lines, region):
    """The region's lines, or None when the file does not delimit it (an odd count is an error)."""
    if region is None:
        return [l.rstrip() for l in source_lines if not REGION_LINE.match(l)], None
    parts, current, marks = [], None, 0
    for line in source_lines:
        m = REGION_LINE.match(line)
        if m:
            if m.group("name") == region:
                marks += 1
                if current is None:
                    current = []
                else:
                    parts.append(dedent(current))
                    current = None
            continue
        if current is not None:
            current.append(line)
    if marks == 0:
        return None, f"no region [{region}]"
    if current is not None:
        return None, f"region [{region}] is opened {marks} times: not closed"
    return [l for part in parts for l in part], None


def check_file(md_path, root, fix):
    """Returns (errors, new_text or None)."""
    rel = md_path.relative_to(root)
    lines = md_path.read_text(encoding="utf-8").split("\n")
    errors, out, i = [], [], 0
    pending = None  # (line number, path, region) of a marker waiting for its fence
    changed = False
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line)
        if m:
            if pending:
                errors.append(f"{rel}:{pending[0]}: snippet marker not followed by a cpp fence")
            pending = (i + 1, m.group("path"), m.group("region"))
            out.append(line)
            i += 1
            continue
        f = FENCE.match(line)
        if not f:
            if pending:
                errors.append(f"{rel}:{pending[0]}: snippet marker not followed by a cpp fence")
                pending = None
            out.append(line)
            i += 1
            continue
        # A fence: find its end (same or longer run of the same character, same indentation or less).
        ticks, indent, info = f.group("ticks"), f.group("indent"), f.group("info")
        end = i + 1
        while end < len(lines):
            c = FENCE.match(lines[end])
            if c and c.group("ticks")[0] == ticks[0] and len(c.group("ticks")) >= len(ticks) and not c.group("info"):
                break
            end += 1
        body = [l[len(indent):] if l.startswith(indent) else l.lstrip() for l in lines[i + 1:end]]
        start_line = i + 1
        marker, pending = pending, None
        if info != "cpp":
            if marker:
                errors.append(f"{rel}:{marker[0]}: snippet marker not followed by a cpp fence")
            out.extend(lines[i:end + 1])
            i = end + 1
            continue
        if not marker:
            errors.append(f"{rel}:{start_line}: cpp block without a <!-- snippet: path#region --> marker on the line before")
            out.extend(lines[i:end + 1])
            i = end + 1
            continue
        _, src, region = marker
        src_path = root / src
        name = f"{src}#{region}" if region else src
        if not src_path.is_file():
            errors.append(f"{rel}:{marker[0]}: {src}: no such file")
            out.extend(lines[i:end + 1])
            i = end + 1
            continue
        copy, why = region_copy(src_path.read_text(encoding="utf-8").split("\n"), region)
        if copy is None:
            errors.append(f"{rel}:{marker[0]}: {src}: {why}")
            out.extend(lines[i:end + 1])
            i = end + 1
            continue
        while copy and not copy[-1]:
            copy.pop()
        actual = [l.rstrip() for l in body]
        if actual != copy:
            if fix:
                changed = True
            else:
                diff = "\n".join(difflib.unified_diff(copy, actual, f"{name} (source)", f"{rel}:{start_line} (block)", lineterm=""))
                errors.append(f"{rel}:{start_line}: block differs from {name}:\n{diff}")
        out.append(line)
        out.extend(indent + l if l else "" for l in (copy if fix else body))
        out.append(lines[end] if end < len(lines) else indent + ticks)
        i = end + 1
    if pending:
        errors.append(f"{rel}:{pending[0]}: snippet marker not followed by a cpp fence")
    return errors, ("\n".join(out) if changed else None)


def self_test():
    """Each failure the checker promises, on a temporary tree: a checker that cannot fail is a defect."""
    source = "#include <x>\n// [a]\nint f() {\n  // [b]\n  return 1;\n  // [b]\n}\n// [a]\n"
    good = "<!-- snippet: s.cpp#b -->\n```cpp\nreturn 1;\n```\n"
    cases = {  # name: (markdown, problems expected)
        "match": (good, 0),
        "whole file": ("<!-- snippet: s.cpp -->\n```cpp\n#include <x>\nint f() {\n  return 1;\n}\n```\n", 0),
        "nested marker lines dropped": ("<!-- snippet: s.cpp#a -->\n```cpp\nint f() {\n  return 1;\n}\n```\n", 0),
        "other fences ignored": ("```sh\nls\n```\n", 0),
        "one character differs": (good.replace("return 1", "return 2"), 1),
        "no marker": ("```cpp\nreturn 1;\n```\n", 1),
        "missing file": (good.replace("s.cpp", "t.cpp"), 1),
        "missing region": (good.replace("#b", "#c"), 1),
        "marker before another fence": ("<!-- snippet: s.cpp#b -->\n```sh\nls\n```\n", 1),
    }
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "s.cpp").write_text(source, encoding="utf-8")
        md = root / "doc.md"
        for name, (text, expected) in cases.items():
            md.write_text(text, encoding="utf-8")
            errors, _ = check_file(md, root, fix=False)
            if len(errors) != expected:
                failed += 1
                print(f"self-test: {name}: {len(errors)} problem(s), expected {expected}: {errors}", file=sys.stderr)
        md.write_text(good.replace("return 1", "return 2"), encoding="utf-8")
        _, fixed = check_file(md, root, fix=True)
        if fixed != good:
            failed += 1
            print(f"self-test: --fix wrote {fixed!r}", file=sys.stderr)
    print(f"check-doc-snippets --self-test: {len(cases) + 1 - failed} of {len(cases) + 1} cases as expected")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fix", action="store_true", help="rewrite the blocks from their sources")
    ap.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent, type=pathlib.Path)
    ap.add_argument("--self-test", action="store_true", help="check the checker on a temporary tree")
    ap.add_argument("files", nargs="*", type=pathlib.Path)
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    root = args.root.resolve()
    files = [f.resolve() for f in args.files] or sorted([root / "README.md", *(root / "docs").rglob("*.md")])
    all_errors, blocks = [], 0
    for md in files:
        if not md.is_file():
            continue
        errors, new_text = check_file(md, root, args.fix)
        all_errors += errors
        blocks += sum(1 for l in md.read_text(encoding="utf-8").split("\n") if MARKER.match(l))
        if new_text is not None:
            md.write_text(new_text, encoding="utf-8")
            print(f"fixed {md.relative_to(root)}")
    for e in all_errors:
        print(e, file=sys.stderr)
    if all_errors:
        print(f"check-doc-snippets: {len(all_errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"check-doc-snippets: {blocks} snippet(s) in {len(files)} file(s) match their sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
