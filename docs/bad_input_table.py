#!/usr/bin/python3
"""Quotes the [bad-input] tests on a page of their own, and checks the table that links to them.

usage: bad_input_table.py --root ROOT --table docs/bad_input.md --out OUT.md

docs/bad_input.md (page `bad_input`) has one table row per case it documents, and each row links
to the test that proves it with `@ref bi_<name>`. This script (the docs target runs it before
Doxygen):

1. collects every TEST_CASE tagged [bad-input] under ROOT's chapter and tests/ directories, with
   its file, line and code;
2. writes OUT.md (page `bad_input_tests`): each test under the anchor `bi_<name>`, where <name> is
   the test's name in lower case with every run of other characters turned into one `_`, with
   its file:line and its code quoted;
3. fails (exit 1) when a row names an anchor that no test has (a test renamed or removed), or a
   [bad-input] test has no row in the table (a case added without documenting it), or a code
   span in the table holds a ' between single backticks (Doxygen would break the table there).

So the table's links cannot go stale: the site does not build until the table and the tests
agree. Debian's python3, standard library only.
"""

import argparse
import os
import re
import sys

SOURCE_DIRS = ["01-scalar-value/tests", "02-tensor/tests", "03-nn/tests", "04-gpu/tests", "05-mnist/tests", "tests"]
TAG = "[bad-input]"
# TEST_CASE("name", "[tags]") with the arguments possibly over several lines.
TEST_CASE_RE = re.compile(r'^\s*TEST_CASE\(\s*"((?:[^"\\]|\\.)*)"\s*,\s*"([^"]*)"\s*\)', re.MULTILINE)
REF_RE = re.compile(r"@ref\s+(bi_[a-z0-9_]+)")
# Doxygen reads `text with a ' quote` as a `quoted' phrase, and the rest of the table breaks:
# such code spans need double backticks.
CODE_SPAN_RE = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def anchor_of(name):
    """The anchor of a test's page section: bi_ and the name in lower case, other runs as `_`."""
    return "bi_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def body_end(text, start):
    """The index just past the `}` that closes the `{` at `start` (strings and comments skipped)."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i += 1
            while i < len(text) and text[i] != c:
                i += 2 if text[i] == "\\" else 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            if i < 0:
                break
        elif text.startswith("/*", i):
            i = text.find("*/", i) + 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced braces")


def collect(root):
    """Every [bad-input] test: dicts with name, anchor, path (relative to root), line, code."""
    tests = []
    for directory in SOURCE_DIRS:
        base = os.path.join(root, directory)
        if not os.path.isdir(base):
            continue
        for dirpath, _, files in sorted(os.walk(base)):
            for file in sorted(files):
                if not file.endswith(".cpp"):
                    continue
                path = os.path.join(dirpath, file)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for match in TEST_CASE_RE.finditer(text):
                    if TAG not in match.group(2):
                        continue
                    start = match.start() + len(match.group(0)) - len(match.group(0).lstrip())
                    brace = text.index("{", match.end())
                    tests.append({
                        "name": match.group(1).replace('\\"', '"'),
                        "anchor": anchor_of(match.group(1).replace('\\"', '"')),
                        "path": os.path.relpath(path, root),
                        "line": text.count("\n", 0, start) + 1,
                        "code": text[start:body_end(text, brace)],
                    })
    return tests


def escape(text):
    """Text for a Doxygen title: no commands, no HTML."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\\", "\\\\").replace("@", "\\@").replace("#", "\\#"))


def write_page(tests, out):
    lines = [
        "# The bad-input tests, quoted {#bad_input_tests}",
        "",
        '<div class="sg-nav">',
        '<span class="sg-prev">&larr; Previous: @ref bad_input</span>',
        '<span class="sg-next">Back to: @ref index</span>',
        "</div>",
        "",
        "Every test tagged `[bad-input]`, quoted from the source as it is now (this page is written",
        "by `docs/bad_input_table.py` when the site is built). The table on @ref bad_input links to",
        "each one; run them all with `ctest -L bad-input` or, in one chapter's test program, with",
        "the Catch filter `\"[bad-input]\"`.",
        "",
    ]
    current = None
    for test in tests:
        chapter = test["path"].split("/")[0]
        if chapter != current:
            current = chapter
            lines += ["@section bi_dir_" + re.sub(r"[^a-z0-9]+", "_", chapter) + " " + escape(chapter), ""]
        lines += [
            "@subsection " + test["anchor"] + " " + escape(test["name"]),
            "",
            "`" + test["path"] + ":" + str(test["line"]) + "`",
            "",
            "```cpp",
            test["code"].rstrip(),
            "```",
            "",
        ]
    lines += ['<div class="sg-nav">',
              '<span class="sg-prev">&larr; Previous: @ref bad_input</span>',
              '<span class="sg-next">Back to: @ref index</span>',
              "</div>", ""]
    text = "\n".join(lines)
    # Rewrite only when something changed, so the docs build does not redo work for nothing.
    if not os.path.exists(out) or open(out, encoding="utf-8").read() != text:
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)


def check_table(tests, table_path):
    """The problems between the table's @ref bi_... links and the tests, as messages."""
    by_anchor = {}
    problems = []
    for test in tests:
        if test["anchor"] in by_anchor:
            other = by_anchor[test["anchor"]]
            problems.append(f'{test["path"]}:{test["line"]}: the test name gives the anchor {test["anchor"]}, '
                            f'as {other["path"]}:{other["line"]} does; rename one of them')
        by_anchor[test["anchor"]] = test
    referenced = set()
    with open(table_path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            for ticks, span in CODE_SPAN_RE.findall(line):
                if ticks == "`" and "'" in span:
                    problems.append(f"{table_path}:{number}: write `{span}` with double backticks (``...``): "
                                    "Doxygen takes a ' inside single backticks for a closing quote")
            for anchor in REF_RE.findall(line):
                referenced.add(anchor)
                if anchor not in by_anchor:
                    problems.append(f"{table_path}:{number}: @ref {anchor} names no TEST_CASE tagged {TAG} "
                                    "(renamed or removed?); the anchors are listed by --list")
    for test in tests:
        if test["anchor"] not in referenced:
            problems.append(f'{test["path"]}:{test["line"]}: the {TAG} test "{test["name"]}" has no row in '
                            f"{table_path}; add one that links to it with @ref {test['anchor']}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="the repository root")
    parser.add_argument("--table", required=True, help="the page with the table (docs/bad_input.md)")
    parser.add_argument("--out", help="where to write the page of quoted tests")
    parser.add_argument("--list", action="store_true", help="print each test's anchor, file and line")
    args = parser.parse_args()
    tests = collect(args.root)
    if args.list:
        for test in tests:
            print(f'{test["anchor"]}  {test["path"]}:{test["line"]}')
    problems = check_table(tests, args.table)
    if not tests:
        problems.append(f"no TEST_CASE tagged {TAG} under {args.root}")
    if problems:
        for problem in problems:
            print("bad_input_table.py: " + problem, file=sys.stderr)
        return 1
    if args.out:
        write_page(tests, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
