"""Every page read on a desktop and on a phone, in light and dark mode, with a screen reader's audit.

On each page of the built book, in headless Chromium:

- at 1280 px, in light and dark mode, no code block and no output is cut off at the content
  column's edge (an element whose ``scrollWidth`` passes its ``clientWidth`` hides the end of
  its lines);
- a desktop page shows one search box, and it finds pages; a phone still offers search and
  the button that opens the sidebar;
- at 390 px (a phone), the page does not scroll sideways;
- every figure of a chapter links to its image file, so it can be opened at full size;
- axe-core, the engine of most accessibility audits, finds no serious or critical
  violation, in light mode and in dark mode.

Screenshots at 390 px and at 1280 px, light and dark, are saved in
``artifacts/screenshots/phone`` and ``artifacts/screenshots/desktop``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import ARTIFACTS, ROOT, open_context
from test_site import PAGES

#: Runs after nbval and the book build (`make test`, second phase).
pytestmark = pytest.mark.book

AXE = ROOT / "webdemo" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: axe-core's two highest impact levels: what keeps a reader from using the page.
BLOCKING = ("serious", "critical")

#: Code blocks and outputs whose lines would be cut off (they scroll inside their box).
CUT_OFF = """() => Array.from(document.querySelectorAll(
    'article pre, article .cell_output .output, article .cell_output table, article .cell_output .text_html'))
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => `${e.tagName.toLowerCase()} ${e.scrollWidth - e.clientWidth} px too wide: `
            + e.innerText.split('\\n').sort((a, b) => b.length - a.length)[0].slice(0, 70))"""


def _open(browser, site, page: str, viewport: dict, scheme: str = "light"):
    context, visit = open_context(browser, site, viewport=viewport, color_scheme=scheme)
    tab = context.new_page()
    tab.goto(site.page_url(page), wait_until="load")
    tab.wait_for_load_state("networkidle")
    return context, visit, tab


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", PAGES)
def test_no_code_or_output_is_cut_off_at_1280_px(page, scheme, site, browser):
    """In both colour schemes: the theme styles some outputs differently in dark mode."""
    context, visit, tab = _open(browser, site, page, DESKTOP, scheme)
    try:
        assert tab.evaluate(CUT_OFF) == [], f"on {page} in {scheme} mode, these would scroll sideways inside their box"
        figures = tab.evaluate(
            "Array.from(document.querySelectorAll('.cell_output img')).map(i => ({"
            " src: i.src, link: i.closest('a[href]')?.href ?? null}))"
        )
        unlinked = [figure["src"] for figure in figures if figure["link"] != figure["src"]]
        assert unlinked == [], f"figures on {page} that cannot be opened at full size"
        assert visit.problems() == []
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", PAGES)
def test_a_phone_reads_the_page_without_sideways_scrolling(page, scheme, site, browser):
    context, visit, tab = _open(browser, site, page, PHONE, scheme)
    try:
        folder = ARTIFACTS / "screenshots" / "phone" / scheme / Path(page).parent
        folder.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=folder / f"{Path(page).name}.png", full_page=True)
        overflow = tab.evaluate(
            "() => { const width = document.documentElement.clientWidth;"
            " return Array.from(document.querySelectorAll('article *'))"
            "  .filter(e => { const box = e.getBoundingClientRect();"
            "    return box.width > 0 && box.right > width + 1 && !e.closest('pre, .cell_output, table, mjx-container'); })"
            "  .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${e.className}: ${e.textContent.slice(0, 50)}`); }"
        )
        scroll = tab.evaluate("document.documentElement.scrollWidth")
        assert scroll <= PHONE["width"], f"{page} is {scroll} px wide at {PHONE['width']} px: {overflow}"
        assert visit.problems() == []
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", PAGES)
def test_axe_finds_no_serious_accessibility_violation(page, scheme, site, browser):
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make node` (npm ci in webdemo/) first")
    context, visit, tab = _open(browser, site, page, DESKTOP, scheme)
    try:
        folder = ARTIFACTS / "screenshots" / "desktop" / scheme / Path(page).parent
        folder.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=folder / f"{Path(page).name}.png", full_page=True)
        tab.add_script_tag(path=str(AXE))
        violations = tab.evaluate("async () => (await axe.run(document)).violations")
        blocking = [
            f"{violation['id']} ({violation['impact']}): {violation['help']}; "
            + ", ".join(str(node["target"]) for node in violation["nodes"][:4])
            for violation in violations
            if violation["impact"] in BLOCKING
        ]
        assert blocking == [], f"{page} in {scheme} mode:\n" + "\n".join(blocking)
    finally:
        context.close()


#: Search fields and buttons a reader can see (the search dialog's own field is hidden until opened).
VISIBLE_SEARCH = """() => Array.from(document.querySelectorAll(
    'input[type=search], button.search-button__button, .search-button-field, form.bd-search'))
  .filter(e => e.checkVisibility({visibilityProperty: true}) && e.getBoundingClientRect().width > 0)
  .map(e => `${e.tagName.toLowerCase()}.${e.className} at (${Math.round(e.getBoundingClientRect().x)}, `
            + `${Math.round(e.getBoundingClientRect().y)})`)"""


def _search_for(tab, word: str) -> None:
    """Type ``word`` into the search dialog the page has just opened, and wait for the results."""
    field = tab.locator("#pst-search-dialog input[type=search]")
    field.wait_for(state="visible")
    field.fill(word)
    field.press("Enter")
    tab.wait_for_url("**/search.html?q=*")
    tab.locator("#search-results li").first.wait_for(state="visible")


@pytest.mark.parametrize("page", [PAGES[0], PAGES[-1]])
def test_a_desktop_page_shows_one_search_box_and_it_finds_pages(page, site, browser):
    """The theme's header bar once added a second "Search Ctrl+K" above the sidebar's own."""
    context, visit, tab = _open(browser, site, page, DESKTOP)
    try:
        boxes = tab.evaluate(VISIBLE_SEARCH)
        assert len(boxes) == 1, f"{page} shows {len(boxes)} search boxes at 1280 px: {boxes}"
        button = tab.locator("button.search-button__button:visible")
        box = button.bounding_box()  # the theme scrolls the sidebar down to the page's own link
        assert box["y"] >= 0 and box["y"] + box["height"] <= DESKTOP["height"], f"the search box is out of view: {box}"
        button.click()
        _search_for(tab, "softmax")
        assert visit.problems() == []
    finally:
        context.close()


def test_a_phone_still_offers_search_and_the_sidebar(site, browser):
    context, visit, tab = _open(browser, site, PAGES[1], PHONE)
    try:
        assert tab.evaluate(VISIBLE_SEARCH), "no search on a phone"
        toggle = tab.locator("button.primary-toggle:visible")
        assert toggle.count() == 1, "no button (or several) opens the sidebar on a phone"
        toggle.click()  # the theme moves the sidebar's contents into a dialog
        tab.locator("#pst-primary-sidebar-modal[open] .bd-docs-nav").wait_for(state="visible")
        tab.keyboard.press("Escape")
        tab.locator("#pst-primary-sidebar-modal[open]").wait_for(state="detached")
        tab.locator("button.search-button__button:visible").first.click()
        _search_for(tab, "softmax")
        assert visit.problems() == []
    finally:
        context.close()
