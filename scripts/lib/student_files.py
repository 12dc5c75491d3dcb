"""The files that make-exercises writes differently in the student copy: its README, its CI
script, and the teacher's page without the teacher-only column."""

README = """\
# stepgrad: the exercises

**stepgrad** is a C++ deep-learning framework that teaches how PyTorch works by building it in
five chapters: a scalar autograd engine (1), tensors with broadcasting and reverse-mode autodiff
(2), modules, losses and optimizers (3), a CUDA backend (4), and a program that trains on MNIST
(5). In this copy the central piece of each chapter is yours to write: each exercise is a stub
in the real sources that throws `stepgrad::NotImplemented`, and its tests tell you when your
code is right. The list, with files and hints, is in [`EXERCISES.md`](EXERCISES.md).

## Build

On Debian 12 (`scripts/setup` installs the packages it needs with `apt-get`):

```sh
scripts/setup                                      # once: compiler, CMake, libraries, Doxygen
cmake --preset student && cmake --build --preset student
```

The `student` preset is a release build in `build/student` with the examples, without the
LibTorch comparison tests and the benchmarks (they take most of the compile time and test
nothing you write). Until you write them, the stubbed exercises make their own tests fail, and
also the tests and examples that use them: that is expected.

## Work on one exercise

```sh
scripts/test            # the exercises, in the order to do them
scripts/test 01.1       # rebuilds what 01.1's tests need and runs them
```

`scripts/test 01.1` rebuilds only the test programs of that exercise, runs its tests
(`ctest --test-dir build/student -L ex-01.1 --output-on-failure`) and ends with one line:
passed, not implemented yet, or which test cases failed. Do the exercises in order: each one
builds on the ones before it, and an exercise whose tests call an earlier stub says so.

## See where you stand

```sh
scripts/grade build/student    # every exercise: test cases passed, result, points
```

## Read the tutorial

Each chapter of the tutorial explains the ideas behind its exercises, and each exercise has a
task page (goal, what to write, how to test it, what a pass looks like, questions to answer on
paper): `docs/exercises/<id>.md` in this copy, and in the site:

```sh
cmake --build --preset student --target docs
# open build/student/docs/html/index.html; the exercises: build/student/docs/html/exercises.html
```

The site quotes the sources of this copy, so it shows the stubs, not the solutions.
"""

CI_RUN = """\
#!/usr/bin/env bash
# CI of the student copy: builds it with the student preset and prints the grade table.
# The job fails only when the copy does not build; unfinished exercises are reported, not
# failed, so a fresh copy passes. The table is also written to build/student/grade.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
cmake --preset student
cmake --build --preset student -j 2
status=0
scripts/grade --no-build --json build/student/grade.json build/student || status=$?
if [ "$status" -gt 1 ]; then
  echo "CI: scripts/grade could not run (exit status $status)" >&2
  exit "$status"
fi
echo "CI: the copy builds; the table above shows which exercises pass"
"""

TEACHER_ONLY_COLUMNS = ("watch for",)


def strip_teacher_columns(text):
    """Markdown tables lose their teacher-only columns ("watch for"): the header cell, the rule
    cell and the same cell of every row, until the table ends."""
    out = []
    drop = None                     # index of the column to drop in the current table
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            cells = _cells(stripped)
            if drop is None:
                names = [c.strip().lower() for c in cells]
                for name in TEACHER_ONLY_COLUMNS:
                    if name in names:
                        drop = names.index(name)
            if drop is not None and drop < len(cells):
                del cells[drop]
                line = "| " + " | ".join(c.strip() for c in cells) + " |"
        else:
            drop = None
        out.append(line)
    return "\n".join(out)


def _cells(row):
    """The cells of a table row; a `|` inside backticks or escaped as \\| stays in its cell."""
    cells, cell, code = [], "", False
    body = row[1:-1]
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            cell += "\\|"
            i += 2
            continue
        if c == "`":
            code = not code
        if c == "|" and not code:
            cells.append(cell)
            cell = ""
        else:
            cell += c
        i += 1
    cells.append(cell)
    return cells
