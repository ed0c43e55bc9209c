"""The book's PDF (``make pdf``, run by ``make book``), read back: every chapter, every figure,
the glued numbers, and equations typeset rather than left as TeX source."""

from __future__ import annotations

import json
import re
import sys
import unicodedata

import nbformat
import pytest
import yaml

from browser import ROOT
from chapters import glued_values, shown_figures

from tools.build_pdf import PDF

#: Runs after the book build (`make test`, second phase).
pytestmark = pytest.mark.book

TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
NOTEBOOKS = [ROOT / f"{entry['file']}.ipynb" for part in TOC["parts"] for entry in part["chapters"]
             if (ROOT / f"{entry['file']}.ipynb").is_file()]


@pytest.fixture(scope="module")
def pdf():
    from pypdf import PdfReader

    if not PDF.is_file():
        pytest.fail(f"No PDF at {PDF}: run `make book` (or `make pdf`) first.")
    reader = PdfReader(PDF)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    # NFKC turns the typeset ligatures back into letters ("ﬂ" into "fl").
    return reader, re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text))


def _glued(path) -> dict[str, str]:
    """The text values a notebook glues and shows in its prose."""
    notebook = nbformat.read(path, as_version=4)
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return {key: value for key, value in glued_values(path).items() if f"{{glue:text}}`{key}`" in prose}


def test_the_pdf_holds_every_chapter_in_order(pdf):
    reader, text = pdf
    titles = [nbformat.read(path, as_version=4).cells[0].source.splitlines()[0].lstrip("# ").strip()
              for path in NOTEBOOKS]
    positions = [text.find(title) for title in titles]
    assert -1 not in positions, [title for title, at in zip(titles, positions) if at == -1]
    assert positions == sorted(positions)
    assert len(reader.pages) >= 10 * len(NOTEBOOKS) // 2


def test_the_pdf_shows_every_figure(pdf):
    reader, _ = pdf
    images = sum(len(page.images) for page in reader.pages)
    expected = sum(shown_figures(path) for path in NOTEBOOKS)
    assert expected >= 30 and images >= expected, (images, expected)


@pytest.mark.parametrize("chapter", ["05_evaluation", "06_convolutional_networks"])
def test_the_pdf_shows_the_glued_numbers(pdf, chapter):
    _, text = pdf
    glued = _glued(ROOT / "chapters" / f"{chapter}.ipynb")
    numbers = {key: value for key, value in glued.items() if re.fullmatch(r"[\d.,]+ ?%", value)}
    assert numbers, f"{chapter} glues no percentage"
    missing = {key: value for key, value in numbers.items() if value not in text}
    assert not missing, f"glued numbers of {chapter} not in the PDF: {missing}"


def test_the_pdf_typesets_its_equations(pdf):
    _, text = pdf
    assert "\\frac" not in text and "\\sum" not in text and "$$" not in text


def _outline_titles(outline, depth: int = 0) -> list[tuple[int, str]]:
    titles = []
    for entry in outline:
        if isinstance(entry, list):
            titles += _outline_titles(entry, depth + 1)
        else:
            titles.append((depth, re.sub(r"\s+", " ", entry.title).strip()))
    return titles


def test_the_pdf_has_an_outline_of_chapters_and_sections(pdf):
    reader, _ = pdf
    titles = _outline_titles(reader.outline)
    chapters = [nbformat.read(path, as_version=4).cells[0].source.splitlines()[0].lstrip("# ").strip()
                for path in NOTEBOOKS]
    listed = [title for _, title in titles]
    positions = [next((i for i, title in enumerate(listed) if title.replace(" ", "") == chapter.replace(" ", "")), -1)
                 for chapter in chapters]
    assert -1 not in positions, [chapter for chapter, at in zip(chapters, positions) if at == -1]
    assert positions == sorted(positions), "the outline lists the chapters out of order"
    assert any(title == "Summary" for _, title in titles), "the outline has no sections under the chapters"
    assert len({depth for depth, _ in titles}) >= 3  # the book, its chapters, their sections


def test_the_outline_is_arranged_as_the_book_is(pdf):
    """The book's title, then each part of ``_toc.yml`` holding its chapters in order; no
    bookmark for the contents list ("Contents", the parts' captions on the first page)."""
    from tools.build_pdf import toc_parts

    reader, _ = pdf
    top = [item for item in reader.outline if not isinstance(item, list)]
    held = [item for item in reader.outline if isinstance(item, list)]
    assert [item.title for item in top] == ["Handwritten digits with Keras", *(part["caption"] for part in TOC["parts"])]
    assert len(held) == len(top)
    for part, (caption, first), children in zip(TOC["parts"], toc_parts(), held[1:]):
        chapters = [item for item in children if not isinstance(item, list)]
        assert len(chapters) == len(part["chapters"]), caption
        assert chapters[0].title == first
        part_item = top[1 + TOC["parts"].index(part)]
        assert reader.get_destination_page_number(part_item) == reader.get_destination_page_number(chapters[0])
    assert "Contents" not in [title for _, title in _outline_titles(reader.outline)]


def test_the_pdf_links_to_no_local_address(pdf):
    reader, _ = pdf
    links = [
        annotation.get_object().get("/A", {}).get("/URI")
        for page in reader.pages
        for annotation in page.get("/Annots") or []
    ]
    local = [link for link in links if link and re.match(r"https?://(127\.|localhost|\[::1\])", str(link))]
    assert local == [], f"links to the machine that printed the PDF: {local[:3]}"


def test_the_pad_is_a_still_picture_with_a_pointer_to_the_website(pdf):
    from tools.build_pdf import published_site

    reader, text = pdf
    page = next(page for page in reader.pages if "On paper the pad is a picture" in (page.extract_text() or ""))
    assert len(page.images) >= 2, "the pad's drawing and the network's view should be pictures"
    assert f"{published_site()}chapters/08_draw_a_digit.html" in text.replace(" ", "")
    assert re.search(r"reads it as 3 \(", text), "the pad's picture should show its answer to the drawn 3"
