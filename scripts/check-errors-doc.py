#!/usr/bin/env python3
"""Fails when docs/guides/errors.md and include/oidc/error.hpp disagree on the oidc::errc values.

Every enumerator of `enum class errc` must be named in the guide as `errc::NAME`, and every
`errc::NAME` the guide names must exist, so the guide cannot fall behind the header (or invent a
code). Run from anywhere: paths are relative to the repository root, or given as arguments.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def enumerators(header_text):
    match = re.search(r"enum\s+class\s+errc\s*\{(.*?)\};", header_text, re.S)
    if not match:
        raise SystemExit("check-errors-doc: no `enum class errc { ... };` in the header")
    body = re.sub(r"//[^\n]*", "", match.group(1))  # comments name codes too ("see errc::x")
    names = []
    for item in body.split(","):
        name = item.split("=")[0].strip()
        if name:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise SystemExit(f"check-errors-doc: cannot read enumerator {name!r}")
            names.append(name)
    return names


def main(argv):
    header = pathlib.Path(argv[1]) if len(argv) > 1 else ROOT / "include/oidc/error.hpp"
    guide = pathlib.Path(argv[2]) if len(argv) > 2 else ROOT / "docs/guides/errors.md"
    declared = enumerators(header.read_text(encoding="utf-8"))
    lines = guide.read_text(encoding="utf-8").splitlines()
    named = {}  # every errc:: name the guide uses, with its first line
    explained = set()  # those named outside code blocks: a snippet's switch is no explanation
    in_code = False
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        for name in re.findall(r"errc::([A-Za-z_][A-Za-z0-9_]*)", line):
            named.setdefault(name, number)
            if not in_code:
                explained.add(name)
    problems = []
    for name in declared:
        if name not in explained:
            problems.append(f"{guide}: errc::{name} (declared in {header}) is not documented")
    for name, number in sorted(named.items(), key=lambda item: item[1]):
        if name not in declared:
            problems.append(f"{guide}:{number}: errc::{name} is not an enumerator of oidc::errc in {header}")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"check-errors-doc: {len(declared)} errc values, all documented")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
