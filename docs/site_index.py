#!/usr/bin/python3
"""Finishes the generated site (the docs target runs it after Doxygen).

usage: site_index.py HTML_DIR

1. Writes HTML_DIR/sg_search_index.js, the index of the text search (sg_search.js): one entry
   per section of every tutorial page (page, anchor, page title, heading, text), so that the
   search box in the header finds words of the text, not only symbols as Doxygen's search does.
2. On every class and struct page, adds "Explained in <chapter section>" under the title: the
   first section of the chapters (in reading order) that links to the class, or else the
   chapter whose directory holds the class's header.
3. Repairs Doxygen's own dead anchors in its generated lists (never in the tutorial pages): the
   navigation tree's entries for functions of a file point into the file's page, where Doxygen
   does not write them (they are documented on the namespace's page), and the member lists and
   indexes link private friends (`friend Tensor tensor(...)` of TensorData) that no page shows.
   A link whose anchor exists on exactly one other page is pointed there; else it keeps the page
   and loses the anchor. check_links.py then checks the whole site.
4. Unlinks identifiers in the pages' code quotes that Doxygen links by name alone, to the wrong
   symbol: a local variable `stack` or `sum` linked to stepgrad::stack or stepgrad::sum, a field
   `node->grad` to Value::grad(), `std::tanh` to scalar::tanh, `o.backward()` on a chapter 1
   Value to Tensor::backward. Kept: calls of free functions, qualified names, and (in chapter 1)
   members of chapter 1's own classes.
5. Marks the program outputs (`@verbinclude` of generated/outputs/*.out) with the class
   sg-output, so that stepgrad.css shows them as output, not as code.
Standard library only.
"""

import html
import json
import os
import re
import sys

HEADING_RE = re.compile(r'<h([1-3])><a class="anchor" id="([^"]+)"></a>\s*(.*?)</h\1>', re.S)
TITLE_RE = re.compile(r'<div class="title">(.*?)</div>', re.S)
CONTENTS_RE = re.compile(r'<div class="contents">(.*?)</div><!-- contents -->', re.S)
TAG_RE = re.compile(r"<[^>]+>")
CLASS_PAGE_RE = re.compile(r"^(class|struct|union)[A-Za-z0-9_]+\.html$")
LINK_RE = re.compile(r'href="((?:class|struct|union)[A-Za-z0-9_]+)\.html')
PRE_RE = re.compile(r'<pre class="fragment">(.*?)</pre>', re.S)
CHAPTER_DIRS = {"01-scalar-value": "chapter01", "02-tensor": "chapter02", "03-nn": "chapter03",
                "04-gpu": "chapter04", "05-mnist": "chapter05"}


def text_of(fragment):
    # scripts, and the "your browser cannot show SVG" fallback text inside figures
    fragment = re.sub(r"<(script|object|iframe)\b.*?</\1>", " ", fragment, flags=re.S)
    return " ".join(html.unescape(TAG_RE.sub(" ", fragment)).split())


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def tutorial_pages(html_dir):
    """The pages' files in reading order: the main page, then pages.html's list."""
    pages = ["index.html"]
    listing = read(os.path.join(html_dir, "pages.html")) if os.path.exists(
        os.path.join(html_dir, "pages.html")) else ""
    for name in re.findall(r'<a class="el" href="([A-Za-z0-9_.-]+\.html)"', listing):
        if name not in pages:
            pages.append(name)
    return pages


def sections(page_html):
    """[(anchor or "", heading, text)] of one page, the part before the first heading first."""
    match = CONTENTS_RE.search(page_html)
    body = match.group(1) if match else page_html
    result = []
    headings = list(HEADING_RE.finditer(body))
    start = headings[0].start() if headings else len(body)
    result.append(("", "", text_of(body[:start])))
    for i, h in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(body)
        result.append((h.group(2), text_of(h.group(3)), text_of(body[h.end():end])))
    return result, body


GENERATED_LIST_RE = re.compile(r"(^navtree.*\.js$|\.js$|-members\.html$|_source\.html$|"
                               r"^functions.*\.html$|^namespacemembers.*\.html$|^globals.*\.html$)")
ANCHOR_RE = re.compile(r'\b(?:id|name)="([^"]+)"')
LOCAL_LINK_RE = re.compile(r'([A-Za-z0-9_.-]+\.html)#([A-Za-z0-9_-]+)')


def repair_generated_links(html_dir):
    """Points Doxygen's dead anchors in its generated lists at a page that has them."""
    anchors = {}
    where = {}
    for name in os.listdir(html_dir):
        if name.endswith(".html"):
            found = set(ANCHOR_RE.findall(read(os.path.join(html_dir, name))))
            anchors[name] = found
            if not name.endswith("_source.html"):
                for anchor in found:
                    where.setdefault(anchor, []).append(name)
    repaired = 0
    for name in sorted(os.listdir(html_dir)):
        if not GENERATED_LIST_RE.search(name) or name == "sg_search_index.js":
            continue
        path = os.path.join(html_dir, name)
        text = read(path)

        def fix(match):
            nonlocal repaired
            page, anchor = match.group(1), match.group(2)
            if page not in anchors or anchor in anchors[page]:
                return match.group(0)
            repaired += 1
            others = where.get(anchor, [])
            return f"{others[0]}#{anchor}" if len(others) == 1 else page
        changed = LOCAL_LINK_RE.sub(fix, text)
        if changed != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(changed)
    return repaired


CODE_LINK_RE = re.compile(r'<a class="code hl_([a-z]+)" href="([^"]+)"[^>]*>([^<]*)</a>')


def unlink_misreferences(page, text):
    """The page with Doxygen's name-only code links that cannot be right turned back into text."""
    def visible_after(position):
        return TAG_RE.sub("", text[position:position + 200]).lstrip()[:1]

    def visible_before(position):
        return html.unescape(TAG_RE.sub("", text[max(0, position - 200):position]))[-2:]

    def fix(match):
        kind, target, name = match.group(1), match.group(2), match.group(3)
        member_access = visible_before(match.start()).endswith((".", "->"))
        wrong = False
        if name.startswith("std::"):
            wrong = True                                   # the C++ library, not ours
        elif kind == "function" and "::" not in name and visible_after(match.end()) != "(":
            wrong = True                                   # a variable or a field, not a call
        elif page == "chapter01.html" and "scalar" not in target and (
                member_access or target.startswith(("namespacestepgrad.html", "classstepgrad_1_1Tensor"))):
            wrong = True                                   # chapter 1's code uses no tensors
        return f'<span class="sg-code-name">{name}</span>' if wrong else match.group(0)
    return CODE_LINK_RE.sub(fix, text)


def main():
    html_dir = sys.argv[1]
    repaired = repair_generated_links(html_dir)
    index = []
    explained = {}   # class page -> (href, label)
    for page in tutorial_pages(html_dir):
        path = os.path.join(html_dir, page)
        if not os.path.exists(path):
            continue
        page_html = read(path)
        title_match = TITLE_RE.search(page_html)
        title = text_of(title_match.group(1)) if title_match else page
        fixed = unlink_misreferences(page, page_html)
        if fixed != page_html:
            with open(path, "w", encoding="utf-8") as f:
                f.write(fixed)
            page_html = fixed
        parts, body = sections(page_html)
        for anchor, heading, text in parts:
            if text or heading:
                index.append({"p": page, "a": anchor, "t": title, "h": heading, "x": text})
        if page.startswith("chapter"):
            headings = [(m.start(), m.group(2), text_of(m.group(3))) for m in HEADING_RE.finditer(body)]
            for link in LINK_RE.finditer(body):
                target = link.group(1) + ".html"
                if target in explained:
                    continue
                anchor, heading = "", ""
                for position, a, h in headings:
                    if position < link.start():
                        anchor, heading = a, h
                href = page + ("#" + anchor if anchor else "")
                explained[target] = (href, title + (" \u203a " + heading if heading else ""))
    with open(os.path.join(html_dir, "sg_search_index.js"), "w", encoding="utf-8") as f:
        f.write("// The stepgrad site's text search index, written by docs/site_index.py.\n")
        f.write("var sgSearchIndex = ")
        json.dump(index, f, ensure_ascii=False, separators=(",", ":"))
        f.write(";\n")

    chapter_titles = {}
    for page in set(CHAPTER_DIRS.values()):
        path = os.path.join(html_dir, page + ".html")
        if os.path.exists(path):
            match = TITLE_RE.search(read(path))
            chapter_titles[page] = text_of(match.group(1)) if match else page
    outputs_dir = os.path.join(os.path.dirname(os.path.abspath(html_dir)), "generated", "outputs")
    outputs = set()
    if os.path.isdir(outputs_dir):
        for name in os.listdir(outputs_dir):
            outputs.add(read(os.path.join(outputs_dir, name)).strip("\n"))
    linked = 0
    for name in sorted(os.listdir(html_dir)):
        if not name.endswith(".html"):
            continue
        path = os.path.join(html_dir, name)
        page_html = read(path)
        changed = page_html
        if CLASS_PAGE_RE.match(name) and '<div class="contents">' in page_html:
            target = explained.get(name)
            if target is None:
                files = re.search(r"generated from the following files?:(.*?)</ul>", page_html, re.S)
                where = text_of(files.group(1)) if files else ""
                for directory, chapter in CHAPTER_DIRS.items():
                    if where.startswith(directory) and chapter in chapter_titles:
                        target = (chapter + ".html", chapter_titles[chapter])
                        break
            if target is not None:
                note = (f'<div class="sg-explained">Explained in <a href="{target[0]}">'
                        f'{html.escape(target[1])}</a></div>')
                changed = changed.replace('<div class="contents">',
                                          '<div class="contents">\n' + note, 1)
                linked += 1

        def mark(match):
            text = html.unescape(TAG_RE.sub("", match.group(1))).strip("\n")
            if text in outputs:
                return '<pre class="fragment sg-output">' + match.group(1) + "</pre>"
            return match.group(0)
        if outputs:
            changed = PRE_RE.sub(mark, changed)
        if changed != page_html:
            with open(path, "w", encoding="utf-8") as f:
                f.write(changed)
    print(f"stepgrad docs: text search index of {len(index)} sections; "
          f"{linked} class pages link to their chapter; {repaired} dead anchors of Doxygen's "
          f"lists repaired")
    return 0


if __name__ == "__main__":
    sys.exit(main())
