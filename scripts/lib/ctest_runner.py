"""Running one exercise's CTest entries and reading the result (for check-exercises, grade and
test), and building only the executables those entries run."""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass

NOT_IMPLEMENTED_RE = re.compile(r"exercise (\d\d\.\d+) is not implemented yet")
SUMMARY_RE = re.compile(r"(\d+)% tests passed, (\d+) tests? failed out of (\d+)")
CATCH_CASES_RE = re.compile(
    r"test cases:\s*(\d+)\s*\|\s*(?:(\d+) passed)?\s*\|?\s*(?:(\d+) failed)?")
CATCH_ALL_PASSED_RE = re.compile(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)")
# CTest's list after the summary: "The following tests did not run:" / "... FAILED:", then
# one line per test: "<tab> 12 - scalar_tests: exercise 01.2 (Skipped)".
LISTED_TEST_RE = re.compile(r"^\s+\d+ - (?P<name>.*?) \((?P<why>[^()]*)\)\s*$", re.M)
SKIPPED_RE = re.compile(r"\*\*\*Skipped\b|\(Skipped\)")
# Catch2's console reporter heads each failing test case with its name between two rules.
_RULE = "-" * 79


@dataclass
class Result:
    """What `ctest -L ^ex-<id>$` reported."""
    tests: int = 0             # CTest entries found
    failed: int = 0            # CTest entries that failed
    skipped: int = 0           # CTest entries that reported themselves skipped (exit code 77)
    cases: int = 0             # Catch2 test cases run (summed over the entries)
    cases_passed: int = 0
    not_implemented: tuple = ()  # ids whose stub was hit
    failed_tests: tuple = ()     # names of the CTest entries that failed
    failed_cases: tuple = ()     # names of the Catch2 test cases that failed
    output: str = ""
    returncode: int = 0

    @property
    def ran(self):
        """CTest entries that really ran (were not skipped)."""
        return self.tests - self.skipped

    @property
    def all_skipped(self):
        return self.tests > 0 and self.skipped == self.tests

    @property
    def passed(self):
        """At least one entry ran, and none failed (a skipped entry proves nothing)."""
        return self.ran > 0 and self.failed == 0 and self.returncode == 0


_TEST_LINE_RE = re.compile(r"^\d+: ?(.*)$")
_CTEST_NOISE = ("Test command:", "Working Directory:", "Test timeout computed", "Filters:")


def test_output(output):
    """Only what the tests printed (ctest --verbose prefixes each line with the test number)."""
    lines = []
    for line in output.splitlines():
        match = _TEST_LINE_RE.match(line)
        if match and not match.group(1).startswith(_CTEST_NOISE):
            lines.append(match.group(1))
    return "\n".join(lines).strip()


def label_regex(exercise_id):
    """A CTest label regex matching exactly ex-<id> (ctest -L takes a regular expression)."""
    return "^ex-" + re.escape(exercise_id) + "$"


def failed_case_names(output):
    """The names of the Catch2 test cases that failed, in order, from the console output."""
    lines = [_TEST_LINE_RE.sub(r"\1", l) for l in output.splitlines()]
    names = []
    for i, line in enumerate(lines[:-1]):
        if line.strip() == _RULE and i + 1 < len(lines):
            name = lines[i + 1].strip()
            # the header is: rule, name (and sections), rule, file:line, dots
            if name and name != _RULE and not name.startswith(("/", "...")) \
                    and (i == 0 or lines[i - 1].strip() != _RULE) and name not in names \
                    and any(l.strip() == _RULE for l in lines[i + 2:i + 8]):
                names.append(name)
    return tuple(names)


def parse(output, returncode=0):
    """Reads ctest's output (with --verbose or --output-on-failure) into a Result."""
    result = Result(output=output, returncode=returncode)
    summary = SUMMARY_RE.search(output)
    if summary:
        result.failed = int(summary.group(2))
        result.tests = int(summary.group(3))
    for match in LISTED_TEST_RE.finditer(output):
        if match["why"] == "Skipped":
            result.skipped += 1
        elif match["why"] not in ("Disabled", "Not Run"):
            result.failed_tests += (match["name"],)
    for match in CATCH_ALL_PASSED_RE.finditer(output):
        result.cases += int(match.group(1))
        result.cases_passed += int(match.group(1))
    for match in CATCH_CASES_RE.finditer(output):
        passed = int(match.group(2) or 0)
        result.cases += int(match.group(1))
        result.cases_passed += passed
    result.not_implemented = tuple(sorted(set(NOT_IMPLEMENTED_RE.findall(output))))
    result.failed_cases = failed_case_names(output)
    return result


def run_exercise(build_dir, exercise_id, jobs=2, timeout=600, stream=False):
    """Runs `ctest -L ^ex-<id>$` in build_dir. With stream=True it prints ctest's output as it
    comes (--output-on-failure, for a person); otherwise it keeps it (--verbose)."""
    command = ["ctest", "--test-dir", build_dir, "-L", label_regex(exercise_id),
               "-j", str(jobs), "--timeout", str(timeout)]
    command.append("--output-on-failure" if stream else "--verbose")
    if not stream:
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, errors="replace")
        return parse(proc.stdout, proc.returncode)
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, errors="replace") as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
    return parse("".join(lines), proc.returncode)


def exercise_labels(build_dir):
    """The ex-<id> labels that a build's tests carry."""
    proc = subprocess.run(["ctest", "--test-dir", build_dir, "--print-labels"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, errors="replace")
    labels = re.findall(r"^\s+ex-(\d\d\.\d+)\s*$", proc.stdout, flags=re.M)
    return sorted(set(labels))


def exercise_executables(build_dir, exercise_ids):
    """The programs that the CTest entries of these exercises run (absolute paths inside
    build_dir), from `ctest --show-only=json-v1`. None when ctest cannot say."""
    regex = "|".join(label_regex(i) for i in exercise_ids)
    proc = subprocess.run(["ctest", "--test-dir", build_dir, "-L", regex,
                           "--show-only=json-v1"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, universal_newlines=True, errors="replace")
    try:
        tests = json.loads(proc.stdout).get("tests", [])
    except ValueError:
        return None
    build_dir = os.path.realpath(build_dir)
    registered = None
    programs = []
    for test in tests:
        command = test.get("command") or []
        if command:
            program = command[0]
        else:
            # ctest gives no command for a program not built yet: read it from add_test
            if registered is None:
                registered = registered_programs(build_dir)
            program = registered.get(test.get("name"))
        if program:
            program = os.path.realpath(program)
            if program.startswith(build_dir + os.sep) and program not in programs:
                programs.append(program)
    return programs


_ADD_TEST_RE = re.compile(r'^add_test\(\[=\[(?P<name>.*?)\]=\] "(?P<program>[^"]+)"', re.M)


def registered_programs(build_dir):
    """Test name -> program, from the add_test lines of the build's CTestTestfile.cmake files."""
    programs = {}
    for directory, _, files in os.walk(build_dir):
        if "CTestTestfile.cmake" in files:
            with open(os.path.join(directory, "CTestTestfile.cmake"), encoding="utf-8",
                      errors="replace") as f:
                for match in _ADD_TEST_RE.finditer(f.read()):
                    programs[match["name"]] = match["program"]
    return programs


def generator(build_dir):
    with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8",
              errors="replace") as cache:
        for line in cache:
            if line.startswith("CMAKE_GENERATOR:"):
                return line.split("=", 1)[1].strip()
    return ""


def build_command(build_dir, exercise_ids=None, jobs=2):
    """The `cmake --build` command that brings the exercises' test programs up to date: with
    Ninja, only those programs (named by their paths in the build) and what they link; with
    another generator, or when the exercises have no entries yet, everything."""
    command = ["cmake", "--build", build_dir, "-j", str(jobs)]
    if exercise_ids and generator(build_dir) == "Ninja":
        programs = exercise_executables(build_dir, exercise_ids)
        if programs:
            root = os.path.realpath(build_dir)
            command += ["--target"] + [os.path.relpath(p, root) for p in programs]
    return command
