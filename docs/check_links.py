#!/usr/bin/python3
"""Checks the generated site for dead internal links (the docs target runs it after Doxygen).

usage: check_links.py HTML_DIR

Every local href or src in the site's .html, .js (navigation tree) and .svg (graphs) files must
name a file that exists, and every `#anchor` must exist in that file (as an id or a name), so a
link never lands at the top of a page instead of its section. External links (http:, mailto:,
javascript:) are not checked. Exits 1 and lists the dead links, if any.
"""

import html
import os
import re
import sys
from urllib.parse import unquote

LINK_RE = re.compile(r'(?:href|src|xlink:href)\s*=\s*"([^"]*)"')
JS_LINK_RE = re.compile(r'"((?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_.-]+\.html(?:#[^"]*)?)"')
ANCHOR_RE = re.compile(r'\b(?:id|name)\s*=\s*"([^"]+)"')
EXTERNAL = ("http:", "https:", "mailto:", "javascript:", "data:", "ftp:")


def anchors_of(path, cache):
    if path not in cache:
        with open(path, encoding="utf-8", errors="replace") as f:
            cache[path] = {html.unescape(a) for a in ANCHOR_RE.findall(f.read())}
    return cache[path]


def main():
    html_dir = os.path.abspath(sys.argv[1])
    cache = {}
    dead = []
    checked = 0
    for directory, _, files in os.walk(html_dir):
        if os.path.relpath(directory, html_dir).split(os.sep)[0] == "mathjax":
            continue
        for name in sorted(files):
            if not name.endswith((".html", ".js", ".svg")) or name == "doxygen.svg":
                continue  # doxygen.svg: Doxygen's logo refers to a gradient it lacks
            path = os.path.join(directory, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            links = LINK_RE.findall(text)
            if name.endswith(".js"):
                links += JS_LINK_RE.findall(text)
            for link in links:
                link = html.unescape(link).strip()
                if not link or link.startswith(EXTERNAL) or "$" in link or "'" in link or "+" in link:
                    continue
                target, _, anchor = link.partition("#")
                target = unquote(target.split("?")[0])
                if target:
                    base = html_dir if name.endswith(".js") and directory == html_dir else directory
                    target_path = os.path.normpath(os.path.join(base, target))
                else:
                    target_path = path
                checked += 1
                where = os.path.relpath(path, html_dir)
                if not os.path.exists(target_path):
                    dead.append(f"{where}: {link}: no such file")
                elif anchor and target_path.endswith((".html", ".svg")) and \
                        anchor not in anchors_of(target_path, cache):
                    dead.append(f"{where}: {link}: no anchor #{anchor} in {os.path.relpath(target_path, html_dir)}")
    for line in sorted(set(dead)):
        print(f"error: dead link: {line}", file=sys.stderr)
    print(f"stepgrad docs: checked {checked} internal links, {len(set(dead))} dead")
    return 1 if dead else 0


if __name__ == "__main__":
    sys.exit(main())
