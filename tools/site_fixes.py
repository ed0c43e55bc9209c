"""A Sphinx extension with fixes for the built site, found by the browser tests.

``sphinx-thebe`` registers its configuration script once per read of the documents, so
a build puts its inline ``const THEBE_JS_URL = ...`` script twice in a page (once
registered with the file name ``None``, once with ``""``, so Sphinx's own check misses it) and the browser
reports "Identifier 'THEBE_JS_URL' has already been declared". This extension drops
repeated scripts from every page (``tests/test_site.py`` checks that no page logs an error).

It also makes every figure of a notebook a link to its image file, so that a reader on a
phone, where the figure is shrunk to the screen, can open it at full size, and corrects two
buttons of the theme whose accessible names differ from their visible text, which axe-core
reports as serious: the search field ("Search" for "Search Ctrl+K") and the colour-mode
switch, whose icons carry titles; and docutils's list of references, whose entries are not
list items (critical). ``tests/test_site_layout.py`` checks all of them.
"""

from __future__ import annotations

import re
from typing import Any

#: A notebook figure as myst-nb writes it: the image first thing inside a cell output's figure.
_FIGURE_IMAGE = re.compile(
    r'(<div class="cell_output docutils container">\s*<figure[^>]*>\s*)(<img [^>]*?src="([^"]+)"[^>]*?/?>)'
)


def _drop_repeated_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set = set()
    unique = []
    for script in scripts:
        # An inline script is registered once with the file name None and once with "".
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _link_figures(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    body = context.get("body")
    if body:
        context["body"] = _FIGURE_IMAGE.sub(
            r'\1<a class="figure-full-size" href="\3" title="Open the figure at full size">\2</a>', body
        )


#: (pattern, replacement) applied to every written page, for the theme's own markup.
_THEME_FIXES = [
    # The search field shows "Search Ctrl+K": its text names it; a label "Search" contradicts it.
    (re.compile(r'(<button class="btn search-button-field[^"]*"[^>]*?) aria-label="Search"'), r"\1"),
    # The colour-mode switch is named by its aria-label; its icons' titles are not its text.
    (re.compile(r'(<i class="theme-switch [^"]*" data-mode="\w+")\s+title="[^"]*"'), r'\1 aria-hidden="true"'),
    # Docutils marks the references as a list whose entries are not list items (ARIA's
    # aria-required-children, critical): the entries keep their own role, the box none.
    (re.compile(r'<div role="list" class="citation-list">'), '<div class="citation-list">'),
]


def _fix_theme_markup(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import shutil
    from pathlib import Path

    # The book's own style sheet (theme/book.css): Sphinx copies static files only when a
    # page is rebuilt, so a change to the style sheet alone would not reach the site.
    for source in (Path(app.srcdir) / "theme").glob("*.css"):
        target = Path(app.outdir) / "_static" / source.name
        if not target.is_file() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = text
        for pattern, replacement in _THEME_FIXES:
            fixed = pattern.sub(replacement, fixed)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app: Any) -> dict[str, Any]:
    app.connect("build-finished", _fix_theme_markup)
    app.connect("html-page-context", _drop_repeated_scripts)
    app.connect("html-page-context", _link_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
