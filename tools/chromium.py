"""Find the system's Chromium, which the browser tests and the PDF build drive through Playwright.

Playwright never downloads a browser here: it runs the Chromium the system has (Debian's
``chromium`` package, or Google Chrome on a CI runner), or the one ``$CHROMIUM`` names.
"""

from __future__ import annotations

import os
import shutil

#: Flags for Chromium as root in a sandbox without network (see the README).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Executables tried in order on the ``PATH`` when ``$CHROMIUM`` is not set.
NAMES = ("chromium", "chromium-browser", "google-chrome")

#: What to do when none is found.
MISSING = (
    "Chromium is needed for the browser tests and the PDF: install it (Debian: apt-get install "
    "chromium chromium-driver) or set $CHROMIUM to its executable."
)


def find_chromium() -> str | None:
    """The Chromium executable: ``$CHROMIUM``, else the first of :data:`NAMES` on the ``PATH``."""
    return os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, NAMES)), None)
