"""Build the whole book as one PDF: Jupyter Book's single-page HTML, printed by Chromium.

Usage: python -m tools.build_pdf    (make pdf; make book runs it after the HTML build)

Jupyter Book renders every page, with the notebooks' stored outputs, into one HTML page
(``--builder singlehtml``); the system's Chromium, driven by Playwright, loads it from a
server on 127.0.0.1, waits for MathJax to typeset every equation, and prints it to
:data:`PDF` inside the built site, where the introduction links to it. Nothing is fetched
from another host: every request elsewhere is refused, as in the browser tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.chromium import CHROMIUM_ARGS, MISSING, find_chromium, serve

ROOT = Path(__file__).resolve().parent.parent
#: Where Jupyter Book writes the single-page HTML.
SINGLE_HTML = ROOT / "_build" / "singlehtml"
#: The PDF's name, linked from the introduction.
PDF_NAME = "mnist-keras-book.pdf"
#: The PDF, inside the built site so that it is published with it.
PDF = ROOT / "_build" / "html" / PDF_NAME
#: Print styles: long code lines wrap instead of running off the page's edge.
PRINT_CSS = "pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }"
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
                target.parent.mkdir(parents=True, exist_ok=True)
                page.pdf(
                    path=str(target),
                    format="A4",
                    print_background=True,
                    margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER,
                )
            finally:
                browser.close()
    if refused:
        raise SystemExit(f"The single-page book asked for files from other hosts: {sorted(set(refused))}")
    return target


if __name__ == "__main__":
    build_single_html()
    path = print_pdf()
    print(f"Wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.1f} MB)")
