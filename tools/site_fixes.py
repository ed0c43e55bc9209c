"""A Sphinx extension with fixes for the built site, found by the browser tests.

``sphinx-thebe`` registers its configuration script once per read of the documents, so
a build puts its inline ``const THEBE_JS_URL = ...`` script twice in a page (once
registered with the file name ``None``, once with ``""``, so Sphinx's own check misses it) and the browser
reports "Identifier 'THEBE_JS_URL' has already been declared". This extension drops
repeated scripts from every page (``tests/test_site.py`` checks that no page logs an error).
"""

from __future__ import annotations

from typing import Any


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


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
