"""Exercise regions in stepgrad's sources: finding them, checking them, stubbing them out.

Shared by scripts/make-exercises, scripts/check-exercises and scripts/grade (standard library
only, for Debian's /usr/bin/python3).

A region sits at the end of a function or lambda body, in a C++ or CUDA source file:

    <indent>// exercise <ID>: <title>
    <indent>// hint: <text>                                  (zero or more lines)
    <indent><the solution: whole statements>
    <indent>// end exercise

<ID> is two digits, a dot and a number (01.2, 02.10): the chapter and the exercise in it.
The student copy keeps the first line and the hints and puts, in place of the solution,

    <indent>throw stepgrad::NotImplemented("<ID>");

Two optional lines may sit among the hints, and stay in the student copy like them:

    <indent>// stub: <statement>      the stub to use instead of the throw: device code cannot
                                       throw, and a function may need to return a value
    <indent>// needs: gpu             the exercise's tests run only on a GPU (they report
                                       themselves skipped elsewhere), so the kit cannot prove
                                       them on a GPU-less machine and says so
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field

# Files that may hold regions: C++ and CUDA sources and headers.
SOURCE_SUFFIXES = (".cpp", ".cc", ".cxx", ".hpp", ".hh", ".h", ".cu", ".cuh")
# Files never scanned: prose may quote the region format (pages, READMEs, this kit's scripts).
PROSE_SUFFIXES = (".md", ".dox", ".txt.in", ".html", ".css")
SKIPPED_PATHS = ("scripts/lib/exercises.py",)

# The patterns are assembled from parts, so that this file does not itself look like a region.
_COMMENT = r"^(?P<indent>[ \t]*)//[ \t]*"
START_RE = re.compile(_COMMENT + r"exercise[ \t]+(?P<id>\d\d\.\d+)[ \t]*:[ \t]*(?P<title>.*?)\s*$")
END_RE = re.compile(_COMMENT + r"end[ \t]+exercise\b.*$")
HINT_RE = re.compile(_COMMENT + r"hint[ \t]*:.*$")
STUB_RE = re.compile(_COMMENT + r"stub[ \t]*:[ \t]*(?P<code>.*?)\s*$")
NEEDS_RE = re.compile(_COMMENT + r"needs[ \t]*:[ \t]*(?P<what>.*?)\s*$")
KNOWN_NEEDS = ("gpu",)
# A start marker with a malformed id (1.2, 01-2, 01.2a), to report it instead of skipping it.
LOOSE_START_RE = re.compile(_COMMENT + r"exercise[ \t]+[0-9][^ \t:]*[ \t]*:")
ID_RE = re.compile(r"^\d\d\.\d+$")


class RegionError(Exception):
    """A malformed region; the message names the file and line."""


@dataclass
class Region:
    """One exercise region in one file (line numbers are 1-based)."""
    id: str
    title: str
    path: str            # relative to the repository root
    start: int           # line of the "exercise" marker
    end: int             # line of the "end exercise" marker
    indent: str
    hints: list = field(default_factory=list)       # the hint, stub and needs lines, in order
    stub: str = None                                 # the custom stub statement, if any
    needs: list = field(default_factory=list)        # e.g. ["gpu"]
    solution: list = field(default_factory=list)  # the solution's lines, as written

    @property
    def chapter(self):
        return self.id.split(".")[0]

    @property
    def where(self):
        return f"{self.path}:{self.start}"


def id_key(exercise_id):
    """Sorts ids numerically: 01.2 < 01.10 < 02.1."""
    chapter, number = exercise_id.split(".")
    return (int(chapter), int(number))


def stub_line(indent, exercise_id):
    return f'{indent}throw stepgrad::NotImplemented("{exercise_id}");'


def parse_file(rel_path, text):
    """The regions of one file's text, in order. Raises RegionError on a malformed region."""
    lines = text.split("\n")
    regions = []
    current = None
    for number, line in enumerate(lines, start=1):
        start = START_RE.match(line)
        if start:
            if current is not None:
                raise RegionError(
                    f"{rel_path}:{number}: exercise {start['id']} starts inside exercise "
                    f"{current.id} (opened at line {current.start}): regions cannot nest; "
                    f"close the first with '// end exercise'")
            title = start["title"]
            if not title:
                raise RegionError(f"{rel_path}:{number}: exercise {start['id']} has no title "
                                  f"(write '// exercise {start['id']}: what it teaches')")
            current = Region(start["id"], title, rel_path, number, 0, start["indent"])
            continue
        if END_RE.match(line):
            if current is None:
                raise RegionError(f"{rel_path}:{number}: '// end exercise' without an opening "
                                  f"'// exercise <ID>: <title>' line")
            current.end = number
            _check_region(current, lines)
            regions.append(current)
            current = None
            continue
        if LOOSE_START_RE.match(line):
            raise RegionError(f"{rel_path}:{number}: looks like an exercise marker but is not "
                              f"'// exercise <ID>: <title>' (ID like 01.2): {line.strip()}")
        if current is not None:
            stub = STUB_RE.match(line)
            needs = NEEDS_RE.match(line)
            if (HINT_RE.match(line) or stub or needs) and not current.solution:
                current.hints.append(line)
                if stub:
                    if not stub["code"]:
                        raise RegionError(f"{rel_path}:{number}: '// stub:' needs a statement")
                    current.stub = stub["code"]
                if needs:
                    what = [w.strip() for w in needs["what"].split(",") if w.strip()]
                    unknown = [w for w in what if w not in KNOWN_NEEDS]
                    if unknown or not what:
                        raise RegionError(f"{rel_path}:{number}: '// needs:' takes "
                                          f"{', '.join(KNOWN_NEEDS)}, not {needs['what']!r}")
                    current.needs += what
            else:
                current.solution.append(line)
    if current is not None:
        raise RegionError(f"{rel_path}:{current.start}: exercise {current.id} is not closed: "
                          f"add '// end exercise' after its solution")
    return regions


def _check_region(region, lines):
    code = [l for l in region.solution if l.strip() and not l.strip().startswith("//")]
    if not code:
        raise RegionError(f"{region.path}:{region.start}: exercise {region.id} has no solution "
                          f"code between its markers")
    # The stub throws, so the region must be the last thing in its body: the next code line
    # closes the function or lambda.
    for line in lines[region.end:]:
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        if not stripped.startswith("}"):
            raise RegionError(
                f"{region.path}:{region.end}: exercise {region.id} must end its function or "
                f"lambda body (its stub throws), but code follows: {stripped}")
        break


def git_files(root):
    """The files of the working tree that git tracks or would track (relative paths): the
    tracked ones that exist, and new ones that .gitignore does not exclude. So build
    directories never count, and a file written but not yet committed does."""
    out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], check=True,
                         stdout=subprocess.PIPE).stdout.decode()
    return sorted({p for p in out.split("\0") if p and os.path.lexists(os.path.join(root, p))})


def is_source(path):
    return path.endswith(SOURCE_SUFFIXES)


def scan(root, paths):
    """All regions in the given files, ordered by id. Raises RegionError on any problem:
    a malformed region, a duplicate id, or a region in a file type the kit does not handle."""
    regions = []
    for rel in paths:
        full = os.path.join(root, rel)
        if os.path.islink(full) or not os.path.isfile(full):
            continue
        if rel in SKIPPED_PATHS or rel.endswith(PROSE_SUFFIXES):
            continue
        try:
            with open(full, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            continue  # binary file
        if "exercise" not in text:
            continue
        if not is_source(rel):
            for number, line in enumerate(text.split("\n"), start=1):
                if START_RE.match(line) or END_RE.match(line):
                    raise RegionError(
                        f"{rel}:{number}: an exercise marker in a file type the kit does not "
                        f"handle (only {' '.join(SOURCE_SUFFIXES)}): move the region into a "
                        f"C++ source")
            continue
        regions.extend(parse_file(rel, text))
    seen = {}
    for region in regions:
        if region.id in seen:
            raise RegionError(f"exercise {region.id} is defined twice: {seen[region.id].where} "
                              f"and {region.where}; give each region its own id")
        seen[region.id] = region
    return sorted(regions, key=lambda r: id_key(r.id))


def scan_repository(root):
    return scan(root, git_files(root))


def walk_files(root):
    """The files of a directory that may not be a git checkout (relative paths), leaving out
    .git and build directories (build/, build-*/) as .gitignore does."""
    paths = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", "build", "__pycache__")
                   and not d.startswith("build-")]
        for name in files:
            paths.append(os.path.relpath(os.path.join(directory, name), root))
    return sorted(paths)


def tree_files(root):
    """git_files for a git checkout, walk_files for a plain directory (an unpacked copy)."""
    if os.path.isdir(os.path.join(root, ".git")):
        try:
            return git_files(root)
        except subprocess.CalledProcessError:
            pass
    return walk_files(root)


def scan_tree(root):
    """Like scan_repository, for a directory that may not be a git checkout (a student copy)."""
    return scan(root, walk_files(root))


def scan_any(root):
    """The regions of a checkout (git) or of a plain copy such as an unpacked submission."""
    return scan(root, tree_files(root))


def stub_text(text, rel_path, stubbed_ids):
    """The file's text with the regions whose id is in stubbed_ids replaced by their stubs."""
    lines = text.split("\n")
    regions = parse_file(rel_path, text)
    # Replace from the bottom up so earlier line numbers stay valid.
    for region in sorted(regions, key=lambda r: r.start, reverse=True):
        if region.id not in stubbed_ids:
            continue
        first_body = region.start + len(region.hints)       # 0-based index after the hints
        last_body = region.end - 1                          # 0-based index of the end marker
        stub = (region.indent + region.stub) if region.stub else stub_line(region.indent,
                                                                           region.id)
        lines[first_body:last_body] = [stub]
    return "\n".join(lines)


def repository_root():
    """The root of the repository this script lives in."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.abspath(os.path.join(here, "..", ".."))


def fail(program, message, code=2):
    print(f"{program}: error: {message}", file=sys.stderr)
    sys.exit(code)
