"""Every page of the built book, opened in headless Chromium from a local server.

On each page: no JavaScript error in the console, no failed request, no request to any
other host (the site works offline), no broken image, no link inside the site to a
missing page or anchor, every figure of a chapter's notebook present, equations typeset
by the book's own MathJax, and Binder and Colab launch buttons on every notebook page.
No page shows a path of the machine that built it, or a traceback. Every figure of a
notebook has a number, a caption and alt text that describes it, and its smallest text is
readable in the page's content column at 1280 px.
A full-page screenshot of each page is saved in ``artifacts/screenshots``.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from browser import ARTIFACTS, ROOT, open_context
from chapters import shown_figures

#: Runs after nbval and the book build (`make test`, second phase).
pytestmark = pytest.mark.book

TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
PAGES = [TOC["root"]] + [entry["file"] for part in TOC["parts"] for entry in part["chapters"]]
#: Pages Sphinx makes by itself.
GENERATED = ["genindex", "search", "py-modindex"]
SCREENSHOTS = ARTIFACTS / "screenshots"
from tools.execute_notebooks import FONT_KEY
from tools.figure_sizes import MIN_TEXT_PX, shown_text_px


def figure_problems(figures: list[dict], site_root: Path, page: str) -> list[str]:
    """What is wrong with a page's figures, as measured in the browser.

    ``figures`` holds, per image, its ``src``, ``alt``, ``caption`` (the text of the
    enclosing figure's caption, or ``None``) and its ``shown`` and ``natural`` widths.
    The smallest text is the font size recorded in the PNG when the notebook was executed
    (``tools/execute_notebooks.py``), at the PNG's resolution, scaled as the page shows it.
    """
    problems = []
    for number, figure in enumerate(figures, 1):
        name = f"{page}, image {number}"
        alt = (figure["alt"] or "").strip()
        file_name = Path(figure["src"]).name
        if len(alt) < 20 or alt == file_name or re.fullmatch(r"\S+\.(png|jpe?g|svg)", alt):
            problems.append(f"{name}: alt text {alt!r} does not describe the figure")
        if not (figure["caption"] or "").strip():
            problems.append(f"{name}: no numbered caption (set mystnb.figure.caption and name)")
        elif not re.match(r"Fig\. \d+", figure["caption"].strip()):
            problems.append(f"{name}: caption {figure['caption'][:40]!r} has no figure number")
        path = site_root / Path(figure["page_dir"], figure["src"])
        info = Image.open(path).info if path.is_file() else {}
        if FONT_KEY not in info:
            problems.append(f"{name}: {file_name} records no font size: re-execute it with make notebooks")
            continue
        smallest = shown_text_px(info, figure["shown"], figure["natural"])
        if smallest < MIN_TEXT_PX:
            problems.append(
                f"{name}: its smallest text is {float(info[FONT_KEY]):g} pt, shown {smallest:.1f} px high at "
                f"{figure['shown']} of {figure['natural']} px wide (at least {MIN_TEXT_PX:g} px): draw it "
                "narrower or with larger text"
            )
    return problems


def test_the_table_of_contents_lists_pages():
    assert len(PAGES) >= 10 and "chapters/08_draw_a_digit" in PAGES


@functools.cache
def _anchors(path: Path) -> frozenset[str]:
    return frozenset(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))


def _expected_figures(page: str) -> int | None:
    """Images a notebook page must show (``None`` for a page that is not a notebook)."""
    source = ROOT / f"{page}.ipynb"
    return shown_figures(source) if source.is_file() else None


@pytest.mark.parametrize("page", PAGES + GENERATED)
def test_page_works_in_a_browser(page, site, browser):
    if page in GENERATED and not (site.root / f"{page}.html").is_file():
        pytest.skip(f"{page}.html is not built for this book")
    context, visit = open_context(browser, site)
    try:
        tab = context.new_page()
        tab.goto(site.page_url(page), wait_until="load")
        tab.wait_for_load_state("networkidle")
        if tab.locator(".math").count():
            # The book's own MathJax typesets every equation (no CDN).
            tab.wait_for_function(
                "document.querySelectorAll('.math').length > 0 && "
                "document.querySelectorAll('.math mjx-container, mjx-container.MathJax').length > 0",
                timeout=20_000,
            )
            untypeset = tab.evaluate(
                "Array.from(document.querySelectorAll('.math')).filter(m => !m.querySelector('mjx-container')"
                " && !m.matches('mjx-container')).length"
            )
            assert untypeset == 0, f"{untypeset} equations on {page} were not typeset"
        html = tab.content()
        machine_paths = [path for path in {str(ROOT), str(Path.home())} if len(path) > 1 and path in html]
        assert machine_paths == [], f"{page} shows a path of the machine that built it: {machine_paths}"
        # An expected error is shown as one line (its type and message), never as a traceback.
        assert "most recent call last" not in tab.inner_text("body"), f"{page} shows a traceback"
        SCREENSHOTS.joinpath(Path(page).parent).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=SCREENSHOTS / f"{page}.png", full_page=True)

        broken_images = tab.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.getAttribute('src'))"
        )
        assert broken_images == [], f"broken images on {page}"

        links = tab.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        broken_links = []
        for link in links:
            target = site.local_path(link)
            if target is None:
                continue
            if not target.is_file():
                broken_links.append(link)
            elif "#" in link and target.suffix == ".html":
                anchor = link.split("#", 1)[1]
                if anchor and anchor not in _anchors(target):
                    broken_links.append(link)
        assert broken_links == [], f"links to missing pages or anchors on {page}"

        expected = _expected_figures(page)
        if expected is not None:
            shown = tab.locator(".cell_output img").count()
            assert shown == expected, f"{page} shows {shown} of its {expected} figures"
            figures = tab.evaluate(
                "Array.from(document.querySelectorAll('.cell_output img')).map(i => ({src: i.getAttribute('src'),"
                " alt: i.getAttribute('alt'), shown: i.clientWidth, natural: i.naturalWidth,"
                " caption: i.closest('figure')?.querySelector('figcaption')?.innerText ?? null}))"
            )
            for figure in figures:
                figure["page_dir"] = Path(page).parent.as_posix()
            problems = figure_problems(figures, site.root, page)
            assert problems == [], "\n".join(problems)
            launch = tab.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
            assert any(link.startswith("https://mybinder.org/v2/gh/") for link in launch), "no Binder button"
            assert any(link.startswith("https://colab.research.google.com/github/") for link in launch), (
                "no Colab button"
            )
        assert visit.problems() == [], f"problems on {page}"
    finally:
        context.close()
