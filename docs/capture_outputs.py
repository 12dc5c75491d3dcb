#!/usr/bin/python3
"""Captures what the examples print, for the pages to show (`@verbinclude <name>.out`).

usage: capture_outputs.py --committed DIR --out DIR [--check | --refresh]
                          [--refresh-command TEXT] --example NAME=PROGRAM ...

Each --example runs PROGRAM (no arguments; an empty PROGRAM means "not built") and writes what
it prints on stdout to OUT/NAME.out. A program may split its output into parts with marker lines

    --- <piece> ---

(e.g. `--- gradient ---`): the text after a marker goes to OUT/NAME-<piece>.out, the text before
the first marker (if any) to OUT/NAME.out; the marker lines themselves are not shown.

When a program is not built or fails (a student copy, where it calls a stub), the committed
copies DIR/NAME.out and DIR/NAME-*.out are used instead, with a one-line note. Every other
DIR/*.out (a pasted real run that no program here produces) is copied to OUT as it is.

--check (solution builds): fail when a part differs from its committed copy, naming the file and
how to refresh it. Numbers may differ in their last printed digit (other CPUs round differently);
anything else must match. --refresh: write the programs' parts over the committed copies.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

MARKER_RE = re.compile(r"^--- ([A-Za-z0-9][A-Za-z0-9_-]*) ---$")
NUMBER_RE = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
TIMEOUT_S = 600


def note(text):
    print(f"stepgrad docs: {text}", flush=True)


def split(name, text):
    """{part name: text} for one program's output."""
    parts = {}
    current, lines = name, []
    for line in text.splitlines():
        match = MARKER_RE.match(line)
        if match:
            if current != name or any(l.strip() for l in lines):
                parts[current] = "\n".join(lines).strip("\n") + "\n"
            current, lines = f"{name}-{match.group(1)}", []
        else:
            lines.append(line)
    if current != name or any(l.strip() for l in lines):
        parts[current] = "\n".join(lines).strip("\n") + "\n"
    return parts


def close_enough(generated, committed):
    """True when the texts match, numbers allowed to differ in their last printed digit."""
    if generated == committed:
        return True
    a, b = NUMBER_RE.split(generated), NUMBER_RE.split(committed)
    if a != b:
        return False
    for x, y in zip(NUMBER_RE.findall(generated), NUMBER_RE.findall(committed)):
        if x == y:
            continue
        digits = len(x.split(".")[1]) if "." in x and "e" not in x.lower() else 0
        try:
            if abs(float(x) - float(y)) > 1.01 * 10.0 ** -digits + 1e-6 * abs(float(y)):
                return False
        except ValueError:
            return False
    return True


def owned(name, file_name):
    """Whether committed file `file_name` belongs to the example `name`."""
    return file_name == f"{name}.out" or (file_name.startswith(f"{name}-") and file_name.endswith(".out"))


def run(program):
    """(output, None) or (None, why it failed)."""
    try:
        result = subprocess.run([program], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, timeout=TIMEOUT_S, cwd=os.path.dirname(program) or ".")
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, str(error)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        how = f"exit code {result.returncode}" if result.returncode > 0 else f"signal {-result.returncode}"
        return None, f"{how}: {last[:160]}"
    return result.stdout, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--committed", required=True)
    parser.add_argument("--out", required=True)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--refresh", action="store_true")
    parser.add_argument("--refresh-command", default="the docs_refresh_outputs target")
    parser.add_argument("--example", action="append", default=[], metavar="NAME=PROGRAM")
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    for old in os.listdir(args.out):
        if old.endswith(".out"):
            os.remove(os.path.join(args.out, old))
    committed = sorted(f for f in os.listdir(args.committed) if f.endswith(".out")) \
        if os.path.isdir(args.committed) else []
    used = set()
    problems = []
    for entry in args.example:
        name, _, program = entry.partition("=")
        mine = [f for f in committed if owned(name, f)]
        used.update(mine)
        output, why = (None, "not built (STEPGRAD_BUILD_EXAMPLES=OFF)") if not program else run(program)
        if output is None:
            if not mine:
                problems.append(f"{name}: the example is {why}, and docs/outputs has no copy of "
                                f"its output ({name}.out)")
                continue
            if program:
                why = "failed (" + why + ")"
            note(f"example {name} {why}: showing the committed docs/outputs/{name}*.out")
            for f in mine:
                shutil.copyfile(os.path.join(args.committed, f), os.path.join(args.out, f))
            continue
        parts = split(name, output)
        for part, text in parts.items():
            file_name = f"{part}.out"
            with open(os.path.join(args.out, file_name), "w", encoding="utf-8") as f:
                f.write(text)
            committed_path = os.path.join(args.committed, file_name)
            if args.refresh:
                with open(committed_path, "w", encoding="utf-8") as f:
                    f.write(text)
                note(f"wrote {committed_path}")
                continue
            if not args.check:
                continue
            generated_path = os.path.join(args.out, file_name)
            if file_name not in mine:
                problems.append(f"{name} prints a part {part} that docs/outputs lacks: add it with\n"
                                f"  {args.refresh_command}   (or cp {generated_path} {committed_path})")
                continue
            with open(committed_path, encoding="utf-8") as f:
                old = f.read()
            if not close_enough(text, old):
                diff = subprocess.run(["diff", "-u", committed_path, generated_path],
                                      stdout=subprocess.PIPE, text=True).stdout
                problems.append(f"docs/outputs/{file_name} is out of date: the example {name} now "
                                f"prints something else. If the change is intended, refresh the "
                                f"copy with\n  {args.refresh_command}\n"
                                f"  (or cp {generated_path} {committed_path})\n{diff}")
        stale = [f for f in mine if f[:-4] not in parts]
        if stale and args.refresh:
            for f in stale:
                os.remove(os.path.join(args.committed, f))
                note(f"removed {os.path.join(args.committed, f)} (the example no longer prints it)")
        elif stale and args.check:
            problems.append(f"docs/outputs/{', '.join(stale)}: the example {name} no longer prints "
                            f"this part; delete it, or run {args.refresh_command}")
    for f in committed:
        if f not in used:  # pasted real runs: copied as they are
            shutil.copyfile(os.path.join(args.committed, f), os.path.join(args.out, f))
    for problem in problems:
        print(f"error: stepgrad docs: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
