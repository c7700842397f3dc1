#!/usr/bin/env python3
"""Fails when a Markdown file of the repository links to a file or heading that does not exist.

Every relative link `[text](path)` and `[text](path#anchor)` (and `[text](#anchor)`) in the
tracked *.md files must name an existing file or directory and, for an anchor into a Markdown
file, one of its headings as GitHub renders their ids. Links inside code (fenced blocks and
`inline code`) are not links. External links (http, https, mailto) are not fetched: CI has no
internet. Run from anywhere; `--self-test` checks the checker.
"""
import functools
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
# [text](target "title") and ![alt](target): the target is group 1.
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose_lines(text, blank_code=True):
    """The lines outside fenced code blocks, with inline code spans blanked unless not asked."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        marker = re.match(r"(`{3,}|~{3,})", stripped)
        if marker:
            if fence is None:
                fence = marker.group(1)[0] * len(marker.group(1))
                continue
            if stripped.startswith(fence):
                fence = None
                continue
        if fence is None:
            yield number, re.sub(r"(`+)(?:(?!\1).)+?\1", lambda m: " " * len(m.group(0)), line) if blank_code else line


def anchors(text):
    """GitHub's heading ids: lower case, punctuation but '-' and '_' dropped, spaces to '-';
    a repeated id gets -1, -2, ..."""
    seen = {}
    out = set()
    for _, line in prose_lines(text, blank_code=False):
        m = re.match(r"\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))  # a link's text only
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


@functools.lru_cache(maxsize=None)
def anchors_of(path):
    return anchors(path.read_text(encoding="utf-8"))


def check_file(path, root, counted=None):
    problems = []
    text = path.read_text(encoding="utf-8")
    for number, line in prose_lines(text):
        for m in LINK.finditer(line):
            target = m.group(1)
            if EXTERNAL.match(target):
                continue
            if counted is not None:
                counted.append(target)
            file_part, _, anchor = target.partition("#")
            dest = path if not file_part else (path.parent / file_part).resolve()
            where = f"{path.relative_to(root)}:{number}: {target}"
            if not dest.exists():
                problems.append(f"{where}: no such file")
                continue
            try:
                dest.relative_to(root)
            except ValueError:
                problems.append(f"{where}: outside the repository")
                continue
            if anchor and dest.suffix == ".md" and anchor.lower() not in anchors_of(dest):
                problems.append(f"{where}: no heading with this id in {dest.relative_to(root)}")
    return problems


def markdown_files(root):
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "*.md"], check=True, capture_output=True,
                                text=True).stdout.split()
        return [root / f for f in listed]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (a source tarball)
        return [p for p in root.rglob("*.md") if not any(part in ("build", "node_modules", ".git") for part in p.parts)]


def self_test():
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d).resolve()
        (root / "docs").mkdir()
        (root / "docs/a.md").write_text("# Title\n\n## The `errc` table\n\n## Title\n")
        (root / "README.md").write_text(
            "[ok](docs/a.md) [ok](docs/a.md#title) [ok](docs/a.md#title-1) [ok](docs/a.md#the-errc-table)\n"
            "[ok](https://example.com/missing) [ok](#readme) `[code](missing.md)`\n"
            "```\n[fenced](missing.md)\n```\n"
            "# Readme\n"
            "[bad](docs/missing.md) [bad](docs/a.md#nope) ![bad](img.png) [bad](#nowhere)\n")
        problems = check_file(root / "README.md", root)
        expected = ["docs/missing.md", "docs/a.md#nope", "img.png", "#nowhere"]
        found = [p.split(": ")[1] for p in problems]
        if sorted(found) != sorted(expected):
            print(f"check-doc-links self-test: expected problems for {expected}, got {problems}")
            return 1
    print("check-doc-links self-test: OK")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = pathlib.Path(argv[1]).resolve() if len(argv) > 1 else ROOT
    files = markdown_files(root)
    links = []
    problems = [p for f in files if f.exists() for p in check_file(f, root, links)]
    for p in problems:
        print(p)
    print(f"check-doc-links: {len(files)} Markdown files, {len(links)} relative links, {len(problems)} broken")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
