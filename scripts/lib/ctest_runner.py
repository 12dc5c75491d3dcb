"""Running one exercise's CTest entries and reading the result (for check-exercises and grade)."""

import re
import subprocess
from dataclasses import dataclass

NOT_IMPLEMENTED_RE = re.compile(r"exercise (\d\d\.\d+) is not implemented yet")
SUMMARY_RE = re.compile(r"(\d+)% tests passed, (\d+) tests? failed out of (\d+)")
CATCH_CASES_RE = re.compile(
    r"test cases:\s*(\d+)\s*\|\s*(?:(\d+) passed)?\s*\|?\s*(?:(\d+) failed)?")
CATCH_ALL_PASSED_RE = re.compile(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)")


@dataclass
class Result:
    """What `ctest -L ^ex-<id>$` reported."""
    tests: int = 0             # CTest entries found
    failed: int = 0            # CTest entries that failed
    cases: int = 0             # Catch2 test cases run (summed over the entries)
    cases_passed: int = 0
    not_implemented: tuple = ()  # ids whose stub was hit
    output: str = ""
    returncode: int = 0

    @property
    def passed(self):
        return self.tests > 0 and self.failed == 0 and self.returncode == 0


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


def run_exercise(build_dir, exercise_id, jobs=2, timeout=600):
    command = ["ctest", "--test-dir", build_dir, "-L", label_regex(exercise_id),
               "--verbose", "-j", str(jobs), "--timeout", str(timeout)]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, errors="replace")
    result = Result(output=proc.stdout, returncode=proc.returncode)
    summary = SUMMARY_RE.search(proc.stdout)
    if summary:
        result.failed = int(summary.group(2))
        result.tests = int(summary.group(3))
    for match in CATCH_ALL_PASSED_RE.finditer(proc.stdout):
        result.cases += int(match.group(1))
        result.cases_passed += int(match.group(1))
    for match in CATCH_CASES_RE.finditer(proc.stdout):
        passed = int(match.group(2) or 0)
        result.cases += int(match.group(1))
        result.cases_passed += passed
    result.not_implemented = tuple(sorted(set(NOT_IMPLEMENTED_RE.findall(proc.stdout))))
    return result


def exercise_labels(build_dir):
    """The ex-<id> labels that a build's tests carry."""
    proc = subprocess.run(["ctest", "--test-dir", build_dir, "--print-labels"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, errors="replace")
    labels = re.findall(r"^\s+ex-(\d\d\.\d+)\s*$", proc.stdout, flags=re.M)
    return sorted(set(labels))
