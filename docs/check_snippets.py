#!/usr/bin/python3
"""Checks the code quotes of the chapter pages before Doxygen runs (the docs target calls it).

Doxygen itself reports a missing `@snippet` marker, but a `@dontinclude` quote whose
`@skip` / `@skipline` / `@until` pattern no longer occurs in the source silently shows nothing.
This script fails instead, naming the page, the line and the pattern, so the text cannot drift
from the code.

usage: check_snippets.py [--student-copy] PAGE.md... -- EXAMPLE_DIR...

--student-copy: the sources are a student copy (scripts/make-exercises), where the code inside
exercise regions is a stub, so a quote of a solution's lines cannot be found: report such
problems as notes and do not fail (the solution's own docs build checks the quotes).
"""

import os
import re
import sys

COMMAND_RE = re.compile(r"^\s*[@\\](dontinclude|skip|skipline|until|snippet)\s+(.*?)\s*$")


def find(name, example_dirs):
    """The example file Doxygen would pick for `name` (a file name or a path suffix)."""
    matches = []
    for directory in example_dirs:
        for entry in sorted(os.listdir(directory)):
            full = os.path.join(directory, entry)
            if os.path.isfile(full) and (full == name or full.endswith("/" + name)):
                matches.append(full)
    return matches


def check_page(page, example_dirs):
    problems = []
    lines = None   # the current @dontinclude file, as lines
    position = 0
    with open(page, encoding="utf-8") as f:
        text = f.read()
    in_fence = False
    for number, line in enumerate(text.split("\n"), start=1):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if in_fence:
            continue
        match = COMMAND_RE.match(line)
        if not match:
            continue
        command, argument = match.groups()
        where = f"{page}:{number}"
        if command in ("dontinclude", "snippet"):
            name = argument.split()[0]
            found = find(name, example_dirs)
            if len(found) != 1:
                problems.append(f"{where}: @{command} {name}: " +
                                ("no such example file" if not found else
                                 "ambiguous, matches " + ", ".join(found)) +
                                " (use a longer path, e.g. 01-scalar-value/src/value.cpp)")
                lines = None
                continue
            if command == "dontinclude":
                with open(found[0], encoding="utf-8") as f:
                    lines = f.read().split("\n")
                position = 0
            continue
        if lines is None:
            problems.append(f"{where}: @{command} without a @dontinclude before it")
            continue
        for index in range(position, len(lines)):
            if argument in lines[index]:
                # @skip leaves the matched line to be shown next; the others consume it.
                position = index if command == "skip" else index + 1
                break
        else:
            problems.append(f"{where}: @{command} {argument!r}: not found in the quoted file "
                            f"after line {position} (did the code change?)")
            lines = None
    return problems


def main():
    if "--" not in sys.argv:
        print(__doc__, file=sys.stderr)
        return 2
    split = sys.argv.index("--")
    pages, example_dirs = sys.argv[1:split], sys.argv[split + 1:]
    student_copy = "--student-copy" in pages
    pages = [page for page in pages if page != "--student-copy"]
    problems = []
    for page in pages:
        problems += check_page(page, example_dirs)
    if student_copy:
        for problem in problems:
            print(f"stepgrad docs: note (student copy, the quoted solution is a stub): {problem}")
        return 0
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
