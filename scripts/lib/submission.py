"""A student's submission, made ready to grade with the teacher's tests (scripts/grade
--submission): copied to a scratch directory, with everything that decides a grade taken from
the teacher's checkout, then configured."""

import os
import re
import shutil
import subprocess

import exercises

# What a grade depends on besides the exercise code, taken from the teacher's checkout:
# directories (replaced whole, so tests a student deleted come back and tests a student added
# go), and files wherever they are (the CMake files register the tests, their labels and flags).
GRADING_DIRS = ("tests", "shared/tests", "cmake", "scripts")
CHAPTER_TESTS_RE = re.compile(r"^\d\d-[^/]+/tests$")
GRADING_FILES_RE = re.compile(r"(^|/)(CMakeLists\.txt|CMakePresets\.json|[^/]+\.cmake)$")
# Never copied from a submission: its builds and its git history.
IGNORED = shutil.ignore_patterns(".git", "build", "build-*")
# How the scratch copy is configured: the student preset, without the examples.
CONFIGURE = ["-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DSTEPGRAD_TORCH_TESTS=OFF",
             "-DSTEPGRAD_BUILD_BENCH=OFF", "-DSTEPGRAD_BUILD_EXAMPLES=OFF"]


class SubmissionError(Exception):
    """The submission cannot be graded at all (not a directory, or not a stepgrad copy)."""


def grading_dirs(teacher_files):
    """The directories replaced whole by the teacher's: tests/, shared/tests, cmake/, scripts/
    and every chapter's tests/."""
    dirs = set(GRADING_DIRS)
    for rel in teacher_files:
        parts = rel.split("/")
        if len(parts) > 2 and CHAPTER_TESTS_RE.match("/".join(parts[:2])):
            dirs.add("/".join(parts[:2]))
    return sorted(dirs)


def is_grading_file(rel, dirs):
    return GRADING_FILES_RE.search(rel) is not None or any(
        rel == d or rel.startswith(d + "/") for d in dirs)


def copy_file(source, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.lexists(target):
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        else:
            os.remove(target)
    if os.path.islink(source):
        os.symlink(os.readlink(source), target)
    else:
        shutil.copy2(source, target)


def overlay(teacher, teacher_files, copy_dir):
    """Puts the teacher's test directories, CMake files and scripts in place in copy_dir."""
    dirs = grading_dirs(teacher_files)
    for d in dirs:
        shutil.rmtree(os.path.join(copy_dir, d), ignore_errors=True)
    for rel in teacher_files:
        if is_grading_file(rel, dirs):
            copy_file(os.path.join(teacher, rel), os.path.join(copy_dir, rel))
    return dirs


def splice(teacher_text, submitted_text, rel, ids):
    """The teacher's file with the bodies of its regions taken from the submitted file. A
    region the submission lacks (or has damaged) gets its stub. Returns (text, notes)."""
    notes = []
    try:
        submitted = {r.id: r for r in exercises.parse_file(rel, submitted_text)}
    except exercises.RegionError as error:
        notes.append(f"{rel}: damaged exercise markers, its exercises are graded as stubs "
                     f"({error})")
        submitted = {}
    lines = teacher_text.split("\n")
    regions = exercises.parse_file(rel, teacher_text)
    for region in sorted(regions, key=lambda r: r.start, reverse=True):
        if region.id not in ids:
            continue
        first_body, last_body = region.start + len(region.hints), region.end - 1
        if region.id in submitted:
            lines[first_body:last_body] = submitted[region.id].solution
        else:
            if submitted:
                notes.append(f"{rel}: exercise {region.id} is missing, graded as a stub")
            lines[first_body:last_body] = [(region.indent + region.stub) if region.stub else
                                           exercises.stub_line(region.indent, region.id)]
    return "\n".join(lines), notes


def regions_only_copy(teacher, teacher_files, submission, copy_dir, regions):
    """copy_dir := the teacher's checkout with the submission's region bodies."""
    notes = []
    for rel in teacher_files:
        copy_file(os.path.join(teacher, rel), os.path.join(copy_dir, rel))
    ids = {r.id for r in regions}
    for rel in sorted({r.path for r in regions}):
        with open(os.path.join(teacher, rel), encoding="utf-8") as f:
            teacher_text = f.read()
        submitted_path = os.path.join(submission, rel)
        if os.path.isfile(submitted_path):
            with open(submitted_path, encoding="utf-8", errors="replace") as f:
                submitted_text = f.read()
        else:
            notes.append(f"{rel} is missing from the submission: its exercises are graded as "
                         f"stubs")
            submitted_text = ""
        text, more = splice(teacher_text, submitted_text, rel, ids)
        notes += more
        with open(os.path.join(copy_dir, rel), "w", encoding="utf-8") as f:
            f.write(text)
    return notes


def prepare(teacher, submission, scratch, regions, regions_only=False, cmake_args=()):
    """Writes scratch/copy and configures scratch/build. Returns (build_dir, notes,
    configure_error): configure_error is "" or the tail of cmake's output."""
    submission = os.path.abspath(submission)
    if not os.path.isdir(submission):
        raise SubmissionError(f"--submission {submission} is not a directory")
    if not os.path.isfile(os.path.join(submission, "CMakeLists.txt")):
        raise SubmissionError(f"--submission {submission} has no CMakeLists.txt: not a copy "
                              f"of stepgrad (give the directory the student's copy unpacks to)")
    copy_dir = os.path.join(scratch, "copy")
    build_dir = os.path.join(scratch, "build")
    for path in (copy_dir, build_dir):
        shutil.rmtree(path, ignore_errors=True)
    teacher_files = exercises.tree_files(teacher)
    if regions_only:
        os.makedirs(copy_dir)
        notes = regions_only_copy(teacher, teacher_files, submission, copy_dir, regions)
    else:
        shutil.copytree(submission, copy_dir, symlinks=True, ignore=IGNORED)
        dirs = overlay(teacher, teacher_files, copy_dir)
        notes = [f"graded with the teacher's {', '.join(dirs)}, CMake files and presets"]
    proc = subprocess.run(["cmake", "-S", copy_dir, "-B", build_dir] + CONFIGURE
                          + list(cmake_args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, errors="replace")
    error = "" if proc.returncode == 0 else "\n".join(proc.stdout.splitlines()[-40:])
    return build_dir, notes, error
