"""Build the whole book as one PDF: Jupyter Book's single-page HTML, printed by Chromium.

Usage: python -m tools.build_pdf    (make pdf; make book runs it after the HTML build)

Jupyter Book renders every page, with the notebooks' stored outputs, into one HTML page
(``--builder singlehtml``); the system's Chromium, driven by Playwright, loads it from a
server on 127.0.0.1, waits for MathJax to typeset every equation, and prints it to
:data:`PDF` inside the built site, where the introduction links to it. Nothing is fetched
from another host: every request elsewhere is refused, as in the browser tests.

Before printing, the page is made fit for paper (:data:`FOR_PAPER`): the drawing pad gets a
digit drawn on it, becomes a still picture, and a sentence sends the reader to the website;
links to other pages of the site point to the published site instead of the local server;
and code too wide for the page wraps under its own indentation. The PDF carries an outline
(bookmarks) of the chapters and their sections.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.chromium import CHROMIUM_ARGS, MISSING, find_chromium, serve
from tools.sync_repository import repository

ROOT = Path(__file__).resolve().parent.parent
#: Where Jupyter Book writes the single-page HTML.
SINGLE_HTML = ROOT / "_build" / "singlehtml"
#: The PDF's name, linked from the introduction.
PDF_NAME = "mnist-keras-book.pdf"
#: The PDF, inside the built site so that it is published with it.
PDF = ROOT / "_build" / "html" / PDF_NAME
#: Print styles: long code lines wrap instead of running off the page's edge.
PRINT_CSS = "pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }"
#: Makes the page fit for paper; run with the published site's address (see the module's text).
FOR_PAPER = """async (site) => {
  // The pad: a 3 drawn on it, the network's answer shown, then frozen as a picture.
  const demo = await window.drawDigitReady?.catch(() => null);
  const pad = document.getElementById('draw-digit');
  if (pad && demo) {
    const stroke = [[70, 60], [150, 40], [200, 80], [150, 140], [100, 145], [150, 140],
                    [205, 190], [160, 250], [70, 240]];
    for (let i = 1; i < stroke.length; i++) demo.stroke(stroke[i - 1], stroke[i]);
    await demo.idle();
    for (const canvas of pad.querySelectorAll('canvas')) {
      const picture = document.createElement('img');
      picture.src = canvas.toDataURL('image/png');
      picture.className = canvas.className;
      picture.alt = canvas.getAttribute('aria-label') || '';
      canvas.replaceWith(picture);
    }
    for (const control of pad.querySelectorAll('.dd-controls')) control.remove();
    const note = document.createElement('p');
    note.className = 'pdf-note';
    note.innerHTML = 'On paper the pad is a picture of a 3 drawn on it. Draw your own on the ' +
      `book's website: <a href="${site}chapters/08_draw_a_digit.html">${site}chapters/08_draw_a_digit.html</a>`;
    pad.after(note);
  }
  // The headings' "#" permalinks mean nothing on paper (and would enter the outline).
  for (const permalink of document.querySelectorAll('a.headerlink')) permalink.remove();
  // Links into the site lead to the published site; links within this page stay.
  for (const link of document.querySelectorAll('a[href]')) {
    const url = new URL(link.href);
    if (url.origin !== location.origin) continue;
    if (url.pathname === location.pathname && url.hash) continue;
    link.href = site + url.pathname.replace(/^\\//, '') + url.hash;
  }
  // Code too wide for the page wraps under its own indentation, four characters further in.
  // Each line becomes a block with a hanging indent; a line whose highlighting spans run on
  // into the next (a docstring) cannot be cut apart, so such a block keeps plain text.
  const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const count = (text, pattern) => (text.match(pattern) || []).length;
  for (const pre of document.querySelectorAll('pre')) {
    let lines = pre.innerHTML.split('\\n');
    if (!lines.every((line) => count(line, /<span\\b/g) === count(line, /<\\/span>/g))) {
      lines = pre.textContent.split('\\n').map(escape);
    }
    pre.innerHTML = lines.map((line) => {
      const indent = line.replace(/<[^>]*>/g, '').match(/^ */)[0].length + 4;
      return `<span style="display:block;padding-left:${indent}ch;text-indent:-${indent}ch">${line || ' '}</span>`;
    }).join('');
  }
}"""
#: The page number at the foot of every page.
FOOTER = (
    '<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)


def build_single_html() -> None:
    """Render the book into one HTML page, with the same strictness as ``make book``."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run(
        [str(jupyter_book), "build", "--builder", "singlehtml", "--warningiserror", "--nitpick", "--keep-going", "."],
        cwd=ROOT,
        check=True,
    )


def published_site() -> str:
    """The address where GitHub Pages publishes the book, from ``_config.yml``."""
    owner, name, _ = repository()
    return f"https://{owner.lower()}.github.io/{name}/"


def print_pdf(source: Path = SINGLE_HTML, target: Path = PDF) -> Path:
    """Print ``source``'s single page to ``target`` with Chromium; return ``target``."""
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    if not executable:
        raise SystemExit(MISSING)
    refused = []
    with serve(source) as base:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})

                def route(request_route) -> None:
                    url = request_route.request.url
                    if url.startswith(base) or url.startswith("data:"):
                        request_route.continue_()
                    else:
                        refused.append(url)
                        request_route.abort()

                page.route("**/*", route)
                page.goto(f"{base}/intro.html", wait_until="networkidle")
                page.wait_for_function(
                    "() => !document.querySelector('.math') || "
                    "(window.MathJax && MathJax.startup && MathJax.startup.promise && "
                    "document.querySelectorAll('.math mjx-container, mjx-container.MathJax').length > 0)",
                    timeout=60_000,
                )
                page.evaluate("() => window.MathJax?.startup?.promise")
                page.add_style_tag(content=PRINT_CSS)
                page.emulate_media(media="print")
                page.evaluate(FOR_PAPER, published_site())
                headings = page.evaluate(
                    "Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'))"
                    ".map(h => h.textContent.replace(/\\s+/g, ' ').trim())"
                )
                target.parent.mkdir(parents=True, exist_ok=True)
                page.pdf(
                    path=str(target),
                    format="A4",
                    print_background=True,
                    margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER,
                    outline=True,  # bookmarks of the chapters and sections, from the headings
                    tagged=True,  # the outline is built from the tagged PDF's structure
                )
            finally:
                browser.close()
    if refused:
        raise SystemExit(f"The single-page book asked for files from other hosts: {sorted(set(refused))}")
    fix_outline(target, headings)
    arrange_outline(target, toc_parts())
    return target


def toc_parts() -> list[tuple[str, str]]:
    """Each part of ``_toc.yml``: its caption and the title of its first page."""
    import json

    import yaml

    def title(file: str) -> str:
        path = ROOT / f"{file}.ipynb"
        if path.is_file():
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            text = next("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
        else:
            text = (ROOT / f"{file}.md").read_text(encoding="utf-8")
        heading = next(line for line in text.splitlines() if line.startswith("# "))
        return heading[2:].replace("`", "").strip()

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [(part["caption"], title(part["chapters"][0]["file"])) for part in toc["parts"]]


def arrange_outline(path: Path, parts: list[tuple[str, str]]) -> None:
    """Arrange the PDF's bookmarks as the book is arranged: its parts, their chapters, their sections.

    Chromium's outline puts every chapter under the introduction's title, beside the
    introduction's own sections, and adds the contents list's headings ("Contents" and the
    parts' captions), which all point at the first page. Those go; each part becomes a bookmark
    that opens at its first chapter and holds its chapters (``parts``: each part's caption and
    first page's title, from :func:`toc_parts`).
    """
    import logging

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import Fit, NameObject

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(path)
    entries: list[tuple[int, str, int, Fit]] = []  # depth, title, page, where on the page

    def walk(items: list, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                where = Fit.xyz(item.left, item.top, item.zoom) if item.typ == "/XYZ" else Fit.fit()
                entries.append((depth, str(item.title), reader.get_destination_page_number(item), where))

    walk(reader.outline, 0)
    captions = {caption for caption, _ in parts}
    entries = [entry for entry in entries if entry[1] != "Contents" and entry[1] not in captions]
    letters = lambda text: "".join(text.split())  # noqa: E731
    starts = {}
    for caption, first in parts:
        at = next((i for i, (depth, title, _, _) in enumerate(entries)
                   if depth == 1 and letters(title) == letters(first)), None)
        if at is None:
            raise SystemExit(f"The PDF's outline has no bookmark for {first!r}, the first page of part {caption!r}.")
        starts[at] = caption

    writer = PdfWriter(clone_from=reader)
    del writer._root_object[NameObject("/Outlines")]
    parents = [None]  # parents[d] is the bookmark that holds the entries of depth d
    for index, (depth, title, page, where) in enumerate(entries):
        if index in starts:
            parents[1:] = [writer.add_outline_item(title=starts[index], page_number=page, fit=where)]
        parents = parents[: depth + 1]
        item = writer.add_outline_item(title=title, page_number=page, parent=parents[depth], fit=where)
        parents.append(item)
    with open(path, "wb") as file:
        writer.write(file)


def fix_outline(path: Path, headings: list[str]) -> int:
    """Give the PDF's bookmarks their headings' text; return how many were corrected.

    Chromium builds the outline from the headings, but joins a heading's wrapped lines
    without a space ("devices andmachines") and sometimes repeats a heading's text
    ("3. Defining the model3. Defining the model"). Each bookmark is matched, in order, to
    the heading whose letters it holds once or twice, and takes that heading's text.
    """
    import logging

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    # Chromium's trailer undercounts the objects of a tagged PDF; pypdf says so, and copes.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    def letters(text: str) -> str:
        return "".join(text.split())

    writer = PdfWriter(clone_from=PdfReader(path))
    outlines = writer._root_object.get("/Outlines")
    stack = [outlines.get_object()["/First"]] if outlines and "/First" in outlines.get_object() else []
    start, corrected = 0, 0
    while stack:
        node = stack.pop().get_object()
        title = str(node.get("/Title", ""))
        for index in range(start, len(headings)):
            if letters(title) in (letters(headings[index]), 2 * letters(headings[index])):
                if title != headings[index]:
                    node[NameObject("/Title")] = TextStringObject(headings[index])
                    corrected += 1
                start = index + 1
                break
        if "/Next" in node:
            stack.append(node["/Next"])
        if "/First" in node:  # children first: the outline in document order
            stack.append(node["/First"])
    with open(path, "wb") as file:
        writer.write(file)
    return corrected


if __name__ == "__main__":
    build_single_html()
    path = print_pdf()
    print(f"Wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.1f} MB)")
